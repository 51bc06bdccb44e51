/* The on-disk kernel cache: entries round-trip, a corrupted or truncated
 * entry is detected and rebuilt, and a warm start of the opencl backend
 * loads the program binary instead of compiling (counters). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "device/backend.h"
#include "device/jit_cache.h"

static uint64_t nonce(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 20 ^ (uint64_t)getpid() << 40;
}

static void cache_dir(void)
{
    if (!getenv("GB_KERNEL_CACHE"))
        setenv("GB_KERNEL_CACHE", GB_BINARY_DIR "/kernel-cache", 1);
}

static gb_kernel_cache_counters counters(void)
{
    gb_kernel_cache_counters c;
    cr_assert_eq(gb_kernel_cache_stats(&c), GB_OK);
    return c;
}

/* Flip one payload byte of key's entry (or cut it short). */
static void damage(const char *backend, uint64_t key, int truncate)
{
    char path[1024];
    cr_assert_eq(gbi_jit_path(backend, key, path, sizeof path), GB_OK);
    FILE *f = fopen(path, "r+b");
    cr_assert_not_null(f, "%s", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    if (truncate) {
        cr_assert_eq(ftruncate(fileno(f), size / 2), 0);
    } else {
        fseek(f, size - 1, SEEK_SET);
        int c = fgetc(f);
        fseek(f, size - 1, SEEK_SET);
        fputc(c ^ 0x5a, f);
    }
    fclose(f);
}

Test(jit_cache, an_entry_round_trips_and_a_damaged_one_is_a_miss)
{
    cache_dir();
    uint64_t key = gbi_jit_key("test", "src", "opts", "dev", "v1", "drv"), n0 = nonce();
    cr_assert_neq(key, gbi_jit_key("test", "sr", "copts", "dev", "v1", "drv"), "parts are separated");
    key ^= n0;
    const char payload[] = "compiled bytes";
    cr_assert_eq(gbi_jit_store("test", key, payload, sizeof payload), GB_OK, "%s", gb_last_error());
    void *data = NULL;
    size_t len = 0;
    cr_assert_eq(gbi_jit_load("test", key, &data, &len), GB_OK);
    cr_assert_eq(len, sizeof payload);
    cr_assert_eq(memcmp(data, payload, len), 0);
    free(data);
    for (int truncate = 0; truncate < 2; truncate++) {
        gb_kernel_cache_counters before = counters();
        damage("test", key, truncate);
        cr_assert_eq(gbi_jit_load("test", key, &data, &len), GB_ENOENT);
        cr_assert_eq(counters().corrupt, before.corrupt + 1);
        cr_assert_eq(gbi_jit_load("test", key, &data, &len), GB_ENOENT, "the damaged entry was removed");
        cr_assert_eq(counters().corrupt, before.corrupt + 1);
        cr_assert_eq(gbi_jit_store("test", key, payload, sizeof payload), GB_OK);
    }
    char path[1024];
    gbi_jit_path("test", key, path, sizeof path);
    unlink(path);
}

Test(jit_cache, cache_off_is_always_a_miss)
{
    setenv("GB_KERNEL_CACHE", "off", 1);
    void *data;
    size_t len;
    cr_assert_eq(gbi_jit_store("test", 1, "x", 1), GB_ENOTSUP);
    cr_assert_eq(gbi_jit_load("test", 1, &data, &len), GB_ENOENT);
    cr_assert_eq(counters().enabled, 0);
    unsetenv("GB_KERNEL_CACHE");
}

/* Open opencl and compile src; GB_ENOTSUP when there is no OpenCL. */
static gb_status ocl_build(const char *src)
{
    const gbi_backend_ops *be = gbi_backend_find("opencl");
    void *self = NULL;
    gb_status st = be->open(&self);
    if (st != GB_OK)
        return st;
    st = be->compile(self, src, NULL);
    if (st == GB_OK) { /* the program runs: one work-item writes 7 */
        uint32_t in = 0, out = 0;
        st = be->io_launch(self, "seven", &in, 4, &out, 4, 1);
        cr_assert_eq(out, 7);
    }
    be->ring->destroy(self);
    return st;
}

Test(jit_cache, a_warm_opencl_start_loads_the_binary_and_a_corrupt_one_is_rebuilt)
{
    cache_dir();
    char src[256];
    snprintf(src, sizeof src, "/* %llx */ __kernel void seven(__global const uint *in, __global uint *out, uint n)"
             " { out[get_global_id(0)] = 7; }", (unsigned long long)nonce());
    gb_kernel_cache_counters c0 = counters();
    gb_status st = ocl_build(src);
    if (st == GB_ENOTSUP)
        cr_skip_test("no OpenCL here: %s", gb_last_error());
    cr_assert_eq(st, GB_OK, "%s", gb_last_error());
    gb_kernel_cache_counters c1 = counters();
    cr_assert_eq(c1.misses, c0.misses + 1, "cold: a miss");
    cr_assert_eq(c1.stores, c0.stores + 1, "and the binary stored");
    cr_assert_eq(ocl_build(src), GB_OK);
    gb_kernel_cache_counters c2 = counters();
    cr_assert_eq(c2.hits, c1.hits + 1, "warm: loaded from the cache");
    cr_assert_eq(c2.stores, c1.stores, "nothing recompiled, nothing stored");
    /* damage the entry: detected, rebuilt from source, stored again */
    const gbi_backend_ops *be = gbi_backend_find("opencl");
    void *self = NULL;
    cr_assert_eq(be->open(&self), GB_OK);
    gbi_device_info info;
    be->describe(self, &info);
    be->ring->destroy(self);
    char opts[64];
    snprintf(opts, sizeof opts, "-cl-std=CL3.0 %s", "");
    damage("opencl", gbi_jit_key("opencl", src, opts, info.name, info.version, info.driver), 0);
    cr_assert_eq(ocl_build(src), GB_OK);
    gb_kernel_cache_counters c3 = counters();
    cr_assert_eq(c3.corrupt, c2.corrupt + 1);
    cr_assert_eq(c3.stores, c2.stores + 1, "rebuilt and stored");
    cr_assert_eq(ocl_build(src), GB_OK);
    cr_assert_eq(counters().hits, c3.hits + 1, "the rebuilt entry serves the next start");
}
