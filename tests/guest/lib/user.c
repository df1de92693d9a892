// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CPL 3 on the BSP (lib/user.h).  The way in is an IRETQ to the user code
 * segment; the way out is the first exception there: the CPU switches to
 * the TSS's RSP0, and user_trap() rewrites the frame so that the IRETQ
 * at the end of the exception lands in user_return, in kernel mode, on
 * the stack user_run() left, which then returns to its caller.
 */
#include <stddef.h>
#include <stdint.h>

#include "boot.h"
#include "fault.h"
#include "layout.h"
#include "string.h"
#include "user.h"
#include "x86.h"

#define USER_STACK_SIZE     16384
#define TRAP_STACK_SIZE     16384
#define RFLAGS_FIXED        0x2
#define RFLAGS_IOPL3        0x3000
#define IOMAP_PORTS         0x400       /* ports 0-0x3ff allowed */

/* The 64-bit TSS: RSP0 and the I/O permission bitmap matter here. */
struct tss64 {
    uint32_t reserved0;
    uint64_t rsp0, rsp1, rsp2;
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
    /*
     * The I/O permission bitmap, for CPUs that keep IOPL at 0 whatever
     * IRETQ says: a clear bit allows a port; ports past it are refused.
     */
    uint8_t iomap[IOMAP_PORTS / 8];
    uint8_t iomap_end;          /* all ones, as the SDM asks */
} __attribute__((packed));

static struct tss64 tss __attribute__((aligned(16)));
static uint8_t user_stack[USER_STACK_SIZE] __attribute__((aligned(16)));
static uint8_t trap_stack[TRAP_STACK_SIZE] __attribute__((aligned(16)));

/*
 * user_run()'s state while the user code runs (BSP only); user_enter and
 * user_return (assembly) use the first two.
 */
uint64_t user_saved_rsp;
int user_vector;
static bool user_active;
static struct user_exit last_exit;

/*
 * user_enter(fn, rsp, rflags): save the callee-saved registers and RSP,
 * IRETQ to fn at CPL 3.  user_return is where user_trap() sends the
 * exception's IRETQ: restore and return user_vector to the caller.
 */
asm(".text\n"
    ".globl user_enter\n"
    "user_enter:\n\t"
    "pushq %rbx\n\t"
    "pushq %rbp\n\t"
    "pushq %r12\n\t"
    "pushq %r13\n\t"
    "pushq %r14\n\t"
    "pushq %r15\n\t"
    "movq %rsp, user_saved_rsp(%rip)\n\t"
    "pushq $" "0x23" "\n\t"         /* SS: USER_DATA_SEL */
    "pushq %rsi\n\t"                /* RSP */
    "pushq %rdx\n\t"                /* RFLAGS */
    "pushq $" "0x2b" "\n\t"         /* CS: USER_CODE64_SEL */
    "pushq %rdi\n\t"                /* RIP */
    "iretq\n"
    ".globl user_return\n"
    "user_return:\n\t"
    "popq %r15\n\t"
    "popq %r14\n\t"
    "popq %r13\n\t"
    "popq %r12\n\t"
    "popq %rbp\n\t"
    "popq %rbx\n\t"
    "movl user_vector(%rip), %eax\n\t"
    "ret\n");

_Static_assert(USER_DATA_SEL == 0x23 && USER_CODE64_SEL == 0x2b,
               "user_enter's selectors");

static void tss_install(void)
{
    static bool done;
    uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;

    if (done) {
        return;
    }
    done = true;
    memset(&tss, 0, sizeof(tss));
    tss.rsp0 = (uint64_t)(trap_stack + TRAP_STACK_SIZE);
    tss.iomap_base = offsetof(struct tss64, iomap);
    tss.iomap_end = 0xff;
    /* present, DPL 0, type 9 (available 64-bit TSS) */
    gdt[TSS_SEL / 8] = (limit & 0xffff) | (base & 0xffffff) << 16 |
                       UINT64_C(0x89) << 40 | ((limit >> 16) & 0xf) << 48 |
                       ((base >> 24) & 0xff) << 56;
    gdt[TSS_SEL / 8 + 1] = base >> 32;
    asm volatile("ltr %w0" : : "r"(TSS_SEL));
}

int user_run(void (*fn)(void), struct user_exit *ex)
{
    uint64_t flags;
    int vec;

    tss_install();
    asm volatile("pushfq; popq %0" : "=r"(flags));
    user_active = true;
    vec = user_enter(fn, (uint64_t)(user_stack + USER_STACK_SIZE),
                     RFLAGS_FIXED | RFLAGS_IOPL3);
    user_active = false;
    /* the exception came back with interrupts off: as the caller had it */
    asm volatile("pushq %0; popfq" : : "r"(flags) : "cc", "memory");
    if (ex) {
        *ex = last_exit;
    }
    return vec;
}

int user_trap(struct ex_regs *regs)
{
    if (!user_active || (regs->cs & 3) != 3) {
        return 0;
    }
    user_vector = regs->vector;
    last_exit = (struct user_exit){
        .vector = regs->vector,
        .error_code = regs->error_code,
        .rip = regs->rip,
        .rflags = regs->rflags,
        .rax = regs->rax,
    };
    regs->rip = (uint64_t)user_return;
    regs->cs = CODE64_SEL;
    regs->ss = DATA_SEL;
    regs->rsp = user_saved_rsp;
    regs->rflags = RFLAGS_FIXED;
    return 1;
}
