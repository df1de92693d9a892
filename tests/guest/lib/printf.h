/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * printf-style formatting for the test guest.
 *
 * Conversions: %d %i %u %x %X %p %s %c %%, with the flags '-' and '0',
 * a field width and a precision for %s (digits or '*'), and the length
 * modifiers l, ll and z.  %p prints 0x followed by 16 hex digits.
 */
#ifndef GUEST_PRINTF_H
#define GUEST_PRINTF_H

#include <stdarg.h>
#include <stddef.h>

#define PRINTF_FMT(f, a) __attribute__((format(printf, f, a)))

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) PRINTF_FMT(3, 4);

/*
 * Formatted output to the console (COM1); one call is never interleaved
 * with output from another vCPU.
 */
int vprintf(const char *fmt, va_list ap);
int printf(const char *fmt, ...) PRINTF_FMT(1, 2);

#endif /* GUEST_PRINTF_H */
