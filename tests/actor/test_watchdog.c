// gb-test-labels: concurrency
/* The stuck-turn watchdog reports a handler that blocks past the threshold. */
#include "actor/actor_test.h"

static gb_status stuck_handler(gb_actor_ctx *ctx, void *state, const gb_msg_header *m, const void *p)
{
    gb_silo_stats st;
    /* block this worker until the watchdog has reported us */
    GB_CHECK(WAIT_FOR(gb_ctx_silo(ctx), st, st.stuck_turns >= 1), "check");
    return GB_OK;
}

GB_TEST(watchdog, blocking_handler_is_reported_once)
{
    gb_silo_opts o = {.stuck_turn_ns = 2000000 /* 2 ms */};
    gb_silo *s = test_silo(&o);
    gb_actor_type t = {.name = "stuck", .handler = stuck_handler};
    GB_CHECK((gb_actor_type_register(s, &t)) == (GB_OK), "check_eq");
    gb_actor_id id;
    gb_actor_ref_str(s, "stuck", "s", &id);
    GB_CHECK((gb_call(s, id, 1, NULL, 0, 0, NULL, 0, NULL)) == (GB_OK), "check_eq");
    gb_silo_stats st;
    gb_silo_stats_get(s, &st);
    GB_CHECK((st.stuck_turns) == (1), "check_eq");
    gb_silo_destroy(s);
}
