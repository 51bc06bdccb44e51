/* The timed idle wait of ring hosts and consumers (gbi_wait, queue.h): its
 * phases and the adaptive spin budget. Phase ends are chosen far from any
 * real duration (0 or 100 s), so no check depends on timing. */
#include <criterion/criterion.h>
#include <stdatomic.h>

#include "ring/queue.h"

#define LONG_NS 100000000000LL /* 100 s: never reached in a test */

Test(queue_wait, first_steps_spin_until_the_clock_is_read)
{
    gbi_wait w;
    gbi_wait_init(&w, 0, 0); /* both phases over as soon as the clock is read */
    for (int i = 1; i < 16; i++)
        cr_assert_eq(gbi_wait_step(&w, 0), GBI_WAIT_SPIN, "step %d reads no clock, so it still spins", i);
    cr_assert_eq(gbi_wait_step(&w, 0), GBI_WAIT_SLEEP, "the 16th step reads the clock: both phases are over");
    cr_assert_eq(w.sleeps, 0, "may_sleep 0 never sleeps");
}

Test(queue_wait, spin_then_yield_phase_lasts_until_its_time)
{
    gbi_wait w;
    gbi_wait_init(&w, 0, LONG_NS);
    int phase = GBI_WAIT_SPIN;
    for (int i = 0; i < 40; i++)
        phase = gbi_wait_step(&w, 1);
    cr_assert_eq(phase, GBI_WAIT_YIELD, "spin over, yield phase not yet");
    gbi_wait_init(&w, LONG_NS, LONG_NS);
    for (int i = 0; i < 40; i++)
        phase = gbi_wait_step(&w, 1);
    cr_assert_eq(phase, GBI_WAIT_SPIN, "a long spin budget keeps spinning");
}

Test(queue_wait, now_follows_the_clock_for_deadlines)
{
    gbi_wait w;
    gbi_wait_init(&w, 0, LONG_NS);
    cr_assert_eq(w.now, 0, "no clock read before the first step");
    gbi_wait_step(&w, 0);
    cr_assert_gt(w.now, 0, "the first step reads the clock");
    cr_assert_eq(w.now, w.since);
    for (int i = 0; i < 20; i++)
        gbi_wait_step(&w, 0);
    cr_assert_geq(w.now, w.since, "later reads never go back");
}

static gbi_wait ended_in(int phase)
{
    gbi_wait w;
    gbi_wait_init(&w, 1000, 2000);
    w.steps = 5;
    w.phase = phase;
    return w;
}

Test(queue_wait, adapt_doubles_after_a_spin_and_halves_after_a_yield_within_bounds)
{
    _Atomic int64_t spin = 2000;
    gbi_wait w = ended_in(GBI_WAIT_YIELD);
    gbi_wait_adapt(&w, &spin, 500, 4000);
    cr_assert_eq(atomic_load(&spin), 1000, "answered only after yielding: halve");
    gbi_wait_adapt(&w, &spin, 500, 4000);
    gbi_wait_adapt(&w, &spin, 500, 4000);
    cr_assert_eq(atomic_load(&spin), 500, "never below the minimum");
    w = ended_in(GBI_WAIT_SPIN);
    for (int i = 0; i < 5; i++)
        gbi_wait_adapt(&w, &spin, 500, 4000);
    cr_assert_eq(atomic_load(&spin), 4000, "answered while spinning: double, never above the maximum");
}

Test(queue_wait, adapt_ignores_waits_that_slept_or_never_waited)
{
    _Atomic int64_t spin = 2000;
    gbi_wait w = ended_in(GBI_WAIT_SLEEP);
    gbi_wait_adapt(&w, &spin, 500, 4000);
    cr_assert_eq(atomic_load(&spin), 2000, "a long idle says nothing about the peer");
    w = ended_in(GBI_WAIT_YIELD);
    w.steps = 0;
    gbi_wait_adapt(&w, &spin, 500, 4000);
    cr_assert_eq(atomic_load(&spin), 2000, "no wait, no change");
}
