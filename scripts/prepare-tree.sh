#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# prepare-tree.sh TARBALL DEST [overlay]
#
# Make DEST the QEMU 10.0.2 source tree: the tarball, then patches/base.series
# (what Debian's +ds tarball needs to build), and with "overlay" also our files
# (hw/ include/ target/ tests/qtest/ tests/unit/ of this repository) and patches/series.
#
# The tree is composed in a staging folder and copied into DEST with rsync
# --checksum, so only files whose content changed get a new modification
# time: after one overlay file is edited, ninja rebuilds only what uses it;
# after a patch is edited or removed, DEST is again exactly tarball + series.
# PRISTINE names the folder of the unpacked tarball (default: .pristine
# beside DEST), so that two trees can share one.
set -euo pipefail

die() { echo "prepare-tree: $*" >&2; exit 1; }

tarball=${1:?usage: prepare-tree.sh TARBALL DEST [overlay]}
dest=${2:?usage: prepare-tree.sh TARBALL DEST [overlay]}
mode=${3:-}
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(dirname "$dest")
pristine=${PRISTINE:-$work/.pristine}
stage=$work/.stage-$(basename "$dest")
mkdir -p "$work"

command -v rsync >/dev/null || die "rsync is missing: run scripts/host-setup.sh"

# The unpacked tarball is kept read-only and remade only when
# the tarball changes.
if [ ! -f "$pristine/.tarball" ] ||
   [ "$(cat "$pristine/.tarball")" != "$(realpath "$tarball")" ] ||
   [ "$tarball" -nt "$pristine/.tarball" ]; then
    echo "prepare-tree: unpacking $(basename "$tarball")"
    rm -rf "$pristine"
    mkdir -p "$pristine"
    tar -xJf "$tarball" -C "$pristine" --strip-components=1 ||
        die "cannot unpack $tarball"
    [ "$(cat "$pristine/VERSION")" = 10.0.2 ] ||
        die "$tarball is QEMU $(cat "$pristine/VERSION"), not 10.0.2"
    realpath "$tarball" >"$pristine/.tarball"
fi

rm -rf "$stage"
cp -a "$pristine" "$stage"
rm -f "$stage/.tarball"

apply_series() {
    local series=$1 dir p n=0
    dir=$(dirname "$series")
    [ -f "$series" ] || return 0
    while read -r p; do
        case "$p" in ''|'#'*) continue ;; esac
        [ -f "$dir/$p" ] || die "$series names $p, which does not exist"
        if ! patch -p1 -d "$stage" --batch --forward --quiet --no-backup-if-mismatch \
                -r - <"$dir/$p" >"$work/.patch.log" 2>&1; then
            cat "$work/.patch.log" >&2
            die "patch $p does not apply to QEMU 10.0.2; refresh it against the tarball"
        fi
        n=$((n + 1))
    done <"$series"
    echo "prepare-tree: applied $n patches of $(basename "$series")"
}

apply_series "$top/patches/base.series"
if [ "$mode" = overlay ]; then
    n=0
    while IFS= read -r f; do
        mkdir -p "$stage/$(dirname "$f")"
        cp "$top/$f" "$stage/$f"
        n=$((n + 1))
    done < <(cd "$top" && find hw include target tests/qtest tests/unit -type f 2>/dev/null | sort)
    echo "prepare-tree: copied $n overlay files"
    apply_series "$top/patches/series"
fi

mkdir -p "$dest"
rsync -rlc --delete --out-format='prepare-tree: updated %n' "$stage/" "$dest/" |
    grep -v '/$' | head -n 50 || true
rm -rf "$stage" "$work/.patch.log"
