/*
 * The dispatch loop compiled for the host: kernels/ring_dispatch.gbk with
 * handlers called through the ring's table of host function pointers. The
 * CPU executor (src/device/cpu.c) calls gbi_ring_host_pass from its
 * consumer threads.
 */
#include "ring/ring_internal.h"

#define GB_RING_CALL_HANDLER(type, state, msg, hlc, ctx)                                        \
    (((const gb_ring_handler_fn *)(ctx)->host_handlers)[(type)]((state), (msg), (hlc), (ctx)))

#include "../../kernels/ring_dispatch.gbk"

void gbi_ring_host_ctx(gb_ring *ring, gb_ring_ctx *ctx, void (*notify)(void *, uint32_t), void *arg)
{
    gb_ring_ctx_init(ctx, ring->shm);
    ctx->host_handlers = ring->handlers;
    ctx->host_notify = notify;
    ctx->host_arg = arg;
}

uint32_t gbi_ring_host_pass(gb_ring *ring, uint32_t tid, gb_ring_ctx *ctx)
{
    for (uint32_t lane = tid; lane < ring->shm->lanes; lane += ring->shm->threads)
        gbi_sender_pump(&ring->senders[lane]);
    return gb_ring_pass(ring->shm, tid, ctx);
}
