// gb-test-labels: concurrency
/*
 * One catalog and one broker used from many threads at once, while another
 * thread keeps arming injected launch faults and reading the broker's
 * entries: every call either returns the right output or GB_EDEVICE (then
 * the caller retries the same input), the broker's load returns to zero and
 * its success count equals the calls that succeeded. Native kernels only
 * (chain "cpu"), so the test also runs under TSan
 * (tests/support/tsan_harness.h).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "kernel/kernels.h"
#include "support/tsan_harness.h"

#define THREADS 4
#define CALLS 300
#define ITEMS 64

typedef struct shared {
    gb_broker *b;
    gb_kernel_catalog *c;
    atomic_int failures, done;
    atomic_ullong ok_calls, edevice;
} shared;

static void *worker(void *p)
{
    shared *s = p;
    uint32_t in[ITEMS], out[ITEMS], want[ITEMS];
    for (uint32_t call = 0; call < CALLS; call++) {
        for (uint32_t i = 0; i < ITEMS; i++)
            in[i] = call * 7919u + i;
        k_poly((const uint8_t *)in, (uint8_t *)want, ITEMS);
        gb_status st;
        while ((st = gb_kernel_run(s->c, "poly", in, sizeof in, out, sizeof out, NULL)) == GB_EDEVICE)
            atomic_fetch_add(&s->edevice, 1);
        if (st != GB_OK || memcmp(out, want, sizeof out) != 0)
            atomic_fetch_add(&s->failures, 1);
        else
            atomic_fetch_add(&s->ok_calls, 1);
    }
    return NULL;
}

static void *injector(void *p)
{
    shared *s = p;
    while (!atomic_load(&s->done)) {
        gb_broker_inject_fault(s->b, "cpu", GB_OP_LAUNCH, 1);
        gb_broker_device d;
        if (gb_broker_get(s->b, 0, &d) != GB_OK)
            atomic_fetch_add(&s->failures, 1);
        sched_yield();
    }
    return NULL;
}

GB_TEST(offload_concurrency, parallel_runs_with_injected_faults_lose_nothing)
{
    shared s;
    memset(&s, 0, sizeof s);
    gb_broker_opts o = {.chain = "cpu", .breaker_failures = 1u << 30};
    GB_CHECK(gb_broker_create(&s.b, &o) == GB_OK, "%s", gb_last_error());
    GB_CHECK(gb_kernel_catalog_create(&s.c, s.b) == GB_OK, "catalog");
    gb_kernel_desc d = k_poly_desc();
    GB_CHECK(gb_kernel_register(s.c, &d) == GB_OK, "register");
    pthread_t w[THREADS], inj;
    GB_CHECK(pthread_create(&inj, NULL, injector, &s) == 0, "injector");
    for (int i = 0; i < THREADS; i++)
        GB_CHECK(pthread_create(&w[i], NULL, worker, &s) == 0, "worker");
    for (int i = 0; i < THREADS; i++)
        pthread_join(w[i], NULL);
    atomic_store(&s.done, 1);
    pthread_join(inj, NULL);
    GB_CHECK(atomic_load(&s.failures) == 0, "%d wrong outputs or errors", atomic_load(&s.failures));
    GB_CHECK(atomic_load(&s.ok_calls) == THREADS * CALLS, "every call got its output");
    gb_broker_device dev;
    gb_broker_get(s.b, 0, &dev);
    GB_CHECK(dev.load == 0, "load back to 0, is %u", dev.load);
    GB_CHECK(dev.successes == THREADS * CALLS, "successes %llu", (unsigned long long)dev.successes);
    GB_CHECK(dev.failures == atomic_load(&s.edevice), "one failure per GB_EDEVICE");
    gb_kernel_catalog_destroy(s.c);
    gb_broker_destroy(s.b);
}
