/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Running a piece of code at CPL 3 on the BSP, for checks of what the
 * hypervisor gives unprivileged code.
 */
#ifndef GUEST_USER_H
#define GUEST_USER_H

#include <stdint.h>

/* How the code at CPL 3 ended: the exception it took, and where. */
struct user_exit {
    int vector;
    uint64_t error_code;
    uint64_t rip;
    uint64_t rflags;
    uint64_t rax;
};

/*
 * Run @fn at CPL 3 with IOPL 3 (I/O instructions allowed), interrupts
 * off, on a stack of its own, until it takes an exception; then come
 * back and say which in @ex.  Returns the exception's vector.  @fn never
 * returns normally: it ends with an exception of its own choosing (int3
 * from CPL 3 raises #GP, as every gate has DPL 0).  BSP only.
 */
int user_run(void (*fn)(void), struct user_exit *ex);

/*
 * The exception path: whether @regs came from user_run's code, and if so
 * send the return to user_run's caller.  Called by do_interrupt().
 */
struct ex_regs;
int user_trap(struct ex_regs *regs);

/* lib/user.c's assembly: the way in, and where the way out lands. */
int user_enter(void (*fn)(void), uint64_t user_rsp, uint64_t rflags);
void user_return(void);

#endif /* GUEST_USER_H */
