// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * suite=hyperv-msr: every Hyper-V MSR of the features QEMU can offer
 * (TLFS 6.0b appendix "Hypervisor Synthetic MSRs"): which exist, which are
 * read-only, which values they refuse.
 *
 * Options:
 *   hv=<list>   the hv-* features enabled (names as for hyperv-cpuid).
 *               The MSRs of the others must raise #GP on read and write:
 *               the user path always behaves as hv-enforce-cpuid, and the
 *               runner gives the kernel path hv-enforce-cpuid so that KVM
 *               does the same (arch/x86/kvm/hyperv.c, hv_check_msr_access).
 *
 * The rules checked, KVM's where the TLFS leaves room:
 *  - GUEST_OS_ID and HYPERCALL always exist; GUEST_OS_ID takes any value;
 *    HYPERCALL's bits 1-11 are RsvdP: no #GP.
 *  - VP_INDEX, VP_RUNTIME, TIME_REF_COUNT, SVERSION, TSC_FREQUENCY and
 *    APIC_FREQUENCY are read-only: a guest write raises #GP.
 *  - RESET reads 0 and ignores a write of 0 (1 would reset the VM).
 *  - REFERENCE_TSC reads back what was written.
 *  - SINTx refuses an unmasked vector below 16 (#GP).
 *  - STIMERx_CONFIG/COUNT read 0 after reset and read back a disabled
 *    configuration; the direct-mode bit needs hv-stimer-direct (#GP).
 *  - CRASH_P0-4 read back any value; CRASH_CTL reads CRASH_NOTIFY and a
 *    write without it does nothing.
 *  - Numbers in the Hyper-V MSR range that name no register raise #GP.
 *
 * With hv-u=1 (the runner adds it on the user path: tcg, kvm-u) also
 * what the user path does more strictly than KVM: STIMERx_CONFIG bits
 * 13-15 and 20-63 are RsvdZ (TLFS 12.4.1) and a write setting one raises
 * #GP.  KVM stores them as written (stimer_set_config); on the kernel
 * path that is only shown.
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
#include "suites/suite.h"

#define RO          (1u << 0)   /* a guest write raises #GP */
#define PER_VCPU    (1u << 1)   /* checked on every vCPU */

/* A value that is no valid write for anything it is written to here */
#define JUNK            UINT64_C(0x5a5a5a5a00000000)
#define RSVD_1_11       UINT64_C(0x0000000000000ffe)
#define TSC_FREQ_SLACK  5       /* percent */
#define TSC_MEASURE_US  100000
#define RUNTIME_WAIT_US 20000
#define STIMER_RSVDZ    (UINT64_C(0xfffffffffff0e000))

struct hv_msr {
    uint32_t msr;
    const char *name;
    const char *feature;        /* NULL: always there */
    unsigned int flags;
};

static const struct hv_msr hv_msrs[] = {
    { HV_X64_MSR_GUEST_OS_ID, "GUEST_OS_ID", NULL, 0 },
    { HV_X64_MSR_HYPERCALL, "HYPERCALL", NULL, 0 },
    { HV_X64_MSR_VP_INDEX, "VP_INDEX", "vpindex", RO | PER_VCPU },
    { HV_X64_MSR_RESET, "RESET", "reset", 0 },
    { HV_X64_MSR_VP_RUNTIME, "VP_RUNTIME", "runtime", RO | PER_VCPU },
    { HV_X64_MSR_TIME_REF_COUNT, "TIME_REF_COUNT", "time", RO },
    { HV_X64_MSR_REFERENCE_TSC, "REFERENCE_TSC", "time", 0 },
    { HV_X64_MSR_TSC_FREQUENCY, "TSC_FREQUENCY", "frequencies", RO },
    { HV_X64_MSR_APIC_FREQUENCY, "APIC_FREQUENCY", "frequencies", RO },
    { HV_X64_MSR_SCONTROL, "SCONTROL", "synic", PER_VCPU },
    { HV_X64_MSR_SVERSION, "SVERSION", "synic", RO | PER_VCPU },
    { HV_X64_MSR_SIEFP, "SIEFP", "synic", PER_VCPU },
    { HV_X64_MSR_SIMP, "SIMP", "synic", PER_VCPU },
    { HV_X64_MSR_EOM, "EOM", "synic", PER_VCPU },
    { HV_X64_MSR_SINT(0), "SINT0", "synic", PER_VCPU },
    { HV_X64_MSR_SINT(15), "SINT15", "synic", PER_VCPU },
    { HV_X64_MSR_STIMER_CONFIG(0), "STIMER0_CONFIG", "stimer", PER_VCPU },
    { HV_X64_MSR_STIMER_COUNT(0), "STIMER0_COUNT", "stimer", PER_VCPU },
    { HV_X64_MSR_STIMER_CONFIG(3), "STIMER3_CONFIG", "stimer", PER_VCPU },
    { HV_X64_MSR_STIMER_COUNT(3), "STIMER3_COUNT", "stimer", PER_VCPU },
    { HV_X64_MSR_CRASH_P(0), "CRASH_P0", "crash", 0 },
    { HV_X64_MSR_CRASH_P(4), "CRASH_P4", "crash", 0 },
    { HV_X64_MSR_CRASH_CTL, "CRASH_CTL", "crash", 0 },
};

#define NR_HV_MSRS (sizeof(hv_msrs) / sizeof(hv_msrs[0]))

/* Numbers in the range that name nothing (TLFS appendix: unassigned) */
static const uint32_t unassigned[] = {
    0x40000004, 0x4000000f, 0x40000024, 0x4000007f, 0x400000b8,
    0x40000110,
};

static const char *hv_list;

static bool on(const char *feature)
{
    return !feature || list_contains(hv_list, feature);
}

static uint64_t rd(uint32_t msr, int *vec)
{
    uint64_t v = 0;

    *vec = rdmsr_safe(msr, &v);
    return v;
}

/* Present MSRs read without fault; read-only ones refuse a write. */
static void check_present(const struct hv_msr *m, unsigned int cpu)
{
    int rvec, wvec;
    uint64_t v = rd(m->msr, &rvec);

    report(rvec == NO_FAULT, "cpu %u: %s readable (0x%lx, vector %d)", cpu,
           m->name, v, rvec);
    if (!(m->flags & RO)) {
        return;
    }
    wvec = wrmsr_safe(m->msr, v);
    report(wvec == GP_VECTOR, "cpu %u: %s is read-only: writing back 0x%lx "
           "raises #GP (vector %d)", cpu, m->name, v, wvec);
    wvec = wrmsr_safe(m->msr, JUNK);
    report(wvec == GP_VECTOR, "cpu %u: %s is read-only: writing 0x%lx "
           "raises #GP (vector %d)", cpu, m->name, JUNK, wvec);
}

static void check_absent(const struct hv_msr *m, unsigned int cpu)
{
    int rvec, wvec;
    uint64_t v = rd(m->msr, &rvec);

    wvec = wrmsr_safe(m->msr, 0);
    report(rvec == GP_VECTOR && wvec == GP_VECTOR, "cpu %u: %s absent "
           "without hv-%s: #GP on read and write (vectors %d/%d, 0x%lx)",
           cpu, m->name, m->feature, rvec, wvec, v);
}

static void presence_checks(void *arg)
{
    bool all = arg != NULL;
    unsigned int cpu = smp_id(), i;

    for (i = 0; i < NR_HV_MSRS; i++) {
        const struct hv_msr *m = &hv_msrs[i];

        if (!all && !(m->flags & PER_VCPU)) {
            continue;
        }
        if (on(m->feature)) {
            check_present(m, cpu);
        } else {
            check_absent(m, cpu);
        }
    }
}

static void check_unassigned(void)
{
    unsigned int i;

    for (i = 0; i < sizeof(unassigned) / sizeof(unassigned[0]); i++) {
        int rvec, wvec;

        rd(unassigned[i], &rvec);
        wvec = wrmsr_safe(unassigned[i], 0);
        report(rvec == GP_VECTOR && wvec == GP_VECTOR, "MSR 0x%x (no "
               "register) raises #GP on read and write (vectors %d/%d)",
               unassigned[i], rvec, wvec);
    }
}

static void check_partition_msrs(void)
{
    uint64_t page = virt_to_phys(alloc_page()), v;
    int vec, wvec;

    v = rd(HV_X64_MSR_GUEST_OS_ID, &vec);
    report(vec == NO_FAULT && v == 0, "GUEST_OS_ID reads 0 after reset "
           "(0x%lx)", v);
    wvec = wrmsr_safe(HV_X64_MSR_GUEST_OS_ID, ~UINT64_C(0));
    v = rd(HV_X64_MSR_GUEST_OS_ID, &vec);
    report(wvec == NO_FAULT && v == ~UINT64_C(0), "GUEST_OS_ID takes any "
           "value (0x%lx, vector %d)", v, wvec);
    wrmsr_safe(HV_X64_MSR_GUEST_OS_ID, HV_TEST_GUEST_OS_ID);

    v = rd(HV_X64_MSR_HYPERCALL, &vec);
    report(vec == NO_FAULT && v == 0, "HYPERCALL reads 0 after reset "
           "(0x%lx)", v);
    wvec = wrmsr_safe(HV_X64_MSR_HYPERCALL, page | RSVD_1_11 |
                      HV_HYPERCALL_ENABLE);
    v = rd(HV_X64_MSR_HYPERCALL, &vec);
    report(wvec == NO_FAULT && (v & ~RSVD_1_11) == (page |
           HV_HYPERCALL_ENABLE), "HYPERCALL bits 1-11 (RsvdP) do not fault "
           "and the page is enabled (0x%lx, vector %d)", v, wvec);
    wrmsr_safe(HV_X64_MSR_HYPERCALL, 0);
}

static void check_vp_index(void *arg)
{
    unsigned int cpu = smp_id();
    int vec;
    uint64_t v = rd(HV_X64_MSR_VP_INDEX, &vec);

    report(vec == NO_FAULT && v == cpu, "cpu %u: VP_INDEX reads %u (0x%lx)",
           cpu, cpu, v);
    wrmsr_safe(HV_X64_MSR_VP_INDEX, cpu + 1);
    v = rd(HV_X64_MSR_VP_INDEX, &vec);
    report(v == cpu, "cpu %u: VP_INDEX unchanged by the refused write "
           "(0x%lx)", cpu, v);
}

static void check_runtime(void)
{
    int v0, v1;
    uint64_t t0 = rd(HV_X64_MSR_VP_RUNTIME, &v0), t1;

    udelay(RUNTIME_WAIT_US);
    t1 = rd(HV_X64_MSR_VP_RUNTIME, &v1);
    report(v0 == NO_FAULT && v1 == NO_FAULT && t1 > t0, "VP_RUNTIME "
           "advances while the vCPU runs (%lu -> %lu)", t0, t1);
}

static void check_reset_msr(void)
{
    int vec, wvec = wrmsr_safe(HV_X64_MSR_RESET, 0);
    uint64_t v = rd(HV_X64_MSR_RESET, &vec);

    report(wvec == NO_FAULT && vec == NO_FAULT && v == 0, "RESET reads 0 "
           "and a write of 0 does nothing (0x%lx, vector %d)", v, wvec);
}

static void check_reference_tsc(void)
{
    uint64_t page = virt_to_phys(alloc_page()), v;
    int vec, wvec;

    v = rd(HV_X64_MSR_REFERENCE_TSC, &vec);
    report(vec == NO_FAULT && v == 0, "REFERENCE_TSC reads 0 after reset "
           "(0x%lx)", v);
    wvec = wrmsr_safe(HV_X64_MSR_REFERENCE_TSC, page | HV_REFERENCE_TSC_ENABLE);
    v = rd(HV_X64_MSR_REFERENCE_TSC, &vec);
    report(wvec == NO_FAULT && v == (page | HV_REFERENCE_TSC_ENABLE),
           "REFERENCE_TSC enabled at 0x%lx reads back (0x%lx)", page, v);
    wvec = wrmsr_safe(HV_X64_MSR_REFERENCE_TSC, 0);
    v = rd(HV_X64_MSR_REFERENCE_TSC, &vec);
    report(wvec == NO_FAULT && v == 0, "REFERENCE_TSC disabled reads 0 "
           "(0x%lx)", v);
}

/*
 * The TSC rate measured against TIME_REF_COUNT (10 MHz) when hv-time is
 * on, else the guest's PIT calibration at boot (rougher).
 */
static uint64_t measured_tsc_hz(void)
{
    uint64_t r0, r1, c0, c1;

    if (!on("time")) {
        return tsc_khz() * 1000;
    }
    hv_ref_and_tsc(&r0, &c0);
    udelay(TSC_MEASURE_US);
    hv_ref_and_tsc(&r1, &c1);
    return r1 > r0 ? (c1 - c0) * 10000000 / (r1 - r0) : 0;
}

static void check_frequencies(void)
{
    int vec;
    uint64_t tsc = rd(HV_X64_MSR_TSC_FREQUENCY, &vec);
    uint64_t want = measured_tsc_hz(), apic;

    report(vec == NO_FAULT && tsc > want / 100 * (100 - TSC_FREQ_SLACK) &&
           tsc < want / 100 * (100 + TSC_FREQ_SLACK), "TSC_FREQUENCY %lu Hz "
           "within %u%% of the TSC rate the guest measured (%lu Hz, %s)",
           tsc, TSC_FREQ_SLACK, want, on("time") ? "against TIME_REF_COUNT" :
           "against the PIT");
    apic = rd(HV_X64_MSR_APIC_FREQUENCY, &vec);
    report(vec == NO_FAULT && apic != 0, "APIC_FREQUENCY is not 0 (%lu Hz)",
           apic);
}

static void check_synic_values(void *arg)
{
    unsigned int cpu = smp_id();
    int vec, wvec;
    uint64_t v = rd(HV_X64_MSR_SVERSION, &vec);

    report(v == HV_SYNIC_VERSION, "cpu %u: SVERSION reads 1 (0x%lx)", cpu, v);
    v = rd(HV_X64_MSR_EOM, &vec);
    report(vec == NO_FAULT && v == 0, "cpu %u: EOM reads 0 (0x%lx)", cpu, v);
    wrmsr_safe(HV_X64_MSR_SINT(5), HV_SINT_MASKED | 0x40);
    wvec = wrmsr_safe(HV_X64_MSR_SINT(5), 15);
    v = rd(HV_X64_MSR_SINT(5), &vec);
    report(wvec == GP_VECTOR && v == (HV_SINT_MASKED | 0x40), "cpu %u: SINT5 "
           "vector 15 unmasked raises #GP, the MSR keeps 0x10040 (0x%lx, "
           "vector %d)", cpu, v, wvec);
    wrmsr_safe(HV_X64_MSR_SINT(5), HV_SINT_MASKED);
}

static bool user_path(void)
{
    const char *u = opt_get("hv-u");

    return u && !strcmp(u, "1");
}

static void check_stimer_rsvdz(unsigned int cpu)
{
    static const uint64_t bits[] = {
        UINT64_C(1) << 13, UINT64_C(1) << 20, UINT64_C(1) << 63,
    };
    uint64_t cfg = HV_STIMER_SINTX(2), v;
    unsigned int i;
    int vec, wvec;

    for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
        wvec = wrmsr_safe(HV_X64_MSR_STIMER_CONFIG(2), cfg | bits[i]);
        v = rd(HV_X64_MSR_STIMER_CONFIG(2), &vec);
        if (user_path()) {
            report(wvec == GP_VECTOR && !(v & STIMER_RSVDZ), "cpu %u: "
                   "STIMER2_CONFIG RsvdZ bit 0x%lx raises #GP (vector %d, "
                   "0x%lx)", cpu, bits[i], wvec, v);
        } else {
            report_info("cpu %u: STIMER2_CONFIG RsvdZ bit 0x%lx: vector %d, "
                        "reads 0x%lx", cpu, bits[i], wvec, v);
        }
        wrmsr_safe(HV_X64_MSR_STIMER_CONFIG(2), 0);
    }
}

static void check_stimer_values(void *arg)
{
    uint64_t cfg = HV_STIMER_PERIODIC | HV_STIMER_SINTX(2);
    unsigned int cpu = smp_id(), t, bad = 0;
    bool direct = on("stimer-direct");
    int vec, wvec;
    uint64_t v;

    for (t = 0; t < HV_STIMER_COUNT; t++) {
        bad += rd(HV_X64_MSR_STIMER_CONFIG(t), &vec) != 0 || vec != NO_FAULT;
        bad += rd(HV_X64_MSR_STIMER_COUNT(t), &vec) != 0 || vec != NO_FAULT;
    }
    report(bad == 0, "cpu %u: STIMER0-3 CONFIG and COUNT read 0 after reset "
           "(%u differ)", cpu, bad);
    for (t = 0, bad = 0; t < HV_STIMER_COUNT; t++) {
        wvec = wrmsr_safe(HV_X64_MSR_STIMER_COUNT(t), 1000000 + t);
        bad += wvec != NO_FAULT ||
               rd(HV_X64_MSR_STIMER_COUNT(t), &vec) != 1000000 + t;
        wvec = wrmsr_safe(HV_X64_MSR_STIMER_CONFIG(t), cfg);
        bad += wvec != NO_FAULT || rd(HV_X64_MSR_STIMER_CONFIG(t), &vec) != cfg;
        wrmsr_safe(HV_X64_MSR_STIMER_CONFIG(t), 0);
        wrmsr_safe(HV_X64_MSR_STIMER_COUNT(t), 0);
    }
    report(bad == 0, "cpu %u: STIMER0-3 COUNT and a disabled CONFIG read back "
           "as written (%u differ)", cpu, bad);

    wvec = wrmsr_safe(HV_X64_MSR_STIMER_CONFIG(1), HV_STIMER_DIRECT_MODE |
                      HV_STIMER_APIC_VECTOR(0x50));
    v = rd(HV_X64_MSR_STIMER_CONFIG(1), &vec);
    if (direct) {
        report(wvec == NO_FAULT && v == (HV_STIMER_DIRECT_MODE |
               HV_STIMER_APIC_VECTOR(0x50)), "cpu %u: STIMER1 direct mode "
               "accepted with hv-stimer-direct (0x%lx)", cpu, v);
    } else {
        report(wvec == GP_VECTOR && v == 0, "cpu %u: STIMER1 direct mode "
               "raises #GP without hv-stimer-direct (vector %d, 0x%lx)", cpu,
               wvec, v);
    }
    wrmsr_safe(HV_X64_MSR_STIMER_CONFIG(1), 0);
    check_stimer_rsvdz(cpu);
}

static void check_crash(void)
{
    unsigned int i, bad = 0;
    int vec, wvec;
    uint64_t v;

    for (i = 0; i < HV_CRASH_PARAMS; i++) {
        uint64_t want = JUNK | i;

        bad += wrmsr_safe(HV_X64_MSR_CRASH_P(i), want) != NO_FAULT ||
               rd(HV_X64_MSR_CRASH_P(i), &vec) != want;
        wrmsr_safe(HV_X64_MSR_CRASH_P(i), 0);
    }
    report(bad == 0, "CRASH_P0-4 read back any value (%u differ)", bad);
    v = rd(HV_X64_MSR_CRASH_CTL, &vec);
    report(vec == NO_FAULT && v == HV_CRASH_CTL_CRASH_NOTIFY, "CRASH_CTL "
           "reads CRASH_NOTIFY (0x%lx)", v);
    /* never with CRASH_NOTIFY: QEMU would take the guest as panicked */
    wvec = wrmsr_safe(HV_X64_MSR_CRASH_CTL, 0);
    v = rd(HV_X64_MSR_CRASH_CTL, &vec);
    report(wvec == NO_FAULT && v == HV_CRASH_CTL_CRASH_NOTIFY, "CRASH_CTL "
           "write 0 does not fault nor clear the capability (0x%lx)", v);
}

static void on_every_cpu(cpu_fn fn, void *arg, const char *what)
{
    unsigned int cpu;

    for (cpu = 0; cpu < cpu_count(); cpu++) {
        report(on_cpu(cpu, fn, arg), "cpu %u: %s ran", cpu, what);
    }
}

static void hyperv_msr(void)
{
    static const bool all = true;

    hv_list = opt_get("hv");
    if (!report(hv_list != NULL, "options: hv=<features> given")) {
        return;
    }
    presence_checks((void *)&all);
    if (cpu_count() > 1) {
        report(on_cpu(1, presence_checks, NULL), "cpu 1: presence checks "
               "ran");
    }
    check_unassigned();
    check_partition_msrs();
    if (on("vpindex")) {
        on_every_cpu(check_vp_index, NULL, "VP_INDEX checks");
    }
    if (on("runtime")) {
        check_runtime();
    }
    if (on("reset")) {
        check_reset_msr();
    }
    if (on("time")) {
        check_reference_tsc();
    }
    if (on("frequencies")) {
        check_frequencies();
    }
    if (on("synic")) {
        on_every_cpu(check_synic_values, NULL, "SynIC value checks");
    }
    if (on("stimer")) {
        on_every_cpu(check_stimer_values, NULL, "timer value checks");
    }
    if (on("crash")) {
        check_crash();
    }
}

DEFINE_SUITE("hyperv-msr", hyperv_msr);
