#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# check-builds.sh SRC OUT FIRMWARE [NAME...]: configure the overlaid QEMU
# tree SRC in the configurations that distributions and developers use,
# each in a folder OUT/<name> of its own, build only their emulators
# (ninja qemu-system-*), and print one line per configuration:
#
#   PASS: builds/<name>
#   FAIL: builds/<name> (<step>), followed by the end of its log
#
# A configuration with a smoke command also starts its x86_64 emulator
# once (firmware from FIRMWARE, as made by scripts/link-firmware.sh).
# NAME picks configurations; without one, all run.  BUILD_JOBS (default:
# the number of cores) is ninja's -j; BUILD_LOAD, if set, its -l (no new
# job while the load average is above it).  Compiles go through
# ccache (CCACHE_DIR and CCACHE_BASEDIR come from the Makefile): QEMU's
# configure names the compiler to meson, which then adds no ccache of its
# own, so it is part of CC.  The exit status is 0 only when every
# configuration passed.
# docs/decisions.md says why these configurations and not others.
set -euo pipefail

usage="usage: check-builds.sh SRC OUT FIRMWARE [NAME...]"
src=${1:?$usage}
out=${2:?$usage}
firmware=${3:?$usage}
shift 3
die() { echo "check-builds: $*" >&2; exit 1; }
[ -x "$src/configure" ] || die "$src is not a QEMU source tree (no configure)"
[ -d "$firmware" ] || die "$firmware missing: make builds it"
mkdir -p "$out"
src=$(realpath "$src") out=$(realpath "$out") firmware=$(realpath "$firmware")
command -v ninja >/dev/null || die "ninja is missing: run scripts/host-setup.sh"
command -v ccache >/dev/null || die "ccache is missing: run scripts/host-setup.sh"
export CC="ccache ${CC:-cc}"

# What every configuration has: the main build's options, less what an
# emulator does not need.
COMMON=(--enable-tcg --enable-fdt=system --disable-docs --disable-install-blobs
        --disable-tools --disable-guest-agent --python=/usr/bin/python3
        --enable-werror)

# name | configure options | ninja targets | smoke test
CONFIGS=(
    "tcg+or1k+user|--target-list=x86_64-softmmu,or1k-softmmu,x86_64-linux-user --disable-kvm|qemu-system-x86_64 qemu-system-or1k qemu-x86_64|hyperv"
    "no-default-devices|--target-list=x86_64-softmmu --enable-kvm --without-default-devices|qemu-system-x86_64|"
)

# Start the x86_64 emulator under TCG with the user path, the SynIC core
# and both devices that need it, and stop it again: everything realizes.
# shellcheck disable=SC2317 # called as smoke_<name>
smoke_hyperv() {
    local dir=$1
    printf '%s\n' '{"execute": "qmp_capabilities"}' '{"execute": "quit"}' |
        timeout 60 "$dir/qemu-system-x86_64" -L "$firmware" -M q35 -accel tcg \
            -cpu qemu64,hv-vpindex,hv-synic,hv-time,hv-stimer \
            -device hyperv-testdev -device vmbus-bridge \
            -nodefaults -display none -S -qmp stdio
}

# Configure (again only when the options changed) and build one
# configuration; the log is OUT/<name>/check-builds.log.
build_one() {
    local name=$1 opts=$2 targets=$3 smoke=$4 dir=$out/$1 flags
    flags="${COMMON[*]} $opts"
    mkdir -p "$dir"
    if [ ! -f "$dir/build.ninja" ] ||
       [ "$(cat "$dir/.configure-flags" 2>/dev/null)" != "CC=$CC $flags" ]; then
        # shellcheck disable=SC2086 # the options are words
        (cd "$dir" && "$src/configure" $flags) ||
            { echo "configure failed"; return 1; }
        echo "CC=$CC $flags" >"$dir/.configure-flags"
    fi
    # -k 0: every error of the configuration in one run, not just the first.
    # shellcheck disable=SC2086
    ninja -C "$dir" -j"${BUILD_JOBS:-$(nproc)}" ${BUILD_LOAD:+-l "$BUILD_LOAD"} \
        -k 0 $targets || { echo "build failed"; return 1; }
    if [ -n "$smoke" ]; then
        "smoke_$smoke" "$dir" || { echo "the smoke test failed"; return 1; }
    fi
}

status=0
ran=0
for c in "${CONFIGS[@]}"; do
    IFS='|' read -r name opts targets smoke <<<"$c"
    if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then
        continue
    fi
    ran=$((ran + 1))
    mkdir -p "$out/$name"
    log=$out/$name/check-builds.log
    start=$SECONDS
    if build_one "$name" "$opts" "$targets" "$smoke" >"$log" 2>&1; then
        echo "PASS: builds/$name ($((SECONDS - start)) s)"
    else
        echo "FAIL: builds/$name ($(tail -n 1 "$log"); log in $log)"
        # The first errors, then the end of the log (long command lines cut).
        grep -m 20 -E ': (fatal )?error:|undefined reference|^FAILED:|ERROR:' \
            "$log" | cut -c 1-300 | sed 's/^/    /' || true
        tail -n 15 "$log" | cut -c 1-300 | sed 's/^/    | /'
        status=1
    fi
done
[ "$ran" -gt 0 ] || die "no configuration named: $*"
exit $status
