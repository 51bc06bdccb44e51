/*
 * Random pattern files and event streams for property tests (see
 * pattern_random.h).
 */
#include "support/pattern_random.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <time.h>

const char *const gbt_type_names[GBT_NTYPES] = {"t", "u", "v", "x"};

uint64_t gbt_seed(void)
{
    const char *env = getenv("GB_TEST_SEED");
    return env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL);
}

void gbt_rng_seed(gbt_rng *r, uint64_t seed)
{
    r->s = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
    if (!r->s)
        r->s = 1;
}

uint32_t gbt_rnd(gbt_rng *r, uint32_t n)
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return n ? (uint32_t)(r->s % n) : 0;
}

typedef struct sbuf {
    char *s;
    size_t len, cap;
} sbuf;

static void put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(sbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (b->len + (size_t)n + 1 > b->cap) {
        b->cap = (b->len + (size_t)n + 1) * 2;
        b->s = realloc(b->s, b->cap);
        if (!b->s)
            abort(); /* test support: no memory is fatal */
    }
    memcpy(b->s + b->len, tmp, (size_t)n + 1);
    b->len += (size_t)n;
}

static const char *const int_fields[] = {"source", "target", "id", "ts"};
static const char *const dbl_fields[] = {"value", "a0", "a1"};

/* A reference to an earlier variable (0..nvars-1) or the current event. */
static void var_name(char *out, size_t cap, int v)
{
    snprintf(out, cap, v ? "s%d" : "a", v);
}

/* One conjunct of a `where` for step i (i earlier variables bound). */
static void conjunct(gbt_rng *r, sbuf *b, int i)
{
    char v[8];
    var_name(v, sizeof v, i ? (int)gbt_rnd(r, (uint32_t)i) : 0);
    uint32_t k = gbt_rnd(r, i ? 11 : 4);
    switch (k) {
    case 0: put(b, "value > %u", gbt_rnd(r, 10)); break;
    case 1: put(b, "a0 * 2 <= value + %u.5", gbt_rnd(r, 8)); break;
    case 2: put(b, "source != %u", gbt_rnd(r, 4)); break;
    case 3: put(b, "not (target == %u or value < %u)", gbt_rnd(r, 4), gbt_rnd(r, 3)); break;
    case 4: put(b, "source == %s.target", v); break;
    case 5: put(b, "source == %s.source", v); break;
    case 6: put(b, "value >= %s.value / 2", v); break;
    case 7: put(b, "ts - %s.ts >= %u", v, gbt_rnd(r, 4)); break;
    /* a second key field beside `source` (two-field keys, run_index.h and the device's key2) */
    case 9: put(b, "target == %s.source", v); break;
    case 10: put(b, "target == %s.target", v); break;
    default: put(b, "count(%s) + %u > %s.%s - %s", v, gbt_rnd(r, 3), v, int_fields[gbt_rnd(r, 2)], int_fields[gbt_rnd(r, 2)]);
        break;
    }
}

/* keyed 1: every step after the first and every negation gets a top-level
 * `source == v.f` conjunct, so the pattern is partitioned (matcher.c);
 * keyed 2 or 3: always `source == a.target` (2) or `source == a.source`
 * (3), so the runs keep one key for life (the device matcher shards those). */
static void where(gbt_rng *r, sbuf *b, int i, int keyed)
{
    if (keyed && i > 0) {
        char v[8];
        var_name(v, sizeof v, keyed == 1 ? (int)gbt_rnd(r, (uint32_t)i) : 0);
        put(b, " where source == %s.%s", v, keyed == 3 || (keyed == 1 && gbt_rnd(r, 2)) ? "source" : "target");
        if (gbt_rnd(r, 2)) {
            put(b, " and ");
            conjunct(r, b, i);
        }
        return;
    }
    if (gbt_rnd(r, 4) == 0)
        return;
    put(b, " where ");
    conjunct(r, b, i);
    if (gbt_rnd(r, 3) == 0) {
        put(b, gbt_rnd(r, 3) ? " and " : " or ");
        conjunct(r, b, i);
    }
}

static void quant(gbt_rng *r, sbuf *b)
{
    uint32_t n = 1 + gbt_rnd(r, 3);
    switch (gbt_rnd(r, 7)) {
    case 0: put(b, " {%u}", n); break;
    case 1: put(b, " {%u,%u}", n, n + gbt_rnd(r, 3)); break;
    case 2: put(b, " {%u,}", n); break;
    case 3: put(b, " +"); break;
    default: break;
    }
}

static void emit(gbt_rng *r, sbuf *b, int nsteps)
{
    static const char *const aggs[] = {"sum", "min", "max", "first", "last", "avg"};
    int nf = (int)gbt_rnd(r, 4);
    for (int f = 0; f < nf; f++) {
        char v[8];
        var_name(v, sizeof v, (int)gbt_rnd(r, (uint32_t)nsteps));
        put(b, f ? ", " : "  emit ");
        switch (gbt_rnd(r, 4)) {
        case 0: put(b, "f%d = %s.%s", f, v, int_fields[gbt_rnd(r, 4)]); break;
        case 1: put(b, "f%d = count(%s)", f, v); break;
        case 2: put(b, "f%d = %s(%s.%s)", f, aggs[gbt_rnd(r, 6)], v, gbt_rnd(r, 2) ? "value" : "source"); break;
        default: put(b, "f%d = %s.value / (a.value - 3) + %s.%s", f, v, v, dbl_fields[gbt_rnd(r, 3)]); break;
        }
    }
    if (nf)
        put(b, "\n");
}

static void one_pattern(gbt_rng *r, sbuf *b, int idx)
{
    static const char *const sev[] = {"low", "medium", "high", "critical"};
    int nsteps = 1 + (int)gbt_rnd(r, 4), keyed = (int)gbt_rnd(r, 5);
    keyed = keyed > 3 ? 0 : keyed;
    put(b, "pattern p%d severity %s within %uns%s\n", idx, sev[gbt_rnd(r, 4)], 1 + gbt_rnd(r, 40),
        gbt_rnd(r, keyed >= 2 ? 8 : 3) == 0 ? " skip past_last" : "");
    for (int i = 0; i < nsteps; i++) {
        char v[8];
        var_name(v, sizeof v, i);
        put(b, "  %s: %s", v, gbt_type_names[gbt_rnd(r, GBT_NTYPES)]);
        if (i > 0 || keyed < 2 || gbt_rnd(r, 8) == 0)
            quant(r, b);
        where(r, b, i, keyed);
        put(b, "\n");
        if (gbt_rnd(r, 4) == 0) {
            put(b, "  not %s", gbt_type_names[gbt_rnd(r, GBT_NTYPES)]);
            where(r, b, i + 1, keyed);
            put(b, "\n");
        }
    }
    emit(r, b, nsteps);
    put(b, "end\n");
}

char *gbt_random_patterns(gbt_rng *r, int npat)
{
    sbuf b = {0};
    for (int i = 0; i < npat; i++)
        one_pattern(r, &b, i);
    return b.s;
}

gb_event *gbt_random_stream(gbt_rng *r, gb_type_table *types, size_t n, int64_t maxgap, uint32_t naccounts)
{
    uint32_t ids[GBT_NTYPES];
    for (int i = 0; i < GBT_NTYPES; i++)
        if (gb_type_intern(types, gbt_type_names[i], &ids[i]) != GB_OK)
            return NULL;
    gb_event *ev = calloc(n ? n : 1, sizeof *ev);
    int64_t ts = 1000;
    for (size_t i = 0; ev && i < n; i++) {
        ts += gbt_rnd(r, (uint32_t)maxgap + 1);
        ev[i] = (gb_event){.id = i + 1, .type = ids[gbt_rnd(r, GBT_NTYPES)], .ts_ns = ts,
                           .source = gbt_rnd(r, naccounts), .target = gbt_rnd(r, naccounts),
                           .value = (double)gbt_rnd(r, 12) + (gbt_rnd(r, 2) ? 0.5 : 0.0),
                           .a = {(double)gbt_rnd(r, 6), (double)gbt_rnd(r, 3) - 1.0, 0.25, 0.0}};
    }
    return ev;
}
