// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * suite=synic-msr: the SynIC MSRs on every vCPU (TLFS 11.8): reset
 * values, read/write/read-back, and which writes fault.
 *
 * On the kernel (K) path KVM owns these MSRs (arch/x86/kvm/hyperv.c,
 * synic_set_msr and synic_set_sint), and its rules are what we check:
 *  - SVERSION is read-only (a write raises #GP) and reads 1;
 *  - a SINT write with vector 0-15 raises #GP unless the masked bit is
 *    set (nested Hyper-V writes 0x10000 at boot), and leaves the MSR as
 *    it was;
 *  - the reserved bits of SCONTROL, SIMP, SIEFP and SINTx (RsvdP in the
 *    TLFS) are neither checked nor cleared: they read back as written;
 *  - EOM reads 0 and takes any write;
 *  - MSR numbers in the SynIC block that name nothing raise #GP.
 */
#include <stdint.h>

#include "lib/alloc.h"
#include "lib/fault.h"
#include "lib/hyperv.h"
#include "lib/report.h"
#include "lib/smp.h"
#include "lib/synic.h"
#include "lib/x86.h"
#include "suites/suite.h"

#define TEST_VECTOR_BASE    0x30
#define SINT_RSVD_BITS      UINT64_C(0xfffffffffff8ff00)
#define SCONTROL_RSVD_BITS  UINT64_C(0xfffffffffffffffe)
#define PAGE_RSVD_BITS      UINT64_C(0x0000000000000ffe)
#define XCPU_SINT           5
#define XCPU_VECTOR_BASE    0x60

/* MSR numbers inside the SynIC block that are not SynIC registers */
static const uint32_t unused_msrs[] = { 0x40000085, 0x4000008f, 0x400000a0 };

struct rw {
    int wvec, rvec;
    uint64_t val;
};

/* Write, then read back; both fault vectors and the value come back. */
static struct rw write_read(uint32_t msr, uint64_t v)
{
    struct rw r;

    r.wvec = wrmsr_safe(msr, v);
    r.rvec = rdmsr_safe(msr, &r.val);
    return r;
}

static bool rw_ok(struct rw r, uint64_t want)
{
    return r.wvec == NO_FAULT && r.rvec == NO_FAULT && r.val == want;
}

static void check_reset_values(unsigned int cpu)
{
    static const struct { uint32_t msr; const char *name; } zero[] = {
        { HV_X64_MSR_SCONTROL, "SCONTROL" },
        { HV_X64_MSR_SIMP, "SIMP" },
        { HV_X64_MSR_SIEFP, "SIEFP" },
        { HV_X64_MSR_EOM, "EOM" },
    };
    unsigned int i, bad = 0;
    uint64_t v = 0;
    int vec;

    for (i = 0; i < sizeof(zero) / sizeof(zero[0]); i++) {
        vec = rdmsr_safe(zero[i].msr, &v);
        report(vec == NO_FAULT && v == 0, "cpu %u: %s reads 0 after reset "
               "(0x%lx, vector %d)", cpu, zero[i].name, v, vec);
    }
    for (i = 0; i < HV_SINT_COUNT; i++) {
        vec = rdmsr_safe(HV_X64_MSR_SINT(i), &v);
        bad += vec != NO_FAULT || v != HV_SINT_MASKED;
    }
    report(bad == 0, "cpu %u: SINT0-15 read 0x10000 (masked, vector 0) "
           "after reset (%u differ)", cpu, bad);
}

static void check_sversion(unsigned int cpu)
{
    uint64_t v = 0;
    int vec = rdmsr_safe(HV_X64_MSR_SVERSION, &v);

    report(vec == NO_FAULT && v == HV_SYNIC_VERSION,
           "cpu %u: SVERSION reads 1 (0x%lx, vector %d)", cpu, v, vec);
    vec = wrmsr_safe(HV_X64_MSR_SVERSION, 2);
    report(vec == GP_VECTOR, "cpu %u: SVERSION write raises #GP (vector %d)",
           cpu, vec);
    rdmsr_safe(HV_X64_MSR_SVERSION, &v);
    report(v == HV_SYNIC_VERSION, "cpu %u: SVERSION still 1 after the "
           "refused write (0x%lx)", cpu, v);
}

static void check_scontrol_eom(unsigned int cpu)
{
    struct rw r;

    r = write_read(HV_X64_MSR_SCONTROL, HV_SCONTROL_ENABLE);
    report(rw_ok(r, HV_SCONTROL_ENABLE), "cpu %u: SCONTROL write 1 reads "
           "back 1 (0x%lx)", cpu, r.val);
    r = write_read(HV_X64_MSR_SCONTROL, SCONTROL_RSVD_BITS |
                   HV_SCONTROL_ENABLE);
    report(rw_ok(r, ~UINT64_C(0)), "cpu %u: SCONTROL reserved bits (RsvdP) "
           "are kept, no #GP (0x%lx, vectors %d/%d)", cpu, r.val, r.wvec,
           r.rvec);
    r = write_read(HV_X64_MSR_SCONTROL, 0);
    report(rw_ok(r, 0), "cpu %u: SCONTROL write 0 reads back 0 (0x%lx)",
           cpu, r.val);
    r = write_read(HV_X64_MSR_EOM, 0x1234);
    report(rw_ok(r, 0), "cpu %u: EOM takes any write and reads 0 (0x%lx, "
           "vectors %d/%d)", cpu, r.val, r.wvec, r.rvec);
}

static void check_page_msr(unsigned int cpu, uint32_t msr, const char *name)
{
    void *page = alloc_page();
    uint64_t gpa = virt_to_phys(page);
    struct rw r;

    if (!report(page != NULL, "cpu %u: %s test page allocated", cpu, name)) {
        return;
    }
    r = write_read(msr, gpa | 1);
    report(rw_ok(r, gpa | 1), "cpu %u: %s enable at 0x%lx reads back "
           "(0x%lx)", cpu, name, gpa, r.val);
    r = write_read(msr, gpa);
    report(rw_ok(r, gpa), "cpu %u: %s disabled keeps the address (0x%lx)",
           cpu, name, r.val);
    r = write_read(msr, gpa | PAGE_RSVD_BITS | 1);
    report(rw_ok(r, gpa | PAGE_RSVD_BITS | 1), "cpu %u: %s reserved bits "
           "1-11 (RsvdP) are kept, no #GP (0x%lx)", cpu, name, r.val);
    r = write_read(msr, 0);
    report(rw_ok(r, 0), "cpu %u: %s write 0 reads back 0 (0x%lx)", cpu,
           name, r.val);
    free_page(page);
}

static void check_sint_rw(unsigned int cpu)
{
    unsigned int i, bad = 0;

    for (i = 0; i < HV_SINT_COUNT; i++) {
        uint64_t want = TEST_VECTOR_BASE + i;

        bad += !rw_ok(write_read(HV_X64_MSR_SINT(i), want), want);
        want |= HV_SINT_AUTO_EOI;
        bad += !rw_ok(write_read(HV_X64_MSR_SINT(i), want), want);
        want |= HV_SINT_MASKED | HV_SINT_POLLING;
        bad += !rw_ok(write_read(HV_X64_MSR_SINT(i), want), want);
        bad += !rw_ok(write_read(HV_X64_MSR_SINT(i), HV_SINT_MASKED),
                      HV_SINT_MASKED);
    }
    report(bad == 0, "cpu %u: SINT0-15 vector, auto-EOI, masked and "
           "polling bits read back as written (%u mismatches)", cpu, bad);
}

static void check_sint_vectors(unsigned int cpu)
{
    static const uint8_t low[] = { 0, 1, 15 };
    unsigned int i;
    uint64_t v = 0;
    struct rw r;

    for (i = 0; i < sizeof(low); i++) {
        wrmsr_safe(HV_X64_MSR_SINT(2), 0x40);
        r = write_read(HV_X64_MSR_SINT(2), low[i]);
        report(r.wvec == GP_VECTOR && r.val == 0x40, "cpu %u: SINT2 vector "
               "%u unmasked raises #GP and keeps 0x40 (vector %d, 0x%lx)",
               cpu, low[i], r.wvec, r.val);
        r = write_read(HV_X64_MSR_SINT(2), HV_SINT_MASKED | low[i]);
        report(rw_ok(r, HV_SINT_MASKED | low[i]), "cpu %u: SINT2 vector %u "
               "masked is accepted (0x%lx, vector %d)", cpu, low[i], r.val,
               r.wvec);
    }
    r = write_read(HV_X64_MSR_SINT(2), HV_SINT_FIRST_VECTOR);
    report(rw_ok(r, HV_SINT_FIRST_VECTOR), "cpu %u: SINT2 vector 16 "
           "unmasked is accepted (0x%lx)", cpu, r.val);
    r = write_read(HV_X64_MSR_SINT(2), SINT_RSVD_BITS | HV_SINT_MASKED |
                   0x41);
    report(rw_ok(r, SINT_RSVD_BITS | HV_SINT_MASKED | 0x41), "cpu %u: SINT2 "
           "reserved bits (RsvdP) are kept, no #GP (0x%lx, vector %d)", cpu,
           r.val, r.wvec);
    wrmsr_safe(HV_X64_MSR_SINT(2), HV_SINT_MASKED);
    rdmsr_safe(HV_X64_MSR_SINT(2), &v);
    report(v == HV_SINT_MASKED, "cpu %u: SINT2 back to 0x10000 (0x%lx)", cpu,
           v);
}

static void check_unused_msrs(unsigned int cpu)
{
    unsigned int i;

    for (i = 0; i < sizeof(unused_msrs) / sizeof(unused_msrs[0]); i++) {
        uint64_t v;
        int rvec = rdmsr_safe(unused_msrs[i], &v);
        int wvec = wrmsr_safe(unused_msrs[i], 0);

        report(rvec == GP_VECTOR && wvec == GP_VECTOR, "cpu %u: MSR 0x%x "
               "(no SynIC register) raises #GP on read and write (%d/%d)",
               cpu, unused_msrs[i], rvec, wvec);
    }
}

static void msr_checks(void *arg)
{
    unsigned int cpu = smp_id();

    check_reset_values(cpu);
    check_sversion(cpu);
    check_scontrol_eom(cpu);
    check_page_msr(cpu, HV_X64_MSR_SIMP, "SIMP");
    check_page_msr(cpu, HV_X64_MSR_SIEFP, "SIEFP");
    check_sint_rw(cpu);
    check_sint_vectors(cpu);
    check_unused_msrs(cpu);
}

static void xcpu_write(void *arg)
{
    wrmsr_safe(HV_X64_MSR_SINT(XCPU_SINT), XCPU_VECTOR_BASE + smp_id());
}

static void xcpu_check(void *arg)
{
    unsigned int cpu = smp_id();
    uint64_t v = 0;

    rdmsr_safe(HV_X64_MSR_SINT(XCPU_SINT), &v);
    report(v == XCPU_VECTOR_BASE + cpu, "cpu %u: SINT%u is per vCPU (reads "
           "its own 0x%x, got 0x%lx)", cpu, XCPU_SINT, XCPU_VECTOR_BASE + cpu,
           v);
    sint_reset(XCPU_SINT);
}

static void synic_msr(void)
{
    unsigned int cpu;

    for (cpu = 0; cpu < cpu_count(); cpu++) {
        report(on_cpu(cpu, msr_checks, NULL), "cpu %u: MSR checks ran", cpu);
    }
    for (cpu = 0; cpu < cpu_count(); cpu++) {
        on_cpu(cpu, xcpu_write, NULL);
    }
    for (cpu = 0; cpu < cpu_count(); cpu++) {
        report(on_cpu(cpu, xcpu_check, NULL), "cpu %u: per-vCPU check ran",
               cpu);
    }
}

DEFINE_SUITE("synic-msr", synic_msr);
