/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The synthetic interrupt controller from the guest's side (TLFS 11):
 * per-vCPU enable/disable with message (SIMP) and event flag (SIEFP)
 * pages, SINT programming, message slot access, and a recorder of the
 * interrupts that SINTs deliver.
 *
 * Everything that writes a SynIC MSR acts on the vCPU that calls it
 * (run it through on_cpu()); slot and flag accessors take a CPU index
 * and may run anywhere.  Message slots and flag words are shared with
 * the host, so they are read and written with atomic accesses.
 */
#ifndef GUEST_SYNIC_H
#define GUEST_SYNIC_H

#include <stdbool.h>
#include <stdint.h>

#include "hyperv.h"

/* Bounded waits: something that must come, and something that must not */
#define SYNIC_ARRIVE_US     60000000ull
#define SYNIC_QUIET_US      100000ull

/*
 * This vCPU: put SIMP and SIEFP on fresh pages and set SCONTROL.  false
 * (with everything written so far undone) if a page or an MSR write
 * failed.
 */
bool synic_enable(void);

/*
 * This vCPU: empty both pages, then clear SCONTROL, SIMP and SIEFP,
 * mask every SINT and free the pages.
 */
void synic_disable(void);

/*
 * Every vCPU (through on_cpu): the hypercall page once, then
 * synic_enable().  Reports one check per vCPU under "what"; returns
 * false if any of it failed.  synic_disable_all() undoes it.
 */
bool synic_enable_all(const char *what);
void synic_disable_all(void);

/* Message page and event flag page of a vCPU, NULL when not enabled */
struct hv_message_page *synic_simp(unsigned int cpu);
struct hv_event_flags_page *synic_siefp(unsigned int cpu);
struct hv_message *synic_slot(unsigned int cpu, unsigned int sint);

/* Entries of the SINT handler on top of itself (not counted). */
unsigned int sint_irq_reentries(void);

/* aeoi=all: sint_program() gives every unmasked SINT AutoEOI. */
bool synic_aeoi_all(void);

/*
 * This vCPU: write SINTx = vector | flags (HV_SINT_*).  The recorder
 * learns whether the vector is auto-EOI (the handler must not EOI).
 * Returns the fault vector of the write, NO_FAULT on success.
 */
int sint_program(unsigned int sint, uint8_t vector, uint64_t flags);

/* This vCPU: the SINT back to its reset value, masked (0x10000) */
void sint_reset(unsigned int sint);

/* This vCPU: write the EOM MSR */
void synic_eom(void);

/* Atomic views of a message slot */
uint32_t msg_type(const struct hv_message *m);
uint8_t msg_flags(const struct hv_message *m);
bool msg_payload_equals(const struct hv_message *m, const void *data,
                        unsigned int size);

/* Empty a slot (message_type = 0); then EOM if eom (this vCPU's SynIC) */
void msg_release(struct hv_message *m, bool eom);

/* Event flags: test, clear (atomically), and count set bits of an area */
bool flag_test(unsigned int cpu, unsigned int sint, unsigned int flag);
void flag_clear(unsigned int cpu, unsigned int sint, unsigned int flag);
unsigned int flags_count(unsigned int cpu, unsigned int sint);

/*
 * The interrupt recorder.  sint_irq_install() points a vector at a
 * handler that counts deliveries per (vCPU, vector), notes whether the
 * vector's ISR bit was set on entry, and EOIs unless told not to (an
 * auto-EOI SINT, or sint_irq_hold()).
 */
void sint_irq_install(uint8_t vector);
/* For handlers of their own: count one delivery as the recorder does */
void sint_irq_note(unsigned int cpu, uint8_t vector);
void sint_irq_hold(unsigned int cpu, uint8_t vector, bool hold);
void sint_irq_clear(void);
unsigned int sint_irq_count(unsigned int cpu, uint8_t vector);
/* deliveries of vector to every vCPU but cpu */
unsigned int sint_irq_count_others(unsigned int cpu, uint8_t vector);
/* ISR bit of vector on the last entry of the handler on cpu */
bool sint_irq_isr_seen(unsigned int cpu, uint8_t vector);

/* Wait (bounded) until cpu has taken vector at least n times */
bool sint_irq_wait(unsigned int cpu, uint8_t vector, unsigned int n,
                   uint64_t usec);

/*
 * "QEMU still answers": on this vCPU (whose SynIC must be enabled), a
 * fresh hyperv-testdev message connection to its own SINT sint, one
 * HvPostMessage, and the message must arrive with its interrupt.  The
 * connection is destroyed and the SINT masked again afterwards.
 */
bool synic_roundtrip(unsigned int conn, unsigned int sint, uint8_t vector);

/*
 * A causal bound for "nothing else arrived" checks, instead of a pause:
 * HvSignalEvent on event connection conn (to this vCPU's sint, whose
 * vector is vector) and wait for its interrupt.  QEMU takes the signal in
 * its main loop, which handles every eventfd that was ready with it in
 * the same pass; so when the interrupt has been taken, so has anything
 * the host raised for this vCPU before the call (an interrupt pending in
 * the IRR is taken no later than the fence's, whatever its priority).
 * The flag is cleared again for the next fence, in the page SIEFP names
 * (which need not be synic_enable()'s).  False if the fence did not come
 * back within SYNIC_ARRIVE_US.
 */
bool synic_fence(unsigned int conn, unsigned int sint, uint8_t vector);

/*
 * Fences on any vCPU: vCPU c signals its own event connection conn + c,
 * routed to its SINT sint, and waits for the vector that SINT is
 * programmed with there (with the recorder, or a handler that counts
 * with sint_irq_note(), on that vector).
 *
 * synic_fence_setup() readies a SINT that a suite leaves to its fences:
 * on every vCPU the SINT programmed with vector, the recorder on it, and
 * the connections; with on false, the connections go and the SINT is
 * masked again.  synic_fence_conns() only creates (or destroys) the
 * connections, for a SINT the suite programs itself.
 *
 * synic_fence_on() runs synic_fence() on vCPU cpu through on_cpu(),
 * synic_fence_all() on every vCPU in turn.  A fence that does not come
 * back is a failure, reported under "what"; one that does is no check of
 * its own and reports nothing.
 */
void synic_fence_setup(unsigned int conn, unsigned int sint, uint8_t vector,
                       bool on);
void synic_fence_conns(unsigned int conn, unsigned int sint, bool create);
bool synic_fence_on(unsigned int cpu, unsigned int conn, unsigned int sint,
                    const char *what);
bool synic_fence_all(unsigned int conn, unsigned int sint, const char *what);

/*
 * The look of a "nothing delivered" check at a message connection, after
 * a fence on vCPU cpu: whether its slot m holds a message, or vector was
 * taken there more often than *seen.  Anything that did arrive is
 * consumed (*seen moves on, the slot is emptied with EOM, so call it on
 * vCPU cpu), and the next look starts afresh.
 */
bool synic_msg_arrived(unsigned int cpu, struct hv_message *m,
                       uint8_t vector, unsigned int *seen);

/* A hyperv-testdev connection to vCPU 0: its SINT, vector and handler. */
struct synic_conn {
    unsigned int conn;
    unsigned int sint;
    uint8_t vector;
};

/*
 * Route a message connection and an event connection to SINTs of vCPU 0,
 * with the interrupt recorder on their vectors (no AutoEOI).
 */
void synic_conn_pair(const struct synic_conn *msg,
                     const struct synic_conn *evt);

#endif /* GUEST_SYNIC_H */
