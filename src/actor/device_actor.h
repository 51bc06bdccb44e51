/*
 * Internal: a device actor type (gbi_devtype) as shared by the files that
 * run it: device_actor.c (routing, ring start, drain thread, shutdown),
 * device_failover.c (a failed ring replaced on the next backend, its
 * accepted messages and actor states moved over) and device_idle.c (idle
 * device actors deactivated).
 *
 * Locks: `lock` serialises ring start, failover and stop (never held while
 * delivering device output, which may route into this very type);
 * `idle_lock` (types with an idle timeout only) is read-held by senders
 * around "note activity, enqueue" and write-held by the collector around
 * "check idleness, enqueue the deactivation", so a deactivation never
 * overtakes a message sent after the idleness check.
 */
#ifndef GBI_DEVICE_ACTOR_H
#define GBI_DEVICE_ACTOR_H

#include <pthread.h>
#include <stdatomic.h>

#include "actor/runtime.h"
#include "gpubridge/broker.h"

#define GBI_CALIB_HISTORY 256
#define GBI_NO_ENTRY UINT32_MAX

typedef struct gbi_retired {
    gb_ring *ring;
    struct gbi_retired *next;
} gbi_retired;

typedef struct gbi_devtype {
    gb_silo *silo;
    const gbi_type *type;
    gb_actor_device d;       /* strings owned */
    pthread_mutex_t lock;    /* ring start, failover and stop */
    _Atomic(gb_ring *) ring; /* published once started; replaced by a failover */
    gb_status start_err;     /* sticky failure (under lock) */
    char start_msg[256];     /* its gb_last_error() (under lock) */
    gb_broker *broker;       /* the type's chain: health, breakers, fault points (under lock; may be NULL) */
    uint32_t entry;          /* broker entry of the current ring's backend, or GBI_NO_ENTRY (under lock) */
    gbi_retired *retired;    /* rings replaced by failovers, freed with the type (under lock) */
    _Atomic uint64_t taken;  /* outbound messages of the current ring the drain thread has fully handled */
    _Atomic int failing;     /* a failover runs or its old ring's output is still being delivered */
    pthread_t drain;
    _Atomic int stop; /* drain thread: exit once the outbound queue is empty */
    pthread_mutex_t fit_lock;
    gb_clock_fit fit;
    int have_fit;
    pthread_rwlock_t idle_lock; /* see the top of this file */
    _Atomic uint64_t failovers, migrated_messages, migrated_actors, lost_messages, deactivations;
    /* drain thread only: the last GBI_CALIB_HISTORY clock samples, so that
     * the fit's drift is measured over several bursts (seconds), not one */
    gb_clock_sample hist[GBI_CALIB_HISTORY];
    uint32_t hist_n, hist_pos;
    int dead; /* drain thread only: its ring failed and nothing took over */
} gbi_devtype;

/* Create (not start) a ring for dt on backend; ENOTSUP when the backend
 * cannot run this type (device_actor.c). dt->lock held. */
gb_status gbi_devtype_ring_create(gbi_devtype *dt, const char *backend, gb_ring **out);

/* The effective chain of dt (GB_DEVICES or the type's) into buf. */
void gbi_devtype_chain(const gbi_devtype *dt, char *buf, size_t len);

/* Deliver one outbound message of a ring (response, emit); no counting. */
void gbi_devtype_deliver(gbi_devtype *dt, const gb_msg_header *h, const void *payload);

/* Answer a message that no ring will handle: a request gets `status`
 * (its caller wakes), a one-way message is logged. */
void gbi_devtype_fail_msg(gbi_devtype *dt, const gb_msg_header *h, gb_status status, const char *why);

/* Drain thread: if ring r failed (executor health, injected GB_OP_RING
 * fault), replace it (device_failover.c) and return the ring to use from
 * now on (r itself when nothing failed or no replacement was possible). */
gb_ring *gbi_devtype_check(gbi_devtype *dt, gb_ring *r);

/* Senders: note activity of a device actor whose type has an idle timeout
 * (device_idle.c); the caller holds idle_lock for reading around it and
 * its enqueue. */
void gbi_devtype_touch(gbi_devtype *dt, gbi_actor *a);

/* A request a device handler made (gb_ring_begin_call): call its target,
 * route the reply back to the device actor later (device_call.c). */
void gbi_devtype_call(gbi_devtype *dt, const gb_msg_header *h, const void *payload);

/* Take dt->lock, unless shutdown holds it to stop the ring (dt->stop set):
 * then return 0 without it. Spins, yields, then sleeps in short steps.
 * Threads that shutdown may wait for (drain threads, workers) take the
 * lock only through this. */
int gbi_devtype_lock(gbi_devtype *dt);

/* The type's ring, started on first use (device_actor.c). */
gb_status gbi_devtype_ring(gb_silo *s, gbi_devtype *dt, gb_ring **out);

#endif
