/* The device broker: chain parsing, capabilities, unavailable backends with
 * their reason, fault injection from the environment. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "gpubridge/broker.h"

Test(broker, default_chain_is_cuda_opencl_cpu_and_cpu_is_always_available)
{
    unsetenv("GB_DEVICES");
    gb_broker *b = NULL;
    cr_assert_eq(gb_broker_create(&b, NULL), GB_OK, "%s", gb_last_error());
    cr_assert_eq(gb_broker_count(b), 3);
    gb_broker_device d;
    const char *names[] = {"cuda", "opencl", "cpu"};
    for (uint32_t i = 0; i < 3; i++) {
        cr_assert_eq(gb_broker_get(b, i, &d), GB_OK);
        cr_assert_str_eq(d.info.backend, names[i]);
        if (!d.available)
            cr_assert_gt(strlen(d.why_unavailable), 10, "%s says why", names[i]);
    }
    cr_assert_eq(d.available, 1);
    cr_assert_gt(d.info.compute_units, 0);
    cr_assert_gt(d.global_mem, 0);
    cr_assert_eq(gb_broker_get(b, 3, &d), GB_ENOENT);
    gb_broker_destroy(b);
}

Test(broker, missing_cuda_driver_says_what_to_install)
{
    gb_broker_opts o = {.chain = "cuda"};
    gb_broker *b = NULL;
    cr_assert_eq(gb_broker_create(&b, &o), GB_OK);
    gb_broker_device d;
    gb_broker_get(b, 0, &d);
    if (d.available)
        cr_skip_test("a CUDA device is present: %s", d.info.name);
    cr_assert_not_null(strstr(d.why_unavailable, "libcuda.so.1"), "%s", d.why_unavailable);
    cr_assert_not_null(strstr(d.why_unavailable, "NVIDIA driver"), "%s", d.why_unavailable);
    uint32_t i;
    cr_assert_eq(gb_broker_acquire(b, 0, &i), GB_ENOENT);
    gb_broker_destroy(b);
}

Test(broker, chain_comes_from_the_environment)
{
    setenv("GB_DEVICES", "cpu", 1);
    gb_broker *b = NULL;
    cr_assert_eq(gb_broker_create(&b, NULL), GB_OK);
    cr_assert_eq(gb_broker_count(b), 1);
    uint32_t i = 9;
    cr_assert_eq(gb_broker_acquire(b, 0, &i), GB_OK);
    cr_assert_eq(i, 0);
    gb_broker_device d;
    gb_broker_get(b, 0, &d);
    cr_assert_eq(d.load, 1, "acquired, not yet reported");
    gb_broker_report(b, i, GB_OK, NULL);
    gb_broker_get(b, 0, &d);
    cr_assert_eq(d.load, 0);
    cr_assert_eq(d.successes, 1);
    gb_broker_destroy(b);
    unsetenv("GB_DEVICES");
}

Test(broker, bad_chains_are_einval)
{
    gb_broker *b = NULL;
    gb_broker_opts o = {.chain = "cpu,tpu"};
    cr_assert_eq(gb_broker_create(&b, &o), GB_EINVAL);
    cr_assert_not_null(strstr(gb_last_error(), "tpu"));
    o.chain = "cpu,cpu";
    cr_assert_eq(gb_broker_create(&b, &o), GB_EINVAL);
    o.chain = " , ";
    cr_assert_eq(gb_broker_create(&b, &o), GB_EINVAL);
    cr_assert_eq(gb_broker_create(NULL, NULL), GB_EINVAL);
}

Test(broker, gb_fault_arms_injected_failures)
{
    setenv("GB_FAULT", "cpu:launch:2", 1);
    gb_broker_opts o = {.chain = "cpu"};
    gb_broker *b = NULL;
    cr_assert_eq(gb_broker_create(&b, &o), GB_OK, "%s", gb_last_error());
    cr_assert_eq(gb_broker_fault_check(b, 0, GB_OP_COMPILE), GB_OK);
    cr_assert_eq(gb_broker_fault_check(b, 0, GB_OP_LAUNCH), GB_EDEVICE);
    cr_assert_eq(gb_broker_fault_check(b, 0, GB_OP_LAUNCH), GB_EDEVICE);
    cr_assert_eq(gb_broker_fault_check(b, 0, GB_OP_LAUNCH), GB_OK, "armed twice only");
    gb_broker_destroy(b);
    setenv("GB_FAULT", "cpu:explode", 1);
    cr_assert_eq(gb_broker_create(&b, &o), GB_EINVAL);
    unsetenv("GB_FAULT");
}

Test(broker, faults_are_off_by_default)
{
    unsetenv("GB_FAULT");
    gb_broker_opts o = {.chain = "cpu"};
    gb_broker *b = NULL;
    cr_assert_eq(gb_broker_create(&b, &o), GB_OK);
    for (int op = 0; op < GB_OP_COUNT; op++)
        cr_assert_eq(gb_broker_fault_check(b, 0, (gb_device_op)op), GB_OK);
    cr_assert_str_eq(gb_device_op_name(GB_OP_LAUNCH), "launch");
    gb_broker_destroy(b);
}
