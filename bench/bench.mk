# SPDX-License-Identifier: GPL-2.0-or-later
#
# Benchmarks (DESIGN.md 4.5, bench/README.md): figures, never pass/fail,
# and not part of `make check`.  Included by the top Makefile after
# tests/tests.mk, which defines B, TOP, QEMU, FIRMWARE, UP_BUILD and
# GUEST_IMAGE.
#
#   bench   SynIC message posting in the same nested-lab run: our QEMU on
#           the kernel path (ours), upstream 10.0.2 (upstream) and our QEMU
#           with -accel kvm,hyperv=user (ours-u, the user path)
#           (bench/synic-post.sh); the table goes to
#           $(B)/bench/synic-post.txt.  BENCH_FLAGS adds options of
#           synic-post.sh, e.g. BENCH_FLAGS="--reps 3 --n 500" or
#           BENCH_FLAGS="--sides 'ours ours-u'" (then make -o upstream
#           bench spares building upstream).

BENCH_FLAGS ?=

.PHONY: bench

bench: qemu upstream $(GUEST_IMAGE)
	@$(TOP)/bench/synic-post.sh --build $(B) --qemu $(QEMU) \
		--firmware $(FIRMWARE) \
		--upstream-qemu $(UP_BUILD)/qemu-system-x86_64 \
		--upstream-firmware $(UP_BUILD)/firmware \
		--guest-image $(GUEST_IMAGE) $(BENCH_FLAGS)
