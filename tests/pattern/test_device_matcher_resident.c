/* The device matcher's device-resident state: periodic host checkpoints
 * do not change the output; a device lost mid-stream (its launch and the
 * read-back of its state both fail) has its state rebuilt on the host
 * from the checkpoint and the logged batches, and the stream goes on on
 * the next device with the CPU matcher's output, nothing delivered twice. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpubridge/pattern_device.h"
#include "library_stream_util.h"

Test(device_matcher_resident, frequent_checkpoints_keep_the_cpu_matchers_output)
{
    uint64_t seed = gbt_seed();
    printf("device_matcher_resident checkpoints seed %llu (GB_TEST_SEED to replay)\n",
           (unsigned long long)seed);
    gb_pattern_set *set = library();
    size_t n = 3000;
    gb_event *ev = transfers(set, n, seed);
    char *want = cpu_output(set, ev, n, NULL);
    gb_device_matcher_stats ds;
    char *got = device_output(set, ev, n, (gb_device_matcher_opts){.chain = "cpu", .checkpoint_events = 150},
                              100, NULL, 0, &ds);
    cr_assert_str_eq(got, want, "seed %llu", (unsigned long long)seed);
    free(want), free(got), free(ev);
    gb_pattern_set_destroy(set);
}

Test(device_matcher_resident, a_lost_device_is_rebuilt_from_the_checkpoint_and_the_log)
{
    gb_broker *b;
    cr_assert_eq(gb_broker_create(&b, &(gb_broker_opts){.chain = "opencl,cpu"}), GB_OK);
    gb_broker_device d;
    gb_broker_get(b, 0, &d);
    if (!d.available)
        cr_skip_test("no OpenCL: %s", d.why_unavailable);
    uint64_t seed = gbt_seed();
    printf("device_matcher_resident lost device seed %llu (GB_TEST_SEED to replay)\n",
           (unsigned long long)seed);
    gb_pattern_set *set = library();
    size_t n = 3000;
    gb_event *ev = transfers(set, n, seed);
    char *want = cpu_output(set, ev, n, NULL);
    gb_device_matcher_stats ds;
    /* checkpoints every 1000 events: at batch 17 the log holds 6 or 7 batches */
    char *got = device_output(set, ev, n, (gb_device_matcher_opts){.broker = b, .checkpoint_events = 1000},
                              100, "opencl", 17, &ds);
    cr_assert_str_eq(got, want, "seed %llu", (unsigned long long)seed);
    cr_assert_eq(ds.fallbacks, 1, "one launch moved to cpu");
    cr_assert_eq(ds.device_batches, ds.batches - 1, "the others ran on OpenCL");
    free(want), free(got), free(ev);
    gb_pattern_set_destroy(set);
    gb_broker_destroy(b);
}
