/*
 * One planted violation of each kind, on top of a clean simulated history,
 * is caught by gb_causal_verify with the right status, kind and events;
 * check masks and offsets are honoured; bad arguments are refused.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "causal_sim.h"

#define PT 1800000000000000000LL

static gb_causal_graph *G;
static sim S;

static void setup(void)
{
    cr_assert_eq(gb_causal_create(&G), GB_OK);
    sim_init(&S, G, 7, 4, 100, 0, 0, true);
    sim_run(&S, 200, 100);
    cr_assert_eq(gb_causal_verify(G, NULL, NULL), GB_OK, "base history is not clean");
}

static void teardown(void)
{
    sim_free(&S);
    gb_causal_destroy(G);
}

/* Record an event at node (actor 100 + node) whose vector clock has the
 * (node, counter) pairs given in vc[0..2*n). */
static uint64_t rec(gb_causal_kind kind, uint32_t node, uint64_t msg, gb_hlc_t hlc, int64_t pt,
                    int n, const uint64_t *vc)
{
    gb_vclock *c;
    cr_assert_eq(gb_vclock_create(&c), GB_OK);
    for (int i = 0; i < n; i++)
        for (uint64_t k = 0; k < vc[2 * i + 1]; k++)
            cr_assert_eq(gb_vclock_increment(c, (uint32_t)vc[2 * i]), GB_OK);
    gb_causal_event ev = {kind, node, 100 + node, msg, hlc, pt, c};
    uint64_t id;
    cr_assert_eq(gb_causal_record(G, &ev, &id), GB_OK);
    gb_vclock_destroy(c);
    return id;
}

#define VC(...) (int)(sizeof((uint64_t[]){__VA_ARGS__}) / sizeof(uint64_t) / 2), (uint64_t[]){__VA_ARGS__}
#define H(i) gb_hlc_make(PT + (int64_t)(i) * 10000, 0)

static void expect(gb_status want_st, gb_causal_violation_kind kind, uint32_t n_ev,
                   const uint64_t *ev)
{
    gb_causal_violation v;
    gb_status st = gb_causal_verify(G, NULL, &v);
    cr_assert_eq(st, want_st, "status %s (%s: %s)", gb_status_name(st),
                 gb_causal_violation_name(v.kind), v.what);
    cr_assert_eq(v.kind, kind, "kind %s: %s", gb_causal_violation_name(v.kind), v.what);
    cr_assert_eq(v.n_events, n_ev);
    for (uint32_t i = 0; i < n_ev; i++)
        cr_assert_eq(v.event[i], ev[i], "event[%u] = %llu, want %llu", i,
                     (unsigned long long)v.event[i], (unsigned long long)ev[i]);
    cr_assert_neq(v.what[0], '\0');
    cr_assert_str_neq(gb_last_error(), "");
}

TestSuite(causal_planted, .init = setup, .fini = teardown);

Test(causal_planted, overtaking_a_direct_predecessor_is_a_delivery_violation)
{
    uint64_t s1 = rec(GB_CAUSAL_SEND, 50, 9001, H(1), PT, VC(50, 1));
    uint64_t s2 = rec(GB_CAUSAL_SEND, 50, 9002, H(2), PT, VC(50, 2));
    uint64_t r2 = rec(GB_CAUSAL_RECV, 52, 9002, H(3), PT, VC(50, 2, 52, 1));
    uint64_t r1 = rec(GB_CAUSAL_RECV, 52, 9001, H(4), PT, VC(50, 2, 52, 2));
    expect(GB_EORDER, GB_CV_DELIVERY_ORDER, 4, (uint64_t[]){r2, r1, s2, s1});
    gb_causal_violation v;
    gb_causal_verify(G, NULL, &v);
    cr_assert_eq(v.msg[0], 9002);
    cr_assert_eq(v.msg[1], 9001);
}

Test(causal_planted, overtaking_a_transitive_predecessor_is_a_delivery_violation)
{
    uint64_t s1 = rec(GB_CAUSAL_SEND, 50, 9001, H(1), PT, VC(50, 1));
    rec(GB_CAUSAL_SEND, 50, 9003, H(2), PT, VC(50, 2));
    rec(GB_CAUSAL_RECV, 51, 9003, H(3), PT, VC(50, 2, 51, 1));
    uint64_t s2 = rec(GB_CAUSAL_SEND, 51, 9002, H(4), PT, VC(50, 2, 51, 2));
    uint64_t r2 = rec(GB_CAUSAL_RECV, 52, 9002, H(5), PT, VC(50, 2, 51, 2, 52, 1));
    uint64_t r1 = rec(GB_CAUSAL_RECV, 52, 9001, H(6), PT, VC(50, 2, 51, 2, 52, 2));
    expect(GB_EORDER, GB_CV_DELIVERY_ORDER, 4, (uint64_t[]){r2, r1, s2, s1});
}

Test(causal_planted, concurrent_messages_may_arrive_in_any_order)
{
    rec(GB_CAUSAL_SEND, 50, 9001, H(1), PT, VC(50, 1));
    rec(GB_CAUSAL_SEND, 51, 9002, H(2), PT, VC(51, 1));
    rec(GB_CAUSAL_RECV, 52, 9002, H(3), PT, VC(51, 1, 52, 1));
    rec(GB_CAUSAL_RECV, 52, 9001, H(4), PT, VC(50, 1, 51, 1, 52, 2));
    cr_assert_eq(gb_causal_verify(G, NULL, NULL), GB_OK);
}

Test(causal_planted, receive_without_send_is_unmatched)
{
    uint64_t r = rec(GB_CAUSAL_RECV, 52, 9009, H(3), PT, VC(52, 1));
    expect(GB_ENOENT, GB_CV_UNMATCHED_RECV, 1, (uint64_t[]){r});
}

Test(causal_planted, second_receive_of_a_message_is_a_duplicate)
{
    rec(GB_CAUSAL_SEND, 50, 9001, H(1), PT, VC(50, 1));
    uint64_t r1 = rec(GB_CAUSAL_RECV, 52, 9001, H(2), PT, VC(50, 1, 52, 1));
    uint64_t r2 = rec(GB_CAUSAL_RECV, 52, 9001, H(3), PT, VC(50, 1, 52, 2));
    expect(GB_EEXIST, GB_CV_DUPLICATE_MSG, 2, (uint64_t[]){r1, r2});
}

Test(causal_planted, two_events_with_one_local_position_are_caught)
{
    uint64_t a = rec(GB_CAUSAL_LOCAL, 50, 0, H(1), PT, VC(50, 1));
    uint64_t b = rec(GB_CAUSAL_LOCAL, 50, 0, H(2), PT, VC(50, 1));
    expect(GB_EORDER, GB_CV_VC_NOT_ADVANCING, 2, (uint64_t[]){a, b});
}

Test(causal_planted, event_not_counting_itself_is_caught)
{
    uint64_t a = rec(GB_CAUSAL_LOCAL, 50, 0, H(1), PT, VC(51, 1));
    expect(GB_EORDER, GB_CV_VC_NOT_ADVANCING, 1, (uint64_t[]){a});
}

Test(causal_planted, receive_clock_not_after_send_clock_is_caught)
{
    uint64_t s = rec(GB_CAUSAL_SEND, 50, 9001, H(1), PT, VC(50, 1));
    uint64_t r = rec(GB_CAUSAL_RECV, 51, 9001, H(2), PT, VC(51, 1));
    expect(GB_EORDER, GB_CV_VC_RECV_BEFORE_SEND, 2, (uint64_t[]){s, r});
}

Test(causal_planted, receive_hlc_equal_to_send_hlc_is_an_anomaly)
{
    uint64_t s = rec(GB_CAUSAL_SEND, 50, 9001, H(1), PT, VC(50, 1));
    uint64_t r = rec(GB_CAUSAL_RECV, 51, 9001, H(1), PT, VC(50, 1, 51, 1));
    expect(GB_ECLOCK, GB_CV_HLC_RECV_NOT_AFTER_SEND, 2, (uint64_t[]){s, r});
}

Test(causal_planted, actor_hlc_going_backwards_is_an_anomaly)
{
    /* recorded out of order on purpose: local order is the vector entry */
    uint64_t b = rec(GB_CAUSAL_LOCAL, 50, 0, H(1), PT, VC(50, 2));
    uint64_t a = rec(GB_CAUSAL_LOCAL, 50, 0, H(5), PT, VC(50, 1));
    expect(GB_ECLOCK, GB_CV_HLC_BACKWARDS, 2, (uint64_t[]){a, b});
}

Test(causal_planted, events_recorded_out_of_order_are_fine)
{
    rec(GB_CAUSAL_LOCAL, 50, 0, H(5), PT, VC(50, 2));
    rec(GB_CAUSAL_LOCAL, 50, 0, H(1), PT, VC(50, 1));
    cr_assert_eq(gb_causal_verify(G, NULL, NULL), GB_OK);
}

Test(causal_planted, hlc_far_ahead_of_physical_time_is_an_anomaly)
{
    uint64_t e = rec(GB_CAUSAL_LOCAL, 50, 0, gb_hlc_make(PT + 1000000000LL, 0), PT, VC(50, 1));
    expect(GB_ECLOCK, GB_CV_HLC_OFFSET, 1, (uint64_t[]){e});
    gb_causal_verify_opts o = {.max_offset_ns = 2000000000LL};
    cr_assert_eq(gb_causal_verify(G, &o, NULL), GB_OK);
}

Test(causal_planted, wait_for_cycle_is_a_deadlock)
{
    gb_waitfor *w;
    cr_assert_eq(gb_waitfor_create(&w), GB_OK);
    cr_assert_eq(gb_waitfor_add(w, 0xA, 0xB, 1), GB_OK);
    cr_assert_eq(gb_waitfor_add(w, 0xB, 0xC, 2), GB_OK);
    cr_assert_eq(gb_waitfor_add(w, 0xC, 0xD, 3), GB_OK);
    gb_causal_verify_opts o = {.waitfor = w};
    cr_assert_eq(gb_causal_verify(G, &o, NULL), GB_OK, "a chain is not a deadlock");
    cr_assert_eq(gb_waitfor_add(w, 0xC, 0xA, 4), GB_OK);
    gb_causal_violation v;
    cr_assert_eq(gb_causal_verify(G, &o, &v), GB_EDEADLK);
    cr_assert_eq(v.kind, GB_CV_DEADLOCK);
    cr_assert_not_null(strstr(v.what, "a -(1)-> b -(2)-> c -(4)-> a"), "%s", v.what);
    cr_assert_eq(gb_causal_verify(G, NULL, NULL), GB_OK, "no wait-for graph given");
    gb_waitfor_destroy(w);
}

Test(causal_planted, check_mask_selects_the_checks)
{
    rec(GB_CAUSAL_SEND, 50, 9001, H(1), PT, VC(50, 1));
    rec(GB_CAUSAL_SEND, 50, 9002, H(2), PT, VC(50, 2));
    rec(GB_CAUSAL_RECV, 52, 9002, H(3), PT, VC(50, 2, 52, 1));
    rec(GB_CAUSAL_RECV, 52, 9001, H(4), PT, VC(50, 2, 52, 2));
    gb_causal_verify_opts o = {.checks = GB_CV_CHECK_HLC | GB_CV_CHECK_VCLOCK | GB_CV_CHECK_MESSAGES};
    cr_assert_eq(gb_causal_verify(G, &o, NULL), GB_OK);
    o.checks = GB_CV_CHECK_DELIVERY;
    cr_assert_eq(gb_causal_verify(G, &o, NULL), GB_EORDER);
}

static int collect_kinds(const gb_causal_violation *v, void *ctx)
{
    ((int *)ctx)[v->kind]++;
    return 0;
}

Test(causal_planted, each_violation_reports_every_kind_present)
{
    rec(GB_CAUSAL_RECV, 60, 9100, H(1), PT, VC(60, 1));                     /* unmatched */
    rec(GB_CAUSAL_LOCAL, 61, 0, H(1), PT, VC(61, 1));
    rec(GB_CAUSAL_LOCAL, 61, 0, H(2), PT, VC(61, 1));                       /* vc twin */
    rec(GB_CAUSAL_LOCAL, 62, 0, gb_hlc_make(PT + 2000000000LL, 0), PT, VC(62, 1)); /* offset */
    rec(GB_CAUSAL_SEND, 50, 9001, H(1), PT, VC(50, 1));
    rec(GB_CAUSAL_SEND, 50, 9002, H(2), PT, VC(50, 2));
    rec(GB_CAUSAL_RECV, 52, 9002, H(3), PT, VC(50, 2, 52, 1));
    rec(GB_CAUSAL_RECV, 52, 9001, H(4), PT, VC(50, 2, 52, 2));              /* delivery */
    int kinds[16] = {0};
    size_t n;
    cr_assert_eq(gb_causal_each_violation(G, NULL, collect_kinds, kinds, &n), GB_OK);
    cr_assert_eq(n, 4);
    cr_assert_eq(kinds[GB_CV_UNMATCHED_RECV], 1);
    cr_assert_eq(kinds[GB_CV_VC_NOT_ADVANCING], 1);
    cr_assert_eq(kinds[GB_CV_HLC_OFFSET], 1);
    cr_assert_eq(kinds[GB_CV_DELIVERY_ORDER], 1);
}

static int never(const gb_causal_violation *v, void *ctx)
{
    (void)v;
    (void)ctx;
    return 0;
}

Test(causal_planted, bad_arguments_are_rejected)
{
    gb_vclock *vc;
    cr_assert_eq(gb_vclock_create(&vc), GB_OK);
    gb_causal_event ok = {GB_CAUSAL_LOCAL, 1, 1, 0, 1, 0, vc};
    gb_causal_event bad = ok;
    size_t before = gb_causal_count(G);
    cr_assert_eq(gb_causal_record(NULL, &ok, NULL), GB_EINVAL);
    cr_assert_eq(gb_causal_record(G, NULL, NULL), GB_EINVAL);
    bad.vc = NULL;
    cr_assert_eq(gb_causal_record(G, &bad, NULL), GB_EINVAL);
    bad = ok;
    bad.kind = (gb_causal_kind)9;
    cr_assert_eq(gb_causal_record(G, &bad, NULL), GB_EINVAL);
    bad = ok;
    bad.msg_id = 5;
    cr_assert_eq(gb_causal_record(G, &bad, NULL), GB_EINVAL, "local event with a message");
    bad = ok;
    bad.kind = GB_CAUSAL_SEND;
    cr_assert_eq(gb_causal_record(G, &bad, NULL), GB_EINVAL, "send without a message id");
    cr_assert_eq(gb_causal_count(G), before, "a refused event was recorded");

    gb_causal_verify_opts o = {.checks = 0x100};
    cr_assert_eq(gb_causal_verify(G, &o, NULL), GB_EINVAL);
    o = (gb_causal_verify_opts){.max_offset_ns = -1};
    cr_assert_eq(gb_causal_verify(G, &o, NULL), GB_EINVAL);
    cr_assert_eq(gb_causal_verify(NULL, NULL, NULL), GB_EINVAL);
    cr_assert_eq(gb_causal_each_violation(G, NULL, NULL, NULL, NULL), GB_EINVAL);
    cr_assert_eq(gb_causal_each_violation(NULL, NULL, never, NULL, NULL), GB_EINVAL);

    gb_vc_order ord;
    bool b;
    uint64_t ids[2];
    size_t n;
    cr_assert_eq(gb_causal_order(G, 1, before + 1, &ord), GB_ENOENT);
    cr_assert_eq(gb_causal_order(G, 0, 1, &ord), GB_ENOENT);
    cr_assert_eq(gb_causal_order(G, 1, 2, NULL), GB_EINVAL);
    cr_assert_eq(gb_causal_happened_before(G, 1, 2, NULL), GB_EINVAL);
    cr_assert_eq(gb_causal_concurrent(NULL, 1, 2, &b), GB_EINVAL);
    cr_assert_eq(gb_causal_concurrent_with(G, before + 1, ids, 2, &n), GB_ENOENT);
    cr_assert_eq(gb_causal_concurrent_with(G, 1, NULL, 2, &n), GB_EINVAL);
    gb_causal_event out;
    cr_assert_eq(gb_causal_event_get(G, before + 1, &out, NULL), GB_ENOENT);
    cr_assert_eq(gb_causal_event_get(G, 1, NULL, NULL), GB_EINVAL);
    cr_assert_str_eq(gb_causal_violation_name((gb_causal_violation_kind)99), "unknown");
    cr_assert_eq(gb_causal_create(NULL), GB_EINVAL);
    gb_causal_destroy(NULL);
    gb_vclock_destroy(vc);
}

Test(causal_planted, concurrent_with_truncates_with_erange)
{
    /* node 70's lone event is concurrent with every event of the base history */
    uint64_t e = rec(GB_CAUSAL_LOCAL, 70, 0, H(1), PT, VC(70, 1));
    uint64_t ids[3];
    size_t n;
    cr_assert_eq(gb_causal_concurrent_with(G, e, ids, 3, &n), GB_ERANGE);
    cr_assert_eq(n, 3);
    cr_assert_eq(ids[0], 1);
    cr_assert_eq(ids[2], 3);
}
