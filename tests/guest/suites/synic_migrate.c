// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * suite=synic-migrate: SynIC state in flight across a live migration.
 * Not in run-suites.sh's table: it needs two QEMUs and a host that
 * migrates between them, which tests/nested/migrate.sh provides.
 *
 * Protocol with the host:
 *   1. Before migration (on the source), every vCPU enables its SynIC;
 *      hyperv-testdev gets a message connection, an event connection or
 *      two and a SINT route per vCPU.  Each vCPU's message slot is left
 *      holding message 1 (unconsumed) with message 2 posted behind it, so
 *      msg_pending is set; event flags 0 and 255 (vCPU 0) and 0x80 + n
 *      (vCPU n) are set by the host, and the guest sets the last flag of
 *      the area itself (testdev connection IDs, hence flag numbers, stop
 *      at 255).  The guest prints "MIGRATE: READY" and polls COM1 for the
 *      byte 'G', stamping a counter into normal RAM and into both overlay
 *      pages meanwhile (dirty tracking of the overlay RAM).
 *   2. The host migrates to a destination started with -S, writes 'G' to
 *      its COM1 while it is paused, and resumes it.
 *   3. On the destination the guest checks what it left: slot contents
 *      and msg_pending, the flags, no interrupt in between, the counters;
 *      then consumes message 1 with EOM and checks what comes next.
 * Reference time goes along: the guest enables the reference TSC page
 * before it is ready and reads reference time with each stamp (through
 * the page while it is valid, else TIME_REF_COUNT).  On the destination
 * it must continue from the last value, not go back, not jump by more
 * than CLOCK_JUMP_MAX, and (lab=1: every KVM there calls its TSC stable)
 * the page must be valid again within PAGE_VALID_US.
 *
 * Message 2 does not survive the migration, by design.  The SynIC moves
 * a message into a slot only when the slot is empty; until then the
 * message waits in the device that posted it (here hyperv-testdev; the
 * SynIC keeps the route's copy).  Routes, connections and staged copies
 * are host state of that device, and hyperv-testdev has no migration
 * state, in QEMU 10.0.2 as in ours.  Giving it some would add a section
 * that an upstream 10.0.2 destination refuses ("unknown section"), and
 * stream compatibility with upstream is the goal, so we keep it without:
 * what migrates is what the guest can see (slot contents, msg_pending,
 * flags, SynIC MSRs).  A guest of hyperv-testdev re-creates its routes
 * and connections after migration and re-sends what has not arrived,
 * which is what this suite does.  The checks pin that behaviour down:
 * after EOM the destination delivers nothing for the old connection
 * (no ghost route, no duplicate of message 1), and the re-sent message 2
 * arrives exactly once.  Devices with real traffic (VMBus) carry their
 * pending messages in their own migration state.
 */
#include <stdint.h>

#include "lib/alloc.h"
#include "lib/apic.h"
#include "lib/boot.h"
#include "lib/fault.h"
#include "lib/hv_testdev.h"
#include "lib/hyperv.h"
#include "lib/report.h"
#include "lib/serial.h"
#include "lib/smp.h"
#include "lib/string.h"
#include "lib/synic.h"
#include "lib/timing.h"
#include "lib/x86.h"
#include "suites/suite.h"

#define MAX_MIG_CPUS    8

/* SINT 15's area ends the event page, so its last flag is the page's. */
#define MSG_SINT        3
#define ROUTE_SINT      5
#define STAMP_SINT      14      /* unused by the host: the guest's stamps */
#define EVT_SINT        15
#define MSG_VECTOR      0xc3
#define ROUTE_VECTOR    0xc5
#define EVT_VECTOR      0xcf
#define AEOI_SINT       7       /* vCPU 0 only, AutoEOI */
#define AEOI_VECTOR     0xd7

#define MSG_CONN        0x30    /* + vCPU */
#define EVT_CONN_LOW    0       /* vCPU 0: flags 0 and 255 */
#define EVT_CONN_HIGH   255
#define EVT_CONN_OTHER  0x80    /* + vCPU, for vCPUs 1 and up */
#define MARK_FLAG       (HV_EVENT_FLAGS_COUNT - 1)

#define MSG_TYPE        0x4d494700u
#define MSG_MAGIC       0x6d696772u

/* The host's go: a byte on COM1 */
#define GO_BYTE         'G'
#define GO_TIMEOUT_US   600000000ull    /* the lab bounds it sooner */
#define CLOCK_JUMP_MAX  (30 * UINT64_C(10000000))   /* 30 s: a slow lab */
#define PAGE_VALID_US   5000000
#define GO_POLL_US      2000

struct mig_payload {
    uint32_t magic;
    uint32_t cpu;
    uint32_t seq;
    char text[28];
};

/* Interrupt counts at READY, per vCPU: the destination compares. */
struct irq_snapshot {
    unsigned int msg, evt, route;
};

static struct irq_snapshot at_ready[MAX_MIG_CPUS];

/* The stamp in normal RAM; the overlay stamps follow it in program order */
static uint64_t ram_stamp;

static unsigned int ncpus(void)
{
    return cpu_count() < MAX_MIG_CPUS ? cpu_count() : MAX_MIG_CPUS;
}

static struct mig_payload payload(unsigned int cpu, unsigned int seq)
{
    struct mig_payload p;

    memset(&p, 0, sizeof(p));
    p.magic = MSG_MAGIC;
    p.cpu = cpu;
    p.seq = seq;
    snprintf(p.text, sizeof(p.text), "message %u to cpu %u", seq, cpu);
    return p;
}

/* The host-set flags of a vCPU's EVT_SINT area (and their connections) */
static unsigned int evt_flags(unsigned int cpu, unsigned int flags[2])
{
    if (cpu == 0) {
        flags[0] = EVT_CONN_LOW;
        flags[1] = EVT_CONN_HIGH;
        return 2;
    }
    flags[0] = EVT_CONN_OTHER + cpu;
    return 1;
}

static void program_sints(void *arg)
{
    sint_program(MSG_SINT, MSG_VECTOR, 0);
    sint_program(ROUTE_SINT, ROUTE_VECTOR, 0);
    sint_program(EVT_SINT, EVT_VECTOR, 0);
}

/* Routes and connections of every vCPU; hyperv-testdev answers nothing. */
static void testdev_setup(void)
{
    unsigned int cpu, i, n, flags[2];

    for (cpu = 0; cpu < ncpus(); cpu++) {
        hv_testdev_msg_conn_create(MSG_CONN + cpu, cpu, MSG_SINT);
        hv_testdev_route_create(cpu, ROUTE_SINT);
        n = evt_flags(cpu, flags);
        for (i = 0; i < n; i++) {
            hv_testdev_evt_conn_create(flags[i], cpu, EVT_SINT);
        }
    }
}

/* Post message seq to cpu and wait until it sits in the slot, raised. */
static bool post_and_arrive(const char *what, unsigned int cpu,
                            unsigned int seq, unsigned int irqs)
{
    struct hv_message *m = synic_slot(cpu, MSG_SINT);
    struct mig_payload p = payload(cpu, seq);
    uint16_t st = hv_post_message_retry(MSG_CONN + cpu, MSG_TYPE, &p,
                                        sizeof(p));
    bool ok = st == HV_STATUS_SUCCESS &&
              wait_for(msg_type(m) == MSG_TYPE &&
                       sint_irq_count(cpu, MSG_VECTOR) >= irqs,
                       SYNIC_ARRIVE_US) &&
              msg_payload_equals(m, &p, sizeof(p));

    return report(ok, "%s: cpu %u message %u in its slot with its interrupt "
                  "(status 0x%x, type 0x%x, %u irqs)", what, cpu, seq, st,
                  msg_type(m), sint_irq_count(cpu, MSG_VECTOR));
}

/*
 * A slot that must stay empty, with no interrupt, for the quiet time.  A
 * pause, not a fence: what could still come is a staged message retried
 * after the EOM, and on the kernel path (ours and upstream 10.0.2, both
 * sides of most pairs) the retry runs on the vCPU's thread, queued from
 * the main loop, which a fence through the main loop does not order.
 */
static bool slot_stays_empty(unsigned int cpu, unsigned int irqs)
{
    struct hv_message *m = synic_slot(cpu, MSG_SINT);

    udelay(SYNIC_QUIET_US);
    return msg_type(m) == HV_MESSAGE_NONE &&
           sint_irq_count(cpu, MSG_VECTOR) == irqs;
}

static void release_own(void *arg)
{
    msg_release(synic_slot(smp_id(), MSG_SINT), true);
}

/* --- before migration ----------------------------------------------- */

static void fill_slots(void)
{
    unsigned int cpu;

    for (cpu = 0; cpu < ncpus(); cpu++) {
        struct hv_message *m = synic_slot(cpu, MSG_SINT);
        struct mig_payload first = payload(cpu, 1), second = payload(cpu, 2);
        uint16_t st;
        bool ok;

        post_and_arrive("source", cpu, 1, 1);
        /* The slot is full: the host stages it and sets msg_pending. */
        st = hv_post_message_retry(MSG_CONN + cpu, MSG_TYPE, &second,
                                   sizeof(second));
        ok = st == HV_STATUS_SUCCESS &&
             wait_for(msg_flags(m) & HV_MESSAGE_FLAG_PENDING,
                      SYNIC_ARRIVE_US);
        report(ok, "source: cpu %u message 2 accepted behind message 1, "
               "msg_pending set (status 0x%x, flags 0x%x)", cpu, st,
               msg_flags(m));
        /*
         * A pause, as in slot_stays_empty(): message 2 sits staged, and
         * on the kernel path it moves on the vCPU's thread.
         */
        udelay(SYNIC_QUIET_US);
        report(msg_type(m) == MSG_TYPE &&
               msg_payload_equals(m, &first, sizeof(first)) &&
               sint_irq_count(cpu, MSG_VECTOR) == 1,
               "source: cpu %u slot still holds message 1, no second "
               "interrupt (%u irqs)", cpu, sint_irq_count(cpu, MSG_VECTOR));
    }
}

static void set_flags(void)
{
    unsigned int cpu, i, n, flags[2];

    for (cpu = 0; cpu < ncpus(); cpu++) {
        n = evt_flags(cpu, flags);
        for (i = 0; i < n; i++) {
            uint16_t st = hv_signal_event(flags[i], 0);
            bool ok = st == HV_STATUS_SUCCESS &&
                      wait_for(flag_test(cpu, EVT_SINT, flags[i]) &&
                               sint_irq_count(cpu, EVT_VECTOR) >= i + 1,
                               SYNIC_ARRIVE_US);

            report(ok, "source: cpu %u event flag %u set by the host, with "
                   "its interrupt (status 0x%x, %u irqs)", cpu, flags[i], st,
                   sint_irq_count(cpu, EVT_VECTOR));
        }
        /* The guest's own mark on the last flag of the page */
        __atomic_fetch_or(&synic_siefp(cpu)->slot[EVT_SINT][MARK_FLAG / 64],
                          UINT64_C(1) << (MARK_FLAG % 64), __ATOMIC_SEQ_CST);
    }
}

static void raise_routes(const char *what)
{
    unsigned int cpu, before;
    bool ok;

    for (cpu = 0; cpu < ncpus(); cpu++) {
        before = sint_irq_count(cpu, ROUTE_VECTOR);
        hv_testdev_route_set(cpu, ROUTE_SINT);
        ok = sint_irq_wait(cpu, ROUTE_VECTOR, before + 1, SYNIC_ARRIVE_US);
        report(ok, "%s: cpu %u SINT route raised its interrupt (%u -> %u)",
               what, cpu, before, sint_irq_count(cpu, ROUTE_VECTOR));
    }
}

/* volatile: the host writes the page behind the compiler's back */
static volatile struct hv_tsc_page *tsc_page;
static uint64_t ref_last;       /* reference time at the last stamp */
static bool ref_last_page;

/* Reference time through the page if it is valid, else the MSR. */
static uint64_t ref_read(bool *from_page)
{
    uint64_t ref;

    *from_page = tsc_page && hv_tsc_page_read(tsc_page, &ref);
    return *from_page ? ref : rdmsr(HV_X64_MSR_TIME_REF_COUNT);
}

/* The stamp goes to RAM first, then to every overlay page. */
static void stamp(uint64_t n)
{
    unsigned int cpu;

    ref_last = ref_read(&ref_last_page);

    __atomic_store_n(&ram_stamp, n, __ATOMIC_RELEASE);
    for (cpu = 0; cpu < ncpus(); cpu++) {
        uint64_t *simp_word = (uint64_t *)synic_slot(cpu, STAMP_SINT)->payload;

        __atomic_store_n(simp_word, n, __ATOMIC_RELEASE);
        __atomic_store_n(&synic_siefp(cpu)->slot[STAMP_SINT][0], n,
                         __ATOMIC_RELEASE);
    }
}

/*
 * Poll COM1 for the host's go, stamping meanwhile; true when it came.
 * The host queues the go while the destination is still paused, so the
 * guest sees it before it stamps anything there: the stamps found on the
 * destination are the source's last ones.
 */
static bool wait_for_go(void)
{
    return serial_wait_byte(GO_BYTE, GO_TIMEOUT_US, GO_POLL_US, stamp);
}

/*
 * An AutoEOI SINT raised on vCPU 0 while its interrupts are off, left
 * pending across the migration: in the local APIC's IRR, or, on the user
 * path on KVM, held by QEMU (which keeps AutoEOI vectors away from KVM's
 * APIC and migrates what it holds).  Interrupts stay off until the go.
 */
static void aeoi_raise_held(void)
{
    sint_irq_install(AEOI_VECTOR);
    sint_program(AEOI_SINT, AEOI_VECTOR, HV_SINT_AUTO_EOI);
    hv_testdev_route_create(0, AEOI_SINT);
    irq_disable();
    /*
     * The route stays: it is the source's, and destroying it now could
     * drop the raise before QEMU's main loop took it.
     */
    hv_testdev_route_set(0, AEOI_SINT);
}

/* After the go: the pending AutoEOI interrupt comes once, at sti. */
static void aeoi_check_held(void)
{
    unsigned int before = sint_irq_count(0, AEOI_VECTOR);
    bool ok;

    irq_enable();
    ok = sint_irq_wait(0, AEOI_VECTOR, 1, SYNIC_ARRIVE_US);
    report(before == 0 && ok, "destination: the AutoEOI SINT raised with "
           "interrupts off before the migration arrives once they are on "
           "(%u before, %u after)", before, sint_irq_count(0, AEOI_VECTOR));
    if (!has_quirk("apic-isr-hidden")) {
        report(!apic_isr_test(AEOI_VECTOR), "destination: its vector is not "
               "in service (AutoEOI)");
    }
}

/* --- after migration -------------------------------------------------- */

static void check_slots(void)
{
    unsigned int cpu;

    for (cpu = 0; cpu < ncpus(); cpu++) {
        struct hv_message *m = synic_slot(cpu, MSG_SINT);
        struct mig_payload first = payload(cpu, 1);

        report(msg_type(m) == MSG_TYPE &&
               msg_payload_equals(m, &first, sizeof(first)),
               "destination: cpu %u slot holds message 1, payload intact "
               "(type 0x%x)", cpu, msg_type(m));
        report(msg_flags(m) & HV_MESSAGE_FLAG_PENDING,
               "destination: cpu %u msg_pending still set (flags 0x%x)",
               cpu, msg_flags(m));
    }
}

static void check_flags(void)
{
    unsigned int cpu, i, n, flags[2];

    for (cpu = 0; cpu < ncpus(); cpu++) {
        bool all = flag_test(cpu, EVT_SINT, MARK_FLAG);

        n = evt_flags(cpu, flags);
        for (i = 0; i < n; i++) {
            all &= flag_test(cpu, EVT_SINT, flags[i]);
        }
        report(all && flags_count(cpu, EVT_SINT) == n + 1,
               "destination: cpu %u event flags kept: %u host-set and flag "
               "%u, nothing else (%u set)", cpu, n, MARK_FLAG,
               flags_count(cpu, EVT_SINT));
    }
}

static void check_quiet_migration(void)
{
    unsigned int cpu;

    for (cpu = 0; cpu < ncpus(); cpu++) {
        struct irq_snapshot *s = &at_ready[cpu];

        report(sint_irq_count(cpu, MSG_VECTOR) == s->msg &&
               sint_irq_count(cpu, EVT_VECTOR) == s->evt &&
               sint_irq_count(cpu, ROUTE_VECTOR) == s->route,
               "destination: cpu %u took no SINT interrupt across the "
               "migration (msg %u -> %u, evt %u -> %u, route %u -> %u)",
               cpu, s->msg, sint_irq_count(cpu, MSG_VECTOR), s->evt,
               sint_irq_count(cpu, EVT_VECTOR), s->route,
               sint_irq_count(cpu, ROUTE_VECTOR));
    }
}

/*
 * Stamps written while the source ran must have reached the destination:
 * the overlay pages are RAM of QEMU's that the guest dirties through KVM.
 * The vCPU may have stopped between the RAM stamp and the overlay ones.
 */
static void clock_setup(void)
{
    void *p = alloc_page();

    if (!report(p != NULL, "clock: a page for the reference TSC page")) {
        return;
    }
    memset(p, 0, PAGE_SIZE);
    wrmsr(HV_X64_MSR_REFERENCE_TSC, virt_to_phys(p) | HV_REFERENCE_TSC_ENABLE);
    tsc_page = p;
}

static void check_clock(void)
{
    const char *lab = opt_get("lab");
    uint64_t before = ref_last, after;
    bool page_before = ref_last_page, page_after;

    after = ref_read(&page_after);
    report(after >= before && after - before < CLOCK_JUMP_MAX,
           "clock: reference time continues on the destination (+%lu us, "
           "%s before, %s after)", (after - before) / 10,
           page_before ? "page" : "MSR", page_after ? "page" : "MSR");
    if (!tsc_page) {
        return;
    }
    if (lab && !strcmp(lab, "1")) {
        report(wait_for(tsc_page->sequence != 0, PAGE_VALID_US),
               "clock: the reference TSC page is valid on the destination "
               "(sequence %u)", tsc_page->sequence);
    } else {
        report_info("clock: reference TSC page sequence %u on the "
                    "destination", tsc_page->sequence);
    }
    before = ref_read(&page_before);
    udelay(1000);
    after = ref_read(&page_after);
    report(after > before, "clock: and goes on (%lu -> %lu)", before, after);
}

static void check_stamps(void)
{
    uint64_t ram = __atomic_load_n(&ram_stamp, __ATOMIC_ACQUIRE);
    unsigned int cpu;

    report_info("destination: stamp %lu in RAM when the go came", ram);
    for (cpu = 0; cpu < ncpus(); cpu++) {
        uint64_t simp = __atomic_load_n(
            (uint64_t *)synic_slot(cpu, STAMP_SINT)->payload,
            __ATOMIC_ACQUIRE);
        uint64_t siefp = __atomic_load_n(
            &synic_siefp(cpu)->slot[STAMP_SINT][0], __ATOMIC_ACQUIRE);

        report(ram > 0 && simp <= ram && ram - simp <= 1 && siefp <= ram &&
               ram - siefp <= 1,
               "destination: cpu %u overlay pages carry the last stamps "
               "(RAM %lu, SIMP %lu, SIEFP %lu)", cpu, ram, simp, siefp);
    }
}

/* hyperv-testdev's routes and connections are host state: gone. */
static void check_testdev_gone(void)
{
    struct mig_payload p = payload(0, 0);
    uint16_t post = hv_post_message(MSG_CONN, MSG_TYPE, &p, sizeof(p));
    uint16_t sig = hv_signal_event(EVT_CONN_LOW, 0);

    report(post == HV_STATUS_INVALID_CONNECTION_ID &&
           sig == HV_STATUS_INVALID_CONNECTION_ID,
           "destination: hyperv-testdev connections did not migrate "
           "(post 0x%x, signal 0x%x)", post, sig);
}

/* EOM on message 1; the staged message 2 went with the source's device */
static void consume_first(void)
{
    unsigned int cpu;

    for (cpu = 0; cpu < ncpus(); cpu++) {
        unsigned int irqs = sint_irq_count(cpu, MSG_VECTOR);
        bool ok = on_cpu(cpu, release_own, NULL) &&
                  slot_stays_empty(cpu, irqs);

        report(ok, "destination: cpu %u after EOM on message 1 nothing "
               "arrives: the staged message 2 stayed in the source's "
               "hyperv-testdev (type 0x%x, %u irqs)", cpu,
               msg_type(synic_slot(cpu, MSG_SINT)),
               sint_irq_count(cpu, MSG_VECTOR));
    }
}

/* Message seq arrives once: then the slot stays empty after its EOM. */
static void deliver_once(unsigned int seq)
{
    unsigned int cpu, irqs;
    uint8_t flags;
    bool ok;

    for (cpu = 0; cpu < ncpus(); cpu++) {
        irqs = sint_irq_count(cpu, MSG_VECTOR);
        if (!post_and_arrive("destination", cpu, seq, irqs + 1)) {
            continue;
        }
        irqs = sint_irq_count(cpu, MSG_VECTOR);
        flags = msg_flags(synic_slot(cpu, MSG_SINT));
        ok = !(flags & HV_MESSAGE_FLAG_PENDING) &&
             on_cpu(cpu, release_own, NULL) && slot_stays_empty(cpu, irqs);
        report(ok, "destination: cpu %u message %u came exactly once (flags "
               "0x%x, then after EOM: type 0x%x, %u -> %u irqs)", cpu, seq,
               flags, msg_type(synic_slot(cpu, MSG_SINT)), irqs,
               sint_irq_count(cpu, MSG_VECTOR));
    }
}

static void events_again(void)
{
    unsigned int cpu, flags[2];

    for (cpu = 0; cpu < ncpus(); cpu++) {
        unsigned int before = sint_irq_count(cpu, EVT_VECTOR);
        uint16_t st;
        bool ok;

        evt_flags(cpu, flags);
        flag_clear(cpu, EVT_SINT, flags[0]);
        st = hv_signal_event(flags[0], 0);
        ok = st == HV_STATUS_SUCCESS &&
             wait_for(flag_test(cpu, EVT_SINT, flags[0]) &&
                      sint_irq_count(cpu, EVT_VECTOR) > before,
                      SYNIC_ARRIVE_US);
        report(ok, "destination: cpu %u event flag %u set again, with a new "
               "interrupt (status 0x%x, %u -> %u irqs)", cpu, flags[0], st,
               before, sint_irq_count(cpu, EVT_VECTOR));
    }
}

static void synic_migrate(void)
{
    unsigned int cpu;

    if (!report(cpu_count() >= 2 && cpu_count() <= MAX_MIG_CPUS,
                "setup: 2 to %u vCPUs (%u)", MAX_MIG_CPUS, cpu_count()) ||
        !synic_enable_all("setup")) {
        return;
    }
    sint_irq_install(MSG_VECTOR);
    sint_irq_install(ROUTE_VECTOR);
    sint_irq_install(EVT_VECTOR);
    for (cpu = 0; cpu < ncpus(); cpu++) {
        on_cpu(cpu, program_sints, NULL);
    }
    testdev_setup();
    fill_slots();
    set_flags();
    raise_routes("source");
    for (cpu = 0; cpu < ncpus(); cpu++) {
        at_ready[cpu].msg = sint_irq_count(cpu, MSG_VECTOR);
        at_ready[cpu].evt = sint_irq_count(cpu, EVT_VECTOR);
        at_ready[cpu].route = sint_irq_count(cpu, ROUTE_VECTOR);
    }

    aeoi_raise_held();
    clock_setup();

    printf("MIGRATE: READY\n");
    if (!report(wait_for_go(), "go: the host's go came on COM1")) {
        irq_enable();
        return;
    }
    check_clock();
    aeoi_check_held();
    check_slots();
    check_flags();
    check_quiet_migration();
    check_stamps();
    check_testdev_gone();
    consume_first();

    /* The guest's side of the contract: re-create, re-send. */
    testdev_setup();
    deliver_once(2);
    deliver_once(3);
    events_again();
    raise_routes("destination");
}

DEFINE_SUITE("synic-migrate", synic_migrate);
