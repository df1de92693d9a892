/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The user path's Hyper-V emulation, inside target/i386: what
 * hyperv-emu.c (partition, MSR dispatch, hypercalls, SINT delivery) and
 * hyperv-emu-time.c (reference time, TSC page, synthetic timers) share.
 */

#ifndef TARGET_I386_HYPERV_EMU_INT_H
#define TARGET_I386_HYPERV_EMU_INT_H

#include "qemu/bitmap.h"
#include "hyperv-emu.h"

typedef struct HvEmuTime HvEmuTime;
struct HvEmuSints;

/* Per-vCPU state of the user path; X86CPU.hv_emu points to it. */
typedef struct HvEmuCpu {
    X86CPU *cpu;
    uint64_t features;      /* HYPERV_FEAT_* offered to the guest */
    struct HvEmuSints *sints; /* with hv-synic: the SINTs' notifiers */
    int64_t runtime_offset; /* VP_RUNTIME less the vCPU thread's CPU time */
    HvEmuTime *time;          /* owned by hyperv-emu-time.c */
    /*
     * KVM: AutoEOI vectors never go through KVM's local APIC, which would
     * keep them in service; QEMU holds each raised one until the vCPU can
     * take it and injects it as an interrupt already acknowledged (see
     * hv_emu_aeoi_hold()).  All under the BQL.
     */
    DECLARE_BITMAP(aeoi_vectors, 256);  /* of unmasked AutoEOI SINTs */
    DECLARE_BITMAP(aeoi_held, 256);     /* raised, not injected yet */
    VMChangeStateEntry *aeoi_vmse;      /* asks again when the VM runs */
    QEMUTimer *aeoi_timer;      /* asks the vCPU again after a refusal */
    int64_t aeoi_backoff_ns;
    bool aeoi_queued;           /* hv_emu_aeoi_work is queued on the vCPU */
} HvEmuCpu;

/*
 * The input of a hypercall (TLFS 3.7, 3.8): a block in guest memory, or
 * for a fast call the registers, RDX then R8 and, with hv-xmm-input in
 * 64-bit mode, XMM0 to XMM5 (low half first), read as one block.
 */
#define HV_EMU_FAST_REGS_MAX    (2 + 2 * 6)
typedef struct HvEmuInput {
    uint64_t control;
    uint64_t gpa;           /* RDX: the input block, or its first word */
    uint64_t out;           /* R8: the output block, or the second word */
    unsigned fast_words;    /* fast: how many words the registers hold */
    uint64_t fast[HV_EMU_FAST_REGS_MAX];
} HvEmuInput;

/*
 * @len bytes of @in from byte @offset into @buf (in the guest's byte
 * order, as in memory): HV_STATUS_SUCCESS, or the status that refuses
 * the call (input past the registers, or not readable in memory).
 */
uint16_t hv_emu_input_read(const HvEmuInput *in, size_t offset, void *buf,
                           size_t len);
/* Whether @len bytes from @offset of a fast call's input are there. */
bool hv_emu_input_fits(const HvEmuInput *in, size_t offset, size_t len);

/* Whether the guest of @cpu was offered HYPERV_FEAT_* @feat. */
static inline bool hv_emu_offered(X86CPU *cpu, int feat)
{
    return cpu->hv_emu && (cpu->hv_emu->features & BIT_ULL(feat));
}

/*
 * hyperv-emu-apic.c: which features this path implements and which of
 * those asked for @cpu's guest is offered (warning once about the rest);
 * the APIC access and VP assist page MSRs (as hv_emu_time_rdmsr/wrmsr,
 * taking the BQL themselves); the IPI and TLB flush hypercalls (BQL held,
 * the result value as x86_hyperv_emu_hypercall() returns it).
 */
uint64_t hv_emu_features_implemented(void);
uint64_t hv_emu_features_offered(X86CPU *cpu);
HvMsrResult hv_emu_apic_rdmsr(X86CPU *cpu, uint32_t msr, uint64_t *val);
HvMsrResult hv_emu_apic_wrmsr(X86CPU *cpu, uint32_t msr, uint64_t val);
uint64_t hv_emu_hcall_ipi(X86CPU *cpu, const HvEmuInput *in);
uint64_t hv_emu_hcall_flush(X86CPU *cpu, const HvEmuInput *in);

/*
 * Raise @vector on @cpu's local APIC as an edge-triggered fixed interrupt
 * (a synthetic timer in direct mode).  BQL held.
 */
void hv_emu_send_vector(X86CPU *cpu, uint8_t vector);

/*
 * hyperv-emu-time.c: TIME_REF_COUNT, REFERENCE_TSC, TSC_FREQUENCY,
 * APIC_FREQUENCY and STIMER0..3_CONFIG/COUNT.  The MSR functions follow
 * x86_hyperv_emu_rdmsr()/wrmsr(): vCPU thread, BQL not held; @host writes
 * come from QEMU (reset, migration).
 */
void hv_emu_time_realize(X86CPU *cpu);
void hv_emu_time_unrealize(X86CPU *cpu);
void hv_emu_time_reset(X86CPU *cpu);
void hv_emu_time_post_load(X86CPU *cpu);
HvMsrResult hv_emu_time_rdmsr(X86CPU *cpu, uint32_t msr, uint64_t *val);
HvMsrResult hv_emu_time_wrmsr(X86CPU *cpu, uint32_t msr, uint64_t val,
                              bool host);

#endif
