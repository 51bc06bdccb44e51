/*
 * Internal: the data structures of the CPU actor runtime, shared by the files
 * of src/actor (one concept per file):
 *
 *   silo.c        create/destroy, options, counters
 *   type_registry.c  actor types by name
 *   identity.c    stable ids and references
 *   directory.c   id -> actor record (concurrent hash map)
 *   envelope.c    message allocation (header + payload + call chain)
 *   mailbox.c     bounded enqueue, backpressure, scheduling on empty->non-empty
 *   scheduler.c   worker pool, run queues, spin-then-park
 *   turn.c        one turn of an actor: gate, dispatch, auto-reply
 *   activation.c  activation, deactivation, idle collection
 *   call.c        call records, responses, timeouts
 *   future.c      futures for external callers
 *   callchain.c   deadlock detection through call chains
 *   timer.c       the service thread: deadlines heap, actor timers
 *   watchdog.c    stuck-turn detection
 *   park.c        futex wait/wake
 */
#ifndef GBI_ACTOR_RUNTIME_H
#define GBI_ACTOR_RUNTIME_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "actor/mpsc.h"
#include "gpubridge/actor.h"

#define GBI_CACHE_LINE 64
#define GBI_EXT_STRIPES 8
/* Turn records for external callers that run their target's turn
 * themselves (scheduler.c, "caller runs"): after the nworkers workers. */
#define GBI_CALLER_SLOTS 4
/* Longest delay the runtime arms (about 73 years): now + delay never
 * overflows an int64_t of nanoseconds. */
#define GBI_FOREVER_NS (INT64_MAX / 4)

/* ---- messages (envelope.c) ------------------------------------------------ */

enum gbi_msg_kind {
    GBI_MSG_USER = 0,       /* one-way or request, owned by the runtime */
    GBI_MSG_COMPLETION = 1, /* a call completion embedded in its call record */
    GBI_MSG_DEACTIVATE = 2, /* idle collection probe */
    GBI_MSG_TIMER = 3       /* timer tick */
};

typedef struct gbi_msg {
    gbi_mpsc_node node; /* mailbox link */
    uint8_t kind;
    uint8_t pool : 2;        /* 0 = malloc'd, else 1 + size class (envelope.c) */
    uint8_t local_stamp : 1; /* hdr.hlc comes from this silo's clock */
    uint8_t causal : 1;      /* its send was recorded (causal_feed.c) */
    uint16_t chain_len;      /* call chain entries after the payload */
    uint32_t alloc_payload;  /* bytes reserved for the payload */
    gb_msg_header hdr;       /* contract layout; payload follows at once */
} gbi_msg;

static inline uint8_t *gbi_msg_payload(gbi_msg *m)
{
    return (uint8_t *)(m + 1);
}

static inline uint64_t *gbi_msg_chain(gbi_msg *m)
{
    size_t off = ((size_t)m->alloc_payload + 7u) & ~(size_t)7u;
    return (uint64_t *)(void *)(gbi_msg_payload(m) + off);
}

/* Where the caller's payload starts in a response: error responses carry
 * an int32 gb_status first (DESIGN.md 4.1). */
static inline uint32_t gbi_resp_offset(const gbi_msg *m)
{
    return (m->hdr.flags & GB_MSG_ERROR) ? 4u : 0u;
}

#define GBI_MSG_POOLED 256u /* largest pooled block; classes of 64, 128, 256 bytes */
#define GBI_MSG_CLASSES 3
/* Allocate an envelope (s may be NULL: no shared pool). */
gbi_msg *gbi_msg_new(struct gb_silo *s, uint32_t payload_len, uint16_t chain_len);
/* Release an envelope; NULL is ignored; s may be NULL (plain free). */
void gbi_msg_free(struct gb_silo *s, gbi_msg *m);
/* Free the silo's shared pool (destroy). */
void gbi_msg_pool_drain(struct gb_silo *s);

/* ---- types ---------------------------------------------------------------- */

struct gbi_devtype; /* device_actor.c */

typedef struct gbi_type {
    struct gbi_type *next;
    struct gbi_devtype *dev; /* device actor type: its ring, or NULL */
    gb_actor_type desc; /* desc.name points at name below */
    uint64_t name_hash;
    char name[];
} gbi_type;

/* ---- timers (timer.c) ----------------------------------------------------- */

#define GBI_TIMER_IN_HEAP 1u
#define GBI_TIMER_IN_ACTOR 2u

typedef struct gbi_timer {
    struct gbi_timer *next_in_actor; /* owner only */
    struct gbi_actor *actor;
    uint64_t id;
    uint32_t method;
    int64_t period_ns;
    _Atomic int cancelled;    /* set by the owner */
    _Atomic int inflight;     /* a tick is queued and not yet delivered */
    _Atomic uint32_t holders; /* GBI_TIMER_IN_HEAP | GBI_TIMER_IN_ACTOR: last one out frees */
} gbi_timer;

/* ---- actors (directory.c, activation.c, turn.c) ----------------------------- */

/* Where an actor's activation lives, as the directory knows it. Only the
 * CPU worker pool of this silo exists today; device rings and remote silos
 * come with later layers and will be routed by this field, so senders never
 * need to know where an actor is. */
enum gbi_location {
    GBI_LOC_CPU = 0, /* this silo's worker pool */
    GBI_LOC_RING = 1 /* the ring of its device type (device_actor.c) */
};

/* An actor's record: two cache lines (128 bytes, so that a million actors
 * touch as little memory as possible). Line 0 holds what senders touch
 * (routing, the depth they reserve, the mailbox's producer end); line 1
 * what only the thread running the actor's turn touches (the mailbox's
 * consumer end, state, gate): a flood of sends does not steal the line the
 * owner pops from, and the owner's pops do not steal the senders' line. */
typedef struct gbi_actor {
    /* ---- line 0: senders, the directory, the scheduler, the collector ---- */
    gbi_mpsc_node rq_node;                /* run-queue link (first member: see scheduler.c) */
    _Atomic(struct gbi_actor *) dir_next; /* directory chain */
    uint64_t id;
    union {
        uint64_t u64; /* key_is_str == 0 */
        char *str;    /* key_is_str == 1 */
    } key;
    /* producers: accepted messages not yet consumed (plus the owner's
     * phantom). The actor is owned by exactly one worker (queued or running)
     * while depth > 0: the sender moving it 0 -> 1 schedules it, the owner
     * moving it to 0 releases it. */
    _Atomic uint32_t depth;
    _Atomic uint32_t deferred_n;        /* messages held back by the gate */
    _Atomic(gbi_mpsc_node *) mb_head;   /* mailbox: producers' end (mpsc.h) */
    _Atomic int64_t last_turn_ns;       /* end of the last turn (collector; idle types only) */
    uint8_t location;                   /* enum gbi_location */
    uint8_t key_is_str;
    _Atomic uint8_t is_active;          /* mirror of active for the collector */
    _Atomic uint8_t deact_pending;      /* a deactivation probe is queued */

    /* ---- line 1: touched only by the thread running the actor's turn ---- */
    _Alignas(GBI_CACHE_LINE) const gbi_type *type;
    _Atomic(gbi_mpsc_node *) mb_tail; /* mailbox: consumer's end */
    gbi_mpsc_node mb_stub;
    void *state;
    gbi_msg *def_head, *def_tail; /* deferred messages, FIFO */
    gbi_timer *timers;
    uint32_t outstanding; /* calls made and not yet completed */
    uint8_t phantom;      /* 1 when the owner keeps an extra depth count */
    uint8_t active;
    uint8_t reactivated;
    uint8_t linger_gap8;  /* a lingering turn's first gap in units of 8 ns (turn.c), 0 = unset */
} gbi_actor;

_Static_assert(sizeof(gbi_actor) == 2 * GBI_CACHE_LINE, "an actor record is two cache lines");

static inline void gbi_mbox_push(gbi_actor *a, gbi_mpsc_node *n)
{
    gbi_mpsc_push_at(&a->mb_head, n);
}

/* Owner only. */
static inline gbi_mpsc_node *gbi_mbox_pop(gbi_actor *a)
{
    return gbi_mpsc_pop_at(&a->mb_head, &a->mb_tail, &a->mb_stub);
}

static inline int gbi_mbox_maybe_nonempty(gbi_actor *a)
{
    return gbi_mpsc_maybe_nonempty_at(&a->mb_head, &a->mb_tail, &a->mb_stub);
}

/* ---- the silo --------------------------------------------------------------- */

typedef struct gbi_counters {
    _Atomic uint64_t sent, delivered, responses, activations, deactivations, deadlocks, timeouts, late, full,
        stuck, dropped, helped;
} gbi_counters;

/* A worker's run queue: an MPSC queue (mpsc.h) whose producers' end and
 * consumer's end sit on separate cache lines, so that the pushes of a
 * sender on another core and the pops of this worker do not take each
 * other's line. */
typedef struct gbi_runq {
    _Alignas(GBI_CACHE_LINE) _Atomic(gbi_mpsc_node *) head; /* producers */
    _Alignas(GBI_CACHE_LINE) _Atomic(gbi_mpsc_node *) tail; /* consumer */
    gbi_mpsc_node stub;
    _Atomic int lock;      /* consumer lock: whoever holds it may pop */
    _Atomic uint32_t pops; /* actors popped (by the lock holder) */
    /* thieves' bookkeeping (scheduler.c, steal): the oldest actor a thief
     * last saw queued here and `pops` then, and whether thieves may take
     * at once */
    _Alignas(GBI_CACHE_LINE) _Atomic(gbi_mpsc_node *) seen;
    _Atomic uint32_t seen_pops;
    _Atomic int steal_now;
} gbi_runq;

static inline void gbi_runq_init(gbi_runq *rq)
{
    gbi_mpsc_init_at(&rq->head, &rq->tail, &rq->stub);
    atomic_init(&rq->lock, 0);
    atomic_init(&rq->pops, 0);
    atomic_init(&rq->seen, NULL);
    atomic_init(&rq->seen_pops, 0);
    atomic_init(&rq->steal_now, 0);
}

/* Holder of rq->lock (or a single thread at destroy) only. */
static inline gbi_mpsc_node *gbi_runq_pop(gbi_runq *rq)
{
    return gbi_mpsc_pop_at(&rq->head, &rq->tail, &rq->stub);
}

static inline int gbi_runq_maybe_nonempty(gbi_runq *rq)
{
    return gbi_mpsc_maybe_nonempty_at(&rq->head, &rq->tail, &rq->stub);
}

/* A worker thread, or (index >= nworkers) a caller slot: the turn record of
 * an external thread running a turn itself, claimed through `claimed`. The
 * watchdog, the shutdown's quiescence check and the counters read workers
 * and caller slots alike (gbi_nturn_records). */
typedef struct gbi_worker {
    _Alignas(GBI_CACHE_LINE) struct gb_silo *silo;
    uint32_t index;
    _Atomic int claimed;       /* caller slots: 1 while an external thread holds it */
    pthread_t thread;
    gbi_counters c;            /* written by this worker only */
    _Atomic int in_turn;       /* 1 while running a turn */
    _Atomic uint64_t turn_seq; /* turns started */
    _Atomic uint64_t actor_id; /* actor of the current turn */
    uint64_t seen_seq;         /* watchdog (service thread only): turn last seen */
    int64_t seen_at;           /* when seen_seq was first seen running */
    uint64_t reported_seq;     /* turn already reported */
    int64_t spin_cur;          /* this worker's adaptive spin budget */
    int helping;               /* 1 while a sender's turn runs a flooded receiver's (gbi_sched_help) */
    uint32_t help_skip;        /* sends over help_depth to let pass after a help found nothing to do */
} gbi_worker;

typedef struct gbi_directory gbi_directory;
typedef struct gbi_calls gbi_calls;
typedef struct gbi_service gbi_service;

/* Depth of a mailbox at which a sender's worker runs the receiver's turns
 * (gbi_sched_help; half the capacity when that is lower): 2048 envelopes
 * (~256 KB) stay in a core's cache between the send and the handling. */
#define GBI_HELP_DEPTH 2048u

struct gb_silo {
    gb_silo_opts o;
    uint32_t help_depth; /* GBI_HELP_DEPTH, or half the mailbox capacity when lower */
    gb_hlc *hlc;
    gbi_directory *dir;
    gbi_calls *calls;
    gbi_service *svc;

    pthread_mutex_t types_lock;  /* serialises registrations */
    _Atomic(gbi_type *) types;   /* prepend-only list, read without the lock */
    _Atomic int idle_types;      /* registered types with an idle timeout */
    _Atomic int64_t min_idle_ns; /* shortest idle timeout of those types */

    uint32_t nworkers;
    uint32_t nworkers_started;
    gbi_worker *workers; /* nworkers workers, then GBI_CALLER_SLOTS caller slots */
    gbi_runq *runqs;
    _Atomic uint32_t rr; /* round robin for external pushes */

    /* park/wake handshake (scheduler.c) */
    _Alignas(GBI_CACHE_LINE) _Atomic uint32_t wake_seq;
    _Atomic int spinning;
    _Atomic int sleepers;
    _Atomic int stop_workers;

    /* backpressure (mailbox.c) */
    _Alignas(GBI_CACHE_LINE) _Atomic uint32_t space_seq;
    _Atomic int space_waiters;

    _Alignas(GBI_CACHE_LINE) _Atomic int closing; /* 0 open, 1 draining, 2 closed */
    _Atomic int final_phase;                      /* destroy runs turns itself */
    _Atomic int ext_waiters;                      /* threads inside gb_call/wait */
    _Atomic uint64_t timer_ids;
    _Atomic int64_t caller_spin_cur;                      /* adaptive spin of gb_call waiters */
    _Alignas(GBI_CACHE_LINE) _Atomic(gbi_msg *) msg_pool[GBI_MSG_CLASSES]; /* envelope.c */
    /* counters of non-worker threads, striped by thread so that external
     * senders do not all hit one cache line (each stripe on its own) */
    struct {
        _Alignas(GBI_CACHE_LINE) gbi_counters c;
    } ext[GBI_EXT_STRIPES];
    /* causal recording (causal_feed.c); NULL = off. Last, on its own
     * read-only line, so that the hot fields above keep their layout. */
    _Alignas(GBI_CACHE_LINE) struct gbi_feed *feed;
};

/* Workers and caller slots: the records that can run a turn. */
static inline uint32_t gbi_nturn_records(const gb_silo *s)
{
    return s->nworkers + GBI_CALLER_SLOTS;
}

/* The turn being run on this thread (NULL outside a handler). */
struct gb_actor_ctx {
    gb_silo *silo;
    gbi_actor *actor;
    gbi_msg *cur;          /* message being handled (NULL in init/deactivate) */
    const uint64_t *chain; /* call chain of the current request context */
    uint32_t chain_len;
    int answered;    /* current request replied or deferred */
    int own_c;       /* c has a single writer, this thread (a worker's or a held caller slot's) */
    gbi_counters *c; /* counters of the running thread */
};

extern _Thread_local gbi_worker *gbi_tl_worker;
extern _Thread_local gb_actor_ctx *gbi_tl_ctx;

/* The calling thread's worker when it is one of s's pool workers (not a
 * caller slot), else NULL. */
static inline gbi_worker *gbi_pool_worker(gb_silo *s)
{
    gbi_worker *w = gbi_tl_worker;
    return w && w->silo == s && w->index < s->nworkers ? w : NULL;
}

/* Counters of the calling thread: its worker's, or the shared external set. */
static inline gbi_counters *gbi_counters_here(gb_silo *s)
{
    gbi_worker *w = gbi_tl_worker;
    if (w && w->silo == s)
        return &w->c;
    /* a thread's stripe: the address of a thread-local variable differs per
     * thread, so its bits spread threads over the stripes (each file has its
     * own anchor; any stripe is correct, since readers sum them all) */
    static _Thread_local char tl_anchor;
    return &s->ext[((uintptr_t)&tl_anchor >> 6) % GBI_EXT_STRIPES].c;
}

static inline void gbi_count(_Atomic uint64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* Add n to a counter that has a single writer, the calling thread (a
 * worker's own counters, a run queue's pops): a relaxed load and store, no
 * locked instruction. */
static inline void gbi_count_own(_Atomic uint64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

/* Count n in `field` of the calling thread's counters. A worker's counters
 * (or a caller slot's, held by one thread at a time) have a single writer:
 * a relaxed load and store, no locked instruction on every message; the
 * shared stripes of other threads take an atomic add. */
#define GBI_COUNT_HERE(s, field, n)                                                                          \
    do {                                                                                                     \
        gbi_worker *w_ = gbi_tl_worker;                                                                      \
        if (w_ && w_->silo == (s))                                                                           \
            gbi_count_own(&w_->c.field, (n));                                                                \
        else                                                                                                 \
            gbi_count(&gbi_counters_here(s)->field, (n));                                                    \
    } while (0)

/* ---- directory.c ---------------------------------------------------------- */
gb_status gbi_dir_create(gbi_directory **out);
void gbi_dir_destroy(gbi_directory *d);
/* Lock-free lookup; NULL when unknown. */
gbi_actor *gbi_dir_lookup(gbi_directory *d, uint64_t id);
/* Find or insert (exactly once) the record of (type, key). */
gb_status gbi_dir_get_or_create(gbi_directory *d, uint64_t id, const gbi_type *t, const char *key_str,
                                uint64_t key_u64, gbi_actor **out);
/* Visit every record (records are never removed before destroy). */
void gbi_dir_foreach(gbi_directory *d, void (*fn)(gbi_actor *a, void *arg), void *arg);
uint64_t gbi_dir_count(gbi_directory *d);

/* ---- type_registry.c ---------------------------------------------------------- */
const gbi_type *gbi_type_find(gb_silo *s, const char *name);
void gbi_types_free(gb_silo *s);

/* ---- mailbox.c ------------------------------------------------------------- */
/* Accept m into a's mailbox (capacity checked unless force), scheduling a
 * on empty -> non-empty. On error m is still the caller's. */
gb_status gbi_mailbox_put(gb_silo *s, gbi_actor *a, gbi_msg *m, int force);
/* Like gbi_mailbox_put without force, but when m moved a's depth from 0 to
 * 1 the actor is not scheduled: *owned = 1 and the caller owns a (it must
 * run its turn or gbi_sched_push it). On error m is still the caller's. */
gb_status gbi_mailbox_put_owned(gb_silo *s, gbi_actor *a, gbi_msg *m, int *owned);
/* Room was freed in a mailbox that had been full: wake blocked senders. */
void gbi_mailbox_room(gb_silo *s);

/* ---- scheduler.c ------------------------------------------------------------ */
gb_status gbi_sched_start(gb_silo *s);
void gbi_sched_stop(gb_silo *s);
void gbi_sched_push(gb_silo *s, gbi_actor *a);
/* Whether any worker or caller slot runs a turn or any run queue holds an
 * actor. */
int gbi_sched_busy(gb_silo *s);
/* Whether some run queue may hold an actor (a hint). */
int gbi_sched_has_work(gb_silo *s);
/* Run the turn of a, which the calling external thread owns (it moved a's
 * depth from 0 to 1), on this thread through a free caller slot; requeues a
 * if the turn says so. Returns 0 without running anything when no slot is
 * free or the silo is closing: the caller must then gbi_sched_push(a). */
int gbi_sched_caller_run(gb_silo *s, gbi_actor *a);
/* A message was just put into a's mailbox at a depth of help_depth or
 * more: if this thread is a worker inside a turn and a waits in a run
 * queue as its oldest actor, run a's turns here, inside the sending turn,
 * until a's depth is down to half of help_depth. Nothing happens outside a
 * worker's turn, in a turn run by a help (one level only), or when a runs
 * elsewhere (then the next 64 such sends of this worker do not look). */
void gbi_sched_help(gb_silo *s, gbi_actor *a);
/* Destroy, after closing = 2: wait until no caller slot is held, so that no
 * caller-run turn runs while the destroying thread runs the last turns. */
void gbi_sched_wait_callers(gb_silo *s);

/* ---- turn.c ---------------------------------------------------------------- */
/* Run one turn of an owned actor; returns 1 if it must be queued again. */
int gbi_turn_run(gb_silo *s, gbi_actor *a, gbi_counters *c);

/* ---- activation.c ------------------------------------------------------------ */
/* Activate ctx's actor: state bytes, then the init hook. GB_ENOMEM (with
 * gb_last_error's detail) when the state cannot be allocated: the actor
 * stays inactive and the next message tries again. */
gb_status gbi_activate(gb_actor_ctx *ctx);
/* Test-only fault injection, 0 (off) by default: while nonzero, each state
 * allocation of an activation fails and decrements it. */
extern _Atomic uint32_t gbi_fault_state_alloc;
/* Deactivate if idle (probe from the collector) or unconditionally (force). */
void gbi_deactivate(gb_actor_ctx *ctx, int force);
void gbi_collect_idle(gb_silo *s, int64_t now_ns);

/* ---- call.c ----------------------------------------------------------------- */
enum gbi_call_kind { GBI_CALL_BLOCK, GBI_CALL_FUTURE, GBI_CALL_CB, GBI_CALL_ACTOR };
gb_status gbi_calls_create(gbi_calls **out);
void gbi_calls_destroy(gbi_calls *c);
/* Complete every pending call with GB_ECLOSED (destroy); returns how many. */
int gbi_calls_close_all(gb_silo *s);
/* Deliver a completion message to the calling actor's turn. */
void gbi_call_deliver(gb_actor_ctx *ctx, gbi_msg *m);
/* Complete call `correlation` with status (timeouts, close). */
gb_status gbi_call_complete(gb_silo *s, uint64_t correlation, gb_status status, gbi_msg *resp);
/* Send a request carrying a chain; shared by gb_call* and gb_ctx_call. */
gb_status gbi_request(gb_silo *s, gbi_actor *target, uint32_t method, const void *payload, uint32_t len,
                      const uint64_t *chain, uint32_t chain_len, uint64_t sender, uint64_t correlation);

/* ---- callchain.c --------------------------------------------------------------- */
/* Build the chain of a call from ctx's chain plus the caller; check target. */
gb_status gbi_chain_extend(const gb_actor_ctx *ctx, const gbi_actor *target, uint64_t *chain, uint32_t *len);

/* ---- timer.c (service thread) --------------------------------------------------- */
gb_status gbi_service_start(gb_silo *s);
void gbi_service_stop(gb_silo *s);
/* Arm a call timeout (correlation) at deadline_ns (monotonic). */
gb_status gbi_service_call_timeout(gb_silo *s, uint64_t correlation, int64_t deadline_ns);
gb_status gbi_service_timer(gb_silo *s, gbi_timer *t, int64_t deadline_ns);
/* Called by the owner when a timer tick arrives. */
void gbi_timer_deliver(gb_actor_ctx *ctx, gbi_msg *m);
void gbi_timers_cancel_all(gbi_actor *a);
/* Drop one holder bit; frees the timer when none is left. */
void gbi_timer_release(gbi_timer *t, uint32_t holder);

/* ---- watchdog.c ------------------------------------------------------------------- */
void gbi_watchdog_check(gb_silo *s, int64_t now_ns);

/* ---- device_actor.c ------------------------------------------------------------- */
/* Validate and copy a type's device part into t->dev. Errors: GB_EINVAL, GB_ENOMEM. */
gb_status gbi_devtype_create(gb_silo *s, gbi_type *t, const gb_actor_device *d);
/* Accept m for an actor that lives on a ring (starting the ring on first
 * use); on success m is consumed, on error it is still the caller's. */
gb_status gbi_ring_route_put(gb_silo *s, gbi_actor *a, gbi_msg *m);
/* Idle collection of one device actor (device_idle.c): queue its
 * deactivation on the ring once its type's idle timeout passed since the
 * last message sent to it. Service thread. */
void gbi_devtype_collect(gb_silo *s, gbi_actor *a, int64_t now_ns);
/* Whether every started ring has nothing in flight and its drain thread
 * has delivered everything its handlers put out. */
int gbi_devtypes_quiet(gb_silo *s);
/* Destroy: drain every ring (all accepted messages handled, their output
 * delivered), stop the drain threads. */
void gbi_devtypes_stop(gb_silo *s);
/* Free the device parts (after stop). */
void gbi_devtypes_free(gb_silo *s);
/* Free one type's device part (a registration that failed). */
void gbi_devtype_free_one(gbi_type *t);

/* ---- causal_feed.c ------------------------------------------------------------ */
/* Each of these runs only when s->feed is not NULL (the caller tests it
 * with GBI_FEED_ON); they are cold so that the calls stay out of the hot
 * code's layout when recording is off. */
#define GBI_COLD __attribute__((cold, noinline))
gb_status gbi_feed_create(gb_silo *s); /* s->feed stays NULL when both options are off */
void gbi_feed_destroy(gb_silo *s);
/* Vector-clock entry of an actor's process (never GB_SILO_EXTERNAL_NODE). */
uint32_t gbi_causal_node(uint64_t actor);
/* Record m's send by m->hdr.sender (0 = external) before m is published. */
GBI_COLD void gbi_feed_send(gb_silo *s, gbi_msg *m);
/* Record the send of timer tick m by actor, the timer's owner. */
GBI_COLD void gbi_feed_timer_send(gb_silo *s, gbi_msg *m, uint64_t actor);
/* A call completed without a reply message (timeout, GB_ECLOSED): its
 * continuation runs at actor (0 = external) as a local event. */
GBI_COLD void gbi_feed_local(gb_silo *s, uint64_t actor);
/* m was recorded as sent but never accepted: forget its clock. */
GBI_COLD void gbi_feed_unsend(gb_silo *s, gbi_msg *m);
/* m (recorded or not) is delivered to actor (0 = external). */
GBI_COLD void gbi_feed_recv(gb_silo *s, gbi_msg *m, uint64_t actor);
/* Wait-for edges of actor calls. */
GBI_COLD void gbi_feed_call(gb_silo *s, uint64_t caller, uint64_t callee, uint64_t corr);
GBI_COLD void gbi_feed_call_done(gb_silo *s, uint64_t corr);
#define GBI_FEED_ON(s) __builtin_expect((s)->feed != NULL, 0)

/* ---- park.c -------------------------------------------------------------------- */
/* One step of a spin-wait: a pause, and every 32nd step a sched_yield, so
 * that a spinner sharing its CPU with the thread it waits for (more runnable
 * threads than free cores) lets that thread run instead of burning its
 * whole budget first. */
void gbi_spin_step(unsigned i);

/* Adaptive spin budget. A thread that parked and was woken after parked_ns
 * would have caught its wake-up by spinning that long: the next budget grows
 * to twice that (at most 16 x base) so a steady exchange whose wake-ups take
 * longer than the base budget stops paying a park and a wake per message; a
 * long idle period (parked_ns beyond the cap) returns it to base. */
static inline int64_t gbi_spin_adapt(int64_t cur, int64_t base, int64_t parked_ns)
{
    int64_t cap = base * 16;
    if (base <= 0 || parked_ns >= cap)
        return base;
    int64_t next = 2 * parked_ns > cur ? 2 * parked_ns : cur;
    return next < cap ? next : cap;
}

/* Wait while *word == expected, at most timeout_ns (<0: forever). */
void gbi_park(_Atomic uint32_t *word, uint32_t expected, int64_t timeout_ns);
void gbi_unpark(_Atomic uint32_t *word, int all);

/* ---- silo.c -------------------------------------------------------------------- */
int64_t gbi_now_ns(void);
/* A physical-time reading shared by the HLC stamps of one handler
 * invocation (silo.c); turn.c clears it before each message. */
#define GBI_PT_REUSE 8u
typedef struct gbi_pt_cache {
    int64_t ns;
    uint32_t left; /* stamps this reading may still serve */
} gbi_pt_cache;
extern _Thread_local gbi_pt_cache gbi_tl_pt;
/* Delivery side of the HLC: advance the silo clock past a received stamp.
 * A message stamped by this silo's own clock (GBI_MSG_LOCAL_STAMP) needs no
 * update: that clock already passed the stamp when it issued it, so the
 * receive is ordered after the send. Skipping it keeps the clock's cache
 * line from bouncing between every sender and every receiver. Messages that
 * come from elsewhere (rings, other silos) go through gb_hlc_update. */
static inline void gbi_hlc_receive(gb_silo *s, const gbi_msg *m)
{
    /* a stamp beyond max_offset is refused and counted by the clock itself
     * (gb_hlc_rejected); the message is still delivered */
    if (!m->local_stamp && m->hdr.hlc > gb_hlc_peek(s->hlc))
        (void)gb_hlc_update(s->hlc, m->hdr.hlc, NULL);
}
gb_status gbi_check_payload(gb_silo *s, const void *payload, uint32_t len, const char *where);
/* Resolve target for sending: closed silo / unknown id errors. */
gb_status gbi_resolve(gb_silo *s, gb_actor_id target, int internal, gbi_actor **out, const char *where);

#endif
