/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * hv-shutdown: Hyper-V's shutdown integration service.  QEMU asks the
 * guest to power off (or, from version 3.1, to reboot; from 3.2, to
 * hibernate); the guest answers, then acts.  Linux's hv_utils and
 * Windows' vmicshutdown bind to it.
 *
 * system_powerdown (QMP, and libvirt's "virsh shutdown") goes through
 * this service while the guest has it bound and nothing is out, and to
 * the ACPI power button otherwise, so a guest that has not bound it (or
 * stopped answering) still sees the button.
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/module.h"
#include "qemu/notify.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-machine.h"
#include "qemu/coroutine.h"
#include "qemu/main-loop.h"
#include "block/aio.h"
#include "system/runstate.h"
#include "hw/hyperv/hv-ic.h"
#include "trace.h"

#define TYPE_HV_SHUTDOWN "hv-shutdown"
OBJECT_DECLARE_SIMPLE_TYPE(HvShutdown, HV_SHUTDOWN)

/* Hyper-V's class and instance GUIDs: Windows binds its driver to both. */
#define HV_SHUTDOWN_CLASS       "0e0b6031-5213-4934-818b-38d90ced39db"
#define HV_SHUTDOWN_INSTANCE    "b6650ff7-33bc-4840-8048-e0676786f393"

#define HV_SHUTDOWN_FORCE       0x1
#define HV_SHUTDOWN_RESTART     0x2     /* from version 3.1 */
#define HV_SHUTDOWN_HIBERNATE   0x4     /* from version 3.2 */

/* A planned shutdown, as Windows' reason codes say it. */
#define HV_SHUTDOWN_REASON_PLANNED  0x80000000u

/* The request; Linux drops a body shorter than the whole of it. */
typedef struct HvShutdownMsg {
    uint32_t reason;
    uint32_t timeout_s;
    uint32_t flags;
    uint8_t message[2048];
} QEMU_PACKED HvShutdownMsg;

QEMU_BUILD_BUG_ON(sizeof(HvShutdownMsg) != 2060);

struct HvShutdown {
    HvIc parent;
    NotifierWithReturn powerdown;
    uint32_t last_flags;        /* of the last request */
    bool from_powerdown;        /* the request out came from system_powerdown */
    bool to_acpi;               /* the next system_powerdown is the button's */
    struct HvShutdownWait *waiter;  /* hv-shutdown-guest, waiting */
};

/*
 * What hv-shutdown-guest waits for, in its own coroutine's frame: the
 * device may be gone (unplugged) by the time the command resumes.
 */
typedef struct HvShutdownWait {
    Coroutine *co;
    bool answered;
    uint32_t status;
    uint32_t version;
} HvShutdownWait;

/* The one device (Hyper-V's instance GUID makes it one per bus). */
static HvShutdown *hv_shutdown_dev;

static const uint32_t hv_shutdown_versions[] = {
    HV_IC_VERSION(1, 0), HV_IC_VERSION(3, 0), HV_IC_VERSION(3, 1),
    HV_IC_VERSION(3, 2),
};

/*
 * Ask the guest to power off, or with @flags to reboot or hibernate:
 * 0, -EBUSY (not bound, or a request is out), -ENOTSUP (the version the
 * guest agreed on has no such request).
 */
static int hv_shutdown_send(HvShutdown *s, uint32_t flags)
{
    HvIc *ic = HV_IC(s);
    HvShutdownMsg m = {
        .reason = cpu_to_le32(HV_SHUTDOWN_REASON_PLANNED),
        .flags = cpu_to_le32(flags),
    };

    if (!hv_ic_ready(ic)) {
        return -EBUSY;
    }
    if (((flags & HV_SHUTDOWN_RESTART) &&
         ic->msg_version < HV_IC_VERSION(3, 1)) ||
        ((flags & HV_SHUTDOWN_HIBERNATE) &&
         ic->msg_version < HV_IC_VERSION(3, 2))) {
        return -ENOTSUP;
    }
    s->last_flags = flags;
    trace_hv_shutdown_request(flags);
    return hv_ic_request(ic, &m, sizeof(m));
}

/*
 * A system_powerdown the guest refused or left unanswered: the power
 * button after all (one more POWERDOWN event says so).
 */
static void hv_shutdown_to_acpi(HvShutdown *s)
{
    if (s->from_powerdown) {
        s->from_powerdown = false;
        s->to_acpi = true;
        qemu_system_powerdown_request();
    }
}

/* The answer (or none) for a hv-shutdown-guest waiting for it. */
static void hv_shutdown_wake(HvShutdown *s, bool answered, uint32_t status)
{
    HvShutdownWait *w = s->waiter;

    if (w) {
        s->waiter = NULL;
        w->answered = answered;
        w->status = status;
        w->version = HV_IC(s)->msg_version;
        /* From a bottom half: not inside the channel's receive loop. */
        aio_co_schedule(qemu_get_aio_context(), w->co);
    }
}

static void hv_shutdown_answer(HvIc *ic, uint32_t status, const uint8_t *body,
                               uint32_t len)
{
    HvShutdown *s = HV_SHUTDOWN(ic);

    trace_hv_shutdown_answer(s->last_flags, status);
    if (status != HV_IC_S_OK) {
        hv_shutdown_to_acpi(s);
    }
    s->from_powerdown = false;
    hv_shutdown_wake(s, true, status);
}

static void hv_shutdown_timeout(HvIc *ic)
{
    hv_shutdown_to_acpi(HV_SHUTDOWN(ic));
    hv_shutdown_wake(HV_SHUTDOWN(ic), false, 0);
}

/*
 * The channel closed before the guest answered.  If the driver let go, a
 * system_powerdown is not lost: it goes to the button.  If the VM is
 * being reset, it is dropped with the rest of the boot it was meant for:
 * pressed now, the button would stay latched in the chipset (its status
 * bit is set whether or not the event is enabled) for the next boot.
 */
static void hv_shutdown_closed(HvIc *ic)
{
    HvShutdown *s = HV_SHUTDOWN(ic);

    if (device_is_in_reset(DEVICE(ic))) {
        s->from_powerdown = false;
    } else {
        hv_shutdown_to_acpi(s);
    }
    hv_shutdown_wake(s, false, 0);
}

/* system_powerdown: ours while the guest has the service bound. */
static int hv_shutdown_powerdown(NotifierWithReturn *n, void *data,
                                 Error **errp)
{
    HvShutdown *s = container_of(n, HvShutdown, powerdown);
    int ret;

    if (s->to_acpi) {
        s->to_acpi = false;
        trace_hv_shutdown_powerdown(-ENOTCONN);
        return 0;
    }
    ret = hv_shutdown_send(s, 0);
    s->from_powerdown = ret == 0;
    trace_hv_shutdown_powerdown(ret);
    return ret == 0;
}

static void hv_shutdown_realize(HvIc *ic, Error **errp)
{
    HvShutdown *s = HV_SHUTDOWN(ic);

    s->powerdown.notify = hv_shutdown_powerdown;
    qemu_register_powerdown_handler(&s->powerdown);
    hv_shutdown_dev = s;
}

static void hv_shutdown_unrealize(HvIc *ic)
{
    HvShutdown *s = HV_SHUTDOWN(ic);

    hv_shutdown_wake(s, false, 0);
    notifier_with_return_remove(&s->powerdown);
    if (hv_shutdown_dev == s) {
        hv_shutdown_dev = NULL;
    }
}

HvShutdownAnswer *qmp_hv_shutdown_guest(HvShutdownAction action,
                                        bool has_force, bool force,
                                        Error **errp)
{
    static const uint32_t flags[HV_SHUTDOWN_ACTION__MAX] = {
        [HV_SHUTDOWN_ACTION_POWEROFF] = 0,
        [HV_SHUTDOWN_ACTION_REBOOT] = HV_SHUTDOWN_RESTART,
        [HV_SHUTDOWN_ACTION_HIBERNATE] = HV_SHUTDOWN_HIBERNATE,
    };
    HvShutdown *s = hv_shutdown_dev;
    HvShutdownWait w = { };
    HvShutdownAnswer *ans;
    int ret;

    if (!s) {
        error_setg(errp, "there is no hv-shutdown device");
        return NULL;
    }
    if (!qemu_in_coroutine()) {
        error_setg(errp, "hv-shutdown-guest waits for the guest: QMP only");
        return NULL;
    }
    if (s->waiter) {
        error_setg(errp, "hv-shutdown-guest is already waiting for the "
                   "guest");
        return NULL;
    }
    ret = hv_shutdown_send(s, flags[action] |
                           (has_force && force ? HV_SHUTDOWN_FORCE : 0));
    if (ret == -ENOTSUP) {
        error_setg(errp, "the guest agreed on shutdown version %u.%u, "
                   "which has no %s", HV_IC_MAJOR(HV_IC(s)->msg_version),
                   HV_IC_MINOR(HV_IC(s)->msg_version),
                   HvShutdownAction_str(action));
        return NULL;
    }
    if (ret) {
        error_setg(errp, "the guest has not bound the shutdown service, or "
                   "a request is out (state %s)",
                   hv_ic_state_name(HV_IC(s)->state));
        return NULL;
    }
    w.co = qemu_coroutine_self();
    s->waiter = &w;
    qemu_coroutine_yield();
    /* Only w from here on: s may be unplugged by now. */
    if (!w.answered) {
        error_setg(errp, "the guest did not answer");
        return NULL;
    }
    ans = g_new0(HvShutdownAnswer, 1);
    ans->status = w.status;
    ans->accepted = w.status == HV_IC_S_OK;
    ans->version = g_strdup_printf("%u.%u", HV_IC_MAJOR(w.version),
                                   HV_IC_MINOR(w.version));
    return ans;
}

static void hv_shutdown_class_init(ObjectClass *klass, void *data)
{
    VMBusDeviceClass *vdc = VMBUS_DEVICE_CLASS(klass);
    DeviceClass *dc = DEVICE_CLASS(klass);
    HvIcClass *icc = HV_IC_CLASS(klass);

    qemu_uuid_parse(HV_SHUTDOWN_CLASS, &vdc->classid);
    qemu_uuid_parse(HV_SHUTDOWN_INSTANCE, &vdc->instanceid);
    icc->realize = hv_shutdown_realize;
    icc->unrealize = hv_shutdown_unrealize;
    icc->msg_type = HV_IC_MSG_SHUTDOWN;
    icc->versions = hv_shutdown_versions;
    icc->nversions = ARRAY_SIZE(hv_shutdown_versions);
    icc->timeout_ms = 10000;
    icc->answer = hv_shutdown_answer;
    icc->timeout = hv_shutdown_timeout;
    icc->closed = hv_shutdown_closed;
    dc->desc = "Hyper-V shutdown integration service";
}

static const TypeInfo hv_shutdown_info = {
    .name = TYPE_HV_SHUTDOWN,
    .parent = TYPE_HV_IC,
    .instance_size = sizeof(HvShutdown),
    .class_init = hv_shutdown_class_init,
};

static void hv_shutdown_register_types(void)
{
    type_register_static(&hv_shutdown_info);
}

type_init(hv_shutdown_register_types)
