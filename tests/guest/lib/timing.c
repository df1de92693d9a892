// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * TSC calibration with PIT channel 2 and the bounded-wait helpers.
 *
 * Channel 2 is gated by bit 0 of port 0x61 and its output is readable as
 * bit 5 of the same port; in mode 0 the output rises when the count
 * reaches zero, so counting TSC ticks until then measures a known time.
 */
#include "timing.h"

#define PIT_HZ          1193182ull
#define PIT_CH2_DATA    0x42
#define PIT_MODE_PORT   0x43
#define PIT_GATE_PORT   0x61
#define PIT_GATE        0x01
#define PIT_SPEAKER     0x02
#define PIT_CH2_OUT     0x20
#define PIT_CH2_MODE0   0xb0    /* channel 2, lo/hi byte, mode 0, binary */

#define CALIBRATE_MS    20
#define CALIBRATE_SPINS 10000000
#define TSC_KHZ_GUESS   2000000ull
#define TSC_KHZ_MIN     50000ull         /* 50 MHz */
#define TSC_KHZ_MAX     20000000ull      /* 20 GHz */

static uint64_t khz = TSC_KHZ_GUESS;

static uint64_t pit_measure(unsigned int ms)
{
    uint32_t count = PIT_HZ * ms / 1000;
    uint64_t t0, t1;
    unsigned long spins = 0;

    outb(PIT_GATE_PORT, (inb(PIT_GATE_PORT) & ~PIT_SPEAKER) | PIT_GATE);
    outb(PIT_MODE_PORT, PIT_CH2_MODE0);
    outb(PIT_CH2_DATA, count & 0xff);
    outb(PIT_CH2_DATA, count >> 8);
    t0 = rdtsc();
    while (!(inb(PIT_GATE_PORT) & PIT_CH2_OUT) && ++spins < CALIBRATE_SPINS) {
        ;
    }
    t1 = rdtsc();
    return spins < CALIBRATE_SPINS ? t1 - t0 : 0;
}

bool tsc_calibrate(void)
{
    uint64_t ticks = pit_measure(CALIBRATE_MS);
    uint64_t measured = ticks / CALIBRATE_MS;

    if (measured < TSC_KHZ_MIN || measured > TSC_KHZ_MAX) {
        khz = TSC_KHZ_GUESS;
        return false;
    }
    khz = measured;
    return true;
}

uint64_t tsc_khz(void)
{
    return khz;
}

uint64_t usec_to_tsc(uint64_t usec)
{
    return usec * khz / 1000;
}

uint64_t tsc_to_usec(uint64_t tsc)
{
    return tsc * 1000 / khz;
}

void wait_bound_start(struct wait_bound *wb, uint64_t usec)
{
    wb->deadline = rdtsc() + usec_to_tsc(usec);
    wb->iters_left = usec * WAIT_ITERS_PER_US + 1;
}

bool wait_bound_expired(struct wait_bound *wb)
{
    if (wb->iters_left-- == 0) {
        return true;
    }
    return (int64_t)(rdtsc() - wb->deadline) >= 0;
}

void udelay(uint64_t usec)
{
    wait_for(false, usec);
}
