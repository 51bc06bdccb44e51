/*
 * gpubridge's side of the race against CAF and Erlang (docs/benchmarks.md):
 * `bench_actors_actors --peer-format WORKLOAD [ARGS...]` runs one workload
 * with the same arguments, defaults, messages and clock points as the peer
 * programs in bench/peers/, and prints only its RESULT lines.
 *
 * This file holds the workloads' code; bench_actors.c includes it once (the
 * benchmark build makes one program of each bench_*.c file).
 *
 * Mapping of the peers' idioms onto virtual actors:
 *  - "spawn" before the clock starts = resolve the identity and activate it
 *    with one no-op message, outside the timed region (warm_up); in
 *    `activation` the spawner resolves (gb_actor_ref_u64) and activates
 *    (first message) each child inside the timed region;
 *  - a reply is a one-way gb_ctx_send back to msg->sender, as CAF's
 *    `return x` to a send and Erlang's `From ! x` (external_call alone uses
 *    request/response: gb_call, as CAF's request and gen_server:call);
 *  - mailboxes are unbounded in both peers, so the silo gets a capacity no
 *    workload reaches (a full mailbox would refuse the flooding sender);
 *  - an actor that "exits" in the peers stays active here (a virtual actor
 *    is never destroyed by hand; idle ones are collected later): children
 *    of `activation` are deactivated by gb_silo_destroy, after the clock.
 * Otherwise the silo runs with its defaults (one worker per core).
 * Times: CLOCK_MONOTONIC, as the peers. Any runtime error prints a line on
 * stderr and exits 1 (the driver then has no RESULT line for the run).
 */
#include <math.h>
#include <unistd.h>

#define PEER_MAILBOX (1u << 28)

enum {
    P_NOP = 100, /* warm-up: activates an actor outside the timed region */
    P_GO,
    P_PING,
    P_PONG,
    P_MSG,
    P_REQ,
    P_REP,
    P_DONE,
    P_INC,
    P_GET,
    P_COUNT,
    P_TOKEN,
    P_MEET,
    P_CHANGE,
    P_EXIT
};

static int64_t peer_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void peer_result(const char *workload, const char *metric, double value)
{
    printf("RESULT system=gpubridge workload=%s metric=%s value=%.1f\n", workload, metric, value);
}

static _Noreturn void peer_fail(const char *what)
{
    fprintf(stderr, "bench_actors --peer-format: %s: %s\n", what, gb_last_error());
    fflush(stdout);
    _exit(1);
}

static void must(gb_status st, const char *what)
{
    if (st != GB_OK)
        peer_fail(what);
}

static int64_t pay_i64(const void *p)
{
    int64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* ---- the end of a workload: an actor opens the gate with its end time ---- */

static pthread_mutex_t g_gate_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_gate_c = PTHREAD_COND_INITIALIZER;
static int g_gate_open;
static int64_t g_gate_t;

static void gate_open(int64_t t)
{
    pthread_mutex_lock(&g_gate_m);
    g_gate_t = t;
    g_gate_open = 1;
    pthread_cond_signal(&g_gate_c);
    pthread_mutex_unlock(&g_gate_m);
}

/* The end time, or -1 after limit_s seconds (0 = no limit). */
static int64_t gate_wait(int64_t limit_s)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += limit_s;
    pthread_mutex_lock(&g_gate_m);
    int rc = 0;
    while (!g_gate_open && rc == 0)
        rc = limit_s > 0 ? pthread_cond_timedwait(&g_gate_c, &g_gate_m, &dl)
                         : pthread_cond_wait(&g_gate_c, &g_gate_m);
    int64_t t = g_gate_open ? g_gate_t : -1;
    pthread_mutex_unlock(&g_gate_m);
    return t;
}

/* ---- setup ----------------------------------------------------------------- */

static _Atomic uint64_t g_nops;

static gb_status on_nop(void)
{
    atomic_fetch_add_explicit(&g_nops, 1, memory_order_release);
    return GB_OK;
}

static gb_silo *peer_silo(void)
{
    gb_silo_opts o = {.mailbox_capacity = PEER_MAILBOX};
    gb_silo *s;
    must(gb_silo_create(&s, &o), "silo");
    return s;
}

static void peer_type(gb_silo *s, const char *name, gb_actor_handler_fn fn, size_t state)
{
    gb_actor_type t = {.name = name, .handler = fn, .state_size = state};
    must(gb_actor_type_register(s, &t), "register");
}

static gb_actor_id peer_ref(gb_silo *s, const char *type, uint64_t key)
{
    gb_actor_id id;
    must(gb_actor_ref_u64(s, type, key, &id), "ref");
    return id;
}

/* Activate n actors with one no-op each and wait until all ran it (the
 * peers spawn these actors before their clock starts). */
static void warm_up(gb_silo *s, const gb_actor_id *ids, size_t n)
{
    uint64_t base = atomic_load(&g_nops);
    for (size_t i = 0; i < n; i++)
        must(gb_send(s, ids[i], P_NOP, NULL, 0), "warm-up send");
    struct timespec nap = {0, 50000};
    while (atomic_load_explicit(&g_nops, memory_order_acquire) < base + n)
        nanosleep(&nap, NULL);
}

/* Resolve keys 0..n-1 of type and activate them. */
static gb_actor_id *spawn_n(gb_silo *s, const char *type, size_t n)
{
    gb_actor_id *ids = malloc(n * sizeof *ids);
    if (!ids) {
        fprintf(stderr, "out of memory\n");
        _exit(1);
    }
    for (size_t i = 0; i < n; i++)
        ids[i] = peer_ref(s, type, i);
    warm_up(s, ids, n);
    return ids;
}

static gb_actor_id spawn_one(gb_silo *s, const char *type)
{
    gb_actor_id id = peer_ref(s, type, 0);
    warm_up(s, &id, 1);
    return id;
}

static void kick(gb_silo *s, gb_actor_id id, const void *p, uint32_t len)
{
    must(gb_send(s, id, P_GO, p, len), "kick-off");
}

static double quantile(int64_t *v, size_t n, double q)
{
    if (!n)
        return 0;
    qsort(v, n, sizeof *v, cmp_i64);
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return (double)v[i < n ? i : n - 1];
}

static void print_latency(const char *workload, int64_t *v, size_t n)
{
    peer_result(workload, "median_ns", quantile(v, n, 0.5));
    peer_result(workload, "p99_ns", quantile(v, n, 0.99));
}

static void print_rate(const char *workload, double msgs, int64_t t0, int64_t t1)
{
    peer_result(workload, "msgs_per_s", msgs / ((double)(t1 - t0) / 1e9));
}

/* The sink of `done`s (activation, big, fjthrput): opens the gate at the
 * target-th. */
static uint64_t g_sink_target;

static gb_status h_sink(gb_actor_ctx *ctx, void *st, const gb_msg_header *m, const void *p)
{
    if (m->method == P_NOP)
        return on_nop();
    if (++*(uint64_t *)st == g_sink_target)
        gate_open(peer_now());
    return GB_OK;
}

/* ---- pingpong: each round trip timed by the pinger -------------------------- */

static struct {
    gb_actor_id pong;
    int64_t t0, warm, total;
    int64_t *lat;
    size_t n;
} g_pp;

static gb_status h_ponger(gb_actor_ctx *ctx, void *st, const gb_msg_header *m, const void *p)
{
    if (m->method == P_NOP)
        return on_nop();
    return gb_ctx_send(ctx, m->sender, P_PONG, p, sizeof(int64_t));
}

static gb_status h_pinger(gb_actor_ctx *ctx, void *st, const gb_msg_header *m, const void *p)
{
    if (m->method == P_NOP)
        return on_nop();
    int64_t next = 1;
    if (m->method == P_PONG) {
        int64_t t = peer_now(), i = pay_i64(p);
        if (i > g_pp.warm)
            g_pp.lat[g_pp.n++] = t - g_pp.t0;
        if (i == g_pp.total) {
            gate_open(t);
            return GB_OK;
        }
        next = i + 1;
    }
    g_pp.t0 = peer_now();
    must(gb_ctx_send(ctx, g_pp.pong, P_PING, &next, sizeof next), "ping");
    return GB_OK;
}

static int peer_pingpong(gb_silo *s, int64_t n)
{
    g_pp.warm = n / 10;
    g_pp.total = n + n / 10;
    g_pp.lat = malloc((size_t)n * sizeof *g_pp.lat);
    peer_type(s, "ponger", h_ponger, 0);
    peer_type(s, "pinger", h_pinger, 0);
    g_pp.pong = spawn_one(s, "ponger");
    gb_actor_id ping = spawn_one(s, "pinger");
    kick(s, ping, NULL, 0);
    gate_wait(0);
    print_latency("pingpong", g_pp.lat, g_pp.n);
    free(g_pp.lat);
    return 0;
}

/* ---- many_to_one: S senders flood one receiver ------------------------------- */

static gb_actor_id g_rx;
static int64_t g_m2o_m;

static gb_status h_m2o_rx(gb_actor_ctx *ctx, void *st, const gb_msg_header *m, const void *p)
{
    if (m->method == P_NOP)
        return on_nop();
    if (++*(uint64_t *)st == g_sink_target)
        gate_open(peer_now());
    return GB_OK;
}

static gb_status h_m2o_tx(gb_actor_ctx *ctx, void *st, const gb_msg_header *m, const void *p)
{
    if (m->method == P_NOP)
        return on_nop();
    for (int64_t i = 0; i < g_m2o_m; i++)
        must(gb_ctx_send(ctx, g_rx, P_MSG, NULL, 0), "many_to_one send");
    return GB_OK;
}

static int peer_many_to_one(gb_silo *s, int64_t senders, int64_t m)
{
    g_m2o_m = m;
    g_sink_target = (uint64_t)(senders * m);
    peer_type(s, "rx", h_m2o_rx, sizeof(uint64_t));
    peer_type(s, "tx", h_m2o_tx, 0);
    g_rx = spawn_one(s, "rx");
    gb_actor_id *tx = spawn_n(s, "tx", (size_t)senders);
    int64_t t0 = peer_now();
    for (int64_t i = 0; i < senders; i++)
        kick(s, tx[i], NULL, 0);
    int64_t t1 = gate_wait(0);
    char name[48];
    snprintf(name, sizeof name, "many_to_one_%lld", (long long)senders);
    print_rate(name, (double)(senders * m), t0, t1);
    free(tx);
    return 0;
}

/* ---- fanout: a coordinator, W workers, timed rounds ----------------------------- */

static struct {
    gb_actor_id *workers;
    int64_t w, replies, round, warm, total, t0;
    int64_t *lat;
    size_t n;
} g_pfan;

static gb_status h_fan_worker(gb_actor_ctx *ctx, void *st, const gb_msg_header *m, const void *p)
{
    if (m->method == P_NOP)
        return on_nop();
    return gb_ctx_send(ctx, m->sender, P_REP, p, sizeof(int64_t));
}

static void fan_round(gb_actor_ctx *ctx)
{
    g_pfan.replies = 0;
    g_pfan.t0 = peer_now();
    for (int64_t i = 0; i < g_pfan.w; i++)
        must(gb_ctx_send(ctx, g_pfan.workers[i], P_REQ, &g_pfan.round, sizeof g_pfan.round), "fan-out");
}

static gb_status h_fan_coord(gb_actor_ctx *ctx, void *st, const gb_msg_header *m, const void *p)
{
    if (m->method == P_NOP)
        return on_nop();
    if (m->method == P_GO) {
        fan_round(ctx);
        return GB_OK;
    }
    if (++g_pfan.replies < g_pfan.w)
        return GB_OK;
    int64_t t = peer_now();
    if (g_pfan.round >= g_pfan.warm)
        g_pfan.lat[g_pfan.n++] = t - g_pfan.t0;
    if (++g_pfan.round == g_pfan.total)
        gate_open(t);
    else
        fan_round(ctx);
    return GB_OK;
}

static int peer_fanout(gb_silo *s, int64_t w, int64_t r)
{
    g_pfan.w = w;
    g_pfan.warm = r / 10;
    g_pfan.total = r + r / 10;
    g_pfan.lat = malloc((size_t)r * sizeof *g_pfan.lat);
    peer_type(s, "fan_worker", h_fan_worker, 0);
    peer_type(s, "fan_coord", h_fan_coord, 0);
    g_pfan.workers = spawn_n(s, "fan_worker", (size_t)w);
    gb_actor_id c = spawn_one(s, "fan_coord");
    kick(s, c, NULL, 0);
    gate_wait(0);
    double med = quantile(g_pfan.lat, g_pfan.n, 0.5);
    peer_result("fanout", "round_us", med / 1e3);
    peer_result("fanout", "per_msg_ns", med / (double)(2 * w));
    free(g_pfan.lat);
    free(g_pfan.workers);
    return 0;
}

/* ---- activation: one actor activates N children, each tells the sink -------------- */

static gb_actor_id g_act_sink;
static int64_t g_act_n;

static gb_status h_act_child(gb_actor_ctx *ctx, void *st, const gb_msg_header *m, const void *p)
{
    gb_actor_id sink;
    memcpy(&sink, p, sizeof sink);
    return gb_ctx_send(ctx, sink, P_DONE, NULL, 0);
}

static gb_status h_act_spawner(gb_actor_ctx *ctx, void *st, const gb_msg_header *m, const void *p)
{
    if (m->method == P_NOP)
        return on_nop();
    gb_silo *s = gb_ctx_silo(ctx);
    for (int64_t k = 0; k < g_act_n; k++) {
        gb_actor_id child = peer_ref(s, "act_child", (uint64_t)k);
        must(gb_ctx_send(ctx, child, P_GO, &g_act_sink, sizeof g_act_sink), "activation send");
    }
    return GB_OK;
}

static void size_name(char *out, size_t cap, int64_t n)
{
    if (n >= 1000000 && n % 1000000 == 0)
        snprintf(out, cap, "%lldm", (long long)(n / 1000000));
    else if (n >= 1000 && n % 1000 == 0)
        snprintf(out, cap, "%lldk", (long long)(n / 1000));
    else
        snprintf(out, cap, "%lld", (long long)n);
}

static int peer_activation(gb_silo *s, int64_t n, int64_t limit_s)
{
    char name[48], size[24];
    size_name(size, sizeof size, n);
    snprintf(name, sizeof name, "activation_%s", size);
    g_act_n = n;
    g_sink_target = (uint64_t)n;
    peer_type(s, "act_sink", h_sink, sizeof(uint64_t));
    peer_type(s, "act_spawner", h_act_spawner, 0);
    peer_type(s, "act_child", h_act_child, 0);
    g_act_sink = spawn_one(s, "act_sink");
    gb_actor_id sp = spawn_one(s, "act_spawner");
    int64_t t0 = peer_now();
    kick(s, sp, NULL, 0);
    int64_t t1 = gate_wait(limit_s > 0 ? limit_s : 20);
    if (t1 < 0) {
        printf("RESULT system=gpubridge workload=%s metric=ns_per_actor value=timeout\n", name);
        fflush(stdout);
        _exit(0); /* the silo still holds queued work: leave without draining it */
    }
    peer_result(name, "ns_per_actor", (double)(t1 - t0) / (double)n);
    return 0;
}

/* ---- external_call: a plain thread calls an echo actor and waits ------------------- */

static gb_status h_echo(gb_actor_ctx *ctx, void *st, const gb_msg_header *m, const void *p)
{
    if (m->method == P_NOP)
        return on_nop();
    return gb_ctx_reply(ctx, GB_OK, p, m->payload_len);
}

static int peer_external_call(gb_silo *s, int64_t n)
{
    int64_t warm = n / 10;
    int64_t *lat = malloc((size_t)n * sizeof *lat);
    size_t k = 0;
    peer_type(s, "echo", h_echo, 0);
    gb_actor_id e = spawn_one(s, "echo");
    for (int64_t i = 0; i < warm + n; i++) {
        int64_t t0 = peer_now(), r = -1;
        must(gb_call(s, e, P_REQ, &i, sizeof i, 0, &r, sizeof r, NULL), "external call");
        int64_t t1 = peer_now();
        if (r != i) {
            fprintf(stderr, "bench_actors: external_call got a wrong reply\n");
            return 1;
        }
        if (i >= warm)
            lat[k++] = t1 - t0;
    }
    print_latency("external_call", lat, k);
    free(lat);
    return 0;
}

/* ---- Savina Counting: a producer sends N increments, then asks for the count ------ */

static gb_actor_id g_counter;
static int64_t g_count_n;

static gb_status h_counter(gb_actor_ctx *ctx, void *st, const gb_msg_header *m, const void *p)
{
    int64_t *count = st;
    if (m->method == P_NOP)
        return on_nop();
    if (m->method == P_INC) {
        ++*count;
        return GB_OK;
    }
    return gb_ctx_send(ctx, m->sender, P_COUNT, count, sizeof *count);
}

static gb_status h_producer(gb_actor_ctx *ctx, void *st, const gb_msg_header *m, const void *p)
{
    if (m->method == P_NOP)
        return on_nop();
    if (m->method == P_COUNT) {
        int64_t t = peer_now(), c = pay_i64(p);
        if (c != g_count_n)
            fprintf(stderr, "bench_actors: counting got %lld, want %lld\n", (long long)c,
                    (long long)g_count_n);
        gate_open(t);
        return GB_OK;
    }
    for (int64_t i = 0; i < g_count_n; i++)
        must(gb_ctx_send(ctx, g_counter, P_INC, NULL, 0), "counting send");
    return gb_ctx_send(ctx, g_counter, P_GET, NULL, 0);
}

static int peer_counting(gb_silo *s, int64_t n)
{
    g_count_n = n;
    peer_type(s, "counter", h_counter, sizeof(int64_t));
    peer_type(s, "producer", h_producer, 0);
    g_counter = spawn_one(s, "counter");
    gb_actor_id producer = spawn_one(s, "producer");
    int64_t t0 = peer_now();
    kick(s, producer, NULL, 0);
    print_rate("counting", (double)n, t0, gate_wait(0));
    return 0;
}

/* ---- Savina Thread Ring: a token passed around N actors for R hops --------------- */

static gb_actor_id *g_ring;
static int64_t g_ring_n;

static gb_status h_ring(gb_actor_ctx *ctx, void *st, const gb_msg_header *m, const void *p)
{
    if (m->method == P_NOP)
        return on_nop();
    int64_t left = pay_i64(p);
    if (left == 0) {
        gate_open(peer_now());
        return GB_OK;
    }
    left--;
    gb_actor_id next = g_ring[(gb_ctx_key_u64(ctx) + 1) % (uint64_t)g_ring_n];
    return gb_ctx_send(ctx, next, P_TOKEN, &left, sizeof left);
}

static int peer_threadring(gb_silo *s, int64_t n, int64_t hops)
{
    g_ring_n = n;
    peer_type(s, "ring", h_ring, 0);
    g_ring = spawn_n(s, "ring", (size_t)n);
    int64_t t0 = peer_now();
    must(gb_send(s, g_ring[0], P_TOKEN, &hops, sizeof hops), "kick-off");
    print_rate("threadring", (double)hops, t0, gate_wait(0));
    free(g_ring);
    return 0;
}

/* ---- Savina Chameneos: C chameneos meet N times at a mall ------------------------- */

static struct {
    gb_actor_id self, waiting; /* waiting: 0 = none (actor ids are never 0) */
    int64_t waiting_color, left, faded, c;
} g_mall;

typedef struct meet_msg {
    int64_t color;
    gb_actor_id from;
} meet_msg;

static gb_status h_mall(gb_actor_ctx *ctx, void *st, const gb_msg_header *m, const void *p)
{
    if (m->method == P_NOP)
        return on_nop();
    if (m->method == P_DONE) {
        if (++g_mall.faded == g_mall.c)
            gate_open(peer_now());
        return GB_OK;
    }
    int64_t color = pay_i64(p);
    if (g_mall.left == 0)
        return gb_ctx_send(ctx, m->sender, P_EXIT, NULL, 0);
    if (!g_mall.waiting) {
        g_mall.waiting = m->sender;
        g_mall.waiting_color = color;
        return GB_OK;
    }
    --g_mall.left;
    meet_msg mm = {color, m->sender};
    gb_actor_id w = g_mall.waiting;
    g_mall.waiting = 0;
    return gb_ctx_send(ctx, w, P_MEET, &mm, sizeof mm);
}

static int64_t complement(int64_t a, int64_t b)
{
    return a == b ? a : 3 - a - b;
}

static gb_status h_chameneo(gb_actor_ctx *ctx, void *st, const gb_msg_header *m, const void *p)
{
    int64_t *color = st;
    switch (m->method) {
    case P_NOP:
        return on_nop();
    case P_GO:
        *color = (int64_t)(gb_ctx_key_u64(ctx) % 3);
        break;
    case P_MEET: {
        meet_msg mm;
        memcpy(&mm, p, sizeof mm);
        *color = complement(*color, mm.color);
        must(gb_ctx_send(ctx, mm.from, P_CHANGE, color, sizeof *color), "change");
        break;
    }
    case P_CHANGE:
        *color = pay_i64(p);
        break;
    default: /* P_EXIT */
        return gb_ctx_send(ctx, g_mall.self, P_DONE, NULL, 0);
    }
    return gb_ctx_send(ctx, g_mall.self, P_MEET, color, sizeof *color);
}

static int peer_chameneos(gb_silo *s, int64_t c, int64_t n)
{
    g_mall.left = n;
    g_mall.c = c;
    peer_type(s, "mall", h_mall, 0);
    peer_type(s, "chameneo", h_chameneo, sizeof(int64_t));
    g_mall.self = spawn_one(s, "mall");
    gb_actor_id *cs = spawn_n(s, "chameneo", (size_t)c);
    int64_t t0 = peer_now();
    for (int64_t i = 0; i < c; i++)
        kick(s, cs[i], NULL, 0);
    print_rate("chameneos", (double)(4 * n + 3 * c), t0, gate_wait(0));
    free(cs);
    return 0;
}

/* ---- Savina Big: W actors each send P pings to random peers ------------------------- */

static gb_actor_id *g_big;
static gb_actor_id g_big_sink;
static int64_t g_big_w, g_big_p;

typedef struct big_state {
    int64_t rng, left;
} big_state;

static gb_status big_ping(gb_actor_ctx *ctx, big_state *b)
{
    b->rng = (b->rng * 48271) % 2147483647; /* minstd, as every peer */
    return gb_ctx_send(ctx, g_big[b->rng % g_big_w], P_PING, NULL, 0);
}

static gb_status h_big(gb_actor_ctx *ctx, void *st, const gb_msg_header *m, const void *p)
{
    big_state *b = st;
    switch (m->method) {
    case P_NOP:
        return on_nop();
    case P_GO:
        b->rng = (int64_t)gb_ctx_key_u64(ctx) + 1;
        b->left = g_big_p;
        return big_ping(ctx, b);
    case P_PING:
        return gb_ctx_send(ctx, m->sender, P_PONG, NULL, 0);
    default: /* P_PONG */
        if (--b->left == 0)
            return gb_ctx_send(ctx, g_big_sink, P_DONE, NULL, 0);
        return big_ping(ctx, b);
    }
}

static int peer_big(gb_silo *s, int64_t w, int64_t pings)
{
    g_big_w = w;
    g_big_p = pings;
    g_sink_target = (uint64_t)w;
    peer_type(s, "big_sink", h_sink, sizeof(uint64_t));
    peer_type(s, "big", h_big, sizeof(big_state));
    g_big_sink = spawn_one(s, "big_sink");
    g_big = spawn_n(s, "big", (size_t)w);
    int64_t t0 = peer_now();
    for (int64_t i = 0; i < w; i++)
        kick(s, g_big[i], NULL, 0);
    print_rate("big", (double)(2 * w * pings), t0, gate_wait(0));
    free(g_big);
    return 0;
}

/* ---- Savina Fork-Join throughput: N messages to each of A actors ----------------------- */

static gb_actor_id *g_fj;
static gb_actor_id g_fj_sink;
static int64_t g_fj_a, g_fj_n;

static gb_status h_fj_worker(gb_actor_ctx *ctx, void *st, const gb_msg_header *m, const void *p)
{
    if (m->method == P_NOP)
        return on_nop();
    double theta, x;
    memcpy(&theta, p, sizeof theta);
    x = sin(theta); /* Savina's performComputation, kept alive by the check */
    if (x * x <= 0.0)
        fprintf(stderr, "bench_actors: fjthrput computation went wrong\n");
    if ((int64_t)++*(uint64_t *)st == g_fj_n)
        return gb_ctx_send(ctx, g_fj_sink, P_DONE, NULL, 0);
    return GB_OK;
}

static gb_status h_fj_producer(gb_actor_ctx *ctx, void *st, const gb_msg_header *m, const void *p)
{
    if (m->method == P_NOP)
        return on_nop();
    double theta = 37.2;
    for (int64_t i = 0; i < g_fj_n; i++)
        for (int64_t k = 0; k < g_fj_a; k++)
            must(gb_ctx_send(ctx, g_fj[k], P_MSG, &theta, sizeof theta), "fjthrput send");
    return GB_OK;
}

static int peer_fjthrput(gb_silo *s, int64_t a, int64_t n)
{
    g_fj_a = a;
    g_fj_n = n;
    g_sink_target = (uint64_t)a;
    peer_type(s, "fj_sink", h_sink, sizeof(uint64_t));
    peer_type(s, "fj_worker", h_fj_worker, sizeof(uint64_t));
    peer_type(s, "fj_producer", h_fj_producer, 0);
    g_fj_sink = spawn_one(s, "fj_sink");
    g_fj = spawn_n(s, "fj_worker", (size_t)a);
    gb_actor_id producer = spawn_one(s, "fj_producer");
    int64_t t0 = peer_now();
    kick(s, producer, NULL, 0);
    print_rate("fjthrput", (double)(a * n), t0, gate_wait(0));
    free(g_fj);
    return 0;
}

/* ---- dispatch ----------------------------------------------------------------------------- */

static int64_t peer_arg(int argc, char **argv, int i, int64_t dflt)
{
    if (i >= argc)
        return dflt;
    char *end;
    long long v = strtoll(argv[i], &end, 10);
    if (*end || v <= 0) {
        fprintf(stderr, "bench_actors: bad argument '%s' (a positive integer)\n", argv[i]);
        _exit(2);
    }
    return (int64_t)v;
}

/* argv[0] is the workload; the rest are its positional arguments. */
static int peer_main(int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "usage: bench_actors_actors --peer-format WORKLOAD [ARGS...]\n");
        return 2;
    }
    const char *w = argv[0];
#define A(i, d) peer_arg(argc, argv, (i), (d))
    gb_silo *s = peer_silo();
    int rc;
    if (!strcmp(w, "pingpong"))
        rc = peer_pingpong(s, A(1, 200000));
    else if (!strcmp(w, "many_to_one"))
        rc = peer_many_to_one(s, A(1, 1), A(2, 2000000));
    else if (!strcmp(w, "fanout"))
        rc = peer_fanout(s, A(1, 1000), A(2, 1000));
    else if (!strcmp(w, "activation"))
        rc = peer_activation(s, A(1, 100000), A(2, 20));
    else if (!strcmp(w, "external_call"))
        rc = peer_external_call(s, A(1, 50000));
    else if (!strcmp(w, "counting"))
        rc = peer_counting(s, A(1, 2000000));
    else if (!strcmp(w, "threadring"))
        rc = peer_threadring(s, A(1, 100), A(2, 1000000));
    else if (!strcmp(w, "chameneos"))
        rc = peer_chameneos(s, A(1, 100), A(2, 200000));
    else if (!strcmp(w, "big"))
        rc = peer_big(s, A(1, 120), A(2, 5000));
    else if (!strcmp(w, "fjthrput"))
        rc = peer_fjthrput(s, A(1, 60), A(2, 10000));
    else {
        fprintf(stderr, "bench_actors: unknown workload '%s'\n", w);
        rc = 2;
    }
#undef A
    fflush(stdout);
    gb_silo_stats st;
    gb_silo_stats_get(s, &st);
    fprintf(stderr, "gpubridge %s: delivered %llu, helped turns %llu\n", w, (unsigned long long)st.delivered,
            (unsigned long long)st.helped_turns);
    gb_silo_destroy(s);
    return rc;
}
