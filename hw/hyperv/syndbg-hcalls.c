/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Synthetic debugger (hv-syndbg): the hypercalls and MSR actions the
 * accelerator passes on, turned into requests to the one debugger device
 * that registered (hw/hyperv/syndbg.c).
 *
 * Inputs are copied out of guest memory once and checked on the copy;
 * outputs are written back whole.  The data buffers themselves stay in
 * guest memory and are read or written by the device through their GPA.
 */

#include "qemu/osdep.h"
#include "exec/address-spaces.h"
#include "exec/memory.h"
#include "hw/hyperv/hyperv.h"
#include "hw/hyperv/hv-log.h"
#include "trace.h"

/* Status values of the SYNDBG_STATUS MSR (TLFS: synthetic debugging). */
#define SYNDBG_STATUS_INVALID 0
#define SYNDBG_STATUS_SEND_SUCCESS (1u << 0)
#define SYNDBG_STATUS_RECV_SUCCESS (1u << 2)
#define SYNDBG_STATUS_SIZE_SHIFT 16

static HvSynDbgHandler dbg_handler;
static void *dbg_context;

void hyperv_set_syndbg_handler(HvSynDbgHandler handler, void *context)
{
    /* Only one debugger device can exist (it is a singleton device). */
    g_assert(!dbg_handler);
    dbg_handler = handler;
    dbg_context = context;
}

static uint16_t dbg_call(HvSynDbgMsg *msg)
{
    uint16_t ret = dbg_handler(dbg_context, msg);

    trace_hyperv_syndbg_request(msg->type, ret);
    return ret;
}

static bool dbg_read(uint64_t gpa, void *buf, hwaddr len)
{
    return address_space_read(&address_space_memory, gpa,
                              MEMTXATTRS_UNSPECIFIED, buf, len) == MEMTX_OK;
}

static bool dbg_write(uint64_t gpa, const void *buf, hwaddr len)
{
    return address_space_write(&address_space_memory, gpa,
                               MEMTXATTRS_UNSPECIFIED, buf, len) == MEMTX_OK;
}

uint16_t hyperv_hcall_reset_dbg_session(uint64_t out_gpa)
{
    struct hyperv_reset_debug_session_output out = {};
    HvSynDbgMsg msg = { .type = HV_SYNDBG_MSG_CONNECTION_INFO };
    uint16_t ret;

    if (!dbg_handler) {
        return HV_STATUS_INVALID_HYPERCALL_CODE;
    }
    ret = dbg_call(&msg);
    if (ret != HV_STATUS_SUCCESS) {
        return ret;
    }
    /* The debugger on the other side is both host and target here. */
    out.host_ip = out.target_ip = msg.u.connection_info.host_ip;
    out.host_port = out.target_port = msg.u.connection_info.host_port;
    if (!dbg_write(out_gpa, &out, sizeof(out))) {
        hv_guest_error("HvResetDebugSession: output 0x%" PRIx64
                       " not writable", out_gpa);
        return HV_STATUS_INSUFFICIENT_MEMORY;
    }
    return HV_STATUS_SUCCESS;
}

uint16_t hyperv_hcall_retreive_dbg_data(uint64_t in_gpa, uint64_t out_gpa,
                                        bool fast)
{
    struct hyperv_retrieve_debug_data_input in;
    struct hyperv_retrieve_debug_data_output out = {};
    HvSynDbgMsg msg = { .type = HV_SYNDBG_MSG_RECV };
    uint16_t ret;

    if (fast || !dbg_handler) {
        return HV_STATUS_INVALID_HYPERCALL_CODE;
    }
    if (!dbg_read(in_gpa, &in, sizeof(in))) {
        return HV_STATUS_INSUFFICIENT_MEMORY;
    }
    /* The data goes in the output page, after the output header. */
    msg.u.recv.buf_gpa = out_gpa + sizeof(out);
    msg.u.recv.count = HV_PAGE_SIZE - sizeof(out);
    msg.u.recv.options = in.options;
    msg.u.recv.timeout = in.timeout;
    msg.u.recv.is_raw = true;
    ret = dbg_call(&msg);
    if (ret == HV_STATUS_NO_DATA) {
        out.remaining_count = in.count;
    } else if (ret == HV_STATUS_SUCCESS) {
        /* The device never reports more than the buffer it was given. */
        out.retrieved_count = MIN(msg.u.recv.retrieved_count,
                                  msg.u.recv.count);
        out.remaining_count = in.count > out.retrieved_count ?
                              in.count - out.retrieved_count : 0;
    } else {
        return ret;
    }
    if (!dbg_write(out_gpa, &out, sizeof(out))) {
        return HV_STATUS_INSUFFICIENT_MEMORY;
    }
    return ret;
}

uint16_t hyperv_hcall_post_dbg_data(uint64_t in_gpa, uint64_t out_gpa,
                                    bool fast)
{
    struct hyperv_post_debug_data_input in;
    struct hyperv_post_debug_data_output out = {};
    HvSynDbgMsg msg = { .type = HV_SYNDBG_MSG_SEND };
    uint16_t ret;

    if (fast || !dbg_handler) {
        return HV_STATUS_INVALID_HYPERCALL_CODE;
    }
    if (!dbg_read(in_gpa, &in, sizeof(in))) {
        return HV_STATUS_INSUFFICIENT_MEMORY;
    }
    /* The data follows the header in the same input page. */
    if (in.count > HV_PAGE_SIZE - sizeof(in)) {
        hv_guest_error("HvPostDebugData: count %u too large", in.count);
        return HV_STATUS_INVALID_PARAMETER;
    }
    msg.u.send.buf_gpa = in_gpa + sizeof(in);
    msg.u.send.count = in.count;
    msg.u.send.is_raw = true;
    ret = dbg_call(&msg);
    if (ret != HV_STATUS_SUCCESS) {
        return ret;
    }
    out.pending_count = msg.u.send.pending_count;
    if (!dbg_write(out_gpa, &out, sizeof(out))) {
        return HV_STATUS_INSUFFICIENT_MEMORY;
    }
    return out.pending_count ? HV_STATUS_INSUFFICIENT_BUFFERS
                             : HV_STATUS_SUCCESS;
}

uint32_t hyperv_syndbg_send(uint64_t buf_gpa, uint32_t len)
{
    HvSynDbgMsg msg = {
        .type = HV_SYNDBG_MSG_SEND,
        .u.send = { .buf_gpa = buf_gpa, .count = len },
    };

    if (!dbg_handler || dbg_call(&msg) != HV_STATUS_SUCCESS) {
        return SYNDBG_STATUS_INVALID;
    }
    return SYNDBG_STATUS_SEND_SUCCESS;
}

uint32_t hyperv_syndbg_recv(uint64_t buf_gpa, uint32_t len)
{
    HvSynDbgMsg msg = {
        .type = HV_SYNDBG_MSG_RECV,
        .u.recv = { .buf_gpa = buf_gpa, .count = len },
    };

    if (!dbg_handler || dbg_call(&msg) != HV_STATUS_SUCCESS) {
        return SYNDBG_STATUS_INVALID;
    }
    return SYNDBG_STATUS_RECV_SUCCESS |
           MIN(msg.u.recv.retrieved_count, len) << SYNDBG_STATUS_SIZE_SHIFT;
}

void hyperv_syndbg_set_pending_page(uint64_t buf_gpa)
{
    HvSynDbgMsg msg = {
        .type = HV_SYNDBG_MSG_SET_PENDING_PAGE,
        .u.pending_page.buf_gpa = buf_gpa,
    };

    if (dbg_handler) {
        dbg_call(&msg);
    }
}

uint64_t hyperv_syndbg_query_options(void)
{
    HvSynDbgMsg msg = { .type = HV_SYNDBG_MSG_QUERY_OPTIONS };

    if (!dbg_handler || dbg_call(&msg) != HV_STATUS_SUCCESS) {
        return 0;
    }
    return msg.u.query_options.options;
}
