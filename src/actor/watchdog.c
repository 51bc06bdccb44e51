/*
 * Stuck-turn watchdog: run by the service thread, it reads each worker's
 * turn start time (gb_time_fast_ns, 0 when idle) and logs, once per turn,
 * a turn that has run longer than stuck_turn_ns: a handler that blocks
 * holds a worker and delays every actor queued behind it.
 */
#include "actor/runtime.h"
#include "gpubridge/log.h"
#include "gpubridge/time.h"

void gbi_watchdog_check(gb_silo *s, int64_t now_ns)
{
    for (uint32_t i = 0; i < s->nworkers; i++) {
        gbi_worker *w = &s->workers[i];
        int64_t start = atomic_load_explicit(&w->turn_start, memory_order_relaxed);
        uint64_t seq = atomic_load_explicit(&w->turn_seq, memory_order_acquire);
        if (!start || now_ns - start < s->o.stuck_turn_ns || w->reported_seq == seq)
            continue;
        w->reported_seq = seq;
        gbi_count(&s->ext.stuck, 1);
        gb_log(GB_LOG_WARN, "actor", "worker %u: turn of actor %016llx running for %lld ms", i,
               (unsigned long long)atomic_load_explicit(&w->actor_id, memory_order_relaxed),
               (long long)((now_ns - start) / 1000000));
    }
}
