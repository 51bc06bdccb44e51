/* Rings on the cpu backend: delivery, order, K2K, drain, policies, errors. */
// gb-test-labels: concurrency
#include "support/tsan_harness.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "gpubridge/hash.h"
#include "gpubridge/ring.h"
#include "ring/kernels.h"
#include "support/ring_msg.h"

#include "test_actors.gbk"
#include "test_actors_types.h"

static gb_ring_opts base_opts(gb_ring_mode mode)
{
    gb_ring_opts o = {0};
    o.mode = mode;
    o.types = k_types;
    o.ntypes = 2;
    return o;
}

static gb_ring *make_ring(gb_ring_opts o)
{
    gb_ring *r = NULL;
    gb_status st = gb_ring_create(&r, &o);
    GB_CHECK((st) == (GB_OK), "create: %s", gb_last_error());
    return r;
}

static void add(gb_ring *r, uint64_t actor, uint64_t value, uint64_t producer, uint64_t seq, gb_send_policy p)
{
    uint64_t pl[3] = {value, producer, seq};
    gb_msg_header h = gbt_hdr(actor, TA_ADD, 0, sizeof pl);
    gb_status st = gb_ring_send(r, 0, &h, pl, p);
    GB_CHECK((st) == (GB_OK), "send: %s", gb_last_error());
}

GB_TEST(ring_cpu, create_rejects_bad_options)
{
    gb_ring *r = NULL;
    gb_ring_opts o = base_opts(GB_RING_PERSISTENT);
    o.lane_capacity = 1000;
    GB_CHECK((gb_ring_create(&r, &o)) == (GB_EINVAL), "failed");
    o = base_opts(GB_RING_PERSISTENT);
    o.slot_size = 32;
    GB_CHECK((gb_ring_create(&r, &o)) == (GB_EINVAL), "failed");
    o = base_opts(GB_RING_PERSISTENT);
    o.lanes = 2;
    o.threads = 3;
    GB_CHECK((gb_ring_create(&r, &o)) == (GB_EINVAL), "failed");
    o = base_opts(GB_RING_PERSISTENT);
    o.ntypes = 0;
    GB_CHECK((gb_ring_create(&r, &o)) == (GB_EINVAL), "failed");
    o = base_opts(GB_RING_PERSISTENT);
    o.backend = "tpu";
    GB_CHECK((gb_ring_create(&r, &o)) == (GB_ENOTSUP), "failed");
    gb_ring_actor_type t = {.name = "x", .state_size = 8};
    o = base_opts(GB_RING_PERSISTENT);
    o.types = &t;
    o.ntypes = 1;
    GB_CHECK((gb_ring_create(&r, &o)) == (GB_EINVAL), "cpu needs on_message");
    GB_CHECK((r) == NULL, "(r) == NULL");
}

GB_TEST(ring_cpu, lane_is_hash_of_target_modulo_lanes)
{
    gb_ring_opts o = base_opts(GB_RING_PERSISTENT);
    o.lanes = 7;
    o.threads = 1;
    gb_ring *r = make_ring(o);
    for (uint64_t id = 0; id < 1000; id++)
        GB_CHECK((gb_ring_lane(r, id)) == (gb_hash_u64(id) % 7), "failed");
    GB_CHECK(strcmp(gb_ring_backend(r), "cpu") == 0, "strcmp(gb_ring_backend(r), \"cpu\") == 0");
    GB_CHECK((gb_ring_memory_bytes(r)) > (7u * 1024u * 256u), "failed");
    gb_ring_destroy(r);
}

static void request_gets_response(gb_ring_mode mode)
{
    gb_ring *r = make_ring(base_opts(mode));
    GB_CHECK((gb_ring_start(r)) == (GB_OK), "failed");
    add(r, 42, 5, 0, 1, GB_SEND_BLOCK);
    gb_msg_header h = gbt_hdr(42, TA_GET, 777, 0);
    h.sender = 9;
    GB_CHECK((gb_ring_send(r, 0, &h, NULL, GB_SEND_BLOCK)) == (GB_OK), "failed");
    gb_msg_header o;
    uint64_t pl[4];
    GB_CHECK((gb_ring_recv(r, &o, pl, sizeof pl, 5000000000LL)) == (GB_OK), "failed");
    GB_CHECK((o.correlation) == (777), "failed");
    GB_CHECK((o.target) == (9), "a response goes to the request's sender");
    GB_CHECK((o.sender) == (42), "failed");
    GB_CHECK(o.flags & GB_MSG_RESPONSE, "o.flags & GB_MSG_RESPONSE");
    GB_CHECK((pl[0]) == (1), "failed");
    GB_CHECK((pl[1]) == (5), "failed");
    GB_CHECK((pl[2]) == (0), "failed");
    GB_CHECK((pl[3]) > (1000), "the lane clock is after the message's hlc");
    GB_CHECK((o.hlc) > (1000), "failed");
    GB_CHECK((gb_ring_stop(r, GB_RING_DRAIN)) == (GB_OK), "failed");
    gb_ring_destroy(r);
}

GB_TEST(ring_cpu, request_gets_response_persistent)
{
    request_gets_response(GB_RING_PERSISTENT);
}

GB_TEST(ring_cpu, request_gets_response_event_driven)
{
    request_gets_response(GB_RING_EVENT_DRIVEN);
}

/* ---- concurrent producers ------------------------------------------------ */

#define PRODUCERS 4
#define PER_PRODUCER 5000
#define ACTORS 16

typedef struct prod_arg {
    gb_ring *r;
    uint64_t id;
    gb_send_policy policy;
} prod_arg;

static void *producer(void *p)
{
    prod_arg *a = p;
    uint64_t seq[ACTORS] = {0};
    for (uint64_t i = 0; i < PER_PRODUCER; i++) {
        uint64_t actor = (i * 7 + a->id) % ACTORS;
        add(a->r, 100 + actor, i + 1, a->id, ++seq[actor], a->policy);
    }
    return NULL;
}

static void no_loss_and_per_actor_order(gb_ring_mode mode, gb_send_policy policy, uint32_t cap)
{
    gb_ring_opts o = base_opts(mode);
    o.lanes = 4;
    o.lane_capacity = cap;
    gb_ring *r = make_ring(o);
    GB_CHECK((gb_ring_start(r)) == (GB_OK), "failed");
    pthread_t t[PRODUCERS];
    prod_arg a[PRODUCERS];
    for (uint64_t i = 0; i < PRODUCERS; i++) {
        a[i] = (prod_arg){r, i, policy};
        GB_CHECK((pthread_create(&t[i], NULL, producer, &a[i])) == (0), "failed");
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(t[i], NULL);
    GB_CHECK((gb_ring_stop(r, GB_RING_DRAIN)) == (GB_OK), "failed");
    uint64_t count = 0, sum = 0;
    for (uint64_t actor = 0; actor < ACTORS; actor++) {
        ta_counter s;
        GB_CHECK((gb_ring_read_state(r, 100 + actor, &s, sizeof s)) == (GB_OK), "failed");
        GB_CHECK((s.violations) == (0), "actor %llu saw a producer's messages out of order", (unsigned long long)actor);
        count += s.count;
        sum += s.sum;
    }
    uint64_t n = (uint64_t)PRODUCERS * PER_PRODUCER;
    GB_CHECK((count) == (n), "failed");
    GB_CHECK((sum) == (PRODUCERS * ((uint64_t)PER_PRODUCER * (PER_PRODUCER + 1) / 2)), "failed");
    gb_ring_counters c;
    GB_CHECK((gb_ring_get_counters(r, &c)) == (GB_OK), "failed");
    GB_CHECK((c.handled) == (n), "failed");
    GB_CHECK((c.inflight) == (0), "failed");
    GB_CHECK((c.depth) == (0), "failed");
    GB_CHECK((c.actors) == (ACTORS), "failed");
    GB_CHECK((c.discarded) == (0), "failed");
    GB_CHECK((c.high_water) <= (cap), "failed");
    gb_ring_destroy(r);
}

GB_TEST(ring_cpu, concurrent_producers_lose_nothing_persistent)
{
    no_loss_and_per_actor_order(GB_RING_PERSISTENT, GB_SEND_BLOCK, 64);
}

GB_TEST(ring_cpu, concurrent_producers_lose_nothing_event_driven)
{
    no_loss_and_per_actor_order(GB_RING_EVENT_DRIVEN, GB_SEND_BLOCK, 64);
}

GB_TEST(ring_cpu, concurrent_spilling_producers_keep_per_actor_order)
{
    no_loss_and_per_actor_order(GB_RING_PERSISTENT, GB_SEND_SPILL, 4);
}

/* ---- K2K ------------------------------------------------------------------ */

GB_TEST(ring_cpu, k2k_chain_hops_between_actors_without_the_host)
{
    gb_ring_opts o = base_opts(GB_RING_EVENT_DRIVEN);
    o.lanes = 8;
    o.threads = 2;
    gb_ring *r = make_ring(o);
    GB_CHECK((gb_ring_start(r)) == (GB_OK), "failed");
    uint64_t pl[2] = {20, 5};
    gb_msg_header h = gbt_hdr(5000, TA_CHAIN, 0, sizeof pl);
    GB_CHECK((gb_ring_send(r, 1, &h, pl, GB_SEND_BLOCK)) == (GB_OK), "failed");
    gb_msg_header out;
    uint64_t got[2];
    GB_CHECK((gb_ring_recv(r, &out, got, sizeof got, 5000000000LL)) == (GB_OK), "failed");
    GB_CHECK((got[0]) == (5), "failed");
    GB_CHECK((got[1]) == (5020), "the last actor of the chain emits");
    GB_CHECK((gb_ring_stop(r, GB_RING_DRAIN)) == (GB_OK), "failed");
    gb_ring_counters c;
    gb_ring_get_counters(r, &c);
    GB_CHECK((c.k2k_sent) == (20), "failed");
    GB_CHECK((c.handled) == (21), "failed");
    GB_CHECK((c.emitted) == (1), "failed");
    for (uint64_t id = 5000; id <= 5020; id++) {
        ta_chain s;
        GB_CHECK((gb_ring_read_state(r, id, &s, sizeof s)) == (GB_OK), "failed");
        GB_CHECK((s.seen) == (1), "failed");
        GB_CHECK((s.sum) == (5), "failed");
    }
    gb_ring_destroy(r);
}

/* ---- stop, policies, errors ----------------------------------------------- */

GB_TEST(ring_cpu, drain_handles_everything_accepted_before_start_including_spills)
{
    gb_ring_opts o = base_opts(GB_RING_PERSISTENT);
    o.lanes = 2;
    o.lane_capacity = 2;
    gb_ring *r = make_ring(o);
    for (uint64_t i = 1; i <= 200; i++)
        add(r, 7, i, 0, i, GB_SEND_SPILL);
    gb_ring_counters c;
    gb_ring_get_counters(r, &c);
    GB_CHECK((c.overflowed) == (198), "failed");
    GB_CHECK((c.inflight) == (200), "failed");
    GB_CHECK((gb_ring_stop(r, GB_RING_DRAIN)) == (GB_OK), "drain starts a ring that never ran");
    ta_counter s;
    GB_CHECK((gb_ring_read_state(r, 7, &s, sizeof s)) == (GB_OK), "failed");
    GB_CHECK((s.count) == (200), "failed");
    GB_CHECK((s.violations) == (0), "failed");
    gb_ring_get_counters(r, &c);
    GB_CHECK((c.overflow_depth) == (0), "failed");
    GB_CHECK((c.discarded) == (0), "failed");
    gb_ring_destroy(r);
}

GB_TEST(ring_cpu, full_lane_with_fail_policy_returns_eagain)
{
    gb_ring_opts o = base_opts(GB_RING_PERSISTENT);
    o.lanes = 1;
    o.lane_capacity = 4;
    gb_ring *r = make_ring(o);
    for (uint64_t i = 1; i <= 4; i++)
        add(r, 1, i, 0, i, GB_SEND_FAIL);
    uint64_t pl[3] = {5, 0, 5};
    gb_msg_header h = gbt_hdr(1, TA_ADD, 0, sizeof pl);
    GB_CHECK((gb_ring_send(r, 0, &h, pl, GB_SEND_FAIL)) == (GB_EAGAIN), "failed");
    gb_ring_counters c;
    gb_ring_get_counters(r, &c);
    GB_CHECK((c.full_hits) == (1), "failed");
    GB_CHECK((c.inflight) == (4), "the refused message is not counted as accepted");
    gb_ring_destroy(r);
}

GB_TEST(ring_cpu, abort_counts_what_it_discards)
{
    gb_ring_opts o = base_opts(GB_RING_PERSISTENT);
    o.lanes = 1;
    o.lane_capacity = 4;
    gb_ring *r = make_ring(o);
    for (uint64_t i = 1; i <= 10; i++)
        add(r, 1, i, 0, i, GB_SEND_SPILL);
    GB_CHECK((gb_ring_stop(r, GB_RING_ABORT)) == (GB_OK), "failed");
    gb_ring_counters c;
    gb_ring_get_counters(r, &c);
    GB_CHECK((c.discarded) == (10), "failed");
    GB_CHECK((c.handled) == (0), "failed");
    gb_ring_destroy(r);
}

GB_TEST(ring_cpu, send_after_stop_is_refused)
{
    gb_ring *r = make_ring(base_opts(GB_RING_PERSISTENT));
    GB_CHECK((gb_ring_start(r)) == (GB_OK), "failed");
    GB_CHECK((gb_ring_start(r)) == (GB_EBUSY), "failed");
    GB_CHECK((gb_ring_read_state(r, 1, NULL, 0)) == (GB_EBUSY), "failed");
    GB_CHECK((gb_ring_stop(r, GB_RING_DRAIN)) == (GB_OK), "failed");
    GB_CHECK((gb_ring_stop(r, GB_RING_DRAIN)) == (GB_OK), "stop is idempotent");
    uint64_t pl[3] = {1, 0, 1};
    gb_msg_header h = gbt_hdr(1, TA_ADD, 0, sizeof pl);
    GB_CHECK((gb_ring_send(r, 0, &h, pl, GB_SEND_BLOCK)) == (GB_ECLOSED), "failed");
    GB_CHECK((gb_ring_start(r)) == (GB_ECLOSED), "failed");
    gb_ring_destroy(r);
}

GB_TEST(ring_cpu, bad_sends_are_refused_with_a_status)
{
    gb_ring *r = make_ring(base_opts(GB_RING_PERSISTENT));
    char big[256] = {0};
    gb_msg_header h = gbt_hdr(1, TA_ADD, 0, 256 - 47);
    GB_CHECK((gb_ring_send(r, 0, &h, big, GB_SEND_FAIL)) == (GB_EMSGSIZE), "failed");
    h.payload_len = 8;
    GB_CHECK((gb_ring_send(r, 2, &h, big, GB_SEND_FAIL)) == (GB_EINVAL), "type out of range");
    GB_CHECK((gb_ring_send(r, 0, &h, NULL, GB_SEND_FAIL)) == (GB_EINVAL), "failed");
    GB_CHECK((gb_ring_send(r, 0, &h, big, (gb_send_policy)9)) == (GB_EINVAL), "failed");
    gb_ring_counters c;
    gb_ring_get_counters(r, &c);
    GB_CHECK((c.inflight) == (0), "failed");
    gb_ring_destroy(r);
}

static int32_t recv_error(gb_ring *r, uint64_t corr)
{
    gb_msg_header o;
    int32_t pl[1];
    GB_CHECK((gb_ring_recv(r, &o, pl, sizeof pl, 5000000000LL)) == (GB_OK), "failed");
    GB_CHECK((o.correlation) == (corr), "failed");
    GB_CHECK((o.flags) == (GB_MSG_RESPONSE | GB_MSG_ERROR), "failed");
    return pl[0];
}

GB_TEST(ring_cpu, handler_error_becomes_an_error_response)
{
    gb_ring *r = make_ring(base_opts(GB_RING_EVENT_DRIVEN));
    GB_CHECK((gb_ring_start(r)) == (GB_OK), "failed");
    gb_msg_header h = gbt_hdr(3, 999, 55, 0);
    GB_CHECK((gb_ring_send(r, 0, &h, NULL, GB_SEND_BLOCK)) == (GB_OK), "failed");
    GB_CHECK((recv_error(r, 55)) == (GB_EINVAL), "failed");
    GB_CHECK((gb_ring_stop(r, GB_RING_DRAIN)) == (GB_OK), "failed");
    gb_ring_counters c;
    gb_ring_get_counters(r, &c);
    GB_CHECK((c.handler_errors) == (1), "failed");
    gb_ring_destroy(r);
}

GB_TEST(ring_cpu, type_mismatch_and_full_actor_table_are_reported)
{
    gb_ring_opts o = base_opts(GB_RING_EVENT_DRIVEN);
    o.lanes = 1;
    o.actors_per_lane = 2;
    gb_ring *r = make_ring(o);
    GB_CHECK((gb_ring_start(r)) == (GB_OK), "failed");
    for (uint64_t id = 1; id <= 3; id++) {
        gb_msg_header h = gbt_hdr(id, TA_GET, id, 0);
        GB_CHECK((gb_ring_send(r, 0, &h, NULL, GB_SEND_BLOCK)) == (GB_OK), "failed");
        gb_msg_header out;
        uint64_t pl[4];
        GB_CHECK((gb_ring_recv(r, &out, pl, sizeof pl, 5000000000LL)) == (GB_OK), "failed");
        GB_CHECK((!!(out.flags & GB_MSG_ERROR)) == (id == 3), "the third actor does not fit");
        int32_t status;
        memcpy(&status, pl, sizeof status);
        if (id == 3)
            GB_CHECK((status) == (GB_ENOMEM), "failed");
    }
    uint64_t pl[2] = {0, 0};
    gb_msg_header h = gbt_hdr(1, TA_CHAIN, 9, sizeof pl);
    GB_CHECK((gb_ring_send(r, 1, &h, pl, GB_SEND_BLOCK)) == (GB_OK), "failed");
    GB_CHECK((recv_error(r, 9)) == (GB_ENOENT), "actor 1 is a counter, not a chain");
    GB_CHECK((gb_ring_stop(r, GB_RING_DRAIN)) == (GB_OK), "failed");
    gb_ring_counters c;
    gb_ring_get_counters(r, &c);
    GB_CHECK((c.table_full) == (1), "failed");
    GB_CHECK((c.unknown_type) == (1), "failed");
    GB_CHECK((gb_ring_read_state(r, 3, NULL, 0)) == (GB_ENOENT), "failed");
    gb_ring_destroy(r);
}

GB_TEST(ring_cpu, drain_waits_for_k2k_messages_still_hopping_between_threads)
{
    gb_ring_opts o = base_opts(GB_RING_PERSISTENT);
    o.lanes = 8;
    o.threads = 2;
    o.out_capacity = 256;
    gb_ring *r = make_ring(o);
    GB_CHECK((gb_ring_start(r)) == (GB_OK), "failed");
    for (uint64_t c = 0; c < 50; c++) {
        uint64_t pl[2] = {40, c};
        gb_msg_header h = gbt_hdr(100000 + c * 1000, TA_CHAIN, 0, sizeof pl);
        GB_CHECK(gb_ring_send(r, 1, &h, pl, GB_SEND_BLOCK) == GB_OK, "send");
    }
    GB_CHECK(gb_ring_stop(r, GB_RING_DRAIN) == GB_OK, "stop");
    gb_ring_counters c;
    gb_ring_get_counters(r, &c);
    GB_CHECK(c.handled == 50 * 41, "handled %llu", (unsigned long long)c.handled);
    GB_CHECK(c.k2k_sent == 50 * 40, "k2k %llu", (unsigned long long)c.k2k_sent);
    GB_CHECK(c.discarded == 0 && c.depth == 0 && c.inflight == 0, "left behind");
    GB_CHECK(c.emitted == 50, "emitted %llu", (unsigned long long)c.emitted);
    gb_ring_destroy(r);
}

GB_TEST(ring_cpu, lane_counters_show_depth_high_water_and_overflow_per_lane)
{
    gb_ring_opts o = base_opts(GB_RING_PERSISTENT);
    o.lanes = 4;
    o.lane_capacity = 4;
    gb_ring *r = make_ring(o);
    uint32_t lane = gb_ring_lane(r, 77);
    for (uint64_t i = 1; i <= 6; i++)
        add(r, 77, i, 0, i, GB_SEND_SPILL);
    gb_ring_lane_counters lc;
    GB_CHECK(gb_ring_get_lane_counters(r, lane, &lc) == GB_OK, "counters");
    GB_CHECK(lc.depth == 4 && lc.enqueued == 4 && lc.dequeued == 0, "depth %llu", (unsigned long long)lc.depth);
    GB_CHECK(lc.high_water == 4, "high water %llu", (unsigned long long)lc.high_water);
    GB_CHECK(lc.overflowed == 2 && lc.overflow_depth == 2, "overflow %llu", (unsigned long long)lc.overflowed);
    GB_CHECK(gb_ring_get_lane_counters(r, (lane + 1) % 4, &lc) == GB_OK && lc.enqueued == 0, "other lane");
    GB_CHECK(gb_ring_get_lane_counters(r, 4, &lc) == GB_ERANGE, "lane out of range");
    GB_CHECK(gb_ring_stop(r, GB_RING_DRAIN) == GB_OK, "stop");
    GB_CHECK(gb_ring_get_lane_counters(r, lane, &lc) == GB_OK, "counters");
    GB_CHECK(lc.handled == 6 && lc.dequeued == 6 && lc.depth == 0 && lc.overflow_depth == 0 && lc.actors == 1,
             "after drain: handled %llu", (unsigned long long)lc.handled);
    gb_ring_destroy(r);
}
