/* Property test: mutated pattern files never crash the compiler or the
 * matcher. Each either compiles (and then runs a small stream) or fails with
 * GB_EPARSE and a "LINE:COL: " position inside the text. The seed is
 * printed; set GB_SEED to replay. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <time.h>

#include "pattern_test_util.h"

static uint64_t rng;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static const char *const pieces[] = {" ", "\n", "a", "b.", ".", ":", ",", "(", ")", "{", "}", "{2,}", "+", "-",
                                     "*", "/", "==", "<", "=", "\"", "\"x\"", "#", "9", "1.5", "5s", "not ",
                                     "and ", "or ", "where ", "end", "emit ", "count(b)", "sum(a.value)",
                                     "pattern ", "within ", "skip past_last ", "severity low ", "\x01", "9999999999999999999999"};

static char *mutate(const char *src, size_t *len)
{
    size_t n = strlen(src), cap = n + 512;
    char *s = malloc(cap);
    memcpy(s, src, n + 1);
    for (uint32_t k = 1 + rnd(4); k > 0; k--) {
        size_t at = n ? rnd((uint32_t)n) : 0;
        uint32_t what = rnd(3);
        if (what == 0 && n > 0) { /* delete a short span */
            size_t del = 1 + rnd(8);
            if (at + del > n)
                del = n - at;
            memmove(s + at, s + at + del, n - at - del + 1);
            n -= del;
        } else { /* insert (or overwrite with) a piece */
            const char *p = pieces[rnd(sizeof pieces / sizeof pieces[0])];
            size_t pl = strlen(p);
            if (n + pl + 1 > cap)
                continue;
            memmove(s + at + pl, s + at, n - at + 1);
            memcpy(s + at, p, pl);
            n += pl;
        }
    }
    *len = n;
    return s;
}

static void run_small_stream(gb_pattern_set *set)
{
    gb_matcher *m;
    cr_assert_eq(gb_matcher_create(&m, set, NULL), GB_OK);
    static const char *const types[] = {"transfer", "t", "x"};
    for (int i = 0; i < 60; i++) {
        gb_event e = {.id = (uint64_t)i, .ts_ns = i * 200000000LL, .source = rnd(3), .target = rnd(3),
                      .value = rnd(20000)};
        cr_assert_eq(gb_type_intern(gb_pattern_set_types(set), types[rnd(3)], &e.type), GB_OK);
        cr_assert_eq(gb_matcher_push(m, &e), GB_OK);
    }
    cr_assert_eq(gb_matcher_flush(m), GB_OK);
    gb_matcher_destroy(m);
}

static void check_position(const char *text, size_t len, const char *err)
{
    int line = 0, col = 0, used = 0;
    cr_assert_eq(sscanf(err, "%d:%d: %n", &line, &col, &used), 2, "bad error '%s'", err);
    cr_assert_gt(used, 0, "bad error '%s'", err);
    int lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    cr_assert(line >= 1 && line <= lines && col >= 1, "position %d:%d outside the text (%d lines): %s", line, col,
              lines, err);
}

Test(parser_fuzz, mutated_files_compile_or_fail_with_a_position)
{
    FILE *f = fopen(GB_SOURCE_DIR "/patterns/fraud.gbp", "r");
    cr_assert_not_null(f);
    static char base[16384];
    base[fread(base, 1, sizeof base - 1, f)] = '\0';
    fclose(f);
    uint64_t seed = getenv("GB_SEED") ? strtoull(getenv("GB_SEED"), NULL, 10) : (uint64_t)time(NULL);
    printf("parser_fuzz seed %llu (GB_SEED=%llu to replay)\n", (unsigned long long)seed, (unsigned long long)seed);
    fflush(stdout);
    rng = seed * 0x9E3779B97F4A7C15ull + 1;
    int compiled = 0;
    for (int round = 0; round < 1500; round++) {
        size_t len;
        char *text = mutate(base, &len);
        gb_pattern_set *set = NULL;
        gb_status st = gb_pattern_compile(&set, NULL, text, len);
        cr_assert(st == GB_OK || st == GB_EPARSE, "round %d: status %d", round, st);
        if (st == GB_OK) {
            compiled++;
            run_small_stream(set);
            gb_pattern_set_destroy(set);
        } else {
            check_position(text, len, gb_last_error());
        }
        free(text);
    }
    printf("parser_fuzz: %d of 1500 mutants compiled\n", compiled);
}
