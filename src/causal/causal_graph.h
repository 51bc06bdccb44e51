/*
 * Internal: the causal graph's layout, shared by causal_graph.c (recording),
 * happened_before.c (queries) and verify.c (checks). Every field is guarded
 * by `mu`.
 */
#ifndef GBI_CAUSAL_GRAPH_H
#define GBI_CAUSAL_GRAPH_H

#include "gpubridge/causal.h"

#include <pthread.h>

typedef struct gbi_cevent {
    gb_causal_kind kind;
    uint32_t node;
    uint64_t actor;
    uint64_t msg_id;
    gb_hlc_t hlc;
    int64_t pt_ns;
    uint64_t own; /* vc[node]: the event's position in its node's local order */
    gb_vclock *vc;
} gbi_cevent;

struct gb_causal_graph {
    pthread_mutex_t mu;
    gbi_cevent *ev; /* ev[id - 1] */
    size_t n;
    size_t cap;
};

/* The event with this id, or NULL. Caller holds g->mu. */
const gbi_cevent *gbi_causal_event(const gb_causal_graph *g, uint64_t id);

#endif
