/*
 * Temporal graph benchmark on the .NET system's shapes: AddEdge, edges-at
 * and paths(depth 5) at 10,000 edges, against a naive baseline (one flat
 * edge list scanned linearly), with the .NET system's published figures as
 * reference ratios (measured on other hardware: indicative only).
 *
 * Shape: N edges (default 10,000) between M nodes (default 1,000), chosen
 * uniformly at random, 1 ms apart; edges-at asks for one random node's
 * outgoing edges over the whole span; paths asks for every time-respecting
 * path of at most 5 hops between two random nodes over the whole span.
 *
 * A second table is the `gbridge demo` stream (docs/demo.md): 400,000
 * payments from 8,000 customers to 2,000 merchants over 8 hours, a one
 * hour horizon, and for every edge an add plus a cycle search (3..6 hops)
 * from its target: ours prefetches three edges ahead (gb_tgraph_prefetch,
 * as the demo does), the baseline is the same loop without the hints.
 *
 *   build/bench/bench_pattern_temporal_graph [edges] [nodes]
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpubridge/temporal_graph.h"
#include "gpubridge/time.h"

#define DOTNET_ADD_US 1.2
#define DOTNET_EDGES_AT_US 18.7
#define DOTNET_PATHS_US 287.0
#define DEPTH 5

static uint64_t rng_state = 42;

static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* ---- naive baseline: a flat, time-ordered edge list ------------------------ */

typedef struct flat {
    gb_tedge *e;
    size_t n, cap;
} flat;

static int flat_add(flat *f, const gb_tedge *e)
{
    if (f->n > 0 && e->ts_ns < f->e[f->n - 1].ts_ns)
        return -1;
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 64;
        gb_tedge *v = realloc(f->e, cap * sizeof *v);
        if (!v)
            return -1;
        f->e = v;
        f->cap = cap;
    }
    f->e[f->n++] = *e;
    return 0;
}

static size_t flat_edges_at(const flat *f, uint64_t node, int64_t t1, int64_t t2, gb_tedge *out,
                            size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < f->n; i++)
        if (f->e[i].source == node && f->e[i].ts_ns >= t1 && f->e[i].ts_ns <= t2 && k < cap)
            out[k++] = f->e[i];
    return k;
}

static size_t flat_walk(const flat *f, uint64_t *visited, uint64_t u, uint64_t to, int64_t lo,
                        int64_t t2, uint32_t depth)
{
    size_t found = 0;
    for (size_t i = 0; i < f->n; i++) {
        const gb_tedge *e = &f->e[i];
        if (e->source != u || e->ts_ns < lo || e->ts_ns > t2)
            continue;
        if (e->target == to) {
            found++;
            continue;
        }
        bool seen = false;
        for (uint32_t k = 0; k <= depth; k++)
            seen = seen || visited[k] == e->target;
        if (depth + 1 >= DEPTH || seen)
            continue;
        visited[depth + 1] = e->target;
        found += flat_walk(f, visited, e->target, to, e->ts_ns + 1, t2, depth + 1);
    }
    return found;
}

static size_t flat_paths(const flat *f, uint64_t from, uint64_t to, int64_t t1, int64_t t2)
{
    uint64_t visited[DEPTH + 1] = {from};
    return flat_walk(f, visited, from, to, t1, t2, 0);
}

/* ---- measurement ------------------------------------------------------------ */

static int count_path(const gb_tedge *edges, size_t n, void *ctx)
{
    (void)edges;
    (void)n;
    ++*(size_t *)ctx;
    return 0;
}

static gb_tedge *make_edges(size_t n_edges, uint64_t n_nodes)
{
    gb_tedge *e = malloc(n_edges * sizeof *e);
    if (!e)
        return NULL;
    for (size_t i = 0; i < n_edges; i++)
        e[i] = (gb_tedge){i + 1, rng() % n_nodes, rng() % n_nodes, (int64_t)i * 1000000,
                          (double)(rng() % 10000)};
    return e;
}

/* Microseconds per insertion, best of reps fresh builds (ours, baseline). */
static void bench_add(const gb_tedge *e, size_t n, double *ours, double *base)
{
    *ours = *base = 1e300;
    for (int rep = 0; rep < 20; rep++) {
        gb_tgraph *g;
        flat f = {0};
        if (gb_tgraph_create(&g, NULL) != GB_OK)
            exit(1);
        int64_t t0 = gb_time_monotonic_ns();
        for (size_t i = 0; i < n; i++)
            gb_tgraph_add(g, &e[i]);
        int64_t t1 = gb_time_monotonic_ns();
        for (size_t i = 0; i < n; i++)
            flat_add(&f, &e[i]);
        int64_t t2 = gb_time_monotonic_ns();
        double a = (double)(t1 - t0) / 1e3 / (double)n, b = (double)(t2 - t1) / 1e3 / (double)n;
        *ours = a < *ours ? a : *ours;
        *base = b < *base ? b : *base;
        gb_tgraph_destroy(g);
        free(f.e);
    }
}

static void row(const char *op, double ours, double base, double dotnet)
{
    printf("%-16s %12.3f %14.3f %14.1fx %10.1f %11.1fx\n", op, ours, base, base / ours, dotnet,
           dotnet / ours);
}

enum { Q_AT = 20000, AT_PASSES = 10, Q_AT_BASE = 2000, Q_PATH = 2000, Q_PATH_BASE = 10 };

typedef struct setup {
    gb_tgraph *g;
    flat f;
    gb_tedge *buf;
    size_t n_edges;
    uint64_t n_nodes;
    int64_t t_end;
    uint64_t q[Q_AT][2]; /* random (from, to) pairs, from != to */
} setup;

/* Microseconds per edges-at query (ours, baseline); exits if they disagree. */
static void bench_edges_at(setup *s, double *ours, double *base)
{
    size_t n, sum_ours = 0, sum_base = 0;
    int64_t t0 = gb_time_monotonic_ns();
    for (int i = 0; i < Q_AT * AT_PASSES; i++) {
        gb_tgraph_edges_at(s->g, s->q[i % Q_AT][0], GB_TGRAPH_OUT, 0, s->t_end, s->buf,
                           s->n_edges, &n);
        sum_ours += i < Q_AT_BASE ? n : 0;
    }
    int64_t t1 = gb_time_monotonic_ns();
    for (int i = 0; i < Q_AT_BASE; i++)
        sum_base += flat_edges_at(&s->f, s->q[i][0], 0, s->t_end, s->buf, s->n_edges);
    int64_t t2 = gb_time_monotonic_ns();
    if (sum_ours != sum_base)
        fprintf(stderr, "edges-at disagrees: %zu vs %zu\n", sum_ours, sum_base), exit(1);
    *ours = (double)(t1 - t0) / 1e3 / (Q_AT * AT_PASSES);
    *base = (double)(t2 - t1) / 1e3 / Q_AT_BASE;
}

/* Microseconds per paths(depth 5) query; returns the paths found by ours. */
static size_t bench_paths(setup *s, double *ours, double *base)
{
    size_t p_ours = 0, p_base = 0, p_check = 0;
    int64_t t0 = gb_time_monotonic_ns();
    for (int i = 0; i < Q_PATH; i++) {
        size_t before = p_ours;
        gb_tgraph_each_path(s->g, s->q[i][0], s->q[i][1], 0, s->t_end, DEPTH, count_path, &p_ours);
        p_check += i < Q_PATH_BASE ? p_ours - before : 0;
    }
    int64_t t1 = gb_time_monotonic_ns();
    for (int i = 0; i < Q_PATH_BASE; i++)
        p_base += flat_paths(&s->f, s->q[i][0], s->q[i][1], 0, s->t_end);
    int64_t t2 = gb_time_monotonic_ns();
    if (p_check != p_base)
        fprintf(stderr, "paths disagree: %zu vs %zu\n", p_check, p_base), exit(1);
    *ours = (double)(t1 - t0) / 1e3 / Q_PATH;
    *base = (double)(t2 - t1) / 1e3 / Q_PATH_BASE;
    return p_ours;
}

static setup *make_setup(const gb_tedge *e, size_t n_edges, uint64_t n_nodes)
{
    setup *s = calloc(1, sizeof *s);
    if (!s || !(s->buf = malloc(n_edges * sizeof *s->buf)) || gb_tgraph_create(&s->g, NULL) != GB_OK)
        exit(1);
    for (size_t i = 0; i < n_edges; i++)
        if (gb_tgraph_add(s->g, &e[i]) != GB_OK || flat_add(&s->f, &e[i]) != 0)
            exit(1);
    s->n_edges = n_edges;
    s->n_nodes = n_nodes;
    s->t_end = (int64_t)n_edges * 1000000;
    for (int i = 0; i < Q_AT; i++) {
        s->q[i][0] = rng() % n_nodes;
        s->q[i][1] = (s->q[i][0] + 1 + rng() % (n_nodes > 1 ? n_nodes - 1 : 1)) % n_nodes;
    }
    return s;
}

/* ---- the demo stream: add + cycle search per edge, with and without prefetch */

enum { STREAM_EDGES = 400000, STREAM_CUSTOMERS = 8000, STREAM_MERCHANTS = 2000 };
#define STREAM_SPAN_NS (8LL * 3600 * 1000000000)
#define STREAM_HORIZON_NS (3600LL * 1000000000)

static int no_cycle(const gb_tedge *edges, size_t n, void *ctx)
{
    (void)edges;
    (void)n;
    ++*(size_t *)ctx;
    return 0;
}

/* Nanoseconds per edge, best of reps; *cycles gets the cycles seen. */
static double stream_once(const gb_tedge *e, size_t n, int prefetch, size_t *cycles)
{
    gb_tgraph *g;
    gb_tgraph_opts o = {.horizon_ns = STREAM_HORIZON_NS};
    if (gb_tgraph_create(&g, &o) != GB_OK)
        exit(1);
    *cycles = 0;
    int64_t t0 = gb_time_monotonic_ns();
    for (size_t i = 0; i < n; i++) {
        for (int stage = 2; prefetch && stage >= 0; stage--)
            if (i + 3 - (size_t)stage < n) {
                gb_tgraph_prefetch(g, e[i + 3 - (size_t)stage].source, stage);
                gb_tgraph_prefetch(g, e[i + 3 - (size_t)stage].target, stage);
            }
        if (gb_tgraph_add(g, &e[i]) != GB_OK ||
            gb_tgraph_each_cycle(g, e[i].target, e[i].ts_ns - STREAM_HORIZON_NS, e[i].ts_ns, 6, no_cycle,
                                 cycles) != GB_OK)
            exit(1);
    }
    double ns = (double)(gb_time_monotonic_ns() - t0) / (double)n;
    gb_tgraph_destroy(g);
    return ns;
}

static void bench_stream(void)
{
    gb_tedge *e = malloc(STREAM_EDGES * sizeof *e);
    if (!e)
        exit(1);
    for (size_t i = 0; i < STREAM_EDGES; i++)
        e[i] = (gb_tedge){i, 1 + rng() % STREAM_CUSTOMERS, 1 + STREAM_CUSTOMERS + rng() % STREAM_MERCHANTS,
                          (int64_t)((double)i * STREAM_SPAN_NS / STREAM_EDGES), (double)(10 + rng() % 990)};
    double ours = 1e300, base = 1e300;
    size_t c_ours, c_base;
    for (int rep = 0; rep < 3; rep++) {
        double b = stream_once(e, STREAM_EDGES, 0, &c_base), a = stream_once(e, STREAM_EDGES, 1, &c_ours);
        base = b < base ? b : base;
        ours = a < ours ? a : ours;
    }
    if (c_ours != c_base)
        fprintf(stderr, "stream cycles disagree: %zu vs %zu\n", c_ours, c_base), exit(1);
    printf("\ndemo stream: %d edges, %d -> %d nodes, 1 h horizon, add + cycle search (depth 6) per edge\n",
           STREAM_EDGES, STREAM_CUSTOMERS, STREAM_MERCHANTS);
    printf("%-16s %12s %14s %15s\n", "operation", "ours(ns)", "baseline(ns)", "baseline/ours");
    printf("%-16s %12.1f %14.1f %14.2fx\n", "add+cycle", ours, base, base / ours);
    printf("ours: prefetching three edges ahead; baseline: the same loop without prefetch\n");
    free(e);
}

int main(int argc, char **argv)
{
    size_t n_edges = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000;
    uint64_t n_nodes = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000;
    if (n_edges == 0 || n_nodes < 2)
        return fprintf(stderr, "usage: %s [edges>0] [nodes>1]\n", argv[0]), 2;
    gb_tedge *e = make_edges(n_edges, n_nodes);
    if (!e)
        return 1;
    setup *s = make_setup(e, n_edges, n_nodes);
    double add, add_base, at, at_base, paths, paths_base;
    bench_add(e, n_edges, &add, &add_base);
    bench_edges_at(s, &at, &at_base);
    size_t found = bench_paths(s, &paths, &paths_base);
    printf("temporal graph: %zu edges, %llu nodes, depth %d, %.1f paths per query on average\n",
           n_edges, (unsigned long long)n_nodes, DEPTH, (double)found / Q_PATH);
    printf("%-16s %12s %14s %15s %10s %12s\n", "operation", "ours(us)", "baseline(us)",
           "baseline/ours", ".NET(us)", ".NET/ours");
    row("AddEdge", add, add_base, DOTNET_ADD_US);
    row("edges-at", at, at_base, DOTNET_EDGES_AT_US);
    row("paths(depth 5)", paths, paths_base, DOTNET_PATHS_US);
    printf("baseline: flat time-ordered edge list scanned linearly; .NET figures are the\n"
           "published ones from other hardware (reference only)\n");
    bench_stream();
    printf("command: %s %zu %llu\n", argv[0], n_edges, (unsigned long long)n_nodes);
    gb_tgraph_destroy(s->g);
    free(s->f.e);
    free(s->buf);
    free(s);
    free(e);
    return 0;
}
