/* Software PTP arithmetic with synthetic exchanges: symmetric links give
 * the exact offset, asymmetric links and drift stay within the bound
 * (seeded), the best exchange is the one with the smallest bound, and
 * inconsistent stamps are refused. */
#include <criterion/criterion.h>
#include <math.h>

#include "clock/prop.h"
#include "gpubridge/ptp.h"

#define MASTER0 1700000000000000000LL

/* Exchange at master time t1 with delays d1, d2, hold time h (slave clock
 * rate 1 + drift relative to the master), slave offset theta at t1. */
static gb_ptp_exchange make(int64_t t1, int64_t d1, int64_t d2, int64_t hold, double theta, double drift)
{
    /* offsets from t1 in doubles (small), absolute stamps in int64 */
    double e2 = (double)d1, e3 = (double)(d1 + hold);
    gb_ptp_exchange x;
    x.t1 = t1;
    x.t2 = t1 + (int64_t)llround(e2 + theta + drift * e2);
    x.t3 = t1 + (int64_t)llround(e3 + theta + drift * e3);
    x.t4 = t1 + d1 + hold + d2;
    return x;
}

Test(ptp, symmetric_link_gives_the_exact_offset)
{
    gb_ptp_exchange x = make(MASTER0, 4000, 4000, 1000, -2500, 0);
    gb_ptp_result r;
    cr_assert_eq(gb_ptp_compute(&x, 0, &r), GB_OK);
    cr_expect(fabs(r.offset_ns + 2500) < 0.5, "offset %f", r.offset_ns);
    cr_expect(fabs(r.delay_ns - 4000) < 0.5, "delay %f", r.delay_ns);
}

Test(ptp, asymmetric_links_and_drift_stay_within_the_bound)
{
    prop_rng rng = {prop_seed("ptp_asym")};
    for (int i = 0; i < 1000; i++) {
        int64_t d1 = (int64_t)prop_below(&rng, 100000), d2 = (int64_t)prop_below(&rng, 100000);
        int64_t hold = (int64_t)prop_below(&rng, 1000000);
        double theta = (double)prop_below(&rng, 20000000) - 10000000;
        double drift = ((double)prop_below(&rng, 201) - 100) * 1e-6; /* within 100 ppm */
        gb_ptp_exchange x = make(MASTER0 + i, d1, d2, hold, theta, drift);
        gb_ptp_result r;
        cr_assert_eq(gb_ptp_compute(&x, 100, &r), GB_OK);
        /* true offset at the midpoint of the slave's hold */
        double truth = theta + drift * ((double)d1 + (double)hold / 2);
        cr_assert(fabs(r.offset_ns - truth) <= r.error_bound_ns + 1, "i %d: |%f - %f| > %f", i, r.offset_ns,
                  truth, r.error_bound_ns);
    }
}

Test(ptp, best_exchange_has_the_smallest_bound)
{
    gb_ptp_exchange x[3] = {make(MASTER0, 9000, 100, 0, 0, 0), make(MASTER0, 300, 400, 0, 0, 0),
                            make(MASTER0, 5000, 5000, 0, 0, 0)};
    gb_ptp_result r;
    size_t best = 99;
    cr_assert_eq(gb_ptp_best(x, 3, 0, &r, &best), GB_OK);
    cr_expect_eq(best, 1);
    cr_expect(fabs(r.delay_ns - 350) < 0.5);
}

Test(ptp, inconsistent_stamps_are_refused)
{
    gb_ptp_result r;
    gb_ptp_exchange back = {.t1 = 100, .t2 = 0, .t3 = 0, .t4 = 50};
    gb_ptp_exchange hold = {.t1 = 0, .t2 = 10, .t3 = 5, .t4 = 100};
    cr_expect_eq(gb_ptp_compute(&back, 0, &r), GB_EINVAL);
    cr_expect_eq(gb_ptp_compute(&hold, 0, &r), GB_EINVAL);
    cr_expect_eq(gb_ptp_compute(NULL, 0, &r), GB_EINVAL);
    cr_expect_eq(gb_ptp_best(&back, 1, 0, &r, NULL), GB_EINVAL);
}
