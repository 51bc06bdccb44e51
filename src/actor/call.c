/*
 * Calls: request/response with a timeout, whatever the caller (an external
 * thread blocking in gb_call, a future, a callback, or an actor in a turn).
 *
 * Every call has a record in a slab; its correlation id is (generation << 32
 * | index), so a response finds its record without a map. The record's
 * `state` word is (generation << 2 | FREE/PENDING/DONE) and exactly one
 * party wins the CAS PENDING -> DONE for a given generation: the response,
 * the timeout (service thread or the blocked caller itself) or the silo's
 * shutdown. The losers' responses are dropped and counted as late; they can
 * never reach another call because a reused record has a new generation.
 *
 * Completion of an actor's call is a message: the record embeds a
 * GBI_MSG_COMPLETION envelope that goes into the caller's mailbox (never
 * refused by capacity, no allocation), so the callback runs in the caller's
 * own turn and its outstanding count (the non-reentrant gate) drops there.
 *
 * Free records are a Treiber stack of indices with a 32-bit tag against ABA;
 * the slab grows by chunks under a mutex and chunks are never freed before
 * destroy, so an index always names valid memory.
 */
#include <stdlib.h>
#include <string.h>

#include "actor/future.h"
#include "actor/runtime.h"
#include "base/error.h"
#include "gpubridge/log.h"
#include "gpubridge/time.h"

#define CHUNK_BITS 12
#define CHUNK (1u << CHUNK_BITS)
#define MAX_CHUNKS 4096u

enum { ST_FREE = 0, ST_PENDING = 1, ST_DONE = 2 };

typedef struct call_rec {
    gbi_msg done; /* completion envelope for actor callers */
    _Atomic uint64_t state;
    _Atomic uint32_t next_free; /* index + 1, 0 = end */
    uint32_t index;
    uint8_t kind;
    gbi_actor *caller;
    gb_future *fut;
    gb_reply_fn cb;
    void *arg;
    gb_status result;
    gbi_msg *resp;
    /* gb_call whose caller runs the target's turn itself: the caller's
     * deadline (gb_time_fast_ns), so that a reply made after it inside
     * that turn completes the call with GB_ETIMEDOUT as a worker-run turn
     * would (the caller cannot time out while it runs the turn); 0 = none */
    _Atomic int64_t deadline;
    uint32_t chain_len;
    uint64_t chain[GB_CALL_CHAIN_MAX];
} call_rec;

struct gbi_calls {
    _Atomic(call_rec *) chunks[MAX_CHUNKS];
    _Atomic uint32_t nchunks;
    pthread_mutex_t grow_lock;
    _Atomic uint64_t free_head; /* tag << 32 | (index + 1) */
};

gb_status gbi_calls_create(gbi_calls **out)
{
    gbi_calls *c = calloc(1, sizeof *c);
    if (!c)
        return gbi_error(GB_ENOMEM, "calls", "out of memory");
    pthread_mutex_init(&c->grow_lock, NULL);
    *out = c;
    return GB_OK;
}

void gbi_calls_destroy(gbi_calls *c)
{
    if (!c)
        return;
    uint32_t n = atomic_load_explicit(&c->nchunks, memory_order_relaxed);
    for (uint32_t i = 0; i < n; i++)
        free(atomic_load_explicit(&c->chunks[i], memory_order_relaxed));
    pthread_mutex_destroy(&c->grow_lock);
    free(c);
}

static call_rec *rec_at(gbi_calls *c, uint32_t index)
{
    if ((index >> CHUNK_BITS) >= atomic_load_explicit(&c->nchunks, memory_order_acquire))
        return NULL;
    return &atomic_load_explicit(&c->chunks[index >> CHUNK_BITS], memory_order_acquire)[index & (CHUNK - 1)];
}

static void push_free(gbi_calls *c, call_rec *first, call_rec *last)
{
    uint64_t h = atomic_load_explicit(&c->free_head, memory_order_relaxed);
    do {
        atomic_store_explicit(&last->next_free, (uint32_t)h, memory_order_relaxed);
    } while (!atomic_compare_exchange_weak_explicit(&c->free_head, &h,
                                                    (((h >> 32) + 1) << 32) | (first->index + 1),
                                                    memory_order_release, memory_order_relaxed));
}

static gb_status grow(gbi_calls *c)
{
    pthread_mutex_lock(&c->grow_lock);
    gb_status st = GB_OK;
    uint32_t n = atomic_load_explicit(&c->nchunks, memory_order_relaxed);
    if ((uint32_t)atomic_load_explicit(&c->free_head, memory_order_acquire) != 0)
        goto out; /* someone else grew it */
    call_rec *chunk = n < MAX_CHUNKS ? calloc(CHUNK, sizeof *chunk) : NULL;
    if (!chunk) {
        st = gbi_error(n < MAX_CHUNKS ? GB_ENOMEM : GB_EAGAIN, "gb_call",
                       "no call record left (%u in flight)", n * CHUNK);
        goto out;
    }
    for (uint32_t i = 0; i < CHUNK; i++) {
        chunk[i].index = n * CHUNK + i;
        atomic_init(&chunk[i].state, ST_FREE);
        atomic_init(&chunk[i].next_free, i + 1 < CHUNK ? n * CHUNK + i + 2 : 0);
    }
    atomic_store_explicit(&c->chunks[n], chunk, memory_order_release);
    atomic_store_explicit(&c->nchunks, n + 1, memory_order_release);
    push_free(c, &chunk[0], &chunk[CHUNK - 1]);
out:
    pthread_mutex_unlock(&c->grow_lock);
    return st;
}

static gb_status rec_alloc(gbi_calls *c, call_rec **out)
{
    for (;;) {
        uint64_t h = atomic_load_explicit(&c->free_head, memory_order_acquire);
        uint32_t idx1 = (uint32_t)h;
        if (!idx1) {
            gb_status st = grow(c);
            if (st != GB_OK)
                return st;
            continue;
        }
        call_rec *r = rec_at(c, idx1 - 1);
        uint32_t next = atomic_load_explicit(&r->next_free, memory_order_relaxed);
        if (atomic_compare_exchange_weak_explicit(&c->free_head, &h, (((h >> 32) + 1) << 32) | next,
                                                  memory_order_acquire, memory_order_relaxed)) {
            *out = r;
            return GB_OK;
        }
    }
}

/* Give a record a new generation and mark it pending; returns correlation. */
static uint64_t rec_arm(call_rec *r)
{
    uint64_t gen = (atomic_load_explicit(&r->state, memory_order_relaxed) >> 2) + 1;
    gen &= 0xFFFFFFFFu;
    if (!gen)
        gen = 1;
    memset(&r->done, 0, sizeof r->done);
    r->done.kind = GBI_MSG_COMPLETION;
    r->resp = NULL;
    r->result = GB_OK;
    atomic_store_explicit(&r->deadline, 0, memory_order_relaxed);
    atomic_store_explicit(&r->state, gen << 2 | ST_PENDING, memory_order_release);
    return gen << 32 | r->index;
}

static void rec_free(gbi_calls *c, call_rec *r)
{
    uint64_t st = atomic_load_explicit(&r->state, memory_order_relaxed);
    atomic_store_explicit(&r->state, (st & ~(uint64_t)3) | ST_FREE, memory_order_relaxed);
    push_free(c, r, r);
}

/* Claim the record of `correlation` for completion; NULL if already done. */
static call_rec *claim(gbi_calls *c, uint64_t correlation)
{
    call_rec *r = rec_at(c, (uint32_t)correlation);
    if (!r)
        return NULL;
    uint64_t expect = (correlation >> 32) << 2 | ST_PENDING;
    if (!atomic_compare_exchange_strong_explicit(&r->state, &expect, (correlation >> 32) << 2 | ST_DONE,
                                                 memory_order_acq_rel, memory_order_relaxed))
        return NULL;
    return r;
}

static void payload_of(gbi_msg *resp, const void **p, uint32_t *len)
{
    *p = NULL;
    *len = 0;
    if (resp) {
        uint32_t off = gbi_resp_offset(resp);
        *p = gbi_msg_payload(resp) + off;
        *len = resp->hdr.payload_len - off;
    }
}

/* Whether a reply to r comes after the deadline of a caller that ran the
 * turn itself (only such calls have one). */
static int past_caller_deadline(call_rec *r, gb_status status)
{
    int64_t dl = atomic_load_explicit(&r->deadline, memory_order_relaxed);
    return dl != 0 && status != GB_ETIMEDOUT && status != GB_ECLOSED && gb_time_fast_ns() >= dl;
}

/* The reply to a caller-run gb_call came after its deadline: the call ends
 * with GB_ETIMEDOUT and the reply is dropped and counted as late, exactly
 * what a worker-run turn gives (the waiter's timeout, then a late reply). */
static gb_status complete_expired(gb_silo *s, call_rec *r, uint64_t correlation, gbi_msg *resp)
{
    gbi_counters *c = gbi_counters_here(s);
    gbi_count(&c->responses, 1);
    gbi_count(&c->timeouts, 1);
    gbi_count(&c->late, 1);
    if (GBI_FEED_ON(s) && resp)
        gbi_feed_unsend(s, resp);
    gbi_msg_free(s, resp);
    gb_future *f = r->fut;
    rec_free(s->calls, r);
    gbi_future_complete(f, GB_ETIMEDOUT, NULL);
    return gbi_error(GB_ETIMEDOUT, "gb_reply", "call %016llx timed out before this response",
                     (unsigned long long)correlation);
}

gb_status gbi_call_complete(gb_silo *s, uint64_t correlation, gb_status status, gbi_msg *resp)
{
    gbi_counters *c = gbi_counters_here(s);
    call_rec *r = claim(s->calls, correlation);
    if (r && r->kind == GBI_CALL_BLOCK && past_caller_deadline(r, status))
        return complete_expired(s, r, correlation, resp);
    if (!r) {
        if (GBI_FEED_ON(s) && resp)
            gbi_feed_unsend(s, resp);
        gbi_msg_free(s, resp);
        gbi_count(&c->late, 1);
        return gbi_error(GB_ETIMEDOUT, "gb_reply", "call %016llx already completed",
                         (unsigned long long)correlation);
    }
    gbi_count(&c->responses, 1);
    if (status == GB_ETIMEDOUT)
        gbi_count(&c->timeouts, 1);
    if (resp && r->kind != GBI_CALL_ACTOR)
        gbi_hlc_receive(s, resp);
    if (GBI_FEED_ON(s)) {
        if (r->kind == GBI_CALL_ACTOR)
            gbi_feed_call_done(s, correlation);
        else if (resp)
            gbi_feed_recv(s, resp, 0);
        else
            gbi_feed_local(s, 0); /* the external continuation, without a reply */
    }
    switch (r->kind) {
    case GBI_CALL_BLOCK:
    case GBI_CALL_FUTURE: {
        gb_future *f = r->fut;
        rec_free(s->calls, r);
        gbi_future_complete(f, status, resp);
        break;
    }
    case GBI_CALL_CB: {
        const void *p;
        uint32_t len;
        payload_of(resp, &p, &len);
        r->cb(NULL, r->arg, status, p, len);
        gbi_msg_free(s, resp);
        rec_free(s->calls, r);
        break;
    }
    default:
        r->result = status;
        r->resp = resp;
        r->done.hdr.target = r->caller->id;
        r->done.hdr.correlation = correlation;
        r->done.hdr.flags = GB_MSG_RESPONSE | (status ? GB_MSG_ERROR : 0);
        gbi_mailbox_put(s, r->caller, &r->done, 1);
        break;
    }
    return GB_OK;
}

void gbi_call_deliver(gb_actor_ctx *ctx, gbi_msg *m)
{
    call_rec *r = (call_rec *)(void *)m; /* done is the first member */
    gbi_actor *a = ctx->actor;
    if (r->resp)
        gbi_hlc_receive(ctx->silo, r->resp);
    if (GBI_FEED_ON(ctx->silo) && r->resp)
        gbi_feed_recv(ctx->silo, r->resp, a->id);
    else if (GBI_FEED_ON(ctx->silo))
        gbi_feed_local(ctx->silo, a->id); /* the callback runs without a reply */
    a->outstanding--;
    const void *p;
    uint32_t len;
    payload_of(r->resp, &p, &len);
    ctx->cur = NULL;
    ctx->chain = r->chain;
    ctx->chain_len = r->chain_len;
    r->cb(ctx, r->arg, r->result, p, len);
    ctx->chain = NULL;
    ctx->chain_len = 0;
    gbi_msg_free(ctx->silo, r->resp);
    rec_free(ctx->silo->calls, r);
}

int gbi_calls_close_all(gb_silo *s)
{
    int closed = 0;
    uint32_t n = atomic_load_explicit(&s->calls->nchunks, memory_order_acquire);
    for (uint32_t i = 0; i < n * CHUNK; i++) {
        call_rec *r = rec_at(s->calls, i);
        uint64_t st = atomic_load_explicit(&r->state, memory_order_acquire);
        if ((st & 3) == ST_PENDING && gbi_call_complete(s, (st >> 2) << 32 | i, GB_ECLOSED, NULL) == GB_OK)
            closed++;
    }
    return closed;
}

/* A stamped request envelope, or NULL (out of memory). */
static gbi_msg *make_request(gb_silo *s, gbi_actor *target, uint32_t method, const void *payload, uint32_t len,
                             const uint64_t *chain, uint32_t chain_len, uint64_t sender, uint64_t correlation)
{
    gbi_msg *m = gbi_msg_new(s, len, (uint16_t)chain_len);
    if (!m)
        return NULL;
    m->hdr.target = target->id;
    m->hdr.sender = sender;
    m->hdr.correlation = correlation;
    m->hdr.method = method;
    m->hdr.flags = correlation ? 0 : GB_MSG_ONEWAY;
    if (len)
        memcpy(gbi_msg_payload(m), payload, len);
    if (chain_len)
        memcpy(gbi_msg_chain(m), chain, chain_len * sizeof *chain);
    m->hdr.hlc = gb_hlc_now(s->hlc);
    m->local_stamp = 1;
    if (GBI_FEED_ON(s)) /* a ring target records its receive as it enters the ring */
        gbi_feed_send(s, m);
    return m;
}

gb_status gbi_request(gb_silo *s, gbi_actor *target, uint32_t method, const void *payload, uint32_t len,
                      const uint64_t *chain, uint32_t chain_len, uint64_t sender, uint64_t correlation)
{
    gbi_msg *m = make_request(s, target, method, payload, len, chain, chain_len, sender, correlation);
    if (!m)
        return gbi_error(GB_ENOMEM, "gb_call", "out of memory for a %u-byte request", len);
    gb_status st = gbi_mailbox_put(s, target, m, 0);
    if (st != GB_OK) {
        if (GBI_FEED_ON(s))
            gbi_feed_unsend(s, m);
        gbi_msg_free(s, m);
        return st;
    }
    GBI_COUNT_HERE(s, sent, 1);
    return GB_OK;
}

/* The request of a blocking gb_call. When it finds the target idle, the
 * caller owns the actor and runs its turn here (scheduler.c, caller runs):
 * an echo-like handler has then answered before the caller starts to wait.
 * The turn goes through the same gate, batch, HLC stamping and ownership
 * release as a worker's. The caller's own timeout is checked once that turn
 * ends. */
static gb_status request_caller_runs(gb_silo *s, gbi_actor *t, uint32_t method, const void *payload,
                                     uint32_t len, call_rec *r, uint64_t correlation, int64_t deadline)
{
    gbi_msg *m = make_request(s, t, method, payload, len, NULL, 0, 0, correlation);
    if (!m)
        return gbi_error(GB_ENOMEM, "gb_call", "out of memory for a %u-byte request", len);
    int owned;
    gb_status st = gbi_mailbox_put_owned(s, t, m, &owned);
    if (st != GB_OK) {
        if (GBI_FEED_ON(s))
            gbi_feed_unsend(s, m);
        gbi_msg_free(s, m);
        return st;
    }
    GBI_COUNT_HERE(s, sent, 1);
    if (!owned)
        return GB_OK;
    /* from here this thread may run the turn that replies: it cannot time
     * out meanwhile, so the reply itself checks the deadline */
    atomic_store_explicit(&r->deadline, deadline, memory_order_relaxed);
    if (!gbi_sched_caller_run(s, t)) {
        atomic_store_explicit(&r->deadline, 0, memory_order_relaxed);
        gbi_sched_push(s, t);
    }
    return GB_OK;
}

/* ---- public entry points ------------------------------------------------- */

static int64_t timeout_of(gb_silo *s, int64_t timeout_ns)
{
    int64_t t = timeout_ns > 0 ? timeout_ns : s->o.default_timeout_ns;
    return t < GBI_FOREVER_NS ? t : GBI_FOREVER_NS; /* now + t must not overflow */
}

typedef struct call_args {
    gb_silo *s;
    gb_actor_id target;
    uint32_t method;
    const void *payload;
    uint32_t len;
    const char *where;
} call_args;

/* Validate and allocate a record for an external call. */
static gb_status begin_external(const call_args *ca, gbi_actor **target, call_rec **rec)
{
    if (!ca->s)
        return gbi_error(GB_EINVAL, ca->where, "silo is NULL");
    if (gbi_tl_ctx && gbi_tl_ctx->silo == ca->s)
        return gbi_error(GB_EINVAL, ca->where, "called inside a handler: use gb_ctx_call");
    gb_status st = gbi_check_payload(ca->s, ca->payload, ca->len, ca->where);
    if (st == GB_OK)
        st = gbi_resolve(ca->s, ca->target, 0, target, ca->where);
    if (st == GB_OK)
        st = rec_alloc(ca->s->calls, rec);
    return st;
}

/* deadline: gb_time_fast_ns of a blocking caller that may run the turn
 * itself (caller runs), or 0 for the usual path. */
static gb_status send_request(const call_args *ca, gbi_actor *t, call_rec *r, uint64_t corr, int64_t deadline)
{
    /* only CPU activations have turns a caller can run; anything else goes
     * the usual way */
    int caller_runs = deadline != 0 && t->location == GBI_LOC_CPU;
    gb_status st = caller_runs ? request_caller_runs(ca->s, t, ca->method, ca->payload, ca->len, r, corr, deadline)
                               : gbi_request(ca->s, t, ca->method, ca->payload, ca->len, NULL, 0, 0, corr);
    if (st != GB_OK)
        rec_free(ca->s->calls, r);
    return st;
}

/* The caller's gb_last_error for a call that ended with st != GB_OK: the
 * runtime's own sentence (an error response with GB_MSG_SYSTEM carries it
 * as its payload), or which status the handler answered. */
static gb_status reply_error(gb_future *f, gb_status st, int64_t timeout_ns)
{
    if (!f->resp && st == GB_ETIMEDOUT)
        return gbi_error(st, "gb_call", "no response within %lld ns", (long long)timeout_ns);
    if (!f->resp)
        return gbi_error(st, "gb_call", "the call ended with %s before any response", gb_status_name(st));
    if (f->resp->hdr.flags & GB_MSG_SYSTEM) {
        uint32_t len;
        const char *why = gb_future_payload(f, &len);
        return gbi_error(st, "gb_call", "%.*s", (int)(why ? strnlen(why, len) : 0), why ? why : "");
    }
    return gbi_error(st, "gb_call", "the handler answered %s", gb_status_name(st));
}

static gb_status copy_reply(gb_future *f, void *reply, uint32_t cap, uint32_t *reply_len, int64_t timeout_ns)
{
    gb_status st = f->status;
    if (st != GB_OK)
        reply_error(f, st, timeout_ns);
    /* the runtime's sentence is not the handler's reply: not copied */
    int system = f->resp && (f->resp->hdr.flags & GB_MSG_SYSTEM);
    uint32_t len = 0;
    const void *p = system ? NULL : gb_future_payload(f, &len);
    if (reply_len)
        *reply_len = len;
    if (p && len && reply && cap)
        memcpy(reply, p, len < cap ? len : cap);
    gbi_msg_free(NULL, f->resp);
    if (st == GB_OK && len > cap)
        return gbi_error(GB_EMSGSIZE, "gb_call", "response of %u bytes truncated to %u", len, cap);
    return st;
}

static gb_status wait_blocking(gb_silo *s, gb_future *f, uint64_t corr, int64_t deadline, int64_t timeout_ns)
{
    int64_t parked;
    int done = gbi_future_wait_until(f, deadline, &parked);
    if (parked) {
        int64_t cur = atomic_load_explicit(&s->caller_spin_cur, memory_order_relaxed);
        atomic_store_explicit(&s->caller_spin_cur, gbi_spin_adapt(cur, s->o.caller_spin_ns, parked),
                              memory_order_relaxed);
    }
    if (done)
        return GB_OK;
    call_rec *r = claim(s->calls, corr);
    if (r) {
        rec_free(s->calls, r);
        gbi_counters *c = gbi_counters_here(s);
        gbi_count(&c->timeouts, 1);
        gbi_count(&c->responses, 1);
        return gbi_error(GB_ETIMEDOUT, "gb_call", "no response within %lld ns", (long long)timeout_ns);
    }
    gbi_future_wait_until(f, -1, NULL); /* the completer won: its result is on the way */
    return GB_OK;
}

gb_status gb_call(gb_silo *s, gb_actor_id target, uint32_t method, const void *payload, uint32_t len,
                  int64_t timeout_ns, void *reply, uint32_t reply_cap, uint32_t *reply_len)
{
    call_args ca = {s, target, method, payload, len, "gb_call"};
    if (reply_len)
        *reply_len = 0;
    if (s)
        atomic_fetch_add_explicit(&s->ext_waiters, 1, memory_order_acq_rel);
    gbi_actor *t;
    call_rec *r;
    gb_status st = begin_external(&ca, &t, &r);
    if (st == GB_OK) {
        gb_future f;
        gbi_future_init(&f, atomic_load_explicit(&s->caller_spin_cur, memory_order_relaxed), 0);
        r->kind = GBI_CALL_BLOCK;
        r->fut = &f;
        uint64_t corr = rec_arm(r);
        int64_t tmo = timeout_of(s, timeout_ns), deadline = gb_time_fast_ns() + tmo;
        st = send_request(&ca, t, r, corr, deadline);
        if (st == GB_OK)
            st = wait_blocking(s, &f, corr, deadline, tmo);
        if (st == GB_OK)
            st = copy_reply(&f, reply, reply_cap, reply_len, tmo);
    }
    if (s)
        atomic_fetch_sub_explicit(&s->ext_waiters, 1, memory_order_acq_rel);
    return st;
}

/* After the request was accepted: arm its timeout. If that fails the call
 * is completed at once with GB_ENOMEM (its caller sees the error). */
static void arm_timeout(gb_silo *s, uint64_t corr, int64_t timeout_ns)
{
    if (gbi_service_call_timeout(s, corr, gbi_now_ns() + timeout_of(s, timeout_ns)) != GB_OK)
        gbi_call_complete(s, corr, GB_ENOMEM, NULL);
}

gb_status gb_call_async(gb_silo *s, gb_actor_id target, uint32_t method, const void *payload, uint32_t len,
                        int64_t timeout_ns, gb_future **out)
{
    call_args ca = {s, target, method, payload, len, "gb_call_async"};
    if (!out)
        return gbi_error(GB_EINVAL, ca.where, "out is NULL");
    *out = NULL;
    gbi_actor *t;
    call_rec *r;
    gb_status st = begin_external(&ca, &t, &r);
    if (st != GB_OK)
        return st;
    gb_future *f = gbi_future_new(atomic_load_explicit(&s->caller_spin_cur, memory_order_relaxed));
    if (!f) {
        rec_free(s->calls, r);
        return gbi_error(GB_ENOMEM, ca.where, "out of memory");
    }
    r->kind = GBI_CALL_FUTURE;
    r->fut = f;
    uint64_t corr = rec_arm(r);
    st = send_request(&ca, t, r, corr, 0);
    if (st != GB_OK) {
        free(f);
        return st;
    }
    *out = f;
    arm_timeout(s, corr, timeout_ns);
    return GB_OK;
}

gb_status gb_call_cb(gb_silo *s, gb_actor_id target, uint32_t method, const void *payload, uint32_t len,
                     int64_t timeout_ns, gb_reply_fn cb, void *arg)
{
    call_args ca = {s, target, method, payload, len, "gb_call_cb"};
    if (!cb)
        return gbi_error(GB_EINVAL, ca.where, "callback is NULL");
    gbi_actor *t;
    call_rec *r;
    gb_status st = begin_external(&ca, &t, &r);
    if (st != GB_OK)
        return st;
    r->kind = GBI_CALL_CB;
    r->cb = cb;
    r->arg = arg;
    uint64_t corr = rec_arm(r);
    st = send_request(&ca, t, r, corr, 0);
    if (st == GB_OK)
        arm_timeout(s, corr, timeout_ns);
    return st;
}

gb_status gb_ctx_call(gb_actor_ctx *ctx, gb_actor_id target, uint32_t method, const void *payload,
                      uint32_t len, int64_t timeout_ns, gb_reply_fn cb, void *arg)
{
    const char *w = "gb_ctx_call";
    if (!ctx || !cb)
        return gbi_error(GB_EINVAL, w, "ctx and callback must not be NULL");
    gb_silo *s = ctx->silo;
    gbi_actor *t;
    gb_status st = gbi_check_payload(s, payload, len, w);
    if (st == GB_OK)
        st = gbi_resolve(s, target, 1, &t, w);
    uint64_t chain[GB_CALL_CHAIN_MAX];
    uint32_t chain_len = 0;
    if (st == GB_OK)
        st = gbi_chain_extend(ctx, t, chain, &chain_len);
    call_rec *r;
    if (st == GB_OK)
        st = rec_alloc(s->calls, &r);
    if (st != GB_OK)
        return st;
    r->kind = GBI_CALL_ACTOR;
    r->caller = ctx->actor;
    r->cb = cb;
    r->arg = arg;
    r->chain_len = ctx->chain_len;
    memcpy(r->chain, ctx->chain ? ctx->chain : chain, ctx->chain_len * sizeof(uint64_t));
    uint64_t corr = rec_arm(r);
    /* counted before the send: the completion may be queued at once */
    ctx->actor->outstanding++;
    if (GBI_FEED_ON(s))
        gbi_feed_call(s, ctx->actor->id, t->id, corr);
    st = gbi_request(s, t, method, payload, len, chain, chain_len, ctx->actor->id, corr);
    if (st != GB_OK) {
        if (GBI_FEED_ON(s))
            gbi_feed_call_done(s, corr);
        ctx->actor->outstanding--;
        rec_free(s->calls, r);
        return st;
    }
    arm_timeout(s, corr, timeout_ns);
    return GB_OK;
}
