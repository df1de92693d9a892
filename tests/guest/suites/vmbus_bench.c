// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * suite=vmbus-bench: figures for a VMBus channel (bench/README.md):
 * bench/synic-post.sh runs it under our QEMU (both paths on KVM, and
 * TCG) and under upstream 10.0.2.  Its PASS/FAIL lines say whether every
 * packet came back exactly once, so that no figure comes from a run that
 * lost or doubled packets; run-suites.sh's vmbus-echo rows run it as a
 * test of that.
 *
 * vCPU 0 connects at the highest version the host accepts, opens one
 * channel on 8 + 8 ring pages, and writes in-band packets of size=
 * payload bytes (default 64) into the ring, signalling the host as
 * Linux's ring code does: only when the host's read index shows that
 * the ring was empty before the packet and the host has not masked its
 * interrupt.  After reading, it signals when the host waits for room
 * (pending_send_sz).
 *
 * Modes (mode=a,b,... or all):
 *   rtt             vmbus-echo: one packet, then wait for its echo,
 *                   announced by the channel's event flag and the bus's
 *                   SINT interrupt (its flag cleared each time, as Linux
 *                   does)
 *   rtt-poll        the same, with the guest's interrupt masked in the
 *                   ring the host writes: the guest polls that ring
 *   stream          vmbus-echo: packets as fast as the ring takes them,
 *                   the echoes drained on the way (polled, interrupt
 *                   masked); ends when every echo is back
 *   stream-balloon  hv-balloon, which every QEMU with a VMBus has: DM
 *                   status reports (48 bytes; size= does not apply) as
 *                   fast as the ring takes them; ends when the host has
 *                   read them all (no answer comes)
 *   none            set-up only (a baseline for counters kept by the host)
 * A mode whose device is not offered prints an INFO line and no figure.
 * n= packets measured per mode (default 1000, at most BENCH_MAX_N),
 * after warmup= (default 20) that are not.  hold= milliseconds (default
 * 0): the guest spins that long after "INFO: bench: counting", printed
 * where the measured packets start, and after "INFO: bench: holding",
 * printed where they end (before any result is printed), so that the
 * host can read counters of the VM for exactly the n packets.
 *
 * Figures, on the TSC:
 *   BENCH: <mode>-lat-median|-lat-mean|-lat-min <cycles> cycles,
 *          <mode>-lat-median-ns <ns> ns (rtt, rtt-poll): from writing a
 *          packet to having read its echo
 *   BENCH: <mode>-rate <n> pkt/s, <mode>-cycles-per-pkt <cycles> cycles,
 *          <mode>-kib-per-s <n> KiB/s of payload (stream, stream-balloon)
 *   BENCH: <mode>-signals-per-pkt, <mode>-irqs-per-pkt <x1000> milli:
 *          HvSignalEvent calls the guest made, SINT interrupts it took
 */
#include <stdint.h>

#include "lib/bench.h"
#include "lib/boot.h"
#include "lib/report.h"
#include "lib/string.h"
#include "lib/synic.h"
#include "lib/timing.h"
#include "lib/vmbus.h"
#include "lib/x86.h"
#include "suites/suite.h"

#define BUS_VECTOR          0x94
#define OPEN_ID             0x42454e43u
#define RING_PAGES          8      /* each of the two rings */
#define BENCH_MAX_N         20000
#define BENCH_MAX_SIZE      4096
#define ECHO_US             5000000ull
#define DM_STATUS_REPORT    5

struct vb_mode {
    const char *name;
    bool balloon;           /* hv-balloon, else vmbus-echo */
    bool stream;            /* no waiting for each packet */
    bool poll;              /* the guest's interrupt masked */
};

static const struct vb_mode modes[] = {
    { "rtt", false, false, false },
    { "rtt-poll", false, false, true },
    { "stream", false, true, true },
    { "stream-balloon", true, true, true },
};

/* hv-balloon's status report: what Linux sends every second */
struct dm_status {
    struct vmbus_dm_header hdr;
    uint64_t num_avail;
    uint64_t num_committed;
    uint64_t page_file_size;
    uint64_t zero_free;
    uint32_t page_file_writes;
    uint32_t io_diff;
} __attribute__((packed));

_Static_assert(sizeof(struct dm_status) == 48, "DM status report size");

struct vb_chan {
    struct vmbus_msg_offer offer;
    struct vmbus_ring_pages ring;
    uint32_t gpadl;
    uint32_t signals;
};

static struct vmbus_client bus;
static const struct vmbus_guid echo_class = VMBUS_GUID_ECHO;
static const struct vmbus_guid balloon_class = VMBUS_GUID_DYNAMIC_MEMORY;
static unsigned long bench_n, bench_warmup, bench_size, hold_ms;
static uint64_t samples[BENCH_MAX_N];
static uint8_t payload[BENCH_MAX_SIZE], answer[BENCH_MAX_SIZE];

/* A field of a ring's control page, as the other side left it */
#define load32(p)       __atomic_load_n((p), __ATOMIC_ACQUIRE)

/*
 * Put one packet; false if the ring is full.  Signals as Linux's
 * hv_ringbuffer_write() decides: the write index published, then (after
 * a full barrier) the host's mask and read index looked at.
 */
static bool vb_put(struct vb_chan *c, const void *buf, uint32_t len,
                   uint64_t trans_id)
{
    struct vmbus_ring_header *h = vmbus_ring_send_hdr(&c->ring);
    uint32_t old = h->write_index;

    if (!vmbus_ring_put(&c->ring, buf, len, trans_id)) {
        return false;
    }
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!load32(&h->interrupt_mask) && load32(&h->read_index) == old) {
        hv_signal_event(c->offer.connection_id, 0);
        c->signals++;
    }
    return true;
}

/*
 * Take one packet of the host's ring into answer[]: its length, or -1.
 * When the host waits for room (pending_send_sz), the guest signals once
 * there is that much, as Linux's hv_pkt_iter_close() does.
 */
static int vb_get(struct vb_chan *c)
{
    struct vmbus_ring_header *h = vmbus_ring_recv_hdr(&c->ring);
    uint32_t data = vmbus_ring_data_size(&c->ring, false);
    int len = vmbus_ring_get(&c->ring, answer, sizeof(answer));
    uint32_t want, w, r;

    if (len < 0) {
        return len;
    }
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    want = load32(&h->pending_send_sz);
    if (want) {
        w = load32(&h->write_index);
        r = h->read_index;
        if ((w >= r ? data - (w - r) : r - w) >= want) {
            hv_signal_event(c->offer.connection_id, 0);
            c->signals++;
        }
    }
    return len;
}

/* vb_get() within ECHO_US: the packet's length, or -1 */
static int vb_wait_get(struct vb_chan *c)
{
    struct wait_bound wb;

    wait_bound_start(&wb, ECHO_US);
    for (;;) {
        int len = vb_get(c);

        if (len >= 0 || wait_bound_expired(&wb)) {
            return len;
        }
        cpu_relax();
    }
}

static bool echo_ok(int len, uint32_t seq)
{
    uint32_t got;

    memcpy(&got, answer, sizeof(got));
    return len == (int)bench_size && got == seq;
}

static void per_pkt(const char *mode, const char *what, uint64_t count,
                    unsigned long n)
{
    bench_figure(mode, what, count * 1000 / n, "milli");
}

static void run_rtt(const struct vb_mode *m, struct vb_chan *c)
{
    unsigned long total = bench_warmup + bench_n, i, bad = 0;
    unsigned int irq0 = 0, irqs;
    uint32_t sig0 = 0;
    uint64_t sum = 0, t0;
    int len;

    vmbus_ring_recv_hdr(&c->ring)->interrupt_mask = m->poll;
    for (i = 0; i < total; i++) {
        uint32_t seq = 0x10000 + i;
        unsigned int before = sint_irq_count(bus.cpu, bus.vector);

        if (i == bench_warmup) {
            bench_hold_as("counting", hold_ms);
            irq0 = before;
            sig0 = c->signals;
        }
        memcpy(payload, &seq, sizeof(seq));
        t0 = rdtsc();
        if (!vb_put(c, payload, bench_size, seq)) {
            break;
        }
        if (!m->poll) {
            if (!wait_for(sint_irq_count(bus.cpu, bus.vector) > before,
                          ECHO_US)) {
                break;
            }
            flag_clear(bus.cpu, bus.sint, c->offer.child_relid);
        }
        len = vb_wait_get(c);
        if (len < 0) {
            break;
        }
        if (i >= bench_warmup) {
            samples[i - bench_warmup] = rdtsc() - t0;
            sum += samples[i - bench_warmup];
        }
        bad += !echo_ok(len, seq);
    }
    irqs = sint_irq_count(bus.cpu, bus.vector) - irq0;
    bench_hold(hold_ms);
    if (!report(i == total && !bad, "%s: %lu of %lu echoes came back, %lu "
                "wrong", m->name, i, total, bad)) {
        return;
    }
    /* None may come twice: a settle time, as no fence exists here. */
    udelay(100000);
    report(vb_get(c) < 0, "%s: nothing is left in the host's ring",
           m->name);
    if (m->poll) {
        report(irqs == 0, "%s: no interrupt while masked (%u)", m->name,
               irqs);
    }
    bench_latency(m->name, samples, bench_n, sum);
    per_pkt(m->name, "signals-per-pkt", c->signals - sig0, bench_n);
    per_pkt(m->name, "irqs-per-pkt", irqs, bench_n);
}

/*
 * Write packets first to last - 1 as fast as the ring takes them, taking
 * echoes on the way; true once the host has read them all and, for the
 * echo, every echo is back.  *echoes counts them.
 */
/* Why a stream stopped, with both rings' indices, for the log. */
static void stream_stop(const struct vb_mode *m, struct vb_chan *c,
                        const char *why, unsigned long written,
                        unsigned long echoes)
{
    struct vmbus_ring_header *tx = vmbus_ring_send_hdr(&c->ring);
    struct vmbus_ring_header *rx = vmbus_ring_recv_hdr(&c->ring);

    report_info("%s: stopped: %s; %lu written, %lu echoed; send ring "
                "write %u read %u, receive ring write %u read %u; %u "
                "signals", m->name, why, written, echoes,
                load32(&tx->write_index), load32(&tx->read_index),
                load32(&rx->write_index), load32(&rx->read_index),
                (unsigned)c->signals);
}

static bool stream_part(const struct vb_mode *m, struct vb_chan *c,
                        unsigned long first, unsigned long last,
                        unsigned long *echoes, unsigned long *bad)
{
    struct vmbus_ring_header *h = vmbus_ring_send_hdr(&c->ring);
    struct dm_status st = {
        .hdr = { DM_STATUS_REPORT, sizeof(st), 0 },
        .num_avail = 1000,
        .num_committed = 2000,
    };
    unsigned long i;
    int len;

    for (i = first; i < last; i++) {
        uint32_t seq = 0x10000 + i;
        bool put;

        if (m->balloon) {
            st.hdr.trans_id = seq;
            put = wait_for(vb_put(c, &st, sizeof(st), seq), ECHO_US);
        } else {
            struct wait_bound wb;

            /*
             * The ring is full: wait for room or for an echo, whichever
             * comes first.  The host publishes its read index after a
             * whole batch, so the last echo of a batch can come before
             * the room it made: waiting for an echo only, then, waits
             * for one that cannot come.  The bound restarts with every
             * echo.
             */
            memcpy(payload, &seq, sizeof(seq));
            wait_bound_start(&wb, ECHO_US);
            while (!(put = vb_put(c, payload, bench_size, seq))) {
                len = vb_get(c);
                if (len >= 0) {
                    *bad += !echo_ok(len, 0x10000 + *echoes);
                    (*echoes)++;
                    wait_bound_start(&wb, ECHO_US);
                } else if (wait_bound_expired(&wb)) {
                    break;
                } else {
                    cpu_relax();
                }
            }
        }
        if (!put) {
            stream_stop(m, c, "the send ring stayed full", i, *echoes);
            return false;
        }
        while (!m->balloon && (len = vb_get(c)) >= 0) {
            *bad += !echo_ok(len, 0x10000 + *echoes);
            (*echoes)++;
        }
    }
    if (m->balloon) {
        if (!wait_for(load32(&h->read_index) == h->write_index, ECHO_US)) {
            stream_stop(m, c, "the host left packets unread", last, *echoes);
            return false;
        }
        return true;
    }
    while (*echoes < last) {
        len = vb_wait_get(c);
        if (len < 0) {
            stream_stop(m, c, "an echo did not come back", last, *echoes);
            return false;
        }
        *bad += !echo_ok(len, 0x10000 + *echoes);
        (*echoes)++;
    }
    return true;
}

static void run_stream(const struct vb_mode *m, struct vb_chan *c)
{
    unsigned long total = bench_warmup + bench_n, echoes = 0, bad = 0;
    unsigned long bytes = m->balloon ? sizeof(struct dm_status) : bench_size;
    unsigned int irq0, irqs;
    uint32_t sig0;
    uint64_t t0, span;
    bool ok;

    vmbus_ring_recv_hdr(&c->ring)->interrupt_mask = 1;
    ok = stream_part(m, c, 0, bench_warmup, &echoes, &bad);
    bench_hold_as("counting", hold_ms);
    irq0 = sint_irq_count(bus.cpu, bus.vector);
    sig0 = c->signals;
    t0 = rdtsc();
    ok = ok && stream_part(m, c, bench_warmup, total, &echoes, &bad);
    span = rdtsc() - t0;
    irqs = sint_irq_count(bus.cpu, bus.vector) - irq0;
    bench_hold(hold_ms);
    if (!report(ok && !bad, "%s: all %lu packets taken%s, %lu wrong",
                m->name, total, m->balloon ? "" : " and echoed", bad)) {
        return;
    }
    if (!m->balloon) {
        udelay(100000);
        report(vb_get(c) < 0, "%s: nothing is left in the host's ring",
               m->name);
    }
    span = span ? span : 1;
    bench_figure(m->name, "rate", bench_n * tsc_khz() * 1000 / span,
                 "pkt/s");
    bench_figure(m->name, "cycles-per-pkt", span / bench_n, "cycles");
    bench_figure(m->name, "kib-per-s",
                 bench_n * bytes * tsc_khz() * 1000 / span / 1024, "KiB/s");
    per_pkt(m->name, "signals-per-pkt", c->signals - sig0, bench_n);
    per_pkt(m->name, "irqs-per-pkt", irqs, bench_n);
}

static bool chan_open(const struct vb_mode *m, struct vb_chan *c)
{
    const struct vmbus_msg_offer *o =
        vmbus_find_offer(&bus, m->balloon ? &balloon_class : &echo_class);
    if (!o) {
        report_info("%s: %s is not offered: no figures", m->name,
                    m->balloon ? "hv-balloon" : "vmbus-echo");
        return false;
    }
    memset(c, 0, sizeof(*c));
    c->offer = *o;
    if (!vmbus_open_checked(&bus, o->child_relid, &c->ring, RING_PAGES,
                            &c->gpadl, m->name)) {
        vmbus_ring_free(&c->ring);
        return false;
    }
    return true;
}

static void chan_close(const struct vb_mode *m, struct vb_chan *c)
{
    struct vmbus_msg_gpadl_torndown t = {};

    report(vmbus_close_channel(&bus, c->offer.child_relid) ==
           HV_STATUS_SUCCESS && vmbus_gpadl_teardown(&bus,
           c->offer.child_relid, c->gpadl, &t), "%s: channel closed, ring "
           "GPADL torn down", m->name);
    vmbus_ring_free(&c->ring);
}

static void vmbus_bench(void)
{
    const char *list = opt_get("mode");
    struct vb_chan chan;
    char ver[12];
    unsigned int i;

    if (!opt_get_ulong("n", 1000, &bench_n) || bench_n < 1 ||
        bench_n > BENCH_MAX_N ||
        !opt_get_ulong("warmup", 20, &bench_warmup) ||
        bench_warmup > BENCH_MAX_N ||
        !opt_get_ulong("size", 64, &bench_size) || bench_size < 4 ||
        bench_size > BENCH_MAX_SIZE || !opt_get_ulong("hold", 0, &hold_ms) ||
        hold_ms > 60000) {
        report(false, "options: n=1..%u, warmup=0..%u, size=4..%u and "
               "hold=0..60000", BENCH_MAX_N, BENCH_MAX_N, BENCH_MAX_SIZE);
        return;
    }
    if (!report(BENCH_MODES_KNOWN(list, modes), "options: mode=%s names "
                "known modes", list ? list : "all")) {
        return;
    }
    printf("BENCH: tsc-khz %lu kHz\n", (unsigned long)tsc_khz());
    if (!report(synic_enable_all("setup") &&
                vmbus_client_init(&bus, 2, BUS_VECTOR),
                "setup: SynIC and the bus's SINT ready") ||
        !report(vmbus_connect(&bus) != 0, "setup: the host accepts a "
                "version") ||
        !report(vmbus_request_offers(&bus), "setup: the offers came")) {
        return;
    }
    report_info("bench: version %s, n=%lu warmup=%lu size=%lu tsc=%lu kHz",
                vmbus_version_str(bus.version, ver), bench_n, bench_warmup,
                bench_size, tsc_khz());
    for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (!bench_mode_wanted(list, modes[i].name) ||
            !chan_open(&modes[i], &chan)) {
            continue;
        }
        if (modes[i].stream) {
            run_stream(&modes[i], &chan);
        } else {
            run_rtt(&modes[i], &chan);
        }
        chan_close(&modes[i], &chan);
    }
    report(vmbus_unload(&bus), "end: UNLOAD is answered");
    vmbus_client_fini(&bus);
    synic_disable_all();
}

DEFINE_SUITE("vmbus-bench", vmbus_bench);
