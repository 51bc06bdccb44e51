// gb-test-labels: concurrency
/* gb_time_realtime_fast_ns: stays with CLOCK_REALTIME across re-anchors,
 * from one thread and from several at once (the anchor seqlock).
 * Written with GB_TEST/GB_CHECK so that it also runs under TSan
 * (tests/support/tsan_harness.h). */
#include <pthread.h>
#include <stdlib.h>

#include "support/tsan_harness.h"
#include "gpubridge/time.h"

/* Accuracy margin: the extrapolation error is at most ~10 us (the anchor
 * bracket limit) plus the rate error over 1 ms (ns); the margin is wide so
 * that only a broken anchor or rate (20% off fails) can exceed it. */
#define TOLERANCE_NS 100000LL

/* Reads realtime, fast realtime, realtime; returns 0 when fast lies
 * outside [before - tol, after + tol]. */
static int fast_within_bracket(int64_t *fast_out)
{
    int64_t before = gb_time_realtime_ns();
    int64_t fast = gb_time_realtime_fast_ns();
    int64_t after = gb_time_realtime_ns();
    *fast_out = fast;
    return fast >= before - TOLERANCE_NS && fast <= after + TOLERANCE_NS;
}

GB_TEST(time_realtime, fast_tracks_realtime_across_reanchors)
{
    gb_time_realtime_fast_ns(); /* calibrate first (~20 ms) */
    int64_t start = gb_time_monotonic_ns();
    long samples = 0;
    /* Spin through at least three re-anchor intervals. */
    while (gb_time_monotonic_ns() - start < 3 * GB_TIME_REANCHOR_NS || samples < 1000) {
        int64_t fast;
        GB_CHECK(fast_within_bracket(&fast), "sample %ld: fast %lld off realtime", samples,
                 (long long)fast);
        samples++;
    }
}

GB_TEST(time_realtime, fast_realtime_is_after_2020)
{
    GB_CHECK(gb_time_realtime_fast_ns() > 1577836800LL * 1000000000LL, "before 2020");
}

#define READERS 4
#define READS 50000

static void *reader(void *arg)
{
    long *bad = arg;
    for (int i = 0; i < READS; i++) {
        int64_t fast;
        if (!fast_within_bracket(&fast))
            (*bad)++;
    }
    return NULL;
}

GB_TEST(time_realtime, concurrent_readers_and_reanchors_agree_with_realtime)
{
    pthread_t th[READERS];
    long bad[READERS] = {0};
    for (int i = 0; i < READERS; i++)
        GB_CHECK(pthread_create(&th[i], NULL, reader, &bad[i]) == 0, "thread %d", i);
    for (int i = 0; i < READERS; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < READERS; i++)
        GB_CHECK(bad[i] == 0, "reader %d saw %ld readings off realtime", i, bad[i]);
}
