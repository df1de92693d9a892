/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The names and layouts this interface keeps from upstream QEMU's header
 * of the same name: Copyright (c) 2017-2018 Virtuozzo International GmbH.
 *
 * Hyper-V wire formats shared by the SynIC, VMBus and the synthetic
 * debugger: hypercall codes and statuses, message and event-flag pages,
 * hypercall inputs.  Facts from the Hyper-V Top-Level Functional
 * Specification (TLFS); no logic lives here.
 */

#ifndef HW_HYPERV_HYPERV_PROTO_H
#define HW_HYPERV_HYPERV_PROTO_H

#include "qemu/bitmap.h"

/* Hypercall result codes (TLFS "Hypercall Status Codes"). */
enum {
    HV_STATUS_SUCCESS = 0x0000,
    HV_STATUS_INVALID_HYPERCALL_CODE = 0x0002,
    HV_STATUS_INVALID_HYPERCALL_INPUT = 0x0003,
    HV_STATUS_INVALID_ALIGNMENT = 0x0004,
    HV_STATUS_INVALID_PARAMETER = 0x0005,
    HV_STATUS_ACCESS_DENIED = 0x0006,
    HV_STATUS_INSUFFICIENT_MEMORY = 0x000b,
    HV_STATUS_INVALID_PORT_ID = 0x0011,
    HV_STATUS_INVALID_CONNECTION_ID = 0x0012,
    HV_STATUS_INSUFFICIENT_BUFFERS = 0x0013,
    HV_STATUS_NOT_ACKNOWLEDGED = 0x0014,
    HV_STATUS_NO_DATA = 0x001b,
};

/* Hypercall call codes handled by QEMU (on the user path, all of them). */
enum {
    HV_FLUSH_VIRTUAL_ADDRESS_SPACE = 0x0002,
    HV_FLUSH_VIRTUAL_ADDRESS_LIST = 0x0003,
    HV_NOTIFY_LONG_SPIN_WAIT = 0x0008,
    HV_SEND_SYNTHETIC_CLUSTER_IPI = 0x000b,
    HV_FLUSH_VIRTUAL_ADDRESS_SPACE_EX = 0x0013,
    HV_FLUSH_VIRTUAL_ADDRESS_LIST_EX = 0x0014,
    HV_SEND_SYNTHETIC_CLUSTER_IPI_EX = 0x0015,
    HV_POST_MESSAGE = 0x005c,
    HV_SIGNAL_EVENT = 0x005d,
    HV_POST_DEBUG_DATA = 0x0069,
    HV_RETRIEVE_DEBUG_DATA = 0x006a,
    HV_RESET_DEBUG_SESSION = 0x006b,
};

/* Bit 16 of the hypercall input value: parameters passed in registers. */
#define HV_HYPERCALL_FAST (1u << 16)

/*
 * The rest of the hypercall input value (TLFS 3.7): call code in bits
 * 0-15, variable header size in 17-26, rep count in 32-43, rep start
 * index in 48-59; bits 27-31, 44-47 and 60-63 are reserved.  The result
 * value has the status in bits 0-15 and the reps completed in 32-43.
 */
#define HV_HYPERCALL_CODE_MASK      0xffffull
#define HV_HYPERCALL_VARHEAD_MASK   (0x3ffull << 17)
#define HV_HYPERCALL_REP_COUNT_MASK (0xfffull << 32)
#define HV_HYPERCALL_REP_START_MASK (0xfffull << 48)
#define HV_HYPERCALL_RSVD_MASK      ((0x1full << 27) | (0xfull << 44) | \
                                     (0xfull << 60))
#define HV_HYPERCALL_VARHEAD_SHIFT  17
#define HV_HYPERCALL_REP_COUNT_SHIFT 32
#define HV_HYPERCALL_REP_START_SHIFT 48
#define HV_HYPERCALL_REP_DONE_SHIFT 32

/*
 * A set of virtual processors in the "Ex" hypercalls (the TLFS's
 * HV_VP_SET): a format, a mask of the 64-VP banks present, and then, in
 * the variable header, one 64-bit mask per bank present, lowest first.
 */
#define HV_GENERIC_SET_SPARSE_4K    0
#define HV_GENERIC_SET_ALL          1
#define HV_VP_SET_BANK_COUNT        64

/* The flags of HvCallFlushVirtualAddressSpace and ...List. */
#define HV_FLUSH_ALL_PROCESSORS                 (1ull << 0)
#define HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES     (1ull << 1)
#define HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY       (1ull << 2)
#define HV_FLUSH_USE_EXTENDED_RANGE_FORMAT      (1ull << 3)

/* The fixed headers of the IPI and flush hypercalls' inputs. */
struct hyperv_send_ipi_input {
    uint32_t vector;
    uint32_t _reserved;
    uint64_t cpu_mask;
} QEMU_PACKED;

struct hyperv_send_ipi_ex_input {
    uint32_t vector;
    uint32_t _reserved;
    uint64_t format;
    uint64_t valid_bank_mask;
} QEMU_PACKED;

struct hyperv_flush_input {
    uint64_t address_space;
    uint64_t flags;
    uint64_t processor_mask;
} QEMU_PACKED;

struct hyperv_flush_ex_input {
    uint64_t address_space;
    uint64_t flags;
    uint64_t format;
    uint64_t valid_bank_mask;
} QEMU_PACKED;

/*
 * SynIC geometry: 16 synthetic interrupt sources per virtual processor,
 * each with one 256-byte message slot in the message page (SIMP) and one
 * 2048-bit area in the event-flag page (SIEFP).
 */
#define HV_PAGE_SIZE 4096
#define HV_SINT_COUNT 16
#define HV_MESSAGE_PAYLOAD_SIZE 240
#define HV_EVENT_FLAGS_COUNT 2048

/*
 * Message types.  Bit 31 set marks types that only the hypervisor may
 * send; guests posting those with HvPostMessage get an error.
 */
enum {
    HV_MESSAGE_NONE = 0x00000000,
    HV_MESSAGE_VMBUS = 0x00000001,
    HV_MESSAGE_UNMAPPED_GPA = 0x80000000,
    HV_MESSAGE_GPA_INTERCEPT = 0x80000001,
    HV_MESSAGE_TIMER_EXPIRED = 0x80000010,
    HV_MESSAGE_INVALID_VP_REGISTER_VALUE = 0x80000020,
    HV_MESSAGE_UNRECOVERABLE_EXCEPTION = 0x80000021,
    HV_MESSAGE_UNSUPPORTED_FEATURE = 0x80000022,
    HV_MESSAGE_EVENTLOG_BUFFERCOMPLETE = 0x80000040,
    HV_MESSAGE_X64_IOPORT_INTERCEPT = 0x80010000,
    HV_MESSAGE_X64_MSR_INTERCEPT = 0x80010001,
    HV_MESSAGE_X64_CPUID_INTERCEPT = 0x80010002,
    HV_MESSAGE_X64_EXCEPTION_INTERCEPT = 0x80010003,
    HV_MESSAGE_X64_APIC_EOI = 0x80010004,
    HV_MESSAGE_X64_LEGACY_FP_ERROR = 0x80010005,
};
#define HV_MESSAGE_TYPE_HYPERVISOR_ONLY 0x80000000u

/* message_flags: another message waits for this slot; write EOM when done. */
#define HV_MESSAGE_FLAG_PENDING 0x1

/* Connection IDs are 24 bits wide; the top byte is reserved. */
#define HV_CONNECTION_ID_MASK 0x00ffffff

/* Synthetic debugger MSRs and options (used by hv-syndbg). */
#define HV_X64_MSR_SYNDBG_CONTROL 0x400000f1
#define HV_X64_MSR_SYNDBG_STATUS 0x400000f2
#define HV_X64_MSR_SYNDBG_SEND_BUFFER 0x400000f3
#define HV_X64_MSR_SYNDBG_RECV_BUFFER 0x400000f4
#define HV_X64_MSR_SYNDBG_PENDING_BUFFER 0x400000f5
#define HV_X64_MSR_SYNDBG_OPTIONS 0x400000ff
#define HV_X64_SYNDBG_OPTION_USE_HCALLS BIT(2)

/*
 * The message structures are laid out naturally, with no padding (the
 * size and offset checks below pin that): they are not packed because the
 * SynIC updates message_type and message_flags of a slot atomically, which
 * needs the members' natural alignment.
 */

/* Input of HvPostMessage (TLFS: HV_INPUT_POST_MESSAGE), 256 bytes. */
struct hyperv_post_message_input {
    uint32_t connection_id;
    uint32_t _reserved;         /* must be zero */
    uint32_t message_type;
    uint32_t payload_size;      /* bytes, at most HV_MESSAGE_PAYLOAD_SIZE */
    uint8_t payload[HV_MESSAGE_PAYLOAD_SIZE];
};
QEMU_BUILD_BUG_ON(sizeof(struct hyperv_post_message_input) != 256);
QEMU_BUILD_BUG_ON(offsetof(struct hyperv_post_message_input, payload) != 16);

/* Input of HvSignalEvent (TLFS: HV_INPUT_SIGNAL_EVENT), one quadword. */
struct hyperv_signal_event_input {
    uint32_t connection_id;
    uint16_t flag_number;
    uint16_t _reserved_zero;
};
QEMU_BUILD_BUG_ON(sizeof(struct hyperv_signal_event_input) != 8);

/* A message slot of the SIMP page (TLFS: HV_MESSAGE). */
struct hyperv_message_header {
    uint32_t message_type;      /* HV_MESSAGE_NONE: the slot is free */
    uint8_t payload_size;
    uint8_t message_flags;      /* HV_MESSAGE_FLAG_* */
    uint8_t _reserved[2];
    uint64_t sender;            /* port or partition ID; zero from QEMU */
};
QEMU_BUILD_BUG_ON(sizeof(struct hyperv_message_header) != 16);
QEMU_BUILD_BUG_ON(offsetof(struct hyperv_message_header, sender) != 8);

struct hyperv_message {
    struct hyperv_message_header header;
    uint8_t payload[HV_MESSAGE_PAYLOAD_SIZE];
};
QEMU_BUILD_BUG_ON(sizeof(struct hyperv_message) != 256);

struct hyperv_message_page {
    struct hyperv_message slot[HV_SINT_COUNT];
};
QEMU_BUILD_BUG_ON(sizeof(struct hyperv_message_page) != 4096);

/* One SINT's 2048 event flags in the SIEFP page, as little-endian bits. */
struct hyperv_event_flags {
    DECLARE_BITMAP(flags, HV_EVENT_FLAGS_COUNT);
};
QEMU_BUILD_BUG_ON(sizeof(struct hyperv_event_flags) != 256);

struct hyperv_event_flags_page {
    struct hyperv_event_flags slot[HV_SINT_COUNT];
};
QEMU_BUILD_BUG_ON(sizeof(struct hyperv_event_flags_page) != 4096);

/*
 * Synthetic debugger hypercalls (HvPostDebugData, HvRetrieveDebugData,
 * HvResetDebugSession): inputs and outputs, and their option bits.
 */
enum {
    HV_DEBUG_PURGE_INCOMING_DATA = 1 << 0,    /* HvResetDebugSession */
    HV_DEBUG_PURGE_OUTGOING_DATA = 1 << 1,
    HV_DEBUG_POST_LOOP = 1 << 0,              /* HvPostDebugData */
    HV_DEBUG_RETRIEVE_LOOP = 1 << 0,          /* HvRetrieveDebugData */
    HV_DEBUG_RETRIEVE_TEST_ACTIVITY = 1 << 1,
};

struct hyperv_reset_debug_session_input {
    uint32_t options;
} QEMU_PACKED;

struct hyperv_reset_debug_session_output {
    uint32_t host_ip;
    uint32_t target_ip;
    uint16_t host_port;
    uint16_t target_port;
    uint8_t host_mac[6];
    uint8_t target_mac[6];
} QEMU_PACKED;
QEMU_BUILD_BUG_ON(sizeof(struct hyperv_reset_debug_session_output) != 24);

/* The data to send follows this header in the same page. */
struct hyperv_post_debug_data_input {
    uint32_t count;
    uint32_t options;
} QEMU_PACKED;

struct hyperv_post_debug_data_output {
    uint32_t pending_count;
} QEMU_PACKED;

struct hyperv_retrieve_debug_data_input {
    uint32_t count;
    uint32_t options;
    uint64_t timeout;
} QEMU_PACKED;

/* The received data follows this header in the same page. */
struct hyperv_retrieve_debug_data_output {
    uint32_t retrieved_count;
    uint32_t remaining_count;
} QEMU_PACKED;

/*
 * --- Reference time and synthetic timers (TLFS "Timers") ---------------
 *
 * Reference time counts 100 ns units since the partition was created.
 * All multi-byte fields below are little-endian in guest memory.
 */
#define HV_REF_TIME_HZ 10000000ull

/* REFERENCE_TSC MSR: bit 0 enables the page, bits 12-63 are its GPA. */
#define HV_REFERENCE_TSC_ENABLE         0x1ull
#define HV_REFERENCE_TSC_RESERVED       0xffeull
#define HV_REFERENCE_TSC_GPA_MASK       (~0xfffull)

/*
 * A page with sequence 0 is not valid and tells the guest to read the
 * TIME_REF_COUNT MSR instead; 0xffffffff was the invalid marker of early
 * TLFS versions, so a valid sequence is neither.
 */
#define HV_REFERENCE_TSC_SEQ_INVALID    0u
#define HV_REFERENCE_TSC_SEQ_OLD_INVALID 0xffffffffu

/*
 * The reference TSC page (HV_REFERENCE_TSC_PAGE):
 *   reference time = ((guest TSC * tsc_scale) >> 64) + tsc_offset
 */
struct hyperv_reference_tsc_page {
    uint32_t tsc_sequence;
    uint32_t _reserved1;
    uint64_t tsc_scale;
    int64_t tsc_offset;
    uint64_t _reserved2[509];
};
QEMU_BUILD_BUG_ON(sizeof(struct hyperv_reference_tsc_page) != HV_PAGE_SIZE);
QEMU_BUILD_BUG_ON(offsetof(struct hyperv_reference_tsc_page, tsc_scale) != 8);
QEMU_BUILD_BUG_ON(offsetof(struct hyperv_reference_tsc_page, tsc_offset) != 16);

/* STIMERx_CONFIG (HV_X64_MSR_STIMER_CONFIG_CONTENTS). */
#define HV_STIMER_ENABLE                (1ull << 0)
#define HV_STIMER_PERIODIC              (1ull << 1)
#define HV_STIMER_LAZY                  (1ull << 2)
#define HV_STIMER_AUTO_ENABLE           (1ull << 3)
#define HV_STIMER_VECTOR_SHIFT          4
#define HV_STIMER_VECTOR_MASK           (0xffull << HV_STIMER_VECTOR_SHIFT)
#define HV_STIMER_DIRECT_MODE           (1ull << 12)
#define HV_STIMER_SINT_SHIFT            16
#define HV_STIMER_SINT_MASK             (0xfull << HV_STIMER_SINT_SHIFT)
#define HV_STIMER_RESERVED              (~(HV_STIMER_ENABLE | \
                                           HV_STIMER_PERIODIC | \
                                           HV_STIMER_LAZY | \
                                           HV_STIMER_AUTO_ENABLE | \
                                           HV_STIMER_VECTOR_MASK | \
                                           HV_STIMER_DIRECT_MODE | \
                                           HV_STIMER_SINT_MASK))

/* Payload of an HV_MESSAGE_TIMER_EXPIRED message (HV_TIMER_MESSAGE_PAYLOAD). */
struct hyperv_timer_message_payload {
    uint32_t timer_index;
    uint32_t _reserved;
    uint64_t expiration_time;   /* reference time the timer was due */
    uint64_t delivery_time;     /* reference time the message was sent */
};
QEMU_BUILD_BUG_ON(sizeof(struct hyperv_timer_message_payload) != 24);
QEMU_BUILD_BUG_ON(offsetof(struct hyperv_timer_message_payload,
                           expiration_time) != 8);

#endif
