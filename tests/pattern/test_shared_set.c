// gb-test-labels: concurrency
/* A compiled pattern set is immutable: matchers on several threads may share
 * it and each sees exactly what a matcher alone would.
 * Runs under TSan through tests/support/tsan_harness.h. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpubridge/pattern.h"
#include "support/tsan_harness.h"

#define THREADS 4
#define EVENTS 5000

typedef struct job {
    const gb_pattern_set *set;
    const gb_event *ev;
    char *out;
    size_t len, cap;
    int failed;
} job;

/* Append a compact rendering of each match (pattern, ts, ids). */
static void on_match(void *ctx, const gb_match *mt)
{
    job *j = ctx;
    char line[512];
    int n = snprintf(line, sizeof line, "%s@%lld", mt->pattern, (long long)mt->ts);
    for (uint32_t v = 0; v < mt->nvars && n < 400; v++)
        for (uint32_t i = 0; i < mt->vars[v].count && n < 400; i++)
            n += snprintf(line + n, sizeof line - (size_t)n, " %llu", (unsigned long long)mt->vars[v].ids[i]);
    n += snprintf(line + n, sizeof line - (size_t)n, "\n");
    if (j->len + (size_t)n + 1 > j->cap) {
        size_t cap = (j->len + (size_t)n + 1) * 2;
        char *s = realloc(j->out, cap);
        if (!s) {
            j->failed = 1;
            return;
        }
        j->out = s;
        j->cap = cap;
    }
    memcpy(j->out + j->len, line, (size_t)n + 1);
    j->len += (size_t)n;
}

static void *worker(void *arg)
{
    job *j = arg;
    gb_matcher_opts o = {.on_match = on_match, .ctx = j};
    gb_matcher *m;
    if (gb_matcher_create(&m, j->set, &o) != GB_OK) {
        j->failed = 1;
        return NULL;
    }
    for (int i = 0; i < EVENTS; i++)
        if (gb_matcher_push(m, &j->ev[i]) != GB_OK)
            j->failed = 1;
    if (gb_matcher_flush(m) != GB_OK)
        j->failed = 1;
    gb_matcher_destroy(m);
    return NULL;
}

/* NULL when every thread saw the same non-empty matches, else what went wrong. */
static const char *shared_set_check(void)
{
    static gb_event ev[EVENTS];
    gb_pattern_set *set;
    if (gb_pattern_compile_file(&set, NULL, GB_SOURCE_DIR "/patterns/fraud.gbp") != GB_OK)
        return "compile failed";
    uint32_t transfer;
    if (gb_type_intern(gb_pattern_set_types(set), "transfer", &transfer) != GB_OK)
        return "intern failed";
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
        if (pthread_create(&th[t], NULL, worker, &jobs[t]) != 0)
            return "pthread_create failed";
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    const char *why = NULL;
    if (!jobs[0].out || !jobs[0].len)
        why = "the stream produced no match";
    for (int t = 0; t < THREADS && !why; t++)
        if (jobs[t].failed || !jobs[t].out || strcmp(jobs[t].out, jobs[0].out) != 0)
            why = "threads disagree";
    for (int t = 0; t < THREADS; t++)
        free(jobs[t].out);
    gb_pattern_set_destroy(set);
    return why;
}

GB_TEST(shared_set, matchers_on_threads_share_one_set)
{
    const char *why = shared_set_check();
    GB_CHECK(why == NULL, "%s", why ? why : "");
}
