/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Hyper-V synthetic interrupt controller (SynIC): per-vCPU message and
 * event-flag pages, SINT routes, message posting, and the connections the
 * guest reaches with HvPostMessage and HvSignalEvent.
 *
 * The accelerator emulates the SynIC MSRs and tells us about the guest's
 * SCONTROL, SIMP and SIEFP through hyperv_synic_update(); it raises SINTs
 * for us through the HvSintRouteOps it registers.
 *
 * Message slots (TLFS 11.10 "Message Buffers"): only the host turns an
 * empty slot (message_type == HV_MESSAGE_NONE) into a full one, and only
 * the guest empties it again.  So a slot can be filled from any thread
 * without stopping the vCPU: write the payload, then the type.  When the
 * slot is full, the host sets msg_pending in the slot's flags, and the
 * guest, after emptying the slot, writes EOM; the accelerator turns that
 * (and the EOI of the SINT's vector) into the route's acknowledgement
 * notifier, which retries.
 *
 * That holds only while QEMU is the host's only writer of the slots.  KVM's
 * in-kernel synthetic timers write their expiration messages into the same
 * slots from the vCPU's own context (inside KVM_RUN), under no lock QEMU
 * can take.  On such a SynIC (post_on_vcpu) every slot write of ours runs
 * on that vCPU's thread, outside KVM_RUN, where it cannot interleave with
 * the kernel's: posting then costs a kick of the vCPU, as upstream QEMU
 * always pays.  docs/devel/synic-threads.md has the whole rule.
 */

#include "qemu/osdep.h"
#include "qemu/bitops.h"
#include "qemu/lockable.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "qemu/queue.h"
#include "qemu/rcu.h"
#include "qemu/rcu_queue.h"
#include "qapi/error.h"
#include "exec/address-spaces.h"
#include "exec/memory.h"
#include "hw/core/cpu.h"
#include "hw/qdev-core.h"
#include "hw/hyperv/hyperv.h"
#include "hw/hyperv/hv-log.h"
#include "trace.h"

#define TYPE_SYNIC "hyperv-synic"
OBJECT_DECLARE_SIMPLE_TYPE(SynICState, SYNIC)

/*
 * The accelerator's interrupt source for one SINT of a SynIC, shared by
 * all routes to that SINT.  KVM notifies a single GSI per (vCPU, SINT)
 * of the guest's EOM/EOI, so one source per SINT is also the only way
 * every route staged on it hears the acknowledgement.  Created by the
 * first route to the SINT, released with the last; BQL.
 */
typedef struct HvSintSource {
    SynICState *synic;
    uint32_t sint;
    unsigned users;
    int handle;
    EventNotifier set_notifier;     /* signalled to raise the SINT */
    EventNotifier ack_notifier;     /* the guest's EOM or EOI */
} HvSintSource;

/* Overlay pages cover guest RAM (priority 0) at their GPA. */
#define SYNIC_OVERLAY_PRIORITY 1

struct SynICState {
    DeviceState parent_obj;

    CPUState *cs;
    uint32_t vp_index;

    /*
     * The message and event-flag pages are RAM of their own, mapped over
     * the GPA the guest chose while the page is enabled ("overlay pages"
     * in the TLFS).  Their host addresses never change, so posting writes
     * them from any thread without the BQL.  The RAM block names are those
     * of upstream QEMU, so that migration streams match.
     */
    MemoryRegion msg_page_mr;
    MemoryRegion event_page_mr;
    struct hyperv_message_page *msg_page;
    struct hyperv_event_flags_page *event_page;

    /*
     * Guest state: written with the BQL held (from the accelerator's MSR
     * handling, reset or migration), read by posters on any thread with
     * qatomic_read().  A page at HV_SYNIC_PAGE_OFF is not mapped.
     */
    bool enabled;
    hwaddr msg_page_addr;
    hwaddr event_page_addr;

    /*
     * slot_lock serialises the host's writers of message slots (several
     * routes may share a SINT) and protects waiters[]: how many routes
     * have a message staged for each SINT.  Taken from any thread.
     */
    QemuMutex slot_lock;
    unsigned waiters[HV_SINT_COUNT];

    /*
     * The accelerator itself fills message slots from the vCPU's context:
     * post on the vCPU's thread.  Set before the first route, then fixed.
     */
    bool post_on_vcpu;

    /* This SynIC's routes; changed and walked with the BQL held. */
    QLIST_HEAD(, HvSintRoute) routes;
    HvSintSource sources[HV_SINT_COUNT];
};

/*
 * The staged message of a route.  Transitions and the thread that makes
 * them, all under HvSintRoute.lock:
 *   IDLE -> STAGED   hyperv_post_msg() (any thread): the slot was full
 *   IDLE -> DONE     hyperv_post_msg() (any thread): delivered, or failed
 *   IDLE -> QUEUED   hyperv_post_msg() (any thread), post_on_vcpu SynIC:
 *                    the first attempt is queued on the target vCPU
 *   QUEUED -> STAGED, QUEUED -> DONE
 *                    that attempt (target vCPU's thread, BQL)
 *   STAGED -> DONE   ack notifier or page disable (main loop, BQL); for a
 *                    post_on_vcpu SynIC the ack's retry runs on the target
 *                    vCPU's thread (BQL)
 *   DONE -> IDLE     completion bottom half (main loop, BQL), which then
 *                    calls the route's callback with the outcome
 */
typedef enum HvStagedState {
    HV_STAGED_IDLE,
    HV_STAGED_QUEUED,
    HV_STAGED_STAGED,
    HV_STAGED_DONE,
} HvStagedState;

struct HvSintRoute {
    SynICState *synic;
    uint32_t sint;
    int refcount;               /* atomic */
    QLIST_ENTRY(HvSintRoute) link;

    HvSintSource *src;

    /* Posting routes only (cb != NULL). */
    HvSintMsgCb cb;
    void *cb_data;
    QEMUBH *done_bh;
    QemuMutex lock;
    HvStagedState state;
    int status;                 /* outcome, valid in DONE */
    struct hyperv_message msg;  /* the staged copy */
};

static const HvSintRouteOps *sint_ops;
static bool synic_present;

void hyperv_set_sint_route_ops(const HvSintRouteOps *ops)
{
    sint_ops = ops;
}

bool hyperv_is_synic_enabled(void)
{
    return synic_present;
}

static bool (*ref_time_source)(uint64_t *ref);

void hyperv_set_ref_time_source(bool (*source)(uint64_t *ref))
{
    ref_time_source = source;
}

bool hyperv_ref_time(uint64_t *ref)
{
    return ref_time_source && ref_time_source(ref);
}

static SynICState *get_synic(CPUState *cs)
{
    Object *obj = object_resolve_path_component(OBJECT(cs), "synic");

    return obj ? SYNIC(obj) : NULL;
}

/*
 * The vCPU with VP index @vp_index, or NULL.  The index comes from the
 * guest or a device; an unknown one is an ordinary error, never a crash.
 */
static CPUState *hyperv_find_vcpu(uint32_t vp_index)
{
    CPUState *cs;

    CPU_FOREACH(cs) {
        if (hyperv_vp_index(cs) == vp_index) {
            return cs;
        }
    }
    return NULL;
}

/* --- mapping the pages ------------------------------------------------ */

static void synic_map_page(MemoryRegion *mr, hwaddr *cur, hwaddr addr)
{
    if (*cur == addr) {
        return;
    }
    if (*cur != HV_SYNIC_PAGE_OFF) {
        memory_region_del_subregion(get_system_memory(), mr);
    }
    if (addr != HV_SYNIC_PAGE_OFF) {
        memory_region_add_subregion_overlap(get_system_memory(), addr, mr,
                                            SYNIC_OVERLAY_PRIORITY);
    }
    qatomic_set(cur, addr);
}

static bool synic_can_post(SynICState *s)
{
    return qatomic_read(&s->enabled) &&
           qatomic_read(&s->msg_page_addr) != HV_SYNIC_PAGE_OFF;
}

static void route_finish_locked(HvSintRoute *r, int status);

/*
 * The guest can no longer receive messages: staged ones would wait for an
 * EOM that never comes, so they complete with -ENXIO.
 */
static void synic_fail_staged(SynICState *s)
{
    HvSintRoute *r;

    QLIST_FOREACH(r, &s->routes, link) {
        if (!r->cb) {
            continue;
        }
        WITH_QEMU_LOCK_GUARD(&r->lock) {
            if (r->state == HV_STAGED_STAGED) {
                trace_hyperv_synic_staged_dropped(s->vp_index, r->sint);
                route_finish_locked(r, -ENXIO);
            }
        }
    }
}

static void synic_apply(SynICState *s, bool enable, hwaddr msg_page_addr,
                        hwaddr event_page_addr)
{
    trace_hyperv_synic_update(s->vp_index, enable, msg_page_addr,
                              event_page_addr);
    memory_region_transaction_begin();
    synic_map_page(&s->msg_page_mr, &s->msg_page_addr, msg_page_addr);
    synic_map_page(&s->event_page_mr, &s->event_page_addr, event_page_addr);
    memory_region_transaction_commit();
    qatomic_set(&s->enabled, enable);
    if (!synic_can_post(s)) {
        synic_fail_staged(s);
    }
}

void hyperv_synic_update(CPUState *cs, bool enable,
                         hwaddr msg_page_addr, hwaddr event_page_addr)
{
    SynICState *s = get_synic(cs);

    if (s) {
        synic_apply(s, enable, msg_page_addr, event_page_addr);
    }
}

void hyperv_synic_reset(CPUState *cs)
{
    SynICState *s = get_synic(cs);

    if (s) {
        device_cold_reset(DEVICE(s));
    }
}

static void synic_reset_hold(Object *obj, ResetType type)
{
    SynICState *s = SYNIC(obj);

    /*
     * This runs with the vCPU's reset, before the devices' resets release
     * their routes: what is staged on a route now can no longer be
     * delivered, and a route used before its device lets go of it finds
     * the SynIC disabled.
     */
    synic_apply(s, false, HV_SYNIC_PAGE_OFF, HV_SYNIC_PAGE_OFF);
    /*
     * A poster on another thread that found the SynIC enabled before the
     * update may still be filling a slot: it holds slot_lock while it does,
     * and once we hold it no poster can find the SynIC enabled again.
     */
    WITH_QEMU_LOCK_GUARD(&s->slot_lock) {
        memset(s->msg_page, 0, sizeof(*s->msg_page));
        memset(s->event_page, 0, sizeof(*s->event_page));
    }
    trace_hyperv_synic_reset(s->vp_index);
}

/* --- message slots -------------------------------------------------- */

/*
 * Fill the SINT's slot with @msg if it is free.  Returns 0, -EAGAIN when
 * the slot is full (msg_pending is then set, so the guest will EOM), or
 * -ENXIO when the guest has no message page enabled.  Any thread.
 */
static int synic_fill_slot(SynICState *s, uint32_t sint,
                           const struct hyperv_message *msg, bool waiting)
{
    struct hyperv_message *slot;
    hwaddr off = sint * sizeof(*slot);

    QEMU_LOCK_GUARD(&s->slot_lock);
    if (!synic_can_post(s)) {
        return -ENXIO;
    }
    slot = &s->msg_page->slot[sint];
    if (qatomic_read(&slot->header.message_type) != HV_MESSAGE_NONE) {
        qatomic_or(&slot->header.message_flags, HV_MESSAGE_FLAG_PENDING);
        /*
         * The flag must be visible before we look at the type again: the
         * guest empties the slot and then reads the flag, so either it
         * sees msg_pending (and writes EOM) or we see the empty slot.
         */
        smp_mb();
        if (qatomic_read(&slot->header.message_type) != HV_MESSAGE_NONE) {
            memory_region_set_dirty(&s->msg_page_mr, off, sizeof(*slot));
            s->waiters[sint] += !waiting;
            return -EAGAIN;
        }
    }
    s->waiters[sint] -= waiting;
    slot->header.payload_size = msg->header.payload_size;
    slot->header.sender = 0;
    memset(slot->header._reserved, 0, sizeof(slot->header._reserved));
    /* Other routes still wait for this SINT: ask for an EOM again. */
    slot->header.message_flags = s->waiters[sint] ? HV_MESSAGE_FLAG_PENDING
                                                  : 0;
    memcpy(slot->payload, msg->payload, msg->header.payload_size);
    /* The guest reads the type first: everything else must be there. */
    smp_wmb();
    qatomic_set(&slot->header.message_type, msg->header.message_type);
    /* QEMU's own writes are not in KVM's dirty log: migration needs this. */
    memory_region_set_dirty(&s->msg_page_mr, off, sizeof(*slot));
    return 0;
}

static void route_finish_locked(HvSintRoute *r, int status)
{
    if (r->state == HV_STAGED_STAGED && status != 0) {
        /* It leaves the waiters of its SINT without taking the slot. */
        WITH_QEMU_LOCK_GUARD(&r->synic->slot_lock) {
            r->synic->waiters[r->sint]--;
        }
    }
    r->state = HV_STAGED_DONE;
    r->status = status;
    qemu_bh_schedule(r->done_bh);
}

/* Try to move the staged message into the slot; r->lock held. */
static void route_try_deliver_locked(HvSintRoute *r)
{
    bool waiting = r->state == HV_STAGED_STAGED;
    int ret = synic_fill_slot(r->synic, r->sint, &r->msg, waiting);

    trace_hyperv_sint_post(r->synic->vp_index, r->sint,
                           r->msg.header.message_type, ret);
    if (ret == -EAGAIN) {
        r->state = HV_STAGED_STAGED;
        return;
    }
    if (ret == 0) {
        hyperv_sint_route_set_sint(r);
    }
    route_finish_locked(r, ret);
}

/*
 * The first attempt of a post on a post_on_vcpu SynIC.  Executed on the
 * target vCPU's thread, outside KVM_RUN, with the BQL held.
 */
static void route_post_on_vcpu(CPUState *cs, run_on_cpu_data data)
{
    HvSintRoute *r = data.host_ptr;

    WITH_QEMU_LOCK_GUARD(&r->lock) {
        if (r->state == HV_STAGED_QUEUED) {
            route_try_deliver_locked(r);
        }
    }
    hyperv_sint_route_unref(r);
}

int hyperv_post_msg(HvSintRoute *r, struct hyperv_message *msg)
{
    if (!r->cb) {
        return -EINVAL;
    }
    if (msg->header.message_type == HV_MESSAGE_NONE ||
        msg->header.payload_size > HV_MESSAGE_PAYLOAD_SIZE) {
        return -EINVAL;
    }
    QEMU_LOCK_GUARD(&r->lock);
    if (r->state != HV_STAGED_IDLE) {
        return -EAGAIN;
    }
    r->msg = *msg;
    if (qatomic_read(&r->synic->post_on_vcpu)) {
        /* The work holds a reference: the route outlives the queue. */
        r->state = HV_STAGED_QUEUED;
        hyperv_sint_route_ref(r);
        async_run_on_cpu(r->synic->cs, route_post_on_vcpu,
                         RUN_ON_CPU_HOST_PTR(r));
        return 0;
    }
    route_try_deliver_locked(r);
    return 0;
}

/* Every route with a message staged for @sint tries again.  BQL. */
static void synic_retry_staged(SynICState *s, uint32_t sint)
{
    HvSintRoute *r;

    QLIST_FOREACH(r, &s->routes, link) {
        if (r->sint != sint || !r->cb) {
            continue;
        }
        WITH_QEMU_LOCK_GUARD(&r->lock) {
            if (r->state == HV_STAGED_STAGED) {
                route_try_deliver_locked(r);
            }
        }
    }
}

/*
 * The retry of a post_on_vcpu SynIC.  Executed on its vCPU's thread,
 * outside KVM_RUN, with the BQL held.  The SynIC lives as long as the
 * vCPU that runs this.
 */
static void synic_retry_on_vcpu(CPUState *cs, run_on_cpu_data data)
{
    SynICState *s = get_synic(cs);

    if (s) {
        synic_retry_staged(s, data.host_int);
    }
}

/*
 * The guest wrote EOM, or EOIed the SINT's vector: every route with a
 * message staged for this SINT tries again.  Main loop, BQL.
 */
static void sint_source_ack(EventNotifier *n)
{
    HvSintSource *src = container_of(n, HvSintSource, ack_notifier);
    SynICState *s = src->synic;

    event_notifier_test_and_clear(n);
    if (qatomic_read(&s->post_on_vcpu)) {
        async_run_on_cpu(s->cs, synic_retry_on_vcpu,
                         RUN_ON_CPU_HOST_INT(src->sint));
        return;
    }
    synic_retry_staged(s, src->sint);
}

/* Report the outcome to the route's owner.  Main loop, BQL. */
static void route_done_bh(void *opaque)
{
    HvSintRoute *r = opaque;
    int status;

    WITH_QEMU_LOCK_GUARD(&r->lock) {
        if (r->state != HV_STAGED_DONE) {
            return;
        }
        status = r->status;
        r->state = HV_STAGED_IDLE;
    }
    r->cb(r->cb_data, status);
}

/* --- event flags ----------------------------------------------------- */

int hyperv_set_event_flag(HvSintRoute *r, unsigned eventno)
{
    SynICState *s = r->synic;
    unsigned long *word;
    unsigned long mask;

    /* 2048 flags per SINT: numbers 0 to 2047. */
    if (eventno >= HV_EVENT_FLAGS_COUNT) {
        trace_hyperv_event_flag_bad(s->vp_index, r->sint, eventno);
        return -EINVAL;
    }
    mask = BIT_MASK(eventno);
    /*
     * Reset disables the SynIC, then clears the pages under slot_lock:
     * holding it from the check to the write, a flag is either set
     * before the clearing or not at all, and never survives into the
     * next boot.
     */
    WITH_QEMU_LOCK_GUARD(&s->slot_lock) {
        if (!qatomic_read(&s->enabled) ||
            qatomic_read(&s->event_page_addr) == HV_SYNIC_PAGE_OFF) {
            return -ENXIO;
        }
        word = &s->event_page->slot[r->sint].flags[BIT_WORD(eventno)];
        /* A flag the guest has not consumed yet needs no new interrupt. */
        if (qatomic_fetch_or(word, mask) & mask) {
            return 0;
        }
        /* Under the lock: unplug frees the page once it holds it. */
        memory_region_set_dirty(&s->event_page_mr, 0,
                                sizeof(*s->event_page));
    }
    trace_hyperv_event_flag_set(s->vp_index, r->sint, eventno);
    return hyperv_sint_route_set_sint(r);
}

/* --- routes ------------------------------------------------------------ */

static HvSintSource *sint_source_get(SynICState *s, uint32_t sint)
{
    HvSintSource *src = &s->sources[sint];

    if (src->users) {
        src->users++;
        return src;
    }
    if (event_notifier_init(&src->set_notifier, false) < 0) {
        return NULL;
    }
    if (event_notifier_init(&src->ack_notifier, false) < 0) {
        event_notifier_cleanup(&src->set_notifier);
        return NULL;
    }
    event_notifier_set_handler(&src->ack_notifier, sint_source_ack);
    src->handle = sint_ops->connect(s->vp_index, sint, &src->set_notifier,
                                    &src->ack_notifier);
    if (src->handle < 0) {
        event_notifier_set_handler(&src->ack_notifier, NULL);
        event_notifier_cleanup(&src->ack_notifier);
        event_notifier_cleanup(&src->set_notifier);
        return NULL;
    }
    src->synic = s;
    src->sint = sint;
    src->users = 1;
    trace_hyperv_sint_source(s->vp_index, sint, src->handle, true);
    return src;
}

static void sint_source_put(HvSintSource *src)
{
    if (--src->users) {
        return;
    }
    trace_hyperv_sint_source(src->synic->vp_index, src->sint, src->handle,
                             false);
    sint_ops->disconnect(src->handle, &src->set_notifier);
    event_notifier_set_handler(&src->ack_notifier, NULL);
    event_notifier_cleanup(&src->ack_notifier);
    event_notifier_cleanup(&src->set_notifier);
}

HvSintRoute *hyperv_sint_route_new(uint32_t vp_index, uint32_t sint,
                                   HvSintMsgCb cb, void *cb_data)
{
    CPUState *cs = hyperv_find_vcpu(vp_index);
    SynICState *s = cs ? get_synic(cs) : NULL;
    HvSintSource *src;
    HvSintRoute *r;

    if (!s || sint >= HV_SINT_COUNT || !sint_ops) {
        trace_hyperv_sint_route_refused(vp_index, sint);
        return NULL;
    }
    src = sint_source_get(s, sint);
    if (!src) {
        trace_hyperv_sint_route_refused(vp_index, sint);
        return NULL;
    }
    r = g_new0(HvSintRoute, 1);
    /* The route may outlive the vCPU (unplug): it keeps its SynIC. */
    object_ref(OBJECT(s));
    r->synic = s;
    r->sint = sint;
    r->refcount = 1;
    r->src = src;
    if (cb) {
        r->cb = cb;
        r->cb_data = cb_data;
        qemu_mutex_init(&r->lock);
        r->done_bh = qemu_bh_new(route_done_bh, r);
    }
    QLIST_INSERT_HEAD(&s->routes, r, link);
    trace_hyperv_sint_route_new(vp_index, sint, src->handle);
    return r;
}

void hyperv_sint_route_ref(HvSintRoute *r)
{
    qatomic_inc(&r->refcount);
}

void hyperv_sint_route_unref(HvSintRoute *r)
{
    if (!r || qatomic_fetch_dec(&r->refcount) != 1) {
        return;
    }
    trace_hyperv_sint_route_free(r->synic->vp_index, r->sint,
                                 r->src->handle);
    QLIST_REMOVE(r, link);
    if (r->cb) {
        if (r->state == HV_STAGED_STAGED) {
            WITH_QEMU_LOCK_GUARD(&r->synic->slot_lock) {
                r->synic->waiters[r->sint]--;
            }
        }
        qemu_bh_delete(r->done_bh);
        qemu_mutex_destroy(&r->lock);
    }
    sint_source_put(r->src);
    object_unref(OBJECT(r->synic));
    g_free(r);
}

int hyperv_sint_route_set_sint(HvSintRoute *r)
{
    return event_notifier_set(&r->src->set_notifier);
}

/* --- connections ------------------------------------------------------- */

typedef struct HvConnection {
    struct rcu_head rcu;
    QLIST_ENTRY(HvConnection) link;
    uint32_t conn_id;
    HvMsgHandler handler;       /* message connections */
    void *data;
    EventNotifier *notifier;    /* event connections */
} HvConnection;

typedef QLIST_HEAD(HvConnList, HvConnection) HvConnList;

/* Written with the BQL held; read under RCU. */
static HvConnList msg_conns = QLIST_HEAD_INITIALIZER(msg_conns);
static HvConnList event_conns = QLIST_HEAD_INITIALIZER(event_conns);

static HvConnection *conn_find(HvConnList *list, uint32_t id)
{
    HvConnection *c;

    QLIST_FOREACH_RCU(c, list, link) {
        if (c->conn_id == id) {
            return c;
        }
    }
    return NULL;
}

static int conn_set(HvConnList *list, uint32_t conn_id,
                    HvMsgHandler handler, void *data, EventNotifier *notifier)
{
    HvConnection *c;

    if (conn_id & ~HV_CONNECTION_ID_MASK) {
        return -EINVAL;
    }
    c = conn_find(list, conn_id);
    if (!handler && !notifier) {
        if (!c) {
            return -ENOENT;
        }
        QLIST_REMOVE_RCU(c, link);
        g_free_rcu(c, rcu);
        trace_hyperv_connection(conn_id, false);
        return 0;
    }
    if (c) {
        return -EEXIST;
    }
    c = g_new0(HvConnection, 1);
    c->conn_id = conn_id;
    c->handler = handler;
    c->data = data;
    c->notifier = notifier;
    QLIST_INSERT_HEAD_RCU(list, c, link);
    trace_hyperv_connection(conn_id, true);
    return 0;
}

int hyperv_set_msg_handler(uint32_t conn_id, HvMsgHandler handler, void *data)
{
    return conn_set(&msg_conns, conn_id, handler, data, NULL);
}

int hyperv_set_event_flag_handler(uint32_t conn_id, EventNotifier *notifier)
{
    int ret = conn_set(&event_conns, conn_id, NULL, NULL, notifier);

    /* Best effort: without it the hypercall comes to us and still works. */
    if (!ret && sint_ops && sint_ops->set_event_conn) {
        sint_ops->set_event_conn(conn_id, notifier);
    }
    return ret;
}

/* --- hypercalls -------------------------------------------------------- */

/*
 * Guest RAM is what KVM can reach through its memory slots: device
 * memory (the local APIC page, say) and holes never are.
 */
bool hyperv_is_guest_ram(hwaddr gpa, hwaddr len, bool writable)
{
    MemoryRegion *mr;
    hwaddr xlat, l = len;

    RCU_READ_LOCK_GUARD();
    mr = address_space_translate(&address_space_memory, gpa, &xlat, &l,
                                 writable, MEMTXATTRS_UNSPECIFIED);
    /* A device's RAM (a BAR) is the device's, not the guest's. */
    return l >= len && memory_region_is_ram(mr) &&
           !memory_region_is_ram_device(mr) &&
           !(writable && (mr->readonly || memory_region_is_romd(mr)));
}

bool hyperv_guest_ram_rw(hwaddr gpa, void *buf, hwaddr len, bool is_write)
{
    return hyperv_is_guest_ram(gpa, len, is_write) &&
           address_space_rw(&address_space_memory, gpa,
                            MEMTXATTRS_UNSPECIFIED, buf, len,
                            is_write) == MEMTX_OK;
}

/*
 * Read a hypercall's input block into @buf.  TLFS 3.6: the block is
 * 8-byte aligned and does not cross a page; an input QEMU cannot read is
 * answered the same way, as KVM does for the calls it handles itself.
 */
uint16_t hyperv_hcall_read_input(uint64_t gpa, void *buf, hwaddr len)
{
    if ((gpa & 7) || (gpa & (HV_PAGE_SIZE - 1)) + len > HV_PAGE_SIZE) {
        return HV_STATUS_INVALID_ALIGNMENT;
    }
    return hyperv_guest_ram_rw(gpa, buf, len, false) ?
           HV_STATUS_SUCCESS : HV_STATUS_INVALID_ALIGNMENT;
}

/* Validate HvPostMessage's input, already copied from guest memory. */
static uint16_t post_message_check(const struct hyperv_post_message_input *in)
{
    if (in->connection_id & ~HV_CONNECTION_ID_MASK || in->_reserved) {
        return HV_STATUS_INVALID_HYPERCALL_INPUT;
    }
    /* Guests may not send empty messages nor the hypervisor's types. */
    if (in->message_type == HV_MESSAGE_NONE ||
        in->message_type & HV_MESSAGE_TYPE_HYPERVISOR_ONLY ||
        in->payload_size > HV_MESSAGE_PAYLOAD_SIZE) {
        return HV_STATUS_INVALID_PARAMETER;
    }
    return HV_STATUS_SUCCESS;
}

uint16_t hyperv_hcall_post_message(uint64_t param, bool fast)
{
    struct hyperv_post_message_input in;
    HvConnection *c;
    uint16_t ret;

    /* The input does not fit in registers: no fast form (TLFS 11.10.3). */
    if (fast) {
        ret = HV_STATUS_INVALID_HYPERCALL_INPUT;
        goto out;
    }
    ret = hyperv_hcall_read_input(param, &in, sizeof(in));
    if (ret == HV_STATUS_SUCCESS) {
        ret = post_message_check(&in);
    }
    if (ret != HV_STATUS_SUCCESS) {
        goto out;
    }
    WITH_RCU_READ_LOCK_GUARD() {
        c = conn_find(&msg_conns, in.connection_id);
        ret = c ? c->handler(&in, c->data) : HV_STATUS_INVALID_CONNECTION_ID;
    }
out:
    trace_hyperv_hcall_post_message(param, fast, ret);
    if (ret != HV_STATUS_SUCCESS && ret != HV_STATUS_INSUFFICIENT_BUFFERS) {
        hv_guest_error("HvPostMessage input 0x%" PRIx64 " failed: status %u",
                       param, ret);
    }
    return ret;
}

uint16_t hyperv_hcall_signal_event(uint64_t param, bool fast)
{
    struct hyperv_signal_event_input in;
    HvConnection *c;
    uint16_t ret = HV_STATUS_SUCCESS;

    if (!fast) {
        ret = hyperv_hcall_read_input(param, &in, sizeof(in));
    } else {
        in.connection_id = param;
        in.flag_number = param >> 32;
        in._reserved_zero = param >> 48;
    }
    if (ret != HV_STATUS_SUCCESS) {
        goto out;
    }
    /*
     * Reserved bits first, as KVM checks them before it ever passes the
     * call on.  A flag number past the 2048 of a SINT is invalid; our
     * connections are single event notifiers, so any other non-zero one
     * names a port that does not exist (KVM answers the same).
     */
    if (in._reserved_zero || in.connection_id & ~HV_CONNECTION_ID_MASK) {
        ret = HV_STATUS_INVALID_HYPERCALL_INPUT;
    } else if (in.flag_number >= HV_EVENT_FLAGS_COUNT) {
        ret = HV_STATUS_INVALID_PARAMETER;
    } else if (in.flag_number) {
        ret = HV_STATUS_INVALID_PORT_ID;
    } else {
        WITH_RCU_READ_LOCK_GUARD() {
            c = conn_find(&event_conns, in.connection_id);
            if (c) {
                event_notifier_set(c->notifier);
            }
            ret = c ? HV_STATUS_SUCCESS : HV_STATUS_INVALID_CONNECTION_ID;
        }
    }
out:
    trace_hyperv_hcall_signal_event(param, fast, ret);
    if (ret != HV_STATUS_SUCCESS) {
        hv_guest_error("HvSignalEvent input 0x%" PRIx64 " failed: status %u",
                       param, ret);
    }
    return ret;
}

/*
 * The hypercalls QEMU answers, after the accelerator decoded the input
 * value: the SynIC's always, the debugger's only with hv-syndbg (else the
 * code does not exist for the guest, as on KVM).
 */
uint16_t hyperv_hcall(uint16_t code, bool fast, uint64_t in, uint64_t out,
                      bool syndbg)
{
    switch (code) {
    case HV_POST_MESSAGE:
        return hyperv_hcall_post_message(in, fast);
    case HV_SIGNAL_EVENT:
        return hyperv_hcall_signal_event(in, fast);
    case HV_POST_DEBUG_DATA:
        return syndbg ? hyperv_hcall_post_dbg_data(in, out, fast) :
                        HV_STATUS_INVALID_HYPERCALL_CODE;
    case HV_RETRIEVE_DEBUG_DATA:
        return syndbg ? hyperv_hcall_retreive_dbg_data(in, out, fast) :
                        HV_STATUS_INVALID_HYPERCALL_CODE;
    case HV_RESET_DEBUG_SESSION:
        return syndbg ? hyperv_hcall_reset_dbg_session(out) :
                        HV_STATUS_INVALID_HYPERCALL_CODE;
    default:
        return HV_STATUS_INVALID_HYPERCALL_CODE;
    }
}

/* --- the SynIC object ------------------------------------------------ */

static void synic_realize(DeviceState *dev, Error **errp)
{
    ERRP_GUARD();
    SynICState *s = SYNIC(dev);
    g_autofree char *msg_name = NULL;
    g_autofree char *event_name = NULL;

    s->vp_index = hyperv_vp_index(s->cs);
    msg_name = g_strdup_printf("synic-%u-msg-page", s->vp_index);
    event_name = g_strdup_printf("synic-%u-event-page", s->vp_index);
    if (!memory_region_init_ram(&s->msg_page_mr, OBJECT(s), msg_name,
                                sizeof(*s->msg_page), errp) ||
        !memory_region_init_ram(&s->event_page_mr, OBJECT(s), event_name,
                                sizeof(*s->event_page), errp)) {
        return;
    }
    s->msg_page_addr = HV_SYNIC_PAGE_OFF;
    s->event_page_addr = HV_SYNIC_PAGE_OFF;
    s->msg_page = memory_region_get_ram_ptr(&s->msg_page_mr);
    s->event_page = memory_region_get_ram_ptr(&s->event_page_mr);
}

/*
 * The vCPU goes away (unplug).  Devices may still hold routes to this
 * SynIC, and with them a reference to it: those routes stay valid but can
 * deliver nothing, and the vCPU they named is not touched again.  The
 * pages go now, so that the vCPU can be plugged in again with pages of the
 * same names.  BQL, the vCPU's thread gone.
 */
static void synic_unrealize(DeviceState *dev)
{
    SynICState *s = SYNIC(dev);
    HvSintRoute *r, *next;
    bool orphan;

    synic_apply(s, false, HV_SYNIC_PAGE_OFF, HV_SYNIC_PAGE_OFF);
    qatomic_set(&s->post_on_vcpu, false);
    QLIST_FOREACH_SAFE(r, &s->routes, link, next) {
        if (!r->cb) {
            continue;
        }
        /*
         * Under the route's lock, a poster either saw post_on_vcpu clear
         * or has queued its work by now; work queued on the vCPU whose
         * thread is gone never runs, so it completes here, and its
         * reference goes with it.
         */
        WITH_QEMU_LOCK_GUARD(&r->lock) {
            orphan = r->state == HV_STAGED_QUEUED;
            if (orphan) {
                route_finish_locked(r, -ENXIO);
            }
        }
        if (orphan) {
            hyperv_sint_route_unref(r);
        }
    }
    s->cs = NULL;
    /* A writer that saw the SynIC enabled has finished with the pages. */
    WITH_QEMU_LOCK_GUARD(&s->slot_lock) {
        s->msg_page = NULL;
        s->event_page = NULL;
    }
    object_unparent(OBJECT(&s->msg_page_mr));
    object_unparent(OBJECT(&s->event_page_mr));
    trace_hyperv_synic_unrealize(s->vp_index);
}

static void synic_instance_init(Object *obj)
{
    SynICState *s = SYNIC(obj);

    qemu_mutex_init(&s->slot_lock);
    QLIST_INIT(&s->routes);
}

static void synic_finalize(Object *obj)
{
    qemu_mutex_destroy(&SYNIC(obj)->slot_lock);
}

static void synic_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    dc->realize = synic_realize;
    dc->unrealize = synic_unrealize;
    rc->phases.hold = synic_reset_hold;
    /* Created with its vCPU, never by the user. */
    dc->user_creatable = false;
}

static const TypeInfo synic_type_info = {
    .name = TYPE_SYNIC,
    .parent = TYPE_DEVICE,
    .instance_size = sizeof(SynICState),
    .instance_init = synic_instance_init,
    .instance_finalize = synic_finalize,
    .class_init = synic_class_init,
};

static void hv_synic_types(void)
{
    type_register_static(&synic_type_info);
}
type_init(hv_synic_types)

void hyperv_synic_set_post_on_vcpu(CPUState *cs, bool on)
{
    SynICState *s = get_synic(cs);

    if (s) {
        qatomic_set(&s->post_on_vcpu, on);
        trace_hyperv_synic_post_on_vcpu(s->vp_index, on);
    }
}

bool hyperv_synic_add(CPUState *cs, Error **errp)
{
    Object *obj = object_new(TYPE_SYNIC);
    bool ok;

    SYNIC(obj)->cs = cs;
    object_property_add_child(OBJECT(cs), "synic", obj);
    ok = qdev_realize(DEVICE(obj), NULL, errp);
    object_unref(obj);
    if (ok) {
        synic_present = true;
    }
    return ok;
}

/*
 * Whether hv-stimer, hv-vapic and hv-runtime are all on: VMBus warns when
 * they are not, as some Windows versions need them to use VMBus.
 */
static bool vmbus_features_ok;

bool hyperv_are_vmbus_recommended_features_enabled(void)
{
    return vmbus_features_ok;
}

void hyperv_set_vmbus_recommended_features_enabled(void)
{
    vmbus_features_ok = true;
}
