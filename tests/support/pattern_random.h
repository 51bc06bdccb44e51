/*
 * Test support: random pattern files and random event streams for the
 * pattern matchers' property tests (seeded xorshift, so a printed seed
 * replays a failure). The patterns use the whole DSL the matchers run:
 * quantifiers, keyed and unkeyed predicates, negations, aggregates in
 * `where` and `emit`, integer and double arithmetic, skip past_last.
 */
#ifndef GB_TEST_PATTERN_RANDOM_H
#define GB_TEST_PATTERN_RANDOM_H

#include <stddef.h>
#include <stdint.h>

#include "gpubridge/pattern.h"

typedef struct gbt_rng {
    uint64_t s;
} gbt_rng;

/* The seed: GB_TEST_SEED from the environment, else the clock. */
uint64_t gbt_seed(void);

void gbt_rng_seed(gbt_rng *r, uint64_t seed);
uint32_t gbt_rnd(gbt_rng *r, uint32_t n); /* 0 .. n-1 */

#define GBT_NTYPES 4
extern const char *const gbt_type_names[GBT_NTYPES]; /* "t", "u", "v", "x" */

/* A pattern file of npat random patterns p0..p{npat-1} (malloc'd, NUL-terminated). */
char *gbt_random_patterns(gbt_rng *r, int npat);

/* n random events (malloc'd) with non-decreasing ts (gaps 0..maxgap ns),
 * types interned into types, sources/targets in 0..naccounts-1. */
gb_event *gbt_random_stream(gbt_rng *r, gb_type_table *types, size_t n, int64_t maxgap, uint32_t naccounts);

#endif
