/*
 * Software PTP: the IEEE 1588 two-way exchange arithmetic (see
 * gpubridge/ptp.h for the derivation of offset, delay and the bound).
 */
#include "base/error.h"
#include "gpubridge/ptp.h"

gb_status gb_ptp_compute(const gb_ptp_exchange *x, double max_drift_ppm, gb_ptp_result *out)
{
    if (!x || !out || !(max_drift_ppm >= 0))
        return gbi_error(GB_EINVAL, "ptp_compute", "NULL argument or negative drift bound");
    if (x->t4 < x->t1 || x->t3 < x->t2)
        return gbi_error(GB_EINVAL, "ptp_compute", "stamps out of order (t4 < t1 or t3 < t2)");
    /* differences first: the clocks' absolute values may be far apart */
    double fwd = (double)(x->t2 - x->t1);
    double rev = (double)(x->t4 - x->t3);
    double delay = (fwd + rev) / 2.0;
    if (delay < 0)
        return gbi_error(GB_EINVAL, "ptp_compute",
                         "negative delay: the slave held the message longer "
                         "than the round trip");
    out->offset_ns = (fwd - rev) / 2.0;
    out->delay_ns = delay;
    out->error_bound_ns = delay + max_drift_ppm * 1e-6 * (double)(x->t3 - x->t2) / 2.0;
    return GB_OK;
}

gb_status gb_ptp_best(const gb_ptp_exchange *x, size_t n, double max_drift_ppm, gb_ptp_result *out,
                      size_t *best)
{
    if (!x || !out || n == 0)
        return gbi_error(GB_EINVAL, "ptp_best", "NULL argument or no exchange");
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        gb_ptp_result r;
        if (gb_ptp_compute(&x[i], max_drift_ppm, &r) != GB_OK)
            continue;
        if (!found || r.error_bound_ns < out->error_bound_ns) {
            *out = r;
            if (best)
                *best = i;
            found = 1;
        }
    }
    return found ? GB_OK : gbi_error(GB_EINVAL, "ptp_best", "none of the %zu exchanges is valid", n);
}
