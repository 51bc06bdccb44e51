/*
 * Internal: the device backend vtable (DESIGN.md 5). A backend enumerates
 * its devices, opens one, allocates memory the host and the device share,
 * compiles portable kernel C, launches kernels, runs rings (through the
 * ring layer's executor interface) and reads its timer. Backends: cpu
 * (always) and opencl (libOpenCL.so.1 opened with dlopen). CUDA is not
 * implemented yet.
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
    /* running rings: shared memory, start/stop, kick, destroy */
    const gbi_ring_exec_ops *ring;
} gbi_backend_ops;

/* What a request for the cuda backend is told. */
#define GBI_CUDA_MISSING                                                                           \
    "the cuda backend is not implemented yet (the ring program compiles with NVRTC; the CUDA "    \
    "driver loader and launches are missing): use opencl or cpu"

extern const gbi_backend_ops gbi_backend_cpu;
extern const gbi_backend_ops gbi_backend_opencl;

/* The backend called name ("cpu", "opencl"), or NULL. Thread-safe. */
const gbi_backend_ops *gbi_backend_find(const char *name);

#endif
