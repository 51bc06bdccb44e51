// gb-test-labels: concurrency
/* Causal recording of device actors at the host boundary: a message is
 * received by the device actor when it enters the ring, and what the
 * device sends (replies, one-way messages to CPU actors) is sent by it when
 * it leaves the outbound queue; so a CPU actor's call to a device actor
 * happens before the device's reply is received, a device's one-way
 * message happens after what it received before, and the history is
 * accepted by gb_causal_verify. */
#include <stdio.h>
#include <stdlib.h>

#include "actor/actor_test.h"
#include "gpubridge/causal.h"
#include "gpubridge/kernel_lang.h"
#include "ring/kernels.h" /* the ring API the handler source uses, natively */

#define D_ADD 1u  /* reply [count] */
#define D_EMIT 3u /* [cpu actor]: one-way [count] to it (method H_FROMDEV) */
#define H_CALLDEV 1u
#define H_FROMDEV 2u

GB_DUAL_SOURCE(
    cdev_src, GB_DEVICE_FN gb_i32 cdev_on_message(GB_GLOBAL gb_u8 *state, GB_GLOBAL const gb_msg_header *msg,
                                                  gb_u64 hlc, gb_ring_ctx *ctx) {
        GB_GLOBAL gb_u64 *count = (GB_GLOBAL gb_u64 *)state;
        GB_GLOBAL gb_u8 *out;
        (void)hlc;
        *count = *count + 1u;
        if (msg->method == 1u && msg->correlation) {
            out = gb_ring_begin_reply(ctx, msg, 8);
        } else if (msg->method == 3u) {
            out = gb_ring_begin_emit(ctx, gb_payload_get_u64(msg, 0), 2u, 0, 8);
        } else {
            return 0;
        }
        if (!out)
            return -4;
        gb_payload_put_u64(out, 0, *count);
        gb_ring_end(ctx);
        return 0;
    })

static _Atomic int g_replies, g_from_dev;

static void on_reply(gb_actor_ctx *ctx, void *arg, gb_status st, const void *p, uint32_t len)
{
    (void)ctx, (void)arg, (void)p, (void)len;
    if (st == GB_OK)
        atomic_fetch_add(&g_replies, 1);
}

static gb_status host_handler(gb_actor_ctx *ctx, void *state, const gb_msg_header *m, const void *p)
{
    (void)state;
    if (m->method == H_CALLDEV) {
        uint64_t dev;
        memcpy(&dev, p, 8);
        return gb_ctx_call(ctx, dev, D_ADD, NULL, 0, 0, on_reply, NULL);
    }
    if (m->method == H_FROMDEV)
        atomic_fetch_add(&g_from_dev, 1);
    return GB_OK;
}

/* The first or last event of kind by actor (0: none). */
static uint64_t event_of(gb_causal_graph *g, gb_causal_kind kind, uint64_t actor, int first)
{
    uint64_t found = 0;
    for (uint64_t id = 1; id <= gb_causal_count(g); id++) {
        gb_causal_event e;
        GB_CHECK(gb_causal_event_get(g, id, &e, NULL) == GB_OK, "%s", gb_last_error());
        if (e.kind == kind && e.actor == actor) {
            GB_CHECK(e.node == gb_silo_actor_node(actor), "the node of the actor");
            found = id;
            if (first)
                break;
        }
    }
    return found;
}

GB_TEST(causal_feed_device, device_actor_messages_are_recorded_at_the_host_boundary)
{
    gb_causal_graph *g;
    GB_CHECK(gb_causal_create(&g) == GB_OK, "create");
    gb_silo_opts o = {.causal = g, .drain_timeout_ns = 100000000};
    gb_silo *s = test_silo(&o);
    gb_actor_device d = {.source = cdev_src,
                         .fn = "cdev_on_message",
                         .host_fn = cdev_on_message,
                         .state_size = 8,
                         .devices = "cpu",
                         .mode = GB_RING_PERSISTENT};
    gb_actor_type dt = {.name = "cdev", .device = &d};
    gb_actor_type ht = {.name = "host", .handler = host_handler};
    GB_CHECK(gb_actor_type_register(s, &dt) == GB_OK, "%s", gb_last_error());
    GB_CHECK(gb_actor_type_register(s, &ht) == GB_OK, "%s", gb_last_error());
    gb_actor_id dev, host;
    GB_CHECK(gb_actor_ref_u64(s, "cdev", 1, &dev) == GB_OK, "%s", gb_last_error());
    GB_CHECK(gb_actor_ref_u64(s, "host", 1, &host) == GB_OK, "%s", gb_last_error());
    atomic_store(&g_replies, 0);
    atomic_store(&g_from_dev, 0);
    GB_CHECK(gb_send(s, host, H_CALLDEV, &dev, 8) == GB_OK, "%s", gb_last_error());
    GB_CHECK(wait_atomic(&g_replies, 1), "the host actor got the device's reply");
    GB_CHECK(gb_send(s, dev, D_EMIT, &host, 8) == GB_OK, "%s", gb_last_error());
    GB_CHECK(wait_atomic(&g_from_dev, 1), "the host actor got the device's one-way message");
    gb_silo_destroy(s);

    /* host: RECV CALLDEV, SEND request, RECV reply, RECV one-way; dev: RECV
     * request, SEND reply, RECV EMIT, SEND one-way */
    uint64_t call = event_of(g, GB_CAUSAL_SEND, host, 1);
    uint64_t dev_in = event_of(g, GB_CAUSAL_RECV, dev, 1);
    uint64_t dev_reply = event_of(g, GB_CAUSAL_SEND, dev, 1);
    uint64_t reply_in = 0, emit_in = event_of(g, GB_CAUSAL_RECV, host, 0);
    for (uint64_t id = call + 1; call && id <= gb_causal_count(g) && !reply_in; id++) {
        gb_causal_event e;
        GB_CHECK(gb_causal_event_get(g, id, &e, NULL) == GB_OK, "%s", gb_last_error());
        reply_in = e.kind == GB_CAUSAL_RECV && e.actor == host ? id : 0;
    }
    uint64_t dev_emit = event_of(g, GB_CAUSAL_SEND, dev, 0);
    GB_CHECK(call && dev_in && dev_reply && reply_in && dev_emit && emit_in,
             "every event recorded: %llu %llu %llu %llu %llu %llu of %zu", (unsigned long long)call,
             (unsigned long long)dev_in, (unsigned long long)dev_reply, (unsigned long long)reply_in,
             (unsigned long long)dev_emit, (unsigned long long)emit_in, gb_causal_count(g));
    GB_CHECK(dev_emit != dev_reply && emit_in != reply_in, "two messages from the device");
    bool hb = false;
    GB_CHECK(gb_causal_happened_before(g, call, dev_in, &hb) == GB_OK && hb, "call before the ring has it");
    GB_CHECK(gb_causal_happened_before(g, dev_in, dev_reply, &hb) == GB_OK && hb, "received before replying");
    GB_CHECK(gb_causal_happened_before(g, dev_reply, reply_in, &hb) == GB_OK && hb,
             "reply before its receive");
    GB_CHECK(gb_causal_happened_before(g, dev_reply, dev_emit, &hb) == GB_OK && hb, "the device's own order");
    GB_CHECK(gb_causal_happened_before(g, dev_emit, emit_in, &hb) == GB_OK && hb,
             "one-way before its receive");
    gb_causal_violation v;
    GB_CHECK(gb_causal_verify(g, NULL, &v) == GB_OK, "%s: %s", gb_causal_violation_name(v.kind), v.what);
    gb_causal_destroy(g);
}
