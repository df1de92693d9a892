#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# check.sh [options]: `make check-nested`.  Runs the nested lab (run.sh)
# with lab-check.sh as the payload: the guest tests (tests/guest), the
# migration checks (migrate.sh, ours and upstream QEMU 10.0.2 in both
# directions) and the Linux-guest test (tests/linux) on the kernel path,
# inside L1.
#
# Options (the rest as for run.sh):
#   --build DIR          build folder (default: <repo>/build)
#   --guest-dir DIR      the guest tests' runner folder (default: tests/guest)
#   --guest-image FILE   the test guest (default: BUILD/tests/guest/hvtest.elf)
#   --qemu, --firmware, --upstream-qemu, --upstream-firmware, --smp,
#   --timeout, --verbose   passed to run.sh.  --upstream-qemu defaults to
#                        BUILD/upstream/qemu-system-x86_64 (make upstream);
#                        without one, the migration pairs with upstream FAIL
set -euo pipefail

die() { echo "nested: $*" >&2; exit 2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
build=$top/build
guest_dir=$top/tests/guest
image=
up_given=
pass=()

while [ $# -gt 0 ]; do
    case $1 in
    --build) build=${2:?--build needs a folder}; shift 2 ;;
    --guest-dir) guest_dir=${2:?--guest-dir needs a folder}; shift 2 ;;
    --guest-image) image=${2:?--guest-image needs a file}; shift 2 ;;
    --upstream-qemu) up_given=1; pass+=("$1" "${2:?$1 needs a path}"); shift 2 ;;
    --qemu|--firmware|--upstream-firmware|--smp|--timeout)
        pass+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
    --verbose) pass+=("$1"); shift ;;
    *) die "unknown option '$1' (see the header of $0)" ;;
    esac
done
build=$(realpath -m "$build")
image=${image:-$build/tests/guest/hvtest.elf}
if [ -z "$up_given" ]; then
    if [ -x "$build/upstream/qemu-system-x86_64" ]; then
        pass+=(--upstream-qemu "$build/upstream/qemu-system-x86_64")
    else
        echo "nested: no upstream QEMU ($build/upstream/qemu-system-x86_64): the migration pairs with upstream will fail; run make upstream" >&2
    fi
fi

"$top/tests/linux/build-initramfs.sh" "$build"

# Stage the payload: /payload/lab-check.sh, /payload/guest/, /payload/linux/.
stage=$build/tests/nested/stage
rm -rf "$stage"
mkdir -p "$stage/linux"
for f in in-lab.sh qemu-args.sh evaluate.sh; do
    cp "$top/tests/linux/$f" "$stage/linux/"
done
cp "$build/tests/linux/vmlinuz" "$build/tests/linux/initrd.gz" "$stage/linux/"
# Missing guest tests are reported by lab-check.sh as a FAIL, in L1, so
# that the Linux part still runs; say here what to do about it.
if [ -f "$guest_dir/run-suites.sh" ] && [ -f "$image" ]; then
    mkdir -p "$stage/guest"
    cp -rL "$guest_dir"/. "$stage/guest/"
    cp -L "$image" "$stage/guest/hvtest.elf"
else
    echo "nested: guest tests missing ($guest_dir/run-suites.sh or $image): build them first" >&2
fi

payload=("$here/lab-check.sh" "$here/migrate.sh" "$stage/linux")
[ ! -d "$stage/guest" ] || payload+=("$stage/guest")
exec "$here/run.sh" --build "$build" "${pass[@]}" -- "${payload[@]}"
