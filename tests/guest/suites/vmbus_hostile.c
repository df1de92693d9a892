// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * suite=vmbus-hostile: a guest that breaks the VMBus channel management
 * protocol on purpose, against the VMBus host (-device vmbus-bridge,
 * hv-balloon offering the one channel).  After each hostile input the
 * case checks that QEMU is alive and that the bus still answers: a GPADL
 * of one page created and torn down (vmbus_gpadl_roundtrip()), after a
 * fresh INITIATE_CONTACT and REQUESTOFFERS where the input may have
 * ended the connection.  The bus handles messages in order, so when the
 * probe's answers are the first host messages after an input, the input
 * itself got no answer: that is how silence is checked, without a pause
 * (a pause of 200 ms is used only where no later answer can follow, as
 * after an INITIATE_CONTACT naming a VP that does not exist).
 *
 * What our bus answers (docs/devel/vmbus.md): a refused GPADL gets
 * GPADL_CREATED with a nonzero status and the same id; a refused
 * OPENCHANNEL of a valid relid gets OPENCHANNEL_RESULT with a nonzero
 * status; unknown and truncated messages get no answer, except that a
 * GPADL_HEADER or GPADL_BODY long enough to name its GPADL may be
 * refused with GPADL_CREATED (never created); messages that name no
 * channel, or a GPADL the sender does not own, get no answer, except
 * MODIFYCHANNEL, which 5.3 answers with MODIFYCHANNEL_RESPONSE (a
 * nonzero status for a relid that is no open channel).
 *
 * part=<name> picks one group (one QEMU each, as run-suites.sh runs them):
 *  trunc        message types 0 to 30, each cut short by every number of
 *               bytes down to an empty message
 *  oversize     types 0 to 30, a valid message followed by junk up to
 *               240 bytes (any answer; the bus is connected again after)
 *  state        messages before INITIATE_CONTACT and after UNLOAD,
 *               OPENCHANNEL of an open channel, CLOSECHANNEL of a closed
 *               one, RELID_RELEASED of a channel never rescinded,
 *               GPADL_TEARDOWN of the ring of an open channel
 *  relid        relids 0, 0xffffffff, 2048 and one above the last offer
 *               in every message that names a channel
 *  vp           INITIATE_CONTACT and OPENCHANNEL naming VPs that do not
 *               exist (0xffffffff, 64, 1000, the vCPU count)
 *  gpadl        malformed GPADL_HEADER and GPADL_BODY messages,
 *               duplicate ids, foreign and unknown teardowns
 *  gpadl-count  1-page GPADLs until refused (4096 per VM), torn down
 *  gpadl-pages  8190-page GPADLs until refused (4M pages per VM)
 *  ring         OPENCHANNEL with bad ring offsets, on a GPADL for another
 *               relid, on pages outside RAM and on the local APIC
 *  ring-index   ring indexes spoiled while the channel is open, the
 *               channel signalled; the channel opens again afterwards
 *  storm        200 x (INITIATE_CONTACT, REQUESTOFFERS, UNLOAD) without
 *               waiting, INITIATE_CONTACT twice, UNLOAD twice
 *  flood        10000 junk messages as fast as HvPostMessage takes them
 *
 * The upstream-* parts are regression cases for QEMU 10.0.2's bus, each
 * failing (or killing QEMU) there:
 *  upstream-gpadl-wrap   a page count that wraps (range_bytes below one
 *                        range: QEMU 10.0.2 allocates 32 GiB and waits)
 *  upstream-gpadl-body   a GPADL_BODY for a complete GPADL (an assert)
 *  upstream-gpadl-count  5000 GPADLs: a refusal must come
 *  upstream-contact-vp   INITIATE_CONTACT naming VP 0xffffffff
 *  upstream-open-vp      OPENCHANNEL naming VPs that do not exist
 *  upstream-errflood     1000 messages of unknown types (QEMU 10.0.2
 *                        prints a line for each on stderr; run-suites.sh
 *                        bounds its stderr lines with +stderr-max:)
 *  upstream-unload-first UNLOAD before any INITIATE_CONTACT (a NULL
 *                        SINT route in QEMU 10.0.2)
 *  upstream-ring-offset  OPENCHANNEL with ring offset 0xffffffff (its
 *                        bound check wraps in QEMU 10.0.2)
 *
 * vmbus-sint=N is the SINT a 5.0+ connection asks for (default 2).
 */
#include <stddef.h>
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

/* Wait for an answer that must come; for silence that must last */
#define ANSWER_US           2000000ull
#define SILENCE_US          200000ull
#define DRAIN_US            100000ull

#define NR_TYPES            31
#define RING_SEND_PAGES     4
#define RING_RECV_PAGES     4
#define RING_PAGES          (RING_SEND_PAGES + RING_RECV_PAGES)
#define OPEN_ID             0x484f5300u

/* No RAM (256 MiB of it): at 3 GiB, far up, and the local APIC */
#define PFN_NO_RAM          0xc0000ull
#define PFN_FAR             0xfffffffffull
#define PFN_APIC            0xfee00ull

/* Most PFNs one GPADL_HEADER can announce: range_bytes is 16 bits */
#define GPADL_BIG_PAGES     8190
#define GPADL_COUNT_TRIES   5000

/* Our bus's limits per VM (include/hw/hyperv/vmbus-gpadl.h) */
#define VMBUS_MAX_GPADLS    4096u
#define VMBUS_MAX_PAGES     (1u << 22)

struct msgbuf {
    union {
        uint8_t b[HV_MESSAGE_PAYLOAD_SIZE];
        struct vmbus_msg_header hdr;
        struct vmbus_msg_initiate_contact contact;
        struct vmbus_msg_gpadl_header gh;
        struct vmbus_msg_gpadl_body gb;
        struct vmbus_msg_gpadl_created created;
        struct vmbus_msg_gpadl_teardown td;
        struct vmbus_msg_open_channel open;
        struct vmbus_msg_open_result result;
        struct vmbus_msg_close_channel close;
        struct vmbus_msg_offer offer;
    };
} __attribute__((aligned(8)));

/* The 32-bit word at byte off of a message (for those without a struct) */
static void put32(struct msgbuf *m, unsigned int off, uint32_t v)
{
    memcpy(m->b + off, &v, sizeof(v));
}

static uint32_t get32(const struct msgbuf *m, unsigned int off)
{
    uint32_t v;

    memcpy(&v, m->b + off, sizeof(v));
    return v;
}

static struct vmbus_client bus;
static const struct vmbus_guid balloon_class = VMBUS_GUID_DYNAMIC_MEMORY;

static uint32_t version;        /* negotiated once, used for every contact */
static uint32_t relid;          /* the balloon's channel */
static uint32_t chan_conn;      /* its event connection */
static uint32_t last_relid;     /* the highest relid offered */
static void *probe_page;
static uint64_t probe_pfn;
static bool bus_lost;           /* the bus stopped answering: give up */
static uint32_t allow_id;       /* a refusal of this GPADL is no stray */
static unsigned int allowed;    /* such refusals seen */
static unsigned int cases;
static unsigned int generation; /* connections made so far */
static uint32_t junk_state = 0x2545f491u;

static uint32_t junk(void)
{
    junk_state ^= junk_state << 13;
    junk_state ^= junk_state >> 17;
    junk_state ^= junk_state << 5;
    return junk_state;
}

static void junk_fill(uint8_t *p, uint32_t n)
{
    while (n--) {
        *p++ = junk();
    }
}

/* INITIATE_CONTACT, REQUESTOFFERS, the balloon's offer; quiet */
static bool connect_clean(void)
{
    const struct vmbus_msg_offer *o;
    unsigned int i;

    if (vmbus_contact(&bus, version, NULL) != VMBUS_CONTACT_ACCEPTED ||
        !vmbus_request_offers(&bus)) {
        return false;
    }
    o = vmbus_find_offer(&bus, &balloon_class);
    if (!o) {
        return false;
    }
    generation++;
    relid = o->child_relid;
    chan_conn = o->connection_id;
    last_relid = 0;
    for (i = 0; i < bus.nr_offers; i++) {
        if (bus.offers[i].child_relid > last_relid) {
            last_relid = bus.offers[i].child_relid;
        }
    }
    return true;
}

static int await(uint32_t type, unsigned int off, uint32_t val,
                 struct msgbuf *m, uint64_t usec);
static uint16_t post(const struct msgbuf *m, uint32_t size);
static uint32_t gpadl_hdr(struct msgbuf *m, uint32_t rel, uint32_t id,
                          uint16_t range_bytes, uint16_t range_count,
                          uint32_t byte_count, uint32_t byte_offset,
                          const uint64_t *pfns, unsigned int n);

/*
 * The probe: a GPADL of one page created and torn down under a fresh
 * id, each answer awaited at most ANSWER_US.  Host messages that come
 * before its answers count as strays.
 */
static bool roundtrip(void)
{
    struct msgbuf m;
    uint32_t id = vmbus_gpadl_id(&bus);

    post(&m, gpadl_hdr(&m, relid, id, sizeof(struct vmbus_gpa_range) + 8,
                       1, VMBUS_PAGE_SIZE, 0, &probe_pfn, 1));
    if (await(VMBUS_MSG_GPADL_CREATED,
              offsetof(struct vmbus_msg_gpadl_created, gpadl), id, &m,
              ANSWER_US) < 0 || m.created.status != 0) {
        return false;
    }
    memset(&m, 0, sizeof(m));
    m.td.header.type = VMBUS_MSG_GPADL_TEARDOWN;
    m.td.child_relid = relid;
    m.td.gpadl = id;
    post(&m, sizeof(m.td));
    return await(VMBUS_MSG_GPADL_TORNDOWN,
                 offsetof(struct vmbus_msg_gpadl_torndown, gpadl), id, &m,
                 ANSWER_US) >= 0;
}

/* Before each hostile input: forget earlier stray answers */
static void begin(void)
{
    bus.stray = 0;
    bus.last_stray_type = 0;
    cases++;
}

/*
 * The bus answers after an input: connected again first if reconnect
 * (or the client is not connected), then one GPADL round trip.  When
 * that fails, one more try after a fresh connection; if that fails
 * too, the bus is given up for the rest of the part.
 */
static bool bus_answers(bool reconnect)
{
    if (bus_lost) {
        return false;
    }
    if ((reconnect || !bus.version) && !connect_clean()) {
        goto retry;
    }
    if (roundtrip()) {
        return true;
    }
retry:
    vmbus_drain(&bus, DRAIN_US, 1000);
    if (connect_clean() && roundtrip()) {
        report_info("the bus answered again after a new INITIATE_CONTACT");
    } else {
        report_info("the bus no longer answers: the rest of this part "
                    "is skipped");
        bus_lost = true;
    }
    return false;
}

/* Liveness after an input, and (silent) that it got no answer */
static bool alive(const char *what, bool silent, bool reconnect)
{
    bool ok;

    if (bus_lost) {
        return report(false, "%s: not tried, the bus stopped answering "
                      "earlier", what);
    }
    ok = bus_answers(reconnect);
    report(ok, "%s: QEMU alive, the bus answers a GPADL round trip after "
           "it", what);
    if (silent && ok) {
        ok = report(bus.stray == 0, "%s: no answer to it (%u host messages "
                    "came first, the last of type %u)", what, bus.stray,
                    bus.last_stray_type);
    }
    return ok;
}

/*
 * The next host message of type whose 32-bit word at off is val, within
 * usec; others are counted as strays.  Its length, or -1.
 */
static int await(uint32_t type, unsigned int off, uint32_t val,
                 struct msgbuf *m, uint64_t usec)
{
    struct wait_bound wb;

    wait_bound_start(&wb, usec);
    while (!wait_bound_expired(&wb)) {
        uint32_t hv_type, got, named;
        int len = vmbus_recv_any(&bus, m->b, sizeof(m->b), &hv_type, 1000);

        if (len < 0) {
            continue;
        }
        memcpy(&got, m->b, sizeof(got));
        memcpy(&named, m->b + off, sizeof(named));
        if (hv_type == HV_MESSAGE_TYPE_VMBUS && got == type &&
            len >= (int)(off + sizeof(named)) && named == val) {
            return len;
        }
        if (hv_type == HV_MESSAGE_TYPE_VMBUS && allow_id &&
            got == VMBUS_MSG_GPADL_CREATED &&
            len >= (int)sizeof(m->created) &&
            m->created.gpadl == allow_id && m->created.status != 0) {
            allowed++;
            continue;
        }
        bus.stray++;
        bus.last_stray_type = hv_type == HV_MESSAGE_TYPE_VMBUS ? got :
                              hv_type | HV_MESSAGE_TYPE_HYPERVISOR;
    }
    return -1;
}

/*
 * Post size bytes of m as they are (the type in them); INITIATE_CONTACT
 * on the connection the version takes it on.
 */
static uint16_t post(const struct msgbuf *m, uint32_t size)
{
    uint32_t conn = m->hdr.type == VMBUS_MSG_INITIATE_CONTACT ?
                    vmbus_contact_conn(version) : bus.msg_conn;

    bus.last_post_status = vmbus_post_raw(conn, HV_MESSAGE_TYPE_VMBUS, m,
                                          size);
    return bus.last_post_status;
}

/* A GPADL_HEADER of one range; returns its size */
static uint32_t gpadl_hdr(struct msgbuf *m, uint32_t rel, uint32_t id,
                          uint16_t range_bytes, uint16_t range_count,
                          uint32_t byte_count, uint32_t byte_offset,
                          const uint64_t *pfns, unsigned int n)
{
    memset(m, 0, sizeof(*m));
    m->gh.header.type = VMBUS_MSG_GPADL_HEADER;
    m->gh.child_relid = rel;
    m->gh.gpadl = id;
    m->gh.range_bytes = range_bytes;
    m->gh.range_count = range_count;
    m->gh.range[0].byte_count = byte_count;
    m->gh.range[0].byte_offset = byte_offset;
    memcpy(m->gh.range[0].pfn, pfns, n * sizeof(uint64_t));
    return sizeof(m->gh) + sizeof(struct vmbus_gpa_range) +
           n * sizeof(uint64_t);
}

static void post_teardown(uint32_t rel, uint32_t id)
{
    struct msgbuf m;

    memset(&m, 0, sizeof(m));
    m.td.header.type = VMBUS_MSG_GPADL_TEARDOWN;
    m.td.child_relid = rel;
    m.td.gpadl = id;
    post(&m, sizeof(m.td));
}

/* GPADL_CREATED for id: its status, or -1 if none came within usec */
static int64_t gpadl_answer(uint32_t id, uint64_t usec)
{
    struct msgbuf m;

    if (await(VMBUS_MSG_GPADL_CREATED,
              offsetof(struct vmbus_msg_gpadl_created, gpadl), id, &m,
              usec) < 0) {
        return -1;
    }
    return m.created.status;
}

/* Tear down GPADL id of the channel and wait for its GPADL_TORNDOWN */
static bool teardown_wait(uint32_t id, uint64_t usec)
{
    struct msgbuf m;

    post_teardown(relid, id);
    return await(VMBUS_MSG_GPADL_TORNDOWN,
                 offsetof(struct vmbus_msg_gpadl_torndown, gpadl), id, &m,
                 usec) >= 0;
}

/* The GPADL posted as id must be refused: GPADL_CREATED, status != 0 */
static void expect_refused(const char *what, uint32_t id)
{
    int64_t st = gpadl_answer(id, ANSWER_US);

    report(st > 0, "%s: refused with GPADL_CREATED for 0x%x and a nonzero "
           "status (%s 0x%llx)", what, id,
           st < 0 ? "no answer," : "status", (unsigned long long)st);
    if (st == 0) {
        teardown_wait(id, ANSWER_US);
    }
}

/* A 1-page GPADL of our own, created; false (and a FAIL) if not */
static bool gpadl_made(const char *what, uint32_t rel, uint32_t id,
                       const uint64_t *pfns, unsigned int n)
{
    struct vmbus_msg_gpadl_created created = {};
    bool ok = vmbus_gpadl_create(&bus, rel, id, pfns, n, &created);

    return report(ok && created.gpadl == id && created.status == 0,
                  "%s: GPADL 0x%x of %u pages created (%s, status 0x%x)",
                  what, id, n, ok ? "answered" : "no answer",
                  created.status);
}

/* ------------------------------------------------------------------ */

/* The message a type's truncations and oversizes start from; its size */
static uint32_t type_template(uint32_t type, struct msgbuf *m,
                              uint32_t gpadl_in_build, uint32_t gpadl_live)
{
    uint32_t size = sizeof(struct vmbus_msg_header);

    memset(m, 0, sizeof(*m));
    switch (type) {
    case VMBUS_MSG_OFFERCHANNEL:
        m->offer.child_relid = relid;
        m->offer.connection_id = chan_conn;
        size = sizeof(m->offer);
        break;
    case VMBUS_MSG_RESCIND_CHANNELOFFER:
    case VMBUS_MSG_CLOSECHANNEL:
    case VMBUS_MSG_RELID_RELEASED:
        m->close.child_relid = relid;
        size = sizeof(m->close);
        break;
    case VMBUS_MSG_OPENCHANNEL:
        m->open.child_relid = relid;
        m->open.open_id = OPEN_ID;
        m->open.ring_gpadl = gpadl_live;
        m->open.target_vp = bus.vp_index;
        m->open.recv_ring_page = 1;
        size = sizeof(m->open);
        break;
    case VMBUS_MSG_OPENCHANNEL_RESULT:
        m->result.child_relid = relid;
        m->result.open_id = OPEN_ID;
        size = sizeof(m->result);
        break;
    case VMBUS_MSG_GPADL_HEADER:
        size = gpadl_hdr(m, relid, vmbus_gpadl_id(&bus),
                         sizeof(struct vmbus_gpa_range) + sizeof(uint64_t),
                         1, VMBUS_PAGE_SIZE, 0, &probe_pfn, 1);
        break;
    case VMBUS_MSG_GPADL_BODY:
        m->gb.message_number = 1;
        m->gb.gpadl = gpadl_in_build;
        m->gb.pfn[0] = probe_pfn;
        size = sizeof(m->gb) + sizeof(uint64_t);
        break;
    case VMBUS_MSG_GPADL_CREATED:
        m->created.child_relid = relid;
        m->created.gpadl = gpadl_live;
        size = sizeof(m->created);
        break;
    case VMBUS_MSG_GPADL_TEARDOWN:
        m->td.child_relid = relid;
        m->td.gpadl = gpadl_live;
        size = sizeof(m->td);
        break;
    case VMBUS_MSG_GPADL_TORNDOWN:
        m->td.child_relid = gpadl_live;
        size = sizeof(struct vmbus_msg_gpadl_torndown);
        break;
    case VMBUS_MSG_INITIATE_CONTACT:
        vmbus_contact_fill(&bus, version, &m->contact);
        size = sizeof(m->contact);
        break;
    case VMBUS_MSG_VERSION_RESPONSE:
        m->b[8] = 1;
        size = sizeof(struct vmbus_msg_version_response);
        break;
    case 21:    /* TL_CONNECT_REQUEST: two GUIDs */
        junk_fill(m->b + 8, 32);
        size = 40;
        break;
    case 22:    /* MODIFYCHANNEL: relid, target VP */
    case 24:    /* MODIFYCHANNEL_RESPONSE: relid, status */
        put32(m, 8, relid);
        put32(m, 12, type == 22 ? bus.vp_index : 0);
        size = 16;
        break;
    }
    m->hdr.type = type;
    return size;
}

/* A GPADL_HEADER of 30 pages, without its body: one being built */
static uint32_t gpadl_start_build(void)
{
    static uint64_t pfns[VMBUS_GPADL_HEADER_PFNS];
    struct msgbuf m;
    uint32_t id = vmbus_gpadl_id(&bus);
    unsigned int i, n = VMBUS_GPADL_HEADER_PFNS;

    for (i = 0; i < n; i++) {
        pfns[i] = probe_pfn;
    }
    gpadl_hdr(&m, relid, id,
              sizeof(struct vmbus_gpa_range) + (n + 1) * sizeof(uint64_t),
              1, (n + 1) * VMBUS_PAGE_SIZE, 0, pfns, n);
    post(&m, sizeof(m.gh) + sizeof(struct vmbus_gpa_range) +
         n * sizeof(uint64_t));
    return id;
}

static void part_trunc(void)
{
    uint32_t live = vmbus_gpadl_id(&bus);
    unsigned int type, gen = generation;

    if (!gpadl_made("trunc: setup", relid, live, &probe_pfn, 1)) {
        return;
    }
    for (type = 0; type < NR_TYPES && !bus_lost; type++) {
        struct msgbuf m;
        uint32_t full = type_template(type, &m, 0, live);
        unsigned int bad_alive = 0, bad_silent = 0, refused = 0;
        int first_alive = -1, first_silent = -1;
        uint32_t stray_type = 0;
        int size;

        cases++;
        for (size = full - 1; size >= 0 && !bus_lost; size--) {
            uint32_t build = 0;

            if (type == VMBUS_MSG_GPADL_BODY) {
                build = gpadl_start_build();
            }
            type_template(type, &m, build, live);
            /* one long enough to name its GPADL may be refused */
            allow_id = type == VMBUS_MSG_GPADL_BODY ? build :
                       type == VMBUS_MSG_GPADL_HEADER ? m.gh.gpadl : 0;
            allowed = 0;
            bus.stray = 0;
            post(&m, size);
            if (!bus_answers(false)) {
                if (first_alive < 0) {
                    first_alive = size;
                }
                bad_alive++;
            } else if (bus.stray) {
                if (first_silent < 0) {
                    first_silent = size;
                    stray_type = bus.last_stray_type;
                }
                bad_silent++;
                /* whatever it started, a new connection ends it */
                bus_answers(true);
            }
            refused += allowed;
            allow_id = 0;
            if (gen != generation && !bus_lost) {
                /* a new connection: the GPADL the teardowns name is gone */
                struct vmbus_msg_gpadl_created c = {};

                gen = generation;
                live = vmbus_gpadl_id(&bus);
                vmbus_gpadl_create(&bus, relid, live, &probe_pfn, 1, &c);
            }
        }
        report(!bad_alive, "trunc: type %u cut from %u bytes down to 0: "
               "QEMU alive and the bus answering after each (%u failed, "
               "the first at %d bytes)", type, full, bad_alive,
               first_alive);
        report(!bad_silent, "trunc: type %u cut from %u bytes down to 0: "
               "no answer to any (%u answered, the first at %d bytes with "
               "type %u)", type, full, bad_silent, first_silent, stray_type);
        if (refused) {
            report_info("trunc: type %u: %u truncations refused with "
                        "GPADL_CREATED and a nonzero status", type, refused);
        }
    }
    begin();
    report(!bus_lost && teardown_wait(live, ANSWER_US),
           "trunc: the GPADL that the truncated teardowns named is still "
           "there: GPADL_TORNDOWN for 0x%x", live);
    if (gen > 1) {
        report_info("trunc: %u new connections were needed", gen - 1);
    }
}

static void part_oversize(void)
{
    uint32_t live = vmbus_gpadl_id(&bus);
    unsigned int type;
    char what[64];

    if (!gpadl_made("oversize: setup", relid, live, &probe_pfn, 1)) {
        return;
    }
    for (type = 0; type < NR_TYPES && !bus_lost; type++) {
        struct msgbuf m;
        uint32_t build = 0, full;
        unsigned int n;

        if (type == VMBUS_MSG_GPADL_BODY) {
            build = gpadl_start_build();
        }
        full = type_template(type, &m, build, live);
        junk_fill(m.b + full, sizeof(m.b) - full);
        begin();
        snprintf(what, sizeof(what), "oversize: type %u, %u bytes + junk",
                 type, full);
        post(&m, sizeof(m.b));
        n = vmbus_drain(&bus, DRAIN_US, 64);
        if (n) {
            report_info("%s: %u host messages after it", what, n);
        }
        if (type == VMBUS_MSG_INITIATE_CONTACT ||
            type == VMBUS_MSG_UNLOAD) {
            bus.version = 0;
        }
        if (alive(what, false, true)) {
            /* the connection was new: a new live GPADL */
            live = vmbus_gpadl_id(&bus);
            gpadl_made(what, relid, live, &probe_pfn, 1);
        }
    }
}

/* ------------------------------------------------------------------ */

static const uint32_t state_types[] = {
    VMBUS_MSG_REQUESTOFFERS, VMBUS_MSG_OPENCHANNEL, VMBUS_MSG_CLOSECHANNEL,
    VMBUS_MSG_GPADL_HEADER, VMBUS_MSG_GPADL_BODY, VMBUS_MSG_GPADL_TEARDOWN,
    VMBUS_MSG_RELID_RELEASED, 22,
};

/* A ring of 8 pages and its GPADL; false (FAIL) if not */
static bool ring_make(const char *what, struct vmbus_ring_pages *r,
                      uint32_t *id)
{
    uint64_t pfns[RING_PAGES];

    if (!report(vmbus_ring_alloc(r, RING_SEND_PAGES, RING_RECV_PAGES, pfns),
                "%s: ring pages allocated", what)) {
        return false;
    }
    *id = vmbus_gpadl_id(&bus);
    if (!gpadl_made(what, relid, *id, pfns, RING_PAGES)) {
        vmbus_ring_free(r);
        return false;
    }
    return true;
}

/* OPENCHANNEL as given; the OPENCHANNEL_RESULT's status, -1 if none */
static int64_t open_raw(uint32_t rel, uint32_t open_id, uint32_t gpadl,
                        uint32_t vp, uint32_t offset, uint64_t usec)
{
    struct msgbuf m;

    memset(&m, 0, sizeof(m));
    m.open.header.type = VMBUS_MSG_OPENCHANNEL;
    m.open.child_relid = rel;
    m.open.open_id = open_id;
    m.open.ring_gpadl = gpadl;
    m.open.target_vp = vp;
    m.open.recv_ring_page = offset;
    post(&m, sizeof(m.open));
    if (await(VMBUS_MSG_OPENCHANNEL_RESULT,
              offsetof(struct vmbus_msg_open_result, open_id), open_id, &m,
              usec) < 0) {
        return -1;
    }
    return m.result.status;
}

static void expect_open_refused(const char *what, uint32_t open_id,
                                int64_t st)
{
    report(st > 0, "%s: refused with OPENCHANNEL_RESULT for open id 0x%x "
           "and a nonzero status (%s 0x%llx)", what, open_id,
           st < 0 ? "no answer," : "status", (unsigned long long)st);
    if (st == 0) {
        vmbus_close_channel(&bus, relid);
    }
}

/*
 * Before any INITIATE_CONTACT (part=state, from the suite's setup): the
 * messages of state_types, on connection 1, naming relid 1.  No answer
 * can come (the host knows no VP yet); the first contact then gets its
 * VERSION_RESPONSE before anything else.
 */
static void state_before_contact(void)
{
    unsigned int i, n;

    relid = 1;
    for (i = 0; i < sizeof(state_types) / sizeof(state_types[0]); i++) {
        struct msgbuf m;

        cases++;
        post(&m, type_template(state_types[i], &m, 0x5a5a, 0x5a5b));
        report_info("state: type %u before any INITIATE_CONTACT: "
                    "HvPostMessage status 0x%x", state_types[i],
                    bus.last_post_status);
    }
    n = vmbus_drain(&bus, SILENCE_US, 64);
    report(n == 0, "state: no host message within 200 ms after %u "
           "messages before any INITIATE_CONTACT (%u came)", i, n);
    bus.stray = 0;
}

static void part_state(void)
{
    struct vmbus_ring_pages ring;
    uint32_t ring_id, id;
    unsigned int i;
    int64_t st;
    char what[96];

    for (i = 0; i < sizeof(state_types) / sizeof(state_types[0]); i++) {
        struct msgbuf m;
        uint32_t size = type_template(state_types[i], &m, 0x5a5a, 0x5a5b);

        if (bus_lost) {
            break;
        }
        begin();
        snprintf(what, sizeof(what), "state: type %u after UNLOAD",
                 state_types[i]);
        post(&m, size);
        report_info("%s: HvPostMessage status 0x%x", what,
                    bus.last_post_status);
        alive(what, true, true);
        if (!bus_lost) {
            report(vmbus_unload(&bus), "%s: UNLOAD afterwards answered",
                   what);
        }
    }
    if (bus_lost || !connect_clean() || !ring_make("state", &ring, &ring_id)) {
        report(false, "state: connected again with a ring GPADL");
        return;
    }

    begin();
    st = open_raw(relid, OPEN_ID, ring_id, bus.vp_index, RING_SEND_PAGES,
                  ANSWER_US);
    report(st == 0, "state: the channel opens (status 0x%llx)",
           (unsigned long long)st);
    begin();
    st = open_raw(relid, OPEN_ID + 1, ring_id, bus.vp_index,
                  RING_SEND_PAGES, ANSWER_US);
    report(st > 0, "state: OPENCHANNEL of the open channel: "
           "OPENCHANNEL_RESULT with a nonzero status (%s 0x%llx)",
           st < 0 ? "no answer," : "status", (unsigned long long)st);
    alive("state: OPENCHANNEL of the open channel", true, false);

    begin();
    post_teardown(relid, ring_id);
    alive("state: GPADL_TEARDOWN of the ring of the open channel", false,
          false);

    begin();
    vmbus_close_channel(&bus, relid);
    alive("state: CLOSECHANNEL of the open channel", false, false);
    if (bus.stray) {
        report_info("state: GPADL_TORNDOWN of the ring came after the close");
    }
    begin();
    vmbus_close_channel(&bus, relid);
    alive("state: CLOSECHANNEL of a closed channel", true, false);
    begin();
    vmbus_close_channel(&bus, relid);
    alive("state: CLOSECHANNEL of a closed channel, again", true, false);

    for (i = 0; i < 2; i++) {
        struct msgbuf m;

        begin();
        memset(&m, 0, sizeof(m));
        m.close.header.type = VMBUS_MSG_RELID_RELEASED;
        m.close.child_relid = relid;
        post(&m, sizeof(m.close));
        snprintf(what, sizeof(what), "state: RELID_RELEASED of a channel "
                 "never rescinded, %s", i ? "second" : "first");
        alive(what, true, false);
    }
    begin();
    id = vmbus_gpadl_id(&bus);
    vmbus_ring_free(&ring);
    if (ring_make("state: after RELID_RELEASED", &ring, &id)) {
        st = open_raw(relid, OPEN_ID + 2, id, bus.vp_index, RING_SEND_PAGES,
                      ANSWER_US);
        report(st == 0, "state: the channel opens again after "
               "RELID_RELEASED (status 0x%llx)", (unsigned long long)st);
        begin();
        report(vmbus_unload(&bus), "state: UNLOAD with the channel open is "
               "answered");
        alive("state: UNLOAD with the channel open", true, true);
        vmbus_ring_free(&ring);
    }
}

/* ------------------------------------------------------------------ */

/* Messages whose only argument is a relid (22: MODIFYCHANNEL) */
static const uint32_t relid_types[] = {
    VMBUS_MSG_CLOSECHANNEL, VMBUS_MSG_RELID_RELEASED,
    VMBUS_MSG_RESCIND_CHANNELOFFER, 22,
};

static void part_relid(void)
{
    uint32_t bad[4] = { 0, 0xffffffffu, 2048, last_relid + 1 };
    uint32_t live = vmbus_gpadl_id(&bus);
    struct vmbus_ring_pages ring;
    uint32_t ring_id;
    unsigned int i;
    char what[96];

    if (!gpadl_made("relid: setup", relid, live, &probe_pfn, 1) ||
        !ring_make("relid: setup", &ring, &ring_id)) {
        return;
    }
    for (i = 0; i < 4 && !bus_lost; i++) {
        uint32_t r = bad[i], id;
        struct msgbuf m;
        int64_t st;
        unsigned int t;

        begin();
        snprintf(what, sizeof(what), "relid: OPENCHANNEL of relid 0x%x", r);
        st = open_raw(r, OPEN_ID + 16 + i, ring_id, bus.vp_index,
                      RING_SEND_PAGES, SILENCE_US);
        report(st != 0, "%s: not opened (%s 0x%llx)", what,
               st < 0 ? "no answer," : "status", (unsigned long long)st);
        bus.stray = 0;
        alive(what, true, false);

        begin();
        id = vmbus_gpadl_id(&bus);
        snprintf(what, sizeof(what), "relid: GPADL_HEADER for relid 0x%x", r);
        gpadl_hdr(&m, r, id, sizeof(struct vmbus_gpa_range) + 8, 1,
                  VMBUS_PAGE_SIZE, 0, &probe_pfn, 1);
        post(&m, sizeof(m.gh) + sizeof(struct vmbus_gpa_range) + 8);
        st = gpadl_answer(id, SILENCE_US);
        report(st != 0, "%s: not created (%s 0x%llx)", what,
               st < 0 ? "no answer," : "status", (unsigned long long)st);
        if (st == 0) {
            post_teardown(r, id);
            vmbus_drain(&bus, DRAIN_US, 4);
        }
        bus.stray = 0;
        alive(what, true, false);

        begin();
        snprintf(what, sizeof(what), "relid: GPADL_TEARDOWN of 0x%x by "
                 "relid 0x%x", live, r);
        post_teardown(r, live);
        alive(what, true, false);

        for (t = 0; t < sizeof(relid_types) / sizeof(relid_types[0]); t++) {
            begin();
            type_template(relid_types[t], &m, 0, live);
            m.close.child_relid = r;
            snprintf(what, sizeof(what), "relid: type %u for relid 0x%x",
                     relid_types[t], r);
            post(&m, relid_types[t] == 22 ? 16 : sizeof(m.close));
            if (relid_types[t] == 22 && version >= VMBUS_VERSION_5_3) {
                /* 5.3 answers MODIFYCHANNEL: relid, status */
                int len = await(24, 8, r, &m, ANSWER_US);

                report(len >= 16 && get32(&m, 12) != 0, "%s: answered "
                       "with MODIFYCHANNEL_RESPONSE and a nonzero status "
                       "(%s 0x%x)", what, len < 0 ? "no answer," : "status",
                       len < 0 ? 0 : get32(&m, 12));
            }
            alive(what, true, false);
        }
    }
    begin();
    report(!bus_lost && teardown_wait(live, ANSWER_US),
           "relid: GPADL 0x%x survived the teardowns by other relids: its "
           "owner tears it down", live);
    begin();
    report(!bus_lost && open_raw(relid, OPEN_ID + 9, ring_id, bus.vp_index,
                                 RING_SEND_PAGES, ANSWER_US) == 0,
           "relid: the channel itself still opens");
    vmbus_close_channel(&bus, relid);
    alive("relid: CLOSECHANNEL at the end", true, false);
    vmbus_ring_free(&ring);
}

/* ------------------------------------------------------------------ */

/* INITIATE_CONTACT naming vp: no answer within 200 ms; then connect */
static void contact_bad_vp(const char *part, uint32_t vp)
{
    struct msgbuf m;
    char what[96];
    int len;

    begin();
    snprintf(what, sizeof(what), "%s: INITIATE_CONTACT naming VP 0x%x", part,
             vp);
    vmbus_contact_fill(&bus, version, &m.contact);
    m.contact.target_vp = vp;
    bus.version = 0;
    bus.msg_conn = vmbus_contact_conn(version);
    bus.sint = vmbus_version_sint(&bus, version);
    post(&m, sizeof(m.contact));
    report_info("%s: HvPostMessage status 0x%x", what, bus.last_post_status);
    len = vmbus_recv_any(&bus, NULL, 0, NULL, SILENCE_US);
    report(len < 0, "%s: no answer within 200 ms", what);
    alive(what, false, true);
}

/* OPENCHANNEL naming vp: OPENCHANNEL_RESULT with a nonzero status */
static void open_bad_vp(const char *part, uint32_t ring_id, uint32_t vp,
                        uint32_t open_id)
{
    char what[96];

    begin();
    snprintf(what, sizeof(what), "%s: OPENCHANNEL naming VP 0x%x", part, vp);
    expect_open_refused(what, open_id,
                        open_raw(relid, open_id, ring_id, vp,
                                 RING_SEND_PAGES, ANSWER_US));
    alive(what, true, false);
}

static const uint32_t bad_vps[] = { 0xffffffffu, 64, 1000 };

static void part_vp(void)
{
    struct vmbus_ring_pages ring;
    unsigned long cpus = 2;
    uint32_t ring_id;
    unsigned int i;

    /* VP 0xffffffff last: QEMU 10.0.2 dies of it */
    opt_get_ulong("cpus", 2, &cpus);
    if (!ring_make("vp", &ring, &ring_id)) {
        return;
    }
    open_bad_vp("vp", ring_id, cpus, OPEN_ID + 0x30);
    for (i = 3; i-- > 0;) {
        open_bad_vp("vp", ring_id, bad_vps[i], OPEN_ID + 0x20 + i);
    }
    begin();
    report(!bus_lost && open_raw(relid, OPEN_ID + 0x31, ring_id,
                                 bus.vp_index, RING_SEND_PAGES,
                                 ANSWER_US) == 0,
           "vp: the channel opens naming this VP afterwards");
    vmbus_close_channel(&bus, relid);
    alive("vp: CLOSECHANNEL at the end", true, false);
    vmbus_ring_free(&ring);
    contact_bad_vp("vp", cpus);
    for (i = 3; i-- > 0;) {
        contact_bad_vp("vp", bad_vps[i]);
    }
}

/* ------------------------------------------------------------------ */

/* A hostile GPADL_HEADER of one range that must be refused */
static void hdr_refused(const char *what, uint16_t range_bytes,
                        uint16_t range_count, uint32_t byte_count,
                        uint32_t byte_offset, unsigned int npfns)
{
    static uint64_t pfns[24];
    struct msgbuf m;
    uint32_t id = vmbus_gpadl_id(&bus);
    unsigned int i;

    for (i = 0; i < npfns; i++) {
        pfns[i] = probe_pfn;
    }
    begin();
    post(&m, gpadl_hdr(&m, relid, id, range_bytes, range_count, byte_count,
                       byte_offset, pfns, npfns));
    expect_refused(what, id);
    alive(what, true, false);
}

static void body_after_completion(const char *part)
{
    struct msgbuf m;
    uint32_t id = vmbus_gpadl_id(&bus);
    char what[96];

    snprintf(what, sizeof(what), "%s: GPADL_BODY for a complete GPADL",
             part);
    if (!gpadl_made(what, relid, id, &probe_pfn, 1)) {
        return;
    }
    begin();
    memset(&m, 0, sizeof(m));
    m.gb.header.type = VMBUS_MSG_GPADL_BODY;
    m.gb.message_number = 1;
    m.gb.gpadl = id;
    m.gb.pfn[0] = probe_pfn;
    post(&m, sizeof(m.gb) + 8);
    alive(what, true, false);
    begin();
    report(!bus_lost && teardown_wait(id, ANSWER_US), "%s: the GPADL is "
           "still there and torn down", what);
}

static void gpadl_wrap(const char *part)
{
    char what[96];

    /*
     * QEMU 10.0.2 takes the page count as (range_bytes - 8 *
     * range_count) / 8 in size_t, then keeps 32 bits: range_bytes below
     * 8 gives 0xffffffff pages, matched by a byte count of 0xfffff000
     * (the page count shifted by 12 in 32 bits).
     */
    snprintf(what, sizeof(what), "%s: range_bytes 0, byte_count 0xfffff000 "
             "(a page count that wraps)", part);
    hdr_refused(what, 0, 1, 0xfffff000u, 0, 1);
    snprintf(what, sizeof(what), "%s: range_bytes 4, byte_count 0xfffff000",
             part);
    hdr_refused(what, 4, 1, 0xfffff000u, 0, 1);
}

static void part_gpadl(void)
{
    const uint16_t one = sizeof(struct vmbus_gpa_range) + 8;
    uint64_t pfns[40];
    struct msgbuf m;
    uint32_t id, id2;
    unsigned int i;
    int64_t st;

    hdr_refused("gpadl: range_bytes 7, one range", 7, 1, VMBUS_PAGE_SIZE, 0,
                1);
    hdr_refused("gpadl: range_bytes not a multiple of 8", one + 3, 1,
                VMBUS_PAGE_SIZE, 0, 1);
    hdr_refused("gpadl: range_count 0", one, 0, VMBUS_PAGE_SIZE, 0, 1);
    hdr_refused("gpadl: range_count 2, range_bytes for one range", one, 2,
                VMBUS_PAGE_SIZE, 0, 1);
    hdr_refused("gpadl: range_count 65535", one, 0xffff, VMBUS_PAGE_SIZE, 0,
                1);
    hdr_refused("gpadl: byte_offset 4096", one, 1, VMBUS_PAGE_SIZE, 4096,
                1);
    hdr_refused("gpadl: byte_offset 0xffffffff", one, 1, 1, 0xffffffffu, 1);
    hdr_refused("gpadl: byte_count 0", one, 1, 0, 0, 1);
    hdr_refused("gpadl: byte_offset + byte_count wraps 32 bits", one, 1,
                0xfffff900u, 0x800, 1);
    hdr_refused("gpadl: byte_count of 2 pages, 1 PFN", one, 1,
                2 * VMBUS_PAGE_SIZE, 0, 1);
    hdr_refused("gpadl: byte_count 0xffffffff, 1 PFN", one, 1, 0xffffffffu,
                0, 1);
    hdr_refused("gpadl: 3 PFNs for a range of 1 page", one + 16, 1,
                VMBUS_PAGE_SIZE, 0, 3);

    /* a body for a GPADL nobody is building */
    begin();
    memset(&m, 0, sizeof(m));
    m.gb.header.type = VMBUS_MSG_GPADL_BODY;
    m.gb.message_number = 1;
    m.gb.gpadl = 0x7e7e7e7e;
    m.gb.pfn[0] = probe_pfn;
    post(&m, sizeof(m.gb) + 8);
    alive("gpadl: GPADL_BODY for an unknown id", true, false);

    /* a body with more PFNs than the GPADL still needs */
    begin();
    id = gpadl_start_build();
    memset(&m, 0, sizeof(m));
    m.gb.header.type = VMBUS_MSG_GPADL_BODY;
    m.gb.message_number = 1;
    m.gb.gpadl = id;
    for (i = 0; i < 5; i++) {
        m.gb.pfn[i] = probe_pfn;
    }
    post(&m, sizeof(m.gb) + 5 * 8);
    st = gpadl_answer(id, ANSWER_US);
    report(st >= 0, "gpadl: GPADL_BODY with 5 PFNs where 1 is missing: "
           "GPADL_CREATED answers it (%s 0x%llx)",
           st < 0 ? "no answer," : "status", (unsigned long long)st);
    if (st == 0) {
        teardown_wait(id, ANSWER_US);
    }
    alive("gpadl: GPADL_BODY with more PFNs than needed", true, false);

    /* the same id twice while the first is being built */
    begin();
    id = gpadl_start_build();
    gpadl_hdr(&m, relid, id, one, 1, VMBUS_PAGE_SIZE, 0, &probe_pfn, 1);
    post(&m, sizeof(m.gh) + one);
    expect_refused("gpadl: GPADL_HEADER reusing an id being built", id);
    memset(&m, 0, sizeof(m));
    m.gb.header.type = VMBUS_MSG_GPADL_BODY;
    m.gb.message_number = 1;
    m.gb.gpadl = id;
    m.gb.pfn[0] = probe_pfn;
    post(&m, sizeof(m.gb) + 8);
    st = gpadl_answer(id, SILENCE_US);
    report_info("gpadl: the first GPADL under the reused id, completed: %s "
                "0x%llx", st < 0 ? "no answer," : "status",
                (unsigned long long)st);
    if (st == 0) {
        teardown_wait(id, ANSWER_US);
    }
    alive("gpadl: GPADL_HEADER reusing an id being built", false, false);

    /* the same id again after completion */
    id2 = vmbus_gpadl_id(&bus);
    for (i = 0; i < 40; i++) {
        pfns[i] = probe_pfn;
    }
    if (gpadl_made("gpadl: id reused after completion", relid, id2, pfns,
                   1)) {
        begin();
        gpadl_hdr(&m, relid, id2, one, 1, VMBUS_PAGE_SIZE, 0, &probe_pfn, 1);
        post(&m, sizeof(m.gh) + one);
        expect_refused("gpadl: GPADL_HEADER reusing a complete GPADL's id",
                       id2);
        alive("gpadl: GPADL_HEADER reusing a complete GPADL's id", true,
              false);
        begin();
        post_teardown(relid + 1, id2);
        alive("gpadl: GPADL_TEARDOWN by a relid that does not own it", true,
              false);
        begin();
        report(!bus_lost && teardown_wait(id2, ANSWER_US), "gpadl: the "
               "GPADL whose id was reused is still there, torn down by its "
               "owner");
    }
    begin();
    post_teardown(relid, 0x6d6d6d6d);
    alive("gpadl: GPADL_TEARDOWN of an unknown id", true, false);
    begin();
    id = vmbus_gpadl_id(&bus);
    if (gpadl_made("gpadl: torn down twice", relid, id, pfns, 1)) {
        teardown_wait(id, ANSWER_US);
        begin();
        post_teardown(relid, id);
        alive("gpadl: GPADL_TEARDOWN of a GPADL already torn down", true,
              false);
    }
    /* last: each of these kills QEMU 10.0.2 */
    gpadl_wrap("gpadl");
    body_after_completion("gpadl");
}

/* ------------------------------------------------------------------ */

/* 1-page GPADLs until refused or tries; then all torn down */
static void gpadl_count(const char *part, unsigned int tries)
{
    uint32_t first = 0, refused_at = 0;
    unsigned int made = 0, torn = 0, i;
    char what[96];
    int64_t st = -1;

    begin();
    for (i = 0; i < tries; i++) {
        struct msgbuf m;
        uint32_t id = vmbus_gpadl_id(&bus);

        if (!first) {
            first = id;
        }
        post(&m, gpadl_hdr(&m, relid, id, sizeof(struct vmbus_gpa_range) + 8,
                           1, VMBUS_PAGE_SIZE, 0, &probe_pfn, 1));
        st = gpadl_answer(id, ANSWER_US);
        if (st != 0) {
            refused_at = id;
            break;
        }
        made++;
    }
    snprintf(what, sizeof(what), "%s: %u GPADLs of 1 page", part, tries);
    report(st > 0, "%s: one is refused with GPADL_CREATED and a nonzero "
           "status (%u created, then %s 0x%llx)", what, made,
           st < 0 ? "no answer," : "status", (unsigned long long)st);
    if (st > 0) {
        report(made <= VMBUS_MAX_GPADLS && made + 4 >= VMBUS_MAX_GPADLS,
               "%s: the refusal comes at the limit of %u (%u created; the "
               "bus's own GPADLs may count)", what, VMBUS_MAX_GPADLS, made);
    }
    (void)refused_at;
    for (i = 0; i < made && !bus_lost; i++) {
        if (teardown_wait(first + i, ANSWER_US)) {
            torn++;
        }
    }
    report(torn == made, "%s: every created GPADL torn down (%u of %u)",
           what, torn, made);
    alive(what, true, false);
}

static void part_gpadl_count(void)
{
    gpadl_count("gpadl-count", GPADL_COUNT_TRIES);
    gpadl_count("gpadl-count: again", GPADL_COUNT_TRIES);
}

static void part_gpadl_pages(void)
{
    static uint64_t pfns[GPADL_BIG_PAGES];
    unsigned int max = VMBUS_MAX_PAGES / GPADL_BIG_PAGES + 1;
    uint32_t first = vmbus_gpadl_id(&bus) + 1;
    unsigned int made = 0, torn = 0, i;
    bool refused = false;

    for (i = 0; i < GPADL_BIG_PAGES; i++) {
        pfns[i] = probe_pfn;
    }
    begin();
    for (i = 0; i <= max; i++) {
        struct vmbus_msg_gpadl_created c = {};
        uint32_t id = vmbus_gpadl_id(&bus);

        if (!vmbus_gpadl_create(&bus, relid, id, pfns, GPADL_BIG_PAGES,
                                &c) || c.gpadl != id) {
            break;
        }
        if (c.status) {
            refused = true;
            break;
        }
        made++;
    }
    report(refused, "gpadl-pages: GPADLs of %u pages: one is refused with "
           "a nonzero status (%u created)", GPADL_BIG_PAGES, made);
    report(made == VMBUS_MAX_PAGES / GPADL_BIG_PAGES,
           "gpadl-pages: the refusal comes at 4M pages (%u of %u pages "
           "created)", made * GPADL_BIG_PAGES, VMBUS_MAX_PAGES);
    for (i = 0; i < made && !bus_lost; i++) {
        if (teardown_wait(first + i, ANSWER_US)) {
            torn++;
        }
    }
    report(torn == made, "gpadl-pages: every created GPADL torn down (%u of "
           "%u)", torn, made);
    alive("gpadl-pages: after the limit", true, false);
    begin();
    report(!bus_lost && gpadl_made("gpadl-pages: after the teardowns",
                                   relid, vmbus_gpadl_id(&bus), pfns,
                                   GPADL_BIG_PAGES),
           "gpadl-pages: a GPADL of %u pages is created again",
           GPADL_BIG_PAGES);
}

/* ------------------------------------------------------------------ */

/* OPENCHANNEL on a GPADL of pages pfn0.. (all alike if same) */
static void open_on_pages(const char *what, uint64_t pfn0, bool same,
                          uint32_t open_id)
{
    uint64_t pfns[RING_PAGES];
    uint32_t id = vmbus_gpadl_id(&bus);
    struct vmbus_msg_gpadl_created c = {};
    unsigned int i;

    for (i = 0; i < RING_PAGES; i++) {
        pfns[i] = same ? pfn0 : pfn0 + i;
    }
    begin();
    if (!vmbus_gpadl_create(&bus, relid, id, pfns, RING_PAGES, &c)) {
        report(false, "%s: GPADL_CREATED came", what);
        alive(what, true, false);
        return;
    }
    if (c.status) {
        report_info("%s: the GPADL itself was refused (status 0x%x)", what,
                    c.status);
        alive(what, true, false);
        return;
    }
    expect_open_refused(what, open_id,
                        open_raw(relid, open_id, id, bus.vp_index,
                                 RING_SEND_PAGES, ANSWER_US));
    alive(what, true, false);
    begin();
    teardown_wait(id, ANSWER_US);
}

static void part_ring(void)
{
    static const struct {
        uint32_t offset;
        const char *what;
    } offsets[] = {
        { 0, "ring: OPENCHANNEL with ring offset 0" },
        { 1, "ring: OPENCHANNEL with ring offset 1" },
        { RING_PAGES - 1, "ring: OPENCHANNEL with ring offset 7 of 8" },
        { RING_PAGES, "ring: OPENCHANNEL with ring offset 8 of 8" },
        { RING_PAGES + 1, "ring: OPENCHANNEL with ring offset 9 of 8" },
        { 0x7fffffffu, "ring: OPENCHANNEL with ring offset 0x7fffffff" },
        { 0xffffffffu, "ring: OPENCHANNEL with ring offset 0xffffffff" },
    };
    struct vmbus_ring_pages ring;
    uint64_t pfns[RING_PAGES];
    struct vmbus_msg_gpadl_created c = {};
    uint32_t ring_id, id;
    unsigned int i;
    int64_t st;

    if (!ring_make("ring", &ring, &ring_id)) {
        return;
    }
    for (i = 0; i < sizeof(offsets) / sizeof(offsets[0]) && !bus_lost; i++) {
        begin();
        expect_open_refused(offsets[i].what, OPEN_ID + 0x40 + i,
                            open_raw(relid, OPEN_ID + 0x40 + i, ring_id,
                                     bus.vp_index, offsets[i].offset,
                                     ANSWER_US));
        alive(offsets[i].what, true, false);
    }
    begin();
    expect_open_refused("ring: OPENCHANNEL on an unknown GPADL",
                        OPEN_ID + 0x50,
                        open_raw(relid, OPEN_ID + 0x50, 0x3c3c3c3c,
                                 bus.vp_index, RING_SEND_PAGES, ANSWER_US));
    alive("ring: OPENCHANNEL on an unknown GPADL", true, false);

    /* a GPADL made for another relid: only one channel here */
    begin();
    for (i = 0; i < RING_PAGES; i++) {
        pfns[i] = virt_to_phys(ring.page[i]) >> VMBUS_PAGE_SHIFT;
    }
    id = vmbus_gpadl_id(&bus);
    if (vmbus_gpadl_create(&bus, last_relid + 1, id, pfns, RING_PAGES, &c) &&
        c.status == 0) {
        expect_open_refused("ring: OPENCHANNEL on a GPADL of another relid",
                            OPEN_ID + 0x51,
                            open_raw(relid, OPEN_ID + 0x51, id, bus.vp_index,
                                     RING_SEND_PAGES, ANSWER_US));
        post_teardown(last_relid + 1, id);
        vmbus_drain(&bus, DRAIN_US, 4);
    } else {
        report_info("ring: a GPADL for relid %u (no such channel) was not "
                    "created (status 0x%x): the check of a ring on another "
                    "channel's GPADL needs a second channel", last_relid + 1,
                    c.status);
    }
    alive("ring: OPENCHANNEL on a GPADL of another relid", false, false);

    open_on_pages("ring: a ring on pages past RAM", PFN_NO_RAM, false,
                  OPEN_ID + 0x52);
    open_on_pages("ring: a ring on PFNs from 0xfffffffff", PFN_FAR, false,
                  OPEN_ID + 0x53);
    open_on_pages("ring: a ring on the local APIC page", PFN_APIC, true,
                  OPEN_ID + 0x54);

    begin();
    st = open_raw(relid, OPEN_ID + 0x55, ring_id, bus.vp_index,
                  RING_SEND_PAGES, ANSWER_US);
    report(st == 0, "ring: the channel opens on a good ring afterwards "
           "(status 0x%llx)", (unsigned long long)st);
    vmbus_close_channel(&bus, relid);
    alive("ring: CLOSECHANNEL at the end", true, false);
    vmbus_ring_free(&ring);
}

static void signal_channel(void)
{
    hv_signal_event(chan_conn, 0);
    udelay(20000);
}

static const struct {
    int which;          /* 0: send write, 1: recv read, 2: pending */
    uint32_t value;
    const char *what;
} spoil[] = {
    { 0, 3, "ring-index: guest write index 3 (unaligned)" },
    { 0, 0, "ring-index: guest write index back to 0" },
    { 0, 0x10000, "ring-index: guest write index beyond the ring" },
    { 0, 0xfffffff8u, "ring-index: guest write index 0xfffffff8" },
    { 1, 5, "ring-index: guest read index of the host ring 5" },
    { 1, 0x20000, "ring-index: guest read index of the host ring "
      "beyond it" },
    { 2, 0xffffffffu, "ring-index: pending_send_sz 0xffffffff" },
    { 3, 0, "ring-index: a packet with a header of 8 bytes" },
    { 4, 0, "ring-index: a packet longer than the ring" },
    { 5, 0, "ring-index: a packet whose length wraps the data area" },
};

/*
 * The dynamic memory protocol starts with the guest's version request;
 * hv-balloon answers any version.  Put it in the guest's ring, signal,
 * and wait for the host's ring to grow.
 */
static bool balloon_answers(struct vmbus_ring_pages *r)
{
    struct vmbus_ring_header *recv = vmbus_ring_recv_hdr(r);
    uint32_t before = __atomic_load_n(&recv->write_index, __ATOMIC_ACQUIRE);
    struct vmbus_dm_version_request vr = {
        .hdr = { VMBUS_DM_VERSION_REQUEST, sizeof(vr), 1 },
        .version = VMBUS_DM_VERSION_2_0,
        .last_attempt = 1,
    };

    if (!vmbus_ring_put(r, &vr, sizeof(vr), 1)) {
        return false;
    }
    hv_signal_event(chan_conn, 0);
    return wait_for(__atomic_load_n(&recv->write_index, __ATOMIC_ACQUIRE) !=
                    before, ANSWER_US);
}

static void part_ring_index(void)
{
    const uint32_t data = (RING_SEND_PAGES - 1) * VMBUS_PAGE_SIZE;
    struct vmbus_ring_pages ring;
    struct vmbus_ring_header *send, *recv;
    uint32_t ring_id;
    int64_t st;
    uint8_t *d;
    unsigned int i;

    if (!ring_make("ring-index", &ring, &ring_id)) {
        return;
    }
    begin();
    st = open_raw(relid, OPEN_ID + 0x60, ring_id, bus.vp_index,
                  RING_SEND_PAGES, ANSWER_US);
    if (!report(st == 0, "ring-index: the channel opens (status 0x%llx)",
                (unsigned long long)st)) {
        return;
    }
    send = vmbus_ring_send_hdr(&ring);
    recv = vmbus_ring_recv_hdr(&ring);
    d = (uint8_t *)ring.page[1];
    report(balloon_answers(&ring), "ring-index: before: hv-balloon answers "
           "a version request in the ring");

    for (i = 0; i < sizeof(spoil) / sizeof(spoil[0]) && !bus_lost; i++) {
        begin();
        switch (spoil[i].which) {
        case 0:
            send->write_index = spoil[i].value;
            break;
        case 1:
            recv->read_index = spoil[i].value;
            break;
        case 2:
            send->pending_send_sz = spoil[i].value;
            recv->pending_send_sz = spoil[i].value;
            break;
        default:
            /* a descriptor at offset 0 of the guest's data area */
            memset(d, 0, 64);
            d[0] = 6;                               /* in-band data */
            d[2] = spoil[i].which == 3 ? 1 : 2;     /* header, 8 bytes */
            d[4] = spoil[i].which == 4 ? 0xff : 0xfe;
            d[5] = 0xff;                            /* length, 8 bytes */
            send->read_index = 0;
            send->write_index = spoil[i].which == 5 ? data - 8 : 24;
            break;
        }
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        signal_channel();
        alive(spoil[i].what, true, false);
    }
    begin();
    vmbus_close_channel(&bus, relid);
    alive("ring-index: CLOSECHANNEL of the channel with the spoiled ring",
          true, false);
    report(!bus_lost && teardown_wait(ring_id, ANSWER_US),
           "ring-index: the spoiled ring's GPADL torn down after the close");
    vmbus_ring_free(&ring);
    if (bus_lost || !ring_make("ring-index: a new ring", &ring, &ring_id)) {
        return;
    }
    begin();
    st = open_raw(relid, OPEN_ID + 0x61, ring_id, bus.vp_index,
                  RING_SEND_PAGES, ANSWER_US);
    report(st == 0, "ring-index: the channel opens again on a new ring "
           "(status 0x%llx)", (unsigned long long)st);
    if (st == 0) {
        report(balloon_answers(&ring), "ring-index: after: hv-balloon "
               "answers a version request in the new ring");
    }
    vmbus_close_channel(&bus, relid);
    alive("ring-index: CLOSECHANNEL of the new ring", true, false);
    vmbus_ring_free(&ring);
}

/* ------------------------------------------------------------------ */

/* HvPostMessage once; on a full queue take host messages and retry */
static uint16_t post_busy(uint32_t conn, const struct msgbuf *m,
                          uint32_t size, unsigned int *taken)
{
    uint16_t st = HV_STATUS_INSUFFICIENT_BUFFERS;
    unsigned int i;

    for (i = 0; i < 20000; i++) {
        st = hv_post_message(conn, HV_MESSAGE_TYPE_VMBUS, m, size);
        if (st != HV_STATUS_INSUFFICIENT_BUFFERS) {
            break;
        }
        if (vmbus_recv_any(&bus, NULL, 0, NULL, 100) >= 0) {
            (*taken)++;
        }
    }
    return st;
}

static void part_storm(void)
{
    uint32_t contact_conn = vmbus_contact_conn(version);
    unsigned int i, taken = 0, bad = 0;
    uint16_t st, bad_st = 0;
    struct msgbuf c, m;

    begin();
    vmbus_contact_fill(&bus, version, &c.contact);
    memset(&m, 0, sizeof(m));
    for (i = 0; i < 200; i++) {
        st = post_busy(contact_conn, &c, sizeof(c.contact), &taken);
        /* from 5.0 the others go to the connection the answer names */
        m.hdr.type = VMBUS_MSG_REQUESTOFFERS;
        if (st == HV_STATUS_SUCCESS) {
            st = post_busy(bus.msg_conn, &m, sizeof(m.hdr), &taken);
        }
        m.hdr.type = VMBUS_MSG_UNLOAD;
        if (st == HV_STATUS_SUCCESS) {
            st = post_busy(bus.msg_conn, &m, sizeof(m.hdr), &taken);
        }
        if (st != HV_STATUS_SUCCESS) {
            bad++;
            bad_st = st;
        }
    }
    taken += vmbus_drain(&bus, SILENCE_US, 100000);
    report(bad == 0, "storm: 200 x (INITIATE_CONTACT, REQUESTOFFERS, UNLOAD) "
           "posted (%u rounds failed, status 0x%x)", bad, bad_st);
    report_info("storm: %u host messages taken during and after it", taken);
    bus.version = 0;
    alive("storm: 200 reconnects without waiting", false, true);

    begin();
    report(vmbus_contact(&bus, version, NULL) == VMBUS_CONTACT_ACCEPTED,
           "storm: INITIATE_CONTACT while connected is accepted");
    report(vmbus_contact(&bus, version, NULL) == VMBUS_CONTACT_ACCEPTED,
           "storm: INITIATE_CONTACT twice without UNLOAD is accepted");
    report(vmbus_request_offers(&bus) &&
           vmbus_find_offer(&bus, &balloon_class),
           "storm: the balloon is offered after the second INITIATE_CONTACT");
    alive("storm: INITIATE_CONTACT twice", true, false);

    begin();
    report(vmbus_unload(&bus), "storm: UNLOAD answered");
    memset(&m, 0, sizeof(m));
    st = vmbus_post(&bus, VMBUS_MSG_UNLOAD, &m, sizeof(m.hdr));
    report_info("storm: a second UNLOAD: HvPostMessage status 0x%x, %u host "
                "messages after it", st,
                vmbus_drain(&bus, SILENCE_US, 16));
    alive("storm: UNLOAD twice", false, true);
}

/* ------------------------------------------------------------------ */

/*
 * A message type no version defines: 0, 18 to 20, 25 to 30, or one
 * above 0xff, chosen by n.
 */
static uint32_t unknown_type(uint32_t n)
{
    static const uint8_t small[] = { 0, 18, 19, 20, 25, 26, 27, 28, 29, 30 };

    if (n % 11 == 10) {
        return 0x100 | (n >> 4);
    }
    return small[n % 11];
}

static const uint32_t junk_types[] = {
    VMBUS_MSG_OFFERCHANNEL, VMBUS_MSG_RESCIND_CHANNELOFFER,
    VMBUS_MSG_ALLOFFERS_DELIVERED, VMBUS_MSG_OPENCHANNEL_RESULT,
    VMBUS_MSG_CLOSECHANNEL, VMBUS_MSG_GPADL_BODY, VMBUS_MSG_GPADL_CREATED,
    VMBUS_MSG_GPADL_TEARDOWN, VMBUS_MSG_GPADL_TORNDOWN,
    VMBUS_MSG_RELID_RELEASED, VMBUS_MSG_VERSION_RESPONSE,
    VMBUS_MSG_UNLOAD_RESPONSE,
};

/*
 * n HvPostMessage calls of junk on the message connection, no retry:
 * with types from types (or, if !types, of unknown types).  Returns
 * the calls whose status was neither 0 nor 0x13.
 */
static unsigned int flood(unsigned int n, const uint32_t *types,
                          unsigned int ntypes, uint16_t *odd,
                          unsigned int *full)
{
    unsigned int i, bad = 0;
    struct msgbuf m;

    *full = 0;
    for (i = 0; i < n; i++) {
        uint32_t size = 8 + junk() % (HV_MESSAGE_PAYLOAD_SIZE - 7);
        uint16_t st;

        junk_fill(m.b, size);
        if (types) {
            m.hdr.type = types[junk() % ntypes];
        } else {
            m.hdr.type = unknown_type(junk());
        }
        st = hv_post_message(bus.msg_conn, HV_MESSAGE_TYPE_VMBUS, &m, size);
        if (st == HV_STATUS_INSUFFICIENT_BUFFERS) {
            (*full)++;
        } else if (st != HV_STATUS_SUCCESS) {
            *odd = st;
            bad++;
        }
        if ((i & 63) == 0) {
            vmbus_recv_any(&bus, NULL, 0, NULL, 0);
        }
    }
    return bad;
}

static void part_flood(void)
{
    unsigned int bad, full, n;
    uint16_t odd = 0;

    begin();
    bad = flood(10000, junk_types, sizeof(junk_types) / sizeof(junk_types[0]),
                &odd, &full);
    n = vmbus_drain(&bus, SILENCE_US, 100000);
    report(bad == 0, "flood: 10000 junk messages of known types: every "
           "HvPostMessage returns 0 or 0x13 (%u others, the last 0x%x; "
           "%u full)", bad, odd, full);
    report_info("flood: %u host messages after the known types", n);
    alive("flood: 10000 junk messages of known types", false, true);

    begin();
    bad = flood(10000, NULL, 0, &odd, &full);
    n = vmbus_drain(&bus, SILENCE_US, 100000);
    report_info("flood: 10000 junk messages of unknown types: %u statuses "
                "other than 0 and 0x13 (the last 0x%x), %u full", bad, odd,
                full);
    report(n == 0, "flood: no host message answers the unknown types (%u)",
           n);
    alive("flood: 10000 junk messages of unknown types", true, false);

    begin();
    {
        uint32_t all[17];
        unsigned int i;

        for (i = 0; i < 17; i++) {
            all[i] = i + 1;
        }
        bad = flood(10000, all, 17, &odd, &full);
    }
    n = vmbus_drain(&bus, SILENCE_US, 100000);
    report(bad == 0, "flood: 10000 junk messages of types 1 to 17: every "
           "HvPostMessage returns 0 or 0x13 (%u others, the last 0x%x; "
           "%u full)", bad, odd, full);
    report_info("flood: %u host messages after types 1 to 17", n);
    bus.version = 0;
    alive("flood: 10000 junk messages of types 1 to 17", false, true);
}

/* ------------------------------------------------------------------ */

/*
 * Ring offset 0xffffffff: QEMU 10.0.2 checks "pages <= offset + 1" in
 * 32 bits, which wraps, and then maps a ring from there.
 */
static void part_upstream_ring_offset(void)
{
    struct vmbus_ring_pages ring;
    uint32_t ring_id;

    if (!ring_make("upstream-ring-offset", &ring, &ring_id)) {
        return;
    }
    begin();
    expect_open_refused("upstream-ring-offset: ring offset 0xffffffff",
                        OPEN_ID + 0x80,
                        open_raw(relid, OPEN_ID + 0x80, ring_id,
                                 bus.vp_index, 0xffffffffu, ANSWER_US));
    alive("upstream-ring-offset: ring offset 0xffffffff", true, false);
    vmbus_ring_free(&ring);
}

static void part_upstream_gpadl_wrap(void)
{
    gpadl_wrap("upstream-gpadl-wrap");
}

static void part_upstream_gpadl_body(void)
{
    body_after_completion("upstream-gpadl-body");
}

static void part_upstream_gpadl_count(void)
{
    gpadl_count("upstream-gpadl-count", GPADL_COUNT_TRIES);
}

static void part_upstream_contact_vp(void)
{
    contact_bad_vp("upstream-contact-vp", 0xffffffffu);
    contact_bad_vp("upstream-contact-vp", 1000);
}

static void part_upstream_open_vp(void)
{
    struct vmbus_ring_pages ring;
    uint32_t ring_id;
    unsigned int i;

    if (!ring_make("upstream-open-vp", &ring, &ring_id)) {
        return;
    }
    for (i = 0; i < 3; i++) {
        open_bad_vp("upstream-open-vp", ring_id, bad_vps[i],
                    OPEN_ID + 0x70 + i);
    }
    vmbus_ring_free(&ring);
}

/*
 * UNLOAD on a bus never contacted: QEMU 10.0.2 answers it on a SINT
 * route it does not have (a NULL dereference).  Nobody to answer.
 */
static void part_upstream_unload_first(void)
{
    struct msgbuf m;
    unsigned int n;

    begin();
    memset(&m, 0, sizeof(m));
    m.hdr.type = VMBUS_MSG_UNLOAD;
    post(&m, sizeof(m.hdr));
    n = vmbus_drain(&bus, SILENCE_US, 16);
    report(n == 0, "upstream-unload-first: UNLOAD before any "
           "INITIATE_CONTACT: no host message within 200 ms (%u)", n);
    version = vmbus_connect(&bus);
    alive("upstream-unload-first: UNLOAD before any INITIATE_CONTACT", true,
          true);
}

static void part_upstream_errflood(void)
{
    unsigned int i, bad = 0;
    struct msgbuf m;

    begin();
    memset(&m, 0, sizeof(m));
    for (i = 0; i < 1000; i++) {
        uint16_t st;

        m.hdr.type = unknown_type(i);
        st = vmbus_post(&bus, m.hdr.type, &m, 16);
        bad += st != HV_STATUS_SUCCESS && st != HV_STATUS_INVALID_PARAMETER &&
               st != HV_STATUS_INVALID_HYPERCALL_INPUT;
    }
    report_info("upstream-errflood: %u of 1000 posts with another status",
                bad);
    alive("upstream-errflood: 1000 messages of unknown types", true, false);
}

static const struct {
    const char *name;
    void (*run)(void);
} parts[] = {
    { "trunc", part_trunc },
    { "oversize", part_oversize },
    { "state", part_state },
    { "relid", part_relid },
    { "vp", part_vp },
    { "gpadl", part_gpadl },
    { "gpadl-count", part_gpadl_count },
    { "gpadl-pages", part_gpadl_pages },
    { "ring", part_ring },
    { "ring-index", part_ring_index },
    { "storm", part_storm },
    { "flood", part_flood },
    { "upstream-gpadl-wrap", part_upstream_gpadl_wrap },
    { "upstream-gpadl-body", part_upstream_gpadl_body },
    { "upstream-gpadl-count", part_upstream_gpadl_count },
    { "upstream-contact-vp", part_upstream_contact_vp },
    { "upstream-open-vp", part_upstream_open_vp },
    { "upstream-errflood", part_upstream_errflood },
    { "upstream-unload-first", part_upstream_unload_first },
    { "upstream-ring-offset", part_upstream_ring_offset },
};

static void vmbus_hostile_suite(void)
{
    const char *part = opt_get("part");
    unsigned long sint;
    unsigned int i;
    char v[12];
    bool ok;

    if (!report(opt_get_ulong("vmbus-sint", VMBUS_SINT_LEGACY, &sint) &&
                sint < HV_SINT_COUNT, "setup: vmbus-sint=%s is a SINT",
                opt_get("vmbus-sint") ? opt_get("vmbus-sint") : "(2)") ||
        !synic_enable_all("setup")) {
        return;
    }
    for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        if (part && !strcmp(part, parts[i].name)) {
            break;
        }
    }
    probe_page = alloc_page();
    if (report(i < sizeof(parts) / sizeof(parts[0]), "setup: part=%s is "
               "known", part ? part : "(none)") &&
        report(probe_page && vmbus_client_init(&bus, sint, BUS_VECTOR),
               "setup: VMBus client ready (SINTs, pages)")) {
        probe_pfn = virt_to_phys(probe_page) >> VMBUS_PAGE_SHIFT;
        if (!strcmp(part, "state")) {
            state_before_contact();
        }
        if (!strcmp(part, "upstream-unload-first")) {
            /* before any contact; the part then connects again */
            part_upstream_unload_first();
            report_info("%s: %u hostile cases", part, cases);
            vmbus_client_fini(&bus);
            synic_disable_all();
            return;
        }
        version = vmbus_connect(&bus);
        if (!strcmp(part, "state")) {
            report(version && bus.stray == 0, "state: after them the first "
                   "INITIATE_CONTACT gets its VERSION_RESPONSE first (%u "
                   "host messages before it)", bus.stray);
        }
        ok = version && connect_clean() &&
             (strcmp(part, "state") || vmbus_unload(&bus));
        if (report(ok, "setup: connected (version %s), the balloon offered "
                   "as relid %u", vmbus_version_str(version, v), relid)) {
            parts[i].run();
            report_info("%s: %u hostile cases", part, cases);
        }
        vmbus_client_fini(&bus);
    }
    synic_disable_all();
}

DEFINE_SUITE("vmbus-hostile", vmbus_hostile_suite);
