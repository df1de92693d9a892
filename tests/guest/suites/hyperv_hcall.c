// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * suite=hyperv-hcall: the hypercall page (TLFS 3.13) and the hypercall
 * interface from 64-bit mode and from 32-bit compatibility mode (TLFS
 * 3.7: 32-bit callers pass the control in EDX:EAX, the input GPA in
 * EBX:ECX, the output GPA in EDI:ESI and get the result in EDX:EAX).
 *
 * The same table of calls runs through both modes: HvPostMessage and
 * HvSignalEvent on hyperv-testdev connections to this vCPU (delivered),
 * on unknown connections (HV_STATUS_INVALID_CONNECTION_ID), with a rep
 * count (HV_STATUS_INVALID_HYPERCALL_INPUT: neither call is a rep call),
 * and an unknown call code (HV_STATUS_INVALID_HYPERCALL_CODE).  The rep
 * count sits in the control's upper half, EDX in 32-bit mode, so that
 * check also shows EDX is read; the 4 GiB input GPA shows EBX is.
 *
 * The page itself: the MSR reads back as written; a page moved to another
 * GPA is written there, and moving it back writes the first page again
 * (its contents are put there on every enable); a write without the
 * enable bit leaves the page it names untouched; GUEST_OS_ID 0 clears
 * the enable bit (KVM does so; the TLFS only says the page cannot be
 * enabled while the ID is 0), and with hv-u=1 (the user path) a call
 * through the old page then goes unanswered.
 *
 * Needs -device hyperv-testdev and hv-synic.  The kernel path's page
 * must hold vmcall/vmmcall then RET (accel=kvm-k); other paths only a
 * page that is not empty.
 */
#include <stdint.h>

#include "lib/alloc.h"
#include "lib/boot.h"
#include "lib/fault.h"
#include "lib/hv_testdev.h"
#include "lib/hyperv.h"
#include "lib/report.h"
#include "lib/smp.h"
#include "lib/string.h"
#include "lib/synic.h"
#include "lib/timing.h"
#include "suites/suite.h"

#define MSG_CONN        0x60
#define EVT_CONN        0x61
#define NO_CONN         0x6f    /* never created */
#define MSG_SINT        3
#define EVT_SINT        4
#define MSG_VECTOR      0xb3
#define EVT_VECTOR      0xb4
#define FENCE_CONN      0x70    /* + vCPU */
#define FENCE_SINT      5
#define FENCE_VECTOR    0xb5
#define MSG_TYPE        0x4343
#define PAYLOAD_SIZE    24
#define BAD_CODE        UINT64_C(0x0fff)
#define FOUR_GIB        (UINT64_C(1) << 32)
#define PATTERN         0x5a
#define UNANSWERED      UINT64_C(0x5eed5eed5eed5eed)

typedef uint64_t (*hcall_fn)(void *page, uint64_t control, uint64_t input,
                             uint64_t output);

struct mode {
    const char *name;
    hcall_fn call;
};

static const struct mode modes[] = {
    { "64-bit", hv_hypercall },
    { "32-bit", hv_hypercall32 },
};

static uint8_t *page;           /* the hypercall page in use */
static struct hv_post_message_input *post_in;
static uint64_t *signal_in;
static struct hv_message *slot;

static bool strict_page(void)
{
    const char *accel = opt_get("accel");

    return accel && !strcmp(accel, "kvm-k");
}

/*
 * Run the page's code with RAX preset: on the user path, a hypercall the
 * partition does not answer must leave RAX (the status) as it was.
 */
static uint64_t call_keeping_rax(void *p, uint64_t control, uint64_t rax)
{
    asm volatile("call *%[page]"
                 : "+a"(rax), "+c"(control)
                 : [page] "r"(p)
                 : "memory", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11",
                   "cc");
    return rax;
}

static uint64_t read_msr(uint32_t msr)
{
    uint64_t v = 0;

    rdmsr_safe(msr, &v);
    return v;
}

static void fill_post(uint32_t conn)
{
    memset(post_in, 0, sizeof(*post_in));
    post_in->connection_id = conn;
    post_in->message_type = MSG_TYPE;
    post_in->payload_size = PAYLOAD_SIZE;
    memset(post_in->payload, PATTERN, PAYLOAD_SIZE);
}

/*
 * Before "nothing arrived" after a refused call: wait until the host has
 * handled what vCPU 0 asked before (synic_fence), not for a pause.  A
 * post that went through would have filled this vCPU's slot inside the
 * call, or on its thread before it ran the guest again (the kernel path),
 * and a signal set its flag in the main loop ahead of the fence's.
 */
static void fence(const char *what)
{
    synic_fence_on(0, FENCE_CONN, FENCE_SINT, what);
}

/* A message arrived since the last look; the slot is emptied again. */
static bool took_message(bool wait)
{
    bool got;

    if (wait) {
        wait_for(msg_type(slot) != HV_MESSAGE_NONE, SYNIC_ARRIVE_US);
    } else {
        fence("post");
    }
    got = msg_type(slot) == MSG_TYPE &&
          msg_payload_equals(slot, post_in->payload, PAYLOAD_SIZE);
    if (msg_type(slot) != HV_MESSAGE_NONE) {
        msg_release(slot, true);
        got |= !wait;   /* anything at all counts when nothing may come */
    }
    return got;
}

static bool took_event(bool wait)
{
    bool got;

    if (wait) {
        wait_for(flag_test(0, EVT_SINT, EVT_CONN), SYNIC_ARRIVE_US);
    } else {
        fence("signal");
    }
    got = flags_count(0, EVT_SINT) != 0;
    flag_clear(0, EVT_SINT, EVT_CONN);
    return got;
}

static void post_checks(const struct mode *m)
{
    uint64_t in = virt_to_phys(post_in), st;

    fill_post(MSG_CONN);
    st = m->call(page, HVCALL_POST_MESSAGE, in, 0);
    report(st == HV_STATUS_SUCCESS && took_message(true), "%s: post to a "
           "testdev connection is delivered (result 0x%lx)", m->name, st);
    fill_post(NO_CONN);
    st = m->call(page, HVCALL_POST_MESSAGE, in, 0);
    report(st == HV_STATUS_INVALID_CONNECTION_ID && !took_message(false),
           "%s: post to an unknown connection returns "
           "INVALID_CONNECTION_ID (result 0x%lx)", m->name, st);
    fill_post(MSG_CONN);
    st = m->call(page, HVCALL_POST_MESSAGE | HV_HYPERCALL_REP_COUNT(1), in,
                 0);
    report(st == HV_STATUS_INVALID_HYPERCALL_INPUT && !took_message(false),
           "%s: post with rep count 1 returns INVALID_HYPERCALL_INPUT "
           "(result 0x%lx)", m->name, st);
    /*
     * The input GPA 4 GiB higher names no RAM (-m 256): only a caller
     * that drops the upper half (EBX in 32-bit mode) would find the
     * message there.  An unreadable input block is INVALID_ALIGNMENT
     * (docs/decisions.md, as KVM answers for its own calls).
     */
    st = m->call(page, HVCALL_POST_MESSAGE, in + FOUR_GIB, 0);
    report(st == HV_STATUS_INVALID_ALIGNMENT && !took_message(false),
           "%s: post with the input GPA 4 GiB up returns INVALID_ALIGNMENT "
           "(result 0x%lx)", m->name, st);
}

static void signal_checks(const struct mode *m)
{
    uint64_t st;

    st = m->call(page, HVCALL_SIGNAL_EVENT | HV_HYPERCALL_FAST,
                 HV_SIGNAL_EVENT_INPUT(EVT_CONN, 0), 0);
    report(st == HV_STATUS_SUCCESS && took_event(true), "%s: fast signal "
           "on a testdev connection sets the flag (result 0x%lx)", m->name,
           st);
    *signal_in = HV_SIGNAL_EVENT_INPUT(EVT_CONN, 0);
    st = m->call(page, HVCALL_SIGNAL_EVENT, virt_to_phys(signal_in), 0);
    report(st == HV_STATUS_SUCCESS && took_event(true), "%s: memory-form "
           "signal on a testdev connection sets the flag (result 0x%lx)",
           m->name, st);
    st = m->call(page, HVCALL_SIGNAL_EVENT | HV_HYPERCALL_FAST,
                 HV_SIGNAL_EVENT_INPUT(NO_CONN, 0), 0);
    report(st == HV_STATUS_INVALID_CONNECTION_ID && !took_event(false),
           "%s: signal on an unknown connection returns "
           "INVALID_CONNECTION_ID (result 0x%lx)", m->name, st);
    st = m->call(page, HVCALL_SIGNAL_EVENT | HV_HYPERCALL_FAST |
                 HV_HYPERCALL_REP_COUNT(1), HV_SIGNAL_EVENT_INPUT(EVT_CONN, 0),
                 0);
    report(st == HV_STATUS_INVALID_HYPERCALL_INPUT && !took_event(false),
           "%s: signal with rep count 1 returns INVALID_HYPERCALL_INPUT "
           "(result 0x%lx)", m->name, st);
}

static void code_checks(const struct mode *m, const char *when)
{
    uint64_t st = m->call(page, BAD_CODE, 0, 0);

    /* the whole result: reps completed (bits 32-43) must be 0 too */
    report(st == HV_STATUS_INVALID_HYPERCALL_CODE, "%s: call code 0x%lx "
           "returns INVALID_HYPERCALL_CODE%s (result 0x%lx)", m->name,
           BAD_CODE, when, st);
}

static bool enable_page(uint8_t *p)
{
    uint64_t want = virt_to_phys(p) | HV_HYPERCALL_ENABLE;

    return wrmsr_safe(HV_X64_MSR_HYPERCALL, want) == NO_FAULT &&
           read_msr(HV_X64_MSR_HYPERCALL) == want;
}

static void page_checks(void)
{
    uint8_t *a = alloc_page(), *b = alloc_page(), *c = alloc_page();
    bool strict = strict_page(), untouched = true;
    uint64_t st;
    unsigned int i;

    if (!report(a && b && c, "page: test pages allocated")) {
        return;
    }
    report(enable_page(a) && hv_hypercall_page_filled(a, strict),
           "page: enabled at 0x%lx reads back and is filled (%02x %02x %02x "
           "%02x)", virt_to_phys(a), a[0], a[1], a[2], a[3]);
    report(enable_page(b) && hv_hypercall_page_filled(b, strict),
           "page: moved to 0x%lx, the new page is filled", virt_to_phys(b));
    page = b;
    st = hv_hypercall(b, BAD_CODE, 0, 0);
    report(st == HV_STATUS_INVALID_HYPERCALL_CODE, "page: calls through the "
           "moved page work (result 0x%lx)", st);
    memset(a, 0, PAGE_SIZE);
    report(enable_page(a) && hv_hypercall_page_filled(a, strict),
           "page: moved back to 0x%lx, the page is written again",
           virt_to_phys(a));
    page = a;

    memset(c, PATTERN, PAGE_SIZE);
    report(wrmsr_safe(HV_X64_MSR_HYPERCALL, virt_to_phys(c)) == NO_FAULT &&
           read_msr(HV_X64_MSR_HYPERCALL) == virt_to_phys(c),
           "page: disabled at 0x%lx reads back without the enable bit "
           "(0x%lx)", virt_to_phys(c), read_msr(HV_X64_MSR_HYPERCALL));
    for (i = 0; i < PAGE_SIZE; i++) {
        untouched &= c[i] == PATTERN;
    }
    report(untouched, "page: a disabled hypercall MSR leaves its page "
           "untouched");

    report(enable_page(a), "page: enabled again at 0x%lx", virt_to_phys(a));
    wrmsr_safe(HV_X64_MSR_GUEST_OS_ID, 0);
    report(!(read_msr(HV_X64_MSR_HYPERCALL) & HV_HYPERCALL_ENABLE),
           "page: GUEST_OS_ID 0 clears the enable bit (0x%lx)",
           read_msr(HV_X64_MSR_HYPERCALL));
    /*
     * Hypercalls need a guest OS ID (KVM raises #UD for its VMCALL then).
     * The user path's page still holds its OUT, which must go unanswered.
     */
    if (opt_get("hv-u")) {
        uint64_t rax = call_keeping_rax(a, BAD_CODE, UNANSWERED);

        report(rax == UNANSWERED, "page: a hypercall while GUEST_OS_ID is 0 "
               "is not answered (RAX 0x%lx)", rax);
    }
    wrmsr_safe(HV_X64_MSR_GUEST_OS_ID, HV_TEST_GUEST_OS_ID);
    report(enable_page(a) && hv_hypercall_page_filled(a, strict),
           "page: enabled again after a new GUEST_OS_ID");
    free_page(c);
}

static void hyperv_hcall(void)
{
    unsigned int i;

    post_in = alloc_page();
    signal_in = alloc_page();
    if (!report(post_in && signal_in, "setup: input pages allocated") ||
        !synic_enable_all("setup")) {
        return;
    }
    page = hv_hypercall_page();
    slot = synic_slot(0, MSG_SINT);
    synic_conn_pair(&(struct synic_conn){ MSG_CONN, MSG_SINT, MSG_VECTOR },
                    &(struct synic_conn){ EVT_CONN, EVT_SINT, EVT_VECTOR });

    synic_fence_setup(FENCE_CONN, FENCE_SINT, FENCE_VECTOR, true);
    for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        code_checks(&modes[i], "");
        post_checks(&modes[i]);
        signal_checks(&modes[i]);
    }
    synic_fence_setup(FENCE_CONN, FENCE_SINT, FENCE_VECTOR, false);
    page_checks();
    for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        code_checks(&modes[i], " after the page moved");
    }
    /* the library's page again, for whoever calls hv_call() next */
    report(enable_page(hv_hypercall_page()), "page: the first page enabled "
           "again");

    hv_testdev_msg_conn_destroy(MSG_CONN);
    hv_testdev_evt_conn_destroy(EVT_CONN);
    synic_disable_all();
}

DEFINE_SUITE("hyperv-hcall", hyperv_hcall);
