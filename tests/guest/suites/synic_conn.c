// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * suite=synic-conn: message and event connections through hyperv-testdev
 * (TLFS 11.9, 11.10): HvPostMessage and HvSignalEvent from every vCPU,
 * to itself and to another vCPU, busy slots and EOM, masked SINTs, and
 * event flag edges.
 *
 * K-path facts checked here (QEMU 10.0.2 with KVM's SynIC):
 *  - a message posted to a full slot sets msg_pending in that slot and
 *    waits; once the guest empties the slot and writes EOM it arrives,
 *    exactly once, after the first;
 *  - a message posted while its SINT is masked is written to the slot
 *    but raises nothing, and unmasking raises nothing either: KVM drops
 *    a SINT interrupt raised while masked and latches nothing;
 *  - an event flag raises the SINT only on a 0 -> 1 change.
 */
#include <stdint.h>

#include "lib/hv_testdev.h"
#include "lib/report.h"
#include "lib/smp.h"
#include "lib/string.h"
#include "lib/synic.h"
#include "lib/timing.h"
#include "suites/suite.h"
#include "suites/synic_stream.h"

#define MAX_TEST_CPUS   8

/*
 * One message and one event connection per vCPU, to its own SINT (as in
 * kvm-unit-tests).  Round 1: every vCPU posts to its own connection;
 * later rounds: to the next vCPU's.
 *
 * Why not two connections to one (VP, SINT) here: on the K path KVM keeps
 * a single GSI per (vCPU, SINT) for ack notifications (sint_to_gsi, the
 * last route set wins), so in QEMU 10.0.2 EOM reached only one of two
 * routes that share a SINT.  Our SynIC shares one source per SINT among
 * its routes; shared_sint_linux_eom() checks that on its own SINT.
 */
#define MSG_CONN        0x10
#define EVT_CONN        0x20
#define MSG_SINT        8
#define EVT_SINT        9
#define MSG_VECTOR      0xb0
#define EVT_VECTOR      0xb1
#define MSG_TYPE        0x12345678

#define BUSY_CONN       0x40
#define BUSY_SINT       2
#define BUSY_VECTOR     0xa2

#define MASK_MSG_CONN   0x41
#define MASK_EVT_CONN   0x42
#define MASK_MSG_SINT   4
#define MASK_EVT_SINT   5
#define MASK_MSG_VECTOR 0xa4
#define MASK_EVT_VECTOR 0xa5

#define FLAG_SINT       6
#define FLAG_VECTOR     0xa6

#define SHARED_CONN_A   0x43
#define SHARED_CONN_B   0x44
#define SHARED_SINT     3
#define SHARED_VECTOR   0xa3
#define SHARED_TYPE     0x200   /* + index of the message */
#define SHARED_MSGS     3

#define THREAD_CONN     0x45
#define THREAD_SINT     12
#define THREAD_VECTOR   0xac

#define FENCE_CONN      0x46    /* + vCPU */
#define FENCE_SINT      13
#define FENCE_VECTOR    0xad

/* The payload every test message carries: who sent it, which round */
struct test_payload {
    uint32_t sender;
    uint32_t round;
    char text[24];
};

struct cpu_result {
    uint16_t status;
    unsigned int irqs_before;
};

static struct cpu_result results[MAX_TEST_CPUS];

static unsigned int next_cpu(unsigned int cpu)
{
    return (cpu + 1) % cpu_count();
}

static struct test_payload make_payload(unsigned int sender,
                                        unsigned int round)
{
    struct test_payload p;

    memset(&p, 0, sizeof(p));
    p.sender = sender;
    p.round = round;
    snprintf(p.text, sizeof(p.text), "from %u round %u", sender, round);
    return p;
}

/*
 * Instead of a pause before "nothing (else) arrived" on a vCPU: wait
 * until the host has handled what it was asked before (synic_fence),
 * however long a stalled host takes.  Every vCPU has a fence connection
 * of its own on SINT 13; a fence that does not come back is a failure.
 */
static void fence(unsigned int cpu, const char *what)
{
    synic_fence_on(cpu, FENCE_CONN, FENCE_SINT, what);
}

static void program_conn_sints(void *arg)
{
    sint_program(MSG_SINT, MSG_VECTOR, 0);
    sint_program(EVT_SINT, EVT_VECTOR, 0);
}

/* Run fn on every vCPU at once (as kvm-unit-tests does), then wait. */
static bool run_everywhere(cpu_fn fn, unsigned int round)
{
    unsigned int cpu;
    bool ok = true;

    for (cpu = 0; cpu < cpu_count(); cpu++) {
        ok &= on_cpu_async(cpu, fn, (void *)(uintptr_t)round);
    }
    for (cpu = 0; cpu < cpu_count(); cpu++) {
        ok &= on_cpu_wait(cpu, ON_CPU_TIMEOUT_US);
    }
    return ok;
}

static unsigned int target_of(unsigned int cpu, unsigned int round)
{
    return round == 1 ? cpu : next_cpu(cpu);
}

static void post_round(void *arg)
{
    unsigned int cpu = smp_id(), round = (uintptr_t)arg;
    struct test_payload p = make_payload(cpu, round);

    results[cpu].status = hv_post_message_retry(MSG_CONN +
                                                target_of(cpu, round),
                                                MSG_TYPE, &p, sizeof(p));
}

static unsigned int sender_to(unsigned int dst, unsigned int round)
{
    return round == 1 ? dst : (dst + cpu_count() - 1) % cpu_count();
}

/* The message of round "round" sits in dst's slot, with its interrupt. */
static void check_delivered(const char *what, unsigned int round,
                            unsigned int irqs)
{
    unsigned int dst;

    for (dst = 0; dst < cpu_count(); dst++) {
        unsigned int src = sender_to(dst, round);
        struct hv_message *m = synic_slot(dst, MSG_SINT);
        struct test_payload p = make_payload(src, round);
        bool ok = wait_for(msg_type(m) == MSG_TYPE &&
                           sint_irq_count(dst, MSG_VECTOR) >= irqs,
                           SYNIC_ARRIVE_US);

        ok &= results[src].status == HV_STATUS_SUCCESS &&
              msg_payload_equals(m, &p, sizeof(p)) && msg_flags(m) == 0;
        report(ok, "%s: cpu %u -> cpu %u message type, payload and flags "
               "(status 0x%x, type 0x%x, flags 0x%x)", what, src, dst,
               results[src].status, msg_type(m), msg_flags(m));
        fence(dst, what);
        report(sint_irq_count(dst, MSG_VECTOR) == irqs, "%s: cpu %u took "
               "exactly %u message interrupt(s) (%u)", what, dst, irqs,
               sint_irq_count(dst, MSG_VECTOR));
    }
}

static void release_own(void *arg)
{
    msg_release(synic_slot(smp_id(), MSG_SINT), true);
}

static void check_busy(unsigned int round)
{
    unsigned int dst;

    for (dst = 0; dst < cpu_count(); dst++) {
        unsigned int src = sender_to(dst, round);
        struct hv_message *m = synic_slot(dst, MSG_SINT);
        struct test_payload old = make_payload(src, round - 1);
        bool pending = wait_for(msg_flags(m) & HV_MESSAGE_FLAG_PENDING,
                                SYNIC_ARRIVE_US);

        report(results[src].status == HV_STATUS_SUCCESS && pending,
               "busy: cpu %u -> cpu %u post to a full slot sets msg_pending "
               "(status 0x%x, flags 0x%x)", src, dst, results[src].status,
               msg_flags(m));
        fence(dst, "busy");
        report(msg_type(m) == MSG_TYPE && msg_payload_equals(m, &old,
               sizeof(old)) && sint_irq_count(dst, MSG_VECTOR) == 1,
               "busy: cpu %u slot still holds the earlier message, no new "
               "interrupt (%u)", dst, sint_irq_count(dst, MSG_VECTOR));
    }
}

static void messages(void)
{
    sint_irq_clear();
    report(run_everywhere(post_round, 1), "msg: every vCPU posted to self");
    check_delivered("msg self", 1, 1);
    run_everywhere(release_own, 0);

    sint_irq_clear();
    report(run_everywhere(post_round, 2), "msg: every vCPU posted to the "
           "next");
    check_delivered("msg next", 2, 1);

    report(run_everywhere(post_round, 3), "msg: every vCPU posted again "
           "while the slot is full");
    check_busy(3);

    sint_irq_clear();
    report(run_everywhere(release_own, 0), "msg: every vCPU emptied its "
           "slot and wrote EOM");
    check_delivered("msg pending", 3, 1);
    run_everywhere(release_own, 0);
}

static void signal_round(void *arg)
{
    unsigned int cpu = smp_id(), round = (uintptr_t)arg;

    results[cpu].status = hv_signal_event(EVT_CONN + target_of(cpu, round),
                                          0);
}

static void check_event(const char *what, unsigned int round,
                        unsigned int irqs)
{
    unsigned int dst;

    for (dst = 0; dst < cpu_count(); dst++) {
        unsigned int src = sender_to(dst, round);
        unsigned int flag = EVT_CONN + dst;
        bool ok = wait_for(flag_test(dst, EVT_SINT, flag) &&
                           sint_irq_count(dst, EVT_VECTOR) >= irqs,
                           SYNIC_ARRIVE_US);

        fence(dst, what);
        ok &= results[src].status == HV_STATUS_SUCCESS &&
              flags_count(dst, EVT_SINT) == 1 &&
              sint_irq_count(dst, EVT_VECTOR) == irqs;
        report(ok, "%s: cpu %u -> cpu %u flag %u set alone, %u interrupt(s) "
               "(status 0x%x, %u flags, %u irqs)", what, src, dst, flag,
               irqs, results[src].status, flags_count(dst, EVT_SINT),
               sint_irq_count(dst, EVT_VECTOR));
    }
}

static void clear_own_flags(void *arg)
{
    unsigned int cpu = smp_id(), f;

    for (f = 0; f < HV_EVENT_FLAGS_COUNT; f++) {
        flag_clear(cpu, EVT_SINT, f);
    }
}

static void events(void)
{
    sint_irq_clear();
    report(run_everywhere(signal_round, 1), "evt: every vCPU signalled "
           "itself");
    check_event("evt self", 1, 1);
    run_everywhere(clear_own_flags, 0);

    sint_irq_clear();
    report(run_everywhere(signal_round, 2), "evt: every vCPU signalled the "
           "next");
    check_event("evt next", 2, 1);
    report(run_everywhere(signal_round, 2), "evt: every vCPU signalled the "
           "next again");
    check_event("evt already set", 2, 1);
    run_everywhere(clear_own_flags, 0);
}

static void for_each_conn(bool create)
{
    unsigned int cpu;

    for (cpu = 0; cpu < cpu_count(); cpu++) {
        if (create) {
            hv_testdev_msg_conn_create(MSG_CONN + cpu, cpu, MSG_SINT);
            hv_testdev_evt_conn_create(EVT_CONN + cpu, cpu, EVT_SINT);
        } else {
            hv_testdev_msg_conn_destroy(MSG_CONN + cpu);
            hv_testdev_evt_conn_destroy(EVT_CONN + cpu);
        }
    }
}

static void connections(void)
{
    unsigned int cpu;

    sint_irq_install(MSG_VECTOR);
    sint_irq_install(EVT_VECTOR);
    for (cpu = 0; cpu < cpu_count(); cpu++) {
        on_cpu(cpu, program_conn_sints, NULL);
    }
    for_each_conn(true);
    messages();
    events();
    for_each_conn(false);
}

/* Busy slot on vCPU 0: the second message waits for empty slot + EOM. */
static void busy_then_eom(void)
{
    struct hv_message *m = synic_slot(0, BUSY_SINT);
    struct test_payload a = make_payload(0, 100), b = make_payload(0, 101);
    uint16_t st;
    bool ok;

    sint_irq_install(BUSY_VECTOR);
    sint_program(BUSY_SINT, BUSY_VECTOR, 0);
    hv_testdev_msg_conn_create(BUSY_CONN, 0, BUSY_SINT);
    sint_irq_clear();
    st = hv_post_message_retry(BUSY_CONN, 0x100, &a, sizeof(a));
    ok = wait_for(msg_type(m) == 0x100, SYNIC_ARRIVE_US) &&
         sint_irq_wait(0, BUSY_VECTOR, 1, SYNIC_ARRIVE_US);
    report(st == HV_STATUS_SUCCESS && ok, "busy-eom: first message "
           "delivered (status 0x%x)", st);
    st = hv_post_message_retry(BUSY_CONN, 0x101, &b, sizeof(b));
    ok = wait_for(msg_flags(m) & HV_MESSAGE_FLAG_PENDING, SYNIC_ARRIVE_US);
    report(st == HV_STATUS_SUCCESS && ok, "busy-eom: second post accepted, "
           "msg_pending set in the full slot (status 0x%x, flags 0x%x)", st,
           msg_flags(m));
    fence(0, "busy-eom");
    report(msg_type(m) == 0x100 && msg_payload_equals(m, &a, sizeof(a)) &&
           sint_irq_count(0, BUSY_VECTOR) == 1, "busy-eom: the first message "
           "is not overwritten and nothing new is raised");

    /*
     * Only EOM, or an EOI of the SINT's vector, makes the host retry (TLFS
     * 11.10.3; KVM's resampler on the K path, QEMU's own on the user
     * path), and the one EOI so far came before the second post.
     */
    msg_release(m, false);
    fence(0, "busy-eom");
    report(msg_type(m) == HV_MESSAGE_NONE, "busy-eom: slot emptied without "
           "EOM: the second message still waits (type 0x%x)", msg_type(m));
    synic_eom();
    ok = wait_for(msg_type(m) == 0x101, SYNIC_ARRIVE_US) &&
         sint_irq_wait(0, BUSY_VECTOR, 2, SYNIC_ARRIVE_US);
    report(ok && msg_payload_equals(m, &b, sizeof(b)) && msg_flags(m) == 0,
           "busy-eom: after emptying the slot and EOM the second message "
           "arrives, flags clear (type 0x%x, flags 0x%x)", msg_type(m),
           msg_flags(m));
    msg_release(m, true);
    fence(0, "busy-eom");
    report(msg_type(m) == HV_MESSAGE_NONE &&
           sint_irq_count(0, BUSY_VECTOR) == 2,
           "busy-eom: each message arrived exactly once (%u interrupts, "
           "slot type 0x%x)", sint_irq_count(0, BUSY_VECTOR), msg_type(m));
    hv_testdev_msg_conn_destroy(BUSY_CONN);
    sint_reset(BUSY_SINT);
}

/*
 * Take the message in the slot as Linux's vmbus_signal_eom() does: empty
 * the slot, then write EOM only if msg_pending is set.  The flag is read
 * after the type is cleared, with a full barrier between: the host sets
 * the flag and then looks at the type again, so either it sees the empty
 * slot or the guest sees the flag (TLFS 11.10.3).  Returns the index of
 * the message taken, or SHARED_MSGS if it is none of ours.
 */
static unsigned int take_linux_style(struct hv_message *m,
                                     const struct test_payload *p,
                                     bool *eom)
{
    unsigned int k = msg_type(m) - SHARED_TYPE;

    if (k >= SHARED_MSGS || !msg_payload_equals(m, &p[k], sizeof(p[k]))) {
        k = SHARED_MSGS;
    }
    msg_release(m, false);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    *eom = msg_flags(m) & HV_MESSAGE_FLAG_PENDING;
    if (*eom) {
        synic_eom();
    }
    return k;
}

/*
 * Two connections on one (VP, SINT), both with a message staged behind a
 * full slot, and a guest that writes EOM only when it finds msg_pending,
 * as Linux does.  Each EOM must bring exactly one staged message, which
 * keeps msg_pending set while the other still waits, so that the guest
 * asks again; the last one comes with the flag clear.  A route that did
 * not hear the acknowledgement would leave its message staged for good.
 */
static void shared_sint_linux_eom(void)
{
    static const uint32_t conn[SHARED_MSGS] = {
        SHARED_CONN_A, SHARED_CONN_B, SHARED_CONN_A,
    };
    struct hv_message *m = synic_slot(0, SHARED_SINT);
    struct test_payload p[SHARED_MSGS];
    unsigned int i, k, order[SHARED_MSGS], got = 0, eoms = 0, bad_st = 0;
    bool seen[SHARED_MSGS] = {}, eom[SHARED_MSGS] = {}, dup = false;

    sint_irq_install(SHARED_VECTOR);
    sint_program(SHARED_SINT, SHARED_VECTOR, 0);
    hv_testdev_msg_conn_create(SHARED_CONN_A, 0, SHARED_SINT);
    hv_testdev_msg_conn_create(SHARED_CONN_B, 0, SHARED_SINT);
    sint_irq_clear();
    for (i = 0; i < SHARED_MSGS; i++) {
        p[i] = make_payload(0, 200 + i);
        bad_st += hv_post_message_retry(conn[i], SHARED_TYPE + i, &p[i],
                                        sizeof(p[i])) != HV_STATUS_SUCCESS;
        /* the first fills the slot; the others must find it full */
        if (i == 0) {
            wait_for(msg_type(m) == SHARED_TYPE, SYNIC_ARRIVE_US);
        }
    }
    report(bad_st == 0 && msg_type(m) == SHARED_TYPE &&
           (msg_flags(m) & HV_MESSAGE_FLAG_PENDING), "shared-sint: three "
           "posts on two connections to one SINT accepted, the first in the "
           "slot with msg_pending set (%u failed, type 0x%x, flags 0x%x)",
           bad_st, msg_type(m), msg_flags(m));
    /*
     * Like Linux, take a message only once its interrupt is in: a guest
     * that polls the slot may empty it before the interrupt is taken, and
     * the next one's then merges with it in the IRR.
     */
    for (i = 0; i < SHARED_MSGS; i++) {
        if (!wait_for(msg_type(m) != HV_MESSAGE_NONE &&
                      sint_irq_count(0, SHARED_VECTOR) > i,
                      SYNIC_ARRIVE_US)) {
            break;
        }
        k = take_linux_style(m, p, &eom[i]);
        order[got++] = k;
        eoms += eom[i];
        if (k < SHARED_MSGS) {
            dup |= seen[k];
            seen[k] = true;
        }
    }
    report(got == SHARED_MSGS && !dup && seen[0] && seen[1] && seen[2] &&
           order[0] == 0, "shared-sint: each message arrived once, the "
           "first first (%u taken)", got);
    report(eoms == 2 && eom[0] && eom[1] && !eom[2], "shared-sint: "
           "msg_pending set while a message still waited, clear on the last "
           "(%u EOMs written)", eoms);
    fence(0, "shared-sint");
    report(msg_type(m) == HV_MESSAGE_NONE &&
           sint_irq_count(0, SHARED_VECTOR) == SHARED_MSGS, "shared-sint: "
           "nothing more after the last (%u interrupts, slot type 0x%x)",
           sint_irq_count(0, SHARED_VECTOR), msg_type(m));
    hv_testdev_msg_conn_destroy(SHARED_CONN_B);
    hv_testdev_msg_conn_destroy(SHARED_CONN_A);
    sint_reset(SHARED_SINT);
}

/*
 * Messages posted by a thread of the test device that does not hold the
 * BQL (command 8), while the guest takes them as Linux does: all of them,
 * in order, each once.  The thread's next post finds the slot full, or
 * the route busy, until the guest has taken the previous one, so this
 * runs the slot protocol between that thread, the vCPU and the main
 * loop's acknowledgement over and over.
 */
static void thread_post(void)
{
    struct hv_message *m = synic_slot(0, THREAD_SINT);
    unsigned int i, got = 0, bad = 0, eoms = 0;
    bool eom;

    sint_irq_install(THREAD_VECTOR);
    sint_program(THREAD_SINT, THREAD_VECTOR, 0);
    hv_testdev_msg_conn_create(THREAD_CONN, 0, THREAD_SINT);
    sint_irq_clear();
    hv_testdev_cmd(HV_TESTDEV_MSG_CONN_THREAD_POST, 0, 0, THREAD_CONN);
    for (i = 0; i < HV_TESTDEV_THREAD_POST_COUNT; i++) {
        uint32_t seq;

        /* as shared_sint_linux_eom(): the interrupt first */
        if (!wait_for(msg_type(m) != HV_MESSAGE_NONE &&
                      sint_irq_count(0, THREAD_VECTOR) > i,
                      SYNIC_ARRIVE_US)) {
            break;
        }
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        memcpy(&seq, m->payload, sizeof(seq));
        bad += msg_type(m) != HV_TESTDEV_THREAD_POST_TYPE ||
               m->header.payload_size != sizeof(seq) || seq != i;
        got++;
        msg_release(m, false);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        eom = msg_flags(m) & HV_MESSAGE_FLAG_PENDING;
        if (eom) {
            synic_eom();
            eoms++;
        }
    }
    report(got == HV_TESTDEV_THREAD_POST_COUNT && bad == 0, "thread-post: "
           "%u messages posted by a device thread without the BQL arrived "
           "in order, each once (%u taken, %u wrong, %u EOMs)",
           HV_TESTDEV_THREAD_POST_COUNT, got, bad, eoms);
    fence(0, "thread-post");
    report(msg_type(m) == HV_MESSAGE_NONE, "thread-post: no message after "
           "the last (slot type 0x%x)", msg_type(m));
    /*
     * Each message came with its interrupt (the loop waits for it).  The
     * total is not checked: in the nested lab it was 65 to 79 on both
     * paths, while the host's TCG and KVM gave 64 every time, and the
     * lab is known to inject an interrupt twice below the guest
     * (synic-sint's apic-double, docs/decisions.md).
     */
    report_info("thread-post: %u interrupts for %u messages",
                sint_irq_count(0, THREAD_VECTOR),
                HV_TESTDEV_THREAD_POST_COUNT);
    hv_testdev_msg_conn_destroy(THREAD_CONN);
    sint_reset(THREAD_SINT);
}

static void masked_message(void)
{
    struct hv_message *m = synic_slot(0, MASK_MSG_SINT);
    struct test_payload a = make_payload(0, 200), b = make_payload(0, 201);
    uint16_t st;
    bool ok;

    sint_irq_install(MASK_MSG_VECTOR);
    sint_program(MASK_MSG_SINT, MASK_MSG_VECTOR, HV_SINT_MASKED);
    hv_testdev_msg_conn_create(MASK_MSG_CONN, 0, MASK_MSG_SINT);
    sint_irq_clear();
    st = hv_post_message_retry(MASK_MSG_CONN, 0x200, &a, sizeof(a));
    ok = wait_for(msg_type(m) == 0x200, SYNIC_ARRIVE_US);
    report(st == HV_STATUS_SUCCESS && ok &&
           msg_payload_equals(m, &a, sizeof(a)),
           "masked-msg: message posted while masked lands in the slot "
           "(status 0x%x, type 0x%x)", st, msg_type(m));
    fence(0, "masked-msg");
    report(sint_irq_count(0, MASK_MSG_VECTOR) == 0,
           "masked-msg: no interrupt while masked (%u)",
           sint_irq_count(0, MASK_MSG_VECTOR));
    sint_program(MASK_MSG_SINT, MASK_MSG_VECTOR, 0);
    fence(0, "masked-msg");
    report(sint_irq_count(0, MASK_MSG_VECTOR) == 0 &&
           msg_type(m) == 0x200, "masked-msg: unmasking raises nothing; the "
           "message stays for the guest to poll (%u interrupts)",
           sint_irq_count(0, MASK_MSG_VECTOR));
    msg_release(m, true);
    st = hv_post_message_retry(MASK_MSG_CONN, 0x201, &b, sizeof(b));
    ok = sint_irq_wait(0, MASK_MSG_VECTOR, 1, SYNIC_ARRIVE_US);
    ok &= msg_type(m) == 0x201 && msg_payload_equals(m, &b, sizeof(b));
    report(st == HV_STATUS_SUCCESS && ok, "masked-msg: once unmasked the "
           "next message interrupts (status 0x%x, %u interrupts)", st,
           sint_irq_count(0, MASK_MSG_VECTOR));
    msg_release(m, true);
    hv_testdev_msg_conn_destroy(MASK_MSG_CONN);
    sint_reset(MASK_MSG_SINT);
}

static void masked_event(void)
{
    uint16_t st;

    sint_irq_install(MASK_EVT_VECTOR);
    sint_program(MASK_EVT_SINT, MASK_EVT_VECTOR, HV_SINT_MASKED);
    hv_testdev_evt_conn_create(MASK_EVT_CONN, 0, MASK_EVT_SINT);
    sint_irq_clear();
    st = hv_signal_event(MASK_EVT_CONN, 0);
    report(st == HV_STATUS_SUCCESS && wait_for(flag_test(0, MASK_EVT_SINT,
           MASK_EVT_CONN), SYNIC_ARRIVE_US), "masked-evt: flag set while "
           "masked (status 0x%x)", st);
    fence(0, "masked-evt");
    sint_program(MASK_EVT_SINT, MASK_EVT_VECTOR, 0);
    fence(0, "masked-evt");
    report(sint_irq_count(0, MASK_EVT_VECTOR) == 0, "masked-evt: no "
           "interrupt while masked nor on unmask (%u)",
           sint_irq_count(0, MASK_EVT_VECTOR));
    flag_clear(0, MASK_EVT_SINT, MASK_EVT_CONN);
    st = hv_signal_event(MASK_EVT_CONN, 0);
    report(st == HV_STATUS_SUCCESS &&
           sint_irq_wait(0, MASK_EVT_VECTOR, 1, SYNIC_ARRIVE_US),
           "masked-evt: once unmasked a new flag interrupts (status 0x%x)",
           st);
    flag_clear(0, MASK_EVT_SINT, MASK_EVT_CONN);
    hv_testdev_evt_conn_destroy(MASK_EVT_CONN);
    sint_reset(MASK_EVT_SINT);
}

/* No flags anywhere on vCPU 0 but those of FLAG_SINT listed in want */
static bool only_flags(const unsigned int *want, unsigned int n)
{
    unsigned int s, i;

    for (s = 0; s < HV_SINT_COUNT; s++) {
        if (s != FLAG_SINT && flags_count(0, s)) {
            return false;
        }
    }
    for (i = 0; i < n; i++) {
        if (!flag_test(0, FLAG_SINT, want[i])) {
            return false;
        }
    }
    return flags_count(0, FLAG_SINT) == n;
}

static void signal_and_check(unsigned int conn, bool slow, unsigned int irqs,
                             const unsigned int *want, unsigned int n)
{
    uint16_t st = slow ? hv_signal_event_slow(conn, 0) :
                  hv_signal_event(conn, 0);

    wait_for(flag_test(0, FLAG_SINT, conn) &&
             sint_irq_count(0, FLAG_VECTOR) >= irqs, SYNIC_ARRIVE_US);
    fence(0, "flags");
    report(st == HV_STATUS_SUCCESS && only_flags(want, n) &&
           sint_irq_count(0, FLAG_VECTOR) == irqs,
           "flags: %s signal of flag %u: %u flag(s) set in SINT%u's area "
           "only, %u interrupt(s) (status 0x%x, got %u flags, %u irqs)",
           slow ? "memory" : "fast", conn, n, FLAG_SINT, irqs, st,
           flags_count(0, FLAG_SINT), sint_irq_count(0, FLAG_VECTOR));
}

/*
 * The test device sets flag number <connection ID>, and its connection
 * IDs are 8 bits: flags 0-255 are reachable, 2047 is not.
 */
static void event_flags(void)
{
    static const unsigned int conns[] = { 0, 255, 63, 64 };
    unsigned int i, st;

    sint_irq_install(FLAG_VECTOR);
    sint_program(FLAG_SINT, FLAG_VECTOR, 0);
    for (i = 0; i < 4; i++) {
        hv_testdev_evt_conn_create(conns[i], 0, FLAG_SINT);
    }
    sint_irq_clear();
    signal_and_check(0, false, 1, conns, 1);
    signal_and_check(0, false, 1, conns, 1);
    signal_and_check(255, false, 2, conns, 2);
    signal_and_check(63, true, 3, conns, 3);
    signal_and_check(64, false, 4, conns, 4);
    signal_and_check(64, true, 4, conns, 4);
    flag_clear(0, FLAG_SINT, 0);
    signal_and_check(0, false, 5, conns, 4);

    st = hv_signal_event(0, 1);
    fence(0, "flags");
    report(st != HV_STATUS_SUCCESS && only_flags(conns, 4) &&
           sint_irq_count(0, FLAG_VECTOR) == 5, "flags: flag number 1 on a "
           "one-flag connection is refused, nothing set (status 0x%x)", st);
    st = hv_signal_event(255, 2048 - 255);
    fence(0, "flags");
    report(st != HV_STATUS_SUCCESS && only_flags(conns, 4) &&
           sint_irq_count(0, FLAG_VECTOR) == 5, "flags: connection 255 + "
           "flag number 1793 (bit 2048) is refused, nothing set (status "
           "0x%x)", st);
    for (i = 0; i < 4; i++) {
        hv_testdev_evt_conn_destroy(conns[i]);
        flag_clear(0, FLAG_SINT, conns[i]);
    }
    sint_reset(FLAG_SINT);
}

static void synic_conn(void)
{
    if (!report(cpu_count() <= MAX_TEST_CPUS, "setup: at most %u vCPUs "
                "(have %u)", MAX_TEST_CPUS, cpu_count()) ||
        !synic_enable_all("setup")) {
        return;
    }
    synic_fence_setup(FENCE_CONN, FENCE_SINT, FENCE_VECTOR, true);
    connections();
    busy_then_eom();
    shared_sint_linux_eom();
    thread_post();
    masked_message();
    masked_event();
    event_flags();
    synic_stream(true);
    synic_fence_setup(FENCE_CONN, FENCE_SINT, FENCE_VECTOR, false);
    synic_disable_all();
}

DEFINE_SUITE("synic-conn", synic_conn);
