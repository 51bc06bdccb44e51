/* The matcher's run index (src/pattern/run_index.h) against a plain model:
 * random inserts and removes under many keys that share probe clusters,
 * with every gather compared to a brute-force scan (also while emptied
 * buckets wait for gbp_rindex_settle), and the invariant that, once
 * settled, a keyed bucket exists exactly while it holds runs (no sweep
 * leaves empty ones behind); the pool of spilled arrays (reuse, its bound).
 * The seed is printed; set GB_SEED to replay one. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "pattern/run_index.h"
#include "support/pattern_random.h"

#define NRUN 3000

typedef struct mrun {
    int live;
    gbp_rkey key;
    uint64_t seq;
} mrun;

static mrun runs[NRUN];
static gbt_rng rng;

static uint64_t rnd(uint64_t n)
{
    return gbt_rnd(&rng, (uint32_t)n);
}

static uint64_t test_seed(const char *name)
{
    uint64_t seed = getenv("GB_SEED") ? strtoull(getenv("GB_SEED"), NULL, 10) : (uint64_t)time(NULL);
    printf("%s seed %llu (GB_SEED=%llu to replay)\n", name, (unsigned long long)seed, (unsigned long long)seed);
    fflush(stdout);
    gbt_rng_seed(&rng, seed);
    return seed;
}

static void random_fields(int64_t f[GBP_RKEY_FIELDS], uint64_t values)
{
    for (int i = 0; i < GBP_RKEY_FIELDS; i++)
        f[i] = (int64_t)rnd(values);
}

/* A key over up to two of three fields (mask 0: unkeyed, 1 in 8). */
static void random_key(gbp_rkey *k, uint64_t values)
{
    int64_t f[GBP_RKEY_FIELDS];
    random_fields(f, values);
    static const uint32_t masks[8] = {0, 1, 8, 16, 9, 17, 24, 8};
    gbp_rkey_make(k, masks[rnd(8)], f);
}

static int key_eq(const gbp_rkey *a, const gbp_rkey *b)
{
    return a->mask == b->mask && a->v[0] == b->v[0] && a->v[1] == b->v[1];
}

static int key_cmp(const void *pa, const void *pb)
{
    const gbp_rkey *a = pa, *b = pb;
    if (a->mask != b->mask)
        return a->mask < b->mask ? -1 : 1;
    for (int i = 0; i < GBP_RKEY_VALUES; i++)
        if (a->v[i] != b->v[i])
            return a->v[i] < b->v[i] ? -1 : 1;
    return 0;
}

/* Keyed buckets the model says must exist: distinct keys of live runs. */
static uint32_t live_keys(void)
{
    static gbp_rkey k[NRUN];
    uint32_t n = 0, distinct = 0;
    for (uint32_t i = 0; i < NRUN; i++)
        if (runs[i].live && runs[i].key.mask)
            k[n++] = runs[i].key;
    qsort(k, n, sizeof *k, key_cmp);
    for (uint32_t i = 0; i < n; i++)
        distinct += i == 0 || !key_eq(&k[i - 1], &k[i]);
    return distinct;
}

static int by_seq(const void *a, const void *b)
{
    uint64_t x = runs[*(const uint32_t *)a].seq, y = runs[*(const uint32_t *)b].seq;
    return x < y ? -1 : x > y;
}

/* gather(f) must list exactly the live runs whose key f meets, by seq. */
static void check_gather(gbp_rindex *x, const int64_t f[GBP_RKEY_FIELDS], uint64_t seed)
{
    static uint32_t want[NRUN];
    uint32_t n = 0;
    for (uint32_t i = 0; i < NRUN; i++) {
        gbp_rkey k;
        gbp_rkey_make(&k, runs[i].key.mask, f);
        if (runs[i].live && (runs[i].key.mask == 0 || key_eq(&k, &runs[i].key)))
            want[n++] = i;
    }
    qsort(want, n, sizeof *want, by_seq);
    const gbp_rlist *got = gbp_rindex_gather(x, f);
    cr_assert_not_null(got);
    cr_assert_eq(got->n, n, "seed %llu: gather found %u runs, model %u", (unsigned long long)seed, got->n, n);
    for (uint32_t i = 0; i < n; i++)
        cr_assert(got->v[i].run == &runs[want[i]] && got->v[i].seq == runs[want[i]].seq,
                  "seed %llu: entry %u differs", (unsigned long long)seed, i);
}

static void churn(gbp_rindex *x, uint64_t seed, uint64_t values, int steps)
{
    uint64_t seq = 0;
    for (int s = 0; s < steps; s++) {
        mrun *r = &runs[rnd(NRUN)];
        if (r->live) {
            gbp_rindex_remove(x, &r->key, r);
            r->live = 0;
        } else {
            random_key(&r->key, values);
            /* mostly increasing, sometimes older (a run that moves keys);
             * unique: the low 20 bits are 0 or the run's index + 1 */
            r->seq = rnd(4) ? ++seq << 20 : rnd(seq + 1) << 20 | (uint64_t)(r - runs + 1);
            cr_assert_eq(gbp_rindex_insert(x, &r->key, r, r->seq), 0);
            r->live = 1;
        }
        if (rnd(5) == 0) /* events that touch a few runs each */
            gbp_rindex_settle(x);
        if (s % 97 == 0) {
            int64_t f[GBP_RKEY_FIELDS];
            random_fields(f, values);
            check_gather(x, f, seed);
            gbp_rindex_settle(x);
            cr_assert_eq(x->nbuckets, live_keys(), "seed %llu step %d: %u buckets, %u keys in use",
                         (unsigned long long)seed, s, x->nbuckets, live_keys());
        }
    }
}

static void remove_all(gbp_rindex *x)
{
    for (uint32_t i = 0; i < NRUN; i++)
        if (runs[i].live) {
            gbp_rindex_remove(x, &runs[i].key, &runs[i]);
            runs[i].live = 0;
        }
}

Test(run_index, gather_matches_a_brute_force_scan_under_churn)
{
    uint64_t seed = test_seed("churn");
    gbp_rindex x = {0};
    memset(runs, 0, sizeof runs);
    churn(&x, seed, 40, 60000); /* few values: many runs per key */
    churn(&x, seed, 5000, 60000); /* many values: many keys, long probe clusters */
    remove_all(&x);
    gbp_rindex_clear(&x);
}

Test(run_index, a_bucket_goes_when_its_last_run_leaves)
{
    uint64_t seed = test_seed("empty");
    gbp_rindex x = {0};
    memset(runs, 0, sizeof runs);
    churn(&x, seed, 100000, 20000);
    uint32_t size = x.tabsize;
    remove_all(&x);
    gbp_rindex_settle(&x);
    cr_assert_eq(x.nbuckets, 0);
    for (uint32_t i = 0; i < x.tabsize; i++)
        cr_assert_eq(x.tags[i], 0, "slot %u still tagged with no run left", i);
    cr_assert_eq(x.tabsize, size, "the table does not shrink (no rebuild pause)");
    gbp_rindex_clear(&x);
}

Test(run_index, one_key_emptied_and_refilled_keeps_one_bucket)
{
    gbp_rindex x = {0};
    int64_t f[GBP_RKEY_FIELDS] = {0, 0, 0, 7, 9};
    gbp_rkey k;
    gbp_rkey_make(&k, 1u << 3, f);
    static char run[1];
    for (uint64_t i = 0; i < 100000; i++) {
        cr_assert_eq(gbp_rindex_insert(&x, &k, run, i), 0);
        cr_assert_eq(x.nbuckets, 1);
        gbp_rindex_remove(&x, &k, run);
        gbp_rindex_settle(&x);
        cr_assert_eq(x.nbuckets, 0);
    }
    cr_assert_eq(x.tabsize, 64, "churn on one key never grows the table");
    const gbp_rlist *l = gbp_rindex_gather(&x, f);
    cr_assert(l && l->n == 0);
    gbp_rindex_clear(&x);
}

Test(run_index, a_key_emptied_and_refilled_before_settling_keeps_its_slot)
{
    gbp_rindex x = {0};
    int64_t f[GBP_RKEY_FIELDS] = {0, 0, 0, 7, 9};
    gbp_rkey k;
    gbp_rkey_make(&k, 1u << 3, f);
    static char a[1], b[1];
    cr_assert_eq(gbp_rindex_insert(&x, &k, a, 1), 0);
    gbp_rindex_remove(&x, &k, a); /* a run killed... */
    const gbp_rlist *l = gbp_rindex_gather(&x, f);
    cr_assert(l && l->n == 0, "an emptied bucket lists nothing");
    cr_assert_eq(gbp_rindex_insert(&x, &k, b, 2), 0); /* ...and replaced by the same event */
    gbp_rindex_settle(&x);
    cr_assert_eq(x.nbuckets, 1);
    l = gbp_rindex_gather(&x, f);
    cr_assert(l && l->n == 1 && l->v[0].run == b);
    gbp_rindex_remove(&x, &k, b);
    gbp_rindex_settle(&x);
    cr_assert_eq(x.nbuckets, 0);
    gbp_rindex_clear(&x);
}

/* Fill key k with n runs (seq 0..n-1) of the array a, then empty it and settle. */
static void fill_and_empty(gbp_rindex *x, const gbp_rkey *k, char *a, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        cr_assert_eq(gbp_rindex_insert(x, k, &a[i], i), 0);
    for (uint32_t i = 0; i < n; i++)
        gbp_rindex_remove(x, k, &a[i]);
    gbp_rindex_settle(x);
}

Test(run_index, a_spilled_array_goes_to_the_pool_and_is_reused)
{
    gbp_rindex x = {0};
    int64_t f[GBP_RKEY_FIELDS] = {0, 0, 0, 7, 9};
    gbp_rkey k;
    gbp_rkey_make(&k, 1u << 3, f);
    static char a[GBP_RBUCKET_SPILL * 2];
    uint32_t c[GBP_RPOOL_CLASSES];
    fill_and_empty(&x, &k, a, GBP_RBUCKET_SPILL * 2); /* spills to 4, grows to 8 */
    gbp_rindex_pool_counts(&x, c);
    cr_assert_eq(c[0], 1, "the outgrown array of the first class is kept");
    cr_assert_eq(c[1], 1, "the array of the emptied bucket is kept");
    fill_and_empty(&x, &k, a, GBP_RBUCKET_SPILL * 2);
    gbp_rindex_pool_counts(&x, c);
    cr_assert(c[0] == 1 && c[1] == 1, "refilling takes the kept arrays, emptying gives them back");
    gbp_rindex_clear(&x);
    gbp_rindex_pool_counts(&x, c);
    cr_assert_eq(c[0] + c[1], 0, "clear frees the pool");
}

Test(run_index, a_spilled_bucket_keeps_its_runs_in_order_across_growth)
{
    gbp_rindex x = {0};
    int64_t f[GBP_RKEY_FIELDS] = {0, 0, 0, 7, 9};
    gbp_rkey k;
    gbp_rkey_make(&k, 1u << 3, f);
    static char a[100];
    for (uint32_t i = 0; i < 100; i++) /* every other run first, then the rest: out of order */
        cr_assert_eq(gbp_rindex_insert(&x, &k, &a[(i * 2) % 100 + (i >= 50)], (i * 2) % 100 + (i >= 50)), 0);
    const gbp_rlist *l = gbp_rindex_gather(&x, f);
    cr_assert(l && l->n == 100);
    for (uint32_t i = 0; i < 100; i++)
        cr_assert(l->v[i].seq == i && l->v[i].run == &a[i], "entry %u out of order", i);
    gbp_rindex_reset(&x, UINT64_MAX);
    uint32_t c[GBP_RPOOL_CLASSES];
    gbp_rindex_pool_counts(&x, c);
    cr_assert_eq(c[0] + c[1] + c[2] + c[3], 4, "growth keeps the outgrown arrays of 4..32 entries; 64 and 128 are freed");
    gbp_rindex_clear(&x);
}

Test(run_index, the_pool_keeps_at_most_its_bound_per_class)
{
    gbp_rindex x = {0};
    static char a[2];
    uint32_t nkeys = GBP_RPOOL_MAX + 100;
    for (uint32_t i = 0; i < nkeys; i++) { /* two runs a key: each spills once */
        int64_t f[GBP_RKEY_FIELDS] = {0, 0, 0, 0, (int64_t)i};
        gbp_rkey k;
        gbp_rkey_make(&k, 1u << 4, f);
        cr_assert_eq(gbp_rindex_insert(&x, &k, &a[0], 2 * (uint64_t)i), 0);
        cr_assert_eq(gbp_rindex_insert(&x, &k, &a[1], 2 * (uint64_t)i + 1), 0);
    }
    uint32_t c[GBP_RPOOL_CLASSES];
    gbp_rindex_pool_counts(&x, c);
    cr_assert_eq(c[0], 0, "arrays in use are not in the pool");
    cr_assert_eq(gbp_rindex_reset(&x, UINT64_MAX), 1);
    gbp_rindex_pool_counts(&x, c);
    cr_assert_eq(c[0], GBP_RPOOL_MAX, "past the bound, freed arrays go back to the allocator");
    gbp_rindex_clear(&x);
}
