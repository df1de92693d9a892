/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The user path's KVM backend: QEMU emulates Hyper-V (target/i386/
 * hyperv-emu.c) while KVM runs the vCPUs, because KVM has no in-kernel
 * Hyper-V or the user asked for -accel kvm,hyperv=user.
 *
 * What KVM lends the emulation: the Hyper-V MSRs through KVM's MSR filter
 * (kvm.c installs it), an MSI route and irqfd per SINT so that a post
 * raises its interrupt without the main loop, and a hypercall trap that
 * moves only the registers a hypercall uses.  The choice between the two
 * paths is made here, once per VM.
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/error-report.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "hw/i386/apic-msidef.h"
#include "hw/pci/msi.h"
#include "hyperv.h"
#include "hyperv-emu.h"
#include "kvm_i386.h"
#include "system/kvm.h"
#include "hyperv-proto.h"
#include "trace.h"

/* -accel kvm,hyperv=...: who emulates Hyper-V for the hv-* options. */
typedef enum KvmHvPath {
    KVM_HV_PATH_AUTO,
    KVM_HV_PATH_KERNEL,
    KVM_HV_PATH_USER,
} KvmHvPath;

static const char *const kvm_hv_path_names[] = {
    [KVM_HV_PATH_AUTO] = "auto",
    [KVM_HV_PATH_KERNEL] = "kernel",
    [KVM_HV_PATH_USER] = "user",
};

static KvmHvPath kvm_hv_path;

static char *kvm_hv_get_path(Object *obj, Error **errp)
{
    return g_strdup(kvm_hv_path_names[kvm_hv_path]);
}

static void kvm_hv_set_path(Object *obj, const char *value, Error **errp)
{
    int i;

    for (i = 0; i < ARRAY_SIZE(kvm_hv_path_names); i++) {
        if (!strcmp(value, kvm_hv_path_names[i])) {
            kvm_hv_path = i;
            return;
        }
    }
    error_setg(errp, "invalid value '%s' for hyperv: auto, kernel or user",
               value);
}

void kvm_hv_accel_class_init(ObjectClass *oc)
{
    object_class_property_add_str(oc, "hyperv", kvm_hv_get_path,
                                  kvm_hv_set_path);
    object_class_property_set_description(oc, "hyperv",
        "Who emulates Hyper-V for the hv-* CPU options: kernel (KVM), "
        "user (QEMU), or auto (kernel when KVM has "
        "KVM_CAP_HYPERV_SYNIC2, else user)");
}

/*
 * SINTs of the user path: an MSI route per SINT to the vCPU's APIC, and
 * the poster's eventfd bound to it, so that the kernel raises the SINT
 * without QEMU's main loop or the BQL.
 */
static int kvm_hv_emu_route_add(void)
{
    KVMRouteChange c;
    int route;

    if (!kvm_irqfds_enabled() || !kvm_msi_via_irqfd_enabled() ||
        !kvm_gsi_routing_enabled()) {
        return -ENOSYS;
    }
    c = kvm_irqchip_begin_route_changes(kvm_state);
    route = kvm_irqchip_add_msi_route(&c, 0, NULL);
    if (route >= 0) {
        kvm_irqchip_commit_route_changes(&c);
    }
    return route;
}

static int kvm_hv_emu_route_set(int route, uint32_t apic_id, uint8_t vector)
{
    MSIMessage msg = {
        .address = APIC_DEFAULT_ADDRESS |
                   ((uint64_t)(apic_id & 0xff) << MSI_ADDR_DEST_ID_SHIFT),
        .data = vector,
    };
    int ret = kvm_irqchip_update_msi_route(kvm_state, route, msg, NULL);

    if (!ret) {
        kvm_irqchip_commit_routes(kvm_state);
    }
    return ret;
}

static void kvm_hv_emu_route_del(int route)
{
    kvm_irqchip_release_virq(kvm_state, route);
    kvm_irqchip_commit_routes(kvm_state);
}

static int kvm_hv_emu_irqfd(EventNotifier *n, int route, bool on)
{
    return on ? kvm_irqchip_add_irqfd_notifier_gsi(kvm_state, n, NULL, route) :
                kvm_irqchip_remove_irqfd_notifier_gsi(kvm_state, n, route);
}

static const HvEmuSintAccel kvm_hv_emu_sint_accel = {
    .route_add = kvm_hv_emu_route_add,
    .route_set = kvm_hv_emu_route_set,
    .route_del = kvm_hv_emu_route_del,
    .irqfd = kvm_hv_emu_irqfd,
};

/*
 * #UD for a hypercall from outside CPL 0 of protected mode, as KVM's own
 * Hyper-V raises it.  KVM completes the OUT first, so the guest sees the
 * instruction after it as the faulting one (a KVM exit cannot be undone).
 */
static bool kvm_hv_emu_raise_ud(CPUState *cs)
{
    struct kvm_vcpu_events ev;

    if (kvm_vcpu_ioctl(cs, KVM_GET_VCPU_EVENTS, &ev) < 0) {
        return false;
    }
    /*
     * Hand back only what this changes.  Echoing the NMI-pending or SMM
     * state read above would overwrite an NMI or INIT that another vCPU
     * sent meanwhile (KVM queues them outside this vCPU's thread).
     */
    ev.flags &= KVM_VCPUEVENT_VALID_PAYLOAD | KVM_VCPUEVENT_VALID_SHADOW;
    ev.exception.nr = UD_VECTOR;
    ev.exception.has_error_code = 0;
    ev.exception.error_code = 0;
    if (ev.flags & KVM_VCPUEVENT_VALID_PAYLOAD) {
        /* A pending exception: KVM checks it against nested intercepts. */
        ev.exception.pending = 1;
        ev.exception.injected = 0;
        ev.exception_has_payload = 0;
    } else {
        ev.exception.injected = 1;
    }
    if (kvm_vcpu_ioctl(cs, KVM_SET_VCPU_EVENTS, &ev) < 0) {
        error_report("kvm: cannot raise #UD for a Hyper-V hypercall");
        abort();
    }
    return true;
}

/*
 * The hypercall page's trap on KVM: only the general registers and the
 * segment state travel, two ioctls each way instead of the vCPU's whole
 * state; a call with XMM input adds the FPU state, read only.  When
 * QEMU's copy of the registers is the current one (dirty), the generic
 * way through env is right instead.
 */
static bool kvm_hv_emu_hcall(X86CPU *cpu)
{
    CPUState *cs = CPU(cpu);
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    struct kvm_fpu fpu;
    HvEmuHcallRegs r;
    int i;

    if (cs->vcpu_dirty || kvm_vcpu_ioctl(cs, KVM_GET_REGS, &regs) < 0 ||
        kvm_vcpu_ioctl(cs, KVM_GET_SREGS, &sregs) < 0) {
        return false;
    }
    r = (HvEmuHcallRegs) {
        .privileged = (sregs.cr0 & CR0_PE_MASK) && !sregs.ss.dpl &&
                      !(regs.rflags & VM_MASK),
        .code64 = (sregs.efer & MSR_EFER_LMA) && sregs.cs.l,
        .rax = regs.rax, .rbx = regs.rbx, .rcx = regs.rcx, .rdx = regs.rdx,
        .rsi = regs.rsi, .rdi = regs.rdi, .r8 = regs.r8,
    };
    if (r.code64 && x86_hyperv_emu_hcall_wants_xmm(cpu, regs.rcx)) {
        if (kvm_vcpu_ioctl(cs, KVM_GET_FPU, &fpu) < 0) {
            return false;
        }
        for (i = 0; i < ARRAY_SIZE(r.xmm); i++) {
            r.xmm[i] = ldq_le_p(&fpu.xmm[i / 2][(i % 2) * 8]);
        }
        r.has_xmm = true;
    }
    if (!x86_hyperv_emu_hypercall(cpu, &r)) {
        return kvm_hv_emu_raise_ud(cs);
    }
    regs.rax = r.rax;
    regs.rdx = r.rdx;
    if (kvm_vcpu_ioctl(cs, KVM_SET_REGS, &regs) < 0) {
        error_report("kvm: cannot return a Hyper-V hypercall's result");
        abort();
    }
    return true;
}

/* Offsets in the local APIC's register page (struct kvm_lapic_state). */
#define LAPIC_TPR   0x80
#define LAPIC_SVR   0xf0
#define LAPIC_ISR   0x100       /* eight 32-bit words, 16 bytes apart */
#define LAPIC_IRR   0x200
#define LAPIC_SVR_ENABLED   (1u << 8)

static uint32_t kvm_hv_emu_lapic_reg(struct kvm_lapic_state *l, int offset)
{
    uint32_t v;

    memcpy(&v, &l->regs[offset], sizeof(v));
    return v;
}

/* The highest vector set in the ISR or IRR at @base, or -1. */
static int kvm_hv_emu_lapic_highest(struct kvm_lapic_state *l, int base)
{
    int i;

    for (i = 7; i >= 0; i--) {
        uint32_t w = kvm_hv_emu_lapic_reg(l, base + i * 16);

        if (w) {
            return i * 32 + 31 - clz32(w);
        }
    }
    return -1;
}

/*
 * Is the vCPU running a nested guest, or has its own hypervisor shut
 * interrupts out (SVM's GIF)?  An interrupt injected now would go to the
 * wrong level.  kvm_run's flags can be those of before a register load
 * (loadvm writes the state without running the vCPU), so ask the nested
 * state itself, whole (KVM may write all of it), and only for guests that
 * can run a hypervisor.
 */
static bool kvm_hv_emu_nested_busy(X86CPU *cpu)
{
    CPUX86State *env = &cpu->env;
    int len = kvm_max_nested_state_length();
    g_autofree struct kvm_nested_state *st = NULL;
    int ret;

    if ((!cpu_has_vmx(env) && !cpu_has_svm(env)) ||
        len < (int)sizeof(*st)) {
        return false;
    }
    st = g_malloc0(len);
    st->size = len;
    ret = kvm_vcpu_ioctl(CPU(cpu), KVM_GET_NESTED_STATE, st);
    if (ret == -EINVAL) {
        return false;       /* this KVM runs no nested guests */
    }
    return ret < 0 || (st->flags & KVM_STATE_NESTED_GUEST_MODE) ||
           (cpu_has_svm(env) && !(st->flags & KVM_STATE_NESTED_GIF_SET));
}

/*
 * AutoEOI (hyperv-emu.c holds the vectors): inject @vector as an
 * interrupt KVM's local APIC already acknowledged.  KVM then delivers it
 * through the IDT at the next entry and its APIC never sees it, so
 * nothing enters service: what AutoEOI means.  QEMU must check what the
 * APIC and the CPU would have checked, on the vCPU's thread while it is
 * out of KVM_RUN (nothing of the vCPU's own moves meanwhile), from state
 * read now (kvm_run's copy may predate a register load):
 *  - the APIC enabled (a disabled one discards the interrupt) and the
 *    vCPU not waiting for SIPI (INIT cleared its IRR): else dropped;
 *  - interrupts open: RFLAGS.IF, no STI/MOV SS shadow;
 *  - no exception, NMI, SMI or interrupt on its way in or pending (they
 *    go first);
 *  - not in SMM, not running a nested guest (nor, on SVM, with GIF
 *    clear);
 *  - the vector's priority class above the PPR, computed here from the
 *    TPR and the ISR (KVM's PPR field lags a TPR raised through CR8), and
 *    no higher vector waiting in the IRR (that one goes first);
 *  - running or halted (a halted vCPU is woken: KVM would not wake it
 *    for an event injected this way).
 * QEMU's register copy must be the stale one, or it would overwrite the
 * injection when it is written back.
 */
static HvEmuAeoiResult kvm_hv_emu_aeoi_inject(X86CPU *cpu, uint8_t vector)
{
    CPUState *cs = CPU(cpu);
    struct kvm_vcpu_events ev;
    struct kvm_mp_state mp;
    struct kvm_lapic_state lapic;
    struct kvm_regs regs;
    int tpr, isr, irr;

    if (cs->vcpu_dirty) {
        return HV_AEOI_LATER;
    }
    if (kvm_vcpu_ioctl(cs, KVM_GET_MP_STATE, &mp) < 0 ||
        kvm_vcpu_ioctl(cs, KVM_GET_LAPIC, &lapic) < 0) {
        return HV_AEOI_LATER;
    }
    if (mp.mp_state == KVM_MP_STATE_INIT_RECEIVED ||
        !(kvm_hv_emu_lapic_reg(&lapic, LAPIC_SVR) & LAPIC_SVR_ENABLED)) {
        return HV_AEOI_DROPPED;
    }
    if (mp.mp_state != KVM_MP_STATE_RUNNABLE &&
        mp.mp_state != KVM_MP_STATE_HALTED) {
        return HV_AEOI_LATER;
    }
    tpr = kvm_hv_emu_lapic_reg(&lapic, LAPIC_TPR) & 0xf0;
    isr = kvm_hv_emu_lapic_highest(&lapic, LAPIC_ISR);
    irr = kvm_hv_emu_lapic_highest(&lapic, LAPIC_IRR);
    if ((vector & 0xf0) <= MAX(tpr, isr < 0 ? 0 : isr & 0xf0) ||
        irr > vector) {
        return HV_AEOI_LATER;
    }
    if (kvm_vcpu_ioctl(cs, KVM_GET_REGS, &regs) < 0 ||
        !(regs.rflags & IF_MASK) ||
        kvm_vcpu_ioctl(cs, KVM_GET_VCPU_EVENTS, &ev) < 0 ||
        ev.exception.injected || ev.exception.pending ||
        ev.nmi.injected || ev.nmi.pending || ev.interrupt.injected ||
        ev.interrupt.shadow ||
        ((ev.flags & KVM_VCPUEVENT_VALID_SMM) &&
         (ev.smi.smm || ev.smi.pending)) ||
        ((ev.flags & KVM_VCPUEVENT_VALID_TRIPLE_FAULT) &&
         ev.triple_fault.pending) ||
        kvm_hv_emu_nested_busy(cpu)) {
        return HV_AEOI_LATER;
    }
    /* Only the interrupt changes; NMI, SMM and INIT state are left be. */
    ev.flags &= KVM_VCPUEVENT_VALID_PAYLOAD | KVM_VCPUEVENT_VALID_SHADOW;
    ev.interrupt.injected = 1;
    ev.interrupt.nr = vector;
    ev.interrupt.soft = 0;
    if (kvm_vcpu_ioctl(cs, KVM_SET_VCPU_EVENTS, &ev) < 0) {
        warn_report_once("kvm: cannot inject a Hyper-V AutoEOI interrupt");
        return HV_AEOI_LATER;
    }
    if (mp.mp_state == KVM_MP_STATE_HALTED) {
        mp.mp_state = KVM_MP_STATE_RUNNABLE;
        if (kvm_vcpu_ioctl(cs, KVM_SET_MP_STATE, &mp) < 0) {
            /* Injected all the same: it goes in when the vCPU wakes. */
            warn_report_once("kvm: cannot wake a vCPU for a Hyper-V "
                             "AutoEOI interrupt");
        }
    }
    return HV_AEOI_INJECTED;
}

/*
 * The guest TSC for the user path's TSC page.  KVM calls the host TSC
 * stable when its clock runs from it, synchronized on every CPU.
 */
static bool kvm_hv_emu_tsc_stable(void)
{
    struct kvm_clock_data data = {};

    return kvm_vm_ioctl(kvm_state, KVM_GET_CLOCK, &data) == 0 &&
           (data.flags & KVM_CLOCK_TSC_STABLE);
}

/*
 * KVM's TSC offset of the vCPU (since Linux 5.16) makes the guest TSC
 * exact for any host reading, if KVM does not scale it: the guest TSC
 * read through KVM_GET_MSRS between two host readings must lie between
 * them plus the offset, or the answer is false.  Older kernels: that
 * guest TSC and the host reading after it, which it then trails by at
 * most the ioctl's duration.
 */
static bool kvm_hv_emu_tsc_sample(X86CPU *cpu, uint64_t *host, uint64_t *guest)
{
    static int has_offset = -1;
    CPUState *cs = CPU(cpu);
    uint64_t off = 0, h0, h1;
    struct kvm_device_attr attr = {
        .group = KVM_VCPU_TSC_CTRL,
        .attr = KVM_VCPU_TSC_OFFSET,
        .addr = (uintptr_t)&off,
    };
    struct {
        struct kvm_msrs info;
        struct kvm_msr_entry entry;
    } msr = { .info.nmsrs = 1, .entry.index = MSR_IA32_TSC };

    if (has_offset < 0) {
        has_offset = !kvm_vcpu_ioctl(cs, KVM_HAS_DEVICE_ATTR, &attr);
    }
    if (has_offset && kvm_vcpu_ioctl(cs, KVM_GET_DEVICE_ATTR, &attr)) {
        return false;
    }
    h0 = cpu_get_host_ticks();
    if (kvm_vcpu_ioctl(cs, KVM_GET_MSRS, &msr) != 1) {
        return false;
    }
    h1 = cpu_get_host_ticks();
    if (!has_offset) {
        *host = h1;
        *guest = msr.entry.data;
        return true;
    }
    if ((int64_t)(msr.entry.data - off - h0) < 0 ||
        (int64_t)(h1 - (msr.entry.data - off)) < 0) {
        trace_kvm_hv_emu_tsc_scaled(msr.entry.data, h0, h1, off);
        return false;
    }
    *host = h1;
    *guest = h1 + off;
    return true;
}

static const HvEmuTscAccel kvm_hv_emu_tsc_accel = {
    .stable = kvm_hv_emu_tsc_stable,
    .sample = kvm_hv_emu_tsc_sample,
};

/*
 * At VM creation: pick the path for the whole partition.  The user path
 * traps the Hyper-V MSRs through KVM's MSR filter, so it needs
 * KVM_CAP_X86_USER_SPACE_MSR and KVM_CAP_X86_MSR_FILTER; without them
 * "auto" keeps the kernel path (whose checks then refuse what KVM lacks).
 */
int kvm_hv_choose_path(KVMState *s, bool *user)
{
    bool kernel = kvm_check_extension(s, KVM_CAP_HYPERV_SYNIC2) > 0;
    bool can_user = kvm_vm_check_extension(s, KVM_CAP_X86_USER_SPACE_MSR) &&
                    kvm_vm_check_extension(s, KVM_CAP_X86_MSR_FILTER);

    switch (kvm_hv_path) {
    case KVM_HV_PATH_KERNEL:
        *user = false;
        break;
    case KVM_HV_PATH_USER:
        if (!can_user) {
            error_report("kvm: hyperv=user needs KVM_CAP_X86_USER_SPACE_MSR "
                         "and KVM_CAP_X86_MSR_FILTER, which this KVM lacks");
            return -ENOTSUP;
        }
        *user = true;
        break;
    default:
        *user = !kernel && can_user;
        break;
    }
    x86_hyperv_emu_set_kvm(*user);
    x86_hyperv_emu_set_sint_accel(*user ? &kvm_hv_emu_sint_accel : NULL);
    x86_hyperv_emu_set_hcall_accel(*user ? kvm_hv_emu_hcall : NULL);
    x86_hyperv_emu_set_aeoi_accel(*user ? kvm_hv_emu_aeoi_inject : NULL);
    x86_hyperv_emu_set_tsc_accel(*user ? &kvm_hv_emu_tsc_accel : NULL);
    trace_kvm_hv_path(*user ? "user" : "kernel", kernel);
    return 0;
}

/* The MSR filter's exits for 0x40000000-0x400001ff: true, or #GP. */
bool kvm_hv_emu_rdmsr(X86CPU *cpu, uint32_t msr, uint64_t *val)
{
    return x86_hyperv_emu_rdmsr(cpu, msr, val) == HV_MSR_OK;
}

bool kvm_hv_emu_wrmsr(X86CPU *cpu, uint32_t msr, uint64_t val)
{
    return x86_hyperv_emu_wrmsr(cpu, msr, val) == HV_MSR_OK;
}

/* The Hyper-V CPUID leaves of the user path, for KVM_SET_CPUID2. */
int kvm_hv_emu_fill_cpuid(X86CPU *cpu, struct kvm_cpuid_entry2 *entries)
{
    struct kvm_cpuid_entry2 *c = entries;
    uint32_t fn, max;

    max = HV_CPUID_VENDOR_AND_MAX_FUNCTIONS;
    for (fn = HV_CPUID_VENDOR_AND_MAX_FUNCTIONS; fn <= max; fn++, c++) {
        *c = (struct kvm_cpuid_entry2) { .function = fn };
        x86_hyperv_emu_cpuid(cpu, fn, &c->eax, &c->ebx, &c->ecx, &c->edx);
        if (fn == HV_CPUID_VENDOR_AND_MAX_FUNCTIONS) {
            max = MIN(c->eax, HV_CPUID_NESTED_FEATURES);
        }
    }
    return c - entries;
}
