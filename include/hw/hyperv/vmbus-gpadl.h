/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * VMBus GPADLs, host side: guest physical address descriptor lists, the
 * page lists a guest hands to the host (rings, shared buffers) with
 * GPADL_HEADER and GPADL_BODY messages.  This file builds them from
 * those messages, checking every value, keeps them per VM within fixed
 * limits, and turns a GPADL byte offset into a guest physical address.
 * The bus (hw/hyperv/vmbus.c) sends the answers and maps the pages.
 */

#ifndef HW_HYPERV_VMBUS_GPADL_H
#define HW_HYPERV_VMBUS_GPADL_H

#include "qemu/queue.h"

/* Limits per VM (docs/devel/vmbus.md). */
#define VMBUS_GPADL_MAX_COUNT   4096            /* built or being built */
#define VMBUS_GPADL_MAX_PAGES   (1u << 22)      /* in all of them: 16 GiB */
#define VMBUS_GPADL_MAX_RANGES  64              /* in one GPADL */

#define VMBUS_GPADL_PAGE_SIZE   4096

/* One range: @byte_count bytes from @byte_offset into its first page. */
typedef struct VMBusGpadlRange {
    uint32_t byte_offset;
    uint32_t byte_count;
    uint32_t first;             /* index of its first page in pfns */
    uint32_t npages;
} VMBusGpadlRange;

typedef struct VMBusGpadl {
    uint32_t id;
    uint32_t relid;             /* the channel that made it */
    uint32_t nranges;
    VMBusGpadlRange *ranges;
    uint32_t npages;            /* page numbers the ranges need */
    uint32_t filled;            /* page numbers received so far */
    uint64_t *pfns;
    uint64_t len;               /* bytes: the sum of the byte counts */
    bool complete;
    bool teardown;              /* asked for while in use */
    unsigned refs;              /* users besides the set (open rings) */
    QTAILQ_ENTRY(VMBusGpadl) link;
} VMBusGpadl;

typedef struct VMBusGpadlSet {
    QTAILQ_HEAD(, VMBusGpadl) list;
    uint32_t count;
    uint64_t pages;             /* npages of all of them */
} VMBusGpadlSet;

/* What became of a GPADL_HEADER or GPADL_BODY message. */
typedef enum VMBusGpadlResult {
    /* accepted; more GPADL_BODY messages to come */
    VMBUS_GPADL_MORE,
    /* accepted; the GPADL is complete */
    VMBUS_GPADL_DONE,
    /* refused: answer GPADL_CREATED with a failure for (relid, id) */
    VMBUS_GPADL_FAILED,
    /*
     * nothing to answer: too short to name a GPADL, or a body for none
     * being built (unknown, or already complete)
     */
    VMBUS_GPADL_IGNORED,
} VMBusGpadlResult;

void vmbus_gpadl_set_init(VMBusGpadlSet *s);
/* Free every GPADL, whatever its state (bus reset, UNLOAD). */
void vmbus_gpadl_set_clear(VMBusGpadlSet *s);

/*
 * A GPADL_HEADER message of @len bytes (the 8-byte channel message
 * header included), whose sender already checked that its relid names a
 * channel.  On every result but IGNORED, *@relid and *@id are those the
 * message named, and on DONE and MORE *@g is the GPADL.  On FAILED and
 * IGNORED *@why says why, in a few words for a guest error.
 *
 * Every range head must be in the header message: a GPADL of several
 * ranges is refused unless all ranges but the last are complete there.
 */
VMBusGpadlResult vmbus_gpadl_header(VMBusGpadlSet *s, const void *msg,
                                    uint32_t len, uint32_t *relid,
                                    uint32_t *id, VMBusGpadl **g,
                                    const char **why);
/*
 * A GPADL_BODY message: page numbers for the GPADL being built under the
 * id it names.  Same results; *@relid is the channel that GPADL was made
 * for, and on FAILED the GPADL is gone.  The message number is not
 * checked (Linux leaves it 0).
 */
VMBusGpadlResult vmbus_gpadl_body(VMBusGpadlSet *s, const void *msg,
                                  uint32_t len, uint32_t *relid,
                                  uint32_t *id, VMBusGpadl **g,
                                  const char **why);

/* A complete or incomplete GPADL by id, or NULL. */
VMBusGpadl *vmbus_gpadl_find(VMBusGpadlSet *s, uint32_t id);
/* Remove and free @g (its refs must be 0). */
void vmbus_gpadl_free(VMBusGpadlSet *s, VMBusGpadl *g);
/*
 * Free every GPADL of channel @relid (UNLOAD of its device, release),
 * whatever its refs: the caller has closed the channel's rings first.
 */
void vmbus_gpadl_free_relid(VMBusGpadlSet *s, uint32_t relid);

/*
 * Where byte @off of the GPADL's contents is (the ranges one after the
 * other, each from its byte offset): the guest physical address, and in
 * *@chunk how many bytes from there are contiguous (up to the end of the
 * page or of the range).  false if @off is not below g->len, or if the
 * GPADL is not complete.
 */
bool vmbus_gpadl_locate(const VMBusGpadl *g, uint64_t off, uint64_t *gpa,
                        uint32_t *chunk);

#endif
