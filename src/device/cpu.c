/*
 * The cpu backend: shared memory is ordinary host memory, the ring's lanes
 * are consumed by POSIX threads running the dispatch loop compiled natively
 * (src/ring/ring_host.c). Thread t serves lanes t, t + T, ... .
 *
 * Idle strategy per mode: a GB_RING_PERSISTENT consumer, after its last
 * message, spins up to GBI_CPU_SPIN_NS (2 us; adaptive down to 1 us,
 * gbi_wait_adapt), then polls between sched_yield calls until
 * GBI_CPU_YIELD_NS (200 us), then parks on the condition variable like an
 * event-driven one (gbi_wait, src/ring/queue.h: phases by
 * elapsed time, not by round counts, so they do not depend on what a cpu
 * relax or a system call costs here). A message within the spin window is
 * picked up within one relax, so a host that answers at once (a round
 * trip) never meets a sleeping consumer; an idle ring costs nothing after
 * 200 us. The spin is short on purpose: on a machine with few cores the
 * consumer and the host thread waiting for its answer may share one core,
 * and then every spin of either is added to the round trip (a 50 us spin
 * made a shared-core round trip 57 us; now it is about 6 us, and on two
 * free cores about 0.3 us). GB_RING_EVENT_DRIVEN parks as soon as it is
 * idle. Both are woken by senders (kick). Wake protocol: a parking thread
 * increments `sleepers` and re-checks its lanes under the lock; a sender
 * publishes its message, issues a seq_cst fence and reads `sleepers`; with
 * seq_cst on both sides one of them sees the other, so no wakeup is lost.
 *
 * Resident buffers (backend.h buf_*) are host memory; a launch on them
 * calls the kernel's native build.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "device/backend.h"
#include "gpubridge/time.h"

typedef struct cpu_exec {
    gb_ring *ring;
    pthread_t *threads;
    uint32_t nthreads;
    uint32_t started;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    _Atomic uint32_t sleepers;
} cpu_exec;

/* How long an idle persistent consumer spins, then polls between yields,
 * before it parks (see the top of the file). */
#define GBI_CPU_SPIN_NS 2000
#define GBI_CPU_SPIN_MIN_NS 1000 /* the budget adapts between these (gbi_wait_adapt) */
#define GBI_CPU_YIELD_NS 200000

typedef struct cpu_thread_arg {
    cpu_exec *x;
    uint32_t tid;
} cpu_thread_arg;

static gb_status cpu_enumerate(gbi_device_info *out, uint32_t cap, uint32_t *count)
{
    if (cap > 0) {
        memset(out, 0, sizeof *out);
        strcpy(out->name, "host cpu threads");
        strcpy(out->version, "C11");
        out->fine_grain_svm = 1;
        out->timer_resolution_ns = 1;
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        out->compute_units = cpus > 0 ? (uint32_t)cpus : 1;
        long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
        out->global_mem = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
    }
    *count = 1;
    return GB_OK;
}

static gb_status cpu_open(void **self)
{
    cpu_exec *x = calloc(1, sizeof *x);
    if (!x)
        return gbi_error(GB_ENOMEM, "cpu_open", "no memory");
    pthread_mutex_init(&x->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&x->wake, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&x->sleepers, 0);
    *self = x;
    return GB_OK;
}

static gb_status cpu_compile(void *self, const char *source, const char *options)
{
    return gbi_error(GB_ENOTSUP, "cpu_compile",
                     "the cpu backend runs handlers compiled into the program; it has no run-time compiler");
}

static gb_status cpu_launch(void *self, const char *kernel, void *arg, uint32_t threads)
{
    return gbi_error(GB_ENOTSUP, "cpu_launch", "the cpu backend has no run-time kernels (%s)", kernel);
}

static int64_t cpu_timer(void *self)
{
    return gb_time_monotonic_ns();
}

static gb_status cpu_shm_alloc(void *self, size_t bytes, void **out)
{
    void *p = NULL;
    if (posix_memalign(&p, 128, bytes) != 0)
        return gbi_error(GB_ENOMEM, "cpu_alloc", "no memory for %zu bytes of ring memory", bytes);
    memset(p, 0, bytes);
    *out = p;
    return GB_OK;
}

static void cpu_shm_free(void *self, void *p)
{
    free(p);
}

static void cpu_kick(void *self, uint32_t lane)
{
    cpu_exec *x = self;
    atomic_thread_fence(memory_order_seq_cst); /* pairs with the parker's seq_cst */
    if (atomic_load_explicit(&x->sleepers, memory_order_seq_cst) == 0)
        return;
    pthread_mutex_lock(&x->lock);
    pthread_cond_broadcast(&x->wake);
    pthread_mutex_unlock(&x->lock);
}

/* Work for thread tid, or a control change? */
static int has_work(gb_ring *r, uint32_t tid)
{
    if (gb_atomic_load_seq_cst(&r->shm->control) != GB_RING_CTL_RUN)
        return 1;
    for (uint32_t l = tid; l < r->shm->lanes; l += r->shm->threads) {
        gb_mpsc_queue *q = gb_ring_lane_queue(r->shm, l);
        if (gb_atomic_load_seq_cst(&q->tail) != gb_atomic_load_seq_cst(&q->head) ||
            atomic_load_explicit(&r->senders[l].spilled, memory_order_seq_cst))
            return 1;
    }
    return 0;
}

static void cpu_park(cpu_exec *x, uint32_t tid)
{
    pthread_mutex_lock(&x->lock);
    atomic_fetch_add_explicit(&x->sleepers, 1, memory_order_seq_cst);
    atomic_thread_fence(memory_order_seq_cst);
    if (!has_work(x->ring, tid)) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += 100000000; /* a safety net only: wakeups come from kick */
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&x->wake, &x->lock, &ts);
    }
    atomic_fetch_sub_explicit(&x->sleepers, 1, memory_order_seq_cst);
    pthread_mutex_unlock(&x->lock);
}

static void *cpu_consumer(void *p)
{
    cpu_thread_arg a = *(cpu_thread_arg *)p;
    free(p);
    gb_ring *r = a.x->ring;
    gb_ring_ctx ctx;
    gbi_ring_host_ctx(r, &ctx, cpu_kick, a.x);
    int persistent = r->opts.mode == GB_RING_PERSISTENT;
    _Atomic int64_t spin; /* this thread's adaptive spin budget */
    atomic_init(&spin, GBI_CPU_SPIN_NS);
    gbi_wait idle;
    gbi_wait_init(&idle, GBI_CPU_SPIN_NS, GBI_CPU_YIELD_NS);
    for (;;) {
        uint32_t n = gbi_ring_host_pass(r, a.tid, &ctx);
        uint32_t ctl = gb_atomic_load_acquire(&r->shm->control);
        if (ctl == GB_RING_CTL_ABORT || (n == 0 && ctl != GB_RING_CTL_RUN))
            break;
        if (n) {
            if (idle.steps) {
                gbi_wait_adapt(&idle, &spin, GBI_CPU_SPIN_MIN_NS, GBI_CPU_SPIN_NS);
                gbi_wait_init(&idle, atomic_load_explicit(&spin, memory_order_relaxed), GBI_CPU_YIELD_NS);
            }
        } else if (!persistent || gbi_wait_step(&idle, 0) == GBI_WAIT_SLEEP) {
            cpu_park(a.x, a.tid);
            gbi_wait_init(&idle, atomic_load_explicit(&spin, memory_order_relaxed), GBI_CPU_YIELD_NS);
        }
    }
    return NULL;
}

static gb_status cpu_stop(void *self);

static gb_status cpu_start(void *self, gb_ring *ring)
{
    cpu_exec *x = self;
    x->ring = ring;
    x->nthreads = ring->shm->threads;
    x->threads = calloc(x->nthreads, sizeof *x->threads);
    if (!x->threads)
        return gbi_error(GB_ENOMEM, "cpu_ring_start", "no memory for %u threads", x->nthreads);
    for (uint32_t t = 0; t < x->nthreads; t++) {
        cpu_thread_arg *a = malloc(sizeof *a);
        if (!a || (a->x = x, a->tid = t, pthread_create(&x->threads[t], NULL, cpu_consumer, a)) != 0) {
            free(a);
            gb_atomic_store_seq_cst(&ring->shm->control, GB_RING_CTL_ABORT);
            cpu_stop(x);
            return gbi_error(GB_EDEVICE, "cpu_ring_start", "could not start consumer thread %u", t);
        }
        x->started++;
    }
    return GB_OK;
}

static gb_status cpu_stop(void *self)
{
    cpu_exec *x = self;
    for (uint32_t t = 0; t < x->started; t++) {
        cpu_kick(x, 0);
        pthread_join(x->threads[t], NULL);
    }
    x->started = 0;
    free(x->threads);
    x->threads = NULL;
    return GB_OK;
}

static void cpu_destroy(void *self)
{
    cpu_exec *x = self;
    if (!x)
        return;
    pthread_cond_destroy(&x->wake);
    pthread_mutex_destroy(&x->lock);
    free(x->threads);
    free(x);
}

/* ---- resident buffers: host memory (the cpu "device" is the host) ---- */

struct gbi_buf {
    size_t bytes;
    uint8_t *p;
};

static gb_status cpu_buf_alloc(void *self, size_t bytes, gbi_buf **out)
{
    if (!out || bytes == 0)
        return gbi_error(GB_EINVAL, "cpu_buf_alloc", "NULL out or zero bytes");
    gbi_buf *b = malloc(sizeof *b);
    void *p = NULL;
    if (!b || posix_memalign(&p, 128, bytes) != 0) {
        free(b);
        return gbi_error(GB_ENOMEM, "cpu_buf_alloc", "no memory for a buffer of %zu bytes", bytes);
    }
    b->bytes = bytes;
    b->p = p;
    *out = b;
    return GB_OK;
}

static void cpu_buf_free(void *self, gbi_buf *b)
{
    if (b)
        free(b->p);
    free(b);
}

static gb_status cpu_buf_copy(gbi_buf *b, const gbi_buf_range *r, uint32_t n, int write, const char *where)
{
    if (!b || (n && !r) || !gbi_buf_ranges_ok(r, n, b->bytes))
        return gbi_error(GB_EINVAL, where, "NULL buffer or a range outside its %zu bytes", b ? b->bytes : 0);
    for (uint32_t i = 0; i < n; i++)
        if (r[i].bytes && write)
            memcpy(b->p + r[i].off, r[i].host, r[i].bytes);
        else if (r[i].bytes)
            memcpy(r[i].host, b->p + r[i].off, r[i].bytes);
    return GB_OK;
}

static gb_status cpu_buf_write(void *self, gbi_buf *b, const gbi_buf_range *r, uint32_t n)
{
    return cpu_buf_copy(b, r, n, 1, "cpu_buf_write");
}

static gb_status cpu_buf_read(void *self, gbi_buf *b, const gbi_buf_range *r, uint32_t n)
{
    return cpu_buf_copy(b, r, n, 0, "cpu_buf_read");
}

static gb_status cpu_buf_launch(void *self, const char *kernel, gbi_native_kernel native, gbi_buf *in,
                                gbi_buf *out, uint32_t count)
{
    if (!in || !out)
        return gbi_error(GB_EINVAL, "cpu_buf_launch", "NULL buffer");
    if (!native)
        return gbi_error(GB_ENOTSUP, "cpu_buf_launch", "kernel '%s' has no native build for the cpu backend",
                         kernel ? kernel : "?");
    native(in->p, out->p, count);
    return GB_OK;
}

static const gbi_ring_exec_ops cpu_ring_ops = {
    .name = "cpu",
    .shm_alloc = cpu_shm_alloc,
    .shm_free = cpu_shm_free,
    .start = cpu_start,
    .kick = cpu_kick,
    .stop = cpu_stop,
    .destroy = cpu_destroy,
};

const gbi_backend_ops gbi_backend_cpu = {
    .name = "cpu",
    .enumerate = cpu_enumerate,
    .open = cpu_open,
    .compile = cpu_compile,
    .launch = cpu_launch,
    .timer_ns = cpu_timer,
    .buf_alloc = cpu_buf_alloc,
    .buf_free = cpu_buf_free,
    .buf_write = cpu_buf_write,
    .buf_read = cpu_buf_read,
    .buf_launch = cpu_buf_launch,
    .ring = &cpu_ring_ops,
};
