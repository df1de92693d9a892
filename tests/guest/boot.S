/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Entry of the test guest.
 *
 * QEMU's multiboot (v1) loader enters _start in 32-bit protected mode
 * with paging off, EAX = 0x2badb002 and EBX = the multiboot information.
 * We load our own GDT, clear .bss, identity-map the first 4 GiB with
 * 2 MiB pages (guest RAM, the IOAPIC and the local APIC at 0xfee00000
 * all live there; every level user-accessible, so that lib/user.c can
 * run code at CPL 3: the guest never enables SMEP or SMAP), switch to
 * long mode and call
 * boot_main(magic, mbi) on the first stack.
 *
 * Application processors come through trampoline.S to ap_start32 and
 * take the same road into long mode, then pick a stack slot and call
 * ap_main(slot).
 */
#include "lib/layout.h"

#define MB_MAGIC        0x1badb002
#define MB_FLAGS        0x00000003  /* page-aligned modules, memory map */

#define CR0_PE          0x00000001
#define CR0_NW          0x20000000
#define CR0_CD          0x40000000
#define CR0_PG          0x80000000
#define CR4_PAE         0x00000020
#define MSR_EFER        0xc0000080
#define EFER_LME        0x00000100

#define PTE_PRESENT     0x001
#define PTE_WRITE       0x002
#define PTE_USER        0x004
#define PTE_PWT         0x008
#define PTE_PCD         0x010
#define PTE_LARGE       0x080

#define PD_ENTRIES      2048        /* 4 page directories of 512 */
#define PD_MMIO_FIRST   1536        /* 3 GiB and up: the PCI hole */

    .section .multiboot, "a"
    .balign 4
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

/*
 * Both paths into long mode: PAE, our page tables, EFER.LME, then paging.
 * CD and NW are cleared because an AP leaves reset with caching disabled.
 */
.macro ENTER_LONG_MODE target
    movl %cr4, %eax
    orl $CR4_PAE, %eax
    movl %eax, %cr4
    movl $pml4, %eax
    movl %eax, %cr3
    movl $MSR_EFER, %ecx
    rdmsr
    orl $EFER_LME, %eax
    wrmsr
    movl %cr0, %eax
    andl $~(CR0_CD | CR0_NW), %eax
    orl $(CR0_PG | CR0_PE), %eax
    movl %eax, %cr0
    ljmp $CODE64_SEL, $\target
.endm

.macro LOAD_DATA_SEGMENTS
    movl $DATA_SEL, %eax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
.endm

    .text
    .code32
    .globl _start
_start:
    cli
    cld
    movl %eax, %esi                 /* multiboot magic */
    movl %ebx, %ebp                 /* multiboot information */
    lgdt gdt_desc
    ljmp $CODE32_SEL, $1f
1:
    LOAD_DATA_SEGMENTS

    /* .bss is not in the file: zero it (page tables and stacks live there) */
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    shrl $2, %ecx
    xorl %eax, %eax
    rep stosl

    movl %esi, boot_magic
    movl %ebp, boot_mbi

    /* PML4[0] -> PDPT; PDPT[0..3] -> the four page directories */
    movl $(pdpt + PTE_PRESENT + PTE_WRITE + PTE_USER), pml4
    xorl %ecx, %ecx
2:
    movl %ecx, %eax
    shll $12, %eax
    addl $(pd + PTE_PRESENT + PTE_WRITE + PTE_USER), %eax
    movl %eax, pdpt(, %ecx, 8)
    incl %ecx
    cmpl $4, %ecx
    jb 2b

    /* 2 MiB pages, uncached from 3 GiB up where the devices are */
    xorl %ecx, %ecx
3:
    movl %ecx, %eax
    shll $21, %eax
    orl $(PTE_PRESENT + PTE_WRITE + PTE_USER + PTE_LARGE), %eax
    cmpl $PD_MMIO_FIRST, %ecx
    jb 4f
    orl $(PTE_PWT + PTE_PCD), %eax
4:
    movl %eax, pd(, %ecx, 8)
    incl %ecx
    cmpl $PD_ENTRIES, %ecx
    jb 3b

    ENTER_LONG_MODE bsp_start64

    .globl ap_start32
ap_start32:
    LOAD_DATA_SEGMENTS
    ENTER_LONG_MODE ap_start64

    .code64
bsp_start64:
    LOAD_DATA_SEGMENTS
    leaq cpu_stacks + CPU_STACK_SIZE(%rip), %rsp   /* slot 0 */
    xorl %ebp, %ebp
    movl boot_magic(%rip), %edi
    movl boot_mbi(%rip), %esi
    call boot_main
    jmp park

ap_start64:
    LOAD_DATA_SEGMENTS
    /* every AP takes the next slot; slots past the table park for good */
    movl $1, %eax
    lock xaddl %eax, ap_next_slot(%rip)
    cmpl $MAX_CPUS, %eax
    jae park
    movl %eax, %edi
    incl %eax
    imull $CPU_STACK_SIZE, %eax     /* top of this slot's stack */
    leaq cpu_stacks(%rip), %rsp
    addq %rax, %rsp
    xorl %ebp, %ebp
    call ap_main
park:
    cli
    hlt
    jmp park

    .data
    .balign 8
    .globl gdt
gdt:
    .quad 0
    .quad 0x00cf9a000000ffff        /* CODE32_SEL: flat 32-bit code */
    .quad 0x00cf92000000ffff        /* DATA_SEL: flat data */
    .quad 0x00af9a000000ffff        /* CODE64_SEL: 64-bit code */
    .quad 0x00cff2000000ffff        /* USER_DATA_SEL: flat data, DPL 3 */
    .quad 0x00affa000000ffff        /* USER_CODE64_SEL: 64-bit code, DPL 3 */
    .quad 0, 0                      /* TSS_SEL: lib/user.c */
gdt_end:
    .if gdt_end - gdt - GDT_BYTES
    .error "GDT_BYTES in lib/layout.h does not match the GDT"
    .endif

gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt

    .globl ap_next_slot
ap_next_slot:
    .long 1                         /* slot 0 is the BSP's */
boot_magic:
    .long 0
boot_mbi:
    .long 0

    .bss
    .balign 4096
pml4:
    .skip 4096
pdpt:
    .skip 4096
pd:
    .skip 4096 * 4
    .globl cpu_stacks
cpu_stacks:
    .skip MAX_CPUS * CPU_STACK_SIZE

    .section .note.GNU-stack, "", @progbits
