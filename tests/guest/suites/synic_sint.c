// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * suite=synic-sint: SINT delivery through hyperv-testdev SINT routes, as
 * kvm-unit-tests' hyperv_synic does it, plus masking and auto-EOI.
 *
 * Every vCPU enables its SynIC and programs all 16 SINTs with vectors of
 * its own (odd SINTs auto-EOI); the test device gets one route per
 * (vCPU, SINT) and raises each.  Each interrupt must arrive exactly once,
 * on the route's vCPU, with the SINT's vector.
 *
 * K-path facts checked here (KVM synic_set_irq, kvm_get_apic_interrupt):
 *  - a SINT raised while masked is dropped, and unmasking it later does
 *    not deliver anything: nothing is latched (on the user path, hv-u=1,
 *    the same holds for a raise while SCONTROL is off);
 *  - with auto-EOI the vector's ISR bit is already clear when the
 *    handler runs, and further interrupts arrive without an EOI;
 *  - without it the ISR bit stays set until the EOI, and a second
 *    interrupt of the vector waits in the IRR until then.
 *
 * Where the hypervisor recommends against AutoEOI (CPUID 0x40000004 EAX
 * bit 9: QEMU's user path on KVM, whose local APIC is in the kernel), the
 * guest does as told: no SINT gets AutoEOI and the auto-EOI checks are
 * INFO; with aeoi=always it uses AutoEOI anyway, as kvm-unit-tests and
 * older Windows do, and everything is checked.  Where the platform hides
 * the ISR (quirk apic-isr-hidden: this project's host KVM), the ISR and
 * EOI checks are INFO.
 */
#include <stdint.h>

#include "lib/apic.h"
#include "lib/boot.h"
#include "lib/fault.h"
#include "lib/hv_testdev.h"
#include "lib/hyperv.h"
#include "lib/report.h"
#include "lib/smp.h"
#include "lib/string.h"
#include "lib/synic.h"
#include "lib/timing.h"
#include "suites/suite.h"

#define VECTOR_BASE     0x40    /* cpu c, SINT s: VECTOR_BASE + 16c + s */
#define MAX_TEST_CPUS   8       /* keeps the vectors below 0xc0 */
#define AEOI_SINT       3
#define AEOI_VECTOR     0xc3
#define HOLD_SINT       4
#define HOLD_VECTOR     0xc4
#define CHURN_SINT      5
#define CHURN_VECTOR    0xc5
#define HOLD_FENCE_SINT 6
#define HOLD_FENCE_VECTOR 0xd6  /* above HOLD_VECTOR's priority class */
#define FENCE_CONN      0x50    /* + vCPU: event connections for fences */
#define FENCE_SINT      15      /* shares the SINT with its test route */

static uint8_t sint_vector(unsigned int cpu, unsigned int sint)
{
    return VECTOR_BASE + 16 * cpu + sint;
}

/*
 * TLFS 2.4.5: HV_DEPRECATING_AEOI_RECOMMENDED.  With aeoi=always the guest
 * ignores it, as kvm-unit-tests and Windows before the hint existed do.
 */
static bool aeoi_deprecated(void)
{
    const char *a = opt_get("aeoi");

    if (a && !strcmp(a, "always")) {
        return false;
    }
    return cpuid(HV_CPUID_RECOMMENDATIONS).a & HV_DEPRECATING_AEOI_RECOMMENDED;
}

static bool auto_eoi(unsigned int sint)
{
    return (sint & 1) && !aeoi_deprecated();
}

static bool isr_hidden(void)
{
    return has_quirk("apic-isr-hidden");
}

static void program_all(void *arg)
{
    unsigned int cpu = smp_id(), s, bad = 0;

    for (s = 0; s < HV_SINT_COUNT; s++) {
        bad += sint_program(s, sint_vector(cpu, s),
                            auto_eoi(s) ? HV_SINT_AUTO_EOI : 0) != NO_FAULT;
    }
    report(bad == 0, "setup: cpu %u SINT0-15 programmed (%u faults)", cpu,
           bad);
}

static void for_each_route(void (*fn)(unsigned int vp, unsigned int sint))
{
    unsigned int cpu, s;

    for (cpu = 0; cpu < cpu_count(); cpu++) {
        for (s = 0; s < HV_SINT_COUNT; s++) {
            fn(cpu, s);
        }
    }
}

static void set_all(void *arg)
{
    for_each_route(hv_testdev_route_set);
}

/*
 * Every SINT has a test route, so the fences share SINT 15 with one: the
 * fences each vCPU took, to tell them from the route's interrupts.
 */
static unsigned int fences_taken[MAX_TEST_CPUS];

/* The interrupts of route (cpu, sint) on its vCPU, the fences' left out */
static unsigned int route_count(unsigned int cpu, unsigned int sint)
{
    unsigned int n = sint_irq_count(cpu, sint_vector(cpu, sint));

    return sint == FENCE_SINT ? n - fences_taken[cpu] : n;
}

static unsigned int total_irqs(void)
{
    unsigned int cpu, v, n = 0;

    for (cpu = 0; cpu < cpu_count(); cpu++) {
        for (v = VECTOR_BASE; v < VECTOR_BASE + 16 * cpu_count(); v++) {
            n += sint_irq_count(cpu, v);
        }
    }
    return n;
}

/*
 * Wait, on every vCPU, until the host has handled what it was asked
 * before (synic_fence): a pause of any length could end before a stalled
 * host got there.  Adds a failure if a fence does not come back.
 */
static void fence_all(const char *what)
{
    unsigned int cpu;

    for (cpu = 0; cpu < cpu_count(); cpu++) {
        fences_taken[cpu] += synic_fence_on(cpu, FENCE_CONN, FENCE_SINT,
                                            what);
    }
}

/* In: a vector; out: whether it waits in this vCPU's IRR. */
static void irr_probe(void *arg)
{
    unsigned int *v = arg;

    *v = apic_irr_test(*v);
}

/*
 * A SINT counted wrong: what the guest can see of it, gathered before the
 * report (whose serial output is an exit that lets a pending interrupt
 * in).  A vector that waits in its vCPU's IRR has reached the local APIC,
 * so QEMU's part (the MSI) was done; if it then arrives as soon as the
 * guest has left and re-entered (the IRR read is such an exit), the
 * hypervisor under the guest had held back an injection while the vCPU
 * ran with interrupts on.  "apic-stall" names that case for the runner.
 */
struct count_why {
    unsigned int cpu, sint, here, others, pending;
    bool late;
};

static void count_why_gather(struct count_why *w, unsigned int want)
{
    unsigned int v = sint_vector(w->cpu, w->sint);

    w->here = route_count(w->cpu, w->sint);
    w->others = sint_irq_count_others(w->cpu, v);
    w->pending = v;
    on_cpu(w->cpu, irr_probe, &w->pending);
    /*
     * Not a check but evidence for the runner, so a pause is enough: the
     * short wait only sees whether the exits above let the vector in.
     */
    w->late = w->here < want && w->others == 0 &&
              wait_for(route_count(w->cpu, w->sint) >= want, SYNIC_QUIET_US);
}

static void count_why_print(const struct count_why *w, unsigned int want)
{
    unsigned int v = sint_vector(w->cpu, w->sint);

    if (w->late && w->pending) {
        report_info("apic-stall: cpu %u vector 0x%x waited in its IRR "
                    "until the guest exited", w->cpu, v);
    }
    report_info("count: cpu %u SINT %u: %u here (want %u), %u on other "
                "vCPUs, IRR %s; %u after one more exit", w->cpu, w->sint,
                w->here, want, w->others, w->pending ? "set" : "clear",
                route_count(w->cpu, w->sint));
}

/* One line per vCPU: each of its SINT vectors seen exactly want times. */
static void check_counts(const char *round, unsigned int want)
{
    unsigned int expected = want * HV_SINT_COUNT * cpu_count();
    unsigned int cpu, s, fences = 0;

    for (cpu = 0; cpu < cpu_count(); cpu++) {
        fences += fences_taken[cpu];
    }
    wait_for(total_irqs() >= expected + fences, SYNIC_ARRIVE_US);
    /*
     * Then a fence on every vCPU, not a pause: a raise the host had not
     * handled yet (or a second interrupt it would add) comes no later
     * than the fence.  A duplicate on SINT 15 that is still pending when
     * the fence raises the SINT merges with it, as the local APIC merges
     * any two raises of one vector; the other 15 SINTs show it.
     */
    fence_all(round);
    for (cpu = 0; cpu < cpu_count(); cpu++) {
        struct count_why why = { .cpu = cpu, .sint = HV_SINT_COUNT };
        unsigned int bad = 0;

        for (s = 0; s < HV_SINT_COUNT; s++) {
            uint8_t v = sint_vector(cpu, s);

            if (route_count(cpu, s) != want ||
                sint_irq_count_others(cpu, v) != 0) {
                bad++;
                why.sint = why.sint < s ? why.sint : s;
            }
        }
        if (bad) {
            count_why_gather(&why, want);
        }
        report(bad == 0, "%s: cpu %u got each of its 16 SINT vectors %u "
               "time(s), on no other vCPU (%u wrong, first SINT %u)", round,
               cpu, want, bad, why.sint);
        if (bad) {
            count_why_print(&why, want);
        }
    }
}

static void check_isr_seen(void)
{
    if (isr_hidden()) {
        report_info("isr: quirk apic-isr-hidden: ISR in handlers not checked");
        return;
    }
    unsigned int cpu, s;

    for (cpu = 0; cpu < cpu_count(); cpu++) {
        unsigned int bad = 0;

        for (s = 0; s < HV_SINT_COUNT; s++) {
            bad += sint_irq_isr_seen(cpu, sint_vector(cpu, s)) ==
                   auto_eoi(s);
        }
        report(bad == 0, "isr: cpu %u handlers see ISR clear for auto-EOI "
               "SINTs and set for the others (%u wrong)", cpu, bad);
    }
}

static void mask_sint0(void *arg)
{
    unsigned int cpu = smp_id();

    sint_program(0, sint_vector(cpu, 0), *(bool *)arg ? HV_SINT_MASKED : 0);
}

/*
 * On this vCPU: mask SINT0, raise it and unmask it at once, leaving QEMU's
 * main loop no time to take the raise while the SINT is masked.  This used
 * to deliver the interrupt on the user path: the unmask found the raise
 * still in the route's eventfd and let it through (KVM drops it at once).
 */
static void mask_raise_unmask(void *arg)
{
    unsigned int cpu = smp_id();

    sint_program(0, sint_vector(cpu, 0), HV_SINT_MASKED);
    hv_testdev_route_set(cpu, 0);
    sint_program(0, sint_vector(cpu, 0), 0);
}

static void off_raise_on(void *arg)
{
    unsigned int cpu = smp_id();

    wrmsr_safe(HV_X64_MSR_SCONTROL, 0);
    hv_testdev_route_set(cpu, 0);
    wrmsr_safe(HV_X64_MSR_SCONTROL, HV_SCONTROL_ENABLE);
}

/* The interrupts of the test routes, without those of the fences. */
static unsigned int route_irqs(void)
{
    unsigned int cpu, n = total_irqs();

    for (cpu = 0; cpu < cpu_count(); cpu++) {
        n -= sint_irq_count(cpu, sint_vector(cpu, FENCE_SINT));
    }
    return n;
}

/* A masked SINT drops the interrupt; unmasking does not bring it back. */
static void check_masked(void)
{
    unsigned int cpu, before;
    bool masked = true;

    before = route_irqs();
    for (cpu = 0; cpu < cpu_count(); cpu++) {
        on_cpu(cpu, mask_sint0, &masked);
        hv_testdev_route_set(cpu, 0);
    }
    fence_all("masked");
    report(route_irqs() == before, "masked: SINT0 raised while masked is "
           "not delivered (%u new)", route_irqs() - before);
    masked = false;
    for (cpu = 0; cpu < cpu_count(); cpu++) {
        on_cpu(cpu, mask_sint0, &masked);
    }
    fence_all("masked (unmasked)");
    report(route_irqs() == before, "masked: unmasking delivers nothing "
           "(K path: KVM latches no masked SINT; %u new)",
           route_irqs() - before);
    for (cpu = 0; cpu < cpu_count(); cpu++) {
        on_cpu(cpu, mask_raise_unmask, NULL);
    }
    fence_all("masked (raise, unmask)");
    report(route_irqs() == before, "masked: a raise right before the unmask "
           "is not delivered either (%u new)", route_irqs() - before);
    /*
     * The same with the whole SynIC off (the user path: KVM's own SynIC
     * looks only at the SINT's mask, not at SCONTROL).
     */
    if (opt_get("hv-u")) {
        for (cpu = 0; cpu < cpu_count(); cpu++) {
            on_cpu(cpu, off_raise_on, NULL);
        }
        fence_all("SynIC off (raise, on)");
        report(route_irqs() == before, "masked: a raise while the SynIC is "
               "off is not delivered when it is turned on (%u new)",
               route_irqs() - before);
    }
    for (cpu = 0; cpu < cpu_count(); cpu++) {
        hv_testdev_route_set(cpu, 0);
        report(sint_irq_wait(cpu, sint_vector(cpu, 0), 3, SYNIC_ARRIVE_US),
               "masked: cpu %u SINT0 delivers again once unmasked", cpu);
    }
}

static void install_handlers(void)
{
    unsigned int v;

    for (v = VECTOR_BASE; v < VECTOR_BASE + 16 * cpu_count(); v++) {
        sint_irq_install(v);
    }
}

static void routes_suite(void)
{
    unsigned int cpu, last = cpu_count() - 1;

    install_handlers();
    for (cpu = 0; cpu < cpu_count(); cpu++) {
        on_cpu(cpu, program_all, NULL);
    }
    sint_irq_clear();
    synic_fence_conns(FENCE_CONN, FENCE_SINT, true);
    for_each_route(hv_testdev_route_create);
    set_all(NULL);
    check_counts("routes (raised by cpu 0)", 1);
    check_isr_seen();
    /* raised from another vCPU; auto-EOI vectors must deliver again */
    report(on_cpu(last, set_all, NULL), "routes: cpu %u raised every "
           "route", last);
    check_counts("routes (raised by the last cpu)", 2);
    check_masked();
    synic_fence_conns(FENCE_CONN, FENCE_SINT, false);
    for_each_route(hv_testdev_route_destroy);
}

/* Auto-EOI on vCPU 0: ISR never set, interrupts keep coming without EOI */
static void check_auto_eoi(void)
{
    bool ok;

    if (aeoi_deprecated()) {
        report_info("auto-eoi: the hypervisor recommends against AutoEOI; "
                    "not checked");
        return;
    }
    sint_irq_install(AEOI_VECTOR);
    sint_program(AEOI_SINT, AEOI_VECTOR, HV_SINT_AUTO_EOI);
    hv_testdev_route_create(0, AEOI_SINT);
    hv_testdev_route_set(0, AEOI_SINT);
    ok = sint_irq_wait(0, AEOI_VECTOR, 1, SYNIC_ARRIVE_US);
    if (isr_hidden()) {
        report(ok, "auto-eoi: first interrupt taken, no EOI written");
        report_info("auto-eoi: quirk apic-isr-hidden: ISR not checked");
    } else {
        report(ok && !sint_irq_isr_seen(0, AEOI_VECTOR) &&
               !apic_isr_test(AEOI_VECTOR), "auto-eoi: first interrupt "
               "taken with ISR clear, no EOI written");
    }
    hv_testdev_route_set(0, AEOI_SINT);
    ok = sint_irq_wait(0, AEOI_VECTOR, 2, SYNIC_ARRIVE_US);
    report(ok, "auto-eoi: second interrupt arrives without any EOI (%u)",
           sint_irq_count(0, AEOI_VECTOR));
    hv_testdev_route_destroy(0, AEOI_SINT);
    sint_reset(AEOI_SINT);
}

/* Without auto-EOI the ISR bit holds the next interrupt back until EOI. */
static void check_eoi_needed(void)
{
    unsigned int held;
    bool ok, pending;

    if (isr_hidden()) {
        report_info("eoi: quirk apic-isr-hidden: ISR and IRR not checked");
        return;
    }
    sint_irq_install(HOLD_VECTOR);
    sint_program(HOLD_SINT, HOLD_VECTOR, 0);
    sint_irq_install(HOLD_FENCE_VECTOR);
    sint_program(HOLD_FENCE_SINT, HOLD_FENCE_VECTOR, 0);
    hv_testdev_evt_conn_create(FENCE_CONN, 0, HOLD_FENCE_SINT);
    sint_irq_hold(0, HOLD_VECTOR, true);
    hv_testdev_route_create(0, HOLD_SINT);
    hv_testdev_route_set(0, HOLD_SINT);
    report(sint_irq_wait(0, HOLD_VECTOR, 1, SYNIC_ARRIVE_US) &&
           sint_irq_isr_seen(0, HOLD_VECTOR), "eoi: interrupt taken with its "
           "ISR bit set");
    report(apic_isr_test(HOLD_VECTOR), "eoi: ISR bit stays set while no EOI "
           "is written");
    hv_testdev_route_set(0, HOLD_SINT);
    /*
     * A fence, not a pause, before the second raise is looked for: once
     * the fence is back, the host has put the raise into the local APIC.
     * Its vector is in service, so the interrupt cannot be taken and
     * waits in the IRR; the fence's vector is of a higher priority class,
     * so it is taken (and EOIed) meanwhile.
     */
    synic_fence_on(0, FENCE_CONN, HOLD_FENCE_SINT, "eoi");
    held = sint_irq_count(0, HOLD_VECTOR);
    pending = apic_irr_test(HOLD_VECTOR);
    report(held == 1 && pending, "eoi: a second interrupt waits in the IRR "
           "(count %u, IRR %d)", held, pending);
    /*
     * Two raises, yet the handler ran twice with the ISR bit never
     * cleared and one more waits in the IRR: the local APIC cannot do
     * that (an in-service vector is not delivered again), so the
     * hypervisor under the guest injected the first one twice.
     */
    if (held == 2 && pending) {
        report_info("apic-double: vector 0x%x taken twice with its ISR bit "
                    "held and one more in the IRR: an injection repeated "
                    "below the guest", HOLD_VECTOR);
    }
    sint_irq_hold(0, HOLD_VECTOR, false);
    apic_eoi();
    ok = sint_irq_wait(0, HOLD_VECTOR, 2, SYNIC_ARRIVE_US);
    report(ok, "eoi: the EOI lets the waiting interrupt in (count %u)",
           sint_irq_count(0, HOLD_VECTOR));
    report(!apic_isr_test(HOLD_VECTOR) && !apic_irr_test(HOLD_VECTOR),
           "eoi: ISR and IRR clear at the end");
    hv_testdev_route_destroy(0, HOLD_SINT);
    hv_testdev_evt_conn_destroy(FENCE_CONN);
    sint_reset(HOLD_SINT);
    sint_reset(HOLD_FENCE_SINT);
}

/*
 * Every route holds a GSI of the accelerator.  Create and destroy one many
 * times, more than KVM has GSIs (4096): a leak would exhaust them, and the
 * last route would never deliver.  The count comes from the command line
 * (churn=N); the runner asks for it in one case, as it takes a while.
 */
static void check_route_churn(void)
{
    unsigned long cycles, i;

    if (!opt_get_ulong("churn", 0, &cycles) || !cycles) {
        return;
    }
    sint_irq_install(CHURN_VECTOR);
    sint_program(CHURN_SINT, CHURN_VECTOR,
                 auto_eoi(1) ? HV_SINT_AUTO_EOI : 0);
    for (i = 0; i < cycles; i++) {
        hv_testdev_route_create(0, CHURN_SINT);
        hv_testdev_route_destroy(0, CHURN_SINT);
    }
    hv_testdev_route_create(0, CHURN_SINT);
    hv_testdev_route_set(0, CHURN_SINT);
    report(sint_irq_wait(0, CHURN_VECTOR, 1, SYNIC_ARRIVE_US),
           "churn: after %lu route create/destroy cycles a new route still "
           "delivers", cycles);
    hv_testdev_route_destroy(0, CHURN_SINT);
    sint_reset(CHURN_SINT);
}

static void synic_sint(void)
{
    if (!report(cpu_count() <= MAX_TEST_CPUS, "setup: at most %u vCPUs "
                "(have %u)", MAX_TEST_CPUS, cpu_count()) ||
        !synic_enable_all("setup")) {
        return;
    }
    routes_suite();
    check_auto_eoi();
    check_eoi_needed();
    check_route_churn();
    synic_disable_all();
}

DEFINE_SUITE("synic-sint", synic_sint);
