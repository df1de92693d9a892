/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Driver for QEMU's -device hyperv-testdev, the device kvm-unit-tests
 * drives.  It has one 32-bit write-only register at I/O port 0x3000:
 *
 *   bits  0-7   SINT
 *   bits  8-15  VP index
 *   bits 16-23  command (below)
 *   bits 24-31  connection ID
 *
 * SINT routes: a route to (VP, SINT); "set" raises that SINT.
 * Message connections: HvPostMessage on the connection ID makes the
 * device post the same message (type, payload) to (VP, SINT).
 * Event connections: HvSignalEvent on the connection ID makes the device
 * set event flag number <connection ID> in (VP, SINT)'s flag area.
 *
 * The device gives no status: a command that fails is only visible by
 * what does not happen afterwards.  Note that VP index, SINT and
 * connection ID are 8 bits wide, so a VP index of 1000 reaches the
 * device as 1000 & 0xff.
 */
#ifndef GUEST_HV_TESTDEV_H
#define GUEST_HV_TESTDEV_H

#include <stdint.h>

#define HV_TESTDEV_PORT     0x3000

enum hv_testdev_cmd {
    HV_TESTDEV_ROUTE_CREATE = 1,
    HV_TESTDEV_ROUTE_DESTROY = 2,
    HV_TESTDEV_ROUTE_SET = 3,
    HV_TESTDEV_MSG_CONN_CREATE = 4,
    HV_TESTDEV_MSG_CONN_DESTROY = 5,
    HV_TESTDEV_EVT_CONN_CREATE = 6,
    HV_TESTDEV_EVT_CONN_DESTROY = 7,
    /* ours: a device thread without the BQL posts a series of messages */
    HV_TESTDEV_MSG_CONN_THREAD_POST = 8,
};

/* What command 8 posts: message i has this type and the 32-bit payload i */
#define HV_TESTDEV_THREAD_POST_COUNT    64
#define HV_TESTDEV_THREAD_POST_TYPE     0x7e57

/* One raw command word (for the malicious-input checks) */
void hv_testdev_raw(uint32_t word);
void hv_testdev_cmd(enum hv_testdev_cmd cmd, unsigned int vp,
                    unsigned int sint, unsigned int conn);

void hv_testdev_route_create(unsigned int vp, unsigned int sint);
void hv_testdev_route_destroy(unsigned int vp, unsigned int sint);
void hv_testdev_route_set(unsigned int vp, unsigned int sint);
void hv_testdev_msg_conn_create(unsigned int conn, unsigned int vp,
                                unsigned int sint);
void hv_testdev_msg_conn_destroy(unsigned int conn);
void hv_testdev_evt_conn_create(unsigned int conn, unsigned int vp,
                                unsigned int sint);
void hv_testdev_evt_conn_destroy(unsigned int conn);

#endif /* GUEST_HV_TESTDEV_H */
