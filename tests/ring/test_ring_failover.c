/* Ring failover building blocks: taking the accepted, unhandled messages
 * out of a stopped ring in lane order (overflow included), moving actor
 * states into a ring that has not started, an abort under concurrent
 * senders followed by a move that neither loses nor repeats a message,
 * and deactivation freeing table entries (backward-shift deletion keeps
 * the other actors reachable). */
// gb-test-labels: concurrency
#include "support/tsan_harness.h"
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "gpubridge/ring.h"
#include "ring/kernels.h"
#include "support/ring_msg.h"

#include "test_actors.gbk"
#include "test_actors_types.h"

static gb_ring *make_ring(uint32_t lanes, uint32_t lane_capacity, uint32_t actors_per_lane)
{
    gb_ring_opts o = {.types = k_types,
                      .ntypes = 2,
                      .lanes = lanes,
                      .lane_capacity = lane_capacity,
                      .actors_per_lane = actors_per_lane};
    gb_ring *r = NULL;
    GB_CHECK(gb_ring_create(&r, &o) == GB_OK, "create: %s", gb_last_error());
    return r;
}

static void add(gb_ring *r, uint64_t actor, uint64_t producer, uint64_t seq)
{
    uint64_t pl[3] = {1, producer, seq};
    gb_msg_header h = gbt_hdr(actor, TA_ADD, 0, sizeof pl);
    gb_status st = gb_ring_send(r, 0, &h, pl, GB_SEND_SPILL);
    GB_CHECK(st == GB_OK, "send: %s", gb_last_error());
}

/* GET actor's [count, sum, violations, hlc] through the outbound queue. */
static void get(gb_ring *r, uint64_t actor, uint64_t out[4])
{
    gb_msg_header h = gbt_hdr(actor, TA_GET, actor + 1, 0), rh;
    GB_CHECK(gb_ring_send(r, 0, &h, NULL, GB_SEND_SPILL) == GB_OK, "send: %s", gb_last_error());
    GB_CHECK(gb_ring_recv(r, &rh, out, 32, 10000000000LL) == GB_OK, "recv: %s", gb_last_error());
    GB_CHECK(rh.correlation == actor + 1 && rh.payload_len == 32, "reply to %llu, %u bytes",
             (unsigned long long)rh.correlation, rh.payload_len);
}

typedef struct taken {
    uint64_t n;
    uint64_t last_seq[16]; /* per actor */
    uint64_t disorder;
    gb_ring *to; /* resend here, when set */
} taken;

static void take_one(void *arg, uint32_t type, const gb_msg_header *h, const void *payload)
{
    taken *t = arg;
    uint64_t pl[3];
    memcpy(pl, payload, sizeof pl);
    if (!t->to) { /* from the first message on: each actor's sequence must be whole */
        t->disorder += type != 0 || h->target >= 16 || pl[2] != t->last_seq[h->target % 16] + 1;
        t->last_seq[h->target % 16] = pl[2];
    }
    t->n++;
    if (t->to)
        GB_CHECK(gb_ring_send(t->to, type, h, payload, GB_SEND_SPILL) == GB_OK, "%s", gb_last_error());
}

GB_TEST(ring_failover, take_pending_gives_every_message_in_order_overflow_included)
{
    gb_ring *r = make_ring(2, 8, 0); /* 8-slot lanes: most of the 300 spill */
    for (uint64_t i = 0; i < 300; i++)
        add(r, i % 5, 0, i / 5 + 1);
    gb_ring_counters c;
    gb_ring_get_counters(r, &c);
    GB_CHECK(c.overflow_depth > 0, "nothing spilled");
    taken t = {0};
    GB_CHECK(gb_ring_take_pending(r, take_one, &t, NULL) == GB_EBUSY, "a ring not stopped is refused");
    GB_CHECK(gb_ring_stop(r, GB_RING_ABORT) == GB_OK, "%s", gb_last_error());
    uint64_t n = 0;
    GB_CHECK(gb_ring_take_pending(r, take_one, &t, &n) == GB_OK, "%s", gb_last_error());
    GB_CHECK(n == 300 && t.n == 300 && t.disorder == 0, "took %llu, out of order %llu", (unsigned long long)n,
             (unsigned long long)t.disorder);
    gb_ring_get_counters(r, &c);
    GB_CHECK(c.inflight == 0 && c.discarded == 0 && c.overflow_depth == 0 && c.depth == 0,
             "left: inflight %llu discarded %llu", (unsigned long long)c.inflight,
             (unsigned long long)c.discarded);
    gb_ring_destroy(r);
}

typedef struct moved {
    gb_ring *to;
    uint64_t n;
} moved;

static void import_one(void *arg, uint32_t type, uint64_t id, uint32_t calls_out, const void *state, uint32_t len)
{
    moved *m = arg;
    GB_CHECK(gb_ring_import_actor(m->to, type, id, calls_out, state, len) == GB_OK, "%s", gb_last_error());
    m->n++;
}

GB_TEST(ring_failover, actor_states_move_into_a_ring_not_yet_started)
{
    gb_ring *a = make_ring(4, 0, 0), *b = make_ring(4, 0, 0);
    GB_CHECK(gb_ring_start(a) == GB_OK, "%s", gb_last_error());
    for (uint64_t k = 0; k < 40; k++)
        for (uint64_t i = 1; i <= k + 1; i++)
            add(a, 100 + k, 0, i);
    GB_CHECK(gb_ring_stop(a, GB_RING_DRAIN) == GB_OK, "%s", gb_last_error());
    moved m = {.to = b};
    uint64_t count = 0;
    GB_CHECK(gb_ring_export_actors(a, import_one, &m, &count) == GB_OK && count == 40 && m.n == 40,
             "exported %llu", (unsigned long long)count);
    uint8_t st[16] = {0};
    GB_CHECK(gb_ring_import_actor(b, 0, 100, 0, st, sizeof st) == GB_EEXIST, "an actor is imported once");
    GB_CHECK(gb_ring_import_actor(b, 7, 999, 0, st, sizeof st) == GB_EINVAL, "unknown type refused");
    GB_CHECK(gb_ring_start(b) == GB_OK, "%s", gb_last_error());
    GB_CHECK(gb_ring_import_actor(b, 0, 999, 0, st, sizeof st) == GB_EBUSY, "a started ring is refused");
    for (uint64_t k = 0; k < 40; k++) {
        uint64_t g[4];
        add(b, 100 + k, 0, k + 2); /* the sequence goes on where the old ring left it */
        get(b, 100 + k, g);
        GB_CHECK(g[0] == k + 2 && g[2] == 0, "actor %llu: count %llu, violations %llu", (unsigned long long)k,
                 (unsigned long long)g[0], (unsigned long long)g[2]);
    }
    gb_ring_destroy(a);
    gb_ring_destroy(b);
}

#define SENDERS 3
#define PER_SENDER 20000

typedef struct sender {
    gb_ring *r;
    uint64_t producer;
    uint64_t accepted; /* messages the ring accepted (until it closed) */
} sender;

static void *send_until_closed(void *p)
{
    sender *s = p;
    for (uint64_t i = 1; i <= PER_SENDER; i++) {
        uint64_t pl[3] = {1, s->producer, i};
        gb_msg_header h = gbt_hdr(s->producer, TA_ADD, 0, sizeof pl);
        gb_status st = gb_ring_send(s->r, 0, &h, pl, GB_SEND_SPILL);
        if (st == GB_ECLOSED)
            break;
        GB_CHECK(st == GB_OK, "send: %s", gb_last_error());
        s->accepted++;
    }
    return NULL;
}

/* Abort a running ring under senders, move what it left to a new ring:
 * each actor's count is exactly what was accepted for it, in order. */
GB_TEST(ring_failover, abort_and_move_under_senders_handles_each_accepted_message_once)
{
    gb_ring *a = make_ring(4, 64, 0), *b = make_ring(4, 64, 0);
    GB_CHECK(gb_ring_start(a) == GB_OK, "%s", gb_last_error());
    pthread_t th[SENDERS];
    sender s[SENDERS];
    for (int i = 0; i < SENDERS; i++) {
        s[i] = (sender){.r = a, .producer = (uint64_t)i};
        pthread_create(&th[i], NULL, send_until_closed, &s[i]);
    }
    gb_ring_counters c;
    do {
        sched_yield();
        gb_ring_get_counters(a, &c);
    } while (c.handled < 2000);
    GB_CHECK(gb_ring_stop(a, GB_RING_ABORT) == GB_OK, "%s", gb_last_error());
    moved m = {.to = b};
    gb_ring_export_actors(a, import_one, &m, NULL);
    taken t = {.to = b};
    GB_CHECK(gb_ring_take_pending(a, take_one, &t, NULL) == GB_OK, "%s", gb_last_error());
    for (int i = 0; i < SENDERS; i++)
        pthread_join(th[i], NULL);
    GB_CHECK(gb_ring_start(b) == GB_OK, "%s", gb_last_error());
    for (int i = 0; i < SENDERS; i++) {
        uint64_t g[4];
        get(b, (uint64_t)i, g);
        GB_CHECK(g[0] == s[i].accepted && g[2] == 0, "actor %d: count %llu of %llu accepted, violations %llu",
                 i, (unsigned long long)g[0], (unsigned long long)s[i].accepted, (unsigned long long)g[2]);
    }
    gb_ring_destroy(a);
    gb_ring_destroy(b);
}

typedef struct exported {
    uint64_t id[4];
    uint32_t calls_out[4];
    int n;
} exported;

static void note_actor(void *arg, uint32_t type, uint64_t id, uint32_t calls_out, const void *state, uint32_t len)
{
    (void)type, (void)state, (void)len;
    exported *e = arg;
    GB_CHECK(e->n < 4, "more actors than imported");
    e->id[e->n] = id;
    e->calls_out[e->n++] = calls_out;
}

GB_TEST(ring_failover, calls_out_move_with_the_state_and_keep_the_actor_active)
{
    gb_ring *r = make_ring(1, 0, 8);
    uint64_t st[2] = {3, 0}; /* count 3 */
    GB_CHECK(gb_ring_import_actor(r, 0, 5, 2, st, sizeof st) == GB_OK, "%s", gb_last_error());
    GB_CHECK(gb_ring_import_actor(r, 0, 6, 0, st, sizeof st) == GB_OK, "%s", gb_last_error());
    GB_CHECK(gb_ring_import_actor(r, 0, 7, UINT32_MAX, st, sizeof st) == GB_EINVAL, "calls_out out of range");
    exported e = {0};
    GB_CHECK(gb_ring_export_actors(r, note_actor, &e, NULL) == GB_OK && e.n == 2, "%d actors", e.n);
    for (int i = 0; i < 2; i++)
        GB_CHECK(e.calls_out[i] == (e.id[i] == 5 ? 2u : 0u), "actor %llu: %u calls out",
                 (unsigned long long)e.id[i], e.calls_out[i]);
    GB_CHECK(gb_ring_start(r) == GB_OK, "%s", gb_last_error());
    GB_CHECK(gb_ring_deactivate(r, 0, 5) == GB_OK && gb_ring_deactivate(r, 0, 6) == GB_OK, "%s", gb_last_error());
    uint64_t g5[4], g6[4];
    get(r, 5, g5);
    get(r, 6, g6);
    GB_CHECK(g5[0] == 3, "the actor with calls out kept its state: count %llu", (unsigned long long)g5[0]);
    GB_CHECK(g6[0] == 0, "the other was deactivated: count %llu", (unsigned long long)g6[0]);
    gb_ring_destroy(r);
}

GB_TEST(ring_failover, deactivation_frees_entries_and_keeps_the_others_reachable)
{
    gb_ring *r = make_ring(1, 0, 8); /* one lane, 8 entries: probes collide */
    GB_CHECK(gb_ring_start(r) == GB_OK, "%s", gb_last_error());
    for (uint64_t k = 0; k < 8; k++)
        for (uint64_t i = 1; i <= k + 1; i++)
            add(r, k, 0, i);
    for (uint64_t k = 0; k < 8; k += 2)
        GB_CHECK(gb_ring_deactivate(r, 0, k) == GB_OK, "%s", gb_last_error());
    for (uint64_t k = 1; k < 8; k += 2) { /* kept: state intact wherever it was moved */
        uint64_t g[4];
        get(r, k, g);
        GB_CHECK(g[0] == k + 1 && g[2] == 0, "actor %llu: count %llu", (unsigned long long)k,
                 (unsigned long long)g[0]);
    }
    for (uint64_t k = 8; k < 10; k++) /* freed entries take new actors: no table_full */
        add(r, k, 0, 1);
    for (uint64_t k = 0; k < 4;
         k += 2) { /* deactivated: back with a zeroed state (the table is full again) */
        uint64_t g[4];
        add(r, k, 0, 1);
        get(r, k, g);
        GB_CHECK(g[0] == 1 && g[2] == 0, "actor %llu after reactivation: count %llu", (unsigned long long)k,
                 (unsigned long long)g[0]);
    }
    gb_ring_counters c;
    gb_ring_get_counters(r, &c);
    GB_CHECK(c.deactivated == 4 && c.table_full == 0, "deactivated %llu, table full %llu",
             (unsigned long long)c.deactivated, (unsigned long long)c.table_full);
    GB_CHECK(gb_ring_deactivate(r, 0, 12345) == GB_OK, "an inactive actor is left alone");
    gb_ring_destroy(r);
}
