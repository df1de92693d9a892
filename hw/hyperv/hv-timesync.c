/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * hv-timesync: Hyper-V's time synchronization integration service.  The
 * host sends the guest its wall clock: as a SYNC, which the guest sets
 * its clock to, when the guest binds the service and whenever the VM
 * runs again after a stop (cont, the end of an incoming migration,
 * loadvm); and as a SAMPLE every sample-ms, which Linux offers as its
 * "hyperv" PTP clock for chrony.  Each message is a transaction the
 * guest answers.
 *
 * Versions 1.0, 3.0 and 4.0.  Version 4.0 pairs the host's time with
 * the partition's reference time at the same moment, so that the guest
 * adds the time the message took to reach it; it is offered where the
 * guest has a reference time (hv-time), which every accelerator path
 * keeps (hyperv_ref_time()).
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/module.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "hw/qdev-properties.h"
#include "hw/hyperv/hv-ic.h"
#include "hw/hyperv/hyperv.h"
#include "system/runstate.h"
#include "trace.h"

#define TYPE_HV_TIMESYNC "hv-timesync"
OBJECT_DECLARE_SIMPLE_TYPE(HvTimesync, HV_TIMESYNC)

/* Hyper-V's class and instance GUIDs. */
#define HV_TIMESYNC_CLASS       "9527e630-d0ae-497b-adce-e80ab0175caf"
#define HV_TIMESYNC_INSTANCE    "2dd1ce17-079e-403c-b352-a1921ee207ee"

#define HV_TIMESYNC_SYNC        0x1
#define HV_TIMESYNC_SAMPLE      0x2

/* 100 ns units from 1601-01-01 to 1970-01-01 (Windows' FILETIME epoch). */
#define HV_TIMESYNC_EPOCH       116444736000000000ULL

/* The message of versions 1.0 and 3.0. */
typedef struct HvTimesyncMsg {
    uint64_t parent_time;       /* the host's UTC, FILETIME */
    uint64_t child_time;
    uint64_t round_trip;
    uint8_t flags;
    uint8_t reserved[3];
} QEMU_PACKED HvTimesyncMsg;

/* The message of version 4.0. */
typedef struct HvTimesyncRefMsg {
    uint64_t parent_time;       /* the host's UTC, FILETIME */
    uint64_t ref_time;          /* the partition's reference time then */
    uint8_t flags;
    uint8_t leap_flags;
    uint8_t stratum;
    uint8_t reserved[5];
} QEMU_PACKED HvTimesyncRefMsg;

QEMU_BUILD_BUG_ON(sizeof(HvTimesyncMsg) != 28);
QEMU_BUILD_BUG_ON(sizeof(HvTimesyncRefMsg) != 24);

struct HvTimesync {
    HvIc parent;
    uint32_t sample_ms;
    QEMUTimer *tick;
    VMChangeStateEntry *vmse;
    bool sync_wanted;           /* a SYNC to send when nothing is out */
    uint64_t syncs, samples;
};

static const uint32_t hv_timesync_versions[] = {
    HV_IC_VERSION(1, 0), HV_IC_VERSION(3, 0), HV_IC_VERSION(4, 0),
};

/* 4.0 only where the guest has a reference time. */
static bool hv_timesync_offers(HvIc *ic, uint32_t version)
{
    uint64_t ref;

    return version < HV_IC_VERSION(4, 0) || hyperv_ref_time(&ref);
}

/* The host's UTC now, in 100 ns units since 1601. */
static uint64_t hv_timesync_now(void)
{
    return qemu_clock_get_ns(QEMU_CLOCK_HOST) / 100 + HV_TIMESYNC_EPOCH;
}

/*
 * Stamp a message with the host's time now and, in version 4.0, the
 * reference time at that moment.  Also when it is written after waiting
 * for room in the ring: a late SYNC would set the guest's clock back.
 */
static void hv_timesync_stamp(uint8_t *body, uint32_t len)
{
    uint64_t ref = 0;

    if (len == sizeof(HvTimesyncRefMsg)) {
        hyperv_ref_time(&ref);
        stq_le_p(body + offsetof(HvTimesyncRefMsg, ref_time), ref);
    }
    stq_le_p(body, hv_timesync_now());
}

static void hv_timesync_refresh(HvIc *ic, uint8_t *body, uint32_t len)
{
    hv_timesync_stamp(body, len);
}

/* Send a SYNC if one is wanted, else a SAMPLE, when nothing is out. */
static void hv_timesync_send(HvTimesync *ts)
{
    HvIc *ic = HV_IC(ts);
    uint8_t flags = ts->sync_wanted ? HV_TIMESYNC_SYNC : HV_TIMESYNC_SAMPLE;
    union {
        HvTimesyncMsg v3;
        HvTimesyncRefMsg v4;
    } m = { };
    uint32_t len;

    if (!hv_ic_ready(ic)) {
        return;
    }
    if (ic->msg_version >= HV_IC_VERSION(4, 0)) {
        m.v4.flags = flags;
        len = sizeof(m.v4);
    } else {
        m.v3.flags = flags;
        len = sizeof(m.v3);
    }
    hv_timesync_stamp((uint8_t *)&m, len);
    trace_hv_timesync_send(flags, ldq_le_p(&m));
    if (hv_ic_request(ic, &m, len) == 0) {
        if (ts->sync_wanted) {
            ts->syncs++;
        } else {
            ts->samples++;
        }
        ts->sync_wanted = false;
    }
}

static void hv_timesync_tick(void *opaque)
{
    hv_timesync_send(opaque);
}

static void hv_timesync_next(HvTimesync *ts)
{
    if (ts->sync_wanted) {
        hv_timesync_send(ts);
        return;
    }
    timer_mod(ts->tick, qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL) +
                        ts->sample_ms);
}

static void hv_timesync_ready(HvIc *ic)
{
    HvTimesync *ts = HV_TIMESYNC(ic);

    ts->sync_wanted = true;
    hv_timesync_send(ts);
}

static void hv_timesync_answer(HvIc *ic, uint32_t status, const uint8_t *body,
                               uint32_t len)
{
    trace_hv_timesync_answer(status);
    hv_timesync_next(HV_TIMESYNC(ic));
}

static void hv_timesync_timeout(HvIc *ic)
{
    hv_timesync_next(HV_TIMESYNC(ic));
}

static void hv_timesync_closed(HvIc *ic)
{
    timer_del(HV_TIMESYNC(ic)->tick);
}

/* The VM runs again: its clock stood still while the host's went on. */
static void hv_timesync_vm_state(void *opaque, bool running, RunState state)
{
    HvTimesync *ts = opaque;

    if (!running) {
        return;
    }
    ts->sync_wanted = true;
    hv_timesync_send(ts);
}

static void hv_timesync_realize(HvIc *ic, Error **errp)
{
    HvTimesync *ts = HV_TIMESYNC(ic);

    if (!ts->sample_ms) {
        error_setg(errp, "sample-ms must not be 0");
        return;
    }
    ts->tick = timer_new_ms(QEMU_CLOCK_VIRTUAL, hv_timesync_tick, ts);
    ts->vmse = qemu_add_vm_change_state_handler(hv_timesync_vm_state, ts);
}

static void hv_timesync_unrealize(HvIc *ic)
{
    HvTimesync *ts = HV_TIMESYNC(ic);

    qemu_del_vm_change_state_handler(ts->vmse);
    timer_free(ts->tick);
    ts->tick = NULL;
}

static void hv_timesync_instance_init(Object *obj)
{
    HvTimesync *ts = HV_TIMESYNC(obj);

    object_property_add_uint64_ptr(obj, "syncs", &ts->syncs,
                                   OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "samples", &ts->samples,
                                   OBJ_PROP_FLAG_READ);
}

static const Property hv_timesync_props[] = {
    DEFINE_PROP_UINT32("sample-ms", HvTimesync, sample_ms, 5000),
};

static void hv_timesync_class_init(ObjectClass *klass, void *data)
{
    VMBusDeviceClass *vdc = VMBUS_DEVICE_CLASS(klass);
    DeviceClass *dc = DEVICE_CLASS(klass);
    HvIcClass *icc = HV_IC_CLASS(klass);

    qemu_uuid_parse(HV_TIMESYNC_CLASS, &vdc->classid);
    qemu_uuid_parse(HV_TIMESYNC_INSTANCE, &vdc->instanceid);
    icc->msg_type = HV_IC_MSG_TIMESYNC;
    icc->versions = hv_timesync_versions;
    icc->nversions = ARRAY_SIZE(hv_timesync_versions);
    icc->offers = hv_timesync_offers;
    icc->timeout_ms = 10000;
    icc->realize = hv_timesync_realize;
    icc->unrealize = hv_timesync_unrealize;
    icc->ready = hv_timesync_ready;
    icc->refresh = hv_timesync_refresh;
    icc->answer = hv_timesync_answer;
    icc->timeout = hv_timesync_timeout;
    icc->closed = hv_timesync_closed;
    dc->desc = "Hyper-V time synchronization integration service";
    device_class_set_props(dc, hv_timesync_props);
}

static const TypeInfo hv_timesync_info = {
    .name = TYPE_HV_TIMESYNC,
    .parent = TYPE_HV_IC,
    .instance_size = sizeof(HvTimesync),
    .instance_init = hv_timesync_instance_init,
    .class_init = hv_timesync_class_init,
};

static void hv_timesync_register_types(void)
{
    type_register_static(&hv_timesync_info);
}

type_init(hv_timesync_register_types)
