/* Activation without memory for the actor's state: the message is not
 * handled (the handler never sees NULL state); a call gets GB_ENOMEM with a
 * sentence in gb_last_error, a one-way message is dropped, logged and
 * counted in stats.dropped; the next message activates the actor. Failures
 * come from the runtime's test-only injection hook gbi_fault_state_alloc. */
#include <string.h>

#include "actor/actor_test.h"
#include "actor/runtime.h"

#define M_GET 1u /* reply with the state pointer's nullness and the count */
#define M_BUMP 2u

typedef struct counter {
    uint64_t n;
} counter;

static _Atomic int g_null_state; /* the handler ever saw NULL state */
static _Atomic int g_handled;

static gb_status handler(gb_actor_ctx *ctx, void *state, const gb_msg_header *m, const void *p)
{
    (void)p;
    counter *c = state;
    atomic_fetch_add(&g_handled, 1);
    if (!c) {
        atomic_store(&g_null_state, 1);
        return GB_EINTERNAL;
    }
    c->n++;
    if (m->method == M_GET)
        return gb_ctx_reply(ctx, GB_OK, &c->n, sizeof c->n);
    return GB_OK;
}

static gb_silo *setup(gb_actor_id *id)
{
    atomic_store(&g_null_state, 0);
    atomic_store(&g_handled, 0);
    gb_silo *s = test_silo(NULL);
    gb_actor_type t = {.name = "counter", .state_size = sizeof(counter), .handler = handler};
    GB_CHECK(gb_actor_type_register(s, &t) == GB_OK, "%s", gb_last_error());
    GB_CHECK(gb_actor_ref_str(s, "counter", "c", id) == GB_OK, "%s", gb_last_error());
    return s;
}

GB_TEST(activation_failure, call_gets_enomem_with_a_reason_and_no_handler_runs)
{
    gb_actor_id id;
    gb_silo *s = setup(&id);
    atomic_store(&gbi_fault_state_alloc, 1);
    uint64_t n = 7;
    uint32_t len = 99;
    gb_status st = gb_call(s, id, M_GET, NULL, 0, 0, &n, sizeof n, &len);
    atomic_store(&gbi_fault_state_alloc, 0);
    GB_CHECK(st == GB_ENOMEM, "got %s", gb_status_name(st));
    GB_CHECK(strstr(gb_last_error(), "no memory") != NULL, "reason: %s", gb_last_error());
    GB_CHECK(len == 0 && n == 7, "the runtime's reason is not copied as a reply (len %u)", len);
    GB_CHECK(atomic_load(&g_handled) == 0, "the handler did not run");
    gb_silo_stats stats;
    gb_silo_stats_get(s, &stats);
    GB_CHECK(stats.activations == 0 && stats.delivered == 0, "activations %llu delivered %llu",
             (unsigned long long)stats.activations, (unsigned long long)stats.delivered);
    gb_silo_destroy(s);
}

GB_TEST(activation_failure, next_message_activates_the_actor)
{
    gb_actor_id id;
    gb_silo *s = setup(&id);
    atomic_store(&gbi_fault_state_alloc, 1);
    GB_CHECK(gb_call(s, id, M_GET, NULL, 0, 0, NULL, 0, NULL) == GB_ENOMEM, "first call refused");
    atomic_store(&gbi_fault_state_alloc, 0);
    uint64_t n = 0;
    GB_CHECK(gb_call(s, id, M_GET, NULL, 0, 0, &n, sizeof n, NULL) == GB_OK, "%s", gb_last_error());
    GB_CHECK(n == 1, "fresh state counts the first handled message: %llu", (unsigned long long)n);
    GB_CHECK(!atomic_load(&g_null_state), "the handler never saw NULL state");
    gb_silo_destroy(s);
}

GB_TEST(activation_failure, one_way_message_is_dropped_and_counted)
{
    gb_actor_id id;
    gb_silo *s = setup(&id);
    atomic_store(&gbi_fault_state_alloc, 1);
    GB_CHECK(gb_send(s, id, M_BUMP, NULL, 0) == GB_OK, "%s", gb_last_error());
    gb_silo_stats stats;
    int dropped = WAIT_FOR(s, stats, stats.dropped == 1);
    atomic_store(&gbi_fault_state_alloc, 0);
    GB_CHECK(dropped, "dropped %llu", (unsigned long long)stats.dropped);
    GB_CHECK(atomic_load(&g_handled) == 0, "the handler did not run");
    GB_CHECK(stats.delivered == 0 && stats.activations == 0, "delivered %llu activations %llu",
             (unsigned long long)stats.delivered, (unsigned long long)stats.activations);
    /* the message after it is handled, by a fresh activation */
    uint64_t n = 0;
    GB_CHECK(gb_call(s, id, M_GET, NULL, 0, 0, &n, sizeof n, NULL) == GB_OK, "%s", gb_last_error());
    GB_CHECK(n == 1, "only the later message was handled: %llu", (unsigned long long)n);
    gb_silo_destroy(s);
}
