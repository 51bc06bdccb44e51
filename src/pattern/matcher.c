/*
 * The streaming CPU matcher (spec, Semantics 1-10).
 *
 * Each pattern keeps its open runs in one array in creation order. Because
 * events arrive in ts order, creation order is also first-event order, so
 * the runs whose window has ended always form a prefix: closing expired runs
 * pops from the front (O(expired)). A run is a fixed-size block (per pattern)
 * holding its NFA state (current step and per-variable counts), of the last
 * event bound to each variable the fields some program reads as `a.field`
 * (run_layout.h: 8 bytes each, not the whole 96-byte event), its aggregate
 * slots and the ids it bound (inline, spilling to the heap for long Kleene runs).
 * Runs that die (match, negation, skip) are only flagged while the array is
 * walked and are unlinked and recycled (through a stack of free blocks) in
 * one compaction pass afterwards, or when they reach the head, so a `skip
 * past_last` drop can never touch a freed block. Memory is bounded by the
 * open runs (at most max_runs_per_pattern per pattern) and the dead runs
 * (compacted once they are half of the array).
 *
 * Partition index (run_index.h): when every step after the first and every
 * negation of a pattern has a conjunct `F == var.G` on the same event field
 * F (compiler: part_field), a run in a given state can only be concerned by
 * events that meet the equalities `cur.F == var.G` all the predicates that
 * may take or kill it next share (the compiler's key and every equality
 * conjunct the fast path decoded; keyreq, recipe). The run sits under that
 * key (up to two fields); a run without one is unkeyed. An event is offered
 * to the runs of its own values for each key shape in use and the unkeyed
 * runs, merged in creation order, so the result is exactly that of offering
 * it to every run. Runs move between keys as they bind (reindex) and leave
 * the index when they die (run_kill).
 *
 * Memory latency: with many patterns and many runs, the cost is cache and
 * TLB misses, not instructions. gb_matcher_push first runs three prefetch
 * passes over the patterns (prefetch: expiring run, free block, the bucket
 * a new run will go to, the index hash bytes; then buckets; then the
 * first candidate blocks, four patterns before each takes the event), so
 * the misses of all patterns overlap. Prefetching is a hint: the result
 * does not depend on it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "pattern/fastpred.h"
#include "pattern/internal.h"
#include "pattern/run_index.h"
#include "pattern/run_layout.h"

/* A run block: this header, then (per pattern layout) the per-variable
 * counts, the kept fields of the last event bound to each variable (cells,
 * run_layout.h), the aggregate slots and the inline ids. What an offered event reads first (dead, step, counts,
 * the first variable's event) sits in the block's first cache lines. */
typedef struct run {
    uint32_t step;     /* current positive step; nsteps when all are full */
    uint8_t dead;
    uint8_t placed;    /* partitioned patterns: held in the index under key */
    uint32_t nids, capids;
    uint64_t seq;      /* creation order across all patterns */
    uint64_t first_ev; /* arrival number of the first bound event */
    uint64_t last_ev;  /* arrival number of the last bound event */
    int64_t first_ts;
    gbp_rkey key;      /* its key in the index when placed */
    uint64_t *ids;     /* bound ids, variable by variable (inline or heap) */
} run;

/* The equalities `cur.F == var.G` (F, G 8-byte integer fields) of one
 * `where` that every event satisfying it meets: bit F of mask set when
 * there is one, off[F] the byte offset of var.G in the run's array of last
 * events (the first such conjunct). */
typedef struct keyreq {
    uint32_t mask;
    uint32_t off[GBP_RKEY_FIELDS];
} keyreq;

/* How to compute the key of a run in one state class (its step s and
 * whether its count there is 0, below nmin or at least nmin): the fields
 * every predicate that may take or kill it requires, and for each field
 * the distinct offsets (in the run's last events) of the values they
 * require; the field stays in the key when these values agree. slow: more
 * than RECIPE_OFFS offsets for a field, computed by run_key_slow. */
#define RECIPE_OFFS 3
typedef struct recipe {
    uint32_t mask;
    uint32_t vars;         /* bit v: the key reads a cell of variable v (bit 31: v >= 31) */
    uint8_t slow;
    uint8_t noff[GBP_RKEY_FIELDS];
    uint32_t off[GBP_RKEY_FIELDS][RECIPE_OFFS];
} recipe;

typedef struct pstate {
    const gbp_pattern *p;
    gbp_fast *fsteps;      /* per positive step: its `where` decoded (fastpred.h) */
    gbp_fast *fnegs;       /* per negation */
    run **runs;
    int64_t *first_ts;     /* first_ts[i] = runs[i]->first_ts: expiry reads no block */
    uint32_t head, n, cap; /* runs[head..n) in creation order */
    uint32_t ndead;        /* flagged dead but still in runs[head..n) */
    run **freev;           /* free blocks (a stack: release never reads a block) */
    uint32_t nfree, capfree;
    int may_spill;         /* a run may bind more ids than fit inline */
    void **slabs;          /* what the run blocks are carved from (slab_grow) */
    uint32_t nslabs, capslabs;
    gbp_layout lay;        /* the fields kept of each bound event (run_layout.h) */
    size_t size, off_last, off_slots, off_ids, off_counts;
    uint32_t inline_ids;
    uint64_t last_match_ev; /* arrival number of the last event of the latest match */
    uint32_t resets;        /* times skip_all dropped every run at once */
    gb_matcher_stats st;
    /* partition index (p->part_field >= 0): every live run is held under
     * the key all its possible next bindings and negations require */
    keyreq *ksteps;        /* per positive step */
    keyreq *knegs;         /* per negation */
    recipe *recipes;       /* per state class (state_class) */
    uint64_t start_evno;   /* the event start_ok was computed for (0: none) */
    int start_ok;          /* that event satisfies the first step */
    uint64_t probe_evno;   /* the event probe was started for (0: none) */
    gbp_rprobe probe;      /* its index lookups being prefetched */
    gbp_rindex idx;
} pstate;

struct gb_matcher {
    const gb_pattern_set *set;
    gb_matcher_opts o;
    pstate *ps;
    int64_t now;
    int has_now;
    uint64_t evno, seq, events, rejected;
    gb_status pending;
    gb_match_var *mvars;
    gb_match_field *mfields;
    gb_match **coll;
    size_t ncoll, capcoll;
    run *zero;     /* a blank run (per largest pattern) for starting-step predicates */
    run *scratch;  /* a blank run too, briefly made a run just started (start_key) */
    gb_event *unpacked; /* a run's kept fields as events, for the VM (eval) */
    int64_t evf[GBP_RKEY_FIELDS]; /* the integer fields of the event being pushed */
};

/* ---- run blocks --------------------------------------------------------------- */

/* The cells of the fields kept of the last event bound to each variable. */
static int64_t *run_last(const pstate *ps, run *r)
{
    return (int64_t *)((char *)r + ps->off_last);
}

static gbp_val *run_slots(const pstate *ps, run *r)
{
    return (gbp_val *)((char *)r + ps->off_slots);
}

static uint32_t *run_counts(const pstate *ps, run *r)
{
    return (uint32_t *)((char *)r + ps->off_counts);
}

static size_t align8(size_t x)
{
    return (x + 7) & ~(size_t)7;
}

static void layout(pstate *ps)
{
    const gbp_pattern *p = ps->p;
    uint32_t inl = 0;
    uint64_t most = 0;
    for (uint32_t i = 0; i < p->nsteps; i++) {
        inl += p->steps[i].nmax < 16 ? p->steps[i].nmax : 16;
        most += p->steps[i].nmax; /* GBP_UNBOUNDED is large enough */
    }
    ps->inline_ids = inl < 64 ? inl : 64;
    ps->may_spill = most > ps->inline_ids;
    ps->off_counts = sizeof(run);
    ps->off_last = align8(ps->off_counts + p->nsteps * sizeof(uint32_t));
    ps->off_slots = ps->off_last + ps->lay.ncells * sizeof(int64_t);
    ps->off_ids = ps->off_slots + p->nslots * sizeof(gbp_val);
    ps->size = (ps->off_ids + ps->inline_ids * sizeof(uint64_t) + 63) & ~(size_t)63;
}

#define SLAB_BIG ((size_t)2 << 20)

/* Carve a new slab of run blocks onto the free stack (one aligned_alloc per
 * slab, not per run: blocks are recycled through the free stack and only
 * freed with their slab at destroy). The stack has room for every block.
 * -1 on allocation failure. */
static int slab_grow(pstate *ps)
{
    /* 4, 8, ... 128, 256, 256, then 2 MiB slabs (huge pages: fewer TLB misses) */
    uint32_t n = ps->nslabs < 6 ? 4u << ps->nslabs : 256u;
    if (ps->nslabs >= 8 && ps->size < SLAB_BIG / 256)
        n = (uint32_t)(SLAB_BIG / ps->size);
    uint32_t total = ps->capfree + n;
    run **fv = total > UINT32_MAX / 2 ? NULL : realloc(ps->freev, (size_t)total * sizeof *fv);
    if (!fv)
        return -1;
    ps->freev = fv;
    ps->capfree = total;
    if (ps->nslabs == ps->capslabs) {
        uint32_t cap = ps->capslabs ? ps->capslabs * 2 : 16;
        void **v = realloc(ps->slabs, (size_t)cap * sizeof *v);
        if (!v)
            return -1;
        ps->slabs = v;
        ps->capslabs = cap;
    }
    char *slab = gbp_alloc_big(n * ps->size, 0); /* size is a multiple of 64 */
    if (!slab)
        return -1;
    ps->slabs[ps->nslabs++] = slab;
    for (uint32_t i = n; i-- > 0;)
        ps->freev[ps->nfree++] = (run *)(slab + (size_t)i * ps->size);
    return 0;
}

static run *run_alloc(pstate *ps)
{
    if (!ps->nfree && slab_grow(ps))
        return NULL;
    run *r = ps->freev[--ps->nfree];
    /* the inline ids are written before they are read (nids): not cleared */
    memset(r, 0, ps->off_ids);
    r->ids = (uint64_t *)((char *)r + ps->off_ids);
    r->capids = ps->inline_ids;
    return r;
}

static void run_release(pstate *ps, run *r)
{
    if (ps->may_spill && r->ids != (uint64_t *)((char *)r + ps->off_ids))
        free(r->ids);
    ps->freev[ps->nfree++] = r;
}


/* ---- partition index ----------------------------------------------------------- */

static void unplace(pstate *ps, run *r)
{
    if (r->placed)
        gbp_rindex_remove(&ps->idx, &r->key, r);
    r->placed = 0;
}

static void run_kill(pstate *ps, run *r)
{
    unplace(ps, r);
    r->dead = 1;
    ps->ndead++;
    ps->st.runs_open--;
}

/* ---- predicates --------------------------------------------------------------- */

/* The VM reads whole events: it gets the run's kept fields unpacked (the
 * only fields its programs read). */
static int eval(const gb_matcher *m, const pstate *ps, run *r, uint32_t at, const gb_event *e, gbp_val *out)
{
    gbp_layout_unpack(&ps->lay, run_last(ps, r), m->unpacked);
    gbp_vm_ctx ctx = {.cur = e, .vars = m->unpacked, .slots = run_slots(ps, r), .counts = run_counts(ps, r)};
    const gb_pattern_set *s = m->set;
    return gbp_vm_eval(s->code, s->ncode, at, s->consts, &ctx, out);
}

static int holds(const gb_matcher *m, const pstate *ps, run *r, uint32_t type, uint32_t where,
                 const gbp_fast *f, const gb_event *e)
{
    if (type != e->type)
        return 0;
    if (where == GBP_NO_CODE)
        return 1;
    if (f->nterms) {
        /* decoded loads of variables address the cells (gbp_layout_remap) */
        gbp_vm_ctx ctx = {.cur = e, .vars = (const gb_event *)(void *)run_last(ps, r), .slots = run_slots(ps, r),
                          .counts = run_counts(ps, r)};
        return gbp_fast_holds(f, m->set->consts, &ctx);
    }
    gbp_val v;
    return eval(m, ps, r, where, e, &v) == 0 && v.i != 0;
}

static int step_holds(const gb_matcher *m, const pstate *ps, run *r, uint32_t i, const gb_event *e)
{
    const gbp_step *st = &ps->p->steps[i];
    return holds(m, ps, r, st->type, st->where, &ps->fsteps[i], e);
}

/* Does e satisfy a negation after positive step `after`? */
static int negated(const gb_matcher *m, const pstate *ps, run *r, uint32_t after, const gb_event *e)
{
    const gbp_pattern *p = ps->p;
    for (uint32_t k = p->neg_begin[after]; k < p->neg_begin[after + 1]; k++)
        if (holds(m, ps, r, p->negs[k].type, p->negs[k].where, &ps->fnegs[k], e))
            return 1;
    return 0;
}

/* ---- binding ------------------------------------------------------------------ */

static void update_slot(gbp_val *s, const gbp_slot *sl, gbp_val fv, int first)
{
    int isint = GBP_FIELD_IS_INT(sl->field);
    if (first && sl->op != GBP_AGG_SUM) {
        *s = fv;
        return;
    }
    switch (sl->op) {
    case GBP_AGG_SUM:
        if (isint)
            s->i = (int64_t)((uint64_t)s->i + (uint64_t)fv.i);
        else
            s->d += fv.d;
        break;
    case GBP_AGG_MIN:
        if (isint ? fv.i < s->i : fv.d < s->d)
            *s = fv;
        break;
    case GBP_AGG_MAX:
        if (isint ? fv.i > s->i : fv.d > s->d)
            *s = fv;
        break;
    default: /* FIRST keeps the first */
        break;
    }
}

static int push_id(run *r, pstate *ps, uint64_t id)
{
    if (r->nids == r->capids) {
        uint32_t cap = r->capids ? r->capids * 2 : 8;
        uint64_t *inl = (uint64_t *)((char *)r + ps->off_ids);
        uint64_t *ids = malloc((size_t)cap * sizeof *ids);
        if (!ids || r->capids >= UINT32_MAX / 2) {
            free(ids);
            return -1;
        }
        memcpy(ids, r->ids, (size_t)r->nids * sizeof *ids);
        if (r->ids != inl)
            free(r->ids);
        r->ids = ids;
        r->capids = cap;
    }
    r->ids[r->nids++] = id;
    return 0;
}

/* Bind e to positive step v of r. 0, or -1 when the id could not be stored
 * (the run is then left as it was). */
static int bind(gb_matcher *m, pstate *ps, run *r, uint32_t v, const gb_event *e)
{
    const gbp_pattern *p = ps->p;
    if (push_id(r, ps, e->id)) {
        ps->st.nomem++;
        m->pending = GB_ENOMEM;
        return -1;
    }
    uint32_t *counts = run_counts(ps, r);
    gbp_val *slots = run_slots(ps, r);
    for (uint32_t k = 0; k < p->nslots; k++)
        if (p->slots[k].var == v)
            update_slot(&slots[k], &p->slots[k], gbp_field_value(e, p->slots[k].field), counts[v] == 0);
    gbp_layout_pack(&ps->lay, v, e, run_last(ps, r));
    counts[v]++;
    r->last_ev = m->evno;
    r->step = counts[v] == p->steps[v].nmax ? v + 1 : v;
    return 0;
}


/* ---- placing runs in the partition index ---------------------------------------- */

/* What the predicates that may take or kill a run next all require: the
 * fields in mask, with the values in val. */
typedef struct key_acc {
    int have;
    uint32_t mask;
    int64_t val[GBP_RKEY_FIELDS];
} key_acc;

/* Narrow a to the fields q requires too, with the same value. */
static void key_add(const pstate *ps, run *r, const keyreq *q, key_acc *a)
{
    const char *last = (const char *)run_last(ps, r);
    uint32_t mask = a->have ? a->mask & q->mask : q->mask;
    for (uint32_t left = mask; left; left &= left - 1) {
        uint32_t f = (uint32_t)__builtin_ctz(left);
        int64_t v;
        memcpy(&v, last + q->off[f], sizeof v);
        if (a->have && v != a->val[f])
            mask &= ~(1u << f);
        a->val[f] = v;
    }
    a->mask = mask;
    a->have = 1;
}

static void key_add_negs(const pstate *ps, run *r, uint32_t after, key_acc *a)
{
    const gbp_pattern *p = ps->p;
    for (uint32_t k = p->neg_begin[after]; k < p->neg_begin[after + 1]; k++)
        key_add(ps, r, &ps->knegs[k], a);
}

/* The key every step or negation that may take the next event requires
 * (spec Semantics 3-5, the same cases as step_run); mask 0 if none. */
static void run_key_slow(const pstate *ps, run *r, gbp_rkey *key)
{
    const gbp_pattern *p = ps->p;
    uint32_t k = p->nsteps, s = r->step;
    key_acc a;
    a.have = 0;
    a.mask = 0;
    if (s < k) {
        uint32_t c = run_counts(ps, r)[s];
        if (c >= p->steps[s].nmin && s + 1 < k)
            key_add(ps, r, &ps->ksteps[s + 1], &a);
        key_add(ps, r, &ps->ksteps[s], &a);
        if (c == 0 && s > 0)
            key_add_negs(ps, r, s - 1, &a);
        if (c >= p->steps[s].nmin)
            key_add_negs(ps, r, s, &a);
    } else {
        key_add_negs(ps, r, k - 1, &a);
    }
    gbp_rkey_make(key, a.have ? a.mask : 0, a.val);
}

/* 3 classes per step (count 0, below nmin, at least nmin), then one for a
 * run whose positive steps are all full. */
static uint32_t state_class(const pstate *ps, run *r)
{
    uint32_t s = r->step;
    if (s == ps->p->nsteps)
        return 3 * s;
    uint32_t c = run_counts(ps, r)[s];
    return 3 * s + (c == 0 ? 0 : c < ps->p->steps[s].nmin ? 1 : 2);
}

/* run_key_slow's result through the run's state-class recipe. */
static void run_key(const pstate *ps, run *r, gbp_rkey *key)
{
    const recipe *rc = &ps->recipes[state_class(ps, r)];
    if (rc->slow) {
        run_key_slow(ps, r, key);
        return;
    }
    const char *last = (const char *)run_last(ps, r);
    int64_t val[GBP_RKEY_FIELDS];
    uint32_t mask = rc->mask;
    for (uint32_t left = mask; left; left &= left - 1) {
        uint32_t f = (uint32_t)__builtin_ctz(left);
        memcpy(&val[f], last + rc->off[f][0], sizeof val[f]);
        for (uint32_t j = 1; j < rc->noff[f]; j++) {
            int64_t v;
            memcpy(&v, last + rc->off[f][j], sizeof v);
            if (v != val[f])
                mask &= ~(1u << f);
        }
    }
    gbp_rkey_make(key, mask, val);
}

static int same_rkey(const gbp_rkey *a, const gbp_rkey *b)
{
    return a->mask == b->mask && a->v[0] == b->v[0] && a->v[1] == b->v[1];
}

/* Put a live run of a partitioned pattern where its next events will look. */
static void reindex(gb_matcher *m, pstate *ps, run *r)
{
    if (ps->p->part_field < 0 || r->dead)
        return;
    gbp_rkey key;
    run_key(ps, r, &key);
    if (r->placed && same_rkey(&key, &r->key))
        return;
    unplace(ps, r);
    if (gbp_rindex_insert(&ps->idx, &key, r, r->seq) == 0) {
        r->placed = 1;
        r->key = key;
        return;
    }
    /* out of memory: the run cannot be found by later events; drop it, counted */
    run_kill(ps, r);
    ps->st.nomem++;
    m->pending = GB_ENOMEM;
}

/* ---- emission ----------------------------------------------------------------- */

static gb_match *copy_match(const gb_match *mt)
{
    size_t nids = 0;
    for (uint32_t v = 0; v < mt->nvars; v++)
        nids += mt->vars[v].count;
    size_t size = sizeof(gb_match) + mt->nvars * sizeof(gb_match_var) + mt->nfields * sizeof(gb_match_field) +
                  nids * sizeof(uint64_t);
    gb_match *c = malloc(size);
    if (!c)
        return NULL;
    *c = *mt;
    gb_match_var *vars = (gb_match_var *)(c + 1);
    gb_match_field *fields = (gb_match_field *)(vars + mt->nvars);
    uint64_t *ids = (uint64_t *)(fields + mt->nfields);
    for (uint32_t v = 0; v < mt->nvars; v++) {
        vars[v] = mt->vars[v];
        memcpy(ids, mt->vars[v].ids, mt->vars[v].count * sizeof *ids);
        vars[v].ids = ids;
        ids += mt->vars[v].count;
    }
    memcpy(fields, mt->fields, mt->nfields * sizeof *fields);
    c->vars = vars;
    c->fields = fields;
    return c;
}

static void deliver(gb_matcher *m, pstate *ps, const gb_match *mt)
{
    if (m->o.on_match) {
        m->o.on_match(m->o.ctx, mt);
        return;
    }
    if (m->ncoll == m->capcoll) {
        size_t cap = m->capcoll ? m->capcoll * 2 : 64;
        gb_match **c = realloc(m->coll, cap * sizeof *c);
        if (!c)
            goto nomem;
        m->coll = c;
        m->capcoll = cap;
    }
    gb_match *c = copy_match(mt);
    if (!c)
        goto nomem;
    m->coll[m->ncoll++] = c;
    return;
nomem:
    ps->st.nomem++;
    m->pending = GB_ENOMEM;
}

/* Walking runs[] in order (skip_past kills the runs it meets): load the
 * block `ahead` runs on, and the bucket of the run ahead/2 on (its block has
 * had time to arrive), so that walking costs no miss per run. */
#define AHEAD 16
static void prefetch_ahead(const pstate *ps, uint32_t i, uint32_t ahead)
{
    if (i + ahead < ps->n)
        __builtin_prefetch(ps->runs[i + ahead]);
    if (i + ahead / 2 < ps->n) {
        const run *o = ps->runs[i + ahead / 2];
        if (o->placed && !o->dead)
            gbp_rindex_prefetch_key(&ps->idx, &o->key);
    }
}

/* `skip past_last`: drop every other open run whose first event came at or
 * before the match's last event (a prefix of runs[head..n)). */
static void skip_past(pstate *ps, const run *r)
{
    for (uint32_t i = ps->head; i < ps->n; i++) {
        prefetch_ahead(ps, i, AHEAD);
        run *o = ps->runs[i];
        if (o->first_ev > r->last_ev)
            break;
        if (o != r && !o->dead) {
            run_kill(ps, o);
            ps->st.runs_skipped++;
        }
    }
}

/* `skip past_last` when the match's last event is the newest event a run
 * has seen (a match emitted as it binds, not at a window close): every open
 * run is dropped, so rather than killing them one by one (a block read and
 * an index removal each), release every block of runs[] unread and empty
 * the index at once (O(its table), which must then be comparable to the
 * runs it drops). Not for runs whose ids may sit on the heap (each would
 * have to be read). Returns 1 when done (ps->resets counts it: callers
 * walking runs stop), 0 to take the slow path. */
static int skip_all(pstate *ps, const run *r)
{
    uint64_t open = ps->st.runs_open; /* r is already out */
    if (ps->may_spill || ps->head == ps->n || ps->runs[ps->n - 1]->first_ev > r->last_ev)
        return 0;
    if (ps->p->part_field >= 0 && !gbp_rindex_reset(&ps->idx, 8 * open + 64))
        return 0;
    for (uint32_t i = ps->head; i < ps->n; i++)
        ps->freev[ps->nfree++] = ps->runs[i];
    ps->head = ps->n = ps->ndead = 0;
    ps->st.runs_skipped += open;
    ps->st.runs_open = 0;
    ps->resets++;
    return 1;
}

/* Emit r's match at time ts and retire r. at_bind: r matched as it bound
 * the newest event (skip_all may apply). */
static void emit_match(gb_matcher *m, pstate *ps, run *r, int64_t ts, int at_bind)
{
    const gbp_pattern *p = ps->p;
    uint32_t *counts = run_counts(ps, r);
    uint32_t start = 0;
    for (uint32_t v = 0; v < p->nsteps; v++) {
        m->mvars[v] = (gb_match_var){.name = p->vars[v], .count = counts[v], .ids = r->ids + start};
        start += counts[v];
    }
    /* emit programs read no current event (the parser refuses bare
     * fields there): any event will do */
    const gb_event *any = m->unpacked;
    for (uint32_t f = 0; f < p->nfields; f++) {
        gbp_val v = {.i = 0};
        eval(m, ps, r, p->field_code[f], any, &v);
        gb_match_field *mf = &m->mfields[f];
        mf->name = p->fields[f];
        mf->value.kind = p->field_double[f] ? GB_VALUE_DOUBLE : GB_VALUE_INT;
        mf->value.u.i = v.i; /* same bits for both kinds */
        if (p->field_double[f])
            mf->value.u.d = v.d;
    }
    gb_match mt = {.pattern_index = (uint32_t)(ps - m->ps), .pattern = p->name, .severity = p->severity,
                   .ts = ts, .nvars = p->nsteps, .vars = m->mvars, .nfields = p->nfields, .fields = m->mfields};
    ps->st.matches++;
    run_kill(ps, r);
    deliver(m, ps, &mt);
    if (p->past_last) {
        ps->last_match_ev = r->last_ev;
        if (!at_bind || !skip_all(ps, r))
            skip_past(ps, r);
    }
}

/* True when all positive steps are satisfied (a close may emit). */
static int complete(const pstate *ps, run *r)
{
    const gbp_pattern *p = ps->p;
    uint32_t k = p->nsteps;
    return r->step == k || (r->step == k - 1 && run_counts(ps, r)[k - 1] >= p->steps[k - 1].nmin);
}

/* Close r (window end, advance or flush) at time ts. */
static void close_run(gb_matcher *m, pstate *ps, run *r, int64_t ts)
{
    if (complete(ps, r)) {
        emit_match(m, ps, r, ts, 0);
    } else {
        run_kill(ps, r);
        ps->st.runs_expired++;
    }
}

/* After a binding: emit at once unless the pattern emits at close. */
static uint32_t var_bit(uint32_t v)
{
    return v < 31 ? 1u << v : 1u << 31;
}

/* After a binding to variable v of a run that was in state class cls
 * (UINT32_MAX: a new run): emit at once unless the pattern emits at
 * close, else move the run to its new key, unless its key cannot have
 * changed (same state class, and the class's key reads no cell of v). */
static void after_bind(gb_matcher *m, pstate *ps, run *r, const gb_event *e, uint32_t cls, uint32_t v)
{
    if (r->step == ps->p->nsteps && !ps->p->emit_at_close) {
        emit_match(m, ps, r, e->ts_ns, 1);
        return;
    }
    if (r->placed && cls != UINT32_MAX && ps->p->part_field >= 0) {
        const recipe *rc = &ps->recipes[cls];
        if (!rc->slow && !(rc->vars & var_bit(v)) && state_class(ps, r) == cls)
            return;
    }
    reindex(m, ps, r);
}

/* ---- one event, one run (Semantics 2-5) ---------------------------------------- */

static void step_run(gb_matcher *m, pstate *ps, run *r, const gb_event *e)
{
    const gbp_pattern *p = ps->p;
    uint32_t k = p->nsteps, s = r->step;
    uint32_t c = s < k ? run_counts(ps, r)[s] : 0;
    if (s < k) {
        const gbp_step *st = &p->steps[s];
        /* advance first: a satisfied Kleene step yields to the next step */
        uint32_t cls = 3 * s + (c == 0 ? 0 : c < st->nmin ? 1 : 2); /* state_class */
        if (c >= st->nmin && s + 1 < k && step_holds(m, ps, r, s + 1, e)) {
            if (bind(m, ps, r, s + 1, e) == 0)
                after_bind(m, ps, r, e, cls, s + 1);
            return;
        }
        if (step_holds(m, ps, r, s, e)) {
            if (bind(m, ps, r, s, e) == 0)
                after_bind(m, ps, r, e, cls, s);
            return;
        }
    }
    /* not bound: the negations active in this state may kill the run */
    int neg;
    if (s == k)
        neg = negated(m, ps, r, k - 1, e);
    else if (c == 0)
        neg = s > 0 && negated(m, ps, r, s - 1, e);
    else
        neg = c >= p->steps[s].nmin && negated(m, ps, r, s, e);
    if (neg) {
        run_kill(ps, r);
        ps->st.runs_killed++;
    }
}

/* ---- one event, one pattern (Semantics 1, 6, 8) -------------------------------- */

static int window_over(const pstate *ps, int64_t first_ts, int64_t ts)
{
    /* ts >= first_ts always, so the unsigned difference is exact */
    return (uint64_t)ts - (uint64_t)first_ts > (uint64_t)ps->p->within;
}

/* Close the runs whose window ended before ts, oldest first. Dead runs
 * leave the array here too, or at compaction, whichever comes first. */
static void expire(gb_matcher *m, pstate *ps, int64_t ts)
{
    while (ps->head < ps->n && window_over(ps, ps->first_ts[ps->head], ts)) {
        run *r = ps->runs[ps->head];
        if (!r->dead)
            close_run(m, ps, r, ts); /* flags it dead */
        ps->ndead--;
        ps->head++;
        run_release(ps, r);
    }
}

static void compact(pstate *ps)
{
    uint32_t j = 0;
    for (uint32_t i = ps->head; i < ps->n; i++) {
        if (i + AHEAD < ps->n)
            __builtin_prefetch(ps->runs[i + AHEAD]);
        run *r = ps->runs[i];
        if (r->dead) {
            run_release(ps, r);
        } else {
            ps->first_ts[j] = ps->first_ts[i];
            ps->runs[j++] = r;
        }
    }
    ps->n = j;
    ps->head = 0;
    ps->ndead = 0;
}

static int relevant(const gbp_pattern *p, uint32_t type)
{
    for (uint32_t i = 0; i < p->ntypes; i++)
        if (p->types[i] == type)
            return 1;
    return 0;
}

static void start_run(gb_matcher *m, pstate *ps, const gb_event *e)
{
    if (ps->st.runs_open >= m->o.max_runs_per_pattern) {
        ps->st.runs_capped++;
        return;
    }
    if (ps->n == ps->cap) {
        compact(ps);
        if (ps->n == ps->cap) {
            uint32_t cap = ps->cap ? ps->cap * 2 : 16;
            run **runs = realloc(ps->runs, (size_t)cap * sizeof *runs);
            if (runs)
                ps->runs = runs;
            int64_t *ts = runs ? realloc(ps->first_ts, (size_t)cap * sizeof *ts) : NULL;
            if (!ts)
                goto nomem;
            ps->first_ts = ts;
            ps->cap = cap;
        }
    }
    run *r = run_alloc(ps);
    if (!r)
        goto nomem;
    r->seq = m->seq++;
    r->first_ev = m->evno;
    r->first_ts = e->ts_ns;
    if (bind(m, ps, r, 0, e) != 0) {
        run_release(ps, r);
        return;
    }
    ps->first_ts[ps->n] = r->first_ts;
    ps->runs[ps->n++] = r;
    ps->st.runs_started++;
    ps->st.runs_open++;
    after_bind(m, ps, r, e, UINT32_MAX, 0);
    return;
nomem:
    ps->st.nomem++;
    m->pending = GB_ENOMEM;
}

/* Start loading every cache line of run block r, for writing. */
static void prefetch_block(const pstate *ps, const void *r)
{
    for (size_t off = 0; off < ps->size; off += 64)
        __builtin_prefetch((const char *)r + off, 1);
}

static void offer_all(gb_matcher *m, pstate *ps, const gb_event *e)
{
    if (ps->p->part_field < 0) {
        /* after a skip_all, n is 0 */
        for (uint32_t i = ps->head; i < ps->n; i++)
            if (!ps->runs[i]->dead)
                step_run(m, ps, ps->runs[i], e);
        return;
    }
    const gbp_rlist *c = gbp_rindex_gather(&ps->idx, m->evf);
    if (!c) {
        ps->st.nomem++;
        m->pending = GB_ENOMEM;
        return;
    }
    /* the candidates' blocks are read and written below: start loading
     * them all, every line (a bind writes the last event and the ids, lines
     * past the header) */
    for (uint32_t i = 0; i < c->n; i++)
        prefetch_block(ps, c->v[i].run);
    /* runs move between lists while they are offered: c is a copy; after
     * a skip_all, every block it lists is free */
    uint32_t resets = ps->resets;
    for (uint32_t i = 0; i < c->n && ps->resets == resets; i++) {
        run *r = c->v[i].run;
        if (!r->dead)
            step_run(m, ps, r, e);
    }
}

/* A relevant event for one pattern: offered to the runs it may concern,
 * then perhaps starting one. */
static void take(gb_matcher *m, pstate *ps, const gb_event *e)
{
    const gbp_pattern *p = ps->p;
    offer_all(m, ps, e);
    /* dead runs stay flagged in runs[] until they are half of it (amortised O(1)) */
    if (ps->ndead > 16 && ps->ndead * 2 > ps->n - ps->head)
        compact(ps);
    /* skip past_last: a run whose first event is at or before a match's last
     * event is dropped, so this event starts none if it just completed one */
    if (p->past_last && ps->last_match_ev == m->evno)
        return;
    int start = ps->start_evno == m->evno ? ps->start_ok : step_holds(m, ps, m->zero, 0, e);
    if (start)
        start_run(m, ps, e);
}

/* One event for one pattern; then the index buckets it emptied go, unless
 * it refilled them (a run killed and replaced under the same key). */
static void process(gb_matcher *m, pstate *ps, const gb_event *e)
{
    expire(m, ps, e->ts_ns);
    if (relevant(ps->p, e->type))
        take(m, ps, e);
    if (ps->idx.npending)
        gbp_rindex_settle(&ps->idx);
}

/* Prefetching pays once the runs no longer stay in the caches: a lone
 * pattern holding PREFETCH_ALONE bytes of runs (half a 2 MiB L2; 8 MiB
 * was 4-6% slower for the lone big patterns, 256 KiB no better than
 * 1 MiB: docs/patterns.md), or a pattern holding PREFETCH_SHARED bytes
 * among others (whose runs compete for the caches). */
#define PREFETCH_ALONE ((uint64_t)1 << 20)
#define PREFETCH_SHARED ((uint64_t)64 << 10)

/* With few patterns, an event's index lookups are one dependent chain of
 * misses (tag, bucket, list, run blocks) that nothing overlaps: load the
 * home bucket with its tag (gbp_rindex_probe_start, eager). With many,
 * most keys have no bucket and the tag spares a line each. */
#define EAGER_PATTERNS 4u

/* The key a run started by e will be placed under: run_key of m->scratch
 * made that run for a moment (first event bound, as bind() leaves it). */
static void start_key(gb_matcher *m, pstate *ps, const gb_event *e, gbp_rkey *key)
{
    run *r = m->scratch;
    r->step = ps->p->steps[0].nmax == 1 ? 1 : 0;
    run_counts(ps, r)[0] = 1;
    int64_t *cells = run_last(ps, r);
    gbp_layout_pack(&ps->lay, 0, e, cells);
    run_key(ps, r, key);
    r->step = 0;
    run_counts(ps, r)[0] = 0;
    memset(cells, 0, ps->lay.base[1] * sizeof *cells);
}

/* Before the patterns take an event one after the other, start loading what
 * each will read first (its oldest run's block if it expires, its index
 * buckets, and when the event starts a run, a free block and the bucket
 * the run will go to), so that the cache misses of all patterns overlap
 * instead of coming one by one. Only a hint, apart from keeping whether
 * the event satisfies the first step (start_ok) for process(). */
static void prefetch(gb_matcher *m, pstate *ps, const gb_event *e)
{
    uint64_t bytes = ps->st.runs_open * (uint64_t)ps->size;
    int big = bytes >= (m->set->npatterns == 1 ? PREFETCH_ALONE : PREFETCH_SHARED);
    int expiring = ps->head < ps->n && window_over(ps, ps->first_ts[ps->head], e->ts_ns);
    if (big && expiring) {
        /* expiry walks runs[] from the head, about a run per event: the
         * runs ahead of it will expire soon (their blocks, and the buckets
         * they are removed from) */
        __builtin_prefetch(ps->runs[ps->head]);
        /* among many patterns an event takes long: lines loaded many
         * events ahead would be evicted before use */
        prefetch_ahead(ps, ps->head, m->set->npatterns > 4 ? 2 : AHEAD);
    }
    if (!relevant(ps->p, e->type))
        return;
    ps->start_evno = m->evno;
    ps->start_ok = step_holds(m, ps, m->zero, 0, e);
    if (!big)
        return;
    int keyed = ps->p->part_field >= 0;
    if (keyed) {
        gbp_rindex_probe_start(&ps->idx, m->evf, &ps->probe, m->set->npatterns <= EAGER_PATTERNS);
        ps->probe_evno = m->evno;
    }
    if (!ps->start_ok || ps->st.runs_open >= m->o.max_runs_per_pattern)
        return;
    /* the block run_alloc will clear: the expiring run's own when one
     * expires (released just before), else the top of the free stack */
    if (ps->nfree && !expiring)
        prefetch_block(ps, ps->freev[ps->nfree - 1]);
    if (keyed) {
        gbp_rkey key;
        start_key(m, ps, e, &key);
        gbp_rindex_prefetch_key(&ps->idx, &key);
    }
}

/* ---- public API ------------------------------------------------------------- */

/* Require cur.f == var.g: the offset of var.g among the run's cells. A
 * field the layout does not keep (never: the predicate reads it) is left
 * out, which only makes the key less selective. */
static void req_put(const gbp_layout *L, keyreq *q, int f, uint32_t var, int g)
{
    if (f < 0 || g < 0 || (q->mask & (1u << f)))
        return;
    int64_t off = gbp_layout_cell_off(L, var, (uint32_t)g);
    if (off < 0)
        return;
    q->mask |= 1u << f;
    q->off[f] = (uint32_t)off;
}

/* A decoded term `cur.F == var.G` on 8-byte integer fields, added to q. */
static void req_from_term(const gbp_layout *L, keyreq *q, const gbp_fast_term *t)
{
    uint32_t f, var, g;
    if (gbp_fast_term_eq(t, &f, &var, &g))
        req_put(L, q, (int)f, var, (int)g);
}

/* Everything an event must meet to satisfy a `where`: the compiler's key
 * and, when the fast path decoded it, every equality conjunct. */
static keyreq make_req(const gbp_layout *L, const gbp_key *k, const gbp_fast *f)
{
    keyreq q = {0};
    if (k->has && k->field < GBP_RKEY_FIELDS && k->field != GBP_F_TYPE && GBP_FIELD_IS_INT(k->vfield) &&
        k->vfield != GBP_F_TYPE)
        req_put(L, &q, k->field, k->var, k->vfield);
    for (uint32_t i = 0; i < f->nterms; i++)
        req_from_term(L, &q, &f->t[i]);
    return q;
}

/* The requirements of the predicates that may take or kill a run in state
 * class cls of step s (run_key_slow's cases) into out; returns how many. */
static uint32_t concerning(const pstate *ps, uint32_t s, uint32_t cls, const keyreq **out)
{
    const gbp_pattern *p = ps->p;
    uint32_t n = 0, k = p->nsteps, from = 0, to = 0;
    if (s == k) {
        from = p->neg_begin[k - 1];
        to = p->neg_begin[k];
    } else {
        if (cls == 2 && s + 1 < k)
            out[n++] = &ps->ksteps[s + 1];
        out[n++] = &ps->ksteps[s];
        if (cls == 0 && s > 0) {
            from = p->neg_begin[s - 1];
            to = p->neg_begin[s];
        } else if (cls == 2) {
            from = p->neg_begin[s];
            to = p->neg_begin[s + 1];
        }
    }
    for (uint32_t i = from; i < to; i++)
        out[n++] = &ps->knegs[i];
    return n;
}

static void recipe_add(recipe *rc, const keyreq *q, int first)
{
    rc->mask = first ? q->mask : rc->mask & q->mask;
    for (uint32_t f = 0; f < GBP_RKEY_FIELDS; f++) {
        if (!(q->mask & (1u << f)))
            continue;
        uint32_t j = 0;
        while (j < rc->noff[f] && rc->off[f][j] != q->off[f])
            j++;
        if (j < rc->noff[f])
            continue;
        if (j == RECIPE_OFFS)
            rc->slow = 1;
        else
            rc->off[f][rc->noff[f]++] = q->off[f];
    }
}

/* The variables whose cells run_key reads for recipe rc. */
static void recipe_vars(const gbp_layout *L, recipe *rc)
{
    rc->vars = 0;
    for (uint32_t left = rc->mask; left; left &= left - 1) {
        uint32_t f = (uint32_t)__builtin_ctz(left);
        for (uint32_t j = 0; j < rc->noff[f]; j++)
            rc->vars |= var_bit(gbp_layout_var_of(L, rc->off[f][j]));
    }
}

/* One recipe per state class. -1 on ENOMEM. */
static int make_recipes(pstate *ps)
{
    const gbp_pattern *p = ps->p;
    uint32_t nclass = 3 * p->nsteps + 1;
    const keyreq **list = calloc(2 + (size_t)p->nnegs, sizeof *list);
    ps->recipes = calloc(nclass, sizeof *ps->recipes);
    if (!list || !ps->recipes) {
        free(list);
        return -1;
    }
    for (uint32_t c = 0; c < nclass; c++) {
        uint32_t n = concerning(ps, c / 3, c % 3, list);
        for (uint32_t i = 0; i < n; i++)
            recipe_add(&ps->recipes[c], list[i], i == 0);
        recipe_vars(&ps->lay, &ps->recipes[c]);
    }
    free(list);
    return 0;
}

/* Decode each step's and negation's `where` for the fast path and the
 * index. -1 on ENOMEM. */
static int decode_predicates(const gb_pattern_set *set, pstate *ps)
{
    const gbp_pattern *p = ps->p;
    uint32_t ns = p->nsteps ? p->nsteps : 1, nn = p->nnegs ? p->nnegs : 1;
    ps->fsteps = calloc(ns, sizeof *ps->fsteps);
    ps->fnegs = calloc(nn, sizeof *ps->fnegs);
    ps->ksteps = calloc(ns, sizeof *ps->ksteps);
    ps->knegs = calloc(nn, sizeof *ps->knegs);
    if (!ps->fsteps || !ps->fnegs || !ps->ksteps || !ps->knegs)
        return -1;
    for (uint32_t i = 0; i < p->nsteps; i++) {
        if (p->steps[i].where != GBP_NO_CODE)
            gbp_fast_compile(set->code, set->ncode, p->steps[i].where, &ps->fsteps[i]);
        ps->ksteps[i] = make_req(&ps->lay, &p->steps[i].key, &ps->fsteps[i]);
        gbp_layout_remap(&ps->lay, &ps->fsteps[i]);
    }
    for (uint32_t k = 0; k < p->nnegs; k++) {
        if (p->negs[k].where != GBP_NO_CODE)
            gbp_fast_compile(set->code, set->ncode, p->negs[k].where, &ps->fnegs[k]);
        ps->knegs[k] = make_req(&ps->lay, &p->negs[k].key, &ps->fnegs[k]);
        gbp_layout_remap(&ps->lay, &ps->fnegs[k]);
    }
    return make_recipes(ps);
}

static gb_status create_states(gb_matcher *m)
{
    const gb_pattern_set *set = m->set;
    uint32_t maxv = 1, maxf = 1;
    size_t maxsize = sizeof(run);
    m->ps = calloc(set->npatterns ? set->npatterns : 1, sizeof *m->ps);
    if (!m->ps)
        return GB_ENOMEM;
    for (uint32_t i = 0; i < set->npatterns; i++) {
        pstate *ps = &m->ps[i];
        ps->p = &set->patterns[i];
        if (gbp_layout_build(&ps->lay, set, ps->p))
            return GB_ENOMEM;
        layout(ps);
        if (decode_predicates(set, ps))
            return GB_ENOMEM;
        maxv = ps->p->nsteps > maxv ? ps->p->nsteps : maxv;
        maxf = ps->p->nfields > maxf ? ps->p->nfields : maxf;
        maxsize = ps->size > maxsize ? ps->size : maxsize;
    }
    m->mvars = calloc(maxv, sizeof *m->mvars);
    m->mfields = calloc(maxf, sizeof *m->mfields);
    m->zero = calloc(1, maxsize);
    m->scratch = calloc(1, maxsize);
    m->unpacked = calloc(maxv, sizeof *m->unpacked);
    return m->mvars && m->mfields && m->zero && m->scratch && m->unpacked ? GB_OK : GB_ENOMEM;
}

gb_status gb_matcher_create(gb_matcher **out, const gb_pattern_set *set, const gb_matcher_opts *opts)
{
    if (!out || !set)
        return gbi_error(GB_EINVAL, "matcher_create", "NULL argument");
    gb_matcher *m = calloc(1, sizeof *m);
    if (!m)
        return gbi_error(GB_ENOMEM, "matcher_create", "out of memory");
    m->set = set;
    if (opts)
        m->o = *opts;
    if (!m->o.max_runs_per_pattern)
        m->o.max_runs_per_pattern = GB_MATCHER_DEFAULT_MAX_RUNS;
    if (create_states(m) != GB_OK) {
        gb_matcher_destroy(m);
        return gbi_error(GB_ENOMEM, "matcher_create", "out of memory");
    }
    *out = m;
    return GB_OK;
}

static void free_runs(pstate *ps)
{
    gbp_rindex_clear(&ps->idx);
    for (uint32_t i = ps->head; i < ps->n; i++)
        run_release(ps, ps->runs[i]);
    ps->head = ps->n = ps->ndead = 0;
    ps->st.runs_open = 0;
    ps->nfree = 0;
    for (uint32_t i = 0; i < ps->nslabs; i++)
        free(ps->slabs[i]);
    free(ps->slabs);
    ps->slabs = NULL;
    ps->nslabs = ps->capslabs = 0;
}

void gb_matcher_destroy(gb_matcher *m)
{
    if (!m)
        return;
    for (uint32_t i = 0; m->ps && i < m->set->npatterns; i++) {
        free_runs(&m->ps[i]);
        free(m->ps[i].runs);
        free(m->ps[i].first_ts);
        free(m->ps[i].freev);
        free(m->ps[i].fsteps);
        free(m->ps[i].fnegs);
        free(m->ps[i].ksteps);
        free(m->ps[i].knegs);
        free(m->ps[i].recipes);
        gbp_layout_free(&m->ps[i].lay);
    }
    gb_matcher_clear_matches(m);
    free(m->coll);
    free(m->ps);
    free(m->mvars);
    free(m->mfields);
    free(m->zero);
    free(m->scratch);
    free(m->unpacked);
    free(m);
}

static gb_status take_pending(gb_matcher *m)
{
    gb_status st = m->pending;
    m->pending = GB_OK;
    return st == GB_OK ? GB_OK : gbi_error(st, "matcher", "out of memory: a run or binding was lost (stats.nomem)");
}

#define PROBE_LEAD 4u

static void probe_runs(const gb_matcher *m, pstate *ps)
{
    if (ps->probe_evno == m->evno)
        gbp_rindex_probe_runs(&ps->idx, &ps->probe, ps->size);
}

gb_status gb_matcher_push(gb_matcher *m, const gb_event *ev)
{
    if (!m || !ev)
        return gbi_error(GB_EINVAL, "matcher_push", "NULL argument");
    if (m->has_now && ev->ts_ns < m->now) {
        m->rejected++;
        return gbi_error(GB_EORDER, "matcher_push", "event ts %lld is older than %lld", (long long)ev->ts_ns,
                         (long long)m->now);
    }
    m->now = ev->ts_ns;
    m->has_now = 1;
    m->evno++;
    m->events++;
    for (uint32_t i = 0; i < GBP_RKEY_FIELDS; i++)
        m->evf[i] = gbp_field_value(ev, i).i;
    uint32_t np = m->set->npatterns;
    for (uint32_t i = 0; i < np; i++)
        prefetch(m, &m->ps[i], ev);
    for (uint32_t i = 0; i < np; i++)
        if (m->ps[i].probe_evno == m->evno)
            gbp_rindex_probe_buckets(&m->ps[i].idx, &m->ps[i].probe);
    /* the last level (run blocks) PROBE_LEAD patterns before each pattern
     * takes the event: loaded while the ones before it work */
    uint32_t lead = np < PROBE_LEAD ? np : PROBE_LEAD;
    for (uint32_t i = 0; i < lead; i++)
        probe_runs(m, &m->ps[i]);
    for (uint32_t i = 0; i < np; i++) {
        if (i + lead < np)
            probe_runs(m, &m->ps[i + lead]);
        process(m, &m->ps[i], ev);
    }
    return take_pending(m);
}

gb_status gb_matcher_advance(gb_matcher *m, int64_t ts)
{
    if (!m)
        return gbi_error(GB_EINVAL, "matcher_advance", "NULL argument");
    if (m->has_now && ts < m->now)
        return gbi_error(GB_EORDER, "matcher_advance", "time %lld is older than %lld", (long long)ts,
                         (long long)m->now);
    m->now = ts;
    m->has_now = 1;
    for (uint32_t i = 0; i < m->set->npatterns; i++) {
        pstate *ps = &m->ps[i];
        expire(m, ps, ts);
        gbp_rindex_settle(&ps->idx);
        if (ps->ndead)
            compact(ps);
    }
    return take_pending(m);
}

/* Every open run as (run, its pattern), to be closed in creation order. */
typedef struct flush_item {
    run *r;
    pstate *ps;
} flush_item;

/* Merge the sorted (by seq) runs src[lo..mid) and src[mid..hi) into dst. */
static void merge_two(const flush_item *src, flush_item *dst, size_t lo, size_t mid, size_t hi)
{
    size_t i = lo, j = mid, k = lo;
    while (i < mid || j < hi)
        dst[k++] = j == hi || (i < mid && src[i].r->seq < src[j].r->seq) ? src[i++] : src[j++];
}

/* Sort items by seq: each pattern's runs are already in creation order, so
 * the nseg segments [bound[s], bound[s+1]) are merged pairwise (O(n log k)).
 * tmp has room for bound[nseg] items. Returns the buffer holding the result. */
static flush_item *merge_segments(flush_item *a, flush_item *tmp, size_t *bound, uint32_t nseg)
{
    while (nseg > 1) {
        uint32_t out = 0;
        for (uint32_t s = 0; s < nseg; s += 2) {
            size_t hi = s + 2 <= nseg ? bound[s + 2] : bound[s + 1];
            merge_two(a, tmp, bound[s], bound[s + 1], hi);
            bound[out++] = bound[s];
        }
        bound[out] = bound[nseg];
        nseg = out;
        flush_item *t = a;
        a = tmp;
        tmp = t;
    }
    return a;
}

/* Collect the open runs of every pattern, in creation order across patterns.
 * NULL on ENOMEM; *buf is what to free. */
static flush_item *flush_order(gb_matcher *m, size_t *count, flush_item **buf)
{
    uint32_t np = m->set->npatterns;
    size_t total = 0;
    for (uint32_t i = 0; i < np; i++)
        total += m->ps[i].n - m->ps[i].head;
    flush_item *items = malloc((2 * total + 1) * sizeof *items);
    size_t *bound = malloc(((size_t)np + 1) * sizeof *bound);
    if (!items || !bound) {
        free(items);
        free(bound);
        return NULL;
    }
    size_t k = 0;
    for (uint32_t i = 0; i < np; i++) {
        bound[i] = k;
        for (uint32_t j = m->ps[i].head; j < m->ps[i].n; j++)
            items[k++] = (flush_item){m->ps[i].runs[j], &m->ps[i]};
    }
    bound[np] = k;
    flush_item *sorted = merge_segments(items, items + total, bound, np);
    free(bound);
    *count = k;
    *buf = items;
    return sorted;
}

gb_status gb_matcher_flush(gb_matcher *m)
{
    if (!m)
        return gbi_error(GB_EINVAL, "matcher_flush", "NULL argument");
    size_t k = 0;
    flush_item *buf = NULL, *items = flush_order(m, &k, &buf);
    if (!items)
        return gbi_error(GB_ENOMEM, "matcher_flush", "out of memory");
    for (size_t j = 0; j < k; j++)
        if (!items[j].r->dead)
            close_run(m, items[j].ps, items[j].r, m->now);
    free(buf);
    for (uint32_t i = 0; i < m->set->npatterns; i++) {
        gbp_rindex_settle(&m->ps[i].idx);
        compact(&m->ps[i]);
    }
    return take_pending(m);
}

gb_status gb_matcher_stats_get(const gb_matcher *m, uint32_t pattern, gb_matcher_stats *out)
{
    if (!m || !out || (pattern != UINT32_MAX && pattern >= m->set->npatterns))
        return gbi_error(GB_EINVAL, "matcher_stats", "NULL argument or pattern out of range");
    memset(out, 0, sizeof *out);
    for (uint32_t i = 0; i < m->set->npatterns; i++) {
        if (pattern != UINT32_MAX && i != pattern)
            continue;
        const gb_matcher_stats *s = &m->ps[i].st;
        out->matches += s->matches;
        out->runs_started += s->runs_started;
        out->runs_open += s->runs_open;
        out->runs_killed += s->runs_killed;
        out->runs_expired += s->runs_expired;
        out->runs_skipped += s->runs_skipped;
        out->runs_capped += s->runs_capped;
        out->nomem += s->nomem;
    }
    out->events = m->events;
    out->rejected = m->rejected;
    return GB_OK;
}

size_t gb_matcher_match_count(const gb_matcher *m)
{
    return m ? m->ncoll : 0;
}

const gb_match *gb_matcher_match_at(const gb_matcher *m, size_t i)
{
    return m && i < m->ncoll ? m->coll[i] : NULL;
}

void gb_matcher_clear_matches(gb_matcher *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->ncoll; i++)
        free(m->coll[i]);
    m->ncoll = 0;
}
