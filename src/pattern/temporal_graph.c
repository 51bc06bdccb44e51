/*
 * Temporal graph: timestamped directed edges, time-range queries,
 * time-respecting path and cycle search (include/gpubridge/temporal_graph.h).
 *
 * Layout. Each node owns two adjacency lists (outgoing, incoming) of
 * 32-byte entries kept in time order. Because edges arrive in globally
 * non-decreasing time, appending to a node's list keeps it sorted, so a
 * time-range query is a binary search and path search starts each hop at
 * the first edge strictly after the previous hop. Nodes are found through
 * an open-addressing hash map (linear probing, backward-shift deletion)
 * from node id to a slot in the node array; each bucket keeps the node's
 * id beside its slot, so a probe never reads the node array (one cache
 * miss less per lookup that passes a neighbour's bucket, and map growth
 * and deletion never touch the nodes).
 *
 * Eviction. A global log (ring buffer, time order) records (ts, source
 * slot, target slot) for every held edge. The oldest edge in the log is also the
 * oldest entry of its source's out-list and its target's in-list, so
 * evicting it advances those two list heads by one: O(1) per edge. Dead
 * entries at a list's head are reclaimed by compaction when the list must
 * grow; a node whose lists both empty is removed.
 *
 * Failure safety: add reserves every allocation (log slot, nodes, list
 * space) before changing anything visible, so GB_ENOMEM leaves the graph as
 * it was.
 */
#include "base/error.h"
#include "gpubridge/hash.h"
#include "gpubridge/temporal_graph.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define TG_EMPTY UINT32_MAX

typedef struct tg_half {
    int64_t ts;
    uint64_t other; /* target for out-lists, source for in-lists */
    uint64_t id;
    double value;
} tg_half;

typedef struct tg_list {
    tg_half *v;
    size_t head; /* v[head..len) are live */
    size_t len;
    size_t cap;
} tg_list;

typedef struct tg_node {
    uint64_t id;
    tg_list out;
    tg_list in;
    uint32_t next_free;
    bool used;
} tg_node;

/* A held edge in the log: its nodes' slots, which stay valid while the
 * edge is held (a node with a live entry in a list is never removed). */
typedef struct tg_logent {
    int64_t ts;
    uint32_t src;
    uint32_t dst;
} tg_logent;

/* A map bucket: slot TG_EMPTY = free (id then meaningless). */
typedef struct tg_bucket {
    uint64_t id;
    uint32_t slot;
    uint32_t pad;
} tg_bucket;

struct gb_tgraph {
    tg_node *nodes;
    uint32_t nodes_cap;  /* slots allocated */
    uint32_t nodes_high; /* slots ever handed out */
    uint32_t free_head;  /* free slot list, TG_EMPTY terminated */
    uint32_t live_nodes;
    tg_bucket *map; /* id and node slot per bucket */
    size_t map_cap; /* power of two, load <= 1/2 */
    tg_logent *log;
    size_t log_cap; /* power of two */
    size_t log_head;
    size_t log_len;
    int64_t floor_ts; /* oldest ts still accepted */
    int64_t horizon_ns;
};

/* ---- node map -------------------------------------------------------------- */

static size_t home_bucket(const gb_tgraph *g, uint64_t id)
{
    return (size_t)gb_hash_u64(id) & (g->map_cap - 1);
}

static uint32_t find_slot(const gb_tgraph *g, uint64_t id, size_t *bucket)
{
    size_t mask = g->map_cap - 1;
    for (size_t b = home_bucket(g, id);; b = (b + 1) & mask) {
        const tg_bucket *m = &g->map[b];
        if (m->slot == TG_EMPTY || m->id == id) {
            if (bucket)
                *bucket = b;
            return m->slot;
        }
    }
}

static const tg_node *find_node(const gb_tgraph *g, uint64_t id)
{
    uint32_t s = find_slot(g, id, NULL);
    return s == TG_EMPTY ? NULL : &g->nodes[s];
}

static gb_status map_grow(gb_tgraph *g)
{
    size_t cap = g->map_cap * 2, old_cap = g->map_cap;
    tg_bucket *m = malloc(cap * sizeof *m), *old = g->map;
    if (!m)
        return gbi_error(GB_ENOMEM, "gb_tgraph_add", "out of memory growing node map");
    memset(m, 0xFF, cap * sizeof *m);
    g->map = m;
    g->map_cap = cap;
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].slot == TG_EMPTY)
            continue;
        size_t b;
        find_slot(g, old[i].id, &b);
        g->map[b] = old[i];
    }
    free(old);
    return GB_OK;
}

/* Backward-shift deletion keeps every probe chain unbroken. */
static void map_remove(gb_tgraph *g, size_t hole)
{
    size_t mask = g->map_cap - 1;
    for (size_t j = (hole + 1) & mask; g->map[j].slot != TG_EMPTY; j = (j + 1) & mask) {
        size_t home = home_bucket(g, g->map[j].id);
        /* the entry at j may move to hole iff hole lies cyclically in [home, j) */
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            g->map[hole] = g->map[j];
            hole = j;
        }
    }
    g->map[hole].slot = TG_EMPTY;
}

static gb_status node_slot_alloc(gb_tgraph *g, uint32_t *slot)
{
    if (g->free_head != TG_EMPTY) {
        *slot = g->free_head;
        g->free_head = g->nodes[*slot].next_free;
        return GB_OK;
    }
    if (g->nodes_high == g->nodes_cap) {
        if (g->nodes_cap >= TG_EMPTY / 2)
            return gbi_error(GB_ENOMEM, "gb_tgraph_add", "too many nodes");
        uint32_t cap = g->nodes_cap ? g->nodes_cap * 2 : 64;
        tg_node *n = realloc(g->nodes, (size_t)cap * sizeof *n);
        if (!n)
            return gbi_error(GB_ENOMEM, "gb_tgraph_add", "out of memory growing nodes");
        g->nodes = n;
        g->nodes_cap = cap;
    }
    *slot = g->nodes_high++;
    return GB_OK;
}

/* Find node id or insert it with empty lists; *created tells which. */
static gb_status node_get(gb_tgraph *g, uint64_t id, uint32_t *slot, bool *created)
{
    *created = false;
    size_t b;
    *slot = find_slot(g, id, &b);
    if (*slot != TG_EMPTY)
        return GB_OK;
    if ((size_t)(g->live_nodes + 1) * 2 > g->map_cap) {
        gb_status st = map_grow(g);
        if (st != GB_OK)
            return st;
        find_slot(g, id, &b);
    }
    gb_status st = node_slot_alloc(g, slot);
    if (st != GB_OK)
        return st;
    tg_node *n = &g->nodes[*slot];
    memset(n, 0, sizeof *n);
    n->id = id;
    n->used = true;
    g->map[b] = (tg_bucket){.id = id, .slot = *slot};
    g->live_nodes++;
    *created = true;
    return GB_OK;
}

static void node_remove(gb_tgraph *g, uint32_t slot)
{
    tg_node *n = &g->nodes[slot];
    size_t b;
    find_slot(g, n->id, &b);
    map_remove(g, b);
    free(n->out.v);
    free(n->in.v);
    memset(n, 0, sizeof *n);
    n->next_free = g->free_head;
    g->free_head = slot;
    g->live_nodes--;
}

static bool node_empty(const tg_node *n)
{
    return n->out.len == n->out.head && n->in.len == n->in.head;
}

/* ---- adjacency lists ------------------------------------------------------- */

/* Make room for one more entry: compact when at least half the array is
 * dead entries at the head, else grow. Contents are unchanged. */
static gb_status list_reserve(tg_list *l)
{
    if (l->len < l->cap)
        return GB_OK;
    if (l->head > 0 && l->head >= l->len / 2) {
        memmove(l->v, l->v + l->head, (l->len - l->head) * sizeof *l->v);
        l->len -= l->head;
        l->head = 0;
        return GB_OK;
    }
    size_t cap = l->cap ? l->cap * 2 : 4;
    tg_half *v = realloc(l->v, cap * sizeof *v);
    if (!v)
        return gbi_error(GB_ENOMEM, "gb_tgraph_add", "out of memory growing adjacency");
    l->v = v;
    l->cap = cap;
    return GB_OK;
}

/* First index in [head, len) whose ts >= t (len if none). */
static size_t list_lower_bound(const tg_list *l, int64_t t)
{
    size_t lo = l->head, hi = l->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->v[mid].ts < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void list_pop_front(tg_list *l)
{
    l->head++;
    if (l->head == l->len)
        l->head = l->len = 0;
}

/* ---- edge log -------------------------------------------------------------- */

static gb_status log_reserve(gb_tgraph *g)
{
    if (g->log_len < g->log_cap)
        return GB_OK;
    size_t cap = g->log_cap * 2;
    tg_logent *v = malloc(cap * sizeof *v);
    if (!v)
        return gbi_error(GB_ENOMEM, "gb_tgraph_add", "out of memory growing edge log");
    for (size_t i = 0; i < g->log_len; i++)
        v[i] = g->log[(g->log_head + i) & (g->log_cap - 1)];
    free(g->log);
    g->log = v;
    g->log_cap = cap;
    g->log_head = 0;
    return GB_OK;
}

/* ---- create / destroy ------------------------------------------------------ */

gb_status gb_tgraph_create(gb_tgraph **out, const gb_tgraph_opts *opts)
{
    if (!out)
        return gbi_error(GB_EINVAL, "gb_tgraph_create", "out is NULL");
    *out = NULL;
    gb_tgraph_opts o = {0};
    if (opts)
        o = *opts;
    if (o.horizon_ns < 0)
        return gbi_error(GB_EINVAL, "gb_tgraph_create", "horizon_ns %lld is negative",
                         (long long)o.horizon_ns);
    gb_tgraph *g = calloc(1, sizeof *g);
    if (!g)
        goto fail;
    g->map_cap = 64;
    g->log_cap = 64;
    g->map = malloc(g->map_cap * sizeof *g->map);
    g->log = malloc(g->log_cap * sizeof *g->log);
    if (!g->map || !g->log)
        goto fail;
    memset(g->map, 0xFF, g->map_cap * sizeof *g->map);
    g->free_head = TG_EMPTY;
    g->floor_ts = INT64_MIN;
    g->horizon_ns = o.horizon_ns;
    *out = g;
    return GB_OK;
fail:
    gb_tgraph_destroy(g);
    return gbi_error(GB_ENOMEM, "gb_tgraph_create", "out of memory");
}

void gb_tgraph_destroy(gb_tgraph *g)
{
    if (!g)
        return;
    for (uint32_t s = 0; s < g->nodes_high; s++) {
        free(g->nodes[s].out.v);
        free(g->nodes[s].in.v);
    }
    free(g->nodes);
    free(g->map);
    free(g->log);
    free(g);
}

/* ---- insertion and eviction ------------------------------------------------ */

/* Allocate everything one insertion needs; on failure undo node creation. */
static gb_status reserve_edge(gb_tgraph *g, const gb_tedge *e, uint32_t *src, uint32_t *dst)
{
    bool made_src = false, made_dst = false;
    gb_status st = log_reserve(g);
    if (st == GB_OK)
        st = node_get(g, e->source, src, &made_src);
    if (st == GB_OK)
        st = node_get(g, e->target, dst, &made_dst);
    if (st == GB_OK)
        st = list_reserve(&g->nodes[*src].out);
    if (st == GB_OK)
        st = list_reserve(&g->nodes[*dst].in);
    if (st == GB_OK)
        return GB_OK;
    if (made_dst && node_empty(&g->nodes[*dst]))
        node_remove(g, *dst);
    if (made_src && node_empty(&g->nodes[*src]))
        node_remove(g, *src);
    return st;
}

gb_status gb_tgraph_add(gb_tgraph *g, const gb_tedge *e)
{
    if (!g || !e)
        return gbi_error(GB_EINVAL, "gb_tgraph_add", "%s is NULL", g ? "edge" : "graph");
    if (e->ts_ns < g->floor_ts)
        return gbi_error(GB_EORDER, "gb_tgraph_add",
                         "edge %llu at %lld ns is older than %lld ns already accepted or evicted",
                         (unsigned long long)e->id, (long long)e->ts_ns,
                         (long long)g->floor_ts);
    uint32_t src, dst;
    gb_status st = reserve_edge(g, e, &src, &dst);
    if (st != GB_OK)
        return st;
    tg_list *out = &g->nodes[src].out;
    out->v[out->len++] = (tg_half){e->ts_ns, e->target, e->id, e->value};
    tg_list *in = &g->nodes[dst].in;
    in->v[in->len++] = (tg_half){e->ts_ns, e->source, e->id, e->value};
    g->log[(g->log_head + g->log_len++) & (g->log_cap - 1)] =
        (tg_logent){e->ts_ns, src, dst};
    g->floor_ts = e->ts_ns;
    if (g->horizon_ns > 0 && e->ts_ns > INT64_MIN + g->horizon_ns)
        return gb_tgraph_evict_before(g, e->ts_ns - g->horizon_ns, NULL);
    return GB_OK;
}

/* Stage 0 touches only the map's address; stages 1 and 2 read one bucket
 * (and one node), which the earlier stage should have brought in. */
void gb_tgraph_prefetch(const gb_tgraph *g, uint64_t node, int stage)
{
    if (!g)
        return;
    const tg_bucket *m = &g->map[home_bucket(g, node)];
    if (stage == 0) {
        __builtin_prefetch(m);
        return;
    }
    if (m->slot == TG_EMPTY || m->id != node)
        return; /* unknown, or not in its home bucket: not worth a probe */
    const tg_node *n = &g->nodes[m->slot];
    if (stage == 1) {
        __builtin_prefetch(n);
        __builtin_prefetch((const char *)n + sizeof *n - 1);
        return;
    }
    if (n->out.v)
        __builtin_prefetch(&n->out.v[n->out.len]);
    if (n->in.v)
        __builtin_prefetch(&n->in.v[n->in.len]);
}

static void evict_front(gb_tgraph *g)
{
    tg_logent le = g->log[g->log_head];
    g->log_head = (g->log_head + 1) & (g->log_cap - 1);
    g->log_len--;
    uint32_t src = le.src, dst = le.dst;
    list_pop_front(&g->nodes[src].out);
    list_pop_front(&g->nodes[dst].in);
    if (node_empty(&g->nodes[src]))
        node_remove(g, src);
    if (dst != src && node_empty(&g->nodes[dst]))
        node_remove(g, dst);
}

gb_status gb_tgraph_evict_before(gb_tgraph *g, int64_t t, size_t *n_evicted)
{
    if (n_evicted)
        *n_evicted = 0;
    if (!g)
        return gbi_error(GB_EINVAL, "gb_tgraph_evict_before", "graph is NULL");
    size_t n = 0;
    while (g->log_len > 0 && g->log[g->log_head].ts < t) {
        evict_front(g);
        n++;
    }
    if (t > g->floor_ts)
        g->floor_ts = t;
    if (n_evicted)
        *n_evicted = n;
    return GB_OK;
}

size_t gb_tgraph_edge_count(const gb_tgraph *g)
{
    return g ? g->log_len : 0;
}

size_t gb_tgraph_node_count(const gb_tgraph *g)
{
    return g ? g->live_nodes : 0;
}

/* ---- edges at a node ------------------------------------------------------- */

static gb_status check_window(const char *where, int64_t t1, int64_t t2)
{
    if (t1 > t2)
        return gbi_error(GB_EINVAL, where, "window [%lld, %lld] is reversed", (long long)t1,
                         (long long)t2);
    return GB_OK;
}

gb_status gb_tgraph_each_edge_at(const gb_tgraph *g, uint64_t node, gb_tgraph_dir dir,
                                 int64_t t1, int64_t t2, gb_tgraph_edge_fn fn, void *ctx)
{
    static const char *where = "gb_tgraph_edges_at";
    if (!g || !fn)
        return gbi_error(GB_EINVAL, where, "%s is NULL", g ? "callback" : "graph");
    if (dir != GB_TGRAPH_OUT && dir != GB_TGRAPH_IN)
        return gbi_error(GB_EINVAL, where, "direction %d is neither OUT nor IN", (int)dir);
    if (check_window(where, t1, t2) != GB_OK)
        return GB_EINVAL;
    const tg_node *n = find_node(g, node);
    if (!n)
        return GB_OK;
    const tg_list *l = dir == GB_TGRAPH_OUT ? &n->out : &n->in;
    for (size_t i = list_lower_bound(l, t1); i < l->len && l->v[i].ts <= t2; i++) {
        const tg_half *h = &l->v[i];
        gb_tedge e = {h->id, node, h->other, h->ts, h->value};
        if (dir == GB_TGRAPH_IN) {
            e.source = h->other;
            e.target = node;
        }
        if (fn(&e, ctx) != 0)
            break;
    }
    return GB_OK;
}

typedef struct edge_sink {
    gb_tedge *out;
    size_t cap;
    size_t n;
    bool overflow;
} edge_sink;

static int edge_collect(const gb_tedge *e, void *ctx)
{
    edge_sink *s = ctx;
    if (s->n == s->cap) {
        s->overflow = true;
        return 1;
    }
    s->out[s->n++] = *e;
    return 0;
}

gb_status gb_tgraph_edges_at(const gb_tgraph *g, uint64_t node, gb_tgraph_dir dir, int64_t t1,
                             int64_t t2, gb_tedge *out, size_t cap, size_t *n_out)
{
    if (n_out)
        *n_out = 0;
    if (!n_out || (!out && cap > 0))
        return gbi_error(GB_EINVAL, "gb_tgraph_edges_at", "%s is NULL", n_out ? "out" : "n_out");
    edge_sink s = {out, cap, 0, false};
    gb_status st = gb_tgraph_each_edge_at(g, node, dir, t1, t2, edge_collect, &s);
    *n_out = s.n;
    if (st != GB_OK)
        return st;
    if (s.overflow)
        return gbi_error(GB_ERANGE, "gb_tgraph_edges_at", "more than %zu edges matched", cap);
    return GB_OK;
}

/* ---- path and cycle search ------------------------------------------------- */

typedef struct tg_search {
    const gb_tgraph *g;
    uint64_t target; /* end node: `to` for paths, the start node for cycles */
    int64_t t2;
    uint32_t min_depth;
    uint32_t max_depth;
    gb_tgraph_path_fn fn;
    void *ctx;
    bool stop;
    gb_tedge path[GB_TGRAPH_MAX_DEPTH];
} tg_search;

/* Is v already on the path path[0..depth) (start node included)? */
static bool on_path(const tg_search *s, uint64_t v, uint32_t depth)
{
    if (s->path[0].source == v)
        return true;
    for (uint32_t k = 0; k < depth; k++)
        if (s->path[k].target == v)
            return true;
    return false;
}

/* Extend a path ending at u (depth hops so far) with every edge of u at
 * ts >= lo. Depth is bounded by GB_TGRAPH_MAX_DEPTH, so is the recursion. */
static void search_from(tg_search *s, uint64_t u, int64_t lo, uint32_t depth)
{
    const tg_node *n = find_node(s->g, u);
    if (!n)
        return;
    const tg_list *l = &n->out;
    for (size_t i = list_lower_bound(l, lo); i < l->len && !s->stop; i++) {
        const tg_half *h = &l->v[i];
        if (h->ts > s->t2)
            break;
        s->path[depth] = (gb_tedge){h->id, u, h->other, h->ts, h->value};
        if (h->other == s->target) {
            if (depth + 1 >= s->min_depth)
                s->stop = s->fn(s->path, depth + 1, s->ctx) != 0;
            continue;
        }
        if (depth + 1 >= s->max_depth || h->ts == INT64_MAX || on_path(s, h->other, depth))
            continue;
        search_from(s, h->other, h->ts + 1, depth + 1);
    }
}

static gb_status search(const gb_tgraph *g, uint64_t from, uint64_t to, int64_t t1, int64_t t2,
                        uint32_t min_depth, uint32_t max_depth, gb_tgraph_path_fn fn, void *ctx)
{
    /* the path is written hop by hop before it is read: not zeroed (it is
     * most of the struct, and a search runs for every edge in some uses) */
    tg_search s;
    s.g = g;
    s.target = to;
    s.t2 = t2;
    s.min_depth = min_depth;
    s.max_depth = max_depth;
    s.fn = fn;
    s.ctx = ctx;
    s.stop = false;
    s.path[0].source = from;
    search_from(&s, from, t1, 0);
    return GB_OK;
}

static gb_status check_search(const char *where, const gb_tgraph *g, const void *fn, int64_t t1,
                              int64_t t2, uint32_t min_depth, uint32_t max_depth)
{
    if (!g || !fn)
        return gbi_error(GB_EINVAL, where, "%s is NULL", g ? "callback" : "graph");
    if (max_depth < min_depth || max_depth > GB_TGRAPH_MAX_DEPTH)
        return gbi_error(GB_EINVAL, where, "max_depth %u outside [%u, %u]", max_depth,
                         min_depth, GB_TGRAPH_MAX_DEPTH);
    return check_window(where, t1, t2);
}

gb_status gb_tgraph_each_path(const gb_tgraph *g, uint64_t from, uint64_t to, int64_t t1,
                              int64_t t2, uint32_t max_depth, gb_tgraph_path_fn fn, void *ctx)
{
    static const char *where = "gb_tgraph_paths";
    gb_status st = check_search(where, g, (const void *)fn, t1, t2, 1, max_depth);
    if (st != GB_OK)
        return st;
    if (from == to)
        return gbi_error(GB_EINVAL, where, "from == to (%llu): use gb_tgraph_each_cycle",
                         (unsigned long long)from);
    return search(g, from, to, t1, t2, 1, max_depth, fn, ctx);
}

gb_status gb_tgraph_each_cycle(const gb_tgraph *g, uint64_t node, int64_t t1, int64_t t2,
                               uint32_t max_depth, gb_tgraph_path_fn fn, void *ctx)
{
    gb_status st = check_search("gb_tgraph_cycles", g, (const void *)fn, t1, t2, 2, max_depth);
    if (st != GB_OK)
        return st;
    return search(g, node, node, t1, t2, 2, max_depth, fn, ctx);
}

typedef struct path_sink {
    gb_tpath *out;
    size_t cap;
    size_t n;
    bool overflow;
} path_sink;

static int path_collect(const gb_tedge *edges, size_t n, void *ctx)
{
    path_sink *s = ctx;
    if (s->n == s->cap) {
        s->overflow = true;
        return 1;
    }
    gb_tpath *p = &s->out[s->n++];
    p->len = (uint32_t)n;
    memcpy(p->edge, edges, n * sizeof *edges);
    return 0;
}

static gb_status sink_result(const char *where, gb_status st, const path_sink *s, size_t *n_out)
{
    *n_out = s->n;
    if (st != GB_OK)
        return st;
    if (s->overflow)
        return gbi_error(GB_ERANGE, where, "more than %zu results; output truncated", s->cap);
    return GB_OK;
}

gb_status gb_tgraph_paths(const gb_tgraph *g, uint64_t from, uint64_t to, int64_t t1, int64_t t2,
                          uint32_t max_depth, gb_tpath *out, size_t cap, size_t *n_out)
{
    if (n_out)
        *n_out = 0;
    if (!n_out || (!out && cap > 0))
        return gbi_error(GB_EINVAL, "gb_tgraph_paths", "%s is NULL", n_out ? "out" : "n_out");
    path_sink s = {out, cap, 0, false};
    gb_status st = gb_tgraph_each_path(g, from, to, t1, t2, max_depth, path_collect, &s);
    return sink_result("gb_tgraph_paths", st, &s, n_out);
}

gb_status gb_tgraph_cycles(const gb_tgraph *g, uint64_t node, int64_t t1, int64_t t2,
                           uint32_t max_depth, gb_tpath *out, size_t cap, size_t *n_out)
{
    if (n_out)
        *n_out = 0;
    if (!n_out || (!out && cap > 0))
        return gbi_error(GB_EINVAL, "gb_tgraph_cycles", "%s is NULL", n_out ? "out" : "n_out");
    path_sink s = {out, cap, 0, false};
    gb_status st = gb_tgraph_each_cycle(g, node, t1, t2, max_depth, path_collect, &s);
    return sink_result("gb_tgraph_cycles", st, &s, n_out);
}
