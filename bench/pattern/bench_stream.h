/*
 * What the pattern benchmarks share: the four spec example patterns, the
 * generated transfer stream (xorshift, ~1000 events/s between random
 * accounts, 1% of values >= 10000), the 50-pattern set built from the
 * library, and reading the library file. Header-only, for bench/ programs.
 */
#ifndef GB_BENCH_PATTERN_STREAM_H
#define GB_BENCH_PATTERN_STREAM_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpubridge/pattern.h"

static const char *const spec_src[4] = {
    "pattern rapid_split severity high within 5s\n"
    "  a: transfer where value >= 10000\n"
    "  b: transfer {3,} where source == a.target\n"
    "  emit account = a.target, splits = count(b), total = sum(b.value)\nend\n",
    "pattern circular_flow severity critical within 1h\n"
    "  a: transfer\n  b: transfer where source == a.target\n  c: transfer where source == b.target\n"
    "  d: transfer where source == c.target and target == a.source\n"
    "  emit origin = a.source, loss = a.value - d.value\nend\n",
    "pattern high_frequency severity medium within 1s\n"
    "  a: transfer\n  b: transfer {10} where source == a.source\n  emit source = a.source\nend\n",
    "pattern velocity_change severity high within 2h\n"
    "  a: transfer\n  not transfer where source == a.source\n"
    "  b: transfer where source == a.source and ts - a.ts >= 30m and value >= 100 * a.value\n"
    "  emit account = a.source, jump = b.value / a.value\nend\n",
};

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Transfers between random accounts, ~1000 events/s, 1% of them >= 10000. */
static gb_event *make_stream(size_t events, uint64_t accounts, uint32_t transfer)
{
    gb_event *ev = calloc(events, sizeof *ev);
    int64_t ts = 1700000000000000000LL;
    for (size_t i = 0; ev && i < events; i++) {
        ts += (int64_t)(next_rand() % 2000000);
        uint64_t r = next_rand();
        ev[i] = (gb_event){.id = i + 1, .type = transfer, .ts_ns = ts, .source = r % accounts,
                           .target = (r >> 20) % accounts,
                           .value = (r >> 40) % 100 == 0 ? 10000.0 + (double)(r % 50000) : 1.0 + (double)(r % 5000)};
    }
    return ev;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = n >= 0 ? calloc(1, (size_t)n + 1) : NULL;
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    fclose(f);
    return s;
}

/* The 50-pattern set: the library plus threshold/count/window variants. */
static char *fifty_patterns(const char *library)
{
    size_t cap = strlen(library) + 64 * 1024, len;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    len = (size_t)snprintf(s, cap, "%s", library);
    for (int i = 0; len < cap && i < 41; i++) {
        if (i % 4 == 0)
            len += (size_t)snprintf(s + len, cap - len, "pattern split_%d within %ds a: transfer where value >= %d\n"
                                    "  b: transfer {%d,} where source == a.target emit n = count(b) end\n",
                                    i, 2 + i % 7, 10000 + 1000 * i, 2 + i % 3);
        else if (i % 4 == 1)
            len += (size_t)snprintf(s + len, cap - len, "pattern burst_%d within %dms a: transfer\n"
                                    "  b: transfer {%d} where source == a.source end\n", i, 200 + 50 * i, 3 + i % 8);
        else if (i % 4 == 2)
            len += (size_t)snprintf(s + len, cap - len, "pattern back_%d within %dm a: transfer where value >= %d\n"
                                    "  b: transfer where source == a.target and target == a.source end\n",
                                    i, 1 + i % 5, 1000 * (1 + i % 9));
        else
            len += (size_t)snprintf(s + len, cap - len, "pattern jump_%d within 1h a: transfer not transfer where "
                                    "source == a.source\n  b: transfer where source == a.source and value >= %d * "
                                    "a.value end\n", i, 10 + i);
    }
    return s;
}

#endif
