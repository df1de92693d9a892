#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# synic-post-lab.sh: the part of bench/synic-post.sh that runs inside the
# nested lab's L1 (busybox ash), as its payload.  It runs the test guest's
# suite synic-bench on L1's KVM, one QEMU per mode, under each side of
# BENCH_SIDES:
#
#   ours       our QEMU ($QEMU), -accel kvm: hyperv=auto picks the kernel
#              path (L1's KVM has KVM_CAP_HYPERV_SYNIC2)
#   upstream   pristine upstream 10.0.2 ($UPSTREAM_QEMU), kernel path
#   ours-u     our QEMU, -accel kvm,hyperv=user: the user path forced (QEMU
#              emulates Hyper-V: the hypercall page traps to QEMU by an
#              OUT, the SynIC MSRs through KVM's MSR filter, SINTs raised
#              through an MSI route and an irqfd)
#
#   for each repetition:
#     a baseline run of each side (mode=none: boot and SynIC set-up only)
#     for each mode: every side, in BENCH_SIDES's order rotated by one from
#     one mode and repetition to the next (mode k of repetition r, k from
#     0: rotated by r - 1 + k), so that a drift in the machine's load does
#     not always favour the same side; with two sides that alternates them
#
# Output (the host reads it from the lab's console):
#   INFO: bench: reps=... modes='...' sides='...' eom=...   the settings
#   INFO: BENCH <side> <rep> <figure> <value> <unit>
#       the guest's "BENCH: <figure> <value> <unit>" lines, and
#       <mode>-kvm-<counter> <per-message x1000> milli: L1 KVM's debugfs
#       counters (exits, signal_exits, ...) of the VM, less those of the
#       baseline run, per message posted.  KVM's global debugfs files sum
#       over the VMs that exist, so they are read while the guest holds
#       (spins without exits) after its last mode: it prints
#       "INFO: bench: holding" first
#   PASS:/FAIL: bench/<side>/<rep>/<mode>/<guest check>, and
#   PASS:/FAIL: bench/<side>/<rep>/<mode>/completed (QEMU exited 1:
#       every check passed)
#   BENCH| ...  QEMU's own messages and the guest's other lines
# Exit status 1 when a FAIL line was printed.
#
# Settings come from bench.conf beside this script (the lab passes no
# environment of its own): BENCH_REPS, BENCH_N, BENCH_MODES, BENCH_SIDES,
# BENCH_GAP (microseconds between lockstep messages), BENCH_EOM,
# BENCH_TIMEOUT (seconds per QEMU run).  QEMU, FIRMWARE, UPSTREAM_QEMU,
# UPSTREAM_FIRMWARE, ACCEL and TMPDIR come from the lab's init.

here=$(cd "$(dirname "$0")" && pwd)
BENCH_REPS=3
BENCH_N=1000
BENCH_WARMUP=20
BENCH_GAP=5000
BENCH_HOLD=1000
BENCH_MODES="self cross cross-poll cross-b2b stream"
BENCH_SIDES="ours upstream ours-u"
BENCH_EOM=pending
BENCH_TIMEOUT=300
if [ -f "$here/bench.conf" ]; then
    # shellcheck source=/dev/null
    . "$here/bench.conf"
fi
image=$here/guest/hvtest.elf
accel=${ACCEL:-kvm}
work=${TMPDIR:-/tmp}/bench
status=0
COUNTERS="exits signal_exits halt_wakeup irq_injections hypercalls io_exits"
KVMDBG=/sys/kernel/debug/kvm

result() {
    echo "$1"
    case $1 in FAIL:*) status=1 ;; esac
}

# qemu_of SIDE / fw_of SIDE: the binary and firmware of a side
qemu_of() {
    case $1 in
    ours|ours-u) echo "${QEMU:-}" ;;
    upstream) echo "${UPSTREAM_QEMU:-}" ;;
    esac
}
fw_of() {
    case $1 in
    ours|ours-u) echo "${FIRMWARE:-}" ;;
    upstream) echo "${UPSTREAM_FIRMWARE:-}" ;;
    esac
}
# accel_of SIDE: what -accel gets on that side
accel_of() {
    case $1:$accel in
    ours-u:kvm) echo "kvm,hyperv=user" ;;
    *) echo "$accel" ;;
    esac
}

# rotate K LIST...: LIST rotated left by K places
rotate() {
    k=$1
    shift
    k=$((k % $#))
    while [ "$k" -gt 0 ]; do
        first=$1
        shift
        set -- "$@" "$first"
        k=$((k - 1))
    done
    echo "$*"
}

# counters FILE: L1 KVM's global counters, one "name value" a line
counters() {
    : >"$1"
    for c in $COUNTERS; do
        if [ -r "$KVMDBG/$c" ]; then
            echo "$c $(cat "$KVMDBG/$c")" >>"$1"
        fi
    done
}

# run SIDE REP MODE: one QEMU with the bench guest; figures and results
# printed, the VM's counters kept in $work/SIDE-REP-MODE.cnt
run() {
    which=$1 rep=$2 mode=$3
    tag=$which-$rep-$mode
    q=$(qemu_of "$which")
    if [ -z "$q" ] || [ ! -x "$q" ]; then
        result "FAIL: bench/$which/$rep/$mode/completed (no QEMU for $which)"
        return
    fi
    : >"$work/$tag.cnt"
    : >"$work/$tag.out"
    # MODE-aeoi: MODE with the bench SINT on AutoEOI (no EOI written).
    aeoi=
    [ "$mode" = "${mode%-aeoi}" ] || aeoi=" aeoi=all"
    timeout "$BENCH_TIMEOUT" "$q" -L "$(fw_of "$which")" \
        -accel "$(accel_of "$which")" -cpu host,hv-vpindex,hv-synic,hv-time,hv-stimer \
        -M pc-i440fx-10.0 -m 128 -smp 2 \
        -display none -nodefaults -no-reboot -serial stdio \
        -device hyperv-testdev -device isa-debug-exit,iobase=0xf4,iosize=4 \
        -kernel "$image" \
        -append "suite=synic-bench cpus=2 mode=${mode%-aeoi} n=$BENCH_N warmup=$BENCH_WARMUP gap=$BENCH_GAP eom=$BENCH_EOM hold=$BENCH_HOLD$aeoi" \
        </dev/null >"$work/$tag.out" 2>"$work/$tag.err" &
    qpid=$!
    while kill -0 "$qpid" 2>/dev/null; do
        if grep -q '^INFO: bench: holding' "$work/$tag.out"; then
            sleep 0.3
            counters "$work/$tag.cnt"
            break
        fi
        sleep 0.2
    done
    wait "$qpid"
    rc=$?
    tr -d '\r' <"$work/$tag.out" | while IFS= read -r line; do
        case $line in
        "BENCH: "*)
            # The guest names figures after its mode; MODE-aeoi ran MODE.
            fig=${line#BENCH: }
            case $fig in
            "${mode%-aeoi}-"*) fig=$mode-${fig#"${mode%-aeoi}"-} ;;
            esac
            echo "INFO: BENCH $which $rep $fig" ;;
        "PASS: "*|"FAIL: "*) echo "${line%%: *}: bench/$which/$rep/$mode/${line#*: }" ;;
        *) echo "BENCH| $tag: $line" ;;
        esac
    done
    if grep -q '^FAIL: ' "$work/$tag.out"; then
        status=1
    fi
    sed "s/^/BENCH| $tag: stderr: /" "$work/$tag.err"
    case $rc in
    1) result "PASS: bench/$which/$rep/$mode/completed" ;;
    124|143) result "FAIL: bench/$which/$rep/$mode/completed (timed out after ${BENCH_TIMEOUT}s)" ;;
    *) result "FAIL: bench/$which/$rep/$mode/completed (QEMU exited $rc: $(tail -n 1 "$work/$tag.err"))" ;;
    esac
}

# per_msg SIDE REP MODE: the counters of a mode's run less the baseline's,
# per message posted, times 1000
per_msg() {
    msgs=$((BENCH_N + BENCH_WARMUP))
    awk -v w="$1" -v r="$2" -v m="$3" -v n="$msgs" '
        NR == FNR { b[$1] = $2; next }
        ($1 in b) {
            printf "INFO: BENCH %s %s %s-kvm-%s %d milli\n", w, r, m, $1,
                ($2 - b[$1]) * 1000 / n
        }' "$work/$1-$2-none.cnt" "$work/$1-$2-$3.cnt"
}

rm -rf "$work"
mkdir -p "$work"
if [ ! -d "$KVMDBG" ]; then
    mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
fi
if [ -d "$KVMDBG" ]; then
    echo "INFO: bench: L1 KVM counters from $KVMDBG"
else
    echo "INFO: bench: no $KVMDBG: no KVM counters"
fi
echo "INFO: bench: reps=$BENCH_REPS n=$BENCH_N warmup=$BENCH_WARMUP gap=${BENCH_GAP}us modes='$BENCH_MODES' sides='$BENCH_SIDES' eom=$BENCH_EOM"
[ -f "$image" ] || result "FAIL: bench/setup (no test guest at $image)"
[ -n "$BENCH_SIDES" ] || result "FAIL: bench/setup (BENCH_SIDES is empty)"

rep=1
while [ "$rep" -le "$BENCH_REPS" ] && [ -f "$image" ] && [ -n "$BENCH_SIDES" ]; do
    for which in $BENCH_SIDES; do
        run "$which" "$rep" none
    done
    # mode k of repetition r (k from 0): the sides rotated by r - 1 + k
    turn=$((rep - 1))
    for mode in $BENCH_MODES; do
        # shellcheck disable=SC2086 # split the list into arguments
        order=$(rotate "$turn" $BENCH_SIDES)
        turn=$((turn + 1))
        for which in $order; do
            run "$which" "$rep" "$mode"
            if [ -s "$work/$which-$rep-none.cnt" ]; then
                per_msg "$which" "$rep" "$mode"
            fi
        done
    done
    rep=$((rep + 1))
done
exit "$status"
