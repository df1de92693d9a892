/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A VMBus client for the test guest: the channel management protocol
 * that a guest speaks with the VMBus host over SynIC messages.
 *
 * The guest posts channel messages with HvPostMessage (hypervisor message
 * type 1) on the bus's message connection; the host answers in the SIMP
 * slot of one SINT of the vCPU named in INITIATE_CONTACT.  Before
 * protocol 5.0 the guest posts on connection 1 and the host answers on
 * SINT 2; from 5.0 the guest sends INITIATE_CONTACT on connection 4,
 * names the SINT it wants the answers on, and posts everything after on
 * the connection that VERSION_RESPONSE names.
 *
 * Every function that posts or receives runs on the vCPU that connected
 * (vmbus_client.cpu), whose SynIC must be enabled (synic_enable()):
 * emptying a slot may need an EOM on that vCPU.  Every wait is bounded.
 *
 * The wire structs are packed and checked against their sizes.  They
 * cover the messages this client sends or waits for; vmbus_post() sends
 * anything else, of any length, for tests of a host's input checks.
 */
#ifndef GUEST_VMBUS_H
#define GUEST_VMBUS_H

#include <stdbool.h>
#include <stdint.h>

#include "hyperv.h"

/* Hypervisor message type of every VMBus channel message, both ways */
#define HV_MESSAGE_TYPE_VMBUS           1

/* Protocol versions: major in the high half, minor in the low half */
#define VMBUS_VERSION(major, minor)     ((uint32_t)(major) << 16 | (minor))
#define VMBUS_VERSION_MAJOR(v)          ((v) >> 16)
#define VMBUS_VERSION_MINOR(v)          ((v) & 0xffff)

#define VMBUS_VERSION_2_4               VMBUS_VERSION(2, 4)
#define VMBUS_VERSION_3_0               VMBUS_VERSION(3, 0)
#define VMBUS_VERSION_4_0               VMBUS_VERSION(4, 0)
#define VMBUS_VERSION_4_1               VMBUS_VERSION(4, 1)
#define VMBUS_VERSION_5_0               VMBUS_VERSION(5, 0)
#define VMBUS_VERSION_5_1               VMBUS_VERSION(5, 1)
#define VMBUS_VERSION_5_2               VMBUS_VERSION(5, 2)
#define VMBUS_VERSION_5_3               VMBUS_VERSION(5, 3)

/* Where the guest posts, and where an older host answers */
#define VMBUS_MSG_CONN_LEGACY           1   /* every version before 5.0 */
#define VMBUS_MSG_CONN_CONTACT_V5       4   /* INITIATE_CONTACT from 5.0 */
#define VMBUS_SINT_LEGACY               2

/* Channel message types (the first word of every message) */
#define VMBUS_MSG_OFFERCHANNEL          1
#define VMBUS_MSG_RESCIND_CHANNELOFFER  2
#define VMBUS_MSG_REQUESTOFFERS         3
#define VMBUS_MSG_ALLOFFERS_DELIVERED   4
#define VMBUS_MSG_OPENCHANNEL           5
#define VMBUS_MSG_OPENCHANNEL_RESULT    6
#define VMBUS_MSG_CLOSECHANNEL          7
#define VMBUS_MSG_GPADL_HEADER          8
#define VMBUS_MSG_GPADL_BODY            9
#define VMBUS_MSG_GPADL_CREATED         10
#define VMBUS_MSG_GPADL_TEARDOWN        11
#define VMBUS_MSG_GPADL_TORNDOWN        12
#define VMBUS_MSG_RELID_RELEASED        13
#define VMBUS_MSG_INITIATE_CONTACT      14
#define VMBUS_MSG_VERSION_RESPONSE      15
#define VMBUS_MSG_UNLOAD                16
#define VMBUS_MSG_UNLOAD_RESPONSE       17

#define VMBUS_PAGE_SIZE                 4096
#define VMBUS_PAGE_SHIFT                12

/* A GUID as it travels: the first three fields little-endian */
struct vmbus_guid {
    uint8_t b[16];
} __attribute__((packed));

/* The dynamic memory (hv-balloon) device class, 525074dc-8985-46e2-... */
#define VMBUS_GUID_DYNAMIC_MEMORY { {                                   \
    0xdc, 0x74, 0x50, 0x52, 0x85, 0x89, 0xe2, 0x46,                     \
    0x80, 0x57, 0xa3, 0x07, 0xdc, 0x18, 0xa5, 0x02 } }

/* vmbus-echo, QEMU's test device, b6d1f2a4-4c7e-4a8b-9e31-5f0c2d7a8e63 */
#define VMBUS_GUID_ECHO { {                                             \
    0xa4, 0xf2, 0xd1, 0xb6, 0x7e, 0x4c, 0x8b, 0x4a,                     \
    0x9e, 0x31, 0x5f, 0x0c, 0x2d, 0x7a, 0x8e, 0x63 } }
/*
 * vmbus-echo,subchannels=N: two words, this and a count, on the primary
 * channel ask for that many sub-channels; the answer is this and the
 * device's status (0 or -errno).
 */
#define VMBUS_ECHO_SUBC                 0x43425553u     /* "SUBC" */

struct vmbus_msg_header {
    uint32_t type;
    uint32_t reserved;
} __attribute__((packed));

struct vmbus_msg_initiate_contact {
    struct vmbus_msg_header header;
    uint32_t version;
    uint32_t target_vp;         /* VP index the host sends messages to */
    /*
     * Before 5.0: the GPA of the interrupt page (used before 2.4).
     * From 5.0: the SINT for the host's messages, the VTL, and (5.3)
     * feature flags.
     */
    union {
        uint64_t interrupt_page;
        struct {
            uint8_t msg_sint;
            uint8_t msg_vtl;
            uint8_t reserved[2];
            uint32_t feature_flags;
        } __attribute__((packed)) v5;
    } __attribute__((packed));
    uint64_t monitor_page1;     /* host to guest */
    uint64_t monitor_page2;     /* guest to host */
} __attribute__((packed));

struct vmbus_msg_version_response {
    struct vmbus_msg_header header;
    uint8_t version_supported;
    uint8_t connection_state;
    uint16_t reserved;
    uint32_t msg_conn;          /* from 5.0: where the guest posts next */
} __attribute__((packed));

#define VMBUS_OFFER_USER_DATA_SIZE      120

struct vmbus_msg_offer {
    struct vmbus_msg_header header;
    struct vmbus_guid class_id;
    struct vmbus_guid instance_id;
    uint64_t reserved1;
    uint64_t reserved2;
    uint16_t channel_flags;
    uint16_t mmio_megabytes;
    uint8_t user_data[VMBUS_OFFER_USER_DATA_SIZE];
    uint16_t sub_channel_index;
    uint16_t reserved3;
    uint32_t child_relid;
    uint8_t monitor_id;
    uint8_t monitor_flags;      /* bit 0: monitor_id is allocated */
    uint16_t interrupt_flags;   /* bit 0: dedicated interrupt */
    uint32_t connection_id;     /* event connection to signal the host */
} __attribute__((packed));

/* One range of a GPADL: byte_count bytes from byte_offset into pfn[0] */
struct vmbus_gpa_range {
    uint32_t byte_count;
    uint32_t byte_offset;
    uint64_t pfn[];
} __attribute__((packed));

struct vmbus_msg_gpadl_header {
    struct vmbus_msg_header header;
    uint32_t child_relid;
    uint32_t gpadl;
    uint16_t range_bytes;       /* all ranges with all their PFNs */
    uint16_t range_count;
    struct vmbus_gpa_range range[];
} __attribute__((packed));

struct vmbus_msg_gpadl_body {
    struct vmbus_msg_header header;
    uint32_t message_number;
    uint32_t gpadl;
    uint64_t pfn[];
} __attribute__((packed));

struct vmbus_msg_gpadl_created {
    struct vmbus_msg_header header;
    uint32_t child_relid;
    uint32_t gpadl;
    uint32_t status;
} __attribute__((packed));

struct vmbus_msg_gpadl_teardown {
    struct vmbus_msg_header header;
    uint32_t child_relid;
    uint32_t gpadl;
} __attribute__((packed));

struct vmbus_msg_gpadl_torndown {
    struct vmbus_msg_header header;
    uint32_t gpadl;
} __attribute__((packed));

struct vmbus_msg_open_channel {
    struct vmbus_msg_header header;
    uint32_t child_relid;
    uint32_t open_id;
    uint32_t ring_gpadl;
    uint32_t target_vp;         /* VP index for the channel's interrupts */
    uint32_t recv_ring_page;    /* GPADL page where the host's ring starts */
    uint8_t user_data[VMBUS_OFFER_USER_DATA_SIZE];
} __attribute__((packed));

struct vmbus_msg_open_result {
    struct vmbus_msg_header header;
    uint32_t child_relid;
    uint32_t open_id;
    uint32_t status;
} __attribute__((packed));

struct vmbus_msg_close_channel {
    struct vmbus_msg_header header;
    uint32_t child_relid;
} __attribute__((packed));

/*
 * The first page of each ring of a channel: the indexes and flags, then
 * the data area from the next page on.  The guest's send ring comes
 * first in the ring GPADL, the ring the host writes starts at the page
 * OPENCHANNEL names.
 */
#define VMBUS_RING_FEAT_PENDING_SEND_SZ 0x1

struct vmbus_ring_header {
    uint32_t write_index;
    uint32_t read_index;
    uint32_t interrupt_mask;
    uint32_t pending_send_sz;
    uint32_t reserved1[12];
    uint32_t feature_bits;
    uint8_t reserved2[VMBUS_PAGE_SIZE - 68];
} __attribute__((packed));

_Static_assert(sizeof(struct vmbus_guid) == 16, "GUID size");
_Static_assert(sizeof(struct vmbus_msg_header) == 8, "header size");
_Static_assert(sizeof(struct vmbus_msg_initiate_contact) == 40,
               "INITIATE_CONTACT size");
_Static_assert(sizeof(struct vmbus_msg_version_response) == 16,
               "VERSION_RESPONSE size");
_Static_assert(sizeof(struct vmbus_msg_offer) == 196, "OFFERCHANNEL size");
_Static_assert(sizeof(struct vmbus_gpa_range) == 8, "GPA range size");
_Static_assert(sizeof(struct vmbus_msg_gpadl_header) == 20,
               "GPADL_HEADER size");
_Static_assert(sizeof(struct vmbus_msg_gpadl_body) == 16, "GPADL_BODY size");
_Static_assert(sizeof(struct vmbus_msg_gpadl_created) == 20,
               "GPADL_CREATED size");
_Static_assert(sizeof(struct vmbus_msg_gpadl_teardown) == 16,
               "GPADL_TEARDOWN size");
_Static_assert(sizeof(struct vmbus_msg_gpadl_torndown) == 12,
               "GPADL_TORNDOWN size");
_Static_assert(sizeof(struct vmbus_msg_open_channel) == 148,
               "OPENCHANNEL size");
_Static_assert(sizeof(struct vmbus_msg_open_result) == 20,
               "OPENCHANNEL_RESULT size");
_Static_assert(sizeof(struct vmbus_msg_close_channel) == 12,
               "CLOSECHANNEL size");
_Static_assert(sizeof(struct vmbus_ring_header) == VMBUS_PAGE_SIZE,
               "ring header size");

/* PFNs that fit the GPADL_HEADER (one range) and each GPADL_BODY */
#define VMBUS_GPADL_HEADER_PFNS                                         \
    ((HV_MESSAGE_PAYLOAD_SIZE - sizeof(struct vmbus_msg_gpadl_header) - \
      sizeof(struct vmbus_gpa_range)) / sizeof(uint64_t))
#define VMBUS_GPADL_BODY_PFNS                                           \
    ((HV_MESSAGE_PAYLOAD_SIZE - sizeof(struct vmbus_msg_gpadl_body)) /  \
     sizeof(uint64_t))

/* The versions vmbus_connect() tries, highest first */
#define VMBUS_NR_VERSIONS               8
extern const uint32_t vmbus_versions[VMBUS_NR_VERSIONS];

/* Bounds of the waits for the host's answers */
#define VMBUS_REPLY_US                  20000000ull

/* What became of one INITIATE_CONTACT */
enum vmbus_contact_result {
    VMBUS_CONTACT_NOT_TRIED,
    VMBUS_CONTACT_ACCEPTED,     /* VERSION_RESPONSE, version_supported != 0 */
    VMBUS_CONTACT_REFUSED,      /* VERSION_RESPONSE, version_supported 0 */
    VMBUS_CONTACT_NO_CONN,      /* HvPostMessage: no such connection */
    VMBUS_CONTACT_POST_FAILED,  /* HvPostMessage: any other error */
    VMBUS_CONTACT_NO_ANSWER,    /* posted, but no VERSION_RESPONSE came */
};

#define VMBUS_MAX_OFFERS                32

struct vmbus_client {
    unsigned int cpu;           /* the vCPU that connects and receives */
    uint32_t vp_index;          /* its VP index */
    uint8_t vector;             /* of its SINTs */
    unsigned int sint_v5;       /* the SINT asked for from 5.0 */

    /* the connection, valid while version != 0 */
    uint32_t version;
    uint32_t msg_conn;          /* where channel messages go */
    unsigned int sint;          /* where the host's messages arrive */

    /* pages INITIATE_CONTACT names */
    void *interrupt_page;
    void *monitor_pages[2];

    /* vmbus_connect(): the outcome of each of vmbus_versions[] */
    enum vmbus_contact_result outcome[VMBUS_NR_VERSIONS];
    uint16_t last_post_status;

    /* the last vmbus_request_offers() */
    struct vmbus_msg_offer offers[VMBUS_MAX_OFFERS];
    unsigned int nr_offers;
    unsigned int offers_dropped;    /* beyond VMBUS_MAX_OFFERS */
    unsigned int short_offers;      /* shorter than an OFFERCHANNEL */

    /* host messages vmbus_recv() dropped while waiting for another type */
    unsigned int stray;
    uint32_t last_stray_type;   /* its channel type, or hv type | bit 31 */

    uint32_t next_gpadl;
};

/*
 * On this vCPU (SynIC enabled): readies c: the SINTs (sint_v5 and, if
 * different, SINT 2) programmed with vector and the interrupt recorder,
 * the interrupt and monitor pages.  false if a page or an MSR failed.
 */
bool vmbus_client_init(struct vmbus_client *c, unsigned int sint_v5,
                       uint8_t vector);
/* Masks the SINTs again and frees the pages (no message is sent). */
void vmbus_client_fini(struct vmbus_client *c);

/* The message connection and SINT a version uses for INITIATE_CONTACT */
uint32_t vmbus_contact_conn(uint32_t version);
unsigned int vmbus_version_sint(const struct vmbus_client *c,
                                uint32_t version);

/*
 * HvPostMessage of size bytes of msg on connection conn as hypervisor
 * message type hv_type, retried (bounded) while the host's queue is
 * full.  At most HV_MESSAGE_PAYLOAD_SIZE bytes are copied, but the
 * input says size, whatever it is.  Returns the hypercall status.
 */
uint16_t vmbus_post_raw(uint32_t conn, uint32_t hv_type, const void *msg,
                        uint32_t size);

/*
 * Post size bytes as channel message type on the client's message
 * connection: the bytes of msg (NULL: zeros), with the first word
 * replaced by type.  size may be below the header's or above the
 * payload's size (a truncated or oversized message).  Returns the
 * hypercall status, also kept in c->last_post_status.
 */
uint16_t vmbus_post(struct vmbus_client *c, uint32_t type, const void *msg,
                    uint32_t size);

/*
 * Take the next host message on the client's SINT within usec: copy its
 * payload (up to size bytes) to buf, empty the slot, EOM if the host
 * has another one pending.  Returns the payload size, or -1 if none
 * came.  *hv_type (if not NULL) gets the hypervisor message type.
 */
int vmbus_recv_any(struct vmbus_client *c, void *buf, uint32_t size,
                   uint32_t *hv_type, uint64_t usec);

/*
 * Wait (at most usec in all) for a channel message of type type; the
 * host messages of other types that come first are dropped and counted
 * in c->stray.  Returns the payload size, or -1 if none came.  The
 * payload is copied to buf (up to size bytes, the rest zeroed).
 */
int vmbus_recv(struct vmbus_client *c, uint32_t type, void *buf,
               uint32_t size, uint64_t usec);

/*
 * One INITIATE_CONTACT for version, on the connection and naming the
 * SINT the version wants, and its VERSION_RESPONSE (copied to *resp if
 * not NULL).  When accepted, c is connected with that version.
 */
enum vmbus_contact_result vmbus_contact(struct vmbus_client *c,
                                        uint32_t version,
                                        struct vmbus_msg_version_response
                                        *resp);

/*
 * Try vmbus_versions[] from the highest down until the host accepts one
 * (c->outcome[] says what each try gave).  Returns the version, 0 when
 * none was accepted.
 */
uint32_t vmbus_connect(struct vmbus_client *c);

/*
 * REQUESTOFFERS, then collect the offers into c->offers until
 * ALLOFFERS_DELIVERED.  false when that end did not come.
 */
bool vmbus_request_offers(struct vmbus_client *c);

/* The first collected offer of class, NULL if none */
const struct vmbus_msg_offer *vmbus_find_offer(const struct vmbus_client *c,
                                               const struct vmbus_guid *class);

/* How many messages (header and bodies) a GPADL of npages takes */
unsigned int vmbus_gpadl_messages(unsigned int npages);

/*
 * Describe npages pages (their PFNs) as GPADL id of channel relid in
 * one GPADL_HEADER and as many GPADL_BODY messages as needed, then wait
 * for GPADL_CREATED (copied to *created).  false if a post failed or no
 * GPADL_CREATED came.
 */
bool vmbus_gpadl_create(struct vmbus_client *c, uint32_t relid, uint32_t id,
                        const uint64_t *pfns, unsigned int npages,
                        struct vmbus_msg_gpadl_created *created);

/* GPADL_TEARDOWN and the wait for GPADL_TORNDOWN (copied to *torndown) */
bool vmbus_gpadl_teardown(struct vmbus_client *c, uint32_t relid, uint32_t id,
                          struct vmbus_msg_gpadl_torndown *torndown);

/* A fresh GPADL id (never 0) */
uint32_t vmbus_gpadl_id(struct vmbus_client *c);

/*
 * OPENCHANNEL of relid over ring GPADL gpadl whose host ring starts at
 * page recv_ring_page, interrupts to this vCPU, and the wait for
 * OPENCHANNEL_RESULT (copied to *result).
 */
bool vmbus_open_channel(struct vmbus_client *c, uint32_t relid,
                        uint32_t open_id, uint32_t gpadl,
                        uint32_t recv_ring_page,
                        struct vmbus_msg_open_result *result);

/* CLOSECHANNEL (the host sends no answer); returns the post status */
uint16_t vmbus_close_channel(struct vmbus_client *c, uint32_t relid);

/*
 * UNLOAD and the wait for UNLOAD_RESPONSE; c is disconnected either
 * way.  false if no UNLOAD_RESPONSE came.
 */
bool vmbus_unload(struct vmbus_client *c);

/*
 * A channel's ring buffers over freshly allocated pages: send_pages for
 * the guest's ring, then recv_pages for the host's, each ring one header
 * page and its data; both headers set up as a guest does before
 * OPENCHANNEL.  pfns gets the send_pages + recv_pages PFNs for the
 * GPADL.
 */
struct vmbus_ring_pages {
    unsigned int send_pages;
    unsigned int recv_pages;
    void *page[16];
};

bool vmbus_ring_alloc(struct vmbus_ring_pages *r, unsigned int send_pages,
                      unsigned int recv_pages, uint64_t *pfns);

/*
 * What a driver does to open a channel, as a check: pages per ring for
 * each of the two rings (vmbus_ring_alloc() into *ring), a ring GPADL
 * over all of them (its id in *gpadl), and OPENCHANNEL of relid on it.
 * One PASS/FAIL line "<what>: relid N opens ..." names the step that
 * failed, if one did; the pages stay allocated either way.
 */
bool vmbus_open_checked(struct vmbus_client *c, uint32_t relid,
                        struct vmbus_ring_pages *ring, unsigned int pages,
                        uint32_t *gpadl, const char *what);
void vmbus_ring_free(struct vmbus_ring_pages *r);
struct vmbus_ring_header *vmbus_ring_send_hdr(struct vmbus_ring_pages *r);
struct vmbus_ring_header *vmbus_ring_recv_hdr(struct vmbus_ring_pages *r);

/*
 * hv-balloon's protocol (dynamic memory), as much as shows that its
 * channel works: the version and capabilities exchanges.
 */
#define VMBUS_DM_VERSION_REQUEST        1
#define VMBUS_DM_VERSION_RESPONSE       2
#define VMBUS_DM_CAPS_REPORT            3
#define VMBUS_DM_CAPS_RESPONSE          4
#define VMBUS_DM_VERSION_2_0            0x00020000u

struct vmbus_dm_header {
    uint16_t type;
    uint16_t size;              /* of the whole message */
    uint32_t trans_id;
} __attribute__((packed));

struct vmbus_dm_version_request {
    struct vmbus_dm_header hdr;
    uint32_t version;
    uint32_t last_attempt;      /* bit 0 */
} __attribute__((packed));

struct vmbus_dm_caps_report {
    struct vmbus_dm_header hdr;
    uint64_t caps;              /* bit 0: balloon */
    uint64_t min_page_cnt;
    uint64_t max_page_number;
} __attribute__((packed));

/* Either answer: bit 0 of flags says accepted */
struct vmbus_dm_response {
    struct vmbus_dm_header hdr;
    uint64_t flags;
} __attribute__((packed));

_Static_assert(sizeof(struct vmbus_dm_version_request) == 16,
               "DM version request size");
_Static_assert(sizeof(struct vmbus_dm_caps_report) == 32,
               "DM capabilities report size");

/* The size of the data area of the guest's (send) or the host's ring */
uint32_t vmbus_ring_data_size(const struct vmbus_ring_pages *r, bool send);

/*
 * Write len bytes of payload into the guest's ring as one in-band packet
 * (a 16-byte descriptor with trans_id, the payload padded to 8 bytes,
 * the trailer with its start offset) and publish it; the host is not
 * signalled.  false (nothing written) if it does not fit or the ring's
 * indexes are broken.
 */
bool vmbus_ring_put(struct vmbus_ring_pages *r, const void *payload,
                    uint32_t len, uint64_t trans_id);

/*
 * A request and its answer: put len bytes of out into the guest's ring
 * (transaction trans), signal the host on conn, and wait at most usec
 * for a packet in the host's ring, taken into in as vmbus_ring_get()
 * does.  Returns its payload length, -1 if the request did not fit or
 * no answer came.
 */
int vmbus_ring_call(struct vmbus_ring_pages *r, uint32_t conn,
                    const void *out, uint32_t len, uint64_t trans, void *in,
                    uint32_t size, uint64_t usec);

/*
 * Take the next packet out of the host's ring: its payload (after the
 * descriptor, up to size bytes; the rest of buf zeroed) and the read
 * index moved past it.  Returns the payload's length, -1 if the ring is
 * empty or the packet malformed (then nothing is taken).
 */
int vmbus_ring_get(struct vmbus_ring_pages *r, void *buf, uint32_t size);

/*
 * For hostile tests (suites/vmbus_hostile.c).
 *
 * vmbus_contact_fill() fills *msg with the INITIATE_CONTACT that
 * vmbus_contact() would send for version; the caller may then spoil it.
 */
void vmbus_contact_fill(const struct vmbus_client *c, uint32_t version,
                        struct vmbus_msg_initiate_contact *msg);

/*
 * Take and drop host messages until none has come for quiet_us, at
 * most max of them.  Returns how many were taken.
 */
unsigned int vmbus_drain(struct vmbus_client *c, uint64_t quiet_us,
                         unsigned int max);

/* "aabbccdd-eeff-..." for a wire GUID; buf holds at least 37 bytes */
const char *vmbus_guid_str(const struct vmbus_guid *g, char *buf);
bool vmbus_guid_equal(const struct vmbus_guid *a, const struct vmbus_guid *b);

/* "5.3" etc. in buf (at least 12 bytes) */
const char *vmbus_version_str(uint32_t version, char *buf);

/* Parse "major.minor"; false if malformed */
bool vmbus_parse_version(const char *s, uint32_t *version);

#endif /* GUEST_VMBUS_H */
