// gb-test-labels: concurrency
/*
 * Recording from many threads at once: writers record ping-pong histories
 * into one causal graph and add/remove pending calls in one wait-for graph
 * while a reader verifies, queries and looks for deadlocks. Every snapshot
 * must verify clean and nothing recorded may be lost. Failures in threads
 * are counted and asserted on the main thread. Written with GB_TEST/GB_CHECK
 * so that it also runs under TSan (tests/support/tsan_harness.h).
 */
#include <pthread.h>
#include <stdatomic.h>

#include "support/tsan_harness.h"
#include "gpubridge/causal.h"

#define WRITERS 4
#define ROUNDS 300
#define EVENTS_PER_ROUND 5

typedef struct shared {
    gb_causal_graph *g;
    gb_waitfor *w;
    atomic_int failures;
    atomic_bool done;
    atomic_ullong verifies;
} shared;

typedef struct writer {
    shared *sh;
    uint32_t t;
} writer;

static int64_t fixed_clock(void *ctx)
{
    (void)ctx;
    return 1700000000000000000LL;
}

static void fail_if(shared *sh, bool bad)
{
    if (bad)
        atomic_fetch_add_explicit(&sh->failures, 1, memory_order_relaxed);
}

static void record(shared *sh, gb_causal_kind kind, uint32_t node, uint64_t msg, gb_hlc_t hlc,
                   gb_vclock *vc)
{
    gb_causal_event ev = {kind, node, node, msg, hlc, 0, vc};
    fail_if(sh, gb_causal_record(sh->g, &ev, NULL) != GB_OK);
}

/* Node a sends to b, b receives and answers, a receives; plus a pending call. */
static void ping_pong(shared *sh, uint32_t t, int r, gb_hlc *ha, gb_hlc *hb, gb_vclock *va,
                      gb_vclock *vb)
{
    uint32_t a = 10 * t, b = a + 1;
    uint64_t m1 = ((uint64_t)t << 40) | (uint64_t)(2 * r + 1), m2 = m1 + 1;
    gb_hlc_t h, got;
    fail_if(sh, gb_waitfor_add(sh->w, a, b, m1) != GB_OK);
    fail_if(sh, gb_vclock_increment(va, a) != GB_OK);
    h = gb_hlc_now(ha);
    record(sh, GB_CAUSAL_SEND, a, m1, h, va);
    fail_if(sh, gb_hlc_update(hb, h, &got) != GB_OK || gb_vclock_merge(vb, va) != GB_OK ||
                    gb_vclock_increment(vb, b) != GB_OK);
    record(sh, GB_CAUSAL_RECV, b, m1, got, vb);
    fail_if(sh, gb_vclock_increment(vb, b) != GB_OK);
    h = gb_hlc_now(hb);
    record(sh, GB_CAUSAL_SEND, b, m2, h, vb);
    fail_if(sh, gb_hlc_update(ha, h, &got) != GB_OK || gb_vclock_merge(va, vb) != GB_OK ||
                    gb_vclock_increment(va, a) != GB_OK);
    record(sh, GB_CAUSAL_RECV, a, m2, got, va);
    fail_if(sh, gb_vclock_increment(va, a) != GB_OK);
    record(sh, GB_CAUSAL_LOCAL, a, 0, gb_hlc_now(ha), va);
    fail_if(sh, gb_waitfor_remove(sh->w, m1) != GB_OK);
}

static void *writer_main(void *arg)
{
    writer *wr = arg;
    gb_hlc_opts oa = {.node_id = 10 * wr->t, .physical_ns = fixed_clock};
    gb_hlc_opts ob = {.node_id = 10 * wr->t + 1, .physical_ns = fixed_clock};
    gb_hlc *ha = NULL, *hb = NULL;
    gb_vclock *va = NULL, *vb = NULL;
    bool ok = gb_hlc_create(&ha, &oa) == GB_OK && gb_hlc_create(&hb, &ob) == GB_OK &&
              gb_vclock_create(&va) == GB_OK && gb_vclock_create(&vb) == GB_OK;
    fail_if(wr->sh, !ok);
    for (int r = 0; ok && r < ROUNDS; r++)
        ping_pong(wr->sh, wr->t, r, ha, hb, va, vb);
    gb_hlc_destroy(ha);
    gb_hlc_destroy(hb);
    gb_vclock_destroy(va);
    gb_vclock_destroy(vb);
    return NULL;
}

static int no_deadlock_expected(const gb_deadlock *d, void *ctx)
{
    (void)d;
    fail_if(ctx, true);
    return 0;
}

static void *reader_main(void *arg)
{
    shared *sh = arg;
    do { /* at least once, however fast the writers are */
        gb_causal_violation v;
        fail_if(sh, gb_causal_verify(sh->g, NULL, &v) != GB_OK);
        size_t n = gb_causal_count(sh->g);
        gb_vc_order o;
        if (n >= 2)
            fail_if(sh, gb_causal_order(sh->g, 1, n, &o) != GB_OK);
        fail_if(sh, gb_waitfor_deadlocks(sh->w, no_deadlock_expected, sh, NULL) != GB_OK);
        atomic_fetch_add_explicit(&sh->verifies, 1, memory_order_relaxed);
    } while (!atomic_load_explicit(&sh->done, memory_order_acquire));
    return NULL;
}

GB_TEST(causal_concurrency, concurrent_recording_loses_nothing_and_stays_clean)
{
    static shared sh;
    GB_CHECK(gb_causal_create(&sh.g) == GB_OK, "create");
    GB_CHECK(gb_waitfor_create(&sh.w) == GB_OK, "create");
    atomic_init(&sh.failures, 0);
    atomic_init(&sh.done, false);
    atomic_init(&sh.verifies, 0);
    pthread_t wt[WRITERS], rt;
    writer wr[WRITERS];
    GB_CHECK(pthread_create(&rt, NULL, reader_main, &sh) == 0, "thread");
    for (uint32_t t = 0; t < WRITERS; t++) {
        wr[t] = (writer){&sh, t};
        GB_CHECK(pthread_create(&wt[t], NULL, writer_main, &wr[t]) == 0, "thread");
    }
    for (int t = 0; t < WRITERS; t++)
        pthread_join(wt[t], NULL);
    atomic_store_explicit(&sh.done, true, memory_order_release);
    pthread_join(rt, NULL);
    GB_CHECK(atomic_load(&sh.failures) == 0, "%d failures in threads", atomic_load(&sh.failures));
    GB_CHECK(gb_causal_count(sh.g) == (size_t)WRITERS * ROUNDS * EVENTS_PER_ROUND, "%zu events", gb_causal_count(sh.g));
    GB_CHECK(gb_waitfor_count(sh.w) == 0, "calls still pending");
    gb_causal_violation v;
    GB_CHECK(gb_causal_verify(sh.g, NULL, &v) == GB_OK, "%s", v.what);
    GB_CHECK(atomic_load(&sh.verifies) > 0, "reader never ran");
    gb_waitfor_destroy(sh.w);
    gb_causal_destroy(sh.g);
}
