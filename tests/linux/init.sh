#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# /init of the Linux-guest test (DESIGN.md 4.4): Debian's kernel booted with
# the Hyper-V enlightenments.  It loads the hv modules and reports what the
# guest sees, one fact a line, as "LINUX: key=value" on the serial console:
#
#   init=started | done=<uptime>        the report's first and last line
#   kernel, cpus, cpu-hypervisor-flag   basics
#   hypervisor=<name>|none              dmesg "Hypervisor detected: ..."
#   hv-dmesg=<line>                     the kernel's "Hyper-V: ..." lines
#   clocksource, clocksources           current and available clocksources
#   clockevent.<dev>=<name>             every clockevent device's current one
#   modules-wanted, modules-deps        what was asked for, what it pulled in
#   mod.<name>=ok|builtin|missing|error: <reason>|skipped: needs <module>
#   vmbus-version=<x.y>|none            dmesg "Vmbus version:"
#   vmbus-devices=<n>
#   vmbus-dev.<id>=class_id=<guid> device_id=<guid> driver=<name>|none
#   vmbus-dmesg=<line>                  kernel lines about vmbus/hv_* (bounded)
#   mem.<tag>=<total kB> <available kB>  on the host's request (hvtest.hold)
#   vmbus.<tag>=<n> <ids>               likewise
#   kexec.load=<status>, kexec-msg=<line>  on the host's "kexec"
#   klog.boot=<n>, klog.end=<n>, klog-line=<line>  bad kernel log lines,
#                                       before "done" and before the guest
#                                       leaves (reboot, kexec, power off)
#   cpuid.<leaf>=<eax> <ebx> <ecx> <edx>  hvtest.acpi: the hypervisor
#                                       leaves, in hex (0x40000000-6,
#                                       0x4000000a, 0x40000100)
#   acpi-wait=ready, acpi=power-button  hvtest.acpi: the guest waits for
#                                       the power button; it was pressed,
#                                       the guest powers off
#   shutdown-ic=poweroff|reboot         the kernel powers off or reboots in
#                                       order: the shutdown service
#                                       (hv_utils) asked
#   unbind.<device>=<status>            on the host's request (hvtest.hold)
#   time.<tag>=<seconds.microseconds>   the wall clock, likewise
#   ptp.<tag>=<seconds.nanoseconds>     the time sync service's PTP clock
#   kvp-daemon=started|none|<why not>   hv_kvp_daemon, for the KVP service
#   kvp.<tag>=<value>|(absent)          a key of the host's KVP pool,
#                                       likewise
#
# tests/linux/evaluate.sh turns the report into results.

r() { echo "LINUX: $1=$2"; }

# dmesg without the "[    1.234567] " time stamps.
kmsg() { dmesg | sed 's/^\[[^]]*\] *//'; }

# klog WHEN: the whole kernel log so far (loglevel=3 keeps the console
# quiet, not the log) checked for what must never appear: an MSR access
# the hypervisor refused, a warning, a BUG, an oops, a call trace.  One
# line "klog.WHEN=<count>", then the lines themselves (20 at most).
klog() {
    kmsg | grep -E 'unchecked MSR access|WARNING:|BUG:|Oops|Call Trace:|general protection fault' >/tmp/klog.bad
    r "klog.$1" "$(grep -c . /tmp/klog.bad)"
    head -n 20 /tmp/klog.bad | while IFS= read -r l; do r klog-line "$l"; done
}

# The kernel's orderly poweroff and reboot (hv_utils, when the host's
# shutdown service asks) run this script again as "/init orderly-poweroff"
# (poweroff_cmd, below) or "/init orderly-reboot" (/sbin/reboot, below):
# say so, look at the kernel log, do it.  busybox's poweroff and reboot
# would only signal init, which this script is.
if [ "$$" != 1 ]; then
    case ${1:-} in
    orderly-poweroff|orderly-reboot)
        exec </dev/null >/dev/console 2>&1
        r shutdown-ic "${1#orderly-}"
        klog end
        /bin/busybox "${1#orderly-}" -f
        exit 1 ;;
    esac
fi

. /lib/init-early.sh
echo "/init orderly-poweroff" >/proc/sys/kernel/poweroff_cmd
rm -f /sbin/reboot
printf '#!/bin/sh\nexec /init orderly-reboot\n' >/sbin/reboot
chmod +x /sbin/reboot

r init started
r kernel "$(uname -r)"
r cpus "$(nproc)"
if grep -qw hypervisor /proc/cpuinfo; then
    r cpu-hypervisor-flag yes
else
    r cpu-hypervisor-flag no
fi
hv=$(kmsg | sed -n 's/^Hypervisor detected: //p' | head -n 1)
r hypervisor "${hv:-none}"
kmsg | grep '^Hyper-V: ' | head -n 20 | while IFS= read -r l; do r hv-dmesg "$l"; done

# hvtest.acpi (the libvirt layer): the power button and the CPUID
# device are wanted.  Elsewhere their modules stay unloaded, and the
# guest does what it did before that layer existed.
acpi=
grep -qw hvtest.acpi /proc/cmdline && acpi=1

# Load in modules.load order (dependencies first).  A module whose
# dependency did not load is not tried: the kernel would only say "unknown
# symbol", which hides the real reason one line up.
wanted='' deps_list='' failed=' '
while read -r name file role deps; do
    case $name in
    cpuid|button|evdev) [ -n "$acpi" ] || continue ;;
    esac
    case $role in
    want) wanted="$wanted $name" ;;
    dep) deps_list="$deps_list $name" ;;
    builtin) r "mod.$name" builtin; wanted="$wanted $name"; continue ;;
    missing) r "mod.$name" missing; wanted="$wanted $name"; continue ;;
    esac
    blocker=
    for d in $(echo "$deps" | tr , ' '); do
        case $failed in *" $d "*) blocker=$d; break ;; esac
    done
    if [ -n "$blocker" ]; then
        r "mod.$name" "skipped: needs $blocker"
        failed="$failed$name "
    elif err=$(insmod "$file" 2>&1); then
        r "mod.$name" ok
    else
        r "mod.$name" "error: ${err##*: }"
        failed="$failed$name "
    fi
done </etc/modules.load
r modules-wanted "${wanted# }"

# The hypervisor leaves as the guest reads them (/dev/cpu/0/cpuid, from
# the cpuid module: the file offset is the leaf), whatever platform Linux
# picked, so that the host can hold them against what it offered.
leaves="40000000 40000001 40000002 40000003 40000004 40000005 40000006"
[ -z "$acpi" ] || for leaf in $leaves 4000000a 40000100; do
    v=$(dd if=/dev/cpu/0/cpuid bs=16 count=1 iflag=skip_bytes \
        skip=$((0x$leaf)) 2>/dev/null | hexdump -v -e '4/4 "%08x " "\n"')
    r "cpuid.$leaf" "${v% }"
done
r modules-deps "${deps_list# }"

# Offers arrive after the version handshake and drivers bind as the hv
# modules register: give both a moment.
[ -d /sys/bus/vmbus/devices ] && sleep 1

# The KVP service (hv_utils) answers nothing before its daemon opens
# /dev/vmbus/hv_kvp (there once the driver bound the device).  The
# daemon reports the guest's name (its fully qualified name from
# /etc/hosts), OS and addresses (dummy0 gives it one that is not
# loopback) and keeps the host's pools in /var/lib/hyperv.
hostname hvtest-linux
mkdir -p /etc
echo "hosts: files" >/etc/nsswitch.conf
echo "127.0.1.1 hvtest-linux.example hvtest-linux" >/etc/hosts
if ip link set dummy0 up 2>/dev/null; then
    ip addr add 192.0.2.10/24 dev dummy0
fi
kvp=none
if [ -x /sbin/hv_kvp_daemon ]; then
    i=0
    while [ ! -e /dev/vmbus/hv_kvp ] && [ "$i" -lt 25 ]; do
        sleep 0.2
        i=$((i + 1))
    done
    if [ -e /dev/vmbus/hv_kvp ]; then
        mkdir -p /var/lib/hyperv
        /sbin/hv_kvp_daemon -n >/tmp/kvp.log 2>&1 &
        kvp_pid=$!
        kvp=started
    else
        kvp="no /dev/vmbus/hv_kvp"
    fi
fi
r kvp-daemon "$kvp"

# ptp_time: the time of the PTP clock of the time sync service (clock
# name "hyperv"; it follows the host's samples), s.ns, or why not
ptp_time() {
    for c in /sys/class/ptp/ptp*; do
        [ "$(cat "$c/clock_name" 2>/dev/null)" = hyperv ] || continue
        phc_ctl -q "/dev/${c##*/}" get 2>&1 |
            sed -n 's/.*clock time is \([0-9.]*\).*/\1/p' | head -n 1
        return
    done
    echo "no hyperv PTP clock"
}

# kvp_value POOL KEY: the value of KEY in the daemon's file of POOL
# (records of a 512-byte key and a 2048-byte value, each up to its
# first NUL: the daemon leaves bytes of other strings after it), or
# "(absent)"
kvp_value() {
    f=/var/lib/hyperv/.kvp_pool_$1
    n=0
    [ -f "$f" ] && n=$(($(stat -c %s "$f") / 2560))
    i=0
    while [ "$i" -lt "$n" ]; do
        rec=$(dd if="$f" bs=2560 skip="$i" count=1 2>/dev/null | head -c 512 | tr '\0' '\n' | head -n 1)
        if [ "$rec" = "$2" ]; then
            dd if="$f" bs=2560 skip="$i" count=1 2>/dev/null | tail -c 2048 | tr '\0' '\n' | head -n 1
            return
        fi
        i=$((i + 1))
    done
    echo "(absent)"
}

r clocksource "$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null || echo unknown)"
r clocksources "$(cat /sys/devices/system/clocksource/clocksource0/available_clocksource 2>/dev/null || echo unknown)"
for d in /sys/devices/system/clockevents/*; do
    [ -f "$d/current_device" ] || continue
    r "clockevent.${d##*/}" "$(cat "$d/current_device")"
done

v=$(kmsg | sed -n 's/^.*Vmbus version: *//p' | head -n 1)
r vmbus-version "${v:-none}"
n=0
for d in /sys/bus/vmbus/devices/*; do
    [ -e "$d" ] || continue
    n=$((n + 1))
    drv=none
    [ -e "$d/driver" ] && drv=$(basename "$(readlink "$d/driver")")
    r "vmbus-dev.${d##*/}" "class_id=$(cat "$d/class_id" 2>/dev/null) device_id=$(cat "$d/device_id" 2>/dev/null) driver=$drv"
done
r vmbus-devices "$n"
kmsg | grep -iE 'vmbus|hv_|hyperv|hyper-v' | grep -v '^Hyper-V: ' | head -n 40 |
    while IFS= read -r l; do r vmbus-dmesg "$l"; done

klog boot
r "done" "$(cut -d' ' -f1 /proc/uptime)"
# hvtest.hold: the host looks at the running VM (query-vmbus, a balloon
# request) and asks the guest over its console, one line at a time:
#   mem TAG    the guest answers mem.TAG=<MemTotal kB> <MemAvailable kB>
#   vmbus TAG N  once it has N VMBus devices (or after 20 s), it answers
#              vmbus.TAG=<count> <device ids>
#   reboot     the guest reboots at once (and reports again)
#   unbind ID  hv_utils lets go of VMBus device ID (the heartbeat, say):
#              unbind.ID=<status>
#   time TAG   the guest answers time.TAG=<its wall clock, s.us> and
#              ptp.TAG=<the hyperv PTP clock's time, s.ns>
#   kvp TAG KEY  the guest answers kvp.TAG=<KEY's value in the KVP pool
#              the host writes (hv-kvp-set), or (absent)>
#   kexec      the guest kexecs into the kernel and initramfs in /boot
#              (there only in the initramfs for it, initrd-kexec.gz; the
#              one it boots has none), and reports again
#   (empty)    the guest powers off
# Each wait is bounded; so is the number of requests.
# hvtest.acpi: the guest waits for the ACPI power button (the button
# and evdev modules; libvirt's "virsh shutdown" and "virsh reboot" press
# it) and powers off.  Bounded: after 600 s it powers off anyway.
if [ -n "$acpi" ]; then
    ev=
    for d in /sys/class/input/input*; do
        [ "$(cat "$d/name" 2>/dev/null)" = "Power Button" ] || continue
        for e in "$d"/event*; do
            [ -e "$e" ] && ev=/dev/input/${e##*/}
        done
    done
    # Opened before the host is told, so that no press is lost between.
    if [ -n "$ev" ] && [ -c "$ev" ] && exec 4<"$ev" && r acpi-wait ready &&
       timeout 600 dd of=/dev/null bs=24 count=1 <&4 2>/dev/null; then
        r acpi power-button
    else
        r acpi "no power button event (device '${ev:-none}')"
    fi
    klog end
    poweroff -f
fi
if grep -qw hvtest.hold /proc/cmdline; then
    n=0
    while [ "$n" -lt 16 ] && read -r -t 300 cmd tag </dev/console; do
        n=$((n + 1))
        case $cmd in
        mem)
            r "mem.$tag" "$(awk '/^MemTotal:/ { t = $2 } /^MemAvailable:/ { a = $2 } END { print t, a }' /proc/meminfo)" ;;
        vmbus)
            # vmbus TAG N: the VMBus devices once there are N (20 s at most)
            set -- $tag
            i=0
            while [ "$(ls /sys/bus/vmbus/devices | wc -l)" != "${2:-x}" ] &&
                  [ "$i" -lt 100 ]; do
                sleep 0.2
                i=$((i + 1))
            done
            r "vmbus.$1" "$(ls /sys/bus/vmbus/devices | wc -l) $(ls /sys/bus/vmbus/devices | tr '\n' ' ')" ;;
        kvp)
            # kvp TAG KEY: KEY's value in the host's pool (external)
            set -- $tag
            r "kvp.$1" "$(kvp_value 0 "$2")"
            if [ -n "${kvp_pid:-}" ] && ! kill -0 "$kvp_pid" 2>/dev/null; then
                r kvp-daemon "exited: $(tail -n 3 /tmp/kvp.log | tr '\n' ' ')"
            fi ;;
        time)
            r "time.$tag" "$(adjtimex | awk '/tv_sec/ { s = $2 } /tv_usec/ { u = $2 } END { printf "%d.%06d", s, u }')"
            r "ptp.$tag" "$(ptp_time)" ;;
        unbind)
            echo "$tag" >/sys/bus/vmbus/drivers/hv_utils/unbind
            r "unbind.$tag" $? ;;
        reboot)
            # The host made -no-reboot a reset first (QMP set-action).
            klog end
            /bin/busybox reboot -f ;;
        kexec)
            # kexec -e shuts the kernel down as for a kexec: hv_vmbus
            # unloads the bus first, and the next kernel connects afresh.
            if [ -f /boot/vmlinuz ]; then
                kexec -l /boot/vmlinuz --initrd=/boot/initrd.gz \
                    --reuse-cmdline >/tmp/kexec.log 2>&1
                st=$?
            else
                echo "no /boot/vmlinuz in this initramfs" >/tmp/kexec.log
                st=1
            fi
            while IFS= read -r l; do r kexec-msg "$l"; done </tmp/kexec.log
            r kexec.load "$st"
            klog end
            [ "$st" != 0 ] || kexec -e
            r kexec.exec failed ;;
        *) break ;;
        esac
    done
    klog end
fi
poweroff -f
