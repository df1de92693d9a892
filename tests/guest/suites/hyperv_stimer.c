// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * suite=hyperv-stimer: the synthetic timers (TLFS 12.4), on every vCPU:
 *  - one-shot: COUNT is the absolute expiration time in reference time
 *    units (100 ns); the timer disables itself after it fires; a time in
 *    the past fires at once;
 *  - periodic: COUNT is the period; expirations at least a period apart;
 *  - auto-enable: writing COUNT with CONFIG.auto_enable set enables it;
 *  - COUNT 0 disables the timer, and nothing fires;
 *  - message mode: HVMSG_TIMER_EXPIRED (0x80000010) in the slot of
 *    CONFIG.sintx, payload timer index, expiration time, delivery time;
 *  - a busy slot holds the message back (msg_pending is set) until the
 *    guest empties the slot and writes EOM;
 *  - direct mode (stimer=direct, with hv-stimer-direct): the vector of
 *    CONFIG bits 4-11 as a fixed interrupt, no message;
 *  - no interrupt comes before its expiration time, as TIME_REF_COUNT
 *    reads it in the handler, and delivery_time is not before it either.
 *
 * The kernel path's behaviour is KVM's (arch/x86/kvm/hyperv.c, stimer_*).
 *
 * Options:
 *   direct=1    hv-stimer-direct is on: run the direct-mode checks
 */
#include <stdint.h>

#include "lib/alloc.h"
#include "lib/apic.h"
#include "lib/boot.h"
#include "lib/fault.h"
#include "lib/hyperv.h"
#include "lib/layout.h"
#include "lib/report.h"
#include "lib/smp.h"
#include "lib/string.h"
#include "lib/synic.h"
#include "lib/timing.h"
#include "lib/x86.h"
#include "suites/suite.h"

#define TIMER_SINT      2
#define TIMER_VECTOR    0xc2
#define DIRECT_VECTOR   0xd1
#define ONESHOT_DELAY   UINT64_C(50000)     /* 5 ms in 100 ns units */
#define PERIOD          UINT64_C(100000)    /* 10 ms */
#define LONG_PERIOD     UINT64_C(100000000) /* 10 s: never fires here */
#define PERIODS         3
#define TIMER_PAYLOAD   24

/*
 * Per vCPU: interrupts taken and TIME_REF_COUNT at the last one.  Only
 * the vCPU's own handler writes them, and the code it interrupted reads
 * them.
 */
static volatile unsigned int irqs[MAX_CPUS][2];   /* volatile: handler */
static volatile uint64_t irq_time[MAX_CPUS][2];   /* volatile: handler */

struct tmsg {
    uint32_t type;
    uint8_t size;
    uint8_t flags;
    struct hv_timer_message_payload p;
};

static unsigned int irq_slot(unsigned int vector)
{
    return vector == DIRECT_VECTOR;
}

/* Counts and stamps the interrupt; TIME_REF_COUNT exists with stimer. */
static void timer_irq(struct ex_regs *regs)
{
    unsigned int cpu = smp_id(), s = irq_slot(regs->vector & 0xff);

    irq_time[cpu][s] = rdmsr(HV_X64_MSR_TIME_REF_COUNT);
    irqs[cpu][s]++;
    apic_eoi();
}

static uint64_t now(void)
{
    uint64_t v = 0;

    rdmsr_safe(HV_X64_MSR_TIME_REF_COUNT, &v);
    return v;
}

static uint64_t config_of(unsigned int t)
{
    uint64_t v = 0;

    rdmsr_safe(HV_X64_MSR_STIMER_CONFIG(t), &v);
    return v;
}

static void timer_stop(unsigned int t)
{
    wrmsr_safe(HV_X64_MSR_STIMER_CONFIG(t), 0);
    wrmsr_safe(HV_X64_MSR_STIMER_COUNT(t), 0);
}

static struct hv_message *slot(void)
{
    return synic_slot(smp_id(), TIMER_SINT);
}

/* Wait (bounded) for a timer message; copy it, empty the slot, EOM. */
static bool take_msg(struct tmsg *m, uint64_t usec)
{
    struct hv_message *s = slot();

    if (!wait_for(msg_type(s) != HV_MESSAGE_NONE, usec)) {
        return false;
    }
    m->type = msg_type(s);
    m->size = s->header.payload_size;
    m->flags = msg_flags(s);
    memcpy(&m->p, s->payload, sizeof(m->p));
    msg_release(s, true);
    return true;
}

/*
 * No message may come: wait a while, then empty anything that did.  A
 * pause, not a fence (docs/decisions.md): a timer fires when its time
 * comes, which nothing the guest signals orders, and this suite has no
 * test device to fence with.
 */
static bool quiet(void)
{
    struct tmsg m;

    return !take_msg(&m, SYNIC_QUIET_US);
}

static bool msg_ok(const struct tmsg *m, unsigned int t, uint64_t exp)
{
    return m->type == HVMSG_TIMER_EXPIRED && m->size == TIMER_PAYLOAD &&
           m->p.timer_index == t && m->p.expiration_time == exp &&
           m->p.delivery_time >= exp;
}

static bool irq_wait(unsigned int s, unsigned int n)
{
    unsigned int cpu = smp_id();

    return wait_for(irqs[cpu][s] >= n, SYNIC_ARRIVE_US);
}

static void oneshot(unsigned int t, uint64_t delay, const char *what)
{
    unsigned int cpu = smp_id(), n0 = irqs[cpu][0];
    uint64_t exp = now() + delay;
    struct tmsg m = { 0 };
    bool got;

    wrmsr_safe(HV_X64_MSR_STIMER_COUNT(t), exp);
    wrmsr_safe(HV_X64_MSR_STIMER_CONFIG(t), HV_STIMER_ENABLE |
               HV_STIMER_SINTX(TIMER_SINT));
    got = take_msg(&m, SYNIC_ARRIVE_US);
    report(got && msg_ok(&m, t, exp), "cpu %u: %s: timer %u message (type "
           "0x%x size %u index %u expiration %lu want %lu delivery %lu)",
           cpu, what, t, m.type, m.size, m.p.timer_index,
           m.p.expiration_time, exp, m.p.delivery_time);
    report(irq_wait(0, n0 + 1) && irq_time[cpu][0] >= exp, "cpu %u: %s: "
           "the interrupt comes at or after the expiration time (reference "
           "time %lu, expiration %lu)", cpu, what, irq_time[cpu][0], exp);
    report(!(config_of(t) & HV_STIMER_ENABLE), "cpu %u: %s: timer %u "
           "disabled after it fired (CONFIG 0x%lx)", cpu, what, t,
           config_of(t));
    report(quiet(), "cpu %u: %s: timer %u fires once", cpu, what, t);
    timer_stop(t);
}

static void periodic(unsigned int t)
{
    unsigned int cpu = smp_id(), i, bad = 0;
    uint64_t start = now(), last = 0;
    struct tmsg m;

    wrmsr_safe(HV_X64_MSR_STIMER_COUNT(t), PERIOD);
    wrmsr_safe(HV_X64_MSR_STIMER_CONFIG(t), HV_STIMER_ENABLE |
               HV_STIMER_PERIODIC | HV_STIMER_SINTX(TIMER_SINT));
    for (i = 0; i < PERIODS; i++) {
        memset(&m, 0, sizeof(m));
        if (!take_msg(&m, SYNIC_ARRIVE_US)) {
            bad++;
            break;
        }
        bad += !msg_ok(&m, t, m.p.expiration_time) ||
               m.p.expiration_time < last + PERIOD ||
               m.p.expiration_time < start + PERIOD;
        last = m.p.expiration_time;
    }
    report(bad == 0, "cpu %u: periodic: timer %u fires %u times, a period "
           "or more apart (%u bad, last expiration %lu, start %lu)", cpu, t,
           PERIODS, bad, last, start);
    report(config_of(t) & HV_STIMER_ENABLE, "cpu %u: periodic: timer %u "
           "stays enabled (CONFIG 0x%lx)", cpu, t, config_of(t));
    timer_stop(t);
    take_msg(&m, SYNIC_QUIET_US);
    report(quiet(), "cpu %u: periodic: nothing after CONFIG 0", cpu);
}

static void auto_enable(unsigned int t)
{
    unsigned int cpu = smp_id();
    uint64_t exp, cfg = HV_STIMER_AUTO_ENABLE | HV_STIMER_SINTX(TIMER_SINT);
    struct tmsg m = { 0 };
    bool late, fired;

    wrmsr_safe(HV_X64_MSR_STIMER_CONFIG(t), cfg);
    report(config_of(t) == cfg, "cpu %u: auto-enable: timer %u CONFIG not "
           "enabled before COUNT is written (0x%lx)", cpu, t, config_of(t));
    exp = now() + ONESHOT_DELAY;
    wrmsr_safe(HV_X64_MSR_STIMER_COUNT(t), exp);
    /*
     * A one-shot timer disables itself once it fired: if this vCPU was
     * held up past the expiration, a clear enable bit is no failure.
     */
    cfg = config_of(t);
    late = now() >= exp;
    report((cfg & HV_STIMER_ENABLE) || late, "cpu %u: auto-enable: writing "
           "COUNT enabled timer %u (CONFIG 0x%lx%s)", cpu, t, cfg,
           late ? ", expired already" : "");
    fired = take_msg(&m, SYNIC_ARRIVE_US) && msg_ok(&m, t, exp);
    report(fired, "cpu %u: auto-enable: timer %u fires (expiration %lu want "
           "%lu)", cpu, t, m.p.expiration_time, exp);
    timer_stop(t);
}

static void count_zero(unsigned int t)
{
    unsigned int cpu = smp_id();

    wrmsr_safe(HV_X64_MSR_STIMER_COUNT(t), LONG_PERIOD);
    wrmsr_safe(HV_X64_MSR_STIMER_CONFIG(t), HV_STIMER_ENABLE |
               HV_STIMER_PERIODIC | HV_STIMER_SINTX(TIMER_SINT));
    wrmsr_safe(HV_X64_MSR_STIMER_COUNT(t), 0);
    report(!(config_of(t) & HV_STIMER_ENABLE), "cpu %u: count 0: timer %u "
           "disabled (CONFIG 0x%lx)", cpu, t, config_of(t));
    report(quiet(), "cpu %u: count 0: timer %u does not fire", cpu, t);
    timer_stop(t);
}

/*
 * Timer a fires and its message stays in the slot; timer b expires
 * behind it.  b's message must wait, with msg_pending set on a's, until
 * the slot is emptied and EOM written (TLFS 11.10.3).
 */
static void busy_slot(unsigned int a, unsigned int b)
{
    struct hv_message *s = slot();
    unsigned int cpu = smp_id();
    uint64_t exp_a = now() + ONESHOT_DELAY, exp_b;
    struct tmsg m = { 0 };
    bool held, arrived;

    wrmsr_safe(HV_X64_MSR_STIMER_COUNT(a), exp_a);
    wrmsr_safe(HV_X64_MSR_STIMER_CONFIG(a), HV_STIMER_ENABLE |
               HV_STIMER_SINTX(TIMER_SINT));
    report(wait_for(msg_type(s) == HVMSG_TIMER_EXPIRED, SYNIC_ARRIVE_US),
           "cpu %u: busy slot: timer %u message arrived", cpu, a);
    exp_b = now() + ONESHOT_DELAY;
    wrmsr_safe(HV_X64_MSR_STIMER_COUNT(b), exp_b);
    wrmsr_safe(HV_X64_MSR_STIMER_CONFIG(b), HV_STIMER_ENABLE |
               HV_STIMER_SINTX(TIMER_SINT));
    /*
     * Past b's expiration the host finds the slot full and sets
     * msg_pending, however late it gets there; a's message must stay.
     * That nothing overwrites it afterwards has no fence to wait on (see
     * quiet(); on the kernel path KVM fires the timer itself): the pause
     * gives a host that would overwrite it late the time to do so, and
     * cannot fail one that does not.
     */
    held = wait_for(now() > exp_b + ONESHOT_DELAY, SYNIC_ARRIVE_US) &&
           wait_for(msg_flags(s) & HV_MESSAGE_FLAG_PENDING, SYNIC_ARRIVE_US);
    udelay(SYNIC_QUIET_US);
    held &= ((const struct hv_timer_message_payload *)s->payload)->
            timer_index == a;
    report(held && (msg_flags(s) & HV_MESSAGE_FLAG_PENDING), "cpu %u: busy "
           "slot: timer %u message held back, msg_pending set (flags 0x%x)",
           cpu, b, msg_flags(s));
    msg_release(s, true);
    /* m is read for the report only after take_msg() has filled it */
    arrived = take_msg(&m, SYNIC_ARRIVE_US) && msg_ok(&m, b, exp_b);
    report(arrived, "cpu %u: busy slot: after EOM timer %u message arrives "
           "(index %u, expiration %lu want %lu)", cpu, b, m.p.timer_index,
           m.p.expiration_time, exp_b);
    timer_stop(a);
    timer_stop(b);
}

static void direct(unsigned int t)
{
    unsigned int cpu = smp_id(), n0 = irqs[cpu][1];
    uint64_t exp = now() + ONESHOT_DELAY;

    wrmsr_safe(HV_X64_MSR_STIMER_COUNT(t), exp);
    wrmsr_safe(HV_X64_MSR_STIMER_CONFIG(t), HV_STIMER_ENABLE |
               HV_STIMER_DIRECT_MODE | HV_STIMER_APIC_VECTOR(DIRECT_VECTOR));
    report(irq_wait(1, n0 + 1) && irq_time[cpu][1] >= exp, "cpu %u: direct: "
           "timer %u raises vector 0x%x at or after its expiration "
           "(reference time %lu, expiration %lu)", cpu, t, DIRECT_VECTOR,
           irq_time[cpu][1], exp);
    report(quiet(), "cpu %u: direct: no message for timer %u", cpu, t);
    report(irqs[cpu][1] == n0 + 1, "cpu %u: direct: one-shot timer %u fired "
           "once (%u interrupts)", cpu, t, irqs[cpu][1] - n0);
    timer_stop(t);

    n0 = irqs[cpu][1];
    wrmsr_safe(HV_X64_MSR_STIMER_COUNT(t), PERIOD);
    wrmsr_safe(HV_X64_MSR_STIMER_CONFIG(t), HV_STIMER_ENABLE |
               HV_STIMER_PERIODIC | HV_STIMER_DIRECT_MODE |
               HV_STIMER_APIC_VECTOR(DIRECT_VECTOR));
    report(irq_wait(1, n0 + PERIODS), "cpu %u: direct: periodic timer %u "
           "raises vector 0x%x %u times (%u)", cpu, t, DIRECT_VECTOR,
           PERIODS, irqs[cpu][1] - n0);
    timer_stop(t);
}

static void timer_checks(void *arg)
{
    const bool *with_direct = arg;
    unsigned int cpu = smp_id();

    sint_program(TIMER_SINT, TIMER_VECTOR, 0);
    oneshot(cpu % HV_STIMER_COUNT, ONESHOT_DELAY, "one-shot");
    oneshot((cpu + 1) % HV_STIMER_COUNT, 0, "one-shot already due");
    periodic((cpu + 2) % HV_STIMER_COUNT);
    auto_enable((cpu + 3) % HV_STIMER_COUNT);
    count_zero(cpu % HV_STIMER_COUNT);
    busy_slot(1, 3);
    if (*with_direct) {
        direct((cpu + 1) % HV_STIMER_COUNT);
    }
    sint_reset(TIMER_SINT);
}

static void hyperv_stimer(void)
{
    static bool with_direct;
    const char *d = opt_get("direct");
    unsigned int cpu;

    with_direct = d && !strcmp(d, "1");
    set_irq_handler(TIMER_VECTOR, timer_irq);
    set_irq_handler(DIRECT_VECTOR, timer_irq);
    if (!synic_enable_all("setup")) {
        return;
    }
    for (cpu = 0; cpu < cpu_count(); cpu++) {
        report(on_cpu(cpu, timer_checks, &with_direct), "cpu %u: timer "
               "checks ran", cpu);
    }
    synic_disable_all();
}

DEFINE_SUITE("hyperv-stimer", hyperv_stimer);
