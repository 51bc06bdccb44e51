// gb-test-labels: concurrency
/* Bounded mailboxes: a full mailbox gives GB_EAGAIN (counted), or makes an
 * external sender wait with GB_FULL_BLOCK; nothing is lost either way. */
#include <pthread.h>

#include "actor/actor_test.h"

static _Atomic int g_gate; /* handlers of method 1 wait while 0 */
static _Atomic uint64_t g_sum;

static gb_status slow_handler(gb_actor_ctx *ctx, void *state, const gb_msg_header *m, const void *p)
{
    if (m->method == 1)
        while (!atomic_load(&g_gate))
            gb_cpu_relax();
    if (m->payload_len == 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        atomic_fetch_add(&g_sum, v);
    }
    return GB_OK;
}

static gb_silo *setup(uint32_t cap, gb_full_policy policy, gb_actor_id *id)
{
    atomic_store(&g_gate, 0);
    atomic_store(&g_sum, 0);
    gb_silo_opts o = {.mailbox_capacity = cap, .full_policy = policy};
    gb_silo *s = test_silo(&o);
    gb_actor_type t = {.name = "slow", .handler = slow_handler};
    GB_CHECK((gb_actor_type_register(s, &t)) == (GB_OK), "check_eq");
    gb_actor_ref_str(s, "slow", "s", id);
    return s;
}

GB_TEST(backpressure, full_mailbox_gives_eagain_and_is_counted)
{
    gb_actor_id id;
    gb_silo *s = setup(4, GB_FULL_FAIL, &id);
    uint64_t one = 1;
    for (int i = 0; i < 4; i++)
        GB_CHECK((gb_send(s, id, 1, &one, 8)) == (GB_OK), "check_eq");
    GB_CHECK((gb_send(s, id, 1, &one, 8)) == (GB_EAGAIN), "check_eq");
    GB_CHECK((gb_call(s, id, 2, NULL, 0, 0, NULL, 0, NULL)) == (GB_EAGAIN), "check_eq");
    gb_silo_stats st;
    gb_silo_stats_get(s, &st);
    GB_CHECK((st.mailbox_full) == (2), "check_eq");
    atomic_store(&g_gate, 1);
    gb_status rc;
    while ((rc = gb_call(s, id, 2, NULL, 0, 0, NULL, 0, NULL)) == GB_EAGAIN)
        ; /* the four messages are consumed at the end of their turn */
    GB_CHECK((rc) == (GB_OK), "check_eq");
    GB_CHECK((atomic_load(&g_sum)) == (4), "check_eq");
    gb_silo_destroy(s);
}

typedef struct sender {
    gb_silo *s;
    gb_actor_id id;
    int n;
    int failures;
} sender;

static void *send_many(void *p)
{
    sender *a = p;
    for (int i = 0; i < a->n; i++) {
        uint64_t one = 1;
        if (gb_send(a->s, a->id, 1, &one, 8) != GB_OK)
            a->failures++;
    }
    return NULL;
}

GB_TEST(backpressure, block_policy_makes_external_senders_wait_for_room)
{
    gb_actor_id id;
    gb_silo *s = setup(2, GB_FULL_BLOCK, &id);
    sender a = {s, id, 200, 0};
    pthread_t t;
    pthread_create(&t, NULL, send_many, &a);
    gb_silo_stats st;
    GB_CHECK(WAIT_FOR(s, st, st.mailbox_full >= 1), "the sender met a full mailbox");
    atomic_store(&g_gate, 1);
    pthread_join(t, NULL);
    GB_CHECK((a.failures) == (0), "check_eq");
    GB_CHECK((gb_call(s, id, 2, NULL, 0, 0, NULL, 0, NULL)) == (GB_OK), "check_eq");
    GB_CHECK((atomic_load(&g_sum)) == (200), "check_eq");
    gb_silo_destroy(s);
}

typedef struct closer {
    sender *snd;
    pthread_t sender_thread;
} closer;

/* Waits for the blocked sender to give up, then lets the handler go on. */
static void *open_gate_after_sender(void *p)
{
    closer *c = p;
    pthread_join(c->sender_thread, NULL);
    atomic_store(&g_gate, 1);
    return NULL;
}

static _Atomic uint64_t g_accepted;

static void *send_counting(void *p)
{
    sender *a = p;
    for (int i = 0; i < a->n; i++) {
        uint64_t one = 1;
        gb_status st = gb_send(a->s, a->id, 1, &one, 8);
        if (st == GB_OK)
            atomic_fetch_add(&g_accepted, 1);
        else {
            GB_CHECK(st == GB_ECLOSED, "a blocked sender only fails with GB_ECLOSED, not %s",
                     gb_status_name(st));
            a->failures++;
        }
    }
    return NULL;
}

GB_TEST(backpressure, sender_blocked_at_destroy_gets_eclosed_and_nothing_accepted_is_lost)
{
    gb_actor_id id;
    gb_silo *s = setup(2, GB_FULL_BLOCK, &id);
    atomic_store(&g_accepted, 0);
    sender a = {s, id, 100, 0};
    closer c = {&a, 0};
    pthread_create(&c.sender_thread, NULL, send_counting, &a);
    gb_silo_stats st;
    GB_CHECK(WAIT_FOR(s, st, st.mailbox_full >= 1), "the sender is blocked");
    pthread_t opener;
    pthread_create(&opener, NULL, open_gate_after_sender, &c);
    gb_silo_destroy(s); /* wakes the sender with GB_ECLOSED, then drains */
    pthread_join(opener, NULL);
    GB_CHECK(a.failures > 0, "the blocked send was refused");
    GB_CHECK(atomic_load(&g_sum) == atomic_load(&g_accepted), "handled %llu of %llu accepted",
             (unsigned long long)atomic_load(&g_sum), (unsigned long long)atomic_load(&g_accepted));
}
