/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Hyper-V SynIC on KVM with in-kernel Hyper-V (KVM_CAP_HYPERV_SYNIC2).
 *
 * KVM emulates the SynIC MSRs and delivers SINTs; QEMU owns the message
 * and event-flag pages and the connections.  KVM tells us about the
 * guest's SCONTROL/SIMP/SIEFP writes and the hypercalls it leaves to
 * userspace through KVM_EXIT_HYPERV; we raise SINTs through GSIs of type
 * KVM_IRQ_ROUTING_HV_SINT and learn about EOM/EOI from irqfd resamplers.
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qapi/error.h"
#include "hyperv.h"
#include "kvm_i386.h"
#include "qemu/range.h"
#include "system/hw_accel.h"
#include "hw/hyperv/hyperv.h"
#include "hw/hyperv/hv-log.h"
#include "hyperv-proto.h"
#include "trace.h"

/* --- the vCPU's SynIC, on every accelerator ------------------------------ */

/* Devices using the SynIC are reset first and have released their routes. */
void hyperv_x86_synic_reset(X86CPU *cpu)
{
    hyperv_synic_reset(CPU(cpu));
}

/*
 * KVM's own memory slots that QEMU's x86 set-up places (target/i386/kvm):
 * on VMX the TSS (three pages) and the real-mode identity map just below
 * it, at 0xfeffc000.  A memory slot of ours overlapping them is refused
 * by KVM, which QEMU cannot survive.
 */
#define KVM_PRIVATE_SLOTS_BASE  0xfeffc000ull
#define KVM_PRIVATE_SLOTS_SIZE  (4 * HV_PAGE_SIZE)
/*
 * The local APIC's window (MSIs and the xAPIC registers, where VMX and
 * AVIC keep their APIC-access page).  QEMU's APIC region hides any RAM
 * below it, so an overlay there would never be seen by the guest either.
 */
#define APIC_WINDOW_BASE        0xfee00000ull
#define APIC_WINDOW_SIZE        0x100000ull

/*
 * Why a SynIC page at @gpa cannot be mapped, or NULL if it can.  KVM's
 * memory slots cannot lie above the host's physical address width (a
 * qemu64 or kvm64 guest has 40 bits, and many hosts 39), nor over KVM's
 * private slots; TCG only needs the guest's width.
 */
/* KVM's own limit for guest physical addresses, or 0 if unknown. */
static unsigned synic_kvm_phys_bits(void)
{
#ifdef CONFIG_KVM
    return kvm_arch_get_supported_cpuid(kvm_state, 0x80000008, 0, R_EAX) &
           0xff;
#else
    return 0;
#endif
}

static const char *synic_page_refusal(X86CPU *cpu, hwaddr gpa)
{
    unsigned bits = cpu->phys_bits;

    if (kvm_enabled()) {
        unsigned host = synic_kvm_phys_bits();

        bits = host ? MIN(bits, host) : bits;
        if (ranges_overlap(gpa, HV_PAGE_SIZE, KVM_PRIVATE_SLOTS_BASE,
                           KVM_PRIVATE_SLOTS_SIZE)) {
            return "over KVM's TSS and identity map";
        }
        if (ranges_overlap(gpa, HV_PAGE_SIZE, APIC_WINDOW_BASE,
                           APIC_WINDOW_SIZE)) {
            return "in the local APIC's window";
        }
    }
    if (bits < 64 && gpa >> bits) {
        return "beyond the physical address width";
    }
    return NULL;
}

/*
 * The GPA of an enabled SIMP/SIEFP page, or HV_SYNIC_PAGE_OFF (GPA 0 is a
 * page like any other).  With SYNIC2, KVM accepts any value, and so does
 * the user path, as KVM does: a page that cannot be mapped stays
 * unmapped, with a guest error; the guest then gets no messages (or
 * flags).  This also runs on an incoming migration's values.
 */
static hwaddr synic_page_gpa(X86CPU *cpu, uint64_t msr, const char *name)
{
    hwaddr gpa = msr & ~(hwaddr)(HV_PAGE_SIZE - 1);
    const char *why;

    if (!(msr & 1)) {
        return HV_SYNIC_PAGE_OFF;
    }
    why = synic_page_refusal(cpu, gpa);
    if (why) {
        trace_kvm_hv_synic_page_bad(hyperv_vp_index(CPU(cpu)), name, gpa);
        hv_guest_error("VP %u: %s page 0x%" PRIx64 " %s; not mapped",
                       hyperv_vp_index(CPU(cpu)), name, gpa, why);
        return HV_SYNIC_PAGE_OFF;
    }
    return gpa;
}

void hyperv_x86_synic_update(X86CPU *cpu)
{
    CPUX86State *env = &cpu->env;

    hyperv_synic_update(CPU(cpu), env->msr_hv_synic_control & HV_SYNIC_ENABLE,
                        synic_page_gpa(cpu, env->msr_hv_synic_msg_page, "SIMP"),
                        synic_page_gpa(cpu, env->msr_hv_synic_evt_page,
                                       "SIEFP"));
}

void hyperv_x86_set_vmbus_recommended_features_enabled(void)
{
    hyperv_set_vmbus_recommended_features_enabled();
}

/*
 * What follows is KVM's: the SynIC of the kernel path, and the user path's
 * glue to KVM.  Without KVM (a TCG-only build) the user path still uses
 * the functions above.
 */
#ifdef CONFIG_KVM

/* --- SINT routes: GSIs of type HV_SINT with an irqfd and a resampler --- */

static int kvm_hv_sint_connect(uint32_t vp_index, uint32_t sint,
                               EventNotifier *set, EventNotifier *ack)
{
    struct kvm_irq_routing_entry e = {
        .type = KVM_IRQ_ROUTING_HV_SINT,
        .u.hv_sint = { .vcpu = vp_index, .sint = sint },
    };
    int gsi, ret;

    if (!kvm_gsi_routing_enabled()) {
        return -ENOSYS;
    }
    gsi = kvm_irqchip_get_virq(kvm_state);
    if (gsi < 0) {
        return gsi;
    }
    e.gsi = gsi;
    kvm_add_routing_entry(kvm_state, &e);
    kvm_irqchip_commit_routes(kvm_state);
    ret = kvm_irqchip_add_irqfd_notifier_gsi(kvm_state, set, ack, gsi);
    if (ret < 0) {
        kvm_irqchip_release_virq(kvm_state, gsi);
        kvm_irqchip_commit_routes(kvm_state);
        return ret;
    }
    trace_kvm_hv_sint_route(vp_index, sint, gsi);
    return gsi;
}

static void kvm_hv_sint_disconnect(int gsi, EventNotifier *set)
{
    kvm_irqchip_remove_irqfd_notifier_gsi(kvm_state, set, gsi);
    kvm_irqchip_release_virq(kvm_state, gsi);
    /* Drop the entry from KVM's table now, not at the next commit. */
    kvm_irqchip_commit_routes(kvm_state);
    trace_kvm_hv_sint_route_release(gsi);
}

/* Fast HvSignalEvent answered in the kernel (KVM_CAP_HYPERV_EVENTFD). */
static int kvm_hv_set_event_conn(uint32_t conn_id, EventNotifier *notifier)
{
    struct kvm_hyperv_eventfd ev = { .conn_id = conn_id };

    if (!kvm_check_extension(kvm_state, KVM_CAP_HYPERV_EVENTFD)) {
        return -ENOSYS;
    }
    if (notifier) {
        ev.fd = event_notifier_get_fd(notifier);
    } else {
        ev.fd = -1;
        ev.flags = KVM_HYPERV_EVENTFD_DEASSIGN;
    }
    return kvm_vm_ioctl(kvm_state, KVM_HYPERV_EVENTFD, &ev);
}

static const HvSintRouteOps kvm_hv_sint_ops = {
    .connect = kvm_hv_sint_connect,
    .disconnect = kvm_hv_sint_disconnect,
    .set_event_conn = kvm_hv_set_event_conn,
};

/*
 * hyperv_ref_time() on the kernel path: KVM counts the partition's
 * reference time from its kvmclock (TIME_REF_COUNT is the kvmclock in
 * 100 ns units, and the TSC page KVM writes follows it), which
 * KVM_GET_CLOCK reads.
 */
static bool kvm_hv_ref_time(uint64_t *ref)
{
    struct kvm_clock_data data = {};

    if (!first_cpu ||
        !hyperv_feat_enabled(X86_CPU(first_cpu), HYPERV_FEAT_TIME) ||
        kvm_vm_ioctl(kvm_state, KVM_GET_CLOCK, &data) < 0) {
        return false;
    }
    *ref = data.clock / 100;
    return true;
}

/* --- the vCPU's SynIC on the kernel path ------------------------------- */

int hyperv_x86_synic_add(X86CPU *cpu)
{
    Error *err = NULL;

    hyperv_set_sint_route_ops(&kvm_hv_sint_ops);
    hyperv_set_ref_time_source(kvm_hv_ref_time);
    if (!hyperv_synic_add(CPU(cpu), &err)) {
        error_report_err(err);
        return -ENOMEM;
    }
    /*
     * KVM's synthetic timers write their messages into the SIMP slots
     * themselves, from the vCPU's context.  A guest can use them when
     * hv-stimer offers them, and also without it unless hv-enforce-cpuid
     * makes KVM refuse the STIMER MSRs: then our posts must go through
     * the vCPU's thread (hw/hyperv/synic.c).
     */
    hyperv_synic_set_post_on_vcpu(CPU(cpu), !cpu->hyperv_enforce_cpuid ||
                                  hyperv_feat_enabled(cpu, HYPERV_FEAT_STIMER));
    return 0;
}

/* --- KVM_EXIT_HYPERV ------------------------------------------------ */

/*
 * Mapping or moving an overlay page splits a RAM memory slot, and KVM
 * updates slots by deleting and re-adding them: a vCPU touching that RAM
 * in between would take a bogus MMIO exit.  So the map changes while every
 * vCPU is out of the guest (safe work), and before this one runs again.
 */
static void kvm_hv_synic_update_safe(CPUState *cs, run_on_cpu_data data)
{
    bql_lock();
    hyperv_x86_synic_update(X86_CPU(cs));
    bql_unlock();
}

/* The guest wrote SCONTROL, SIMP or SIEFP. */
static int kvm_hv_synic_exit(X86CPU *cpu, struct kvm_hyperv_exit *hv)
{
    CPUX86State *env = &cpu->env;

    if (!hyperv_feat_enabled(cpu, HYPERV_FEAT_SYNIC)) {
        return -1;
    }
    /* KVM passes all three values; the MSR says which one changed. */
    if (hv->u.synic.msr == HV_X64_MSR_SCONTROL) {
        env->msr_hv_synic_control = hv->u.synic.control;
    } else if (hv->u.synic.msr == HV_X64_MSR_SIMP) {
        env->msr_hv_synic_msg_page = hv->u.synic.msg_page;
    } else if (hv->u.synic.msr == HV_X64_MSR_SIEFP) {
        env->msr_hv_synic_evt_page = hv->u.synic.evt_page;
    } else {
        return -1;
    }
    async_safe_run_on_cpu(CPU(cpu), kvm_hv_synic_update_safe, RUN_ON_CPU_NULL);
    /* Leave KVM_RUN so that the work runs before the next guest entry. */
    cpu_exit(CPU(cpu));
    return EXCP_INTERRUPT;
}

/*
 * The input GPA the guest passed to a memory-form hypercall (TLFS 3.7:
 * RDX in 64-bit mode, EBX:ECX from 32-bit code).  Rare (an HvSignalEvent
 * KVM could not place), so the vCPU's whole state is fetched.
 */
static uint64_t kvm_hv_hcall_input_gpa(X86CPU *cpu)
{
    CPUX86State *env = &cpu->env;

    cpu_synchronize_state(CPU(cpu));
    if (env->hflags & HF_CS64_MASK) {
        return env->regs[R_EDX];
    }
    return (env->regs[R_EBX] << 32) | (uint32_t)env->regs[R_ECX];
}

/*
 * HvSignalEvent in memory form reaches us only after KVM read its input
 * quadword and found no eventfd for it.  KVM since 5.14 then passes that
 * quadword in params[0]; older KVM passed the input GPA.  If params[0] is
 * not the GPA in the guest's registers it is the quadword; if it is, the
 * quadword is read at that GPA, which gives the right answer for both.
 */
static bool kvm_hv_signal_event_input(X86CPU *cpu, uint64_t param,
                                      uint64_t *val)
{
    uint64_t gpa = kvm_hv_hcall_input_gpa(cpu), v;

    if (param != gpa) {
        *val = param;
        return true;
    }
    if (!hyperv_guest_ram_rw(gpa, &v, sizeof(v), false)) {
        return false;
    }
    *val = le64_to_cpu(v);
    return true;
}

static uint16_t kvm_hv_hcall(X86CPU *cpu, struct kvm_hyperv_exit *exit)
{
    uint16_t code = exit->u.hcall.input & HV_HYPERCALL_CODE_MASK;
    bool fast = exit->u.hcall.input & HV_HYPERCALL_FAST;
    uint64_t in = exit->u.hcall.params[0];

    trace_kvm_hv_hcall(code, fast, in);
    if (code == HV_SIGNAL_EVENT && !fast) {
        /* KVM already checked the GPA: what is left is its value. */
        if (!kvm_hv_signal_event_input(cpu, in, &in)) {
            return HV_STATUS_INVALID_ALIGNMENT;
        }
        fast = true;
    }
    return hyperv_hcall(code, fast, in, exit->u.hcall.params[1],
                        hyperv_feat_enabled(cpu, HYPERV_FEAT_SYNDBG));
}

/* A write to SYNDBG_CONTROL with SEND or RECV starts a transfer. */
static uint32_t kvm_hv_syndbg_transfer(CPUX86State *env, uint64_t control)
{
    if (control & HV_SYNDBG_CONTROL_SEND) {
        return hyperv_syndbg_send(env->msr_hv_syndbg_send_page,
                                  HV_SYNDBG_CONTROL_SEND_SIZE(control));
    }
    if (control & HV_SYNDBG_CONTROL_RECV) {
        return hyperv_syndbg_recv(env->msr_hv_syndbg_recv_page, HV_PAGE_SIZE);
    }
    return HV_STATUS_SUCCESS;
}

/* The synthetic debugger's MSRs (hv-syndbg); env keeps them for migration. */
static int kvm_hv_syndbg_exit(X86CPU *cpu, struct kvm_hyperv_exit *hv)
{
    CPUX86State *env = &cpu->env;

    if (!hyperv_feat_enabled(cpu, HYPERV_FEAT_SYNDBG)) {
        return -1;
    }
    if (hv->u.syndbg.msr == HV_X64_MSR_SYNDBG_PENDING_BUFFER) {
        env->msr_hv_syndbg_pending_page = hv->u.syndbg.pending_page;
        hyperv_syndbg_set_pending_page(hv->u.syndbg.pending_page);
        return 0;
    }
    if (hv->u.syndbg.msr != HV_X64_MSR_SYNDBG_CONTROL) {
        return -1;
    }
    env->msr_hv_syndbg_control = hv->u.syndbg.control;
    env->msr_hv_syndbg_send_page = hv->u.syndbg.send_page;
    env->msr_hv_syndbg_recv_page = hv->u.syndbg.recv_page;
    hv->u.syndbg.status = kvm_hv_syndbg_transfer(env, hv->u.syndbg.control);
    return 0;
}

int kvm_hv_handle_exit(X86CPU *cpu, struct kvm_hyperv_exit *exit)
{
    switch (exit->type) {
    case KVM_EXIT_HYPERV_SYNIC:
        return kvm_hv_synic_exit(cpu, exit);
    case KVM_EXIT_HYPERV_HCALL:
        /* Connection handlers and the debugger run with the BQL held. */
        bql_lock();
        exit->u.hcall.result = kvm_hv_hcall(cpu, exit);
        bql_unlock();
        return 0;
    case KVM_EXIT_HYPERV_SYNDBG: {
        int ret;

        bql_lock();
        ret = kvm_hv_syndbg_exit(cpu, exit);
        bql_unlock();
        return ret;
    }
    default:
        return -1;
    }
}

#endif /* CONFIG_KVM */
