#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# run-guest-host.sh QEMU FIRMWARE IMAGE: the guest-test layer on this host,
# under TCG and under the host's own KVM, both on the user path (QEMU's own
# Hyper-V; the host's KVM has none), a live migration of the SynIC state
# and of open VMBus channels under each, and VMBus migration streams
# (vmbus-stream.py).  (The in-kernel Hyper-V cases run in the nested lab.)
# A host without /dev/kvm (such as one that is itself a paravirtual guest)
# has no KVM to run: the nested lab then stands in for it, with its
# kvm-nohv mode (L1's KVM with its Hyper-V hidden from QEMU), and this
# layer says so.  A /dev/kvm that exists but cannot be used fails.
set -euo pipefail

qemu=${1:?usage: run-guest-host.sh QEMU FIRMWARE IMAGE}
fw=${2:?usage}
image=${3:?usage}
here=$(cd "$(dirname "$0")/.." && pwd)
status=0

# migrate ACCEL TAG [CPU]: ours to ours, results named
# guest/TAG/migrate/...; CPU is the base model on KVM (default host)
migrate() {
    QEMU=$qemu FIRMWARE=$fw ACCEL=$1 MIGRATE_IMAGE=$image \
        MIGRATE_CPU=${3:-host} \
        MIGRATE_PAIRS="ours:ours ours:ours:vmbus" \
        MIGRATE_PREFIX=guest/$2/migrate \
        sh "$here/nested/migrate.sh" | grep -v '^MIG| ' || status=1
}

"$here/guest/run-suites.sh" "$qemu" "$fw" tcg "$image" || status=1
migrate tcg tcg
# VMBus migration streams, ours and QEMU 10.0.2's, whole and corrupt.
python3 "$here/lib/vmbus-stream.py" "$qemu" "$fw" "$image" \
    guest/tcg/vmbus-stream || status=1
if [ ! -e /dev/kvm ]; then
    echo "INFO: guest/kvm-host: this host has no /dev/kvm; its cases run in the nested lab as guest/kvm-nohv (make check-nested)"
elif [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
    # One probe for the layer: the base CPU model this KVM starts with no
    # hv-* flag (run-suites.sh says which and why); the cases and the
    # migration use it.  If none starts, run-suites.sh fails and says so.
    if cpu=$("$here/guest/run-suites.sh" --probe-cpu "$qemu" "$fw" kvm "$image"); then
        export GUEST_CPU=$cpu
    fi
    "$here/guest/run-suites.sh" "$qemu" "$fw" kvm "$image" || status=1
    migrate kvm kvm-host "${GUEST_CPU:-host}"
else
    echo "FAIL: guest/kvm (/dev/kvm exists but cannot be opened for reading and writing)"
    status=1
fi
exit $status
