/* Clock calibration from synthetic ping-pong samples: exact fit without
 * noise, offset and drift found within the method's own bound under noise
 * and asymmetric delays (seeded), min-RTT filtering, bad input. */
#include <criterion/criterion.h>
#include <math.h>

#include "clock/prop.h"
#include "gpubridge/calibration.h"

#define BASE_DEV 1700000000000000000LL /* device epoch values as large as realtime */

typedef struct truth {
    double offset; /* host - dev at BASE_DEV */
    double drift;  /* host rate - 1 */
} truth;

static int64_t true_host(const truth *t, int64_t dev)
{
    return dev + (int64_t)llround(t->offset + t->drift * (double)(dev - BASE_DEV));
}

/* A sample whose request took `up` ns and answer `down` ns (host time). */
static gb_clock_sample make(const truth *t, int64_t dev, int64_t up, int64_t down)
{
    int64_t h = true_host(t, dev);
    return (gb_clock_sample){.host_send_ns = h - up, .dev_ns = dev, .host_recv_ns = h + down};
}

Test(calibration, symmetric_samples_give_the_exact_offset)
{
    truth t = {.offset = 12345, .drift = 0};
    gb_clock_sample s[16];
    for (int i = 0; i < 16; i++)
        s[i] = make(&t, BASE_DEV + i * 1000000LL, 500, 500);
    gb_clock_fit f;
    cr_assert_eq(gb_clock_fit_samples(s, 16, NULL, &f), GB_OK);
    cr_expect(fabs(f.offset_ns - 12345) < 1, "offset %f", f.offset_ns);
    cr_expect(fabs(f.drift_ppm) < 1e-3);
    cr_expect(f.error_bound_ns >= 500 && f.error_bound_ns < 502, "bound %f", f.error_bound_ns);
    cr_expect_eq(f.min_rtt_ns, 1000);
}

Test(calibration, drift_and_asymmetric_noise_stay_within_the_bound)
{
    prop_rng r = {prop_seed("calibration_drift")};
    for (int round = 0; round < 200; round++) {
        truth t = {.offset = (double)prop_below(&r, 2000000) - 1000000,
                   .drift = ((double)prop_below(&r, 200) - 100) * 1e-6};
        gb_clock_sample s[64];
        for (int i = 0; i < 64; i++) {
            int64_t up = 200 + (int64_t)prop_below(&r, 5000), down = 200 + (int64_t)prop_below(&r, 20000);
            s[i] = make(&t, BASE_DEV + i * 100000000LL + (int64_t)prop_below(&r, 1000), up, down);
        }
        gb_clock_fit f;
        cr_assert_eq(gb_clock_fit_samples(s, 64, NULL, &f), GB_OK);
        for (int64_t d = f.dev_lo_ns; d <= f.dev_hi_ns; d += (f.dev_hi_ns - f.dev_lo_ns) / 7 + 1) {
            double err = fabs((double)(gb_clock_fit_map(&f, d) - true_host(&t, d)));
            cr_assert(err <= f.error_bound_ns + 1, "round %d: error %f above bound %f", round, err,
                      f.error_bound_ns);
        }
        cr_assert(fabs(f.drift_ppm - t.drift * 1e6) < 5, "drift %f vs %f ppm", f.drift_ppm, t.drift * 1e6);
    }
}

Test(calibration, slow_round_trips_are_filtered_out)
{
    truth t = {.offset = -777, .drift = 0};
    gb_clock_sample s[40];
    for (int i = 0; i < 40; i++) /* most samples very asymmetric and slow */
        s[i] =
            i % 4 == 0 ? make(&t, BASE_DEV + i * 1000, 300, 300) : make(&t, BASE_DEV + i * 1000, 100, 90000);
    gb_clock_fit f;
    cr_assert_eq(gb_clock_fit_samples(s, 40, NULL, &f), GB_OK);
    cr_expect_eq(f.used, 10);
    cr_expect(f.error_bound_ns < 301, "bound %f", f.error_bound_ns);
    cr_expect(fabs(f.offset_ns + 777) < 1, "offset %f", f.offset_ns);
}

Test(calibration, one_sample_gives_zero_drift)
{
    truth t = {.offset = 50, .drift = 0};
    gb_clock_sample s = make(&t, BASE_DEV, 10, 30);
    gb_clock_fit f;
    cr_assert_eq(gb_clock_fit_samples(&s, 1, NULL, &f), GB_OK);
    cr_expect_eq(f.rate, 1.0);
    cr_expect(fabs(f.offset_ns - t.offset) <= f.error_bound_ns);
}

Test(calibration, short_span_keeps_rate_at_one_and_the_bound_holds)
{
    truth t = {.offset = 900, .drift = 50e-6};
    gb_clock_sample s[32];
    for (int i = 0; i < 32; i++) /* 32 us of samples, noisy on one leg */
        s[i] = make(&t, BASE_DEV + i * 1000, 100, 100 + (i * 37) % 400);
    gb_clock_fit_opts o = {.keep_fraction = 0.5, .min_span_ns = 1000000};
    gb_clock_fit f;
    cr_assert_eq(gb_clock_fit_samples(s, 32, &o, &f), GB_OK);
    cr_expect_eq(f.rate, 1.0);
    for (int64_t d = f.dev_lo_ns; d <= f.dev_hi_ns; d += 1000) {
        double err = fabs((double)(gb_clock_fit_map(&f, d) - true_host(&t, d)));
        cr_expect(err <= f.error_bound_ns + 1, "error %f above bound %f", err, f.error_bound_ns);
    }
}

Test(calibration, rejects_bad_input)
{
    gb_clock_fit f;
    gb_clock_sample bad = {.host_send_ns = 10, .dev_ns = 0, .host_recv_ns = 5};
    cr_expect_eq(gb_clock_fit_samples(NULL, 1, NULL, &f), GB_EINVAL);
    cr_expect_eq(gb_clock_fit_samples(&bad, 0, NULL, &f), GB_EINVAL);
    cr_expect_eq(gb_clock_fit_samples(&bad, 1, NULL, &f), GB_EINVAL);
    gb_clock_fit_opts o = {.keep_fraction = 1.5};
    gb_clock_sample ok = {0, 0, 1};
    cr_expect_eq(gb_clock_fit_samples(&ok, 1, &o, &f), GB_EINVAL);
}
