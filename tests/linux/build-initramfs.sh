#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# build-initramfs.sh [BUILD]: assemble the Linux guest of the Linux-guest
# test: BUILD/tests/linux/vmlinuz (Debian's kernel),
# BUILD/tests/linux/initrd.gz (busybox, tests/linux/init.sh as /init, the
# hv modules with their dependencies, cpuid, button, evdev and dummy,
# kexec, hv_kvp_daemon and phc_ctl), and
# BUILD/tests/linux/initrd-kexec.gz: the same with /boot/vmlinuz and
# /boot/initrd.gz, so that the guest can kexec into itself once.  Rebuilt on every call; it takes a
# second or two.
set -euo pipefail

die() { echo "linux: $*" >&2; exit 2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
build=$(realpath -m "${1:-$top/build}")

# shellcheck source=../lib/initramfs.sh
. "$top/tests/lib/initramfs.sh"

rel=$("$top/tests/lib/fetch-kernel.sh" "$build")
kroot=$build/tests/kernel
work=$build/tests/linux
mkdir -p "$work"

root=$work/root
ird_new "$root"
ird_busybox "$root"
ird_file "$root" "$here/init.sh" /init 0755
ird_file "$root" "$here/../lib/init-early.sh" /lib/init-early.sh 0644
# hv_netvsc and hv_storvsc are optional: a kernel without them still tests
# the bus itself.
ird_modules "$root" "$kroot" "$rel" hv_vmbus hv_utils hv_balloon hv_sock \
    cpuid button evdev dummy \
    'hv_netvsc?' 'hv_storvsc?'
kx=$(PATH=$PATH:/usr/sbin:/sbin command -v kexec || true)
[ -n "$kx" ] || die "kexec is missing: run scripts/host-setup.sh (kexec-tools)"
ird_elf "$root" "$kx" /sbin/kexec
# The KVP service's guest side (Debian's hyperv-daemons).
[ -x /usr/sbin/hv_kvp_daemon ] ||
    die "hv_kvp_daemon is missing: run scripts/host-setup.sh (hyperv-daemons)"
ird_elf "$root" /usr/sbin/hv_kvp_daemon /sbin/hv_kvp_daemon
# The time sync service's PTP clock, read with linuxptp's phc_ctl.
[ -x /usr/sbin/phc_ctl ] ||
    die "phc_ctl is missing: run scripts/host-setup.sh (linuxptp)"
ird_elf "$root" /usr/sbin/phc_ctl /sbin/phc_ctl
ird_pack "$root" "$work/initrd.gz"
mkdir -p "$root/boot"
cp "$kroot/boot/vmlinuz-$rel" "$root/boot/vmlinuz"
cp "$work/initrd.gz" "$root/boot/initrd.gz"
ird_pack "$root" "$work/initrd-kexec.gz"
cp "$kroot/boot/vmlinuz-$rel" "$work/vmlinuz.tmp"
mv "$work/vmlinuz.tmp" "$work/vmlinuz"
