#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Write a patch against the QEMU 10.0.2 tarball.  Copy the upstream files
# you change to build/edit/<path> (from build/src/.pristine/<path>), edit
# them there, then:
#
#   mkpatch.sh HEADER OUT.patch FILE...   new patch; HEADER holds the
#                                         subject line, a blank line, why
#   mkpatch.sh --refresh OUT.patch        same files and description as the
#                                         patch already has
#
# FILE is a path inside the QEMU tree.  The Signed-off-by line is git's
# configured identity.
set -euo pipefail

die() { echo "mkpatch: $*" >&2; exit 1; }
top=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-$top/build}
pristine=$B/src/.pristine
[ -d "$pristine" ] || die "$pristine missing: run make first"

if [ "${1:-}" = --refresh ]; then
    out=${2:?usage: mkpatch.sh --refresh OUT.patch}
    hdr=$(mktemp)
    trap 'rm -f "$hdr"' EXIT
    # The description is everything before the "---" separator.
    sed -n '/^---$/q; /^Signed-off-by:/d; p' "$out" >"$hdr"
    mapfile -t files < <(sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "$out")
    [ "${#files[@]}" -gt 0 ] || die "$out changes no file"
else
    hdr=${1:?usage: mkpatch.sh HEADER OUT FILE...}
    out=${2:?usage: mkpatch.sh HEADER OUT FILE...}
    shift 2
    files=("$@")
fi
sob="$(git -C "$top" config user.name) <$(git -C "$top" config user.email)>"
body=$(cat "$hdr")
{
    printf '%s\n\n' "$body"
    echo "Signed-off-by: $sob"
    echo "---"
    for f in "${files[@]}"; do
        [ -f "$B/edit/$f" ] || die "$B/edit/$f missing"
        (cd "$B" && diff -u --label "a/$f" --label "b/$f" "src/.pristine/$f" "edit/$f") || true
    done
} >"$out.new"
mv "$out.new" "$out"
echo "mkpatch: wrote $out"
