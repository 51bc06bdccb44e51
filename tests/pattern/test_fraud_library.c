/* patterns/fraud.gbp: each of the nine library patterns flags a stream built
 * to show it, and stays quiet on a near miss of the same stream. */
#include <criterion/criterion.h>

#include "pattern_test_util.h"

#define S 1000000000LL
#define MIN (60 * S)
#define TR(id, ts, src, dst, v) {id, "transfer", ts, src, dst, v}

/* Number of matches of pattern `name` when the whole library runs over evs
 * and is flushed. */
static int count_matches(const char *name, const tev *evs, size_t n)
{
    gb_pattern_set *set;
    cr_assert_eq(gb_pattern_compile_file(&set, NULL, GB_SOURCE_DIR "/patterns/fraud.gbp"), GB_OK, "%s",
                 gb_last_error());
    gb_matcher *m;
    cr_assert_eq(gb_matcher_create(&m, set, NULL), GB_OK);
    for (size_t i = 0; i < n; i++) {
        gb_event e = make_event(set, &evs[i]);
        cr_assert_eq(gb_matcher_push(m, &e), GB_OK);
    }
    cr_assert_eq(gb_matcher_flush(m), GB_OK);
    int k = 0;
    for (size_t i = 0; i < gb_matcher_match_count(m); i++)
        k += strcmp(gb_matcher_match_at(m, i)->pattern, name) == 0;
    gb_matcher_destroy(m);
    gb_pattern_set_destroy(set);
    return k;
}

Test(fraud_library, has_nine_patterns)
{
    gb_pattern_set *set;
    cr_assert_eq(gb_pattern_compile_file(&set, NULL, GB_SOURCE_DIR "/patterns/fraud.gbp"), GB_OK);
    cr_assert_eq(gb_pattern_set_count(set), 9);
    gb_pattern_set_destroy(set);
}

Test(fraud_library, rapid_split)
{
    tev hit[] = {TR(17, 0, 1, 5, 10000), TR(18, 1 * S, 5, 6, 3000), TR(19, 2 * S, 5, 7, 3000),
                 TR(20, 4 * S, 5, 8, 4000)};
    cr_assert_eq(count_matches("rapid_split", hit, N(hit)), 1);
    tev miss[] = {TR(17, 0, 1, 5, 10000), TR(18, 1 * S, 5, 6, 3000), TR(19, 2 * S, 5, 7, 3000),
                  TR(20, 6 * S, 5, 8, 4000)};
    cr_assert_eq(count_matches("rapid_split", miss, N(miss)), 0);
}

Test(fraud_library, circular_flow)
{
    tev hit[] = {TR(1, 0, 1, 2, 1000), TR(2, 10 * MIN, 2, 3, 990), TR(3, 20 * MIN, 3, 4, 980),
                 TR(4, 30 * MIN, 4, 1, 970)};
    cr_assert_eq(count_matches("circular_flow", hit, N(hit)), 1);
    tev miss[] = {TR(1, 0, 1, 2, 1000), TR(2, 10 * MIN, 2, 3, 990), TR(3, 20 * MIN, 3, 4, 980),
                  TR(4, 30 * MIN, 4, 9, 970)};
    cr_assert_eq(count_matches("circular_flow", miss, N(miss)), 0);
}

Test(fraud_library, high_frequency)
{
    tev hit[11], miss[10];
    for (int i = 0; i < 11; i++)
        hit[i] = (tev)TR((uint64_t)i + 1, i * (S / 20), 7, 100 + (uint64_t)i, 5);
    for (int i = 0; i < 10; i++)
        miss[i] = hit[i];
    cr_assert_eq(count_matches("high_frequency", hit, N(hit)), 1);
    cr_assert_eq(count_matches("high_frequency", miss, N(miss)), 0);
}

Test(fraud_library, velocity_change)
{
    tev hit[] = {TR(1, 0, 1, 2, 10), TR(2, 40 * MIN, 1, 3, 2000)};
    cr_assert_eq(count_matches("velocity_change", hit, N(hit)), 1);
    tev early[] = {TR(1, 0, 1, 2, 10), TR(2, 10 * MIN, 1, 3, 2000), TR(3, 45 * MIN, 1, 3, 900)};
    cr_assert_eq(count_matches("velocity_change", early, N(early)), 0);
}

static size_t cluster(tev *out, int64_t spacing)
{
    for (int i = 0; i < 15; i++)
        out[i] = (tev)TR((uint64_t)i + 1, i * spacing, 100 + (uint64_t)i % 4, 42, 50);
    return 15;
}

Test(fraud_library, temporal_cluster)
{
    tev hit[15], miss[15];
    cr_assert_eq(count_matches("temporal_cluster", hit, cluster(hit, 3 * S)), 1);
    cr_assert_eq(count_matches("temporal_cluster", miss, cluster(miss, 5 * S)), 0);
}

Test(fraud_library, structuring)
{
    tev hit[] = {TR(1, 0, 5, 10, 9500), TR(2, 60 * MIN, 5, 11, 9800), TR(3, 120 * MIN, 5, 12, 9900)};
    cr_assert_eq(count_matches("structuring", hit, N(hit)), 1);
    tev miss[] = {TR(1, 0, 5, 10, 9500), TR(2, 60 * MIN, 5, 11, 10000), TR(3, 120 * MIN, 5, 12, 9900)};
    cr_assert_eq(count_matches("structuring", miss, N(miss)), 0);
}

Test(fraud_library, fan_out)
{
    tev hit[] = {TR(1, 0, 3, 10, 100), TR(2, 1 * MIN, 3, 11, 100), TR(3, 2 * MIN, 3, 12, 100),
                 TR(4, 3 * MIN, 3, 13, 100), TR(5, 4 * MIN, 3, 14, 100)};
    cr_assert_eq(count_matches("fan_out", hit, N(hit)), 1);
    tev miss[] = {TR(1, 0, 3, 10, 100), TR(2, 1 * MIN, 3, 11, 100), TR(3, 2 * MIN, 3, 12, 100),
                  TR(4, 3 * MIN, 3, 13, 100), TR(5, 4 * MIN, 3, 10, 100)};
    cr_assert_eq(count_matches("fan_out", miss, N(miss)), 0);
}

Test(fraud_library, fan_in)
{
    tev hit[] = {TR(1, 0, 10, 3, 100), TR(2, 1 * MIN, 11, 3, 100), TR(3, 2 * MIN, 12, 3, 100),
                 TR(4, 3 * MIN, 13, 3, 100), TR(5, 4 * MIN, 14, 3, 100)};
    cr_assert_eq(count_matches("fan_in", hit, N(hit)), 1);
    tev miss[] = {TR(1, 0, 10, 3, 100), TR(2, 1 * MIN, 11, 3, 100), TR(3, 2 * MIN, 12, 3, 100),
                  TR(4, 3 * MIN, 13, 3, 100), TR(5, 70 * MIN, 14, 3, 100)};
    cr_assert_eq(count_matches("fan_in", miss, N(miss)), 0);
}

Test(fraud_library, round_trip)
{
    tev hit[] = {TR(1, 0, 1, 2, 5000), TR(2, 60 * MIN, 2, 1, 4800)};
    cr_assert_eq(count_matches("round_trip", hit, N(hit)), 1);
    tev miss[] = {TR(1, 0, 1, 2, 5000), TR(2, 60 * MIN, 2, 1, 3000)};
    cr_assert_eq(count_matches("round_trip", miss, N(miss)), 0);
}
