/*
 * Helpers shared by the pattern tests: compile a source, push a compact
 * stream of events and render the matches as one line each, so a test can
 * compare a whole outcome with one string:
 *   "name@ts a=1 b=2,3 | f=5 g=0.5\n"
 */
#ifndef GB_TEST_PATTERN_UTIL_H
#define GB_TEST_PATTERN_UTIL_H

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpubridge/pattern.h"

typedef struct tev {
    uint64_t id;
    const char *type;
    int64_t ts;
    uint64_t source, target;
    double value;
} tev;

typedef struct tbuf {
    char *s;
    size_t len, cap;
} tbuf;

static inline void tbuf_put(tbuf *b, const char *s)
{
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->s = realloc(b->s, b->cap);
        cr_assert(b->s);
    }
    memcpy(b->s + b->len, s, n + 1);
    b->len += n;
}

static inline void tbuf_match(tbuf *b, const gb_match *mt)
{
    char tmp[128];
    snprintf(tmp, sizeof tmp, "%s@%" PRId64, mt->pattern, mt->ts);
    tbuf_put(b, tmp);
    for (uint32_t v = 0; v < mt->nvars; v++) {
        snprintf(tmp, sizeof tmp, " %s=", mt->vars[v].name);
        tbuf_put(b, tmp);
        for (uint32_t i = 0; i < mt->vars[v].count; i++) {
            snprintf(tmp, sizeof tmp, i ? ",%" PRIu64 : "%" PRIu64, mt->vars[v].ids[i]);
            tbuf_put(b, tmp);
        }
    }
    if (mt->nfields)
        tbuf_put(b, " |");
    for (uint32_t f = 0; f < mt->nfields; f++) {
        const gb_value *v = &mt->fields[f].value;
        if (v->kind == GB_VALUE_INT)
            snprintf(tmp, sizeof tmp, " %s=%" PRId64, mt->fields[f].name, v->u.i);
        else
            snprintf(tmp, sizeof tmp, " %s=%.17gd", mt->fields[f].name, v->u.d);
        tbuf_put(b, tmp);
    }
    tbuf_put(b, "\n");
}

static inline void tbuf_on_match(void *ctx, const gb_match *mt)
{
    tbuf_match(ctx, mt);
}

static inline gb_pattern_set *compile_ok(const char *src)
{
    gb_pattern_set *set = NULL;
    gb_status st = gb_pattern_compile(&set, NULL, src, strlen(src));
    cr_assert_eq(st, GB_OK, "compile failed: %s", gb_last_error());
    return set;
}

static inline gb_event make_event(gb_pattern_set *set, const tev *t)
{
    gb_event e = {.id = t->id, .ts_ns = t->ts, .source = t->source, .target = t->target, .value = t->value};
    cr_assert_eq(gb_type_intern(gb_pattern_set_types(set), t->type, &e.type), GB_OK);
    return e;
}

/* Run events through src (then flush when asked); returns the rendered
 * matches (caller frees). */
static inline char *run_stream_opts(const char *src, const tev *evs, size_t n, int flush, uint32_t max_runs)
{
    gb_pattern_set *set = compile_ok(src);
    tbuf b = {0};
    tbuf_put(&b, "");
    gb_matcher_opts o = {.on_match = tbuf_on_match, .ctx = &b, .max_runs_per_pattern = max_runs};
    gb_matcher *m;
    cr_assert_eq(gb_matcher_create(&m, set, &o), GB_OK);
    for (size_t i = 0; i < n; i++) {
        gb_event e = make_event(set, &evs[i]);
        cr_assert_eq(gb_matcher_push(m, &e), GB_OK, "push %zu: %s", i, gb_last_error());
    }
    if (flush)
        cr_assert_eq(gb_matcher_flush(m), GB_OK);
    gb_matcher_destroy(m);
    gb_pattern_set_destroy(set);
    return b.s;
}

static inline char *run_stream(const char *src, const tev *evs, size_t n, int flush)
{
    return run_stream_opts(src, evs, n, flush, 0);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define EXPECT_MATCHES(got, want)                                                                            \
    do {                                                                                                     \
        char *g_ = (got);                                                                                    \
        cr_assert_str_eq(g_, (want));                                                                        \
        free(g_);                                                                                            \
    } while (0)

#endif
