# SPDX-License-Identifier: GPL-2.0-or-later
#
# Layer 3, the nested lab (DESIGN.md 4.3; tests/nested/run.sh says how it
# works).  Included through tests/tests.mk by the top Makefile, which
# defines B, TOP, QEMU, FIRMWARE, UP_BUILD and GUEST_IMAGE.
#
#   check-nested   boot L1 (Debian's kernel) under TCG with our QEMU; in L1,
#                  on its KVM with in-kernel Hyper-V (the K path), run the
#                  guest tests, the migration checks between our QEMU and
#                  pristine upstream 10.0.2 (make upstream, also put into
#                  L1) and the Linux-guest test.  Output to the
#                  terminal and to $(B)/tests/results/nested.log (exit status
#                  in nested.rc).  NESTED_FLAGS adds run.sh options, e.g.
#                  NESTED_FLAGS=--verbose to watch L1's console.

NESTED_RESULTS := $(B)/tests/results
NESTED_FLAGS ?=

.PHONY: check-nested

check-nested: qemu upstream $(GUEST_IMAGE)
	@mkdir -p $(NESTED_RESULTS)
	@echo "== Layer nested =="
	@set -o pipefail; rc=0; \
	$(TOP)/tests/nested/check.sh --build $(B) --qemu $(QEMU) \
		--firmware $(FIRMWARE) \
		--upstream-qemu $(UP_BUILD)/qemu-system-x86_64 \
		--upstream-firmware $(UP_BUILD)/firmware \
		$(if $(GUEST_IMAGE),--guest-image $(GUEST_IMAGE)) $(NESTED_FLAGS) 2>&1 | \
		tee $(NESTED_RESULTS)/nested.log || rc=$$?; \
	echo $$rc >$(NESTED_RESULTS)/nested.rc; exit $$rc
