/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The function names this interface keeps from upstream QEMU's header of
 * the same name: Copyright (C) 2015 Andrey Smetanin <asmetanin@virtuozzo.com>.
 *
 * Hyper-V SynIC on KVM: the glue between KVM's in-kernel Hyper-V emulation
 * and QEMU's SynIC core (hw/hyperv/synic.c).
 */

#ifndef TARGET_I386_KVM_HYPERV_H
#define TARGET_I386_KVM_HYPERV_H

#include "cpu.h"
#include "system/kvm.h"
#include "hw/hyperv/hyperv.h"

#ifdef CONFIG_KVM
/* KVM_EXIT_HYPERV: SynIC MSR writes, hypercalls, debugger MSRs. */
int kvm_hv_handle_exit(X86CPU *cpu, struct kvm_hyperv_exit *exit);

/*
 * The user path on KVM (QEMU emulates Hyper-V, target/i386/hyperv-emu.c;
 * its KVM backend is kvm/hyperv-emu.c):
 * the accelerator's "hyperv" property, the choice made at VM creation
 * (0 or -errno; *user tells the path), the MSR filter's handlers for the
 * Hyper-V MSR range, and the CPUID leaves (returns how many it wrote).
 */
void kvm_hv_accel_class_init(ObjectClass *oc);
int kvm_hv_choose_path(KVMState *s, bool *user);
bool kvm_hv_emu_rdmsr(X86CPU *cpu, uint32_t msr, uint64_t *val);
bool kvm_hv_emu_wrmsr(X86CPU *cpu, uint32_t msr, uint64_t val);
int kvm_hv_emu_fill_cpuid(X86CPU *cpu, struct kvm_cpuid_entry2 *entries);
#endif

/* At vCPU creation, once KVM_CAP_HYPERV_SYNIC2 is on: 0 or -errno. */
int hyperv_x86_synic_add(X86CPU *cpu);
/* After the devices' reset, which released their routes. */
void hyperv_x86_synic_reset(X86CPU *cpu);
/* Apply env's SynIC MSRs, e.g. after loading them in migration. */
void hyperv_x86_synic_update(X86CPU *cpu);
/* kvm.c found hv-stimer, hv-vapic and hv-runtime all on. */
void hyperv_x86_set_vmbus_recommended_features_enabled(void);

#endif
