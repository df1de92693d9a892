/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the boot loader told us: the command line (QEMU's -append) as
 * options, and the usable RAM from the multiboot memory map.
 *
 * The command line is a list of space-separated words, each "key=value"
 * or a bare "key" (whose value is then "").  They are parsed once on the
 * BSP; the lookups only read and may run on any vCPU.
 */
#ifndef GUEST_BOOT_H
#define GUEST_BOOT_H

#include <stdbool.h>
#include <stdint.h>

#define MULTIBOOT_LOADER_MAGIC  0x2badb002

struct mem_range {
    uint64_t start;
    uint64_t end;               /* exclusive */
};

#define MAX_MEM_RANGES  16

struct boot_info {
    char cmdline[1024];
    bool cmdline_truncated;
    struct mem_range ram[MAX_MEM_RANGES];
    unsigned int nr_ram;
    uint64_t loader_end;        /* end of everything the loader put above us */
};

extern struct boot_info boot_info;

/* The GDT of boot.S (lib/layout.h names its entries). */
extern uint64_t gdt[];

/* Copy what we need out of the multiboot information; false if unusable. */
bool multiboot_parse(uint32_t mbi_addr);

/* Split the command line into options; false if it did not all fit. */
bool options_parse(void);

/* The value of option key, or NULL when absent. */
const char *opt_get(const char *key);

/* Numeric option; def when absent, false (and *val = def) if malformed. */
bool opt_get_ulong(const char *key, unsigned long def, unsigned long *val);

/*
 * Known deficiencies of the platform under test, named by the runner in
 * the option quirks=<comma list> (see README.md).  A check that a quirk
 * covers prints an INFO line instead of a result.
 */
bool has_quirk(const char *name);

/* Whether the comma-separated list holds word exactly. */
bool list_contains(const char *list, const char *word);

#endif /* GUEST_BOOT_H */
