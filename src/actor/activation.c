/*
 * Activation and deactivation. Both run inside a turn of the actor, on the
 * one thread that owns it, so neither races with message handling, and an
 * actor is activated exactly once however many threads send to a new id at
 * the same moment (the directory creates its record once; the turn that
 * handles its first message activates it, just before the handler runs).
 * Timer ticks and idle probes never activate an actor.
 *
 * Idle collection: the service thread scans the directory every
 * collect_period_ns and sends a GBI_MSG_DEACTIVATE probe to each active
 * actor whose type has an idle timeout that has passed since its last turn.
 * The probe's turn re-checks idleness (nothing queued, no call in flight,
 * nothing deferred) before deactivating. The record and its mailbox stay in
 * the directory, so a message that races with deactivation is simply
 * handled after a new activation: nothing is lost.
 */
#include <stdlib.h>

#include "actor/runtime.h"
#include "base/error.h"
#include "gpubridge/log.h"

_Atomic uint32_t gbi_fault_state_alloc;

/* Zeroed state bytes, or NULL: out of memory, or a failure injected by a
 * test through gbi_fault_state_alloc (one relaxed load when it is off). */
static void *state_alloc(size_t n)
{
    uint32_t f = atomic_load_explicit(&gbi_fault_state_alloc, memory_order_relaxed);
    while (f && !atomic_compare_exchange_weak_explicit(&gbi_fault_state_alloc, &f, f - 1, memory_order_relaxed,
                                                       memory_order_relaxed))
        ;
    return f ? NULL : calloc(1, n);
}

gb_status gbi_activate(gb_actor_ctx *ctx)
{
    gbi_actor *a = ctx->actor;
    const gb_actor_type *t = &a->type->desc;
    if (t->state_size && !a->state && !(a->state = state_alloc(t->state_size)))
        return gbi_error(GB_ENOMEM, "activation", "no memory for the %zu-byte state of %s/%016llx",
                         t->state_size, t->name, (unsigned long long)a->id);
    a->active = 1;
    atomic_store_explicit(&a->is_active, 1, memory_order_relaxed);
    gbi_count(&ctx->c->activations, 1);
    if (t->init) {
        gb_status st = t->init(ctx, a->state);
        if (st != GB_OK)
            gb_log(GB_LOG_WARN, "actor", "init of %s/%016llx returned %s", t->name, (unsigned long long)a->id,
                   gb_status_name(st));
    }
    return GB_OK;
}

static int idle_now(gb_actor_ctx *ctx)
{
    gbi_actor *a = ctx->actor;
    int64_t timeout = a->type->desc.idle_timeout_ns;
    int64_t last = atomic_load_explicit(&a->last_turn_ns, memory_order_relaxed);
    return a->outstanding == 0 && !a->def_head && !gbi_mbox_maybe_nonempty(a) && timeout > 0 &&
           gbi_now_ns() - last >= timeout;
}

void gbi_deactivate(gb_actor_ctx *ctx, int force)
{
    gbi_actor *a = ctx->actor;
    if (!a->active || (!force && !idle_now(ctx)))
        return;
    const gb_actor_type *t = &a->type->desc;
    int keep = t->deactivate ? t->deactivate(ctx, a->state) : 0;
    if (!keep && a->state) {
        free(a->state);
        a->state = NULL;
    }
    gbi_timers_cancel_all(a);
    a->active = 0;
    a->reactivated = 1;
    atomic_store_explicit(&a->is_active, 0, memory_order_relaxed);
    gbi_count(&ctx->c->deactivations, 1);
}

typedef struct collect_arg {
    gb_silo *s;
    int64_t now;
} collect_arg;

static void probe(gbi_actor *a, void *arg)
{
    collect_arg *ca = arg;
    if (a->location == GBI_LOC_RING) { /* its activation lives on a ring */
        gbi_devtype_collect(ca->s, a, ca->now);
        return;
    }
    int64_t timeout = a->type->desc.idle_timeout_ns;
    if (timeout <= 0 || !atomic_load_explicit(&a->is_active, memory_order_relaxed))
        return;
    if (ca->now - atomic_load_explicit(&a->last_turn_ns, memory_order_relaxed) < timeout ||
        atomic_load_explicit(&a->depth, memory_order_relaxed) != 0)
        return;
    if (atomic_exchange_explicit(&a->deact_pending, 1, memory_order_relaxed))
        return;
    gbi_msg *m = gbi_msg_new(ca->s, 0, 0);
    if (!m) {
        atomic_store_explicit(&a->deact_pending, 0, memory_order_relaxed);
        return;
    }
    m->kind = GBI_MSG_DEACTIVATE;
    m->hdr.target = a->id;
    m->hdr.flags = GB_MSG_SYSTEM | GB_MSG_ONEWAY;
    gbi_mailbox_put(ca->s, a, m, 1);
}

void gbi_collect_idle(gb_silo *s, int64_t now_ns)
{
    if (!atomic_load_explicit(&s->idle_types, memory_order_relaxed))
        return; /* nothing can idle out: skip the O(actors) scan */
    collect_arg ca = {s, now_ns};
    gbi_dir_foreach(s->dir, probe, &ca);
}
