/*
 * Causal graph recording: an append-only array of events (kind, node,
 * actor, message id, HLC, physical time, vector clock copy), guarded by one
 * mutex so any number of threads may record and query at once. Event ids
 * are positions in the array plus one, so lookups are O(1); links between
 * sends and receives are resolved when a query or check needs them.
 */
#include "causal/causal_graph.h"

#include "base/error.h"

#include <stdlib.h>
#include <string.h>

gb_status gb_causal_create(gb_causal_graph **out)
{
    if (!out)
        return gbi_error(GB_EINVAL, "gb_causal_create", "out is NULL");
    *out = NULL;
    gb_causal_graph *g = calloc(1, sizeof *g);
    if (!g)
        return gbi_error(GB_ENOMEM, "gb_causal_create", "out of memory");
    if (pthread_mutex_init(&g->mu, NULL) != 0) {
        free(g);
        return gbi_error(GB_ENOMEM, "gb_causal_create", "cannot initialise mutex");
    }
    *out = g;
    return GB_OK;
}

void gb_causal_destroy(gb_causal_graph *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n; i++)
        gb_vclock_destroy(g->ev[i].vc);
    free(g->ev);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

static gb_status check_event(const gb_causal_event *ev)
{
    static const char *where = "gb_causal_record";
    if (!ev->vc)
        return gbi_error(GB_EINVAL, where, "event has no vector clock");
    if (ev->kind != GB_CAUSAL_LOCAL && ev->kind != GB_CAUSAL_SEND && ev->kind != GB_CAUSAL_RECV)
        return gbi_error(GB_EINVAL, where, "unknown event kind %d", (int)ev->kind);
    if (ev->kind == GB_CAUSAL_LOCAL && ev->msg_id != 0)
        return gbi_error(GB_EINVAL, where, "local event carries message id %llu",
                         (unsigned long long)ev->msg_id);
    if (ev->kind != GB_CAUSAL_LOCAL && ev->msg_id == 0)
        return gbi_error(GB_EINVAL, where, "send/receive event without a message id");
    return GB_OK;
}

/* Grow the array for one more event. Caller holds g->mu. */
static gb_status reserve(gb_causal_graph *g)
{
    if (g->n < g->cap)
        return GB_OK;
    size_t cap = g->cap ? g->cap * 2 : 256;
    gbi_cevent *ev = realloc(g->ev, cap * sizeof *ev);
    if (!ev)
        return gbi_error(GB_ENOMEM, "gb_causal_record", "out of memory for %zu events", cap);
    g->ev = ev;
    g->cap = cap;
    return GB_OK;
}

gb_status gb_causal_record(gb_causal_graph *g, const gb_causal_event *ev, uint64_t *id)
{
    if (id)
        *id = 0;
    if (!g || !ev)
        return gbi_error(GB_EINVAL, "gb_causal_record", "%s is NULL", g ? "event" : "graph");
    gb_status st = check_event(ev);
    if (st != GB_OK)
        return st;
    /* Copy the clock outside the lock: the caller's clock is its own. */
    gb_vclock *vc;
    st = gb_vclock_create(&vc);
    if (st == GB_OK && (st = gb_vclock_copy(vc, ev->vc)) != GB_OK)
        gb_vclock_destroy(vc);
    if (st != GB_OK)
        return st;
    pthread_mutex_lock(&g->mu);
    st = reserve(g);
    if (st == GB_OK) {
        g->ev[g->n++] = (gbi_cevent){ev->kind, ev->node, ev->actor, ev->msg_id, ev->hlc,
                                     ev->pt_ns, gb_vclock_get(vc, ev->node), vc};
        if (id)
            *id = g->n;
    }
    pthread_mutex_unlock(&g->mu);
    if (st != GB_OK)
        gb_vclock_destroy(vc);
    return st;
}

size_t gb_causal_count(gb_causal_graph *g)
{
    if (!g)
        return 0;
    pthread_mutex_lock(&g->mu);
    size_t n = g->n;
    pthread_mutex_unlock(&g->mu);
    return n;
}

const gbi_cevent *gbi_causal_event(const gb_causal_graph *g, uint64_t id)
{
    return id >= 1 && id <= g->n ? &g->ev[id - 1] : NULL;
}

gb_status gb_causal_event_get(gb_causal_graph *g, uint64_t id, gb_causal_event *out,
                              gb_vclock *vc)
{
    if (!g || !out)
        return gbi_error(GB_EINVAL, "gb_causal_event_get", "%s is NULL", g ? "out" : "graph");
    pthread_mutex_lock(&g->mu);
    const gbi_cevent *e = gbi_causal_event(g, id);
    gb_status st = GB_OK;
    if (!e)
        st = gbi_error(GB_ENOENT, "gb_causal_event_get", "no event %llu", (unsigned long long)id);
    else {
        *out = (gb_causal_event){e->kind, e->node, e->actor, e->msg_id, e->hlc, e->pt_ns, NULL};
        if (vc)
            st = gb_vclock_copy(vc, e->vc);
    }
    pthread_mutex_unlock(&g->mu);
    return st;
}
