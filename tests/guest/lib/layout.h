/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Constants shared by the assembly entry code and C: segment selectors
 * of the guest's GDT (boot.S), the per-vCPU stack geometry and where
 * the AP start-up trampoline is copied.
 */
#ifndef GUEST_LAYOUT_H
#define GUEST_LAYOUT_H

#define CODE32_SEL      0x08
#define DATA_SEL        0x10
#define CODE64_SEL      0x18
#define USER_DATA_SEL   0x23    /* DPL 3, RPL 3 */
#define USER_CODE64_SEL 0x2b    /* DPL 3, RPL 3 */
#define TSS_SEL         0x30    /* 16 bytes; filled in by lib/user.c */
#define GDT_BYTES       64      /* null, the five above, the TSS's two */

#define MAX_CPUS        128
#define CPU_STACK_SIZE  16384

/*
 * A SIPI starts an AP in real mode at vector << 12, so the trampoline
 * sits on a page boundary below 1 MiB.  0x8000 is clear of the real-mode
 * IVT/BDA and of what QEMU's multiboot loader puts at 0x9000 and up.
 */
#define TRAMPOLINE_ADDR 0x8000

#endif /* GUEST_LAYOUT_H */
