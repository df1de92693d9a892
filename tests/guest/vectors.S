/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Interrupt and exception entry.  Vector n enters at isr_stubs + 16 * n.
 * Each stub makes the frame uniform (a zero where the CPU pushes no error
 * code), pushes its vector and joins the common path, which saves the
 * general registers as a struct ex_regs (lib/fault.h) and calls
 * do_interrupt().  The guest runs at CPL 0, so there is no stack switch,
 * except for lib/user.c's code at CPL 3, whose exceptions arrive on the
 * TSS's RSP0 stack with the same frame.
 */

/* #DF #TS #NP #SS #GP #PF #AC #CP #VC #SX push an error code */
#define HAS_ERROR_CODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || \
                           (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)
#define STUB_SIZE 16        /* lib/idt.c relies on it */

    .text
    .code64
    .balign 16
    .globl isr_stubs
isr_stubs:
    vec = 0
    .rept 256
    stub = .
    .if !HAS_ERROR_CODE(vec)
    pushq $0
    .endif
    pushq $vec
    jmp isr_common
    /* pad to STUB_SIZE; the assembler refuses if the stub got longer */
    .org stub + STUB_SIZE, 0xcc
    vec = vec + 1
    .endr

/*
 * Alignment: the CPU aligns RSP to 16 and pushes 5 qwords; with the
 * error code, the vector and 15 registers that makes 22 qwords, so RSP
 * is 16-byte aligned at the call, as the SysV ABI wants.
 */
isr_common:
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, %rdi
    cld
    call do_interrupt
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    addq $16, %rsp          /* vector and error code */
    iretq

    .section .note.GNU-stack, "", @progbits
