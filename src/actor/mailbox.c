/*
 * Mailboxes: each actor's messages in an intrusive MPSC queue (mpsc.h), with
 * a bounded count of accepted messages.
 *
 * `depth` counts accepted messages not yet consumed by a turn (plus the
 * owner's phantom count, see turn.c). A sender reserves a unit of depth with
 * a CAS that refuses to pass the capacity (so a refused sender never touches
 * depth), then pushes. The sender that moves depth from 0 to 1 schedules the
 * actor; the turn that moves it back to 0 releases it. So an actor is in a
 * run queue or running on exactly one worker while depth > 0, and messages
 * are only ever consumed by that owner: one turn at a time, FIFO per sender.
 *
 * gbi_mailbox_put_owned hands that ownership to the sender instead of a run
 * queue (an external gb_call then runs the turn itself, scheduler.c).
 *
 * Flood brake: a turn that sends to an actor whose depth reached
 * help_depth runs that actor's turns itself when it waits in a run queue
 * (scheduler.c, gbi_sched_help), so a sender that holds a worker with one
 * long turn cannot keep the receiver from running.
 *
 * Backpressure: a full mailbox gives GB_EAGAIN; with GB_FULL_BLOCK an
 * external sender instead waits on the silo's `space_seq` futex, which turns
 * bump when they consume from a mailbox that was full.
 */
#include "actor/runtime.h"
#include "base/error.h"

/* Reserve one unit of depth; returns the old depth, or UINT32_MAX if full. */
static uint32_t reserve(gbi_actor *a, uint32_t cap, int force)
{
    if (force)
        return atomic_fetch_add_explicit(&a->depth, 1, memory_order_acq_rel);
    uint32_t d = atomic_load_explicit(&a->depth, memory_order_relaxed);
    for (;;) {
        uint32_t held = atomic_load_explicit(&a->deferred_n, memory_order_relaxed);
        if (d + held >= cap)
            return UINT32_MAX;
        /* acq_rel: acquire pairs with the owner's release when it moved
         * depth to 0 (we may become the one who schedules the actor next);
         * release publishes nothing yet, the push below does. */
        if (atomic_compare_exchange_weak_explicit(&a->depth, &d, d + 1, memory_order_acq_rel,
                                                  memory_order_relaxed))
            return d;
    }
}

static void enqueue(gb_silo *s, gbi_actor *a, gbi_msg *m, uint32_t old_depth)
{
    gbi_mbox_push(a, &m->node);
    if (old_depth == 0)
        gbi_sched_push(s, a);
}

static int may_block(gb_silo *s)
{
    return s->o.full_policy == GB_FULL_BLOCK && !gbi_tl_ctx && !(gbi_tl_worker && gbi_tl_worker->silo == s);
}

static gb_status put_blocking_counted(gb_silo *s, gbi_actor *a, gbi_msg *m);

/* Wait for room in a's mailbox (GB_FULL_BLOCK). Counted in ext_waiters so
 * that gb_silo_destroy does not free the silo under a waiting sender. */
static gb_status put_blocking(gb_silo *s, gbi_actor *a, gbi_msg *m)
{
    atomic_fetch_add_explicit(&s->ext_waiters, 1, memory_order_acq_rel);
    gb_status st = put_blocking_counted(s, a, m);
    atomic_fetch_sub_explicit(&s->ext_waiters, 1, memory_order_acq_rel);
    return st;
}

static gb_status put_blocking_counted(gb_silo *s, gbi_actor *a, gbi_msg *m)
{
    uint32_t cap = s->o.mailbox_capacity;
    for (;;) {
        uint32_t seq = atomic_load_explicit(&s->space_seq, memory_order_acquire);
        atomic_fetch_add_explicit(&s->space_waiters, 1, memory_order_seq_cst);
        atomic_thread_fence(memory_order_seq_cst);
        uint32_t old = reserve(a, cap, 0);
        if (old == UINT32_MAX && !atomic_load_explicit(&s->closing, memory_order_acquire))
            gbi_park(&s->space_seq, seq, 1000000); /* 1 ms bound: re-check closing */
        atomic_fetch_sub_explicit(&s->space_waiters, 1, memory_order_relaxed);
        if (old != UINT32_MAX) {
            enqueue(s, a, m, old);
            return GB_OK;
        }
        if (atomic_load_explicit(&s->closing, memory_order_acquire))
            return gbi_error(GB_ECLOSED, "gb_send", "silo shut down while waiting for room");
    }
}

gb_status gbi_mailbox_put(gb_silo *s, gbi_actor *a, gbi_msg *m, int force)
{
    if (a->location == GBI_LOC_RING) /* a device actor: its mailbox is a ring lane */
        return gbi_ring_route_put(s, a, m);
    uint32_t old = reserve(a, s->o.mailbox_capacity, force);
    if (old != UINT32_MAX) {
        enqueue(s, a, m, old);
        if (__builtin_expect(old >= s->help_depth, 0) && !force)
            gbi_sched_help(s, a);
        return GB_OK;
    }
    gbi_count(&gbi_counters_here(s)->full, 1);
    if (may_block(s))
        return put_blocking(s, a, m);
    return gbi_error(GB_EAGAIN, "gb_send", "mailbox of actor %016llx is full (%u messages)",
                     (unsigned long long)a->id, s->o.mailbox_capacity);
}

gb_status gbi_mailbox_put_owned(gb_silo *s, gbi_actor *a, gbi_msg *m, int *owned)
{
    *owned = 0;
    if (a->location != GBI_LOC_CPU) /* no turn to own: the usual routing */
        return gbi_mailbox_put(s, a, m, 0);
    uint32_t old = reserve(a, s->o.mailbox_capacity, 0);
    if (old == UINT32_MAX)
        return gbi_mailbox_put(s, a, m, 0); /* full: the usual refusal or wait */
    gbi_mbox_push(a, &m->node);
    *owned = old == 0;
    return GB_OK;
}

void gbi_mailbox_room(gb_silo *s)
{
    /* seq_cst pairs with the waiter's increment of space_waiters before it
     * re-checks the depth: either it sees our consumption or we see it. */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&s->space_waiters, memory_order_seq_cst) > 0) {
        atomic_fetch_add_explicit(&s->space_seq, 1, memory_order_release);
        gbi_unpark(&s->space_seq, 1);
    }
}
