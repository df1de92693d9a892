#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# run.sh [options]: the Linux-guest test under TCG (DESIGN.md 4.4, the user
# path).  Boots Debian's kernel with our QEMU, the Hyper-V enlightenments
# and a VMBus bridge, and prints the result lines of tests/linux/evaluate.sh
# for linux/tcg/*.  The console is kept in BUILD/tests/linux/console-tcg.log.
# Exit status 0 when no check failed.  (The kernel path runs the same guest
# inside the nested lab: tests/linux/in-lab.sh.)
#
# Options:
#   --build DIR      build folder (default: <repo>/build)
#   --qemu PATH      QEMU to test (default: BUILD/qemu/qemu-system-x86_64)
#   --firmware DIR   its firmware, as for -L (default: BUILD/firmware)
#   --timeout SEC    bound on the guest's run (default 600)
#   --show           print what the guest sees in plain words instead of
#                    result lines (for `make run`); fails only when the
#                    guest did not report
set -euo pipefail

die() { echo "linux: $*" >&2; exit 2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
build=$top/build
qemu='' firmware='' limit=600 show=''

while [ $# -gt 0 ]; do
    case $1 in
    --build) build=${2:?--build needs a folder}; shift 2 ;;
    --qemu) qemu=${2:?--qemu needs a path}; shift 2 ;;
    --firmware) firmware=${2:?--firmware needs a folder}; shift 2 ;;
    --timeout) limit=${2:?--timeout needs seconds}; shift 2 ;;
    --show|--interactive) show=1; shift ;;
    *) die "unknown option '$1' (see the header of $0)" ;;
    esac
done
build=$(realpath -m "$build")
qemu=$(realpath -m "${qemu:-$build/qemu/qemu-system-x86_64}")
firmware=$(realpath -m "${firmware:-$build/firmware}")
if ! [[ $limit =~ ^[0-9]+$ ]] || [ "$limit" -eq 0 ]; then
    die "--timeout needs a number of seconds"
fi
[ -x "$qemu" ] || die "$qemu is missing: build it first (make qemu)"
[ -f "$firmware/bios-256k.bin" ] ||
    die "$firmware has no bios-256k.bin: run make qemu (scripts/link-firmware.sh)"

"$here/build-initramfs.sh" "$build"
work=$build/tests/linux
# shellcheck source=qemu-args.sh
. "$here/qemu-args.sh"
cpu=max,$LINUX_HV_FLAGS_U
LINUX_MEM_MB=1024
console=$work/console-tcg.log
dconsole=$work/console-tcg-dst.log

host=$work/host-view.txt

# ask WHAT TAG [ARG]: send the guest "WHAT TAG ARG" and wait for its
# WHAT.TAG line (init.sh's hold protocol)
ask() {
    echo "$1 $2${3:+ $3}" >&3
    for _ in $(seq 1 300); do
        grep -q "^LINUX: $1.$2=" "$console" && return
        sleep 0.2
    done
}

# live: while the guest holds after its report, the host's view of the
# bus, then a balloon request of a quarter of its memory, with the
# guest's memory before and after.
live() {
    timeout 60 python3 "$here/host-view.py" "$qmp" view >"$host"
    # KVP: the guest's addresses in QMP; a key the host sets, then
    # deletes, as the guest's daemon stores it.
    timeout 120 python3 "$here/host-view.py" "$qmp" kvp \
        QemuKvpTest "set by QEMU" 60 >>"$host"
    ask kvp set QemuKvpTest
    timeout 90 python3 "$here/host-view.py" "$qmp" kvp-delete \
        QemuKvpTest >>"$host"
    ask kvp deleted QemuKvpTest
    ask mem before
    timeout 260 python3 "$here/host-view.py" "$qmp" balloon \
        $((LINUX_MEM_MB * 3 / 4)) 240 >>"$host"
    ask mem after
    # A VMBus device plugged and unplugged while the guest runs.
    n=$(tr -d '\r' <"$console" | sed -n 's/^LINUX: vmbus-devices=//p' | head -n 1)
    timeout 30 python3 "$here/host-view.py" "$qmp" plug \
        vmbus-echo hotplug >>"$host"
    ask vmbus plugged $((n + 1))
    timeout 90 python3 "$here/host-view.py" "$qmp" unplug \
        hotplug 60 >>"$host"
    ask vmbus unplugged "$n"
    # A reboot: the guest connects to the bus again and binds hv_balloon.
    timeout 30 python3 "$here/host-view.py" "$qmp" \
        reboot-resets >>"$host"
    # The reboot through the shutdown service (QMP hv-shutdown-guest).
    timeout 60 python3 "$here/host-view.py" "$qmp" ic-reboot \
        >>"$host"
    reports 2
    # kexec: the kernel unloads the bus, the next one connects again.
    echo kexec >&3
    reports 3
    # The wall clock: the guest's, with the host's before and after the
    # question; then again 5 s after a 30 s stop (the time sync service
    # sets it when the VM runs again).
    asktime before
    timeout 60 python3 "$here/host-view.py" "$qmp" stop-cont 30 \
        >>"$host"
    sleep 5
    asktime after
    # Live migration with every service connected; the rest runs on the
    # destination.
    migrate_guest
    asktime migrated
    # The guest lets go of the heartbeat: QEMU must say it is lost.
    rm -f "$work/lost.ready"
    timeout 90 python3 "$here/host-view.py" "$qmp" lost 60 \
        "$work/lost.ready" >"$work/lost.txt" &
    lpid=$!
    for _ in $(seq 1 100); do
        [ -e "$work/lost.ready" ] && break
        sleep 0.2
    done
    ask unbind "$LINUX_HEARTBEAT_ID"
    wait "$lpid"
    cat "$work/lost.txt" >>"$host"
    # The guest leaves through the shutdown service (hv-shutdown): QEMU
    # must exit by itself; if it does not within 60 s, the empty line
    # that boot() sends ends it.
    timeout 30 python3 "$here/host-view.py" "$qmp" powerdown \
        >>"$host"
    for _ in $(seq 1 300); do
        kill -0 "$qpid" 2>/dev/null || break
        sleep 0.2
    done
}

# migrate_guest: a second QEMU with the same arguments and -incoming takes
# the running guest over (host-view.py migrate, which quits the source);
# from then on qpid, qmp, console and the guest's input (fd 3) are the
# destination's.
migrate_guest() {
    rm -f "$work/console-dst.in" "$work/qmp-dst.sock" "$work/mig.sock"
    mkfifo "$work/console-dst.in"
    exec 4<>"$work/console-dst.in"
    timeout --kill-after=10 "$limit" "$qemu" "${qemu_args[@]}" \
        -qmp "unix:$work/qmp-dst.sock,server=on,wait=off" \
        -incoming "unix:$work/mig.sock" <"$work/console-dst.in" \
        >"$dconsole" 2>&1 &
    dpid=$!
    timeout 150 python3 "$here/host-view.py" "$qmp" migrate \
        "unix:$work/mig.sock" "$work/qmp-dst.sock" 120 >>"$host"
    wait "$qpid"
    echo "HOST: migrate.src-exit=$?" >>"$host"
    exec 3>&4 4>&-
    rm -f "$work/console.in" "$work/console-dst.in"
    qpid=$dpid qmp=$work/qmp-dst.sock console=$dconsole
}

# The guest's whole console: the source's, then the destination's.
consoles() {
    cat "$work/console-tcg.log"
    [ ! -f "$dconsole" ] || cat "$dconsole"
}

# reports N: wait (3 minutes at most) for the guest's Nth report
asktime() {
    t1=$(date +%s.%N)
    ask time "$1"
    echo "HOST: time.$1=$t1 $(date +%s.%N)" >>"$host"
}

reports() {
    for _ in $(seq 1 900); do
        [ "$(grep -c '^LINUX: done=' "$console")" -ge "$1" ] && break
        sleep 0.2
    done
}

# boot DEVICES...: run the guest; sets qstatus.  With hvtest.hold the
# guest waits after its report for a line on its console: meanwhile the
# host takes its own view of the bus over QMP (host-view.py, into $host),
# then sends the line.  The console's input is a FIFO held open here.
boot() {
    set +e
    rm -f "$work/console.in" "$work/qmp.sock" "$host" "$dconsole"
    mkfifo "$work/console.in"
    exec 3<>"$work/console.in"
    console=$work/console-tcg.log qmp=$work/qmp.sock
    # shellcheck disable=SC2206 # LINUX_QEMU_ARGS is a list of arguments
    qemu_args=(-L "$firmware" -accel tcg -cpu "$cpu" -m "$LINUX_MEM_MB"
               -smp 2 "$@" ${LINUX_QEMU_ARGS:-}
               -kernel "$work/vmlinuz" -initrd "$work/initrd-kexec.gz"
               -append "$LINUX_APPEND hvtest.hold")
    timeout --kill-after=10 "$limit" "$qemu" "${qemu_args[@]}" \
        -qmp "unix:$qmp,server=on,wait=off" <"$work/console.in" \
        >"$console" 2>&1 &
    qpid=$!
    while kill -0 "$qpid" 2>/dev/null; do
        if grep -q '^LINUX: done=' "$console"; then
            live
            echo >&3
            break
        fi
        sleep 0.2
    done
    wait "$qpid"
    qstatus=$?
    exec 3>&-
    rm -f "$work/console.in"
    set -e
}

[ -n "$show" ] || echo "linux: booting the Linux guest under TCG (-cpu $cpu, bound ${limit}s)"
start=$(date +%s)
# shellcheck disable=SC2086 # LINUX_DEVICES is a list of arguments
boot $LINUX_DEVICES
# A QEMU whose TCG has no SynIC yet refuses the bridge (issue 4).  Say so,
# and boot without it so that the rest of the guest is still tested.
bridge=
if [ "$qstatus" -ne 0 ] && ! grep -q '^LINUX: init=' "$console" &&
   grep -q 'vmbus-bridge' "$console"; then
    bridge=$(grep -m 1 'vmbus-bridge' "$console" | tr -d '\r')
    bridge=${bridge#*qemu-system-x86_64: }
    mv "$console" "$work/console-tcg-bridge.log"
    # shellcheck disable=SC2086
    boot ${LINUX_DEVICES/-device vmbus-bridge/}
fi
took=$(($(date +%s) - start))

if [ -z "$show" ]; then
    echo "linux: guest finished in ${took}s (QEMU status $qstatus)"
    {
        [ -z "$bridge" ] || echo "HOST: vmbus-bridge=refused by QEMU ($bridge); booted without it"
        consoles
        [ ! -f "$host" ] || cat "$host"
    } | "$here/evaluate.sh" tcg "$qstatus"
    exit
fi

# --show: the report in plain words.
report=$(consoles | tr -d '\r' | sed -n 's/^LINUX: //p')
val() { awk -v k="$1" 'index($0, k "=") == 1 { print substr($0, length(k) + 2); exit }' <<<"$report"; }
keys() { awk -v p="$1" 'index($0, p) == 1 { print substr($0, length(p) + 1) }' <<<"$report"; }
row() { printf '  %-22s %s\n' "$1" "$2"; }

echo "Linux guest under TCG: qemu-system-x86_64 -cpu $cpu -device vmbus-bridge"
if [ -z "$(val init)" ]; then
    echo "  The guest did not report (QEMU status $qstatus after ${took}s). Console:"
    tail -n 20 "$console" | sed 's/^/  | /'
    exit 1
fi
row kernel "$(val kernel), $(val cpus) vCPUs"
row hypervisor "$(val hypervisor) (CPUID hypervisor bit: $(val cpu-hypervisor-flag))"
avail=$(val clocksources)
row clocksource "$(val clocksource) (available: ${avail% })"
while IFS= read -r l; do
    [ -n "$l" ] && row "clockevent ${l%%=*}" "${l#*=}"
done <<<"$(keys clockevent.)"
for m in $(val modules-wanted); do
    row "module $m" "$(val "mod.$m")"
done
row "VMBus version" "$(val vmbus-version)"
row "VMBus devices" "$(val vmbus-devices)"
while IFS= read -r l; do
    [ -n "$l" ] && row "  ${l%%=*}" "${l#*=}"
done <<<"$(keys vmbus-dev.)"
while IFS= read -r l; do
    [ -n "$l" ] && row "kernel says" "$l"
done <<<"$(keys hv-dmesg=; keys vmbus-dmesg=)"
[ -z "$bridge" ] || row "VMBus bridge" "refused by QEMU ($bridge); booted without it"
{ consoles | grep 'qemu-system-x86_64: ' || true; } | head -n 5 | while IFS= read -r l; do
    row "QEMU says" "${l#*qemu-system-x86_64: }"
done
row "time" "${took}s in all; the guest reported at uptime $(val "done")s"
hv() { sed -n "s/^HOST: $1=//p" "$host" 2>/dev/null | head -n 1; }
if [ -n "$(hv balloon.after)" ]; then
    row "balloon (QMP)" "asked $(hv balloon.target) MiB of $(hv balloon.before): the guest has $(hv balloon.after) MiB after $(hv balloon.took)s"
    row "guest MemAvailable" "$(val mem.before | cut -d' ' -f2) kB before, $(val mem.after | cut -d' ' -f2) kB after"
fi
if [ -n "$(hv heartbeat.state)" ]; then
    row "heartbeat service" "$(hv heartbeat.state), version $(hv heartbeat.version): the guest answered heartbeat $(hv heartbeat.last-seq), later $(hv heartbeat-end.last-seq)"
fi
if [ -n "$(hv timesync.state)" ]; then
    row "time sync service" "$(hv timesync.state), version $(hv timesync.version); after a 30 s stop the guest's clock is $(val time.after) s, the host's $(hv time.after | cut -d' ' -f1) s"
fi
if [ -n "$(hv kvp.state)" ]; then
    row "KVP service" "$(hv kvp.state), version $(hv kvp.version); the guest says it is $(hv kvp.FullyQualifiedDomainName) ($(hv kvp.OSName)) at $(hv kvp.NetworkAddressIPv4); a key QEMU set: the guest read '$(val kvp.set)'"
fi
if [ -n "$(hv migrate.status)" ]; then
    row "live migration" "$(hv migrate.status) in $(hv migrate.took) s; on the destination the services $(hv migrate.services) after $(hv migrate.services-took) s"
fi
if [ -n "$(hv shutdown-ic.state)" ]; then
    row "shutdown service" "$(hv shutdown-ic.state), version $(hv shutdown-ic.version); system_powerdown: $(hv shutdown-ic.powerdown), the guest: $(val shutdown-ic)"
fi
if [ -s "$host" ]; then
    echo "QEMU's view of the bus while the guest ran (HMP info vmbus):"
    sed -n 's/^HOST: info-vmbus| /  /p' "$host"
fi
if [ "$(val hypervisor)" = "Microsoft Hyper-V" ]; then
    echo "The guest runs on Hyper-V: VMBus $(val vmbus-version), $(val vmbus-devices) VMBus devices."
else
    echo "The guest sees no Hyper-V (under TCG that comes with the user-space Hyper-V path)."
fi
[ -n "$(val "done")" ]
