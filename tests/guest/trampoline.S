/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Real-mode start of an application processor.  smp.c copies the bytes
 * between trampoline_start and trampoline_end to TRAMPOLINE_ADDR and
 * sends INIT-SIPI-SIPI with vector TRAMPOLINE_ADDR >> 12, so the AP
 * starts here with CS = TRAMPOLINE_ADDR >> 4 and IP = 0.  The code only
 * uses offsets from trampoline_start, so it runs wherever it is copied.
 * It loads the guest's GDT (whose descriptor it carries, since real mode
 * cannot reach the image above 1 MiB), enters protected mode and jumps
 * to ap_start32 in boot.S.
 */
#include "lib/layout.h"

    .section .rodata
    .code16
    .globl trampoline_start, trampoline_end
trampoline_start:
    cli
    cld
    movw %cs, %ax
    movw %ax, %ds
    lgdtl tramp_gdt_desc - trampoline_start
    movl %cr0, %eax
    orl $1, %eax                    /* CR0.PE */
    movl %eax, %cr0
    ljmpl $CODE32_SEL, $ap_start32

    .balign 8
tramp_gdt_desc:
    .word GDT_BYTES - 1
    .long gdt
trampoline_end:

    .section .note.GNU-stack, "", @progbits
