/*
 * The device pattern matcher (gpubridge/pattern_device.h): the host side.
 * It owns the flattened pattern set (bytecode, constants, per-pattern step
 * tables), each pattern's open-run state between batches (in the kernel's
 * word layout, kernels/pattern_layout.gbk), the capacities, and the walk
 * along the broker's chain: for a launch it takes the best device and runs
 * the kernel there (cpu: the native build; opencl/cuda: compiled once per
 * device from the embedded source) on two resident buffers that keep the
 * open runs on the device between batches (see "device-resident state");
 * on a device failure the same batch goes to the next entry, the state
 * with it (read back, or rebuilt from a checkpoint and a log).
 *
 * A batch commits only when every pattern's output is whole: a pattern
 * whose capacity overflowed is rerun on the host with more room (nothing is
 * dropped), and any error leaves the state as it was before the batch.
 * Patterns whose runs keep one key for life are split into key shards
 * (one work-item each) while their run cap cannot be reached in a batch,
 * and merged back into one when it could (reshard, regroup). The
 * per-work-item matches are then merged into the CPU matcher's emission order
 * (spec Semantics 8 and 10): events in arrival order, patterns in file order
 * within one event, then the first event of each match's run; then advance
 * (patterns in file order); a flush closes runs in creation order across
 * patterns, i.e. by (first event, pattern).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "device/backend.h"
#include "gpubridge/hash.h"
#include "gpubridge/pattern_device.h"
#include "pattern/device_kernel.h"
#include "pattern/fastpred.h"
#include "pattern/internal.h"

#define DEF_RUNS 256u
#define DEF_IDS 32u
#define DEF_MATCH_WORDS 4096u
#define MAX_WORDS ((uint64_t)1 << 31) /* largest state or match area of one pattern */

#define DEF_SHARDS 8u
#define DEF_CHECKPOINT 65536u
#define MAX_SHARDS 256u

/* A pattern: its shards' states (one shard unless the pattern is sharded
 * by key, see shardable()), and its capacities (per shard). */
typedef struct dpat {
    uint64_t *states[MAX_SHARDS]; /* GBPD_ST_WORDS + nruns runs in layout st_cap_ids[s] */
    uint64_t st_cap_ids[MAX_SHARDS];
    uint32_t nshards;
    int shardable;
    uint32_t key_g;       /* sharded: the field of `a` every key conjunct names */
    uint64_t part2;       /* the second key field (second_field), or GBPD_NO_PART */
    uint32_t cap_runs, cap_ids, match_cap;
    uint64_t meta_off;    /* in the static part */
    uint32_t unit0;       /* resident: the index of its shard 0 among the laid out units */
} dpat;

/* One work-item: a pattern's shard. */
typedef struct unit {
    uint32_t pat, shard;
} unit;

/* Resident buffers of one broker entry (kept across launches): two of
 * the same layout; a launch reads the state in b[parity] and writes the
 * next state into the other one. */
typedef struct rdev {
    gbi_buf *b[2];
    size_t bytes;
} rdev;

/* A batch committed since the last checkpoint (its events are in the log). */
typedef struct logrec {
    size_t n;
    int op;
    int64_t ts;
} logrec;

struct gb_device_matcher {
    const gb_pattern_set *set;
    gb_device_matcher_opts o;
    gb_broker *broker;
    int own_broker;
    uint32_t nentries;
    void **inst;                     /* per broker entry: opened device with the program */
    const gbi_backend_ops **be;
    uint64_t *stat;                  /* code, consts, per-pattern metadata */
    size_t nstat, off_code, off_consts;
    dpat *pats;
    int64_t now;
    int has_now;
    uint64_t evno, events, rejected, batches, device_batches, fallbacks, overflows;
    char backend[16];
    /* device-resident state (see "device-resident state" below) */
    rdev *rd;                /* per broker entry */
    int64_t home;            /* the entry holding the current state, or HOME_HOST */
    uint32_t parity;         /* the state region holding it */
    unit *ru;                /* the units laid out there, rnu of them */
    uint32_t rnu;
    uint64_t *roff;          /* per unit: word offsets of its state and its match area */
    uint64_t *sum, *sum_new; /* per unit summaries: the current state's, the last launch's */
    uint64_t *sum_mem;       /* the allocation both point into (they swap) */
    uint64_t *img;           /* host image of a buffer's header, descriptors, static part */
    size_t img_words, off_sum, off_ev, ev_cap; /* words; events come last */
    uint64_t *mbuf, **ma;    /* the last launch's match areas (records read back) */
    size_t mbuf_cap;
    uint64_t *hb[2];         /* a host batch's launch buffers (in, out), kept for the next one */
    size_t hb_cap[2];        /* their sizes, words */
    gb_event *log_ev;        /* the events of the logged batches */
    size_t log_n, log_cap;
    logrec *log;
    size_t log_recs, log_rcap;
    uint64_t ck_evno;        /* arrival number before the checkpoint's first logged event */
};

/* One launch's input, output and where each pattern's results lie. */
typedef struct launch {
    uint64_t *in, *out;
    size_t in_words, out_words;
    uint32_t npat;                       /* descriptors (units) */
    uint64_t *st_off, *ma_off, *cap_ids; /* per descriptor: in out; the ids capacity it ran with */
    int kept;                            /* in and out are the matcher's kept buffers (dm->hb) */
} launch;

/* ---- the static part ------------------------------------------------------------ */

static size_t meta_words(const gbp_pattern *p)
{
    return GBPD_STEP_WORDS * p->nsteps + GBPD_NEG_WORDS * p->nnegs + p->nsteps + 1u + 3u * p->nslots +
           2u * p->nfields + p->ntypes;
}

/* ---- the second key field --------------------------------------------------------- */

/* Does the `where` at pc have a top-level conjunct `cur.f == var.G` (8-byte
 * integer fields, as the host fast path decodes it)? Then out = {1, G,
 * var} and 1; else out = {0, 0, 0} and 0. */
static int key_conjunct(const gb_pattern_set *set, uint32_t where, uint64_t f, uint64_t out[3])
{
    out[0] = out[1] = out[2] = 0;
    if (where == GBP_NO_CODE || f == GBPD_NO_PART)
        return 0;
    gbp_fast fp;
    gbp_fast_compile(set->code, set->ncode, where, &fp);
    for (uint32_t i = 0; i < fp.nterms; i++) {
        uint32_t tf, var, g;
        if (gbp_fast_term_eq(&fp.t[i], &tf, &var, &g) && tf == f) {
            out[0] = 1, out[1] = g, out[2] = var;
            return 1;
        }
    }
    return 0;
}

/* The field of a keyed pattern that the device's key index uses besides
 * its partition field (as the CPU index keys `circular_flow`'s last step
 * on source and target, run_index.h): of id, ts, source and target, the
 * one that most steps and negations require by a conjunct `cur.F2 ==
 * var.G` (GBPD_NO_PART when none does). A run is keyed on it too while
 * every step and negation that may take its next event requires one value
 * of it (gbpd_rekey): events with another value cannot concern the run. */
static uint64_t second_field(const gb_pattern_set *set, const gbp_pattern *p)
{
    uint64_t field = GBPD_NO_PART, tmp[3];
    uint32_t best = 0;
    for (uint32_t f = GBP_F_ID; p->part_field >= 0 && f <= GBP_F_TARGET; f++) {
        if (f == GBP_F_TYPE || f == (uint32_t)p->part_field)
            continue;
        uint32_t n = 0;
        for (uint32_t i = 0; i < p->nsteps; i++)
            n += (uint32_t)key_conjunct(set, p->steps[i].where, f, tmp);
        for (uint32_t k = 0; k < p->nnegs; k++)
            n += (uint32_t)key_conjunct(set, p->negs[k].where, f, tmp);
        if (n > best)
            best = n, field = f;
    }
    return field;
}

static void put_meta(uint64_t *w, const gb_pattern_set *set, const gbp_pattern *p, uint64_t part2)
{
    for (uint32_t i = 0; i < p->nsteps; i++) {
        const gbp_step *s = &p->steps[i];
        *w++ = s->type, *w++ = s->nmin, *w++ = s->nmax, *w++ = s->where;
        *w++ = s->key.has, *w++ = s->key.vfield, *w++ = s->key.var;
        key_conjunct(set, s->where, part2, w);
        w += 3;
    }
    for (uint32_t k = 0; k < p->nnegs; k++) {
        const gbp_neg *n = &p->negs[k];
        *w++ = n->type, *w++ = n->where, *w++ = n->after, *w++ = n->key.has, *w++ = n->key.vfield, *w++ = n->key.var;
        key_conjunct(set, n->where, part2, w);
        w += 3;
    }
    for (uint32_t i = 0; i <= p->nsteps; i++)
        *w++ = p->neg_begin ? p->neg_begin[i] : 0;
    for (uint32_t k = 0; k < p->nslots; k++)
        *w++ = p->slots[k].var, *w++ = p->slots[k].op, *w++ = p->slots[k].field;
    for (uint32_t f = 0; f < p->nfields; f++)
        *w++ = p->field_code[f], *w++ = p->field_double[f];
    for (uint32_t t = 0; t < p->ntypes; t++)
        *w++ = p->types[t];
}

static gb_status build_static(gb_device_matcher *dm)
{
    const gb_pattern_set *s = dm->set;
    size_t n = (s->ncode + 1) / 2 + s->nconsts;
    for (uint32_t i = 0; i < s->npatterns; i++)
        n += meta_words(&s->patterns[i]);
    dm->stat = calloc(n ? n : 1, sizeof *dm->stat);
    if (!dm->stat)
        return GB_ENOMEM;
    dm->nstat = n;
    dm->off_code = 0;
    if (s->ncode)
        memcpy(dm->stat, s->code, s->ncode * sizeof *s->code);
    dm->off_consts = (s->ncode + 1) / 2;
    if (s->nconsts)
        memcpy(dm->stat + dm->off_consts, s->consts, s->nconsts * sizeof *s->consts);
    size_t at = dm->off_consts + s->nconsts;
    for (uint32_t i = 0; i < s->npatterns; i++) {
        dm->pats[i].meta_off = at;
        dm->pats[i].part2 = second_field(s, &s->patterns[i]);
        put_meta(dm->stat + at, s, &s->patterns[i], dm->pats[i].part2);
        at += meta_words(&s->patterns[i]);
    }
    return GB_OK;
}

/* ---- building a launch ------------------------------------------------------------ */

static uint64_t state_words(const gbp_pattern *p, uint64_t cap_runs, uint64_t cap_ids)
{
    return GBPD_STATE_WORDS((uint64_t)p->nsteps, (uint64_t)p->nslots, cap_runs, cap_ids);
}

/* Words of a state of nruns runs laid out with ids capacity cap_ids. */
static uint64_t runs_words(const gbp_pattern *p, uint64_t nruns, uint64_t cap_ids)
{
    return GBPD_ST_WORDS + nruns * (GBPD_RUN_FIXED((uint64_t)p->nsteps, p->nslots) + cap_ids);
}

static uint64_t stored_words(const gbp_pattern *p, const uint64_t *state, uint64_t cap_ids)
{
    return runs_words(p, state[GBPD_ST_NRUNS], cap_ids);
}

static void put_header(uint64_t *h, const launch *l, size_t n, int op, int64_t op_ts, uint64_t evno0,
                       const gb_device_matcher *dm, size_t off_stat, size_t off_ev)
{
    h[GBPD_HD_MAGIC] = GBPD_MAGIC;
    h[GBPD_HD_NPAT] = l->npat;
    h[GBPD_HD_NCODE] = dm->set->ncode;
    h[GBPD_HD_OFF_CODE] = off_stat + dm->off_code;
    h[GBPD_HD_OFF_CONSTS] = off_stat + dm->off_consts;
    h[GBPD_HD_NEVENTS] = n;
    h[GBPD_HD_OFF_EVENTS] = off_ev;
    h[GBPD_HD_EVNO0] = evno0;
    h[GBPD_HD_OP] = (uint64_t)op;
    h[GBPD_HD_OP_TS] = (uint64_t)op_ts;
    h[GBPD_HD_OFF_PD] = GBPD_HD_WORDS;
}

static void put_desc(uint64_t *pd, const gb_device_matcher *dm, unit u, size_t off_stat, uint64_t in_state,
                     uint64_t out_state, uint64_t out_match)
{
    uint32_t i = u.pat;
    const gbp_pattern *p = &dm->set->patterns[i];
    const dpat *d = &dm->pats[i];
    memset(pd, 0, GBPD_PD_WORDS * sizeof *pd);
    pd[GBPD_PD_INDEX] = i;
    pd[GBPD_PD_NSTEPS] = p->nsteps;
    pd[GBPD_PD_NNEGS] = p->nnegs;
    pd[GBPD_PD_NSLOTS] = p->nslots;
    pd[GBPD_PD_NFIELDS] = p->nfields;
    pd[GBPD_PD_NTYPES] = p->ntypes;
    pd[GBPD_PD_WITHIN] = (uint64_t)p->within;
    pd[GBPD_PD_PAST_LAST] = (uint64_t)p->past_last;
    pd[GBPD_PD_EMIT_AT_CLOSE] = (uint64_t)p->emit_at_close;
    pd[GBPD_PD_META] = off_stat + d->meta_off;
    pd[GBPD_PD_MAX_RUNS] = dm->o.max_runs_per_pattern;
    pd[GBPD_PD_IN_STATE] = in_state;
    pd[GBPD_PD_IN_CAP_IDS] = d->st_cap_ids[u.shard];
    pd[GBPD_PD_OUT_STATE] = out_state;
    pd[GBPD_PD_OUT_CAP_RUNS] = d->cap_runs;
    pd[GBPD_PD_OUT_CAP_IDS] = d->cap_ids;
    pd[GBPD_PD_OUT_MATCH] = out_match;
    pd[GBPD_PD_MATCH_CAP] = d->match_cap;
    pd[GBPD_PD_PART_FIELD] = p->part_field >= 0 ? (uint64_t)p->part_field : GBPD_NO_PART;
    pd[GBPD_PD_SHARD] = u.shard;
    pd[GBPD_PD_NSHARDS] = d->nshards;
    pd[GBPD_PD_KEY_G] = d->key_g;
    pd[GBPD_PD_PART_FIELD2] = d->part2;
    pd[GBPD_PD_OUT_SUMMARY] = GBPD_NO_SUMMARY;
}

static void launch_free(launch *l)
{
    if (!l->kept) {
        free(l->in);
        free(l->out);
    }
    free(l->st_off);
    l->in = l->out = NULL;
    l->st_off = l->ma_off = l->cap_ids = NULL;
}

/* Kept buffer k (dm->hb) of at least words words: grown (contents not
 * kept) when smaller. NULL out of memory (the old one stays). A host
 * batch reuses the same large buffers instead of fresh ones whose pages
 * the kernel must fault in and zero each time. */
static uint64_t *kept_buf(gb_device_matcher *dm, int k, size_t words)
{
    if (dm->hb_cap[k] >= words)
        return dm->hb[k];
    uint64_t *b = malloc(words * sizeof *b);
    if (!b)
        return NULL;
    free(dm->hb[k]);
    dm->hb[k] = b;
    dm->hb_cap[k] = words;
    return b;
}

/* Lay out the launch of units u[0..npat) over events[0..n) then op; keep:
 * in the matcher's kept buffers (one such launch at a time). */
static gb_status build(gb_device_matcher *dm, launch *l, const unit *u, uint32_t npat, const gb_event *events,
                       size_t n, int op, int64_t op_ts, int keep)
{
    memset(l, 0, sizeof *l);
    l->npat = npat;
    size_t off_stat = GBPD_HD_WORDS + (size_t)npat * GBPD_PD_WORDS;
    size_t off_ev = off_stat + dm->nstat, off_states = off_ev + n * GBPD_EVENT_WORDS;
    size_t in_words = off_states, out_words = 0;
    l->st_off = calloc(3 * (size_t)npat, sizeof *l->st_off);
    if (!l->st_off)
        return GB_ENOMEM;
    l->ma_off = l->st_off + npat;
    l->cap_ids = l->ma_off + npat;
    for (uint32_t j = 0; j < npat; j++) {
        const gbp_pattern *p = &dm->set->patterns[u[j].pat];
        const dpat *d = &dm->pats[u[j].pat];
        in_words += stored_words(p, d->states[u[j].shard], d->st_cap_ids[u[j].shard]);
        l->cap_ids[j] = d->cap_ids;
        l->st_off[j] = out_words;
        out_words += state_words(p, d->cap_runs, d->cap_ids);
        l->ma_off[j] = out_words;
        out_words += GBPD_MA_WORDS + (size_t)d->match_cap;
    }
    l->kept = keep;
    l->in = keep ? kept_buf(dm, 0, in_words) : malloc(in_words * sizeof *l->in);
    l->out = keep ? kept_buf(dm, 1, out_words) : malloc(out_words * sizeof *l->out);
    if (!l->in || !l->out) {
        launch_free(l);
        return GB_ENOMEM;
    }
    l->in_words = in_words;
    l->out_words = out_words;
    put_header(l->in, l, n, op, op_ts, dm->evno, dm, off_stat, off_ev);
    memcpy(l->in + off_stat, dm->stat, dm->nstat * sizeof *dm->stat);
    if (n)
        memcpy(l->in + off_ev, events, n * sizeof *events);
    size_t at = off_states;
    for (uint32_t j = 0; j < npat; j++) {
        const gbp_pattern *p = &dm->set->patterns[u[j].pat];
        const dpat *d = &dm->pats[u[j].pat];
        uint64_t w = stored_words(p, d->states[u[j].shard], d->st_cap_ids[u[j].shard]);
        memcpy(l->in + at, d->states[u[j].shard], w * sizeof *l->in);
        put_desc(l->in + GBPD_HD_WORDS + (size_t)j * GBPD_PD_WORDS, dm, u[j], off_stat, at, l->st_off[j],
                 l->ma_off[j]);
        at += w;
    }
    return GB_OK;
}

_Static_assert(sizeof(gb_event) == GBPD_EVENT_WORDS * 8, "gb_event is 11 words");
_Static_assert(sizeof(gbp_val) == 8, "gbp_val is one word");

/* ---- capacity overflow: rerun one pattern on the host with more room ---------------- */

/* A pattern's capacities (dpat cap_runs, cap_ids, match_cap). */
typedef struct dcaps {
    uint64_t runs, ids, mw;
} dcaps;

static dcaps caps_of(const dpat *d)
{
    return (dcaps){d->cap_runs, d->cap_ids, d->match_cap};
}

/* The capacities that overflowed in a launch that ran with `ran`,
 * doubled, unless the pattern already has more (another key shard of the
 * same launch grew them first: the shards share them, and each doubling
 * them again would grow them by 2^shards). The run capacity is not capped
 * at the pattern's run cap: the room above the live runs is what lets the
 * kernel compact dead runs away in bulk rather than at every new run. */
static gb_status grow(dpat *d, const gbp_pattern *p, uint64_t flags, dcaps ran)
{
    dcaps c = caps_of(d);
    if ((flags & GBPD_OVF_RUNS) && 2 * ran.runs > c.runs)
        c.runs = 2 * ran.runs;
    if ((flags & GBPD_OVF_IDS) && 2 * ran.ids > c.ids)
        c.ids = 2 * ran.ids;
    if ((flags & GBPD_OVF_MATCHES) && 2 * ran.mw > c.mw)
        c.mw = 2 * ran.mw;
    if (c.runs > UINT32_MAX || c.ids > UINT32_MAX || c.mw > MAX_WORDS ||
        state_words(p, c.runs, c.ids) > MAX_WORDS)
        return gbi_error(GB_ENOMEM, "device_matcher", "pattern '%s' needs more than %llu words of run or match "
                         "memory", p->name, (unsigned long long)MAX_WORDS);
    d->cap_runs = (uint32_t)c.runs;
    d->cap_ids = (uint32_t)c.ids;
    d->match_cap = (uint32_t)c.mw;
    return GB_OK;
}

/* Rerun unit u, which overflowed (flags) in a launch whose capacities for
 * its pattern were `ran`, on the host with more room until it fits. */
static gb_status rerun(gb_device_matcher *dm, unit u, uint64_t flags, dcaps ran, const gb_event *ev, size_t n,
                       int op, int64_t ts, launch *l)
{
    dm->overflows++;
    for (;;) {
        if (flags & GBPD_OVF_BADPROG)
            return gbi_error(GB_EINVAL, "device_matcher", "pattern %u: inconsistent kernel descriptor", u.pat);
        dpat *d = &dm->pats[u.pat];
        gb_status st = grow(d, &dm->set->patterns[u.pat], flags, ran);
        if (st != GB_OK)
            return st; /* grow said which pattern and limit */
        ran = caps_of(d);
        if ((st = build(dm, l, &u, 1, ev, n, op, ts, 0)) != GB_OK)
            return st == GB_ENOMEM ? gbi_error(st, "device_matcher", "out of memory") : st;
        gbp_match_kernel((const uint8_t *)l->in, (uint8_t *)l->out, 1);
        flags = l->out[l->ma_off[0] + GBPD_MA_FLAGS];
        if (!flags)
            return GB_OK;
        launch_free(l);
    }
}

/* Every pattern's capacities now, before the reruns of a launch change
 * them (NULL out of memory). */
static dcaps *caps_snapshot(const gb_device_matcher *dm)
{
    dcaps *c = malloc((dm->set->npatterns ? dm->set->npatterns : 1) * sizeof *c);
    for (uint32_t i = 0; c && i < dm->set->npatterns; i++)
        c[i] = caps_of(&dm->pats[i]);
    return c;
}

/* ---- merging the matches into emission order ------------------------------------------ */

/* A match is placed by (phase, key, pattern, first event of its run): a
 * run emits once, so this is a total order, and it is the CPU matcher's
 * (within one event and pattern: expired runs, which are the oldest, then
 * runs taking the event, in creation order, then the run it starts). */
typedef struct rec {
    uint64_t phase, key, first;
    uint32_t pat;
    const uint64_t *r;
} rec;

static int by_order(const void *a, const void *b)
{
    const rec *x = a, *y = b;
    if (x->phase != y->phase)
        return x->phase < y->phase ? -1 : 1;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    if (x->pat != y->pat)
        return x->pat < y->pat ? -1 : 1;
    return x->first < y->first ? -1 : x->first > y->first;
}

static void deliver_one(gb_device_matcher *dm, const rec *c, gb_match_var *mv, gb_match_field *mf)
{
    const gbp_pattern *p = &dm->set->patterns[c->pat];
    const uint64_t *r = c->r;
    const uint64_t *ids = r + GBPD_REC_HDR + p->nsteps;
    for (uint32_t v = 0; v < p->nsteps; v++) {
        mv[v] = (gb_match_var){.name = p->vars[v], .count = (uint32_t)r[GBPD_REC_HDR + v], .ids = ids};
        ids += mv[v].count;
    }
    const uint64_t *fv = r + GBPD_REC_HDR + p->nsteps + r[3];
    for (uint32_t f = 0; f < p->nfields; f++) {
        mf[f].name = p->fields[f];
        mf[f].value.kind = p->field_double[f] ? GB_VALUE_DOUBLE : GB_VALUE_INT;
        memcpy(&mf[f].value.u, &fv[f], sizeof fv[f]);
    }
    gb_match mt = {.pattern_index = c->pat, .pattern = p->name, .severity = p->severity, .ts = (int64_t)r[2],
                   .nvars = p->nsteps, .vars = mv, .nfields = p->nfields, .fields = mf};
    dm->o.on_match(dm->o.ctx, &mt);
}

static gb_status deliver(gb_device_matcher *dm, const unit *u, uint32_t nu, uint64_t *const *ma)
{
    size_t total = 0;
    uint32_t maxv = 1, maxf = 1;
    for (uint32_t j = 0; j < nu; j++)
        total += ma[j][GBPD_MA_COUNT];
    for (uint32_t i = 0; i < dm->set->npatterns; i++) {
        maxv = dm->set->patterns[i].nsteps > maxv ? dm->set->patterns[i].nsteps : maxv;
        maxf = dm->set->patterns[i].nfields > maxf ? dm->set->patterns[i].nfields : maxf;
    }
    if (!total || !dm->o.on_match)
        return GB_OK;
    rec *v = malloc(total * sizeof *v);
    gb_match_var *mv = malloc(maxv * sizeof *mv);
    gb_match_field *mf = malloc(maxf * sizeof *mf);
    if (!v || !mv || !mf) {
        free(v), free(mv), free(mf);
        return GB_ENOMEM;
    }
    size_t k = 0;
    for (uint32_t j = 0; j < nu; j++) {
        const gbp_pattern *p = &dm->set->patterns[u[j].pat];
        const uint64_t *r = ma[j] + GBPD_MA_WORDS;
        for (uint64_t q = 0; q < ma[j][GBPD_MA_COUNT]; q++) {
            v[k++] = (rec){.phase = r[0], .key = r[1], .first = r[4], .pat = u[j].pat, .r = r};
            r += GBPD_REC_HDR + p->nsteps + r[3] + p->nfields;
        }
    }
    qsort(v, total, sizeof *v, by_order);
    for (size_t j = 0; j < total; j++)
        deliver_one(dm, &v[j], mv, mf);
    free(v), free(mv), free(mf);
    return GB_OK;
}

/* ---- sharding by key ------------------------------------------------------------- */

/* Can pattern p be split by key? Its runs must keep one key for life: every
 * step after the first and every negation has a key conjunct on the same
 * event field F naming the same field G of the first variable, and the
 * first step binds once (so a.G never changes). `skip past_last` drops runs
 * of every key, so it is excluded. *g = G. */
static int shardable(const gbp_pattern *p, uint32_t *g)
{
    if (p->part_field < 0 || p->past_last || p->nsteps < 2 || p->steps[0].nmax != 1)
        return 0;
    int have = 0;
    for (uint32_t i = 1; i < p->nsteps + p->nnegs; i++) {
        const gbp_key *k = i < p->nsteps ? &p->steps[i].key : &p->negs[i - p->nsteps].key;
        if (!k->has || k->var != 0 || (have && k->vfield != *g))
            return 0;
        *g = k->vfield;
        have = 1;
    }
    return have;
}

static int64_t event_int(const gb_event *e, uint32_t f)
{
    switch (f) {
    case GBP_F_ID: return (int64_t)e->id;
    case GBP_F_TYPE: return (int64_t)e->type;
    case GBP_F_TS: return e->ts_ns;
    case GBP_F_SOURCE: return (int64_t)e->source;
    default: return (int64_t)e->target;
    }
}

typedef struct run_ref {
    const uint64_t *r;
    uint64_t first, shard;
} run_ref;

static int by_first(const void *a, const void *b)
{
    const run_ref *x = a, *y = b;
    return x->first < y->first ? -1 : x->first > y->first;
}

/* Gather pattern i's live runs from every shard in creation order, with the
 * shard each belongs to among ns. NULL on ENOMEM. */
static run_ref *gather(const gb_device_matcher *dm, uint32_t i, uint32_t ns, uint64_t *total)
{
    const dpat *d = &dm->pats[i];
    const gbp_pattern *p = &dm->set->patterns[i];
    uint64_t fixed = GBPD_RUN_FIXED((uint64_t)p->nsteps, p->nslots), n = 0, off_last = GBPD_RUN_HDR + (p->nsteps + 1u) / 2u;
    for (uint32_t s = 0; s < d->nshards; s++)
        n += d->states[s][GBPD_ST_NRUNS];
    run_ref *v = malloc((n ? n : 1) * sizeof *v);
    uint64_t k = 0;
    for (uint32_t s = 0; v && s < d->nshards; s++)
        for (uint64_t q = 0; q < d->states[s][GBPD_ST_NRUNS]; q++) {
            const uint64_t *r = d->states[s] + GBPD_ST_WORDS + q * (fixed + d->st_cap_ids[s]);
            const gb_event *a = (const gb_event *)(r + off_last);
            if (!r[GBPD_R_DEAD]) /* a launch leaves its dead runs in place */
                v[k++] = (run_ref){r, r[GBPD_R_FIRST_EV], gb_hash_u64((uint64_t)event_int(a, d->key_g)) % ns};
        }
    if (v)
        qsort(v, k, sizeof *v, by_first);
    *total = k;
    return v;
}

/* Redistribute pattern i's runs over ns shards (1: merge), all laid out
 * with the current ids capacity; the counters go to shard 0. */
static gb_status regroup(gb_device_matcher *dm, uint32_t i, uint32_t ns)
{
    dpat *d = &dm->pats[i];
    const gbp_pattern *p = &dm->set->patterns[i];
    uint64_t n = 0, fixed = GBPD_RUN_FIXED((uint64_t)p->nsteps, p->nslots), words = fixed + d->cap_ids;
    uint64_t cnt[MAX_SHARDS] = {0}, *fresh[MAX_SHARDS] = {0};
    run_ref *v = gather(dm, i, ns, &n);
    gb_status st = v ? GB_OK : GB_ENOMEM;
    for (uint64_t k = 0; v && k < n; k++)
        cnt[v[k].shard]++;
    for (uint32_t s = 0; st == GB_OK && s < ns; s++)
        if (!(fresh[s] = calloc(GBPD_ST_WORDS + cnt[s] * words, sizeof **fresh)))
            st = GB_ENOMEM;
    for (uint64_t k = 0; st == GB_OK && k < n; k++) {
        uint64_t *h = fresh[v[k].shard];
        memcpy(h + GBPD_ST_WORDS + h[GBPD_ST_NRUNS]++ * words, v[k].r, (fixed + v[k].r[GBPD_R_NIDS]) * sizeof *h);
    }
    for (uint32_t s = 0; st == GB_OK && s < d->nshards; s++)
        for (uint32_t w = GBPD_ST_MATCHES; w < GBPD_ST_WORDS; w++)
            fresh[0][w] += w == GBPD_ST_OPEN ? 0 : d->states[s][w];
    free(v);
    if (st != GB_OK) {
        for (uint32_t s = 0; s < ns; s++)
            free(fresh[s]);
        return st;
    }
    for (uint32_t s = 0; s < d->nshards; s++)
        free(d->states[s]);
    uint64_t most = 0;
    for (uint32_t s = 0; s < ns; s++) {
        fresh[s][GBPD_ST_OPEN] = fresh[s][GBPD_ST_NRUNS];
        d->states[s] = fresh[s];
        d->st_cap_ids[s] = d->cap_ids;
        most = cnt[s] > most ? cnt[s] : most;
    }
    d->nshards = ns;
    /* the run capacity is per work-item: after a split, twice the fullest
     * shard (not what one work-item holding every run needed); after a
     * merge, room for twice them all (upload checks it too, fit_runs) */
    uint64_t cap = 2 * most;
    if (ns > 1 || cap > d->cap_runs)
        d->cap_runs = (uint32_t)(cap > dm->o.run_capacity ? cap : dm->o.run_capacity);
    return GB_OK;
}

static const uint64_t *counters(const gb_device_matcher *dm, uint32_t i, uint32_t s);
static gb_status sync_down(gb_device_matcher *dm);

/* Before a batch of n events: shard a shardable pattern only while its run
 * cap (counted over all its runs) cannot be reached in the batch, since
 * shards cannot see each other's counts. */
static gb_status reshard(gb_device_matcher *dm, size_t n)
{
    for (uint32_t i = 0; n && i < dm->set->npatterns; i++) {
        dpat *d = &dm->pats[i];
        if (!d->shardable)
            continue;
        uint64_t open = 0;
        for (uint32_t s = 0; s < d->nshards; s++)
            open += counters(dm, i, s)[GBPD_ST_OPEN];
        /* split again only well below the cap: near it, runs come and go
         * around the line, and each regroup moves the state through the host */
        uint64_t line = d->nshards == 1 ? dm->o.max_runs_per_pattern / 2 : dm->o.max_runs_per_pattern;
        uint32_t want = open + n < line ? dm->o.key_shards : 1;
        if (want == d->nshards)
            continue;
        gb_status st = sync_down(dm); /* regrouping works on the host states */
        if (st == GB_OK)
            st = regroup(dm, i, want);
        if (st != GB_OK)
            return st;
    }
    return GB_OK;
}

/* ---- one batch: launch, reruns, commit, delivery ------------------------------------- */

/* Install each unit's new state (all allocated first: all or nothing). */
static gb_status commit(gb_device_matcher *dm, const unit *u, uint32_t nu, uint64_t *const *st,
                        const uint64_t *cap_ids)
{
    uint64_t **fresh = calloc(nu, sizeof *fresh);
    if (!fresh)
        return GB_ENOMEM;
    for (uint32_t j = 0; j < nu; j++) {
        const gbp_pattern *p = &dm->set->patterns[u[j].pat];
        uint64_t w = stored_words(p, st[j], cap_ids[j]);
        if (!(fresh[j] = malloc(w * sizeof **fresh))) {
            for (uint32_t q = 0; q < j; q++)
                free(fresh[q]);
            free(fresh);
            return GB_ENOMEM;
        }
        memcpy(fresh[j], st[j], w * sizeof **fresh);
    }
    for (uint32_t j = 0; j < nu; j++) {
        dpat *d = &dm->pats[u[j].pat];
        free(d->states[u[j].shard]);
        d->states[u[j].shard] = fresh[j];
        d->st_cap_ids[u[j].shard] = cap_ids[j];
    }
    free(fresh);
    return GB_OK;
}

/* Every pattern's shards, in pattern order. */
static unit *units_of(const gb_device_matcher *dm, uint32_t *nu)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < dm->set->npatterns; i++)
        n += dm->pats[i].nshards;
    unit *u = calloc(n, sizeof *u);
    for (uint32_t i = 0, k = 0; u && i < dm->set->npatterns; i++)
        for (uint32_t s = 0; s < dm->pats[i].nshards; s++)
            u[k++] = (unit){i, s};
    *nu = n;
    return u;
}

/* The outcome of a launch of units u[0..nu): st[j] and st[nu + j] the
 * state and match area each left, caps[j] the ids capacity of that state.
 * Each unit that overflowed (flags[j]) is rerun on the host with more room
 * and its entries replaced; then every state is committed and the matches
 * delivered. */
static gb_status settle(gb_device_matcher *dm, const unit *u, uint32_t nu, const uint64_t *flags, uint64_t **st,
                        uint64_t *caps, const gb_event *ev, size_t n, int op, int64_t ts)
{
    launch *re = calloc(nu, sizeof *re);
    dcaps *ran = caps_snapshot(dm);
    gb_status s = re && ran ? GB_OK : GB_ENOMEM;
    for (uint32_t j = 0; s == GB_OK && j < nu; j++)
        if (flags[j] && (s = rerun(dm, u[j], flags[j], ran[u[j].pat], ev, n, op, ts, &re[j])) == GB_OK) {
            st[j] = re[j].out + re[j].st_off[0];
            st[nu + j] = re[j].out + re[j].ma_off[0];
            caps[j] = re[j].cap_ids[0];
        }
    if (s == GB_OK)
        s = commit(dm, u, nu, st, caps);
    if (s == GB_OK)
        s = deliver(dm, u, nu, st + nu);
    for (uint32_t j = 0; re && j < nu; j++)
        launch_free(&re[j]);
    free(re), free(ran);
    return s;
}

/* Run every unit on the host, then settle (reruns, commit, delivery). */
static gb_status launch_all(gb_device_matcher *dm, const unit *u, uint32_t nu, const gb_event *ev, size_t n, int op,
                            int64_t ts)
{
    launch l = {0};
    uint64_t **st = calloc(2 * (size_t)nu, sizeof *st), *caps = calloc(nu, sizeof *caps);
    uint64_t *flags = calloc(nu, sizeof *flags);
    gb_status s = st && caps && flags ? GB_OK : GB_ENOMEM;
    if (s == GB_OK && (s = build(dm, &l, u, nu, ev, n, op, ts, 1)) == GB_OK)
        gbp_match_kernel((const uint8_t *)l.in, (uint8_t *)l.out, l.npat);
    for (uint32_t j = 0; s == GB_OK && j < nu; j++) {
        st[j] = l.out + l.st_off[j];
        st[nu + j] = l.out + l.ma_off[j];
        caps[j] = l.cap_ids[j];
        flags[j] = st[nu + j][GBPD_MA_FLAGS];
    }
    if (s == GB_OK)
        s = settle(dm, u, nu, flags, st, caps, ev, n, op, ts);
    launch_free(&l);
    free(st), free(caps), free(flags);
    return s;
}

/* ---- device-resident state ----------------------------------------------------------- */

/* Which open-run state is current: while dm->home is a broker entry, the
 * state lives in that entry's resident buffer b[dm->parity] (the kernel
 * reads it there and writes the next batch's state into the other buffer,
 * so a batch that fails or overflows leaves the current state untouched),
 * and dm->sum holds its counters. The host
 * states (dpat.states) are then a checkpoint, and the batches since it are
 * kept in the log, so the state can be rebuilt on the host if the device
 * is lost (replay). While dm->home is -1 the host states are current. */

#define HOME_HOST (-1)

static const uint64_t *counters(const gb_device_matcher *dm, uint32_t i, uint32_t s)
{
    const dpat *d = &dm->pats[i];
    if (dm->home == HOME_HOST)
        return d->states[s];
    return dm->sum + (size_t)(d->unit0 + s) * GBPD_SUM_WORDS + GBPD_SUM_ST;
}

static void log_clear(gb_device_matcher *dm)
{
    dm->log_n = dm->log_recs = 0;
    dm->ck_evno = dm->evno;
}

/* Forget the device layout: the host states are current again. */
static void resident_drop(gb_device_matcher *dm)
{
    free(dm->ru), free(dm->roff), free(dm->sum_mem), free(dm->img);
    dm->ru = NULL;
    dm->roff = dm->sum = dm->sum_new = dm->sum_mem = dm->img = NULL;
    dm->rnu = 0;
    dm->home = HOME_HOST;
    log_clear(dm);
}

/* Lay shard s of pattern i out with the pattern's current ids capacity. */
static gb_status relayout(gb_device_matcher *dm, uint32_t i, uint32_t s)
{
    dpat *d = &dm->pats[i];
    if (d->st_cap_ids[s] == d->cap_ids)
        return GB_OK;
    const gbp_pattern *p = &dm->set->patterns[i];
    const uint64_t *old = d->states[s];
    uint64_t fixed = GBPD_RUN_FIXED((uint64_t)p->nsteps, p->nslots), n = old[GBPD_ST_NRUNS];
    uint64_t *fresh = calloc(GBPD_ST_WORDS + n * (fixed + d->cap_ids), sizeof *fresh);
    if (!fresh)
        return GB_ENOMEM;
    memcpy(fresh, old, GBPD_ST_WORDS * sizeof *fresh);
    for (uint64_t q = 0; q < n; q++) {
        const uint64_t *r = old + GBPD_ST_WORDS + q * (fixed + d->st_cap_ids[s]);
        memcpy(fresh + GBPD_ST_WORDS + q * (fixed + d->cap_ids), r, (fixed + r[GBPD_R_NIDS]) * sizeof *fresh);
    }
    free(d->states[s]);
    d->states[s] = fresh;
    d->st_cap_ids[s] = d->cap_ids;
    return GB_OK;
}

/* The layout of both resident buffers, in words: header, descriptors,
 * the static part (img, the host image of all that), then per unit its
 * state (roff[2j]) and its match area (roff[2j + 1]), the summaries, and
 * room for ev_cap events last. */
static size_t offsets(gb_device_matcher *dm, const unit *u, uint32_t nu, uint64_t *roff, size_t at)
{
    for (uint32_t j = 0; j < nu; j++) {
        const dpat *d = &dm->pats[u[j].pat];
        roff[2 * (size_t)j] = at;
        at += state_words(&dm->set->patterns[u[j].pat], d->cap_runs, d->cap_ids);
        roff[2 * (size_t)j + 1] = at;
        at += GBPD_MA_WORDS + (size_t)d->match_cap;
        if (u[j].shard == 0)
            dm->pats[u[j].pat].unit0 = j;
    }
    dm->off_sum = at;
    return at + (size_t)nu * GBPD_SUM_WORDS;
}

static gb_status layout(gb_device_matcher *dm)
{
    uint32_t nu = 0;
    unit *u = units_of(dm, &nu);
    size_t off_stat = GBPD_HD_WORDS + (size_t)nu * GBPD_PD_WORDS;
    uint64_t *roff = calloc(2 * (size_t)nu, sizeof *roff);
    uint64_t *sum = calloc(2 * (size_t)nu * GBPD_SUM_WORDS, sizeof *sum);
    uint64_t *img = calloc(off_stat + dm->nstat, sizeof *img);
    if (!u || !roff || !sum || !img) {
        free(u), free(roff), free(sum), free(img);
        return GB_ENOMEM;
    }
    resident_drop(dm);
    dm->img_words = off_stat + dm->nstat;
    dm->off_ev = offsets(dm, u, nu, roff, dm->img_words);
    for (uint32_t j = 0; j < nu; j++) {
        uint64_t *pd = img + GBPD_HD_WORDS + (size_t)j * GBPD_PD_WORDS;
        put_desc(pd, dm, u[j], off_stat, roff[2 * (size_t)j], roff[2 * (size_t)j], roff[2 * (size_t)j + 1]);
        pd[GBPD_PD_OUT_SUMMARY] = dm->off_sum + (uint64_t)j * GBPD_SUM_WORDS;
    }
    memcpy(img + off_stat, dm->stat, dm->nstat * sizeof *img);
    dm->ru = u, dm->rnu = nu, dm->roff = roff, dm->img = img;
    dm->sum = dm->sum_mem = sum, dm->sum_new = sum + (size_t)nu * GBPD_SUM_WORDS;
    return GB_OK;
}

/* Entry i's two buffers at least as large as the layout needs (smaller
 * ones are replaced: their contents are the caller's to write). */
static gb_status ensure_bufs(gb_device_matcher *dm, uint32_t i)
{
    rdev *r = &dm->rd[i];
    const gbi_backend_ops *be = dm->be[i];
    size_t bytes = (dm->off_ev + dm->ev_cap * GBPD_EVENT_WORDS) * 8;
    if (r->bytes >= bytes)
        return GB_OK;
    for (int k = 0; k < 2; k++) {
        be->buf_free(dm->inst[i], r->b[k]);
        r->b[k] = NULL;
    }
    r->bytes = 0;
    gb_status st = be->buf_alloc(dm->inst[i], bytes, &r->b[0]);
    if (st == GB_OK)
        st = be->buf_alloc(dm->inst[i], bytes, &r->b[1]);
    if (st == GB_OK)
        r->bytes = bytes;
    return st;
}

/* Room in the layout for every run of every host state: key shards
 * merged into one work-item (regroup) may hold more runs together than
 * one shard's capacity, and a state is written whole into its region of
 * the resident buffer. Twice the runs, so that compaction stays in bulk. */
static void fit_runs(gb_device_matcher *dm)
{
    for (uint32_t p = 0; p < dm->set->npatterns; p++) {
        dpat *d = &dm->pats[p];
        for (uint32_t s = 0; s < d->nshards; s++)
            if (d->states[s][GBPD_ST_NRUNS] > d->cap_runs) /* runs <= the run cap, a uint32_t */
                d->cap_runs = (uint32_t)(2 * d->states[s][GBPD_ST_NRUNS] <= UINT32_MAX
                                             ? 2 * d->states[s][GBPD_ST_NRUNS]
                                             : d->states[s][GBPD_ST_NRUNS]);
    }
}

/* Move the host states to entry i: layout, buffers, the image into both,
 * the states into b[0]; the host states become the checkpoint. */
static gb_status upload(gb_device_matcher *dm, uint32_t i)
{
    gb_status st = gb_broker_fault_check(dm->broker, i, GB_OP_ALLOC);
    fit_runs(dm);
    for (uint32_t p = 0; st == GB_OK && p < dm->set->npatterns; p++)
        for (uint32_t s = 0; st == GB_OK && s < dm->pats[p].nshards; s++)
            st = relayout(dm, p, s);
    if (st != GB_OK || (st = layout(dm)) != GB_OK)
        return st;
    dm->ev_cap = dm->ev_cap ? dm->ev_cap : 1024;
    gbi_buf_range *rg = calloc(dm->rnu, sizeof *rg);
    if (!rg || (st = ensure_bufs(dm, i)) != GB_OK) {
        free(rg);
        return rg ? st : GB_ENOMEM;
    }
    for (uint32_t j = 0; j < dm->rnu; j++) {
        const dpat *d = &dm->pats[dm->ru[j].pat];
        uint64_t *h = d->states[dm->ru[j].shard];
        rg[j] = (gbi_buf_range){dm->roff[2 * (size_t)j] * 8,
                                stored_words(&dm->set->patterns[dm->ru[j].pat], h, d->cap_ids) * 8, h};
        memcpy(dm->sum + (size_t)j * GBPD_SUM_WORDS + GBPD_SUM_ST, h, GBPD_ST_WORDS * sizeof *h);
    }
    gbi_buf_range img = {0, dm->img_words * 8, dm->img};
    for (int k = 0; st == GB_OK && k < 2; k++)
        st = dm->be[i]->buf_write(dm->inst[i], dm->rd[i].b[k], &img, 1);
    if (st == GB_OK)
        st = dm->be[i]->buf_write(dm->inst[i], dm->rd[i].b[0], rg, dm->rnu);
    free(rg);
    if (st != GB_OK) {
        resident_drop(dm);
        return st;
    }
    dm->home = i;
    dm->parity = 0;
    log_clear(dm);
    return GB_OK;
}

/* Read the current state from its device into the host states (a new
 * checkpoint; the log is cleared). On failure the host states are as
 * they were. */
static gb_status read_states(gb_device_matcher *dm)
{
    uint32_t i = (uint32_t)dm->home, nu = dm->rnu;
    gb_status st = gb_broker_fault_check(dm->broker, i, GB_OP_ALLOC);
    uint64_t **fresh = calloc(nu, sizeof *fresh);
    gbi_buf_range *rg = calloc(nu, sizeof *rg);
    if (st == GB_OK && (!fresh || !rg))
        st = GB_ENOMEM;
    for (uint32_t j = 0; st == GB_OK && j < nu; j++) {
        const gbp_pattern *p = &dm->set->patterns[dm->ru[j].pat];
        const dpat *d = &dm->pats[dm->ru[j].pat];
        uint64_t nruns = dm->sum[(size_t)j * GBPD_SUM_WORDS + GBPD_SUM_ST + GBPD_ST_NRUNS];
        uint64_t words = runs_words(p, nruns, d->cap_ids);
        if (!(fresh[j] = malloc(words * sizeof **fresh)))
            st = GB_ENOMEM;
        else
            rg[j] = (gbi_buf_range){dm->roff[2 * (size_t)j] * 8, words * 8, fresh[j]};
    }
    if (st == GB_OK)
        st = dm->be[i]->buf_read(dm->inst[i], dm->rd[i].b[dm->parity], rg, nu);
    for (uint32_t j = 0; st == GB_OK && j < nu; j++) {
        dpat *d = &dm->pats[dm->ru[j].pat];
        free(d->states[dm->ru[j].shard]);
        d->states[dm->ru[j].shard] = fresh[j];
        d->st_cap_ids[dm->ru[j].shard] = d->cap_ids;
        fresh[j] = NULL;
    }
    for (uint32_t j = 0; fresh && j < nu; j++)
        free(fresh[j]);
    free(fresh), free(rg);
    if (st == GB_OK)
        log_clear(dm);
    return st;
}

static gb_status host_batch(gb_device_matcher *dm, const gb_event *ev, size_t n, int op, int64_t ts);

/* Rebuild the state on the host from the checkpoint by running the logged
 * batches again there, delivering nothing (their matches were delivered).
 * The batches replayed leave the log even on failure, so the host states
 * stay "checkpoint + log". */
static gb_status replay(gb_device_matcher *dm)
{
    gb_match_fn on_match = dm->o.on_match;
    uint64_t evno = dm->evno, overflows = dm->overflows;
    int64_t home = dm->home;
    size_t k = 0, at = 0;
    gb_status st = GB_OK;
    gb_clear_error();
    dm->o.on_match = NULL;
    dm->home = HOME_HOST;
    dm->evno = dm->ck_evno;
    for (; st == GB_OK && k < dm->log_recs; k++) {
        const logrec *r = &dm->log[k];
        if ((st = host_batch(dm, dm->log_ev + at, r->n, r->op, r->ts)) != GB_OK)
            break;
        at += r->n;
        dm->evno += r->n;
    }
    dm->ck_evno = dm->evno;
    memmove(dm->log, dm->log + k, (dm->log_recs - k) * sizeof *dm->log);
    memmove(dm->log_ev, dm->log_ev + at, (dm->log_n - at) * sizeof *dm->log_ev);
    dm->log_recs -= k, dm->log_n -= at;
    dm->o.on_match = on_match;
    dm->evno = evno;
    dm->overflows = overflows;
    dm->home = st == GB_OK ? HOME_HOST : home;
    return st;
}

/* Bring the state to the host: read it from its device, or, where that
 * fails, rebuild it from the checkpoint (replay). */
static gb_status sync_down(gb_device_matcher *dm)
{
    if (dm->home == HOME_HOST)
        return GB_OK;
    gb_status st = read_states(dm);
    if (st != GB_OK && st != GB_ENOMEM)
        st = replay(dm);
    if (st == GB_OK)
        resident_drop(dm);
    return st;
}

/* Append a committed batch to the log; first, once the log holds
 * checkpoint_events, take a checkpoint of the state before the batch (a
 * failed read only keeps the log longer). */
static gb_status log_batch(gb_device_matcher *dm, const gb_event *ev, size_t n, int op, int64_t ts)
{
    if (dm->log_n + n > dm->o.checkpoint_events && dm->log_recs && read_states(dm) != GB_OK)
        gb_clear_error();
    if (dm->log_n + n > dm->log_cap) {
        size_t cap = dm->log_n + n > 2 * dm->log_cap ? dm->log_n + n : 2 * dm->log_cap;
        gb_event *e = realloc(dm->log_ev, cap * sizeof *e);
        if (!e)
            return GB_ENOMEM;
        dm->log_ev = e, dm->log_cap = cap;
    }
    if (dm->log_recs == dm->log_rcap) {
        size_t cap = dm->log_rcap ? 2 * dm->log_rcap : 64;
        logrec *l = realloc(dm->log, cap * sizeof *l);
        if (!l)
            return GB_ENOMEM;
        dm->log = l, dm->log_rcap = cap;
    }
    if (n)
        memcpy(dm->log_ev + dm->log_n, ev, n * sizeof *ev);
    dm->log_n += n;
    dm->log[dm->log_recs++] = (logrec){n, op, ts};
    return GB_OK;
}

/* ---- one resident launch on a broker entry --------------------------------------------- */

#define SKIP 1       /* this entry cannot run it; not its fault */
#define OVERFLOWED 2 /* it ran, and a unit needs more room: rerun on the host */

static gb_status instance(gb_device_matcher *dm, uint32_t i, const gbi_backend_ops *be, int native)
{
    if (dm->inst[i])
        return GB_OK;
    void *self = NULL;
    gb_status st = gb_broker_fault_check(dm->broker, i, GB_OP_OPEN);
    if (st != GB_OK || (st = be->open(&self)) != GB_OK)
        return st;
    st = native ? GB_OK : gb_broker_fault_check(dm->broker, i, GB_OP_COMPILE);
    if (st == GB_OK && !native)
        st = be->compile(self, gb_embed_pattern_match, NULL);
    if (st != GB_OK) {
        be->ring->destroy(self);
        return st;
    }
    dm->inst[i] = self;
    dm->be[i] = be;
    return GB_OK;
}

/* Write the header and the batch's events into the buffer holding the
 * state (more room for events: the state moves through the host). */
static gb_status put_events(gb_device_matcher *dm, uint32_t i, const gb_event *ev, size_t n, int op,
                            int64_t ts)
{
    gb_status st = GB_OK;
    if (n > dm->ev_cap) {
        dm->ev_cap = n > 2 * dm->ev_cap ? n : 2 * dm->ev_cap;
        if ((st = sync_down(dm)) != GB_OK || (st = upload(dm, i)) != GB_OK)
            return st;
    }
    uint64_t h[GBPD_HD_WORDS] = {0};
    launch l = {.npat = dm->rnu};
    put_header(h, &l, n, op, ts, dm->evno, dm, GBPD_HD_WORDS + (size_t)dm->rnu * GBPD_PD_WORDS, dm->off_ev);
    gbi_buf_range rg[2] = {{0, sizeof h, h}, {dm->off_ev * 8, n * sizeof *ev, (void *)ev}};
    return dm->be[i]->buf_write(dm->inst[i], dm->rd[i].b[dm->parity], rg, 2);
}

/* Read the records of the units that have matches into dm->mbuf, each
 * after its match area's header; dm->ma[j] points at unit j's. */
static gb_status read_matches(gb_device_matcher *dm, uint32_t i)
{
    size_t need = 0, at = 0;
    uint32_t k = 0;
    for (uint32_t j = 0; j < dm->rnu; j++)
        need += GBPD_MA_WORDS + dm->sum_new[(size_t)j * GBPD_SUM_WORDS + GBPD_MA_USED];
    if (need > dm->mbuf_cap) {
        uint64_t *m = realloc(dm->mbuf, need * sizeof *m);
        if (!m)
            return GB_ENOMEM;
        dm->mbuf = m, dm->mbuf_cap = need;
    }
    gbi_buf_range *rg = calloc(dm->rnu, sizeof *rg);
    uint64_t **ma = realloc(dm->ma, (dm->rnu ? dm->rnu : 1) * sizeof *ma);
    if (ma)
        dm->ma = ma;
    if (!rg || !ma) {
        free(rg);
        return GB_ENOMEM;
    }
    for (uint32_t j = 0; j < dm->rnu; j++) {
        const uint64_t *s = dm->sum_new + (size_t)j * GBPD_SUM_WORDS;
        ma[j] = dm->mbuf + at;
        memcpy(ma[j], s, GBPD_MA_WORDS * sizeof *s);
        if (s[GBPD_MA_USED])
            rg[k++] = (gbi_buf_range){(dm->roff[2 * (size_t)j + 1] + GBPD_MA_WORDS) * 8, s[GBPD_MA_USED] * 8,
                                      ma[j] + GBPD_MA_WORDS};
        at += GBPD_MA_WORDS + s[GBPD_MA_USED];
    }
    gb_status st = k ? dm->be[i]->buf_read(dm->inst[i], dm->rd[i].b[1 - dm->parity], rg, k) : GB_OK;
    free(rg);
    return st;
}

/* The batch on entry i with the state resident there (moved there first
 * if it is elsewhere); GB_OK: dm->sum_new and dm->ma hold its output. */
static int run_resident(gb_device_matcher *dm, uint32_t i, const gb_event *ev, size_t n, int op, int64_t ts,
                        int *native)
{
    gb_broker_device dev;
    if (gb_broker_get(dm->broker, i, &dev) != GB_OK)
        return SKIP;
    const gbi_backend_ops *be = gbi_backend_find(dev.info.backend);
    *native = strcmp(dev.info.backend, "cpu") == 0;
    if (!be || !be->buf_launch)
        return SKIP;
    gb_status st = gb_broker_fault_check(dm->broker, i, GB_OP_LAUNCH);
    if (st != GB_OK || (st = instance(dm, i, be, *native)) != GB_OK)
        return st;
    snprintf(dm->backend, sizeof dm->backend, "%s", dev.info.backend);
    if (dm->home != (int64_t)i && n > dm->ev_cap)
        dm->ev_cap = n;
    if (dm->home != (int64_t)i && ((st = sync_down(dm)) != GB_OK || (st = upload(dm, i)) != GB_OK))
        return st;
    if ((st = put_events(dm, i, ev, n, op, ts)) != GB_OK)
        return st;
    gbi_buf *in = dm->rd[i].b[dm->parity], *out = dm->rd[i].b[1 - dm->parity];
    if ((st = be->buf_launch(dm->inst[i], GBPD_ENTRY, gbp_match_kernel, in, out, dm->rnu)) != GB_OK)
        return st;
    gbi_buf_range sr = {dm->off_sum * 8, (size_t)dm->rnu * GBPD_SUM_WORDS * 8, dm->sum_new};
    if ((st = be->buf_read(dm->inst[i], out, &sr, 1)) != GB_OK)
        return st;
    for (uint32_t j = 0; j < dm->rnu; j++)
        if (dm->sum_new[(size_t)j * GBPD_SUM_WORDS + GBPD_MA_FLAGS])
            return OVERFLOWED;
    return read_matches(dm, i);
}

/* The launch's output becomes the state: log it, flip the buffers, deliver. */
static gb_status commit_resident(gb_device_matcher *dm, const gb_event *ev, size_t n, int op, int64_t ts)
{
    gb_status st = log_batch(dm, ev, n, op, ts);
    if (st != GB_OK)
        return st;
    uint64_t *t = dm->sum;
    dm->sum = dm->sum_new, dm->sum_new = t;
    dm->parity ^= 1u;
    return deliver(dm, dm->ru, dm->rnu, dm->ma);
}

/* What a launch that overflowed leaves to keep: the units that did not
 * overflow, their new states and match areas read from the output buffer
 * (own[j], dm->ma[j]), and each unit's overflow flags. */
typedef struct partial {
    unit *u;
    uint32_t nu;
    uint64_t *flags, *caps;
    uint64_t **own;
} partial;

static void partial_free(partial *pt)
{
    for (uint32_t j = 0; pt->own && j < pt->nu; j++)
        free(pt->own[j]);
    free(pt->u), free(pt->flags), free(pt->caps), free(pt->own);
}

/* Read from entry i's output buffer the matches of every unit and the new
 * states of the units that did not overflow (their layout's ids capacity
 * in caps). Nothing of the matcher's state changes. */
static gb_status keep_good_units(gb_device_matcher *dm, uint32_t i, partial *pt)
{
    uint32_t nu = pt->nu = dm->rnu, k = 0;
    pt->u = malloc(nu * sizeof *pt->u);
    pt->flags = calloc(nu, sizeof *pt->flags);
    pt->caps = calloc(nu, sizeof *pt->caps);
    pt->own = calloc(nu, sizeof *pt->own);
    gbi_buf_range *rg = calloc(nu, sizeof *rg);
    gb_status st = pt->u && pt->flags && pt->caps && pt->own && rg ? read_matches(dm, i) : GB_ENOMEM;
    for (uint32_t j = 0; st == GB_OK && j < nu; j++) {
        const uint64_t *sum = dm->sum_new + (size_t)j * GBPD_SUM_WORDS;
        const gbp_pattern *p = &dm->set->patterns[dm->ru[j].pat];
        pt->u[j] = dm->ru[j];
        pt->flags[j] = sum[GBPD_MA_FLAGS];
        pt->caps[j] = dm->pats[dm->ru[j].pat].cap_ids;
        if (pt->flags[j])
            continue;
        uint64_t words = runs_words(p, sum[GBPD_SUM_ST + GBPD_ST_NRUNS], pt->caps[j]);
        if (!(pt->own[j] = malloc(words * sizeof *pt->own[j])))
            st = GB_ENOMEM;
        else
            rg[k++] = (gbi_buf_range){dm->roff[2 * (size_t)j] * 8, words * 8, pt->own[j]};
    }
    if (st == GB_OK && k)
        st = dm->be[i]->buf_read(dm->inst[i], dm->rd[i].b[1 - dm->parity], rg, k);
    free(rg);
    return st;
}

/* The batch's outcome from the kept units and, for the others, a rerun on
 * the host (from the state before the batch, now on the host) with more
 * room: commit, deliver. */
static gb_status finish_partial(gb_device_matcher *dm, partial *pt, const gb_event *ev, size_t n, int op,
                                int64_t ts)
{
    uint64_t **st = calloc(2 * (size_t)pt->nu, sizeof *st);
    if (!st)
        return GB_ENOMEM;
    for (uint32_t j = 0; j < pt->nu; j++) {
        st[j] = pt->own[j];
        st[pt->nu + j] = dm->ma[j];
    }
    gb_status s = settle(dm, pt->u, pt->nu, pt->flags, st, pt->caps, ev, n, op, ts);
    free(st);
    return s;
}

/* A unit overflowed its capacities: the state before the batch is intact
 * on the device (the input buffer), and the units that did not overflow
 * have their new state and matches in the output buffer. Keep those, bring
 * the state before the batch to the host and rerun only the units that
 * overflowed there, with more room; the next batch moves the state back
 * with the larger capacities. When the output cannot be read, the whole
 * batch runs on the host instead. */
static gb_status rerun_on_host(gb_device_matcher *dm, const gb_event *ev, size_t n, int op, int64_t ts)
{
    partial pt = {0};
    int kept = keep_good_units(dm, (uint32_t)dm->home, &pt) == GB_OK;
    gb_status st = sync_down(dm);
    if (st == GB_OK)
        st = kept ? finish_partial(dm, &pt, ev, n, op, ts) : host_batch(dm, ev, n, op, ts);
    partial_free(&pt);
    return st;
}

static gb_status run_chain(gb_device_matcher *dm, const gb_event *ev, size_t n, int op, int64_t ts)
{
    char last[512] = "";
    uint32_t i = 0;
    for (uint32_t from = 0; gb_broker_acquire(dm->broker, from, &i) == GB_OK; from = i + 1) {
        int native = 0;
        int st = run_resident(dm, i, ev, n, op, ts, &native);
        if (st == GB_OK || st == OVERFLOWED) {
            gb_broker_report(dm->broker, i, GB_OK, NULL);
            dm->batches++;
            dm->device_batches += !native;
            return st == GB_OK ? commit_resident(dm, ev, n, op, ts) : rerun_on_host(dm, ev, n, op, ts);
        }
        if (st == GB_EPARSE || st == SKIP) {
            gb_broker_release(dm->broker, i);
            if (st == GB_EPARSE)
                return GB_EPARSE;
            dm->fallbacks++;
            continue;
        }
        snprintf(last, sizeof last, "%s", gb_last_error());
        gb_broker_report(dm->broker, i, st, last);
        dm->fallbacks++;
    }
    return gbi_error(GB_EDEVICE, "device_matcher", "no device could run the batch (last failure: %s; %s)",
                     last[0] ? last : "none", gb_last_error());
}

/* ---- one batch ------------------------------------------------------------------------ */

/* The batch on the host with the host states (the kernel's native build):
 * reruns after an overflow, replay. */
static gb_status host_batch(gb_device_matcher *dm, const gb_event *ev, size_t n, int op, int64_t ts)
{
    gb_status s = reshard(dm, n);
    uint32_t nu = 0;
    unit *u = s == GB_OK ? units_of(dm, &nu) : NULL;
    if (s == GB_OK)
        s = u ? launch_all(dm, u, nu, ev, n, op, ts) : GB_ENOMEM;
    free(u);
    return s;
}

static gb_status batch(gb_device_matcher *dm, const gb_event *ev, size_t n, int op, int64_t ts)
{
    gb_clear_error();
    gb_status s = reshard(dm, n);
    if (s == GB_OK)
        s = run_chain(dm, ev, n, op, ts);
    if (s == GB_ENOMEM && !gb_last_error()[0]) /* a bare allocation failure; keep a detailed one */
        return gbi_error(s, "device_matcher", "out of memory");
    return s;
}

/* ---- public API ------------------------------------------------------------------- */

static gb_status make_broker(gb_device_matcher *dm)
{
    if (dm->o.broker) {
        dm->broker = dm->o.broker;
    } else {
        gb_broker_opts bo = {.chain = dm->o.chain};
        gb_status st = gb_broker_create(&dm->broker, &bo);
        if (st != GB_OK)
            return st;
        dm->own_broker = 1;
    }
    dm->nentries = gb_broker_count(dm->broker);
    dm->inst = calloc(dm->nentries ? dm->nentries : 1, sizeof *dm->inst);
    dm->be = calloc(dm->nentries ? dm->nentries : 1, sizeof *dm->be);
    dm->rd = calloc(dm->nentries ? dm->nentries : 1, sizeof *dm->rd);
    return dm->inst && dm->be && dm->rd ? GB_OK : gbi_error(GB_ENOMEM, "device_matcher_create", "out of memory");
}

static gb_status init_pats(gb_device_matcher *dm)
{
    dm->pats = calloc(dm->set->npatterns, sizeof *dm->pats);
    if (!dm->pats)
        return GB_ENOMEM;
    for (uint32_t i = 0; i < dm->set->npatterns; i++) {
        dpat *d = &dm->pats[i];
        d->cap_runs = dm->o.run_capacity;
        d->cap_ids = dm->o.id_capacity;
        d->match_cap = dm->o.match_capacity;
        d->st_cap_ids[0] = d->cap_ids;
        d->nshards = 1;
        d->shardable = dm->o.key_shards > 1 && shardable(&dm->set->patterns[i], &d->key_g);
        if (!(d->states[0] = calloc(GBPD_ST_WORDS, sizeof *d->states[0])))
            return GB_ENOMEM;
    }
    return build_static(dm);
}

gb_status gb_device_matcher_create(gb_device_matcher **out, const gb_pattern_set *set,
                                   const gb_device_matcher_opts *opts)
{
    if (!out || !set)
        return gbi_error(GB_EINVAL, "device_matcher_create", "NULL argument");
    if (set->npatterns == 0)
        return gbi_error(GB_EINVAL, "device_matcher_create", "the pattern set is empty");
    gb_device_matcher *dm = calloc(1, sizeof *dm);
    if (!dm)
        return gbi_error(GB_ENOMEM, "device_matcher_create", "out of memory");
    dm->set = set;
    if (opts)
        dm->o = *opts;
    dm->o.max_runs_per_pattern = dm->o.max_runs_per_pattern ? dm->o.max_runs_per_pattern
                                                              : GB_MATCHER_DEFAULT_MAX_RUNS;
    dm->o.run_capacity = dm->o.run_capacity ? dm->o.run_capacity : DEF_RUNS;
    dm->o.id_capacity = dm->o.id_capacity ? dm->o.id_capacity : DEF_IDS;
    dm->o.match_capacity = dm->o.match_capacity ? dm->o.match_capacity : DEF_MATCH_WORDS;
    dm->o.key_shards = dm->o.key_shards ? dm->o.key_shards : DEF_SHARDS;
    dm->o.checkpoint_events = dm->o.checkpoint_events ? dm->o.checkpoint_events : DEF_CHECKPOINT;
    dm->home = HOME_HOST;
    if (dm->o.key_shards > MAX_SHARDS) {
        free(dm);
        return gbi_error(GB_EINVAL, "device_matcher_create", "key_shards %u is above %u", opts->key_shards,
                         MAX_SHARDS);
    }
    gb_status st = make_broker(dm);
    if (st == GB_OK && init_pats(dm) != GB_OK)
        st = gbi_error(GB_ENOMEM, "device_matcher_create", "out of memory");
    if (st != GB_OK) {
        gb_device_matcher_destroy(dm);
        return st;
    }
    *out = dm;
    return GB_OK;
}

void gb_device_matcher_destroy(gb_device_matcher *dm)
{
    if (!dm)
        return;
    for (uint32_t i = 0; dm->inst && i < dm->nentries; i++) {
        if (!dm->inst[i])
            continue;
        dm->be[i]->buf_free(dm->inst[i], dm->rd[i].b[0]);
        dm->be[i]->buf_free(dm->inst[i], dm->rd[i].b[1]);
        dm->be[i]->ring->destroy(dm->inst[i]);
    }
    resident_drop(dm);
    free(dm->rd), free(dm->mbuf), free(dm->ma), free(dm->log_ev), free(dm->log);
    free(dm->hb[0]), free(dm->hb[1]);
    for (uint32_t i = 0; dm->pats && i < dm->set->npatterns; i++)
        for (uint32_t s = 0; s < dm->pats[i].nshards; s++)
            free(dm->pats[i].states[s]);
    if (dm->own_broker)
        gb_broker_destroy(dm->broker);
    free(dm->inst), free(dm->be), free(dm->pats), free(dm->stat);
    free(dm);
}

gb_status gb_device_matcher_push(gb_device_matcher *dm, const gb_event *events, size_t n)
{
    if (!dm || (!events && n))
        return gbi_error(GB_EINVAL, "device_matcher_push", "NULL argument");
    int64_t t = dm->now;
    for (size_t i = 0; i < n; i++) {
        if ((dm->has_now || i) && events[i].ts_ns < t) {
            dm->rejected += n;
            return gbi_error(GB_EORDER, "device_matcher_push", "event %zu of the batch: ts %lld is older than "
                             "%lld (the batch is refused)", i, (long long)events[i].ts_ns, (long long)t);
        }
        t = events[i].ts_ns;
    }
    gb_status st = batch(dm, events, n, GBPD_OP_NONE, 0);
    if (st != GB_OK)
        return st;
    dm->evno += n;
    dm->events += n;
    if (n) {
        dm->now = t;
        dm->has_now = 1;
    }
    return GB_OK;
}

gb_status gb_device_matcher_advance(gb_device_matcher *dm, int64_t ts)
{
    if (!dm)
        return gbi_error(GB_EINVAL, "device_matcher_advance", "NULL argument");
    if (dm->has_now && ts < dm->now)
        return gbi_error(GB_EORDER, "device_matcher_advance", "time %lld is older than %lld", (long long)ts,
                         (long long)dm->now);
    gb_status st = batch(dm, NULL, 0, GBPD_OP_ADVANCE, ts);
    if (st == GB_OK) {
        dm->now = ts;
        dm->has_now = 1;
    }
    return st;
}

gb_status gb_device_matcher_flush(gb_device_matcher *dm)
{
    if (!dm)
        return gbi_error(GB_EINVAL, "device_matcher_flush", "NULL argument");
    return batch(dm, NULL, 0, GBPD_OP_FLUSH, dm->now);
}

static void add_counters(gb_matcher_stats *m, const uint64_t *s)
{
    m->matches += s[GBPD_ST_MATCHES];
    m->runs_started += s[GBPD_ST_STARTED];
    m->runs_open += s[GBPD_ST_OPEN];
    m->runs_killed += s[GBPD_ST_KILLED];
    m->runs_expired += s[GBPD_ST_EXPIRED];
    m->runs_skipped += s[GBPD_ST_SKIPPED];
    m->runs_capped += s[GBPD_ST_CAPPED];
}

gb_status gb_device_matcher_stats_get(const gb_device_matcher *dm, uint32_t pattern, gb_device_matcher_stats *out)
{
    if (!dm || !out || (pattern != UINT32_MAX && pattern >= dm->set->npatterns))
        return gbi_error(GB_EINVAL, "device_matcher_stats", "NULL argument or pattern out of range");
    memset(out, 0, sizeof *out);
    for (uint32_t i = 0; i < dm->set->npatterns; i++) {
        const dpat *d = &dm->pats[i];
        for (uint32_t s = 0; (pattern == UINT32_MAX || i == pattern) && s < d->nshards; s++)
            add_counters(&out->m, counters(dm, i, s));
        out->sharded_patterns += d->nshards > 1;
        out->work_items += d->nshards;
        out->run_capacity = d->cap_runs > out->run_capacity ? d->cap_runs : out->run_capacity;
        out->id_capacity = d->cap_ids > out->id_capacity ? d->cap_ids : out->id_capacity;
        out->match_capacity = d->match_cap > out->match_capacity ? d->match_cap : out->match_capacity;
    }
    out->m.events = dm->events;
    out->m.rejected = dm->rejected;
    out->batches = dm->batches;
    out->device_batches = dm->device_batches;
    out->fallbacks = dm->fallbacks;
    out->overflows = dm->overflows;
    snprintf(out->backend, sizeof out->backend, "%s", dm->backend);
    return GB_OK;
}
