// gb-test-labels: concurrency
/* Sends, calls (blocking, future, callback), per-sender order, handlers that
 * call other actors and answer later, HLC stamping. */
#include <pthread.h>

#include "actor/actor_test.h"

#define M_ADD 1u
#define M_GET 2u
#define M_SEQ 3u
#define M_FAIL 4u
#define M_NESTED 5u

#define SENDERS 4
#define PER_SENDER 20000

typedef struct counter {
    uint64_t sum;
    uint64_t next[SENDERS];
    uint64_t out_of_order;
    uint64_t max_hlc;
} counter;

static gb_status counter_handler(gb_actor_ctx *ctx, void *state, const gb_msg_header *m, const void *p)
{
    counter *c = state;
    if (m->hlc > c->max_hlc)
        c->max_hlc = m->hlc;
    switch (m->method) {
    case M_ADD: {
        uint64_t v;
        memcpy(&v, p, 8);
        c->sum += v;
        return GB_OK;
    }
    case M_SEQ: {
        uint64_t v[2];
        memcpy(v, p, 16);
        if (v[1] != c->next[v[0]])
            c->out_of_order++;
        c->next[v[0]] = v[1] + 1;
        return GB_OK;
    }
    case M_GET: {
        uint64_t out[2] = {c->sum, c->out_of_order};
        return gb_ctx_reply(ctx, GB_OK, out, sizeof out);
    }
    case M_FAIL:
        return GB_EBUSY;
    case M_NESTED:
        return gb_call(gb_ctx_silo(ctx), gb_ctx_self(ctx), M_GET, NULL, 0, 0, NULL, 0, NULL);
    default:
        return GB_EINVAL;
    }
}

static const gb_actor_type counter_type = {
    .name = "counter", .state_size = sizeof(counter), .handler = counter_handler};

static gb_silo *silo_with_counter(gb_actor_id *id)
{
    gb_silo *s = test_silo(NULL);
    GB_CHECK((gb_actor_type_register(s, &counter_type)) == (GB_OK), "check_eq");
    GB_CHECK((gb_actor_ref_str(s, "counter", "c", id)) == (GB_OK), "check_eq");
    return s;
}

static void get(gb_silo *s, gb_actor_id id, uint64_t out[2])
{
    uint32_t n;
    GB_CHECK((gb_call(s, id, M_GET, NULL, 0, 0, out, 16, &n)) == (GB_OK), "%s", gb_last_error());
    GB_CHECK((n) == (16), "check_eq");
}

GB_TEST(messaging, one_way_sends_are_all_handled_before_a_later_call)
{
    gb_actor_id id;
    gb_silo *s = silo_with_counter(&id);
    for (uint64_t i = 1; i <= 1000; i++)
        GB_CHECK((gb_send(s, id, M_ADD, &i, 8)) == (GB_OK), "check_eq");
    uint64_t out[2];
    get(s, id, out);
    GB_CHECK((out[0]) == (1000 * 1001 / 2), "check_eq");
    gb_silo_destroy(s);
}

typedef struct seq_arg {
    gb_silo *s;
    gb_actor_id id;
    uint64_t sender;
} seq_arg;

static void *send_seq(void *p)
{
    seq_arg *a = p;
    for (uint64_t i = 0; i < PER_SENDER; i++) {
        uint64_t v[2] = {a->sender, i};
        gb_status st;
        while ((st = gb_send(a->s, a->id, M_SEQ, v, sizeof v)) == GB_EAGAIN)
            ;
        GB_CHECK((st) == (GB_OK), "check_eq");
    }
    return NULL;
}

GB_TEST(messaging, order_is_fifo_per_sender_under_concurrent_senders)
{
    gb_actor_id id;
    gb_silo *s = silo_with_counter(&id);
    pthread_t t[SENDERS];
    seq_arg a[SENDERS];
    for (int i = 0; i < SENDERS; i++) {
        a[i] = (seq_arg){s, id, (uint64_t)i};
        pthread_create(&t[i], NULL, send_seq, &a[i]);
    }
    for (int i = 0; i < SENDERS; i++)
        pthread_join(t[i], NULL);
    uint64_t out[2];
    get(s, id, out);
    GB_CHECK((out[1]) == (0), "%llu messages out of order", (unsigned long long)out[1]);
    gb_silo_stats st;
    gb_silo_stats_get(s, &st);
    GB_CHECK((st.delivered) == (SENDERS * PER_SENDER + 1), "check_eq");
    gb_silo_destroy(s);
}

GB_TEST(messaging, handler_error_status_is_the_call_result)
{
    gb_actor_id id;
    gb_silo *s = silo_with_counter(&id);
    GB_CHECK((gb_call(s, id, M_FAIL, NULL, 0, 0, NULL, 0, NULL)) == (GB_EBUSY), "check_eq");
    gb_silo_destroy(s);
}

GB_TEST(messaging, future_can_be_polled_then_waited)
{
    gb_actor_id id;
    gb_silo *s = silo_with_counter(&id);
    uint64_t v = 5;
    gb_send(s, id, M_ADD, &v, 8);
    gb_future *f = NULL;
    GB_CHECK((gb_call_async(s, id, M_GET, NULL, 0, 0, &f)) == (GB_OK), "check_eq");
    gb_status p = gb_future_poll(f);
    GB_CHECK(p == GB_EAGAIN || p == GB_OK, "check");
    GB_CHECK((gb_future_wait(f)) == (GB_OK), "check_eq");
    GB_CHECK((gb_future_poll(f)) == (GB_OK), "check_eq");
    uint32_t n;
    const uint64_t *out = gb_future_payload(f, &n);
    GB_CHECK((n) == (16), "check_eq");
    GB_CHECK((out[0]) == (5), "check_eq");
    gb_future_release(f);
    gb_silo_destroy(s);
}

typedef struct cb_box {
    _Atomic int done;
    gb_status st;
    uint64_t sum;
} cb_box;

static void on_reply(gb_actor_ctx *ctx, void *arg, gb_status st, const void *p, uint32_t len)
{
    cb_box *b = arg;
    GB_CHECK((ctx) == NULL, "check_null");
    b->st = st;
    if (len == 16)
        memcpy(&b->sum, p, 8);
    atomic_store(&b->done, 1);
}

GB_TEST(messaging, callback_completion_runs_once_with_the_response)
{
    gb_actor_id id;
    gb_silo *s = silo_with_counter(&id);
    uint64_t v = 9;
    gb_send(s, id, M_ADD, &v, 8);
    cb_box b = {0};
    GB_CHECK((gb_call_cb(s, id, M_GET, NULL, 0, 0, on_reply, &b)) == (GB_OK), "check_eq");
    gb_silo_stats st;
    GB_CHECK(WAIT_FOR(s, st, atomic_load(&b.done)), "check");
    GB_CHECK((b.st) == (GB_OK), "check_eq");
    GB_CHECK((b.sum) == (9), "check_eq");
    gb_silo_destroy(s);
}

/* A front actor that forwards each request to the counter with gb_ctx_call
 * and answers its own caller from the callback, in a later turn. */
typedef struct front {
    gb_actor_id backend;
} front;

typedef struct pending {
    gb_reply_token tok;
} pending;

static void front_done(gb_actor_ctx *ctx, void *arg, gb_status st, const void *p, uint32_t len)
{
    pending *pd = arg;
    GB_CHECK((ctx) != NULL, "check_not_null");
    gb_reply(gb_ctx_silo(ctx), &pd->tok, st, p, len);
    free(pd);
}

static gb_status front_handler(gb_actor_ctx *ctx, void *state, const gb_msg_header *m, const void *p)
{
    front *f = state;
    if (m->method == 100) { /* configure */
        memcpy(&f->backend, p, 8);
        return GB_OK;
    }
    pending *pd = malloc(sizeof *pd);
    gb_status st = gb_ctx_defer_reply(ctx, &pd->tok);
    GB_CHECK((st) == (GB_OK), "check_eq");
    st = gb_ctx_call(ctx, f->backend, m->method, p, m->payload_len, 0, front_done, pd);
    if (st != GB_OK) {
        gb_reply(gb_ctx_silo(ctx), &pd->tok, st, NULL, 0);
        free(pd);
    }
    return GB_OK;
}

GB_TEST(messaging, handler_calls_another_actor_and_replies_from_a_later_turn)
{
    gb_actor_id backend, fr;
    gb_silo *s = silo_with_counter(&backend);
    gb_actor_type ft = {.name = "front", .state_size = sizeof(front), .handler = front_handler};
    GB_CHECK((gb_actor_type_register(s, &ft)) == (GB_OK), "check_eq");
    gb_actor_ref_str(s, "front", "f", &fr);
    gb_send(s, fr, 100, &backend, 8);
    uint64_t v = 11;
    gb_send(s, backend, M_ADD, &v, 8);
    uint64_t out[2] = {0};
    uint32_t n = 0;
    GB_CHECK((gb_call(s, fr, M_GET, NULL, 0, 0, out, 16, &n)) == (GB_OK), "%s", gb_last_error());
    GB_CHECK((n) == (16), "check_eq");
    GB_CHECK((out[0]) == (11), "check_eq");
    GB_CHECK((gb_call(s, fr, M_FAIL, NULL, 0, 0, NULL, 0, NULL)) == (GB_EBUSY), "check_eq");
    gb_silo_destroy(s);
}

GB_TEST(messaging, messages_are_stamped_with_the_silo_hlc)
{
    gb_actor_id id;
    gb_silo *s = silo_with_counter(&id);
    gb_hlc_t before = gb_hlc_now(gb_silo_clock(s));
    uint64_t v = 1;
    gb_send(s, id, M_ADD, &v, 8);
    uint64_t out[2];
    get(s, id, out);
    GB_CHECK((gb_hlc_peek(gb_silo_clock(s))) > (before), "check_gt");
    gb_silo_destroy(s);
}

GB_TEST(messaging, blocking_call_inside_a_handler_is_refused)
{
    gb_actor_id id;
    gb_silo *s = silo_with_counter(&id);
    GB_CHECK((gb_call(s, id, M_NESTED, NULL, 0, 0, NULL, 0, NULL)) == (GB_EINVAL), "check_eq");
    gb_silo_destroy(s);
}

/* Many actors each sending windows of one-way messages and a call to one
 * sink, continuing from the call's callback (the fan-in pattern). */
#define SOURCES 50
#define PER_SOURCE 2000

static gb_actor_id g_sink;
static _Atomic uint64_t g_sink_count;
static _Atomic int g_sources_done;

static gb_status sink_h(gb_actor_ctx *ctx, void *state, const gb_msg_header *m, const void *p)
{
    atomic_fetch_add(&g_sink_count, 1);
    return GB_OK;
}

static gb_status source_h(gb_actor_ctx *ctx, void *state, const gb_msg_header *m, const void *p);

static void source_cb(gb_actor_ctx *ctx, void *arg, gb_status st, const void *p, uint32_t len)
{
    GB_CHECK(st == GB_OK, "window call failed: %s", gb_status_name(st));
    gb_msg_header h = {.method = 2};
    source_h(ctx, arg, &h, NULL);
}

static gb_status source_h(gb_actor_ctx *ctx, void *state, const gb_msg_header *m, const void *p)
{
    uint64_t *sent = state;
    for (int k = 0; k < 16 && *sent < PER_SOURCE; k++, ++*sent)
        GB_CHECK(gb_ctx_send(ctx, g_sink, 1, NULL, 0) == GB_OK, "%s", gb_last_error());
    if (*sent < PER_SOURCE) {
        ++*sent;
        return gb_ctx_call(ctx, g_sink, 1, NULL, 0, 0, source_cb, state);
    }
    atomic_fetch_add(&g_sources_done, 1);
    return GB_OK;
}

GB_TEST(messaging, many_actors_fan_in_to_one_with_calls)
{
    gb_silo *s = test_silo(NULL);
    gb_actor_type sink = {.name = "sink", .handler = sink_h};
    gb_actor_type src = {.name = "src", .handler = source_h, .state_size = sizeof(uint64_t)};
    GB_CHECK(gb_actor_type_register(s, &sink) == GB_OK, "sink");
    GB_CHECK(gb_actor_type_register(s, &src) == GB_OK, "src");
    gb_actor_ref_str(s, "sink", "s", &g_sink);
    atomic_store(&g_sink_count, 0);
    atomic_store(&g_sources_done, 0);
    for (uint64_t i = 0; i < SOURCES; i++) {
        gb_actor_id id;
        gb_actor_ref_u64(s, "src", i, &id);
        GB_CHECK(gb_send(s, id, 2, NULL, 0) == GB_OK, "start");
    }
    gb_silo_stats st;
    GB_CHECK(WAIT_FOR(s, st,
                      atomic_load(&g_sources_done) == SOURCES &&
                          atomic_load(&g_sink_count) == (uint64_t)SOURCES * PER_SOURCE),
             "all messages arrive: %llu of %llu", (unsigned long long)atomic_load(&g_sink_count),
             (unsigned long long)SOURCES * PER_SOURCE);
    GB_CHECK(st.timeouts == 0, "no call timed out");
    gb_silo_destroy(s);
}
