/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kvm-no-hyperv.so: make a KVM with in-kernel Hyper-V look, to the program
 * it is preloaded into (LD_PRELOAD), like a KVM built without it (Linux
 * CONFIG_KVM_HYPERV=n, or a paravirtual KVM), so that the nested lab can
 * run QEMU's automatic choice of the user path on a machine whose own host
 * has no /dev/kvm at all.
 *
 * What such a kernel shows userspace, and what this reproduces:
 * - KVM_CHECK_EXTENSION answers 0 for every Hyper-V capability;
 * - KVM_GET_MSR_INDEX_LIST and KVM_GET_MSR_FEATURE_INDEX_LIST name no MSR
 *   of the synthetic range 0x40000000-0x400001ff;
 * - the Hyper-V ioctls and KVM_ENABLE_CAP of a Hyper-V capability fail as
 *   ioctls the kernel does not know (EINVAL, or ENOTTY on a VM fd).
 * Everything else goes to the kernel unchanged.  The guest still runs on
 * a kernel that has Hyper-V code, but the user path never enables it: its
 * MSR filter sends the synthetic MSRs to QEMU, and the kernel's hypercall
 * handling stays off while the kernel never sees a HYPERCALL MSR write.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/kvm.h>

#define HV_MSR_FIRST 0x40000000u
#define HV_MSR_LAST  0x400001ffu

static bool hyperv_cap(long cap)
{
    switch (cap) {
    case KVM_CAP_HYPERV:
    case KVM_CAP_HYPERV_VAPIC:
    case KVM_CAP_HYPERV_SPIN:
    case KVM_CAP_HYPERV_TIME:
    case KVM_CAP_HYPERV_SYNIC:
    case KVM_CAP_HYPERV_SYNIC2:
    case KVM_CAP_HYPERV_VP_INDEX:
    case KVM_CAP_HYPERV_EVENTFD:
    case KVM_CAP_HYPERV_TLBFLUSH:
    case KVM_CAP_HYPERV_SEND_IPI:
    case KVM_CAP_HYPERV_CPUID:
    case KVM_CAP_HYPERV_ENLIGHTENED_VMCS:
    case KVM_CAP_HYPERV_DIRECT_TLBFLUSH:
    case KVM_CAP_HYPERV_ENFORCE_CPUID:
    case KVM_CAP_SYS_HYPERV_CPUID:
        return true;
    default:
        return false;
    }
}

static long real_ioctl(int fd, unsigned long req, void *arg)
{
    return syscall(SYS_ioctl, fd, req, arg);
}

static int fail(int err)
{
    errno = err;
    return -1;
}

/* Drop the synthetic MSRs from a list the kernel has filled in. */
static void drop_hv_msrs(struct kvm_msr_list *list)
{
    uint32_t i, kept = 0;

    for (i = 0; i < list->nmsrs; i++) {
        uint32_t msr = list->indices[i];

        if (msr < HV_MSR_FIRST || msr > HV_MSR_LAST) {
            list->indices[kept++] = msr;
        }
    }
    list->nmsrs = kept;
}

int ioctl(int fd, unsigned long req, ...)
{
    va_list ap;
    void *arg;
    long r;

    va_start(ap, req);
    arg = va_arg(ap, void *);
    va_end(ap);

    switch (req) {
    case KVM_CHECK_EXTENSION:
        if (hyperv_cap((long)arg)) {
            return 0;
        }
        break;
    case KVM_ENABLE_CAP:
        if (arg && hyperv_cap(((struct kvm_enable_cap *)arg)->cap)) {
            return fail(EINVAL);
        }
        break;
    case KVM_GET_SUPPORTED_HV_CPUID:
        return fail(EINVAL);
    case KVM_HYPERV_EVENTFD:
        return fail(ENOTTY);
    case KVM_GET_MSR_INDEX_LIST:
    case KVM_GET_MSR_FEATURE_INDEX_LIST:
        r = real_ioctl(fd, req, arg);
        if (r == 0) {
            drop_hv_msrs(arg);
        }
        return r;
    }
    return real_ioctl(fd, req, arg);
}
