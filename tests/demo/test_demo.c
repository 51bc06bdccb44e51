/* `gbridge demo` at small scale: every injected case is found on the cpu
 * ring and on PoCL, alerts are the same for a seed, --json is one object of
 * the documented shape, bad arguments exit 2. Runs build/gbridge. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/run_cmd.h"

#define SMALL "--accounts 500 --transfers 20000"

static char g_out[65536];

/* Run gbridge demo with args; stdout (and stderr if err) into g_out; the exit status. */
static int demo(const char *args, int err)
{
    char cmd[1024];
    /* PoCL's LLVM keeps its compiler's allocations until exit: LeakSanitizer
     * reports them (not ours) in the OpenCL runs, so leak checks are off
     * there; the cpu runs keep them. */
    const char *env = strstr(args, "opencl") ? "ASAN_OPTIONS=halt_on_error=1:detect_leaks=0 " : "";
    snprintf(cmd, sizeof cmd, "%s" GB_BINARY_DIR "/gbridge demo %s %s", env, args, err ? "2>&1" : "2>/dev/null");
    return gbt_run_cmd(cmd, g_out, sizeof g_out);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    static char bufs[2][1 << 20];
    static int which;
    char *b = bufs[which++ & 1];
    size_t n = fread(b, 1, (1 << 20) - 1, f);
    b[n] = '\0';
    fclose(f);
    return b;
}

/* Every case found and every alert true, on the given chain. */
static void finds_everything(const char *device)
{
    char args[256];
    snprintf(args, sizeof args, SMALL " --seed 7 --json --device %s", device);
    int rc = demo(args, 1);
    if (rc == 1 && strstr(g_out, "no device could run"))
        cr_skip_test("no %s here: %s", device, g_out);
    cr_assert_eq(rc, 0, "%s", g_out);
    char want[64];
    snprintf(want, sizeof want, "\"backend\": \"%s\"", device);
    cr_assert_not_null(strstr(g_out, want), "%s", g_out);
    cr_assert_not_null(strstr(g_out, "\"recall\": 1.000000"), "%s", g_out);
    cr_assert_not_null(strstr(g_out, "\"precision\": 1.000000"), "%s", g_out);
    cr_assert_not_null(strstr(g_out, "\"cases_skipped\": 0"), "%s", g_out);
}

Test(demo, cpu_ring_finds_every_injected_case)
{
    finds_everything("cpu");
}

Test(demo, opencl_ring_finds_every_injected_case)
{
    finds_everything("opencl");
}

/* A large bank: velocity_change keeps a run per account that sent in the
 * last 2 h, more than the matcher's default cap of open runs here (which
 * stopped runs and missed cases, 0.96 recall); the demo sizes the cap for
 * its accounts. */
Test(demo, a_large_bank_keeps_a_run_per_active_account)
{
    int rc = demo("--accounts 300000 --transfers 600000 --seed 3 --json --device cpu", 1);
    cr_assert_eq(rc, 0, "%s", g_out);
    cr_assert_not_null(strstr(g_out, "\"recall\": 1.000000"), "%s", g_out);
}

/* --rate paces the one host thread that also detects: the stream still
 * goes through whole and every case is found. */
Test(demo, a_paced_run_finds_every_injected_case)
{
    cr_assert_eq(demo(SMALL " --seed 3 --device cpu --rate 400000 --json", 1), 0, "%s", g_out);
    cr_assert_not_null(strstr(g_out, "\"transfers\": 20000,"), "%s", g_out);
    cr_assert_not_null(strstr(g_out, "\"recall\": 1.000000"), "%s", g_out);
    cr_assert_not_null(strstr(g_out, "\"precision\": 1.000000"), "%s", g_out);
}

Test(demo, same_seed_gives_the_same_alerts)
{
    cr_assert_eq(demo(SMALL " --seed 11 --device cpu --alerts " GB_BINARY_DIR "/demo_alerts_a.txt", 1), 0, "%s",
                 g_out);
    cr_assert_eq(demo(SMALL " --seed 11 --device cpu --window 1024 --alerts " GB_BINARY_DIR "/demo_alerts_b.txt", 1),
                 0, "%s", g_out);
    char *a = slurp(GB_BINARY_DIR "/demo_alerts_a.txt");
    char *b = slurp(GB_BINARY_DIR "/demo_alerts_b.txt");
    cr_assert_gt(strlen(a), 0);
    cr_assert_str_eq(a, b);
    strcpy(b, a);
    cr_assert_eq(demo(SMALL " --seed 12 --device cpu --alerts " GB_BINARY_DIR "/demo_alerts_b.txt", 1), 0, "%s",
                 g_out);
    char *c = slurp(GB_BINARY_DIR "/demo_alerts_b.txt"); /* reuses a's buffer: compare with b's copy */
    cr_assert_str_neq(b, c, "another seed injects other cases");
}

Test(demo, json_is_one_object_with_the_summary_fields)
{
    cr_assert_eq(demo(SMALL " --device cpu --json", 0), 0, "%s", g_out);
    size_t n = strlen(g_out);
    cr_assert(n > 2 && g_out[0] == '{' && g_out[n - 2] == '}' && g_out[n - 1] == '\n', "%s", g_out);
    cr_assert_null(strchr(g_out, '\n') + 1 == g_out + n ? NULL : "two lines", "%s", g_out);
    static const char *keys[] = {"\"device\": {\"backend\": ", "\"transfers_per_s\": ", "\"latency_us\": {\"p50\": ",
                                 "\"p99\": ", "\"detectors\": [{\"name\": \"rapid_split\"",
                                 "\"name\": \"high_frequency\"", "\"name\": \"velocity_change\"",
                                 "\"kind\": \"circular_flow\"", "\"precision\": ", "\"recall\": ",
                                 "\"goal\": {\"rate_met\": "};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        cr_assert_not_null(strstr(g_out, keys[i]), "missing %s in %s", keys[i], g_out);
}

/* The latency goal is judged over the detectors that alert on the
 * completing transfer: rapid_split (emits when its window closes) is not
 * among them, the three others are. */
Test(demo, latency_goal_leaves_out_rapid_split_only)
{
    cr_assert_eq(demo(SMALL " --device cpu --json", 0), 0, "%s", g_out);
    const char *want = "\"goal_latency_us\": {\"p50\": ";
    const char *g = strstr(g_out, want);
    cr_assert_not_null(g, "%s", g_out);
    const char *list = strstr(g, "\"detectors\": [\"");
    const char *end = list ? strchr(list, ']') : NULL;
    cr_assert(list && end, "%s", g_out);
    char dets[256];
    snprintf(dets, sizeof dets, "%.*s", (int)(end - list), list);
    cr_assert_str_eq(dets, "\"detectors\": [\"cycle (temporal graph)\", \"high_frequency\", \"velocity_change\"");
}

Test(demo, text_summary_names_device_rate_latency_and_recall)
{
    cr_assert_eq(demo(SMALL " --device cpu", 0), 0, "%s", g_out);
    cr_assert_not_null(strstr(g_out, "device          cpu"), "%s", g_out);
    cr_assert_not_null(strstr(g_out, "transfers/s"), "%s", g_out);
    cr_assert_not_null(strstr(g_out, "latency         p50"), "%s", g_out);
    cr_assert_not_null(strstr(g_out, "latency goal    p50"), "%s", g_out);
    cr_assert_not_null(strstr(g_out, "recall          1.0000"), "%s", g_out);
}

Test(demo, bad_arguments_exit_2_with_a_message)
{
    static const char *bad[] = {"--accounts 5", "--transfers x", "--rate -1", "--window 100", "--bogus",
                                "--seed", "stray", "--device ''"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(demo(bad[i], 1), 2, "%s: %s", bad[i], g_out);
        cr_assert_not_null(strstr(g_out, "gbridge demo: "), "%s: %s", bad[i], g_out);
        cr_assert_not_null(strstr(g_out, "usage: "), "%s: %s", bad[i], g_out);
    }
}

Test(demo, an_unknown_device_is_an_error)
{
    cr_assert_eq(demo(SMALL " --device tpu", 1), 1, "%s", g_out);
    cr_assert_not_null(strstr(g_out, "tpu"), "%s", g_out);
}

Test(demo, opencl_and_cpu_rings_give_the_same_alerts)
{
    int rc = demo(SMALL " --seed 5 --device opencl --alerts " GB_BINARY_DIR "/demo_alerts_ocl.txt", 1);
    if (rc == 1 && strstr(g_out, "no device could run"))
        cr_skip_test("no opencl here: %s", g_out);
    cr_assert_eq(rc, 0, "%s", g_out);
    cr_assert_eq(demo(SMALL " --seed 5 --device cpu --alerts " GB_BINARY_DIR "/demo_alerts_cpu.txt", 1), 0, "%s",
                 g_out);
    char *a = slurp(GB_BINARY_DIR "/demo_alerts_ocl.txt");
    char *b = slurp(GB_BINARY_DIR "/demo_alerts_cpu.txt");
    cr_assert_gt(strlen(a), 0);
    cr_assert_str_eq(a, b);
}
