/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the benchmark suites share (synic-bench, vmbus-bench): the
 * "BENCH: <mode>-<figure> <value> <unit>" lines that bench/ collects,
 * medians of TSC samples, and the mode= option.
 */
#ifndef GUEST_BENCH_H
#define GUEST_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Print "BENCH: mode-what v unit". */
void bench_figure(const char *mode, const char *what, uint64_t v,
                  const char *unit);
/* Sort n samples in place (ascending). */
void bench_sort(uint64_t *a, unsigned long n);
/*
 * Sort n latency samples (cycles) whose sum is sum, and print the
 * figures <mode>-lat-median, -lat-mean, -lat-min (cycles) and
 * -lat-median-ns.
 */
void bench_latency(const char *mode, uint64_t *samples, unsigned long n,
                   uint64_t sum);
/* TSC cycles in nanoseconds, from the boot calibration. */
uint64_t bench_ns(uint64_t cycles);
/*
 * Whether every comma-separated word of list is "all", "none" or one of
 * the nr names at *first, *(first + stride bytes), ... (a NULL list is
 * "all").  BENCH_MODES_KNOWN(list, table): a table of structs whose
 * member name is the mode's name.
 */
bool bench_modes_known(const char *list, const char *const *first,
                       unsigned int nr, size_t stride);
#define BENCH_MODES_KNOWN(list, table)                                  \
    bench_modes_known((list), &(table)[0].name,                         \
                      sizeof(table) / sizeof((table)[0]), sizeof((table)[0]))
/* Whether list (NULL or "all": every mode) asks for mode name. */
bool bench_mode_wanted(const char *list, const char *name);
/*
 * Spin ms milliseconds (none if 0) after "INFO: bench: <word> <ms> ms",
 * so that the host can read counters of the VM at that point: "holding"
 * at the end of a run, "counting" where the part measured starts.
 */
void bench_hold_as(const char *word, unsigned long ms);
static inline void bench_hold(unsigned long ms)
{
    bench_hold_as("holding", ms);
}

#endif /* GUEST_BENCH_H */
