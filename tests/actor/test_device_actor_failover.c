// gb-test-labels: concurrency
/* Device failover: a device type's ring whose device fails while messages
 * arrive from several threads (the broker's GB_OP_RING fault point) is
 * replaced on the next backend (cpu -> a second cpu ring, PoCL -> cpu);
 * counters prove that no accepted message is lost or handled twice, that
 * each sender's messages keep their order, that actor states move over and
 * that calls waiting on the failed ring complete. The failed device is
 * unhealthy in the type's broker. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include "actor/actor_test.h"
#include "gpubridge/device.h"
#include "gpubridge/kernel_lang.h"
#include "ring/kernels.h"

#define C_ADD 1u /* [producer, seq]: count it, check the producer's order; a request gets [count] */
#define C_GET 2u /* reply [count, violations] */
#define PRODUCERS 4u
#define ACTORS 8u
#define PER_PRODUCER 4000u /* messages per producer, spread over the actors */

GB_DUAL_SOURCE(
    ctr_src,
    typedef struct ctr {
        gb_u64 count;
        gb_u64 violations;
        gb_u64 next_seq[4];
    } ctr;

    GB_DEVICE_FN gb_i32 ctr_on_message(GB_GLOBAL gb_u8 * state, GB_GLOBAL const gb_msg_header *msg,
                                       gb_u64 hlc, gb_ring_ctx *ctx) {
        GB_GLOBAL ctr *s = (GB_GLOBAL ctr *)state;
        GB_GLOBAL gb_u8 *out;
        if (msg->method == 1u) {
            gb_u64 p = gb_payload_get_u64(msg, 0) & 3u;
            if (gb_payload_get_u64(msg, 1) != s->next_seq[p])
                s->violations++;
            s->next_seq[p] = gb_payload_get_u64(msg, 1) + 1;
            s->count++;
            if (!msg->correlation)
                return 0;
            out = gb_ring_begin_reply(ctx, msg, 8);
            if (!out)
                return -4;
            gb_payload_put_u64(out, 0, s->count);
            gb_ring_end(ctx);
            return 0;
        }
        if (msg->method == 2u) {
            out = gb_ring_begin_reply(ctx, msg, 16);
            if (!out)
                return -4;
            gb_payload_put_u64(out, 0, s->count);
            gb_payload_put_u64(out, 1, s->violations);
            gb_ring_end(ctx);
            return 0;
        }
        return -1;
    })

static gb_silo *ctr_silo(const char *devices)
{
    gb_silo *s = test_silo(NULL);
    gb_actor_device d = {.source = ctr_src,
                         .fn = "ctr_on_message",
                         .host_fn = ctr_on_message,
                         .state_size = sizeof(ctr),
                         .devices = devices};
    gb_actor_type t = {.name = "ctr", .device = &d};
    GB_CHECK(gb_actor_type_register(s, &t) == GB_OK, "%s", gb_last_error());
    return s;
}

static gb_actor_id ctr_id(gb_silo *s, uint64_t key)
{
    gb_actor_id a;
    GB_CHECK(gb_actor_ref_u64(s, "ctr", key, &a) == GB_OK, "%s", gb_last_error());
    return a;
}

static void ctr_get(gb_silo *s, uint64_t key, uint64_t out[2])
{
    uint32_t len = 0;
    GB_CHECK(gb_call(s, ctr_id(s, key), C_GET, NULL, 0, 0, out, 16, &len) == GB_OK, "%s", gb_last_error());
    GB_CHECK(len == 16, "GET reply of %u bytes", len);
}

typedef struct producer {
    gb_silo *s;
    uint64_t index;
    uint64_t first_seq; /* per actor: messages this producer sent to each before */
    _Atomic uint64_t *sent;
    uint64_t call_errors;
} producer;

/* PER_PRODUCER messages round robin over the actors; producer 0 makes
 * every 8th one a call (which must complete whatever ring answers it). */
static void *produce(void *p)
{
    producer *pr = p;
    gb_actor_id ids[ACTORS];
    for (uint64_t k = 0; k < ACTORS; k++)
        ids[k] = ctr_id(pr->s, k);
    for (uint64_t i = 0; i < PER_PRODUCER; i++) {
        uint64_t k = i % ACTORS, add[2] = {pr->index, pr->first_seq + i / ACTORS}, count = 0;
        if (pr->index == 0 && i % 8 == 0) {
            gb_status st = gb_call(pr->s, ids[k], C_ADD, add, sizeof add, 0, &count, 8, NULL);
            pr->call_errors += st != GB_OK || count == 0;
        } else {
            gb_status st = gb_send(pr->s, ids[k], C_ADD, add, sizeof add);
            GB_CHECK(st == GB_OK, "%s: %s", gb_status_name(st), gb_last_error());
        }
        atomic_fetch_add_explicit(pr->sent, 1, memory_order_relaxed);
    }
    return NULL;
}

/* Wait (bounded: a broken runtime fails, it does not hang) for a failover. */
static gb_actor_device_stats wait_failover(gb_silo *s, uint64_t n)
{
    gb_actor_device_stats st = {0};
    int64_t until = gb_time_monotonic_ns() + 10000000000LL;
    while (gb_time_monotonic_ns() < until) {
        GB_CHECK(gb_actor_type_device_stats(s, "ctr", &st) == GB_OK, "%s", gb_last_error());
        if (st.failovers >= n)
            break;
        struct timespec p = {0, 200000};
        nanosleep(&p, NULL);
    }
    return st;
}

/* Warm every actor up (so there are states to move), then fail the ring
 * while PRODUCERS threads send; every count must come out exact. */
static void fail_while_sending(const char *devices, const char *failing, const char *expect_after)
{
    gb_silo *s = ctr_silo(devices);
    const char *be = NULL;
    GB_CHECK(gb_actor_type_backend(s, "ctr", &be) == GB_OK && strcmp(be, failing) == 0, "starts on %s", be);
    for (uint64_t k = 0; k < ACTORS; k++)
        for (uint64_t p = 0; p < PRODUCERS; p++) {
            uint64_t add[2] = {p, 0}, count;
            GB_CHECK(gb_call(s, ctr_id(s, k), C_ADD, add, sizeof add, 0, &count, 8, NULL) == GB_OK, "%s",
                     gb_last_error());
        }
    gb_broker *b = NULL;
    GB_CHECK(gb_actor_type_broker(s, "ctr", &b) == GB_OK, "%s", gb_last_error());
    _Atomic uint64_t sent = 0;
    pthread_t th[PRODUCERS];
    producer pr[PRODUCERS];
    for (uint64_t p = 0; p < PRODUCERS; p++) {
        pr[p] = (producer){.s = s, .index = p, .first_seq = 1, .sent = &sent};
        pthread_create(&th[p], NULL, produce, &pr[p]);
    }
    while (atomic_load_explicit(&sent, memory_order_relaxed) < PRODUCERS * PER_PRODUCER / 4)
        sched_yield(); /* a quarter sent: the device fails with the rest still coming */
    GB_CHECK(gb_broker_inject_fault(b, failing, GB_OP_RING, 1) == GB_OK, "%s", gb_last_error());
    for (uint64_t p = 0; p < PRODUCERS; p++)
        pthread_join(th[p], NULL);
    gb_actor_device_stats st = wait_failover(s, 1);
    GB_CHECK(st.failovers == 1, "%llu failovers", (unsigned long long)st.failovers);
    GB_CHECK(st.migrated_actors == ACTORS, "%llu actor states moved", (unsigned long long)st.migrated_actors);
    GB_CHECK(st.lost_messages == 0, "%llu messages lost", (unsigned long long)st.lost_messages);
    GB_CHECK(pr[0].call_errors == 0, "%llu calls failed", (unsigned long long)pr[0].call_errors);
    GB_CHECK(gb_actor_type_backend(s, "ctr", &be) == GB_OK && strcmp(be, expect_after) == 0, "now on %s", be);
    for (uint64_t k = 0; k < ACTORS; k++) {
        uint64_t g[2];
        ctr_get(s, k, g); /* the GET goes behind every ADD sent before it: the counts are final */
        uint64_t want = PRODUCERS * (1 + PER_PRODUCER / ACTORS);
        GB_CHECK(g[0] == want && g[1] == 0, "actor %llu: count %llu (want %llu), order violations %llu",
                 (unsigned long long)k, (unsigned long long)g[0], (unsigned long long)want,
                 (unsigned long long)g[1]);
    }
    uint32_t i;
    gb_broker_device d;
    GB_CHECK(gb_broker_find(b, failing, &i) == GB_OK && gb_broker_get(b, i, &d) == GB_OK, "%s",
             gb_last_error());
    GB_CHECK(!d.healthy && strstr(d.unhealthy_reason, "injected"), "device %s healthy %d (%s)", failing,
             d.healthy, d.unhealthy_reason);
    gb_silo_destroy(s);
}

GB_TEST(device_failover, cpu_ring_fails_over_to_a_second_cpu_ring_without_loss)
{
    fail_while_sending("cpu", "cpu", "cpu");
}

GB_TEST(device_failover, pocl_ring_fails_over_to_the_cpu_ring_without_loss)
{
#if defined(__SANITIZE_THREAD__)
    GB_SKIP("PoCL's kernel threads are not instrumented for ThreadSanitizer");
#endif
    if (gb_backend_available("opencl") != GB_OK)
        GB_SKIP("no OpenCL here: %s", gb_last_error());
    fail_while_sending("opencl,cpu", "opencl", "cpu");
}

/* A call whose request sits in the failed ring's lanes is answered by the
 * replacement: the ring is failed before it can handle anything. */
GB_TEST(device_failover, call_sent_as_the_ring_fails_completes_exactly_once)
{
    setenv("GB_FAULT", "cpu:ring:1", 1); /* read when the type's broker is made: the first check fails */
    gb_silo *s = ctr_silo("cpu");
    uint64_t add[2] = {0, 0}, count = 0;
    gb_status st = gb_call(s, ctr_id(s, 1), C_ADD, add, sizeof add, 0, &count, 8, NULL);
    unsetenv("GB_FAULT");
    GB_CHECK(st == GB_OK && count == 1, "call: %s, count %llu", gb_strerror(st), (unsigned long long)count);
    gb_actor_device_stats ds = wait_failover(s, 1);
    GB_CHECK(ds.failovers == 1, "%llu failovers", (unsigned long long)ds.failovers);
    uint64_t g[2];
    ctr_get(s, 1, g);
    GB_CHECK(g[0] == 1, "count %llu: the call was handled exactly once", (unsigned long long)g[0]);
    gb_silo_destroy(s);
}

/* Two failures in a row: each replacement takes over in turn. */
GB_TEST(device_failover, repeated_failures_keep_every_message)
{
    gb_silo *s = ctr_silo("cpu");
    gb_broker *b = NULL;
    GB_CHECK(gb_actor_type_broker(s, "ctr", &b) == GB_OK, "%s", gb_last_error());
    uint64_t seq = 0;
    for (int round = 1; round <= 2; round++) {
        for (int i = 0; i < 500; i++, seq++) {
            uint64_t add[2] = {0, seq};
            GB_CHECK(gb_send(s, ctr_id(s, 3), C_ADD, add, sizeof add) == GB_OK, "%s", gb_last_error());
        }
        GB_CHECK(gb_broker_inject_fault(b, "cpu", GB_OP_RING, 1) == GB_OK, "%s", gb_last_error());
        GB_CHECK(wait_failover(s, (uint64_t)round).failovers == (uint64_t)round, "failover %d", round);
    }
    uint64_t g[2];
    ctr_get(s, 3, g);
    GB_CHECK(g[0] == seq && g[1] == 0, "count %llu of %llu, violations %llu", (unsigned long long)g[0],
             (unsigned long long)seq, (unsigned long long)g[1]);
    gb_silo_destroy(s);
}
