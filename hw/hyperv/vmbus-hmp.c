/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * HMP "info vmbus": query-vmbus, one line per device and channel.
 */

#include "qemu/osdep.h"
#include "monitor/hmp.h"
#include "monitor/monitor.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-machine.h"

static void hmp_vmbus_ring(Monitor *mon, const char *name,
                           const VMBusRingInfo *r)
{
    if (!r) {
        return;
    }
    monitor_printf(mon, "      %s: %u bytes, write %u read %u host %u, "
                   "mask %u, pending send %u%s%s\n", name, r->size,
                   r->write_index, r->read_index, r->host_index,
                   r->interrupt_mask, r->pending_send_size,
                   r->broken ? ", broken: " : "", r->broken ?: "");
}

void hmp_info_vmbus(Monitor *mon, const QDict *qdict)
{
    Error *err = NULL;
    VMBusInfo *info = qmp_query_vmbus(&err);
    VMBusDeviceInfoList *d;
    VMBusChannelInfoList *c;

    if (hmp_handle_error(mon, err)) {
        return;
    }
    monitor_printf(mon, "VMBus: %s", VMBusConnection_str(info->state));
    if (info->version) {
        monitor_printf(mon, ", version %s, messages to VP %u SINT %u",
                       info->version, info->target_vp, info->sint);
    }
    monitor_printf(mon, "\n  %u GPADLs of %" PRIu64 " pages, %u messages "
                   "queued for the guest\n", info->gpadls, info->gpadl_pages,
                   info->messages_queued);
    for (d = info->devices; d; d = d->next) {
        monitor_printf(mon, "  %s (%s)\n    class %s instance %s\n",
                       d->value->type, d->value->qom_path,
                       d->value->class_id, d->value->instance_id);
        for (c = d->value->channels; c; c = c->next) {
            VMBusChannelInfo *ch = c->value;

            monitor_printf(mon, "    channel %u: relid %u, %s%s%s", ch->index,
                           ch->relid, VMBusChannelState_str(ch->state),
                           ch->rescinded ? ", rescinded" : "",
                           ch->failed ? ", failed" : "");
            if (ch->has_target_vp) {
                monitor_printf(mon, ", VP %u, ring GPADL 0x%x",
                               ch->target_vp, ch->ring_gpadl);
            }
            monitor_printf(mon, "\n");
            hmp_vmbus_ring(mon, "to host", ch->to_host);
            hmp_vmbus_ring(mon, "to guest", ch->to_guest);
        }
    }
    qapi_free_VMBusInfo(info);
}
