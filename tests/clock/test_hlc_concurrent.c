// gb-test-labels: concurrency
/* Hybrid logical clock under contention: many threads ticking one clock
 * (now and update mixed) get globally unique timestamps, strictly
 * increasing per thread, and a timestamp passed between threads through a
 * release/acquire mailbox is always exceeded by the receiver's update.
 * Written with GB_TEST/GB_CHECK so that it also runs under TSan
 * (tests/support/tsan_harness.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "support/tsan_harness.h"
#include "clock/prop.h"
#include "gpubridge/clock.h"

#define THREADS 4
#define TICKS 20000

typedef struct shared {
    gb_hlc *clock;
    _Atomic gb_hlc_t mailbox; /* the latest timestamp "sent" by any thread */
    _Atomic int64_t frozen_ns; /* physical time for the frozen-clock variant */
    uint64_t seed;
} shared;

typedef struct worker {
    shared *sh;
    int id;
    gb_hlc_t *out;
    int failures; /* receiver not after the received timestamp */
    int errors;   /* gb_hlc_update did not return GB_OK */
} worker;

static int64_t frozen_source(void *ctx)
{
    return atomic_load_explicit(&((shared *)ctx)->frozen_ns, memory_order_relaxed);
}

static void *tick_loop(void *arg)
{
    worker *w = arg;
    prop_rng rng = {w->sh->seed + (uint64_t)w->id * 0x9E3779B97F4A7C15ULL};
    for (int i = 0; i < TICKS; i++) {
        gb_hlc_t t;
        if (prop_below(&rng, 2)) {
            t = gb_hlc_now(w->sh->clock);
            /* "send": publish t; the release pairs with the receiver's acquire. */
            atomic_store_explicit(&w->sh->mailbox, t, memory_order_release);
        } else {
            gb_hlc_t m = atomic_load_explicit(&w->sh->mailbox, memory_order_acquire);
            if (gb_hlc_update(w->sh->clock, m, &t) != GB_OK) {
                w->errors++;
                t = gb_hlc_now(w->sh->clock);
            } else if (t <= m) {
                w->failures++;
            }
        }
        w->out[i] = t;
    }
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void run_threads(shared *sh)
{
    gb_hlc_t *all = calloc((size_t)THREADS * TICKS, sizeof *all);
    GB_CHECK(all != NULL, "out of memory");
    worker w[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){.sh = sh, .id = i, .out = all + (size_t)i * TICKS};
        GB_CHECK(pthread_create(&th[i], NULL, tick_loop, &w[i]) == 0, "thread %d", i);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < THREADS; i++) {
        GB_CHECK(w[i].errors == 0, "thread %d: update failed", i);
        GB_CHECK(w[i].failures == 0, "thread %d: update not after the received stamp", i);
        for (int k = 1; k < TICKS; k++)
            GB_CHECK(w[i].out[k] > w[i].out[k - 1], "thread %d tick %d", i, k);
    }
    qsort(all, (size_t)THREADS * TICKS, sizeof *all, cmp_u64);
    for (size_t k = 1; k < (size_t)THREADS * TICKS; k++)
        GB_CHECK(all[k] != all[k - 1], "duplicate timestamp %#llx", (unsigned long long)all[k]);
    GB_CHECK(gb_hlc_peek(sh->clock) == all[(size_t)THREADS * TICKS - 1], "peek is the largest");
    free(all);
}

GB_TEST(hlc_concurrent, real_clock_ticks_are_unique_and_increase_per_thread)
{
    shared sh = {.seed = prop_seed("hlc_concurrent.real_clock")};
    GB_CHECK(gb_hlc_create(&sh.clock, NULL) == GB_OK, "create");
    run_threads(&sh);
    gb_hlc_destroy(sh.clock);
}

GB_TEST(hlc_concurrent, frozen_clock_ticks_are_unique_and_carry)
{
    shared sh = {.seed = prop_seed("hlc_concurrent.frozen_clock")};
    atomic_init(&sh.frozen_ns, 1700000000LL * 1000000000LL);
    gb_hlc_opts o = {.physical_ns = frozen_source, .ctx = &sh};
    GB_CHECK(gb_hlc_create(&sh.clock, &o) == GB_OK, "create");
    gb_hlc_t start = gb_hlc_now(sh.clock);
    run_threads(&sh);
    /* Every tick added exactly one: the logical counter carried many times. */
    GB_CHECK(gb_hlc_peek(sh.clock) == start + (gb_hlc_t)THREADS * TICKS, "peek %#llx",
             (unsigned long long)gb_hlc_peek(sh.clock));
    gb_hlc_destroy(sh.clock);
}
