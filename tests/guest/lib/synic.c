// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * SynIC helpers and the SINT interrupt recorder (see synic.h).
 */
#include <stddef.h>

#include "alloc.h"
#include "boot.h"
#include "apic.h"
#include "fault.h"
#include "hv_testdev.h"
#include "layout.h"
#include "report.h"
#include "smp.h"
#include "string.h"
#include "synic.h"
#include "timing.h"
#include "x86.h"

struct synic_pages {
    struct hv_message_page *simp;
    struct hv_event_flags_page *siefp;
};

/* Written by the owning vCPU in enable/disable, read by anyone after. */
static struct synic_pages pages[MAX_CPUS];

/*
 * Recorder state.  Counts are bumped by the handler on the receiving
 * vCPU and read by any vCPU; every access is atomic.
 */
static uint32_t irq_counts[MAX_CPUS][256];
static uint8_t irq_isr_seen[MAX_CPUS][256];
static uint8_t irq_no_eoi[MAX_CPUS][256];
static uint8_t irq_running[MAX_CPUS];      /* in sint_irq_handler */
static uint32_t irq_reentries;              /* entries on top of it */

struct hv_message_page *synic_simp(unsigned int cpu)
{
    return cpu < MAX_CPUS ?
           __atomic_load_n(&pages[cpu].simp, __ATOMIC_ACQUIRE) : NULL;
}

struct hv_event_flags_page *synic_siefp(unsigned int cpu)
{
    return cpu < MAX_CPUS ?
           __atomic_load_n(&pages[cpu].siefp, __ATOMIC_ACQUIRE) : NULL;
}

struct hv_message *synic_slot(unsigned int cpu, unsigned int sint)
{
    struct hv_message_page *p = synic_simp(cpu);

    return p && sint < HV_SINT_COUNT ? &p->slot[sint] : NULL;
}

static void release_pages(struct synic_pages *sp)
{
    if (sp->simp) {
        free_page(sp->simp);
    }
    if (sp->siefp) {
        free_page(sp->siefp);
    }
    __atomic_store_n(&sp->simp, NULL, __ATOMIC_RELEASE);
    __atomic_store_n(&sp->siefp, NULL, __ATOMIC_RELEASE);
}

bool synic_enable(void)
{
    struct synic_pages *sp = &pages[smp_id()];
    struct synic_pages fresh = { alloc_page(), alloc_page() };

    if (sp->simp || !fresh.simp || !fresh.siefp) {
        release_pages(&fresh);
        return false;
    }
    if (wrmsr_safe(HV_X64_MSR_SIMP,
                   virt_to_phys(fresh.simp) | HV_SIMP_ENABLE) != NO_FAULT ||
        wrmsr_safe(HV_X64_MSR_SIEFP,
                   virt_to_phys(fresh.siefp) | HV_SIEFP_ENABLE) != NO_FAULT ||
        wrmsr_safe(HV_X64_MSR_SCONTROL, HV_SCONTROL_ENABLE) != NO_FAULT) {
        wrmsr_safe(HV_X64_MSR_SIMP, 0);
        wrmsr_safe(HV_X64_MSR_SIEFP, 0);
        release_pages(&fresh);
        return false;
    }
    __atomic_store_n(&sp->simp, fresh.simp, __ATOMIC_RELEASE);
    __atomic_store_n(&sp->siefp, fresh.siefp, __ATOMIC_RELEASE);
    return true;
}

void synic_disable(void)
{
    struct synic_pages *sp = &pages[smp_id()];
    unsigned int sint;

    for (sint = 0; sint < HV_SINT_COUNT; sint++) {
        sint_reset(sint);
    }
    /*
     * With SIMP on, the page the guest sees is the host's overlay (on
     * KVM, QEMU's own RAM block), and it keeps its contents across a
     * disable.  Empty it so that the next user starts clean.
     */
    if (sp->simp) {
        memset(sp->simp, 0, PAGE_SIZE);
    }
    if (sp->siefp) {
        memset(sp->siefp, 0, PAGE_SIZE);
    }
    wrmsr_safe(HV_X64_MSR_SCONTROL, 0);
    wrmsr_safe(HV_X64_MSR_SIMP, 0);
    wrmsr_safe(HV_X64_MSR_SIEFP, 0);
    release_pages(sp);
}

static void enable_one(void *arg)
{
    bool *ok = arg;

    *ok = synic_enable();
}

static void disable_one(void *arg)
{
    synic_disable();
}

bool synic_enable_all(const char *what)
{
    bool all = report(hv_hypercall_setup(),
                      "%s: hypercall page enabled and filled", what);
    unsigned int cpu;

    for (cpu = 0; cpu < cpu_count(); cpu++) {
        bool ok = false;

        ok = on_cpu(cpu, enable_one, &ok) && ok;
        all &= report(ok, "%s: cpu %u SynIC enabled (SIMP, SIEFP, SCONTROL)",
                      what, cpu);
    }
    return all;
}

void synic_disable_all(void)
{
    unsigned int cpu;

    for (cpu = 0; cpu < cpu_count(); cpu++) {
        on_cpu(cpu, disable_one, NULL);
    }
}

/*
 * aeoi=all on the command line: every SINT a suite unmasks gets AutoEOI,
 * whatever CPUID recommends, so that a suite's messages, events and
 * timers run on AutoEOI SINTs (the handlers then write no EOI, as
 * kvm-unit-tests and older Windows do).
 */
bool synic_aeoi_all(void)
{
    const char *a = opt_get("aeoi");

    return a && !strcmp(a, "all");
}

int sint_program(unsigned int sint, uint8_t vector, uint64_t flags)
{
    unsigned int cpu = smp_id();
    int v;

    if (!(flags & HV_SINT_MASKED) && synic_aeoi_all()) {
        flags |= HV_SINT_AUTO_EOI;
    }
    v = wrmsr_safe(HV_X64_MSR_SINT(sint), vector | flags);

    if (v == NO_FAULT) {
        __atomic_store_n(&irq_no_eoi[cpu][vector],
                         !!(flags & HV_SINT_AUTO_EOI), __ATOMIC_RELEASE);
    }
    return v;
}

void sint_reset(unsigned int sint)
{
    wrmsr_safe(HV_X64_MSR_SINT(sint), HV_SINT_MASKED);
}

void synic_eom(void)
{
    wrmsr_safe(HV_X64_MSR_EOM, 0);
}

uint32_t msg_type(const struct hv_message *m)
{
    return __atomic_load_n(&m->header.message_type, __ATOMIC_ACQUIRE);
}

uint8_t msg_flags(const struct hv_message *m)
{
    return __atomic_load_n(&m->header.message_flags, __ATOMIC_ACQUIRE);
}

bool msg_payload_equals(const struct hv_message *m, const void *data,
                        unsigned int size)
{
    /* read the payload only after seeing the type (host fills it first) */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return m->header.payload_size == size &&
           !memcmp(m->payload, data, size);
}

void msg_release(struct hv_message *m, bool eom)
{
    /* TLFS 11.9.3: clear the type, then EOM so the host re-checks */
    __atomic_store_n(&m->header.message_type, HV_MESSAGE_NONE,
                     __ATOMIC_SEQ_CST);
    if (eom) {
        synic_eom();
    }
}

static uint64_t *page_flag_word(struct hv_event_flags_page *p,
                                unsigned int sint, unsigned int flag)
{
    if (!p || sint >= HV_SINT_COUNT || flag >= HV_EVENT_FLAGS_COUNT) {
        return NULL;
    }
    return &p->slot[sint][flag / 64];
}

static uint64_t *flag_word(unsigned int cpu, unsigned int sint,
                           unsigned int flag)
{
    return page_flag_word(synic_siefp(cpu), sint, flag);
}

static void word_clear(uint64_t *w, unsigned int flag)
{
    if (w) {
        __atomic_fetch_and(w, ~(UINT64_C(1) << (flag % 64)),
                           __ATOMIC_SEQ_CST);
    }
}

bool flag_test(unsigned int cpu, unsigned int sint, unsigned int flag)
{
    uint64_t *w = flag_word(cpu, sint, flag);

    return w && (__atomic_load_n(w, __ATOMIC_ACQUIRE) >> (flag % 64)) & 1;
}

void flag_clear(unsigned int cpu, unsigned int sint, unsigned int flag)
{
    word_clear(flag_word(cpu, sint, flag), flag);
}

/* No libgcc in the guest: count bits by hand. */
static unsigned int popcount64(uint64_t w)
{
    unsigned int n = 0;

    for (; w; w &= w - 1) {
        n++;
    }
    return n;
}

unsigned int flags_count(unsigned int cpu, unsigned int sint)
{
    unsigned int i, n = 0;

    for (i = 0; i < HV_EVENT_FLAGS_WORDS; i++) {
        uint64_t *w = flag_word(cpu, sint, i * 64);

        n += w ? popcount64(__atomic_load_n(w, __ATOMIC_ACQUIRE)) : 0;
    }
    return n;
}

/*
 * The handler runs with interrupts off and never turns them on, so an
 * entry on top of itself cannot come from the local APIC, nor can any
 * entry into code that ran with interrupts off (the handler is one such
 * code): the nested lab's L0 delivers an injected vector a second time
 * that way (docs/decisions.md, "Repeated messages in the nested lab").
 * Such an entry is not counted and writes no EOI.  The suite's end says
 * how many there were (apic-double, which the runner takes as evidence
 * of a fault below the guest); the handler itself prints nothing, since
 * the code it interrupted may hold the console.
 */
static void sint_irq_handler(struct ex_regs *regs)
{
    unsigned int cpu = smp_id();
    unsigned int vec = regs->vector & 0xff;

    if (irq_running[cpu] || !(regs->rflags & RFLAGS_IF)) {
        __atomic_fetch_add(&irq_reentries, 1, __ATOMIC_RELAXED);
        return;
    }
    irq_running[cpu] = 1;
    __atomic_store_n(&irq_isr_seen[cpu][vec], apic_isr_test(vec),
                     __ATOMIC_RELAXED);
    __atomic_fetch_add(&irq_counts[cpu][vec], 1, __ATOMIC_RELEASE);
    if (!__atomic_load_n(&irq_no_eoi[cpu][vec], __ATOMIC_ACQUIRE)) {
        apic_eoi();
    }
    irq_running[cpu] = 0;
}

unsigned int sint_irq_reentries(void)
{
    return __atomic_load_n(&irq_reentries, __ATOMIC_RELAXED);
}

void sint_irq_note(unsigned int cpu, uint8_t vector)
{
    __atomic_fetch_add(&irq_counts[cpu][vector], 1, __ATOMIC_RELEASE);
}

void sint_irq_install(uint8_t vector)
{
    set_irq_handler(vector, sint_irq_handler);
}

void sint_irq_hold(unsigned int cpu, uint8_t vector, bool hold)
{
    __atomic_store_n(&irq_no_eoi[cpu][vector], hold, __ATOMIC_RELEASE);
}

void sint_irq_clear(void)
{
    unsigned int c, v;

    for (c = 0; c < MAX_CPUS; c++) {
        for (v = 0; v < 256; v++) {
            __atomic_store_n(&irq_counts[c][v], 0, __ATOMIC_RELAXED);
            __atomic_store_n(&irq_isr_seen[c][v], 0, __ATOMIC_RELAXED);
        }
    }
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

unsigned int sint_irq_count(unsigned int cpu, uint8_t vector)
{
    return cpu < MAX_CPUS ?
           __atomic_load_n(&irq_counts[cpu][vector], __ATOMIC_ACQUIRE) : 0;
}

unsigned int sint_irq_count_others(unsigned int cpu, uint8_t vector)
{
    unsigned int c, n = 0;

    for (c = 0; c < MAX_CPUS; c++) {
        if (c != cpu) {
            n += sint_irq_count(c, vector);
        }
    }
    return n;
}

bool sint_irq_isr_seen(unsigned int cpu, uint8_t vector)
{
    return __atomic_load_n(&irq_isr_seen[cpu][vector], __ATOMIC_ACQUIRE);
}

bool sint_irq_wait(unsigned int cpu, uint8_t vector, unsigned int n,
                   uint64_t usec)
{
    return wait_for(sint_irq_count(cpu, vector) >= n, usec);
}

bool synic_roundtrip(unsigned int conn, unsigned int sint, uint8_t vector)
{
    static const char text[] = "still answering";
    unsigned int cpu = smp_id(), before;
    struct hv_message *m = synic_slot(cpu, sint);
    uint16_t st;
    bool ok;

    if (!m) {
        return false;
    }
    sint_irq_install(vector);
    sint_program(sint, vector, 0);
    hv_testdev_msg_conn_create(conn, cpu, sint);
    before = sint_irq_count(cpu, vector);
    st = hv_post_message_retry(conn, 0x77, text, sizeof(text));
    ok = st == HV_STATUS_SUCCESS &&
         wait_for(msg_type(m) == 0x77, SYNIC_ARRIVE_US) &&
         sint_irq_wait(cpu, vector, before + 1, SYNIC_ARRIVE_US) &&
         msg_payload_equals(m, text, sizeof(text));
    msg_release(m, true);
    hv_testdev_msg_conn_destroy(conn);
    sint_reset(sint);
    return ok;
}

/*
 * The event flag page this vCPU's SIEFP names.  Not always the one of
 * synic_enable(): synic-reset puts the last boot's page back by hand.
 */
static struct hv_event_flags_page *siefp_here(void)
{
    uint64_t v = 0;

    rdmsr_safe(HV_X64_MSR_SIEFP, &v);
    return v & HV_SIEFP_ENABLE ? phys_to_virt(v & PAGE_MASK) : NULL;
}

bool synic_fence(unsigned int conn, unsigned int sint, uint8_t vector)
{
    unsigned int cpu = smp_id(), before = sint_irq_count(cpu, vector);
    bool ok = hv_signal_event(conn, 0) == HV_STATUS_SUCCESS &&
              sint_irq_wait(cpu, vector, before + 1, SYNIC_ARRIVE_US);

    word_clear(page_flag_word(siefp_here(), sint, conn), conn);
    return ok;
}

void synic_fence_conns(unsigned int conn, unsigned int sint, bool create)
{
    unsigned int cpu;

    for (cpu = 0; cpu < cpu_count(); cpu++) {
        if (create) {
            hv_testdev_evt_conn_create(conn + cpu, cpu, sint);
        } else {
            hv_testdev_evt_conn_destroy(conn + cpu);
        }
    }
}

struct fence_sint {
    unsigned int sint;
    uint8_t vector;
    bool on;
};

static void fence_sint_here(void *arg)
{
    const struct fence_sint *f = arg;

    if (f->on) {
        sint_program(f->sint, f->vector, 0);
    } else {
        sint_reset(f->sint);
    }
}

void synic_fence_setup(unsigned int conn, unsigned int sint, uint8_t vector,
                       bool on)
{
    struct fence_sint f = { sint, vector, on };
    unsigned int cpu;

    sint_irq_install(vector);
    for (cpu = 0; cpu < cpu_count(); cpu++) {
        on_cpu(cpu, fence_sint_here, &f);
    }
    synic_fence_conns(conn, sint, on);
}

struct fence_call {
    unsigned int conn;
    unsigned int sint;
    bool ok;
};

/* On the vCPU to fence: its connection, and the vector its SINT has. */
static void fence_here(void *arg)
{
    struct fence_call *f = arg;
    uint64_t sint = HV_SINT_MASKED;

    rdmsr_safe(HV_X64_MSR_SINT(f->sint), &sint);
    f->ok = !(sint & HV_SINT_MASKED) &&
            synic_fence(f->conn + smp_id(), f->sint,
                        sint & HV_SINT_VECTOR_MASK);
}

bool synic_fence_on(unsigned int cpu, unsigned int conn, unsigned int sint,
                    const char *what)
{
    struct fence_call f = { conn, sint, false };
    bool ok = on_cpu(cpu, fence_here, &f) && f.ok;

    if (!ok) {
        report(false, "%s: the fence on cpu %u came back", what, cpu);
    }
    return ok;
}

bool synic_fence_all(unsigned int conn, unsigned int sint, const char *what)
{
    unsigned int cpu;
    bool ok = true;

    for (cpu = 0; cpu < cpu_count(); cpu++) {
        ok &= synic_fence_on(cpu, conn, sint, what);
    }
    return ok;
}

bool synic_msg_arrived(unsigned int cpu, struct hv_message *m,
                       uint8_t vector, unsigned int *seen)
{
    bool got = msg_type(m) != HV_MESSAGE_NONE ||
               sint_irq_count(cpu, vector) != *seen;

    if (got) {
        *seen = sint_irq_count(cpu, vector);
        msg_release(m, true);
    }
    return got;
}

void synic_conn_pair(const struct synic_conn *msg,
                     const struct synic_conn *evt)
{
    sint_irq_install(msg->vector);
    sint_irq_install(evt->vector);
    sint_program(msg->sint, msg->vector, 0);
    sint_program(evt->sint, evt->vector, 0);
    hv_testdev_msg_conn_create(msg->conn, 0, msg->sint);
    hv_testdev_evt_conn_create(evt->conn, 0, evt->sint);
}
