// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * suite=hyperv-clock: the partition reference time (TLFS 12.6, 12.7).
 *  - TIME_REF_COUNT never goes back on any vCPU and runs at 10 MHz: over
 *    ~100 ms it agrees with the TSC (calibrated against the PIT at boot)
 *    within RATE_SLACK percent;
 *  - the reference TSC page: with REFERENCE_TSC enabled the page holds
 *    sequence, scale and offset, and
 *        ref = ((tsc * scale) >> 64) + offset
 *    must agree with TIME_REF_COUNT on every vCPU: a page value is never
 *    ahead of a later MSR read, an MSR value never ahead of a later page
 *    read, and the two stay within MAX_SKEW of each other;
 *  - the host writes only the fields the TLFS defines (24 bytes, as KVM
 *    does): the rest of the page keeps what the guest put there.
 *  - page time read on one vCPU and handed to another is never ahead of
 *    what the other reads from the page after it (CROSS_ROUNDS each way).
 * A sequence of 0 tells the guest to use the MSR instead (KVM does so
 * when the host clock is not stable); that is reported as INFO and the
 * page checks are then not counted as passed, unless the option
 * page=valid says this host must give a valid page: then it fails.
 */
#include <stdint.h>

#include "lib/alloc.h"
#include "lib/boot.h"
#include "lib/fault.h"
#include "lib/hyperv.h"
#include "lib/report.h"
#include "lib/smp.h"
#include "lib/string.h"
#include "lib/timing.h"
#include "lib/x86.h"
#include "suites/suite.h"

#define MONO_READS      10000
#define RATE_WAIT_US    100000
#define RATE_SLACK      5           /* percent */
#define PAGE_SAMPLES    2000
#define MAX_SKEW        UINT64_C(1000000)   /* 100 ms: a loaded lab */
#define SEQ_RETRIES     1000000
#define PAGE_FILL_US    1000000
#define TAIL_FILL       0xa5        /* what the guest leaves past offset 24 */
#define CROSS_ROUNDS    2000

static struct hv_tsc_page *tsc_page;

static uint64_t ref_msr(void)
{
    uint64_t v = 0;

    rdmsr_safe(HV_X64_MSR_TIME_REF_COUNT, &v);
    return v;
}

/*
 * One consistent read of the page (TLFS 12.7.3): read the sequence, the
 * parameters and the TSC, and start over if the sequence changed.
 * The host writes 0 while it updates the page, so 0 is waited out
 * (bounded); false when it stays 0 (use the MSR) or never settles.
 */
static bool ref_page(uint64_t *ref)
{
    unsigned int i;

    for (i = 0; i < SEQ_RETRIES; i++) {
        if (hv_tsc_page_read(tsc_page, ref)) {
            return true;
        }
        cpu_relax();
    }
    return false;
}

static void check_monotonic(void *arg)
{
    unsigned int cpu = smp_id(), i, back = 0;
    uint64_t prev = ref_msr(), first = prev;

    for (i = 0; i < MONO_READS; i++) {
        uint64_t t = ref_msr();

        back += t < prev;
        prev = t;
    }
    report(back == 0 && prev > first, "cpu %u: TIME_REF_COUNT never goes "
           "back over %u reads and advances (%u back, %lu -> %lu)", cpu,
           MONO_READS, back, first, prev);
}

static void check_rate(void)
{
    uint64_t r0, r1, c0, c1, ref_us, tsc_us;

    uint64_t hz = 0;
    const char *src = "TSC_FREQUENCY";

    /*
     * The TSC rate: the hypervisor's own figure when hv-frequencies
     * gives one (exact), else the guest's PIT calibration at boot (which
     * a stall of the nested lab can skew).
     */
    if (rdmsr_safe(HV_X64_MSR_TSC_FREQUENCY, &hz) != NO_FAULT || !hz) {
        hz = tsc_khz() * 1000;
        src = "PIT calibration";
    }
    hv_ref_and_tsc(&r0, &c0);
    udelay(RATE_WAIT_US);
    hv_ref_and_tsc(&r1, &c1);
    ref_us = (r1 - r0) / 10;
    tsc_us = (c1 - c0) * 1000000 / hz;     /* 100 ms: cannot overflow */
    report(ref_us * 100 > tsc_us * (100 - RATE_SLACK) &&
           ref_us * 100 < tsc_us * (100 + RATE_SLACK), "TIME_REF_COUNT runs "
           "at 10 MHz: %lu us of reference time in %lu us of TSC time "
           "(TSC rate from %s, within %u%%)", ref_us, tsc_us, src,
           RATE_SLACK);
}

static bool page_must_be_valid(void)
{
    const char *v = opt_get("page");

    return v && !strcmp(v, "valid");
}

/*
 * Page time across vCPUs: vCPU 0 reads the page and hands the value to
 * vCPU 1, which reads the page after it has the value, and back.  A
 * value handed over is never ahead of the reader's own later read.
 */
static volatile uint64_t cross_val;
static volatile unsigned int cross_turn;    /* odd: vCPU 1 reads */
static volatile unsigned int cross_bad[2];

static void cross_step(unsigned int me, unsigned int turn)
{
    uint64_t now = 0;

    while (__atomic_load_n(&cross_turn, __ATOMIC_ACQUIRE) != turn) {
        cpu_relax();
    }
    if (!ref_page(&now) || (turn > 0 && now < cross_val)) {
        cross_bad[me]++;
    }
    cross_val = now;
    __atomic_store_n(&cross_turn, turn + 1, __ATOMIC_RELEASE);
}

static void cross_ap(void *arg)
{
    for (unsigned int t = 1; t < 2 * CROSS_ROUNDS; t += 2) {
        cross_step(1, t);
    }
}

static void check_cross(void)
{
    cross_turn = 0;
    cross_bad[0] = cross_bad[1] = 0;
    if (!report(cpu_count() >= 2 && on_cpu_async(1, cross_ap, NULL),
                "tsc page: cross-vCPU check started")) {
        return;
    }
    for (unsigned int t = 0; t < 2 * CROSS_ROUNDS; t += 2) {
        cross_step(0, t);
    }
    report(on_cpu_wait(1, 60000000) && !cross_bad[0] && !cross_bad[1],
           "tsc page: time handed between vCPU 0 and 1 %u times is never "
           "ahead of the receiver's next page read (behind: %u on vCPU 0, "
           "%u on vCPU 1)", 2 * CROSS_ROUNDS, cross_bad[0], cross_bad[1]);
}

struct page_result {
    bool valid;
    unsigned int page_ahead, msr_ahead;
    uint64_t max_skew;
};

/*
 * page, MSR, page: the MSR value must lie between the two page values
 * read around it, and the MSR value after the second page read must not
 * be below it.
 */
static void page_vs_msr(void *arg)
{
    struct page_result *r = arg;
    unsigned int i;

    r->valid = true;
    for (i = 0; i < PAGE_SAMPLES; i++) {
        uint64_t p0, m, p1, m1;

        if (!ref_page(&p0)) {
            r->valid = false;
            return;
        }
        m = ref_msr();
        if (!ref_page(&p1)) {
            r->valid = false;
            return;
        }
        m1 = ref_msr();
        r->page_ahead += p0 > m || p1 > m1;
        r->msr_ahead += m > p1;
        if (p1 - p0 > r->max_skew && p1 >= p0) {
            r->max_skew = p1 - p0;
        }
    }
}

/* Whether the bytes after the TLFS's fields still hold TAIL_FILL. */
static bool tail_kept(const struct hv_tsc_page *pg)
{
    const uint8_t *b = (const uint8_t *)pg;
    unsigned int i;

    for (i = sizeof(*pg); i < PAGE_SIZE; i++) {
        if (b[i] != TAIL_FILL) {
            report_info("tsc page: byte %u is 0x%x", i, b[i]);
            return false;
        }
    }
    return true;
}

static void check_page(void)
{
    static struct page_result res[MAX_CPUS];
    uint64_t gpa;
    unsigned int cpu;

    tsc_page = alloc_page();
    if (!report(tsc_page != NULL, "tsc page: allocated")) {
        return;
    }
    gpa = virt_to_phys(tsc_page);
    /* the TLFS defines the first 24 bytes: the rest stays the guest's */
    memset((uint8_t *)tsc_page + sizeof(*tsc_page), TAIL_FILL,
           PAGE_SIZE - sizeof(*tsc_page));
    report(wrmsr_safe(HV_X64_MSR_REFERENCE_TSC, gpa |
                      HV_REFERENCE_TSC_ENABLE) == NO_FAULT,
           "tsc page: REFERENCE_TSC enabled at 0x%lx", gpa);
    /* the host may fill the page on the next entry: give it a moment */
    wait_for(__atomic_load_n(&tsc_page->sequence, __ATOMIC_ACQUIRE) != 0,
             PAGE_FILL_US);
    report_info("tsc page: sequence %u scale 0x%lx offset %ld",
                tsc_page->sequence, tsc_page->scale, tsc_page->offset);
    report(tail_kept(tsc_page), "tsc page: the host wrote only the "
           "sequence, scale and offset; bytes %u-4095 are as the guest "
           "left them", (unsigned int)sizeof(*tsc_page));
    if (tsc_page->sequence == 0) {
        if (page_must_be_valid()) {
            report(false, "tsc page: valid on this host (page=valid)");
        }
        report_info("tsc page: sequence 0, the guest must use "
                    "TIME_REF_COUNT; the page checks do not apply");
        return;
    }
    report(tsc_page->scale != 0, "tsc page: scale is not 0");
    for (cpu = 0; cpu < cpu_count(); cpu++) {
        struct page_result *r = &res[cpu];

        *r = (struct page_result){ 0 };
        if (!report(on_cpu(cpu, page_vs_msr, r), "cpu %u: tsc page "
                    "comparison ran", cpu)) {
            continue;
        }
        if (!r->valid) {
            report_info("cpu %u: tsc page: sequence went to 0 or never "
                        "settled; not compared", cpu);
            continue;
        }
        report(r->page_ahead == 0, "cpu %u: tsc page never ahead of a later "
               "TIME_REF_COUNT read (%u of %u samples)", cpu, r->page_ahead,
               PAGE_SAMPLES);
        report(r->msr_ahead == 0, "cpu %u: TIME_REF_COUNT never ahead of a "
               "later tsc page read (%u of %u samples)", cpu, r->msr_ahead,
               PAGE_SAMPLES);
        report(r->max_skew < MAX_SKEW, "cpu %u: tsc page reads around one "
               "MSR read at most %lu apart (max %lu)", cpu, MAX_SKEW,
               r->max_skew);
    }
    check_cross();
    wrmsr_safe(HV_X64_MSR_REFERENCE_TSC, 0);
}

static void hyperv_clock(void)
{
    unsigned int cpu;

    for (cpu = 0; cpu < cpu_count(); cpu++) {
        report(on_cpu(cpu, check_monotonic, NULL), "cpu %u: monotonic check "
               "ran", cpu);
    }
    check_rate();
    check_page();
}

DEFINE_SUITE("hyperv-clock", hyperv_clock);
