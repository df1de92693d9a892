// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * suite=xen-msr: KVM's Xen emulation (-accel kvm,xen-version=...) next to
 * QEMU's or KVM's Hyper-V.  The Xen leaves name a hypercall MSR (leaf
 * base + 2, EBX): 0x40000000 without Hyper-V, 0x40000200 above the
 * Hyper-V MSRs with it.  Writing a page's GPA there must make KVM fill the
 * page with Xen's hypercall stubs; with Hyper-V on, its MSRs work too.
 * (The user path used to claim 0x40000000-0x400001ff for itself on any
 * KVM without in-kernel Hyper-V, hv-* options or not: Xen's MSR raised
 * #GP.)
 *
 * Options:
 *   hv=1    the vCPU has hv-* options
 *
 * Xen emulation needs a KVM with KVM_CAP_XEN_HVM (CONFIG_KVM_XEN), which
 * neither our hosts nor the nested lab's Debian 12 kernel have: the cases
 * carry the tag "xen" and run by hand (GUEST_RUN_TAGS=xen).  Without Xen
 * nothing tells QEMU's filter from KVM's own answer at 0x40000000 (KVM
 * refuses the Hyper-V MSRs of a guest whose CPUID has no Hyper-V too).
 */
#include <stdint.h>

#include "lib/alloc.h"
#include "lib/boot.h"
#include "lib/fault.h"
#include "lib/hyperv.h"
#include "lib/report.h"
#include "lib/string.h"
#include "lib/x86.h"
#include "suites/suite.h"

#define XEN_HCALL_MSR           0x40000000u
#define XEN_HCALL_MSR_HYPERV    0x40000200u
#define MOV_IMM32_EAX           0xb8    /* how each of Xen's stubs starts */
#define OS_ID                   UINT64_C(0x8100000000001234)

/* The base of the Xen leaves ("XenVMMXenVMM"), or 0. */
static uint32_t xen_base(void)
{
    static const char sig[] = "XenVMMXenVMM";
    uint32_t base, regs[3];

    for (base = 0x40000000; base < 0x40010000; base += 0x100) {
        struct cpuid_regs r = cpuid(base);

        regs[0] = r.b;
        regs[1] = r.c;
        regs[2] = r.d;
        if (!memcmp(regs, sig, sizeof(regs))) {
            return base;
        }
    }
    return 0;
}

static void hyperv_still_works(void)
{
    uint64_t v = 0;

    report(wrmsr_safe(HV_X64_MSR_GUEST_OS_ID, OS_ID) == NO_FAULT &&
           rdmsr_safe(HV_X64_MSR_GUEST_OS_ID, &v) == NO_FAULT && v == OS_ID,
           "xen: Hyper-V's GUEST_OS_ID still works (read 0x%lx)", v);
    wrmsr_safe(HV_X64_MSR_GUEST_OS_ID, 0);
}

static void xen_msr(void)
{
    unsigned long hv = 0;
    uint32_t base, msr, want;
    uint8_t *page;
    int vec;

    opt_get_ulong("hv", 0, &hv);
    want = hv ? XEN_HCALL_MSR_HYPERV : XEN_HCALL_MSR;
    base = xen_base();
    if (!report(base != 0, "xen: the Xen leaves are there (base 0x%x)",
                base)) {
        return;
    }
    msr = cpuid(base + 2).b;
    report(msr == want, "xen: the hypercall MSR is 0x%x (want 0x%x)", msr,
           want);
    page = alloc_page();
    if (!report(page != NULL, "xen: page allocated")) {
        return;
    }
    memset(page, 0, PAGE_SIZE);
    vec = wrmsr_safe(msr, virt_to_phys(page));
    report(vec == NO_FAULT, "xen: the hypercall MSR 0x%x takes a page "
           "(vector %d)", msr, vec);
    report(page[0] == MOV_IMM32_EAX, "xen: KVM filled the hypercall page "
           "(first byte 0x%x, want 0x%x)", page[0], MOV_IMM32_EAX);
    if (hv) {
        hyperv_still_works();
    }
    free_page(page);
}

DEFINE_SUITE("xen-msr", xen_msr);
