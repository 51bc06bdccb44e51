/* Host clocks and the hash function. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "gpubridge/hash.h"
#include "gpubridge/log.h"
#include "gpubridge/time.h"

Test(time, fast_clock_is_monotonic_and_tracks_monotonic)
{
    int64_t prev = gb_time_fast_ns();
    for (int i = 0; i < 100000; i++) {
        int64_t now = gb_time_fast_ns();
        cr_assert_geq(now, prev);
        prev = now;
    }
    int64_t fast = gb_time_fast_ns();
    int64_t mono = gb_time_monotonic_ns();
    cr_assert_lt(llabs(fast - mono), 5000000LL, "fast and monotonic differ by %lld ns",
                 (long long)(fast - mono));
}

Test(time, source_is_described)
{
    gb_time_source_info info;
    gb_time_source(&info);
    cr_assert_not_null(info.name);
    if (info.why_not_tsc == NULL) {
        cr_assert_str_eq(info.name, "tsc");
        cr_assert_gt(info.tsc_ghz, 0.1);
        cr_assert_lt(info.calibration_error_ppm, 1000.0);
    } else {
        cr_assert_str_eq(info.name, "clock_monotonic");
    }
}

Test(time, realtime_is_after_2020)
{
    cr_assert_gt(gb_time_realtime_ns(), 1577836800LL * 1000000000LL);
}

Test(hash, is_stable_and_seed_sensitive)
{
    /* XXH3-64 of "" with seed 0 is a published constant. */
    cr_assert_eq(gb_hash64("", 0, 0), 0x2D06800538D394C2ULL);
    cr_assert_eq(gb_hash64(NULL, 0, 0), gb_hash64("", 0, 0));
    cr_assert_eq(gb_hash_str("account"), gb_hash64("account", 7, 0));
    cr_assert_neq(gb_hash64("account", 7, 1), gb_hash64("account", 7, 0));
}

Test(hash, u64_mix_is_a_bijection_on_a_sample)
{
    cr_assert_neq(gb_hash_u64(1), gb_hash_u64(2));
    cr_assert_eq(gb_hash_u64(0), 0);
}

Test(log, level_parse)
{
    cr_assert_eq(gb_log_level_parse("debug"), GB_LOG_DEBUG);
    cr_assert_eq(gb_log_level_parse("error"), GB_LOG_ERROR);
    cr_assert_eq(gb_log_level_parse("off"), GB_LOG_OFF);
    cr_assert_eq(gb_log_level_parse("nonsense"), GB_LOG_WARN);
    cr_assert_eq(gb_log_level_parse(NULL), GB_LOG_WARN);
}
