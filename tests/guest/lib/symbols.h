/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Symbols defined outside C, by the link map (guest.ld) and by the
 * assembly entry code.  Only their addresses mean anything.
 */
#ifndef GUEST_SYMBOLS_H
#define GUEST_SYMBOLS_H

#include <stdint.h>

/* guest.ld: the end of the loaded image, .bss included */
extern const char __image_end[];

/* guest.ld: bounds of .fixup_table, whose entries ASM_FIXUP() emits */
struct fixup_entry {
    uint64_t insn;
    uint64_t landing;
};

extern const struct fixup_entry __fixup_start[], __fixup_end[];

/* vectors.S: the entry stubs, vector n at isr_stubs + 16 * n */
extern const char isr_stubs[];

/* trampoline.S: the AP start-up code that smp_init() copies below 1 MiB */
extern const char trampoline_start[], trampoline_end[];

#endif /* GUEST_SYMBOLS_H */
