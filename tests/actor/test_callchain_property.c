// gb-test-labels: concurrency
/* Property: along a random call path, a call fails with GB_EDEADLK exactly
 * when its target is a non-reentrant actor already on the path; every other
 * path completes, and nothing times out. Prints its seed; set
 * GB_TEST_SEED to replay one. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "actor/actor_test.h"

#define ACTORS 8
#define MAX_PATH 8

typedef struct hop {
    gb_reply_token tok;
} hop;

static void hop_done(gb_actor_ctx *ctx, void *arg, gb_status st, const void *p, uint32_t len)
{
    hop *h = arg;
    gb_reply(gb_ctx_silo(ctx), &h->tok, st, NULL, 0);
    free(h);
}

/* Payload: the rest of the path. Call the next actor with the remainder. */
static gb_status hop_h(gb_actor_ctx *ctx, void *state, const gb_msg_header *m, const void *p)
{
    if (m->payload_len < 8)
        return GB_OK;
    gb_actor_id next;
    memcpy(&next, p, 8);
    hop *h = malloc(sizeof *h);
    gb_ctx_defer_reply(ctx, &h->tok);
    gb_status st = gb_ctx_call(ctx, next, 1, (const uint8_t *)p + 8, m->payload_len - 8, 0, hop_done, h);
    if (st != GB_OK) {
        gb_reply(gb_ctx_silo(ctx), &h->tok, st, NULL, 0);
        free(h);
    }
    return GB_OK;
}

static unsigned seed_from_env(void)
{
    const char *e = getenv("GB_TEST_SEED");
    return e ? (unsigned)strtoul(e, NULL, 10) : (unsigned)gb_time_monotonic_ns();
}

static gb_status expected(const int *path, int n, const int *reentrant)
{
    for (int i = 1; i < n; i++)
        for (int j = 0; j < i; j++)
            if (path[j] == path[i] && !reentrant[path[i]])
                return GB_EDEADLK;
    return GB_OK;
}

GB_TEST(callchain, edeadlk_exactly_when_a_path_revisits_a_non_reentrant_actor)
{
    unsigned seed = seed_from_env();
    fprintf(stderr, "callchain property: seed %u\n", seed);
    gb_silo *s = test_silo(NULL);
    gb_actor_type plain = {.name = "plain", .handler = hop_h};
    gb_actor_type re = {.name = "re", .handler = hop_h, .reentrant = 1};
    gb_actor_type_register(s, &plain);
    gb_actor_type_register(s, &re);
    gb_actor_id ids[ACTORS];
    int reentrant[ACTORS];
    for (int i = 0; i < ACTORS; i++) {
        reentrant[i] = i % 3 == 0;
        gb_actor_ref_u64(s, reentrant[i] ? "re" : "plain", (uint64_t)i, &ids[i]);
    }
    for (int round = 0; round < 300; round++) {
        int n = 1 + rand_r(&seed) % MAX_PATH, path[MAX_PATH];
        gb_actor_id rest[MAX_PATH];
        for (int i = 0; i < n; i++) {
            path[i] = rand_r(&seed) % ACTORS;
            rest[i] = ids[path[i]];
        }
        gb_status got = gb_call(s, rest[0], 1, rest + 1, (uint32_t)(n - 1) * 8, 0, NULL, 0, NULL);
        GB_CHECK(got == expected(path, n, reentrant), "seed %u round %d: %s, expected %s", seed, round,
                 gb_status_name(got), gb_status_name(expected(path, n, reentrant)));
    }
    gb_silo_stats st;
    gb_silo_stats_get(s, &st);
    GB_CHECK(st.timeouts == 0 && st.late_responses == 0, "no timeout, no late response");
    gb_silo_destroy(s);
}

typedef struct walker {
    gb_silo *s;
    const gb_actor_id *ids;
    unsigned seed;
    int failures;
} walker;

static void *walk(void *p)
{
    walker *w = p;
    for (int round = 0; round < 200; round++) {
        int n = 1 + rand_r(&w->seed) % MAX_PATH;
        gb_actor_id rest[MAX_PATH];
        for (int i = 0; i < n; i++)
            rest[i] = w->ids[rand_r(&w->seed) % ACTORS];
        if (gb_call(w->s, rest[0], 1, rest + 1, (uint32_t)(n - 1) * 8, 0, NULL, 0, NULL) != GB_OK)
            w->failures++;
    }
    return NULL;
}

GB_TEST(callchain, concurrent_paths_through_reentrant_actors_all_complete)
{
    unsigned seed = seed_from_env();
    fprintf(stderr, "concurrent paths: seed %u\n", seed);
    gb_silo *s = test_silo(NULL);
    gb_actor_type re = {.name = "re", .handler = hop_h, .reentrant = 1};
    gb_actor_type_register(s, &re);
    gb_actor_id ids[ACTORS];
    for (int i = 0; i < ACTORS; i++)
        gb_actor_ref_u64(s, "re", (uint64_t)i, &ids[i]);
    enum { T = 3 };
    pthread_t t[T];
    walker w[T];
    for (int i = 0; i < T; i++) {
        w[i] = (walker){s, ids, seed + (unsigned)i, 0};
        pthread_create(&t[i], NULL, walk, &w[i]);
    }
    for (int i = 0; i < T; i++) {
        pthread_join(t[i], NULL);
        GB_CHECK(w[i].failures == 0, "seed %u walker %d: %d paths failed", seed, i, w[i].failures);
    }
    gb_silo_stats st;
    gb_silo_stats_get(s, &st);
    GB_CHECK(st.deadlocks == 0 && st.timeouts == 0, "no deadlock refused, no timeout");
    gb_silo_destroy(s);
}
