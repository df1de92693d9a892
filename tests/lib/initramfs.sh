# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Helpers to assemble a small initramfs (cpio newc, gzip) for the nested lab
# and the Linux-guest tests.  Source this file from a bash script running
# with `set -euo pipefail`; every helper dies with a one-line message naming
# what is missing.
#
#   ird_new DIR                        empty tree (removed first: idempotent)
#   ird_busybox DIR                    /bin/busybox from busybox-static
#   ird_modules DIR KROOT REL MOD...   modules and their dependencies, plus
#                                      DIR/etc/modules.load (load order)
#   ird_elf DIR SRC DEST               a dynamic ELF (program or shared
#                                      object), stripped of debug info,
#                                      with every library ldd names
#   ird_file DIR SRC DEST [MODE]       one file, symlinks dereferenced
#   ird_pack DIR OUT                   DIR as OUT (gzip'd newc cpio)
#
# modules.load has one line per module, in an order that loads every
# dependency first: "NAME PATH ROLE DEPS", ROLE being "want" (asked for) or
# "dep" (pulled in), DEPS the modules NAME needs, comma-separated, or "-".
# PATH is "-" with ROLE "builtin" for a module built into the kernel, and
# "missing" for an optional module (MOD written "name?") that this kernel
# lacks.  Modules are stored uncompressed because busybox insmod
# hands the file to the kernel as is.

ird_die() { echo "initramfs: $*" >&2; exit 1; }

ird_new() {
    local dir=$1
    rm -rf "$dir"
    mkdir -p "$dir"/{bin,sbin,dev,proc,sys,tmp,etc,lib,lib64,usr/bin,usr/sbin}
}

ird_busybox() {
    local dir=$1 bb
    bb=$(command -v busybox || true)
    [ -n "$bb" ] || ird_die "busybox is missing: run scripts/host-setup.sh (busybox-static)"
    # A dynamic busybox would need its libraries too: insist on the static one.
    if ldd "$bb" >/dev/null 2>&1; then
        ird_die "$bb is not static: install busybox-static (scripts/host-setup.sh)"
    fi
    cp -L "$bb" "$dir/bin/busybox"
}

# ird_modname VAR PATH: set VAR to the module name as the kernel spells it
# ('-' and '_' are the same).  No subshell: modules.dep has thousands of
# lines.
ird_modname() {
    local _ird_m=${2##*/}
    _ird_m=${_ird_m%%.ko*}
    printf -v "$1" '%s' "${_ird_m//-/_}"
}

ird_modules() {
    local dir=$1 kroot=$2 rel=$3
    shift 3
    local mdir=$kroot/lib/modules/$rel
    [ -s "$mdir/modules.dep" ] ||
        ird_die "$mdir/modules.dep is missing: run tests/lib/fetch-kernel.sh"

    local -A path=() deps=() builtin=() seen=() want=()
    local line key rest d n
    while IFS= read -r line; do
        key=${line%%:*}
        rest=${line#*:}
        ird_modname n "$key"
        path[$n]=$key
        deps[$n]=
        for d in $rest; do
            ird_modname d "$d"
            deps[$n]+=" $d"
        done
    done <"$mdir/modules.dep"
    if [ -f "$mdir/modules.builtin" ]; then
        while IFS= read -r line; do
            ird_modname n "$line"
            builtin[$n]=1
        done <"$mdir/modules.builtin"
    fi

    local order=() lines=()
    # Depth-first: a module is emitted after everything it depends on.
    # modules.dep is acyclic, so the recursion ends.
    ird_visit() {
        local m=$1 x
        [ -z "${seen[$m]:-}" ] || return 0
        seen[$m]=1
        for x in ${deps[$m]}; do
            ird_visit "$x"
        done
        order+=("$m")
    }

    local arg opt
    for arg in "$@"; do
        opt=
        ird_modname n "${arg%\?}"
        [ "$arg" = "${arg%\?}" ] || opt=1
        want[$n]=1
        if [ -n "${path[$n]:-}" ]; then
            ird_visit "$n"
        elif [ -n "${builtin[$n]:-}" ]; then
            lines+=("$n - builtin -")
        elif [ -n "$opt" ]; then
            lines+=("$n - missing -")
        else
            ird_die "module $n is neither in $mdir/modules.dep nor built in"
        fi
    done

    mkdir -p "$dir/lib/modules/$rel"
    local src dst role
    for n in "${order[@]}"; do
        src=$mdir/${path[$n]}
        dst=/lib/modules/$rel/$n.ko
        case $src in
        *.ko) cp "$src" "$dir$dst" ;;
        *.ko.xz) xz -dc "$src" >"$dir$dst" ;;
        *.ko.gz) gzip -dc "$src" >"$dir$dst" ;;
        *.ko.zst)
            command -v zstd >/dev/null || ird_die "zstd is missing: install zstd to unpack $src"
            zstd -qdc "$src" >"$dir$dst" ;;
        *) ird_die "unknown module format: $src" ;;
        esac
        role=dep
        [ -z "${want[$n]:-}" ] || role=want
        d=${deps[$n]# }
        d=${d// /,}
        lines+=("$n $dst $role ${d:--}")
    done
    printf '%s\n' "${lines[@]}" >"$dir/etc/modules.load"
    unset -f ird_visit
}

# Copy SRC to DIR/DEST, then every library the dynamic loader resolves for
# it, each at the path ldd prints (the loader included), so that it runs in
# a root without ld.so.cache.
ird_elf() {
    local dir=$1 src=$2 dest=$3 line lib
    [ -f "$src" ] || ird_die "$src is missing"
    mkdir -p "$dir$(dirname "$dest")"
    if command -v strip >/dev/null; then
        strip --strip-debug -o "$dir$dest" "$src" || ird_die "strip failed on $src"
    else
        cp -L "$src" "$dir$dest"
    fi
    local out
    out=$(ldd "$src" 2>&1) || ird_die "ldd $src failed: $out"
    # ldd prints "name => /path (addr)", or "/path (addr)" for the loader,
    # each line indented with a tab; read strips that.
    while read -r line; do
        case $line in
        *"=> not found"*) ird_die "$src needs a library the host lacks: ${line%% *}" ;;
        *"=> /"*) lib=${line#*=> } ;;
        /*) lib=$line ;;
        *) continue ;;
        esac
        lib=${lib%% (*}
        [ -f "$dir$lib" ] && continue
        mkdir -p "$dir$(dirname "$lib")"
        cp -L "$lib" "$dir$lib"
    done <<<"$out"
}

ird_file() {
    local dir=$1 src=$2 dest=$3 mode=${4:-}
    [ -e "$src" ] || ird_die "$src is missing"
    mkdir -p "$dir$(dirname "$dest")"
    cp -L "$src" "$dir$dest"
    [ -z "$mode" ] || chmod "$mode" "$dir$dest"
}

ird_pack() {
    local dir=$1 out=$2
    command -v cpio >/dev/null || ird_die "cpio is missing: run scripts/host-setup.sh"
    mkdir -p "$(dirname "$out")"
    # Sorted names and root ownership: the same tree gives the same archive.
    (cd "$dir" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
        cpio --null -o -H newc -R 0:0 --quiet) | gzip -n -1 >"$out.tmp"
    mv "$out.tmp" "$out"
}
