#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# domain.sh KIND TYPE EMULATOR DIR: print the libvirt domain XML of one
# case of the libvirt layer (tests/libvirt/README.md).  KIND is the
# Hyper-V block under test:
#
#   windows       what virt-install writes for a Windows 10/11 guest:
#                 relaxed, vapic, spinlocks (8191), vpindex, runtime,
#                 synic, stimer, reset, frequencies, tlbflush, ipi, and
#                 the hypervclock timer, on q35
#   passthrough   <hyperv mode='passthrough'/>: everything the path has
#   linux-hidden  a Linux guest's set with the KVM signature hidden
#                 (<kvm><hidden state='on'/></kvm>), so that Linux picks
#                 Hyper-V even on KVM: the Windows set, direct synthetic
#                 timers and the Hyper-V crash MSRs (<panic model='hyperv'/>)
#
# TYPE is the domain type (qemu for TCG, kvm), EMULATOR the QEMU binary,
# DIR the folder with vmlinuz and initrd.gz of tests/linux, where the
# console is written too (DIR/KIND.console).  Every domain boots that
# Linux guest directly, with a VMBus bridge that brings the standard set
# of integration services, and hv-balloon (libvirt has no element for
# them: <qemu:commandline>), and waits for the ACPI power button
# (hvtest.acpi in tests/linux/init.sh).  Where the guest binds the
# shutdown service, libvirt's shutdown and reboot reach it through the
# service instead of the button.  POSIX sh: it also runs in the nested
# lab's busybox.

kind=${1:?usage: domain.sh KIND TYPE EMULATOR DIR}
type=${2:?usage: domain.sh KIND TYPE EMULATOR DIR}
emulator=${3:?usage: domain.sh KIND TYPE EMULATOR DIR}
dir=${4:?usage: domain.sh KIND TYPE EMULATOR DIR}

win_set="      <relaxed state='on'/>
      <vapic state='on'/>
      <spinlocks state='on' retries='8191'/>
      <vpindex state='on'/>
      <runtime state='on'/>
      <synic state='on'/>
      <stimer state='on'/>
      <reset state='on'/>
      <frequencies state='on'/>
      <tlbflush state='on'/>
      <ipi state='on'/>"
panic=
case $kind in
windows)
    hyperv="    <hyperv mode='custom'>
$win_set
    </hyperv>"
    ;;
passthrough)
    hyperv="    <hyperv mode='passthrough'/>"
    ;;
linux-hidden)
    hyperv="    <hyperv mode='custom'>
$(printf '%s\n' "$win_set" |
    sed "s|<stimer state='on'/>|<stimer state='on'><direct state='on'/></stimer>|")
    </hyperv>
    <kvm>
      <hidden state='on'/>
    </kvm>"
    panic="    <panic model='hyperv'/>"
    ;;
*)
    echo "domain.sh: unknown KIND '$kind' (windows, passthrough, linux-hidden)" >&2
    exit 2 ;;
esac
# HV_LIBVIRT_PMU_OFF=1: no PMU for the guest (the nested lab: L1's KVM
# has none to give, as tests/linux/in-lab.sh says with pmu=off).
pmu=
[ -z "${HV_LIBVIRT_PMU_OFF:-}" ] || pmu="
    <pmu state='off'/>"
# HV_LIBVIRT_DEBUG=1 (by hand): QEMU logs the CPU state at each reset,
# KVM's exits, and the TSC page's and the reset MSR's trace events.
debug=
[ -z "${HV_LIBVIRT_DEBUG:-}" ] || debug="
    <qemu:arg value='-d'/>
    <qemu:arg value='cpu_reset'/>
    <qemu:arg value='-trace'/>
    <qemu:arg value='kvm_run_exit'/>
    <qemu:arg value='-trace'/>
    <qemu:arg value='hv_emu_tsc*'/>
    <qemu:arg value='-trace'/>
    <qemu:arg value='hv_emu_reset'/>
    <qemu:arg value='-D'/>
    <qemu:arg value='$dir/$kind.resets'/>"
# The CPU virt-install gives: the host's on KVM, QEMU's default under TCG.
cpu=
[ "$type" = qemu ] || cpu="  <cpu mode='host-passthrough' check='none' migratable='on'/>"

cat <<XML
<domain type='$type' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>hv-$kind</name>
  <memory unit='MiB'>512</memory>
  <vcpu>2</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>$dir/vmlinuz</kernel>
    <initrd>$dir/initrd.gz</initrd>
    <cmdline>console=ttyS0 quiet loglevel=3 panic=-1 nokaslr hvtest.acpi</cmdline>
  </os>
  <features>
    <acpi/>
    <apic/>
$hyperv
    <vmport state='off'/>$pmu
  </features>
$cpu
  <clock offset='localtime'>
    <timer name='rtc' tickpolicy='catchup'/>
    <timer name='pit' tickpolicy='delay'/>
    <timer name='hpet' present='no'/>
    <timer name='hypervclock' present='yes'/>
  </clock>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <pm>
    <suspend-to-mem enabled='no'/>
    <suspend-to-disk enabled='no'/>
  </pm>
  <devices>
    <emulator>$emulator</emulator>
    <serial type='file'>
      <source path='$dir/$kind.console'/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
$panic
  </devices>
  <qemu:commandline>$debug
    <qemu:arg value='-device'/>
    <qemu:arg value='vmbus-bridge,integration-services=on'/>
    <qemu:arg value='-device'/>
    <qemu:arg value='hv-balloon'/>
  </qemu:commandline>
</domain>
XML
