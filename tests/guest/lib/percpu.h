/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Per-vCPU data.  Each vCPU's GS base points at its own struct percpu,
 * whose first field points at itself, so this_cpu() is one load and works
 * in exception handlers without knowing which vCPU is running.
 */
#ifndef GUEST_PERCPU_H
#define GUEST_PERCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "layout.h"

typedef void (*cpu_fn)(void *arg);

struct percpu {
    struct percpu *self;        /* must stay first: read as %gs:0 */
    unsigned int slot;          /* boot order; picks the stack */
    unsigned int index;         /* CPU index: rank by APIC ID */
    unsigned int apic_id;
    volatile bool online;       /* volatile: set by the AP, polled by the BSP */

    /*
     * Exception capture for the *_safe helpers (fault.h).  Written by
     * the exception handler on this vCPU, read by the code it
     * interrupted on this vCPU: no other vCPU touches them.  volatile
     * because the compiler cannot see the handler write them.
     */
    volatile int fault_vector;  /* vector + 1, 0 when none was caught */
    volatile uint64_t fault_error;  /* error code of that exception */
    volatile bool in_fatal;     /* an unexpected exception is being reported */

    /*
     * on_cpu() mailbox.  A caller claims it by moving call_busy from 0 to
     * 1, fills call_arg and then call_fn; the owning vCPU runs the call,
     * clears call_fn, bumps call_done and releases call_busy.  Every
     * field is shared between vCPUs, hence volatile.
     */
    volatile int call_busy;         /* 1 while a caller owns the mailbox */
    cpu_fn volatile call_fn;        /* the posted call, NULL when none */
    void *volatile call_arg;        /* its argument */
    volatile uint64_t call_posted;  /* calls posted so far */
    volatile uint64_t call_done;    /* calls finished so far */

    /* console lock nesting on this vCPU (see serial.c) */
    int console_depth;
};

static inline struct percpu *this_cpu(void)
{
    struct percpu *p;

    asm volatile("movq %%gs:0, %0" : "=r"(p));
    return p;
}

/* Point GS at p (called once per vCPU, before anything uses this_cpu()). */
void percpu_install(struct percpu *p, unsigned int slot);

extern struct percpu percpu_slots[MAX_CPUS];

#endif /* GUEST_PERCPU_H */
