/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * hv-kvp: Hyper-V's key-value pair exchange ("Data Exchange")
 * integration service.  The guest keeps pools of string pairs: some it
 * fills itself (its name, OS and addresses in the "auto" pool, what its
 * software writes in the "guest" pool), some the host fills for it
 * ("external", "auto-external").  Linux's hv_utils hands every request
 * to a daemon (hv_kvp_daemon); Windows' vmickvpexchange serves them
 * itself.
 *
 * QEMU reads the guest's pools every poll-ms, one item per transaction,
 * and keeps the last complete reading for query-hv-kvp, which therefore
 * answers at once.  hv-kvp-set and hv-kvp-delete write the host's pools
 * and wait for the guest's answer; they go out between two items of a
 * reading.
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/module.h"
#include "qemu/timer.h"
#include "qemu/coroutine.h"
#include "qemu/main-loop.h"
#include "block/aio.h"
#include "qapi/error.h"
#include "qapi/clone-visitor.h"
#include "qapi/qapi-commands-machine.h"
#include "qapi/qapi-visit-machine.h"
#include "hw/qdev-properties.h"
#include "system/runstate.h"
#include "hw/hyperv/hv-ic.h"
#include "hw/hyperv/hv-log.h"
#include "trace.h"

#define TYPE_HV_KVP "hv-kvp"
OBJECT_DECLARE_SIMPLE_TYPE(HvKvp, HV_KVP)

/* Hyper-V's class and instance GUIDs. */
#define HV_KVP_CLASS            "a9a0f4e7-5a45-4d96-b827-8a841e8c03e6"
#define HV_KVP_INSTANCE         "242ff919-07db-4180-9c2e-b86cb68c8c55"

/* Operations. */
#define HV_KVP_OP_SET           1
#define HV_KVP_OP_DELETE        2
#define HV_KVP_OP_ENUMERATE     3

/* Pools on the wire (QAPI's HvKvpPool names them). */
#define HV_KVP_WIRE_EXTERNAL        0
#define HV_KVP_WIRE_GUEST           1
#define HV_KVP_WIRE_AUTO            2
#define HV_KVP_WIRE_AUTO_EXTERNAL   3

/* Value types: Linux's and Windows' numbers for 64 bits differ. */
#define HV_KVP_REG_SZ           1
#define HV_KVP_REG_U32          4
#define HV_KVP_REG_U64          8
#define HV_KVP_REG_QWORD        11

/* An enumeration's end: "no more items". */
#define HV_KVP_S_NO_MORE        0x80070103u

/* Key and value sizes in bytes of UTF-16, the terminating NUL included. */
#define HV_KVP_KEY_BYTES        512
#define HV_KVP_VALUE_BYTES      2048

/* At most this many items per pool in one reading. */
#define HV_KVP_ITEMS_MAX        256

typedef struct HvKvpRecord {
    uint32_t type;
    uint32_t key_size;
    uint32_t value_size;
    uint8_t key[HV_KVP_KEY_BYTES];
    uint8_t value[HV_KVP_VALUE_BYTES];
} QEMU_PACKED HvKvpRecord;

/*
 * The request, padded to the size of the largest of its three forms, as
 * Hyper-V sends it; the guest answers in place.
 */
typedef struct HvKvpMsg {
    uint8_t op;
    uint8_t pool;
    uint16_t reserved;
    union {
        HvKvpRecord set;
        struct {
            uint32_t key_size;
            uint8_t key[HV_KVP_KEY_BYTES];
        } QEMU_PACKED del;
        struct {
            uint32_t index;
            HvKvpRecord item;
        } QEMU_PACKED en;
    };
} QEMU_PACKED HvKvpMsg;

QEMU_BUILD_BUG_ON(sizeof(HvKvpRecord) != 2572);
QEMU_BUILD_BUG_ON(sizeof(HvKvpMsg) != 2580);
QEMU_BUILD_BUG_ON(sizeof(HvKvpMsg) > HV_IC_BODY_MAX);

/* The pools a reading goes through, in order. */
static const HvKvpPool hv_kvp_read_pools[] = {
    HV_KVP_POOL_AUTO, HV_KVP_POOL_GUEST,
};

/* What hv-kvp-set and hv-kvp-delete wait for, in their own frame. */
typedef struct HvKvpWait {
    Coroutine *co;
    HvKvpMsg msg;
    bool sent;
    bool answered;
    uint32_t status;
} HvKvpWait;

struct HvKvp {
    HvIc parent;
    uint32_t poll_ms;
    QEMUTimer *poll;
    HvKvpWait *waiter;

    /* The reading under way. */
    bool reading;
    bool poll_due;
    unsigned int pool_idx;      /* into hv_kvp_read_pools */
    uint32_t index;             /* the item asked for */
    HvKvpItemList *next, **next_tail;

    /* The last complete reading. */
    HvKvpItemList *items;
    int64_t read_ms;            /* when it ended (QEMU_CLOCK_REALTIME) */
    uint64_t readings, bad;
};

/* The one device (Hyper-V's instance GUID makes it one per bus). */
static HvKvp *hv_kvp_dev;

/* Linux speaks 3.0 and 4.0; Windows also 5.0 (its binary IP info). */
static const uint32_t hv_kvp_versions[] = {
    HV_IC_VERSION(3, 0), HV_IC_VERSION(4, 0), HV_IC_VERSION(5, 0),
};

static const uint8_t hv_kvp_pool_wire[HV_KVP_POOL__MAX] = {
    [HV_KVP_POOL_EXTERNAL] = HV_KVP_WIRE_EXTERNAL,
    [HV_KVP_POOL_GUEST] = HV_KVP_WIRE_GUEST,
    [HV_KVP_POOL_AUTO] = HV_KVP_WIRE_AUTO,
    [HV_KVP_POOL_AUTO_EXTERNAL] = HV_KVP_WIRE_AUTO_EXTERNAL,
};

/*
 * @s (UTF-8) as NUL-terminated UTF-16LE in @out (@max bytes): its size
 * in bytes with the NUL, or 0 if it does not fit or is not UTF-8.
 */
static uint32_t hv_kvp_to_utf16(const char *s, uint8_t *out, uint32_t max)
{
    glong n, i;
    g_autofree gunichar2 *u = g_utf8_to_utf16(s, -1, NULL, &n, NULL);

    if (!u || (n + 1) * 2 > max) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        stw_le_p(out + 2 * i, u[i]);
    }
    stw_le_p(out + 2 * n, 0);
    return (n + 1) * 2;
}

/*
 * The guest's UTF-16LE string of @size bytes at @in (at most @max), up
 * to its first NUL, as UTF-8; NULL if it is not UTF-16.
 */
static char *hv_kvp_from_utf16(const uint8_t *in, uint32_t size, uint32_t max)
{
    uint32_t n = MIN(size, max) / 2, i;
    g_autofree gunichar2 *u = g_new(gunichar2, n + 1);

    for (i = 0; i < n; i++) {
        u[i] = lduw_le_p(in + 2 * i);
        if (!u[i]) {
            break;
        }
    }
    return g_utf16_to_utf8(u, i, NULL, NULL, NULL);
}

/* An item's value as text: strings as they are, numbers in decimal. */
static char *hv_kvp_value(const HvKvpRecord *r)
{
    uint32_t size = le32_to_cpu(r->value_size);

    switch (le32_to_cpu(r->type)) {
    case HV_KVP_REG_SZ:
        return hv_kvp_from_utf16(r->value, size, HV_KVP_VALUE_BYTES);
    case HV_KVP_REG_U32:
        return g_strdup_printf("%" PRIu32, ldl_le_p(r->value));
    case HV_KVP_REG_U64:
    case HV_KVP_REG_QWORD:
        return g_strdup_printf("%" PRIu64, ldq_le_p(r->value));
    default:
        return NULL;
    }
}

/* Put the next request out, if the service is free: a command's first. */
static void hv_kvp_kick(HvKvp *s)
{
    HvIc *ic = HV_IC(s);
    HvKvpMsg m = { .op = HV_KVP_OP_ENUMERATE };

    if (!hv_ic_ready(ic)) {
        return;
    }
    if (s->waiter && !s->waiter->sent) {
        if (hv_ic_request(ic, &s->waiter->msg, sizeof(s->waiter->msg)) == 0) {
            s->waiter->sent = true;
            trace_hv_kvp_request(s->waiter->msg.op, s->waiter->msg.pool, 0);
        }
        return;
    }
    if (!s->reading) {
        if (!s->poll_due) {
            return;
        }
        s->poll_due = false;
        s->reading = true;
        s->pool_idx = 0;
        s->index = 0;
        s->next = NULL;
        s->next_tail = &s->next;
    }
    m.pool = hv_kvp_pool_wire[hv_kvp_read_pools[s->pool_idx]];
    m.en.index = cpu_to_le32(s->index);
    if (hv_ic_request(ic, &m, sizeof(m)) == 0) {
        trace_hv_kvp_request(m.op, m.pool, s->index);
    }
}

/* The reading under way ends: complete, or given up (the last stays). */
static void hv_kvp_read_end(HvKvp *s, bool complete)
{
    if (!s->reading) {
        return;
    }
    s->reading = false;
    if (complete) {
        qapi_free_HvKvpItemList(s->items);
        s->items = s->next;
        s->read_ms = qemu_clock_get_ms(QEMU_CLOCK_REALTIME);
        s->readings++;
    } else {
        qapi_free_HvKvpItemList(s->next);
    }
    s->next = NULL;
    s->next_tail = &s->next;
    trace_hv_kvp_read_end(complete, s->readings);
    if (s->poll_ms) {
        timer_mod(s->poll, qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL) + s->poll_ms);
    }
}

/* The next pool, or the reading's end. */
static void hv_kvp_next_pool(HvKvp *s)
{
    s->index = 0;
    if (++s->pool_idx == ARRAY_SIZE(hv_kvp_read_pools)) {
        hv_kvp_read_end(s, true);
    }
}

static void hv_kvp_bad(HvKvp *s, const char *why)
{
    s->bad++;
    hv_guest_error("hv-kvp: %s", why);
    trace_hv_kvp_bad(why);
    hv_kvp_read_end(s, false);
}

/* An item of the reading, answered with success. */
static void hv_kvp_item(HvKvp *s, const HvKvpMsg *m, uint32_t len)
{
    const HvKvpRecord *r = &m->en.item;
    HvKvpItem *item;
    char *key, *value;

    if (len < sizeof(*m)) {
        hv_kvp_bad(s, "an item's answer is short");
        return;
    }
    if (s->index == HV_KVP_ITEMS_MAX) {
        hv_kvp_bad(s, "a pool has more items than QEMU reads");
        return;
    }
    if (m->op != HV_KVP_OP_ENUMERATE ||
        m->pool != hv_kvp_pool_wire[hv_kvp_read_pools[s->pool_idx]] ||
        le32_to_cpu(m->en.index) != s->index) {
        hv_kvp_bad(s, "an item's answer names another request");
        return;
    }
    key = hv_kvp_from_utf16(r->key, le32_to_cpu(r->key_size),
                            HV_KVP_KEY_BYTES);
    value = hv_kvp_value(r);
    if (!key || !*key || !value) {
        g_free(key);
        g_free(value);
        hv_kvp_bad(s, "an item is not a key and a value QEMU can read");
        return;
    }
    item = g_new0(HvKvpItem, 1);
    item->pool = hv_kvp_read_pools[s->pool_idx];
    item->key = key;
    item->value = value;
    QAPI_LIST_APPEND(s->next_tail, item);
    s->index++;
}

/* Wake the command waiting, from a bottom half. */
static void hv_kvp_wake(HvKvp *s, bool answered, uint32_t status)
{
    HvKvpWait *w = s->waiter;

    if (w) {
        s->waiter = NULL;
        w->answered = answered;
        w->status = status;
        aio_co_schedule(qemu_get_aio_context(), w->co);
    }
}

static void hv_kvp_answer(HvIc *ic, uint32_t status, const uint8_t *body,
                          uint32_t len)
{
    HvKvp *s = HV_KVP(ic);
    HvKvpMsg m = { };

    memcpy(&m, body, MIN(len, sizeof(m)));
    trace_hv_kvp_answer(m.op, m.pool, status, len);
    if (s->waiter && s->waiter->sent) {
        hv_kvp_wake(s, true, status);
    } else if (s->reading) {
        if (status == HV_IC_S_OK) {
            hv_kvp_item(s, &m, len);
        } else {
            /* "No more items"; any other error ends the pool as well. */
            hv_kvp_next_pool(s);
        }
    }
    hv_kvp_kick(s);
}

static void hv_kvp_timeout(HvIc *ic)
{
    HvKvp *s = HV_KVP(ic);

    if (s->waiter && s->waiter->sent) {
        hv_kvp_wake(s, false, 0);
    } else {
        hv_kvp_read_end(s, false);
    }
    hv_kvp_kick(s);
}

static void hv_kvp_closed(HvIc *ic)
{
    HvKvp *s = HV_KVP(ic);

    hv_kvp_wake(s, false, 0);
    hv_kvp_read_end(s, false);
    timer_del(s->poll);
    s->poll_due = false;
}

/* Versions agreed: a reading at once. */
static void hv_kvp_ready(HvIc *ic)
{
    HvKvp *s = HV_KVP(ic);

    s->poll_due = true;
    hv_kvp_kick(s);
}

static void hv_kvp_poll(void *opaque)
{
    HvKvp *s = opaque;

    s->poll_due = true;
    hv_kvp_kick(s);
}

static void hv_kvp_realize(HvIc *ic, Error **errp)
{
    HvKvp *s = HV_KVP(ic);

    s->next_tail = &s->next;
    s->poll = timer_new_ms(QEMU_CLOCK_VIRTUAL, hv_kvp_poll, s);
    hv_kvp_dev = s;
}

static void hv_kvp_unrealize(HvIc *ic)
{
    HvKvp *s = HV_KVP(ic);

    hv_kvp_wake(s, false, 0);
    hv_kvp_read_end(s, false);
    timer_free(s->poll);
    s->poll = NULL;
    qapi_free_HvKvpItemList(s->items);
    s->items = NULL;
    if (hv_kvp_dev == s) {
        hv_kvp_dev = NULL;
    }
}

/* The device, bound by a guest and running, for a command. */
static HvKvp *hv_kvp_get(Error **errp)
{
    HvKvp *s = hv_kvp_dev;

    if (!s) {
        error_setg(errp, "there is no hv-kvp device");
        return NULL;
    }
    return s;
}

/* Send @w's request when the service is free, and wait for the answer. */
static void coroutine_fn hv_kvp_exchange(HvKvpWait *w, Error **errp)
{
    HvKvp *s = hv_kvp_get(errp);
    HvIcState st;

    if (!s) {
        return;
    }
    st = HV_IC(s)->state;
    if (st != HV_IC_READY && st != HV_IC_WAITING) {
        error_setg(errp, "the guest has not bound the KVP service (state %s)",
                   hv_ic_state_name(st));
        return;
    }
    if (!runstate_is_running()) {
        error_setg(errp, "the VM is not running: the guest cannot answer");
        return;
    }
    if (s->waiter) {
        error_setg(errp, "another KVP command is waiting for the guest");
        return;
    }
    w->co = qemu_coroutine_self();
    s->waiter = w;
    hv_kvp_kick(s);
    qemu_coroutine_yield();
    /* Only w from here on: s may be unplugged by now. */
    if (!w->answered) {
        error_setg(errp, "the guest did not answer");
    } else if (w->status != HV_IC_S_OK) {
        error_setg(errp, "the guest refused: status 0x%08" PRIx32, w->status);
    }
}

/* The pool of a host-side change: the pools the host fills. */
static bool hv_kvp_host_pool(bool has_pool, HvKvpPool pool, uint8_t *wire,
                             Error **errp)
{
    if (!has_pool) {
        pool = HV_KVP_POOL_EXTERNAL;
    }
    if (pool != HV_KVP_POOL_EXTERNAL && pool != HV_KVP_POOL_AUTO_EXTERNAL) {
        error_setg(errp, "the host writes only the pools external and "
                   "auto-external");
        return false;
    }
    *wire = hv_kvp_pool_wire[pool];
    return true;
}

void qmp_hv_kvp_set(const char *key, const char *value, bool has_pool,
                    HvKvpPool pool, Error **errp)
{
    HvKvpWait w = { .msg.op = HV_KVP_OP_SET };
    uint32_t ks, vs;

    if (!hv_kvp_host_pool(has_pool, pool, &w.msg.pool, errp)) {
        return;
    }
    ks = hv_kvp_to_utf16(key, w.msg.set.key, HV_KVP_KEY_BYTES);
    vs = hv_kvp_to_utf16(value, w.msg.set.value, HV_KVP_VALUE_BYTES);
    if (!*key || !ks || !vs) {
        error_setg(errp, "the key must be 1 to 255 and the value at most "
                   "1023 UTF-16 units");
        return;
    }
    w.msg.set.type = cpu_to_le32(HV_KVP_REG_SZ);
    w.msg.set.key_size = cpu_to_le32(ks);
    w.msg.set.value_size = cpu_to_le32(vs);
    hv_kvp_exchange(&w, errp);
}

void qmp_hv_kvp_delete(const char *key, bool has_pool, HvKvpPool pool,
                       Error **errp)
{
    HvKvpWait w = { .msg.op = HV_KVP_OP_DELETE };
    uint32_t ks;

    if (!hv_kvp_host_pool(has_pool, pool, &w.msg.pool, errp)) {
        return;
    }
    ks = hv_kvp_to_utf16(key, w.msg.del.key, HV_KVP_KEY_BYTES);
    if (!*key || !ks) {
        error_setg(errp, "the key must be 1 to 255 UTF-16 units");
        return;
    }
    w.msg.del.key_size = cpu_to_le32(ks);
    hv_kvp_exchange(&w, errp);
}

HvKvpInfo *qmp_query_hv_kvp(Error **errp)
{
    HvKvp *s = hv_kvp_get(errp);
    HvIc *ic;
    HvKvpInfo *info;

    if (!s) {
        return NULL;
    }
    ic = HV_IC(s);
    info = g_new0(HvKvpInfo, 1);
    info->state = g_strdup(hv_ic_state_name(ic->state));
    if (ic->state == HV_IC_READY || ic->state == HV_IC_WAITING) {
        info->version = g_strdup_printf("%u.%u", HV_IC_MAJOR(ic->msg_version),
                                        HV_IC_MINOR(ic->msg_version));
    }
    info->readings = s->readings;
    info->age_ms = s->read_ms ?
                   qemu_clock_get_ms(QEMU_CLOCK_REALTIME) - s->read_ms : -1;
    info->items = QAPI_CLONE(HvKvpItemList, s->items);
    return info;
}

static void hv_kvp_instance_init(Object *obj)
{
    HvKvp *s = HV_KVP(obj);

    object_property_add_uint64_ptr(obj, "readings", &s->readings,
                                   OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "bad-answers", &s->bad,
                                   OBJ_PROP_FLAG_READ);
}

static const Property hv_kvp_props[] = {
    DEFINE_PROP_UINT32("poll-ms", HvKvp, poll_ms, 30000),
};

static void hv_kvp_class_init(ObjectClass *klass, void *data)
{
    VMBusDeviceClass *vdc = VMBUS_DEVICE_CLASS(klass);
    DeviceClass *dc = DEVICE_CLASS(klass);
    HvIcClass *icc = HV_IC_CLASS(klass);

    qemu_uuid_parse(HV_KVP_CLASS, &vdc->classid);
    qemu_uuid_parse(HV_KVP_INSTANCE, &vdc->instanceid);
    icc->msg_type = HV_IC_MSG_KVP;
    icc->versions = hv_kvp_versions;
    icc->nversions = ARRAY_SIZE(hv_kvp_versions);
    /* Linux's kernel gives its daemon 30 s, then answers itself. */
    icc->timeout_ms = 35000;
    icc->realize = hv_kvp_realize;
    icc->unrealize = hv_kvp_unrealize;
    icc->ready = hv_kvp_ready;
    icc->answer = hv_kvp_answer;
    icc->timeout = hv_kvp_timeout;
    icc->closed = hv_kvp_closed;
    dc->desc = "Hyper-V KVP (data exchange) integration service";
    device_class_set_props(dc, hv_kvp_props);
}

static const TypeInfo hv_kvp_info = {
    .name = TYPE_HV_KVP,
    .parent = TYPE_HV_IC,
    .instance_size = sizeof(HvKvp),
    .instance_init = hv_kvp_instance_init,
    .class_init = hv_kvp_class_init,
};

static void hv_kvp_register_types(void)
{
    type_register_static(&hv_kvp_info);
}

type_init(hv_kvp_register_types)
