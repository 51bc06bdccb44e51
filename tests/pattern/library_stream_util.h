/*
 * Helpers shared by the tests that compare the device matcher with the
 * CPU matcher on the library patterns: the compiled library, a generated
 * transfer stream and both matchers' rendered output for it.
 */
#ifndef GB_TEST_LIBRARY_STREAM_UTIL_H
#define GB_TEST_LIBRARY_STREAM_UTIL_H

#include "gpubridge/pattern_device.h"
#include "pattern_test_util.h"
#include "support/pattern_random.h"

#define LIB_S 1000000000LL

/* patterns/fraud.gbp, compiled. */
static inline gb_pattern_set *library(void)
{
    gb_pattern_set *set;
    cr_assert_eq(gb_pattern_compile_file(&set, NULL, GB_SOURCE_DIR "/patterns/fraud.gbp"), GB_OK, "%s",
                 gb_last_error());
    return set;
}

/* n transfers among 12 accounts, 0.1-3 s apart, some large, some just
 * under 10000 (calloc'd; the caller frees). */
static inline gb_event *transfers(gb_pattern_set *set, size_t n, uint64_t seed)
{
    uint32_t tr;
    cr_assert_eq(gb_type_intern(gb_pattern_set_types(set), "transfer", &tr), GB_OK);
    gbt_rng r;
    gbt_rng_seed(&r, seed);
    gb_event *ev = calloc(n, sizeof *ev);
    cr_assert(ev);
    int64_t ts = 1700000000 * LIB_S;
    for (size_t i = 0; i < n; i++) {
        ts += (int64_t)(1 + gbt_rnd(&r, 30)) * (LIB_S / 10);
        uint32_t k = gbt_rnd(&r, 10);
        double v = k == 0 ? 10000.0 + gbt_rnd(&r, 5000) : k == 1 ? 9000.0 + gbt_rnd(&r, 999) : 1.0 + gbt_rnd(&r, 3000);
        ev[i] = (gb_event){.id = i + 1, .type = tr, .ts_ns = ts, .source = gbt_rnd(&r, 12),
                           .target = gbt_rnd(&r, 12), .value = v};
    }
    return ev;
}

/* The CPU matcher's matches over ev[0..n), flushed, one line each; its
 * counters into *st when st is not NULL. */
static inline char *cpu_output(gb_pattern_set *set, const gb_event *ev, size_t n, gb_matcher_stats *st)
{
    tbuf b = {0};
    tbuf_put(&b, "");
    gb_matcher_opts o = {.on_match = tbuf_on_match, .ctx = &b};
    gb_matcher *m;
    cr_assert_eq(gb_matcher_create(&m, set, &o), GB_OK);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(gb_matcher_push(m, &ev[i]), GB_OK);
    cr_assert_eq(gb_matcher_flush(m), GB_OK);
    if (st)
        gb_matcher_stats_get(m, UINT32_MAX, st);
    gb_matcher_destroy(m);
    return b.s;
}

/* The device matcher's matches over ev[0..n) pushed in batches of `batch`,
 * flushed, one line each; its counters into *st. When lose is not NULL,
 * before batch number fault_at the broker's backend `lose` fails its next
 * launch and its next state read (o.broker must be set). */
static inline char *device_output(gb_pattern_set *set, const gb_event *ev, size_t n, gb_device_matcher_opts o,
                                  size_t batch, const char *lose, size_t fault_at, gb_device_matcher_stats *st)
{
    tbuf b = {0};
    tbuf_put(&b, "");
    o.on_match = tbuf_on_match;
    o.ctx = &b;
    gb_device_matcher *dm;
    cr_assert_eq(gb_device_matcher_create(&dm, set, &o), GB_OK, "%s", gb_last_error());
    for (size_t i = 0, k = 0; i < n; i += batch, k++) {
        if (lose && k == fault_at) {
            cr_assert_eq(gb_broker_inject_fault(o.broker, lose, GB_OP_LAUNCH, 1), GB_OK);
            cr_assert_eq(gb_broker_inject_fault(o.broker, lose, GB_OP_ALLOC, 1), GB_OK);
        }
        cr_assert_eq(gb_device_matcher_push(dm, ev + i, n - i < batch ? n - i : batch), GB_OK, "%s",
                     gb_last_error());
    }
    cr_assert_eq(gb_device_matcher_flush(dm), GB_OK, "%s", gb_last_error());
    cr_assert_eq(gb_device_matcher_stats_get(dm, UINT32_MAX, st), GB_OK);
    gb_device_matcher_destroy(dm);
    return b.s;
}

#endif
