/* Rings on the cpu backend: delivery, order, K2K, drain, policies, errors. */
// gb-test-labels: concurrency
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "gpubridge/hash.h"
#include "gpubridge/ring.h"
#include "ring/kernels.h"

#include "test_actors.gbk"

static const gb_ring_actor_type k_types[2] = {
    {.name = "counter", .state_size = sizeof(ta_counter), .on_message = ta_counter_on_message,
     .device_fn = "ta_counter_on_message"},
    {.name = "chain", .state_size = sizeof(ta_chain), .on_message = ta_chain_on_message,
     .device_fn = "ta_chain_on_message"},
};

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
    cr_assert_eq(st, GB_OK, "create: %s", gb_last_error());
    return r;
}

static gb_msg_header hdr(uint64_t target, uint32_t method, uint64_t corr, uint32_t len)
{
    gb_msg_header h;
    memset(&h, 0, sizeof h);
    h.target = target;
    h.method = method;
    h.correlation = corr;
    h.hlc = 1000;
    h.flags = corr ? 0 : GB_MSG_ONEWAY;
    h.payload_len = len;
    return h;
}

static void add(gb_ring *r, uint64_t actor, uint64_t value, uint64_t producer, uint64_t seq, gb_send_policy p)
{
    uint64_t pl[3] = {value, producer, seq};
    gb_msg_header h = hdr(actor, TA_ADD, 0, sizeof pl);
    gb_status st = gb_ring_send(r, 0, &h, pl, p);
    cr_assert_eq(st, GB_OK, "send: %s", gb_last_error());
}

Test(ring_cpu, create_rejects_bad_options)
{
    gb_ring *r = NULL;
    gb_ring_opts o = base_opts(GB_RING_PERSISTENT);
    o.lane_capacity = 1000;
    cr_assert_eq(gb_ring_create(&r, &o), GB_EINVAL);
    o = base_opts(GB_RING_PERSISTENT);
    o.slot_size = 32;
    cr_assert_eq(gb_ring_create(&r, &o), GB_EINVAL);
    o = base_opts(GB_RING_PERSISTENT);
    o.lanes = 2;
    o.threads = 3;
    cr_assert_eq(gb_ring_create(&r, &o), GB_EINVAL);
    o = base_opts(GB_RING_PERSISTENT);
    o.ntypes = 0;
    cr_assert_eq(gb_ring_create(&r, &o), GB_EINVAL);
    o = base_opts(GB_RING_PERSISTENT);
    o.backend = "tpu";
    cr_assert_eq(gb_ring_create(&r, &o), GB_ENOTSUP);
    gb_ring_actor_type t = {.name = "x", .state_size = 8};
    o = base_opts(GB_RING_PERSISTENT);
    o.types = &t;
    o.ntypes = 1;
    cr_assert_eq(gb_ring_create(&r, &o), GB_EINVAL, "cpu needs on_message");
    cr_assert_null(r);
}

Test(ring_cpu, lane_is_hash_of_target_modulo_lanes)
{
    gb_ring_opts o = base_opts(GB_RING_PERSISTENT);
    o.lanes = 7;
    o.threads = 1;
    gb_ring *r = make_ring(o);
    for (uint64_t id = 0; id < 1000; id++)
        cr_assert_eq(gb_ring_lane(r, id), gb_hash_u64(id) % 7);
    cr_assert_str_eq(gb_ring_backend(r), "cpu");
    cr_assert_gt(gb_ring_memory_bytes(r), 7u * 1024u * 256u);
    gb_ring_destroy(r);
}

static void request_gets_response(gb_ring_mode mode)
{
    gb_ring *r = make_ring(base_opts(mode));
    cr_assert_eq(gb_ring_start(r), GB_OK);
    add(r, 42, 5, 0, 1, GB_SEND_BLOCK);
    gb_msg_header h = hdr(42, TA_GET, 777, 0);
    h.sender = 9;
    cr_assert_eq(gb_ring_send(r, 0, &h, NULL, GB_SEND_BLOCK), GB_OK);
    gb_msg_header o;
    uint64_t pl[4];
    cr_assert_eq(gb_ring_recv(r, &o, pl, sizeof pl, 5000000000LL), GB_OK);
    cr_assert_eq(o.correlation, 777);
    cr_assert_eq(o.target, 9, "a response goes to the request's sender");
    cr_assert_eq(o.sender, 42);
    cr_assert(o.flags & GB_MSG_RESPONSE);
    cr_assert_eq(pl[0], 1);
    cr_assert_eq(pl[1], 5);
    cr_assert_eq(pl[2], 0);
    cr_assert_gt(pl[3], 1000, "the lane clock is after the message's hlc");
    cr_assert_gt(o.hlc, 1000);
    cr_assert_eq(gb_ring_stop(r, GB_RING_DRAIN), GB_OK);
    gb_ring_destroy(r);
}

Test(ring_cpu, request_gets_response_persistent)
{
    request_gets_response(GB_RING_PERSISTENT);
}

Test(ring_cpu, request_gets_response_event_driven)
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
    cr_assert_eq(gb_ring_start(r), GB_OK);
    pthread_t t[PRODUCERS];
    prod_arg a[PRODUCERS];
    for (uint64_t i = 0; i < PRODUCERS; i++) {
        a[i] = (prod_arg){r, i, policy};
        cr_assert_eq(pthread_create(&t[i], NULL, producer, &a[i]), 0);
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(t[i], NULL);
    cr_assert_eq(gb_ring_stop(r, GB_RING_DRAIN), GB_OK);
    uint64_t count = 0, sum = 0;
    for (uint64_t actor = 0; actor < ACTORS; actor++) {
        ta_counter s;
        cr_assert_eq(gb_ring_read_state(r, 100 + actor, &s, sizeof s), GB_OK);
        cr_assert_eq(s.violations, 0, "actor %llu saw a producer's messages out of order",
                     (unsigned long long)actor);
        count += s.count;
        sum += s.sum;
    }
    uint64_t n = (uint64_t)PRODUCERS * PER_PRODUCER;
    cr_assert_eq(count, n);
    cr_assert_eq(sum, PRODUCERS * ((uint64_t)PER_PRODUCER * (PER_PRODUCER + 1) / 2));
    gb_ring_counters c;
    cr_assert_eq(gb_ring_get_counters(r, &c), GB_OK);
    cr_assert_eq(c.handled, n);
    cr_assert_eq(c.inflight, 0);
    cr_assert_eq(c.depth, 0);
    cr_assert_eq(c.actors, ACTORS);
    cr_assert_eq(c.discarded, 0);
    cr_assert_leq(c.high_water, cap);
    gb_ring_destroy(r);
}

Test(ring_cpu, concurrent_producers_lose_nothing_persistent)
{
    no_loss_and_per_actor_order(GB_RING_PERSISTENT, GB_SEND_BLOCK, 64);
}

Test(ring_cpu, concurrent_producers_lose_nothing_event_driven)
{
    no_loss_and_per_actor_order(GB_RING_EVENT_DRIVEN, GB_SEND_BLOCK, 64);
}

Test(ring_cpu, concurrent_spilling_producers_keep_per_actor_order)
{
    no_loss_and_per_actor_order(GB_RING_PERSISTENT, GB_SEND_SPILL, 4);
}

/* ---- K2K ------------------------------------------------------------------ */

Test(ring_cpu, k2k_chain_hops_between_actors_without_the_host)
{
    gb_ring_opts o = base_opts(GB_RING_EVENT_DRIVEN);
    o.lanes = 8;
    o.threads = 2;
    gb_ring *r = make_ring(o);
    cr_assert_eq(gb_ring_start(r), GB_OK);
    uint64_t pl[2] = {20, 5};
    gb_msg_header h = hdr(5000, TA_CHAIN, 0, sizeof pl);
    cr_assert_eq(gb_ring_send(r, 1, &h, pl, GB_SEND_BLOCK), GB_OK);
    gb_msg_header out;
    uint64_t got[2];
    cr_assert_eq(gb_ring_recv(r, &out, got, sizeof got, 5000000000LL), GB_OK);
    cr_assert_eq(got[0], 5);
    cr_assert_eq(got[1], 5020, "the last actor of the chain emits");
    cr_assert_eq(gb_ring_stop(r, GB_RING_DRAIN), GB_OK);
    gb_ring_counters c;
    gb_ring_get_counters(r, &c);
    cr_assert_eq(c.k2k_sent, 20);
    cr_assert_eq(c.handled, 21);
    cr_assert_eq(c.emitted, 1);
    for (uint64_t id = 5000; id <= 5020; id++) {
        ta_chain s;
        cr_assert_eq(gb_ring_read_state(r, id, &s, sizeof s), GB_OK);
        cr_assert_eq(s.seen, 1);
        cr_assert_eq(s.sum, 5);
    }
    gb_ring_destroy(r);
}

/* ---- stop, policies, errors ----------------------------------------------- */

Test(ring_cpu, drain_handles_everything_accepted_before_start_including_spills)
{
    gb_ring_opts o = base_opts(GB_RING_PERSISTENT);
    o.lanes = 2;
    o.lane_capacity = 2;
    gb_ring *r = make_ring(o);
    for (uint64_t i = 1; i <= 200; i++)
        add(r, 7, i, 0, i, GB_SEND_SPILL);
    gb_ring_counters c;
    gb_ring_get_counters(r, &c);
    cr_assert_eq(c.overflowed, 198);
    cr_assert_eq(c.inflight, 200);
    cr_assert_eq(gb_ring_stop(r, GB_RING_DRAIN), GB_OK, "drain starts a ring that never ran");
    ta_counter s;
    cr_assert_eq(gb_ring_read_state(r, 7, &s, sizeof s), GB_OK);
    cr_assert_eq(s.count, 200);
    cr_assert_eq(s.violations, 0);
    gb_ring_get_counters(r, &c);
    cr_assert_eq(c.overflow_depth, 0);
    cr_assert_eq(c.discarded, 0);
    gb_ring_destroy(r);
}

Test(ring_cpu, full_lane_with_fail_policy_returns_eagain)
{
    gb_ring_opts o = base_opts(GB_RING_PERSISTENT);
    o.lanes = 1;
    o.lane_capacity = 4;
    gb_ring *r = make_ring(o);
    for (uint64_t i = 1; i <= 4; i++)
        add(r, 1, i, 0, i, GB_SEND_FAIL);
    uint64_t pl[3] = {5, 0, 5};
    gb_msg_header h = hdr(1, TA_ADD, 0, sizeof pl);
    cr_assert_eq(gb_ring_send(r, 0, &h, pl, GB_SEND_FAIL), GB_EAGAIN);
    gb_ring_counters c;
    gb_ring_get_counters(r, &c);
    cr_assert_eq(c.full_hits, 1);
    cr_assert_eq(c.inflight, 4, "the refused message is not counted as accepted");
    gb_ring_destroy(r);
}

Test(ring_cpu, abort_counts_what_it_discards)
{
    gb_ring_opts o = base_opts(GB_RING_PERSISTENT);
    o.lanes = 1;
    o.lane_capacity = 4;
    gb_ring *r = make_ring(o);
    for (uint64_t i = 1; i <= 10; i++)
        add(r, 1, i, 0, i, GB_SEND_SPILL);
    cr_assert_eq(gb_ring_stop(r, GB_RING_ABORT), GB_OK);
    gb_ring_counters c;
    gb_ring_get_counters(r, &c);
    cr_assert_eq(c.discarded, 10);
    cr_assert_eq(c.handled, 0);
    gb_ring_destroy(r);
}

Test(ring_cpu, send_after_stop_is_refused)
{
    gb_ring *r = make_ring(base_opts(GB_RING_PERSISTENT));
    cr_assert_eq(gb_ring_start(r), GB_OK);
    cr_assert_eq(gb_ring_start(r), GB_EBUSY);
    cr_assert_eq(gb_ring_read_state(r, 1, NULL, 0), GB_EBUSY);
    cr_assert_eq(gb_ring_stop(r, GB_RING_DRAIN), GB_OK);
    cr_assert_eq(gb_ring_stop(r, GB_RING_DRAIN), GB_OK, "stop is idempotent");
    uint64_t pl[3] = {1, 0, 1};
    gb_msg_header h = hdr(1, TA_ADD, 0, sizeof pl);
    cr_assert_eq(gb_ring_send(r, 0, &h, pl, GB_SEND_BLOCK), GB_ECLOSED);
    cr_assert_eq(gb_ring_start(r), GB_ECLOSED);
    gb_ring_destroy(r);
}

Test(ring_cpu, bad_sends_are_refused_with_a_status)
{
    gb_ring *r = make_ring(base_opts(GB_RING_PERSISTENT));
    char big[256] = {0};
    gb_msg_header h = hdr(1, TA_ADD, 0, 256 - 47);
    cr_assert_eq(gb_ring_send(r, 0, &h, big, GB_SEND_FAIL), GB_EMSGSIZE);
    h.payload_len = 8;
    cr_assert_eq(gb_ring_send(r, 2, &h, big, GB_SEND_FAIL), GB_EINVAL, "type out of range");
    cr_assert_eq(gb_ring_send(r, 0, &h, NULL, GB_SEND_FAIL), GB_EINVAL);
    cr_assert_eq(gb_ring_send(r, 0, &h, big, (gb_send_policy)9), GB_EINVAL);
    gb_ring_counters c;
    gb_ring_get_counters(r, &c);
    cr_assert_eq(c.inflight, 0);
    gb_ring_destroy(r);
}

static int32_t recv_error(gb_ring *r, uint64_t corr)
{
    gb_msg_header o;
    int32_t pl[1];
    cr_assert_eq(gb_ring_recv(r, &o, pl, sizeof pl, 5000000000LL), GB_OK);
    cr_assert_eq(o.correlation, corr);
    cr_assert_eq(o.flags, GB_MSG_RESPONSE | GB_MSG_ERROR);
    return pl[0];
}

Test(ring_cpu, handler_error_becomes_an_error_response)
{
    gb_ring *r = make_ring(base_opts(GB_RING_EVENT_DRIVEN));
    cr_assert_eq(gb_ring_start(r), GB_OK);
    gb_msg_header h = hdr(3, 999, 55, 0);
    cr_assert_eq(gb_ring_send(r, 0, &h, NULL, GB_SEND_BLOCK), GB_OK);
    cr_assert_eq(recv_error(r, 55), GB_EINVAL);
    cr_assert_eq(gb_ring_stop(r, GB_RING_DRAIN), GB_OK);
    gb_ring_counters c;
    gb_ring_get_counters(r, &c);
    cr_assert_eq(c.handler_errors, 1);
    gb_ring_destroy(r);
}

Test(ring_cpu, type_mismatch_and_full_actor_table_are_reported)
{
    gb_ring_opts o = base_opts(GB_RING_EVENT_DRIVEN);
    o.lanes = 1;
    o.actors_per_lane = 2;
    gb_ring *r = make_ring(o);
    cr_assert_eq(gb_ring_start(r), GB_OK);
    for (uint64_t id = 1; id <= 3; id++) {
        gb_msg_header h = hdr(id, TA_GET, id, 0);
        cr_assert_eq(gb_ring_send(r, 0, &h, NULL, GB_SEND_BLOCK), GB_OK);
        gb_msg_header out;
        uint64_t pl[4];
        cr_assert_eq(gb_ring_recv(r, &out, pl, sizeof pl, 5000000000LL), GB_OK);
        cr_assert_eq(!!(out.flags & GB_MSG_ERROR), id == 3, "the third actor does not fit");
        int32_t status;
        memcpy(&status, pl, sizeof status);
        if (id == 3)
            cr_assert_eq(status, GB_ENOMEM);
    }
    uint64_t pl[2] = {0, 0};
    gb_msg_header h = hdr(1, TA_CHAIN, 9, sizeof pl);
    cr_assert_eq(gb_ring_send(r, 1, &h, pl, GB_SEND_BLOCK), GB_OK);
    cr_assert_eq(recv_error(r, 9), GB_ENOENT, "actor 1 is a counter, not a chain");
    cr_assert_eq(gb_ring_stop(r, GB_RING_DRAIN), GB_OK);
    gb_ring_counters c;
    gb_ring_get_counters(r, &c);
    cr_assert_eq(c.table_full, 1);
    cr_assert_eq(c.unknown_type, 1);
    cr_assert_eq(gb_ring_read_state(r, 3, NULL, 0), GB_ENOENT);
    gb_ring_destroy(r);
}
