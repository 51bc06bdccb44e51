/*
 * The ring object on the host side: option checking, the shared memory
 * layout (docs/rings.md), host senders (gb_ring_send with its full-queue
 * policies), the outbound receiver, start/stop with drain, counters and
 * state reads. Who consumes the lanes (CPU threads, an OpenCL kernel) is an
 * executor from the device layer, reached through gbi_ring_exec_ops;
 * gb_ring_create, which picks the executor, lives in src/device/ring_create.c.
 *
 * Drain invariant: shm->inflight counts messages accepted (host sends, K2K
 * sends, spilled ones) and not yet handled. A host sender increments it
 * before checking `closed` and a handler's K2K sends are counted before the
 * handler's own message is uncounted, so once `closed` is set and inflight
 * reads 0, nothing accepted is left anywhere and nothing new can arrive.
 */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "gpubridge/hash.h"
#include "gpubridge/time.h"
#include "ring/ring_internal.h"

#define GBI_MAX_LANES 1024u
#define GBI_MAX_TYPES 64u
#define GBI_MAX_STATE 65536u

static int pow2(uint32_t x)
{
    return x && !(x & (x - 1));
}

static size_t up128(size_t x)
{
    return (x + 127) & ~(size_t)127;
}

static gb_status check_sizes(const gb_ring_opts *n)
{
    if (n->lanes == 0 || n->lanes > GBI_MAX_LANES)
        return gbi_error(GB_EINVAL, "ring_create", "lanes %u not in 1..%u", n->lanes, GBI_MAX_LANES);
    if (n->threads == 0 || n->threads > n->lanes)
        return gbi_error(GB_EINVAL, "ring_create", "threads %u not in 1..lanes (%u)", n->threads, n->lanes);
    if (gbi_mpsc_bytes(n->lane_capacity, n->slot_size) == 0 || gbi_mpsc_bytes(n->out_capacity, n->slot_size) == 0)
        return gbi_error(GB_EINVAL, "ring_create",
                         "capacities (%u lane, %u out) must be powers of two 2..2^24 and slot size %u a "
                         "power of two 64..4096",
                         n->lane_capacity, n->out_capacity, n->slot_size);
    if (!pow2(n->actors_per_lane) || n->actors_per_lane > (1u << 20))
        return gbi_error(GB_EINVAL, "ring_create", "actors_per_lane %u must be a power of two up to 2^20",
                         n->actors_per_lane);
    return GB_OK;
}

gb_status gbi_ring_normalize(const gb_ring_opts *opts, gb_ring_opts *n)
{
    if (!opts)
        return gbi_error(GB_EINVAL, "ring_create", "opts is NULL");
    *n = *opts;
    if (!n->backend)
        n->backend = "cpu";
    if (n->mode != GB_RING_PERSISTENT && n->mode != GB_RING_EVENT_DRIVEN)
        return gbi_error(GB_EINVAL, "ring_create", "unknown mode %d", (int)n->mode);
    n->lanes = n->lanes ? n->lanes : 4;
    if (!n->threads) {
        uint32_t t = strcmp(n->backend, "cpu") == 0 ? 2 : 1;
        n->threads = n->lanes < t ? n->lanes : t;
    }
    n->lane_capacity = n->lane_capacity ? n->lane_capacity : 1024;
    n->out_capacity = n->out_capacity ? n->out_capacity : 4096;
    n->slot_size = n->slot_size ? n->slot_size : GB_MSG_SLOT_DEFAULT;
    n->actors_per_lane = n->actors_per_lane ? n->actors_per_lane : 1024;
    n->batch = n->batch ? n->batch : 64;
    if (!n->types || n->ntypes == 0 || n->ntypes > GBI_MAX_TYPES)
        return gbi_error(GB_EINVAL, "ring_create", "need 1..%u actor types, got %u", GBI_MAX_TYPES, n->ntypes);
    for (uint32_t i = 0; i < n->ntypes; i++)
        if (n->types[i].state_size > GBI_MAX_STATE)
            return gbi_error(GB_EINVAL, "ring_create", "type %u: state_size %u above %u", i,
                             n->types[i].state_size, GBI_MAX_STATE);
    return check_sizes(n);
}

static uint32_t state_stride(const gb_ring_opts *n)
{
    uint32_t s = 16;
    for (uint32_t i = 0; i < n->ntypes; i++)
        if (n->types[i].state_size > s)
            s = n->types[i].state_size;
    return (s + 15) & ~15u;
}

/* Fill the config line and the lane blocks' offsets; sizes come from n. */
static size_t layout(gb_ring_shm *h, const gb_ring_opts *n)
{
    h->magic = GB_RING_MAGIC;
    h->version = GB_RING_VERSION;
    h->lanes = n->lanes;
    h->threads = n->threads;
    h->slot_size = n->slot_size;
    h->lane_capacity = n->lane_capacity;
    h->out_capacity = n->out_capacity;
    h->table_size = n->actors_per_lane;
    h->state_size = state_stride(n);
    h->ntypes = n->ntypes;
    h->batch = n->batch;
    size_t table = (size_t)h->table_size * sizeof(gb_ring_entry);
    size_t states_off = up128(GB_RING_LANE_INFO_BYTES + table);
    size_t queue_off = up128(states_off + (size_t)h->table_size * h->state_size);
    h->lane_stride = up128(queue_off + gbi_mpsc_bytes(n->lane_capacity, n->slot_size));
    h->lanes_off = GB_RING_HEADER_BYTES;
    h->out_off = h->lanes_off + (size_t)n->lanes * h->lane_stride;
    h->total_bytes = h->out_off + gbi_mpsc_bytes(n->out_capacity, n->slot_size);
    return (size_t)h->total_bytes;
}

static gb_status init_lanes(gb_ring *r)
{
    gb_ring_shm *h = r->shm;
    for (uint32_t l = 0; l < h->lanes; l++) {
        gb_ring_lane_info *ln = gb_ring_lane_at(h, l);
        size_t table = (size_t)h->table_size * sizeof(gb_ring_entry);
        ln->table_off = GB_RING_LANE_INFO_BYTES;
        ln->states_off = up128(GB_RING_LANE_INFO_BYTES + table);
        ln->queue_off = up128(ln->states_off + (size_t)h->table_size * h->state_size);
        gb_mpsc_queue *q;
        gb_status st = gbi_mpsc_init((char *)ln + ln->queue_off, h->lane_stride - ln->queue_off,
                                     h->lane_capacity, h->slot_size, &q);
        if (st == GB_OK)
            st = gbi_sender_init(&r->senders[l], q);
        if (st != GB_OK)
            return st;
    }
    gb_mpsc_queue *out;
    return gbi_mpsc_init((char *)h + h->out_off, h->total_bytes - h->out_off, h->out_capacity, h->slot_size,
                         &out);
}

static gb_status copy_types(gb_ring *r, const gb_ring_opts *n)
{
    r->types = calloc(n->ntypes, sizeof *r->types);
    r->handlers = calloc(n->ntypes, sizeof *r->handlers);
    if (!r->types || !r->handlers)
        return gbi_error(GB_ENOMEM, "ring_create", "no memory for %u types", n->ntypes);
    for (uint32_t i = 0; i < n->ntypes; i++) {
        r->types[i] = n->types[i];
        r->types[i].name = n->types[i].name ? strdup(n->types[i].name) : NULL;
        r->types[i].device_fn = n->types[i].device_fn ? strdup(n->types[i].device_fn) : NULL;
        r->handlers[i] = n->types[i].on_message;
        if ((n->types[i].name && !r->types[i].name) || (n->types[i].device_fn && !r->types[i].device_fn))
            return gbi_error(GB_ENOMEM, "ring_create", "no memory for type names");
    }
    r->opts.types = r->types;
    r->opts.device_source = NULL; /* compiled already; not kept */
    r->opts.build_options = NULL;
    return GB_OK;
}

static gb_status alloc_shared(gb_ring *r, const gb_ring_opts *n)
{
    gb_ring_shm probe;
    memset(&probe, 0, sizeof probe);
    size_t bytes = layout(&probe, n);
    gb_status st = r->ops->shm_alloc(r->exec, bytes, (void **)&r->shm);
    if (st != GB_OK)
        return st;
    r->shm_bytes = bytes;
    memset(r->shm, 0, bytes);
    layout(r->shm, n);
    atomic_init(&r->shm->control, GB_RING_CTL_RUN);
    atomic_init(&r->shm->inflight, 0);
    gbi_ring_clock_init(r->shm);
    r->senders = calloc(n->lanes, sizeof *r->senders);
    if (!r->senders)
        return gbi_error(GB_ENOMEM, "ring_create", "no memory for %u lanes", n->lanes);
    return init_lanes(r);
}

gb_status gbi_ring_build(gb_ring **out, const gb_ring_opts *n, const gbi_ring_exec_ops *ops, void *exec)
{
    gb_ring *r = calloc(1, sizeof *r);
    if (!r) {
        ops->destroy(exec);
        return gbi_error(GB_ENOMEM, "ring_create", "no memory for the ring");
    }
    r->ops = ops;
    r->exec = exec;
    r->opts = *n;
    atomic_init(&r->closed, 0);
    atomic_init(&r->in_send, 0);
    atomic_init(&r->stop_waiters, 0);
    atomic_init(&r->discarded, 0);
    pthread_mutex_init(&r->recv_lock, NULL);
    atomic_init(&r->recv_spin_ns, GBI_WAIT_HOST_SPIN_NS);
    gb_status st = copy_types(r, n);
    if (st == GB_OK)
        st = alloc_shared(r, n);
    if (st != GB_OK) {
        gb_ring_destroy(r);
        return st;
    }
    *out = r;
    return GB_OK;
}

void gb_ring_destroy(gb_ring *r)
{
    if (!r)
        return;
    if (r->state == GBI_RING_RUNNING)
        gb_ring_stop(r, GB_RING_ABORT);
    for (uint32_t l = 0; r->senders && l < r->opts.lanes; l++)
        if (r->senders[l].q)
            gbi_sender_destroy(&r->senders[l]);
    free(r->senders);
    if (r->shm)
        r->ops->shm_free(r->exec, r->shm);
    r->ops->destroy(r->exec);
    for (uint32_t i = 0; r->types && i < r->opts.ntypes; i++) {
        free((char *)r->types[i].name);
        free((char *)r->types[i].device_fn);
    }
    free(r->types);
    free(r->handlers);
    pthread_mutex_destroy(&r->recv_lock);
    free(r);
}

gb_status gb_ring_start(gb_ring *r)
{
    if (!r)
        return gbi_error(GB_EINVAL, "ring_start", "ring is NULL");
    if (r->state == GBI_RING_RUNNING)
        return gbi_error(GB_EBUSY, "ring_start", "the ring is already running");
    if (r->state == GBI_RING_STOPPED)
        return gbi_error(GB_ECLOSED, "ring_start", "the ring was stopped; create a new one");
    gb_status st = r->ops->start(r->exec, r);
    if (st == GB_OK)
        r->state = GBI_RING_RUNNING;
    return st;
}

uint32_t gbi_ring_pump_lane(gb_ring *r, uint32_t lane)
{
    uint32_t n = gbi_sender_pump(&r->senders[lane]);
    if (n && r->ops->kick)
        r->ops->kick(r->exec, lane);
    return n;
}

static uint64_t spilled_total(gb_ring *r)
{
    uint64_t s = 0;
    for (uint32_t l = 0; l < r->opts.lanes; l++)
        s += atomic_load_explicit(&r->senders[l].spilled, memory_order_acquire);
    return s;
}

/* Wait (pumping overflow, waking consumers) until nothing is in flight.
 * Returns the executor's failure if its consumers can no longer progress. */
static gb_status drain_wait(gb_ring *r)
{
    uint32_t round = 0;
    while (atomic_load_explicit(&r->shm->inflight, memory_order_seq_cst) != 0) {
        for (uint32_t l = 0; l < r->opts.lanes; l++) {
            gbi_ring_pump_lane(r, l);
            if (r->ops->kick && (round & 63) == 0)
                r->ops->kick(r->exec, l);
        }
        gb_status st = r->ops->health ? r->ops->health(r->exec) : GB_OK;
        if (st != GB_OK)
            return st;
        gbi_backoff(&round);
    }
    return GB_OK;
}

gb_status gb_ring_stop(gb_ring *r, gb_ring_stop_mode mode)
{
    if (!r || (mode != GB_RING_DRAIN && mode != GB_RING_ABORT))
        return gbi_error(GB_EINVAL, "ring_stop", "NULL ring or unknown stop mode %d", (int)mode);
    if (r->state == GBI_RING_STOPPED)
        return GB_OK;
    if (r->state == GBI_RING_CREATED && mode == GB_RING_DRAIN) {
        gb_status st = gb_ring_start(r); /* draining needs consumers */
        if (st != GB_OK)
            return st;
    }
    atomic_store_explicit(&r->closed, 1, memory_order_seq_cst);
    gb_status drained = GB_OK;
    if (mode == GB_RING_DRAIN && r->state == GBI_RING_RUNNING)
        drained = drain_wait(r); /* on failure: stop as an abort, report it */
    atomic_store_explicit(&r->stop_waiters, 1, memory_order_seq_cst);
    int drain = mode == GB_RING_DRAIN && drained == GB_OK;
    gb_atomic_store_seq_cst(&r->shm->control, drain ? GB_RING_CTL_STOP : GB_RING_CTL_ABORT);
    gb_status st = GB_OK;
    if (r->state == GBI_RING_RUNNING)
        st = r->ops->stop(r->exec);
    if (drained != GB_OK)
        st = drained;
    r->state = GBI_RING_STOPPED;
    uint64_t left = 0;
    for (uint32_t l = 0; l < r->opts.lanes; l++)
        left += gb_mpsc_depth(gb_ring_lane_queue(r->shm, l));
    atomic_store_explicit(&r->discarded, left + spilled_total(r), memory_order_relaxed);
    return st;
}

/* The send itself, counted in inflight before `closed` is read again
 * (the drain invariant); the caller is counted in r->in_send. */
static gb_status send_counted(gb_ring *r, uint32_t type, const gb_msg_header *hdr, const void *payload,
                              gb_send_policy policy)
{
    gb_atomic_fetch_add_seq_cst(&r->shm->inflight, (uint64_t)1);
    if (atomic_load_explicit(&r->closed, memory_order_seq_cst)) {
        gb_atomic_fetch_add_seq_cst(&r->shm->inflight, (uint64_t)0 - 1);
        return gbi_error(GB_ECLOSED, "ring_send", "the ring is stopping or stopped");
    }
    gb_msg_header h = *hdr;
    h.reserved = type;
    uint32_t lane = gb_ring_lane(r, hdr->target);
    gb_status st = gbi_sender_send(&r->senders[lane], &h, payload, policy, &r->stop_waiters);
    if (st != GB_OK) {
        gb_atomic_fetch_add_seq_cst(&r->shm->inflight, (uint64_t)0 - 1);
        return st;
    }
    if (r->ops->kick)
        r->ops->kick(r->exec, lane);
    return GB_OK;
}

gb_status gb_ring_send(gb_ring *r, uint32_t type, const gb_msg_header *hdr, const void *payload,
                       gb_send_policy policy)
{
    if (!r || !hdr || (!payload && hdr->payload_len))
        return gbi_error(GB_EINVAL, "ring_send", "NULL ring, header or payload");
    if (type >= r->opts.ntypes || (unsigned)policy > GB_SEND_SPILL)
        return gbi_error(GB_EINVAL, "ring_send", "type %u (of %u) or policy %d invalid", type, r->opts.ntypes,
                         (int)policy);
    if (atomic_load_explicit(&r->closed, memory_order_acquire))
        return gbi_error(GB_ECLOSED, "ring_send", "the ring is stopping or stopped");
    atomic_fetch_add_explicit(&r->in_send, 1, memory_order_seq_cst);
    gb_status st = send_counted(r, type, hdr, payload, policy);
    atomic_fetch_sub_explicit(&r->in_send, 1, memory_order_release); /* its enqueue happened before */
    return st;
}

gb_status gb_ring_recv(gb_ring *r, gb_msg_header *hdr, void *payload, size_t cap, int64_t timeout_ns)
{
    if (!r || !hdr || (!payload && cap))
        return gbi_error(GB_EINVAL, "ring_recv", "NULL ring, header or payload buffer");
    uint32_t got; /* one message: a batch of one (ring_batch.c), same wait */
    return gb_ring_recv_batch(r, hdr, payload, cap, 1, &got, timeout_ns);
}

static void add_lane_counters(gb_ring *r, uint32_t l, gb_ring_counters *c)
{
    gb_ring_lane_info *ln = gb_ring_lane_at(r->shm, l);
    gbi_queue_counters q;
    gbi_mpsc_counters(gb_ring_lane_queue(r->shm, l), &q);
    c->enqueued += q.enqueued;
    c->depth += q.depth;
    c->full_hits += q.full_hits;
    c->high_water = q.high_water > c->high_water ? q.high_water : c->high_water;
    c->overflowed += atomic_load_explicit(&r->senders[l].overflowed, memory_order_relaxed);
    c->overflow_depth += atomic_load_explicit(&r->senders[l].spilled, memory_order_relaxed);
    c->handled += gb_atomic_load_relaxed(&ln->handled);
    c->k2k_sent += gb_atomic_load_relaxed(&ln->k2k_sent);
    c->emitted += gb_atomic_load_relaxed(&ln->emitted);
    c->send_failed += gb_atomic_load_relaxed(&ln->send_failed);
    c->handler_errors += gb_atomic_load_relaxed(&ln->handler_errors);
    c->unknown_type += gb_atomic_load_relaxed(&ln->unknown_type);
    c->table_full += gb_atomic_load_relaxed(&ln->table_full);
    c->actors += gb_atomic_load_relaxed(&ln->actors);
    c->deactivated += gb_atomic_load_relaxed(&ln->deactivated);
}

gb_status gb_ring_get_counters(gb_ring *r, gb_ring_counters *c)
{
    if (!r || !c)
        return gbi_error(GB_EINVAL, "ring_counters", "NULL ring or output");
    memset(c, 0, sizeof *c);
    for (uint32_t l = 0; l < r->opts.lanes; l++)
        add_lane_counters(r, l, c);
    gbi_queue_counters out;
    gbi_mpsc_counters(gb_ring_out_queue(r->shm), &out);
    c->out_depth = out.depth;
    c->inflight = gb_atomic_load_acquire(&r->shm->inflight);
    c->discarded = atomic_load_explicit(&r->discarded, memory_order_relaxed);
    return GB_OK;
}

gb_status gb_ring_get_lane_counters(gb_ring *r, uint32_t lane, gb_ring_lane_counters *out)
{
    if (!r || !out)
        return gbi_error(GB_EINVAL, "ring_lane_counters", "NULL ring or output");
    if (lane >= r->opts.lanes)
        return gbi_error(GB_ERANGE, "ring_lane_counters", "lane %u of %u", lane, r->opts.lanes);
    gbi_queue_counters q;
    gbi_mpsc_counters(gb_ring_lane_queue(r->shm, lane), &q);
    gb_ring_lane_info *ln = gb_ring_lane_at(r->shm, lane);
    *out = (gb_ring_lane_counters){
        .enqueued = q.enqueued,
        .dequeued = q.dequeued,
        .depth = q.depth,
        .high_water = q.high_water,
        .full_hits = q.full_hits,
        .overflowed = atomic_load_explicit(&r->senders[lane].overflowed, memory_order_relaxed),
        .overflow_depth = atomic_load_explicit(&r->senders[lane].spilled, memory_order_relaxed),
        .handled = gb_atomic_load_relaxed(&ln->handled),
        .actors = gb_atomic_load_relaxed(&ln->actors),
    };
    return GB_OK;
}

gb_status gb_ring_read_state(gb_ring *r, uint64_t id, void *buf, size_t len)
{
    if (!r || (!buf && len))
        return gbi_error(GB_EINVAL, "ring_read_state", "NULL ring or buffer");
    if (r->state == GBI_RING_RUNNING)
        return gbi_error(GB_EBUSY, "ring_read_state", "the ring is running; stop it first");
    gb_ring_shm *h = r->shm;
    gb_ring_lane_info *ln = gb_ring_lane_at(h, gb_ring_lane(r, id));
    gb_ring_entry *tab = (gb_ring_entry *)((char *)ln + ln->table_off);
    uint32_t mask = h->table_size - 1, i = (uint32_t)(gb_mix64(id) >> 32) & mask;
    for (uint32_t probe = 0; probe < h->table_size && tab[i].used; probe++, i = (i + 1) & mask) {
        if (tab[i].id != id)
            continue;
        size_t n = len < h->state_size ? len : h->state_size;
        memcpy(buf, (char *)ln + ln->states_off + (size_t)i * h->state_size, n);
        return GB_OK;
    }
    return gbi_error(GB_ENOENT, "ring_read_state", "no actor %llx on this ring", (unsigned long long)id);
}

uint32_t gb_ring_lane(const gb_ring *r, uint64_t id)
{
    return r ? (uint32_t)(gb_hash_u64(id) % r->opts.lanes) : 0;
}

const char *gb_ring_backend(const gb_ring *r)
{
    return r ? r->ops->name : "";
}

size_t gb_ring_memory_bytes(const gb_ring *r)
{
    return r ? r->shm_bytes : 0;
}
