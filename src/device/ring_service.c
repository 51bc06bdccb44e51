/*
 * The service thread of a device ring, shared by the opencl and cuda
 * backends (see ring_service.h): overflow pumping, event-driven drains
 * through the backend's ops, kick/stop under one mutex and condition.
 *
 * Invariant: kickable is 1 only between a successful start and the next
 * stop; it is stored (release) after ring is set, so a kick that loads it
 * (acquire) sees the ring.
 */
#include "device/ring_service.h"

#include <time.h>

#include "base/error.h"

void gbi_ring_service_init(gbi_ring_service *s, const gbi_ring_service_ops *ops, void *dev)
{
    s->ops = ops;
    s->dev = dev;
    atomic_init(&s->kickable, 0);
    atomic_init(&s->launch_status, GB_OK);
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &ca);
    pthread_condattr_destroy(&ca);
}

void gbi_ring_service_destroy(gbi_ring_service *s)
{
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
}

static void service_wait_kick(gbi_ring_service *s)
{
    pthread_mutex_lock(&s->lock);
    if (!s->kicked && !s->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += 1000000; /* pump overflow at least every millisecond */
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&s->wake, &s->lock, &ts);
    }
    s->kicked = 0;
    pthread_mutex_unlock(&s->lock);
}

static int service_stopping(gbi_ring_service *s)
{
    pthread_mutex_lock(&s->lock);
    int stop = s->stop;
    pthread_mutex_unlock(&s->lock);
    return stop;
}

static void *service_main(void *p)
{
    gbi_ring_service *s = p;
    gb_ring *r = s->ring;
    gb_status st = s->ops->enter ? s->ops->enter(s->dev) : GB_OK;
    if (st != GB_OK) {
        atomic_store_explicit(&s->launch_status, st, memory_order_release);
        return NULL;
    }
    while (!service_stopping(s)) {
        for (uint32_t l = 0; l < r->shm->lanes; l++)
            gbi_sender_pump(&r->senders[l]);
        int work = gb_atomic_load_acquire(&r->shm->inflight) != 0;
        if (r->opts.mode == GB_RING_EVENT_DRIVEN && work &&
            gb_atomic_load_acquire(&r->shm->control) != GB_RING_CTL_ABORT) {
            st = s->ops->drain(s->dev, r);
            if (st != GB_OK) {
                atomic_store_explicit(&s->launch_status, st, memory_order_release);
                break;
            }
            continue;
        }
        service_wait_kick(s);
    }
    return NULL;
}

int gbi_ring_service_start(gbi_ring_service *s, gb_ring *ring)
{
    s->ring = ring;
    s->stop = 0;
    if (pthread_create(&s->thread, NULL, service_main, s) != 0)
        return -1;
    s->running = 1;
    atomic_store_explicit(&s->kickable, 1, memory_order_release); /* publishes s->ring to kick */
    return 0;
}

void gbi_ring_service_kick(gbi_ring_service *s, uint32_t lane)
{
    if (!atomic_load_explicit(&s->kickable, memory_order_acquire))
        return; /* not started (or stopping): the start or the drain does the work */
    /* a persistent kernel polls; the service thread is needed only to move
     * spilled messages into the lane */
    if (s->ring->opts.mode == GB_RING_PERSISTENT &&
        atomic_load_explicit(&s->ring->senders[lane].spilled, memory_order_acquire) == 0)
        return;
    pthread_mutex_lock(&s->lock);
    s->kicked = 1;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
}

void gbi_ring_service_stop(gbi_ring_service *s)
{
    atomic_store_explicit(&s->kickable, 0, memory_order_release);
    if (!s->running)
        return;
    pthread_mutex_lock(&s->lock);
    s->stop = 1;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    s->running = 0;
}

gb_status gbi_ring_service_status(gbi_ring_service *s)
{
    return atomic_load_explicit(&s->launch_status, memory_order_acquire);
}

gb_status gbi_ring_service_health(gbi_ring_service *s, const char *where)
{
    if (gbi_ring_service_status(s) != GB_OK)
        return gbi_error(GB_EDEVICE, where, "an event-driven launch failed; the ring cannot drain");
    return GB_OK;
}
