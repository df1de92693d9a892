/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * query-vmbus and hv-shutdown-guest in a build without the VMBus host
 * (CONFIG_VMBUS off).
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-machine.h"

VMBusInfo *qmp_query_vmbus(Error **errp)
{
    error_setg(errp, "this QEMU is built without the VMBus (CONFIG_VMBUS)");
    return NULL;
}

HvShutdownAnswer *qmp_hv_shutdown_guest(HvShutdownAction action,
                                        bool has_force, bool force,
                                        Error **errp)
{
    error_setg(errp, "this QEMU is built without the VMBus (CONFIG_VMBUS)");
    return NULL;
}

HvKvpInfo *qmp_query_hv_kvp(Error **errp)
{
    error_setg(errp, "this QEMU is built without the VMBus (CONFIG_VMBUS)");
    return NULL;
}

void qmp_hv_kvp_set(const char *key, const char *value, bool has_pool,
                    HvKvpPool pool, Error **errp)
{
    error_setg(errp, "this QEMU is built without the VMBus (CONFIG_VMBUS)");
}

void qmp_hv_kvp_delete(const char *key, bool has_pool, HvKvpPool pool,
                       Error **errp)
{
    error_setg(errp, "this QEMU is built without the VMBus (CONFIG_VMBUS)");
}
