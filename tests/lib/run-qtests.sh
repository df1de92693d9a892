#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# run-qtests.sh BUILD TEST...: run our qtests and unit tests (TEST is the
# build target: tests/qtest/NAME or tests/unit/NAME) with QEMU's own
# runner (meson test) and turn their TAP into result lines, one per case:
#   PASS: qtest/<test path>      FAIL: qtest/<test path>
# A test program that fails without reporting its cases (a crash, a
# timeout) is a FAIL line of its own.  Exit status 0 only if all passed.
set -euo pipefail

build=${1:?usage: run-qtests.sh BUILD TEST...}
shift
[ -x "$build/pyvenv/bin/meson" ] || { echo "run-qtests: $build is not a configured QEMU build" >&2; exit 1; }
status=0
for target in "$@"; do
    t=${target##*/}
    case $target in
    tests/qtest/*) name=qtest-x86_64/$t ;;
    tests/unit/*) name=$t ;;
    *) echo "run-qtests: $target is neither a qtest nor a unit test" >&2; exit 1 ;;
    esac
    log=$(mktemp)
    rc=0
    (cd "$build" && pyvenv/bin/meson test --no-rebuild --verbose \
        --print-errorlogs "$name") >"$log" 2>&1 || rc=1
    # meson shows each TAP case as "<marker> N/M <path> <RESULT>".  Only
    # OK passes: a skipped case is a failure here, nothing may be skipped.
    cases=$(awk '$2 ~ /^[0-9]+\/[0-9]+$/ && $3 ~ /^\// {
                     print ($NF == "OK" ? "PASS" : "FAIL") ": qtest" $3
                 }' "$log")
    [ -z "$cases" ] || echo "$cases"
    if [ "$rc" != 0 ] || grep -q '^FAIL' <<<"$cases"; then
        status=1
        grep -q '^FAIL' <<<"$cases" ||
            echo "FAIL: qtest/$t (the program failed outside its cases)"
        tail -n 40 "$log"
    elif [ -z "$cases" ]; then
        echo "FAIL: qtest/$t (no test case ran)"
        status=1
    fi
    rm -f "$log"
done
exit $status
