# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build of the bare-metal test guest (tests/guest/README.md).
#
# Include it from the top Makefile, which defines TOP (repository root)
# and B (build folder), or run it on its own:
#
#   make -f tests/guest/guest.mk [B=build-folder]
#
# It defines GUEST_IMAGE (the multiboot ELF32 that QEMU's -kernel takes),
# GUEST_RUNNER (run-suites.sh) and the phony target guest-image.

GUEST_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

ifeq ($(words $(MAKEFILE_LIST)),1)
# standalone: the fragment is the only makefile read so far
TOP ?= $(abspath $(GUEST_DIR)/../..)
B ?= $(TOP)/build
.DEFAULT_GOAL := guest-image
endif

GUEST_SRC := $(TOP)/tests/guest
GUEST_OUT := $(B)/tests/guest
GUEST_IMAGE := $(GUEST_OUT)/hvtest.elf
GUEST_ELF64 := $(GUEST_OUT)/hvtest.elf64
GUEST_RUNNER := $(GUEST_SRC)/run-suites.sh

GUEST_CC ?= gcc
GUEST_OBJCOPY ?= objcopy

# Freestanding x86-64 at CPL 0: no red zone (interrupts use the same
# stack), no SSE (never saved on interrupt entry), no PIC/PIE (linked at
# 1 MiB), and no loop-to-memset rewriting inside memset itself.
GUEST_CFLAGS := -m64 -std=gnu11 -O2 -g -Wall -Wextra -Wno-unused-parameter \
	-Werror -ffreestanding -nostdlib -fno-pic -fno-pie -mno-red-zone \
	-mgeneral-regs-only -mcmodel=small -fno-stack-protector \
	-fno-asynchronous-unwind-tables -fno-unwind-tables \
	-fno-tree-loop-distribute-patterns -fno-common -fcf-protection=none \
	-I$(GUEST_SRC)
GUEST_LDFLAGS := -m64 -nostdlib -static -no-pie -Wl,--build-id=none \
	-Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack \
	-Wl,-T,$(GUEST_SRC)/guest.ld

GUEST_SRCS := $(sort $(wildcard $(GUEST_SRC)/*.S $(GUEST_SRC)/*.c \
	$(GUEST_SRC)/lib/*.S \
	$(GUEST_SRC)/lib/*.c $(GUEST_SRC)/suites/*.c))
GUEST_OBJS := $(patsubst $(GUEST_SRC)/%,$(GUEST_OUT)/obj/%.o,$(GUEST_SRCS))

.PHONY: guest-image
guest-image: $(GUEST_IMAGE)

$(GUEST_OUT)/obj/%.c.o: $(GUEST_SRC)/%.c $(GUEST_SRC)/guest.mk
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CFLAGS) -MMD -MP -c -o $@ $<

$(GUEST_OUT)/obj/%.S.o: $(GUEST_SRC)/%.S $(GUEST_SRC)/guest.mk
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CFLAGS) -MMD -MP -c -o $@ $<

$(GUEST_ELF64): $(GUEST_OBJS) $(GUEST_SRC)/guest.ld
	$(GUEST_CC) $(GUEST_LDFLAGS) -o $@ $(GUEST_OBJS)

# QEMU's multiboot loader takes ELF32 only; the 64-bit code is just bytes
# to it.  The header must lie in the first 8 KiB of the file: check it.
$(GUEST_IMAGE): $(GUEST_ELF64)
	$(GUEST_OBJCOPY) -O elf32-i386 --strip-debug $< $@.tmp
	@head -c 8192 $@.tmp | od -An -tx4 -v | grep -w 1badb002 >/dev/null || \
		{ echo "$@: multiboot header not in the first 8 KiB" >&2; \
		  rm -f $@.tmp; exit 1; }
	@mv -f $@.tmp $@

-include $(GUEST_OBJS:.o=.d)
