/*
 * Ring benchmark: host -> actor -> host round trips (median, p99) and
 * one-way throughput (messages/s per lane, batch 64) for the cpu ring and
 * the OpenCL rings on PoCL (persistent, event-driven), beside two baselines:
 * a pthread mutex + condition variable queue and Concurrency Kit's ck_ring
 * (SPSC, spinning), each with an echo / sink thread.
 *
 *   build/bench/bench_ring_ring [--quick]
 *
 * The handlers are portable kernel C, compiled natively for the cpu ring
 * and handed to OpenCL as source (GB_DUAL_SOURCE). Numbers from a busy
 * machine are only indicative; the run takes a few seconds.
 */
#if __has_include(<ck_ring.h>)
#include <ck_ring.h>
#define HAVE_CK 1
#endif
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpubridge/ring.h"
#include "gpubridge/time.h"
#include "ring/kernels.h"

GB_DUAL_SOURCE(bench_actors_src,
GB_DEVICE_FN gb_i32 bench_echo(GB_GLOBAL gb_u8 *state, GB_GLOBAL const gb_msg_header *msg, gb_u64 hlc,
                               gb_ring_ctx *ctx)
{
    GB_GLOBAL gb_u8 *out = gb_ring_begin_reply(ctx, msg, 8);
    if (!out)
        return -4;
    gb_payload_put_u64(out, 0, gb_payload_get_u64(msg, 0));
    gb_ring_end(ctx);
    return 0;
}
GB_DEVICE_FN gb_i32 bench_sink(GB_GLOBAL gb_u8 *state, GB_GLOBAL const gb_msg_header *msg, gb_u64 hlc,
                               gb_ring_ctx *ctx)
{
    GB_GLOBAL gb_u64 *sum = (GB_GLOBAL gb_u64 *)state;
    sum[0] += gb_payload_get_u64(msg, 0);
    return 0;
}
)

static int g_rtt = 2000;
static int g_msgs = 200000;

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct lat {
    double median_us, p99_us;
} lat;

static lat summarize(int64_t *ns, int n)
{
    qsort(ns, (size_t)n, sizeof *ns, cmp_i64);
    return (lat){ns[n / 2] / 1000.0, ns[(n * 99) / 100] / 1000.0};
}

/* ---- our rings ---------------------------------------------------------- */

static gb_ring *make_ring(const char *backend, gb_ring_mode mode, uint32_t lanes, uint32_t batch)
{
    static const gb_ring_actor_type types[2] = {
        {.name = "echo", .state_size = 8, .on_message = bench_echo, .device_fn = "bench_echo"},
        {.name = "sink", .state_size = 8, .on_message = bench_sink, .device_fn = "bench_sink"},
    };
    gb_ring_opts o = {.backend = backend, .mode = mode, .lanes = lanes, .threads = lanes < 2 ? lanes : 1,
                      .lane_capacity = 4096, .batch = batch, .types = types, .ntypes = 2, .device_source = bench_actors_src};
    if (strcmp(backend, "cpu") == 0)
        o.threads = lanes < 2 ? lanes : 2;
    gb_ring *r = NULL;
    if (gb_ring_create(&r, &o) != GB_OK || gb_ring_start(r) != GB_OK) {
        fprintf(stderr, "bench_ring: %s ring unavailable: %s\n", backend, gb_last_error());
        gb_ring_destroy(r);
        return NULL;
    }
    return r;
}

static int ring_rtt(gb_ring *r, lat *out)
{
    int64_t *ns = calloc((size_t)g_rtt, sizeof *ns);
    for (int i = -100; i < g_rtt; i++) { /* 100 warm-up round trips */
        uint64_t v = (uint64_t)i;
        gb_msg_header h = {.target = 7, .correlation = (uint64_t)i + 1000, .payload_len = 8};
        gb_msg_header o;
        uint64_t back = 0;
        int64_t t0 = gb_time_monotonic_ns();
        if (gb_ring_send(r, 0, &h, &v, GB_SEND_BLOCK) != GB_OK ||
            gb_ring_recv(r, &o, &back, sizeof back, 5000000000LL) != GB_OK || back != v) {
            free(ns);
            return -1;
        }
        if (i >= 0)
            ns[i] = gb_time_monotonic_ns() - t0;
    }
    *out = summarize(ns, g_rtt);
    free(ns);
    return 0;
}

/* One-way messages/s per lane: send g_msgs to sinks, drain. */
static double ring_throughput(gb_ring *r, uint32_t lanes)
{
    int64_t t0 = gb_time_monotonic_ns();
    for (int i = 0; i < g_msgs; i++) {
        uint64_t v = 1;
        gb_msg_header h = {.target = 100 + (uint64_t)(i % 64), .flags = GB_MSG_ONEWAY, .payload_len = 8};
        if (gb_ring_send(r, 1, &h, &v, GB_SEND_BLOCK) != GB_OK)
            return -1;
    }
    gb_ring_stop(r, GB_RING_DRAIN);
    double s = (gb_time_monotonic_ns() - t0) / 1e9;
    return g_msgs / s / lanes;
}

/* ---- baseline: mutex + condvar queue -------------------------------------- */

typedef struct mq {
    pthread_mutex_t m;
    pthread_cond_t c;
    uint64_t buf[4096];
    uint32_t head, tail;
} mq;

static void mq_init(mq *q)
{
    pthread_mutex_init(&q->m, NULL);
    pthread_cond_init(&q->c, NULL);
    q->head = q->tail = 0;
}

static void mq_put(mq *q, uint64_t v)
{
    pthread_mutex_lock(&q->m);
    while (q->tail - q->head == 4096)
        pthread_cond_wait(&q->c, &q->m);
    q->buf[q->tail++ % 4096] = v;
    pthread_cond_broadcast(&q->c);
    pthread_mutex_unlock(&q->m);
}

static uint64_t mq_get(mq *q)
{
    pthread_mutex_lock(&q->m);
    while (q->tail == q->head)
        pthread_cond_wait(&q->c, &q->m);
    uint64_t v = q->buf[q->head++ % 4096];
    pthread_cond_broadcast(&q->c);
    pthread_mutex_unlock(&q->m);
    return v;
}

static mq g_in, g_out;

static void *mq_echo(void *arg)
{
    for (;;) {
        uint64_t v = mq_get(&g_in);
        if (v == UINT64_MAX)
            return NULL;
        mq_put(&g_out, v);
    }
}

static void *mq_sink(void *arg)
{
    uint64_t sum = 0;
    for (int i = 0; i < g_msgs; i++)
        sum += mq_get(&g_in);
    *(uint64_t *)arg = sum;
    return NULL;
}

static void mq_bench(lat *rtt, double *tput)
{
    mq_init(&g_in);
    mq_init(&g_out);
    pthread_t t;
    pthread_create(&t, NULL, mq_echo, NULL);
    int64_t *ns = calloc((size_t)g_rtt, sizeof *ns);
    for (int i = 0; i < g_rtt; i++) {
        int64_t t0 = gb_time_monotonic_ns();
        mq_put(&g_in, (uint64_t)i);
        mq_get(&g_out);
        ns[i] = gb_time_monotonic_ns() - t0;
    }
    mq_put(&g_in, UINT64_MAX);
    pthread_join(t, NULL);
    *rtt = summarize(ns, g_rtt);
    free(ns);
    uint64_t sum = 0;
    int64_t t0 = gb_time_monotonic_ns();
    pthread_create(&t, NULL, mq_sink, &sum);
    for (int i = 0; i < g_msgs; i++)
        mq_put(&g_in, 1);
    pthread_join(t, NULL);
    *tput = g_msgs / ((gb_time_monotonic_ns() - t0) / 1e9);
}

/* ---- baseline: ck_ring SPSC, spinning ------------------------------------ */
#if HAVE_CK

#define CK_SIZE 4096
static ck_ring_t g_ck_in, g_ck_out;
static ck_ring_buffer_t g_ck_in_buf[CK_SIZE], g_ck_out_buf[CK_SIZE];

static void *ck_echo(void *arg)
{
    for (;;) {
        void *v;
        while (!ck_ring_dequeue_spsc(&g_ck_in, g_ck_in_buf, &v))
            ;
        if ((uintptr_t)v == UINTPTR_MAX)
            return NULL;
        while (!ck_ring_enqueue_spsc(&g_ck_out, g_ck_out_buf, v))
            ;
    }
}

static void *ck_sink(void *arg)
{
    uintptr_t sum = 0;
    for (int i = 0; i < g_msgs; i++) {
        void *v;
        while (!ck_ring_dequeue_spsc(&g_ck_in, g_ck_in_buf, &v))
            ;
        sum += (uintptr_t)v;
    }
    *(uintptr_t *)arg = sum;
    return NULL;
}

static void ck_bench(lat *rtt, double *tput)
{
    ck_ring_init(&g_ck_in, CK_SIZE);
    ck_ring_init(&g_ck_out, CK_SIZE);
    pthread_t t;
    pthread_create(&t, NULL, ck_echo, NULL);
    int64_t *ns = calloc((size_t)g_rtt, sizeof *ns);
    for (int i = 0; i < g_rtt; i++) {
        void *v;
        int64_t t0 = gb_time_monotonic_ns();
        while (!ck_ring_enqueue_spsc(&g_ck_in, g_ck_in_buf, (void *)(uintptr_t)(i + 1)))
            ;
        while (!ck_ring_dequeue_spsc(&g_ck_out, g_ck_out_buf, &v))
            ;
        ns[i] = gb_time_monotonic_ns() - t0;
    }
    while (!ck_ring_enqueue_spsc(&g_ck_in, g_ck_in_buf, (void *)UINTPTR_MAX))
        ;
    pthread_join(t, NULL);
    *rtt = summarize(ns, g_rtt);
    free(ns);
    uintptr_t sum = 0;
    int64_t t0 = gb_time_monotonic_ns();
    pthread_create(&t, NULL, ck_sink, &sum);
    for (int i = 0; i < g_msgs; i++)
        while (!ck_ring_enqueue_spsc(&g_ck_in, g_ck_in_buf, (void *)(uintptr_t)1))
            ;
    pthread_join(t, NULL);
    *tput = g_msgs / ((gb_time_monotonic_ns() - t0) / 1e9);
}
#endif

/* ---- the table ---------------------------------------------------------------- */

typedef struct row {
    const char *name;
    lat rtt;
    double tput;   /* per lane, batch 64 */
    double tput1;  /* per lane, batch 1 */
    int ok;
} row;

static row run_ring(const char *name, const char *backend, gb_ring_mode mode)
{
    row w = {.name = name};
    gb_ring *r = make_ring(backend, mode, 1, 64);
    if (!r)
        return w;
    w.ok = ring_rtt(r, &w.rtt) == 0;
    gb_ring_destroy(r);
    r = make_ring(backend, mode, 1, 64);
    if (r)
        w.tput = ring_throughput(r, 1);
    gb_ring_destroy(r);
    r = make_ring(backend, mode, 1, 1);
    if (r)
        w.tput1 = ring_throughput(r, 1);
    gb_ring_destroy(r);
    return w;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--quick") == 0) {
        g_rtt = 300;
        g_msgs = 20000;
    }
    row rows[6];
    int n = 0;
    rows[n++] = run_ring("cpu ring, persistent", "cpu", GB_RING_PERSISTENT);
    rows[n++] = run_ring("cpu ring, event-driven", "cpu", GB_RING_EVENT_DRIVEN);
    rows[n++] = run_ring("opencl ring (PoCL), persistent", "opencl", GB_RING_PERSISTENT);
    rows[n++] = run_ring("opencl ring (PoCL), event-driven", "opencl", GB_RING_EVENT_DRIVEN);
    row mqr = {.name = "baseline: mutex+condvar queue", .ok = 1};
    mq_bench(&mqr.rtt, &mqr.tput);
    row ckr = {.name = "baseline: ck_ring spsc (spinning)"};
#if HAVE_CK
    ckr.ok = 1;
    ck_bench(&ckr.rtt, &ckr.tput);
#else
    fprintf(stderr, "bench_ring: ck_ring.h not found (scripts/deps.sh bench installs libck-dev)\n");
#endif
    rows[n++] = mqr;
    rows[n++] = ckr;
    printf("ring round trip host->actor->host (%d samples) and one-way throughput (%d msgs), 1 lane\n", g_rtt,
           g_msgs);
    printf("%-36s %10s %10s %14s %14s %10s %11s\n", "system", "median us", "p99 us", "msgs/s batch64",
           "msgs/s batch1", "rtt/mutex", "tput/mutex");
    for (int i = 0; i < n; i++) {
        if (!rows[i].ok) {
            printf("%-36s %10s\n", rows[i].name, "unavailable");
            continue;
        }
        char b1[32] = "-";
        if (rows[i].tput1 > 0)
            snprintf(b1, sizeof b1, "%.0f", rows[i].tput1);
        printf("%-36s %10.2f %10.2f %14.0f %14s %9.2fx %10.2fx\n", rows[i].name, rows[i].rtt.median_us,
               rows[i].rtt.p99_us, rows[i].tput, b1, rows[i].rtt.median_us / mqr.rtt.median_us,
               rows[i].tput / mqr.tput);
    }
    printf("command: %s%s\n", argv[0], argc > 1 ? " --quick" : "");
    return 0;
}
