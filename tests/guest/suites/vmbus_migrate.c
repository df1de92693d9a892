// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * suite=vmbus-migrate: VMBus channels in use across a live migration,
 * driven by tests/nested/migrate.sh (scenario vmbus: -device vmbus-bridge
 * -device hv-balloon, and -device vmbus-echo with echo=1).  vCPU 0 is the
 * bus client.
 *
 * On the source: connect with the highest version the host takes (it
 * must be vmbus-version=MAJOR.MINOR), open each device's channel over a
 * ring GPADL, send the device's first request and leave its answer
 * unread in the host's ring, and put the second request in the guest's
 * ring without signalling the host.  The requests: hv-balloon's version
 * request and capabilities report; for vmbus-echo, two payloads it must
 * send back.  With subchannel=1 (and -device vmbus-echo,subchannels=1)
 * the echo's first sub-channel is asked for, opened and loaded the same
 * way before those requests.  Then "MIGRATE: READY", and COM1 is polled
 * for the go byte.
 *
 * After the go, each channel must be in one of two states:
 *  keep     as it was (vmbus-echo and its sub-channel, whose device
 *           migrates its state; and
 *           hv-balloon with balloon=keep, for a migration the destination
 *           refused, after which the source goes on): the first answer
 *           is in the host's ring exactly once, and the signal that
 *           follows brings the second exactly once, right behind it
 *  reoffer  (balloon=reoffer) hv-balloon keeps no state of its own in a
 *           migration, and QEMU 10.0.2's stream has no channel state at
 *           all, so the bus rescinds the channel; the guest closes it,
 *           tears its GPADL down and releases the relid, as Linux does,
 *           and the balloon is offered again with the same relid (and
 *           instance, unless stable-id=0: QEMU 10.0.2 draws a random
 *           one), opens on a new ring and answers both requests
 * Then the bus unloads cleanly, with no stray message.
 */
#include <stdint.h>

#include "lib/boot.h"
#include "lib/report.h"
#include "lib/serial.h"
#include "lib/string.h"
#include "lib/synic.h"
#include "lib/timing.h"
#include "lib/vmbus.h"
#include "suites/suite.h"

#define BUS_VECTOR          0x93
#define OPEN_ID             0x4d494752u
#define RING_PAGES          4      /* each of the two rings */
#define ANSWER_US           20000000ull
/* After the last answer: time for a copy of it to show up (none may) */
#define QUIET_US            500000ull
#define GO_BYTE             'G'
#define GO_TIMEOUT_US       600000000ull    /* the lab bounds it sooner */
#define GO_POLL_US          2000

#define TRANS_BASE          0x11   /* request n has transaction 0x11 + n */

static struct vmbus_client bus;
static unsigned long stable_id, with_sub;
static const struct vmbus_guid balloon_class = VMBUS_GUID_DYNAMIC_MEMORY;
static const struct vmbus_guid echo_class = VMBUS_GUID_ECHO;

struct chan {
    const char *name;
    bool echo;                  /* vmbus-echo, else hv-balloon */
    struct vmbus_msg_offer offer;
    struct vmbus_ring_pages ring;
    uint32_t gpadl;
    struct chan *sub;           /* its open sub-channel, if any */
};

/* vmbus-echo's payloads: any bytes; these say which request they are */
struct echo_payload {
    char text[16];
    uint32_t n;
    uint32_t magic;
} __attribute__((packed));

#define ECHO_MAGIC          0x6f686365u

/* A ring GPADL for c's channel, and OPENCHANNEL on it */
static bool chan_open(struct chan *c, const char *what)
{
    char name[64];

    snprintf(name, sizeof(name), "%s: %s", what, c->name);
    return vmbus_open_checked(&bus, c->offer.child_relid, &c->ring,
                              RING_PAGES, &c->gpadl, name);
}

static void echo_fill(struct echo_payload *p, unsigned int n)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->text, sizeof(p->text), "request %u", n);
    p->n = n;
    p->magic = ECHO_MAGIC;
}

/* Put request n (0 or 1) of c's device in the guest's ring; signal? */
static bool req_send(struct chan *c, unsigned int n, bool signal)
{
    struct vmbus_dm_version_request vr = {
        .hdr = { VMBUS_DM_VERSION_REQUEST, sizeof(vr), TRANS_BASE },
        .version = VMBUS_DM_VERSION_2_0,
        .last_attempt = 1,
    };
    struct vmbus_dm_caps_report cr = {
        .hdr = { VMBUS_DM_CAPS_REPORT, sizeof(cr), TRANS_BASE + 1 },
        .caps = 1,                      /* ballooning */
        .max_page_number = ~0ull,
    };
    struct echo_payload e;
    bool ok;

    if (c->echo) {
        echo_fill(&e, n);
        ok = vmbus_ring_put(&c->ring, &e, sizeof(e), TRANS_BASE + n);
    } else if (n == 0) {
        ok = vmbus_ring_put(&c->ring, &vr, sizeof(vr), TRANS_BASE);
    } else {
        ok = vmbus_ring_put(&c->ring, &cr, sizeof(cr), TRANS_BASE + 1);
    }
    if (ok && signal) {
        ok = hv_signal_event(c->offer.connection_id, 0) == HV_STATUS_SUCCESS;
    }
    return ok;
}

static bool host_ring_has_data(struct chan *c)
{
    struct vmbus_ring_header *h = vmbus_ring_recv_hdr(&c->ring);

    return __atomic_load_n(&h->write_index, __ATOMIC_ACQUIRE) !=
           __atomic_load_n(&h->read_index, __ATOMIC_ACQUIRE);
}

/* Is buf (len bytes from the host's ring) the answer to request n? */
static bool is_answer(struct chan *c, const void *buf, int len,
                      unsigned int n)
{
    const struct vmbus_dm_response *r = buf;
    struct echo_payload want;

    if (c->echo) {
        echo_fill(&want, n);
        return len == (int)sizeof(want) && !memcmp(buf, &want, sizeof(want));
    }
    return len >= (int)sizeof(*r) && r->hdr.trans_id == TRANS_BASE + n &&
           r->hdr.type == (n ? VMBUS_DM_CAPS_RESPONSE :
                           VMBUS_DM_VERSION_RESPONSE) &&
           (r->flags & 1);
}

/* The next packet of the host's ring (waited for): answer n */
static bool answer_get(struct chan *c, unsigned int n, const char *what)
{
    uint8_t buf[64];
    int len;

    wait_for(host_ring_has_data(c), ANSWER_US);
    len = vmbus_ring_get(&c->ring, buf, sizeof(buf));
    return report(is_answer(c, buf, len, n), "%s: %s: the next packet in "
                  "the host's ring answers request %u (%d bytes, first "
                  "word 0x%x)", what, c->name, n, len,
                  (unsigned int)(buf[0] | buf[1] << 8 | buf[2] << 16 |
                                 (uint32_t)buf[3] << 24));
}

/* After the answers: no copy of either comes within QUIET_US */
static void no_copies(struct chan *c, const char *what)
{
    unsigned int copies = 0, other = 0;
    struct wait_bound wb;
    uint8_t buf[64];
    int len;

    wait_bound_start(&wb, QUIET_US);
    while (!wait_bound_expired(&wb)) {
        len = vmbus_ring_get(&c->ring, buf, sizeof(buf));
        if (len < 0) {
            udelay(10000);
        } else if (is_answer(c, buf, len, 0) || is_answer(c, buf, len, 1)) {
            copies++;
        } else {
            other++;
        }
    }
    report(copies == 0, "%s: %s: no answer came twice (%u copies; %u other "
           "packets)", what, c->name, copies, other);
}

/* With its primary closed, the sub-channel is rescinded; released here */
static void sub_gone(struct chan *c)
{
    struct vmbus_msg_close_channel m = {};
    int len = vmbus_recv(&bus, VMBUS_MSG_RESCIND_CHANNELOFFER, &m, sizeof(m),
                         ANSWER_US);

    report(len >= (int)sizeof(m) && m.child_relid == c->offer.child_relid,
           "end: %s is rescinded with its primary (relid %u, want %u)",
           c->name, m.child_relid, c->offer.child_relid);
    m.child_relid = c->offer.child_relid;
    report(vmbus_post(&bus, VMBUS_MSG_RELID_RELEASED, &m, sizeof(m)) ==
           HV_STATUS_SUCCESS, "end: %s: RELID_RELEASED posted", c->name);
}

static void chan_done(struct chan *c, const char *what)
{
    struct vmbus_msg_gpadl_torndown t = {};

    report(vmbus_close_channel(&bus, c->offer.child_relid) ==
           HV_STATUS_SUCCESS, "%s: %s: CLOSECHANNEL posted", what, c->name);
    if (c->sub) {
        sub_gone(c->sub);
    }
    report(vmbus_gpadl_teardown(&bus, c->offer.child_relid, c->gpadl, &t) &&
           t.gpadl == c->gpadl, "%s: %s: the ring GPADL is torn down", what,
           c->name);
    vmbus_ring_free(&c->ring);
}

static void after_keep(struct chan *c)
{
    answer_get(c, 0, "keep: left unread before the migration");
    report(!host_ring_has_data(c), "keep: %s: nothing else is in the "
           "host's ring", c->name);
    report(hv_signal_event(c->offer.connection_id, 0) == HV_STATUS_SUCCESS,
           "keep: %s: the channel's connection %u takes a signal", c->name,
           c->offer.connection_id);
    answer_get(c, 1, "keep: put in before the migration, signalled now");
    no_copies(c, "keep");
    chan_done(c, "keep");
}

static void after_reoffer(struct chan *c)
{
    struct vmbus_msg_close_channel m = {};   /* header and relid */
    struct vmbus_msg_offer o;
    uint32_t relid = c->offer.child_relid;
    char a[40], b[40], w[40];

    int len = vmbus_recv(&bus, VMBUS_MSG_RESCIND_CHANNELOFFER, &m, sizeof(m),
                         ANSWER_US);

    report(len >= (int)sizeof(m) && m.child_relid == relid,
           "reoffer: %s: the channel is rescinded (relid %u, want %u)",
           c->name, m.child_relid, relid);
    chan_done(c, "reoffer: old channel");
    m.child_relid = relid;
    report(vmbus_post(&bus, VMBUS_MSG_RELID_RELEASED, &m, sizeof(m)) ==
           HV_STATUS_SUCCESS, "reoffer: %s: RELID_RELEASED posted", c->name);
    if (!report(vmbus_recv(&bus, VMBUS_MSG_OFFERCHANNEL, &o, sizeof(o),
                           ANSWER_US) >= (int)sizeof(o),
                "reoffer: %s: an offer follows the release", c->name)) {
        return;
    }
    report(vmbus_guid_equal(&o.class_id, &c->offer.class_id) &&
           o.child_relid == relid, "reoffer: %s: the same class (%s) and "
           "relid (%u)", c->name, vmbus_guid_str(&o.class_id, a),
           o.child_relid);
    if (stable_id) {
        report(vmbus_guid_equal(&o.instance_id, &c->offer.instance_id),
               "reoffer: %s: the same instance %s (was %s)", c->name,
               vmbus_guid_str(&o.instance_id, b),
               vmbus_guid_str(&c->offer.instance_id, w));
    } else {
        report_info("reoffer: %s: instance %s, was %s (the source draws "
                    "its own)", c->name, vmbus_guid_str(&o.instance_id, b),
                    vmbus_guid_str(&c->offer.instance_id, w));
    }
    report_info("reoffer: %s: signal connection %u before, %u now", c->name,
                c->offer.connection_id, o.connection_id);
    c->offer = o;
    if (!chan_open(c, "reoffer: new channel")) {
        return;
    }
    report(req_send(c, 0, true), "reoffer: %s: request 0 sent", c->name);
    answer_get(c, 0, "reoffer");
    report(req_send(c, 1, true), "reoffer: %s: request 1 sent", c->name);
    answer_get(c, 1, "reoffer");
    no_copies(c, "reoffer");
    chan_done(c, "reoffer: new channel");
}

/* Open c's channel on the source, leaving requests in flight */
/* Requests in flight on c: one answered and unread, one unsignalled */
static bool in_flight(struct chan *c)
{
    report(req_send(c, 0, true) && wait_for(host_ring_has_data(c),
                                            ANSWER_US),
           "source: %s: request 0 is answered (left unread)", c->name);
    return report(req_send(c, 1, false), "source: %s: request 1 is in the "
                  "guest's ring, not signalled", c->name);
}

/* vmbus-echo's sub-channel 1, asked for on its open primary p */
static bool sub_open(struct chan *p, struct chan *c)
{
    uint32_t ask[2] = { VMBUS_ECHO_SUBC, 1 }, ans[2] = { 0, 0 };
    int len = vmbus_ring_call(&p->ring, p->offer.connection_id, ask,
                              sizeof(ask), 0x5c, ans, sizeof(ans), ANSWER_US);

    if (!report(len == (int)sizeof(ans) && ans[0] == VMBUS_ECHO_SUBC &&
                ans[1] == 0, "source: %s grants a sub-channel (%d bytes, "
                "status %d)", p->name, len, (int32_t)ans[1])) {
        return false;
    }
    len = vmbus_recv(&bus, VMBUS_MSG_OFFERCHANNEL, &c->offer,
                     sizeof(c->offer), ANSWER_US);
    if (!report(len >= (int)sizeof(c->offer) &&
                c->offer.sub_channel_index == 1 &&
                vmbus_guid_equal(&c->offer.instance_id,
                                 &p->offer.instance_id),
                "source: %s is offered (index %u, the primary's instance)",
                c->name, c->offer.sub_channel_index)) {
        return false;
    }
    p->sub = c;
    c->echo = true;
    return chan_open(c, "source") && in_flight(c);
}


static bool before(struct chan *c, const struct vmbus_guid *class,
                   struct chan *sub)
{
    const struct vmbus_msg_offer *o = vmbus_find_offer(&bus, class);

    if (!report(o != NULL, "source: %s is offered", c->name)) {
        return false;
    }
    c->offer = *o;
    c->echo = class == &echo_class;
    if (!chan_open(c, "source") || (sub && !sub_open(c, sub))) {
        return false;
    }
    return in_flight(c);
}

static void vmbus_migrate(void)
{
    static struct chan balloon = { .name = "hv-balloon" };
    static struct chan echo = { .name = "vmbus-echo" };
    static struct chan echo_sub = { .name = "vmbus-echo's sub-channel 1" };
    const char *mode = opt_get("balloon");
    const char *want_s = opt_get("vmbus-version");
    unsigned long with_echo;
    uint32_t want = 0, got;
    bool ok;
    char v[12], w[12];

    if (!report(mode && (!strcmp(mode, "keep") || !strcmp(mode, "reoffer")),
                "setup: balloon=keep or reoffer (%s)", mode ? mode : "unset") ||
        !report(want_s && vmbus_parse_version(want_s, &want),
                "setup: vmbus-version=MAJOR.MINOR (%s)",
                want_s ? want_s : "unset") ||
        !report(opt_get_ulong("echo", 0, &with_echo) && with_echo <= 1,
                "setup: echo=0 or 1") ||
        !report(opt_get_ulong("stable-id", 1, &stable_id) && stable_id <= 1,
                "setup: stable-id=0 or 1") ||
        !report(opt_get_ulong("subchannel", 0, &with_sub) && with_sub <= 1 &&
                (with_echo || !with_sub), "setup: subchannel=0 or 1 (1 "
                "with echo=1)") ||
        !synic_enable_all("setup") ||
        !report(vmbus_client_init(&bus, VMBUS_SINT_LEGACY, BUS_VECTOR),
                "setup: the client's SINTs and pages")) {
        return;
    }
    got = vmbus_connect(&bus);
    report(got == want, "source: connected with version %s (want %s)",
           vmbus_version_str(got, v), vmbus_version_str(want, w));
    if (!got ||
        !report(vmbus_request_offers(&bus), "source: offers delivered")) {
        return;
    }
    ok = before(&balloon, &balloon_class, NULL);
    if (with_echo) {
        ok = before(&echo, &echo_class, with_sub ? &echo_sub : NULL) && ok;
    }
    if (!ok) {
        return;
    }

    printf("MIGRATE: READY\n");
    if (!report(serial_wait_byte(GO_BYTE, GO_TIMEOUT_US, GO_POLL_US, NULL),
                "go: the host's go came on COM1")) {
        return;
    }
    /* The rescind comes first: the echo's messages would take it. */
    if (!strcmp(mode, "keep")) {
        after_keep(&balloon);
    } else {
        after_reoffer(&balloon);
    }
    if (with_sub) {
        after_keep(&echo_sub);
    }
    if (with_echo) {
        after_keep(&echo);
    }
    report(vmbus_unload(&bus), "end: UNLOAD is answered");
    report(bus.stray == 0, "end: no unexpected host message (%u, the last "
           "of type 0x%x)", bus.stray, bus.last_stray_type);
}

DEFINE_SUITE("vmbus-migrate", vmbus_migrate);
