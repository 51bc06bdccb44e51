/* Property test: on random transfer streams, the streaming matcher (index,
 * fast predicates, prefetching, recycled blocks) gives exactly the output
 * and counters of a plain reference written here from the spec's Semantics:
 * every run in one flat list in creation order, never indexed nor recycled,
 * every event offered to every run, predicates and emit fields run on the
 * VM, aggregates recomputed from the bound events. Pattern sets: the fraud
 * library (patterns/fraud.gbp) and extra keyed patterns (two-field keys,
 * keys on id and ts, negations, Kleene steps, skip past_last), with and
 * without a small run cap, with random advances, and two long-window
 * patterns holding thousands of open runs. The seed is printed; set
 * GB_SEED to replay one. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <time.h>

#include "pattern/internal.h"
#include "pattern/vm.h"
#include "pattern_test_util.h"

#define NEV 500   /* events per stream */
#define NEV_BIG 3000
#define MAXV 8    /* variables per pattern */

typedef struct rrun {
    int alive;
    uint32_t pat, step;
    uint32_t counts[MAXV];
    gb_event lastev[MAXV]; /* the last event bound to each variable */
    uint32_t nb, capb;
    uint32_t *bev, *bvar; /* bound events (stream index) and their variable */
    uint32_t first, last; /* stream index of the first and last bound event */
} rrun;

typedef struct ref {
    const gb_pattern_set *set;
    const gb_event *ev;
    uint32_t cap; /* open runs per pattern */
    rrun *runs;
    uint32_t nruns, capruns;
    uint32_t open[64];
    int64_t last_match[64]; /* past_last: stream index of the last match's last event */
    gb_matcher_stats st[64];
    tbuf out;
} ref;

static uint64_t rng;
static uint64_t rnd(uint64_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng % n;
}

/* The aggregate slots of r, recomputed from its bound events. */
typedef struct view {
    gbp_val slots[32];
} view;

static void slot_value(const ref *R, const rrun *r, const gbp_slot *sl, gbp_val *out)
{
    int first = 1, isint = GBP_FIELD_IS_INT(sl->field);
    out->i = 0;
    for (uint32_t k = 0; k < r->nb; k++) {
        if (r->bvar[k] != sl->var)
            continue;
        gbp_val v = gbp_field_value(&R->ev[r->bev[k]], sl->field);
        if (sl->op == GBP_AGG_SUM)
            *out = isint ? (gbp_val){.i = (int64_t)((uint64_t)out->i + (uint64_t)v.i)} : (gbp_val){.d = out->d + v.d};
        else if (first || (sl->op == GBP_AGG_MIN && (isint ? v.i < out->i : v.d < out->d)) ||
                 (sl->op == GBP_AGG_MAX && (isint ? v.i > out->i : v.d > out->d)))
            *out = v;
        first = 0;
    }
}

static void make_view(const ref *R, const rrun *r, view *w)
{
    const gbp_pattern *p = &R->set->patterns[r->pat];
    cr_assert_leq(p->nslots, 32);
    for (uint32_t s = 0; s < p->nslots; s++)
        slot_value(R, r, &p->slots[s], &w->slots[s]);
}

static gbp_val run_prog(const ref *R, const rrun *r, const view *w, uint32_t at, const gb_event *cur)
{
    gbp_vm_ctx ctx = {.cur = cur, .vars = r->lastev, .slots = w->slots, .counts = r->counts};
    gbp_val v = {.i = 0};
    cr_assert_eq(gbp_vm_eval(R->set->code, R->set->ncode, at, R->set->consts, &ctx, &v), 0);
    return v;
}

static int holds(const ref *R, const rrun *r, uint32_t type, uint32_t where, const gb_event *e)
{
    if (type != e->type)
        return 0;
    if (where == GBP_NO_CODE)
        return 1;
    view w;
    make_view(R, r, &w);
    return run_prog(R, r, &w, where, e).i != 0;
}

static int step_ok(const ref *R, const rrun *r, uint32_t i, const gb_event *e)
{
    const gbp_step *s = &R->set->patterns[r->pat].steps[i];
    return holds(R, r, s->type, s->where, e);
}

static int neg_ok(const ref *R, const rrun *r, uint32_t after, const gb_event *e)
{
    const gbp_pattern *p = &R->set->patterns[r->pat];
    for (uint32_t k = 0; k < p->nnegs; k++)
        if (p->negs[k].after == after && holds(R, r, p->negs[k].type, p->negs[k].where, e))
            return 1;
    return 0;
}

/* Spec 7: the last step unbounded or followed by a negation. */
static int emits_at_close(const gbp_pattern *p)
{
    int neg_last = 0;
    for (uint32_t k = 0; k < p->nnegs; k++)
        neg_last |= p->negs[k].after == p->nsteps - 1;
    return p->steps[p->nsteps - 1].nmax == GBP_UNBOUNDED || neg_last;
}

static void ref_kill(ref *R, rrun *r)
{
    r->alive = 0;
    R->open[r->pat]--;
}

static void emit(ref *R, rrun *r, int64_t ts)
{
    const gbp_pattern *p = &R->set->patterns[r->pat];
    gb_match_var vars[MAXV];
    gb_match_field fields[16];
    uint64_t ids[NEV_BIG];
    uint32_t n = 0;
    for (uint32_t v = 0; v < p->nsteps; v++) {
        vars[v] = (gb_match_var){.name = p->vars[v], .count = r->counts[v], .ids = ids + n};
        for (uint32_t k = 0; k < r->nb; k++)
            if (r->bvar[k] == v)
                ids[n++] = R->ev[r->bev[k]].id;
    }
    view w;
    make_view(R, r, &w);
    cr_assert_leq(p->nfields, 16);
    for (uint32_t f = 0; f < p->nfields; f++) {
        gbp_val v = run_prog(R, r, &w, p->field_code[f], &r->lastev[0]);
        fields[f] = (gb_match_field){.name = p->fields[f]};
        fields[f].value.kind = p->field_double[f] ? GB_VALUE_DOUBLE : GB_VALUE_INT;
        if (p->field_double[f])
            fields[f].value.u.d = v.d;
        else
            fields[f].value.u.i = v.i;
    }
    gb_match mt = {.pattern_index = r->pat, .pattern = p->name, .severity = p->severity, .ts = ts,
                   .nvars = p->nsteps, .vars = vars, .nfields = p->nfields, .fields = fields};
    tbuf_match(&R->out, &mt);
    R->st[r->pat].matches++;
    ref_kill(R, r);
    if (!p->past_last)
        return;
    R->last_match[r->pat] = r->last;
    for (uint32_t k = 0; k < R->nruns; k++) {
        rrun *o = &R->runs[k];
        if (o->alive && o->pat == r->pat && o->first <= r->last) {
            ref_kill(R, o);
            R->st[r->pat].runs_skipped++;
        }
    }
}

static void ref_bind(ref *R, rrun *r, uint32_t v, uint32_t i)
{
    const gbp_pattern *p = &R->set->patterns[r->pat];
    if (r->nb == r->capb) {
        r->capb = r->capb ? 2 * r->capb : 8;
        r->bev = realloc(r->bev, r->capb * sizeof *r->bev);
        r->bvar = realloc(r->bvar, r->capb * sizeof *r->bvar);
        cr_assert(r->bev && r->bvar);
    }
    r->bev[r->nb] = i;
    r->bvar[r->nb++] = v;
    r->lastev[v] = R->ev[i];
    r->counts[v]++;
    r->last = i;
    r->step = r->counts[v] == p->steps[v].nmax ? v + 1 : v;
    if (r->step == p->nsteps && !emits_at_close(p))
        emit(R, r, R->ev[i].ts_ns);
}

static int complete(const ref *R, const rrun *r)
{
    const gbp_pattern *p = &R->set->patterns[r->pat];
    uint32_t k = p->nsteps;
    return r->step == k || (r->step == k - 1 && r->counts[k - 1] >= p->steps[k - 1].nmin);
}

/* Spec 2-5: one event, one run. */
static void offer(ref *R, rrun *r, uint32_t i)
{
    const gbp_pattern *p = &R->set->patterns[r->pat];
    const gb_event *e = &R->ev[i];
    uint32_t s = r->step, k = p->nsteps;
    if (s == k) {
        if (neg_ok(R, r, k - 1, e)) {
            ref_kill(R, r);
            R->st[r->pat].runs_killed++;
        }
        return;
    }
    uint32_t c = r->counts[s];
    if (c >= p->steps[s].nmin && s + 1 < k && step_ok(R, r, s + 1, e))
        return ref_bind(R, r, s + 1, i);
    if (step_ok(R, r, s, e))
        return ref_bind(R, r, s, i);
    if ((c == 0 && s > 0 && neg_ok(R, r, s - 1, e)) || (c >= p->steps[s].nmin && neg_ok(R, r, s, e))) {
        ref_kill(R, r);
        R->st[r->pat].runs_killed++;
    }
}

static void expire(ref *R, uint32_t pat, int64_t ts)
{
    int64_t within = R->set->patterns[pat].within;
    for (uint32_t k = 0; k < R->nruns; k++) {
        rrun *r = &R->runs[k];
        if (!r->alive || r->pat != pat || (uint64_t)ts - (uint64_t)R->ev[r->first].ts_ns <= (uint64_t)within)
            continue;
        if (complete(R, r)) {
            emit(R, r, ts);
        } else {
            ref_kill(R, r);
            R->st[pat].runs_expired++;
        }
    }
}

static void start(ref *R, uint32_t pat, uint32_t i)
{
    static rrun blank;
    blank.pat = pat;
    if (!step_ok(R, &blank, 0, &R->ev[i]))
        return;
    if (R->open[pat] >= R->cap) {
        R->st[pat].runs_capped++;
        return;
    }
    if (R->nruns == R->capruns) {
        R->capruns = R->capruns ? 2 * R->capruns : 256;
        R->runs = realloc(R->runs, R->capruns * sizeof *R->runs);
        cr_assert(R->runs);
    }
    rrun *r = &R->runs[R->nruns++];
    *r = (rrun){.alive = 1, .pat = pat, .first = i};
    R->open[pat]++;
    R->st[pat].runs_started++;
    ref_bind(R, r, 0, i);
}

static void ref_event(ref *R, uint32_t i)
{
    for (uint32_t pat = 0; pat < R->set->npatterns; pat++) {
        expire(R, pat, R->ev[i].ts_ns);
        uint32_t n = R->nruns;
        for (uint32_t k = 0; k < n; k++)
            if (R->runs[k].alive && R->runs[k].pat == pat)
                offer(R, &R->runs[k], i);
        if (!(R->set->patterns[pat].past_last && R->last_match[pat] == (int64_t)i))
            start(R, pat, i);
    }
}

static void ref_flush(ref *R, int64_t now)
{
    for (uint32_t k = 0; k < R->nruns; k++) {
        rrun *r = &R->runs[k];
        if (!r->alive)
            continue;
        if (complete(R, r)) {
            emit(R, r, now);
        } else {
            ref_kill(R, r);
            R->st[r->pat].runs_expired++;
        }
    }
}

static void ref_free(ref *R)
{
    for (uint32_t k = 0; k < R->nruns; k++) {
        free(R->runs[k].bev);
        free(R->runs[k].bvar);
    }
    free(R->runs);
    free(R->out.s);
}

/* ---- streams and the comparison ------------------------------------------------ */

static const char extra_src[] =
    "pattern pair_neg within 20s\n"
    "  a: transfer\n  not transfer where source == a.target and target == a.source\n"
    "  b: transfer where source == a.source and target == a.target\n  emit n = count(b)\nend\n"
    "pattern pair_kleene within 30s skip past_last\n"
    "  a: transfer where value >= 2000\n"
    "  b: transfer {2,3} where target == a.source and source == a.target\n"
    "  c: transfer where source == b.target and value < a.value\n"
    "  emit s = sum(b.value), lo = min(b.value), hi = max(b.ts), f = first(b.value)\nend\n"
    "pattern same_ts within 5s\n"
    "  a: transfer\n  b: transfer where ts == a.ts and source == a.source and target != a.target\nend\n"
    "pattern by_id within 10s\n"
    "  a: transfer\n  b: transfer where id == a.target + 1000 or source == a.target\n"
    "  c: transfer+ where source == b.target and id != a.id\n"
    "  not transfer where target == a.source\nend\n";

/* Patterns reading many fields of many variables (a0..a3, type, ts, id),
 * through the fast path and (the `or`) the VM, in predicates, negations,
 * aggregates and emit: what the matcher keeps of each bound event must be
 * exactly what they read. */
static const char wide_src[] =
    "pattern wide within 1h\n"
    "  a: transfer\n"
    "  b: transfer where source == a.target and a0 >= a.a1\n"
    "  c: transfer where source == b.target and (a2 < b.a3 or type == a.type) and id != a.id\n"
    "  d: transfer where target == a.source and a3 + c.a0 > b.a2 and ts - a.ts >= 0\n"
    "  emit v = a.value + b.value, s = c.a1 + d.a2 - a.a3, t = last(d.ts) - a.ts, i = b.id + c.source\nend\n"
    "pattern wide_neg within 30s\n"
    "  a: transfer where value >= 1000\n"
    "  not transfer where source == a.source and a1 > a.a1 * 2\n"
    "  b: transfer {2,} where source == a.source and type == a.type and a0 != a.a0\n"
    "  emit f = first(b.a2), lo = min(b.a3), hi = max(b.a1), n = count(b), x = a.a0\nend\n";

/* Long windows and many accounts: thousands of open runs, past the size
 * from which the matcher prefetches. */
static const char big_src[] =
    "pattern rt within 24h\n  a: transfer where value >= 1000\n"
    "  b: transfer where source == a.target and target == a.source and value >= 0.9 * a.value\n"
    "  emit r = b.value / a.value\nend\n"
    "pattern cf within 1h skip past_last\n  a: transfer\n  b: transfer where source == a.target\n"
    "  c: transfer where source == b.target and target == a.source\nend\n";

/* Transfers among a few accounts; gaps from 0 (equal ts) to hours, so that
 * runs bind, die by negation and by skip, and expire. */
static void random_stream(gb_event *ev, uint32_t n, uint32_t transfer, uint64_t accounts, int calm)
{
    int64_t ts = 1700000000000000000LL;
    static const int64_t gaps[] = {0, 1000000LL, 200000000LL, 3000000000LL, 120000000000LL, 2400000000000LL,
                                   30000000000000LL};
    static const uint64_t weight[] = {10, 30, 30, 15, 8, 5, 2};
    for (uint32_t i = 0; i < n; i++) {
        uint64_t w = rnd(calm ? 50 : 100), g = 0;
        while (g + 1 < N(gaps) && w >= weight[g])
            w -= weight[g++];
        ts += gaps[g] ? (int64_t)rnd((uint64_t)gaps[g]) : 0;
        uint64_t kind = rnd(10);
        double value = kind < 5 ? (double)(1 + rnd(5000)) : kind < 7 ? (double)(9000 + rnd(1000))
                                                         : (double)(10000 + rnd(50000));
        ev[i] = (gb_event){.id = i + 1, .type = transfer, .ts_ns = ts, .source = rnd(accounts),
                           .target = rnd(accounts), .value = value,
                           .a = {(double)rnd(8), (double)rnd(8), (double)rnd(8), (double)rnd(8)}};
    }
}

static void on_match(void *ctx, const gb_match *mt)
{
    tbuf_match(ctx, mt);
}

static void compare_one(const char *src, uint64_t seed, int round, uint32_t nev, uint64_t accounts)
{
    gb_pattern_set *set = compile_ok(src);
    uint32_t transfer;
    cr_assert_eq(gb_type_intern(gb_pattern_set_types(set), "transfer", &transfer), GB_OK);
    cr_assert_leq(set->npatterns, 64);
    for (uint32_t p = 0; p < set->npatterns; p++)
        cr_assert_leq(set->patterns[p].nsteps, MAXV);
    static gb_event ev[NEV_BIG];
    uint32_t n = nev ? nev : 50 + (uint32_t)rnd(NEV - 50);
    random_stream(ev, n, transfer, accounts ? accounts : 2 + rnd(5), nev != 0);
    uint32_t cap = nev ? GB_MATCHER_DEFAULT_MAX_RUNS
                       : rnd(3) == 0 ? 1 + (uint32_t)rnd(12) : GB_MATCHER_DEFAULT_MAX_RUNS;
    ref R = {.set = set, .ev = ev, .cap = cap};
    for (uint32_t p = 0; p < 64; p++)
        R.last_match[p] = -1;
    tbuf_put(&R.out, "");
    tbuf got = {0};
    tbuf_put(&got, "");
    gb_matcher_opts o = {.on_match = on_match, .ctx = &got, .max_runs_per_pattern = cap};
    gb_matcher *m;
    cr_assert_eq(gb_matcher_create(&m, set, &o), GB_OK);
    for (uint32_t i = 0; i < n; i++) {
        if (rnd(40) == 0 && i > 0) { /* advance to a time between two events */
            int64_t t = ev[i - 1].ts_ns + (int64_t)rnd((uint64_t)(ev[i].ts_ns - ev[i - 1].ts_ns) + 1);
            cr_assert_eq(gb_matcher_advance(m, t), GB_OK);
            for (uint32_t p = 0; p < set->npatterns; p++)
                expire(&R, p, t);
        }
        cr_assert_eq(gb_matcher_push(m, &ev[i]), GB_OK);
        ref_event(&R, i);
    }
    cr_assert_eq(gb_matcher_flush(m), GB_OK);
    ref_flush(&R, ev[n - 1].ts_ns);
    cr_assert_str_eq(got.s, R.out.s, "seed %llu round %d (cap %u, %u events)\nmatcher:\n%s\nreference:\n%s",
                     (unsigned long long)seed, round, cap, n, got.s, R.out.s);
    for (uint32_t p = 0; p < set->npatterns; p++) {
        gb_matcher_stats st;
        cr_assert_eq(gb_matcher_stats_get(m, p, &st), GB_OK);
        const gb_matcher_stats *w = &R.st[p];
        cr_assert(st.matches == w->matches && st.runs_started == w->runs_started &&
                      st.runs_killed == w->runs_killed && st.runs_expired == w->runs_expired &&
                      st.runs_skipped == w->runs_skipped && st.runs_capped == w->runs_capped && st.runs_open == 0,
                  "seed %llu round %d pattern %u: counters differ", (unsigned long long)seed, round, p);
    }
    gb_matcher_destroy(m);
    gb_pattern_set_destroy(set);
    ref_free(&R);
    free(got.s);
}

static uint64_t test_seed(const char *name)
{
    uint64_t seed = getenv("GB_SEED") ? strtoull(getenv("GB_SEED"), NULL, 10) : (uint64_t)time(NULL);
    printf("%s seed %llu (GB_SEED=%llu to replay)\n", name, (unsigned long long)seed, (unsigned long long)seed);
    fflush(stdout);
    return seed;
}

static char *library(void)
{
    FILE *f = fopen(GB_SOURCE_DIR "/patterns/fraud.gbp", "rb");
    cr_assert(f);
    static char buf[16384];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

Test(matcher_library_random, library_patterns_agree_with_plain_reference)
{
    uint64_t seed = test_seed("library");
    const char *lib = library();
    for (int round = 0; round < 60; round++) {
        rng = seed * 2654435761u + (uint64_t)round * 0x9E3779B97F4A7C15ull + 1;
        compare_one(lib, seed, round, 0, 0);
    }
}

Test(matcher_library_random, keyed_extra_patterns_agree_with_plain_reference)
{
    uint64_t seed = test_seed("extra");
    for (int round = 0; round < 100; round++) {
        rng = seed * 0x2545F4914F6CDD1Dull + (uint64_t)round * 0x9E3779B97F4A7C15ull + 7;
        compare_one(extra_src, seed, round, 0, 0);
    }
}

Test(matcher_library_random, patterns_reading_many_fields_agree_with_plain_reference)
{
    uint64_t seed = test_seed("wide");
    for (int round = 0; round < 100; round++) {
        rng = seed * 0xD6E8FEB86659FD93ull + (uint64_t)round * 0x9E3779B97F4A7C15ull + 13;
        compare_one(wide_src, seed, round, 0, 0);
    }
}

Test(matcher_library_random, thousands_of_open_runs_agree_with_plain_reference)
{
    uint64_t seed = test_seed("big");
    for (int round = 0; round < 2; round++) {
        rng = seed * 0x9E3779B97F4A7C15ull + (uint64_t)round + 11;
        compare_one(big_src, seed, round, NEV_BIG, 400);
    }
}
