/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The local APIC, in xAPIC mode (MMIO at 0xfee00000) or x2APIC mode
 * (MSRs 0x800 + offset / 16).  The mode is chosen once for all vCPUs
 * (the "x2apic" command line option) before the APs start.
 */
#ifndef GUEST_APIC_H
#define GUEST_APIC_H

#include <stdbool.h>
#include <stdint.h>

#define APIC_MMIO_BASE  0xfee00000ul

/* Register offsets (xAPIC MMIO layout) */
#define APIC_ID         0x020
#define APIC_LVR        0x030
#define APIC_TPR        0x080
#define APIC_PPR        0x0a0
#define APIC_EOI        0x0b0
#define APIC_SVR        0x0f0
#define APIC_ISR        0x100
#define APIC_TMR        0x180
#define APIC_IRR        0x200
#define APIC_ESR        0x280
#define APIC_ICR        0x300
#define APIC_ICR2       0x310
#define APIC_LVTT       0x320
#define APIC_LVT0       0x350
#define APIC_LVT1       0x360
#define APIC_LVTERR     0x370

#define APIC_SVR_ENABLE     (1u << 8)
#define APIC_LVT_MASKED     (1u << 16)

/* ICR fields */
#define APIC_DM_FIXED       0x00000
#define APIC_DM_NMI         0x00400
#define APIC_DM_INIT        0x00500
#define APIC_DM_STARTUP     0x00600
#define APIC_ICR_BUSY       0x01000
#define APIC_LEVEL_ASSERT   0x04000
#define APIC_DEST_SELF      0x40000
#define APIC_DEST_ALLBUT    0xc0000

bool apic_x2apic_supported(void);
/* Select x2APIC mode for every vCPU; call on the BSP before smp_init(). */
bool apic_use_x2apic(void);
bool apic_is_x2apic(void);

/* Enable this vCPU's APIC: software enable, spurious vector, TPR 0. */
void apic_enable(void);

uint32_t apic_read(unsigned int reg);
void apic_write(unsigned int reg, uint32_t val);
uint32_t apic_id(void);

void apic_eoi(void);
bool apic_isr_test(unsigned int vector);
bool apic_irr_test(unsigned int vector);
void apic_set_tpr(uint8_t tpr);
uint8_t apic_get_tpr(void);

/* Write the ICR; false if a previous xAPIC IPI never left (bounded wait). */
bool apic_icr_write(uint32_t dest, uint32_t low);
bool apic_send_ipi(uint32_t dest_apic_id, uint8_t vector);
bool apic_self_ipi(uint8_t vector);

#endif /* GUEST_APIC_H */
