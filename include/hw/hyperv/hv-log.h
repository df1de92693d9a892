/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Rate-limited guest-error logging for the Hyper-V devices.
 *
 * A guest can repeat a bad hypercall or MSR write millions of times a
 * second; each call site logs at most HV_LOG_BURST lines per second
 * (with -d guest_errors), and says how many it left out.
 */

#ifndef HW_HYPERV_HV_LOG_H
#define HW_HYPERV_HV_LOG_H

#include "qemu/log.h"
#include "qemu/timer.h"

#define HV_LOG_BURST 10

typedef struct HvLogLimit {
    int64_t window;         /* the second we count in (realtime, s) */
    unsigned count;         /* lines logged or dropped in that second */
} HvLogLimit;

/*
 * Whether a line may be logged now; *@dropped gets how many were left
 * out in the previous window.  Racy across threads by design: at worst a
 * few lines more or less are logged.
 */
static inline bool hv_log_allow(HvLogLimit *lim, unsigned *dropped)
{
    int64_t now = qemu_clock_get_ms(QEMU_CLOCK_REALTIME) / 1000;

    *dropped = 0;
    if (now != qatomic_read(&lim->window)) {
        unsigned n = qatomic_xchg(&lim->count, 0);

        *dropped = n > HV_LOG_BURST ? n - HV_LOG_BURST : 0;
        qatomic_set(&lim->window, now);
    }
    return qatomic_fetch_inc(&lim->count) < HV_LOG_BURST;
}

#define hv_guest_error(fmt, ...)                                        \
    do {                                                                \
        static HvLogLimit hv_lim_;                                      \
        unsigned hv_dropped_;                                           \
        if (qemu_loglevel_mask(LOG_GUEST_ERROR) &&                      \
            hv_log_allow(&hv_lim_, &hv_dropped_)) {                     \
            qemu_log("hyperv: " fmt "%s\n", ##__VA_ARGS__,              \
                     hv_dropped_ ? " (and earlier lines left out)" : "");\
        }                                                               \
    } while (0)

#endif
