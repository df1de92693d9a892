#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# evaluate.sh WHERE [QEMU_STATUS] < CONSOLE
#
# Turn the Linux guest's report ("LINUX: key=value" lines of tests/linux/
# init.sh, read from its console transcript) into result lines
# "PASS: linux/WHERE/<check>", "FAIL: ..." or, for a check that later work
# owns, "PENDING: linux/WHERE/<check> (now: <what the guest shows>; owned by
# <who>)", which counts neither way.  WHERE is "tcg" (the guest under TCG on
# the host: the user-space path), "kvm" (inside the nested lab: the kernel
# path) or "kvm-nohv" (the lab's KVM with its Hyper-V hidden: QEMU's own
# Hyper-V on KVM).  QEMU_STATUS is the exit status of the QEMU that ran the guest (124
# for a timeout; LINUX_STUCK then says where the vCPUs were).  Lines
# "INFO: linux/WHERE ..." summarise what was seen.
# Exit status 1 when a check failed.
#
# POSIX sh and awk only: it runs on the host and in L1 under busybox ash.

where=${1:?usage: evaluate.sh tcg|kvm [QEMU_STATUS] < console}
qstatus=${2:-0}

# Who owns what is not checked yet.  When a piece of work lands, its owner
# moves the checks it makes pass from the PENDING list to ENFORCED.
OWNER_BUS="the VMBus devices issue"
case $where in
tcg)
    ENFORCED="boot kernel-log vmbus-bridge modules-load hyperv-detected hv-clocksource stimer-clockevent enlightenments vmbus-version hv-modules devices-bound host-view balloon hotplug reboot kexec shutdown-ic heartbeat shutdown-ic-reboot heartbeat-lost timesync kvp migrate"
    PENDING= ;;
kvm|kvm-nohv)
    ENFORCED="boot kernel-log vmbus-bridge modules-load hyperv-detected hv-clocksource stimer-clockevent enlightenments vmbus-version devices-bound host-view balloon hotplug reboot shutdown-ic heartbeat services"
    PENDING= ;;
*)
    if [ -z "${LINUX_CHECKS:-}" ]; then
        echo "evaluate.sh: unknown WHERE '$where' (tcg, kvm or kvm-nohv)" >&2
        exit 2
    fi ;;
esac
# Another layer that boots this guest (tests/libvirt) names the checks it
# wants and where their results go: LINUX_CHECKS, LINUX_NAME.
if [ -n "${LINUX_CHECKS:-}" ]; then
    ENFORCED=$LINUX_CHECKS PENDING=
fi
name=${LINUX_NAME:-linux/$where}

input=$(tr -d '\r')
report=$(printf '%s\n' "$input" | sed -n 's/^LINUX: //p')

# val KEY: the value of the first "KEY=value" line of the report.
val() {
    printf '%s\n' "$report" |
        awk -v k="$1" 'index($0, k "=") == 1 { print substr($0, length(k) + 2); exit }'
}
# keys PREFIX: "key=value" lines whose key starts with PREFIX.
keys() {
    printf '%s\n' "$report" | awk -v p="$1" 'index($0, p) == 1'
}

# run.sh (TCG) boots the guest without the bridge when QEMU refuses it and
# says so on a line "HOST: vmbus-bridge=...".
check_vmbus_bridge() {
    h=$(printf '%s\n' "$input" | sed -n 's/^HOST: vmbus-bridge=//p' | head -n 1)
    now=${h:-QEMU accepted -device vmbus-bridge}
    [ -z "$h" ]
}

# Each check sets $now (what the guest shows) and returns 0 when satisfied.
check_boot() {
    if [ -z "$(val init)" ]; then
        case $qstatus in
        0) now="no report on the console" ;;
        124) now="no report; QEMU timed out${LINUX_STUCK:+ with its vCPUs at $LINUX_STUCK}" ;;
        *) now="no report; QEMU exited $qstatus" ;;
        esac
        return 1
    fi
    if [ -z "$(val "done")" ]; then
        # What the guest said last, so that the summary shows how it ended.
        last=$(printf '%s\n' "$input" | grep -v '^[[:space:]]*$' | tail -n 1 |
            cut -c 1-200)
        now="report started but never finished (QEMU status $qstatus; the console's last line: '$last')"
        return 1
    fi
    now="report complete at guest uptime $(val "done")s"
}

# Every look at the kernel log (each boot's, and each one before the
# guest left) found none of the lines that must never appear.
check_kernel_log() {
    looks=$(printf '%s\n' "$report" | grep -c '^klog\.')
    bad=$(printf '%s\n' "$report" | sed -n 's/^klog\.[a-z]*=//p' |
        awk '{ s += $1 } END { print s + 0 }')
    first=$(printf '%s\n' "$report" | sed -n 's/^klog-line=//p' | head -n 1 |
        cut -c 1-160)
    now="$looks looks at the kernel log, $bad bad lines${first:+, the first: '$first'}"
    [ "$looks" -gt 0 ] && [ -n "$(val klog.boot)" ] && [ "$bad" -eq 0 ]
}

# What Linux says it uses of libvirt's Windows set (tests/linux/
# qemu-args.sh): under TCG all of it; on the lab's KVM without Hyper-V
# the IPI hypercalls and not the two features that path does not offer;
# on the kernel path the enlightened APIC (its flags have no hv-ipi).
check_enlightenments() {
    case $where in
    tcg) want="Using enlightened APIC|Using IPI hypercalls|Using hypercall for remote TLB flush" not= ;;
    kvm-nohv) want="Using IPI hypercalls" not="Using enlightened APIC|Using hypercall for remote TLB flush" ;;
    *) want="Using enlightened APIC" not= ;;
    esac
    d=$(keys hv-dmesg=)
    ok=0 now=
    old=$IFS IFS='|'
    for w in $want; do
        if printf '%s\n' "$d" | grep -q "^hv-dmesg=Hyper-V: $w"; then
            now="$now${now:+; }'$w'"
        else
            now="$now${now:+; }no '$w'"
            ok=1
        fi
    done
    for w in $not; do
        if printf '%s\n' "$d" | grep -q "^hv-dmesg=Hyper-V: $w"; then
            now="$now; '$w' though not offered"
            ok=1
        fi
    done
    IFS=$old
    return $ok
}

# Dependency modules must load, and so must every wanted one.
check_modules_load() {
    bad=''
    vmbus=$(val mod.hv_vmbus)
    for m in $(val modules-deps); do
        case $(val "mod.$m") in
        ok|builtin) ;;
        *) bad="$bad $m: $(val "mod.$m");" ;;
        esac
    done
    for m in $(val modules-wanted); do
        s=$(val "mod.$m")
        case $s in
        ok|builtin|missing) continue ;;
        esac
        bad="$bad $m: $s;"
    done
    if [ -z "$(val modules-wanted)" ]; then
        now="no module report"
        return 1
    fi
    if [ -n "$bad" ]; then
        now=${bad# }
        now=${now%;}
        return 1
    fi
    now="dependencies loaded; hv_vmbus: $vmbus"
}

check_hv_modules() {
    bad=
    for m in $(val modules-wanted); do
        case $(val "mod.$m") in
        ok|builtin|missing) ;;
        *) bad="$bad $m: $(val "mod.$m");" ;;
        esac
    done
    now=${bad# }
    now=${now%;}
    [ -n "$(val modules-wanted)" ] && [ -z "$bad" ] && now="all loaded"
    [ -z "$bad" ] && [ -n "$(val modules-wanted)" ]
}

check_hyperv_detected() {
    now="hypervisor=$(val hypervisor)"
    [ "$(val hypervisor)" = "Microsoft Hyper-V" ]
}

check_hv_clocksource() {
    now="clocksource=$(val clocksource)"
    case $(val clocksource) in
    hyperv_clocksource_tsc_page|hyperv_clocksource_msr) return 0 ;;
    esac
    return 1
}

check_stimer_clockevent() {
    ce=$(keys clockevent. | tr '\n' ' ')
    ce=${ce% }
    now="${ce:-no clockevent devices}"
    keys clockevent. | grep -q '=Hyper-V clockevent$'
}

# Linux 6.1 asks for 5.3 first; our bus speaks it.
check_vmbus_version() {
    v=$(val vmbus-version)
    now="vmbus-version=${v:-unreported}"
    [ "$v" = 5.3 ]
}

check_devices_bound() {
    n=$(val vmbus-devices)
    unbound=$(keys vmbus-dev. | grep -c 'driver=none$')
    now="${n:-0} VMBus devices, $unbound without a driver"
    [ "${n:-0}" -gt 0 ] 2>/dev/null && [ "$unbound" -eq 0 ]
}

# QEMU's own view while the guest ran (run.sh: host-view.py over QMP):
# the bus offered at the version the guest reports, and hv-balloon's
# channel open, since hv_balloon is bound, with its rings' indices as
# they should be (host-view.py's vmbus.rings).
h() { printf '%s\n' "$input" | sed -n "s/^HOST: $1=//p" | head -n 1; }
check_host_view() {
    state=$(h vmbus.state) hv=$(h vmbus.version) bal=$(h vmbus.dev.hv-balloon)
    rings=$(h vmbus.rings.hv-balloon)
    now="QEMU's view: state=${state:-unreported} version=${hv:-unreported} hv-balloon=${bal:-absent} rings=${rings:-unshown}"
    [ "$state" = offered ] && [ "$hv" = "$(val vmbus-version)" ] &&
        [ "$bal" = open ] && [ "$rings" = ok ]
}

# A balloon request over QMP (run.sh: a quarter of the guest's memory)
# shrinks the guest: hv-balloon reports the new size, and the guest's
# MemAvailable drops by at least half of what was asked.
check_balloon() {
    mb=$(val mem.before) ma=$(val mem.after)
    before=$(h balloon.before) target=$(h balloon.target) after=$(h balloon.after)
    now="query-balloon ${before:-?} -> ${after:-?} MiB (asked ${target:-?}, $(h balloon.took)s); guest MemAvailable ${mb#* } -> ${ma#* } kB"
    case "$before$target$after${mb#* }${ma#* }" in
    ''|*[!0-9]*) return 1 ;;
    esac
    [ "$after" -le $((target + 16)) ] &&
        [ $(( (${mb#* } - ${ma#* }) / 1024 )) -ge $(( (before - target) / 2 )) ]
}

# A VMBus device hot-plugged while the guest runs (vmbus-echo, which no
# driver binds) shows up in /sys/bus/vmbus/devices under its instance
# GUID; device_del completes (DEVICE_DELETED) once the guest released it,
# and it is gone from the guest.
check_hotplug() {
    n=$(val vmbus-devices) p=$(val vmbus.plugged) u=$(val vmbus.unplugged)
    inst=$(h hotplug.instance)
    now="device_add: $(h hotplug.add), guest sees ${p%% *} (was ${n:-?}); device_del: deleted=$(h hotplug.deleted) after $(h hotplug.del-took)s, guest sees ${u%% *}"
    [ "$(h hotplug.add)" = ok ] && [ -n "$inst" ] &&
        [ "${p%% *}" = $((n + 1)) ] && case " ${p#* } " in *" $inst "*) ;; *) false ;; esac &&
        [ "$(h hotplug.deleted)" = yes ] && [ "${u%% *}" = "$n" ] &&
        case " ${u#* } " in *" $inst "*) false ;; *) true ;; esac
}

# again N: the guest's Nth report (from its Nth init=started on) is
# complete, connected at the version of the first, with every VMBus
# device bound; nv, nd and nu say what it showed.
again() {
    nth=$(printf '%s\n' "$report" | awk -v want="$1" '/^init=started$/ { n++ } n == want')
    nv=$(printf '%s\n' "$nth" | sed -n 's/^vmbus-version=//p' | head -n 1)
    nd=$(printf '%s\n' "$nth" | sed -n 's/^vmbus-devices=//p' | head -n 1)
    nu=$(printf '%s\n' "$nth" | grep '^vmbus-dev\.' | grep -c 'driver=none$')
    [ -n "$nth" ] && [ "$nv" = "$(val vmbus-version)" ] &&
        [ "${nd:-0}" -gt 0 ] 2>/dev/null && [ "$nu" -eq 0 ] &&
        [ -n "$(printf '%s\n' "$nth" | sed -n 's/^done=//p')" ]
}

# After a reboot (the hold protocol's "reboot"), the guest reports again:
# connected at the same version, every VMBus device bound.
check_reboot() {
    again 2
    ok=$?
    now="reset: $(h reboot.action); after the reboot: vmbus-version=${nv:-unreported}, ${nd:-0} VMBus devices, $nu without a driver"
    return $ok
}

# After a kexec (the hold protocol's "kexec"; under TCG, whose initramfs
# carries the kernel to kexec into), the same: the kernel unloaded the
# bus on its way out, and the next one connected again.
check_kexec() {
    again 3
    ok=$?
    now="kexec load status $(val kexec.load); after the kexec: vmbus-version=${nv:-unreported}, ${nd:-0} VMBus devices, $nu without a driver"
    return $ok
}

# guest_ic NAME: the version hv_utils says it agreed on for service NAME
# ("Shutdown", "Heartbeat", "TimeSync"), the last time it said so.
guest_ic() {
    keys vmbus-dmesg= | sed -n "s/^vmbus-dmesg=hv_utils: $1 IC version //p" |
        tail -n 1
}

# The shutdown service (hv-shutdown): bound in the guest at the version
# QEMU shows, and system_powerdown over QMP (run.sh, after the kexec) made
# the guest's kernel power off in order through it.
check_shutdown_ic() {
    gv=$(guest_ic Shutdown)
    hs=$(h shutdown-ic.state) hv=$(h shutdown-ic.version)
    n=$(keys shutdown-ic= | grep -c '=poweroff$')
    now="guest: version ${gv:-none}; QEMU: ${hs:-unreported}, version ${hv:-unreported}; system_powerdown $(h shutdown-ic.powerdown); orderly poweroffs in the guest: $n"
    [ -n "$gv" ] && [ "$hs" = ready ] && [ "$hv" = "$gv" ] && [ "$n" -eq 1 ]
}

# The heartbeat service (hv-heartbeat, every second here): bound in the
# guest at the version QEMU shows, every answer right, and the guest
# still answering at the end (its sequence number moved on since the
# first look, across the reboot and the kexec).
check_heartbeat() {
    gv=$(guest_ic Heartbeat)
    hs=$(h heartbeat.state) hv=$(h heartbeat.version)
    s1=$(h heartbeat.last-seq) s2=$(h heartbeat-end.last-seq)
    now="guest: version ${gv:-none}; QEMU: ${hs:-unreported}, version ${hv:-unreported}, last sequence number ${s1:-unreported} then ${s2:-unreported}, $(h heartbeat.bad-answers) bad answers, $(h heartbeat.dropped) dropped"
    case $hs in ready|waiting) ;; *) return 1 ;; esac
    [ -n "$gv" ] && [ "$hv" = "$gv" ] && [ "$(h heartbeat.bad-answers)" = 0 ] &&
        [ "$(h heartbeat.dropped)" = 0 ] &&
        [ "${s1:-0}" -gt 0 ] 2>/dev/null && [ "${s2:-0}" -gt "$s1" ] 2>/dev/null
}

# The reboot of the hold protocol goes through the shutdown service
# (QMP hv-shutdown-guest action=reboot): the guest accepted it at a
# version that has reboot (3.1 or later), and its kernel rebooted in
# order; the reboot check then wants the second report.
check_shutdown_ic_reboot() {
    a=$(h shutdown-ic.reboot) v=$(h shutdown-ic.reboot-version)
    n=$(keys shutdown-ic= | grep -c '=reboot$')
    now="hv-shutdown-guest: ${a:-unreported} ($(h shutdown-ic.reboot-status)), version ${v:-unreported}; orderly reboots in the guest: $n"
    case $v in 3.[1-9]*) ;; *) return 1 ;; esac
    [ "$a" = accepted ] && [ "$n" -ge 1 ]
}

# After the kexec the guest unbinds hv_utils from the heartbeat
# (LINUX_HEARTBEAT_ID): HV_HEARTBEAT_LOST must come, at least lost-ms
# (10 s here) after the last answer.
check_heartbeat_lost() {
    l=$(h heartbeat.lost) u=$(keys unbind. | head -n 1)
    now="guest: ${u:-no unbind}; QMP: HV_HEARTBEAT_LOST ${l:-unreported} ms after heartbeat $(h heartbeat.lost-seq)"
    case $u in *=0) ;; *) return 1 ;; esac
    [ "${l:-0}" -ge 10000 ] 2>/dev/null
}

# The time sync service: bound at the version QEMU shows; the guest's
# wall clock within 1 s of the host's (its readings just before and
# just after the question) after the kexec, and again 5 s after a 30 s
# stop, for which the service sent a SYNC when the VM ran again; the
# same for the service's PTP clock ("hyperv", read with phc_ctl), which
# follows the host's messages.  clock_ok TAG [ptp].
clock_ok() {
    g=$(val "${2:-time}.$1") hst=$(h "time.$1")
    [ -n "$g" ] && [ -n "$hst" ] &&
        awk -v g="$g" -v a="${hst% *}" -v b="${hst#* }" \
            'BEGIN { exit !(g >= a - 1 && g <= b + 1) }'
}
clock_off() {
    awk -v g="$(val "${2:-time}.$1")" -v h="$(h "time.$1")" \
        'BEGIN { split(h, t, " "); printf "%+.3f s", g - t[1] }'
}
check_timesync() {
    gv=$(guest_ic TimeSync)
    hs=$(h timesync.state) hv=$(h timesync.version)
    s1=$(h timesync-before.syncs) s2=$(h timesync-after.syncs)
    now="guest: version ${gv:-none}; QEMU: ${hs:-unreported}, version ${hv:-unreported}, SYNCs ${s1:-?} then ${s2:-?}; the guest's clock against the host's: $(clock_off before) before, $(clock_off after) after a stop of $(h timesync.stopped) s; its hyperv PTP clock: $(clock_off before ptp) and $(clock_off after ptp)"
    case $hs in ready|waiting) ;; *) return 1 ;; esac
    [ -n "$gv" ] && [ "$hv" = "$gv" ] && [ "${s2:-0}" -gt "${s1:-0}" ] 2>/dev/null &&
        clock_ok before && clock_ok after &&
        clock_ok before ptp && clock_ok after ptp
}

# The KVP service (hv-kvp, read every second here; the guest's side is
# hv_kvp_daemon): bound at the version QEMU shows; query-hv-kvp shows the
# guest's name and the address of its dummy0; a key hv-kvp-set wrote is
# in the daemon's pool with its value, and gone after hv-kvp-delete.
check_kvp() {
    gv=$(guest_ic KVP) hv=$(h kvp.version) ip=$(h kvp.NetworkAddressIPv4)
    fq=$(h kvp.FullyQualifiedDomainName)
    now="guest: daemon $(val kvp-daemon), version ${gv:-none}; QEMU: $(h kvp.state), version ${hv:-unreported}, $(h kvp.readings) readings, name ${fq:-unreported}, OS $(h kvp.OSName), IPv4 ${ip:-unreported}; hv-kvp-set $(h kvp.set), the guest reads '$(val kvp.set)'; hv-kvp-delete $(h kvp.delete), the guest reads '$(val kvp.deleted)'"
    [ -n "$gv" ] && [ "$hv" = "$gv" ] || return 1
    case ";$ip;" in *";192.0.2.10;"*) ;; *) return 1 ;; esac
    [ "$fq" = hvtest-linux.example ] || return 1
    [ "$(h kvp.set)" = ok ] && [ "$(val kvp.set)" = "set by QEMU" ] &&
        [ "$(h kvp.delete)" = ok ] && [ "$(val kvp.deleted)" = "(absent)" ]
}

# Live migration with every service connected (run.sh, after the stop):
# completed; on the destination the VM runs and every service is bound
# again (the versions agreed anew on the channels the guest kept open),
# KVP read again, and the guest's clock within 1 s of the host's.  The
# checks after it (heartbeat-lost, shutdown-ic) run on the destination.
check_migrate() {
    svc=$(h migrate.services)
    now="$(h migrate.status) in $(h migrate.took) s (the source exited with $(h migrate.src-exit)); destination $(h migrate.dst), services (shutdown, heartbeat, time sync, KVP) ${svc:-unreported} after $(h migrate.services-took) s, KVP readings $(h migrate.kvp-readings), SYNCs $(h migrate.syncs); the guest's clock against the host's: $(clock_off migrated)"
    [ "$(h migrate.status)" = completed ] && [ "$(h migrate.dst)" = running ] &&
        [ "$(h migrate.src-exit)" = 0 ] &&
        echo ",$svc," | grep -Eq '^(,(ready|waiting)){4},$' &&
        [ "$(h migrate.kvp-readings)" -gt 0 ] 2>/dev/null && clock_ok migrated
}

# The time sync and KVP services where only QOM is at hand (the lab's
# HMP): bound at the versions the guest logged (time sync 4.0 where the
# guest has hv-time, which every lab mode gives it), KVP read.
check_services() {
    tv=$(guest_ic TimeSync) kv=$(guest_ic KVP)
    now="time sync: guest ${tv:-none}, QEMU $(h timesync.state) $(h timesync.version) ($(h timesync.syncs) SYNCs); KVP: guest ${kv:-none}, QEMU $(h kvp.state) $(h kvp.version) ($(h kvp.readings) readings)"
    case $(h timesync.state) in ready|waiting) ;; *) return 1 ;; esac
    case $(h kvp.state) in ready|waiting) ;; *) return 1 ;; esac
    [ "$tv" = 4.0 ] && [ "$(h timesync.version)" = "$tv" ] &&
        [ -n "$kv" ] && [ "$(h kvp.version)" = "$kv" ] &&
        [ "$(h kvp.readings)" -gt 0 ] 2>/dev/null
}

# The Hyper-V features the guest's CPUID shows (init.sh's cpuid.* lines),
# by libvirt's names for them (<hyperv> of the domain XML and of
# virsh domcapabilities): privileges in 0x40000003, hints in 0x40000004,
# nested features in 0x4000000A.  Spinlocks and the vendor ID are values,
# not bits: check_hyperv_features looks at them apart.
guest_features() {
    # hexw LEAF N: word N (1-4: eax-edx) of a cpuid line, as a number
    hexw() {
        x=$(val "cpuid.$1" | cut -d' ' -f"$2")
        case $x in ''|*[!0-9a-f]*) echo 0 ;; *) echo $((0x$x)) ;; esac
    }
    a3=$(hexw 40000003 1) d3=$(hexw 40000003 4) a4=$(hexw 40000004 1)
    a10=0
    [ "$(hexw 40000000 1)" -lt $((0x4000000a)) ] || a10=$(hexw 4000000a 1)
    gf=
    for m in "$a4 5 relaxed" "$a3 4 vapic" "$a3 6 vpindex" "$a3 0 runtime" \
             "$a3 2 synic" "$a3 3 stimer" "$a3 7 reset" "$a3 11 frequencies" \
             "$a3 13 reenlightenment" "$a4 2 tlbflush" "$a4 10 ipi" \
             "$a4 14 evmcs" "$a4 9 avic" "$d3 4 xmm_input" "$a10 19 emsr_bitmap"; do
        # shellcheck disable=SC2086 # "WORD BIT NAME"
        set -- $m
        [ $((($1 >> $2) & 1)) -eq 0 ] || gf="$gf $3"
    done
    gf=${gf# }
}

# listed WORD LIST: whether WORD is one of the words of LIST
listed() {
    case " $2 " in *" $1 "*) return 0 ;; esac
    return 1
}

# The guest picked the platform the host expected: Hyper-V, or KVM where
# the domain leaves KVM's signature visible (Linux prefers it).
check_platform() {
    want=$(h expect.platform)
    now="hypervisor=$(val hypervisor) (expected $want)"
    [ -n "$want" ] && [ "$(val hypervisor)" = "$want" ]
}

# The guest's CPUID offers exactly the features the host expected (the
# ones the domain asks for that virsh domcapabilities lists), Hyper-V's
# interface, and the spinlock retry count the domain sets.  Features the
# host's libvirt has no name for (HOST: expect.vocabulary) are shown apart.
check_hyperv_features() {
    guest_features
    want=$(h expect.features)
    # The interface signature "Hv#1" (the vendor ID may be anyone's:
    # under passthrough on the kernel path it is KVM's "Linux KVM Hv").
    sig=$(val cpuid.40000001 | cut -d' ' -f1)
    # shellcheck disable=SC2046 # the four words of the line
    set -- $(val cpuid.40000004) x x
    spin=$2
    vocab=$(h expect.vocabulary)
    extra='' missing='' unnamed=''
    for f in $gf; do
        if listed "$f" "$want"; then
            continue
        elif [ -z "$vocab" ] || listed "$f" "$vocab"; then
            extra="$extra $f"
        else
            unnamed="$unnamed $f"
        fi
    done
    for f in $want; do
        listed "$f" "$gf" || missing="$missing $f"
    done
    now="guest sees: ${gf:-nothing}${missing:+; missing:$missing}"
    now="$now${extra:+; not expected:$extra}"
    now="$now${unnamed:+; libvirt has no name for:$unnamed}"
    now="$now; spinlock retries 0x$spin"
    [ "$sig" = 31237648 ] ||
        now="$now; no Hv#1 interface (0x40000001 EAX ${sig:-unreported})"
    [ -z "$extra" ] && [ -z "$missing" ] && [ -n "$want" ] &&
        [ "$sig" = 31237648 ] &&
        { [ -z "$(h expect.spinlocks)" ] ||
          [ "$((0x$spin))" = "$(h expect.spinlocks)" ]; }
}

# virsh start, virsh reboot and virsh shutdown (tests/libvirt: the host
# writes what virsh said as HOST: libvirt.* lines).  Both go to QEMU as
# system_powerdown: where the guest bound the shutdown service
# (expect.powerdown=service) the service takes it and the guest's kernel
# powers off in order, and no button is pressed; elsewhere the power
# button is.  A reboot is libvirt resetting the powered-off guest: a
# second report, complete.  A shutdown powers off again, and the domain
# is shut off.
check_started() {
    now="virsh start: $(h libvirt.start)"
    [ "$(h libvirt.start)" = ok ]
}
presses() { printf '%s\n' "$report" | grep -c '^acpi=power-button$'; }
poweroffs() { printf '%s\n' "$report" | grep -c '^shutdown-ic=poweroff$'; }
powerdowns() {
    echo "$(presses) power button presses and $(poweroffs) poweroffs through the shutdown service seen (expected through: $(h expect.powerdown))"
}
check_libvirt_reboot() {
    second=missing
    printf '%s\n' "$report" | awk '/^init=started$/ { n++ } n == 2' |
        grep -q '^done=' && second=complete
    now="virsh reboot: $(h libvirt.reboot); $(powerdowns); second report $second"
    [ "$(h libvirt.reboot)" = ok ] && [ "$second" = complete ]
}
check_libvirt_shutdown() {
    now="virsh shutdown: $(h libvirt.shutdown); $(powerdowns)"
    [ "$(h libvirt.shutdown)" = "shut off" ] || return 1
    case $(h expect.powerdown) in
    service) [ "$(poweroffs)" -ge 2 ] && [ "$(presses)" -eq 0 ] ;;
    *) [ "$(presses)" -ge 2 ] ;;
    esac
}

fails=0
run() {
    c=$1 policy=$2
    now=
    "check_$(echo "$c" | tr - _)"
    ok=$?
    case $policy in
    enforce)
        if [ $ok -eq 0 ]; then
            echo "PASS: $name/$c ($now)"
        else
            echo "FAIL: $name/$c ($now)"
            fails=$((fails + 1))
        fi ;;
    BUS) echo "PENDING: $name/$c (now: $now; owned by $OWNER_BUS)" ;;
    esac
}

info() { echo "INFO: $name $*"; }
info "hypervisor=$(val hypervisor) clocksource=$(val clocksource) vmbus-version=$(val vmbus-version) vmbus-devices=$(val vmbus-devices)"
for m in $(val modules-wanted); do
    info "mod.$m=$(val "mod.$m")"
done
printf '%s\n' "$input" | grep 'qemu-system-x86_64: ' | head -n 5 | while IFS= read -r l; do
    info "qemu: ${l#*qemu-system-x86_64: }"
done

for c in $ENFORCED; do
    run "$c" enforce
done
for p in $PENDING; do
    run "${p%%:*}" "${p#*:}"
done
[ "$fails" -eq 0 ]
