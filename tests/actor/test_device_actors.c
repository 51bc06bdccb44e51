// gb-test-labels: concurrency
/* Device actors: a type whose handler is portable kernel C runs on a ring;
 * CPU actors and device actors message each other both ways; per-actor
 * order; the same type gives identical replies and final states on the cpu
 * ring and on PoCL; the device chain falls back to the cpu ring; destroy
 * with messages in flight loses nothing; device HLC stamps follow the send
 * stamps. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "actor/actor_test.h"
#include "gpubridge/device.h"
#include "gpubridge/kernel_lang.h"
#include "ring/kernels.h" /* the ring API the handler source uses, natively */

#define D_ADD 1u  /* [value, producer, seq]: add; a request gets [count, sum] */
#define D_GET 2u  /* reply [count, sum, violations, hlc] */
#define D_EMIT 3u /* [cpu actor]: emit [self, count] to it (method H_FROMDEV) */
#define D_K2K 4u  /* [device actor, value]: ADD value to it, device to device */
#define D_PRODUCERS 8u

#define H_CALLDEV 1u /* [device actor, value]: gb_ctx_call D_ADD, keep the reply */
#define H_FROMDEV 2u /* from a device actor: count it */
#define H_GET 3u     /* reply the host state */

GB_DUAL_SOURCE(dacc_src, typedef struct dacc {
    gb_u64 count;
    gb_u64 sum;
    gb_u64 violations;
    gb_u64 next_seq[8];
} dacc;

GB_DEVICE_FN gb_i32 dacc_reply(gb_ring_ctx *ctx, GB_GLOBAL const gb_msg_header *msg, gb_u64 a, gb_u64 b,
                               gb_u64 c, gb_u64 d, gb_u32 n) {
    GB_GLOBAL gb_u8 *out = gb_ring_begin_reply(ctx, msg, n * 8);
    if (!out)
        return -4;
    gb_payload_put_u64(out, 0, a);
    gb_payload_put_u64(out, 1, b);
    if (n > 2) {
        gb_payload_put_u64(out, 2, c);
        gb_payload_put_u64(out, 3, d);
    }
    gb_ring_end(ctx);
    return 0;
}

GB_DEVICE_FN gb_i32 dacc_on_message(GB_GLOBAL gb_u8 *state, GB_GLOBAL const gb_msg_header *msg, gb_u64 hlc,
                                    gb_ring_ctx *ctx) {
    GB_GLOBAL dacc *s = (GB_GLOBAL dacc *)state;
    if (msg->method == 1u) {
        gb_u64 p = gb_payload_get_u64(msg, 1) & 7u;
        if (gb_payload_get_u64(msg, 2) != s->next_seq[p])
            s->violations++;
        s->next_seq[p] = gb_payload_get_u64(msg, 2) + 1;
        s->count++;
        s->sum += gb_payload_get_u64(msg, 0);
        return msg->correlation ? dacc_reply(ctx, msg, s->count, s->sum, 0, 0, 2) : 0;
    }
    if (msg->method == 2u)
        return dacc_reply(ctx, msg, s->count, s->sum, s->violations, hlc, 4);
    if (msg->method == 4u) { /* K2K: [target, value]: ADD value to target on this ring */
        GB_GLOBAL gb_u8 *out = gb_ring_begin_send(ctx, 0, gb_payload_get_u64(msg, 0), 1u, 24);
        if (!out)
            return -4;
        gb_payload_put_u64(out, 0, gb_payload_get_u64(msg, 1));
        gb_payload_put_u64(out, 1, 6);
        gb_payload_put_u64(out, 2, 0);
        gb_ring_end(ctx);
        return 0;
    }
    if (msg->method == 3u) {
        GB_GLOBAL gb_u8 *out = gb_ring_begin_emit(ctx, gb_payload_get_u64(msg, 0), 2u, 0, 16);
        if (!out)
            return -4;
        gb_payload_put_u64(out, 0, ctx->self);
        gb_payload_put_u64(out, 1, s->count);
        gb_ring_end(ctx);
        return 0;
    }
    return -1;
})

/* ---- the CPU actor --------------------------------------------------------- */

typedef struct host_state {
    uint64_t replies;     /* D_ADD replies received through gb_ctx_call */
    uint64_t last_reply[2];
    uint64_t from_dev;    /* H_FROMDEV messages */
    uint64_t last_sender; /* their header's sender */
    uint64_t last_payload_sender;
} host_state;

static _Atomic uint64_t g_from_dev; /* H_FROMDEV handled, over all silos */

static void host_reply(gb_actor_ctx *ctx, void *arg, gb_status st, const void *p, uint32_t len)
{
    (void)ctx;
    host_state *h = arg;
    if (st == GB_OK && len == 16) {
        memcpy(h->last_reply, p, 16);
        h->replies++;
    }
}

static gb_status host_handler(gb_actor_ctx *ctx, void *state, const gb_msg_header *m, const void *p)
{
    host_state *h = state;
    if (m->method == H_CALLDEV) {
        uint64_t in[2], add[3];
        memcpy(in, p, 16);
        add[0] = in[1];
        add[1] = 7;
        add[2] = h->replies;
        return gb_ctx_call(ctx, in[0], D_ADD, add, sizeof add, 0, host_reply, h);
    }
    if (m->method == H_FROMDEV) {
        h->from_dev++;
        h->last_sender = m->sender;
        memcpy(&h->last_payload_sender, p, 8);
        atomic_fetch_add_explicit(&g_from_dev, 1, memory_order_relaxed);
        return GB_OK;
    }
    return gb_ctx_reply(ctx, GB_OK, h, sizeof *h);
}

/* ---- helpers -------------------------------------------------------------------- */

static gb_silo *device_silo(const char *devices, gb_ring_mode mode, gb_actor_id *dev, gb_actor_id *host)
{
    gb_silo *s = test_silo(NULL);
    gb_actor_device d = {.source = dacc_src, .fn = "dacc_on_message", .host_fn = dacc_on_message,
                         .state_size = sizeof(dacc), .devices = devices, .mode = mode};
    gb_actor_type dt = {.name = "dacc", .device = &d};
    gb_actor_type ht = {.name = "host", .state_size = sizeof(host_state), .handler = host_handler};
    GB_CHECK(gb_actor_type_register(s, &dt) == GB_OK, "%s", gb_last_error());
    GB_CHECK(gb_actor_type_register(s, &ht) == GB_OK, "%s", gb_last_error());
    GB_CHECK(gb_actor_ref_u64(s, "dacc", 1, dev) == GB_OK, "%s", gb_last_error());
    GB_CHECK(gb_actor_ref_u64(s, "host", 1, host) == GB_OK, "%s", gb_last_error());
    return s;
}

static void dev_get(gb_silo *s, gb_actor_id dev, uint64_t out[4])
{
    uint32_t len = 0;
    GB_CHECK(gb_call(s, dev, D_GET, NULL, 0, 0, out, 32, &len) == GB_OK, "%s", gb_last_error());
    GB_CHECK(len == 32, "GET reply of %u bytes", len);
}

static host_state host_get(gb_silo *s, gb_actor_id host)
{
    host_state h;
    GB_CHECK(gb_call(s, host, H_GET, NULL, 0, 0, &h, sizeof h, NULL) == GB_OK, "%s", gb_last_error());
    return h;
}

/* Wait (bounded) until the host actor saw n device messages. */
static host_state wait_from_dev(gb_silo *s, gb_actor_id host, uint64_t n)
{
    host_state h = host_get(s, host);
    for (int i = 0; i < 20000 && h.from_dev < n; i++) {
        struct timespec p = {0, 500000};
        nanosleep(&p, NULL);
        h = host_get(s, host);
    }
    return h;
}

/* ---- tests ------------------------------------------------------------------------ */

GB_TEST(device_actors, external_call_runs_the_handler_on_the_ring)
{
    gb_actor_id dev, host;
    gb_silo *s = device_silo("cpu", GB_RING_PERSISTENT, &dev, &host);
    uint64_t add[3] = {5, 0, 0}, r[2] = {0};
    uint32_t len = 0;
    GB_CHECK(gb_call(s, dev, D_ADD, add, sizeof add, 0, r, sizeof r, &len) == GB_OK, "%s", gb_last_error());
    GB_CHECK(len == 16 && r[0] == 1 && r[1] == 5, "reply %u bytes [%llu, %llu]", len, (unsigned long long)r[0],
             (unsigned long long)r[1]);
    const char *be = NULL;
    GB_CHECK(gb_actor_type_backend(s, "dacc", &be) == GB_OK && strcmp(be, "cpu") == 0, "backend %s", be);
    GB_CHECK(gb_call(s, dev, 99, NULL, 0, 0, NULL, 0, NULL) == -1, "the handler's error comes back");
    gb_silo_destroy(s);
}

GB_TEST(device_actors, cpu_actor_calls_device_actor)
{
    gb_actor_id dev, host;
    gb_silo *s = device_silo("cpu", GB_RING_PERSISTENT, &dev, &host);
    for (uint64_t i = 1; i <= 10; i++) {
        uint64_t in[2] = {dev, i};
        GB_CHECK(gb_send(s, host, H_CALLDEV, in, sizeof in) == GB_OK, "%s", gb_last_error());
    }
    host_state h = host_get(s, host);
    for (int i = 0; i < 20000 && h.replies < 10; i++) {
        struct timespec p = {0, 500000};
        nanosleep(&p, NULL);
        h = host_get(s, host);
    }
    GB_CHECK(h.replies == 10, "%llu replies", (unsigned long long)h.replies);
    GB_CHECK(h.last_reply[0] == 10 && h.last_reply[1] == 55, "last reply [%llu, %llu]",
             (unsigned long long)h.last_reply[0], (unsigned long long)h.last_reply[1]);
    gb_silo_destroy(s);
}

GB_TEST(device_actors, device_actor_sends_to_cpu_actor)
{
    gb_actor_id dev, host;
    gb_silo *s = device_silo("cpu", GB_RING_PERSISTENT, &dev, &host);
    uint64_t target = host;
    GB_CHECK(gb_send(s, dev, D_EMIT, &target, 8) == GB_OK, "%s", gb_last_error());
    host_state h = wait_from_dev(s, host, 1);
    GB_CHECK(h.from_dev == 1, "%llu messages from the device", (unsigned long long)h.from_dev);
    GB_CHECK(h.last_sender == dev && h.last_payload_sender == dev, "sender %llx", (unsigned long long)h.last_sender);
    gb_silo_destroy(s);
}

#define ORDER_THREADS 4
#define ORDER_PER 3000

typedef struct order_arg {
    gb_silo *s;
    gb_actor_id dev;
    uint64_t producer;
} order_arg;

static void *order_sender(void *p)
{
    order_arg *a = p;
    for (uint64_t i = 0; i < ORDER_PER; i++) {
        uint64_t add[3] = {1, a->producer, i};
        GB_CHECK(gb_send(a->s, a->dev, D_ADD, add, sizeof add) == GB_OK, "%s", gb_last_error());
    }
    return NULL;
}

GB_TEST(device_actors, each_senders_messages_arrive_in_order)
{
    gb_actor_id dev, host;
    gb_silo *s = device_silo("cpu", GB_RING_PERSISTENT, &dev, &host);
    pthread_t th[ORDER_THREADS];
    order_arg args[ORDER_THREADS];
    for (int i = 0; i < ORDER_THREADS; i++) {
        args[i] = (order_arg){s, dev, (uint64_t)i};
        pthread_create(&th[i], NULL, order_sender, &args[i]);
    }
    for (int i = 0; i < ORDER_THREADS; i++)
        pthread_join(th[i], NULL);
    uint64_t g[4];
    dev_get(s, dev, g); /* one-way sends: poll until all were handled */
    for (int i = 0; i < 20000 && g[0] < ORDER_THREADS * ORDER_PER; i++) {
        struct timespec p = {0, 500000};
        nanosleep(&p, NULL);
        dev_get(s, dev, g);
    }
    GB_CHECK(g[0] == ORDER_THREADS * ORDER_PER && g[2] == 0, "count %llu, violations %llu",
             (unsigned long long)g[0], (unsigned long long)g[2]);
    gb_silo_destroy(s);
}

/* The same message sequence on one backend: every reply, then the final state. */
static void run_sequence(const char *devices, gb_ring_mode mode, uint64_t *replies, uint64_t final[3])
{
    gb_actor_id dev, host;
    gb_silo *s = device_silo(devices, mode, &dev, &host);
    for (uint64_t i = 0; i < 64; i++) {
        gb_actor_id a;
        GB_CHECK(gb_actor_ref_u64(s, "dacc", i % 5, &a) == GB_OK, "%s", gb_last_error());
        uint64_t add[3] = {i * i + 3, 1, i / 5};
        GB_CHECK(gb_call(s, a, D_ADD, add, sizeof add, 0, &replies[2 * i], 16, NULL) == GB_OK, "%s",
                 gb_last_error());
    }
    uint64_t in[2] = {dev, 1000}, target = host;
    GB_CHECK(gb_send(s, host, H_CALLDEV, in, sizeof in) == GB_OK, "%s", gb_last_error()); /* CPU -> device */
    GB_CHECK(gb_send(s, dev, D_EMIT, &target, 8) == GB_OK, "%s", gb_last_error());        /* device -> CPU */
    host_state h = wait_from_dev(s, host, 1);
    GB_CHECK(h.from_dev == 1 && h.last_sender == dev, "device message to the CPU actor on %s", devices);
    for (int i = 0; i < 20000 && h.replies < 1; i++) {
        struct timespec p = {0, 500000};
        nanosleep(&p, NULL);
        h = host_get(s, host);
    }
    const char *be = NULL;
    GB_CHECK(gb_actor_type_backend(s, "dacc", &be) == GB_OK && strcmp(be, devices) == 0, "ran on %s", be);
    replies[128] = h.last_reply[0];
    replies[129] = h.last_reply[1];
    uint64_t g[4];
    dev_get(s, dev, g);
    memcpy(final, g, 3 * sizeof *final);
    gb_silo_destroy(s);
}

GB_TEST(device_actors, cpu_ring_and_pocl_give_identical_results)
{
#if defined(__SANITIZE_THREAD__)
    GB_SKIP("PoCL's kernel threads are not instrumented for ThreadSanitizer");
#endif
    if (gb_backend_available("opencl") != GB_OK)
        GB_SKIP("no OpenCL here: %s", gb_last_error());
    uint64_t rc[130], ro[130], fc[3], fo[3];
    run_sequence("cpu", GB_RING_PERSISTENT, rc, fc);
    run_sequence("opencl", GB_RING_EVENT_DRIVEN, ro, fo);
    GB_CHECK(memcmp(rc, ro, sizeof rc) == 0, "replies differ between the cpu ring and PoCL");
    GB_CHECK(memcmp(fc, fo, sizeof fc) == 0, "final states differ: [%llu %llu %llu] vs [%llu %llu %llu]",
             (unsigned long long)fc[0], (unsigned long long)fc[1], (unsigned long long)fc[2],
             (unsigned long long)fo[0], (unsigned long long)fo[1], (unsigned long long)fo[2]);
}

GB_TEST(device_actors, missing_preferred_backend_falls_back_to_the_cpu_ring)
{
    gb_actor_id dev, host;
    gb_silo *s = device_silo("nosuchbackend,cuda,cpu", GB_RING_PERSISTENT, &dev, &host);
    const char *be = NULL;
    GB_CHECK(gb_actor_type_backend(s, "dacc", &be) == GB_OK, "%s", gb_last_error());
    if (gb_backend_available("cuda") != GB_OK)
        GB_CHECK(strcmp(be, "cpu") == 0, "backend %s", be);
    uint64_t add[3] = {2, 0, 0}, r[2];
    GB_CHECK(gb_call(s, dev, D_ADD, add, sizeof add, 0, r, sizeof r, NULL) == GB_OK, "%s", gb_last_error());
    GB_CHECK(r[1] == 2, "sum %llu", (unsigned long long)r[1]);
    gb_silo_destroy(s);
}

GB_TEST(device_actors, no_backend_in_the_chain_is_a_clear_error)
{
    gb_actor_id dev, host;
    gb_silo *s = device_silo("nosuchbackend", GB_RING_PERSISTENT, &dev, &host);
    GB_CHECK(gb_send(s, dev, D_ADD, NULL, 0) == GB_ENOTSUP, "a send without a ring fails");
    gb_silo_destroy(s);
}

static void destroy_in_flight(const char *devices, gb_ring_mode mode)
{
    gb_actor_id dev, host;
    gb_silo *s = device_silo(devices, mode, &dev, &host);
    uint64_t before = atomic_load_explicit(&g_from_dev, memory_order_relaxed);
    uint64_t target = host;
    for (int i = 0; i < 3000; i++)
        GB_CHECK(gb_send(s, dev, D_EMIT, &target, 8) == GB_OK, "%s", gb_last_error());
    gb_silo_destroy(s); /* ring drained, its output delivered and handled */
    uint64_t got = atomic_load_explicit(&g_from_dev, memory_order_relaxed) - before;
    GB_CHECK(got == 3000, "%s: %llu of 3000 device messages reached the CPU actor", devices,
             (unsigned long long)got);
}

GB_TEST(device_actors, destroy_with_messages_in_flight_loses_nothing)
{
    destroy_in_flight("cpu", GB_RING_PERSISTENT);
}

GB_TEST(device_actors, destroy_with_messages_in_flight_on_pocl_loses_nothing)
{
#if defined(__SANITIZE_THREAD__)
    GB_SKIP("PoCL's kernel threads are not instrumented for ThreadSanitizer");
#endif
    if (gb_backend_available("opencl") != GB_OK)
        GB_SKIP("no OpenCL here: %s", gb_last_error());
    destroy_in_flight("opencl", GB_RING_PERSISTENT);
    destroy_in_flight("opencl", GB_RING_EVENT_DRIVEN);
}

GB_TEST(device_actors, device_stamps_follow_send_stamps)
{
    gb_actor_id dev, host;
    gb_silo *s = device_silo("cpu", GB_RING_PERSISTENT, &dev, &host);
    for (int i = 0; i < 20; i++) {
        gb_hlc_t sent = gb_hlc_now(gb_silo_clock(s));
        uint64_t g[4];
        dev_get(s, dev, g);
        GB_CHECK(g[3] > sent, "device stamp %llx not after send stamp %llx", (unsigned long long)g[3],
                 (unsigned long long)sent);
        GB_CHECK(gb_hlc_peek(gb_silo_clock(s)) > g[3], "the silo clock passed the device stamp");
    }
    gb_silo_destroy(s);
}

GB_TEST(device_actors, bad_device_parts_are_refused)
{
    gb_silo *s = test_silo(NULL);
    gb_actor_device none = {.state_size = 16};
    gb_actor_device no_fn = {.source = dacc_src};
    gb_actor_device big = {.host_fn = dacc_on_message, .state_size = 1u << 20};
    gb_actor_type t = {.name = "bad", .device = &none};
    GB_CHECK(gb_actor_type_register(s, &t) == GB_EINVAL, "no handler at all");
    t.device = &no_fn;
    GB_CHECK(gb_actor_type_register(s, &t) == GB_EINVAL, "source without fn");
    t.device = &big;
    GB_CHECK(gb_actor_type_register(s, &t) == GB_EINVAL, "state too big");
    const char *be;
    GB_CHECK(gb_actor_type_backend(s, "bad", &be) == GB_ENOENT, "nothing was registered");
    gb_actor_type ht = {.name = "host", .handler = host_handler};
    GB_CHECK(gb_actor_type_register(s, &ht) == GB_OK, "%s", gb_last_error());
    GB_CHECK(gb_actor_type_backend(s, "host", &be) == GB_ENOTSUP, "a CPU type has no ring");
    gb_silo_destroy(s);
}

GB_TEST(device_actors, ring_clock_calibration_finds_zero_offset_within_its_bound)
{
    gb_actor_id dev, host;
    gb_silo *s = device_silo("cpu", GB_RING_PERSISTENT, &dev, &host);
    uint64_t g[4];
    dev_get(s, dev, g); /* starts the ring; its drain thread calibrates at once */
    gb_clock_fit f;
    gb_status st = gb_actor_type_clock(s, "dacc", &f);
    for (int i = 0; i < 20000 && st == GB_EAGAIN; i++) {
        struct timespec p = {0, 500000};
        nanosleep(&p, NULL);
        st = gb_actor_type_clock(s, "dacc", &f);
    }
    GB_CHECK(st == GB_OK, "%s", gb_last_error());
    /* the cpu ring's device timer is the host's own fast clock: true offset 0 */
    GB_CHECK(f.offset_ns <= f.error_bound_ns && -f.offset_ns <= f.error_bound_ns, "offset %.1f, bound %.1f",
             f.offset_ns, f.error_bound_ns);
    gb_silo_destroy(s);
}

GB_TEST(device_actors, device_actors_of_a_type_message_each_other_on_the_device)
{
    gb_actor_id dev, host, other;
    gb_silo *s = device_silo("cpu", GB_RING_PERSISTENT, &dev, &host);
    GB_CHECK(gb_actor_ref_u64(s, "dacc", 2, &other) == GB_OK, "%s", gb_last_error());
    uint64_t k[2] = {other, 41};
    GB_CHECK(gb_send(s, dev, D_K2K, k, sizeof k) == GB_OK, "%s", gb_last_error());
    uint64_t g[4] = {0};
    dev_get(s, other, g);
    for (int i = 0; i < 20000 && g[0] < 1; i++) {
        struct timespec p = {0, 500000};
        nanosleep(&p, NULL);
        dev_get(s, other, g);
    }
    GB_CHECK(g[0] == 1 && g[1] == 41, "target count %llu sum %llu", (unsigned long long)g[0],
             (unsigned long long)g[1]);
    gb_silo_destroy(s);
}
