/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The Hyper-V integration services ("ICs": shutdown, heartbeat, time
 * sync, KVP) as VMBus devices: the framework they share.
 *
 * Every IC message, in both directions, is one in-band VMBus packet: a
 * pipe header, the IC header and the service's body.  The host speaks
 * first: when the guest opens the channel the host offers its framework
 * and message versions (NEGOTIATE) and the guest answers with the one
 * of each it picked.  Then the host sends requests, one at a time, each
 * a transaction the guest answers in place.  hv-ic.c does the framing,
 * the negotiation, the transaction ids and the bound on every wait; a
 * service only builds bodies and reads answers.
 */

#ifndef HW_HYPERV_HV_IC_H
#define HW_HYPERV_HV_IC_H

#include "hw/hyperv/vmbus.h"
#include "qemu/timer.h"
#include "system/runstate.h"
#include "qom/object.h"

#define TYPE_HV_IC "hv-ic"
OBJECT_DECLARE_TYPE(HvIc, HvIcClass, HV_IC)

/* A version as the wire and the guest compare it: major, then minor. */
#define HV_IC_VERSION(major, minor) ((uint32_t)(major) << 16 | (minor))
#define HV_IC_MAJOR(v)              ((v) >> 16)
#define HV_IC_MINOR(v)              ((v) & 0xffff)

/* The IC header's message types. */
#define HV_IC_MSG_NEGOTIATE     0
#define HV_IC_MSG_HEARTBEAT     1
#define HV_IC_MSG_KVP           2
#define HV_IC_MSG_SHUTDOWN      3
#define HV_IC_MSG_TIMESYNC      4

/* Statuses in answers (HRESULTs). */
#define HV_IC_S_OK              0x00000000u
#define HV_IC_E_FAIL            0x80004005u

/* A service speaks at most this many message versions. */
#define HV_IC_MSG_VERSIONS_MAX  8

/* The largest body a request or an answer may have (KVP's IP info). */
#define HV_IC_BODY_MAX          7428

typedef enum HvIcState {
    HV_IC_CLOSED,       /* the guest has not opened the channel */
    HV_IC_NEGOTIATING,  /* versions offered, no answer yet */
    HV_IC_READY,        /* versions agreed, no request out */
    HV_IC_WAITING,      /* a request out, its answer not in yet */
    /* No common version, or a broken answer: until the channel reopens. */
    HV_IC_FAILED,
} HvIcState;

struct HvIcClass {
    VMBusDeviceClass parent_class;

    /* The service's message type and the message versions it speaks. */
    uint16_t msg_type;
    const uint32_t *versions;
    unsigned int nversions;
    /*
     * Whether to offer @version now (optional; without it, all): a
     * version whose messages need what this VM lacks stays out.
     */
    bool (*offers)(HvIc *ic, uint32_t version);
    /* How long the guest has to answer a request, by default (ms). */
    uint32_t timeout_ms;

    /* The service's own parts of realize and unrealize (optional). */
    void (*realize)(HvIc *ic, Error **errp);
    void (*unrealize)(HvIc *ic);
    /*
     * The request goes into the ring now (it may have waited for room):
     * the service may bring its body up to date (optional).
     */
    void (*refresh)(HvIc *ic, uint8_t *body, uint32_t len);
    /* Versions agreed: the service may send.  Main loop, as all below. */
    void (*ready)(HvIc *ic);
    /*
     * The answer to the request out: the guest's status and the body it
     * sent back, @len bytes as its IC header says (checked to lie inside
     * the packet; guest-chosen, up to 65535: read only what @len holds).
     */
    void (*answer)(HvIc *ic, uint32_t status, const uint8_t *body,
                   uint32_t len);
    /* The request out went unanswered for timeout_ms: it is dropped. */
    void (*timeout)(HvIc *ic);
    /* The channel closed or the device was reset: nothing is out. */
    void (*closed)(HvIc *ic);
};

struct HvIc {
    VMBusDevice parent;

    HvIcState state;
    uint32_t offered[HV_IC_MSG_VERSIONS_MAX];   /* in the last NEGOTIATE */
    unsigned int noffered;
    uint32_t fw_version;        /* agreed (READY, WAITING) */
    uint32_t msg_version;
    uint32_t timeout_ms;        /* property "timeout-ms"; 0: the class's */
    uint8_t txid;               /* of the last request sent */
    uint16_t req_type;          /* its message type */
    uint32_t req_len;           /* its body's length */
    bool unsent;                /* written when the ring has room */
    uint8_t req[HV_IC_BODY_MAX];
    QEMUTimer *timer;           /* bounds the wait for an answer */
    QEMUBH *open_bh;            /* negotiates once the channel is open */
    bool loaded;                /* by an incoming migration or loadvm */
    VMChangeStateEntry *vm_state;

    /* What QMP shows. */
    uint64_t requests, answers, timeouts, dropped;
    uint32_t last_status;
    int64_t last_answer_ms;     /* QEMU_CLOCK_REALTIME, 0: none yet */
    const char *failure;        /* why the state is FAILED */
};

/*
 * Send a request of the service's type with body @body (@len bytes):
 * 0, or -EBUSY (a request is out, or the versions are not agreed yet:
 * hv_ic_ready() says when it may), -EMSGSIZE.  The answer comes to the
 * class's answer(), or timeout() after timeout_ms.
 */
int hv_ic_request(HvIc *ic, const void *body, uint32_t len);

/* Whether the service is bound and has nothing out. */
bool hv_ic_ready(HvIc *ic);

/*
 * The standard set of services (shutdown, heartbeat, time sync, KVP,
 * each with its defaults) on @bus, as children of @parent named by
 * their types: vmbus-bridge,integration-services=on.
 */
bool hv_ic_add_standard_set(BusState *bus, Object *parent, Error **errp);

/*
 * The framework's migration state (every service's, unless the service
 * has its own that includes it as its parent's).
 */
extern const VMStateDescription vmstate_hv_ic;

/* The state's name, for QMP and traces. */
const char *hv_ic_state_name(HvIcState state);

#endif
