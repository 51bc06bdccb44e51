/* The backend vtable (src/device/backend.h): enumerate, open, shared
 * memory, compile, launch; and every atomic of kernel_lang.h, run natively
 * and on OpenCL from many threads (tests/device/dialect_check.gbk). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "device/backend.h"
#include "ring/kernels.h"

#include "dialect_check.gbk"

extern const char gb_embed_ring_prelude[]; /* the library's embedded kernel_lang.h + queue + ring API */

#define THREADS 64

static void check_result(dc_shared *s)
{
    cr_assert_eq(atomic_load(&s->count), 12u * THREADS);
    uint64_t w = atomic_load(&s->winner);
    cr_assert(w >= 1 && w <= THREADS, "winner %llu", (unsigned long long)w);
    cr_assert_eq(atomic_load(&s->seen), THREADS);
    for (int i = 0; i < THREADS; i++)
        cr_assert_eq(s->words[i], (uint64_t)i * 3 + 1);
}

static dc_shared g_host;

static void *host_thread(void *arg)
{
    dc_thread(&g_host, (uint32_t)(uintptr_t)arg);
    return NULL;
}

Test(backend, every_atomic_of_the_dialect_works_natively_from_many_threads)
{
    memset(&g_host, 0, sizeof g_host);
    pthread_t t[THREADS];
    for (uintptr_t i = 0; i < THREADS; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, host_thread, (void *)i), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    check_result(&g_host);
}

Test(backend, cpu_enumerates_one_device_and_has_no_run_time_compiler)
{
    const gbi_backend_ops *be = gbi_backend_find("cpu");
    cr_assert_not_null(be);
    gbi_device_info info[2];
    uint32_t n = 0;
    cr_assert_eq(be->enumerate(info, 2, &n), GB_OK);
    cr_assert_eq(n, 1);
    void *self = NULL;
    cr_assert_eq(be->open(&self), GB_OK);
    cr_assert_eq(be->compile(self, "x", NULL), GB_ENOTSUP);
    cr_assert_gt(be->timer_ns(self), 0);
    be->ring->destroy(self);
    cr_assert_not_null(gbi_backend_find("cuda"));
    cr_assert_null(gbi_backend_find("tpu"));
}

Test(backend, every_atomic_of_the_dialect_works_on_opencl)
{
    const gbi_backend_ops *be = gbi_backend_find("opencl");
    gbi_device_info info[4];
    uint32_t n = 0;
    if (be->enumerate(info, 4, &n) == GB_ENOTSUP || n == 0)
        cr_skip_test("no OpenCL here: %s", gb_last_error());
    cr_assert_gt(strlen(info[0].name), 0);
    void *self = NULL;
    cr_assert_eq(be->open(&self), GB_OK, "%s", gb_last_error());
    FILE *f = fopen(GB_SOURCE_DIR "/tests/device/dialect_check.gbk", "rb");
    cr_assert_not_null(f);
    static char src[131072];
    size_t len = strlen(gb_embed_ring_prelude);
    memcpy(src, gb_embed_ring_prelude, len);
    src[len + fread(src + len, 1, sizeof src - len - 1, f)] = '\0';
    fclose(f);
    cr_assert_eq(be->compile(self, src, NULL), GB_OK, "%s", gb_last_error());
    dc_shared *s = NULL;
    cr_assert_eq(be->ring->shm_alloc(self, sizeof *s, (void **)&s), GB_OK);
    memset(s, 0, sizeof *s);
    cr_assert_eq(be->launch(self, "no_such_kernel", s, 1), GB_ENOENT);
    cr_assert_eq(be->launch(self, "dc_kernel", s, THREADS), GB_OK, "%s", gb_last_error());
    check_result(s);
    be->ring->shm_free(self, s);
    be->ring->destroy(self);
}

Test(backend, cuda_timer_reads_the_gpu_global_timer)
{
    const gbi_backend_ops *be = gbi_backend_find("cuda");
    void *self = NULL;
    gb_status st = be->open(&self);
    if (st == GB_ENOTSUP)
        cr_skip_test("no CUDA here: %s", gb_last_error());
    cr_assert_eq(st, GB_OK, "%s", gb_last_error());
    int64_t a = be->timer_ns(self), b = be->timer_ns(self);
    cr_assert_gt(a, 0);
    cr_assert_geq(b, a, "%%globaltimer does not go backwards");
    be->ring->destroy(self);
}
