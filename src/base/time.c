/*
 * Host clocks. gb_time_fast_ns uses the TSC when the CPU reports an
 * invariant TSC (CPUID 0x80000007 EDX bit 8): it is calibrated once against
 * CLOCK_MONOTONIC over a ~20 ms span, with each reference sample bracketed by
 * two TSC reads so the fit's error can be bounded. The calibration result is
 * written once under pthread_once and read-only afterwards.
 *
 * gb_time_realtime_fast_ns extrapolates CLOCK_REALTIME with the TSC from an
 * anchor (tsc, realtime) pair that is re-read at most every
 * GB_TIME_REANCHOR_NS. The pair is published through a seqlock (see
 * `anchor` below); it is a process-wide cache of the system clock, like the
 * kernel's vDSO page, not application state.
 */
#include "gpubridge/time.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <x86intrin.h>
#define GBI_HAVE_TSC 1
#else
#define GBI_HAVE_TSC 0
#endif

#define CALIBRATION_SPAN_NS 20000000LL
/* An anchor whose TSC bracket is wider than this was preempted mid-read and
 * is not published. */
#define ANCHOR_MAX_BRACKET_NS 10000.0

static int64_t read_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t gb_time_monotonic_ns(void)
{
    return read_clock(CLOCK_MONOTONIC);
}

int64_t gb_time_realtime_ns(void)
{
    return read_clock(CLOCK_REALTIME);
}

void gb_cpu_relax(void)
{
#if GBI_HAVE_TSC
    _mm_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

struct tsc_calibration {
    int use_tsc;
    uint64_t tsc0;
    int64_t mono0;
    double ns_per_tick;
    double error_ppm;
    int64_t reanchor_ticks;
    uint64_t max_bracket_ticks;
    const char *why_not;
};

static pthread_once_t calib_once = PTHREAD_ONCE_INIT;
static struct tsc_calibration calib;

#if GBI_HAVE_TSC
static int cpu_has_invariant_tsc(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(0x80000000u, &a, &b, &c, &d) || a < 0x80000007u)
        return 0;
    __get_cpuid(0x80000007u, &a, &b, &c, &d);
    return (d >> 8) & 1u;
}

/* One reference sample: the monotonic time bracketed by two TSC reads.
 * Returns the bracket width in ticks (the sample's uncertainty). */
static uint64_t paired_sample(uint64_t *tsc, int64_t *mono)
{
    uint64_t best_width = UINT64_MAX;
    for (int i = 0; i < 8; i++) {
        uint64_t t0 = __rdtsc();
        int64_t m = gb_time_monotonic_ns();
        uint64_t t1 = __rdtsc();
        if (t1 - t0 < best_width) {
            best_width = t1 - t0;
            *tsc = t0 + (t1 - t0) / 2;
            *mono = m;
        }
    }
    return best_width;
}

static void calibrate_tsc(void)
{
    if (!cpu_has_invariant_tsc()) {
        calib.why_not = "CPU does not report an invariant TSC";
        return;
    }
    uint64_t tsc_a = 0, tsc_b = 0;
    int64_t mono_a = 0, mono_b = 0;
    uint64_t width_a = paired_sample(&tsc_a, &mono_a);
    while (gb_time_monotonic_ns() - mono_a < CALIBRATION_SPAN_NS)
        gb_cpu_relax();
    uint64_t width_b = paired_sample(&tsc_b, &mono_b);
    if (tsc_b <= tsc_a || mono_b <= mono_a) {
        calib.why_not = "TSC did not advance during calibration";
        return;
    }
    calib.ns_per_tick = (double)(mono_b - mono_a) / (double)(tsc_b - tsc_a);
    double uncertainty_ns = (double)(width_a + width_b) * calib.ns_per_tick;
    calib.error_ppm = uncertainty_ns / (double)(mono_b - mono_a) * 1e6;
    calib.tsc0 = tsc_b;
    calib.mono0 = mono_b;
    calib.reanchor_ticks = (int64_t)((double)GB_TIME_REANCHOR_NS / calib.ns_per_tick);
    calib.max_bracket_ticks = (uint64_t)(ANCHOR_MAX_BRACKET_NS / calib.ns_per_tick);
    calib.use_tsc = 1;
}
#else
static void calibrate_tsc(void)
{
    calib.why_not = "no TSC on this architecture";
}
#endif

int64_t gb_time_fast_ns(void)
{
    pthread_once(&calib_once, calibrate_tsc);
#if GBI_HAVE_TSC
    if (calib.use_tsc) {
        /* Signed difference: a read on another core may be a few ticks
         * behind tsc0 right after calibration. */
        int64_t ticks = (int64_t)(__rdtsc() - calib.tsc0);
        return calib.mono0 + (int64_t)((double)ticks * calib.ns_per_tick);
    }
#endif
    return gb_time_monotonic_ns();
}

#if GBI_HAVE_TSC
/* Anchor of gb_time_realtime_fast_ns, a seqlock over (tsc, real).
 * Invariant: `seq` is odd exactly while one writer - the thread whose CAS
 * made it odd - stores the pair; a reader accepts a pair only when it saw
 * the same even `seq` before and after loading it. Starts at tsc 0, which
 * is stale, so the first reader anchors it. Any number of readers and
 * writers; a writer that loses the CAS simply does not publish. */
static struct {
    _Atomic uint64_t seq;
    _Atomic uint64_t tsc;
    _Atomic int64_t real;
} anchor;

static int read_anchor(uint64_t *seq, uint64_t *tsc, int64_t *real)
{
    uint64_t s1 = atomic_load_explicit(&anchor.seq, memory_order_acquire);
    *tsc = atomic_load_explicit(&anchor.tsc, memory_order_relaxed);
    *real = atomic_load_explicit(&anchor.real, memory_order_relaxed);
    /* Orders the pair's loads before the second seq load (seqlock reader). */
    atomic_thread_fence(memory_order_acquire);
    uint64_t s2 = atomic_load_explicit(&anchor.seq, memory_order_relaxed);
    *seq = s1;
    return s1 == s2 && (s1 & 1) == 0;
}

/* Read CLOCK_REALTIME bracketed by two TSC reads, publish it as the new
 * anchor if this thread wins the seqlock and the bracket is narrow, and
 * return it. */
static int64_t reanchor(uint64_t seq)
{
    uint64_t t0 = __rdtsc();
    int64_t real = gb_time_realtime_ns();
    uint64_t t1 = __rdtsc();
    if ((seq & 1) || t1 - t0 > calib.max_bracket_ticks)
        return real;
    if (!atomic_compare_exchange_strong_explicit(&anchor.seq, &seq, seq + 1, memory_order_relaxed,
                                                 memory_order_relaxed))
        return real;
    /* Orders the odd seq before the pair's stores (seqlock writer). */
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&anchor.tsc, t0 + (t1 - t0) / 2, memory_order_relaxed);
    atomic_store_explicit(&anchor.real, real, memory_order_relaxed);
    atomic_store_explicit(&anchor.seq, seq + 2, memory_order_release);
    return real;
}
#endif

int64_t gb_time_realtime_fast_ns(void)
{
    pthread_once(&calib_once, calibrate_tsc);
#if GBI_HAVE_TSC
    if (calib.use_tsc) {
        uint64_t seq, tsc;
        int64_t real;
        if (read_anchor(&seq, &tsc, &real)) {
            /* Signed: another core's TSC may be a few ticks behind. */
            int64_t ticks = (int64_t)(__rdtsc() - tsc);
            if (ticks > -calib.reanchor_ticks && ticks < calib.reanchor_ticks)
                return real + (int64_t)((double)ticks * calib.ns_per_tick);
        }
        return reanchor(seq);
    }
#endif
    return gb_time_realtime_ns();
}

void gb_time_source(gb_time_source_info *out)
{
    pthread_once(&calib_once, calibrate_tsc);
    struct timespec res;
    clock_getres(CLOCK_MONOTONIC, &res);
    out->name = calib.use_tsc ? "tsc" : "clock_monotonic";
    out->tsc_ghz = calib.use_tsc ? 1.0 / calib.ns_per_tick : 0.0;
    out->calibration_error_ppm = calib.use_tsc ? calib.error_ppm : 0.0;
    out->resolution_ns = calib.use_tsc ? 1 : (int64_t)res.tv_nsec;
    out->why_not_tsc = calib.use_tsc ? NULL : calib.why_not;
}
