/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test results.  Each check prints exactly one line:
 *
 *   PASS: <text>      or      FAIL: <text>
 *
 * informational lines start with "INFO: ", and the run ends with
 *
 *   SUMMARY: <suite> passed=<n> failed=<n>
 *
 * after which the guest leaves through isa-debug-exit (QEMU exit status
 * 1 when every check passed, 3 otherwise).  There is deliberately no
 * "skip": a check that cannot run is either not a check or a failure.
 * The text of a check should be unique within a suite run; it names the
 * result on the host.  report() may be called from any vCPU.
 */
#ifndef GUEST_REPORT_H
#define GUEST_REPORT_H

#include <stdbool.h>

#include "printf.h"

/* isa-debug-exit, as the runner configures it */
#define DEBUG_EXIT_PORT 0xf4

bool report(bool ok, const char *fmt, ...) PRINTF_FMT(2, 3);
void report_info(const char *fmt, ...) PRINTF_FMT(1, 2);

/* Prefix the text of later reports with "<prefix>: " (nests). */
void report_prefix_push(const char *prefix);
void report_prefix_pop(void);

void report_set_suite(const char *name);
unsigned int report_failed(void);
unsigned int report_passed(void);

/*
 * Add the counts of checks reported before a guest-initiated reset (the
 * host saw their lines), so that the summary covers the whole run.
 */
void report_carry(unsigned int passed, unsigned int failed);

/* Print SUMMARY and exit QEMU: status 1 if nothing failed, 3 otherwise. */
void __attribute__((noreturn)) report_summary_and_exit(void);

/* Leave QEMU through isa-debug-exit; halts forever if it is absent. */
void __attribute__((noreturn)) guest_exit(bool all_passed);

#endif /* GUEST_REPORT_H */
