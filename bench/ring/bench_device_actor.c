/*
 * Device actor benchmark: external gb_call round trip (median, p99) to a
 * device actor on the cpu ring and on PoCL (persistent ring), beside the
 * baseline, the same call to a CPU actor on the silo's worker pool; prints
 * the ratios and each ring's device clock calibration.
 *
 *   build/bench/bench_ring_device_actor [--quick]
 *
 * The device handler is portable kernel C (GB_DUAL_SOURCE): compiled
 * natively for the cpu ring and handed to OpenCL as source. Spinning
 * parties (the PoCL persistent kernel, the drain thread, the caller) need
 * free cores: numbers from a busy machine are only indicative.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpubridge/actor.h"
#include "gpubridge/device.h"
#include "gpubridge/time.h"
#include "ring/kernels.h"

GB_DUAL_SOURCE(
    bda_src, GB_DEVICE_FN gb_i32 bda_echo(GB_GLOBAL gb_u8 *state, GB_GLOBAL const gb_msg_header *msg,
                                          gb_u64 hlc, gb_ring_ctx *ctx) {
        GB_GLOBAL gb_u8 *out = gb_ring_begin_reply(ctx, msg, 8);
        if (!out)
            return -4;
        gb_payload_put_u64(out, 0, gb_payload_get_u64(msg, 0));
        gb_ring_end(ctx);
        return 0;
    })

static gb_status cpu_echo(gb_actor_ctx *ctx, void *state, const gb_msg_header *m, const void *p)
{
    (void)state;
    return gb_ctx_reply(ctx, GB_OK, p, m->payload_len);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

typedef struct lat {
    double median_us, p99_us;
    int ok;
} lat;

static lat measure(gb_silo *s, const char *type, int n)
{
    lat l = {0};
    gb_actor_id id;
    if (gb_actor_ref_u64(s, type, 1, &id) != GB_OK)
        return l;
    int64_t *ns = malloc((size_t)n * sizeof *ns);
    for (int i = -n / 10; i < n; i++) { /* a tenth as warm-up */
        uint64_t v = (uint64_t)i, r = 0;
        int64_t t0 = gb_time_fast_ns();
        if (gb_call(s, id, 1, &v, 8, 0, &r, 8, NULL) != GB_OK || r != v) {
            fprintf(stderr, "%s: call failed: %s\n", type, gb_last_error());
            free(ns);
            return l;
        }
        if (i >= 0)
            ns[i] = gb_time_fast_ns() - t0;
    }
    qsort(ns, (size_t)n, sizeof *ns, cmp_i64);
    l = (lat){ns[n / 2] / 1e3, ns[n * 99 / 100] / 1e3, 1};
    free(ns);
    return l;
}

static void add_device_type(gb_silo *s, const char *name, const char *devices)
{
    gb_actor_device d = {.source = bda_src,
                         .fn = "bda_echo",
                         .host_fn = bda_echo,
                         .state_size = 16,
                         .devices = devices,
                         .lanes = 1};
    gb_actor_type t = {.name = name, .device = &d};
    if (gb_actor_type_register(s, &t) != GB_OK)
        fprintf(stderr, "%s: %s\n", name, gb_last_error());
}

static void print_clock(gb_silo *s, const char *type)
{
    gb_clock_fit f;
    if (gb_actor_type_clock(s, type, &f) == GB_OK)
        printf("  %-12s clock: offset %+.0f ns, bound %.0f ns, drift %+.2f ppm, min rtt %lld ns\n", type,
               f.offset_ns, f.error_bound_ns, f.drift_ppm, (long long)f.min_rtt_ns);
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    int n = quick ? 2000 : 20000;
    gb_silo_opts o = {.workers = 2};
    gb_silo *s;
    if (gb_silo_create(&s, &o) != GB_OK)
        return 1;
    gb_actor_type ct = {.name = "cpu_echo", .handler = cpu_echo};
    gb_actor_type_register(s, &ct);
    add_device_type(s, "ring_cpu", "cpu");
    int ocl = gb_backend_available("opencl") == GB_OK;
    if (ocl)
        add_device_type(s, "ring_pocl", "opencl");
    lat base = measure(s, "cpu_echo", n);
    lat rc = measure(s, "ring_cpu", n);
    lat ro = ocl ? measure(s, "ring_pocl", n) : (lat){0};
    printf("external gb_call round trip, %d calls, 8-byte payload (command: %s%s)\n", n, argv[0],
           quick ? " --quick" : "");
    printf("  %-28s %10s %10s %14s\n", "target", "median us", "p99 us", "median ratio");
    printf("  %-28s %10.2f %10.2f %14s\n", "CPU actor (baseline)", base.median_us, base.p99_us, "1.00");
    if (rc.ok)
        printf("  %-28s %10.2f %10.2f %14.2f\n", "device actor, cpu ring", rc.median_us, rc.p99_us,
               rc.median_us / base.median_us);
    if (ro.ok)
        printf("  %-28s %10.2f %10.2f %14.2f\n", "device actor, PoCL persistent", ro.median_us, ro.p99_us,
               ro.median_us / base.median_us);
    else
        printf("  device actor, PoCL: skipped (%s)\n", ocl ? "call failed" : "no OpenCL here");
    print_clock(s, "ring_cpu");
    if (ocl)
        print_clock(s, "ring_pocl");
    gb_silo_destroy(s);
    return 0;
}
