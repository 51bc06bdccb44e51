/*
 * Ring benchmark, two tables.
 *
 * 1. Rings: host -> actor -> host round trips (median, p99) and one-way
 *    throughput (messages/s per lane: ring batch 64 with single sends, ring
 *    batch 1, and gb_ring_send_batch of 64) for the cpu ring and the OpenCL
 *    rings on PoCL (persistent, event-driven), beside two baselines: a
 *    pthread mutex + condition variable queue and Concurrency Kit's ck_ring
 *    (SPSC, spinning), each with an echo / sink thread.
 * 2. Queues: the ring's MPSC slot queue (kernels/ring_queue.gbk) against
 *    ck_ring with the same shape: one producer thread, one consumer thread,
 *    4096 slots of 64 bytes (ours: 48-byte header + 8-byte payload; ck: a
 *    64-byte struct through CK_RING_PROTOTYPE), both sides spinning; ours
 *    one message at a time and in batches of 64, ck SPSC and MPSC.
 *
 *   build/bench/bench_ring_ring [--quick]
 *
 * Each ring throughput is the median of three runs, each queue's of five. The handlers are portable
 * kernel C, compiled natively for the cpu ring and handed to OpenCL as
 * source (GB_DUAL_SOURCE). Numbers from a busy machine are only
 * indicative; the run takes a few seconds.
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
#include "ring/queue.h"

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

/* The same, with gb_ring_send_batch (64 messages per call). */
static double ring_throughput_batch(gb_ring *r, uint32_t lanes)
{
    enum { B = 64 };
    gb_msg_header h[B];
    uint64_t v[B];
    const void *p[B];
    int64_t t0 = gb_time_monotonic_ns();
    for (int i = 0; i < g_msgs; i += B) {
        uint32_t n = g_msgs - i < B ? (uint32_t)(g_msgs - i) : B, sent = 0;
        for (uint32_t k = 0; k < n; k++) {
            v[k] = 1;
            p[k] = &v[k];
            h[k] = (gb_msg_header){.target = 100 + (uint64_t)((i + (int)k) % 64), .flags = GB_MSG_ONEWAY,
                                   .payload_len = 8};
        }
        if (gb_ring_send_batch(r, 1, h, p, n, GB_SEND_BLOCK, &sent) != GB_OK || sent != n)
            return -1;
    }
    gb_ring_stop(r, GB_RING_DRAIN);
    double s = (gb_time_monotonic_ns() - t0) / 1e9;
    return g_msgs / s / lanes;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median3(double a, double b, double c)
{
    double v[3] = {a, b, c};
    qsort(v, 3, sizeof *v, cmp_double);
    return v[1];
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

/* ---- queue against queue: 1 producer -> 1 consumer, 4096 x 64-byte slots ---- */

#define QCAP 4096
#define QBATCH 64
static uint64_t g_qn; /* messages per queue run */

typedef struct ours_arg {
    gb_mpsc_queue *q;
    int batch;
    uint64_t sum;
} ours_arg;

static void *ours_consumer(void *p)
{
    ours_arg *a = p;
    gb_msg_header h[QBATCH];
    uint64_t v[QBATCH], sum = 0;
    for (uint64_t got = 0; got < g_qn;) {
        uint32_t k = 0;
        if (a->batch) {
            if (gbi_mpsc_try_dequeue_batch(a->q, h, v, sizeof v[0], QBATCH, &k) != GB_OK)
                continue;
        } else if (gbi_mpsc_try_dequeue(a->q, h, v, sizeof v[0]) == GB_OK) {
            k = 1;
        }
        for (uint32_t i = 0; i < k; i++)
            sum += v[i];
        got += k;
    }
    a->sum = sum;
    return NULL;
}

static void ours_produce(gb_mpsc_queue *q, int batch)
{
    gb_msg_header h[QBATCH];
    uint64_t v[QBATCH];
    const void *p[QBATCH];
    for (uint64_t i = 0; i < g_qn;) {
        uint32_t n = batch ? (g_qn - i < QBATCH ? (uint32_t)(g_qn - i) : QBATCH) : 1;
        for (uint32_t k = 0; k < n; k++) {
            h[k] = (gb_msg_header){.target = i + k, .payload_len = 8};
            v[k] = i + k;
            p[k] = &v[k];
        }
        for (uint32_t done = 0, k; done < n; done += k) {
            k = 0;
            if (!batch)
                k = gbi_mpsc_try_enqueue(q, h, v) == GB_OK;
            else if (gbi_mpsc_try_enqueue_batch(q, h + done, p + done, n - done, &k) != GB_OK)
                k = 0;
        }
        i += n;
    }
}

/* Messages/s through our queue, one at a time or in batches. */
static double ours_queue(int batch)
{
    size_t bytes = gbi_mpsc_bytes(QCAP, 64);
    void *buf = NULL;
    gb_mpsc_queue *q;
    if (posix_memalign(&buf, 128, bytes) != 0 || gbi_mpsc_init(buf, bytes, QCAP, 64, &q) != GB_OK) {
        free(buf);
        return -1;
    }
    ours_arg a = {.q = q, .batch = batch};
    pthread_t t;
    int64_t t0 = gb_time_monotonic_ns();
    pthread_create(&t, NULL, ours_consumer, &a);
    ours_produce(q, batch);
    pthread_join(t, NULL);
    double r = g_qn / ((gb_time_monotonic_ns() - t0) / 1e9);
    free(buf);
    return a.sum == g_qn * (g_qn - 1) / 2 ? r : -1;
}

#if HAVE_CK
struct qslot {
    unsigned char b[64]; /* a whole slot: header and payload */
};
CK_RING_PROTOTYPE(qslot, qslot)
static ck_ring_t g_qck;
static struct qslot g_qck_buf[QCAP];

typedef struct ck_q_arg {
    int mpsc;
    uint64_t sum;
} ck_q_arg;

static void *ck_q_consumer(void *p)
{
    ck_q_arg *a = p;
    int mpsc = a->mpsc;
    uint64_t sum = 0;
    for (uint64_t got = 0; got < g_qn;) {
        struct qslot m;
        bool ok = mpsc ? CK_RING_DEQUEUE_MPSC(qslot, &g_qck, g_qck_buf, &m)
                       : CK_RING_DEQUEUE_SPSC(qslot, &g_qck, g_qck_buf, &m);
        if (!ok)
            continue;
        uint64_t v;
        memcpy(&v, m.b + sizeof(gb_msg_header), sizeof v);
        sum += v;
        got++;
    }
    a->sum = sum;
    return NULL;
}

/* Messages/s through ck_ring with 64-byte entries, SPSC or MPSC. */
static double ck_queue(int mpsc)
{
    ck_ring_init(&g_qck, QCAP);
    ck_q_arg a = {.mpsc = mpsc};
    pthread_t t;
    int64_t t0 = gb_time_monotonic_ns();
    pthread_create(&t, NULL, ck_q_consumer, &a);
    for (uint64_t i = 0; i < g_qn; i++) {
        struct qslot m;
        gb_msg_header h = {.target = i, .payload_len = 8};
        memcpy(m.b, &h, sizeof h);
        memcpy(m.b + sizeof h, &i, sizeof i);
        while (!(mpsc ? CK_RING_ENQUEUE_MPSC(qslot, &g_qck, g_qck_buf, &m)
                      : CK_RING_ENQUEUE_SPSC(qslot, &g_qck, g_qck_buf, &m)))
            ;
    }
    pthread_join(t, NULL);
    double r = g_qn / ((gb_time_monotonic_ns() - t0) / 1e9);
    return a.sum == g_qn * (g_qn - 1) / 2 ? r : -1;
}
#endif

#define QREPS 5

/* Median of QREPS runs of each queue, the runs interleaved so that a busy
 * spell of the machine hits every queue alike. */
static void queue_table(void)
{
    double v[4][QREPS];
    for (int r = 0; r < QREPS; r++) {
        v[0][r] = ours_queue(0);
        v[1][r] = ours_queue(1);
        v[2][r] = v[3][r] = -1;
#if HAVE_CK
        v[2][r] = ck_queue(0);
        v[3][r] = ck_queue(1);
#endif
    }
    for (int i = 0; i < 4; i++)
        qsort(v[i], QREPS, sizeof v[i][0], cmp_double);
    double ours1 = v[0][QREPS / 2], oursb = v[1][QREPS / 2], ck_sp = v[2][QREPS / 2], ck_mp = v[3][QREPS / 2];
    printf("\nqueue 1 producer -> 1 consumer, %d slots of 64 bytes, %llu msgs, median of %d\n", QCAP,
           (unsigned long long)g_qn, QREPS);
    printf("%-40s %14s %12s %12s\n", "queue", "msgs/s", "ck spsc/this", "ck mpsc/this");
    struct {
        const char *name;
        double v;
    } q[4] = {{"gb_mpsc (ours), one at a time", ours1},
              {"gb_mpsc (ours), batches of 64", oursb},
              {"baseline: ck_ring spsc, 64-byte entries", ck_sp},
              {"baseline: ck_ring mpsc, 64-byte entries", ck_mp}};
    for (int i = 0; i < 4; i++) {
        if (q[i].v <= 0) {
            printf("%-40s %14s\n", q[i].name, "unavailable");
            continue;
        }
        printf("%-40s %14.0f %11.2fx %11.2fx\n", q[i].name, q[i].v, ck_sp > 0 ? ck_sp / q[i].v : 0,
               ck_mp > 0 ? ck_mp / q[i].v : 0);
    }
}

/* ---- the table ---------------------------------------------------------------- */

typedef struct row {
    const char *name;
    lat rtt;
    double tput;   /* per lane, batch 64 */
    double tput1;  /* per lane, batch 1 */
    double tputb;  /* per lane, batch 64, gb_ring_send_batch of 64 */
    int ok;
} row;

/* Median of three one-way runs, each on a fresh ring. */
static double ring_tput3(const char *backend, gb_ring_mode mode, uint32_t batch, int send_batch)
{
    double v[3];
    for (int i = 0; i < 3; i++) {
        gb_ring *r = make_ring(backend, mode, 1, batch);
        v[i] = !r ? -1 : send_batch ? ring_throughput_batch(r, 1) : ring_throughput(r, 1);
        gb_ring_destroy(r);
    }
    return median3(v[0], v[1], v[2]);
}

static row run_ring(const char *name, const char *backend, gb_ring_mode mode)
{
    row w = {.name = name};
    gb_ring *r = make_ring(backend, mode, 1, 64);
    if (!r)
        return w;
    w.ok = ring_rtt(r, &w.rtt) == 0;
    gb_ring_destroy(r);
    w.tput = ring_tput3(backend, mode, 64, 0);
    w.tput1 = ring_tput3(backend, mode, 1, 0);
    w.tputb = ring_tput3(backend, mode, 64, 1);
    return w;
}

static void print_rows(const row *rows, int n, const row *mqr, const row *ckr)
{
    printf("%-34s %9s %9s %12s %12s %12s %8s %8s %9s\n", "system", "median us", "p99 us", "msgs/s b64",
           "msgs/s b1", "send_batch", "rtt/ck", "rtt/mtx", "tput/mtx");
    for (int i = 0; i < n; i++) {
        if (!rows[i].ok) {
            printf("%-34s %9s\n", rows[i].name, "unavailable");
            continue;
        }
        char b1[32] = "-", bb[32] = "-", rc[32] = "-";
        if (rows[i].tput1 > 0)
            snprintf(b1, sizeof b1, "%.0f", rows[i].tput1);
        if (rows[i].tputb > 0)
            snprintf(bb, sizeof bb, "%.0f", rows[i].tputb);
        if (ckr->ok)
            snprintf(rc, sizeof rc, "%.2fx", rows[i].rtt.median_us / ckr->rtt.median_us);
        printf("%-34s %9.2f %9.2f %12.0f %12s %12s %8s %7.2fx %8.2fx\n", rows[i].name, rows[i].rtt.median_us,
               rows[i].rtt.p99_us, rows[i].tput, b1, bb, rc, rows[i].rtt.median_us / mqr->rtt.median_us,
               rows[i].tput / mqr->tput);
    }
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    if (quick) {
        g_rtt = 300;
        g_msgs = 20000;
    }
    g_qn = quick ? 200000 : 500000;
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
    printf("ring round trip host->actor->host (%d samples) and one-way throughput (%d msgs, median of 3), 1 lane\n",
           g_rtt, g_msgs);
    print_rows(rows, n, &mqr, &ckr);
    queue_table();
    printf("command: %s%s\n", argv[0], quick ? " --quick" : "");
    return 0;
}
