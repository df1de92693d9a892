# SPDX-License-Identifier: GPL-2.0-or-later
#
# The first steps of every /init of ours (the nested lab's L1 and the Linux
# guest), sourced as /lib/init-early.sh: busybox applets, /dev, /proc, /sys.
# The archives are built without mknod, so there is no /dev/console before
# devtmpfs is mounted: nothing may print until then.

/bin/busybox mkdir -p /dev /proc /sys /tmp /usr/bin /usr/sbin /sbin
/bin/busybox --install -s
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
