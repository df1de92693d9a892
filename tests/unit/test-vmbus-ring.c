/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The VMBus host's ring code (hw/hyperv/vmbus-ring.c) against rings in a
 * plain buffer, with this file playing the guest: packets in both
 * directions, wrap-around, the signalling rules, a full ring, and the
 * guest breaking the rules.
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "hw/hyperv/vmbus-ring.h"

#define PAGE 4096

typedef struct Mem {
    uint8_t *buf;
    uint32_t len;
    uint32_t hole;          /* accesses at or above it fail, if not 0 */
    unsigned accesses;
} Mem;

static bool mem_access(void *opaque, uint32_t off, void *buf, uint32_t len,
                       bool write)
{
    Mem *m = opaque;

    g_assert_cmpuint((uint64_t)off + len, <=, m->len);
    m->accesses++;
    if (m->hole && off + len > m->hole) {
        return false;
    }
    if (write) {
        memcpy(m->buf + off, buf, len);
    } else {
        memcpy(buf, m->buf + off, len);
    }
    return true;
}

static Mem *mem_new(uint32_t npages)
{
    Mem *m = g_new0(Mem, 1);

    m->len = npages * PAGE;
    m->buf = g_malloc0(m->len);
    return m;
}

static void mem_free(Mem *m)
{
    g_free(m->buf);
    g_free(m);
}

static uint32_t ctrl(Mem *m, uint32_t off)
{
    uint32_t v;

    memcpy(&v, m->buf + off, 4);
    return le32_to_cpu(v);
}

static void set_ctrl(Mem *m, uint32_t off, uint32_t val)
{
    val = cpu_to_le32(val);
    memcpy(m->buf + off, &val, 4);
}

static uint32_t data_size(Mem *m)
{
    return m->len - PAGE;
}

/* The guest's copy in or out of the data area, going round. */
static void guest_rw(Mem *m, uint32_t pos, void *buf, uint32_t len,
                     bool write)
{
    uint32_t i;

    for (i = 0; i < len; i++) {
        uint8_t *p = m->buf + PAGE + (pos + i) % data_size(m);

        if (write) {
            *p = ((uint8_t *)buf)[i];
        } else {
            ((uint8_t *)buf)[i] = *p;
        }
    }
}

/* The guest writes an in-band packet with @len payload bytes of @fill. */
static void guest_send(Mem *m, uint16_t type, uint8_t fill, uint32_t len)
{
    uint32_t wr = ctrl(m, VMBUS_RING_WRITE_INDEX);
    uint32_t total = sizeof(VMBusPacketDesc) + ROUND_UP(len, 8);
    VMBusPacketDesc d = {
        .type = cpu_to_le16(type),
        .offset8 = cpu_to_le16(sizeof(d) / 8),
        .len8 = cpu_to_le16(total / 8),
        .trans_id = cpu_to_le64(0x1000 + fill),
    };
    g_autofree uint8_t *payload = g_malloc0(ROUND_UP(len, 8));
    uint64_t trailer = cpu_to_le64((uint64_t)wr << 32);

    memset(payload, fill, len);
    guest_rw(m, wr, &d, sizeof(d), true);
    guest_rw(m, wr + sizeof(d), payload, ROUND_UP(len, 8), true);
    guest_rw(m, wr + total, &trailer, 8, true);
    set_ctrl(m, VMBUS_RING_WRITE_INDEX, (wr + total + 8) % data_size(m));
}

/* The guest reads one packet the host wrote; returns its payload size. */
static uint32_t guest_recv(Mem *m, VMBusPacketDesc *d, uint8_t *payload)
{
    uint32_t rd = ctrl(m, VMBUS_RING_READ_INDEX);
    uint32_t len;
    uint64_t trailer;

    g_assert_cmpuint(rd, !=, ctrl(m, VMBUS_RING_WRITE_INDEX));
    guest_rw(m, rd, d, sizeof(*d), false);
    len = le16_to_cpu(d->len8) * 8;
    g_assert_cmpuint(le16_to_cpu(d->offset8) * 8, ==, sizeof(*d));
    guest_rw(m, rd + sizeof(*d), payload, len - sizeof(*d), false);
    guest_rw(m, rd + len, &trailer, 8, false);
    g_assert_cmphex(le64_to_cpu(trailer), ==, (uint64_t)rd << 32);
    set_ctrl(m, VMBUS_RING_READ_INDEX, (rd + len + 8) % data_size(m));
    return len - sizeof(*d);
}

/* The host writes an in-band packet: descriptor, then @len bytes. */
static int host_send(VMBusRing *r, uint8_t fill, uint32_t len)
{
    g_autofree uint8_t *payload = g_malloc(len);
    uint32_t total = sizeof(VMBusPacketDesc) + ROUND_UP(len, 8);
    VMBusPacketDesc d = {
        .type = cpu_to_le16(6),
        .offset8 = cpu_to_le16(sizeof(d) / 8),
        .len8 = cpu_to_le16(total / 8),
        .trans_id = cpu_to_le64(fill),
    };
    struct iovec iov[2] = {
        { .iov_base = &d, .iov_len = sizeof(d) },
        { .iov_base = payload, .iov_len = len },
    };

    memset(payload, fill, len);
    return vmbus_ring_write(r, iov, 2);
}

/* The host takes one packet and checks it came as guest_send() made it. */
static void host_take(VMBusRing *r, uint8_t fill, uint32_t len)
{
    VMBusPacketDesc d;
    g_autofree uint8_t *got = g_malloc(len + 1);
    uint32_t i;

    g_assert_cmpint(vmbus_ring_peek(r, &d), ==, 1);
    g_assert_cmpuint(d.type, ==, 6);
    g_assert_cmphex(d.trans_id, ==, 0x1000 + fill);
    g_assert_cmpuint(d.len8 * 8, ==, sizeof(d) + ROUND_UP(len, 8));
    g_assert_true(vmbus_ring_read(r, sizeof(d), got, len));
    for (i = 0; i < len; i++) {
        g_assert_cmpuint(got[i], ==, fill);
    }
    vmbus_ring_pop(r);
}

static void test_init(void)
{
    Mem *m = mem_new(3);
    VMBusRing r;

    g_assert_false(vmbus_ring_init(&r, 1, mem_access, m, false));
    g_assert_cmpstr(vmbus_ring_broken(&r), ==, "ring size out of bounds");

    set_ctrl(m, VMBUS_RING_READ_INDEX, 12);
    g_assert_false(vmbus_ring_init(&r, 3, mem_access, m, false));
    g_assert_nonnull(vmbus_ring_broken(&r));
    set_ctrl(m, VMBUS_RING_READ_INDEX, 2 * PAGE);
    g_assert_false(vmbus_ring_init(&r, 3, mem_access, m, false));

    /* A ring opened again where it was left. */
    set_ctrl(m, VMBUS_RING_READ_INDEX, 2 * PAGE - 8);
    set_ctrl(m, VMBUS_RING_WRITE_INDEX, 2 * PAGE - 8);
    g_assert_true(vmbus_ring_init(&r, 3, mem_access, m, false));
    g_assert_null(vmbus_ring_broken(&r));
    g_assert_cmpuint(r.size, ==, 2 * PAGE);
    guest_send(m, 6, 0x5a, 100);
    host_take(&r, 0x5a, 100);
    mem_free(m);
}

static void test_read(void)
{
    Mem *m = mem_new(2);
    VMBusPacketDesc d;
    VMBusRing r;
    unsigned i, lens[] = { 0, 1, 8, 100, 1000, 2000, 13, 4000 - 24 };

    g_assert_true(vmbus_ring_init(&r, 2, mem_access, m, false));
    g_assert_cmpint(vmbus_ring_peek(&r, &d), ==, 0);
    /* Many rounds of a 4 KiB ring: packets across the end too. */
    for (i = 0; i < 64; i++) {
        uint32_t len = lens[i % ARRAY_SIZE(lens)];

        guest_send(m, 6, i, len);
        host_take(&r, i, len);
        g_assert_cmpint(vmbus_ring_peek(&r, &d), ==, 0);
        g_assert_false(vmbus_ring_publish_read(&r));
        g_assert_cmpuint(ctrl(m, VMBUS_RING_READ_INDEX), ==,
                         ctrl(m, VMBUS_RING_WRITE_INDEX));
    }
    /* Several packets, one publish. */
    guest_send(m, 6, 1, 10);
    guest_send(m, 6, 2, 20);
    host_take(&r, 1, 10);
    g_assert_cmpuint(ctrl(m, VMBUS_RING_READ_INDEX), !=,
                     ctrl(m, VMBUS_RING_WRITE_INDEX) - 48);
    host_take(&r, 2, 20);
    vmbus_ring_publish_read(&r);
    g_assert_cmpuint(ctrl(m, VMBUS_RING_READ_INDEX), ==,
                     ctrl(m, VMBUS_RING_WRITE_INDEX));
    mem_free(m);
}

/* Reads stay inside the packet: the device cannot be led beyond it. */
static void test_read_overrun(void)
{
    Mem *m = mem_new(2);
    VMBusPacketDesc d;
    uint8_t buf[64];
    VMBusRing r;

    g_assert_true(vmbus_ring_init(&r, 2, mem_access, m, false));
    guest_send(m, 6, 1, 20);
    guest_send(m, 6, 2, 20);
    g_assert_cmpint(vmbus_ring_peek(&r, &d), ==, 1);
    g_assert_true(vmbus_ring_read(&r, 0, buf, 16 + 24));
    g_assert_false(vmbus_ring_read(&r, 16, buf, 25));
    g_assert_cmpstr(vmbus_ring_broken(&r), ==, "read beyond the packet");
    mem_free(m);

    m = mem_new(2);
    g_assert_true(vmbus_ring_init(&r, 2, mem_access, m, false));
    guest_send(m, 6, 1, 20);
    g_assert_cmpint(vmbus_ring_peek(&r, &d), ==, 1);
    g_assert_false(vmbus_ring_read(&r, UINT32_MAX, buf, 2));
    g_assert_nonnull(vmbus_ring_broken(&r));
    mem_free(m);
}

static void test_pending_send_sz(void)
{
    Mem *m = mem_new(2);
    VMBusRing r;
    int i;

    g_assert_true(vmbus_ring_init(&r, 2, mem_access, m, false));
    /* The guest fills 3000 of 4096 bytes, then wants 2000 free. */
    for (i = 0; i < 3; i++) {
        guest_send(m, 6, i, 1000 - 24);
    }
    set_ctrl(m, VMBUS_RING_PENDING_SEND_SZ, 2000);
    /* 1096 -> 2096 free: crosses 2000, signal. */
    host_take(&r, 0, 1000 - 24);
    g_assert_true(vmbus_ring_publish_read(&r));
    /* 2096 -> 3096: was enough already, no signal. */
    host_take(&r, 1, 1000 - 24);
    g_assert_false(vmbus_ring_publish_read(&r));
    /* Not asked: no signal. */
    set_ctrl(m, VMBUS_RING_PENDING_SEND_SZ, 0);
    host_take(&r, 2, 1000 - 24);
    g_assert_false(vmbus_ring_publish_read(&r));
    mem_free(m);
}

/* Each corruption stops the ring, which then stays stopped. */
static void test_read_corrupt(void)
{
    static const struct {
        const char *what;
        uint32_t wr;            /* write index to publish */
        uint16_t offset8, len8;
    } cases[] = {
        { "write index unaligned", 36, 2, 4 },
        { "write index outside", 2 * PAGE, 2, 4 },
        { "header shorter than a descriptor", 40, 1, 4 },
        { "length shorter than the header", 40, 3, 2 },
        { "packet longer than published", 40, 2, 5 },
        { "published less than a packet", 16, 2, 2 },
    };
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        Mem *m = mem_new(3);
        VMBusPacketDesc d = {
            .type = cpu_to_le16(6),
            .offset8 = cpu_to_le16(cases[i].offset8),
            .len8 = cpu_to_le16(cases[i].len8),
        };
        VMBusRing r;
        unsigned before;

        g_test_message("%s", cases[i].what);
        g_assert_true(vmbus_ring_init(&r, 3, mem_access, m, false));
        memcpy(m->buf + PAGE, &d, sizeof(d));
        set_ctrl(m, VMBUS_RING_WRITE_INDEX, cases[i].wr);
        g_assert_cmpint(vmbus_ring_peek(&r, &d), ==, -1);
        g_assert_nonnull(vmbus_ring_broken(&r));
        /* Stopped: a good packet now changes nothing, reads nothing. */
        set_ctrl(m, VMBUS_RING_WRITE_INDEX, 0);
        guest_send(m, 6, 1, 8);
        before = m->accesses;
        g_assert_cmpint(vmbus_ring_peek(&r, &d), ==, -1);
        g_assert_false(vmbus_ring_publish_read(&r));
        g_assert_cmpuint(m->accesses, ==, before);
        mem_free(m);
    }
}

static void test_write(void)
{
    Mem *m = mem_new(2);
    VMBusPacketDesc d;
    uint8_t buf[PAGE];
    VMBusRing r;
    int i;

    g_assert_true(vmbus_ring_init(&r, 2, mem_access, m, true));
    /* Empty before: signal; not empty: no signal. */
    g_assert_cmpint(host_send(&r, 1, 100), ==, 1);
    g_assert_cmpint(host_send(&r, 2, 5), ==, 0);
    g_assert_cmpuint(guest_recv(m, &d, buf), ==, 104);
    g_assert_cmpuint(buf[99], ==, 1);
    g_assert_cmpuint(buf[100], ==, 0);      /* padding */
    g_assert_cmpuint(guest_recv(m, &d, buf), ==, 8);
    g_assert_cmpuint(buf[4], ==, 2);
    /* Masked reader: no signal. */
    set_ctrl(m, VMBUS_RING_INTERRUPT_MASK, 1);
    g_assert_cmpint(host_send(&r, 3, 8), ==, 0);
    set_ctrl(m, VMBUS_RING_INTERRUPT_MASK, 0);
    guest_recv(m, &d, buf);
    /* Round and round, across the end. */
    for (i = 0; i < 100; i++) {
        uint32_t len = (i * 379) % 2000;

        g_assert_cmpint(host_send(&r, i, len), ==, 1);
        g_assert_cmpuint(guest_recv(m, &d, buf), ==, ROUND_UP(len, 8));
        g_assert_cmpuint(len ? buf[len - 1] : i, ==, i);
    }
    g_assert_null(vmbus_ring_broken(&r));
    mem_free(m);
}

static void test_write_full(void)
{
    Mem *m = mem_new(2);
    VMBusPacketDesc d;
    uint8_t buf[PAGE];
    VMBusRing r;
    uint32_t room;
    int i;

    g_assert_true(vmbus_ring_init(&r, 2, mem_access, m, true));
    g_assert_cmpint(vmbus_ring_free(&r, &room), ==, 0);
    g_assert_cmpuint(room, ==, PAGE - 8);
    /* 1000-byte packets (976 + 16 + 8): four fit, the fifth does not. */
    for (i = 0; i < 4; i++) {
        g_assert_cmpint(host_send(&r, i, 976), >=, 0);
    }
    g_assert_cmpint(vmbus_ring_free(&r, &room), ==, 0);
    g_assert_cmpuint(room, ==, PAGE - 4000 - 8);
    g_assert_cmpint(host_send(&r, 9, 976), ==, -ENOSPC);
    /* The guest is asked to say when 1000 bytes are free. */
    g_assert_cmpuint(ctrl(m, VMBUS_RING_PENDING_SEND_SZ), ==, 1000);
    g_assert_cmpint(vmbus_ring_reserve(&r, 1000), ==, -ENOSPC);
    guest_recv(m, &d, buf);
    g_assert_cmpint(vmbus_ring_reserve(&r, 1000), ==, 0);
    g_assert_cmpuint(ctrl(m, VMBUS_RING_PENDING_SEND_SZ), ==, 0);
    /* Promised room is not handed out twice. */
    g_assert_cmpint(vmbus_ring_reserve(&r, 96), ==, -ENOSPC);
    vmbus_ring_unreserve(&r, 1000);
    g_assert_cmpint(vmbus_ring_reserve(&r, 96), ==, 0);
    vmbus_ring_unreserve(&r, 96);
    /* Exactly the room left fits; a full ring still looks full. */
    g_assert_cmpint(vmbus_ring_free(&r, &room), ==, 0);
    g_assert_cmpint(host_send(&r, 5, room - 24), >=, 0);
    g_assert_cmpuint(ctrl(m, VMBUS_RING_WRITE_INDEX), !=,
                     ctrl(m, VMBUS_RING_READ_INDEX));
    for (i = 0; i < 4; i++) {
        guest_recv(m, &d, buf);
    }
    g_assert_cmpuint(ctrl(m, VMBUS_RING_WRITE_INDEX), ==,
                     ctrl(m, VMBUS_RING_READ_INDEX));
    g_assert_null(vmbus_ring_broken(&r));
    mem_free(m);
}

static void test_write_corrupt(void)
{
    Mem *m = mem_new(2);
    VMBusRing r;

    g_assert_true(vmbus_ring_init(&r, 2, mem_access, m, true));
    set_ctrl(m, VMBUS_RING_READ_INDEX, 4);
    g_assert_cmpint(host_send(&r, 1, 8), ==, -EIO);
    g_assert_nonnull(vmbus_ring_broken(&r));
    set_ctrl(m, VMBUS_RING_READ_INDEX, 0);
    g_assert_cmpint(host_send(&r, 1, 8), ==, -EIO);
    g_assert_cmpuint(ctrl(m, VMBUS_RING_WRITE_INDEX), ==, 0);
    mem_free(m);
}

/* A ring whose data pages are not guest memory. */
static void test_no_memory(void)
{
    Mem *m = mem_new(3);
    VMBusPacketDesc d;
    VMBusRing r;

    g_assert_true(vmbus_ring_init(&r, 3, mem_access, m, false));
    guest_send(m, 6, 1, 5000);
    m->hole = 2 * PAGE;
    g_assert_cmpint(vmbus_ring_peek(&r, &d), ==, 1);
    g_assert_false(vmbus_ring_read(&r, sizeof(d), m->buf, 5000));
    g_assert_cmpstr(vmbus_ring_broken(&r), ==,
                    "data area not in guest memory");
    mem_free(m);
}

/*
 * The monitor's view: the control page as it is, corrupt values
 * included, and neither a bad index nor missing memory breaks the ring.
 */
static void test_view(void)
{
    Mem *m = mem_new(3);
    VMBusRingView v;
    VMBusRing r;

    g_assert_true(vmbus_ring_init(&r, 3, mem_access, m, false));
    set_ctrl(m, VMBUS_RING_WRITE_INDEX, 3 * PAGE + 5);
    set_ctrl(m, VMBUS_RING_READ_INDEX, 16);
    set_ctrl(m, VMBUS_RING_INTERRUPT_MASK, 1);
    set_ctrl(m, VMBUS_RING_PENDING_SEND_SZ, 200);
    g_assert_true(vmbus_ring_view(&r, &v));
    g_assert_cmpuint(v.write_index, ==, 3 * PAGE + 5);
    g_assert_cmpuint(v.read_index, ==, 16);
    g_assert_cmpuint(v.interrupt_mask, ==, 1);
    g_assert_cmpuint(v.pending_send_sz, ==, 200);
    g_assert_null(vmbus_ring_broken(&r));
    m->hole = 8;
    g_assert_false(vmbus_ring_view(&r, &v));
    g_assert_null(vmbus_ring_broken(&r));
    mem_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vmbus-ring/init", test_init);
    g_test_add_func("/vmbus-ring/read", test_read);
    g_test_add_func("/vmbus-ring/read/overrun", test_read_overrun);
    g_test_add_func("/vmbus-ring/read/pending-send-sz", test_pending_send_sz);
    g_test_add_func("/vmbus-ring/read/corrupt", test_read_corrupt);
    g_test_add_func("/vmbus-ring/write", test_write);
    g_test_add_func("/vmbus-ring/write/full", test_write_full);
    g_test_add_func("/vmbus-ring/write/corrupt", test_write_corrupt);
    g_test_add_func("/vmbus-ring/no-memory", test_no_memory);
    g_test_add_func("/vmbus-ring/view", test_view);
    return g_test_run();
}
