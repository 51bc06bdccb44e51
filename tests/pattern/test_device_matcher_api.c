/* The device pattern matcher's API: the nine library patterns on a
 * generated stream give the CPU matcher's output (cpu and PoCL); a device
 * failure falls back to the next entry of the chain without losing the
 * batch; out-of-order batches and bad arguments are refused without
 * changing anything; per-pattern counters; the device program compiles
 * for sm_90 with NVRTC and ptxas assembles it
 * (skipped without them). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device/cuda.h"
#include "gpubridge/pattern_device.h"
#include "pattern/device_kernel.h"
#include "library_stream_util.h"

static void library_on(const char *chain)
{
    uint64_t seed = gbt_seed();
    printf("device_matcher library %s seed %llu (GB_TEST_SEED to replay)\n", chain, (unsigned long long)seed);
    gb_pattern_set *set = library();
    size_t n = 4000;
    gb_event *ev = transfers(set, n, seed);
    gb_matcher_stats cs;
    gb_device_matcher_stats ds;
    char *want = cpu_output(set, ev, n, &cs);
    char *got = device_output(set, ev, n, (gb_device_matcher_opts){.chain = chain}, 500, NULL, 0, &ds);
    cr_assert_gt(cs.matches, 20, "the generated stream should trigger the library (%llu matches)",
                 (unsigned long long)cs.matches);
    cr_assert_str_eq(got, want, "seed %llu", (unsigned long long)seed);
    cr_assert_eq(ds.m.matches, cs.matches);
    cr_assert_eq(ds.m.runs_started, cs.runs_started);
    cr_assert_str_eq(ds.backend, chain);
    cr_assert_geq(ds.sharded_patterns, 3, "high_frequency, velocity_change, rapid_split, round_trip are sharded by key");
    free(want), free(got), free(ev);
    gb_pattern_set_destroy(set);
}

Test(device_matcher_api, library_patterns_match_the_cpu_matcher_on_the_cpu_backend)
{
    library_on("cpu");
}

Test(device_matcher_api, library_patterns_match_the_cpu_matcher_on_pocl)
{
    if (gb_backend_available("opencl") != GB_OK)
        cr_skip_test("no OpenCL: %s", gb_last_error());
    library_on("opencl");
}

Test(device_matcher_api, a_failing_device_falls_back_to_the_next_without_losing_the_batch)
{
    gb_broker *b;
    cr_assert_eq(gb_broker_create(&b, &(gb_broker_opts){.chain = "opencl,cpu"}), GB_OK);
    gb_broker_device d;
    gb_broker_get(b, 0, &d);
    if (!d.available)
        cr_skip_test("no OpenCL: %s", d.why_unavailable);
    cr_assert_eq(gb_broker_inject_fault(b, "opencl", GB_OP_LAUNCH, 2), GB_OK);
    gb_pattern_set *set = library();
    size_t n = 1500;
    gb_event *ev = transfers(set, n, 42);
    gb_matcher_stats cs;
    gb_device_matcher_stats ds;
    char *want = cpu_output(set, ev, n, &cs);
    char *got = device_output(set, ev, n, (gb_device_matcher_opts){.broker = b}, 300, NULL, 0, &ds);
    cr_assert_str_eq(got, want);
    cr_assert_eq(ds.fallbacks, 2, "two launches moved to cpu");
    cr_assert_eq(ds.device_batches, ds.batches - 2, "the others ran on OpenCL");
    free(want), free(got), free(ev);
    gb_pattern_set_destroy(set);
    gb_broker_destroy(b);
}

Test(device_matcher_api, an_out_of_order_batch_is_refused_whole)
{
    gb_pattern_set *set = compile_ok("pattern one within 10ns\n  a: t\nend\n");
    uint32_t t;
    gb_type_lookup(gb_pattern_set_types(set), "t", &t);
    gb_device_matcher *dm;
    cr_assert_eq(gb_device_matcher_create(&dm, set, &(gb_device_matcher_opts){.chain = "cpu"}), GB_OK);
    gb_event ev[3] = {{.id = 1, .type = t, .ts_ns = 5}, {.id = 2, .type = t, .ts_ns = 3}, {.id = 3, .type = t, .ts_ns = 9}};
    cr_assert_eq(gb_device_matcher_push(dm, ev, 3), GB_EORDER);
    gb_device_matcher_stats st;
    gb_device_matcher_stats_get(dm, UINT32_MAX, &st);
    cr_assert_eq(st.m.events, 0);
    cr_assert_eq(st.m.matches, 0);
    cr_assert_eq(st.m.rejected, 3);
    cr_assert_eq(gb_device_matcher_push(dm, ev + 2, 1), GB_OK);
    cr_assert_eq(gb_device_matcher_push(dm, ev, 1), GB_EORDER, "ts 5 is older than 9");
    cr_assert_eq(gb_device_matcher_advance(dm, 8), GB_EORDER);
    gb_device_matcher_stats_get(dm, 0, &st);
    cr_assert_eq(st.m.matches, 1);
    cr_assert_eq(st.m.events, 1);
    gb_device_matcher_destroy(dm);
    gb_pattern_set_destroy(set);
}

Test(device_matcher_api, bad_arguments_are_refused)
{
    gb_pattern_set *set = compile_ok("pattern one within 10ns\n  a: t\nend\n");
    gb_device_matcher *dm = NULL;
    cr_assert_eq(gb_device_matcher_create(NULL, set, NULL), GB_EINVAL);
    cr_assert_eq(gb_device_matcher_create(&dm, NULL, NULL), GB_EINVAL);
    cr_assert_eq(gb_device_matcher_create(&dm, set, &(gb_device_matcher_opts){.chain = "nonsense"}), GB_EINVAL);
    cr_assert_null(dm);
    gb_pattern_set *empty = compile_ok("# nothing\n");
    cr_assert_eq(gb_device_matcher_create(&dm, empty, NULL), GB_EINVAL);
    cr_assert_eq(gb_device_matcher_create(&dm, set, &(gb_device_matcher_opts){.chain = "cpu"}), GB_OK);
    cr_assert_eq(gb_device_matcher_push(NULL, NULL, 0), GB_EINVAL);
    cr_assert_eq(gb_device_matcher_push(dm, NULL, 1), GB_EINVAL);
    cr_assert_eq(gb_device_matcher_push(dm, NULL, 0), GB_OK, "an empty batch is fine");
    cr_assert_eq(gb_device_matcher_advance(NULL, 0), GB_EINVAL);
    cr_assert_eq(gb_device_matcher_flush(NULL), GB_EINVAL);
    gb_device_matcher_stats st;
    cr_assert_eq(gb_device_matcher_stats_get(NULL, UINT32_MAX, &st), GB_EINVAL);
    cr_assert_eq(gb_device_matcher_stats_get(dm, UINT32_MAX, NULL), GB_EINVAL);
    cr_assert_eq(gb_device_matcher_stats_get(dm, 1, &st), GB_EINVAL, "one pattern only");
    gb_device_matcher_destroy(NULL);
    gb_device_matcher_destroy(dm);
    gb_pattern_set_destroy(empty);
    gb_pattern_set_destroy(set);
}

Test(device_matcher_api, a_chain_without_a_usable_device_is_a_device_error_and_keeps_the_state)
{
    gb_broker *b;
    cr_assert_eq(gb_broker_create(&b, &(gb_broker_opts){.chain = "cpu"}), GB_OK);
    gb_pattern_set *set = compile_ok("pattern two within 10ns\n  a: t\n  b: t\nend\n");
    uint32_t t;
    gb_type_lookup(gb_pattern_set_types(set), "t", &t);
    tbuf out = {0};
    tbuf_put(&out, "");
    gb_device_matcher *dm;
    cr_assert_eq(gb_device_matcher_create(&dm, set, &(gb_device_matcher_opts){.broker = b, .on_match = tbuf_on_match,
                                                                            .ctx = &out}), GB_OK);
    gb_event e1 = {.id = 1, .type = t, .ts_ns = 1}, e2 = {.id = 2, .type = t, .ts_ns = 2};
    cr_assert_eq(gb_device_matcher_push(dm, &e1, 1), GB_OK);
    cr_assert_eq(gb_broker_inject_fault(b, "cpu", GB_OP_LAUNCH, 1), GB_OK);
    cr_assert_eq(gb_device_matcher_push(dm, &e2, 1), GB_EDEVICE);
    cr_assert_str_eq(out.s, "", "nothing happened");
    cr_assert_eq(gb_device_matcher_push(dm, &e2, 1), GB_OK, "the same batch again");
    cr_assert_str_eq(out.s, "two@2 a=1 b=2\n");
    gb_device_matcher_destroy(dm);
    gb_pattern_set_destroy(set);
    free(out.s);
    gb_broker_destroy(b);
}

Test(device_matcher_api, device_program_compiles_and_assembles_for_sm_90)
{
    char *ptx = NULL;
    gb_status st = gbi_cuda_ptx(gb_embed_pattern_match, "compute_90", NULL, &ptx);
    if (st == GB_ENOTSUP)
        cr_skip_test("%s", gb_last_error());
    cr_assert_eq(st, GB_OK, "%s", gb_last_error());
    cr_assert_not_null(strstr(ptx, GBPD_ENTRY));
    const char *ptxas = "/usr/local/cuda/bin/ptxas";
    if (access(ptxas, X_OK) != 0) {
        free(ptx);
        cr_skip_test("%s is not installed (CUDA toolkit): NVRTC accepted the program, not assembled", ptxas);
    }
    char in[512], out[512], cmd[1400];
    snprintf(in, sizeof in, GB_BINARY_DIR "/ptx-pattern-%ld.ptx", (long)getpid());
    snprintf(out, sizeof out, GB_BINARY_DIR "/ptx-pattern-%ld.cubin", (long)getpid());
    FILE *f = fopen(in, "wb");
    cr_assert_not_null(f);
    fputs(ptx, f);
    fclose(f);
    /* -O0: this checks that the PTX is valid for sm_90; optimising it takes seconds */
    snprintf(cmd, sizeof cmd, "%s -arch=sm_90 -O0 -o %s %s 2>&1", ptxas, out, in);
    int rc = system(cmd);
    unlink(in);
    unlink(out);
    free(ptx);
    cr_assert_eq(rc, 0, "ptxas rejected the device pattern matcher");
}
