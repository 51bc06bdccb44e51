/*
 * Actor runtime benchmark: latency, throughput, fan-out and activation cost
 * of the CPU silo, each beside a floor baseline (two plain threads spinning
 * on a shared word, or a pthread mutex + condition variable queue).
 *
 *   build/bench/bench_actors_actors [--quick] [--max-actors N] [--only NAME]
 *   build/bench/bench_actors_actors --peer-format WORKLOAD [ARGS...]
 *
 * --peer-format runs one workload of the race against CAF and Erlang
 * (docs/benchmarks.md, peer_workloads.h) and prints only its RESULT lines;
 * scripts/bench-peers.sh drives it.
 *
 * Timings depend on the machine and its load: re-run on a quiet machine.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpubridge/actor.h"
#include "gpubridge/time.h"

static int g_quick;
static const char *g_only; /* run only the benchmarks whose name contains this */

static int want(const char *name)
{
    return !g_only || strstr(name, g_only);
}
static uint64_t g_max_actors = 1000000;

/* ---- helpers --------------------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void percentiles(int64_t *v, size_t n, double *median, double *p99)
{
    qsort(v, n, sizeof *v, cmp_i64);
    *median = (double)v[n / 2];
    *p99 = (double)v[(size_t)((double)n * 0.99)];
}

static void row(const char *what, double ours, double base, const char *unit, int lower_better)
{
    double ratio = lower_better ? base / ours : ours / base;
    printf("%-44s %12.1f %12.1f %8.2fx  %s\n", what, ours, base, ratio, unit);
}

/* A silo; g and w (may be NULL) turn causal recording on (docs/causal.md). */
static gb_silo *silo_causal(uint32_t workers, gb_causal_graph *g, gb_waitfor *w)
{
    gb_silo_opts o = {.workers = workers, .spin_ns = 200000, .caller_spin_ns = 200000, .causal = g, .waitfor = w};
    gb_silo *s;
    if (gb_silo_create(&s, &o) != GB_OK) {
        fprintf(stderr, "silo: %s\n", gb_last_error());
        exit(1);
    }
    return s;
}

static gb_silo *silo(uint32_t workers)
{
    return silo_causal(workers, NULL, NULL);
}

static void reg(gb_silo *s, const char *name, gb_actor_handler_fn fn, size_t state)
{
    gb_actor_type t = {.name = name, .handler = fn, .state_size = state};
    if (gb_actor_type_register(s, &t) != GB_OK) {
        fprintf(stderr, "register: %s\n", gb_last_error());
        exit(1);
    }
}

static gb_actor_id ref(gb_silo *s, const char *type, uint64_t key)
{
    gb_actor_id id;
    if (gb_actor_ref_u64(s, type, key, &id) != GB_OK) {
        fprintf(stderr, "ref: %s\n", gb_last_error());
        exit(1);
    }
    return id;
}

static void send_retry(gb_silo *s, gb_actor_id id, uint32_t m, const void *p, uint32_t len)
{
    gb_status st;
    while ((st = gb_send(s, id, m, p, len)) == GB_EAGAIN)
        gb_cpu_relax();
    if (st != GB_OK) {
        fprintf(stderr, "send: %s\n", gb_last_error());
        exit(1);
    }
}

/* Wait for the end of a throughput run without spinning: on 2 cores a
 * spinning waiter would take a core from the workers. The 20 us naps are
 * noise next to runs of tens of milliseconds. */
static void wait_flag(_Atomic int *f)
{
    struct timespec nap = {0, 20000};
    while (!atomic_load_explicit(f, memory_order_acquire))
        nanosleep(&nap, NULL);
}

/* ---- baselines ------------------------------------------------------------------------ */

/* Two threads bouncing a counter through one cache line. */
static _Atomic uint64_t g_ball;

static void *spin_partner(void *arg)
{
    uint64_t n = *(uint64_t *)arg;
    for (uint64_t i = 0; i < n; i++) {
        while (atomic_load_explicit(&g_ball, memory_order_acquire) != 2 * i + 1)
            gb_cpu_relax();
        atomic_store_explicit(&g_ball, 2 * i + 2, memory_order_release);
    }
    return NULL;
}

static void base_spin_pingpong(int64_t *samples, uint64_t n)
{
    pthread_t t;
    atomic_store(&g_ball, 0);
    pthread_create(&t, NULL, spin_partner, &n);
    for (uint64_t i = 0; i < n; i++) {
        int64_t t0 = gb_time_fast_ns();
        atomic_store_explicit(&g_ball, 2 * i + 1, memory_order_release);
        while (atomic_load_explicit(&g_ball, memory_order_acquire) != 2 * i + 2)
            gb_cpu_relax();
        samples[i] = gb_time_fast_ns() - t0;
    }
    pthread_join(t, NULL);
}

/* A mutex + condvar queue of uint64 values. */
typedef struct mq {
    pthread_mutex_t m;
    pthread_cond_t c;
    uint64_t *v;
    size_t head, tail, cap;
} mq;

static void mq_init(mq *q, size_t cap)
{
    pthread_mutex_init(&q->m, NULL);
    pthread_cond_init(&q->c, NULL);
    q->v = malloc(cap * sizeof *q->v);
    q->head = q->tail = 0;
    q->cap = cap;
}

static void mq_free(mq *q)
{
    free(q->v);
    pthread_mutex_destroy(&q->m);
    pthread_cond_destroy(&q->c);
}

static void mq_push(mq *q, uint64_t x)
{
    pthread_mutex_lock(&q->m);
    while (q->tail - q->head == q->cap) {
        pthread_mutex_unlock(&q->m);
        sched_yield();
        pthread_mutex_lock(&q->m);
    }
    q->v[q->tail++ % q->cap] = x;
    pthread_cond_signal(&q->c);
    pthread_mutex_unlock(&q->m);
}

static uint64_t mq_pop(mq *q)
{
    pthread_mutex_lock(&q->m);
    while (q->head == q->tail)
        pthread_cond_wait(&q->c, &q->m);
    uint64_t x = q->v[q->head++ % q->cap];
    pthread_mutex_unlock(&q->m);
    return x;
}

static mq g_req, g_resp;

static void *mq_echo(void *arg)
{
    uint64_t n = *(uint64_t *)arg;
    for (uint64_t i = 0; i < n; i++)
        mq_push(&g_resp, mq_pop(&g_req));
    return NULL;
}

static void base_mq_pingpong(int64_t *samples, uint64_t n)
{
    mq_init(&g_req, 1024);
    mq_init(&g_resp, 1024);
    pthread_t t;
    pthread_create(&t, NULL, mq_echo, &n);
    for (uint64_t i = 0; i < n; i++) {
        int64_t t0 = gb_time_fast_ns();
        mq_push(&g_req, i);
        mq_pop(&g_resp);
        samples[i] = gb_time_fast_ns() - t0;
    }
    pthread_join(t, NULL);
    mq_free(&g_req);
    mq_free(&g_resp);
}

static void *mq_producer(void *arg)
{
    uint64_t n = *(uint64_t *)arg;
    for (uint64_t i = 0; i < n; i++)
        mq_push(&g_req, i);
    return NULL;
}

/* producers threads push n each into one consumer (this thread); msgs/s. */
static double base_mq_many_to_one(int producers, uint64_t n)
{
    mq_init(&g_req, 65536);
    pthread_t t[8];
    int64_t t0 = gb_time_fast_ns();
    for (int i = 0; i < producers; i++)
        pthread_create(&t[i], NULL, mq_producer, &n);
    for (uint64_t i = 0; i < n * (uint64_t)producers; i++)
        mq_pop(&g_req);
    double secs = (double)(gb_time_fast_ns() - t0) / 1e9;
    for (int i = 0; i < producers; i++)
        pthread_join(t[i], NULL);
    mq_free(&g_req);
    return (double)n * producers / secs;
}

/* ---- 1. ping-pong between two actors --------------------------------------------------- */

#define M_PING 1u
#define M_PONG 2u
#define M_START 3u

static int64_t *g_samples;
static uint64_t g_n, g_i;
static int64_t g_t0;
static _Atomic int g_done;
static gb_actor_id g_a, g_b;

static gb_status pp_handler(gb_actor_ctx *ctx, void *st, const gb_msg_header *m, const void *p)
{
    if (m->method == M_PING)
        return gb_ctx_send(ctx, m->sender, M_PONG, NULL, 0);
    if (m->method == M_PONG) {
        g_samples[g_i++] = gb_time_fast_ns() - g_t0;
        if (g_i == g_n) {
            atomic_store_explicit(&g_done, 1, memory_order_release);
            return GB_OK;
        }
    }
    g_t0 = gb_time_fast_ns();
    return gb_ctx_send(ctx, g_b, M_PING, NULL, 0);
}

/* n round trips on s (destroyed after); samples left in g_samples. */
static void pingpong_on(gb_silo *s, uint64_t n, double *med, double *p99)
{
    reg(s, "pp", pp_handler, 0);
    g_a = ref(s, "pp", 1);
    g_b = ref(s, "pp", 2);
    g_n = n;
    g_i = 0;
    atomic_store(&g_done, 0);
    send_retry(s, g_a, M_START, NULL, 0);
    wait_flag(&g_done);
    percentiles(g_samples, n, med, p99);
    gb_silo_destroy(s);
}

static void bench_pingpong(void)
{
    uint64_t n = g_quick ? 20000 : 200000;
    g_samples = malloc(n * sizeof *g_samples);
    double med, p99, bmed, bp99, mmed, mp99;
    pingpong_on(silo(2), n, &med, &p99);
    base_spin_pingpong(g_samples, n);
    percentiles(g_samples, n, &bmed, &bp99);
    row("ping-pong round trip, median (vs spin)", med, bmed, "ns", 1);
    row("ping-pong round trip, p99 (vs spin)", p99, bp99, "ns", 1);
    base_mq_pingpong(g_samples, n);
    percentiles(g_samples, n, &mmed, &mp99);
    row("ping-pong round trip, median (vs mutex+cv)", med, mmed, "ns", 1);
    row("ping-pong round trip, p99 (vs mutex+cv)", p99, mp99, "ns", 1);
    free(g_samples);
}

/* ---- 2. many-to-one throughput ---------------------------------------------------------- */

static _Atomic uint64_t g_count;
static uint64_t g_target_count;

static gb_status sink_handler(gb_actor_ctx *ctx, void *st, const gb_msg_header *m, const void *p)
{
    uint64_t *c = st;
    if (++*c == g_target_count)
        atomic_store_explicit(&g_done, 1, memory_order_release);
    return GB_OK;
}

typedef struct prod {
    gb_silo *s;
    gb_actor_id id;
    uint64_t n;
} prod;

static void *ext_producer(void *arg)
{
    prod *p = arg;
    uint64_t v = 0;
    for (uint64_t i = 0; i < p->n; i++)
        send_retry(p->s, p->id, 1, &v, sizeof v);
    return NULL;
}

/* Source actors: each sends `per` one-way messages to the sink in windows
 * of 64 followed by one call; the next window starts when that call's
 * response arrives, so at most 100 x 65 messages are in flight (flow
 * control: a handler never spins on a full mailbox). */
static uint64_t g_per_source;
static gb_actor_id g_sink;

static gb_status source_handler(gb_actor_ctx *ctx, void *st, const gb_msg_header *m, const void *p);

static void source_next(gb_actor_ctx *ctx, void *arg, gb_status status, const void *p, uint32_t len)
{
    gb_msg_header h = {.method = 2};
    source_handler(ctx, arg, &h, NULL);
}

static gb_status source_handler(gb_actor_ctx *ctx, void *st, const gb_msg_header *m, const void *p)
{
    uint64_t *sent = st, v = 0;
    for (int k = 0; k < 64 && *sent < g_per_source; k++, ++*sent)
        if (gb_ctx_send(ctx, g_sink, 1, &v, sizeof v) != GB_OK)
            fprintf(stderr, "source: %s\n", gb_last_error());
    if (*sent < g_per_source) {
        ++*sent; /* the call below is one of the messages too */
        return gb_ctx_call(ctx, g_sink, 1, &v, sizeof v, 0, source_next, st);
    }
    return GB_OK;
}

static double run_ext_many_to_one(int producers, uint64_t per)
{
    gb_silo *s = silo(producers == 1 ? 1 : 2);
    reg(s, "sink", sink_handler, sizeof(uint64_t));
    gb_actor_id id = ref(s, "sink", 0);
    g_target_count = per * (uint64_t)producers;
    atomic_store(&g_done, 0);
    pthread_t t[8];
    prod pr = {s, id, per};
    int64_t t0 = gb_time_fast_ns();
    for (int i = 0; i < producers; i++)
        pthread_create(&t[i], NULL, ext_producer, &pr);
    wait_flag(&g_done);
    double secs = (double)(gb_time_fast_ns() - t0) / 1e9;
    for (int i = 0; i < producers; i++)
        pthread_join(t[i], NULL);
    gb_silo_destroy(s);
    return (double)g_target_count / secs;
}

static double run_actor_many_to_one(int sources, uint64_t per)
{
    gb_silo *s = silo(2);
    reg(s, "sink", sink_handler, sizeof(uint64_t));
    reg(s, "src", source_handler, sizeof(uint64_t));
    g_sink = ref(s, "sink", 0);
    g_per_source = per;
    g_target_count = per * (uint64_t)sources;
    atomic_store(&g_done, 0);
    int64_t t0 = gb_time_fast_ns();
    for (int i = 0; i < sources; i++)
        send_retry(s, ref(s, "src", (uint64_t)i), 2, NULL, 0);
    wait_flag(&g_done);
    double secs = (double)(gb_time_fast_ns() - t0) / 1e9;
    gb_silo_destroy(s);
    return (double)g_target_count / secs;
}

static void bench_many_to_one(void)
{
    uint64_t n = g_quick ? 500000 : 5000000;
    double ours = run_ext_many_to_one(1, n);
    double base = base_mq_many_to_one(1, n);
    row("1 thread -> 1 actor, 1 worker (vs mutex+cv)", ours / 1e6, base / 1e6, "M msg/s", 0);
    ours = run_ext_many_to_one(2, n / 2);
    base = base_mq_many_to_one(2, n / 2);
    row("2 threads -> 1 actor (vs mutex+cv queue)", ours / 1e6, base / 1e6, "M msg/s", 0);
    ours = run_actor_many_to_one(100, n / 100);
    row("100 actors -> 1 actor (vs 1-thread mutex+cv)", ours / 1e6, base / 1e6, "M msg/s", 0);
}

/* ---- 3. fan-out / fan-in ------------------------------------------------------------------ */

#define FAN 1000

typedef struct fan_state {
    uint64_t replies, rounds;
} fan_state;

static uint64_t g_rounds;
static gb_actor_id g_workers[FAN];

static void fan_in(gb_actor_ctx *ctx, void *arg, gb_status st, const void *p, uint32_t len);

static void fan_out(gb_actor_ctx *ctx)
{
    for (int i = 0; i < FAN; i++)
        if (gb_ctx_call(ctx, g_workers[i], 1, NULL, 0, 0, fan_in, NULL) != GB_OK)
            fprintf(stderr, "fan-out: %s\n", gb_last_error());
}

static fan_state g_fan;

static void fan_in(gb_actor_ctx *ctx, void *arg, gb_status st, const void *p, uint32_t len)
{
    if (++g_fan.replies < FAN)
        return;
    g_fan.replies = 0;
    if (++g_fan.rounds == g_rounds)
        atomic_store_explicit(&g_done, 1, memory_order_release);
    else
        fan_out(ctx);
}

static gb_status coord_handler(gb_actor_ctx *ctx, void *st, const gb_msg_header *m, const void *p)
{
    fan_out(ctx);
    return GB_OK;
}

static gb_status worker_handler(gb_actor_ctx *ctx, void *st, const gb_msg_header *m, const void *p)
{
    ++*(uint64_t *)st;
    return GB_OK; /* the status is the response */
}

static mq g_work;
static _Atomic uint64_t g_work_done;

static void *mq_worker(void *arg)
{
    for (;;) {
        uint64_t x = mq_pop(&g_work);
        if (x == UINT64_MAX)
            return NULL;
        atomic_fetch_add_explicit(&g_work_done, 1, memory_order_release);
    }
}

static double base_fan(uint64_t rounds)
{
    mq_init(&g_work, 2 * FAN);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, mq_worker, NULL);
    atomic_store(&g_work_done, 0);
    int64_t t0 = gb_time_fast_ns();
    for (uint64_t r = 0; r < rounds; r++) {
        for (uint64_t i = 0; i < FAN; i++)
            mq_push(&g_work, i);
        while (atomic_load_explicit(&g_work_done, memory_order_acquire) < (r + 1) * FAN)
            gb_cpu_relax();
    }
    double us = (double)(gb_time_fast_ns() - t0) / 1e3 / (double)rounds;
    for (int i = 0; i < 2; i++)
        mq_push(&g_work, UINT64_MAX);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    mq_free(&g_work);
    return us;
}

static void bench_fan(void)
{
    g_rounds = g_quick ? 50 : 500;
    gb_silo *s = silo(2);
    reg(s, "coord", coord_handler, 0);
    reg(s, "worker", worker_handler, sizeof(uint64_t));
    for (int i = 0; i < FAN; i++)
        g_workers[i] = ref(s, "worker", (uint64_t)i);
    gb_actor_id c = ref(s, "coord", 0);
    memset(&g_fan, 0, sizeof g_fan);
    atomic_store(&g_done, 0);
    int64_t t0 = gb_time_fast_ns();
    send_retry(s, c, 1, NULL, 0);
    wait_flag(&g_done);
    double us = (double)(gb_time_fast_ns() - t0) / 1e3 / (double)g_rounds;
    gb_silo_destroy(s);
    row("fan-out/fan-in 1000 calls, per round (vs mq)", us, base_fan(g_rounds), "us", 1);
}

/* ---- 4. activation rate ----------------------------------------------------------------------- */

static gb_status act_handler(gb_actor_ctx *ctx, void *st, const gb_msg_header *m, const void *p)
{
    if (atomic_fetch_add_explicit(&g_count, 1, memory_order_relaxed) + 1 == g_target_count)
        atomic_store_explicit(&g_done, 1, memory_order_release);
    return GB_OK;
}

/* Baseline: a record per actor, malloc'd and inserted in a mutex-protected
 * chained hash table (the obvious simple directory), no messaging. */
typedef struct brec {
    struct brec *next;
    uint64_t id;
    char state[32];
} brec;

static double base_activation(uint64_t n)
{
    size_t buckets = 1024;
    brec **tab = calloc(buckets, sizeof *tab);
    size_t count = 0;
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    int64_t t0 = gb_time_fast_ns();
    for (uint64_t k = 0; k < n; k++) {
        brec *r = calloc(1, sizeof *r);
        r->id = gb_actor_id_u64("act", k);
        pthread_mutex_lock(&m);
        if (++count > buckets) { /* grow x2 */
            brec **nt = calloc(buckets * 2, sizeof *nt);
            for (size_t b = 0; b < buckets; b++)
                for (brec *x = tab[b], *nx; x; x = nx) {
                    nx = x->next;
                    x->next = nt[x->id & (buckets * 2 - 1)];
                    nt[x->id & (buckets * 2 - 1)] = x;
                }
            free(tab);
            tab = nt;
            buckets *= 2;
        }
        r->next = tab[r->id & (buckets - 1)];
        tab[r->id & (buckets - 1)] = r;
        pthread_mutex_unlock(&m);
    }
    double ns = (double)(gb_time_fast_ns() - t0) / (double)n;
    for (size_t b = 0; b < buckets; b++)
        for (brec *x = tab[b], *nx; x; x = nx) {
            nx = x->next;
            free(x);
        }
    free(tab);
    return ns;
}

static void bench_activation(void)
{
    for (uint64_t n = 1000; n <= g_max_actors; n *= 10) {
        gb_silo *s = silo(1); /* one sender thread, one worker: the 2 cores */
        gb_actor_type t = {.name = "act", .handler = act_handler, .state_size = 32};
        gb_actor_type_register(s, &t);
        atomic_store(&g_count, 0);
        atomic_store(&g_done, 0);
        g_target_count = n;
        int64_t t0 = gb_time_fast_ns();
        for (uint64_t k = 0; k < n; k++)
            send_retry(s, ref(s, "act", k), 1, NULL, 0);
        wait_flag(&g_done);
        double ns = (double)(gb_time_fast_ns() - t0) / (double)n;
        gb_silo_destroy(s);
        char what[64];
        snprintf(what, sizeof what, "activation, %llu actors (vs malloc+map)", (unsigned long long)n);
        row(what, ns, base_activation(n), "ns/actor", 1);
    }
}

#include "actors/peer_workloads.h"

/* ---- 5. external call + wait ---------------------------------------------------------------------- */

static gb_status echo_handler(gb_actor_ctx *ctx, void *st, const gb_msg_header *m, const void *p)
{
    return GB_OK;
}

static void bench_external_call(void)
{
    uint64_t n = g_quick ? 20000 : 200000;
    int64_t *v = malloc(n * sizeof *v);
    gb_silo *s = silo(1);
    reg(s, "echo", echo_handler, 0);
    gb_actor_id id = ref(s, "echo", 0);
    for (uint64_t i = 0; i < n; i++) {
        int64_t t0 = gb_time_fast_ns();
        if (gb_call(s, id, 1, &i, sizeof i, 0, NULL, 0, NULL) != GB_OK)
            fprintf(stderr, "call: %s\n", gb_last_error());
        v[i] = gb_time_fast_ns() - t0;
    }
    gb_silo_destroy(s);
    double med, p99, bmed, bp99;
    percentiles(v, n, &med, &p99);
    base_mq_pingpong(v, n);
    percentiles(v, n, &bmed, &bp99);
    row("external gb_call + wait, median (vs mutex+cv)", med, bmed, "ns", 1);
    row("external gb_call + wait, p99 (vs mutex+cv)", p99, bp99, "ns", 1);
    free(v);
}

/* ---- 6. causal recording on vs off ------------------------------------------------------------ */

static void bench_causal(void)
{
    uint64_t n = g_quick ? 20000 : 100000;
    g_samples = malloc(n * sizeof *g_samples);
    gb_causal_graph *g;
    gb_waitfor *w;
    if (gb_causal_create(&g) != GB_OK || gb_waitfor_create(&w) != GB_OK) {
        fprintf(stderr, "causal: %s\n", gb_last_error());
        exit(1);
    }
    double off_med, off_p99, on_med, on_p99;
    pingpong_on(silo(2), n, &off_med, &off_p99);
    pingpong_on(silo_causal(2, g, w), n, &on_med, &on_p99);
    row("ping-pong, causal recording on, median (vs off)", on_med, off_med, "ns", 1);
    row("ping-pong, causal recording on, p99 (vs off)", on_p99, off_p99, "ns", 1);
    printf("# events recorded with recording on: %zu\n", gb_causal_count(g));
    gb_causal_destroy(g);
    gb_waitfor_destroy(w);
    free(g_samples);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--peer-format"))
        return peer_main(argc - 2, argv + 2);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            g_quick = 1;
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            g_only = argv[++i];
        else if (!strcmp(argv[i], "--max-actors") && i + 1 < argc)
            g_max_actors = strtoull(argv[++i], NULL, 10);
        else {
            fprintf(stderr,
                    "usage: %s [--quick] [--max-actors N] "
                    "[--peer-format WORKLOAD [ARGS...]] "
                    "[--only pingpong|call|many|fan|activation|causal]\n",
                    argv[0]);
            return 2;
        }
    }
    if (g_quick && g_max_actors > 100000)
        g_max_actors = 100000;
    printf("# command:");
    for (int i = 0; i < argc; i++)
        printf(" %s", argv[i]);
    printf("\n# ratio: how many times better ours is than the baseline (>1 = ours better)\n");
    printf("%-44s %12s %12s %9s  %s\n", "benchmark", "ours", "baseline", "ratio", "unit");
    if (want("pingpong"))
        bench_pingpong();
    if (want("call"))
        bench_external_call();
    if (want("many"))
        bench_many_to_one();
    if (want("fan"))
        bench_fan();
    if (want("activation"))
        bench_activation();
    if (want("causal"))
        bench_causal();
    return 0;
}
