#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# kut-hyperv.sh: a nested-lab payload (run.sh -- kut-hyperv.sh FLAT...)
# that runs kvm-unit-tests' Hyper-V tests with the command lines of their
# x86/unittests.cfg, on each way of running Hyper-V that L1's KVM allows:
#
#   kernel  -accel kvm,hyperv=kernel   KVM's in-kernel Hyper-V
#   user    -accel kvm,hyperv=user     QEMU's emulated Hyper-V, forced
#   nohv    -accel kvm, with KVM's Hyper-V hidden (KVM_NO_HYPERV): QEMU
#           chooses its emulated Hyper-V by itself, as on a KVM built
#           without Hyper-V
#
# The FLATs are kvm-unit-tests' x86/hyperv_*.flat, built from its own
# tree (./configure && make); KUT_PATHS limits the paths.  One line per
# test and path: PASS: kut/PATH/TEST when its SUMMARY shows no unexpected
# failure and QEMU left through isa-debug-exit with kvm-unit-tests'
# success code, FAIL: otherwise (a hang ends at KUT_TIMEOUT seconds).
# The test's own output follows as "# " lines.

paths=${KUT_PATHS:-kernel user nohv}
limit=${KUT_TIMEOUT:-180}

# busybox before 1.30 spells it "timeout -t SECONDS"; SIGKILL, because
# QEMU leaves with status 0 on the default SIGTERM, like a test's end.
if timeout 5 true >/dev/null 2>&1; then
    tflag=
else
    tflag=-t
fi

# test name, then what unittests.cfg gives it (smp, cpu, extra options).
cases='
hyperv_synic 2 host,hv_passthrough -device hyperv-testdev
hyperv_connections 2 host,hv_passthrough -device hyperv-testdev
hyperv_stimer 2 host,hv_passthrough
hyperv_stimer_direct 2 host,hv_passthrough -append direct
hyperv_clock 2 host,hv_passthrough
'

run_one() {
    path=$1 test=$2 smp=$3 cpu=$4
    shift 4
    flat=$PAYLOAD/$test.flat
    [ "$test" = hyperv_stimer_direct ] && flat=$PAYLOAD/hyperv_stimer.flat
    if [ ! -f "$flat" ]; then
        echo "FAIL: kut/$path/$test: $flat missing"
        return
    fi
    case $path in
    kernel) accel=kvm,hyperv=kernel preload= ;;
    user) accel=kvm,hyperv=user preload= ;;
    nohv) accel=kvm preload=$KVM_NO_HYPERV ;;
    esac
    log=$TMPDIR/kut-$path-$test.log
    LD_PRELOAD=$preload timeout -s KILL $tflag "$limit" "$QEMU" \
        -L "$FIRMWARE" \
        -nodefaults -display none -serial stdio -m 256 \
        -device pc-testdev -device isa-debug-exit,iobase=0xf4,iosize=0x4 \
        -device pci-testdev -accel "$accel" -smp "$smp" -cpu "$cpu" \
        -kernel "$flat" "$@" </dev/null >"$log" 2>&1
    rc=$?
    # kvm-unit-tests exits with (code << 1) | 1; 1 means it passed.
    if [ $rc -eq 1 ] && grep -q '^SUMMARY:' "$log" &&
        ! grep -q '^FAIL' "$log"; then
        echo "PASS: kut/$path/$test ($(grep '^SUMMARY:' "$log" | tail -n 1))"
    elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        echo "FAIL: kut/$path/$test: no end within $limit s"
    else
        echo "FAIL: kut/$path/$test: exit status $rc"
    fi
    sed 's/^/# /' "$log" | tail -n 40
}

for path in $paths; do
    echo "$cases" | while read -r test smp cpu extra; do
        [ -n "$test" ] || continue
        # shellcheck disable=SC2086  # the options are words
        run_one "$path" "$test" "$smp" "$cpu" $extra
    done
done
