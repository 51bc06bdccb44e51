// gb-test-labels: concurrency
/* Caller runs: a blocking gb_call that finds its target idle runs the turn
 * on the calling thread. One turn at a time per actor and per-sender order
 * hold under concurrency with workers and other callers, and destroy waits
 * for a turn that an external caller is running. */
#include <pthread.h>

#include "actor/actor_test.h"

#define M_WHERE 1u   /* reply with the handling thread's pthread_t */
#define M_SEQ 2u     /* payload {thread, seq}: check order and exclusion */
#define M_BLOCK 3u   /* hold the turn until destroy has closed the silo (see below) */
#define M_NOP 4u
#define THREADS 4
#define PER_THREAD 3000

typedef struct seq_state {
    _Atomic int inside; /* turns of this actor running now */
    uint32_t next[THREADS];
    int bad_order;
    int overlap;
    uint64_t handled;
} seq_state;

typedef struct seq_msg {
    uint32_t thread, seq;
} seq_msg;

static _Atomic int g_started, g_handler_done, g_deact_early, g_deacts;

static void check_seq(seq_state *st, const void *p)
{
    seq_msg m;
    memcpy(&m, p, sizeof m);
    if (m.thread >= THREADS || m.seq != st->next[m.thread])
        st->bad_order = 1;
    else
        st->next[m.thread]++;
}

static gb_status handler(gb_actor_ctx *ctx, void *state, const gb_msg_header *m, const void *p)
{
    seq_state *st = state;
    if (m->method == M_WHERE) {
        pthread_t me = pthread_self();
        return gb_ctx_reply(ctx, GB_OK, &me, sizeof me);
    }
    if (m->method == M_NOP)
        return GB_OK;
    if (m->method == M_BLOCK) {
        atomic_store(&g_started, 1);
        /* handlers' sends fail with GB_ECLOSED once destroy is past its
         * drain (closing = 2): from there a destroy that did not wait for
         * this turn would close its call and deactivate it meanwhile, which
         * g_deacts shows; give it 20 ms to do so */
        while (gb_ctx_send(ctx, gb_ctx_self(ctx), M_NOP, NULL, 0) != GB_ECLOSED)
            sched_yield();
        int64_t until = gb_time_monotonic_ns() + 20000000;
        while (!atomic_load(&g_deacts) && gb_time_monotonic_ns() < until)
            sched_yield();
        atomic_store(&g_handler_done, 1);
        return GB_OK;
    }
    if (atomic_fetch_add(&st->inside, 1) != 0)
        st->overlap = 1;
    check_seq(st, p);
    st->handled++;
    atomic_fetch_sub(&st->inside, 1);
    return gb_ctx_reply(ctx, GB_OK, st, sizeof *st);
}

static int on_deactivate(gb_actor_ctx *ctx, void *state)
{
    (void)ctx;
    (void)state;
    if (!atomic_load(&g_handler_done))
        atomic_store(&g_deact_early, 1);
    atomic_fetch_add(&g_deacts, 1);
    return 1;
}

static gb_silo *setup(int64_t drain_ns)
{
    gb_silo_opts o = {.drain_timeout_ns = drain_ns};
    gb_silo *s = test_silo(&o);
    gb_actor_type t = {
        .name = "cr", .state_size = sizeof(seq_state), .handler = handler, .deactivate = on_deactivate};
    GB_CHECK((gb_actor_type_register(s, &t)) == (GB_OK), "check_eq");
    return s;
}

GB_TEST(caller_runs, idle_target_runs_on_the_calling_thread)
{
    gb_silo *s = setup(0);
    gb_actor_id id;
    gb_actor_ref_str(s, "cr", "a", &id);
    pthread_t where;
    uint32_t n = 0;
    GB_CHECK((gb_call(s, id, M_WHERE, NULL, 0, 0, &where, sizeof where, &n)) == (GB_OK), "check_eq");
    GB_CHECK((n) == (sizeof where), "check_eq");
    GB_CHECK(pthread_equal(where, pthread_self()), "the idle actor's turn ran on the caller");
    gb_silo_destroy(s);
}

typedef struct sender {
    gb_silo *s;
    gb_actor_id id;
    uint32_t thread;
    int failures;
} sender;

/* Alternate one-way sends (run by workers) and blocking calls (often run by
 * this thread) to one actor: the handler checks this thread's order. */
static void *send_and_call(void *p)
{
    sender *c = p;
    seq_state reply;
    for (uint32_t i = 0; i < PER_THREAD; i++) {
        seq_msg m = {c->thread, i};
        gb_status st = (i % 2) ? gb_call(c->s, c->id, M_SEQ, &m, sizeof m, 0, &reply, sizeof reply, NULL)
                               : gb_send(c->s, c->id, M_SEQ, &m, sizeof m);
        if (st != GB_OK)
            c->failures++;
    }
    return NULL;
}

GB_TEST(caller_runs, one_turn_at_a_time_and_order_per_sender_hold)
{
    gb_silo *s = setup(0);
    gb_actor_id id;
    gb_actor_ref_str(s, "cr", "shared", &id);
    pthread_t t[THREADS];
    sender c[THREADS];
    for (uint32_t i = 0; i < THREADS; i++) {
        c[i] = (sender){s, id, i, 0};
        pthread_create(&t[i], NULL, send_and_call, &c[i]);
    }
    for (uint32_t i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        GB_CHECK((c[i].failures) == (0), "check_eq");
    }
    /* every message above was pushed before this one: its reply carries
     * the state after all of them */
    seq_state st;
    memset(&st, 0, sizeof st);
    seq_msg tail = {0, PER_THREAD};
    GB_CHECK((gb_call(s, id, M_SEQ, &tail, sizeof tail, 0, &st, sizeof st, NULL)) == (GB_OK), "check_eq");
    GB_CHECK((st.overlap) == (0), "two turns of one actor never overlap");
    GB_CHECK((st.bad_order) == (0), "each sender's messages arrive in order");
    GB_CHECK((st.handled) == ((uint64_t)THREADS * PER_THREAD + 1), "check_eq");
    gb_silo_destroy(s);
}

typedef struct blocker {
    gb_silo *s;
    gb_actor_id id;
    gb_status st;
} blocker;

static void *block_call(void *p)
{
    blocker *b = p;
    b->st = gb_call(b->s, b->id, M_BLOCK, NULL, 0, 0, NULL, 0, NULL);
    return NULL;
}

static void *destroy_it(void *p)
{
    gb_silo_destroy(p);
    return NULL;
}

GB_TEST(caller_runs, destroy_waits_for_a_turn_run_by_a_caller)
{
    atomic_store(&g_started, 0);
    atomic_store(&g_handler_done, 0);
    atomic_store(&g_deact_early, 0);
    atomic_store(&g_deacts, 0);
    gb_silo *s = setup(1000 /* 1 us: the drain gives up at once */);
    blocker b = {s, 0, GB_EINTERNAL};
    gb_actor_ref_str(s, "cr", "blocked", &b.id);
    gb_actor_id other;
    gb_actor_ref_str(s, "cr", "other", &other);
    pthread_t where, caller, destroyer;
    GB_CHECK((gb_call(s, other, M_WHERE, NULL, 0, 0, &where, sizeof where, NULL)) == (GB_OK), "activated");
    pthread_create(&caller, NULL, block_call, &b);
    while (!atomic_load(&g_started))
        sched_yield(); /* the turn runs on `caller` now, not on a worker */
    pthread_create(&destroyer, NULL, destroy_it, s);
    pthread_join(caller, NULL);
    pthread_join(destroyer, NULL);
    GB_CHECK((b.st) == (GB_OK), "the turn's reply reached its caller");
    GB_CHECK((atomic_load(&g_deact_early)) == (0), "no deactivation ran before the turn ended");
    GB_CHECK((atomic_load(&g_deacts)) == (2), "both actors were deactivated once");
}

/* A caller-run turn whose handler holds the turn past the call's timeout:
 * the caller gets GB_ETIMEDOUT, the handler's reply is dropped and counted
 * as late (and gb_ctx_reply says so), as when a worker runs the turn. */
#define M_SLOW 5u
#define SLOW_TIMEOUT_NS 5000000LL

static _Atomic int g_slow_reply = -1;
static pthread_t g_slow_thread;

static gb_status slow_handler(gb_actor_ctx *ctx, void *state, const gb_msg_header *m, const void *p)
{
    (void)state;
    (void)m;
    (void)p;
    g_slow_thread = pthread_self();
    /* the behaviour under test: a handler that blocks past the timeout */
    int64_t until = gb_time_monotonic_ns() + 4 * SLOW_TIMEOUT_NS;
    while (gb_time_monotonic_ns() < until)
        sched_yield();
    atomic_store(&g_slow_reply, gb_ctx_reply(ctx, GB_OK, "late", 4));
    return GB_OK;
}

GB_TEST(caller_runs, turn_past_the_timeout_gives_etimedout_and_a_late_reply)
{
    gb_silo *s = test_silo(NULL);
    gb_actor_type t = {.name = "slow", .handler = slow_handler};
    GB_CHECK(gb_actor_type_register(s, &t) == GB_OK, "%s", gb_last_error());
    gb_actor_id id;
    gb_actor_ref_str(s, "slow", "a", &id);
    char reply[8] = {0};
    uint32_t len = 99;
    gb_status st = gb_call(s, id, M_SLOW, NULL, 0, SLOW_TIMEOUT_NS, reply, sizeof reply, &len);
    GB_CHECK(pthread_equal(g_slow_thread, pthread_self()), "the idle actor's turn ran on the caller");
    GB_CHECK(st == GB_ETIMEDOUT, "got %s", gb_status_name(st));
    GB_CHECK(strstr(gb_last_error(), "no response within") != NULL, "reason: %s", gb_last_error());
    GB_CHECK(len == 0 && reply[0] == 0, "no late payload reached the caller");
    GB_CHECK(atomic_load(&g_slow_reply) == GB_ETIMEDOUT, "gb_ctx_reply after the deadline: %s",
             gb_status_name(atomic_load(&g_slow_reply)));
    gb_silo_stats stats;
    gb_silo_stats_get(s, &stats);
    GB_CHECK(stats.timeouts == 1 && stats.late_responses == 1 && stats.responses == 1,
             "timeouts %llu late %llu responses %llu", (unsigned long long)stats.timeouts,
             (unsigned long long)stats.late_responses, (unsigned long long)stats.responses);
    gb_silo_destroy(s);
}
