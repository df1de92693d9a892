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

struct suite {
    const char *name;
    void (*run)(void);
};

#define DEFINE_SUITE(name_, fn_)                                        \
    static const struct suite suite_##fn_                               \
        __attribute__((used, section(".suites"), aligned(8))) = {       \
        .name = (name_), .run = (fn_),                                  \
    }

/* Bounds of the .suites section (guest.ld) that DEFINE_SUITE() fills */
extern const struct suite __suites_start[], __suites_end[];

#endif /* GUEST_SUITE_H */
