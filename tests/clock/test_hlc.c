/* Hybrid logical clock: packed format, send/receive rules, max_offset,
 * logical overflow, backwards physical jumps, and a causality property test
 * over simulated nodes with skewed, drifting and jumping clocks. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "clock/prop.h"
#include "gpubridge/clock.h"
#include "gpubridge/status.h"
#include "gpubridge/time.h"

#define SEC 1000000000LL
#define BASE_NS (1700000000LL * SEC) /* a plausible wall-clock time */

/* An injected physical clock the test moves by hand. */
typedef struct fake_clock {
    int64_t ns;
} fake_clock;

static int64_t fake_ns(void *ctx)
{
    return ((fake_clock *)ctx)->ns;
}

static gb_hlc *make_clock(fake_clock *fc, int64_t max_offset_ns)
{
    gb_hlc_opts o = {.node_id = 7, .max_offset_ns = max_offset_ns, .physical_ns = fake_ns, .ctx = fc};
    gb_hlc *c = NULL;
    cr_assert_eq(gb_hlc_create(&c, &o), GB_OK);
    return c;
}

Test(hlc, packed_format_splits_physical_and_logical)
{
    int64_t ns = BASE_NS + 123456789;
    gb_hlc_t t = gb_hlc_make(ns, 7);
    cr_assert_eq(gb_hlc_physical_ns(t), ns & ~0xFFFLL);
    cr_assert_eq(gb_hlc_logical(t), 7);
    cr_assert_eq(t >> GB_HLC_LOGICAL_BITS, (uint64_t)ns >> 12);
    cr_assert_eq(gb_hlc_logical(gb_hlc_make(ns, 0x1005)), 5, "logical is masked to 12 bits");
    cr_assert_eq(gb_hlc_make(-5, 3), 3, "negative physical time clamps to 0");
}

Test(hlc, integer_order_is_physical_then_logical)
{
    cr_assert_lt(gb_hlc_make(BASE_NS, 4095), gb_hlc_make(BASE_NS + 4096, 0));
    cr_assert_lt(gb_hlc_make(BASE_NS, 1), gb_hlc_make(BASE_NS, 2));
    cr_assert_eq(gb_hlc_make(BASE_NS, 4095) + 1, gb_hlc_make(BASE_NS + 4096, 0));
}

Test(hlc, create_validates_options)
{
    gb_hlc *c = NULL;
    cr_assert_eq(gb_hlc_create(NULL, NULL), GB_EINVAL);
    gb_hlc_opts bad = {.max_offset_ns = -1};
    cr_assert_eq(gb_hlc_create(&c, &bad), GB_EINVAL);
    cr_assert_null(c);
    cr_assert_eq(gb_hlc_create(&c, NULL), GB_OK);
    cr_assert_eq(gb_hlc_node_id(c), 0);
    cr_assert_eq(gb_hlc_peek(c), 0);
    gb_hlc_destroy(c);
    gb_hlc_destroy(NULL);
}

Test(hlc, null_clock_is_harmless)
{
    cr_assert_eq(gb_hlc_now(NULL), 0);
    cr_assert_eq(gb_hlc_update(NULL, 1, NULL), GB_EINVAL);
    cr_assert_eq(gb_hlc_peek(NULL), 0);
    cr_assert_eq(gb_hlc_rejected(NULL), 0);
}

Test(hlc, now_follows_physical_time_and_counts_within_a_tick)
{
    fake_clock fc = {BASE_NS};
    gb_hlc *c = make_clock(&fc, 0);
    cr_assert_eq(gb_hlc_now(c), gb_hlc_make(BASE_NS, 0));
    cr_assert_eq(gb_hlc_now(c), gb_hlc_make(BASE_NS, 1));
    fc.ns += 100; /* same 4096 ns unit */
    cr_assert_eq(gb_hlc_now(c), gb_hlc_make(BASE_NS, 2));
    fc.ns = BASE_NS + SEC;
    cr_assert_eq(gb_hlc_now(c), gb_hlc_make(BASE_NS + SEC, 0), "logical resets when pt advances");
    cr_assert_eq(gb_hlc_peek(c), gb_hlc_make(BASE_NS + SEC, 0));
    gb_hlc_destroy(c);
}

Test(hlc, update_with_remote_ahead_ticks_past_remote)
{
    fake_clock fc = {BASE_NS};
    gb_hlc *c = make_clock(&fc, 0);
    gb_hlc_now(c);
    gb_hlc_t remote = gb_hlc_make(BASE_NS + 1000000, 9);
    gb_hlc_t out = 0;
    cr_assert_eq(gb_hlc_update(c, remote, &out), GB_OK);
    cr_assert_eq(out, remote + 1);
    cr_assert_eq(gb_hlc_now(c), remote + 2, "physical time behind: keep counting from remote");
    gb_hlc_destroy(c);
}

Test(hlc, update_with_remote_behind_keeps_local_order)
{
    fake_clock fc = {BASE_NS};
    gb_hlc *c = make_clock(&fc, 0);
    gb_hlc_t t1 = gb_hlc_now(c);
    gb_hlc_t out = 0;
    cr_assert_eq(gb_hlc_update(c, gb_hlc_make(BASE_NS - SEC, 3), &out), GB_OK);
    cr_assert_eq(out, t1 + 1);
    fc.ns += SEC;
    cr_assert_eq(gb_hlc_update(c, gb_hlc_make(BASE_NS, 0), &out), GB_OK);
    cr_assert_eq(out, gb_hlc_make(BASE_NS + SEC, 0), "physical time ahead of both wins");
    cr_assert_eq(gb_hlc_update(c, out, NULL), GB_OK, "out may be NULL");
    gb_hlc_destroy(c);
}

Test(hlc, update_rejects_remote_beyond_max_offset)
{
    fake_clock fc = {BASE_NS};
    gb_hlc *c = make_clock(&fc, 0);
    gb_hlc_t before = gb_hlc_now(c);
    gb_hlc_t out = 12345;
    gb_hlc_t remote = gb_hlc_make(BASE_NS + GB_HLC_DEFAULT_MAX_OFFSET_NS + 8192, 0);
    gb_clear_error();
    cr_assert_eq(gb_hlc_update(c, remote, &out), GB_ECLOCK);
    cr_assert_eq(gb_hlc_peek(c), before, "clock unchanged");
    cr_assert_eq(out, 12345, "out untouched");
    cr_assert_eq(gb_hlc_rejected(c), 1);
    cr_assert_str_neq(gb_last_error(), "");
    cr_assert_eq(gb_hlc_now(c), before + 1);
    gb_hlc_destroy(c);
}

Test(hlc, update_accepts_remote_exactly_at_max_offset)
{
    fake_clock fc = {BASE_NS & ~0xFFFLL};
    gb_hlc *c = make_clock(&fc, 4096 * 10);
    gb_hlc_t remote = gb_hlc_make(fc.ns + 4096 * 10, 0);
    cr_assert_eq(gb_hlc_update(c, remote, NULL), GB_OK);
    cr_assert_eq(gb_hlc_update(c, remote + 4096 * 2, NULL), GB_ECLOCK, "one unit further is rejected");
    cr_assert_eq(gb_hlc_rejected(c), 1);
    gb_hlc_destroy(c);
}

Test(hlc, update_rejects_remote_beyond_int64_time)
{
    fake_clock fc = {BASE_NS};
    gb_hlc *c = make_clock(&fc, INT64_MAX);
    gb_hlc_t before = gb_hlc_now(c);
    cr_assert_eq(gb_hlc_update(c, UINT64_MAX, NULL), GB_ECLOCK);
    cr_assert_eq(gb_hlc_update(c, (gb_hlc_t)1 << 63, NULL), GB_ECLOCK);
    cr_assert_eq(gb_hlc_peek(c), before);
    cr_assert_eq(gb_hlc_rejected(c), 2);
    cr_assert_gt(gb_hlc_now(c), before, "still ticks forward");
    gb_hlc_destroy(c);
}

Test(hlc, logical_overflow_carries_into_physical)
{
    fake_clock fc = {BASE_NS & ~0xFFFLL};
    gb_hlc *c = make_clock(&fc, 0);
    gb_hlc_t first = gb_hlc_now(c);
    gb_hlc_t prev = first;
    for (int i = 1; i < 5000; i++) {
        gb_hlc_t t = gb_hlc_now(c);
        cr_assert_eq(t, prev + 1, "tick %d", i);
        prev = t;
    }
    cr_assert_eq(gb_hlc_physical_ns(prev), fc.ns + 4096, "4096 ticks carried one unit");
    cr_assert_eq(gb_hlc_logical(prev), 4999 - 4096);
    /* Physical time catching up past the carried unit takes over again. */
    fc.ns += 3 * 4096;
    cr_assert_eq(gb_hlc_now(c), gb_hlc_make(fc.ns, 0));
    gb_hlc_destroy(c);
}

Test(hlc, never_goes_backwards_when_physical_clock_jumps_back)
{
    fake_clock fc = {BASE_NS};
    gb_hlc *c = make_clock(&fc, 0);
    gb_hlc_t prev = gb_hlc_now(c);
    int64_t jumps[] = {-10 * SEC, +5, -1, -SEC / 2, +SEC, -3 * SEC};
    for (size_t j = 0; j < sizeof jumps / sizeof jumps[0]; j++) {
        fc.ns += jumps[j];
        for (int i = 0; i < 10; i++) {
            gb_hlc_t t = (i & 1) ? gb_hlc_now(c) : 0;
            if (!(i & 1))
                cr_assert_eq(gb_hlc_update(c, gb_hlc_make(fc.ns, 0), &t), GB_OK);
            cr_assert_gt(t, prev, "jump %zu tick %d", j, i);
            prev = t;
        }
    }
    gb_hlc_destroy(c);
}

Test(hlc, total_order_breaks_ties_by_node)
{
    cr_assert_lt(gb_hlc_compare_total(5, 9, 6, 1), 0);
    cr_assert_gt(gb_hlc_compare_total(6, 1, 5, 9), 0);
    cr_assert_lt(gb_hlc_compare_total(5, 1, 5, 2), 0);
    cr_assert_gt(gb_hlc_compare_total(5, 2, 5, 1), 0);
    cr_assert_eq(gb_hlc_compare_total(5, 2, 5, 2), 0);
}

Test(hlc, default_source_is_wall_clock_time)
{
    gb_hlc *c = NULL;
    cr_assert_eq(gb_hlc_create(&c, NULL), GB_OK);
    int64_t wall = gb_time_realtime_ns();
    int64_t phys = gb_hlc_physical_ns(gb_hlc_now(c));
    /* A loose bound: this checks the epoch and units, not speed. */
    cr_assert_lt(llabs(phys - wall), 60 * SEC, "hlc %lld vs realtime %lld", (long long)phys,
                 (long long)wall);
    gb_hlc_destroy(c);
}

/* ---- property: causality across simulated nodes --------------------------- */

#define NODES 5
#define EVENTS 3000
#define INFLIGHT 64

typedef struct sim_node {
    fake_clock fc;
    gb_hlc *clock;
    int64_t skew_ns;
    double drift; /* rate error, e.g. 1e-4 = 100 ppm */
    gb_hlc_t last;
    uint32_t vc[NODES]; /* dense vector clock: the reference for happened-before */
} sim_node;

typedef struct sim_msg {
    int to;
    gb_hlc_t hlc;
    uint32_t vc[NODES];
} sim_msg;

typedef struct sim_event {
    gb_hlc_t hlc;
    uint32_t vc[NODES];
} sim_event;

typedef struct sim {
    prop_rng rng;
    sim_node node[NODES];
    sim_msg inflight[INFLIGHT];
    int n_inflight;
    sim_event *events;
    int n_events;
    int64_t true_ns;
    int64_t max_pt; /* largest physical reading any node has made */
    int rejected;
    uint64_t seed;
} sim;

static void sim_set_physical(sim *s, sim_node *nd)
{
    nd->fc.ns = BASE_NS + (int64_t)((double)(s->true_ns - BASE_NS) * (1.0 + nd->drift)) + nd->skew_ns;
    if (prop_below(&s->rng, 100) == 0) /* an occasional step back (NTP, VM) */
        nd->skew_ns -= (int64_t)prop_below(&s->rng, 40000000);
    if (nd->fc.ns > s->max_pt)
        s->max_pt = nd->fc.ns;
}

static void sim_init(sim *s, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->seed = seed;
    s->rng.s = seed;
    s->true_ns = BASE_NS;
    s->events = calloc(EVENTS, sizeof *s->events);
    cr_assert_not_null(s->events);
    for (int i = 0; i < NODES; i++) {
        sim_node *nd = &s->node[i];
        nd->skew_ns = (int64_t)prop_below(&s->rng, 200000000) - 100000000; /* +-100 ms */
        nd->drift = ((double)prop_below(&s->rng, 2001) - 1000.0) * 1e-7;   /* +-100 ppm */
        gb_hlc_opts o = {.node_id = (uint32_t)i, .physical_ns = fake_ns, .ctx = &nd->fc};
        cr_assert_eq(gb_hlc_create(&nd->clock, &o), GB_OK);
    }
}

/* Record node's new event and check it follows the node's previous one. */
static void sim_record(sim *s, sim_node *nd, gb_hlc_t t, int id)
{
    cr_assert_gt(t, nd->last, "seed %llu: node %d went backwards", (unsigned long long)s->seed, id);
    nd->last = t;
    nd->vc[id]++;
    sim_event *e = &s->events[s->n_events++];
    e->hlc = t;
    memcpy(e->vc, nd->vc, sizeof e->vc);
}

static void sim_step(sim *s)
{
    s->true_ns += (int64_t)prop_below(&s->rng, 20000); /* often within one 4096 ns unit */
    int id = (int)prop_below(&s->rng, NODES);
    sim_node *nd = &s->node[id];
    sim_set_physical(s, nd);
    int pick = -1;
    for (int k = 0; k < s->n_inflight && pick < 0; k++)
        if (s->inflight[k].to == id && prop_below(&s->rng, 2) == 0)
            pick = k;
    if (pick >= 0) { /* receive */
        sim_msg m = s->inflight[pick];
        s->inflight[pick] = s->inflight[--s->n_inflight];
        gb_hlc_t t = 0, before = gb_hlc_peek(nd->clock);
        gb_status st = gb_hlc_update(nd->clock, m.hlc, &t);
        if (st == GB_ECLOCK) { /* skew grew past max_offset: dropped, clock unchanged */
            cr_assert_eq(gb_hlc_peek(nd->clock), before, "seed %llu", (unsigned long long)s->seed);
            s->rejected++;
            return;
        }
        cr_assert_eq(st, GB_OK, "seed %llu", (unsigned long long)s->seed);
        for (int i = 0; i < NODES; i++)
            nd->vc[i] = nd->vc[i] > m.vc[i] ? nd->vc[i] : m.vc[i];
        sim_record(s, nd, t, id);
        return;
    }
    sim_record(s, nd, gb_hlc_now(nd->clock), id); /* local or send */
    if (s->n_inflight < INFLIGHT && prop_below(&s->rng, 2) == 0) {
        sim_msg *m = &s->inflight[s->n_inflight++];
        m->to = (int)prop_below(&s->rng, NODES);
        m->hlc = nd->last;
        memcpy(m->vc, nd->vc, sizeof m->vc);
    }
}

static int happened_before(const sim_event *a, const sim_event *b)
{
    int strictly = 0;
    for (int i = 0; i < NODES; i++) {
        if (a->vc[i] > b->vc[i])
            return 0;
        strictly |= a->vc[i] < b->vc[i];
    }
    return strictly;
}

Test(hlc, happened_before_implies_smaller_timestamp_property)
{
    sim s;
    sim_init(&s, prop_seed("hlc.happened_before_implies_smaller_timestamp_property"));
    while (s.n_events < EVENTS)
        sim_step(&s);
    long pairs = 0;
    for (int a = 0; a < s.n_events; a++) {
        for (int b = 0; b < s.n_events; b++) {
            if (!happened_before(&s.events[a], &s.events[b]))
                continue;
            pairs++;
            cr_assert_lt(s.events[a].hlc, s.events[b].hlc, "seed %llu: event %d -> %d",
                         (unsigned long long)s.seed, a, b);
        }
        /* HLC stays close to physical time: never beyond the largest
         * reading plus the logical carries a run this long can make. */
        cr_assert_leq(gb_hlc_physical_ns(s.events[a].hlc), s.max_pt + 4096 * (EVENTS / 4096 + 1),
                      "seed %llu", (unsigned long long)s.seed);
    }
    cr_assert_gt(pairs, EVENTS, "the run produced causal chains");
    fprintf(stderr, "%d events, %ld causal pairs checked, %d messages rejected\n", s.n_events, pairs,
            s.rejected);
    for (int i = 0; i < NODES; i++)
        gb_hlc_destroy(s.node[i].clock);
    free(s.events);
}
