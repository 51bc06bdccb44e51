/* Property: whatever the mode, lanes, threads, capacities and full-queue
 * policies, concurrent producers' accepted messages are all handled, each
 * actor sees each producer's messages in order, and the actors' states
 * equal a sequential model of what was accepted. Random configurations from
 * a printed seed (set GB_TEST_SEED to replay one). */
// gb-test-labels: concurrency
#include "support/tsan_harness.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpubridge/ring.h"
#include "ring/kernels.h"

#include "test_actors.gbk"
#include "test_actors_types.h"

#define PRODUCERS 3
#define ACTORS 32
#define ROUNDS 6
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define PER_PRODUCER 600
#else
#define PER_PRODUCER 3000
#endif

static uint64_t next(uint64_t *s) /* splitmix64 */
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

typedef struct producer {
    gb_ring *ring;
    uint64_t rng;
    uint32_t id;
    uint64_t count[ACTORS]; /* the model: accepted messages per actor */
    uint64_t sum[ACTORS];
    uint64_t seq[ACTORS];
    uint64_t refused;
} producer;

static void *produce(void *arg)
{
    producer *p = arg;
    for (int i = 0; i < PER_PRODUCER; i++) {
        uint32_t a = (uint32_t)(next(&p->rng) % ACTORS);
        gb_send_policy pol = (gb_send_policy)(next(&p->rng) % 3);
        uint64_t v = next(&p->rng) % 1000;
        uint64_t pl[3] = {v, p->id, p->seq[a] + 1};
        gb_msg_header h = {.target = 1 + a, .method = TA_ADD, .flags = GB_MSG_ONEWAY, .payload_len = sizeof pl};
        gb_status st = gb_ring_send(p->ring, 0, &h, pl, pol);
        if (st == GB_EAGAIN && pol == GB_SEND_FAIL) {
            p->refused++;
            continue;
        }
        GB_CHECK(st == GB_OK, "send: %d %s", st, gb_last_error());
        p->seq[a]++;
        p->count[a]++;
        p->sum[a] += v;
    }
    return NULL;
}

static void one_round(uint64_t seed)
{
    uint64_t rng = seed;
    gb_ring_opts o = {.types = k_types, .ntypes = 2};
    o.mode = (gb_ring_mode)(next(&rng) % 2);
    o.lanes = 1 + (uint32_t)(next(&rng) % 8);
    o.threads = 1 + (uint32_t)(next(&rng) % (o.lanes < 3 ? o.lanes : 3));
    o.lane_capacity = 2u << (next(&rng) % 6); /* 2..64: full lanes happen */
    o.batch = 1 + (uint32_t)(next(&rng) % 64);
    gb_ring *r = NULL;
    GB_CHECK(gb_ring_create(&r, &o) == GB_OK, "create: %s", gb_last_error());
    int start_late = (int)(next(&rng) % 2);
    if (!start_late)
        GB_CHECK(gb_ring_start(r) == GB_OK, "start");
    static producer p[PRODUCERS];
    pthread_t t[PRODUCERS];
    memset(p, 0, sizeof p);
    for (uint32_t i = 0; i < PRODUCERS; i++) {
        p[i] = (producer){.ring = r, .rng = next(&rng), .id = i};
        GB_CHECK(pthread_create(&t[i], NULL, produce, &p[i]) == 0, "thread");
    }
    if (start_late)
        GB_CHECK(gb_ring_start(r) == GB_OK, "start while producers run");
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(t[i], NULL);
    GB_CHECK(gb_ring_stop(r, GB_RING_DRAIN) == GB_OK, "stop: %s", gb_last_error());
    uint64_t total = 0;
    for (uint32_t a = 0; a < ACTORS; a++) {
        uint64_t count = 0, sum = 0;
        for (int i = 0; i < PRODUCERS; i++)
            count += p[i].count[a], sum += p[i].sum[a];
        total += count;
        ta_counter s = {0};
        gb_status st = gb_ring_read_state(r, 1 + a, &s, sizeof s);
        GB_CHECK(count == 0 || st == GB_OK, "actor %u missing", a);
        GB_CHECK(s.count == count && s.sum == sum, "seed %#" PRIx64 " actor %u: %" PRIu64 "/%" PRIu64
                 " handled, model %" PRIu64 "/%" PRIu64, seed, a, s.count, s.sum, count, sum);
        GB_CHECK(s.violations == 0, "seed %#" PRIx64 " actor %u: out of order", seed, a);
    }
    gb_ring_counters c;
    gb_ring_get_counters(r, &c);
    GB_CHECK(c.handled == total && c.inflight == 0 && c.discarded == 0, "seed %#" PRIx64 ": counters", seed);
    gb_ring_destroy(r);
}

GB_TEST(ring_property, accepted_messages_match_a_sequential_model)
{
    const char *env = getenv("GB_TEST_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) * 2654435761u;
    fprintf(stderr, "ring_property: seed %#" PRIx64 " (GB_TEST_SEED=%#" PRIx64 " replays it)\n", seed, seed);
    for (int i = 0; i < ROUNDS; i++)
        one_round(seed + (uint64_t)i);
}
