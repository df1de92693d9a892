#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# fetch-qemu.sh DEST: put Debian's qemu_10.0.2+ds.orig.tar.xz at DEST and
# check its sha256.  QEMU_TARBALL=/path takes a given tarball of the same
# version instead: Debian's (checked by its sha256) or upstream's
# qemu-10.0.2.tar.xz (checked by the VERSION file inside).
set -euo pipefail

die() { echo "fetch-qemu: $*" >&2; exit 1; }

dest=${1:?usage: fetch-qemu.sh DEST}
ORIG=qemu_10.0.2+ds.orig.tar.xz
SHA256=0901da33844a331bf8b3602b9c1fbd178e60b737c8e3ade678255bd090c9b9f1

mkdir -p "$(dirname "$dest")"
if [ -n "${QEMU_TARBALL:-}" ]; then
    [ -r "$QEMU_TARBALL" ] || die "QEMU_TARBALL=$QEMU_TARBALL is not a readable file"
    sum=$(sha256sum "$QEMU_TARBALL" | cut -d' ' -f1)
    if [ "$sum" = "$SHA256" ]; then
        echo "fetch-qemu: $QEMU_TARBALL is Debian's $ORIG (sha256 verified)"
    else
        # Upstream's qemu-10.0.2.tar.xz or another packaging of the same
        # release: accepted when its own VERSION file says 10.0.2.
        tar -xOf "$QEMU_TARBALL" --wildcards '*/VERSION' 2>/dev/null | grep -qx '10.0.2' ||
            die "$QEMU_TARBALL is not QEMU 10.0.2 (sha256 $sum, no VERSION 10.0.2 inside)"
        echo "fetch-qemu: $QEMU_TARBALL says VERSION 10.0.2 (sha256 $sum)"
    fi
    ln -sfn "$(realpath "$QEMU_TARBALL")" "$dest"
    exit 0
fi

if [ ! -e "$dest" ]; then
    # Any Debian revision of 10.0.2+ds carries the same orig tarball.
    ver=$(apt-cache showsrc qemu 2>/dev/null |
          sed -n 's/^Version: \(.*:10\.0\.2+ds-.*\)$/\1/p' | head -n 1)
    [ -n "$ver" ] || die "no qemu 10.0.2+ds source in apt; run scripts/host-setup.sh (it adds deb-src entries)"
    tmp=$(mktemp -d "$(dirname "$dest")/apt-src.XXXXXX")
    echo "fetch-qemu: apt-get source --download-only qemu=$ver"
    chmod 755 "$tmp"
    # Only the orig tarball matters (its checksum is checked below); a
    # missing .dsc or .debian.tar.xz on the archive is not an error here.
    (cd "$tmp" && apt-get source -q --download-only --only-source "qemu=$ver") \
        >"$tmp.log" 2>&1 || true
    if [ ! -f "$tmp/$ORIG" ]; then
        cat "$tmp.log" >&2
        rm -rf "$tmp" "$tmp.log"
        die "apt-get source qemu=$ver did not fetch $ORIG"
    fi
    rm -f "$tmp.log"
    mv "$tmp/$ORIG" "$dest.part"
    rm -rf "$tmp"
    mv "$dest.part" "$dest"
fi
sum=$(sha256sum "$dest" | cut -d' ' -f1)
if [ "$sum" != "$SHA256" ]; then
    mv "$dest" "$dest.bad"
    die "$ORIG has sha256 $sum, expected $SHA256 (moved to $dest.bad); delete it and retry, or set QEMU_TARBALL"
fi
echo "fetch-qemu: $ORIG verified"
