# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2034 # the variables are for the scripts that source this
#
# The Linux guest's QEMU settings, shared by run.sh (TCG, on the host) and
# in-lab.sh (KVM, inside the nested lab).  POSIX sh: sourced by bash on the
# host and by busybox ash in L1.
#
# kvm=off hides the KVM signature in CPUID 0x40000000, so that Linux takes
# the Hyper-V leaves and picks the Hyper-V platform.  hv-frequencies (in
# libvirt's Windows set too) gives it the TSC and APIC rates.
LINUX_HV_FLAGS=hv-relaxed,hv-vapic,hv-spinlocks=0x1fff,hv-vpindex,hv-runtime,hv-time,hv-synic,hv-stimer,hv-frequencies,kvm=off
# Under TCG QEMU emulates Hyper-V itself (the user path): libvirt's
# Windows set (hv-vapic, hv-ipi and hv-tlbflush included: Linux then ends
# interrupts through the EOI MSR, sends IPIs and flushes remote TLBs by
# hypercall), and the synthetic timers' direct mode.
LINUX_HV_FLAGS_U=hv-relaxed,hv-vapic,hv-spinlocks=0x1fff,hv-vpindex,hv-runtime,hv-time,hv-synic,hv-stimer,hv-stimer-direct,hv-frequencies,hv-reset,hv-crash,hv-tlbflush,hv-ipi,kvm=off
# The guest kernel stays quiet: the report is printed by its init.
LINUX_APPEND="console=ttyS0 quiet loglevel=3 panic=-1"
# Devices besides the machine's own: the VMBus bridge and devices on it
# (hv-balloon, which Linux binds hv_balloon to, and the shutdown,
# heartbeat and time sync services, hv_utils); no NIC, no VGA.  No ACPI
# S4: Linux's hv_balloon ignores every balloon request of a guest that can
# hibernate (libvirt: <pm><suspend-to-disk enabled='no'/></pm>).
LINUX_DEVICES="-nodefaults -display none -no-reboot -serial stdio -monitor none -global PIIX4_PM.disable_s4=1 -device vmbus-bridge -device hv-balloon -device hv-shutdown,id=hv-shutdown -device hv-heartbeat,id=hv-heartbeat,period-ms=1000,lost-ms=10000 -device hv-timesync,id=hv-timesync -device hv-kvp,id=hv-kvp,poll-ms=1000"
# The heartbeat's instance GUID (Hyper-V's): its name in the guest.
LINUX_HEARTBEAT_ID=fd149e91-82e0-4a7d-afa6-2a4166cbd7c0
