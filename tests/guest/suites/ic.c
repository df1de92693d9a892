// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * suite=ic: the integration services' framework of QEMU
 * (hw/hyperv/hv-ic.c), through hv-heartbeat, as a guest driver sees it
 * and as a hostile one answers it.  Needs -device vmbus-bridge -device
 * hv-heartbeat,period-ms=50,timeout-ms=500 (period= and timeout= tell
 * the suite the same numbers; the bound at least ten periods).
 *
 * part=<name> (one QEMU each):
 *  negotiate  the host speaks first: NEGOTIATE, a transaction request,
 *             offering frameworks 1.0 and 3.0 and heartbeat 1.0 and 3.0;
 *             the guest's pick (3.0/3.0) shows in the header of every
 *             heartbeat that follows; each heartbeat answered with its
 *             number plus one brings the next, one number up, well
 *             before the host's bound
 *  hostile    answers the host must drop, one packet each: too short,
 *             empty, a bad pipe header, an IC size past the packet, a
 *             request instead of an answer, no transaction flag, the
 *             wrong transaction id (in the IC header or the packet),
 *             another message type, an unknown one, an oversized packet,
 *             and an answer when nothing is out.  In the negotiation
 *             each picks 1.0/1.0 and the right answer 3.0/3.0: the
 *             heartbeats' header shows that none was taken.  During the
 *             heartbeats the host must wait out its bound after each (an
 *             answer taken would bring the next heartbeat one period
 *             later) and send the next heartbeat, which a right answer
 *             then serves as before
 *  versions   negotiation answers that fail the service (no common
 *             version; a version not offered; a body too short): no
 *             heartbeat comes, and closing and opening the channel
 *             starts a new negotiation that works; an answer that comes
 *             after the host's bound is still taken
 *  kvp        hv-kvp instead (-device hv-kvp,poll-ms=50,timeout-ms=500):
 *             it offers KVP 3.0, 4.0 and 5.0; once agreed it reads the
 *             guest's pools auto, then guest, one item per request
 *             (ENUMERATE, 2580 bytes), and after "no more items" in the
 *             last pool reads again a period later.  Items it cannot take
 *             (a short answer; another operation, pool or index; a key
 *             that is not UTF-16 or empty; an unknown value type; no
 *             answer; more than 256 items) end the reading: the next
 *             request starts a new one, a period later, instead of
 *             asking for the next item.  Sizes past the key's and the
 *             value's fields are clipped, not trusted
 *  timesync   hv-timesync instead (sample-ms as period=): with v4=1 (the
 *             guest has hv-time) it offers time sync 1.0, 3.0 and 4.0,
 *             and after 4.0 is agreed a SYNC then SAMPLEs of 24 bytes
 *             come, each with the partition's reference time of its
 *             moment: never ahead of TIME_REF_COUNT read when it
 *             arrives, at most the bound behind it, and the host's time
 *             advancing with it; with v4=0 (no hv-time) it offers 1.0 and
 *             3.0 only, and 3.0 brings messages of 28 bytes
 */
#include <stdint.h>

#include "lib/alloc.h"
#include "lib/boot.h"
#include "lib/hyperv.h"
#include "lib/report.h"
#include "lib/string.h"
#include "lib/synic.h"
#include "lib/timing.h"
#include "lib/vmbus.h"
#include "lib/x86.h"
#include "suites/suite.h"

#define BUS_VECTOR          0x92
#define RING_PAGES          4       /* per ring */
#define OPEN_ID             0x49434943u

#define IC_NEGOTIATE        0
#define IC_HEARTBEAT        1
#define IC_KVP              2
#define IC_TIMESYNC         4
#define IC_SHUTDOWN         3
#define IC_TRANSACTION      0x1
#define IC_REQUEST          0x2
#define IC_RESPONSE         0x4
#define IC_PIPE_DATA        1
#define IC_HDRS             28
#define IC_V(maj, min)      ((uint32_t)(maj) << 16 | (min))

/* The heartbeat service's class, in wire order. */
#define GUID_HEARTBEAT { {                                              \
    0x39, 0x4f, 0x16, 0x57, 0x15, 0x91, 0x78, 0x4e,                     \
    0xab, 0x55, 0x38, 0x2f, 0x3b, 0xd5, 0x42, 0x2d } }

/* The KVP service's class, in wire order. */
#define GUID_KVP { {                                                    \
    0xe7, 0xf4, 0xa0, 0xa9, 0x45, 0x5a, 0x96, 0x4d,                     \
    0xb8, 0x27, 0x8a, 0x84, 0x1e, 0x8c, 0x03, 0xe6 } }

/* The time sync service's class, in wire order. */
#define GUID_TIMESYNC { {                                               \
    0x30, 0xe6, 0x27, 0x95, 0xae, 0xd0, 0x7b, 0x49,                     \
    0xad, 0xce, 0xe8, 0x0a, 0xb0, 0x17, 0x5c, 0xaf } }

struct ic_hdr {
    uint32_t pipe_type;
    uint32_t pipe_size;
    uint16_t fw_major, fw_minor;
    uint16_t type;
    uint16_t msg_major, msg_minor;
    uint16_t size;
    uint32_t status;
    uint8_t txid;
    uint8_t flags;
    uint16_t reserved;
} __attribute__((packed));

_Static_assert(sizeof(struct ic_hdr) == IC_HDRS, "IC headers");

/* A packet of the host's, or one of ours. */
struct ic_pkt {
    struct ic_hdr h;
    uint8_t body[8192];
} __attribute__((packed));

static struct vmbus_client bus;
static struct vmbus_ring_pages ring;
static uint32_t relid, conn, gpadl;
static uint64_t period_us, timeout_us;
static struct ic_pkt req, ans;      /* the host's last packet, our answer */
static int req_len;

/* The next packet from the host, within @usec: its length, or -1. */
static int ic_get(uint64_t usec)
{
    struct wait_bound wb;

    wait_bound_start(&wb, usec);
    do {
        req_len = vmbus_ring_get(&ring, &req, sizeof(req));
    } while (req_len < 0 && !wait_bound_expired(&wb));
    return req_len;
}

/* Send @len bytes of @p as one packet with VMBus transaction @trans. */
static bool ic_put(const void *p, uint32_t len, uint64_t trans)
{
    return vmbus_ring_put(&ring, p, len, trans) &&
           hv_signal_event(conn, 0) == HV_STATUS_SUCCESS;
}

/* The answer a driver makes of the host's request in req: in place. */
static uint32_t ic_answer(uint32_t status)
{
    memcpy(&ans, &req, req_len);
    ans.h.flags = IC_TRANSACTION | IC_RESPONSE;
    ans.h.status = status;
    return req_len;
}

static bool is_request(uint16_t type)
{
    return req_len >= IC_HDRS && req.h.pipe_type == IC_PIPE_DATA &&
           req.h.type == type && req.h.flags == (IC_TRANSACTION | IC_REQUEST) &&
           req.h.size <= req_len - IC_HDRS;
}

/* Our pick for the negotiation in req: one framework, one message version. */
static uint32_t negotiate_answer(uint32_t fw, uint32_t msg)
{
    uint32_t len = ic_answer(0);
    uint16_t *w = (uint16_t *)ans.body;

    w[0] = 1;
    w[1] = 1;
    w[4] = fw >> 16;
    w[5] = fw & 0xffff;
    w[6] = msg >> 16;
    w[7] = msg & 0xffff;
    ans.h.size = 16;
    return len;
}

static uint64_t heartbeat_seq(const struct ic_pkt *p)
{
    uint64_t s;

    memcpy(&s, p->body, sizeof(s));
    return s;
}

static uint32_t heartbeat_answer(void)
{
    uint32_t len = ic_answer(0);
    uint64_t s = heartbeat_seq(&req) + 1;

    memcpy(ans.body, &s, sizeof(s));
    return len;
}

/* Connect, find service @name, open its channel: the host negotiates. */
static bool setup_service(const char *what, const struct vmbus_guid *class,
                          const char *name)
{
    const struct vmbus_msg_offer *o;

    if (!report(vmbus_connect(&bus) != 0, "%s: the bus connects", what) ||
        !report(vmbus_request_offers(&bus), "%s: offers delivered", what)) {
        return false;
    }
    o = vmbus_find_offer(&bus, class);
    if (!report(o != NULL, "%s: the %s service is offered", what, name)) {
        return false;
    }
    report((o->channel_flags & 0x10) && o->user_data[0] == 4,
           "%s: as a pipe in message mode (flags 0x%x, pipe type %u)", what,
           o->channel_flags, o->user_data[0]);
    relid = o->child_relid;
    conn = o->connection_id;
    return vmbus_open_checked(&bus, relid, &ring, RING_PAGES, &gpadl, what);
}

static bool setup(const char *what)
{
    static const struct vmbus_guid hb = GUID_HEARTBEAT;

    return setup_service(what, &hb, "heartbeat");
}

/* Close the channel and open it again over the same ring GPADL. */
static bool reopen(const char *what)
{
    struct vmbus_msg_open_result res = {};

    /* The rings stay where they were: the host takes them up there. */
    if (!report(vmbus_close_channel(&bus, relid) == HV_STATUS_SUCCESS,
                "%s: channel closed", what)) {
        return false;
    }
    return report(vmbus_open_channel(&bus, relid, OPEN_ID, gpadl, RING_PAGES,
                                     &res) && res.status == 0,
                  "%s: channel opened again (status 0x%x)", what, res.status);
}

/*
 * The host's NEGOTIATE: exactly @want (@n 16-bit words: the counts, the
 * reserved word, then each version's major and minor), as @desc says.
 */
static bool take_negotiate_of(const char *what, const uint16_t *want,
                              uint32_t n, const char *desc)
{
    uint16_t got[16];
    bool ok = ic_get(2000000) >= 0 && is_request(IC_NEGOTIATE);

    if (!report(ok,
                "%s: the host's first packet is a NEGOTIATE request (%d "
                "bytes, type %u, flags 0x%x)", what, req_len, req.h.type,
                req.h.flags)) {
        return false;
    }
    memcpy(got, req.body, sizeof(got));
    return report(req.h.size == n * 2 && !memcmp(got, want, n * 2),
                  "%s: it offers frameworks 1.0, 3.0 and %s (size %u, "
                  "counts %u/%u)", what, desc, req.h.size, got[0], got[1]);
}

static bool take_negotiate(const char *what)
{
    static const uint16_t want[] = { 2, 2, 0, 0, 1, 0, 3, 0, 1, 0, 3, 0 };

    return take_negotiate_of(what, want, 12, "heartbeat 1.0, 3.0");
}

/*
 * A heartbeat request within @usec, with its number and the versions;
 * req_tsc says when it was seen.
 */
static uint64_t req_tsc;

static bool take_heartbeat(uint64_t usec, uint64_t *seq)
{
    if (ic_get(usec) < 0 || !is_request(IC_HEARTBEAT) ||
        req.h.size < sizeof(uint64_t)) {
        return false;
    }
    req_tsc = rdtsc();
    *seq = heartbeat_seq(&req);
    return true;
}

/* Microseconds from the heartbeat seen at @since to the last one seen. */
static uint64_t gap_us(uint64_t since)
{
    return tsc_to_usec(req_tsc - since);
}

static bool answer_heartbeat(void)
{
    return ic_put(&ans, heartbeat_answer(), req.h.txid);
}

static void part_negotiate(void)
{
    uint64_t seq = 0, prev = 0, took = 0, slow = 0, t;
    unsigned int i;
    bool ok = true;

    if (!setup("negotiate") || !take_negotiate("negotiate")) {
        return;
    }
    if (!report(ic_put(&ans, negotiate_answer(IC_V(3, 0), IC_V(3, 0)),
                       req.h.txid), "negotiate: 3.0/3.0 answered")) {
        return;
    }
    ok = take_heartbeat(2000000, &seq);
    if (!report(ok, "negotiate: a heartbeat request follows (%d bytes)",
                req_len)) {
        return;
    }
    report(req.h.fw_major == 3 && req.h.fw_minor == 0 &&
           req.h.msg_major == 3 && req.h.msg_minor == 0,
           "negotiate: it names framework 3.0, heartbeat 3.0 (%u.%u/%u.%u)",
           req.h.fw_major, req.h.fw_minor, req.h.msg_major, req.h.msg_minor);
    for (i = 0; i < 20 && ok; i++) {
        prev = seq;
        t = req_tsc;
        ok = answer_heartbeat() && take_heartbeat(timeout_us * 3, &seq) &&
             seq == prev + 1;
        took = gap_us(t);
        slow = took > slow ? took : slow;
    }
    report(ok, "negotiate: 20 heartbeats, each answered and followed by the "
           "next number (%lu after %lu)", (unsigned long)seq,
           (unsigned long)prev);
    report_info("negotiate: the longest gap between two heartbeats: %lu "
                "us (period %lu us)", (unsigned long)slow,
                (unsigned long)period_us);
}

/* One hostile answer: how it spoils a right one, in place. */
struct bad_answer {
    const char *name;
    /* @len is the right answer's length; returns the length to send */
    uint32_t (*spoil)(uint32_t len, uint64_t *trans);
};

static uint32_t short_hdrs(uint32_t len, uint64_t *trans)
{
    return IC_HDRS - 1;
}

static uint32_t tiny(uint32_t len, uint64_t *trans)
{
    return 8;
}

static uint32_t empty(uint32_t len, uint64_t *trans)
{
    return 0;
}

static uint32_t pipe_type(uint32_t len, uint64_t *trans)
{
    ans.h.pipe_type = 2;
    return len;
}

static uint32_t pipe_size(uint32_t len, uint64_t *trans)
{
    ans.h.pipe_size = len;
    return len;
}

static uint32_t ic_size(uint32_t len, uint64_t *trans)
{
    ans.h.size = len - IC_HDRS + 8;
    return len;
}

static uint32_t a_request(uint32_t len, uint64_t *trans)
{
    ans.h.flags = IC_TRANSACTION | IC_REQUEST;
    return len;
}

static uint32_t no_transaction(uint32_t len, uint64_t *trans)
{
    ans.h.flags = IC_RESPONSE;
    return len;
}

static uint32_t wrong_txid(uint32_t len, uint64_t *trans)
{
    ans.h.txid++;
    return len;
}

static uint32_t wrong_trans(uint32_t len, uint64_t *trans)
{
    *trans += 0x100;
    return len;
}

static uint32_t other_type(uint32_t len, uint64_t *trans)
{
    ans.h.type = ans.h.type == IC_NEGOTIATE ? IC_SHUTDOWN : IC_NEGOTIATE;
    return len;
}

static uint32_t unknown_type(uint32_t len, uint64_t *trans)
{
    ans.h.type = 0x7f;
    return len;
}

/* 6000 bytes whose transaction id names no request. */
static uint32_t oversized(uint32_t len, uint64_t *trans)
{
    memset(ans.body + len - IC_HDRS, 0xa5, 6000 - len);
    ans.h.size = 6000 - IC_HDRS;
    ans.h.pipe_size = 6000 - 8;
    ans.h.txid ^= 0x80;
    return 6000;
}

static const struct bad_answer bad_answers[] = {
    { "shorter than the headers", short_hdrs },
    { "8 bytes", tiny },
    { "empty", empty },
    { "a pipe header of another type", pipe_type },
    { "a pipe size past the packet", pipe_size },
    { "an IC size past the packet", ic_size },
    { "a request, not an answer", a_request },
    { "no transaction flag", no_transaction },
    { "another IC transaction id", wrong_txid },
    { "another VMBus transaction id", wrong_trans },
    { "another message type", other_type },
    { "an unknown message type", unknown_type },
    { "6000 bytes with a transaction id of no request", oversized },
};

#define NR_BAD (sizeof(bad_answers) / sizeof(bad_answers[0]))

static bool send_bad(const struct bad_answer *b, uint32_t len)
{
    uint64_t trans = req.h.txid;
    uint32_t n = b->spoil(len, &trans);

    return ic_put(&ans, n, trans);
}

static void part_hostile(void)
{
    uint64_t seq, prev, took = 0, t, sent;
    unsigned int i, bad_ok = 0;
    uint32_t len;
    bool ok;

    if (!setup("hostile") || !take_negotiate("hostile")) {
        return;
    }
    /* Every spoiled answer picks 1.0/1.0; only the right one 3.0/3.0. */
    for (i = 0, ok = true; i < NR_BAD; i++) {
        len = negotiate_answer(IC_V(1, 0), IC_V(1, 0));
        ok &= send_bad(&bad_answers[i], len);
    }
    report(ok, "hostile: %u spoiled negotiation answers sent",
           (unsigned)NR_BAD);
    ok = ic_put(&ans, negotiate_answer(IC_V(3, 0), IC_V(3, 0)), req.h.txid) &&
         take_heartbeat(timeout_us * 4, &seq);
    report(ok && req.h.msg_major == 3 && req.h.fw_major == 3,
           "hostile: then the right one: the heartbeats that follow name "
           "3.0/3.0 (%u.%u/%u.%u), none of the spoiled ones was taken",
           req.h.fw_major, req.h.fw_minor, req.h.msg_major,
           req.h.msg_minor);
    if (!ok) {
        return;
    }
    for (i = 0; i < NR_BAD; i++) {
        prev = seq;
        t = req_tsc;
        len = heartbeat_answer();
        ok = send_bad(&bad_answers[i], len);
        sent = tsc_to_usec(rdtsc() - t);
        ok = ok && take_heartbeat(timeout_us * 4, &seq) && seq == prev + 1;
        took = gap_us(t);
        /*
         * Taken, the answer would bring the next heartbeat one period
         * after it; dropped, the host waits out its bound, which started
         * when it sent the request, before the guest saw it.  Measured
         * from the request seen, not from the answer sent: on the host's
         * KVM the guest took 139 ms to write the 6000-byte answer into
         * its ring (9-20 ms for the others).
         */
        ok &= took + period_us >= timeout_us;
        bad_ok += report(ok, "hostile: heartbeat %lu answered with %s: "
                         "dropped, the next (%lu) after the host's bound "
                         "(%lu us after the request; the answer took %lu "
                         "us to write)", (unsigned long)prev,
                         bad_answers[i].name, (unsigned long)seq,
                         (unsigned long)took, (unsigned long)sent);
        if (!ok && seq != prev + 1) {
            return;
        }
    }
    /* Still usable: right answers bring the next heartbeat promptly. */
    prev = seq;
    t = req_tsc;
    ok = answer_heartbeat() && take_heartbeat(timeout_us * 4, &seq) &&
         seq == prev + 1;
    took = gap_us(t);
    ok &= took < timeout_us;
    /* An answer when nothing is out: nothing changes. */
    ok &= answer_heartbeat();
    report(ok, "hostile: a right answer is served again (%lu us), and one "
           "more when nothing is out is dropped", (unsigned long)took);
    prev = seq;
    ok = take_heartbeat(timeout_us * 4, &seq) && seq == prev + 1;
    t = req_tsc;
    ok = ok && answer_heartbeat() && take_heartbeat(timeout_us * 4, &seq) &&
         seq == prev + 2;
    ok &= gap_us(t) < timeout_us;
    report(ok, "hostile: and the heartbeats go on (%lu)", (unsigned long)seq);
    report_info("hostile: %u of %u spoiled heartbeat answers dropped",
                bad_ok, (unsigned)NR_BAD);
}

/* No heartbeat within twice the bound: the service stopped. */
static bool silent(void)
{
    return ic_get(timeout_us * 2) < 0;
}

static void part_versions(void)
{
    uint64_t seq = 0, prev;
    uint32_t len;
    bool ok;

    if (!setup("versions") || !take_negotiate("versions")) {
        return;
    }
    len = ic_answer(0);
    memset(ans.body, 0, 16);
    ans.h.size = 16;
    report(ic_put(&ans, len, req.h.txid) && silent(),
           "versions: no common version (counts 0/0): no heartbeat");

    if (!reopen("versions") || !take_negotiate("versions: again")) {
        return;
    }
    len = negotiate_answer(IC_V(3, 0), IC_V(9, 9));
    report(ic_put(&ans, len, req.h.txid) && silent(),
           "versions: heartbeat 9.9, never offered: no heartbeat");

    if (!reopen("versions") || !take_negotiate("versions: again")) {
        return;
    }
    len = negotiate_answer(IC_V(3, 0), IC_V(3, 0));
    ans.h.size = 12;
    report(ic_put(&ans, len, req.h.txid) && silent(),
           "versions: an answer of 12 bytes: no heartbeat");

    if (!reopen("versions") || !take_negotiate("versions: late")) {
        return;
    }
    udelay(timeout_us * 2);
    len = negotiate_answer(IC_V(3, 0), IC_V(1, 0));
    ok = ic_put(&ans, len, req.h.txid) &&
         take_heartbeat(timeout_us * 4, &seq);
    report(ok && req.h.msg_major == 1,
           "versions: an answer after twice the host's bound is taken: "
           "heartbeat 1.0 follows (%u.%u)", req.h.msg_major,
           req.h.msg_minor);
    prev = seq;
    ok = ok && answer_heartbeat() && take_heartbeat(timeout_us * 4, &seq) &&
         seq == prev + 1 && req.h.msg_major == 1;
    report(ok, "versions: answered, it brings heartbeat %lu at 1.0",
           (unsigned long)seq);
}

/* --- part=kvp ----------------------------------------------------- */

#define KVP_ENUMERATE       3
#define KVP_POOL_GUEST      1
#define KVP_POOL_AUTO       2
#define KVP_REG_SZ          1
#define KVP_NO_MORE         0x80070103u
#define KVP_ITEMS_MAX       256

struct kvp_msg {
    uint8_t op;
    uint8_t pool;
    uint16_t reserved;
    uint32_t index;
    uint32_t type;
    uint32_t key_size;
    uint32_t value_size;
    uint8_t key[512];           /* UTF-16LE */
    uint8_t value[2048];
} __attribute__((packed));

_Static_assert(sizeof(struct kvp_msg) == 2580, "KVP messages");

static struct kvp_msg *kvp_req(void)
{
    return (struct kvp_msg *)req.body;
}

static struct kvp_msg *kvp_ans(void)
{
    return (struct kvp_msg *)ans.body;
}

/* The next request within @usec: an ENUMERATE of @pool, item @index? */
static bool take_kvp(uint64_t usec, uint8_t pool, uint32_t index)
{
    if (ic_get(usec) < 0 || !is_request(IC_KVP) ||
        req.h.size != sizeof(struct kvp_msg)) {
        return false;
    }
    req_tsc = rdtsc();
    return kvp_req()->op == KVP_ENUMERATE && kvp_req()->pool == pool &&
           kvp_req()->index == index;
}

/* ASCII @s as UTF-16LE with its NUL at @to. */
static void kvp_str(uint8_t *to, const char *s)
{
    do {
        *to++ = *s;
        *to++ = 0;
    } while (*s++);
}

/* The item of the request in req: @key = @value, strings. */
static uint32_t kvp_item(const char *key, const char *value)
{
    uint32_t len = ic_answer(0);
    struct kvp_msg *m = kvp_ans();

    m->type = KVP_REG_SZ;
    kvp_str(m->key, key);
    kvp_str(m->value, value);
    m->key_size = 2 * (strlen(key) + 1);
    m->value_size = 2 * (strlen(value) + 1);
    return len;
}

static bool put_item(const char *key, const char *value)
{
    return ic_put(&ans, kvp_item(key, value), req.h.txid);
}

static bool put_no_more(void)
{
    return ic_put(&ans, ic_answer(KVP_NO_MORE), req.h.txid);
}

/* Spoilers of a right item: the length to send (0: send nothing). */
static uint32_t kvp_short(uint32_t len)
{
    ans.h.size = 8;
    ans.h.pipe_size = sizeof(ans.h) - 8 + 8;
    return IC_HDRS + 8;
}

static uint32_t kvp_op(uint32_t len)
{
    kvp_ans()->op = 0;
    return len;
}

static uint32_t kvp_pool(uint32_t len)
{
    kvp_ans()->pool = KVP_POOL_GUEST;
    return len;
}

static uint32_t kvp_index(uint32_t len)
{
    kvp_ans()->index++;
    return len;
}

static uint32_t kvp_surrogate(uint32_t len)
{
    kvp_ans()->key[2] = 0x00;
    kvp_ans()->key[3] = 0xd8;
    return len;
}

static uint32_t kvp_empty_key(uint32_t len)
{
    kvp_ans()->key[0] = 0;
    kvp_ans()->key[1] = 0;
    return len;
}

static uint32_t kvp_type(uint32_t len)
{
    kvp_ans()->type = 99;
    return len;
}

static uint32_t kvp_silent(uint32_t len)
{
    return 0;
}

static const struct {
    const char *name;
    uint32_t (*spoil)(uint32_t len);
} kvp_bad[] = {
    { "an answer of 8 bytes", kvp_short },
    { "another operation", kvp_op },
    { "another pool", kvp_pool },
    { "another index", kvp_index },
    { "a key that is not UTF-16 (a lone surrogate)", kvp_surrogate },
    { "an empty key", kvp_empty_key },
    { "value type 99", kvp_type },
    { "no answer", kvp_silent },
};

#define NR_KVP_BAD (sizeof(kvp_bad) / sizeof(kvp_bad[0]))

/*
 * A reading started anew (pool auto, item 0), later than a period after
 * the request seen at @since: the last one was given up.
 */
static bool kvp_restarted(uint64_t since, uint64_t *took)
{
    bool ok = take_kvp(timeout_us * 4, KVP_POOL_AUTO, 0);

    *took = gap_us(since);
    return ok && *took >= period_us / 2;
}

static void part_kvp(void)
{
    static const struct vmbus_guid kvp = GUID_KVP;
    static const uint16_t want[] = {
        2, 3, 0, 0, 1, 0, 3, 0, 3, 0, 4, 0, 5, 0,
    };
    uint64_t t, took;
    unsigned int i, n_ok = 0;
    uint32_t len;
    bool ok;

    if (!setup_service("kvp", &kvp, "KVP") ||
        !take_negotiate_of("kvp", want, 14, "KVP 3.0, 4.0, 5.0")) {
        return;
    }
    ok = ic_put(&ans, negotiate_answer(IC_V(3, 0), IC_V(4, 0)), req.h.txid) &&
         take_kvp(timeout_us * 4, KVP_POOL_AUTO, 0);
    if (!report(ok && req.h.msg_major == 4,
                "kvp: 3.0/4.0 answered: the host asks for item 0 of the "
                "pool auto (ENUMERATE, %u bytes, KVP %u.%u)", req.h.size,
                req.h.msg_major, req.h.msg_minor)) {
        return;
    }
    t = req_tsc;
    ok = put_item("HostName", "hvtest") &&
         take_kvp(timeout_us, KVP_POOL_AUTO, 1);
    took = gap_us(t);
    report(ok && took < timeout_us, "kvp: an item answered brings the next "
           "one (item 1, after %lu us)", (unsigned long)took);
    ok = ok && put_no_more() && take_kvp(timeout_us, KVP_POOL_GUEST, 0);
    report(ok, "kvp: \"no more items\" brings item 0 of the pool guest");
    t = req_tsc;
    ok = ok && put_no_more() && take_kvp(timeout_us * 4, KVP_POOL_AUTO, 0);
    took = gap_us(t);
    if (!report(ok && took >= period_us / 2, "kvp: the reading is complete: "
                "the next starts after %lu us (period %lu us)",
                (unsigned long)took, (unsigned long)period_us)) {
        return;
    }

    /* Each spoiled item ends the reading; item 0 each time is right. */
    for (i = 0; i < NR_KVP_BAD; i++) {
        ok = put_item("HostName", "hvtest") &&
             take_kvp(timeout_us, KVP_POOL_AUTO, 1);
        t = req_tsc;
        len = kvp_bad[i].spoil(kvp_item("OSName", "hvtest"));
        if (ok && len) {
            ok = ic_put(&ans, len, req.h.txid);
        }
        ok = ok && kvp_restarted(t, &took);
        n_ok += report(ok, "kvp: item 1 answered with %s: the reading is "
                       "given up, a new one starts after %lu us",
                       kvp_bad[i].name, (unsigned long)took);
        if (!ok) {
            return;
        }
    }

    /* Sizes past the fields: clipped to them, the strings still read. */
    len = kvp_item("HostName", "hvtest");
    kvp_ans()->key_size = 0xffffffff;
    kvp_ans()->value_size = 0xffffffff;
    t = req_tsc;
    ok = ic_put(&ans, len, req.h.txid) &&
         take_kvp(timeout_us, KVP_POOL_AUTO, 1);
    took = gap_us(t);
    report(ok && took < timeout_us, "kvp: key and value sizes of 4 GiB are "
           "clipped: the item is taken, item 1 follows (%lu us)",
           (unsigned long)took);

    /*
     * A pool that never ends: 256 items are taken (the host asks for
     * item 256), and one more gives the reading up.
     */
    for (i = 1; ok && i < KVP_ITEMS_MAX; i++) {
        ok = put_item("Key", "value") &&
             take_kvp(timeout_us, KVP_POOL_AUTO, i + 1);
    }
    t = req_tsc;
    ok = ok && put_item("Key", "value") && kvp_restarted(t, &took);
    report(ok, "kvp: a pool of more than %u items is given up: items 0 to "
           "%u taken, item %u answered, a new reading starts (%lu us)",
           KVP_ITEMS_MAX, KVP_ITEMS_MAX - 1, KVP_ITEMS_MAX,
           (unsigned long)took);

    /* Still usable: a whole reading, then the next a period later. */
    ok = ok && put_no_more() && take_kvp(timeout_us, KVP_POOL_GUEST, 0);
    t = req_tsc;
    ok = ok && put_item("GuestKey", "guest value") &&
         take_kvp(timeout_us, KVP_POOL_GUEST, 1) && put_no_more() &&
         kvp_restarted(t, &took);
    report(ok, "kvp: and a right reading is served again (%lu us to the "
           "next)", (unsigned long)took);
    report_info("kvp: %u of %u spoiled items ended the reading", n_ok,
                (unsigned)NR_KVP_BAD);
}

/* --- part=timesync ------------------------------------------------ */

#define TS_SYNC             0x1
#define TS_SAMPLE           0x2
/* 100 ns units since 1601 of 2020-01-01: a host time is later. */
#define TS_FILETIME_2020    132223104000000000ull

struct ts_v4 {
    uint64_t parent_time;
    uint64_t ref_time;
    uint8_t flags;
    uint8_t leap_flags;
    uint8_t stratum;
    uint8_t reserved[5];
} __attribute__((packed));

struct ts_v3 {
    uint64_t parent_time;
    uint64_t child_time;
    uint64_t round_trip;
    uint8_t flags;
    uint8_t reserved[3];
} __attribute__((packed));

/* A time sync request within @usec; @ref gets TIME_REF_COUNT on arrival. */
static bool take_ts(uint64_t usec, uint32_t size, uint64_t *ref)
{
    if (ic_get(usec) < 0 || !is_request(IC_TIMESYNC)) {
        return false;
    }
    *ref = rdmsr(HV_X64_MSR_TIME_REF_COUNT);
    return req.h.size == size;
}

static void part_timesync(void)
{
    static const struct vmbus_guid ts = GUID_TIMESYNC;
    static const uint16_t want4[] = {
        2, 3, 0, 0, 1, 0, 3, 0, 1, 0, 3, 0, 4, 0,
    };
    static const uint16_t want3[] = { 2, 2, 0, 0, 1, 0, 3, 0, 1, 0, 3, 0 };
    unsigned long v4 = 1;
    uint64_t ref, first_ref = 0, first_host = 0, lag, worst = 0;
    int64_t drift;
    struct ts_v4 m;
    struct ts_v3 m3;
    unsigned int i;
    bool ok;

    opt_get_ulong("v4", 1, &v4);
    if (!setup_service("timesync", &ts, "time sync")) {
        return;
    }
    if (!v4) {
        if (!take_negotiate_of("timesync", want3, 12,
                               "time sync 1.0, 3.0 (no 4.0 without "
                               "hv-time)")) {
            return;
        }
        ok = ic_put(&ans, negotiate_answer(IC_V(3, 0), IC_V(3, 0)),
                    req.h.txid) &&
             ic_get(timeout_us * 4) >= 0 && is_request(IC_TIMESYNC);
        memcpy(&m3, req.body, sizeof(m3));
        report(ok && req.h.size == sizeof(m3) && m3.flags == TS_SYNC &&
               m3.parent_time > TS_FILETIME_2020, "timesync: 3.0 agreed: a "
               "SYNC of %u bytes with the host's time", req.h.size);
        return;
    }
    if (!take_negotiate_of("timesync", want4, 14,
                           "time sync 1.0, 3.0, 4.0")) {
        return;
    }
    ok = ic_put(&ans, negotiate_answer(IC_V(3, 0), IC_V(4, 0)), req.h.txid) &&
         take_ts(timeout_us * 4, sizeof(m), &ref);
    memcpy(&m, req.body, sizeof(m));
    if (!report(ok && m.flags == TS_SYNC && m.parent_time > TS_FILETIME_2020,
                "timesync: 4.0 agreed: a SYNC of %u bytes (flags %u) with "
                "the host's time", req.h.size, m.flags)) {
        return;
    }
    for (i = 0; i < 10 && ok; i++) {
        /* Answered, each brings the next SAMPLE a period later. */
        memcpy(&m, req.body, sizeof(m));
        ok = m.ref_time <= ref && ref - m.ref_time <= timeout_us * 10;
        lag = ref - m.ref_time;
        worst = lag > worst ? lag : worst;
        if (!i) {
            first_ref = m.ref_time;
            first_host = m.parent_time;
        }
        if (!report(ok, "timesync: message %u: its reference time %lu is "
                    "%lu us behind TIME_REF_COUNT on arrival (%lu), not "
                    "ahead and within the bound", i,
                    (unsigned long)m.ref_time, (unsigned long)lag / 10,
                    (unsigned long)ref)) {
            return;
        }
        ok = ic_put(&ans, ic_answer(0), req.h.txid) &&
             take_ts(timeout_us * 4, sizeof(m), &ref);
        ok = ok && ((struct ts_v4 *)req.body)->flags == TS_SAMPLE;
    }
    report(ok, "timesync: a SAMPLE follows each answer");
    memcpy(&m, req.body, sizeof(m));
    drift = (int64_t)(m.parent_time - first_host) -
            (int64_t)(m.ref_time - first_ref);
    report(drift < 200000 && drift > -200000, "timesync: over %lu ms the "
           "host's time and the reference time advanced together (apart "
           "by %ld us)", (unsigned long)(m.ref_time - first_ref) / 10000,
           (long)drift / 10);
    report_info("timesync: the longest way of a message: %lu us",
                (unsigned long)worst / 10);
}

static const struct suite_part parts[] = {
    { "negotiate", part_negotiate },
    { "hostile", part_hostile },
    { "versions", part_versions },
    { "kvp", part_kvp },
    { "timesync", part_timesync },
};

static void ic_suite(void)
{
    unsigned long period_ms, timeout_ms;

    if (!report(opt_get_ulong("period", 0, &period_ms) && period_ms &&
                opt_get_ulong("timeout", 0, &timeout_ms) &&
                timeout_ms >= 10 * period_ms, "setup: period=%s timeout=%s "
                "(the device's period-ms and timeout-ms; the bound well "
                "above the period)", opt_get("period") ?: "?",
                opt_get("timeout") ?: "?") ||
        !synic_enable_all("setup")) {
        return;
    }
    period_us = period_ms * 1000;
    timeout_us = timeout_ms * 1000;
    if (report(vmbus_client_init(&bus, VMBUS_SINT_LEGACY, BUS_VECTOR),
               "setup: VMBus client ready")) {
        suite_run_parts(parts);
        vmbus_client_fini(&bus);
    }
    synic_disable_all();
}

DEFINE_SUITE("ic", ic_suite);
