// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Test guest main: bring the library up, check the vCPU count, run the
 * suite named on the command line, print the summary and exit QEMU.
 */
#include <stdint.h>

#include "lib/alloc.h"
#include "lib/apic.h"
#include "lib/boot.h"
#include "lib/fault.h"
#include "lib/report.h"
#include "lib/serial.h"
#include "lib/smp.h"
#include "lib/string.h"
#include "lib/synic.h"
#include "lib/symbols.h"
#include "lib/timing.h"
#include "suites/suite.h"

/* legacy 8259 PICs */
#define PIC1_CMD    0x20
#define PIC1_DATA   0x21
#define PIC2_CMD    0xa0
#define PIC2_DATA   0xa1

/*
 * The firmware leaves the 8259s delivering IRQ 0-7 at vectors 8-15,
 * where they would pose as exceptions.  Move them to 0x20-0x2f and mask
 * every line; the tests use the local APIC only.
 */
static void pic_disable(void)
{
    static const uint8_t init[2][4] = {
        { 0x11, 0x20, 0x04, 0x01 },     /* ICW1-4 of the master */
        { 0x11, 0x28, 0x02, 0x01 },     /* and of the slave */
    };

    outb(PIC1_CMD, init[0][0]);
    outb(PIC2_CMD, init[1][0]);
    outb(PIC1_DATA, init[0][1]);
    outb(PIC2_DATA, init[1][1]);
    outb(PIC1_DATA, init[0][2]);
    outb(PIC2_DATA, init[1][2]);
    outb(PIC1_DATA, init[0][3]);
    outb(PIC2_DATA, init[1][3]);
    outb(PIC1_DATA, 0xff);
    outb(PIC2_DATA, 0xff);
}

bool suite_run_part(const struct suite_part *parts, unsigned int n)
{
    const char *part = opt_get("part");
    unsigned int i;

    for (i = 0; i < n; i++) {
        if (part && !strcmp(part, parts[i].name)) {
            parts[i].run();
            break;
        }
    }
    return report(i < n, "setup: part=%s is known", part ? part : "(none)");
}

static const struct suite *find_suite(const char *name)
{
    const struct suite *s;

    for (s = __suites_start; name && s < __suites_end; s++) {
        if (!strcmp(s->name, name)) {
            return s;
        }
    }
    return NULL;
}

static void setup_memory(void)
{
    uint64_t floor = (uint64_t)(uintptr_t)__image_end;

    if (boot_info.loader_end > floor) {
        floor = boot_info.loader_end;
    }
    if (!alloc_init(floor)) {
        report(false, "boot: no free RAM above 0x%lx for the page allocator",
               floor);
    }
}

static void setup_cpus(void)
{
    unsigned long want;
    unsigned int up;

    if (!opt_get_ulong("cpus", 1, &want) || want < 1 || want > MAX_CPUS) {
        report(false, "boot: option cpus=%s is not a number from 1 to %u",
               opt_get("cpus"), MAX_CPUS);
        want = 1;
    }
    up = smp_init(want);
    report(up == want, "boot: %u of %lu vCPUs online", up, want);
}

static void setup_apic_mode(void)
{
    const char *x2 = opt_get("x2apic");

    if (x2 && strcmp(x2, "0") && !apic_use_x2apic()) {
        report(false, "boot: x2apic requested but CPUID.1:ECX[21] is clear");
    }
}


/*
 * Entries of the shared SINT handler on top of itself, or into any code
 * running with interrupts off (lib/synic.c), are never the local APIC's
 * doing.  In the nested lab (accel kvm-k, kvm-u,
 * kvm-nohv, or lab=1 where the runner names no accel, as the lab's
 * migration checks do) its L0 is on record for them: an INFO line, which
 * the runner takes as evidence for a retry.  Anywhere else nothing below
 * the guest explains them, and they fail.
 */
static void report_reentries(void)
{
    const char *accel = opt_get("accel");
    unsigned int n = sint_irq_reentries();
    const char *in_lab = opt_get("lab");
    bool lab = (in_lab && !strcmp(in_lab, "1")) ||
               (accel && (!strcmp(accel, "kvm-k") || !strcmp(accel, "kvm-u") ||
                          !strcmp(accel, "kvm-nohv")));

    if (n && lab) {
        report_info("apic-double: the SINT handler was entered %u time(s) "
                    "with interrupts off (on top of itself, or elsewhere): "
                    "an injection repeated below the guest; not counted",
                    n);
    } else if (n) {
        report(false, "sint handler: never entered with interrupts off "
               "(%u time(s))", n);
    }
}

void boot_main(uint32_t magic, uint32_t mbi)
{
    bool mbi_ok;
    const struct suite *suite;

    smp_init_bsp();
    serial_init();
    idt_init();
    mbi_ok = magic == MULTIBOOT_LOADER_MAGIC && multiboot_parse(mbi);
    if (!options_parse()) {
        report(false, "boot: command line too long or too many options");
    }
    report_set_suite(opt_get("suite") ? opt_get("suite") : "none");
    report_info("hvtest: command line '%s'", boot_info.cmdline);
    if (!mbi_ok) {
        report(false, "boot: multiboot magic 0x%x or memory map unusable",
               magic);
    }
    pic_disable();
    if (tsc_calibrate()) {
        report_info("timing: TSC runs at %lu kHz", tsc_khz());
    } else {
        report_info("timing: PIT calibration failed, assuming %lu kHz",
                    tsc_khz());
    }
    setup_apic_mode();
    apic_enable();
    irq_enable();
    setup_memory();
    setup_cpus();

    suite = find_suite(opt_get("suite"));
    if (suite) {
        suite->run();
    } else {
        report(false, "boot: unknown suite '%s'",
               opt_get("suite") ? opt_get("suite") : "(none given)");
    }
    irq_disable();
    report_reentries();
    report_summary_and_exit();
}
