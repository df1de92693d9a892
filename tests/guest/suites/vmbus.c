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
 *
 * vmbus-sint=N is the SINT a 5.0+ connection asks for (default 2).
 */
#include <stdint.h>

#include "lib/alloc.h"
#include "lib/boot.h"
#include "lib/report.h"
#include "lib/string.h"
#include "lib/synic.h"
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

static const struct {
    const char *name;
    void (*run)(void);
} parts[] = {
    { "connect", part_connect },
    { "offers", part_offers },
    { "gpadl", part_gpadl },
    { "open-close", part_open_close },
    { "unload", part_unload },
};

static void vmbus_suite(void)
{
    const char *part = opt_get("part");
    unsigned long sint;
    unsigned int i;

    if (!report(opt_get_ulong("vmbus-sint", VMBUS_SINT_LEGACY, &sint) &&
                sint < HV_SINT_COUNT, "setup: vmbus-sint=%s is a SINT",
                opt_get("vmbus-sint") ? opt_get("vmbus-sint") : "(2)") ||
        !synic_enable_all("setup")) {
        return;
    }
    if (report(vmbus_client_init(&bus, sint, BUS_VECTOR),
               "setup: VMBus client ready (SINTs, pages)")) {
        for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
            if (part && !strcmp(part, parts[i].name)) {
                parts[i].run();
                break;
            }
        }
        report(i < sizeof(parts) / sizeof(parts[0]),
               "setup: part=%s is known", part ? part : "(none)");
        vmbus_client_fini(&bus);
    }
    synic_disable_all();
}

DEFINE_SUITE("vmbus", vmbus_suite);
