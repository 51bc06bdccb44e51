/*
 * Device actors: actor types whose handler is portable kernel C and runs on
 * a ring (src/ring) instead of the CPU worker pool.
 *
 * Each device type gets its own ring, started on the first message on the
 * first available backend of its chain (GB_DEVICES overrides the type's
 * `devices`); its actors' directory records say GBI_LOC_RING, and
 * gbi_mailbox_put hands their messages to gbi_ring_route_put, which copies
 * them into the ring (gb_ring_send, spilling to the host overflow list
 * rather than refusing or blocking, so nothing accepted is lost and a
 * handler never blocks its worker). K2K sends between actors of the type
 * stay on the device.
 *
 * One drain thread per ring owns the ring's outbound queue: responses
 * complete the calls they answer (gbi_call_complete, which also advances
 * the silo HLC past the device's stamp), one-way messages go to their
 * targets' mailboxes (or rings), and requests that handlers made with
 * gb_ring_begin_call become calls of the silo (device_call.c).
 * gb_ring_recv spins, yields, then sleeps in short steps, so an idle drain
 * thread costs little and a busy one answers within a few microseconds. The same thread calibrates the
 * device clock (a burst of ring clock pings at start and every second) and
 * publishes the fit to the ring, whose HLC then carries physical time.
 * Every millisecond it also asks whether the ring failed (the executor's
 * health, the broker's GB_OP_RING fault point); a failed ring is replaced
 * on the next backend of the chain by device_failover.c.
 *
 * Each type has a broker over its chain (created with its first ring):
 * the failed device is marked unhealthy there, and its breaker steers
 * later failovers away from a device that keeps failing.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actor/device_actor.h"
#include "base/error.h"
#include "gpubridge/log.h"
#include "gpubridge/time.h"

#define CALIB_SAMPLES 64
#define CALIB_PERIOD_NS 1000000000LL
#define RECV_WAIT_NS 2000000LL
#define CHECK_PERIOD_NS 1000000LL

static char *dup_or_null(const char *s, int *bad)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    *bad |= !d;
    return d;
}

gb_status gbi_devtype_create(gb_silo *s, gbi_type *t, const gb_actor_device *d)
{
    const char *w = "gb_actor_type_register";
    if (!d->host_fn && !d->source)
        return gbi_error(GB_EINVAL, w, "device type '%s' has neither host_fn nor source", t->name);
    if (d->source && !d->fn)
        return gbi_error(GB_EINVAL, w, "device type '%s': source without fn (the handler's name)", t->name);
    if (d->state_size > 65536 || (d->mode != GB_RING_PERSISTENT && d->mode != GB_RING_EVENT_DRIVEN))
        return gbi_error(GB_EINVAL, w, "device type '%s': state_size above 65536 or unknown mode", t->name);
    gbi_devtype *dt = calloc(1, sizeof *dt);
    if (!dt)
        return gbi_error(GB_ENOMEM, w, "out of memory");
    int bad = 0;
    dt->silo = s;
    dt->type = t;
    dt->d = *d;
    dt->d.source = dup_or_null(d->source, &bad);
    dt->d.fn = dup_or_null(d->fn, &bad);
    dt->d.devices = dup_or_null(d->devices ? d->devices : "cuda,opencl,cpu", &bad);
    dt->entry = GBI_NO_ENTRY;
    pthread_mutex_init(&dt->lock, NULL);
    pthread_mutex_init(&dt->fit_lock, NULL);
    pthread_rwlock_init(&dt->idle_lock, NULL);
    t->dev = dt;
    return bad ? gbi_error(GB_ENOMEM, w, "out of memory") : GB_OK;
}

/* ---- outbound: responses and messages from the device ----------------------- */

static gbi_msg *copy_in(gb_silo *s, const gb_msg_header *h, const void *payload)
{
    gbi_msg *m = gbi_msg_new(s, h->payload_len, 0);
    if (!m)
        return NULL;
    m->hdr = *h;
    m->hdr.reserved = 0;
    m->local_stamp = 0; /* a device stamp: the receiver runs gb_hlc_update */
    if (h->payload_len)
        memcpy(gbi_msg_payload(m), payload, h->payload_len);
    if (GBI_FEED_ON(s))
        gbi_feed_send(s, m); /* causal: it leaves the device actor here */
    return m;
}

static void deliver_response(gb_silo *s, const gb_msg_header *h, const void *payload)
{
    gb_status status = GB_OK;
    if (h->flags & GB_MSG_ERROR) {
        int32_t v = GB_EINTERNAL;
        if (h->payload_len >= 4)
            memcpy(&v, payload, 4);
        status = v ? (gb_status)v : GB_EINTERNAL;
    }
    gbi_msg *m = copy_in(s, h, payload);
    if (!m && h->payload_len)
        status = GB_ENOMEM;
    (void)gbi_call_complete(s, h->correlation, status, m); /* late ones are counted there */
}

static void deliver_oneway(gb_silo *s, const gb_msg_header *h, const void *payload)
{
    gbi_actor *a = gbi_dir_lookup(s->dir, h->target);
    gbi_msg *m = a ? copy_in(s, h, payload) : NULL;
    if (m) {
        m->hdr.flags |= GB_MSG_ONEWAY;
        m->hdr.correlation = 0;
        /* forced: what a device emitted is accepted like a completion, never
         * refused by a full mailbox */
        if (gbi_mailbox_put(s, a, m, 1) == GB_OK) {
            gbi_count(&gbi_counters_here(s)->sent, 1);
            return;
        }
        if (GBI_FEED_ON(s))
            gbi_feed_unsend(s, m);
        gbi_msg_free(s, m);
    }
    gb_log(GB_LOG_WARN, "actor", "device message from %016llx to %016llx dropped: %s",
           (unsigned long long)h->sender, (unsigned long long)h->target,
           a ? "target refused it" : "unknown target");
}

void gbi_devtype_deliver(gbi_devtype *dt, const gb_msg_header *h, const void *payload)
{
    if (gb_ring_clock_is_reply(h))
        ; /* a late clock reply */
    else if (h->flags & GB_MSG_RESPONSE)
        deliver_response(dt->silo, h, payload);
    else if (h->correlation && !(h->flags & (GB_MSG_ONEWAY | GB_MSG_SYSTEM)))
        gbi_devtype_call(dt, h, payload); /* gb_ring_begin_call */
    else
        deliver_oneway(dt->silo, h, payload);
}

int gbi_devtype_lock(gbi_devtype *dt)
{
    for (uint32_t round = 0; pthread_mutex_trylock(&dt->lock) != 0; round++) {
        if (atomic_load_explicit(&dt->stop, memory_order_acquire))
            return 0;
        if (round < 64) {
            sched_yield();
        } else { /* shutdown's drain or a failover may hold the lock a while */
            struct timespec ts = {0, 100000};
            nanosleep(&ts, NULL);
        }
    }
    if (!atomic_load_explicit(&dt->stop, memory_order_acquire))
        return 1;
    pthread_mutex_unlock(&dt->lock);
    return 0;
}

void gbi_devtype_fail_msg(gbi_devtype *dt, const gb_msg_header *h, gb_status status, const char *why)
{
    if (h->correlation && !(h->flags & (GB_MSG_ONEWAY | GB_MSG_RESPONSE | GB_MSG_SYSTEM))) {
        (void)gbi_call_complete(dt->silo, h->correlation, status, NULL);
        return;
    }
    if (!(h->flags & GB_MSG_SYSTEM))
        gb_log(GB_LOG_ERROR, "actor", "device type '%s': message to %016llx dropped: %s", dt->type->name,
               (unsigned long long)h->target, why);
}

/* Every outbound message of the current ring ends here; `taken` moves
 * after the delivery, which gbi_devtypes_quiet relies on. */
static void on_outbound(void *arg, const gb_msg_header *h, const void *payload)
{
    gbi_devtype *dt = arg;
    gbi_devtype_deliver(dt, h, payload);
    atomic_fetch_add_explicit(&dt->taken, 1, memory_order_seq_cst);
}

/* One burst of clock pings, fitted with the recent history; the fit is
 * published to the device and kept for gb_actor_type_clock. */
static void calibrate(gbi_devtype *dt, gb_ring *r)
{
    gb_clock_sample smp[CALIB_SAMPLES];
    gb_clock_fit fit;
    gb_clock_fit_opts fo = {.keep_fraction = 0.1, .min_keep = 4, .min_span_ns = 100000000};
    uint32_t filled = 0;
    gb_status st = gb_ring_clock_exchange(r, smp, CALIB_SAMPLES, &filled, on_outbound, dt, 0);
    atomic_fetch_add_explicit(&dt->taken, filled, memory_order_seq_cst); /* the replies consumed */
    if (st != GB_OK)
        return; /* no timer, or the ring is closing: the clock stays as it was */
    for (uint32_t i = 0; i < CALIB_SAMPLES; i++) {
        dt->hist[dt->hist_pos] = smp[i];
        dt->hist_pos = (dt->hist_pos + 1) % GBI_CALIB_HISTORY;
        dt->hist_n += dt->hist_n < GBI_CALIB_HISTORY;
    }
    if (gb_clock_fit_samples(dt->hist, dt->hist_n, &fo, &fit) != GB_OK)
        return;
    gb_ring_set_clock(r, &fit);
    pthread_mutex_lock(&dt->fit_lock);
    dt->fit = fit;
    dt->have_fit = 1;
    pthread_mutex_unlock(&dt->fit_lock);
}

static void *drain_main(void *arg)
{
    gbi_devtype *dt = arg;
    gb_ring *r = atomic_load_explicit(&dt->ring, memory_order_acquire);
    _Alignas(16) uint8_t buf[GB_MSG_SLOT_MAX];
    int64_t next_calib = 0, next_check = 0;
    for (;;) {
        int stopping = atomic_load_explicit(&dt->stop, memory_order_acquire);
        int64_t now = gb_time_monotonic_ns();
        if (!stopping && now >= next_check) {
            gb_ring *nr = gbi_devtype_check(dt, r);
            next_check = gb_time_monotonic_ns() + CHECK_PERIOD_NS;
            if (nr != r) { /* another device: calibrate its clock afresh */
                r = nr;
                next_calib = 0;
                dt->hist_n = dt->hist_pos = 0;
            }
        }
        if (!stopping && now >= next_calib) {
            calibrate(dt, r);
            next_calib = gb_time_monotonic_ns() + CALIB_PERIOD_NS;
        }
        gb_msg_header h;
        gb_status st = gb_ring_recv(r, &h, buf, sizeof buf, stopping ? 0 : RECV_WAIT_NS);
        if (st == GB_OK)
            on_outbound(dt, &h, buf);
        else if (st == GB_EAGAIN && stopping)
            return NULL; /* the ring is stopped (drained) and its output delivered */
    }
}

/* ---- starting a ring ----------------------------------------------------------- */

gb_status gbi_devtype_ring_create(gbi_devtype *dt, const char *backend, gb_ring **out)
{
    gb_ring_actor_type rt = {.name = dt->type->name,
                             .state_size = dt->d.state_size,
                             .on_message = dt->d.host_fn,
                             .device_fn = dt->d.fn};
    gb_ring_opts o = {.backend = backend,
                      .mode = dt->d.mode,
                      .lanes = dt->d.lanes,
                      .types = &rt,
                      .ntypes = 1,
                      .device_source = dt->d.source};
    if (strcmp(backend, "cpu") == 0 && !dt->d.host_fn)
        return gbi_error(GB_ENOTSUP, "device actor", "type '%s' has no host_fn for the cpu ring",
                         dt->type->name);
    if (strcmp(backend, "cpu") != 0 && !dt->d.source)
        return gbi_error(GB_ENOTSUP, "device actor", "type '%s' has no source for %s", dt->type->name,
                         backend);
    return gb_ring_create(out, &o);
}

void gbi_devtype_chain(const gbi_devtype *dt, char *buf, size_t len)
{
    const char *env = getenv("GB_DEVICES");
    snprintf(buf, len, "%s", env && *env ? env : dt->d.devices);
}

/* The type's broker over the backends of its chain that exist (each once):
 * health and the GB_OP_RING fault point. Without one (a malformed GB_FAULT)
 * the type runs unwatched, which is logged. dt->lock held. */
static void make_broker(gbi_devtype *dt)
{
    char chain[256], known[256] = "", *save = NULL;
    gbi_devtype_chain(dt, chain, sizeof chain);
    size_t used = 0;
    for (char *b = strtok_r(chain, ", ", &save); b; b = strtok_r(NULL, ", ", &save)) {
        char probe[20];
        snprintf(probe, sizeof probe, ",%s,", b);
        char have[260];
        snprintf(have, sizeof have, ",%s,", known);
        if (!strstr(",cuda,opencl,cpu,", probe) || strstr(have, probe)) /* the broker's backends, once */
            continue;
        int n = snprintf(known + used, sizeof known - used, "%s%s", used ? "," : "", b);
        used = n > 0 && used + (size_t)n < sizeof known ? used + (size_t)n : used;
    }
    gb_broker_opts bo = {.chain = known};
    if (!used || gb_broker_create(&dt->broker, &bo) != GB_OK) {
        dt->broker = NULL;
        gb_log(GB_LOG_WARN, "actor", "device type '%s' runs without a device broker (no failover checks): %s",
               dt->type->name, used ? gb_last_error() : "no known backend in its chain");
    }
}

/* Create and start a ring on backend; its broker entry is remembered. */
static gb_status create_on(gbi_devtype *dt, const char *backend, gb_ring **out)
{
    gb_status st = gbi_devtype_ring_create(dt, backend, out);
    if (st == GB_OK && (st = gb_ring_start(*out)) != GB_OK) {
        gb_ring_destroy(*out);
        *out = NULL;
    }
    if (st == GB_OK && (!dt->broker || gb_broker_find(dt->broker, backend, &dt->entry) != GB_OK))
        dt->entry = GBI_NO_ENTRY;
    return st;
}

/* The first backend of the chain whose ring starts; GB_ENOTSUP skips on. */
static gb_status create_chain(gbi_devtype *dt, gb_ring **out)
{
    char chain[256];
    gbi_devtype_chain(dt, chain, sizeof chain);
    if (!dt->broker)
        make_broker(dt);
    gb_status st = gbi_error(GB_ENOTSUP, "device actor", "empty device chain for type '%s'", dt->type->name);
    char *save = NULL;
    for (char *b = strtok_r(chain, ", ", &save); b; b = strtok_r(NULL, ", ", &save)) {
        st = create_on(dt, b, out);
        if (st != GB_ENOTSUP)
            return st;
        gb_log(GB_LOG_INFO, "actor", "device type '%s': %s unavailable (%s), trying the next", dt->type->name,
               b, gb_last_error());
    }
    return st;
}

/* Start the ring and its drain thread (dt->lock held). */
static gb_status start_ring(gbi_devtype *dt, gb_ring **out)
{
    gb_status st = create_chain(dt, out);
    if (st != GB_OK)
        return st;
    atomic_store_explicit(&dt->ring, *out, memory_order_release);
    if (pthread_create(&dt->drain, NULL, drain_main, dt) == 0)
        return GB_OK;
    atomic_store_explicit(&dt->ring, NULL, memory_order_relaxed);
    gb_ring_destroy(*out);
    *out = NULL;
    return gbi_error(GB_EINTERNAL, "device actor", "cannot start the drain thread of type '%s'",
                     dt->type->name);
}

/* The type's ring, started on first use. A failed start is remembered (with
 * its reason) and reported to every later sender. No ring starts once the
 * silo is shutting down (its rings are being drained). */
gb_status gbi_devtype_ring(gb_silo *s, gbi_devtype *dt, gb_ring **out)
{
    *out = atomic_load_explicit(&dt->ring, memory_order_acquire);
    if (*out)
        return GB_OK;
    pthread_mutex_lock(&dt->lock);
    gb_status st = GB_OK;
    if ((*out = atomic_load_explicit(&dt->ring, memory_order_relaxed)))
        st = GB_OK;
    else if (dt->start_err != GB_OK)
        st = gbi_error(dt->start_err, "device actor", "%s", dt->start_msg);
    else if (atomic_load_explicit(&s->closing, memory_order_seq_cst))
        st = gbi_error(GB_ECLOSED, "device actor", "silo is shutting down: type '%s' gets no ring",
                       dt->type->name);
    else if ((st = start_ring(dt, out)) != GB_OK) {
        dt->start_err = st;
        snprintf(dt->start_msg, sizeof dt->start_msg, "type '%s' has no ring: %s", dt->type->name,
                 gb_last_error());
    }
    pthread_mutex_unlock(&dt->lock);
    return st;
}

/* Send to the type's current ring. A ring replaced by a failover answers
 * GB_ECLOSED: the replacement is published under dt->lock after the old
 * ring's messages were moved into it, so the retry goes behind them. */
static gb_status route_send(gb_silo *s, gbi_devtype *dt, const gb_msg_header *h, const void *payload)
{
    gb_ring *r;
    gb_status st = gbi_devtype_ring(s, dt, &r);
    while (st == GB_OK) {
        st = gb_ring_send(r, 0, h, payload, GB_SEND_SPILL);
        if (st != GB_ECLOSED)
            return st;
        if (!gbi_devtype_lock(dt)) /* shutdown stopped the ring for good */
            return gbi_error(GB_ECLOSED, "device actor", "the ring of type '%s' is stopped", dt->type->name);
        gb_ring *cur = atomic_load_explicit(&dt->ring, memory_order_acquire);
        if (cur == r && dt->start_err != GB_OK)
            st = gbi_error(dt->start_err, "device actor", "%s", dt->start_msg);
        else if (cur == r)
            st = gbi_error(GB_ECLOSED, "device actor", "the ring of type '%s' is stopped", dt->type->name);
        else
            st = GB_OK; /* replaced: try the new ring */
        pthread_mutex_unlock(&dt->lock);
        r = cur;
    }
    return st;
}

gb_status gbi_ring_route_put(gb_silo *s, gbi_actor *a, gbi_msg *m)
{
    gbi_devtype *dt = a->type->dev;
    gb_msg_header h = m->hdr;
    h.reserved = 0;
    const void *payload = h.payload_len ? gbi_msg_payload(m) : NULL;
    gb_status st;
    if (GBI_FEED_ON(s))
        gbi_feed_recv(s, m, a->id); /* causal: received as it enters the ring */
    if (a->type->desc.idle_timeout_ns > 0) {
        pthread_rwlock_rdlock(&dt->idle_lock);
        gbi_devtype_touch(dt, a);
        st = route_send(s, dt, &h, payload);
        pthread_rwlock_unlock(&dt->idle_lock);
    } else {
        st = route_send(s, dt, &h, payload);
    }
    if (st == GB_OK)
        gbi_msg_free(s, m);
    return st;
}

/* ---- public queries ---------------------------------------------------------------- */

/* The device part of type, for an accessor whose result goes to `result`
 * (checked not NULL). */
static gb_status find_dev(gb_silo *s, const char *type, const void *result, gbi_devtype **out, const char *where)
{
    if (!s || !type || !result)
        return gbi_error(GB_EINVAL, where, "silo, type and output must not be NULL");
    const gbi_type *t = gbi_type_find(s, type);
    if (!t)
        return gbi_error(GB_ENOENT, where, "type '%s' is not registered", type);
    if (!t->dev)
        return gbi_error(GB_ENOTSUP, where, "type '%s' is not a device type", type);
    *out = t->dev;
    return GB_OK;
}

gb_status gb_actor_type_backend(gb_silo *s, const char *type, const char **backend)
{
    gbi_devtype *dt = NULL;
    gb_status st = find_dev(s, type, backend, &dt, "gb_actor_type_backend");
    gb_ring *r;
    if (st == GB_OK && (st = gbi_devtype_ring(s, dt, &r)) == GB_OK)
        *backend = gb_ring_backend(r);
    return st;
}

gb_status gb_actor_type_clock(gb_silo *s, const char *type, gb_clock_fit *out)
{
    gbi_devtype *dt = NULL;
    gb_status st = find_dev(s, type, out, &dt, "gb_actor_type_clock");
    if (st != GB_OK)
        return st;
    pthread_mutex_lock(&dt->fit_lock);
    int have = dt->have_fit;
    if (have)
        *out = dt->fit;
    pthread_mutex_unlock(&dt->fit_lock);
    return have ? GB_OK : gbi_error(GB_EAGAIN, "gb_actor_type_clock", "type '%s' not calibrated yet", type);
}

gb_status gb_actor_type_device_stats(gb_silo *s, const char *type, gb_actor_device_stats *out)
{
    gbi_devtype *dt = NULL;
    gb_status st = find_dev(s, type, out, &dt, "gb_actor_type_device_stats");
    if (st != GB_OK)
        return st;
    *out = (gb_actor_device_stats){
        .failovers = atomic_load_explicit(&dt->failovers, memory_order_acquire),
        .migrated_messages = atomic_load_explicit(&dt->migrated_messages, memory_order_relaxed),
        .migrated_actors = atomic_load_explicit(&dt->migrated_actors, memory_order_relaxed),
        .lost_messages = atomic_load_explicit(&dt->lost_messages, memory_order_relaxed),
        .deactivations = atomic_load_explicit(&dt->deactivations, memory_order_relaxed),
    };
    return GB_OK;
}

gb_status gb_actor_type_broker(gb_silo *s, const char *type, gb_broker **out)
{
    gbi_devtype *dt = NULL;
    gb_status st = find_dev(s, type, out, &dt, "gb_actor_type_broker");
    gb_ring *r;
    if (st != GB_OK || (st = gbi_devtype_ring(s, dt, &r)) != GB_OK)
        return st;
    pthread_mutex_lock(&dt->lock);
    *out = dt->broker;
    pthread_mutex_unlock(&dt->lock);
    return *out ? GB_OK
                : gbi_error(GB_ENOTSUP, "gb_actor_type_broker",
                            "type '%s' has no device broker (see the log)", type);
}

/* ---- shutdown ---------------------------------------------------------------------- */

int gbi_devtypes_quiet(gb_silo *s)
{
    for (gbi_type *t = atomic_load_explicit(&s->types, memory_order_acquire); t; t = t->next) {
        gbi_devtype *dt = t->dev;
        gb_ring *r = dt ? atomic_load_explicit(&dt->ring, memory_order_acquire) : NULL;
        gb_ring_counters c;
        if (!r || gb_ring_get_counters(r, &c) != GB_OK)
            continue;
        if (c.inflight)
            return 0;
        /* read again: inflight seen at 0 (acquire) means every handler's
         * emitted bump, made before its batch was uncounted, is visible now */
        gb_ring_get_counters(r, &c);
        if (c.inflight || atomic_load_explicit(&dt->taken, memory_order_seq_cst) != c.emitted)
            return 0;
        /* last: a failover that began before the reads above is seen here */
        if (atomic_load_explicit(&dt->failing, memory_order_seq_cst) ||
            atomic_load_explicit(&dt->ring, memory_order_seq_cst) != r)
            return 0;
    }
    return 1;
}

void gbi_devtypes_stop(gb_silo *s)
{
    for (gbi_type *t = atomic_load_explicit(&s->types, memory_order_acquire); t; t = t->next) {
        gbi_devtype *dt = t->dev;
        if (!dt)
            continue;
        pthread_mutex_lock(&dt->lock);
        gb_ring *r = atomic_load_explicit(&dt->ring, memory_order_acquire);
        if (r && !atomic_load_explicit(&dt->stop, memory_order_relaxed)) {
            gb_status st = gb_ring_stop(r, GB_RING_DRAIN); /* every accepted message handled */
            if (st != GB_OK)
                gb_log(GB_LOG_ERROR, "actor", "device type '%s': ring drain failed: %s", t->name,
                       gb_strerror(st));
            atomic_store_explicit(&dt->stop, 1, memory_order_release);
            pthread_join(dt->drain, NULL); /* its output delivered */
        }
        pthread_mutex_unlock(&dt->lock);
    }
}

void gbi_devtype_free_one(gbi_type *t)
{
    gbi_devtype *dt = t->dev;
    if (!dt)
        return;
    gb_ring_destroy(atomic_load_explicit(&dt->ring, memory_order_relaxed));
    while (dt->retired) {
        gbi_retired *x = dt->retired;
        dt->retired = x->next;
        gb_ring_destroy(x->ring);
        free(x);
    }
    gb_broker_destroy(dt->broker);
    pthread_rwlock_destroy(&dt->idle_lock);
    free((char *)dt->d.source);
    free((char *)dt->d.fn);
    free((char *)dt->d.devices);
    pthread_mutex_destroy(&dt->lock);
    pthread_mutex_destroy(&dt->fit_lock);
    free(dt);
    t->dev = NULL;
}

void gbi_devtypes_free(gb_silo *s)
{
    for (gbi_type *t = atomic_load_explicit(&s->types, memory_order_relaxed); t; t = t->next)
        gbi_devtype_free_one(t);
}
