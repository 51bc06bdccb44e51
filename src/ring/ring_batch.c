/*
 * Batched host sends and receives of a ring (gb_ring_send_batch,
 * gb_ring_recv_batch): the same protocol as gb_ring_send / gb_ring_recv in
 * ring.c, with the per-message atomics paid once per batch.
 *
 * Drain invariant (ring.c): the whole batch is added to shm->inflight
 * (seq_cst) before `closed` is checked, and what was not accepted is taken
 * back afterwards, so inflight never undercounts accepted messages; a
 * drain that reads 0 after `closed` has nothing left. Order: runs of one
 * lane go in batch order, one run after the other, so per-sender order per
 * actor is that of the batch.
 */
#include <string.h>

#include "base/error.h"
#include "gpubridge/time.h"
#include "ring/ring_internal.h"

#define GBI_BATCH_CHUNK 64u /* headers re-stamped with the type at a time */

/* Reject the whole batch before accepting anything. */
static gb_status check_batch(gb_ring *r, uint32_t type, const gb_msg_header *hdrs, const void *const *payloads,
                             uint32_t n, gb_send_policy policy)
{
    if (!r || (!hdrs && n))
        return gbi_error(GB_EINVAL, "ring_send_batch", "NULL ring or headers");
    if (type >= r->opts.ntypes || (unsigned)policy > GB_SEND_SPILL)
        return gbi_error(GB_EINVAL, "ring_send_batch", "type %u (of %u) or policy %d invalid", type,
                         r->opts.ntypes, (int)policy);
    uint32_t max = r->opts.slot_size - GB_MSG_HEADER_SIZE;
    for (uint32_t i = 0; i < n; i++) {
        if (hdrs[i].payload_len && (!payloads || !payloads[i]))
            return gbi_error(GB_EINVAL, "ring_send_batch", "message %u: NULL payload of %u bytes", i,
                             hdrs[i].payload_len);
        if (hdrs[i].payload_len > max)
            return gbi_error(GB_EMSGSIZE, "ring_send_batch", "message %u: payload of %u bytes exceeds %u", i,
                             hdrs[i].payload_len, max);
    }
    return GB_OK;
}

/* Send one chunk (n <= GBI_BATCH_CHUNK) lane run by lane run. */
static gb_status send_chunk(gb_ring *r, uint32_t type, const gb_msg_header *hdrs, const void *const *payloads,
                            uint32_t n, gb_send_policy policy, uint32_t *sent)
{
    gb_msg_header h[GBI_BATCH_CHUNK];
    memcpy(h, hdrs, n * sizeof *h);
    for (uint32_t i = 0; i < n; i++)
        h[i].reserved = type;
    *sent = 0;
    while (*sent < n) {
        uint32_t i = *sent, lane = gb_ring_lane(r, h[i].target), end = i + 1, k = 0;
        while (end < n && gb_ring_lane(r, h[end].target) == lane)
            end++;
        const void *const *p = payloads ? payloads + i : NULL;
        /* a blocking sender first queues what fits and wakes the consumer,
         * which may be parked, before it waits for room */
        gb_send_policy first = policy == GB_SEND_BLOCK ? GB_SEND_FAIL : policy;
        gb_status st = gbi_sender_send_batch(&r->senders[lane], h + i, p, end - i, first, &r->stop_waiters, &k);
        if (st == GB_EAGAIN && policy == GB_SEND_BLOCK) {
            if (k && r->ops->kick)
                r->ops->kick(r->exec, lane);
            *sent += k;
            k = 0;
            st = gbi_sender_send(&r->senders[lane], &h[*sent], p ? p[*sent - i] : NULL, policy, &r->stop_waiters);
            k = st == GB_OK;
        }
        *sent += k;
        if (k && r->ops->kick)
            r->ops->kick(r->exec, lane); /* after the run's messages were published */
        if (st != GB_OK)
            return st;
    }
    return GB_OK;
}

gb_status gb_ring_send_batch(gb_ring *r, uint32_t type, const gb_msg_header *hdrs, const void *const *payloads,
                             uint32_t n, gb_send_policy policy, uint32_t *sent)
{
    uint32_t total = 0;
    if (sent)
        *sent = 0;
    gb_status st = check_batch(r, type, hdrs, payloads, n, policy);
    if (st != GB_OK || n == 0)
        return st;
    if (atomic_load_explicit(&r->closed, memory_order_acquire))
        return gbi_error(GB_ECLOSED, "ring_send_batch", "the ring is stopping or stopped");
    gb_atomic_fetch_add_seq_cst(&r->shm->inflight, (uint64_t)n);
    if (atomic_load_explicit(&r->closed, memory_order_seq_cst)) {
        gb_atomic_fetch_add_seq_cst(&r->shm->inflight, (uint64_t)0 - n);
        return gbi_error(GB_ECLOSED, "ring_send_batch", "the ring is stopping or stopped");
    }
    while (st == GB_OK && total < n) {
        uint32_t c = n - total < GBI_BATCH_CHUNK ? n - total : GBI_BATCH_CHUNK, k = 0;
        st = send_chunk(r, type, hdrs + total, payloads ? payloads + total : NULL, c, policy, &k);
        total += k;
    }
    if (total < n) /* seq_cst, as every inflight update */
        gb_atomic_fetch_add_seq_cst(&r->shm->inflight, (uint64_t)0 - (n - total));
    if (sent)
        *sent = total;
    return st;
}

gb_status gb_ring_recv_batch(gb_ring *r, gb_msg_header *hdrs, void *payloads, size_t stride, uint32_t max,
                             uint32_t *got, int64_t timeout_ns)
{
    if (!r || !hdrs || !got || max == 0 || (!payloads && stride))
        return gbi_error(GB_EINVAL, "ring_recv_batch", "NULL ring, headers, count or payloads, or max 0");
    *got = 0;
    int64_t deadline = timeout_ns > 0 ? gb_time_monotonic_ns() + timeout_ns : 0;
    gbi_wait w; /* spin through a round trip, then yield, then sleep */
    gbi_wait_init(&w, atomic_load_explicit(&r->recv_spin_ns, memory_order_relaxed), GBI_WAIT_HOST_YIELD_NS);
    gb_mpsc_queue *q = gb_ring_out_queue(r->shm);
    for (;;) {
        gb_status st = GB_EAGAIN;
        if (gb_mpsc_peek(q)) { /* a look without the lock: a poll is two loads */
            pthread_mutex_lock(&r->recv_lock);
            st = gbi_mpsc_try_dequeue_batch(q, hdrs, payloads, stride, max, got);
            pthread_mutex_unlock(&r->recv_lock);
        }
        if (st == GB_OK)
            gbi_wait_adapt(&w, &r->recv_spin_ns, GBI_WAIT_HOST_SPIN_MIN_NS, GBI_WAIT_HOST_SPIN_NS);
        if (st != GB_EAGAIN)
            return st;
        if (timeout_ns <= 0 || w.now >= deadline) /* w.now: the wait's last clock read */
            return GB_EAGAIN;
        gbi_wait_step(&w, 1);
    }
}
