/* Helpers shared by the actor tests (header only). */
#ifndef GB_TEST_ACTOR_TEST_H
#define GB_TEST_ACTOR_TEST_H

#include "support/tsan_harness.h"
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "gpubridge/actor.h"
#include "gpubridge/time.h"

/* A small silo: 2 workers, short spins, fast idle scans. */
static inline gb_silo *test_silo(const gb_silo_opts *extra)
{
    gb_silo_opts o = {0};
    if (extra)
        o = *extra;
    if (!o.workers)
        o.workers = 2;
    if (!o.spin_ns)
        o.spin_ns = 2000;
    if (!o.collect_period_ns)
        o.collect_period_ns = 2000000;
    gb_silo *s = NULL;
    GB_CHECK((gb_silo_create(&s, &o)) == (GB_OK), "%s", gb_last_error());
    return s;
}

/* Poll an atomic until it reaches n, for at most 10 s (a bound on a hang,
 * never a timing check); whether it did. */
static inline int wait_atomic(_Atomic int *v, int n)
{
    int64_t until = gb_time_monotonic_ns() + 10000000000LL;
    struct timespec p = {0, 200000};
    while (atomic_load(v) < n && gb_time_monotonic_ns() < until)
        nanosleep(&p, NULL);
    return atomic_load(v) >= n;
}

/* Poll a counter of the silo until pred holds, for at most 10 s (a bound on
 * a broken runtime, not a synchronisation: the condition is what we wait
 * for). Returns whether it held. */
#define WAIT_FOR(silo, st, cond)                                                                             \
    ({                                                                                                       \
        int ok_ = 0;                                                                                         \
        int64_t until_ = gb_time_monotonic_ns() + 10000000000LL;                                             \
        struct timespec p_ = {0, 200000};                                                                    \
        while (gb_time_monotonic_ns() < until_) {                                                            \
            gb_silo_stats_get((silo), &(st));                                                                \
            if (cond) {                                                                                      \
                ok_ = 1;                                                                                     \
                break;                                                                                       \
            }                                                                                                \
            nanosleep(&p_, NULL);                                                                            \
        }                                                                                                    \
        ok_;                                                                                                 \
    })

#endif
