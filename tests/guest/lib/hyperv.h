/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Hyper-V interface constants the guest tests use, from the Hypervisor
 * Top Level Functional Specification (TLFS) v6.0b: CPUID leaves (section
 * 2.4), synthetic MSRs (appendix "Hypervisor Synthetic MSRs") and
 * hypercall status codes.
 */
#ifndef GUEST_HYPERV_H
#define GUEST_HYPERV_H

#include <stdbool.h>
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
#define HV_XMM_INPUT_AVAILABLE          (1u << 4)
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

#define HV_X64_MSR_SINT(n)          (HV_X64_MSR_SINT0 + (n))

#define HV_X64_MSR_TSC_FREQUENCY    0x40000022
#define HV_X64_MSR_APIC_FREQUENCY   0x40000023
#define HV_X64_MSR_STIMER0_CONFIG   0x400000b0
#define HV_X64_MSR_STIMER0_COUNT    0x400000b1
#define HV_X64_MSR_CRASH_P0         0x40000100
#define HV_X64_MSR_CRASH_CTL        0x40000105

/* Each timer has a CONFIG and a COUNT MSR, in that order (TLFS 12.4) */
#define HV_X64_MSR_STIMER_CONFIG(n) (HV_X64_MSR_STIMER0_CONFIG + 2 * (n))
#define HV_X64_MSR_STIMER_COUNT(n)  (HV_X64_MSR_STIMER0_COUNT + 2 * (n))
#define HV_X64_MSR_CRASH_P(n)       (HV_X64_MSR_CRASH_P0 + (n))

#define HV_STIMER_COUNT             4
#define HV_CRASH_PARAMS             5

/* STIMERx_CONFIG fields (TLFS 12.4.1) */
#define HV_STIMER_ENABLE            (UINT64_C(1) << 0)
#define HV_STIMER_PERIODIC          (UINT64_C(1) << 1)
#define HV_STIMER_LAZY              (UINT64_C(1) << 2)
#define HV_STIMER_AUTO_ENABLE       (UINT64_C(1) << 3)
#define HV_STIMER_APIC_VECTOR(v)    ((uint64_t)(v) << 4)
#define HV_STIMER_DIRECT_MODE       (UINT64_C(1) << 12)
#define HV_STIMER_SINTX(s)          ((uint64_t)(s) << 16)

/* HV_X64_MSR_CRASH_CTL: bit 63 asks the host to collect crash data */
#define HV_CRASH_CTL_CRASH_NOTIFY   (UINT64_C(1) << 63)

/* REFERENCE_TSC: enable bit and the page's GPA in bits 12-63 */
#define HV_REFERENCE_TSC_ENABLE     (UINT64_C(1) << 0)

/* The reference TSC page (TLFS 12.7.2); ref = (tsc * scale >> 64) + offset */
struct hv_tsc_page {
    uint32_t sequence;          /* 0: invalid, use TIME_REF_COUNT */
    uint32_t reserved1;
    uint64_t scale;
    int64_t offset;
} __attribute__((packed));

/* The synthetic timer message (TLFS 12.4.3) */
#define HVMSG_TIMER_EXPIRED         0x80000010u

struct hv_timer_message_payload {
    uint32_t timer_index;
    uint32_t reserved;
    uint64_t expiration_time;   /* reference time units (100 ns) */
    uint64_t delivery_time;
} __attribute__((packed));

#define HV_HYPERCALL_ENABLE         (UINT64_C(1) << 0)
#define HV_SYNIC_VERSION            1

/* SynIC MSR fields (TLFS 11.8): the rest of each MSR is RsvdP */
#define HV_SCONTROL_ENABLE          (UINT64_C(1) << 0)
#define HV_SIMP_ENABLE              (UINT64_C(1) << 0)
#define HV_SIEFP_ENABLE             (UINT64_C(1) << 0)
#define HV_SINT_VECTOR_MASK         UINT64_C(0xff)
#define HV_SINT_MASKED              (UINT64_C(1) << 16)
#define HV_SINT_AUTO_EOI            (UINT64_C(1) << 17)
#define HV_SINT_POLLING             (UINT64_C(1) << 18)
#define HV_SINT_FIRST_VECTOR        16  /* vectors 0-15 are not allowed */

#define HV_SINT_COUNT               16

/* Hypercall result (low 16 bits of RAX), TLFS appendix "Status codes" */
#define HV_STATUS_SUCCESS               0
#define HV_STATUS_INVALID_HYPERCALL_CODE 2
#define HV_STATUS_INVALID_HYPERCALL_INPUT 3
#define HV_STATUS_INVALID_ALIGNMENT     4
#define HV_STATUS_INVALID_PARAMETER     5
#define HV_STATUS_ACCESS_DENIED         6
#define HV_STATUS_INSUFFICIENT_MEMORY   0x0b
#define HV_STATUS_INVALID_VP_INDEX      0x0e
#define HV_STATUS_INVALID_PORT_ID       0x11
#define HV_STATUS_INVALID_CONNECTION_ID 0x12
#define HV_STATUS_INSUFFICIENT_BUFFERS  0x13
#define HV_STATUS_INVALID_SYNIC_STATE   0x18
#define HV_STATUS_MASK                  0xffff

/* Hypercall input value (RCX) */
#define HVCALL_POST_MESSAGE         0x005c
#define HVCALL_SIGNAL_EVENT         0x005d
#define HV_HYPERCALL_FAST           (UINT64_C(1) << 16)
#define HV_HYPERCALL_REP_COUNT(n)   ((uint64_t)(n) << 32)

/* Connection IDs are 24 bits; the top byte of the 32-bit field is RsvdZ */
#define HV_CONNECTION_ID_MASK       0x00ffffffu

/* HvSignalEvent input (one 64-bit word): id, flag number, RsvdZ */
#define HV_SIGNAL_EVENT_INPUT(conn, flag) \
    ((uint64_t)(conn) | (uint64_t)(uint16_t)(flag) << 32)

/*
 * The SynIC message page (SIMP): one 256-byte slot per SINT (TLFS
 * 11.9).  The host fills an empty slot (message_type 0); the guest
 * empties it and, when msg_pending was set, writes EOM.
 */
#define HV_MESSAGE_PAYLOAD_SIZE     240
#define HV_MESSAGE_NONE             0
#define HV_MESSAGE_FLAG_PENDING     0x01
/* message types with the top bit set are the hypervisor's own */
#define HV_MESSAGE_TYPE_HYPERVISOR  0x80000000u

struct hv_message_header {
    uint32_t message_type;
    uint8_t payload_size;
    uint8_t message_flags;
    uint8_t reserved[2];
    uint64_t sender;            /* port or connection ID */
} __attribute__((packed));

struct hv_message {
    struct hv_message_header header;
    uint8_t payload[HV_MESSAGE_PAYLOAD_SIZE];
} __attribute__((packed));

struct hv_message_page {
    struct hv_message slot[HV_SINT_COUNT];
};

/* The event flag page (SIEFP): 2048 flags per SINT (TLFS 11.10) */
#define HV_EVENT_FLAGS_COUNT        2048
#define HV_EVENT_FLAGS_WORDS        (HV_EVENT_FLAGS_COUNT / 64)

struct hv_event_flags_page {
    uint64_t slot[HV_SINT_COUNT][HV_EVENT_FLAGS_WORDS];
};

/* HvPostMessage input (TLFS "HvCallPostMessage") */
struct hv_post_message_input {
    uint32_t connection_id;
    uint32_t reserved;
    uint32_t message_type;
    uint32_t payload_size;
    uint8_t payload[HV_MESSAGE_PAYLOAD_SIZE];
} __attribute__((packed));

_Static_assert(sizeof(struct hv_message) == 256, "hv_message size");
_Static_assert(sizeof(struct hv_message_page) == 4096, "SIMP page size");
_Static_assert(sizeof(struct hv_event_flags_page) == 4096, "SIEFP size");
_Static_assert(sizeof(struct hv_post_message_input) == 256,
               "HvPostMessage input size");

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

/*
 * The same call from 32-bit compatibility mode (lib/hcall32.S), with the
 * TLFS 32-bit convention: EDX:EAX = control, EBX:ECX = input GPA,
 * EDI:ESI = output GPA, the result in EDX:EAX.  page must lie below
 * 4 GiB (every page of the guest does).  Not reentrant across vCPUs that
 * use different pages: the page address is a global.
 */
uint64_t hv_hypercall32(void *page, uint64_t control, uint64_t input,
                        uint64_t output);

/*
 * Whether a hypercall page holds code: the kernel path writes
 * vmcall/vmmcall then RET; other hypervisors (QEMU's user path) may trap
 * differently, so accept any page that is not empty and has a RET among
 * its first bytes.  strict: the kernel path's exact sequence.
 */
bool hv_hypercall_page_filled(const uint8_t *p, bool strict);

/*
 * One consistent read of a reference TSC page (TLFS: sequence, scale,
 * offset and the TSC, then the sequence again): the reference time, or
 * false when the sequence is 0 (the guest must read TIME_REF_COUNT) or
 * keeps changing.
 */
bool hv_tsc_page_read(const volatile struct hv_tsc_page *p, uint64_t *ref);

/*
 * TIME_REF_COUNT (which must exist) and the TSC at one moment: the MSR
 * read is bracketed by two TSC reads and the tightest of several tries
 * wins, so that a vCPU stalled during one read (the nested lab stalls
 * for milliseconds) does not skew a rate measured from two samples.
 */
void hv_ref_and_tsc(uint64_t *ref, uint64_t *tsc);

/*
 * lib/hyperv.c: the hypercall page (partition-wide, set up once) and the
 * two SynIC hypercalls.  Each vCPU posts from an input page of its own.
 */

/* Any non-zero value will do; this one follows the TLFS 2.6 layout. */
#define HV_TEST_GUEST_OS_ID         UINT64_C(0x8100000000060c00)

/* Set GUEST_OS_ID and enable the hypercall page; false if it stays empty */
bool hv_hypercall_setup(void);
void *hv_hypercall_page(void);

/* Raw call through the page: the whole RAX comes back */
uint64_t hv_call(uint64_t control, uint64_t input, uint64_t output);

/*
 * A fast call with XMM input (TLFS "XMM fast hypercalls"): RDX and R8 as
 * for hv_call(), then @xmm[0..11] in XMM0 to XMM5, the low half of each
 * first.  Needs sse_enable() on the calling vCPU.
 */
uint64_t hv_call_xmm(uint64_t control, uint64_t input, uint64_t output,
                     const uint64_t xmm[12]);

/* This vCPU's HvPostMessage input page (allocated on first use) */
struct hv_post_message_input *hv_post_input(void);

/* HvPostMessage with this vCPU's input page; returns the status */
uint16_t hv_post_message(uint32_t conn, uint32_t type, const void *payload,
                         uint32_t size);

/*
 * The same, retried (bounded) while the connection answers
 * HV_STATUS_INSUFFICIENT_BUFFERS: the previous message of the connection
 * may still be on its way (TLFS: the caller retries later).
 */
uint16_t hv_post_message_retry(uint32_t conn, uint32_t type,
                               const void *payload, uint32_t size);

/* HvSignalEvent, register (fast) or memory form; returns the status */
uint16_t hv_signal_event(uint32_t conn, uint16_t flag);
uint16_t hv_signal_event_slow(uint32_t conn, uint16_t flag);

#endif /* GUEST_HYPERV_H */
