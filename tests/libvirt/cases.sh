#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# cases.sh PATH TYPE EMULATOR WORK: the libvirt layer on one path
# (tests/libvirt/README.md).  Starts Debian's libvirt daemon, lets it
# drive EMULATOR through the three domains of domain.sh, and stops it.
# POSIX sh: run.sh runs it on the host (TCG), in-lab.sh in the nested
# lab's busybox (its KVM, with and without in-kernel Hyper-V).
#
#   PATH      the name in the results: libvirt/PATH/...  (tcg, kvm,
#             kvm-nohv), and what the path is expected to offer
#   TYPE      the domain type: qemu (TCG) or kvm
#   EMULATOR  the QEMU binary (or a script that runs it)
#   WORK      an empty folder the daemon's user may write, holding
#             vmlinuz and initrd.gz of tests/linux; the daemon's files
#             (config, sockets, logs) and the consoles go there too
#
# The daemon runs unprivileged, as HV_LIBVIRT_UID (default 65534, nobody),
# with qemu:///session, so that it touches nothing outside WORK: no
# system daemon, no /etc/libvirt, no /run/libvirt.  Needs util-linux's
# setpriv (or SETPRIV, its path), libvirtd and virsh; evaluate.sh of
# tests/linux beside this script, or in LINUX_EVALUATE.  Exit status 0
# when no check failed.

here=$(cd "$(dirname "$0")" && pwd)
path=${1:?usage: cases.sh PATH TYPE EMULATOR WORK}
type=${2:?usage: cases.sh PATH TYPE EMULATOR WORK}
emulator=${3:?usage: cases.sh PATH TYPE EMULATOR WORK}
work=${4:?usage: cases.sh PATH TYPE EMULATOR WORK}
uid=${HV_LIBVIRT_UID:-65534}
setpriv=${SETPRIV:-setpriv}
evaluate=${LINUX_EVALUATE:-$here/evaluate.sh}
# HV_LIBVIRT_KINDS narrows the domains down (by hand, when looking into one).
# A boot under TCG takes about 30 s (report at guest uptime 4 s), in the
# lab about 15 s; these bound each wait.
boot_limit=${HV_LIBVIRT_BOOT_LIMIT:-240}
status=0
R=libvirt/$path

# pass CHECK TEXT..., fail CHECK TEXT...: a result line
pass() { _r=$1; shift; echo "PASS: $R/$_r ($*)"; }
fail() { _r=$1; shift; echo "FAIL: $R/$_r ($*)"; status=1; }
info() { echo "INFO: $R $*"; }
# oneline N TEXT: TEXT on one line, N characters at most
oneline() { printf '%s' "$2" | tr '\n' ' ' | cut -c "1-$1"; }
# listed WORD LIST: whether WORD is one of the words of LIST
listed() {
    case " $2 " in *" $1 "*) return 0 ;; esac
    return 1
}

# as_user CMD...: CMD as the daemon's user, with its session's folders
as_user() {
    "$setpriv" --reuid="$uid" --regid="$uid" --clear-groups \
        env HOME="$work/home" XDG_RUNTIME_DIR="$work/run" \
        XDG_CONFIG_HOME="$work/config" XDG_CACHE_HOME="$work/cache" \
        PATH="$PATH" "$@"
}
# virsh ARGS...: bounded, on the session daemon
virsh() {
    as_user timeout 120 virsh -q -c qemu:///session "$@"
}

for f in vmlinuz initrd.gz; do
    [ -f "$work/$f" ] || { fail daemon "$work/$f is missing"; exit 1; }
done
[ -f "$evaluate" ] || { fail daemon "$evaluate is missing"; exit 1; }
for c in "$setpriv" libvirtd virsh; do
    command -v "$c" >/dev/null && continue
    fail daemon "$c is missing: install libvirt-daemon," \
        "libvirt-daemon-driver-qemu, libvirt-clients"
    exit 1
done

# --- the daemon ----------------------------------------------------------
mkdir -p "$work/home" "$work/run" "$work/config/libvirt" "$work/cache"
# QEMU's output in a plain file: no virtlogd to start.
echo 'stdio_handler = "file"' >"$work/config/libvirt/qemu.conf"
echo "log_outputs = \"3:file:$work/libvirtd.log\"" \
    >"$work/config/libvirt/libvirtd.conf"
chown -R "$uid:$uid" "$work"
chmod 0755 "$work"
sock=$work/run/libvirt/libvirt-sock
as_user libvirtd >"$work/libvirtd.out" 2>&1 &
daemon=$!
i=0
while [ "$i" -lt 150 ] && [ ! -S "$sock" ] && kill -0 "$daemon" 2>/dev/null; do
    sleep 0.2
    i=$((i + 1))
done
if [ -S "$sock" ] && [ "$(virsh uri 2>&1)" = qemu:///session ]; then
    pass daemon "$(libvirtd --version | head -n 1)," \
        "unprivileged (uid $uid), qemu:///session"
else
    fail daemon "libvirtd did not come up: $(oneline 300 "$(tail -n 3 \
        "$work/libvirtd.out" "$work/libvirtd.log" 2>/dev/null)")"
    kill "$daemon" 2>/dev/null
    exit 1
fi

# stop_daemon: destroy what still runs, then stop the daemon (bounded)
stop_daemon() {
    for d in $(virsh list --name 2>/dev/null); do
        virsh destroy "$d" >/dev/null 2>&1
    done
    kill "$daemon" 2>/dev/null
    i=0
    while [ "$i" -lt 50 ] && kill -0 "$daemon" 2>/dev/null; do
        sleep 0.2
        i=$((i + 1))
    done
    kill -9 "$daemon" 2>/dev/null
    wait "$daemon" 2>/dev/null
}

# --- domcapabilities ---------------------------------------------------------
# What the hyperv section of domcapabilities lists, against what the path
# implements: our own emulation offers a known set (TCG: libvirt's whole
# Windows set; KVM without in-kernel Hyper-V: all but vapic and tlbflush,
# docs/decisions.md), the kernel path at least the Windows set.
win_set="relaxed vapic spinlocks vpindex runtime synic stimer reset"
win_set="$win_set frequencies tlbflush ipi"
caps=$(virsh domcapabilities --emulatorbin "$emulator" --virttype "$type" \
    --arch x86_64 --machine q35 2>&1)
dc=$(printf '%s\n' "$caps" | awk '
    /<hyperv supported=.yes.>/ { h = 1 }
    h && /<value>/ { gsub(/.*<value>|<\/value>.*/, ""); printf "%s ", $0 }
    /<\/hyperv>/ { h = 0 }')
dc=${dc% }
case $path in
tcg) want="$win_set vendor_id avic" exact=1 ;;
kvm-nohv)
    want="relaxed spinlocks vpindex runtime synic stimer reset vendor_id"
    want="$want frequencies ipi avic" exact=1 ;;
*) want=$win_set exact= ;;
esac
miss='' more=''
for f in $want; do
    listed "$f" "$dc" || miss="$miss $f"
done
if [ -n "$exact" ]; then
    for f in $dc; do
        listed "$f" "$want" || more="$more $f"
    done
fi
if [ -n "$dc" ] && [ -z "$miss$more" ]; then
    pass domcapabilities "hyperv: $dc"
else
    fail domcapabilities "hyperv: ${dc:-none ($(oneline 200 "$caps"))}${miss:+;" \
        "missing:$miss}${more:+; not implemented here:$more}"
fi
# The names libvirt has for Hyper-V features (its domain schema): the
# guest may see features this libvirt cannot name (libvirt 9.0 has no
# xmm_input, no emsr_bitmap); those are shown, not held against it.
schema=${HV_LIBVIRT_SCHEMA:-/usr/share/libvirt/schemas/domaincommon.rng}
vocab=$(awk '
    /<define name="hyperv">/ { h = 1 }
    h && /<element name="/ {
        sub(/.*<element name="/, ""); sub(/".*/, ""); printf "%s ", $0
    }
    h && /<\/define>/ { exit }' "$schema" 2>/dev/null)
[ -n "$vocab" ] || fail domcapabilities "no Hyper-V names in $schema"
# The boolean features, which the guest's CPUID shows (evaluate.sh's
# guest_features); spinlocks and vendor_id are values.
dc_bits=
for f in $dc; do
    case $f in spinlocks|vendor_id) ;; *) dc_bits="$dc_bits $f" ;; esac
done

# --- the domains -----------------------------------------------------------------
# wait_for WHAT N: until the console has N lines "LINUX: WHAT" (or the bound)
wait_for() {
    j=0
    while [ "$j" -lt $((boot_limit * 5)) ] &&
          [ "$(grep -c "^LINUX: $1" "$console" 2>/dev/null)" -lt "$2" ]; do
        sleep 0.2
        j=$((j + 1))
    done
    [ "$j" -lt $((boot_limit * 5)) ]
}
# state: the domain's state as virsh says it
state() { virsh domstate "hv-$kind" 2>&1 | head -n 1; }

for kind in ${HV_LIBVIRT_KINDS:-windows passthrough linux-hidden}; do
    console=$work/$kind.console
    hostf=$work/$kind.host
    rm -f "$console"
    : >"$hostf"
    sh "$here/domain.sh" "$kind" "$type" "$emulator" "$work" >"$work/$kind.xml"
    chown "$uid:$uid" "$work/$kind.xml"
    t0=$(cut -d' ' -f1 /proc/uptime)
    out=$(virsh define "$work/$kind.xml" 2>&1) &&
        out=$(virsh start "hv-$kind" 2>&1) && out=ok
    echo "HOST: libvirt.start=$(oneline 300 "$out")" >>"$hostf"
    if [ "$out" = ok ]; then
        wait_for acpi-wait=ready 1
        # virsh reboot: libvirt presses the power button and, once the
        # guest has powered off, resets it (its "fake reboot").
        out=$(virsh reboot "hv-$kind" 2>&1) && out=ok
        echo "HOST: libvirt.reboot=$(oneline 200 "$out")" >>"$hostf"
        [ "$out" != ok ] || wait_for acpi-wait=ready 2
        out=$(virsh shutdown "hv-$kind" 2>&1) && out=ok
        if [ "$out" = ok ]; then
            j=0
            while [ "$j" -lt 300 ] && [ "$(state)" != "shut off" ]; do
                sleep 0.2
                j=$((j + 1))
            done
            out=$(state)
        fi
        echo "HOST: libvirt.shutdown=$(oneline 200 "$out")" >>"$hostf"
        [ "$(state)" = "shut off" ] || virsh destroy "hv-$kind" >/dev/null 2>&1
    fi
    t1=$(cut -d' ' -f1 /proc/uptime)
    virsh undefine "hv-$kind" >/dev/null 2>&1

    # What the host expects the guest to see.  Linux prefers KVM's
    # signature to Hyper-V's where both are there (KVM, unless hidden).
    case $path:$kind in
    kvm*:windows|kvm*:passthrough) platform=KVM ;;
    *) platform="Microsoft Hyper-V" ;;
    esac
    case $kind in
    passthrough) feats=$dc_bits spin= ;;
    *)
        feats=
        for f in $win_set; do
            ! listed "$f" "$dc_bits" || feats="$feats $f"
        done
        spin=8191 ;;
    esac
    # On KVM without in-kernel Hyper-V our emulation recommends EOI over
    # AutoEOI whatever the domain asks (the hint hv-avic sets; KVM's APIC
    # cannot auto-EOI, see docs/decisions.md, "AutoEOI on KVM").
    if [ "$path" = kvm-nohv ] && ! listed avic "$feats"; then
        feats="$feats avic"
    fi
    # Where Linux picks Hyper-V it binds the shutdown service, which then
    # takes libvirt's powerdowns (system_powerdown) from the button.
    via=service
    [ "$platform" != KVM ] || via=acpi
    {
        echo "HOST: expect.platform=$platform"
        echo "HOST: expect.powerdown=$via"
        echo "HOST: expect.features=${feats# }"
        echo "HOST: expect.vocabulary=$vocab"
        [ -z "$spin" ] || echo "HOST: expect.spinlocks=$spin"
    } >>"$hostf"
    checks="started boot kernel-log platform hyperv-features"
    checks="$checks libvirt-reboot libvirt-shutdown"
    [ "$platform" = KVM ] || checks="$checks hv-clocksource"
    [ "$platform" = KVM ] ||
        checks="$checks stimer-clockevent vmbus-version devices-bound"
    cat "$console" "$hostf" 2>/dev/null >"$work/$kind.eval"
    # The whole console (a panic says more than the report), for logs.
    tr -d '\r' <"$console" 2>/dev/null | sed "s|^|$path/$kind\| |" \
        >>"$work/consoles.txt"
    warn=$(grep -h 'qemu-system-x86_64: ' \
        "$work/cache/libvirt/qemu/log/hv-$kind.log" 2>/dev/null |
        sed 's/.*qemu-system-x86_64: //' | grep -v '^terminating on signal' |
        sort -u | tr '\n' ' ')
    took=$(echo "$t1 $t0" | awk '{ printf "%.0f", $1 - $2 }')
    info "$kind: ran ${took}s${warn:+; QEMU said: $warn}"
    LINUX_CHECKS=$checks LINUX_NAME=$R/$kind \
        sh "$evaluate" "$path" 0 <"$work/$kind.eval" ||
        status=1
done

stop_daemon
# HV_LIBVIRT_DEBUG=1 (by hand): QEMU's CPU state at each reset (domain.sh)
# after the consoles.
[ -z "${HV_LIBVIRT_DEBUG:-}" ] ||
    grep -a -h -v 'kvm_run_exit.*reason [^8]' "$work"/*.resets 2>/dev/null |
    grep -a 'CPU Reset\|^RIP\|^EAX\|^CR0\|^IDT\|^CS \|^EFER\|kvm_run\|hv_emu' |
    sed 's/^/resets| /' >>"$work/consoles.txt"
exit $status
