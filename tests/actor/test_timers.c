// gb-test-labels: concurrency
/* Actor timers: periodic ticks, cancellation, cancelled on deactivation. */
#include "actor/actor_test.h"

#define M_START 1u
#define M_STOP 2u
#define M_GET 3u
#define M_TICK 4u

typedef struct ticker {
    uint64_t timer;
    uint64_t ticks;
    gb_status stop_again;
} ticker;

static gb_status ticker_handler(gb_actor_ctx *ctx, void *state, const gb_msg_header *m, const void *p)
{
    ticker *t = state;
    if (m->flags & GB_MSG_TIMER) {
        uint64_t id;
        memcpy(&id, p, 8);
        GB_CHECK((m->method) == (M_TICK), "check_eq");
        GB_CHECK((id) == (t->timer), "check_eq");
        t->ticks++;
        return GB_OK;
    }
    switch (m->method) {
    case M_START:
        return gb_ctx_timer_start(ctx, M_TICK, 0, 500000 /* 0.5 ms */, &t->timer);
    case M_STOP: {
        gb_status st = gb_ctx_timer_cancel(ctx, t->timer);
        t->stop_again = gb_ctx_timer_cancel(ctx, t->timer);
        return st;
    }
    default: {
        uint64_t out[2] = {t->ticks, (uint64_t)(int64_t)t->stop_again};
        return gb_ctx_reply(ctx, GB_OK, out, sizeof out);
    }
    }
}

static gb_silo *setup(int64_t idle_ns, gb_actor_id *id)
{
    gb_silo *s = test_silo(NULL);
    gb_actor_type t = {.name = "ticker",
                       .state_size = sizeof(ticker),
                       .handler = ticker_handler,
                       .idle_timeout_ns = idle_ns};
    GB_CHECK((gb_actor_type_register(s, &t)) == (GB_OK), "check_eq");
    gb_actor_ref_str(s, "ticker", "t", id);
    return s;
}

GB_TEST(timers, periodic_timer_ticks_until_cancelled)
{
    gb_actor_id id;
    gb_silo *s = setup(0, &id);
    GB_CHECK((gb_call(s, id, M_START, NULL, 0, 0, NULL, 0, NULL)) == (GB_OK), "check_eq");
    gb_silo_stats st;
    GB_CHECK(WAIT_FOR(s, st, st.delivered >= 6), "ticks arrive");
    GB_CHECK((gb_call(s, id, M_STOP, NULL, 0, 0, NULL, 0, NULL)) == (GB_OK), "check_eq");
    uint64_t out[2];
    GB_CHECK((gb_call(s, id, M_GET, NULL, 0, 0, out, sizeof out, NULL)) == (GB_OK), "check_eq");
    GB_CHECK((out[0]) >= (3), "check_geq");
    GB_CHECK(((gb_status)(int64_t)out[1]) == (GB_ENOENT), "second cancel finds no timer");
    gb_silo_destroy(s);
}

GB_TEST(timers, timers_are_cancelled_on_deactivation)
{
    gb_actor_id id;
    gb_silo *s = setup(3000000 /* 3 ms */, &id);
    GB_CHECK((gb_call(s, id, M_START, NULL, 0, 0, NULL, 0, NULL)) == (GB_OK), "check_eq");
    gb_silo_stats st;
    GB_CHECK(WAIT_FOR(s, st, st.deactivations >= 1), "ticks do not keep an actor alive");
    uint64_t out[2];
    GB_CHECK((gb_call(s, id, M_GET, NULL, 0, 0, out, sizeof out, NULL)) == (GB_OK), "check_eq");
    GB_CHECK((out[0]) == (0), "state was reset and no tick reached the new activation");
    gb_silo_stats_get(s, &st);
    GB_CHECK((st.activations) == (2), "check_eq");
    gb_silo_destroy(s);
}

GB_TEST(timers, timer_start_validates_arguments)
{
    gb_actor_id id;
    gb_silo *s = setup(0, &id);
    GB_CHECK((gb_ctx_timer_start(NULL, 1, 0, 0, NULL)) == (GB_EINVAL), "check_eq");
    GB_CHECK((gb_ctx_timer_cancel(NULL, 1)) == (GB_EINVAL), "check_eq");
    gb_silo_destroy(s);
}
