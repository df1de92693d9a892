/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * VMBus wire formats: the channel management messages the guest and the
 * host exchange over SynIC messages, and the packet types of the rings
 * (include/hw/hyperv/vmbus-ring.h has the ring layout).  All fields are
 * little-endian; every message starts with an 8-byte header whose first
 * word is the message type.
 */

#ifndef HW_HYPERV_VMBUS_PROTO_H
#define HW_HYPERV_VMBUS_PROTO_H

/* Protocol versions: major << 16 | minor. */
#define VMBUS_MKVER(maj, min)           ((uint32_t)(maj) << 16 | (min))
#define VMBUS_VERSION_WIN8              VMBUS_MKVER(2, 4)
#define VMBUS_VERSION_WIN8_1            VMBUS_MKVER(3, 0)
#define VMBUS_VERSION_WIN10             VMBUS_MKVER(4, 0)
#define VMBUS_VERSION_WIN10_RS3         VMBUS_MKVER(4, 1)
#define VMBUS_VERSION_V5_0              VMBUS_MKVER(5, 0)
#define VMBUS_VERSION_V5_1              VMBUS_MKVER(5, 1)
#define VMBUS_VERSION_V5_2              VMBUS_MKVER(5, 2)
#define VMBUS_VERSION_V5_3              VMBUS_MKVER(5, 3)

/*
 * SynIC connections.  Before 5.0 the guest posts on MESSAGE_CONN and
 * the host answers on SINT 2; from 5.0 INITIATE_CONTACT comes on
 * MESSAGE_CONN_V5 and names the SINT, and the answer names the
 * connection for what follows.
 */
#define VMBUS_MESSAGE_CONN              1
#define VMBUS_MESSAGE_CONN_V5           4
#define VMBUS_SINT                      2
/* Hypervisor message type of channel messages (both ways). */
#define VMBUS_HV_MESSAGE_TYPE           1

/* Channel message types. */
enum {
    VMBUS_MSG_INVALID               = 0,
    VMBUS_MSG_OFFERCHANNEL          = 1,
    VMBUS_MSG_RESCIND_CHANNELOFFER  = 2,
    VMBUS_MSG_REQUESTOFFERS         = 3,
    VMBUS_MSG_ALLOFFERS_DELIVERED   = 4,
    VMBUS_MSG_OPENCHANNEL           = 5,
    VMBUS_MSG_OPENCHANNEL_RESULT    = 6,
    VMBUS_MSG_CLOSECHANNEL          = 7,
    VMBUS_MSG_GPADL_HEADER          = 8,
    VMBUS_MSG_GPADL_BODY            = 9,
    VMBUS_MSG_GPADL_CREATED         = 10,
    VMBUS_MSG_GPADL_TEARDOWN        = 11,
    VMBUS_MSG_GPADL_TORNDOWN        = 12,
    VMBUS_MSG_RELID_RELEASED        = 13,
    VMBUS_MSG_INITIATE_CONTACT      = 14,
    VMBUS_MSG_VERSION_RESPONSE      = 15,
    VMBUS_MSG_UNLOAD                = 16,
    VMBUS_MSG_UNLOAD_RESPONSE       = 17,
    VMBUS_MSG_TL_CONNECT_REQUEST    = 21,
    VMBUS_MSG_MODIFYCHANNEL         = 22,
    VMBUS_MSG_TL_CONNECT_RESULT     = 23,
    VMBUS_MSG_MODIFYCHANNEL_RESPONSE = 24,
    VMBUS_MSG_TYPES                 = 25,
};

/*
 * Ring packet types: data in the packet itself (the one our devices use),
 * completions, and data the packet points at in guest memory.
 */
#define VMBUS_PACKET_COMP                       0xb /* answers a request */
#define VMBUS_PACKET_DATA_INBAND                0x6 /* payload inside */
#define VMBUS_PACKET_DATA_USING_GPA_DIRECT      0x9 /* page ranges */
#define VMBUS_PACKET_DATA_USING_GPADL           0x8 /* not accepted */
#define VMBUS_PACKET_DATA_USING_XFER_PAGES      0x7 /* not accepted */

/* Offer flags: channel_flags, then interrupt_flags. */
#define VMBUS_CHANNEL_NAMED_PIPE_MODE           0x10
#define VMBUS_CHANNEL_ENUMERATE_DEVICE_INTERFACE 0x1
#define VMBUS_OFFER_DEDICATED_INTERRUPT         0x1
/* A pipe channel's mode, in the first word of the offer's user data. */
#define VMBUS_PIPE_TYPE_MESSAGE                 4

/* NTSTATUS values the host puts in results. */
#define VMBUS_STATUS_SUCCESS            0u
#define VMBUS_STATUS_UNSUCCESSFUL       0xc0000001u
#define VMBUS_STATUS_INVALID_PARAMETER  0xc000000du
#define VMBUS_STATUS_NO_MEMORY          0xc0000017u
#define VMBUS_STATUS_CONNECTION_REFUSED 0xc0000236u

#define VMBUS_USER_DATA_LEN             120

typedef struct VMBusMsgHdr {
    uint32_t type;
    uint32_t reserved;
} QEMU_PACKED VMBusMsgHdr;

typedef struct VMBusMsgContact {
    VMBusMsgHdr hdr;
    uint32_t version;
    uint32_t target_vp;         /* where the host sends its messages */
    union {
        uint64_t interrupt_page;    /* before 5.0; unused from 2.4 */
        struct {
            uint8_t sint;           /* from 5.0 */
            uint8_t vtl;
            uint8_t pad[6];
        } QEMU_PACKED v5;
    };
    uint64_t monitor_pages[2];
} QEMU_PACKED VMBusMsgContact;

typedef struct VMBusMsgVersionResponse {
    VMBusMsgHdr hdr;
    uint8_t supported;
    uint8_t conn_state;
    uint16_t pad;
    uint32_t msg_conn;          /* from 5.0: where the guest posts next */
} QEMU_PACKED VMBusMsgVersionResponse;

typedef struct VMBusMsgOffer {
    VMBusMsgHdr hdr;
    uint8_t class_id[16];       /* GUIDs in wire order */
    uint8_t instance_id[16];
    uint64_t reserved1[2];
    uint16_t flags;
    uint16_t mmio_mb;
    uint8_t user_data[VMBUS_USER_DATA_LEN];
    uint16_t sub_idx;
    uint16_t reserved2;
    uint32_t relid;
    uint8_t monitor_id;
    uint8_t monitor_flags;
    uint16_t interrupt_flags;
    uint32_t conn_id;           /* the guest signals the channel on it */
} QEMU_PACKED VMBusMsgOffer;

/* Messages whose body is one relid: rescind, close, relid released. */
typedef struct VMBusMsgRelid {
    VMBusMsgHdr hdr;
    uint32_t relid;
} QEMU_PACKED VMBusMsgRelid;

typedef struct VMBusMsgGpadlCreated {
    VMBusMsgHdr hdr;
    uint32_t relid;
    uint32_t gpadl;
    uint32_t status;
} QEMU_PACKED VMBusMsgGpadlCreated;

typedef struct VMBusMsgGpadlTeardown {
    VMBusMsgHdr hdr;
    uint32_t relid;
    uint32_t gpadl;
} QEMU_PACKED VMBusMsgGpadlTeardown;

typedef struct VMBusMsgGpadlTorndown {
    VMBusMsgHdr hdr;
    uint32_t gpadl;
} QEMU_PACKED VMBusMsgGpadlTorndown;

typedef struct VMBusMsgOpen {
    VMBusMsgHdr hdr;
    uint32_t relid;
    uint32_t open_id;
    uint32_t ring_gpadl;
    uint32_t target_vp;         /* where the channel's interrupts go */
    uint32_t host_ring_page;    /* first page of the host-to-guest ring */
    uint8_t user_data[VMBUS_USER_DATA_LEN];
} QEMU_PACKED VMBusMsgOpen;

typedef struct VMBusMsgOpenResult {
    VMBusMsgHdr hdr;
    uint32_t relid;
    uint32_t open_id;
    uint32_t status;
} QEMU_PACKED VMBusMsgOpenResult;

typedef struct VMBusMsgModify {
    VMBusMsgHdr hdr;
    uint32_t relid;
    uint32_t target_vp;
} QEMU_PACKED VMBusMsgModify;

typedef struct VMBusMsgModifyResponse {
    VMBusMsgHdr hdr;
    uint32_t relid;
    uint32_t status;
} QEMU_PACKED VMBusMsgModifyResponse;

typedef struct VMBusMsgTlConnect {
    VMBusMsgHdr hdr;
    uint8_t endpoint_id[16];
    uint8_t service_id[16];
} QEMU_PACKED VMBusMsgTlConnect;

typedef struct VMBusMsgTlConnectResult {
    VMBusMsgHdr hdr;
    uint8_t endpoint_id[16];
    uint8_t service_id[16];
    uint32_t status;
} QEMU_PACKED VMBusMsgTlConnectResult;

/* A GPA-direct packet: after the descriptor, these, then the ranges. */
typedef struct VMBusGpaDirectHdr {
    uint32_t reserved;
    uint32_t range_count;
} QEMU_PACKED VMBusGpaDirectHdr;

typedef struct VMBusGpaRangeHdr {
    uint32_t len;
    uint32_t offset;            /* into the first page */
} QEMU_PACKED VMBusGpaRangeHdr;

#endif
