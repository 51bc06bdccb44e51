/*
 * Offload benchmark:
 *   1. launch overhead: gb_kernel_run of an empty kernel on one item, on
 *      the cpu backend and on PoCL (OpenCL), beside a direct C call;
 *   2. batch throughput: a per-element polynomial over a batch, through the
 *      catalog on cpu and PoCL, beside a plain C loop.
 * Run: build/bench/bench_kernel_offload [--quick]   (a few seconds; --quick
 * well under one). PoCL runs on the same CPU cores, so its ratios measure
 * the offload path (copies, queue, launch), not a GPU.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../tests/kernel/kernels.h"
#include "gpubridge/broker.h"
#include "gpubridge/time.h"

static volatile uint32_t g_sink;

typedef struct rig {
    gb_broker *b;
    gb_kernel_catalog *c;
} rig;

static int rig_open(rig *r, const char *chain)
{
    gb_broker_opts o = {.chain = chain};
    if (gb_broker_create(&r->b, &o) != GB_OK)
        return 0;
    gb_broker_device d;
    gb_broker_get(r->b, 0, &d);
    gb_kernel_desc e = k_empty_desc(), p = k_poly_desc();
    p.max_batch = 1u << 22;
    if (!d.available || gb_kernel_catalog_create(&r->c, r->b) != GB_OK || gb_kernel_register(r->c, &e) != GB_OK ||
        gb_kernel_register(r->c, &p) != GB_OK) {
        gb_broker_destroy(r->b);
        return 0;
    }
    return 1;
}

static void rig_close(rig *r)
{
    gb_kernel_catalog_destroy(r->c);
    gb_broker_destroy(r->b);
}

/* ns per gb_kernel_run of id over n items, iters times (after one warm-up) */
static double time_run(rig *r, const char *id, const uint32_t *in, uint32_t *out, uint32_t n, int iters)
{
    gb_kernel_result res;
    if (gb_kernel_run(r->c, id, in, (size_t)n * 4, out, (size_t)n * 4, &res) != GB_OK)
        return -1;
    int64_t t0 = gb_time_monotonic_ns();
    for (int i = 0; i < iters; i++)
        gb_kernel_run(r->c, id, in, (size_t)n * 4, out, (size_t)n * 4, &res);
    return (double)(gb_time_monotonic_ns() - t0) / iters;
}

static double time_loop(const uint32_t *in, uint32_t *out, uint32_t n, int iters, int empty)
{
    int64_t t0 = gb_time_monotonic_ns();
    for (int i = 0; i < iters; i++) {
        if (empty)
            k_empty((const uint8_t *)in, (uint8_t *)out, n);
        else
            k_poly((const uint8_t *)in, (uint8_t *)out, n);
        g_sink += out[0];
    }
    return (double)(gb_time_monotonic_ns() - t0) / iters;
}

static void row(const char *what, double ours, double base, const char *unit)
{
    if (ours < 0)
        printf("%-44s %12s %12.1f %8s  %s\n", what, "n/a", base, "", unit);
    else
        printf("%-44s %12.1f %12.1f %8.2f  %s\n", what, ours, base, ours / base, unit);
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    int launches = quick ? 200 : 5000, batches = quick ? 3 : 20;
    uint32_t n = quick ? 1u << 16 : 1u << 20;
    uint32_t *in = malloc((size_t)n * 4), *out = malloc((size_t)n * 4);
    for (uint32_t i = 0; i < n; i++)
        in[i] = i * 2654435761u;
    rig cpu, ocl;
    int have_cpu = rig_open(&cpu, "cpu"), have_ocl = rig_open(&ocl, "opencl");
    double direct = time_loop(in, out, 1, launches * 10, 1), loop = time_loop(in, out, n, batches, 0);
    printf("%-44s %12s %12s %8s  %s\n", "measure", "ours", "baseline", "ratio", "unit (baseline)");
    row("launch, empty kernel, 1 item, cpu", have_cpu ? time_run(&cpu, "empty", in, out, 1, launches) : -1,
        direct, "ns/call (direct C call)");
    row("launch, empty kernel, 1 item, PoCL", have_ocl ? time_run(&ocl, "empty", in, out, 1, launches / 10) : -1,
        direct, "ns/call (direct C call)");
    char what[64];
    snprintf(what, sizeof what, "polynomial batch of %u, cpu", n);
    row(what, have_cpu ? time_run(&cpu, "poly", in, out, n, batches) / n : -1, loop / n, "ns/item (plain C loop)");
    snprintf(what, sizeof what, "polynomial batch of %u, PoCL", n);
    row(what, have_ocl ? time_run(&ocl, "poly", in, out, n, batches) / n : -1, loop / n, "ns/item (plain C loop)");
    printf("command: build/bench/bench_kernel_offload%s\n", quick ? " --quick" : "");
    if (have_cpu)
        rig_close(&cpu);
    if (have_ocl)
        rig_close(&ocl);
    free(in);
    free(out);
    return 0;
}
