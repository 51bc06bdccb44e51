/*
 * The service thread of a silo and actor timers. One thread per silo keeps a
 * binary min-heap of deadlines (call timeouts and timer ticks) under a mutex
 * and sleeps on a condition variable (CLOCK_MONOTONIC) until the earliest
 * one, or until the next idle-collection scan or watchdog check.
 *
 * Call timeouts carry only the correlation id: firing one is a CAS on the
 * call record (call.c), which does nothing if the call has completed.
 *
 * Timer records are shared by the heap and their actor's list; `holders`
 * says which of the two still refer to one, and whoever drops the last bit
 * frees it. A tick is sent only if the previous one was delivered
 * (`inflight`), so a busy actor is not flooded; ticks stop once the actor
 * cancels the timer or deactivates, and while the silo shuts down.
 * With causal recording on, a tick is a message from the timer's actor to
 * itself: sent when queued, received when delivered (causal_feed.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actor/runtime.h"
#include "base/error.h"
#include "gpubridge/time.h"

enum { EV_CALL = 0, EV_TIMER = 1 };

typedef struct event {
    int64_t deadline;
    int kind;
    uint64_t corr;
    gbi_timer *timer;
} event;

struct gbi_service {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int stop;
    int started;
    event *heap;
    size_t n, cap;
    int64_t waiting_until; /* deadline the thread sleeps to, 0 when awake */
};

int64_t gbi_now_ns(void)
{
    return gb_time_monotonic_ns();
}

static void heap_swap(event *h, size_t i, size_t j)
{
    event t = h[i];
    h[i] = h[j];
    h[j] = t;
}

static gb_status heap_push(gbi_service *v, event e)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 256;
        event *h = realloc(v->heap, cap * sizeof *h);
        if (!h)
            return gbi_error(GB_ENOMEM, "service", "out of memory for %zu deadlines", cap);
        v->heap = h;
        v->cap = cap;
    }
    size_t i = v->n++;
    v->heap[i] = e;
    while (i && v->heap[(i - 1) / 2].deadline > v->heap[i].deadline) {
        heap_swap(v->heap, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    return GB_OK;
}

static event heap_pop(gbi_service *v)
{
    event top = v->heap[0];
    v->heap[0] = v->heap[--v->n];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < v->n && v->heap[l].deadline < v->heap[m].deadline)
            m = l;
        if (r < v->n && v->heap[r].deadline < v->heap[m].deadline)
            m = r;
        if (m == i)
            break;
        heap_swap(v->heap, i, m);
        i = m;
    }
    return top;
}

static gb_status add_event(gb_silo *s, event e)
{
    gbi_service *v = s->svc;
    pthread_mutex_lock(&v->lock);
    gb_status st = heap_push(v, e);
    if (st == GB_OK && v->waiting_until && e.deadline < v->waiting_until)
        pthread_cond_signal(&v->cond);
    pthread_mutex_unlock(&v->lock);
    return st;
}

gb_status gbi_service_call_timeout(gb_silo *s, uint64_t correlation, int64_t deadline_ns)
{
    event e = {deadline_ns, EV_CALL, correlation, NULL};
    return add_event(s, e);
}

gb_status gbi_service_timer(gb_silo *s, gbi_timer *t, int64_t deadline_ns)
{
    event e = {deadline_ns, EV_TIMER, 0, t};
    return add_event(s, e);
}

void gbi_timer_release(gbi_timer *t, uint32_t holder)
{
    if (atomic_fetch_and_explicit(&t->holders, ~holder, memory_order_acq_rel) == holder)
        free(t);
}

/* A tick is due: queue it (unless one is queued) and re-arm a periodic
 * timer. Returns 1 when the heap keeps the timer. */
static int fire_timer(gb_silo *s, gbi_timer *t, int64_t now)
{
    if (atomic_load_explicit(&t->cancelled, memory_order_acquire))
        return 0;
    if (!atomic_load_explicit(&s->closing, memory_order_acquire) &&
        !atomic_exchange_explicit(&t->inflight, 1, memory_order_acq_rel)) {
        gbi_msg *m = gbi_msg_new(s, sizeof t->id, 0);
        if (m) {
            m->kind = GBI_MSG_TIMER;
            m->hdr.target = t->actor->id;
            m->hdr.method = t->method;
            m->hdr.flags = GB_MSG_TIMER | GB_MSG_ONEWAY;
            m->hdr.hlc = gb_hlc_now(s->hlc);
            m->local_stamp = 1;
            memcpy(gbi_msg_payload(m), &t->id, sizeof t->id);
            if (GBI_FEED_ON(s))
                gbi_feed_timer_send(s, m, t->actor->id);
            gbi_mailbox_put(s, t->actor, m, 1);
        } else {
            atomic_store_explicit(&t->inflight, 0, memory_order_relaxed);
        }
    }
    if (t->period_ns <= 0)
        return 0;
    event e = {now + t->period_ns, EV_TIMER, 0, t};
    return heap_push(s->svc, e) == GB_OK;
}

static void fire_due(gb_silo *s, int64_t now)
{
    gbi_service *v = s->svc;
    while (v->n && v->heap[0].deadline <= now) {
        event e = heap_pop(v);
        if (e.kind == EV_CALL) {
            pthread_mutex_unlock(&v->lock);
            gbi_call_complete(s, e.corr, GB_ETIMEDOUT, NULL);
            pthread_mutex_lock(&v->lock);
        } else if (!fire_timer(s, e.timer, now)) {
            gbi_timer_release(e.timer, GBI_TIMER_IN_HEAP);
        }
    }
}

static void wait_until(gbi_service *v, int64_t deadline)
{
    struct timespec ts = {(time_t)(deadline / 1000000000LL), (long)(deadline % 1000000000LL)};
    v->waiting_until = deadline;
    pthread_cond_timedwait(&v->cond, &v->lock, &ts);
    v->waiting_until = 0;
}

/* The idle scan is O(actors): run it every collect_period_ns, but no more
 * often than a quarter of the shortest idle timeout needs (an actor then
 * deactivates between 1 and 1.25 timeouts after its last message). */
static int64_t collect_period(gb_silo *s)
{
    int64_t quarter = atomic_load_explicit(&s->min_idle_ns, memory_order_relaxed) / 4;
    return quarter > s->o.collect_period_ns ? quarter : s->o.collect_period_ns;
}

static void *service_main(void *arg)
{
    gb_silo *s = arg;
    gbi_service *v = s->svc;
    int64_t next_collect = gbi_now_ns() + s->o.collect_period_ns;
    int64_t watch_period = s->o.stuck_turn_ns > 0 ? s->o.stuck_turn_ns / 4 : INT64_MAX / 4;
    int64_t next_watch = gbi_now_ns() + watch_period;
    pthread_mutex_lock(&v->lock);
    while (!v->stop) {
        int64_t now = gbi_now_ns();
        fire_due(s, now);
        if (now >= next_collect) {
            pthread_mutex_unlock(&v->lock);
            if (!atomic_load_explicit(&s->closing, memory_order_acquire))
                gbi_collect_idle(s, now);
            pthread_mutex_lock(&v->lock);
            next_collect = now + collect_period(s);
        }
        if (now >= next_watch && s->o.stuck_turn_ns > 0) {
            gbi_watchdog_check(s, now);
            next_watch = now + watch_period;
        }
        int64_t until = next_collect < next_watch ? next_collect : next_watch;
        if (v->n && v->heap[0].deadline < until)
            until = v->heap[0].deadline;
        if (!v->stop && until > gbi_now_ns())
            wait_until(v, until);
    }
    pthread_mutex_unlock(&v->lock);
    return NULL;
}

gb_status gbi_service_start(gb_silo *s)
{
    gbi_service *v = calloc(1, sizeof *v);
    if (!v)
        return gbi_error(GB_ENOMEM, "gb_silo_create", "out of memory");
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&v->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&v->lock, NULL);
    s->svc = v;
    if (pthread_create(&v->thread, NULL, service_main, s) != 0)
        return gbi_error(GB_EINTERNAL, "gb_silo_create", "could not start the service thread");
    v->started = 1;
    return GB_OK;
}

void gbi_service_stop(gb_silo *s)
{
    gbi_service *v = s->svc;
    if (!v)
        return;
    if (v->started) {
        pthread_mutex_lock(&v->lock);
        v->stop = 1;
        pthread_cond_signal(&v->cond);
        pthread_mutex_unlock(&v->lock);
        pthread_join(v->thread, NULL);
    }
    for (size_t i = 0; i < v->n; i++)
        if (v->heap[i].kind == EV_TIMER)
            gbi_timer_release(v->heap[i].timer, GBI_TIMER_IN_HEAP);
    free(v->heap);
    pthread_cond_destroy(&v->cond);
    pthread_mutex_destroy(&v->lock);
    free(v);
    s->svc = NULL;
}

/* ---- actor timers (owner side) ------------------------------------------------ */

gb_status gb_ctx_timer_start(gb_actor_ctx *ctx, uint32_t method, int64_t due_ns, int64_t period_ns,
                             uint64_t *timer_id)
{
    const char *w = "gb_ctx_timer_start";
    if (!ctx || !timer_id || due_ns < 0 || period_ns < 0)
        return gbi_error(GB_EINVAL, w, "ctx and timer_id are required; times must be >= 0");
    gb_silo *s = ctx->silo;
    if (atomic_load_explicit(&s->closing, memory_order_acquire))
        return gbi_error(GB_ECLOSED, w, "silo is shutting down");
    gbi_timer *t = calloc(1, sizeof *t);
    if (!t)
        return gbi_error(GB_ENOMEM, w, "out of memory");
    t->actor = ctx->actor;
    t->id = atomic_fetch_add_explicit(&s->timer_ids, 1, memory_order_relaxed) + 1;
    t->method = method;
    t->period_ns = period_ns < GBI_FOREVER_NS ? period_ns : GBI_FOREVER_NS;
    if (due_ns > GBI_FOREVER_NS)
        due_ns = GBI_FOREVER_NS;
    atomic_init(&t->holders, GBI_TIMER_IN_HEAP | GBI_TIMER_IN_ACTOR);
    t->next_in_actor = ctx->actor->timers;
    ctx->actor->timers = t;
    gb_status st = gbi_service_timer(s, t, gbi_now_ns() + due_ns);
    if (st != GB_OK) {
        ctx->actor->timers = t->next_in_actor;
        free(t);
        return st;
    }
    *timer_id = t->id;
    return GB_OK;
}

/* Unlink timer `id` from a's list; NULL if absent. */
static gbi_timer *unlink_timer(gbi_actor *a, uint64_t id)
{
    for (gbi_timer **pp = &a->timers; *pp; pp = &(*pp)->next_in_actor) {
        gbi_timer *t = *pp;
        if (t->id == id) {
            *pp = t->next_in_actor;
            return t;
        }
    }
    return NULL;
}

static void cancel(gbi_timer *t)
{
    atomic_store_explicit(&t->cancelled, 1, memory_order_release);
    gbi_timer_release(t, GBI_TIMER_IN_ACTOR);
}

gb_status gb_ctx_timer_cancel(gb_actor_ctx *ctx, uint64_t timer_id)
{
    if (!ctx)
        return gbi_error(GB_EINVAL, "gb_ctx_timer_cancel", "ctx is NULL");
    gbi_timer *t = unlink_timer(ctx->actor, timer_id);
    if (!t)
        return gbi_error(GB_ENOENT, "gb_ctx_timer_cancel", "no timer %llu on this actor",
                         (unsigned long long)timer_id);
    cancel(t);
    return GB_OK;
}

void gbi_timers_cancel_all(gbi_actor *a)
{
    while (a->timers) {
        gbi_timer *t = a->timers;
        a->timers = t->next_in_actor;
        cancel(t);
    }
}

void gbi_timer_deliver(gb_actor_ctx *ctx, gbi_msg *m)
{
    gbi_actor *a = ctx->actor;
    uint64_t id;
    memcpy(&id, gbi_msg_payload(m), sizeof id);
    gbi_timer *t = a->timers;
    while (t && t->id != id)
        t = t->next_in_actor;
    if (!t || !a->active) {
        if (GBI_FEED_ON(ctx->silo))
            gbi_feed_unsend(ctx->silo, m);
        return; /* cancelled since: the tick is dropped */
    }
    if (GBI_FEED_ON(ctx->silo))
        gbi_feed_recv(ctx->silo, m, a->id);
    atomic_store_explicit(&t->inflight, 0, memory_order_release);
    if (t->period_ns <= 0) {
        unlink_timer(a, id);
        cancel(t);
    }
    ctx->cur = m;
    gbi_count(&ctx->c->delivered, 1);
    a->type->desc.handler(ctx, a->state, &m->hdr, gbi_msg_payload(m));
    ctx->cur = NULL;
}
