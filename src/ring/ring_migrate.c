/*
 * Moving a ring's work to another ring (device failover, docs/rings.md
 * "Failover"): the executor's health, taking every accepted but unhandled
 * message out of a stopped ring (lane queues, then their host overflow
 * lists, in queue order), reading its actors' states and writing them into
 * a ring that has not started yet, and the host's deactivation request
 * (a system message that frees an actor's table slot on the device).
 *
 * Who may touch what: a stopped ring has no consumer left (the executor
 * joined its threads or its kernel returned), so its lane queues and actor
 * tables are the host's; a ring not yet started has none either. Host
 * senders may still be inside gb_ring_send when a ring is stopped: they are
 * counted in ring->in_send, and gb_ring_take_pending waits for that count to
 * reach 0 (after `closed` every new sender leaves without enqueueing).
 */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "gpubridge/hash.h"
#include "ring/ring_internal.h"

gb_status gb_ring_health(gb_ring *r)
{
    if (!r)
        return gbi_error(GB_EINVAL, "ring_health", "ring is NULL");
    /* `closed`, not `state` (the stopping thread's plain field): a ring
     * that is stopping or stopped is not asked */
    if (atomic_load_explicit(&r->closed, memory_order_acquire) || !r->ops->health)
        return GB_OK;
    return r->ops->health(r->exec);
}

/* Every message of lane l, queue first, then what its overflow list held
 * (pumped into the emptied queue), in order. */
static uint64_t take_lane(gb_ring *r, uint32_t l, void *buf, size_t cap, gb_ring_msg_fn fn, void *arg)
{
    gb_mpsc_queue *q = gb_ring_lane_queue(r->shm, l);
    uint64_t n = 0;
    for (;;) {
        gb_msg_header h;
        while (gbi_mpsc_try_dequeue(q, &h, buf, cap) == GB_OK) {
            uint32_t type = h.reserved;
            h.reserved = 0;
            fn(arg, type, &h, buf);
            n++;
        }
        if (atomic_load_explicit(&r->senders[l].spilled, memory_order_acquire) == 0)
            return n;
        if (gbi_sender_pump(&r->senders[l]) == 0)
            return n; /* the queue still holds a slot that was never published */
    }
}

gb_status gb_ring_take_pending(gb_ring *r, gb_ring_msg_fn fn, void *arg, uint64_t *taken)
{
    if (!r || !fn)
        return gbi_error(GB_EINVAL, "ring_take_pending", "NULL ring or function");
    if (r->state != GBI_RING_STOPPED)
        return gbi_error(GB_EBUSY, "ring_take_pending", "the ring is not stopped; gb_ring_stop it first");
    uint32_t round = 0;
    while (atomic_load_explicit(&r->in_send, memory_order_acquire) != 0)
        gbi_backoff(&round); /* a sender past `closed` finishes its enqueue */
    void *buf = malloc(r->opts.slot_size);
    if (!buf)
        return gbi_error(GB_ENOMEM, "ring_take_pending", "no memory for a slot buffer");
    uint64_t n = 0;
    for (uint32_t l = 0; l < r->opts.lanes; l++)
        n += take_lane(r, l, buf, r->opts.slot_size - sizeof(gb_msg_header), fn, arg);
    free(buf);
    gb_atomic_fetch_add_seq_cst(&r->shm->inflight, (uint64_t)0 - n);
    uint64_t d = atomic_load_explicit(&r->discarded, memory_order_relaxed);
    atomic_store_explicit(&r->discarded, d > n ? d - n : 0, memory_order_relaxed);
    if (taken)
        *taken = n;
    return GB_OK;
}

static gb_ring_entry *lane_table(gb_ring_shm *h, gb_ring_lane_info *ln)
{
    (void)h;
    return (gb_ring_entry *)((char *)ln + ln->table_off);
}

gb_status gb_ring_export_actors(gb_ring *r, gb_ring_actor_fn fn, void *arg, uint64_t *count)
{
    if (!r || !fn)
        return gbi_error(GB_EINVAL, "ring_export_actors", "NULL ring or function");
    if (r->state == GBI_RING_RUNNING)
        return gbi_error(GB_EBUSY, "ring_export_actors", "the ring is running; stop it first");
    gb_ring_shm *h = r->shm;
    uint64_t n = 0;
    for (uint32_t l = 0; l < h->lanes; l++) {
        gb_ring_lane_info *ln = gb_ring_lane_at(h, l);
        gb_ring_entry *tab = lane_table(h, ln);
        for (uint32_t i = 0; i < h->table_size; i++) {
            if (!tab[i].used)
                continue;
            fn(arg, tab[i].type, tab[i].id, tab[i].used >> 1, /* bit 0: in use; above: calls out */
               (char *)ln + ln->states_off + (size_t)i * h->state_size, h->state_size);
            n++;
        }
    }
    if (count)
        *count = n;
    return GB_OK;
}

gb_status gb_ring_import_actor(gb_ring *r, uint32_t type, uint64_t id, uint32_t calls_out, const void *state,
                               size_t len)
{
    if (!r || (!state && len) || calls_out > UINT32_MAX >> 1)
        return gbi_error(GB_EINVAL, "ring_import_actor", "NULL ring or state, or calls_out out of range");
    if (r->state != GBI_RING_CREATED)
        return gbi_error(GB_EBUSY, "ring_import_actor", "the ring was started; import before gb_ring_start");
    gb_ring_shm *h = r->shm;
    if (type >= h->ntypes || len > h->state_size)
        return gbi_error(GB_EINVAL, "ring_import_actor",
                         "type %u (of %u) or state of %zu bytes (slot %u) invalid", type, h->ntypes, len,
                         h->state_size);
    gb_ring_lane_info *ln = gb_ring_lane_at(h, gb_ring_lane(r, id));
    gb_ring_entry *tab = lane_table(h, ln);
    uint32_t mask = h->table_size - 1, i = (uint32_t)(gb_mix64(id) >> 32) & mask;
    for (uint32_t probe = 0; probe < h->table_size; probe++, i = (i + 1) & mask) {
        if (tab[i].used && tab[i].id == id)
            return gbi_error(GB_EEXIST, "ring_import_actor", "actor %llx is already on this ring",
                             (unsigned long long)id);
        if (tab[i].used)
            continue;
        char *st = (char *)ln + ln->states_off + (size_t)i * h->state_size;
        memset(st, 0, h->state_size);
        if (len)
            memcpy(st, state, len);
        tab[i] = (gb_ring_entry){.id = id, .type = type, .used = 1 | calls_out << 1};
        gb_atomic_fetch_add_relaxed(&ln->actors, (uint64_t)1);
        return GB_OK;
    }
    return gbi_error(GB_ENOMEM, "ring_import_actor", "the actor table of lane %u is full",
                     gb_ring_lane(r, id));
}

gb_status gb_ring_deactivate(gb_ring *r, uint32_t type, uint64_t id)
{
    gb_msg_header h;
    memset(&h, 0, sizeof h);
    h.target = id;
    h.method = GB_RING_SYS_DEACTIVATE;
    h.flags = GB_MSG_SYSTEM | GB_MSG_ONEWAY;
    return gb_ring_send(r, type, &h, NULL, GB_SEND_SPILL);
}
