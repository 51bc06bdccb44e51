/*
 * Internal: the ring object shared by the ring layer (layout, host senders
 * and receivers, stop/drain logic) and the executors of the device layer
 * (cpu threads, OpenCL kernels) that consume the lanes.
 */
#ifndef GBI_RING_INTERNAL_H
#define GBI_RING_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "gpubridge/ring.h"
#include "ring/kernels.h"
#include "ring/queue.h"

/* What a ring needs from whoever runs its consumers. */
typedef struct gbi_ring_exec_ops {
    const char *name;
    /* memory host and device share (128-byte aligned, zeroed) */
    gb_status (*shm_alloc)(void *self, size_t bytes, void **out);
    void (*shm_free)(void *self, void *p);
    /* start consuming; the layout is initialised */
    gb_status (*start)(void *self, gb_ring *ring);
    /* work arrived on lane (may be NULL) */
    void (*kick)(void *self, uint32_t lane);
    /* control was set to STOP or ABORT: return once every consumer exited */
    gb_status (*stop)(void *self);
    /* GB_OK while consumers can make progress (may be NULL: always) */
    gb_status (*health)(void *self);
    void (*destroy)(void *self);
} gbi_ring_exec_ops;

enum { GBI_RING_CREATED = 0, GBI_RING_RUNNING = 1, GBI_RING_STOPPED = 2 };

struct gb_ring {
    const gbi_ring_exec_ops *ops;
    void *exec;
    gb_ring_shm *shm;
    size_t shm_bytes;
    gbi_lane_sender *senders; /* one per lane */
    gb_ring_opts opts;        /* normalised copy */
    gb_ring_actor_type *types;
    gb_ring_handler_fn *handlers; /* cpu: per type */
    _Atomic int closed;       /* sends refused */
    /* host senders inside gb_ring_send (past their first look at `closed`):
     * once `closed` is set and this reads 0, no host send can still put a
     * message into a lane (gb_ring_take_pending waits for that) */
    _Alignas(64) _Atomic uint32_t in_send;
    _Atomic int stop_waiters; /* blocked senders give up when set */
    int state;                /* GBI_RING_*, start/stop thread only */
    pthread_mutex_t recv_lock;
    _Atomic int64_t recv_spin_ns; /* receivers' adaptive spin budget (gbi_wait_adapt) */
    _Atomic uint64_t discarded;
};

/* Validate opts and fill defaults into *norm (pointers still borrowed).
 * Errors: GB_EINVAL with a sentence. Thread-safe. */
gb_status gbi_ring_normalize(const gb_ring_opts *opts, gb_ring_opts *norm);

/* Build a ring over an executor: lay out shared memory, init the lanes.
 * Takes ownership of exec (destroyed on failure too).
 * Errors: GB_ENOMEM, GB_EINVAL. */
gb_status gbi_ring_build(gb_ring **out, const gb_ring_opts *norm, const gbi_ring_exec_ops *ops, void *exec);

/* Move a lane's overflow into its queue (see gbi_sender_pump). */
uint32_t gbi_ring_pump_lane(gb_ring *ring, uint32_t lane);

/* Host dispatch (the CPU backend): one pass over thread tid's lanes,
 * pumping their overflow first. Returns the messages handled. */
uint32_t gbi_ring_host_pass(gb_ring *ring, uint32_t tid, gb_ring_ctx *ctx);

/* Prepare a host context (handlers, notify hook for K2K wakeups). */
void gbi_ring_host_ctx(gb_ring *ring, gb_ring_ctx *ctx, void (*notify)(void *, uint32_t), void *arg);

/* The device program: prelude + user source + generated handler switch +
 * dispatch loop, malloc'd (caller frees). Errors: GB_ENOMEM, GB_EINVAL
 * (a device_fn that is not a C identifier). */
gb_status gbi_ring_device_source(const gb_ring_opts *norm, char **out);

/* Device-timer constants of a new ring's header (ring_clock.c). */
void gbi_ring_clock_init(gb_ring_shm *h);

#endif
