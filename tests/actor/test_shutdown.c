// gb-test-labels: concurrency
/* gb_silo_destroy with messages in flight: every accepted message is handled
 * or its caller gets GB_ECLOSED; blocked callers are woken. */
#include <pthread.h>

#include "actor/actor_test.h"

static _Atomic uint64_t g_handled;

static gb_status work_handler(gb_actor_ctx *ctx, void *state, const gb_msg_header *m, const void *p)
{
    if (m->method == 2) { /* hold: never answered */
        gb_reply_token tok;
        return gb_ctx_defer_reply(ctx, &tok);
    }
    if (m->method == 3) { /* forward to payload actor: internal traffic */
        gb_actor_id next;
        memcpy(&next, p, 8);
        gb_ctx_send(ctx, next, 1, NULL, 0);
    }
    for (volatile int i = 0; i < 200; i++)
        ;
    atomic_fetch_add(&g_handled, 1);
    return GB_OK;
}

static gb_silo *setup(int64_t drain_ns)
{
    atomic_store(&g_handled, 0);
    gb_silo_opts o = {.drain_timeout_ns = drain_ns};
    gb_silo *s = test_silo(&o);
    gb_actor_type t = {.name = "w", .handler = work_handler};
    GB_CHECK((gb_actor_type_register(s, &t)) == (GB_OK), "check_eq");
    return s;
}

static uint64_t flood(gb_silo *s, int actors, int per_actor)
{
    uint64_t accepted = 0;
    for (int i = 0; i < per_actor; i++)
        for (int k = 0; k < actors; k++) {
            gb_actor_id id;
            gb_actor_ref_u64(s, "w", (uint64_t)k, &id);
            if (gb_send(s, id, 1, NULL, 0) == GB_OK)
                accepted++;
        }
    return accepted;
}

GB_TEST(shutdown, destroy_handles_every_accepted_message_after_drain)
{
    gb_silo *s = setup(0);
    uint64_t accepted = flood(s, 64, 300);
    gb_silo_destroy(s);
    GB_CHECK((atomic_load(&g_handled)) == (accepted), "check_eq");
}

GB_TEST(shutdown, destroy_handles_the_rest_when_the_drain_times_out)
{
    gb_silo *s = setup(1000 /* 1 us: the drain gives up at once */);
    uint64_t accepted = flood(s, 64, 300);
    gb_silo_destroy(s);
    GB_CHECK((atomic_load(&g_handled)) == (accepted), "check_eq");
}

typedef struct caller {
    gb_silo *s;
    gb_actor_id id;
    gb_status st;
} caller;

static void *hold_call(void *p)
{
    caller *c = p;
    c->st = gb_call(c->s, c->id, 2, NULL, 0, 60000000000LL, NULL, 0, NULL);
    return NULL;
}

GB_TEST(shutdown, blocked_caller_gets_eclosed)
{
    gb_silo *s = setup(0);
    caller c = {s, 0, GB_OK};
    gb_actor_ref_str(s, "w", "hold", &c.id);
    pthread_t t;
    pthread_create(&t, NULL, hold_call, &c);
    gb_silo_stats st;
    GB_CHECK(WAIT_FOR(s, st, st.delivered >= 1), "the held request reached its actor");
    gb_future *f;
    GB_CHECK((gb_call_async(s, c.id, 2, NULL, 0, 0, &f)) == (GB_OK), "check_eq");
    gb_silo_destroy(s);
    pthread_join(t, NULL);
    GB_CHECK((c.st) == (GB_ECLOSED), "check_eq");
    GB_CHECK((gb_future_wait(f)) == (GB_ECLOSED), "a future outlives its silo");
    gb_future_release(f);
}

GB_TEST(shutdown, internal_traffic_during_destroy_is_not_lost)
{
    gb_silo *s = setup(0);
    gb_actor_id a, b;
    gb_actor_ref_str(s, "w", "a", &a);
    gb_actor_ref_str(s, "w", "b", &b);
    uint64_t accepted = 0;
    for (int i = 0; i < 2000; i++)
        if (gb_send(s, a, 3, &b, 8) == GB_OK)
            accepted++;
    gb_silo_destroy(s);
    GB_CHECK((atomic_load(&g_handled)) == (2 * accepted), "check_eq");
}
