# SPDX-License-Identifier: GPL-2.0-or-later
#
# Test layers (see README.md).  Included by the top Makefile, which defines
# B, TOP, QEMU, QEMU_BUILD and FIRMWARE.
#
#   check-qtest    1. our qtests, through QEMU's meson test runner
#   check-guest    2. the bare-metal test guest on TCG and the host's KVM
#   check-nested   3. the nested lab: L1 Linux under TCG, its KVM runs the
#                     guest tests (and the Linux guest) with in-kernel Hyper-V
#   check-linux    4. a Debian Linux guest with the hv modules, under TCG
#   check-libvirt  5. Debian's libvirt daemon drives our QEMU (TCG) through
#                     libvirt's Hyper-V domains (tests/libvirt; the lab
#                     runs the same on its KVM)
#   check-builds      QEMU builds in other configurations: without KVM,
#                     without default devices, with a second target
#                     (scripts/check-builds.sh)
#
# Each layer writes $(RESULTS)/<layer>.log; `make check` runs them all (the
# builds layer beside the nested lab), then tests/summary.sh prints the
# totals and decides the exit status.

RESULTS := $(B)/tests/results
LAYERS := qtest guest nested linux libvirt builds
# Our qtests and unit tests, as build targets of QEMU's tree.
QTESTS := tests/qtest/hyperv-test tests/unit/test-vmbus-ring tests/unit/test-vmbus-gpadl

include tests/guest/guest.mk tests/nested/nested.mk tests/linux/linux.mk

.PHONY: check-qtest check-guest check-builds run-check-builds check-libvirt

# Run a layer: $(1) is its name, $(2) the command.  The output goes to the
# terminal and to the layer's log; the exit status is kept beside it.
define run_layer
	@mkdir -p $(RESULTS)
	@echo "== Layer $(1) == (started $$(date -u +%T) UTC)"
	@rc=0; t0=$$(date +%s); { $(2); } 2>&1 | tee $(RESULTS)/$(1).log || rc=$$?; \
		echo $$rc >$(RESULTS)/$(1).rc; \
		echo "== Layer $(1): $$(( $$(date +%s) - t0 )) s =="; exit $$rc
endef

check-qtest: qemu
	$(call run_layer,qtest,tests/lib/run-qtests.sh $(QEMU_BUILD) $(QTESTS))

check-guest: qemu $(GUEST_IMAGE)
	$(call run_layer,guest,tests/lib/run-guest-host.sh $(QEMU) $(FIRMWARE) $(GUEST_IMAGE))

check-libvirt: qemu
	$(call run_layer,libvirt,tests/libvirt/run.sh --build $(B) --qemu $(QEMU) --firmware $(FIRMWARE))

# Each configuration in $(B)/builds/<name>, sharing the ccache.  Needs the
# main build for the firmware of its smoke test.
check-builds: qemu
	@$(MAKE) --no-print-directory run-check-builds

# The layer alone, for `make check`, which has built QEMU already and runs
# this beside other layers: no second look at the main build.
run-check-builds:
	$(call run_layer,builds,scripts/check-builds.sh $(QEMU_SRC) $(B)/builds $(FIRMWARE))

# The nested lab's first four boots run L1 on one TCG thread, which leaves
# the second core of a 2-core machine idle: the builds layer compiles on
# it while the lab runs, and its output is printed when it ends.  It
# starts a second compile only while the load average is below 1.5, that
# is once the layers in front have ended.  Both start after the upstream
# build, so the lab's time bounds see one compile, not three.
FOREGROUND_LAYERS := $(filter-out builds,$(LAYERS))
EARLY_LAYERS := qtest guest

check: qemu $(GUEST_IMAGE)
	@rm -rf $(RESULTS)
	@mkdir -p $(RESULTS)
	@for layer in $(EARLY_LAYERS); do \
		$(MAKE) --no-print-directory check-$$layer || true; \
	done
	@$(MAKE) --no-print-directory upstream
	@BUILD_JOBS=2 BUILD_LOAD=1.5 $(MAKE) --no-print-directory run-check-builds \
		>$(RESULTS)/builds.out 2>&1 & builds=$$!; \
	for layer in $(filter-out $(EARLY_LAYERS),$(FOREGROUND_LAYERS)); do \
		$(MAKE) --no-print-directory check-$$layer || true; \
	done; \
	wait $$builds || true; \
	cat $(RESULTS)/builds.out
	@tests/summary.sh $(RESULTS) $(LAYERS)
