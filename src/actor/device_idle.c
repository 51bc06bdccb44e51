/*
 * Idle device actors: a device type with an idle timeout has its actors
 * deactivated on their ring once no message was sent to them for that
 * long, as CPU actors of a type without a deactivate hook are: the table
 * entry and state slot on the device are freed, and the next message
 * activates the actor again with a zeroed state. Nothing is lost: the
 * deactivation is a system message queued on the actor's lane behind every
 * message accepted before it (gb_ring_deactivate), and a message sent
 * after it reactivates the actor.
 *
 * The record's is_active / last_turn_ns fields (the CPU collector's) mean
 * here "a message was sent since the last deactivation" / "when the last
 * message was sent". Senders update them holding dt->idle_lock for reading
 * around their enqueue; the collector (the silo's service thread, through
 * gbi_collect_idle) checks them and queues the deactivation holding it for
 * writing, and only if it gets it at once (a busy type is not idle: the
 * service thread never waits on senders). So a message sent after the
 * check is queued after the deactivation, never before it.
 */
#include "actor/device_actor.h"
#include "gpubridge/log.h"

void gbi_devtype_touch(gbi_devtype *dt, gbi_actor *a)
{
    (void)dt;
    atomic_store_explicit(&a->last_turn_ns, gbi_now_ns(), memory_order_relaxed);
    if (!atomic_load_explicit(&a->is_active, memory_order_relaxed))
        atomic_store_explicit(&a->is_active, 1, memory_order_relaxed);
}

static int idle_for(gbi_actor *a, int64_t now, int64_t timeout)
{
    return atomic_load_explicit(&a->is_active, memory_order_relaxed) &&
           now - atomic_load_explicit(&a->last_turn_ns, memory_order_relaxed) >= timeout;
}

void gbi_devtype_collect(gb_silo *s, gbi_actor *a, int64_t now_ns)
{
    (void)s;
    gbi_devtype *dt = a->type->dev;
    int64_t timeout = a->type->desc.idle_timeout_ns;
    if (!dt || timeout <= 0 || !idle_for(a, now_ns, timeout))
        return;
    if (pthread_rwlock_trywrlock(&dt->idle_lock) != 0)
        return; /* senders at work on this type: try at the next scan */
    gb_ring *r = atomic_load_explicit(&dt->ring, memory_order_acquire);
    if (r && idle_for(a, gbi_now_ns(), timeout)) {
        gb_status st = gb_ring_deactivate(r, 0, a->id);
        if (st == GB_OK) {
            atomic_store_explicit(&a->is_active, 0, memory_order_relaxed);
            atomic_fetch_add_explicit(&dt->deactivations, 1, memory_order_relaxed);
        } else if (st != GB_ECLOSED) { /* closed: a failover or shutdown; the next scan retries */
            gb_log(GB_LOG_WARN, "actor", "device actor %016llx not deactivated: %s",
                   (unsigned long long)a->id, gb_last_error());
        }
    }
    pthread_rwlock_unlock(&dt->idle_lock);
}
