/*
 * The opencl backend: libOpenCL.so.1 (the ICD loader) opened with dlopen at
 * run time, so the library has no link-time OpenCL dependency. The Khronos
 * headers give types and constants only; every entry point is reached
 * through the function pointers of ocl_api, loaded once per process.
 *
 * Rings run over fine-grain SVM with atomics (host and device touch the
 * same bytes concurrently): the program is the ring's portable source
 * (src/ring/ring_source.c) built with -cl-std=CL3.0. GB_RING_PERSISTENT
 * launches gb_ring_persistent once (threads work-groups of size 1: a
 * work-group's items may be run one after another, so a polling item must
 * be alone in its group) and it polls until the control word says stop;
 * GB_RING_EVENT_DRIVEN has a host service thread launch gb_ring_event, a
 * drain of what is queued, whenever messages are in flight. In both modes
 * the service thread also moves host overflow lists into the lanes (the
 * thread is ring_service.c, shared with the cuda backend).
 *
 * PoCL notes: its CPU device has as many worker threads as cores, and a
 * persistent kernel occupies one of them for its whole life; it sees host
 * writes to fine-grain SVM while it runs. Set POCL_CACHE_DIR to a folder of
 * your build tree (CTest does it for the tests).
 *
 * Programs are cached on disk by our own kernel cache (jit_cache.c): a
 * built program's binary (CL_PROGRAM_BINARIES) is stored under a key of
 * source, options, device and driver, and a later compile of the same key
 * builds from that binary (clCreateProgramWithBinary) instead of the source.
 * Offload (io_launch) uses device buffers (clCreateBuffer) with explicit
 * copies, so it also works on devices without SVM. Resident buffers
 * (buf_*) are clCreateBuffer objects kept by the caller across launches;
 * their copies are enqueued non-blocking on the instance's in-order queue
 * and waited for with one clFinish per call.
 */
#define CL_TARGET_OPENCL_VERSION 300
#include <CL/cl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "device/backend.h"
#include "device/dl_bind.h"
#include "device/jit_cache.h"
#include "device/ring_service.h"
#include "gpubridge/time.h"

#define OCL_INSTALL_HINT "install an OpenCL ICD loader and driver (Debian: ocl-icd-libopencl1 and pocl-opencl-icd for OpenCL on the CPU, or a GPU vendor's ICD)"

typedef void(CL_CALLBACK *ocl_ctx_notify)(const char *, const void *, size_t, void *);
typedef void(CL_CALLBACK *ocl_build_notify)(cl_program, void *);

/* The entry points we use (the only global state: a lazily loaded library). */
typedef struct ocl_api {
    void *lib;
    cl_int (*GetPlatformIDs)(cl_uint, cl_platform_id *, cl_uint *);
    cl_int (*GetDeviceIDs)(cl_platform_id, cl_device_type, cl_uint, cl_device_id *, cl_uint *);
    cl_int (*GetDeviceInfo)(cl_device_id, cl_device_info, size_t, void *, size_t *);
    cl_context (*CreateContext)(const cl_context_properties *, cl_uint, const cl_device_id *, ocl_ctx_notify,
                                void *, cl_int *);
    cl_command_queue (*CreateCommandQueueWithProperties)(cl_context, cl_device_id, const cl_queue_properties *,
                                                         cl_int *);
    cl_program (*CreateProgramWithSource)(cl_context, cl_uint, const char **, const size_t *, cl_int *);
    cl_int (*BuildProgram)(cl_program, cl_uint, const cl_device_id *, const char *, ocl_build_notify, void *);
    cl_int (*GetProgramBuildInfo)(cl_program, cl_device_id, cl_program_build_info, size_t, void *, size_t *);
    cl_kernel (*CreateKernel)(cl_program, const char *, cl_int *);
    cl_int (*SetKernelArgSVMPointer)(cl_kernel, cl_uint, const void *);
    cl_int (*EnqueueNDRangeKernel)(cl_command_queue, cl_kernel, cl_uint, const size_t *, const size_t *,
                                   const size_t *, cl_uint, const cl_event *, cl_event *);
    cl_int (*Flush)(cl_command_queue);
    cl_int (*Finish)(cl_command_queue);
    void *(*SVMAlloc)(cl_context, cl_svm_mem_flags, size_t, cl_uint);
    void (*SVMFree)(cl_context, void *);
    cl_int (*ReleaseKernel)(cl_kernel);
    cl_int (*ReleaseProgram)(cl_program);
    cl_int (*ReleaseCommandQueue)(cl_command_queue);
    cl_int (*ReleaseContext)(cl_context);
    cl_mem (*CreateBuffer)(cl_context, cl_mem_flags, size_t, void *, cl_int *);
    cl_int (*EnqueueWriteBuffer)(cl_command_queue, cl_mem, cl_bool, size_t, size_t, const void *, cl_uint,
                                 const cl_event *, cl_event *);
    cl_int (*EnqueueReadBuffer)(cl_command_queue, cl_mem, cl_bool, size_t, size_t, void *, cl_uint,
                                const cl_event *, cl_event *);
    cl_int (*SetKernelArg)(cl_kernel, cl_uint, size_t, const void *);
    cl_int (*ReleaseMemObject)(cl_mem);
    cl_int (*GetProgramInfo)(cl_program, cl_program_info, size_t, void *, size_t *);
    cl_program (*CreateProgramWithBinary)(cl_context, cl_uint, const cl_device_id *, const size_t *,
                                          const unsigned char **, cl_int *, cl_int *);
} ocl_api;

static ocl_api g_cl;
static pthread_once_t g_cl_once = PTHREAD_ONCE_INIT;
static char g_cl_why[512];

#define OCL_SYM(field, name) {(void **)&g_cl.field, name}

static void ocl_load(void)
{
    const char *path = getenv("GB_OPENCL_LIBRARY");
    path = path && *path ? path : "libOpenCL.so.1";
    g_cl.lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!g_cl.lib) {
        snprintf(g_cl_why, sizeof g_cl_why, "cannot open %s (%s): %s", path, dlerror(), OCL_INSTALL_HINT);
        return;
    }
    const gbi_dl_sym syms[] = {
        OCL_SYM(GetPlatformIDs, "clGetPlatformIDs"), OCL_SYM(GetDeviceIDs, "clGetDeviceIDs"),
        OCL_SYM(GetDeviceInfo, "clGetDeviceInfo"), OCL_SYM(CreateContext, "clCreateContext"),
        OCL_SYM(CreateCommandQueueWithProperties, "clCreateCommandQueueWithProperties"),
        OCL_SYM(CreateProgramWithSource, "clCreateProgramWithSource"), OCL_SYM(BuildProgram, "clBuildProgram"),
        OCL_SYM(GetProgramBuildInfo, "clGetProgramBuildInfo"), OCL_SYM(CreateKernel, "clCreateKernel"),
        OCL_SYM(SetKernelArgSVMPointer, "clSetKernelArgSVMPointer"),
        OCL_SYM(EnqueueNDRangeKernel, "clEnqueueNDRangeKernel"), OCL_SYM(Flush, "clFlush"),
        OCL_SYM(Finish, "clFinish"), OCL_SYM(SVMAlloc, "clSVMAlloc"), OCL_SYM(SVMFree, "clSVMFree"),
        OCL_SYM(ReleaseKernel, "clReleaseKernel"), OCL_SYM(ReleaseProgram, "clReleaseProgram"),
        OCL_SYM(ReleaseCommandQueue, "clReleaseCommandQueue"), OCL_SYM(ReleaseContext, "clReleaseContext"),
        OCL_SYM(CreateBuffer, "clCreateBuffer"), OCL_SYM(EnqueueWriteBuffer, "clEnqueueWriteBuffer"),
        OCL_SYM(EnqueueReadBuffer, "clEnqueueReadBuffer"), OCL_SYM(SetKernelArg, "clSetKernelArg"),
        OCL_SYM(ReleaseMemObject, "clReleaseMemObject"), OCL_SYM(GetProgramInfo, "clGetProgramInfo"),
        OCL_SYM(CreateProgramWithBinary, "clCreateProgramWithBinary"),
    };
    const char *missing = gbi_dl_bind(g_cl.lib, syms, sizeof syms / sizeof syms[0]);
    if (missing) {
        snprintf(g_cl_why, sizeof g_cl_why, "%s has no %s (an OpenCL 2.0+ loader is needed): %s", path, missing,
                 OCL_INSTALL_HINT);
        g_cl.lib = NULL; /* unusable; the handle stays open, like any loaded library */
    }
}

static gb_status ocl_ready(const char *where)
{
    pthread_once(&g_cl_once, ocl_load);
    if (!g_cl.lib)
        return gbi_error(GB_ENOTSUP, where, "%s", g_cl_why);
    return GB_OK;
}

/* The first device of the first platform that has one. */
static gb_status ocl_first_device(cl_device_id *dev)
{
    cl_platform_id plats[16];
    cl_uint np = 0;
    if (g_cl.GetPlatformIDs(16, plats, &np) != CL_SUCCESS || np == 0)
        return gbi_error(GB_ENOTSUP, "opencl", "the OpenCL loader found no platform: %s", OCL_INSTALL_HINT);
    for (cl_uint p = 0; p < np && p < 16; p++) {
        cl_uint nd = 0;
        if (g_cl.GetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 1, dev, &nd) == CL_SUCCESS && nd > 0)
            return GB_OK;
    }
    return gbi_error(GB_ENOTSUP, "opencl", "OpenCL platforms have no device: %s", OCL_INSTALL_HINT);
}

static void ocl_describe(cl_device_id d, gbi_device_info *out)
{
    memset(out, 0, sizeof *out);
    g_cl.GetDeviceInfo(d, CL_DEVICE_NAME, sizeof out->name - 1, out->name, NULL);
    g_cl.GetDeviceInfo(d, CL_DEVICE_VERSION, sizeof out->version - 1, out->version, NULL);
    cl_uint cu = 0;
    g_cl.GetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
    out->compute_units = cu;
    cl_device_svm_capabilities svm = 0;
    g_cl.GetDeviceInfo(d, CL_DEVICE_SVM_CAPABILITIES, sizeof svm, &svm, NULL);
    out->fine_grain_svm = (svm & CL_DEVICE_SVM_FINE_GRAIN_BUFFER) && (svm & CL_DEVICE_SVM_ATOMICS);
    g_cl.GetDeviceInfo(d, CL_DRIVER_VERSION, sizeof out->driver - 1, out->driver, NULL);
    cl_ulong mem = 0;
    g_cl.GetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, NULL);
    out->global_mem = mem;
    size_t res = 0;
    g_cl.GetDeviceInfo(d, CL_DEVICE_PROFILING_TIMER_RESOLUTION, sizeof res, &res, NULL);
    out->timer_resolution_ns = res ? (int64_t)res : 1;
}

static gb_status ocl_enumerate(gbi_device_info *out, uint32_t cap, uint32_t *count)
{
    *count = 0;
    gb_status st = ocl_ready("opencl_enumerate");
    if (st != GB_OK)
        return st;
    cl_platform_id plats[16];
    cl_uint np = 0;
    if (g_cl.GetPlatformIDs(16, plats, &np) != CL_SUCCESS || np == 0)
        return gbi_error(GB_ENOTSUP, "opencl_enumerate", "no OpenCL platform: %s", OCL_INSTALL_HINT);
    for (cl_uint p = 0; p < np && p < 16; p++) {
        cl_device_id devs[16];
        cl_uint nd = 0;
        if (g_cl.GetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 16, devs, &nd) != CL_SUCCESS)
            continue;
        for (cl_uint i = 0; i < nd && i < 16; i++, (*count)++)
            if (*count < cap)
                ocl_describe(devs[i], &out[*count]);
    }
    return GB_OK;
}

/* ---- one opened device, one program, one ring ------------------------- */

typedef struct ocl_dev {
    cl_device_id dev;
    cl_context ctx;
    cl_command_queue q;
    cl_program prog;
    cl_kernel k_persistent, k_event;
    cl_kernel k_io; /* the offload kernel last used, named k_io_name */
    char k_io_name[128];
    gbi_device_info info;
    uint32_t compute_units;
    gbi_ring_service svc; /* the running ring's service thread */
} ocl_dev;

static gb_status ocl_drain(void *self, gb_ring *r);

static const gbi_ring_service_ops ocl_service_ops = {.enter = NULL, .drain = ocl_drain};

static void ocl_destroy(void *self)
{
    ocl_dev *d = self;
    if (!d)
        return;
    if (d->k_persistent)
        g_cl.ReleaseKernel(d->k_persistent);
    if (d->k_event)
        g_cl.ReleaseKernel(d->k_event);
    if (d->k_io)
        g_cl.ReleaseKernel(d->k_io);
    if (d->prog)
        g_cl.ReleaseProgram(d->prog);
    if (d->q)
        g_cl.ReleaseCommandQueue(d->q);
    if (d->ctx)
        g_cl.ReleaseContext(d->ctx);
    gbi_ring_service_destroy(&d->svc);
    free(d);
}

static gb_status ocl_open(void **self)
{
    gb_status st = ocl_ready("opencl_open");
    if (st != GB_OK)
        return st;
    ocl_dev *d = calloc(1, sizeof *d);
    if (!d)
        return gbi_error(GB_ENOMEM, "opencl_open", "no memory");
    gbi_ring_service_init(&d->svc, &ocl_service_ops, d);
    gbi_device_info info;
    cl_int err = CL_SUCCESS;
    if ((st = ocl_first_device(&d->dev)) != GB_OK)
        goto fail;
    ocl_describe(d->dev, &info);
    d->info = info;
    d->compute_units = info.compute_units;
    if (!info.fine_grain_svm) {
        st = gbi_error(GB_ENOTSUP, "opencl_open", "device '%s' lacks fine-grain SVM with atomics, which rings "
                       "need (host and device share the queues while the kernel runs)", info.name);
        goto fail;
    }
    d->ctx = g_cl.CreateContext(NULL, 1, &d->dev, NULL, NULL, &err);
    if (d->ctx)
        d->q = g_cl.CreateCommandQueueWithProperties(d->ctx, d->dev, NULL, &err);
    if (!d->ctx || !d->q) {
        st = gbi_error(GB_EDEVICE, "opencl_open", "context/queue creation failed on '%s' (OpenCL error %d)",
                       info.name, (int)err);
        goto fail;
    }
    *self = d;
    return GB_OK;
fail:
    ocl_destroy(d);
    return st;
}

/* The build log, trimmed to what gb_last_error can hold. */
static gb_status ocl_build_failed(ocl_dev *d, cl_int err)
{
    char log[900] = "";
    size_t n = 0;
    g_cl.GetProgramBuildInfo(d->prog, d->dev, CL_PROGRAM_BUILD_LOG, sizeof log - 1, log, &n);
    if (n >= sizeof log - 1) /* too long for the buffer: ask again for the head */
        log[sizeof log - 1] = '\0';
    return gbi_error(GB_EPARSE, "opencl_compile", "clBuildProgram failed (%d): %s", (int)err, log);
}

/* Build d->prog from a cached binary; 0 (nothing kept) when absent or unusable. */
static int ocl_from_cache(ocl_dev *d, uint64_t key, const char *opts)
{
    void *bin = NULL;
    size_t len = 0;
    if (gbi_jit_load("opencl", key, &bin, &len) != GB_OK)
        return 0;
    cl_int err = CL_SUCCESS, bst = CL_SUCCESS;
    const unsigned char *b = bin;
    d->prog = g_cl.CreateProgramWithBinary(d->ctx, 1, &d->dev, &len, &b, &bst, &err);
    free(bin);
    if (d->prog && err == CL_SUCCESS && bst == CL_SUCCESS &&
        g_cl.BuildProgram(d->prog, 1, &d->dev, opts, NULL, NULL) == CL_SUCCESS)
        return 1;
    if (d->prog)
        g_cl.ReleaseProgram(d->prog);
    d->prog = NULL;
    return 0; /* the driver refused the binary: build from source, store again */
}

/* Store the built program's binary (failures only cost a later rebuild). */
static void ocl_to_cache(ocl_dev *d, uint64_t key)
{
    size_t len = 0;
    if (g_cl.GetProgramInfo(d->prog, CL_PROGRAM_BINARY_SIZES, sizeof len, &len, NULL) != CL_SUCCESS || !len)
        return;
    unsigned char *bin = malloc(len);
    if (bin && g_cl.GetProgramInfo(d->prog, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) == CL_SUCCESS &&
        gbi_jit_store("opencl", key, bin, len) != GB_OK)
        gb_clear_error();
    free(bin);
}

static gb_status ocl_compile(void *self, const char *source, const char *options)
{
    ocl_dev *d = self;
    char opts[1024];
    snprintf(opts, sizeof opts, "-cl-std=CL3.0 %s", options ? options : "");
    cl_int err = CL_SUCCESS;
    if (d->prog)
        return gbi_error(GB_EBUSY, "opencl_compile", "this instance already has a program");
    uint64_t key = gbi_jit_key("opencl", source, opts, d->info.name, d->info.version, d->info.driver);
    if (ocl_from_cache(d, key, opts))
        return GB_OK;
    d->prog = g_cl.CreateProgramWithSource(d->ctx, 1, &source, NULL, &err);
    if (!d->prog)
        return gbi_error(GB_EDEVICE, "opencl_compile", "clCreateProgramWithSource failed (%d)", (int)err);
    err = g_cl.BuildProgram(d->prog, 1, &d->dev, opts, NULL, NULL);
    if (err != CL_SUCCESS)
        return ocl_build_failed(d, err);
    ocl_to_cache(d, key);
    return GB_OK;
}

/* The offload kernel called name, created once and kept. */
static gb_status ocl_io_kernel(ocl_dev *d, const char *name, cl_kernel *k)
{
    if (d->k_io && strcmp(d->k_io_name, name) == 0) {
        *k = d->k_io;
        return GB_OK;
    }
    cl_int err = CL_SUCCESS;
    cl_kernel nk = g_cl.CreateKernel(d->prog, name, &err);
    if (!nk)
        return gbi_error(GB_ENOENT, "opencl_launch", "no kernel '%s' in the program (%d)", name, (int)err);
    if (d->k_io)
        g_cl.ReleaseKernel(d->k_io);
    d->k_io = nk;
    snprintf(d->k_io_name, sizeof d->k_io_name, "%s", name);
    *k = nk;
    return GB_OK;
}

static gb_status ocl_io_launch(void *self, const char *kernel, const void *in, size_t in_bytes, void *out,
                               size_t out_bytes, uint32_t count)
{
    ocl_dev *d = self;
    cl_kernel k = NULL;
    if (!d->prog)
        return gbi_error(GB_EINVAL, "opencl_launch", "no program compiled");
    gb_status st = ocl_io_kernel(d, kernel, &k);
    if (st != GB_OK)
        return st;
    cl_int err = CL_SUCCESS;
    cl_mem bin = g_cl.CreateBuffer(d->ctx, CL_MEM_READ_ONLY, in_bytes, NULL, &err);
    cl_mem bout = bin ? g_cl.CreateBuffer(d->ctx, CL_MEM_WRITE_ONLY, out_bytes, NULL, &err) : NULL;
    if (!bin || !bout) {
        st = gbi_error(GB_ENOMEM, "opencl_launch", "clCreateBuffer of %zu + %zu bytes failed (%d)", in_bytes,
                       out_bytes, (int)err);
        goto done;
    }
    size_t global = count;
    cl_uint n = count;
    err = g_cl.EnqueueWriteBuffer(d->q, bin, CL_FALSE, 0, in_bytes, in, 0, NULL, NULL);
    err = err ? err : g_cl.SetKernelArg(k, 0, sizeof bin, &bin);
    err = err ? err : g_cl.SetKernelArg(k, 1, sizeof bout, &bout);
    err = err ? err : g_cl.SetKernelArg(k, 2, sizeof n, &n);
    err = err ? err : g_cl.EnqueueNDRangeKernel(d->q, k, 1, NULL, &global, NULL, 0, NULL, NULL);
    err = err ? err : g_cl.EnqueueReadBuffer(d->q, bout, CL_TRUE, 0, out_bytes, out, 0, NULL, NULL);
    if (err != CL_SUCCESS)
        st = gbi_error(GB_EDEVICE, "opencl_launch", "offload of '%s' failed (OpenCL error %d)", kernel, (int)err);
done:
    if (bout)
        g_cl.ReleaseMemObject(bout);
    if (bin)
        g_cl.ReleaseMemObject(bin);
    return st;
}

/* ---- resident buffers ---------------------------------------------------- */

struct gbi_buf {
    cl_mem mem;
    size_t bytes;
};

static gb_status ocl_buf_alloc(void *self, size_t bytes, gbi_buf **out)
{
    ocl_dev *d = self;
    if (!out || bytes == 0)
        return gbi_error(GB_EINVAL, "opencl_buf_alloc", "NULL out or zero bytes");
    gbi_buf *b = malloc(sizeof *b);
    if (!b)
        return gbi_error(GB_ENOMEM, "opencl_buf_alloc", "no memory");
    cl_int err = CL_SUCCESS;
    b->mem = g_cl.CreateBuffer(d->ctx, CL_MEM_READ_WRITE, bytes, NULL, &err);
    if (!b->mem) {
        free(b);
        return gbi_error(err == CL_MEM_OBJECT_ALLOCATION_FAILURE || err == CL_OUT_OF_HOST_MEMORY ||
                                 err == CL_INVALID_BUFFER_SIZE
                             ? GB_ENOMEM
                             : GB_EDEVICE,
                         "opencl_buf_alloc", "clCreateBuffer of %zu bytes failed (OpenCL error %d)", bytes,
                         (int)err);
    }
    b->bytes = bytes;
    *out = b;
    return GB_OK;
}

static void ocl_buf_free(void *self, gbi_buf *b)
{
    if (b && b->mem)
        g_cl.ReleaseMemObject(b->mem);
    free(b);
}

/* Enqueue every range (non-blocking, in order on the queue), then wait. */
static gb_status ocl_buf_copy(ocl_dev *d, gbi_buf *b, const gbi_buf_range *r, uint32_t n, int write,
                              const char *where)
{
    if (!b || (n && !r) || !gbi_buf_ranges_ok(r, n, b->bytes))
        return gbi_error(GB_EINVAL, where, "NULL buffer or a range outside its %zu bytes", b ? b->bytes : 0);
    cl_int err = CL_SUCCESS;
    for (uint32_t i = 0; i < n && err == CL_SUCCESS; i++) {
        if (!r[i].bytes)
            continue;
        if (write)
            err = g_cl.EnqueueWriteBuffer(d->q, b->mem, CL_FALSE, r[i].off, r[i].bytes, r[i].host, 0, NULL,
                                          NULL);
        else
            err = g_cl.EnqueueReadBuffer(d->q, b->mem, CL_FALSE, r[i].off, r[i].bytes, r[i].host, 0, NULL,
                                         NULL);
    }
    cl_int fin = g_cl.Finish(d->q); /* also when an enqueue failed: the earlier ones use r's memory */
    err = err != CL_SUCCESS ? err : fin;
    if (err != CL_SUCCESS)
        return gbi_error(GB_EDEVICE, where, "buffer copy failed (OpenCL error %d)", (int)err);
    return GB_OK;
}

static gb_status ocl_buf_write(void *self, gbi_buf *b, const gbi_buf_range *r, uint32_t n)
{
    return ocl_buf_copy(self, b, r, n, 1, "opencl_buf_write");
}

static gb_status ocl_buf_read(void *self, gbi_buf *b, const gbi_buf_range *r, uint32_t n)
{
    return ocl_buf_copy(self, b, r, n, 0, "opencl_buf_read");
}

static gb_status ocl_buf_launch(void *self, const char *kernel, gbi_native_kernel native, gbi_buf *in,
                                gbi_buf *out, uint32_t count)
{
    ocl_dev *d = self;
    cl_kernel k = NULL;
    if (!in || !out)
        return gbi_error(GB_EINVAL, "opencl_buf_launch", "NULL buffer");
    if (!d->prog)
        return gbi_error(GB_EINVAL, "opencl_buf_launch", "no program compiled");
    gb_status st = ocl_io_kernel(d, kernel, &k);
    if (st != GB_OK || count == 0)
        return st;
    size_t global = count;
    cl_uint n = count;
    cl_int err = g_cl.SetKernelArg(k, 0, sizeof in->mem, &in->mem);
    err = err ? err : g_cl.SetKernelArg(k, 1, sizeof out->mem, &out->mem);
    err = err ? err : g_cl.SetKernelArg(k, 2, sizeof n, &n);
    err = err ? err : g_cl.EnqueueNDRangeKernel(d->q, k, 1, NULL, &global, NULL, 0, NULL, NULL);
    err = err ? err : g_cl.Finish(d->q);
    if (err != CL_SUCCESS)
        return gbi_error(GB_EDEVICE, "opencl_buf_launch", "launch of '%s' failed (OpenCL error %d)", kernel,
                         (int)err);
    return GB_OK;
}

static void ocl_describe_open(void *self, gbi_device_info *out)
{
    *out = ((ocl_dev *)self)->info;
}

static gb_status ocl_enqueue(ocl_dev *d, cl_kernel k, void *arg, uint32_t threads)
{
    size_t global = threads, local = 1;
    cl_int err = g_cl.SetKernelArgSVMPointer(k, 0, arg);
    if (err == CL_SUCCESS)
        err = g_cl.EnqueueNDRangeKernel(d->q, k, 1, NULL, &global, &local, 0, NULL, NULL);
    if (err == CL_SUCCESS)
        err = g_cl.Flush(d->q);
    if (err != CL_SUCCESS)
        return gbi_error(GB_EDEVICE, "opencl_launch", "kernel launch failed (OpenCL error %d)", (int)err);
    return GB_OK;
}

/* One event-driven drain of r, waited for (the ring service's drain). */
static gb_status ocl_drain(void *self, gb_ring *r)
{
    ocl_dev *d = self;
    gb_status st = ocl_enqueue(d, d->k_event, r->shm, r->shm->threads);
    if (st == GB_OK && g_cl.Finish(d->q) != CL_SUCCESS)
        st = GB_EDEVICE;
    return st;
}

static gb_status ocl_launch(void *self, const char *kernel, void *arg, uint32_t threads)
{
    ocl_dev *d = self;
    cl_int err = CL_SUCCESS;
    if (!d->prog)
        return gbi_error(GB_EINVAL, "opencl_launch", "no program compiled");
    cl_kernel k = g_cl.CreateKernel(d->prog, kernel, &err);
    if (!k)
        return gbi_error(GB_ENOENT, "opencl_launch", "no kernel '%s' in the program (%d)", kernel, (int)err);
    gb_status st = ocl_enqueue(d, k, arg, threads);
    if (st == GB_OK && g_cl.Finish(d->q) != CL_SUCCESS)
        st = gbi_error(GB_EDEVICE, "opencl_launch", "clFinish failed");
    g_cl.ReleaseKernel(k);
    return st;
}

static int64_t ocl_timer(void *self)
{
    return gb_time_monotonic_ns(); /* PoCL's device clock is the host's */
}

static gb_status ocl_shm_alloc(void *self, size_t bytes, void **out)
{
    ocl_dev *d = self;
    void *p = g_cl.SVMAlloc(d->ctx, CL_MEM_READ_WRITE | CL_MEM_SVM_FINE_GRAIN_BUFFER | CL_MEM_SVM_ATOMICS, bytes,
                            128);
    if (!p)
        return gbi_error(GB_ENOMEM, "opencl_alloc", "clSVMAlloc of %zu fine-grain bytes failed", bytes);
    *out = p;
    return GB_OK;
}

static void ocl_shm_free(void *self, void *p)
{
    ocl_dev *d = self;
    g_cl.SVMFree(d->ctx, p);
}

static gb_status ocl_start(void *self, gb_ring *ring)
{
    ocl_dev *d = self;
    cl_int err = CL_SUCCESS;
    d->k_persistent = g_cl.CreateKernel(d->prog, "gb_ring_persistent", &err);
    d->k_event = g_cl.CreateKernel(d->prog, "gb_ring_event", &err);
    if (!d->k_persistent || !d->k_event)
        return gbi_error(GB_EDEVICE, "opencl_ring_start", "the ring kernels are missing (%d)", (int)err);
    if (ring->opts.mode == GB_RING_PERSISTENT) {
        /* every polling work-group must be resident at once, or the ones
         * waiting for a free compute unit would starve their lanes */
        if (ring->shm->threads > d->compute_units)
            return gbi_error(GB_EINVAL, "opencl_ring_start",
                             "a persistent ring needs threads (%u) <= compute units (%u) on this device",
                             ring->shm->threads, d->compute_units);
        gb_status st = ocl_enqueue(d, d->k_persistent, ring->shm, ring->shm->threads);
        if (st != GB_OK)
            return st;
    }
    if (gbi_ring_service_start(&d->svc, ring) != 0) {
        gb_atomic_store_seq_cst(&ring->shm->control, GB_RING_CTL_ABORT);
        g_cl.Finish(d->q);
        return gbi_error(GB_EDEVICE, "opencl_ring_start", "could not start the service thread");
    }
    return GB_OK;
}

static void ocl_kick(void *self, uint32_t lane)
{
    ocl_dev *d = self;
    gbi_ring_service_kick(&d->svc, lane);
}

static gb_status ocl_stop(void *self)
{
    ocl_dev *d = self;
    gbi_ring_service_stop(&d->svc);
    if (g_cl.Finish(d->q) != CL_SUCCESS)
        return gbi_error(GB_EDEVICE, "opencl_ring_stop", "clFinish failed while stopping the ring");
    if (gbi_ring_service_status(&d->svc) != GB_OK)
        return gbi_error(GB_EDEVICE, "opencl_ring_stop", "an event-driven launch failed");
    return GB_OK;
}

static gb_status ocl_health(void *self)
{
    ocl_dev *d = self;
    return gbi_ring_service_health(&d->svc, "opencl_ring");
}

static const gbi_ring_exec_ops ocl_ring_ops = {
    .name = "opencl",
    .shm_alloc = ocl_shm_alloc,
    .shm_free = ocl_shm_free,
    .start = ocl_start,
    .kick = ocl_kick,
    .stop = ocl_stop,
    .health = ocl_health,
    .destroy = ocl_destroy,
};

const gbi_backend_ops gbi_backend_opencl = {
    .name = "opencl",
    .enumerate = ocl_enumerate,
    .open = ocl_open,
    .compile = ocl_compile,
    .launch = ocl_launch,
    .timer_ns = ocl_timer,
    .io_launch = ocl_io_launch,
    .buf_alloc = ocl_buf_alloc,
    .buf_free = ocl_buf_free,
    .buf_write = ocl_buf_write,
    .buf_read = ocl_buf_read,
    .buf_launch = ocl_buf_launch,
    .describe = ocl_describe_open,
    .ring = &ocl_ring_ops,
};
