/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Hyper-V enlightenments of an x86 vCPU, independent of the accelerator.
 */

#ifndef TARGET_I386_HYPERV_CPU_H
#define TARGET_I386_HYPERV_CPU_H

#include "cpu.h"

/* Bits of one register of one Hyper-V CPUID leaf. */
typedef struct X86HvCpuidBits {
    uint32_t leaf;          /* 0: unused */
    int reg;                /* R_EAX, R_EBX, R_ECX or R_EDX */
    uint32_t bits;
} X86HvCpuidBits;

/*
 * One Hyper-V enlightenment (HYPERV_FEAT_*): its -cpu property, the CPUID
 * bits that announce it to the guest, the features it relies on, and
 * whether hv-passthrough leaves it out (it must be asked for by name).
 * The same table serves KVM's in-kernel Hyper-V (what the host must
 * support, what the guest is told), QEMU's own (what the guest is told)
 * and the dependency check.
 */
typedef struct X86HvFeature {
    const char *prop;
    X86HvCpuidBits cpuid[2];
    uint64_t needs;
    bool not_passed_through;
} X86HvFeature;

#define X86_HYPERV_FEAT_COUNT   (HYPERV_FEAT_TLBFLUSH_DIRECT + 1)

const X86HvFeature *x86_hyperv_feature(int feat);

/* The CPUID bits of @leaf's @reg for the features enabled on @cpu. */
uint32_t x86_hyperv_cpuid_bits(X86CPU *cpu, uint32_t leaf, int reg);
/* The same for a set of HYPERV_FEAT_* bits. */
uint32_t x86_hyperv_cpuid_bits_of(uint64_t features, uint32_t leaf, int reg);

/*
 * Check that every hv-* feature the user enabled on @cpu comes with the
 * features it depends on (hv-synic needs hv-vpindex, hv-stimer needs
 * hv-synic and hv-time, ...).  Runs at realize on every accelerator, so a
 * bad command line is refused the same way on KVM, on TCG and under qtest.
 */
bool x86_hyperv_check_deps(X86CPU *cpu, Error **errp);

/* The same check, also with hv-passthrough (once the set is known). */
bool x86_hyperv_deps_ok(X86CPU *cpu, Error **errp);

/* The -cpu property of HYPERV_FEAT_* @feat, e.g. "hv-synic". */
const char *x86_hyperv_feat_name(int feat);

#endif
