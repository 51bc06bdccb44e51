// gb-test-labels: concurrency
/* Idle device actors: a device type with an idle timeout has an actor that
 * received nothing for that long deactivated on its ring (the state slot
 * freed; the next message reactivates it with a zeroed state, as a CPU
 * actor without a deactivate hook), and a deactivation racing with senders
 * loses no message: every handled message is also reported to a CPU actor,
 * whose total must be exact. A type without an idle timeout keeps its
 * actors. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include "actor/actor_test.h"
#include "gpubridge/kernel_lang.h"
#include "ring/kernels.h"

#define I_ADD 1u /* [sink]: count; emit [1] to the CPU actor sink when not 0; a request gets [count] */
#define I_GET 2u /* reply [count] */
#define S_GET 1u /* the sink's total; method 2 (from the device) adds */

GB_DUAL_SOURCE(
    idl_src, GB_DEVICE_FN gb_i32 idl_on_message(GB_GLOBAL gb_u8 *state, GB_GLOBAL const gb_msg_header *msg,
                                                gb_u64 hlc, gb_ring_ctx *ctx) {
        GB_GLOBAL gb_u64 *count = (GB_GLOBAL gb_u64 *)state;
        GB_GLOBAL gb_u8 *out;
        if (msg->method == 1u) {
            count[0]++;
            if (gb_payload_get_u64(msg, 0)) {
                out = gb_ring_begin_emit(ctx, gb_payload_get_u64(msg, 0), 2u, 0, 8);
                if (!out)
                    return -4;
                gb_payload_put_u64(out, 0, 1);
                gb_ring_end(ctx);
            }
        }
        if (msg->method > 2u)
            return -1;
        if (!msg->correlation)
            return 0;
        out = gb_ring_begin_reply(ctx, msg, 8);
        if (!out)
            return -4;
        gb_payload_put_u64(out, 0, count[0]);
        gb_ring_end(ctx);
        return 0;
    })

static gb_status sink_handler(gb_actor_ctx *ctx, void *state, const gb_msg_header *m, const void *p)
{
    uint64_t *total = state;
    if (m->method == S_GET)
        return gb_ctx_reply(ctx, GB_OK, total, 8);
    uint64_t v;
    memcpy(&v, p, 8);
    *total += v;
    return GB_OK;
}

static gb_silo *idle_silo(int64_t idle_ns)
{
    gb_silo_opts o = {.collect_period_ns = 1000000};
    gb_silo *s = test_silo(&o);
    gb_actor_device d = {.source = idl_src,
                         .fn = "idl_on_message",
                         .host_fn = idl_on_message,
                         .state_size = 16,
                         .devices = "cpu"};
    gb_actor_type t = {.name = "idl", .device = &d, .idle_timeout_ns = idle_ns};
    gb_actor_type sink = {.name = "sink", .state_size = 8, .handler = sink_handler};
    GB_CHECK(gb_actor_type_register(s, &t) == GB_OK, "%s", gb_last_error());
    GB_CHECK(gb_actor_type_register(s, &sink) == GB_OK, "%s", gb_last_error());
    return s;
}

static gb_actor_id ref(gb_silo *s, const char *type, uint64_t key)
{
    gb_actor_id a;
    GB_CHECK(gb_actor_ref_u64(s, type, key, &a) == GB_OK, "%s", gb_last_error());
    return a;
}

static uint64_t call_u64(gb_silo *s, gb_actor_id a, uint32_t method, uint64_t arg)
{
    uint64_t v = 0;
    gb_status st = gb_call(s, a, method, &arg, 8, 0, &v, 8, NULL);
    GB_CHECK(st == GB_OK, "%s", gb_last_error());
    return v;
}

/* Wait (bounded) until the type counted n deactivations. */
static uint64_t wait_deactivations(gb_silo *s, uint64_t n)
{
    gb_actor_device_stats st = {0};
    int64_t until = gb_time_monotonic_ns() + 10000000000LL;
    while (gb_time_monotonic_ns() < until) {
        GB_CHECK(gb_actor_type_device_stats(s, "idl", &st) == GB_OK, "%s", gb_last_error());
        if (st.deactivations >= n)
            break;
        struct timespec p = {0, 200000};
        nanosleep(&p, NULL);
    }
    return st.deactivations;
}

GB_TEST(device_idle, idle_device_actor_is_deactivated_and_a_message_reactivates_it)
{
    gb_silo *s = idle_silo(5000000); /* 5 ms */
    gb_actor_id a = ref(s, "idl", 1);
    GB_CHECK(call_u64(s, a, I_ADD, 0) == 1, "first message counted");
    GB_CHECK(wait_deactivations(s, 1) >= 1, "never deactivated");
    GB_CHECK(call_u64(s, a, I_ADD, 0) == 1, "reactivated with a zeroed state, the message counted");
    gb_silo_destroy(s);
}

GB_TEST(device_idle, type_without_idle_timeout_keeps_its_actors)
{
    gb_silo *s = idle_silo(0);
    gb_actor_id a = ref(s, "idl", 1);
    GB_CHECK(call_u64(s, a, I_ADD, 0) == 1, "first message");
    /* several idle scans (1 ms apart) go by while the other type is used */
    gb_actor_id sink = ref(s, "sink", 1);
    for (int i = 0; i < 200; i++)
        call_u64(s, sink, S_GET, 0);
    gb_actor_device_stats st;
    GB_CHECK(gb_actor_type_device_stats(s, "idl", &st) == GB_OK && st.deactivations == 0, "deactivated");
    GB_CHECK(call_u64(s, a, I_ADD, 0) == 2, "state kept");
    gb_silo_destroy(s);
}

#define IDLE_SENDERS 2
#define IDLE_ACTORS 16
#define IDLE_ROUNDS 40

typedef struct idle_sender {
    gb_silo *s;
    gb_actor_id sink;
    uint64_t sent;
    int index;
} idle_sender;

/* Bursts to every actor with idle gaps (a call round trip to each, which
 * waits for the burst) in between, so deactivations and sends interleave. */
static void *idle_send(void *p)
{
    idle_sender *is = p;
    for (int r = 0; r < IDLE_ROUNDS; r++) {
        for (uint64_t k = 0; k < IDLE_ACTORS; k++) {
            if ((k + (uint64_t)r) % 3 == (uint64_t)is->index)
                continue; /* each round leaves some actors idle */
            gb_status st = gb_send(is->s, ref(is->s, "idl", k), I_ADD, &is->sink, 8);
            GB_CHECK(st == GB_OK, "%s", gb_last_error());
            is->sent++;
        }
        call_u64(is->s, is->sink, S_GET, 0);
    }
    return NULL;
}

GB_TEST(device_idle, deactivations_racing_with_senders_lose_no_message)
{
    gb_silo *s = idle_silo(1000000); /* 1 ms: deactivations happen all along */
    gb_actor_id sink = ref(s, "sink", 1);
    pthread_t th[IDLE_SENDERS];
    idle_sender is[IDLE_SENDERS];
    for (int i = 0; i < IDLE_SENDERS; i++) {
        is[i] = (idle_sender){.s = s, .sink = sink, .index = i};
        pthread_create(&th[i], NULL, idle_send, &is[i]);
    }
    for (int i = 0; i < IDLE_SENDERS; i++)
        pthread_join(th[i], NULL);
    uint64_t sent = 0;
    for (int i = 0; i < IDLE_SENDERS; i++)
        sent += is[i].sent;
    for (uint64_t k = 0; k < IDLE_ACTORS; k++)
        call_u64(s, ref(s, "idl", k), I_GET, 0); /* behind every ADD to k: all of them handled */
    uint64_t total = 0;
    int64_t until = gb_time_monotonic_ns() + 10000000000LL;
    while ((total = call_u64(s, sink, S_GET, 0)) < sent && gb_time_monotonic_ns() < until)
        sched_yield(); /* the emits travel device -> drain thread -> sink */
    GB_CHECK(total == sent, "the sink saw %llu of %llu messages", (unsigned long long)total,
             (unsigned long long)sent);
    uint64_t n = wait_deactivations(s, 1);
    GB_CHECK(n >= 1, "never deactivated");
    fprintf(stderr, "deactivations_racing_with_senders: %llu messages, %llu deactivations\n",
            (unsigned long long)sent, (unsigned long long)n);
    gb_silo_destroy(s);
}
