// gb-test-labels: concurrency
/* A compiled pattern set is immutable: matchers on several threads may share
 * it and each sees exactly what a matcher alone would. */
#include <criterion/criterion.h>
#include <pthread.h>

#include "pattern_test_util.h"

#define THREADS 4
#define EVENTS 5000

typedef struct job {
    const gb_pattern_set *set;
    const gb_event *ev;
    tbuf out;
} job;

static void *worker(void *arg)
{
    job *j = arg;
    tbuf_put(&j->out, "");
    gb_matcher_opts o = {.on_match = tbuf_on_match, .ctx = &j->out};
    gb_matcher *m;
    if (gb_matcher_create(&m, j->set, &o) != GB_OK)
        return NULL;
    for (int i = 0; i < EVENTS; i++)
        gb_matcher_push(m, &j->ev[i]);
    gb_matcher_flush(m);
    gb_matcher_destroy(m);
    return NULL;
}

Test(shared_set, matchers_on_threads_share_one_set)
{
    gb_pattern_set *set;
    cr_assert_eq(gb_pattern_compile_file(&set, NULL, GB_SOURCE_DIR "/patterns/fraud.gbp"), GB_OK);
    uint32_t transfer;
    cr_assert_eq(gb_type_intern(gb_pattern_set_types(set), "transfer", &transfer), GB_OK);
    static gb_event ev[EVENTS];
    uint64_t x = 12345;
    for (int i = 0; i < EVENTS; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        ev[i] = (gb_event){.id = (uint64_t)i + 1, .type = transfer, .ts_ns = (int64_t)i * 100000000LL,
                           .source = (x >> 33) % 20, .target = (x >> 45) % 20, .value = (double)((x >> 20) % 12000)};
    }
    job jobs[THREADS];
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++) {
        jobs[t] = (job){.set = set, .ev = ev};
        cr_assert_eq(pthread_create(&th[t], NULL, worker, &jobs[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    cr_assert_not_null(jobs[0].out.s);
    cr_assert_gt(strlen(jobs[0].out.s), 0, "the stream should produce matches");
    for (int t = 1; t < THREADS; t++)
        cr_assert_str_eq(jobs[t].out.s, jobs[0].out.s);
    for (int t = 0; t < THREADS; t++)
        free(jobs[t].out.s);
    gb_pattern_set_destroy(set);
}
