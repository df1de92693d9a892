// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * suite=hyperv-cpuid: the Hyper-V CPUID leaves and the partition-wide
 * MSRs a guest meets first (TLFS 6.0b sections 2.4, 3.13 and 7).
 *
 * Options:
 *   hv=<list>      hv-* features the runner enabled, by their QEMU names
 *                  without the prefix (vpindex,synic,time,...)
 *   hv-strict=1    features of the table below that are not in the list
 *                  must be absent from CPUID
 *   kvm-sig=0|1    whether QEMU's own leaves follow at 0x40000100 (-cpu
 *                  kvm=on, the default): 1: "KVMKVMKVM" there, or
 *                  "TCGTCGTCGTCG" under TCG; 0 (kvm=off): that leaf is
 *                  empty.  Absent: not checked.
 *   spinlocks=N    hv-spinlocks=N: 0x40000004.EBX must be N
 *   passthrough=1  -cpu ...,hv-passthrough: on the kernel path QEMU then
 *                  copies KVM's own vendor leaf, "Linux KVM Hv"
 *
 * 0x40000004.EAX bit 9 (HV_DEPRECATING_AEOI_RECOMMENDED) is required on
 * the user path under KVM (accel=kvm-u, kvm-host or kvm-nohv), whose
 * in-kernel local APIC cannot do auto-EOI (DESIGN.md section 3); elsewhere
 * it is only shown.
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

/* Any non-zero value will do; this one follows the TLFS 2.6 layout. */
#define TEST_GUEST_OS_ID    UINT64_C(0x8100000000060c00)
#define BAD_HYPERCALL_CODE  UINT64_C(0x0fff)
#define TIME_REF_WAIT_US    10000

enum hv_reg { EAX, EBX, EDX, NR_REGS };

/* The registers of leaves 0x40000003 (features) and 0x40000004 (hints) */
struct hv_bits {
    uint32_t features[NR_REGS];
    uint32_t hints;
};

/* What QEMU advertises for each hv-* property (target/i386/kvm/kvm.c) */
struct hv_feature {
    const char *name;
    struct hv_bits bits;
};

#define FEAT(eax, ebx, edx, hints_)                                  \
    { .features = { [EAX] = (eax), [EBX] = (ebx), [EDX] = (edx) },      \
      .hints = (hints_) }

static const struct hv_feature hv_features[] = {
    { "relaxed", FEAT(0, 0, 0, HV_RELAXED_TIMING_RECOMMENDED) },
    { "vapic", FEAT(HV_APIC_ACCESS_AVAILABLE, 0, 0,
                    HV_APIC_ACCESS_RECOMMENDED) },
    { "time", FEAT(HV_TIME_REF_COUNT_AVAILABLE | HV_REFERENCE_TSC_AVAILABLE,
                   0, 0, 0) },
    { "crash", FEAT(0, 0, HV_GUEST_CRASH_MSR_AVAILABLE, 0) },
    { "reset", FEAT(HV_RESET_AVAILABLE, 0, 0, 0) },
    { "vpindex", FEAT(HV_VP_INDEX_AVAILABLE, 0, 0, 0) },
    { "runtime", FEAT(HV_VP_RUNTIME_AVAILABLE, 0, 0, 0) },
    { "synic", FEAT(HV_SYNIC_AVAILABLE, HV_POST_MESSAGES | HV_SIGNAL_EVENTS,
                    0, 0) },
    { "stimer", FEAT(HV_SYNTIMERS_AVAILABLE, 0, 0, 0) },
    { "frequencies", FEAT(HV_ACCESS_FREQUENCY_MSRS, 0,
                          HV_FREQUENCY_MSRS_AVAILABLE, 0) },
    { "reenlightenment", FEAT(HV_ACCESS_REENLIGHTENMENTS, 0, 0, 0) },
    { "tlbflush", FEAT(0, 0, 0, HV_REMOTE_TLB_FLUSH_RECOMMENDED |
                                HV_EX_PROCESSOR_MASKS_RECOMMENDED) },
    { "ipi", FEAT(0, 0, 0, HV_CLUSTER_IPI_RECOMMENDED |
                           HV_EX_PROCESSOR_MASKS_RECOMMENDED) },
    { "stimer-direct", FEAT(0, 0, HV_STIMER_DIRECT_MODE_AVAILABLE, 0) },
    { "xmm-input", FEAT(0, 0, HV_XMM_INPUT_AVAILABLE, 0) },
};

#define NR_HV_FEATURES (sizeof(hv_features) / sizeof(hv_features[0]))

static const char *hv_list;

static bool requested(const char *name)
{
    return list_contains(hv_list, name);
}

static struct hv_bits read_hv_bits(void)
{
    struct cpuid_regs f = cpuid(HV_CPUID_FEATURES);

    return (struct hv_bits){ { [EAX] = f.a, [EBX] = f.b, [EDX] = f.d },
                             cpuid(HV_CPUID_RECOMMENDATIONS).a };
}

/* The union of the bits of every requested feature. */
static struct hv_bits expected_bits(void)
{
    struct hv_bits e = { { 0 }, 0 };
    unsigned int i, r;

    for (i = 0; i < NR_HV_FEATURES; i++) {
        if (!requested(hv_features[i].name)) {
            continue;
        }
        for (r = 0; r < NR_REGS; r++) {
            e.features[r] |= hv_features[i].bits.features[r];
        }
        e.hints |= hv_features[i].bits.hints;
    }
    return e;
}

/* The 12-byte signature of a hypervisor leaf in EBX, ECX, EDX */
static void leaf_signature(uint32_t leaf, char sig[13])
{
    struct cpuid_regs v = cpuid(leaf);
    unsigned int i;

    memcpy(sig, &v.b, 4);
    memcpy(sig + 4, &v.c, 4);
    memcpy(sig + 8, &v.d, 4);
    sig[12] = '\0';
    for (i = 0; i < 12; i++) {
        if (sig[i] && (sig[i] < ' ' || sig[i] > '~')) {
            sig[i] = '?';
        }
    }
}

/*
 * With kvm=on QEMU moves its own leaves (KVM's, or TCG's identification)
 * behind the Hyper-V ones, to 0x40000100; with kvm=off nothing is there.
 */
static void check_second_signature(const char *want)
{
    struct cpuid_regs v = cpuid(0x40000100);
    char sig[13];

    leaf_signature(0x40000100, sig);
    if (!strcmp(want, "1")) {
        report(!memcmp(sig, "KVMKVMKVM\0\0\0", 12) ||
               !strcmp(sig, "TCGTCGTCGTCG"), "cpuid 0x40000100: KVM or TCG "
               "signature with kvm=on (got '%s', EAX=0x%x)", sig, v.a);
    } else {
        report(!v.a && !v.b && !v.c && !v.d, "cpuid 0x40000100: empty with "
               "kvm=off (0x%x 0x%x 0x%x 0x%x)", v.a, v.b, v.c, v.d);
    }
}

/*
 * QEMU's own Hyper-V on a KVM: forced on the lab's KVM (kvm-u), chosen by
 * itself on a KVM without Hyper-V (kvm-host, or kvm-nohv in the lab).
 */
static bool user_path_on_kvm(void)
{
    const char *accel = opt_get("accel");

    return accel && (!strcmp(accel, "kvm-u") || !strcmp(accel, "kvm-host") ||
                     !strcmp(accel, "kvm-nohv"));
}

static void check_hints(void)
{
    struct cpuid_regs h = cpuid(HV_CPUID_RECOMMENDATIONS);
    unsigned long spins;

    if (opt_get("spinlocks")) {
        report(opt_get_ulong("spinlocks", 0, &spins) && h.b == spins,
               "cpuid 0x40000004: EBX holds the spinlock retries %s (0x%x)",
               opt_get("spinlocks"), h.b);
    }
    if (user_path_on_kvm()) {
        report(h.a & HV_DEPRECATING_AEOI_RECOMMENDED, "cpuid 0x40000004: "
               "auto-EOI deprecated on the user path under KVM (EAX=0x%x)",
               h.a);
    } else {
        report_info("cpuid 0x40000004: EAX=0x%x, auto-EOI %s", h.a,
                    h.a & HV_DEPRECATING_AEOI_RECOMMENDED ? "deprecated" :
                    "usable");
    }
}

/*
 * hv-passthrough on the kernel path takes every leaf from
 * KVM_GET_SUPPORTED_HV_CPUID, vendor included (target/i386/kvm/kvm.c).
 */
static bool passthrough_on_kvm(void)
{
    const char *pt = opt_get("passthrough"), *accel = opt_get("accel");

    return pt && !strcmp(pt, "1") && accel && !strcmp(accel, "kvm-k");
}

static void check_signature(void)
{
    struct cpuid_regs v = cpuid(HV_CPUID_VENDOR_MAX);
    char vendor[13];

    report(cpuid(1).c & CPUID_1_ECX_HYPERVISOR,
           "cpuid: hypervisor present (CPUID.1:ECX[31])");
    memcpy(vendor, &v.b, 4);
    memcpy(vendor + 4, &v.c, 4);
    memcpy(vendor + 8, &v.d, 4);
    vendor[12] = '\0';
    report(!strcmp(vendor, "Microsoft Hv") ||
           (passthrough_on_kvm() && !strcmp(vendor, "Linux KVM Hv")),
           "cpuid 0x40000000: vendor 'Microsoft Hv' (got '%s')", vendor);
    report(v.a >= HV_CPUID_LIMITS && v.a < 0x40000100,
           "cpuid 0x40000000: max leaf 0x%x in [0x40000005, 0x400000ff]",
           v.a);
    report(cpuid(HV_CPUID_INTERFACE).a == HV_INTERFACE_SIGNATURE,
           "cpuid 0x40000001: interface 'Hv#1' (got 0x%x)",
           cpuid(HV_CPUID_INTERFACE).a);
}

/* One line per feature: all its bits set, or (strict) none left over. */
static void check_feature(const struct hv_feature *f, const struct hv_bits *got,
                          const struct hv_bits *want, bool on)
{
    bool ok = true;
    unsigned int r;

    for (r = 0; r < NR_REGS; r++) {
        uint32_t bits = f->bits.features[r];

        ok &= on ? (got->features[r] & bits) == bits
                 : !(got->features[r] & bits & ~want->features[r]);
    }
    ok &= on ? (got->hints & f->bits.hints) == f->bits.hints
             : !(got->hints & f->bits.hints & ~want->hints);
    report(ok, "cpuid 0x40000003/4: hv-%s %s (EAX=0x%x EBX=0x%x EDX=0x%x "
           "hints=0x%x)", f->name, on ? "advertised" : "absent",
           got->features[EAX], got->features[EBX], got->features[EDX],
           got->hints);
}

static bool known_feature(const char *name, size_t len)
{
    unsigned int i;

    for (i = 0; i < NR_HV_FEATURES; i++) {
        if (strlen(hv_features[i].name) == len &&
            !strncmp(hv_features[i].name, name, len)) {
            return true;
        }
    }
    return false;
}

/* A typo in the runner's hv= list must not pass as "feature absent". */
static void check_list_names(void)
{
    const char *p = hv_list;
    bool ok = true;

    while (*p) {
        size_t len = 0;

        while (p[len] && p[len] != ',') {
            len++;
        }
        if (!known_feature(p, len)) {
            report(false, "options: unknown feature '%.*s' in hv=",
                   (int)len, p);
            ok = false;
        }
        p += len + (p[len] == ',');
    }
    report(ok, "options: hv=%s names known features", hv_list);
}

static void check_features(bool strict)
{
    struct hv_bits got = read_hv_bits(), want = expected_bits();
    unsigned int i;

    report(got.features[EAX] & HV_HYPERCALL_AVAILABLE,
           "cpuid 0x40000003: hypercall MSRs advertised (EAX=0x%x)",
           got.features[EAX]);
    for (i = 0; i < NR_HV_FEATURES; i++) {
        bool on = requested(hv_features[i].name);

        if (on || strict) {
            check_feature(&hv_features[i], &got, &want, on);
        }
    }
}

struct vp_probe {
    int read_vector;
    uint64_t value;
    int write_vector;
    uint64_t after;
};

static struct vp_probe vp_probes[MAX_CPUS];

static void probe_vp_index(void *arg)
{
    struct vp_probe *p = arg;

    p->read_vector = rdmsr_safe(HV_X64_MSR_VP_INDEX, &p->value);
    /* KVM lets only the host set VP_INDEX; write the same value back */
    p->write_vector = wrmsr_safe(HV_X64_MSR_VP_INDEX, p->value);
    rdmsr_safe(HV_X64_MSR_VP_INDEX, &p->after);
}

static void check_vp_index(void)
{
    unsigned int cpu;

    for (cpu = 0; cpu < cpu_count(); cpu++) {
        struct vp_probe *p = &vp_probes[cpu];

        bool called;

        *p = (struct vp_probe){ .read_vector = -2, .write_vector = -2 };
        called = on_cpu(cpu, probe_vp_index, p);
        report(called && p->read_vector == NO_FAULT && p->value == cpu,
               "vp_index: cpu %u reads VP_INDEX %lu (vector %d)", cpu,
               p->value, p->read_vector);
        report(p->write_vector == GP_VECTOR && p->after == p->value,
               "vp_index: cpu %u guest write raises #GP (vector %d)", cpu,
               p->write_vector);
    }
}

static uint64_t read_or_fault(uint32_t msr, int *vector)
{
    uint64_t v;

    *vector = rdmsr_safe(msr, &v);
    return v;
}

/*
 * KVM patches in vmcall/vmmcall then RET (accel=kvm-k); QEMU's user path
 * traps another way, so elsewhere any filled page will do.
 */
static bool hypercall_page_filled(const uint8_t *p)
{
    const char *accel = opt_get("accel");

    return hv_hypercall_page_filled(p, accel && !strcmp(accel, "kvm-k"));
}

static void check_hypercall_page(uint8_t *page)
{
    uint64_t gpa = virt_to_phys(page), v, status;
    int vec;

    report(wrmsr_safe(HV_X64_MSR_HYPERCALL, gpa | HV_HYPERCALL_ENABLE) ==
           NO_FAULT, "hypercall: enabling the page does not fault");
    v = read_or_fault(HV_X64_MSR_HYPERCALL, &vec);
    report(vec == NO_FAULT && v == (gpa | HV_HYPERCALL_ENABLE),
           "hypercall: MSR reads back 0x%lx (want 0x%lx)", v,
           gpa | HV_HYPERCALL_ENABLE);
    report(hypercall_page_filled(page),
           "hypercall: page holds code "
           "(%02x %02x %02x %02x)", page[0], page[1], page[2], page[3]);
    if (!hypercall_page_filled(page)) {
        return;     /* calling into it would run whatever is there */
    }
    status = hv_hypercall(page, BAD_HYPERCALL_CODE, 0, 0);
    report((status & 0xffff) == HV_STATUS_INVALID_HYPERCALL_CODE,
           "hypercall: code 0x%lx returns HV_STATUS_INVALID_HYPERCALL_CODE "
           "(got 0x%lx)", BAD_HYPERCALL_CODE, status);
}

static void read_hypercall_msr(void *arg)
{
    uint64_t *v = arg;

    rdmsr_safe(HV_X64_MSR_HYPERCALL, v);
}

static void check_guest_os_id_and_hypercall(void)
{
    uint8_t *page = alloc_page();
    uint64_t v, other = 0;
    int vec;

    if (!report(page != NULL, "hypercall: page allocated")) {
        return;
    }
    v = read_or_fault(HV_X64_MSR_GUEST_OS_ID, &vec);
    report(vec == NO_FAULT && v == 0,
           "guest_os_id: 0 at start (0x%lx, vector %d)", v, vec);
    /* TLFS 3.13: the hypercall page stays off until a guest OS ID is set */
    wrmsr_safe(HV_X64_MSR_HYPERCALL, virt_to_phys(page) | HV_HYPERCALL_ENABLE);
    v = read_or_fault(HV_X64_MSR_HYPERCALL, &vec);
    report(vec == NO_FAULT && !(v & HV_HYPERCALL_ENABLE),
           "hypercall: enable ignored while GUEST_OS_ID is 0 (0x%lx)", v);

    report(wrmsr_safe(HV_X64_MSR_GUEST_OS_ID, TEST_GUEST_OS_ID) == NO_FAULT,
           "guest_os_id: write does not fault");
    v = read_or_fault(HV_X64_MSR_GUEST_OS_ID, &vec);
    report(vec == NO_FAULT && v == TEST_GUEST_OS_ID,
           "guest_os_id: write 0x%lx reads back 0x%lx", TEST_GUEST_OS_ID, v);

    check_hypercall_page(page);
    if (cpu_count() > 1) {
        bool called = on_cpu(1, read_hypercall_msr, &other);

        report(called && other == (virt_to_phys(page) | HV_HYPERCALL_ENABLE),
               "hypercall: MSR is partition-wide (cpu 1 reads 0x%lx)", other);
    }
}

static void check_time_ref_count(void)
{
    uint64_t t0, t1;
    int v0, v1;

    t0 = read_or_fault(HV_X64_MSR_TIME_REF_COUNT, &v0);
    udelay(TIME_REF_WAIT_US);
    t1 = read_or_fault(HV_X64_MSR_TIME_REF_COUNT, &v1);
    report(v0 == NO_FAULT && v1 == NO_FAULT && t1 > t0,
           "time: TIME_REF_COUNT advances over %u us (%lu -> %lu)",
           TIME_REF_WAIT_US, t0, t1);
}

static void check_feature_msrs(void)
{
    uint64_t v;
    int vec;

    if (requested("time")) {
        check_time_ref_count();
    }
    if (requested("runtime")) {
        vec = rdmsr_safe(HV_X64_MSR_VP_RUNTIME, &v);
        report(vec == NO_FAULT, "runtime: VP_RUNTIME readable (vector %d)",
               vec);
    }
    if (requested("synic")) {
        v = read_or_fault(HV_X64_MSR_SVERSION, &vec);
        report(vec == NO_FAULT && v == HV_SYNIC_VERSION,
               "synic: SVERSION is %d (got 0x%lx, vector %d)",
               HV_SYNIC_VERSION, v, vec);
    }
}

static void hyperv_cpuid(void)
{
    const char *strict = opt_get("hv-strict");

    hv_list = opt_get("hv");
    if (!hv_list) {
        report(false, "options: hv=<features> is required");
        return;
    }
    check_list_names();
    check_signature();
    if (opt_get("kvm-sig")) {
        check_second_signature(opt_get("kvm-sig"));
    }
    check_features(strict && !strcmp(strict, "1"));
    check_hints();
    if (requested("vpindex")) {
        check_vp_index();
    }
    check_guest_os_id_and_hypercall();
    check_feature_msrs();
}

DEFINE_SUITE("hyperv-cpuid", hyperv_cpuid);
