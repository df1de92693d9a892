/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The console: a 16550 UART on COM1 (I/O port 0x3f8).
 */
#ifndef GUEST_SERIAL_H
#define GUEST_SERIAL_H

#include <stdbool.h>
#include <stdint.h>

#define COM1_PORT   0x3f8

void serial_init(void);

/* Write a string; '\n' becomes "\r\n".  Serialised between vCPUs. */
void serial_write(const char *s);

/* The UART scratch register holds what was written (a sanity check). */
bool serial_scratch_test(void);

/*
 * Poll COM1 every poll_us for the byte want (other bytes are dropped),
 * for at most usec; each (if not NULL) is called with a count after each
 * poll.  true once the byte came.  migrate.sh's go signal.
 */
bool serial_wait_byte(uint8_t want, uint64_t usec, uint64_t poll_us,
                      void (*each)(uint64_t n));

#endif /* GUEST_SERIAL_H */
