/*
 * Verification of a recorded causal history (gb_causal_verify and
 * gb_causal_each_violation): message matching, vector-clock consistency,
 * causal delivery order, HLC anomalies, and wait-for deadlocks.
 *
 * A process's local order is its own vector-clock entry (`own`), so the
 * checks never depend on the order in which threads recorded events. Index
 * building (message id -> first send/receive, events sorted by node and
 * local position, by actor) happens once per call, under the graph mutex.
 */
#include "causal/causal_graph.h"

#include "base/error.h"
#include "base/u64map.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALL_CHECKS (GB_CV_CHECK_MESSAGES | GB_CV_CHECK_VCLOCK | GB_CV_CHECK_DELIVERY | \
                    GB_CV_CHECK_HLC | GB_CV_CHECK_DEADLOCK)

typedef struct vkey {
    uint64_t major; /* node (local order) or actor (HLC order) */
    uint64_t minor; /* node for actor order, else 0 */
    uint64_t own;
    uint64_t idx;
} vkey;

typedef struct vctx {
    const gb_causal_graph *g;
    uint32_t checks;
    int64_t max_offset_ns;
    gb_causal_violation_fn fn;
    void *ctx;
    size_t found;
    bool stop;
    uint64_t second_msg;     /* msg[1] of the next violation emitted, 0 = none */
    gbi_u64map sends, recvs; /* msg id -> index of its first send / receive */
    vkey *local;             /* events by (node, own, id) */
    uint64_t *vc_twin;       /* earlier event id with the same (node, own), 0 = none */
    uint64_t *hlc_prev;      /* previous event id of the actor if its HLC went back */
} vctx;

static int cmp_vkey(const void *a, const void *b)
{
    const vkey *x = a, *y = b;
    if (x->major != y->major)
        return x->major < y->major ? -1 : 1;
    if (x->minor != y->minor)
        return x->minor < y->minor ? -1 : 1;
    if (x->own != y->own)
        return x->own < y->own ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void emit(vctx *v, gb_causal_violation_kind kind, const uint64_t *ev, uint32_t n_ev,
                 uint64_t msg, const char *fmt, ...) GBI_PRINTF(6, 7);

static void emit(vctx *v, gb_causal_violation_kind kind, const uint64_t *ev, uint32_t n_ev,
                 uint64_t msg, const char *fmt, ...)
{
    gb_causal_violation out = {.kind = kind, .n_events = n_ev, .msg = {msg, v->second_msg}};
    if (n_ev > 0)
        memcpy(out.event, ev, n_ev * sizeof *ev);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out.what, sizeof out.what, fmt, ap);
    va_end(ap);
    v->found++;
    v->stop = v->fn(&out, v->ctx) != 0;
}

/* ---- indexes ------------------------------------------------------------------- */

static gb_status index_messages(vctx *v)
{
    const gb_causal_graph *g = v->g;
    if (gbi_u64map_init(&v->sends, g->n / 2) != GB_OK || gbi_u64map_init(&v->recvs, g->n / 2) != GB_OK)
        return GB_ENOMEM;
    for (size_t i = 0; i < g->n; i++) {
        const gbi_cevent *e = &g->ev[i];
        gbi_u64map *m = e->kind == GB_CAUSAL_SEND ? &v->sends : &v->recvs;
        if (e->kind == GB_CAUSAL_LOCAL || gbi_u64map_get(m, e->msg_id, NULL))
            continue;
        if (gbi_u64map_put(m, e->msg_id, (uint32_t)i) != GB_OK)
            return GB_ENOMEM;
    }
    return GB_OK;
}

/* Local order per node and the per-event twin / backwards flags. */
static gb_status index_order(vctx *v)
{
    const gb_causal_graph *g = v->g;
    size_t n = g->n;
    v->local = malloc((n + 1) * sizeof *v->local);
    vkey *by_actor = malloc((n + 1) * sizeof *by_actor);
    v->vc_twin = calloc(n + 1, sizeof *v->vc_twin);
    v->hlc_prev = calloc(n + 1, sizeof *v->hlc_prev);
    if (!v->local || !by_actor || !v->vc_twin || !v->hlc_prev) {
        free(by_actor);
        return gbi_error(GB_ENOMEM, "gb_causal_verify", "out of memory for %zu events", n);
    }
    for (size_t i = 0; i < n; i++) {
        const gbi_cevent *e = &g->ev[i];
        v->local[i] = (vkey){e->node, 0, e->own, i};
        by_actor[i] = (vkey){e->actor, e->node, e->own, i};
    }
    qsort(v->local, n, sizeof *v->local, cmp_vkey);
    qsort(by_actor, n, sizeof *by_actor, cmp_vkey);
    for (size_t k = 1; k < n; k++) {
        const vkey *a = &v->local[k - 1], *b = &v->local[k];
        if (a->major == b->major && a->own == b->own)
            v->vc_twin[b->idx] = v->vc_twin[a->idx] ? v->vc_twin[a->idx] : a->idx + 1;
        const vkey *p = &by_actor[k - 1], *q = &by_actor[k];
        if (p->major == q->major && p->minor == q->minor && g->ev[q->idx].hlc < g->ev[p->idx].hlc)
            v->hlc_prev[q->idx] = p->idx + 1;
    }
    free(by_actor);
    return GB_OK;
}

/* The matched send of a receive, or NULL. */
static const gbi_cevent *send_of(const vctx *v, const gbi_cevent *recv, uint64_t *send_id)
{
    uint32_t s;
    if (!gbi_u64map_get(&v->sends, recv->msg_id, &s))
        return NULL;
    *send_id = (uint64_t)s + 1;
    return &v->g->ev[s];
}

/* ---- per-event checks ---------------------------------------------------------- */

static void check_messages(vctx *v, const gbi_cevent *e, uint64_t id)
{
    if (e->kind == GB_CAUSAL_LOCAL)
        return;
    uint64_t send_id;
    if (e->kind == GB_CAUSAL_RECV && !send_of(v, e, &send_id)) {
        emit(v, GB_CV_UNMATCHED_RECV, (uint64_t[]){id}, 1, e->msg_id,
             "event %llu (node %u, actor %llx) receives message %llu that was never sent",
             (unsigned long long)id, e->node, (unsigned long long)e->actor,
             (unsigned long long)e->msg_id);
        return;
    }
    uint32_t first;
    gbi_u64map_get(e->kind == GB_CAUSAL_SEND ? &v->sends : &v->recvs, e->msg_id, &first);
    if (first + 1 != id)
        emit(v, GB_CV_DUPLICATE_MSG, (uint64_t[]){(uint64_t)first + 1, id}, 2, e->msg_id,
             "message %llu is %s twice: events %llu and %llu", (unsigned long long)e->msg_id,
             e->kind == GB_CAUSAL_SEND ? "sent" : "received", (unsigned long long)first + 1,
             (unsigned long long)id);
}

static void check_vclock(vctx *v, const gbi_cevent *e, uint64_t id)
{
    uint64_t twin = v->vc_twin[id - 1], send_id;
    if (e->own == 0) {
        emit(v, GB_CV_VC_NOT_ADVANCING, (uint64_t[]){id}, 1, e->msg_id,
             "event %llu's vector clock has no entry for its own node %u",
             (unsigned long long)id, e->node);
    } else if (twin) {
        emit(v, GB_CV_VC_NOT_ADVANCING, (uint64_t[]){twin, id}, 2, e->msg_id,
             "events %llu and %llu of node %u have the same own entry %llu",
             (unsigned long long)twin, (unsigned long long)id, e->node,
             (unsigned long long)e->own);
    }
    if (v->stop || e->kind != GB_CAUSAL_RECV)
        return;
    const gbi_cevent *s = send_of(v, e, &send_id);
    if (s && gb_vclock_compare(s->vc, e->vc) != GB_VC_BEFORE)
        emit(v, GB_CV_VC_RECV_BEFORE_SEND, (uint64_t[]){send_id, id}, 2, e->msg_id,
             "receive %llu of message %llu is not causally after its send %llu",
             (unsigned long long)id, (unsigned long long)e->msg_id, (unsigned long long)send_id);
}

static void check_hlc(vctx *v, const gbi_cevent *e, uint64_t id)
{
    uint64_t send_id, prev = v->hlc_prev[id - 1];
    const gbi_cevent *s = e->kind == GB_CAUSAL_RECV ? send_of(v, e, &send_id) : NULL;
    if (s && e->hlc <= s->hlc)
        emit(v, GB_CV_HLC_RECV_NOT_AFTER_SEND, (uint64_t[]){send_id, id}, 2, e->msg_id,
             "receive %llu HLC %llx is not after send %llu HLC %llx", (unsigned long long)id,
             (unsigned long long)e->hlc, (unsigned long long)send_id,
             (unsigned long long)s->hlc);
    if (!v->stop && prev)
        emit(v, GB_CV_HLC_BACKWARDS, (uint64_t[]){prev, id}, 2, e->msg_id,
             "actor %llx's HLC went backwards from %llx (event %llu) to %llx (event %llu)",
             (unsigned long long)e->actor, (unsigned long long)v->g->ev[prev - 1].hlc,
             (unsigned long long)prev, (unsigned long long)e->hlc, (unsigned long long)id);
    int64_t ahead = gb_hlc_physical_ns(e->hlc) - e->pt_ns;
    if (!v->stop && e->pt_ns != 0 && ahead > v->max_offset_ns)
        emit(v, GB_CV_HLC_OFFSET, (uint64_t[]){id}, 1, e->msg_id,
             "event %llu's HLC is %lld ns ahead of its physical clock (max %lld)",
             (unsigned long long)id, (long long)ahead, (long long)v->max_offset_ns);
}

static void check_events(vctx *v)
{
    for (uint64_t id = 1; id <= v->g->n && !v->stop; id++) {
        const gbi_cevent *e = &v->g->ev[id - 1];
        if (v->checks & GB_CV_CHECK_MESSAGES)
            check_messages(v, e, id);
        if (!v->stop && (v->checks & GB_CV_CHECK_VCLOCK))
            check_vclock(v, e, id);
        if (!v->stop && (v->checks & GB_CV_CHECK_HLC))
            check_hlc(v, e, id);
    }
}

/* ---- causal delivery ----------------------------------------------------------- */

/* A receive that counts for delivery order: the first receive of a message
 * whose send was recorded. */
typedef struct delivered {
    uint64_t recv; /* event ids */
    uint64_t send;
    const gb_vclock *send_vc;
    uint32_t send_node;
    uint64_t send_own;
    bool overtook; /* a later delivery's send happened before this one's */
} delivered;

/* Did b's send happen before a's send? For well-formed vector clocks,
 * e -> f iff vc(f)[node(e)] >= vc(e)[node(e)] (e != f), so one lookup
 * replaces a full comparison. A send that does not count itself (own 0) is
 * a vector-clock anomaly reported elsewhere and orders nothing here. */
static bool sent_before(const delivered *b, const delivered *a)
{
    return b->send_own > 0 && gb_vclock_get(a->send_vc, b->send_node) >= b->send_own;
}

static void report_overtake(vctx *v, const delivered *a, const delivered *b)
{
    const gbi_cevent *ra = &v->g->ev[a->recv - 1], *rb = &v->g->ev[b->recv - 1];
    v->second_msg = rb->msg_id;
    emit(v, GB_CV_DELIVERY_ORDER, (uint64_t[]){a->recv, b->recv, a->send, b->send}, 4,
         ra->msg_id,
         "node %u delivered message %llu (event %llu) before message %llu (event %llu) "
         "whose send %llu happened before send %llu",
         ra->node, (unsigned long long)ra->msg_id, (unsigned long long)a->recv,
         (unsigned long long)rb->msg_id, (unsigned long long)b->recv,
         (unsigned long long)b->send, (unsigned long long)a->send);
    v->second_msg = 0;
}

/* The deliveries among local[lo..hi) (one node, local order) into d. */
static size_t node_deliveries(const vctx *v, size_t lo, size_t hi, delivered *d)
{
    size_t k = 0;
    for (size_t i = lo; i < hi; i++) {
        const gbi_cevent *e = &v->g->ev[v->local[i].idx];
        uint32_t first, send;
        if (e->kind != GB_CAUSAL_RECV || !gbi_u64map_get(&v->recvs, e->msg_id, &first) ||
            first != v->local[i].idx || !gbi_u64map_get(&v->sends, e->msg_id, &send))
            continue;
        const gbi_cevent *s = &v->g->ev[send];
        d[k++] = (delivered){(uint64_t)first + 1, (uint64_t)send + 1, s->vc, s->node, s->own,
                             false};
    }
    return k;
}

/* Mark every delivery that overtook a causally earlier message: scanning
 * backwards, keep per sending node the smallest
 * own entry among later deliveries' sends; d[i] overtook one iff its send's
 * clock has reached that entry for some node. O(k * clock size). */
static gb_status mark_overtakers(delivered *d, size_t k, uint64_t *min_own)
{
    gbi_u64map later;
    if (gbi_u64map_init(&later, 16) != GB_OK)
        return GB_ENOMEM;
    size_t slots = 0;
    for (size_t i = k; i-- > 0;) {
        size_t entries = gb_vclock_size(d[i].send_vc);
        for (size_t x = 0; x < entries && !d[i].overtook; x++) {
            uint32_t node, slot;
            uint64_t count;
            gb_vclock_entry(d[i].send_vc, x, &node, &count);
            d[i].overtook = gbi_u64map_get(&later, node, &slot) && count >= min_own[slot];
        }
        uint32_t slot;
        if (d[i].send_own == 0)
            continue;
        if (gbi_u64map_get(&later, d[i].send_node, &slot)) {
            if (d[i].send_own < min_own[slot])
                min_own[slot] = d[i].send_own;
        } else if (gbi_u64map_put(&later, d[i].send_node, (uint32_t)slots) == GB_OK) {
            min_own[slots++] = d[i].send_own;
        } else {
            gbi_u64map_free(&later);
            return GB_ENOMEM;
        }
    }
    gbi_u64map_free(&later);
    return GB_OK;
}

/* Per node, every pair of deliveries a (earlier) and b (later) where b's
 * send happened before a's send: b was overtaken. Reported by a, then b,
 * in local order. */
static gb_status check_delivery(vctx *v)
{
    size_t n = v->g->n;
    delivered *d = malloc((n + 1) * sizeof *d);
    uint64_t *min_own = malloc((n + 1) * sizeof *min_own);
    gb_status st = d && min_own ? GB_OK : GB_ENOMEM;
    for (size_t lo = 0, hi; st == GB_OK && lo < n && !v->stop; lo = hi) {
        for (hi = lo; hi < n && v->local[hi].major == v->local[lo].major; hi++)
            ;
        size_t k = node_deliveries(v, lo, hi, d);
        st = mark_overtakers(d, k, min_own);
        for (size_t i = 0; st == GB_OK && i < k && !v->stop; i++)
            for (size_t j = i + 1; d[i].overtook && j < k && !v->stop; j++)
                if (sent_before(&d[j], &d[i]))
                    report_overtake(v, &d[i], &d[j]);
    }
    free(d);
    free(min_own);
    if (st != GB_OK)
        return gbi_error(st, "gb_causal_verify", "out of memory checking delivery order");
    return GB_OK;
}

/* ---- deadlocks ----------------------------------------------------------------- */

static int on_deadlock(const gb_deadlock *d, void *ctx)
{
    vctx *v = ctx;
    char cycle[160];
    size_t off = 0;
    for (size_t i = 0; i < d->cycle_len && off < sizeof cycle; i++)
        off += (size_t)snprintf(cycle + off, sizeof cycle - off, "%llx -(%llu)-> ",
                                (unsigned long long)d->cycle_actor[i],
                                (unsigned long long)d->cycle_call[i]);
    emit(v, GB_CV_DEADLOCK, NULL, 0, 0, "deadlock among %zu actors: %s%llx", d->n_actors, cycle,
         (unsigned long long)d->cycle_actor[0]);
    return v->stop;
}

/* ---- entry points -------------------------------------------------------------- */

static gb_status run_checks(vctx *v, gb_causal_graph *g)
{
    pthread_mutex_lock(&g->mu);
    v->g = g;
    gb_status st = index_messages(v);
    if (st == GB_OK)
        st = index_order(v);
    if (st == GB_OK)
        check_events(v);
    if (st == GB_OK && !v->stop && (v->checks & GB_CV_CHECK_DELIVERY))
        st = check_delivery(v);
    pthread_mutex_unlock(&g->mu);
    gbi_u64map_free(&v->sends);
    gbi_u64map_free(&v->recvs);
    free(v->local);
    free(v->vc_twin);
    free(v->hlc_prev);
    return st;
}

gb_status gb_causal_each_violation(gb_causal_graph *g, const gb_causal_verify_opts *opts,
                                   gb_causal_violation_fn fn, void *ctx, size_t *n_found)
{
    static const char *where = "gb_causal_verify";
    if (n_found)
        *n_found = 0;
    if (!g || !fn)
        return gbi_error(GB_EINVAL, where, "%s is NULL", g ? "callback" : "graph");
    gb_causal_verify_opts o = {0};
    if (opts)
        o = *opts;
    if (o.checks & ~ALL_CHECKS)
        return gbi_error(GB_EINVAL, where, "unknown check bits %#x", o.checks & ~ALL_CHECKS);
    if (o.max_offset_ns < 0)
        return gbi_error(GB_EINVAL, where, "max_offset_ns %lld is negative",
                         (long long)o.max_offset_ns);
    vctx v = {.checks = o.checks ? o.checks : ALL_CHECKS,
              .max_offset_ns = o.max_offset_ns ? o.max_offset_ns : GB_HLC_DEFAULT_MAX_OFFSET_NS,
              .fn = fn, .ctx = ctx};
    gb_status st = run_checks(&v, g);
    if (st == GB_OK && !v.stop && o.waitfor && (v.checks & GB_CV_CHECK_DEADLOCK))
        st = gb_waitfor_deadlocks(o.waitfor, on_deadlock, &v, NULL);
    if (n_found)
        *n_found = v.found;
    return st;
}

static int keep_first(const gb_causal_violation *v, void *ctx)
{
    *(gb_causal_violation *)ctx = *v;
    return 1;
}

static gb_status status_of(gb_causal_violation_kind kind)
{
    switch (kind) {
    case GB_CV_NONE: return GB_OK;
    case GB_CV_UNMATCHED_RECV: return GB_ENOENT;
    case GB_CV_DUPLICATE_MSG: return GB_EEXIST;
    case GB_CV_HLC_RECV_NOT_AFTER_SEND:
    case GB_CV_HLC_BACKWARDS:
    case GB_CV_HLC_OFFSET: return GB_ECLOCK;
    case GB_CV_DEADLOCK: return GB_EDEADLK;
    default: return GB_EORDER;
    }
}

gb_status gb_causal_verify(gb_causal_graph *g, const gb_causal_verify_opts *opts,
                           gb_causal_violation *violation)
{
    gb_causal_violation first = {.kind = GB_CV_NONE};
    gb_status st = gb_causal_each_violation(g, opts, keep_first, &first, NULL);
    if (violation)
        *violation = first;
    if (st != GB_OK)
        return st;
    if (first.kind == GB_CV_NONE)
        return GB_OK;
    return gbi_error(status_of(first.kind), "gb_causal_verify", "%s: %s",
                     gb_causal_violation_name(first.kind), first.what);
}

const char *gb_causal_violation_name(gb_causal_violation_kind kind)
{
    static const char *const names[] = {
        [GB_CV_NONE] = "none",
        [GB_CV_UNMATCHED_RECV] = "unmatched-receive",
        [GB_CV_DUPLICATE_MSG] = "duplicate-message",
        [GB_CV_VC_NOT_ADVANCING] = "vclock-not-advancing",
        [GB_CV_VC_RECV_BEFORE_SEND] = "vclock-receive-before-send",
        [GB_CV_DELIVERY_ORDER] = "delivery-order",
        [GB_CV_HLC_RECV_NOT_AFTER_SEND] = "hlc-receive-not-after-send",
        [GB_CV_HLC_BACKWARDS] = "hlc-backwards",
        [GB_CV_HLC_OFFSET] = "hlc-offset",
        [GB_CV_DEADLOCK] = "deadlock",
    };
    if ((unsigned)kind >= sizeof names / sizeof names[0])
        return "unknown";
    return names[kind];
}
