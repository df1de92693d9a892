// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * suite=synic-stimer-mix: synthetic-timer messages and device messages on
 * one SINT, at a high rate.  On the K path KVM writes timer messages into
 * the message slot itself, from the vCPU's context; QEMU's own posts must
 * never fill the same slot at the same moment, or one message overwrites
 * the other (a lost message, or a header with the other's payload).
 *
 * vCPU 0's SINT MIX_SINT (2: where Linux puts both VMBus and its timers
 * when hv-stimer-direct is off) carries, all at once:
 *  - timer 0, periodic, message mode;
 *  - timer 1, one-shot, armed again by the handler each time its message
 *    arrives, so that every expiration is owed exactly one message;
 *  - hyperv-testdev messages that vCPU 1 posts as fast as they are taken,
 *    each with a sequence number and a check pattern over its payload.
 * The handler empties the slot and writes EOM only when msg_pending is
 * set, as Linux does.  Checks: every device message arrives once, in
 * order and intact; timer 0's messages are well formed, a period or more
 * apart (KVM and our user path keep a periodic timer on the grid of its
 * first expiration and drop, never repeat, a tick whose slot is full);
 * each arming of timer 1 yields exactly one message; nothing else ever
 * shows up in the slot.
 *
 * The handler runs through an interrupt gate with its vector in service,
 * so no SINT interrupt can enter it again before it returns.  A hypervisor
 * below the guest that injects the vector a second time regardless of
 * RFLAGS.IF does (the nested lab's L0, docs/decisions.md "Repeated
 * messages in the nested lab"): the second entry, on top of the first,
 * would take the message the first one is still reading, which looks
 * exactly like a host writing it twice.  Such an entry is not an APIC
 * delivery (it set no ISR bit), so it is counted, reported as evidence
 * (apic-double) and otherwise ignored: no slot access, no EOI.  A message
 * the host really writes twice still comes with an interrupt of its own,
 * after the handler returned, and is still caught.  With reenter=N on the
 * command line the handler makes such an entry itself (INT n, which also
 * ignores IF) right after it saw each of the first N messages: the
 * checks must pass all the same, with N nested entries counted.
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
#include "lib/x86.h"
#include "suites/suite.h"

#define MIX_SINT        2
#define MIX_VECTOR      0xb2
#define MIX_CONN        0x62
#define MIX_TYPE        0x6262
#define MIX_POSTS       2000
#define MIX_WORDS       16          /* 64-byte payload */
#define MIX_RETRY_US    50
#define PERIOD          UINT64_C(20000)     /* 2 ms in 100 ns units */
#define ONESHOT_DELAY   UINT64_C(5000)      /* 0.5 ms */
#define ONESHOT_ARMS    200
#define TIMER_PAYLOAD   24

/*
 * What vCPU 0's handler saw.  Only the handler writes it; the suite reads
 * it after the handler's stores (atomics) or once everything stopped.
 */
static struct mix_rx {
    uint32_t dev_next;      /* device sequence number expected next */
    uint32_t dev_bad;       /* out of order, repeated or garbled */
    uint32_t t0_count;
    uint32_t t0_bad;        /* malformed, or less than a period apart */
    uint64_t t0_last;
    uint32_t t1_got;
    uint32_t t1_bad;        /* an expiration nobody armed */
    uint64_t t1_exp;        /* the armed expiration, 0 when none */
    uint32_t other;         /* messages of any other kind */
    uint32_t eoms;
    uint32_t last_type;
    uint32_t active;        /* the handler is running (vCPU 0 only) */
    uint32_t nested;        /* entries while it was running */
    uint32_t nested_full;   /* ... that found a message in the slot */
} rx;

/* reenter=N: nested entries the handler makes itself (self-test) */
static unsigned long reenter_left;

static struct mix_tx {
    uint32_t sent;
    uint32_t refused;
    uint16_t status;
} tx;

static uint32_t pattern(uint32_t seq, unsigned int i)
{
    return (seq * 0x9e3779b1u) ^ (i * 0x01000193u) ^ 0x5a5a5a5au;
}

static uint64_t now(void)
{
    uint64_t v = 0;

    rdmsr_safe(HV_X64_MSR_TIME_REF_COUNT, &v);
    return v;
}

/* Arm timer 1 (vCPU 0, from the handler or the suite). */
static void arm_oneshot(void)
{
    uint64_t exp = now() + ONESHOT_DELAY;

    __atomic_store_n(&rx.t1_exp, exp, __ATOMIC_RELEASE);
    wrmsr_safe(HV_X64_MSR_STIMER_COUNT(1), exp);
    wrmsr_safe(HV_X64_MSR_STIMER_CONFIG(1), HV_STIMER_ENABLE |
               HV_STIMER_SINTX(MIX_SINT));
}

static void take_device(const struct hv_message *m)
{
    uint32_t w[MIX_WORDS];
    unsigned int i;
    bool ok = m->header.payload_size == sizeof(w);

    memcpy(w, m->payload, sizeof(w));
    ok &= w[0] == rx.dev_next;
    for (i = 1; i < MIX_WORDS; i++) {
        ok &= w[i] == pattern(w[0], i);
    }
    if (ok) {
        __atomic_store_n(&rx.dev_next, rx.dev_next + 1, __ATOMIC_RELEASE);
    } else {
        rx.dev_bad++;
    }
}

static void take_timer(const struct hv_message *m)
{
    struct hv_timer_message_payload p;

    memcpy(&p, m->payload, sizeof(p));
    if (m->header.payload_size != TIMER_PAYLOAD ||
        p.delivery_time < p.expiration_time) {
        rx.other++;
    } else if (p.timer_index == 0) {
        rx.t0_bad += rx.t0_count && p.expiration_time < rx.t0_last + PERIOD;
        rx.t0_last = p.expiration_time;
        __atomic_store_n(&rx.t0_count, rx.t0_count + 1, __ATOMIC_RELEASE);
    } else if (p.timer_index == 1 && rx.t1_exp &&
               p.expiration_time == rx.t1_exp) {
        rx.t1_exp = 0;
        __atomic_store_n(&rx.t1_got, rx.t1_got + 1, __ATOMIC_RELEASE);
        if (rx.t1_got < ONESHOT_ARMS) {
            arm_oneshot();
        }
    } else {
        rx.t1_bad++;
    }
}

/* vCPU 0: one message per interrupt; EOM only if the host asked for it. */
static void mix_handler(struct ex_regs *regs)
{
    struct hv_message *m = synic_slot(0, MIX_SINT);
    uint32_t type;

    /*
     * Entered on top of itself: an injection repeated below the guest
     * (see the top of the file).  The entry below it owns the slot and
     * the EOI.  Only this vCPU runs the handler, and a nested entry
     * interrupts it on the same CPU, so compiler ordering is enough.
     */
    if (__atomic_load_n(&rx.active, __ATOMIC_RELAXED)) {
        rx.nested++;
        rx.nested_full += m && msg_type(m) != HV_MESSAGE_NONE;
        return;
    }
    __atomic_store_n(&rx.active, 1, __ATOMIC_RELAXED);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    type = m ? msg_type(m) : HV_MESSAGE_NONE;
    if (type != HV_MESSAGE_NONE) {
        /* read the payload only after seeing the type */
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (reenter_left) {
            reenter_left--;
            asm volatile("int %0" : : "i"(MIX_VECTOR) : "memory");
        }
        rx.last_type = type;
        if (type == MIX_TYPE) {
            take_device(m);
        } else if (type == HVMSG_TIMER_EXPIRED) {
            take_timer(m);
        } else {
            rx.other++;
        }
        msg_release(m, false);
        if (msg_flags(m) & HV_MESSAGE_FLAG_PENDING) {
            rx.eoms++;
            synic_eom();
        }
    }
    apic_eoi();
    /* Until the IRET nothing legitimate can enter: IF is still clear. */
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    __atomic_store_n(&rx.active, 0, __ATOMIC_RELAXED);
}

static uint16_t mix_post(uint32_t seq)
{
    uint32_t w[MIX_WORDS];
    struct wait_bound wb;
    unsigned int i;
    uint16_t st;

    w[0] = seq;
    for (i = 1; i < MIX_WORDS; i++) {
        w[i] = pattern(seq, i);
    }
    wait_bound_start(&wb, SYNIC_ARRIVE_US);
    for (;;) {
        st = hv_post_message(MIX_CONN, MIX_TYPE, w, sizeof(w));
        if (st != HV_STATUS_INSUFFICIENT_BUFFERS || wait_bound_expired(&wb)) {
            return st;
        }
        tx.refused++;
        udelay(MIX_RETRY_US);
    }
}

/* vCPU 1: post MIX_POSTS messages to vCPU 0's SINT. */
static void mix_send(void *arg)
{
    uint32_t i;

    tx.status = HV_STATUS_SUCCESS;
    for (i = 0; i < MIX_POSTS && tx.status == HV_STATUS_SUCCESS; i++) {
        tx.status = mix_post(i);
        tx.sent += tx.status == HV_STATUS_SUCCESS;
    }
}

static void timers_stop(void)
{
    unsigned int t;

    for (t = 0; t < 2; t++) {
        wrmsr_safe(HV_X64_MSR_STIMER_CONFIG(t), 0);
        wrmsr_safe(HV_X64_MSR_STIMER_COUNT(t), 0);
    }
}

static void mix_run(void)
{
    bool sent, got_dev, got_t1;

    wrmsr_safe(HV_X64_MSR_STIMER_COUNT(0), PERIOD);
    wrmsr_safe(HV_X64_MSR_STIMER_CONFIG(0), HV_STIMER_ENABLE |
               HV_STIMER_PERIODIC | HV_STIMER_SINTX(MIX_SINT));
    arm_oneshot();
    sent = on_cpu(1, mix_send, NULL);
    got_dev = wait_for(__atomic_load_n(&rx.dev_next, __ATOMIC_ACQUIRE) >=
                       tx.sent, SYNIC_ARRIVE_US);
    got_t1 = wait_for(__atomic_load_n(&rx.t1_got, __ATOMIC_ACQUIRE) >=
                      ONESHOT_ARMS, SYNIC_ARRIVE_US);
    timers_stop();
    /* a message still on its way must arrive, and be counted, now */
    udelay(SYNIC_QUIET_US);

    report(sent && tx.status == HV_STATUS_SUCCESS && tx.sent == MIX_POSTS,
           "mix: vCPU 1 posted %u device messages (%u posted, %u refused "
           "and retried, last status 0x%x)", MIX_POSTS, tx.sent, tx.refused,
           tx.status);
    report(got_dev && rx.dev_next == MIX_POSTS && rx.dev_bad == 0,
           "mix: every device message arrived once, in order, intact "
           "(%u good, %u bad)", rx.dev_next, rx.dev_bad);
    report(rx.t0_count > 0 && rx.t0_bad == 0, "mix: periodic timer 0 "
           "messages are well formed and a period or more apart (%u "
           "messages, %u bad)", rx.t0_count, rx.t0_bad);
    report(got_t1 && rx.t1_got == ONESHOT_ARMS && rx.t1_bad == 0,
           "mix: each of the %u armings of one-shot timer 1 gave exactly "
           "one message (%u got, %u unexpected)", ONESHOT_ARMS, rx.t1_got,
           rx.t1_bad);
    report(rx.other == 0, "mix: no malformed or foreign message in the "
           "slot (%u; last type 0x%x)", rx.other, rx.last_type);
    report_info("mix: %u EOMs written on msg_pending", rx.eoms);
    if (rx.nested) {
        report_info("apic-double: the SINT handler was entered %u time(s) "
                    "while it ran with its vector in service (%u with a "
                    "message in the slot, taken once): an injection "
                    "repeated below the guest", rx.nested, rx.nested_full);
    }
}

static void synic_stimer_mix(void)
{
    unsigned long reenter = 0;

    if (!opt_get_ulong("reenter", 0, &reenter)) {
        report(false, "mix: option reenter is a number");
        return;
    }
    if (!report(cpu_count() >= 2, "mix: needs 2 vCPUs (have %u)",
                cpu_count()) || !synic_enable_all("mix: setup")) {
        return;
    }
    memset(&rx, 0, sizeof(rx));
    memset(&tx, 0, sizeof(tx));
    reenter_left = reenter;
    set_irq_handler(MIX_VECTOR, mix_handler);
    sint_program(MIX_SINT, MIX_VECTOR, 0);
    hv_testdev_msg_conn_create(MIX_CONN, 0, MIX_SINT);
    mix_run();
    if (reenter) {
        report(rx.nested == reenter && rx.nested_full == reenter,
               "mix: each of the %lu entries made on top of the handler "
               "was ignored (%u counted, %u with a message in the slot)",
               reenter, rx.nested, rx.nested_full);
    }
    hv_testdev_msg_conn_destroy(MIX_CONN);
    sint_reset(MIX_SINT);
    set_irq_handler(MIX_VECTOR, NULL);
    synic_disable_all();
}

DEFINE_SUITE("synic-stimer-mix", synic_stimer_mix);
