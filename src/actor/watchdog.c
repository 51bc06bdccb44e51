/*
 * Stuck-turn watchdog, run by the service thread at least every
 * stuck_turn_ns / 4. It samples each worker's (and caller slot's, see
 * scheduler.c) turn sequence number: a worker
 * seen in the same turn for longer than stuck_turn_ns is logged once (a
 * handler that blocks holds its worker and delays every actor queued behind
 * it) and counted. Sampling keeps clock reads off the turn path; the report
 * comes between 1 and 1.25 thresholds after the turn started.
 */
#include "actor/runtime.h"
#include "gpubridge/log.h"

void gbi_watchdog_check(gb_silo *s, int64_t now_ns)
{
    for (uint32_t i = 0; i < gbi_nturn_records(s); i++) {
        gbi_worker *w = &s->workers[i];
        uint64_t seq = atomic_load_explicit(&w->turn_seq, memory_order_acquire);
        int busy = atomic_load_explicit(&w->in_turn, memory_order_acquire);
        if (!busy || seq != w->seen_seq) {
            w->seen_seq = seq;
            w->seen_at = now_ns;
            continue;
        }
        if (now_ns - w->seen_at < s->o.stuck_turn_ns || w->reported_seq == seq)
            continue;
        w->reported_seq = seq;
        gbi_count(&gbi_counters_here(s)->stuck, 1);
        gb_log(GB_LOG_WARN, "actor", "%s %u: turn of actor %016llx running for over %lld ms",
               i < s->nworkers ? "worker" : "caller slot", i,
               (unsigned long long)atomic_load_explicit(&w->actor_id, memory_order_relaxed),
               (long long)((now_ns - w->seen_at) / 1000000));
    }
}
