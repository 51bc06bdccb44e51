// gb-test-labels: concurrency
/* The turn gate: a non-reentrant actor waiting on a call holds other
 * messages back (in order) until the call completes; a reentrant actor keeps
 * handling them. */
#include <stdlib.h>

#include "actor/actor_test.h"

#define M_START 1u   /* call the holder, answer when it answers */
#define M_NOTE 2u    /* append payload byte to the log */
#define M_LOG 3u     /* reply with the log */
#define M_HOLD 4u    /* holder: defer the reply */
#define M_RELEASE 5u /* holder: answer the held request */

typedef struct logger {
    char log[16];
    int n;
    gb_reply_token start;
} logger;

typedef struct holder {
    gb_reply_token held;
} holder;

static gb_actor_id g_holder;

static void on_held(gb_actor_ctx *ctx, void *arg, gb_status st, const void *p, uint32_t len)
{
    logger *l = arg;
    l->log[l->n++] = 'D';
    gb_reply(gb_ctx_silo(ctx), &l->start, st, NULL, 0);
}

static gb_status logger_h(gb_actor_ctx *ctx, void *state, const gb_msg_header *m, const void *p)
{
    logger *l = state;
    switch (m->method) {
    case M_START:
        gb_ctx_defer_reply(ctx, &l->start);
        return gb_ctx_call(ctx, g_holder, M_HOLD, NULL, 0, 0, on_held, l);
    case M_NOTE:
        l->log[l->n++] = *(const char *)p;
        return GB_OK;
    default:
        return gb_ctx_reply(ctx, GB_OK, l->log, (uint32_t)l->n);
    }
}

static gb_status holder_h(gb_actor_ctx *ctx, void *state, const gb_msg_header *m, const void *p)
{
    holder *h = state;
    if (m->method == M_HOLD)
        return gb_ctx_defer_reply(ctx, &h->held);
    return gb_reply(gb_ctx_silo(ctx), &h->held, GB_OK, NULL, 0);
}

static void run(int reentrant, const char *expect)
{
    gb_silo *s = test_silo(NULL);
    gb_actor_type lt = {
        .name = "logger", .state_size = sizeof(logger), .handler = logger_h, .reentrant = reentrant};
    gb_actor_type ht = {.name = "holder", .state_size = sizeof(holder), .handler = holder_h};
    gb_actor_type_register(s, &lt);
    gb_actor_type_register(s, &ht);
    gb_actor_id l;
    gb_actor_ref_str(s, "logger", "l", &l);
    gb_actor_ref_str(s, "holder", "h", &g_holder);
    gb_future *start;
    GB_CHECK(gb_call_async(s, l, M_START, NULL, 0, 0, &start) == GB_OK, "start");
    gb_silo_stats st;
    GB_CHECK(WAIT_FOR(s, st, st.delivered >= 2), "the holder holds the call");
    GB_CHECK(gb_send(s, l, M_NOTE, "1", 1) == GB_OK, "note 1");
    GB_CHECK(gb_send(s, l, M_NOTE, "2", 1) == GB_OK, "note 2");
    if (reentrant)
        GB_CHECK(WAIT_FOR(s, st, st.delivered >= 4), "notes handled while waiting");
    GB_CHECK(gb_call(s, g_holder, M_RELEASE, NULL, 0, 0, NULL, 0, NULL) == GB_OK, "release");
    GB_CHECK(gb_future_wait(start) == GB_OK, "start completes");
    gb_future_release(start);
    char log[16] = {0};
    uint32_t n = 0;
    GB_CHECK(gb_call(s, l, M_LOG, NULL, 0, 0, log, sizeof log - 1, &n) == GB_OK, "log");
    GB_CHECK(strcmp(log, expect) == 0, "log is '%s', expected '%s'", log, expect);
    gb_silo_destroy(s);
}

GB_TEST(reentrancy, non_reentrant_actor_holds_messages_back_while_waiting)
{
    run(0, "D12");
}

GB_TEST(reentrancy, reentrant_actor_handles_messages_while_waiting)
{
    run(1, "12D");
}
