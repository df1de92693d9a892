/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * vmbus-echo: a VMBus test device.  It offers one channel of its own
 * class, and sends every packet the guest writes to it back, as an
 * in-band packet with the same transaction id and payload.  Tests use it
 * to drive the bus's rings from a guest (tests/guest, bench/) and as a
 * device to hot-plug; no guest driver binds to it.
 *
 * When the guest's ring has no room for an answer, the packet stays in
 * the ring until the guest has read and signals (the bus asks for that
 * signal with pending_send_sz).
 */

#include "qemu/osdep.h"
#include "qemu/module.h"
#include "hw/hyperv/vmbus.h"
#include "migration/vmstate.h"
#include "qom/object.h"

#define TYPE_VMBUS_ECHO "vmbus-echo"
#define VMBUS_ECHO_CLASS "b6d1f2a4-4c7e-4a8b-9e31-5f0c2d7a8e63"

OBJECT_DECLARE_SIMPLE_TYPE(VMBusEcho, VMBUS_ECHO)

struct VMBusEcho {
    VMBusDevice parent;
    uint64_t echoed;        /* packets sent back, for the monitor */
};

static void vmbus_echo_notify(VMBusChannel *chan)
{
    VMBusEcho *echo = VMBUS_ECHO(vmbus_channel_device(chan));
    VMBusChanReq *req;

    if (vmbus_channel_recv_start(chan)) {
        return;
    }
    while ((req = vmbus_channel_recv_peek(chan, sizeof(*req)))) {
        /* No room for the answer: the guest signals once it has read. */
        if (vmbus_channel_reserve(chan, 0, req->msglen) < 0) {
            vmbus_free_req(req);
            break;
        }
        vmbus_channel_send(chan, VMBUS_PACKET_DATA_INBAND, NULL, 0, req->msg,
                           req->msglen, false, req->transaction_id);
        echo->echoed++;
        vmbus_free_req(req);
        vmbus_channel_recv_pop(chan);
    }
    vmbus_channel_recv_done(chan);
}

static int vmbus_echo_open(VMBusChannel *chan)
{
    return 0;
}

/* Its channel resumes on the destination as it was (vmbus.c). */
static const VMStateDescription vmstate_vmbus_echo = {
    .name = TYPE_VMBUS_ECHO,
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT(parent, VMBusEcho, 0, vmstate_vmbus_dev, VMBusDevice),
        VMSTATE_UINT64(echoed, VMBusEcho),
        VMSTATE_END_OF_LIST()
    }
};

static void vmbus_echo_class_init(ObjectClass *klass, void *data)
{
    VMBusDeviceClass *vdc = VMBUS_DEVICE_CLASS(klass);
    DeviceClass *dc = DEVICE_CLASS(klass);

    qemu_uuid_parse(VMBUS_ECHO_CLASS, &vdc->classid);
    vdc->open_channel = vmbus_echo_open;
    vdc->chan_notify_cb = vmbus_echo_notify;
    dc->desc = "VMBus test device: echoes every packet";
    dc->vmsd = &vmstate_vmbus_echo;
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo vmbus_echo_info = {
    .name = TYPE_VMBUS_ECHO,
    .parent = TYPE_VMBUS_DEVICE,
    .instance_size = sizeof(VMBusEcho),
    .class_init = vmbus_echo_class_init,
};

static void vmbus_echo_register_types(void)
{
    type_register_static(&vmbus_echo_info);
}

type_init(vmbus_echo_register_types)
