/*
 * Host side of the ring queues: layout of a gb_mpsc_queue over a caller's
 * buffer, copying messages in and out, and the lane sender with its host
 * overflow list (GB_SEND_SPILL) and block/fail policies. The lock-free
 * algorithm itself is kernels/ring_queue.gbk, shared with the devices.
 *
 * Overflow invariant: a message goes into the queue directly only while the
 * overflow list is empty (checked under the lock when it is not), and the
 * pump moves the list into the queue in order under the same lock; so a
 * sender's messages to one lane reach the consumer in send order.
 */
#include "ring/queue.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "gpubridge/time.h"

struct gbi_spill {
    gbi_spill *next;
    gb_msg_header hdr;
    unsigned char payload[];
};

static int is_pow2(uint64_t x)
{
    return x && !(x & (x - 1));
}

static size_t round_up(size_t x, size_t a)
{
    return (x + a - 1) & ~(a - 1);
}

size_t gbi_mpsc_bytes(uint32_t capacity, uint32_t slot_size)
{
    if (!is_pow2(capacity) || capacity < 2 || capacity > (1u << 24))
        return 0;
    if (gb_msg_max_payload(slot_size) == 0)
        return 0;
    size_t slots_off = round_up(GB_MPSC_HEADER_BYTES + 8u * (size_t)capacity, 128);
    return slots_off + (size_t)capacity * slot_size;
}

gb_status gbi_mpsc_init(void *buf, size_t len, uint32_t capacity, uint32_t slot_size, gb_mpsc_queue **out)
{
    size_t need = gbi_mpsc_bytes(capacity, slot_size);
    if (!buf || !out || need == 0)
        return gbi_error(GB_EINVAL, "mpsc_init", "capacity %u / slot size %u invalid or no buffer",
                         capacity, slot_size);
    if (len < need || ((uintptr_t)buf & 127))
        return gbi_error(GB_EINVAL, "mpsc_init", "buffer of %zu bytes at %p: need %zu bytes, 128-aligned",
                         len, buf, need);
    gb_mpsc_queue *q = buf;
    memset(q, 0, GB_MPSC_HEADER_BYTES);
    q->magic = GB_MPSC_MAGIC;
    q->capacity = capacity;
    q->mask = capacity - 1;
    q->slot_size = slot_size;
    q->seq_off = GB_MPSC_HEADER_BYTES;
    q->slots_off = round_up(GB_MPSC_HEADER_BYTES + 8u * (size_t)capacity, 128);
    q->total_bytes = need;
    for (uint32_t i = 0; i < capacity; i++)
        atomic_init(gb_mpsc_seq(q, i), i);
    atomic_init(&q->tail, 0);
    atomic_init(&q->head, 0);
    atomic_init(&q->high_water, 0);
    atomic_init(&q->full_hits, 0);
    /* release: a consumer or producer that starts later sees the layout */
    atomic_thread_fence(memory_order_release);
    *out = q;
    return GB_OK;
}

gb_status gbi_mpsc_try_enqueue(gb_mpsc_queue *q, const gb_msg_header *hdr, const void *payload)
{
    if (hdr->payload_len > q->slot_size - GB_MSG_HEADER_SIZE)
        return gbi_error(GB_EMSGSIZE, "mpsc_enqueue", "payload of %u bytes exceeds the %u-byte slot",
                         hdr->payload_len, q->slot_size);
    uint64_t pos;
    if (!gb_mpsc_reserve(q, &pos))
        return GB_EAGAIN;
    gb_msg_header *slot = gb_mpsc_slot(q, pos);
    memcpy(slot, hdr, sizeof *slot);
    if (hdr->payload_len)
        memcpy(gb_msg_payload(slot), payload, hdr->payload_len);
    gb_mpsc_publish(q, pos);
    return GB_OK;
}

gb_status gbi_mpsc_try_dequeue(gb_mpsc_queue *q, gb_msg_header *hdr, void *payload, size_t cap)
{
    gb_msg_header *m = gb_mpsc_peek(q);
    if (!m)
        return GB_EAGAIN;
    if (m->payload_len > cap)
        return gbi_error(GB_EMSGSIZE, "mpsc_dequeue", "payload of %u bytes, buffer of %zu", m->payload_len,
                         cap);
    memcpy(hdr, m, sizeof *hdr);
    if (m->payload_len)
        memcpy(payload, gb_msg_payload(m), m->payload_len);
    gb_mpsc_pop(q);
    return GB_OK;
}

/* How many of hdrs[0..n) fit a slot of q, from the first on. */
static uint32_t fitting_prefix(const gb_mpsc_queue *q, const gb_msg_header *hdrs, uint32_t n)
{
    uint32_t m = 0;
    while (m < n && hdrs[m].payload_len <= q->slot_size - GB_MSG_HEADER_SIZE)
        m++;
    return m;
}

gb_status gbi_mpsc_try_enqueue_batch(gb_mpsc_queue *q, const gb_msg_header *hdrs, const void *const *payloads,
                                     uint32_t n, uint32_t *done)
{
    *done = 0;
    if (n == 0)
        return GB_OK;
    uint32_t m = fitting_prefix(q, hdrs, n);
    if (m == 0)
        return gbi_error(GB_EMSGSIZE, "mpsc_enqueue", "payload of %u bytes exceeds the %u-byte slot",
                         hdrs[0].payload_len, q->slot_size);
    uint64_t pos;
    uint32_t k = gb_mpsc_reserve_n(q, m, &pos);
    if (k == 0)
        return GB_EAGAIN;
    for (uint32_t i = 0; i < k; i++) {
        gb_msg_header *slot = gb_mpsc_slot(q, pos + i);
        memcpy(slot, &hdrs[i], sizeof *slot);
        if (hdrs[i].payload_len)
            memcpy(gb_msg_payload(slot), payloads[i], hdrs[i].payload_len);
        gb_mpsc_publish(q, pos + i);
    }
    *done = k;
    return GB_OK;
}

gb_status gbi_mpsc_try_dequeue_batch(gb_mpsc_queue *q, gb_msg_header *hdrs, void *payloads, size_t stride,
                                     uint32_t max, uint32_t *got)
{
    uint32_t i = 0;
    *got = 0;
    for (gb_msg_header *m; i < max && (m = gb_mpsc_peek_at(q, i)) != NULL; i++) {
        if (m->payload_len > stride) {
            if (i > 0)
                break; /* handed out next time, or refused then */
            return gbi_error(GB_EMSGSIZE, "mpsc_dequeue", "payload of %u bytes, room for %zu", m->payload_len,
                             stride);
        }
        memcpy(&hdrs[i], m, sizeof *m);
        if (m->payload_len)
            memcpy((char *)payloads + (size_t)i * stride, gb_msg_payload(m), m->payload_len);
    }
    if (i == 0)
        return GB_EAGAIN;
    gb_mpsc_pop_n(q, i);
    *got = i;
    return GB_OK;
}

void gbi_mpsc_counters(gb_mpsc_queue *q, gbi_queue_counters *out)
{
    out->dequeued = atomic_load_explicit(&q->head, memory_order_acquire);
    out->enqueued = atomic_load_explicit(&q->tail, memory_order_acquire);
    out->depth = out->enqueued > out->dequeued ? out->enqueued - out->dequeued : 0;
    out->high_water = atomic_load_explicit(&q->high_water, memory_order_relaxed);
    out->full_hits = atomic_load_explicit(&q->full_hits, memory_order_relaxed);
}

void gbi_backoff(uint32_t *round)
{
    uint32_t r = (*round)++;
    if (r < 64) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
        return;
    }
    if (r < 96) {
        sched_yield();
        return;
    }
    uint32_t shift = r - 96 < 8 ? r - 96 : 8;
    struct timespec ts = {0, (long)(1000u << shift) < 200000 ? (long)(1000u << shift) : 200000};
    nanosleep(&ts, NULL);
}

void gbi_wait_init(gbi_wait *w, int64_t spin_ns, int64_t yield_ns)
{
    *w = (gbi_wait){.spin_ns = spin_ns, .yield_ns = yield_ns, .phase = GBI_WAIT_SPIN};
}

/* Read the clock (every 16 spins, and at every later step: a clock read
 * costs as much as a few relaxes) and move to the next phase when its time
 * is up. */
static void wait_advance(gbi_wait *w)
{
    if (w->phase == GBI_WAIT_SPIN && (w->steps & 15) != 0)
        return;
    w->now = gb_time_monotonic_ns();
    int64_t spent = w->now - w->since;
    if (w->phase == GBI_WAIT_SPIN && spent >= w->spin_ns)
        w->phase = GBI_WAIT_YIELD;
    if (w->phase == GBI_WAIT_YIELD && spent >= w->yield_ns)
        w->phase = GBI_WAIT_SLEEP;
}

int gbi_wait_step(gbi_wait *w, int may_sleep)
{
    if (w->steps++ == 0)
        w->since = w->now = gb_time_monotonic_ns();
    else
        wait_advance(w);
    if (w->phase == GBI_WAIT_SPIN) {
        gb_cpu_relax();
    } else if (w->phase == GBI_WAIT_YIELD) {
        sched_yield();
    } else if (may_sleep) {
        uint32_t shift = w->sleeps < 8 ? w->sleeps : 8;
        w->sleeps++;
        long ns = (long)(1000u << shift) < 200000 ? (long)(1000u << shift) : 200000;
        struct timespec ts = {0, ns};
        nanosleep(&ts, NULL);
    }
    return w->phase;
}

void gbi_wait_adapt(const gbi_wait *w, _Atomic int64_t *spin_ns, int64_t min_ns, int64_t max_ns)
{
    if (w->steps == 0 || w->phase == GBI_WAIT_SLEEP)
        return;
    int64_t cur = atomic_load_explicit(spin_ns, memory_order_relaxed);
    int64_t next = w->phase == GBI_WAIT_SPIN ? cur * 2 : cur / 2;
    next = next < min_ns ? min_ns : next > max_ns ? max_ns : next;
    if (next != cur)
        atomic_store_explicit(spin_ns, next, memory_order_relaxed);
}

gb_status gbi_sender_init(gbi_lane_sender *s, gb_mpsc_queue *q)
{
    memset(s, 0, sizeof *s);
    s->q = q;
    atomic_init(&s->spilled, 0);
    atomic_init(&s->overflowed, 0);
    if (pthread_mutex_init(&s->lock, NULL) != 0)
        return gbi_error(GB_ENOMEM, "sender_init", "pthread_mutex_init failed");
    return GB_OK;
}

uint64_t gbi_sender_destroy(gbi_lane_sender *s)
{
    uint64_t left = 0;
    for (gbi_spill *p = s->head, *next; p; p = next) {
        next = p->next;
        free(p);
        left++;
    }
    s->head = s->tail = NULL;
    pthread_mutex_destroy(&s->lock);
    return left;
}

/* Append to the overflow list; lock held. */
static gb_status spill_locked(gbi_lane_sender *s, const gb_msg_header *hdr, const void *payload)
{
    gbi_spill *p = malloc(sizeof *p + hdr->payload_len);
    if (!p)
        return gbi_error(GB_ENOMEM, "ring_send", "no memory to spill a %u-byte payload", hdr->payload_len);
    p->next = NULL;
    p->hdr = *hdr;
    if (hdr->payload_len)
        memcpy(p->payload, payload, hdr->payload_len);
    if (s->tail)
        s->tail->next = p;
    else
        s->head = p;
    s->tail = p;
    atomic_fetch_add_explicit(&s->spilled, 1, memory_order_seq_cst);
    atomic_fetch_add_explicit(&s->overflowed, 1, memory_order_relaxed);
    return GB_OK;
}

/* One attempt under the policy; GB_EAGAIN means "full, overflow busy". */
static gb_status send_once(gbi_lane_sender *s, const gb_msg_header *hdr, const void *payload,
                           gb_send_policy policy)
{
    /* seq_cst: a sender that spilled sees its own count (program order);
     * others need no order against it (different senders are concurrent) */
    if (atomic_load_explicit(&s->spilled, memory_order_seq_cst) == 0) {
        gb_status st = gbi_mpsc_try_enqueue(s->q, hdr, payload);
        if (st != GB_EAGAIN || policy != GB_SEND_SPILL)
            return st;
    }
    pthread_mutex_lock(&s->lock);
    gb_status st = GB_EAGAIN;
    if (s->head == NULL)
        st = gbi_mpsc_try_enqueue(s->q, hdr, payload);
    if (st == GB_EAGAIN && policy == GB_SEND_SPILL)
        st = spill_locked(s, hdr, payload);
    pthread_mutex_unlock(&s->lock);
    return st;
}

gb_status gbi_sender_send(gbi_lane_sender *s, const gb_msg_header *hdr, const void *payload,
                          gb_send_policy policy, const _Atomic int *stop)
{
    if (hdr->payload_len > s->q->slot_size - GB_MSG_HEADER_SIZE)
        return gbi_error(GB_EMSGSIZE, "ring_send", "payload of %u bytes exceeds the %u-byte slot",
                         hdr->payload_len, s->q->slot_size);
    gbi_wait w;
    gbi_wait_init(&w, GBI_WAIT_HOST_SPIN_NS, GBI_WAIT_HOST_YIELD_NS);
    for (;;) {
        gb_status st = send_once(s, hdr, payload, policy);
        if (st != GB_EAGAIN || policy != GB_SEND_BLOCK)
            return st;
        if (stop && atomic_load_explicit(stop, memory_order_acquire))
            return gbi_error(GB_ECLOSED, "ring_send", "the ring stopped while the sender waited for room");
        gbi_wait_step(&w, 1);
    }
}

gb_status gbi_sender_send_batch(gbi_lane_sender *s, const gb_msg_header *hdrs, const void *const *payloads,
                                uint32_t n, gb_send_policy policy, const _Atomic int *stop, uint32_t *sent)
{
    *sent = 0;
    while (*sent < n) {
        uint32_t i = *sent, done = 0;
        /* fast path while the overflow list is empty (seq_cst: as in send_once) */
        if (atomic_load_explicit(&s->spilled, memory_order_seq_cst) == 0) {
            gb_status st = gbi_mpsc_try_enqueue_batch(s->q, hdrs + i, payloads ? payloads + i : NULL, n - i,
                                                      &done);
            *sent += done;
            if (st == GB_OK)
                continue;
            if (st != GB_EAGAIN)
                return st;
        }
        /* full (or spilling): one message under the policy, then try again */
        gb_status st = gbi_sender_send(s, &hdrs[i], payloads ? payloads[i] : NULL, policy, stop);
        if (st != GB_OK)
            return st;
        (*sent)++;
    }
    return GB_OK;
}

uint32_t gbi_sender_pump(gbi_lane_sender *s)
{
    if (atomic_load_explicit(&s->spilled, memory_order_acquire) == 0)
        return 0;
    uint32_t moved = 0;
    pthread_mutex_lock(&s->lock);
    while (s->head) {
        gbi_spill *p = s->head;
        if (gbi_mpsc_try_enqueue(s->q, &p->hdr, p->payload) != GB_OK)
            break;
        s->head = p->next;
        if (!s->head)
            s->tail = NULL;
        free(p);
        atomic_fetch_sub_explicit(&s->spilled, 1, memory_order_seq_cst);
        moved++;
    }
    pthread_mutex_unlock(&s->lock);
    return moved;
}
