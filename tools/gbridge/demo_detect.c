/*
 * Detection for `gbridge demo`: acknowledged transfers arrive from the
 * account ring in any order (lanes run in parallel); a reorder buffer hands
 * them on in id order (= stream-time order), so alerts do not depend on
 * timing. Each transfer goes, as a gb_event, into the CPU pattern matcher
 * running rapid_split, high_frequency and velocity_change from
 * patterns/fraud.gbp (embedded in the program at build time), and, as an
 * edge, into a temporal graph where a cycle of 3..6 time-respecting hops
 * closed by this very transfer inside one hour is a circular-flow alert.
 *
 * Every alert is scored against the ground truth: it is true when all its
 * transfers belong to one injected case of the detector's kind, and that
 * case is then found. Latency: monotonic time from the submission of the
 * alert's newest transfer to the alert's emission.
 */
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "gb_embed_fraud_patterns.h"
#include "gpubridge/time.h"

#define DEMO_PATTERNS 3

static const char *const k_patterns[DEMO_PATTERNS] = {"rapid_split", "high_frequency", "velocity_change"};
static const uint32_t k_pattern_detector[DEMO_PATTERNS] = {DEMO_RAPID_SPLIT, DEMO_BURST, DEMO_DORMANT};

typedef struct alert {
    uint32_t detector;
    uint32_t n;         /* transfers (ids beyond DEMO_CASE_MAX_TX are not kept) */
    int32_t case_index; /* the case it corresponds to, -1 = false alert */
    int64_t latency_ns;
    uint64_t ids[DEMO_CASE_MAX_TX];
} alert;

typedef struct slot {
    demo_tx tx;
    uint64_t hlc;
    int present;
} slot;

struct demo_detect {
    demo_gen *gen;
    const int64_t *submit_ns;
    gb_pattern_set *set;
    gb_matcher *matcher;
    gb_tgraph *graph;
    uint32_t transfer_type;
    slot *reorder;
    uint32_t mask;
    _Atomic uint64_t done; /* next id to match; release: read by the generator thread */
    alert *alerts;
    size_t nalerts, cap;
    int failed;
};

const char *demo_detector_name(uint32_t d)
{
    static const char *names[DEMO_DETECTORS] = {"rapid_split", "cycle (temporal graph)", "high_frequency",
                                                "velocity_change"};
    return d < DEMO_DETECTORS ? names[d] : "?";
}

/* The demo's patterns, cut out of the embedded library text. */
static char *select_patterns(void)
{
    const char *lib = gb_embed_fraud_patterns;
    char *out = calloc(1, strlen(lib) + 1);
    if (!out)
        return NULL;
    for (int i = 0; i < DEMO_PATTERNS; i++) {
        char head[64];
        snprintf(head, sizeof head, "\npattern %s ", k_patterns[i]);
        const char *a = strstr(lib, head);
        const char *e = a ? strstr(a, "\nend") : NULL;
        if (!e) {
            free(out);
            return NULL;
        }
        strncat(out, a, (size_t)(e - a) + 4);
        strcat(out, "\n");
    }
    return out;
}

static void record(demo_detect *d, alert *a)
{
    uint64_t newest = 0;
    int32_t c = a->n > DEMO_CASE_MAX_TX ? -2 : demo_gen_case_of(d->gen, a->ids[0]);
    for (uint32_t i = 0; i < a->n && i < DEMO_CASE_MAX_TX; i++) {
        newest = a->ids[i] > newest ? a->ids[i] : newest;
        if (demo_gen_case_of(d->gen, a->ids[i]) != c)
            c = -2;
    }
    a->case_index = -1;
    if (c >= 0 && demo_gen_case(d->gen, (uint32_t)c)->kind == (demo_kind)a->detector) {
        a->case_index = c;
        demo_gen_case(d->gen, (uint32_t)c)->found++;
    }
    a->latency_ns = gb_time_monotonic_ns() - d->submit_ns[newest];
    if (d->nalerts == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 1024;
        alert *p = realloc(d->alerts, cap * sizeof *p);
        if (!p) {
            d->failed = 1;
            return;
        }
        d->alerts = p;
        d->cap = cap;
    }
    d->alerts[d->nalerts++] = *a;
}

static void on_match(void *ctx, const gb_match *m)
{
    demo_detect *d = ctx;
    alert a = {.detector = k_pattern_detector[m->pattern_index]};
    for (uint32_t v = 0; v < m->nvars; v++)
        for (uint32_t i = 0; i < m->vars[v].count; i++, a.n++)
            if (a.n < DEMO_CASE_MAX_TX)
                a.ids[a.n] = m->vars[v].ids[i];
    record(d, &a);
}

static int on_cycle(const gb_tedge *edges, size_t n, void *ctx)
{
    alert *a = ctx;
    if (n < DEMO_CYCLE_MIN || edges[n - 1].id != a->ids[0])
        return 0;
    a->n = (uint32_t)n;
    for (size_t i = 0; i < n; i++)
        a->ids[i] = edges[i].id;
    return 1;
}

/* A cycle closed by tx: it starts and ends at tx.target, tx is its last hop. */
static int find_cycle(demo_detect *d, const demo_tx *tx)
{
    gb_tedge e = {.id = tx->id, .source = tx->source, .target = tx->target, .ts_ns = tx->ts_ns,
                  .value = (double)tx->value};
    if (gb_tgraph_add(d->graph, &e) != GB_OK)
        return -1;
    alert a; /* ids[] beyond n are never read: not zeroed for every transfer */
    a.detector = DEMO_CIRCULAR;
    a.n = 0;
    a.ids[0] = tx->id;
    if (gb_tgraph_each_cycle(d->graph, tx->target, tx->ts_ns - DEMO_CYCLE_WINDOW_NS, tx->ts_ns,
                             DEMO_CYCLE_MAX, on_cycle, &a) != GB_OK)
        return -1;
    if (a.n)
        record(d, &a);
    return 0;
}

static int process(demo_detect *d, const slot *s)
{
    gb_event e = {.id = s->tx.id, .type = d->transfer_type, .ts_ns = s->tx.ts_ns, .source = s->tx.source,
                  .target = s->tx.target, .value = (double)s->tx.value, .hlc = s->hlc};
    if (gb_matcher_push(d->matcher, &e) != GB_OK)
        return -1;
    return find_cycle(d, &s->tx);
}

/* The open-run cap for a bank of `accounts`: velocity_change holds one
 * run per account that sent in the last 2 h (each transfer replaces the
 * sender's run), the other patterns' windows are seconds long; the
 * default cap would stop runs, and so miss cases, from ~100 K active
 * accounts on. */
static uint32_t run_cap(uint32_t accounts)
{
    uint64_t cap = (uint64_t)accounts + accounts / 4;
    return cap > GB_MATCHER_DEFAULT_MAX_RUNS ? (uint32_t)cap : GB_MATCHER_DEFAULT_MAX_RUNS;
}

int demo_detect_create(demo_detect **out, demo_gen *gen, const int64_t *submit_ns, uint32_t window,
                       uint32_t accounts)
{
    demo_detect *d = calloc(1, sizeof *d);
    char *src = select_patterns();
    if (!d || !src)
        goto fail;
    d->gen = gen;
    d->submit_ns = submit_ns;
    d->mask = window - 1;
    d->reorder = calloc(window, sizeof *d->reorder);
    gb_matcher_opts mo = {.on_match = on_match, .ctx = d, .max_runs_per_pattern = run_cap(accounts)};
    gb_tgraph_opts go = {.horizon_ns = DEMO_CYCLE_WINDOW_NS};
    if (!d->reorder || gb_pattern_compile(&d->set, NULL, src, strlen(src)) != GB_OK ||
        gb_type_intern(gb_pattern_set_types(d->set), "transfer", &d->transfer_type) != GB_OK ||
        gb_matcher_create(&d->matcher, d->set, &mo) != GB_OK || gb_tgraph_create(&d->graph, &go) != GB_OK)
        goto fail;
    free(src);
    *out = d;
    return 0;
fail:
    free(src);
    demo_detect_destroy(d);
    return -1;
}

void demo_detect_destroy(demo_detect *d)
{
    if (!d)
        return;
    gb_matcher_destroy(d->matcher);
    gb_pattern_set_destroy(d->set);
    gb_tgraph_destroy(d->graph);
    free(d->reorder);
    free(d->alerts);
    free(d);
}

/* Start loading the temporal graph's memory for the transfers a few places
 * behind next, if they came: stage 2 (list tails) one behind, stage 1
 * (nodes) two behind, stage 0 (map buckets) three behind, so each stage
 * finds what the one before loaded. A hint only: alerts do not depend on it. */
static void prefetch_ahead(const demo_detect *d, uint64_t next)
{
    for (int stage = 2; stage >= 0; stage--) {
        const slot *s = &d->reorder[(next + 3 - (uint64_t)stage) & d->mask];
        if (s->present && s->tx.id == next + 3 - (uint64_t)stage) {
            gb_tgraph_prefetch(d->graph, s->tx.source, stage);
            gb_tgraph_prefetch(d->graph, s->tx.target, stage);
        }
    }
}

int demo_detect_accept(demo_detect *d, const demo_tx *tx, uint64_t hlc)
{
    uint64_t next = atomic_load_explicit(&d->done, memory_order_relaxed);
    if (tx->id < next || tx->id - next > d->mask)
        return -1; /* a duplicate or beyond the window: the bank broke its contract */
    slot *s = &d->reorder[tx->id & d->mask];
    s->tx = *tx;
    s->hlc = hlc;
    s->present = 1;
    for (s = &d->reorder[next & d->mask]; s->present; s = &d->reorder[next & d->mask]) {
        s->present = 0;
        prefetch_ahead(d, next);
        if (process(d, s) != 0)
            return -1;
        atomic_store_explicit(&d->done, ++next, memory_order_release);
    }
    return d->failed ? -1 : 0;
}

uint64_t demo_detect_done(const demo_detect *d)
{
    return atomic_load_explicit(&((demo_detect *)d)->done, memory_order_acquire);
}

int demo_detect_finish(demo_detect *d)
{
    return gb_matcher_flush(d->matcher) == GB_OK && !d->failed ? 0 : -1;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* p in [0, 1] of the sorted v[0..n) (nearest rank); 0 when empty. */
static int64_t percentile(const int64_t *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t k = (size_t)(p * (double)n + 0.999999);
    return v[k == 0 ? 0 : k > n ? n - 1 : k - 1];
}

int demo_detector_immediate(uint32_t d)
{
    return d != DEMO_RAPID_SPLIT;
}

/* Sorted latencies of the alerts whose detector is in `mask` (bit per
 * detector) into v; how many. */
static size_t gather(const demo_detect *d, uint32_t mask, int64_t *v)
{
    size_t n = 0;
    for (size_t i = 0; i < d->nalerts; i++)
        if (mask & (1u << d->alerts[i].detector))
            v[n++] = d->alerts[i].latency_ns;
    qsort(v, n, sizeof *v, cmp_i64);
    return n;
}

static void latencies(demo_detect *d, demo_result *r)
{
    int64_t *v = malloc((d->nalerts + 1) * sizeof *v);
    if (!v)
        return;
    uint32_t all = (1u << DEMO_DETECTORS) - 1, goal = 0;
    for (uint32_t det = 0; det < DEMO_DETECTORS; det++)
        goal |= demo_detector_immediate(det) ? 1u << det : 0;
    size_t n = gather(d, all, v);
    r->lat_p50_ns = percentile(v, n, 0.50);
    r->lat_p99_ns = percentile(v, n, 0.99);
    r->lat_max_ns = n ? v[n - 1] : 0;
    n = gather(d, goal, v);
    r->goal_p50_ns = percentile(v, n, 0.50);
    r->goal_p99_ns = percentile(v, n, 0.99);
    r->goal_max_ns = n ? v[n - 1] : 0;
    for (uint32_t det = 0; det < DEMO_DETECTORS; det++) {
        n = gather(d, 1u << det, v);
        r->det_p50_ns[det] = percentile(v, n, 0.50);
        r->det_p99_ns[det] = percentile(v, n, 0.99);
    }
    free(v);
}

void demo_detect_result(demo_detect *d, demo_result *r)
{
    r->transfers = demo_detect_done(d);
    for (size_t i = 0; i < d->nalerts; i++) {
        r->alerts[d->alerts[i].detector]++;
        r->alerts_total++;
        r->alerts_true += d->alerts[i].case_index >= 0;
    }
    for (uint32_t c = 0; c < demo_gen_case_count(d->gen); c++) {
        const demo_case *k = demo_gen_case(d->gen, c);
        r->cases[k->kind]++;
        r->found[k->kind] += k->found > 0;
        r->cases_total++;
        r->found_total += k->found > 0;
    }
    r->cases_skipped = demo_gen_cases_skipped(d->gen);
    gb_matcher_stats st;
    if (gb_matcher_stats_get(d->matcher, UINT32_MAX, &st) == GB_OK)
        r->max_runs_capped = st.runs_capped;
    latencies(d, r);
}

void demo_detect_dump(const demo_detect *d, FILE *f)
{
    for (size_t i = 0; i < d->nalerts; i++) {
        const alert *a = &d->alerts[i];
        fprintf(f, "%s", demo_detector_name(a->detector));
        for (uint32_t k = 0; k < a->n && k < DEMO_CASE_MAX_TX; k++)
            fprintf(f, "%c%llu", k ? ',' : ' ', (unsigned long long)a->ids[k]);
        fprintf(f, a->n > DEMO_CASE_MAX_TX ? " +%u\n" : "\n", a->n - DEMO_CASE_MAX_TX);
    }
}
