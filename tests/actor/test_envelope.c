// gb-test-labels: concurrency
/* Envelopes of every size class (64, 128, 256 bytes) and beyond (malloc):
 * payloads at and around each class boundary arrive intact, including when
 * blocks of different classes are recycled between threads. */
#include <pthread.h>

#include "actor/actor_test.h"

#define M_ECHO 1u
#define M_CHECK 2u
#define M_GET 3u

#define THREADS 2
#define PER_THREAD 20000

/* Payload sizes at the class edges: gbi_msg is 64 bytes, so 0 fills the
 * 64-byte class, 1..64 the 128-byte class, 65..192 the 256-byte class. */
static const uint32_t sizes[] = {0, 1, 8, 56, 63, 64, 65, 120, 184, 191, 192, 193, 200, 1000, 4048};
#define NSIZES (sizeof sizes / sizeof sizes[0])

typedef struct checker {
    uint64_t seen, corrupt;
} checker;

static void fill(uint8_t *p, uint32_t len, uint32_t seed)
{
    for (uint32_t i = 0; i < len; i++)
        p[i] = (uint8_t)(seed * 31u + i);
}

static gb_status env_handler(gb_actor_ctx *ctx, void *state, const gb_msg_header *m, const void *p)
{
    checker *c = state;
    if (m->method == M_ECHO)
        return gb_ctx_reply(ctx, GB_OK, p, m->payload_len);
    if (m->method == M_GET)
        return gb_ctx_reply(ctx, GB_OK, c, sizeof *c);
    /* M_CHECK: the first byte is the seed (the payload is never empty) */
    uint8_t want[4048];
    const uint8_t *b = p;
    fill(want, m->payload_len, b[0]);
    want[0] = b[0];
    c->seen++;
    if (memcmp(want, p, m->payload_len) != 0)
        c->corrupt++;
    return GB_OK;
}

static gb_silo *env_silo(gb_actor_id *id)
{
    gb_silo *s = test_silo(NULL);
    gb_actor_type t = {.name = "env", .state_size = sizeof(checker), .handler = env_handler};
    GB_CHECK((gb_actor_type_register(s, &t)) == (GB_OK), "%s", gb_last_error());
    GB_CHECK((gb_actor_ref_u64(s, "env", 1, id)) == (GB_OK), "%s", gb_last_error());
    return s;
}

GB_TEST(envelope, payloads_at_every_class_boundary_come_back_intact)
{
    gb_actor_id id;
    gb_silo *s = env_silo(&id);
    static uint8_t in[4048], out[4048];
    for (size_t k = 0; k < NSIZES; k++) {
        uint32_t len = sizes[k], got = 0;
        fill(in, len, (uint32_t)k + 7);
        memset(out, 0, sizeof out);
        GB_CHECK((gb_call(s, id, M_ECHO, len ? in : NULL, len, 0, out, sizeof out, &got)) == (GB_OK), "%s",
                 gb_last_error());
        GB_CHECK((got) == (len), "size %u came back as %u", len, got);
        GB_CHECK((memcmp(in, out, len)) == (0), "size %u came back changed", len);
    }
    gb_silo_destroy(s);
}

typedef struct sender_arg {
    gb_silo *s;
    gb_actor_id id;
    uint32_t index;
} sender_arg;

static void *send_mixed(void *p)
{
    sender_arg *a = p;
    uint8_t buf[4048];
    for (uint32_t i = 0; i < PER_THREAD; i++) {
        uint32_t len = sizes[(i + a->index) % NSIZES];
        len = len ? len : 1;
        uint32_t seed = (i * THREADS + a->index) & 0xffu;
        fill(buf, len, seed);
        buf[0] = (uint8_t)seed; /* fill() puts seed*31 there: make it the seed */
        gb_status st;
        while ((st = gb_send(a->s, a->id, M_CHECK, buf, len)) == GB_EAGAIN)
            ;
        GB_CHECK((st) == (GB_OK), "%s", gb_last_error());
    }
    return NULL;
}

GB_TEST(envelope, mixed_sizes_recycled_across_threads_stay_intact)
{
    gb_actor_id id;
    gb_silo *s = env_silo(&id);
    pthread_t t[THREADS];
    sender_arg a[THREADS];
    for (uint32_t i = 0; i < THREADS; i++) {
        a[i] = (sender_arg){s, id, i};
        pthread_create(&t[i], NULL, send_mixed, &a[i]);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    checker c;
    GB_CHECK((gb_call(s, id, M_GET, NULL, 0, 0, &c, sizeof c, NULL)) == (GB_OK), "%s", gb_last_error());
    GB_CHECK((c.seen) == (THREADS * PER_THREAD), "saw %llu", (unsigned long long)c.seen);
    GB_CHECK((c.corrupt) == (0), "%llu payloads corrupted", (unsigned long long)c.corrupt);
    gb_silo_destroy(s);
}
