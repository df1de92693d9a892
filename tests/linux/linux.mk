# SPDX-License-Identifier: GPL-2.0-or-later
#
# Layer 4, the Linux guest (DESIGN.md 4.4; tests/linux/run.sh says how it
# works).  Included through tests/tests.mk by the top Makefile, which
# defines B, TOP, QEMU and FIRMWARE.  The same guest also runs on the kernel
# path inside the nested lab (check-nested).
#
#   check-linux   Debian's kernel with the hv modules under TCG with the
#                 Hyper-V flags: linux/tcg/* results, on the terminal and in
#                 $(B)/tests/results/linux.log (exit status in linux.rc)
#   run-linux     the same guest, its report in plain words (for make run)


.PHONY: check-linux run-linux

check-linux: qemu
	$(call run_layer,linux,$(TOP)/tests/linux/run.sh --build $(B) --qemu $(QEMU) --firmware $(FIRMWARE))

run-linux: qemu
	@$(TOP)/tests/linux/run.sh --build $(B) --qemu $(QEMU) --firmware $(FIRMWARE) --show
