#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Run the guest test suites (tests/guest/README.md) under one accelerator.
#
#   run-suites.sh QEMU FIRMWARE_DIR ACCEL IMAGE [CASE-FILTER]
#
# ACCEL is tcg or kvm.  With kvm the cases tagged kvm-k run when HV_LAB=1
# (the nested lab, whose KVM emulates Hyper-V), else those tagged
# kvm-host (a KVM without Hyper-V).  CASE-FILTER is a shell pattern on
# case names.  GUEST_RUN_TAGS (space-separated) names further tags to run,
# for cases kept out of the default set under a tag of their own; their
# results are still named after the accelerator's tag.  Output, one line each:
#
#   PASS: guest/<tag>/<case>/<check>   a guest check, re-prefixed
#   FAIL: guest/<tag>/<case>/<check>
#   PASS: guest/<tag>/<case>/completed the run itself: QEMU exited through
#   FAIL: guest/<tag>/<case>/completed isa-debug-exit, SUMMARY agrees
#   INFO: guest/<tag>/<case>: ...      the QEMU command line of the case
#   # ...                              everything else (guest INFO lines,
#                                      QEMU messages, reasons)
#
# Exit status: 0 if nothing failed, 1 otherwise, 2 on a usage error.
#
# POSIX sh only: this also runs under busybox ash in the lab's initramfs.

set -eu

# seconds per QEMU run; the nested lab may need more
CASE_TIMEOUT=${GUEST_CASE_TIMEOUT:-600}

# name | tags | QEMU options | guest command line
# @CPU@ is the accelerator's default CPU model; "cpus=N" is added from
# -smp, "accel=" and "quirks=" from the accelerator.
CASES='
selftest-smp1  | tcg kvm-host kvm-k | -cpu @CPU@ -smp 1 | suite=selftest
selftest-smp4  | tcg kvm-host kvm-k | -cpu @CPU@ -smp 4 | suite=selftest
selftest-x2apic| tcg kvm-host kvm-k | -cpu @CPU@ -smp 4 | suite=selftest x2apic=1
hyperv-cpuid   | kvm-k | -cpu host,hv-vpindex,hv-synic,hv-time,hv-relaxed,hv-vapic,hv-runtime -smp 2 | suite=hyperv-cpuid hv=vpindex,synic,time,relaxed,vapic,runtime hv-strict=1
hyperv-cpuid-legacy | kvm-k | -cpu kvm64,hv_vpindex,hv_synic,hv_time,hv_stimer -smp 2 | suite=hyperv-cpuid hv=vpindex,synic,time,stimer hv-strict=1
# SynIC acceptance tests, with the command lines kvm-unit-tests uses
synic-msr      | kvm-k | -cpu host,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-msr
synic-msr-legacy | kvm-k | -cpu kvm64,hv_vpindex,hv_synic,hv_time,hv_stimer -device hyperv-testdev -smp 2 | suite=synic-msr
synic-sint     | kvm-k | -cpu host,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-sint
synic-sint-churn | kvm-k | -cpu host,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-sint churn=5000
synic-sint-legacy | kvm-k | -cpu kvm64,hv_vpindex,hv_synic,hv_time,hv_stimer -device hyperv-testdev -smp 2 | suite=synic-sint
synic-sint-x2apic | kvm-k | -cpu host,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-sint x2apic=1
synic-conn     | kvm-k | -cpu host,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-conn
synic-conn-legacy | kvm-k | -cpu kvm64,hv_vpindex,hv_synic,hv_time,hv_stimer -device hyperv-testdev -smp 2 | suite=synic-conn
synic-hcall    | kvm-k | -cpu host,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-hcall
synic-malicious | kvm-k | -cpu host,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-malicious
synic-reset    | kvm-k | -cpu host,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-reset
# The synic-defects groups check what the SynIC and hyperv-testdev of
# QEMU 10.0.2 got wrong (wrong statuses, aborts, a NULL dereference,
# out-of-bounds writes); each is a regression test for our replacement.
# One QEMU per group, so that one failure cannot hide the others.
# No apostrophes in this table: it is one quoted string.
synic-defects-status | kvm-k      | -cpu host,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-defects part=status
synic-defects-vp | kvm-k      | -cpu host,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-defects part=vp
synic-defects-simp-off | kvm-k      | -cpu host,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-defects part=simp-off
synic-defects-simp-far | kvm-k      | -cpu host,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-defects part=simp-far
synic-defects-siefp-off | kvm-k      | -cpu host,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-defects part=siefp-off
synic-defects-sint16 | kvm-k      | -cpu host,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-defects part=sint16
synic-defects-payload240 | kvm-k      | -cpu host,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-defects part=payload240
synic-defects-missing | kvm-k      | -cpu host,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-defects part=missing
synic-defects-dup | kvm-k      | -cpu host,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-defects part=dup
synic-defects-race | kvm-k      | -cpu host,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-defects part=race
synic-defects-stream | kvm-k      | -cpu host,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-defects part=stream
synic-defects-reset | kvm-k      | -cpu host,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-reset live=1
'

die() {
    echo "run-suites.sh: $*" >&2
    exit 2
}

usage() {
    echo "usage: run-suites.sh QEMU FIRMWARE_DIR ACCEL IMAGE [CASE-FILTER]" >&2
    echo "  ACCEL: tcg or kvm (kvm-k cases when HV_LAB=1, else kvm-host)" >&2
    exit 2
}

if [ $# -lt 4 ] || [ $# -gt 5 ]; then
    usage
fi
QEMU=$1
FIRMWARE=$2
ACCEL=$3
IMAGE=$4
FILTER=${5:-*}

[ -x "$QEMU" ] || die "QEMU binary '$QEMU' is missing or not executable"
[ -d "$FIRMWARE" ] || die "firmware folder '$FIRMWARE' does not exist"
[ -r "$IMAGE" ] || die "guest image '$IMAGE' is missing (build it with tests/guest/guest.mk)"

# Known platform deficiencies the guest is told about (README.md, quirks).
case $ACCEL in
tcg)
    TAG=tcg CPU=max QUIRKS=msr-no-gp ;;
kvm)
    [ -c /dev/kvm ] || die "accelerator kvm: /dev/kvm does not exist"
    if [ "${HV_LAB:-0}" = 1 ]; then
        TAG=kvm-k CPU=host QUIRKS=
    else
        TAG=kvm-host CPU=host QUIRKS=apic-isr-hidden
    fi ;;
*)
    die "unknown accelerator '$ACCEL' (tcg or kvm)" ;;
esac

# busybox before 1.30 spells it "timeout -t SECONDS"
if timeout 5 true >/dev/null 2>&1; then
    TIMEOUT_STYLE=plain
elif timeout -t 5 true >/dev/null 2>&1; then
    TIMEOUT_STYLE=busybox-t
else
    die "no working 'timeout' command"
fi

bounded() {
    secs=$1
    shift
    if [ "$TIMEOUT_STYLE" = plain ]; then
        timeout -s KILL "$secs" "$@"
    else
        timeout -s KILL -t "$secs" "$@"
    fi
}

trim() {
    t=$1
    t=${t#"${t%%[! ]*}"}
    t=${t%"${t##*[! ]}"}
    printf '%s' "$t"
}

# The vCPU count of "-smp N" or "-smp N,..." or "-smp cpus=N,...".
smp_count() {
    set -f
    # shellcheck disable=SC2086  # split the option string on purpose
    set -- $1
    set +f
    while [ $# -gt 1 ]; do
        if [ "$1" = -smp ]; then
            n=${2%%,*}
            echo "${n#cpus=}"
            return
        fi
        shift
    done
    echo 1
}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/guest-tests.XXXXXX") ||
    die "cannot create a temporary folder"
trap 'rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM

TOTAL_PASS=0
TOTAL_FAIL=0
CASES_RUN=0

result() {
    echo "$1: guest/$TAG/$2"
    if [ "$1" = PASS ]; then
        TOTAL_PASS=$((TOTAL_PASS + 1))
    else
        TOTAL_FAIL=$((TOTAL_FAIL + 1))
    fi
}

# Print the guest's serial log: results re-prefixed, the rest as comments.
# Sets PASSED, FAILED and SUMMARY.
scan_log() {
    name=$1
    PASSED=0 FAILED=0 SUMMARY=
    tr -d '\r' <"$2" >"$2.txt"
    while IFS= read -r line || [ -n "$line" ]; do
        case $line in
        "PASS: "*)
            PASSED=$((PASSED + 1))
            result PASS "$name/${line#PASS: }" ;;
        "FAIL: "*)
            FAILED=$((FAILED + 1))
            result FAIL "$name/${line#FAIL: }" ;;
        "SUMMARY: "*)
            SUMMARY=${line#SUMMARY: }
            echo "# guest/$TAG/$name: $line" ;;
        *)
            echo "# guest/$TAG/$name: $line" ;;
        esac
    done <"$2.txt"
}

# Why the run as a whole is not trustworthy, or nothing if it is.
judge() {
    rc=$1
    want="passed=$PASSED failed=$FAILED"
    case $rc in
    1 | 3) ;;
    124 | 137) echo "QEMU killed after ${CASE_TIMEOUT}s (exit $rc)"; return ;;
    *) echo "QEMU exit status $rc, want 1 (passed) or 3 (failed)"; return ;;
    esac
    if [ -z "$SUMMARY" ]; then
        # QEMU itself also exits with 1 when it fails to start
        echo "no SUMMARY line from the guest (QEMU exit status $rc)"
    elif [ "${SUMMARY#* }" != "$want" ]; then
        echo "SUMMARY says '${SUMMARY#* }' but the log has $want"
    elif [ $((PASSED + FAILED)) -eq 0 ]; then
        echo "the guest reported no checks"
    elif [ "$rc" = 1 ] && [ "$FAILED" -ne 0 ]; then
        echo "exit status 1 (all passed) with $FAILED failed checks"
    elif [ "$rc" = 3 ] && [ "$FAILED" -eq 0 ]; then
        echo "exit status 3 (failures) but no failed check"
    fi
}

run_case() {
    name=$1 opts=$2 cmdline=$3
    log=$TMP/$name.serial
    err=$TMP/$name.stderr
    cpus=$(smp_count "$opts")
    cmdline="$cmdline cpus=$cpus accel=$TAG${QUIRKS:+ quirks=$QUIRKS}"
    opts=$(echo "$opts" | sed "s/@CPU@/$CPU/g")

    echo "INFO: guest/$TAG/$name: $(basename "$QEMU") -accel $ACCEL $opts -append '$cmdline'"
    : >"$log"
    rc=0
    set -f
    # shellcheck disable=SC2086  # $opts holds several options
    bounded "$CASE_TIMEOUT" "$QEMU" -L "$FIRMWARE" -accel "$ACCEL" -M pc \
        -m 256 -display none -nodefaults -serial "file:$log" \
        -device isa-debug-exit,iobase=0xf4,iosize=4 \
        -kernel "$IMAGE" -append "$cmdline" $opts \
        </dev/null >"$err" 2>&1 || rc=$?
    set +f

    scan_log "$name" "$log"
    while IFS= read -r line || [ -n "$line" ]; do
        echo "# guest/$TAG/$name: qemu: $line"
    done <"$err"
    why=$(judge "$rc")
    if [ -n "$why" ]; then
        echo "# guest/$TAG/$name: $why"
        result FAIL "$name/completed"
    else
        result PASS "$name/completed"
    fi
}

while IFS='|' read -r name tags opts cmdline; do
    name=$(trim "$name")
    case $name in '' | '#'*) continue ;; esac
    selected=
    for t in $TAG ${GUEST_RUN_TAGS:-}; do
        case " $tags " in *" $t "*) selected=1 ;; esac
    done
    [ -n "$selected" ] || continue
    # shellcheck disable=SC2254  # FILTER is a pattern
    case $name in $FILTER) ;; *) continue ;; esac
    CASES_RUN=$((CASES_RUN + 1))
    run_case "$name" "$(trim "$opts")" "$(trim "$cmdline")"
done <<EOF
$CASES
EOF

[ "$CASES_RUN" -gt 0 ] || die "no $TAG case matches '$FILTER'"
echo "# guest/$TAG: $CASES_RUN cases, $TOTAL_PASS passed, $TOTAL_FAIL failed"
[ "$TOTAL_FAIL" -eq 0 ]
