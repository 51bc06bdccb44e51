/*
 * Internal: the host service thread of a device ring (opencl.c, cuda.c).
 * It moves host overflow lists into the lanes and, for a
 * GB_RING_EVENT_DRIVEN ring, launches one drain of the ring whenever
 * messages are in flight; otherwise it sleeps until kicked (at most 1 ms,
 * so overflow is pumped at least every millisecond). The backend supplies
 * the launch through a small ops struct.
 *
 * Threads: init/destroy/start/stop from the ring's owner, one at a time;
 * kick from any thread while the ring runs; health from any thread.
 */
#ifndef GBI_DEVICE_RING_SERVICE_H
#define GBI_DEVICE_RING_SERVICE_H

#include <pthread.h>
#include <stdatomic.h>

#include "gpubridge/status.h"
#include "ring/ring_internal.h"

typedef struct gbi_ring_service_ops {
    /* run once on the service thread before its loop (NULL: nothing); a
     * status other than GB_OK ends the thread and becomes the launch status */
    gb_status (*enter)(void *dev);
    /* launch one gb_ring_event drain of r and wait for it to finish; a
     * status other than GB_OK ends the thread and becomes the launch status */
    gb_status (*drain)(void *dev, gb_ring *r);
} gbi_ring_service_ops;

typedef struct gbi_ring_service {
    const gbi_ring_service_ops *ops;
    void *dev; /* passed to ops */
    gb_ring *ring;
    pthread_t thread;
    int running;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int kicked, stop;          /* under lock */
    _Atomic int kickable;      /* a ring is running (ring is set) */
    _Atomic int launch_status; /* GB_OK, or the failed launch's status */
} gbi_ring_service;

/* Prepare s (not started) for dev, whose launches ops makes. */
void gbi_ring_service_init(gbi_ring_service *s, const gbi_ring_service_ops *ops, void *dev);

/* Release what init made; s must be stopped (or never started). */
void gbi_ring_service_destroy(gbi_ring_service *s);

/* Start the service thread for ring. Returns 0, or -1 when the thread
 * could not be created (nothing started; the caller reports the error). */
int gbi_ring_service_start(gbi_ring_service *s, gb_ring *ring);

/* Wake the service thread for lane's new work: always for an event-driven
 * ring, only when the lane has spilled messages for a persistent one (its
 * kernel polls). No effect unless started. Thread-safe. */
void gbi_ring_service_kick(gbi_ring_service *s, uint32_t lane);

/* Stop kicks and join the service thread (no effect when not running). */
void gbi_ring_service_stop(gbi_ring_service *s);

/* GB_OK, or the status of the launch that failed. Thread-safe. */
gb_status gbi_ring_service_status(gbi_ring_service *s);

/* The ring's health: GB_OK, or GB_EDEVICE (detail under where) when an
 * event-driven launch failed, so the ring cannot drain. Thread-safe. */
gb_status gbi_ring_service_health(gbi_ring_service *s, const char *where);

#endif
