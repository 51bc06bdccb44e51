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

/* A resident device buffer (backend-defined). */
typedef struct gbi_buf gbi_buf;

/* One range of a resident buffer copy: bytes at byte offset off of the
 * buffer, from or to host. */
typedef struct gbi_buf_range {
    size_t off, bytes;
    void *host; /* read: destination; write: source (not written) */
} gbi_buf_range;

/* The native build of a kernel of the shape kernel(in, out, count). */
typedef void (*gbi_native_kernel)(const uint8_t *in, uint8_t *out, uint32_t count);

/* Whether ranges r[0..n) all lie inside a buffer of size bytes. */
static inline int gbi_buf_ranges_ok(const gbi_buf_range *r, uint32_t n, size_t size)
{
    for (uint32_t i = 0; i < n; i++)
        if ((r[i].bytes && !r[i].host) || r[i].off > size || r[i].bytes > size - r[i].off)
            return 0;
    return 1;
}

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
    /* Resident buffers: device memory that stays allocated and keeps its
     * contents across launches, so a caller copies in only what changed
     * and reads back only what it needs. A buffer belongs to the instance
     * that allocated it and is freed before it. The five functions are
     * present on every backend (cpu: host memory, the kernel's native
     * build; opencl: clCreateBuffer; cuda: cuMemAlloc) and, like the rest
     * of an instance, used by one thread at a time. */
    /* a buffer of bytes (> 0), contents undefined.
     * Errors: GB_EINVAL (bytes 0, out NULL), GB_ENOMEM, GB_EDEVICE. */
    gb_status (*buf_alloc)(void *self, size_t bytes, gbi_buf **out);
    /* free b (NULL is ignored) */
    void (*buf_free)(void *self, gbi_buf *b);
    /* copy n ranges host -> b (write) or b -> host (read), in order, and
     * wait until all are done. A range outside b refuses the whole call
     * before anything is copied. Errors: GB_EINVAL (a range outside b,
     * NULL), GB_EDEVICE (the driver failed: b's contents are undefined). */
    gb_status (*buf_write)(void *self, gbi_buf *b, const gbi_buf_range *r, uint32_t n);
    gb_status (*buf_read)(void *self, gbi_buf *b, const gbi_buf_range *r, uint32_t n);
    /* run kernel(in, out, count) over count work-items on two resident
     * buffers (in and out may be the same buffer) and wait; cpu calls
     * native instead (the kernel's native build; NULL there: GB_ENOTSUP).
     * Errors: GB_EINVAL (NULL buffer), GB_ENOENT (no such kernel),
     * GB_ENOTSUP, GB_EDEVICE. */
    gb_status (*buf_launch)(void *self, const char *kernel, gbi_native_kernel native, gbi_buf *in, gbi_buf *out,
                            uint32_t count);
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
