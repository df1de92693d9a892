/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv_hypercall32(page, control, input, output): call the Hyper-V
 * hypercall page from 32-bit compatibility mode, with the TLFS 32-bit
 * register convention (EDX:EAX control, EBX:ECX input GPA, EDI:ESI
 * output GPA; the result comes back in EDX:EAX).
 *
 * A far call through CODE32_SEL (boot.S: flat 32-bit code, L=0 D=1, so
 * in long mode it is a compatibility-mode segment) enters a 32-bit stub
 * that calls the page; the stub's 32-bit far return goes back to
 * CODE64_SEL.  Interrupts stay as they are: IA-32e interrupt delivery
 * works from compatibility mode and IRET returns there.  The stack and
 * the page are below 4 GiB, as everything of the guest is.
 *
 * The upper halves of the general registers are undefined after the
 * return to 64-bit mode (SDM vol. 1, 3.4.1.1), so nothing is kept in
 * them: the callee-saved registers go to the stack and RSP, a pointer
 * below 4 GiB, is zero-extended from ESP.
 */
#include "lib/layout.h"

    .text
    .code64
    .globl hv_hypercall32
hv_hypercall32:
    pushq %rbx
    pushq %rbp
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    /* SysV: rdi = page, rsi = control, rdx = input, rcx = output */
    movl %edi, hcall32_page(%rip)
    movq %rcx, %r8                  /* output */
    movq %rdx, %r9                  /* input */
    movq %rsi, %rax                 /* control: EDX:EAX */
    movq %rsi, %rdx
    shrq $32, %rdx
    movq %r9, %rcx                  /* input: EBX:ECX */
    movq %r9, %rbx
    shrq $32, %rbx
    movq %r8, %rsi                  /* output: EDI:ESI */
    movq %r8, %rdi
    shrq $32, %rdi
    lcall *hcall32_entry(%rip)      /* m16:32: pushes CS and EIP, 4 bytes each */
    movl %esp, %esp
    movl %eax, %eax
    shlq $32, %rdx
    orq %rdx, %rax
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbp
    popq %rbx
    ret

    .code32
hcall32_stub:
    call *hcall32_page
    lret

    .data
    .balign 8
hcall32_entry:
    .long hcall32_stub
    .word CODE32_SEL
    .balign 4
hcall32_page:
    .long 0

    .section .note.GNU-stack, "", @progbits
