/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * hv-heartbeat: Hyper-V's heartbeat integration service.  Every
 * period-ms QEMU sends the guest a sequence number; a live guest answers
 * with that number plus one.  QOM shows the last answer (sequence number,
 * and when it came).  A guest that has not answered for lost-ms after
 * it bound the service (it is stuck, or unbound it) gets the QMP event
 * HV_HEARTBEAT_LOST and, with watchdog=on, the action -action watchdog=
 * names, as a watchdog device would.
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/module.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "hw/hyperv/hv-ic.h"
#include "hw/hyperv/hv-log.h"
#include "qapi/qapi-events-machine.h"
#include "system/watchdog.h"
#include "system/reset.h"
#include "trace.h"

#define TYPE_HV_HEARTBEAT "hv-heartbeat"
OBJECT_DECLARE_SIMPLE_TYPE(HvHeartbeat, HV_HEARTBEAT)

/* Hyper-V's class and instance GUIDs. */
#define HV_HEARTBEAT_CLASS      "57164f39-9115-4e78-ab55-382f3bd5422d"
#define HV_HEARTBEAT_INSTANCE   "fd149e91-82e0-4a7d-afa6-2a4166cbd7c0"

/*
 * The request, as Hyper-V sends it; Linux's own view of the body is
 * longer, but it reads only the sequence number.
 */
typedef struct HvHeartbeatMsg {
    uint64_t seq;
    uint32_t app_state;
    uint32_t reserved;
} QEMU_PACKED HvHeartbeatMsg;

struct HvHeartbeat {
    HvIc parent;
    uint32_t period_ms;
    QEMUTimer *tick;
    uint64_t seq;               /* of the last request */
    uint64_t last_seq;          /* the last answer's, 0: none */
    int64_t last_ms;            /* when it came (QEMU_CLOCK_REALTIME) */
    uint64_t bad;               /* answers without seq + 1 */
    uint32_t lost_ms;           /* 0: never lost */
    bool watchdog;
    QEMUTimer *lost;            /* armed from binding, by each answer */
    int64_t since_ms;           /* the last answer or the binding (virtual) */
    uint64_t losses;
};

static const uint32_t hv_heartbeat_versions[] = {
    HV_IC_VERSION(1, 0), HV_IC_VERSION(3, 0),
};

static void hv_heartbeat_arm(HvHeartbeat *hb)
{
    timer_mod(hb->tick, qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL) +
                        hb->period_ms);
}

/* Start (again) the time the guest has to answer something. */
static void hv_heartbeat_alive(HvHeartbeat *hb)
{
    hb->since_ms = qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL);
    if (hb->lost_ms) {
        timer_mod(hb->lost, hb->since_ms + hb->lost_ms);
    }
}

/* No answer for lost_ms: say so, once, until the next answer. */
static void hv_heartbeat_lost(void *opaque)
{
    HvHeartbeat *hb = opaque;
    uint64_t silence = qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL) - hb->since_ms;

    hb->losses++;
    trace_hv_heartbeat_lost(hb->last_seq, silence, hb->watchdog);
    qapi_event_send_hv_heartbeat_lost(hb->last_seq, silence);
    if (hb->watchdog) {
        watchdog_perform_action();
    }
}

static void hv_heartbeat_tick(void *opaque)
{
    HvHeartbeat *hb = opaque;
    HvHeartbeatMsg m;

    if (!hv_ic_ready(HV_IC(hb))) {
        /* Closed, failed, or the last one still out: its bound rearms. */
        return;
    }
    hb->seq++;
    m = (HvHeartbeatMsg) { .seq = cpu_to_le64(hb->seq) };
    hv_ic_request(HV_IC(hb), &m, sizeof(m));
}

static void hv_heartbeat_ready(HvIc *ic)
{
    HvHeartbeat *hb = HV_HEARTBEAT(ic);

    hv_heartbeat_alive(hb);
    hv_heartbeat_tick(hb);
}

static void hv_heartbeat_answer(HvIc *ic, uint32_t status, const uint8_t *body,
                                uint32_t len)
{
    HvHeartbeat *hb = HV_HEARTBEAT(ic);
    uint64_t seq = 0;

    if (len >= sizeof(seq)) {
        memcpy(&seq, body, sizeof(seq));
        seq = le64_to_cpu(seq);
    }
    trace_hv_heartbeat_answer(hb->seq, seq, status);
    if (status != HV_IC_S_OK || len < sizeof(seq) || seq != hb->seq + 1) {
        hb->bad++;
        hv_guest_error("hv-heartbeat: answer %" PRIu64 " (status 0x%x, %u "
                       "bytes) to heartbeat %" PRIu64, seq, status, len,
                       hb->seq);
    } else {
        hb->last_seq = seq;
        hb->last_ms = qemu_clock_get_ms(QEMU_CLOCK_REALTIME);
        hv_heartbeat_alive(hb);
    }
    hv_heartbeat_arm(hb);
}

static void hv_heartbeat_timeout(HvIc *ic)
{
    hv_heartbeat_arm(HV_HEARTBEAT(ic));
}

/*
 * A closed channel is silence too (the bus also resets the device when
 * the guest closes it): only a reset of the VM, a guest reboot, stops the
 * count until the guest binds again.
 */
static void hv_heartbeat_closed(HvIc *ic)
{
    timer_del(HV_HEARTBEAT(ic)->tick);
}

static void hv_heartbeat_vm_reset(void *opaque)
{
    timer_del(HV_HEARTBEAT(opaque)->lost);
}

static void hv_heartbeat_realize(HvIc *ic, Error **errp)
{
    HvHeartbeat *hb = HV_HEARTBEAT(ic);

    if (!hb->period_ms) {
        error_setg(errp, "period-ms must not be 0");
        return;
    }
    hb->tick = timer_new_ms(QEMU_CLOCK_VIRTUAL, hv_heartbeat_tick, hb);
    hb->lost = timer_new_ms(QEMU_CLOCK_VIRTUAL, hv_heartbeat_lost, hb);
    qemu_register_reset(hv_heartbeat_vm_reset, hb);
}

static void hv_heartbeat_unrealize(HvIc *ic)
{
    HvHeartbeat *hb = HV_HEARTBEAT(ic);

    qemu_unregister_reset(hv_heartbeat_vm_reset, hb);
    timer_free(hb->tick);
    hb->tick = NULL;
    timer_free(hb->lost);
    hb->lost = NULL;
}

static void hv_heartbeat_instance_init(Object *obj)
{
    HvHeartbeat *hb = HV_HEARTBEAT(obj);

    object_property_add_uint64_ptr(obj, "last-seq", &hb->last_seq,
                                   OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "bad-answers", &hb->bad,
                                   OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "losses", &hb->losses,
                                   OBJ_PROP_FLAG_READ);
}

static void hv_heartbeat_get_age(Object *obj, Visitor *v, const char *name,
                                 void *opaque, Error **errp)
{
    HvHeartbeat *hb = HV_HEARTBEAT(obj);
    int64_t age = hb->last_ms ?
                  qemu_clock_get_ms(QEMU_CLOCK_REALTIME) - hb->last_ms : -1;

    visit_type_int64(v, name, &age, errp);
}

/*
 * The sequence numbers go on across a migration, so that QMP's last-seq
 * never goes back; the rest starts again when the versions are agreed.
 */
static const VMStateDescription vmstate_hv_heartbeat = {
    .name = TYPE_HV_HEARTBEAT,
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT(parent, HvHeartbeat, 1, vmstate_hv_ic, HvIc),
        VMSTATE_UINT64(seq, HvHeartbeat),
        VMSTATE_UINT64(last_seq, HvHeartbeat),
        VMSTATE_END_OF_LIST()
    },
};

static const Property hv_heartbeat_props[] = {
    DEFINE_PROP_UINT32("period-ms", HvHeartbeat, period_ms, 2000),
    DEFINE_PROP_UINT32("lost-ms", HvHeartbeat, lost_ms, 30000),
    DEFINE_PROP_BOOL("watchdog", HvHeartbeat, watchdog, false),
};

static void hv_heartbeat_class_init(ObjectClass *klass, void *data)
{
    VMBusDeviceClass *vdc = VMBUS_DEVICE_CLASS(klass);
    DeviceClass *dc = DEVICE_CLASS(klass);
    HvIcClass *icc = HV_IC_CLASS(klass);

    qemu_uuid_parse(HV_HEARTBEAT_CLASS, &vdc->classid);
    qemu_uuid_parse(HV_HEARTBEAT_INSTANCE, &vdc->instanceid);
    icc->msg_type = HV_IC_MSG_HEARTBEAT;
    icc->versions = hv_heartbeat_versions;
    icc->nversions = ARRAY_SIZE(hv_heartbeat_versions);
    icc->timeout_ms = 10000;
    icc->realize = hv_heartbeat_realize;
    icc->unrealize = hv_heartbeat_unrealize;
    icc->ready = hv_heartbeat_ready;
    icc->answer = hv_heartbeat_answer;
    icc->timeout = hv_heartbeat_timeout;
    icc->closed = hv_heartbeat_closed;
    dc->desc = "Hyper-V heartbeat integration service";
    device_class_set_props(dc, hv_heartbeat_props);
    dc->vmsd = &vmstate_hv_heartbeat;
    /* Milliseconds since the last good answer, -1 before the first. */
    object_class_property_add(klass, "last-answer-age-ms", "int64",
                              hv_heartbeat_get_age, NULL, NULL, NULL);
}

static const TypeInfo hv_heartbeat_info = {
    .name = TYPE_HV_HEARTBEAT,
    .parent = TYPE_HV_IC,
    .instance_size = sizeof(HvHeartbeat),
    .instance_init = hv_heartbeat_instance_init,
    .class_init = hv_heartbeat_class_init,
};

static void hv_heartbeat_register_types(void)
{
    type_register_static(&hv_heartbeat_info);
}

type_init(hv_heartbeat_register_types)
