// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The test guest's VMBus client (see vmbus.h).
 */
#include <stddef.h>

#include "alloc.h"
#include "fault.h"
#include "hyperv.h"
#include "printf.h"
#include "report.h"
#include "smp.h"
#include "string.h"
#include "synic.h"
#include "timing.h"
#include "vmbus.h"
#include "x86.h"

/* Our own numbering of GPADLs starts here; any non-zero value would do */
#define VMBUS_FIRST_GPADL       0x00470000u

const uint32_t vmbus_versions[VMBUS_NR_VERSIONS] = {
    VMBUS_VERSION_5_3, VMBUS_VERSION_5_2, VMBUS_VERSION_5_1,
    VMBUS_VERSION_5_0, VMBUS_VERSION_4_1, VMBUS_VERSION_4_0,
    VMBUS_VERSION_3_0, VMBUS_VERSION_2_4,
};

uint32_t vmbus_contact_conn(uint32_t version)
{
    return version >= VMBUS_VERSION_5_0 ? VMBUS_MSG_CONN_CONTACT_V5 :
           VMBUS_MSG_CONN_LEGACY;
}

unsigned int vmbus_version_sint(const struct vmbus_client *c,
                                uint32_t version)
{
    return version >= VMBUS_VERSION_5_0 ? c->sint_v5 : VMBUS_SINT_LEGACY;
}

static void free_if(void **p)
{
    if (*p) {
        free_page(*p);
        *p = NULL;
    }
}

bool vmbus_client_init(struct vmbus_client *c, unsigned int sint_v5,
                       uint8_t vector)
{
    uint64_t vp = 0;

    memset(c, 0, sizeof(*c));
    c->cpu = smp_id();
    c->vector = vector;
    c->sint_v5 = sint_v5;
    c->sint = VMBUS_SINT_LEGACY;
    c->msg_conn = VMBUS_MSG_CONN_LEGACY;
    c->next_gpadl = VMBUS_FIRST_GPADL;
    if (sint_v5 >= HV_SINT_COUNT || !synic_slot(c->cpu, sint_v5) ||
        rdmsr_safe(HV_X64_MSR_VP_INDEX, &vp) != NO_FAULT) {
        return false;
    }
    c->vp_index = vp;
    c->interrupt_page = alloc_page();
    c->monitor_pages[0] = alloc_page();
    c->monitor_pages[1] = alloc_page();
    sint_irq_install(vector);
    if (!c->interrupt_page || !c->monitor_pages[0] || !c->monitor_pages[1] ||
        sint_program(VMBUS_SINT_LEGACY, vector, 0) != NO_FAULT ||
        sint_program(sint_v5, vector, 0) != NO_FAULT) {
        vmbus_client_fini(c);
        return false;
    }
    return true;
}

void vmbus_client_fini(struct vmbus_client *c)
{
    sint_reset(VMBUS_SINT_LEGACY);
    if (c->sint_v5 < HV_SINT_COUNT) {
        sint_reset(c->sint_v5);
    }
    free_if(&c->interrupt_page);
    free_if(&c->monitor_pages[0]);
    free_if(&c->monitor_pages[1]);
    c->version = 0;
}

uint16_t vmbus_post_raw(uint32_t conn, uint32_t hv_type, const void *msg,
                        uint32_t size)
{
    return hv_post_message_retry(conn, hv_type, msg, size);
}

uint16_t vmbus_post(struct vmbus_client *c, uint32_t type, const void *msg,
                    uint32_t size)
{
    uint8_t buf[HV_MESSAGE_PAYLOAD_SIZE] __attribute__((aligned(8)));

    memset(buf, 0, sizeof(buf));
    if (msg) {
        memcpy(buf, msg, size < sizeof(buf) ? size : sizeof(buf));
    }
    memcpy(buf, &type, sizeof(type));
    c->last_post_status = vmbus_post_raw(c->msg_conn, HV_MESSAGE_TYPE_VMBUS,
                                         buf, size);
    return c->last_post_status;
}

/* Copy a full slot out and give it back to the host. */
static int take_slot(struct hv_message *m, void *buf, uint32_t size,
                     uint32_t *hv_type)
{
    uint32_t type = msg_type(m);
    uint32_t len;
    uint8_t flags;

    /* the host fills the slot before it sets the type */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    len = m->header.payload_size;
    if (len > HV_MESSAGE_PAYLOAD_SIZE) {
        len = HV_MESSAGE_PAYLOAD_SIZE;
    }
    if (buf) {
        memset(buf, 0, size);
        memcpy(buf, m->payload, len < size ? len : size);
    }
    if (hv_type) {
        *hv_type = type;
    }
    /*
     * TLFS 11.9.3: empty the slot first, then look at msg_pending: if the
     * host found the slot busy it set the flag and waits for an EOM.
     */
    __atomic_store_n(&m->header.message_type, HV_MESSAGE_NONE,
                     __ATOMIC_SEQ_CST);
    flags = msg_flags(m);
    if (flags & HV_MESSAGE_FLAG_PENDING) {
        synic_eom();
    }
    return len;
}

int vmbus_recv_any(struct vmbus_client *c, void *buf, uint32_t size,
                   uint32_t *hv_type, uint64_t usec)
{
    struct hv_message *m = synic_slot(c->cpu, c->sint);

    if (!m || smp_id() != c->cpu ||
        !wait_for(msg_type(m) != HV_MESSAGE_NONE, usec)) {
        return -1;
    }
    return take_slot(m, buf, size, hv_type);
}

int vmbus_recv(struct vmbus_client *c, uint32_t type, void *buf,
               uint32_t size, uint64_t usec)
{
    struct hv_message *m = synic_slot(c->cpu, c->sint);
    uint8_t msg[HV_MESSAGE_PAYLOAD_SIZE] __attribute__((aligned(8)));
    struct wait_bound wb;

    if (!m || smp_id() != c->cpu) {
        return -1;
    }
    wait_bound_start(&wb, usec);
    for (;;) {
        uint32_t hv_type, got;
        int len;

        if (msg_type(m) == HV_MESSAGE_NONE) {
            if (wait_bound_expired(&wb)) {
                return -1;
            }
            cpu_relax();
            continue;
        }
        len = take_slot(m, msg, sizeof(msg), &hv_type);
        memcpy(&got, msg, sizeof(got));
        if (hv_type == HV_MESSAGE_TYPE_VMBUS &&
            len >= (int)sizeof(struct vmbus_msg_header) && got == type) {
            if (buf) {
                memset(buf, 0, size);
                memcpy(buf, msg, (uint32_t)len < size ? (uint32_t)len : size);
            }
            return len;
        }
        c->stray++;
        c->last_stray_type = hv_type == HV_MESSAGE_TYPE_VMBUS ? got :
                             hv_type | HV_MESSAGE_TYPE_HYPERVISOR;
    }
}

enum vmbus_contact_result vmbus_contact(struct vmbus_client *c,
                                        uint32_t version,
                                        struct vmbus_msg_version_response
                                        *resp)
{
    struct vmbus_msg_initiate_contact msg;
    struct vmbus_msg_version_response r;
    uint16_t st;

    memset(&msg, 0, sizeof(msg));
    msg.version = version;
    msg.target_vp = c->vp_index;
    if (version >= VMBUS_VERSION_5_0) {
        msg.v5.msg_sint = vmbus_version_sint(c, version);
    } else {
        msg.interrupt_page = virt_to_phys(c->interrupt_page);
    }
    msg.monitor_page1 = virt_to_phys(c->monitor_pages[0]);
    msg.monitor_page2 = virt_to_phys(c->monitor_pages[1]);

    /* a new contact ends whatever connection there was */
    c->version = 0;
    c->msg_conn = vmbus_contact_conn(version);
    c->sint = vmbus_version_sint(c, version);
    st = vmbus_post(c, VMBUS_MSG_INITIATE_CONTACT, &msg, sizeof(msg));
    if (st == HV_STATUS_INVALID_CONNECTION_ID) {
        return VMBUS_CONTACT_NO_CONN;
    }
    if (st != HV_STATUS_SUCCESS) {
        return VMBUS_CONTACT_POST_FAILED;
    }
    if (vmbus_recv(c, VMBUS_MSG_VERSION_RESPONSE, &r, sizeof(r),
                   VMBUS_REPLY_US) < 0) {
        return VMBUS_CONTACT_NO_ANSWER;
    }
    if (resp) {
        *resp = r;
    }
    if (!r.version_supported) {
        return VMBUS_CONTACT_REFUSED;
    }
    c->version = version;
    if (version >= VMBUS_VERSION_5_0) {
        c->msg_conn = r.msg_conn;
    }
    return VMBUS_CONTACT_ACCEPTED;
}

uint32_t vmbus_connect(struct vmbus_client *c)
{
    unsigned int i;

    for (i = 0; i < VMBUS_NR_VERSIONS; i++) {
        c->outcome[i] = VMBUS_CONTACT_NOT_TRIED;
    }
    for (i = 0; i < VMBUS_NR_VERSIONS; i++) {
        c->outcome[i] = vmbus_contact(c, vmbus_versions[i], NULL);
        if (c->outcome[i] == VMBUS_CONTACT_ACCEPTED) {
            return c->version;
        }
    }
    return 0;
}

bool vmbus_request_offers(struct vmbus_client *c)
{
    uint8_t msg[HV_MESSAGE_PAYLOAD_SIZE] __attribute__((aligned(8)));
    struct wait_bound wb;

    c->nr_offers = 0;
    c->offers_dropped = 0;
    c->short_offers = 0;
    if (vmbus_post(c, VMBUS_MSG_REQUESTOFFERS, NULL,
                   sizeof(struct vmbus_msg_header)) != HV_STATUS_SUCCESS) {
        return false;
    }
    wait_bound_start(&wb, VMBUS_REPLY_US);
    for (;;) {
        uint32_t hv_type, type;
        int len = vmbus_recv_any(c, msg, sizeof(msg), &hv_type,
                                 VMBUS_REPLY_US);

        if (len < 0 || wait_bound_expired(&wb)) {
            return false;
        }
        memcpy(&type, msg, sizeof(type));
        if (hv_type != HV_MESSAGE_TYPE_VMBUS ||
            len < (int)sizeof(struct vmbus_msg_header)) {
            c->stray++;
            c->last_stray_type = hv_type | HV_MESSAGE_TYPE_HYPERVISOR;
        } else if (type == VMBUS_MSG_ALLOFFERS_DELIVERED) {
            return true;
        } else if (type != VMBUS_MSG_OFFERCHANNEL) {
            c->stray++;
            c->last_stray_type = type;
        } else if (c->nr_offers == VMBUS_MAX_OFFERS) {
            c->offers_dropped++;
        } else {
            if (len < (int)sizeof(struct vmbus_msg_offer)) {
                c->short_offers++;
            }
            memcpy(&c->offers[c->nr_offers++], msg,
                   sizeof(struct vmbus_msg_offer));
        }
    }
}

bool vmbus_guid_equal(const struct vmbus_guid *a, const struct vmbus_guid *b)
{
    return !memcmp(a->b, b->b, sizeof(a->b));
}

const struct vmbus_msg_offer *vmbus_find_offer(const struct vmbus_client *c,
                                               const struct vmbus_guid *class)
{
    unsigned int i;

    for (i = 0; i < c->nr_offers; i++) {
        if (vmbus_guid_equal(&c->offers[i].class_id, class)) {
            return &c->offers[i];
        }
    }
    return NULL;
}

unsigned int vmbus_gpadl_messages(unsigned int npages)
{
    unsigned int rest;

    if (npages <= VMBUS_GPADL_HEADER_PFNS) {
        return 1;
    }
    rest = npages - VMBUS_GPADL_HEADER_PFNS;
    return 1 + (rest + VMBUS_GPADL_BODY_PFNS - 1) / VMBUS_GPADL_BODY_PFNS;
}

uint32_t vmbus_gpadl_id(struct vmbus_client *c)
{
    if (!c->next_gpadl) {
        c->next_gpadl = VMBUS_FIRST_GPADL;
    }
    return c->next_gpadl++;
}

bool vmbus_gpadl_create(struct vmbus_client *c, uint32_t relid, uint32_t id,
                        const uint64_t *pfns, unsigned int npages,
                        struct vmbus_msg_gpadl_created *created)
{
    union {
        uint8_t bytes[HV_MESSAGE_PAYLOAD_SIZE];
        struct vmbus_msg_gpadl_header hdr;
        struct vmbus_msg_gpadl_body body;
    } msg __attribute__((aligned(8)));
    unsigned int n, done, number = 0;
    uint32_t range_bytes = sizeof(struct vmbus_gpa_range) +
                           npages * sizeof(uint64_t);
    struct vmbus_gpa_range *range = msg.hdr.range;

    if (!npages || range_bytes > UINT16_MAX) {
        return false;
    }
    memset(&msg, 0, sizeof(msg));
    n = npages < VMBUS_GPADL_HEADER_PFNS ? npages : VMBUS_GPADL_HEADER_PFNS;
    msg.hdr.child_relid = relid;
    msg.hdr.gpadl = id;
    msg.hdr.range_bytes = range_bytes;
    msg.hdr.range_count = 1;
    range->byte_count = npages * VMBUS_PAGE_SIZE;
    range->byte_offset = 0;
    memcpy(range->pfn, pfns, n * sizeof(uint64_t));
    if (vmbus_post(c, VMBUS_MSG_GPADL_HEADER, &msg,
                   sizeof(msg.hdr) + sizeof(*range) + n * sizeof(uint64_t)) !=
        HV_STATUS_SUCCESS) {
        return false;
    }
    for (done = n; done < npages; done += n) {
        n = npages - done;
        if (n > VMBUS_GPADL_BODY_PFNS) {
            n = VMBUS_GPADL_BODY_PFNS;
        }
        memset(&msg, 0, sizeof(msg));
        msg.body.message_number = ++number;
        msg.body.gpadl = id;
        memcpy(msg.body.pfn, pfns + done, n * sizeof(uint64_t));
        if (vmbus_post(c, VMBUS_MSG_GPADL_BODY, &msg,
                       sizeof(msg.body) + n * sizeof(uint64_t)) !=
            HV_STATUS_SUCCESS) {
            return false;
        }
    }
    return vmbus_recv(c, VMBUS_MSG_GPADL_CREATED, created, sizeof(*created),
                      VMBUS_REPLY_US) >= 0;
}

bool vmbus_gpadl_teardown(struct vmbus_client *c, uint32_t relid, uint32_t id,
                          struct vmbus_msg_gpadl_torndown *torndown)
{
    struct vmbus_msg_gpadl_teardown msg = {
        .child_relid = relid,
        .gpadl = id,
    };

    if (vmbus_post(c, VMBUS_MSG_GPADL_TEARDOWN, &msg, sizeof(msg)) !=
        HV_STATUS_SUCCESS) {
        return false;
    }
    return vmbus_recv(c, VMBUS_MSG_GPADL_TORNDOWN, torndown,
                      sizeof(*torndown), VMBUS_REPLY_US) >= 0;
}

bool vmbus_open_channel(struct vmbus_client *c, uint32_t relid,
                        uint32_t open_id, uint32_t gpadl,
                        uint32_t recv_ring_page,
                        struct vmbus_msg_open_result *result)
{
    struct vmbus_msg_open_channel msg;

    memset(&msg, 0, sizeof(msg));
    msg.child_relid = relid;
    msg.open_id = open_id;
    msg.ring_gpadl = gpadl;
    msg.target_vp = c->vp_index;
    msg.recv_ring_page = recv_ring_page;
    if (vmbus_post(c, VMBUS_MSG_OPENCHANNEL, &msg, sizeof(msg)) !=
        HV_STATUS_SUCCESS) {
        return false;
    }
    return vmbus_recv(c, VMBUS_MSG_OPENCHANNEL_RESULT, result,
                      sizeof(*result), VMBUS_REPLY_US) >= 0;
}

uint16_t vmbus_close_channel(struct vmbus_client *c, uint32_t relid)
{
    struct vmbus_msg_close_channel msg = { .child_relid = relid };

    return vmbus_post(c, VMBUS_MSG_CLOSECHANNEL, &msg, sizeof(msg));
}

bool vmbus_unload(struct vmbus_client *c)
{
    bool ok = vmbus_post(c, VMBUS_MSG_UNLOAD, NULL,
                         sizeof(struct vmbus_msg_header)) ==
              HV_STATUS_SUCCESS &&
              vmbus_recv(c, VMBUS_MSG_UNLOAD_RESPONSE, NULL, 0,
                         VMBUS_REPLY_US) >= 0;

    c->version = 0;
    return ok;
}

bool vmbus_ring_alloc(struct vmbus_ring_pages *r, unsigned int send_pages,
                      unsigned int recv_pages, uint64_t *pfns)
{
    unsigned int i, n = send_pages + recv_pages;

    memset(r, 0, sizeof(*r));
    if (send_pages < 2 || recv_pages < 2 ||
        n > sizeof(r->page) / sizeof(r->page[0])) {
        return false;
    }
    r->send_pages = send_pages;
    r->recv_pages = recv_pages;
    for (i = 0; i < n; i++) {
        r->page[i] = alloc_page();
        if (!r->page[i]) {
            vmbus_ring_free(r);
            return false;
        }
        pfns[i] = virt_to_phys(r->page[i]) >> VMBUS_PAGE_SHIFT;
    }
    /*
     * Fresh pages are zero: both rings empty, interrupts wanted.  Say
     * that we honour pending_send_sz, as guests do.
     */
    vmbus_ring_send_hdr(r)->feature_bits = VMBUS_RING_FEAT_PENDING_SEND_SZ;
    vmbus_ring_recv_hdr(r)->feature_bits = VMBUS_RING_FEAT_PENDING_SEND_SZ;
    return true;
}

bool vmbus_open_checked(struct vmbus_client *c, uint32_t relid,
                        struct vmbus_ring_pages *ring, unsigned int pages,
                        uint32_t *gpadl, const char *what)
{
    struct vmbus_msg_gpadl_created created = {};
    struct vmbus_msg_open_result res = {};
    uint64_t pfns[sizeof(ring->page) / sizeof(ring->page[0])];
    uint32_t open_id = relid ^ 0x4f50454eu;
    const char *failed = NULL;

    *gpadl = vmbus_gpadl_id(c);
    if (!vmbus_ring_alloc(ring, pages, pages, pfns)) {
        failed = "ring pages";
    } else if (!vmbus_gpadl_create(c, relid, *gpadl, pfns, 2 * pages,
                                   &created) ||
               created.status || created.gpadl != *gpadl) {
        failed = "GPADL";
    } else if (!vmbus_open_channel(c, relid, open_id, *gpadl, pages, &res) ||
               res.status || res.child_relid != relid ||
               res.open_id != open_id) {
        failed = "OPENCHANNEL";
    }
    return report(!failed, "%s: relid %u opens on ring GPADL 0x%x of 2 x %u "
                  "pages (failed: %s; GPADL status 0x%x, open status 0x%x)",
                  what, relid, *gpadl, pages, failed ? failed : "none",
                  created.status, res.status);
}

void vmbus_ring_free(struct vmbus_ring_pages *r)
{
    unsigned int i;

    for (i = 0; i < sizeof(r->page) / sizeof(r->page[0]); i++) {
        free_if(&r->page[i]);
    }
}

struct vmbus_ring_header *vmbus_ring_send_hdr(struct vmbus_ring_pages *r)
{
    return r->page[0];
}

struct vmbus_ring_header *vmbus_ring_recv_hdr(struct vmbus_ring_pages *r)
{
    return r->page[r->send_pages];
}

/* Byte off of a ring's data area: its pages need not be contiguous */
static uint8_t *ring_data_byte(struct vmbus_ring_pages *r, bool send,
                               uint32_t off)
{
    unsigned int first = send ? 1 : r->send_pages + 1;

    return (uint8_t *)r->page[first + off / VMBUS_PAGE_SIZE] +
           off % VMBUS_PAGE_SIZE;
}

uint32_t vmbus_ring_data_size(const struct vmbus_ring_pages *r, bool send)
{
    return ((send ? r->send_pages : r->recv_pages) - 1) * VMBUS_PAGE_SIZE;
}

bool vmbus_ring_put(struct vmbus_ring_pages *r, const void *payload,
                    uint32_t len, uint64_t trans_id)
{
    struct vmbus_ring_header *h = vmbus_ring_send_hdr(r);
    const uint32_t data = vmbus_ring_data_size(r, true);
    uint32_t w = h->write_index;
    uint32_t rd = __atomic_load_n(&h->read_index, __ATOMIC_ACQUIRE);
    uint32_t total = 16 + ((len + 7) & ~7u);
    uint32_t free_bytes = rd > w ? rd - w : data - w + rd;
    uint8_t desc[16] = { 6 };       /* in-band data */
    uint64_t trailer = (uint64_t)w << 32;
    uint32_t i;

    /* Never full to the last byte: equal indexes mean empty. */
    if (w >= data || w % 8 || rd >= data || total / 8 > 0xffff ||
        total + 8 >= free_bytes) {
        return false;
    }
    desc[2] = 2;                    /* the descriptor: 16 bytes */
    desc[4] = (total / 8) & 0xff;
    desc[5] = (total / 8) >> 8;
    memcpy(desc + 8, &trans_id, sizeof(trans_id));
    for (i = 0; i < total + 8; i++) {
        uint8_t b = i < 16 ? desc[i] :
                    i < 16 + len ? ((const uint8_t *)payload)[i - 16] :
                    i < total ? 0 : ((uint8_t *)&trailer)[i - total];

        *ring_data_byte(r, true, (w + i) % data) = b;
    }
    __atomic_store_n(&h->write_index, (w + total + 8) % data,
                     __ATOMIC_RELEASE);
    return true;
}

int vmbus_ring_get(struct vmbus_ring_pages *r, void *buf, uint32_t size)
{
    struct vmbus_ring_header *h = vmbus_ring_recv_hdr(r);
    const uint32_t data = vmbus_ring_data_size(r, false);
    uint32_t rd = h->read_index;
    uint32_t w = __atomic_load_n(&h->write_index, __ATOMIC_ACQUIRE);
    uint32_t avail, hdr, total, i;
    uint8_t desc[16];

    if (rd == w || rd >= data || w >= data || rd % 8) {
        return -1;
    }
    avail = w > rd ? w - rd : data - rd + w;
    for (i = 0; i < sizeof(desc); i++) {
        desc[i] = *ring_data_byte(r, false, (rd + i) % data);
    }
    hdr = desc[2] * 8u;
    total = (desc[4] | desc[5] << 8) * 8u;
    if (hdr < 16 || hdr > total || total + 8 > avail) {
        return -1;
    }
    memset(buf, 0, size);
    for (i = 0; i < total - hdr && i < size; i++) {
        ((uint8_t *)buf)[i] = *ring_data_byte(r, false, (rd + hdr + i) % data);
    }
    __atomic_store_n(&h->read_index, (rd + total + 8) % data,
                     __ATOMIC_RELEASE);
    return total - hdr;
}

int vmbus_ring_call(struct vmbus_ring_pages *r, uint32_t conn,
                    const void *out, uint32_t len, uint64_t trans, void *in,
                    uint32_t size, uint64_t usec)
{
    struct wait_bound wb;
    int got;

    if (!vmbus_ring_put(r, out, len, trans) ||
        hv_signal_event(conn, 0) != HV_STATUS_SUCCESS) {
        return -1;
    }
    wait_bound_start(&wb, usec);
    do {
        got = vmbus_ring_get(r, in, size);
    } while (got < 0 && !wait_bound_expired(&wb));
    return got;
}

const char *vmbus_guid_str(const struct vmbus_guid *g, char *buf)
{
    const uint8_t *b = g->b;

    snprintf(buf, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9],
             b[10], b[11], b[12], b[13], b[14], b[15]);
    return buf;
}

const char *vmbus_version_str(uint32_t version, char *buf)
{
    snprintf(buf, 12, "%u.%u", VMBUS_VERSION_MAJOR(version),
             VMBUS_VERSION_MINOR(version));
    return buf;
}

bool vmbus_parse_version(const char *s, uint32_t *version)
{
    const char *dot;
    unsigned long major, minor;

    if (!s) {
        return false;
    }
    for (dot = s; *dot && *dot != '.'; dot++) {
        continue;
    }
    if (*dot != '.' || !parse_ulong(s, dot - s, &major) ||
        !parse_ulong(dot + 1, strlen(dot + 1), &minor) ||
        major > 0xffff || minor > 0xffff) {
        return false;
    }
    *version = VMBUS_VERSION(major, minor);
    return true;
}

void vmbus_contact_fill(const struct vmbus_client *c, uint32_t version,
                        struct vmbus_msg_initiate_contact *msg)
{
    memset(msg, 0, sizeof(*msg));
    msg->header.type = VMBUS_MSG_INITIATE_CONTACT;
    msg->version = version;
    msg->target_vp = c->vp_index;
    if (version >= VMBUS_VERSION_5_0) {
        msg->v5.msg_sint = vmbus_version_sint(c, version);
    } else {
        msg->interrupt_page = virt_to_phys(c->interrupt_page);
    }
    msg->monitor_page1 = virt_to_phys(c->monitor_pages[0]);
    msg->monitor_page2 = virt_to_phys(c->monitor_pages[1]);
}

unsigned int vmbus_drain(struct vmbus_client *c, uint64_t quiet_us,
                         unsigned int max)
{
    unsigned int n = 0;

    while (n < max && vmbus_recv_any(c, NULL, 0, NULL, quiet_us) >= 0) {
        n++;
    }
    return n;
}
