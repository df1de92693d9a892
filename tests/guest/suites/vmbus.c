// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * suite=vmbus: the VMBus host of QEMU (-device vmbus-bridge) driven by a
 * well-behaved client (lib/vmbus.c) through the channel management
 * protocol, with an hv-balloon device on the bus to offer a channel.
 *
 * part=<name> picks one group (one QEMU each, as run-suites.sh runs them):
 *  connect     versions from 5.3 down until the host accepts one; it
 *              must be the one the option vmbus-version=MAJOR.MINOR
 *              names; invented versions are declined
 *  offers      REQUESTOFFERS: offers, the dynamic memory class among
 *              them, ALLOFFERS_DELIVERED at the end, unique relids
 *  gpadl       GPADLs of 1, 26, 27 and 64 pages (one message, a full
 *              GPADL_HEADER, one and two GPADL_BODY messages): created
 *              with status 0 under their id, then torn down
 *  open-close  the balloon's channel opened over a ring GPADL, closed,
 *              opened and closed again, its GPADL torn down
 *  unload      UNLOAD answered; the bus connects and offers again
 *  subchannels with -device vmbus-echo,subchannels=3 (and no other
 *              device): only the primary channel is offered; asked
 *              through it ("SUBC" packets), the device gets sub-channels
 *              1..N offered (same class and instance, their index in
 *              the offer), each echoing on its own ring; closing the
 *              primary rescinds them; after UNLOAD none is offered, and
 *              a channel not offered takes no GPADL and does not open
 *
 * vmbus-sint=N is the SINT a 5.0+ connection asks for (default 2).
 */
#include <stdint.h>

#include "lib/alloc.h"
#include "lib/boot.h"
#include "lib/report.h"
#include "lib/string.h"
#include "lib/synic.h"
#include "lib/timing.h"
#include "lib/vmbus.h"
#include "suites/suite.h"

#define BUS_VECTOR          0x92

/* An invented version on each path: neither host speaks them */
#define BOGUS_VERSION_V5    0xffff0000u
#define BOGUS_VERSION_OLD   VMBUS_VERSION(4, 2)
/* An invented version below 4.0 (INFO only, see part_connect) */
#define ODD_VERSION_OLD     VMBUS_VERSION(3, 7)

#define OPEN_ID             0x4f50454eu
#define RING_SEND_PAGES     4
#define RING_RECV_PAGES     4
#define RING_PAGES          (RING_SEND_PAGES + RING_RECV_PAGES)
#define GPADL_MAX_PAGES     64

static struct vmbus_client bus;
static const struct vmbus_guid balloon_class = VMBUS_GUID_DYNAMIC_MEMORY;
static const struct vmbus_guid echo_class = VMBUS_GUID_ECHO;

static const char *outcome_str(enum vmbus_contact_result r)
{
    switch (r) {
    case VMBUS_CONTACT_NOT_TRIED:
        return "not tried";
    case VMBUS_CONTACT_ACCEPTED:
        return "accepted";
    case VMBUS_CONTACT_REFUSED:
        return "answered version_supported=0";
    case VMBUS_CONTACT_NO_CONN:
        return "no such message connection (HvPostMessage status 0x12)";
    case VMBUS_CONTACT_POST_FAILED:
        return "HvPostMessage failed";
    case VMBUS_CONTACT_NO_ANSWER:
        return "no VERSION_RESPONSE";
    }
    return "?";
}

/* Connect with the highest version the host takes; false (FAIL) if none */
static bool connect(const char *what)
{
    char v[12];
    uint32_t version = vmbus_connect(&bus);

    if (!report(version != 0, "%s: the host accepts a version from 5.3 "
                "down to 2.4", what)) {
        return false;
    }
    report_info("%s: connected with version %s, messages on connection "
                "%u, answers on SINT %u", what,
                vmbus_version_str(version, v), bus.msg_conn, bus.sint);
    return true;
}

/* Collect the offers; the balloon's offer, NULL (and a FAIL) if missing */
static const struct vmbus_msg_offer *balloon_offer(const char *what)
{
    const struct vmbus_msg_offer *o;

    if (!report(vmbus_request_offers(&bus), "%s: REQUESTOFFERS ends with "
                "ALLOFFERS_DELIVERED", what)) {
        return NULL;
    }
    o = vmbus_find_offer(&bus, &balloon_class);
    report(o != NULL, "%s: the dynamic memory (hv-balloon) class is "
           "offered", what);
    return o;
}

static void no_strays(const char *what)
{
    report(bus.stray == 0, "%s: no unexpected host message arrived "
           "(%u, the last of type 0x%x)", what, bus.stray,
           bus.last_stray_type);
}

static void part_connect(void)
{
    struct vmbus_msg_version_response resp;
    enum vmbus_contact_result r;
    uint32_t want = 0, version;
    bool declined = true;
    unsigned int i;
    char v[12], w[12];

    /* invented versions first: each INITIATE_CONTACT resets the bus */
    r = vmbus_contact(&bus, BOGUS_VERSION_V5, &resp);
    report_info("connect: invented version 0x%x on connection %u: %s",
                BOGUS_VERSION_V5, VMBUS_MSG_CONN_CONTACT_V5,
                outcome_str(r));
    report(r == VMBUS_CONTACT_REFUSED || r == VMBUS_CONTACT_NO_CONN,
           "connect: invented version 0x%x is declined (version_supported "
           "0, or no 5.0 message connection at all)", BOGUS_VERSION_V5);

    r = vmbus_contact(&bus, BOGUS_VERSION_OLD, &resp);
    report(r == VMBUS_CONTACT_REFUSED, "connect: invented version %s on "
           "connection 1 is answered with version_supported=0 (outcome: "
           "%s)", vmbus_version_str(BOGUS_VERSION_OLD, v), outcome_str(r));

    /*
     * Not a check: QEMU 10.0.2 accepts any number from 0.1 to 4.0, also
     * ones no Hyper-V ever had.  Say what this host does, and leave a
     * connection it made as a guest should, before the next contact.
     */
    r = vmbus_contact(&bus, ODD_VERSION_OLD, &resp);
    report_info("connect: invented version %s on connection 1: %s",
                vmbus_version_str(ODD_VERSION_OLD, v), outcome_str(r));
    if (r == VMBUS_CONTACT_ACCEPTED) {
        report(vmbus_unload(&bus), "connect: UNLOAD of the connection with "
               "version %s is answered", v);
    }

    version = vmbus_connect(&bus);
    for (i = 0; i < VMBUS_NR_VERSIONS; i++) {
        if (bus.outcome[i] == VMBUS_CONTACT_NOT_TRIED) {
            break;
        }
        report_info("connect: version %s: %s",
                    vmbus_version_str(vmbus_versions[i], v),
                    outcome_str(bus.outcome[i]));
        /* a 5.0+ contact may find no connection 4 on an older host */
        if (bus.outcome[i] != VMBUS_CONTACT_ACCEPTED &&
            bus.outcome[i] != VMBUS_CONTACT_REFUSED &&
            !(bus.outcome[i] == VMBUS_CONTACT_NO_CONN &&
              vmbus_versions[i] >= VMBUS_VERSION_5_0)) {
            declined = false;
        }
    }
    report(version != 0, "connect: the host accepts a version from 5.3 "
           "down to 2.4");
    report(declined, "connect: every version above the accepted one was "
           "declined, none went unanswered");
    report_info("connect: negotiated VMBus version %s",
                version ? vmbus_version_str(version, v) : "(none)");
    if (report(vmbus_parse_version(opt_get("vmbus-version"), &want),
               "connect: option vmbus-version=%s names the version "
               "expected", opt_get("vmbus-version"))) {
        report(version == want, "connect: the bus ends on version %s "
               "(negotiated %s)", vmbus_version_str(want, w),
               vmbus_version_str(version, v));
    }
    if (version >= VMBUS_VERSION_5_0) {
        report(bus.msg_conn != 0 &&
               !(bus.msg_conn & ~HV_CONNECTION_ID_MASK),
               "connect: VERSION_RESPONSE of %s names a message "
               "connection (0x%x)", v, bus.msg_conn);
    }
    if (version) {
        report(vmbus_request_offers(&bus), "connect: the connection "
               "works: REQUESTOFFERS ends with ALLOFFERS_DELIVERED");
    }
    no_strays("connect");
}

static void part_offers(void)
{
    bool unique = true;
    unsigned int i, j;
    char cls[37], inst[37];

    if (!connect("offers")) {
        return;
    }
    balloon_offer("offers");
    report(bus.nr_offers >= 1, "offers: at least one offer (%u)",
           bus.nr_offers);
    for (i = 0; i < bus.nr_offers; i++) {
        const struct vmbus_msg_offer *o = &bus.offers[i];

        report_info("offers: relid %u class %s instance %s connection "
                    "0x%x flags 0x%x interrupt_flags 0x%x", o->child_relid,
                    vmbus_guid_str(&o->class_id, cls),
                    vmbus_guid_str(&o->instance_id, inst), o->connection_id,
                    o->channel_flags, o->interrupt_flags);
        unique &= o->child_relid != 0;
        for (j = 0; j < i; j++) {
            unique &= o->child_relid != bus.offers[j].child_relid;
        }
    }
    report(unique, "offers: child relids are unique and non-zero");
    report(bus.short_offers == 0 && bus.offers_dropped == 0,
           "offers: every offer is a whole OFFERCHANNEL message (%u short, "
           "%u beyond %u)", bus.short_offers, bus.offers_dropped,
           VMBUS_MAX_OFFERS);
    no_strays("offers");
}

/* One GPADL of n pages of its own, created and torn down */
static void gpadl_round(uint32_t relid, unsigned int n)
{
    static uint64_t pfns[GPADL_MAX_PAGES];
    void *pages[GPADL_MAX_PAGES];
    struct vmbus_msg_gpadl_created created = {};
    struct vmbus_msg_gpadl_torndown torndown = {};
    uint32_t id = vmbus_gpadl_id(&bus);
    unsigned int i, got = 0;
    bool ok;

    for (i = 0; i < n; i++) {
        pages[i] = alloc_page();
        if (pages[i]) {
            pfns[got++] = virt_to_phys(pages[i]) >> VMBUS_PAGE_SHIFT;
        }
    }
    if (report(got == n, "gpadl: %u pages allocated for a GPADL", n)) {
        ok = vmbus_gpadl_create(&bus, relid, id, pfns, n, &created);
        report(ok, "gpadl: %u pages (%u messages): GPADL_CREATED came", n,
               vmbus_gpadl_messages(n));
        if (ok) {
            report(created.gpadl == id, "gpadl: %u pages: GPADL_CREATED "
                   "names gpadl 0x%x (got 0x%x)", n, id, created.gpadl);
            report(created.child_relid == relid, "gpadl: %u pages: "
                   "GPADL_CREATED names relid %u (got %u)", n, relid,
                   created.child_relid);
            report(created.status == 0, "gpadl: %u pages: GPADL_CREATED "
                   "status 0 (got 0x%x)", n, created.status);
            ok = vmbus_gpadl_teardown(&bus, relid, id, &torndown);
            report(ok, "gpadl: %u pages: GPADL_TORNDOWN came", n);
            report(ok && torndown.gpadl == id, "gpadl: %u pages: "
                   "GPADL_TORNDOWN names gpadl 0x%x (got 0x%x)", n, id,
                   torndown.gpadl);
        }
    }
    for (i = 0; i < n; i++) {
        if (pages[i]) {
            free_page(pages[i]);
        }
    }
}

static void part_gpadl(void)
{
    const unsigned int sizes[] = {
        1,
        VMBUS_GPADL_HEADER_PFNS,
        VMBUS_GPADL_HEADER_PFNS + 1,
        GPADL_MAX_PAGES,
    };
    const struct vmbus_msg_offer *o;
    unsigned int i;

    _Static_assert(GPADL_MAX_PAGES > VMBUS_GPADL_HEADER_PFNS +
                   VMBUS_GPADL_BODY_PFNS, "64 pages take two bodies");
    if (!connect("gpadl")) {
        return;
    }
    o = balloon_offer("gpadl");
    if (!o) {
        return;
    }
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        gpadl_round(o->child_relid, sizes[i]);
    }
    no_strays("gpadl");
}

/* OPENCHANNEL and the checks of its answer; true if opened */
static bool open_checked(uint32_t relid, uint32_t open_id, uint32_t gpadl,
                         const char *which)
{
    struct vmbus_msg_open_result res = {};
    bool ok = vmbus_open_channel(&bus, relid, open_id, gpadl,
                                 RING_SEND_PAGES, &res);

    if (!report(ok, "open-close: %s OPENCHANNEL: OPENCHANNEL_RESULT came",
                which)) {
        return false;
    }
    report(res.open_id == open_id, "open-close: %s OPENCHANNEL_RESULT "
           "names open id 0x%x (got 0x%x)", which, open_id, res.open_id);
    report(res.child_relid == relid, "open-close: %s OPENCHANNEL_RESULT "
           "names relid %u (got %u)", which, relid, res.child_relid);
    return report(res.status == 0, "open-close: %s OPENCHANNEL_RESULT "
                  "status 0 (got 0x%x)", which, res.status);
}

static void part_open_close(void)
{
    struct vmbus_ring_pages ring;
    struct vmbus_msg_gpadl_created created = {};
    struct vmbus_msg_gpadl_torndown torndown = {};
    const struct vmbus_msg_offer *o;
    uint64_t pfns[RING_PAGES];
    uint32_t relid, gpadl;
    bool ok;

    if (!connect("open-close")) {
        return;
    }
    o = balloon_offer("open-close");
    if (!o ||
        !report(vmbus_ring_alloc(&ring, RING_SEND_PAGES, RING_RECV_PAGES,
                                 pfns), "open-close: ring pages allocated")) {
        return;
    }
    relid = o->child_relid;
    gpadl = vmbus_gpadl_id(&bus);
    ok = vmbus_gpadl_create(&bus, relid, gpadl, pfns, RING_PAGES, &created);
    if (!report(ok && created.gpadl == gpadl && created.status == 0,
                "open-close: ring GPADL 0x%x of %u pages created (id 0x%x, "
                "status 0x%x)", gpadl, RING_PAGES, created.gpadl,
                created.status)) {
        vmbus_ring_free(&ring);
        return;
    }

    if (open_checked(relid, OPEN_ID, gpadl, "first")) {
        report_info("open-close: ring headers after the open: guest ring "
                    "write %u read %u features 0x%x, host ring write %u "
                    "read %u features 0x%x",
                    vmbus_ring_send_hdr(&ring)->write_index,
                    vmbus_ring_send_hdr(&ring)->read_index,
                    vmbus_ring_send_hdr(&ring)->feature_bits,
                    vmbus_ring_recv_hdr(&ring)->write_index,
                    vmbus_ring_recv_hdr(&ring)->read_index,
                    vmbus_ring_recv_hdr(&ring)->feature_bits);
        report(vmbus_close_channel(&bus, relid) == HV_STATUS_SUCCESS,
               "open-close: first CLOSECHANNEL posted");
        /*
         * CLOSECHANNEL has no answer: the host must open the channel
         * again, which it only does for a closed one.
         */
        if (open_checked(relid, OPEN_ID + 1, gpadl,
                         "second (after the close)")) {
            report(vmbus_close_channel(&bus, relid) == HV_STATUS_SUCCESS,
                   "open-close: second CLOSECHANNEL posted");
        }
    }

    ok = vmbus_gpadl_teardown(&bus, relid, gpadl, &torndown);
    report(ok && torndown.gpadl == gpadl, "open-close: ring GPADL torn "
           "down after the close (GPADL_TORNDOWN %s, id 0x%x)",
           ok ? "came" : "missing", torndown.gpadl);
    vmbus_ring_free(&ring);
    no_strays("open-close");
}

static void part_unload(void)
{
    const struct vmbus_msg_offer *o;
    uint32_t version, relid;
    enum vmbus_contact_result r;

    if (!connect("unload")) {
        return;
    }
    version = bus.version;
    o = balloon_offer("unload: before");
    relid = o ? o->child_relid : 0;
    if (!report(vmbus_unload(&bus), "unload: UNLOAD_RESPONSE came")) {
        return;
    }
    r = vmbus_contact(&bus, version, NULL);
    report(r == VMBUS_CONTACT_ACCEPTED, "unload: INITIATE_CONTACT after "
           "UNLOAD connects again (%s)", outcome_str(r));
    if (r != VMBUS_CONTACT_ACCEPTED) {
        return;
    }
    o = balloon_offer("unload: after");
    if (o) {
        report_info("unload: the balloon was offered as relid %u, now %u",
                    relid, o->child_relid);
    }
    report(vmbus_unload(&bus), "unload: the second UNLOAD is answered too");
    no_strays("unload");
}

/* --- part=subchannels -------------------------------------------------- */

#define SUBC_ECHO_MAGIC     0x4f484345u     /* "ECHO" */
#define SUBC_MAX            3               /* the row's subchannels=3 */
#define SUBC_WAIT_US        5000000ull

struct subc_chan {
    struct vmbus_msg_offer offer;
    struct vmbus_ring_pages ring;
    uint32_t gpadl;
};

static struct subc_chan subc[SUBC_MAX + 1];

/* Two words out, the answer's two words back; false if none came. */
static bool subc_call(struct subc_chan *c, uint32_t a, uint32_t b,
                      uint32_t *ans)
{
    uint32_t w[2] = { a, b };

    return vmbus_ring_call(&c->ring, c->offer.connection_id, w, sizeof(w),
                           b, ans, sizeof(w), SUBC_WAIT_US) ==
           (int)sizeof(w);
}

static void subc_echo(struct subc_chan *c, uint32_t n, const char *what)
{
    uint32_t ans[2] = { 0, 0 };

    report(subc_call(c, SUBC_ECHO_MAGIC, n, ans) &&
           ans[0] == SUBC_ECHO_MAGIC && ans[1] == n, "%s: relid %u echoes "
           "packet %u (got 0x%x %u)", what, c->offer.child_relid, n, ans[0],
           ans[1]);
}

/* Ask for count sub-channels; the device's status, or 1 if no answer. */
static int32_t subc_ask(uint32_t count)
{
    uint32_t ans[2] = { 0, 0 };

    if (!subc_call(&subc[0], VMBUS_ECHO_SUBC, count, ans) ||
        ans[0] != VMBUS_ECHO_SUBC) {
        return 1;
    }
    return (int32_t)ans[1];
}

/* Take want offers (at most); stores sub-channel k in subc[k]. */
static unsigned int subc_offers(unsigned int want, uint32_t *bad)
{
    struct vmbus_msg_offer o;
    unsigned int got = 0;

    *bad = 0;
    while (got < want &&
           vmbus_recv(&bus, VMBUS_MSG_OFFERCHANNEL, &o, sizeof(o),
                      SUBC_WAIT_US) >= (int)sizeof(o)) {
        got++;
        if (!vmbus_guid_equal(&o.class_id, &echo_class) ||
            !vmbus_guid_equal(&o.instance_id, &subc[0].offer.instance_id) ||
            o.sub_channel_index == 0 || o.sub_channel_index > SUBC_MAX ||
            o.child_relid == subc[0].offer.child_relid) {
            (*bad)++;
            continue;
        }
        subc[o.sub_channel_index].offer = o;
    }
    return got;
}

/*
 * The host's messages go out in order: once a GPADL made after a request
 * is answered, whatever that request sent has come.  Returns the host
 * messages of other types that came before the answer.
 */
static unsigned int subc_fence(void)
{
    struct vmbus_msg_gpadl_created created;
    struct vmbus_msg_gpadl_torndown t;
    unsigned int before = bus.stray;
    void *page = alloc_page();
    uint64_t pfn = virt_to_phys(page) >> VMBUS_PAGE_SHIFT;
    uint32_t id = vmbus_gpadl_id(&bus);
    bool ok = page &&
              vmbus_gpadl_create(&bus, subc[0].offer.child_relid, id, &pfn, 1,
                                 &created) &&
              vmbus_gpadl_teardown(&bus, subc[0].offer.child_relid, id, &t);

    if (page) {
        free_page(page);
    }
    return ok ? bus.stray - before : ~0u;
}

static unsigned int echo_offers(void)
{
    unsigned int i, n = 0;

    for (i = 0; i < bus.nr_offers; i++) {
        n += vmbus_guid_equal(&bus.offers[i].class_id, &echo_class);
    }
    return n;
}

static void part_subchannels(void)
{
    const struct vmbus_msg_offer *o;
    struct vmbus_msg_gpadl_torndown t;
    struct vmbus_msg_gpadl_created created = {};
    struct vmbus_msg_open_result res = {};
    struct vmbus_msg_close_channel m;
    uint32_t bad, relid1, rescinded = 0;
    unsigned int i, got, stray;
    int32_t st;
    uint64_t pfns[RING_PAGES] = { 0 };

    if (!connect("subchannels") ||
        !report(vmbus_request_offers(&bus), "subchannels: REQUESTOFFERS ends "
                "with ALLOFFERS_DELIVERED")) {
        return;
    }
    o = vmbus_find_offer(&bus, &echo_class);
    if (!report(o && echo_offers() == 1 && o->sub_channel_index == 0,
                "subchannels: vmbus-echo is offered once, as channel 0 "
                "(%u offers)", echo_offers())) {
        return;
    }
    subc[0].offer = *o;
    if (!vmbus_open_checked(&bus, subc[0].offer.child_relid, &subc[0].ring,
                            RING_SEND_PAGES, &subc[0].gpadl,
                            "subchannels: primary")) {
        return;
    }
    subc_echo(&subc[0], 1, "subchannels: primary");

    report(subc_ask(2) == 0, "subchannels: asking for 2 is granted");
    got = subc_offers(2, &bad);
    report(got == 2 && !bad && subc[1].offer.child_relid &&
           subc[2].offer.child_relid, "subchannels: sub-channels 1 and 2 "
           "are offered, same class and instance (%u offers, %u wrong)",
           got, bad);
    stray = subc_fence();
    st = subc_ask(2);
    stray += subc_fence();
    report(st == 0 && stray == 0, "subchannels: asking for 2 again is "
           "granted (%d) and offers nothing more (%u other messages)", st,
           stray);
    report(subc_ask(SUBC_MAX + 1) == -22, "subchannels: asking for %u (the "
           "device has %u) is refused with -EINVAL", SUBC_MAX + 1, SUBC_MAX);
    for (i = 1; i <= 2 && got == 2 && !bad; i++) {
        if (vmbus_open_checked(&bus, subc[i].offer.child_relid,
                               &subc[i].ring, RING_SEND_PAGES,
                               &subc[i].gpadl, "subchannels: sub-channel")) {
            subc_echo(&subc[i], 10 + i, "subchannels: sub-channel");
        }
    }
    subc_echo(&subc[0], 2, "subchannels: primary, beside them");

    /* Closing the primary takes the open sub-channels with it. */
    report(vmbus_close_channel(&bus, subc[0].offer.child_relid) ==
           HV_STATUS_SUCCESS, "subchannels: primary closed");
    for (i = 0; i < 2; i++) {
        if (vmbus_recv(&bus, VMBUS_MSG_RESCIND_CHANNELOFFER, &m, sizeof(m),
                       SUBC_WAIT_US) >= (int)sizeof(m)) {
            rescinded |= m.child_relid == subc[1].offer.child_relid ? 1 :
                         m.child_relid == subc[2].offer.child_relid ? 2 : 4;
        }
    }
    report(rescinded == 3, "subchannels: both sub-channels are rescinded "
           "(mask 0x%x)", rescinded);
    for (i = 1; i <= 2; i++) {
        m.child_relid = subc[i].offer.child_relid;
        report(vmbus_gpadl_teardown(&bus, m.child_relid, subc[i].gpadl, &t) &&
               vmbus_post(&bus, VMBUS_MSG_RELID_RELEASED, &m, sizeof(m)) ==
               HV_STATUS_SUCCESS, "subchannels: sub-channel %u: ring GPADL "
               "torn down, relid %u released", i, m.child_relid);
        vmbus_ring_free(&subc[i].ring);
    }

    /* Open again: one asked for, one offered, under the same relid. */
    relid1 = subc[1].offer.child_relid;
    memset(&subc[1], 0, sizeof(subc[1]));
    if (report(vmbus_open_channel(&bus, subc[0].offer.child_relid, OPEN_ID,
                                  subc[0].gpadl, RING_SEND_PAGES, &res) &&
               res.status == 0, "subchannels: primary opens again")) {
        report(subc_ask(1) == 0, "subchannels: asking for 1 is granted");
        got = subc_offers(1, &bad);
        report(got == 1 && !bad && subc[1].offer.child_relid == relid1,
               "subchannels: sub-channel 1 is offered again as relid %u "
               "(got %u, %u offers, %u wrong)", relid1,
               subc[1].offer.child_relid, got, bad);
        stray = subc_fence();
        report(stray == 0, "subchannels: and nothing else (%u other "
               "messages)", stray);
    }

    /* After UNLOAD only the primary; a channel not offered takes nothing. */
    report(vmbus_unload(&bus), "subchannels: UNLOAD is answered");
    if (!connect("subchannels: again") ||
        !report(vmbus_request_offers(&bus), "subchannels: offers again")) {
        return;
    }
    o = vmbus_find_offer(&bus, &echo_class);
    report(o && echo_offers() == 1 && o->sub_channel_index == 0,
           "subchannels: after UNLOAD only the primary is offered (%u "
           "offers)", echo_offers());
    for (i = 0; i < 4; i++) {
        pfns[i] = virt_to_phys(alloc_page()) >> VMBUS_PAGE_SHIFT;
    }
    i = vmbus_gpadl_id(&bus);
    report(vmbus_gpadl_create(&bus, relid1, i, pfns, 4, &created) &&
           created.status != 0, "subchannels: a GPADL for the sub-channel "
           "not offered is refused (status 0x%x)", created.status);
    report(vmbus_open_channel(&bus, relid1, OPEN_ID, i, 2, &res) &&
           res.status != 0, "subchannels: OPENCHANNEL of the sub-channel "
           "not offered is refused (status 0x%x)", res.status);
    report(vmbus_unload(&bus), "subchannels: the last UNLOAD is answered");
}

static const struct suite_part parts[] = {
    { "connect", part_connect },
    { "offers", part_offers },
    { "gpadl", part_gpadl },
    { "open-close", part_open_close },
    { "unload", part_unload },
    { "subchannels", part_subchannels },
};

static void vmbus_suite(void)
{
    unsigned long sint;

    if (!report(opt_get_ulong("vmbus-sint", VMBUS_SINT_LEGACY, &sint) &&
                sint < HV_SINT_COUNT, "setup: vmbus-sint=%s is a SINT",
                opt_get("vmbus-sint") ? opt_get("vmbus-sint") : "(2)") ||
        !synic_enable_all("setup")) {
        return;
    }
    if (report(vmbus_client_init(&bus, sint, BUS_VECTOR),
               "setup: VMBus client ready (SINTs, pages)")) {
        suite_run_parts(parts);
        vmbus_client_fini(&bus);
    }
    synic_disable_all();
}

DEFINE_SUITE("vmbus", vmbus_suite);
