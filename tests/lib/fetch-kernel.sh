#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# fetch-kernel.sh [BUILD]: make Debian's stock amd64 kernel available to the
# nested lab and the Linux-guest tests, and print its release (uname -r).
#
#   BUILD/dl/linux-image-<rel>_<ver>_amd64.deb   the package (one kept)
#   BUILD/tests/kernel/boot/vmlinuz-<rel>         the kernel
#   BUILD/tests/kernel/lib/modules/<rel>/         its modules, with modules.dep
#   BUILD/tests/kernel/.stamp                     which package is unpacked
#
# linux-image-amd64 is only a metapackage: its Depends names the real
# linux-image-<rel>-amd64 package, whose candidate version we fetch with
# `apt-get download` from the sources the host already uses.  Debian ships no
# modules.dep in the package (its postinst runs depmod), so we run depmod on
# the unpacked tree.  A second run with the same candidate does nothing.
set -euo pipefail

die() { echo "fetch-kernel: $*" >&2; exit 1; }
say() { echo "fetch-kernel: $*" >&2; }

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(realpath -m "${1:-$top/build}")
dl=$build/dl
kdir=$build/tests/kernel
meta=linux-image-amd64

for t in apt-cache apt-get dpkg-deb depmod; do
    command -v "$t" >/dev/null ||
        die "'$t' is missing: run scripts/host-setup.sh (needs apt, dpkg, kmod)"
done

# The real package behind the metapackage, e.g. linux-image-6.1.0-56-amd64.
pkg=$(apt-cache depends "$meta" 2>/dev/null |
      sed -n 's/^ *|\{0,1\}Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1)
[ -n "$pkg" ] ||
    die "apt knows no $meta with a linux-image-*-amd64 dependency: run scripts/host-setup.sh (apt-get update)"
ver=$(apt-cache policy "$pkg" | sed -n 's/^ *Candidate: *//p')
if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
    die "apt has no candidate version of $pkg: run scripts/host-setup.sh (apt-get update)"
fi
rel=${pkg#linux-image-}
# apt-get download writes an epoch's ':' as '%3a' in the file name.
deb=$dl/${pkg}_${ver//:/%3a}_amd64.deb
want="$pkg $ver"

if [ -f "$kdir/.stamp" ] && [ "$(cat "$kdir/.stamp")" = "$want" ] &&
   [ -f "$kdir/boot/vmlinuz-$rel" ] && [ -s "$kdir/lib/modules/$rel/modules.dep" ]; then
    echo "$rel"
    exit 0
fi

# The kernel already unpacked, if it is whole: "release" or nothing.
unpacked() {
    local r
    [ -f "$kdir/.stamp" ] || return 0
    r=$(sed -n 's/^linux-image-\(.*\) .*/\1/p' "$kdir/.stamp")
    [ -n "$r" ] && [ -f "$kdir/boot/vmlinuz-$r" ] && [ -s "$kdir/lib/modules/$r/modules.dep" ] &&
        echo "$r"
    return 0
}

mkdir -p "$dl"
if [ ! -s "$deb" ]; then
    say "downloading $pkg $ver"
    # apt-get download only writes into the current directory.
    if ! (cd "$dl" && timeout 900 apt-get download -q "$pkg=$ver") >&2 || [ ! -s "$deb" ]; then
        old=$(unpacked)
        # A newer kernel that cannot be fetched now does not stop the tests
        # when an older one is at hand; say which one they use.
        if [ -n "$old" ]; then
            say "WARNING: cannot download $pkg $ver; using the unpacked $(cat "$kdir/.stamp")"
            echo "$old"
            exit 0
        fi
        die "apt-get download $pkg=$ver failed: check the network and apt sources (scripts/host-setup.sh)"
    fi
fi
# Keep one kernel package: drop those of other releases or versions.
for old in "$dl"/linux-image-*-amd64_*_amd64.deb; do
    [ -e "$old" ] && [ "$old" != "$deb" ] && rm -f "$old"
done

say "unpacking $(basename "$deb") into $kdir"
tmp=$kdir.new
rm -rf "$tmp"
mkdir -p "$tmp"
dpkg-deb -x "$deb" "$tmp" || die "dpkg-deb -x $deb failed (corrupt download? delete it and retry)"
[ -f "$tmp/boot/vmlinuz-$rel" ] || die "$deb has no boot/vmlinuz-$rel"
[ -d "$tmp/lib/modules/$rel" ] || die "$deb has no lib/modules/$rel"
depmod -b "$tmp" "$rel" || die "depmod failed on $tmp/lib/modules/$rel"
echo "$want" >"$tmp/.stamp"
rm -rf "$kdir"
mv "$tmp" "$kdir"
echo "$rel"
