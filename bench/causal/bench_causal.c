/*
 * Causal analysis benchmark: recording events, happened-before queries,
 * full verification, and deadlock detection.
 *
 * History: P processes (default 16) exchanging messages, N events (default
 * 20,000): 30% local, 35% sends to a random process, 35% deliveries (per
 * destination FIFO in send order, which respects causality). Baselines are
 * the obvious simple approaches: recording into a plain array without a
 * lock; happened-before by breadth-first search over program order and
 * message edges; deadlock detection by a depth-first search from every
 * actor (O(actors * calls)) instead of one Tarjan pass. Deadlock shapes:
 * sparse, 10,000 actors each waiting on at most one higher-numbered actor;
 * dense, 2,000 actors with 20,000 calls (reentrant actors); both with 10
 * planted rings of 5 actors.
 *
 *   build/bench/bench_causal_causal [events] [processes]
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpubridge/causal.h"
#include "gpubridge/time.h"

static uint64_t rng_state = 7;

static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

#define MAXP 64

typedef struct history {
    size_t n;
    gb_causal_event *ev;  /* ev[i].vc owned here */
    size_t *next_local;   /* next event of the same process, or SIZE_MAX */
    size_t *recv_of;      /* for a send: its receive, or SIZE_MAX */
} history;

typedef struct gen {
    history *h;
    uint32_t procs;
    gb_vclock *vc[MAXP];
    gb_hlc_t hlc[MAXP];
    size_t last[MAXP];
    size_t *queue[MAXP]; /* pending sends (event index) per destination */
    size_t qhead[MAXP], qtail[MAXP];
} gen;

static size_t push_event(gen *g, uint32_t p, gb_causal_kind kind, uint64_t msg)
{
    history *h = g->h;
    size_t i = h->n++;
    gb_vclock *vc;
    if (gb_vclock_create(&vc) != GB_OK || gb_vclock_copy(vc, g->vc[p]) != GB_OK)
        exit(1);
    h->ev[i] = (gb_causal_event){kind, p, 1000 + p, msg, ++g->hlc[p], 0, vc};
    h->next_local[i] = h->recv_of[i] = SIZE_MAX;
    if (g->last[p] != SIZE_MAX)
        h->next_local[g->last[p]] = i;
    g->last[p] = i;
    return i;
}

static void gen_step(gen *g)
{
    uint32_t p = (uint32_t)(rng() % g->procs);
    uint64_t r = rng() % 100;
    if (r >= 65) {
        uint32_t d = (uint32_t)(rng() % g->procs);
        if (g->qhead[d] == g->qtail[d])
            return;
        size_t s = g->queue[d][g->qhead[d]++];
        const gb_causal_event *send = &g->h->ev[s];
        gb_vclock_merge(g->vc[d], send->vc);
        gb_vclock_increment(g->vc[d], d);
        g->hlc[d] = (g->hlc[d] > send->hlc ? g->hlc[d] : send->hlc);
        g->h->recv_of[s] = push_event(g, d, GB_CAUSAL_RECV, send->msg_id);
        return;
    }
    gb_vclock_increment(g->vc[p], p);
    if (r < 30) {
        push_event(g, p, GB_CAUSAL_LOCAL, 0);
        return;
    }
    uint32_t d = (uint32_t)(rng() % g->procs);
    size_t s = push_event(g, p, GB_CAUSAL_SEND, g->h->n + 1);
    g->queue[d][g->qtail[d]++] = s;
}

static void generate(history *h, size_t n, uint32_t procs)
{
    h->ev = calloc(n, sizeof *h->ev);
    h->next_local = malloc(n * sizeof *h->next_local);
    h->recv_of = malloc(n * sizeof *h->recv_of);
    gen g = {.h = h, .procs = procs};
    for (uint32_t p = 0; p < procs; p++) {
        g.queue[p] = malloc(n * sizeof *g.queue[p]);
        g.last[p] = SIZE_MAX;
        g.hlc[p] = (gb_hlc_t)1 << 40;
        if (!g.queue[p] || gb_vclock_create(&g.vc[p]) != GB_OK)
            exit(1);
    }
    if (!h->ev || !h->next_local || !h->recv_of)
        exit(1);
    while (h->n < n)
        gen_step(&g);
    for (uint32_t p = 0; p < procs; p++) {
        free(g.queue[p]);
        gb_vclock_destroy(g.vc[p]);
    }
}

/* ---- baselines ------------------------------------------------------------------ */

/* Does a reach b along program order and message edges? */
static bool bfs_before(const history *h, size_t a, size_t b, size_t *queue, uint32_t *seen,
                       uint32_t stamp)
{
    size_t head = 0, tail = 0;
    queue[tail++] = a;
    seen[a] = stamp;
    while (head < tail) {
        size_t u = queue[head++];
        size_t next[2] = {h->next_local[u], h->recv_of[u]};
        for (int k = 0; k < 2; k++) {
            size_t v = next[k];
            if (v == SIZE_MAX || seen[v] == stamp)
                continue;
            if (v == b)
                return true;
            seen[v] = stamp;
            queue[tail++] = v;
        }
    }
    return false;
}

typedef struct call {
    uint64_t caller, callee;
} call;

/* Naive deadlock detection: from every actor, DFS to see whether it comes back. */
static size_t naive_deadlocked_actors(const call *c, size_t m, uint64_t actors, size_t *stack,
                                      uint8_t *seen)
{
    size_t *off = calloc(actors + 1, sizeof *off), *dst = malloc(m * sizeof *dst);
    for (size_t i = 0; i < m; i++)
        off[c[i].caller + 1]++;
    for (uint64_t v = 0; v < actors; v++)
        off[v + 1] += off[v];
    size_t *pos = malloc((actors + 1) * sizeof *pos);
    memcpy(pos, off, (actors + 1) * sizeof *pos);
    for (size_t i = 0; i < m; i++)
        dst[pos[c[i].caller]++] = c[i].callee;
    size_t on_cycle = 0;
    for (uint64_t s = 0; s < actors; s++) {
        memset(seen, 0, actors);
        size_t sp = 0;
        bool back = false;
        stack[sp++] = s;
        while (sp > 0 && !back) {
            size_t u = stack[--sp];
            for (size_t e = off[u]; e < off[u + 1] && !back; e++) {
                back = dst[e] == s;
                if (!seen[dst[e]]) {
                    seen[dst[e]] = 1;
                    stack[sp++] = dst[e];
                }
            }
        }
        on_cycle += back;
    }
    free(off);
    free(dst);
    free(pos);
    return on_cycle;
}

static int count_actors(const gb_deadlock *d, void *ctx)
{
    *(size_t *)ctx += d->n_actors;
    return 0;
}

static int count_violation(const gb_causal_violation *v, void *ctx)
{
    (void)v;
    ++*(size_t *)ctx;
    return 0;
}

static double now_us(void)
{
    return (double)gb_time_monotonic_ns() / 1e3;
}

static void row(const char *op, double ours, double base)
{
    if (base > 0)
        printf("%-26s %12.3f %14.3f %14.1fx\n", op, ours, base, base / ours);
    else
        printf("%-26s %12.3f %14s %15s\n", op, ours, "-", "-");
}

static void bench_record(const history *h, gb_causal_graph *g, double *ours, double *base)
{
    double t0 = now_us();
    for (size_t i = 0; i < h->n; i++)
        if (gb_causal_record(g, &h->ev[i], NULL) != GB_OK)
            exit(1);
    double t1 = now_us();
    typedef struct plain {
        gb_causal_event ev;
        gb_vclock *vc;
    } plain;
    plain *arr = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < h->n; i++) {
        if (i == cap) {
            cap = cap ? cap * 2 : 256;
            arr = realloc(arr, cap * sizeof *arr);
            if (!arr)
                exit(1);
        }
        arr[i].ev = h->ev[i];
        if (gb_vclock_create(&arr[i].vc) != GB_OK || gb_vclock_copy(arr[i].vc, h->ev[i].vc) != GB_OK)
            exit(1);
    }
    double t2 = now_us();
    for (size_t i = 0; i < h->n; i++)
        gb_vclock_destroy(arr[i].vc);
    free(arr);
    *ours = (t1 - t0) / (double)h->n;
    *base = (t2 - t1) / (double)h->n;
}

static void bench_hb(const history *h, gb_causal_graph *g, double *ours, double *base)
{
    enum { Q = 2000 };
    static size_t pair[Q][2];
    static bool answer[Q];
    for (int i = 0; i < Q; i++)
        pair[i][0] = rng() % h->n, pair[i][1] = rng() % h->n;
    double t0 = now_us();
    for (int i = 0; i < Q; i++)
        gb_causal_happened_before(g, pair[i][0] + 1, pair[i][1] + 1, &answer[i]);
    double t1 = now_us();
    size_t *queue = malloc(h->n * sizeof *queue);
    uint32_t *seen = calloc(h->n, sizeof *seen);
    size_t wrong = 0;
    for (int i = 0; i < Q; i++)
        wrong += bfs_before(h, pair[i][0], pair[i][1], queue, seen, (uint32_t)i + 1) != answer[i];
    double t2 = now_us();
    free(queue);
    free(seen);
    if (wrong)
        fprintf(stderr, "happened-before disagrees with BFS on %zu pairs\n", wrong), exit(1);
    *ours = (t1 - t0) / Q;
    *base = (t2 - t1) / Q;
}

/* m calls among `actors` actors: DAG calls (lower id waits on higher id;
 * out_degree_one: each actor waits on at most one call, as turn-based actors
 * do) plus 10 planted rings of 5 actors. */
static void bench_deadlock(uint64_t actors, size_t m, bool out_degree_one, double *ours,
                           double *base)
{
    call *c = malloc((m + 50) * sizeof *c);
    gb_waitfor *w;
    if (!c || gb_waitfor_create(&w) != GB_OK)
        exit(1);
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        uint64_t a = out_degree_one ? i % actors : rng() % actors, b = rng() % actors;
        if (a == b || (out_degree_one && a > b))
            continue;
        c[k++] = (call){a < b ? a : b, a < b ? b : a};
    }
    for (int r = 0; r < 10; r++) {
        uint64_t ring[5];
        for (int j = 0; j < 5; j++)
            ring[j] = rng() % actors;
        for (int j = 0; j < 5; j++)
            c[k++] = (call){ring[j], ring[(j + 1) % 5]};
    }
    for (size_t i = 0; i < k; i++)
        if (gb_waitfor_add(w, c[i].caller, c[i].callee, i + 1) != GB_OK)
            exit(1);
    size_t ours_n = 0;
    double t0 = now_us();
    gb_waitfor_deadlocks(w, count_actors, &ours_n, NULL);
    double t1 = now_us();
    size_t *stack = malloc(actors * sizeof *stack);
    uint8_t *seen = malloc(actors);
    size_t base_n = naive_deadlocked_actors(c, k, actors, stack, seen);
    double t2 = now_us();
    /* Tarjan counts every actor of a deadlocked component; the naive scan
     * counts actors that lie on a cycle: the same set. */
    if (ours_n != base_n)
        fprintf(stderr, "deadlocked actors: %zu vs %zu\n", ours_n, base_n), exit(1);
    printf("deadlocks: %llu actors, %zu pending calls%s, %zu actors deadlocked\n",
           (unsigned long long)actors, k, out_degree_one ? " (one per caller + rings)" : "",
           ours_n);
    free(stack);
    free(seen);
    free(c);
    gb_waitfor_destroy(w);
    *ours = t1 - t0;
    *base = t2 - t1;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 20000;
    uint32_t procs = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 16;
    if (n == 0 || procs == 0 || procs > MAXP)
        return fprintf(stderr, "usage: %s [events>0] [processes 1..%d]\n", argv[0], MAXP), 2;
    history h = {0};
    generate(&h, n, procs);
    gb_causal_graph *g;
    if (gb_causal_create(&g) != GB_OK)
        return 1;
    double rec, rec_base, hb, hb_base, dl, dl_base, dd, dd_base;
    bench_record(&h, g, &rec, &rec_base);
    bench_hb(&h, g, &hb, &hb_base);
    size_t found = 0;
    double verify = 1e300;
    gb_status st = GB_OK;
    for (int rep = 0; rep < 5 && st == GB_OK; rep++) { /* best of 5 */
        double t0 = now_us();
        st = gb_causal_each_violation(g, NULL, count_violation, &found, NULL);
        double t = now_us() - t0;
        verify = t < verify ? t : verify;
    }
    if (st != GB_OK || found != 0)
        return fprintf(stderr, "clean history reported %zu violations\n", found), 1;
    printf("causal history: %zu events, %u processes\n", n, procs);
    bench_deadlock(10000, 10000, true, &dl, &dl_base);
    bench_deadlock(2000, 20000, false, &dd, &dd_base);
    printf("%-26s %12s %14s %15s\n", "operation", "ours(us)", "baseline(us)", "baseline/ours");
    row("record (per event)", rec, rec_base);
    row("happened-before (query)", hb, hb_base);
    row("verify (whole history)", verify, 0);
    row("deadlocks (sparse)", dl, dl_base);
    row("deadlocks (dense)", dd, dd_base);
    printf("baselines: record = plain array append without a lock; happened-before = BFS\n"
           "over program order and messages; deadlocks = DFS from every actor\n");
    printf("command: %s %zu %u\n", argv[0], n, procs);
    for (size_t i = 0; i < h.n; i++)
        gb_vclock_destroy((gb_vclock *)h.ev[i].vc);
    free(h.ev);
    free(h.next_local);
    free(h.recv_of);
    gb_causal_destroy(g);
    return 0;
}
