#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# synic-post.sh [options]: benchmark of SynIC message posting, our QEMU
# against pristine upstream QEMU 10.0.2, in the same run (bench/README.md).
#
# It boots the nested lab (tests/nested/run.sh) with our QEMU (and
# upstream's, when it is a side) and synic-post-lab.sh as the payload, which runs the test guest's suite
# synic-bench on L1's KVM, which has the in-kernel Hyper-V, under each
# side, several times, in a rotating order.  The sides (--sides):
#
#   ours       our QEMU, -accel kvm: the kernel path (KVM emulates Hyper-V,
#              with our SynIC for the pages and connections)
#   upstream   upstream 10.0.2, -accel kvm: its kernel path
#   ours-u     our QEMU, -accel kvm,hyperv=user: the user path (QEMU
#              emulates Hyper-V; same binary and firmware as ours)
#
# From the figures the guest prints it makes a table: per scenario and
# figure the median over the repetitions for each side, their spread, and
# the ratios ours:upstream, ours-u:upstream and ours-u:ours (those of the
# sides that ran).  A ratio A:B is A/B for throughput and B/A for latency
# and costs, so above 1 means A is better; it is the median of the
# per-repetition ratios, with their range.  Figures, never pass/fail.
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
#                          BUILD/up/qemu/qemu-system-x86_64, make upstream);
#                          --upstream-firmware DIR its firmware
#   --guest-image FILE     the test guest (default: BUILD/tests/guest/hvtest.elf)
#   --sides "LIST"         the sides to run, in the order of the first
#                          scenario (default "ours upstream ours-u"); upstream's
#                          QEMU is only needed when upstream is one of them
#   --reps N               repetitions per side and scenario (default 5)
#   --n N                  messages measured per scenario (default 1000)
#   --modes "LIST"         scenarios (default "self cross cross-poll cross-b2b
#                          stream"); each but cross-poll also as NAME-aeoi:
#                          the bench SINT with AutoEOI and no EOI written, as
#                          kvm-unit-tests and older Windows use it (on ours-u
#                          QEMU then injects the vector itself); clock-page
#                          and clock-msr: reads of reference time through
#                          the reference TSC page and through the MSR
#                          (N hundred reads each)
#   --gap USEC             pause after each echo in self, cross and
#                          cross-poll (default 5000)
#   --eom pending|always   when the receiver writes EOM (default pending:
#                          only when msg_pending is set, as Linux does)
#   --timeout SEC          bound on the whole lab run (default 1800)
#   --tcg-thread single|multi   how L0 runs L1's vCPUs (run.sh; default
#                          multi: the cross-vCPU scenarios need L1's CPUs to
#                          run at once)
#   --verbose              show L1's console as it comes
#   --table-from LOG       no lab run: make the table from an earlier log
#                          (with the sides and scenarios that the log names)
set -euo pipefail

die() { echo "bench: $*" >&2; exit 2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
build=$top/build
qemu='' firmware='' up_qemu='' up_firmware='' image=''
reps=5 n=1000 gap=5000 eom=pending
modes="self cross cross-poll cross-b2b stream vmbus-rtt vmbus-rtt-poll vmbus-stream vmbus-stream-balloon"
sides="ours upstream ours-u tcg"
limit=1800 tcg_thread=multi
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
    --tcg-thread) tcg_thread=${2:?--tcg-thread needs single or multi}; shift 2 ;;
    --n) n=${2:?--n needs a number}; shift 2 ;;
    --modes) modes=${2:?--modes needs a list}; shift 2 ;;
    --sides) sides=${2:?--sides needs a list}; shift 2 ;;
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
    case $m in
    self|cross|cross-poll|cross-b2b|stream) ;;
    self-aeoi|cross-aeoi|cross-b2b-aeoi|stream-aeoi) ;;
    vmbus-rtt|vmbus-rtt-poll|vmbus-stream|vmbus-stream-balloon) ;;
    clock-page|clock-msr) ;;
    *) die "unknown mode '$m'" ;;
    esac
done
seen=' '
for s in $sides; do
    case $s in ours|upstream|ours-u|tcg) ;; *) die "unknown side '$s' (ours, upstream, ours-u, tcg)" ;; esac
    [[ $seen != *" $s "* ]] || die "side '$s' given twice"
    seen="$seen$s "
done
[ "$seen" != ' ' ] || die "--sides needs at least one side"
sides=${seen# }
sides=${sides% }
# the sides in the lab; tcg runs on this machine
lab_sides=$(echo " $sides " | sed 's/ tcg / /; s/^ *//; s/ *$//')

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
    up_qemu=$(realpath -m "${up_qemu:-$build/up/qemu/qemu-system-x86_64}")
    up_firmware=$(realpath -m "${up_firmware:-$(dirname "$up_qemu")/firmware}")
    image=$(realpath -m "${image:-$build/tests/guest/hvtest.elf}")
    [ -x "$qemu" ] || die "$qemu is missing: make qemu"
    [ -f "$image" ] || die "$image is missing: make guest-image"
    # upstream's QEMU goes into L1 only when it runs
    upstream=()
    if [[ " $sides " == *" upstream "* ]]; then
        [ -x "$up_qemu" ] || die "$up_qemu is missing: make upstream"
        upstream=(--upstream-qemu "$up_qemu" --upstream-firmware "$up_firmware")
    fi

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
        echo "BENCH_SIDES=\"$lab_sides\""
        echo "BENCH_GAP=$gap"
        echo "BENCH_EOM=$eom"
    } >"$stage/bench.conf"

    echo "bench: SynIC posting and VMBus channels, sides '$sides' (ours-u: our QEMU on the user path; tcg: on this machine): reps=$reps n=$n modes='$modes' gap=${gap}us eom=$eom"
    # The machine's other load during the run (the lab's figures depend on
    # it): busy time of all CPUs less what our children used.
    busy0=$(host_busy)
    kids0=$(child_ticks)
    t0=$(date +%s)
    rc=0
    : >"$log"
    if [ -n "$lab_sides" ]; then
        "$top/tests/nested/run.sh" --build "$build" --qemu "$qemu" \
            --firmware "$firmware" "${upstream[@]}" --timeout "$limit" \
            --tcg-thread "$tcg_thread" \
            "${verbose[@]}" -- "$stage/synic-post-lab.sh" \
            "$stage/bench.conf" "$stage/guest" 2>&1 | tee -a "$log" || rc=$?
    fi
    # The tcg side: the same payload on this machine, our QEMU under TCG.
    if [[ " $sides " == *" tcg "* ]]; then
        sed -i 's/^BENCH_SIDES=.*/BENCH_SIDES=tcg/' "$stage/bench.conf"
        mkdir -p "$out/tcg-tmp"
        QEMU=$qemu FIRMWARE=$firmware ACCEL=tcg TMPDIR=$out/tcg-tmp \
            timeout "$limit" sh "$stage/synic-post-lab.sh" 2>&1 |
            tee -a "$log" || rc=$?
    fi
    [ "$rc" -eq 0 ] || echo "bench: a run reported failures (exit $rc); the table lists what came"
    secs=$(($(date +%s) - t0))
    other=$(($(host_busy) - busy0 - ($(child_ticks) - kids0)))
    hz=$(getconf CLK_TCK)
    echo "HOST: other-load $(awk -v o="$other" -v hz="$hz" -v s="$secs" \
        'BEGIN { printf "%.0f", (s > 0 ? 100 * o / hz / s : 0) }') % of one core over ${secs}s" >>"$log"
    from_log=$log
fi
[ -f "$from_log" ] || die "no log $from_log"

# The table.  Input lines: "INFO: BENCH <side> <rep> <figure> <value> <unit>",
# the settings line "INFO: bench: reps=..." and the PASS:/FAIL: bench/...
# results.
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
# "down" (less is better) or "none" (no ratio); values are divided by SCALE.
# One column pair per side (median, spread), one per ratio A:B (median,
# range: A/B for up, B/A for down), then the repetitions per side.
function row(m, f, label, unit, dir, scale,    key, r, s, k, v, a, b, any,
             line, med, sp, rl, rm, rr, cnts) {
    key = m "-" f
    any = 0
    for (s = 1; s <= ns; s++) {
        lst[s] = ""; cnt[s] = 0
        for (r = 1; r <= maxrep; r++) {
            v = val[side[s], r, key]
            if (v == "") continue
            lst[s] = lst[s] " " v / scale; cnt[s]++; any = 1
        }
    }
    if (!any) return
    line = sprintf("%-20s %-22s %-7s", m, label, unit)
    cnts = ""
    for (s = 1; s <= ns; s++) {
        med = ""; sp = "-"
        if (lst[s] != "") {
            med = median(lst[s])
            if (med > 0) sp = sprintf("%.0f%%", 100 * (hi - lo) / med)
        }
        line = line sprintf(" %10s %6s", fmt(med), sp)
        cnts = cnts (s > 1 ? "/" : "") cnt[s]
    }
    for (k = 1; k <= np; k++) {
        rl = ""
        for (r = 1; r <= maxrep && dir != "none"; r++) {
            a = val[pa[k], r, key]; b = val[pb[k], r, key]
            if (a == "" || b == "") continue
            if (dir == "up" && b + 0 > 0) rl = rl " " a / b
            if (dir == "down" && a + 0 > 0) rl = rl " " b / a
        }
        rm = "-"; rr = "-"
        if (rl != "") {
            rm = sprintf("%.2f", median(rl))
            rr = sprintf("%.2f-%.2f", lo, hi)
        }
        line = line sprintf(" %11s %10s", rm, rr)
    }
    printf "%s %8s\n", line, cnts
}
$1 == "INFO:" && $2 == "BENCH" && NF >= 6 {
    val[$3, $4, $5] = $6
    ran[$3] = 1
    if ($4 + 0 > maxrep) maxrep = $4 + 0
    if ($5 == "tsc-khz") khz = $6
    next
}
/^INFO: bench: reps=/ {
    sub(/^INFO: bench: /, "")
    # the lab and the tcg run each print theirs: the sides add up
    if (match($0, "sides=" q "[^" q "]*" q)) {
        split(substr($0, RSTART + 7, RLENGTH - 8), v, " ")
        for (i in v) named[v[i]] = 1
        sidesnamed = 1
    }
    if (settings == "") settings = $0
    next
}
/^HOST: other-load / { sub(/^HOST: other-load /, ""); load = $0; next }
/^FAIL: bench\/[a-z-]+\/[0-9]+\/[a-z-]+\/completed/ {
    split($2, p, "/")
    runfail[p[2], p[4]]++
}
/^PASS: bench\// { pass++; next }
/^FAIL: bench\// { fail++; failed = failed "  " $0 "\n"; next }
/^FAIL: / { fail++; failed = failed "  " $0 "\n"; next }
END {
    # the scenarios and sides of the run itself, when the log says which;
    # a log from before ours-u names no sides: those that gave figures
    if (match(settings, "modes=" q "[^" q "]*" q))
        modes = substr(settings, RSTART + 7, RLENGTH - 8)
    if (!sidesnamed) {
        for (s in ran) named[s] = 1
    }
    sub(" sides=" q "[^" q "]*" q, "", settings)
    # the columns in a fixed order, whatever order the sides ran in
    desc["ours"] = "our QEMU, -accel kvm: kernel path (KVM emulates Hyper-V)"
    desc["upstream"] = "upstream QEMU 10.0.2, -accel kvm: kernel path"
    desc["ours-u"] = "our QEMU, -accel kvm,hyperv=user: user path (QEMU emulates Hyper-V)"
    desc["tcg"] = "our QEMU, -accel tcg, on the host itself (upstream has no Hyper-V under TCG)"
    split("ours upstream ours-u tcg", all, " ")
    ns = 0
    for (i = 1; i <= 4; i++)
        if (all[i] in named) side[++ns] = all[i]
    # the ratios A:B, of the sides that ran
    np = 0
    split("ours:upstream ours-u:upstream ours-u:ours", cand, " ")
    for (i = 1; i <= 3; i++) {
        split(cand[i], ab, ":")
        if ((ab[1] in named) && (ab[2] in named)) {
            np++; pa[np] = ab[1]; pb[np] = ab[2]
            plabel[np] = ab[1] ":" (ab[2] == "upstream" ? "up" : ab[2])
        }
    }
    print "SynIC message posting and VMBus channels: our QEMU vs upstream QEMU 10.0.2, same run"
    print "nested lab (L1 under TCG, guest on L1 KVM, which has the in-kernel Hyper-V), tcg on the host; " when "; host " host
    for (s = 1; s <= ns; s++) printf "  %-9s %s\n", side[s] ":", desc[side[s]]
    line = ""
    for (s = 1; s <= ns; s++) line = line (s > 1 ? " " : "") side[s]
    print "settings: " (settings == "" ? "?" : settings) " sides=" q line q "; guest TSC " (khz == "" ? "?" : khz) " kHz"
    print "other load on the host during the run: " (load == "" ? "?" : load)
    print "side columns: median over the repetitions; spread: (max-min)/median"
    if (np > 0) {
        print "A:B: median of the per-repetition ratios of side A to side B (range),"
        print "  above 1 = A better: throughput A/B, latency and cycles B/A"
    }
    line = ""
    for (s = 1; s <= ns; s++) line = line (s > 1 ? "/" : "") side[s]
    print "reps: repetitions that gave the figure, per side (" line ")"
    print "per msg: L1 KVM counters of the run less a set-up-only run, per message"
    print "per pkt: L1 KVM counters from the first to the last measured packet, per packet"
    print "vmbus-*: a channel of vmbus-echo (rtt: each packet waits for its echo; stream: back to back)"
    print "  or of hv-balloon (stream-balloon: status reports; the only one upstream can run)"
    print ""
    line = sprintf("%-20s %-22s %-7s", "scenario", "figure", "unit")
    for (s = 1; s <= ns; s++) line = line sprintf(" %10s %6s", side[s], "spread")
    for (k = 1; k <= np; k++) line = line sprintf(" %11s %10s", plabel[k], "range")
    printf "%s %8s\n", line, "reps"
    nm = split(modes, ms, " ")
    for (i = 1; i <= nm; i++) {
        m = ms[i]
        base = m
        sub(/-aeoi$/, "", base)
        per = "per msg"
        if (base ~ /^clock-/) {
            per = "per read"
            row(m, "rate", "reads", "reads/s", "up", 1)
            row(m, "cycles-per-read", "time per read", "cycles", "down", 1)
        } else if (base ~ /^vmbus-/) {
            per = "per pkt"
            if (base ~ /^vmbus-stream/) {
                row(m, "rate", "throughput", "pkt/s", "up", 1)
                row(m, "kib-per-s", "payload throughput", "KiB/s", "up", 1)
                row(m, "cycles-per-pkt", "time per packet", "cycles", "down", 1)
            } else {
                row(m, "lat-median", "round trip median", "cycles", "down", 1)
                row(m, "lat-mean", "round trip mean", "cycles", "down", 1)
                row(m, "lat-min", "round trip min", "cycles", "down", 1)
                row(m, "lat-median-ns", "round trip median", "ns", "down", 1)
            }
            row(m, "signals-per-pkt", "guest HvSignalEvent", per, "none", 1000)
            row(m, "irqs-per-pkt", "guest SINT interrupts", per, "none", 1000)
        } else if (base == "stream" || base == "cross-b2b") {
            row(m, "rate", "throughput", "msg/s", "up", 1)
            row(m, "cycles-per-msg", "time per message", "cycles", "down", 1)
        }
        if (base !~ /^(stream|vmbus-|clock-)/) {
            row(m, "lat-median", "latency median", "cycles", "down", 1)
            row(m, "lat-mean", "latency mean", "cycles", "down", 1)
            row(m, "lat-median-ns", "latency median", "ns", "down", 1)
        }
        if (base !~ /^(vmbus|clock)-/) {
            row(m, "post-median", "HvPostMessage call", "cycles", "down", 1)
            row(m, "refused", "refused posts", "count", "none", 1)
        }
        row(m, "kvm-exits", "L1 KVM exits", per, "none", 1000)
        row(m, "kvm-signal_exits", "signal exits (kicks)", per, "none", 1000)
        row(m, "kvm-halt_wakeup", "halt wake-ups", per, "none", 1000)
        row(m, "kvm-irq_injections", "interrupt injections", per, "none", 1000)
        row(m, "kvm-hypercalls", "hypercalls", per, "none", 1000)
        row(m, "kvm-io_exits", "port I/O exits", per, "none", 1000)
        nf = 0
        for (s = 1; s <= ns; s++) nf += runfail[side[s], m]
        if (nf > 0) {
            line = sprintf("%-20s %-22s %-7s", m, "RUNS FAILED", "runs")
            for (s = 1; s <= ns; s++)
                line = line sprintf(" %10d %6s", runfail[side[s], m], "")
            for (k = 1; k <= np; k++) line = line sprintf(" %11s %10s", "-", "-")
            printf "%s %8s\n", line, "-"
        }
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
