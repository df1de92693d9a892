/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * VMBus ring buffers, host side (include/hw/hyperv/vmbus-ring.h has the
 * layout and the rules).
 *
 * Signalling follows what both sides of a VMBus expect:
 *  - a writer signals the reader only when the ring was empty before its
 *    packet (the reader drains everything once woken), and not while the
 *    reader's interrupt_mask is set;
 *  - a reader signals the writer only when the writer asked, by setting
 *    pending_send_sz, and the room just made crosses that size: the
 *    writer waits for free space strictly larger than pending_send_sz.
 * A packet of n bytes (trailer included) fits only if the free space is
 * larger than n, so that a full ring never has equal indices, which mean
 * an empty one.
 */

#include "qemu/osdep.h"
#include "qemu/atomic.h"
#include "qemu/bswap.h"
#include "hw/hyperv/vmbus-ring.h"

/* Rings larger than this are refused (2 GiB of data area). */
#define VMBUS_RING_MAX_PAGES    ((1u << 31) / VMBUS_RING_CTRL_SIZE + 1)

static bool ring_fail(VMBusRing *r, const char *why)
{
    if (!r->broken) {
        r->broken = why;
    }
    return false;
}

static bool ring_ctrl_get(VMBusRing *r, uint32_t off, uint32_t *val)
{
    uint32_t le;

    if (!r->access(r->opaque, off, &le, sizeof(le), false)) {
        return ring_fail(r, "control page not in guest memory");
    }
    *val = le32_to_cpu(le);
    return true;
}

static bool ring_ctrl_put(VMBusRing *r, uint32_t off, uint32_t val)
{
    uint32_t le = cpu_to_le32(val);

    if (!r->access(r->opaque, off, &le, sizeof(le), true)) {
        return ring_fail(r, "control page not in guest memory");
    }
    return true;
}

/* An index of the guest's: inside the data area, on an 8-byte boundary. */
static bool ring_index_get(VMBusRing *r, uint32_t off, uint32_t *idx)
{
    if (!ring_ctrl_get(r, off, idx)) {
        return false;
    }
    if (*idx >= r->size || (*idx & 7)) {
        return ring_fail(r, off == VMBUS_RING_WRITE_INDEX ?
                         "write index outside the ring or unaligned" :
                         "read index outside the ring or unaligned");
    }
    return true;
}

/* Bytes from index @from up to index @to, going round. */
static uint32_t ring_dist(VMBusRing *r, uint32_t from, uint32_t to)
{
    return to >= from ? to - from : r->size - from + to;
}

static uint32_t ring_advance(VMBusRing *r, uint32_t pos, uint32_t len)
{
    return (uint32_t)(((uint64_t)pos + len) % r->size);
}

/* @len (at most the ring's size) bytes at @pos of the data area. */
static bool ring_data_rw(VMBusRing *r, uint32_t pos, void *buf,
                         uint32_t len, bool write)
{
    uint32_t first = MIN(len, r->size - pos);

    if (!r->access(r->opaque, VMBUS_RING_CTRL_SIZE + pos, buf, first,
                   write) ||
        (len > first &&
         !r->access(r->opaque, VMBUS_RING_CTRL_SIZE, (uint8_t *)buf + first,
                    len - first, write))) {
        return ring_fail(r, "data area not in guest memory");
    }
    return true;
}

bool vmbus_ring_init(VMBusRing *r, uint32_t npages, VMBusRingAccess access,
                     void *opaque, bool host_writes)
{
    *r = (VMBusRing) {
        .access = access,
        .opaque = opaque,
    };
    if (npages < 2 || npages > VMBUS_RING_MAX_PAGES) {
        return ring_fail(r, "ring size out of bounds");
    }
    r->size = (npages - 1) * VMBUS_RING_CTRL_SIZE;
    if (!ring_index_get(r, host_writes ? VMBUS_RING_WRITE_INDEX :
                        VMBUS_RING_READ_INDEX, &r->own)) {
        return false;
    }
    r->published = r->own;
    return true;
}

bool vmbus_ring_view(const VMBusRing *r, VMBusRingView *view)
{
    uint32_t le[4];

    QEMU_BUILD_BUG_ON(VMBUS_RING_PENDING_SEND_SZ != 3 * sizeof(uint32_t));
    if (!r->access || !r->access(r->opaque, 0, le, sizeof(le), false)) {
        return false;
    }
    view->write_index = le32_to_cpu(le[0]);
    view->read_index = le32_to_cpu(le[1]);
    view->interrupt_mask = le32_to_cpu(le[2]);
    view->pending_send_sz = le32_to_cpu(le[3]);
    return true;
}

/* --- the ring the guest writes ---------------------------------------- */

int vmbus_ring_peek(VMBusRing *r, VMBusPacketDesc *desc)
{
    uint32_t wr, avail, hdr_len, len;

    r->pkt_len = 0;
    r->drained = false;
    if (r->broken || !ring_index_get(r, VMBUS_RING_WRITE_INDEX, &wr)) {
        return -1;
    }
    avail = ring_dist(r, r->own, wr);
    if (!avail) {
        r->drained = true;
        return 0;
    }
    /* The index is read before the data it covers. */
    smp_rmb();
    if (avail < sizeof(*desc) + VMBUS_PACKET_TRAILER) {
        ring_fail(r, "published data shorter than a packet");
        return -1;
    }
    if (!ring_data_rw(r, r->own, desc, sizeof(*desc), false)) {
        return -1;
    }
    desc->type = le16_to_cpu(desc->type);
    desc->offset8 = le16_to_cpu(desc->offset8);
    desc->len8 = le16_to_cpu(desc->len8);
    desc->flags = le16_to_cpu(desc->flags);
    desc->trans_id = le64_to_cpu(desc->trans_id);
    hdr_len = desc->offset8 * 8u;
    len = desc->len8 * 8u;
    if (hdr_len < sizeof(*desc) || len < hdr_len) {
        ring_fail(r, "packet descriptor with bad lengths");
        return -1;
    }
    if (len + VMBUS_PACKET_TRAILER > avail) {
        ring_fail(r, "packet longer than the published data");
        return -1;
    }
    r->pkt_len = len;
    return 1;
}

bool vmbus_ring_read(VMBusRing *r, uint32_t off, void *buf, uint32_t len)
{
    if (r->broken) {
        return false;
    }
    if (off > r->pkt_len || len > r->pkt_len - off) {
        return ring_fail(r, "read beyond the packet");
    }
    return ring_data_rw(r, ring_advance(r, r->own, off), buf, len, false);
}

void vmbus_ring_pop(VMBusRing *r)
{
    if (!r->broken && r->pkt_len) {
        r->own = ring_advance(r, r->own, r->pkt_len + VMBUS_PACKET_TRAILER);
        r->pkt_len = 0;
    }
}

bool vmbus_ring_publish_read(VMBusRing *r)
{
    uint32_t old = r->published, pending, wr, before, after;

    if (r->broken || r->own == old) {
        return false;
    }
    /* Done with the data before the guest may overwrite it. */
    smp_mb();
    if (!ring_ctrl_put(r, VMBUS_RING_READ_INDEX, r->own)) {
        return false;
    }
    r->published = r->own;
    /* The new index is visible before we look at what the writer wants. */
    smp_mb();
    if (!ring_ctrl_get(r, VMBUS_RING_PENDING_SEND_SZ, &pending) ||
        !pending || !ring_index_get(r, VMBUS_RING_WRITE_INDEX, &wr)) {
        return false;
    }
    before = r->size - ring_dist(r, old, wr);
    after = r->size - ring_dist(r, r->own, wr);
    return before <= pending && after > pending;
}

bool vmbus_ring_written_since(VMBusRing *r)
{
    uint32_t wr;

    if (r->broken || !r->drained) {
        return false;
    }
    /* Once per peek that found the ring empty. */
    r->drained = false;
    /* Our read index is visible before we look at the writer's. */
    smp_mb();
    return ring_index_get(r, VMBUS_RING_WRITE_INDEX, &wr) && wr != r->own;
}

void vmbus_ring_set_interrupt_mask(VMBusRing *r, bool masked)
{
    if (!r->broken) {
        ring_ctrl_put(r, VMBUS_RING_INTERRUPT_MASK, masked);
        /* Unmasked before the caller looks at the ring once more. */
        smp_mb();
    }
}

/* --- the ring the host writes ------------------------------------------ */

int vmbus_ring_free(VMBusRing *r, uint32_t *bytes)
{
    uint32_t rd, free;

    if (r->broken || !ring_index_get(r, VMBUS_RING_READ_INDEX, &rd)) {
        return -EIO;
    }
    /* What the guest has read is free again: minus what we promised. */
    free = r->size - ring_dist(r, rd, r->own);
    /* The last 8 bytes never fill: equal indices mean empty. */
    *bytes = free > r->reserved + 8 ? free - r->reserved - 8 : 0;
    return 0;
}

int vmbus_ring_reserve(VMBusRing *r, uint32_t len)
{
    uint32_t room;

    if (vmbus_ring_free(r, &room) < 0) {
        return -EIO;
    }
    if (room < len) {
        /*
         * Ask the guest to signal once it has read enough: free space
         * above pending_send_sz leaves room for everything promised.
         */
        if (!ring_ctrl_put(r, VMBUS_RING_PENDING_SEND_SZ, r->reserved + len)) {
            return -EIO;
        }
        /* It may have read everything before it saw the request. */
        smp_mb();
        if (vmbus_ring_free(r, &room) < 0) {
            return -EIO;
        }
        if (room < len) {
            return -ENOSPC;
        }
    }
    if (!ring_ctrl_put(r, VMBUS_RING_PENDING_SEND_SZ, 0)) {
        return -EIO;
    }
    r->reserved += len;
    return 0;
}

void vmbus_ring_unreserve(VMBusRing *r, uint32_t len)
{
    r->reserved -= MIN(len, r->reserved);
}

int vmbus_ring_write(VMBusRing *r, const struct iovec *iov, int iovcnt)
{
    static const uint8_t zeros[8];
    uint64_t total = 0;
    uint64_t trailer;
    uint32_t plen, pos, old, masked, rd;
    int i;

    for (i = 0; i < iovcnt; i++) {
        total += iov[i].iov_len;
    }
    if (r->broken) {
        return -EIO;
    }
    if (total > r->size) {
        return -ENOSPC;
    }
    plen = vmbus_ring_packet_len(total);
    if (plen > r->reserved && vmbus_ring_reserve(r, plen - r->reserved)) {
        return r->broken ? -EIO : -ENOSPC;
    }
    old = pos = r->own;
    for (i = 0; i < iovcnt; i++) {
        if (!ring_data_rw(r, pos, iov[i].iov_base, iov[i].iov_len, true)) {
            return -EIO;
        }
        pos = ring_advance(r, pos, iov[i].iov_len);
    }
    if (ROUND_UP(total, 8) != total &&
        !ring_data_rw(r, pos, (void *)zeros, ROUND_UP(total, 8) - total,
                      true)) {
        return -EIO;
    }
    pos = ring_advance(r, old, ROUND_UP(total, 8));
    trailer = cpu_to_le64((uint64_t)old << 32);
    if (!ring_data_rw(r, pos, &trailer, sizeof(trailer), true)) {
        return -EIO;
    }
    /* The packet is in place before the index that covers it. */
    smp_wmb();
    r->own = r->published = ring_advance(r, old, plen);
    r->reserved -= plen;
    if (!ring_ctrl_put(r, VMBUS_RING_WRITE_INDEX, r->own)) {
        return -EIO;
    }
    /* The index is out before we look at whether the reader sleeps. */
    smp_mb();
    if (!ring_ctrl_get(r, VMBUS_RING_INTERRUPT_MASK, &masked) ||
        !ring_index_get(r, VMBUS_RING_READ_INDEX, &rd)) {
        return -EIO;
    }
    return !masked && rd == old;
}
