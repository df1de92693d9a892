// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Local APIC access for both xAPIC and x2APIC mode.
 */
#include "apic.h"
#include "fault.h"
#include "timing.h"
#include "x86.h"

#define X2APIC_MSR_BASE     0x800
#define X2APIC_ICR_MSR      0x830
#define ICR_IDLE_WAIT_US    10000

static bool x2apic;

/* xAPIC registers are MMIO: volatile, so every access reaches the APIC */
static inline volatile uint32_t *mmio(unsigned int reg)
{
    return (volatile uint32_t *)(APIC_MMIO_BASE + reg); /* MMIO */
}

uint32_t apic_read(unsigned int reg)
{
    if (x2apic) {
        return rdmsr(X2APIC_MSR_BASE + (reg >> 4));
    }
    return *mmio(reg);
}

void apic_write(unsigned int reg, uint32_t val)
{
    if (x2apic) {
        wrmsr(X2APIC_MSR_BASE + (reg >> 4), val);
    } else {
        *mmio(reg) = val;
    }
}

bool apic_x2apic_supported(void)
{
    return cpuid(1).c & CPUID_1_ECX_X2APIC;
}

bool apic_use_x2apic(void)
{
    if (!apic_x2apic_supported()) {
        return false;
    }
    x2apic = true;
    return true;
}

bool apic_is_x2apic(void)
{
    return x2apic;
}

void apic_enable(void)
{
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE) | APIC_BASE_ENABLE;

    /* xAPIC -> x2APIC is a legal transition: both bits set at once */
    if (x2apic) {
        base |= APIC_BASE_X2APIC;
    }
    wrmsr(MSR_IA32_APIC_BASE, base);
    apic_write(APIC_SVR, APIC_SVR_ENABLE | SPURIOUS_VECTOR);
    apic_write(APIC_LVTERR, APIC_LVT_MASKED | SPURIOUS_VECTOR);
    apic_write(APIC_LVTT, APIC_LVT_MASKED);
    apic_set_tpr(0);
}

uint32_t apic_id(void)
{
    uint32_t id = apic_read(APIC_ID);

    return x2apic ? id : id >> 24;
}

void apic_eoi(void)
{
    apic_write(APIC_EOI, 0);
}

/* ISR, IRR, TMR: 8 registers of 32 bits, 16 bytes apart */
static bool vector_bit(unsigned int base, unsigned int vector)
{
    return apic_read(base + (vector / 32) * 0x10) & (1u << (vector % 32));
}

bool apic_isr_test(unsigned int vector)
{
    return vector_bit(APIC_ISR, vector);
}

bool apic_irr_test(unsigned int vector)
{
    return vector_bit(APIC_IRR, vector);
}

void apic_set_tpr(uint8_t tpr)
{
    apic_write(APIC_TPR, tpr);
}

uint8_t apic_get_tpr(void)
{
    return apic_read(APIC_TPR) & 0xff;
}

bool apic_icr_write(uint32_t dest, uint32_t low)
{
    if (x2apic) {
        /* one 64-bit MSR write; no delivery status in x2APIC mode */
        wrmsr(X2APIC_ICR_MSR, (uint64_t)dest << 32 | low);
        return true;
    }
    if (!wait_for(!(*mmio(APIC_ICR) & APIC_ICR_BUSY), ICR_IDLE_WAIT_US)) {
        return false;
    }
    *mmio(APIC_ICR2) = dest << 24;
    *mmio(APIC_ICR) = low;
    return true;
}

bool apic_send_ipi(uint32_t dest_apic_id, uint8_t vector)
{
    return apic_icr_write(dest_apic_id, APIC_DM_FIXED | vector);
}

bool apic_self_ipi(uint8_t vector)
{
    return apic_icr_write(0, APIC_DEST_SELF | APIC_DM_FIXED | vector);
}
