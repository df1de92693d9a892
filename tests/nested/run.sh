#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# run.sh [options] -- ENTRY [FILE|DIR...]
#
# The nested lab (DESIGN.md 4.3): boot Debian's kernel as L1 with our QEMU
# under TCG (-cpu max gives L1 SVM, so L1's kvm-amd offers the in-kernel
# Hyper-V of the K path), with an initramfs holding busybox, the KVM modules,
# kvmcaps, our qemu-system-x86_64 with its libraries and firmware (and,
# with --upstream-qemu, pristine upstream's beside it), and the payload.  ENTRY and the FILEs/DIRs are copied into L1's /payload; L1's init
# runs `sh ENTRY` there with QEMU, FIRMWARE, PAYLOAD, HV_LAB=1 and ACCEL=kvm
# in the environment, then powers off.
#
# Output: the payload's PASS:/FAIL:/PENDING: (and INFO:, RETRY:, PLAN:)
# lines as they are, and the lab's own results: nested/l1-boot, nested/kvm-loaded,
# nested/cap-hyperv-synic2, nested/payload-complete (and nested/payload-
# results when the payload gave none, nested/l1-poweroff when L1 did not
# end by itself); with --name NAME they are nested/NAME/l1-boot and so on.
# The whole L1 console is kept in BUILD/tests/nested/console.log
# (console-NAME.log).
# Exit status 0 when nothing failed.
#
# Options:
#   --build DIR       build folder (default: <repo>/build)
#   --qemu PATH       L0 and L1 QEMU (default: BUILD/qemu/qemu-system-x86_64)
#   --firmware DIR    its firmware, as for -L (default: BUILD/firmware)
#   --upstream-qemu PATH   also put this QEMU (pristine 10.0.2, for the
#                     migration checks) into L1, at /opt/upstream/bin, with
#                     its libraries; the payload sees UPSTREAM_QEMU
#   --upstream-firmware DIR   its firmware, at /opt/upstream/firmware
#                     (UPSTREAM_FIRMWARE; default: the binary's folder's
#                     firmware/, where make upstream puts it)
#   --smp N           L1 vCPUs (default 2)
#   --timeout SEC     bound on the whole L1 run (default 1500); the payload
#                     gets this less 120 s
#   --tcg-thread single|multi   how L0 runs L1's vCPUs (default single:
#                     one thread, round robin; multi: one thread each,
#                     MTTCG).  Under MTTCG L1 was seen to stall for minutes
#                     while one of its CPUs ran an L2 guest, and L2 guests
#                     to reset; round robin is too slow for an L2 Linux
#                     with two vCPUs (docs/decisions.md)
#   --name NAME       name this L1 run (results nested/NAME/..., files
#                     console-NAME.log), for several runs one after another
#   --verbose         also show the whole L1 console on the terminal
set -euo pipefail

die() { echo "nested: $*" >&2; exit 2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
build=$top/build
qemu='' firmware='' smp=2 limit=1500 verbose='' up_qemu='' up_firmware=''
name='' tcg_thread=single

while [ $# -gt 0 ]; do
    case $1 in
    --build) build=${2:?--build needs a folder}; shift 2 ;;
    --qemu) qemu=${2:?--qemu needs a path}; shift 2 ;;
    --firmware) firmware=${2:?--firmware needs a folder}; shift 2 ;;
    --upstream-qemu) up_qemu=${2:?--upstream-qemu needs a path}; shift 2 ;;
    --upstream-firmware) up_firmware=${2:?--upstream-firmware needs a folder}; shift 2 ;;
    --smp) smp=${2:?--smp needs a number}; shift 2 ;;
    --timeout) limit=${2:?--timeout needs seconds}; shift 2 ;;
    --verbose) verbose=1; shift ;;
    --name) name=${2:?--name needs a word}; shift 2 ;;
    --tcg-thread) tcg_thread=${2:?--tcg-thread needs single or multi}; shift 2 ;;
    --) shift; break ;;
    *) die "unknown option '$1' (usage: run.sh [options] -- ENTRY [FILE|DIR...])" ;;
    esac
done
[ $# -ge 1 ] || die "no payload: usage: run.sh [options] -- ENTRY [FILE|DIR...]"
build=$(realpath -m "$build")
qemu=$(realpath -m "${qemu:-$build/qemu/qemu-system-x86_64}")
firmware=$(realpath -m "${firmware:-$build/firmware}")
if ! [[ $limit =~ ^[0-9]+$ ]] || [ "$limit" -lt 240 ]; then
    die "--timeout must be at least 240 s"
fi
[[ $smp =~ ^[1-9][0-9]*$ ]] || die "--smp needs a number of vCPUs"
case $tcg_thread in
single|multi) ;;
*) die "--tcg-thread takes single or multi" ;;
esac
[[ $name =~ ^[a-z0-9-]*$ ]] || die "--name takes lower-case letters, digits and '-'"
# R: the prefix of the lab's own results; sfx: of its files
R=nested${name:+/$name}
sfx=${name:+-$name}

[ -x "$qemu" ] || die "$qemu is missing: build it first (make qemu)"
[ -f "$firmware/bios-256k.bin" ] ||
    die "$firmware has no bios-256k.bin: run make qemu (scripts/link-firmware.sh)"
if [ -n "$up_qemu" ]; then
    up_qemu=$(realpath -m "$up_qemu")
    up_firmware=$(realpath -m "${up_firmware:-$(dirname "$up_qemu")/firmware}")
    [ -x "$up_qemu" ] || die "$up_qemu is missing: build it first (make upstream)"
    [ -f "$up_firmware/bios-256k.bin" ] ||
        die "$up_firmware has no bios-256k.bin: run make upstream"
elif [ -n "$up_firmware" ]; then
    die "--upstream-firmware needs --upstream-qemu"
fi
for t in gcc cpio gzip ldd timeout; do
    command -v "$t" >/dev/null || die "'$t' is missing: run scripts/host-setup.sh"
done
for f in "$@"; do
    [ -e "$f" ] || die "payload file $f does not exist"
done
entry=$(basename "$1")

# shellcheck source=../lib/initramfs.sh
. "$top/tests/lib/initramfs.sh"

work=$build/tests/nested
mkdir -p "$work"
rel=$("$top/tests/lib/fetch-kernel.sh" "$build")
kroot=$build/tests/kernel

# kvmcaps is static: L1 has no C library besides the ones QEMU pulls in.
if [ ! -x "$work/kvmcaps" ] || [ "$here/kvmcaps.c" -nt "$work/kvmcaps" ]; then
    gcc -static -O2 -Wall -o "$work/kvmcaps.tmp" "$here/kvmcaps.c" ||
        die "cannot build kvmcaps statically: install libc6-dev (scripts/host-setup.sh)"
    mv "$work/kvmcaps.tmp" "$work/kvmcaps"
fi

# kvm-no-hyperv.so hides L1's in-kernel Hyper-V from the QEMU it is
# preloaded into (run-suites.sh's kvm-nohv mode); it needs only the C
# library that QEMU brings along.
if [ ! -f "$work/kvm-no-hyperv.so" ] ||
    [ "$here/kvm-no-hyperv.c" -nt "$work/kvm-no-hyperv.so" ]; then
    gcc -shared -fPIC -O2 -Wall -Werror -o "$work/kvm-no-hyperv.so.tmp" \
        "$here/kvm-no-hyperv.c" ||
        die "cannot build kvm-no-hyperv.so: install gcc and linux-libc-dev (scripts/host-setup.sh)"
    mv "$work/kvm-no-hyperv.so.tmp" "$work/kvm-no-hyperv.so"
fi

root=$work/root
initrd=$work/l1-initrd.gz
echo "nested: assembling L1 initramfs (kernel $rel)"
ird_new "$root"
ird_busybox "$root"
ird_file "$root" "$here/init.sh" /init 0755
ird_file "$root" "$here/../lib/init-early.sh" /lib/init-early.sh 0644
ird_file "$root" "$work/kvmcaps" /bin/kvmcaps 0755
ird_file "$root" "$work/kvm-no-hyperv.so" /opt/qemu/lib/kvm-no-hyperv.so 0755
ird_modules "$root" "$kroot" "$rel" irqbypass kvm ccp kvm_amd
ird_elf "$root" "$qemu" /opt/qemu/bin/qemu-system-x86_64
# copy_firmware SRC DEST: files only: keymaps and descriptors are not used
# without a display.
copy_firmware() {
    local f
    mkdir -p "$2"
    for f in "$1"/*; do
        if [ -f "$f" ]; then
            cp -L "$f" "$2/"
        fi
    done
}
copy_firmware "$firmware" "$root/opt/qemu/firmware"
if [ -n "$up_qemu" ]; then
    # The same library set as ours: ird_elf adds only what is missing.
    ird_elf "$root" "$up_qemu" /opt/upstream/bin/qemu-system-x86_64
    copy_firmware "$up_firmware" "$root/opt/upstream/firmware"
fi
mkdir -p "$root/payload"
for f in "$@"; do
    cp -rL "$f" "$root/payload/"
done
printf 'ENTRY=%s\nPAYLOAD_TIMEOUT=%s\n' "$entry" $((limit - 120)) >"$root/etc/lab.conf"
ird_pack "$root" "$initrd"
echo "$R: L1 initramfs $(du -m "$initrd" | cut -f1) MiB; booting L1 (TCG, -smp $smp, bound ${limit}s)"

console=$work/console$sfx.log
qerr=$work/qemu-stderr$sfx.log
counts=$work/counts$sfx
: >"$console"
rm -f "$counts"
pass=0 fail=0 pending=0 payres=0 payfail=0
booted='' kvm='' synic2='' up='' started='' ended='' t_boot='' t_pay=''
t0=$(date +%s.%N)
secs() { echo "$(date +%s.%N) $t0" | awk '{ printf "%.1f", $1 - $2 }'; }
result() {
    echo "$1"
    case $1 in
    PASS:*) pass=$((pass + 1)) ;;
    FAIL:*) fail=$((fail + 1)) ;;
    PENDING:*) pending=$((pending + 1)) ;;
    esac
}

# nrip-save=off: QEMU 10.0.2's TCG advertises SVM's NRIP save but never
# writes the VMCB's next_rip, so L1's KVM would take a stale value (one it
# wrote itself when injecting a soft interrupt) for the end of the next
# instruction it skips.
set +e
timeout --kill-after=10 "$limit" "$qemu" -L "$firmware" \
    -accel tcg,thread="$tcg_thread" -cpu max,nrip-save=off \
    -m 2048 -smp "$smp" \
    -nodefaults -display none -no-reboot -serial stdio -monitor none \
    -kernel "$kroot/boot/vmlinuz-$rel" -initrd "$initrd" \
    -append "console=ttyS0 tsc=reliable quiet loglevel=3 panic=-1 mitigations=off" \
    </dev/null 2>"$qerr" | {
    # Read the console as it comes (no buffering filter in between), so
    # that the times measured here are those at which L1 printed.
    while IFS= read -r line; do
        line=${line%$'\r'}
        printf '%s\n' "$line" >>"$console"
        [ -z "$verbose" ] || echo "L1| $line" >&2
        case $line in
        PASS:*|FAIL:*|PENDING:*)
            result "$line"
            payres=$((payres + 1))
            case $line in FAIL:*) payfail=$((payfail + 1)) ;; esac ;;
        "LAB: init=started")
            booted=1
            t_boot=$(secs)
            result "PASS: $R/l1-boot (init ran after ${t_boot}s)" ;;
        "LAB: kvm=present")
            kvm=1
            result "PASS: $R/kvm-loaded (/dev/kvm present)" ;;
        "LAB: kvm=missing")
            kvm=0
            result "FAIL: $R/kvm-loaded (no /dev/kvm; see the LAB: module lines in $console)" ;;
        "LAB: module."*=error*)
            echo "  ${line#LAB: }" ;;
        "INFO: "*|"RETRY: "*|"PLAN: "*)
            echo "$line" ;;
        "CAP: "*)
            echo "  $line"
            case $line in
            "CAP: HYPERV_SYNIC2="*)
                synic2=${line#*=}
                if [ "$synic2" -gt 0 ] 2>/dev/null; then
                    result "PASS: $R/cap-hyperv-synic2 (KVM_CAP_HYPERV_SYNIC2=$synic2)"
                else
                    result "FAIL: $R/cap-hyperv-synic2 (KVM_CAP_HYPERV_SYNIC2=$synic2 in L1)"
                fi ;;
            esac ;;
        "LAB: uptime-at-init="*)
            up=${line#*=} ;;
        "LAB: payload-start="*)
            started=$(secs) ;;
        "LAB: payload-exit="*)
            ended=$(secs)
            rc=${line#*=}
            t_pay=$(echo "$ended $started" | awk '{ printf "%.1f", $1 - $2 }')
            if [ "$rc" = 0 ]; then
                result "PASS: $R/payload-complete ($entry finished in ${t_pay}s)"
            elif [ "$rc" = timeout ]; then
                result "FAIL: $R/payload-complete ($entry timed out after ${t_pay}s)"
            elif [ "$payfail" -gt 0 ]; then
                # Its own FAIL lines already count; do not count them twice.
                echo "  payload $entry exited $rc after ${t_pay}s"
            else
                result "FAIL: $R/payload-complete ($entry exited '$rc' without a FAIL line)"
            fi ;;
        esac
    done
    # What never showed up is a failure too, named so that it can be found.
    tail=" (see $console and $qerr)"
    [ -n "$booted" ] || result "FAIL: $R/l1-boot (L1 init never reported$tail)"
    [ -n "$booted" ] && [ -z "$kvm" ] &&
        result "FAIL: $R/kvm-loaded (L1 stopped before checking /dev/kvm$tail)"
    [ -n "$booted" ] && [ -z "$synic2" ] &&
        result "FAIL: $R/cap-hyperv-synic2 (no answer from kvmcaps: no /dev/kvm or L1 stopped$tail)"
    [ -n "$booted" ] && [ -z "$ended" ] &&
        result "FAIL: $R/payload-complete (L1 stopped before the payload ended$tail)"
    [ -z "$ended" ] || [ "$payres" -gt 0 ] ||
        result "FAIL: $R/payload-results ($entry printed no PASS/FAIL line)"
    echo "$R: time l1-boot=${t_boot:-?}s (L1 uptime ${up:-?}s) payload=${t_pay:-?}s total=$(secs)s"
    echo "$pass $fail $pending" >"$counts"
}
status=("${PIPESTATUS[@]}")
set -e
read -r pass fail pending <"$counts" || die "the console parser died before counting"
# L1 powers itself off: any other end of L0's QEMU is a failure.
if [ "${status[0]}" -ne 0 ]; then
    if [ "${status[0]}" -eq 124 ] || [ "${status[0]}" -eq 137 ]; then
        echo "FAIL: $R/l1-poweroff (L1 still running after ${limit}s; killed)"
    else
        echo "FAIL: $R/l1-poweroff (L0 QEMU exited ${status[0]}: $(tail -n 1 "$qerr"))"
    fi
    fail=$((fail + 1))
fi
echo "$R: $pass PASS, $fail FAIL, $pending PENDING"
[ "$fail" -eq 0 ]
