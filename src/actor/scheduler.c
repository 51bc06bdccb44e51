/*
 * The worker pool: one run queue per worker (an intrusive MPSC queue whose
 * consumer side is taken with a try-lock, so idle workers can steal), turns
 * run by whichever worker pops the actor, and spin-then-park idling.
 *
 * An actor enters a run queue only when its mailbox goes from empty to
 * non-empty (mailbox.c) or when its owner requeues it after a turn, so it is
 * in at most one queue at a time and its embedded node can be reused.
 * Senders running on a worker push onto that worker's own queue (a
 * ping-pong between two actors stays on one core's cache); external senders
 * spread actors over the queues by id.
 *
 * Park/wake handshake (no lost wake-ups): an idle worker first spins
 * (counted in `spinning`) for its adaptive budget (gbi_spin_adapt, from
 * spin_ns up to 16 x spin_ns); to park it adds itself to `sleepers`,
 * leaves `spinning`, reads `wake_seq`, re-checks every queue and only then
 * waits on the futex `wake_seq`. A producer pushes, then (seq_cst fence)
 * looks at `spinning` and `sleepers`: with no spinner and a sleeper it bumps
 * `wake_seq` and wakes one. Both sides order their write before their read
 * with seq_cst, so either the worker's re-check sees the actor or the
 * producer sees the sleeper. A spinner that finds work while it is the last
 * spinner wakes another sleeper if queues still hold work.
 *
 * A spinning worker looks at the run queues every GBI_POLL_NS, not
 * continuously: each look reads the queues' lines, and the next push onto
 * a queue so read has to take its line back from the spinner's core. A
 * spinner polling flat out made every scheduling of a busy sender (a
 * thread ring, a fork-join producer) pay that cross-core round trip.
 */
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "actor/runtime.h"
#include "base/error.h"
#include "gpubridge/log.h"
#include "gpubridge/time.h"

#define GBI_POLL_NS 500 /* between two looks of a spinning worker at the run queues */

_Thread_local gbi_worker *gbi_tl_worker;

/* Wake a parked worker when nobody spins. The caller's last write (its
 * push, or its leaving `spinning`) is seq_cst, and so are these loads: in
 * the single order of seq_cst operations either a parking worker's re-check
 * comes after that write and sees the work, or our loads come after its
 * increment of `sleepers` and we wake it. */
static void wake_if_nobody_spins(gb_silo *s)
{
    if (atomic_load_explicit(&s->spinning, memory_order_seq_cst) == 0 &&
        atomic_load_explicit(&s->sleepers, memory_order_seq_cst) > 0) {
        atomic_fetch_add_explicit(&s->wake_seq, 1, memory_order_release);
        gbi_unpark(&s->wake_seq, 0);
    }
}

static void wake_one_if_needed(gb_silo *s)
{
    atomic_thread_fence(memory_order_seq_cst);
    wake_if_nobody_spins(s);
}

void gbi_sched_push(gb_silo *s, gbi_actor *a)
{
    gbi_worker *w = gbi_pool_worker(s);
    uint32_t q;
    if (w)
        q = w->index;
    else
        q = (uint32_t)(a->id % s->nworkers);
    /* the push's exchange is seq_cst: it orders our push before the loads
     * of the wake-up check without a separate fence (on x86 the exchange is
     * a full barrier already, and a fence per scheduling is measurable) */
    gbi_mpsc_node *n = &a->rq_node;
    atomic_store_explicit(&n->next, NULL, memory_order_relaxed);
    gbi_mpsc_node *prev = atomic_exchange_explicit(&s->runqs[q].head, n, memory_order_seq_cst);
    atomic_store_explicit(&prev->next, n, memory_order_release);
    wake_if_nobody_spins(s);
}

static gbi_actor *try_pop(gbi_runq *rq)
{
    if (!gbi_runq_maybe_nonempty(rq))
        return NULL;
    if (atomic_exchange_explicit(&rq->lock, 1, memory_order_acquire))
        return NULL;
    gbi_mpsc_node *n = gbi_runq_pop(rq);
    if (n) /* single writer: the lock holder */
        atomic_store_explicit(&rq->pops, atomic_load_explicit(&rq->pops, memory_order_relaxed) + 1,
                              memory_order_relaxed);
    atomic_store_explicit(&rq->lock, 0, memory_order_release);
    return n ? (gbi_actor *)(void *)n : NULL; /* rq_node is the first member */
}

/* The oldest actor in rq as a hint (never dereferenced), or NULL. */
static gbi_mpsc_node *peek_oldest(gbi_runq *rq)
{
    gbi_mpsc_node *t = atomic_load_explicit(&rq->tail, memory_order_relaxed);
    return t != &rq->stub ? t : atomic_load_explicit(&rq->stub.next, memory_order_relaxed);
}

/* Take an actor from another worker's queue. An actor is taken only once
 * it has been the queue's oldest for two looks in a row (a poll apart,
 * with no pop from the queue in between: two actors that take turns, as a
 * ping-pong pair, are each the oldest at many looks):
 * the actor a turn has just scheduled on its own worker (a thread ring's
 * next hop, a ping's answer) is usually popped by that worker a moment
 * later, with the actor's lines still in its cache; a thief that took it
 * at once moved the whole exchange to its own core and back. Once a take
 * succeeds, thieves take at once until they find the queue empty (its
 * worker is stuck in a long turn: a flooding sender). The cost is one poll
 * (GBI_POLL_NS) before the first take from a queue whose worker is away. */
static gbi_actor *steal(gb_silo *s, uint32_t v)
{
    gbi_runq *rq = &s->runqs[v];
    int now = atomic_load_explicit(&rq->steal_now, memory_order_relaxed);
    if (!gbi_runq_maybe_nonempty(rq)) {
        if (now)
            atomic_store_explicit(&rq->steal_now, 0, memory_order_relaxed);
        return NULL;
    }
    if (!now) {
        uint32_t pops = atomic_load_explicit(&rq->pops, memory_order_relaxed);
        gbi_mpsc_node *oldest = peek_oldest(rq);
        if (!oldest || oldest != atomic_load_explicit(&rq->seen, memory_order_relaxed) ||
            pops != atomic_load_explicit(&rq->seen_pops, memory_order_relaxed)) {
            if (oldest) {
                atomic_store_explicit(&rq->seen, oldest, memory_order_relaxed);
                atomic_store_explicit(&rq->seen_pops, pops, memory_order_relaxed);
            }
            return NULL;
        }
    }
    gbi_actor *a = try_pop(rq);
    if (a && !now)
        atomic_store_explicit(&rq->steal_now, 1, memory_order_relaxed);
    return a;
}

static gbi_actor *next_actor(gb_silo *s, gbi_worker *w)
{
    gbi_actor *a = try_pop(&s->runqs[w->index]);
    for (uint32_t i = 1; !a && i < s->nworkers; i++)
        a = steal(s, (w->index + i) % s->nworkers);
    return a;
}

static int any_queued(gb_silo *s)
{
    for (uint32_t i = 0; i < s->nworkers; i++)
        if (gbi_runq_maybe_nonempty(&s->runqs[i]))
            return 1;
    return 0;
}

int gbi_sched_has_work(gb_silo *s)
{
    return any_queued(s);
}

/* Pause about GBI_POLL_NS without touching shared memory; every 4th wait
 * yields the CPU instead, so that a spinner sharing its CPU with the thread
 * it waits for (more runnable threads than cores) lets that thread run. */
static int64_t poll_wait(unsigned i)
{
    if ((i & 3) == 3) {
        sched_yield();
        return gb_time_fast_ns();
    }
    int64_t now = gb_time_fast_ns(), next = now + GBI_POLL_NS;
    while (now < next) {
        for (int k = 0; k < 4; k++)
            gb_cpu_relax();
        now = gb_time_fast_ns();
    }
    return now;
}

static gbi_actor *spin_for_work(gb_silo *s, gbi_worker *w)
{
    int64_t until = w->spin_cur > 0 ? gb_time_fast_ns() + w->spin_cur : 0;
    atomic_fetch_add_explicit(&s->spinning, 1, memory_order_seq_cst);
    for (unsigned i = 0;; i++) {
        gbi_actor *a = next_actor(s, w);
        if (a) {
            if (atomic_fetch_sub_explicit(&s->spinning, 1, memory_order_seq_cst) == 1 && any_queued(s))
                wake_one_if_needed(s);
            return a;
        }
        if (atomic_load_explicit(&s->stop_workers, memory_order_acquire))
            break;
        if (poll_wait(i) >= until)
            break;
    }
    atomic_fetch_sub_explicit(&s->spinning, 1, memory_order_seq_cst);
    return NULL;
}

static void park(gb_silo *s, gbi_worker *w)
{
    atomic_fetch_add_explicit(&s->sleepers, 1, memory_order_seq_cst);
    uint32_t seq = atomic_load_explicit(&s->wake_seq, memory_order_seq_cst);
    atomic_thread_fence(memory_order_seq_cst);
    if (!any_queued(s) && !atomic_load_explicit(&s->stop_workers, memory_order_acquire)) {
        int64_t t0 = gb_time_fast_ns();
        gbi_park(&s->wake_seq, seq, -1);
        w->spin_cur = gbi_spin_adapt(w->spin_cur, s->o.spin_ns, gb_time_fast_ns() - t0);
    }
    atomic_fetch_sub_explicit(&s->sleepers, 1, memory_order_seq_cst);
}

/* One turn of a on w (a worker or a caller slot), published for the
 * watchdog and shutdown; returns 1 when a has more work (it stays owned). */
static int run_turn_once(gb_silo *s, gbi_worker *w, gbi_actor *a)
{
    /* Only the thread holding w writes these; the watchdog and shutdown read
     * them. turn_seq is bumped with load + store (single writer, no RMW). */
    atomic_store_explicit(&w->actor_id, a->id, memory_order_relaxed);
    uint64_t seq = atomic_load_explicit(&w->turn_seq, memory_order_relaxed) + 1;
    atomic_store_explicit(&w->turn_seq, seq, memory_order_release);
    atomic_store_explicit(&w->in_turn, 1, memory_order_release);
    int again = gbi_turn_run(s, a, &w->c);
    atomic_store_explicit(&w->in_turn, 0, memory_order_release);
    return again;
}

/* A turn of a on a caller slot; an actor with more work is queued again. */
static void run_turn(gb_silo *s, gbi_worker *w, gbi_actor *a)
{
    if (run_turn_once(s, w, a))
        gbi_sched_push(s, a);
}

/* Turns of a on worker w: while a has more work and no run queue holds
 * another actor, its next turn runs at once (a busy receiver keeps its
 * worker without a push and a pop of its own queue per batch); otherwise
 * it is queued behind the others. */
static void run_turns(gb_silo *s, gbi_worker *w, gbi_actor *a)
{
    while (run_turn_once(s, w, a)) {
        if (any_queued(s) || atomic_load_explicit(&s->stop_workers, memory_order_acquire)) {
            gbi_sched_push(s, a);
            return;
        }
    }
}

/* Take a from the run queue where it waits as the oldest actor, or NULL
 * (it runs elsewhere, or others are queued before it). A pop that races
 * with another may return the next actor of that queue instead: it is
 * owned all the same, and the caller runs its turn. */
static gbi_actor *take_if_oldest(gb_silo *s, gbi_worker *w, gbi_actor *a)
{
    for (uint32_t i = 0; i < s->nworkers; i++) {
        gbi_runq *rq = &s->runqs[(w->index + i) % s->nworkers];
        if (peek_oldest(rq) == &a->rq_node)
            return try_pop(rq);
    }
    return NULL;
}

void gbi_sched_help(gb_silo *s, gbi_actor *a)
{
    gbi_worker *w = gbi_pool_worker(s);
    if (!w || w->helping || !gbi_tl_ctx)
        return;
    if (w->help_skip) {
        w->help_skip--;
        return;
    }
    gbi_actor *got = take_if_oldest(s, w, a);
    if (!got) {
        w->help_skip = 63; /* a runs elsewhere: look again 64 sends later */
        return;
    }
    /* like run_turns: the receiver keeps this worker while it stays
     * flooded and no other actor is queued (others are not made to wait
     * behind it; it is queued again behind them) */
    w->helping = 1;
    int again, progress;
    do {
        uint64_t before = atomic_load_explicit(&w->c.delivered, memory_order_relaxed);
        again = gbi_turn_run(s, got, &w->c);
        progress = atomic_load_explicit(&w->c.delivered, memory_order_relaxed) != before;
        gbi_count_own(&w->c.helped, 1);
    } while (again && progress && got == a &&
             atomic_load_explicit(&a->depth, memory_order_relaxed) > s->help_depth / 2 && !any_queued(s) &&
             !atomic_load_explicit(&s->stop_workers, memory_order_relaxed));
    w->helping = 0;
    if (!progress) /* a sender was stopped between its two steps of a push: go on sending */
        w->help_skip = 63;
    if (again)
        gbi_sched_push(s, got);
}

/* Claim a free caller slot (start at a per-thread one), or NULL. The claim
 * is seq_cst and so is the load of closing after it: destroy stores
 * closing = 2 and then reads the claims (gbi_sched_wait_callers), so either
 * it waits for this slot or this thread sees closing and backs off. */
static gbi_worker *claim_slot(gb_silo *s)
{
    static _Thread_local char anchor;
    uint32_t first = (uint32_t)((uintptr_t)&anchor >> 6);
    for (uint32_t i = 0; i < GBI_CALLER_SLOTS; i++) {
        gbi_worker *w = &s->workers[s->nworkers + (first + i) % GBI_CALLER_SLOTS];
        int expect = 0;
        if (atomic_load_explicit(&w->claimed, memory_order_relaxed) ||
            !atomic_compare_exchange_strong_explicit(&w->claimed, &expect, 1, memory_order_seq_cst,
                                                     memory_order_relaxed))
            continue;
        if (atomic_load_explicit(&s->closing, memory_order_seq_cst) == 0)
            return w;
        atomic_store_explicit(&w->claimed, 0, memory_order_release);
        return NULL;
    }
    return NULL;
}

int gbi_sched_caller_run(gb_silo *s, gbi_actor *a)
{
    gbi_worker *w = claim_slot(s);
    if (!w)
        return 0;
    gbi_worker *outer = gbi_tl_worker;
    gbi_tl_worker = w; /* counters, and handlers' sends go to the run queues */
    run_turn(s, w, a);  /* requeues before the release: destroy's last turns see it */
    gbi_tl_worker = outer;
    atomic_store_explicit(&w->claimed, 0, memory_order_release);
    return 1;
}

void gbi_sched_wait_callers(gb_silo *s)
{
    for (uint32_t i = s->nworkers; i < gbi_nturn_records(s); i++)
        while (atomic_load_explicit(&s->workers[i].claimed, memory_order_seq_cst))
            sched_yield();
}

static void *worker_main(void *arg)
{
    gbi_worker *w = arg;
    gb_silo *s = w->silo;
    gbi_tl_worker = w;
    for (;;) {
        gbi_actor *a = next_actor(s, w);
        if (!a && !atomic_load_explicit(&s->stop_workers, memory_order_acquire))
            a = spin_for_work(s, w);
        if (a) {
            run_turns(s, w, a);
            continue;
        }
        if (atomic_load_explicit(&s->stop_workers, memory_order_acquire))
            break;
        park(s, w);
    }
    gbi_tl_worker = NULL;
    return NULL;
}

gb_status gbi_sched_start(gb_silo *s)
{
    /* The fast clock calibrates itself on first use (~20 ms, once per
     * process): do it here, so that it is not a worker's first spin that
     * pays it while the silo's first messages wait for that worker. */
    (void)gb_time_fast_ns();
    for (uint32_t i = 0; i < s->nworkers; i++) {
        gbi_worker *w = &s->workers[i];
        w->silo = s;
        w->index = i;
        w->spin_cur = s->o.spin_ns;
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            s->nworkers_started = i;
            return gbi_error(GB_EINTERNAL, "gb_silo_create", "could not start worker %u", i);
        }
    }
    s->nworkers_started = s->nworkers;
    return GB_OK;
}

void gbi_sched_stop(gb_silo *s)
{
    atomic_store_explicit(&s->stop_workers, 1, memory_order_release);
    for (uint32_t i = 0; i < s->nworkers_started; i++) {
        atomic_fetch_add_explicit(&s->wake_seq, 1, memory_order_release);
        gbi_unpark(&s->wake_seq, 1);
        pthread_join(s->workers[i].thread, NULL);
    }
    s->nworkers_started = 0;
}

int gbi_sched_busy(gb_silo *s)
{
    for (uint32_t i = 0; i < gbi_nturn_records(s); i++)
        if (atomic_load_explicit(&s->workers[i].in_turn, memory_order_seq_cst))
            return 1;
    return any_queued(s);
}
