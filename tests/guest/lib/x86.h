/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Thin wrappers around x86 instructions used by the test guest: CPUID,
 * MSRs, port I/O, control registers, the TSC and the interrupt flag.
 * Every wrapper is a single instruction; the exception-catching
 * variants of the MSR accessors live in fault.h.
 */
#ifndef GUEST_X86_H
#define GUEST_X86_H

#include <stdbool.h>
#include <stdint.h>

/* Architectural MSRs (Intel SDM vol. 4) */
#define MSR_IA32_TSC            0x00000010
#define MSR_IA32_APIC_BASE      0x0000001b
#define MSR_EFER                0xc0000080
#define MSR_GS_BASE             0xc0000101

#define APIC_BASE_BSP           (1ull << 8)
#define APIC_BASE_X2APIC        (1ull << 10)
#define APIC_BASE_ENABLE        (1ull << 11)

/* CPUID.1 feature bits we look at */
#define CPUID_1_ECX_X2APIC      (1u << 21)
#define CPUID_1_ECX_HYPERVISOR  (1u << 31)

/* Exception vectors */
#define DE_VECTOR   0
#define DB_VECTOR   1
#define BP_VECTOR   3
#define UD_VECTOR   6
#define DF_VECTOR   8
#define GP_VECTOR   13
#define PF_VECTOR   14

#define PAGE_SIZE   4096ul
#define PAGE_MASK   (~(PAGE_SIZE - 1))

struct cpuid_regs {
    uint32_t a, b, c, d;
};

static inline struct cpuid_regs cpuid_count(uint32_t leaf, uint32_t subleaf)
{
    struct cpuid_regs r;

    asm volatile("cpuid"
                 : "=a"(r.a), "=b"(r.b), "=c"(r.c), "=d"(r.d)
                 : "a"(leaf), "c"(subleaf));
    return r;
}

static inline struct cpuid_regs cpuid(uint32_t leaf)
{
    return cpuid_count(leaf, 0);
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;

    asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr) : "memory");
    return lo | (uint64_t)hi << 32;
}

static inline void wrmsr(uint32_t msr, uint64_t val)
{
    asm volatile("wrmsr"
                 : : "c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
                 : "memory");
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;

    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return lo | (uint64_t)hi << 32;
}

static inline void outb(uint16_t port, uint8_t val)
{
    asm volatile("outb %0, %1" : : "a"(val), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t val)
{
    asm volatile("outl %0, %1" : : "a"(val), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t val;

    asm volatile("inb %1, %0" : "=a"(val) : "Nd"(port));
    return val;
}

static inline uint64_t read_cr0(void)
{
    uint64_t v;

    asm volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}

static inline uint64_t read_cr2(void)
{
    uint64_t v;

    asm volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

static inline uint64_t read_cr3(void)
{
    uint64_t v;

    asm volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}

/*
 * Let this vCPU execute SSE instructions (CR4.OSFXSR, CR0.MP, no CR0.EM
 * or TS).  The guest's own code never uses them and interrupt entry does
 * not save them: only inline assembly that loads and uses XMM registers
 * in one block may.
 */
static inline void sse_enable(void)
{
    uint64_t cr0 = read_cr0(), cr4;

    asm volatile("mov %%cr4, %0" : "=r"(cr4));
    cr4 |= UINT64_C(1) << 9;
    asm volatile("mov %0, %%cr4" : : "r"(cr4) : "memory");
    cr0 = (cr0 | UINT64_C(1) << 1) & ~(UINT64_C(1) << 2 | UINT64_C(1) << 3);
    asm volatile("mov %0, %%cr0" : : "r"(cr0) : "memory");
}

static inline uint64_t read_rflags(void)
{
    uint64_t v;

    asm volatile("pushfq; popq %0" : "=r"(v));
    return v;
}

static inline void irq_enable(void)
{
    asm volatile("sti" : : : "memory");
}

static inline void irq_disable(void)
{
    asm volatile("cli" : : : "memory");
}

#define RFLAGS_IF   (1u << 9)

static inline bool irq_enabled(void)
{
    return read_rflags() & RFLAGS_IF;
}

/*
 * STI blocks interrupts until the end of the next instruction, so an
 * interrupt that is already pending when this runs wakes the HLT instead
 * of being taken just before it (no lost wake-up).
 */
static inline void safe_halt(void)
{
    asm volatile("sti; hlt" : : : "memory");
}

static inline void cpu_relax(void)
{
    asm volatile("pause" : : : "memory");
}

static inline void barrier(void)
{
    asm volatile("" : : : "memory");
}

static inline unsigned int cpuid_apic_id(void)
{
    return cpuid(1).b >> 24;
}

#endif /* GUEST_X86_H */
