/*
 * Device pattern matcher throughput: gb_device_matcher on the cpu backend
 * (the kernel compiled natively) and on PoCL, beside the streaming CPU
 * matcher (gb_matcher, the baseline), on the same generated stream of
 * transfers. Each row checks that the three outputs are identical.
 *
 *   build/bench/bench_pattern_device_matcher [--events N] [--batch B] [--accounts A] [--shards S] [--quick]
 *                                            [--only ROW]
 *
 * --shards: work-items per key-shardable pattern (gb_device_matcher_opts.key_shards; 0: default 8, 1: none).
 * --only: run one row (rapid_split, circular_flow, high_frequency, velocity_change, "fifty(50)").
 *
 * Rows: the four spec examples one at a time and a 50-pattern set (the
 * library patterns/fraud.gbp plus 41 variants, as in bench_pattern_pattern).
 * ev/s counts events pushed per second of wall time, flush included; the
 * device columns include writing each batch's events to the device-resident
 * buffers, reading back the summaries and matches, and any host reruns
 * after a capacity overflow (counted in the "ovf" column; each moves the
 * state through the host). PoCL runs on the same cores as the host; its
 * compile is done before timing. Compare with the commit before the
 * resident buffers by building this file there.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpubridge/device.h"
#include "gpubridge/hash.h"
#include "gpubridge/pattern.h"
#include "gpubridge/pattern_device.h"
#include "gpubridge/time.h"

#include "bench_stream.h"

typedef struct opts {
    size_t events, batch;
    uint64_t accounts;
    uint32_t shards;
} opts;

/* A running hash of the output: pattern, ts, ids and emit values. */
typedef struct digest {
    uint64_t h, n;
} digest;

static void on_match(void *ctx, const gb_match *m)
{
    digest *d = ctx;
    uint64_t h = d->h ^ gb_hash64(&m->pattern_index, sizeof m->pattern_index, d->n);
    h = gb_hash64(&m->ts, sizeof m->ts, h);
    for (uint32_t v = 0; v < m->nvars; v++)
        h = gb_hash64(m->vars[v].ids, m->vars[v].count * sizeof *m->vars[v].ids, h);
    for (uint32_t f = 0; f < m->nfields; f++)
        h = gb_hash64(&m->fields[f].value.u, sizeof m->fields[f].value.u, h);
    d->h = h;
    d->n++;
}

static double cpu_matcher(const gb_pattern_set *set, const gb_event *ev, const opts *o, digest *d)
{
    gb_matcher *m;
    if (gb_matcher_create(&m, set, &(gb_matcher_opts){.on_match = on_match, .ctx = d}) != GB_OK)
        return -1;
    int64_t t0 = gb_time_monotonic_ns();
    for (size_t i = 0; i < o->events; i++)
        gb_matcher_push(m, &ev[i]);
    gb_matcher_flush(m);
    int64_t t1 = gb_time_monotonic_ns();
    gb_matcher_destroy(m);
    return (double)o->events * 1e9 / (double)(t1 - t0);
}

/* ev/s on chain, or -1 where it cannot run; *ovf = overflow reruns. */
static double device_matcher(const gb_pattern_set *set, const char *chain, const gb_event *ev, const opts *o,
                             digest *d, uint64_t *ovf)
{
    gb_device_matcher *dm;
    gb_device_matcher_opts dopts = {.chain = chain, .on_match = on_match, .ctx = d, .id_capacity = 16,
                                    .key_shards = o->shards};
    if (gb_device_matcher_create(&dm, set, &dopts) != GB_OK || gb_device_matcher_push(dm, NULL, 0) != GB_OK)
        return -1; /* the empty push compiles the program */
    int64_t t0 = gb_time_monotonic_ns();
    gb_status st = GB_OK;
    for (size_t i = 0; st == GB_OK && i < o->events; i += o->batch)
        st = gb_device_matcher_push(dm, ev + i, o->events - i < o->batch ? o->events - i : o->batch);
    if (st == GB_OK)
        st = gb_device_matcher_flush(dm);
    int64_t t1 = gb_time_monotonic_ns();
    if (st != GB_OK)
        fprintf(stderr, "device matcher on %s: %s\n", chain, gb_last_error());
    gb_device_matcher_stats s;
    gb_device_matcher_stats_get(dm, UINT32_MAX, &s);
    *ovf = s.overflows;
    gb_device_matcher_destroy(dm);
    return st == GB_OK ? (double)o->events * 1e9 / (double)(t1 - t0) : -1;
}

static const char *only; /* --only NAME: run one row */

static void row(const char *name, const char *src, gb_type_table *types, const gb_event *ev, const opts *o, int ocl)
{
    if (only && strcmp(only, name) != 0)
        return;
    gb_pattern_set *set;
    if (gb_pattern_compile(&set, types, src, strlen(src)) != GB_OK) {
        printf("%-16s compile failed: %s\n", name, gb_last_error());
        return;
    }
    digest a = {0}, b = {0}, c = {0};
    uint64_t ob = 0, oc = 0;
    double base = cpu_matcher(set, ev, o, &a);
    double dc = device_matcher(set, "cpu", ev, o, &b, &ob);
    double dp = ocl ? device_matcher(set, "opencl", ev, o, &c, &oc) : -1;
    int same = a.h == b.h && a.n == b.n && (!ocl || (a.h == c.h && a.n == c.n));
    printf("%-16s %4u %8" PRIu64 " %12.0f %12.0f %6.2f %4" PRIu64 " ", name, gb_pattern_set_count(set), a.n, base,
           dc, dc / base, ob);
    if (dp > 0)
        printf("%12.0f %6.2f %4" PRIu64, dp, dp / base, oc);
    else
        printf("%12s %6s %4s", "-", "-", "-");
    printf("  %s\n", same ? "same" : "DIFFERENT");
    gb_pattern_set_destroy(set);
}

static void parse_opts(int argc, char **argv, opts *o)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            o->events = 4000;
        else if (i + 1 < argc && !strcmp(argv[i], "--events"))
            o->events = strtoull(argv[++i], NULL, 10);
        else if (i + 1 < argc && !strcmp(argv[i], "--batch"))
            o->batch = strtoull(argv[++i], NULL, 10);
        else if (i + 1 < argc && !strcmp(argv[i], "--shards"))
            o->shards = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (i + 1 < argc && !strcmp(argv[i], "--accounts"))
            o->accounts = strtoull(argv[++i], NULL, 10);
        else if (i + 1 < argc && !strcmp(argv[i], "--only"))
            only = argv[++i];
    }
    if (!o->events)
        o->events = 1;
    if (!o->batch)
        o->batch = 1;
    if (!o->accounts)
        o->accounts = 1;
}

int main(int argc, char **argv)
{
    opts o = {.events = 20000, .batch = 4096, .accounts = 1000};
    parse_opts(argc, argv, &o);
    gb_type_table *types;
    uint32_t transfer;
    if (gb_type_table_create(&types) != GB_OK || gb_type_intern(types, "transfer", &transfer) != GB_OK)
        return 1;
    gb_event *ev = make_stream(o.events, o.accounts, transfer);
    char *lib = read_text("patterns/fraud.gbp");
    if (!lib)
        lib = read_text("../patterns/fraud.gbp");
    int ocl = gb_backend_available("opencl") == GB_OK;
    printf("gpubridge device pattern matcher, %zu transfer events (~1000/s, %" PRIu64 " accounts), batches of %zu\n",
           o.events, o.accounts, o.batch);
    printf("command: %s --events %zu --batch %zu --accounts %" PRIu64 " --shards %u\n", argv[0], o.events, o.batch,
           o.accounts, o.shards);
    if (!ocl)
        printf("(no OpenCL: the PoCL columns are empty)\n");
    printf("%-16s %4s %8s %12s %12s %6s %4s %12s %6s %4s  %s\n", "set", "pats", "matches", "gb_matcher", "dev-cpu",
           "ratio", "ovf", "dev-pocl", "ratio", "ovf", "output");
    static const char *const names[4] = {"rapid_split", "circular_flow", "high_frequency", "velocity_change"};
    for (int i = 0; i < 4; i++)
        row(names[i], spec_src[i], types, ev, &o, ocl);
    char *fifty = lib ? fifty_patterns(lib) : NULL;
    if (fifty)
        row("fifty(50)", fifty, types, ev, &o, ocl);
    else
        printf("(patterns/fraud.gbp not found: run from the repository root)\n");
    printf("ev/s: events per second (flush included); ratio = device matcher / gb_matcher; ovf = pattern\n"
           "batches rerun on the host after a capacity overflow; output: the three outputs' digests agree.\n");
    free(fifty), free(lib), free(ev);
    gb_type_table_destroy(types);
    return 0;
}
