#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# run.sh [--build DIR] [--qemu PATH] [--firmware DIR]: the libvirt layer
# under TCG on the host (tests/libvirt/README.md).  Debian's libvirt
# daemon (scripts/host-setup.sh installs it) drives our QEMU through the
# domains of domain.sh; cases.sh prints the libvirt/tcg/* results.  The
# daemon runs unprivileged in a folder of its own under /tmp, which goes
# away at the end: a clone under a private home stays private.
set -euo pipefail

die() { echo "libvirt: $*" >&2; exit 2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
build=$top/build qemu='' firmware=''
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=${2:?--build needs a folder}; shift 2 ;;
    --qemu) qemu=${2:?--qemu needs a path}; shift 2 ;;
    --firmware) firmware=${2:?--firmware needs a folder}; shift 2 ;;
    *) die "unknown option '$1' (see the header of $0)" ;;
    esac
done
build=$(realpath -m "$build")
qemu=$(realpath -m "${qemu:-$build/qemu/qemu-system-x86_64}")
firmware=$(realpath -m "${firmware:-$build/firmware}")
[ -x "$qemu" ] || die "$qemu is missing: build it first (make qemu)"
[ -f "$firmware/bios-256k.bin" ] || die "$firmware has no bios-256k.bin: run make qemu"
[ "$(id -u)" = 0 ] || die "needs root: the daemon runs as nobody, set up by root"

"$top/tests/linux/build-initramfs.sh" "$build"

# The daemon's user reads QEMU, its firmware (where QEMU looks for it,
# ../share/qemu from its binary) and the guest from here.
work=$(mktemp -d /tmp/hv-libvirt.XXXXXX)
# shellcheck disable=SC2317 # the EXIT trap calls it
cleanup() {
    # Whatever cases.sh could not stop: QEMUs running from here, the
    # daemon (nobody's libvirtd).
    pkill -9 -U 65534 -f "$work" 2>/dev/null || true
    pkill -9 -U 65534 -x libvirtd 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/qemu/bin" "$work/qemu/share" "$work/g"
cp "$qemu" "$work/qemu/bin/qemu-system-x86_64"
cp -rL "$firmware" "$work/qemu/share/qemu"
cp "$build/tests/linux/vmlinuz" "$build/tests/linux/initrd.gz" "$work/g/"
chmod -R a+rX "$work"

echo "libvirt: Debian's libvirtd drives our QEMU under TCG"
start=$(date +%s)
rc=0
LINUX_EVALUATE=$top/tests/linux/evaluate.sh sh "$here/cases.sh" tcg qemu \
    "$work/qemu/bin/qemu-system-x86_64" "$work/g" || rc=$?
echo "libvirt: done in $(($(date +%s) - start))s"
exit $rc
