// gb-test-labels: concurrency
/* Calls made by device handlers (gb_ring_begin_call): the reply to a call
 * to a CPU actor comes back as a message to the device actor with its
 * token; a failed call comes back as an error status; many calls from
 * several device actors each get their own reply; a device actor calls a
 * device actor of another type. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include "actor/actor_test.h"
#include "gpubridge/device.h"
#include "gpubridge/kernel_lang.h"
#include "ring/kernels.h"

#define K_CALL 1u /* [target, value, token]: call target's method 7 with [value]; reply [] at once */
#define K_GET 2u  /* reply [replies, sum of replies, errors, last error status, last token, calls made] */
#define K_ECHO 7u /* (the device callee) reply [value * 3] */
#define H_TWICE 7u

GB_DUAL_SOURCE(
    cl_src,
    typedef struct cl_state {
        gb_u64 replies;
        gb_u64 sum;
        gb_u64 errors;
        gb_u64 last_status;
        gb_u64 last_token;
        gb_u64 calls;
    } cl_state;

    GB_DEVICE_FN gb_i32 cl_on_message(GB_GLOBAL gb_u8 * state, GB_GLOBAL const gb_msg_header *msg, gb_u64 hlc,
                                      gb_ring_ctx *ctx) {
        GB_GLOBAL cl_state *s = (GB_GLOBAL cl_state *)state;
        GB_GLOBAL gb_u8 *out;
        if (msg->flags & GB_MSG_RESPONSE) { /* the continuation: a reply to one of our calls */
            s->last_token = msg->correlation;
            if (msg->flags & GB_MSG_ERROR) {
                s->errors++;
                s->last_status = (gb_u64)(gb_i64)(*(GB_GLOBAL const gb_i32 *)gb_msg_payload(msg));
                return 0;
            }
            s->replies++;
            s->sum += gb_payload_get_u64(msg, 0);
            return 0;
        }
        if (msg->method == 1u) {
            out = gb_ring_begin_call(ctx, gb_payload_get_u64(msg, 0), 7u, gb_payload_get_u64(msg, 2), 8);
            if (!out)
                return -4;
            s->calls++;
            gb_payload_put_u64(out, 0, gb_payload_get_u64(msg, 1));
            gb_ring_end(ctx);
            return 0;
        }
        if (msg->method == 7u) { /* as a callee: triple the value */
            out = gb_ring_begin_reply(ctx, msg, 8);
            if (!out)
                return -4;
            gb_payload_put_u64(out, 0, gb_payload_get_u64(msg, 0) * 3);
            gb_ring_end(ctx);
            return 0;
        }
        if (msg->method != 2u)
            return -1;
        out = gb_ring_begin_reply(ctx, msg, 48);
        if (!out)
            return -4;
        gb_payload_put_u64(out, 0, s->replies);
        gb_payload_put_u64(out, 1, s->sum);
        gb_payload_put_u64(out, 2, s->errors);
        gb_payload_put_u64(out, 3, s->last_status);
        gb_payload_put_u64(out, 4, s->last_token);
        gb_payload_put_u64(out, 5, s->calls);
        gb_ring_end(ctx);
        return 0;
    })

static gb_status twice(gb_actor_ctx *ctx, void *state, const gb_msg_header *m, const void *p)
{
    (void)state;
    uint64_t v;
    if (m->method != H_TWICE || m->payload_len != 8)
        return GB_EINVAL;
    memcpy(&v, p, 8);
    v *= 2;
    return gb_ctx_reply(ctx, GB_OK, &v, 8);
}

static gb_silo *call_silo_on(const char *devices)
{
    gb_silo *s = test_silo(NULL);
    gb_actor_device d = {.source = cl_src,
                         .fn = "cl_on_message",
                         .host_fn = cl_on_message,
                         .state_size = sizeof(cl_state),
                         .devices = devices};
    gb_actor_type t = {.name = "caller", .device = &d};
    gb_actor_type t2 = {.name = "callee", .device = &d};
    gb_actor_type h = {.name = "twice", .handler = twice};
    GB_CHECK(gb_actor_type_register(s, &t) == GB_OK, "%s", gb_last_error());
    GB_CHECK(gb_actor_type_register(s, &t2) == GB_OK, "%s", gb_last_error());
    GB_CHECK(gb_actor_type_register(s, &h) == GB_OK, "%s", gb_last_error());
    return s;
}

static gb_silo *call_silo(void)
{
    return call_silo_on("cpu");
}

static gb_actor_id ref(gb_silo *s, const char *type, uint64_t key)
{
    gb_actor_id a;
    GB_CHECK(gb_actor_ref_u64(s, type, key, &a) == GB_OK, "%s", gb_last_error());
    return a;
}

static void start_call(gb_silo *s, gb_actor_id dev, gb_actor_id target, uint64_t value, uint64_t token)
{
    uint64_t in[3] = {target, value, token};
    GB_CHECK(gb_send(s, dev, K_CALL, in, sizeof in) == GB_OK, "%s", gb_last_error());
}

/* The device actor's state once it counted n answers (bounded wait: the
 * replies travel callee -> completion -> ring). */
static void wait_answers(gb_silo *s, gb_actor_id dev, uint64_t n, uint64_t g[6])
{
    int64_t until = gb_time_monotonic_ns() + 10000000000LL;
    do {
        uint32_t len = 0;
        GB_CHECK(gb_call(s, dev, K_GET, NULL, 0, 0, g, 48, &len) == GB_OK && len == 48, "%s",
                 gb_last_error());
        if (g[0] + g[2] >= n)
            return;
        sched_yield();
    } while (gb_time_monotonic_ns() < until);
}

GB_TEST(device_calls, device_handler_calls_a_cpu_actor_and_gets_the_reply)
{
    gb_silo *s = call_silo();
    gb_actor_id dev = ref(s, "caller", 1);
    start_call(s, dev, ref(s, "twice", 1), 21, 99);
    uint64_t g[6];
    wait_answers(s, dev, 1, g);
    GB_CHECK(g[0] == 1 && g[1] == 42 && g[2] == 0 && g[4] == 99,
             "replies %llu sum %llu errors %llu token %llu", (unsigned long long)g[0],
             (unsigned long long)g[1], (unsigned long long)g[2], (unsigned long long)g[4]);
    gb_silo_destroy(s);
}

GB_TEST(device_calls, pocl_handler_calls_a_cpu_actor_and_gets_the_reply)
{
#if defined(__SANITIZE_THREAD__)
    GB_SKIP("PoCL's kernel threads are not instrumented for ThreadSanitizer");
#else
    if (gb_backend_available("opencl") != GB_OK)
        GB_SKIP("no OpenCL here: %s", gb_last_error());
    gb_silo *s = call_silo_on("opencl");
    const char *be = NULL;
    GB_CHECK(gb_actor_type_backend(s, "caller", &be) == GB_OK && strcmp(be, "opencl") == 0, "on %s", be);
    gb_actor_id dev = ref(s, "caller", 1);
    start_call(s, dev, ref(s, "twice", 1), 21, 99);
    start_call(s, dev, ref(s, "callee", 1), 2, 100); /* PoCL -> PoCL (another ring) */
    uint64_t g[6];
    wait_answers(s, dev, 2, g);
    GB_CHECK(g[0] == 2 && g[1] == 48 && g[2] == 0, "replies %llu sum %llu errors %llu",
             (unsigned long long)g[0], (unsigned long long)g[1], (unsigned long long)g[2]);
    gb_silo_destroy(s);
#endif
}

GB_TEST(device_calls, failed_call_comes_back_as_an_error_status)
{
    gb_silo *s = call_silo();
    gb_actor_id dev = ref(s, "caller", 1);
    start_call(s, dev, 0x1234567, 1, 5); /* nobody has that id */
    uint64_t g[6];
    wait_answers(s, dev, 1, g);
    GB_CHECK(g[2] == 1 && (int64_t)g[3] == GB_ENOENT && g[4] == 5, "errors %llu status %lld token %llu",
             (unsigned long long)g[2], (long long)g[3], (unsigned long long)g[4]);
    uint64_t in[3] = {ref(s, "twice", 1), 1, 0}; /* token 0 is refused on the device */
    GB_CHECK(gb_call(s, dev, K_CALL, in, sizeof in, 0, NULL, 0, NULL) == -4, "a call with token 0 fails");
    gb_silo_destroy(s);
}

GB_TEST(device_calls, many_device_actors_each_get_their_own_replies)
{
    gb_silo *s = call_silo();
    gb_actor_id cpu = ref(s, "twice", 1), dev[8];
    for (uint64_t k = 0; k < 8; k++)
        dev[k] = ref(s, "caller", k);
    for (uint64_t i = 1; i <= 200; i++)
        for (uint64_t k = 0; k < 8; k++)
            start_call(s, dev[k], cpu, i + k, i);
    for (uint64_t k = 0; k < 8; k++) {
        uint64_t g[6];
        wait_answers(s, dev[k], 200, g);
        uint64_t want = 2 * (200 * 201 / 2 + 200 * k);
        GB_CHECK(g[0] == 200 && g[1] == want && g[2] == 0, "actor %llu: %llu replies, sum %llu (want %llu)",
                 (unsigned long long)k, (unsigned long long)g[0], (unsigned long long)g[1],
                 (unsigned long long)want);
    }
    gb_silo_destroy(s);
}

GB_TEST(device_calls, device_actor_calls_a_device_actor_of_another_type)
{
    gb_silo *s = call_silo();
    gb_actor_id dev = ref(s, "caller", 1);
    start_call(s, dev, ref(s, "callee", 2), 5, 77);
    uint64_t g[6];
    wait_answers(s, dev, 1, g);
    GB_CHECK(g[0] == 1 && g[1] == 15 && g[4] == 77, "replies %llu sum %llu token %llu",
             (unsigned long long)g[0], (unsigned long long)g[1], (unsigned long long)g[4]);
    gb_silo_destroy(s);
}

/* ---- a device actor waiting for a reply is not deactivated -------------------- */

#define HOLD_ASKED 9u   /* reply [whether a request is held] */
#define HOLD_RELEASE 8u /* answer the held request with [value * 2] */

typedef struct holder {
    gb_reply_token token;
    uint64_t value;
    int held;
} holder;

static gb_status hold(gb_actor_ctx *ctx, void *state, const gb_msg_header *m, const void *p)
{
    holder *h = state;
    if (m->method == HOLD_ASKED) {
        uint64_t held = (uint64_t)h->held;
        return gb_ctx_reply(ctx, GB_OK, &held, 8);
    }
    if (m->method == HOLD_RELEASE) {
        uint64_t v = h->value * 2;
        h->held = 0;
        return gb_reply(gb_ctx_silo(ctx), &h->token, GB_OK, &v, 8);
    }
    memcpy(&h->value, p, 8); /* the device's call: answered later */
    h->held = 1;
    return gb_ctx_defer_reply(ctx, &h->token);
}

GB_TEST(device_calls, device_actor_with_a_call_out_keeps_its_state_past_its_idle_timeout)
{
    /* The idle timeout must be long against one K_GET round trip (slow under
     * ThreadSanitizer on a loaded machine): once the reply is in, nothing
     * protects the state, and a gap between two polls longer than the
     * timeout would legitimately reset it. */
    gb_silo_opts so = {.collect_period_ns = 5000000};
    gb_silo *s = test_silo(&so);
    gb_actor_device d = {.source = cl_src,
                         .fn = "cl_on_message",
                         .host_fn = cl_on_message,
                         .state_size = sizeof(cl_state),
                         .devices = "cpu"};
    gb_actor_type t = {.name = "caller", .device = &d, .idle_timeout_ns = 200000000};
    gb_actor_type h = {.name = "holder", .state_size = sizeof(holder), .handler = hold};
    GB_CHECK(gb_actor_type_register(s, &t) == GB_OK && gb_actor_type_register(s, &h) == GB_OK, "%s",
             gb_last_error());
    gb_actor_id a = ref(s, "caller", 1), b = ref(s, "caller", 2), hd = ref(s, "holder", 1);
    start_call(s, a, hd, 21, 3);
    uint64_t held = 0;
    int64_t until = gb_time_monotonic_ns() + 10000000000LL;
    while (!held && gb_time_monotonic_ns() < until)
        GB_CHECK(gb_call(s, hd, HOLD_ASKED, NULL, 0, 0, &held, 8, NULL) == GB_OK, "%s", gb_last_error());
    GB_CHECK(held, "the device's call never arrived");
    uint64_t g[6];
    GB_CHECK(gb_call(s, b, K_GET, NULL, 0, 0, g, 48, NULL) == GB_OK, "%s", gb_last_error()); /* b after a */
    gb_actor_device_stats st = {0};
    while (st.deactivations < 2 && gb_time_monotonic_ns() < until) { /* b idled out, so a did too */
        GB_CHECK(gb_actor_type_device_stats(s, "caller", &st) == GB_OK, "%s", gb_last_error());
        sched_yield();
    }
    GB_CHECK(st.deactivations >= 2, "%llu deactivations", (unsigned long long)st.deactivations);
    GB_CHECK(gb_send(s, hd, HOLD_RELEASE, NULL, 0) == GB_OK, "%s", gb_last_error());
    wait_answers(s, a, 1, g);
    GB_CHECK(g[0] == 1 && g[1] == 42 && g[5] == 1, "replies %llu sum %llu calls %llu: the state was dropped",
             (unsigned long long)g[0], (unsigned long long)g[1], (unsigned long long)g[5]);
    gb_silo_destroy(s);
}
