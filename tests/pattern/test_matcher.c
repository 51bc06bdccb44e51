/* The streaming matcher against the spec's Semantics 1-10, one rule per
 * test, on small hand-checked streams. Matches are rendered as
 * "name@ts var=ids... | field=value" (pattern_test_util.h). */
#include <criterion/criterion.h>

#include "pattern_test_util.h"

#define T(id, type, ts) {id, type, ts, 0, 0, 0}
#define TV(id, type, ts, v) {id, type, ts, 0, 0, v}
#define TS(id, type, ts, src, dst, v) {id, type, ts, src, dst, v}

Test(matcher, every_first_step_event_starts_a_run)
{
    tev e[] = {T(1, "t", 0), T(2, "t", 1), T(3, "u", 2)};
    EXPECT_MATCHES(run_stream("pattern p within 1s a: t b: u end", e, N(e), 1), "p@2 a=1 b=3\np@2 a=2 b=3\n");
}

Test(matcher, events_that_do_not_fit_are_skipped)
{
    tev e[] = {T(1, "t", 0), TV(2, "u", 1, 1), T(3, "x", 2), TV(4, "u", 3, 9)};
    EXPECT_MATCHES(run_stream("pattern p within 1s a: t b: u where value > 5 end", e, N(e), 1), "p@3 a=1 b=4\n");
}

Test(matcher, single_step_takes_the_first_fitting_event_only)
{
    tev e[] = {T(1, "t", 0), T(2, "u", 1), T(3, "u", 2)};
    EXPECT_MATCHES(run_stream("pattern p within 1s a: t b: u end", e, N(e), 1), "p@1 a=1 b=2\n");
}

Test(matcher, one_event_binds_at_most_one_step_of_a_run)
{
    tev e[] = {T(1, "t", 0), T(2, "t", 1), T(3, "t", 2)};
    EXPECT_MATCHES(run_stream("pattern p within 1s a: t b: t end", e, N(e), 1), "p@1 a=1 b=2\np@2 a=2 b=3\n");
}

Test(matcher, kleene_advances_first_once_n_is_reached)
{
    const char *src = "pattern p within 1s a: t b: u {2,} c: u where value > 100 end";
    tev e[] = {T(1, "t", 0), TV(2, "u", 1, 1), TV(3, "u", 2, 500), TV(4, "u", 3, 1), TV(5, "u", 4, 500)};
    /* u3 fits c but b holds only 1 < 2 events: appended; u5 then binds c */
    EXPECT_MATCHES(run_stream(src, e, N(e), 1), "p@4 a=1 b=2,3,4 c=5\n");
}

Test(matcher, exact_count_emits_when_reached)
{
    tev e[] = {T(1, "t", 0), T(2, "u", 1), T(3, "u", 2), T(4, "u", 3), T(5, "u", 4)};
    EXPECT_MATCHES(run_stream("pattern p within 1s a: t b: u {3} end", e, N(e), 0), "p@3 a=1 b=2,3,4\n");
}

Test(matcher, bounded_kleene_emits_at_m_or_at_close_with_n_or_more)
{
    const char *src = "pattern p within 10ns a: t b: u {2,3} end";
    tev full[] = {T(1, "t", 0), T(2, "u", 1), T(3, "u", 2), T(4, "u", 3), T(5, "u", 4)};
    EXPECT_MATCHES(run_stream(src, full, N(full), 0), "p@3 a=1 b=2,3,4\n");
    tev part[] = {T(1, "t", 0), T(2, "u", 1), T(3, "u", 2), T(9, "x", 11)};
    EXPECT_MATCHES(run_stream(src, part, N(part), 0), "p@11 a=1 b=2,3\n");
    tev few[] = {T(1, "t", 0), T(2, "u", 1), T(9, "x", 11)};
    EXPECT_MATCHES(run_stream(src, few, N(few), 1), "");
}

Test(matcher, middle_kleene_moves_on_at_m)
{
    /* after m events of b only c can take events */
    const char *src = "pattern p within 1s a: t b: u {1,2} c: u where value > 5 end";
    tev e[] = {T(1, "t", 0), TV(2, "u", 1, 1), TV(3, "u", 2, 1), TV(4, "u", 3, 1), TV(5, "u", 4, 9)};
    EXPECT_MATCHES(run_stream(src, e, N(e), 1), "p@4 a=1 b=2,3 c=5\n");
}

Test(matcher, unbounded_kleene_last_emits_at_window_close)
{
    tev e[] = {T(1, "t", 0), T(2, "u", 1), T(3, "u", 2), T(4, "z", 20)};
    EXPECT_MATCHES(run_stream("pattern p within 10ns a: t b: u+ end", e, N(e), 0), "p@20 a=1 b=2,3\n");
}

Test(matcher, unbounded_kleene_last_emits_at_flush_with_last_ts)
{
    tev e[] = {T(1, "t", 0), T(2, "u", 1), T(3, "u", 2), T(4, "z", 5)};
    EXPECT_MATCHES(run_stream("pattern p within 10ns a: t b: u+ end", e, N(e), 1), "p@5 a=1 b=2,3\n");
}

Test(matcher, negation_between_steps_kills_the_run)
{
    const char *src = "pattern p within 1s a: t not x b: u end";
    tev killed[] = {T(1, "t", 0), T(2, "x", 1), T(3, "u", 2)};
    EXPECT_MATCHES(run_stream(src, killed, N(killed), 1), "");
    tev ok[] = {T(1, "t", 0), T(3, "u", 2), T(4, "x", 3)};
    EXPECT_MATCHES(run_stream(src, ok, N(ok), 1), "p@2 a=1 b=3\n");
}

Test(matcher, binding_is_tried_before_negation)
{
    const char *src = "pattern p within 1s a: t not u b: u where value > 5 end";
    tev binds[] = {T(1, "t", 0), TV(2, "u", 1, 9)};
    EXPECT_MATCHES(run_stream(src, binds, N(binds), 1), "p@1 a=1 b=2\n");
    tev kills[] = {T(1, "t", 0), TV(2, "u", 1, 1), TV(3, "u", 2, 9)};
    EXPECT_MATCHES(run_stream(src, kills, N(kills), 1), "");
}

Test(matcher, negation_after_kleene_is_active_once_n_is_reached)
{
    const char *src = "pattern p within 1s a: t b: u {2,} not x c: v end";
    tev early[] = {T(1, "t", 0), T(2, "u", 1), T(3, "x", 2), T(4, "u", 3), T(5, "v", 4)};
    EXPECT_MATCHES(run_stream(src, early, N(early), 1), "p@4 a=1 b=2,4 c=5\n");
    tev late[] = {T(1, "t", 0), T(2, "u", 1), T(3, "u", 2), T(4, "x", 3), T(5, "v", 4)};
    EXPECT_MATCHES(run_stream(src, late, N(late), 1), "");
}

Test(matcher, negation_ends_when_next_step_takes_its_first_event)
{
    const char *src = "pattern p within 1s a: t not x b: u {2} end";
    tev e[] = {T(1, "t", 0), T(2, "u", 1), T(3, "x", 2), T(4, "u", 3)};
    EXPECT_MATCHES(run_stream(src, e, N(e), 1), "p@3 a=1 b=2,4\n");
}

Test(matcher, negation_after_last_step_delays_emission_to_close)
{
    const char *src = "pattern p within 10ns a: t b: u not x end";
    tev killed[] = {T(1, "t", 0), T(2, "u", 1), T(3, "x", 5)};
    EXPECT_MATCHES(run_stream(src, killed, N(killed), 1), "");
    tev closed[] = {T(1, "t", 0), T(2, "u", 1), T(3, "x", 11)};
    EXPECT_MATCHES(run_stream(src, closed, N(closed), 1), "p@11 a=1 b=2\n");
    tev flushed[] = {T(1, "t", 0), T(2, "u", 1), T(3, "z", 4)};
    EXPECT_MATCHES(run_stream(src, flushed, N(flushed), 1), "p@4 a=1 b=2\n");
}

Test(matcher, window_closes_before_the_event_is_matched)
{
    const char *src = "pattern p within 10ns a: t b: u end";
    tev late[] = {T(1, "t", 0), T(2, "u", 11)};
    EXPECT_MATCHES(run_stream(src, late, N(late), 1), "");
    tev edge[] = {T(1, "t", 0), T(2, "u", 10)};
    EXPECT_MATCHES(run_stream(src, edge, N(edge), 1), "p@10 a=1 b=2\n");
}

Test(matcher, expired_runs_close_before_existing_runs_see_the_event)
{
    tev e[] = {T(1, "t", 0), T(2, "t", 3), T(3, "u", 7)};
    EXPECT_MATCHES(run_stream("pattern p within 5ns a: t b: u end", e, N(e), 1), "p@7 a=2 b=3\n");
}

Test(matcher, skip_all_keeps_runs_independent)
{
    tev e[] = {T(1, "t", 0), T(2, "t", 1), T(3, "u", 2)};
    EXPECT_MATCHES(run_stream("pattern p within 1s skip all a: t b: u end", e, N(e), 1),
                   "p@2 a=1 b=3\np@2 a=2 b=3\n");
}

Test(matcher, skip_past_last_drops_runs_started_before_the_match_end)
{
    const char *src = "pattern p within 1s skip past_last a: t b: u end";
    tev e[] = {T(1, "t", 0), T(2, "t", 1), T(3, "u", 2), T(4, "t", 3), T(5, "u", 4)};
    EXPECT_MATCHES(run_stream(src, e, N(e), 1), "p@2 a=1 b=3\np@4 a=4 b=5\n");
}

Test(matcher, skip_past_last_event_that_completes_a_match_starts_no_run)
{
    const char *src = "pattern p within 1s skip past_last a: t b: t end";
    tev e[] = {T(1, "t", 0), T(2, "t", 1), T(3, "t", 2), T(4, "t", 3)};
    EXPECT_MATCHES(run_stream(src, e, N(e), 1), "p@1 a=1 b=2\np@3 a=3 b=4\n");
}

Test(matcher, patterns_see_an_event_in_file_order)
{
    const char *src = "pattern first within 1s a: t b: u end\npattern second within 1s a: u end\n";
    tev e[] = {T(1, "t", 0), T(2, "u", 1)};
    EXPECT_MATCHES(run_stream(src, e, N(e), 1), "first@1 a=1 b=2\nsecond@1 a=2\n");
}

Test(matcher, one_step_pattern_emits_at_once)
{
    tev e[] = {TV(1, "t", 0, 1), TV(2, "t", 5, 20)};
    EXPECT_MATCHES(run_stream("pattern big within 1s a: t where value > 10 end", e, N(e), 0), "big@5 a=2\n");
}

Test(matcher, flush_closes_runs_oldest_first_across_patterns)
{
    const char *src = "pattern p within 1s a: t b: u+ end\npattern q within 1s a: v b: u+ end\n";
    tev e[] = {T(1, "v", 0), T(2, "t", 1), T(3, "u", 2)};
    EXPECT_MATCHES(run_stream(src, e, N(e), 1), "q@2 a=1 b=3\np@2 a=2 b=3\n");
}

Test(matcher, out_of_order_event_is_rejected_and_changes_nothing)
{
    gb_pattern_set *set = compile_ok("pattern p within 1s a: t b: u end");
    tbuf b = {0};
    tbuf_put(&b, "");
    gb_matcher_opts o = {.on_match = tbuf_on_match, .ctx = &b};
    gb_matcher *m;
    cr_assert_eq(gb_matcher_create(&m, set, &o), GB_OK);
    tev t1 = T(1, "t", 10), u2 = T(2, "u", 5), u3 = T(3, "u", 10);
    gb_event e = make_event(set, &t1);
    cr_assert_eq(gb_matcher_push(m, &e), GB_OK);
    e = make_event(set, &u2);
    cr_assert_eq(gb_matcher_push(m, &e), GB_EORDER);
    gb_matcher_stats st;
    cr_assert_eq(gb_matcher_stats_get(m, UINT32_MAX, &st), GB_OK);
    cr_assert_eq(st.events, 1);
    cr_assert_eq(st.rejected, 1);
    cr_assert_eq(st.runs_open, 1);
    cr_assert_str_eq(b.s, "");
    e = make_event(set, &u3);
    cr_assert_eq(gb_matcher_push(m, &e), GB_OK);
    cr_assert_str_eq(b.s, "p@10 a=1 b=3\n");
    cr_assert_eq(gb_matcher_advance(m, 9), GB_EORDER);
    gb_matcher_destroy(m);
    gb_pattern_set_destroy(set);
    free(b.s);
}

Test(matcher, integer_arithmetic_is_exact_for_large_timestamps)
{
    const char *src = "pattern p within 1s a: t b: u where ts - a.ts == 1 and source == a.target end";
    int64_t base = 1700000000000000000LL;
    uint64_t big = (1ULL << 62) + 1;
    tev e[] = {TS(1, "t", base, 0, big, 0), TS(2, "u", base + 1, big - 1, 0, 0), TS(3, "u", base + 1, big, 0, 0)};
    EXPECT_MATCHES(run_stream(src, e, N(e), 1), "p@1700000000000000001 a=1 b=3\n");
}

Test(matcher, division_is_double_and_by_zero_gives_zero)
{
    const char *src = "pattern p within 1s a: t emit half = a.ts / 2, zero = a.value / 0, izero = a.ts / (a.ts - a.ts) end";
    tev e[] = {TV(1, "t", 17, 3)};
    EXPECT_MATCHES(run_stream(src, e, N(e), 1), "p@17 a=1 | half=8.5d zero=0d izero=0d\n");
}

Test(matcher, mixed_arithmetic_follows_typing_rules)
{
    const char *src = "pattern p within 1s a: t\n"
                      "emit i = a.ts * 3 - 1, d = a.ts + 0.5, n = -a.ts, c = a.ts > 1.5, b = 2 > 1 and 0 end";
    tev e[] = {TV(1, "t", 4, 0)};
    EXPECT_MATCHES(run_stream(src, e, N(e), 1), "p@4 a=1 | i=11 d=4.5d n=-4 c=1 b=0\n");
}

Test(matcher, string_compares_with_type)
{
    const char *src = "pattern p within 1s a: t where type == \"t\" b: u where \"u\" == b.type and a.type != type end";
    tev e[] = {T(1, "t", 0), T(2, "u", 1)};
    EXPECT_MATCHES(run_stream(src, e, N(e), 1), "p@1 a=1 b=2\n");
    const char *never = "pattern p within 1s a: t where type != \"t\" end";
    EXPECT_MATCHES(run_stream(never, e, N(e), 1), "");
}

Test(matcher, aggregates_over_kleene_variables)
{
    const char *src = "pattern p within 1s a: t b: u {4}\n"
                      "emit n = count(b), s = sum(b.value), lo = min(b.value), hi = max(b.ts), mean = avg(b.value),\n"
                      "     f = first(b.id), l = last(b.id), plain = b.value, st = sum(b.ts) end";
    tev e[] = {T(1, "t", 0), TV(2, "u", 1, 4), TV(3, "u", 2, 1), TV(4, "u", 3, 7), TV(5, "u", 4, 2)};
    EXPECT_MATCHES(run_stream(src, e, N(e), 1),
                   "p@4 a=1 b=2,3,4,5 | n=4 s=14d lo=1d hi=4 mean=3.5d f=2 l=5 plain=2d st=10\n");
}

Test(matcher, own_variable_in_where_means_the_tested_event_and_count_so_far)
{
    /* b takes u events while its own value grows and at most 3 are bound */
    const char *src = "pattern p within 1s a: t b: u+ where b.value > last(b.value) and count(b) < 3 end";
    tev e[] = {T(1, "t", 0), TV(2, "u", 1, 1), TV(3, "u", 2, 0), TV(4, "u", 3, 5), TV(5, "u", 4, 6),
               TV(6, "u", 5, 9)};
    EXPECT_MATCHES(run_stream(src, e, N(e), 1), "p@5 a=1 b=2,4,5\n");
}

Test(matcher, run_cap_is_counted_not_silent)
{
    gb_pattern_set *set = compile_ok("pattern p within 1s a: t b: u end");
    gb_matcher_opts o = {.max_runs_per_pattern = 2};
    gb_matcher *m;
    cr_assert_eq(gb_matcher_create(&m, set, &o), GB_OK);
    for (uint64_t i = 0; i < 5; i++) {
        tev t = T(i + 1, "t", (int64_t)i);
        gb_event e = make_event(set, &t);
        cr_assert_eq(gb_matcher_push(m, &e), GB_OK);
    }
    gb_matcher_stats st;
    cr_assert_eq(gb_matcher_stats_get(m, 0, &st), GB_OK);
    cr_assert_eq(st.runs_open, 2);
    cr_assert_eq(st.runs_started, 2);
    cr_assert_eq(st.runs_capped, 3);
    gb_matcher_destroy(m);
    gb_pattern_set_destroy(set);
}

Test(matcher, advance_closes_expired_runs_at_the_advance_time)
{
    gb_pattern_set *set = compile_ok("pattern p within 10ns a: t b: u+ end");
    gb_matcher *m;
    cr_assert_eq(gb_matcher_create(&m, set, NULL), GB_OK);
    tev evs[] = {T(1, "t", 0), T(2, "u", 1)};
    for (size_t i = 0; i < N(evs); i++) {
        gb_event e = make_event(set, &evs[i]);
        cr_assert_eq(gb_matcher_push(m, &e), GB_OK);
    }
    cr_assert_eq(gb_matcher_advance(m, 10), GB_OK);
    cr_assert_eq(gb_matcher_match_count(m), 0);
    cr_assert_eq(gb_matcher_advance(m, 11), GB_OK);
    cr_assert_eq(gb_matcher_match_count(m), 1);
    const gb_match *mt = gb_matcher_match_at(m, 0);
    cr_assert_eq(mt->ts, 11);
    cr_assert_str_eq(mt->pattern, "p");
    cr_assert_eq(mt->vars[1].count, 1);
    cr_assert_eq(mt->vars[1].ids[0], 2);
    gb_event late = make_event(set, &evs[0]);
    cr_assert_eq(gb_matcher_push(m, &late), GB_EORDER);
    gb_matcher_clear_matches(m);
    cr_assert_eq(gb_matcher_match_count(m), 0);
    gb_matcher_destroy(m);
    gb_pattern_set_destroy(set);
}

Test(matcher, stats_count_kills_expiries_and_skips)
{
    gb_pattern_set *set = compile_ok("pattern p within 5ns skip past_last a: t not x b: u end");
    gb_matcher *m;
    cr_assert_eq(gb_matcher_create(&m, set, NULL), GB_OK);
    tev evs[] = {T(1, "t", 0), T(2, "x", 1), T(3, "t", 2), T(4, "t", 3), T(5, "u", 4), T(6, "t", 5), T(7, "z", 20)};
    for (size_t i = 0; i < N(evs); i++) {
        gb_event e = make_event(set, &evs[i]);
        cr_assert_eq(gb_matcher_push(m, &e), GB_OK);
    }
    gb_matcher_stats st;
    cr_assert_eq(gb_matcher_stats_get(m, UINT32_MAX, &st), GB_OK);
    cr_assert_eq(st.matches, 1);
    cr_assert_eq(st.runs_killed, 1);
    cr_assert_eq(st.runs_skipped, 1);
    cr_assert_eq(st.runs_expired, 1);
    cr_assert_eq(st.runs_open, 0);
    cr_assert_eq(gb_matcher_stats_get(m, 1, &st), GB_EINVAL);
    gb_matcher_destroy(m);
    gb_pattern_set_destroy(set);
}

Test(matcher, long_kleene_runs_keep_every_id)
{
    gb_pattern_set *set = compile_ok("pattern p within 1s a: t b: u+ end");
    gb_matcher *m;
    cr_assert_eq(gb_matcher_create(&m, set, NULL), GB_OK);
    tev t = T(1, "t", 0);
    gb_event e = make_event(set, &t);
    cr_assert_eq(gb_matcher_push(m, &e), GB_OK);
    for (uint64_t i = 0; i < 1000; i++) {
        tev u = T(100 + i, "u", (int64_t)i + 1);
        e = make_event(set, &u);
        cr_assert_eq(gb_matcher_push(m, &e), GB_OK);
    }
    cr_assert_eq(gb_matcher_flush(m), GB_OK);
    cr_assert_eq(gb_matcher_match_count(m), 1);
    const gb_match *mt = gb_matcher_match_at(m, 0);
    cr_assert_eq(mt->vars[1].count, 1000);
    for (uint32_t i = 0; i < 1000; i++)
        cr_assert_eq(mt->vars[1].ids[i], 100 + i);
    gb_matcher_destroy(m);
    gb_pattern_set_destroy(set);
}

Test(matcher, null_arguments_are_rejected)
{
    gb_matcher *m = NULL;
    cr_assert_eq(gb_matcher_create(&m, NULL, NULL), GB_EINVAL);
    cr_assert_eq(gb_matcher_push(NULL, NULL), GB_EINVAL);
    cr_assert_eq(gb_matcher_advance(NULL, 0), GB_EINVAL);
    cr_assert_eq(gb_matcher_flush(NULL), GB_EINVAL);
    gb_pattern_set *set = NULL;
    cr_assert_eq(gb_pattern_compile(&set, NULL, NULL, 3), GB_EINVAL);
}
