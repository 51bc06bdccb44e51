/*
 * The cuda backend: the CUDA driver API (libcuda.so.1, installed with the
 * NVIDIA driver; GB_CUDA_LIBRARY overrides the path) and NVRTC (libnvrtc
 * from the CUDA toolkit; GB_NVRTC_LIBRARY overrides) opened with dlopen,
 * through our own declarations (cuda_api.h). What it does:
 *
 *   enumerate  cuDeviceGetCount / name / memory / SM count / compute
 *              capability; "shared memory" = can map host memory + UVA
 *   open       device 0, its primary context made current
 *   compile    NVRTC -> PTX (cached on disk by jit_cache.c) -> cuModuleLoadData
 *   launch     cuLaunchKernel(threads blocks of one thread), synchronise
 *   io_launch  cuMemAlloc + copies, blocks of 256 threads, synchronise
 *   buf_*      resident buffers: cuMemAlloc once, then cuMemcpy{HtoD,DtoH}Async
 *              on the work stream (so they are ordered with its kernels,
 *              unlike the NULL stream's copies) and one cuStreamSynchronize
 *              per call; launches as io_launch
 *   timer_ns   %globaltimer read by a one-thread kernel into mapped memory
 *   rings      memory: cuMemHostAlloc(PORTABLE | DEVICEMAP) (mapped pinned
 *              host memory; its device address must equal the host address,
 *              i.e. unified addressing). GB_RING_PERSISTENT launches
 *              gb_ring_persistent once (threads blocks of one thread, at most
 *              one per SM so all are resident) on the ring's own stream;
 *              GB_RING_EVENT_DRIVEN has a service thread launch gb_ring_event
 *              while messages are in flight; in both modes the service
 *              thread moves host overflow into the lanes (the service
 *              thread of ring_service.c, shared with OpenCL).
 *
 * Streams: every launch goes to a non-blocking stream of the instance and
 * waits on that stream only (never cuCtxSynchronize: the primary context
 * is shared, and a persistent ring kernel never finishes while it runs).
 * The context is made current on the calling thread before each call
 * (cuCtxSetCurrent), so any thread may use an instance, one at a time.
 *
 * Not verified on a GPU yet (no NVIDIA machine where this was written):
 * NVRTC and ptxas accept every program, and the declarations are checked
 * against cuda.h; system-scope atomics on mapped pinned memory need a
 * platform with PCIe atomics for the K2K compare-and-swap.
 * Without the driver, every entry point returns GB_ENOTSUP naming what to
 * install; NVRTC alone (gbi_cuda_ptx) works without a GPU.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "device/backend.h"
#include "device/cuda.h"
#include "device/cuda_api.h"
#include "device/dl_bind.h"
#include "device/jit_cache.h"
#include "device/ring_service.h"
#include "gpubridge/time.h"

#define CU_INSTALL_HINT "install the NVIDIA driver (it provides libcuda.so.1) on a machine with an NVIDIA GPU"
#define NVRTC_INSTALL_HINT "install the CUDA toolkit's NVRTC (libnvrtc.so, e.g. Debian nvidia-cuda-toolkit or " \
                           "/usr/local/cuda/lib64)"

const char gbi_cuda_timer_ptx[] =
    ".version 7.0\n"
    ".target sm_75\n"
    ".address_size 64\n"
    ".visible .entry gb_read_globaltimer(.param .u64 out)\n"
    "{\n"
    "    .reg .b64 %rd<3>;\n"
    "    ld.param.u64 %rd0, [out];\n"
    "    cvta.to.global.u64 %rd1, %rd0;\n"
    "    mov.u64 %rd2, %globaltimer;\n"
    "    st.global.u64 [%rd1], %rd2;\n"
    "    ret;\n"
    "}\n";

typedef struct cu_api {
    void *lib;
    gbcu_init_fn Init;
    gbcu_driver_version_fn DriverGetVersion;
    gbcu_device_count_fn DeviceGetCount;
    gbcu_device_get_fn DeviceGet;
    gbcu_device_name_fn DeviceGetName;
    gbcu_device_mem_fn DeviceTotalMem;
    gbcu_device_attr_fn DeviceGetAttribute;
    gbcu_ctx_retain_fn PrimaryCtxRetain;
    gbcu_ctx_release_fn PrimaryCtxRelease;
    gbcu_ctx_set_fn CtxSetCurrent;
    gbcu_stream_create_fn StreamCreate;
    gbcu_stream_sync_fn StreamSynchronize;
    gbcu_stream_destroy_fn StreamDestroy;
    gbcu_host_alloc_fn MemHostAlloc;
    gbcu_host_dptr_fn MemHostGetDevicePointer;
    gbcu_host_free_fn MemFreeHost;
    gbcu_mem_alloc_fn MemAlloc;
    gbcu_mem_free_fn MemFree;
    gbcu_htod_fn MemcpyHtoD;
    gbcu_dtoh_fn MemcpyDtoH;
    gbcu_htod_async_fn MemcpyHtoDAsync;
    gbcu_dtoh_async_fn MemcpyDtoHAsync;
    gbcu_module_load_fn ModuleLoadData;
    gbcu_module_unload_fn ModuleUnload;
    gbcu_module_fn_fn ModuleGetFunction;
    gbcu_launch_fn LaunchKernel;
    gbcu_error_string_fn GetErrorString;
} cu_api;

typedef struct nv_api {
    void *lib;
    gbnvrtc_version_fn Version;
    gbnvrtc_create_fn CreateProgram;
    gbnvrtc_compile_fn CompileProgram;
    gbnvrtc_size_fn GetPTXSize;
    gbnvrtc_get_fn GetPTX;
    gbnvrtc_size_fn GetProgramLogSize;
    gbnvrtc_get_fn GetProgramLog;
    gbnvrtc_destroy_fn DestroyProgram;
} nv_api;

/* The only global state: the two libraries, loaded once. */
static cu_api g_cu;
static nv_api g_nv;
static pthread_once_t g_cu_once = PTHREAD_ONCE_INIT, g_nv_once = PTHREAD_ONCE_INIT;
static char g_cu_why[512], g_nv_why[512];

#define SYM(api, field, name) {(void **)&api.field, name}

static void cu_load(void)
{
    const char *path = getenv("GB_CUDA_LIBRARY");
    path = path && *path ? path : "libcuda.so.1";
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(g_cu_why, sizeof g_cu_why, "%s not found (%s): %s", path, dlerror(), CU_INSTALL_HINT);
        return;
    }
    const gbi_dl_sym syms[] = {
        SYM(g_cu, Init, "cuInit"), SYM(g_cu, DriverGetVersion, "cuDriverGetVersion"),
        SYM(g_cu, DeviceGetCount, "cuDeviceGetCount"), SYM(g_cu, DeviceGet, "cuDeviceGet"),
        SYM(g_cu, DeviceGetName, "cuDeviceGetName"), SYM(g_cu, DeviceTotalMem, "cuDeviceTotalMem_v2"),
        SYM(g_cu, DeviceGetAttribute, "cuDeviceGetAttribute"),
        SYM(g_cu, PrimaryCtxRetain, "cuDevicePrimaryCtxRetain"),
        SYM(g_cu, PrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2"),
        SYM(g_cu, CtxSetCurrent, "cuCtxSetCurrent"), SYM(g_cu, StreamCreate, "cuStreamCreate"),
        SYM(g_cu, StreamSynchronize, "cuStreamSynchronize"), SYM(g_cu, StreamDestroy, "cuStreamDestroy_v2"),
        SYM(g_cu, MemHostAlloc, "cuMemHostAlloc"),
        SYM(g_cu, MemHostGetDevicePointer, "cuMemHostGetDevicePointer_v2"),
        SYM(g_cu, MemFreeHost, "cuMemFreeHost"), SYM(g_cu, MemAlloc, "cuMemAlloc_v2"),
        SYM(g_cu, MemFree, "cuMemFree_v2"), SYM(g_cu, MemcpyHtoD, "cuMemcpyHtoD_v2"),
        SYM(g_cu, MemcpyDtoH, "cuMemcpyDtoH_v2"), SYM(g_cu, MemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2"),
        SYM(g_cu, MemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2"), SYM(g_cu, ModuleLoadData, "cuModuleLoadData"),
        SYM(g_cu, ModuleUnload, "cuModuleUnload"), SYM(g_cu, ModuleGetFunction, "cuModuleGetFunction"),
        SYM(g_cu, LaunchKernel, "cuLaunchKernel"), SYM(g_cu, GetErrorString, "cuGetErrorString"),
    };
    const char *missing = gbi_dl_bind(lib, syms, sizeof syms / sizeof syms[0]);
    gbcu_result r = missing ? 0 : g_cu.Init(0);
    if (missing)
        snprintf(g_cu_why, sizeof g_cu_why, "%s has no %s (driver too old): %s", path, missing, CU_INSTALL_HINT);
    else if (r != GBCU_SUCCESS)
        snprintf(g_cu_why, sizeof g_cu_why, "cuInit failed (CUDA error %u%s): %s", r,
                 r == GBCU_ERROR_NO_DEVICE ? ", no CUDA device" : "", CU_INSTALL_HINT);
    else
        g_cu.lib = lib;
}

static void nv_load(void)
{
    static const char *const names[] = {"libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12",
                                        "/usr/local/cuda/lib64/libnvrtc.so"};
    const char *env = getenv("GB_NVRTC_LIBRARY");
    void *lib = env && *env ? dlopen(env, RTLD_NOW | RTLD_LOCAL) : NULL;
    for (size_t i = 0; !lib && !(env && *env) && i < sizeof names / sizeof names[0]; i++)
        lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(g_nv_why, sizeof g_nv_why, "libnvrtc not found: %s", NVRTC_INSTALL_HINT);
        return;
    }
    const gbi_dl_sym syms[] = {
        SYM(g_nv, Version, "nvrtcVersion"), SYM(g_nv, CreateProgram, "nvrtcCreateProgram"),
        SYM(g_nv, CompileProgram, "nvrtcCompileProgram"), SYM(g_nv, GetPTXSize, "nvrtcGetPTXSize"),
        SYM(g_nv, GetPTX, "nvrtcGetPTX"), SYM(g_nv, GetProgramLogSize, "nvrtcGetProgramLogSize"),
        SYM(g_nv, GetProgramLog, "nvrtcGetProgramLog"), SYM(g_nv, DestroyProgram, "nvrtcDestroyProgram"),
    };
    const char *missing = gbi_dl_bind(lib, syms, sizeof syms / sizeof syms[0]);
    if (missing)
        snprintf(g_nv_why, sizeof g_nv_why, "libnvrtc has no %s: %s", missing, NVRTC_INSTALL_HINT);
    else
        g_nv.lib = lib;
}

static gb_status cu_ready(const char *where)
{
    pthread_once(&g_cu_once, cu_load);
    return g_cu.lib ? GB_OK : gbi_error(GB_ENOTSUP, where, "%s", g_cu_why);
}

static gb_status cu_fail(const char *where, const char *what, gbcu_result r)
{
    const char *text = NULL;
    if (!g_cu.GetErrorString || g_cu.GetErrorString(r, &text) != GBCU_SUCCESS || !text)
        text = "unknown error";
    return gbi_error(r == 2u ? GB_ENOMEM : GB_EDEVICE, where, "%s failed: CUDA error %u (%s)", what, r, text);
}

/* ---- NVRTC: portable kernel C -> PTX ------------------------------------ */

#define NV_MAX_OPTS 32

/* Split options at spaces into opts after the fixed ones; buf holds the copy. */
static int nv_options(const char *arch, const char *options, char *buf, size_t cap, const char **opts)
{
    int n = 0;
    snprintf(buf, cap, "--gpu-architecture=%s", arch);
    opts[n++] = buf;
    size_t used = strlen(buf) + 1;
    opts[n++] = "-default-device";
    opts[n++] = "--std=c++17";
    if (!options || used >= cap)
        return n;
    snprintf(buf + used, cap - used, "%s", options);
    for (char *save = NULL, *t = strtok_r(buf + used, " \t", &save); t && n < NV_MAX_OPTS;
         t = strtok_r(NULL, " \t", &save))
        opts[n++] = t;
    return n;
}

static gb_status nv_log_error(gbnvrtc_program p, gbnvrtc_result r)
{
    size_t len = 0;
    char log[900] = "";
    g_nv.GetProgramLogSize(p, &len);
    char *full = len ? malloc(len + 1) : NULL;
    if (full && g_nv.GetProgramLog(p, full) == 0)
        snprintf(log, sizeof log, "%s", full);
    free(full);
    return gbi_error(GB_EPARSE, "cuda_compile", "NVRTC failed (%u): %s", r, log);
}

gb_status gbi_cuda_ptx(const char *source, const char *arch, const char *options, char **ptx)
{
    if (!source || !arch || !ptx)
        return gbi_error(GB_EINVAL, "cuda_compile", "NULL source, arch or output");
    pthread_once(&g_nv_once, nv_load);
    if (!g_nv.lib)
        return gbi_error(GB_ENOTSUP, "cuda_compile", "%s", g_nv_why);
    *ptx = NULL;
    char buf[1024];
    const char *opts[NV_MAX_OPTS];
    int nopts = nv_options(arch, options, buf, sizeof buf, opts);
    gbnvrtc_program p = NULL;
    if (g_nv.CreateProgram(&p, source, "gb_kernel.cu", 0, NULL, NULL) != 0)
        return gbi_error(GB_ENOMEM, "cuda_compile", "nvrtcCreateProgram failed");
    gb_status st = GB_OK;
    gbnvrtc_result r = g_nv.CompileProgram(p, nopts, opts);
    size_t len = 0;
    if (r != 0)
        st = nv_log_error(p, r);
    else if (g_nv.GetPTXSize(p, &len) != 0 || !(*ptx = malloc(len + 1)))
        st = gbi_error(GB_ENOMEM, "cuda_compile", "no memory for %zu bytes of PTX", len);
    else if (g_nv.GetPTX(p, *ptx) != 0)
        st = gbi_error(GB_EINTERNAL, "cuda_compile", "nvrtcGetPTX failed");
    if (st == GB_OK)
        (*ptx)[len] = '\0';
    else if (r == 0 && *ptx) {
        free(*ptx);
        *ptx = NULL;
    }
    g_nv.DestroyProgram(&p);
    return st;
}

/* ---- devices ------------------------------------------------------------ */

static int cu_attr(gbcu_attr a, gbcu_device dev)
{
    int v = 0;
    return g_cu.DeviceGetAttribute(&v, a, dev) == GBCU_SUCCESS ? v : 0;
}

static void cu_describe_dev(gbcu_device dev, gbi_device_info *out)
{
    memset(out, 0, sizeof *out);
    g_cu.DeviceGetName(out->name, (int)sizeof out->name - 1, dev);
    snprintf(out->version, sizeof out->version, "compute capability %d.%d", cu_attr(GBCU_ATTR_CC_MAJOR, dev),
             cu_attr(GBCU_ATTR_CC_MINOR, dev));
    out->compute_units = (uint32_t)cu_attr(GBCU_ATTR_MULTIPROCESSOR_COUNT, dev);
    out->fine_grain_svm = cu_attr(GBCU_ATTR_CAN_MAP_HOST_MEMORY, dev) && cu_attr(GBCU_ATTR_UNIFIED_ADDRESSING, dev);
    int v = 0;
    g_cu.DriverGetVersion(&v);
    snprintf(out->driver, sizeof out->driver, "CUDA %d.%d", v / 1000, v % 1000 / 10);
    size_t mem = 0;
    g_cu.DeviceTotalMem(&mem, dev);
    out->global_mem = mem;
    out->timer_resolution_ns = 1000; /* %globaltimer: ns units, about 1 us updates (conservative) */
}

static gb_status cu_enumerate(gbi_device_info *out, uint32_t cap, uint32_t *count)
{
    *count = 0;
    gb_status st = cu_ready("cuda_enumerate");
    if (st != GB_OK)
        return st;
    int n = 0;
    gbcu_result r = g_cu.DeviceGetCount(&n);
    if (r != GBCU_SUCCESS || n == 0)
        return gbi_error(GB_ENOTSUP, "cuda_enumerate", "no CUDA device (CUDA error %u): %s", r,
                         CU_INSTALL_HINT);
    for (int i = 0; i < n; i++, (*count)++) {
        gbcu_device dev;
        if (*count < cap && g_cu.DeviceGet(&dev, i) == GBCU_SUCCESS)
            cu_describe_dev(dev, &out[*count]);
    }
    return GB_OK;
}

typedef struct cu_dev {
    gbcu_device dev;
    gbcu_context ctx;
    gbcu_stream work;     /* launches, timer reads, copies' kernels */
    gbcu_stream ring_stream; /* the ring's kernels */
    gbcu_module mod, timer_mod;
    gbcu_function timer_fn, k_persistent, k_event;
    uint64_t *timer_word; /* mapped pinned host memory */
    gbi_device_info info;
    char arch[16];        /* "compute_90" */
    gbi_ring_service svc; /* the running ring's service thread */
} cu_dev;

static gb_status cu_current(cu_dev *d, const char *where)
{
    gbcu_result r = g_cu.CtxSetCurrent(d->ctx);
    return r == GBCU_SUCCESS ? GB_OK : cu_fail(where, "cuCtxSetCurrent", r);
}

static void cu_destroy(void *self)
{
    cu_dev *d = self;
    if (!d)
        return;
    if (d->ctx && cu_current(d, "cuda_destroy") == GB_OK) {
        if (d->mod)
            g_cu.ModuleUnload(d->mod);
        if (d->timer_mod)
            g_cu.ModuleUnload(d->timer_mod);
        if (d->timer_word)
            g_cu.MemFreeHost(d->timer_word);
        if (d->work)
            g_cu.StreamDestroy(d->work);
        if (d->ring_stream)
            g_cu.StreamDestroy(d->ring_stream);
    }
    if (d->ctx)
        g_cu.PrimaryCtxRelease(d->dev);
    gbi_ring_service_destroy(&d->svc);
    free(d);
}

/* The streams, the timer module and its mapped result word. */
static gb_status cu_init_instance(cu_dev *d)
{
    gbcu_result r = g_cu.StreamCreate(&d->work, GBCU_STREAM_NON_BLOCKING);
    if (r == GBCU_SUCCESS)
        r = g_cu.StreamCreate(&d->ring_stream, GBCU_STREAM_NON_BLOCKING);
    if (r == GBCU_SUCCESS)
        r = g_cu.ModuleLoadData(&d->timer_mod, gbi_cuda_timer_ptx);
    if (r == GBCU_SUCCESS)
        r = g_cu.ModuleGetFunction(&d->timer_fn, d->timer_mod, "gb_read_globaltimer");
    if (r == GBCU_SUCCESS)
        r = g_cu.MemHostAlloc((void **)&d->timer_word, sizeof(uint64_t),
                              GBCU_MEMHOSTALLOC_PORTABLE | GBCU_MEMHOSTALLOC_DEVICEMAP);
    return r == GBCU_SUCCESS ? GB_OK : cu_fail("cuda_open", "creating streams and the timer kernel", r);
}

static gb_status cu_service_enter(void *self);
static gb_status cu_drain(void *self, gb_ring *r);

static const gbi_ring_service_ops cu_service_ops = {.enter = cu_service_enter, .drain = cu_drain};

static cu_dev *cu_alloc(void)
{
    cu_dev *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    gbi_ring_service_init(&d->svc, &cu_service_ops, d);
    return d;
}

static gb_status cu_open(void **self)
{
    gb_status st = cu_ready("cuda_open");
    if (st != GB_OK)
        return st;
    cu_dev *d = cu_alloc();
    if (!d)
        return gbi_error(GB_ENOMEM, "cuda_open", "no memory");
    gbcu_result r = g_cu.DeviceGet(&d->dev, 0);
    if (r == GBCU_SUCCESS && (r = g_cu.PrimaryCtxRetain(&d->ctx, d->dev)) != GBCU_SUCCESS)
        d->ctx = NULL;
    if (r != GBCU_SUCCESS) {
        cu_destroy(d);
        return cu_fail("cuda_open", "opening device 0", r);
    }
    cu_describe_dev(d->dev, &d->info);
    snprintf(d->arch, sizeof d->arch, "compute_%d%d", cu_attr(GBCU_ATTR_CC_MAJOR, d->dev),
             cu_attr(GBCU_ATTR_CC_MINOR, d->dev));
    if ((st = cu_current(d, "cuda_open")) != GB_OK || (st = cu_init_instance(d)) != GB_OK) {
        cu_destroy(d);
        return st;
    }
    *self = d;
    return GB_OK;
}

/* PTX for source on d: from the kernel cache, or NVRTC then stored. */
static gb_status cu_ptx(cu_dev *d, const char *source, const char *options, char **ptx)
{
    uint64_t key = gbi_jit_key("cuda", source, options, d->info.name, d->arch, d->info.driver);
    size_t len = 0;
    void *cached = NULL;
    if (gbi_jit_load("cuda", key, &cached, &len) == GB_OK) {
        char *p = realloc(cached, len + 1);
        if (!p) {
            free(cached);
            return gbi_error(GB_ENOMEM, "cuda_compile", "no memory");
        }
        p[len] = '\0';
        *ptx = p;
        return GB_OK;
    }
    gb_status st = gbi_cuda_ptx(source, d->arch, options, ptx);
    if (st == GB_OK && gbi_jit_store("cuda", key, *ptx, strlen(*ptx)) != GB_OK)
        gb_clear_error();
    return st;
}

static gb_status cu_compile(void *self, const char *source, const char *options)
{
    cu_dev *d = self;
    if (d->mod)
        return gbi_error(GB_EBUSY, "cuda_compile", "this instance already has a program");
    char *ptx = NULL;
    gb_status st = cu_ptx(d, source, options, &ptx);
    if (st != GB_OK)
        return st;
    if ((st = cu_current(d, "cuda_compile")) == GB_OK) {
        gbcu_result r = g_cu.ModuleLoadData(&d->mod, ptx);
        if (r != GBCU_SUCCESS)
            st = cu_fail("cuda_compile", "cuModuleLoadData of the PTX", r);
    }
    free(ptx);
    return st;
}

static gb_status cu_function(cu_dev *d, const char *kernel, gbcu_function *f)
{
    if (!d->mod)
        return gbi_error(GB_EINVAL, "cuda_launch", "no program compiled");
    if (g_cu.ModuleGetFunction(f, d->mod, kernel) != GBCU_SUCCESS)
        return gbi_error(GB_ENOENT, "cuda_launch", "no kernel '%s' in the program", kernel);
    return GB_OK;
}

/* f(ptr) over `blocks` blocks of one thread on stream s; waits when wait. */
static gbcu_result cu_launch_ptr(gbcu_function f, void *host_ptr, uint32_t blocks, gbcu_stream s, int wait)
{
    gbcu_dptr p = 0;
    gbcu_result r = g_cu.MemHostGetDevicePointer(&p, host_ptr, 0);
    void *params[] = {&p};
    if (r == GBCU_SUCCESS)
        r = g_cu.LaunchKernel(f, blocks, 1, 1, 1, 1, 1, 0, s, params, NULL);
    if (r == GBCU_SUCCESS && wait)
        r = g_cu.StreamSynchronize(s);
    return r;
}

static gb_status cu_launch(void *self, const char *kernel, void *arg, uint32_t threads)
{
    cu_dev *d = self;
    gbcu_function f;
    gb_status st = cu_current(d, "cuda_launch");
    if (st != GB_OK || (st = cu_function(d, kernel, &f)) != GB_OK)
        return st;
    gbcu_result r = cu_launch_ptr(f, arg, threads, d->work, 1);
    return r == GBCU_SUCCESS ? GB_OK : cu_fail("cuda_launch", kernel, r);
}

static gbcu_result cu_run_io(cu_dev *d, gbcu_function f, gbcu_dptr din, gbcu_dptr dout, uint32_t count)
{
    unsigned int n = count;
    void *params[] = {&din, &dout, &n};
    gbcu_result r = g_cu.LaunchKernel(f, (count + 255) / 256, 1, 1, 256, 1, 1, 0, d->work, params, NULL);
    return r == GBCU_SUCCESS ? g_cu.StreamSynchronize(d->work) : r;
}

static gb_status cu_io_launch(void *self, const char *kernel, const void *in, size_t in_bytes, void *out,
                              size_t out_bytes, uint32_t count)
{
    cu_dev *d = self;
    gbcu_function f;
    gb_status st = cu_current(d, "cuda_launch");
    if (st != GB_OK || (st = cu_function(d, kernel, &f)) != GB_OK)
        return st;
    gbcu_dptr din = 0, dout = 0;
    gbcu_result r = g_cu.MemAlloc(&din, in_bytes);
    if (r == GBCU_SUCCESS)
        r = g_cu.MemAlloc(&dout, out_bytes);
    if (r != GBCU_SUCCESS)
        st = cu_fail("cuda_launch", "cuMemAlloc", r);
    /* the synchronous copies are ordered by the legacy NULL stream, which
     * does not wait for our non-blocking streams (so a running ring does
     * not block them); the kernel waits on d->work in between */
    if (st == GB_OK && (r = g_cu.MemcpyHtoD(din, in, in_bytes)) == GBCU_SUCCESS &&
        (r = cu_run_io(d, f, din, dout, count)) == GBCU_SUCCESS)
        r = g_cu.MemcpyDtoH(out, dout, out_bytes);
    if (st == GB_OK && r != GBCU_SUCCESS)
        st = cu_fail("cuda_launch", kernel, r);
    if (dout)
        g_cu.MemFree(dout);
    if (din)
        g_cu.MemFree(din);
    return st;
}

/* ---- resident buffers ---------------------------------------------------- */

struct gbi_buf {
    gbcu_dptr ptr;
    size_t bytes;
};

static gb_status cu_buf_alloc(void *self, size_t bytes, gbi_buf **out)
{
    cu_dev *d = self;
    if (!out || bytes == 0)
        return gbi_error(GB_EINVAL, "cuda_buf_alloc", "NULL out or zero bytes");
    gb_status st = cu_current(d, "cuda_buf_alloc");
    if (st != GB_OK)
        return st;
    gbi_buf *b = calloc(1, sizeof *b);
    if (!b)
        return gbi_error(GB_ENOMEM, "cuda_buf_alloc", "no memory");
    gbcu_result r = g_cu.MemAlloc(&b->ptr, bytes);
    if (r != GBCU_SUCCESS) {
        free(b);
        return cu_fail("cuda_buf_alloc", "cuMemAlloc", r);
    }
    b->bytes = bytes;
    *out = b;
    return GB_OK;
}

static void cu_buf_free(void *self, gbi_buf *b)
{
    cu_dev *d = self;
    if (b && b->ptr && cu_current(d, "cuda_buf_free") == GB_OK)
        g_cu.MemFree(b->ptr);
    else if (b && b->ptr)
        gb_clear_error(); /* the context is gone: so is the memory */
    free(b);
}

/* Every range as an async copy on the work stream, then one synchronise
 * (also after a failed enqueue: the earlier copies use the ranges' memory). */
static gb_status cu_buf_copy(cu_dev *d, gbi_buf *b, const gbi_buf_range *r, uint32_t n, int write,
                             const char *where)
{
    if (!b || (n && !r) || !gbi_buf_ranges_ok(r, n, b->bytes))
        return gbi_error(GB_EINVAL, where, "NULL buffer or a range outside its %zu bytes", b ? b->bytes : 0);
    gb_status st = cu_current(d, where);
    if (st != GB_OK)
        return st;
    gbcu_result res = GBCU_SUCCESS;
    for (uint32_t i = 0; i < n && res == GBCU_SUCCESS; i++) {
        if (!r[i].bytes)
            continue;
        if (write)
            res = g_cu.MemcpyHtoDAsync(b->ptr + r[i].off, r[i].host, r[i].bytes, d->work);
        else
            res = g_cu.MemcpyDtoHAsync(r[i].host, b->ptr + r[i].off, r[i].bytes, d->work);
    }
    gbcu_result fin = g_cu.StreamSynchronize(d->work);
    res = res != GBCU_SUCCESS ? res : fin;
    return res == GBCU_SUCCESS ? GB_OK
                               : cu_fail(where, write ? "cuMemcpyHtoDAsync" : "cuMemcpyDtoHAsync", res);
}

static gb_status cu_buf_write(void *self, gbi_buf *b, const gbi_buf_range *r, uint32_t n)
{
    return cu_buf_copy(self, b, r, n, 1, "cuda_buf_write");
}

static gb_status cu_buf_read(void *self, gbi_buf *b, const gbi_buf_range *r, uint32_t n)
{
    return cu_buf_copy(self, b, r, n, 0, "cuda_buf_read");
}

static gb_status cu_buf_launch(void *self, const char *kernel, gbi_native_kernel native, gbi_buf *in,
                               gbi_buf *out, uint32_t count)
{
    cu_dev *d = self;
    gbcu_function f;
    if (!in || !out)
        return gbi_error(GB_EINVAL, "cuda_buf_launch", "NULL buffer");
    gb_status st = cu_current(d, "cuda_buf_launch");
    if (st != GB_OK || (st = cu_function(d, kernel, &f)) != GB_OK || count == 0)
        return st;
    gbcu_result r = cu_run_io(d, f, in->ptr, out->ptr, count);
    return r == GBCU_SUCCESS ? GB_OK : cu_fail("cuda_buf_launch", kernel, r);
}

/* %globaltimer in ns, or -1 when the read failed (no host fallback: the
 * two clocks have different epochs). */
static int64_t cu_timer(void *self)
{
    cu_dev *d = self;
    if (cu_current(d, "cuda_timer") != GB_OK) {
        gb_clear_error();
        return -1;
    }
    if (cu_launch_ptr(d->timer_fn, d->timer_word, 1, d->work, 1) != GBCU_SUCCESS)
        return -1;
    return (int64_t)atomic_load_explicit((_Atomic uint64_t *)d->timer_word, memory_order_acquire);
}

static void cu_describe(void *self, gbi_device_info *out)
{
    *out = ((cu_dev *)self)->info;
}

/* ---- ring memory ---------------------------------------------------------- */

static gb_status cu_shm_alloc(void *self, size_t bytes, void **out)
{
    cu_dev *d = self;
    gb_status st = cu_current(d, "cuda_alloc");
    if (st != GB_OK)
        return st;
    void *p = NULL;
    gbcu_dptr dp = 0;
    gbcu_result r = g_cu.MemHostAlloc(&p, bytes, GBCU_MEMHOSTALLOC_PORTABLE | GBCU_MEMHOSTALLOC_DEVICEMAP);
    if (r != GBCU_SUCCESS)
        return cu_fail("cuda_alloc", "cuMemHostAlloc of mapped pinned memory", r);
    r = g_cu.MemHostGetDevicePointer(&dp, p, 0);
    if (r != GBCU_SUCCESS || dp != (gbcu_dptr)(uintptr_t)p) {
        g_cu.MemFreeHost(p);
        return gbi_error(GB_ENOTSUP, "cuda_alloc", "mapped host memory has a different device address "
                         "(no unified addressing): rings need the same address on both sides");
    }
    if ((uintptr_t)p % 128) {
        g_cu.MemFreeHost(p);
        return gbi_error(GB_EINTERNAL, "cuda_alloc", "cuMemHostAlloc returned memory not 128-byte aligned");
    }
    memset(p, 0, bytes);
    *out = p;
    return GB_OK;
}

static void cu_shm_free(void *self, void *p)
{
    cu_dev *d = self;
    if (cu_current(d, "cuda_free") == GB_OK)
        g_cu.MemFreeHost(p);
    else
        gb_clear_error();
}

/* ---- rings: the service thread's launches (ring_service.c runs it) ---------- */

/* The service thread runs in the device's context. */
static gb_status cu_service_enter(void *self)
{
    cu_dev *d = self;
    return g_cu.CtxSetCurrent(d->ctx) == GBCU_SUCCESS ? GB_OK : GB_EDEVICE;
}

/* One event-driven drain of r on the ring stream, waited for. */
static gb_status cu_drain(void *self, gb_ring *r)
{
    cu_dev *d = self;
    return cu_launch_ptr(d->k_event, r->shm, r->shm->threads, d->ring_stream, 1) == GBCU_SUCCESS ? GB_OK
                                                                                                : GB_EDEVICE;
}

static gb_status cu_ring_kernels(cu_dev *d, gb_ring *ring)
{
    if (cu_function(d, "gb_ring_persistent", &d->k_persistent) != GB_OK ||
        cu_function(d, "gb_ring_event", &d->k_event) != GB_OK)
        return gbi_error(GB_EDEVICE, "cuda_ring_start", "the ring kernels are missing from the module");
    /* every polling block must be resident at once: at most one per SM */
    if (ring->opts.mode == GB_RING_PERSISTENT && ring->shm->threads > d->info.compute_units)
        return gbi_error(GB_EINVAL, "cuda_ring_start",
                         "a persistent ring needs threads (%u) <= SMs (%u) on this device", ring->shm->threads,
                         d->info.compute_units);
    return GB_OK;
}

static gb_status cu_ring_start(void *self, gb_ring *ring)
{
    cu_dev *d = self;
    gb_status st = cu_current(d, "cuda_ring_start");
    if (st != GB_OK || (st = cu_ring_kernels(d, ring)) != GB_OK)
        return st;
    if (ring->opts.mode == GB_RING_PERSISTENT) {
        gbcu_result r = cu_launch_ptr(d->k_persistent, ring->shm, ring->shm->threads, d->ring_stream, 0);
        if (r != GBCU_SUCCESS)
            return cu_fail("cuda_ring_start", "launching gb_ring_persistent", r);
    }
    if (gbi_ring_service_start(&d->svc, ring) != 0) {
        gb_atomic_store_seq_cst(&ring->shm->control, GB_RING_CTL_ABORT);
        g_cu.StreamSynchronize(d->ring_stream);
        return gbi_error(GB_EDEVICE, "cuda_ring_start", "could not start the service thread");
    }
    return GB_OK;
}

static void cu_kick(void *self, uint32_t lane)
{
    cu_dev *d = self;
    gbi_ring_service_kick(&d->svc, lane);
}

static gb_status cu_ring_stop(void *self)
{
    cu_dev *d = self;
    gbi_ring_service_stop(&d->svc);
    gb_status st = cu_current(d, "cuda_ring_stop");
    if (st != GB_OK)
        return st;
    gbcu_result r = g_cu.StreamSynchronize(d->ring_stream); /* the persistent kernel saw the control word */
    if (r != GBCU_SUCCESS)
        return cu_fail("cuda_ring_stop", "waiting for the ring kernel", r);
    if (gbi_ring_service_status(&d->svc) != GB_OK)
        return gbi_error(GB_EDEVICE, "cuda_ring_stop", "an event-driven launch failed");
    return GB_OK;
}

static gb_status cu_health(void *self)
{
    cu_dev *d = self;
    return gbi_ring_service_health(&d->svc, "cuda_ring");
}

static const gbi_ring_exec_ops cu_ring_ops = {
    .name = "cuda",
    .shm_alloc = cu_shm_alloc,
    .shm_free = cu_shm_free,
    .start = cu_ring_start,
    .kick = cu_kick,
    .stop = cu_ring_stop,
    .health = cu_health,
    .destroy = cu_destroy,
};

const gbi_backend_ops gbi_backend_cuda = {
    .name = "cuda",
    .enumerate = cu_enumerate,
    .open = cu_open,
    .compile = cu_compile,
    .launch = cu_launch,
    .timer_ns = cu_timer,
    .io_launch = cu_io_launch,
    .buf_alloc = cu_buf_alloc,
    .buf_free = cu_buf_free,
    .buf_write = cu_buf_write,
    .buf_read = cu_buf_read,
    .buf_launch = cu_buf_launch,
    .describe = cu_describe,
    .ring = &cu_ring_ops,
};
