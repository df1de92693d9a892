// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Hypercalls for the SynIC suites: the hypercall page (TLFS 3.13), and
 * HvPostMessage / HvSignalEvent (TLFS 11.10) with their input blocks.
 */
#include <stddef.h>

#include "alloc.h"
#include "fault.h"
#include "hyperv.h"
#include "layout.h"
#include "smp.h"
#include "string.h"
#include "timing.h"
#include "x86.h"

#define BRACKET_TRIES       50
#define POST_RETRIES        2000
#define POST_RETRY_DELAY_US 1000

static void *hypercall_page;
static struct hv_post_message_input *post_inputs[MAX_CPUS];
static uint64_t *signal_inputs[MAX_CPUS];

#define HCALL_CODE_SCAN     32
#define X86_RET             0xc3

bool hv_hypercall_page_filled(const uint8_t *p, bool strict)
{
    unsigned int i;

    /* vmcall (0f 01 c1) or vmmcall (0f 01 d9), then ret */
    if (p[0] == 0x0f && p[1] == 0x01 && (p[2] == 0xc1 || p[2] == 0xd9) &&
        p[3] == X86_RET) {
        return true;
    }
    if (strict || p[0] == 0) {
        return false;
    }
    for (i = 1; i < HCALL_CODE_SCAN; i++) {
        if (p[i] == X86_RET) {
            return true;
        }
    }
    return false;
}

bool hv_hypercall_setup(void)
{
    uint64_t v;

    if (hypercall_page) {
        return true;
    }
    hypercall_page = alloc_page();
    if (!hypercall_page) {
        return false;
    }
    /* TLFS 3.13: the page stays disabled until a guest OS ID is set */
    if (wrmsr_safe(HV_X64_MSR_GUEST_OS_ID, HV_TEST_GUEST_OS_ID) != NO_FAULT ||
        wrmsr_safe(HV_X64_MSR_HYPERCALL, virt_to_phys(hypercall_page) |
                   HV_HYPERCALL_ENABLE) != NO_FAULT ||
        rdmsr_safe(HV_X64_MSR_HYPERCALL, &v) != NO_FAULT ||
        !(v & HV_HYPERCALL_ENABLE) ||
        !hv_hypercall_page_filled(hypercall_page, false)) {
        free_page(hypercall_page);
        hypercall_page = NULL;
        return false;
    }
    return true;
}

void *hv_hypercall_page(void)
{
    return hypercall_page;
}

uint64_t hv_call(uint64_t control, uint64_t input, uint64_t output)
{
    /* calling an empty page would run whatever lies there */
    if (!hypercall_page) {
        return HV_STATUS_MASK;
    }
    return hv_hypercall(hypercall_page, control, input, output);
}

uint64_t hv_call_xmm(uint64_t control, uint64_t input, uint64_t output,
                     const uint64_t xmm[12])
{
    register uint64_t r8 asm("r8") = output;
    uint64_t status;

    if (!hypercall_page) {
        return HV_STATUS_MASK;
    }
    /* Loaded and used in one block: nothing in between touches them. */
    asm volatile("movdqu 0(%[x]), %%xmm0\n\t"
                 "movdqu 16(%[x]), %%xmm1\n\t"
                 "movdqu 32(%[x]), %%xmm2\n\t"
                 "movdqu 48(%[x]), %%xmm3\n\t"
                 "movdqu 64(%[x]), %%xmm4\n\t"
                 "movdqu 80(%[x]), %%xmm5\n\t"
                 "call *%[page]"
                 : "=a"(status), "+c"(control), "+d"(input), "+r"(r8)
                 : [page] "r"(hypercall_page), [x] "r"(xmm)
                 : "memory", "rsi", "rdi", "r9", "r10", "r11", "cc");
    return status;
}

/* Lazily allocated per-vCPU page; each vCPU only touches its own entry. */
static void *own_page(void **slot)
{
    if (!*slot) {
        *slot = alloc_page();
    }
    return *slot;
}

struct hv_post_message_input *hv_post_input(void)
{
    return own_page((void **)&post_inputs[smp_id()]);
}

uint16_t hv_post_message(uint32_t conn, uint32_t type, const void *payload,
                         uint32_t size)
{
    struct hv_post_message_input *in = hv_post_input();
    size_t copy = size < HV_MESSAGE_PAYLOAD_SIZE ? size :
                  HV_MESSAGE_PAYLOAD_SIZE;

    if (!in) {
        return HV_STATUS_MASK;
    }
    memset(in, 0, sizeof(*in));
    in->connection_id = conn;
    in->message_type = type;
    in->payload_size = size;
    if (payload) {
        memcpy(in->payload, payload, copy);
    }
    return hv_call(HVCALL_POST_MESSAGE, virt_to_phys(in), 0) & HV_STATUS_MASK;
}

uint16_t hv_post_message_retry(uint32_t conn, uint32_t type,
                               const void *payload, uint32_t size)
{
    uint16_t status = HV_STATUS_INSUFFICIENT_BUFFERS;
    unsigned int i;

    for (i = 0; i < POST_RETRIES; i++) {
        status = hv_post_message(conn, type, payload, size);
        if (status != HV_STATUS_INSUFFICIENT_BUFFERS) {
            break;
        }
        udelay(POST_RETRY_DELAY_US);
    }
    return status;
}

uint16_t hv_signal_event(uint32_t conn, uint16_t flag)
{
    return hv_call(HVCALL_SIGNAL_EVENT | HV_HYPERCALL_FAST,
                   HV_SIGNAL_EVENT_INPUT(conn, flag), 0) & HV_STATUS_MASK;
}

uint16_t hv_signal_event_slow(uint32_t conn, uint16_t flag)
{
    uint64_t *in = own_page((void **)&signal_inputs[smp_id()]);

    if (!in) {
        return HV_STATUS_MASK;
    }
    *in = HV_SIGNAL_EVENT_INPUT(conn, flag);
    return hv_call(HVCALL_SIGNAL_EVENT, virt_to_phys(in), 0) & HV_STATUS_MASK;
}

void hv_ref_and_tsc(uint64_t *ref, uint64_t *tsc)
{
    uint64_t best = UINT64_MAX;
    unsigned int i;

    for (i = 0; i < BRACKET_TRIES; i++) {
        uint64_t a = rdtsc(), r = rdmsr(HV_X64_MSR_TIME_REF_COUNT);
        uint64_t b = rdtsc();

        if (b - a < best) {
            best = b - a;
            *ref = r;
            *tsc = a + (b - a) / 2;
        }
    }
}

/* volatile: the host rewrites the page behind the compiler's back */
bool hv_tsc_page_read(const volatile struct hv_tsc_page *p, uint64_t *ref)
{
    unsigned int i;

    for (i = 0; i < 1000; i++) {
        uint32_t seq = p->sequence;
        uint64_t scale, tsc;
        int64_t offset;

        if (!seq) {
            return false;
        }
        barrier();
        scale = p->scale;
        offset = p->offset;
        tsc = rdtsc();
        barrier();
        if (p->sequence == seq) {
            *ref = (uint64_t)(((unsigned __int128)tsc * scale) >> 64) +
                   offset;
            return true;
        }
    }
    return false;
}
