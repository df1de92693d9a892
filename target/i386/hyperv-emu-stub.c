/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The user path when QEMU is built without the SynIC core (CONFIG_HYPERV
 * off, e.g. --without-default-devices): QEMU does not emulate Hyper-V,
 * and a vCPU that asks for it under TCG or qtest is refused rather than
 * started with its hv-* options silently ignored.  On KVM the kernel
 * path stays as upstream has it.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "system/qtest.h"
#include "system/tcg.h"
#include "hyperv-emu.h"

bool x86_hyperv_emu_enabled(X86CPU *cpu)
{
    return false;
}

bool x86_hyperv_emu_kvm(void)
{
    return false;
}

bool x86_hyperv_emu_expand_features(X86CPU *cpu)
{
    return false;
}

bool x86_hyperv_emu_realize(X86CPU *cpu, Error **errp)
{
    bool asked = cpu->hyperv_features || cpu->hyperv_passthrough ||
                 cpu->hyperv_spinlock_attempts != HYPERV_SPINLOCK_NEVER_NOTIFY;

    if (asked && (tcg_enabled() || qtest_enabled())) {
        error_setg(errp, "Hyper-V (hv-* options) needs QEMU's own Hyper-V "
                   "emulation, which this QEMU was built without");
        error_append_hint(errp, "CONFIG_HYPERV=y in the build's device "
                          "configuration brings it in.\n");
        return false;
    }
    return true;
}

void x86_hyperv_emu_unrealize(X86CPU *cpu)
{
}

void x86_hyperv_emu_reset(X86CPU *cpu)
{
}

void x86_hyperv_emu_pre_save(X86CPU *cpu)
{
}

int x86_hyperv_emu_post_load(X86CPU *cpu)
{
    return 0;
}

/* KVM's own SynIC does AutoEOI: a vector from a user-path source waits. */
bool x86_hyperv_emu_apic_post_load(X86CPU *cpu, uint32_t *irr)
{
    uint32_t *held = cpu->env.hv_emu_aeoi_held;
    bool changed = false;
    int i;

    for (i = 0; i < ARRAY_SIZE(cpu->env.hv_emu_aeoi_held); i++) {
        /* Vectors 0-15 cannot be raised; a stream that has them lies. */
        uint32_t add = held[i] & (i ? ~0u : 0xffff0000u);

        changed |= (irr[i] | add) != irr[i];
        irr[i] |= add;
        held[i] = 0;
    }
    return changed;
}

bool x86_hyperv_emu_cpuid(X86CPU *cpu, uint32_t index, uint32_t *eax,
                          uint32_t *ebx, uint32_t *ecx, uint32_t *edx)
{
    return false;
}

HvMsrResult x86_hyperv_emu_rdmsr(X86CPU *cpu, uint32_t msr, uint64_t *val)
{
    return HV_MSR_UNHANDLED;
}

HvMsrResult x86_hyperv_emu_wrmsr(X86CPU *cpu, uint32_t msr, uint64_t val)
{
    return HV_MSR_UNHANDLED;
}

bool x86_hyperv_emu_hcall_ud(X86CPU *cpu)
{
    return false;
}
