/*
 * The silo: options, creation (directory, call slab, HLC, workers, service
 * thread), shutdown with drain, counters, and the one-way send entry point.
 *
 * Shutdown (gb_silo_destroy):
 *  1. closing = 1: external sends and calls get GB_ECLOSED; handlers still
 *     send, timers stop ticking, idle collection stops;
 *  2. drain until quiescent (no turn running, no actor queued, every
 *     mailbox empty, twice with no turn started in between) or until
 *     drain_timeout_ns;
 *  3. closing = 2: every send fails with GB_ECLOSED; workers and the service
 *     thread stop, and turns run by external callers (caller slots) end;
 *  4. on the destroying thread: every queued message is handled in a last
 *     turn (handlers' sends and calls now fail with GB_ECLOSED, so this
 *     ends), then calls still pending complete with GB_ECLOSED (their
 *     completions are handled in turn), until nothing is left; so each
 *     accepted message is handled or its caller gets GB_ECLOSED; then every
 *     active actor is deactivated;
 *  5. wait for threads still inside gb_call to leave, then free.
 */
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "actor/runtime.h"
#include "base/error.h"
#include "gpubridge/log.h"
#include "gpubridge/time.h"

static gb_status normalise(gb_silo_opts *o)
{
    if (o->max_payload > GB_MSG_SLOT_MAX - GB_MSG_HEADER_SIZE)
        return gbi_error(GB_EINVAL, "gb_silo_create", "max_payload %u exceeds %u", o->max_payload,
                         GB_MSG_SLOT_MAX - GB_MSG_HEADER_SIZE);
    if (o->full_policy != GB_FULL_FAIL && o->full_policy != GB_FULL_BLOCK)
        return gbi_error(GB_EINVAL, "gb_silo_create", "unknown full_policy %d", (int)o->full_policy);
    if (!o->workers) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        o->workers = n > 0 ? (uint32_t)n : 1;
    }
    if (o->workers > 1024)
        return gbi_error(GB_EINVAL, "gb_silo_create", "%u workers is too many", o->workers);
    o->mailbox_capacity = o->mailbox_capacity ? o->mailbox_capacity : 65536;
    o->max_payload = o->max_payload ? o->max_payload : GB_MSG_SLOT_MAX - GB_MSG_HEADER_SIZE;
    o->batch = o->batch ? o->batch : 32;
    o->spin_ns = o->spin_ns ? (o->spin_ns < 0 ? 0 : o->spin_ns) : 20000;
    o->caller_spin_ns = o->caller_spin_ns ? (o->caller_spin_ns < 0 ? 0 : o->caller_spin_ns) : 20000;
    o->stuck_turn_ns = o->stuck_turn_ns ? (o->stuck_turn_ns < 0 ? 0 : o->stuck_turn_ns) : 1000000000LL;
    o->drain_timeout_ns = o->drain_timeout_ns > 0 ? o->drain_timeout_ns : 5000000000LL;
    o->collect_period_ns = o->collect_period_ns > 0 ? o->collect_period_ns : 100000000LL;
    o->default_timeout_ns = o->default_timeout_ns > 0 ? o->default_timeout_ns : 30000000000LL;
    int64_t *times[] = {&o->spin_ns,          &o->caller_spin_ns,    &o->stuck_turn_ns,
                        &o->drain_timeout_ns, &o->collect_period_ns, &o->default_timeout_ns};
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++)
        if (*times[i] > GBI_FOREVER_NS / 16) /* now + 16 x t stays in range */
            *times[i] = GBI_FOREVER_NS / 16;
    return GB_OK;
}

static void *zalloc_aligned(size_t n)
{
    size_t size = (n + GBI_CACHE_LINE - 1) & ~(size_t)(GBI_CACHE_LINE - 1);
    void *p = aligned_alloc(GBI_CACHE_LINE, size);
    if (p)
        memset(p, 0, size);
    return p;
}

_Thread_local gbi_pt_cache gbi_tl_pt;

/* The HLC's physical source: realtime extrapolated with the TSC
 * (gb_time_realtime_fast_ns; a clock_gettime per message would cost more
 * than the rest of a send). Even that read was 20-35% of a flooding
 * sender's profile in this VM, where the TSC read is slow, so inside one
 * handler invocation a reading serves up to GBI_PT_REUSE stamps
 * (gbi_tl_pt, reset before each message a turn handles and each
 * deactivation at destroy). The HLC's physical
 * unit is 4096 ns, so a stamp differs from a fresh read's only when the
 * handler spent longer than that between those sends; either way the stamp
 * is max(last + 1, pt) with a pt that was real time during this handler, so
 * causal order and the max_offset check are unchanged. Outside handlers
 * every stamp reads the clock. */
static int64_t physical_ns(void *ctx)
{
    (void)ctx;
    gbi_pt_cache *c = &gbi_tl_pt;
    if (c->left && gbi_tl_ctx) {
        c->left--;
        return c->ns;
    }
    int64_t ns = gb_time_realtime_fast_ns();
    if (gbi_tl_ctx) {
        c->ns = ns;
        c->left = GBI_PT_REUSE - 1;
    }
    return ns;
}

static gb_status alloc_parts(gb_silo *s)
{
    gb_hlc_opts ho = {.node_id = s->o.node_id, .physical_ns = physical_ns};
    gb_status st = gb_hlc_create(&s->hlc, &ho);
    if (st == GB_OK)
        st = gbi_dir_create(&s->dir);
    if (st == GB_OK)
        st = gbi_calls_create(&s->calls);
    if (st == GB_OK)
        st = gbi_feed_create(s);
    if (st != GB_OK)
        return st;
    s->workers = zalloc_aligned(gbi_nturn_records(s) * sizeof *s->workers);
    s->runqs = zalloc_aligned(s->nworkers * sizeof *s->runqs);
    if (!s->workers || !s->runqs)
        return gbi_error(GB_ENOMEM, "gb_silo_create", "out of memory");
    for (uint32_t i = 0; i < s->nworkers; i++)
        gbi_runq_init(&s->runqs[i]);
    for (uint32_t i = s->nworkers; i < gbi_nturn_records(s); i++) { /* caller slots */
        s->workers[i].silo = s;
        s->workers[i].index = i;
    }
    return GB_OK;
}

static void free_parts(gb_silo *s)
{
    gbi_msg_pool_drain(s);
    gbi_dir_destroy(s->dir);
    gbi_calls_destroy(s->calls);
    gbi_feed_destroy(s);
    gbi_devtypes_free(s);
    gbi_types_free(s);
    gb_hlc_destroy(s->hlc);
    free(s->workers);
    free(s->runqs);
    pthread_mutex_destroy(&s->types_lock);
    free(s);
}

gb_status gb_silo_create(gb_silo **out, const gb_silo_opts *opts)
{
    if (!out)
        return gbi_error(GB_EINVAL, "gb_silo_create", "out is NULL");
    *out = NULL;
    gb_silo *s = zalloc_aligned(sizeof *s);
    if (!s)
        return gbi_error(GB_ENOMEM, "gb_silo_create", "out of memory");
    if (opts)
        s->o = *opts;
    pthread_mutex_init(&s->types_lock, NULL);
    gb_status st = normalise(&s->o);
    s->nworkers = s->o.workers;
    s->help_depth = s->o.mailbox_capacity / 2 < GBI_HELP_DEPTH ? s->o.mailbox_capacity / 2 : GBI_HELP_DEPTH;
    if (s->help_depth < 2)
        s->help_depth = 2;
    atomic_init(&s->caller_spin_cur, s->o.caller_spin_ns);
    if (st == GB_OK)
        st = alloc_parts(s);
    if (st == GB_OK)
        st = gbi_sched_start(s);
    if (st == GB_OK)
        st = gbi_service_start(s);
    if (st != GB_OK) {
        atomic_store(&s->closing, 2);
        if (s->workers)
            gbi_sched_stop(s);
        gbi_service_stop(s);
        free_parts(s);
        return st;
    }
    *out = s;
    return GB_OK;
}

/* ---- shutdown ---------------------------------------------------------------- */

static void depth_sum(gbi_actor *a, void *arg)
{
    *(uint64_t *)arg += atomic_load_explicit(&a->depth, memory_order_acquire);
}

static uint64_t turns_started(gb_silo *s)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < gbi_nturn_records(s); i++)
        n += atomic_load_explicit(&s->workers[i].turn_seq, memory_order_acquire);
    return n;
}

static int quiescent(gb_silo *s)
{
    uint64_t before = turns_started(s);
    if (gbi_sched_busy(s))
        return 0;
    uint64_t queued = 0;
    gbi_dir_foreach(s->dir, depth_sum, &queued);
    return queued == 0 && !gbi_sched_busy(s) && turns_started(s) == before;
}

static void drain(gb_silo *s)
{
    int64_t deadline = gbi_now_ns() + s->o.drain_timeout_ns;
    struct timespec pause = {0, 100000};
    while (!quiescent(s) && gbi_now_ns() < deadline)
        nanosleep(&pause, NULL);
}

/* Drain CPU actors and device rings until both are quiet at once (their
 * messages to each other included), for at most drain_timeout_ns. */
static void drain_with_rings(gb_silo *s)
{
    int64_t deadline = gbi_now_ns() + s->o.drain_timeout_ns;
    struct timespec pause = {0, 100000};
    drain(s);
    while (!(gbi_devtypes_quiet(s) && quiescent(s)) && gbi_now_ns() < deadline) {
        nanosleep(&pause, NULL);
        drain(s);
    }
}

/* Run every queued actor on this thread until no run queue holds one. */
static int run_queued(gb_silo *s)
{
    int ran = 0;
    for (uint32_t i = 0; i < s->nworkers; i++) {
        gbi_mpsc_node *n;
        while ((n = gbi_runq_pop(&s->runqs[i]))) {
            gbi_actor *a = (gbi_actor *)(void *)n;
            if (gbi_turn_run(s, a, gbi_counters_here(s)))
                gbi_sched_push(s, a);
            ran = 1;
        }
    }
    return ran;
}

static void final_deactivate(gbi_actor *a, void *arg)
{
    gb_silo *s = arg;
    if (!a->active)
        return;
    gb_actor_ctx ctx = {.silo = s, .actor = a, .c = gbi_counters_here(s)};
    gbi_tl_ctx = &ctx;
    gbi_tl_pt.left = 0;
    gbi_deactivate(&ctx, 1);
    gbi_tl_ctx = NULL;
}

void gb_silo_destroy(gb_silo *s)
{
    if (!s)
        return;
    if (gbi_tl_worker && gbi_tl_worker->silo == s) {
        /* joining our own worker would hang the process: refuse loudly */
        gb_log(GB_LOG_ERROR, "actor",
               "gb_silo_destroy called from a handler of that silo: "
               "ignored (destroy it from another thread)");
        return;
    }
    atomic_store_explicit(&s->closing, 1, memory_order_seq_cst);
    atomic_fetch_add_explicit(&s->space_seq, 1, memory_order_release);
    gbi_unpark(&s->space_seq, 1); /* senders waiting for room: see closing */
    drain_with_rings(s);
    gbi_devtypes_stop(s); /* rings drained, their output delivered to CPU actors */
    drain(s);
    atomic_store_explicit(&s->closing, 2, memory_order_seq_cst);
    gbi_sched_stop(s);
    gbi_service_stop(s);
    gbi_sched_wait_callers(s); /* no caller-run turn from here on */
    /* handle what is queued first (its replies still reach their callers),
     * then close the calls nobody will answer, whose completions queue more */
    while (run_queued(s) || gbi_calls_close_all(s))
        ;
    gbi_dir_foreach(s->dir, final_deactivate, s);
    gbi_calls_close_all(s); /* calls made by deactivate hooks fail; nothing pends */
    while (atomic_load_explicit(&s->ext_waiters, memory_order_acquire) > 0)
        sched_yield();
    free_parts(s);
}

/* ---- counters ---------------------------------------------------------------- */

static void add(gb_silo_stats *o, const gbi_counters *c)
{
#define GBI_ADD(f, g) o->f += atomic_load_explicit(&c->g, memory_order_relaxed)
    GBI_ADD(sent, sent);
    GBI_ADD(delivered, delivered);
    GBI_ADD(responses, responses);
    GBI_ADD(activations, activations);
    GBI_ADD(deactivations, deactivations);
    GBI_ADD(deadlocks, deadlocks);
    GBI_ADD(timeouts, timeouts);
    GBI_ADD(late_responses, late);
    GBI_ADD(mailbox_full, full);
    GBI_ADD(stuck_turns, stuck);
    GBI_ADD(dropped, dropped);
    GBI_ADD(helped_turns, helped);
#undef GBI_ADD
}

gb_status gb_silo_stats_get(gb_silo *s, gb_silo_stats *out)
{
    if (!s || !out)
        return gbi_error(GB_EINVAL, "gb_silo_stats_get", "silo and out must not be NULL");
    memset(out, 0, sizeof *out);
    for (int i = 0; i < GBI_EXT_STRIPES; i++)
        add(out, &s->ext[i].c);
    for (uint32_t i = 0; i < gbi_nturn_records(s); i++)
        add(out, &s->workers[i].c);
    out->actors = gbi_dir_count(s->dir);
    out->active = out->activations - out->deactivations;
    return GB_OK;
}

gb_hlc *gb_silo_clock(gb_silo *s)
{
    return s ? s->hlc : NULL;
}

/* ---- sending ------------------------------------------------------------------ */

gb_status gbi_check_payload(gb_silo *s, const void *payload, uint32_t len, const char *where)
{
    if (!payload && len)
        return gbi_error(GB_EINVAL, where, "payload is NULL but len is %u", len);
    if (len > s->o.max_payload)
        return gbi_error(GB_EMSGSIZE, where, "payload of %u bytes exceeds %u", len, s->o.max_payload);
    return GB_OK;
}

gb_status gbi_resolve(gb_silo *s, gb_actor_id target, int internal, gbi_actor **out, const char *where)
{
    int closing = atomic_load_explicit(&s->closing, memory_order_acquire);
    if (closing == 2 || (closing == 1 && !internal))
        return gbi_error(GB_ECLOSED, where, "silo is shutting down");
    gbi_actor *a = gbi_dir_lookup(s->dir, target);
    if (!a)
        return gbi_error(GB_ENOENT, where, "actor %016llx is unknown here (resolve it with gb_actor_ref_*)",
                         (unsigned long long)target);
    if (a->location != GBI_LOC_CPU && a->location != GBI_LOC_RING)
        return gbi_error(GB_ENOTSUP, where, "actor %016llx lives where this silo cannot route",
                         (unsigned long long)target);
    *out = a;
    return GB_OK;
}

gb_status gb_send(gb_silo *s, gb_actor_id target, uint32_t method, const void *payload, uint32_t len)
{
    if (!s)
        return gbi_error(GB_EINVAL, "gb_send", "silo is NULL");
    gb_status st = gbi_check_payload(s, payload, len, "gb_send");
    if (st != GB_OK)
        return st;
    gb_actor_ctx *ctx = gbi_tl_ctx;
    int internal = ctx && ctx->silo == s;
    gbi_actor *a;
    st = gbi_resolve(s, target, internal, &a, "gb_send");
    if (st != GB_OK)
        return st;
    return gbi_request(s, a, method, payload, len, NULL, 0, internal ? ctx->actor->id : 0, 0);
}
