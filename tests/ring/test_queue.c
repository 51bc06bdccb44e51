/* The MPSC slot queue (kernels/ring_queue.gbk) and its host lane sender. */
// gb-test-labels: concurrency
#include "support/tsan_harness.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ring/queue.h"

static void *aligned_buf(size_t n)
{
    void *p = NULL;
    GB_CHECK((posix_memalign(&p, 128, n)) == (0), "failed");
    memset(p, 0xa5, n);
    return p;
}

static gb_mpsc_queue *make_queue(uint32_t cap, uint32_t slot, void **buf)
{
    size_t n = gbi_mpsc_bytes(cap, slot);
    GB_CHECK((n) > (0), "failed");
    *buf = aligned_buf(n);
    gb_mpsc_queue *q = NULL;
    GB_CHECK((gbi_mpsc_init(*buf, n, cap, slot, &q)) == (GB_OK), "failed");
    return q;
}

static gb_msg_header msg(uint64_t target, uint32_t len)
{
    gb_msg_header h;
    memset(&h, 0, sizeof h);
    h.target = target;
    h.payload_len = len;
    return h;
}

GB_TEST(queue, sizes_reject_non_power_of_two_and_out_of_range)
{
    GB_CHECK((gbi_mpsc_bytes(3, 256)) == (0), "failed");
    GB_CHECK((gbi_mpsc_bytes(1, 256)) == (0), "failed");
    GB_CHECK((gbi_mpsc_bytes(8, 48)) == (0), "failed");
    GB_CHECK((gbi_mpsc_bytes(8, 8192)) == (0), "failed");
    GB_CHECK((gbi_mpsc_bytes(8, 100)) == (0), "failed");
    GB_CHECK((gbi_mpsc_bytes(8, 64)) > (512 + 8 * 64), "failed");
    GB_CHECK((gbi_mpsc_bytes(8, 4096)) > (8 * 4096), "failed");
}

GB_TEST(queue, init_rejects_short_or_unaligned_buffer)
{
    size_t n = gbi_mpsc_bytes(8, 64);
    char *buf = aligned_buf(n + 128);
    gb_mpsc_queue *q;
    GB_CHECK((gbi_mpsc_init(buf, n - 1, 8, 64, &q)) == (GB_EINVAL), "failed");
    GB_CHECK((gbi_mpsc_init(buf + 8, n, 8, 64, &q)) == (GB_EINVAL), "failed");
    GB_CHECK((gbi_mpsc_init(NULL, n, 8, 64, &q)) == (GB_EINVAL), "failed");
    GB_CHECK((gbi_mpsc_init(buf, n, 8, 64, &q)) == (GB_OK), "failed");
    free(buf);
}

GB_TEST(queue, head_and_tail_live_on_separate_128_byte_lines)
{
    void *buf;
    gb_mpsc_queue *q = make_queue(8, 64, &buf);
    uintptr_t tail = (uintptr_t)&q->tail, head = (uintptr_t)&q->head;
    GB_CHECK((tail % 128) == (0), "failed");
    GB_CHECK((head % 128) == (0), "failed");
    GB_CHECK((head - tail) >= (128), "failed");
    free(buf);
}

GB_TEST(queue, is_fifo_and_refuses_when_full)
{
    void *buf;
    gb_mpsc_queue *q = make_queue(4, 64, &buf);
    for (uint64_t i = 0; i < 4; i++) {
        gb_msg_header h = msg(i, 8);
        GB_CHECK((gbi_mpsc_try_enqueue(q, &h, &i)) == (GB_OK), "failed");
    }
    gb_msg_header h = msg(99, 0);
    GB_CHECK((gbi_mpsc_try_enqueue(q, &h, NULL)) == (GB_EAGAIN), "failed");
    for (uint64_t i = 0; i < 4; i++) {
        gb_msg_header o;
        uint64_t v = 0;
        GB_CHECK((gbi_mpsc_try_dequeue(q, &o, &v, sizeof v)) == (GB_OK), "failed");
        GB_CHECK((o.target) == (i), "failed");
        GB_CHECK((v) == (i), "failed");
    }
    gb_msg_header o;
    GB_CHECK((gbi_mpsc_try_dequeue(q, &o, NULL, 0)) == (GB_EAGAIN), "failed");
    gbi_queue_counters c;
    gbi_mpsc_counters(q, &c);
    GB_CHECK((c.enqueued) == (4), "failed");
    GB_CHECK((c.dequeued) == (4), "failed");
    GB_CHECK((c.depth) == (0), "failed");
    GB_CHECK((c.high_water) == (4), "failed");
    GB_CHECK((c.full_hits) == (1), "failed");
    free(buf);
}

GB_TEST(queue, rejects_payload_larger_than_slot)
{
    void *buf;
    gb_mpsc_queue *q = make_queue(4, 64, &buf);
    char big[64] = {0};
    gb_msg_header h = msg(1, 17);
    GB_CHECK((gbi_mpsc_try_enqueue(q, &h, big)) == (GB_EMSGSIZE), "failed");
    h.payload_len = 16;
    GB_CHECK((gbi_mpsc_try_enqueue(q, &h, big)) == (GB_OK), "failed");
    gb_msg_header o;
    GB_CHECK((gbi_mpsc_try_dequeue(q, &o, big, 8)) == (GB_EMSGSIZE), "short buffer keeps the message");
    GB_CHECK((gbi_mpsc_try_dequeue(q, &o, big, 16)) == (GB_OK), "failed");
    free(buf);
}

/* ---- concurrency: no loss, no duplicates, per-producer order ---------- */

#define PRODUCERS 4
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define PER_PRODUCER 4000 /* sanitizers slow every step ~10x; keep each run short */
#else
#define PER_PRODUCER 20000
#endif

typedef struct prod_arg {
    gbi_lane_sender *s;
    uint32_t id;
    gb_send_policy policy;
} prod_arg;

static void *producer(void *p)
{
    prod_arg *a = p;
    for (uint64_t seq = 1; seq <= PER_PRODUCER; seq++) {
        uint64_t payload[2] = {a->id, seq};
        gb_msg_header h = msg(a->id, sizeof payload);
        gb_status st;
        do {
            st = gbi_sender_send(a->s, &h, payload, a->policy, NULL);
        } while (st == GB_EAGAIN);
        GB_CHECK((st) == (GB_OK), "failed");
    }
    return NULL;
}

/* Consume until every producer's last message arrived; assert order. */
static void consume_all(gbi_lane_sender *s)
{
    uint64_t last[PRODUCERS] = {0}, got = 0;
    while (got < (uint64_t)PRODUCERS * PER_PRODUCER) {
        gbi_sender_pump(s);
        gb_msg_header o;
        uint64_t v[2];
        if (gbi_mpsc_try_dequeue(s->q, &o, v, sizeof v) != GB_OK)
            continue;
        GB_CHECK((v[0]) < (PRODUCERS), "failed");
        GB_CHECK((v[1]) == (last[v[0]] + 1), "producer %llu: seq %llu after %llu", (unsigned long long)v[0], (unsigned long long)v[1], (unsigned long long)last[v[0]]);
        last[v[0]] = v[1];
        got++;
    }
    gb_msg_header o;
    GB_CHECK((gbi_mpsc_try_dequeue(s->q, &o, NULL, 0)) == (GB_EAGAIN), "nothing beyond what was sent");
}

static void run_producers(gb_send_policy policy, uint32_t cap)
{
    void *buf;
    gbi_lane_sender s;
    GB_CHECK((gbi_sender_init(&s, make_queue(cap, 64, &buf))) == (GB_OK), "failed");
    pthread_t t[PRODUCERS];
    prod_arg a[PRODUCERS];
    for (uint32_t i = 0; i < PRODUCERS; i++) {
        a[i] = (prod_arg){&s, i, policy};
        GB_CHECK((pthread_create(&t[i], NULL, producer, &a[i])) == (0), "failed");
    }
    consume_all(&s);
    for (uint32_t i = 0; i < PRODUCERS; i++)
        pthread_join(t[i], NULL);
    GB_CHECK((gbi_sender_destroy(&s)) == (0), "failed");
    free(buf);
}

GB_TEST(queue, concurrent_producers_lose_nothing_and_keep_their_order)
{
    run_producers(GB_SEND_FAIL, 64);
}

GB_TEST(queue, blocking_senders_wait_for_room_and_lose_nothing)
{
    run_producers(GB_SEND_BLOCK, 16);
}

GB_TEST(queue, spilling_senders_keep_order_through_the_overflow_list)
{
    run_producers(GB_SEND_SPILL, 8);
}

GB_TEST(queue, spill_counts_overflow_and_pump_moves_it_in_order)
{
    void *buf;
    gbi_lane_sender s;
    GB_CHECK((gbi_sender_init(&s, make_queue(4, 64, &buf))) == (GB_OK), "failed");
    for (uint64_t i = 0; i < 10; i++) {
        gb_msg_header h = msg(i, 8);
        GB_CHECK((gbi_sender_send(&s, &h, &i, GB_SEND_SPILL, NULL)) == (GB_OK), "failed");
    }
    GB_CHECK((atomic_load(&s.overflowed)) == (6), "failed");
    GB_CHECK((atomic_load(&s.spilled)) == (6), "failed");
    gb_msg_header h = msg(100, 0);
    GB_CHECK((gbi_sender_send(&s, &h, NULL, GB_SEND_FAIL, NULL)) == (GB_EAGAIN), "fail policy never jumps ahead of the overflow list");
    for (uint64_t i = 0; i < 10; i++) {
        gbi_sender_pump(&s);
        gb_msg_header o;
        uint64_t v;
        GB_CHECK((gbi_mpsc_try_dequeue(s.q, &o, &v, sizeof v)) == (GB_OK), "failed");
        GB_CHECK((v) == (i), "failed");
    }
    GB_CHECK((atomic_load(&s.spilled)) == (0), "failed");
    GB_CHECK((gbi_sender_destroy(&s)) == (0), "failed");
    free(buf);
}

GB_TEST(queue, blocked_sender_gives_up_when_told_to_stop)
{
    void *buf;
    gbi_lane_sender s;
    GB_CHECK((gbi_sender_init(&s, make_queue(2, 64, &buf))) == (GB_OK), "failed");
    gb_msg_header h = msg(1, 0);
    GB_CHECK((gbi_sender_send(&s, &h, NULL, GB_SEND_FAIL, NULL)) == (GB_OK), "failed");
    GB_CHECK((gbi_sender_send(&s, &h, NULL, GB_SEND_FAIL, NULL)) == (GB_OK), "failed");
    _Atomic int stop = 1;
    GB_CHECK((gbi_sender_send(&s, &h, NULL, GB_SEND_BLOCK, &stop)) == (GB_ECLOSED), "failed");
    gbi_sender_destroy(&s);
    free(buf);
}
