// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A small vsnprintf.  The output buffer is always terminated; the
 * return value is the length the full output would have had.
 */
#include <stdbool.h>
#include <stdint.h>

#include "printf.h"
#include "serial.h"
#include "string.h"

struct out {
    char *buf;
    size_t size;
    size_t len;
};

struct spec {
    bool left;
    char pad;
    int width;
    int precision;      /* -1: none */
    int longs;          /* 0: int, 1: long, 2: long long (both 64-bit) */
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size) {
        o->buf[o->len] = c;
    }
    o->len++;
}

static void put_padding(struct out *o, char c, int n)
{
    while (n-- > 0) {
        put(o, c);
    }
}

static void put_field(struct out *o, const struct spec *sp,
                      const char *s, int n)
{
    int fill = sp->width - n;

    if (!sp->left) {
        put_padding(o, sp->pad, fill);
    }
    while (n--) {
        put(o, *s++);
    }
    if (sp->left) {
        put_padding(o, ' ', fill);
    }
}

/* Digits of v into the end of tmp; returns where they start. */
static char *utoa(char *end, uint64_t v, unsigned int base, bool upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";

    do {
        *--end = digits[v % base];
        v /= base;
    } while (v);
    return end;
}

static void put_number(struct out *o, struct spec *sp, uint64_t v,
                       unsigned int base, bool negative, bool upper)
{
    char tmp[24];
    char *end = tmp + sizeof(tmp);
    char *s = utoa(end, v, base, upper);

    if (negative) {
        if (sp->pad == '0' && !sp->left) {
            /* the sign goes before the zero padding */
            put(o, '-');
            sp->width--;
        } else {
            *--s = '-';
        }
    }
    put_field(o, sp, s, end - s);
}

static uint64_t take_unsigned(const struct spec *sp, va_list *ap)
{
    return sp->longs ? va_arg(*ap, unsigned long) : va_arg(*ap, unsigned int);
}

static int64_t take_signed(const struct spec *sp, va_list *ap)
{
    return sp->longs ? va_arg(*ap, long) : va_arg(*ap, int);
}

static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
    *sp = (struct spec){ .pad = ' ', .precision = -1 };

    for (;; f++) {
        if (*f == '-') {
            sp->left = true;
        } else if (*f == '0') {
            sp->pad = '0';
        } else {
            break;
        }
    }
    if (*f == '*') {
        sp->width = va_arg(*ap, int);
        f++;
    }
    while (*f >= '0' && *f <= '9') {
        sp->width = sp->width * 10 + (*f++ - '0');
    }
    if (*f == '.' && f[1] == '*') {
        sp->precision = va_arg(*ap, int);
        f += 2;
    } else if (*f == '.') {
        sp->precision = 0;
        for (f++; *f >= '0' && *f <= '9'; f++) {
            sp->precision = sp->precision * 10 + (*f - '0');
        }
    }
    for (; *f == 'l' || *f == 'z'; f++) {
        sp->longs++;
    }
    return f;
}

static void put_string(struct out *o, struct spec *sp, const char *s)
{
    int n = 0;

    if (!s) {
        s = "(null)";
    }
    while (s[n] && (sp->precision < 0 || n < sp->precision)) {
        n++;
    }
    sp->pad = ' ';
    put_field(o, sp, s, n);
}

static void convert(struct out *o, struct spec *sp, char conv, va_list *ap)
{
    int64_t sv;
    char c;

    switch (conv) {
    case 'd':
    case 'i':
        sv = take_signed(sp, ap);
        put_number(o, sp, sv < 0 ? -(uint64_t)sv : (uint64_t)sv, 10,
                   sv < 0, false);
        break;
    case 'u':
        put_number(o, sp, take_unsigned(sp, ap), 10, false, false);
        break;
    case 'x':
    case 'X':
        put_number(o, sp, take_unsigned(sp, ap), 16, false, conv == 'X');
        break;
    case 'p':
        put(o, '0');
        put(o, 'x');
        *sp = (struct spec){ .pad = '0', .width = 16 };
        put_number(o, sp, (uintptr_t)va_arg(*ap, void *), 16, false, false);
        break;
    case 's':
        put_string(o, sp, va_arg(*ap, const char *));
        break;
    case 'c':
        c = (char)va_arg(*ap, int);
        put_field(o, sp, &c, 1);
        break;
    default:
        /* '%%' and unknown conversions print themselves */
        put(o, conv);
        break;
    }
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { .buf = buf, .size = size };
    struct spec sp;
    va_list aq;

    va_copy(aq, ap);
    while (*fmt) {
        if (*fmt != '%') {
            put(&o, *fmt++);
            continue;
        }
        fmt = parse_spec(fmt + 1, &sp, &aq);
        if (!*fmt) {
            break;
        }
        convert(&o, &sp, *fmt++, &aq);
    }
    va_end(aq);
    if (size) {
        buf[o.len < size ? o.len : size - 1] = '\0';
    }
    return o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int vprintf(const char *fmt, va_list ap)
{
    char buf[512];
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);

    serial_write(buf);
    return n;
}

int printf(const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}
