/*
 * Host clocks. gb_time_fast_ns uses the TSC when the CPU reports an
 * invariant TSC (CPUID 0x80000007 EDX bit 8): it is calibrated once against
 * CLOCK_MONOTONIC over a ~20 ms span, with each reference sample bracketed by
 * two TSC reads so the fit's error can be bounded. The calibration result is
 * written once under pthread_once and read-only afterwards.
 */
#include "gpubridge/time.h"

#include <pthread.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <x86intrin.h>
#define GBI_HAVE_TSC 1
#else
#define GBI_HAVE_TSC 0
#endif

#define CALIBRATION_SPAN_NS 20000000LL

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
