// gb-test-labels: concurrency
/* Call timeouts: GB_ETIMEDOUT for every kind of caller, late responses
 * dropped and counted, never delivered to another call. */
#include <stdlib.h>

#include "actor/actor_test.h"

#define M_HOLD 1u      /* defer the reply and keep the token */
#define M_RELEASE 2u   /* answer the held request with "late" */
#define M_PING 3u      /* answer "pong" */
#define M_CALL_HOLD 4u /* call payload actor's M_HOLD with a 2 ms timeout, report status */

typedef struct holder {
    gb_reply_token held;
    int has;
} holder;

static void on_sub(gb_actor_ctx *ctx, void *arg, gb_status st, const void *p, uint32_t len)
{
    gb_reply_token *tok = arg;
    int32_t code = st;
    gb_reply(gb_ctx_silo(ctx), tok, GB_OK, &code, sizeof code);
    free(tok);
}

static gb_status holder_handler(gb_actor_ctx *ctx, void *state, const gb_msg_header *m, const void *p)
{
    holder *h = state;
    switch (m->method) {
    case M_HOLD:
        h->has = 1;
        return gb_ctx_defer_reply(ctx, &h->held);
    case M_RELEASE: {
        gb_status st = h->has ? gb_reply(gb_ctx_silo(ctx), &h->held, GB_OK, "late", 4) : GB_ENOENT;
        h->has = 0;
        int32_t code = st;
        return gb_ctx_reply(ctx, GB_OK, &code, sizeof code);
    }
    case M_CALL_HOLD: {
        gb_actor_id target;
        memcpy(&target, p, 8);
        gb_reply_token *tok = malloc(sizeof *tok);
        gb_ctx_defer_reply(ctx, tok);
        return gb_ctx_call(ctx, target, M_HOLD, NULL, 0, 2000000, on_sub, tok);
    }
    default:
        return gb_ctx_reply(ctx, GB_OK, "pong", 4);
    }
}

static gb_silo *setup(gb_actor_id *a, gb_actor_id *b)
{
    gb_silo *s = test_silo(NULL);
    gb_actor_type t = {
        .name = "holder", .state_size = sizeof(holder), .handler = holder_handler, .reentrant = 1};
    GB_CHECK((gb_actor_type_register(s, &t)) == (GB_OK), "check_eq");
    gb_actor_ref_str(s, "holder", "a", a);
    gb_actor_ref_str(s, "holder", "b", b);
    return s;
}

static int32_t release(gb_silo *s, gb_actor_id id)
{
    int32_t code = 99;
    GB_CHECK((gb_call(s, id, M_RELEASE, NULL, 0, 0, &code, sizeof code, NULL)) == (GB_OK), "check_eq");
    return code;
}

GB_TEST(timeouts, blocking_call_times_out_and_late_reply_is_dropped)
{
    gb_actor_id a, b;
    gb_silo *s = setup(&a, &b);
    GB_CHECK((gb_call(s, a, M_HOLD, NULL, 0, 2000000, NULL, 0, NULL)) == (GB_ETIMEDOUT), "check_eq");
    GB_CHECK((release(s, a)) == (GB_ETIMEDOUT), "the late reply is refused");
    char out[8] = {0};
    GB_CHECK((gb_call(s, a, M_PING, NULL, 0, 0, out, sizeof out, NULL)) == (GB_OK), "check_eq");
    GB_CHECK(strcmp(out, "pong") == 0, "the next call gets its own response");
    gb_silo_stats st;
    gb_silo_stats_get(s, &st);
    GB_CHECK((st.late_responses) == (1), "check_eq");
    GB_CHECK((st.timeouts) == (1), "check_eq");
    gb_silo_destroy(s);
}

GB_TEST(timeouts, future_times_out_through_the_service_thread)
{
    gb_actor_id a, b;
    gb_silo *s = setup(&a, &b);
    gb_future *f;
    GB_CHECK((gb_call_async(s, a, M_HOLD, NULL, 0, 2000000, &f)) == (GB_OK), "check_eq");
    GB_CHECK((gb_future_wait(f)) == (GB_ETIMEDOUT), "check_eq");
    uint32_t n = 1;
    GB_CHECK((gb_future_payload(f, &n)) == NULL, "check_null");
    GB_CHECK((n) == (0), "check_eq");
    gb_future_release(f);
    GB_CHECK((release(s, a)) == (GB_ETIMEDOUT), "check_eq");
    gb_silo_destroy(s);
}

GB_TEST(timeouts, actor_caller_gets_etimedout_in_its_callback)
{
    gb_actor_id a, b;
    gb_silo *s = setup(&a, &b);
    int32_t code = 0;
    GB_CHECK((gb_call(s, a, M_CALL_HOLD, &b, 8, 0, &code, sizeof code, NULL)) == (GB_OK), "check_eq");
    GB_CHECK((code) == (GB_ETIMEDOUT), "check_eq");
    GB_CHECK((release(s, b)) == (GB_ETIMEDOUT), "check_eq");
    gb_silo_stats st;
    gb_silo_stats_get(s, &st);
    GB_CHECK((st.late_responses) == (1), "check_eq");
    gb_silo_destroy(s);
}

GB_TEST(timeouts, reply_in_time_is_delivered_once)
{
    gb_actor_id a, b;
    gb_silo *s = setup(&a, &b);
    gb_future *f;
    GB_CHECK((gb_call_async(s, a, M_HOLD, NULL, 0, 0, &f)) == (GB_OK), "check_eq");
    GB_CHECK((release(s, a)) == (GB_OK), "check_eq");
    GB_CHECK((gb_future_wait(f)) == (GB_OK), "check_eq");
    uint32_t n;
    const char *p = gb_future_payload(f, &n);
    GB_CHECK((n) == (4), "check_eq");
    GB_CHECK((memcmp(p, "late", 4)) == (0), "check_eq");
    gb_future_release(f);
    gb_silo_stats st;
    gb_silo_stats_get(s, &st);
    GB_CHECK((st.late_responses) == (0), "check_eq");
    gb_silo_destroy(s);
}

GB_TEST(timeouts, longest_timeouts_do_not_overflow)
{
    gb_actor_id a, b;
    gb_silo *s = setup(&a, &b);
    char out[8] = {0};
    GB_CHECK(gb_call(s, a, M_PING, NULL, 0, INT64_MAX, out, sizeof out, NULL) == GB_OK, "call");
    gb_future *f;
    GB_CHECK(gb_call_async(s, a, M_PING, NULL, 0, INT64_MAX, &f) == GB_OK, "async");
    GB_CHECK(gb_future_wait(f) == GB_OK, "wait");
    gb_future_release(f);
    gb_silo_destroy(s);
}
