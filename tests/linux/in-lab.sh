#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# in-lab.sh [kvm|kvm-nohv]: the Linux-guest test on the kernel (K) path,
# or (kvm-nohv) on L1's KVM with its Hyper-V hidden, where QEMU emulates
# Hyper-V itself; run inside the nested lab's L1 (busybox ash).  L1's KVM has the in-kernel Hyper-V, so the
# guest should detect Hyper-V, take the Hyper-V clocksource and negotiate a
# VMBus version with our QEMU.  Prints the linux/kvm/* result lines of
# evaluate.sh (linux/kvm-nohv/* for the second mode); the guest's console
# goes through prefixed "L2| ", so that
# nothing it prints is taken for a result.
#
# Needs QEMU and FIRMWARE in the environment (the lab's init sets them), and
# beside this script: qemu-args.sh, evaluate.sh, vmlinuz, initrd.gz.
# LINUX_KVM_TIMEOUT bounds the guest (default 240 s; it boots and reports
# in about 12 s).  A guest still running then is asked where its vCPUs
# are (an INFO line with their RIPs).

here=$(cd "$(dirname "$0")" && pwd)
where=${1:-kvm}
: "${QEMU:?QEMU is not set: run me in the nested lab}"
: "${FIRMWARE:?FIRMWARE is not set: run me in the nested lab}"
limit=${LINUX_KVM_TIMEOUT:-240}
for f in qemu-args.sh evaluate.sh vmlinuz initrd.gz; do
    if [ ! -f "$here/$f" ]; then
        echo "FAIL: linux/$where/boot ($here/$f is missing from the payload)"
        exit 1
    fi
done
. "$here/qemu-args.sh"
case $where in
kvm)
    flags=$LINUX_HV_FLAGS preload= ;;
kvm-nohv)
    # L1's KVM with its Hyper-V hidden: QEMU emulates Hyper-V itself.
    flags=$LINUX_HV_FLAGS_U preload=${KVM_NO_HYPERV:?KVM_NO_HYPERV is not set} ;;
*)
    echo "FAIL: linux/$where/boot (in-lab.sh: unknown mode '$where')"
    exit 1 ;;
esac

log=${TMPDIR:-/tmp}/linux-$where.log
mon=${TMPDIR:-/tmp}/linux-$where-mon
con=${TMPDIR:-/tmp}/linux-$where-console.in
host=${TMPDIR:-/tmp}/linux-$where-host
mem=512
rm -f "$mon.in" "$mon.out" "$con" "$host"
mkfifo "$mon.in" "$mon.out" "$con"
: >"$mon.log"
cat "$mon.out" >"$mon.log" &
reader=$!
exec 3<>"$con"

# hmp COMMAND: its output from the monitor (up to the next prompt)
hmp() {
    from=$(wc -c <"$mon.log")
    timeout 5 sh -c 'printf "%s\n" "$1" >"$2"' sh "$1" "$mon.in"
    j=0
    while [ "$j" -lt 50 ]; do
        sleep 0.2
        tail -c +$((from + 1)) "$mon.log" | tr -d '\r' | grep -q '(qemu)' && break
        j=$((j + 1))
    done
    # Without the prompt and readline's echo of the command.
    tail -c +$((from + 1)) "$mon.log" | tr -d '\r' | grep -v '(qemu)' |
        grep -vF -- "$1"
}

# ask WHAT TAG [ARG]: send the guest "WHAT TAG ARG" and wait for its
# WHAT.TAG line (init.sh's hold protocol)
ask() {
    echo "$1 $2${3:+ $3}" >&3
    j=0
    while [ "$j" -lt 300 ] && ! grep -q "^LINUX: $1.$2=" "$log"; do
        sleep 0.2
        j=$((j + 1))
    done
}

# live: as run.sh does under TCG, over HMP: the host's view of the bus
# (HOST: lines for evaluate.sh), then a balloon request of a quarter of
# the guest's memory, with the guest's memory before and after, a
# hot-plug, a reboot, and the integration services' state.
live() {
    v=$(hmp "info vmbus")
    echo "$v" | sed 's/^/HOST: info-vmbus| /' >"$host"
    echo "$v" | sed -n 's/^VMBus: \([a-z]*\).*/HOST: vmbus.state=\1/p' >>"$host"
    echo "$v" | sed -n 's/^VMBus: .*version \([0-9.]*\),.*/HOST: vmbus.version=\1/p' >>"$host"
    echo "$v" | awk '/^  [a-z]/ { dev = $1 } /channel [0-9]+: relid/ && dev == "hv-balloon" { sub(/.*relid [0-9]+, /, ""); sub(/,.*/, ""); print "HOST: vmbus.dev.hv-balloon=" $0; exit }' >>"$host"
    # host-view.py's ring check, from the text: "to host: SIZE bytes,
    # write W read R host H, ..."; the host's index is the read index of
    # the ring the guest writes, the write index of the other.
    echo "$v" | awk '
        /^  [a-z]/ { dev = $1; chan = 0 }
        /channel 0: relid/ { chan = 1 }
        dev == "hv-balloon" && chan && $1 == "to" && ($2 == "host:" || $2 == "guest:") {
            n++; h = $10; sub(/,/, "", h)
            if (why == "" && $0 ~ /broken/) why = "to-" substr($2, 1, length($2) - 1) " broken"
            if (why == "" && ($6 >= $3 || $8 >= $3 || $6 % 8 || $8 % 8)) why = "an index outside " $3 " or unaligned: " $0
            if (why == "" && ($2 == "host:" ? $8 : $6) != h) why = "host index " h " differs: " $0
        }
        END { if (n == 0) exit; if (n != 2) why = n " rings shown"; print "HOST: vmbus.rings.hv-balloon=" (why == "" ? "ok" : why) }' >>"$host"
    actual() { hmp "info balloon" | sed -n 's/.*actual=\([0-9]*\).*/\1/p' | head -n 1; }
    ask mem before
    echo "HOST: balloon.before=$(actual)" >>"$host"
    echo "HOST: balloon.target=$((mem * 3 / 4))" >>"$host"
    b0=$(cut -d' ' -f1 /proc/uptime)
    hmp "balloon $((mem * 3 / 4))" >/dev/null
    j=0
    a=$(actual)
    while [ "$j" -lt 120 ] && [ "${a:-$mem}" -gt $((mem * 3 / 4 + 16)) ]; do
        sleep 2
        a=$(actual)
        j=$((j + 1))
    done
    echo "HOST: balloon.after=${a:-unreported}" >>"$host"
    echo "HOST: balloon.took=$(echo "$(cut -d' ' -f1 /proc/uptime) $b0" | awk '{ printf "%.1f", $1 - $2 }')" >>"$host"
    ask mem after
    # A VMBus device plugged and unplugged while the guest runs.
    n=$(tr -d '\r' <"$log" | sed -n 's/^LINUX: vmbus-devices=//p' | head -n 1)
    out=$(hmp "device_add vmbus-echo,id=hotplug")
    echo "HOST: hotplug.add=${out:-ok}" >>"$host"
    hmp "info vmbus" | awk '/\/machine\/peripheral\/hotplug\)/ { p = 1; next } p && /instance/ { print "HOST: hotplug.instance=" $NF; exit }' >>"$host"
    ask vmbus plugged $((n + 1))
    d0=$(cut -d' ' -f1 /proc/uptime)
    hmp "device_del hotplug" >/dev/null
    j=0
    while [ "$j" -lt 60 ] && hmp "info vmbus" | grep -q '/machine/peripheral/hotplug)'; do
        sleep 1
        j=$((j + 1))
    done
    if hmp "info vmbus" | grep -q '/machine/peripheral/hotplug)'; then
        echo "HOST: hotplug.deleted=no" >>"$host"
    else
        echo "HOST: hotplug.deleted=yes" >>"$host"
    fi
    echo "HOST: hotplug.del-took=$(echo "$(cut -d' ' -f1 /proc/uptime) $d0" | awk '{ printf "%.1f", $1 - $2 }')" >>"$host"
    ask vmbus unplugged "$n"
    # A reboot: the guest connects to the bus again and binds hv_balloon.
    # This QEMU runs without -no-reboot, so a guest reboot resets it.
    echo "HOST: reboot.action=reset" >>"$host"
    echo reboot >&3
    j=0
    while [ "$j" -lt 900 ] && [ "$(grep -c '^LINUX: done=' "$log")" -lt 2 ]; do
        sleep 0.2
        j=$((j + 1))
    done
    # The integration services after the reboot, as QOM shows them (the
    # keys host-view.py uses); the heartbeat's number again a few
    # heartbeats later.
    j=0
    while [ "$j" -lt 50 ] && [ "$(qom hv-kvp readings)" = 0 ]; do
        sleep 0.2
        j=$((j + 1))
    done
    for p in state version last-seq bad-answers dropped; do
        echo "HOST: heartbeat.$p=$(qom hv-heartbeat $p)" >>"$host"
    done
    for p in state version syncs; do
        echo "HOST: timesync.$p=$(qom hv-timesync $p)" >>"$host"
    done
    for p in state version readings; do
        echo "HOST: kvp.$p=$(qom hv-kvp $p)" >>"$host"
    done
    sleep 3
    echo "HOST: heartbeat-end.last-seq=$(qom hv-heartbeat last-seq)" >>"$host"
    for p in state version; do
        echo "HOST: shutdown-ic.$p=$(qom hv-shutdown $p)" >>"$host"
    done
}

# qom ID PROP: a property of the device with id ID (HMP qom-get), bare
qom() {
    v=$(hmp "qom-get /machine/peripheral/$1 $2" | head -n 1 | tr -d '"')
    echo "${v:-none}"
}

t0=$(cut -d' ' -f1 /proc/uptime)
# nokaslr: a RIP taken below maps onto the kernel's System.map.  A monitor
# on FIFOs, so that a guest that stops can be asked where it is, and the
# console's input on a FIFO for hvtest.hold (init.sh).
# A guest reboot resets (live() reboots it); a panic loop ends at $limit.
devices=$(echo " $LINUX_DEVICES " | sed 's/ -no-reboot / /')
# shellcheck disable=SC2086 # a list of arguments
env ${preload:+LD_PRELOAD="$preload"} \
    "$QEMU" -L "$FIRMWARE" -accel kvm -cpu "host,pmu=off,$flags" \
    -m "$mem" -smp 2 $devices \
    -chardev "pipe,id=mon,path=$mon" -mon chardev=mon,mode=readline \
    -kernel "$here/vmlinuz" -initrd "$here/initrd.gz" \
    -append "$LINUX_APPEND nokaslr hvtest.hold" <"$con" >"$log" 2>&1 &
qpid=$!
i=0
lived=
while kill -0 "$qpid" 2>/dev/null && [ "$i" -lt $((limit * 5)) ]; do
    if [ -z "$lived" ] && grep -q '^LINUX: done=' "$log"; then
        lived=1
        live
        # The guest leaves through the shutdown service (system_powerdown);
        # if it has not within 30 s, the empty line ends it.
        hmp system_powerdown >/dev/null
        echo "HOST: shutdown-ic.powerdown=sent" >>"$host"
        j=0
        while [ "$j" -lt 150 ] && kill -0 "$qpid" 2>/dev/null; do
            sleep 0.2
            j=$((j + 1))
        done
        echo >&3
    fi
    sleep 0.2
    i=$((i + 1))
done
stuck=
if kill -0 "$qpid" 2>/dev/null; then
    # Where each vCPU is, three times a second apart, then the end.
    for n in 1 2 3; do
        timeout 5 sh -c 'printf "info registers -a\n" >"$1"' sh "$mon.in"
        sleep 1
    done
    stuck=$(tr -d '\r' <"$mon.log" | grep -o 'RIP=[0-9a-f]*' | sort | uniq -c |
        awk '{ printf "%s%s x%s", sep, $2, $1; sep = ", " }')
    # The whole dump, for the lab's console log only.
    tr -d '\r' <"$mon.log" | grep -E 'RAX=|RSI=|R8 =|R12=|RIP=|CR0=|CPU#' |
        sed 's/^/L2MON| /'
    kill "$qpid" 2>/dev/null
    wait "$qpid"
    qstatus=124
else
    wait "$qpid"
    qstatus=$?
fi
kill "$reader" 2>/dev/null
exec 3>&-
rm -f "$mon.in" "$mon.out" "$con"
t1=$(cut -d' ' -f1 /proc/uptime)
tr -d '\r' <"$log" | sed 's/^/L2| /'
echo "INFO: linux/$where guest ran $(echo "$t1 $t0" | awk '{ printf "%.1f", $1 - $2 }')s (L1 clock), QEMU status $qstatus${stuck:+; stopped after ${limit}s with its vCPUs at $stuck (nokaslr: see the kernel's System.map)}"
[ ! -f "$host" ] || cat "$host" >>"$log"
LINUX_STUCK=$stuck sh "$here/evaluate.sh" "$where" "$qstatus" <"$log"
