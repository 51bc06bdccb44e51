/*
 * Causal recording of a silo's actor messages (docs/causal.md, "Feeding
 * it from a silo"): CPU actors' messages, timer ticks (sent by the timer's
 * actor when queued, received when delivered), completions without a reply
 * message (a local event where their continuation runs), and device
 * actors' messages at the host boundary (received when they enter the
 * ring, sent when they leave its outbound queue); owns the per-process vector clocks and the vector clock
 * each recorded message carries from its send to its delivery, and feeds the
 * caller-owned gb_causal_graph (gb_silo_opts.causal) and gb_waitfor
 * (gb_silo_opts.waitfor).
 *
 * Processes: every CPU actor is one sequential process whose vector-clock
 * entry is gbi_causal_node(actor id); every external thread (gb_send,
 * gb_call* outside a handler) shares the single process
 * GB_SILO_EXTERNAL_NODE. All recording goes through one mutex, so each
 * process's own entry increases strictly with each of its events, whichever
 * thread runs it (the order verify assumes).
 *
 * A message's vector clock is kept here, keyed by its envelope address,
 * from send until delivery; the envelope carries only the `causal` bit.
 * Nothing here runs when the silo's causal option is off (s->feed NULL).
 */
#include <pthread.h>
#include <stdlib.h>

#include "actor/runtime.h"
#include "base/error.h"
#include "base/u64map.h"
#include "gpubridge/causal.h"
#include "gpubridge/log.h"

typedef struct inflight {
    uint64_t msg_id;
    gb_vclock *vc; /* the sender's clock after the send */
    uint32_t next_free;
} inflight;

struct gbi_feed {
    pthread_mutex_t lock;
    gb_causal_graph *g; /* NULL: only the wait-for graph is fed */
    gb_waitfor *w;
    uint64_t next_msg;
    gbi_u64map procs;   /* node -> index into pvc */
    gb_vclock **pvc;
    uint32_t npvc, cappvc;
    gbi_u64map msgs;    /* envelope address -> index into fl */
    inflight *fl;
    uint32_t nfl, capfl, free_head;
    uint64_t lost;      /* events not recorded (out of memory) */
};

uint32_t gbi_causal_node(uint64_t actor)
{
    uint32_t n = (uint32_t)(actor ^ (actor >> 32));
    return n == GB_SILO_EXTERNAL_NODE ? 1u : n;
}

gb_status gbi_feed_create(gb_silo *s)
{
    if (!s->o.causal && !s->o.waitfor)
        return GB_OK;
    struct gbi_feed *f = calloc(1, sizeof *f);
    if (!f)
        return gbi_error(GB_ENOMEM, "gb_silo_create", "out of memory for causal recording");
    pthread_mutex_init(&f->lock, NULL);
    f->g = s->o.causal;
    f->w = s->o.waitfor;
    f->free_head = UINT32_MAX;
    s->feed = f;
    return GB_OK;
}

void gbi_feed_destroy(gb_silo *s)
{
    struct gbi_feed *f = s->feed;
    if (!f)
        return;
    if (f->lost)
        gb_log(GB_LOG_WARN, "causal", "%llu message events were not recorded (out of memory)",
               (unsigned long long)f->lost);
    for (uint32_t i = 0; i < f->npvc; i++)
        gb_vclock_destroy(f->pvc[i]);
    for (uint32_t i = 0; i < f->nfl; i++)
        gb_vclock_destroy(f->fl[i].vc);
    free(f->pvc);
    free(f->fl);
    gbi_u64map_free(&f->procs);
    gbi_u64map_free(&f->msgs);
    pthread_mutex_destroy(&f->lock);
    free(f);
    s->feed = NULL;
}

/* The vector clock of process node, created empty on first use. */
static gb_vclock *proc_vc(struct gbi_feed *f, uint32_t node)
{
    uint32_t i;
    if (gbi_u64map_get(&f->procs, node, &i))
        return f->pvc[i];
    if (f->npvc == f->cappvc) {
        uint32_t cap = f->cappvc ? 2 * f->cappvc : 16;
        gb_vclock **p = realloc(f->pvc, cap * sizeof *p);
        if (!p)
            return NULL;
        f->pvc = p;
        f->cappvc = cap;
    }
    gb_vclock *vc;
    if (gb_vclock_create(&vc) != GB_OK)
        return NULL;
    if (gbi_u64map_put(&f->procs, node, f->npvc) != GB_OK) {
        gb_vclock_destroy(vc);
        return NULL;
    }
    f->pvc[f->npvc++] = vc;
    return vc;
}

/* A free in-flight slot (its vc allocated), or UINT32_MAX. */
static uint32_t slot_get(struct gbi_feed *f)
{
    if (f->free_head != UINT32_MAX) {
        uint32_t i = f->free_head;
        f->free_head = f->fl[i].next_free;
        return i;
    }
    if (f->nfl == f->capfl) {
        uint32_t cap = f->capfl ? 2 * f->capfl : 64;
        inflight *p = realloc(f->fl, cap * sizeof *p);
        if (!p)
            return UINT32_MAX;
        f->fl = p;
        f->capfl = cap;
    }
    if (gb_vclock_create(&f->fl[f->nfl].vc) != GB_OK)
        return UINT32_MAX;
    return f->nfl++;
}

static void slot_put(struct gbi_feed *f, uint32_t i)
{
    f->fl[i].next_free = f->free_head;
    f->free_head = i;
}

static gb_status record(gb_silo *s, gb_causal_kind kind, uint32_t node, uint64_t actor, uint64_t msg_id,
                        const gb_vclock *vc)
{
    gb_causal_event ev = {.kind = kind, .node = node, .actor = actor, .msg_id = msg_id, .vc = vc};
    ev.hlc = gb_hlc_now(s->hlc); /* under the lock: HLC order follows recording order */
    return gb_causal_record(s->feed->g, &ev, NULL);
}

/* Tick node, record the SEND and keep its clock for m. Lock held. */
static gb_status send_locked(gb_silo *s, gbi_msg *m, uint32_t node, uint64_t actor)
{
    struct gbi_feed *f = s->feed;
    gb_vclock *vc = proc_vc(f, node);
    uint32_t i = vc ? slot_get(f) : UINT32_MAX;
    if (i == UINT32_MAX)
        return GB_ENOMEM;
    gb_status st = gb_vclock_increment(vc, node);
    if (st == GB_OK)
        st = gb_vclock_copy(f->fl[i].vc, vc);
    if (st == GB_OK)
        st = gbi_u64map_put(&f->msgs, (uintptr_t)m, i);
    if (st != GB_OK) {
        slot_put(f, i);
        return st;
    }
    f->fl[i].msg_id = ++f->next_msg;
    st = record(s, GB_CAUSAL_SEND, node, actor, f->fl[i].msg_id, vc);
    if (st != GB_OK) {
        gbi_u64map_del(&f->msgs, (uintptr_t)m);
        slot_put(f, i);
    }
    return st;
}

/* Record m's send by actor's process (0: the external one). */
static void send_as(gb_silo *s, gbi_msg *m, uint64_t actor)
{
    struct gbi_feed *f = s->feed;
    if (!f->g)
        return;
    uint32_t node = actor ? gbi_causal_node(actor) : GB_SILO_EXTERNAL_NODE;
    pthread_mutex_lock(&f->lock);
    if (send_locked(s, m, node, actor) == GB_OK)
        m->causal = 1;
    else
        f->lost++;
    pthread_mutex_unlock(&f->lock);
}

void gbi_feed_send(gb_silo *s, gbi_msg *m)
{
    send_as(s, m, m->hdr.sender);
}

void gbi_feed_timer_send(gb_silo *s, gbi_msg *m, uint64_t actor)
{
    send_as(s, m, actor);
}

void gbi_feed_local(gb_silo *s, uint64_t actor)
{
    struct gbi_feed *f = s->feed;
    if (!f->g)
        return;
    uint32_t node = actor ? gbi_causal_node(actor) : GB_SILO_EXTERNAL_NODE;
    pthread_mutex_lock(&f->lock);
    gb_vclock *vc = proc_vc(f, node);
    gb_status st = vc ? gb_vclock_increment(vc, node) : GB_ENOMEM;
    if (st == GB_OK)
        st = record(s, GB_CAUSAL_LOCAL, node, actor, 0, vc);
    f->lost += st != GB_OK;
    pthread_mutex_unlock(&f->lock);
}

void gbi_feed_unsend(gb_silo *s, gbi_msg *m)
{
    struct gbi_feed *f = s->feed;
    uint32_t i;
    if (!m->causal)
        return;
    pthread_mutex_lock(&f->lock);
    if (gbi_u64map_get(&f->msgs, (uintptr_t)m, &i)) {
        gbi_u64map_del(&f->msgs, (uintptr_t)m);
        slot_put(f, i);
    }
    pthread_mutex_unlock(&f->lock);
    m->causal = 0;
}

void gbi_feed_recv(gb_silo *s, gbi_msg *m, uint64_t actor)
{
    struct gbi_feed *f = s->feed;
    uint32_t i;
    if (!m->causal)
        return;
    uint32_t node = actor ? gbi_causal_node(actor) : GB_SILO_EXTERNAL_NODE;
    pthread_mutex_lock(&f->lock);
    if (gbi_u64map_get(&f->msgs, (uintptr_t)m, &i)) {
        gbi_u64map_del(&f->msgs, (uintptr_t)m);
        gb_vclock *vc = proc_vc(f, node);
        gb_status st = vc ? gb_vclock_merge(vc, f->fl[i].vc) : GB_ENOMEM;
        if (st == GB_OK)
            st = gb_vclock_increment(vc, node);
        if (st == GB_OK)
            st = record(s, GB_CAUSAL_RECV, node, actor, f->fl[i].msg_id, vc);
        f->lost += st != GB_OK;
        slot_put(f, i);
    }
    pthread_mutex_unlock(&f->lock);
    m->causal = 0;
}

void gbi_feed_call(gb_silo *s, uint64_t caller, uint64_t callee, uint64_t corr)
{
    struct gbi_feed *f = s->feed;
    if (f->w && gb_waitfor_add(f->w, caller, callee, corr) != GB_OK) {
        pthread_mutex_lock(&f->lock);
        f->lost++;
        pthread_mutex_unlock(&f->lock);
    }
}

void gbi_feed_call_done(gb_silo *s, uint64_t corr)
{
    if (s->feed->w)
        (void)gb_waitfor_remove(s->feed->w, corr); /* ENOENT: the add had failed */
}

/* ---- public ---------------------------------------------------------------- */

gb_status gb_silo_deadlocks(gb_silo *s, gb_deadlock_fn fn, void *ctx, size_t *n_deadlocks)
{
    if (n_deadlocks)
        *n_deadlocks = 0;
    if (!s || !fn)
        return gbi_error(GB_EINVAL, "gb_silo_deadlocks", "silo and fn must not be NULL");
    if (!s->o.waitfor)
        return gbi_error(GB_EINVAL, "gb_silo_deadlocks", "the silo was created without opts.waitfor");
    return gb_waitfor_deadlocks(s->o.waitfor, fn, ctx, n_deadlocks);
}

uint32_t gb_silo_actor_node(gb_actor_id id)
{
    return gbi_causal_node(id);
}
