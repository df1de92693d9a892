/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The few C library string routines the guest needs.  GCC may also emit
 * calls to memset/memcpy/memmove/memcmp on its own, so these four must
 * exist with their standard names and semantics.
 */
#ifndef GUEST_STRING_H
#define GUEST_STRING_H

#include <stddef.h>
#include <stdbool.h>

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strncpy_term(char *dst, const char *src, size_t size);

/*
 * Parse an unsigned number (decimal, or hex with 0x) that fills the
 * whole of s[0..len).  Returns false on an empty, malformed or
 * overflowing number.
 */
bool parse_ulong(const char *s, size_t len, unsigned long *out);

#endif /* GUEST_STRING_H */
