/*
 * Internal: host side of the ring queues.
 *
 * gb_mpsc_queue (kernels/ring_queue.gbk) is a struct over a caller-provided
 * buffer, so it can live in memory shared with a device. Here: sizing and
 * initialising that buffer, copying messages in and out from host threads,
 * and gbi_lane_sender, the host producer side of one lane: the queue plus a
 * host overflow list for GB_SEND_SPILL and the block/fail policies.
 */
#ifndef GBI_RING_QUEUE_H
#define GBI_RING_QUEUE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "gpubridge/ring.h"
#include "gpubridge/status.h"
#include "ring/kernels.h"

/* Bytes a queue of capacity slots of slot_size bytes needs (header, sequence
 * words, slots); 0 when capacity is not a power of two in 2..2^24 or
 * slot_size is not a power of two in 64..4096. Thread-safe. */
size_t gbi_mpsc_bytes(uint32_t capacity, uint32_t slot_size);

/* Lay a queue out over buf (len bytes, 128-byte aligned, at least
 * gbi_mpsc_bytes). Errors: GB_EINVAL. Not thread-safe (before any use). */
gb_status gbi_mpsc_init(void *buf, size_t len, uint32_t capacity, uint32_t slot_size, gb_mpsc_queue **out);

/* Copy hdr and hdr->payload_len bytes of payload into a free slot.
 * Errors: GB_EMSGSIZE (too big for a slot), GB_EAGAIN (full).
 * Lock-free, any number of producers. */
gb_status gbi_mpsc_try_enqueue(gb_mpsc_queue *q, const gb_msg_header *hdr, const void *payload);

/* Copy the head message out (header into *hdr, payload into payload, cap
 * bytes at most) and free its slot. Errors: GB_EAGAIN (empty), GB_EMSGSIZE
 * (payload larger than cap; the message stays). Single consumer only. */
gb_status gbi_mpsc_try_dequeue(gb_mpsc_queue *q, gb_msg_header *hdr, void *payload, size_t cap);

/* Copy hdrs[0..n) (payload i from payloads[i], hdrs[i].payload_len bytes;
 * payloads may be NULL when every length is 0) into consecutive slots with
 * one reservation. *done gets how many went in: a prefix, fewer than n when
 * the queue had less room or hdrs[*done] does not fit a slot.
 * Errors: GB_EAGAIN (full: none went in), GB_EMSGSIZE (hdrs[0] too big
 * for a slot). Lock-free, any number of producers. */
gb_status gbi_mpsc_try_enqueue_batch(gb_mpsc_queue *q, const gb_msg_header *hdrs, const void *const *payloads,
                                     uint32_t n, uint32_t *done);

/* Copy up to max head messages out (header i into hdrs[i], payload i to
 * payloads + i * stride, at most stride bytes) and free their slots with
 * one head store. *got gets how many; it stops before a message whose
 * payload is larger than stride (that one stays queued).
 * Errors: GB_EAGAIN (empty), GB_EMSGSIZE (the head message is larger than
 * stride: nothing taken). Single consumer only. */
gb_status gbi_mpsc_try_dequeue_batch(gb_mpsc_queue *q, gb_msg_header *hdrs, void *payloads, size_t stride,
                                     uint32_t max, uint32_t *got);

typedef struct gbi_queue_counters {
    uint64_t enqueued;   /* positions reserved so far (tail) */
    uint64_t dequeued;   /* positions consumed so far (head) */
    uint64_t depth;      /* enqueued - dequeued */
    uint64_t high_water; /* deepest seen */
    uint64_t full_hits;  /* reservations refused: full */
} gbi_queue_counters;

/* A snapshot of q's counters. Thread-safe. */
void gbi_mpsc_counters(gb_mpsc_queue *q, gbi_queue_counters *out);

typedef struct gbi_spill gbi_spill;

/* The host producer side of one lane. */
typedef struct gbi_lane_sender {
    gb_mpsc_queue *q;
    pthread_mutex_t lock;    /* guards the overflow list */
    gbi_spill *head, *tail;  /* overflow list, oldest first */
    _Atomic uint64_t spilled;    /* messages in the overflow list now */
    _Atomic uint64_t overflowed; /* messages ever spilled */
} gbi_lane_sender;

/* Errors: GB_ENOMEM (mutex). Not thread-safe. */
gb_status gbi_sender_init(gbi_lane_sender *s, gb_mpsc_queue *q);
/* Free the overflow list; returns how many messages it still held. */
uint64_t gbi_sender_destroy(gbi_lane_sender *s);

/* Send with a full-queue policy. While the overflow list is not empty every
 * message goes behind it (spill), waits (block) or is refused (fail), so a
 * sender's messages are never reordered. *stop != 0 ends a blocked wait.
 * Errors: GB_EAGAIN, GB_EMSGSIZE, GB_ENOMEM, GB_ECLOSED (*stop set while
 * blocked). Thread-safe. */
gb_status gbi_sender_send(gbi_lane_sender *s, const gb_msg_header *hdr, const void *payload,
                          gb_send_policy policy, const _Atomic int *stop);

/* gbi_sender_send for hdrs[0..n) in order (payloads as in
 * gbi_mpsc_try_enqueue_batch): whole runs go in with one reservation while
 * the overflow list is empty; when the queue is full the policy applies to
 * the next message. *sent gets how many were accepted (queued or spilled),
 * a prefix. Errors: gbi_sender_send's, for message *sent. Thread-safe. */
gb_status gbi_sender_send_batch(gbi_lane_sender *s, const gb_msg_header *hdrs, const void *const *payloads,
                                uint32_t n, gb_send_policy policy, const _Atomic int *stop, uint32_t *sent);

/* Move overflow messages into the queue while it has room; returns how
 * many moved. Thread-safe (any thread, usually the consumer or a service). */
uint32_t gbi_sender_pump(gbi_lane_sender *s);

/* Spin, then yield, then sleep (up to 200 us) as *round grows, counted in
 * rounds: 64 cpu relaxes, 32 yields, then sleeps. For waits whose latency
 * does not matter (drains); latency-sensitive waits use gbi_wait. Thread-safe. */
void gbi_backoff(uint32_t *round);

/* A bounded idle wait measured in time since its first step, so it behaves
 * the same whatever a cpu relax or a system call costs on this machine:
 *   spin   until spin_ns:  cpu relax, the clock read at the first step
 *          and every 16th;
 *   yield  until yield_ns: sched_yield, which hands the core over when
 *          another thread (the peer, on a shared core) wants it and
 *          returns at once otherwise;
 *   sleep  afterwards:     1 us, doubling to 200 us (or the caller parks).
 * A message that arrives within the spin window is seen within one relax;
 * within the yield window, within one system call. Not thread-safe (one
 * waiter per thread, on its stack). */
typedef struct gbi_wait {
    int64_t spin_ns, yield_ns; /* phase ends, from the first step */
    int64_t since;             /* clock at the first step */
    int64_t now;               /* clock at the last step that read it (0
                                * before the first): at most 16 spins old,
                                * so callers check deadlines against it
                                * instead of reading the clock per poll */
    uint32_t steps;            /* steps taken */
    uint32_t sleeps;           /* sleeps taken */
    int phase;                 /* GBI_WAIT_* of the last step */
} gbi_wait;

enum { GBI_WAIT_SPIN = 0, GBI_WAIT_YIELD = 1, GBI_WAIT_SLEEP = 2 };

/* Host receivers and blocked senders: spin 5 us (adaptive down to 1 us),
 * yield until 200 us. */
#define GBI_WAIT_HOST_SPIN_NS 5000
#define GBI_WAIT_HOST_SPIN_MIN_NS 1000
#define GBI_WAIT_HOST_YIELD_NS 200000

/* Start a wait (or restart it after progress). */
void gbi_wait_init(gbi_wait *w, int64_t spin_ns, int64_t yield_ns);

/* One idle step; returns its phase. With may_sleep 0 the sleep phase only
 * returns GBI_WAIT_SLEEP, and the caller parks its own way. */
int gbi_wait_step(gbi_wait *w, int may_sleep);

/* Adapt a party's spin budget (*spin_ns, the spin_ns of its next wait) to
 * how wait w ended, with progress: still spinning: double it, up to
 * max_ns; in the yield phase: halve it, down to min_ns (the answer came
 * only after this thread offered its core, which is what happens when the
 * peer shares that core: then spinning only delays the peer); later, or
 * without waiting: leave it. Thread-safe (relaxed: a hint). */
void gbi_wait_adapt(const gbi_wait *w, _Atomic int64_t *spin_ns, int64_t min_ns, int64_t max_ns);

#endif
