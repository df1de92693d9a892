/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The integration services' framework (include/hw/hyperv/hv-ic.h): the
 * framing of IC messages, the version negotiation, one transaction at a
 * time with its id, and a bound on every wait for the guest.
 *
 * What the guest sends back is checked before anything reads it: the
 * packet type, the pipe header, the IC header's flags, type, size and
 * transaction id against the request out.  Anything else is dropped with
 * a trace event and a rate-limited guest error, and changes nothing.
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "migration/vmstate.h"
#include "hw/qdev-properties.h"
#include "hw/hyperv/hv-ic.h"
#include "hw/hyperv/hv-log.h"
#include "trace.h"

/* The pipe header before every IC message; only its data type is used. */
typedef struct HvIcPipeHdr {
    uint32_t type;
    uint32_t size;              /* what follows it */
} QEMU_PACKED HvIcPipeHdr;

#define HV_IC_PIPE_DATA         1

typedef struct HvIcVersion {
    uint16_t major;
    uint16_t minor;
} QEMU_PACKED HvIcVersion;

typedef struct HvIcHdr {
    HvIcVersion framework;
    uint16_t type;
    HvIcVersion message;
    uint16_t size;              /* of the body that follows */
    uint32_t status;
    uint8_t txid;
    uint8_t flags;
    uint16_t reserved;
} QEMU_PACKED HvIcHdr;

#define HV_IC_FLAG_TRANSACTION  0x1
#define HV_IC_FLAG_REQUEST      0x2
#define HV_IC_FLAG_RESPONSE     0x4

#define HV_IC_HDRS (sizeof(HvIcPipeHdr) + sizeof(HvIcHdr))

/* NEGOTIATE's body: the framework versions, then the message versions. */
typedef struct HvIcNegotiate {
    uint16_t fw_count;
    uint16_t msg_count;
    uint32_t reserved;
    HvIcVersion versions[];
} QEMU_PACKED HvIcNegotiate;

QEMU_BUILD_BUG_ON(sizeof(HvIcHdr) != 20);
QEMU_BUILD_BUG_ON(sizeof(HvIcNegotiate) != 8);

/* The framework versions this host offers (Linux and Windows: 3.0). */
static const uint32_t hv_ic_fw_versions[] = {
    HV_IC_VERSION(1, 0), HV_IC_VERSION(3, 0),
};

static const char *const hv_ic_state_names[] = {
    [HV_IC_CLOSED] = "closed",
    [HV_IC_NEGOTIATING] = "negotiating",
    [HV_IC_READY] = "ready",
    [HV_IC_WAITING] = "waiting",
    [HV_IC_FAILED] = "failed",
};

const char *hv_ic_state_name(HvIcState state)
{
    return state < ARRAY_SIZE(hv_ic_state_names) ?
           hv_ic_state_names[state] : "?";
}

bool hv_ic_add_standard_set(BusState *bus, Object *parent, Error **errp)
{
    static const char *const types[] = {
        "hv-shutdown", "hv-heartbeat", "hv-timesync", "hv-kvp",
    };
    unsigned int i;

    for (i = 0; i < ARRAY_SIZE(types); i++) {
        DeviceState *dev = qdev_new(types[i]);

        object_property_add_child(parent, types[i], OBJECT(dev));
        if (!qdev_realize_and_unref(dev, bus, errp)) {
            return false;
        }
    }
    return true;
}

static const char *hv_ic_name(HvIc *ic)
{
    return object_get_typename(OBJECT(ic));
}

static VMBusChannel *hv_ic_channel(HvIc *ic)
{
    return vmbus_device_channel(VMBUS_DEVICE(ic), 0);
}

static uint32_t hv_ic_timeout(HvIc *ic)
{
    return ic->timeout_ms ? ic->timeout_ms : HV_IC_GET_CLASS(ic)->timeout_ms;
}

static HvIcVersion hv_ic_version_wire(uint32_t v)
{
    return (HvIcVersion) {
        .major = cpu_to_le16(HV_IC_MAJOR(v)),
        .minor = cpu_to_le16(HV_IC_MINOR(v)),
    };
}

static uint32_t hv_ic_version_cpu(HvIcVersion w)
{
    return HV_IC_VERSION(le16_to_cpu(w.major), le16_to_cpu(w.minor));
}

static bool hv_ic_version_in(uint32_t v, const uint32_t *list, unsigned n)
{
    unsigned i;

    for (i = 0; i < n; i++) {
        if (list[i] == v) {
            return true;
        }
    }
    return false;
}

/*
 * Write the request out if it is not written yet and the ring has room;
 * otherwise the bus calls hv_ic_notify() when the guest has read.
 */
static void hv_ic_flush(HvIc *ic)
{
    HvIcClass *icc = HV_IC_GET_CLASS(ic);
    VMBusChannel *chan = hv_ic_channel(ic);
    uint32_t total = HV_IC_HDRS + ic->req_len;
    g_autofree uint8_t *pkt = NULL;
    HvIcPipeHdr pipe = {
        .type = cpu_to_le32(HV_IC_PIPE_DATA),
        .size = cpu_to_le32(sizeof(HvIcHdr) + ic->req_len),
    };
    HvIcHdr hdr = {
        .type = cpu_to_le16(ic->req_type),
        .size = cpu_to_le16(ic->req_len),
        .txid = ic->txid,
        .flags = HV_IC_FLAG_TRANSACTION | HV_IC_FLAG_REQUEST,
    };

    if (!ic->unsent || !vmbus_channel_is_open(chan) ||
        vmbus_channel_reserve(chan, 0, total) < 0) {
        return;
    }
    if (ic->req_type != HV_IC_MSG_NEGOTIATE) {
        hdr.framework = hv_ic_version_wire(ic->fw_version);
        hdr.message = hv_ic_version_wire(ic->msg_version);
        if (icc->refresh) {
            icc->refresh(ic, ic->req, ic->req_len);
        }
    }
    pkt = g_malloc(total);
    memcpy(pkt, &pipe, sizeof(pipe));
    memcpy(pkt + sizeof(pipe), &hdr, sizeof(hdr));
    memcpy(pkt + HV_IC_HDRS, ic->req, ic->req_len);
    if (vmbus_channel_send(chan, VMBUS_PACKET_DATA_INBAND, NULL, 0, pkt, total,
                           false, ic->txid) >= 0) {
        ic->unsent = false;
        trace_hv_ic_send(hv_ic_name(ic), ic->req_type, ic->txid, ic->req_len);
    }
}

/* Put a request of @type out: the caller checked the state. */
static void hv_ic_start(HvIc *ic, uint16_t type, const void *body,
                        uint32_t len, HvIcState state)
{
    memcpy(ic->req, body, len);
    ic->req_len = len;
    ic->req_type = type;
    ic->txid++;
    ic->unsent = true;
    ic->state = state;
    ic->requests++;
    timer_mod(ic->timer, qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL) +
                         hv_ic_timeout(ic));
    hv_ic_flush(ic);
}

bool hv_ic_ready(HvIc *ic)
{
    return ic->state == HV_IC_READY;
}

int hv_ic_request(HvIc *ic, const void *body, uint32_t len)
{
    if (len > HV_IC_BODY_MAX) {
        return -EMSGSIZE;
    }
    if (!hv_ic_ready(ic)) {
        return -EBUSY;
    }
    hv_ic_start(ic, HV_IC_GET_CLASS(ic)->msg_type, body, len, HV_IC_WAITING);
    return 0;
}

/*
 * Offer our versions: the first message on a channel the guest opened.
 * The service may leave out versions it cannot serve in this VM.
 */
static void hv_ic_negotiate(HvIc *ic)
{
    HvIcClass *icc = HV_IC_GET_CLASS(ic);
    unsigned nfw = ARRAY_SIZE(hv_ic_fw_versions), i;
    struct {
        HvIcNegotiate n;
        HvIcVersion v[ARRAY_SIZE(hv_ic_fw_versions) + HV_IC_MSG_VERSIONS_MAX];
    } QEMU_PACKED body = {
        .n.fw_count = cpu_to_le16(nfw),
    };

    for (i = 0; i < nfw; i++) {
        body.v[i] = hv_ic_version_wire(hv_ic_fw_versions[i]);
    }
    ic->noffered = 0;
    for (i = 0; i < icc->nversions; i++) {
        if (!icc->offers || icc->offers(ic, icc->versions[i])) {
            ic->offered[ic->noffered] = icc->versions[i];
            body.v[nfw + ic->noffered++] = hv_ic_version_wire(icc->versions[i]);
        }
    }
    body.n.msg_count = cpu_to_le16(ic->noffered);
    trace_hv_ic_negotiate(hv_ic_name(ic), ic->noffered);
    hv_ic_start(ic, HV_IC_MSG_NEGOTIATE, &body,
                sizeof(body.n) + (nfw + ic->noffered) * sizeof(body.v[0]),
                HV_IC_NEGOTIATING);
}

static void hv_ic_fail(HvIc *ic, const char *why)
{
    ic->state = HV_IC_FAILED;
    ic->failure = why;
    timer_del(ic->timer);
    trace_hv_ic_failed(hv_ic_name(ic), why);
}

/* The guest's pick: one framework and one message version we offered. */
static void hv_ic_negotiated(HvIc *ic, const uint8_t *body, uint32_t len)
{
    HvIcClass *icc = HV_IC_GET_CLASS(ic);
    HvIcNegotiate n;
    HvIcVersion v[2];
    uint32_t fw, msg;

    if (len < sizeof(n) + sizeof(v)) {
        hv_guest_error("%s: negotiation answer of %u bytes", hv_ic_name(ic),
                       len);
        hv_ic_fail(ic, "negotiation answer too short");
        return;
    }
    memcpy(&n, body, sizeof(n));
    memcpy(v, body + sizeof(n), sizeof(v));
    if (le16_to_cpu(n.fw_count) != 1 || le16_to_cpu(n.msg_count) != 1) {
        /* The guest speaks none of our versions: not an error of its. */
        hv_ic_fail(ic, "no common version");
        return;
    }
    fw = hv_ic_version_cpu(v[0]);
    msg = hv_ic_version_cpu(v[1]);
    if (!hv_ic_version_in(fw, hv_ic_fw_versions,
                          ARRAY_SIZE(hv_ic_fw_versions)) ||
        !hv_ic_version_in(msg, ic->offered, ic->noffered)) {
        hv_guest_error("%s: the guest picked versions %u.%u/%u.%u, which "
                       "were not offered", hv_ic_name(ic), HV_IC_MAJOR(fw),
                       HV_IC_MINOR(fw), HV_IC_MAJOR(msg), HV_IC_MINOR(msg));
        hv_ic_fail(ic, "a version that was not offered");
        return;
    }
    ic->fw_version = fw;
    ic->msg_version = msg;
    ic->state = HV_IC_READY;
    trace_hv_ic_ready(hv_ic_name(ic), HV_IC_MAJOR(fw), HV_IC_MINOR(fw),
                      HV_IC_MAJOR(msg), HV_IC_MINOR(msg));
    if (icc->ready) {
        icc->ready(ic);
    }
}

static void hv_ic_drop(HvIc *ic, const char *why)
{
    ic->dropped++;
    trace_hv_ic_drop(hv_ic_name(ic), why);
    hv_guest_error("%s: a packet from the guest dropped: %s",
                   hv_ic_name(ic), why);
}

/* One packet from the guest: the answer to the request out, or dropped. */
static void hv_ic_receive(HvIc *ic, VMBusChanReq *req)
{
    HvIcClass *icc = HV_IC_GET_CLASS(ic);
    const uint8_t *msg = req->msg;
    HvIcPipeHdr pipe;
    HvIcHdr hdr;
    uint32_t size, status;

    if (req->pkt_type != VMBUS_PACKET_DATA_INBAND) {
        hv_ic_drop(ic, "not an in-band packet");
        return;
    }
    if (req->msglen < HV_IC_HDRS) {
        hv_ic_drop(ic, "shorter than the IC headers");
        return;
    }
    memcpy(&pipe, msg, sizeof(pipe));
    memcpy(&hdr, msg + sizeof(pipe), sizeof(hdr));
    size = le16_to_cpu(hdr.size);
    if (le32_to_cpu(pipe.type) != HV_IC_PIPE_DATA ||
        le32_to_cpu(pipe.size) > req->msglen - sizeof(pipe)) {
        hv_ic_drop(ic, "a bad pipe header");
        return;
    }
    if (size > req->msglen - HV_IC_HDRS) {
        hv_ic_drop(ic, "an IC size past the end of the packet");
        return;
    }
    if ((hdr.flags & (HV_IC_FLAG_TRANSACTION | HV_IC_FLAG_RESPONSE)) !=
        (HV_IC_FLAG_TRANSACTION | HV_IC_FLAG_RESPONSE) ||
        (hdr.flags & HV_IC_FLAG_REQUEST)) {
        hv_ic_drop(ic, "not an answer");
        return;
    }
    /* A negotiation past its bound still counts when its answer comes. */
    if ((ic->state != HV_IC_WAITING && ic->state != HV_IC_NEGOTIATING) ||
        ic->unsent) {
        hv_ic_drop(ic, "an answer with no request out");
        return;
    }
    if (hdr.txid != ic->txid || req->transaction_id != ic->txid ||
        le16_to_cpu(hdr.type) != ic->req_type) {
        hv_ic_drop(ic, "the transaction id or type of no request out");
        return;
    }
    status = le32_to_cpu(hdr.status);
    timer_del(ic->timer);
    ic->answers++;
    ic->last_status = status;
    ic->last_answer_ms = qemu_clock_get_ms(QEMU_CLOCK_REALTIME);
    trace_hv_ic_answer(hv_ic_name(ic), ic->req_type, ic->txid, status, size);
    if (ic->state == HV_IC_NEGOTIATING) {
        hv_ic_negotiated(ic, msg + HV_IC_HDRS, size);
        return;
    }
    ic->state = HV_IC_READY;
    icc->answer(ic, status, msg + HV_IC_HDRS, size);
}

static void hv_ic_notify(VMBusChannel *chan)
{
    HvIc *ic = HV_IC(vmbus_channel_device(chan));
    VMBusChanReq *req;

    if (vmbus_channel_recv_start(chan)) {
        return;
    }
    while ((req = vmbus_channel_recv_peek(chan, sizeof(*req)))) {
        hv_ic_receive(ic, req);
        vmbus_free_req(req);
        vmbus_channel_recv_pop(chan);
    }
    vmbus_channel_recv_done(chan);
    hv_ic_flush(ic);
}

static void hv_ic_expired(void *opaque)
{
    HvIc *ic = opaque;
    HvIcClass *icc = HV_IC_GET_CLASS(ic);

    ic->timeouts++;
    trace_hv_ic_timeout(hv_ic_name(ic), hv_ic_state_name(ic->state),
                        ic->txid);
    /*
     * A guest may answer the negotiation much later (Linux's KVP waits
     * for its daemon): nothing else can be sent before, so keep waiting.
     */
    if (ic->state != HV_IC_WAITING) {
        return;
    }
    ic->unsent = false;
    ic->state = HV_IC_READY;
    if (icc->timeout) {
        icc->timeout(ic);
    }
}

static void hv_ic_open_bh(void *opaque)
{
    HvIc *ic = opaque;

    if (ic->state == HV_IC_CLOSED && vmbus_channel_is_open(hv_ic_channel(ic))) {
        hv_ic_negotiate(ic);
    }
}

static int hv_ic_open(VMBusChannel *chan)
{
    HvIc *ic = HV_IC(vmbus_channel_device(chan));

    /* The channel is open once this returns: negotiate from the loop. */
    ic->state = HV_IC_CLOSED;
    ic->failure = NULL;
    qemu_bh_schedule(ic->open_bh);
    return 0;
}

static void hv_ic_shut(HvIc *ic)
{
    HvIcClass *icc = HV_IC_GET_CLASS(ic);

    qemu_bh_cancel(ic->open_bh);
    timer_del(ic->timer);
    ic->unsent = false;
    ic->state = HV_IC_CLOSED;
    if (icc->closed) {
        icc->closed(ic);
    }
}

static void hv_ic_close(VMBusChannel *chan)
{
    hv_ic_shut(HV_IC(vmbus_channel_device(chan)));
}

static void hv_ic_reset(VMBusDevice *vdev)
{
    hv_ic_shut(HV_IC(vdev));
}

/*
 * The VM runs again after an incoming migration or loadvm.  The channel
 * migrated open with its rings, so the guest's driver still holds it;
 * what the service was doing did not migrate.  Agree on the versions
 * again on that channel, as Hyper-V does after a restore: the guest
 * answers a NEGOTIATE at any time, and an answer to a request of the
 * source that is still in the ring has an older transaction id.
 * (Offering the channel again instead would take the guest's device
 * away for a moment: Linux's KVP daemon exits when that happens.)
 */
static void hv_ic_vm_state(void *opaque, bool running, RunState rstate)
{
    HvIc *ic = opaque;

    if (!running || !ic->loaded) {
        return;
    }
    ic->loaded = false;
    hv_ic_shut(ic);
    ic->failure = NULL;
    if (vmbus_channel_is_open(hv_ic_channel(ic))) {
        hv_ic_negotiate(ic);
    }
}

static void hv_ic_realize(VMBusDevice *vdev, Error **errp)
{
    ERRP_GUARD();
    HvIc *ic = HV_IC(vdev);
    HvIcClass *icc = HV_IC_GET_CLASS(ic);

    assert(icc->nversions <= HV_IC_MSG_VERSIONS_MAX && icc->answer);
    if (icc->realize) {
        icc->realize(ic, errp);
        if (*errp) {
            return;
        }
    }
    ic->timer = timer_new_ms(QEMU_CLOCK_VIRTUAL, hv_ic_expired, ic);
    ic->open_bh = qemu_bh_new_guarded(hv_ic_open_bh, ic,
                                      &DEVICE(ic)->mem_reentrancy_guard);
    ic->vm_state = qemu_add_vm_change_state_handler(hv_ic_vm_state, ic);
}

static void hv_ic_unrealize(VMBusDevice *vdev)
{
    HvIc *ic = HV_IC(vdev);
    HvIcClass *icc = HV_IC_GET_CLASS(ic);

    if (icc->unrealize) {
        icc->unrealize(ic);
    }
    timer_free(ic->timer);
    ic->timer = NULL;
    qemu_bh_delete(ic->open_bh);
    ic->open_bh = NULL;
    qemu_del_vm_change_state_handler(ic->vm_state);
    ic->vm_state = NULL;
}

static int hv_ic_post_load(void *opaque, int version_id)
{
    HV_IC(opaque)->loaded = true;
    return 0;
}

/*
 * What migrates: the transaction id, so that the destination's requests
 * never take an id the source used last; the versions are agreed again.
 */
const VMStateDescription vmstate_hv_ic = {
    .name = TYPE_HV_IC,
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = hv_ic_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT(parent, HvIc, 0, vmstate_vmbus_dev, VMBusDevice),
        VMSTATE_UINT8(txid, HvIc),
        VMSTATE_END_OF_LIST()
    },
};

static char *hv_ic_get_state(Object *obj, Error **errp)
{
    HvIc *ic = HV_IC(obj);

    if (ic->state == HV_IC_FAILED && ic->failure) {
        return g_strdup_printf("failed: %s", ic->failure);
    }
    return g_strdup(hv_ic_state_name(ic->state));
}

static char *hv_ic_get_version(Object *obj, Error **errp)
{
    HvIc *ic = HV_IC(obj);

    if (ic->state != HV_IC_READY && ic->state != HV_IC_WAITING) {
        return g_strdup("");
    }
    return g_strdup_printf("%u.%u", HV_IC_MAJOR(ic->msg_version),
                           HV_IC_MINOR(ic->msg_version));
}

static void hv_ic_instance_init(Object *obj)
{
    HvIc *ic = HV_IC(obj);

    object_property_add_uint64_ptr(obj, "requests", &ic->requests,
                                   OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "answers", &ic->answers,
                                   OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "timeouts", &ic->timeouts,
                                   OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "dropped", &ic->dropped,
                                   OBJ_PROP_FLAG_READ);
    object_property_add_uint32_ptr(obj, "last-status", &ic->last_status,
                                   OBJ_PROP_FLAG_READ);
}

static const Property hv_ic_props[] = {
    DEFINE_PROP_UINT32("timeout-ms", HvIc, timeout_ms, 0),
};

static void hv_ic_class_init(ObjectClass *klass, void *data)
{
    VMBusDeviceClass *vdc = VMBUS_DEVICE_CLASS(klass);
    DeviceClass *dc = DEVICE_CLASS(klass);

    vdc->vmdev_realize = hv_ic_realize;
    vdc->vmdev_unrealize = hv_ic_unrealize;
    vdc->vmdev_reset = hv_ic_reset;
    vdc->open_channel = hv_ic_open;
    vdc->close_channel = hv_ic_close;
    vdc->chan_notify_cb = hv_ic_notify;
    vdc->channel_flags = VMBUS_CHANNEL_NAMED_PIPE_MODE |
                         VMBUS_CHANNEL_ENUMERATE_DEVICE_INTERFACE;
    device_class_set_props(dc, hv_ic_props);
    dc->vmsd = &vmstate_hv_ic;
    object_class_property_add_str(klass, "state", hv_ic_get_state, NULL);
    object_class_property_add_str(klass, "version", hv_ic_get_version, NULL);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo hv_ic_info = {
    .name = TYPE_HV_IC,
    .parent = TYPE_VMBUS_DEVICE,
    .instance_size = sizeof(HvIc),
    .instance_init = hv_ic_instance_init,
    .abstract = true,
    .class_size = sizeof(HvIcClass),
    .class_init = hv_ic_class_init,
};

static void hv_ic_register_types(void)
{
    type_register_static(&hv_ic_info);
}

type_init(hv_ic_register_types)
