/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The user path's enlightenments that act on local APICs and TLBs: the
 * APIC access MSRs and the VP assist page (hv-vapic), the synthetic
 * cluster IPI hypercalls (hv-ipi) and the TLB flush hypercalls
 * (hv-tlbflush), with XMM input for their fast forms (hv-xmm-input).
 * Which of them a path can do exactly is decided here too: a feature
 * the path cannot do is accepted on the command line, so that the
 * Hyper-V set libvirt writes starts everywhere, but the guest is not
 * told about it.
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/accel.h"
#include "qemu/host-utils.h"
#include "qemu/main-loop.h"
#include "exec/cputlb.h"
#include "hw/core/cpu.h"
#include "hw/i386/apic.h"
#include "hw/hyperv/hyperv.h"
#include "system/kvm.h"
#include "system/tcg.h"
#include "hw/hyperv/hv-log.h"
#include "hyperv-cpu.h"
#include "hyperv-emu-int.h"
#include "kvm/hyperv-proto.h"
#include "trace.h"

#define FEAT(f) BIT_ULL(HYPERV_FEAT_##f)

/*
 * What the user path does on every accelerator.  hv-avic only recommends
 * against AutoEOI, which is true of QEMU's APIC and KVM's alike; an IPI
 * is an MSI to the target's APIC, which every accelerator delivers.
 */
#define HV_EMU_FEATURES (FEAT(RELAXED) | FEAT(TIME) | FEAT(CRASH) | \
                         FEAT(RESET) | FEAT(VPINDEX) | FEAT(RUNTIME) | \
                         FEAT(SYNIC) | FEAT(STIMER) | FEAT(STIMER_DIRECT) | \
                         FEAT(FREQUENCIES) | FEAT(IPI) | FEAT(AVIC))

/*
 * ... and what needs the APIC and the TLB in QEMU's hands, which TCG
 * gives.  KVM keeps both in the kernel: it offers user space no EOI of
 * its local APIC in xAPIC mode (a guest picks its APIC mode after it
 * read CPUID, so the MSRs cannot be offered for one mode only), and no
 * way to flush a vCPU's TLB (docs/decisions.md, "libvirt's Hyper-V set
 * on the user path").
 */
#define HV_EMU_FEATURES_TCG (FEAT(VAPIC) | FEAT(TLBFLUSH))

/*
 * XMM input needs the caller's XMM registers: TCG has them in env, KVM
 * gives them with KVM_GET_FPU (kvm/hyperv-emu.c).  qtest runs no guest.
 */
#define HV_EMU_FEATURES_REGS FEAT(XMM_INPUT)

uint64_t hv_emu_features_implemented(void)
{
    return HV_EMU_FEATURES | (tcg_enabled() ? HV_EMU_FEATURES_TCG : 0) |
           (tcg_enabled() || kvm_enabled() ? HV_EMU_FEATURES_REGS : 0);
}

/*
 * The features offered to @cpu's guest: those asked for that this path
 * implements.  The others stay set on the CPU object (libvirt reads the
 * properties back to see its domain's features applied) and are named
 * in one warning per process.
 */
uint64_t hv_emu_features_offered(X86CPU *cpu)
{
    uint64_t missing = cpu->hyperv_features & ~hv_emu_features_implemented();
    static bool warned;

    if (missing && !warned) {
        g_autoptr(GString) names = g_string_new(NULL);
        int feat;

        for (feat = 0; feat < 64; feat++) {
            if (missing & BIT_ULL(feat)) {
                g_string_append_printf(names, "%s%s", names->len ? ", " : "",
                                       x86_hyperv_feat_name(feat));
            }
        }
        warned = true;
        warn_report("Hyper-V %s %s %s not offered to the guest: QEMU's own "
                    "Hyper-V emulation (%s) does not implement %s",
                    ctpop64(missing) > 1 ? "features" : "feature", names->str,
                    ctpop64(missing) > 1 ? "are" : "is",
                    kvm_enabled() ? "KVM without in-kernel Hyper-V" :
                    tcg_enabled() ? "TCG" : current_accel_name(),
                    ctpop64(missing) > 1 ? "them" : "it");
        trace_hv_emu_not_offered(missing);
    }
    return cpu->hyperv_features & ~missing;
}

/* --- hv-vapic: APIC access MSRs and the VP assist page ------------------- */

#define HV_VP_ASSIST_PAGE_ENABLE    1ull

/* The local APIC register each APIC access MSR stands for. */
static int hv_emu_apic_reg(uint32_t msr)
{
    switch (msr) {
    case HV_X64_MSR_EOI:
        return 0x0b;
    case HV_X64_MSR_ICR:
        return 0x30;
    case HV_X64_MSR_TPR:
        return 0x08;
    default:
        return -1;
    }
}

/*
 * The VP assist page MSR exists wherever KVM's own Hyper-V accepts it:
 * with hv-vapic, and also without it unless hv-enforce-cpuid asks for
 * KVM's strict checks.  Linux writes it whatever the CPUID says.
 */
static bool hv_emu_assist_allowed(X86CPU *cpu)
{
    return hv_emu_offered(cpu, HYPERV_FEAT_VAPIC) ||
           !cpu->hyperv_enforce_cpuid;
}

/*
 * Enabling the page clears its first 32 bits (the APIC assist word,
 * where a hypervisor would tell the guest it may skip an EOI; this one
 * never does), and leaves the rest to the guest.  A page that is not RAM
 * refuses the write, as on KVM.
 */
static HvMsrResult hv_emu_set_assist_page(X86CPU *cpu, uint64_t val)
{
    uint32_t zero = 0;
    bool gp = (val & HV_VP_ASSIST_PAGE_ENABLE) &&
              !hyperv_guest_ram_rw(val & TARGET_PAGE_MASK, &zero,
                                   sizeof(zero), true);

    trace_hv_emu_assist_page(hyperv_vp_index(CPU(cpu)), val, gp);
    if (gp) {
        return HV_MSR_GP;
    }
    cpu->env.msr_hv_vapic = val;
    return HV_MSR_OK;
}

/*
 * Whether @msr is one of hv-vapic's and the guest may use it; @reg gets
 * the APIC register it stands for, or -1 for the VP assist page.
 */
static HvMsrResult hv_emu_vapic_msr(X86CPU *cpu, uint32_t msr, int *reg)
{
    *reg = hv_emu_apic_reg(msr);
    if (msr == HV_X64_MSR_APIC_ASSIST_PAGE) {
        return hv_emu_assist_allowed(cpu) ? HV_MSR_OK : HV_MSR_GP;
    }
    if (*reg < 0) {
        return HV_MSR_UNHANDLED;
    }
    return hv_emu_offered(cpu, HYPERV_FEAT_VAPIC) ? HV_MSR_OK : HV_MSR_GP;
}

HvMsrResult hv_emu_apic_rdmsr(X86CPU *cpu, uint32_t msr, uint64_t *val)
{
    int reg;
    HvMsrResult r = hv_emu_vapic_msr(cpu, msr, &reg);

    if (r != HV_MSR_OK) {
        return r;
    }
    if (reg < 0) {
        *val = cpu->env.msr_hv_vapic;
        return HV_MSR_OK;
    }
    BQL_LOCK_GUARD();
    /* EOI is write-only. */
    return apic_hv_msr_read(reg, val) ? HV_MSR_GP : HV_MSR_OK;
}

HvMsrResult hv_emu_apic_wrmsr(X86CPU *cpu, uint32_t msr, uint64_t val)
{
    int reg;
    HvMsrResult r = hv_emu_vapic_msr(cpu, msr, &reg);

    if (r != HV_MSR_OK) {
        return r;
    }
    if (reg < 0) {
        return hv_emu_set_assist_page(cpu, val);
    }
    BQL_LOCK_GUARD();
    return apic_hv_msr_write(reg, val) ? HV_MSR_GP : HV_MSR_OK;
}

/* --- hypercall input ------------------------------------------------------ */

bool hv_emu_input_fits(const HvEmuInput *in, size_t offset, size_t len)
{
    size_t have = in->fast_words * sizeof(uint64_t);

    return !(in->control & HV_HYPERCALL_FAST) ||
           (offset <= have && len <= have - offset);
}

uint16_t hv_emu_input_read(const HvEmuInput *in, size_t offset, void *buf,
                           size_t len)
{
    uint64_t le[HV_EMU_FAST_REGS_MAX];
    unsigned i;

    if (!(in->control & HV_HYPERCALL_FAST)) {
        return hyperv_hcall_read_input(in->gpa + offset, buf, len);
    }
    if (!hv_emu_input_fits(in, offset, len)) {
        return HV_STATUS_INVALID_HYPERCALL_INPUT;
    }
    for (i = 0; i < in->fast_words; i++) {
        le[i] = cpu_to_le64(in->fast[i]);
    }
    memcpy(buf, (uint8_t *)le + offset, len);
    return HV_STATUS_SUCCESS;
}

/* --- sets of virtual processors ------------------------------------------ */

/* VPs 0..63 in a mask, or the "Ex" calls' HV_VP_SET. */
typedef struct HvEmuVpSet {
    bool all;
    uint64_t valid_banks;
    uint64_t bank[HV_VP_SET_BANK_COUNT];
} HvEmuVpSet;

static void hv_emu_vp_set_mask(HvEmuVpSet *set, uint64_t mask)
{
    set->all = false;
    set->valid_banks = 1;
    set->bank[0] = mask;
}

static unsigned hv_emu_varhead(uint64_t control)
{
    return (control & HV_HYPERCALL_VARHEAD_MASK) >> HV_HYPERCALL_VARHEAD_SHIFT;
}

/*
 * An HV_VP_SET whose format and bank mask the fixed header held; the
 * banks follow at @offset, one for each bank present, and the variable
 * header must be exactly that long (as KVM checks it).
 */
static uint16_t hv_emu_vp_set_read(X86CPU *cpu, const HvEmuInput *in,
                                   size_t offset, uint64_t format,
                                   uint64_t valid_banks, HvEmuVpSet *set)
{
    unsigned varhead = hv_emu_varhead(in->control);

    if (varhead != ctpop64(valid_banks) ||
        (format != HV_GENERIC_SET_SPARSE_4K && format != HV_GENERIC_SET_ALL)) {
        trace_hv_emu_vp_set_bad(hyperv_vp_index(CPU(cpu)), format,
                                valid_banks, varhead);
        return HV_STATUS_INVALID_HYPERCALL_INPUT;
    }
    set->all = format == HV_GENERIC_SET_ALL;
    set->valid_banks = valid_banks;
    if (set->all || !varhead) {
        return HV_STATUS_SUCCESS;
    }
    return hv_emu_input_read(in, offset, set->bank,
                             varhead * sizeof(set->bank[0]));
}

/*
 * The input of an Ex call: its fixed header of @len bytes into @hdr, whose
 * last two words are the VP set's format and bank mask, then the banks.
 */
static uint16_t hv_emu_read_ex(X86CPU *cpu, const HvEmuInput *in, void *hdr,
                               size_t len, HvEmuVpSet *set)
{
    uint64_t words[2];
    uint16_t st = hv_emu_input_read(in, 0, hdr, len);

    if (st != HV_STATUS_SUCCESS) {
        return st;
    }
    memcpy(words, (uint8_t *)hdr + len - sizeof(words), sizeof(words));
    return hv_emu_vp_set_read(cpu, in, len, le64_to_cpu(words[0]),
                              le64_to_cpu(words[1]), set);
}

static bool hv_emu_vp_in_set(const HvEmuVpSet *set, uint32_t vp)
{
    uint32_t b = vp / 64;

    if (set->all) {
        return true;
    }
    if (b >= HV_VP_SET_BANK_COUNT || !(set->valid_banks & BIT_ULL(b))) {
        return false;
    }
    /* Banks are packed: this one follows those present below it. */
    return set->bank[ctpop64(set->valid_banks & (BIT_ULL(b) - 1))] &
           BIT_ULL(vp % 64);
}

/* The checks every call here shares: no reps, unless @rep says so. */
static bool hv_emu_rep_ok(uint64_t control, bool rep)
{
    uint64_t count = (control & HV_HYPERCALL_REP_COUNT_MASK) >>
                     HV_HYPERCALL_REP_COUNT_SHIFT;

    if (!rep) {
        return !(control & (HV_HYPERCALL_REP_COUNT_MASK |
                            HV_HYPERCALL_REP_START_MASK));
    }
    /* A list names at least one range, and this host does them all. */
    return count && !(control & HV_HYPERCALL_REP_START_MASK);
}

/* --- hv-ipi -------------------------------------------------------------- */

#define HV_IPI_VECTOR_MIN   0x10
#define HV_IPI_VECTOR_MAX   0xff

/*
 * HvCallSendSyntheticClusterIpi and its Ex form: a fixed interrupt of
 * @vector to each VP of the set, as KVM sends it.  VP indices that name
 * no vCPU are ignored, and so are vCPUs with APIC IDs above 254, which
 * the MSI that carries the IPI cannot address.  The plain call's fast
 * form fits RDX and R8; the Ex form's needs XMM input.
 */
uint64_t hv_emu_hcall_ipi(X86CPU *cpu, const HvEmuInput *in)
{
    uint64_t control = in->control;
    bool ex = (control & HV_HYPERCALL_CODE_MASK) ==
              HV_SEND_SYNTHETIC_CLUSTER_IPI_EX;
    HvEmuVpSet set;
    uint32_t vector, sent = 0;
    uint16_t st;
    CPUState *cs;

    if (!hv_emu_offered(cpu, HYPERV_FEAT_IPI)) {
        return HV_STATUS_ACCESS_DENIED;
    }
    if (!hv_emu_rep_ok(control, false) ||
        (!ex && (control & HV_HYPERCALL_VARHEAD_MASK))) {
        return HV_STATUS_INVALID_HYPERCALL_INPUT;
    }
    if (ex) {
        struct hyperv_send_ipi_ex_input e;

        st = hv_emu_read_ex(cpu, in, &e, sizeof(e), &set);
        if (st != HV_STATUS_SUCCESS) {
            return st;
        }
        vector = le32_to_cpu(e.vector);
    } else {
        struct hyperv_send_ipi_input p;

        st = hv_emu_input_read(in, 0, &p, sizeof(p));
        if (st != HV_STATUS_SUCCESS) {
            return st;
        }
        /* The fast form's reserved half of RDX must be clear (KVM). */
        if ((control & HV_HYPERCALL_FAST) && p._reserved) {
            return HV_STATUS_INVALID_HYPERCALL_INPUT;
        }
        vector = le32_to_cpu(p.vector);
        hv_emu_vp_set_mask(&set, le64_to_cpu(p.cpu_mask));
    }
    if (vector < HV_IPI_VECTOR_MIN || vector > HV_IPI_VECTOR_MAX) {
        return HV_STATUS_INVALID_HYPERCALL_INPUT;
    }
    CPU_FOREACH(cs) {
        X86CPU *target = X86_CPU(cs);

        /* An MSI names APIC IDs up to 254; 255 would reach every vCPU. */
        if (target->hv_emu && target->apic_id < 0xff &&
            hv_emu_vp_in_set(&set, hyperv_vp_index(cs))) {
            hv_emu_send_vector(target, vector);
            sent++;
        }
    }
    trace_hv_emu_ipi(hyperv_vp_index(CPU(cpu)), vector, sent);
    return HV_STATUS_SUCCESS;
}

/* --- hv-tlbflush --------------------------------------------------------- */

/*
 * HvCallFlushVirtualAddressSpace/List and their Ex forms.  Every form
 * flushes whole TLBs, which covers any address space and any list of
 * ranges; a list call completes all its reps.  TCG only (see
 * HV_EMU_FEATURES_TCG): when the call returns, no vCPU translates with
 * what it had cached before.  Every fast form needs XMM input; its list
 * of ranges, which the flush does not read, must still fit in it.
 */
uint64_t hv_emu_hcall_flush(X86CPU *cpu, const HvEmuInput *in)
{
    uint64_t control = in->control;
    uint16_t code = control & HV_HYPERCALL_CODE_MASK;
    bool ex = code == HV_FLUSH_VIRTUAL_ADDRESS_SPACE_EX ||
              code == HV_FLUSH_VIRTUAL_ADDRESS_LIST_EX;
    bool list = code == HV_FLUSH_VIRTUAL_ADDRESS_LIST ||
                code == HV_FLUSH_VIRTUAL_ADDRESS_LIST_EX;
    uint32_t targets = 0;
    uint64_t flags, reps = (control & HV_HYPERCALL_REP_COUNT_MASK) >>
                           HV_HYPERCALL_REP_COUNT_SHIFT;
    size_t head;
    HvEmuVpSet set;
    uint16_t st;
    CPUState *cs;

    if (!hv_emu_offered(cpu, HYPERV_FEAT_TLBFLUSH)) {
        return HV_STATUS_ACCESS_DENIED;
    }
    if (!hv_emu_rep_ok(control, list) ||
        (!ex && (control & HV_HYPERCALL_VARHEAD_MASK))) {
        return HV_STATUS_INVALID_HYPERCALL_INPUT;
    }
    if (ex) {
        struct hyperv_flush_ex_input e;

        st = hv_emu_read_ex(cpu, in, &e, sizeof(e), &set);
        if (st != HV_STATUS_SUCCESS) {
            return st;
        }
        flags = le64_to_cpu(e.flags);
        head = sizeof(e) + hv_emu_varhead(control) * sizeof(uint64_t);
    } else {
        struct hyperv_flush_input p;

        st = hv_emu_input_read(in, 0, &p, sizeof(p));
        if (st != HV_STATUS_SUCCESS) {
            return st;
        }
        hv_emu_vp_set_mask(&set, le64_to_cpu(p.processor_mask));
        flags = le64_to_cpu(p.flags);
        head = sizeof(p);
    }
    if (!hv_emu_input_fits(in, head, reps * sizeof(uint64_t))) {
        return HV_STATUS_INVALID_HYPERCALL_INPUT;
    }
    set.all |= flags & HV_FLUSH_ALL_PROCESSORS;
    CPU_FOREACH(cs) {
        targets += X86_CPU(cs)->hv_emu &&
                   hv_emu_vp_in_set(&set, hyperv_vp_index(cs));
    }
    if (targets) {
        /*
         * Every vCPU's TLB, at once: the caller's own flush waits until
         * all others have left their translation blocks, and the OUT
         * that brought us here ends the caller's.
         */
        tlb_flush_all_cpus_synced(CPU(cpu));
    }
    trace_hv_emu_flush(hyperv_vp_index(CPU(cpu)), code, targets);
    if (list) {
        return HV_STATUS_SUCCESS | reps << HV_HYPERCALL_REP_DONE_SHIFT;
    }
    return HV_STATUS_SUCCESS;
}
