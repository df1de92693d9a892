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
#   tcg        our QEMU, -accel tcg (synic-post.sh runs this script on the
#              host itself for that side, not in the lab; no KVM counters)
#
# Modes named clock-MODE run the test guest's suite clock-bench with
# mode=MODE (page, msr): BENCH_N hundred reads of reference time; their
# counters, like vmbus-bench's, are read around the measured reads.
# Modes named vmbus-MODE run the test guest's suite vmbus-bench with
# mode=MODE (rtt, rtt-poll, stream, stream-balloon) on a VMBus with
# vmbus-echo and hv-balloon; upstream has no vmbus-echo, so it runs only
# vmbus-stream-balloon.  Their counters are read where the measured
# packets start and where they end (no baseline run).
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
    ours|ours-u|tcg) echo "${QEMU:-}" ;;
    upstream) echo "${UPSTREAM_QEMU:-}" ;;
    esac
}
fw_of() {
    case $1 in
    ours|ours-u|tcg) echo "${FIRMWARE:-}" ;;
    upstream) echo "${UPSTREAM_FIRMWARE:-}" ;;
    esac
}
# accel_of SIDE / cpu_of SIDE: what -accel and -cpu get on that side
accel_of() {
    case $1:$accel in
    tcg:*) echo tcg ;;
    ours-u:kvm) echo "kvm,hyperv=user" ;;
    *) echo "$accel" ;;
    esac
}
cpu_of() {
    case $1 in
    tcg) echo qemu64 ;;
    *) echo host ;;
    esac
}
# guest_of MODE: the suite, devices and options of a mode's run
guest_of() {
    case $1 in
    vmbus-*)
        devs="-device vmbus-bridge -device hv-balloon"
        [ "$which" = upstream ] || devs="$devs -device vmbus-echo"
        echo "$devs -append suite=vmbus-bench mode=${1#vmbus-} n=$BENCH_N warmup=$BENCH_WARMUP hold=$BENCH_HOLD"
        ;;
    clock-*)
        echo "-append suite=clock-bench mode=${1#clock-} n=$BENCH_N hold=$BENCH_HOLD"
        ;;
    *)
        # MODE-aeoi: MODE with the bench SINT on AutoEOI (no EOI written).
        aeoi=
        [ "$1" = "${1%-aeoi}" ] || aeoi=" aeoi=all"
        echo "-device hyperv-testdev -append suite=synic-bench cpus=2 mode=${1%-aeoi} n=$BENCH_N warmup=$BENCH_WARMUP gap=$BENCH_GAP eom=$BENCH_EOM hold=$BENCH_HOLD$aeoi"
        ;;
    esac
}
# gmode_of MODE: the mode as the guest names it in its figures
gmode_of() {
    case $1 in
    vmbus-*) echo "${1#vmbus-}" ;;
    clock-*) echo "${1#clock-}" ;;
    *) echo "${1%-aeoi}" ;;
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
    case $which:$mode in
    upstream:vmbus-stream-balloon) ;;
    upstream:vmbus-*)
        echo "INFO: bench: $mode skipped on upstream (no vmbus-echo)"
        return
        ;;
    esac
    : >"$work/$tag.out"
    # The guest's part of the command line: its devices, then -append and
    # the guest's options in one word.
    g=" $(guest_of "$mode")"
    gdevs=${g%% -append *}
    gopts=${g#* -append }
    # shellcheck disable=SC2086 # gdevs: one option per word
    timeout "$BENCH_TIMEOUT" "$q" -L "$(fw_of "$which")" \
        -accel "$(accel_of "$which")" \
        -cpu "$(cpu_of "$which")",hv-vpindex,hv-synic,hv-time,hv-stimer \
        -M pc-i440fx-10.0 -m 128 -smp 2 \
        -display none -nodefaults -no-reboot -serial stdio \
        $gdevs -device isa-debug-exit,iobase=0xf4,iosize=4 \
        -kernel "$image" -append "$gopts" \
        </dev/null >"$work/$tag.out" 2>"$work/$tag.err" &
    qpid=$!
    [ "$which" = tcg ] || : >"$work/$tag.cnt"
    # vmbus-bench holds twice: where the measured packets start
    # ("counting", into .cnt0) and where they end ("holding", into .cnt).
    first=
    while [ "$which" != tcg ] && kill -0 "$qpid" 2>/dev/null; do
        if [ -z "$first" ] && grep -q '^INFO: bench: counting' "$work/$tag.out"; then
            sleep 0.3
            counters "$work/$tag.cnt0"
            first=1
        fi
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
            # The guest names figures after its own mode (gmode_of).
            fig=${line#BENCH: }
            gm=$(gmode_of "$mode")
            case $fig in
            "$gm-"*) fig=$mode-${fig#"$gm"-} ;;
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
    # 1 is the guest's exit through isa-debug-exit, and QEMU's own exit
    # status when it does not start: the guest's summary tells them apart.
    if [ "$rc" = 1 ] && ! grep -q '^SUMMARY: ' "$work/$tag.out"; then
        rc="1 before the guest ran"
    fi
    case $rc in
    1) result "PASS: bench/$which/$rep/$mode/completed" ;;
    124|143) result "FAIL: bench/$which/$rep/$mode/completed (timed out after ${BENCH_TIMEOUT}s)" ;;
    *) result "FAIL: bench/$which/$rep/$mode/completed (QEMU exited $rc: $(tail -n 1 "$work/$tag.err"))" ;;
    esac
}

# per_msg SIDE REP MODE: the counters of a mode's run less those of its
# baseline, per message or packet, times 1000.  synic-bench: the baseline
# is the run of mode none, and every message counts, the warm-up too;
# vmbus-bench: the counters where the measured packets started, and the
# BENCH_N packets measured.
per_msg() {
    msgs=$((BENCH_N + BENCH_WARMUP))
    base=$work/$1-$2-none.cnt
    case $3 in
    vmbus-*) base=$work/$1-$2-$3.cnt0 msgs=$BENCH_N ;;
    clock-*) base=$work/$1-$2-$3.cnt0 msgs=$((BENCH_N * 100)) ;;
    esac
    [ -s "$base" ] && [ -s "$work/$1-$2-$3.cnt" ] || return 0
    awk -v w="$1" -v r="$2" -v m="$3" -v n="$msgs" '
        NR == FNR { b[$1] = $2; next }
        ($1 in b) {
            printf "INFO: BENCH %s %s %s-kvm-%s %d milli\n", w, r, m, $1,
                ($2 - b[$1]) * 1000 / n
        }' "$base" "$work/$1-$2-$3.cnt"
}

rm -rf "$work"
mkdir -p "$work"
if [ "$BENCH_SIDES" = tcg ]; then
    echo "INFO: bench: tcg only: no KVM counters"
elif [ ! -d "$KVMDBG" ]; then
    mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
fi
if [ "$BENCH_SIDES" = tcg ]; then
    :
elif [ -d "$KVMDBG" ]; then
    echo "INFO: bench: L1 KVM counters from $KVMDBG"
else
    echo "INFO: bench: no $KVMDBG: no KVM counters"
fi
echo "INFO: bench: reps=$BENCH_REPS n=$BENCH_N warmup=$BENCH_WARMUP gap=${BENCH_GAP}us modes='$BENCH_MODES' sides='$BENCH_SIDES' eom=$BENCH_EOM"
[ -f "$image" ] || result "FAIL: bench/setup (no test guest at $image)"
[ -n "$BENCH_SIDES" ] || result "FAIL: bench/setup (BENCH_SIDES is empty)"

# synic-bench's modes share a baseline, the run of mode none
need_none=
for mode in $BENCH_MODES; do
    case $mode in
    vmbus-*|clock-*) ;;
    *) need_none=1 ;;
    esac
done

rep=1
while [ "$rep" -le "$BENCH_REPS" ] && [ -f "$image" ] && [ -n "$BENCH_SIDES" ]; do
    for which in $BENCH_SIDES; do
        [ -z "$need_none" ] || run "$which" "$rep" none
    done
    # mode k of repetition r (k from 0): the sides rotated by r - 1 + k
    turn=$((rep - 1))
    for mode in $BENCH_MODES; do
        # shellcheck disable=SC2086 # split the list into arguments
        order=$(rotate "$turn" $BENCH_SIDES)
        turn=$((turn + 1))
        for which in $order; do
            run "$which" "$rep" "$mode"
            per_msg "$which" "$rep" "$mode"
        done
    done
    rep=$((rep + 1))
done
exit "$status"
