/* The CUDA leg without a GPU: NVRTC (through the cuda backend's loader)
 * compiles every device source we ship for sm_90 (the ring program, the
 * dialect check, the offload test kernels) and ptxas assembles the PTX,
 * with the hand-written timer kernel. Skipped, with the reason, where
 * libnvrtc or ptxas is absent. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device/cuda.h"
#include "kernel/kernels.h"
#include "ring/ring_internal.h"

#define PTXAS "/usr/local/cuda/bin/ptxas"

extern const char gb_embed_ring_prelude[];

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = calloc(1, (size_t)n + 1);
    cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return s;
}

/* PTX of program (NVRTC), skipping the test without NVRTC. */
static char *ptx_of(const char *program)
{
    char *ptx = NULL;
    gb_status st = gbi_cuda_ptx(program, "compute_90", NULL, &ptx);
    if (st == GB_ENOTSUP)
        cr_skip_test("%s", gb_last_error());
    cr_assert_eq(st, GB_OK, "%s", gb_last_error());
    cr_assert_not_null(strstr(ptx, ".entry"));
    return ptx;
}

/* ptxas -arch=sm_90 accepts ptx (skip without ptxas). */
static void assembles(const char *ptx, const char *name)
{
    if (access(PTXAS, X_OK) != 0)
        cr_skip_test(PTXAS " is not installed (CUDA toolkit)");
    char in[512], out[512], cmd[1200];
    snprintf(in, sizeof in, GB_BINARY_DIR "/ptx-%s-%ld.ptx", name, (long)getpid());
    snprintf(out, sizeof out, GB_BINARY_DIR "/ptx-%s-%ld.cubin", name, (long)getpid());
    FILE *f = fopen(in, "wb");
    cr_assert_not_null(f);
    fputs(ptx, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, PTXAS " -arch=sm_90 -o %s %s 2>&1", out, in);
    int rc = system(cmd);
    unlink(in);
    unlink(out);
    cr_assert_eq(rc, 0, "ptxas rejected the PTX of %s", name);
}

static char *with_prelude(const char *src)
{
    size_t n = strlen(gb_embed_ring_prelude) + strlen(src) + 2;
    char *s = malloc(n);
    snprintf(s, n, "%s\n%s", gb_embed_ring_prelude, src);
    return s;
}

Test(cuda_ptx, ring_program_compiles_and_assembles_for_sm_90)
{
    static const gb_ring_actor_type types[2] = {{.name = "counter", .device_fn = "ta_counter_on_message"},
                                                {.name = "chain", .device_fn = "ta_chain_on_message"}};
    char *actors = slurp(GB_SOURCE_DIR "/tests/ring/test_actors.gbk");
    gb_ring_opts o = {.backend = "cuda", .types = types, .ntypes = 2, .device_source = actors}, n;
    cr_assert_eq(gbi_ring_normalize(&o, &n), GB_OK);
    char *src = NULL;
    cr_assert_eq(gbi_ring_device_source(&n, &src), GB_OK);
    char *ptx = ptx_of(src);
    cr_assert_not_null(strstr(ptx, "gb_ring_persistent"));
    assembles(ptx, "ring");
    free(ptx), free(src), free(actors);
}

Test(cuda_ptx, dialect_check_compiles_and_assembles_for_sm_90)
{
    char *dc = slurp(GB_SOURCE_DIR "/tests/device/dialect_check.gbk"), *src = with_prelude(dc);
    char *ptx = ptx_of(src);
    assembles(ptx, "dialect");
    free(ptx), free(src), free(dc);
}

Test(cuda_ptx, offload_kernels_compile_and_assemble_for_sm_90)
{
    const char *srcs[] = {k_vec_add_src, k_poly_src, k_sumsq_src, k_empty_src};
    for (size_t i = 0; i < 4; i++) {
        char *src = with_prelude(srcs[i]), *ptx = ptx_of(src), name[16];
        snprintf(name, sizeof name, "k%zu", i);
        assembles(ptx, name);
        free(ptx), free(src);
    }
}

Test(cuda_ptx, timer_kernel_assembles_for_sm_90)
{
    assembles(gbi_cuda_timer_ptx, "timer");
}

Test(cuda_ptx, bad_source_is_a_parse_error_with_the_log)
{
    char *ptx = NULL;
    gb_status st = gbi_cuda_ptx("extern \"C\" __global__ void k() { undeclared_thing = 1; }", "compute_90", NULL,
                                &ptx);
    if (st == GB_ENOTSUP)
        cr_skip_test("%s", gb_last_error());
    cr_assert_eq(st, GB_EPARSE);
    cr_assert_not_null(strstr(gb_last_error(), "undeclared_thing"), "%s", gb_last_error());
}
