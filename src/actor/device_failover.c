/*
 * Device failover: a device type's ring whose backend fails while it runs
 * (the executor's health check, or the broker's GB_OP_RING fault point) is
 * replaced without losing what it had accepted.
 *
 * The drain thread, which noticed the failure, runs the whole failover
 * under dt->lock:
 *   1. the device is marked unhealthy in the type's broker;
 *   2. the old ring is stopped with GB_RING_ABORT (closed: senders get
 *      GB_ECLOSED and wait on dt->lock; the consumers finish the batch in
 *      hand and exit, so what is left in the lanes was never handled);
 *   3. a ring is created (not started) on the next backend of the chain
 *      (after the failed one, then from the start again, the failed one
 *      last; backends whose breaker is open only if nothing else starts);
 *   4. every actor state is copied into it (gb_ring_export_actors ->
 *      gb_ring_import_actor), then every accepted but unhandled message is
 *      moved into it lane by lane in queue order (gb_ring_take_pending,
 *      which first waits for senders still inside gb_ring_send);
 *   5. it is started and published; the old ring is kept (retired) until
 *      the type is freed, as other threads may still hold its pointer.
 * Then, without the lock (delivering may route into this very type), the
 * old ring's outbound queue is delivered to the end: responses to the
 * messages it handled complete their calls. Senders refused by the old
 * ring retry on the new one, behind the moved messages, so per-sender
 * order holds. If no backend can take over, later sends get GB_EDEVICE
 * and, once the lock is released (failing a call may route a reply into
 * this very type), every request left in the old ring is answered
 * GB_EDEVICE and one-way messages are logged as lost (counted).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/device_actor.h"
#include "base/error.h"
#include "gpubridge/log.h"

typedef struct move_ctx {
    gbi_devtype *dt;
    gb_ring *to; /* NULL: no replacement, fail the messages */
    uint64_t moved, lost, actors;
} move_ctx;

static void move_actor(void *arg, uint32_t type, uint64_t id, uint32_t calls_out, const void *state, uint32_t len)
{
    move_ctx *mc = arg;
    uint32_t keep = mc->dt->d.state_size < len ? mc->dt->d.state_size : len;
    if (gb_ring_import_actor(mc->to, type, id, calls_out, state, keep) == GB_OK)
        mc->actors++;
    else
        gb_log(GB_LOG_ERROR, "actor", "device type '%s': state of %016llx not moved: %s", mc->dt->type->name,
               (unsigned long long)id, gb_last_error());
}

static void move_msg(void *arg, uint32_t type, const gb_msg_header *h, const void *payload)
{
    move_ctx *mc = arg;
    gb_status st = mc->to ? gb_ring_send(mc->to, type, h, payload, GB_SEND_SPILL) : GB_EDEVICE;
    if (st == GB_OK) {
        mc->moved++;
        return;
    }
    mc->lost += !(h->flags & GB_MSG_SYSTEM);
    gbi_devtype_fail_msg(mc->dt, h, GB_EDEVICE, "its device failed and no other backend took over");
}

static int breaker_open(gbi_devtype *dt, const char *backend)
{
    uint32_t i;
    gb_broker_device d;
    if (!dt->broker || gb_broker_find(dt->broker, backend, &i) != GB_OK) {
        gb_clear_error();
        return 0;
    }
    return gb_broker_get(dt->broker, i, &d) == GB_OK && d.breaker == GB_BREAKER_OPEN;
}

/* Try the chain from the backend after `failed`, wrapping to its start
 * (`failed` last); with_open also tries backends whose breaker is open. */
static gb_status next_ring(gbi_devtype *dt, const char *failed, int with_open, gb_ring **out)
{
    char chain[256], *names[16], *save = NULL;
    uint32_t n = 0, at = 0;
    gbi_devtype_chain(dt, chain, sizeof chain);
    for (char *b = strtok_r(chain, ", ", &save); b && n < 16; b = strtok_r(NULL, ", ", &save)) {
        if (strcmp(b, failed) == 0)
            at = n;
        names[n++] = b;
    }
    gb_status st = gbi_error(GB_ENOTSUP, "device failover",
                             "no backend of the chain of type '%s' starts a ring", dt->type->name);
    for (uint32_t k = 1; k <= n; k++) {
        const char *b = names[(at + k) % n];
        if (!with_open && breaker_open(dt, b))
            continue;
        if ((st = gbi_devtype_ring_create(dt, b, out)) == GB_OK) {
            if (!dt->broker || gb_broker_find(dt->broker, b, &dt->entry) != GB_OK)
                dt->entry = GBI_NO_ENTRY;
            return GB_OK;
        }
        gb_log(GB_LOG_INFO, "actor", "device type '%s': failover to %s impossible (%s)", dt->type->name, b,
               gb_last_error());
    }
    return st;
}

/* Steps 2-5 of the top comment (dt->lock held); returns the new ring or
 * NULL when none could take over (the messages are then failed). */
static gb_ring *replace(gbi_devtype *dt, gb_ring *old, const char *failed)
{
    gb_ring *nr = NULL;
    gb_status st = gb_ring_stop(old, GB_RING_ABORT);
    if (st != GB_OK)
        gb_log(GB_LOG_WARN, "actor", "device type '%s': stopping the failed ring: %s", dt->type->name,
               gb_last_error());
    if (next_ring(dt, failed, 0, &nr) != GB_OK && next_ring(dt, failed, 1, &nr) != GB_OK)
        nr = NULL;
    if (!nr)
        return NULL; /* the caller fails the messages once the lock is released */
    move_ctx mc = {.dt = dt, .to = nr};
    gb_ring_export_actors(old, move_actor, &mc, NULL);
    if (gb_ring_take_pending(old, move_msg, &mc, NULL) != GB_OK)
        gb_log(GB_LOG_ERROR, "actor", "device type '%s': messages of the failed ring not taken: %s",
               dt->type->name, gb_last_error());
    if ((st = gb_ring_start(nr)) != GB_OK) /* its lanes keep the messages; they are not lost yet */
        gb_log(GB_LOG_ERROR, "actor", "device type '%s': replacement ring did not start: %s", dt->type->name,
               gb_last_error());
    atomic_fetch_add_explicit(&dt->migrated_messages, mc.moved, memory_order_relaxed);
    atomic_fetch_add_explicit(&dt->migrated_actors, mc.actors, memory_order_relaxed);
    atomic_fetch_add_explicit(&dt->lost_messages, mc.lost, memory_order_relaxed);
    gb_log(GB_LOG_WARN, "actor",
           "device type '%s': ring on %s failed; %llu messages and %llu actors moved to %s", dt->type->name,
           failed, (unsigned long long)mc.moved, (unsigned long long)mc.actors, gb_ring_backend(nr));
    return nr;
}

/* No backend took over: requests are answered GB_EDEVICE, the rest is
 * logged and counted as lost. */
static void fail_pending(gbi_devtype *dt, gb_ring *old)
{
    move_ctx mc = {.dt = dt, .to = NULL};
    if (gb_ring_take_pending(old, move_msg, &mc, NULL) != GB_OK)
        gb_log(GB_LOG_ERROR, "actor", "device type '%s': messages of the failed ring not taken: %s",
               dt->type->name, gb_last_error());
    atomic_fetch_add_explicit(&dt->lost_messages, mc.lost, memory_order_relaxed);
    gb_log(GB_LOG_ERROR, "actor",
           "device type '%s': ring on %s failed and no backend took over; %llu messages lost", dt->type->name,
           gb_ring_backend(old), (unsigned long long)mc.lost);
}

static void retire(gbi_devtype *dt, gb_ring *old)
{
    gbi_retired *x = malloc(sizeof *x);
    if (x) {
        x->ring = old;
        x->next = dt->retired;
        dt->retired = x;
        return;
    }
    /* leaked rather than freed while other threads may still read it */
    gb_log(GB_LOG_ERROR, "actor", "device type '%s': no memory to retire a ring; it leaks", dt->type->name);
}

/* Steps 1-5 under the lock; returns the ring the drain thread reads next
 * (old when none took over). *took: 0 when shutdown owns the ring. */
static gb_ring *failover(gbi_devtype *dt, gb_ring *old, const char *why, int *took)
{
    const char *failed = gb_ring_backend(old);
    *took = gbi_devtype_lock(dt);
    if (!*took)
        return old;
    atomic_store_explicit(&dt->failing, 1, memory_order_seq_cst);
    if (dt->broker && dt->entry != GBI_NO_ENTRY)
        gb_broker_report(dt->broker, dt->entry, GB_EDEVICE, why);
    gb_ring *nr = replace(dt, old, failed);
    if (!nr) {
        dt->start_err = GB_EDEVICE;
        snprintf(dt->start_msg, sizeof dt->start_msg,
                 "type '%.60s': its ring on %s failed (%.120s) and no "
                 "backend took over",
                 dt->type->name, failed, why);
        pthread_mutex_unlock(&dt->lock);
        fail_pending(dt, old); /* unlocked: failing a call may route a reply into this type */
        return old;            /* stopped: sends get start_err; its output is still delivered */
    }
    atomic_store_explicit(&dt->taken, 0, memory_order_seq_cst); /* counts the new ring's output */
    atomic_store_explicit(&dt->ring, nr, memory_order_seq_cst);
    retire(dt, old);
    atomic_fetch_add_explicit(&dt->failovers, 1, memory_order_release);
    pthread_mutex_unlock(&dt->lock);
    return nr;
}

/* Deliver what the old ring had put out (it is stopped: nothing new comes). */
static void deliver_rest(gbi_devtype *dt, gb_ring *old)
{
    _Alignas(16) uint8_t buf[GB_MSG_SLOT_MAX];
    gb_msg_header h;
    while (gb_ring_recv(old, &h, buf, sizeof buf, 0) == GB_OK)
        gbi_devtype_deliver(dt, &h, buf);
}

gb_ring *gbi_devtype_check(gbi_devtype *dt, gb_ring *r)
{
    if (dt->dead)
        return r; /* failed for good earlier: its output is still delivered, nothing else runs */
    gb_status st = gb_ring_health(r);
    if (st == GB_OK && dt->broker && dt->entry != GBI_NO_ENTRY)
        st = gb_broker_fault_check(dt->broker, dt->entry, GB_OP_RING);
    if (st == GB_OK)
        return r;
    char why[256];
    snprintf(why, sizeof why, "%s", gb_last_error());
    int took;
    gb_ring *nr = failover(dt, r, why, &took);
    if (took && nr != r)
        deliver_rest(dt, r); /* the new ring's output waits: each actor's output stays in order */
    dt->dead = took && nr == r;
    if (took)
        atomic_store_explicit(&dt->failing, 0, memory_order_seq_cst);
    return nr;
}
