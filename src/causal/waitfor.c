/*
 * Wait-for graph of pending calls (caller -> callee, keyed by call id) and
 * deadlock detection with Tarjan's strongly-connected-components algorithm.
 *
 * The live graph is an edge array plus a call id -> edge index map (edge
 * removal swaps the last edge into the hole). A query takes a compact
 * snapshot under the mutex: actors sorted and numbered, edges in CSR form
 * (per actor, its outgoing edges). Tarjan runs iteratively (an explicit
 * frame stack, so a long chain of waiting actors cannot overflow the C
 * stack). Each component with two or more actors, or one actor with a call
 * to itself, is a deadlock; its witness cycle is the shortest cycle back to
 * the component's smallest actor id, by breadth-first search inside it.
 */
#include "base/error.h"
#include "base/u64map.h"
#include "gpubridge/causal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct wf_edge {
    uint64_t caller;
    uint64_t callee;
    uint64_t call;
} wf_edge;

struct gb_waitfor {
    pthread_mutex_t mu;
    wf_edge *e;
    size_t n;
    size_t cap;
    gbi_u64map by_call;
};

gb_status gb_waitfor_create(gb_waitfor **out)
{
    if (!out)
        return gbi_error(GB_EINVAL, "gb_waitfor_create", "out is NULL");
    *out = NULL;
    gb_waitfor *w = calloc(1, sizeof *w);
    if (!w)
        return gbi_error(GB_ENOMEM, "gb_waitfor_create", "out of memory");
    if (gbi_u64map_init(&w->by_call, 16) != GB_OK) {
        free(w);
        return GB_ENOMEM;
    }
    if (pthread_mutex_init(&w->mu, NULL) != 0) {
        gbi_u64map_free(&w->by_call);
        free(w);
        return gbi_error(GB_ENOMEM, "gb_waitfor_create", "cannot initialise mutex");
    }
    *out = w;
    return GB_OK;
}

void gb_waitfor_destroy(gb_waitfor *w)
{
    if (!w)
        return;
    gbi_u64map_free(&w->by_call);
    free(w->e);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

/* Caller holds w->mu. */
static gb_status add_locked(gb_waitfor *w, uint64_t caller, uint64_t callee, uint64_t call)
{
    if (gbi_u64map_get(&w->by_call, call, NULL))
        return gbi_error(GB_EEXIST, "gb_waitfor_add", "call %llu is already pending",
                         (unsigned long long)call);
    if (w->n >= GBI_U64MAP_EMPTY - 1)
        return gbi_error(GB_ENOMEM, "gb_waitfor_add", "too many pending calls");
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        wf_edge *e = realloc(w->e, cap * sizeof *e);
        if (!e)
            return gbi_error(GB_ENOMEM, "gb_waitfor_add", "out of memory");
        w->e = e;
        w->cap = cap;
    }
    gb_status st = gbi_u64map_put(&w->by_call, call, (uint32_t)w->n);
    if (st != GB_OK)
        return st;
    w->e[w->n++] = (wf_edge){caller, callee, call};
    return GB_OK;
}

gb_status gb_waitfor_add(gb_waitfor *w, uint64_t caller, uint64_t callee, uint64_t call_id)
{
    if (!w)
        return gbi_error(GB_EINVAL, "gb_waitfor_add", "graph is NULL");
    pthread_mutex_lock(&w->mu);
    gb_status st = add_locked(w, caller, callee, call_id);
    pthread_mutex_unlock(&w->mu);
    return st;
}

gb_status gb_waitfor_remove(gb_waitfor *w, uint64_t call_id)
{
    if (!w)
        return gbi_error(GB_EINVAL, "gb_waitfor_remove", "graph is NULL");
    pthread_mutex_lock(&w->mu);
    uint32_t i;
    bool found = gbi_u64map_get(&w->by_call, call_id, &i);
    if (found) {
        gbi_u64map_del(&w->by_call, call_id);
        w->e[i] = w->e[--w->n];
        /* Overwriting an existing key never allocates, so this cannot fail. */
        if (i < w->n)
            gbi_u64map_put(&w->by_call, w->e[i].call, i);
    }
    pthread_mutex_unlock(&w->mu);
    if (!found)
        return gbi_error(GB_ENOENT, "gb_waitfor_remove", "call %llu is not pending",
                         (unsigned long long)call_id);
    return GB_OK;
}

size_t gb_waitfor_count(gb_waitfor *w)
{
    if (!w)
        return 0;
    pthread_mutex_lock(&w->mu);
    size_t n = w->n;
    pthread_mutex_unlock(&w->mu);
    return n;
}

/* ---- snapshot in CSR form ------------------------------------------------------ */

typedef struct wf_csr {
    uint64_t *actor; /* actor ids in order of first appearance */
    size_t n;        /* actors */
    gbi_u64map index; /* actor id -> position in actor[] */
    uint32_t *src;   /* caller index of each live edge (scratch) */
    size_t *off;     /* actor v's edges are [off[v], off[v+1]) */
    uint32_t *dst;   /* target actor of each edge */
    uint64_t *call;  /* call id of each edge */
} wf_csr;

static void csr_free(wf_csr *c)
{
    free(c->actor);
    free(c->src);
    gbi_u64map_free(&c->index);
    free(c->off);
    free(c->dst);
    free(c->call);
    memset(c, 0, sizeof *c);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Number one actor (first appearance order); *out gets its index. */
static gb_status number_actor(wf_csr *c, uint64_t id, uint32_t *out)
{
    if (gbi_u64map_get(&c->index, id, out))
        return GB_OK;
    *out = (uint32_t)c->n;
    c->actor[c->n++] = id;
    return gbi_u64map_put(&c->index, id, *out);
}

/* Number every actor of edges e[0..m); c->src gets each edge's caller. */
static gb_status csr_actors(const wf_edge *e, size_t m, wf_csr *c, uint32_t *dst)
{
    c->actor = malloc((2 * m + 1) * sizeof *c->actor);
    c->src = malloc((m + 1) * sizeof *c->src);
    if (!c->actor || !c->src || gbi_u64map_init(&c->index, 2 * m) != GB_OK)
        return gbi_error(GB_ENOMEM, "gb_waitfor", "out of memory for a snapshot");
    for (size_t i = 0; i < m; i++) {
        if (number_actor(c, e[i].caller, &c->src[i]) != GB_OK ||
            number_actor(c, e[i].callee, &dst[i]) != GB_OK)
            return gbi_error(GB_ENOMEM, "gb_waitfor", "out of memory for a snapshot");
    }
    return GB_OK;
}

/* Build the snapshot of edges e[0..m): a counting sort of edges by caller. */
static gb_status csr_build(const wf_edge *e, size_t m, wf_csr *c)
{
    memset(c, 0, sizeof *c);
    uint32_t *callee = malloc((m + 1) * sizeof *callee);
    size_t *pos = NULL;
    gb_status st = callee ? csr_actors(e, m, c, callee)
                          : gbi_error(GB_ENOMEM, "gb_waitfor", "out of memory for a snapshot");
    if (st == GB_OK) {
        c->off = calloc(c->n + 1, sizeof *c->off);
        c->dst = malloc((m + 1) * sizeof *c->dst);
        c->call = malloc((m + 1) * sizeof *c->call);
        pos = malloc((c->n + 1) * sizeof *pos);
        if (!c->off || !c->dst || !c->call || !pos)
            st = gbi_error(GB_ENOMEM, "gb_waitfor", "out of memory for a snapshot");
    }
    if (st == GB_OK) {
        for (size_t i = 0; i < m; i++)
            c->off[c->src[i] + 1]++;
        for (size_t v = 0; v < c->n; v++)
            c->off[v + 1] += c->off[v];
        memcpy(pos, c->off, (c->n + 1) * sizeof *pos);
        for (size_t i = 0; i < m; i++) {
            size_t at = pos[c->src[i]]++;
            c->dst[at] = callee[i];
            c->call[at] = e[i].call;
        }
    }
    free(pos);
    free(callee);
    if (st != GB_OK)
        csr_free(c);
    return st;
}

/* ---- Tarjan's strongly connected components ------------------------------------ */

#define WF_UNSEEN UINT64_MAX

typedef struct tarjan {
    const wf_csr *c;
    gb_deadlock_fn fn;
    void *ctx;
    size_t reported;
    uint64_t next_index;
    size_t sp, fp;
    /* n entries each, carved from one block */
    uint64_t *index, *low, *comp, *on_stack, *stack, *frame_v, *frame_pos;
    uint64_t *seen, *parent_v, *parent_e, *queue, *ids, *cyc_actor, *cyc_call;
} tarjan;

#define TJ_ARRAYS 14

static gb_status tarjan_init(tarjan *t, const wf_csr *c, uint64_t **block)
{
    size_t n = c->n + 1;
    uint64_t *b = malloc(TJ_ARRAYS * n * sizeof *b);
    if (!b)
        return gbi_error(GB_ENOMEM, "gb_waitfor_deadlocks", "out of memory for %zu actors", n);
    uint64_t **arr[TJ_ARRAYS] = {&t->index,  &t->low,      &t->comp,     &t->on_stack, &t->stack,
                                 &t->frame_v, &t->frame_pos, &t->seen,   &t->parent_v, &t->parent_e,
                                 &t->queue,  &t->ids,      &t->cyc_actor, &t->cyc_call};
    for (size_t i = 0; i < TJ_ARRAYS; i++)
        *arr[i] = b + i * n;
    for (size_t v = 0; v < n; v++) {
        t->index[v] = t->comp[v] = t->seen[v] = WF_UNSEEN;
        t->on_stack[v] = 0;
    }
    t->c = c;
    *block = b;
    return GB_OK;
}

/* Shortest cycle from r back to r inside r's component, by BFS; returns its
 * length (0 if none, i.e. a lone actor without a self-call). */
static size_t witness_cycle(tarjan *t, uint64_t r)
{
    const wf_csr *c = t->c;
    size_t head = 0, tail = 0;
    t->queue[tail++] = r;
    t->seen[r] = r;
    while (head < tail) {
        uint64_t u = t->queue[head++];
        for (size_t e = c->off[u]; e < c->off[u + 1]; e++) {
            uint64_t w = c->dst[e];
            if (t->comp[w] != t->comp[r])
                continue;
            if (w == r) {
                size_t len = 1;
                for (uint64_t v = u; v != r; v = t->parent_v[v])
                    len++;
                size_t k = len - 1;
                t->cyc_actor[k] = c->actor[u];
                t->cyc_call[k] = c->call[e];
                for (uint64_t v = u; v != r; v = t->parent_v[v]) {
                    k--;
                    t->cyc_actor[k] = c->actor[t->parent_v[v]];
                    t->cyc_call[k] = c->call[t->parent_e[v]];
                }
                return len;
            }
            if (t->seen[w] != r) {
                t->seen[w] = r;
                t->parent_v[w] = u;
                t->parent_e[w] = e;
                t->queue[tail++] = w;
            }
        }
    }
    return 0;
}

/* Pop the component rooted at v; report it if it is a deadlock. Returns
 * true when the callback asked to stop. */
static bool pop_component(tarjan *t, uint64_t v)
{
    size_t k = 0;
    while (t->stack[t->sp - 1 - k] != v)
        k++;
    k++;
    const uint64_t *members = &t->stack[t->sp - k];
    uint64_t first = members[0];
    for (size_t i = 0; i < k; i++) {
        t->comp[members[i]] = v;
        t->on_stack[members[i]] = 0;
        t->ids[i] = t->c->actor[members[i]];
        if (t->ids[i] < t->c->actor[first])
            first = members[i];
    }
    t->sp -= k;
    size_t len = witness_cycle(t, first);
    if (len == 0)
        return false;
    qsort(t->ids, k, sizeof *t->ids, cmp_u64);
    gb_deadlock d = {t->ids, k, t->cyc_actor, t->cyc_call, len};
    t->reported++;
    return t->fn(&d, t->ctx) != 0;
}

static void visit(tarjan *t, uint64_t v)
{
    t->index[v] = t->low[v] = t->next_index++;
    t->stack[t->sp++] = v;
    t->on_stack[v] = 1;
    t->frame_v[t->fp] = v;
    t->frame_pos[t->fp++] = t->c->off[v];
}

/* Iterative strongconnect(root). Returns true when the callback stopped. */
static bool strongconnect(tarjan *t, uint64_t root)
{
    visit(t, root);
    while (t->fp > 0) {
        uint64_t v = t->frame_v[t->fp - 1];
        uint64_t *pos = &t->frame_pos[t->fp - 1];
        if (*pos < t->c->off[v + 1]) {
            uint64_t w = t->c->dst[(*pos)++];
            if (t->index[w] == WF_UNSEEN)
                visit(t, w);
            else if (t->on_stack[w] && t->index[w] < t->low[v])
                t->low[v] = t->index[w];
            continue;
        }
        t->fp--;
        if (t->fp > 0) {
            uint64_t u = t->frame_v[t->fp - 1];
            if (t->low[v] < t->low[u])
                t->low[u] = t->low[v];
        }
        if (t->low[v] == t->index[v] && pop_component(t, v))
            return true;
    }
    return false;
}

gb_status gb_waitfor_deadlocks(gb_waitfor *w, gb_deadlock_fn fn, void *ctx, size_t *n_deadlocks)
{
    if (n_deadlocks)
        *n_deadlocks = 0;
    if (!w || !fn)
        return gbi_error(GB_EINVAL, "gb_waitfor_deadlocks", "%s is NULL", w ? "fn" : "graph");
    pthread_mutex_lock(&w->mu);
    wf_csr c;
    uint64_t *block = NULL;
    tarjan t = {.fn = fn, .ctx = ctx};
    gb_status st = csr_build(w->e, w->n, &c);
    if (st == GB_OK && (st = tarjan_init(&t, &c, &block)) == GB_OK) {
        for (uint64_t v = 0; v < c.n; v++)
            if (t.index[v] == WF_UNSEEN && strongconnect(&t, v))
                break;
    }
    pthread_mutex_unlock(&w->mu);
    free(block);
    csr_free(&c); /* csr_build leaves c empty when it fails */
    if (n_deadlocks)
        *n_deadlocks = t.reported;
    return st;
}

/* Does callee reach caller? Breadth-first over the snapshot. */
static bool reaches(const wf_csr *c, uint64_t from_id, uint64_t to_id, uint64_t *queue,
                    uint8_t *seen)
{
    uint32_t f, to;
    if (!gbi_u64map_get(&c->index, from_id, &f) || !gbi_u64map_get(&c->index, to_id, &to))
        return false;
    size_t head = 0, tail = 0, target = to;
    queue[tail++] = f;
    seen[queue[0]] = 1;
    while (head < tail) {
        uint64_t u = queue[head++];
        if (u == target)
            return true;
        for (size_t e = c->off[u]; e < c->off[u + 1]; e++) {
            if (!seen[c->dst[e]]) {
                seen[c->dst[e]] = 1;
                queue[tail++] = c->dst[e];
            }
        }
    }
    return false;
}

gb_status gb_waitfor_check(gb_waitfor *w, uint64_t caller, uint64_t callee)
{
    static const char *where = "gb_waitfor_check";
    if (!w)
        return gbi_error(GB_EINVAL, where, "graph is NULL");
    if (caller == callee)
        return gbi_error(GB_EDEADLK, where, "actor %llx would wait on itself",
                         (unsigned long long)caller);
    pthread_mutex_lock(&w->mu);
    wf_csr c;
    gb_status st = csr_build(w->e, w->n, &c);
    pthread_mutex_unlock(&w->mu);
    if (st != GB_OK)
        return st;
    uint64_t *queue = malloc((c.n + 1) * sizeof *queue);
    uint8_t *seen = calloc(c.n + 1, 1);
    if (!queue || !seen)
        st = gbi_error(GB_ENOMEM, where, "out of memory");
    else if (reaches(&c, callee, caller, queue, seen))
        st = gbi_error(GB_EDEADLK, where, "actor %llx already waits on %llx: the call closes a cycle",
                       (unsigned long long)callee, (unsigned long long)caller);
    free(queue);
    free(seen);
    csr_free(&c);
    return st;
}
