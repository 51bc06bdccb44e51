/*
 * Ring kernels (DESIGN.md 4.3): a dispatch loop on one device (or on CPU
 * threads) serving a shard of actors whose handlers are written in portable
 * kernel C (gpubridge/kernel_lang.h).
 *
 * A ring has N lanes; a message for actor `target` goes to lane
 * gb_hash_u64(target) % N, a bounded lock-free MPSC queue consumed by exactly
 * one thread, so each actor sees its messages one at a time, in order. Actor
 * state lives in ring memory (shared by host and device), activated (zeroed)
 * on the first message. Handlers answer on the outbound queue (read with
 * gb_ring_recv) and send to actors of the same ring without leaving the
 * device (K2K). The memory layout is in docs/rings.md.
 *
 * Typical use:
 *   gb_ring_actor_type t = { .name = "counter", .state_size = 16,
 *                            .on_message = counter_on_message,      // cpu
 *                            .device_fn = "counter_on_message" };  // opencl
 *   gb_ring_opts o = { .backend = "cpu", .types = &t, .ntypes = 1 };
 *   gb_ring *r; gb_ring_create(&r, &o); gb_ring_start(r);
 *   gb_ring_send(r, 0, &hdr, payload, GB_SEND_BLOCK);
 *   gb_ring_recv(r, &hdr, buf, sizeof buf, timeout_ns);
 *   gb_ring_stop(r, GB_RING_DRAIN); gb_ring_destroy(r);
 */
#ifndef GPUBRIDGE_RING_H
#define GPUBRIDGE_RING_H

#include <stddef.h>
#include <stdint.h>

#include "gpubridge/calibration.h"
#include "gpubridge/message.h"
#include "gpubridge/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gb_ring gb_ring;
struct gb_ring_ctx; /* defined by kernels/ring_api.gbk (kernel_lang.h dialect) */

/* A handler compiled for the host (the CPU backend): see kernels/ring_api.gbk
 * for what state, msg, hlc and ctx are and what the return value means. */
typedef int32_t (*gb_ring_handler_fn)(uint8_t *state, const gb_msg_header *msg, uint64_t hlc,
                                      struct gb_ring_ctx *ctx);

typedef enum gb_ring_mode {
    GB_RING_PERSISTENT = 0,  /* the loop runs (polls) until stopped */
    GB_RING_EVENT_DRIVEN = 1 /* consumers sleep / a short kernel runs per batch */
} gb_ring_mode;

typedef enum gb_send_policy {
    GB_SEND_FAIL = 0,  /* full lane: return GB_EAGAIN, nothing accepted */
    GB_SEND_BLOCK = 1, /* full lane: spin, then park, until there is room (room needs a started ring) */
    GB_SEND_SPILL = 2  /* full lane: keep it in the lane's host overflow list */
} gb_send_policy;

typedef enum gb_ring_stop_mode {
    GB_RING_DRAIN = 0, /* refuse new sends, handle everything accepted, stop */
    GB_RING_ABORT = 1  /* stop after the messages in hand; the rest is discarded (counted) */
} gb_ring_stop_mode;

typedef struct gb_ring_actor_type {
    const char *name;
    uint32_t state_size;          /* bytes of state per actor (0..65536) */
    gb_ring_handler_fn on_message; /* cpu backend */
    const char *device_fn;        /* name of the handler in opts.device_source */
} gb_ring_actor_type;

typedef struct gb_ring_opts {
    const char *backend;        /* "cpu" (NULL) or "opencl" */
    gb_ring_mode mode;
    uint32_t lanes;             /* 0 = 4; 1..1024 */
    uint32_t threads;           /* consumer threads, 0 = min(lanes, 2 cpu / 1 opencl) */
    uint32_t lane_capacity;     /* slots per lane, power of two, 0 = 1024 */
    uint32_t out_capacity;      /* outbound slots, power of two, 0 = 4096 */
    uint32_t slot_size;         /* power of two 64..4096, 0 = 256 */
    uint32_t actors_per_lane;   /* power of two, 0 = 1024 */
    uint32_t batch;             /* messages per lane per pass, 0 = 64 */
    const gb_ring_actor_type *types;
    uint32_t ntypes;            /* 1..64 */
    const char *device_source;  /* portable C of the handlers (opencl) */
    const char *build_options;  /* extra device compiler options, may be NULL */
} gb_ring_opts;

typedef struct gb_ring_counters {
    uint64_t enqueued;       /* messages accepted into lanes (host + K2K + pumped) */
    uint64_t handled;        /* messages handled */
    uint64_t depth;          /* messages in lanes now */
    uint64_t high_water;     /* deepest any lane has been */
    uint64_t full_hits;      /* reservations refused because a lane was full */
    uint64_t overflowed;     /* messages spilled to host overflow lists, total */
    uint64_t overflow_depth; /* messages in overflow lists now */
    uint64_t inflight;       /* accepted and not yet handled */
    uint64_t k2k_sent;       /* device-side sends to actors of this ring */
    uint64_t emitted;        /* messages handlers put on the outbound queue */
    uint64_t out_depth;      /* outbound messages not yet received */
    uint64_t send_failed;    /* handler sends refused (destination full, too big) */
    uint64_t handler_errors; /* handlers that returned an error */
    uint64_t unknown_type;   /* messages for an unknown or mismatched actor type */
    uint64_t table_full;     /* messages refused: the lane's actor table is full */
    uint64_t actors;         /* actors activated */
    uint64_t discarded;      /* accepted messages dropped by GB_RING_ABORT (and not taken out) */
    uint64_t deactivated;    /* actors whose table entry was freed (gb_ring_deactivate) */
} gb_ring_counters;

/* Create a ring (not yet consuming: gb_ring_start). Copies opts; the
 * strings in types and device_source are copied too. For "opencl" the
 * handlers are compiled here.
 * Errors: GB_EINVAL (bad option, NULL handler for cpu, missing device_fn or
 * device_source for opencl), GB_ENOMEM, GB_ENOTSUP (unknown backend, no
 * OpenCL library or platform: gb_last_error() says what to install),
 * GB_EPARSE (device build failed: the build log is in gb_last_error()),
 * GB_EDEVICE. Thread-safe. */
gb_status gb_ring_create(gb_ring **out, const gb_ring_opts *opts);

/* Stop (abort) if running and free everything; NULL is ignored. Not
 * thread-safe with other calls on the same ring. */
void gb_ring_destroy(gb_ring *ring);

/* Start consuming. Messages sent before start wait in the lanes.
 * Errors: GB_EBUSY (already started), GB_ECLOSED (already stopped),
 * GB_ENOMEM, GB_EDEVICE (threads or kernel launch failed). Call from one
 * thread (not concurrently with gb_ring_stop). */
gb_status gb_ring_start(gb_ring *ring);

/* Stop. GB_RING_DRAIN refuses new sends (GB_ECLOSED), waits until every
 * accepted message, overflow and K2K included, was handled, then stops the
 * consumers. GB_RING_ABORT stops them after their current message and
 * counts what was left as discarded. The outbound queue stays readable.
 * Errors: GB_EINVAL (bad mode), GB_EDEVICE (the backend failed; consumers
 * are stopped anyway). Idempotent. Call from one thread. */
gb_status gb_ring_stop(gb_ring *ring, gb_ring_stop_mode mode);

/* Send hdr (+ hdr->payload_len bytes of payload) to actor hdr->target of
 * actor type `type` (index into opts.types). The header is copied as given
 * except `reserved`, which carries the type inside the ring.
 * Errors: GB_EINVAL (NULL, bad type, payload NULL with length),
 * GB_EMSGSIZE (payload larger than slot_size - 48), GB_EAGAIN (full lane
 * and GB_SEND_FAIL), GB_ENOMEM (GB_SEND_SPILL could not allocate),
 * GB_ECLOSED (ring stopping or stopped). Thread-safe, lock-free on the fast
 * path; per-sender order per actor is kept whatever the policies. */
gb_status gb_ring_send(gb_ring *ring, uint32_t type, const gb_msg_header *hdr, const void *payload,
                       gb_send_policy policy);

/* Take the next outbound message (responses, emits) into *hdr and up to cap
 * payload bytes. Waits up to timeout_ns (0: poll once).
 * Errors: GB_EINVAL (NULL), GB_EAGAIN (nothing within the timeout),
 * GB_EMSGSIZE (payload larger than cap: the message stays queued).
 * Thread-safe (receivers are serialised). */
gb_status gb_ring_recv(gb_ring *ring, gb_msg_header *hdr, void *payload, size_t cap, int64_t timeout_ns);

/* Send n messages in order, as n gb_ring_send calls would, with fewer
 * atomic operations: consecutive messages for the same lane go in with one
 * reservation of consecutive slots, and the in-flight count and the
 * consumer's wakeup are paid once per batch or lane run, not per message.
 * Message i is hdrs[i] with hdrs[i].payload_len bytes from payloads[i]
 * (payloads may be NULL when every length is 0), to actor hdrs[i].target of
 * actor type `type`; `reserved` is replaced by the type as in gb_ring_send.
 * The policy applies to each message that meets a full lane. *sent (may be
 * NULL) gets how many were accepted: always a prefix of the batch, all n
 * on GB_OK; per-actor order is kept as for single sends. Runs of
 * consecutive messages to one lane share a reservation, so a caller that
 * groups its batch by gb_ring_lane() gets the most out of it.
 * Errors, with nothing accepted: GB_EINVAL (NULL ring or hdrs with n > 0,
 * bad type or policy, a payload NULL with a length), GB_EMSGSIZE (a
 * payload larger than slot_size - 48), GB_ECLOSED (ring stopping or
 * stopped). Errors after *sent messages were accepted: GB_EAGAIN (full
 * lane under GB_SEND_FAIL), GB_ENOMEM (GB_SEND_SPILL could not allocate),
 * GB_ECLOSED (the ring stopped while GB_SEND_BLOCK waited).
 * Thread-safe, lock-free on the fast path. */
gb_status gb_ring_send_batch(gb_ring *ring, uint32_t type, const gb_msg_header *hdrs, const void *const *payloads,
                             uint32_t n, gb_send_policy policy, uint32_t *sent);

/* Take up to max outbound messages in order: header i into hdrs[i], its
 * payload into payloads + i * stride (at most stride bytes each; payloads
 * may be NULL when stride is 0). Waits up to timeout_ns (0: poll once) for
 * the first message, then takes what is there without waiting for more;
 * the slots are freed with one store. *got gets how many (>= 1 on GB_OK).
 * It stops before a message whose payload is larger than stride.
 * Errors: GB_EINVAL (NULL ring, hdrs or got, max 0, payloads NULL with a
 * stride), GB_EAGAIN (nothing within the timeout), GB_EMSGSIZE (the first
 * message's payload is larger than stride: it stays queued).
 * Thread-safe (receivers are serialised, with gb_ring_recv too). */
gb_status gb_ring_recv_batch(gb_ring *ring, gb_msg_header *hdrs, void *payloads, size_t stride, uint32_t max,
                             uint32_t *got, int64_t timeout_ns);

/* Live counters (a snapshot; each field is read atomically).
 * Errors: GB_EINVAL. Thread-safe. */
gb_status gb_ring_get_counters(gb_ring *ring, gb_ring_counters *out);

typedef struct gb_ring_lane_counters {
    uint64_t enqueued;       /* messages ever accepted into this lane's queue */
    uint64_t dequeued;       /* messages ever taken out (handled or being handled) */
    uint64_t depth;          /* in the queue now */
    uint64_t high_water;     /* deepest the queue has been */
    uint64_t full_hits;      /* reservations refused: full */
    uint64_t overflowed;     /* messages ever spilled to the host overflow list */
    uint64_t overflow_depth; /* in the overflow list now */
    uint64_t handled;
    uint64_t actors;         /* actors activated on this lane */
} gb_ring_lane_counters;

/* Live counters of one lane (queue-depth aware placement reads these).
 * Errors: GB_EINVAL (NULL), GB_ERANGE (lane >= lanes). Thread-safe. */
gb_status gb_ring_get_lane_counters(gb_ring *ring, uint32_t lane, gb_ring_lane_counters *out);

/* Copy actor id's state (up to len bytes) into buf. Only while the ring is
 * not running (before start or after stop).
 * Errors: GB_EINVAL, GB_EBUSY (running), GB_ENOENT (no such actor).
 * Not thread-safe with start/stop. */
gb_status gb_ring_read_state(gb_ring *ring, uint64_t id, void *buf, size_t len);

/* The lane of actor id: gb_hash_u64(id) % lanes. Thread-safe. */
uint32_t gb_ring_lane(const gb_ring *ring, uint64_t id);

/* The backend name ("cpu", "opencl") and bytes of shared ring memory.
 * Thread-safe. */
const char *gb_ring_backend(const gb_ring *ring);
size_t gb_ring_memory_bytes(const gb_ring *ring);

/* ---- failover and deactivation (docs/rings.md "Failover") ----------------- */

/* GB_OK while the ring's consumers can make progress (always once
 * gb_ring_stop began), else the executor's failure (GB_EDEVICE: a kernel
 * that failed, a lost device). Errors: GB_EINVAL (NULL). Thread-safe. */
gb_status gb_ring_health(gb_ring *ring);

/* A message taken out of a stopped ring: its actor type, its header
 * (reserved = 0) and payload (hdr->payload_len bytes, valid during the call). */
typedef void (*gb_ring_msg_fn)(void *arg, uint32_t type, const gb_msg_header *hdr, const void *payload);

/* Take every accepted but unhandled message out of a stopped ring (stopped
 * with GB_RING_ABORT, or a drain that failed), lane by lane, each lane in
 * queue order and then its host overflow list in order, so each actor's
 * messages (and each sender's, per actor) come out in the order they were
 * accepted. First waits for host senders still inside gb_ring_send (they
 * finish or are refused at once: the ring is closed). The messages leave
 * the ring: inflight and discarded go down by their number, *taken (may be
 * NULL) gets it. A message a consumer was handling when it died (a device
 * failure, not an abort) was not popped and is taken too (at-least-once).
 * Errors: GB_EINVAL (NULL), GB_EBUSY (not stopped), GB_ENOMEM.
 * Not thread-safe with other calls that change this ring (start, stop). */
gb_status gb_ring_take_pending(gb_ring *ring, gb_ring_msg_fn fn, void *arg, uint64_t *taken);

/* An actor of a ring: type, id, the calls it has out (gb_ring_begin_call
 * not yet answered: its replies will come back to it) and its state
 * (state_size bytes: the ring's state stride, valid during the call). */
typedef void (*gb_ring_actor_fn)(void *arg, uint32_t type, uint64_t id, uint32_t calls_out, const void *state,
                                 uint32_t state_size);

/* Call fn for every active actor of a ring that is not running (before
 * start or after stop); *count (may be NULL) gets how many.
 * Errors: GB_EINVAL (NULL), GB_EBUSY (running). Not thread-safe with
 * start/stop. */
gb_status gb_ring_export_actors(gb_ring *ring, gb_ring_actor_fn fn, void *arg, uint64_t *count);

/* Activate actor id of `type` on a ring that has not started, with its
 * state set to the len bytes at state (the rest zero) and calls_out calls
 * out (as exported; such an actor is not deactivated until their replies
 * came back): the first message to it then finds that state instead of a
 * zeroed one.
 * Errors: GB_EINVAL (NULL, type out of range, len above the ring's state
 * stride, calls_out above 2^31 - 1), GB_EBUSY (the ring was started), GB_EEXIST (id already active),
 * GB_ENOMEM (its lane's actor table is full). Not thread-safe with
 * start or other imports. */
gb_status gb_ring_import_actor(gb_ring *ring, uint32_t type, uint64_t id, uint32_t calls_out, const void *state,
                               size_t len);

/* Queue a deactivation of actor id (of `type`) behind the messages already
 * accepted for it: when its lane reaches it, the actor's table entry and
 * state are freed (counted in deactivated); a later message activates it
 * again with a zeroed state. An actor that is not active, or that has
 * calls out (gb_ring_begin_call not yet answered), is left alone.
 * Never refused by a full lane (spills). Errors: those of gb_ring_send
 * (GB_EINVAL, GB_ECLOSED, GB_ENOMEM). Thread-safe. */
gb_status gb_ring_deactivate(gb_ring *ring, uint32_t type, uint64_t id);

/* ---- device time (docs/device_time.md) ----------------------------------- */

/* Send one clock ping: a GB_MSG_SYSTEM message that the dispatch loop
 * answers at once on the outbound queue (flags RESPONSE | SYSTEM,
 * correlation = token, payload [device timer ns, ring hlc]); the host's
 * fast clock before the send goes to *host_send_ns.
 * Errors: GB_EINVAL, and gb_ring_send's (GB_EAGAIN: lane full). Thread-safe. */
gb_status gb_ring_clock_ping(gb_ring *ring, uint64_t token, int64_t *host_send_ns);

/* Whether an outbound message is the answer to a clock ping. Thread-safe. */
int gb_ring_clock_is_reply(const gb_msg_header *hdr);

/* Outbound messages met during an exchange that are not clock replies. */
typedef void (*gb_ring_other_fn)(void *arg, const gb_msg_header *hdr, const void *payload);

/* n ping-pongs, one at a time, into samples (host send, device timer, host
 * receive; host times from gb_time_fast_ns); *filled (may be NULL) gets how
 * many completed. The caller must be the ring's only receiver: every other
 * outbound message (stale clock replies included) is passed to on_other
 * (NULL: dropped). timeout_ns (<= 0: 1 s) bounds each exchange.
 * Errors: GB_EINVAL, GB_ETIMEDOUT, GB_ENOTSUP (the device has no timer),
 * gb_ring_send's. */
gb_status gb_ring_clock_exchange(gb_ring *ring, gb_clock_sample *samples, uint32_t n, uint32_t *filled,
                                 gb_ring_other_fn on_other, void *arg, int64_t timeout_ns);

/* Publish a calibration (device timer -> host fast clock) to the device:
 * from now on the ring HLC ticks with physical time (realtime ns) computed
 * on the device from its timer. Errors: GB_EINVAL. Thread-safe. */
gb_status gb_ring_set_clock(gb_ring *ring, const gb_clock_fit *fit);

/* Exchange `samples` pings (1..1024), fit them (gb_clock_fit_samples, keeping the 10% fastest; drift
 * only over a span of 100 ms or more, so one burst gives rate 1) and
 * publish the fit. The caller must be the only receiver.
 * Errors: as gb_ring_clock_exchange, gb_clock_fit_samples. */
gb_status gb_ring_calibrate(gb_ring *ring, uint32_t samples, gb_clock_fit *out);

/* The ring HLC (last stamp issued on the device). Thread-safe. */
uint64_t gb_ring_hlc(const gb_ring *ring);

#ifdef __cplusplus
}
#endif
#endif
