/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Time: the TSC, calibrated once against the PIT, and bounded waits.
 *
 * wait_for(cond, usec) re-evaluates cond until it is true or usec
 * microseconds have passed on the TSC, and returns the last value of
 * cond.  It also counts iterations (at most WAIT_ITERS_PER_US per
 * microsecond, far more than any CPU manages), so a TSC that stands
 * still or jumps cannot turn it into an endless loop.
 */
#ifndef GUEST_TIMING_H
#define GUEST_TIMING_H

#include <stdbool.h>
#include <stdint.h>

#include "x86.h"

#define WAIT_ITERS_PER_US   1000ull

struct wait_bound {
    uint64_t deadline;          /* TSC */
    uint64_t iters_left;
};

/* Measure the TSC rate; false (and a fixed guess is used) if implausible. */
bool tsc_calibrate(void);
uint64_t tsc_khz(void);

uint64_t usec_to_tsc(uint64_t usec);
uint64_t tsc_to_usec(uint64_t tsc);

void wait_bound_start(struct wait_bound *wb, uint64_t usec);
bool wait_bound_expired(struct wait_bound *wb);

#define wait_for(cond, usec)                                        \
    ({                                                              \
        struct wait_bound wb_;                                      \
        bool ok_;                                                   \
        wait_bound_start(&wb_, (usec));                             \
        while (!(ok_ = !!(cond)) && !wait_bound_expired(&wb_)) {    \
            cpu_relax();                                            \
        }                                                           \
        ok_;                                                        \
    })

/* Busy-wait usec microseconds. */
void udelay(uint64_t usec);

#endif /* GUEST_TIMING_H */
