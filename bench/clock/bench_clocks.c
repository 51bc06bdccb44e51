/*
 * Clock benchmarks: physical clock reads, the lock-free HLC against the same
 * algorithm under a pthread mutex, and sparse sorted vector clocks against a
 * naive unsorted (node, counter) list with linear search. Every figure is
 * the median of several repetitions of the calling thread's CPU time per
 * operation (CPU time, not wall time, so that being descheduled on a busy
 * machine does not count); for 2-thread rows each thread times its own
 * operations while both tick one shared clock, and the two are averaged.
 *
 *   bench_clock_clocks            full table (a few seconds)
 *   bench_clock_clocks --summary  the headline numbers and goals (`make demo`)
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpubridge/clock.h"
#include "gpubridge/time.h"

/* ---- measurement ---------------------------------------------------------- */

typedef void (*bench_fn)(void *ctx, long iters);

static int g_reps = 7;
static int64_t g_target_ns = 20000000; /* per repetition */
static volatile uint64_t g_sink;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* CPU time of the calling thread: on a machine shared with other work this
 * leaves out the time the thread was not running at all. */
static int64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static double time_once(bench_fn fn, void *ctx, long iters)
{
    int64_t t0 = thread_cpu_ns();
    fn(ctx, iters);
    return (double)(thread_cpu_ns() - t0);
}

/* Iterations that take about g_target_ns (at least 1000). */
static long calibrate_iters(bench_fn fn, void *ctx)
{
    long iters = 1000;
    for (;;) {
        double ns = time_once(fn, ctx, iters);
        if (ns > (double)g_target_ns / 8 || iters > (1L << 30))
            return (long)((double)iters * (double)g_target_ns / (ns > 1 ? ns : 1)) + 1000;
        iters *= 4;
    }
}

/* Median ns per call of fn over g_reps repetitions, on this thread. */
static double measure(bench_fn fn, void *ctx)
{
    long iters = calibrate_iters(fn, ctx);
    double per_op[16];
    for (int r = 0; r < g_reps; r++)
        per_op[r] = time_once(fn, ctx, iters) / (double)iters;
    return median(per_op, g_reps);
}

typedef struct thread_job {
    bench_fn fn;
    void *ctx;
    long iters;
    pthread_barrier_t *start;
    double ns;
} thread_job;

static void *thread_main(void *arg)
{
    thread_job *j = arg;
    pthread_barrier_wait(j->start);
    j->ns = time_once(j->fn, j->ctx, j->iters);
    return NULL;
}

/* Median, over repetitions, of the mean per-thread ns/op with two threads
 * running fn on the same ctx at once. */
static double measure_2threads(bench_fn fn, void *ctx)
{
    long iters = calibrate_iters(fn, ctx) / 2 + 1000;
    double per_op[16];
    for (int r = 0; r < g_reps; r++) {
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, 2);
        thread_job jobs[2];
        pthread_t th[2];
        for (int t = 0; t < 2; t++) {
            jobs[t] = (thread_job){fn, ctx, iters, &start, 0};
            pthread_create(&th[t], NULL, thread_main, &jobs[t]);
        }
        for (int t = 0; t < 2; t++)
            pthread_join(th[t], NULL);
        pthread_barrier_destroy(&start);
        per_op[r] = (jobs[0].ns + jobs[1].ns) / 2 / (double)iters;
    }
    return median(per_op, g_reps);
}

/* ---- physical clocks ------------------------------------------------------ */

static void run_gettime_realtime(void *ctx, long iters)
{
    (void)ctx;
    uint64_t s = 0;
    for (long i = 0; i < iters; i++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        s += (uint64_t)ts.tv_nsec;
    }
    g_sink = s;
}

static void run_fast_ns(void *ctx, long iters)
{
    (void)ctx;
    uint64_t s = 0;
    for (long i = 0; i < iters; i++)
        s += (uint64_t)gb_time_fast_ns();
    g_sink = s;
}

static void run_realtime_fast_ns(void *ctx, long iters)
{
    (void)ctx;
    uint64_t s = 0;
    for (long i = 0; i < iters; i++)
        s += (uint64_t)gb_time_realtime_fast_ns();
    g_sink = s;
}

/* ---- HLC: ours and the mutex baseline ------------------------------------- */

/* The same rules as src/clock/hlc.c, under one pthread mutex. */
typedef struct mutex_hlc {
    pthread_mutex_t mu;
    uint64_t last;
    int64_t max_offset_ns;
} mutex_hlc;

static uint64_t mutex_hlc_tick(mutex_hlc *c, uint64_t remote, int check)
{
    uint64_t pt = (uint64_t)gb_time_realtime_fast_ns() & ~GB_HLC_LOGICAL_MASK;
    uint64_t rpt = remote & ~GB_HLC_LOGICAL_MASK;
    if (check && (remote >> 63 || (rpt > pt && rpt - pt > (uint64_t)c->max_offset_ns)))
        return 0;
    pthread_mutex_lock(&c->mu);
    uint64_t floor = c->last > remote ? c->last : remote;
    uint64_t next = floor + 1 > pt ? floor + 1 : pt;
    c->last = next;
    pthread_mutex_unlock(&c->mu);
    return next;
}

typedef struct hlc_ctx {
    gb_hlc *clock;
    gb_hlc *slow_clock; /* physical source: clock_gettime(CLOCK_REALTIME) */
    mutex_hlc mclock;
    gb_hlc_t remotes[256]; /* recent timestamps of another node */
} hlc_ctx;

static void run_hlc_now(void *ctx, long iters)
{
    hlc_ctx *h = ctx;
    uint64_t s = 0;
    for (long i = 0; i < iters; i++)
        s += gb_hlc_now(h->clock);
    g_sink = s;
}

static void run_hlc_now_slow_source(void *ctx, long iters)
{
    hlc_ctx *h = ctx;
    uint64_t s = 0;
    for (long i = 0; i < iters; i++)
        s += gb_hlc_now(h->slow_clock);
    g_sink = s;
}

static int64_t gettime_source(void *ctx)
{
    (void)ctx;
    return gb_time_realtime_ns();
}

static void run_hlc_update(void *ctx, long iters)
{
    hlc_ctx *h = ctx;
    uint64_t s = 0;
    for (long i = 0; i < iters; i++) {
        gb_hlc_t t = 0;
        gb_hlc_update(h->clock, h->remotes[i & 255], &t);
        s += t;
    }
    g_sink = s;
}

static void run_mutex_now(void *ctx, long iters)
{
    hlc_ctx *h = ctx;
    uint64_t s = 0;
    for (long i = 0; i < iters; i++)
        s += mutex_hlc_tick(&h->mclock, 0, 0);
    g_sink = s;
}

static void run_mutex_update(void *ctx, long iters)
{
    hlc_ctx *h = ctx;
    uint64_t s = 0;
    for (long i = 0; i < iters; i++)
        s += mutex_hlc_tick(&h->mclock, h->remotes[i & 255], 1);
    g_sink = s;
}

static int hlc_ctx_init(hlc_ctx *h)
{
    memset(h, 0, sizeof *h);
    gb_hlc *peer = NULL;
    gb_hlc_opts slow = {.physical_ns = gettime_source};
    if (gb_hlc_create(&h->clock, NULL) != GB_OK || gb_hlc_create(&peer, NULL) != GB_OK ||
        gb_hlc_create(&h->slow_clock, &slow) != GB_OK)
        return -1;
    for (int i = 0; i < 256; i++)
        h->remotes[i] = gb_hlc_now(peer);
    gb_hlc_destroy(peer);
    pthread_mutex_init(&h->mclock.mu, NULL);
    h->mclock.max_offset_ns = GB_HLC_DEFAULT_MAX_OFFSET_NS;
    return 0;
}

/* ---- vector clocks: ours and the naive baseline ---------------------------- */

#define NAIVE_CAP 256

/* The obvious simple approach: an unsorted array of (node, counter) pairs
 * searched linearly; merge and compare are O(n*m). */
typedef struct naive_vc {
    int n;
    uint32_t node[NAIVE_CAP];
    uint64_t count[NAIVE_CAP];
} naive_vc;

static int naive_find(const naive_vc *v, uint32_t node)
{
    for (int i = 0; i < v->n; i++)
        if (v->node[i] == node)
            return i;
    return -1;
}

static void naive_increment(naive_vc *v, uint32_t node)
{
    int i = naive_find(v, node);
    if (i >= 0) {
        v->count[i]++;
    } else if (v->n < NAIVE_CAP) {
        v->node[v->n] = node;
        v->count[v->n++] = 1;
    }
}

static void naive_merge(naive_vc *dst, const naive_vc *src)
{
    for (int j = 0; j < src->n; j++) {
        int i = naive_find(dst, src->node[j]);
        if (i >= 0) {
            if (src->count[j] > dst->count[i])
                dst->count[i] = src->count[j];
        } else if (dst->n < NAIVE_CAP) {
            dst->node[dst->n] = src->node[j];
            dst->count[dst->n++] = src->count[j];
        }
    }
}

static gb_vc_order naive_compare(const naive_vc *a, const naive_vc *b)
{
    int a_ahead = 0, b_ahead = 0;
    for (int i = 0; i < a->n; i++) {
        int j = naive_find(b, a->node[i]);
        uint64_t other = j >= 0 ? b->count[j] : 0;
        a_ahead |= a->count[i] > other;
        b_ahead |= a->count[i] < other;
    }
    for (int j = 0; j < b->n; j++)
        b_ahead |= naive_find(a, b->node[j]) < 0;
    if (a_ahead && b_ahead)
        return GB_VC_CONCURRENT;
    return a_ahead ? GB_VC_AFTER : b_ahead ? GB_VC_BEFORE : GB_VC_EQUAL;
}

typedef struct vc_ctx {
    int n;
    gb_vclock *a, *b, *base, *other; /* ours */
    naive_vc na, nb, nbase, nother;  /* baseline */
} vc_ctx;

/* Sparse node ids, as a cluster's would be. */
static uint32_t node_id(int i)
{
    return (uint32_t)i * 7919u + 13u;
}

/* a and b over the same n nodes (counter 3), b one ahead in every other
 * entry; base and other share half their nodes (merges that add entries). */
static int vc_ctx_init(vc_ctx *v, int n)
{
    memset(v, 0, sizeof *v);
    v->n = n;
    if (gb_vclock_create(&v->a) || gb_vclock_create(&v->b) || gb_vclock_create(&v->base) ||
        gb_vclock_create(&v->other))
        return -1;
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < 3 + (i % 2 == 0); k++) {
            if (k < 3) {
                gb_vclock_increment(v->a, node_id(i));
                naive_increment(&v->na, node_id(i));
            }
            gb_vclock_increment(v->b, node_id(i));
            naive_increment(&v->nb, node_id(i));
        }
        gb_vclock_increment(v->base, node_id(2 * i));
        naive_increment(&v->nbase, node_id(2 * i));
        gb_vclock_increment(v->other, node_id(i));
        naive_increment(&v->nother, node_id(i));
    }
    return 0;
}

static void vc_ctx_free(vc_ctx *v)
{
    gb_vclock_destroy(v->a);
    gb_vclock_destroy(v->b);
    gb_vclock_destroy(v->base);
    gb_vclock_destroy(v->other);
}

static void run_vc_increment(void *ctx, long iters)
{
    vc_ctx *v = ctx;
    for (long i = 0; i < iters; i++)
        gb_vclock_increment(v->a, node_id((int)(i % v->n)));
}

static void run_naive_increment(void *ctx, long iters)
{
    vc_ctx *v = ctx;
    for (long i = 0; i < iters; i++)
        naive_increment(&v->na, node_id((int)(i % v->n)));
}

static void run_vc_merge(void *ctx, long iters)
{
    vc_ctx *v = ctx;
    for (long i = 0; i < iters; i++)
        gb_vclock_merge(v->a, v->b);
}

static void run_naive_merge(void *ctx, long iters)
{
    vc_ctx *v = ctx;
    for (long i = 0; i < iters; i++)
        naive_merge(&v->na, &v->nb);
}

static void run_vc_compare(void *ctx, long iters)
{
    vc_ctx *v = ctx;
    uint64_t s = 0;
    for (long i = 0; i < iters; i++)
        s += gb_vclock_compare(v->a, v->b);
    g_sink = s;
}

static void run_naive_compare(void *ctx, long iters)
{
    vc_ctx *v = ctx;
    uint64_t s = 0;
    for (long i = 0; i < iters; i++)
        s += naive_compare(&v->na, &v->nb);
    g_sink = s;
}

/* Merges that add entries: copy base, merge other (half new nodes). The
 * copy alone is timed separately and subtracted. */
static void run_vc_copy(void *ctx, long iters)
{
    vc_ctx *v = ctx;
    for (long i = 0; i < iters; i++)
        gb_vclock_copy(v->a, v->base);
}

static void run_vc_copy_merge(void *ctx, long iters)
{
    vc_ctx *v = ctx;
    for (long i = 0; i < iters; i++) {
        gb_vclock_copy(v->a, v->base);
        gb_vclock_merge(v->a, v->other);
    }
}

static void run_naive_copy(void *ctx, long iters)
{
    vc_ctx *v = ctx;
    for (long i = 0; i < iters; i++) {
        v->na.n = v->nbase.n;
        memcpy(v->na.node, v->nbase.node, (size_t)v->nbase.n * sizeof v->na.node[0]);
        memcpy(v->na.count, v->nbase.count, (size_t)v->nbase.n * sizeof v->na.count[0]);
        __asm__ __volatile__("" ::: "memory");
    }
}

static void run_naive_copy_merge(void *ctx, long iters)
{
    vc_ctx *v = ctx;
    for (long i = 0; i < iters; i++) {
        v->na.n = v->nbase.n;
        memcpy(v->na.node, v->nbase.node, (size_t)v->nbase.n * sizeof v->na.node[0]);
        memcpy(v->na.count, v->nbase.count, (size_t)v->nbase.n * sizeof v->na.count[0]);
        naive_merge(&v->na, &v->nother);
        __asm__ __volatile__("" ::: "memory");
    }
}

/* ---- report ----------------------------------------------------------------- */

static void row(const char *what, double ours, const char *base_name, double base, const char *goal,
                int met)
{
    printf("%-34s %9.1f  %-34s %9.1f  %6.2fx", what, ours, base_name, base, ours / base);
    if (goal)
        printf("  %-16s %s", goal, met ? "met" : "NOT MET");
    printf("\n");
}

static void print_source(void)
{
    gb_time_source_info info;
    gb_time_source(&info);
    printf("time source: %s", info.name);
    if (info.why_not_tsc)
        printf(" (TSC not used: %s)\n", info.why_not_tsc);
    else
        printf(" at %.3f GHz, calibration error %.2f ppm\n", info.tsc_ghz, info.calibration_error_ppm);
    printf("HLC physical source: %s\n",
           info.why_not_tsc ? "clock_gettime(CLOCK_REALTIME)"
                            : "CLOCK_REALTIME extrapolated with the TSC, re-read every 1 ms");
}

typedef struct hlc_numbers {
    double gettime, fast, rt_fast, now_slow, now1, now2, upd1, upd2, mnow1, mnow2, mupd1, mupd2;
} hlc_numbers;

static void measure_hlc(hlc_ctx *h, hlc_numbers *m, int full)
{
    m->gettime = measure(run_gettime_realtime, NULL);
    m->now1 = measure(run_hlc_now, h);
    m->upd1 = measure(run_hlc_update, h);
    if (!full)
        return;
    m->fast = measure(run_fast_ns, NULL);
    m->rt_fast = measure(run_realtime_fast_ns, NULL);
    m->now_slow = measure(run_hlc_now_slow_source, h);
    m->now2 = measure_2threads(run_hlc_now, h);
    m->upd2 = measure_2threads(run_hlc_update, h);
    m->mnow1 = measure(run_mutex_now, h);
    m->mnow2 = measure_2threads(run_mutex_now, h);
    m->mupd1 = measure(run_mutex_update, h);
    m->mupd2 = measure_2threads(run_mutex_update, h);
}

static void print_hlc_table(const hlc_numbers *m)
{
    printf("%-34s %9s  %-34s %9s  %7s\n", "operation (ns/op)", "ours", "baseline", "baseline",
           "ratio");
    row("gb_time_fast_ns (TSC, monotonic)", m->fast, "clock_gettime(REALTIME)", m->gettime, NULL, 0);
    row("gb_time_realtime_fast_ns", m->rt_fast, "clock_gettime(REALTIME)", m->gettime, NULL, 0);
    row("HLC now, 1 thread", m->now1, "clock_gettime(REALTIME)", m->gettime, "<= 1.5x",
        m->now1 <= 1.5 * m->gettime);
    row("HLC now, clock_gettime source", m->now_slow, "clock_gettime(REALTIME)", m->gettime, NULL, 0);
    row("HLC now, 1 thread", m->now1, "mutex HLC now, 1 thread", m->mnow1, NULL, 0);
    row("HLC now, 2 threads", m->now2, "mutex HLC now, 2 threads", m->mnow2, NULL, 0);
    row("HLC update, 1 thread", m->upd1, "mutex HLC update, 1 thread", m->mupd1, "< 30 ns",
        m->upd1 < 30);
    row("HLC update, 2 threads", m->upd2, "mutex HLC update, 2 threads", m->mupd2, NULL, 0);
}

typedef struct vc_numbers {
    double inc, ninc, merge, nmerge, cmp, ncmp, grow, ngrow;
} vc_numbers;

static int measure_vc(int n, vc_numbers *m, int full)
{
    vc_ctx *v = malloc(sizeof *v);
    if (!v || vc_ctx_init(v, n) != 0)
        return -1;
    m->merge = measure(run_vc_merge, v);
    m->nmerge = measure(run_naive_merge, v);
    m->grow = measure(run_vc_copy_merge, v) - measure(run_vc_copy, v);
    if (full) {
        m->cmp = measure(run_vc_compare, v);
        m->ncmp = measure(run_naive_compare, v);
        m->ngrow = measure(run_naive_copy_merge, v) - measure(run_naive_copy, v);
        m->inc = measure(run_vc_increment, v);
        m->ninc = measure(run_naive_increment, v);
    }
    vc_ctx_free(v);
    free(v);
    return 0;
}

static void print_vc_rows(int n, const vc_numbers *m)
{
    char a[64], b[64];
    snprintf(a, sizeof a, "vclock increment (%d)", n);
    snprintf(b, sizeof b, "naive increment (%d)", n);
    row(a, m->inc, b, m->ninc, NULL, 0);
    snprintf(a, sizeof a, "vclock merge (%d, same nodes)", n);
    snprintf(b, sizeof b, "naive merge (%d, same nodes)", n);
    row(a, m->merge, b, m->nmerge, n == 16 ? "< 50 ns" : NULL, m->merge < 50);
    snprintf(a, sizeof a, "vclock merge (%d, half new nodes)", n);
    snprintf(b, sizeof b, "naive merge (%d, half new nodes)", n);
    row(a, m->grow, b, m->ngrow, n == 16 ? "< 50 ns" : NULL, m->grow < 50);
    snprintf(a, sizeof a, "vclock compare (%d)", n);
    snprintf(b, sizeof b, "naive compare (%d)", n);
    row(a, m->cmp, b, m->ncmp, NULL, 0);
}

/* The .NET peer's published numbers (not re-measured here). */
#define PEER_NOW_NS 47.0
#define PEER_UPDATE_NS 68.0
#define PEER_MERGE10_NS 4100.0

static void print_peer(double now1, double upd1, double merge10)
{
    printf("\nagainst the .NET peer's reported numbers (not measured here):\n");
    printf("  HLC now            ours %7.1f ns   peer %7.1f ns   %6.1fx faster\n", now1, PEER_NOW_NS,
           PEER_NOW_NS / now1);
    printf("  HLC update         ours %7.1f ns   peer %7.1f ns   %6.1fx faster\n", upd1,
           PEER_UPDATE_NS, PEER_UPDATE_NS / upd1);
    printf("  vclock merge (10)  ours %7.1f ns   peer %7.1f ns   %6.0fx faster\n", merge10,
           PEER_MERGE10_NS, PEER_MERGE10_NS / merge10);
}

static int run_full(void)
{
    hlc_ctx *h = malloc(sizeof *h);
    if (!h || hlc_ctx_init(h) != 0)
        return 1;
    printf("gpubridge clock benchmarks: median of %d repetitions of ~%lld ms each\n", g_reps,
           (long long)(g_target_ns / 1000000));
    print_source();
    printf("\n");
    hlc_numbers hm;
    measure_hlc(h, &hm, 1);
    print_hlc_table(&hm);
    static const int sizes[] = {4, 10, 16, 64};
    double merge10 = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        vc_numbers vm;
        if (measure_vc(sizes[i], &vm, 1) != 0)
            return 1;
        print_vc_rows(sizes[i], &vm);
        if (sizes[i] == 10)
            merge10 = vm.merge;
    }
    printf("\nnaive = unsorted (node, counter) array with linear search (merge, compare O(n*m));\n"
           "mutex HLC = the same HLC rules under one pthread_mutex, same physical source.\n");
    print_peer(hm.now1, hm.upd1, merge10);
    printf("\ncommand: bench_clock_clocks (build/bench/bench_clock_clocks)\n");
    gb_hlc_destroy(h->clock);
    gb_hlc_destroy(h->slow_clock);
    free(h);
    return 0;
}

static const char *met(int ok)
{
    return ok ? "goal met" : "goal NOT met";
}

static int run_summary(void)
{
    hlc_ctx *h = malloc(sizeof *h);
    if (!h || hlc_ctx_init(h) != 0)
        return 1;
    printf("gpubridge clocks: a quick look (bench_clock_clocks --summary; full table without it)\n\n");
    printf("Every message carries a hybrid logical clock (HLC) stamp: physical time plus a\n"
           "counter, so stamps follow causality even when machines' clocks drift. Vector\n"
           "clocks (one counter per node) tell exactly whether two events are ordered.\n\n");
    print_source();
    hlc_numbers hm;
    measure_hlc(h, &hm, 0);
    vc_numbers v16, v10;
    if (measure_vc(16, &v16, 0) != 0 || measure_vc(10, &v10, 0) != 0)
        return 1;
    printf("\n  reading the system clock (clock_gettime REALTIME)  %6.1f ns\n", hm.gettime);
    printf("  HLC timestamp for a send (now)                    %6.1f ns  = %.2fx the clock read"
           " (goal <= 1.5x: %s)\n",
           hm.now1, hm.now1 / hm.gettime, met(hm.now1 <= 1.5 * hm.gettime));
    printf("  HLC timestamp for a receive (update)              %6.1f ns  (goal < 30 ns: %s)\n",
           hm.upd1, met(hm.upd1 < 30));
    printf("  vector clock merge, 16 nodes, same node set       %6.1f ns  (goal < 50 ns: %s;"
           " naive list %0.1f ns)\n",
           v16.merge, met(v16.merge < 50), v16.nmerge);
    printf("  vector clock merge, 16 nodes, half of them new    %6.1f ns  (goal < 50 ns: %s)\n",
           v16.grow, met(v16.grow < 50));
    print_peer(hm.now1, hm.upd1, v10.merge);
    printf("\nnumbers from one run on this machine; medians of %d repetitions.\n", g_reps);
    gb_hlc_destroy(h->clock);
    gb_hlc_destroy(h->slow_clock);
    free(h);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--summary") == 0) {
        g_reps = 5;
        g_target_ns = 10000000;
        return run_summary();
    }
    if (argc > 1) {
        fprintf(stderr, "usage: %s [--summary]\n", argv[0]);
        return 2;
    }
    return run_full();
}
