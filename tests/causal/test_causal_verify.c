/*
 * Causal graph queries and verification: happened-before against a
 * brute-force closure of program order and messages over random
 * simulations (seed printed; GB_TEST_SEED replays), clean histories pass,
 * random-order delivery violations match brute force, and one planted
 * violation of each kind is caught with the events involved.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "causal_sim.h"

static uint64_t test_seed(const char *name)
{
    const char *env = getenv("GB_TEST_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)clock();
    fprintf(stderr, "%s: seed %llu (GB_TEST_SEED=%llu to replay)\n", name,
            (unsigned long long)seed, (unsigned long long)seed);
    return seed;
}

/* ---- brute force: happened-before as reachability ------------------------------ */

#define MAXEV 600

typedef struct closure {
    size_t n;
    gb_causal_event ev[MAXEV + 1];
    uint64_t own[MAXEV + 1];
    bool reach[MAXEV + 1][MAXEV + 1]; /* reach[a][b]: a happened before b */
} closure;

static closure C;

static bool direct_edge(const closure *c, size_t a, size_t b)
{
    const gb_causal_event *x = &c->ev[a], *y = &c->ev[b];
    if (x->node == y->node && c->own[a] + 1 == c->own[b])
        return true;
    return x->kind == GB_CAUSAL_SEND && y->kind == GB_CAUSAL_RECV && x->msg_id == y->msg_id;
}

static void build_closure(gb_causal_graph *g, closure *c)
{
    c->n = gb_causal_count(g);
    cr_assert_leq(c->n, MAXEV);
    gb_vclock *vc;
    cr_assert_eq(gb_vclock_create(&vc), GB_OK);
    for (size_t i = 1; i <= c->n; i++) {
        cr_assert_eq(gb_causal_event_get(g, i, &c->ev[i], vc), GB_OK);
        c->own[i] = gb_vclock_get(vc, c->ev[i].node);
    }
    gb_vclock_destroy(vc);
    memset(c->reach, 0, sizeof c->reach);
    for (size_t a = 1; a <= c->n; a++)
        for (size_t b = 1; b <= c->n; b++)
            c->reach[a][b] = direct_edge(c, a, b);
    for (size_t k = 1; k <= c->n; k++)
        for (size_t a = 1; a <= c->n; a++)
            if (c->reach[a][k])
                for (size_t b = 1; b <= c->n; b++)
                    c->reach[a][b] |= c->reach[k][b];
}

Test(causal, happened_before_matches_brute_force_closure)
{
    uint64_t seed = test_seed("happened_before");
    for (int round = 0; round < 6; round++) {
        gb_causal_graph *g;
        cr_assert_eq(gb_causal_create(&g), GB_OK);
        sim s;
        sim_init(&s, g, seed + (uint64_t)round, 2 + round % 5, 200, 0, 0, true);
        sim_run(&s, 250, 200);
        build_closure(g, &C);
        for (uint64_t a = 1; a <= C.n; a++) {
            for (uint64_t b = 1; b <= C.n; b++) {
                gb_vc_order o;
                cr_assert_eq(gb_causal_order(g, a, b, &o), GB_OK);
                gb_vc_order want = a == b            ? GB_VC_EQUAL
                                   : C.reach[a][b] ? GB_VC_BEFORE
                                   : C.reach[b][a] ? GB_VC_AFTER
                                                   : GB_VC_CONCURRENT;
                cr_assert_eq(o, want, "events %llu, %llu: order %d, brute force %d",
                             (unsigned long long)a, (unsigned long long)b, o, want);
            }
        }
        sim_free(&s);
        gb_causal_destroy(g);
    }
}

Test(causal, concurrent_with_lists_exactly_the_concurrent_events)
{
    uint64_t seed = test_seed("concurrent_with");
    gb_causal_graph *g;
    cr_assert_eq(gb_causal_create(&g), GB_OK);
    sim s;
    sim_init(&s, g, seed, 4, 100, 0, 0, true);
    sim_run(&s, 150, 100);
    build_closure(g, &C);
    static uint64_t ids[MAXEV];
    for (uint64_t e = 1; e <= C.n; e++) {
        size_t n;
        cr_assert_eq(gb_causal_concurrent_with(g, e, ids, MAXEV, &n), GB_OK);
        size_t k = 0;
        for (uint64_t o = 1; o <= C.n; o++) {
            if (o == e || C.reach[o][e] || C.reach[e][o])
                continue;
            cr_assert_lt(k, n);
            cr_assert_eq(ids[k++], o);
            bool conc;
            cr_assert_eq(gb_causal_concurrent(g, e, o, &conc), GB_OK);
            cr_assert(conc);
        }
        cr_assert_eq(k, n);
    }
    sim_free(&s);
    gb_causal_destroy(g);
}

/* ---- clean and random histories ------------------------------------------------- */

Test(causal, clean_simulated_histories_verify)
{
    uint64_t seed = test_seed("clean_histories");
    for (int round = 0; round < 20; round++) {
        gb_causal_graph *g;
        cr_assert_eq(gb_causal_create(&g), GB_OK);
        sim s;
        sim_init(&s, g, seed + (uint64_t)round, 2 + round % 8, 300, 0, 0, true);
        sim_run(&s, 500, 300);
        gb_causal_violation v;
        gb_status st = gb_causal_verify(g, NULL, &v);
        cr_assert_eq(st, GB_OK, "round %d: %s: %s", round, gb_causal_violation_name(v.kind), v.what);
        cr_assert_eq(v.kind, GB_CV_NONE);
        sim_free(&s);
        gb_causal_destroy(g);
    }
}

static int count_delivery(const gb_causal_violation *v, void *ctx)
{
    cr_assert_eq(v->kind, GB_CV_DELIVERY_ORDER, "unexpected %s: %s",
                 gb_causal_violation_name(v->kind), v->what);
    ++*(size_t *)ctx;
    return 0;
}

/* Brute force: pairs of receives at one node, earlier one's send after the later one's. */
static size_t brute_delivery_violations(const closure *c)
{
    size_t n = 0;
    for (size_t a = 1; a <= c->n; a++) {
        for (size_t b = 1; b <= c->n; b++) {
            const gb_causal_event *ra = &c->ev[a], *rb = &c->ev[b];
            if (ra->kind != GB_CAUSAL_RECV || rb->kind != GB_CAUSAL_RECV ||
                ra->node != rb->node || c->own[a] >= c->own[b])
                continue;
            size_t sa = 0, sb = 0;
            for (size_t k = 1; k <= c->n; k++) {
                if (c->ev[k].kind == GB_CAUSAL_SEND && c->ev[k].msg_id == ra->msg_id)
                    sa = k;
                if (c->ev[k].kind == GB_CAUSAL_SEND && c->ev[k].msg_id == rb->msg_id)
                    sb = k;
            }
            n += c->reach[sb][sa];
        }
    }
    return n;
}

Test(causal, random_order_delivery_violations_match_brute_force)
{
    uint64_t seed = test_seed("random_delivery");
    size_t total = 0;
    for (int round = 0; round < 8; round++) {
        gb_causal_graph *g;
        cr_assert_eq(gb_causal_create(&g), GB_OK);
        sim s;
        sim_init(&s, g, seed + (uint64_t)round, 2 + round % 4, 150, 0, 0, false);
        sim_run(&s, 300, 150);
        build_closure(g, &C);
        size_t found = 0, reported;
        cr_assert_eq(gb_causal_each_violation(g, NULL, count_delivery, &found, &reported), GB_OK);
        cr_assert_eq(found, reported);
        cr_assert_eq(found, brute_delivery_violations(&C), "round %d", round);
        total += found;
        sim_free(&s);
        gb_causal_destroy(g);
    }
    cr_assert_gt(total, 0, "random delivery never violated causal order: test too weak");
}
