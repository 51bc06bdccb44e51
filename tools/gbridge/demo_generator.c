/*
 * The transfer generator of `gbridge demo`: background traffic that does not
 * look like fraud, merged in stream-time order with injected fraud cases,
 * each recorded (kind, transfer ids) as the ground truth.
 *
 * Accounts: the first 80% of the non-mule accounts are customers, the rest
 * merchants, the last max(40, accounts / 10) are mules. Background transfers
 * go from a random customer to a random merchant, 10..999 units, evenly
 * spread over 8 hours of stream time: a bipartite flow has no cycles, no
 * account sends 11 times in a second, no amount reaches rapid_split's 10000
 * and no two amounts are 100x apart (velocity_change), so the detectors'
 * thresholds and this traffic agree.
 *
 * Injected cases use mules only as senders (kinds rotate):
 *   rapid split  mule X pays mule M 10000..49999, M splits it to 3..5
 *                customers within 4.5 s (rapid_split: >= 10000, then 3+ out
 *                of the target within 5 s);
 *   circular     mules m1 -> m2 -> ... -> mL -> m1, L = 3..6, hops 10 s..5 min
 *                apart, 2..3% lost per hop (temporal-graph cycle, 1 h);
 *   burst        a mule pays merchants 11..15 times within 0.85 s
 *                (high_frequency: 11 from one source within 1 s);
 *   dormant      a mule pays 50..89, is silent 35..100 min, then pays
 *                9000..9900 (velocity_change: >= 30 min, >= 100x, within 2 h).
 * A mule is reused only 2 h + 1 min after its last case ended, so no
 * detector window links two cases.
 */
#include <stdlib.h>
#include <string.h>

#include "demo.h"

#define SEC 1000000000LL
#define MIN (60 * SEC)
#define SPAN_NS (8 * 60 * MIN)
#define REUSE_GAP_NS (121 * MIN)

typedef struct inj {
    demo_tx tx;
    uint32_t slot; /* index in its case's tx[] */
} inj;

struct demo_gen {
    uint64_t rng;
    uint32_t customers, merchants, mule0, mules;
    uint64_t total, bg_total, bg_next, next_id;
    inj *inj;
    uint32_t ninj, inj_next;
    demo_case *cases;
    uint32_t ncases, skipped;
    int32_t *case_of; /* per transfer id */
    int64_t *mule_free_at;
    uint32_t mule_cursor;
};

static uint64_t rnd(demo_gen *g)
{
    uint64_t z = (g->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static int64_t range(demo_gen *g, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rnd(g) % (uint64_t)(hi - lo + 1));
}

static uint64_t customer(demo_gen *g) { return 1 + rnd(g) % g->customers; }
static uint64_t merchant(demo_gen *g) { return 1 + g->customers + rnd(g) % g->merchants; }

const char *demo_kind_name(demo_kind k)
{
    static const char *names[DEMO_KINDS] = {"rapid_split", "circular_flow", "burst", "dormant_jump"};
    return k < DEMO_KINDS ? names[k] : "?";
}

/* Take n mules free at time t (round robin); 0 if there are not enough. */
static int take_mules(demo_gen *g, uint32_t n, int64_t t, int64_t end, uint64_t *out)
{
    uint32_t got = 0;
    for (uint32_t tried = 0; tried < g->mules && got < n; tried++) {
        uint32_t m = g->mule_cursor;
        g->mule_cursor = (g->mule_cursor + 1) % g->mules;
        if (g->mule_free_at[m] <= t)
            out[got++] = g->mule0 + m + 1;
    }
    if (got < n)
        return 0;
    for (uint32_t i = 0; i < n; i++)
        g->mule_free_at[out[i] - g->mule0 - 1] = end + REUSE_GAP_NS;
    return 1;
}

static void add(demo_gen *g, uint32_t c, uint64_t src, uint64_t dst, int64_t ts, uint64_t value)
{
    demo_case *k = &g->cases[c];
    inj *e = &g->inj[g->ninj++];
    e->tx = (demo_tx){.source = src, .target = dst, .ts_ns = ts, .value = value, .case_index = (int32_t)c};
    e->slot = k->ntx++;
}

static int inject_rapid(demo_gen *g, uint32_t c, int64_t t)
{
    uint64_t m[2];
    if (!take_mules(g, 2, t, t + 5 * SEC, m))
        return 0;
    uint64_t total = (uint64_t)range(g, 10000, 49999);
    add(g, c, m[0], m[1], t, total);
    uint32_t k = (uint32_t)range(g, 3, 5);
    for (uint32_t i = 0; i < k; i++) {
        t += range(g, 200, 900) * (SEC / 1000);
        add(g, c, m[1], customer(g), t, total / (k + 1));
    }
    return 1;
}

static int inject_cycle(demo_gen *g, uint32_t c, int64_t t, uint32_t len)
{
    uint64_t m[DEMO_CYCLE_MAX];
    if (!take_mules(g, len, t, t + 30 * MIN, m))
        return 0;
    uint64_t v = (uint64_t)range(g, 2000, 8000);
    for (uint32_t i = 0; i < len; i++) {
        add(g, c, m[i], m[(i + 1) % len], t, v);
        t += range(g, 10, 300) * SEC;
        v = v * (uint64_t)range(g, 97, 98) / 100;
    }
    return 1;
}

static int inject_burst(demo_gen *g, uint32_t c, int64_t t)
{
    uint64_t m;
    if (!take_mules(g, 1, t, t + SEC, &m))
        return 0;
    uint32_t k = (uint32_t)range(g, 11, 15);
    for (uint32_t i = 0; i < k; i++) {
        add(g, c, m, merchant(g), t, (uint64_t)range(g, 100, 900));
        t += range(g, 20, 60) * (SEC / 1000);
    }
    return 1;
}

static int inject_dormant(demo_gen *g, uint32_t c, int64_t t)
{
    uint64_t m;
    int64_t gap = range(g, 35, 100) * MIN;
    if (!take_mules(g, 1, t, t + gap, &m))
        return 0;
    add(g, c, m, merchant(g), t, (uint64_t)range(g, 50, 89));
    add(g, c, m, merchant(g), t + gap, (uint64_t)range(g, 9000, 9900));
    return 1;
}

/* Case c of kind c % 4 starting near share `at` of the span; 0 = skipped. */
static int inject(demo_gen *g, uint32_t c, uint32_t at, uint32_t ncases)
{
    int64_t slot = (SPAN_NS - 110 * MIN) / ncases;
    int64_t t = 5 * MIN + slot * at + range(g, 0, slot / 2);
    uint32_t before = g->ninj;
    demo_case *k = &g->cases[c];
    memset(k, 0, sizeof *k);
    k->kind = (demo_kind)(c % DEMO_KINDS);
    int ok = 0;
    switch (k->kind) {
    case DEMO_RAPID_SPLIT: ok = inject_rapid(g, c, t); break;
    case DEMO_CIRCULAR: ok = inject_cycle(g, c, t, DEMO_CYCLE_MIN + (c / DEMO_KINDS) % 4); break;
    case DEMO_BURST: ok = inject_burst(g, c, t); break;
    default: ok = inject_dormant(g, c, t); break;
    }
    if (!ok)
        g->ninj = before;
    return ok;
}

static int cmp_inj(const void *a, const void *b)
{
    const inj *x = a, *y = b;
    if (x->tx.ts_ns != y->tx.ts_ns)
        return x->tx.ts_ns < y->tx.ts_ns ? -1 : 1;
    if (x->tx.case_index != y->tx.case_index)
        return x->tx.case_index < y->tx.case_index ? -1 : 1;
    return x->slot < y->slot ? -1 : x->slot > y->slot;
}

static int plan(demo_gen *g)
{
    uint64_t want = g->total / 5000;
    uint32_t n = (uint32_t)(want < 8 ? 8 : want > 100000 ? 100000 : want);
    g->cases = calloc(n, sizeof *g->cases);
    g->inj = calloc((size_t)n * DEMO_CASE_MAX_TX, sizeof *g->inj);
    g->mule_free_at = calloc(g->mules, sizeof *g->mule_free_at);
    if (!g->cases || !g->inj || !g->mule_free_at)
        return -1;
    uint32_t kept = 0;
    for (uint32_t c = 0; c < n; c++) {
        if (!inject(g, kept, c, n)) {
            g->skipped++;
            continue;
        }
        kept++;
    }
    g->ncases = kept;
    qsort(g->inj, g->ninj, sizeof *g->inj, cmp_inj);
    return 0;
}

int demo_gen_create(demo_gen **out, const demo_opts *o)
{
    demo_gen *g = calloc(1, sizeof *g);
    if (!g)
        return -1;
    g->rng = o->seed ^ 0x6a09e667f3bcc909ULL;
    g->mules = o->accounts / 10 < 40 ? 40 : o->accounts / 10;
    g->customers = (o->accounts - g->mules) * 4 / 5;
    g->merchants = o->accounts - g->mules - g->customers;
    g->mule0 = g->customers + g->merchants;
    g->total = o->transfers;
    g->case_of = malloc(o->transfers * sizeof *g->case_of);
    if (!g->case_of || plan(g) != 0 || g->ninj * 2 > g->total) {
        demo_gen_destroy(g);
        return -1;
    }
    g->bg_total = g->total - g->ninj;
    *out = g;
    return 0;
}

void demo_gen_destroy(demo_gen *g)
{
    if (!g)
        return;
    free(g->inj);
    free(g->cases);
    free(g->case_of);
    free(g->mule_free_at);
    free(g);
}

int demo_gen_next(demo_gen *g, demo_tx *tx)
{
    if (g->next_id >= g->total)
        return 0;
    int64_t bg_ts = (int64_t)((double)(g->bg_next + 1) * (double)SPAN_NS / (double)(g->bg_total + 1));
    int take_inj = g->inj_next < g->ninj &&
                   (g->bg_next >= g->bg_total || g->inj[g->inj_next].tx.ts_ns <= bg_ts);
    if (take_inj) {
        inj *e = &g->inj[g->inj_next++];
        *tx = e->tx;
        g->cases[e->tx.case_index].tx[e->slot] = g->next_id;
    } else {
        *tx = (demo_tx){.source = customer(g), .target = merchant(g), .ts_ns = bg_ts,
                        .value = (uint64_t)range(g, 10, 999), .case_index = -1};
        g->bg_next++;
    }
    tx->id = g->next_id++;
    g->case_of[tx->id] = tx->case_index;
    return 1;
}

uint32_t demo_gen_case_count(const demo_gen *g) { return g->ncases; }
demo_case *demo_gen_case(demo_gen *g, uint32_t i) { return &g->cases[i]; }
uint32_t demo_gen_cases_skipped(const demo_gen *g) { return g->skipped; }
int32_t demo_gen_case_of(const demo_gen *g, uint64_t id) { return id < g->total ? g->case_of[id] : -1; }
