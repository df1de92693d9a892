#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# link-firmware.sh BUILD DIR: gather in DIR what qemu-system-x86_64 loads
# at run time (pass it with -L DIR): BIOS and VGA BIOS from Debian's seabios,
# NIC option ROMs from ipxe-qemu, and the option ROMs QEMU's build made
# (multiboot, linuxboot, kvmvapic, pvh), which the +ds tarball lacks.
# Keymaps come from the build itself (qemu-bundle).
set -euo pipefail

die() { echo "link-firmware: $*" >&2; exit 1; }
build=${1:?usage: link-firmware.sh BUILD DIR}
dir=${2:?usage: link-firmware.sh BUILD DIR}

mkdir -p "$dir"
[ -f /usr/share/seabios/bios-256k.bin ] || die "seabios is missing: run scripts/host-setup.sh"
[ -d /usr/lib/ipxe/qemu ] || die "ipxe-qemu is missing: run scripts/host-setup.sh"
for f in /usr/share/seabios/*.bin /usr/lib/ipxe/qemu/*.rom; do
    ln -sfn "$f" "$dir/$(basename "$f")"
done
for f in multiboot.bin multiboot_dma.bin linuxboot.bin linuxboot_dma.bin kvmvapic.bin pvh.bin; do
    [ -f "$build/pc-bios/optionrom/$f" ] || die "$build/pc-bios/optionrom/$f was not built"
    ln -sfn "$build/pc-bios/optionrom/$f" "$dir/$f"
done
# A binary run from the build folder looks for its data in qemu-bundle/
# (see get_relocated_path()): put the same files there, so that the bare
# binary and QEMU's qtests find them without -L.
datadir=$(sed -n 's/^#define CONFIG_QEMU_DATADIR "\(.*\)"$/\1/p' "$build/config-host.h")
[ -n "$datadir" ] || die "no CONFIG_QEMU_DATADIR in $build/config-host.h"
mkdir -p "$build/qemu-bundle$datadir"
for f in "$dir"/*.bin "$dir"/*.rom; do
    ln -sfn "$(readlink -f "$f")" "$build/qemu-bundle$datadir/$(basename "$f")"
done
