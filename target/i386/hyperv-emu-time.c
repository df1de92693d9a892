/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Hyper-V time on the user path: the partition reference counter
 * (TIME_REF_COUNT), the reference TSC page (REFERENCE_TSC), the frequency
 * MSRs, and the four synthetic timers of each vCPU (STIMER0..3_CONFIG and
 * _COUNT).  TLFS chapter "Timers".  Where the TLFS leaves room, we behave
 * as KVM's in-kernel emulation does, so that a guest sees the same thing
 * on the kernel and the user path, and migrates between them.
 *
 * Where reference time comes from (units of 100 ns):
 *  - TCG: from the guest TSC,  ref = ((tsc * scale) >> 64) + offset,  with
 *    exactly the scale and offset that the TSC page shows.  The MSR and
 *    the page are the same function of the TSC, so a guest comparing them
 *    can never see them disagree by more than the rounding of one unit.
 *    TCG's TSC runs at the rate of the host's counter, which QEMU is not
 *    told: hv_calibrate() measures it once per process.
 *  - KVM-U: from the guest TSC too, with the same formula, when the host
 *    TSC is stable and KVM runs the guest's at the host's rate: then the
 *    guest TSC is the host TSC plus an offset that the vCPU's thread reads
 *    from KVM (hv_time_kvm_sync()), and any thread can compute it.  The
 *    offset is read again after a stop, a reset and a migration, and
 *    meanwhile reference time runs on QEMU_CLOCK_VIRTUAL from where it
 *    was, so that it never counts the time the VM was stopped.  A host
 *    whose TSC is not stable, or a guest TSC that KVM scales, falls back
 *    to the case below, with a trace event saying why.
 *  - qtest, and KVM-U in that fallback: from QEMU_CLOCK_VIRTUAL.  qtest
 *    moves QEMU_CLOCK_VIRTUAL by hand, and reference time had better move
 *    with it.  The TSC page is
 *    then written with sequence 0, which the TLFS defines as "not valid,
 *    read the MSR".
 *
 * Threads and locks:
 *  - hv_time: source, host_hz and scale are set at the first realize
 *    (BQL, before any vCPU runs), and on KVM once more at the first start
 *    of the VM, and never change after.  offset and the KVM fields change
 *    with the BQL held, inside hv_time.lock, a seqlock that the readers
 *    of reference time (any thread, no BQL) go through.  ref_tsc and
 *    sequence: BQL.
 *  - HvEmuTime, HvEmuStimer, and env->msr_hv_tsc / msr_hv_stimer_config /
 *    msr_hv_stimer_count of every vCPU: BQL.  The MSR handlers run on the
 *    vCPU thread without it and take it (BQL_LOCK_GUARD, a no-op for a
 *    caller that holds it); the QEMU timers and the SynIC's completion
 *    callbacks run in the main loop with it.
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/error-report.h"
#include "qemu/host-utils.h"
#include "qemu/main-loop.h"
#include "qemu/rcu.h"
#include "qemu/seqlock.h"
#include "qemu/timer.h"
#include "exec/address-spaces.h"
#include "exec/memory.h"
#include "hw/hyperv/hyperv.h"
#include "hw/hyperv/hv-log.h"
#include "system/cpu-timers.h"
#include "system/reset.h"
#include "system/runstate.h"
#include "hw/core/cpu.h"
#include "system/tcg.h"
#include "hyperv-emu-int.h"
#include "trace.h"

/* TLFS: vectors 0-15 cannot be delivered; a direct-mode timer needs more. */
#define HV_STIMER_FIRST_VECTOR  16

/*
 * A timer due further out than this sleeps this long and looks again, so
 * that the conversion to QEMU nanoseconds cannot overflow.  One hour.
 */
#define HV_STIMER_MAX_WAIT      (3600 * HV_REF_TIME_HZ)

/*
 * A periodic timer fires at most once per this much QEMU time.  The guest
 * may ask for a period of 100 ns; a direct-mode timer does not wait for
 * the guest between ticks, so without a floor it would keep the main loop
 * busy.  200 us is what Linux KVM allows an APIC periodic timer.
 */
#define HV_STIMER_MIN_PERIOD_NS (200 * SCALE_US)

/* How soon to post again when the route could not take the message. */
#define HV_STIMER_RETRY_NS      SCALE_MS

/*
 * KVM: how often, and how many times, to ask again whether KVM's clock
 * is stable while the guest has the page on: 10 s of guest time.
 */
#define HV_TSC_KVM_RETRY_MS     100
#define HV_TSC_KVM_TRIES        100

/*
 * KVM, with the TSC chosen: how often to check that KVM still calls its
 * clock stable and that vCPU 0's offset has not moved (a guest write of
 * IA32_TSC), and how far QEMU's idea of the offset may be off (the
 * KVM_GET_MSRS way of reading it trails by an ioctl).
 */
#define HV_TSC_KVM_CHECK_MS     1000
#define HV_TSC_KVM_SLACK_DIV    10000   /* 100 us of the TSC's rate */

/* Calibration of the host counter: rounds of HV_CAL_WINDOW_US each. */
#define HV_CAL_ROUNDS           3
#define HV_CAL_WINDOW_US        20000
#define HV_CAL_TRIES            8

typedef enum HvRefSource {
    HV_REF_SRC_VCLOCK,      /* QEMU_CLOCK_VIRTUAL; the page is not valid */
    HV_REF_SRC_TSC,         /* the guest TSC through scale and offset */
} HvRefSource;

/*
 * Partition-wide time: one partition per QEMU process.  See the top of
 * the file for who writes what.
 */
static struct {
    bool ready;
    HvRefSource source;
    uint64_t host_hz;       /* TCG, KVM: calibrated host counter rate, or 0 */
    uint64_t scale;         /* HV_REF_SRC_TSC: 2^64 * 10^7 / TSC rate */
    int64_t offset;         /* reference time = f(source) + offset */
    uint64_t ref_tsc;       /* the REFERENCE_TSC MSR */
    uint32_t sequence;      /* of the last valid page written */
    QemuSeqLock lock;       /* offset and the fields below; BQL to write */
    bool kvm_decided;       /* KVM: the source was chosen (first start) */
    bool kvm;               /* KVM: the guest TSC is host TSC + kvm_off */
    bool kvm_synced;        /* kvm_off is KVM's offset now */
    int64_t kvm_off;
    uint64_t ref_mark;      /* !kvm_synced: reference time was this ... */
    int64_t vclock_mark;    /* ... at this QEMU_CLOCK_VIRTUAL time */
    QEMUTimer *kvm_retry;   /* !kvm_decided, page on: ask again (BQL) */
    unsigned kvm_tries;
    QEMUTimer *kvm_check;   /* kvm: is KVM's clock still what we took? */
} hv_time;

static const HvEmuTscAccel *hv_tsc_accel;

void x86_hyperv_emu_set_tsc_accel(const HvEmuTscAccel *accel)
{
    hv_tsc_accel = accel;
}

/*
 * What a synthetic timer is doing.  All transitions happen with the BQL:
 *   IDLE -> ARMED     CONFIG/COUNT write, post_load, periodic re-arm
 *   ARMED -> POSTED   expiry in message mode: the SynIC route has the
 *                     message (in the slot, or staged behind a full slot)
 *   POSTED -> ...     the route's completion: delivered, or lost
 *   any -> IDLE       CONFIG/COUNT write, reset
 * While POSTED the timer does not fire again (KVM: no timer fires while
 * its message waits for the slot).
 */
typedef enum HvEmuStimerState {
    HV_STIMER_IDLE,
    HV_STIMER_ARMED,
    HV_STIMER_POSTED,
} HvEmuStimerState;

typedef struct HvEmuStimer {
    HvEmuTime *time;
    uint32_t index;
    QEMUTimer *timer;           /* QEMU_CLOCK_VIRTUAL, main loop */
    HvSintRoute *route;         /* message mode, made when first needed */
    uint32_t route_sint;
    HvEmuStimerState state;
    uint64_t exp_time;          /* reference time due; 0: none (KVM's) */
} HvEmuStimer;

/* The vCPU's timers; cpu->hv_emu->time.  BQL. */
struct HvEmuTime {
    X86CPU *cpu;
    HvEmuStimer stimer[HV_STIMER_COUNT];
};

static uint32_t hv_vp(X86CPU *cpu)
{
    return hyperv_vp_index(CPU(cpu));
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* --- where the guest's TSC comes from ----------------------------------- */

/*
 * The TSC as the guest reads it, from any thread.  Under TCG, RDTSC
 * outside SVM guest mode returns cpu_get_tsc(), shared by all vCPUs and
 * safe to call from any thread.
 *
 * Under KVM the TSC is in the kernel, and only the vCPU's own thread can
 * ask for it.  When KVM runs it at the host's rate, it is the host TSC
 * plus an offset, which hv_time_kvm_sync() learns on a vCPU thread; from
 * then on any thread computes it.  Until then (and in the fallback) the
 * answer is false.  Inside hv_time.lock's read section.
 */
static bool hv_emu_guest_tsc(X86CPU *cpu, uint64_t *tsc)
{
    if (tcg_enabled()) {
        *tsc = cpu_get_tsc(&cpu->env);
        return true;
    }
    if (hv_time.kvm && hv_time.kvm_synced) {
        *tsc = cpu_get_host_ticks() + hv_time.kvm_off;
        return true;
    }
    return false;
}

/*
 * The rate of the guest TSC in Hz, 0 when unknown.  Under TCG that is the
 * host counter (or, with icount, virtual nanoseconds), whatever
 * tsc-frequency says, because TCG's RDTSC ignores it.  KVM fills
 * env->tsc_khz from the kernel, which runs the guest TSC at that rate.
 */
static uint64_t hv_emu_tsc_hz(X86CPU *cpu)
{
    if (tcg_enabled()) {
        return icount_enabled() ? NANOSECONDS_PER_SECOND : hv_time.host_hz;
    }
    return cpu->env.tsc_khz > 0 ? cpu->env.tsc_khz * 1000ull : 0;
}

/* --- calibration of the host counter (TCG) ------------------------------ */

static int64_t hv_raw_ns(void)
{
    struct timespec ts;

#ifdef CLOCK_MONOTONIC_RAW
    clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
#else
    clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
    return ts.tv_sec * NANOSECONDS_PER_SECOND + ts.tv_nsec;
}

/*
 * One (time, ticks) pair: the counter read between two clock reads, from
 * the tightest of a few tries, so that a preemption in between does not
 * count.
 */
static void hv_cal_sample(int64_t *ns, int64_t *ticks)
{
    int64_t best = INT64_MAX;
    int i;

    for (i = 0; i < HV_CAL_TRIES; i++) {
        int64_t t0 = hv_raw_ns();
        int64_t tk = cpu_get_host_ticks();
        int64_t t1 = hv_raw_ns();

        if (t1 - t0 < best) {
            best = t1 - t0;
            *ns = t0 + (t1 - t0) / 2;
            *ticks = tk;
        }
    }
}

/* The counter's rate over one window, or 0 if it went wrong. */
static uint64_t hv_cal_round(void)
{
    int64_t ns0, tk0, ns1, tk1;
    uint64_t lo, hi;

    hv_cal_sample(&ns0, &tk0);
    g_usleep(HV_CAL_WINDOW_US);
    hv_cal_sample(&ns1, &tk1);
    if (ns1 <= ns0 || tk1 <= tk0) {
        return 0;
    }
    mulu64(&lo, &hi, tk1 - tk0, NANOSECONDS_PER_SECOND);
    divu128(&lo, &hi, ns1 - ns0);
    return hi ? 0 : lo;
}

/*
 * The host counter's rate in Hz: the median of HV_CAL_ROUNDS windows of
 * 20 ms against CLOCK_MONOTONIC_RAW (not slewed by NTP), about 60 ms once
 * per process.  Each end of a window is known to within half a clock read
 * (tens of ns), so one window is good to a few ppm, and the median throws
 * out a window that a preemption spoiled.  Expect the rate within ~10 ppm
 * of the kernel's own idea of the TSC rate (which CLOCK_MONOTONIC_RAW
 * follows), i.e. under a second a day.  0 if every round failed.
 */
static uint64_t hv_calibrate(void)
{
    uint64_t hz[HV_CAL_ROUNDS];
    int n = 0, i, j;

    for (i = 0; i < HV_CAL_ROUNDS; i++) {
        uint64_t v = hv_cal_round();

        if (!v) {
            continue;
        }
        /* Insertion sort: the array is tiny. */
        for (j = n; j > 0 && hz[j - 1] > v; j--) {
            hz[j] = hz[j - 1];
        }
        hz[j] = v;
        n++;
    }
    return n ? hz[n / 2] : 0;
}

/* --- reference time ------------------------------------------------------ */

/*
 * 2^64 * 10^7 / @hz: the TLFS scale for a TSC of @hz.  It fits in 64 bits
 * only for a TSC faster than 10 MHz; 0 otherwise (no valid page).
 */
static uint64_t hv_tsc_scale(uint64_t hz)
{
    uint64_t lo = 0, hi = HV_REF_TIME_HZ;

    if (hz <= HV_REF_TIME_HZ) {
        return 0;
    }
    divu128(&lo, &hi, hz);
    return lo;
}

/* The TLFS formula, exactly as the guest evaluates the page. */
static uint64_t hv_tsc_to_ref(uint64_t tsc, uint64_t scale, int64_t offset)
{
    uint64_t lo, hi;

    mulu64(&lo, &hi, tsc, scale);
    return hi + offset;
}

/* Reference time from QEMU_CLOCK_VIRTUAL on from a mark (KVM). */
static uint64_t hv_ref_from_mark(void)
{
    return hv_time.ref_mark +
           (qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) - hv_time.vclock_mark) / 100;
}

/* Reference time now.  Any thread, no lock held (see the top). */
static uint64_t hv_ref_now(X86CPU *cpu)
{
    uint64_t tsc, ref;
    unsigned seq;

    do {
        seq = seqlock_read_begin(&hv_time.lock);
        if (hv_time.source == HV_REF_SRC_TSC && hv_emu_guest_tsc(cpu, &tsc)) {
            ref = hv_tsc_to_ref(tsc, hv_time.scale, hv_time.offset);
        } else if (hv_time.kvm) {
            ref = hv_ref_from_mark();
        } else {
            ref = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) / 100 + hv_time.offset;
        }
    } while (seqlock_read_retry(&hv_time.lock, seq));
    return ref;
}

/* --- the guest TSC on KVM ------------------------------------------------ */

static void hv_tsc_page_write(X86CPU *cpu, hwaddr gpa);
static void hv_time_kvm_retry_arm(void);
static X86CPU *hv_time_cpu(void);
static void hv_time_kvm_fallback(X86CPU *cpu, const char *why);

/*
 * The VM stops, resets or has loaded a migrated state: KVM's TSC offset
 * may change (reset and load write the TSC) and the guest TSC runs on
 * while the VM is stopped, which reference time must not count.  From
 * here reference time runs on QEMU_CLOCK_VIRTUAL from @ref, until the
 * next hv_time_kvm_sync().  BQL.
 */
static void hv_time_kvm_unsync(uint64_t ref)
{
    if (!hv_time.kvm) {
        return;
    }
    seqlock_write_begin(&hv_time.lock);
    hv_time.ref_mark = ref;
    hv_time.vclock_mark = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    hv_time.kvm_synced = false;
    seqlock_write_end(&hv_time.lock);
}

/*
 * On @cpu's thread, outside KVM_RUN, BQL held: learn KVM's TSC offset
 * again and continue reference time from the mark with the TSC, the page
 * (if enabled) written anew.  The callers do this before any vCPU runs,
 * except after a reset, when the guest has not enabled the page again.
 */
static void hv_time_kvm_sync(X86CPU *cpu)
{
    uint64_t host, guest, ref;

    if (!hv_time.kvm || hv_time.kvm_synced) {
        return;
    }
    if (!hv_tsc_accel->stable()) {
        hv_time_kvm_fallback(cpu, "KVM's clock is no longer stable");
        return;
    }
    if (!hv_tsc_accel->sample(cpu, &host, &guest)) {
        hv_time_kvm_fallback(cpu, "KVM gave no guest TSC at the host's rate");
        return;
    }
    seqlock_write_begin(&hv_time.lock);
    ref = hv_ref_from_mark();
    hv_time.kvm_off = guest - host;
    hv_time.offset = ref - hv_tsc_to_ref(cpu_get_host_ticks() +
                                         hv_time.kvm_off, hv_time.scale, 0);
    hv_time.kvm_synced = true;
    seqlock_write_end(&hv_time.lock);
    trace_hv_emu_tsc_kvm_sync(hv_vp(cpu), hv_time.kvm_off, hv_time.offset);
    if (hv_time.ref_tsc & HV_REFERENCE_TSC_ENABLE) {
        hv_tsc_page_write(cpu, hv_time.ref_tsc & HV_REFERENCE_TSC_GPA_MASK);
    }
    timer_mod(hv_time.kvm_check, qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL) +
                                 HV_TSC_KVM_CHECK_MS);
}

/*
 * Give the TSC up (BQL): reference time continues on QEMU_CLOCK_VIRTUAL
 * from where it is, the page (if on) goes to sequence 0, and the choice
 * is open again (hv_time_kvm_decide()).
 */
static void hv_time_kvm_fallback(X86CPU *cpu, const char *why)
{
    uint64_t ref = hv_ref_now(cpu);

    seqlock_write_begin(&hv_time.lock);
    hv_time.offset = ref - qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) / 100;
    hv_time.source = HV_REF_SRC_VCLOCK;
    hv_time.kvm = false;
    hv_time.kvm_synced = false;
    hv_time.kvm_decided = false;
    seqlock_write_end(&hv_time.lock);
    trace_hv_emu_tsc_kvm(cpu->env.tsc_khz * 1000ull, hv_time.host_hz, why);
    timer_del(hv_time.kvm_check);
    if (hv_time.ref_tsc & HV_REFERENCE_TSC_ENABLE) {
        hv_tsc_page_write(cpu, hv_time.ref_tsc & HV_REFERENCE_TSC_GPA_MASK);
        hv_time_kvm_retry_arm();
    }
}

/*
 * Every HV_TSC_KVM_CHECK_MS of guest time, on vCPU 0's thread: still
 * stable, and the offset where it was?  A moved offset (the guest wrote
 * IA32_TSC) is learnt again, reference time continuing; a clock that is
 * no longer stable (as when KVM drops its own page) gives the TSC up.
 */
static void hv_time_kvm_check_work(CPUState *cs, run_on_cpu_data data)
{
    X86CPU *cpu = X86_CPU(cs);
    uint64_t host, guest, slack = hv_time.host_hz / HV_TSC_KVM_SLACK_DIV;
    int64_t moved;

    if (!hv_time.kvm || !hv_time.kvm_synced) {
        return;
    }
    if (!hv_tsc_accel->stable() || !hv_tsc_accel->sample(cpu, &host, &guest)) {
        hv_time_kvm_fallback(cpu, "KVM's clock is no longer stable");
        return;
    }
    moved = guest - host - hv_time.kvm_off;
    if (moved > (int64_t)slack || moved < -(int64_t)slack) {
        hv_time_kvm_unsync(hv_ref_now(cpu));
        hv_time_kvm_sync(cpu);
        return;
    }
    timer_mod(hv_time.kvm_check, qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL) +
                                 HV_TSC_KVM_CHECK_MS);
}

static void hv_time_kvm_check(void *opaque)
{
    X86CPU *cpu = hv_time_cpu();

    if (cpu && hv_time.kvm && hv_time.kvm_synced) {
        async_run_on_cpu(CPU(cpu), hv_time_kvm_check_work, RUN_ON_CPU_NULL);
    }
}

static void hv_time_kvm_sync_work(CPUState *cs, run_on_cpu_data data)
{
    hv_time_kvm_sync(X86_CPU(cs));
}

/*
 * Whether reference time can come from the guest TSC on KVM: it needs a
 * host TSC that KVM calls stable (KVM says so only once it runs its
 * clock from the TSC for every vCPU, which takes the vCPUs having run),
 * and a guest TSC at the host's rate, which KVM keeps within its
 * tolerance of 250 ppm without scaling.  Asked, like KVM asks for its own
 * page, each time the guest enables the page until the answer is yes or
 * cannot change.  On @cpu's thread, BQL held.
 */
static void hv_time_kvm_decide(X86CPU *cpu)
{
    uint64_t guest_hz = cpu->env.tsc_khz * 1000ull, host_hz = hv_time.host_hz;
    uint64_t ref;
    const char *why = NULL;

    if (hv_time.kvm_decided) {
        hv_time_kvm_sync(cpu);
        return;
    }
    if (!x86_hyperv_emu_kvm()) {
        return;
    }
    if (!hv_tsc_accel || !host_hz) {
        why = "the host TSC rate is unknown";
    } else if (!guest_hz ||
               (guest_hz > host_hz ? guest_hz - host_hz : host_hz - guest_hz) >
               host_hz / 4000) {
        why = "KVM scales the guest TSC (tsc-frequency differs from the "
              "host's)";
    } else if (!hv_tsc_scale(host_hz)) {
        why = "the TSC is too slow";
    } else if (!hv_tsc_accel->stable()) {
        /* Not yet, perhaps: asked again in a while, and at each enable. */
        trace_hv_emu_tsc_kvm(guest_hz, host_hz, "KVM's clock is not stable");
        hv_time_kvm_retry_arm();
        return;
    }
    hv_time.kvm_decided = true;
    trace_hv_emu_tsc_kvm(guest_hz, host_hz, why ? why : "TSC page valid");
    if (why) {
        return;
    }
    ref = hv_ref_now(cpu);
    seqlock_write_begin(&hv_time.lock);
    hv_time.ref_mark = ref;
    hv_time.vclock_mark = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    hv_time.scale = hv_tsc_scale(host_hz);
    hv_time.source = HV_REF_SRC_TSC;
    hv_time.kvm = true;
    hv_time.kvm_synced = false;
    seqlock_write_end(&hv_time.lock);
    hv_time_kvm_sync(cpu);
}

static void hv_time_kvm_decide_work(CPUState *cs, run_on_cpu_data data)
{
    hv_time_kvm_decide(X86_CPU(cs));
}

/*
 * While the page is on and the question open (the guest enabled it
 * before KVM's clock was stable, or enabled it on a migration source),
 * ask again every HV_TSC_KVM_RETRY_MS of guest time, HV_TSC_KVM_TRIES
 * times at most, on the vCPU's thread.  Main loop, BQL.
 */
static void hv_time_kvm_retry(void *opaque)
{
    X86CPU *cpu = hv_time_cpu();

    if (cpu && !hv_time.kvm_decided &&
        (hv_time.ref_tsc & HV_REFERENCE_TSC_ENABLE)) {
        async_run_on_cpu(CPU(cpu), hv_time_kvm_decide_work, RUN_ON_CPU_NULL);
    }
}

static void hv_time_kvm_retry_arm(void)
{
    if (hv_time.kvm_retry && hv_time.kvm_tries < HV_TSC_KVM_TRIES &&
        !timer_pending(hv_time.kvm_retry)) {
        hv_time.kvm_tries++;
        timer_mod(hv_time.kvm_retry, qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL) +
                                     HV_TSC_KVM_RETRY_MS);
    }
}

/* The vCPU that stands for the partition's TSC: the first of ours. */
/* hyperv_ref_time() on this path. */
static bool hv_emu_ref_time(uint64_t *ref)
{
    X86CPU *cpu = hv_time_cpu();

    if (!cpu) {
        return false;
    }
    *ref = hv_ref_now(cpu);
    return true;
}

static X86CPU *hv_time_cpu(void)
{
    CPUState *cs;

    CPU_FOREACH(cs) {
        if (X86_CPU(cs)->hv_emu) {
            return X86_CPU(cs);
        }
    }
    return NULL;
}

/* KVM: stop and start (BQL; the vCPUs are not running). */
static void hv_time_vm_state(void *opaque, bool running, RunState state)
{
    X86CPU *cpu = hv_time_cpu();

    if (!cpu) {
        return;
    }
    if (!running) {
        hv_time_kvm_unsync(hv_ref_now(cpu));
        return;
    }
    if (hv_time.kvm && !hv_time.kvm_synced) {
        run_on_cpu(CPU(cpu), hv_time_kvm_sync_work, RUN_ON_CPU_NULL);
    }
}

/*
 * System reset: REFERENCE_TSC is partition-wide and goes back to 0 on
 * every vCPU.  hv_emu_time_reset() copies hv_time.ref_tsc into the vCPU's
 * env (so that an INIT, which clears env, keeps it); whichever of the two
 * runs first, both end at 0.  Reference time itself keeps counting: it
 * belongs to the partition, not to a boot, as on KVM.
 */
static void hv_time_system_reset(void *opaque)
{
    CPUState *cs;
    X86CPU *cpu = hv_time_cpu();

    /* KVM: the reset writes the TSC; learn the new offset when next used. */
    if (cpu) {
        hv_time_kvm_unsync(hv_ref_now(cpu));
    }
    hv_time.ref_tsc = 0;
    /* Each boot may ask again as often as the first (until decided). */
    hv_time.kvm_tries = 0;
    CPU_FOREACH(cs) {
        X86_CPU(cs)->env.msr_hv_tsc = 0;
    }
}

/*
 * Once, at the first realize of a vCPU with a time feature (BQL, before
 * the VM runs).  The offset makes reference time start at 0 now; the
 * guest TSC and QEMU_CLOCK_VIRTUAL are both still 0 at this point, unless
 * a vCPU is hot-plugged first, which is as good.
 */
static void hv_time_init(X86CPU *cpu)
{
    uint64_t tsc;

    if (hv_time.ready) {
        return;
    }
    hv_time.ready = true;
    seqlock_init(&hv_time.lock);
    if (x86_hyperv_emu_kvm()) {
        /* hv_time_kvm_decide() may pick the TSC once the guest runs. */
        hv_time.host_hz = hv_calibrate();
        hv_time.kvm_retry = timer_new_ms(QEMU_CLOCK_VIRTUAL,
                                         hv_time_kvm_retry, NULL);
        hv_time.kvm_check = timer_new_ms(QEMU_CLOCK_VIRTUAL,
                                         hv_time_kvm_check, NULL);
        qemu_add_vm_change_state_handler(hv_time_vm_state, NULL);
    }
    if (tcg_enabled() && !icount_enabled()) {
        hv_time.host_hz = hv_calibrate();
        if (!hv_time.host_hz) {
            warn_report("Hyper-V: could not measure the host TSC rate; "
                        "reference time follows QEMU's virtual clock");
        }
    }
    hv_time.scale = hv_tsc_scale(hv_emu_tsc_hz(cpu));
    if (hv_time.scale && hv_emu_guest_tsc(cpu, &tsc)) {
        hv_time.source = HV_REF_SRC_TSC;
        hv_time.offset = -(int64_t)hv_tsc_to_ref(tsc, hv_time.scale, 0);
    } else {
        hv_time.source = HV_REF_SRC_VCLOCK;
        hv_time.offset = -(qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) / 100);
    }
    qemu_register_reset(hv_time_system_reset, NULL);
    trace_hv_emu_time_init(hv_time.source, hv_emu_tsc_hz(cpu), hv_time.scale,
                           hv_time.offset);
}

/* --- the reference TSC page ---------------------------------------------- */

static void hv_guest_write(hwaddr gpa, void *buf, hwaddr len)
{
    hyperv_guest_ram_rw(gpa, buf, len, true);
}

/*
 * Write the TSC page at @gpa (BQL).  A guest on another vCPU may read it
 * meanwhile: the sequence goes to 0 first (the guest then reads the MSR,
 * which agrees), then the body, then the new sequence, as the TLFS's
 * reader loop expects.  Without a TSC source the page stays at sequence
 * 0.  A GPA that is not RAM keeps the MSR value but gets no page (KVM
 * marks its page as failed and the guest sees the same: no valid page).
 * Only the fields the TLFS defines are written (the first 24 bytes, as
 * KVM writes them): the rest of the page is the guest's.
 */
static void hv_tsc_page_write(X86CPU *cpu, hwaddr gpa)
{
    /* tsc_sequence, _reserved1, tsc_scale, tsc_offset */
    uint8_t hdr[offsetof(struct hyperv_reference_tsc_page, _reserved2)] = {};
    const hwaddr body = offsetof(struct hyperv_reference_tsc_page, _reserved1);
    uint32_t seq = HV_REFERENCE_TSC_SEQ_INVALID;

    if (!hyperv_is_guest_ram(gpa, HV_PAGE_SIZE, true)) {
        hv_guest_error("VP %u: reference TSC page at 0x%" HWADDR_PRIx
                       " is not RAM; not written", hv_vp(cpu), gpa);
        trace_hv_emu_tsc_page_not_ram(gpa);
        return;
    }
    /* On KVM, not between a stop or load and the next sync. */
    if (hv_time.source == HV_REF_SRC_TSC &&
        (!hv_time.kvm || hv_time.kvm_synced)) {
        seq = hv_time.sequence + 1;
        if (seq == HV_REFERENCE_TSC_SEQ_INVALID ||
            seq == HV_REFERENCE_TSC_SEQ_OLD_INVALID) {
            seq = 1;
        }
        hv_time.sequence = seq;
        stq_le_p(hdr + offsetof(struct hyperv_reference_tsc_page, tsc_scale),
                 hv_time.scale);
        stq_le_p(hdr + offsetof(struct hyperv_reference_tsc_page, tsc_offset),
                 hv_time.offset);
    }
    /* hdr's sequence is still HV_REFERENCE_TSC_SEQ_INVALID (0). */
    hv_guest_write(gpa, hdr, body);
    /* The guest must see the page invalid before the body changes ... */
    smp_wmb();
    hv_guest_write(gpa + body, hdr + body, sizeof(hdr) - body);
    /* ... and the whole body before the sequence that validates it. */
    smp_wmb();
    stl_le_p(hdr, seq);
    hv_guest_write(gpa, hdr, body);
    trace_hv_emu_tsc_page(gpa, seq);
}

/*
 * REFERENCE_TSC is partition-wide (KVM keeps one per VM): the value is
 * the partition's, and every vCPU's env carries a copy because the
 * migration stream holds it per vCPU.  BQL.
 */
static void hv_ref_tsc_set(X86CPU *cpu, uint64_t val)
{
    CPUState *cs;

    hv_time.ref_tsc = val;
    CPU_FOREACH(cs) {
        X86_CPU(cs)->env.msr_hv_tsc = val;
    }
    if (val & HV_REFERENCE_TSC_ENABLE) {
        hv_tsc_page_write(cpu, val & HV_REFERENCE_TSC_GPA_MASK);
    }
}

/*
 * After migration (BQL, VM stopped): carry on the reference time the
 * guest saw on the source.  The page in guest RAM holds the source's
 * scale and offset, and the guest TSC came along (under TCG in QEMU's
 * migrated tick offset), so the source's reference time now is known and
 * our offset is chosen to continue it, even if the two hosts' counters
 * (or just their calibrations) differ.  Without a valid page this is not
 * possible: reference time then jumps by the calibration difference
 * times the guest's uptime (a few ppm).  From QEMU_CLOCK_VIRTUAL, which
 * migrates, with offset 0 on both sides, it is continuous anyway.
 * On KVM the mark of hv_time_kvm_unsync() takes the source's time, and
 * the start continues it from KVM's TSC (or QEMU_CLOCK_VIRTUAL does, if
 * the TSC is not chosen yet).  Running it once per vCPU is harmless:
 * after the first, the page holds our own scale and the rebased offset,
 * or (KVM) sequence 0 until the start.
 */
static void hv_time_rebase(X86CPU *cpu, hwaddr gpa)
{
    uint8_t hdr[offsetof(struct hyperv_reference_tsc_page, _reserved2)];
    bool kvm = x86_hyperv_emu_kvm();
    uint64_t tsc = 0, scale, ref;
    int64_t offset;
    uint32_t seq;

    /*
     * On KVM the guest TSC stands still in env->tsc, loaded from the
     * stream, until the VM starts.
     */
    if (kvm) {
        tsc = cpu->env.tsc;
    } else if (hv_time.source != HV_REF_SRC_TSC ||
               !hv_emu_guest_tsc(cpu, &tsc)) {
        return;
    }
    if (!hyperv_is_guest_ram(gpa, HV_PAGE_SIZE, false) ||
        address_space_read(&address_space_memory, gpa, MEMTXATTRS_UNSPECIFIED,
                           hdr, sizeof(hdr)) != MEMTX_OK) {
        return;
    }
    seq = ldl_le_p(hdr + offsetof(struct hyperv_reference_tsc_page,
                                  tsc_sequence));
    scale = ldq_le_p(hdr + offsetof(struct hyperv_reference_tsc_page,
                                    tsc_scale));
    if (seq == HV_REFERENCE_TSC_SEQ_INVALID ||
        seq == HV_REFERENCE_TSC_SEQ_OLD_INVALID || !scale) {
        return;
    }
    offset = ldq_le_p(hdr + offsetof(struct hyperv_reference_tsc_page,
                                     tsc_offset));
    ref = hv_tsc_to_ref(tsc, scale, offset);
    hv_time.sequence = seq;
    seqlock_write_begin(&hv_time.lock);
    if (!kvm) {
        hv_time.offset = ref - hv_tsc_to_ref(tsc, hv_time.scale, 0);
    } else if (!hv_time.kvm) {
        /*
         * KVM, the TSC not chosen (yet: a VM that never ran cannot tell):
         * QEMU_CLOCK_VIRTUAL continues the source's time, and the choice
         * is asked again once the guest runs.
         */
        hv_time.offset = ref - qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) / 100;
    }
    seqlock_write_end(&hv_time.lock);
    /* KVM with the TSC chosen: it continues from here at the start. */
    hv_time_kvm_unsync(ref);
    if (kvm && !hv_time.kvm_decided) {
        hv_time.kvm_tries = 0;
        hv_time_kvm_retry_arm();
    }
    trace_hv_emu_time_rebase(seq, hv_time.offset);
}

/* --- synthetic timers ----------------------------------------------------- */

static X86CPU *stimer_cpu(HvEmuStimer *st)
{
    return st->time->cpu;
}

static uint64_t *stimer_config(HvEmuStimer *st)
{
    return &stimer_cpu(st)->env.msr_hv_stimer_config[st->index];
}

static uint64_t *stimer_count(HvEmuStimer *st)
{
    return &stimer_cpu(st)->env.msr_hv_stimer_count[st->index];
}

static uint32_t stimer_vector(uint64_t config)
{
    return (config & HV_STIMER_VECTOR_MASK) >> HV_STIMER_VECTOR_SHIFT;
}

static uint32_t stimer_sint(uint64_t config)
{
    return (config & HV_STIMER_SINT_MASK) >> HV_STIMER_SINT_SHIFT;
}

/*
 * Why a CONFIG value is refused, or NULL.  Reserved bits: #GP (a
 * decision; KVM stores them).  Direct mode needs hv-stimer-direct (KVM,
 * with enforced CPUID, says the same).  A direct-mode timer that can
 * fire (enabled, or auto-enabled by COUNT) needs a deliverable vector, as
 * an unmasked SINT does (TLFS; KVM does not check timers).
 */
static const char *stimer_config_error(X86CPU *cpu, uint64_t config)
{
    if (config & HV_STIMER_RESERVED) {
        return "reserved bits set";
    }
    if (!(config & HV_STIMER_DIRECT_MODE)) {
        return NULL;
    }
    if (!hyperv_feat_enabled(cpu, HYPERV_FEAT_STIMER_DIRECT)) {
        return "direct mode is not offered";
    }
    if ((config & (HV_STIMER_ENABLE | HV_STIMER_AUTO_ENABLE)) &&
        stimer_vector(config) < HV_STIMER_FIRST_VECTOR) {
        return "direct-mode vector below 16";
    }
    return NULL;
}

static void stimer_msg_done(void *data, int status);

/*
 * The route for message mode to SINT @sint of this vCPU, made when first
 * needed and replaced when the SINT changes.  Never called while a message
 * is POSTED on the current route.  NULL when the SynIC refuses.
 */
static HvSintRoute *stimer_route(HvEmuStimer *st, uint32_t sint)
{
    HvSintRoute *r;

    if (st->route && st->route_sint == sint) {
        return st->route;
    }
    r = hyperv_sint_route_new(hv_vp(stimer_cpu(st)), sint, stimer_msg_done,
                              st);
    if (!r) {
        return NULL;
    }
    hyperv_sint_route_unref(st->route);
    st->route = r;
    st->route_sint = sint;
    return r;
}

/*
 * Forget a message still waiting on the route: KVM drops a pending timer
 * message when the timer is reprogrammed.  A route's staged message dies
 * with the route, so a fresh route to the same SINT replaces it; made
 * before the old one goes, it keeps the SINT's interrupt source connected.
 */
static void stimer_route_renew(HvEmuStimer *st)
{
    HvSintRoute *old = st->route;

    st->route = hyperv_sint_route_new(hv_vp(stimer_cpu(st)), st->route_sint,
                                      stimer_msg_done, st);
    hyperv_sint_route_unref(old);
}

/* Stop the timer, as KVM's stimer_cleanup(): nothing due, nothing sent. */
static void stimer_cleanup(HvEmuStimer *st)
{
    timer_del(st->timer);
    if (st->state == HV_STIMER_POSTED) {
        stimer_route_renew(st);
    }
    st->state = HV_STIMER_IDLE;
    st->exp_time = 0;
}

/*
 * Wait for reference time @exp.  QEMU_CLOCK_VIRTUAL and reference time
 * advance at the same rate up to the calibration error, so the QEMU
 * timer may fire a little early; stimer_cb() then waits for the rest.
 * @min_ns is the least QEMU time to wait.
 */
static void stimer_arm(HvEmuStimer *st, uint64_t exp, uint64_t now,
                       int64_t min_ns)
{
    uint64_t wait = exp > now ? MIN(exp - now, HV_STIMER_MAX_WAIT) : 0;

    st->exp_time = exp;
    st->state = HV_STIMER_ARMED;
    trace_hv_emu_stimer_arm(hv_vp(stimer_cpu(st)), st->index, now, exp);
    timer_mod(st->timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
                         MAX((int64_t)wait * 100, min_ns));
}

/*
 * The next expiration of a periodic timer of @period after @now: one
 * period from now when it starts (@exp 0), @exp while that is still
 * ahead, else the next point of @exp's grid after now.  Missed periods
 * are skipped, not delivered late (KVM does the same; "lazy" in the
 * TLFS's terms).  @period is not 0.
 */
static uint64_t stimer_next_period(uint64_t exp, uint64_t period,
                                   uint64_t now)
{
    if (!exp) {
        return sat_add(now, period);
    }
    if (now < exp) {
        return exp;
    }
    return sat_add(now, period - (now - exp) % period);
}

/*
 * Start an enabled timer (KVM's stimer_start()).  One-shot: COUNT is the
 * absolute reference time; one in the past expires at once (TLFS).
 * Periodic: COUNT is the period.
 */
static void stimer_start(HvEmuStimer *st)
{
    uint64_t config = *stimer_config(st);
    uint64_t count = *stimer_count(st);
    uint64_t now = hv_ref_now(stimer_cpu(st));

    if (config & HV_STIMER_PERIODIC) {
        stimer_arm(st, stimer_next_period(st->exp_time, count, now), now, 0);
    } else {
        stimer_arm(st, count, now, 0);
    }
}

/*
 * After CONFIG or COUNT changed (or migration): run the timer if it is
 * enabled with a non-zero COUNT.  An enabled timer with COUNT 0 stays
 * idle, as on KVM.  The route is made now rather than at expiry, so that
 * the first expiration does not pay for it.
 */
static void stimer_apply(HvEmuStimer *st)
{
    uint64_t config = *stimer_config(st);

    if (!(config & HV_STIMER_ENABLE) || !*stimer_count(st)) {
        return;
    }
    if (!(config & HV_STIMER_DIRECT_MODE)) {
        stimer_route(st, stimer_sint(config));
    }
    stimer_start(st);
}

/* A periodic timer goes on after an expiration; one-shot ones stop. */
static void stimer_next(HvEmuStimer *st)
{
    uint64_t config = *stimer_config(st);
    uint64_t count = *stimer_count(st);
    uint64_t now;

    if (!(config & HV_STIMER_PERIODIC) || !(config & HV_STIMER_ENABLE) ||
        !count) {
        st->state = HV_STIMER_IDLE;
        return;
    }
    now = hv_ref_now(stimer_cpu(st));
    stimer_arm(st, stimer_next_period(st->exp_time, count, now), now,
               HV_STIMER_MIN_PERIOD_NS);
}

/* The expiration reached the guest.  A one-shot timer disables itself. */
static void stimer_delivered(HvEmuStimer *st)
{
    if (!(*stimer_config(st) & HV_STIMER_PERIODIC)) {
        *stimer_config(st) &= ~HV_STIMER_ENABLE;
    }
    stimer_next(st);
}

/*
 * The expiration could not be delivered (no message page, no route, bad
 * vector).  A periodic timer loses the tick and goes on; a one-shot timer
 * stays enabled and silent until reprogrammed, as KVM leaves it (KVM
 * would retry on an EOM of that SINT; a guest without a message page
 * writes none, so we do not wait for one).
 */
static void stimer_lost(HvEmuStimer *st, const char *why)
{
    hv_guest_error("VP %u STIMER%u: expiration lost: %s",
                   hv_vp(stimer_cpu(st)), st->index, why);
    trace_hv_emu_stimer_lost(hv_vp(stimer_cpu(st)), st->index, why);
    stimer_next(st);
}

/* Try the same expiration again a little later. */
static void stimer_retry(HvEmuStimer *st)
{
    st->state = HV_STIMER_ARMED;
    timer_mod(st->timer,
              qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + HV_STIMER_RETRY_NS);
}

/*
 * The SynIC's completion of our message (main loop, BQL): 0 once it is
 * in the slot, -ENXIO when the guest has no message page (SynIC or SIMP
 * disabled, also while it was staged), -EAGAIN to post again.  A masked
 * SINT does not stop a message: it sits in the slot and the SINT is
 * raised on unmask (KVM leaves it in the slot too).
 */
static void stimer_msg_done(void *data, int status)
{
    HvEmuStimer *st = data;

    trace_hv_emu_stimer_done(hv_vp(stimer_cpu(st)), st->index, status);
    if (st->state != HV_STIMER_POSTED) {
        return;
    }
    if (!status) {
        stimer_delivered(st);
    } else if (status == -EAGAIN) {
        stimer_retry(st);
    } else {
        stimer_lost(st, "no message page");
    }
}

/*
 * Message mode: HV_MESSAGE_TIMER_EXPIRED to the timer's SINT.  When the
 * slot is full the SynIC stages the message and delivers it on the
 * guest's EOM; the timer waits for that (POSTED).  The delivery time is
 * when we post, also for a message that waited.
 */
static void stimer_post(HvEmuStimer *st, uint64_t config, uint64_t now)
{
    struct hyperv_timer_message_payload pl = {
        .timer_index = cpu_to_le32(st->index),
        .expiration_time = cpu_to_le64(st->exp_time),
        .delivery_time = cpu_to_le64(now),
    };
    struct hyperv_message msg = {
        .header.message_type = HV_MESSAGE_TIMER_EXPIRED,
        .header.payload_size = sizeof(pl),
    };
    HvSintRoute *route = stimer_route(st, stimer_sint(config));
    int ret;

    if (!route) {
        stimer_lost(st, "no SINT route");
        return;
    }
    memcpy(msg.payload, &pl, sizeof(pl));
    ret = hyperv_post_msg(route, &msg);
    if (!ret) {
        st->state = HV_STIMER_POSTED;
    } else if (ret == -EAGAIN) {
        stimer_retry(st);
    } else {
        stimer_lost(st, "message refused");
    }
}

/* Direct mode: the vector straight to the local APIC, no message. */
static void stimer_notify_direct(HvEmuStimer *st, uint64_t config)
{
    uint32_t vector = stimer_vector(config);

    /* Host writes are not checked on the way in; vectors 0-15 never go. */
    if (vector < HV_STIMER_FIRST_VECTOR) {
        stimer_lost(st, "direct-mode vector below 16");
        return;
    }
    hv_emu_send_vector(stimer_cpu(st), vector);
    stimer_delivered(st);
}

/* The QEMU timer (main loop, BQL). */
static void stimer_cb(void *opaque)
{
    HvEmuStimer *st = opaque;
    uint64_t config = *stimer_config(st);
    uint64_t now;

    if (st->state != HV_STIMER_ARMED) {
        return;
    }
    now = hv_ref_now(stimer_cpu(st));
    /* Never early: wait for what is left (see stimer_arm()). */
    if (now < st->exp_time) {
        stimer_arm(st, st->exp_time, now, 0);
        return;
    }
    trace_hv_emu_stimer_expire(hv_vp(stimer_cpu(st)), st->index, st->exp_time,
                               now, !!(config & HV_STIMER_DIRECT_MODE));
    if (config & HV_STIMER_DIRECT_MODE) {
        stimer_notify_direct(st, config);
    } else {
        stimer_post(st, config, now);
    }
}

/* STIMERx_CONFIG written (BQL).  KVM's stimer_set_config(). */
static HvMsrResult stimer_set_config(HvEmuStimer *st, uint64_t val, bool host)
{
    X86CPU *cpu = stimer_cpu(st);
    uint64_t *config = stimer_config(st);
    const char *err = host ? NULL : stimer_config_error(cpu, val);

    if (err) {
        hv_guest_error("VP %u STIMER%u_CONFIG 0x%" PRIx64 ": %s",
                       hv_vp(cpu), st->index, val, err);
        trace_hv_emu_time_msr_refused(hv_vp(cpu),
                                      HV_X64_MSR_STIMER0_CONFIG + 2 * st->index,
                                      val, err);
        return HV_MSR_GP;
    }
    trace_hv_emu_stimer_config(hv_vp(cpu), st->index, val, host);
    stimer_cleanup(st);
    /*
     * An enabled message-mode timer pointed at SINT 0 stops (KVM; SINT 0
     * is how Hyper-V guests park a timer).
     */
    if ((*config & HV_STIMER_ENABLE) && !(val & HV_STIMER_DIRECT_MODE) &&
        !stimer_sint(val)) {
        val &= ~HV_STIMER_ENABLE;
    }
    *config = val;
    stimer_apply(st);
    return HV_MSR_OK;
}

/*
 * STIMERx_COUNT written (BQL).  TLFS: a guest writing 0 disables the
 * timer, and a non-zero value enables an auto-enable timer.  Host writes
 * (restore) leave CONFIG alone, as on KVM.
 */
static HvMsrResult stimer_set_count(HvEmuStimer *st, uint64_t val, bool host)
{
    uint64_t *config = stimer_config(st);

    trace_hv_emu_stimer_count(hv_vp(stimer_cpu(st)), st->index, val, host);
    stimer_cleanup(st);
    *stimer_count(st) = val;
    if (!host) {
        if (!val) {
            *config &= ~HV_STIMER_ENABLE;
        } else if (*config & HV_STIMER_AUTO_ENABLE) {
            *config |= HV_STIMER_ENABLE;
        }
    }
    stimer_apply(st);
    return HV_MSR_OK;
}

/* --- MSRs ----------------------------------------------------------------- */

static HvEmuTime *hv_time_of(X86CPU *cpu)
{
    return cpu->hv_emu ? cpu->hv_emu->time : NULL;
}

/*
 * On KVM the MSR reads the guest TSC itself, not the host's plus an
 * offset, so that it agrees exactly with the page the guest reads.
 */
static HvMsrResult rd_ref_count(X86CPU *cpu, uint32_t msr, uint64_t *val)
{
    uint64_t host, guest;
    unsigned seq;

    if (hv_time.kvm && hv_time.kvm_synced &&
        hv_tsc_accel->sample(cpu, &host, &guest)) {
        int64_t moved;

        do {
            seq = seqlock_read_begin(&hv_time.lock);
            moved = guest - host - hv_time.kvm_off;
            *val = hv_tsc_to_ref(guest, hv_time.scale, hv_time.offset);
        } while (seqlock_read_retry(&hv_time.lock, seq));
        /* A vCPU whose offset moved away: the partition's time instead. */
        if (moved <= (int64_t)(hv_time.host_hz / HV_TSC_KVM_SLACK_DIV) &&
            moved >= -(int64_t)(hv_time.host_hz / HV_TSC_KVM_SLACK_DIV)) {
            return HV_MSR_OK;
        }
    }
    *val = hv_ref_now(cpu);
    return HV_MSR_OK;
}

static HvMsrResult rd_ref_tsc(X86CPU *cpu, uint32_t msr, uint64_t *val)
{
    BQL_LOCK_GUARD();
    *val = hv_time.ref_tsc;
    return HV_MSR_OK;
}

static HvMsrResult rd_tsc_freq(X86CPU *cpu, uint32_t msr, uint64_t *val)
{
    *val = hv_emu_tsc_hz(cpu);
    return HV_MSR_OK;
}

/*
 * The APIC timer's input clock.  KVM's in-kernel APIC reports it in
 * env->apic_bus_freq; QEMU's own APIC (TCG) counts nanoseconds of
 * QEMU_CLOCK_VIRTUAL before its divider, i.e. 1 GHz.
 */
static HvMsrResult rd_apic_freq(X86CPU *cpu, uint32_t msr, uint64_t *val)
{
    *val = cpu->env.apic_bus_freq ? cpu->env.apic_bus_freq
                                  : NANOSECONDS_PER_SECOND;
    return HV_MSR_OK;
}

static HvMsrResult rd_stimer(X86CPU *cpu, uint32_t msr, uint64_t *val)
{
    uint32_t off = msr - HV_X64_MSR_STIMER0_CONFIG;

    BQL_LOCK_GUARD();
    *val = off & 1 ? cpu->env.msr_hv_stimer_count[off / 2]
                   : cpu->env.msr_hv_stimer_config[off / 2];
    return HV_MSR_OK;
}

/* TIME_REF_COUNT and the frequencies: #GP for the guest; QEMU's ignored. */
static HvMsrResult wr_read_only(X86CPU *cpu, uint32_t msr, uint64_t val,
                                bool host)
{
    if (host) {
        return HV_MSR_OK;
    }
    hv_guest_error("VP %u: write 0x%" PRIx64 " to read-only MSR 0x%x",
                   hv_vp(cpu), val, msr);
    trace_hv_emu_time_msr_refused(hv_vp(cpu), msr, val, "read-only");
    return HV_MSR_GP;
}

/*
 * REFERENCE_TSC: reserved bits 1-11 make the guest's write #GP (a
 * decision: KVM stores any value).  QEMU's own writes go through.
 */
static HvMsrResult wr_ref_tsc(X86CPU *cpu, uint32_t msr, uint64_t val,
                              bool host)
{
    if (!host && (val & HV_REFERENCE_TSC_RESERVED)) {
        hv_guest_error("VP %u: REFERENCE_TSC 0x%" PRIx64
                       " has reserved bits set", hv_vp(cpu), val);
        trace_hv_emu_time_msr_refused(hv_vp(cpu), msr, val, "reserved bits");
        return HV_MSR_GP;
    }
    BQL_LOCK_GUARD();
    hv_ref_tsc_set(cpu, val);
    /* KVM: the TSC, if it can be, for the page now at its new place. */
    if (!host && (val & HV_REFERENCE_TSC_ENABLE)) {
        hv_time_kvm_decide(cpu);
    }
    return HV_MSR_OK;
}

static HvMsrResult wr_stimer(X86CPU *cpu, uint32_t msr, uint64_t val,
                             bool host)
{
    uint32_t off = msr - HV_X64_MSR_STIMER0_CONFIG;
    HvEmuTime *t = hv_time_of(cpu);
    HvEmuStimer *st;

    if (!t) {
        return HV_MSR_GP;
    }
    st = &t->stimer[off / 2];
    BQL_LOCK_GUARD();
    return off & 1 ? stimer_set_count(st, val, host)
                   : stimer_set_config(st, val, host);
}

typedef struct HvTimeMsr {
    uint32_t msr;
    int feature;            /* HYPERV_FEAT_*: without it, #GP */
    HvMsrResult (*read)(X86CPU *cpu, uint32_t msr, uint64_t *val);
    HvMsrResult (*write)(X86CPU *cpu, uint32_t msr, uint64_t val, bool host);
} HvTimeMsr;

static const HvTimeMsr hv_time_msrs[] = {
    { HV_X64_MSR_TIME_REF_COUNT, HYPERV_FEAT_TIME,
      rd_ref_count, wr_read_only },
    { HV_X64_MSR_REFERENCE_TSC, HYPERV_FEAT_TIME,
      rd_ref_tsc, wr_ref_tsc },
    { HV_X64_MSR_TSC_FREQUENCY, HYPERV_FEAT_FREQUENCIES,
      rd_tsc_freq, wr_read_only },
    { HV_X64_MSR_APIC_FREQUENCY, HYPERV_FEAT_FREQUENCIES,
      rd_apic_freq, wr_read_only },
};

/* STIMER0_CONFIG .. STIMER3_COUNT, CONFIG at even offsets. */
static const HvTimeMsr hv_stimer_msr = {
    HV_X64_MSR_STIMER0_CONFIG, HYPERV_FEAT_STIMER, rd_stimer, wr_stimer
};

static const HvTimeMsr *hv_time_msr(uint32_t msr)
{
    int i;

    if (msr - HV_X64_MSR_STIMER0_CONFIG < 2 * HV_STIMER_COUNT) {
        return &hv_stimer_msr;
    }
    for (i = 0; i < ARRAY_SIZE(hv_time_msrs); i++) {
        if (hv_time_msrs[i].msr == msr) {
            return &hv_time_msrs[i];
        }
    }
    return NULL;
}

/* The user path always enforces CPUID: an MSR of a feature that is off #GPs. */
/*
 * KVM, after a reset: the first time MSR a vCPU touches learns KVM's new
 * TSC offset (on the vCPU's thread, the only one that may ask).
 */
static void hv_time_kvm_sync_lazy(X86CPU *cpu)
{
    if (hv_time.kvm && !qatomic_read(&hv_time.kvm_synced)) {
        BQL_LOCK_GUARD();
        hv_time_kvm_sync(cpu);
    }
}

HvMsrResult hv_emu_time_rdmsr(X86CPU *cpu, uint32_t msr, uint64_t *val)
{
    const HvTimeMsr *m = hv_time_msr(msr);

    if (!m) {
        return HV_MSR_UNHANDLED;
    }
    if (!hyperv_feat_enabled(cpu, m->feature) || !hv_time.ready) {
        return HV_MSR_GP;
    }
    hv_time_kvm_sync_lazy(cpu);
    return m->read(cpu, msr, val);
}

HvMsrResult hv_emu_time_wrmsr(X86CPU *cpu, uint32_t msr, uint64_t val,
                              bool host)
{
    const HvTimeMsr *m = hv_time_msr(msr);

    if (!m) {
        return HV_MSR_UNHANDLED;
    }
    if (!hyperv_feat_enabled(cpu, m->feature) || !hv_time.ready) {
        return HV_MSR_GP;
    }
    /* A REFERENCE_TSC write syncs once the page has its new place. */
    if (!host && msr != HV_X64_MSR_REFERENCE_TSC) {
        hv_time_kvm_sync_lazy(cpu);
    }
    return m->write(cpu, msr, val, host);
}

/* --- life cycle ----------------------------------------------------------- */

static bool hv_time_wanted(X86CPU *cpu)
{
    return hyperv_feat_enabled(cpu, HYPERV_FEAT_TIME) ||
           hyperv_feat_enabled(cpu, HYPERV_FEAT_FREQUENCIES) ||
           hyperv_feat_enabled(cpu, HYPERV_FEAT_STIMER);
}

/* With the BQL, once cpu->hv_emu exists. */
void hv_emu_time_realize(X86CPU *cpu)
{
    HvEmuTime *t;
    int i;

    if (!cpu->hv_emu) {
        return;
    }
    if (hv_time_wanted(cpu)) {
        hv_time_init(cpu);
        hyperv_set_ref_time_source(hv_emu_ref_time);
    }
    t = g_new0(HvEmuTime, 1);
    t->cpu = cpu;
    for (i = 0; i < HV_STIMER_COUNT; i++) {
        t->stimer[i].time = t;
        t->stimer[i].index = i;
        t->stimer[i].timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, stimer_cb,
                                          &t->stimer[i]);
    }
    cpu->hv_emu->time = t;
}

/* Stop a timer and let go of its route: nothing survives a reset. */
static void stimer_release(HvEmuStimer *st)
{
    timer_del(st->timer);
    hyperv_sint_route_unref(st->route);
    st->route = NULL;
    st->state = HV_STIMER_IDLE;
    st->exp_time = 0;
}

void hv_emu_time_unrealize(X86CPU *cpu)
{
    HvEmuTime *t = hv_time_of(cpu);
    int i;

    if (!t) {
        return;
    }
    for (i = 0; i < HV_STIMER_COUNT; i++) {
        stimer_release(&t->stimer[i]);
        timer_free(t->stimer[i].timer);
    }
    cpu->hv_emu->time = NULL;
    g_free(t);
}

/*
 * vCPU reset, and an INIT under TCG: timers stopped, CONFIG and COUNT 0.
 * REFERENCE_TSC is the partition's and comes back into env (a system
 * reset clears it through hv_time_system_reset()).
 */
void hv_emu_time_reset(X86CPU *cpu)
{
    HvEmuTime *t = hv_time_of(cpu);
    int i;

    if (!t) {
        return;
    }
    BQL_LOCK_GUARD();
    for (i = 0; i < HV_STIMER_COUNT; i++) {
        stimer_release(&t->stimer[i]);
        cpu->env.msr_hv_stimer_config[i] = 0;
        cpu->env.msr_hv_stimer_count[i] = 0;
    }
    cpu->env.msr_hv_tsc = hv_time.ref_tsc;
}

/*
 * A value in the stream the guest could not have set here: log it and
 * drop the register to its reset value rather than trust it.
 */
static void hv_time_bad_state(X86CPU *cpu, uint32_t msr, uint64_t *reg,
                              const char *why)
{
    hv_guest_error("VP %u: migrated MSR 0x%x value 0x%" PRIx64 " %s; reset",
                   hv_vp(cpu), msr, *reg, why);
    trace_hv_emu_time_bad_state(hv_vp(cpu), msr, *reg, why);
    *reg = 0;
}

static void hv_ref_tsc_post_load(X86CPU *cpu)
{
    uint64_t *val = &cpu->env.msr_hv_tsc;

    if (*val && !hyperv_feat_enabled(cpu, HYPERV_FEAT_TIME)) {
        hv_time_bad_state(cpu, HV_X64_MSR_REFERENCE_TSC, val,
                          "needs hv-time");
    } else if (*val & HV_REFERENCE_TSC_RESERVED) {
        hv_time_bad_state(cpu, HV_X64_MSR_REFERENCE_TSC, val,
                          "has reserved bits");
    }
    if (*val & HV_REFERENCE_TSC_ENABLE) {
        hv_time_rebase(cpu, *val & HV_REFERENCE_TSC_GPA_MASK);
    }
    /* Every vCPU carries the partition's value; the last one loaded wins. */
    hv_ref_tsc_set(cpu, *val);
}

static void stimer_post_load(HvEmuStimer *st)
{
    X86CPU *cpu = stimer_cpu(st);
    uint64_t *config = stimer_config(st);
    uint32_t msr = HV_X64_MSR_STIMER0_CONFIG + 2 * st->index;
    const char *err;

    stimer_release(st);
    if ((*config || *stimer_count(st)) &&
        !hyperv_feat_enabled(cpu, HYPERV_FEAT_STIMER)) {
        hv_time_bad_state(cpu, msr, config, "needs hv-stimer");
        *stimer_count(st) = 0;
        return;
    }
    err = stimer_config_error(cpu, *config);
    if (err) {
        hv_time_bad_state(cpu, msr, config, err);
        return;
    }
    stimer_apply(st);
}

/*
 * After migration (BQL, VM stopped): REFERENCE_TSC, the page and the
 * reference offset first, then the timers, from env.  What was in flight
 * on the source (an expiration time of a periodic timer, a message
 * waiting for its slot) is not in the stream on either path: periodic
 * timers start a new period, one-shot timers re-arm for COUNT (or fire at
 * once if it has passed), as KVM does after a restore.
 */
void hv_emu_time_post_load(X86CPU *cpu)
{
    HvEmuTime *t = hv_time_of(cpu);
    int i;

    if (!t) {
        return;
    }
    BQL_LOCK_GUARD();
    hv_ref_tsc_post_load(cpu);
    for (i = 0; i < HV_STIMER_COUNT; i++) {
        stimer_post_load(&t->stimer[i]);
    }
}
