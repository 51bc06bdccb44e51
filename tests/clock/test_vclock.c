/* Vector clocks: basic operations, merge laws and compare against a dense
 * reference by random property tests, the binary encoding and a decoder fuzz. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "clock/prop.h"
#include "gpubridge/clock.h"

#define MAX_NODE 24 /* random clocks use nodes 0..MAX_NODE-1 (dense reference) */

static gb_vclock *vc_new(void)
{
    gb_vclock *vc = NULL;
    cr_assert_eq(gb_vclock_create(&vc), GB_OK);
    return vc;
}

/* A random clock over a random subset of nodes; dense[] gets the same. */
static gb_vclock *vc_random(prop_rng *r, uint64_t dense[MAX_NODE])
{
    gb_vclock *vc = vc_new();
    memset(dense, 0, MAX_NODE * sizeof *dense);
    int ticks = (int)prop_below(r, 40);
    for (int i = 0; i < ticks; i++) {
        uint32_t node = (uint32_t)prop_below(r, MAX_NODE);
        cr_assert_eq(gb_vclock_increment(vc, node), GB_OK);
        dense[node]++;
    }
    return vc;
}

static gb_vclock *vc_clone(const gb_vclock *src)
{
    gb_vclock *vc = vc_new();
    cr_assert_eq(gb_vclock_copy(vc, src), GB_OK);
    return vc;
}

static gb_vc_order dense_compare(const uint64_t *a, const uint64_t *b)
{
    int a_ahead = 0, b_ahead = 0;
    for (int i = 0; i < MAX_NODE; i++) {
        a_ahead |= a[i] > b[i];
        b_ahead |= a[i] < b[i];
    }
    if (a_ahead && b_ahead)
        return GB_VC_CONCURRENT;
    return a_ahead ? GB_VC_AFTER : b_ahead ? GB_VC_BEFORE : GB_VC_EQUAL;
}

static void assert_matches_dense(const gb_vclock *vc, const uint64_t *dense, uint64_t seed)
{
    size_t nonzero = 0;
    for (uint32_t i = 0; i < MAX_NODE; i++) {
        cr_assert_eq(gb_vclock_get(vc, i), dense[i], "seed %llu node %u", (unsigned long long)seed, i);
        nonzero += dense[i] != 0;
    }
    cr_assert_eq(gb_vclock_size(vc), nonzero, "seed %llu", (unsigned long long)seed);
}

/* ---- basics -------------------------------------------------------------- */

Test(vclock, new_clock_is_empty_and_equal_to_empty)
{
    gb_vclock *a = vc_new(), *b = vc_new();
    cr_assert_eq(gb_vclock_size(a), 0);
    cr_assert_eq(gb_vclock_get(a, 3), 0);
    cr_assert_eq(gb_vclock_compare(a, b), GB_VC_EQUAL);
    cr_assert_eq(gb_vclock_compare(a, NULL), GB_VC_EQUAL, "NULL reads as empty");
    gb_vclock_destroy(a);
    gb_vclock_destroy(b);
    gb_vclock_destroy(NULL);
}

Test(vclock, null_arguments_are_rejected)
{
    gb_vclock *a = vc_new();
    cr_assert_eq(gb_vclock_create(NULL), GB_EINVAL);
    cr_assert_eq(gb_vclock_increment(NULL, 1), GB_EINVAL);
    cr_assert_eq(gb_vclock_merge(a, NULL), GB_EINVAL);
    cr_assert_eq(gb_vclock_merge(NULL, a), GB_EINVAL);
    cr_assert_eq(gb_vclock_copy(NULL, a), GB_EINVAL);
    cr_assert_eq(gb_vclock_decode(NULL, (const uint8_t *)"\0\0\0\0", 4), GB_EINVAL);
    cr_assert_eq(gb_vclock_decode(a, NULL, 4), GB_EINVAL);
    gb_vclock_destroy(a);
}

Test(vclock, increment_keeps_entries_sorted_past_inline_capacity)
{
    gb_vclock *vc = vc_new();
    for (uint32_t i = 0; i < 100; i++)
        cr_assert_eq(gb_vclock_increment(vc, (i * 37u) % 101u + 1000u), GB_OK);
    cr_assert_eq(gb_vclock_size(vc), 100);
    uint32_t prev = 0, node;
    uint64_t counter;
    for (size_t i = 0; i < 100; i++) {
        cr_assert_eq(gb_vclock_entry(vc, i, &node, &counter), GB_OK);
        cr_assert_gt(node, prev);
        cr_assert_eq(counter, 1);
        prev = node;
    }
    cr_assert_eq(gb_vclock_entry(vc, 100, &node, &counter), GB_ERANGE);
    gb_vclock_destroy(vc);
}

Test(vclock, increment_makes_clock_after_its_past)
{
    gb_vclock *a = vc_new();
    cr_assert_eq(gb_vclock_increment(a, 4), GB_OK);
    gb_vclock *past = vc_clone(a);
    cr_assert_eq(gb_vclock_increment(a, 4), GB_OK);
    cr_assert_eq(gb_vclock_get(a, 4), 2);
    cr_assert_eq(gb_vclock_compare(a, past), GB_VC_AFTER);
    cr_assert_eq(gb_vclock_compare(past, a), GB_VC_BEFORE);
    gb_vclock_destroy(a);
    gb_vclock_destroy(past);
}

Test(vclock, increment_at_max_counter_gives_erange_and_keeps_clock)
{
    uint8_t enc[16] = {1, 0, 0, 0, 9, 0, 0, 0};
    memset(enc + 8, 0xFF, 8); /* node 9 at UINT64_MAX */
    gb_vclock *vc = vc_new();
    cr_assert_eq(gb_vclock_decode(vc, enc, sizeof enc), GB_OK);
    cr_assert_eq(gb_vclock_increment(vc, 9), GB_ERANGE);
    cr_assert_eq(gb_vclock_get(vc, 9), UINT64_MAX);
    cr_assert_eq(gb_vclock_increment(vc, 10), GB_OK, "other nodes still count");
    gb_vclock_destroy(vc);
}

Test(vclock, merge_with_itself_is_a_no_op)
{
    gb_vclock *a = vc_new();
    gb_vclock_increment(a, 1);
    cr_assert_eq(gb_vclock_merge(a, a), GB_OK);
    cr_assert_eq(gb_vclock_get(a, 1), 1);
    cr_assert_eq(gb_vclock_copy(a, a), GB_OK);
    gb_vclock_destroy(a);
}

/* ---- laws by random property tests ---------------------------------------- */

#define ROUNDS 2000

Test(vclock, merge_is_pointwise_max_commutative_and_idempotent_property)
{
    uint64_t seed = prop_seed("vclock.merge_commutative_idempotent");
    prop_rng r = {seed};
    for (int round = 0; round < ROUNDS; round++) {
        uint64_t da[MAX_NODE], db[MAX_NODE], dm[MAX_NODE];
        gb_vclock *a = vc_random(&r, da), *b = vc_random(&r, db);
        gb_vclock *ab = vc_clone(a), *ba = vc_clone(b);
        cr_assert_eq(gb_vclock_merge(ab, b), GB_OK);
        cr_assert_eq(gb_vclock_merge(ba, a), GB_OK);
        for (int i = 0; i < MAX_NODE; i++)
            dm[i] = da[i] > db[i] ? da[i] : db[i];
        assert_matches_dense(ab, dm, seed);
        cr_assert_eq(gb_vclock_compare(ab, ba), GB_VC_EQUAL, "seed %llu", (unsigned long long)seed);
        cr_assert_eq(gb_vclock_merge(ab, b), GB_OK);
        cr_assert_eq(gb_vclock_compare(ab, ba), GB_VC_EQUAL, "idempotent, seed %llu",
                     (unsigned long long)seed);
        gb_vc_order o = gb_vclock_compare(ab, a);
        cr_assert(o == GB_VC_AFTER || o == GB_VC_EQUAL, "merge is an upper bound, seed %llu",
                  (unsigned long long)seed);
        gb_vclock_destroy(a);
        gb_vclock_destroy(b);
        gb_vclock_destroy(ab);
        gb_vclock_destroy(ba);
    }
}

#define BIG_NODES 200

/* Clocks large enough for every merge strategy (inline, stack buffer,
 * in-place from the back) against a dense reference. */
Test(vclock, merge_of_large_clocks_matches_reference_property)
{
    uint64_t seed = prop_seed("vclock.merge_large");
    prop_rng r = {seed};
    static uint64_t da[BIG_NODES], db[BIG_NODES];
    for (int round = 0; round < 300; round++) {
        gb_vclock *a = vc_new(), *b = vc_new();
        memset(da, 0, sizeof da);
        memset(db, 0, sizeof db);
        uint64_t na = prop_below(&r, 150), nb = prop_below(&r, 150);
        for (uint64_t k = 0; k < na; k++) {
            uint32_t node = (uint32_t)prop_below(&r, BIG_NODES);
            gb_vclock_increment(a, node);
            da[node]++;
        }
        for (uint64_t k = 0; k < nb; k++) {
            uint32_t node = (uint32_t)prop_below(&r, BIG_NODES);
            gb_vclock_increment(b, node);
            db[node]++;
        }
        cr_assert_eq(gb_vclock_merge(a, b), GB_OK);
        size_t nonzero = 0;
        for (uint32_t i = 0; i < BIG_NODES; i++) {
            uint64_t want = da[i] > db[i] ? da[i] : db[i];
            cr_assert_eq(gb_vclock_get(a, i), want, "seed %llu round %d node %u",
                         (unsigned long long)seed, round, i);
            nonzero += want != 0;
        }
        cr_assert_eq(gb_vclock_size(a), nonzero, "seed %llu", (unsigned long long)seed);
        gb_vclock_destroy(a);
        gb_vclock_destroy(b);
    }
}

Test(vclock, merge_is_associative_property)
{
    uint64_t seed = prop_seed("vclock.merge_associative");
    prop_rng r = {seed};
    for (int round = 0; round < ROUNDS; round++) {
        uint64_t d[3][MAX_NODE];
        gb_vclock *a = vc_random(&r, d[0]), *b = vc_random(&r, d[1]), *c = vc_random(&r, d[2]);
        gb_vclock *left = vc_clone(a), *bc = vc_clone(b), *right = vc_clone(a);
        cr_assert_eq(gb_vclock_merge(left, b), GB_OK); /* (a ∪ b) ∪ c */
        cr_assert_eq(gb_vclock_merge(left, c), GB_OK);
        cr_assert_eq(gb_vclock_merge(bc, c), GB_OK); /* a ∪ (b ∪ c) */
        cr_assert_eq(gb_vclock_merge(right, bc), GB_OK);
        cr_assert_eq(gb_vclock_compare(left, right), GB_VC_EQUAL, "seed %llu",
                     (unsigned long long)seed);
        gb_vclock *all[] = {a, b, c, left, bc, right};
        for (size_t i = 0; i < 6; i++)
            gb_vclock_destroy(all[i]);
    }
}

Test(vclock, compare_agrees_with_dense_definition_property)
{
    uint64_t seed = prop_seed("vclock.compare_dense");
    prop_rng r = {seed};
    int seen[4] = {0};
    for (int round = 0; round < ROUNDS * 2; round++) {
        uint64_t da[MAX_NODE], db[MAX_NODE];
        gb_vclock *a = vc_random(&r, da), *b;
        if (prop_below(&r, 3) == 0) { /* a successor or a copy, to hit BEFORE/EQUAL often */
            b = vc_clone(a);
            memcpy(db, da, sizeof db);
            for (uint64_t k = prop_below(&r, 3); k > 0; k--) {
                uint32_t node = (uint32_t)prop_below(&r, MAX_NODE);
                gb_vclock_increment(b, node);
                db[node]++;
            }
        } else {
            b = vc_random(&r, db);
        }
        gb_vc_order want = dense_compare(da, db);
        cr_assert_eq(gb_vclock_compare(a, b), want, "seed %llu round %d", (unsigned long long)seed,
                     round);
        seen[want]++;
        gb_vclock_destroy(a);
        gb_vclock_destroy(b);
    }
    for (int o = 0; o < 4; o++)
        cr_assert_gt(seen[o], 0, "order %d never generated", o);
}

Test(vclock, increment_makes_after_property)
{
    uint64_t seed = prop_seed("vclock.increment_after");
    prop_rng r = {seed};
    for (int round = 0; round < ROUNDS; round++) {
        uint64_t d[MAX_NODE];
        gb_vclock *a = vc_random(&r, d);
        gb_vclock *b = vc_clone(a);
        cr_assert_eq(gb_vclock_increment(b, (uint32_t)prop_next(&r)), GB_OK);
        cr_assert_eq(gb_vclock_compare(b, a), GB_VC_AFTER, "seed %llu", (unsigned long long)seed);
        cr_assert_eq(gb_vclock_compare(a, b), GB_VC_BEFORE, "seed %llu", (unsigned long long)seed);
        gb_vclock_destroy(a);
        gb_vclock_destroy(b);
    }
}

/* ---- encoding -------------------------------------------------------------- */

Test(vclock, encoding_is_little_endian_count_then_sorted_entries)
{
    gb_vclock *vc = vc_new();
    gb_vclock_increment(vc, 0x0302);
    gb_vclock_increment(vc, 0x01);
    gb_vclock_increment(vc, 0x01);
    uint8_t buf[28];
    cr_assert_eq(gb_vclock_encode(vc, NULL, 0), 28);
    cr_assert_eq(gb_vclock_encode(vc, buf, 10), 28, "too small: size only");
    cr_assert_eq(gb_vclock_encode(vc, buf, sizeof buf), 28);
    const uint8_t want[28] = {2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0,
                              2, 3, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0};
    cr_assert_arr_eq(buf, want, sizeof want);
    cr_assert_eq(gb_vclock_encode(NULL, NULL, 0), 4, "NULL encodes as empty");
    gb_vclock_destroy(vc);
}

Test(vclock, encode_decode_round_trip_property)
{
    uint64_t seed = prop_seed("vclock.round_trip");
    prop_rng r = {seed};
    for (int round = 0; round < ROUNDS; round++) {
        gb_vclock *a = vc_new();
        for (uint64_t k = prop_below(&r, 30); k > 0; k--) /* sparse 32-bit nodes */
            gb_vclock_increment(a, (uint32_t)prop_next(&r));
        size_t n = gb_vclock_encode(a, NULL, 0);
        uint8_t *buf = malloc(n);
        cr_assert_eq(gb_vclock_encode(a, buf, n), n);
        gb_vclock *b = vc_new();
        gb_vclock_increment(b, 5); /* decode replaces the contents */
        cr_assert_eq(gb_vclock_decode(b, buf, n), GB_OK, "seed %llu", (unsigned long long)seed);
        cr_assert_eq(gb_vclock_compare(a, b), GB_VC_EQUAL, "seed %llu", (unsigned long long)seed);
        cr_assert_eq(gb_vclock_size(a), gb_vclock_size(b));
        free(buf);
        gb_vclock_destroy(a);
        gb_vclock_destroy(b);
    }
}

/* Decode must fail with GB_EINVAL and leave the clock as it was. */
static void assert_decode_rejects(const uint8_t *buf, size_t len, const char *why)
{
    gb_vclock *vc = vc_new();
    gb_vclock_increment(vc, 77);
    cr_assert_eq(gb_vclock_decode(vc, buf, len), GB_EINVAL, "%s", why);
    cr_assert_eq(gb_vclock_size(vc), 1, "%s: clock changed", why);
    cr_assert_eq(gb_vclock_get(vc, 77), 1, "%s: clock changed", why);
    gb_vclock_destroy(vc);
}

Test(vclock, decode_rejects_malformed_input)
{
    /* two entries: node 1 -> 5, node 2 -> 6 */
    uint8_t ok[28] = {2, 0, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0,
                      2, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0};
    gb_vclock *vc = vc_new();
    cr_assert_eq(gb_vclock_decode(vc, ok, sizeof ok), GB_OK);
    cr_assert_eq(gb_vclock_get(vc, 2), 6);
    gb_vclock_destroy(vc);

    assert_decode_rejects(ok, 0, "empty");
    assert_decode_rejects(ok, 3, "short header");
    assert_decode_rejects(ok, 27, "truncated entry");
    assert_decode_rejects(ok, 16, "missing entry");
    uint8_t trailing[29];
    memcpy(trailing, ok, 28);
    assert_decode_rejects(trailing, 29, "trailing byte");
    uint8_t unsorted[28];
    memcpy(unsorted, ok, 28);
    unsorted[4] = 3;
    assert_decode_rejects(unsorted, 28, "unsorted");
    uint8_t dup[28];
    memcpy(dup, ok, 28);
    dup[16] = 1;
    assert_decode_rejects(dup, 28, "duplicate");
    uint8_t zero[28];
    memcpy(zero, ok, 28);
    zero[20] = 0;
    assert_decode_rejects(zero, 28, "zero counter");
    uint8_t huge[4] = {0xFF, 0xFF, 0xFF, 0xFF};
    assert_decode_rejects(huge, 4, "count beyond the buffer");
}

Test(vclock, decode_of_random_bytes_never_crashes_fuzz)
{
    uint64_t seed = prop_seed("vclock.decode_fuzz");
    prop_rng r = {seed};
    uint8_t buf[64];
    int accepted = 0;
    gb_vclock *vc = vc_new();
    for (int round = 0; round < 200000; round++) {
        size_t len = (size_t)prop_below(&r, sizeof buf + 1);
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)prop_next(&r);
        if (len >= 4 && prop_below(&r, 2)) { /* make the count plausible half the time */
            uint32_t n = (uint32_t)((len - 4) / 12 + prop_below(&r, 2));
            memcpy(buf, &(uint8_t[4]){(uint8_t)n, 0, 0, 0}, 4);
        }
        size_t before = gb_vclock_size(vc);
        gb_status st = gb_vclock_decode(vc, buf, len);
        cr_assert(st == GB_OK || st == GB_EINVAL, "seed %llu", (unsigned long long)seed);
        if (st != GB_OK) {
            cr_assert_eq(gb_vclock_size(vc), before, "seed %llu", (unsigned long long)seed);
            continue;
        }
        accepted++;
        uint8_t again[64];
        cr_assert_eq(gb_vclock_encode(vc, again, sizeof again), len, "seed %llu",
                     (unsigned long long)seed);
        cr_assert_arr_eq(again, buf, len, "accepted input re-encodes to itself");
    }
    fprintf(stderr, "decode fuzz: %d of 200000 random inputs were valid\n", accepted);
    cr_assert_gt(accepted, 0, "the fuzz also reached valid encodings");
    gb_vclock_destroy(vc);
}
