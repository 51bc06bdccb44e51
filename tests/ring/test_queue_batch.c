/* Batched queue operations (gb_mpsc_reserve_n / gb_mpsc_pop_n and their
 * host wrappers) and the ring's gb_ring_send_batch / gb_ring_recv_batch. */
// gb-test-labels: concurrency
#include "support/tsan_harness.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpubridge/ring.h"
#include "ring/queue.h"
#include "ring/kernels.h"
#include "support/ring_msg.h"

#include "test_actors.gbk"
#include "test_actors_types.h"

static gb_mpsc_queue *make_queue(uint32_t cap, uint32_t slot, void **buf)
{
    size_t n = gbi_mpsc_bytes(cap, slot);
    GB_CHECK(n > 0, "bytes");
    GB_CHECK(posix_memalign(buf, 128, n) == 0, "memalign");
    memset(*buf, 0xa5, n);
    gb_mpsc_queue *q = NULL;
    GB_CHECK(gbi_mpsc_init(*buf, n, cap, slot, &q) == GB_OK, "init");
    return q;
}

/* n headers to targets first.., payload_len 8, payload i = value first + i. */
static void fill(gb_msg_header *h, uint64_t *v, const void **p, uint32_t n, uint64_t first)
{
    for (uint32_t i = 0; i < n; i++) {
        memset(&h[i], 0, sizeof h[i]);
        h[i].target = first + i;
        h[i].payload_len = 8;
        v[i] = first + i;
        p[i] = &v[i];
    }
}

GB_TEST(queue_batch, enqueue_batch_fills_consecutive_slots_in_order)
{
    void *buf;
    gb_mpsc_queue *q = make_queue(8, 64, &buf);
    gb_msg_header h[5];
    uint64_t v[5];
    const void *p[5];
    fill(h, v, p, 5, 10);
    uint32_t done = 0;
    GB_CHECK(gbi_mpsc_try_enqueue_batch(q, h, p, 5, &done) == GB_OK, "enqueue");
    GB_CHECK(done == 5, "done %u", done);
    for (uint64_t i = 0; i < 5; i++) {
        gb_msg_header o;
        uint64_t x = 0;
        GB_CHECK(gbi_mpsc_try_dequeue(q, &o, &x, sizeof x) == GB_OK, "dequeue %llu", (unsigned long long)i);
        GB_CHECK(o.target == 10 + i && x == 10 + i, "message %llu: target %llu value %llu", (unsigned long long)i,
                 (unsigned long long)o.target, (unsigned long long)x);
    }
    gbi_queue_counters c;
    gbi_mpsc_counters(q, &c);
    GB_CHECK(c.enqueued == 5 && c.dequeued == 5 && c.high_water == 5, "counters %llu %llu %llu",
             (unsigned long long)c.enqueued, (unsigned long long)c.dequeued, (unsigned long long)c.high_water);
    free(buf);
}

GB_TEST(queue_batch, enqueue_batch_takes_only_the_room_left_then_refuses)
{
    void *buf;
    gb_mpsc_queue *q = make_queue(4, 64, &buf);
    gb_msg_header h[4];
    uint64_t v[4];
    const void *p[4];
    fill(h, v, p, 4, 0);
    for (int i = 0; i < 3; i++)
        GB_CHECK(gbi_mpsc_try_enqueue(q, &h[i], &v[i]) == GB_OK, "single %d", i);
    uint32_t done = 9;
    GB_CHECK(gbi_mpsc_try_enqueue_batch(q, h, p, 4, &done) == GB_OK, "partial batch");
    GB_CHECK(done == 1, "one slot was left, took %u", done);
    GB_CHECK(gbi_mpsc_try_enqueue_batch(q, h, p, 4, &done) == GB_EAGAIN, "full");
    GB_CHECK(done == 0, "nothing taken when full");
    gbi_queue_counters c;
    gbi_mpsc_counters(q, &c);
    GB_CHECK(c.full_hits == 1 && c.high_water == 4, "full hits %llu high water %llu",
             (unsigned long long)c.full_hits, (unsigned long long)c.high_water);
    free(buf);
}

GB_TEST(queue_batch, enqueue_batch_stops_before_an_oversized_payload)
{
    void *buf;
    gb_mpsc_queue *q = make_queue(8, 64, &buf);
    gb_msg_header h[4];
    uint64_t v[4];
    const void *p[4];
    char big[32] = {0};
    fill(h, v, p, 4, 0);
    h[2].payload_len = sizeof big; /* 48 + 32 > 64 */
    p[2] = big;
    uint32_t done = 0;
    GB_CHECK(gbi_mpsc_try_enqueue_batch(q, h, p, 4, &done) == GB_OK && done == 2, "prefix of 2, took %u", done);
    GB_CHECK(gbi_mpsc_try_enqueue_batch(q, h + 2, p + 2, 2, &done) == GB_EMSGSIZE, "the big one is refused");
    GB_CHECK(done == 0, "nothing taken");
    gbi_queue_counters c;
    gbi_mpsc_counters(q, &c);
    GB_CHECK(c.enqueued == 2, "enqueued %llu", (unsigned long long)c.enqueued);
    free(buf);
}

GB_TEST(queue_batch, dequeue_batch_takes_up_to_max_and_frees_the_slots)
{
    void *buf;
    gb_mpsc_queue *q = make_queue(8, 64, &buf);
    gb_msg_header h[8], o[8];
    uint64_t v[8], x[8];
    const void *p[8];
    fill(h, v, p, 6, 0);
    uint32_t done = 0, got = 0;
    GB_CHECK(gbi_mpsc_try_enqueue_batch(q, h, p, 6, &done) == GB_OK && done == 6, "enqueue");
    GB_CHECK(gbi_mpsc_try_dequeue_batch(q, o, x, sizeof x[0], 4, &got) == GB_OK && got == 4, "first 4, got %u", got);
    for (uint32_t i = 0; i < 4; i++)
        GB_CHECK(o[i].target == i && x[i] == i, "message %u", i);
    GB_CHECK(gbi_mpsc_try_dequeue_batch(q, o, x, sizeof x[0], 8, &got) == GB_OK && got == 2, "last 2, got %u", got);
    GB_CHECK(o[0].target == 4 && x[1] == 5, "order");
    GB_CHECK(gbi_mpsc_try_dequeue_batch(q, o, x, sizeof x[0], 8, &got) == GB_EAGAIN && got == 0, "empty");
    fill(h, v, p, 8, 100); /* every slot is free again */
    GB_CHECK(gbi_mpsc_try_enqueue_batch(q, h, p, 8, &done) == GB_OK && done == 8, "refill, took %u", done);
    free(buf);
}

GB_TEST(queue_batch, dequeue_batch_stops_before_a_payload_larger_than_stride)
{
    void *buf;
    gb_mpsc_queue *q = make_queue(8, 64, &buf);
    uint64_t two[2] = {7, 8};
    gb_msg_header a = gbt_hdr(1, 0, 0, 8), b = gbt_hdr(2, 0, 0, 16);
    GB_CHECK(gbi_mpsc_try_enqueue(q, &a, two) == GB_OK && gbi_mpsc_try_enqueue(q, &b, two) == GB_OK, "enqueue");
    gb_msg_header o[2];
    uint64_t x[2];
    uint32_t got = 0;
    GB_CHECK(gbi_mpsc_try_dequeue_batch(q, o, x, 8, 2, &got) == GB_OK && got == 1, "the small one, got %u", got);
    GB_CHECK(gbi_mpsc_try_dequeue_batch(q, o, x, 8, 2, &got) == GB_EMSGSIZE && got == 0, "the big one stays");
    GB_CHECK(gbi_mpsc_try_dequeue_batch(q, o, x, 16, 2, &got) == GB_OK && got == 1 && o[0].target == 2, "then fits");
    free(buf);
}

GB_TEST(queue_batch, high_water_stays_exact_after_the_consumer_moves_on)
{
    void *buf;
    gb_mpsc_queue *q = make_queue(8, 64, &buf);
    gb_msg_header h[8], o[8];
    uint64_t v[8], x[8];
    const void *p[8];
    uint32_t done, got;
    fill(h, v, p, 8, 0);
    GB_CHECK(gbi_mpsc_try_enqueue_batch(q, h, p, 4, &done) == GB_OK, "4 in");
    GB_CHECK(gbi_mpsc_try_dequeue_batch(q, o, x, 8, 8, &got) == GB_OK && got == 4, "4 out");
    GB_CHECK(gbi_mpsc_try_enqueue_batch(q, h, p, 3, &done) == GB_OK, "3 in: depth 3");
    gbi_queue_counters c;
    gbi_mpsc_counters(q, &c);
    GB_CHECK(c.high_water == 4, "high water %llu after a shallower burst", (unsigned long long)c.high_water);
    GB_CHECK(gbi_mpsc_try_enqueue(q, &h[0], &v[0]) == GB_OK && gbi_mpsc_try_enqueue(q, &h[1], &v[1]) == GB_OK,
             "depth 5");
    gbi_mpsc_counters(q, &c);
    GB_CHECK(c.high_water == 5, "high water %llu, depth 5", (unsigned long long)c.high_water);
    free(buf);
}

GB_TEST(queue_batch, random_batches_across_many_wraps_keep_fifo_order)
{
    unsigned seed = (unsigned)time(NULL);
    printf("queue_batch random_batches seed %u\n", seed);
    srand(seed);
    void *buf;
    gb_mpsc_queue *q = make_queue(8, 64, &buf);
    gb_msg_header h[8], o[8];
    uint64_t v[8], x[8], next_in = 0, next_out = 0;
    const void *p[8];
    while (next_out < 5000) {
        uint32_t n = 1 + (uint32_t)rand() % 8, done = 0, got = 0;
        fill(h, v, p, n, next_in);
        if (gbi_mpsc_try_enqueue_batch(q, h, p, n, &done) == GB_OK)
            next_in += done;
        uint32_t m = 1 + (uint32_t)rand() % 8;
        if (gbi_mpsc_try_dequeue_batch(q, o, x, 8, m, &got) != GB_OK)
            continue;
        for (uint32_t i = 0; i < got; i++, next_out++)
            GB_CHECK(x[i] == next_out && o[i].target == next_out, "seed %u: got %llu, expected %llu", seed,
                     (unsigned long long)x[i], (unsigned long long)next_out);
        GB_CHECK(next_out <= next_in, "seed %u: more out than in", seed);
    }
    free(buf);
}

/* ---- concurrency: batch producers, batch consumer ---------------------- */

#define PRODUCERS 4
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define PER_PRODUCER 4000
#else
#define PER_PRODUCER 20000
#endif

typedef struct prod_arg {
    gbi_lane_sender *s;
    uint64_t id;
    gb_send_policy policy;
} prod_arg;

static void *batch_producer(void *arg)
{
    prod_arg *a = arg;
    gb_msg_header h[16];
    uint64_t pl[16][2];
    const void *p[16];
    for (uint64_t seq = 1; seq <= PER_PRODUCER;) {
        uint32_t n = 1 + (uint32_t)(seq % 16);
        if (seq + n - 1 > PER_PRODUCER)
            n = (uint32_t)(PER_PRODUCER - seq + 1);
        for (uint32_t i = 0; i < n; i++) {
            h[i] = gbt_hdr(a->id, 0, 0, sizeof pl[i]);
            pl[i][0] = a->id;
            pl[i][1] = seq + i;
            p[i] = pl[i];
        }
        uint32_t sent = 0;
        gb_status st = gbi_sender_send_batch(a->s, h, p, n, a->policy, NULL, &sent);
        GB_CHECK(st == GB_OK || (st == GB_EAGAIN && a->policy == GB_SEND_FAIL), "status %d", (int)st);
        seq += sent; /* under GB_SEND_FAIL the rest is sent again */
    }
    return NULL;
}

static void run_batch_producers(gb_send_policy policy, uint32_t cap)
{
    void *buf;
    gbi_lane_sender s;
    GB_CHECK(gbi_sender_init(&s, make_queue(cap, 64, &buf)) == GB_OK, "sender");
    pthread_t t[PRODUCERS];
    prod_arg a[PRODUCERS];
    for (uint32_t i = 0; i < PRODUCERS; i++) {
        a[i] = (prod_arg){&s, i, policy};
        GB_CHECK(pthread_create(&t[i], NULL, batch_producer, &a[i]) == 0, "thread");
    }
    uint64_t last[PRODUCERS] = {0}, got_total = 0;
    while (got_total < (uint64_t)PRODUCERS * PER_PRODUCER) {
        gbi_sender_pump(&s);
        gb_msg_header o[32];
        uint64_t v[32][2];
        uint32_t got = 0;
        if (gbi_mpsc_try_dequeue_batch(s.q, o, v, sizeof v[0], 32, &got) != GB_OK)
            continue;
        for (uint32_t i = 0; i < got; i++) {
            GB_CHECK(v[i][0] < PRODUCERS, "producer id %llu", (unsigned long long)v[i][0]);
            GB_CHECK(v[i][1] == last[v[i][0]] + 1, "producer %llu: seq %llu after %llu",
                     (unsigned long long)v[i][0], (unsigned long long)v[i][1],
                     (unsigned long long)last[v[i][0]]);
            last[v[i][0]] = v[i][1];
        }
        got_total += got;
    }
    for (uint32_t i = 0; i < PRODUCERS; i++)
        pthread_join(t[i], NULL);
    gb_msg_header o;
    GB_CHECK(gbi_mpsc_try_dequeue(s.q, &o, NULL, 0) == GB_EAGAIN, "nothing beyond what was sent");
    GB_CHECK(gbi_sender_destroy(&s) == 0, "overflow empty");
    free(buf);
}

GB_TEST(queue_batch, concurrent_batch_producers_lose_nothing_and_keep_their_order)
{
    run_batch_producers(GB_SEND_FAIL, 64);
}

GB_TEST(queue_batch, blocking_batch_producers_wait_for_room)
{
    run_batch_producers(GB_SEND_BLOCK, 16);
}

GB_TEST(queue_batch, spilling_batch_producers_keep_order_through_the_overflow_list)
{
    run_batch_producers(GB_SEND_SPILL, 8);
}

/* ---- the ring's batch API ---------------------------------------------- */

static gb_ring *make_ring(uint32_t lanes, uint32_t cap)
{
    gb_ring_opts o = {.mode = GB_RING_PERSISTENT, .lanes = lanes, .lane_capacity = cap, .types = k_types,
                      .ntypes = 2};
    gb_ring *r = NULL;
    GB_CHECK(gb_ring_create(&r, &o) == GB_OK, "create: %s", gb_last_error());
    return r;
}

/* n ADD requests [value 1, producer 0, seq] to actors base + i % actors. */
static void adds(gb_msg_header *h, uint64_t (*pl)[3], const void **p, uint32_t n, uint64_t actors, uint64_t corr0)
{
    for (uint32_t i = 0; i < n; i++) {
        uint64_t actor = 500 + i % actors;
        h[i] = gbt_hdr(actor, TA_ADD, corr0 ? corr0 + i : 0, sizeof pl[i]);
        pl[i][0] = 1;
        pl[i][1] = actor % TA_PRODUCERS; /* one "producer" per actor: order checked per actor */
        pl[i][2] = i / actors + 1;
        p[i] = pl[i];
    }
}

GB_TEST(ring_batch, send_batch_then_recv_batch_answers_every_request_in_order)
{
    gb_ring *r = make_ring(4, 1024);
    GB_CHECK(gb_ring_start(r) == GB_OK, "start");
    enum { N = 200, ACTORS = 5 };
    static gb_msg_header h[N], o[N];
    static uint64_t pl[N][3], back[N][2];
    const void *p[N];
    adds(h, pl, p, N, ACTORS, 1);
    uint32_t sent = 0;
    GB_CHECK(gb_ring_send_batch(r, 0, h, p, N, GB_SEND_BLOCK, &sent) == GB_OK && sent == N, "sent %u", sent);
    uint64_t count[ACTORS] = {0};
    for (uint32_t total = 0; total < N;) {
        uint32_t got = 0;
        GB_CHECK(gb_ring_recv_batch(r, o, back, sizeof back[0], N - total, &got, 5000000000LL) == GB_OK, "recv");
        for (uint32_t i = 0; i < got; i++) {
            uint64_t k = (o[i].correlation - 1) % ACTORS;
            GB_CHECK(o[i].flags & GB_MSG_RESPONSE, "a response");
            GB_CHECK(back[i][0] == ++count[k], "actor %llu answered count %llu, expected %llu",
                     (unsigned long long)k, (unsigned long long)back[i][0], (unsigned long long)count[k]);
        }
        total += got;
    }
    GB_CHECK(gb_ring_stop(r, GB_RING_DRAIN) == GB_OK, "stop");
    gb_ring_counters c;
    gb_ring_get_counters(r, &c);
    GB_CHECK(c.handled == N && c.inflight == 0 && c.handler_errors == 0, "handled %llu inflight %llu",
             (unsigned long long)c.handled, (unsigned long long)c.inflight);
    for (uint64_t a = 0; a < ACTORS; a++) {
        ta_counter s;
        GB_CHECK(gb_ring_read_state(r, 500 + a, &s, sizeof s) == GB_OK, "state");
        GB_CHECK(s.violations == 0 && s.count == N / ACTORS, "actor %llu: %llu violations, count %llu",
                 (unsigned long long)a, (unsigned long long)s.violations, (unsigned long long)s.count);
    }
    gb_ring_destroy(r);
}

GB_TEST(ring_batch, send_batch_rejects_bad_input_and_accepts_nothing)
{
    gb_ring *r = make_ring(2, 16);
    gb_msg_header h[3];
    uint64_t pl[3][3];
    const void *p[3];
    adds(h, pl, p, 3, 3, 0);
    uint32_t sent = 7;
    p[1] = NULL;
    GB_CHECK(gb_ring_send_batch(r, 0, h, p, 3, GB_SEND_FAIL, &sent) == GB_EINVAL && sent == 0, "NULL payload");
    GB_CHECK(gb_ring_send_batch(r, 0, h, NULL, 3, GB_SEND_FAIL, &sent) == GB_EINVAL, "NULL payloads");
    p[1] = pl[1];
    h[2].payload_len = 4096;
    GB_CHECK(gb_ring_send_batch(r, 0, h, p, 3, GB_SEND_FAIL, &sent) == GB_EMSGSIZE && sent == 0, "too big");
    h[2].payload_len = 24;
    GB_CHECK(gb_ring_send_batch(r, 9, h, p, 3, GB_SEND_FAIL, &sent) == GB_EINVAL, "bad type");
    GB_CHECK(gb_ring_send_batch(r, 0, h, p, 3, (gb_send_policy)7, &sent) == GB_EINVAL, "bad policy");
    GB_CHECK(gb_ring_send_batch(NULL, 0, h, p, 3, GB_SEND_FAIL, &sent) == GB_EINVAL, "NULL ring");
    GB_CHECK(gb_ring_send_batch(r, 0, h, p, 0, GB_SEND_FAIL, &sent) == GB_OK && sent == 0, "empty batch");
    gb_ring_counters c;
    gb_ring_get_counters(r, &c);
    GB_CHECK(c.enqueued == 0 && c.inflight == 0, "enqueued %llu inflight %llu", (unsigned long long)c.enqueued,
             (unsigned long long)c.inflight);
    gb_ring_destroy(r);
}

GB_TEST(ring_batch, send_batch_under_fail_reports_the_prefix_that_fit)
{
    gb_ring *r = make_ring(1, 4); /* not started: nothing drains the lane */
    gb_msg_header h[10];
    uint64_t pl[10][3];
    const void *p[10];
    adds(h, pl, p, 10, 2, 0);
    uint32_t sent = 0;
    GB_CHECK(gb_ring_send_batch(r, 0, h, p, 10, GB_SEND_FAIL, &sent) == GB_EAGAIN, "lane full");
    GB_CHECK(sent == 4, "sent %u of a 4-slot lane", sent);
    gb_ring_counters c;
    gb_ring_get_counters(r, &c);
    GB_CHECK(c.enqueued == 4 && c.inflight == 4, "enqueued %llu inflight %llu", (unsigned long long)c.enqueued,
             (unsigned long long)c.inflight);
    GB_CHECK(gb_ring_stop(r, GB_RING_DRAIN) == GB_OK, "drain");
    gb_ring_get_counters(r, &c);
    GB_CHECK(c.handled == 4 && c.inflight == 0, "handled %llu", (unsigned long long)c.handled);
    gb_ring_destroy(r);
}

GB_TEST(ring_batch, send_batch_spill_accepts_everything_and_drain_handles_it_in_order)
{
    gb_ring *r = make_ring(1, 4);
    enum { N = 100 };
    static gb_msg_header h[N];
    static uint64_t pl[N][3];
    const void *p[N];
    adds(h, pl, p, N, 3, 0);
    uint32_t sent = 0;
    GB_CHECK(gb_ring_send_batch(r, 0, h, p, N, GB_SEND_SPILL, &sent) == GB_OK && sent == N, "sent %u", sent);
    gb_ring_counters c;
    gb_ring_get_counters(r, &c);
    GB_CHECK(c.overflowed == N - 4, "overflowed %llu", (unsigned long long)c.overflowed);
    GB_CHECK(gb_ring_stop(r, GB_RING_DRAIN) == GB_OK, "drain");
    gb_ring_get_counters(r, &c);
    GB_CHECK(c.handled == N, "handled %llu", (unsigned long long)c.handled);
    for (uint64_t a = 0; a < 3; a++) {
        ta_counter s;
        GB_CHECK(gb_ring_read_state(r, 500 + a, &s, sizeof s) == GB_OK, "state");
        GB_CHECK(s.violations == 0, "actor %llu saw %llu out of order", (unsigned long long)a,
                 (unsigned long long)s.violations);
    }
    gb_ring_destroy(r);
}

GB_TEST(ring_batch, send_batch_blocks_until_a_running_ring_makes_room)
{
    gb_ring *r = make_ring(1, 4);
    GB_CHECK(gb_ring_start(r) == GB_OK, "start");
    enum { N = 300 };
    static gb_msg_header h[N];
    static uint64_t pl[N][3];
    const void *p[N];
    adds(h, pl, p, N, 4, 0);
    uint32_t sent = 0;
    GB_CHECK(gb_ring_send_batch(r, 0, h, p, N, GB_SEND_BLOCK, &sent) == GB_OK && sent == N, "sent %u", sent);
    GB_CHECK(gb_ring_stop(r, GB_RING_DRAIN) == GB_OK, "drain");
    gb_ring_counters c;
    gb_ring_get_counters(r, &c);
    GB_CHECK(c.handled == N && c.overflowed == 0, "handled %llu", (unsigned long long)c.handled);
    gb_ring_destroy(r);
}

GB_TEST(ring_batch, send_batch_after_stop_is_refused)
{
    gb_ring *r = make_ring(1, 16);
    GB_CHECK(gb_ring_stop(r, GB_RING_DRAIN) == GB_OK, "stop");
    gb_msg_header h[2];
    uint64_t pl[2][3];
    const void *p[2];
    adds(h, pl, p, 2, 1, 0);
    uint32_t sent = 9;
    GB_CHECK(gb_ring_send_batch(r, 0, h, p, 2, GB_SEND_BLOCK, &sent) == GB_ECLOSED && sent == 0, "closed");
    gb_ring_counters c;
    gb_ring_get_counters(r, &c);
    GB_CHECK(c.inflight == 0, "inflight %llu", (unsigned long long)c.inflight);
    gb_ring_destroy(r);
}

GB_TEST(ring_batch, recv_batch_rejects_bad_arguments_and_keeps_a_message_too_big)
{
    gb_ring *r = make_ring(1, 16);
    GB_CHECK(gb_ring_start(r) == GB_OK, "start");
    gb_msg_header o[4];
    uint64_t back[4][2];
    uint32_t got = 0;
    GB_CHECK(gb_ring_recv_batch(NULL, o, back, 16, 4, &got, 0) == GB_EINVAL, "NULL ring");
    GB_CHECK(gb_ring_recv_batch(r, o, back, 16, 0, &got, 0) == GB_EINVAL, "max 0");
    GB_CHECK(gb_ring_recv_batch(r, o, NULL, 16, 4, &got, 0) == GB_EINVAL, "NULL payloads");
    GB_CHECK(gb_ring_recv_batch(r, o, back, 16, 4, &got, 0) == GB_EAGAIN && got == 0, "nothing yet");
    uint64_t pl[3] = {5, 0, 1};
    gb_msg_header h = gbt_hdr(42, TA_ADD, 77, sizeof pl);
    GB_CHECK(gb_ring_send(r, 0, &h, pl, GB_SEND_BLOCK) == GB_OK, "send");
    gb_status st;
    while ((st = gb_ring_recv_batch(r, o, back, 8, 4, &got, 1000000)) == GB_EAGAIN)
        ;
    GB_CHECK(st == GB_EMSGSIZE && got == 0, "a 16-byte answer does not fit 8 bytes");
    GB_CHECK(gb_ring_recv_batch(r, o, back, 16, 4, &got, 0) == GB_OK && got == 1, "it stayed queued");
    GB_CHECK(o[0].correlation == 77 && back[0][1] == 5, "the answer");
    gb_ring_destroy(r);
}
