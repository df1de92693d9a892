/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A page allocator for guest RAM after the image.  Pages are 4 KiB,
 * zeroed, identity mapped (the pointer is the guest physical address)
 * and below 4 GiB.  Safe to call from any vCPU.
 */
#ifndef GUEST_ALLOC_H
#define GUEST_ALLOC_H

#include <stdbool.h>
#include <stdint.h>

/* Use the RAM ranges of boot_info above "floor"; false if none is left. */
bool alloc_init(uint64_t floor);

/* One zeroed page, or NULL when guest RAM is exhausted. */
void *alloc_page(void);

/* n physically contiguous zeroed pages, or NULL. */
void *alloc_pages(unsigned int n);

void free_page(void *page);

static inline uint64_t virt_to_phys(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

static inline void *phys_to_virt(uint64_t pa)
{
    return (void *)(uintptr_t)pa;
}

/* Pages not handed out yet (for the allocator self-test). */
uint64_t alloc_free_pages(void);

#endif /* GUEST_ALLOC_H */
