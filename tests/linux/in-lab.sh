#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# in-lab.sh: the Linux-guest test on the kernel (K) path, run inside the
# nested lab's L1 (busybox ash).  L1's KVM has the in-kernel Hyper-V, so the
# guest should detect Hyper-V, take the Hyper-V clocksource and negotiate a
# VMBus version with our QEMU.  Prints the linux/kvm/* result lines of
# evaluate.sh; the guest's console goes through prefixed "L2| ", so that
# nothing it prints is taken for a result.
#
# Needs QEMU and FIRMWARE in the environment (the lab's init sets them), and
# beside this script: qemu-args.sh, evaluate.sh, vmlinuz, initrd.gz.
# LINUX_KVM_TIMEOUT bounds the guest (default 600 s).

here=$(cd "$(dirname "$0")" && pwd)
: "${QEMU:?QEMU is not set: run me in the nested lab}"
: "${FIRMWARE:?FIRMWARE is not set: run me in the nested lab}"
limit=${LINUX_KVM_TIMEOUT:-600}
for f in qemu-args.sh evaluate.sh vmlinuz initrd.gz; do
    if [ ! -f "$here/$f" ]; then
        echo "FAIL: linux/kvm/boot ($here/$f is missing from the payload)"
        exit 1
    fi
done
. "$here/qemu-args.sh"

log=${TMPDIR:-/tmp}/linux-kvm.log
t0=$(cut -d' ' -f1 /proc/uptime)
# shellcheck disable=SC2086 # LINUX_DEVICES is a list of arguments
timeout "$limit" "$QEMU" -L "$FIRMWARE" -accel kvm -cpu "host,$LINUX_HV_FLAGS" \
    -m 512 -smp 2 $LINUX_DEVICES \
    -kernel "$here/vmlinuz" -initrd "$here/initrd.gz" -append "$LINUX_APPEND" \
    </dev/null >"$log" 2>&1
qstatus=$?
[ "$qstatus" -ne 143 ] || qstatus=124
t1=$(cut -d' ' -f1 /proc/uptime)
tr -d '\r' <"$log" | sed 's/^/L2| /'
echo "INFO: linux/kvm guest ran $(echo "$t1 $t0" | awk '{ printf "%.1f", $1 - $2 }')s (L1 clock), QEMU status $qstatus"
sh "$here/evaluate.sh" kvm "$qstatus" <"$log"
