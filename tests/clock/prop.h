/*
 * Helpers for the clock property tests: a small deterministic generator
 * (splitmix64) and the seed, taken from GB_TEST_SEED when set so a failing
 * run can be replayed, and printed on stderr either way.
 */
#ifndef GB_TESTS_CLOCK_PROP_H
#define GB_TESTS_CLOCK_PROP_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct prop_rng {
    uint64_t s;
} prop_rng;

static inline uint64_t prop_next(prop_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Uniform-ish integer in [0, n); n > 0. */
static inline uint64_t prop_below(prop_rng *r, uint64_t n)
{
    return prop_next(r) % n;
}

/* The run's seed: GB_TEST_SEED if set, else from the clock; printed. */
static inline uint64_t prop_seed(const char *test)
{
    const char *env = getenv("GB_TEST_SEED");
    uint64_t seed;
    if (env && *env) {
        seed = strtoull(env, NULL, 0);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = (uint64_t)ts.tv_sec * 1000000007ULL ^ (uint64_t)ts.tv_nsec;
    }
    fprintf(stderr, "%s: seed %" PRIu64 " (replay with GB_TEST_SEED=%" PRIu64 ")\n", test, seed,
            seed);
    return seed;
}

#endif
