/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Hyper-V enlightenments of an x86 vCPU, independent of the accelerator.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hyperv-cpu.h"
#include "kvm/hyperv-proto.h"

#define FEAT(f) (1ULL << HYPERV_FEAT_##f)

/* How CPUID leaves 0x40000003, 0x40000004 and 0x4000000A announce them. */
#define FEATURES(r, b)  { HV_CPUID_FEATURES, R_##r, (b) }
#define HINTS(b)        { HV_CPUID_ENLIGHTMENT_INFO, R_EAX, (b) }
#define NESTED(b)       { HV_CPUID_NESTED_FEATURES, R_EAX, (b) }

/*
 * The one table of Hyper-V enlightenments: the -cpu property, the CPUID
 * bits that tell the guest about it (and that KVM's supported leaves must
 * show for the kernel path to offer it), and what it relies on.  A guest
 * reads the feature bits independently, so offering a feature without its
 * prerequisite would hand it MSRs or hypercalls it cannot use: the
 * synthetic timers deliver through SynIC messages and count reference
 * time; SynIC, IPI and TLB-flush hypercalls name vCPUs by VP index.
 */
static const X86HvFeature hv_features[] = {
    [HYPERV_FEAT_RELAXED] = {
        "hv-relaxed", { HINTS(HV_RELAXED_TIMING_RECOMMENDED) } },
    [HYPERV_FEAT_VAPIC] = {
        "hv-vapic", { FEATURES(EAX, HV_APIC_ACCESS_AVAILABLE) } },
    [HYPERV_FEAT_TIME] = {
        "hv-time", { FEATURES(EAX, HV_TIME_REF_COUNT_AVAILABLE |
                                   HV_REFERENCE_TSC_AVAILABLE) } },
    [HYPERV_FEAT_CRASH] = {
        "hv-crash", { FEATURES(EDX, HV_GUEST_CRASH_MSR_AVAILABLE) } },
    [HYPERV_FEAT_RESET] = {
        "hv-reset", { FEATURES(EAX, HV_RESET_AVAILABLE) } },
    [HYPERV_FEAT_VPINDEX] = {
        "hv-vpindex", { FEATURES(EAX, HV_VP_INDEX_AVAILABLE) } },
    [HYPERV_FEAT_RUNTIME] = {
        "hv-runtime", { FEATURES(EAX, HV_VP_RUNTIME_AVAILABLE) } },
    [HYPERV_FEAT_SYNIC] = {
        "hv-synic", { FEATURES(EAX, HV_SYNIC_AVAILABLE) },
        .needs = FEAT(VPINDEX) },
    [HYPERV_FEAT_STIMER] = {
        "hv-stimer", { FEATURES(EAX, HV_SYNTIMERS_AVAILABLE) },
        .needs = FEAT(SYNIC) | FEAT(TIME) },
    [HYPERV_FEAT_FREQUENCIES] = {
        "hv-frequencies", { FEATURES(EAX, HV_ACCESS_FREQUENCY_MSRS),
                            FEATURES(EDX, HV_FREQUENCY_MSRS_AVAILABLE) } },
    [HYPERV_FEAT_REENLIGHTENMENT] = {
        "hv-reenlightenment",
        { FEATURES(EAX, HV_ACCESS_REENLIGHTENMENTS_CONTROL) } },
    [HYPERV_FEAT_TLBFLUSH] = {
        "hv-tlbflush", { HINTS(HV_REMOTE_TLB_FLUSH_RECOMMENDED |
                               HV_EX_PROCESSOR_MASKS_RECOMMENDED) },
        .needs = FEAT(VPINDEX) },
    [HYPERV_FEAT_EVMCS] = {
        "hv-evmcs", { HINTS(HV_ENLIGHTENED_VMCS_RECOMMENDED) },
        .needs = FEAT(VAPIC) },
    [HYPERV_FEAT_IPI] = {
        "hv-ipi", { HINTS(HV_CLUSTER_IPI_RECOMMENDED |
                          HV_EX_PROCESSOR_MASKS_RECOMMENDED) },
        .needs = FEAT(VPINDEX) },
    [HYPERV_FEAT_STIMER_DIRECT] = {
        "hv-stimer-direct",
        { FEATURES(EDX, HV_STIMER_DIRECT_MODE_AVAILABLE) },
        .needs = FEAT(STIMER) },
    [HYPERV_FEAT_AVIC] = {
        "hv-avic", { HINTS(HV_DEPRECATING_AEOI_RECOMMENDED) } },
    [HYPERV_FEAT_SYNDBG] = {
        "hv-syndbg", { FEATURES(EDX, HV_FEATURE_DEBUG_MSRS_AVAILABLE) },
        .needs = FEAT(SYNIC) | FEAT(RELAXED), .not_passed_through = true },
    [HYPERV_FEAT_MSR_BITMAP] = {
        "hv-emsr-bitmap", { NESTED(HV_NESTED_MSR_BITMAP) } },
    [HYPERV_FEAT_XMM_INPUT] = {
        "hv-xmm-input", { FEATURES(EDX, HV_HYPERCALL_XMM_INPUT_AVAILABLE) } },
    [HYPERV_FEAT_TLBFLUSH_EXT] = {
        "hv-tlbflush-ext",
        { FEATURES(EDX, HV_EXT_GVA_RANGES_FLUSH_AVAILABLE) },
        .needs = FEAT(TLBFLUSH) },
    [HYPERV_FEAT_TLBFLUSH_DIRECT] = {
        "hv-tlbflush-direct", { NESTED(HV_NESTED_DIRECT_FLUSH) },
        .needs = FEAT(VAPIC) },
};

QEMU_BUILD_BUG_ON(ARRAY_SIZE(hv_features) != X86_HYPERV_FEAT_COUNT);

const X86HvFeature *x86_hyperv_feature(int feat)
{
    assert(feat >= 0 && feat < ARRAY_SIZE(hv_features));
    return &hv_features[feat];
}

uint32_t x86_hyperv_cpuid_bits(X86CPU *cpu, uint32_t leaf, int reg)
{
    return x86_hyperv_cpuid_bits_of(cpu->hyperv_features, leaf, reg);
}

uint32_t x86_hyperv_cpuid_bits_of(uint64_t features, uint32_t leaf, int reg)
{
    uint32_t bits = 0;
    int feat, i;

    for (feat = 0; feat < ARRAY_SIZE(hv_features); feat++) {
        if (!(features & BIT_ULL(feat))) {
            continue;
        }
        for (i = 0; i < ARRAY_SIZE(hv_features[feat].cpuid); i++) {
            const X86HvCpuidBits *c = &hv_features[feat].cpuid[i];

            if (c->leaf == leaf && c->reg == reg) {
                bits |= c->bits;
            }
        }
    }
    return bits;
}

const char *x86_hyperv_feat_name(int feat)
{
    if (feat < 0 || feat >= ARRAY_SIZE(hv_features)) {
        return "hv-?";
    }
    return hv_features[feat].prop;
}

static uint64_t hv_missing(X86CPU *cpu, int feat)
{
    uint64_t needs = hv_features[feat].needs;

    /*
     * Machine types before 3.1 let the in-kernel SynIC run without VP
     * indices (x-hv-synic-kvm-only); keep accepting them.
     */
    if (feat == HYPERV_FEAT_SYNIC && cpu->hyperv_synic_kvm_only) {
        needs &= ~FEAT(VPINDEX);
    }
    return needs & ~cpu->hyperv_features;
}

bool x86_hyperv_deps_ok(X86CPU *cpu, Error **errp)
{
    int feat;

    for (feat = 0; feat < ARRAY_SIZE(hv_features); feat++) {
        uint64_t missing;

        if (!(cpu->hyperv_features & BIT_ULL(feat))) {
            continue;
        }
        missing = hv_missing(cpu, feat);
        if (missing) {
            error_setg(errp, "Hyper-V feature %s requires %s",
                       hv_features[feat].prop,
                       x86_hyperv_feat_name(ctz64(missing)));
            error_append_hint(errp, "Add %s=on to -cpu.\n",
                              x86_hyperv_feat_name(ctz64(missing)));
            return false;
        }
    }
    return true;
}

bool x86_hyperv_check_deps(X86CPU *cpu, Error **errp)
{
    /*
     * hv-passthrough takes the feature set from the host, after this; the
     * accelerator checks it with x86_hyperv_deps_ok() once it has it.
     */
    return cpu->hyperv_passthrough || x86_hyperv_deps_ok(cpu, errp);
}
