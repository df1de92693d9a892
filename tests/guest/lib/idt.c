// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The IDT (one table shared by every vCPU), dispatch of interrupts and
 * exceptions to C handlers, exception fixups, and the report of an
 * unexpected exception.
 */
#include <stdint.h>

#include "fault.h"
#include "printf.h"
#include "report.h"
#include "symbols.h"
#include "user.h"
#include "x86.h"

#define KERNEL_CS       0x18    /* the 64-bit code segment, see boot.S */
#define GATE_INTERRUPT  0x8e    /* present, DPL 0, 64-bit interrupt gate */
#define ISR_STUB_SIZE   16      /* vectors.S aligns each stub to 16 bytes */

struct idt_entry {
    uint16_t offset_lo;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_hi;
    uint32_t reserved;
} __attribute__((packed));

struct desc_ptr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

static struct idt_entry idt[256] __attribute__((aligned(16)));
static irq_handler handlers[256];

static const char *const exception_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
    "#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "RSV15",
    "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "RSV22", "RSV23",
    "RSV24", "RSV25", "RSV26", "RSV27", "#HV", "#VC", "#SX", "RSV31",
};

const char *exception_name(unsigned int vector)
{
    return vector < 32 ? exception_names[vector] : "interrupt";
}

static void set_gate(unsigned int vector, uint64_t addr)
{
    idt[vector] = (struct idt_entry){
        .offset_lo = addr & 0xffff,
        .selector = KERNEL_CS,
        .type_attr = GATE_INTERRUPT,
        .offset_mid = (addr >> 16) & 0xffff,
        .offset_hi = addr >> 32,
    };
}

void idt_load(void)
{
    struct desc_ptr p = { sizeof(idt) - 1, (uint64_t)idt };

    asm volatile("lidt %0" : : "m"(p));
}

void idt_init(void)
{
    unsigned int v;

    for (v = 0; v < 256; v++) {
        set_gate(v, (uint64_t)isr_stubs + v * ISR_STUB_SIZE);
    }
    idt_load();
}

void set_irq_handler(unsigned int vector, irq_handler fn)
{
    __atomic_store_n(&handlers[vector & 0xff], fn, __ATOMIC_RELEASE);
}

static const struct fixup_entry *find_fixup(uint64_t rip)
{
    const struct fixup_entry *f;

    for (f = __fixup_start; f < __fixup_end; f++) {
        if (f->insn == rip) {
            return f;
        }
    }
    return NULL;
}

/*
 * Nothing expected this: report it as a failed check with everything
 * needed to find the culprit, and end the run.  A second fault while
 * reporting exits at once rather than recursing.
 */
static void __attribute__((noreturn)) unexpected(struct ex_regs *regs)
{
    struct percpu *me = this_cpu();

    if (me->in_fatal) {
        guest_exit(false);
    }
    me->in_fatal = true;
    report(false, "unexpected %s (vector %lu) on cpu %u (apic %u): "
           "rip=0x%lx error=0x%lx rsp=0x%lx cr2=0x%lx",
           exception_name(regs->vector), regs->vector, me->index,
           me->apic_id, regs->rip, regs->error_code, regs->rsp,
           regs->vector == PF_VECTOR ? read_cr2() : 0ul);
    report_summary_and_exit();
}

/* Called from vectors.S with interrupts disabled. */
void do_interrupt(struct ex_regs *regs)
{
    const struct fixup_entry *f;
    irq_handler fn;

    if (user_trap(regs)) {
        return;
    }
    f = regs->vector < 32 ? find_fixup(regs->rip) : NULL;
    if (f) {
        struct percpu *me = this_cpu();

        me->fault_error = regs->error_code;
        me->fault_vector = regs->vector + 1;
        regs->rip = f->landing;
        return;
    }
    fn = __atomic_load_n(&handlers[regs->vector], __ATOMIC_ACQUIRE);
    if (!fn) {
        unexpected(regs);
    }
    fn(regs);
}
