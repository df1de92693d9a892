// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * suite=synic-bench: figures for SynIC message posting (bench/README.md).
 * Not a test and not in run-suites.sh's table: bench/synic-post.sh runs
 * it under our QEMU and under upstream 10.0.2, in the nested lab, and
 * compares.  Its PASS/FAIL lines only say whether every message made it,
 * so that a figure is never taken from a run that lost messages.
 *
 * A hyperv-testdev message connection echoes each HvPostMessage into the
 * slot of the SINT its route targets.  vCPU 0 always posts; the receiver
 * takes the echo out of the slot: it clears message_type and, as Linux's
 * vmbus_signal_eom() does, writes EOM only when msg_pending asks for it
 * (eom=always: after every message).
 *
 * Modes (mode=a,b,... or all):
 *   self        lockstep: vCPU 0 posts to its own SINT and waits until
 *               its interrupt handler has taken the echo
 *   cross       lockstep: the route targets vCPU 1, idle in HLT, whose
 *               interrupt handler takes the echo; vCPU 0 waits for it
 *   cross-poll  the same, but vCPU 1 polls the slot of a masked SINT
 *   cross-b2b   cross with no gap (below): back-to-back messages, each
 *               posted as soon as the previous one was taken
 *   stream      vCPU 0 posts as fast as the status allows, retrying at
 *               once on HV_STATUS_INSUFFICIENT_BUFFERS; vCPU 1 drains in
 *               its interrupt handler
 *   none        set-up only (a baseline for counters kept by the host)
 * n= messages measured per mode (default 1000, at most BENCH_MAX_N),
 * after warmup= (default 20) that are not.  In lockstep, vCPU 0 waits
 * gap= microseconds (default 5000) after each echo before it posts the
 * next: long enough for the host to finish with the previous message
 * (both QEMUs complete a post in a main-loop bottom half and refuse the
 * next one until then), so that the latency is that of a message on an
 * idle connection.
 * hold= milliseconds (default 0): at the end, spin that long without
 * leaving the guest after printing "INFO: bench: holding", so that the
 * host can read counters of the VM while it still exists.
 *
 * Figures, all on the TSC (cycles also in ns, from the boot calibration
 * against the PIT):
 *   BENCH: <mode>-lat-median|-lat-mean|-lat-min <cycles> cycles
 *       from the first HvPostMessage attempt to the moment the poster
 *       sees the receiver has taken the echo (refused attempts included)
 *   BENCH: <mode>-lat-median-ns <ns> ns
 *   BENCH: <mode>-post-median <cycles> cycles
 *       the HvPostMessage call that was accepted (for self, the SINT's
 *       interrupt comes in as the call returns: its handler is included)
 *   BENCH: <mode>-refused <count> count
 *       attempts answered HV_STATUS_INSUFFICIENT_BUFFERS
 *   BENCH: <mode>-rate <n> msg/s, <mode>-cycles-per-msg <cycles> cycles
 *       (stream and cross-b2b) from the first post to the receiver
 *       taking the last message
 */
#include <stdint.h>

#include "lib/apic.h"
#include "lib/bench.h"
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

#define BENCH_CONN      0x50
#define BENCH_SINT      7
#define BENCH_VECTOR    0xb7
#define BENCH_TYPE      0x42454e43      /* "BENC" */
#define BENCH_CHECK     0x5a5a1234u
#define BENCH_MAX_N     20000
#define BENCH_DEF_N     1000
#define BENCH_DEF_WARMUP 20
#define BENCH_DEF_GAP_US 5000
/* the poller of cross-poll gives up after this, whatever happens */
#define BENCH_POLL_US   600000000ull

struct bench_msg {
    uint32_t seq;
    uint32_t check;     /* seq ^ BENCH_CHECK: catches a garbled payload */
    uint32_t pad[2];
};

/*
 * The receiver's side.  Written only by the receiving vCPU (handler or
 * poller), read by vCPU 0; every access is atomic.
 */
struct bench_rx {
    uint32_t got;           /* messages taken out of the slot */
    uint32_t next;          /* sequence number expected next */
    uint32_t misordered;    /* payloads other than the one expected */
    uint32_t eoms;          /* EOM writes */
    uint64_t last_tsc;      /* when the last message was taken */
};

struct bench_mode {
    const char *name;
    unsigned int rx_cpu;
    bool poll;              /* the receiver polls a masked SINT */
    bool stream;            /* no waiting for each echo */
    bool b2b;               /* lockstep without a gap */
};

static const struct bench_mode modes[] = {
    { "self", 0, false, false, false },
    { "cross", 1, false, false, false },
    { "cross-poll", 1, true, false, false },
    { "cross-b2b", 1, false, false, true },
    { "stream", 1, false, true, false },
};

static struct bench_rx rx;
static struct hv_message *rx_slot;
static bool eom_always;
static bool poll_stop;
static unsigned long bench_n, bench_warmup, bench_gap_us;
static uint64_t samples[BENCH_MAX_N];
static uint64_t call_samples[BENCH_MAX_N];

static uint32_t rx_load(uint32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void rx_store(uint32_t *p, uint32_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* On the receiver: take the message out of the slot (type seen set). */
static void bench_take(struct hv_message *m)
{
    struct bench_msg msg;
    bool ok;

    /* the payload was written before the type */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    memcpy(&msg, m->payload, sizeof(msg));
    ok = m->header.payload_size == sizeof(msg) &&
         msg.check == (msg.seq ^ BENCH_CHECK) && msg.seq == rx.next;
    rx_store(&rx.misordered, rx.misordered + !ok);
    rx_store(&rx.next, msg.seq + 1);
    /* TLFS 11.10.2, and Linux: empty the slot, then EOM if asked to */
    __atomic_store_n(&m->header.message_type, HV_MESSAGE_NONE,
                     __ATOMIC_SEQ_CST);
    if (eom_always || (msg_flags(m) & HV_MESSAGE_FLAG_PENDING)) {
        synic_eom();
        rx_store(&rx.eoms, rx.eoms + 1);
    }
    __atomic_store_n(&rx.last_tsc, rdtsc(), __ATOMIC_RELEASE);
    rx_store(&rx.got, rx.got + 1);
}

static void bench_irq(struct ex_regs *regs)
{
    struct hv_message *m = __atomic_load_n(&rx_slot, __ATOMIC_ACQUIRE);

    if (m && msg_type(m) == BENCH_TYPE) {
        bench_take(m);
    }
    /* With aeoi=all the SINT has AutoEOI: no EOI, as its users do. */
    if (!synic_aeoi_all()) {
        apic_eoi();
    }
}

/* On vCPU 1 for cross-poll: take messages until told to stop. */
static void bench_poll(void *arg)
{
    struct hv_message *m = __atomic_load_n(&rx_slot, __ATOMIC_ACQUIRE);
    struct wait_bound wb;

    wait_bound_start(&wb, BENCH_POLL_US);
    while (!__atomic_load_n(&poll_stop, __ATOMIC_ACQUIRE) &&
           !wait_bound_expired(&wb)) {
        if (msg_type(m) == BENCH_TYPE) {
            bench_take(m);
        } else {
            cpu_relax();
        }
    }
}

static void rx_setup(void *arg)
{
    const struct bench_mode *bm = arg;

    __atomic_store_n(&rx_slot, synic_slot(smp_id(), BENCH_SINT),
                     __ATOMIC_RELEASE);
    sint_program(BENCH_SINT, BENCH_VECTOR, bm->poll ? HV_SINT_MASKED : 0);
}

static void rx_teardown(void *arg)
{
    struct hv_message *m = synic_slot(smp_id(), BENCH_SINT);

    sint_reset(BENCH_SINT);
    if (m && msg_type(m) != HV_MESSAGE_NONE) {
        msg_release(m, true);
    }
    __atomic_store_n(&rx_slot, NULL, __ATOMIC_RELEASE);
}

/*
 * Post message seq, retrying at once (bounded) while the connection
 * answers INSUFFICIENT_BUFFERS.  *call gets the cycles of the last call.
 */
static uint16_t bench_post(uint32_t seq, uint32_t *refused, uint64_t *call)
{
    struct bench_msg msg = { seq, seq ^ BENCH_CHECK, { 0, 0 } };
    struct wait_bound wb;
    uint64_t t;
    uint16_t st;

    wait_bound_start(&wb, SYNIC_ARRIVE_US);
    for (;;) {
        t = rdtsc();
        st = hv_post_message(BENCH_CONN, BENCH_TYPE, &msg, sizeof(msg));
        *call = rdtsc() - t;
        if (st != HV_STATUS_INSUFFICIENT_BUFFERS || wait_bound_expired(&wb)) {
            return st;
        }
        (*refused)++;
        cpu_relax();
    }
}

/* Shell sort: no libc here, and n is small. */
/* Wait for every echo up to total; report the checks of a mode. */
static void check_delivery(const struct bench_mode *bm, unsigned long total,
                           unsigned long posted, uint16_t st)
{
    bool all = wait_for(rx_load(&rx.got) >= posted, SYNIC_ARRIVE_US);

    /*
     * Anything beyond that would be a duplicate.  A settle time, not a
     * fence: the check only guards the figures, a fence would be one more
     * connection and interrupt on the receiver beside the traffic measured
     * (cross-poll's receiver takes no interrupt at all), and duplicates
     * are what synic-conn and the stream check, with fences.
     */
    udelay(SYNIC_QUIET_US);
    report(posted == total && st == HV_STATUS_SUCCESS,
           "%s: %lu of %lu messages posted (last status 0x%x)", bm->name,
           posted, total, st);
    all &= rx_load(&rx.got) == posted;
    if (bm->stream) {
        /*
         * QEMU 10.0.2's hyperv-testdev overwrites the echo it keeps for
         * a retry with a refused message (synic_stream.c), so a stream
         * may arrive out of order there: a figure, not a check.
         */
        report(all, "%s: every accepted message arrived once (%u taken)",
               bm->name, rx_load(&rx.got));
    } else {
        report(all && rx_load(&rx.misordered) == 0,
               "%s: every echo arrived once, in order (%u taken, %u "
               "misordered)", bm->name, rx_load(&rx.got),
               rx_load(&rx.misordered));
    }
    report_info("%s: %u taken, %u misordered, %u EOMs written", bm->name,
                rx_load(&rx.got), rx_load(&rx.misordered),
                rx_load(&rx.eoms));
}

static void run_lockstep(const struct bench_mode *bm)
{
    unsigned long total = bench_warmup + bench_n, i, posted = 0;
    unsigned long gap = bm->b2b ? 0 : bench_gap_us;
    uint64_t lat_sum = 0, call = 0, t0, start = 0, span;
    uint32_t refused = 0, warm_refused = 0;
    uint16_t st = HV_STATUS_SUCCESS;

    for (i = 0; i < total; i++) {
        uint32_t *count = i < bench_warmup ? &warm_refused : &refused;

        t0 = rdtsc();
        if (i == bench_warmup) {
            start = t0;
        }
        st = bench_post(i, count, &call);
        if (st != HV_STATUS_SUCCESS) {
            break;
        }
        posted++;
        if (!wait_for(rx_load(&rx.got) > i, SYNIC_ARRIVE_US)) {
            break;
        }
        if (i >= bench_warmup) {
            samples[i - bench_warmup] = rdtsc() - t0;
            lat_sum += samples[i - bench_warmup];
            call_samples[i - bench_warmup] = call;
        }
        udelay(gap);
    }
    check_delivery(bm, total, posted, st);
    if (posted != total) {
        return;
    }
    if (bm->b2b) {
        span = __atomic_load_n(&rx.last_tsc, __ATOMIC_ACQUIRE) - start;
        bench_figure(bm->name, "rate",
                     bench_n * tsc_khz() * 1000 / (span ? span : 1), "msg/s");
        bench_figure(bm->name, "cycles-per-msg", span / bench_n, "cycles");
    }
    bench_latency(bm->name, samples, bench_n, lat_sum);
    bench_sort(call_samples, bench_n);
    bench_figure(bm->name, "post-median", call_samples[bench_n / 2], "cycles");
    bench_figure(bm->name, "refused", refused, "count");
}

static void run_stream(const struct bench_mode *bm)
{
    unsigned long total = bench_warmup + bench_n, i, posted = 0;
    uint64_t call = 0, t0, span;
    uint32_t refused = 0;
    uint16_t st = HV_STATUS_SUCCESS;
    bool warm = true;

    /* the warm-up goes in lockstep, so the stream starts on an empty slot */
    for (i = 0; warm && i < bench_warmup; i++) {
        st = bench_post(i, &refused, &call);
        warm = st == HV_STATUS_SUCCESS &&
               wait_for(rx_load(&rx.got) > i, SYNIC_ARRIVE_US);
        posted += st == HV_STATUS_SUCCESS;
    }
    refused = 0;
    t0 = rdtsc();
    for (i = posted; warm && i < total; i++) {
        st = bench_post(i, &refused, &call);
        if (st != HV_STATUS_SUCCESS) {
            break;
        }
        call_samples[i - bench_warmup] = call;
        posted++;
    }
    check_delivery(bm, total, posted, st);
    if (posted != total || rx_load(&rx.got) != total) {
        return;
    }
    span = __atomic_load_n(&rx.last_tsc, __ATOMIC_ACQUIRE) - t0;
    bench_sort(call_samples, bench_n);
    bench_figure(bm->name, "rate",
                 bench_n * tsc_khz() * 1000 / (span ? span : 1), "msg/s");
    bench_figure(bm->name, "cycles-per-msg", span / bench_n, "cycles");
    bench_figure(bm->name, "post-median", call_samples[bench_n / 2], "cycles");
    bench_figure(bm->name, "refused", refused, "count");
}

static void run_mode(const struct bench_mode *bm)
{
    unsigned int rx_cpu = bm->rx_cpu;

    if (rx_cpu >= cpu_count()) {
        report(false, "%s: needs %u vCPUs (cpus=%u)", bm->name, rx_cpu + 1,
               cpu_count());
        return;
    }
    memset(&rx, 0, sizeof(rx));
    __atomic_store_n(&poll_stop, false, __ATOMIC_RELEASE);
    if (!report(on_cpu(rx_cpu, rx_setup, (void *)bm) && rx_slot,
                "%s: SINT %u of cpu %u programmed", bm->name, BENCH_SINT,
                rx_cpu)) {
        return;
    }
    hv_testdev_msg_conn_create(BENCH_CONN, rx_cpu, BENCH_SINT);
    if (bm->poll) {
        on_cpu_async(rx_cpu, bench_poll, NULL);
    }
    if (bm->stream) {
        run_stream(bm);
    } else {
        run_lockstep(bm);
    }
    if (bm->poll) {
        __atomic_store_n(&poll_stop, true, __ATOMIC_RELEASE);
        report(on_cpu_wait(rx_cpu, ON_CPU_TIMEOUT_US),
               "%s: the poller on cpu %u stopped", bm->name, rx_cpu);
    }
    hv_testdev_msg_conn_destroy(BENCH_CONN);
    on_cpu(rx_cpu, rx_teardown, NULL);
}

static void synic_bench(void)
{
    const char *list = opt_get("mode");
    const char *eom = opt_get("eom");
    unsigned long hold_ms;
    unsigned int i;

    if (!opt_get_ulong("n", BENCH_DEF_N, &bench_n) || bench_n < 1 ||
        bench_n > BENCH_MAX_N ||
        !opt_get_ulong("warmup", BENCH_DEF_WARMUP, &bench_warmup) ||
        bench_warmup > BENCH_MAX_N ||
        !opt_get_ulong("gap", BENCH_DEF_GAP_US, &bench_gap_us) ||
        bench_gap_us > 1000000 || !opt_get_ulong("hold", 0, &hold_ms) ||
        hold_ms > 60000) {
        report(false, "options: n=1..%u, warmup=0..%u, gap=0..1000000 "
               "and hold=0..60000", BENCH_MAX_N, BENCH_MAX_N);
        return;
    }
    if (!report(BENCH_MODES_KNOWN(list, modes), "options: mode=%s names "
                "known modes", list ? list : "all")) {
        return;
    }
    eom_always = eom && !strcmp(eom, "always");
    report_info("bench: n=%lu warmup=%lu gap=%lu us eom=%s tsc=%lu kHz",
                bench_n, bench_warmup, bench_gap_us,
                eom_always ? "always" : "pending", tsc_khz());
    printf("BENCH: tsc-khz %lu kHz\n", (unsigned long)tsc_khz());
    if (!synic_enable_all("setup")) {
        return;
    }
    set_irq_handler(BENCH_VECTOR, bench_irq);
    for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (bench_mode_wanted(list, modes[i].name)) {
            run_mode(&modes[i]);
        }
    }
    set_irq_handler(BENCH_VECTOR, NULL);
    bench_hold(hold_ms);
    synic_disable_all();
}

DEFINE_SUITE("synic-bench", synic_bench);
