/*
 * `gbridge demo`: the synthetic bank end to end (docs/demo.md). This file
 * owns the options, the host pipeline and the progress bar. One host thread
 * alternates, without sleeping:
 *   submit   generator -> account ring in batches of an eighth of the
 *            window (at most `limit` <= `window` transfers in flight,
 *            the limit adapted to the latency; paced by --rate)
 *   drain    ring ACKs -> reorder -> pattern matcher + temporal graph
 * while the ring's consumer (a cpu thread, or the persistent kernel on a
 * device) runs on the other core; then the summary (demo_report.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "demo.h"
#include "gpubridge/time.h"

#define DEMO_PROGRESS_EVERY 32768u
#define DEMO_CHUNKS_PER_WINDOW 8u /* submit / receive batches per in-flight window */
#define DEMO_ADAPT_PERIOD 1024u    /* transfers matched between limit adjustments */
#define DEMO_LAT_TARGET_NS 85000   /* submit-to-matched time 99.x% of transfers should stay under */
#define DEMO_OVER_HIGH 10u         /* per mille over target: one chunk less in flight */
#define DEMO_OVER_LOW 2u           /* per mille over target, at most: one chunk more */
#define DEMO_SPIN_ROUNDS 256u /* idle turns spun before yielding the core */

typedef struct demo_run {
    demo_opts o;
    const char *alerts_path;
    uint32_t window; /* most transfers in flight (submitted, not yet matched); 0 = by backend */
    uint32_t chunk;  /* most transfers per submit or receive batch */
    uint32_t limit;  /* transfers kept in flight now: 2 chunks..window, adapted (adapt()) */
    uint32_t period_n, period_over; /* transfers matched this period, and those over target */
    demo_gen *gen;
    demo_bank *bank;
    demo_detect *det;
    int64_t *submit_ns;
    atomic_int failed; /* relaxed: a stop flag, no data rides on it */
    char error[256];
} demo_run;

static int usage(const char *msg, const char *arg)
{
    fprintf(stderr, "gbridge demo: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    fprintf(stderr, "usage: gbridge demo [--accounts N] [--transfers N] [--rate PER_S] "
                    "[--device cuda,opencl,cpu] [--seed N] [--window N] [--json] [--alerts FILE]\n");
    return 2;
}

static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    if (!s || !*s || *s == '-')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_opt(demo_run *r, const char *name, const char *val)
{
    uint64_t v;
    if (strcmp(name, "--accounts") == 0) {
        if (parse_u64(val, 100, 1000000, &v))
            return usage("--accounts needs an integer in 100..1000000", val);
        r->o.accounts = (uint32_t)v;
    } else if (strcmp(name, "--transfers") == 0) {
        if (parse_u64(val, 1000, 100000000, &r->o.transfers))
            return usage("--transfers needs an integer in 1000..100000000", val);
    } else if (strcmp(name, "--seed") == 0) {
        if (parse_u64(val, 0, UINT64_MAX, &r->o.seed))
            return usage("--seed needs a non-negative integer", val);
    } else if (strcmp(name, "--rate") == 0) {
        char *end;
        r->o.rate = val ? strtod(val, &end) : -1;
        if (!val || *end || !(r->o.rate >= 0 && r->o.rate <= 1e12))
            return usage("--rate needs transfers per second (0 = unlimited)", val);
    } else if (strcmp(name, "--device") == 0) {
        if (!val || !*val)
            return usage("--device needs a chain such as cuda,opencl,cpu", val);
        r->o.device = val;
    } else if (strcmp(name, "--window") == 0) {
        if (parse_u64(val, 64, 65536, &v) || (v & (v - 1)))
            return usage("--window needs a power of two in 64..65536", val);
        r->window = (uint32_t)v;
    } else if (strcmp(name, "--alerts") == 0) {
        if (!val || !*val)
            return usage("--alerts needs a file name", val);
        r->alerts_path = val;
    } else {
        return usage("unknown option", name);
    }
    return 0;
}

static int parse(demo_run *r, int argc, char **argv)
{
    r->o = (demo_opts){.accounts = 10000, .transfers = 1000000, .seed = 1};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            r->o.json = 1;
            continue;
        }
        if (strncmp(argv[i], "--", 2) != 0)
            return usage("unexpected argument", argv[i]);
        char name[32];
        const char *arg = argv[i], *eq = strchr(arg, '=');
        size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
        const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), arg);
        int st = parse_opt(r, name, val);
        if (st)
            return st;
    }
    r->o.progress = !r->o.json && isatty(STDERR_FILENO);
    return 0;
}

static void fail(demo_run *r, const char *what)
{
    if (atomic_exchange_explicit(&r->failed, 1, memory_order_relaxed) == 0)
        snprintf(r->error, sizeof r->error, "%s", what);
}

/* Take the ACKs waiting on the ring, one batch of at most a chunk, and
 * hand them to detection (in-order ones are matched at once); how many
 * were taken. Never waits. */
static uint32_t drain(demo_run *r)
{
    demo_tx tx[DEMO_BATCH_MAX];
    uint64_t hlc[DEMO_BATCH_MAX];
    uint32_t got = 0;
    gb_status st = demo_bank_receive(r->bank, tx, hlc, r->chunk, &got, 0);
    if (st == GB_EAGAIN)
        return 0;
    if (st != GB_OK) {
        fail(r, gb_last_error());
        return 0;
    }
    for (uint32_t i = 0; i < got; i++)
        if (demo_detect_accept(r->det, &tx[i], hlc[i]) != 0) {
            fail(r, "detection failed (out of order or out of memory)");
            return i;
        }
    return got;
}

static void progress(const demo_run *r, uint64_t sent, int64_t t0, int final)
{
    double secs = (double)(gb_time_monotonic_ns() - t0) / 1e9;
    uint64_t done = demo_detect_done(r->det);
    int filled = (int)(40 * done / r->o.transfers);
    fprintf(stderr, "\r[%.*s%*s] %3d%% %" PRIu64 "/%" PRIu64 " %9.0f/s", filled,
            "########################################", 40 - filled, "", (int)(100 * done / r->o.transfers),
            sent, r->o.transfers, secs > 0 ? (double)done / secs : 0.0);
    if (final)
        fputs("\n", stderr);
}

/* May transfer id go now: inside the in-flight window and, with --rate,
 * its slot has come? */
static int may_submit(const demo_run *r, uint64_t id, int64_t t0)
{
    if (id - demo_detect_done(r->det) >= r->limit)
        return 0;
    return r->o.rate <= 0 || gb_time_monotonic_ns() >= t0 + (int64_t)((double)id * 1e9 / r->o.rate);
}

/* Submit up to a chunk of transfers in one ring batch (fewer when the
 * window is full or --rate holds them back); how many went. *tx is the
 * next transfer, *more whether there is one. Every transfer of the batch
 * gets the time taken just before the batch is sent. */
static uint32_t submit_batch(demo_run *r, demo_tx *tx, int *more, int64_t t0)
{
    demo_tx batch[DEMO_BATCH_MAX];
    uint32_t n = 0;
    while (*more && n < r->chunk && may_submit(r, tx->id, t0)) {
        batch[n++] = *tx;
        *more = demo_gen_next(r->gen, tx);
    }
    if (n == 0)
        return 0;
    int64_t now = gb_time_monotonic_ns();
    for (uint32_t i = 0; i < n; i++)
        r->submit_ns[batch[i].id] = now;
    if (demo_bank_submit(r->bank, batch, n) != GB_OK) {
        fail(r, gb_last_error());
        return 0;
    }
    uint64_t last = batch[n - 1].id + 1;
    if (r->o.progress && last / DEMO_PROGRESS_EVERY != batch[0].id / DEMO_PROGRESS_EVERY)
        progress(r, last, t0, 0);
    return n;
}

/* Adapt the in-flight limit to the latency the transfers [from, to) just
 * matched saw (Little's law: latency ~ limit / rate, so the limit trades
 * throughput for latency). Each period of DEMO_ADAPT_PERIOD transfers:
 * more than DEMO_OVER_HIGH per mille over DEMO_LAT_TARGET_NS, one chunk
 * less in flight (down to two chunks); at most DEMO_OVER_LOW per mille
 * over, one chunk more (up to the window). Alerts do not depend on it
 * (detection runs in transfer order). */
static void adapt(demo_run *r, uint64_t from, uint64_t to)
{
    if (from == to)
        return;
    int64_t now = gb_time_monotonic_ns();
    for (uint64_t id = from; id < to; id++)
        r->period_over += now - r->submit_ns[id] > DEMO_LAT_TARGET_NS;
    r->period_n += (uint32_t)(to - from);
    if (r->period_n < DEMO_ADAPT_PERIOD)
        return;
    if (r->period_over * 1000 > DEMO_OVER_HIGH * r->period_n && r->limit >= 3 * r->chunk)
        r->limit -= r->chunk;
    else if (r->period_over * 1000 <= DEMO_OVER_LOW * r->period_n && r->limit + r->chunk <= r->window)
        r->limit += r->chunk;
    r->period_n = r->period_over = 0;
}

/* One host thread does everything but the ring's own consumer (its
 * thread on cpu, the persistent kernel on a device): submit a batch,
 * then match the ACKs that came back, in turn. Two busy parties on two
 * cores; an idle turn spins (a sleep and wake-up costs more than the
 * whole pipeline's latency goal). */
static void pipeline(demo_run *r, int64_t t0)
{
    demo_tx tx;
    int more = demo_gen_next(r->gen, &tx);
    uint32_t idle = 0;
    while (demo_detect_done(r->det) < r->o.transfers && !atomic_load_explicit(&r->failed, memory_order_relaxed)) {
        uint32_t worked = submit_batch(r, &tx, &more, t0);
        uint64_t done = demo_detect_done(r->det);
        worked += drain(r);
        adapt(r, done, demo_detect_done(r->det));
        if (worked)
            idle = 0;
        else if (++idle < DEMO_SPIN_ROUNDS)
            gb_cpu_relax();
        else
            sched_yield(); /* the ring's consumer may be waiting for this core */
    }
}

static int run(demo_run *r, demo_result *res)
{
    int64_t t0 = gb_time_monotonic_ns();
    pipeline(r, t0);
    res->seconds = (double)(gb_time_monotonic_ns() - t0) / 1e9;
    if (r->o.progress)
        progress(r, r->o.transfers, t0, 1);
    if (demo_bank_stop(r->bank) != GB_OK)
        fail(r, gb_last_error());
    if (demo_detect_finish(r->det) != 0)
        fail(r, "closing the pattern windows failed");
    return atomic_load_explicit(&r->failed, memory_order_relaxed) ? -1 : 0;
}

static int setup(demo_run *r, demo_result *res)
{
    r->submit_ns = calloc(r->o.transfers, sizeof *r->submit_ns);
    if (!r->submit_ns || demo_gen_create(&r->gen, &r->o) != 0) {
        fprintf(stderr, "gbridge demo: cannot plan %" PRIu64 " transfers over %u accounts (out of memory?)\n",
                r->o.transfers, r->o.accounts);
        return 1;
    }
    if (demo_bank_create(&r->bank, &r->o, r->window, res->fallback, sizeof res->fallback) != 0) {
        fprintf(stderr, "gbridge demo: no device could run the account ring: %s\n", res->fallback);
        return 1;
    }
    r->window = demo_bank_window(r->bank);
    r->chunk = r->window / DEMO_CHUNKS_PER_WINDOW < DEMO_BATCH_MAX ? r->window / DEMO_CHUNKS_PER_WINDOW
                                                                    : DEMO_BATCH_MAX;
    r->limit = r->window;
    snprintf(res->backend, sizeof res->backend, "%s", demo_bank_backend(r->bank));
    snprintf(res->device, sizeof res->device, "%s", demo_bank_device(r->bank));
    if (demo_detect_create(&r->det, r->gen, r->submit_ns, r->window, r->o.accounts) != 0) {
        fprintf(stderr, "gbridge demo: cannot set up detection: %s\n", gb_last_error());
        return 1;
    }
    return 0;
}

static int write_alerts(const demo_run *r)
{
    FILE *f = fopen(r->alerts_path, "w");
    if (!f) {
        fprintf(stderr, "gbridge demo: cannot write %s: %s\n", r->alerts_path, strerror(errno));
        return 1;
    }
    demo_detect_dump(r->det, f);
    return fclose(f) == 0 ? 0 : 1;
}

int gbridge_cmd_demo(int argc, char **argv)
{
    demo_run r = {0};
    demo_result res = {0};
    int rc = parse(&r, argc, argv);
    if (rc == 0 && (rc = setup(&r, &res)) == 0) {
        if (run(&r, &res) != 0) {
            fprintf(stderr, "gbridge demo: %s\n", r.error);
            rc = 1;
        } else {
            demo_detect_result(r.det, &res);
            res.credits_resent = demo_bank_credits_resent(r.bank);
            if (r.o.json)
                demo_report_json(stdout, &r.o, &res);
            else
                demo_report_text(stdout, &r.o, &res);
            rc = res.found_total == res.cases_total ? 0 : 1;
            if (r.alerts_path && write_alerts(&r) != 0)
                rc = 1;
        }
    }
    demo_detect_destroy(r.det);
    demo_bank_destroy(r.bank);
    demo_gen_destroy(r.gen);
    free(r.submit_ns);
    return rc;
}
