// gb-test-labels: concurrency
/* Activation exactly once, idle deactivation, reactivation with state reset
 * or kept, and no message lost across deactivation. */
#include <pthread.h>

#include "actor/actor_test.h"

#define M_ADD 1u
#define M_GET 2u

typedef struct acc {
    uint64_t sum;
    uint64_t inits;
} acc;

static _Atomic int g_inits;
static _Atomic int g_deacts;

static gb_status acc_init(gb_actor_ctx *ctx, void *state)
{
    acc *a = state;
    a->inits++;
    atomic_fetch_add(&g_inits, 1);
    return GB_OK;
}

static int acc_keep(gb_actor_ctx *ctx, void *state)
{
    atomic_fetch_add(&g_deacts, 1);
    return *(int *)gb_ctx_type_user(ctx);
}

static gb_status acc_handler(gb_actor_ctx *ctx, void *state, const gb_msg_header *m, const void *p)
{
    acc *a = state;
    if (m->method == M_ADD) {
        uint64_t v;
        memcpy(&v, p, 8);
        a->sum += v;
        return GB_OK;
    }
    uint64_t out[3] = {a->sum, a->inits, (uint64_t)gb_ctx_reactivated(ctx)};
    return gb_ctx_reply(ctx, GB_OK, out, sizeof out);
}

static gb_silo *setup(int64_t idle_ns, int *keep)
{
    atomic_store(&g_inits, 0);
    atomic_store(&g_deacts, 0);
    gb_silo *s = test_silo(NULL);
    gb_actor_type t = {.name = "acc",
                       .state_size = sizeof(acc),
                       .init = acc_init,
                       .handler = acc_handler,
                       .deactivate = acc_keep,
                       .idle_timeout_ns = idle_ns,
                       .user = keep};
    GB_CHECK((gb_actor_type_register(s, &t)) == (GB_OK), "check_eq");
    return s;
}

typedef struct race_arg {
    gb_silo *s;
    pthread_barrier_t *bar;
} race_arg;

static void *race_first_message(void *p)
{
    race_arg *r = p;
    pthread_barrier_wait(r->bar);
    for (uint64_t k = 0; k < 200; k++) {
        gb_actor_id id;
        GB_CHECK((gb_actor_ref_u64(r->s, "acc", k, &id)) == (GB_OK), "check_eq");
        uint64_t one = 1;
        GB_CHECK((gb_send(r->s, id, M_ADD, &one, 8)) == (GB_OK), "check_eq");
    }
    return NULL;
}

GB_TEST(activation, exactly_once_under_concurrent_first_messages)
{
    static int keep = 0;
    gb_silo *s = setup(0, &keep);
    enum { T = 4 };
    pthread_t t[T];
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, T);
    race_arg r = {s, &bar};
    for (int i = 0; i < T; i++)
        pthread_create(&t[i], NULL, race_first_message, &r);
    for (int i = 0; i < T; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&bar);
    for (uint64_t k = 0; k < 200; k++) {
        uint64_t out[3];
        gb_actor_id id = gb_actor_id_u64("acc", k);
        GB_CHECK((gb_call(s, id, M_GET, NULL, 0, 0, out, sizeof out, NULL)) == (GB_OK), "check_eq");
        GB_CHECK((out[0]) == (T), "actor %llu sum %llu", (unsigned long long)k, (unsigned long long)out[0]);
        GB_CHECK((out[1]) == (1), "actor %llu initialised %llu times", (unsigned long long)k,
                 (unsigned long long)out[1]);
    }
    gb_silo_stats st;
    gb_silo_stats_get(s, &st);
    GB_CHECK((st.activations) == (200), "check_eq");
    GB_CHECK((atomic_load(&g_inits)) == (200), "check_eq");
    gb_silo_destroy(s);
}

static void roundtrip_after_deactivation(int keep_state)
{
    static int keep;
    keep = keep_state;
    gb_silo *s = setup(1000000 /* 1 ms */, &keep);
    gb_actor_id id;
    gb_actor_ref_str(s, "acc", "x", &id);
    uint64_t v = 7;
    GB_CHECK(gb_send(s, id, M_ADD, &v, 8) == GB_OK, "send");
    uint64_t out[3];
    gb_silo_stats st;
    GB_CHECK(WAIT_FOR(s, st, st.deactivations >= 1), "check");
    GB_CHECK((st.active) == (0), "check_eq");
    GB_CHECK((gb_call(s, id, M_GET, NULL, 0, 0, out, sizeof out, NULL)) == (GB_OK), "check_eq");
    GB_CHECK((out[0]) == (keep_state ? 7 : 0), "check_eq");
    GB_CHECK((out[1]) == (keep_state ? 2 : 1), "inits seen by state: %llu", (unsigned long long)out[1]);
    GB_CHECK((out[2]) == (1), "init of the second activation is a reactivation");
    gb_silo_stats_get(s, &st);
    GB_CHECK((st.activations) >= (2), "check_geq");
    gb_silo_destroy(s);
}

GB_TEST(activation, idle_actor_deactivates_and_reactivates_with_state_reset)
{
    roundtrip_after_deactivation(0);
}

GB_TEST(activation, deactivate_hook_can_keep_state_for_reactivation)
{
    roundtrip_after_deactivation(1);
}

GB_TEST(activation, no_message_lost_across_deactivations)
{
    static int keep = 1;
    gb_silo *s = setup(200000 /* 0.2 ms: deactivates between bursts */, &keep);
    gb_actor_id id;
    gb_actor_ref_str(s, "acc", "y", &id);
    uint64_t expect = 0;
    gb_silo_stats st;
    for (int round = 0; round < 5; round++) {
        for (uint64_t i = 1; i <= 100; i++) {
            GB_CHECK((gb_send(s, id, M_ADD, &i, 8)) == (GB_OK), "check_eq");
            expect += i;
        }
        uint64_t before = st.deactivations;
        gb_silo_stats_get(s, &st);
        before = st.deactivations;
        GB_CHECK(WAIT_FOR(s, st, st.deactivations > before), "check");
    }
    uint64_t out[3];
    GB_CHECK((gb_call(s, id, M_GET, NULL, 0, 0, out, sizeof out, NULL)) == (GB_OK), "check_eq");
    GB_CHECK((out[0]) == (expect), "check_eq");
    gb_silo_destroy(s);
}

GB_TEST(activation, destroy_deactivates_every_active_actor)
{
    static int keep = 0;
    gb_silo *s = setup(0, &keep);
    for (uint64_t k = 0; k < 50; k++) {
        gb_actor_id id;
        gb_actor_ref_u64(s, "acc", k, &id);
        uint64_t one = 1;
        gb_send(s, id, M_ADD, &one, 8);
    }
    gb_silo_destroy(s);
    GB_CHECK((atomic_load(&g_deacts)) == (50), "check_eq");
}
