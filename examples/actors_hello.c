/*
 * Virtual actors in a few lines: a bank account actor, a deposit (one-way)
 * and a balance query (a call). Build from the repository root:
 *   cc -std=c11 -Iinclude examples/actors_hello.c build/libgpubridge.a -lpthread -lm
 * (examples/ is not part of the CMake build.)
 */
#include <gpubridge/gpubridge.h>
#include <string.h>
#include <stdio.h>

typedef struct account {
    int64_t balance;
} account;

static gb_status account_handler(gb_actor_ctx *ctx, void *state, const gb_msg_header *msg,
                                 const void *payload)
{
    account *a = state;
    if (msg->method == gb_method_id("deposit")) {
        int64_t amount;
        memcpy(&amount, payload, sizeof amount);
        a->balance += amount;
        return GB_OK; /* one-way: nothing to answer */
    }
    if (msg->method == gb_method_id("balance"))
        return gb_ctx_reply(ctx, GB_OK, &a->balance, sizeof a->balance);
    return GB_EINVAL; /* a request gets this status back */
}

int main(void)
{
    gb_silo *silo;
    gb_silo_create(&silo, NULL); /* one worker per core */

    gb_actor_type t = {
        .name = "account",
        .state_size = sizeof(account), /* zeroed on activation */
        .handler = account_handler,
        .idle_timeout_ns = 60 * 1000000000LL,
    };
    gb_actor_type_register(silo, &t);

    gb_actor_id alice;
    gb_actor_ref_str(silo, "account", "alice", &alice); /* known, not active yet */

    int64_t amount = 100;
    gb_send(silo, alice, gb_method_id("deposit"), &amount, sizeof amount);

    int64_t balance;
    gb_status st = gb_call(silo, alice, gb_method_id("balance"), NULL, 0, 1000000000LL /* 1 s */, &balance,
                           sizeof balance, NULL);
    printf("%s: %lld\n", gb_status_name(st), (long long)balance); /* GB_OK: 100 */

    gb_silo_destroy(silo); /* drains, deactivates, frees */
    return 0;
}
