/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * VMBus ring buffers, host side: the layout both sides share, and the
 * checked operations the VMBus host does on a guest's rings.
 *
 * A channel has two rings in one GPADL: the guest writes the first and
 * the host reads it; the host writes the second and the guest reads it.
 * Each ring is a control page followed by a circular data area.  In the
 * control page the writer owns the write index and pending_send_sz, the
 * reader owns the read index and interrupt_mask.  Every packet starts
 * with a descriptor and is followed by an 8-byte trailer that holds, in
 * its upper half, the offset where the packet started.
 *
 * The guest can change its half of the control page, and the data, at
 * any moment.  So every value read from it is checked where it is used,
 * the host keeps its own index in QEMU and never reads it back, and a
 * ring that breaks a rule stops: it is "broken" for good, with a reason
 * for the channel's trace and guest error, and touches no more memory.
 */

#ifndef HW_HYPERV_VMBUS_RING_H
#define HW_HYPERV_VMBUS_RING_H

/* The control page; the data area follows it. */
#define VMBUS_RING_CTRL_SIZE        4096
#define VMBUS_RING_WRITE_INDEX      0
#define VMBUS_RING_READ_INDEX       4
#define VMBUS_RING_INTERRUPT_MASK   8
#define VMBUS_RING_PENDING_SEND_SZ  12
#define VMBUS_RING_FEATURE_BITS     64
#define VMBUS_RING_FEAT_PENDING_SEND_SZ 0x1

/* Packet descriptor: lengths in units of 8 bytes. */
typedef struct VMBusPacketDesc {
    uint16_t type;
    uint16_t offset8;           /* descriptor and its extra header */
    uint16_t len8;              /* the whole packet, without the trailer */
    uint16_t flags;
    uint64_t trans_id;
} QEMU_PACKED VMBusPacketDesc;

#define VMBUS_PACKET_TRAILER        8
/* Packet flags */
#define VMBUS_PACKET_FLAG_COMPLETION_REQUESTED 0x1

/*
 * The ring's memory, reached through @access: @off counts from the start
 * of the control page, and never reaches beyond the ring.  Returns false
 * when the memory is not there (a page outside guest RAM).
 */
typedef bool (*VMBusRingAccess)(void *opaque, uint32_t off, void *buf,
                                uint32_t len, bool write);

typedef struct VMBusRing {
    VMBusRingAccess access;
    void *opaque;
    uint32_t size;          /* bytes in the data area */
    /*
     * Our index: the read index of a ring we read, the write index of a
     * ring we write.  @published is what the guest has been told of it.
     */
    uint32_t own;
    uint32_t published;
    /* Reading: the packet peeked at (bytes from @own), 0 if none. */
    uint32_t pkt_len;
    /* Reading: the last peek found the ring empty. */
    bool drained;
    /* Writing: bytes promised to callers (vmbus_ring_reserve). */
    uint32_t reserved;
    const char *broken;     /* why the ring stopped, or NULL */
} VMBusRing;

/*
 * Take a ring of @npages pages (control page included).  The current
 * indices are taken from the control page: a fresh ring has 0 in both.
 * Returns false, with the ring broken, if the ring is unusable.
 */
bool vmbus_ring_init(VMBusRing *r, uint32_t npages, VMBusRingAccess access,
                     void *opaque, bool host_writes);

/* The reason a ring stopped, or NULL. */
static inline const char *vmbus_ring_broken(const VMBusRing *r)
{
    return r->broken;
}

/* The control page as it reads now, for introspection. */
typedef struct VMBusRingView {
    uint32_t write_index;
    uint32_t read_index;
    uint32_t interrupt_mask;
    uint32_t pending_send_sz;
} VMBusRingView;

/*
 * Read the control page's four words unchecked, into @view: they are
 * shown, never used.  The ring's state does not change, even if the
 * page is gone; false then.
 */
bool vmbus_ring_view(const VMBusRing *r, VMBusRingView *view);

/* --- the ring the guest writes --------------------------------------- */

/*
 * Look at the next packet without taking it: 1 with @desc filled in (in
 * host byte order), 0 if the ring is empty, -1 if the ring is broken
 * (now or before).  The
 * descriptor is checked against the data the guest has published.
 */
int vmbus_ring_peek(VMBusRing *r, VMBusPacketDesc *desc);
/* Copy @len bytes from @off in the peeked packet.  false: broken. */
bool vmbus_ring_read(VMBusRing *r, uint32_t off, void *buf, uint32_t len);
/* Done with the peeked packet; the guest learns of it at publish. */
void vmbus_ring_pop(VMBusRing *r);
/*
 * Tell the guest how far we have read.  Returns whether it must be
 * signalled: it asked, with pending_send_sz, for room we just made.
 */
bool vmbus_ring_publish_read(VMBusRing *r);
/*
 * After vmbus_ring_publish_read(), when the last peek found the ring
 * empty (asked once per such peek): whether the guest has written
 * since.  A guest signals only when it finds the read index at the
 * place it wrote to, so a packet written while our read index was not
 * yet published comes with no signal: the caller must read again.
 */
bool vmbus_ring_written_since(VMBusRing *r);
/* The reader's interrupt mask: on while the host drains on its own. */
void vmbus_ring_set_interrupt_mask(VMBusRing *r, bool masked);

/* --- the ring the host writes ---------------------------------------- */

/*
 * The room a new promise could take now, in @bytes: free space, less
 * what is promised and the 8 bytes that never fill.  0, or -EIO.
 */
int vmbus_ring_free(VMBusRing *r, uint32_t *bytes);
/*
 * Promise @len bytes (vmbus_ring_packet_len() of a packet) to later
 * writes; promises form one pool.  0, -ENOSPC (the guest's
 * pending_send_sz is then set, so that it signals once it has read
 * enough), or -EIO (broken).
 */
int vmbus_ring_reserve(VMBusRing *r, uint32_t len);
/* Give back a promise that was not used. */
void vmbus_ring_unreserve(VMBusRing *r, uint32_t len);
/*
 * Write one packet made of the @iovcnt pieces of @iov (the descriptor
 * first), padded with zeros to a multiple of 8 and followed by the
 * trailer, and publish it.  It takes vmbus_ring_packet_len() bytes from
 * the promised pool, promising what is missing first.  Returns 1 if the
 * guest must be signalled, 0 if not, -ENOSPC, or -EIO (broken).
 */
int vmbus_ring_write(VMBusRing *r, const struct iovec *iov, int iovcnt);

/* Ring bytes a packet of @len bytes takes: padding and trailer too. */
static inline uint32_t vmbus_ring_packet_len(uint32_t len)
{
    return ROUND_UP(len, 8) + VMBUS_PACKET_TRAILER;
}

#endif
