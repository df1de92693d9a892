// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The message stream of synic_stream.h.
 *
 * Free-running, the senders meet full slots all the time: a post lands
 * behind a message still in the slot (msg_pending, delivered on the
 * receiver's EOM), and the next one is refused with
 * HV_STATUS_INSUFFICIENT_BUFFERS until then and retried.  A refused post
 * must have no effect: QEMU 10.0.2's hyperv-testdev copies the refused
 * message over the one still pending, so the receiver sees one message
 * lost and the next one twice (hence the free-running stream is a
 * synic-defects check).
 */
#include <stdint.h>

#include "lib/apic.h"
#include "lib/fault.h"
#include "lib/hv_testdev.h"
#include "lib/layout.h"
#include "lib/report.h"
#include "lib/smp.h"
#include "lib/string.h"
#include "lib/synic.h"
#include "lib/timing.h"
#include "suites/synic_stream.h"

#define STREAM_CONN     0x30    /* + receiving vCPU */
#define STREAM_SINT     11
#define STREAM_VECTOR   0xab
#define STREAM_TYPE     0x5757
#define STREAM_COUNT    40
#define STREAM_RETRY_US 500

/* Fences of the stream's own (the stream runs in two suites) */
#define FENCE_CONN      0x60    /* + vCPU */
#define FENCE_SINT      10
#define FENCE_VECTOR    0xaa

struct stream_msg {
    uint32_t sender;
    uint32_t seq;
    uint32_t check;     /* a function of both, to catch garbling */
};

struct stream_rx {
    uint32_t next;      /* sequence number expected next */
    uint32_t bad;       /* messages out of order, repeated or garbled */
};

struct stream_tx {
    uint32_t sent;      /* posts that succeeded */
    uint32_t refused;   /* posts answered INSUFFICIENT_BUFFERS (retried) */
    uint16_t status;    /* the last status */
    bool done;
};

static struct stream_rx rx[MAX_CPUS];
static struct stream_tx tx[MAX_CPUS];
static bool lockstep_mode;

static unsigned int next_of(unsigned int cpu)
{
    return (cpu + 1) % cpu_count();
}

static unsigned int prev_of(unsigned int cpu)
{
    return (cpu + cpu_count() - 1) % cpu_count();
}

static struct stream_msg make_msg(unsigned int sender, unsigned int seq)
{
    return (struct stream_msg){ sender, seq, sender * 0x10001u ^ ~seq };
}

/* Runs on the receiver: take the message out of the slot, then EOM. */
static void stream_handler(struct ex_regs *regs)
{
    unsigned int cpu = smp_id();
    struct hv_message *m = synic_slot(cpu, STREAM_SINT);
    struct stream_rx *r = &rx[cpu];

    sint_irq_note(cpu, STREAM_VECTOR);
    if (m && msg_type(m) == STREAM_TYPE) {
        struct stream_msg want = make_msg(prev_of(cpu),
                                          __atomic_load_n(&r->next,
                                                          __ATOMIC_RELAXED));

        if (msg_payload_equals(m, &want, sizeof(want))) {
            __atomic_fetch_add(&r->next, 1, __ATOMIC_RELEASE);
        } else {
            __atomic_fetch_add(&r->bad, 1, __ATOMIC_RELEASE);
        }
        msg_release(m, true);
    }
    apic_eoi();
}

/* Post one message, retrying (bounded) while the connection is full. */
static uint16_t stream_post(struct stream_tx *t, unsigned int dst,
                            unsigned int seq)
{
    struct stream_msg msg = make_msg(smp_id(), seq);
    struct wait_bound wb;
    uint16_t st;

    wait_bound_start(&wb, SYNIC_ARRIVE_US);
    for (;;) {
        st = hv_post_message(STREAM_CONN + dst, STREAM_TYPE, &msg,
                             sizeof(msg));
        if (st != HV_STATUS_INSUFFICIENT_BUFFERS || wait_bound_expired(&wb)) {
            return st;
        }
        t->refused++;
        udelay(STREAM_RETRY_US);
    }
}

static void stream_send(void *arg)
{
    unsigned int cpu = smp_id(), dst = next_of(cpu), i;
    struct stream_tx *t = &tx[cpu];

    t->status = HV_STATUS_SUCCESS;
    for (i = 0; i < STREAM_COUNT && t->status == HV_STATUS_SUCCESS; i++) {
        if (lockstep_mode &&
            !wait_for(__atomic_load_n(&rx[dst].next, __ATOMIC_ACQUIRE) >= i,
                      SYNIC_ARRIVE_US)) {
            t->status = HV_STATUS_MASK;
            break;
        }
        t->status = stream_post(t, dst, i);
        t->sent += t->status == HV_STATUS_SUCCESS;
    }
    __atomic_store_n(&t->done, true, __ATOMIC_RELEASE);
}

static void stream_setup(void *arg)
{
    sint_program(STREAM_SINT, STREAM_VECTOR, 0);
}

static void stream_teardown(void *arg)
{
    sint_reset(STREAM_SINT);
}

static bool send_everywhere(void)
{
    unsigned int cpu;
    bool ok = true;

    for (cpu = 0; cpu < cpu_count(); cpu++) {
        ok &= on_cpu_async(cpu, stream_send, NULL);
    }
    for (cpu = 0; cpu < cpu_count(); cpu++) {
        ok &= on_cpu_wait(cpu, ON_CPU_TIMEOUT_US * 3);
    }
    return ok;
}

void synic_stream(bool lockstep)
{
    const char *mode = lockstep ? "lockstep" : "free-running";
    unsigned int cpu;

    lockstep_mode = lockstep;
    memset(rx, 0, sizeof(rx));
    memset(tx, 0, sizeof(tx));
    set_irq_handler(STREAM_VECTOR, stream_handler);
    for (cpu = 0; cpu < cpu_count(); cpu++) {
        on_cpu(cpu, stream_setup, NULL);
        hv_testdev_msg_conn_create(STREAM_CONN + cpu, cpu, STREAM_SINT);
    }
    synic_fence_setup(FENCE_CONN, FENCE_SINT, FENCE_VECTOR, true);
    report(send_everywhere(), "stream (%s): every vCPU sent %u messages",
           mode, STREAM_COUNT);
    for (cpu = 0; cpu < cpu_count(); cpu++) {
        struct stream_rx *r = &rx[cpu];
        struct stream_tx *t;
        struct hv_message *m;
        bool all = wait_for(__atomic_load_n(&r->next, __ATOMIC_ACQUIRE) >=
                            STREAM_COUNT, SYNIC_ARRIVE_US);

        /* nothing after the last: no message repeated, none extra */
        synic_fence_on(cpu, FENCE_CONN, FENCE_SINT, "stream");
        all &= __atomic_load_n(&r->next, __ATOMIC_ACQUIRE) == STREAM_COUNT &&
               __atomic_load_n(&r->bad, __ATOMIC_ACQUIRE) == 0;
        t = &tx[prev_of(cpu)];
        report(all && t->done && t->status == HV_STATUS_SUCCESS,
               "stream (%s): cpu %u got the %u messages of cpu %u in order, "
               "once each (%u good, %u bad)", mode, cpu, STREAM_COUNT,
               prev_of(cpu), r->next, r->bad);
        m = synic_slot(cpu, STREAM_SINT);
        report_info("stream (%s): cpu %u -> %u: %u posted, %u refused and "
                    "retried, last status 0x%x, %s; receiver slot type 0x%x "
                    "flags 0x%x, %u interrupts", mode, prev_of(cpu), cpu,
                    t->sent, t->refused, t->status, t->done ? "done" :
                    "still sending", msg_type(m), msg_flags(m),
                    sint_irq_count(cpu, STREAM_VECTOR));
    }
    synic_fence_setup(FENCE_CONN, FENCE_SINT, FENCE_VECTOR, false);
    for (cpu = 0; cpu < cpu_count(); cpu++) {
        hv_testdev_msg_conn_destroy(STREAM_CONN + cpu);
        on_cpu(cpu, stream_teardown, NULL);
    }
    set_irq_handler(STREAM_VECTOR, NULL);
}
