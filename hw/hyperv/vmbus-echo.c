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
 *
 * With subchannels=N (0 to 63: a device has at most 64 channels) it has
 * N sub-channels, which echo too, offered when the guest asks on the
 * primary channel: a packet of exactly 8 bytes,
 * "SUBC" and a count (32 bits, little-endian), is answered with "SUBC"
 * and the status of vmbus_device_enable_subchannels() (0 or -errno).
 */

#include "qemu/osdep.h"
#include "qemu/module.h"
#include "hw/hyperv/vmbus.h"
#include "hw/hyperv/vmbus-subchannel.h"
#include "hw/qdev-properties.h"
#include "qemu/bswap.h"
#include "migration/vmstate.h"
#include "qom/object.h"

#define TYPE_VMBUS_ECHO "vmbus-echo"
#define VMBUS_ECHO_CLASS "b6d1f2a4-4c7e-4a8b-9e31-5f0c2d7a8e63"
#define VMBUS_ECHO_SUBC  0x43425553     /* "SUBC" in the guest's order */

OBJECT_DECLARE_SIMPLE_TYPE(VMBusEcho, VMBUS_ECHO)

struct VMBusEcho {
    VMBusDevice parent;
    uint64_t echoed;        /* packets sent back, for the monitor */
    uint16_t subchannels;
};

/* A sub-channel request on the primary: its answer in @msg. */
static bool vmbus_echo_subc(VMBusChannel *chan, VMBusChanReq *req)
{
    uint32_t w[2];

    if (vmbus_channel_idx(chan) || req->msglen != sizeof(w)) {
        return false;
    }
    memcpy(w, req->msg, sizeof(w));
    if (le32_to_cpu(w[0]) != VMBUS_ECHO_SUBC) {
        return false;
    }
    w[1] = cpu_to_le32(le32_to_cpu(w[1]) > UINT16_MAX ? -EINVAL :
                       vmbus_device_enable_subchannels(
                           vmbus_channel_device(chan), le32_to_cpu(w[1])));
    memcpy(req->msg, w, sizeof(w));
    return true;
}

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
        vmbus_echo_subc(chan, req);
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

static uint16_t vmbus_echo_num_channels(VMBusDevice *dev)
{
    return 1 + VMBUS_ECHO(dev)->subchannels;
}

static const Property vmbus_echo_props[] = {
    DEFINE_PROP_UINT16("subchannels", VMBusEcho, subchannels, 0),
};

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
    vdc->num_channels = vmbus_echo_num_channels;
    vdc->chan_notify_cb = vmbus_echo_notify;
    dc->desc = "VMBus test device: echoes every packet";
    dc->vmsd = &vmstate_vmbus_echo;
    device_class_set_props(dc, vmbus_echo_props);
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
