#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# synic-post.sh [options]: benchmark of SynIC message posting, our QEMU
# against pristine upstream QEMU 10.0.2, in the same run (bench/README.md).
#
# It boots the nested lab (tests/nested/run.sh) with both QEMUs and
# synic-post-lab.sh as the payload, which runs the test guest's suite
# synic-bench under each, on L1's KVM (the K path), several times,
# alternating.  From the figures the guest prints it makes a table: per
# scenario and figure the median over the repetitions for each side, their
# spread, and the ratio (ours/upstream for throughput, upstream/ours for
# latency and costs: above 1 means ours is better), as the median of the
# per-repetition ratios with their range.  Figures, never pass/fail.
#
# Output: the table on the terminal and in BUILD/bench/synic-post.txt; the
# lab's output in BUILD/bench/synic-post.log (L1's whole console in
# BUILD/tests/nested/console.log).  Exit status 0 when a table was made,
# even if some runs failed (the table lists them); 1 when no figure came;
# 2 on a usage error.
#
# Options:
#   --build DIR            build folder (default: <repo>/build)
#   --qemu PATH            our QEMU (default: BUILD/qemu/qemu-system-x86_64),
#                          also L0's; --firmware DIR its firmware
#   --upstream-qemu PATH   upstream 10.0.2 (default:
#                          BUILD/upstream/qemu-system-x86_64, make upstream);
#                          --upstream-firmware DIR its firmware
#   --guest-image FILE     the test guest (default: BUILD/tests/guest/hvtest.elf)
#   --reps N               repetitions per QEMU and scenario (default 5)
#   --n N                  messages measured per scenario (default 1000)
#   --modes "LIST"         scenarios (default "self cross cross-poll cross-b2b
#                          stream")
#   --gap USEC             pause after each echo in self, cross and
#                          cross-poll (default 5000)
#   --eom pending|always   when the receiver writes EOM (default pending:
#                          only when msg_pending is set, as Linux does)
#   --timeout SEC          bound on the whole lab run (default 1800)
#   --verbose              show L1's console as it comes
#   --table-from LOG       no lab run: make the table from an earlier log
set -euo pipefail

die() { echo "bench: $*" >&2; exit 2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
build=$top/build
qemu='' firmware='' up_qemu='' up_firmware='' image=''
reps=5 n=1000 modes="self cross cross-poll cross-b2b stream" gap=5000 eom=pending
limit=1800
verbose=() from_log=''

while [ $# -gt 0 ]; do
    case $1 in
    --build) build=${2:?--build needs a folder}; shift 2 ;;
    --qemu) qemu=${2:?--qemu needs a path}; shift 2 ;;
    --firmware) firmware=${2:?--firmware needs a folder}; shift 2 ;;
    --upstream-qemu) up_qemu=${2:?--upstream-qemu needs a path}; shift 2 ;;
    --upstream-firmware) up_firmware=${2:?--upstream-firmware needs a folder}; shift 2 ;;
    --guest-image) image=${2:?--guest-image needs a file}; shift 2 ;;
    --reps) reps=${2:?--reps needs a number}; shift 2 ;;
    --n) n=${2:?--n needs a number}; shift 2 ;;
    --modes) modes=${2:?--modes needs a list}; shift 2 ;;
    --gap) gap=${2:?--gap needs microseconds}; shift 2 ;;
    --eom) eom=${2:?--eom needs pending or always}; shift 2 ;;
    --timeout) limit=${2:?--timeout needs seconds}; shift 2 ;;
    --verbose) verbose=(--verbose); shift ;;
    --table-from) from_log=${2:?--table-from needs a log}; shift 2 ;;
    *) die "unknown option '$1' (see the header of $0)" ;;
    esac
done
[[ $reps =~ ^[1-9][0-9]?$ ]] || die "--reps must be 1 to 99"
if ! [[ $n =~ ^[1-9][0-9]*$ ]] || [ "$n" -gt 20000 ]; then
    die "--n must be 1 to 20000"
fi
if ! [[ $gap =~ ^[0-9]+$ ]] || [ "$gap" -gt 1000000 ]; then
    die "--gap must be 0 to 1000000 microseconds"
fi
case $eom in pending|always) ;; *) die "--eom must be pending or always" ;; esac
for m in $modes; do
    case $m in self|cross|cross-poll|cross-b2b|stream) ;; *) die "unknown mode '$m'" ;; esac
done

# host_busy: jiffies all CPUs spent busy; child_ticks: CPU jiffies of
# this shell's finished children (run.sh and, through it, L0's QEMU)
host_busy() {
    awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}
child_ticks() {
    # fields 16 and 17 of /proc/PID/stat, counted after the ")" of comm
    sed 's/.*) //' "/proc/$$/stat" | awk '{ print $14 + $15 }'
}

build=$(realpath -m "$build")
out=$build/bench
mkdir -p "$out"
log=$out/synic-post.log
table=$out/synic-post.txt

if [ -z "$from_log" ]; then
    qemu=$(realpath -m "${qemu:-$build/qemu/qemu-system-x86_64}")
    firmware=$(realpath -m "${firmware:-$build/firmware}")
    up_qemu=$(realpath -m "${up_qemu:-$build/upstream/qemu-system-x86_64}")
    up_firmware=$(realpath -m "${up_firmware:-$(dirname "$up_qemu")/firmware}")
    image=$(realpath -m "${image:-$build/tests/guest/hvtest.elf}")
    [ -x "$qemu" ] || die "$qemu is missing: make qemu"
    [ -x "$up_qemu" ] || die "$up_qemu is missing: make upstream"
    [ -f "$image" ] || die "$image is missing: make guest-image"

    # The payload: /payload/synic-post-lab.sh, bench.conf, guest/hvtest.elf
    stage=$out/stage
    rm -rf "$stage"
    mkdir -p "$stage/guest"
    cp "$here/synic-post-lab.sh" "$stage/"
    cp -L "$image" "$stage/guest/hvtest.elf"
    {
        echo "BENCH_REPS=$reps"
        echo "BENCH_N=$n"
        echo "BENCH_MODES=\"$modes\""
        echo "BENCH_GAP=$gap"
        echo "BENCH_EOM=$eom"
    } >"$stage/bench.conf"

    echo "bench: SynIC posting, ours vs upstream 10.0.2: reps=$reps n=$n modes='$modes' gap=${gap}us eom=$eom"
    # The machine's other load during the run (the lab's figures depend on
    # it): busy time of all CPUs less what our children used.
    busy0=$(host_busy)
    kids0=$(child_ticks)
    t0=$(date +%s)
    rc=0
    "$top/tests/nested/run.sh" --build "$build" --qemu "$qemu" \
        --firmware "$firmware" --upstream-qemu "$up_qemu" \
        --upstream-firmware "$up_firmware" --timeout "$limit" \
        "${verbose[@]}" -- "$stage/synic-post-lab.sh" \
        "$stage/bench.conf" "$stage/guest" 2>&1 | tee "$log" || rc=$?
    [ "$rc" -eq 0 ] || echo "bench: the lab run reported failures (exit $rc); the table lists what came"
    secs=$(($(date +%s) - t0))
    other=$(($(host_busy) - busy0 - ($(child_ticks) - kids0)))
    hz=$(getconf CLK_TCK)
    echo "HOST: other-load $(awk -v o="$other" -v hz="$hz" -v s="$secs" \
        'BEGIN { printf "%.0f", (s > 0 ? 100 * o / hz / s : 0) }') % of one core over ${secs}s" >>"$log"
    from_log=$log
fi
[ -f "$from_log" ] || die "no log $from_log"

# The table.  Input lines: "INFO: BENCH <qemu> <rep> <figure> <value> <unit>"
# and the PASS:/FAIL: bench/... results.
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
awk -v modes="$modes" -v q="'" -v when="$(date -u '+%Y-%m-%d %H:%M UTC')" \
    -v host="$(nproc) cores, $(uname -r)" '
function median(list, k,    v, i, j, t, c) {
    c = split(list, v, " ")
    for (i = 2; i <= c; i++) {
        t = v[i] + 0
        for (j = i - 1; j >= 1 && v[j] + 0 > t; j--) v[j + 1] = v[j]
        v[j + 1] = t
    }
    lo = v[1]; hi = v[c]
    return c % 2 ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2
}
function fmt(x) {
    if (x == "") return "-"
    if (x >= 100 || x <= -100) return sprintf("%.0f", x)
    return sprintf("%.2f", x)
}
# row MODE FIGURE LABEL UNIT DIR SCALE: DIR is "up" (more is better),
# "down" (less is better) or "none" (no ratio); values are divided by SCALE
function row(m, f, label, unit, dir, scale,    key, r, o, u, ol, ul, rl,
             om, um, osp, usp, rm, rr, np) {
    key = m "-" f
    ol = ""; ul = ""; rl = ""; np = 0
    for (r = 1; r <= maxrep; r++) {
        o = val["ours", r, key]; u = val["upstream", r, key]
        if (o != "") ol = ol " " o / scale
        if (u != "") ul = ul " " u / scale
        if (o != "" && u != "" && dir != "none") {
            if (dir == "up" && u > 0) { rl = rl " " o / u; np++ }
            if (dir == "down" && o > 0) { rl = rl " " u / o; np++ }
        }
    }
    if (ol == "" && ul == "") return
    om = ""; osp = "-"; um = ""; usp = "-"; rm = "-"; rr = "-"
    if (ol != "") {
        om = median(ol)
        if (om > 0) osp = sprintf("%.0f%%", 100 * (hi - lo) / om)
    }
    if (ul != "") {
        um = median(ul)
        if (um > 0) usp = sprintf("%.0f%%", 100 * (hi - lo) / um)
    }
    if (rl != "") {
        rm = sprintf("%.2f", median(rl))
        rr = sprintf("%.2f-%.2f", lo, hi)
    }
    if (np == 0) np = split(ol, tmpv, " ")
    printf "%-10s %-22s %-7s %10s %6s %10s %6s %6s %11s %4d\n", m, label,
        unit, fmt(om), osp, fmt(um), usp, rm, rr, np
}
$1 == "INFO:" && $2 == "BENCH" && NF >= 6 {
    val[$3, $4, $5] = $6
    if ($4 + 0 > maxrep) maxrep = $4 + 0
    if ($5 == "tsc-khz") khz = $6
    next
}
/^INFO: bench: reps=/ { sub(/^INFO: bench: /, ""); settings = $0; next }
/^HOST: other-load / { sub(/^HOST: other-load /, ""); load = $0; next }
/^FAIL: bench\/[a-z]+\/[0-9]+\/[a-z-]+\/completed/ {
    split($2, p, "/")
    runfail[p[2], p[4]]++
}
/^PASS: bench\// { pass++; next }
/^FAIL: bench\// { fail++; failed = failed "  " $0 "\n"; next }
/^FAIL: / { fail++; failed = failed "  " $0 "\n"; next }
END {
    # the scenarios of the run itself, when the log says which
    if (match(settings, "modes=" q "[^" q "]*" q))
        modes = substr(settings, RSTART + 7, RLENGTH - 8)
    print "SynIC message posting: our QEMU vs upstream QEMU 10.0.2, same run"
    print "nested lab (L1 under TCG, guest on L1 KVM: the K path); " when "; host " host
    print "settings: " (settings == "" ? "?" : settings) "; guest TSC " (khz == "" ? "?" : khz) " kHz"
    print "other load on the host during the run: " (load == "" ? "?" : load)
    print "ours/upstream: median over the repetitions; spread: (max-min)/median"
    print "ratio: median of the per-repetition ratios (range), above 1 = ours better:"
    print "  throughput ours/upstream; latency and cycles upstream/ours"
    print "per msg: L1 KVM counters of the run less a set-up-only run, per message"
    print ""
    printf "%-10s %-22s %-7s %10s %6s %10s %6s %6s %11s %4s\n", "scenario",
        "figure", "unit", "ours", "spread", "upstream", "spread", "ratio",
        "range", "reps"
    nm = split(modes, ms, " ")
    for (i = 1; i <= nm; i++) {
        m = ms[i]
        if (m == "stream" || m == "cross-b2b") {
            row(m, "rate", "throughput", "msg/s", "up", 1)
            row(m, "cycles-per-msg", "time per message", "cycles", "down", 1)
        }
        if (m != "stream") {
            row(m, "lat-median", "latency median", "cycles", "down", 1)
            row(m, "lat-mean", "latency mean", "cycles", "down", 1)
            row(m, "lat-median-ns", "latency median", "ns", "down", 1)
        }
        row(m, "post-median", "HvPostMessage call", "cycles", "down", 1)
        row(m, "refused", "refused posts", "count", "none", 1)
        row(m, "kvm-exits", "L1 KVM exits", "per msg", "none", 1000)
        row(m, "kvm-signal_exits", "signal exits (kicks)", "per msg", "none", 1000)
        row(m, "kvm-halt_wakeup", "halt wake-ups", "per msg", "none", 1000)
        row(m, "kvm-irq_injections", "interrupt injections", "per msg", "none", 1000)
        row(m, "kvm-hypercalls", "hypercalls", "per msg", "none", 1000)
        if (runfail["ours", m] + runfail["upstream", m] > 0)
            printf "%-10s %-22s %-7s %10d %6s %10d %6s %6s %11s %4s\n", m,
                "RUNS FAILED", "runs", runfail["ours", m],
                "", runfail["upstream", m], "", "-", "-", "-"
    }
    print ""
    printf "checks: %d passed, %d failed\n", pass, fail
    if (failed != "") printf "failed:\n%s", failed
    if (maxrep == 0) exit 1
}' "$from_log" >"$tmp" || { cat "$tmp"; echo "bench: no figures in $from_log" >&2; exit 1; }
cp "$tmp" "$table"
echo
cat "$table"
echo "bench: table in $table"
