# SPDX-License-Identifier: GPL-2.0-or-later
#
# Layer 3, the nested lab (DESIGN.md 4.3; tests/nested/run.sh says how it
# works).  Included through tests/tests.mk by the top Makefile, which
# defines B, TOP, QEMU, FIRMWARE, UP_BUILD and GUEST_IMAGE.
#
#   check-nested   boot L1 (Debian's kernel) under TCG with our QEMU, five
#                  times, each boot with a time bound of its own so that a
#                  stall of one cannot use up the others' time:
#                    k     the guest tests on L1's KVM: the kernel path
#                    u     the same on the user path forced (hyperv=user)
#                    nohv  the user path as QEMU picks it on a KVM without
#                          Hyper-V (L1's hidden by kvm-no-hyperv.so)
#                    mig   migration between our QEMU and pristine upstream
#                          10.0.2 (make upstream, also put into L1) and
#                          between the paths
#                    linux the Linux-guest test on both KVM paths, then the
#                          libvirt layer's lab part in the same boot:
#                          libvirt's three domains on L1's KVM with and
#                          without its in-kernel Hyper-V (L1's vCPUs each
#                          on a thread of their own: an L2 Linux with two
#                          vCPUs does not boot round robin); its bound is
#                          2700 s, for the two parts
#                  Output to the terminal and to
#                  $(B)/tests/results/nested.log (exit status in
#                  nested.rc).  NESTED_FLAGS adds check.sh options to each
#                  boot, e.g. NESTED_FLAGS=--verbose to watch L1's console.

NESTED_RESULTS := $(B)/tests/results
NESTED_FLAGS ?=
# Guest cases that may need a retry in one run (run-suites.sh
# run_counted): each retry needs evidence of a fault in L1's kernel, and a
# run that needs more is not telling us about our code.
NESTED_RETRY_MAX := 2

.PHONY: check-nested

check-nested: qemu upstream $(GUEST_IMAGE)
	@mkdir -p $(NESTED_RESULTS)
	@echo "== Layer nested == (started $$(date -u +%T) UTC)"
	@set -o pipefail; rc=0; t0=$$(date +%s); \
	lab() { \
		$(TOP)/tests/nested/check.sh --build $(B) --qemu $(QEMU) \
			--firmware $(FIRMWARE) \
			--upstream-qemu $(UP_BUILD)/qemu-system-x86_64 \
			--upstream-firmware $(UP_BUILD)/firmware \
			$(if $(GUEST_IMAGE),--guest-image $(GUEST_IMAGE)) \
			"$$@" $(NESTED_FLAGS) || rc=1; \
	}; \
	{ \
		lab --name k --parts guest --guest-accels kvm; \
		lab --name u --parts guest --guest-accels kvm-u; \
		lab --name nohv --parts guest --guest-accels kvm-nohv; \
		lab --name mig --parts migrate; \
		lab --name linux --parts 'linux libvirt' --tcg-thread multi \
			--timeout 2700; \
		exit $$rc; \
	} 2>&1 | tee $(NESTED_RESULTS)/nested.log || rc=$$?; \
	n=$$(grep -c '^RETRY: ' $(NESTED_RESULTS)/nested.log || true); \
	if [ "$$n" -gt $(NESTED_RETRY_MAX) ]; then \
		echo "FAIL: nested/retries ($$n guest cases needed a retry in this run; at most $(NESTED_RETRY_MAX))" | \
			tee -a $(NESTED_RESULTS)/nested.log; \
		rc=1; \
	fi; \
	echo $$rc >$(NESTED_RESULTS)/nested.rc; \
	echo "== Layer nested: $$(( $$(date +%s) - t0 )) s =="; exit $$rc
