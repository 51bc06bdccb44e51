// gb-test-labels: concurrency
/* The flood brake (scheduler.c, gbi_sched_help): a turn that floods an
 * actor waiting in a run queue runs that actor's turns itself once its
 * depth reaches the help depth, so the receiver is handled while the
 * sender's long turn still holds the worker. Order per sender, counts and
 * backpressure stay as without it. */
#include "actor/actor_test.h"

#define MAX_SENDERS 2

typedef struct flood_msg {
    uint32_t sender, seq;
} flood_msg;

static gb_actor_id g_rx, g_next; /* receiver; optional actor the receiver forwards to */
static int g_per_sender;
static _Atomic int g_handled, g_forwarded, g_disorder, g_refused;
static _Atomic int g_handled_during_flood; /* receiver count seen when a sender's loop ended */

typedef struct rx_state {
    uint32_t next[MAX_SENDERS]; /* next sequence number expected per sender */
} rx_state;

static void check_order(rx_state *st, const flood_msg *fm)
{
    if (fm->sender >= MAX_SENDERS || fm->seq != st->next[fm->sender])
        atomic_fetch_add(&g_disorder, 1);
    else
        st->next[fm->sender]++;
}

static gb_status rx_handler(gb_actor_ctx *ctx, void *state, const gb_msg_header *m, const void *p)
{
    if (m->payload_len != sizeof(flood_msg))
        return GB_OK;
    flood_msg fm;
    memcpy(&fm, p, sizeof fm);
    check_order(state, &fm);
    if (g_next && gb_ctx_send(ctx, g_next, 2, &fm, sizeof fm) != GB_OK)
        atomic_fetch_add(&g_refused, 1);
    atomic_fetch_add(&g_handled, 1);
    return GB_OK;
}

static gb_status next_handler(gb_actor_ctx *ctx, void *state, const gb_msg_header *m, const void *p)
{
    (void)ctx;
    flood_msg fm;
    memcpy(&fm, p, sizeof fm);
    check_order(state, &fm);
    atomic_fetch_add(&g_forwarded, 1);
    return GB_OK;
}

/* A sender's one message: send g_per_sender messages to the receiver from
 * this single turn. */
static gb_status tx_handler(gb_actor_ctx *ctx, void *state, const gb_msg_header *m, const void *p)
{
    (void)state;
    (void)p;
    flood_msg fm = {.sender = (uint32_t)gb_ctx_key_u64(ctx)};
    for (int i = 0; i < g_per_sender; i++, fm.seq++)
        if (gb_ctx_send(ctx, g_rx, 1, &fm, sizeof fm) != GB_OK)
            atomic_fetch_add(&g_refused, 1);
    atomic_store(&g_handled_during_flood, atomic_load(&g_handled));
    (void)m;
    return GB_OK;
}

static gb_silo *flood_silo(uint32_t workers, uint32_t cap, int forward)
{
    atomic_store(&g_handled, 0);
    atomic_store(&g_forwarded, 0);
    atomic_store(&g_disorder, 0);
    atomic_store(&g_refused, 0);
    atomic_store(&g_handled_during_flood, 0);
    gb_silo_opts o = {.workers = workers, .mailbox_capacity = cap};
    gb_silo *s = test_silo(&o);
    gb_actor_type rx = {.name = "rx", .state_size = sizeof(rx_state), .handler = rx_handler};
    gb_actor_type tx = {.name = "tx", .handler = tx_handler};
    gb_actor_type nx = {.name = "next", .state_size = sizeof(rx_state), .handler = next_handler};
    GB_CHECK(gb_actor_type_register(s, &rx) == GB_OK, "%s", gb_last_error());
    GB_CHECK(gb_actor_type_register(s, &tx) == GB_OK, "%s", gb_last_error());
    GB_CHECK(gb_actor_type_register(s, &nx) == GB_OK, "%s", gb_last_error());
    GB_CHECK(gb_actor_ref_u64(s, "rx", 0, &g_rx) == GB_OK, "%s", gb_last_error());
    g_next = 0;
    if (forward)
        GB_CHECK(gb_actor_ref_u64(s, "next", 0, &g_next) == GB_OK, "%s", gb_last_error());
    return s;
}

static void start_senders(gb_silo *s, int n)
{
    for (int i = 0; i < n; i++) {
        gb_actor_id id;
        GB_CHECK(gb_actor_ref_u64(s, "tx", (uint64_t)i, &id) == GB_OK, "%s", gb_last_error());
        GB_CHECK(gb_send(s, id, 1, NULL, 0) == GB_OK, "%s", gb_last_error());
    }
}

GB_TEST(flood_help, one_worker_handles_the_receiver_inside_the_senders_turn)
{
    g_per_sender = 20000;
    gb_silo *s = flood_silo(1, 0, 0);
    start_senders(s, 1);
    GB_CHECK(wait_atomic(&g_handled, g_per_sender), "handled %d of %d", atomic_load(&g_handled),
             g_per_sender);
    /* with one worker and no help the receiver could only run after the
     * sender's turn: here it ran during it */
    GB_CHECK(atomic_load(&g_handled_during_flood) > 0, "receiver did not run during the flood");
    gb_silo_stats st;
    gb_silo_stats_get(s, &st);
    GB_CHECK(st.helped_turns > 0, "no helped turn counted");
    GB_CHECK(atomic_load(&g_disorder) == 0, "%d messages out of order", atomic_load(&g_disorder));
    GB_CHECK(atomic_load(&g_refused) == 0, "%d sends refused", atomic_load(&g_refused));
    gb_silo_destroy(s);
}

GB_TEST(flood_help, small_mailbox_is_drained_before_it_fills)
{
    /* capacity 64: without the help the 65th send of the turn would get
     * GB_EAGAIN; the help starts at 32 and keeps the depth under it */
    g_per_sender = 5000;
    gb_silo *s = flood_silo(1, 64, 0);
    start_senders(s, 1);
    GB_CHECK(wait_atomic(&g_handled, g_per_sender), "handled %d", atomic_load(&g_handled));
    GB_CHECK(atomic_load(&g_refused) == 0, "%d sends refused", atomic_load(&g_refused));
    GB_CHECK(atomic_load(&g_disorder) == 0, "out of order");
    gb_silo_destroy(s);
}

GB_TEST(flood_help, two_senders_on_two_workers_keep_order_and_count)
{
    g_per_sender = 30000;
    gb_silo *s = flood_silo(2, 0, 0);
    start_senders(s, 2);
    GB_CHECK(wait_atomic(&g_handled, 2 * g_per_sender), "handled %d", atomic_load(&g_handled));
    gb_silo_destroy(s);
    GB_CHECK(atomic_load(&g_handled) == 2 * g_per_sender, "handled %d", atomic_load(&g_handled));
    GB_CHECK(atomic_load(&g_disorder) == 0, "%d out of order", atomic_load(&g_disorder));
    GB_CHECK(atomic_load(&g_refused) == 0, "%d refused", atomic_load(&g_refused));
}

GB_TEST(flood_help, a_helped_turn_that_floods_another_actor_does_not_help_again)
{
    /* the receiver, run inside the sender's turn, forwards every message:
     * the next actor's mailbox passes the help depth too, and is handled
     * by a worker in its own turn later (one level of help only) */
    g_per_sender = 20000;
    gb_silo *s = flood_silo(1, 0, 1);
    start_senders(s, 1);
    GB_CHECK(wait_atomic(&g_forwarded, g_per_sender), "forwarded %d", atomic_load(&g_forwarded));
    GB_CHECK(atomic_load(&g_handled) == g_per_sender, "handled %d", atomic_load(&g_handled));
    GB_CHECK(atomic_load(&g_disorder) == 0, "out of order");
    GB_CHECK(atomic_load(&g_refused) == 0, "refused");
    gb_silo_destroy(s);
}
