/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A test-and-set spinlock.  Not for use in interrupt handlers (no
 * interrupt masking), which is fine for the guest's short sections.
 */
#ifndef GUEST_SPINLOCK_H
#define GUEST_SPINLOCK_H

#include "x86.h"

struct spinlock {
    volatile int locked;        /* shared between vCPUs */
};

static inline void spin_lock(struct spinlock *l)
{
    while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED)) {
            cpu_relax();
        }
    }
}

static inline void spin_unlock(struct spinlock *l)
{
    __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

#endif /* GUEST_SPINLOCK_H */
