/*
 * Virtual actors on the CPU (DESIGN.md 6): a silo, actor types, identities,
 * one-way sends, request/response calls with futures, timers and counters.
 *
 * An actor is addressed by (type name, key); it is never created or
 * destroyed by hand. The first message to its id activates it on the silo's
 * worker pool; an idle actor is deactivated after its type's idle timeout
 * and reactivated by the next message. Messages are the fixed-layout
 * gb_msg_header plus payload of gpubridge/message.h; the runtime copies every
 * message it accepts, so callers may reuse their buffers at once.
 *
 * Turns: an actor handles one message at a time; different actors run in
 * parallel. A non-reentrant actor (the default) that has a call in flight
 * handles only responses until that call completes; a reentrant actor keeps
 * handling every message. A call that would close a cycle of waiting
 * non-reentrant actors fails at once with GB_EDEADLK.
 */
#ifndef GPUBRIDGE_ACTOR_H
#define GPUBRIDGE_ACTOR_H

#include <stddef.h>
#include <stdint.h>

#include "gpubridge/broker.h"
#include "gpubridge/causal.h"
#include "gpubridge/clock.h"
#include "gpubridge/message.h"
#include "gpubridge/ring.h"
#include "gpubridge/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef uint64_t gb_actor_id; /* stable hash of (type, key); 0 = external client */

typedef struct gb_silo gb_silo;
typedef struct gb_actor_ctx gb_actor_ctx; /* the turn being run, valid during a handler */
typedef struct gb_future gb_future;

/* Longest call chain a request may carry (actors waiting on each other). */
#define GB_CALL_CHAIN_MAX 16

/* ---- Silo ---------------------------------------------------------------- */

typedef enum gb_full_policy {
    GB_FULL_FAIL = 0, /* a full mailbox gives the sender GB_EAGAIN */
    GB_FULL_BLOCK = 1 /* an external sender waits for room (handlers still get GB_EAGAIN) */
} gb_full_policy;

typedef struct gb_silo_opts {
    uint32_t workers;           /* worker threads; 0 = one per online core */
    uint32_t node_id;           /* HLC node id of this silo */
    uint32_t mailbox_capacity;  /* messages per actor; 0 = 65536 */
    gb_full_policy full_policy; /* what a sender meets at a full mailbox */
    uint32_t max_payload;       /* bytes; 0 = 4048 (a 4096-byte slot) */
    uint32_t batch;             /* messages per turn before yielding; 0 = 32 */
    int64_t spin_ns;            /* idle worker spins this long, then parks; 0 = 20 us, <0 = no spin
                                 * (adapts up to 16x when wake-ups come soon after parking) */
    int64_t caller_spin_ns;     /* external waiters spin this long, then park; 0 = 20 us, <0 = no spin */
    int64_t stuck_turn_ns;      /* watchdog: log turns longer than this; 0 = 1 s, <0 = off */
    int64_t drain_timeout_ns;   /* gb_silo_destroy drains at most this long; 0 = 5 s */
    int64_t collect_period_ns;  /* idle-actor scan period (at least 1/4 of the shortest
                                 * idle timeout); 0 = 100 ms */
    int64_t default_timeout_ns; /* call timeout used when a call passes <= 0; 0 = 30 s */
    /* Causal recording (docs/causal.md, "Feeding it from a silo"); NULL = off.
     * Both are owned by the caller, must outlive gb_silo_destroy, and may be
     * read (verify, queries) at any time. causal: every message sent to and
     * delivered at a CPU actor is recorded, one process per actor
     * (vector-clock entry gb_silo_actor_node(id)) and one for all external
     * threads (GB_SILO_EXTERNAL_NODE). waitfor: every pending gb_ctx_call is
     * an edge caller -> callee (call id = its correlation) until it completes
     * (reply, error, timeout or close); see gb_silo_deadlocks. */
    gb_causal_graph *causal;
    gb_waitfor *waitfor;
} gb_silo_opts;

/* The vector-clock entry (gb_causal_event.node) of external senders. */
#define GB_SILO_EXTERNAL_NODE 0u

/* Create a silo: the worker pool, the service thread (timers, call timeouts,
 * idle collection, watchdog) and the silo's HLC. opts may be NULL (defaults).
 * Errors: GB_EINVAL (out NULL, max_payload above 4048, unknown full_policy,
 * more than 1024 workers), GB_ENOMEM,
 * GB_EINTERNAL (a thread could not be started). Thread-safe. */
gb_status gb_silo_create(gb_silo **out, const gb_silo_opts *opts);

/* Shut a silo down: external sends and calls fail with GB_ECLOSED from now
 * on; accepted messages are drained (for at most drain_timeout_ns); then every
 * message still queued is handled with sends disabled, every pending call
 * completes with GB_ECLOSED, every active actor is deactivated, and all
 * memory is freed. Threads blocked in gb_call or gb_future_wait are woken
 * with GB_ECLOSED. NULL is ignored. Called from a handler of this silo it
 * is refused (logged as an error: it would wait for its own worker). Must
 * not run concurrently with calls on the silo that start after it. Futures
 * stay valid until released. */
void gb_silo_destroy(gb_silo *silo);

/* The silo's hybrid logical clock: every message is stamped with
 * gb_hlc_now at send; a delivered stamp that is ahead of the clock (one
 * from another clock) goes through gb_hlc_update (the silo's own stamps
 * never are). Its physical source is the TSC-based fast clock anchored to
 * realtime. Valid until gb_silo_destroy. Thread-safe. */
gb_hlc *gb_silo_clock(gb_silo *silo);

/* The vector-clock entry of actor id's process in a causal recording: a
 * 32-bit fold of the id, never GB_SILO_EXTERNAL_NODE (two actors may share
 * an entry, rarely: docs/causal.md). Thread-safe. */
uint32_t gb_silo_actor_node(gb_actor_id id);

/* Report the deadlocks of the silo's wait-for graph (opts.waitfor): every
 * cycle of pending gb_ctx_calls, with its actors and call ids, including
 * cycles the call-chain check cannot see (callbacks, timers: each call
 * starts a new chain). Runs Tarjan's SCC over the graph now; a call that
 * is waiting is one issued and not yet completed, whose callback the
 * caller needs (a non-reentrant caller holds its other messages back
 * meanwhile). fn and n_deadlocks as gb_waitfor_deadlocks. Errors:
 * GB_EINVAL (silo or fn NULL, the silo has no opts.waitfor), GB_ENOMEM.
 * Thread-safe. */
gb_status gb_silo_deadlocks(gb_silo *silo, gb_deadlock_fn fn, void *ctx, size_t *n_deadlocks);

typedef struct gb_silo_stats {
    uint64_t sent;      /* messages accepted into a mailbox (requests and one-way) */
    uint64_t delivered; /* messages handed to a handler */
    uint64_t responses; /* call completions delivered (response, error or timeout) */
    uint64_t activations;
    uint64_t deactivations;
    uint64_t deadlocks;      /* calls refused with GB_EDEADLK */
    uint64_t timeouts;       /* calls completed with GB_ETIMEDOUT */
    uint64_t late_responses; /* responses dropped because their call had completed */
    uint64_t mailbox_full;   /* sends refused (or made to wait) by a full mailbox */
    uint64_t stuck_turns;    /* turns the watchdog reported */
    uint64_t dropped;        /* one-way messages not handled because of a runtime error, each logged
                              * (today: no memory for the actor's state at activation) */
    uint64_t actors;         /* identities known to the directory */
    uint64_t active;         /* actors activated now */
    uint64_t helped_turns;   /* turns of a flooded actor run by its sender's worker (docs/actors.md) */
} gb_silo_stats;

/* Read the silo's counters (each read atomically; the set is not a snapshot).
 * Errors: GB_EINVAL (NULL). Thread-safe. */
gb_status gb_silo_stats_get(gb_silo *silo, gb_silo_stats *out);

/* ---- Actor types --------------------------------------------------------- */

/* Called on (re)activation, in the turn of the actor's first message and
 * just before it is handled. state is state_size bytes: zeroed, or what the
 * deactivate hook kept. A non-OK status is logged; the actor stays active. */
typedef gb_status (*gb_actor_init_fn)(gb_actor_ctx *ctx, void *state);

/* Handles one message. For a request (msg->correlation != 0) that the
 * handler neither answered (gb_ctx_reply) nor deferred (gb_ctx_defer_reply),
 * the returned status is the response (GB_OK with an empty payload, or the
 * error). payload is msg->payload_len bytes, valid during the call only. */
typedef gb_status (*gb_actor_handler_fn)(gb_actor_ctx *ctx, void *state, const gb_msg_header *msg,
                                         const void *payload);

/* Called in the actor's last turn before deactivation (idle timeout or silo
 * destroy). Return nonzero to keep the state bytes for the next activation
 * (host memory), 0 to drop them (the next activation starts zeroed). */
typedef int (*gb_actor_deactivate_fn)(gb_actor_ctx *ctx, void *state);

typedef enum gb_placement {
    GB_PLACEMENT_LOCAL = 0, /* on this silo's CPU worker pool (the only one for now) */
    GB_PLACEMENT_RANDOM = 1,
    GB_PLACEMENT_HASH = 2,
    GB_PLACEMENT_LEAST_LOADED = 3
} gb_placement;

typedef struct gb_actor_type {
    const char *name;                  /* required, copied */
    size_t state_size;                 /* bytes of per-actor state, may be 0 */
    gb_actor_init_fn init;             /* optional */
    gb_actor_handler_fn handler;       /* required */
    gb_actor_deactivate_fn deactivate; /* optional: without it state is dropped */
    int64_t idle_timeout_ns;           /* 0 = never deactivated for idleness */
    int reentrant;                     /* 0 = non-reentrant (default) */
    gb_placement placement;
    void *user; /* returned by gb_ctx_type_user */
    /* optional: makes the type a device actor (docs/device_actors.md);
     * handler may then be NULL and init/deactivate/idle/reentrant do not
     * apply */
    const struct gb_actor_device *device;
} gb_actor_type;

/* The device part of an actor type: a handler in portable kernel C
 * (gpubridge/kernel_lang.h; see kernels/ring_api.gbk for what it may call)
 * that runs on a ring of the first available backend of `devices`. */
typedef struct gb_actor_device {
    const char *source;          /* the handler's portable C (e.g. from GB_DUAL_SOURCE), copied */
    const char *fn;              /* its name in source, copied */
    gb_ring_handler_fn host_fn;  /* the same handler compiled natively (the cpu ring) */
    uint32_t state_size;         /* bytes of device state per actor (0..65536), zeroed on activation */
    const char *devices;         /* fallback chain, e.g. "cuda,opencl,cpu"; NULL = that one;
                                  * the GB_DEVICES environment variable overrides it */
    gb_ring_mode mode;           /* GB_RING_PERSISTENT (default) or GB_RING_EVENT_DRIVEN */
    uint32_t lanes;              /* ring lanes, 0 = 4 */
} gb_actor_device;

/* Register an actor type (the descriptor is copied). Errors: GB_EINVAL
 * (NULL, no name or handler), GB_EEXIST (name already registered),
 * GB_ENOTSUP (a placement other than GB_PLACEMENT_LOCAL: placement across
 * silos comes with the cluster layer), GB_ECLOSED, GB_ENOMEM. Thread-safe. */
gb_status gb_actor_type_register(gb_silo *silo, const gb_actor_type *type);

/* The backend ("cpu", "opencl", ...) whose ring runs device type `type`,
 * starting the ring if it was not yet (it starts on the first message).
 * Errors: GB_EINVAL (NULL), GB_ENOENT (no such type), GB_ENOTSUP (not a
 * device type, or no backend of the chain is available: gb_last_error()
 * says why), GB_ECLOSED, and gb_ring_create's errors. Thread-safe. */
gb_status gb_actor_type_backend(gb_silo *silo, const char *type, const char **backend);

/* The latest calibration of the device clock of type's ring (the drain
 * thread refreshes it every second: host = rate * dev + b, with its error
 * bound). Errors: GB_EINVAL, GB_ENOENT, GB_ENOTSUP (not a device type),
 * GB_EAGAIN (ring not started or not calibrated yet). Thread-safe. */
gb_status gb_actor_type_clock(gb_silo *silo, const char *type, gb_clock_fit *out);

/* What happened to a device type's rings and actors (docs/device_actors.md). */
typedef struct gb_actor_device_stats {
    uint64_t failovers;         /* rings replaced after their device failed */
    uint64_t migrated_messages; /* accepted, unhandled messages moved to a replacement ring */
    uint64_t migrated_actors;   /* actor states moved to a replacement ring */
    uint64_t lost_messages;     /* accepted messages no ring could take (requests answered GB_EDEVICE) */
    uint64_t deactivations;     /* deactivations queued for idle actors (the device frees the state
                                 * slot, unless the actor has calls out) */
} gb_actor_device_stats;

/* A snapshot of device type `type`'s stats (all 0 before its ring starts).
 * Errors: GB_EINVAL (NULL), GB_ENOENT (no such type), GB_ENOTSUP (not a
 * device type). Thread-safe. */
gb_status gb_actor_type_device_stats(gb_silo *silo, const char *type, gb_actor_device_stats *out);

/* The device broker of device type `type` (starting its ring): one entry
 * per known backend of its chain, the health of each (a device whose ring
 * failed is unhealthy there, with the reason) and the fault switches
 * (gb_broker_inject_fault(b, backend, GB_OP_RING, n) makes the running
 * ring on that backend fail, which the type answers with a failover).
 * Owned by the silo, valid until gb_silo_destroy.
 * Errors: GB_EINVAL, GB_ENOENT, GB_ENOTSUP (not a device type, or it has no
 * broker: a malformed GB_FAULT, logged), and gb_actor_type_backend's.
 * Thread-safe. */
gb_status gb_actor_type_broker(gb_silo *silo, const char *type, gb_broker **out);

/* ---- Identity ------------------------------------------------------------ */

/* The stable id of (type, string key) / (type, integer key): the same in
 * every process and on every machine, never 0. Thread-safe. */
gb_actor_id gb_actor_id_str(const char *type, const char *key);
gb_actor_id gb_actor_id_u64(const char *type, uint64_t key);

/* Resolve (type, key) to its id on this silo and make the identity known to
 * the silo's directory (the actor is activated by its first message, not
 * here). Errors: GB_EINVAL (NULL), GB_ENOENT (type not registered),
 * GB_EEXIST (a different identity already has this 64-bit id), GB_ECLOSED,
 * GB_ENOMEM. Thread-safe. */
gb_status gb_actor_ref_str(gb_silo *silo, const char *type, const char *key, gb_actor_id *out);
gb_status gb_actor_ref_u64(gb_silo *silo, const char *type, uint64_t key, gb_actor_id *out);

/* ---- Messaging ----------------------------------------------------------- */

/* Completion of a call: status is GB_OK or the handler's error, GB_ETIMEDOUT,
 * GB_ECLOSED or GB_ENOMEM; payload (len bytes) is valid during the callback
 * only. ctx is the calling actor's turn for calls made with gb_ctx_call, NULL
 * for gb_call_cb (then it runs on a worker or the service thread). */
typedef void (*gb_reply_fn)(gb_actor_ctx *ctx, void *arg, gb_status status, const void *payload,
                            uint32_t len);

/* One-way message to target; from inside a handler the sender is the
 * running actor. Errors: GB_EINVAL (NULL, payload NULL with len > 0),
 * GB_ENOENT (target unknown: resolve it with gb_actor_ref_* first),
 * GB_EMSGSIZE (len > max_payload), GB_EAGAIN (mailbox full), GB_ECLOSED
 * (silo shutting down), GB_ENOMEM. Accepted messages are never lost, but
 * for one case: when the target's state cannot be allocated at activation,
 * the message is dropped, logged and counted (gb_silo_stats.dropped).
 * Thread-safe. */
gb_status gb_send(gb_silo *silo, gb_actor_id target, uint32_t method, const void *payload, uint32_t len);

/* Request/response from a thread that is not a worker: sends and blocks
 * (spin, then park) until the response or timeout_ns (<= 0: the silo's
 * default). Up to reply_cap bytes of the response go to reply; *reply_len
 * (may be NULL) gets the full length. Returns the handler's status, or
 * GB_ETIMEDOUT (a late response is dropped and counted, also when this thread
 * ran the target's turn itself and the handler replied after the deadline),
 * GB_EMSGSIZE (reply truncated), GB_ENOMEM (also: the target could not be
 * activated), GB_ECLOSED, or any gb_send error; on error gb_last_error()
 * says why. From inside a handler it returns GB_EINVAL: use gb_ctx_call.
 * Thread-safe. */
gb_status gb_call(gb_silo *silo, gb_actor_id target, uint32_t method, const void *payload, uint32_t len,
                  int64_t timeout_ns, void *reply, uint32_t reply_cap, uint32_t *reply_len);

/* Request/response completed through a future (poll or wait on it, then
 * release it). Errors: as gb_send; *out is NULL on error. Thread-safe. */
gb_status gb_call_async(gb_silo *silo, gb_actor_id target, uint32_t method, const void *payload, uint32_t len,
                        int64_t timeout_ns, gb_future **out);

/* Request/response completed by cb(NULL, arg, ...) on a worker or on the
 * service thread (keep it short). Errors: as gb_send; cb is not called on
 * error. Thread-safe. */
gb_status gb_call_cb(gb_silo *silo, gb_actor_id target, uint32_t method, const void *payload, uint32_t len,
                     int64_t timeout_ns, gb_reply_fn cb, void *arg);

/* GB_EAGAIN while the call is pending, else its final status. Thread-safe. */
gb_status gb_future_poll(const gb_future *f);

/* Block (spin, then park) until the call completes (its timeout bounds the
 * wait) and return its final status. Errors: GB_EINVAL (NULL). Thread-safe. */
gb_status gb_future_wait(gb_future *f);

/* The response payload of a completed future (NULL and *len = 0 while
 * pending or without payload). Valid until release. Thread-safe. */
const void *gb_future_payload(const gb_future *f, uint32_t *len);

/* Release the caller's reference; a pending call then completes unseen.
 * NULL is ignored. May be called after the silo is destroyed. */
void gb_future_release(gb_future *f);

/* ---- Inside a handler ----------------------------------------------------------
 * ctx is the turn being run: valid during the handler, init, deactivate hook
 * or gb_ctx_call callback it was given to, and only on that thread (these
 * functions are not for other threads). They accept ctx == NULL by returning
 * 0/NULL, or GB_EINVAL for the fallible ones. */

/* The running actor's id. */
gb_actor_id gb_ctx_self(const gb_actor_ctx *ctx);
/* The silo the actor lives on. */
gb_silo *gb_ctx_silo(const gb_actor_ctx *ctx);
/* The key: string (NULL for integer keys) or integer (0 for string keys). */
const char *gb_ctx_key_str(const gb_actor_ctx *ctx);
uint64_t gb_ctx_key_u64(const gb_actor_ctx *ctx);
/* The type's `user` pointer. */
void *gb_ctx_type_user(const gb_actor_ctx *ctx);
/* Nonzero once the actor has been deactivated at least once (so in init:
 * this activation is a reactivation). */
int gb_ctx_reactivated(const gb_actor_ctx *ctx);

/* One-way send from the running actor (same as gb_send from a handler).
 * Errors: as gb_send; GB_EAGAIN at a full mailbox whatever the full_policy
 * (a handler never blocks its worker). */
gb_status gb_ctx_send(gb_actor_ctx *ctx, gb_actor_id target, uint32_t method, const void *payload,
                      uint32_t len);

/* Call from the running actor; cb runs later in a turn of this actor. The
 * request carries this turn's call chain plus this actor. Errors: as gb_send,
 * and GB_EDEADLK when target is a non-reentrant actor already in the chain
 * (counted; nothing is sent), GB_ERANGE (chain longer than
 * GB_CALL_CHAIN_MAX). cb is not called on error. */
gb_status gb_ctx_call(gb_actor_ctx *ctx, gb_actor_id target, uint32_t method, const void *payload,
                      uint32_t len, int64_t timeout_ns, gb_reply_fn cb, void *arg);

/* Answer the request being handled now with status and payload.
 * Errors: GB_EINVAL (not a request, already answered or deferred,
 * payload NULL with len > 0), GB_EMSGSIZE, GB_ENOMEM. */
gb_status gb_ctx_reply(gb_actor_ctx *ctx, gb_status status, const void *payload, uint32_t len);

typedef struct gb_reply_token {
    uint64_t correlation;
} gb_reply_token;

/* Keep the request being handled open: the handler's return no longer
 * answers it; answer later (from any turn or thread) with gb_reply.
 * Errors: GB_EINVAL (not a request, or already answered or deferred). */
gb_status gb_ctx_defer_reply(gb_actor_ctx *ctx, gb_reply_token *out);

/* Answer a deferred request. Errors: GB_EINVAL (NULL, payload NULL with
 * len > 0), GB_EMSGSIZE, GB_ETIMEDOUT (the call had already completed, e.g.
 * timed out: the reply is dropped and counted as late). Thread-safe. */
gb_status gb_reply(gb_silo *silo, const gb_reply_token *token, gb_status status, const void *payload,
                   uint32_t len);

/* Start a timer that delivers a message (flags GB_MSG_TIMER, the given
 * method, an 8-byte payload holding the timer id) to the running actor after
 * due_ns, then every period_ns (0 = once). A tick is skipped while the
 * previous one is still queued; ticks do not keep an idle actor active.
 * Timers are cancelled on deactivation. Errors: GB_EINVAL (due_ns < 0,
 * period_ns < 0, NULL id), GB_ECLOSED, GB_ENOMEM. */
gb_status gb_ctx_timer_start(gb_actor_ctx *ctx, uint32_t method, int64_t due_ns, int64_t period_ns,
                             uint64_t *timer_id);

/* Cancel a timer of the running actor; a tick already queued is dropped.
 * Errors: GB_EINVAL (ctx NULL), GB_ENOENT (no such timer on this actor). */
gb_status gb_ctx_timer_cancel(gb_actor_ctx *ctx, uint64_t timer_id);

#ifdef __cplusplus
}
#endif
#endif
