// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hyperv-testdev commands (protocol in hv_testdev.h).
 */
#include "hv_testdev.h"
#include "x86.h"

void hv_testdev_raw(uint32_t word)
{
    outl(HV_TESTDEV_PORT, word);
}

void hv_testdev_cmd(enum hv_testdev_cmd cmd, unsigned int vp,
                    unsigned int sint, unsigned int conn)
{
    hv_testdev_raw((sint & 0xff) | (vp & 0xff) << 8 | (cmd & 0xff) << 16 |
                   (conn & 0xffu) << 24);
}

void hv_testdev_route_create(unsigned int vp, unsigned int sint)
{
    hv_testdev_cmd(HV_TESTDEV_ROUTE_CREATE, vp, sint, 0);
}

void hv_testdev_route_destroy(unsigned int vp, unsigned int sint)
{
    hv_testdev_cmd(HV_TESTDEV_ROUTE_DESTROY, vp, sint, 0);
}

void hv_testdev_route_set(unsigned int vp, unsigned int sint)
{
    hv_testdev_cmd(HV_TESTDEV_ROUTE_SET, vp, sint, 0);
}

void hv_testdev_msg_conn_create(unsigned int conn, unsigned int vp,
                                unsigned int sint)
{
    hv_testdev_cmd(HV_TESTDEV_MSG_CONN_CREATE, vp, sint, conn);
}

void hv_testdev_msg_conn_destroy(unsigned int conn)
{
    hv_testdev_cmd(HV_TESTDEV_MSG_CONN_DESTROY, 0, 0, conn);
}

void hv_testdev_evt_conn_create(unsigned int conn, unsigned int vp,
                                unsigned int sint)
{
    hv_testdev_cmd(HV_TESTDEV_EVT_CONN_CREATE, vp, sint, conn);
}

void hv_testdev_evt_conn_destroy(unsigned int conn)
{
    hv_testdev_cmd(HV_TESTDEV_EVT_CONN_DESTROY, 0, 0, conn);
}
