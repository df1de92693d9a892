// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Multiboot v1 information and the command line options.
 *
 * Everything is copied into boot_info before anything allocates memory:
 * QEMU puts the information structure at 0x9500 and the command line
 * right after the image, where the page allocator will hand out pages.
 */
#include "boot.h"
#include "string.h"

/* Multiboot v1 information structure (the fields we read) */
#define MBI_FLAGS       0
#define MBI_CMDLINE     16
#define MBI_MMAP_LENGTH 44
#define MBI_MMAP_ADDR   48
#define MBI_SIZE        52

#define MBI_FLAG_CMDLINE    (1u << 2)
#define MBI_FLAG_MMAP       (1u << 6)

#define MMAP_TYPE_RAM   1

/* identity mapping covers the first 4 GiB only */
#define MAPPED_LIMIT    0x100000000ull

struct mmap_entry {
    uint32_t size;              /* of the rest of the entry */
    uint64_t base;
    uint64_t length;
    uint32_t type;
} __attribute__((packed));

struct boot_info boot_info;

static uint32_t mbi_u32(uint32_t mbi, unsigned int off)
{
    /* volatile: QEMU's loader wrote this memory, no C object lives there */
    return *(volatile uint32_t *)(uintptr_t)(mbi + off);
}

static void note_loader_end(uint64_t end)
{
    if (end > boot_info.loader_end) {
        boot_info.loader_end = end;
    }
}

static void copy_cmdline(uint32_t addr)
{
    const char *src = (const char *)(uintptr_t)addr;
    size_t len = strlen(src);

    strncpy_term(boot_info.cmdline, src, sizeof(boot_info.cmdline));
    boot_info.cmdline_truncated = len >= sizeof(boot_info.cmdline);
    note_loader_end((uint64_t)addr + len + 1);
}

static void add_ram(uint64_t base, uint64_t length)
{
    uint64_t end = base + length;

    if (end < base || end > MAPPED_LIMIT) {
        end = MAPPED_LIMIT;
    }
    if (base >= end || boot_info.nr_ram == MAX_MEM_RANGES) {
        return;
    }
    boot_info.ram[boot_info.nr_ram++] = (struct mem_range){ base, end };
}

static void copy_mmap(uint32_t addr, uint32_t length)
{
    uint32_t off = 0;

    /* each entry's size field excludes the field itself; bound the walk */
    while (off + sizeof(struct mmap_entry) <= length) {
        const struct mmap_entry *e =
            (const struct mmap_entry *)(uintptr_t)(addr + off);

        if (e->type == MMAP_TYPE_RAM) {
            add_ram(e->base, e->length);
        }
        if (e->size < sizeof(*e) - sizeof(e->size)) {
            break;
        }
        off += e->size + sizeof(e->size);
    }
    note_loader_end((uint64_t)addr + length);
}

bool multiboot_parse(uint32_t mbi)
{
    uint32_t flags = mbi_u32(mbi, MBI_FLAGS);

    note_loader_end((uint64_t)mbi + MBI_SIZE);
    if (flags & MBI_FLAG_CMDLINE) {
        copy_cmdline(mbi_u32(mbi, MBI_CMDLINE));
    }
    if (flags & MBI_FLAG_MMAP) {
        copy_mmap(mbi_u32(mbi, MBI_MMAP_ADDR),
                  mbi_u32(mbi, MBI_MMAP_LENGTH));
    }
    return (flags & MBI_FLAG_MMAP) && boot_info.nr_ram > 0;
}

/*
 * The options, split once: words[] holds a copy of the command line with
 * NULs at the separators, opts[] points into it.
 */
#define MAX_OPTS 32

struct opt {
    const char *key;
    const char *value;
};

static char words[sizeof(boot_info.cmdline)];
static struct opt opts[MAX_OPTS];
static unsigned int nr_opts;

static char *split_word(char *p, struct opt *o)
{
    bool has_value = false;

    o->key = p;
    o->value = "";
    for (; *p && *p != ' '; p++) {
        if (*p == '=' && !has_value) {
            has_value = true;
            *p = '\0';
            o->value = p + 1;
        }
    }
    while (*p == ' ') {
        *p++ = '\0';
    }
    return p;
}

bool options_parse(void)
{
    char *p = words;

    strncpy_term(words, boot_info.cmdline, sizeof(words));
    while (*p == ' ') {
        p++;
    }
    for (nr_opts = 0; *p; nr_opts++) {
        if (nr_opts == MAX_OPTS) {
            return false;
        }
        p = split_word(p, &opts[nr_opts]);
    }
    return !boot_info.cmdline_truncated;
}

const char *opt_get(const char *key)
{
    unsigned int i;

    /* the last occurrence wins, as on most command lines */
    for (i = nr_opts; i-- > 0;) {
        if (!strcmp(opts[i].key, key)) {
            return opts[i].value;
        }
    }
    return NULL;
}

bool opt_get_ulong(const char *key, unsigned long def, unsigned long *val)
{
    const char *v = opt_get(key);

    *val = def;
    return !v || parse_ulong(v, strlen(v), val);
}

bool list_contains(const char *list, const char *word)
{
    size_t wlen = strlen(word);
    const char *p = list;

    while (p && *p) {
        const char *comma = p;

        while (*comma && *comma != ',') {
            comma++;
        }
        if ((size_t)(comma - p) == wlen && !strncmp(p, word, wlen)) {
            return true;
        }
        p = *comma ? comma + 1 : comma;
    }
    return false;
}

bool has_quirk(const char *name)
{
    const char *q = opt_get("quirks");

    return q && list_contains(q, name);
}
