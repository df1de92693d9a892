// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Page allocator: a bump pointer over the usable RAM ranges plus a free
 * list of returned pages.  One spinlock protects all of it.
 */
#include <stddef.h>

#include "alloc.h"
#include "boot.h"
#include "spinlock.h"
#include "string.h"
#include "x86.h"

struct free_page {
    struct free_page *next;
};

static struct spinlock lock;
static struct mem_range ranges[MAX_MEM_RANGES];
static unsigned int nr_ranges, cur;
static struct free_page *free_list;
static uint64_t nr_free_listed;

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

bool alloc_init(uint64_t floor)
{
    unsigned int i;

    for (i = 0; i < boot_info.nr_ram; i++) {
        uint64_t start = align_up(boot_info.ram[i].start, PAGE_SIZE);
        uint64_t end = boot_info.ram[i].end & PAGE_MASK;

        if (start < floor) {
            start = align_up(floor, PAGE_SIZE);
        }
        if (start < end) {
            ranges[nr_ranges++] = (struct mem_range){ start, end };
        }
    }
    return nr_ranges > 0;
}

/* Take n contiguous pages from the bump ranges; lock held. */
static void *bump(unsigned int n)
{
    uint64_t size = (uint64_t)n * PAGE_SIZE;

    for (; cur < nr_ranges; cur++) {
        struct mem_range *r = &ranges[cur];

        if (r->end - r->start >= size) {
            void *p = phys_to_virt(r->start);

            r->start += size;
            return p;
        }
    }
    return NULL;
}

void *alloc_pages(unsigned int n)
{
    void *p = NULL;

    if (n == 0) {
        return NULL;
    }
    spin_lock(&lock);
    if (n == 1 && free_list) {
        p = free_list;
        free_list = free_list->next;
        nr_free_listed--;
    } else {
        p = bump(n);
    }
    spin_unlock(&lock);
    if (p) {
        memset(p, 0, (size_t)n * PAGE_SIZE);
    }
    return p;
}

void *alloc_page(void)
{
    return alloc_pages(1);
}

void free_page(void *page)
{
    struct free_page *f = page;

    if (!page) {
        return;
    }
    spin_lock(&lock);
    f->next = free_list;
    free_list = f;
    nr_free_listed++;
    spin_unlock(&lock);
}

uint64_t alloc_free_pages(void)
{
    uint64_t n;
    unsigned int i;

    spin_lock(&lock);
    n = nr_free_listed;
    for (i = cur; i < nr_ranges; i++) {
        n += (ranges[i].end - ranges[i].start) / PAGE_SIZE;
    }
    spin_unlock(&lock);
    return n;
}
