// gb-test-labels: concurrency
/* HLC stamps of messages sent by handlers: a physical-time reading is shared
 * by at most a few stamps of one handler invocation, never carried over to
 * the next message, and stamps stay strictly increasing. No other thread
 * ticks the clock while these handlers run (the silo is otherwise idle), so
 * a stale reading would show in the stamps. */
#include <sched.h>

#include "actor/actor_test.h"
#include "gpubridge/clock.h"

#define M_BURST 1u  /* send 1, wait WAIT_NS, send BURST more to the sink */
#define M_FIRST 2u  /* send M_SECOND to self, wait WAIT_NS */
#define M_SECOND 3u /* send one message to the sink */
#define M_RECORD 4u
#define BURST 16
#define WAIT_NS 200000 /* 0.2 ms, far beyond the clock's 4096 ns unit */

static gb_actor_id g_sink;
static gb_hlc_t g_stamps[BURST + 1];
static _Atomic int g_n;
static _Atomic int64_t g_waited_from;

static void busy_wait(void)
{
    int64_t from = gb_time_realtime_ns();
    atomic_store(&g_waited_from, from);
    while (gb_time_realtime_ns() < from + WAIT_NS)
        ;
}

static gb_status stamper(gb_actor_ctx *ctx, void *state, const gb_msg_header *m, const void *p)
{
    switch (m->method) {
    case M_BURST:
        gb_ctx_send(ctx, g_sink, M_RECORD, NULL, 0);
        busy_wait();
        for (int i = 0; i < BURST; i++)
            gb_ctx_send(ctx, g_sink, M_RECORD, NULL, 0);
        return GB_OK;
    case M_FIRST:
        gb_ctx_send(ctx, gb_ctx_self(ctx), M_SECOND, NULL, 0);
        busy_wait();
        return GB_OK;
    case M_SECOND:
        return gb_ctx_send(ctx, g_sink, M_RECORD, NULL, 0);
    default: {
        int i = atomic_load(&g_n);
        if (i <= BURST)
            g_stamps[i] = m->hlc;
        atomic_store(&g_n, i + 1);
        return GB_OK;
    }
    }
}

static gb_silo *setup(gb_actor_id *a)
{
    atomic_store(&g_n, 0);
    gb_silo *s = test_silo(NULL);
    gb_actor_type t = {.name = "st", .handler = stamper};
    GB_CHECK((gb_actor_type_register(s, &t)) == (GB_OK), "check_eq");
    gb_actor_ref_str(s, "st", "a", a);
    gb_actor_ref_str(s, "st", "sink", &g_sink);
    return s;
}

static void wait_records(int n)
{
    while (atomic_load(&g_n) < n)
        sched_yield();
}

GB_TEST(hlc_stamps, a_burst_reads_the_clock_again_after_a_few_stamps)
{
    gb_actor_id a;
    gb_silo *s = setup(&a);
    GB_CHECK((gb_send(s, a, M_BURST, NULL, 0)) == (GB_OK), "check_eq");
    wait_records(BURST + 1);
    for (int i = 1; i <= BURST; i++)
        GB_CHECK(g_stamps[i] > g_stamps[i - 1], "stamp %d increases", i);
    int64_t after = atomic_load(&g_waited_from) + WAIT_NS - 4096;
    GB_CHECK(gb_hlc_physical_ns(g_stamps[BURST]) >= after,
             "the last stamp of the burst has a reading taken after the wait");
    gb_silo_destroy(s);
}

GB_TEST(hlc_stamps, the_next_message_reads_the_clock_afresh)
{
    gb_actor_id a;
    gb_silo *s = setup(&a);
    GB_CHECK((gb_send(s, a, M_FIRST, NULL, 0)) == (GB_OK), "check_eq");
    wait_records(1);
    int64_t after = atomic_load(&g_waited_from) + WAIT_NS - 4096;
    GB_CHECK(gb_hlc_physical_ns(g_stamps[0]) >= after, "M_SECOND's stamp is later than M_FIRST's wait");
    gb_silo_destroy(s);
}
