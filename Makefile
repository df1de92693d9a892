# SPDX-License-Identifier: GPL-2.0-or-later
#
# Hyper-V SynIC and VMBus for QEMU 10.0.2: build, run and test.
#
#   make            build qemu-system-x86_64 with our overlay (build/qemu)
#   make run        boot a Linux guest with the Hyper-V flags and show what it sees
#   make check      build everything and run every test layer
#   make upstream   build pristine QEMU 10.0.2 (build/up/qemu), the reference
#   make bench      benchmarks, ours against upstream (bench/README.md)
#
# Everything generated lives under $(B) (git-ignored).  Each target installs
# the Debian packages it needs first (scripts/host-setup.sh).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := all

TOP := $(CURDIR)
B ?= $(TOP)/build
ifdef QEMU_TARBALL
# A tarball the user gave: linked (and checked) under a name of its own, so
# that giving another one re-makes the trees.
TARBALL := $(B)/dl/given-$(notdir $(QEMU_TARBALL))
export QEMU_TARBALL
else
TARBALL := $(B)/dl/qemu_10.0.2+ds.orig.tar.xz
endif
QEMU_SRC := $(B)/src/qemu
QEMU_BUILD := $(B)/qemu
# The reference's tree and build sit as ours do (build/up/src/qemu beside
# build/up/qemu, as build/src/qemu beside build/qemu): the compile command
# of a file is then the same in both, and the reference's build takes
# from ccache every file our overlay does not change.
UP_SRC := $(B)/up/src/qemu
UP_BUILD := $(B)/up/qemu
QEMU := $(QEMU_BUILD)/qemu-system-x86_64
FIRMWARE := $(B)/firmware
export CCACHE_DIR ?= $(B)/ccache
# Paths relative to the top, so that clones and worktrees share hits.
export CCACHE_BASEDIR ?= $(TOP)
export CCACHE_NOHASHDIR ?= 1
# A miss compiles once (the dependencies from -MD), not preprocesses first.
export CCACHE_DEPEND ?= 1
# QEMU's configure names the compiler to meson, which then adds no ccache
# of its own: ccache goes in front of the user's CC (make's default: cc),
# as scripts/check-builds.sh does.
CONFIGURE_CC := ccache $(CC)

CONFIGURE_FLAGS := --target-list=x86_64-softmmu --enable-kvm --enable-tcg \
	--enable-fdt=system --disable-docs --disable-install-blobs \
	--python=/usr/bin/python3 --enable-werror

# Files of ours that are copied over the QEMU tree, and our patches.
OVERLAY := $(shell find hw include target tests/qtest tests/unit -type f 2>/dev/null)
PATCHES := $(wildcard patches/series patches/*.series patches/*/*.patch)

.PHONY: all qemu upstream firmware run check bench check-qtest check-guest \
	check-nested check-linux guest-tests host-setup clean distclean help

all: qemu

help:
	@sed -n '3,10p' Makefile

# --- host packages -------------------------------------------------------
$(B)/.host-setup: scripts/host-setup.sh
	@mkdir -p $(B)
	scripts/host-setup.sh
	@touch $@

host-setup: $(B)/.host-setup

# --- source -------------------------------------------------------------
$(TARBALL): | $(B)/.host-setup
	scripts/fetch-qemu.sh $@

$(B)/.src-qemu: $(TARBALL) $(OVERLAY) $(PATCHES) scripts/prepare-tree.sh Makefile
	scripts/prepare-tree.sh $(TARBALL) $(QEMU_SRC) overlay
	@touch $@

$(B)/.src-upstream: $(TARBALL) $(wildcard patches/base.series patches/base/*.patch) \
		scripts/prepare-tree.sh
	PRISTINE=$(B)/src/.pristine scripts/prepare-tree.sh $(TARBALL) $(UP_SRC)
	@touch $@

# --- configure and build ------------------------------------------------
# configure runs again only when its flags or the host packages change;
# later changes to meson files are picked up by ninja itself.
define configure_rule
$(1)/config-host.mak: $(2) $(B)/.host-setup
	@if [ ! -f $$@ ] || [ "$$$$(cat $(1)/.configure-flags 2>/dev/null)" != "CC=$(CONFIGURE_CC) $(CONFIGURE_FLAGS)" ] || \
	    [ $(B)/.host-setup -nt $$@ ]; then \
		echo "configure: $(1)"; \
		mkdir -p $(1); \
		cd $(1) && CC="$(CONFIGURE_CC)" $(3)/configure $(CONFIGURE_FLAGS) >configure.log 2>&1 || \
			{ tail -n 30 configure.log; \
			echo "configure failed: see $(1)/configure.log"; exit 1; }; \
		echo "CC=$(CONFIGURE_CC) $(CONFIGURE_FLAGS)" >$(1)/.configure-flags; \
		touch $$@; \
	fi
endef
$(eval $(call configure_rule,$(QEMU_BUILD),$(B)/.src-qemu,$(QEMU_SRC)))
$(eval $(call configure_rule,$(UP_BUILD),$(B)/.src-upstream,$(UP_SRC)))

# Only what we run: the emulator, our qtests, and (recurse-all, through
# QEMU's own Makefile) the x86 option ROMs; not QEMU's other tests and tools.
BUILD_TARGETS = qemu-system-x86_64 recurse-all

qemu: $(QEMU_BUILD)/config-host.mak firmware
	@$(MAKE) --no-print-directory -C $(QEMU_BUILD) -j$$(nproc) \
		$(if $(V),V=1,) $(BUILD_TARGETS) $(QTESTS)
	@scripts/link-firmware.sh $(QEMU_BUILD) $(FIRMWARE)

upstream: $(UP_BUILD)/config-host.mak
	@$(MAKE) --no-print-directory -C $(UP_BUILD) -j$$(nproc) \
		$(if $(V),V=1,) $(BUILD_TARGETS)
	@scripts/link-firmware.sh $(UP_BUILD) $(UP_BUILD)/firmware

firmware: $(B)/.host-setup

# The main job: boot a Linux guest with the Hyper-V flags and show what it
# sees (tests/linux/run.sh --show).
run: run-linux

# --- tests --------------------------------------------------------------
include tests/tests.mk
include bench/bench.mk

clean:
	rm -rf $(QEMU_BUILD) $(UP_BUILD) $(B)/builds $(B)/tests

distclean:
	rm -rf $(B)
