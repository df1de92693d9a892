/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Several vCPUs.  smp_init() wakes the application processors with
 * INIT-SIPI-SIPI (broadcast to all but self) and waits, bounded, for the
 * expected number to come online.  After that every vCPU has a CPU
 * index: its rank by APIC ID, which is how QEMU numbers vCPUs (and hence
 * Hyper-V VP indexes) for ordinary -smp topologies.
 *
 * Idle APs sleep in HLT with interrupts enabled; on_cpu() hands one of
 * them a function and wakes it with WAKEUP_VECTOR.  Every wait is
 * bounded: on_cpu() returns false when the call did not finish in time.
 */
#ifndef GUEST_SMP_H
#define GUEST_SMP_H

#include <stdbool.h>
#include <stdint.h>

#include "percpu.h"

#define ON_CPU_TIMEOUT_US   300000000ull    /* 300 s: the lab can freeze a while */
#define SMP_BOOT_TIMEOUT_US 20000000ull

/* BSP per-vCPU set-up; first thing in boot_main(). */
void smp_init_bsp(void);

/* Start the APs; returns how many vCPUs (BSP included) are online. */
unsigned int smp_init(unsigned int expected);

unsigned int cpu_count(void);
unsigned int smp_id(void);                  /* this vCPU's index */
struct percpu *cpu_data(unsigned int cpu);  /* NULL if not online */

/* Run fn(arg) on cpu and wait for it to return (bounded). */
bool on_cpu(unsigned int cpu, cpu_fn fn, void *arg);

/* Start fn(arg) on cpu without waiting for it to return. */
bool on_cpu_async(unsigned int cpu, cpu_fn fn, void *arg);

/* Wait (bounded) until cpu has finished every call posted to it. */
bool on_cpu_wait(unsigned int cpu, uint64_t usec);

#endif /* GUEST_SMP_H */
