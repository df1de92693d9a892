#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# /init of the nested lab's L1 (Debian's kernel, booted by our QEMU under
# TCG with -cpu max, so that L1 has SVM and its KVM full Hyper-V support).
# It loads KVM, reports what /dev/kvm offers, runs the payload and powers off.
#
# Everything goes to the serial console.  The host runner (run.sh) reads:
#   LAB: key=value        facts about L1 (turned into nested/* results there)
#   CAP: NAME=value       KVM_CHECK_EXTENSION answers (kvmcaps)
#   PASS:/FAIL:/PENDING:  the payload's own results, passed on unchanged
# Anything else is diagnostics.  The kernel runs with loglevel=3 so that its
# messages seldom interleave with these lines; dmesg is dumped at the end,
# each line prefixed "L1-DMESG: ", for the console log.

. /lib/init-early.sh

echo "LAB: init=started"
echo "LAB: kernel=$(uname -r)"
echo "LAB: cpus=$(nproc)"
echo "LAB: uptime-at-init=$(cut -d' ' -f1 /proc/uptime)"

ENTRY=
PAYLOAD_TIMEOUT=600
. /etc/lab.conf

# Dependencies come first in modules.load; a failure is reported with the
# kernel's reason and the rest still tried, so one report shows everything.
while read -r name file role _deps; do
    case $role in
    builtin) echo "LAB: module.$name=builtin"; continue ;;
    missing) echo "LAB: module.$name=missing"; continue ;;
    esac
    if err=$(insmod "$file" 2>&1); then
        echo "LAB: module.$name=ok"
    else
        echo "LAB: module.$name=error ${err##*: }"
    fi
done </etc/modules.load

if [ -c /dev/kvm ]; then
    echo "LAB: kvm=present"
else
    echo "LAB: kvm=missing"
fi
/bin/kvmcaps
if grep -qw svm /proc/cpuinfo; then
    echo "LAB: cpu-svm=yes"
else
    echo "LAB: cpu-svm=no"
fi

# The payload sees our QEMU and its firmware through the environment; its
# output goes to the console as it is.
export QEMU=/opt/qemu/bin/qemu-system-x86_64
export FIRMWARE=/opt/qemu/firmware
# Preloaded into QEMU, this makes L1's KVM look as if built without
# Hyper-V (run-suites.sh's kvm-nohv mode).
export KVM_NO_HYPERV=/opt/qemu/lib/kvm-no-hyperv.so
# Pristine upstream QEMU 10.0.2 when the runner was given one (run.sh
# --upstream-qemu); empty otherwise, and payloads that need it say so.
UPSTREAM_QEMU= UPSTREAM_FIRMWARE=
if [ -x /opt/upstream/bin/qemu-system-x86_64 ]; then
    UPSTREAM_QEMU=/opt/upstream/bin/qemu-system-x86_64
    UPSTREAM_FIRMWARE=/opt/upstream/firmware
fi
export UPSTREAM_QEMU UPSTREAM_FIRMWARE
export PAYLOAD=/payload
export HV_LAB=1
export ACCEL=kvm
export TMPDIR=/tmp
echo "LAB: payload-start=$(cut -d' ' -f1 /proc/uptime)"
if [ -n "$ENTRY" ] && [ -f "/payload/$ENTRY" ]; then
    (cd /payload && timeout "$PAYLOAD_TIMEOUT" sh "./$ENTRY")
    rc=$?
    # busybox timeout kills with SIGTERM: the shell reports 143.
    [ $rc -ne 143 ] || rc=timeout
else
    rc="no-entry (/payload/$ENTRY)"
fi
echo "LAB: payload-exit=$rc"
echo "LAB: payload-end=$(cut -d' ' -f1 /proc/uptime)"

dmesg | sed 's/^/L1-DMESG: /'
echo "LAB: done"
sync
poweroff -f
