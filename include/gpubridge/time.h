/*
 * Host time sources: monotonic, realtime, and the fastest safe monotonic
 * source (a calibrated invariant TSC on x86-64 where available, else
 * CLOCK_MONOTONIC). All values are nanoseconds.
 */
#ifndef GPUBRIDGE_TIME_H
#define GPUBRIDGE_TIME_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* CLOCK_MONOTONIC in ns. Thread-safe. */
int64_t gb_time_monotonic_ns(void);

/* CLOCK_REALTIME in ns since the Unix epoch. Thread-safe. */
int64_t gb_time_realtime_ns(void);

/* CLOCK_REALTIME in ns since the Unix epoch, read cheaply: when the TSC is
 * the fast source (see gb_time_source), the realtime clock is re-read at
 * most every GB_TIME_REANCHOR_NS and extrapolated in between with the
 * calibrated TSC; otherwise it is gb_time_realtime_ns(). It follows steps
 * and slews of the system clock within one re-anchor interval. Like
 * CLOCK_REALTIME it is not monotonic: at a re-anchor it may step back by
 * the extrapolation error (a few ns to about 1 us); users that need
 * monotonic stamps take a max (the HLC does). Thread-safe, lock-free. */
int64_t gb_time_realtime_fast_ns(void);

/* Longest extrapolation of gb_time_realtime_fast_ns before it re-reads
 * CLOCK_REALTIME, in ns. */
#define GB_TIME_REANCHOR_NS 1000000LL

/* The fastest safe monotonic clock in ns (same epoch as
 * gb_time_monotonic_ns, within the calibration error). The source is chosen
 * and calibrated once, on first use. Thread-safe. */
int64_t gb_time_fast_ns(void);

typedef struct gb_time_source_info {
    const char *name;            /* "tsc" or "clock_monotonic" */
    double tsc_ghz;              /* TSC ticks per ns; 0 when not the TSC */
    double calibration_error_ppm;/* estimated rate error of the fit; 0 when not the TSC */
    int64_t resolution_ns;       /* clock_getres of the fallback, or 1 for the TSC */
    const char *why_not_tsc;     /* NULL when the TSC is used, else the reason */
} gb_time_source_info;

/* Describe the source gb_time_fast_ns uses (calibrating it if needed).
 * Thread-safe. */
void gb_time_source(gb_time_source_info *out);

/* Busy-wait politely for one iteration of a spin loop (pause instruction).
 * Thread-safe. */
void gb_cpu_relax(void);

#ifdef __cplusplus
}
#endif
#endif
