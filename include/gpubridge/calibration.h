/*
 * Clock-domain calibration (DESIGN.md 3.3): fit host = a * dev + b from
 * ping-pong samples between the host and a device (or any other clock
 * domain), keeping the samples with the smallest round trip, and bound the
 * fit's error from the samples themselves.
 *
 * A sample is (host_send, dev, host_recv): the host read its clock, asked
 * the device for its timer, and read its clock again when the answer came
 * back. Whatever the asymmetry of the two legs, the host time at which the
 * device read its timer lies in [host_send, host_recv]. So with the fitted
 * line f, |f(dev_i) - true(dev_i)| <= rtt_i / 2 + |residual_i| at every kept
 * sample, and - both being lines when the true relation is linear - over
 * the whole range of the kept samples' device times. That maximum is the
 * reported error bound; it needs no assumption about the link.
 *
 * Pure functions: no clock is read here, so they are tested with synthetic
 * samples (offset, drift, noise, asymmetric delays).
 */
#ifndef GPUBRIDGE_CALIBRATION_H
#define GPUBRIDGE_CALIBRATION_H

#include <stddef.h>
#include <stdint.h>

#include "gpubridge/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gb_clock_sample {
    int64_t host_send_ns; /* host clock before the request left */
    int64_t dev_ns;       /* the device's timer, read while handling it */
    int64_t host_recv_ns; /* host clock after the answer arrived */
} gb_clock_sample;

typedef struct gb_clock_fit_opts {
    double keep_fraction; /* fraction of samples kept, lowest round trips first; 0 = 0.25 */
    uint32_t min_keep;    /* keep at least this many (if there are); 0 = 8 */
    int64_t min_span_ns;  /* fit the drift only when the kept samples' device times span at
                           * least this; else rate = 1 (a slope from microseconds of noisy
                           * samples is worse than none when extrapolated); 0 = always */
} gb_clock_fit_opts;

typedef struct gb_clock_fit {
    double rate;           /* a: host ns per device ns (1 + drift) */
    int64_t ref_dev_ns;    /* reference point: mean device time of the kept samples */
    double offset_ns;      /* host - dev at ref_dev_ns (b = offset + (1 - a) * ref) */
    double drift_ppm;      /* (a - 1) * 1e6 */
    double error_bound_ns; /* max over kept samples of rtt/2 + |residual| */
    int64_t min_rtt_ns;    /* smallest round trip seen */
    int64_t dev_lo_ns;     /* range of kept device times: the bound holds inside it */
    int64_t dev_hi_ns;
    uint32_t used;  /* samples kept */
    uint32_t total; /* samples given (valid ones) */
} gb_clock_fit;

/* Fit host = rate * dev + b over the lowest-round-trip samples (least
 * squares of the midpoint offset against device time) and bound its error.
 * opts may be NULL. Samples with host_recv < host_send are ignored.
 * Errors: GB_EINVAL (NULL, n == 0, no valid sample, keep_fraction outside
 * (0, 1]). Thread-safe (pure). */
gb_status gb_clock_fit_samples(const gb_clock_sample *samples, size_t n, const gb_clock_fit_opts *opts,
                               gb_clock_fit *out);

/* Host time of device time dev_ns under fit. Thread-safe (pure). */
int64_t gb_clock_fit_map(const gb_clock_fit *fit, int64_t dev_ns);

#ifdef __cplusplus
}
#endif
#endif
