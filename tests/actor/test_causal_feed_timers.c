// gb-test-labels: concurrency
/* Causal recording of timer ticks and of completions without a reply: a
 * tick is a message from the timer's actor to itself (its send happens
 * before what the tick's handler does); a callback that runs after a
 * timeout is a local event of its actor; a wait cycle of calls started
 * from timer ticks (a calls b from a tick, b holds that call and calls a
 * from its own tick) is invisible to the call-chain check and reported by
 * gb_silo_deadlocks; every history is accepted by gb_causal_verify. */
#include <stdio.h>
#include <stdlib.h>

#include "actor/actor_test.h"
#include "gpubridge/causal.h"

enum {
    M_ARM = 1,
    M_TICK = 2,
    M_NOTE = 3,
    M_SHORT = 4,
    M_HOLD = 5,
    M_CALL_TICK = 6,
    M_HOLD_ARM = 7,
    M_KICK = 8
};
#define TICKS 3

static gb_actor_id g_a, g_b;
static _Atomic int g_ticks, g_timeouts;
static gb_reply_token g_tokens[4];
static _Atomic int g_ntokens;

typedef struct st {
    uint64_t timer, ticks, peer;
} st;

static void cb_count_timeout(gb_actor_ctx *ctx, void *arg, gb_status s, const void *p, uint32_t len)
{
    (void)ctx, (void)arg, (void)p, (void)len;
    if (s == GB_ETIMEDOUT)
        atomic_fetch_add(&g_timeouts, 1);
}

static void cb_ignore(gb_actor_ctx *ctx, void *arg, gb_status s, const void *p, uint32_t len)
{
    (void)ctx, (void)arg, (void)s, (void)p, (void)len;
}

/* Keep a request's reply token: never answered (the silo's destroy ends it). */
static void hold(gb_actor_ctx *ctx)
{
    int i = atomic_fetch_add(&g_ntokens, 1);
    if (i < 4)
        gb_ctx_defer_reply(ctx, &g_tokens[i]);
}

/* ARM(peer): a periodic timer whose TICKS-th tick notes peer and stops.
 * SHORT(peer): call peer's HOLD with a 20 ms timeout. CALL_TICK: a
 * one-shot tick that calls peer's HOLD_ARM (a) or HOLD (b). HOLD_ARM:
 * hold the call and arm this actor's CALL_TICK (KICK: arm it). */
static gb_status handler(gb_actor_ctx *ctx, void *state, const gb_msg_header *m, const void *p)
{
    st *s = state;
    if ((m->method == M_ARM || m->method == M_SHORT) && m->payload_len >= 8)
        memcpy(&s->peer, p, 8); /* a tick's payload is its timer id */
    switch (m->method) {
    case M_ARM:
        return gb_ctx_timer_start(ctx, M_TICK, 1000000, 1000000, &s->timer);
    case M_TICK:
        if (++s->ticks < TICKS)
            return GB_OK;
        gb_ctx_timer_cancel(ctx, s->timer);
        atomic_fetch_add(&g_ticks, 1);
        return gb_ctx_send(ctx, s->peer, M_NOTE, NULL, 0);
    case M_SHORT:
        return gb_ctx_call(ctx, s->peer, M_HOLD, NULL, 0, 20000000, cb_count_timeout, NULL);
    case M_HOLD:
        hold(ctx);
        return GB_OK;
    case M_HOLD_ARM:
    case M_KICK: {
        uint64_t id;
        if (m->method == M_HOLD_ARM)
            hold(ctx);
        return gb_ctx_timer_start(ctx, M_CALL_TICK, 1000000, 0, &id);
    }
    case M_CALL_TICK: {
        gb_actor_id me = gb_ctx_self(ctx), peer = me == g_a ? g_b : g_a;
        return gb_ctx_call(ctx, peer, me == g_a ? M_HOLD_ARM : M_HOLD, NULL, 0, 60000000000LL, cb_ignore,
                           NULL);
    }
    default:
        return GB_OK;
    }
}

static gb_silo *setup(gb_causal_graph *g, gb_waitfor *w)
{
    gb_silo_opts o = {.causal = g, .waitfor = w, .drain_timeout_ns = 100000000};
    gb_silo *s = test_silo(&o);
    gb_actor_type t = {.name = "timed", .state_size = sizeof(st), .handler = handler};
    GB_CHECK(gb_actor_type_register(s, &t) == GB_OK, "%s", gb_last_error());
    GB_CHECK(gb_actor_ref_str(s, "timed", "a", &g_a) == GB_OK, "%s", gb_last_error());
    GB_CHECK(gb_actor_ref_str(s, "timed", "b", &g_b) == GB_OK, "%s", gb_last_error());
    atomic_store(&g_ticks, 0);
    atomic_store(&g_timeouts, 0);
    atomic_store(&g_ntokens, 0);
    return s;
}

static void verify_ok(gb_causal_graph *g)
{
    gb_causal_violation v;
    GB_CHECK(gb_causal_verify(g, NULL, &v) == GB_OK, "%s: %s", gb_causal_violation_name(v.kind), v.what);
}

/* Events of actor: ticks (a SEND and a RECV of one message, both by actor)
 * and LOCAL events; *last_tick_send = the id of the last tick's SEND. */
static void scan(gb_causal_graph *g, uint64_t actor, size_t *ticks, size_t *locals, uint64_t *last_tick_send)
{
    size_t n = gb_causal_count(g);
    *ticks = *locals = 0;
    *last_tick_send = 0;
    for (uint64_t id = 1; id <= n; id++) {
        gb_causal_event e;
        GB_CHECK(gb_causal_event_get(g, id, &e, NULL) == GB_OK, "%s", gb_last_error());
        *locals += e.kind == GB_CAUSAL_LOCAL && e.actor == actor;
        if (e.kind != GB_CAUSAL_RECV || e.actor != actor)
            continue;
        for (uint64_t j = 1; j < id; j++) {
            gb_causal_event x;
            GB_CHECK(gb_causal_event_get(g, j, &x, NULL) == GB_OK, "%s", gb_last_error());
            if (x.kind == GB_CAUSAL_SEND && x.msg_id == e.msg_id && x.actor == actor) {
                (*ticks)++;
                *last_tick_send = j;
            }
        }
    }
}

GB_TEST(causal_feed_timers, ticks_are_messages_of_their_actor_and_happen_before_its_sends)
{
    gb_causal_graph *g;
    GB_CHECK(gb_causal_create(&g) == GB_OK, "create");
    gb_silo *s = setup(g, NULL);
    GB_CHECK(gb_send(s, g_a, M_ARM, &g_b, 8) == GB_OK, "%s", gb_last_error());
    GB_CHECK(wait_atomic(&g_ticks, 1), "a's timer ticked %d times", TICKS);
    gb_silo_destroy(s);
    size_t ticks, locals;
    uint64_t last_tick;
    scan(g, g_a, &ticks, &locals, &last_tick);
    GB_CHECK(ticks == TICKS, "%zu ticks recorded as a's messages to itself", ticks);
    /* the NOTE a sends from its last tick, and b's receive of it */
    uint64_t note_send = 0, note_recv = 0;
    for (uint64_t id = 1; id <= gb_causal_count(g); id++) {
        gb_causal_event e;
        GB_CHECK(gb_causal_event_get(g, id, &e, NULL) == GB_OK, "%s", gb_last_error());
        if (e.kind == GB_CAUSAL_RECV && e.actor == g_b)
            note_recv = id;
        if (e.kind == GB_CAUSAL_SEND && e.actor == g_a && id > last_tick)
            note_send = id;
    }
    bool hb = false;
    GB_CHECK(note_send && note_recv, "the note was recorded");
    GB_CHECK(gb_causal_happened_before(g, last_tick, note_recv, &hb) == GB_OK && hb,
             "the tick happened before b received what its handler sent");
    verify_ok(g);
    gb_causal_destroy(g);
}

GB_TEST(causal_feed_timers, a_callback_after_a_timeout_is_a_local_event_of_its_actor)
{
    gb_causal_graph *g;
    GB_CHECK(gb_causal_create(&g) == GB_OK, "create");
    gb_silo *s = setup(g, NULL);
    GB_CHECK(gb_send(s, g_a, M_SHORT, &g_b, 8) == GB_OK, "%s", gb_last_error());
    GB_CHECK(wait_atomic(&g_timeouts, 1), "a's call timed out");
    gb_silo_destroy(s);
    size_t ticks, locals;
    uint64_t last;
    scan(g, g_a, &ticks, &locals, &last);
    GB_CHECK(locals == 1, "%zu local events at a: its callback ran once, without a reply", locals);
    verify_ok(g);
    gb_causal_destroy(g);
}

/* Poll the pending-call count (bounded). */
static int wait_pending(gb_waitfor *w, size_t n)
{
    int64_t until = gb_time_monotonic_ns() + 10000000000LL;
    struct timespec p = {0, 200000};
    while (gb_waitfor_count(w) != n && gb_time_monotonic_ns() < until)
        nanosleep(&p, NULL);
    return gb_waitfor_count(w) == n;
}

static int on_deadlock(const gb_deadlock *d, void *arg)
{
    size_t *n_actors = arg;
    *n_actors = d->n_actors;
    return 0;
}

GB_TEST(causal_feed_timers, a_cycle_of_calls_started_by_timer_ticks_is_reported)
{
    gb_causal_graph *g;
    gb_waitfor *w;
    GB_CHECK(gb_causal_create(&g) == GB_OK && gb_waitfor_create(&w) == GB_OK, "create");
    gb_silo *s = setup(g, w);
    /* a's tick calls b (HOLD_ARM: b holds it, arms its tick); b's tick calls a (HOLD) */
    GB_CHECK(gb_send(s, g_a, M_KICK, NULL, 0) == GB_OK, "%s", gb_last_error());
    GB_CHECK(wait_pending(w, 2), "two pending calls, got %zu", gb_waitfor_count(w));
    gb_silo_stats stats;
    gb_silo_stats_get(s, &stats);
    GB_CHECK(stats.deadlocks == 0, "the call-chain check saw nothing: each call began at a tick");
    size_t n = 0, n_actors = 0;
    GB_CHECK(gb_silo_deadlocks(s, on_deadlock, &n_actors, &n) == GB_OK, "%s", gb_last_error());
    GB_CHECK(n == 1 && n_actors == 2, "deadlocks %zu over %zu actors", n, n_actors);
    gb_silo_destroy(s); /* ends both calls with GB_ECLOSED: their callbacks are local events */
    GB_CHECK(gb_waitfor_count(w) == 0, "edges removed");
    verify_ok(g);
    gb_causal_destroy(g);
    gb_waitfor_destroy(w);
}
