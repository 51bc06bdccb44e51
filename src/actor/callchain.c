/*
 * Deadlock detection through call chains (Orleans-style). A request carries
 * the ids of the actors waiting on it, outermost first. Before a handler
 * calls `target`, the chain of its current context plus itself is checked:
 * if target is already in it and target is non-reentrant, target is waiting
 * (its gate only lets responses through) and would never take the request,
 * so the call fails at once with GB_EDEADLK instead of hanging until its
 * timeout. A reentrant target accepts the request: that is call-chain
 * reentrancy. One-way messages carry no chain (nobody waits on them), and
 * chains of unrelated calls never mix, so separate chains give no false
 * positive.
 */
#include <string.h>

#include "actor/runtime.h"
#include "base/error.h"

gb_status gbi_chain_extend(const gb_actor_ctx *ctx, const gbi_actor *target, uint64_t *chain, uint32_t *len)
{
    uint32_t n = ctx->chain_len;
    if (n + 1 > GB_CALL_CHAIN_MAX)
        return gbi_error(GB_ERANGE, "gb_ctx_call", "call chain deeper than %d actors", GB_CALL_CHAIN_MAX);
    if (n)
        memcpy(chain, ctx->chain, n * sizeof *chain);
    chain[n++] = ctx->actor->id;
    *len = n;
    if (target->type->desc.reentrant)
        return GB_OK;
    for (uint32_t i = 0; i < n; i++) {
        if (chain[i] == target->id) {
            gbi_count(&ctx->c->deadlocks, 1);
            return gbi_error(GB_EDEADLK, "gb_ctx_call",
                             "actor %016llx is waiting in this call chain (%u deep) and is not "
                             "reentrant",
                             (unsigned long long)target->id, n);
        }
    }
    return GB_OK;
}
