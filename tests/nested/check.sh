#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# check.sh [options]: `make check-nested`.  Runs the nested lab (run.sh)
# with lab-check.sh as the payload: the guest tests (tests/guest), the
# migration checks (migrate.sh, ours and upstream QEMU 10.0.2 in both
# directions), the Linux-guest test (tests/linux) and the libvirt layer
# (tests/libvirt) on L1's KVM, inside L1.
#
# Options (the rest as for run.sh):
#   --build DIR          build folder (default: <repo>/build)
#   --guest-dir DIR      the guest tests' runner folder (default: tests/guest)
#   --guest-image FILE   the test guest (default: BUILD/tests/guest/hvtest.elf)
#   --guest-filter PAT   only the guest cases whose name matches the shell
#                        pattern PAT (default: $GUEST_CASE_FILTER, else all)
#   --guest-accels LIST  run-suites.sh accelerator modes to run in L1, space-
#                        separated: kvm (the K path), kvm-u (the user path
#                        forced on L1's KVM), kvm-nohv (L1's KVM with its
#                        Hyper-V hidden, so QEMU picks the user path itself);
#                        default all three
#   --guest-only         only the guest tests: no migration, no Linux guest
#   --parts LIST         what L1 runs, of guest, migrate, linux and libvirt
#                        (default the first three; --guest-only is --parts
#                        guest; make check-nested runs libvirt after linux
#                        in one boot)
#   --libvirt-nohv-kinds LIST  the libvirt domains run on KVM without
#                        in-kernel Hyper-V (default all three: windows
#                        passthrough linux-hidden)
#   --qemu, --firmware, --upstream-qemu, --upstream-firmware, --smp,
#   --timeout, --name, --tcg-thread, --verbose   passed to run.sh.
#                        --upstream-qemu defaults to
#                        BUILD/up/qemu/qemu-system-x86_64 (make upstream);
#                        without one, the migration pairs with upstream FAIL
set -euo pipefail

die() { echo "nested: $*" >&2; exit 2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
build=$top/build
guest_dir=$top/tests/guest
image=
up_given=
guest_filter=${GUEST_CASE_FILTER:-}
guest_accels='kvm kvm-u kvm-nohv'
parts='guest migrate linux'
libvirt_nohv='windows passthrough linux-hidden'
pass=()

while [ $# -gt 0 ]; do
    case $1 in
    --build) build=${2:?--build needs a folder}; shift 2 ;;
    --guest-dir) guest_dir=${2:?--guest-dir needs a folder}; shift 2 ;;
    --guest-image) image=${2:?--guest-image needs a file}; shift 2 ;;
    --guest-filter) guest_filter=${2:?--guest-filter needs a pattern}; shift 2 ;;
    --guest-accels) guest_accels=${2:?--guest-accels needs a list}; shift 2 ;;
    --guest-only) parts=guest; shift ;;
    --parts) parts=${2:?--parts needs a list}; shift 2 ;;
    --libvirt-nohv-kinds)
        libvirt_nohv=${2:?--libvirt-nohv-kinds needs a list}; shift 2 ;;
    --upstream-qemu) up_given=1; pass+=("$1" "${2:?$1 needs a path}"); shift 2 ;;
    --qemu|--firmware|--upstream-firmware|--smp|--timeout|--name|--tcg-thread)
        pass+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
    --verbose) pass+=("$1"); shift ;;
    *) die "unknown option '$1' (see the header of $0)" ;;
    esac
done
build=$(realpath -m "$build")
case $guest_filter in
*"'"*) die "--guest-filter: the pattern must not hold an apostrophe" ;;
esac
for a in $guest_accels; do
    case $a in
    kvm|kvm-u|kvm-nohv) ;;
    *) die "--guest-accels: unknown mode '$a' (kvm, kvm-u or kvm-nohv)" ;;
    esac
done
for p in $parts; do
    case $p in
    guest|migrate|linux|libvirt) ;;
    *) die "--parts: unknown part '$p' (guest, migrate, linux, libvirt)" ;;
    esac
done
for k in $libvirt_nohv; do
    case $k in
    windows|passthrough|linux-hidden) ;;
    *) die "--libvirt-nohv-kinds: unknown domain '$k' (windows, passthrough, linux-hidden)" ;;
    esac
done
# has PART: whether this run includes it
has() {
    case " $parts " in *" $1 "*) return 0 ;; esac
    return 1
}
image=${image:-$build/tests/guest/hvtest.elf}
if [ -z "$up_given" ] && has migrate; then
    if [ -x "$build/up/qemu/qemu-system-x86_64" ]; then
        pass+=(--upstream-qemu "$build/up/qemu/qemu-system-x86_64")
    else
        echo "nested: no upstream QEMU ($build/up/qemu/qemu-system-x86_64): the migration pairs with upstream will fail; run make upstream" >&2
    fi
fi

# Stage the payload: /payload/lab-check.sh, /payload/lab.env (what to
# run), /payload/guest/, /payload/linux/.
stage=$build/tests/nested/stage
rm -rf "$stage"
mkdir -p "$stage"
{
    echo "GUEST_CASE_FILTER='${guest_filter:-*}'"
    echo "GUEST_ACCELS='$guest_accels'"
    echo "LAB_PARTS='$parts'"
    echo "LIBVIRT_NOHV_KINDS='$libvirt_nohv'"
    # Migration pairs by hand (migrate.sh's MIGRATE_PAIRS); all by default.
    [ -z "${MIGRATE_PAIRS:-}" ] || echo "export MIGRATE_PAIRS='$MIGRATE_PAIRS'"
} >"$stage/lab.env"
if has linux; then
    "$top/tests/linux/build-initramfs.sh" "$build"
    mkdir -p "$stage/linux"
    for f in in-lab.sh qemu-args.sh evaluate.sh; do
        cp "$top/tests/linux/$f" "$stage/linux/"
    done
    cp "$build/tests/linux/vmlinuz" "$build/tests/linux/initrd.gz" "$stage/linux/"
fi
if has libvirt; then
    # The libvirt layer (tests/libvirt) on L1's KVM: the host's libvirt
    # goes along, with the same Linux guest.
    has linux || "$top/tests/linux/build-initramfs.sh" "$build"
    mkdir -p "$stage/libvirt"
    cp "$top/tests/libvirt/in-lab.sh" "$top/tests/libvirt/cases.sh" \
        "$top/tests/libvirt/domain.sh" "$top/tests/linux/evaluate.sh" \
        "$build/tests/linux/vmlinuz" "$build/tests/linux/initrd.gz" "$stage/libvirt/"
    "$top/tests/libvirt/lab-root.sh" "$stage/libvirt/root"
fi
# Missing guest tests are reported by lab-check.sh as a FAIL, in L1, so
# that the Linux part still runs; say here what to do about it.
if [ -f "$guest_dir/run-suites.sh" ] && [ -f "$image" ]; then
    mkdir -p "$stage/guest"
    cp -rL "$guest_dir"/. "$stage/guest/"
    cp -L "$image" "$stage/guest/hvtest.elf"
else
    echo "nested: guest tests missing ($guest_dir/run-suites.sh or $image): build them first" >&2
fi

payload=("$here/lab-check.sh" "$stage/lab.env")
! has migrate || payload+=("$here/migrate.sh")
! has linux || payload+=("$stage/linux")
! has libvirt || payload+=("$stage/libvirt")
[ ! -d "$stage/guest" ] || payload+=("$stage/guest")
exec "$here/run.sh" --build "$build" "${pass[@]}" -- "${payload[@]}"
