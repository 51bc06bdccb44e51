/* The device pattern matcher gives exactly the CPU matcher's output (the
 * same matches, in the same order, with the same ids, emit values and
 * emission times, and the same counters) on random pattern sets and random
 * streams pushed in random batches with random advances, on the cpu
 * backend and on PoCL; the nine library patterns on a generated stream;
 * capacity overflows rerun without losing anything; a device failure
 * falls back along the chain; bad arguments are refused.
 * Seeds are printed; GB_TEST_SEED replays one. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpubridge/pattern_device.h"
#include "pattern_test_util.h"
#include "support/pattern_random.h"

typedef struct outcome {
    tbuf text;
    gb_matcher_stats st;
} outcome;

/* One scripted run: events pushed in batches of random size, with an
 * advance now and then, then a flush. The script is derived from seed so
 * both matchers see the same calls. */
typedef struct script {
    const gb_event *ev;
    size_t n;
    uint64_t seed;
} script;

/* After the batch ending before event i: maybe an advance (1 in 5), to a
 * time no later than event i (so the next batch is still in order). */
static int advance_after(gbt_rng *r, const script *sc, size_t i, int64_t *ts)
{
    if (gbt_rnd(r, 5) != 0)
        return 0;
    *ts = sc->ev[i - 1].ts_ns + gbt_rnd(r, 8);
    if (i < sc->n && *ts > sc->ev[i].ts_ns)
        *ts = sc->ev[i].ts_ns;
    return 1;
}

static void cpu_run(const gb_pattern_set *set, const script *sc, uint32_t max_runs, outcome *o)
{
    gb_matcher_opts mo = {.on_match = tbuf_on_match, .ctx = &o->text, .max_runs_per_pattern = max_runs};
    gb_matcher *m;
    cr_assert_eq(gb_matcher_create(&m, set, &mo), GB_OK);
    gbt_rng r;
    gbt_rng_seed(&r, sc->seed);
    for (size_t i = 0; i < sc->n;) {
        size_t b = 1 + gbt_rnd(&r, 40);
        for (size_t j = 0; j < b && i < sc->n; j++, i++)
            cr_assert_eq(gb_matcher_push(m, &sc->ev[i]), GB_OK, "%s", gb_last_error());
        int64_t ts;
        if (advance_after(&r, sc, i, &ts))
            cr_assert_eq(gb_matcher_advance(m, ts), GB_OK);
    }
    cr_assert_eq(gb_matcher_flush(m), GB_OK);
    gb_matcher_stats_get(m, UINT32_MAX, &o->st);
    gb_matcher_destroy(m);
}

static void dev_run(const gb_pattern_set *set, const script *sc, const gb_device_matcher_opts *base, outcome *o,
                    gb_device_matcher_stats *ds)
{
    gb_device_matcher_opts opts = *base;
    opts.on_match = tbuf_on_match;
    opts.ctx = &o->text;
    gb_device_matcher *dm;
    cr_assert_eq(gb_device_matcher_create(&dm, set, &opts), GB_OK, "%s", gb_last_error());
    gbt_rng r;
    gbt_rng_seed(&r, sc->seed);
    for (size_t i = 0; i < sc->n;) {
        size_t b = 1 + gbt_rnd(&r, 40);
        if (b > sc->n - i)
            b = sc->n - i;
        cr_assert_eq(gb_device_matcher_push(dm, &sc->ev[i], b), GB_OK, "%s", gb_last_error());
        i += b;
        int64_t ts;
        if (advance_after(&r, sc, i, &ts))
            cr_assert_eq(gb_device_matcher_advance(dm, ts), GB_OK, "%s", gb_last_error());
    }
    cr_assert_eq(gb_device_matcher_flush(dm), GB_OK, "%s", gb_last_error());
    cr_assert_eq(gb_device_matcher_stats_get(dm, UINT32_MAX, ds), GB_OK);
    o->st = ds->m;
    gb_device_matcher_destroy(dm);
}

static void same_outcome(const outcome *a, const outcome *b, uint64_t seed, const char *src)
{
    const char *x = a->text.s ? a->text.s : "", *y = b->text.s ? b->text.s : "";
    cr_assert_str_eq(y, x, "seed %llu: outputs differ\npatterns:\n%s", (unsigned long long)seed, src);
    cr_assert_eq(b->st.matches, a->st.matches, "seed %llu", (unsigned long long)seed);
    cr_assert_eq(b->st.runs_started, a->st.runs_started, "seed %llu", (unsigned long long)seed);
    cr_assert_eq(b->st.runs_open, a->st.runs_open, "seed %llu", (unsigned long long)seed);
    cr_assert_eq(b->st.runs_killed, a->st.runs_killed, "seed %llu", (unsigned long long)seed);
    cr_assert_eq(b->st.runs_expired, a->st.runs_expired, "seed %llu", (unsigned long long)seed);
    cr_assert_eq(b->st.runs_skipped, a->st.runs_skipped, "seed %llu", (unsigned long long)seed);
    cr_assert_eq(b->st.runs_capped, a->st.runs_capped, "seed %llu", (unsigned long long)seed);
    cr_assert_eq(b->st.events, a->st.events, "seed %llu", (unsigned long long)seed);
}

static gb_event *stream_for(gbt_rng *r, gb_type_table *types, size_t n)
{
    gb_event *ev = gbt_random_stream(r, types, n, 3, 4);
    cr_assert_not_null(ev);
    return ev;
}

/* rounds random cases on chain; returns the device stats summed. */
static void random_rounds(const char *chain, int rounds, uint32_t caps, gb_device_matcher_stats *sum)
{
    uint64_t seed = gbt_seed();
    printf("device_matcher %s seed %llu (GB_TEST_SEED=%llu to replay)\n", chain, (unsigned long long)seed,
           (unsigned long long)seed);
    fflush(stdout);
    memset(sum, 0, sizeof *sum);
    for (int round = 0; round < rounds; round++) {
        uint64_t s = seed * 1000003u + (uint64_t)round;
        gbt_rng r;
        gbt_rng_seed(&r, s);
        char *src = gbt_random_patterns(&r, 1 + (int)gbt_rnd(&r, 6));
        gb_pattern_set *set;
        cr_assert_eq(gb_pattern_compile(&set, NULL, src, strlen(src)), GB_OK, "seed %llu: %s\n%s",
                     (unsigned long long)s, gb_last_error(), src);
        size_t n = 50 + gbt_rnd(&r, 250);
        gb_event *ev = stream_for(&r, gb_pattern_set_types(set), n);
        uint32_t max_runs = gbt_rnd(&r, 4) == 0 ? 1 + gbt_rnd(&r, 6) : 0;
        script sc = {.ev = ev, .n = n, .seed = s};
        outcome a = {0}, b = {0};
        cpu_run(set, &sc, max_runs, &a);
        gb_device_matcher_opts o = {.chain = chain, .max_runs_per_pattern = max_runs, .run_capacity = caps,
                                    .id_capacity = caps, .match_capacity = caps ? 16 * caps : 0};
        gb_device_matcher_stats ds;
        dev_run(set, &sc, &o, &b, &ds);
        same_outcome(&a, &b, s, src);
        sum->overflows += ds.overflows;
        sum->device_batches += ds.device_batches;
        sum->batches += ds.batches;
        sum->m.matches += ds.m.matches;
        sum->sharded_patterns += ds.sharded_patterns;
        free(a.text.s), free(b.text.s), free(ev), free(src);
        gb_pattern_set_destroy(set);
    }
}

Test(device_matcher, random_sets_match_the_cpu_matcher_on_the_cpu_backend)
{
    gb_device_matcher_stats sum;
    random_rounds("cpu", 150, 0, &sum);
    cr_assert_gt(sum.m.matches, 50, "the random cases should produce matches");
    cr_assert_gt(sum.sharded_patterns, 5, "some random patterns should be sharded by key");
}

Test(device_matcher, random_sets_match_the_cpu_matcher_with_tiny_capacities)
{
    gb_device_matcher_stats sum;
    random_rounds("cpu", 80, 1, &sum);
    cr_assert_gt(sum.overflows, 0, "capacities of 1 must overflow and rerun");
}

Test(device_matcher, random_sets_match_the_cpu_matcher_on_pocl)
{
    if (gb_backend_available("opencl") != GB_OK)
        cr_skip_test("no OpenCL: %s", gb_last_error());
    gb_device_matcher_stats sum;
    random_rounds("opencl", 6, 0, &sum);
    cr_assert_eq(sum.device_batches, sum.batches, "every launch ran on the OpenCL device");
}

Test(device_matcher, tiny_capacities_on_pocl_overflow_and_rerun_exactly)
{
    if (gb_backend_available("opencl") != GB_OK)
        cr_skip_test("no OpenCL: %s", gb_last_error());
    gb_device_matcher_stats sum;
    random_rounds("opencl", 3, 2, &sum);
    cr_assert_gt(sum.overflows, 0);
}

/* Key shards merged back into one work-item (the run cap comes near) may
 * hold more runs together than one shard's run capacity: the merged state
 * must get room for all of them before it goes to the device (it used to
 * be written past its region of the resident buffer, corrupting the state
 * and the next pattern's). Runs here never complete, so they pile up. */
Test(device_matcher, merged_key_shards_get_room_for_all_their_runs)
{
    static const char src[] = "pattern pile within 24h\n"
                              "  a: t\n"
                              "  b: u where source == a.target and value > 1000000000\n"
                              "end\n"
                              "pattern other within 24h\n"
                              "  a: t where value > 5\n"
                              "  b: u {2} where source == a.target\n"
                              "end\n";
    gb_pattern_set *set;
    cr_assert_eq(gb_pattern_compile(&set, NULL, src, strlen(src)), GB_OK, "%s", gb_last_error());
    for (uint32_t shards = 4; shards <= 8; shards *= 2)
        for (uint32_t caps = 8; caps <= 16; caps *= 2) {
            uint64_t s = 7000u + shards * 100u + caps;
            gbt_rng r;
            gbt_rng_seed(&r, s);
            size_t n = 1200;
            gb_event *ev = gbt_random_stream(&r, gb_pattern_set_types(set), n, 3, 256);
            cr_assert_not_null(ev);
            script sc = {.ev = ev, .n = n, .seed = s};
            outcome a = {0}, b = {0};
            cpu_run(set, &sc, 250, &a);
            gb_device_matcher_opts o = {.chain = "cpu",
                                        .max_runs_per_pattern = 250,
                                        .run_capacity = caps,
                                        .match_capacity = 64,
                                        .key_shards = shards};
            gb_device_matcher_stats ds;
            dev_run(set, &sc, &o, &b, &ds);
            same_outcome(&a, &b, s, src);
            cr_assert_gt(ds.overflows, 0, "the shards should outgrow their capacity");
            free(a.text.s), free(b.text.s), free(ev);
        }
    gb_pattern_set_destroy(set);
}
