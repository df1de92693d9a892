// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * suite=synic-defects: what QEMU 10.0.2's SynIC and hyperv-testdev get
 * wrong, checked against the TLFS (and against "QEMU survives").  Every
 * check here fails on 10.0.2; they are the acceptance tests of our own
 * SynIC, run as the synic-defects-* cases of run-suites.sh.
 *
 * part=<name> picks one group, since several of them kill QEMU 10.0.2
 * and would hide the checks after them:
 *
 *   status      statuses that differ from the TLFS (QEMU survives)
 *   vp          routes and connections to VP indexes that do not exist
 *               (10.0.2: NULL dereference in hyperv_find_vcpu)
 *   simp-off    HvPostMessage to a VP whose SIMP is off, and SIMP at
 *               GPA 0 (10.0.2 takes GPA 0 for "off"; then the testdev
 *               asserts on the -ENXIO)
 *   simp-far    SIMP and SIEFP at 1 << 46, beyond the host's physical
 *               address width (10.0.2 aborts: KVM refuses the memslot)
 *   simp-top    SIMP and SIEFP on the top page below the guest's own
 *               physical address width, run with a width above the
 *               host's (qemu64 and kvm64 have 40 bits, many hosts 39):
 *               KVM refuses such a memory slot, and 10.0.2 and our own
 *               first SynIC aborted; the page must stay unmapped instead
 *   siefp-off   HvSignalEvent to a VP whose SIEFP or SCONTROL is off
 *               (10.0.2: the testdev asserts on -ENXIO)
 *   sint16      connections to SINT 16 and 255 (10.0.2 indexes the
 *               message and flag pages with them: out of bounds)
 *   payload240  a message with the largest payload, 240 bytes (10.0.2:
 *               the testdev asserts payload_size < 240)
 *   missing     destroying or raising routes and connections that do
 *               not exist (10.0.2: g_assert_not_reached)
 *   dup         creating a connection ID twice (10.0.2: assert)
 *   race        payload_size changed by another vCPU during the call
 *               (10.0.2 reads it from guest memory three times; a stress
 *               check, it does not fail every time)
 *   stream      messages posted as fast as the connections take them
 *               (10.0.2's testdev copies a refused message over the one
 *               still pending: messages lost and repeated)
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
#include "suites/suite.h"
#include "suites/synic_stream.h"

#define PROBE_CONN      0x80
#define PROBE_SINT      1
#define PROBE_VECTOR    0xd1
#define CONN            0x81
#define CONN2           0x82
#define SINT            6
#define VECTOR          0xd6
#define MSG_TYPE        0x600
#define RACE_POSTS      2000
#define FENCE_CONN      0x88    /* + vCPU */
#define FENCE_SINT      13
#define FENCE_VECTOR    0xdd
#define RACE_LIMIT_US   60000000ull

static struct hv_message *slot;
static unsigned int irqs_seen;

static void alive(const char *after)
{
    report(synic_roundtrip(PROBE_CONN, PROBE_SINT, PROBE_VECTOR),
           "alive: QEMU still delivers a message after %s", after);
}

/*
 * Instead of a pause before "nothing arrived" or before the guest undoes
 * what a check depends on: wait until the host has handled what it was
 * asked before (synic_fence), however long a stalled host takes.  A
 * fence that does not come back is a failure.
 */
static void fence(unsigned int cpu, const char *what)
{
    synic_fence_on(cpu, FENCE_CONN, FENCE_SINT, what);
}

static void use_sint(unsigned int sint, uint8_t vector)
{
    sint_irq_install(vector);
    sint_program(sint, vector, 0);
    slot = synic_slot(0, sint);
    irqs_seen = sint_irq_count(0, vector);
}

/* Whether a message (or its interrupt) showed up; empties the slot. */
static bool delivered(uint8_t vector)
{
    fence(0, "status");
    return synic_msg_arrived(0, slot, vector, &irqs_seen);
}

static uint16_t post_in(void *where, uint32_t conn, uint32_t type,
                        uint32_t size)
{
    struct hv_post_message_input *in = where;

    memset(in, 0, sizeof(*in));
    in->connection_id = conn;
    in->message_type = type;
    in->payload_size = size;
    return hv_call(HVCALL_POST_MESSAGE, virt_to_phys(in), 0) &
           HV_STATUS_MASK;
}

static void expect_post(const char *what, uint16_t st, uint16_t want)
{
    bool got = delivered(VECTOR);

    report(st == want && !got, "status: HvPostMessage %s returns 0x%x, "
           "nothing delivered (status 0x%x%s)", what, want, st,
           got ? ", delivered" : "");
}

static uint64_t above_ram(void)
{
    uint64_t top = 0;
    unsigned int i;

    for (i = 0; i < boot_info.nr_ram; i++) {
        top = top > boot_info.ram[i].end ? top : boot_info.ram[i].end;
    }
    return (top + 0x1000000) & PAGE_MASK;
}

/* TLFS "HvCallPostMessage" and "Common hypercall status codes" */
static void post_statuses(void)
{
    uint8_t *two = alloc_pages(2);
    void *in = hv_post_input();
    uint16_t st;

    expect_post("payload_size 241", post_in(in, CONN, MSG_TYPE, 241),
                HV_STATUS_INVALID_PARAMETER);
    expect_post("payload_size 0xffffffff", post_in(in, CONN, MSG_TYPE,
                UINT32_MAX), HV_STATUS_INVALID_PARAMETER);
    expect_post("message type 0x80000001 (hypervisor range)",
                post_in(in, CONN, 0x80000001, 8), HV_STATUS_INVALID_PARAMETER);
    expect_post("message type 0", post_in(in, CONN, 0, 8),
                HV_STATUS_INVALID_PARAMETER);
    expect_post("input GPA 4 bytes off 8-byte alignment",
                post_in((uint8_t *)in + 4, CONN, MSG_TYPE, 8),
                HV_STATUS_INVALID_ALIGNMENT);
    if (two) {
        expect_post("input crossing a page boundary",
                    post_in(two + PAGE_SIZE - 128, CONN, MSG_TYPE, 8),
                    HV_STATUS_INVALID_ALIGNMENT);
    }
    st = hv_call(HVCALL_POST_MESSAGE, above_ram(), 0) & HV_STATUS_MASK;
    expect_post("input GPA above the top of RAM", st,
                HV_STATUS_INVALID_ALIGNMENT);
}

static void signal_statuses(void)
{
    uint16_t st;

    /*
     * Our ports are single event notifiers (see docs/decisions.md): flag
     * numbers 1..2047 name no flag of the port (INVALID_PORT_ID, checked
     * in synic-hcall); 2048 and beyond are out of any SINT's flags.
     */
    st = hv_signal_event(CONN, 2048);
    report(st == HV_STATUS_INVALID_PARAMETER, "status: HvSignalEvent flag "
           "number 2048 returns INVALID_PARAMETER (0x%x)", st);
    st = hv_signal_event(CONN, 0xffff);
    report(st == HV_STATUS_INVALID_PARAMETER, "status: HvSignalEvent flag "
           "number 0xffff returns INVALID_PARAMETER (0x%x)", st);
    flag_clear(0, SINT, CONN);
}

/*
 * A third post while the second still waits behind a full slot.  The
 * test device's connection holds one staged message, so the third is
 * refused with INSUFFICIENT_BUFFERS (the TLFS status for "no room", which
 * a guest retries) and never delivered, and the second must arrive
 * unchanged (10.0.2's testdev overwrote it with the third one's payload).
 */
static void third_post(void)
{
    static const char a[] = "first", b[] = "second", c[] = "third";
    uint16_t st;
    bool ok;

    hv_post_message_retry(CONN, 0x601, a, sizeof(a));
    wait_for(msg_type(slot) == 0x601, SYNIC_ARRIVE_US);
    hv_post_message_retry(CONN, 0x602, b, sizeof(b));
    wait_for(msg_flags(slot) & HV_MESSAGE_FLAG_PENDING, SYNIC_ARRIVE_US);
    st = hv_post_message(CONN, 0x603, c, sizeof(c));
    msg_release(slot, true);
    ok = wait_for(msg_type(slot) == 0x602, SYNIC_ARRIVE_US) &&
         msg_payload_equals(slot, b, sizeof(b));
    report(st == HV_STATUS_INSUFFICIENT_BUFFERS, "status: a third post "
           "behind a staged one returns INSUFFICIENT_BUFFERS (0x%x)", st);
    report(ok, "status: the staged message arrives intact after it "
           "(type 0x%x)", msg_type(slot));
    msg_release(slot, true);
    fence(0, "status");
    ok = msg_type(slot) == 0x603;
    report(!ok, "status: the refused third message is never delivered "
           "(slot type 0x%x)", msg_type(slot));
    msg_release(slot, true);
}

static void part_status(void)
{
    use_sint(SINT, VECTOR);
    hv_testdev_msg_conn_create(CONN, 0, SINT);
    hv_testdev_evt_conn_create(CONN, 0, SINT);
    post_statuses();
    signal_statuses();
    third_post();
    hv_testdev_msg_conn_destroy(CONN);
    hv_testdev_evt_conn_destroy(CONN);
    alive("the status checks");
}

static void part_vp(void)
{
    uint16_t st;

    /* the device has 8-bit VP indexes: 1000 arrives as 232 */
    hv_testdev_route_create(1000, SINT);
    alive("a SINT route to VP index 1000");
    hv_testdev_msg_conn_create(CONN, 200, SINT);
    st = hv_post_message(CONN, MSG_TYPE, "x", 1);
    report(st != HV_STATUS_SUCCESS, "vp: HvPostMessage to a connection for "
           "VP 200 is refused (0x%x)", st);
    alive("a message connection to VP 200");
    hv_testdev_evt_conn_create(CONN2, 200, SINT);
    st = hv_signal_event(CONN2, 0);
    report(st != HV_STATUS_SUCCESS, "vp: HvSignalEvent to a connection for "
           "VP 200 is refused (0x%x)", st);
    alive("an event connection to VP 200");
}

static void part_simp_off(void)
{
    uint64_t simp = virt_to_phys(synic_simp(0));
    uint16_t st;
    bool ok;

    use_sint(SINT, VECTOR);
    hv_testdev_msg_conn_create(CONN, 0, SINT);
    wrmsr_safe(HV_X64_MSR_SIMP, simp);
    st = hv_post_message(CONN, MSG_TYPE, "off", 4);
    report(st == HV_STATUS_SUCCESS || st == HV_STATUS_INVALID_SYNIC_STATE,
           "simp-off: HvPostMessage to a VP with SIMP off answers SUCCESS or "
           "INVALID_SYNIC_STATE (0x%x)", st);
    /* the host tries the slot while SIMP is still off (SIEFP is on) */
    fence(0, "simp-off");
    wrmsr_safe(HV_X64_MSR_SIMP, simp | HV_SIMP_ENABLE);
    alive("a message to a VP with SIMP off");

    /* GPA 0 is a page like any other */
    report(wrmsr_safe(HV_X64_MSR_SIMP, HV_SIMP_ENABLE) == NO_FAULT,
           "simp-off: SIMP enabled at GPA 0");
    slot = &((struct hv_message_page *)phys_to_virt(0))->slot[SINT];
    msg_release(slot, true);
    st = hv_post_message_retry(CONN, MSG_TYPE, "zero", 5);
    ok = wait_for(msg_type(slot) == MSG_TYPE, SYNIC_ARRIVE_US);
    report(st == HV_STATUS_SUCCESS && ok && msg_payload_equals(slot, "zero",
           5), "simp-off: a message is delivered to a SIMP at GPA 0 "
           "(status 0x%x)", st);
    msg_release(slot, true);
    wrmsr_safe(HV_X64_MSR_SIMP, simp | HV_SIMP_ENABLE);
    hv_testdev_msg_conn_destroy(CONN);
    alive("SIMP at GPA 0");
}

/*
 * SIMP or SIEFP beyond the host's physical address width.  KVM takes the
 * MSR write (SynIC2 checks nothing); QEMU 10.0.2 then tries to map its
 * page there, KVM refuses the memslot, and QEMU aborts.
 */
static void part_simp_far(void)
{
    static const uint32_t msrs[] = { HV_X64_MSR_SIMP, HV_X64_MSR_SIEFP };
    static const char *const names[] = { "SIMP", "SIEFP" };
    uint64_t far = UINT64_C(1) << 46, own = 0;
    unsigned int i;
    int vec;

    for (i = 0; i < 2; i++) {
        rdmsr_safe(msrs[i], &own);
        vec = wrmsr_safe(msrs[i], far | 1);
        report(vec == NO_FAULT || vec == GP_VECTOR, "simp-far: %s at 0x%lx "
               "is taken or refused with #GP (vector %d)", names[i], far,
               vec);
        wrmsr_safe(msrs[i], own);
        alive(i ? "SIEFP at 1 << 46" : "SIMP at 1 << 46");
    }
}

static void part_simp_top(void)
{
    static const uint32_t msrs[] = { HV_X64_MSR_SIMP, HV_X64_MSR_SIEFP };
    static const char *const names[] = { "SIMP", "SIEFP" };
    unsigned int bits = cpuid(0x80000008).a & 0xff, i;
    uint64_t top = (UINT64_C(1) << bits) - PAGE_SIZE, own = 0;
    int vec;

    report_info("simp-top: the guest has %u physical address bits", bits);
    for (i = 0; i < 2; i++) {
        rdmsr_safe(msrs[i], &own);
        vec = wrmsr_safe(msrs[i], top | 1);
        report(vec == NO_FAULT, "simp-top: %s at 0x%lx is taken (vector "
               "%d)", names[i], top, vec);
        wrmsr_safe(msrs[i], own);
        alive(i ? "SIEFP on the top page" : "SIMP on the top page");
    }
}

static void part_siefp_off(void)
{
    uint64_t siefp = virt_to_phys(synic_siefp(0));
    uint16_t st;

    use_sint(SINT, VECTOR);
    hv_testdev_evt_conn_create(CONN, 0, SINT);
    wrmsr_safe(HV_X64_MSR_SIEFP, siefp);
    st = hv_signal_event(CONN, 0);
    report(st == HV_STATUS_SUCCESS || st == HV_STATUS_INVALID_SYNIC_STATE,
           "siefp-off: HvSignalEvent to a VP with SIEFP off answers SUCCESS "
           "or INVALID_SYNIC_STATE (0x%x)", st);
    /*
     * The host tries the flag while SIEFP is still off.  vCPU 0 cannot
     * fence without its SIEFP, so vCPU 1 does (the cases run with two):
     * cpu 0's signal was ready in the main loop before the fence's, so
     * it has been handled by the time the fence comes back.
     */
    fence(1, "siefp-off");
    wrmsr_safe(HV_X64_MSR_SIEFP, siefp | HV_SIEFP_ENABLE);
    flag_clear(0, SINT, CONN);
    alive("an event to a VP with SIEFP off");

    wrmsr_safe(HV_X64_MSR_SCONTROL, 0);
    st = hv_signal_event(CONN, 0);
    report(st == HV_STATUS_SUCCESS || st == HV_STATUS_INVALID_SYNIC_STATE,
           "siefp-off: HvSignalEvent to a VP with SCONTROL off answers "
           "SUCCESS or INVALID_SYNIC_STATE (0x%x)", st);
    /* the same, with no SINT of vCPU 0 that could take a fence */
    fence(1, "siefp-off");
    wrmsr_safe(HV_X64_MSR_SCONTROL, HV_SCONTROL_ENABLE);
    flag_clear(0, SINT, CONN);
    hv_testdev_evt_conn_destroy(CONN);
    alive("an event to a VP with SCONTROL off");
}

static void part_sint16(void)
{
    static const unsigned int bad[] = { 16, 255 };
    unsigned int i;
    uint16_t st;

    for (i = 0; i < 2; i++) {
        hv_testdev_msg_conn_create(CONN + 2 * i, 0, bad[i]);
        st = hv_post_message(CONN + 2 * i, MSG_TYPE, "oob", 4);
        report(st != HV_STATUS_SUCCESS, "sint16: HvPostMessage to a "
               "connection for SINT %u is refused (0x%x)", bad[i], st);
        hv_testdev_evt_conn_create(CONN + 2 * i + 1, 0, bad[i]);
        st = hv_signal_event(CONN + 2 * i + 1, 0);
        report(st != HV_STATUS_SUCCESS, "sint16: HvSignalEvent to a "
               "connection for SINT %u is refused (0x%x)", bad[i], st);
        hv_testdev_route_create(0, bad[i]);
        hv_testdev_route_set(0, bad[i]);
        alive(bad[i] == 16 ? "connections to SINT 16" :
              "connections to SINT 255");
    }
}

static void part_payload240(void)
{
    uint8_t payload[HV_MESSAGE_PAYLOAD_SIZE];
    unsigned int i;
    uint16_t st;
    bool ok;

    for (i = 0; i < sizeof(payload); i++) {
        payload[i] = i ^ 0xa5;
    }
    use_sint(SINT, VECTOR);
    hv_testdev_msg_conn_create(CONN, 0, SINT);
    st = hv_post_message_retry(CONN, MSG_TYPE, payload, sizeof(payload));
    ok = wait_for(msg_type(slot) == MSG_TYPE, SYNIC_ARRIVE_US);
    report(st == HV_STATUS_SUCCESS && ok &&
           msg_payload_equals(slot, payload, sizeof(payload)),
           "payload240: a 240-byte message arrives intact (status 0x%x)", st);
    msg_release(slot, true);
    hv_testdev_msg_conn_destroy(CONN);
    alive("a 240-byte message");
}

static void part_missing(void)
{
    uint16_t st;

    hv_testdev_route_set(0, SINT);
    alive("raising a route that does not exist");
    hv_testdev_route_destroy(0, SINT);
    alive("destroying a route that does not exist");
    hv_testdev_msg_conn_destroy(CONN);
    alive("destroying a message connection that does not exist");
    hv_testdev_evt_conn_destroy(CONN);
    st = hv_signal_event(CONN, 0);
    report(st == HV_STATUS_INVALID_CONNECTION_ID, "missing: the destroyed "
           "event connection is unknown (0x%x)", st);
    alive("destroying an event connection that does not exist");
}

static void part_dup(void)
{
    static const char text[] = "first of two";
    uint16_t st;
    bool ok;

    use_sint(SINT, VECTOR);
    hv_testdev_msg_conn_create(CONN, 0, SINT);
    hv_testdev_msg_conn_create(CONN, 0, SINT + 1);
    alive("creating a message connection ID twice");
    st = hv_post_message_retry(CONN, MSG_TYPE, text, sizeof(text));
    ok = wait_for(msg_type(slot) == MSG_TYPE, SYNIC_ARRIVE_US);
    report(st == HV_STATUS_SUCCESS && ok, "dup: the first connection with "
           "that ID still works (status 0x%x)", st);
    msg_release(slot, true);
    hv_testdev_evt_conn_create(CONN, 0, SINT);
    hv_testdev_evt_conn_create(CONN, 0, SINT + 1);
    alive("creating an event connection ID twice");
    hv_testdev_msg_conn_destroy(CONN);
    hv_testdev_evt_conn_destroy(CONN);
}

static bool race_stop;

/* Flip payload_size of cpu 0's input block until cpu 0 is done posting. */
static void flipper(void *arg)
{
    struct hv_post_message_input *in = arg;
    struct wait_bound wb;
    unsigned int i = 0;

    wait_bound_start(&wb, RACE_LIMIT_US);
    while (!__atomic_load_n(&race_stop, __ATOMIC_ACQUIRE) &&
           !wait_bound_expired(&wb)) {
        __atomic_store_n(&in->payload_size, ++i & 1 ? UINT32_MAX : 8,
                         __ATOMIC_RELAXED);
    }
}

static void part_race(void)
{
    struct hv_post_message_input *in = hv_post_input();
    unsigned int i;

    if (!report(cpu_count() > 1 && in, "race: needs two vCPUs and an input "
                "page")) {
        return;
    }
    use_sint(SINT, VECTOR);
    hv_testdev_msg_conn_create(CONN, 0, SINT);
    memset(in, 0, sizeof(*in));
    in->connection_id = CONN;
    in->message_type = MSG_TYPE;
    __atomic_store_n(&race_stop, false, __ATOMIC_RELEASE);
    on_cpu_async(1, flipper, in);
    for (i = 0; i < RACE_POSTS; i++) {
        hv_call(HVCALL_POST_MESSAGE, virt_to_phys(in), 0);
        msg_release(slot, true);
    }
    __atomic_store_n(&race_stop, true, __ATOMIC_RELEASE);
    report(on_cpu_wait(1, ON_CPU_TIMEOUT_US), "race: %u posts with a "
           "changing payload_size done", RACE_POSTS);
    hv_testdev_msg_conn_destroy(CONN);
    alive("posts with a changing payload_size");
}

static void part_stream(void)
{
    synic_stream(false);
    alive("the free-running stream");
}

static const struct suite_part parts[] = {
    { "status", part_status },
    { "vp", part_vp },
    { "simp-off", part_simp_off },
    { "simp-far", part_simp_far },
    { "simp-top", part_simp_top },
    { "siefp-off", part_siefp_off },
    { "sint16", part_sint16 },
    { "payload240", part_payload240 },
    { "missing", part_missing },
    { "dup", part_dup },
    { "race", part_race },
    { "stream", part_stream },
};

static void synic_defects(void)
{

    if (!synic_enable_all("setup")) {
        return;
    }
    alive("setup");
    synic_fence_setup(FENCE_CONN, FENCE_SINT, FENCE_VECTOR, true);
    suite_run_parts(parts);
    synic_fence_setup(FENCE_CONN, FENCE_SINT, FENCE_VECTOR, false);
    synic_disable_all();
}

DEFINE_SUITE("synic-defects", synic_defects);
