/* Resident device buffers (backend.h buf_*) on the cpu backend and on
 * PoCL: contents survive between calls and launches, ranges are checked
 * before anything is copied, and a kernel launched on two resident buffers
 * reads one and writes the other (the device matcher's ping-pong). */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "device/backend.h"

/* out[i] = in[i] + 1 for every word: the test kernel, native and OpenCL. */
static void plus_one(const uint8_t *in, uint8_t *out, uint32_t count)
{
    const uint64_t *a = (const uint64_t *)in;
    uint64_t *b = (uint64_t *)out;
    for (uint32_t i = 0; i < count; i++)
        b[i] = a[i] + 1;
}

static const char plus_one_cl[] =
    "__kernel void plus_one(__global const uchar *in, __global uchar *out, uint n)\n"
    "{\n"
    "    size_t i = get_global_id(0);\n"
    "    if (i < n)\n"
    "        ((__global ulong *)out)[i] = ((__global const ulong *)in)[i] + 1;\n"
    "}\n";

/* An opened instance of backend with the test kernel; skips without it. */
static void *open_backend(const char *backend, const gbi_backend_ops **be)
{
    *be = gbi_backend_find(backend);
    cr_assert_not_null(*be);
    void *self = NULL;
    gb_status st = (*be)->open(&self);
    if (st == GB_ENOTSUP)
        cr_skip_test("no %s: %s", backend, gb_last_error());
    cr_assert_eq(st, GB_OK, "%s", gb_last_error());
    if (strcmp(backend, "cpu") != 0)
        cr_assert_eq((*be)->compile(self, plus_one_cl, NULL), GB_OK, "%s", gb_last_error());
    return self;
}

static void contents_survive_between_calls(const char *backend)
{
    const gbi_backend_ops *be;
    void *self = open_backend(backend, &be);
    gbi_buf *b = NULL;
    cr_assert_eq(be->buf_alloc(self, 64 * 8, &b), GB_OK, "%s", gb_last_error());
    uint64_t w[64], r[64] = {0};
    for (int i = 0; i < 64; i++)
        w[i] = 1000u + (uint64_t)i;
    gbi_buf_range all = {0, sizeof w, w};
    cr_assert_eq(be->buf_write(self, b, &all, 1), GB_OK);
    uint64_t patch[2] = {7, 8};
    gbi_buf_range part = {10 * 8, sizeof patch, patch};
    cr_assert_eq(be->buf_write(self, b, &part, 1), GB_OK, "a later write changes only its range");
    gbi_buf_range back[2] = {{0, 32 * 8, r}, {32 * 8, 32 * 8, r + 32}};
    cr_assert_eq(be->buf_read(self, b, back, 2), GB_OK);
    for (int i = 0; i < 64; i++)
        cr_assert_eq(r[i], i == 10 ? 7u : i == 11 ? 8u : 1000u + (uint64_t)i, "word %d", i);
    be->buf_free(self, b);
    be->ring->destroy(self);
}

static void a_range_outside_is_refused_before_copying(const char *backend)
{
    const gbi_backend_ops *be;
    void *self = open_backend(backend, &be);
    gbi_buf *b = NULL;
    cr_assert_eq(be->buf_alloc(self, 16, &b), GB_OK);
    uint64_t w[2] = {1, 2}, z[4] = {0}, r[2] = {0};
    gbi_buf_range ok = {0, 16, w};
    cr_assert_eq(be->buf_write(self, b, &ok, 1), GB_OK);
    gbi_buf_range two[2] = {{0, 8, z}, {8, 16, z}}; /* the second ends 8 bytes past the buffer */
    cr_assert_eq(be->buf_write(self, b, two, 2), GB_EINVAL);
    cr_assert_eq(be->buf_read(self, b, two, 2), GB_EINVAL);
    gbi_buf_range huge = {SIZE_MAX - 4, 8, z};
    cr_assert_eq(be->buf_read(self, b, &huge, 1), GB_EINVAL, "an offset near SIZE_MAX does not wrap");
    gbi_buf_range back = {0, 16, r};
    cr_assert_eq(be->buf_read(self, b, &back, 1), GB_OK);
    cr_assert_eq(r[0], 1, "the refused write copied nothing");
    cr_assert_eq(r[1], 2);
    cr_assert_eq(be->buf_alloc(self, 0, &b), GB_EINVAL);
    cr_assert_eq(be->buf_write(self, NULL, &ok, 1), GB_EINVAL);
    be->buf_free(self, NULL);
    be->buf_free(self, b);
    be->ring->destroy(self);
}

/* Launch plus_one from a into b, then b into a, three times: only the
 * first write and the last read cross to the host. */
static void launches_ping_pong_between_resident_buffers(const char *backend)
{
    const gbi_backend_ops *be;
    void *self = open_backend(backend, &be);
    enum { N = 100 };
    gbi_buf *buf[2] = {NULL, NULL};
    cr_assert_eq(be->buf_alloc(self, N * 8, &buf[0]), GB_OK);
    cr_assert_eq(be->buf_alloc(self, N * 8, &buf[1]), GB_OK);
    uint64_t w[N], r[N];
    for (int i = 0; i < N; i++)
        w[i] = (uint64_t)i * 10u;
    gbi_buf_range all = {0, sizeof w, w};
    cr_assert_eq(be->buf_write(self, buf[0], &all, 1), GB_OK);
    for (int k = 0; k < 6; k++)
        cr_assert_eq(be->buf_launch(self, "plus_one", plus_one, buf[k & 1], buf[1 - (k & 1)], N), GB_OK, "%s",
                     gb_last_error());
    gbi_buf_range back = {0, sizeof r, r};
    cr_assert_eq(be->buf_read(self, buf[0], &back, 1), GB_OK);
    for (int i = 0; i < N; i++)
        cr_assert_eq(r[i], (uint64_t)i * 10u + 6u, "word %d went through six launches", i);
    cr_assert_eq(be->buf_launch(self, "plus_one", plus_one, NULL, buf[0], N), GB_EINVAL);
    be->buf_free(self, buf[0]);
    be->buf_free(self, buf[1]);
    be->ring->destroy(self);
}

Test(buffers, cpu_contents_survive_between_calls)
{
    contents_survive_between_calls("cpu");
}
Test(buffers, pocl_contents_survive_between_calls)
{
    contents_survive_between_calls("opencl");
}
Test(buffers, cpu_a_range_outside_is_refused_before_copying)
{
    a_range_outside_is_refused_before_copying("cpu");
}
Test(buffers, pocl_a_range_outside_is_refused_before_copying)
{
    a_range_outside_is_refused_before_copying("opencl");
}
Test(buffers, cpu_launches_ping_pong_between_resident_buffers)
{
    launches_ping_pong_between_resident_buffers("cpu");
}
Test(buffers, pocl_launches_ping_pong_between_resident_buffers)
{
    launches_ping_pong_between_resident_buffers("opencl");
}

Test(buffers, cpu_launch_without_a_native_build_is_not_supported)
{
    const gbi_backend_ops *be;
    void *self = open_backend("cpu", &be);
    gbi_buf *b = NULL;
    cr_assert_eq(be->buf_alloc(self, 8, &b), GB_OK);
    cr_assert_eq(be->buf_launch(self, "plus_one", NULL, b, b, 1), GB_ENOTSUP);
    be->buf_free(self, b);
    be->ring->destroy(self);
}

Test(buffers, pocl_launch_of_an_unknown_kernel_is_enoent)
{
    const gbi_backend_ops *be;
    void *self = open_backend("opencl", &be);
    gbi_buf *b = NULL;
    cr_assert_eq(be->buf_alloc(self, 8, &b), GB_OK);
    cr_assert_eq(be->buf_launch(self, "no_such_kernel", NULL, b, b, 1), GB_ENOENT);
    be->buf_free(self, b);
    be->ring->destroy(self);
}
