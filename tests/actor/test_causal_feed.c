// gb-test-labels: concurrency
/* Causal recording fed by a silo (opts.causal, opts.waitfor): a run of
 * actors records a history gb_causal_verify accepts; a send happens before
 * the receive of its reply; a cross-chain wait cycle made of callback calls
 * is reported by gb_silo_deadlocks; with the options off nothing is fed. */
#include <stdio.h>
#include <stdlib.h>

#include "actor/actor_test.h"
#include "gpubridge/causal.h"

enum { M_FWD = 1, M_ASK = 2, M_ECHO = 3, M_WAIT = 4, M_HOLD = 5, M_RELAY = 6, M_RELEASE = 7 };
#define RING 4
static gb_actor_id g_ring[RING];
static gb_reply_token g_held; /* the last HOLD request, answered by RELEASE */
static _Atomic int g_held_set;

static void ask_done(gb_actor_ctx *ctx, void *arg, gb_status st, const void *p, uint32_t len)
{
    gb_reply_token *tok = arg;
    gb_reply(gb_ctx_silo(ctx), tok, st, p, len);
    free(tok);
}

static void wait_done(gb_actor_ctx *ctx, void *arg, gb_status st, const void *p, uint32_t len)
{
    (void)ctx, (void)arg, (void)st, (void)p, (void)len;
}

/* FWD: pass a hop count on around the ring. ASK(peer): call peer's ECHO and
 * answer with its reply. WAIT(peer): call peer's HOLD with a callback.
 * HOLD: never answered. */
static gb_status handler(gb_actor_ctx *ctx, void *state, const gb_msg_header *m, const void *p)
{
    (void)state;
    uint64_t arg = 0;
    if (m->payload_len >= 8)
        memcpy(&arg, p, 8);
    if (m->method == M_FWD && arg > 0) {
        int i = 0;
        while (i < RING && g_ring[i] != gb_ctx_self(ctx))
            i++;
        uint64_t left = arg - 1;
        return gb_ctx_send(ctx, g_ring[(i + 1) % RING], M_FWD, &left, 8);
    }
    if (m->method == M_ASK || m->method == M_HOLD) {
        gb_reply_token *tok = malloc(sizeof *tok);
        gb_ctx_defer_reply(ctx, tok);
        if (m->method == M_HOLD) {
            g_held = *tok; /* answered by RELEASE, or never */
            free(tok);
            atomic_store_explicit(&g_held_set, 1, memory_order_release);
            return GB_OK;
        }
        gb_status st = gb_ctx_call(ctx, arg, M_ECHO, NULL, 0, 0, ask_done, tok);
        if (st != GB_OK) {
            gb_reply(gb_ctx_silo(ctx), tok, st, NULL, 0);
            free(tok);
        }
        return GB_OK;
    }
    if (m->method == M_WAIT)
        return gb_ctx_call(ctx, arg, M_HOLD, NULL, 0, 60000000000LL, wait_done, NULL);
    if (m->method == M_RELAY) { /* payload: a, c: one-way to a, then RELEASE to c */
        uint64_t ids[2], zero = 0;
        memcpy(ids, p, sizeof ids);
        gb_status st = gb_ctx_send(ctx, ids[0], M_FWD, &zero, 8);
        return st != GB_OK ? st : gb_ctx_send(ctx, ids[1], M_RELEASE, NULL, 0);
    }
    if (m->method == M_RELEASE)
        return gb_reply(gb_ctx_silo(ctx), &g_held, GB_OK, NULL, 0);
    return GB_OK; /* ECHO: the runtime answers */
}

static gb_silo *setup(gb_causal_graph *g, gb_waitfor *w)
{
    gb_silo_opts o = {.causal = g, .waitfor = w, .drain_timeout_ns = 100000000};
    gb_silo *s = test_silo(&o);
    gb_actor_type t = {.name = "node", .handler = handler};
    GB_CHECK(gb_actor_type_register(s, &t) == GB_OK, "%s", gb_last_error());
    char key[8];
    for (int i = 0; i < RING; i++) {
        snprintf(key, sizeof key, "n%d", i);
        GB_CHECK(gb_actor_ref_str(s, "node", key, &g_ring[i]) == GB_OK, "%s", gb_last_error());
    }
    return s;
}

/* Sends and calls over the ring, from this thread and the workers. */
static void traffic(gb_silo *s)
{
    uint64_t hops = 25;
    for (int i = 0; i < RING; i++)
        GB_CHECK(gb_send(s, g_ring[i], M_FWD, &hops, 8) == GB_OK, "%s", gb_last_error());
    for (int i = 0; i < 10; i++) {
        uint64_t peer = g_ring[(i + 1) % RING];
        GB_CHECK(gb_call(s, g_ring[i % RING], M_ASK, &peer, 8, 0, NULL, 0, NULL) == GB_OK, "%s",
                 gb_last_error());
    }
}

static void count_kinds(gb_causal_graph *g, size_t *sends, size_t *recvs)
{
    *sends = *recvs = 0;
    size_t n = gb_causal_count(g);
    for (uint64_t id = 1; id <= n; id++) {
        gb_causal_event ev;
        GB_CHECK(gb_causal_event_get(g, id, &ev, NULL) == GB_OK, "%s", gb_last_error());
        *sends += ev.kind == GB_CAUSAL_SEND;
        *recvs += ev.kind == GB_CAUSAL_RECV;
    }
}

GB_TEST(causal_feed, run_of_actors_records_a_history_verify_accepts)
{
    gb_causal_graph *g;
    GB_CHECK(gb_causal_create(&g) == GB_OK, "create");
    gb_silo *s = setup(g, NULL);
    traffic(s);
    gb_silo_destroy(s); /* drains: every message is delivered */
    size_t sends, recvs;
    count_kinds(g, &sends, &recvs);
    /* 4 x 26 one-way sends; 10 x (ask, echo request, echo reply, ask reply) */
    GB_CHECK(sends == 4 * 26 + 40, "sends %zu", sends);
    GB_CHECK(recvs == sends, "recvs %zu of %zu", recvs, sends);
    gb_causal_violation v;
    GB_CHECK(gb_causal_verify(g, NULL, &v) == GB_OK, "%s: %s", gb_causal_violation_name(v.kind), v.what);
    gb_causal_destroy(g);
}

/* a waits on c; b sends a one-way to a (held back by a's gate) and then
 * makes c answer: a runs the answer's callback before the one-way, although
 * the one-way's send happened before the answer's. Recorded at the
 * mailbox, the history is still causal. */
GB_TEST(causal_feed, message_held_back_by_the_gate_keeps_causal_delivery)
{
    gb_causal_graph *g;
    GB_CHECK(gb_causal_create(&g) == GB_OK, "create");
    gb_silo *s = setup(g, NULL);
    gb_actor_id a = g_ring[0], b = g_ring[1], c = g_ring[2];
    atomic_store(&g_held_set, 0);
    GB_CHECK(gb_send(s, a, M_WAIT, &c, 8) == GB_OK, "%s", gb_last_error());
    int64_t until = gb_time_monotonic_ns() + 10000000000LL;
    struct timespec nap = {0, 200000};
    while (!atomic_load_explicit(&g_held_set, memory_order_acquire) && gb_time_monotonic_ns() < until)
        nanosleep(&nap, NULL);
    GB_CHECK(atomic_load(&g_held_set), "c holds a's call");
    uint64_t ids[2] = {a, c};
    GB_CHECK(gb_send(s, b, M_RELAY, ids, sizeof ids) == GB_OK, "%s", gb_last_error());
    gb_silo_destroy(s);
    gb_causal_violation v;
    GB_CHECK(gb_causal_verify(g, NULL, &v) == GB_OK, "%s: %s", gb_causal_violation_name(v.kind), v.what);
    gb_causal_destroy(g);
}

/* The id of the first (or last) event of `kind` by actor (0 if none). */
static uint64_t event_of(gb_causal_graph *g, gb_causal_kind kind, uint64_t actor, int first)
{
    uint64_t found = 0;
    size_t n = gb_causal_count(g);
    for (uint64_t id = 1; id <= n; id++) {
        gb_causal_event ev;
        GB_CHECK(gb_causal_event_get(g, id, &ev, NULL) == GB_OK, "%s", gb_last_error());
        if (ev.kind == kind && ev.actor == actor) {
            GB_CHECK(ev.node == gb_silo_actor_node(actor), "node of actor");
            found = id;
            if (first)
                break;
        }
    }
    return found;
}

GB_TEST(causal_feed, send_happens_before_the_receive_of_its_reply)
{
    gb_causal_graph *g;
    GB_CHECK(gb_causal_create(&g) == GB_OK, "create");
    gb_silo *s = setup(g, NULL);
    uint64_t peer = g_ring[1];
    GB_CHECK(gb_call(s, g_ring[0], M_ASK, &peer, 8, 0, NULL, 0, NULL) == GB_OK, "%s", gb_last_error());
    gb_silo_destroy(s);
    /* a receives the ask, sends its request to b, receives b's reply,
     * sends its own reply; b receives the request and sends its reply */
    uint64_t req = event_of(g, GB_CAUSAL_SEND, g_ring[0], 1);
    uint64_t rep = event_of(g, GB_CAUSAL_RECV, g_ring[0], 0);
    uint64_t bsend = event_of(g, GB_CAUSAL_SEND, g_ring[1], 1);
    GB_CHECK(req && rep && bsend, "events %llu %llu %llu", (unsigned long long)req,
             (unsigned long long)rep, (unsigned long long)bsend);
    bool hb;
    GB_CHECK(gb_causal_happened_before(g, req, rep, &hb) == GB_OK && hb, "request before reply receive");
    GB_CHECK(gb_causal_happened_before(g, rep, req, &hb) == GB_OK && !hb, "not the other way");
    GB_CHECK(gb_causal_happened_before(g, req, bsend, &hb) == GB_OK && hb, "request before b's reply");
    GB_CHECK(gb_causal_happened_before(g, bsend, rep, &hb) == GB_OK && hb, "b's reply before its receive");
    gb_causal_destroy(g);
}

typedef struct found {
    int n;
    size_t n_actors, cycle_len;
    uint64_t actors[2], calls[2];
} found;

static int on_deadlock(const gb_deadlock *d, void *arg)
{
    found *f = arg;
    f->n++;
    f->n_actors = d->n_actors;
    f->cycle_len = d->cycle_len;
    for (size_t i = 0; i < d->n_actors && i < 2; i++)
        f->actors[i] = d->actors[i];
    for (size_t i = 0; i < d->cycle_len && i < 2; i++)
        f->calls[i] = d->cycle_call[i];
    return 0;
}

/* Poll the pending-call count (bounded like WAIT_FOR). */
static int wait_pending(gb_waitfor *w, size_t n)
{
    int64_t until = gb_time_monotonic_ns() + 10000000000LL;
    struct timespec p = {0, 200000};
    while (gb_time_monotonic_ns() < until) {
        if (gb_waitfor_count(w) == n)
            return 1;
        nanosleep(&p, NULL);
    }
    return 0;
}

GB_TEST(causal_feed, cross_chain_callback_cycle_is_reported)
{
    gb_waitfor *w;
    GB_CHECK(gb_waitfor_create(&w) == GB_OK, "create");
    gb_silo *s = setup(NULL, w);
    gb_actor_id a = g_ring[0], b = g_ring[1];
    /* a calls b, b calls a, each from its own chain with a callback */
    GB_CHECK(gb_send(s, a, M_WAIT, &b, 8) == GB_OK, "%s", gb_last_error());
    GB_CHECK(gb_send(s, b, M_WAIT, &a, 8) == GB_OK, "%s", gb_last_error());
    GB_CHECK(wait_pending(w, 2), "two pending calls, got %zu", gb_waitfor_count(w));
    gb_silo_stats st;
    gb_silo_stats_get(s, &st);
    GB_CHECK(st.deadlocks == 0, "the call-chain check saw nothing");
    found f = {0};
    size_t n = 0;
    GB_CHECK(gb_silo_deadlocks(s, on_deadlock, &f, &n) == GB_OK, "%s", gb_last_error());
    GB_CHECK(n == 1 && f.n == 1, "deadlocks %zu", n);
    GB_CHECK(f.n_actors == 2 && f.cycle_len == 2, "actors %zu cycle %zu", f.n_actors, f.cycle_len);
    uint64_t lo = a < b ? a : b, hi = a < b ? b : a;
    GB_CHECK(f.actors[0] == lo && f.actors[1] == hi, "both actors named");
    GB_CHECK(f.calls[0] && f.calls[1] && f.calls[0] != f.calls[1], "both call ids named");
    gb_silo_destroy(s); /* completes both calls with GB_ECLOSED */
    GB_CHECK(gb_waitfor_count(w) == 0, "edges removed, %zu left", gb_waitfor_count(w));
    gb_waitfor_destroy(w);
}

GB_TEST(causal_feed, recording_off_feeds_nothing)
{
    gb_causal_graph *g;
    gb_waitfor *w;
    GB_CHECK(gb_causal_create(&g) == GB_OK && gb_waitfor_create(&w) == GB_OK, "create");
    gb_silo *s = setup(NULL, NULL);
    traffic(s);
    gb_actor_id a = g_ring[0], b = g_ring[1];
    GB_CHECK(gb_send(s, a, M_WAIT, &b, 8) == GB_OK, "%s", gb_last_error());
    size_t n = 7;
    GB_CHECK(gb_silo_deadlocks(s, on_deadlock, NULL, &n) == GB_EINVAL && n == 0, "no wait-for graph");
    gb_silo_destroy(s);
    GB_CHECK(gb_causal_count(g) == 0 && gb_waitfor_count(w) == 0, "nothing recorded");
    gb_causal_destroy(g);
    gb_waitfor_destroy(w);
}
