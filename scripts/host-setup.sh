#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Install the Debian packages the build and the tests need.  Idempotent: a
# second run with everything present does nothing but check.
#
# Debian 12 takes meson >= 1.5 and python3-pycotap from bookworm-backports;
# Debian 13 has them in its main suite.  Sources for `apt-get source` come from
# deb-src twins of the system's own Debian entries: we copy the URIs the
# machine already uses and never name a mirror ourselves.
set -euo pipefail

die() { echo "host-setup: $*" >&2; exit 1; }

PKGS=(
    build-essential gcc-multilib ninja-build pkg-config ccache git xz-utils bzip2
    python3 python3-venv python3-pip
    libglib2.0-dev libpixman-1-dev libfdt-dev zlib1g-dev libslirp-dev
    flex bison dpkg-dev rsync cpio kmod
    seabios ipxe-qemu busybox-static kexec-tools hyperv-daemons linuxptp
    libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
)
BACKPORT_PKGS=(meson python3-pycotap)
LIST=/etc/apt/sources.list.d/qemu-hyperv-overlay.sources

SUDO=
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || die "run as root or install sudo"
    SUDO=sudo
fi

. /etc/os-release
case "${VERSION_CODENAME:-}" in
bookworm) BPO=bookworm-backports ;;
trixie|forky|sid) BPO= ;;
*) die "unsupported distribution '${PRETTY_NAME:-unknown}': Debian 12 or 13 is needed" ;;
esac

# Print "URI<TAB>suite<TAB>components<TAB>signed-by" for every binary Debian
# entry of the system, in both the one-line and the deb822 formats.
system_entries() {
    python3 - <<'PY'
import glob, re
out = []
def add(uri, suites, comps, key):
    for s in suites:
        out.append((uri, s, " ".join(comps), key))
for f in glob.glob("/etc/apt/sources.list") + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
    for line in open(f):
        line = line.split("#", 1)[0].strip()
        m = re.match(r"deb\s+(\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.*)", line)
        if m:
            opts = m.group(1) or ""
            k = re.search(r"signed-by=(\S+?)[\s\]]", opts)
            add(m.group(2), [m.group(3)], m.group(4).split(), k.group(1) if k else "")
for f in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    if f.endswith("qemu-hyperv-overlay.sources"):
        continue
    for para in re.split(r"\n\s*\n", open(f).read()):
        fields = {}
        for line in para.splitlines():
            if line.startswith("#") or ":" not in line:
                continue
            k, v = line.split(":", 1)
            fields[k.strip().lower()] = v.strip()
        if "deb" not in fields.get("types", "").split():
            continue
        if fields.get("enabled", "yes").lower() == "no":
            continue
        for uri in fields.get("uris", "").split():
            add(uri, fields.get("suites", "").split(),
                fields.get("components", "main").split(), fields.get("signed-by", ""))
for e in out:
    print("\t".join(e))
PY
}

write_sources() {
    local tmp entries uri suite comps key main_uri= main_key= dist
    tmp=$(mktemp)
    entries=$(system_entries)
    [ -n "$entries" ] || die "no Debian entries found in /etc/apt; cannot add deb-src"
    echo "# Written by qemu-hyperv-overlay scripts/host-setup.sh" >"$tmp"
    while IFS=$'\t' read -r uri suite comps key; do
        {
            echo
            echo "Types: deb-src"
            echo "URIs: $uri"
            echo "Suites: $suite"
            echo "Components: $comps"
            [ -z "$key" ] || echo "Signed-By: $key"
        } >>"$tmp"
        dist=${suite%%-*}
        if [ "$suite" = "$dist" ] && [ -z "$main_uri" ]; then
            main_uri=$uri
            main_key=$key
        fi
    done <<<"$entries"
    if [ -n "$BPO" ]; then
        [ -n "$main_uri" ] || die "no main Debian suite found to derive $BPO from"
        {
            echo
            echo "Types: deb deb-src"
            echo "URIs: $main_uri"
            echo "Suites: $BPO"
            echo "Components: main"
            [ -z "$main_key" ] || echo "Signed-By: $main_key"
        } >>"$tmp"
    fi
    # Debian's QEMU 10.0.2 source is in bookworm-backports (and was in
    # trixie before its point releases moved on): on Debian 13 a deb-src of
    # that suite is the fallback from which the 10.0.2 tarball is fetched.
    if [ -z "$BPO" ]; then
        {
            echo
            echo "Types: deb-src"
            echo "URIs: $main_uri"
            echo "Suites: bookworm-backports"
            echo "Components: main"
            [ -z "$main_key" ] || echo "Signed-By: $main_key"
        } >>"$tmp"
    fi
    if ! cmp -s "$tmp" "$LIST"; then
        echo "host-setup: writing $LIST"
        $SUDO install -m 0644 "$tmp" "$LIST"
        rm -f "$tmp"
        return 0
    fi
    rm -f "$tmp"
    return 1
}

missing() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"
    done
}

meson_ok() {
    command -v meson >/dev/null &&
        dpkg --compare-versions "$(meson --version 2>/dev/null || echo 0)" ge 1.5
}

updated=
if write_sources || [ ! -e /var/lib/apt/lists/lock ] ||
   ! ls /var/lib/apt/lists/*_source_Sources* >/dev/null 2>&1; then
    echo "host-setup: apt-get update"
    $SUDO apt-get update -q || die "apt-get update failed; check the network and /etc/apt"
    updated=1
fi

need=$(missing "${PKGS[@]}" "${BACKPORT_PKGS[@]}")
if [ -n "$need" ] || ! meson_ok; then
    [ -n "$updated" ] || $SUDO apt-get update -q || die "apt-get update failed"
    echo "host-setup: installing:" $need
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086
    [ -z "$(missing "${PKGS[@]}")" ] ||
        $SUDO apt-get install -y -q --no-install-recommends $(missing "${PKGS[@]}") ||
        die "apt-get install failed for:" $(missing "${PKGS[@]}")
    if [ -n "$BPO" ]; then
        $SUDO apt-get install -y -q --no-install-recommends -t "$BPO" "${BACKPORT_PKGS[@]}" ||
            die "cannot install ${BACKPORT_PKGS[*]} from $BPO"
    else
        $SUDO apt-get install -y -q --no-install-recommends "${BACKPORT_PKGS[@]}" ||
            die "cannot install ${BACKPORT_PKGS[*]}"
    fi
fi
meson_ok || die "meson >= 1.5 is needed; found $(meson --version 2>/dev/null || echo none)"
echo "host-setup: all packages present"
