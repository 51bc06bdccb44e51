/* Silo lifecycle, type registry, identities and argument checks. */
#include "actor/actor_test.h"

static gb_status echo(gb_actor_ctx *ctx, void *state, const gb_msg_header *m, const void *p)
{
    (void)state;
    if (m->correlation)
        return gb_ctx_reply(ctx, GB_OK, p, m->payload_len);
    return GB_OK;
}

static const gb_actor_type echo_type = {.name = "echo", .handler = echo};

GB_TEST(silo, create_with_defaults_and_destroy)
{
    gb_silo *s = NULL;
    GB_CHECK((gb_silo_create(&s, NULL)) == (GB_OK), "check_eq");
    GB_CHECK((gb_silo_clock(s)) != NULL, "check_not_null");
    gb_silo_destroy(s);
    gb_silo_destroy(NULL);
}

GB_TEST(silo, create_rejects_bad_options)
{
    gb_silo *s = (gb_silo *)1;
    GB_CHECK((gb_silo_create(NULL, NULL)) == (GB_EINVAL), "check_eq");
    gb_silo_opts o = {.max_payload = 5000};
    GB_CHECK((gb_silo_create(&s, &o)) == (GB_EINVAL), "check_eq");
    GB_CHECK((s) == NULL, "check_null");
    gb_silo_opts o2 = {.full_policy = (gb_full_policy)7};
    GB_CHECK((gb_silo_create(&s, &o2)) == (GB_EINVAL), "check_eq");
}

GB_TEST(silo, registering_a_type_twice_gives_eexist)
{
    gb_silo *s = test_silo(NULL);
    GB_CHECK((gb_actor_type_register(s, &echo_type)) == (GB_OK), "check_eq");
    GB_CHECK((gb_actor_type_register(s, &echo_type)) == (GB_EEXIST), "check_eq");
    gb_silo_destroy(s);
}

GB_TEST(silo, register_rejects_missing_handler_and_remote_placement)
{
    gb_silo *s = test_silo(NULL);
    gb_actor_type t = {.name = "x"};
    GB_CHECK((gb_actor_type_register(s, &t)) == (GB_EINVAL), "check_eq");
    t.handler = echo;
    t.placement = GB_PLACEMENT_HASH;
    GB_CHECK((gb_actor_type_register(s, &t)) == (GB_ENOTSUP), "check_eq");
    GB_CHECK((gb_actor_type_register(NULL, &t)) == (GB_EINVAL), "check_eq");
    gb_silo_destroy(s);
}

GB_TEST(silo, unknown_type_gives_enoent)
{
    gb_silo *s = test_silo(NULL);
    gb_actor_id id = 1;
    GB_CHECK((gb_actor_ref_str(s, "nope", "k", &id)) == (GB_ENOENT), "check_eq");
    GB_CHECK((id) == (0), "check_eq");
    gb_silo_destroy(s);
}

GB_TEST(silo, ids_are_stable_and_distinct)
{
    GB_CHECK((gb_actor_id_str("echo", "a")) == (gb_actor_id_str("echo", "a")), "check_eq");
    GB_CHECK((gb_actor_id_str("echo", "a")) != (gb_actor_id_str("echo", "b")), "check_neq");
    GB_CHECK((gb_actor_id_str("echo", "a")) != (gb_actor_id_str("echo2", "a")), "check_neq");
    GB_CHECK((gb_actor_id_u64("echo", 1)) != (gb_actor_id_u64("echo", 2)), "check_neq");
    GB_CHECK((gb_actor_id_u64("echo", 0)) != (0), "check_neq");
}

GB_TEST(silo, ref_returns_the_stable_id)
{
    gb_silo *s = test_silo(NULL);
    gb_actor_type_register(s, &echo_type);
    gb_actor_id a, b;
    GB_CHECK((gb_actor_ref_str(s, "echo", "k", &a)) == (GB_OK), "check_eq");
    GB_CHECK((a) == (gb_actor_id_str("echo", "k")), "check_eq");
    GB_CHECK((gb_actor_ref_u64(s, "echo", 42, &b)) == (GB_OK), "check_eq");
    GB_CHECK((b) == (gb_actor_id_u64("echo", 42)), "check_eq");
    gb_silo_destroy(s);
}

GB_TEST(silo, send_to_unknown_id_gives_enoent)
{
    gb_silo *s = test_silo(NULL);
    GB_CHECK((gb_send(s, 12345, 1, NULL, 0)) == (GB_ENOENT), "check_eq");
    GB_CHECK((gb_call(s, 12345, 1, NULL, 0, 0, NULL, 0, NULL)) == (GB_ENOENT), "check_eq");
    gb_silo_destroy(s);
}

GB_TEST(silo, oversized_or_null_payload_is_refused)
{
    gb_silo_opts o = {.max_payload = 64};
    gb_silo *s = test_silo(&o);
    gb_actor_type_register(s, &echo_type);
    gb_actor_id a;
    gb_actor_ref_str(s, "echo", "k", &a);
    char big[65] = {0};
    GB_CHECK((gb_send(s, a, 1, big, 65)) == (GB_EMSGSIZE), "check_eq");
    GB_CHECK((gb_send(s, a, 1, NULL, 3)) == (GB_EINVAL), "check_eq");
    GB_CHECK((gb_send(s, a, 1, big, 64)) == (GB_OK), "check_eq");
    gb_silo_destroy(s);
}

GB_TEST(silo, call_echoes_payload_and_counts)
{
    gb_silo *s = test_silo(NULL);
    gb_actor_type_register(s, &echo_type);
    gb_actor_id a;
    gb_actor_ref_str(s, "echo", "k", &a);
    char out[16] = {0};
    uint32_t n = 0;
    GB_CHECK((gb_call(s, a, 7, "hello", 5, 0, out, sizeof out, &n)) == (GB_OK), "%s", gb_last_error());
    GB_CHECK((n) == (5), "check_eq");
    GB_CHECK(strcmp(out, "hello") == 0, "check_str_eq");
    gb_silo_stats st;
    gb_silo_stats_get(s, &st);
    GB_CHECK((st.sent) == (1), "check_eq");
    GB_CHECK((st.delivered) == (1), "check_eq");
    GB_CHECK((st.activations) == (1), "check_eq");
    GB_CHECK((st.actors) == (1), "check_eq");
    gb_silo_destroy(s);
}

GB_TEST(silo, short_reply_buffer_gives_emsgsize_with_full_length)
{
    gb_silo *s = test_silo(NULL);
    gb_actor_type_register(s, &echo_type);
    gb_actor_id a;
    gb_actor_ref_str(s, "echo", "k", &a);
    char out[4];
    uint32_t n = 0;
    GB_CHECK((gb_call(s, a, 7, "hello", 5, 0, out, sizeof out, &n)) == (GB_EMSGSIZE), "check_eq");
    GB_CHECK((n) == (5), "check_eq");
    GB_CHECK((memcmp(out, "hell", 4)) == (0), "check_eq");
    gb_silo_destroy(s);
}

static gb_silo *g_silo_seen;

static gb_status destroyer(gb_actor_ctx *ctx, void *state, const gb_msg_header *m, const void *p)
{
    g_silo_seen = gb_ctx_silo(ctx);
    gb_silo_destroy(gb_ctx_silo(ctx)); /* refused: it would join its own worker */
    return GB_OK;
}

GB_TEST(silo, destroy_from_a_handler_is_refused_and_the_silo_keeps_running)
{
    gb_silo *s = test_silo(NULL);
    gb_actor_type t = {.name = "d", .handler = destroyer};
    gb_actor_type_register(s, &t);
    gb_actor_id id;
    gb_actor_ref_str(s, "d", "x", &id);
    GB_CHECK(gb_call(s, id, 1, NULL, 0, 0, NULL, 0, NULL) == GB_OK, "first call");
    GB_CHECK(g_silo_seen == s, "handler ran");
    GB_CHECK(gb_call(s, id, 1, NULL, 0, 0, NULL, 0, NULL) == GB_OK, "silo still serves");
    gb_silo_destroy(s);
}
