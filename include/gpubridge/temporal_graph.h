/*
 * Temporal graph (DESIGN.md section 7): directed, timestamped edges
 * (source -> target, ts_ns, value, id) with time-range queries,
 * time-respecting path search and circular-flow (cycle) search.
 *
 * Edges arrive in non-decreasing time order. Old edges are evicted
 * explicitly (gb_tgraph_evict_before) or automatically (opts.horizon_ns).
 *
 * Time-respecting: along a path every hop is STRICTLY later than the hop
 * before it (ts_1 < ts_2 < ... < ts_k), every edge lies inside the query
 * window [t1, t2] (both ends inclusive), and no node is visited twice
 * (a cycle visits its start node exactly twice: first and last).
 *
 * Thread-safety: a graph is not internally synchronised. Any number of
 * threads may run queries at once while no thread modifies the graph
 * (queries never write to it); add/evict need exclusive access.
 */
#ifndef GPUBRIDGE_TEMPORAL_GRAPH_H
#define GPUBRIDGE_TEMPORAL_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "gpubridge/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest path or cycle (in hops) a query may ask for. */
#define GB_TGRAPH_MAX_DEPTH 16

typedef struct gb_tgraph gb_tgraph;

typedef struct gb_tedge {
    uint64_t id;     /* caller's edge id (e.g. the event id); not interpreted */
    uint64_t source;
    uint64_t target;
    int64_t ts_ns;
    double value;
} gb_tedge;

typedef struct gb_tgraph_opts {
    /* > 0: after each insertion, edges with ts_ns < newest_ts - horizon_ns
     * are evicted. 0 = keep edges until gb_tgraph_evict_before. */
    int64_t horizon_ns;
} gb_tgraph_opts;

/* Which adjacency gb_tgraph_edges_at reads. */
typedef enum gb_tgraph_dir {
    GB_TGRAPH_OUT = 0, /* edges whose source is the node */
    GB_TGRAPH_IN = 1   /* edges whose target is the node */
} gb_tgraph_dir;

/* A path or cycle result for the buffer variants. */
typedef struct gb_tpath {
    uint32_t len; /* hops, 1..GB_TGRAPH_MAX_DEPTH */
    gb_tedge edge[GB_TGRAPH_MAX_DEPTH];
} gb_tpath;

/* Callback for one edge; return 0 to continue, non-zero to stop. */
typedef int (*gb_tgraph_edge_fn)(const gb_tedge *edge, void *ctx);

/* Callback for one path: edges[0..n) in hop order (edges[0].source is the
 * start). The array is only valid during the call. Return 0 to continue,
 * non-zero to stop the search. */
typedef int (*gb_tgraph_path_fn)(const gb_tedge *edges, size_t n, void *ctx);

/* Create an empty graph. opts may be NULL (no automatic horizon).
 * Errors: GB_EINVAL (out NULL, negative horizon_ns), GB_ENOMEM. */
gb_status gb_tgraph_create(gb_tgraph **out, const gb_tgraph_opts *opts);

/* Destroy a graph and every edge; NULL is ignored. Not thread-safe. */
void gb_tgraph_destroy(gb_tgraph *g);

/* Insert one edge. Errors: GB_EINVAL (g or edge NULL); GB_EORDER when
 * edge->ts_ns is older than the newest edge already inserted or than the
 * eviction point (graph unchanged); GB_ENOMEM (graph unchanged).
 * With a horizon, may evict old edges after inserting. Needs exclusive access. */
gb_status gb_tgraph_add(gb_tgraph *g, const gb_tedge *edge);

/* A hint that edges at node will be added or searched soon: starts
 * loading what that costs cache misses, without waiting for it and
 * without changing anything. Stage 0 loads the node's map bucket; stage 1
 * (best a few edges after stage 0, once the bucket is in cache) reads the
 * bucket and loads the node; stage 2 (after stage 1) reads the node and
 * loads the tails of its edge lists. g NULL or an unknown node: nothing.
 * Needs the same access as a read (no writer at the same time). */
void gb_tgraph_prefetch(const gb_tgraph *g, uint64_t node, int stage);

/* Evict every edge with ts_ns < t; later insertions older than t are then
 * refused with GB_EORDER. *n_evicted (may be NULL) gets the count.
 * Errors: GB_EINVAL (g NULL). Needs exclusive access. */
gb_status gb_tgraph_evict_before(gb_tgraph *g, int64_t t, size_t *n_evicted);

/* Number of edges held. Thread-safe with other readers. */
size_t gb_tgraph_edge_count(const gb_tgraph *g);

/* Number of nodes with at least one held edge. Thread-safe with readers. */
size_t gb_tgraph_node_count(const gb_tgraph *g);

/* Visit the edges of node in direction dir with t1 <= ts_ns <= t2, oldest
 * first, until fn returns non-zero. An unknown node has no edges.
 * Errors: GB_EINVAL (g or fn NULL, bad dir, t1 > t2). Reader. */
gb_status gb_tgraph_each_edge_at(const gb_tgraph *g, uint64_t node, gb_tgraph_dir dir,
                                 int64_t t1, int64_t t2, gb_tgraph_edge_fn fn, void *ctx);

/* Copy the edges of node in direction dir with t1 <= ts_ns <= t2, oldest
 * first, into out[0..cap); *n_out gets the number written. Errors:
 * GB_EINVAL (g or n_out NULL, out NULL with cap > 0, bad dir, t1 > t2);
 * GB_ERANGE when more edges matched than cap (out holds the oldest cap).
 * Reader. */
gb_status gb_tgraph_edges_at(const gb_tgraph *g, uint64_t node, gb_tgraph_dir dir, int64_t t1,
                             int64_t t2, gb_tedge *out, size_t cap, size_t *n_out);

/* Enumerate every time-respecting simple path from `from` to `to`
 * (from != to) of 1..max_depth hops inside [t1, t2], calling fn for each
 * until it returns non-zero. Errors: GB_EINVAL (g or fn NULL, from == to
 * (use gb_tgraph_each_cycle), max_depth 0 or > GB_TGRAPH_MAX_DEPTH,
 * t1 > t2). Reader; uses no heap memory. */
gb_status gb_tgraph_each_path(const gb_tgraph *g, uint64_t from, uint64_t to, int64_t t1,
                              int64_t t2, uint32_t max_depth, gb_tgraph_path_fn fn, void *ctx);

/* As gb_tgraph_each_path, into out[0..cap); *n_out gets the number written.
 * Extra errors: GB_EINVAL (n_out NULL, out NULL with cap > 0); GB_ERANGE
 * when at least one more path existed (out holds the first cap found). */
gb_status gb_tgraph_paths(const gb_tgraph *g, uint64_t from, uint64_t to, int64_t t1, int64_t t2,
                          uint32_t max_depth, gb_tpath *out, size_t cap, size_t *n_out);

/* Enumerate every time-respecting cycle through node: paths of
 * 2..max_depth hops inside [t1, t2] that leave node and return to it, no
 * other node repeated (circular flows). Self-loops are not cycles here.
 * Errors: GB_EINVAL (g or fn NULL, max_depth < 2 or > GB_TGRAPH_MAX_DEPTH,
 * t1 > t2). Reader; uses no heap memory. */
gb_status gb_tgraph_each_cycle(const gb_tgraph *g, uint64_t node, int64_t t1, int64_t t2,
                               uint32_t max_depth, gb_tgraph_path_fn fn, void *ctx);

/* As gb_tgraph_each_cycle, into out[0..cap); *n_out gets the number
 * written. Extra errors as gb_tgraph_paths (GB_ERANGE when truncated). */
gb_status gb_tgraph_cycles(const gb_tgraph *g, uint64_t node, int64_t t1, int64_t t2,
                           uint32_t max_depth, gb_tpath *out, size_t cap, size_t *n_out);

#ifdef __cplusplus
}
#endif
#endif
