/*
 * The summary of `gbridge demo`: device, throughput, detection latency,
 * alerts per detector, precision and recall against the injected ground
 * truth, as text or as one JSON object.
 */
#include "demo.h"

#define DEMO_GOAL_RATE 1000000.0
#define DEMO_GOAL_P99_NS 100000

static double ratio(uint64_t a, uint64_t b) { return b ? (double)a / (double)b : 1.0; }
static double us(int64_t ns) { return (double)ns / 1000.0; }
static double rate(const demo_result *r) { return r->seconds > 0 ? (double)r->transfers / r->seconds : 0; }

void demo_report_text(FILE *f, const demo_opts *o, const demo_result *r)
{
    fprintf(f, "gbridge demo: %u accounts, %llu transfers, seed %llu\n", o->accounts,
            (unsigned long long)o->transfers, (unsigned long long)o->seed);
    fprintf(f, "  device          %s (%s)\n", r->backend, r->device);
    if (r->fallback[0])
        fprintf(f, "  skipped         %s\n", r->fallback);
    fprintf(f, "  transfers/s     %.0f  (%llu in %.2f s; goal 1000000: %s)\n", rate(r),
            (unsigned long long)r->transfers, r->seconds, rate(r) >= DEMO_GOAL_RATE ? "met" : "not met");
    fprintf(f, "  latency         p50 %.1f us, p99 %.1f us, max %.1f us  (every alert)\n", us(r->lat_p50_ns),
            us(r->lat_p99_ns), us(r->lat_max_ns));
    fprintf(f, "  latency goal    p50 %.1f us, p99 %.1f us, max %.1f us  (goal p99 < 100 us: %s)\n",
            us(r->goal_p50_ns), us(r->goal_p99_ns), us(r->goal_max_ns),
            r->goal_p99_ns < DEMO_GOAL_P99_NS ? "met" : "not met");
    fprintf(f, "                  over the detectors that alert on the completing transfer; rapid_split\n"
               "                  alerts when its 5 s window closes (b {3,}), so it waits for stream time\n");
    fprintf(f, "  %-24s %7s %6s %6s %10s %10s\n", "detector", "alerts", "cases", "found", "p50 us", "p99 us");
    for (uint32_t d = 0; d < DEMO_DETECTORS; d++)
        fprintf(f, "  %-24s %7llu %6u %6u %10.1f %10.1f\n", demo_detector_name(d),
                (unsigned long long)r->alerts[d], r->cases[d], r->found[d], us(r->det_p50_ns[d]),
                us(r->det_p99_ns[d]));
    fprintf(f, "  precision       %.4f  (%llu of %llu alerts match an injected case)\n",
            ratio(r->alerts_true, r->alerts_total), (unsigned long long)r->alerts_true,
            (unsigned long long)r->alerts_total);
    fprintf(f, "  recall          %.4f  (%u of %u injected cases found%s)\n", ratio(r->found_total, r->cases_total),
            r->found_total, r->cases_total, r->found_total == r->cases_total ? "" : "; MISSED CASES");
    if (r->credits_resent || r->max_runs_capped)
        fprintf(f, "  note            %llu credits resent by the host, %llu matcher runs capped\n",
                (unsigned long long)r->credits_resent, (unsigned long long)r->max_runs_capped);
    if (r->cases_skipped)
        fprintf(f, "  note            %u planned cases not injected (too few free mule accounts)\n",
                r->cases_skipped);
}

void demo_report_json(FILE *f, const demo_opts *o, const demo_result *r)
{
    fprintf(f, "{\"accounts\": %u, \"transfers\": %llu, \"seed\": %llu, \"device\": {\"backend\": \"%s\"",
            o->accounts, (unsigned long long)r->transfers, (unsigned long long)o->seed, r->backend);
    fprintf(f, ", \"name\": \"%s\"}, \"seconds\": %.6f, \"transfers_per_s\": %.1f", r->device, r->seconds,
            rate(r));
    fprintf(f, ", \"latency_us\": {\"p50\": %.3f, \"p99\": %.3f, \"max\": %.3f}", us(r->lat_p50_ns),
            us(r->lat_p99_ns), us(r->lat_max_ns));
    fprintf(f, ", \"goal_latency_us\": {\"p50\": %.3f, \"p99\": %.3f, \"max\": %.3f, \"detectors\": [",
            us(r->goal_p50_ns), us(r->goal_p99_ns), us(r->goal_max_ns));
    for (uint32_t d = 0, k = 0; d < DEMO_DETECTORS; d++)
        if (demo_detector_immediate(d))
            fprintf(f, "%s\"%s\"", k++ ? ", " : "", demo_detector_name(d));
    fprintf(f, "]}");
    fprintf(f, ", \"detectors\": [");
    for (uint32_t d = 0; d < DEMO_DETECTORS; d++)
        fprintf(f, "%s{\"name\": \"%s\", \"kind\": \"%s\", \"alerts\": %llu, \"cases\": %u, \"found\": %u, "
                   "\"p50_us\": %.3f, \"p99_us\": %.3f}",
                d ? ", " : "", demo_detector_name(d), demo_kind_name((demo_kind)d),
                (unsigned long long)r->alerts[d], r->cases[d], r->found[d], us(r->det_p50_ns[d]),
                us(r->det_p99_ns[d]));
    fprintf(f, "], \"alerts\": %llu, \"true_alerts\": %llu, \"precision\": %.6f", (unsigned long long)r->alerts_total,
            (unsigned long long)r->alerts_true, ratio(r->alerts_true, r->alerts_total));
    fprintf(f, ", \"cases\": %u, \"found\": %u, \"recall\": %.6f, \"cases_skipped\": %u", r->cases_total,
            r->found_total, ratio(r->found_total, r->cases_total), r->cases_skipped);
    fprintf(f, ", \"goal\": {\"rate_met\": %s, \"p99_met\": %s}}\n", rate(r) >= DEMO_GOAL_RATE ? "true" : "false",
            r->goal_p99_ns < DEMO_GOAL_P99_NS ? "true" : "false");
}
