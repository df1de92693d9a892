// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * suite=clock-bench: not a test but a benchmark for bench/synic-post.sh
 * (modes clock-page and clock-msr): how fast a guest reads reference
 * time, as Windows and Linux do on every clock read.
 *
 *   mode=page  through the reference TSC page (TLFS: sequence, scale,
 *              offset and RDTSC; no exit when the page is valid)
 *   mode=msr   through TIME_REF_COUNT (an exit each read: to the kernel
 *              on the kernel path, to QEMU on the user path)
 *
 * n= reads measured, in hundreds (default 1000: 100000 reads); hold=
 * milliseconds (default 0) spun after "INFO: bench: counting", printed
 * where the measured reads start, and after "INFO: bench: holding" at the
 * end, so that the host reads the VM's KVM counters at both points.
 *
 * Figures ("BENCH: <mode>-<figure> <value> <unit>"): rate (reads/s),
 * cycles-per-read.  Checks: the page is valid (mode=page; with sequence 0
 * the guest would read the MSR instead), and the reads never go back.
 */
#include <stdint.h>

#include "lib/alloc.h"
#include "lib/bench.h"
#include "lib/boot.h"
#include "lib/fault.h"
#include "lib/hyperv.h"
#include "lib/report.h"
#include "lib/string.h"
#include "lib/timing.h"
#include "lib/x86.h"
#include "suites/suite.h"

#define READS_PER_N     100
#define PAGE_FILL_US    1000000

struct clock_mode {
    const char *name;
    bool (*read)(uint64_t *ref);
};

/* volatile: the host writes the page behind the compiler's back */
static volatile struct hv_tsc_page *page;

static bool read_page(uint64_t *ref)
{
    return hv_tsc_page_read(page, ref);
}

static bool read_msr(uint64_t *ref)
{
    *ref = rdmsr(HV_X64_MSR_TIME_REF_COUNT);
    return true;
}

static const struct clock_mode modes[] = {
    { "page", read_page },
    { "msr", read_msr },
};

static void run_mode(const struct clock_mode *m, unsigned long reads,
                     unsigned long hold)
{
    uint64_t prev = 0, ref = 0, t0, t1;
    unsigned long i, back = 0;
    bool ok = true;

    bench_hold_as("counting", hold);
    t0 = rdtsc();
    for (i = 0; i < reads && ok; i++) {
        ok = m->read(&ref);
        back += ref < prev;
        prev = ref;
    }
    t1 = rdtsc();
    bench_hold(hold);
    if (!report(ok, "%s: %lu reads", m->name, reads)) {
        return;
    }
    report(back == 0, "%s: reference time never went back (%lu times)",
           m->name, back);
    bench_figure(m->name, "rate", reads * tsc_khz() * 1000 / (t1 - t0),
                 "reads/s");
    bench_figure(m->name, "cycles-per-read", (t1 - t0) / reads, "cycles");
}

static void clock_bench(void)
{
    const char *list = opt_get("mode");
    unsigned long n, hold;
    void *p = alloc_page();
    unsigned int i;

    if (!report(BENCH_MODES_KNOWN(list, modes), "options: mode=%s names "
                "known modes", list ? list : "all") ||
        !report(opt_get_ulong("n", 1000, &n) && n > 0 && n <= 100000,
                "options: n=%lu (1 to 100000)", n) ||
        !report(opt_get_ulong("hold", 0, &hold), "options: hold") ||
        !report(p != NULL, "a page for the reference TSC page")) {
        return;
    }
    page = p;
    memset(p, 0, PAGE_SIZE);
    wrmsr(HV_X64_MSR_GUEST_OS_ID, HV_TEST_GUEST_OS_ID);
    if (bench_mode_wanted(list, "page")) {
        wrmsr(HV_X64_MSR_REFERENCE_TSC,
              virt_to_phys(p) | HV_REFERENCE_TSC_ENABLE);
        wait_for(page->sequence != 0, PAGE_FILL_US);
        report_info("page: sequence %u scale 0x%lx offset %ld",
                    page->sequence, page->scale, page->offset);
        report(page->sequence != 0, "page: the reference TSC page is valid");
    }
    for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (bench_mode_wanted(list, modes[i].name)) {
            run_mode(&modes[i], n * READS_PER_N, hold);
        }
    }
}

DEFINE_SUITE("clock-bench", clock_bench);
