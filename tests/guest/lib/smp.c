// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * AP start-up, per-vCPU data and cross-vCPU calls.
 */
#include "apic.h"
#include "fault.h"
#include "report.h"
#include "smp.h"
#include "string.h"
#include "symbols.h"
#include "timing.h"
#include "x86.h"

/* Delays of the INIT-SIPI-SIPI sequence (Intel SDM, MP initialization) */
#define INIT_DELAY_US   10000
#define SIPI_DELAY_US   200

struct percpu percpu_slots[MAX_CPUS];
static struct percpu *cpus[MAX_CPUS];       /* by CPU index */
static unsigned int nr_cpus = 1;
static volatile unsigned int nr_aps_online;   /* bumped by each AP */

void percpu_install(struct percpu *p, unsigned int slot)
{
    p->self = p;
    p->slot = slot;
    wrmsr(MSR_GS_BASE, (uint64_t)p);
}

static void wakeup_handler(struct ex_regs *regs)
{
    apic_eoi();
}

/* The APIC's own spurious interrupt: no ISR bit is set, so no EOI. */
static void spurious_handler(struct ex_regs *regs)
{
}

void smp_init_bsp(void)
{
    percpu_install(&percpu_slots[0], 0);
    cpus[0] = &percpu_slots[0];
}

static void run_call(struct percpu *me)
{
    cpu_fn fn = me->call_fn;
    void *arg = me->call_arg;

    irq_enable();
    fn(arg);
    me->call_fn = NULL;
    __atomic_fetch_add(&me->call_done, 1, __ATOMIC_RELEASE);
    __atomic_store_n(&me->call_busy, 0, __ATOMIC_RELEASE);
}

static void __attribute__((noreturn)) ap_idle(struct percpu *me)
{
    for (;;) {
        /* check and halt with interrupts off, so a wake-up is not lost */
        irq_disable();
        if (__atomic_load_n(&me->call_fn, __ATOMIC_ACQUIRE)) {
            run_call(me);
            continue;
        }
        safe_halt();
    }
}

/* Called from boot.S on the AP's own stack. */
void __attribute__((noreturn)) ap_main(unsigned int slot)
{
    struct percpu *me = &percpu_slots[slot];

    percpu_install(me, slot);
    idt_load();
    apic_enable();
    me->apic_id = apic_id();
    __atomic_store_n(&me->online, true, __ATOMIC_RELEASE);
    __atomic_fetch_add(&nr_aps_online, 1, __ATOMIC_RELEASE);
    ap_idle(me);
}

static bool send_init_sipi_sipi(void)
{
    uint32_t vector = TRAMPOLINE_ADDR >> 12;
    bool ok;

    ok = apic_icr_write(0, APIC_DEST_ALLBUT | APIC_LEVEL_ASSERT |
                        APIC_DM_INIT);
    udelay(INIT_DELAY_US);
    ok &= apic_icr_write(0, APIC_DEST_ALLBUT | APIC_DM_STARTUP | vector);
    udelay(SIPI_DELAY_US);
    ok &= apic_icr_write(0, APIC_DEST_ALLBUT | APIC_DM_STARTUP | vector);
    return ok;
}

/* Give CPU indexes in APIC ID order (insertion sort; few entries). */
static void number_cpus(void)
{
    unsigned int slot, n = 0, i;

    for (slot = 0; slot < MAX_CPUS; slot++) {
        struct percpu *p = &percpu_slots[slot];

        if (slot && !__atomic_load_n(&p->online, __ATOMIC_ACQUIRE)) {
            continue;
        }
        for (i = n++; i > 0 && cpus[i - 1]->apic_id > p->apic_id; i--) {
            cpus[i] = cpus[i - 1];
        }
        cpus[i] = p;
    }
    for (i = 0; i < n; i++) {
        cpus[i]->index = i;
    }
    nr_cpus = n;
}

unsigned int smp_init(unsigned int expected)
{
    struct percpu *bsp = &percpu_slots[0];

    bsp->apic_id = apic_id();
    bsp->online = true;
    set_irq_handler(WAKEUP_VECTOR, wakeup_handler);
    set_irq_handler(SPURIOUS_VECTOR, spurious_handler);
    if (expected > 1) {
        memcpy((void *)TRAMPOLINE_ADDR, trampoline_start,
               trampoline_end - trampoline_start);
        if (!send_init_sipi_sipi()) {
            report_info("smp: an INIT or SIPI was not accepted by the APIC");
        }
        wait_for(nr_aps_online >= expected - 1, SMP_BOOT_TIMEOUT_US);
        /* let stragglers beyond the expected count show up too */
        udelay(10000);
    }
    number_cpus();
    return nr_cpus;
}

unsigned int cpu_count(void)
{
    return nr_cpus;
}

unsigned int smp_id(void)
{
    return this_cpu()->index;
}

struct percpu *cpu_data(unsigned int cpu)
{
    return cpu < nr_cpus ? cpus[cpu] : NULL;
}

static bool claim_mailbox(struct percpu *p)
{
    return wait_for(({
        int expected = 0;
        __atomic_compare_exchange_n(&p->call_busy, &expected, 1, false,
                                    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
    }), ON_CPU_TIMEOUT_US);
}

static bool post_call(unsigned int cpu, cpu_fn fn, void *arg,
                      uint64_t *ticket)
{
    struct percpu *p = cpu_data(cpu);

    if (!p || !claim_mailbox(p)) {
        return false;
    }
    *ticket = ++p->call_posted;
    p->call_arg = arg;
    __atomic_store_n(&p->call_fn, fn, __ATOMIC_RELEASE);
    return apic_send_ipi(p->apic_id, WAKEUP_VECTOR);
}

static bool call_finished(unsigned int cpu, uint64_t ticket, uint64_t usec)
{
    struct percpu *p = cpu_data(cpu);

    return wait_for(__atomic_load_n(&p->call_done, __ATOMIC_ACQUIRE) >=
                    ticket, usec);
}

bool on_cpu(unsigned int cpu, cpu_fn fn, void *arg)
{
    uint64_t ticket;

    if (cpu == smp_id()) {
        fn(arg);
        return true;
    }
    if (!post_call(cpu, fn, arg, &ticket)) {
        return false;
    }
    return call_finished(cpu, ticket, ON_CPU_TIMEOUT_US);
}

bool on_cpu_async(unsigned int cpu, cpu_fn fn, void *arg)
{
    uint64_t ticket;

    if (cpu == smp_id()) {
        fn(arg);
        return true;
    }
    return post_call(cpu, fn, arg, &ticket);
}

bool on_cpu_wait(unsigned int cpu, uint64_t usec)
{
    struct percpu *p = cpu_data(cpu);

    if (!p) {
        return false;
    }
    return call_finished(cpu, p->call_posted, usec);
}
