// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * suite=synic-reset: a guest-initiated system reset with SynIC state in
 * flight.  Boot 1 sets up SynIC pages, connections and a message left in
 * its slot, notes what it did in CMOS NVRAM, and resets through the
 * PIIX reset control register (port 0xcf9).  QEMU's -kernel boots the
 * guest again with the same command line; boot 2 finds the note and
 * checks that nothing survived: SynIC MSRs at their reset values, no
 * stale message or flag in pages put back at the same addresses, no
 * interrupt from old routes, old connection IDs unknown.
 *
 * Options:
 *   live=1   keep the connections and a SINT route alive across the
 *            reset, with a second message pending behind the first.
 *            QEMU 10.0.2 aborts then (hyperv-testdev has no reset
 *            handler, and the SynIC reset asserts that no route is left),
 *            so this variant belongs to the synic-defects cases.
 *
 * The checks of boot 1 were seen by the host already; their counts go
 * through CMOS too, so that the final SUMMARY covers both boots.
 */
#include <stdint.h>

#include "lib/alloc.h"
#include "lib/boot.h"
#include "lib/fault.h"
#include "lib/hv_testdev.h"
#include "lib/report.h"
#include "lib/smp.h"
#include "lib/string.h"
#include "lib/synic.h"
#include "lib/timing.h"
#include "lib/x86.h"
#include "suites/suite.h"

#define CMOS_INDEX      0x70
#define CMOS_DATA       0x71
#define CMOS_NMI_OFF    0x80    /* keep NMIs masked while indexing */

/* NVRAM bytes 0x70-0x7f: untouched by SeaBIOS and QEMU's CMOS set-up */
#define NV_MAGIC        0x70    /* NOTE_MAGIC while a note is pending */
#define NV_PASSED       0x71    /* 2 bytes */
#define NV_FAILED       0x73    /* 2 bytes */
#define NV_SIMP_PFN     0x75    /* 3 bytes: cpu 0's SIMP page */
#define NV_SIEFP_PFN    0x78    /* 3 bytes: the event target's SIEFP */
#define NOTE_MAGIC      0xa5

#define RESET_CONTROL   0xcf9
#define RESET_HARD      0x06    /* system reset + reset CPU */
#define RESET_WAIT_US   5000000ull

#define MSG_CONN        0x70
#define EVT_CONN        0x71
#define NEW_CONN        0x72
#define MSG_SINT        2
#define EVT_SINT        3
#define ROUTE_SINT      4
#define MSG_VECTOR      0xe2
#define EVT_VECTOR      0xe3
#define ROUTE_VECTOR    0xe4
#define NEW_SINT        5
#define NEW_VECTOR      0xe5
#define FENCE_CONN      0x78    /* + vCPU */
#define FENCE_SINT      13
#define FENCE_VECTOR    0xed

static uint8_t cmos_read(uint8_t idx)
{
    outb(CMOS_INDEX, CMOS_NMI_OFF | idx);
    return inb(CMOS_DATA);
}

static void cmos_write(uint8_t idx, uint8_t val)
{
    outb(CMOS_INDEX, CMOS_NMI_OFF | idx);
    outb(CMOS_DATA, val);
}

static uint32_t cmos_read_n(uint8_t idx, unsigned int n)
{
    uint32_t v = 0;

    while (n--) {
        v = v << 8 | cmos_read(idx + n);
    }
    return v;
}

static void cmos_write_n(uint8_t idx, unsigned int n, uint32_t v)
{
    unsigned int i;

    for (i = 0; i < n; i++, v >>= 8) {
        cmos_write(idx + i, v & 0xff);
    }
}

static unsigned int event_cpu(void)
{
    return cpu_count() > 1 ? 1 : 0;
}

static void program_sints(void *arg)
{
    sint_program(MSG_SINT, MSG_VECTOR, 0);
    sint_program(EVT_SINT, EVT_VECTOR, 0);
    sint_program(ROUTE_SINT, ROUTE_VECTOR, 0);
}

static void install_handlers(void)
{
    sint_irq_install(MSG_VECTOR);
    sint_irq_install(EVT_VECTOR);
    sint_irq_install(ROUTE_VECTOR);
    sint_irq_install(NEW_VECTOR);
}

static void leave_state_behind(bool live)
{
    struct hv_message *m = synic_slot(0, MSG_SINT);
    static const char a[] = "before reset", b[] = "pending at reset";
    uint16_t st;
    bool ok;

    hv_testdev_msg_conn_create(MSG_CONN, 0, MSG_SINT);
    hv_testdev_evt_conn_create(EVT_CONN, event_cpu(), EVT_SINT);
    st = hv_post_message_retry(MSG_CONN, 0x501, a, sizeof(a));
    ok = wait_for(msg_type(m) == 0x501, SYNIC_ARRIVE_US);
    report(st == HV_STATUS_SUCCESS && ok, "boot 1: message left in cpu 0's "
           "slot (status 0x%x)", st);
    st = hv_signal_event(EVT_CONN, 0);
    ok = wait_for(flag_test(event_cpu(), EVT_SINT, EVT_CONN),
                  SYNIC_ARRIVE_US);
    report(st == HV_STATUS_SUCCESS && ok, "boot 1: flag left in cpu %u's "
           "SIEFP (status 0x%x)", event_cpu(), st);
    if (!live) {
        hv_testdev_msg_conn_destroy(MSG_CONN);
        hv_testdev_evt_conn_destroy(EVT_CONN);
        return;
    }
    st = hv_post_message_retry(MSG_CONN, 0x502, b, sizeof(b));
    ok = wait_for(msg_flags(m) & HV_MESSAGE_FLAG_PENDING, SYNIC_ARRIVE_US);
    report(st == HV_STATUS_SUCCESS && ok, "boot 1: second message pending "
           "behind the first (status 0x%x)", st);
    hv_testdev_route_create(0, ROUTE_SINT);
}

static void boot_one(bool live)
{
    uint32_t simp_pfn, siefp_pfn;
    unsigned int cpu;

    report_info("boot 1: setting up, then resetting through port 0xcf9");
    if (!synic_enable_all("boot 1")) {
        return;
    }
    install_handlers();
    for (cpu = 0; cpu < cpu_count(); cpu++) {
        on_cpu(cpu, program_sints, NULL);
    }
    leave_state_behind(live);

    simp_pfn = virt_to_phys(synic_simp(0)) >> 12;
    siefp_pfn = virt_to_phys(synic_siefp(event_cpu())) >> 12;
    cmos_write_n(NV_SIMP_PFN, 3, simp_pfn);
    cmos_write_n(NV_SIEFP_PFN, 3, siefp_pfn);
    /* the pass line below is counted on boot 2, with the others */
    cmos_write_n(NV_PASSED, 2, report_passed() + 1);
    cmos_write_n(NV_FAILED, 2, report_failed());
    cmos_write(NV_MAGIC, NOTE_MAGIC);
    /* boot 2 trusts the note: it must read back before the reset */
    if (!report(cmos_read_n(NV_SIMP_PFN, 3) == simp_pfn &&
                cmos_read_n(NV_SIEFP_PFN, 3) == siefp_pfn &&
                cmos_read(NV_MAGIC) == NOTE_MAGIC, "boot 1: the note for "
                "boot 2 reads back from CMOS, resetting")) {
        cmos_write(NV_MAGIC, 0);
        return;
    }
    outb(RESET_CONTROL, RESET_HARD);
    /*
     * No fence here: QEMU stops this vCPU inside the port write, so a
     * reset that works never gets back to this line, however slow the
     * host.  The wait only decides how soon a reset that never comes is
     * reported.
     */
    udelay(RESET_WAIT_US);
    cmos_write(NV_MAGIC, 0);
    report(false, "boot 1: still running %llu s after the reset request",
           RESET_WAIT_US / 1000000);
}

struct msr_expect {
    uint32_t msr;
    const char *name;
    uint64_t want;
};

static void check_reset_msrs(void *arg)
{
    static const struct msr_expect e[] = {
        { HV_X64_MSR_SCONTROL, "SCONTROL", 0 },
        { HV_X64_MSR_SIMP, "SIMP", 0 },
        { HV_X64_MSR_SIEFP, "SIEFP", 0 },
        { HV_X64_MSR_GUEST_OS_ID, "GUEST_OS_ID", 0 },
    };
    unsigned int cpu = smp_id(), i, bad = 0;
    uint64_t v = 0;

    for (i = 0; i < sizeof(e) / sizeof(e[0]); i++) {
        int vec = rdmsr_safe(e[i].msr, &v);

        report(vec == NO_FAULT && v == e[i].want, "boot 2: cpu %u %s at its "
               "reset value 0x%lx (0x%lx)", cpu, e[i].name, e[i].want, v);
    }
    /*
     * QEMU restores GUEST_OS_ID = 0 before HYPERCALL = 0, and KVM ignores
     * a HYPERCALL write while the OS ID is 0 (it only clears the enable
     * bit when the OS ID goes to 0): the address survives the reset.
     */
    rdmsr_safe(HV_X64_MSR_HYPERCALL, &v);
    report(!(v & HV_HYPERCALL_ENABLE), "boot 2: cpu %u hypercall page "
           "disabled (HYPERCALL 0x%lx)", cpu, v);
    for (i = 0; i < HV_SINT_COUNT; i++) {
        rdmsr_safe(HV_X64_MSR_SINT(i), &v);
        bad += v != HV_SINT_MASKED;
    }
    report(bad == 0, "boot 2: cpu %u SINT0-15 masked again (%u differ)", cpu,
           bad);
}

static bool page_is_zero(const void *p)
{
    static const uint8_t zero[256];
    unsigned int off;

    for (off = 0; off < PAGE_SIZE; off += sizeof(zero)) {
        if (memcmp((const uint8_t *)p + off, zero, sizeof(zero))) {
            return false;
        }
    }
    return true;
}

#define CLAIM_LIMIT     256

/*
 * Boot 2 allocates in the same order as boot 1, so boot 1's SIMP and
 * SIEFP pages come out of the allocator again within a few pages: take
 * them, so that nothing else lands there.
 */
static bool claim_pages(uint64_t simp_gpa, uint64_t siefp_gpa, void **simp,
                        void **siefp)
{
    unsigned int i;

    *simp = *siefp = NULL;
    for (i = 0; i < CLAIM_LIMIT && (!*simp || !*siefp); i++) {
        void *p = alloc_page();

        if (!p) {
            break;
        }
        if (virt_to_phys(p) == simp_gpa) {
            *simp = p;
        } else if (virt_to_phys(p) == siefp_gpa) {
            *siefp = p;
        }
    }
    return *simp && *siefp;
}

static void reuse_siefp(void *arg)
{
    program_sints(NULL);
    wrmsr_safe(HV_X64_MSR_SIEFP, virt_to_phys(arg) | HV_SIEFP_ENABLE);
    wrmsr_safe(HV_X64_MSR_SCONTROL, HV_SCONTROL_ENABLE);
}

/*
 * Instead of a pause before "nothing arrived": wait until the host has
 * handled what it was asked before (synic_fence) on the vCPUs whose
 * SynIC boot 2 turns on, cpu 0 and the event target.  A fence that does
 * not come back is a failure.
 */
static void fence(const char *what)
{
    synic_fence_on(0, FENCE_CONN, FENCE_SINT, what);
    if (event_cpu() != 0) {
        synic_fence_on(event_cpu(), FENCE_CONN, FENCE_SINT, what);
    }
}

static void check_no_leftovers(bool live)
{
    uint64_t simp_gpa = (uint64_t)cmos_read_n(NV_SIMP_PFN, 3) << 12;
    uint64_t siefp_gpa = (uint64_t)cmos_read_n(NV_SIEFP_PFN, 3) << 12;
    void *simp, *siefp, *own_siefp = NULL;
    uint16_t st;

    if (!report(claim_pages(simp_gpa, siefp_gpa, &simp, &siefp), "boot 2: "
                "boot 1's SIMP 0x%lx and SIEFP 0x%lx pages claimed again",
                simp_gpa, siefp_gpa)) {
        return;
    }
    hv_post_input();
    install_handlers();
    sint_irq_clear();
    program_sints(NULL);
    wrmsr_safe(HV_X64_MSR_SIMP, simp_gpa | HV_SIMP_ENABLE);
    wrmsr_safe(HV_X64_MSR_SCONTROL, HV_SCONTROL_ENABLE);
    on_cpu(event_cpu(), reuse_siefp, siefp);
    /* cpu 0 has no SIEFP of boot 1's to reuse, but a fence needs one */
    if (event_cpu() != 0) {
        own_siefp = alloc_page();
    }
    if (own_siefp) {
        wrmsr_safe(HV_X64_MSR_SIEFP,
                   virt_to_phys(own_siefp) | HV_SIEFP_ENABLE);
    }
    synic_fence_setup(FENCE_CONN, FENCE_SINT, FENCE_VECTOR, true);
    fence("boot 2");
    report(page_is_zero(simp), "boot 2: SIMP at boot 1's page holds no "
           "stale message");
    report(page_is_zero(siefp), "boot 2: SIEFP at boot 1's page holds no "
           "stale flag");
    if (live) {
        hv_testdev_route_set(0, ROUTE_SINT);
    }
    fence("boot 2");
    report(sint_irq_count(0, MSG_VECTOR) + sint_irq_count(0, ROUTE_VECTOR) +
           sint_irq_count(event_cpu(), EVT_VECTOR) == 0,
           "boot 2: no interrupt from boot 1's routes and connections");
    st = hv_post_message(MSG_CONN, 0x503, "x", 1);
    report(st == HV_STATUS_INVALID_CONNECTION_ID, "boot 2: boot 1's message "
           "connection is gone (status 0x%x)", st);
    st = hv_signal_event(EVT_CONN, 0);
    report(st == HV_STATUS_INVALID_CONNECTION_ID, "boot 2: boot 1's event "
           "connection is gone (status 0x%x)", st);
    fence("boot 2");
    report(page_is_zero(simp) && page_is_zero(siefp), "boot 2: still no "
           "message or flag in those pages");
    synic_fence_setup(FENCE_CONN, FENCE_SINT, FENCE_VECTOR, false);
    if (own_siefp) {
        wrmsr_safe(HV_X64_MSR_SIEFP, 0);
        free_page(own_siefp);
    }
}

static void boot_two(bool live)
{
    unsigned int cpu;

    report_carry(cmos_read_n(NV_PASSED, 2), cmos_read_n(NV_FAILED, 2));
    cmos_write(NV_MAGIC, 0);
    report(true, "boot 2: the guest came back after the reset");
    for (cpu = 0; cpu < cpu_count(); cpu++) {
        on_cpu(cpu, check_reset_msrs, NULL);
    }
    if (!report(hv_hypercall_setup(), "boot 2: hypercall page enabled")) {
        return;
    }
    check_no_leftovers(live);
    wrmsr_safe(HV_X64_MSR_SIMP, 0);
    wrmsr_safe(HV_X64_MSR_SCONTROL, 0);
    if (report(synic_enable(), "boot 2: cpu 0 SynIC enabled on new pages")) {
        report(synic_roundtrip(NEW_CONN, NEW_SINT, NEW_VECTOR),
               "boot 2: a new connection delivers a message");
        synic_disable();
    }
}

static void synic_reset(void)
{
    const char *live = opt_get("live");
    bool is_live = live && !strcmp(live, "1");

    if (cmos_read(NV_MAGIC) == NOTE_MAGIC) {
        boot_two(is_live);
    } else {
        boot_one(is_live);
    }
}

DEFINE_SUITE("synic-reset", synic_reset);
