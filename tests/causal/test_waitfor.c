/*
 * Wait-for graph: Tarjan deadlock reports against brute-force cycle
 * detection (transitive closure) on random graphs with removals (seed
 * printed; GB_TEST_SEED replays), witness cycles are real, the pre-call
 * check, pending-call bookkeeping, deep chains, bad arguments.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpubridge/causal.h"

static uint64_t rng_state;

static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

#define MAXA 24
#define MAXE 64

/* actor i's id: large, unordered values so the snapshot's numbering matters */
static uint64_t actor_id(int i)
{
    return (uint64_t)(MAXA - i) * 0x9E3779B97F4A7C15ULL;
}

static int actor_of(uint64_t id)
{
    for (int i = 0; i < MAXA; i++)
        if (actor_id(i) == id)
            return i;
    cr_assert_fail("unknown actor %llx", (unsigned long long)id);
    return -1;
}

typedef struct model {
    int n;
    int caller[MAXE], callee[MAXE];
    bool live[MAXE];
    bool reach[MAXA][MAXA];
    int covered[MAXA];
    size_t reports;
} model;

static void model_closure(model *m)
{
    memset(m->reach, 0, sizeof m->reach);
    for (int e = 0; e < MAXE; e++)
        if (m->live[e])
            m->reach[m->caller[e]][m->callee[e]] = true;
    for (int k = 0; k < m->n; k++)
        for (int a = 0; a < m->n; a++)
            if (m->reach[a][k])
                for (int b = 0; b < m->n; b++)
                    m->reach[a][b] |= m->reach[k][b];
}

static bool edge_is(const model *m, uint64_t call, int from, int to)
{
    return call >= 1 && call <= MAXE && m->live[call - 1] && m->caller[call - 1] == from &&
           m->callee[call - 1] == to;
}

static int check_report(const gb_deadlock *d, void *ctx)
{
    model *m = ctx;
    m->reports++;
    cr_assert_geq(d->n_actors, 1);
    int first = actor_of(d->actors[0]);
    for (size_t i = 0; i < d->n_actors; i++) {
        int a = actor_of(d->actors[i]);
        cr_assert(m->reach[a][a], "actor %d reported but on no cycle", a);
        cr_assert(m->reach[a][first] && m->reach[first][a], "actors %d, %d not mutual", a, first);
        cr_assert_eq(m->covered[a]++, 0, "actor %d in two deadlocks", a);
        if (i > 0)
            cr_assert_lt(d->actors[i - 1], d->actors[i], "actors not ascending");
    }
    cr_assert_geq(d->cycle_len, 1);
    cr_assert_eq(d->cycle_actor[0], d->actors[0]);
    for (size_t i = 0; i < d->cycle_len; i++) {
        int from = actor_of(d->cycle_actor[i]);
        int to = actor_of(d->cycle_actor[(i + 1) % d->cycle_len]);
        cr_assert(edge_is(m, d->cycle_call[i], from, to), "cycle hop %zu is no pending call", i);
        cr_assert(m->reach[from][first] && m->reach[first][from], "cycle leaves the component");
    }
    return 0;
}

static void compare_with_brute_force(gb_waitfor *w, model *m)
{
    model_closure(m);
    memset(m->covered, 0, sizeof m->covered);
    m->reports = 0;
    size_t n;
    cr_assert_eq(gb_waitfor_deadlocks(w, check_report, m, &n), GB_OK);
    cr_assert_eq(n, m->reports);
    size_t classes = 0;
    for (int a = 0; a < m->n; a++) {
        cr_assert_eq(m->covered[a], m->reach[a][a] ? 1 : 0, "actor %d coverage", a);
        bool smallest = m->reach[a][a];
        for (int b = 0; b < m->n && smallest; b++)
            if (b != a && m->reach[a][b] && m->reach[b][a] && actor_id(b) < actor_id(a))
                smallest = false;
        classes += smallest;
    }
    cr_assert_eq(n, classes, "%zu deadlocks, brute force %zu", n, classes);
    for (int a = 0; a < m->n; a++)
        for (int b = 0; b < m->n; b++) {
            gb_status want = a == b || m->reach[b][a] ? GB_EDEADLK : GB_OK;
            cr_assert_eq(gb_waitfor_check(w, actor_id(a), actor_id(b)), want, "check %d -> %d", a, b);
        }
}

Test(waitfor, tarjan_matches_brute_force_on_random_graphs)
{
    const char *env = getenv("GB_TEST_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)clock();
    fprintf(stderr, "tarjan: seed %llu (GB_TEST_SEED=%llu to replay)\n", (unsigned long long)seed,
            (unsigned long long)seed);
    rng_state = seed;
    size_t total = 0;
    for (int round = 0; round < 60; round++) {
        static model m;
        memset(&m, 0, sizeof m);
        m.n = 2 + (int)(rng() % (MAXA - 1));
        int n_edges = 1 + (int)(rng() % MAXE);
        gb_waitfor *w;
        cr_assert_eq(gb_waitfor_create(&w), GB_OK);
        for (int e = 0; e < n_edges; e++) {
            m.caller[e] = (int)(rng() % (uint64_t)m.n);
            m.callee[e] = (int)(rng() % (uint64_t)m.n);
            m.live[e] = true;
            cr_assert_eq(gb_waitfor_add(w, actor_id(m.caller[e]), actor_id(m.callee[e]),
                                        (uint64_t)e + 1), GB_OK);
        }
        compare_with_brute_force(w, &m);
        total += m.reports;
        for (int e = 0; e < n_edges; e++) {
            if (rng() % 2) {
                m.live[e] = false;
                cr_assert_eq(gb_waitfor_remove(w, (uint64_t)e + 1), GB_OK);
            }
        }
        size_t live = 0;
        for (int e = 0; e < n_edges; e++)
            live += m.live[e];
        cr_assert_eq(gb_waitfor_count(w), live);
        compare_with_brute_force(w, &m);
        gb_waitfor_destroy(w);
    }
    cr_assert_gt(total, 0, "no random graph had a cycle: test too weak");
}

static int count_and_copy(const gb_deadlock *d, void *ctx)
{
    uint64_t *out = ctx;
    out[0]++;
    out[1] = d->n_actors;
    out[2] = d->cycle_len;
    return 0;
}

Test(waitfor, self_wait_is_a_deadlock_of_one)
{
    gb_waitfor *w;
    cr_assert_eq(gb_waitfor_create(&w), GB_OK);
    cr_assert_eq(gb_waitfor_add(w, 5, 6, 1), GB_OK);
    cr_assert_eq(gb_waitfor_add(w, 6, 6, 2), GB_OK);
    uint64_t r[3] = {0};
    size_t n;
    cr_assert_eq(gb_waitfor_deadlocks(w, count_and_copy, r, &n), GB_OK);
    cr_assert_eq(n, 1);
    cr_assert_eq(r[1], 1);
    cr_assert_eq(r[2], 1);
    gb_waitfor_destroy(w);
}

Test(waitfor, two_separate_cycles_are_two_deadlocks)
{
    gb_waitfor *w;
    cr_assert_eq(gb_waitfor_create(&w), GB_OK);
    cr_assert_eq(gb_waitfor_add(w, 1, 2, 10), GB_OK);
    cr_assert_eq(gb_waitfor_add(w, 2, 1, 11), GB_OK);
    cr_assert_eq(gb_waitfor_add(w, 3, 4, 12), GB_OK);
    cr_assert_eq(gb_waitfor_add(w, 4, 5, 13), GB_OK);
    cr_assert_eq(gb_waitfor_add(w, 5, 3, 14), GB_OK);
    cr_assert_eq(gb_waitfor_add(w, 2, 3, 15), GB_OK);
    uint64_t r[3] = {0};
    size_t n;
    cr_assert_eq(gb_waitfor_deadlocks(w, count_and_copy, r, &n), GB_OK);
    cr_assert_eq(n, 2);
    cr_assert_eq(gb_waitfor_remove(w, 14), GB_OK);
    cr_assert_eq(gb_waitfor_deadlocks(w, count_and_copy, r, &n), GB_OK);
    cr_assert_eq(n, 1, "removing a call breaks its cycle");
    gb_waitfor_destroy(w);
}

Test(waitfor, long_chain_closing_into_a_ring_does_not_overflow_the_stack)
{
    gb_waitfor *w;
    cr_assert_eq(gb_waitfor_create(&w), GB_OK);
    const uint64_t n_actors = 200000;
    for (uint64_t i = 0; i < n_actors; i++)
        cr_assert_eq(gb_waitfor_add(w, i, (i + 1) % n_actors, i + 1), GB_OK);
    uint64_t r[3] = {0};
    size_t n;
    cr_assert_eq(gb_waitfor_deadlocks(w, count_and_copy, r, &n), GB_OK);
    cr_assert_eq(n, 1);
    cr_assert_eq(r[1], n_actors);
    cr_assert_eq(r[2], n_actors);
    gb_waitfor_destroy(w);
}

static int stop_now(const gb_deadlock *d, void *ctx)
{
    (void)d;
    ++*(int *)ctx;
    return 1;
}

Test(waitfor, callback_nonzero_stops_reporting)
{
    gb_waitfor *w;
    cr_assert_eq(gb_waitfor_create(&w), GB_OK);
    for (uint64_t i = 0; i < 10; i++)
        cr_assert_eq(gb_waitfor_add(w, i, i, i + 1), GB_OK);
    int calls = 0;
    size_t n;
    cr_assert_eq(gb_waitfor_deadlocks(w, stop_now, &calls, &n), GB_OK);
    cr_assert_eq(calls, 1);
    cr_assert_eq(n, 1);
    gb_waitfor_destroy(w);
}

Test(waitfor, pending_call_ids_are_unique_and_removable_once)
{
    gb_waitfor *w;
    cr_assert_eq(gb_waitfor_create(&w), GB_OK);
    cr_assert_eq(gb_waitfor_add(w, 1, 2, 7), GB_OK);
    cr_assert_eq(gb_waitfor_add(w, 3, 4, 7), GB_EEXIST);
    cr_assert_eq(gb_waitfor_count(w), 1);
    cr_assert_eq(gb_waitfor_remove(w, 7), GB_OK);
    cr_assert_eq(gb_waitfor_remove(w, 7), GB_ENOENT);
    cr_assert_eq(gb_waitfor_count(w), 0);
    cr_assert_eq(gb_waitfor_add(w, 3, 4, 7), GB_OK, "a completed call id may be reused");
    gb_waitfor_destroy(w);
}

Test(waitfor, empty_graph_has_no_deadlock)
{
    gb_waitfor *w;
    cr_assert_eq(gb_waitfor_create(&w), GB_OK);
    int calls = 0;
    size_t n = 99;
    cr_assert_eq(gb_waitfor_deadlocks(w, stop_now, &calls, &n), GB_OK);
    cr_assert_eq(n, 0);
    cr_assert_eq(gb_waitfor_check(w, 1, 2), GB_OK);
    cr_assert_eq(gb_waitfor_check(w, 1, 1), GB_EDEADLK);
    gb_waitfor_destroy(w);
}

Test(waitfor, bad_arguments_are_rejected)
{
    cr_assert_eq(gb_waitfor_create(NULL), GB_EINVAL);
    gb_waitfor *w;
    cr_assert_eq(gb_waitfor_create(&w), GB_OK);
    cr_assert_eq(gb_waitfor_add(NULL, 1, 2, 3), GB_EINVAL);
    cr_assert_eq(gb_waitfor_remove(NULL, 3), GB_EINVAL);
    cr_assert_eq(gb_waitfor_check(NULL, 1, 2), GB_EINVAL);
    cr_assert_eq(gb_waitfor_deadlocks(w, NULL, NULL, NULL), GB_EINVAL);
    cr_assert_eq(gb_waitfor_deadlocks(NULL, stop_now, NULL, NULL), GB_EINVAL);
    cr_assert_eq(gb_waitfor_count(NULL), 0);
    gb_waitfor_destroy(NULL);
    gb_waitfor_destroy(w);
}
