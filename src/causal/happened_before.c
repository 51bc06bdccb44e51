/*
 * Happened-before and concurrency queries over recorded events. The
 * relation is read from the events' vector clocks (a -> b iff vc(a) < vc(b));
 * the verifier (verify.c) checks separately that those clocks agree with
 * the messages and each node's local order.
 */
#include "causal/causal_graph.h"

#include "base/error.h"

gb_status gb_causal_order(gb_causal_graph *g, uint64_t a, uint64_t b, gb_vc_order *out)
{
    if (!g || !out)
        return gbi_error(GB_EINVAL, "gb_causal_order", "%s is NULL", g ? "out" : "graph");
    pthread_mutex_lock(&g->mu);
    const gbi_cevent *ea = gbi_causal_event(g, a), *eb = gbi_causal_event(g, b);
    if (ea && eb)
        *out = a == b ? GB_VC_EQUAL : gb_vclock_compare(ea->vc, eb->vc);
    pthread_mutex_unlock(&g->mu);
    if (!ea || !eb)
        return gbi_error(GB_ENOENT, "gb_causal_order", "no event %llu",
                         (unsigned long long)(ea ? b : a));
    return GB_OK;
}

gb_status gb_causal_happened_before(gb_causal_graph *g, uint64_t a, uint64_t b, bool *out)
{
    gb_vc_order o = GB_VC_EQUAL;
    if (!out)
        return gbi_error(GB_EINVAL, "gb_causal_happened_before", "out is NULL");
    gb_status st = gb_causal_order(g, a, b, &o);
    *out = st == GB_OK && o == GB_VC_BEFORE;
    return st;
}

gb_status gb_causal_concurrent(gb_causal_graph *g, uint64_t a, uint64_t b, bool *out)
{
    gb_vc_order o = GB_VC_EQUAL;
    if (!out)
        return gbi_error(GB_EINVAL, "gb_causal_concurrent", "out is NULL");
    gb_status st = gb_causal_order(g, a, b, &o);
    *out = st == GB_OK && o == GB_VC_CONCURRENT;
    return st;
}

gb_status gb_causal_concurrent_with(gb_causal_graph *g, uint64_t id, uint64_t *out, size_t cap,
                                    size_t *n_out)
{
    static const char *where = "gb_causal_concurrent_with";
    if (n_out)
        *n_out = 0;
    if (!g || !n_out || (!out && cap > 0))
        return gbi_error(GB_EINVAL, where, "%s is NULL", !g ? "graph" : n_out ? "out" : "n_out");
    pthread_mutex_lock(&g->mu);
    const gbi_cevent *e = gbi_causal_event(g, id);
    size_t n = 0;
    bool more = false;
    for (size_t i = 0; e && i < g->n && !more; i++) {
        if (gb_vclock_compare(e->vc, g->ev[i].vc) != GB_VC_CONCURRENT)
            continue;
        if (n == cap)
            more = true;
        else
            out[n++] = i + 1;
    }
    pthread_mutex_unlock(&g->mu);
    *n_out = n;
    if (!e)
        return gbi_error(GB_ENOENT, where, "no event %llu", (unsigned long long)id);
    if (more)
        return gbi_error(GB_ERANGE, where, "more than %zu concurrent events", cap);
    return GB_OK;
}
