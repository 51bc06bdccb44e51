/*
 * Internal: the device backend vtable (DESIGN.md 5). A backend enumerates
 * its devices, opens one, allocates memory the host and the device share,
 * compiles portable kernel C, launches kernels, runs rings (through the
 * ring layer's executor interface) and reads its timer. Backends: cpu
 * (always), opencl (libOpenCL.so.1 opened with dlopen) and cuda (libcuda.so.1
 * and libnvrtc opened with dlopen; see cuda.c for what is implemented).
 */
#ifndef GBI_DEVICE_BACKEND_H
#define GBI_DEVICE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "gpubridge/status.h"
#include "ring/ring_internal.h"

typedef struct gbi_device_info {
    char name[128];
    char version[128];
    uint32_t compute_units;
    int fine_grain_svm; /* host and device may touch the memory concurrently */
    char driver[64];    /* driver version string ("" when unknown) */
    uint64_t global_mem; /* bytes of device memory (0 when unknown) */
    int64_t timer_resolution_ns; /* resolution of timer_ns */
} gbi_device_info;

typedef struct gbi_backend_ops {
    const char *name;
    /* up to cap devices into out, the total into *count.
     * Errors: GB_ENOTSUP (backend unavailable: the sentence says why). */
    gb_status (*enumerate)(gbi_device_info *out, uint32_t cap, uint32_t *count);
    /* open device 0; returns the instance, destroyed by ring->destroy */
    gb_status (*open)(void **self);
    /* build a program from portable kernel C. Errors: GB_EPARSE (log in
     * gb_last_error()), GB_ENOTSUP (no run-time compiler: cpu). */
    gb_status (*compile)(void *self, const char *source, const char *options);
    /* run kernel(arg) over threads work-items of group size 1 and wait.
     * Errors: GB_ENOENT (no such kernel), GB_EDEVICE. */
    gb_status (*launch)(void *self, const char *kernel, void *shared_arg, uint32_t threads);
    /* device timer in ns (host monotonic where the device has none) */
    int64_t (*timer_ns)(void *self);
    /* offload: copy in_bytes of in to a device buffer, run kernel(in, out,
     * count) over count work-items (any group size), copy out_bytes back
     * to out, wait. NULL where the backend has no run-time kernels (cpu).
     * Errors: GB_ENOENT (no such kernel), GB_ENOMEM, GB_EDEVICE. */
    gb_status (*io_launch)(void *self, const char *kernel, const void *in, size_t in_bytes, void *out,
                           size_t out_bytes, uint32_t count);
    /* the opened device's description (for cache keys); may be NULL */
    void (*describe)(void *self, gbi_device_info *out);
    /* running rings: shared memory, start/stop, kick, destroy */
    const gbi_ring_exec_ops *ring;
} gbi_backend_ops;

extern const gbi_backend_ops gbi_backend_cpu;
extern const gbi_backend_ops gbi_backend_opencl;
extern const gbi_backend_ops gbi_backend_cuda;

/* The backend called name ("cpu", "opencl", "cuda"), or NULL. Thread-safe. */
const gbi_backend_ops *gbi_backend_find(const char *name);

#endif
