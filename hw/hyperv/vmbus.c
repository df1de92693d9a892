/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The VMBus host: Hyper-V's device bus, on the SynIC of hw/hyperv/synic.c.
 *
 * The guest talks to the bus with channel management messages: it posts
 * them with HvPostMessage on the bus's message connections, and the bus
 * answers in the message slot of the SINT and vCPU the guest named when
 * it connected.  Devices (VMBusDevice) own channels; a channel carries
 * packets in two rings that live in a GPADL of the guest's, and each side
 * tells the other to look with an event: HvSignalEvent on the channel's
 * connection from the guest, an event flag (the channel's relid) from
 * the host.  The rings and the GPADLs have files of their own
 * (vmbus-ring.c, vmbus-gpadl.c); docs/devel/vmbus.md has the decisions.
 *
 * Threads: HvPostMessage reaches vmbus_msg_handler() on a vCPU thread; it
 * only queues a copy (a bounded queue: a full one answers
 * HV_STATUS_INSUFFICIENT_BUFFERS, which guests retry).  Everything else
 * runs in the main loop with the BQL: the queue is drained by a bottom
 * half, device notifications come through event notifiers.
 *
 * Every value from the guest is checked before use.  What breaks the
 * protocol is dropped or refused with a trace event and a rate-limited
 * guest error; a corrupt ring fails its channel only.
 */

#include "qemu/osdep.h"
#include "qemu/bitmap.h"
#include "exec/address-spaces.h"      /* devices' DMA address space */
#include "hw/hotplug.h"
#include "hw/hyperv/hv-ic.h"            /* the standard set */
#include "hw/hyperv/hv-log.h"           /* rate-limited guest errors */
#include "hw/hyperv/hyperv.h"
#include "hw/hyperv/vmbus-bridge.h"
#include "hw/hyperv/vmbus.h"            /* the device API */
#include "hw/hyperv/vmbus-subchannel.h"
#include "hw/qdev-properties-system.h"  /* UUID properties */
#include "hw/qdev-properties.h"
#include "hw/sysbus.h"
#include "migration/qemu-file-types.h"     /* QEMU 10.0.2's GPADL list */
#include "migration/vmstate.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-machine.h"    /* query-vmbus */
#include "qemu/error-report.h"          /* migration errors only */
#include "qemu/main-loop.h"
#include "qemu/uuid.h"
#include "hw/hyperv/vmbus-gpadl.h"
#include "hw/hyperv/vmbus-ring.h"
#include "system/dma.h"
#include "system/runstate.h"
#include "trace.h"

/* Relids are event flag numbers: 1 .. 2047 (bit 0 is not used). */
#define VMBUS_MAX_RELID         2047
/* The guest signals channel N on connection VMBUS_CHAN_CONN_BASE + N. */
#define VMBUS_CHAN_CONN_BASE    0x10000
/* Guest messages waiting for the main loop. */
#define VMBUS_RX_MAX            64
/* Answers waiting for a free slot above which guest requests wait too. */
#define VMBUS_TX_BACKLOG        64

static const uint32_t vmbus_versions[] = {
    VMBUS_VERSION_V5_3, VMBUS_VERSION_V5_2, VMBUS_VERSION_V5_1,
    VMBUS_VERSION_V5_0, VMBUS_VERSION_WIN10_RS3, VMBUS_VERSION_WIN10,
    VMBUS_VERSION_WIN8_1, VMBUS_VERSION_WIN8,
};

typedef struct VMBusMsgBuf {
    QSIMPLEQ_ENTRY(VMBusMsgBuf) link;
    uint64_t seq;               /* to the guest: tells acks apart */
    uint32_t len;
    uint8_t data[HV_MESSAGE_PAYLOAD_SIZE];
} VMBusMsgBuf;

/* Migration: copies of the state, made at pre_save, checked at post_load. */
typedef struct VMBusChanMig {
    uint32_t relid;
    uint32_t state;
    uint32_t open_id;
    uint32_t target_vp;
    uint32_t ring_gpadl;
    uint32_t host_ring_page;
    uint32_t guest_own;
    uint32_t host_own;
    uint32_t host_reserved;
    bool failed;
    bool rescinded;
    bool reoffer;               /* a subsection: only when set */
    bool enabled;               /* a subsection: only when either is set */
    bool revoked;
} VMBusChanMig;

typedef struct VMBusGpadlMig {
    uint32_t id;
    uint32_t relid;
    uint32_t nwords;            /* 2 per range: offset, count */
    uint32_t npages;
    uint32_t filled;
    uint8_t complete;
    uint8_t teardown;
    uint32_t *range_words;
    uint64_t *pfns;
} VMBusGpadlMig;

/*
 * QEMU 10.0.2's stream (bridge version 0), read as it comes and turned
 * into ours at post_load (vmbus_old_post_load()).
 */
#define VMBUS_OLD_RX_LEN        16

typedef struct VMBusOldGpadl {
    uint32_t id;
    uint32_t relid;
    uint32_t npages;
    uint32_t seen;
    uint64_t *pfns;
    uint8_t state;
} VMBusOldGpadl;

typedef struct VMBusOldMsg {
    uint32_t len;
    uint8_t data[HV_MESSAGE_PAYLOAD_SIZE];
} VMBusOldMsg;

typedef struct VMBusOld {
    uint8_t state;
    uint32_t version;
    uint32_t target_vp;
    uint64_t int_page;
    uint32_t ngpadls;
    uint64_t npages;            /* in all of them */
    VMBusOldGpadl *gpadls;
    uint8_t rx_head;
    uint8_t rx_size;
    VMBusOldMsg rx[VMBUS_OLD_RX_LEN];
} VMBusOld;

typedef struct VMBusMig {
    uint32_t state;
    uint32_t version;
    uint32_t target_vp;
    uint32_t sint;
    int32_t nchans;
    VMBusChanMig *chans;
    int32_t ngpadls;
    VMBusGpadlMig *gpadls;
    int32_t nmsgs;
    VMBusMsgBuf *msgs;          /* queued to the guest, then from it */
    uint32_t ntx;
    VMBusOld old;
} VMBusMig;

typedef enum VMBusState {
    VMBUS_DISCONNECTED,
    VMBUS_CONNECTED,        /* version agreed, offers not asked for yet */
    VMBUS_OFFERED,          /* offers sent: channels are the guest's */
} VMBusState;

typedef enum VMBusChanState {
    VMBUS_CHAN_NEW,         /* not offered (yet) */
    VMBUS_CHAN_OFFERED,     /* offered, closed */
    VMBUS_CHAN_OPEN,
} VMBusChanState;

struct VMBusChannel {
    VMBusDevice *dev;
    VMBus *bus;
    uint16_t idx;               /* in the device: 0 primary, then sub */
    uint32_t relid;
    uint32_t conn_id;
    VMBusChanState state;
    bool rescinded;             /* rescind sent, RELID_RELEASED to come */
    bool reoffer;               /* and then offered again (not unplugged) */
    /*
     * Sub-channels (idx > 0) are offered only once their device asks
     * (vmbus_device_enable_subchannels()), and revoked, that is
     * rescinded without the device leaving, when the guest closes the
     * primary channel.
     */
    bool enabled;
    bool revoked;
    /* On the primary: device_del asked; the device offers nothing more. */
    bool leaving;
    /* Open: what OPENCHANNEL said, and the rings. */
    uint32_t open_id;
    uint32_t target_vp;
    uint32_t ring_gpadl_id;
    uint32_t host_ring_page;
    VMBusGpadl *ring_gpadl;
    VMBusRing guest_ring;       /* guest to host: we read it */
    VMBusRing host_ring;        /* host to guest: we write it */
    uint32_t rx_popped;         /* bytes taken since vmbus_channel_recv_start */
    bool failed;
    HvSintRoute *route;
    EventNotifier notifier;
    bool notifier_on;
};

struct VMBus {
    BusState parent;
    VMBusState state;
    uint32_t version;
    uint32_t target_vp;
    uint32_t sint;
    HvSintRoute *route;         /* messages to the guest */
    VMBusGpadlSet gpadls;
    unsigned long relids[BITS_TO_LONGS(VMBUS_MAX_RELID + 1)];

    QemuMutex rx_lock;
    QSIMPLEQ_HEAD(, VMBusMsgBuf) rx;    /* from the guest, under rx_lock */
    unsigned rx_count;
    QEMUBH *bh;

    QSIMPLEQ_HEAD(, VMBusMsgBuf) tx;    /* to the guest, head in flight */
    unsigned tx_count;
    uint64_t tx_seq;
    /*
     * A post is in flight on the route: the head of the queue (if
     * tx_inflight is its seq), or a message already dropped (0), whose
     * completion only says the route is free again.
     */
    bool tx_busy;
    uint64_t tx_inflight;

    VMBusMig *mig;              /* the migration stream's copy */
    /*
     * From QEMU 10.0.2's stream: the guest is taken to have its offers,
     * but one more REQUESTOFFERS is answered (vmbus_request_offers()).
     */
    bool offers_implied;
    bool resetting;             /* devices are reset by their own means */
};

static void vmbus_kick(VMBus *bus)
{
    qemu_bh_schedule(bus->bh);
}

/* --- to the guest ----------------------------------------------------- */

static void vmbus_tx_done(void *opaque, int status)
{
    VMBus *bus = opaque;
    VMBusMsgBuf *m = QSIMPLEQ_FIRST(&bus->tx);

    trace_vmbus_tx_done(status);
    if (!bus->tx_busy) {
        return;         /* from a route that is gone */
    }
    if (bus->tx_inflight) {
        if (!m || m->seq != bus->tx_inflight) {
            return;     /* from a route that is gone */
        }
        if (status != -EAGAIN) {
            /* Delivered, or the guest has no message page: done. */
            QSIMPLEQ_REMOVE_HEAD(&bus->tx, link);
            bus->tx_count--;
            g_free(m);
        }
    }
    bus->tx_busy = false;
    bus->tx_inflight = 0;
    vmbus_kick(bus);
}

/* Queue a message to the guest; the bottom half sends it. */
static void vmbus_send(VMBus *bus, const void *msg, uint32_t len)
{
    VMBusMsgBuf *m;

    assert(len <= HV_MESSAGE_PAYLOAD_SIZE);
    if (!bus->route) {
        return;         /* not connected: nobody to send to */
    }
    m = g_new0(VMBusMsgBuf, 1);
    m->seq = ++bus->tx_seq;
    m->len = len;
    memcpy(m->data, msg, len);
    QSIMPLEQ_INSERT_TAIL(&bus->tx, m, link);
    bus->tx_count++;
    trace_vmbus_tx_queue(((const VMBusMsgHdr *)msg)->type, len);
    vmbus_kick(bus);
}

static void vmbus_tx_clear(VMBus *bus)
{
    VMBusMsgBuf *m;

    while ((m = QSIMPLEQ_FIRST(&bus->tx))) {
        QSIMPLEQ_REMOVE_HEAD(&bus->tx, link);
        g_free(m);
    }
    bus->tx_count = 0;
    /* A post in flight stays so: its completion frees the route. */
    bus->tx_inflight = 0;
}

/* Post the head of the queue, if the route is free. */
static void vmbus_tx_run(VMBus *bus)
{
    struct hyperv_message hm;
    VMBusMsgBuf *m = QSIMPLEQ_FIRST(&bus->tx);
    int ret;

    if (!m || bus->tx_busy || !bus->route) {
        return;
    }
    memset(&hm, 0, sizeof(hm));
    hm.header.message_type = VMBUS_HV_MESSAGE_TYPE;
    hm.header.payload_size = m->len;
    memcpy(hm.payload, m->data, m->len);
    ret = hyperv_post_msg(bus->route, &hm);
    trace_vmbus_tx_post(le32_to_cpu(((VMBusMsgHdr *)m->data)->type), ret);
    if (ret == -EAGAIN) {
        /* An earlier post is still staged there: its completion kicks. */
        bus->tx_busy = true;
        bus->tx_inflight = 0;
    } else if (ret < 0) {
        QSIMPLEQ_REMOVE_HEAD(&bus->tx, link);
        bus->tx_count--;
        g_free(m);
        vmbus_kick(bus);
    } else {
        bus->tx_busy = true;
        bus->tx_inflight = m->seq;
    }
}

/* --- channels ----------------------------------------------------------- */

static VMBusChannel *vmbus_find_channel(VMBus *bus, uint32_t relid)
{
    BusChild *kid;

    if (!relid || relid > VMBUS_MAX_RELID || !test_bit(relid, bus->relids)) {
        return NULL;
    }
    QTAILQ_FOREACH(kid, &bus->parent.children, sibling) {
        VMBusDevice *dev = VMBUS_DEVICE(kid->child);
        int i;

        for (i = 0; i < dev->num_channels; i++) {
            if (dev->channels[i].relid == relid) {
                return &dev->channels[i];
            }
        }
    }
    return NULL;
}

static void vmbus_offer(VMBusChannel *chan)
{
    VMBusDeviceClass *vdc = VMBUS_DEVICE_GET_CLASS(chan->dev);
    VMBusMsgOffer o = {
        .hdr.type = VMBUS_MSG_OFFERCHANNEL,
        .flags = vdc->channel_flags,
        .mmio_mb = vdc->mmio_size_mb,
        .sub_idx = chan->idx,
        .relid = chan->relid,
        .interrupt_flags = VMBUS_OFFER_DEDICATED_INTERRUPT,
        .conn_id = chan->conn_id,
    };
    QemuUUID wire;

    /* A pipe channel in message mode: each packet is one message. */
    if (vdc->channel_flags & VMBUS_CHANNEL_NAMED_PIPE_MODE) {
        stl_le_p(o.user_data, VMBUS_PIPE_TYPE_MESSAGE);
    }
    wire = qemu_uuid_bswap(vdc->classid);
    memcpy(o.class_id, &wire, sizeof(o.class_id));
    wire = qemu_uuid_bswap(chan->dev->instanceid);
    memcpy(o.instance_id, &wire, sizeof(o.instance_id));
    chan->state = VMBUS_CHAN_OFFERED;
    trace_vmbus_offer(chan->relid, chan->idx);
    vmbus_send(chan->bus, &o, sizeof(o));
}

/* Tell the guest @chan is gone; RELID_RELEASED is to come. */
static void vmbus_rescind(VMBusChannel *chan)
{
    VMBusMsgRelid r = {
        .hdr.type = VMBUS_MSG_RESCIND_CHANNELOFFER,
        .relid = chan->relid,
    };

    chan->rescinded = true;
    trace_vmbus_rescind(chan->relid);
    vmbus_send(chan->bus, &r, sizeof(r));
}

static void vmbus_channel_guest_notify(EventNotifier *n);

/* Close an open channel: the device first, then the rings. */
static void vmbus_channel_close(VMBusChannel *chan)
{
    VMBusDeviceClass *vdc = VMBUS_DEVICE_GET_CLASS(chan->dev);
    VMBusGpadl *g = chan->ring_gpadl;

    if (chan->state != VMBUS_CHAN_OPEN) {
        return;
    }
    if (vdc->close_channel) {
        vdc->close_channel(chan);
    }
    hyperv_set_event_flag_handler(chan->conn_id, NULL);
    event_notifier_set_handler(&chan->notifier, NULL);
    chan->notifier_on = false;
    hyperv_sint_route_unref(chan->route);
    chan->route = NULL;
    chan->ring_gpadl = NULL;
    chan->failed = false;
    chan->state = VMBUS_CHAN_OFFERED;
    trace_vmbus_close(chan->relid);
    if (g) {
        g->refs--;
        if (!g->refs && g->teardown) {
            VMBusMsgGpadlTorndown t = {
                .hdr.type = VMBUS_MSG_GPADL_TORNDOWN,
                .gpadl = g->id,
            };

            vmbus_gpadl_free(&chan->bus->gpadls, g);
            vmbus_send(chan->bus, &t, sizeof(t));
        }
    }
}

/*
 * The guest closed @chan (or gave up the bus): once no channel of its
 * device is open, the device starts afresh, ready to be opened again.
 */
static void vmbus_channel_close_reset(VMBusChannel *chan)
{
    VMBusDevice *dev = chan->dev;
    bool was_open = chan->state == VMBUS_CHAN_OPEN;
    int i;

    vmbus_channel_close(chan);
    if (!was_open || chan->bus->resetting) {
        return;
    }
    for (i = 0; i < dev->num_channels; i++) {
        if (dev->channels[i].state == VMBUS_CHAN_OPEN) {
            return;
        }
    }
    device_cold_reset(DEVICE(dev));
}

/* A ring broke a rule: the channel stops, the rest of the bus goes on. */
static void vmbus_channel_fail(VMBusChannel *chan, const char *why)
{
    if (chan->failed) {
        return;
    }
    chan->failed = true;
    trace_vmbus_channel_failed(chan->relid, why);
    hv_guest_error("vmbus: channel %u stopped: %s", chan->relid, why);
}

static bool vmbus_ring_check(VMBusChannel *chan, VMBusRing *r)
{
    if (vmbus_ring_broken(r)) {
        vmbus_channel_fail(chan, vmbus_ring_broken(r));
        return false;
    }
    return true;
}

/* Ring access: @off bytes into the ring that starts at GPADL page @first. */
static bool vmbus_ring_access(VMBusChannel *chan, uint32_t first,
                              uint32_t off, void *buf, uint32_t len,
                              bool write)
{
    VMBusGpadl *g = chan->ring_gpadl;
    AddressSpace *as = chan->dev->dma_as;

    while (len) {
        uint32_t page = first + off / VMBUS_GPADL_PAGE_SIZE;
        uint32_t in = off % VMBUS_GPADL_PAGE_SIZE;
        uint32_t n = MIN(len, VMBUS_GPADL_PAGE_SIZE - in);
        hwaddr gpa;

        if (!g || page >= g->npages) {
            return false;
        }
        gpa = g->pfns[page] * VMBUS_GPADL_PAGE_SIZE + in;
        if (address_space_rw(as, gpa, MEMTXATTRS_UNSPECIFIED, buf, n,
                             write) != MEMTX_OK) {
            return false;
        }
        buf = (uint8_t *)buf + n;
        off += n;
        len -= n;
    }
    return true;
}

static bool vmbus_guest_ring_access(void *opaque, uint32_t off, void *buf,
                                    uint32_t len, bool write)
{
    return vmbus_ring_access(opaque, 0, off, buf, len, write);
}

static bool vmbus_host_ring_access(void *opaque, uint32_t off, void *buf,
                                   uint32_t len, bool write)
{
    VMBusChannel *chan = opaque;

    return vmbus_ring_access(chan, chan->host_ring_page, off, buf, len, write);
}

/* Set the channel's event flag in the guest's target vCPU. */
static void vmbus_channel_signal_guest(VMBusChannel *chan)
{
    if (chan->route) {
        trace_vmbus_signal_guest(chan->relid);
        hyperv_set_event_flag(chan->route, chan->relid);
    }
}

static void vmbus_channel_guest_notify(EventNotifier *n)
{
    VMBusChannel *chan = container_of(n, VMBusChannel, notifier);
    VMBusDeviceClass *vdc = VMBUS_DEVICE_GET_CLASS(chan->dev);

    if (!event_notifier_test_and_clear(n)) {
        return;
    }
    trace_vmbus_signal_host(chan->relid);
    if (chan->state == VMBUS_CHAN_OPEN && !chan->failed &&
        vdc->chan_notify_cb) {
        vdc->chan_notify_cb(chan);
    }
}

/* --- the device API (include/hw/hyperv/vmbus.h) ------------------------ */

VMBusDevice *vmbus_channel_device(VMBusChannel *chan)
{
    return chan->dev;
}

VMBusChannel *vmbus_device_channel(VMBusDevice *dev, uint32_t chan_idx)
{
    return chan_idx < dev->num_channels ? &dev->channels[chan_idx] : NULL;
}

uint32_t vmbus_channel_idx(VMBusChannel *chan)
{
    return chan->idx;
}

bool vmbus_channel_is_open(VMBusChannel *chan)
{
    return chan->state == VMBUS_CHAN_OPEN;
}

void vmbus_channel_notify_host(VMBusChannel *chan)
{
    event_notifier_set(&chan->notifier);
}

static bool vmbus_channel_usable(VMBusChannel *chan)
{
    return chan->state == VMBUS_CHAN_OPEN && !chan->failed;
}

int vmbus_channel_reserve(VMBusChannel *chan, uint32_t desclen,
                          uint32_t msglen)
{
    int ret;

    if (!vmbus_channel_usable(chan)) {
        return -EIO;
    }
    ret = vmbus_ring_reserve(&chan->host_ring,
                             vmbus_ring_packet_len(sizeof(VMBusPacketDesc) +
                                                   desclen + msglen));
    if (ret == -EIO) {
        vmbus_ring_check(chan, &chan->host_ring);
    }
    return ret;
}

ssize_t vmbus_channel_send(VMBusChannel *chan, uint16_t pkt_type,
                           void *desc, uint32_t desclen,
                           void *msg, uint32_t msglen,
                           bool need_comp, uint64_t transaction_id)
{
    uint32_t hdrlen = sizeof(VMBusPacketDesc) + desclen;
    uint32_t total = ROUND_UP(hdrlen + msglen, 8);
    VMBusPacketDesc d = {
        .type = cpu_to_le16(pkt_type),
        .offset8 = cpu_to_le16(hdrlen / 8),
        .len8 = cpu_to_le16(total / 8),
        .flags = cpu_to_le16(need_comp ?
                             VMBUS_PACKET_FLAG_COMPLETION_REQUESTED : 0),
        .trans_id = cpu_to_le64(transaction_id),
    };
    struct iovec iov[3] = {
        { .iov_base = &d, .iov_len = sizeof(d) },
        { .iov_base = desc, .iov_len = desclen },
        { .iov_base = msg, .iov_len = msglen },
    };
    int ret;

    /* The descriptor's extra part must keep the payload 8-byte aligned. */
    assert(!(desclen & 7) && total / 8 <= UINT16_MAX);
    if (!vmbus_channel_usable(chan)) {
        return -EIO;
    }
    ret = vmbus_ring_write(&chan->host_ring, iov, 3);
    if (ret < 0) {
        vmbus_ring_check(chan, &chan->host_ring);
        return ret;
    }
    if (ret) {
        vmbus_channel_signal_guest(chan);
    }
    return vmbus_ring_packet_len(total);
}

ssize_t vmbus_channel_send_completion(VMBusChanReq *req, void *msg,
                                      uint32_t msglen)
{
    assert(req->need_comp);
    return vmbus_channel_send(req->chan, VMBUS_PACKET_COMP, NULL, 0, msg,
                              msglen, false, req->transaction_id);
}

int vmbus_channel_recv_start(VMBusChannel *chan)
{
    if (!vmbus_channel_usable(chan)) {
        return -EIO;
    }
    chan->rx_popped = 0;
    return 0;
}

/* A GPA-direct packet's ranges, as a scatter-gather list. */
static bool vmbus_parse_gpa_direct(VMBusChannel *chan, VMBusChanReq *req,
                                   const VMBusPacketDesc *d)
{
    VMBusRing *r = &chan->guest_ring;
    uint32_t off = sizeof(*d), hdrlen = d->offset8 * 8u;
    VMBusGpaDirectHdr gh;
    uint32_t i, j;

    if (!vmbus_ring_read(r, off, &gh, sizeof(gh))) {
        return false;
    }
    off += sizeof(gh);
    qemu_sglist_init(&req->sgl, DEVICE(chan->dev), 1, chan->dev->dma_as);
    for (i = 0; i < le32_to_cpu(gh.range_count); i++) {
        VMBusGpaRangeHdr rh;
        uint32_t len, offset, npages;

        if (off + sizeof(rh) > hdrlen ||
            !vmbus_ring_read(r, off, &rh, sizeof(rh))) {
            return false;
        }
        off += sizeof(rh);
        len = le32_to_cpu(rh.len);
        offset = le32_to_cpu(rh.offset);
        if (!len || offset >= VMBUS_GPADL_PAGE_SIZE ||
            (uint64_t)offset + len > UINT32_MAX) {
            return false;
        }
        npages = DIV_ROUND_UP(offset + len, VMBUS_GPADL_PAGE_SIZE);
        if ((uint64_t)off + (uint64_t)npages * 8 > hdrlen) {
            return false;
        }
        for (j = 0; j < npages; j++) {
            uint64_t pfn;
            uint32_t start = j ? 0 : offset;
            uint32_t n = MIN(len, VMBUS_GPADL_PAGE_SIZE - start);

            if (!vmbus_ring_read(r, off, &pfn, sizeof(pfn))) {
                return false;
            }
            off += sizeof(pfn);
            pfn = le64_to_cpu(pfn);
            if (pfn >> (64 - 12)) {
                return false;
            }
            qemu_sglist_add(&req->sgl, pfn * VMBUS_GPADL_PAGE_SIZE + start,
                            n);
            len -= n;
        }
    }
    return true;
}

void *vmbus_channel_recv_peek(VMBusChannel *chan, uint32_t size)
{
    VMBusPacketDesc d;
    VMBusChanReq *req;
    uint32_t hdrlen, msglen;
    int ret;

    assert(size >= sizeof(*req));
    if (!vmbus_channel_usable(chan)) {
        return NULL;
    }
    ret = vmbus_ring_peek(&chan->guest_ring, &d);
    if (ret <= 0) {
        vmbus_ring_check(chan, &chan->guest_ring);
        return NULL;
    }
    hdrlen = d.offset8 * 8u;
    msglen = d.len8 * 8u - hdrlen;
    req = g_malloc0(size + msglen);
    req->chan = chan;
    req->pkt_type = d.type;
    req->msglen = msglen;
    req->msg = (uint8_t *)req + size;
    req->transaction_id = d.trans_id;
    req->need_comp = d.flags & VMBUS_PACKET_FLAG_COMPLETION_REQUESTED;
    if (!vmbus_ring_read(&chan->guest_ring, hdrlen, req->msg, msglen) ||
        (d.type == VMBUS_PACKET_DATA_USING_GPA_DIRECT &&
         !vmbus_parse_gpa_direct(chan, req, &d))) {
        if (!vmbus_ring_broken(&chan->guest_ring)) {
            vmbus_channel_fail(chan, "bad GPA-direct range list");
        }
        vmbus_ring_check(chan, &chan->guest_ring);
        vmbus_free_req(req);
        return NULL;
    }
    return req;
}

void vmbus_channel_recv_pop(VMBusChannel *chan)
{
    if (chan->guest_ring.pkt_len) {
        chan->rx_popped += chan->guest_ring.pkt_len + VMBUS_PACKET_TRAILER;
    }
    vmbus_ring_pop(&chan->guest_ring);
}

ssize_t vmbus_channel_recv_done(VMBusChannel *chan)
{
    ssize_t popped = chan->rx_popped;

    if (!vmbus_channel_usable(chan)) {
        return -EIO;
    }
    chan->rx_popped = 0;
    if (vmbus_ring_publish_read(&chan->guest_ring)) {
        vmbus_channel_signal_guest(chan);
    }
    /*
     * The device read the ring dry; what the guest wrote before it saw
     * our new read index came unsignalled.  Notify the device again, from
     * the main loop.
     */
    if (vmbus_ring_written_since(&chan->guest_ring)) {
        trace_vmbus_rx_recheck(chan->relid);
        vmbus_channel_notify_host(chan);
    }
    if (!vmbus_ring_check(chan, &chan->guest_ring)) {
        return -EIO;
    }
    return popped;
}

void vmbus_free_req(void *req)
{
    VMBusChanReq *r = req;

    if (r->sgl.dev) {
        qemu_sglist_destroy(&r->sgl);
    }
    g_free(req);
}

VMBusGpadl *vmbus_get_gpadl(VMBusChannel *chan, uint32_t gpadl_id)
{
    VMBusGpadl *g = vmbus_gpadl_find(&chan->bus->gpadls, gpadl_id);

    if (!g || !g->complete || g->teardown || g->relid != chan->relid) {
        return NULL;
    }
    g->refs++;
    return g;
}

void vmbus_put_gpadl(VMBusGpadl *gpadl)
{
    if (gpadl) {
        assert(gpadl->refs);
        gpadl->refs--;
    }
}

uint32_t vmbus_gpadl_len(VMBusGpadl *gpadl)
{
    return MIN(gpadl->len, UINT32_MAX);
}

ssize_t vmbus_iov_to_gpadl(VMBusChannel *chan, VMBusGpadl *gpadl,
                           uint32_t off, const struct iovec *iov,
                           size_t iov_cnt)
{
    ssize_t done = 0;
    size_t i;

    for (i = 0; i < iov_cnt; i++) {
        const uint8_t *p = iov[i].iov_base;
        size_t left = iov[i].iov_len;

        while (left) {
            uint64_t gpa;
            uint32_t chunk;

            if (!vmbus_gpadl_locate(gpadl, off, &gpa, &chunk)) {
                return -EINVAL;
            }
            chunk = MIN(chunk, left);
            if (dma_memory_write(chan->dev->dma_as, gpa, p, chunk,
                                 MEMTXATTRS_UNSPECIFIED) != MEMTX_OK) {
                return -EFAULT;
            }
            p += chunk;
            left -= chunk;
            off += chunk;
            done += chunk;
        }
    }
    return done;
}

int vmbus_map_sgl(VMBusChanReq *req, DMADirection dir, struct iovec *iov,
                  unsigned iov_cnt, size_t len, size_t off)
{
    QEMUSGList *sgl = &req->sgl;
    unsigned n = 0;
    int i;

    for (i = 0; i < sgl->nsg && len; i++) {
        dma_addr_t base = sgl->sg[i].base, l = sgl->sg[i].len;
        void *p;

        if (off >= l) {
            off -= l;
            continue;
        }
        base += off;
        l = MIN(l - off, len);
        off = 0;
        while (l) {
            dma_addr_t mapped = l;

            if (n == iov_cnt) {
                return n;
            }
            p = dma_memory_map(sgl->as, base, &mapped, dir,
                               MEMTXATTRS_UNSPECIFIED);
            if (!p) {
                vmbus_unmap_sgl(req, dir, iov, n, 0);
                return -EFAULT;
            }
            iov[n].iov_base = p;
            iov[n].iov_len = mapped;
            n++;
            base += mapped;
            l -= mapped;
            len -= mapped;
        }
    }
    return n;
}

void vmbus_unmap_sgl(VMBusChanReq *req, DMADirection dir, struct iovec *iov,
                     unsigned iov_cnt, size_t accessed)
{
    unsigned i;

    for (i = 0; i < iov_cnt; i++) {
        size_t acc = MIN(accessed, iov[i].iov_len);

        dma_memory_unmap(req->sgl.as, iov[i].iov_base, iov[i].iov_len, dir,
                         acc);
        accessed -= acc;
    }
}

/* --- channel management messages ---------------------------------------- */

static bool vmbus_version_known(uint32_t version)
{
    int i;

    for (i = 0; i < ARRAY_SIZE(vmbus_versions); i++) {
        if (vmbus_versions[i] == version) {
            return true;
        }
    }
    return false;
}

/* Every channel of every device, in relid order. */
static void vmbus_for_each_channel(VMBus *bus,
                                   void (*fn)(VMBusChannel *chan))
{
    uint32_t relid;

    for (relid = find_first_bit(bus->relids, VMBUS_MAX_RELID + 1);
         relid <= VMBUS_MAX_RELID;
         relid = find_next_bit(bus->relids, VMBUS_MAX_RELID + 1, relid + 1)) {
        VMBusChannel *chan = vmbus_find_channel(bus, relid);

        if (chan) {
            fn(chan);
        }
    }
}

static void vmbus_device_release(VMBusDevice *dev);
static void vmbus_mig_free(VMBusMig *s);

/* Back to the state before INITIATE_CONTACT: channels closed, all dropped. */
static void vmbus_channel_disconnect(VMBusChannel *chan)
{
    vmbus_channel_close_reset(chan);
    chan->state = VMBUS_CHAN_NEW;
    if (chan->rescinded) {
        /* The guest is gone: it will not release anything any more. */
        chan->rescinded = false;
        if (!chan->reoffer && !chan->revoked) {
            vmbus_device_release(chan->dev);
        }
        chan->reoffer = false;
    }
    /* The next guest asks for its sub-channels afresh. */
    chan->enabled = false;
    chan->revoked = false;
}

static void vmbus_disconnect(VMBus *bus, bool keep_route)
{
    vmbus_for_each_channel(bus, vmbus_channel_disconnect);
    vmbus_gpadl_set_clear(&bus->gpadls);
    vmbus_tx_clear(bus);
    if (bus->route && !keep_route) {
        hyperv_sint_route_unref(bus->route);
        bus->route = NULL;
        /* Whatever it had in flight is no concern of the next route. */
        bus->tx_busy = false;
    }
    bus->state = VMBUS_DISCONNECTED;
    bus->version = 0;
    bus->offers_implied = false;
}

static void vmbus_initiate_contact(VMBus *bus, const VMBusMsgContact *m)
{
    VMBusMsgVersionResponse r = {
        .hdr.type = VMBUS_MSG_VERSION_RESPONSE,
    };
    uint32_t version = le32_to_cpu(m->version);
    uint32_t vp = le32_to_cpu(m->target_vp);
    uint32_t sint = version >= VMBUS_VERSION_V5_0 ? m->v5.sint : VMBUS_SINT;
    HvSintRoute *route;

    trace_vmbus_initiate_contact(version >> 16, version & 0xffff, vp, sint);
    if (sint >= HV_SINT_COUNT) {
        hv_guest_error("vmbus: INITIATE_CONTACT names SINT %u; dropped",
                       sint);
        return;
    }
    /* Whatever was connected is gone, as after UNLOAD. */
    vmbus_disconnect(bus, false);
    route = hyperv_sint_route_new(vp, sint, vmbus_tx_done, bus);
    if (!route) {
        /* No such vCPU, or no SynIC there: nowhere to answer. */
        hv_guest_error("vmbus: INITIATE_CONTACT names VP %u SINT %u, which "
                       "cannot take messages; dropped", vp, sint);
        return;
    }
    bus->route = route;
    bus->target_vp = vp;
    bus->sint = sint;
    if (vmbus_version_known(version)) {
        bus->version = version;
        bus->state = VMBUS_CONNECTED;
        r.supported = 1;
        if (version >= VMBUS_VERSION_V5_0) {
            r.msg_conn = cpu_to_le32(VMBUS_MESSAGE_CONN_V5);
        }
    }
    /* Refused: the guest tries an older version, on this route. */
    vmbus_send(bus, &r, version >= VMBUS_VERSION_V5_0 ? sizeof(r) :
               offsetof(VMBusMsgVersionResponse, pad));
}

static bool vmbus_dev_leaving(VMBusDevice *dev)
{
    return dev->num_channels && dev->channels[0].leaving;
}

/*
 * Not offered yet: a primary channel, or a sub-channel asked for, of a
 * device that is not leaving.
 */
static bool vmbus_chan_offerable(VMBusChannel *chan)
{
    return chan->state == VMBUS_CHAN_NEW && !chan->rescinded &&
           (chan->idx == 0 || chan->enabled) &&
           !vmbus_dev_leaving(chan->dev);
}

/* (A device being plugged is not realized yet: its plug handler offers.) */
static void vmbus_offer_if_new(VMBusChannel *chan)
{
    if (vmbus_chan_offerable(chan) && qdev_is_realized(DEVICE(chan->dev))) {
        vmbus_offer(chan);
    }
}

static void vmbus_offer_again(VMBusChannel *chan)
{
    if (chan->state == VMBUS_CHAN_OFFERED && !chan->rescinded) {
        vmbus_offer(chan);
    }
}

static void vmbus_request_offers(VMBus *bus)
{
    VMBusMsgHdr done = { .type = VMBUS_MSG_ALLOFFERS_DELIVERED };

    if (bus->offers_implied) {
        /*
         * Migrated from QEMU 10.0.2 between VERSION_RESPONSE and this
         * REQUESTOFFERS: the offers taken as sent go out now.
         */
        bus->offers_implied = false;
        vmbus_for_each_channel(bus, vmbus_offer_again);
        vmbus_for_each_channel(bus, vmbus_offer_if_new);
        vmbus_send(bus, &done, sizeof(done));
        return;
    }
    if (bus->state != VMBUS_CONNECTED) {
        hv_guest_error("vmbus: REQUESTOFFERS %s; ignored",
                       bus->state == VMBUS_OFFERED ? "twice" :
                       "before INITIATE_CONTACT");
        return;
    }
    bus->state = VMBUS_OFFERED;
    vmbus_for_each_channel(bus, vmbus_offer_if_new);
    vmbus_send(bus, &done, sizeof(done));
}

static void vmbus_gpadl_answer(VMBus *bus, uint32_t relid, uint32_t id,
                               uint32_t status)
{
    VMBusMsgGpadlCreated c = {
        .hdr.type = VMBUS_MSG_GPADL_CREATED,
        .relid = relid,
        .gpadl = id,
        .status = status,
    };

    trace_vmbus_gpadl_created(id, relid, status);
    vmbus_send(bus, &c, sizeof(c));
}

static void vmbus_gpadl_msg(VMBus *bus, const void *msg, uint32_t len,
                            bool body)
{
    VMBusGpadlResult res;
    VMBusGpadl *g = NULL;
    const char *why = NULL;
    uint32_t relid = 0, id = 0;

    if (!body) {
        const VMBusMsgGpadlTeardown *h = msg;   /* relid, id come first */
        VMBusChannel *chan;

        if (len < sizeof(*h)) {
            hv_guest_error("vmbus: GPADL_HEADER of %u bytes; dropped", len);
            return;
        }
        chan = vmbus_find_channel(bus, le32_to_cpu(h->relid));
        if (!chan || chan->state == VMBUS_CHAN_NEW || chan->rescinded) {
            hv_guest_error("vmbus: GPADL %u for relid %u, no offered "
                           "channel; refused", le32_to_cpu(h->gpadl),
                           le32_to_cpu(h->relid));
            vmbus_gpadl_answer(bus, le32_to_cpu(h->relid),
                               le32_to_cpu(h->gpadl),
                               VMBUS_STATUS_INVALID_PARAMETER);
            return;
        }
        res = vmbus_gpadl_header(&bus->gpadls, msg, len, &relid, &id, &g,
                                 &why);
    } else {
        res = vmbus_gpadl_body(&bus->gpadls, msg, len, &relid, &id, &g,
                               &why);
    }
    switch (res) {
    case VMBUS_GPADL_MORE:
        trace_vmbus_gpadl_more(id, g->filled, g->npages);
        break;
    case VMBUS_GPADL_DONE:
        vmbus_gpadl_answer(bus, relid, id, VMBUS_STATUS_SUCCESS);
        break;
    case VMBUS_GPADL_FAILED:
        hv_guest_error("vmbus: GPADL %u refused: %s", id, why);
        vmbus_gpadl_answer(bus, relid, id, VMBUS_STATUS_UNSUCCESSFUL);
        break;
    case VMBUS_GPADL_IGNORED:
        hv_guest_error("vmbus: GPADL_%s dropped: %s", body ? "BODY" :
                       "HEADER", why);
        break;
    }
}

static void vmbus_gpadl_teardown(VMBus *bus, const VMBusMsgGpadlTeardown *m)
{
    uint32_t id = le32_to_cpu(m->gpadl), relid = le32_to_cpu(m->relid);
    VMBusGpadl *g = vmbus_gpadl_find(&bus->gpadls, id);
    VMBusMsgGpadlTorndown t = {
        .hdr.type = VMBUS_MSG_GPADL_TORNDOWN,
        .gpadl = id,
    };

    trace_vmbus_gpadl_teardown(id, relid);
    if (!g || g->relid != relid || g->teardown) {
        hv_guest_error("vmbus: teardown of GPADL %u by relid %u: %s; "
                       "dropped", id, relid, !g ? "no such GPADL" :
                       g->teardown ? "already asked" : "not its owner");
        return;
    }
    if (g->refs) {
        /* Its channel is open on it: torn down when that closes. */
        g->teardown = true;
        return;
    }
    vmbus_gpadl_free(&bus->gpadls, g);
    vmbus_send(bus, &t, sizeof(t));
}

/*
 * Open @chan as @m asks: from the guest (@from_guest, the device is told)
 * or from the migration stream (the device's own state says it is open).
 */
static uint32_t vmbus_open(VMBus *bus, VMBusChannel *chan,
                           const VMBusMsgOpen *m, bool from_guest)
{
    VMBusDeviceClass *vdc = VMBUS_DEVICE_GET_CLASS(chan->dev);
    uint32_t id = le32_to_cpu(m->ring_gpadl);
    uint32_t host_page = le32_to_cpu(m->host_ring_page);
    uint32_t vp = le32_to_cpu(m->target_vp);
    VMBusGpadl *g = vmbus_gpadl_find(&bus->gpadls, id);
    const char *why = NULL;
    uint32_t i;

    if (chan->state != VMBUS_CHAN_OFFERED || (from_guest && chan->rescinded)) {
        why = chan->state == VMBUS_CHAN_OPEN ? "already open" :
              chan->rescinded ? "rescinded" : "not offered";
    } else if (!g || !g->complete || g->teardown) {
        why = "no such GPADL";
    } else if (g->relid != chan->relid) {
        why = "the GPADL belongs to another channel";
    } else if (g->nranges != 1 || g->ranges[0].byte_offset ||
               g->len != (uint64_t)g->npages * VMBUS_GPADL_PAGE_SIZE) {
        why = "the ring GPADL is not whole pages";
    } else if (host_page < 2 || (uint64_t)host_page + 2 > g->npages) {
        why = "ring page offset leaves a ring under 2 pages";
    }
    for (i = 0; !why && i < g->npages; i++) {
        if (!hyperv_is_guest_ram(g->pfns[i] * VMBUS_GPADL_PAGE_SIZE,
                                 VMBUS_GPADL_PAGE_SIZE, true)) {
            why = "a ring page is not guest RAM";
        }
    }
    if (why) {
        goto refuse;
    }
    chan->route = hyperv_sint_route_new(vp, bus->sint, NULL, NULL);
    if (!chan->route) {
        why = "no such target VP";
        goto refuse;
    }
    chan->ring_gpadl = g;
    chan->host_ring_page = host_page;
    if (!vmbus_ring_init(&chan->guest_ring, host_page,
                         vmbus_guest_ring_access, chan, false) ||
        !vmbus_ring_init(&chan->host_ring, g->npages - host_page,
                         vmbus_host_ring_access, chan, true)) {
        why = vmbus_ring_broken(&chan->guest_ring) ?:
              vmbus_ring_broken(&chan->host_ring);
        goto undo;
    }
    chan->open_id = le32_to_cpu(m->open_id);
    chan->target_vp = vp;
    chan->ring_gpadl_id = id;
    chan->failed = false;
    chan->state = VMBUS_CHAN_OPEN;
    g->refs++;
    if (from_guest && vdc->open_channel && vdc->open_channel(chan)) {
        g->refs--;
        chan->state = VMBUS_CHAN_OFFERED;
        why = "the device refused";
        goto undo;
    }
    event_notifier_set_handler(&chan->notifier, vmbus_channel_guest_notify);
    chan->notifier_on = true;
    hyperv_set_event_flag_handler(chan->conn_id, &chan->notifier);
    trace_vmbus_open(chan->relid, id, vp);
    return VMBUS_STATUS_SUCCESS;

undo:
    chan->ring_gpadl = NULL;
    hyperv_sint_route_unref(chan->route);
    chan->route = NULL;
refuse:
    hv_guest_error("vmbus: OPENCHANNEL of relid %u refused: %s",
                   chan->relid, why);
    return VMBUS_STATUS_UNSUCCESSFUL;
}

static void vmbus_open_msg(VMBus *bus, const VMBusMsgOpen *m)
{
    VMBusChannel *chan = vmbus_find_channel(bus, le32_to_cpu(m->relid));
    VMBusMsgOpenResult r = {
        .hdr.type = VMBUS_MSG_OPENCHANNEL_RESULT,
        .relid = m->relid,
        .open_id = m->open_id,
    };

    if (!chan) {
        hv_guest_error("vmbus: OPENCHANNEL of relid %u: no such channel; "
                       "dropped", le32_to_cpu(m->relid));
        return;
    }
    r.status = vmbus_open(bus, chan, m, true);
    vmbus_send(bus, &r, sizeof(r));
}

static void vmbus_modify(VMBus *bus, const VMBusMsgModify *m)
{
    VMBusChannel *chan = vmbus_find_channel(bus, le32_to_cpu(m->relid));
    VMBusMsgModifyResponse r = {
        .hdr.type = VMBUS_MSG_MODIFYCHANNEL_RESPONSE,
        .relid = m->relid,
        .status = VMBUS_STATUS_UNSUCCESSFUL,
    };
    HvSintRoute *route;

    if (chan && chan->state == VMBUS_CHAN_OPEN) {
        route = hyperv_sint_route_new(le32_to_cpu(m->target_vp), bus->sint,
                                      NULL, NULL);
        if (route) {
            hyperv_sint_route_unref(chan->route);
            chan->route = route;
            chan->target_vp = le32_to_cpu(m->target_vp);
            r.status = VMBUS_STATUS_SUCCESS;
            /* Anything pending is looked at again on the new vCPU. */
            vmbus_channel_signal_guest(chan);
        }
    }
    trace_vmbus_modify(le32_to_cpu(m->relid), le32_to_cpu(m->target_vp),
                       r.status);
    if (r.status) {
        hv_guest_error("vmbus: MODIFYCHANNEL of relid %u to VP %u refused",
                       le32_to_cpu(m->relid), le32_to_cpu(m->target_vp));
    }
    if (bus->version >= VMBUS_VERSION_V5_3) {
        vmbus_send(bus, &r, sizeof(r));
    }
}

static void vmbus_relid_released(VMBus *bus, const VMBusMsgRelid *m)
{
    VMBusChannel *chan = vmbus_find_channel(bus, le32_to_cpu(m->relid));
    VMBusDevice *dev;
    int i;

    if (!chan || !chan->rescinded) {
        /* Guests also send it after a failed probe: nothing to do. */
        trace_vmbus_relid_released(le32_to_cpu(m->relid), false);
        return;
    }
    trace_vmbus_relid_released(chan->relid, true);
    /* A guest that did not close it first: closed for it. */
    vmbus_channel_close_reset(chan);
    chan->state = VMBUS_CHAN_NEW;
    chan->rescinded = false;
    vmbus_gpadl_free_relid(&bus->gpadls, chan->relid);
    dev = chan->dev;
    if (chan->reoffer) {
        /* Given back to be taken afresh (after a migration). */
        chan->reoffer = false;
        vmbus_offer_if_new(chan);
        return;
    }
    if (chan->revoked && !vmbus_dev_leaving(dev)) {
        /* A sub-channel; its device may have asked for it again since. */
        chan->revoked = false;
        vmbus_offer_if_new(chan);
        return;
    }
    chan->revoked = false;
    for (i = 0; i < dev->num_channels; i++) {
        if (dev->channels[i].rescinded) {
            return;
        }
    }
    vmbus_device_release(dev);
}

/*
 * The guest closed the primary channel: its sub-channels go, as on
 * Hyper-V.  Those the guest has are rescinded (closed first if it left
 * them open); each comes back only when the device asks again.
 */
static void vmbus_revoke_subchannels(VMBusDevice *dev)
{
    int i;

    for (i = 1; i < dev->num_channels; i++) {
        VMBusChannel *chan = &dev->channels[i];

        if (chan->rescinded && chan->reoffer) {
            /* Being offered again after a migration: not any more. */
            chan->reoffer = false;
            chan->revoked = true;
        }
        if (!chan->enabled) {
            continue;
        }
        chan->enabled = false;
        trace_vmbus_subchannel(chan->relid, chan->idx, false);
        if (chan->state == VMBUS_CHAN_NEW || chan->rescinded) {
            continue;
        }
        vmbus_channel_close(chan);
        chan->revoked = true;
        vmbus_rescind(chan);
    }
}

int vmbus_device_enable_subchannels(VMBusDevice *dev, uint16_t count)
{
    VMBus *bus = VMBUS(qdev_get_parent_bus(DEVICE(dev)));
    int i;

    if (count >= dev->num_channels) {
        return -EINVAL;
    }
    if (vmbus_dev_leaving(dev)) {
        return -ENODEV;
    }
    if (dev->channels[0].state != VMBUS_CHAN_OPEN) {
        return -ENOTCONN;
    }
    for (i = 1; i <= count; i++) {
        VMBusChannel *chan = &dev->channels[i];

        if (chan->enabled) {
            continue;
        }
        chan->enabled = true;
        trace_vmbus_subchannel(chan->relid, chan->idx, true);
        if (bus->state == VMBUS_OFFERED) {
            vmbus_offer_if_new(chan);
        }
    }
    return 0;
}

static void vmbus_tl_connect(VMBus *bus, const VMBusMsgTlConnect *m)
{
    VMBusMsgTlConnectResult r = {
        .hdr.type = VMBUS_MSG_TL_CONNECT_RESULT,
        .status = VMBUS_STATUS_CONNECTION_REFUSED,
    };

    /* No device provides a socket service: refused, so it does not wait. */
    memcpy(r.endpoint_id, m->endpoint_id, sizeof(r.endpoint_id));
    memcpy(r.service_id, m->service_id, sizeof(r.service_id));
    trace_vmbus_tl_connect();
    vmbus_send(bus, &r, sizeof(r));
}

/* The fixed size of each message the guest may send, 0: not a request. */
static uint32_t vmbus_msg_min_len(uint32_t type)
{
    switch (type) {
    case VMBUS_MSG_REQUESTOFFERS:
    case VMBUS_MSG_UNLOAD:
        return sizeof(VMBusMsgHdr);
    case VMBUS_MSG_OPENCHANNEL:
        return sizeof(VMBusMsgOpen);
    case VMBUS_MSG_CLOSECHANNEL:
    case VMBUS_MSG_RELID_RELEASED:
        return sizeof(VMBusMsgRelid);
    case VMBUS_MSG_GPADL_HEADER:
    case VMBUS_MSG_GPADL_BODY:
        return sizeof(VMBusMsgHdr) + 8;     /* the rest is checked there */
    case VMBUS_MSG_GPADL_TEARDOWN:
        return sizeof(VMBusMsgGpadlTeardown);
    case VMBUS_MSG_INITIATE_CONTACT:
        return sizeof(VMBusMsgContact);
    case VMBUS_MSG_TL_CONNECT_REQUEST:
        return sizeof(VMBusMsgTlConnect);
    case VMBUS_MSG_MODIFYCHANNEL:
        return sizeof(VMBusMsgModify);
    default:
        return 0;
    }
}

static void vmbus_handle(VMBus *bus, const uint8_t *data, uint32_t len)
{
    const VMBusMsgHdr *h = (const VMBusMsgHdr *)data;
    uint32_t type, min;
    VMBusChannel *chan;

    if (len < sizeof(*h)) {
        hv_guest_error("vmbus: message of %u bytes; dropped", len);
        return;
    }
    type = le32_to_cpu(h->type);
    min = vmbus_msg_min_len(type);
    trace_vmbus_rx(type, len);
    if (!min) {
        hv_guest_error("vmbus: message type %u is not a request; dropped",
                       type);
        return;
    }
    if (len < min) {
        hv_guest_error("vmbus: message type %u of %u bytes (at least %u); "
                       "dropped", type, len, min);
        return;
    }
    if (type == VMBUS_MSG_INITIATE_CONTACT) {
        vmbus_initiate_contact(bus, (const VMBusMsgContact *)data);
        return;
    }
    if (bus->state == VMBUS_DISCONNECTED) {
        hv_guest_error("vmbus: message type %u before INITIATE_CONTACT; "
                       "dropped", type);
        return;
    }
    switch (type) {
    case VMBUS_MSG_REQUESTOFFERS:
        vmbus_request_offers(bus);
        break;
    case VMBUS_MSG_UNLOAD: {
        VMBusMsgHdr r = { .type = VMBUS_MSG_UNLOAD_RESPONSE };

        trace_vmbus_unload();
        /* The answer goes out on the route that was connected. */
        vmbus_disconnect(bus, true);
        vmbus_send(bus, &r, sizeof(r));
        break;
    }
    case VMBUS_MSG_OPENCHANNEL:
        vmbus_open_msg(bus, (const VMBusMsgOpen *)data);
        break;
    case VMBUS_MSG_CLOSECHANNEL:
        chan = vmbus_find_channel(bus, le32_to_cpu(
                                      ((const VMBusMsgRelid *)data)->relid));
        if (chan && chan->reoffer && chan->state != VMBUS_CHAN_OPEN) {
            /* Open at the source of a migration (vmbus_old_post_load()). */
            trace_vmbus_close(chan->relid);
            break;
        }
        if (!chan || chan->state != VMBUS_CHAN_OPEN) {
            hv_guest_error("vmbus: CLOSECHANNEL of relid %u, not open; "
                           "dropped",
                           le32_to_cpu(((const VMBusMsgRelid *)data)->relid));
            break;
        }
        if (chan->idx == 0) {
            vmbus_revoke_subchannels(chan->dev);
        }
        vmbus_channel_close_reset(chan);
        break;
    case VMBUS_MSG_GPADL_HEADER:
    case VMBUS_MSG_GPADL_BODY:
        vmbus_gpadl_msg(bus, data, len, type == VMBUS_MSG_GPADL_BODY);
        break;
    case VMBUS_MSG_GPADL_TEARDOWN:
        vmbus_gpadl_teardown(bus, (const VMBusMsgGpadlTeardown *)data);
        break;
    case VMBUS_MSG_RELID_RELEASED:
        vmbus_relid_released(bus, (const VMBusMsgRelid *)data);
        break;
    case VMBUS_MSG_TL_CONNECT_REQUEST:
        vmbus_tl_connect(bus, (const VMBusMsgTlConnect *)data);
        break;
    case VMBUS_MSG_MODIFYCHANNEL:
        vmbus_modify(bus, (const VMBusMsgModify *)data);
        break;
    }
}

static void vmbus_bh(void *opaque)
{
    VMBus *bus = opaque;
    VMBusMsgBuf *m;
    unsigned n;

    /*
     * At most a queue's worth per run: vCPUs posting all the time must
     * not keep the main loop here.
     */
    for (n = 0;; n++) {
        vmbus_tx_run(bus);
        if (n == VMBUS_RX_MAX) {
            vmbus_kick(bus);
            return;
        }
        /* Guest requests wait while the guest does not take answers. */
        if (bus->tx_count >= VMBUS_TX_BACKLOG) {
            return;
        }
        WITH_QEMU_LOCK_GUARD(&bus->rx_lock) {
            m = QSIMPLEQ_FIRST(&bus->rx);
            if (m) {
                QSIMPLEQ_REMOVE_HEAD(&bus->rx, link);
                bus->rx_count--;
            }
        }
        if (!m) {
            return;
        }
        vmbus_handle(bus, m->data, m->len);
        g_free(m);
    }
}

/* HvPostMessage on a message connection, on a vCPU thread. */
static uint16_t vmbus_msg_handler(const struct hyperv_post_message_input *in,
                                  void *data)
{
    VMBus *bus = data;
    VMBusMsgBuf *m;

    WITH_QEMU_LOCK_GUARD(&bus->rx_lock) {
        if (bus->rx_count >= VMBUS_RX_MAX) {
            return HV_STATUS_INSUFFICIENT_BUFFERS;
        }
        m = g_new(VMBusMsgBuf, 1);
        m->len = in->payload_size;
        memcpy(m->data, in->payload, m->len);
        QSIMPLEQ_INSERT_TAIL(&bus->rx, m, link);
        bus->rx_count++;
    }
    qemu_bh_schedule(bus->bh);
    return HV_STATUS_SUCCESS;
}

/* --- devices on the bus ---------------------------------------------- */

static VMBus *vmbus_of(VMBusDevice *dev)
{
    return VMBUS(qdev_get_parent_bus(DEVICE(dev)));
}

static void vmbus_device_release_bh(void *opaque)
{
    DeviceState *qdev = opaque;

    /* Released twice (a reset on top of RELID_RELEASED): once is enough. */
    if (qdev->realized && qdev->parent_bus) {
        object_unparent(OBJECT(qdev));
    }
    object_unref(OBJECT(qdev));
}

/*
 * Unplug completes: the guest let go of every channel (or never had it).
 * Not from inside the bus's own walks: from the main loop.
 */
static void vmbus_device_release(VMBusDevice *dev)
{
    trace_vmbus_device_release(dev->num_channels ? dev->channels[0].relid :
                               0);
    object_ref(OBJECT(dev));
    aio_bh_schedule_oneshot(qemu_get_aio_context(), vmbus_device_release_bh,
                            dev);
}

static void vmbus_dev_realize(DeviceState *qdev, Error **errp)
{
    VMBusDevice *dev = VMBUS_DEVICE(qdev);
    VMBusDeviceClass *vdc = VMBUS_DEVICE_GET_CLASS(dev);
    VMBus *bus = vmbus_of(dev);
    Error *err = NULL;
    unsigned i, n;
    BusChild *kid;

    if (!qemu_uuid_is_null(&vdc->instanceid)) {
        /* A singleton: its class fixes the instance. */
        QTAILQ_FOREACH(kid, &bus->parent.children, sibling) {
            if (kid->child != qdev &&
                object_get_class(OBJECT(kid->child)) ==
                object_get_class(OBJECT(qdev))) {
                error_setg(errp, "%s: only one can be on the bus",
                           object_get_typename(OBJECT(qdev)));
                return;
            }
        }
        dev->instanceid = vdc->instanceid;
    } else if (qemu_uuid_is_null(&dev->instanceid)) {
        /*
         * Stable across runs and migration: a name-based UUID (version 5
         * layout) of the device's QOM path.
         */
        g_autofree char *path = object_get_canonical_path(OBJECT(qdev));
        g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA1);
        uint8_t digest[20];
        gsize dlen = sizeof(digest);

        g_checksum_update(sum, (const guchar *)"vmbus:", 6);
        g_checksum_update(sum, (const guchar *)path, strlen(path));
        g_checksum_get_digest(sum, digest, &dlen);
        memcpy(dev->instanceid.data, digest, 16);
        dev->instanceid.data[6] = (dev->instanceid.data[6] & 0x0f) | 0x50;
        dev->instanceid.data[8] = (dev->instanceid.data[8] & 0x3f) | 0x80;
    } else {
        QTAILQ_FOREACH(kid, &bus->parent.children, sibling) {
            if (kid->child != qdev &&
                qemu_uuid_is_equal(&VMBUS_DEVICE(kid->child)->instanceid,
                                   &dev->instanceid)) {
                error_setg(errp, "VMBus: instanceid is already in use");
                return;
            }
        }
    }
    dev->dma_as = &address_space_memory;
    n = vdc->num_channels ? vdc->num_channels(dev) : 1;
    if (!n || n > 64) {
        error_setg(errp, "%s: %u channels (1 to 64)",
                   object_get_typename(OBJECT(qdev)), n);
        return;
    }
    if (vdc->vmdev_realize) {
        vdc->vmdev_realize(dev, &err);
        if (err) {
            error_propagate(errp, err);
            return;
        }
    }
    dev->num_channels = n;
    dev->channels = g_new0(VMBusChannel, n);
    for (i = 0; i < n; i++) {
        VMBusChannel *chan = &dev->channels[i];
        uint32_t relid = find_next_zero_bit(bus->relids, VMBUS_MAX_RELID + 1,
                                            1);

        if (relid > VMBUS_MAX_RELID) {
            error_setg(errp, "VMBus: all %u channels are in use",
                       VMBUS_MAX_RELID);
            goto fail;
        }
        chan->dev = dev;
        chan->bus = bus;
        chan->idx = i;
        chan->relid = relid;
        chan->conn_id = VMBUS_CHAN_CONN_BASE + relid;
        event_notifier_init(&chan->notifier, 0);
        set_bit(relid, bus->relids);
    }
    return;

fail:
    for (i = 0; i < n; i++) {
        if (dev->channels[i].relid) {
            clear_bit(dev->channels[i].relid, bus->relids);
            event_notifier_cleanup(&dev->channels[i].notifier);
        }
    }
    g_free(dev->channels);
    dev->channels = NULL;
    dev->num_channels = 0;
    if (vdc->vmdev_unrealize) {
        vdc->vmdev_unrealize(dev);
    }
}

static void vmbus_dev_unrealize(DeviceState *qdev)
{
    VMBusDevice *dev = VMBUS_DEVICE(qdev);
    VMBusDeviceClass *vdc = VMBUS_DEVICE_GET_CLASS(dev);
    VMBus *bus = vmbus_of(dev);
    int i;

    for (i = 0; i < dev->num_channels; i++) {
        VMBusChannel *chan = &dev->channels[i];

        vmbus_channel_close(chan);
        vmbus_gpadl_free_relid(&bus->gpadls, chan->relid);
        clear_bit(chan->relid, bus->relids);
        event_notifier_cleanup(&chan->notifier);
    }
    if (vdc->vmdev_unrealize) {
        vdc->vmdev_unrealize(dev);
    }
    g_free(dev->channels);
    dev->channels = NULL;
    dev->num_channels = 0;
}

static void vmbus_dev_reset(DeviceState *qdev)
{
    VMBusDevice *dev = VMBUS_DEVICE(qdev);
    VMBusDeviceClass *vdc = VMBUS_DEVICE_GET_CLASS(dev);
    int i;

    /* A device reset closes what is open; the bus's state stays. */
    for (i = 0; i < dev->num_channels; i++) {
        vmbus_channel_close(&dev->channels[i]);
    }
    if (vdc->vmdev_reset) {
        vdc->vmdev_reset(dev);
    }
}

static const Property vmbus_dev_props[] = {
    DEFINE_PROP_UUID_NODEFAULT("instanceid", VMBusDevice, instanceid),
};

static void vmbus_dev_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    device_class_set_props(dc, vmbus_dev_props);
    dc->bus_type = TYPE_VMBUS;
    dc->realize = vmbus_dev_realize;
    dc->unrealize = vmbus_dev_unrealize;
    device_class_set_legacy_reset(dc, vmbus_dev_reset);
}

/*
 * Part of every VMBus device's own state (hv-balloon's, say): the
 * instance GUID, laid out as QEMU 10.0.2 sends it.
 */
const VMStateDescription vmstate_vmbus_dev = {
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8_ARRAY(instanceid.data, VMBusDevice, 16),
        VMSTATE_END_OF_LIST()
    },
    .minimum_version_id = 0,
    .version_id = 0,
    .name = TYPE_VMBUS_DEVICE,
};

/* --- hot-plug ---------------------------------------------------------- */

static void vmbus_hotplug_plug(HotplugHandler *hh, DeviceState *qdev,
                               Error **errp)
{
    VMBusDevice *dev = VMBUS_DEVICE(qdev);
    VMBus *bus = vmbus_of(dev);
    int i;

    /* Connected guests learn of a new device at once. */
    if (bus->state == VMBUS_OFFERED) {
        for (i = 0; i < dev->num_channels; i++) {
            if (vmbus_chan_offerable(&dev->channels[i])) {
                vmbus_offer(&dev->channels[i]);
            }
        }
    }
}

static void vmbus_hotplug_unplug_request(HotplugHandler *hh,
                                         DeviceState *qdev, Error **errp)
{
    VMBusDevice *dev = VMBUS_DEVICE(qdev);
    VMBus *bus = vmbus_of(dev);
    bool wait = false;
    int i;

    if (dev->num_channels) {
        dev->channels[0].leaving = true;
    }
    for (i = 0; i < dev->num_channels; i++) {
        VMBusChannel *chan = &dev->channels[i];

        chan->enabled = false;
        if (chan->rescinded) {
            /* Offered again after all?  No: it leaves. */
            chan->reoffer = false;
            chan->revoked = false;
            wait = true;
        } else if (chan->state != VMBUS_CHAN_NEW &&
                   bus->state != VMBUS_DISCONNECTED) {
            /* The guest has it: it gives it back with RELID_RELEASED. */
            vmbus_rescind(chan);
            wait = true;
        }
    }
    if (!wait) {
        vmbus_device_release(dev);
    }
}

/* --- the bus ----------------------------------------------------------- */

static void vmbus_realize(BusState *qbus, Error **errp)
{
    VMBus *bus = VMBUS(qbus);
    int ret;

    if (!hyperv_is_synic_enabled()) {
        error_setg(errp, "%s requires Hyper-V SynIC and VP_INDEX",
                   TYPE_VMBUS_BRIDGE);
        error_append_hint(errp, "Add hv-vpindex=on,hv-synic=on to -cpu.\n");
        return;
    }
    qemu_mutex_init(&bus->rx_lock);
    bus->mig = g_new0(VMBusMig, 1);
    QSIMPLEQ_INIT(&bus->rx);
    QSIMPLEQ_INIT(&bus->tx);
    vmbus_gpadl_set_init(&bus->gpadls);
    bus->bh = qemu_bh_new(vmbus_bh, bus);
    ret = hyperv_set_msg_handler(VMBUS_MESSAGE_CONN, vmbus_msg_handler, bus);
    if (!ret) {
        ret = hyperv_set_msg_handler(VMBUS_MESSAGE_CONN_V5, vmbus_msg_handler,
                                     bus);
        if (ret) {
            hyperv_set_msg_handler(VMBUS_MESSAGE_CONN, NULL, NULL);
        }
    }
    if (ret) {
        error_setg_errno(errp, -ret, "VMBus: message connections 1 and 4 "
                         "are taken");
        qemu_bh_delete(bus->bh);
        qemu_mutex_destroy(&bus->rx_lock);
        g_free(bus->mig);
        bus->mig = NULL;
        return;
    }
}

static void vmbus_unrealize(BusState *qbus)
{
    VMBus *bus = VMBUS(qbus);
    VMBusMsgBuf *m;

    hyperv_set_msg_handler(VMBUS_MESSAGE_CONN, NULL, NULL);
    hyperv_set_msg_handler(VMBUS_MESSAGE_CONN_V5, NULL, NULL);
    bus->resetting = true;
    vmbus_disconnect(bus, false);
    while ((m = QSIMPLEQ_FIRST(&bus->rx))) {
        QSIMPLEQ_REMOVE_HEAD(&bus->rx, link);
        g_free(m);
    }
    qemu_bh_delete(bus->bh);
    qemu_mutex_destroy(&bus->rx_lock);
    vmbus_mig_free(bus->mig);
    g_free(bus->mig);
}

static void vmbus_reset_hold(Object *obj, ResetType type)
{
    VMBus *bus = VMBUS(obj);
    VMBusMsgBuf *m;

    bus->resetting = true;
    vmbus_disconnect(bus, false);
    bus->resetting = false;
    WITH_QEMU_LOCK_GUARD(&bus->rx_lock) {
        while ((m = QSIMPLEQ_FIRST(&bus->rx))) {
            QSIMPLEQ_REMOVE_HEAD(&bus->rx, link);
            g_free(m);
        }
        bus->rx_count = 0;
    }
}

static char *vmbus_get_dev_path(DeviceState *qdev)
{
    BusState *qbus = qdev_get_parent_bus(qdev);

    return qdev_get_dev_path(qbus->parent);
}

static char *vmbus_get_fw_dev_path(DeviceState *qdev)
{
    VMBusDevice *dev = VMBUS_DEVICE(qdev);
    char uuid[UUID_STR_LEN];

    qemu_uuid_unparse(&dev->instanceid, uuid);
    return g_strdup_printf("%s@%s", qdev_fw_name(qdev), uuid);
}

/* --- migration ---------------------------------------------------------- */

/*
 * A channel that the guest may be using but whose device cannot resume
 * it here: rescinded, and offered again once the guest releases it
 * (vmbus_relid_released()), so that the guest's driver starts afresh.
 */
static void vmbus_reoffer(VMBusChannel *chan)
{
    if (chan->idx == 0) {
        /* The device starts afresh: what it asked for goes. */
        vmbus_revoke_subchannels(chan->dev);
    }
    if (!chan->rescinded) {
        chan->reoffer = true;
        vmbus_rescind(chan);
    }
}

/*
 * A device whose class has no migration state (hv-balloon's) starts
 * from its reset state on the destination, while its guest driver is
 * in the middle of its protocol: its open channels are offered again.
 */
static bool vmbus_dev_migrates(VMBusDevice *dev)
{
    return DEVICE_GET_CLASS(dev)->vmsd != NULL;
}

/* The most messages a bus can hold: every offer and rescind, plus some. */
#define VMBUS_MIG_MAX_MSGS  (2 * VMBUS_MAX_RELID + VMBUS_TX_BACKLOG + \
                             VMBUS_RX_MAX + 64)

static bool vmbus_mig_counts_ok(void *opaque, int version_id)
{
    VMBusMig *s = opaque;

    return s->nchans >= 0 && s->nchans <= VMBUS_MAX_RELID &&
           s->ngpadls >= 0 && s->ngpadls <= VMBUS_GPADL_MAX_COUNT &&
           s->nmsgs >= 0 && s->nmsgs <= VMBUS_MIG_MAX_MSGS &&
           s->ntx <= s->nmsgs;
}

static bool vmbus_mig_gpadl_ok(void *opaque, int version_id)
{
    VMBusGpadlMig *g = opaque;

    return g->nwords <= 2 * VMBUS_GPADL_MAX_RANGES &&
           g->filled <= g->npages && g->npages <= VMBUS_GPADL_MAX_PAGES;
}

static const VMStateDescription vmstate_vmbus_msg = {
    .name = "vmbus/msg",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(len, VMBusMsgBuf),
        VMSTATE_UINT8_ARRAY(data, VMBusMsgBuf, HV_MESSAGE_PAYLOAD_SIZE),
        VMSTATE_END_OF_LIST()
    }
};

static bool vmbus_mig_chan_reoffer(void *opaque)
{
    return ((VMBusChanMig *)opaque)->reoffer;
}

static const VMStateDescription vmstate_vmbus_chan_reoffer = {
    .name = "vmbus/channel/reoffer",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = vmbus_mig_chan_reoffer,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(reoffer, VMBusChanMig),
        VMSTATE_END_OF_LIST()
    }
};

static bool vmbus_mig_chan_sub(void *opaque)
{
    VMBusChanMig *c = opaque;

    return c->enabled || c->revoked;
}

static const VMStateDescription vmstate_vmbus_chan_sub = {
    .name = "vmbus/channel/sub",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = vmbus_mig_chan_sub,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(enabled, VMBusChanMig),
        VMSTATE_BOOL(revoked, VMBusChanMig),
        VMSTATE_END_OF_LIST()
    }
};

/*
 * The channels' array is allocated, not zeroed, as it loads: what the
 * subsections carry must start out false for the streams without them.
 */
static int vmbus_chan_pre_load(void *opaque)
{
    VMBusChanMig *c = opaque;

    c->reoffer = false;
    c->enabled = false;
    c->revoked = false;
    return 0;
}

static const VMStateDescription vmstate_vmbus_chan = {
    .name = "vmbus/channel",
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_load = vmbus_chan_pre_load,
    .subsections = (const VMStateDescription * const []) {
        &vmstate_vmbus_chan_reoffer,
        &vmstate_vmbus_chan_sub,
        NULL
    },
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(relid, VMBusChanMig),
        VMSTATE_UINT32(state, VMBusChanMig),
        VMSTATE_UINT32(open_id, VMBusChanMig),
        VMSTATE_UINT32(target_vp, VMBusChanMig),
        VMSTATE_UINT32(ring_gpadl, VMBusChanMig),
        VMSTATE_UINT32(host_ring_page, VMBusChanMig),
        VMSTATE_UINT32(guest_own, VMBusChanMig),
        VMSTATE_UINT32(host_own, VMBusChanMig),
        VMSTATE_UINT32(host_reserved, VMBusChanMig),
        VMSTATE_BOOL(failed, VMBusChanMig),
        VMSTATE_BOOL(rescinded, VMBusChanMig),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_vmbus_gpadl = {
    .name = "vmbus/gpadl",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(id, VMBusGpadlMig),
        VMSTATE_UINT32(relid, VMBusGpadlMig),
        VMSTATE_UINT32(nwords, VMBusGpadlMig),
        VMSTATE_UINT32(npages, VMBusGpadlMig),
        VMSTATE_UINT32(filled, VMBusGpadlMig),
        VMSTATE_UINT8(complete, VMBusGpadlMig),
        VMSTATE_UINT8(teardown, VMBusGpadlMig),
        VMSTATE_VALIDATE("vmbus GPADL sizes", vmbus_mig_gpadl_ok),
        VMSTATE_VARRAY_UINT32_ALLOC(range_words, VMBusGpadlMig, nwords, 0,
                                    vmstate_info_uint32, uint32_t),
        VMSTATE_VARRAY_UINT32_ALLOC(pfns, VMBusGpadlMig, filled, 0,
                                    vmstate_info_uint64, uint64_t),
        VMSTATE_END_OF_LIST()
    }
};

/*
 * The stream carries copies made at pre_save (bus->mig); post_load checks
 * every value before the bus takes it.
 */

static void vmbus_mig_free(VMBusMig *s)
{
    uint32_t i;

    for (i = 0; s->gpadls && i < s->ngpadls; i++) {
        g_free(s->gpadls[i].range_words);
        g_free(s->gpadls[i].pfns);
    }
    g_free(s->gpadls);
    g_free(s->chans);
    g_free(s->msgs);
    for (i = 0; s->old.gpadls && i < s->old.ngpadls; i++) {
        g_free(s->old.gpadls[i].pfns);
    }
    g_free(s->old.gpadls);
    memset(s, 0, sizeof(*s));
}

static void vmbus_save_chan(VMBusChannel *chan)
{
    VMBusMig *m = chan->bus->mig;
    VMBusChanMig *c = &m->chans[m->nchans++];

    *c = (VMBusChanMig) {
        .relid = chan->relid,
        .state = chan->state,
        .open_id = chan->open_id,
        .target_vp = chan->target_vp,
        .ring_gpadl = chan->ring_gpadl_id,
        .host_ring_page = chan->host_ring_page,
        .guest_own = chan->guest_ring.own,
        .host_own = chan->host_ring.own,
        .host_reserved = chan->host_ring.reserved,
        .failed = chan->failed,
        .rescinded = chan->rescinded,
        .reoffer = chan->reoffer,
        .enabled = chan->enabled,
        .revoked = chan->revoked,
    };
}

static int vmbus_pre_save(void *opaque)
{
    VMBus *bus = opaque;
    VMBusGpadl *g;
    VMBusMsgBuf *m;
    uint32_t i = 0;

    vmbus_mig_free(bus->mig);
    bus->mig->state = bus->state;
    bus->mig->version = bus->version;
    bus->mig->target_vp = bus->target_vp;
    bus->mig->sint = bus->sint;
    bus->mig->chans = g_new0(VMBusChanMig, VMBUS_MAX_RELID);
    vmbus_for_each_channel(bus, vmbus_save_chan);
    bus->mig->ngpadls = bus->gpadls.count;
    bus->mig->gpadls = g_new0(VMBusGpadlMig, bus->gpadls.count);
    QTAILQ_FOREACH(g, &bus->gpadls.list, link) {
        VMBusGpadlMig *s = &bus->mig->gpadls[i++];
        uint32_t r;

        *s = (VMBusGpadlMig) {
            .id = g->id, .relid = g->relid, .nwords = 2 * g->nranges,
            .npages = g->npages, .filled = g->filled,
            .complete = g->complete, .teardown = g->teardown,
            .range_words = g_new(uint32_t, 2 * g->nranges),
            .pfns = g_memdup2(g->pfns, g->filled * sizeof(uint64_t)),
        };
        for (r = 0; r < g->nranges; r++) {
            s->range_words[2 * r] = g->ranges[r].byte_offset;
            s->range_words[2 * r + 1] = g->ranges[r].byte_count;
        }
    }
    bus->mig->msgs = g_new0(VMBusMsgBuf, bus->tx_count + bus->rx_count);
    QSIMPLEQ_FOREACH(m, &bus->tx, link) {
        bus->mig->msgs[bus->mig->nmsgs++] = *m;
    }
    bus->mig->ntx = bus->mig->nmsgs;
    WITH_QEMU_LOCK_GUARD(&bus->rx_lock) {
        QSIMPLEQ_FOREACH(m, &bus->rx, link) {
            if (bus->mig->nmsgs < bus->tx_count + bus->rx_count) {
                bus->mig->msgs[bus->mig->nmsgs++] = *m;
            }
        }
    }
    return 0;
}

static int vmbus_post_save(void *opaque)
{
    VMBus *bus = opaque;

    vmbus_mig_free(bus->mig);
    return 0;
}

static int vmbus_pre_load(void *opaque)
{
    VMBus *bus = opaque;

    vmbus_mig_free(bus->mig);
    return 0;
}

/* Rebuild a GPADL from the stream through the same checks as the guest. */
static VMBusGpadl *vmbus_load_gpadl(VMBus *bus, VMBusGpadlMig *s)
{
    uint8_t buf[HV_MESSAGE_PAYLOAD_SIZE];
    VMBusGpadlResult res;
    VMBusGpadl *g;
    uint32_t relid, id, r, len, need = 0;
    const char *why;

    if (s->nwords % 2 || !s->nwords ||
        s->nwords / 2 > VMBUS_GPADL_MAX_RANGES || s->filled > s->npages ||
        s->npages > VMBUS_GPADL_MAX_PAGES) {
        return NULL;
    }
    /* A header with the ranges and no page numbers, then the pages. */
    len = sizeof(VMBusMsgHdr) + 12 + s->nwords / 2 * 8;
    if (len > sizeof(buf)) {
        return NULL;
    }
    memset(buf, 0, sizeof(buf));
    stl_le_p(buf, VMBUS_MSG_GPADL_HEADER);
    stl_le_p(buf + 8, s->relid);
    stl_le_p(buf + 12, s->id);
    for (r = 0; r < s->nwords / 2; r++) {
        uint32_t off = s->range_words[2 * r], cnt = s->range_words[2 * r + 1];

        if (off >= VMBUS_GPADL_PAGE_SIZE || !cnt ||
            (uint64_t)off + cnt > UINT32_MAX) {
            return NULL;
        }
        need += DIV_ROUND_UP(off + cnt, VMBUS_GPADL_PAGE_SIZE);
    }
    if (need != s->npages || need * 8 + s->nwords / 2 * 8 > UINT16_MAX) {
        return NULL;
    }
    stw_le_p(buf + 16, s->nwords / 2 * 8 + need * 8);
    stw_le_p(buf + 18, s->nwords / 2);
    /* Ranges go one after the other in the header; pages fill in after. */
    if (s->nwords / 2 != 1) {
        return NULL;
    }
    stl_le_p(buf + 20, s->range_words[1]);
    stl_le_p(buf + 24, s->range_words[0]);
    res = vmbus_gpadl_header(&bus->gpadls, buf, 28, &relid, &id, &g, &why);
    if (res != VMBUS_GPADL_MORE) {
        return NULL;
    }
    for (r = 0; r < s->filled; r += 26) {
        uint32_t n = MIN(26, s->filled - r), k;

        stl_le_p(buf, VMBUS_MSG_GPADL_BODY);
        stl_le_p(buf + 8, 0);
        stl_le_p(buf + 12, s->id);
        for (k = 0; k < n; k++) {
            stq_le_p(buf + 16 + 8 * k, s->pfns[r + k]);
        }
        res = vmbus_gpadl_body(&bus->gpadls, buf, 16 + 8 * n, &relid, &id,
                               &g, &why);
        if (res == VMBUS_GPADL_FAILED || res == VMBUS_GPADL_IGNORED) {
            return NULL;
        }
    }
    g = vmbus_gpadl_find(&bus->gpadls, s->id);
    if (!g || g->complete != (s->filled == s->npages) ||
        g->complete != s->complete) {
        return NULL;
    }
    g->teardown = s->teardown;
    return g;
}

static int vmbus_post_load(void *opaque, int version_id)
{
    VMBus *bus = opaque;
    VMBusMig *s = bus->mig;
    unsigned long reoffer[BITS_TO_LONGS(VMBUS_MAX_RELID + 1)] = { 0 };
    uint32_t i;
    int ret = -EINVAL;

    vmbus_disconnect(bus, false);
    if (s->state > VMBUS_OFFERED || !vmbus_mig_counts_ok(s, 0) ||
        (s->state != VMBUS_DISCONNECTED &&
         (!vmbus_version_known(s->version) || s->sint >= HV_SINT_COUNT))) {
        error_report("vmbus: the migration stream has a bad bus state");
        goto out;
    }
    if (s->state != VMBUS_DISCONNECTED) {
        bus->route = hyperv_sint_route_new(s->target_vp, s->sint,
                                           vmbus_tx_done, bus);
        if (!bus->route) {
            error_report("vmbus: the stream names VP %u SINT %u, which "
                         "cannot take messages", s->target_vp, s->sint);
            goto out;
        }
        bus->state = s->state;
        bus->version = s->version;
        bus->target_vp = s->target_vp;
        bus->sint = s->sint;
    }
    for (i = 0; i < s->ngpadls; i++) {
        if (!vmbus_load_gpadl(bus, &s->gpadls[i])) {
            error_report("vmbus: GPADL %u in the stream is invalid",
                         s->gpadls[i].id);
            goto out;
        }
    }
    for (i = 0; i < s->nchans; i++) {
        VMBusChanMig *c = &s->chans[i];
        VMBusChannel *chan = vmbus_find_channel(bus, c->relid);
        VMBusMsgOpen open = {
            .relid = c->relid,
            .open_id = c->open_id,
            .ring_gpadl = c->ring_gpadl,
            .target_vp = c->target_vp,
            .host_ring_page = c->host_ring_page,
        };

        /* Every channel once: vmbus_disconnect() left them all NEW. */
        if (!chan || chan->state != VMBUS_CHAN_NEW || chan->rescinded ||
            c->state > VMBUS_CHAN_OPEN ||
            (c->state != VMBUS_CHAN_NEW && bus->state != VMBUS_OFFERED)) {
            error_report("vmbus: channel %u in the stream does not match "
                         "the devices here", c->relid);
            goto out;
        }
        if (c->rescinded && c->state == VMBUS_CHAN_NEW) {
            error_report("vmbus: channel %u in the stream is rescinded but "
                         "was never offered", c->relid);
            goto out;
        }
        if (c->reoffer && !c->rescinded) {
            error_report("vmbus: channel %u in the stream is to be offered "
                         "again but was not rescinded", c->relid);
            goto out;
        }
        if ((chan->idx == 0 && (c->enabled || c->revoked)) ||
            (c->revoked && (!c->rescinded || c->reoffer)) ||
            (chan->idx && c->state != VMBUS_CHAN_NEW && !c->enabled &&
             !c->rescinded)) {
            error_report("vmbus: sub-channel state of channel %u in the "
                         "stream is invalid", c->relid);
            goto out;
        }
        chan->rescinded = c->rescinded;
        chan->reoffer = c->reoffer;
        chan->enabled = c->enabled;
        chan->revoked = c->revoked;
        if (c->state != VMBUS_CHAN_OPEN) {
            chan->state = c->state;
            continue;
        }
        if (!vmbus_dev_migrates(chan->dev)) {
            /* Rescinded below, after the messages queued before. */
            chan->state = VMBUS_CHAN_OFFERED;
            if (!chan->rescinded) {
                set_bit(chan->relid, reoffer);
            }
            continue;
        }
        chan->state = VMBUS_CHAN_OFFERED;
        if (vmbus_open(bus, chan, &open, false) != VMBUS_STATUS_SUCCESS ||
            c->guest_own >= chan->guest_ring.size || c->guest_own % 8 ||
            c->host_own >= chan->host_ring.size || c->host_own % 8 ||
            c->host_reserved > chan->host_ring.size) {
            error_report("vmbus: open channel %u in the stream is invalid",
                         c->relid);
            goto out;
        }
        chan->guest_ring.own = chan->guest_ring.published = c->guest_own;
        chan->host_ring.own = chan->host_ring.published = c->host_own;
        chan->host_ring.reserved = c->host_reserved;
        chan->failed = c->failed;
    }
    /*
     * A sub-channel in the guest's hands needs its primary open (or about
     * to be offered again, which revokes it below); one asked for is
     * offered on an offered bus.  A rescinded primary that is not to be
     * offered again is an unplug still pending.
     */
    for (i = find_first_bit(bus->relids, VMBUS_MAX_RELID + 1);
         i <= VMBUS_MAX_RELID;
         i = find_next_bit(bus->relids, VMBUS_MAX_RELID + 1, i + 1)) {
        VMBusChannel *chan = vmbus_find_channel(bus, i);
        VMBusChannel *p = chan ? &chan->dev->channels[0] : NULL;

        if (!chan) {
            continue;
        }
        if (chan->idx == 0) {
            chan->leaving = chan->rescinded && !chan->reoffer;
            continue;
        }
        if ((chan->state != VMBUS_CHAN_NEW && !chan->rescinded &&
             p->state != VMBUS_CHAN_OPEN && !test_bit(p->relid, reoffer)) ||
            (chan->enabled && chan->state == VMBUS_CHAN_NEW &&
             !chan->rescinded && bus->state == VMBUS_OFFERED)) {
            error_report("vmbus: sub-channel %u in the stream does not go "
                         "with its primary channel %u", chan->relid,
                         p->relid);
            goto out;
        }
    }
    for (i = 0; i < s->nmsgs; i++) {
        VMBusMsgBuf *m;

        if (s->msgs[i].len > HV_MESSAGE_PAYLOAD_SIZE) {
            error_report("vmbus: a message in the stream is too long");
            goto out;
        }
        m = g_memdup2(&s->msgs[i], sizeof(*m));
        /* The source's sequence numbers mean nothing here. */
        m->seq = ++bus->tx_seq;
        if (i < s->ntx) {
            QSIMPLEQ_INSERT_TAIL(&bus->tx, m, link);
            bus->tx_count++;
        } else {
            QSIMPLEQ_INSERT_TAIL(&bus->rx, m, link);
            bus->rx_count++;
        }
    }
    for (i = find_first_bit(reoffer, VMBUS_MAX_RELID + 1);
         i <= VMBUS_MAX_RELID;
         i = find_next_bit(reoffer, VMBUS_MAX_RELID + 1, i + 1)) {
        /* (A sub-channel whose primary went first is revoked already.) */
        vmbus_reoffer(vmbus_find_channel(bus, i));
    }
    vmbus_kick(bus);
    ret = 0;
out:
    if (ret) {
        vmbus_disconnect(bus, false);
    }
    vmbus_mig_free(s);
    return ret;
}

static const VMStateDescription vmstate_vmbus_mig = {
    .name = "vmbus/state",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(state, VMBusMig),
        VMSTATE_UINT32(version, VMBusMig),
        VMSTATE_UINT32(target_vp, VMBusMig),
        VMSTATE_UINT32(sint, VMBusMig),
        VMSTATE_INT32(nchans, VMBusMig),
        VMSTATE_INT32(ngpadls, VMBusMig),
        VMSTATE_INT32(nmsgs, VMBusMig),
        VMSTATE_UINT32(ntx, VMBusMig),
        /* Before anything is allocated for them. */
        VMSTATE_VALIDATE("vmbus counts", vmbus_mig_counts_ok),
        VMSTATE_STRUCT_VARRAY_ALLOC(chans, VMBusMig, nchans, 0,
                                    vmstate_vmbus_chan, VMBusChanMig),
        VMSTATE_STRUCT_VARRAY_ALLOC(gpadls, VMBusMig, ngpadls, 0,
                                    vmstate_vmbus_gpadl, VMBusGpadlMig),
        VMSTATE_STRUCT_VARRAY_ALLOC(msgs, VMBusMig, nmsgs, 0,
                                    vmstate_vmbus_msg, VMBusMsgBuf),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_vmbus = {
    .name = "vmbus",
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_save = vmbus_pre_save,
    .post_save = vmbus_post_save,
    .pre_load = vmbus_pre_load,
    .post_load = vmbus_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT_POINTER(mig, VMBus, vmstate_vmbus_mig, VMBusMig),
        VMSTATE_END_OF_LIST()
    }
};

/* --- migration from QEMU 10.0.2 ---------------------------------------- */

/*
 * QEMU 10.0.2 sends its bus as the bridge's version 0:
 *   u8   its state: 0 while it waits for the guest, another value in the
 *        middle of an answer (which only that QEMU could finish);
 *   u32  the version last asked for: the connection's if it is one that
 *        QEMU speaks (at most 4.0), else the bus is not connected;
 *   u32  the VP of its messages (SINT 2), u64 the interrupt page;
 *   its GPADLs, each after a byte 1 and the list ended by a byte 0:
 *        u32 id, u32 relid, u32 pages, u32 pages received, the pages
 *        (u64 each), u8 state (0 being built, 1 alive, 2 and 3 torn down);
 *   subsection "vmbus/rx_queue": u8 first, u8 count, then 16 guest
 *        messages (u32 length, 240 bytes) not handled yet.
 * No channel state: its devices send none.  So a channel that the guest
 * built a GPADL for (and may have opened) is rescinded here and offered
 * again once released; the guest's driver then opens it afresh on this
 * bus, with a device that starts from its reset state.
 */
#define VMBUS_OLD_IDLE              0
#define VMBUS_OLD_GPADL_BUILDING    0
#define VMBUS_OLD_GPADL_ALIVE       1
#define VMBUS_OLD_GPADL_TORNDOWN    3
#define VMBUS_OLD_VERSION_MAX       VMBUS_VERSION_WIN10

static bool vmbus_old_gpadl_ok(void *opaque, int version_id)
{
    VMBusOldGpadl *g = opaque;

    return g->npages <= VMBUS_GPADL_MAX_PAGES && g->seen <= g->npages;
}

static const VMStateDescription vmstate_vmbus_old_gpadl = {
    .name = "vmbus/gpadl",
    .version_id = 0,
    .minimum_version_id = 0,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(id, VMBusOldGpadl),
        VMSTATE_UINT32(relid, VMBusOldGpadl),
        VMSTATE_UINT32(npages, VMBusOldGpadl),
        VMSTATE_UINT32(seen, VMBusOldGpadl),
        VMSTATE_VALIDATE("vmbus GPADL pages", vmbus_old_gpadl_ok),
        VMSTATE_VARRAY_UINT32_ALLOC(pfns, VMBusOldGpadl, npages, 0,
                                    vmstate_info_uint64, uint64_t),
        VMSTATE_UINT8(state, VMBusOldGpadl),
        VMSTATE_END_OF_LIST()
    }
};

/* The GPADL list, with the same bounds as a guest's GPADLs. */
static int vmbus_old_gpadls_get(QEMUFile *f, void *pv, size_t size,
                                const VMStateField *field)
{
    VMBusOld *o = container_of(pv, VMBusOld, ngpadls);
    VMBusOldGpadl *g;
    int ret;

    while (qemu_get_byte(f)) {
        if (o->ngpadls == VMBUS_GPADL_MAX_COUNT) {
            error_report("vmbus: more than %u GPADLs in the stream",
                         VMBUS_GPADL_MAX_COUNT);
            return -EINVAL;
        }
        if (!(o->ngpadls & 63)) {
            o->gpadls = g_renew(VMBusOldGpadl, o->gpadls, o->ngpadls + 64);
        }
        g = &o->gpadls[o->ngpadls++];
        memset(g, 0, sizeof(*g));
        ret = vmstate_load_state(f, &vmstate_vmbus_old_gpadl, g, 0);
        if (ret) {
            return ret;
        }
        o->npages += g->npages;
        if (o->npages > VMBUS_GPADL_MAX_PAGES) {
            error_report("vmbus: more than %u GPADL pages in the stream",
                         VMBUS_GPADL_MAX_PAGES);
            return -EINVAL;
        }
    }
    return 0;                   /* a read error is the caller's to see */
}

static int vmbus_old_gpadls_put(QEMUFile *f, void *pv, size_t size,
                                const VMStateField *field, JSONWriter *vmdesc)
{
    return -EINVAL;             /* never sent: only read */
}

static const VMStateInfo vmbus_old_gpadls_info = {
    .name = "vmbus-gpadl-list",
    .get = vmbus_old_gpadls_get,
    .put = vmbus_old_gpadls_put,
};

static const VMStateDescription vmstate_vmbus_old_msg = {
    .name = "vmbus/hyperv_post_message_input",
    .version_id = 0,
    .minimum_version_id = 0,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(len, VMBusOldMsg),
        VMSTATE_UINT8_ARRAY(data, VMBusOldMsg, HV_MESSAGE_PAYLOAD_SIZE),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_vmbus_old_rx_body = {
    .name = "vmbus/rx_queue/body",
    .version_id = 0,
    .minimum_version_id = 0,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(old.rx_head, VMBusMig),
        VMSTATE_UINT8(old.rx_size, VMBusMig),
        VMSTATE_STRUCT_ARRAY(old.rx, VMBusMig, VMBUS_OLD_RX_LEN, 0,
                             vmstate_vmbus_old_msg, VMBusOldMsg),
        VMSTATE_END_OF_LIST()
    }
};

static bool vmbus_old_never(void *opaque)
{
    return false;               /* read only */
}

static const VMStateDescription vmstate_vmbus_old_rx = {
    .name = "vmbus/rx_queue",
    .version_id = 0,
    .minimum_version_id = 0,
    .needed = vmbus_old_never,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT_POINTER(mig, VMBus, vmstate_vmbus_old_rx_body,
                               VMBusMig),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_vmbus_old_body = {
    .name = "vmbus/body",
    .version_id = 0,
    .minimum_version_id = 0,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(old.state, VMBusMig),
        VMSTATE_UINT32(old.version, VMBusMig),
        VMSTATE_UINT32(old.target_vp, VMBusMig),
        VMSTATE_UINT64(old.int_page, VMBusMig),
        {
            .name = "gpadl_list",
            .offset = offsetof(VMBusMig, old.ngpadls),
            .size = sizeof(uint32_t),
            .info = &vmbus_old_gpadls_info,
            .flags = VMS_SINGLE,
        },
        VMSTATE_END_OF_LIST()
    }
};

/* Which channel, if any, owns a GPADL of the stream. */
static bool vmbus_old_chan_used(VMBusOld *o, uint32_t relid)
{
    uint32_t i;

    for (i = 0; i < o->ngpadls; i++) {
        if (o->gpadls[i].relid == relid &&
            o->gpadls[i].state != VMBUS_OLD_GPADL_TORNDOWN) {
            return true;
        }
    }
    return false;
}

static void vmbus_old_reoffer(VMBusChannel *chan)
{
    /* QEMU 10.0.2 offers every channel of a device at once. */
    chan->enabled = chan->idx > 0;
    chan->state = VMBUS_CHAN_OFFERED;
    if (vmbus_old_chan_used(&chan->bus->mig->old, chan->relid)) {
        vmbus_reoffer(chan);
    }
}

static int vmbus_old_post_load(void *opaque, int version_id)
{
    VMBus *bus = opaque;
    VMBusOld *o = &bus->mig->old;
    bool connected, asks_offers = false;
    uint32_t i;
    int ret = -EINVAL;

    vmbus_disconnect(bus, false);
    connected = o->version && o->version <= VMBUS_OLD_VERSION_MAX;
    if (o->state != VMBUS_OLD_IDLE) {
        error_report("vmbus: the source was in the middle of an answer to "
                     "the guest (state %u); migrate again", o->state);
        goto out;
    }
    if (connected && !vmbus_version_known(o->version)) {
        error_report("vmbus: the guest is connected with version %u.%u, "
                     "which this QEMU does not speak (2.4 and later)",
                     o->version >> 16, o->version & 0xffff);
        goto out;
    }
    if (o->rx_head >= VMBUS_OLD_RX_LEN || o->rx_size > VMBUS_OLD_RX_LEN) {
        error_report("vmbus: the stream's message queue is invalid");
        goto out;
    }
    for (i = 0; i < o->rx_size; i++) {
        VMBusOldMsg *in = &o->rx[(o->rx_head + i) % VMBUS_OLD_RX_LEN];
        VMBusMsgBuf *m;

        if (in->len > HV_MESSAGE_PAYLOAD_SIZE) {
            error_report("vmbus: a message in the stream is too long");
            goto out;
        }
        asks_offers |= in->len >= 4 &&
                       ldl_le_p(in->data) == VMBUS_MSG_REQUESTOFFERS;
        m = g_new0(VMBusMsgBuf, 1);
        m->len = in->len;
        memcpy(m->data, in->data, in->len);
        QSIMPLEQ_INSERT_TAIL(&bus->rx, m, link);
        bus->rx_count++;
    }
    if (!connected) {
        if (o->ngpadls) {
            error_report("vmbus: GPADLs in the stream of a bus that is not "
                         "connected");
            goto out;
        }
        vmbus_kick(bus);
        ret = 0;
        goto out;
    }
    bus->route = hyperv_sint_route_new(o->target_vp, VMBUS_SINT,
                                       vmbus_tx_done, bus);
    if (!bus->route) {
        error_report("vmbus: the stream names VP %u, which cannot take "
                     "messages", o->target_vp);
        goto out;
    }
    bus->version = o->version;
    bus->target_vp = o->target_vp;
    bus->sint = VMBUS_SINT;
    for (i = 0; i < o->ngpadls; i++) {
        VMBusOldGpadl *og = &o->gpadls[i];
        /* One range over all its pages, as that QEMU kept them. */
        uint32_t words[2] = { 0, 0 };
        VMBusGpadlMig g = {
            .id = og->id, .relid = og->relid, .nwords = 2,
            .npages = og->npages, .filled = og->seen,
            .complete = og->seen == og->npages,
            .range_words = words, .pfns = og->pfns,
        };

        if (og->state == VMBUS_OLD_GPADL_TORNDOWN) {
            continue;           /* the guest was told */
        }
        if (og->npages <= UINT32_MAX / VMBUS_GPADL_PAGE_SIZE) {
            words[1] = og->npages * VMBUS_GPADL_PAGE_SIZE;
        }
        if ((og->state != VMBUS_OLD_GPADL_BUILDING &&
             og->state != VMBUS_OLD_GPADL_ALIVE) ||
            (og->state == VMBUS_OLD_GPADL_ALIVE) != g.complete ||
            !words[1] || !vmbus_find_channel(bus, og->relid) ||
            !vmbus_load_gpadl(bus, &g)) {
            error_report("vmbus: GPADL %u of relid %u in the stream is "
                         "invalid, or no device here has that relid",
                         og->id, og->relid);
            goto out;
        }
    }
    /*
     * The guest has had its offers, unless its REQUESTOFFERS is still
     * queued (or comes next: vmbus_request_offers()).
     */
    if (asks_offers) {
        bus->state = VMBUS_CONNECTED;
    } else {
        bus->state = VMBUS_OFFERED;
        bus->offers_implied = true;
        vmbus_for_each_channel(bus, vmbus_old_reoffer);
    }
    vmbus_kick(bus);
    ret = 0;
out:
    if (ret) {
        vmbus_disconnect(bus, false);
    }
    vmbus_mig_free(bus->mig);
    return ret;
}

static const VMStateDescription vmstate_vmbus_old = {
    .name = "vmbus",
    .version_id = 0,
    .minimum_version_id = 0,
    .pre_load = vmbus_pre_load,
    .post_load = vmbus_old_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT_POINTER(mig, VMBus, vmstate_vmbus_old_body, VMBusMig),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription * const []) {
        &vmstate_vmbus_old_rx,
        NULL
    }
};

static void vmbus_class_init(ObjectClass *oc, void *data)
{
    BusClass *bc = BUS_CLASS(oc);

    bc->realize = vmbus_realize;
    bc->unrealize = vmbus_unrealize;
    RESETTABLE_CLASS(oc)->phases.hold = vmbus_reset_hold;
    /* Paths name the bridge, then (firmware) the instance GUID. */
    bc->get_fw_dev_path = vmbus_get_fw_dev_path;
    bc->get_dev_path = vmbus_get_dev_path;
}

/* --- query-vmbus -------------------------------------------------------- */

static char *vmbus_uuid_str(const QemuUUID *uuid)
{
    char buf[UUID_STR_LEN];

    qemu_uuid_unparse(uuid, buf);
    return g_strdup(buf);
}

static VMBusRingInfo *vmbus_ring_info(const VMBusRing *r)
{
    VMBusRingView view;
    VMBusRingInfo *info;

    if (!vmbus_ring_view(r, &view)) {
        return NULL;
    }
    info = g_new0(VMBusRingInfo, 1);
    info->size = r->size;
    info->write_index = view.write_index;
    info->read_index = view.read_index;
    info->interrupt_mask = view.interrupt_mask;
    info->pending_send_size = view.pending_send_sz;
    info->host_index = r->own;
    info->broken = g_strdup(vmbus_ring_broken(r));
    return info;
}

static VMBusDeviceInfo *vmbus_device_info(VMBusDevice *dev)
{
    VMBusDeviceClass *vdc = VMBUS_DEVICE_GET_CLASS(dev);
    VMBusDeviceInfo *d = g_new0(VMBusDeviceInfo, 1);
    VMBusChannelInfoList **tail = &d->channels;
    int i;

    d->qom_path = object_get_canonical_path(OBJECT(dev));
    d->type = g_strdup(object_get_typename(OBJECT(dev)));
    d->class_id = vmbus_uuid_str(&vdc->classid);
    d->instance_id = vmbus_uuid_str(&dev->instanceid);
    for (i = 0; i < dev->num_channels; i++) {
        VMBusChannel *chan = &dev->channels[i];
        VMBusChannelInfo *c = g_new0(VMBusChannelInfo, 1);

        c->relid = chan->relid;
        c->index = chan->idx;
        c->state = chan->state == VMBUS_CHAN_OPEN ? VMBUS_CHANNEL_STATE_OPEN :
                   chan->state == VMBUS_CHAN_OFFERED ?
                   VMBUS_CHANNEL_STATE_OFFERED : VMBUS_CHANNEL_STATE_NEW;
        c->rescinded = chan->rescinded;
        c->failed = chan->failed;
        if (chan->state == VMBUS_CHAN_OPEN) {
            c->has_target_vp = c->has_ring_gpadl = true;
            c->target_vp = chan->target_vp;
            c->ring_gpadl = chan->ring_gpadl_id;
            c->to_host = vmbus_ring_info(&chan->guest_ring);
            c->to_guest = vmbus_ring_info(&chan->host_ring);
        }
        QAPI_LIST_APPEND(tail, c);
    }
    return d;
}

VMBusInfo *qmp_query_vmbus(Error **errp)
{
    Object *o = object_resolve_path_type("", TYPE_VMBUS_BRIDGE, NULL);
    VMBusDeviceInfoList **tail;
    VMBusInfo *info;
    VMBus *bus;
    uint32_t relid;

    if (!o || !VMBUS_BRIDGE(o)->bus) {
        error_setg(errp, "there is no %s in this machine", TYPE_VMBUS_BRIDGE);
        return NULL;
    }
    bus = VMBUS_BRIDGE(o)->bus;
    info = g_new0(VMBusInfo, 1);
    info->state = bus->state == VMBUS_OFFERED ? VMBUS_CONN_OFFERED :
                  bus->state == VMBUS_CONNECTED ? VMBUS_CONN_CONNECTED :
                  VMBUS_CONN_DISCONNECTED;
    if (bus->state != VMBUS_DISCONNECTED) {
        info->version = g_strdup_printf("%u.%u", bus->version >> 16,
                                        bus->version & 0xffff);
        info->has_target_vp = info->has_sint = true;
        info->target_vp = bus->target_vp;
        info->sint = bus->sint;
    }
    info->gpadls = bus->gpadls.count;
    info->gpadl_pages = bus->gpadls.pages;
    info->messages_queued = bus->tx_count;
    /* Devices in the order of their first relid: the order of the offers. */
    tail = &info->devices;
    for (relid = find_first_bit(bus->relids, VMBUS_MAX_RELID + 1);
         relid <= VMBUS_MAX_RELID;
         relid = find_next_bit(bus->relids, VMBUS_MAX_RELID + 1, relid + 1)) {
        VMBusChannel *chan = vmbus_find_channel(bus, relid);

        if (chan && chan->idx == 0) {
            QAPI_LIST_APPEND(tail, vmbus_device_info(chan->dev));
        }
    }
    return info;
}

/* --- the bridge ------------------------------------------------------- */

static void vmbus_bridge_realize(DeviceState *dev, Error **errp)
{
    VMBusBridge *bridge = VMBUS_BRIDGE(dev);

    if (!object_resolve_path_type("", TYPE_VMBUS_BRIDGE, NULL)) {
        error_setg(errp, "only one %s can be in the machine",
                   TYPE_VMBUS_BRIDGE);
        return;
    }
    bridge->bus = VMBUS(qbus_new(TYPE_VMBUS, dev, "vmbus"));
    qbus_set_hotplug_handler(BUS(bridge->bus), OBJECT(dev));
    if (!qbus_realize(BUS(bridge->bus), errp)) {
        object_unparent(OBJECT(bridge->bus));
        bridge->bus = NULL;
        return;
    }
    if (bridge->integration_services) {
        hv_ic_add_standard_set(BUS(bridge->bus), OBJECT(dev), errp);
    }
}

static char *vmbus_bridge_ofw_unit_address(const SysBusDevice *dev)
{
    return g_strdup("0");
}

/*
 * Version 1: ours.  Version 0: QEMU 10.0.2's, read (vmbus_old_post_load())
 * but never sent; that QEMU refuses version 1 (docs/devel/vmbus.md).
 */
#define VMBUS_BRIDGE_STREAM_VERSION 1

static bool vmbus_bridge_stream_old(void *opaque, int version_id)
{
    return version_id == 0;
}

static const VMStateDescription vmstate_vmbus_bridge = {
    .name = TYPE_VMBUS_BRIDGE,
    .version_id = VMBUS_BRIDGE_STREAM_VERSION,
    .minimum_version_id = 0,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT_POINTER_V(bus, VMBusBridge,
                                 VMBUS_BRIDGE_STREAM_VERSION, vmstate_vmbus,
                                 VMBus),
        {
            .name = "bus",
            .field_exists = vmbus_bridge_stream_old,
            .vmsd = &vmstate_vmbus_old,
            .size = sizeof(VMBus *),
            .flags = VMS_STRUCT | VMS_POINTER,
            .offset = offsetof(VMBusBridge, bus),
        },
        VMSTATE_END_OF_LIST()
    },
};

/*
 * irq: the ACPI node's interrupt (hw/i386/acpi-build.c), 7 as in QEMU
 * 10.0.2.  integration-services: the standard set of integration
 * services on the bus (hv_ic_add_standard_set()).
 */
static const Property vmbus_bridge_props[] = {
    DEFINE_PROP_UINT8("irq", VMBusBridge, irq, 7),
    DEFINE_PROP_BOOL("integration-services", VMBusBridge,
                     integration_services, false),
};

static void vmbus_bridge_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);
    HotplugHandlerClass *hc = HOTPLUG_HANDLER_CLASS(oc);

    /* The bridge is the bus's hot-plug handler: offers and rescinds. */
    hc->unplug_request = vmbus_hotplug_unplug_request;
    hc->plug = vmbus_hotplug_plug;
    /* A sysbus device the user adds (the machines allow it), at most one. */
    dc->user_creatable = true;
    dc->realize = vmbus_bridge_realize;
    dc->vmsd = &vmstate_vmbus_bridge;
    device_class_set_props(dc, vmbus_bridge_props);
    dc->fw_name = "vmbus";
    set_bit(DEVICE_CATEGORY_BRIDGE, dc->categories);
    SYS_BUS_DEVICE_CLASS(oc)->explicit_ofw_unit_address =
        vmbus_bridge_ofw_unit_address;
}

static const TypeInfo vmbus_types[] = {
    {
        .name = TYPE_VMBUS_BRIDGE,
        .parent = TYPE_SYS_BUS_DEVICE,
        .class_init = vmbus_bridge_class_init,
        .instance_size = sizeof(VMBusBridge),
        .interfaces = (InterfaceInfo[]) { { TYPE_HOTPLUG_HANDLER }, { } },
    }, {
        /* What hv-balloon and vmbus-echo derive from. */
        .name = TYPE_VMBUS_DEVICE, .parent = TYPE_DEVICE, .abstract = true,
        .class_init = vmbus_dev_class_init,
        .class_size = sizeof(VMBusDeviceClass),
        .instance_size = sizeof(VMBusDevice),
    }, {
        /* The bus the bridge carries. */
        .name = TYPE_VMBUS, .parent = TYPE_BUS,
        .class_init = vmbus_class_init,
        .instance_size = sizeof(VMBus),
    },
};

DEFINE_TYPES(vmbus_types)
