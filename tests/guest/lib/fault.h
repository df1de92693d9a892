/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Interrupt descriptor table, per-vector handlers, and catching expected
 * exceptions.
 *
 * Catching works through a fixup table: an instruction that may fault is
 * given a label, and ASM_FIXUP() records (instruction, landing address)
 * in the section .fixup_table.  If that instruction raises any exception,
 * the handler resumes at the landing address and records the vector in
 * this vCPU's struct percpu; fault_take() returns it.  An exception at
 * any other address that has no registered handler is a test failure:
 * it is reported with vector, RIP and error code, and the guest exits.
 */
#ifndef GUEST_FAULT_H
#define GUEST_FAULT_H

#include <stdbool.h>
#include <stdint.h>

#include "percpu.h"

/* The register frame built by the interrupt entry code (vectors.S). */
struct ex_regs {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;  /* pushed by the CPU */
};

typedef void (*irq_handler)(struct ex_regs *regs);

/* Vectors the library keeps for itself. */
#define SPURIOUS_VECTOR     0xff
#define WAKEUP_VECTOR       0xfe

void idt_init(void);        /* BSP: fill the table and load it */
void idt_load(void);        /* APs: load the shared table */

/*
 * Install (or with NULL remove) the C handler for a vector.  Handlers of
 * external interrupts must EOI themselves; the table is shared by all
 * vCPUs.
 */
void set_irq_handler(unsigned int vector, irq_handler fn);

/* Record "from" (a label of a faulting instruction) -> "to". */
#define ASM_FIXUP(from, to)                         \
    ".pushsection .fixup_table, \"a\"\n\t"          \
    ".balign 8\n\t"                                 \
    ".quad " from ", " to "\n\t"                    \
    ".popsection\n\t"

/* What the *_safe helpers and fault_take() return when nothing faulted */
#define NO_FAULT    (-1)

static inline void fault_clear(void)
{
    this_cpu()->fault_vector = 0;
}

/*
 * The vector caught since fault_clear(), or NO_FAULT.  Clears it.
 */
static inline int fault_take(void)
{
    struct percpu *me = this_cpu();
    int v = me->fault_vector;

    me->fault_vector = 0;
    return v - 1;
}

/*
 * MSR access that survives a fault: returns NO_FAULT when the instruction
 * completed, else the vector it raised (GP_VECTOR for a refused MSR).
 * On a fault *val is 0.
 */
static inline int rdmsr_safe(uint32_t msr, uint64_t *val)
{
    uint32_t lo = 0, hi = 0;
    int v;

    fault_clear();
    asm volatile("1: rdmsr\n\t"
                 "2:\n\t"
                 ASM_FIXUP("1b", "2b")
                 : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
    v = fault_take();
    *val = v < 0 ? (lo | (uint64_t)hi << 32) : 0;
    return v;
}

static inline int wrmsr_safe(uint32_t msr, uint64_t val)
{
    fault_clear();
    asm volatile("1: wrmsr\n\t"
                 "2:\n\t"
                 ASM_FIXUP("1b", "2b")
                 : : "c"(msr), "a"((uint32_t)val),
                   "d"((uint32_t)(val >> 32))
                 : "memory");
    return fault_take();
}

/* Error code of the last caught exception (0 for vectors without one). */
static inline uint64_t fault_error_code(void)
{
    return this_cpu()->fault_error;
}

const char *exception_name(unsigned int vector);

#endif /* GUEST_FAULT_H */
