/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * VMBus GPADLs, host side (include/hw/hyperv/vmbus-gpadl.h has the
 * interface).
 *
 * A GPADL_HEADER names the GPADL (channel and id) and describes its
 * ranges: each range is an 8-byte head (byte count, then byte offset into
 * its first page) directly followed by the page numbers it needs.  The
 * header carries as many of those 8-byte items as fit in one message;
 * the remaining page numbers come in GPADL_BODY messages, in order.
 *
 * Every head has to be in the header message: a range whose head would
 * only come in a body is refused, since a body carries page numbers
 * alone.  So a GPADL of several ranges is accepted only when all ranges
 * but the last are complete in the header; the last one may go on in
 * bodies.  (Linux always sends one range.)
 *
 * The guest decides every number here, so each one is checked before it
 * is used, and the memory a guest can make us hold is bounded by the
 * per-VM limits, which count GPADLs still being built too.  A refused
 * message leaves every other GPADL as it was.
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "hw/hyperv/vmbus-gpadl.h"

/* GPADL_HEADER, from the start of the message (channel header included). */
#define GPADL_HDR_RELID         8
#define GPADL_HDR_ID            12
#define GPADL_HDR_RANGE_BUFLEN  16
#define GPADL_HDR_RANGECOUNT    18
#define GPADL_HDR_RANGES        20

/* GPADL_BODY */
#define GPADL_BODY_MSGNUM       8
#define GPADL_BODY_ID           12
#define GPADL_BODY_PFNS         16

/* A range head and a page number take 8 bytes each. */
#define GPADL_ITEM              8

/* The highest page number whose address still fits in 64 bits. */
#define GPADL_MAX_PFN           (UINT64_MAX / VMBUS_GPADL_PAGE_SIZE)

void vmbus_gpadl_set_init(VMBusGpadlSet *s)
{
    QTAILQ_INIT(&s->list);
    s->count = 0;
    s->pages = 0;
}

static void gpadl_release(VMBusGpadlSet *s, VMBusGpadl *g)
{
    QTAILQ_REMOVE(&s->list, g, link);
    s->count--;
    s->pages -= g->npages;
    g_free(g->ranges);
    g_free(g->pfns);
    g_free(g);
}

void vmbus_gpadl_set_clear(VMBusGpadlSet *s)
{
    VMBusGpadl *g, *next;

    QTAILQ_FOREACH_SAFE(g, &s->list, link, next) {
        gpadl_release(s, g);
    }
}

VMBusGpadl *vmbus_gpadl_find(VMBusGpadlSet *s, uint32_t id)
{
    VMBusGpadl *g;

    QTAILQ_FOREACH(g, &s->list, link) {
        if (g->id == id) {
            return g;
        }
    }
    return NULL;
}

void vmbus_gpadl_free(VMBusGpadlSet *s, VMBusGpadl *g)
{
    assert(!g->refs);
    gpadl_release(s, g);
}

void vmbus_gpadl_free_relid(VMBusGpadlSet *s, uint32_t relid)
{
    VMBusGpadl *g, *next;

    QTAILQ_FOREACH_SAFE(g, &s->list, link, next) {
        if (g->relid == relid) {
            gpadl_release(s, g);
        }
    }
}

/*
 * Take @n page numbers from @src into g->pfns after those already there.
 * The caller has checked that they are still missing.
 */
static bool gpadl_take_pfns(VMBusGpadl *g, const uint8_t *src, uint32_t n,
                            const char **why)
{
    uint32_t i;

    for (i = 0; i < n; i++) {
        uint64_t pfn = ldq_le_p(src + i * GPADL_ITEM);

        if (pfn > GPADL_MAX_PFN) {
            *why = "page number beyond 64-bit addresses";
            return false;
        }
        g->pfns[g->filled + i] = pfn;
    }
    g->filled += n;
    return true;
}

/* Check one range head; on success its page count is in *@npages. */
static bool gpadl_range_check(uint32_t byte_offset, uint32_t byte_count,
                              uint32_t *npages, const char **why)
{
    uint64_t end = (uint64_t)byte_offset + byte_count;

    if (byte_offset >= VMBUS_GPADL_PAGE_SIZE) {
        *why = "range offset not inside its first page";
        return false;
    }
    if (!byte_count) {
        *why = "empty range";
        return false;
    }
    if (end > UINT32_MAX) {
        *why = "range end beyond 32 bits";
        return false;
    }
    *npages = DIV_ROUND_UP(end, VMBUS_GPADL_PAGE_SIZE);
    return true;
}

VMBusGpadlResult vmbus_gpadl_header(VMBusGpadlSet *s, const void *msg,
                                    uint32_t len, uint32_t *relid,
                                    uint32_t *id, VMBusGpadl **g,
                                    const char **why)
{
    const uint8_t *m = msg;
    const uint8_t *area = m + GPADL_HDR_RANGES;
    g_autofree VMBusGpadlRange *ranges = NULL;
    uint32_t area_len, nranges, range_buflen, last_pfns, present, i;
    uint64_t pos = 0, total = 0, len_bytes = 0;
    VMBusGpadl *ng;

    if (len < GPADL_HDR_RANGES) {
        *why = "GPADL_HEADER too short";
        return VMBUS_GPADL_IGNORED;
    }
    *relid = ldl_le_p(m + GPADL_HDR_RELID);
    *id = ldl_le_p(m + GPADL_HDR_ID);
    range_buflen = lduw_le_p(m + GPADL_HDR_RANGE_BUFLEN);
    nranges = lduw_le_p(m + GPADL_HDR_RANGECOUNT);
    area_len = len - GPADL_HDR_RANGES;

    if (!nranges || nranges > VMBUS_GPADL_MAX_RANGES) {
        *why = "GPADL range count out of bounds";
        return VMBUS_GPADL_FAILED;
    }

    /*
     * Walk the heads: each is followed by its page numbers, so the next
     * head is found only by counting the pages of this one.
     */
    ranges = g_new(VMBusGpadlRange, nranges);
    last_pfns = 0;
    for (i = 0; i < nranges; i++) {
        uint32_t npages;

        if (pos + GPADL_ITEM > area_len) {
            *why = "GPADL range head not in the header message";
            return VMBUS_GPADL_FAILED;
        }
        ranges[i].byte_count = ldl_le_p(area + pos);
        ranges[i].byte_offset = ldl_le_p(area + pos + 4);
        if (!gpadl_range_check(ranges[i].byte_offset, ranges[i].byte_count,
                               &npages, why)) {
            return VMBUS_GPADL_FAILED;
        }
        ranges[i].first = total;
        ranges[i].npages = npages;
        total += npages;
        if (total > VMBUS_GPADL_MAX_PAGES) {
            *why = "GPADL with too many pages";
            return VMBUS_GPADL_FAILED;
        }
        len_bytes += ranges[i].byte_count;
        last_pfns = pos + GPADL_ITEM;
        pos = last_pfns + (uint64_t)npages * GPADL_ITEM;
    }

    if (range_buflen != ((uint64_t)nranges + total) * GPADL_ITEM) {
        *why = "GPADL range_buflen does not match its ranges";
        return VMBUS_GPADL_FAILED;
    }
    /* All ranges but the last are complete; what follows is the last's. */
    present = area_len - last_pfns;
    if (present % GPADL_ITEM) {
        *why = "GPADL_HEADER not a whole number of page numbers";
        return VMBUS_GPADL_FAILED;
    }
    if (present / GPADL_ITEM > ranges[nranges - 1].npages) {
        *why = "GPADL_HEADER with more page numbers than its ranges";
        return VMBUS_GPADL_FAILED;
    }
    if (vmbus_gpadl_find(s, *id)) {
        *why = "GPADL id already in use";
        return VMBUS_GPADL_FAILED;
    }
    if (s->count >= VMBUS_GPADL_MAX_COUNT) {
        *why = "too many GPADLs";
        return VMBUS_GPADL_FAILED;
    }
    if (s->pages + total > VMBUS_GPADL_MAX_PAGES) {
        *why = "too many pages in GPADLs";
        return VMBUS_GPADL_FAILED;
    }

    ng = g_new0(VMBusGpadl, 1);
    ng->id = *id;
    ng->relid = *relid;
    ng->nranges = nranges;
    ng->npages = total;
    ng->pfns = g_new0(uint64_t, total);
    ng->len = len_bytes;
    for (i = 0; i < nranges; i++) {
        const uint8_t *src = area + ranges[i].first * GPADL_ITEM +
                             (i + 1) * GPADL_ITEM;
        uint32_t n = i + 1 < nranges ? ranges[i].npages :
                     present / GPADL_ITEM;

        if (!gpadl_take_pfns(ng, src, n, why)) {
            g_free(ng->pfns);
            g_free(ng);
            return VMBUS_GPADL_FAILED;
        }
    }
    ng->ranges = g_steal_pointer(&ranges);
    ng->complete = ng->filled == ng->npages;

    QTAILQ_INSERT_TAIL(&s->list, ng, link);
    s->count++;
    s->pages += ng->npages;
    *g = ng;
    return ng->complete ? VMBUS_GPADL_DONE : VMBUS_GPADL_MORE;
}

VMBusGpadlResult vmbus_gpadl_body(VMBusGpadlSet *s, const void *msg,
                                  uint32_t len, uint32_t *relid,
                                  uint32_t *id, VMBusGpadl **g,
                                  const char **why)
{
    const uint8_t *m = msg;
    uint32_t bytes, n;
    VMBusGpadl *cur;

    if (len < GPADL_BODY_PFNS) {
        *why = "GPADL_BODY too short";
        return VMBUS_GPADL_IGNORED;
    }
    /* The message number is not checked: Linux leaves it 0. */
    *id = ldl_le_p(m + GPADL_BODY_ID);
    cur = vmbus_gpadl_find(s, *id);
    if (!cur) {
        *why = "GPADL_BODY for an unknown GPADL";
        return VMBUS_GPADL_IGNORED;
    }
    if (cur->complete) {
        *why = "GPADL_BODY after the GPADL was complete";
        return VMBUS_GPADL_IGNORED;
    }
    *relid = cur->relid;

    bytes = len - GPADL_BODY_PFNS;
    n = bytes / GPADL_ITEM;
    if (bytes % GPADL_ITEM) {
        *why = "GPADL_BODY not a whole number of page numbers";
    } else if (!n) {
        *why = "GPADL_BODY without page numbers";
    } else if (n > cur->npages - cur->filled) {
        *why = "GPADL_BODY with more page numbers than missing";
    } else if (gpadl_take_pfns(cur, m + GPADL_BODY_PFNS, n, why)) {
        cur->complete = cur->filled == cur->npages;
        *g = cur;
        return cur->complete ? VMBUS_GPADL_DONE : VMBUS_GPADL_MORE;
    }
    /* Nothing references a GPADL still being built. */
    gpadl_release(s, cur);
    return VMBUS_GPADL_FAILED;
}

bool vmbus_gpadl_locate(const VMBusGpadl *g, uint64_t off, uint64_t *gpa,
                        uint32_t *chunk)
{
    uint32_t i;

    if (!g->complete || off >= g->len) {
        return false;
    }
    for (i = 0; i < g->nranges; i++) {
        const VMBusGpadlRange *r = &g->ranges[i];

        if (off < r->byte_count) {
            /* Below 2^32: byte_offset + byte_count was checked. */
            uint32_t at = r->byte_offset + off;
            uint32_t in_page = at % VMBUS_GPADL_PAGE_SIZE;

            *gpa = g->pfns[r->first + at / VMBUS_GPADL_PAGE_SIZE] *
                   VMBUS_GPADL_PAGE_SIZE + in_page;
            *chunk = MIN(VMBUS_GPADL_PAGE_SIZE - in_page,
                         r->byte_count - (uint32_t)off);
            return true;
        }
        off -= r->byte_count;
    }
    /* Unreachable: g->len is the sum of the byte counts. */
    return false;
}
