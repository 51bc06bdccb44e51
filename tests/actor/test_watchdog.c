// gb-test-labels: concurrency
/* The stuck-turn watchdog reports a handler that blocks past the threshold. */
#include "actor/actor_test.h"

static gb_status stuck_handler(gb_actor_ctx *ctx, void *state, const gb_msg_header *m,
                               const void *p)
{
    gb_silo_stats st;
    /* block this worker until the watchdog has reported us */
    cr_assert(WAIT_FOR(gb_ctx_silo(ctx), st, st.stuck_turns >= 1));
    return GB_OK;
}

Test(watchdog, blocking_handler_is_reported_once)
{
    gb_silo_opts o = {.stuck_turn_ns = 2000000 /* 2 ms */};
    gb_silo *s = test_silo(&o);
    gb_actor_type t = {.name = "stuck", .handler = stuck_handler};
    cr_assert_eq(gb_actor_type_register(s, &t), GB_OK);
    gb_actor_id id;
    gb_actor_ref_str(s, "stuck", "s", &id);
    cr_assert_eq(gb_call(s, id, 1, NULL, 0, 0, NULL, 0, NULL), GB_OK);
    gb_silo_stats st;
    gb_silo_stats_get(s, &st);
    cr_assert_eq(st.stuck_turns, 1);
    gb_silo_destroy(s);
}
