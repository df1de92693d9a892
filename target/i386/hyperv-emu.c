/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Hyper-V emulated by QEMU itself: the user path of DESIGN.md, for TCG and
 * for a KVM without in-kernel Hyper-V.  This file owns the partition: the
 * Hyper-V CPUID leaves, the MSRs other than time and timers
 * (hyperv-emu-time.c), the hypercall page and its trap, and the delivery of
 * SINTs through the local APIC.  Messages, event flags and connections
 * are the SynIC core's (hw/hyperv/synic.c), shared with the kernel path.
 *
 * The MSR state lives in CPUX86State, where the kernel path keeps it too,
 * so that the migration stream is the same on both paths.
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "exec/address-spaces.h"
#include "exec/memory.h"
#include "hw/core/cpu.h"
#include "hw/i386/apic.h"
#include "hw/i386/apic-msidef.h"
#include "hw/hyperv/hyperv.h"
#include "system/cpus.h"
#include "system/hw_accel.h"
#include "system/kvm.h"
#include "system/reset.h"
#include "system/runstate.h"
#include "system/system.h"
#include "system/tcg.h"
#include "system/qtest.h"
#include "hw/hyperv/hv-log.h"
#include "hyperv-cpu.h"
#include "hyperv-emu-int.h"
#include "kvm/hyperv.h"
#include "trace.h"

#define FEAT(f) BIT_ULL(HYPERV_FEAT_##f)

/*
 * The HYPERCALL MSR: enable, locked, GPA.  Its reserved bits, like those
 * of SCONTROL, SIMP, SIEFP and the SINTs, are "RsvdP" in the TLFS: the
 * guest preserves them, so they are kept as written and never fault (as
 * on KVM, whose behaviour the guest suites check on both paths).
 */
#define HV_HYPERCALL_LOCKED     (1ull << 1)
#define HV_SINT_FIRST_VECTOR    16

/*
 * Partition-wide MSRs.  The guest writes them on any vCPU; they are kept
 * here and copied into every vCPU's env, because the migration stream
 * carries them per vCPU (and an INIT clears a vCPU's env).  BQL.
 */
static struct {
    uint64_t guest_os_id;
    uint64_t hypercall;
    uint64_t crash_params[HV_CRASH_PARAMS];
} hv_part;

static bool hv_emu_kvm_user;

void x86_hyperv_emu_set_kvm(bool user)
{
    hv_emu_kvm_user = user;
}

bool x86_hyperv_emu_kvm(void)
{
    return kvm_enabled() && hv_emu_kvm_user;
}

bool x86_hyperv_emu_enabled(X86CPU *cpu)
{
    return cpu->hv_emu != NULL;
}

/* --- partition-wide MSRs --------------------------------------------- */

static void hv_part_mirror(X86CPU *cpu)
{
    CPUX86State *env = &cpu->env;

    env->msr_hv_guest_os_id = hv_part.guest_os_id;
    env->msr_hv_hypercall = hv_part.hypercall;
    memcpy(env->msr_hv_crash_params, hv_part.crash_params,
           sizeof(hv_part.crash_params));
}

static void hv_part_publish(void)
{
    CPUState *cs;

    CPU_FOREACH(cs) {
        if (X86_CPU(cs)->hv_emu) {
            hv_part_mirror(X86_CPU(cs));
        }
    }
}

/*
 * The hypercall page (TLFS 3.13): "out HV_EMU_HCALL_PORT, eax; ret".  An OUT
 * exits to QEMU on every accelerator and leaves the registers holding the
 * hypercall's inputs as the guest set them; the rest of the page stays as
 * the guest left it.
 */
static const uint8_t hv_emu_hcall_code[] = { 0xe7, HV_EMU_HCALL_PORT, 0xc3 };

static bool hv_emu_fill_hypercall_page(X86CPU *cpu, hwaddr gpa)
{
    uint8_t code[sizeof(hv_emu_hcall_code)];

    memcpy(code, hv_emu_hcall_code, sizeof(code));
    if ((cpu->phys_bits < 64 && gpa >> cpu->phys_bits) ||
        !hyperv_guest_ram_rw(gpa, code, sizeof(code), true)) {
        trace_hv_emu_hypercall_page_bad(gpa);
        return false;
    }
    return true;
}

static HvMsrResult hv_emu_set_hypercall(X86CPU *cpu, uint64_t val)
{
    hwaddr gpa = val & TARGET_PAGE_MASK;

    /* Without a guest OS ID the hypercall page stays off (as on KVM). */
    if (!hv_part.guest_os_id) {
        return HV_MSR_OK;
    }
    /* TLFS 3.13: once locked, the value cannot change. */
    if (hv_part.hypercall & HV_HYPERCALL_LOCKED) {
        return val == hv_part.hypercall ? HV_MSR_OK : HV_MSR_GP;
    }
    if ((val & HV_HYPERCALL_ENABLE) && !hv_emu_fill_hypercall_page(cpu, gpa)) {
        return HV_MSR_GP;
    }
    trace_hv_emu_hypercall_page(val);
    hv_part.hypercall = val;
    hv_part_publish();
    return HV_MSR_OK;
}

static HvMsrResult hv_emu_set_guest_os_id(uint64_t val)
{
    hv_part.guest_os_id = val;
    /* A guest OS ID of 0 turns the hypercall page off (TLFS 3.13). */
    if (!val) {
        hv_part.hypercall &= ~(uint64_t)HV_HYPERCALL_ENABLE;
    }
    hv_part_publish();
    return HV_MSR_OK;
}

/* CRASH_CTL with CrashNotify: the guest panicked; P0..P4 say why. */
static HvMsrResult hv_emu_crash(X86CPU *cpu, uint64_t val)
{
    if (val & HV_CRASH_CTL_NOTIFY) {
        trace_hv_emu_crash(hv_part.crash_params[0], hv_part.crash_params[1]);
        qemu_system_guest_panicked(cpu_get_crash_info(CPU(cpu)));
    }
    return HV_MSR_OK;
}

/* --- SINT delivery through the local APIC ------------------------------ */

/*
 * Raise @vector on @cpu as a fixed, edge-triggered interrupt: an MSI to
 * its APIC ID, which every accelerator's APIC takes.  BQL held.
 */
static void hv_emu_send_msi(X86CPU *cpu, uint8_t vector)
{
    uint64_t addr = APIC_DEFAULT_ADDRESS |
                    ((uint64_t)(cpu->apic_id & 0xff) << MSI_ADDR_DEST_ID_SHIFT);

    address_space_stl_le(&address_space_memory, addr, vector,
                         MEMTXATTRS_UNSPECIFIED, NULL);
}

static bool hv_emu_aeoi_on_kvm(X86CPU *cpu, uint8_t vector);
static void hv_emu_aeoi_hold(X86CPU *cpu, uint8_t vector);

/* The same, but on KVM an AutoEOI vector is held and injected by QEMU. */
void hv_emu_send_vector(X86CPU *cpu, uint8_t vector)
{
    if (hv_emu_aeoi_on_kvm(cpu, vector)) {
        hv_emu_aeoi_hold(cpu, vector);
    } else {
        hv_emu_send_msi(cpu, vector);
    }
}

/*
 * What the SynIC core connects to: each (VP, SINT) has a notifier that
 * raises the SINT and one that tells the core the guest acknowledged it.
 */
typedef struct HvEmuSint {
    X86CPU *cpu;
    uint32_t sint;
    EventNotifier *set;
    EventNotifier *ack;
    int route;              /* the accelerator's MSI route, or -1 */
    bool irqfd;             /* @set is bound to @route */
} HvEmuSint;

static const HvEmuSintAccel *hv_emu_sint_accel;

void x86_hyperv_emu_set_sint_accel(const HvEmuSintAccel *accel)
{
    hv_emu_sint_accel = accel;
}

struct HvEmuSints {
    HvEmuSint sint[HV_SINT_COUNT];
};

static uint64_t hv_emu_sint_msr(X86CPU *cpu, uint32_t sint)
{
    return qatomic_read(&cpu->env.msr_hv_synic_sint[sint]);
}

/* A SINT fires: deliver its vector unless it is masked.  Main loop, BQL. */
static void hv_emu_sint_fire(void *opaque)
{
    HvEmuSint *s = opaque;
    uint64_t msr;

    /*
     * Nothing to do if the unmask emptied the eventfd between the main
     * loop's poll and this handler (hv_emu_set_sint): that raise came while
     * the SINT was masked.
     */
    if (!event_notifier_test_and_clear(s->set)) {
        return;
    }
    msr = hv_emu_sint_msr(s->cpu, s->sint);
    /*
     * As on KVM, a SINT raised while masked or with the SynIC off is
     * lost; the message stays in its slot for the guest to find.
     */
    if ((msr & HV_SINT_MASKED) ||
        !(qatomic_read(&s->cpu->env.msr_hv_synic_control) & HV_SYNIC_ENABLE)) {
        trace_hv_emu_sint_dropped(hyperv_vp_index(CPU(s->cpu)), s->sint);
        return;
    }
    trace_hv_emu_sint_raise(hyperv_vp_index(CPU(s->cpu)), s->sint,
                            msr & HV_SINT_VECTOR_MASK);
    hv_emu_send_vector(s->cpu, msr & HV_SINT_VECTOR_MASK);
}

static bool hv_emu_sint_deliverable(HvEmuSint *s)
{
    return !(hv_emu_sint_msr(s->cpu, s->sint) & HV_SINT_MASKED) &&
           (qatomic_read(&s->cpu->env.msr_hv_synic_control) & HV_SYNIC_ENABLE);
}

/*
 * Bring a connected SINT's delivery in line with its MSR and SCONTROL.
 * With an accelerator route, a deliverable SINT is raised by the kernel
 * straight from the poster's eventfd, with the SINT's vector; otherwise
 * the main loop takes the eventfd and raises the SINT, or drops it while
 * the SINT is masked.  BQL.
 */
static void hv_emu_sint_sync(HvEmuSint *s)
{
    const HvEmuSintAccel *a = hv_emu_sint_accel;
    int fd = s->set ? event_notifier_get_fd(s->set) : -1;
    bool on;

    if (!s->set) {
        return;
    }
    on = s->route >= 0 && hv_emu_sint_deliverable(s) &&
         !hv_emu_aeoi_on_kvm(s->cpu, hv_emu_sint_msr(s->cpu, s->sint) &
                                     HV_SINT_VECTOR_MASK) &&
         !a->route_set(s->route, s->cpu->apic_id,
                       hv_emu_sint_msr(s->cpu, s->sint) & HV_SINT_VECTOR_MASK);
    if (on == s->irqfd) {
        return;
    }
    if (on) {
        qemu_set_fd_handler(fd, NULL, NULL, NULL);
        if (!a->irqfd(s->set, s->route, true)) {
            s->irqfd = true;
            /* A signal the main loop had not taken yet goes out now. */
            return;
        }
    } else {
        a->irqfd(s->set, s->route, false);
        s->irqfd = false;
    }
    qemu_set_fd_handler(fd, hv_emu_sint_fire, NULL, s);
}

static void hv_emu_sints_sync(X86CPU *cpu)
{
    uint32_t sint;

    for (sint = 0; cpu->hv_emu->sints && sint < HV_SINT_COUNT; sint++) {
        hv_emu_sint_sync(&cpu->hv_emu->sints->sint[sint]);
    }
}

static int hv_emu_sint_connect(uint32_t vp_index, uint32_t sint,
                               EventNotifier *set, EventNotifier *ack)
{
    CPUState *cs = qemu_get_cpu(vp_index);
    X86CPU *cpu = cs ? X86_CPU(cs) : NULL;
    HvEmuSint *s;

    if (!cpu || !cpu->hv_emu || !cpu->hv_emu->sints || sint >= HV_SINT_COUNT) {
        return -ENOENT;
    }
    s = &cpu->hv_emu->sints->sint[sint];
    if (s->set) {
        return -EBUSY;
    }
    s->set = set;
    s->ack = ack;
    s->route = hv_emu_sint_accel ? hv_emu_sint_accel->route_add() : -1;
    s->irqfd = false;
    qemu_set_fd_handler(event_notifier_get_fd(set), hv_emu_sint_fire, NULL, s);
    hv_emu_sint_sync(s);
    return vp_index * HV_SINT_COUNT + sint;
}

/* Stop delivering @s: no fd handler, no irqfd, no route.  BQL. */
static void hv_emu_sint_release(HvEmuSint *s)
{
    qemu_set_fd_handler(event_notifier_get_fd(s->set), NULL, NULL, NULL);
    if (s->irqfd) {
        hv_emu_sint_accel->irqfd(s->set, s->route, false);
        s->irqfd = false;
    }
    if (s->route >= 0) {
        hv_emu_sint_accel->route_del(s->route);
        s->route = -1;
    }
    s->set = NULL;
    s->ack = NULL;
}

static void hv_emu_sint_disconnect(int handle, EventNotifier *set)
{
    CPUState *cs = qemu_get_cpu(handle / HV_SINT_COUNT);
    HvEmuSint *s;

    qemu_set_fd_handler(event_notifier_get_fd(set), NULL, NULL, NULL);
    if (!cs || !X86_CPU(cs)->hv_emu || !X86_CPU(cs)->hv_emu->sints) {
        return;
    }
    s = &X86_CPU(cs)->hv_emu->sints->sint[handle % HV_SINT_COUNT];
    /* Released with an unplugged vCPU; the index may be another's now. */
    if (s->set == set) {
        hv_emu_sint_release(s);
    }
}

static const HvSintRouteOps hv_emu_sint_ops = {
    .connect = hv_emu_sint_connect,
    .disconnect = hv_emu_sint_disconnect,
};

/* The guest acknowledged @sint (EOM, EOI, unmask): retry staged messages. */
static void hv_emu_sint_ack(X86CPU *cpu, uint32_t sint)
{
    HvEmuSint *s = &cpu->hv_emu->sints->sint[sint];
    EventNotifier *ack = qatomic_read(&s->ack);

    if (ack) {
        event_notifier_set(ack);
    }
}

/* An EOI, or an automatic one, of @vector on this vCPU's APIC.  BQL. */
static void hv_emu_vector_done(void *opaque, int vector)
{
    X86CPU *cpu = opaque;
    uint32_t sint;

    for (sint = 0; sint < HV_SINT_COUNT; sint++) {
        uint64_t msr = hv_emu_sint_msr(cpu, sint);

        if (!(msr & HV_SINT_MASKED) &&
            (msr & HV_SINT_VECTOR_MASK) == vector) {
            hv_emu_sint_ack(cpu, sint);
        }
    }
}

/*
 * Tell QEMU's own APIC (TCG) which vectors are SINTs: those of unmasked
 * SINTs report their end of service; those with AutoEOI are accepted
 * without entering service.  With KVM the local APIC is always KVM's
 * (QEMU has no userspace APIC for KVM), which can do neither: EOM drives
 * the retries, and AutoEOI vectors are kept away from it (held and
 * injected by QEMU, hv_emu_aeoi_hold()).  BQL.
 */
static void hv_emu_aeoi_release(HvEmuCpu *u);

static void hv_emu_update_apic(X86CPU *cpu)
{
    uint32_t auto_eoi[8] = {}, notify[8] = {};
    DECLARE_BITMAP(aeoi, 256);
    uint32_t sint;

    if (!cpu->apic_state) {
        return;
    }
    for (sint = 0; sint < HV_SINT_COUNT; sint++) {
        uint64_t msr = hv_emu_sint_msr(cpu, sint);
        unsigned vec = msr & HV_SINT_VECTOR_MASK;

        if (msr & HV_SINT_MASKED) {
            continue;
        }
        notify[vec / 32] |= 1u << (vec % 32);
        if (msr & HV_SINT_AUTO_EOI) {
            auto_eoi[vec / 32] |= 1u << (vec % 32);
        }
    }
    if (kvm_enabled()) {
        bitmap_zero(aeoi, 256);
        for (sint = 0; sint < 256; sint++) {
            if (auto_eoi[sint / 32] & (1u << (sint % 32))) {
                set_bit(sint, aeoi);
            }
        }
        if (!bitmap_equal(cpu->hv_emu->aeoi_vectors, aeoi, 256)) {
            bitmap_copy(cpu->hv_emu->aeoi_vectors, aeoi, 256);
            /* Any SINT on a vector that changed sides moves with it. */
            hv_emu_sints_sync(cpu);
            hv_emu_aeoi_release(cpu->hv_emu);
        }
        return;
    }
    apic_set_hv_vectors(cpu->apic_state, auto_eoi, notify, hv_emu_vector_done,
                        cpu);
}

/*
 * --- AutoEOI on KVM ------------------------------------------------------
 *
 * KVM's local APIC puts every vector it delivers in service until the
 * guest EOIs it, and a guest using AutoEOI never does.  So on KVM an
 * AutoEOI vector never goes to that APIC: a raise marks it held, and the
 * vCPU's own thread injects it, when the vCPU can take an interrupt of
 * its priority, as one the APIC already acknowledged (the accelerator's
 * hv_emu_aeoi_inject).  Until then it is retried at a growing interval,
 * the vCPU being kicked out of the guest each time: KVM tells userspace
 * nothing when interrupts open up.  Held vectors coalesce as the IRR
 * does.  docs/devel/autoeoi-on-kvm.md has the reasoning.  All under the
 * BQL.
 */
#define HV_AEOI_RETRY_MIN_NS    (20 * SCALE_US)
#define HV_AEOI_RETRY_MAX_NS    (2 * SCALE_MS)

static HvEmuAeoiInject *hv_emu_aeoi_inject;

void x86_hyperv_emu_set_aeoi_accel(HvEmuAeoiInject *inject)
{
    hv_emu_aeoi_inject = inject;
}

/* Does QEMU hold and inject @vector of @cpu (AutoEOI on KVM)? */
static bool hv_emu_aeoi_on_kvm(X86CPU *cpu, uint8_t vector)
{
    return hv_emu_aeoi_inject && kvm_enabled() && cpu->hv_emu &&
           test_bit(vector, cpu->hv_emu->aeoi_vectors);
}

static void hv_emu_aeoi_work(CPUState *cs, run_on_cpu_data data);

static void hv_emu_aeoi_queue(HvEmuCpu *u)
{
    CPUState *cs = CPU(u->cpu);

    /* A stopped VM takes none (hv_emu_aeoi_vm_state asks again). */
    if (!u->aeoi_queued && !cs->unplug && runstate_is_running()) {
        u->aeoi_queued = true;
        /* Kicks the vCPU out of KVM_RUN, where the work then runs. */
        async_run_on_cpu(cs, hv_emu_aeoi_work, RUN_ON_CPU_NULL);
    }
}

static void hv_emu_aeoi_retry(void *opaque)
{
    hv_emu_aeoi_queue(opaque);
}

static void hv_emu_aeoi_vm_state(void *opaque, bool running, RunState state)
{
    HvEmuCpu *u = opaque;

    if (running && find_first_bit(u->aeoi_held, 256) < 256) {
        u->aeoi_backoff_ns = HV_AEOI_RETRY_MIN_NS;
        hv_emu_aeoi_queue(u);
    }
}

/*
 * Vectors held that are not AutoEOI any more (the guest reprogrammed the
 * SINT, as KVM's own SynIC decides at acceptance): the APIC's, as MSIs.
 */
static void hv_emu_aeoi_release(HvEmuCpu *u)
{
    int v;

    for (v = find_first_bit(u->aeoi_held, 256); v < 256;
         v = find_next_bit(u->aeoi_held, 256, v + 1)) {
        if (!test_bit(v, u->aeoi_vectors)) {
            clear_bit(v, u->aeoi_held);
            hv_emu_send_msi(u->cpu, v);
        }
    }
}

/* The vCPU's thread, outside KVM_RUN: inject the highest held vector. */
static void hv_emu_aeoi_work(CPUState *cs, run_on_cpu_data data)
{
    X86CPU *cpu = X86_CPU(cs);
    HvEmuCpu *u = cpu->hv_emu;
    int vector;

    if (!u) {
        return;
    }
    u->aeoi_queued = false;
    hv_emu_aeoi_release(u);
    vector = find_last_bit(u->aeoi_held, 256);
    if (vector >= 256 || !runstate_is_running()) {
        return;
    }
    switch (hv_emu_aeoi_inject(cpu, vector)) {
    case HV_AEOI_INJECTED:
        trace_hv_emu_aeoi_inject(hyperv_vp_index(cs), vector);
        clear_bit(vector, u->aeoi_held);
        u->aeoi_backoff_ns = HV_AEOI_RETRY_MIN_NS;
        /* Accepted, and out of service at once: the SINT is acked. */
        hv_emu_vector_done(cpu, vector);
        break;
    case HV_AEOI_DROPPED:
        /* What the APIC would do: a disabled one, or INIT, loses them. */
        trace_hv_emu_aeoi_dropped(hyperv_vp_index(cs), vector);
        bitmap_zero(u->aeoi_held, 256);
        return;
    case HV_AEOI_LATER:
        trace_hv_emu_aeoi_wait(hyperv_vp_index(cs), vector,
                               u->aeoi_backoff_ns);
        break;
    }
    if (find_first_bit(u->aeoi_held, 256) >= 256) {
        return;
    }
    /* One injection per entry; the next one once the vCPU ran again. */
    timer_mod(u->aeoi_timer, qemu_clock_get_ns(QEMU_CLOCK_REALTIME) +
                             u->aeoi_backoff_ns);
    u->aeoi_backoff_ns = MIN(u->aeoi_backoff_ns * 2, HV_AEOI_RETRY_MAX_NS);
}

static void hv_emu_aeoi_hold(X86CPU *cpu, uint8_t vector)
{
    HvEmuCpu *u = cpu->hv_emu;

    trace_hv_emu_aeoi_hold(hyperv_vp_index(CPU(cpu)), vector);
    set_bit(vector, u->aeoi_held);
    if (!timer_pending(u->aeoi_timer)) {
        u->aeoi_backoff_ns = HV_AEOI_RETRY_MIN_NS;
        hv_emu_aeoi_queue(u);
    }
}

/* Reset and unplug: what was held is gone, as an APIC's IRR at INIT. */
static void hv_emu_aeoi_clear(HvEmuCpu *u)
{
    bitmap_zero(u->aeoi_held, 256);
    if (u->aeoi_timer) {
        timer_del(u->aeoi_timer);
    }
}

/* --- SynIC MSRs --------------------------------------------------------- */

/*
 * Apply SCONTROL, SIMP and SIEFP to the SynIC core as the kernel path
 * does, then bring the SINTs' delivery in line.  BQL.
 */
static void hv_emu_synic_update(X86CPU *cpu)
{
    hyperv_x86_synic_update(cpu);
    hv_emu_sints_sync(cpu);
}

static void hv_emu_synic_update_safe(CPUState *cs, run_on_cpu_data data)
{
    bql_lock();
    hv_emu_synic_update(X86_CPU(cs));
    bql_unlock();
}

/*
 * Turning the SynIC on: a raise that came while it was off is lost (see
 * hv_emu_sint_fire), but the main loop may not have taken it from the
 * eventfd yet, and the fd handler or an irqfd bound by the update would
 * then let it through.  Empty them, with the BQL (which the main loop
 * needs to take an eventfd) held until SCONTROL says "on", so that a
 * raise after this point is delivered.
 */
static void hv_emu_synic_enabling(X86CPU *cpu, uint64_t val)
{
    uint32_t sint;

    for (sint = 0; cpu->hv_emu->sints && sint < HV_SINT_COUNT; sint++) {
        HvEmuSint *s = &cpu->hv_emu->sints->sint[sint];

        if (s->set) {
            event_notifier_test_and_clear(s->set);
        }
    }
    qatomic_set(&cpu->env.msr_hv_synic_control, val);
}

static HvMsrResult hv_emu_set_synic_reg(X86CPU *cpu, uint64_t *reg,
                                        uint64_t val)
{
    if (reg == &cpu->env.msr_hv_synic_control &&
        (val & HV_SYNIC_ENABLE) && !(qatomic_read(reg) & HV_SYNIC_ENABLE)) {
        BQL_LOCK_GUARD();
        hv_emu_synic_enabling(cpu, val);
    } else {
        qatomic_set(reg, val);
    }
    if (kvm_enabled()) {
        /*
         * Moving an overlay page changes KVM's memory slots, which KVM
         * does by deleting and re-adding them: a vCPU touching that RAM
         * meanwhile would see a hole.  So the map changes while every
         * vCPU is out of the guest, before this one goes back in.
         */
        async_safe_run_on_cpu(CPU(cpu), hv_emu_synic_update_safe,
                              RUN_ON_CPU_NULL);
        cpu_exit(CPU(cpu));
    } else {
        BQL_LOCK_GUARD();
        hv_emu_synic_update(cpu);
    }
    return HV_MSR_OK;
}

static HvMsrResult hv_emu_set_sint(X86CPU *cpu, uint32_t sint, uint64_t val)
{
    uint64_t old = hv_emu_sint_msr(cpu, sint);

    /* TLFS 11.9: vectors 0-15 are invalid for an unmasked SINT. */
    if (!(val & HV_SINT_MASKED) &&
        (val & HV_SINT_VECTOR_MASK) < HV_SINT_FIRST_VECTOR) {
        return HV_MSR_GP;
    }
    {
        HvEmuSint *s;

        BQL_LOCK_GUARD();
        s = &cpu->hv_emu->sints->sint[sint];
        /*
         * A raise while the SINT was masked is lost, as on KVM.  One that
         * the main loop has not taken yet still sits in the eventfd, and
         * the unmask below would let it through (the fd handler then sees
         * the SINT unmasked; an irqfd bound to it fires at once).  The
         * main loop takes the eventfd only with the BQL, so nothing else
         * clears it meanwhile.
         */
        if ((old & HV_SINT_MASKED) && !(val & HV_SINT_MASKED) && s->set) {
            event_notifier_test_and_clear(s->set);
        }
        qatomic_set(&cpu->env.msr_hv_synic_sint[sint], val);
        hv_emu_update_apic(cpu);
        hv_emu_sint_sync(s);
        /*
         * Unmasking is an acknowledgement too: a message staged while the
         * SINT was masked is retried (the in-kernel APIC of KVM-U shows
         * no EOI, so this and EOM are all the retries it gets).
         */
        if ((old & HV_SINT_MASKED) && !(val & HV_SINT_MASKED)) {
            hv_emu_sint_ack(cpu, sint);
        }
    }
    return HV_MSR_OK;
}

/* EOM (TLFS 11.10.3): the guest emptied a slot; every SINT retries. */
static HvMsrResult hv_emu_eom(X86CPU *cpu)
{
    uint32_t sint;

    for (sint = 0; sint < HV_SINT_COUNT; sint++) {
        hv_emu_sint_ack(cpu, sint);
    }
    return HV_MSR_OK;
}

/* --- MSR dispatch ------------------------------------------------------- */

/*
 * The vCPU's run time, in 100 ns units, as KVM counts it: the CPU time of
 * the thread that runs it (under round-robin TCG, shared by all vCPUs).
 * That needs POSIX thread CPU-time clocks (_POSIX_THREAD_CPUTIME; -1 means
 * the host has none, e.g. macOS) and a pthread behind QemuThread (not on
 * Windows).  Elsewhere the VM's virtual time stands in: it runs while the
 * VM runs, an upper bound of what the vCPU used.
 */
#if defined(CONFIG_POSIX) && defined(_POSIX_THREAD_CPUTIME) && \
    _POSIX_THREAD_CPUTIME >= 0
static int64_t hv_emu_thread_runtime(X86CPU *cpu)
{
    CPUState *cs = CPU(cpu);
    struct timespec ts;
    clockid_t cid;

    if (!cs->thread ||
        pthread_getcpuclockid(cs->thread->thread, &cid) ||
        clock_gettime(cid, &ts)) {
        return 0;
    }
    return ((int64_t)ts.tv_sec * NANOSECONDS_PER_SECOND + ts.tv_nsec) / 100;
}
#else
static int64_t hv_emu_thread_runtime(X86CPU *cpu)
{
    return qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) / 100;
}
#endif

static uint64_t hv_emu_runtime(X86CPU *cpu)
{
    return hv_emu_thread_runtime(cpu) + cpu->hv_emu->runtime_offset;
}

static HvMsrResult hv_emu_rd_synic(X86CPU *cpu, uint32_t msr, uint64_t *val)
{
    CPUX86State *env = &cpu->env;

    if (!hv_emu_offered(cpu, HYPERV_FEAT_SYNIC)) {
        return HV_MSR_GP;
    }
    switch (msr) {
    case HV_X64_MSR_SCONTROL:
        *val = env->msr_hv_synic_control;
        return HV_MSR_OK;
    case HV_X64_MSR_SVERSION:
        *val = HV_SYNIC_VERSION;
        return HV_MSR_OK;
    case HV_X64_MSR_SIEFP:
        *val = env->msr_hv_synic_evt_page;
        return HV_MSR_OK;
    case HV_X64_MSR_SIMP:
        *val = env->msr_hv_synic_msg_page;
        return HV_MSR_OK;
    case HV_X64_MSR_EOM:
        *val = 0;
        return HV_MSR_OK;
    case HV_X64_MSR_SINT0 ... HV_X64_MSR_SINT15:
        *val = hv_emu_sint_msr(cpu, msr - HV_X64_MSR_SINT0);
        return HV_MSR_OK;
    default:
        return HV_MSR_GP;
    }
}

static HvMsrResult hv_emu_wr_synic(X86CPU *cpu, uint32_t msr, uint64_t val)
{
    CPUX86State *env = &cpu->env;

    if (!hv_emu_offered(cpu, HYPERV_FEAT_SYNIC)) {
        return HV_MSR_GP;
    }
    switch (msr) {
    case HV_X64_MSR_SCONTROL:
        return hv_emu_set_synic_reg(cpu, &env->msr_hv_synic_control, val);
    case HV_X64_MSR_SIEFP:
        return hv_emu_set_synic_reg(cpu, &env->msr_hv_synic_evt_page, val);
    case HV_X64_MSR_SIMP:
        return hv_emu_set_synic_reg(cpu, &env->msr_hv_synic_msg_page, val);
    case HV_X64_MSR_EOM:
        return hv_emu_eom(cpu);
    case HV_X64_MSR_SINT0 ... HV_X64_MSR_SINT15:
        return hv_emu_set_sint(cpu, msr - HV_X64_MSR_SINT0, val);
    default:
        /* SVERSION is read-only. */
        return HV_MSR_GP;
    }
}

HvMsrResult x86_hyperv_emu_rdmsr(X86CPU *cpu, uint32_t msr, uint64_t *val)
{
    HvMsrResult r;

    if (!cpu->hv_emu || msr - HV_EMU_MSR_BASE >= HV_EMU_MSR_COUNT) {
        return HV_MSR_UNHANDLED;
    }
    r = hv_emu_time_rdmsr(cpu, msr, val);
    if (r == HV_MSR_UNHANDLED) {
        r = hv_emu_apic_rdmsr(cpu, msr, val);
    }
    if (r != HV_MSR_UNHANDLED) {
        goto out;
    }
    r = HV_MSR_OK;
    switch (msr) {
    case HV_X64_MSR_GUEST_OS_ID:
        *val = hv_part.guest_os_id;
        break;
    case HV_X64_MSR_HYPERCALL:
        *val = hv_part.hypercall;
        break;
    case HV_X64_MSR_VP_INDEX:
        r = hv_emu_offered(cpu, HYPERV_FEAT_VPINDEX) ? HV_MSR_OK : HV_MSR_GP;
        *val = hyperv_vp_index(CPU(cpu));
        break;
    case HV_X64_MSR_RESET:
        r = hv_emu_offered(cpu, HYPERV_FEAT_RESET) ? HV_MSR_OK : HV_MSR_GP;
        *val = 0;
        break;
    case HV_X64_MSR_VP_RUNTIME:
        r = hv_emu_offered(cpu, HYPERV_FEAT_RUNTIME) ? HV_MSR_OK : HV_MSR_GP;
        *val = hv_emu_runtime(cpu);
        break;
    case HV_X64_MSR_SCONTROL ... HV_X64_MSR_SINT15:
        r = hv_emu_rd_synic(cpu, msr, val);
        break;
    case HV_X64_MSR_CRASH_P0 ... HV_X64_MSR_CRASH_P4:
        r = hv_emu_offered(cpu, HYPERV_FEAT_CRASH) ? HV_MSR_OK : HV_MSR_GP;
        *val = hv_part.crash_params[msr - HV_X64_MSR_CRASH_P0];
        break;
    case HV_X64_MSR_CRASH_CTL:
        r = hv_emu_offered(cpu, HYPERV_FEAT_CRASH) ? HV_MSR_OK : HV_MSR_GP;
        *val = HV_CRASH_CTL_NOTIFY;
        break;
    default:
        r = HV_MSR_GP;
        break;
    }
out:
    trace_hv_emu_rdmsr(hyperv_vp_index(CPU(cpu)), msr,
                       r == HV_MSR_OK ? *val : 0, r == HV_MSR_GP);
    return r;
}

static HvMsrResult hv_emu_wrmsr(X86CPU *cpu, uint32_t msr, uint64_t val)
{
    switch (msr) {
    case HV_X64_MSR_GUEST_OS_ID:
        return hv_emu_set_guest_os_id(val);
    case HV_X64_MSR_HYPERCALL:
        return hv_emu_set_hypercall(cpu, val);
    case HV_X64_MSR_RESET:
        if (!hv_emu_offered(cpu, HYPERV_FEAT_RESET)) {
            return HV_MSR_GP;
        }
        if (val & 1) {
            trace_hv_emu_reset(hyperv_vp_index(CPU(cpu)));
            qemu_system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
        }
        return HV_MSR_OK;
    case HV_X64_MSR_SCONTROL ... HV_X64_MSR_SINT15:
        return hv_emu_wr_synic(cpu, msr, val);
    case HV_X64_MSR_CRASH_P0 ... HV_X64_MSR_CRASH_P4:
        if (!hv_emu_offered(cpu, HYPERV_FEAT_CRASH)) {
            return HV_MSR_GP;
        }
        hv_part.crash_params[msr - HV_X64_MSR_CRASH_P0] = val;
        hv_part_publish();
        return HV_MSR_OK;
    case HV_X64_MSR_CRASH_CTL:
        return hv_emu_offered(cpu, HYPERV_FEAT_CRASH) ? hv_emu_crash(cpu, val) :
                                                   HV_MSR_GP;
    default:
        /* VP_INDEX, VP_RUNTIME, SVERSION and unknown MSRs. */
        return HV_MSR_GP;
    }
}

HvMsrResult x86_hyperv_emu_wrmsr(X86CPU *cpu, uint32_t msr, uint64_t val)
{
    HvMsrResult r;

    if (!cpu->hv_emu || msr - HV_EMU_MSR_BASE >= HV_EMU_MSR_COUNT) {
        return HV_MSR_UNHANDLED;
    }
    r = hv_emu_time_wrmsr(cpu, msr, val, false);
    if (r == HV_MSR_UNHANDLED) {
        r = hv_emu_apic_wrmsr(cpu, msr, val);
    }
    if (r == HV_MSR_UNHANDLED) {
        /* Partition state and the panic/reset requests want the BQL. */
        BQL_LOCK_GUARD();
        r = hv_emu_wrmsr(cpu, msr, val);
    }
    trace_hv_emu_wrmsr(hyperv_vp_index(CPU(cpu)), msr, val, r == HV_MSR_GP);
    return r;
}

/* --- hypercalls --------------------------------------------------------- */

/*
 * Decode and answer a hypercall (TLFS 3.7/3.8).  In 64-bit mode RCX is the
 * input value, RDX and R8 the input and output GPAs (or fast parameters),
 * and RAX gets the result; in 32-bit mode the same travel as EDX:EAX,
 * EBX:ECX, EDI:ESI and EDX:EAX.
 */
static uint64_t hv_emu_hcall_decode(X86CPU *cpu, const HvEmuInput *input)
{
    uint64_t control = input->control, in = input->gpa, out = input->out;
    uint16_t code = control & HV_HYPERCALL_CODE_MASK;
    bool fast = control & HV_HYPERCALL_FAST;
    bool rep = control & (HV_HYPERCALL_REP_COUNT_MASK |
                          HV_HYPERCALL_REP_START_MASK);

    trace_hv_emu_hcall(hyperv_vp_index(CPU(cpu)), control, in, out);
    if (control & HV_HYPERCALL_RSVD_MASK) {
        return HV_STATUS_INVALID_HYPERCALL_INPUT;
    }
    switch (code) {
    case HV_NOTIFY_LONG_SPIN_WAIT:
    case HV_POST_MESSAGE:
    case HV_SIGNAL_EVENT:
        /* Simple calls: no reps, no variable header. */
        if (rep || (control & HV_HYPERCALL_VARHEAD_MASK)) {
            return HV_STATUS_INVALID_HYPERCALL_INPUT;
        }
        if (code == HV_NOTIFY_LONG_SPIN_WAIT) {
            return HV_STATUS_SUCCESS;
        }
        if (!hv_emu_offered(cpu, HYPERV_FEAT_SYNIC)) {
            return HV_STATUS_ACCESS_DENIED;
        }
        return hyperv_hcall(code, fast, in, out, false);
    case HV_SEND_SYNTHETIC_CLUSTER_IPI:
    case HV_SEND_SYNTHETIC_CLUSTER_IPI_EX:
        return hv_emu_hcall_ipi(cpu, input);
    case HV_FLUSH_VIRTUAL_ADDRESS_SPACE:
    case HV_FLUSH_VIRTUAL_ADDRESS_LIST:
    case HV_FLUSH_VIRTUAL_ADDRESS_SPACE_EX:
    case HV_FLUSH_VIRTUAL_ADDRESS_LIST_EX:
        return hv_emu_hcall_flush(cpu, input);
    default:
        return HV_STATUS_INVALID_HYPERCALL_CODE;
    }
}

bool x86_hyperv_emu_hcall_wants_xmm(X86CPU *cpu, uint64_t control)
{
    if (!(control & HV_HYPERCALL_FAST) ||
        !hv_emu_offered(cpu, HYPERV_FEAT_XMM_INPUT)) {
        return false;
    }
    switch (control & HV_HYPERCALL_CODE_MASK) {
    case HV_SEND_SYNTHETIC_CLUSTER_IPI_EX:
    case HV_FLUSH_VIRTUAL_ADDRESS_SPACE:
    case HV_FLUSH_VIRTUAL_ADDRESS_LIST:
    case HV_FLUSH_VIRTUAL_ADDRESS_SPACE_EX:
    case HV_FLUSH_VIRTUAL_ADDRESS_LIST_EX:
        return true;
    default:
        return false;
    }
}

/*
 * The call's input as the registers give it.  XMM input exists in 64-bit
 * mode only (TLFS 3.8), and only for a guest offered hv-xmm-input; the
 * registers were fetched when x86_hyperv_emu_hcall_wants_xmm() said so.
 */
static void hv_emu_input_init(X86CPU *cpu, const HvEmuHcallRegs *r,
                              HvEmuInput *in)
{
    *in = (HvEmuInput) { .fast_words = 2 };
    if (r->code64) {
        in->control = r->rcx;
        in->gpa = r->rdx;
        in->out = r->r8;
    } else {
        in->control = deposit64((uint32_t)r->rax, 32, 32, r->rdx);
        in->gpa = deposit64((uint32_t)r->rcx, 32, 32, r->rbx);
        in->out = deposit64((uint32_t)r->rsi, 32, 32, r->rdi);
    }
    in->fast[0] = in->gpa;
    in->fast[1] = in->out;
    if (r->code64 && x86_hyperv_emu_hcall_wants_xmm(cpu, in->control)) {
        /* Without them the call reads past RDX and R8, and is refused. */
        if (!r->has_xmm) {
            return;
        }
        memcpy(&in->fast[2], r->xmm, sizeof(r->xmm));
        in->fast_words = HV_EMU_FAST_REGS_MAX;
    }
}

bool x86_hyperv_emu_hypercall(X86CPU *cpu, HvEmuHcallRegs *r)
{
    HvEmuInput input;
    uint64_t result;

    /*
     * Hypercalls exist for CPL 0 in protected mode only (TLFS 3.6); KVM
     * raises #UD elsewhere, and so does the caller.
     */
    if (!r->privileged) {
        trace_hv_emu_hcall_ud(hyperv_vp_index(CPU(cpu)));
        return false;
    }
    hv_emu_input_init(cpu, r, &input);
    result = hv_emu_hcall_decode(cpu, &input);
    trace_hv_emu_hcall_result(hyperv_vp_index(CPU(cpu)), result);
    if (r->code64) {
        r->rax = result;
    } else {
        r->rax = (uint32_t)result;
        r->rdx = result >> 32;
    }
    return true;
}

static bool hv_emu_privileged(CPUX86State *env)
{
    return !(env->hflags & HF_CPL_MASK) && (env->cr[0] & CR0_PE_MASK) &&
           !(env->eflags & VM_MASK);
}

bool x86_hyperv_emu_hcall_ud(X86CPU *cpu)
{
    return cpu->hv_emu && hv_part.guest_os_id && !hv_emu_privileged(&cpu->env);
}

static bool (*hv_emu_hcall_accel)(X86CPU *cpu);

void x86_hyperv_emu_set_hcall_accel(bool (*hcall)(X86CPU *cpu))
{
    hv_emu_hcall_accel = hcall;
}

/* The generic way: the registers in env, fetched first if need be. */
static void hv_emu_hypercall_env(X86CPU *cpu)
{
    CPUX86State *env = &cpu->env;
    HvEmuHcallRegs r;
    int i;

    cpu_synchronize_state(CPU(cpu));
    r = (HvEmuHcallRegs) {
        .privileged = hv_emu_privileged(env),
        .code64 = env->hflags & HF_CS64_MASK,
        .rax = env->regs[R_EAX], .rbx = env->regs[R_EBX],
        .rcx = env->regs[R_ECX], .rdx = env->regs[R_EDX],
        .rsi = env->regs[R_ESI], .rdi = env->regs[R_EDI],
        .r8 = env->regs[8], .has_xmm = true,
    };
    for (i = 0; i < ARRAY_SIZE(r.xmm) / 2; i++) {
        r.xmm[2 * i] = env->xmm_regs[i].ZMM_Q(0);
        r.xmm[2 * i + 1] = env->xmm_regs[i].ZMM_Q(1);
    }
    if (!x86_hyperv_emu_hypercall(cpu, &r)) {
        /*
         * #UD, delivered at the next entry (KVM: after the OUT completes,
         * so it reports the instruction after it).  TCG raised it already.
         */
        env->exception_nr = EXCP06_ILLOP;
        env->exception_injected = 1;
        env->has_error_code = 0;
        env->error_code = 0;
        return;
    }
    env->regs[R_EAX] = r.rax;
    env->regs[R_EDX] = r.rdx;
}

/*
 * The hypercall page's OUT.  Runs on the calling vCPU's thread with the
 * BQL.  An access that is not from a user-path vCPU is ignored.
 */
static void hv_emu_hcall_write(void *opaque, hwaddr addr, uint64_t val,
                               unsigned size)
{
    CPUState *cs = current_cpu;

    if (!cs || !object_dynamic_cast(OBJECT(cs), TYPE_X86_CPU) ||
        !X86_CPU(cs)->hv_emu) {
        return;
    }
    /*
     * Hypercalls exist once the guest has said who it is (TLFS 3.13; KVM's
     * kvm_hv_hypercall_enabled()).  Before that the port is an unassigned
     * one: the OUT changes nothing.
     */
    if (!hv_part.guest_os_id) {
        trace_hv_emu_hypercall_no_os_id();
        return;
    }
    if (!hv_emu_hcall_accel || !hv_emu_hcall_accel(X86_CPU(cs))) {
        hv_emu_hypercall_env(X86_CPU(cs));
    }
}

static uint64_t hv_emu_hcall_read(void *opaque, hwaddr addr, unsigned size)
{
    return 0;
}

static const MemoryRegionOps hv_emu_hcall_ops = {
    .read = hv_emu_hcall_read,
    .write = hv_emu_hcall_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 1,
        .max_access_size = 4,
    },
};

/*
 * A system reset: the partition starts over, on every vCPU's copy too,
 * and VP_RUNTIME counts from 0 again (KVM zeroes it at reset as well).
 * Not in x86_hyperv_emu_reset(): an INIT under TCG leaves run time alone.
 */
static void hv_emu_partition_reset(void *opaque)
{
    CPUState *cs;

    memset(&hv_part, 0, sizeof(hv_part));
    hv_part_publish();
    CPU_FOREACH(cs) {
        X86CPU *cpu = X86_CPU(cs);

        if (cpu->hv_emu) {
            cpu->hv_emu->runtime_offset = -hv_emu_thread_runtime(cpu);
        }
    }
}

static MemoryRegion hv_emu_hcall_port;

/*
 * Once every device is in place: the hypercall port must be ours.  A
 * user's device at 0x5c-0x5f would be silently shadowed (or shadow the
 * hypercalls), so refuse to start instead.
 */
static void hv_emu_check_hcall_port(Notifier *n, void *data)
{
    hwaddr p;

    for (p = 0; p < memory_region_size(&hv_emu_hcall_port); p++) {
        MemoryRegionSection sec = memory_region_find(get_system_io(),
                                                     HV_EMU_HCALL_PORT + p, 1);
        bool ours = sec.mr == &hv_emu_hcall_port;

        if (sec.mr) {
            memory_region_unref(sec.mr);
        }
        if (!ours) {
            error_report("I/O port 0x%" HWADDR_PRIx " is taken by '%s', but "
                         "QEMU's Hyper-V hypercall page needs ports "
                         "0x%x-0x%x (hv-* options without in-kernel Hyper-V)",
                         HV_EMU_HCALL_PORT + p,
                         sec.mr ? memory_region_name(sec.mr) : "?",
                         HV_EMU_HCALL_PORT, HV_EMU_HCALL_PORT + 3);
            exit(1);
        }
    }
}

/* The partition's hypercall port and reset, once for all vCPUs. */
static void hv_emu_partition_init(void)
{
    static Notifier port_check = { .notify = hv_emu_check_hcall_port };
    MemoryRegion *port = &hv_emu_hcall_port;
    static bool done;

    if (done) {
        return;
    }
    done = true;
    memory_region_init_io(port, NULL, &hv_emu_hcall_ops, NULL,
                          "hyperv-hypercall", 4);
    memory_region_add_subregion(get_system_io(), HV_EMU_HCALL_PORT, port);
    qemu_add_machine_init_done_notifier(&port_check);
    qemu_register_reset(hv_emu_partition_reset, NULL);
}

/* --- CPUID -------------------------------------------------------------- */

/*
 * Leaves 0x40000003 and 0x40000004: the bits of the features enabled (the
 * shared table in hyperv-cpu.c), and what every partition of ours has.
 */
static void hv_emu_cpuid_features(X86CPU *cpu, uint32_t *eax, uint32_t *ebx,
                                  uint32_t *edx)
{
    uint64_t f = cpu->hv_emu->features;

    /* Every partition may use the hypercall page. */
    *eax = x86_hyperv_cpuid_bits_of(f, HV_CPUID_FEATURES, R_EAX) |
           HV_HYPERCALL_AVAILABLE;
    *ebx = x86_hyperv_cpuid_bits_of(f, HV_CPUID_FEATURES, R_EBX);
    if (hv_emu_offered(cpu, HYPERV_FEAT_SYNIC)) {
        *ebx |= HV_POST_MESSAGES | HV_SIGNAL_EVENTS;
    }
    /* Not a KVM feature, but Windows wants it for CPU hotplug. */
    *edx = x86_hyperv_cpuid_bits_of(f, HV_CPUID_FEATURES, R_EDX) |
           HV_CPU_DYNAMIC_PARTITIONING_AVAILABLE;
}

static uint32_t hv_emu_cpuid_hints(X86CPU *cpu)
{
    uint32_t eax = x86_hyperv_cpuid_bits_of(cpu->hv_emu->features,
                                            HV_CPUID_ENLIGHTMENT_INFO, R_EAX);

    /*
     * The APIC access MSRs are recommended where they exist, unless the
     * user said the APIC is accelerated (hv-avic), as on the kernel path.
     */
    if (hv_emu_offered(cpu, HYPERV_FEAT_VAPIC) &&
        !hv_emu_offered(cpu, HYPERV_FEAT_AVIC)) {
        eax |= HV_APIC_ACCESS_RECOMMENDED;
    }

    if (cpu->hyperv_no_nonarch_cs == ON_OFF_AUTO_ON) {
        eax |= HV_NO_NONARCH_CORESHARING;
    }
    /* An in-kernel APIC cannot do AutoEOI (TLFS 11.8.2). */
    if (x86_hyperv_emu_kvm()) {
        eax |= HV_DEPRECATING_AEOI_RECOMMENDED;
    }
    return eax;
}

/* The hypervisor leaves of the accelerator, moved to 0x40000100. */
#define HV_EMU_ACCEL_LEAVES 0x40000100u

bool x86_hyperv_emu_cpuid(X86CPU *cpu, uint32_t index, uint32_t *eax,
                          uint32_t *ebx, uint32_t *ecx, uint32_t *edx)
{
    if (!cpu->hv_emu || index < HV_CPUID_VENDOR_AND_MAX_FUNCTIONS ||
        index > HV_CPUID_MAX) {
        return false;
    }
    *eax = *ebx = *ecx = *edx = 0;
    switch (index) {
    case HV_CPUID_VENDOR_AND_MAX_FUNCTIONS:
        *eax = HV_CPUID_IMPLEMENT_LIMITS;
        *ebx = cpu->hyperv_vendor_id[0];
        *ecx = cpu->hyperv_vendor_id[1];
        *edx = cpu->hyperv_vendor_id[2];
        break;
    case HV_CPUID_INTERFACE:
        *eax = cpu->hyperv_interface_id[0];
        *ebx = cpu->hyperv_interface_id[1];
        *ecx = cpu->hyperv_interface_id[2];
        *edx = cpu->hyperv_interface_id[3];
        break;
    case HV_CPUID_VERSION:
        *eax = cpu->hyperv_ver_id_build;
        *ebx = (uint32_t)cpu->hyperv_ver_id_major << 16 |
               cpu->hyperv_ver_id_minor;
        *ecx = cpu->hyperv_ver_id_sp;
        *edx = (uint32_t)cpu->hyperv_ver_id_sb << 24 |
               (cpu->hyperv_ver_id_sn & 0xffffff);
        break;
    case HV_CPUID_FEATURES:
        hv_emu_cpuid_features(cpu, eax, ebx, edx);
        break;
    case HV_CPUID_ENLIGHTMENT_INFO:
        *eax = hv_emu_cpuid_hints(cpu);
        *ebx = cpu->hyperv_spinlock_attempts;
        break;
    case HV_CPUID_IMPLEMENT_LIMITS:
        *eax = cpu->hv_max_vps;
        *ebx = cpu->hyperv_limits[0];
        *ecx = cpu->hyperv_limits[1];
        *edx = cpu->hyperv_limits[2];
        break;
    case HV_EMU_ACCEL_LEAVES:
        /* TCG's own signature, where KVM moves its own (kvm=off hides). */
        if (tcg_enabled() && cpu->expose_tcg && cpu->expose_kvm) {
            memcpy(ebx, "TCGT", 4);
            memcpy(ecx, "CGTC", 4);
            memcpy(edx, "GTCG", 4);
            *eax = HV_EMU_ACCEL_LEAVES + 1;
        }
        break;
    default:
        break;
    }
    return true;
}

/* --- life cycle --------------------------------------------------------- */

/* Any hv-* option on, and an accelerator that leaves Hyper-V to us. */
static bool hv_emu_wanted(X86CPU *cpu)
{
    if (!cpu->hyperv_features && !cpu->hyperv_passthrough &&
        cpu->hyperv_spinlock_attempts == HYPERV_SPINLOCK_NEVER_NOTIFY) {
        return false;
    }
    /* Other accelerators (none built here) keep upstream's behaviour. */
    return tcg_enabled() || qtest_enabled() || x86_hyperv_emu_kvm();
}

bool x86_hyperv_emu_expand_features(X86CPU *cpu)
{
    if (!hv_emu_wanted(cpu)) {
        return false;
    }
    /* On the user path, hv-passthrough is what the user path implements. */
    if (cpu->hyperv_passthrough) {
        cpu->hyperv_features |= hv_emu_features_implemented();
    }
    return true;
}

bool x86_hyperv_emu_realize(X86CPU *cpu, Error **errp)
{
    HvEmuCpu *u;

    if (!x86_hyperv_emu_expand_features(cpu)) {
        return true;
    }
    /*
     * A SINT is an MSI to the vCPU's APIC ID, and an MSI address holds 8
     * bits of it, 0xff meaning every vCPU: refuse what cannot be reached.
     */
    if (hyperv_feat_enabled(cpu, HYPERV_FEAT_SYNIC) && cpu->apic_id >= 0xff) {
        error_setg(errp, "Hyper-V SynIC emulated by QEMU supports APIC IDs "
                   "up to 254; this vCPU has %u", cpu->apic_id);
        return false;
    }
    u = g_new0(HvEmuCpu, 1);
    u->cpu = cpu;
    u->features = hv_emu_features_offered(cpu);
    if (u->features & FEAT(SYNIC)) {
        hyperv_set_sint_route_ops(&hv_emu_sint_ops);
        if (!hyperv_synic_add(CPU(cpu), errp)) {
            g_free(u);
            return false;
        }
        u->sints = g_new0(struct HvEmuSints, 1);
        for (int i = 0; i < HV_SINT_COUNT; i++) {
            u->sints->sint[i].cpu = cpu;
            u->sints->sint[i].sint = i;
            u->sints->sint[i].route = -1;
        }
    }
    u->aeoi_timer = timer_new_ns(QEMU_CLOCK_REALTIME, hv_emu_aeoi_retry, u);
    u->aeoi_vmse = qemu_add_vm_change_state_handler(hv_emu_aeoi_vm_state, u);
    cpu->hv_emu = u;
    hv_emu_partition_init();
    hv_emu_time_realize(cpu);
    trace_hv_emu_realize(hyperv_vp_index(CPU(cpu)), u->features);
    return true;
}

void x86_hyperv_emu_unrealize(X86CPU *cpu)
{
    HvEmuCpu *u = cpu->hv_emu;

    if (!u) {
        return;
    }
    hv_emu_time_unrealize(cpu);
    if (cpu->apic_state && !kvm_enabled()) {
        apic_set_hv_vectors(cpu->apic_state, NULL, NULL, NULL, NULL);
    }
    /* Devices may keep their routes to an unplugged vCPU: cut them off. */
    for (int i = 0; u->sints && i < HV_SINT_COUNT; i++) {
        if (u->sints->sint[i].set) {
            hv_emu_sint_release(&u->sints->sint[i]);
        }
    }
    hv_emu_aeoi_clear(u);
    timer_free(u->aeoi_timer);
    qemu_del_vm_change_state_handler(u->aeoi_vmse);
    cpu->hv_emu = NULL;
    g_free(u->sints);
    g_free(u);
}

/*
 * A vCPU reset, and also an INIT under TCG (which clears the vCPU's MSRs
 * in env): the vCPU's SynIC and timers start over, SINTs masked (TLFS
 * 11.9); the partition-wide MSRs are the partition's and come back.  A
 * system reset clears those through hv_emu_partition_reset() as well.
 */
void x86_hyperv_emu_reset(X86CPU *cpu)
{
    CPUX86State *env = &cpu->env;
    int i;

    if (!cpu->hv_emu) {
        return;
    }
    for (i = 0; i < HV_SINT_COUNT; i++) {
        env->msr_hv_synic_sint[i] = HV_SINT_MASKED;
    }
    env->msr_hv_synic_control = 0;
    env->msr_hv_synic_msg_page = 0;
    env->msr_hv_synic_evt_page = 0;
    hv_emu_aeoi_clear(cpu->hv_emu);
    hv_part_mirror(cpu);
    if (hv_emu_offered(cpu, HYPERV_FEAT_SYNIC)) {
        hyperv_synic_reset(CPU(cpu));
        hv_emu_update_apic(cpu);
        hv_emu_sints_sync(cpu);
    }
    hv_emu_time_reset(cpu);
}

void x86_hyperv_emu_pre_save(X86CPU *cpu)
{
    if (!cpu->hv_emu) {
        return;
    }
    if (hv_emu_offered(cpu, HYPERV_FEAT_RUNTIME)) {
        cpu->env.msr_hv_runtime = hv_emu_runtime(cpu);
    }
    /*
     * Held AutoEOI vectors travel as pending interrupts (KVM's IRR); the
     * subsection that carries them clears this copy once sent.
     */
    memset(cpu->env.hv_emu_aeoi_held, 0, sizeof(cpu->env.hv_emu_aeoi_held));
    for (int v = find_first_bit(cpu->hv_emu->aeoi_held, 256); v < 256;
         v = find_next_bit(cpu->hv_emu->aeoi_held, 256, v + 1)) {
        cpu->env.hv_emu_aeoi_held[v / 32] |= 1u << (v % 32);
    }
}

/*
 * Pending AutoEOI vectors from the stream that QEMU injects on this path
 * (the user path on KVM): held again.  The others wait in the stream's
 * copy for the local APIC, whose state loads after the vCPU's and would
 * replace an IRR written now (x86_hyperv_emu_apic_post_load).
 */
static void hv_emu_aeoi_load(X86CPU *cpu)
{
    uint32_t *held = cpu->env.hv_emu_aeoi_held;
    int v;

    for (v = HV_SINT_FIRST_VECTOR; v < 256; v++) {
        if ((held[v / 32] & (1u << (v % 32))) &&
            hv_emu_aeoi_on_kvm(cpu, v)) {
            hv_emu_aeoi_hold(cpu, v);
            held[v / 32] &= ~(1u << (v % 32));
        }
    }
}

bool x86_hyperv_emu_apic_post_load(X86CPU *cpu, uint32_t *irr)
{
    uint32_t *held = cpu->env.hv_emu_aeoi_held;
    bool changed = false;
    int v;

    for (v = HV_SINT_FIRST_VECTOR; v < 256; v++) {
        uint32_t bit = 1u << (v % 32);

        if (hv_emu_aeoi_on_kvm(cpu, v)) {
            /*
             * From a source where the APIC does AutoEOI (KVM's own SynIC):
             * KVM's APIC here would put it in service, so QEMU takes it.
             */
            if (irr[v / 32] & bit) {
                irr[v / 32] &= ~bit;
                hv_emu_aeoi_hold(cpu, v);
                changed = true;
            }
        } else if ((held[v / 32] & bit) && !(irr[v / 32] & bit)) {
            /* The APIC here does AutoEOI (TCG's, KVM's own SynIC). */
            irr[v / 32] |= bit;
            changed = true;
        }
    }
    memset(held, 0, sizeof(cpu->env.hv_emu_aeoi_held));
    return changed;
}

/*
 * An unmasked SINT with a vector the guest could not have written comes
 * from a bad stream: it is masked, with a log line, rather than trusted.
 */
static void hv_emu_sanitize_sint(X86CPU *cpu, uint32_t sint)
{
    uint64_t *reg = &cpu->env.msr_hv_synic_sint[sint];

    if (!(*reg & HV_SINT_MASKED) &&
        (*reg & HV_SINT_VECTOR_MASK) < HV_SINT_FIRST_VECTOR) {
        hv_guest_error("VP %u: migrated SINT%u 0x%" PRIx64
                       " has an invalid vector; masked",
                       hyperv_vp_index(CPU(cpu)), sint, *reg);
        *reg |= HV_SINT_MASKED;
    }
}

/* After loading the vCPU's state (BQL): rebuild what derives from env. */
int x86_hyperv_emu_post_load(X86CPU *cpu)
{
    CPUX86State *env = &cpu->env;
    int i;

    if (!cpu->hv_emu) {
        /* KVM's own Hyper-V: held vectors wait for the APIC's state. */
        return 0;
    }
    /* Every vCPU carries the partition's values; they are all the same. */
    hv_part.guest_os_id = env->msr_hv_guest_os_id;
    hv_part.hypercall = env->msr_hv_hypercall;
    memcpy(hv_part.crash_params, env->msr_hv_crash_params,
           sizeof(hv_part.crash_params));
    cpu->hv_emu->runtime_offset = env->msr_hv_runtime -
                                hv_emu_thread_runtime(cpu);
    /*
     * The page holds what the source wrote there: from a kernel-path
     * source, KVM's VMCALL, which a KVM without Hyper-V would take for
     * one of its own hypercalls.  Write ours again, as KVM rewrites its
     * own when the MSR is restored.
     */
    if (hv_part.hypercall & HV_HYPERCALL_ENABLE) {
        hv_emu_fill_hypercall_page(cpu, hv_part.hypercall & TARGET_PAGE_MASK);
    }
    if (hv_emu_offered(cpu, HYPERV_FEAT_SYNIC)) {
        for (i = 0; i < HV_SINT_COUNT; i++) {
            hv_emu_sanitize_sint(cpu, i);
        }
        hv_emu_synic_update(cpu);
        hv_emu_update_apic(cpu);
    }
    hv_emu_aeoi_clear(cpu->hv_emu);
    hv_emu_aeoi_load(cpu);
    hv_emu_time_post_load(cpu);
    return 0;
}
