/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Hyper-V emulated by QEMU itself (the "user path"): the partition's
 * CPUID leaves, MSRs, hypercall page and SINT delivery, for TCG and for a
 * KVM without in-kernel Hyper-V.  The accelerators call in here; the SynIC
 * core (hw/hyperv/synic.c) does messages, event flags and connections.
 */

#ifndef TARGET_I386_HYPERV_EMU_H
#define TARGET_I386_HYPERV_EMU_H

#include "cpu.h"

/* The MSR range the user path answers: 0x40000000 .. 0x400001ff. */
#define HV_EMU_MSR_BASE   0x40000000u
#define HV_EMU_MSR_COUNT  0x200u

/*
 * The I/O port the hypercall page traps through: "out 0x5c, eax" leaves
 * every register as the guest set it, so the handler reads the hypercall's
 * inputs from them.  0x5c..0x5f is unused on the PC and Q35 machines.
 */
#define HV_EMU_HCALL_PORT 0x5c

/* What an MSR access turns into. */
typedef enum HvMsrResult {
    HV_MSR_UNHANDLED,   /* not a Hyper-V MSR of the user path */
    HV_MSR_OK,
    HV_MSR_GP,          /* the guest gets #GP(0) */
} HvMsrResult;

/*
 * Whether @cpu runs the user path: under TCG (and qtest) whenever an hv-*
 * feature is on; under KVM when the accelerator chose it.  Valid after
 * realize.
 */
bool x86_hyperv_emu_enabled(X86CPU *cpu);

/*
 * Called by the KVM glue before the vCPUs are realized: whether KVM uses
 * the user path (the kernel lacks KVM_CAP_HYPERV_SYNIC2, or -accel
 * kvm,hyperv=user).  TCG needs no call.
 */
void x86_hyperv_emu_set_kvm(bool user);
bool x86_hyperv_emu_kvm(void);

/*
 * How an accelerator with an in-kernel APIC raises SINTs without QEMU's
 * main loop: an MSI route per SINT (@route_add returns its handle, or a
 * negative errno), pointed at a vector of a vCPU by @route_set, and fired
 * by an eventfd bound to it with @irqfd.  Without one, SINTs are raised
 * from the main loop.  Set by the KVM glue when it picks the user path.
 */
typedef struct HvEmuSintAccel {
    int (*route_add)(void);
    int (*route_set)(int route, uint32_t apic_id, uint8_t vector);
    void (*route_del)(int route);
    int (*irqfd)(EventNotifier *n, int route, bool on);
} HvEmuSintAccel;
void x86_hyperv_emu_set_sint_accel(const HvEmuSintAccel *accel);

/*
 * How the user path reads the guest TSC where the accelerator keeps it
 * (KVM), for a reference TSC page: @stable says whether the host's TSC is
 * stable (any thread); @sample, on the vCPU's thread outside KVM_RUN,
 * gives a host TSC reading and the guest TSC at that moment, exact or
 * never later than it.  Both assume the guest TSC runs at the host's rate.
 */
typedef struct HvEmuTscAccel {
    bool (*stable)(void);
    bool (*sample)(X86CPU *cpu, uint64_t *host, uint64_t *guest);
} HvEmuTscAccel;
void x86_hyperv_emu_set_tsc_accel(const HvEmuTscAccel *accel);

/*
 * A hypercall through the hypercall page: the registers it reads and
 * writes (TLFS 3.7, 3.8), and the mode that decides which of them count.
 * x86_hyperv_emu_hypercall() answers it, leaving the result in @rax (and,
 * from 32-bit code, @rdx), and returns true; it returns false, with the
 * registers untouched, for a call from outside CPL 0 of protected mode,
 * which the caller turns into #UD (TLFS 3.6; KVM does the same).  BQL
 * held, on the calling vCPU's thread.
 */
typedef struct HvEmuHcallRegs {
    bool privileged;        /* CPL 0 in protected mode */
    bool code64;            /* a 64-bit code segment */
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, r8;
    /*
     * XMM0 to XMM5, the low half of each first.  The caller fills them
     * (and sets @has_xmm) at least when x86_hyperv_emu_hcall_wants_xmm()
     * says the call reads them.
     */
    bool has_xmm;
    uint64_t xmm[12];
} HvEmuHcallRegs;
bool x86_hyperv_emu_hypercall(X86CPU *cpu, HvEmuHcallRegs *r);
/*
 * Whether a 64-bit hypercall with control word @control takes part of
 * its input from XMM registers: a fast call of a code that has more
 * input than RDX and R8 hold, on a vCPU offered hv-xmm-input.
 */
bool x86_hyperv_emu_hcall_wants_xmm(X86CPU *cpu, uint64_t control);
/*
 * Under TCG, before the hypercall port's OUT: whether it is a hypercall
 * that must raise #UD instead (the vCPU emulates Hyper-V, hypercalls are
 * enabled, and it does not run at CPL 0 in protected mode).
 */
bool x86_hyperv_emu_hcall_ud(X86CPU *cpu);

/*
 * An accelerator that keeps the registers elsewhere than env (KVM) may
 * answer the hypercall page's trap itself, fetching and writing back only
 * those registers; it returns false to leave it to the generic way (all
 * of the vCPU's state through env).
 */
void x86_hyperv_emu_set_hcall_accel(bool (*hcall)(X86CPU *cpu));

/*
 * KVM: inject @vector into @cpu as an interrupt its local APIC already
 * acknowledged, which therefore never enters service (AutoEOI), if the
 * vCPU can take it now.  LATER leaves it to another attempt; DROPPED
 * means the APIC would have discarded it (disabled, or INIT).  On the
 * vCPU's thread, outside KVM_RUN, BQL held.
 */
typedef enum HvEmuAeoiResult {
    HV_AEOI_INJECTED,
    HV_AEOI_LATER,
    HV_AEOI_DROPPED,
} HvEmuAeoiResult;
typedef HvEmuAeoiResult HvEmuAeoiInject(X86CPU *cpu, uint8_t vector);
void x86_hyperv_emu_set_aeoi_accel(HvEmuAeoiInject *inject);

/*
 * CPU feature expansion (query-cpu-model-expansion, and realize): when
 * QEMU emulates Hyper-V for @cpu, hv-passthrough becomes the features
 * this path implements, and the answer is true; false leaves the vCPU
 * to the accelerator's own expansion (KVM's in-kernel Hyper-V).
 */
bool x86_hyperv_emu_expand_features(X86CPU *cpu);

/*
 * Realize: expand hv-passthrough, offer the guest the hv-* features the
 * path implements (a warning names the others, once), create the vCPU's
 * SynIC and timers.  Called from the CPU's realize once the APIC exists.
 */
bool x86_hyperv_emu_realize(X86CPU *cpu, Error **errp);
void x86_hyperv_emu_unrealize(X86CPU *cpu);
/* vCPU reset (Resettable hold phase of the CPU). */
void x86_hyperv_emu_reset(X86CPU *cpu);
/* Migration: bring env up to date; rebuild from env after loading. */
void x86_hyperv_emu_pre_save(X86CPU *cpu);
int x86_hyperv_emu_post_load(X86CPU *cpu);
/*
 * The local APIC of @cpu has loaded its state, @irr included, after the
 * vCPU's, and is about to hand it to the accelerator (BQL, VM stopped).
 * Pending AutoEOI SINT vectors go to whatever does AutoEOI on this path:
 * out of @irr into the set QEMU injects (the user path on KVM), or into
 * @irr from the migration stream (everywhere else).  Returns whether
 * @irr changed.
 */
bool x86_hyperv_emu_apic_post_load(X86CPU *cpu, uint32_t *irr);

/*
 * CPUID 0x40000000 .. 0x4fffffff.  Returns false when the user path does
 * not own the leaf (no hv-* feature on), so the caller answers as before.
 */
bool x86_hyperv_emu_cpuid(X86CPU *cpu, uint32_t index, uint32_t *eax,
                          uint32_t *ebx, uint32_t *ecx, uint32_t *edx);

/*
 * MSR accesses of the guest, on the vCPU's thread, BQL not held.  @host
 * writes come from QEMU itself (reset, migration) and skip the guest's
 * restrictions (read-only registers).
 */
HvMsrResult x86_hyperv_emu_rdmsr(X86CPU *cpu, uint32_t msr, uint64_t *val);
HvMsrResult x86_hyperv_emu_wrmsr(X86CPU *cpu, uint32_t msr, uint64_t val);

#endif
