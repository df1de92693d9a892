/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Hyper-V on x86 without the SynIC core (CONFIG_HYPERV off): KVM may still
 * emulate the Hyper-V MSRs in the kernel, but there is no SynIC page, no
 * connection and no user path.  hv-synic is refused when the vCPU is
 * created (hyperv_x86_synic_add() fails).
 */

#include "qemu/osdep.h"
#include "hyperv.h"

#ifdef CONFIG_KVM
int kvm_hv_handle_exit(X86CPU *cpu, struct kvm_hyperv_exit *exit)
{
    switch (exit->type) {
    case KVM_EXIT_HYPERV_HCALL:
        /* HvPostMessage and HvSignalEvent: there is no connection. */
        exit->u.hcall.result = HV_STATUS_INVALID_HYPERCALL_CODE;
        return 0;
    case KVM_EXIT_HYPERV_SYNDBG:
        if (!hyperv_feat_enabled(cpu, HYPERV_FEAT_SYNDBG)) {
            return -1;
        }
        /* No debugger: nothing is sent or received (no SUCCESS bit). */
        exit->u.syndbg.status = 0;
        return 0;
    default:
        /* KVM_EXIT_HYPERV_SYNIC cannot come: no vCPU has a SynIC. */
        return -1;
    }
}

/* There is no "hyperv" accelerator property: KVM's own is the only path. */
void kvm_hv_accel_class_init(ObjectClass *oc)
{
}

int kvm_hv_choose_path(KVMState *s, bool *user)
{
    *user = false;
    return 0;
}

bool kvm_hv_emu_rdmsr(X86CPU *cpu, uint32_t msr, uint64_t *val)
{
    return false;
}

bool kvm_hv_emu_wrmsr(X86CPU *cpu, uint32_t msr, uint64_t val)
{
    return false;
}

int kvm_hv_emu_fill_cpuid(X86CPU *cpu, struct kvm_cpuid_entry2 *entries)
{
    return 0;
}
#endif

/* No SynIC core in this build: nothing to create, map or reset. */
int hyperv_x86_synic_add(X86CPU *cpu)
{
    return -ENOSYS;
}

void hyperv_x86_synic_update(X86CPU *cpu)
{
}

uint64_t hyperv_syndbg_query_options(void)
{
    /* no debugger device can exist either */
    return 0;
}

void hyperv_x86_synic_reset(X86CPU *cpu)
{
}

void hyperv_x86_set_vmbus_recommended_features_enabled(void)
{
}
