/* NVRTC compiles the ring's device program (kernel_lang.h, the queue, the
 * ring API, the test actors, the generated switch, the dispatch loop) for
 * sm_90: the CUDA leg of the single-source promise. libnvrtc is opened with
 * dlopen; the test is skipped, with the reason, where it is absent. No GPU
 * or driver is needed to compile. */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring/ring_internal.h"

extern const char gb_embed_ring_prelude[]; /* kernel_lang.h + queue + ring API, embedded */

typedef struct nvrtc {
    void *lib;
    int (*create)(void **, const char *, const char *, int, const char *const *, const char *const *);
    int (*compile)(void *, int, const char *const *);
    int (*log_size)(void *, size_t *);
    int (*log)(void *, char *);
    int (*cubin_size)(void *, size_t *);
    int (*destroy)(void **);
} nvrtc;

static int load(nvrtc *n)
{
    static const char *const names[] = {"libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12",
                                        "/usr/local/cuda/lib64/libnvrtc.so"};
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !n->lib; i++)
        n->lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!n->lib)
        return 0;
    *(void **)&n->create = dlsym(n->lib, "nvrtcCreateProgram");
    *(void **)&n->compile = dlsym(n->lib, "nvrtcCompileProgram");
    *(void **)&n->log_size = dlsym(n->lib, "nvrtcGetProgramLogSize");
    *(void **)&n->log = dlsym(n->lib, "nvrtcGetProgramLog");
    *(void **)&n->cubin_size = dlsym(n->lib, "nvrtcGetCUBINSize");
    *(void **)&n->destroy = dlsym(n->lib, "nvrtcDestroyProgram");
    return n->create && n->compile && n->log_size && n->log && n->cubin_size && n->destroy;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    static char buf[65536];
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    return buf;
}

/* Compile src with NVRTC; returns the result code, the log in *log. */
static int compile(nvrtc *n, const char *src, char **log, size_t *cubin)
{
    void *prog = NULL;
    cr_assert_eq(n->create(&prog, src, "gb_ring.cu", 0, NULL, NULL), 0);
    const char *const opts[] = {"--gpu-architecture=sm_90", "-default-device", "--std=c++17"};
    int rc = n->compile(prog, 3, opts);
    size_t len = 0;
    n->log_size(prog, &len);
    *log = calloc(1, len + 1);
    n->log(prog, *log);
    *cubin = 0;
    if (rc == 0)
        n->cubin_size(prog, cubin);
    n->destroy(&prog);
    return rc;
}

Test(nvrtc, ring_program_compiles_for_sm_90)
{
    nvrtc n = {0};
    if (!load(&n))
        cr_skip_test("libnvrtc (the CUDA toolkit's run-time compiler) is not installed here");
    static const gb_ring_actor_type types[2] = {{.name = "counter", .device_fn = "ta_counter_on_message"},
                                                {.name = "chain", .device_fn = "ta_chain_on_message"}};
    gb_ring_opts o = {.backend = "cuda", .types = types, .ntypes = 2,
                      .device_source = read_file(GB_SOURCE_DIR "/tests/ring/test_actors.gbk")};
    char *src = NULL;
    cr_assert_eq(gbi_ring_device_source(&o, &src), GB_OK);
    char *log = NULL;
    size_t cubin = 0;
    int rc = compile(&n, src, &log, &cubin);
    cr_assert_eq(rc, 0, "NVRTC failed (%d):\n%s", rc, log);
    cr_assert_gt(cubin, 1000, "an sm_90 cubin came out");
    cr_assert_not_null(strstr(src, "gb_ring_persistent"));
    free(log);
    free(src);
}

Test(nvrtc, every_atomic_of_the_dialect_compiles_for_sm_90)
{
    nvrtc n = {0};
    if (!load(&n))
        cr_skip_test("libnvrtc (the CUDA toolkit's run-time compiler) is not installed here");
    static char src[131072];
    size_t len = strlen(gb_embed_ring_prelude);
    memcpy(src, gb_embed_ring_prelude, len);
    strcpy(src + len, read_file(GB_SOURCE_DIR "/tests/device/dialect_check.gbk"));
    char *log = NULL;
    size_t cubin = 0;
    int rc = compile(&n, src, &log, &cubin);
    cr_assert_eq(rc, 0, "NVRTC failed (%d):\n%s", rc, log);
    cr_assert_gt(cubin, 1000);
    free(log);
}

Test(nvrtc, broken_source_is_refused_with_a_log)
{
    nvrtc n = {0};
    if (!load(&n))
        cr_skip_test("libnvrtc (the CUDA toolkit's run-time compiler) is not installed here");
    char *log = NULL;
    size_t cubin = 0;
    cr_assert_neq(compile(&n, "extern \"C\" __global__ void k() { undefined_thing(); }", &log, &cubin), 0);
    cr_assert_not_null(strstr(log, "undefined_thing"), "%s", log);
    free(log);
}
