/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Hyper-V enlightenments of an x86 vCPU, independent of the accelerator.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hyperv-cpu.h"

typedef struct HvFeatureDeps {
    const char *prop;       /* the -cpu property that enables the feature */
    uint64_t needs;         /* HYPERV_FEAT_* bits it cannot work without */
} HvFeatureDeps;

#define FEAT(f) (1ULL << HYPERV_FEAT_##f)

/*
 * What each enlightenment relies on.  A guest reads the feature bits of
 * CPUID 0x40000003/4 independently, so offering a feature without its
 * prerequisite would hand the guest MSRs or hypercalls it cannot use: the
 * synthetic timers deliver through SynIC messages and count reference time,
 * SynIC, IPI and TLB-flush hypercalls name vCPUs by VP index, and so on.
 */
static const HvFeatureDeps hv_deps[] = {
    [HYPERV_FEAT_SYNIC]           = { "hv-synic", FEAT(VPINDEX) },
    [HYPERV_FEAT_STIMER]          = { "hv-stimer", FEAT(SYNIC) | FEAT(TIME) },
    [HYPERV_FEAT_STIMER_DIRECT]   = { "hv-stimer-direct", FEAT(STIMER) },
    [HYPERV_FEAT_TLBFLUSH]        = { "hv-tlbflush", FEAT(VPINDEX) },
    [HYPERV_FEAT_TLBFLUSH_EXT]    = { "hv-tlbflush-ext", FEAT(TLBFLUSH) },
    [HYPERV_FEAT_TLBFLUSH_DIRECT] = { "hv-tlbflush-direct", FEAT(VAPIC) },
    [HYPERV_FEAT_IPI]             = { "hv-ipi", FEAT(VPINDEX) },
    [HYPERV_FEAT_EVMCS]           = { "hv-evmcs", FEAT(VAPIC) },
    [HYPERV_FEAT_SYNDBG]          = { "hv-syndbg",
                                      FEAT(SYNIC) | FEAT(RELAXED) },
};

/* The -cpu property of each feature. */
static const char *const hv_prop_names[] = {
    [HYPERV_FEAT_RELAXED]         = "hv-relaxed",
    [HYPERV_FEAT_VAPIC]           = "hv-vapic",
    [HYPERV_FEAT_TIME]            = "hv-time",
    [HYPERV_FEAT_CRASH]           = "hv-crash",
    [HYPERV_FEAT_RESET]           = "hv-reset",
    [HYPERV_FEAT_VPINDEX]         = "hv-vpindex",
    [HYPERV_FEAT_RUNTIME]         = "hv-runtime",
    [HYPERV_FEAT_SYNIC]           = "hv-synic",
    [HYPERV_FEAT_STIMER]          = "hv-stimer",
    [HYPERV_FEAT_FREQUENCIES]     = "hv-frequencies",
    [HYPERV_FEAT_REENLIGHTENMENT] = "hv-reenlightenment",
    [HYPERV_FEAT_TLBFLUSH]        = "hv-tlbflush",
    [HYPERV_FEAT_EVMCS]           = "hv-evmcs",
    [HYPERV_FEAT_IPI]             = "hv-ipi",
    [HYPERV_FEAT_STIMER_DIRECT]   = "hv-stimer-direct",
    [HYPERV_FEAT_AVIC]            = "hv-avic",
    [HYPERV_FEAT_SYNDBG]          = "hv-syndbg",
    [HYPERV_FEAT_MSR_BITMAP]      = "hv-emsr-bitmap",
    [HYPERV_FEAT_XMM_INPUT]       = "hv-xmm-input",
    [HYPERV_FEAT_TLBFLUSH_EXT]    = "hv-tlbflush-ext",
    [HYPERV_FEAT_TLBFLUSH_DIRECT] = "hv-tlbflush-direct",
};

const char *x86_hyperv_feat_name(int feat)
{
    if (feat < 0 || feat >= ARRAY_SIZE(hv_prop_names) || !hv_prop_names[feat]) {
        return "hv-?";
    }
    return hv_prop_names[feat];
}

static uint64_t hv_missing(X86CPU *cpu, int feat)
{
    uint64_t needs = hv_deps[feat].needs;

    /*
     * Machine types before 3.1 let the in-kernel SynIC run without VP
     * indices (x-hv-synic-kvm-only); keep accepting them.
     */
    if (feat == HYPERV_FEAT_SYNIC && cpu->hyperv_synic_kvm_only) {
        needs &= ~FEAT(VPINDEX);
    }
    return needs & ~cpu->hyperv_features;
}

bool x86_hyperv_check_deps(X86CPU *cpu, Error **errp)
{
    int feat;

    /* hv-passthrough takes the feature set from the host, which is whole. */
    if (cpu->hyperv_passthrough) {
        return true;
    }
    for (feat = 0; feat < ARRAY_SIZE(hv_deps); feat++) {
        uint64_t missing;

        if (!hv_deps[feat].prop || !(cpu->hyperv_features & BIT_ULL(feat))) {
            continue;
        }
        missing = hv_missing(cpu, feat);
        if (missing) {
            error_setg(errp, "Hyper-V feature %s requires %s",
                       hv_deps[feat].prop,
                       x86_hyperv_feat_name(ctz64(missing)));
            error_append_hint(errp, "Add %s=on to -cpu.\n",
                              x86_hyperv_feat_name(ctz64(missing)));
            return false;
        }
    }
    return true;
}
