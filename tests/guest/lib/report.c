// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Result lines and the final summary (protocol in report.h).
 */
#include <stdarg.h>

#include "printf.h"
#include "report.h"
#include "string.h"
#include "x86.h"

static unsigned int passed, failed;
static const char *suite_name = "none";
static char prefix[128];

static void emit(const char *tag, const char *fmt, va_list ap)
{
    char text[400];

    vsnprintf(text, sizeof(text), fmt, ap);
    printf("%s: %s%s\n", tag, prefix, text);
}

bool report(bool ok, const char *fmt, ...)
{
    va_list ap;

    __atomic_fetch_add(ok ? &passed : &failed, 1, __ATOMIC_RELAXED);
    va_start(ap, fmt);
    emit(ok ? "PASS" : "FAIL", fmt, ap);
    va_end(ap);
    return ok;
}

void report_info(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    emit("INFO", fmt, ap);
    va_end(ap);
}

void report_prefix_push(const char *p)
{
    size_t len = strlen(prefix);

    snprintf(prefix + len, sizeof(prefix) - len, "%s: ", p);
}

void report_prefix_pop(void)
{
    size_t len = strlen(prefix);

    /* drop the trailing ": " and then the last component */
    if (len < 2) {
        return;
    }
    len -= 2;
    while (len && !(prefix[len - 1] == ' ' && len >= 2 &&
                    prefix[len - 2] == ':')) {
        len--;
    }
    prefix[len] = '\0';
}

void report_set_suite(const char *name)
{
    suite_name = name;
}

unsigned int report_failed(void)
{
    return __atomic_load_n(&failed, __ATOMIC_RELAXED);
}

unsigned int report_passed(void)
{
    return __atomic_load_n(&passed, __ATOMIC_RELAXED);
}

void report_carry(unsigned int p, unsigned int f)
{
    __atomic_fetch_add(&passed, p, __ATOMIC_RELAXED);
    __atomic_fetch_add(&failed, f, __ATOMIC_RELAXED);
}

void guest_exit(bool all_passed)
{
    /* isa-debug-exit turns value v into QEMU exit status (v << 1) | 1 */
    outl(DEBUG_EXIT_PORT, all_passed ? 0 : 1);
    for (;;) {
        asm volatile("cli; hlt");
    }
}

void report_summary_and_exit(void)
{
    unsigned int p = report_passed();
    unsigned int f = report_failed();

    printf("SUMMARY: %s passed=%u failed=%u\n", suite_name, p, f);
    guest_exit(f == 0);
}
