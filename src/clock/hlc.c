/*
 * Hybrid logical clock (DESIGN.md 3.1), packed form.
 *
 * Because the physical part is counted in 4096 ns units in the upper 52 bits,
 * "pt_ns & ~0xFFF" is already a packed timestamp with logical 0, and the
 * logical counter overflowing into the physical part is just integer +1.
 *
 * Invariant: `last` only grows. Every tick is one CAS from the observed
 * `last` to a strictly larger value, so concurrent callers obtain distinct
 * timestamps and each thread's timestamps strictly increase. `last` never
 * reaches 2^64 - 1 (so `+ 1` cannot wrap): physical time is below 2^63 ns,
 * and remote timestamps at or above 2^63 are rejected.
 *
 * The default physical source is gb_time_realtime_fast_ns (CLOCK_REALTIME
 * extrapolated with the TSC); it may step back slightly at a re-anchor, as
 * CLOCK_REALTIME itself may, and the max() in the rules absorbs that.
 */
#include "base/error.h"
#include "gpubridge/clock.h"
#include "gpubridge/time.h"

#include <stdatomic.h>
#include <stdlib.h>

struct gb_hlc {
    _Atomic uint64_t last;
    _Atomic uint64_t rejected;
    int64_t max_offset_ns;
    int64_t (*physical_ns)(void *ctx);
    void *ctx;
    uint32_t node_id;
};

/* Remote timestamps at or above this are beyond any int64 ns time. */
#define HLC_REMOTE_LIMIT ((gb_hlc_t)1 << 63)

static int64_t realtime_source(void *ctx)
{
    (void)ctx;
    return gb_time_realtime_fast_ns();
}

gb_status gb_hlc_create(gb_hlc **out, const gb_hlc_opts *opts)
{
    if (!out)
        return gbi_error(GB_EINVAL, "gb_hlc_create", "out is NULL");
    *out = NULL;
    gb_hlc_opts o = {0};
    if (opts)
        o = *opts;
    if (o.max_offset_ns < 0)
        return gbi_error(GB_EINVAL, "gb_hlc_create", "max_offset_ns %lld is negative",
                         (long long)o.max_offset_ns);
    gb_hlc *c = calloc(1, sizeof *c);
    if (!c)
        return gbi_error(GB_ENOMEM, "gb_hlc_create", "out of memory");
    c->max_offset_ns = o.max_offset_ns ? o.max_offset_ns : GB_HLC_DEFAULT_MAX_OFFSET_NS;
    c->physical_ns = o.physical_ns ? o.physical_ns : realtime_source;
    c->ctx = o.physical_ns ? o.ctx : NULL;
    c->node_id = o.node_id;
    atomic_init(&c->last, 0);
    atomic_init(&c->rejected, 0);
    *out = c;
    return GB_OK;
}

void gb_hlc_destroy(gb_hlc *clock)
{
    free(clock);
}

static gb_hlc_t physical_now(const gb_hlc *c)
{
    int64_t ns = c->physical_ns(c->ctx);
    return ns > 0 ? (gb_hlc_t)ns & ~GB_HLC_LOGICAL_MASK : 0;
}

/* Advance `last` to max(floor + 1, pt) atomically (a fetch_add when that is
 * last + 1, else a CAS loop); returns the value stored. floor is the larger
 * of `last` and the remote timestamp. */
static gb_hlc_t advance(gb_hlc *c, gb_hlc_t remote, gb_hlc_t pt)
{
    /* The load may be relaxed: the CAS re-validates it. The CAS is acq_rel
     * so that a tick which observes another thread's tick also observes
     * that thread's earlier writes (the clock then orders like a lock);
     * on x86 a locked CAS costs the same either way. */
    gb_hlc_t last = atomic_load_explicit(&c->last, memory_order_relaxed);
    /* The clock already at or past pt and remote (the common case when
     * ticks come faster than the 4096 ns physical unit): the result is
     * `last + 1` for whatever `last` is when we write, since other threads
     * only raise it, so one fetch_add, which cannot fail, does the CAS
     * loop's work without its retries under contention. */
    if (last >= pt && last >= remote)
        return atomic_fetch_add_explicit(&c->last, 1, memory_order_acq_rel) + 1;
    for (;;) {
        gb_hlc_t floor = last > remote ? last : remote;
        gb_hlc_t next = floor + 1 > pt ? floor + 1 : pt;
        if (atomic_compare_exchange_weak_explicit(&c->last, &last, next, memory_order_acq_rel,
                                                  memory_order_relaxed))
            return next;
    }
}

gb_hlc_t gb_hlc_now(gb_hlc *clock)
{
    if (!clock)
        return 0;
    return advance(clock, 0, physical_now(clock));
}

/* Count and report a remote timestamp that may not be absorbed. */
static gb_status reject(gb_hlc *clock, gb_hlc_t remote, gb_hlc_t pt)
{
    atomic_fetch_add_explicit(&clock->rejected, 1, memory_order_relaxed);
    if (remote >= HLC_REMOTE_LIMIT)
        return gbi_error(GB_ECLOCK, "gb_hlc_update",
                         "remote timestamp %#llx is beyond the representable time range",
                         (unsigned long long)remote);
    return gbi_error(GB_ECLOCK, "gb_hlc_update",
                     "remote timestamp %#llx is %llu ns ahead of local time (max offset %lld ns)",
                     (unsigned long long)remote,
                     (unsigned long long)((remote & ~GB_HLC_LOGICAL_MASK) - pt),
                     (long long)clock->max_offset_ns);
}

gb_status gb_hlc_update(gb_hlc *clock, gb_hlc_t remote, gb_hlc_t *out)
{
    if (!clock)
        return gbi_error(GB_EINVAL, "gb_hlc_update", "clock is NULL");
    gb_hlc_t pt = physical_now(clock);
    /* Unsigned: a remote with bit 63 set must not pass as "in the past". */
    gb_hlc_t remote_pt = remote & ~GB_HLC_LOGICAL_MASK;
    if (remote >= HLC_REMOTE_LIMIT ||
        (remote_pt > pt && remote_pt - pt > (gb_hlc_t)clock->max_offset_ns))
        return reject(clock, remote, pt);
    gb_hlc_t t = advance(clock, remote, pt);
    if (out)
        *out = t;
    return GB_OK;
}

/* The casts drop const only because C11 atomic_load takes a non-const
 * pointer; nothing is written. */
gb_hlc_t gb_hlc_peek(const gb_hlc *clock)
{
    return clock ? atomic_load_explicit(&((gb_hlc *)clock)->last, memory_order_relaxed) : 0;
}

uint64_t gb_hlc_rejected(const gb_hlc *clock)
{
    return clock ? atomic_load_explicit(&((gb_hlc *)clock)->rejected, memory_order_relaxed) : 0;
}

uint32_t gb_hlc_node_id(const gb_hlc *clock)
{
    return clock ? clock->node_id : 0;
}

int64_t gb_hlc_physical_ns(gb_hlc_t t)
{
    return (int64_t)(t & ~GB_HLC_LOGICAL_MASK);
}

uint32_t gb_hlc_logical(gb_hlc_t t)
{
    return (uint32_t)(t & GB_HLC_LOGICAL_MASK);
}

gb_hlc_t gb_hlc_make(int64_t physical_ns, uint32_t logical)
{
    gb_hlc_t p = physical_ns > 0 ? (gb_hlc_t)physical_ns & ~GB_HLC_LOGICAL_MASK : 0;
    return p | (logical & GB_HLC_LOGICAL_MASK);
}

int gb_hlc_compare_total(gb_hlc_t a, uint32_t node_a, gb_hlc_t b, uint32_t node_b)
{
    if (a != b)
        return a < b ? -1 : 1;
    if (node_a != node_b)
        return node_a < node_b ? -1 : 1;
    return 0;
}
