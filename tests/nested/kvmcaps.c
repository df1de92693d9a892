/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kvmcaps: print what the KVM behind /dev/kvm offers for Hyper-V guests.
 *
 * Runs inside the nested lab's L1 (a static binary: L1 has no libc), and on
 * any host where one wants to know whether the kernel (K) path is possible.
 * Each capability is printed as "CAP: NAME=value", the value being the
 * KVM_CHECK_EXTENSION result on the system fd (0 = absent, or -errno).
 * Exit status: 0 when /dev/kvm answered, 1 when it cannot be opened.
 *
 * Numbers come from the host's <linux/kvm.h>; the fallbacks keep the tool
 * building against headers older than the capability (the values are ABI).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

#ifndef KVM_CAP_HYPERV_EVENTFD
#define KVM_CAP_HYPERV_EVENTFD 154
#endif
#ifndef KVM_CAP_HYPERV_TLBFLUSH
#define KVM_CAP_HYPERV_TLBFLUSH 155
#endif
#ifndef KVM_CAP_HYPERV_SEND_IPI
#define KVM_CAP_HYPERV_SEND_IPI 161
#endif
#ifndef KVM_CAP_HYPERV_CPUID
#define KVM_CAP_HYPERV_CPUID 167
#endif
#ifndef KVM_CAP_HYPERV_DIRECT_TLBFLUSH
#define KVM_CAP_HYPERV_DIRECT_TLBFLUSH 175
#endif
#ifndef KVM_CAP_X86_USER_SPACE_MSR
#define KVM_CAP_X86_USER_SPACE_MSR 188
#endif
#ifndef KVM_CAP_X86_MSR_FILTER
#define KVM_CAP_X86_MSR_FILTER 189
#endif
#ifndef KVM_CAP_SYS_HYPERV_CPUID
#define KVM_CAP_SYS_HYPERV_CPUID 191
#endif
#ifndef KVM_CAP_HYPERV_ENFORCE_CPUID
#define KVM_CAP_HYPERV_ENFORCE_CPUID 199
#endif

#define CAP(name) { #name, KVM_CAP_##name }

static const struct {
    const char *name;
    int cap;
} caps[] = {
    CAP(HYPERV),
    CAP(HYPERV_VAPIC),
    CAP(HYPERV_SPIN),
    CAP(HYPERV_TIME),
    CAP(HYPERV_SYNIC),
    CAP(HYPERV_SYNIC2),
    CAP(HYPERV_VP_INDEX),
    CAP(HYPERV_EVENTFD),
    CAP(HYPERV_TLBFLUSH),
    CAP(HYPERV_SEND_IPI),
    CAP(HYPERV_CPUID),
    CAP(HYPERV_DIRECT_TLBFLUSH),
    CAP(SYS_HYPERV_CPUID),
    CAP(HYPERV_ENFORCE_CPUID),
    CAP(X86_USER_SPACE_MSR),
    CAP(X86_MSR_FILTER),
};

int main(int argc, char **argv)
{
    const char *dev = argc > 1 ? argv[1] : "/dev/kvm";
    size_t i;
    int fd;

    fd = open(dev, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        printf("CAP: error=cannot open %s: %s\n", dev, strerror(errno));
        return 1;
    }
    printf("CAP: API_VERSION=%d\n", ioctl(fd, KVM_GET_API_VERSION, 0));
    for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        int r = ioctl(fd, KVM_CHECK_EXTENSION, caps[i].cap);

        printf("CAP: %s=%d\n", caps[i].name, r < 0 ? -errno : r);
    }
    close(fd);
    return 0;
}
