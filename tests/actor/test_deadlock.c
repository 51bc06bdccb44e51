// gb-test-labels: concurrency
/* Call-chain deadlock detection: A->B->A and longer cycles fail at once
 * with GB_EDEADLK; reentrant types and separate chains are not refused. */
#include <stdio.h>
#include <stdlib.h>

#include "actor/actor_test.h"

/* Each actor's handler: the payload is a list of actor ids still to call;
 * it calls the first with the rest and answers with the result it got. */
typedef struct hop {
    gb_reply_token tok;
} hop;

static void hop_done(gb_actor_ctx *ctx, void *arg, gb_status st, const void *p, uint32_t len)
{
    hop *h = arg;
    gb_reply(gb_ctx_silo(ctx), &h->tok, st, p, len);
    free(h);
}

static gb_status hop_handler(gb_actor_ctx *ctx, void *state, const gb_msg_header *m, const void *p)
{
    if (m->payload_len < 8)
        return GB_OK; /* end of the path */
    gb_actor_id next;
    memcpy(&next, p, 8);
    hop *h = malloc(sizeof *h);
    gb_ctx_defer_reply(ctx, &h->tok);
    gb_status st =
        gb_ctx_call(ctx, next, m->method, (const uint8_t *)p + 8, m->payload_len - 8, 0, hop_done, h);
    if (st != GB_OK) {
        gb_reply(gb_ctx_silo(ctx), &h->tok, st, NULL, 0);
        free(h);
    }
    return GB_OK;
}

static gb_silo *setup(void)
{
    gb_silo *s = test_silo(NULL);
    gb_actor_type plain = {.name = "plain", .handler = hop_handler};
    gb_actor_type re = {.name = "re", .handler = hop_handler, .reentrant = 1};
    GB_CHECK((gb_actor_type_register(s, &plain)) == (GB_OK), "check_eq");
    GB_CHECK((gb_actor_type_register(s, &re)) == (GB_OK), "check_eq");
    return s;
}

static gb_actor_id ref(gb_silo *s, const char *type, const char *key)
{
    gb_actor_id id;
    GB_CHECK((gb_actor_ref_str(s, type, key, &id)) == (GB_OK), "check_eq");
    return id;
}

/* Call path[0] with the rest of the path as payload. */
static gb_status run_path(gb_silo *s, const gb_actor_id *path, int n)
{
    return gb_call(s, path[0], 1, path + 1, (uint32_t)(n - 1) * 8, 5000000000LL, NULL, 0, NULL);
}

GB_TEST(deadlock, a_b_a_fails_with_edeadlk)
{
    gb_silo *s = setup();
    gb_actor_id a = ref(s, "plain", "a"), b = ref(s, "plain", "b");
    gb_actor_id path[] = {a, b, a};
    GB_CHECK((run_path(s, path, 3)) == (GB_EDEADLK), "check_eq");
    gb_silo_stats st;
    gb_silo_stats_get(s, &st);
    GB_CHECK((st.deadlocks) == (1), "check_eq");
    GB_CHECK((st.timeouts) == (0), "check_eq");
    gb_silo_destroy(s);
}

GB_TEST(deadlock, longer_cycle_fails_with_edeadlk)
{
    gb_silo *s = setup();
    gb_actor_id a = ref(s, "plain", "a"), b = ref(s, "plain", "b"), c = ref(s, "plain", "c"),
                d = ref(s, "plain", "d");
    gb_actor_id path[] = {a, b, c, d, b};
    GB_CHECK((run_path(s, path, 5)) == (GB_EDEADLK), "check_eq");
    gb_silo_destroy(s);
}

GB_TEST(deadlock, self_call_of_non_reentrant_actor_fails)
{
    gb_silo *s = setup();
    gb_actor_id a = ref(s, "plain", "a");
    gb_actor_id path[] = {a, a};
    GB_CHECK((run_path(s, path, 2)) == (GB_EDEADLK), "check_eq");
    gb_silo_destroy(s);
}

GB_TEST(deadlock, reentrant_actor_accepts_call_chain_reentrancy)
{
    gb_silo *s = setup();
    gb_actor_id r = ref(s, "re", "r"), b = ref(s, "plain", "b");
    gb_actor_id path[] = {r, b, r};
    GB_CHECK((run_path(s, path, 3)) == (GB_OK), "%s", gb_last_error());
    gb_silo_stats st;
    gb_silo_stats_get(s, &st);
    GB_CHECK((st.deadlocks) == (0), "check_eq");
    gb_silo_destroy(s);
}

GB_TEST(deadlock, cycle_through_non_reentrant_member_still_fails)
{
    gb_silo *s = setup();
    gb_actor_id a = ref(s, "plain", "a"), r = ref(s, "re", "r");
    gb_actor_id path[] = {a, r, a};
    GB_CHECK((run_path(s, path, 3)) == (GB_EDEADLK), "check_eq");
    gb_silo_destroy(s);
}

GB_TEST(deadlock, separate_chains_through_the_same_actors_succeed)
{
    gb_silo *s = setup();
    gb_actor_id a = ref(s, "plain", "a"), b = ref(s, "plain", "b"), c = ref(s, "plain", "c");
    gb_actor_id p1[] = {a, b, c};
    gb_actor_id p2[] = {c, b};
    gb_actor_id p3[] = {b, a};
    for (int i = 0; i < 50; i++) {
        GB_CHECK((run_path(s, p1, 3)) == (GB_OK), "check_eq");
        GB_CHECK((run_path(s, p2, 2)) == (GB_OK), "check_eq");
        GB_CHECK((run_path(s, p3, 2)) == (GB_OK), "check_eq");
    }
    gb_silo_stats st;
    gb_silo_stats_get(s, &st);
    GB_CHECK((st.deadlocks) == (0), "check_eq");
    gb_silo_destroy(s);
}

GB_TEST(deadlock, chain_deeper_than_the_limit_gives_erange)
{
    gb_silo *s = setup();
    gb_actor_id path[GB_CALL_CHAIN_MAX + 2];
    char key[8];
    for (int i = 0; i < GB_CALL_CHAIN_MAX + 2; i++) {
        snprintf(key, sizeof key, "k%d", i);
        path[i] = ref(s, "plain", key);
    }
    GB_CHECK((run_path(s, path, GB_CALL_CHAIN_MAX + 2)) == (GB_ERANGE), "check_eq");
    gb_silo_destroy(s);
}
