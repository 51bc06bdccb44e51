/*
 * Temporal graph: every query checked against a brute-force scan of a flat
 * edge list over random graphs (seed printed; set GB_TEST_SEED to replay),
 * eviction, the horizon option, ordering errors, truncation, bad arguments,
 * node map growth and removal, prefetch hints.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpubridge/temporal_graph.h"

/* ---- random source and brute-force reference ------------------------------- */

static uint64_t rng_state;

static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t seed_from_env(const char *test)
{
    const char *env = getenv("GB_TEST_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)clock();
    fprintf(stderr, "%s: seed %llu (GB_TEST_SEED=%llu to replay)\n", test,
            (unsigned long long)seed, (unsigned long long)seed);
    rng_state = seed;
    return seed;
}

typedef struct ref {
    gb_tedge e[4096];
    size_t n;
} ref;

static void ref_evict(ref *r, int64_t t)
{
    size_t k = 0;
    for (size_t i = 0; i < r->n; i++)
        if (r->e[i].ts_ns >= t)
            r->e[k++] = r->e[i];
    r->n = k;
}

/* A list of paths, each flattened to its edge ids, for comparison. */
typedef struct plist {
    uint64_t ids[20000][GB_TGRAPH_MAX_DEPTH];
    uint32_t len[20000];
    size_t n;
} plist;

static int plist_add(const gb_tedge *edges, size_t n, void *ctx)
{
    plist *p = ctx;
    cr_assert_lt(p->n, 20000);
    for (size_t i = 0; i < n; i++)
        p->ids[p->n][i] = edges[i].id;
    p->len[p->n++] = (uint32_t)n;
    return 0;
}

typedef struct bf {
    const ref *r;
    uint64_t start, target;
    int64_t t2;
    uint32_t min_depth, max_depth;
    gb_tedge path[GB_TGRAPH_MAX_DEPTH];
    plist *out;
} bf;

static bool bf_visited(const bf *b, uint64_t v, uint32_t depth)
{
    if (v == b->start)
        return true;
    for (uint32_t k = 0; k < depth; k++)
        if (b->path[k].target == v)
            return true;
    return false;
}

/* Brute force: at each hop scan the whole flat list. */
static void bf_walk(bf *b, uint64_t u, int64_t lo, uint32_t depth)
{
    for (size_t i = 0; i < b->r->n; i++) {
        const gb_tedge *e = &b->r->e[i];
        if (e->source != u || e->ts_ns < lo || e->ts_ns > b->t2)
            continue;
        b->path[depth] = *e;
        if (e->target == b->target) {
            if (depth + 1 >= b->min_depth)
                plist_add(b->path, depth + 1, b->out);
        } else if (depth + 1 < b->max_depth && !bf_visited(b, e->target, depth)) {
            bf_walk(b, e->target, e->ts_ns + 1, depth + 1);
        }
    }
}

static void bf_paths(const ref *r, uint64_t from, uint64_t to, int64_t t1, int64_t t2,
                     uint32_t min_depth, uint32_t max_depth, plist *out)
{
    bf b = {r, from, to, t2, min_depth, max_depth, {{0}}, out};
    bf_walk(&b, from, t1, 0);
}

static void assert_same_paths(const plist *a, const plist *b, const char *what)
{
    cr_assert_eq(a->n, b->n, "%s: %zu paths, brute force %zu", what, a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        cr_assert_eq(a->len[i], b->len[i], "%s: path %zu length", what, i);
        for (uint32_t k = 0; k < a->len[i]; k++)
            cr_assert_eq(a->ids[i][k], b->ids[i][k], "%s: path %zu hop %u", what, i, k);
    }
}

/* Random graph: n_nodes nodes, n_edges edges, time steps 0..3 (ties on purpose). */
static gb_tgraph *random_graph(ref *r, int n_nodes, int n_edges, int64_t *t_end)
{
    gb_tgraph *g;
    cr_assert_eq(gb_tgraph_create(&g, NULL), GB_OK);
    int64_t t = 1000;
    r->n = 0;
    for (int i = 0; i < n_edges; i++) {
        t += (int64_t)(rng() % 4);
        gb_tedge e = {(uint64_t)i + 1, rng() % (uint64_t)n_nodes, rng() % (uint64_t)n_nodes, t,
                      (double)(rng() % 1000)};
        cr_assert_eq(gb_tgraph_add(g, &e), GB_OK);
        r->e[r->n++] = e;
    }
    *t_end = t;
    return g;
}

static void random_window(int64_t t_end, int64_t *t1, int64_t *t2)
{
    int64_t span = t_end - 1000 + 1;
    int64_t a = 1000 + (int64_t)(rng() % (uint64_t)span);
    int64_t b = 1000 + (int64_t)(rng() % (uint64_t)span);
    *t1 = a < b ? a : b;
    *t2 = a < b ? b : a;
    if (rng() % 4 == 0) {
        *t1 = 0;
        *t2 = t_end + 10;
    }
}

static void check_edges_at(const gb_tgraph *g, const ref *r, uint64_t node, gb_tgraph_dir dir,
                           int64_t t1, int64_t t2)
{
    gb_tedge got[4096];
    size_t n;
    cr_assert_eq(gb_tgraph_edges_at(g, node, dir, t1, t2, got, 4096, &n), GB_OK);
    size_t k = 0;
    for (size_t i = 0; i < r->n; i++) {
        const gb_tedge *e = &r->e[i];
        uint64_t end = dir == GB_TGRAPH_OUT ? e->source : e->target;
        if (end != node || e->ts_ns < t1 || e->ts_ns > t2)
            continue;
        cr_assert_lt(k, n, "node %llu: fewer edges than brute force", (unsigned long long)node);
        cr_assert_eq(memcmp(&got[k], e, sizeof *e), 0, "node %llu edge %zu differs",
                     (unsigned long long)node, k);
        k++;
    }
    cr_assert_eq(k, n, "node %llu: %zu edges, brute force %zu", (unsigned long long)node, n, k);
}

static ref R;
static plist P_ours, P_ref;

/* ---- queries against brute force ------------------------------------------- */

Test(temporal_graph, edges_at_matches_brute_force_both_directions)
{
    seed_from_env("edges_at");
    for (int round = 0; round < 40; round++) {
        int64_t t_end;
        gb_tgraph *g = random_graph(&R, 2 + (int)(rng() % 30), 1 + (int)(rng() % 600), &t_end);
        for (int q = 0; q < 50; q++) {
            int64_t t1, t2;
            random_window(t_end, &t1, &t2);
            uint64_t node = rng() % 34;
            check_edges_at(g, &R, node, GB_TGRAPH_OUT, t1, t2);
            check_edges_at(g, &R, node, GB_TGRAPH_IN, t1, t2);
        }
        gb_tgraph_destroy(g);
    }
}

Test(temporal_graph, paths_match_brute_force)
{
    seed_from_env("paths");
    for (int round = 0; round < 30; round++) {
        int64_t t_end;
        gb_tgraph *g = random_graph(&R, 3 + (int)(rng() % 8), 10 + (int)(rng() % 120), &t_end);
        for (int q = 0; q < 20; q++) {
            int64_t t1, t2;
            random_window(t_end, &t1, &t2);
            uint64_t from = rng() % 10, to = rng() % 10;
            if (from == to)
                continue;
            uint32_t depth = 1 + (uint32_t)(rng() % 5);
            P_ours.n = P_ref.n = 0;
            cr_assert_eq(gb_tgraph_each_path(g, from, to, t1, t2, depth, plist_add, &P_ours),
                         GB_OK);
            bf_paths(&R, from, to, t1, t2, 1, depth, &P_ref);
            assert_same_paths(&P_ours, &P_ref, "paths");
        }
        gb_tgraph_destroy(g);
    }
}

Test(temporal_graph, cycles_match_brute_force)
{
    seed_from_env("cycles");
    size_t total = 0;
    for (int round = 0; round < 30; round++) {
        int64_t t_end;
        gb_tgraph *g = random_graph(&R, 2 + (int)(rng() % 6), 10 + (int)(rng() % 150), &t_end);
        for (int q = 0; q < 20; q++) {
            int64_t t1, t2;
            random_window(t_end, &t1, &t2);
            uint64_t node = rng() % 8;
            uint32_t depth = 2 + (uint32_t)(rng() % 5);
            P_ours.n = P_ref.n = 0;
            cr_assert_eq(gb_tgraph_each_cycle(g, node, t1, t2, depth, plist_add, &P_ours), GB_OK);
            bf_paths(&R, node, node, t1, t2, 2, depth, &P_ref);
            assert_same_paths(&P_ours, &P_ref, "cycles");
            total += P_ours.n;
        }
        gb_tgraph_destroy(g);
    }
    cr_assert_gt(total, 0, "random graphs produced no cycles at all: the test is too weak");
}

Test(temporal_graph, queries_match_brute_force_across_evictions)
{
    seed_from_env("eviction");
    for (int round = 0; round < 20; round++) {
        gb_tgraph *g;
        cr_assert_eq(gb_tgraph_create(&g, NULL), GB_OK);
        R.n = 0;
        int64_t t = 0;
        for (int i = 0; i < 800; i++) {
            t += (int64_t)(rng() % 3);
            gb_tedge e = {(uint64_t)i + 1, rng() % 12, rng() % 12, t, 1.0};
            cr_assert_eq(gb_tgraph_add(g, &e), GB_OK);
            R.e[R.n++] = e;
            if (rng() % 50 == 0) {
                int64_t cut = t - (int64_t)(rng() % 40);
                size_t before = R.n, evicted;
                cr_assert_eq(gb_tgraph_evict_before(g, cut, &evicted), GB_OK);
                ref_evict(&R, cut);
                cr_assert_eq(evicted, before - R.n);
            }
            cr_assert_eq(gb_tgraph_edge_count(g), R.n);
        }
        for (uint64_t node = 0; node < 12; node++) {
            check_edges_at(g, &R, node, GB_TGRAPH_OUT, INT64_MIN, INT64_MAX);
            check_edges_at(g, &R, node, GB_TGRAPH_IN, INT64_MIN, INT64_MAX);
            P_ours.n = P_ref.n = 0;
            cr_assert_eq(gb_tgraph_each_cycle(g, node, 0, t, 4, plist_add, &P_ours), GB_OK);
            bf_paths(&R, node, node, 0, t, 2, 4, &P_ref);
            assert_same_paths(&P_ours, &P_ref, "cycles after eviction");
        }
        gb_tgraph_destroy(g);
    }
}

/* ---- eviction and the horizon ---------------------------------------------- */

Test(temporal_graph, evicting_everything_removes_every_node)
{
    gb_tgraph *g;
    cr_assert_eq(gb_tgraph_create(&g, NULL), GB_OK);
    for (uint64_t i = 0; i < 5000; i++) {
        gb_tedge e = {i, i, i + 7, (int64_t)i, 0};
        cr_assert_eq(gb_tgraph_add(g, &e), GB_OK);
    }
    cr_assert_eq(gb_tgraph_node_count(g), 5007);
    size_t n;
    cr_assert_eq(gb_tgraph_evict_before(g, 2500, &n), GB_OK);
    cr_assert_eq(n, 2500);
    cr_assert_eq(gb_tgraph_node_count(g), 2507);
    cr_assert_eq(gb_tgraph_evict_before(g, 1 << 20, &n), GB_OK);
    cr_assert_eq(n, 2500);
    cr_assert_eq(gb_tgraph_edge_count(g), 0);
    cr_assert_eq(gb_tgraph_node_count(g), 0);
    gb_tgraph_destroy(g);
}

Test(temporal_graph, horizon_keeps_only_recent_edges)
{
    gb_tgraph *g;
    gb_tgraph_opts o = {.horizon_ns = 100};
    cr_assert_eq(gb_tgraph_create(&g, &o), GB_OK);
    for (int64_t t = 0; t <= 10000; t += 10) {
        gb_tedge e = {(uint64_t)t, (uint64_t)(t % 70), (uint64_t)(t % 30), t, 0};
        cr_assert_eq(gb_tgraph_add(g, &e), GB_OK);
    }
    /* newest 10000: edges at 9900..10000 remain */
    cr_assert_eq(gb_tgraph_edge_count(g), 11);
    gb_tedge out[32];
    size_t n;
    cr_assert_eq(gb_tgraph_edges_at(g, 9900 % 70, GB_TGRAPH_OUT, 0, 9899, out, 32, &n), GB_OK);
    cr_assert_eq(n, 0);
    gb_tgraph_destroy(g);
}

Test(temporal_graph, horizon_matches_brute_force_on_random_streams)
{
    seed_from_env("horizon");
    for (int round = 0; round < 20; round++) {
        int64_t horizon = 1 + (int64_t)(rng() % 60);
        gb_tgraph *g;
        gb_tgraph_opts o = {.horizon_ns = horizon};
        cr_assert_eq(gb_tgraph_create(&g, &o), GB_OK);
        R.n = 0;
        int64_t t = 0;
        for (int i = 0; i < 600; i++) {
            t += (int64_t)(rng() % 4);
            gb_tedge e = {(uint64_t)i + 1, rng() % 9, rng() % 9, t, 2.0};
            cr_assert_eq(gb_tgraph_add(g, &e), GB_OK);
            R.e[R.n++] = e;
            ref_evict(&R, t - horizon);
            cr_assert_eq(gb_tgraph_edge_count(g), R.n, "round %d edge %d", round, i);
        }
        for (uint64_t node = 0; node < 9; node++) {
            check_edges_at(g, &R, node, GB_TGRAPH_OUT, INT64_MIN, INT64_MAX);
            check_edges_at(g, &R, node, GB_TGRAPH_IN, INT64_MIN, INT64_MAX);
        }
        gb_tgraph_destroy(g);
    }
}

Test(temporal_graph, negative_horizon_is_rejected)
{
    gb_tgraph *g = (gb_tgraph *)1;
    gb_tgraph_opts o = {.horizon_ns = -1};
    cr_assert_eq(gb_tgraph_create(&g, &o), GB_EINVAL);
    cr_assert_null(g);
}

/* ---- ordering ---------------------------------------------------------------- */

Test(temporal_graph, older_edge_is_refused_and_changes_nothing)
{
    gb_tgraph *g;
    cr_assert_eq(gb_tgraph_create(&g, NULL), GB_OK);
    gb_tedge a = {1, 1, 2, 100, 5.0}, same = {2, 2, 3, 100, 1.0}, old = {3, 9, 8, 99, 1.0};
    cr_assert_eq(gb_tgraph_add(g, &a), GB_OK);
    cr_assert_eq(gb_tgraph_add(g, &same), GB_OK, "equal timestamps are in order");
    cr_assert_eq(gb_tgraph_add(g, &old), GB_EORDER);
    cr_assert_str_neq(gb_last_error(), "");
    cr_assert_eq(gb_tgraph_edge_count(g), 2);
    cr_assert_eq(gb_tgraph_node_count(g), 3);
    gb_tedge out[4];
    size_t n;
    cr_assert_eq(gb_tgraph_edges_at(g, 9, GB_TGRAPH_OUT, 0, 1000, out, 4, &n), GB_OK);
    cr_assert_eq(n, 0);
    gb_tgraph_destroy(g);
}

Test(temporal_graph, edge_before_eviction_point_is_refused)
{
    gb_tgraph *g;
    cr_assert_eq(gb_tgraph_create(&g, NULL), GB_OK);
    gb_tedge a = {1, 1, 2, 10, 0};
    cr_assert_eq(gb_tgraph_add(g, &a), GB_OK);
    cr_assert_eq(gb_tgraph_evict_before(g, 50, NULL), GB_OK);
    gb_tedge b = {2, 1, 2, 49, 0}, c = {3, 1, 2, 50, 0};
    cr_assert_eq(gb_tgraph_add(g, &b), GB_EORDER);
    cr_assert_eq(gb_tgraph_add(g, &c), GB_OK);
    cr_assert_eq(gb_tgraph_edge_count(g), 1);
    gb_tgraph_destroy(g);
}

/* ---- semantics on a hand-made graph ------------------------------------------ */

static gb_tgraph *ring_graph(int64_t t_ab, int64_t t_bc, int64_t t_ca)
{
    gb_tgraph *g;
    cr_assert_eq(gb_tgraph_create(&g, NULL), GB_OK);
    gb_tedge e[3] = {{1, 'A', 'B', t_ab, 10}, {2, 'B', 'C', t_bc, 9}, {3, 'C', 'A', t_ca, 8}};
    for (int i = 0; i < 3; i++)
        cr_assert_eq(gb_tgraph_add(g, &e[i]), GB_OK);
    return g;
}

Test(temporal_graph, circular_flow_with_increasing_times_is_found)
{
    gb_tgraph *g = ring_graph(1, 2, 3);
    gb_tpath p[2];
    size_t n;
    cr_assert_eq(gb_tgraph_cycles(g, 'A', 0, 10, 3, p, 2, &n), GB_OK);
    cr_assert_eq(n, 1);
    cr_assert_eq(p[0].len, 3);
    cr_assert_eq(p[0].edge[0].id, 1);
    cr_assert_eq(p[0].edge[2].target, 'A');
    cr_assert_eq(p[0].edge[1].value, 9);
    cr_assert_eq(gb_tgraph_cycles(g, 'A', 0, 10, 2, p, 2, &n), GB_OK, "too shallow");
    cr_assert_eq(n, 0);
    cr_assert_eq(gb_tgraph_cycles(g, 'A', 2, 10, 3, p, 2, &n), GB_OK, "outside window");
    cr_assert_eq(n, 0);
    gb_tgraph_destroy(g);
}

Test(temporal_graph, hops_must_be_strictly_later)
{
    gb_tgraph *g = ring_graph(1, 2, 2);
    gb_tpath p[2];
    size_t n;
    cr_assert_eq(gb_tgraph_cycles(g, 'A', 0, 10, 3, p, 2, &n), GB_OK);
    cr_assert_eq(n, 0);
    cr_assert_eq(gb_tgraph_paths(g, 'A', 'C', 0, 10, 3, p, 2, &n), GB_OK);
    cr_assert_eq(n, 1);
    gb_tgraph_destroy(g);
}

/* ---- truncation and early stop ------------------------------------------------ */

Test(temporal_graph, small_buffers_report_erange_with_first_results)
{
    gb_tgraph *g;
    cr_assert_eq(gb_tgraph_create(&g, NULL), GB_OK);
    for (int64_t t = 0; t < 10; t++) {
        gb_tedge e = {(uint64_t)t, 1, 2, t, 0};
        cr_assert_eq(gb_tgraph_add(g, &e), GB_OK);
    }
    gb_tedge out[3];
    size_t n;
    cr_assert_eq(gb_tgraph_edges_at(g, 1, GB_TGRAPH_OUT, 0, 100, out, 3, &n), GB_ERANGE);
    cr_assert_eq(n, 3);
    cr_assert_eq(out[2].ts_ns, 2);
    cr_assert_eq(gb_tgraph_edges_at(g, 2, GB_TGRAPH_IN, 0, 100, NULL, 0, &n), GB_ERANGE);
    cr_assert_eq(n, 0);
    gb_tpath p[4];
    cr_assert_eq(gb_tgraph_paths(g, 1, 2, 0, 100, 1, p, 4, &n), GB_ERANGE);
    cr_assert_eq(n, 4);
    cr_assert_eq(gb_tgraph_paths(g, 1, 2, 0, 100, 1, p, 4, &n), GB_ERANGE);
    cr_assert_eq(gb_tgraph_paths(g, 1, 2, 3, 6, 1, p, 4, &n), GB_OK, "exactly cap fits");
    cr_assert_eq(n, 4);
    gb_tgraph_destroy(g);
}

static int stop_after_two(const gb_tedge *edges, size_t n, void *ctx)
{
    (void)edges;
    (void)n;
    return ++*(int *)ctx == 2;
}

Test(temporal_graph, callback_nonzero_stops_the_search)
{
    gb_tgraph *g;
    cr_assert_eq(gb_tgraph_create(&g, NULL), GB_OK);
    for (int64_t t = 0; t < 10; t++) {
        gb_tedge e = {(uint64_t)t, (uint64_t)(t % 2), (uint64_t)((t + 1) % 2), t, 0};
        cr_assert_eq(gb_tgraph_add(g, &e), GB_OK);
    }
    int calls = 0;
    cr_assert_eq(gb_tgraph_each_cycle(g, 0, 0, 100, 2, stop_after_two, &calls), GB_OK);
    cr_assert_eq(calls, 2);
    gb_tgraph_destroy(g);
}

/* ---- bad arguments ----------------------------------------------------------- */

static int count_path(const gb_tedge *edges, size_t n, void *ctx)
{
    (void)edges;
    (void)n;
    ++*(int *)ctx;
    return 0;
}

Test(temporal_graph, bad_arguments_are_rejected)
{
    gb_tgraph *g;
    cr_assert_eq(gb_tgraph_create(NULL, NULL), GB_EINVAL);
    cr_assert_eq(gb_tgraph_create(&g, NULL), GB_OK);
    gb_tedge e = {1, 1, 2, 5, 0}, out[2];
    gb_tpath p[1];
    size_t n;
    int c = 0;
    cr_assert_eq(gb_tgraph_add(NULL, &e), GB_EINVAL);
    cr_assert_eq(gb_tgraph_add(g, NULL), GB_EINVAL);
    cr_assert_eq(gb_tgraph_evict_before(NULL, 0, &n), GB_EINVAL);
    cr_assert_eq(gb_tgraph_edges_at(NULL, 1, GB_TGRAPH_OUT, 0, 1, out, 2, &n), GB_EINVAL);
    cr_assert_eq(gb_tgraph_edges_at(g, 1, (gb_tgraph_dir)7, 0, 1, out, 2, &n), GB_EINVAL);
    cr_assert_eq(gb_tgraph_edges_at(g, 1, GB_TGRAPH_OUT, 2, 1, out, 2, &n), GB_EINVAL);
    cr_assert_eq(gb_tgraph_edges_at(g, 1, GB_TGRAPH_OUT, 0, 1, NULL, 2, &n), GB_EINVAL);
    cr_assert_eq(gb_tgraph_edges_at(g, 1, GB_TGRAPH_OUT, 0, 1, out, 2, NULL), GB_EINVAL);
    cr_assert_eq(gb_tgraph_each_edge_at(g, 1, GB_TGRAPH_IN, 0, 1, NULL, NULL), GB_EINVAL);
    cr_assert_eq(gb_tgraph_each_path(g, 1, 2, 0, 9, 0, count_path, &c), GB_EINVAL);
    cr_assert_eq(gb_tgraph_each_path(g, 1, 2, 0, 9, GB_TGRAPH_MAX_DEPTH + 1, count_path, &c),
                 GB_EINVAL);
    cr_assert_eq(gb_tgraph_each_path(g, 1, 1, 0, 9, 3, count_path, &c), GB_EINVAL);
    cr_assert_eq(gb_tgraph_each_path(g, 1, 2, 9, 0, 3, count_path, &c), GB_EINVAL);
    cr_assert_eq(gb_tgraph_each_path(g, 1, 2, 0, 9, 3, NULL, NULL), GB_EINVAL);
    cr_assert_eq(gb_tgraph_each_cycle(g, 1, 0, 9, 1, count_path, &c), GB_EINVAL);
    cr_assert_eq(gb_tgraph_each_cycle(NULL, 1, 0, 9, 3, count_path, &c), GB_EINVAL);
    cr_assert_eq(gb_tgraph_paths(g, 1, 2, 0, 9, 3, NULL, 1, &n), GB_EINVAL);
    cr_assert_eq(gb_tgraph_cycles(g, 1, 0, 9, 3, p, 1, NULL), GB_EINVAL);
    cr_assert_eq(c, 0);
    cr_assert_eq(gb_tgraph_edge_count(NULL), 0);
    gb_tgraph_destroy(NULL);
    gb_tgraph_destroy(g);
}

Test(temporal_graph, unknown_node_has_no_edges_or_paths)
{
    gb_tgraph *g = ring_graph(1, 2, 3);
    gb_tedge out[2];
    size_t n = 99;
    cr_assert_eq(gb_tgraph_edges_at(g, 'Z', GB_TGRAPH_OUT, 0, 9, out, 2, &n), GB_OK);
    cr_assert_eq(n, 0);
    int c = 0;
    cr_assert_eq(gb_tgraph_each_path(g, 'Z', 'A', 0, 9, 4, count_path, &c), GB_OK);
    cr_assert_eq(gb_tgraph_each_path(g, 'A', 'Z', 0, 9, 4, count_path, &c), GB_OK);
    cr_assert_eq(c, 0);
    gb_tgraph_destroy(g);
}

/* Every node still found after the map grew and half the nodes were
 * removed (growth rehashes from the buckets, removal shifts them back). */
Test(temporal_graph, nodes_are_found_after_map_growth_and_removal)
{
    gb_tgraph *g;
    cr_assert_eq(gb_tgraph_create(&g, NULL), GB_OK);
    for (uint64_t i = 0; i < 3000; i++) {
        gb_tedge e = {i, i * 7919, i * 7919 + 1, (int64_t)i, 0};
        cr_assert_eq(gb_tgraph_add(g, &e), GB_OK);
    }
    cr_assert_eq(gb_tgraph_evict_before(g, 1500, NULL), GB_OK);
    for (uint64_t i = 0; i < 3000; i++) {
        gb_tedge out[1];
        size_t n;
        cr_assert_eq(gb_tgraph_edges_at(g, i * 7919, GB_TGRAPH_OUT, INT64_MIN, INT64_MAX, out, 1, &n), GB_OK);
        cr_assert_eq(n, i >= 1500 ? 1u : 0u, "node %llu", (unsigned long long)(i * 7919));
        if (n)
            cr_assert_eq(out[0].id, i);
    }
    gb_tgraph_destroy(g);
}

/* Prefetching is a hint: any stage, on known and unknown nodes, between
 * insertions, leaves every query as the brute force says; NULL is ignored. */
Test(temporal_graph, prefetch_changes_no_result)
{
    seed_from_env("prefetch");
    gb_tgraph_prefetch(NULL, 1, 0);
    gb_tgraph *g;
    gb_tgraph_opts o = {.horizon_ns = 40};
    cr_assert_eq(gb_tgraph_create(&g, &o), GB_OK);
    R.n = 0;
    int64_t t = 0;
    for (int i = 0; i < 1000; i++) {
        for (int stage = 0; stage < 3; stage++)
            gb_tgraph_prefetch(g, rng() % 40, stage);
        t += (int64_t)(rng() % 3);
        gb_tedge e = {(uint64_t)i + 1, rng() % 30, rng() % 30, t, 1.0};
        cr_assert_eq(gb_tgraph_add(g, &e), GB_OK);
        R.e[R.n++] = e;
        ref_evict(&R, t - 40);
    }
    for (uint64_t node = 0; node < 40; node++) {
        check_edges_at(g, &R, node, GB_TGRAPH_OUT, INT64_MIN, INT64_MAX);
        check_edges_at(g, &R, node, GB_TGRAPH_IN, INT64_MIN, INT64_MAX);
    }
    gb_tgraph_destroy(g);
}
