#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# lab-check.sh: the payload of `make check-nested`, run by L1's init in
# /payload (busybox ash).  It runs, on the kernel (K) path:
#   1. the guest tests: guest/run-suites.sh QEMU FIRMWARE kvm guest/hvtest.elf
#      (their PASS:/FAIL: guest/kvm/... lines go to the host unchanged);
#   2. live migration with SynIC state in flight, between our QEMU and
#      upstream QEMU 10.0.2 in both directions: migrate.sh
#      (nested/migrate/... lines);
#   3. the Linux-guest test: linux/in-lab.sh, on the kernel path and on
#      KVM with its Hyper-V hidden (linux/kvm/..., linux/kvm-nohv/...);
#   4. the libvirt layer: libvirt/in-lab.sh, the same two ways
#      (libvirt/kvm/..., libvirt/kvm-nohv/...).
# lab.env (written by check.sh, optional) narrows this down: LAB_PARTS
# (guest migrate linux libvirt), GUEST_ACCELS (run-suites.sh modes: kvm for the K
# path, kvm-u for the user path forced on L1's KVM, kvm-nohv for the user
# path QEMU picks on a KVM without Hyper-V) and GUEST_CASE_FILTER
# (a shell pattern on case names), LIBVIRT_NOHV_KINDS (the libvirt domains
# run on KVM without in-kernel Hyper-V).
# A part that cannot run, or that ends badly without saying why in a FAIL
# line of its own, gets a FAIL line here.  Exit status 0 when nothing failed.

status=0
LAB_PARTS='guest migrate linux'
GUEST_ACCELS='kvm kvm-u kvm-nohv'
GUEST_CASE_FILTER='*'
LIBVIRT_NOHV_KINDS='windows passthrough linux-hidden'
# shellcheck disable=SC1091  # written by check.sh into the payload
[ ! -f lab.env ] || . ./lab.env

# part NAME: whether LAB_PARTS asks for it
part() {
    case " $LAB_PARTS " in *" $1 "*) return 0 ;; esac
    return 1
}
rcfile=${TMPDIR:-/tmp}/step.rc

# run_step NAME COMMAND...: run one step of the payload with its output
# shown, then judge it: a step that printed no result line, or exited
# non-zero without a FAIL line, counts as a failure of its own.
run_step() {
    name=$1
    shift
    out=${TMPDIR:-/tmp}/$name.out
    t0=$(cut -d' ' -f1 /proc/uptime)
    # The command's status travels through a file: tee ends the pipe.
    {
        "$@"
        echo $? >"$rcfile"
    } 2>&1 | tee "$out"
    rc=$(cat "$rcfile" 2>/dev/null || echo lost)
    t1=$(cut -d' ' -f1 /proc/uptime)
    echo "INFO: nested/$name took $(echo "$t1 $t0" | awk '{ printf "%.1f", $1 - $2 }')s (L1 clock), exit $rc"
    if ! grep -q '^\(PASS\|FAIL\): ' "$out"; then
        echo "FAIL: nested/$name (printed no result line; exit $rc)"
        status=1
    elif [ "$rc" != 0 ]; then
        status=1
        grep -q '^FAIL: ' "$out" ||
            echo "FAIL: nested/$name (exited $rc without a FAIL line)"
    fi
}

if ! part guest; then
    :
elif [ ! -f guest/run-suites.sh ] || [ ! -f guest/hvtest.elf ]; then
    echo "FAIL: nested/guest-suites (the payload lacks guest/run-suites.sh or guest/hvtest.elf; build the guest tests first)"
    status=1
else
    for accel in $GUEST_ACCELS; do
        step=guest-suites
        [ "$accel" = kvm ] || step=guest-suites-$accel
        # A case takes seconds here; one that L1 stalls under is cut off
        # after 240 s and runs again (GUEST_RETRY).
        run_step "$step" env HV_LAB=1 ACCEL="$accel" GUEST_RETRY=1 \
            GUEST_CASE_TIMEOUT="${GUEST_CASE_TIMEOUT:-240}" \
            sh guest/run-suites.sh "$QEMU" "$FIRMWARE" "$accel" \
            "$PWD/guest/hvtest.elf" "$GUEST_CASE_FILTER"
    done
fi

if ! part migrate; then
    :
elif [ ! -f migrate.sh ]; then
    echo "FAIL: nested/migrate (the payload lacks migrate.sh)"
    status=1
else
    run_step migrate env MIGRATE_IMAGE="$PWD/guest/hvtest.elf" MIGRATE_LAB=1 sh migrate.sh
fi

if part linux; then
    sh linux/in-lab.sh kvm || status=1
    sh linux/in-lab.sh kvm-nohv || status=1
fi

if part libvirt; then
    sh libvirt/in-lab.sh kvm || status=1
    HV_LIBVIRT_KINDS=$LIBVIRT_NOHV_KINDS sh libvirt/in-lab.sh kvm-nohv ||
        status=1
    for k in windows passthrough linux-hidden; do
        case " $LIBVIRT_NOHV_KINDS " in
        *" $k "*) ;;
        *) echo "INFO: libvirt/kvm-nohv/$k was not run in this boot (left out by LIBVIRT_NOHV_KINDS; tests/libvirt/README.md says why)" ;;
        esac
    done
fi
exit $status
