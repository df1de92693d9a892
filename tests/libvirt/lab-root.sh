#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# lab-root.sh DIR: the host's libvirt, as a tree to copy over the nested
# lab's root (tests/libvirt/in-lab.sh does): libvirtd with the QEMU
# driver, virsh and setpriv, each with its libraries, and libvirt's CPU
# map and domain schema.  L1 has busybox only; this is what the libvirt
# layer needs there.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
dir=${1:?usage: lab-root.sh DIR}
# shellcheck source=../lib/initramfs.sh
. "$top/tests/lib/initramfs.sh"

drivers=/usr/lib/x86_64-linux-gnu/libvirt/connection-driver
for f in /usr/sbin/libvirtd /usr/bin/virsh "$drivers/libvirt_driver_qemu.so"; do
    [ -f "$f" ] || ird_die "$f is missing: run scripts/host-setup.sh" \
        "(libvirt-daemon, libvirt-daemon-driver-qemu, libvirt-clients)"
done
rm -rf "$dir"
mkdir -p "$dir"
ird_elf "$dir" /usr/sbin/libvirtd /usr/sbin/libvirtd
ird_elf "$dir" /usr/bin/virsh /usr/bin/virsh
# Not /usr/bin: busybox has a setpriv of its own (without --reuid).
ird_elf "$dir" "$(command -v setpriv)" /opt/libvirt/bin/setpriv
ird_elf "$dir" "$drivers/libvirt_driver_qemu.so" "$drivers/libvirt_driver_qemu.so"
mkdir -p "$dir/usr/share/libvirt"
cp -rL /usr/share/libvirt/cpu_map "$dir/usr/share/libvirt/"
# cases.sh reads libvirt's names for the Hyper-V features from its schema.
mkdir -p "$dir/usr/share/libvirt/schemas"
cp /usr/share/libvirt/schemas/domaincommon.rng "$dir/usr/share/libvirt/schemas/"
