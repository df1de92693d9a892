/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * hyperv-testdev: lets a test guest drive the SynIC from the host side.
 *
 * The guest writes 32-bit commands to I/O port 0x3000 (the protocol
 * kvm-unit-tests' hyperv_synic and hyperv_connections use):
 *   bits 7:0 SINT, 15:8 VP index, 23:16 command, 31:24 connection ID.
 * Commands create, raise and destroy SINT routes, and create and destroy
 * message and event connections.  A message connection echoes every
 * HvPostMessage it gets into its route's message slot; an event
 * connection answers HvSignalEvent by setting the event flag numbered
 * like the connection.
 *
 * Command 8 is ours (kvm-unit-tests never sends it): a thread of the
 * device's own, which never takes the BQL, posts THREAD_POST_COUNT
 * messages through message connection conn_id.  The posting API promises
 * that any thread may post, and no other producer does it from a thread
 * that does not hold the BQL.  Message i has type THREAD_POST_TYPE and the
 * 32-bit payload i; while a message of the connection waits behind a
 * full slot, the thread waits for the guest to take it (EOM).
 *
 * Everything here comes from the guest: a command that names a missing
 * vCPU, route or connection, or one that exists already, is refused with
 * a log line, and whatever the guest created goes away at reset.
 */

#include "qemu/osdep.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "qemu/queue.h"
#include "qemu/thread.h"
#include "hw/isa/isa.h"
#include "hw/hyperv/hyperv.h"
#include "qom/object.h"
#include "hw/hyperv/hv-log.h"
#include "trace.h"

#define HV_TESTDEV_PORT 0x3000

enum {
    HV_TESTDEV_SINT_ROUTE_CREATE = 1,
    HV_TESTDEV_SINT_ROUTE_DESTROY,
    HV_TESTDEV_SINT_ROUTE_SET_SINT,
    HV_TESTDEV_MSG_CONN_CREATE,
    HV_TESTDEV_MSG_CONN_DESTROY,
    HV_TESTDEV_EVT_CONN_CREATE,
    HV_TESTDEV_EVT_CONN_DESTROY,
    HV_TESTDEV_MSG_CONN_THREAD_POST,
};

#define THREAD_POST_COUNT   64
#define THREAD_POST_TYPE    0x7e57
/* How long the thread sleeps while its previous message is staged. */
#define THREAD_POST_WAIT_US 100
/* A guest that stops taking messages must not keep the thread forever. */
#define THREAD_POST_LIMIT_US (60 * G_USEC_PER_SEC)

typedef struct TestRoute {
    QLIST_ENTRY(TestRoute) link;
    uint8_t vp_index;
    uint8_t sint;
    HvSintRoute *route;
} TestRoute;

typedef struct TestConn {
    QLIST_ENTRY(TestConn) link;
    bool is_msg;
    uint8_t conn_id;
    HvSintRoute *route;
    struct hyperv_message msg;      /* message connections: the echo */
    EventNotifier notifier;         /* event connections */
} TestConn;

#define TYPE_HYPERV_TEST_DEV "hyperv-testdev"
OBJECT_DECLARE_SIMPLE_TYPE(HypervTestDev, HYPERV_TEST_DEV)

/*
 * All lists are changed and walked with the BQL held.  The poster thread
 * (command 8; at most one at a time) is started and joined with the BQL
 * held; it reads only poster_route, which holds a reference of its own,
 * and poster_stop.
 */
struct HypervTestDev {
    ISADevice parent_obj;

    MemoryRegion port;
    QLIST_HEAD(, TestRoute) routes;
    QLIST_HEAD(, TestConn) conns;

    QemuThread poster;
    bool poster_started;        /* BQL: a thread to join */
    bool poster_stop;           /* atomic: set by the BQL holder */
    bool poster_done;           /* atomic: set by the thread at its end */
    HvSintRoute *poster_route;
};

/* --- SINT routes ------------------------------------------------------ */

static TestRoute *route_find(HypervTestDev *dev, uint8_t vp, uint8_t sint)
{
    TestRoute *r;

    QLIST_FOREACH(r, &dev->routes, link) {
        if (r->vp_index == vp && r->sint == sint) {
            return r;
        }
    }
    return NULL;
}

static bool route_create(HypervTestDev *dev, uint8_t vp, uint8_t sint)
{
    HvSintRoute *route;
    TestRoute *r;

    if (route_find(dev, vp, sint)) {
        return false;
    }
    route = hyperv_sint_route_new(vp, sint, NULL, NULL);
    if (!route) {
        return false;
    }
    r = g_new0(TestRoute, 1);
    r->vp_index = vp;
    r->sint = sint;
    r->route = route;
    QLIST_INSERT_HEAD(&dev->routes, r, link);
    return true;
}

static void route_destroy(TestRoute *r)
{
    QLIST_REMOVE(r, link);
    hyperv_sint_route_unref(r->route);
    g_free(r);
}

/* --- connections --------------------------------------------------- */

static TestConn *conn_find(HypervTestDev *dev, uint8_t conn_id, bool is_msg)
{
    TestConn *c;

    QLIST_FOREACH(c, &dev->conns, link) {
        if (c->conn_id == conn_id && c->is_msg == is_msg) {
            return c;
        }
    }
    return NULL;
}

/* The echo reached the guest's slot, or could not (status < 0). */
static void msg_conn_done(void *data, int status)
{
    TestConn *c = data;

    trace_hyperv_testdev_echo_done(c->conn_id, status);
}

/* HvPostMessage on a message connection: echo the message back. */
static uint16_t msg_conn_handler(const struct hyperv_post_message_input *in,
                                 void *data)
{
    TestConn *c = data;
    int ret;

    /* in->payload_size is checked against the payload size already. */
    c->msg.header.message_type = in->message_type;
    c->msg.header.payload_size = in->payload_size;
    memcpy(c->msg.payload, in->payload, in->payload_size);
    ret = hyperv_post_msg(c->route, &c->msg);
    if (ret == -EAGAIN) {
        /* The previous echo is still waiting for the guest's EOM. */
        return HV_STATUS_INSUFFICIENT_BUFFERS;
    }
    return ret ? HV_STATUS_INVALID_HYPERCALL_INPUT : HV_STATUS_SUCCESS;
}

/* HvSignalEvent on an event connection: set the flag of the same number. */
static void evt_conn_handler(EventNotifier *n)
{
    TestConn *c = container_of(n, TestConn, notifier);
    int ret;

    event_notifier_test_and_clear(n);
    ret = hyperv_set_event_flag(c->route, c->conn_id);
    trace_hyperv_testdev_event(c->conn_id, ret);
}

/* --- posting from a thread without the BQL (command 8) ----------------- */

static void *poster_run(void *opaque)
{
    HypervTestDev *dev = opaque;
    int64_t deadline = g_get_monotonic_time() + THREAD_POST_LIMIT_US;
    struct hyperv_message msg = {
        .header.message_type = THREAD_POST_TYPE,
        .header.payload_size = sizeof(uint32_t),
    };
    uint32_t i = 0;
    int ret = 0;

    while (i < THREAD_POST_COUNT && !qatomic_read(&dev->poster_stop) &&
           g_get_monotonic_time() < deadline) {
        stl_le_p(msg.payload, i);
        ret = hyperv_post_msg(dev->poster_route, &msg);
        if (ret == -EAGAIN) {
            /* the previous one is staged: the main loop finishes it */
            g_usleep(THREAD_POST_WAIT_US);
            continue;
        }
        if (ret < 0) {
            break;
        }
        i++;
    }
    trace_hyperv_testdev_thread_post(i, ret);
    qatomic_set(&dev->poster_done, true);
    return NULL;
}

/* Stop the poster thread, if any, and wait for it.  BQL. */
static void poster_join(HypervTestDev *dev)
{
    if (!dev->poster_started) {
        return;
    }
    qatomic_set(&dev->poster_stop, true);
    qemu_thread_join(&dev->poster);
    hyperv_sint_route_unref(dev->poster_route);
    dev->poster_route = NULL;
    dev->poster_started = false;
}

static bool poster_start(HypervTestDev *dev, TestConn *c)
{
    if (!c || !c->is_msg) {
        return false;
    }
    /* one at a time: a finished thread is joined, a running one refuses */
    if (dev->poster_started && !qatomic_read(&dev->poster_done)) {
        return false;
    }
    poster_join(dev);
    hyperv_sint_route_ref(c->route);
    dev->poster_route = c->route;
    qatomic_set(&dev->poster_stop, false);
    qatomic_set(&dev->poster_done, false);
    qemu_thread_create(&dev->poster, "hv-testdev-post", poster_run, dev,
                       QEMU_THREAD_JOINABLE);
    dev->poster_started = true;
    return true;
}

static void conn_destroy(TestConn *c)
{
    QLIST_REMOVE(c, link);
    if (c->is_msg) {
        hyperv_set_msg_handler(c->conn_id, NULL, NULL);
    } else {
        hyperv_set_event_flag_handler(c->conn_id, NULL);
        event_notifier_set_handler(&c->notifier, NULL);
        event_notifier_cleanup(&c->notifier);
    }
    hyperv_sint_route_unref(c->route);
    g_free(c);
}

static bool conn_register(TestConn *c)
{
    if (c->is_msg) {
        return hyperv_set_msg_handler(c->conn_id, msg_conn_handler, c) == 0;
    }
    if (event_notifier_init(&c->notifier, false) < 0) {
        return false;
    }
    event_notifier_set_handler(&c->notifier, evt_conn_handler);
    if (hyperv_set_event_flag_handler(c->conn_id, &c->notifier) < 0) {
        event_notifier_set_handler(&c->notifier, NULL);
        event_notifier_cleanup(&c->notifier);
        return false;
    }
    return true;
}

static bool conn_create(HypervTestDev *dev, bool is_msg, uint8_t vp,
                        uint8_t sint, uint8_t conn_id)
{
    TestConn *c;

    if (conn_find(dev, conn_id, is_msg)) {
        return false;
    }
    c = g_new0(TestConn, 1);
    c->is_msg = is_msg;
    c->conn_id = conn_id;
    c->route = hyperv_sint_route_new(vp, sint, is_msg ? msg_conn_done : NULL,
                                     c);
    if (!c->route) {
        g_free(c);
        return false;
    }
    if (!conn_register(c)) {
        hyperv_sint_route_unref(c->route);
        g_free(c);
        return false;
    }
    QLIST_INSERT_HEAD(&dev->conns, c, link);
    return true;
}

/* --- the I/O port ----------------------------------------------------- */

static bool testdev_command(HypervTestDev *dev, uint8_t cmd, uint8_t vp,
                            uint8_t sint, uint8_t conn_id)
{
    TestRoute *r;
    TestConn *c;

    switch (cmd) {
    case HV_TESTDEV_SINT_ROUTE_CREATE:
        return route_create(dev, vp, sint);
    case HV_TESTDEV_SINT_ROUTE_DESTROY:
        r = route_find(dev, vp, sint);
        if (r) {
            route_destroy(r);
        }
        return r;
    case HV_TESTDEV_SINT_ROUTE_SET_SINT:
        r = route_find(dev, vp, sint);
        return r && hyperv_sint_route_set_sint(r->route) == 0;
    case HV_TESTDEV_MSG_CONN_CREATE:
    case HV_TESTDEV_EVT_CONN_CREATE:
        return conn_create(dev, cmd == HV_TESTDEV_MSG_CONN_CREATE, vp, sint,
                           conn_id);
    case HV_TESTDEV_MSG_CONN_DESTROY:
    case HV_TESTDEV_EVT_CONN_DESTROY:
        c = conn_find(dev, conn_id, cmd == HV_TESTDEV_MSG_CONN_DESTROY);
        if (c && c->route == dev->poster_route) {
            poster_join(dev);
        }
        if (c) {
            conn_destroy(c);
        }
        return c;
    case HV_TESTDEV_MSG_CONN_THREAD_POST:
        return poster_start(dev, conn_find(dev, conn_id, true));
    default:
        return false;
    }
}

static uint64_t testdev_read(void *opaque, hwaddr addr, unsigned size)
{
    return 0;
}

static void testdev_write(void *opaque, hwaddr addr, uint64_t data,
                          unsigned size)
{
    HypervTestDev *dev = opaque;
    uint8_t sint = extract64(data, 0, 8);
    uint8_t vp = extract64(data, 8, 8);
    uint8_t cmd = extract64(data, 16, 8);
    uint8_t conn_id = extract64(data, 24, 8);
    bool ok = testdev_command(dev, cmd, vp, sint, conn_id);

    trace_hyperv_testdev_command(cmd, vp, sint, conn_id, ok);
    if (!ok) {
        hv_guest_error("hyperv-testdev: command %u (VP %u SINT %u "
                       "connection %u) refused", cmd, vp, sint, conn_id);
    }
}

static const MemoryRegionOps testdev_ops = {
    .read = testdev_read,
    .write = testdev_write,
    .valid.min_access_size = 4,
    .valid.max_access_size = 4,
    .endianness = DEVICE_LITTLE_ENDIAN,
};

/* What the guest created goes away with it; runs before the SynIC reset. */
static void testdev_reset_hold(Object *obj, ResetType type)
{
    HypervTestDev *dev = HYPERV_TEST_DEV(obj);

    poster_join(dev);
    while (!QLIST_EMPTY(&dev->conns)) {
        conn_destroy(QLIST_FIRST(&dev->conns));
    }
    while (!QLIST_EMPTY(&dev->routes)) {
        route_destroy(QLIST_FIRST(&dev->routes));
    }
}

static void testdev_realize(DeviceState *d, Error **errp)
{
    HypervTestDev *dev = HYPERV_TEST_DEV(d);

    QLIST_INIT(&dev->routes);
    QLIST_INIT(&dev->conns);
    memory_region_init_io(&dev->port, OBJECT(dev), &testdev_ops, dev,
                          "hyperv-testdev-ctl", 4);
    memory_region_add_subregion(isa_address_space_io(ISA_DEVICE(d)),
                                HV_TESTDEV_PORT, &dev->port);
}

static void testdev_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    dc->realize = testdev_realize;
    rc->phases.hold = testdev_reset_hold;
}

static const TypeInfo testdev_info = {
    .name = TYPE_HYPERV_TEST_DEV,
    .parent = TYPE_ISA_DEVICE,
    .instance_size = sizeof(HypervTestDev),
    .class_init = testdev_class_init,
};

static void testdev_types(void)
{
    type_register_static(&testdev_info);
}
type_init(testdev_types)
