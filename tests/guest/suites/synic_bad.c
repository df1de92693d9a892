// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * suite=synic-malicious: guest inputs that must not hurt QEMU, as far as
 * QEMU 10.0.2 already survives them (the ones that kill it are in suite
 * synic-defects).  After each group a message round trip shows that QEMU
 * still answers.
 *
 * K-path facts checked here: with SynIC2 (what QEMU enables) KVM takes a
 * SIMP or SIEFP at any GPA, RAM or not, without a fault, and passes it on
 * to QEMU; and KVM answers an HvSignalEvent whose input it cannot read
 * with HV_STATUS_INVALID_ALIGNMENT.
 */
#include <stdint.h>

#include "lib/alloc.h"
#include "lib/apic.h"
#include "lib/boot.h"
#include "lib/fault.h"
#include "lib/hv_testdev.h"
#include "lib/report.h"
#include "lib/smp.h"
#include "lib/synic.h"
#include "lib/timing.h"
#include "suites/suite.h"

#define PROBE_CONN      0x60
#define PROBE_SINT      1
#define PROBE_VECTOR    0xd1
#define SAME_MSG_CONN   0x61
#define SAME_EVT_CONN   0x62
#define SAME_SINT       2
#define SAME_VECTOR     0xd2
#define OFF_SINT        3
#define OFF_VECTOR      0xd3
#define BIOS_ROM_PAGE   UINT64_C(0xfffff000)

static void alive(const char *after)
{
    report(synic_roundtrip(PROBE_CONN, PROBE_SINT, PROBE_VECTOR),
           "alive: QEMU still delivers a message after %s", after);
}

static uint64_t ram_top(void)
{
    uint64_t top = 0;
    unsigned int i;

    for (i = 0; i < boot_info.nr_ram; i++) {
        top = top > boot_info.ram[i].end ? top : boot_info.ram[i].end;
    }
    return top;
}

/*
 * An enable of msr at a GPA that is not RAM.  QEMU asks for SynIC2
 * (KVM_CAP_HYPERV_SYNIC2), with which KVM does not clear the pages and
 * so checks nothing: the write succeeds, and QEMU puts its page there.
 */
static void page_outside_ram(uint32_t msr, const char *name, uint64_t gpa,
                             const char *where)
{
    uint64_t own = 0, after = 0;
    int vec;

    rdmsr_safe(msr, &own);
    vec = wrmsr_safe(msr, gpa | 1);
    rdmsr_safe(msr, &after);
    report(vec == NO_FAULT && after == (gpa | 1), "pages: %s at 0x%lx (%s) "
           "is accepted (K path, SynIC2) and reads back (vector %d, 0x%lx)",
           name, gpa, where, vec, after);
    wrmsr_safe(msr, own);
}

/* A message posted while SIMP sits above RAM (identity mapped there) */
static void message_above_ram(uint64_t gpa)
{
    struct hv_message *m = &((struct hv_message_page *)
                             phys_to_virt(gpa))->slot[OFF_SINT];
    uint64_t own = virt_to_phys(synic_simp(0)) | HV_SIMP_ENABLE;
    uint16_t st;
    bool seen;

    sint_irq_install(OFF_VECTOR);
    sint_program(OFF_SINT, OFF_VECTOR, 0);
    hv_testdev_msg_conn_create(SAME_MSG_CONN, 0, OFF_SINT);
    wrmsr_safe(HV_X64_MSR_SIMP, gpa | HV_SIMP_ENABLE);
    st = hv_post_message_retry(SAME_MSG_CONN, 0x44, "up", 3);
    seen = wait_for(msg_type(m) == 0x44, SYNIC_ARRIVE_US);
    report_info("pages: message with SIMP at 0x%lx (above RAM): status "
                "0x%x, %s there", gpa, st, seen ? "visible" : "not visible");
    if (seen) {
        msg_release(m, true);
    }
    wrmsr_safe(HV_X64_MSR_SIMP, own);
    hv_testdev_msg_conn_destroy(SAME_MSG_CONN);
    sint_reset(OFF_SINT);
}

static void bad_pages(void)
{
    uint64_t above = (ram_top() + 0x1000000) & PAGE_MASK;
    uint64_t v = 0;

    page_outside_ram(HV_X64_MSR_SIMP, "SIMP", APIC_MMIO_BASE, "LAPIC");
    page_outside_ram(HV_X64_MSR_SIEFP, "SIEFP", APIC_MMIO_BASE, "LAPIC");
    page_outside_ram(HV_X64_MSR_SIMP, "SIMP", above, "above RAM");
    page_outside_ram(HV_X64_MSR_SIEFP, "SIEFP", above, "above RAM");
    page_outside_ram(HV_X64_MSR_SIMP, "SIMP", BIOS_ROM_PAGE, "BIOS ROM");
    /* beyond the host's physical address width: see synic-defects */
    rdmsr_safe(HV_X64_MSR_SIMP, &v);
    report(v == (virt_to_phys(synic_simp(0)) | HV_SIMP_ENABLE),
           "pages: SIMP back on its own page (0x%lx)", v);
    alive("SIMP/SIEFP outside RAM");
    message_above_ram(above);
    alive("a message to a SIMP above RAM");
}

/* SIMP and SIEFP on one page: QEMU must cope with either winning. */
static void same_page(void)
{
    uint64_t simp = virt_to_phys(synic_simp(0));
    uint64_t siefp = virt_to_phys(synic_siefp(0));
    static const char text[] = "same page";
    uint16_t pst, est;
    int vec;

    sint_irq_install(SAME_VECTOR);
    sint_program(SAME_SINT, SAME_VECTOR, 0);
    hv_testdev_msg_conn_create(SAME_MSG_CONN, 0, SAME_SINT);
    hv_testdev_evt_conn_create(SAME_EVT_CONN, 0, SAME_SINT);
    vec = wrmsr_safe(HV_X64_MSR_SIEFP, simp | HV_SIEFP_ENABLE);
    report(vec == NO_FAULT, "same-page: SIEFP on the SIMP page is accepted "
           "(vector %d)", vec);
    pst = hv_post_message_retry(SAME_MSG_CONN, 0x33, text, sizeof(text));
    est = hv_signal_event(SAME_EVT_CONN, 0);
    sint_irq_wait(0, SAME_VECTOR, 2, SYNIC_ARRIVE_US);
    report_info("same-page: post 0x%x, signal 0x%x, %u interrupts, slot "
                "type 0x%x", pst, est, sint_irq_count(0, SAME_VECTOR),
                msg_type(synic_slot(0, SAME_SINT)));
    report(pst == HV_STATUS_SUCCESS && est == HV_STATUS_SUCCESS,
           "same-page: post and signal still answer SUCCESS (0x%x, 0x%x)",
           pst, est);
    wrmsr_safe(HV_X64_MSR_SIEFP, siefp | HV_SIEFP_ENABLE);
    msg_release(synic_slot(0, SAME_SINT), true);
    flag_clear(0, SAME_SINT, SAME_EVT_CONN);
    hv_testdev_msg_conn_destroy(SAME_MSG_CONN);
    hv_testdev_evt_conn_destroy(SAME_EVT_CONN);
    sint_reset(SAME_SINT);
    alive("SIMP == SIEFP");
}

/* A route made while SCONTROL is off, raised: nothing, and no harm. */
static void route_while_off(void)
{
    unsigned int before;

    sint_irq_install(OFF_VECTOR);
    sint_program(OFF_SINT, OFF_VECTOR, 0);
    wrmsr_safe(HV_X64_MSR_SCONTROL, 0);
    hv_testdev_route_create(0, OFF_SINT);
    wrmsr_safe(HV_X64_MSR_SCONTROL, HV_SCONTROL_ENABLE);
    before = sint_irq_count(0, OFF_VECTOR);
    hv_testdev_route_set(0, OFF_SINT);
    /*
     * A pause, not a fence: the count is only told (either answer is
     * allowed), and no harm is what alive() checks below.  The pause only
     * lets a late interrupt into the count.
     */
    udelay(SYNIC_QUIET_US);
    report_info("route-off: a route created while SCONTROL was 0, raised "
                "after enabling: %u interrupt(s)",
                sint_irq_count(0, OFF_VECTOR) - before);
    hv_testdev_route_destroy(0, OFF_SINT);
    sint_reset(OFF_SINT);
    alive("a route created with SCONTROL off");
}

/* Unknown test device commands are ignored. */
static void junk_commands(void)
{
    static const uint32_t words[] = {
        0x00000000, 0xffffffff, 0x12080000, 0x00ff0101, 0x55aa0000,
    };
    unsigned int i;

    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        hv_testdev_raw(words[i]);
    }
    alive("unknown test device commands");
}

/* Hypercall inputs on pages that are not RAM. */
static void inputs_outside_ram(void)
{
    uint16_t st;

    st = hv_call(HVCALL_SIGNAL_EVENT, APIC_MMIO_BASE, 0) & HV_STATUS_MASK;
    report(st == HV_STATUS_INVALID_ALIGNMENT, "inputs: HvSignalEvent input "
           "on the LAPIC page returns INVALID_ALIGNMENT (0x%x)", st);
    st = hv_call(HVCALL_POST_MESSAGE, APIC_MMIO_BASE, 0) & HV_STATUS_MASK;
    report(st != HV_STATUS_SUCCESS, "inputs: HvPostMessage input on the "
           "LAPIC page is refused (0x%x)", st);
    st = hv_call(HVCALL_POST_MESSAGE, virt_to_phys(synic_simp(0)), 0) &
         HV_STATUS_MASK;
    report(st != HV_STATUS_SUCCESS, "inputs: HvPostMessage input on the "
           "(empty) SIMP overlay is refused (0x%x)", st);
    alive("hypercall inputs outside RAM");
}

static void synic_malicious(void)
{
    if (!synic_enable_all("setup")) {
        return;
    }
    alive("setup");
    bad_pages();
    same_page();
    route_while_off();
    junk_commands();
    inputs_outside_ram();
    synic_disable_all();
}

DEFINE_SUITE("synic-malicious", synic_malicious);
