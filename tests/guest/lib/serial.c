// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * COM1 output.  Transmit waits are bounded: a missing or stuck UART must
 * slow the guest down, never hang it.
 */
#include <stdint.h>

#include "percpu.h"
#include "serial.h"
#include "timing.h"
#include "x86.h"

#define UART_THR    0   /* transmit holding (DLAB = 0) */
#define UART_RBR    0   /* receive buffer (DLAB = 0) */
#define UART_DLL    0   /* divisor low (DLAB = 1) */
#define UART_IER    1
#define UART_DLM    1
#define UART_FCR    2
#define UART_LCR    3
#define UART_MCR    4
#define UART_LSR    5
#define UART_SCR    7

#define LSR_DR      0x01
#define LSR_THRE    0x20
#define TX_SPIN_MAX 100000
#define LOCK_SPIN_MAX 100000000ul

/* 0 when free, else slot + 1 of the vCPU holding it */
static volatile int console_owner;

static void uart_putc(char c)
{
    int i;

    for (i = 0; i < TX_SPIN_MAX; i++) {
        if (inb(COM1_PORT + UART_LSR) & LSR_THRE) {
            break;
        }
    }
    outb(COM1_PORT + UART_THR, c);
}

void serial_init(void)
{
    outb(COM1_PORT + UART_IER, 0x00);
    outb(COM1_PORT + UART_LCR, 0x80);   /* DLAB on: 115200 baud */
    outb(COM1_PORT + UART_DLL, 0x01);
    outb(COM1_PORT + UART_DLM, 0x00);
    outb(COM1_PORT + UART_LCR, 0x03);   /* 8N1, DLAB off */
    outb(COM1_PORT + UART_FCR, 0xc7);
    outb(COM1_PORT + UART_MCR, 0x03);   /* DTR, RTS; OUT2 off: no IRQ */
}

bool serial_scratch_test(void)
{
    outb(COM1_PORT + UART_SCR, 0x5a);
    if (inb(COM1_PORT + UART_SCR) != 0x5a) {
        return false;
    }
    outb(COM1_PORT + UART_SCR, 0xa5);
    return inb(COM1_PORT + UART_SCR) == 0xa5;
}

/*
 * The lock nests on one vCPU, so an exception handler that reports while
 * the interrupted code held the console still prints.  After a very long
 * spin the writer goes ahead anyway: garbled output beats a silent hang.
 */
static void console_lock(struct percpu *me)
{
    int mine = me->slot + 1, expected;
    unsigned long spins;

    if (console_owner == mine) {
        me->console_depth++;
        return;
    }
    for (spins = 0; spins < LOCK_SPIN_MAX; spins++) {
        expected = 0;
        if (__atomic_compare_exchange_n(&console_owner, &expected, mine,
                                        false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
            break;
        }
        cpu_relax();
    }
    me->console_depth = 1;
}

static void console_unlock(struct percpu *me)
{
    if (--me->console_depth == 0) {
        __atomic_store_n(&console_owner, 0, __ATOMIC_RELEASE);
    }
}

void serial_write(const char *s)
{
    struct percpu *me = this_cpu();

    console_lock(me);
    for (; *s; s++) {
        if (*s == '\n') {
            uart_putc('\r');
        }
        uart_putc(*s);
    }
    console_unlock(me);
}

bool serial_wait_byte(uint8_t want, uint64_t usec, uint64_t poll_us,
                      void (*each)(uint64_t n))
{
    struct wait_bound wb;
    uint64_t n = 0;

    wait_bound_start(&wb, usec);
    while (!wait_bound_expired(&wb)) {
        if ((inb(COM1_PORT + UART_LSR) & LSR_DR) &&
            inb(COM1_PORT + UART_RBR) == want) {
            return true;
        }
        if (each) {
            each(++n);
        }
        udelay(poll_us);
    }
    return false;
}
