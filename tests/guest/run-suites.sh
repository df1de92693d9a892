#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Run the guest test suites (tests/guest/README.md) under one accelerator.
#
#   run-suites.sh QEMU FIRMWARE_DIR ACCEL IMAGE [CASE-FILTER]
#   run-suites.sh --probe-cpu QEMU FIRMWARE_DIR ACCEL IMAGE
#
# ACCEL is tcg, kvm, kvm-u or kvm-nohv.  With kvm the cases tagged kvm-k
# run when HV_LAB=1 (the nested lab, whose KVM emulates Hyper-V), else
# those tagged kvm-host (a KVM without Hyper-V).  kvm-u forces the user
# path (QEMU's own Hyper-V emulation, -accel kvm,hyperv=user) on a KVM
# that has the kernel path, i.e. in the lab (HV_LAB=1 implied), and runs
# the cases tagged kvm-u.  kvm-nohv runs the cases tagged kvm-nohv (a
# subset of kvm-host's) on the lab's KVM with its Hyper-V hidden from QEMU
# (KVM_NO_HYPERV names kvm-no-hyperv.so, preloaded), so that QEMU's own
# choice takes the user path as on a KVM built without Hyper-V; it stands
# in for the host's KVM where the host has none.  CASE-FILTER is a shell
# pattern on case names.
# GUEST_RUN_TAGS (space-separated) names further tags to run, for cases
# kept out of the default set under a tag of their own; their results are
# still named after the accelerator's tag.
# On KVM, @CPU@ is the first of KVM_CPU_MODELS that boots the test guest
# with no hv-* flag (probe_cpu), or GUEST_CPU if set; --probe-cpu only
# prints that model.  Output, one line each:
#
#   PLAN: guest/<tag> N                the cases this run must complete
#   PASS: guest/<tag>/<case>/<check>   a guest check, re-prefixed
#   FAIL: guest/<tag>/<case>/<check>
#   PASS: guest/<tag>/<case>/completed the run itself: QEMU exited through
#   FAIL: guest/<tag>/<case>/completed isa-debug-exit, SUMMARY agrees
#   INFO: guest/<tag>/<case>: ...      the QEMU command line of the case
#   RETRY: guest/<tag>/<case> (...)    GUEST_RETRY=1: the case failed once,
#                                      L1's kernel showed a fault, and it
#                                      ran again (see run_counted)
#   # ...                              everything else (guest INFO lines,
#                                      QEMU messages, reasons)
#
# Exit status: 0 if nothing failed, 1 otherwise, 2 on a usage error.
#
# POSIX sh only: this also runs under busybox ash in the lab's initramfs.

set -eu

# seconds per QEMU run; the nested lab may need more
CASE_TIMEOUT=${GUEST_CASE_TIMEOUT:-600}

# name | tags | QEMU options | guest command line
# QEMU options may start with "+accel:PROPS": PROPS are added to -accel;
# or with "+stderr-max:N": a check that QEMU printed at most N lines on
# stderr.
# @CPU@ is the accelerator's default CPU model; "cpus=N" is added from
# -smp, "accel=", "quirks=" and (tcg, kvm-host, kvm-u) "hv-u=1" from the
# accelerator.
CASES='
selftest-smp1  | tcg kvm-host kvm-k | -cpu @CPU@ -smp 1 | suite=selftest
selftest-smp4  | tcg kvm-host kvm-k | -cpu @CPU@ -smp 4 | suite=selftest
selftest-x2apic| tcg kvm-host kvm-k | -cpu @CPU@ -smp 4 | suite=selftest x2apic=1
# The user path (QEMU itself emulates Hyper-V) runs under tcg, on the
# KVM of the host, which lacks Hyper-V (kvm-host: hyperv=auto picks it),
# forced on the KVM of the lab (kvm-u), and picked by QEMU on the KVM of
# the lab with its Hyper-V hidden (kvm-nohv: the cases that show the
# choice and the main scenarios; kvm-u runs the rest of the same code).
# hv-vapic needs the APIC in QEMU: under TCG the user path offers it; on
# KVM it accepts the option but does not offer it (and warns).
hyperv-cpuid   | kvm-k | -cpu host,hv-vpindex,hv-synic,hv-time,hv-relaxed,hv-vapic,hv-runtime -smp 2 | suite=hyperv-cpuid hv=vpindex,synic,time,relaxed,vapic,runtime hv-strict=1
hyperv-cpuid-legacy | kvm-k kvm-u kvm-host tcg kvm-nohv | -cpu kvm64,hv_vpindex,hv_synic,hv_time,hv_stimer -smp 2 | suite=hyperv-cpuid hv=vpindex,synic,time,stimer hv-strict=1
hyperv-cpuid-u | kvm-k kvm-u kvm-host tcg kvm-nohv | -cpu @CPU@,hv-relaxed,hv-vpindex,hv-runtime,hv-time,hv-crash,hv-reset,hv-frequencies,hv-synic,hv-stimer,hv-stimer-direct,hv-spinlocks=0x1fff -smp 2 | suite=hyperv-cpuid hv=relaxed,vpindex,runtime,time,crash,reset,frequencies,synic,stimer,stimer-direct hv-strict=1 kvm-sig=1 spinlocks=0x1fff
hyperv-cpuid-kvm-off | kvm-k kvm-u kvm-host tcg | -cpu @CPU@,hv-relaxed,hv-vpindex,hv-time,kvm=off -smp 2 | suite=hyperv-cpuid hv=relaxed,vpindex,time hv-strict=1 kvm-sig=0
hyperv-cpuid-passthrough | kvm-k kvm-u kvm-host tcg | -cpu @CPU@,hv-passthrough -smp 2 | suite=hyperv-cpuid hv=relaxed,time,crash,reset,vpindex,runtime,synic,stimer,stimer-direct,frequencies,xmm-input kvm-sig=1 passthrough=1
# The Hyper-V set of the Windows domain virt-install writes: all of it is
# offered on the kernel path and under TCG; on KVM the user path leaves
# out hv-vapic and hv-tlbflush (and says so on stderr).
hyperv-cpuid-windows | kvm-k tcg | -cpu @CPU@,hv-relaxed,hv-vapic,hv-spinlocks=0x1fff,hv-vpindex,hv-runtime,hv-synic,hv-stimer,hv-reset,hv-frequencies,hv-tlbflush,hv-ipi,hv-time -smp 2 | suite=hyperv-cpuid hv=relaxed,vapic,vpindex,runtime,synic,stimer,reset,frequencies,tlbflush,ipi,time hv-strict=1 spinlocks=0x1fff
hyperv-cpuid-windows-kvm | kvm-u kvm-host kvm-nohv | -cpu @CPU@,hv-relaxed,hv-vapic,hv-spinlocks=0x1fff,hv-vpindex,hv-runtime,hv-synic,hv-stimer,hv-reset,hv-frequencies,hv-tlbflush,hv-ipi,hv-time -smp 2 | suite=hyperv-cpuid hv=relaxed,vpindex,runtime,synic,stimer,reset,frequencies,ipi,time hv-strict=1 spinlocks=0x1fff
# Every Hyper-V MSR; hv-enforce-cpuid makes KVM refuse the MSRs of the
# features that are off, as the user path always does.
hyperv-msr     | kvm-k kvm-u kvm-host tcg kvm-nohv | -cpu @CPU@,hv-relaxed,hv-vpindex,hv-runtime,hv-time,hv-reset,hv-crash,hv-frequencies,hv-synic,hv-stimer,hv-stimer-direct,hv-enforce-cpuid -smp 2 | suite=hyperv-msr hv=relaxed,vpindex,runtime,time,reset,crash,frequencies,synic,stimer,stimer-direct
hyperv-msr-nodirect | kvm-k kvm-u kvm-host tcg | -cpu @CPU@,hv-vpindex,hv-time,hv-synic,hv-stimer,hv-enforce-cpuid -smp 2 | suite=hyperv-msr hv=vpindex,time,synic,stimer
hyperv-msr-off | kvm-k kvm-u kvm-host tcg | -cpu @CPU@,hv-relaxed,hv-enforce-cpuid -smp 2 | suite=hyperv-msr hv=relaxed
hyperv-hcall   | kvm-k kvm-u kvm-host tcg kvm-nohv | -cpu @CPU@,hv-vpindex,hv-synic,hv-time -device hyperv-testdev -smp 2 | suite=hyperv-hcall
hyperv-stimer  | kvm-k kvm-u kvm-host tcg kvm-nohv | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer -smp 2 | suite=hyperv-stimer
hyperv-stimer-direct | kvm-k kvm-u kvm-host tcg | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-stimer-direct -smp 2 | suite=hyperv-stimer direct=1
hyperv-stimer-aeoi | kvm-k kvm-u kvm-host tcg kvm-nohv | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer -smp 2 | suite=hyperv-stimer aeoi=all
# The reference TSC page must be valid under TCG and on the lab KVM, on
# both paths (the user path reads the guest TSC from KVM).  A host KVM
# that calls its TSC unstable gets sequence 0 on both paths, as KVM gives
# it, which the suite reports: the host row does not require a page.
hyperv-clock   | kvm-k kvm-u tcg kvm-nohv | -cpu @CPU@,hv-vpindex,hv-time,hv-frequencies -smp 2 | suite=hyperv-clock page=valid
hyperv-clock-host | kvm-host | -cpu @CPU@,hv-vpindex,hv-time,hv-frequencies -smp 2 | suite=hyperv-clock
# The libvirt Windows set acts on APICs and TLBs through hv-vapic, hv-ipi
# and hv-tlbflush: all three on the kernel path and under TCG; on KVM the
# user path offers hv-ipi only (the APIC and the TLBs are in the kernel),
# says once on stderr what it leaves out, and the guest finds those
# absent.  Without them, only the VP assist page MSR is there.  XMM input
# (the fast forms of the Ex IPI and of the flushes) is offered on every
# path; without it the user path refuses those fast forms.
hyperv-apic    | kvm-k tcg | -cpu @CPU@,hv-vpindex,hv-vapic,hv-ipi,hv-tlbflush,hv-xmm-input -smp 2 | suite=hyperv-apic offered=vapic,ipi,tlbflush,xmm
hyperv-apic-x2apic | kvm-k tcg | -cpu @CPU@,hv-vpindex,hv-vapic,hv-ipi,hv-tlbflush,hv-xmm-input -smp 2 | suite=hyperv-apic offered=vapic,ipi,tlbflush,xmm x2apic=1
hyperv-apic-kvm | kvm-u kvm-host kvm-nohv | +stderr-max:1 -cpu @CPU@,hv-vpindex,hv-vapic,hv-ipi,hv-tlbflush,hv-xmm-input -smp 2 | suite=hyperv-apic offered=ipi,xmm
hyperv-apic-noxmm | tcg | -cpu @CPU@,hv-vpindex,hv-vapic,hv-ipi,hv-tlbflush -smp 2 | suite=hyperv-apic offered=vapic,ipi,tlbflush
hyperv-apic-none | kvm-u kvm-host kvm-nohv tcg | +stderr-max:0 -cpu @CPU@,hv-vpindex -smp 2 | suite=hyperv-apic offered=none
# More than 64 VPs: the Ex call sparse set spans two banks (TCG only: 66
# vCPUs, more than a KVM here takes).
hyperv-apic-many | tcg | -cpu @CPU@,hv-vpindex,hv-ipi -smp 66 | suite=hyperv-apic offered=ipi
# SynIC acceptance tests, with the command lines kvm-unit-tests uses.
# synic-sint checks auto-EOI where the hypervisor offers it; the user path
# on KVM recommends against it (the local APIC is in the kernel), and the
# suite then programs no SINT with AutoEOI.  The -aeoi cases use AutoEOI
# anyway, as kvm-unit-tests and older Windows do (aeoi=always: half the
# SINTs of synic-sint, in the priority class of the others; aeoi=all:
# every SINT of the suite), with no EOI for those vectors.
synic-msr      | kvm-k kvm-u kvm-host tcg | -cpu @CPU@,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-msr
# The command line that aborts QEMU 10.0.2 on a KVM without Hyper-V.
synic-msr-qemu64 | kvm-k kvm-u kvm-host tcg kvm-nohv | -cpu qemu64,hv-vpindex,hv-synic -device hyperv-testdev -smp 2 | suite=synic-msr
synic-msr-legacy | kvm-k kvm-u kvm-host tcg | -cpu kvm64,hv_vpindex,hv_synic,hv_time,hv_stimer -device hyperv-testdev -smp 2 | suite=synic-msr
synic-sint     | kvm-k kvm-u kvm-host tcg kvm-nohv | -cpu @CPU@,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-sint
synic-sint-churn | kvm-k kvm-u kvm-host tcg | -cpu @CPU@,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-sint churn=5000
synic-sint-legacy | kvm-k kvm-u kvm-host tcg | -cpu kvm64,hv_vpindex,hv_synic,hv_time,hv_stimer -device hyperv-testdev -smp 2 | suite=synic-sint
synic-sint-x2apic | kvm-k kvm-u kvm-host tcg | -cpu @CPU@,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-sint x2apic=1
synic-sint-aeoi | kvm-k kvm-u kvm-host tcg kvm-nohv | -cpu @CPU@,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-sint aeoi=always
synic-sint-aeoi-x2apic | kvm-k kvm-u kvm-host tcg kvm-nohv | -cpu @CPU@,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-sint x2apic=1 aeoi=always
synic-conn     | kvm-k kvm-u kvm-host tcg kvm-nohv | -cpu @CPU@,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-conn
synic-conn-legacy | kvm-k kvm-u kvm-host tcg | -cpu kvm64,hv_vpindex,hv_synic,hv_time,hv_stimer -device hyperv-testdev -smp 2 | suite=synic-conn
synic-conn-aeoi | kvm-k kvm-u kvm-host tcg kvm-nohv | -cpu @CPU@,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-conn aeoi=all
synic-hcall    | kvm-k kvm-u kvm-host tcg | -cpu @CPU@,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-hcall
synic-malicious | kvm-k kvm-u kvm-host tcg | -cpu @CPU@,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-malicious
synic-reset    | kvm-k kvm-u kvm-host tcg | -cpu @CPU@,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-reset
# Timer messages written by KVM itself and device messages posted by QEMU
# on one SINT (Linux without hv-stimer-direct shares SINT 2 that way).
# In the lab, L0 sometimes delivers the SINT vector a second time into
# the running handler; the suite ignores and reports such entries
# (apic-double; docs/decisions.md, "Repeated messages in the nested
# lab").  reenter=100 makes 100 such entries itself (INT n) and checks
# that each message is still taken once.  TCG only: on the host KVM an
# INT n into the running handler hung the guest (not investigated).
synic-stimer-mix | kvm-host tcg kvm-k kvm-u | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer -device hyperv-testdev -smp 2 | suite=synic-stimer-mix
synic-stimer-mix-reenter | tcg | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer -device hyperv-testdev -smp 2 | suite=synic-stimer-mix reenter=100
# The Xen emulation of KVM next to Hyper-V: the Xen hypercall MSR must work with
# and without hv-* options ("+accel:" adds -accel properties).  It needs
# a KVM with Xen support, which our hosts and the lab lack: tag xen, run
# by hand with GUEST_RUN_TAGS=xen (suites/xen_msr.c).
xen-msr        | xen | +accel:xen-version=0x4000a,kernel-irqchip=split -cpu @CPU@ -smp 1 | suite=xen-msr
xen-msr-hv     | xen | +accel:xen-version=0x4000a,kernel-irqchip=split -cpu @CPU@,hv-vpindex,hv-synic -smp 1 | suite=xen-msr hv=1
# The synic-defects groups check what the SynIC and hyperv-testdev of
# QEMU 10.0.2 got wrong (wrong statuses, aborts, a NULL dereference,
# out-of-bounds writes); each is a regression test for our replacement.
# One QEMU per group, so that one failure cannot hide the others.
# No apostrophes in this table: it is one quoted string.
synic-defects-status | kvm-k kvm-u kvm-host tcg | -cpu @CPU@,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-defects part=status
synic-defects-vp | kvm-k kvm-u kvm-host tcg | -cpu @CPU@,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-defects part=vp
synic-defects-simp-off | kvm-k kvm-u kvm-host tcg | -cpu @CPU@,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-defects part=simp-off
synic-defects-simp-far | kvm-k kvm-u kvm-host tcg | -cpu @CPU@,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-defects part=simp-far
synic-defects-simp-top | kvm-k kvm-u kvm-host tcg | -cpu @CPU@,hv_passthrough,host-phys-bits=off,phys-bits=52 -device hyperv-testdev -smp 2 | suite=synic-defects part=simp-top
synic-defects-siefp-off | kvm-k kvm-u kvm-host tcg | -cpu @CPU@,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-defects part=siefp-off
synic-defects-sint16 | kvm-k kvm-u kvm-host tcg | -cpu @CPU@,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-defects part=sint16
synic-defects-payload240 | kvm-k kvm-u kvm-host tcg | -cpu @CPU@,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-defects part=payload240
synic-defects-missing | kvm-k kvm-u kvm-host tcg | -cpu @CPU@,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-defects part=missing
synic-defects-dup | kvm-k kvm-u kvm-host tcg | -cpu @CPU@,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-defects part=dup
# This case once stopped answering on the forced user path in the lab
# while L0 ran L1 with one thread per vCPU; with L1 round robin it passes.
synic-defects-race | kvm-k kvm-u kvm-host tcg | -cpu @CPU@,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-defects part=race
synic-defects-stream | kvm-k kvm-u kvm-host tcg | -cpu @CPU@,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-defects part=stream
synic-defects-reset | kvm-k kvm-u kvm-host tcg | -cpu @CPU@,hv_passthrough -device hyperv-testdev -smp 2 | suite=synic-reset live=1
# The VMBus host (-device vmbus-bridge) through a well-behaved client
# (suites/vmbus.c), with hv-balloon to offer a channel; one QEMU per
# part.  vmbus-version names the version the bus must end on: ours
# speaks 2.4 to 5.3 (QEMU 10.0.2 stopped at 4.0).
vmbus-connect  | tcg kvm-host kvm-k kvm-u kvm-nohv | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-runtime -device vmbus-bridge -device hv-balloon -smp 2 | suite=vmbus part=connect vmbus-version=5.3
vmbus-offers   | tcg kvm-host kvm-k kvm-u kvm-nohv | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-runtime -device vmbus-bridge -device hv-balloon -smp 2 | suite=vmbus part=offers
vmbus-gpadl    | tcg kvm-host kvm-k kvm-u kvm-nohv | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-runtime -device vmbus-bridge -device hv-balloon -smp 2 | suite=vmbus part=gpadl
vmbus-open-close | tcg kvm-host kvm-k kvm-u kvm-nohv | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-runtime -device vmbus-bridge -device hv-balloon -smp 2 | suite=vmbus part=open-close
vmbus-unload   | tcg kvm-host kvm-k kvm-u kvm-nohv | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-runtime -device vmbus-bridge -device hv-balloon -smp 2 | suite=vmbus part=unload
# Sub-channels on demand, with vmbus-echo as the device that asks.
vmbus-subchannels | tcg kvm-host kvm-k kvm-u kvm-nohv | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-runtime -device vmbus-bridge -device vmbus-echo,subchannels=3 -smp 2 | suite=vmbus part=subchannels
# The framework of the integration services (hw/hyperv/hv-ic.c, suites/ic.c)
# through hv-heartbeat: the negotiation and heartbeats as a driver sees
# them on every path; hostile answers and failed negotiations under TCG
# and on the KVM of the host, as for the hostile parts of the bus.
ic-negotiate   | tcg kvm-host kvm-k kvm-u kvm-nohv | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-runtime -device vmbus-bridge -device hv-heartbeat,period-ms=50,timeout-ms=500 -smp 2 | suite=ic part=negotiate period=50 timeout=500
ic-hostile     | tcg kvm-host | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-runtime -device vmbus-bridge -device hv-heartbeat,period-ms=50,timeout-ms=500 -smp 2 | suite=ic part=hostile period=50 timeout=500
ic-versions    | tcg kvm-host | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-runtime -device vmbus-bridge -device hv-heartbeat,period-ms=50,timeout-ms=500 -smp 2 | suite=ic part=versions period=50 timeout=500
ic-timesync    | tcg kvm-host kvm-k kvm-u kvm-nohv | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-runtime -device vmbus-bridge -device hv-timesync,sample-ms=50,timeout-ms=500 -smp 2 | suite=ic part=timesync period=50 timeout=500
ic-timesync-notime | tcg kvm-host | -cpu @CPU@,hv-vpindex,hv-synic,hv-runtime -device vmbus-bridge -device hv-timesync,sample-ms=50,timeout-ms=500 -smp 2 | suite=ic part=timesync period=50 timeout=500 v4=0
ic-kvp         | tcg kvm-host | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-runtime -device vmbus-bridge -device hv-kvp,poll-ms=50,timeout-ms=500 -smp 2 | suite=ic part=kvp period=50 timeout=500
# Packets through a channel of vmbus-echo (suites/vmbus_bench.c, whose
# checks count every echo): each packet must come back exactly once,
# whether the guest waits for an interrupt, polls with its interrupt
# masked, or streams.  A guest signals only when it finds the ring empty,
# so a host that publishes its read index late and does not look again
# loses packets here (it did: rtt-poll lost them on both KVM paths).  On
# the KVM of the host a round trip takes about 15 ms (docs/devel/vmbus.md,
# "Open points"), hence fewer packets there.
vmbus-echo     | tcg kvm-k kvm-u kvm-nohv | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-runtime -device vmbus-bridge -device vmbus-echo -smp 2 | suite=vmbus-bench mode=rtt,rtt-poll,stream n=3000
vmbus-echo-short | kvm-host | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-runtime -device vmbus-bridge -device vmbus-echo -smp 2 | suite=vmbus-bench mode=rtt,rtt-poll,stream n=200
# A hostile guest against the VMBus host (suites/vmbus_hostile.c): after
# each bad input QEMU must be alive and the bus must answer; they assert
# what our bus answers (docs/devel/vmbus.md).  The upstream-* parts are
# regression cases for defects of the QEMU 10.0.2 bus and fail (or kill
# QEMU) there.  Not here: a bridge without hv-synic, which must not
# start at all (qtest hyperv-test checks that refusal).  The parts that
# post thousands of messages run under tcg only: on the host KVM a post
# costs milliseconds (docs/devel/vmbus.md, "Open points").
vmbus-hostile-trunc | tcg kvm-host | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-runtime -device vmbus-bridge -device hv-balloon -smp 2 | suite=vmbus-hostile part=trunc
vmbus-hostile-oversize | tcg kvm-host | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-runtime -device vmbus-bridge -device hv-balloon -smp 2 | suite=vmbus-hostile part=oversize
vmbus-hostile-state | tcg kvm-host | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-runtime -device vmbus-bridge -device hv-balloon -smp 2 | suite=vmbus-hostile part=state
vmbus-hostile-relid | tcg kvm-host | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-runtime -device vmbus-bridge -device hv-balloon -smp 2 | suite=vmbus-hostile part=relid
vmbus-hostile-vp | tcg kvm-host | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-runtime -device vmbus-bridge -device hv-balloon -smp 2 | suite=vmbus-hostile part=vp
vmbus-hostile-gpadl | tcg kvm-host | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-runtime -device vmbus-bridge -device hv-balloon -smp 2 | suite=vmbus-hostile part=gpadl
vmbus-hostile-gpadl-count | tcg | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-runtime -device vmbus-bridge -device hv-balloon -smp 2 | suite=vmbus-hostile part=gpadl-count
vmbus-hostile-gpadl-pages | tcg | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-runtime -device vmbus-bridge -device hv-balloon -smp 2 | suite=vmbus-hostile part=gpadl-pages
vmbus-hostile-ring | tcg kvm-host | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-runtime -device vmbus-bridge -device hv-balloon -smp 2 | suite=vmbus-hostile part=ring
vmbus-hostile-ring-index | tcg kvm-host | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-runtime -device vmbus-bridge -device hv-balloon -smp 2 | suite=vmbus-hostile part=ring-index
vmbus-hostile-storm | tcg kvm-host | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-runtime -device vmbus-bridge -device hv-balloon -smp 2 | suite=vmbus-hostile part=storm
vmbus-hostile-flood | tcg | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-runtime -device vmbus-bridge -device hv-balloon -smp 2 | suite=vmbus-hostile part=flood
vmbus-hostile-upstream-gpadl-wrap | tcg kvm-host | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-runtime -device vmbus-bridge -device hv-balloon -smp 2 | suite=vmbus-hostile part=upstream-gpadl-wrap
vmbus-hostile-upstream-gpadl-body | tcg kvm-host | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-runtime -device vmbus-bridge -device hv-balloon -smp 2 | suite=vmbus-hostile part=upstream-gpadl-body
vmbus-hostile-upstream-gpadl-count | tcg | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-runtime -device vmbus-bridge -device hv-balloon -smp 2 | suite=vmbus-hostile part=upstream-gpadl-count
vmbus-hostile-upstream-contact-vp | tcg kvm-host | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-runtime -device vmbus-bridge -device hv-balloon -smp 2 | suite=vmbus-hostile part=upstream-contact-vp
vmbus-hostile-upstream-open-vp | tcg kvm-host | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-runtime -device vmbus-bridge -device hv-balloon -smp 2 | suite=vmbus-hostile part=upstream-open-vp
vmbus-hostile-upstream-errflood | tcg kvm-host | +stderr-max:20 -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-runtime -device vmbus-bridge -device hv-balloon -smp 2 | suite=vmbus-hostile part=upstream-errflood
vmbus-hostile-upstream-unload-first | tcg kvm-host | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-runtime -device vmbus-bridge -device hv-balloon -smp 2 | suite=vmbus-hostile part=upstream-unload-first
vmbus-hostile-upstream-ring-offset | tcg kvm-host | -cpu @CPU@,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-runtime -device vmbus-bridge -device hv-balloon -smp 2 | suite=vmbus-hostile part=upstream-ring-offset
'

die() {
    echo "run-suites.sh: $*" >&2
    exit 2
}

usage() {
    echo "usage: run-suites.sh QEMU FIRMWARE_DIR ACCEL IMAGE [CASE-FILTER]" >&2
    echo "       run-suites.sh --probe-cpu QEMU FIRMWARE_DIR ACCEL IMAGE" >&2
    echo "  ACCEL: tcg, kvm (kvm-k cases when HV_LAB=1, else kvm-host)," >&2
    echo "         kvm-u or kvm-nohv (in the nested lab)" >&2
    exit 2
}

PROBE_ONLY=
if [ "${1:-}" = --probe-cpu ]; then
    PROBE_ONLY=1
    shift
    [ $# -eq 4 ] || usage
fi
if [ $# -lt 4 ] || [ $# -gt 5 ]; then
    usage
fi
QEMU=$1
FIRMWARE=$2
ACCEL=$3
IMAGE=$4
FILTER=${5:-*}

[ -x "$QEMU" ] || die "QEMU binary '$QEMU' is missing or not executable"
[ -d "$FIRMWARE" ] || die "firmware folder '$FIRMWARE' does not exist"
[ -r "$IMAGE" ] || die "guest image '$IMAGE' is missing (build it with tests/guest/guest.mk)"

# Known platform deficiencies the guest is told about (README.md, quirks).
# ACCEL_OPT is what -accel gets; HV_U=1 where Hyper-V, if any, is QEMU's
# own (the user path): the guest gets hv-u=1 for its stricter checks.
HV_U=0
PRELOAD=
case $ACCEL in
tcg)
    TAG=tcg CPU=max QUIRKS=msr-no-gp ACCEL_OPT=tcg HV_U=1 ;;
kvm)
    [ -c /dev/kvm ] || die "accelerator kvm: /dev/kvm does not exist"
    ACCEL_OPT=kvm
    if [ "${HV_LAB:-0}" = 1 ]; then
        TAG=kvm-k CPU=host QUIRKS=
    else
        TAG=kvm-host CPU=host QUIRKS=apic-isr-hidden HV_U=1
    fi ;;
kvm-u)
    [ -c /dev/kvm ] || die "accelerator kvm-u: /dev/kvm does not exist"
    TAG=kvm-u CPU=host QUIRKS='' ACCEL_OPT=kvm,hyperv=user HV_U=1 ;;
kvm-nohv)
    [ -c /dev/kvm ] || die "accelerator kvm-nohv: /dev/kvm does not exist"
    PRELOAD=${KVM_NO_HYPERV:-}
    [ -r "$PRELOAD" ] ||
        die "accelerator kvm-nohv: KVM_NO_HYPERV must name kvm-no-hyperv.so (tests/nested/run.sh builds it)"
    TAG=kvm-nohv CPU=host QUIRKS='' ACCEL_OPT=kvm HV_U=1 ;;
*)
    die "unknown accelerator '$ACCEL' (tcg, kvm, kvm-u or kvm-nohv)" ;;
esac

# busybox before 1.30 spells it "timeout -t SECONDS"
if timeout 5 true >/dev/null 2>&1; then
    TIMEOUT_STYLE=plain
elif timeout -t 5 true >/dev/null 2>&1; then
    TIMEOUT_STYLE=busybox-t
else
    die "no working 'timeout' command"
fi

bounded() {
    secs=$1
    shift
    if [ "$TIMEOUT_STYLE" = plain ]; then
        timeout -s KILL "$secs" "$@"
    else
        timeout -s KILL -t "$secs" "$@"
    fi
}

trim() {
    t=$1
    t=${t#"${t%%[! ]*}"}
    t=${t%"${t##*[! ]}"}
    printf '%s' "$t"
}

# The vCPU count of "-smp N" or "-smp N,..." or "-smp cpus=N,...".
smp_count() {
    set -f
    # shellcheck disable=SC2086  # split the option string on purpose
    set -- $1
    set +f
    while [ $# -gt 1 ]; do
        if [ "$1" = -smp ]; then
            n=${2%%,*}
            echo "${n#cpus=}"
            return
        fi
        shift
    done
    echo 1
}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/guest-tests.XXXXXX") ||
    die "cannot create a temporary folder"
trap 'rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM

TOTAL_PASS=0
TOTAL_FAIL=0
CASES_RUN=0

result() {
    echo "$1: guest/$TAG/$2"
    if [ "$1" = PASS ]; then
        TOTAL_PASS=$((TOTAL_PASS + 1))
    else
        TOTAL_FAIL=$((TOTAL_FAIL + 1))
    fi
}

# The base CPU models tried on KVM, in order, each with no hv-* flag.
# Some KVMs advertise IA32_ARCH_CAPABILITIES (MSR 0x10a) and then refuse
# QEMU's write of it: QEMU aborts on "-cpu host" there ("failed to set MSR
# 0x10a"), upstream QEMU 10.0.2 too, before the guest runs; nothing of
# Hyper-V is involved.  Without that feature QEMU starts.  kvm64 is the
# model kvm-unit-tests' second command line uses.
KVM_CPU_MODELS='host host,-arch-capabilities kvm64'

# probe_cpu: print the first of KVM_CPU_MODELS on which QEMU boots the
# test guest's selftest to its SUMMARY line (its checks are not counted
# here: the cases run it again), and say on stderr why the others did not.
# Fails when none does.
probe_cpu() {
    for model in $KVM_CPU_MODELS; do
        plog=$TMP/probe.serial
        : >"$plog"
        prc=0
        # shellcheck disable=SC2086  # the preload is one word or none
        bounded "$CASE_TIMEOUT" env ${PRELOAD:+LD_PRELOAD=$PRELOAD} \
            "$QEMU" -L "$FIRMWARE" -accel "$ACCEL_OPT" -M pc -m 256 \
            -display none -nodefaults -serial "file:$plog" \
            -device isa-debug-exit,iobase=0xf4,iosize=4 -cpu "$model" \
            -smp 1 -kernel "$IMAGE" -append "suite=selftest cpus=1" \
            </dev/null >"$TMP/probe.err" 2>&1 || prc=$?
        if grep -q '^SUMMARY: ' "$plog"; then
            echo "$model"
            return 0
        fi
        echo "# guest/$TAG: -cpu $model: the guest did not run (QEMU exit $prc): $(tr '\n' ' ' <"$TMP/probe.err" | cut -c 1-300)" >&2
    done
    return 1
}

# choose_cpu: CPU becomes the base model for @CPU@ on KVM: GUEST_CPU if
# set (run-guest-host.sh probes once for the whole layer), else probed.
# An INFO line says which and why; a KVM on which no model starts is a
# FAIL, and the cases then run with "host" and show QEMU's reason.
choose_cpu() {
    case $TAG in tcg) return 0 ;; esac
    if [ -n "${GUEST_CPU:-}" ]; then
        CPU=$GUEST_CPU
        echo "INFO: guest/$TAG: base CPU model $CPU (GUEST_CPU)"
    elif CPU=$(probe_cpu 2>"$TMP/probe.why"); then
        cat "$TMP/probe.why"
        echo "INFO: guest/$TAG: base CPU model $CPU (the first of '$KVM_CPU_MODELS' that boots the test guest here, with no hv-* flag)"
    else
        cat "$TMP/probe.why"
        CPU=host
        result FAIL "cpu-probe (none of '$KVM_CPU_MODELS' boots the test guest on this KVM)"
    fi
}

# Print the guest's serial log: results re-prefixed, the rest as comments.
# Sets PASSED, FAILED and SUMMARY.
scan_log() {
    name=$1
    PASSED=0 FAILED=0 SUMMARY=
    tr -d '\r' <"$2" >"$2.txt"
    while IFS= read -r line || [ -n "$line" ]; do
        case $line in
        "PASS: "*)
            PASSED=$((PASSED + 1))
            result PASS "$name/${line#PASS: }" ;;
        "FAIL: "*)
            FAILED=$((FAILED + 1))
            result FAIL "$name/${line#FAIL: }" ;;
        "SUMMARY: "*)
            SUMMARY=${line#SUMMARY: }
            echo "# guest/$TAG/$name: $line" ;;
        *)
            echo "# guest/$TAG/$name: $line" ;;
        esac
    done <"$2.txt"
}

# Why the run as a whole is not trustworthy, or nothing if it is.
judge() {
    rc=$1
    want="passed=$PASSED failed=$FAILED"
    case $rc in
    1 | 3) ;;
    124 | 137) echo "QEMU killed after ${CASE_TIMEOUT}s (exit $rc)"; return ;;
    *) echo "QEMU exit status $rc, want 1 (passed) or 3 (failed)"; return ;;
    esac
    if [ -z "$SUMMARY" ]; then
        # QEMU itself also exits with 1 when it fails to start
        echo "no SUMMARY line from the guest (QEMU exit status $rc)"
    elif [ "${SUMMARY#* }" != "$want" ]; then
        echo "SUMMARY says '${SUMMARY#* }' but the log has $want"
    elif [ $((PASSED + FAILED)) -eq 0 ]; then
        echo "the guest reported no checks"
    elif [ "$rc" = 1 ] && [ "$FAILED" -ne 0 ]; then
        echo "exit status 1 (all passed) with $FAILED failed checks"
    elif [ "$rc" = 3 ] && [ "$FAILED" -eq 0 ]; then
        echo "exit status 3 (failures) but no failed check"
    fi
}

run_case() {
    name=$1 opts=$2 cmdline=$3
    log=$TMP/$name.serial
    err=$TMP/$name.stderr
    cpus=$(smp_count "$opts")
    cmdline="$cmdline cpus=$cpus accel=$TAG${QUIRKS:+ quirks=$QUIRKS}"
    [ "$HV_U" = 0 ] || cmdline="$cmdline hv-u=1"
    opts=$(echo "$opts" | sed "s/@CPU@/$CPU/g")
    # "+stderr-max:N" first in the options: QEMU may print at most N
    # lines on stderr (for floods of messages a guest could cause)
    stderr_max=
    case $opts in
    +stderr-max:*)
        stderr_max=${opts%% *}
        stderr_max=${stderr_max#+stderr-max:}
        opts=${opts#* } ;;
    esac
    # "+accel:PROPS" first in the options: more properties for -accel
    accel=$ACCEL_OPT
    case $opts in
    +accel:*)
        accel="$accel,${opts%% *}"
        accel=${accel%%+accel:*}${accel#*+accel:}
        opts=${opts#* } ;;
    esac

    echo "INFO: guest/$TAG/$name: ${PRELOAD:+LD_PRELOAD=$(basename "$PRELOAD") }$(basename "$QEMU") -accel $accel $opts -append '$cmdline'"
    : >"$log"
    rc=0
    set -f
    # shellcheck disable=SC2086  # $opts holds several options
    bounded "$CASE_TIMEOUT" env ${PRELOAD:+LD_PRELOAD=$PRELOAD} \
        "$QEMU" -L "$FIRMWARE" -accel "$accel" -M pc \
        -m 256 -display none -nodefaults -serial "file:$log" \
        -device isa-debug-exit,iobase=0xf4,iosize=4 \
        -kernel "$IMAGE" -append "$cmdline" $opts \
        </dev/null >"$err" 2>&1 || rc=$?
    set +f

    scan_log "$name" "$log"
    while IFS= read -r line || [ -n "$line" ]; do
        echo "# guest/$TAG/$name: qemu: $line"
    done <"$err"
    if [ -n "$stderr_max" ]; then
        nerr=$(grep -c '' "$err" || true)
        echo "# guest/$TAG/$name: QEMU printed $nerr lines on stderr"
        if [ "$nerr" -le "$stderr_max" ]; then
            result PASS "$name/qemu-stderr: at most $stderr_max lines"
        else
            result FAIL "$name/qemu-stderr: at most $stderr_max lines"
        fi
    fi
    why=$(judge "$rc")
    if [ -n "$why" ]; then
        echo "# guest/$TAG/$name: $why"
        result FAIL "$name/completed"
    else
        result PASS "$name/completed"
    fi
}

# count PREFIX FILE: how many lines of FILE start with PREFIX
count() {
    grep -c "^$1" "$2" || true
}

# What L1's kernel prints when L0 starves or breaks it: its watchdogs
# (soft and hard lockups, RCU stalls, hung tasks), a clocksource it
# stopped trusting, and its own BUG/WARNING reports.
L0_FAULT_RE='soft lockup|hard lockup|rcu.*stall|blocked for more than|clocksource.*unstable|marking clocksource|BUG:|WARNING:|kernel panic'
RETRIES=0
RETRY_MAX=${GUEST_RETRY_MAX:-2}

# uptime: seconds since L1 booted, as its kernel log counts them
uptime_s() {
    cut -d' ' -f1 /proc/uptime 2>/dev/null || echo 0
}

# l0_evidence SINCE: the lines of the kernel log stamped SINCE (seconds
# since boot) or later that show a fault below the guest (L0_FAULT_RE);
# nothing if there are none, or no kernel log to read.
l0_evidence() {
    command -v dmesg >/dev/null 2>&1 || return 0
    dmesg 2>/dev/null | awk -v since="$1" '
        match($0, /^\[ *[0-9]+\.[0-9]+\]/) {
            t = substr($0, 2, RLENGTH - 2) + 0
            if (t >= since) print
        }' | grep -i -E "$L0_FAULT_RE" | head -n 5 || true
}

# run_counted NAME OPTS CMDLINE: run a case (in a subshell, its output
# kept in $TMP/attempt.out).  With GUEST_RETRY=1 (the nested lab) a case
# with a failed check may run once more, but only on evidence that the
# fault was below the guest: L1's kernel reported a stall or a bug of its
# own while the first try ran, or the guest saw its local APIC do what it
# cannot do by itself: an interrupt wait in the IRR until the guest left
# ("INFO: apic-stall: ...") or one taken twice while in service
# ("INFO: apic-double: ...", both synic-sint; docs/decisions.md, "The
# nested lab's own faults").  The first try is then shown as comments and named on a
# RETRY: line with that evidence, which the summary lists; the second try
# counts, so a case that fails twice in a row fails the run.  Without
# evidence, or after GUEST_RETRY_MAX (default 2) retries in this run, the
# first try counts and a line "INFO: ...: no retry: ..." says why.
run_counted() {
    out=$TMP/attempt.out
    since=$(uptime_s)
    (run_case "$@") >"$out" || true
    nfail=$(count 'FAIL: ' "$out")
    note=
    if [ "${GUEST_RETRY:-0}" = 1 ] && [ "$nfail" != 0 ]; then
        evidence=$(l0_evidence "${since%.*}"
            grep -m 1 -E "^# guest/$TAG/$1: INFO: apic-(stall|double): " "$out" |
                sed "s#^\# guest/$TAG/$1: INFO: #guest: #" || true)
        # A SINT counted wrong with nothing in this run to show why: the
        # symptom the lab's L0 is on record for (docs/decisions.md, "A SINT
        # counted wrong on the forced user path in the lab").
        if [ -z "$evidence" ] &&
            grep -q -m 1 -E "^FAIL: .*got each of its [0-9]+ SINT vectors" "$out"; then
            evidence="on record: L0 injects an L2 interrupt twice (docs/decisions.md); this is that symptom, a SINT counted wrong"
        fi
        if [ -z "$evidence" ]; then
            note="INFO: guest/$TAG/$1: no retry: no sign of a fault below the guest (L1's kernel log since ${since}s, apic-stall, apic-double)"
        elif [ "$RETRIES" -ge "$RETRY_MAX" ]; then
            note="INFO: guest/$TAG/$1: no retry: $RETRIES retries in this run already (at most $RETRY_MAX)"
        else
            RETRIES=$((RETRIES + 1))
            first=$(grep -m 1 '^FAIL: ' "$out")
            sed 's/^/# first try: /' "$out"
            echo "$evidence" | sed "s#^#\# L0 fault during guest/$TAG/$1: #"
            echo "RETRY: guest/$TAG/$1 (first try: $nfail failed; first: ${first#FAIL: guest/"$TAG"/}; evidence: $(echo "$evidence" | head -n 1 | cut -c 1-160))"
            (run_case "$@") >"$out" || true
        fi
    fi
    cat "$out"
    [ -z "$note" ] || echo "$note"
    COMPLETED=$((COMPLETED + $(grep -c "^[A-Z]*: guest/$TAG/$1/completed\$" "$out" || true)))
    TOTAL_PASS=$((TOTAL_PASS + $(count 'PASS: ' "$out")))
    TOTAL_FAIL=$((TOTAL_FAIL + $(count 'FAIL: ' "$out")))
}

# for_each_case FN: FN NAME OPTS CMDLINE for each case of the table that
# this run selects (tag and filter).
for_each_case() {
    while IFS='|' read -r name tags opts cmdline; do
        name=$(trim "$name")
        case $name in '' | '#'*) continue ;; esac
        selected=
        for t in $TAG ${GUEST_RUN_TAGS:-}; do
            case " $tags " in *" $t "*) selected=1 ;; esac
        done
        [ -n "$selected" ] || continue
        # shellcheck disable=SC2254  # FILTER is a pattern
        case $name in $FILTER) ;; *) continue ;; esac
        "$1" "$name" "$(trim "$opts")" "$(trim "$cmdline")"
    done <<EOF
$CASES
EOF
}

PLANNED=0
COMPLETED=0
plan_case() {
    PLANNED=$((PLANNED + 1))
}

run_one() {
    CASES_RUN=$((CASES_RUN + 1))
    run_counted "$@"
}

if [ -n "$PROBE_ONLY" ]; then
    [ "$TAG" != tcg ] || die "--probe-cpu: only for KVM (under tcg the CPU is max)"
    probe_cpu
    exit
fi
for_each_case plan_case
[ "$PLANNED" -gt 0 ] || die "no $TAG case matches '$FILTER'"
# The plan: how many cases this run must complete.  tests/summary.sh
# compares it with the "completed" lines, so that a case that drops out
# (a runner that died, a console that lost lines) fails.
echo "PLAN: guest/$TAG $PLANNED"
choose_cpu
for_each_case run_one

# Every case prints exactly one completed line, pass or fail.
if [ "$COMPLETED" -ne "$PLANNED" ]; then
    result FAIL "cases ($PLANNED in the table for this run, $COMPLETED completed)"
fi
echo "# guest/$TAG: $CASES_RUN cases, $TOTAL_PASS passed, $TOTAL_FAIL failed"
[ "$TOTAL_FAIL" -eq 0 ]
