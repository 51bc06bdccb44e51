/*
 * Turns: a worker that owns an actor (see mailbox.c) runs up to `batch`
 * messages of it, one at a time, then releases or requeues it.
 *
 * The gate: a non-reentrant actor with calls in flight (outstanding > 0)
 * only handles completions; other messages popped meanwhile move to the
 * actor's deferred list, which is handled first, in order, once the gate
 * opens. Per-sender FIFO order therefore survives the gate.
 *
 * Ownership accounting: the turn subtracts from `depth` the messages it
 * popped. If deferred messages are ready but the batch is used up, the
 * owner keeps one "phantom" unit of depth so that it stays the owner (no
 * sender can see 0 -> 1 and schedule the actor a second time) and requeues
 * itself; the phantom is given back by the next turn.
 *
 * Lingering: when the mailbox of an actor that handled messages in this
 * turn runs dry on a worker with nothing else queued, the turn waits up to
 * GBI_LINGER_NS for the next message before it releases the actor. It polls
 * only the link the next sender writes (the mailbox tail's `next`, on the
 * owner's cache line), so it does not slow that sender; a sender that finds
 * the depth above 0 schedules nothing. Without it, a receiver a little
 * faster than its sender drains its mailbox after every few messages, and
 * each refill costs the sender a scheduling (run-queue push, wake-up check)
 * and another worker a steal: about twice the cost per message. Waiting
 * costs no throughput, since that worker would otherwise spin idle, and it
 * stops at once when another actor is queued (fairness) or the batch is
 * used up (the actor is requeued as usual).
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/runtime.h"
#include "base/error.h"
#include "gpubridge/log.h"
#include "gpubridge/time.h"

#define GBI_LINGER_NS 3000     /* longest wait for the next message */
#define GBI_LINGER_STEP_NS 1024 /* longest gap between two looks at the mailbox */
#define GBI_LINGER_FIRST_NS 32  /* shortest first gap */

_Thread_local gb_actor_ctx *gbi_tl_ctx;

static int gate_open(const gbi_actor *a)
{
    return a->type->desc.reentrant || a->outstanding == 0;
}

static void defer_msg(gbi_actor *a, gbi_msg *m)
{
    atomic_store_explicit(&m->node.next, NULL, memory_order_relaxed);
    if (a->def_tail)
        atomic_store_explicit(&a->def_tail->node.next, &m->node, memory_order_relaxed);
    else
        a->def_head = m;
    a->def_tail = m;
    atomic_fetch_add_explicit(&a->deferred_n, 1, memory_order_relaxed);
}

static gbi_msg *undefer_msg(gbi_actor *a)
{
    gbi_msg *m = a->def_head;
    a->def_head = (gbi_msg *)(void *)atomic_load_explicit(&m->node.next, memory_order_relaxed);
    if (!a->def_head)
        a->def_tail = NULL;
    atomic_fetch_sub_explicit(&a->deferred_n, 1, memory_order_relaxed);
    return m;
}

static gb_status reply_status(gb_actor_ctx *ctx, gb_status st)
{
    gb_reply_token tok = {ctx->cur->hdr.correlation};
    return gb_reply(ctx->silo, &tok, st, NULL, 0);
}

static gb_status send_reply(gb_silo *s, uint64_t correlation, gb_status status, uint32_t flags,
                            const void *payload, uint32_t len);

/* m cannot be handled: its actor could not be activated (status, with
 * gb_last_error's sentence). A request gets an error response from the
 * runtime (GB_MSG_SYSTEM, the sentence as its payload); a one-way message
 * is dropped, logged and counted. */
static void refuse(gb_actor_ctx *ctx, gbi_msg *m, gb_status status)
{
    char why[192];
    snprintf(why, sizeof why, "%s", gb_last_error());
    if (m->hdr.correlation) {
        uint32_t len = (uint32_t)strlen(why) + 1;
        if (len > ctx->silo->o.max_payload)
            len = 0;
        send_reply(ctx->silo, m->hdr.correlation, status, GB_MSG_SYSTEM, why, len);
        return;
    }
    gbi_count(&ctx->c->dropped, 1);
    gb_log(GB_LOG_ERROR, "actor", "one-way message %u to %016llx dropped: %s", m->hdr.method,
           (unsigned long long)ctx->actor->id, why);
}

static void deliver_user(gb_actor_ctx *ctx, gbi_msg *m)
{
    gbi_actor *a = ctx->actor;
    if (!a->active) {
        gb_status ast = gbi_activate(ctx);
        if (ast != GB_OK) {
            refuse(ctx, m, ast);
            return;
        }
    }
    int request = m->hdr.correlation != 0;
    ctx->cur = m;
    ctx->answered = 0;
    ctx->chain = request ? gbi_msg_chain(m) : NULL;
    ctx->chain_len = request ? m->chain_len : 0;
    /* counted before the handler runs, so that whoever its reply reaches
     * sees the count; a worker's own counters take a plain store */
    if (ctx->own_c)
        gbi_count_own(&ctx->c->delivered, 1);
    else
        gbi_count(&ctx->c->delivered, 1);
    gb_status st = a->type->desc.handler(ctx, a->state, &m->hdr, gbi_msg_payload(m));
    if (request && !ctx->answered)
        reply_status(ctx, st);
    ctx->cur = NULL;
    ctx->chain = NULL;
    ctx->chain_len = 0;
}

/* Handle one message; returns 1 for activity that keeps an actor alive
 * (messages and completions, not timer ticks or probes). */
static int dispatch(gb_actor_ctx *ctx, gbi_msg *m)
{
    gbi_tl_pt.left = 0; /* this message's first HLC stamp reads the clock */
    switch (m->kind) {
    case GBI_MSG_COMPLETION:
        gbi_call_deliver(ctx, m); /* frees the call record that holds m */
        return 1;
    case GBI_MSG_DEACTIVATE:
        atomic_store_explicit(&ctx->actor->deact_pending, 0, memory_order_relaxed);
        gbi_deactivate(ctx, 0);
        gbi_msg_free(ctx->silo, m);
        return 0;
    case GBI_MSG_TIMER:
        gbi_timer_deliver(ctx, m);
        gbi_msg_free(ctx->silo, m);
        return 0;
    default:
        gbi_hlc_receive(ctx->silo, m);
        deliver_user(ctx, m);
        gbi_msg_free(ctx->silo, m);
        return 1;
    }
}

/* Give back `consumed` units of depth (plus the phantom); 1 = still owned. */
static int settle(gb_silo *s, gbi_actor *a, uint32_t consumed)
{
    int keep = gate_open(a) && a->def_head != NULL;
    int64_t delta = (int64_t)consumed + a->phantom - keep;
    a->phantom = (uint8_t)keep;
    if (delta < 0) {
        atomic_fetch_add_explicit(&a->depth, 1, memory_order_relaxed);
        return 1;
    }
    if (delta == 0)
        return 1;
    /* release: the next owner (scheduled by a sender's 0 -> 1 CAS, which is
     * acq_rel) sees everything this turn wrote to the actor. */
    uint32_t old = atomic_fetch_sub_explicit(&a->depth, (uint32_t)delta, memory_order_acq_rel);
    if (old + atomic_load_explicit(&a->deferred_n, memory_order_relaxed) >= s->o.mailbox_capacity)
        gbi_mailbox_room(s);
    return old != (uint32_t)delta || keep;
}

/* Whether a turn of this thread may linger: workers only (never a caller
 * running a turn for its gb_call, nor destroy's last turns, nor a turn run
 * inside a sender's turn by gbi_sched_help). */
static int may_linger(gb_silo *s)
{
    gbi_worker *w = gbi_pool_worker(s);
    return w && !w->helping && !atomic_load_explicit(&s->closing, memory_order_relaxed);
}

/* The mailbox ran dry: wait up to GBI_LINGER_NS for a sender to link the
 * next message after the tail; 1 when one came (pop again), 0 to release.
 * It looks at the link every first_gap for four gaps, then at doubling
 * gaps up to GBI_LINGER_STEP_NS, and touches nothing shared in between: a receiver
 * that re-reads the link the sender is about to write takes that line from
 * the sender at every message, which made a flood 3-4x slower than a
 * receiver that lets messages pile up a little and then takes them in one
 * batch. The first gap adapts per actor (linger_adapt): a flood keeps the
 * long one; an exchange of single messages with an actor on another worker
 * (a ping-pong pair split over two workers, answering within a few hundred
 * ns) shrinks it, where looking only every microsecond put a microsecond
 * on each round trip; once it is at its shortest and a linger still brings
 * one message, the pair is split over two workers and the actor is
 * released instead (split_exchange), so that the pair comes together on
 * one worker. */
static int linger(gb_silo *s, gbi_actor *a, int64_t first_gap)
{
    gbi_mpsc_node *tail = atomic_load_explicit(&a->mb_tail, memory_order_relaxed);
    int64_t start = 0, next = 0, step = first_gap;
    for (;;) {
        if (gbi_sched_has_work(s)) /* the run queues' lines change only when an actor is queued */
            return 0;
        for (int i = 0; i < 8; i++)
            gb_cpu_relax();
        int64_t now = gb_time_fast_ns();
        if (!start) {
            start = now;
            next = now + step;
        }
        if (now < next)
            continue;
        if (atomic_load_explicit(&tail->next, memory_order_relaxed))
            return 1;
        if (now - start >= GBI_LINGER_NS)
            return 0;
        if (step < GBI_LINGER_STEP_NS) {
            if (now - start >= 4 * first_gap) /* a few looks at the first gap, then wider */
                step *= 2;
        } else {
            sched_yield(); /* the sender may be waiting for this CPU */
            now = gb_time_fast_ns();
        }
        next = now + step;
    }
}

/* The next first gap of an actor's linger, from the messages its last
 * linger brought (taken before the mailbox ran dry again): one means single
 * messages answered from afar (look sooner), several a flood (look later). */
static int64_t linger_adapt(int64_t gap, uint32_t brought)
{
    if (brought <= 1)
        return gap / 2 > GBI_LINGER_FIRST_NS ? gap / 2 : GBI_LINGER_FIRST_NS;
    if (brought >= 4)
        return gap * 2 < GBI_LINGER_STEP_NS ? gap * 2 : GBI_LINGER_STEP_NS;
    return gap;
}

/* Whether the last linger shows a ping-pong split over two workers: it
 * brought one message while already looking at the shortest gap. Lingering
 * keeps such a pair split (each side waits on its own worker for the
 * other's answer, a cross-core hand-off per message); releasing the actor
 * instead lets the partner's next message schedule it on the partner's
 * worker (senders push onto their own run queue), where the pair then
 * runs on one core. */
static int split_exchange(int64_t gap, uint32_t brought)
{
    return brought <= 1 && gap <= GBI_LINGER_FIRST_NS;
}

int gbi_turn_run(gb_silo *s, gbi_actor *a, gbi_counters *c)
{
    gb_actor_ctx ctx = {.silo = s, .actor = a, .c = c};
    /* the counters of a worker or a held caller slot have one writer: this thread */
    ctx.own_c = gbi_tl_worker && &gbi_tl_worker->c == c;
    gb_actor_ctx *outer = gbi_tl_ctx;
    gbi_tl_ctx = &ctx;
    uint32_t consumed = 0;
    int busy = 0;
    int feed = GBI_FEED_ON(s); /* read once per turn: fixed for the silo's life */
    int lingering = may_linger(s);
    int64_t gap = a->linger_gap8 ? (int64_t)a->linger_gap8 * 8 : GBI_LINGER_STEP_NS;
    uint32_t brought = 0; /* messages taken since the last linger, if any */
    int lingered = 0;
    for (uint32_t n = 0; n < s->o.batch; n++) {
        int open = gate_open(a);
        gbi_msg *m;
        if (open && a->def_head) {
            m = undefer_msg(a);
        } else {
            m = (gbi_msg *)(void *)gbi_mbox_pop(a);
            if (!m) {
                if (lingered && split_exchange(gap, brought)) {
                    gap = GBI_LINGER_STEP_NS;
                    break; /* released: the partner's next message brings it to the partner's worker */
                }
                if (lingered)
                    gap = linger_adapt(gap, brought);
                if (lingering && linger(s, a, gap)) {
                    lingered = 1;
                    brought = 0;
                    continue; /* one batch slot spent: the turn stays bounded */
                }
                break; /* empty, or a sender is mid-push: requeue if depth says so */
            }
            consumed++;
            brought++;
            /* causal receive at the pop, in mailbox (causal) order: the
             * gate may hold the message back, a local decision */
            if (__builtin_expect(feed, 0) && m->kind == GBI_MSG_USER)
                gbi_feed_recv(s, m, a->id);
        }
        if (!open && m->kind != GBI_MSG_COMPLETION)
            defer_msg(a, m);
        else
            busy |= dispatch(&ctx, m);
    }
    a->linger_gap8 = (uint8_t)(gap / 8);
    if (busy && a->type->desc.idle_timeout_ns > 0)
        atomic_store_explicit(&a->last_turn_ns, gbi_now_ns(), memory_order_relaxed);
    gbi_tl_ctx = outer;
    return settle(s, a, consumed);
}

/* ---- handler-side API ------------------------------------------------------ */

gb_actor_id gb_ctx_self(const gb_actor_ctx *ctx)
{
    return ctx ? ctx->actor->id : 0;
}

gb_silo *gb_ctx_silo(const gb_actor_ctx *ctx)
{
    return ctx ? ctx->silo : NULL;
}

const char *gb_ctx_key_str(const gb_actor_ctx *ctx)
{
    return ctx && ctx->actor->key_is_str ? ctx->actor->key.str : NULL;
}

uint64_t gb_ctx_key_u64(const gb_actor_ctx *ctx)
{
    return ctx && !ctx->actor->key_is_str ? ctx->actor->key.u64 : 0;
}

void *gb_ctx_type_user(const gb_actor_ctx *ctx)
{
    return ctx ? ctx->actor->type->desc.user : NULL;
}

int gb_ctx_reactivated(const gb_actor_ctx *ctx)
{
    return ctx ? ctx->actor->reactivated : 0;
}

gb_status gb_ctx_send(gb_actor_ctx *ctx, gb_actor_id target, uint32_t method, const void *payload,
                      uint32_t len)
{
    if (!ctx)
        return gbi_error(GB_EINVAL, "gb_ctx_send", "ctx is NULL");
    return gb_send(ctx->silo, target, method, payload, len);
}

static gb_status take_request(gb_actor_ctx *ctx, const char *where)
{
    if (!ctx)
        return gbi_error(GB_EINVAL, where, "ctx is NULL");
    if (!ctx->cur || ctx->cur->hdr.correlation == 0)
        return gbi_error(GB_EINVAL, where, "the message being handled is not a request");
    if (ctx->answered)
        return gbi_error(GB_EINVAL, where, "the request was already answered or deferred");
    ctx->answered = 1;
    return GB_OK;
}

gb_status gb_ctx_reply(gb_actor_ctx *ctx, gb_status status, const void *payload, uint32_t len)
{
    gb_status st = take_request(ctx, "gb_ctx_reply");
    if (st != GB_OK)
        return st;
    gb_reply_token tok = {ctx->cur->hdr.correlation};
    return gb_reply(ctx->silo, &tok, status, payload, len);
}

gb_status gb_ctx_defer_reply(gb_actor_ctx *ctx, gb_reply_token *out)
{
    if (!out)
        return gbi_error(GB_EINVAL, "gb_ctx_defer_reply", "out is NULL");
    gb_status st = take_request(ctx, "gb_ctx_defer_reply");
    if (st == GB_OK)
        out->correlation = ctx->cur->hdr.correlation;
    return st;
}

/* Build and complete the response of call `correlation`; extra flags
 * (GB_MSG_SYSTEM for the runtime's own error responses). */
static gb_status send_reply(gb_silo *s, uint64_t correlation, gb_status status, uint32_t flags,
                            const void *payload, uint32_t len)
{
    uint32_t extra = status != GB_OK ? 4u : 0u;
    gbi_msg *m = gbi_msg_new(s, len + extra, 0);
    if (!m)
        return gbi_call_complete(s, correlation, GB_ENOMEM, NULL);
    gb_actor_ctx *ctx = gbi_tl_ctx;
    m->hdr.sender = (ctx && ctx->silo == s) ? ctx->actor->id : 0;
    m->hdr.correlation = correlation;
    m->hdr.flags = GB_MSG_RESPONSE | (extra ? GB_MSG_ERROR : 0) | flags;
    if (extra) {
        int32_t code = (int32_t)status;
        memcpy(gbi_msg_payload(m), &code, 4);
    }
    if (len)
        memcpy(gbi_msg_payload(m) + extra, payload, len);
    m->hdr.hlc = gb_hlc_now(s->hlc);
    m->local_stamp = 1;
    if (GBI_FEED_ON(s))
        gbi_feed_send(s, m);
    return gbi_call_complete(s, correlation, status, m);
}

gb_status gb_reply(gb_silo *s, const gb_reply_token *token, gb_status status, const void *payload,
                   uint32_t len)
{
    if (!s || !token || !token->correlation)
        return gbi_error(GB_EINVAL, "gb_reply", "silo and a valid token are required");
    gb_status st = gbi_check_payload(s, payload, len, "gb_reply");
    if (st != GB_OK)
        return st;
    return send_reply(s, token->correlation, status, 0, payload, len);
}
