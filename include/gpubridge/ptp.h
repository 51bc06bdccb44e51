/*
 * Software PTP (IEEE 1588 two-way exchange, DESIGN.md 3.3): the master
 * sends at t1 (master clock), the slave receives at t2 and answers at t3
 * (slave clock), the master receives at t4. With forward delay d1, reverse
 * delay d2 and true offset theta (slave - master):
 *   t2 - t1 = d1 + theta,  t4 - t3 = d2 - theta
 *   offset = ((t2 - t1) - (t4 - t3)) / 2 = theta + (d1 - d2) / 2
 *   delay  = ((t2 - t1) + (t4 - t3)) / 2 = (d1 + d2) / 2
 * so |offset - theta| <= delay whatever the asymmetry (d1, d2 >= 0): the
 * error bound is the delay, plus what drift can add while the slave holds
 * the message (max_drift_ppm * (t3 - t2) / 2). The multi-node layer uses
 * these between silos. Pure functions, tested with synthetic exchanges.
 */
#ifndef GPUBRIDGE_PTP_H
#define GPUBRIDGE_PTP_H

#include <stddef.h>
#include <stdint.h>

#include "gpubridge/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gb_ptp_exchange {
    int64_t t1; /* master send (master clock) */
    int64_t t2; /* slave receive (slave clock) */
    int64_t t3; /* slave send (slave clock) */
    int64_t t4; /* master receive (master clock) */
} gb_ptp_exchange;

typedef struct gb_ptp_result {
    double offset_ns;      /* slave - master */
    double delay_ns;       /* mean one-way delay */
    double error_bound_ns; /* |offset - true offset| <= this */
} gb_ptp_result;

/* Offset, delay and error bound of one exchange; max_drift_ppm (>= 0)
 * bounds the relative rate error of the two clocks.
 * Errors: GB_EINVAL (NULL, t4 < t1, t3 < t2, negative drift bound, or a
 * negative computed delay: inconsistent stamps). Thread-safe (pure). */
gb_status gb_ptp_compute(const gb_ptp_exchange *x, double max_drift_ppm, gb_ptp_result *out);

/* The result of the exchange with the smallest error bound among n
 * (invalid ones skipped); its index in *best (may be NULL).
 * Errors: GB_EINVAL (NULL, n == 0, no valid exchange). Thread-safe (pure). */
gb_status gb_ptp_best(const gb_ptp_exchange *x, size_t n, double max_drift_ppm, gb_ptp_result *out,
                      size_t *best);

#ifdef __cplusplus
}
#endif
#endif
