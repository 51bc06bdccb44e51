/*
 * Test helper: a random message-passing simulation that records its
 * history into a gb_causal_graph. Processes keep real vector clocks
 * (gb_vclock) and HLCs (gb_hlc on a simulated physical clock with per
 * process skew). With `causal` set, a message is only delivered when no
 * pending message to the same process was sent causally before it, so the
 * history is clean; without it, delivery order is random.
 */
#ifndef GB_TEST_CAUSAL_SIM_H
#define GB_TEST_CAUSAL_SIM_H

#include <criterion/criterion.h>
#include <stdlib.h>

#include "gpubridge/causal.h"

#define SIM_MAX_PROCS 16

typedef struct sim sim;

typedef struct sim_proc {
    sim *s;
    gb_vclock *vc;
    gb_hlc *hlc;
    int64_t skew_ns;
} sim_proc;

typedef struct sim_msg {
    uint64_t id;
    uint32_t to;
    gb_vclock *vc;
    gb_hlc_t hlc;
    uint64_t send_event;
    bool delivered;
} sim_msg;

struct sim {
    gb_causal_graph *g;
    uint64_t rng;
    uint32_t node_base; /* process i is node node_base + i */
    uint64_t msg_base;
    int n_procs;
    bool causal;
    int64_t now_ns;
    sim_proc p[SIM_MAX_PROCS];
    sim_msg *m;
    size_t n_msgs;
};

static inline uint64_t sim_rand(sim *s)
{
    uint64_t z = (s->rng += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static inline int64_t sim_physical(void *ctx)
{
    const sim_proc *p = ctx;
    return p->s->now_ns + p->skew_ns;
}

static inline void sim_init(sim *s, gb_causal_graph *g, uint64_t seed, int n_procs, size_t max_msgs,
                            uint32_t node_base, uint64_t msg_base, bool causal)
{
    *s = (sim){.g = g, .rng = seed, .node_base = node_base, .msg_base = msg_base,
               .n_procs = n_procs, .causal = causal, .now_ns = 1700000000000000000LL};
    s->m = calloc(max_msgs, sizeof *s->m);
    cr_assert_not_null(s->m);
    for (int i = 0; i < n_procs; i++) {
        sim_proc *p = &s->p[i];
        p->s = s;
        p->skew_ns = (int64_t)(sim_rand(s) % 200000) - 100000;
        gb_hlc_opts o = {.node_id = node_base + (uint32_t)i, .physical_ns = sim_physical, .ctx = p};
        cr_assert_eq(gb_hlc_create(&p->hlc, &o), GB_OK);
        cr_assert_eq(gb_vclock_create(&p->vc), GB_OK);
    }
}

static inline void sim_free(sim *s)
{
    for (int i = 0; i < s->n_procs; i++) {
        gb_hlc_destroy(s->p[i].hlc);
        gb_vclock_destroy(s->p[i].vc);
    }
    for (size_t i = 0; i < s->n_msgs; i++)
        gb_vclock_destroy(s->m[i].vc);
    free(s->m);
}

static inline uint64_t sim_record(sim *s, int pi, gb_causal_kind kind, uint64_t msg, gb_hlc_t hlc)
{
    sim_proc *p = &s->p[pi];
    gb_causal_event ev = {kind, s->node_base + (uint32_t)pi, 1000 + s->node_base + (uint64_t)pi,
                          msg, hlc, sim_physical(p), p->vc};
    uint64_t id;
    cr_assert_eq(gb_causal_record(s->g, &ev, &id), GB_OK);
    return id;
}

static inline void sim_local(sim *s, int pi)
{
    sim_proc *p = &s->p[pi];
    cr_assert_eq(gb_vclock_increment(p->vc, s->node_base + (uint32_t)pi), GB_OK);
    sim_record(s, pi, GB_CAUSAL_LOCAL, 0, gb_hlc_now(p->hlc));
}

static inline void sim_send(sim *s, int pi, int to)
{
    sim_proc *p = &s->p[pi];
    sim_msg *m = &s->m[s->n_msgs];
    cr_assert_eq(gb_vclock_increment(p->vc, s->node_base + (uint32_t)pi), GB_OK);
    *m = (sim_msg){.id = s->msg_base + s->n_msgs + 1, .to = (uint32_t)to,
                   .hlc = gb_hlc_now(p->hlc)};
    cr_assert_eq(gb_vclock_create(&m->vc), GB_OK);
    cr_assert_eq(gb_vclock_copy(m->vc, p->vc), GB_OK);
    m->send_event = sim_record(s, pi, GB_CAUSAL_SEND, m->id, m->hlc);
    s->n_msgs++;
}

/* May message k be delivered now without overtaking a causal predecessor? */
static inline bool sim_deliverable(const sim *s, size_t k)
{
    for (size_t j = 0; j < s->n_msgs; j++) {
        const sim_msg *o = &s->m[j];
        if (j != k && !o->delivered && o->to == s->m[k].to &&
            gb_vclock_compare(o->vc, s->m[k].vc) == GB_VC_BEFORE)
            return false;
    }
    return true;
}

static inline void sim_deliver(sim *s, size_t k)
{
    sim_msg *m = &s->m[k];
    sim_proc *p = &s->p[m->to];
    gb_hlc_t t;
    cr_assert_eq(gb_hlc_update(p->hlc, m->hlc, &t), GB_OK);
    cr_assert_eq(gb_vclock_merge(p->vc, m->vc), GB_OK);
    cr_assert_eq(gb_vclock_increment(p->vc, s->node_base + m->to), GB_OK);
    m->delivered = true;
    sim_record(s, (int)m->to, GB_CAUSAL_RECV, m->id, t);
}

/* Deliver one random pending message (respecting causal order if asked);
 * false when none can be delivered. */
static inline bool sim_deliver_one(sim *s)
{
    size_t start = s->n_msgs ? sim_rand(s) % s->n_msgs : 0;
    for (size_t i = 0; i < s->n_msgs; i++) {
        size_t k = (start + i) % s->n_msgs;
        if (!s->m[k].delivered && (!s->causal || sim_deliverable(s, k))) {
            sim_deliver(s, k);
            return true;
        }
    }
    return false;
}

/* steps random actions: local events, sends (at most max_msgs), deliveries. */
static inline void sim_run(sim *s, int steps, size_t max_msgs)
{
    for (int i = 0; i < steps; i++) {
        s->now_ns += 1 + (int64_t)(sim_rand(s) % 20000);
        int pi = (int)(sim_rand(s) % (uint64_t)s->n_procs);
        uint64_t r = sim_rand(s) % 10;
        if (r < 2)
            sim_local(s, pi);
        else if (r < 6 && s->n_msgs < max_msgs)
            sim_send(s, pi, (int)(sim_rand(s) % (uint64_t)s->n_procs));
        else
            sim_deliver_one(s);
    }
}

#endif
