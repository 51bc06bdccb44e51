/* Kernel catalog and offload: identical results natively and on PoCL for
 * a few kernels, fallback when OpenCL launches fail (injected), the circuit
 * breaker with an injected clock, bad sources and bad inputs. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/kernels.h"
#include "gpubridge/broker.h"

#define N 1000

typedef struct fake_clock {
    int64_t now;
} fake_clock;

static int64_t fake_now(void *arg)
{
    return ((fake_clock *)arg)->now;
}

static fake_clock g_clock;

static gb_broker *broker_for(const char *chain)
{
    gb_broker_opts o = {.chain = chain, .breaker_failures = 2, .breaker_window_ns = 1000,
                        .breaker_cooldown_ns = 5000, .now_ns = fake_now, .now_arg = &g_clock};
    gb_broker *b = NULL;
    cr_assert_eq(gb_broker_create(&b, &o), GB_OK, "%s", gb_last_error());
    return b;
}

static int opencl_here(gb_broker *b)
{
    uint32_t i;
    gb_broker_device d;
    return gb_broker_find(b, "opencl", &i) == GB_OK && gb_broker_get(b, i, &d) == GB_OK && d.available;
}

static gb_kernel_catalog *catalog_with_kernels(gb_broker *b)
{
    gb_kernel_catalog *c = NULL;
    cr_assert_eq(gb_kernel_catalog_create(&c, b), GB_OK);
    gb_kernel_desc d[] = {k_vec_add_desc(), k_poly_desc(), k_sumsq_desc()};
    for (size_t i = 0; i < 3; i++)
        cr_assert_eq(gb_kernel_register(c, &d[i]), GB_OK, "%s", gb_last_error());
    return c;
}

static uint32_t *random_words(size_t n, unsigned seed)
{
    uint32_t *w = malloc(n * 4);
    cr_assert_not_null(w);
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        w[i] = (uint32_t)x;
    }
    return w;
}

/* Run id on chain "opencl" and on chain "cpu"; compare the outputs. */
static void same_on_both(const char *id, size_t in_words, size_t out_bytes)
{
    gb_broker *ocl = broker_for("opencl"), *cpu = broker_for("cpu");
    if (!opencl_here(ocl))
        cr_skip_test("no OpenCL device here (install pocl-opencl-icd)");
    gb_kernel_catalog *co = catalog_with_kernels(ocl), *cc = catalog_with_kernels(cpu);
    unsigned seed = 12345;
    printf("seed %u\n", seed);
    uint32_t *in = random_words(in_words, seed);
    uint8_t *a = calloc(1, out_bytes), *b = calloc(1, out_bytes);
    gb_kernel_result ra, rb;
    cr_assert_eq(gb_kernel_run(co, id, in, in_words * 4, a, out_bytes, &ra), GB_OK, "%s", gb_last_error());
    cr_assert_eq(gb_kernel_run(cc, id, in, in_words * 4, b, out_bytes, &rb), GB_OK, "%s", gb_last_error());
    cr_assert_str_eq(ra.backend, "opencl");
    cr_assert_str_eq(rb.backend, "cpu");
    cr_assert_eq(memcmp(a, b, out_bytes), 0, "%s differs between PoCL and the native build", id);
    free(a), free(b), free(in);
    gb_kernel_catalog_destroy(co), gb_kernel_catalog_destroy(cc);
    gb_broker_destroy(ocl), gb_broker_destroy(cpu);
}

Test(offload, vector_add_is_identical_on_cpu_and_pocl)
{
    same_on_both("vec_add", 2 * N, 4 * N);
}

Test(offload, polynomial_is_identical_on_cpu_and_pocl)
{
    same_on_both("poly", N, 4 * N);
}

Test(offload, per_item_reduction_is_identical_on_cpu_and_pocl)
{
    same_on_both("sumsq", 16 * N, 8 * N);
}

Test(offload, one_input_gives_its_output)
{
    gb_broker *b = broker_for("cpu");
    gb_kernel_catalog *c = catalog_with_kernels(b);
    uint32_t in[2] = {40, 2}, out = 0;
    cr_assert_eq(gb_kernel_run(c, "vec_add", in, sizeof in, &out, sizeof out, NULL), GB_OK);
    cr_assert_eq(out, 42);
    gb_kernel_catalog_destroy(c);
    gb_broker_destroy(b);
}

Test(offload, failed_opencl_launch_falls_back_to_cpu_without_losing_work)
{
    gb_broker *b = broker_for("opencl,cpu");
    if (!opencl_here(b))
        cr_skip_test("no OpenCL device here (install pocl-opencl-icd)");
    gb_kernel_catalog *c = catalog_with_kernels(b);
    cr_assert_eq(gb_broker_inject_fault(b, "opencl", GB_OP_LAUNCH, 1), GB_OK);
    uint32_t *in = random_words(N, 7), out[N], want[N];
    k_poly((const uint8_t *)in, (uint8_t *)want, N);
    gb_kernel_result r;
    cr_assert_eq(gb_kernel_run(c, "poly", in, N * 4, out, sizeof out, &r), GB_OK, "%s", gb_last_error());
    cr_assert_str_eq(r.backend, "cpu");
    cr_assert_eq(r.fallbacks, 1);
    cr_assert_eq(memcmp(out, want, sizeof out), 0);
    gb_broker_device d;
    gb_broker_get(b, 0, &d);
    cr_assert_eq(d.healthy, 0, "a failed device is marked unhealthy");
    cr_assert_not_null(strstr(d.unhealthy_reason, "injected"), "%s", d.unhealthy_reason);
    cr_assert_eq(gb_kernel_run(c, "poly", in, N * 4, out, sizeof out, &r), GB_OK);
    cr_assert_str_eq(r.backend, "opencl", "the fault was armed once: opencl serves again");
    gb_broker_get(b, 0, &d);
    cr_assert_eq(d.healthy, 1);
    free(in);
    gb_kernel_catalog_destroy(c);
    gb_broker_destroy(b);
}

Test(offload, breaker_opens_after_k_failures_then_half_opens_and_closes)
{
    gb_broker *b = broker_for("opencl,cpu");
    if (!opencl_here(b))
        cr_skip_test("no OpenCL device here (install pocl-opencl-icd)");
    gb_kernel_catalog *c = catalog_with_kernels(b);
    g_clock.now = 0;
    gb_broker_inject_fault(b, "opencl", GB_OP_LAUNCH, 2);
    uint32_t in = 3, out = 0;
    gb_kernel_result r;
    gb_broker_device d;
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(gb_kernel_run(c, "poly", &in, 4, &out, 4, &r), GB_OK);
        cr_assert_eq(r.fallbacks, 1);
    }
    gb_broker_get(b, 0, &d);
    cr_assert_eq(d.breaker, GB_BREAKER_OPEN, "2 failures within the window open it");
    cr_assert_eq(gb_kernel_run(c, "poly", &in, 4, &out, 4, &r), GB_OK);
    cr_assert_str_eq(r.backend, "cpu", "an open breaker skips opencl");
    g_clock.now = 5000;
    gb_broker_get(b, 0, &d);
    cr_assert_eq(d.breaker, GB_BREAKER_HALF_OPEN, "the cool-down ended");
    cr_assert_eq(gb_kernel_run(c, "poly", &in, 4, &out, 4, &r), GB_OK);
    cr_assert_str_eq(r.backend, "opencl", "the half-open trial goes to opencl");
    gb_broker_get(b, 0, &d);
    cr_assert_eq(d.breaker, GB_BREAKER_CLOSED, "a successful trial closes it");
    cr_assert_eq(out, 3u * 27 + 2 * 3 + 7);
    gb_kernel_catalog_destroy(c);
    gb_broker_destroy(b);
}

Test(offload, failed_half_open_trial_opens_the_breaker_again)
{
    gb_broker *b = broker_for("cpu");
    uint32_t i = 0;
    g_clock.now = 100;
    for (int k = 0; k < 2; k++) {
        cr_assert_eq(gb_broker_acquire(b, 0, &i), GB_OK);
        gb_broker_report(b, i, GB_EDEVICE, "boom");
    }
    cr_assert_eq(gb_broker_acquire(b, 0, &i), GB_ENOENT, "open: nothing left");
    cr_assert_not_null(strstr(gb_last_error(), "breaker open"), "%s", gb_last_error());
    g_clock.now = 5100;
    cr_assert_eq(gb_broker_acquire(b, 0, &i), GB_OK, "half-open: one trial");
    cr_assert_eq(gb_broker_acquire(b, 0, &i), GB_ENOENT, "only one trial at a time");
    gb_broker_report(b, i, GB_EDEVICE, "still broken");
    gb_broker_device d;
    gb_broker_get(b, 0, &d);
    cr_assert_eq(d.breaker, GB_BREAKER_OPEN);
    cr_assert_eq(d.unhealthy_since_ns, 100, "unhealthy since the first failure");
    gb_broker_destroy(b);
}

Test(offload, failures_outside_the_window_do_not_open_the_breaker)
{
    gb_broker *b = broker_for("cpu");
    uint32_t i = 0;
    g_clock.now = 0;
    cr_assert_eq(gb_broker_acquire(b, 0, &i), GB_OK);
    gb_broker_report(b, i, GB_EDEVICE, "one");
    g_clock.now = 2000; /* window is 1000 */
    cr_assert_eq(gb_broker_acquire(b, 0, &i), GB_OK);
    gb_broker_report(b, i, GB_EDEVICE, "two");
    gb_broker_device d;
    gb_broker_get(b, 0, &d);
    cr_assert_eq(d.breaker, GB_BREAKER_CLOSED);
    cr_assert_eq(d.healthy, 0);
    gb_broker_destroy(b);
}

Test(offload, bad_source_is_a_parse_error_with_the_compiler_log)
{
    gb_broker *b = broker_for("opencl,cpu");
    if (!opencl_here(b))
        cr_skip_test("no OpenCL device here (install pocl-opencl-icd)");
    gb_kernel_catalog *c = NULL;
    cr_assert_eq(gb_kernel_catalog_create(&c, b), GB_OK);
    gb_kernel_desc d = {.id = "broken", .source = "GB_KERNEL broken(GB_GLOBAL const gb_u8 *in, GB_GLOBAL gb_u8 "
                        "*out, gb_u32 count) { this_is_not_declared = 1; }",
                        .entry = "broken", .in_size = 4, .out_size = 4};
    cr_assert_eq(gb_kernel_register(c, &d), GB_OK);
    uint32_t in = 1, out = 0;
    cr_assert_eq(gb_kernel_run(c, "broken", &in, 4, &out, 4, NULL), GB_EPARSE);
    cr_assert_not_null(strstr(gb_last_error(), "this_is_not_declared"), "%s", gb_last_error());
    gb_broker_device dev;
    gb_broker_get(b, 0, &dev);
    cr_assert_eq(dev.healthy, 1, "a bad source is not the device's fault");
    gb_kernel_catalog_destroy(c);
    gb_broker_destroy(b);
}

Test(offload, bad_inputs_are_einval)
{
    gb_broker *b = broker_for("cpu");
    gb_kernel_catalog *c = catalog_with_kernels(b);
    uint32_t in[4] = {0}, out[4];
    cr_assert_eq(gb_kernel_run(c, "vec_add", in, 6, out, sizeof out, NULL), GB_EINVAL, "not whole items");
    cr_assert_eq(gb_kernel_run(c, "vec_add", in, 0, out, sizeof out, NULL), GB_EINVAL, "no items");
    cr_assert_eq(gb_kernel_run(c, "vec_add", in, 16, out, 4, NULL), GB_EINVAL, "output too small");
    cr_assert_eq(gb_kernel_run(c, "vec_add", NULL, 16, out, 16, NULL), GB_EINVAL);
    cr_assert_eq(gb_kernel_run(c, "nope", in, 16, out, 16, NULL), GB_ENOENT);
    uint64_t bytes = 0;
    cr_assert_eq(gb_kernel_memory(c, "vec_add", 1u << 17, &bytes), GB_EINVAL, "above max_batch");
    cr_assert_eq(gb_kernel_memory(c, "vec_add", 10, &bytes), GB_OK);
    cr_assert_eq(bytes, 120);
    gb_kernel_desc d = k_poly_desc();
    cr_assert_eq(gb_kernel_register(c, &d), GB_EEXIST);
    d.id = "p2", d.entry = "not an identifier";
    cr_assert_eq(gb_kernel_register(c, &d), GB_EINVAL);
    d.entry = "k_poly", d.in_size = 0;
    cr_assert_eq(gb_kernel_register(c, &d), GB_EINVAL);
    gb_kernel_catalog_destroy(c);
    gb_broker_destroy(b);
}

Test(offload, every_device_failing_is_edevice_saying_why)
{
    gb_broker *b = broker_for("cpu");
    gb_kernel_catalog *c = catalog_with_kernels(b);
    gb_broker_inject_fault(b, "cpu", GB_OP_LAUNCH, 1);
    uint32_t in = 1, out;
    cr_assert_eq(gb_kernel_run(c, "poly", &in, 4, &out, 4, NULL), GB_EDEVICE);
    cr_assert_not_null(strstr(gb_last_error(), "injected"), "%s", gb_last_error());
    gb_kernel_catalog_destroy(c);
    gb_broker_destroy(b);
}

Test(offload, results_are_identical_on_cpu_and_cuda)
{
    gb_broker *cu = broker_for("cuda"), *cpu = broker_for("cpu");
    gb_broker_device d;
    gb_broker_get(cu, 0, &d);
    if (!d.available)
        cr_skip_test("no CUDA device here: %s", d.why_unavailable);
    gb_kernel_catalog *cg = catalog_with_kernels(cu), *cc = catalog_with_kernels(cpu);
    uint32_t *in = random_words(16 * N, 99);
    uint8_t a[8 * N], b[8 * N];
    const char *ids[] = {"vec_add", "poly", "sumsq"};
    const size_t in_words[] = {2 * N, N, 16 * N}, out_bytes[] = {4 * N, 4 * N, 8 * N};
    for (int k = 0; k < 3; k++) {
        gb_kernel_result r;
        cr_assert_eq(gb_kernel_run(cg, ids[k], in, in_words[k] * 4, a, out_bytes[k], &r), GB_OK, "%s",
                     gb_last_error());
        cr_assert_str_eq(r.backend, "cuda");
        cr_assert_eq(gb_kernel_run(cc, ids[k], in, in_words[k] * 4, b, out_bytes[k], NULL), GB_OK);
        cr_assert_eq(memcmp(a, b, out_bytes[k]), 0, "%s differs between CUDA and the native build", ids[k]);
    }
    free(in);
    gb_kernel_catalog_destroy(cg), gb_kernel_catalog_destroy(cc);
    gb_broker_destroy(cu), gb_broker_destroy(cpu);
}
