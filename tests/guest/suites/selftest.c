// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * suite=selftest: the guest library itself, on any accelerator.  Later
 * suites trust what is checked here: formatting, options, exception
 * capture, handlers, the local APIC, bounded waits, every vCPU, cross-vCPU
 * calls and IPIs, and the page allocator.
 */
#include <stdint.h>

#include "lib/alloc.h"
#include "lib/apic.h"
#include "lib/boot.h"
#include "lib/fault.h"
#include "lib/report.h"
#include "lib/serial.h"
#include "lib/smp.h"
#include "lib/string.h"
#include "lib/symbols.h"
#include "lib/timing.h"
#include "suites/suite.h"

#define BAD_MSR         0xdeadbeef
#define X2APIC_ID_MSR   0x802
#define SELF_VECTOR     0x40
#define TPR_VECTOR      0x41    /* priority class 4 */
#define TPR_BLOCKING    0x50    /* class 5: holds back TPR_VECTOR */
#define XCPU_VECTOR     0x42
#define IRQ_WAIT_US     1000000
#define NEVER_WAIT_US   20000
#define ALLOC_PAGES     32

static void check_console_and_options(void)
{
    char buf[128];
    const char *suite = opt_get("suite");

    report(serial_scratch_test(), "serial: COM1 scratch register holds data");
    snprintf(buf, sizeof(buf), "[%5d|%-4s|%08x|%lx|%c|%u|%3s|%-3d|%d]",
             -42, "ab", 0xbeefu, 0x123456789abul, 'z', 4000000000u, "xyz",
             7, -2147483647 - 1);
    report(!strcmp(buf, "[  -42|ab  |0000beef|123456789ab|z|4000000000|xyz"
                   "|7  |-2147483648]"),
           "printf: width, padding and conversions");
    snprintf(buf, sizeof(buf), "%p", (void *)0xfee00000ul);
    report(!strcmp(buf, "0x00000000fee00000"), "printf: %%p");
    report(suite && !strcmp(suite, "selftest"),
           "options: suite=selftest parsed from the command line");
    report(list_contains("vpindex,synic,time", "synic") &&
           !list_contains("vpindex,synic,time", "syn") &&
           !list_contains("", "time"),
           "options: comma list lookup");
}

/*
 * An MSR access that faults on every accelerator: x2APIC registers raise
 * #GP in xAPIC mode, and in x2APIC mode the APIC ID register is read-only
 * (SDM vol. 3, "x2APIC Register Availability").
 */
static int faulting_msr_access(void)
{
    uint64_t v;

    if (apic_is_x2apic()) {
        return wrmsr_safe(X2APIC_ID_MSR, 0);
    }
    return rdmsr_safe(X2APIC_ID_MSR, &v);
}

static void check_msr_faults(void)
{
    uint64_t v = 1;
    int vec;

    vec = faulting_msr_access();
    report(vec == GP_VECTOR, "msr: %s of x2APIC ID in %s mode raises #GP "
           "(got vector %d)", apic_is_x2apic() ? "wrmsr" : "rdmsr",
           apic_is_x2apic() ? "x2APIC" : "xAPIC", vec);
    report(fault_error_code() == 0, "msr: #GP error code is 0");
    vec = rdmsr_safe(MSR_IA32_APIC_BASE, &v);
    report(vec == NO_FAULT && (v & APIC_BASE_ENABLE) &&
           (v & ~0xfffull) == APIC_MMIO_BASE,
           "msr: IA32_APIC_BASE reads 0x%lx without a fault", v);

    /* QEMU's TCG returns 0 for unknown MSRs and ignores writes to them */
    if (has_quirk("msr-no-gp")) {
        report_info("msr: quirk msr-no-gp: MSR 0x%x not checked", BAD_MSR);
        return;
    }
    vec = rdmsr_safe(BAD_MSR, &v);
    report(vec == GP_VECTOR && v == 0,
           "msr: rdmsr 0x%x raises #GP (got vector %d)", BAD_MSR, vec);
    vec = wrmsr_safe(BAD_MSR, 0);
    report(vec == GP_VECTOR,
           "msr: wrmsr 0x%x raises #GP (got vector %d)", BAD_MSR, vec);
}

static int ud2_caught(void)
{
    fault_clear();
    asm volatile("1: ud2\n\t"
                 "2:\n\t"
                 ASM_FIXUP("1b", "2b") : : : "memory");
    return fault_take();
}

/* volatile: written by the #UD handler */
static volatile unsigned int ud_hits;
static volatile uint64_t ud_rip;     /* rip the #UD handler saw */

/* A registered handler takes precedence over the fatal report. */
static void ud_handler(struct ex_regs *regs)
{
    ud_hits++;
    ud_rip = regs->rip;
    regs->rip += 2;             /* skip the ud2 */
}

static void check_exceptions(void)
{
    uint64_t ud2_rip;
    int vec = ud2_caught();

    report(vec == UD_VECTOR, "exceptions: ud2 caught as #UD (got %d)", vec);

    set_irq_handler(UD_VECTOR, ud_handler);
    asm volatile("lea 1f(%%rip), %0\n\t"
                 "1: ud2" : "=r"(ud2_rip) : : "memory");
    set_irq_handler(UD_VECTOR, NULL);
    report(ud_hits == 1 && ud_rip == ud2_rip,
           "exceptions: #UD handler ran once with the faulting rip");
}

/* volatile: written by the interrupt handlers below */
static volatile unsigned int self_hits, tpr_hits;
static volatile bool self_in_isr;     /* ISR bit seen by self_handler */

static void self_handler(struct ex_regs *regs)
{
    self_in_isr = apic_isr_test(SELF_VECTOR);
    self_hits++;
    apic_eoi();
}

static void tpr_handler(struct ex_regs *regs)
{
    tpr_hits++;
    apic_eoi();
}

static void check_self_ipi(void)
{
    bool arrived;

    set_irq_handler(SELF_VECTOR, self_handler);
    report(apic_self_ipi(SELF_VECTOR), "apic: self-IPI sent");
    arrived = wait_for(self_hits > 0, IRQ_WAIT_US);
    report(arrived && self_hits == 1,
           "apic: self-IPI vector 0x%x delivered once (%u)", SELF_VECTOR,
           self_hits);
    if (has_quirk("apic-isr-hidden")) {
        report_info("apic: quirk apic-isr-hidden: ISR in handler not checked");
    } else {
        report(self_in_isr, "apic: ISR bit set while the handler runs");
    }
    report(!apic_isr_test(SELF_VECTOR) && !apic_irr_test(SELF_VECTOR),
           "apic: ISR and IRR clear after EOI");
    set_irq_handler(SELF_VECTOR, NULL);
}

static void check_tpr(void)
{
    bool early;

    set_irq_handler(TPR_VECTOR, tpr_handler);
    apic_set_tpr(TPR_BLOCKING);
    report(apic_get_tpr() == TPR_BLOCKING, "apic: TPR reads back 0x%x",
           TPR_BLOCKING);
    apic_self_ipi(TPR_VECTOR);
    early = wait_for(tpr_hits > 0, NEVER_WAIT_US);
    report(!early && apic_irr_test(TPR_VECTOR),
           "apic: TPR 0x%x holds vector 0x%x pending in IRR", TPR_BLOCKING,
           TPR_VECTOR);
    apic_set_tpr(0);
    report(wait_for(tpr_hits > 0, IRQ_WAIT_US) && tpr_hits == 1,
           "apic: lowering TPR delivers vector 0x%x", TPR_VECTOR);
    set_irq_handler(TPR_VECTOR, NULL);
}

static void check_apic_id(void)
{
    uint32_t expect = apic_is_x2apic() ? cpuid_count(0xb, 0).d
                                       : cpuid_apic_id();

    report(apic_id() == expect, "apic: BSP APIC ID %u matches CPUID (%u)",
           apic_id(), expect);
    report(!apic_is_x2apic() ||
           (rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_X2APIC),
           "apic: %s mode", apic_is_x2apic() ? "x2APIC" : "xAPIC");
}

static void check_wait_for(void)
{
    uint64_t t0, elapsed_us;
    bool hit;

    report(wait_for(true, 0), "wait_for: a true condition returns at once");
    t0 = rdtsc();
    hit = wait_for(false, NEVER_WAIT_US);
    elapsed_us = tsc_to_usec(rdtsc() - t0);
    report(!hit, "wait_for: a condition that never holds times out");
    /* the upper end only catches a wildly wrong bound */
    report(elapsed_us >= NEVER_WAIT_US &&
           elapsed_us < NEVER_WAIT_US + 5000000,
           "wait_for: timed out after %lu us for a %u us bound",
           elapsed_us, NEVER_WAIT_US);
}

struct cpu_probe {
    unsigned int index;
    uint32_t apic_id;
    uint32_t cpuid_id;
    int msr_vector;
    bool ran;
};

static struct cpu_probe probes[MAX_CPUS];

static void probe_cpu(void *arg)
{
    struct cpu_probe *p = arg;
    p->index = smp_id();
    p->apic_id = apic_id();
    p->cpuid_id = apic_is_x2apic() ? cpuid_count(0xb, 0).d : cpuid_apic_id();
    p->msr_vector = faulting_msr_access();
    p->ran = true;
}

static void check_one_cpu(unsigned int cpu)
{
    struct cpu_probe *p = &probes[cpu];
    bool called = on_cpu(cpu, probe_cpu, p);

    report(called && p->ran, "smp: on_cpu(%u) ran and returned", cpu);
    report(p->index == cpu, "smp: cpu %u sees CPU index %u", cpu, p->index);
    report(p->apic_id == cpu_data(cpu)->apic_id &&
           p->apic_id == p->cpuid_id,
           "smp: cpu %u APIC ID %u (CPUID says %u)", cpu, p->apic_id,
           p->cpuid_id);
    report(p->msr_vector == GP_VECTOR,
           "smp: cpu %u catches #GP from an x2APIC ID access", cpu);
}

static bool apic_ids_distinct(void)
{
    unsigned int i, j;

    for (i = 0; i < cpu_count(); i++) {
        for (j = i + 1; j < cpu_count(); j++) {
            if (probes[i].apic_id == probes[j].apic_id) {
                return false;
            }
        }
    }
    return true;
}

static volatile unsigned int async_count;    /* bumped by the other vCPUs */

static void bump_async(void *arg)
{
    __atomic_fetch_add(&async_count, 1, __ATOMIC_RELAXED);
}

static void check_async(void)
{
    unsigned int cpu, posted = 0;
    bool all_done = true, ran;

    for (cpu = 1; cpu < cpu_count(); cpu++) {
        posted += on_cpu_async(cpu, bump_async, NULL);
    }
    report(posted == cpu_count() - 1, "smp: on_cpu_async posted to %u APs",
           posted);
    ran = wait_for(async_count == cpu_count() - 1, ON_CPU_TIMEOUT_US);
    report(ran, "smp: every async call ran (%u)", async_count);
    for (cpu = 1; cpu < cpu_count(); cpu++) {
        all_done &= on_cpu_wait(cpu, ON_CPU_TIMEOUT_US);
    }
    report(all_done, "smp: on_cpu_wait sees every AP idle again");
}

static volatile uint64_t xcpu_seen;    /* bit n: cpu n took XCPU_VECTOR */

static void xcpu_handler(struct ex_regs *regs)
{
    __atomic_fetch_or(&xcpu_seen, 1ull << smp_id(), __ATOMIC_RELAXED);
    apic_eoi();
}

static void ipi_to_bsp(void *arg)
{
    apic_send_ipi(cpu_data(0)->apic_id, XCPU_VECTOR);
}

static void check_cross_ipi(unsigned int cpu)
{
    uint64_t bit = 1ull << cpu, bsp = 1ull;

    apic_send_ipi(cpu_data(cpu)->apic_id, XCPU_VECTOR);
    report(wait_for(xcpu_seen & bit, IRQ_WAIT_US),
           "smp: IPI from cpu 0 reaches cpu %u", cpu);
    __atomic_fetch_and(&xcpu_seen, ~bsp, __ATOMIC_RELAXED);
    report(on_cpu(cpu, ipi_to_bsp, NULL) &&
           wait_for(xcpu_seen & bsp, IRQ_WAIT_US),
           "smp: IPI from cpu %u reaches cpu 0", cpu);
}

static void check_cpus(void)
{
    unsigned int cpu;

    for (cpu = 0; cpu < cpu_count(); cpu++) {
        check_one_cpu(cpu);
    }
    report(apic_ids_distinct(), "smp: APIC IDs are distinct");
    if (cpu_count() < 2) {
        return;
    }
    check_async();
    set_irq_handler(XCPU_VECTOR, xcpu_handler);
    for (cpu = 1; cpu < cpu_count(); cpu++) {
        check_cross_ipi(cpu);
    }
    set_irq_handler(XCPU_VECTOR, NULL);
}

static bool page_ok(const void *p)
{
    uint64_t pa = virt_to_phys(p);
    const uint64_t *w = p;
    unsigned int i;

    if (!p || (pa & ~PAGE_MASK) || pa < (uint64_t)(uintptr_t)__image_end ||
        pa >= 0x100000000ull) {
        return false;
    }
    for (i = 0; i < PAGE_SIZE / sizeof(*w); i++) {
        if (w[i]) {
            return false;
        }
    }
    return true;
}

static bool pages_distinct(void *const *pages, unsigned int n)
{
    unsigned int i, j;

    for (i = 0; i < n; i++) {
        for (j = i + 1; j < n; j++) {
            if (pages[i] == pages[j]) {
                return false;
            }
        }
    }
    return true;
}

static void check_alloc(void)
{
    void *pages[ALLOC_PAGES];
    uint64_t before = alloc_free_pages();
    unsigned int i, good = 0;
    uint8_t *p;

    for (i = 0; i < ALLOC_PAGES; i++) {
        pages[i] = alloc_page();
        good += page_ok(pages[i]);
        if (pages[i]) {
            memset(pages[i], 0xa5, PAGE_SIZE);  /* dirty for the reuse check */
        }
    }
    report(good == ALLOC_PAGES,
           "alloc: %u pages aligned, zeroed, after the image", good);
    report(pages_distinct(pages, ALLOC_PAGES), "alloc: pages are distinct");
    report(before - alloc_free_pages() == ALLOC_PAGES,
           "alloc: free count dropped by %u", ALLOC_PAGES);
    for (i = 0; i < ALLOC_PAGES; i++) {
        free_page(pages[i]);
    }
    report(alloc_free_pages() == before, "alloc: freeing restores the count");
    p = alloc_page();
    report(p == pages[ALLOC_PAGES - 1] && page_ok(p),
           "alloc: a freed page comes back zeroed");
    free_page(p);
    p = alloc_pages(4);
    report(page_ok(p) && page_ok(p + 3 * PAGE_SIZE),
           "alloc: 4 contiguous pages");
}

static void selftest(void)
{
    check_console_and_options();
    check_msr_faults();
    check_exceptions();
    check_apic_id();
    check_self_ipi();
    check_tpr();
    check_wait_for();
    check_cpus();
    check_alloc();
}

DEFINE_SUITE("selftest", selftest);
