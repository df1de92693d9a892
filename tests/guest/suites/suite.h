/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test suites.  A suite is a function registered with DEFINE_SUITE(); the
 * guest runs the one named by the command line option suite=<name>.
 * By the time it runs, the library is set up: console, IDT, local APIC,
 * every vCPU asked for with cpus=N, the page allocator and the TSC.
 * The suite reports its checks with report(); main prints the summary.
 */
#ifndef GUEST_SUITE_H
#define GUEST_SUITE_H

#include <stdbool.h>

struct suite {
    const char *name;
    void (*run)(void);
};

#define DEFINE_SUITE(name_, fn_)                                        \
    static const struct suite suite_##fn_                               \
        __attribute__((used, section(".suites"), aligned(8))) = {       \
        .name = (name_), .run = (fn_),                                  \
    }

/*
 * A suite of parts, one per QEMU: part=<name> picks which.  Runs it and
 * reports "setup: part=<name> is known"; false if no part has that name.
 */
struct suite_part {
    const char *name;
    void (*run)(void);
};

bool suite_run_part(const struct suite_part *parts, unsigned int n);
#define suite_run_parts(a) suite_run_part((a), sizeof(a) / sizeof((a)[0]))

/* Bounds of the .suites section (guest.ld) that DEFINE_SUITE() fills */
extern const struct suite __suites_start[], __suites_end[];

#endif /* GUEST_SUITE_H */
