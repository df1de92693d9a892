#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# migrate.sh: live migration of a VM with SynIC state in flight, run
# inside the nested lab's L1 (busybox ash) on its KVM, or on the host
# under TCG.
#
# For each pair SRC:DST of MIGRATE_PAIRS it starts the source with the
# test guest's suite
# synic-migrate and the destination with the same options plus
# -incoming unix:... -S, both with QMP and COM1 on FIFOs (chardev pipe):
#
#   1. wait for the guest's "MIGRATE: READY" on the source's COM1 (SynIC
#      set up, message 1 in each slot with message 2 behind it, flags set);
#   2. migrate over the unix socket and poll query-migrate until done;
#   3. wait until the destination is paused with the state loaded, queue
#      the byte 'G' on its COM1, and resume it (cont);
#   4. the guest checks its SynIC state on the destination and exits
#      through isa-debug-exit (1: every check passed, 3: not);
#   5. quit the source, which must exit cleanly.
#
# Output: PASS:/FAIL: nested/migrate/<src>-to-<dst>/<check> for each step,
# and the guest's own lines as PASS:/FAIL:/INFO:
# nested/migrate/<src>-to-<dst>/guest/<text>; QEMU's messages, QMP and the
# raw consoles are printed prefixed "MIG| " (the lab's console log only).
# Exit status 0 when nothing failed.
#
# A side is "ours" ($QEMU; on KVM, Hyper-V as hyperv=auto picks it: the
# kernel path in the lab), "ours-u" ($QEMU with -accel kvm,hyperv=user:
# the user path forced), "ours-nohv" ($QEMU on a KVM whose Hyper-V is
# hidden by $KVM_NO_HYPERV: the user path as QEMU picks it on a KVM built
# without Hyper-V) or "upstream" ($UPSTREAM_QEMU, pristine QEMU 10.0.2,
# kernel path).  The default pairs cover both paths and both directions
# between them: ours:ours ours:upstream upstream:ours ours-u:ours-u
# ours:ours-u ours-u:ours, and a host without in-kernel Hyper-V to one
# with it and back: ours-nohv:ours ours:ours-nohv.
#
# Environment: QEMU, FIRMWARE, KVM_NO_HYPERV (the lab's init sets them),
# UPSTREAM_QEMU, UPSTREAM_FIRMWARE (the same for upstream; a pair that
# needs them fails without), ACCEL (default kvm), TMPDIR.  MIGRATE_CPU is
# the base CPU model on KVM (default host; the host's guest layer passes
# the one its probe picked).  MIGRATE_IMAGE is the test guest
# (default: guest/hvtest.elf beside this script), MIGRATE_TIMEOUT bounds
# each QEMU (default 300 s), MIGRATE_PREFIX names the results (default
# nested/migrate).  MIGRATE_LAB=1 marks a run in the nested lab.

here=$(cd "$(dirname "$0")" && pwd)
image=${MIGRATE_IMAGE:-$here/guest/hvtest.elf}
pairs=${MIGRATE_PAIRS:-ours:ours ours:upstream upstream:ours ours-u:ours-u ours:ours-u ours-u:ours ours-nohv:ours ours:ours-nohv ours:ours:vmbus upstream:ours:vmbus ours:upstream:vmbus ours-u:ours:vmbus}
prefix=${MIGRATE_PREFIX:-nested/migrate}
limit=${MIGRATE_TIMEOUT:-300}
accel=${ACCEL:-kvm}
work=${TMPDIR:-/tmp}/migrate
status=0

# What both sides run: an explicit versioned machine type, so that both
# builds agree on the machine, and the hv-* set of the issue.
CPU_FLAGS=hv-vpindex,hv-synic,hv-time,hv-stimer
MACHINE=pc-i440fx-10.0
# MIGRATE_LAB=1 (the nested lab) tells the guest that an injection
# repeated below it is on record there (lab=1: an INFO line, not a FAIL;
# tests/guest/main.c).
APPEND="suite=synic-migrate cpus=2${MIGRATE_LAB:+ lab=1}"
SUITE=synic-migrate
DEVICES="-device hyperv-testdev"

# scenario NAME SRC DST: APPEND, SUITE, DEVICES and what the migration
# must do (expect: completed, or refused when the destination cannot
# read the source's stream) for the pair's scenario.  "vmbus": a guest
# with hv-balloon's channel open and packets in its rings
# (suites/vmbus_migrate.c), and vmbus-echo's between ours: QEMU
# 10.0.2's stream into ours has no channel state, so the channel is
# offered again; ours into QEMU 10.0.2 is refused and the source goes on.
scenario() {
    expect=completed
    case $1 in
    synic)
        APPEND="suite=synic-migrate cpus=2${MIGRATE_LAB:+ lab=1}"
        SUITE=synic-migrate
        DEVICES="-device hyperv-testdev" ;;
    vmbus)
        # hv-balloon keeps no state of its own in a migration, so its
        # channel is offered again; vmbus-echo (ours only) resumes.  QEMU
        # 10.0.2 draws a random instance GUID for hv-balloon, ours keeps
        # one (stable-id).
        SUITE=vmbus-migrate
        DEVICES="-device vmbus-bridge -device hv-balloon"
        mode=reoffer version=5.3 echo=1 stable=1
        case $2:$3 in
        upstream:*) version=4.0 echo=0 stable=0 ;;
        *:upstream) mode=keep echo=0 expect=refused ;;
        esac
        # vmbus-echo with an open sub-channel, on both sides ours.
        [ "$echo" = 0 ] || DEVICES="$DEVICES -device vmbus-echo,subchannels=1"
        APPEND="suite=vmbus-migrate cpus=2 balloon=$mode echo=$echo subchannel=$echo stable-id=$stable vmbus-version=$version${MIGRATE_LAB:+ lab=1}" ;;
    *)
        return 1 ;;
    esac
}

result() {
    echo "$1"
    case $1 in FAIL:*) status=1 ;; esac
}

now() { cut -d' ' -f1 /proc/uptime; }
since() { echo "$(now) $1" | awk '{ printf "%.1f", $1 - $2 }'; }

# qemu_of WHICH / fw_of WHICH: the binary and firmware of a side
qemu_of() {
    case $1 in
    ours|ours-u|ours-nohv) echo "${QEMU:-}" ;;
    upstream) echo "${UPSTREAM_QEMU:-}" ;;
    esac
}
fw_of() {
    case $1 in
    ours|ours-u|ours-nohv) echo "${FIRMWARE:-}" ;;
    upstream) echo "${UPSTREAM_FIRMWARE:-}" ;;
    esac
}
# accel_of WHICH: what -accel gets on that side
accel_of() {
    case $1:$accel in
    ours-u:kvm) echo "kvm,hyperv=user" ;;
    *) echo "$accel" ;;
    esac
}

# preload_of WHICH: what LD_PRELOAD gets on that side, if anything
preload_of() {
    case $1 in
    ours-nohv) echo "${KVM_NO_HYPERV:-/missing/kvm-no-hyperv.so}" ;;
    esac
}

# wait_file FILE PATTERN SECONDS [PID]: true once grep -E finds PATTERN
# in FILE; false after SECONDS, or as soon as process PID is gone.
wait_file() {
    i=0
    while [ "$i" -lt $(($3 * 5)) ]; do
        grep -Eq "$2" "$1" 2>/dev/null && return 0
        if [ -n "${4:-}" ] && ! kill -0 "$4" 2>/dev/null; then
            grep -Eq "$2" "$1" 2>/dev/null
            return
        fi
        sleep 0.2
        i=$((i + 1))
    done
    return 1
}

# send FIFO LINE: write one line to a FIFO that QEMU holds open; bounded,
# since opening a FIFO that no process reads blocks until one does (QEMU
# still starting, or gone).
send() {
    # shellcheck disable=SC2016 # expanded by the inner shell
    timeout 20 sh -c 'printf "%s\n" "$1" >"$2"' sh "$2" "$1"
}

# qmp SIDE COMMAND [ARGUMENTS]: run a QMP command on SIDE (src or dst) and
# print its answer line; false when none came within 10 s.  Callers run it
# in command substitutions (subshells), so the id counter lives in a file.
qmp() {
    case $1 in
    src) kill -0 "$src_pid" 2>/dev/null || return 1 ;;
    dst) kill -0 "$dst_pid" 2>/dev/null || return 1 ;;
    esac
    qid=$(($(cat "$d/qmp-seq" 2>/dev/null || echo 0) + 1))
    echo "$qid" >"$d/qmp-seq"
    qid="m$qid"
    send "$d/$1-qmp.in" \
        "{\"execute\": \"$2\"${3:+, \"arguments\": $3}, \"id\": \"$qid\"}" ||
        return 1
    wait_file "$d/$1-qmp.log" "\"id\": \"$qid\"" 10 || return 1
    grep "\"id\": \"$qid\"" "$d/$1-qmp.log" | tr -d '\r' | tail -n 1
}

# qmp_status SIDE COMMAND: the "status" member of the command's answer
qmp_status() {
    qmp "$1" "$2" | sed -n 's/.*"status": "\([a-z-]*\)".*/\1/p'
}

# start SIDE WHICH [EXTRA...]: start a QEMU; its pid in qemu_pid
start() {
    side=$1 which=$2
    shift 2
    for f in ser qmp; do
        mkfifo "$d/$side-$f.in" "$d/$side-$f.out"
        cat "$d/$side-$f.out" >"$d/$side-$f.log" &
        readers="$readers $!"
    done
    pre=$(preload_of "$which")
    timeout "$limit" env ${pre:+LD_PRELOAD="$pre"} \
        "$(qemu_of "$which")" -L "$(fw_of "$which")" \
        -accel "$(accel_of "$which")" -cpu "$cpu,$CPU_FLAGS" -M "$MACHINE" \
        -m 128 -smp 2 \
        -display none -nodefaults -no-reboot $DEVICES \
        -device isa-debug-exit,iobase=0xf4,iosize=4 \
        -chardev "pipe,id=ser,path=$d/$side-ser" -serial chardev:ser \
        -chardev "pipe,id=qmp,path=$d/$side-qmp" -mon chardev=qmp,mode=control \
        -kernel "$image" -append "$APPEND" "$@" \
        </dev/null >"$d/$side.err" 2>&1 &
    qemu_pid=$!
    send "$d/$side-qmp.in" '{"execute": "qmp_capabilities"}'
}

# finish PID: its exit status; it gets `limit` seconds from its start.
finish() {
    wait "$1"
}

# Print a console's lines: results and INFO prefixed with the pair, the
# rest as diagnostics.
relay() {
    tr -d '\r' <"$1" | while IFS= read -r line; do
        case $line in
        PASS:\ *|FAIL:\ *|INFO:\ *)
            echo "${line%%: *}: $p/guest/${line#*: }" ;;
        *) echo "MIG| $2: $line" ;;
        esac
    done
}

# The guest's verdict: its SUMMARY must agree with the lines it printed
# and with the destination's exit status.
judge_guest() {
    rc=$1
    tr -d '\r' <"$d/src-ser.log" >"$d/guest.log"
    tr -d '\r' <"$d/dst-ser.log" >>"$d/guest.log"
    np=$(grep -c '^PASS: ' "$d/guest.log")
    nf=$(grep -c '^FAIL: ' "$d/guest.log")
    [ "$nf" = 0 ] || status=1
    sum=$(grep '^SUMMARY: ' "$d/guest.log" | tail -n 1)
    if [ -z "$sum" ]; then
        result "FAIL: $p/guest-completed (no SUMMARY line; destination exit $rc, $np PASS, $nf FAIL seen)"
    elif [ "$sum" != "SUMMARY: $SUITE passed=$np failed=$nf" ]; then
        result "FAIL: $p/guest-completed ('$sum' disagrees with $np PASS, $nf FAIL lines)"
    elif [ "$rc" = 1 ] && [ "$nf" = 0 ] && [ "$np" -gt 0 ]; then
        result "PASS: $p/guest-completed ($np checks, destination exit 1)"
    elif [ "$rc" = 3 ] && [ "$nf" -gt 0 ]; then
        echo "MIG| $p: the guest failed $nf checks (destination exit 3)"
    else
        result "FAIL: $p/guest-completed (destination exit $rc with $np PASS, $nf FAIL)"
    fi
}

# stop PID: end a QEMU of ours that is still there
stop() {
    if kill -0 "$1" 2>/dev/null; then
        kill "$1" 2>/dev/null
        wait "$1" 2>/dev/null
    fi
}

# migrate_steps: steps 1 to 3; false at the first that fails (reported)
migrate_steps() {
    if ! wait_file "$d/src-ser.log" '^MIGRATE: READY' "$limit" "$src_pid"; then
        result "FAIL: $p/source-ready (no MIGRATE: READY from the guest on the source; see MIG| $p lines)"
        return 1
    fi
    result "PASS: $p/source-ready (guest ready after $(since "$t0")s)"

    i=0
    while [ ! -S "$d/mig.sock" ] && [ "$i" -lt 50 ]; do
        sleep 0.2
        i=$((i + 1))
    done
    if [ "$expect" = refused ]; then
        # The source learns of the destination's refusal only over the
        # return path; without it, it would count the migration done.
        for side in src dst; do
            qmp "$side" migrate-set-capabilities \
                '{"capabilities": [{"capability": "return-path", "state": true}]}' >/dev/null
        done
    fi
    t1=$(now)
    ans=$(qmp src migrate "{\"uri\": \"unix:$d/mig.sock\"}")
    case $ans in
    *'"return"'*) ;;
    *)
        result "FAIL: $p/migration (migrate refused: ${ans:-no answer})"
        return 1 ;;
    esac
    st=
    i=0
    while [ "$i" -lt $((limit * 2)) ]; do
        st=$(qmp_status src query-migrate)
        case $st in completed|failed|cancelled) break ;; esac
        kill -0 "$src_pid" 2>/dev/null || { st="source QEMU gone"; break; }
        sleep 0.5
        i=$((i + 1))
    done
    if [ "$expect" = refused ]; then
        refused_steps
        return
    fi
    if [ "$st" != completed ]; then
        ans=$(qmp src query-migrate)
        result "FAIL: $p/migration (status '${st:-none}': $ans)"
        return 1
    fi
    result "PASS: $p/migration (completed in $(since "$t1")s)"

    # The destination stays paused (-S) once the state is in: the go
    # byte waits in its UART, so the guest's first look finds it.
    i=0
    while [ "$i" -lt 60 ]; do
        st=$(qmp_status dst query-status)
        [ "$st" = inmigrate ] || break
        sleep 0.5
        i=$((i + 1))
    done
    if [ "$st" != paused ] && [ "$st" != prelaunch ]; then
        result "FAIL: $p/destination-resumed (destination status '${st:-none}' after the migration)"
        return 1
    fi
    send "$d/dst-ser.in" G
    sleep 1
    ans=$(qmp dst cont)
    case $ans in
    *'"return"'*)
        result "PASS: $p/destination-resumed (was $st, cont accepted)" ;;
    *)
        result "FAIL: $p/destination-resumed (cont: ${ans:-no answer})"
        return 1 ;;
    esac
}

# refused_steps: after a migration the destination had to refuse: it
# failed, the destination QEMU said why and left, and the source goes
# on: the go byte goes to the source, whose guest then checks its side.
# Sets drc to the source's exit status (the guest's verdict).
refused_steps() {
    if [ "$st" != failed ]; then
        result "FAIL: $p/migration-refused (status '${st:-none}', want failed)"
    else
        result "PASS: $p/migration-refused (status failed after $(since "$t1")s)"
    fi
    i=0
    while kill -0 "$dst_pid" 2>/dev/null && [ "$i" -lt 50 ]; do
        sleep 0.2
        i=$((i + 1))
    done
    # QEMU 10.0.2 names the section and version it cannot read.
    why=$(grep -m 1 "unsupported version .* for 'vmbus-bridge'" "$d/dst.err")
    if kill -0 "$dst_pid" 2>/dev/null; then
        result "FAIL: $p/destination-left (the destination still runs)"
    elif [ -z "$why" ]; then
        result "FAIL: $p/destination-refuses-the-bus (not for the VMBus bridge: $(tail -n 1 "$d/dst.err" | cut -c 1-160))"
    else
        result "PASS: $p/destination-refuses-the-bus (${why#*: })"
    fi
    st=$(qmp_status src query-status)
    if [ "$st" != running ]; then
        result "FAIL: $p/source-goes-on (source status '${st:-none}')"
        return 1
    fi
    result "PASS: $p/source-goes-on (source running)"
    send "$d/src-ser.in" G
    finish "$src_pid"
    refused_rc=$?
}

run_pair() {
    src=$1 dst=$2
    scen=${3:-synic}
    if ! scenario "$scen" "$src" "$dst"; then
        result "FAIL: $prefix/$src-to-$dst-$scen/setup (no scenario '$scen')"
        return
    fi
    p=$prefix/$src-to-$dst${3:+-$3}
    d=$work/$src-to-$dst${3:+-$3}
    refused_rc=
    readers=
    for w in "$src" "$dst"; do
        if [ -z "$(qemu_of "$w")" ] || [ ! -x "$(qemu_of "$w")" ] ||
           [ -z "$(fw_of "$w")" ] || [ ! -d "$(fw_of "$w")" ]; then
            result "FAIL: $p/setup (no $w QEMU or firmware in the lab: '$(qemu_of "$w")', '$(fw_of "$w")')"
            return
        fi
        if [ -n "$(preload_of "$w")" ] && [ ! -r "$(preload_of "$w")" ]; then
            result "FAIL: $p/setup (no $(preload_of "$w") for the $w side; KVM_NO_HYPERV)"
            return
        fi
    done
    rm -rf "$d"
    mkdir -p "$d"
    t0=$(now)
    start src "$src"
    src_pid=$qemu_pid
    start dst "$dst" -incoming "unix:$d/mig.sock" -S
    dst_pid=$qemu_pid

    if migrate_steps; then
        if [ -n "$refused_rc" ]; then
            drc=$refused_rc
            stop "$dst_pid"
        else
            finish "$dst_pid"
            drc=$?
        fi
    else
        stop "$dst_pid"
        drc=stopped
    fi
    # The source: paused after a migration, or still running after a
    # failure; either way it must leave cleanly when told to.
    if [ -n "$refused_rc" ]; then
        :   # the source ran its guest to the end (refused_steps)
    elif [ "$drc" != stopped ]; then
        qmp src quit >/dev/null
        finish "$src_pid"
        src_rc=$?
        if [ "$src_rc" = 0 ]; then
            result "PASS: $p/source-exit (quit after the migration, status 0)"
        else
            result "FAIL: $p/source-exit (status $src_rc; see MIG| $p lines)"
        fi
    else
        stop "$src_pid"
    fi
    # shellcheck disable=SC2086 # a list of pids
    kill $readers 2>/dev/null
    relay "$d/src-ser.log" "$p source COM1"
    relay "$d/dst-ser.log" "$p destination COM1"
    judge_guest "$drc"
    for f in src.err dst.err src-qmp.log dst-qmp.log; do
        tr -d '\r' <"$d/$f" | sed "s#^#MIG| $p $f: #"
    done
    echo "INFO: $p took $(since "$t0")s (uptime clock)"
}

case $accel in
kvm) cpu=${MIGRATE_CPU:-host} ;;
*) cpu=max ;;
esac
if [ ! -f "$image" ]; then
    echo "FAIL: $prefix/setup (no test guest at $image)"
    exit 1
fi
mkdir -p "$work"
for pair in $pairs; do
    rest=${pair#*:}
    case $rest in
    *:*) run_pair "${pair%%:*}" "${rest%%:*}" "${rest#*:}" ;;
    *) run_pair "${pair%%:*}" "$rest" ;;
    esac
done
exit $status
