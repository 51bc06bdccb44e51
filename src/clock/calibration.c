/*
 * Clock-domain calibration: min-RTT filtering and a least-squares line
 * through the kept samples (see gpubridge/calibration.h for why the error
 * bound holds). Everything is computed on differences (device time minus
 * its mean, host midpoint minus device time) so that 64-bit epoch values
 * lose no precision in doubles.
 */
#include <math.h>
#include <stdlib.h>

#include "base/error.h"
#include "gpubridge/calibration.h"

typedef struct kept {
    int64_t rtt;
    int64_t dev;
    double off; /* host midpoint - dev */
} kept;

static int by_rtt(const void *a, const void *b)
{
    int64_t x = ((const kept *)a)->rtt, y = ((const kept *)b)->rtt;
    return (x > y) - (x < y);
}

/* Valid samples into k (sorted by round trip); returns how many. */
static size_t collect(const gb_clock_sample *s, size_t n, kept *k)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i].host_recv_ns < s[i].host_send_ns)
            continue;
        int64_t rtt = s[i].host_recv_ns - s[i].host_send_ns;
        k[m].rtt = rtt;
        k[m].dev = s[i].dev_ns;
        k[m].off = (double)(s[i].host_send_ns - s[i].dev_ns) + (double)rtt / 2.0;
        m++;
    }
    qsort(k, m, sizeof *k, by_rtt);
    return m;
}

/* Least squares off = c + slope * (dev - ref) over k[0..m); the slope is
 * 0 when the device times span less than min_span. */
static void fit_line(const kept *k, size_t m, int64_t min_span, gb_clock_fit *f, double *c, double *slope)
{
    double mean = 0;
    int64_t lo = k[0].dev, hi = k[0].dev;
    for (size_t i = 0; i < m; i++) {
        mean += (double)(k[i].dev - k[0].dev) / (double)m;
        lo = k[i].dev < lo ? k[i].dev : lo;
        hi = k[i].dev > hi ? k[i].dev : hi;
    }
    f->ref_dev_ns = k[0].dev + (int64_t)llround(mean);
    f->dev_lo_ns = lo;
    f->dev_hi_ns = hi;
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (size_t i = 0; i < m; i++) {
        double x = (double)(k[i].dev - f->ref_dev_ns);
        sx += x;
        sy += k[i].off;
        sxx += x * x;
        sxy += x * k[i].off;
    }
    double den = (double)m * sxx - sx * sx;
    *slope = den > 0 && hi - lo >= min_span ? ((double)m * sxy - sx * sy) / den : 0.0;
    *c = (sy - *slope * sx) / (double)m;
}

gb_status gb_clock_fit_samples(const gb_clock_sample *s, size_t n, const gb_clock_fit_opts *opts,
                               gb_clock_fit *out)
{
    double frac = opts && opts->keep_fraction != 0 ? opts->keep_fraction : 0.25;
    size_t min_keep = opts && opts->min_keep ? opts->min_keep : 8;
    if (!s || !out || n == 0 || !(frac > 0 && frac <= 1))
        return gbi_error(GB_EINVAL, "clock_fit", "NULL argument, no sample, or keep_fraction not in (0, 1]");
    kept *k = malloc(n * sizeof *k);
    if (!k)
        return gbi_error(GB_ENOMEM, "clock_fit", "no memory for %zu samples", n);
    size_t total = collect(s, n, k);
    if (total == 0) {
        free(k);
        return gbi_error(GB_EINVAL, "clock_fit", "no valid sample (every host_recv < host_send)");
    }
    size_t m = (size_t)ceil(frac * (double)total);
    m = m < min_keep ? min_keep : m;
    m = m > total ? total : m;
    double c, slope;
    fit_line(k, m, opts ? opts->min_span_ns : 0, out, &c, &slope);
    double bound = 0;
    for (size_t i = 0; i < m; i++) {
        double resid = k[i].off - (c + slope * (double)(k[i].dev - out->ref_dev_ns));
        double e = (double)k[i].rtt / 2.0 + fabs(resid);
        bound = e > bound ? e : bound;
    }
    out->rate = 1.0 + slope;
    out->offset_ns = c;
    out->drift_ppm = slope * 1e6;
    out->error_bound_ns = bound;
    out->min_rtt_ns = k[0].rtt;
    out->used = (uint32_t)m;
    out->total = (uint32_t)total;
    free(k);
    return GB_OK;
}

int64_t gb_clock_fit_map(const gb_clock_fit *f, int64_t dev_ns)
{
    if (!f)
        return dev_ns;
    double x = (double)(dev_ns - f->ref_dev_ns);
    return dev_ns + (int64_t)llround(f->offset_ns + (f->rate - 1.0) * x);
}
