/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The VMBus host's GPADL code (hw/hyperv/vmbus-gpadl.c), with this file
 * playing the guest: GPADLs in one message and over bodies, several
 * ranges, every malformed header and body it must refuse, the per-VM
 * limits, and byte offsets turned into guest physical addresses.
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "hw/hyperv/vmbus-gpadl.h"

#define PAGE 4096

/* What a guest puts in one message: a SynIC payload is 240 bytes. */
#define MSG_MAX         240
#define HDR_FIXED       20
#define BODY_FIXED      16
#define HDR_ITEMS       ((MSG_MAX - HDR_FIXED) / 8)     /* 27 */
#define BODY_ITEMS      ((MSG_MAX - BODY_FIXED) / 8)    /* 28 */

#define MAX_PFN         (UINT64_MAX / PAGE)

typedef struct Range {
    uint32_t offset;
    uint32_t count;
} Range;

/*
 * The 8-byte items of a GPADL as the guest lays them out: each range's
 * head followed by its page numbers.  The k-th page number of the GPADL
 * is @pfn0 + 3 * k (no two pages next to each other).  *@buflen gets the
 * range_buflen a guest would send.
 */
static uint64_t *make_items(const Range *r, uint32_t nranges, uint64_t pfn0,
                            uint32_t *nitems, uint16_t *buflen)
{
    uint32_t i, j, n = 0, k = 0, total = nranges;
    uint64_t *items;

    for (i = 0; i < nranges; i++) {
        total += DIV_ROUND_UP((uint64_t)r[i].offset + r[i].count, PAGE);
    }
    items = g_new(uint64_t, total);
    for (i = 0; i < nranges; i++) {
        uint32_t np = DIV_ROUND_UP((uint64_t)r[i].offset + r[i].count, PAGE);

        items[n++] = r[i].count | ((uint64_t)r[i].offset << 32);
        for (j = 0; j < np; j++) {
            items[n++] = pfn0 + 3 * k++;
        }
    }
    *nitems = n;
    *buflen = n * 8;
    return items;
}

/* A GPADL_HEADER with @nitems items; returns its length. */
static uint32_t put_header(uint8_t *buf, uint32_t relid, uint32_t id,
                           uint16_t buflen, uint16_t nranges,
                           const uint64_t *items, uint32_t nitems)
{
    uint32_t i;

    memset(buf, 0, HDR_FIXED);
    stl_le_p(buf, 8);
    stl_le_p(buf + 8, relid);
    stl_le_p(buf + 12, id);
    stw_le_p(buf + 16, buflen);
    stw_le_p(buf + 18, nranges);
    for (i = 0; i < nitems; i++) {
        stq_le_p(buf + HDR_FIXED + i * 8, items[i]);
    }
    return HDR_FIXED + nitems * 8;
}

static uint32_t put_body(uint8_t *buf, uint32_t id, const uint64_t *pfns,
                         uint32_t n)
{
    uint32_t i;

    memset(buf, 0, BODY_FIXED);
    stl_le_p(buf, 9);
    stl_le_p(buf + 12, id);
    for (i = 0; i < n; i++) {
        stq_le_p(buf + BODY_FIXED + i * 8, pfns[i]);
    }
    return BODY_FIXED + n * 8;
}

static VMBusGpadlResult send_header(VMBusGpadlSet *s, const uint8_t *buf,
                                    uint32_t len, const char **why)
{
    uint32_t relid = 0xdead, id = 0xdead;
    VMBusGpadl *g = NULL;
    VMBusGpadlResult res;

    *why = NULL;
    res = vmbus_gpadl_header(s, buf, len, &relid, &id, &g, why);
    if (res != VMBUS_GPADL_IGNORED) {
        g_assert_cmpuint(relid, ==, ldl_le_p(buf + 8));
        g_assert_cmpuint(id, ==, ldl_le_p(buf + 12));
    }
    if (res == VMBUS_GPADL_FAILED || res == VMBUS_GPADL_IGNORED) {
        g_assert_nonnull(*why);
    } else {
        g_assert_true(g == vmbus_gpadl_find(s, id));
    }
    return res;
}

static VMBusGpadlResult send_body(VMBusGpadlSet *s, const uint8_t *buf,
                                  uint32_t len, uint32_t want_relid,
                                  const char **why)
{
    uint32_t relid = 0xdead, id = 0xdead;
    VMBusGpadl *g = NULL;
    VMBusGpadlResult res;

    *why = NULL;
    res = vmbus_gpadl_body(s, buf, len, &relid, &id, &g, why);
    if (res != VMBUS_GPADL_IGNORED) {
        g_assert_cmpuint(relid, ==, want_relid);
        g_assert_cmpuint(id, ==, ldl_le_p(buf + 12));
    }
    if (res == VMBUS_GPADL_FAILED || res == VMBUS_GPADL_IGNORED) {
        g_assert_nonnull(*why);
    } else {
        g_assert_true(g == vmbus_gpadl_find(s, id));
    }
    return res;
}

/*
 * Make a GPADL the way a guest does: the header carries what fits, bodies
 * the rest.  Every message but the last must answer MORE, the last DONE.
 */
static VMBusGpadl *create(VMBusGpadlSet *s, uint32_t relid, uint32_t id,
                          const Range *r, uint32_t nranges, uint64_t pfn0)
{
    uint8_t buf[MSG_MAX];
    const char *why;
    uint32_t nitems, n, sent;
    uint16_t buflen;
    g_autofree uint64_t *items = make_items(r, nranges, pfn0, &nitems,
                                            &buflen);
    VMBusGpadl *g;

    n = MIN(nitems, HDR_ITEMS);
    g_assert_cmpint(send_header(s, buf, put_header(buf, relid, id, buflen,
                                                   nranges, items, n), &why),
                    ==, n == nitems ? VMBUS_GPADL_DONE : VMBUS_GPADL_MORE);
    for (sent = n; sent < nitems; sent += n) {
        n = MIN(nitems - sent, BODY_ITEMS);
        g_assert_cmpint(send_body(s, buf, put_body(buf, id, items + sent, n),
                                  relid, &why),
                        ==, sent + n == nitems ? VMBUS_GPADL_DONE :
                                                 VMBUS_GPADL_MORE);
    }
    g = vmbus_gpadl_find(s, id);
    g_assert_nonnull(g);
    g_assert_true(g->complete);
    return g;
}

/* Each page number is where make_items() put it. */
static void check_pfns(const VMBusGpadl *g, uint64_t pfn0)
{
    uint32_t k;

    g_assert_cmpuint(g->filled, ==, g->npages);
    for (k = 0; k < g->npages; k++) {
        g_assert_cmphex(g->pfns[k], ==, pfn0 + 3 * k);
    }
}

static void test_one_message(void)
{
    static const Range r[] = { { 0x10, 3 * PAGE } };
    VMBusGpadlSet s;
    VMBusGpadl *g;

    vmbus_gpadl_set_init(&s);
    g = create(&s, 7, 0xe1e10, r, 1, 0x1000);
    g_assert_cmpuint(g->relid, ==, 7);
    g_assert_cmpuint(g->id, ==, 0xe1e10);
    g_assert_cmpuint(g->nranges, ==, 1);
    g_assert_cmpuint(g->npages, ==, 4);
    g_assert_cmpuint(g->len, ==, 3 * PAGE);
    g_assert_cmpuint(g->ranges[0].byte_offset, ==, 0x10);
    g_assert_cmpuint(g->ranges[0].byte_count, ==, 3 * PAGE);
    g_assert_cmpuint(g->ranges[0].first, ==, 0);
    g_assert_cmpuint(g->ranges[0].npages, ==, 4);
    g_assert_false(g->teardown);
    g_assert_cmpuint(g->refs, ==, 0);
    check_pfns(g, 0x1000);
    g_assert_cmpuint(s.count, ==, 1);
    g_assert_cmpuint(s.pages, ==, 4);
    vmbus_gpadl_free(&s, g);
    g_assert_cmpuint(s.count, ==, 0);
    g_assert_cmpuint(s.pages, ==, 0);
    g_assert_null(vmbus_gpadl_find(&s, 0xe1e10));
}

/* Page numbers over bodies, at the edges of what a header carries. */
static void test_bodies(void)
{
    static const uint32_t npages[] = {
        HDR_ITEMS - 1, HDR_ITEMS, HDR_ITEMS - 1 + BODY_ITEMS,
        HDR_ITEMS + BODY_ITEMS, 100, 4096, 8190,
    };
    VMBusGpadlSet s;
    unsigned i;

    vmbus_gpadl_set_init(&s);
    for (i = 0; i < ARRAY_SIZE(npages); i++) {
        Range r = { 0, npages[i] * PAGE };
        VMBusGpadl *g = create(&s, 1, i, &r, 1, 0x100000 * (i + 1));

        g_assert_cmpuint(g->npages, ==, npages[i]);
        check_pfns(g, 0x100000 * (i + 1));
    }
    g_assert_cmpuint(s.count, ==, ARRAY_SIZE(npages));
    vmbus_gpadl_set_clear(&s);
    g_assert_cmpuint(s.count, ==, 0);
    g_assert_cmpuint(s.pages, ==, 0);
    g_assert_true(QTAILQ_EMPTY(&s.list));
}

/* Several ranges: all heads in the header, the last range may go on. */
static void test_multi_range(void)
{
    static const Range fits[] = {
        { 100, 5000 }, { 0, PAGE }, { PAGE - 1, 2 }, { 8, 60 * PAGE },
    };
    static const Range spill[] = { { 0, 26 * PAGE }, { 0, PAGE } };
    uint8_t buf[MSG_MAX];
    g_autofree uint64_t *items = NULL;
    const char *why;
    uint32_t nitems, i;
    uint16_t buflen;
    VMBusGpadlSet s;
    VMBusGpadl *g;

    vmbus_gpadl_set_init(&s);
    g = create(&s, 3, 1, fits, ARRAY_SIZE(fits), 0x500);
    g_assert_cmpuint(g->nranges, ==, 4);
    g_assert_cmpuint(g->npages, ==, 2 + 1 + 2 + 61);
    g_assert_cmpuint(g->len, ==, 5000 + PAGE + 2 + 60 * PAGE);
    for (i = 0; i < 4; i++) {
        g_assert_cmpuint(g->ranges[i].byte_offset, ==, fits[i].offset);
        g_assert_cmpuint(g->ranges[i].byte_count, ==, fits[i].count);
    }
    g_assert_cmpuint(g->ranges[1].first, ==, 2);
    g_assert_cmpuint(g->ranges[2].first, ==, 3);
    g_assert_cmpuint(g->ranges[3].first, ==, 5);
    g_assert_cmpuint(g->ranges[3].npages, ==, 61);
    check_pfns(g, 0x500);

    /*
     * The first range's 26 pages fill the header: the second head would
     * come in a body, which is refused.
     */
    items = make_items(spill, 2, 0x900, &nitems, &buflen);
    g_assert_cmpint(send_header(&s, buf, put_header(buf, 3, 2, buflen, 2,
                                                    items, HDR_ITEMS),
                                &why), ==, VMBUS_GPADL_FAILED);
    g_assert_cmpstr(why, ==, "GPADL range head not in the header message");
    g_assert_null(vmbus_gpadl_find(&s, 2));
    g_assert_cmpuint(s.count, ==, 1);
    g_assert_cmpuint(s.pages, ==, 66);
    vmbus_gpadl_set_clear(&s);
}

/* The most ranges, in a message longer than a guest can send. */
static void test_max_ranges(void)
{
    Range r[VMBUS_GPADL_MAX_RANGES + 1];
    g_autofree uint64_t *items = NULL;
    g_autofree uint8_t *buf = NULL;
    const char *why;
    uint32_t nitems, i;
    uint16_t buflen;
    VMBusGpadlSet s;

    for (i = 0; i < ARRAY_SIZE(r); i++) {
        r[i] = (Range) { i, PAGE - i };
    }
    items = make_items(r, ARRAY_SIZE(r), 1, &nitems, &buflen);
    buf = g_malloc(HDR_FIXED + nitems * 8);
    vmbus_gpadl_set_init(&s);
    g_assert_cmpint(send_header(&s, buf,
                                put_header(buf, 1, 1, buflen - 16,
                                           VMBUS_GPADL_MAX_RANGES, items,
                                           nitems - 2), &why),
                    ==, VMBUS_GPADL_DONE);
    g_assert_cmpuint(vmbus_gpadl_find(&s, 1)->nranges, ==, 64);
    g_assert_cmpint(send_header(&s, buf,
                                put_header(buf, 1, 2, buflen,
                                           VMBUS_GPADL_MAX_RANGES + 1, items,
                                           nitems), &why),
                    ==, VMBUS_GPADL_FAILED);
    g_assert_cmpstr(why, ==, "GPADL range count out of bounds");
    g_assert_cmpuint(s.count, ==, 1);
    vmbus_gpadl_set_clear(&s);
}

static void test_header_short(void)
{
    uint8_t buf[MSG_MAX];
    const char *why;
    VMBusGpadlSet s;
    uint64_t head = PAGE;

    vmbus_gpadl_set_init(&s);
    put_header(buf, 1, 1, 16, 1, &head, 0);
    g_assert_cmpint(send_header(&s, buf, 0, &why), ==, VMBUS_GPADL_IGNORED);
    g_assert_cmpint(send_header(&s, buf, 8, &why), ==, VMBUS_GPADL_IGNORED);
    g_assert_cmpint(send_header(&s, buf, HDR_FIXED - 1, &why), ==,
                    VMBUS_GPADL_IGNORED);
    g_assert_cmpstr(why, ==, "GPADL_HEADER too short");
    /* Long enough to name the GPADL, but not to hold its range head. */
    g_assert_cmpint(send_header(&s, buf, HDR_FIXED, &why), ==,
                    VMBUS_GPADL_FAILED);
    g_assert_cmpstr(why, ==, "GPADL range head not in the header message");
    put_header(buf, 1, 1, 16, 1, &head, 1);
    g_assert_cmpint(send_header(&s, buf, HDR_FIXED + 4, &why), ==,
                    VMBUS_GPADL_FAILED);
    g_assert_cmpstr(why, ==, "GPADL range head not in the header message");
    g_assert_cmpuint(s.count, ==, 0);
}

/* Headers a guest must not send: each is refused and leaves no trace. */
static void test_header_bad(void)
{
    static const struct {
        const char *why;
        uint16_t buflen, nranges;
        uint32_t nitems;
        uint64_t items[5];
        int extra;              /* bytes added to (or cut from) the end */
    } cases[] = {
        { "GPADL range count out of bounds", 16, 0, 2, { PAGE, 1 } },
        { "GPADL range_buflen does not match its ranges", 24, 1, 2,
          { PAGE, 1 } },
        { "GPADL range_buflen does not match its ranges", 8, 1, 2,
          { PAGE, 1 } },
        { "GPADL range_buflen does not match its ranges", 16, 1, 2,
          { PAGE + 1, 1 } },
        { "range offset not inside its first page", 16, 1, 2,
          { 1 | ((uint64_t)PAGE << 32), 1 } },
        { "empty range", 16, 1, 2, { 0, 1 } },
        { "range end beyond 32 bits", 16, 1, 2,
          { UINT32_MAX | (1ull << 32), 1 } },
        { "GPADL_HEADER not a whole number of page numbers", 24, 1, 2,
          { PAGE + 1, 1 }, 4 },
        { "GPADL_HEADER not a whole number of page numbers", 24, 1, 3,
          { PAGE + 1, 1, 2 }, -4 },
        { "GPADL_HEADER with more page numbers than its ranges", 16, 1, 3,
          { PAGE, 1, 2 } },
        { "GPADL_HEADER with more page numbers than its ranges", 32, 2, 5,
          { 1, 1, 1, 2, 3 } },
        { "page number beyond 64-bit addresses", 16, 1, 2,
          { PAGE, MAX_PFN + 1 } },
        { "page number beyond 64-bit addresses", 24, 1, 2,
          { PAGE + 1, UINT64_MAX } },
        { "page number beyond 64-bit addresses", 32, 2, 3,
          { 1, MAX_PFN + 1, 1 } },
    };
    VMBusGpadlSet s;
    unsigned i;

    vmbus_gpadl_set_init(&s);
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        uint8_t buf[MSG_MAX] = { 0 };
        const char *why;
        uint32_t len = put_header(buf, 5, 9, cases[i].buflen,
                                  cases[i].nranges, cases[i].items,
                                  cases[i].nitems);

        g_test_message("%u: %s", i, cases[i].why);
        g_assert_cmpint(send_header(&s, buf, len + cases[i].extra, &why),
                        ==, VMBUS_GPADL_FAILED);
        g_assert_cmpstr(why, ==, cases[i].why);
        g_assert_null(vmbus_gpadl_find(&s, 9));
        g_assert_cmpuint(s.count, ==, 0);
        g_assert_cmpuint(s.pages, ==, 0);
    }
}

/* The edges those rules leave open are accepted. */
static void test_header_edges(void)
{
    static const Range top[] = { { 0, PAGE } };
    uint8_t buf[MSG_MAX];
    uint64_t items[2] = { PAGE, MAX_PFN };
    uint64_t head = (UINT32_MAX - PAGE + 1) | ((uint64_t)(PAGE - 1) << 32);
    const char *why;
    VMBusGpadlSet s;
    VMBusGpadl *g;
    uint64_t gpa;
    uint32_t chunk;

    vmbus_gpadl_set_init(&s);
    /* The highest page there is. */
    g_assert_cmpint(send_header(&s, buf, put_header(buf, 1, 1, 16, 1, items,
                                                    2), &why),
                    ==, VMBUS_GPADL_DONE);
    g = vmbus_gpadl_find(&s, 1);
    g_assert_true(vmbus_gpadl_locate(g, PAGE - 1, &gpa, &chunk));
    g_assert_cmphex(gpa, ==, UINT64_MAX);
    g_assert_cmpuint(chunk, ==, 1);
    /*
     * A range that ends at the last byte 32 bits can count (2^20 pages)
     * passes the range checks; range_buflen cannot describe it.
     */
    g_assert_cmpint(send_header(&s, buf, put_header(buf, 1, 2, 0, 1, &head,
                                                    1), &why),
                    ==, VMBUS_GPADL_FAILED);
    g_assert_cmpstr(why, ==, "GPADL range_buflen does not match its ranges");
    g = create(&s, 1, 3, top, 1, 0);
    g_assert_cmphex(g->pfns[0], ==, 0);
    vmbus_gpadl_set_clear(&s);
}

/*
 * A GPADL of more than VMBUS_GPADL_MAX_PAGES pages: five ranges of 2^20
 * pages, possible only in a message far longer than a guest can send.
 */
static void test_header_max_pages(void)
{
    const uint32_t np = 1u << 20;
    const uint32_t len = HDR_FIXED + 4 * 8 * (np + 1) + 8;
    g_autofree uint8_t *buf = g_malloc0(len);
    uint64_t head = (UINT32_MAX - PAGE + 1) | ((uint64_t)(PAGE - 1) << 32);
    const char *why;
    VMBusGpadlSet s;
    unsigned i;

    vmbus_gpadl_set_init(&s);
    put_header(buf, 1, 1, 0, 5, NULL, 0);
    for (i = 0; i < 5; i++) {
        stq_le_p(buf + HDR_FIXED + i * 8 * (np + 1), head);
    }
    g_assert_cmpint(send_header(&s, buf, len, &why), ==, VMBUS_GPADL_FAILED);
    g_assert_cmpstr(why, ==, "GPADL with too many pages");
    /* Four of them are the most a GPADL may have. */
    g_assert_cmpint(send_header(&s, buf, put_header(buf, 1, 1, 0, 4, NULL, 0)
                                + 4 * 8 * (np + 1) - 8, &why),
                    ==, VMBUS_GPADL_FAILED);
    g_assert_cmpstr(why, ==, "GPADL range_buflen does not match its ranges");
    g_assert_cmpuint(s.count, ==, 0);
}

/* An id is in use from its header until the GPADL is freed. */
static void test_id(void)
{
    static const Range one[] = { { 0, PAGE } };
    static const Range big[] = { { 0, 40 * PAGE } };
    uint8_t buf[MSG_MAX];
    g_autofree uint64_t *items = NULL;
    const char *why;
    uint32_t nitems;
    uint16_t buflen;
    VMBusGpadlSet s;
    VMBusGpadl *g;

    vmbus_gpadl_set_init(&s);
    create(&s, 1, 10, one, 1, 0x10);
    /* The id of a complete GPADL, even from another channel. */
    items = make_items(big, 1, 0x20, &nitems, &buflen);
    g_assert_cmpint(send_header(&s, buf, put_header(buf, 2, 10, buflen, 1,
                                                    items, HDR_ITEMS),
                                &why), ==, VMBUS_GPADL_FAILED);
    g_assert_cmpstr(why, ==, "GPADL id already in use");
    g = vmbus_gpadl_find(&s, 10);
    g_assert_cmpuint(g->relid, ==, 1);
    g_assert_cmpuint(g->npages, ==, 1);
    check_pfns(g, 0x10);

    /* The id of one being built: it is not disturbed. */
    g_assert_cmpint(send_header(&s, buf, put_header(buf, 2, 11, buflen, 1,
                                                    items, HDR_ITEMS),
                                &why), ==, VMBUS_GPADL_MORE);
    g_assert_cmpint(send_header(&s, buf, put_header(buf, 2, 11, buflen, 1,
                                                    items, HDR_ITEMS),
                                &why), ==, VMBUS_GPADL_FAILED);
    g_assert_cmpstr(why, ==, "GPADL id already in use");
    g_assert_cmpint(send_body(&s, buf, put_body(buf, 11, items + HDR_ITEMS,
                                                nitems - HDR_ITEMS),
                              2, &why), ==, VMBUS_GPADL_DONE);
    check_pfns(vmbus_gpadl_find(&s, 11), 0x20);
    g_assert_cmpuint(s.count, ==, 2);
    g_assert_cmpuint(s.pages, ==, 41);

    /* Freed, the id can be used again. */
    vmbus_gpadl_free(&s, vmbus_gpadl_find(&s, 10));
    create(&s, 3, 10, big, 1, 0x20);
    g_assert_cmpuint(s.count, ==, 2);
    g_assert_cmpuint(s.pages, ==, 80);
    vmbus_gpadl_set_clear(&s);
}

static void test_body_ignored(void)
{
    static const Range one[] = { { 0, PAGE } };
    static const Range big[] = { { 0, 40 * PAGE } };
    uint8_t buf[MSG_MAX];
    g_autofree uint64_t *items = NULL;
    const char *why;
    uint32_t nitems;
    uint16_t buflen;
    uint64_t pfn = 5;
    VMBusGpadlSet s;
    VMBusGpadl *g;

    vmbus_gpadl_set_init(&s);
    g = create(&s, 1, 10, one, 1, 0x10);
    /* None under this id. */
    g_assert_cmpint(send_body(&s, buf, put_body(buf, 11, &pfn, 1), 0, &why),
                    ==, VMBUS_GPADL_IGNORED);
    g_assert_cmpstr(why, ==, "GPADL_BODY for an unknown GPADL");
    /* No body after completion: the GPADL stays as it was. */
    g_assert_cmpint(send_body(&s, buf, put_body(buf, 10, &pfn, 1), 0, &why),
                    ==, VMBUS_GPADL_IGNORED);
    g_assert_cmpstr(why, ==, "GPADL_BODY after the GPADL was complete");
    g_assert_true(vmbus_gpadl_find(&s, 10) == g);
    check_pfns(g, 0x10);

    /* Too short to name one: not even the one being built is touched. */
    items = make_items(big, 1, 0x20, &nitems, &buflen);
    g_assert_cmpint(send_header(&s, buf, put_header(buf, 2, 12, buflen, 1,
                                                    items, HDR_ITEMS),
                                &why), ==, VMBUS_GPADL_MORE);
    put_body(buf, 12, items + HDR_ITEMS, 1);
    g_assert_cmpint(send_body(&s, buf, BODY_FIXED - 1, 0, &why), ==,
                    VMBUS_GPADL_IGNORED);
    g_assert_cmpstr(why, ==, "GPADL_BODY too short");
    g_assert_cmpint(send_body(&s, buf, 0, 0, &why), ==, VMBUS_GPADL_IGNORED);
    g_assert_cmpuint(vmbus_gpadl_find(&s, 12)->filled, ==, HDR_ITEMS - 1);
    g_assert_cmpuint(s.count, ==, 2);
    vmbus_gpadl_set_clear(&s);
}

/* Bodies that fail the GPADL they name: it is freed. */
static void test_body_bad(void)
{
    static const Range big[] = { { 0, 40 * PAGE } };
    static const struct {
        const char *why;
        uint32_t n;             /* page numbers in the body */
        int extra;              /* bytes added to (or cut from) the end */
        uint64_t bad;           /* if not 0, the last page number */
    } cases[] = {
        { "GPADL_BODY not a whole number of page numbers", 1, 4 },
        { "GPADL_BODY not a whole number of page numbers", 2, -1 },
        { "GPADL_BODY not a whole number of page numbers", 0, 7 },
        { "GPADL_BODY without page numbers", 0, 0 },
        /* 40 pages, 26 in the header: 14 missing */
        { "GPADL_BODY with more page numbers than missing", 15, 0 },
        { "GPADL_BODY with more page numbers than missing", 28, 0 },
        { "page number beyond 64-bit addresses", 14, 0, MAX_PFN + 1 },
        { "page number beyond 64-bit addresses", 1, 0, UINT64_MAX },
    };
    static const Range one[] = { { 0, PAGE } };
    g_autofree uint64_t *items = NULL;
    uint32_t nitems;
    uint16_t buflen;
    VMBusGpadlSet s;
    unsigned i;

    items = make_items(big, 1, 0x20, &nitems, &buflen);
    vmbus_gpadl_set_init(&s);
    create(&s, 1, 10, one, 1, 0x10);
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        uint8_t buf[MSG_MAX + 8] = { 0 };
        uint64_t pfns[BODY_ITEMS];
        const char *why;
        uint32_t len;

        g_test_message("%u: %s", i, cases[i].why);
        g_assert_cmpint(send_header(&s, buf, put_header(buf, 4, 12, buflen,
                                                        1, items, HDR_ITEMS),
                                    &why), ==, VMBUS_GPADL_MORE);
        g_assert_cmpuint(s.count, ==, 2);
        g_assert_cmpuint(s.pages, ==, 41);
        memset(pfns, 0, sizeof(pfns));
        memcpy(pfns, items + HDR_ITEMS, (nitems - HDR_ITEMS) * 8);
        if (cases[i].bad) {
            pfns[cases[i].n - 1] = cases[i].bad;
        }
        len = put_body(buf, 12, pfns, cases[i].n) + cases[i].extra;
        g_assert_cmpint(send_body(&s, buf, len, 4, &why), ==,
                        VMBUS_GPADL_FAILED);
        g_assert_cmpstr(why, ==, cases[i].why);
        /* Gone, its id free again; the other GPADL untouched. */
        g_assert_null(vmbus_gpadl_find(&s, 12));
        g_assert_cmpuint(s.count, ==, 1);
        g_assert_cmpuint(s.pages, ==, 1);
        g_assert_cmpint(send_body(&s, buf, len, 4, &why), ==,
                        VMBUS_GPADL_IGNORED);
    }
    check_pfns(vmbus_gpadl_find(&s, 10), 0x10);
    vmbus_gpadl_set_clear(&s);
}

/* VMBUS_GPADL_MAX_COUNT GPADLs, complete or being built, and no more. */
static void test_limit_count(void)
{
    static const Range one[] = { { 0, PAGE } };
    static const Range two[] = { { 0, 2 * PAGE } };
    uint8_t buf[MSG_MAX];
    uint64_t items[3] = { 2 * PAGE, 1, 2 };
    const char *why;
    VMBusGpadlSet s;
    uint32_t i;

    vmbus_gpadl_set_init(&s);
    for (i = 0; i < VMBUS_GPADL_MAX_COUNT; i++) {
        if (i % 2) {
            create(&s, i, i, one, 1, i);
        } else {
            /* Half of them wait for their second page. */
            g_assert_cmpint(send_header(&s, buf, put_header(buf, i, i, 24, 1,
                                                            items, 2),
                                        &why), ==, VMBUS_GPADL_MORE);
        }
    }
    g_assert_cmpuint(s.count, ==, VMBUS_GPADL_MAX_COUNT);
    g_assert_cmpuint(s.pages, ==, VMBUS_GPADL_MAX_COUNT / 2 * 3);
    g_assert_cmpint(send_header(&s, buf, put_header(buf, 1, i, 24, 1, items,
                                                    3), &why),
                    ==, VMBUS_GPADL_FAILED);
    g_assert_cmpstr(why, ==, "too many GPADLs");
    g_assert_null(vmbus_gpadl_find(&s, i));
    /* One being built is finished: still the same number. */
    g_assert_cmpint(send_body(&s, buf, put_body(buf, 0, items + 2, 1), 0,
                              &why), ==, VMBUS_GPADL_DONE);
    g_assert_cmpint(send_header(&s, buf, put_header(buf, 1, i, 24, 1, items,
                                                    3), &why),
                    ==, VMBUS_GPADL_FAILED);
    /* One fewer, one more. */
    vmbus_gpadl_free(&s, vmbus_gpadl_find(&s, 7));
    create(&s, 1, i, two, 1, 1);
    g_assert_cmpuint(s.count, ==, VMBUS_GPADL_MAX_COUNT);
    vmbus_gpadl_set_clear(&s);
    g_assert_cmpuint(s.count, ==, 0);
    g_assert_cmpuint(s.pages, ==, 0);
}

/* VMBUS_GPADL_MAX_PAGES pages over all GPADLs, being built or not. */
static void test_limit_pages(void)
{
    /* The most range_buflen can describe in one range. */
    const uint32_t most = (UINT16_MAX - 8) / 8;
    const uint32_t full = VMBUS_GPADL_MAX_PAGES / most;
    const uint32_t rest = VMBUS_GPADL_MAX_PAGES - full * most;
    Range r = { 0, most * PAGE };
    uint8_t buf[MSG_MAX];
    g_autofree uint64_t *items = NULL;
    const char *why;
    uint32_t nitems, i;
    uint16_t buflen;
    VMBusGpadlSet s;

    g_assert_cmpuint(most, ==, 8190);
    items = make_items(&r, 1, 0, &nitems, &buflen);
    vmbus_gpadl_set_init(&s);
    for (i = 0; i < full; i++) {
        g_assert_cmpint(send_header(&s, buf, put_header(buf, 1, i, buflen,
                                                        1, items, HDR_ITEMS),
                                    &why), ==, VMBUS_GPADL_MORE);
    }
    g_assert_cmpuint(s.pages, ==, full * most);
    /* One page too many. */
    r.count = (rest + 1) * PAGE;
    g_free(items);
    items = make_items(&r, 1, 0, &nitems, &buflen);
    g_assert_cmpint(send_header(&s, buf, put_header(buf, 1, i, buflen, 1,
                                                    items, HDR_ITEMS),
                                &why), ==, VMBUS_GPADL_FAILED);
    g_assert_cmpstr(why, ==, "too many pages in GPADLs");
    g_assert_null(vmbus_gpadl_find(&s, i));
    /* Exactly the rest. */
    r.count = rest * PAGE;
    g_free(items);
    items = make_items(&r, 1, 0, &nitems, &buflen);
    g_assert_cmpint(send_header(&s, buf, put_header(buf, 1, i, buflen, 1,
                                                    items, HDR_ITEMS),
                                &why), ==, VMBUS_GPADL_MORE);
    g_assert_cmpuint(s.pages, ==, VMBUS_GPADL_MAX_PAGES);
    r.count = 1;
    g_free(items);
    items = make_items(&r, 1, 0, &nitems, &buflen);
    g_assert_cmpint(send_header(&s, buf, put_header(buf, 1, i + 1, buflen, 1,
                                                    items, nitems),
                                &why), ==, VMBUS_GPADL_FAILED);
    g_assert_cmpstr(why, ==, "too many pages in GPADLs");
    /* Freed pages can be used again. */
    vmbus_gpadl_free(&s, vmbus_gpadl_find(&s, 0));
    g_assert_cmpuint(s.pages, ==, VMBUS_GPADL_MAX_PAGES - most);
    create(&s, 1, i + 1, &r, 1, 0);
    vmbus_gpadl_set_clear(&s);
    g_assert_cmpuint(s.pages, ==, 0);
}

static void test_free_relid(void)
{
    static const Range r[] = { { 0, 2 * PAGE } };
    uint8_t buf[MSG_MAX];
    uint64_t items[2] = { 2 * PAGE, 1 };
    const char *why;
    VMBusGpadlSet s;

    vmbus_gpadl_set_init(&s);
    create(&s, 1, 1, r, 1, 0);
    create(&s, 2, 2, r, 1, 0);
    create(&s, 1, 3, r, 1, 0);
    g_assert_cmpint(send_header(&s, buf, put_header(buf, 1, 4, 24, 1, items,
                                                    2), &why),
                    ==, VMBUS_GPADL_MORE);
    vmbus_gpadl_find(&s, 3)->refs = 1;
    vmbus_gpadl_free_relid(&s, 1);
    g_assert_null(vmbus_gpadl_find(&s, 1));
    g_assert_nonnull(vmbus_gpadl_find(&s, 2));
    g_assert_null(vmbus_gpadl_find(&s, 3));
    g_assert_null(vmbus_gpadl_find(&s, 4));
    g_assert_cmpuint(s.count, ==, 1);
    g_assert_cmpuint(s.pages, ==, 2);
    vmbus_gpadl_free_relid(&s, 2);
    g_assert_true(QTAILQ_EMPTY(&s.list));
    g_assert_cmpuint(s.count, ==, 0);
    g_assert_cmpuint(s.pages, ==, 0);
}

/* Where byte @off is, found the long way: the pages of its range. */
static uint64_t ref_gpa(const Range *r, uint32_t nranges, uint64_t pfn0,
                        uint64_t off, uint32_t *chunk)
{
    uint32_t i, first = 0;

    for (i = 0; i < nranges; i++) {
        uint64_t at = r[i].offset + off;

        if (off < r[i].count) {
            *chunk = MIN(PAGE - at % PAGE, r[i].count - off);
            return (pfn0 + 3 * (first + at / PAGE)) * PAGE + at % PAGE;
        }
        off -= r[i].count;
        first += DIV_ROUND_UP((uint64_t)r[i].offset + r[i].count, PAGE);
    }
    g_assert_not_reached();
}

static void test_locate(void)
{
    static const Range r[] = {
        { 100, 5000 }, { 0, PAGE }, { PAGE - 1, 2 }, { 1, 1 },
        { 8, 30 * PAGE - 8 },
    };
    static const struct {
        uint64_t off, gpa;
        uint32_t chunk;
    } edges[] = {
        /* range 0: pages 0 and 1, from byte 100 */
        { 0, 0x1000 * PAGE + 100, PAGE - 100 },
        { PAGE - 101, 0x1000 * PAGE + PAGE - 1, 1 },
        { PAGE - 100, 0x1003 * PAGE, 5000 - (PAGE - 100) },
        { 4999, 0x1003 * PAGE + 5099 - PAGE, 1 },
        /* range 1: page 2, whole */
        { 5000, 0x1006 * PAGE, PAGE },
        { 5000 + PAGE - 1, 0x1006 * PAGE + PAGE - 1, 1 },
        /* range 2: the last byte of page 3, the first of page 4 */
        { 5000 + PAGE, 0x1009 * PAGE + PAGE - 1, 1 },
        { 5001 + PAGE, 0x100c * PAGE, 1 },
        /* range 3: byte 1 of page 5 */
        { 5002 + PAGE, 0x100f * PAGE + 1, 1 },
        /* range 4: pages 6 to 35 from byte 8 (bodies bring most) */
        { 5003 + PAGE, 0x1012 * PAGE + 8, PAGE - 8 },
        { 5003 + 2 * PAGE - 8, 0x1015 * PAGE, PAGE },
        { 5003 + 31 * PAGE - 9, 0x1069 * PAGE + PAGE - 1, 1 },
    };
    const uint64_t len = 5003 + 31 * PAGE - 8;
    uint8_t buf[MSG_MAX];
    uint64_t items[3] = { 2 * PAGE, 1 };
    uint64_t gpa, off;
    const char *why;
    uint32_t chunk, want;
    VMBusGpadlSet s;
    VMBusGpadl *g;
    unsigned i;

    vmbus_gpadl_set_init(&s);
    g = create(&s, 1, 1, r, ARRAY_SIZE(r), 0x1000);
    g_assert_cmpuint(g->len, ==, len);
    for (i = 0; i < ARRAY_SIZE(edges); i++) {
        g_test_message("offset %" PRIu64, edges[i].off);
        g_assert_true(vmbus_gpadl_locate(g, edges[i].off, &gpa, &chunk));
        g_assert_cmphex(gpa, ==, edges[i].gpa);
        g_assert_cmpuint(chunk, ==, edges[i].chunk);
    }
    /* Every byte, and the chunks cover the GPADL exactly once. */
    for (off = 0; off < len; off++) {
        g_assert_true(vmbus_gpadl_locate(g, off, &gpa, &chunk));
        g_assert_cmphex(gpa, ==, ref_gpa(r, ARRAY_SIZE(r), 0x1000, off,
                                         &want));
        g_assert_cmpuint(chunk, ==, want);
    }
    for (off = 0, i = 0; off < len; off += chunk, i++) {
        g_assert_true(vmbus_gpadl_locate(g, off, &gpa, &chunk));
        g_assert_cmpuint(chunk, >, 0);
    }
    g_assert_cmpuint(off, ==, len);
    g_assert_cmpuint(i, ==, 2 + 1 + 2 + 1 + 30);
    g_assert_false(vmbus_gpadl_locate(g, len, &gpa, &chunk));
    g_assert_false(vmbus_gpadl_locate(g, UINT64_MAX, &gpa, &chunk));
    g_assert_false(vmbus_gpadl_locate(g, 1ull << 32, &gpa, &chunk));

    /* Not while it is being built. */
    g_assert_cmpint(send_header(&s, buf, put_header(buf, 1, 2, 24, 1, items,
                                                    2), &why),
                    ==, VMBUS_GPADL_MORE);
    g_assert_false(vmbus_gpadl_locate(vmbus_gpadl_find(&s, 2), 0, &gpa,
                                      &chunk));
    vmbus_gpadl_set_clear(&s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vmbus-gpadl/one-message", test_one_message);
    g_test_add_func("/vmbus-gpadl/bodies", test_bodies);
    g_test_add_func("/vmbus-gpadl/multi-range", test_multi_range);
    g_test_add_func("/vmbus-gpadl/max-ranges", test_max_ranges);
    g_test_add_func("/vmbus-gpadl/header/short", test_header_short);
    g_test_add_func("/vmbus-gpadl/header/bad", test_header_bad);
    g_test_add_func("/vmbus-gpadl/header/edges", test_header_edges);
    g_test_add_func("/vmbus-gpadl/header/max-pages", test_header_max_pages);
    g_test_add_func("/vmbus-gpadl/id", test_id);
    g_test_add_func("/vmbus-gpadl/body/ignored", test_body_ignored);
    g_test_add_func("/vmbus-gpadl/body/bad", test_body_bad);
    g_test_add_func("/vmbus-gpadl/limit/count", test_limit_count);
    g_test_add_func("/vmbus-gpadl/limit/pages", test_limit_pages);
    g_test_add_func("/vmbus-gpadl/free-relid", test_free_relid);
    g_test_add_func("/vmbus-gpadl/locate", test_locate);
    return g_test_run();
}
