#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# in-lab.sh kvm|kvm-nohv: the libvirt layer inside the nested lab's L1
# (busybox ash), on L1's KVM: with its in-kernel Hyper-V (kvm, the kernel
# path) or with it hidden from QEMU (kvm-nohv: kvm-no-hyperv.so, so that
# QEMU emulates Hyper-V itself).  Copies the host's libvirt (root/, from
# lab-root.sh) over L1's root once, gives L1 the accounts libvirt looks
# up, and runs cases.sh with domain type kvm: libvirt/kvm/* or
# libvirt/kvm-nohv/* results.
#
# Needs QEMU (and for kvm-nohv KVM_NO_HYPERV) in the environment, as the
# lab's init sets them, and beside this script: cases.sh, domain.sh,
# evaluate.sh, vmlinuz, initrd.gz, root/.

here=$(cd "$(dirname "$0")" && pwd)
where=${1:-kvm}
: "${QEMU:?QEMU is not set: run me in the nested lab}"
for f in cases.sh domain.sh evaluate.sh vmlinuz initrd.gz root/usr/sbin/libvirtd; do
    if [ ! -e "$here/$f" ]; then
        echo "FAIL: libvirt/$where/daemon ($here/$f is missing from the payload)"
        exit 1
    fi
done

if [ ! -x /usr/sbin/libvirtd ]; then
    cp -a "$here/root/." /
    # The daemon runs as nobody; libvirt and setpriv look the names up.
    grep -q '^root:' /etc/passwd 2>/dev/null ||
        echo 'root:x:0:0:root:/root:/bin/sh' >>/etc/passwd
    echo 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >>/etc/passwd
    printf 'root:x:0:\nnogroup:x:65534:\n' >>/etc/group
    # QEMU finds its firmware at ../share/qemu from its binary.
    mkdir -p "$(dirname "$QEMU")/../share"
    [ -e "$(dirname "$QEMU")/../share/qemu" ] ||
        ln -s "${FIRMWARE:?FIRMWARE is not set}" "$(dirname "$QEMU")/../share/qemu"
fi
# The guest's QEMU runs as nobody too, on /dev/kvm.
chmod 0666 /dev/kvm

work=${TMPDIR:-/tmp}/libvirt-$where
rm -rf "$work"
mkdir -p "$work"
cp "$here/vmlinuz" "$here/initrd.gz" "$work/"
emulator=$QEMU
case $where in
kvm) ;;
kvm-nohv)
    # libvirt runs the emulator for its capabilities and for each domain:
    # a script that preloads the library that hides KVM's Hyper-V.
    emulator=$work/qemu-nohv
    printf '#!/bin/sh\nLD_PRELOAD=%s exec %s "$@"\n' \
        "${KVM_NO_HYPERV:?KVM_NO_HYPERV is not set}" "$QEMU" >"$emulator"
    chmod 0755 "$emulator" ;;
*)
    echo "FAIL: libvirt/$where/daemon (in-lab.sh: unknown mode '$where')"
    exit 1 ;;
esac
# No PMU for the guests: L1's KVM has none to give (as in
# tests/linux/in-lab.sh).
HV_LIBVIRT_PMU_OFF=1 SETPRIV=/opt/libvirt/bin/setpriv \
    HV_LIBVIRT_BOOT_LIMIT=${HV_LIBVIRT_BOOT_LIMIT:-180} \
    LINUX_EVALUATE=$here/evaluate.sh \
    sh "$here/cases.sh" "$where" kvm "$emulator" "$work"
rc=$?
# The guests' consoles, for the lab's console log only.
sed 's/^/L2| /' "$work/consoles.txt" 2>/dev/null
exit $rc
