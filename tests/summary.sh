#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# summary.sh RESULTS LAYER...: sum the result lines of every layer.
#
# Each layer leaves RESULTS/LAYER.log (its output, with lines "PASS: ...",
# "FAIL: ..." and "PENDING: ...") and RESULTS/LAYER.rc (its exit status).
# A layer without a log, or one that exited non-zero without a FAIL line,
# counts as one failure: a crashed runner must never look like a pass.
# PENDING lines name checks that a later issue owns; they are listed and
# counted apart, never as passes.  RETRY lines name nested-lab cases that
# failed once with evidence of a fault below the guest and ran again; they
# are listed too.  The last line is
# "N passed, N failed"; the exit status is 0 only when nothing failed and
# something passed.
set -euo pipefail

results=${1:?usage: summary.sh RESULTS LAYER...}
shift
total_pass=0
total_fail=0

# check_plans LOG: each "PLAN: guest/<tag> N" line of the guest runner
# (run-suites.sh) promises N cases, each with one line
# "PASS|FAIL: guest/<tag>/<case>/completed".  A plan with fewer or more
# such lines in the same log (a runner that died, a console that lost
# lines) gets a FAIL line in the log, so that no case drops out unseen.
check_plans() {
    local tag n got
    while read -r _ tag n; do
        got=$(grep -cE "^(PASS|FAIL): $tag/[^/]+/completed\$" "$1" || true)
        if [ "$got" != "$n" ]; then
            echo "FAIL: $tag/plan ($n cases planned, $got completed)" >>"$1"
        fi
    done < <(grep '^PLAN: ' "$1" || true)
}
total_pending=0
echo
echo "== Summary =="
for layer in "$@"; do
    log=$results/$layer.log
    rc=$(cat "$results/$layer.rc" 2>/dev/null || echo missing)
    if [ ! -f "$log" ]; then
        printf '%-8s no results (the layer did not run)\n' "$layer"
        total_fail=$((total_fail + 1))
        continue
    fi
    check_plans "$log"
    pass=$(grep -c '^PASS: ' "$log" || true)
    fail=$(grep -c '^FAIL: ' "$log" || true)
    pending=$(grep -c '^PENDING: ' "$log" || true)
    if [ "$rc" != 0 ] && [ "$fail" = 0 ]; then
        echo "FAIL: $layer (its runner exited with status $rc and reported no failure)" >>"$log"
        fail=1
    fi
    if [ "$pass" = 0 ] && [ "$fail" = 0 ]; then
        echo "FAIL: $layer (no test ran)" >>"$log"
        fail=1
    fi
    printf '%-8s %4d passed, %d failed, %d pending\n' "$layer" "$pass" "$fail" "$pending"
    grep '^FAIL: ' "$log" | sed 's/^/    /' | head -n 40 || true
    total_pass=$((total_pass + pass))
    total_fail=$((total_fail + fail))
    total_pending=$((total_pending + pending))
done
# Lab cases that failed once, with evidence of a fault in L1's kernel, and
# ran again (run-suites.sh run_counted): counted by the second run only,
# and listed here (check-nested fails a run with more than two).
retried=$(cat "$results"/*.log | grep -c '^RETRY: ' || true)
if [ "$retried" != 0 ]; then
    echo "Retried in the nested lab ($retried; the second run counts):"
    cat "$results"/*.log | grep '^RETRY: ' | sed 's/^RETRY: /    /'
fi
if [ "$total_pending" != 0 ]; then
    echo "Pending (owned by later issues, not counted):"
    cat "$results"/*.log | grep '^PENDING: ' | sed 's/^PENDING: /    /' | sort -u
fi
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ] && [ "$total_pass" != 0 ]
