/*
 * Causal analysis (DESIGN.md section 7): a causal graph of message send,
 * receive and local events, each stamped with an HLC and a vector clock;
 * happened-before and concurrency queries; a verifier that finds
 * causal-delivery violations and clock anomalies; and a wait-for graph of
 * pending calls whose deadlock cycles are found with Tarjan's SCC algorithm.
 *
 * Processes. An event's `node` is the process it belongs to: the unit whose
 * events are sequential and whose vector-clock entry the event ticks (an
 * actor, or a silo when vector clocks are kept per silo). A process's local
 * order is its own vector-clock entry, never the order of recording, so
 * recording from many threads may interleave freely.
 *
 * Thread-safety: gb_causal_graph and gb_waitfor each hold one mutex; every
 * function on them may be called from any thread at any time except
 * destroy. Callbacks run with that mutex held and must not call back into
 * the same object.
 */
#ifndef GPUBRIDGE_CAUSAL_H
#define GPUBRIDGE_CAUSAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpubridge/clock.h"
#include "gpubridge/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- causal graph ------------------------------------------------------------ */

typedef struct gb_causal_graph gb_causal_graph;

typedef enum gb_causal_kind {
    GB_CAUSAL_LOCAL = 1, /* an event with no message */
    GB_CAUSAL_SEND = 2,  /* a message leaves node */
    GB_CAUSAL_RECV = 3   /* a message is delivered at node */
} gb_causal_kind;

typedef struct gb_causal_event {
    gb_causal_kind kind;
    uint32_t node;       /* process (vector-clock entry) the event belongs to */
    uint64_t actor;      /* actor id, for reports and the per-actor HLC check */
    uint64_t msg_id;     /* SEND/RECV: links a send to its receive (non-zero) */
    gb_hlc_t hlc;        /* HLC after the event */
    int64_t pt_ns;       /* local physical clock at the event; 0 = not known */
    const gb_vclock *vc; /* vector clock after the event; copied on record */
} gb_causal_event;

/* Create an empty graph. Errors: GB_EINVAL (out NULL), GB_ENOMEM. */
gb_status gb_causal_create(gb_causal_graph **out);

/* Destroy a graph; NULL is ignored. Not thread-safe with other users. */
void gb_causal_destroy(gb_causal_graph *g);

/* Record one event (its vector clock is copied); *id (may be NULL) gets
 * its id: 1, 2, ... in recording order. Errors: GB_EINVAL (g, ev or ev->vc
 * NULL, unknown kind, msg_id 0 on SEND/RECV or non-zero on LOCAL),
 * GB_ENOMEM (nothing recorded). Thread-safe. */
gb_status gb_causal_record(gb_causal_graph *g, const gb_causal_event *ev, uint64_t *id);

/* Number of events recorded. Thread-safe. */
size_t gb_causal_count(gb_causal_graph *g);

/* Copy event id's fields into *out (out->vc set to NULL) and, when vc is
 * not NULL, its vector clock into vc. Errors: GB_EINVAL (g or out NULL),
 * GB_ENOENT (no such id), GB_ENOMEM (vc copy). Thread-safe. */
gb_status gb_causal_event_get(gb_causal_graph *g, uint64_t id, gb_causal_event *out,
                              gb_vclock *vc);

/* Causal order of events a and b by their vector clocks: GB_VC_BEFORE when
 * a happened before b, GB_VC_AFTER, GB_VC_CONCURRENT, or GB_VC_EQUAL (the
 * same event, or two events with equal clocks: an anomaly the verifier
 * reports). Errors: GB_EINVAL (NULL), GB_ENOENT (unknown id). Thread-safe. */
gb_status gb_causal_order(gb_causal_graph *g, uint64_t a, uint64_t b, gb_vc_order *out);

/* *out = a happened before b. Errors as gb_causal_order. Thread-safe. */
gb_status gb_causal_happened_before(gb_causal_graph *g, uint64_t a, uint64_t b, bool *out);

/* *out = a and b are concurrent. Errors as gb_causal_order. Thread-safe. */
gb_status gb_causal_concurrent(gb_causal_graph *g, uint64_t a, uint64_t b, bool *out);

/* The ids of every event concurrent with event id, ascending, into
 * out[0..cap); *n_out gets the number written. Errors: GB_EINVAL (g or
 * n_out NULL, out NULL with cap > 0), GB_ENOENT, GB_ERANGE (more than cap:
 * out holds the smallest cap ids). O(events). Thread-safe. */
gb_status gb_causal_concurrent_with(gb_causal_graph *g, uint64_t id, uint64_t *out, size_t cap,
                                    size_t *n_out);

/* ---- wait-for graph ---------------------------------------------------------- */

typedef struct gb_waitfor gb_waitfor;

/* One deadlock: the actors of one strongly connected component of the
 * wait-for graph (ascending), and one witness cycle through them:
 * cycle_actor[i] waits on cycle_actor[(i+1) % cycle_len] through call
 * cycle_call[i]. Arrays are only valid during the callback. */
typedef struct gb_deadlock {
    const uint64_t *actors;
    size_t n_actors;
    const uint64_t *cycle_actor;
    const uint64_t *cycle_call;
    size_t cycle_len;
} gb_deadlock;

/* Return 0 to continue, non-zero to stop. */
typedef int (*gb_deadlock_fn)(const gb_deadlock *d, void *ctx);

/* Create an empty wait-for graph. Errors: GB_EINVAL, GB_ENOMEM. */
gb_status gb_waitfor_create(gb_waitfor **out);

/* Destroy; NULL is ignored. Not thread-safe with other users. */
void gb_waitfor_destroy(gb_waitfor *w);

/* Record that caller waits on callee through pending call call_id
 * (caller == callee allowed: a self-wait). Errors: GB_EINVAL (w NULL),
 * GB_EEXIST (call_id already pending; graph unchanged), GB_ENOMEM.
 * Thread-safe. */
gb_status gb_waitfor_add(gb_waitfor *w, uint64_t caller, uint64_t callee, uint64_t call_id);

/* The call completed: remove its edge. Errors: GB_EINVAL, GB_ENOENT (not
 * pending). Thread-safe. */
gb_status gb_waitfor_remove(gb_waitfor *w, uint64_t call_id);

/* Number of pending calls. Thread-safe. */
size_t gb_waitfor_count(gb_waitfor *w);

/* Would a call caller -> callee close a cycle (callee already waits,
 * directly or transitively, on caller, or caller == callee)? GB_OK if not,
 * GB_EDEADLK if so; GB_EINVAL (w NULL), GB_ENOMEM. Thread-safe. */
gb_status gb_waitfor_check(gb_waitfor *w, uint64_t caller, uint64_t callee);

/* Find every deadlock (Tarjan's SCC: each component with more than one
 * actor, or one actor waiting on itself, is reported once with a witness
 * cycle) and call fn for each; *n_deadlocks (may be NULL) gets the number
 * reported. O(actors + calls). Errors: GB_EINVAL (w or fn NULL), GB_ENOMEM.
 * Thread-safe. */
gb_status gb_waitfor_deadlocks(gb_waitfor *w, gb_deadlock_fn fn, void *ctx, size_t *n_deadlocks);

/* ---- verification -------------------------------------------------------------- */

typedef enum gb_causal_violation_kind {
    GB_CV_NONE = 0,
    GB_CV_UNMATCHED_RECV,    /* a receive with no recorded send (GB_ENOENT) */
    GB_CV_DUPLICATE_MSG,     /* two sends or two receives of one message (GB_EEXIST) */
    GB_CV_VC_NOT_ADVANCING,  /* a node's own vector entry did not increase (GB_EORDER) */
    GB_CV_VC_RECV_BEFORE_SEND, /* receive's vector clock not after its send's (GB_EORDER) */
    GB_CV_DELIVERY_ORDER,    /* delivered before a message it depends on (GB_EORDER) */
    GB_CV_HLC_RECV_NOT_AFTER_SEND, /* receive HLC <= send HLC (GB_ECLOCK) */
    GB_CV_HLC_BACKWARDS,     /* an actor's HLC went backwards (GB_ECLOCK) */
    GB_CV_HLC_OFFSET,        /* HLC ahead of physical time by > max offset (GB_ECLOCK) */
    GB_CV_DEADLOCK           /* a wait-for cycle (GB_EDEADLK) */
} gb_causal_violation_kind;

/* Which checks gb_causal_verify runs (bits; 0 = all). */
#define GB_CV_CHECK_MESSAGES 0x1u /* unmatched receives, duplicates */
#define GB_CV_CHECK_VCLOCK 0x2u   /* vector clocks advance and follow messages */
#define GB_CV_CHECK_DELIVERY 0x4u /* causal delivery order */
#define GB_CV_CHECK_HLC 0x8u      /* HLC anomalies */
#define GB_CV_CHECK_DEADLOCK 0x10u /* opts.waitfor cycles */

typedef struct gb_causal_verify_opts {
    uint32_t checks;        /* GB_CV_CHECK_* bits; 0 = all */
    int64_t max_offset_ns;  /* 0 = GB_HLC_DEFAULT_MAX_OFFSET_NS */
    gb_waitfor *waitfor;    /* also look for deadlocks here; NULL = none */
} gb_causal_verify_opts;

typedef struct gb_causal_violation {
    gb_causal_violation_kind kind;
    uint64_t event[4];  /* event ids involved, see n_events */
    uint32_t n_events;
    uint64_t msg[2];    /* message ids involved (0 = none) */
    char what[256];     /* one sentence naming events, actors, calls */
} gb_causal_violation;

/* Return 0 to continue, non-zero to stop. */
typedef int (*gb_causal_violation_fn)(const gb_causal_violation *v, void *ctx);

/* Report every violation (see the order at gb_causal_verify) to fn.
 * *n_found (may be NULL) gets the number reported. Errors: GB_EINVAL
 * (g or fn NULL, negative max_offset_ns, unknown check bits), GB_ENOMEM.
 * Delivery order costs O(sum over nodes of receives^2) vector compares.
 * Thread-safe. */
gb_status gb_causal_each_violation(gb_causal_graph *g, const gb_causal_verify_opts *opts,
                                   gb_causal_violation_fn fn, void *ctx, size_t *n_found);

/* Check the history: GB_OK when clean, else the status of the first
 * violation found (see gb_causal_violation_kind) with it in *violation
 * (may be NULL; kind GB_CV_NONE when clean). Order: per event in id order
 * (message, vector-clock, HLC checks), then delivery order, then
 * deadlocks. opts may be NULL. Errors as gb_causal_each_violation.
 * Thread-safe. */
gb_status gb_causal_verify(gb_causal_graph *g, const gb_causal_verify_opts *opts,
                           gb_causal_violation *violation);

/* Name of a violation kind ("delivery-order"); "unknown" otherwise.
 * Thread-safe (static strings). */
const char *gb_causal_violation_name(gb_causal_violation_kind kind);

#ifdef __cplusplus
}
#endif
#endif
