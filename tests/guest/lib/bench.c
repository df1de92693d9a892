// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Helpers of the benchmark suites (lib/bench.h).
 */
#include "bench.h"
#include "boot.h"
#include "report.h"
#include "string.h"
#include "timing.h"

void bench_figure(const char *mode, const char *what, uint64_t v,
                  const char *unit)
{
    printf("BENCH: %s-%s %lu %s\n", mode, what, (unsigned long)v, unit);
}

/* Shell sort: no allocation, and n stays in the thousands. */
void bench_sort(uint64_t *a, unsigned long n)
{
    unsigned long gap, i, j;

    for (gap = n / 2; gap; gap /= 2) {
        for (i = gap; i < n; i++) {
            uint64_t v = a[i];

            for (j = i; j >= gap && a[j - gap] > v; j -= gap) {
                a[j] = a[j - gap];
            }
            a[j] = v;
        }
    }
}

uint64_t bench_ns(uint64_t cycles)
{
    return cycles * 1000000 / tsc_khz();
}

void bench_latency(const char *mode, uint64_t *samples, unsigned long n,
                   uint64_t sum)
{
    bench_sort(samples, n);
    bench_figure(mode, "lat-median", samples[n / 2], "cycles");
    bench_figure(mode, "lat-mean", sum / n, "cycles");
    bench_figure(mode, "lat-min", samples[0], "cycles");
    bench_figure(mode, "lat-median-ns", bench_ns(samples[n / 2]), "ns");
}

bool bench_modes_known(const char *list, const char *const *first,
                       unsigned int nr, size_t stride)
{
    const char *p = list;
    char word[32];

    while (p && *p) {
        const char *end = p;
        size_t len;
        bool known;
        unsigned int i;

        while (*end && *end != ',') {
            end++;
        }
        len = (size_t)(end - p) < sizeof(word) - 1 ? (size_t)(end - p) :
              sizeof(word) - 1;
        memcpy(word, p, len);
        word[len] = '\0';
        known = !strcmp(word, "all") || !strcmp(word, "none");
        for (i = 0; i < nr; i++) {
            const char *const *name = (const void *)
                ((const char *)first + (size_t)i * stride);

            known |= !strcmp(word, *name);
        }
        if (!known) {
            return false;
        }
        p = *end ? end + 1 : end;
    }
    return true;
}

bool bench_mode_wanted(const char *list, const char *name)
{
    return !list || !strcmp(list, "all") || list_contains(list, name);
}

void bench_hold_as(const char *word, unsigned long ms)
{
    if (ms) {
        report_info("bench: %s %lu ms", word, ms);
        udelay(ms * 1000);
    }
}
