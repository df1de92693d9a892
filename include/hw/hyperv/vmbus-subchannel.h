/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Sub-channels on demand, beside the VMBus device API of hw/hyperv/vmbus.h.
 *
 * A device whose class's num_channels() gives it n channels has channel
 * 0, the primary, offered to the guest as usual.  Channels 1 to n - 1,
 * its sub-channels, are offered only when the device asks, which it does
 * when its guest driver asks it through the open primary channel (as
 * netvsc and storvsc do on Hyper-V).  They share the primary's class and
 * instance GUIDs and carry their index in the offer.  When the guest
 * closes the primary channel, the bus closes and rescinds the
 * sub-channels; after an UNLOAD or a reset none is offered until the
 * device asks again.
 */

#ifndef HW_HYPERV_VMBUS_SUBCHANNEL_H
#define HW_HYPERV_VMBUS_SUBCHANNEL_H

#include "hw/hyperv/vmbus.h"

/*
 * Offer sub-channels 1 to @count (those already offered stay; asking for
 * fewer takes none back).  0, -EINVAL if the device has fewer than
 * @count sub-channels, -ENODEV if it is being unplugged, or -ENOTCONN if
 * its primary channel is not open.  Not from the class's open_channel():
 * the primary counts as open there before the device has agreed.
 */
int vmbus_device_enable_subchannels(VMBusDevice *dev, uint16_t count);

#endif
