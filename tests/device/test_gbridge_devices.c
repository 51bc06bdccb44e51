/* `gbridge devices`: every backend of the chain with its state; a missing
 * one says why; --json; a bad chain is an error. Runs build/gbridge. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/run_cmd.h"

static char g_out[65536];

/* Run gbridge with env and args; its stdout into g_out, the exit status returned. */
static int gbridge(const char *env, const char *args)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s " GB_BINARY_DIR "/gbridge devices %s 2>&1", env, args);
    return gbt_run_cmd(cmd, g_out, sizeof g_out);
}

Test(gbridge_devices, lists_every_backend_of_the_chain)
{
    cr_assert_eq(gbridge("GB_DEVICES=cuda,opencl,cpu", ""), 0, "%s", g_out);
    cr_assert_not_null(strstr(g_out, "cpu: host cpu threads"), "%s", g_out);
    cr_assert_not_null(strstr(g_out, "health healthy"), "%s", g_out);
    cr_assert_not_null(strstr(g_out, "opencl:"), "%s", g_out);
    cr_assert_not_null(strstr(g_out, "cuda:"), "%s", g_out);
    cr_assert_not_null(strstr(g_out, "kernel cache:"), "%s", g_out);
}

Test(gbridge_devices, a_missing_backend_says_why)
{
    cr_assert_eq(gbridge("GB_DEVICES=opencl GB_OPENCL_LIBRARY=/nonexistent/libOpenCL.so.1", ""), 0);
    cr_assert_not_null(strstr(g_out, "opencl: not available: cannot open /nonexistent/libOpenCL.so.1"), "%s",
                       g_out);
    cr_assert_not_null(strstr(g_out, "pocl-opencl-icd"), "%s", g_out);
}

Test(gbridge_devices, json_has_one_object_per_backend)
{
    cr_assert_eq(gbridge("GB_DEVICES=cpu,opencl GB_OPENCL_LIBRARY=/nonexistent/x.so", "--json"), 0);
    cr_assert_eq(g_out[0], '{', "%s", g_out);
    cr_assert_not_null(strstr(g_out, "{\"backend\": \"cpu\", \"available\": true"), "%s", g_out);
    cr_assert_not_null(strstr(g_out, "{\"backend\": \"opencl\", \"available\": false, \"why\": \""), "%s", g_out);
    cr_assert_not_null(strstr(g_out, "\"kernel_cache\": "), "%s", g_out);
}

Test(gbridge_devices, a_bad_chain_or_argument_fails)
{
    cr_assert_eq(gbridge("GB_DEVICES=cpu,tpu", ""), 1);
    cr_assert_not_null(strstr(g_out, "tpu"), "%s", g_out);
    cr_assert_eq(gbridge("", "--yaml"), 2);
}
