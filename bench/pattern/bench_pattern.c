/*
 * Pattern matcher throughput: our streaming CPU matcher beside a naive
 * re-scan-the-window matcher (the approach of the .NET system: for every
 * arriving event, replay the pattern over all events still inside the
 * window), on the same generated stream of transfers.
 *
 *   build/bench/bench_pattern_pattern [--events N] [--accounts A] [--seconds S] [--only ROW]
 *                                     [--each 1] [--library PATH]
 *
 * Rows: the four spec examples one at a time, the nine-pattern library and
 * a 50-pattern set. "pattern-ev/s" is events/s times the number of patterns
 * (the per-pattern rate the goal of 5 M/s/core refers to). The naive
 * matcher runs for at most --seconds per row on a prefix of the stream
 * (--seconds 0 skips it). --only runs one row (rapid_split, circular_flow,
 * high_frequency, velocity_change, "library(9)", "fifty(50)", lib:NAME);
 * --each 1 adds a row per library pattern alone (lib:NAME). --latency 1
 * adds, per row, the distribution of the time one gb_matcher_push takes
 * (p50, p99, p99.9, max in ns; a pause inside push, e.g. an index rebuild,
 * shows in the tail). Single-threaded; one core.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpubridge/pattern.h"
#include "gpubridge/time.h"

#include "bench_stream.h"

typedef struct opts {
    size_t events;
    uint64_t accounts;
    double seconds;
} opts;

static void count_match(void *ctx, const gb_match *m)
{
    (void)m;
    ++*(uint64_t *)ctx;
}

static gb_pattern_set *compile(const char *src, gb_type_table *types)
{
    gb_pattern_set *set;
    if (gb_pattern_compile(&set, types, src, strlen(src)) != GB_OK) {
        fprintf(stderr, "compile: %s\n", gb_last_error());
        exit(1);
    }
    return set;
}

/* Streaming: push the whole stream, flush. Returns events/s. */
static double run_streaming(const gb_pattern_set *set, const gb_event *ev, size_t n, uint64_t *matches)
{
    *matches = 0;
    gb_matcher_opts mo = {.on_match = count_match, .ctx = matches};
    gb_matcher *m;
    if (gb_matcher_create(&m, set, &mo) != GB_OK)
        exit(1);
    int64_t t0 = gb_time_monotonic_ns();
    for (size_t i = 0; i < n; i++)
        gb_matcher_push(m, &ev[i]);
    gb_matcher_flush(m);
    int64_t t1 = gb_time_monotonic_ns();
    gb_matcher_destroy(m);
    return (double)n * 1e9 / (double)(t1 - t0);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* --latency 1: time every push of the stream (gb_time_fast_ns around each
 * call: the timer's own cost, some tens of ns, is included) and print the
 * distribution. */
static void push_latency(const char *name, const gb_pattern_set *set, const gb_event *ev, size_t n)
{
    uint64_t matches = 0;
    gb_matcher_opts mo = {.on_match = count_match, .ctx = &matches};
    gb_matcher *m;
    int64_t *t = malloc(n * sizeof *t);
    if (!t || gb_matcher_create(&m, set, &mo) != GB_OK)
        exit(1);
    for (size_t i = 0; i < n; i++) {
        int64_t t0 = gb_time_fast_ns();
        gb_matcher_push(m, &ev[i]);
        t[i] = gb_time_fast_ns() - t0;
    }
    gb_matcher_destroy(m);
    qsort(t, n, sizeof *t, cmp_i64);
    printf("%-20s push ns: p50 %" PRId64 ", p99 %" PRId64 ", p99.9 %" PRId64 ", max %" PRId64 "\n", name,
           t[n / 2], t[n * 99 / 100], t[n * 999 / 1000], t[n - 1]);
    free(t);
}

/* Naive: for every event, a fresh matcher replays the window ending at it;
 * the matches emitted by the event itself are the ones it completes. */
static double run_naive(const gb_pattern_set *set, int64_t window, const gb_event *ev, size_t n, double seconds,
                        size_t *done)
{
    uint64_t matches = 0;
    gb_matcher_opts mo = {.on_match = count_match, .ctx = &matches};
    int64_t t0 = gb_time_monotonic_ns(), budget = (int64_t)(seconds * 1e9);
    size_t start = 0, i;
    for (i = 0; i < n && gb_time_monotonic_ns() - t0 < budget; i++) {
        while (ev[i].ts_ns - ev[start].ts_ns > window)
            start++;
        gb_matcher *m;
        if (gb_matcher_create(&m, set, &mo) != GB_OK)
            exit(1);
        for (size_t j = start; j < i; j++)
            gb_matcher_push(m, &ev[j]);
        matches = 0;
        gb_matcher_push(m, &ev[i]);
        gb_matcher_destroy(m);
    }
    *done = i;
    return (double)i * 1e9 / (double)(gb_time_monotonic_ns() - t0);
}

static const char *only; /* --only NAME: run one row */
static int latency;      /* --latency 1: per-push time distribution */
static int each;         /* --each 1: also each library pattern alone */

static void parse_opts(int argc, char **argv, opts *o, const char **library)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--events") == 0)
            o->events = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--accounts") == 0)
            o->accounts = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--seconds") == 0)
            o->seconds = strtod(argv[i + 1], NULL);
        else if (strcmp(argv[i], "--library") == 0)
            *library = argv[i + 1];
        else if (strcmp(argv[i], "--only") == 0)
            only = argv[i + 1];
        else if (strcmp(argv[i], "--each") == 0)
            each = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--latency") == 0)
            latency = atoi(argv[i + 1]);
    }
    if (!o->events)
        o->events = 1;
    if (!o->accounts)
        o->accounts = 1;
}

static void row(const char *name, const char *src, int64_t window, gb_type_table *types, const gb_event *ev,
                const opts *o)
{
    if (only && strcmp(only, name) != 0)
        return;
    gb_pattern_set *set = compile(src, types);
    uint32_t np = gb_pattern_set_count(set);
    uint64_t matches;
    double ours = run_streaming(set, ev, o->events, &matches);
    if (latency)
        push_latency(name, set, ev, o->events);
    size_t done = 0;
    double naive = o->seconds > 0 ? run_naive(set, window, ev, o->events, o->seconds, &done) : 0;
    if (done)
        printf("%-20s %4u %9" PRIu64 " %12.0f %14.0f %12.0f %8.0fx\n", name, np, matches, ours, ours * np, naive,
               ours / naive);
    else /* --seconds 0: the naive matcher was not run */
        printf("%-20s %4u %9" PRIu64 " %12.0f %14.0f %12s %9s\n", name, np, matches, ours, ours * np, "-", "-");
    fflush(stdout);
    gb_pattern_set_destroy(set);
}

/* The first line of `lib` that starts with "pattern " (the word also
 * occurs inside comments), or NULL. */
static const char *first_pattern_line(const char *lib)
{
    if (strncmp(lib, "pattern ", 8) == 0)
        return lib;
    const char *at = strstr(lib, "\npattern ");
    return at ? at + 1 : NULL;
}

/* Rows "lib:NAME": each pattern of the library alone (--each 1, or
 * --only lib:NAME). A pattern runs from a line starting with `pattern` to
 * the next one. */
static void library_rows(const char *lib, gb_type_table *types, const gb_event *ev, const opts *o)
{
    const char *at = first_pattern_line(lib);
    while (at) {
        const char *next = strstr(at + 1, "\npattern ");
        size_t len = next ? (size_t)(next + 1 - at) : strlen(at);
        char name[64], *src = malloc(len + 1);
        if (!src)
            return;
        memcpy(src, at, len);
        src[len] = '\0';
        char pat[48] = "";
        sscanf(src, "pattern %47s", pat);
        snprintf(name, sizeof name, "lib:%s", pat);
        if (each || only)
            row(name, src, 86400000000000LL, types, ev, o);
        free(src);
        at = next ? next + 1 : NULL;
    }
}

int main(int argc, char **argv)
{
    opts o = {.events = 2000000, .accounts = 10000, .seconds = 0.5};
    const char *library = NULL;
    parse_opts(argc, argv, &o, &library);
    gb_type_table *types;
    uint32_t transfer;
    if (gb_type_table_create(&types) != GB_OK || gb_type_intern(types, "transfer", &transfer) != GB_OK)
        return 1;
    gb_event *ev = make_stream(o.events, o.accounts, transfer);
    char *lib = read_text(library ? library : "patterns/fraud.gbp");
    if (!lib)
        lib = read_text("../patterns/fraud.gbp");
    printf("gpubridge pattern matcher, %zu transfer events (~1000/s, %" PRIu64 " accounts), one core\n", o.events,
           o.accounts);
    printf("command: %s --events %zu --accounts %" PRIu64 " --seconds %g%s%s%s%s\n", argv[0], o.events, o.accounts,
           o.seconds, only ? " --only " : "", only ? only : "", each ? " --each 1" : "",
           latency ? " --latency 1" : "");
    printf("%-20s %4s %9s %12s %14s %12s %9s\n", "set", "pats", "matches", "ours ev/s", "pattern-ev/s",
           "naive ev/s", "ratio");
    static const char *const names[4] = {"rapid_split", "circular_flow", "high_frequency", "velocity_change"};
    static const int64_t windows[4] = {5000000000LL, 3600000000000LL, 1000000000LL, 7200000000000LL};
    for (int i = 0; i < 4; i++)
        row(names[i], spec_src[i], windows[i], types, ev, &o);
    if (lib) {
        row("library(9)", lib, 86400000000000LL, types, ev, &o);
        library_rows(lib, types, ev, &o);
        char *fifty = fifty_patterns(lib);
        row("fifty(50)", fifty, 86400000000000LL, types, ev, &o);
        free(fifty);
    } else {
        printf("(patterns/fraud.gbp not found: run from the repository root or pass --library PATH)\n");
    }
    printf("naive = a fresh matcher replays the window for every event (the .NET system's approach);\n"
           "ratio = ours / naive events per second.\n");
    free(lib);
    free(ev);
    gb_type_table_destroy(types);
    return 0;
}
