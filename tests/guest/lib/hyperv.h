/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Hyper-V interface constants the guest tests use, from the Hypervisor
 * Top Level Functional Specification (TLFS) v6.0b: CPUID leaves (section
 * 2.4), synthetic MSRs (appendix "Hypervisor Synthetic MSRs") and
 * hypercall status codes.
 */
#ifndef GUEST_HYPERV_H
#define GUEST_HYPERV_H

#include <stdint.h>

/* CPUID leaves */
#define HV_CPUID_VENDOR_MAX         0x40000000
#define HV_CPUID_INTERFACE          0x40000001
#define HV_CPUID_VERSION            0x40000002
#define HV_CPUID_FEATURES           0x40000003
#define HV_CPUID_RECOMMENDATIONS    0x40000004
#define HV_CPUID_LIMITS             0x40000005

/* "Hv#1" in EAX of HV_CPUID_INTERFACE */
#define HV_INTERFACE_SIGNATURE      0x31237648

/* HV_CPUID_FEATURES.EAX: partition privileges, MSR access */
#define HV_VP_RUNTIME_AVAILABLE         (1u << 0)
#define HV_TIME_REF_COUNT_AVAILABLE     (1u << 1)
#define HV_SYNIC_AVAILABLE              (1u << 2)
#define HV_SYNTIMERS_AVAILABLE          (1u << 3)
#define HV_APIC_ACCESS_AVAILABLE        (1u << 4)
#define HV_HYPERCALL_AVAILABLE          (1u << 5)
#define HV_VP_INDEX_AVAILABLE           (1u << 6)
#define HV_RESET_AVAILABLE              (1u << 7)
#define HV_REFERENCE_TSC_AVAILABLE      (1u << 9)
#define HV_ACCESS_FREQUENCY_MSRS        (1u << 11)
#define HV_ACCESS_REENLIGHTENMENTS      (1u << 13)

/* HV_CPUID_FEATURES.EBX: partition privileges, hypercalls */
#define HV_POST_MESSAGES                (1u << 4)
#define HV_SIGNAL_EVENTS                (1u << 5)

/* HV_CPUID_FEATURES.EDX: other features */
#define HV_FREQUENCY_MSRS_AVAILABLE     (1u << 8)
#define HV_GUEST_CRASH_MSR_AVAILABLE    (1u << 10)
#define HV_STIMER_DIRECT_MODE_AVAILABLE (1u << 19)

/* HV_CPUID_RECOMMENDATIONS.EAX */
#define HV_REMOTE_TLB_FLUSH_RECOMMENDED (1u << 2)
#define HV_APIC_ACCESS_RECOMMENDED      (1u << 3)
#define HV_RELAXED_TIMING_RECOMMENDED   (1u << 5)
#define HV_DEPRECATING_AEOI_RECOMMENDED (1u << 9)
#define HV_CLUSTER_IPI_RECOMMENDED      (1u << 10)
#define HV_EX_PROCESSOR_MASKS_RECOMMENDED (1u << 11)

/* Synthetic MSRs */
#define HV_X64_MSR_GUEST_OS_ID      0x40000000
#define HV_X64_MSR_HYPERCALL        0x40000001
#define HV_X64_MSR_VP_INDEX         0x40000002
#define HV_X64_MSR_RESET            0x40000003
#define HV_X64_MSR_VP_RUNTIME       0x40000010
#define HV_X64_MSR_TIME_REF_COUNT   0x40000020
#define HV_X64_MSR_REFERENCE_TSC    0x40000021
#define HV_X64_MSR_SCONTROL         0x40000080
#define HV_X64_MSR_SVERSION         0x40000081
#define HV_X64_MSR_SIEFP            0x40000082
#define HV_X64_MSR_SIMP             0x40000083
#define HV_X64_MSR_EOM              0x40000084
#define HV_X64_MSR_SINT0            0x40000090

#define HV_HYPERCALL_ENABLE         (UINT64_C(1) << 0)
#define HV_SYNIC_VERSION            1

/* Hypercall result (low 16 bits of RAX) */
#define HV_STATUS_SUCCESS               0
#define HV_STATUS_INVALID_HYPERCALL_CODE 2
#define HV_STATUS_INVALID_HYPERCALL_INPUT 3

/*
 * Call the hypercall page: RCX = control, RDX = input GPA, R8 = output
 * GPA; the status comes back in RAX.  The page may clobber the
 * caller-saved registers like any call.
 */
static inline uint64_t hv_hypercall(void *page, uint64_t control,
                                    uint64_t input, uint64_t output)
{
    uint64_t status;
    register uint64_t r8 asm("r8") = output;

    asm volatile("call *%[page]"
                 : "=a"(status), "+c"(control), "+d"(input), "+r"(r8)
                 : [page] "r"(page)
                 : "memory", "rsi", "rdi", "r9", "r10", "r11", "cc");
    return status;
}

#endif /* GUEST_HYPERV_H */
