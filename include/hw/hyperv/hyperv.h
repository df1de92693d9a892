/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The names and layouts this interface keeps from upstream QEMU's header
 * of the same name: Copyright (c) 2015-2018 Virtuozzo International GmbH.
 *
 * Hyper-V synthetic interrupt controller (SynIC): the interface devices
 * (VMBus, the synthetic debugger, hyperv-testdev) and the accelerators use.
 *
 * Threads: unless a function says otherwise it is called with the BQL held.
 * hyperv_post_msg(), hyperv_set_event_flag() and
 * hyperv_sint_route_set_sint() may be called from any thread.
 */

#ifndef HW_HYPERV_HYPERV_H
#define HW_HYPERV_HYPERV_H

#include "cpu-qom.h"
#include "hw/hyperv/hyperv-proto.h"

/*
 * A SINT route: a (VP index, SINT) pair a device delivers to.  It owns
 * the interrupt source that raises the SINT and, for routes that post
 * messages, one staged message and the guest's acknowledgement (EOM/EOI).
 */
typedef struct HvSintRoute HvSintRoute;

/*
 * Completion of hyperv_post_msg(), called in the main loop with the BQL:
 * status 0 once the message is in the guest's slot, -ENXIO if the guest
 * has no message page enabled, -EAGAIN if it must be posted again.
 */
typedef void (*HvSintMsgCb)(void *data, int status);

/*
 * Route SINT @sint of the vCPU with VP index @vp_index.  @cb (may be
 * NULL) makes the route able to post messages.  Returns NULL when no such
 * vCPU, no SynIC on it, or no interrupt source can be had; callers turn
 * that into an architectural error, never an abort.
 */
HvSintRoute *hyperv_sint_route_new(uint32_t vp_index, uint32_t sint,
                                   HvSintMsgCb cb, void *cb_data);
void hyperv_sint_route_ref(HvSintRoute *sint_route);
/* Drops a reference; the last one releases the route and its GSI. */
void hyperv_sint_route_unref(HvSintRoute *sint_route);

/* Raise the route's SINT.  Returns 0 or a negative errno. */
int hyperv_sint_route_set_sint(HvSintRoute *sint_route);

/*
 * Post @msg to the route's message slot.  Returns 0 when the message is
 * taken (the completion callback follows), -EAGAIN while an earlier
 * message of this route is still staged, -EINVAL for a route without
 * callback or a malformed message.  Kicks the target vCPU only where the
 * accelerator writes the same slots (hyperv_synic_set_post_on_vcpu()).
 */
int hyperv_post_msg(HvSintRoute *sint_route, struct hyperv_message *msg);

/*
 * Set event flag @eventno (0 .. HV_EVENT_FLAGS_COUNT - 1) of the route's
 * SINT; the SINT is raised only when the flag goes from 0 to 1.
 */
int hyperv_set_event_flag(HvSintRoute *sint_route, unsigned eventno);

/*
 * Connections: handlers for the guest's HvPostMessage and HvSignalEvent,
 * keyed by connection ID.  Handlers run on the calling vCPU's thread with
 * the BQL held; they get a private copy of the input, already checked.
 * Passing a NULL handler (notifier) removes the connection.  Returns
 * -EEXIST for a taken ID, -ENOENT when removing an unknown one, -EINVAL
 * for an ID wider than 24 bits.
 */
typedef uint16_t (*HvMsgHandler)(const struct hyperv_post_message_input *msg,
                                 void *data);
int hyperv_set_msg_handler(uint32_t conn_id, HvMsgHandler handler, void *data);
int hyperv_set_event_flag_handler(uint32_t conn_id, EventNotifier *notifier);

/*
 * The hypercalls, decoded by the accelerator: @param is the input GPA
 * (slow call) or the input value (fast call).  Return an HV_STATUS_*.
 */
uint16_t hyperv_hcall_post_message(uint64_t param, bool fast);
uint16_t hyperv_hcall_signal_event(uint64_t param, bool fast);
/*
 * Every hypercall QEMU answers, by call code: @in and @out are the input
 * and output GPAs (slow) or values (fast); the debugger's calls exist only
 * when @syndbg.  BQL held.
 */
uint16_t hyperv_hcall(uint16_t code, bool fast, uint64_t in, uint64_t out,
                      bool syndbg);

/*
 * Whether @len bytes at @gpa are all guest RAM (@writable: writable RAM),
 * and copy between @buf and such RAM: false, with nothing copied, when
 * any of it is not.  Any thread.
 */
bool hyperv_is_guest_ram(hwaddr gpa, hwaddr len, bool writable);
bool hyperv_guest_ram_rw(hwaddr gpa, void *buf, hwaddr len, bool is_write);

/*
 * Copy a slow hypercall's input of @len bytes at @gpa: HV_STATUS_SUCCESS,
 * or HV_STATUS_INVALID_ALIGNMENT for a GPA that is not 8-byte aligned, an
 * input that crosses a page, or one that is not all RAM.
 */
uint16_t hyperv_hcall_read_input(uint64_t gpa, void *buf, hwaddr len);

/* QEMU numbers Hyper-V virtual processors by CPU index. */
static inline uint32_t hyperv_vp_index(CPUState *cs)
{
    return cs->cpu_index;
}

/* The per-vCPU SynIC: created with the vCPU, driven by its MSRs. */
bool hyperv_synic_add(CPUState *cs, Error **errp);
void hyperv_synic_reset(CPUState *cs);
/*
 * Apply the guest's SCONTROL, SIMP and SIEFP.  A page address of
 * HV_SYNIC_PAGE_OFF means that page is disabled (GPA 0 is a valid page).
 * Runs with the BQL held while no vCPU is in the guest; the new mapping is
 * in place when it returns.
 */
#define HV_SYNIC_PAGE_OFF ((hwaddr)-1)
void hyperv_synic_update(CPUState *cs, bool enable,
                         hwaddr msg_page_addr, hwaddr event_page_addr);
/*
 * The accelerator writes @cs's message slots itself, from the vCPU's own
 * context (KVM's in-kernel synthetic timers): the SynIC then does every
 * slot write of its own on that vCPU's thread.  Call before the first
 * route to the vCPU is made.
 */
void hyperv_synic_set_post_on_vcpu(CPUState *cs, bool on);
/* True once any vCPU has a SynIC. */
bool hyperv_is_synic_enabled(void);

/*
 * How the accelerator raises SINTs.  connect() makes a signal of @set
 * raise SINT @sint of VP @vp_index, and signal @ack when the guest
 * acknowledges that SINT (EOM, or EOI of its vector).  The SynIC connects
 * each (VP, SINT) once, however many routes use it.  connect() returns a
 * handle >= 0 that disconnect() takes back, or a negative errno.  Both
 * run with the BQL held.
 */
typedef struct HvSintRouteOps {
    int (*connect)(uint32_t vp_index, uint32_t sint, EventNotifier *set,
                   EventNotifier *ack);
    void (*disconnect)(int handle, EventNotifier *set);
    /*
     * Optional: let the accelerator answer HvSignalEvent for @conn_id by
     * signalling @notifier itself (NULL: stop).  0 or a negative errno;
     * QEMU's own handling stays in place behind it either way.
     */
    int (*set_event_conn)(uint32_t conn_id, EventNotifier *notifier);
} HvSintRouteOps;
void hyperv_set_sint_route_ops(const HvSintRouteOps *ops);

/*
 * The partition's reference time (TIME_REF_COUNT, 100 ns units) as the
 * guest would read it now: false when the guest has none (no hv-time).
 * The accelerator path that keeps it sets the source; BQL.
 */
bool hyperv_ref_time(uint64_t *ref);
void hyperv_set_ref_time_source(bool (*source)(uint64_t *ref));

/*
 * The synthetic debugger (hv-syndbg): hypercalls and MSR actions,
 * forwarded to the one registered debugger device.
 */
uint16_t hyperv_hcall_reset_dbg_session(uint64_t out_gpa);
uint16_t hyperv_hcall_retreive_dbg_data(uint64_t in_gpa, uint64_t out_gpa,
                                        bool fast);
uint16_t hyperv_hcall_post_dbg_data(uint64_t in_gpa, uint64_t out_gpa,
                                    bool fast);
/* SYNDBG_CONTROL with SEND or RECV: a SYNDBG_STATUS value. */
uint32_t hyperv_syndbg_send(uint64_t buf_gpa, uint32_t len);
uint32_t hyperv_syndbg_recv(uint64_t buf_gpa, uint32_t len);
/* SYNDBG_PENDING_BUFFER. */
void hyperv_syndbg_set_pending_page(uint64_t buf_gpa);
/* SYNDBG_OPTIONS as the debugger device wants it. */
uint64_t hyperv_syndbg_query_options(void);

/* What a debugger device is asked to do. */
typedef enum HvSynthDbgMsgType {
    HV_SYNDBG_MSG_CONNECTION_INFO,
    HV_SYNDBG_MSG_SEND,
    HV_SYNDBG_MSG_RECV,
    HV_SYNDBG_MSG_SET_PENDING_PAGE,
    HV_SYNDBG_MSG_QUERY_OPTIONS
} HvDbgSynthMsgType;

typedef struct HvSynDbgMsg {
    HvDbgSynthMsgType type;
    union {
        /* CONNECTION_INFO, answered by the device */
        struct {
            uint32_t host_ip;
            uint16_t host_port;
        } connection_info;
        /* SEND: count bytes at buf_gpa; the device sets pending_count */
        struct {
            uint64_t buf_gpa;
            uint32_t count;
            uint32_t pending_count;
            bool is_raw;        /* from the hypercall, not the MSRs */
        } send;
        /* RECV: up to count bytes to buf_gpa; device sets retrieved_count */
        struct {
            uint64_t buf_gpa;
            uint32_t count;
            uint32_t options;
            uint64_t timeout;
            uint32_t retrieved_count;
            bool is_raw;
        } recv;
        /* SET_PENDING_PAGE */
        struct {
            uint64_t buf_gpa;
        } pending_page;
        /* QUERY_OPTIONS, answered by the device */
        struct {
            uint64_t options;
        } query_options;
    } u;
} HvSynDbgMsg;
typedef uint16_t (*HvSynDbgHandler)(void *context, HvSynDbgMsg *msg);
void hyperv_set_syndbg_handler(HvSynDbgHandler handler, void *context);

/* Whether hv-stimer, hv-vapic and hv-runtime are all on (VMBus wants them). */
bool hyperv_are_vmbus_recommended_features_enabled(void);
void hyperv_set_vmbus_recommended_features_enabled(void);

#endif
