/*
 * Internal: intrusive multi-producer single-consumer queue (Vyukov).
 *
 * Model: any number of producers push lock-free (one exchange plus one
 * store); exactly one consumer at a time pops (the caller guarantees it:
 * the actor's owner for a mailbox, the holder of the consumer lock for a
 * run queue). Nodes are embedded in the queued objects; a node may be pushed
 * again once it has been popped.
 *
 * Invariant: `head` is the last node pushed; following `next` from `tail`
 * reaches `head`. The queue is empty exactly when head == tail == &stub and
 * stub.next == NULL. (head == &stub alone does not mean empty: see
 * gbi_mpsc_maybe_nonempty.) A producer that has exchanged `head` but not yet linked
 * `prev->next` makes the queue look empty past `prev` for a moment: pop then
 * returns NULL although a push is in progress, and the caller retries later
 * (callers keep their own count of accepted items to know that).
 */
#ifndef GBI_ACTOR_MPSC_H
#define GBI_ACTOR_MPSC_H

#include <stdatomic.h>
#include <stddef.h>

typedef struct gbi_mpsc_node {
    _Atomic(struct gbi_mpsc_node *) next;
} gbi_mpsc_node;

typedef struct gbi_mpsc {
    _Atomic(gbi_mpsc_node *) head; /* producers */
    _Atomic(gbi_mpsc_node *) tail; /* written by the consumer only; atomic so
                                    * that others may read it as a hint */
    gbi_mpsc_node stub;
} gbi_mpsc;

/* The queue's three parts may also live apart (the actor record keeps
 * `head` on the senders' cache line and `tail` and `stub` on its owner's,
 * so that a flood of pushes does not steal the line the consumer pops
 * from): the *_at functions take them one by one, the gbi_mpsc_* ones a
 * gbi_mpsc. */

static inline void gbi_mpsc_init_at(_Atomic(gbi_mpsc_node *) *head, _Atomic(gbi_mpsc_node *) *tail,
                                    gbi_mpsc_node *stub)
{
    atomic_init(&stub->next, NULL);
    atomic_init(head, stub);
    atomic_init(tail, stub);
}

/* Push n. Thread-safe for any number of producers. The exchange is acq_rel:
 * release publishes n's contents to the consumer that will read it through
 * prev->next; acquire orders us after the previous producer's exchange. */
static inline void gbi_mpsc_push_at(_Atomic(gbi_mpsc_node *) *head, gbi_mpsc_node *n)
{
    atomic_store_explicit(&n->next, NULL, memory_order_relaxed);
    gbi_mpsc_node *prev = atomic_exchange_explicit(head, n, memory_order_acq_rel);
    atomic_store_explicit(&prev->next, n, memory_order_release);
}

/* Pop the oldest node, or NULL when empty or when a push is half done.
 * Single consumer only. */
static inline gbi_mpsc_node *gbi_mpsc_pop_at(_Atomic(gbi_mpsc_node *) *head, _Atomic(gbi_mpsc_node *) *tailp,
                                             gbi_mpsc_node *stub)
{
    gbi_mpsc_node *tail = atomic_load_explicit(tailp, memory_order_relaxed);
    gbi_mpsc_node *next = atomic_load_explicit(&tail->next, memory_order_acquire);
    if (tail == stub) {
        if (!next)
            return NULL;
        atomic_store_explicit(tailp, next, memory_order_relaxed);
        tail = next;
        next = atomic_load_explicit(&next->next, memory_order_acquire);
    }
    if (next) {
        atomic_store_explicit(tailp, next, memory_order_relaxed);
        /* The next node was written by a producer on another core: start
         * its cache miss while the caller handles this one. */
        __builtin_prefetch(next, 0);
        return tail;
    }
    if (tail != atomic_load_explicit(head, memory_order_acquire))
        return NULL; /* a producer is between its exchange and its link */
    gbi_mpsc_push_at(head, stub);
    next = atomic_load_explicit(&tail->next, memory_order_acquire);
    if (next) {
        atomic_store_explicit(tailp, next, memory_order_relaxed);
        return tail;
    }
    return NULL;
}

/* Whether the queue may hold a node (a hint: exact only when no push or pop
 * runs). Both ends are needed: when a producer pushes while the consumer
 * re-inserts the stub, the queue can hold nodes with head == &stub (the
 * stub is then last, after them), but the tail is not the stub. Thread-safe;
 * seq_cst so that it takes part in the park/wake handshake of the
 * scheduler. */
static inline int gbi_mpsc_maybe_nonempty_at(_Atomic(gbi_mpsc_node *) *head, _Atomic(gbi_mpsc_node *) *tail,
                                             gbi_mpsc_node *stub)
{
    return atomic_load_explicit(head, memory_order_seq_cst) != stub ||
           atomic_load_explicit(tail, memory_order_seq_cst) != stub;
}

static inline void gbi_mpsc_init(gbi_mpsc *q)
{
    gbi_mpsc_init_at(&q->head, &q->tail, &q->stub);
}

static inline void gbi_mpsc_push(gbi_mpsc *q, gbi_mpsc_node *n)
{
    gbi_mpsc_push_at(&q->head, n);
}

static inline gbi_mpsc_node *gbi_mpsc_pop(gbi_mpsc *q)
{
    return gbi_mpsc_pop_at(&q->head, &q->tail, &q->stub);
}

static inline int gbi_mpsc_maybe_nonempty(gbi_mpsc *q)
{
    return gbi_mpsc_maybe_nonempty_at(&q->head, &q->tail, &q->stub);
}

#endif
