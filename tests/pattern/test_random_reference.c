/* Property test: the streaming matcher agrees with a brute-force reference
 * of the spec's Semantics (written here, separately and plainly: runs kept
 * in one flat list, never recycled) on small random patterns and streams.
 * The seed is printed; set GB_SEED to replay one. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <time.h>

#include "pattern_test_util.h"

#define MAXS 4   /* positive steps */
#define MAXE 40  /* events per stream */
#define MAXR 4096
#define NTYPES 4
static const char *const tnames[NTYPES] = {"t", "u", "v", "x"};

typedef struct rpred {
    int kind; /* 0 none, 1 value > k, 2 source == a.source, 3 value > k and source == a.source,
                 4 source == prev.target, 5 source == a.source or value > k */
    int k;
    int prev; /* the variable kind 4 names */
} rpred;

typedef struct rstep {
    int type, nmin, nmax; /* nmax 0 = unbounded */
    rpred where;
    int has_neg, neg_type; /* negation after this step */
    rpred neg;
} rstep;

typedef struct rpat {
    int nsteps, within, past_last;
    rstep s[MAXS];
} rpat;

typedef struct rrun {
    int alive, pat, first, last, step, nb;
    int counts[MAXS];
    int ev[MAXE], var[MAXE];
} rrun;

static uint64_t rng;
static int rnd(int n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (int)(rng % (uint64_t)n);
}

static void pred_text(char *buf, size_t cap, const rpred *p)
{
    char prev[8];
    snprintf(prev, sizeof prev, p->prev ? "s%d" : "a", p->prev);
    switch (p->kind) {
    case 1: snprintf(buf, cap, " where value > %d", p->k); break;
    case 2: snprintf(buf, cap, " where source == a.source"); break;
    case 3: snprintf(buf, cap, " where value > %d and a.source == source", p->k); break;
    case 4: snprintf(buf, cap, " where source == %s.target", prev); break;
    case 5: snprintf(buf, cap, " where source == a.source or value > %d", p->k); break;
    default: buf[0] = '\0'; break;
    }
}

/* A predicate for a step or negation that may name earlier variables
 * (prev >= 0) or not (prev < 0: the first step); keyed: only kinds that give
 * the matcher a partition key. */
static rpred random_pred(int prev, int keyed)
{
    rpred p = {keyed ? 2 + rnd(3) : rnd(6), rnd(10), prev < 0 ? 0 : prev};
    if (prev < 0 && p.kind >= 2)
        p.kind = 1;
    return p;
}

static void random_pattern(rpat *p, tbuf *src, int idx)
{
    p->nsteps = 1 + rnd(MAXS);
    p->within = 1 + rnd(12);
    p->past_last = rnd(3) == 0;
    int keyed = rnd(2);
    char line[256], w[64];
    snprintf(line, sizeof line, "pattern p%d within %dns%s\n", idx, p->within, p->past_last ? " skip past_last" : "");
    tbuf_put(src, line);
    for (int i = 0; i < p->nsteps; i++) {
        rstep *s = &p->s[i];
        s->type = rnd(NTYPES);
        int q = rnd(5);
        s->nmin = q < 2 ? 1 : 1 + rnd(3);
        s->nmax = q < 2 ? 1 : q == 2 ? s->nmin : q == 3 ? s->nmin + rnd(3) : 0;
        s->where = random_pred(i - 1, keyed);
        pred_text(w, sizeof w, &s->where);
        char quant[32] = "";
        if (q == 2)
            snprintf(quant, sizeof quant, " {%d}", s->nmin);
        else if (q == 3)
            snprintf(quant, sizeof quant, " {%d,%d}", s->nmin, s->nmax);
        else if (q == 4)
            snprintf(quant, sizeof quant, s->nmin == 1 && rnd(2) ? " +" : " {%d,}", s->nmin);
        char var[8];
        snprintf(var, sizeof var, i ? "s%d" : "a", i);
        snprintf(line, sizeof line, "  %s: %s%s%s\n", var, tnames[s->type], quant, w);
        tbuf_put(src, line);
        s->has_neg = rnd(4) == 0;
        if (s->has_neg) {
            s->neg_type = rnd(NTYPES);
            s->neg = random_pred(i, keyed);
            pred_text(w, sizeof w, &s->neg);
            snprintf(line, sizeof line, "  not %s%s\n", tnames[s->neg_type], w);
            tbuf_put(src, line);
        }
    }
    tbuf_put(src, "end\n");
}

/* ---- the reference ----------------------------------------------------------- */

typedef struct ref {
    const rpat *pats;
    int npats;
    const tev *ev;
    rrun runs[MAXR];
    int nruns;
    int last_match_ev[4];
    tbuf out;
} ref;

static int type_of(const char *name)
{
    for (int i = 0; i < NTYPES; i++)
        if (strcmp(tnames[i], name) == 0)
            return i;
    return -1;
}

/* The last event bound to var v (what v.field reads). */
static const tev *last_of(const ref *R, const rrun *r, int v)
{
    int last = -1;
    for (int k = 0; k < r->nb; k++)
        if (r->var[k] == v)
            last = r->ev[k];
    cr_assert_geq(last, 0);
    return &R->ev[last];
}

static int pred_ok(const ref *R, const rrun *r, const rpred *p, const tev *e)
{
    switch (p->kind) {
    case 1: return e->value > p->k;
    case 2: return e->source == last_of(R, r, 0)->source;
    case 3: return e->value > p->k && e->source == last_of(R, r, 0)->source;
    case 4: return e->source == last_of(R, r, p->prev)->target;
    case 5: return e->source == last_of(R, r, 0)->source || e->value > p->k;
    default: return 1;
    }
}

static int step_ok(const ref *R, const rrun *r, int i, const tev *e)
{
    const rstep *s = &R->pats[r->pat].s[i];
    return type_of(e->type) == s->type && pred_ok(R, r, &s->where, e);
}

static int neg_ok(const ref *R, const rrun *r, int after, const tev *e)
{
    const rstep *s = &R->pats[r->pat].s[after];
    return s->has_neg && type_of(e->type) == s->neg_type && pred_ok(R, r, &s->neg, e);
}

static int full(const rstep *s, int c)
{
    return s->nmax && c == s->nmax;
}

static int emits_at_close(const rpat *p)
{
    return p->s[p->nsteps - 1].nmax == 0 || p->s[p->nsteps - 1].has_neg;
}

static void emit(ref *R, rrun *r, int64_t ts)
{
    const rpat *p = &R->pats[r->pat];
    char buf[64];
    snprintf(buf, sizeof buf, "p%d@%lld", r->pat, (long long)ts);
    tbuf_put(&R->out, buf);
    for (int v = 0; v < p->nsteps; v++) {
        snprintf(buf, sizeof buf, v ? " s%d=" : " a=", v);
        tbuf_put(&R->out, buf);
        int first = 1;
        for (int k = 0; k < r->nb; k++)
            if (r->var[k] == v) {
                snprintf(buf, sizeof buf, first ? "%llu" : ",%llu", (unsigned long long)R->ev[r->ev[k]].id);
                tbuf_put(&R->out, buf);
                first = 0;
            }
    }
    tbuf_put(&R->out, "\n");
    r->alive = 0;
    if (!p->past_last)
        return;
    R->last_match_ev[r->pat] = r->last;
    for (int k = 0; k < R->nruns; k++)
        if (R->runs[k].alive && R->runs[k].pat == r->pat && R->runs[k].first <= r->last)
            R->runs[k].alive = 0;
}

static void bind(ref *R, rrun *r, int v, int i)
{
    const rpat *p = &R->pats[r->pat];
    r->ev[r->nb] = i;
    r->var[r->nb++] = v;
    r->counts[v]++;
    r->last = i;
    r->step = full(&p->s[v], r->counts[v]) ? v + 1 : v;
    if (r->step == p->nsteps && !emits_at_close(p))
        emit(R, r, R->ev[i].ts);
}

static int complete(const ref *R, const rrun *r)
{
    const rpat *p = &R->pats[r->pat];
    int k = p->nsteps;
    return r->step == k || (r->step == k - 1 && r->counts[k - 1] >= p->s[k - 1].nmin);
}

static void offer(ref *R, rrun *r, int i)
{
    const rpat *p = &R->pats[r->pat];
    const tev *e = &R->ev[i];
    int s = r->step, k = p->nsteps;
    if (s < k) {
        int c = r->counts[s];
        if (c >= p->s[s].nmin && s + 1 < k && step_ok(R, r, s + 1, e))
            return bind(R, r, s + 1, i);
        if (step_ok(R, r, s, e))
            return bind(R, r, s, i);
        if ((c == 0 && s > 0 && neg_ok(R, r, s - 1, e)) || (c >= p->s[s].nmin && neg_ok(R, r, s, e)))
            r->alive = 0;
    } else if (neg_ok(R, r, k - 1, e)) {
        r->alive = 0;
    }
}

static void ref_event(ref *R, int i)
{
    const tev *e = &R->ev[i];
    for (int pi = 0; pi < R->npats; pi++) {
        const rpat *p = &R->pats[pi];
        for (int k = 0; k < R->nruns; k++) {
            rrun *r = &R->runs[k];
            if (r->alive && r->pat == pi && e->ts - R->ev[r->first].ts > p->within) {
                if (complete(R, r))
                    emit(R, r, e->ts);
                r->alive = 0;
            }
        }
        int n = R->nruns;
        for (int k = 0; k < n; k++)
            if (R->runs[k].alive && R->runs[k].pat == pi)
                offer(R, &R->runs[k], i);
        if (p->past_last && R->last_match_ev[pi] == i)
            continue;
        rrun fresh = {.alive = 1, .pat = pi, .first = i};
        if (step_ok(R, &(rrun){.pat = pi, .ev = {i}}, 0, e)) {
            cr_assert_lt(R->nruns, MAXR);
            R->runs[R->nruns] = fresh;
            bind(R, &R->runs[R->nruns++], 0, i);
        }
    }
}

static char *reference(const rpat *pats, int npats, const tev *ev, int n)
{
    static ref R;
    memset(&R, 0, sizeof R);
    R.pats = pats;
    R.npats = npats;
    R.ev = ev;
    for (int p = 0; p < 4; p++)
        R.last_match_ev[p] = -1;
    tbuf_put(&R.out, "");
    for (int i = 0; i < n; i++)
        ref_event(&R, i);
    for (int k = 0; k < R.nruns; k++) /* flush: creation order */
        if (R.runs[k].alive) {
            if (complete(&R, &R.runs[k]))
                emit(&R, &R.runs[k], ev[n - 1].ts);
            R.runs[k].alive = 0;
        }
    return R.out.s;
}

Test(random_reference, matcher_agrees_with_brute_force_reference)
{
    uint64_t seed = getenv("GB_SEED") ? strtoull(getenv("GB_SEED"), NULL, 10) : (uint64_t)time(NULL);
    printf("random_reference seed %llu (GB_SEED=%llu to replay)\n", (unsigned long long)seed,
           (unsigned long long)seed);
    fflush(stdout);
    for (int round = 0; round < 2000; round++) {
        rng = seed * 2654435761u + (uint64_t)round * 0x9E3779B97F4A7C15ull + 1;
        rpat pats[3];
        int npats = 1 + rnd(3);
        tbuf src = {0};
        tbuf_put(&src, "");
        for (int p = 0; p < npats; p++)
            random_pattern(&pats[p], &src, p);
        tev ev[MAXE];
        int n = 5 + rnd(MAXE - 5);
        int64_t ts = 0;
        for (int i = 0; i < n; i++) {
            ts += rnd(4);
            ev[i] = (tev){(uint64_t)i + 1, tnames[rnd(NTYPES)], ts, (uint64_t)rnd(3), (uint64_t)rnd(3), rnd(10)};
        }
        char *want = reference(pats, npats, ev, n);
        char *got = run_stream(src.s, ev, (size_t)n, 1);
        cr_assert_str_eq(got, want, "seed %llu round %d\npatterns:\n%s\nmatcher:\n%s\nreference:\n%s",
                         (unsigned long long)seed, round, src.s, got, want);
        free(want);
        free(got);
        free(src.s);
    }
}
