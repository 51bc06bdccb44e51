/*
 * Kernel catalog and offload (DESIGN.md 5): kernels registered by id, each
 * with a portable kernel C source (gpubridge/kernel_lang.h) and/or a native
 * function, run on one input or a batch on the best device of a broker's
 * chain, falling back along the chain when a device fails.
 *
 * A kernel's device entry point has the shape
 *
 *   GB_KERNEL my_kernel(GB_GLOBAL const gb_u8 *in, GB_GLOBAL gb_u8 *out, gb_u32 count)
 *   {
 *       for (gb_u32 i = gb_global_id(); i < count; i += gb_global_size())
 *           ... item i: in + i * in_size  ->  out + i * out_size ...
 *   }
 *
 * (a grid-stride loop). Including this header on the host defines
 * gb_global_id() as 0 and gb_global_size() as 1, so the same text compiled
 * natively (GB_DUAL_SOURCE in kernel_lang.h) is a plain loop over every
 * item: that native function is the kernel's cpu implementation, and its
 * text the source for OpenCL and CUDA.
 */
#ifndef GPUBRIDGE_KERNEL_H
#define GPUBRIDGE_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "gpubridge/broker.h"
#include "gpubridge/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#if !defined(__OPENCL_VERSION__) && !defined(__CUDACC_RTC__) && !defined(__CUDACC__)
#ifndef gb_global_id
#define gb_global_id() 0u   /* host: one "thread" walks every item */
#define gb_global_size() 1u
#endif
#endif

/* The native form of a kernel: every item of in -> out. */
typedef void (*gb_kernel_cpu_fn)(const uint8_t *in, uint8_t *out, uint32_t count);

typedef struct gb_kernel_desc {
    const char *id;          /* unique name, e.g. "vec_add_u32" */
    const char *source;      /* portable kernel C (after kernel_lang.h); NULL: cpu only */
    const char *entry;       /* GB_KERNEL function in source */
    const char *build_options; /* extra compiler options (may be NULL) */
    gb_kernel_cpu_fn cpu;    /* native implementation; NULL: devices only */
    uint32_t in_size;        /* bytes of input per item (> 0) */
    uint32_t out_size;       /* bytes of output per item (> 0) */
    uint32_t max_batch;      /* most items per call (0: 1 << 20) */
} gb_kernel_desc;

typedef struct gb_kernel_catalog gb_kernel_catalog;

/* Create a catalog running on broker (borrowed; must outlive the catalog).
 * Errors: GB_EINVAL, GB_ENOMEM. */
gb_status gb_kernel_catalog_create(gb_kernel_catalog **out, gb_broker *broker);

/* Destroy (NULL is a no-op): releases programs and device instances.
 * Not concurrently with other calls on c. */
void gb_kernel_catalog_destroy(gb_kernel_catalog *c);

/* Register a kernel (strings are copied). Nothing is compiled yet.
 * Errors: GB_EINVAL (NULL id, no source and no cpu, source without entry,
 * entry not a C identifier, zero sizes), GB_EEXIST (id taken), GB_ENOMEM.
 * Thread-safe. */
gb_status gb_kernel_register(gb_kernel_catalog *c, const gb_kernel_desc *desc);

/* Bytes of device memory one call of count items needs (in + out).
 * Errors: GB_ENOENT (no such id), GB_EINVAL (count 0 or above max_batch). */
gb_status gb_kernel_memory(gb_kernel_catalog *c, const char *id, uint32_t count, uint64_t *bytes);

typedef struct gb_kernel_result {
    char backend[16];        /* the backend that produced the output */
    uint32_t device_index;   /* its broker entry */
    uint32_t fallbacks;      /* devices that failed or were skipped for this call */
} gb_kernel_result;

/* Run kernel id over count = in_bytes / in_size items (count 1: one
 * input), output into out (out_bytes >= count * out_size). The device is
 * the broker's best; a device failure (GB_EDEVICE, GB_ENOMEM, GB_ENOTSUP,
 * injected faults) is reported to the broker and the call moves on to the
 * next device of the chain, so accepted input always gets its output if any
 * device can produce it. The first compile on a device builds (or loads
 * from the on-disk kernel cache) the program. res may be NULL.
 * Errors: GB_EINVAL (NULL buffers, in_bytes not a multiple of in_size,
 * count 0 or above max_batch, out too small), GB_ENOENT (no such id),
 * GB_EPARSE (the source does not compile: the compiler log is in
 * gb_last_error(); not a device failure, no fallback), GB_EDEVICE (every
 * device failed or was skipped: the sentence says why).
 * Thread-safe (calls on one catalog are serialised). */
gb_status gb_kernel_run(gb_kernel_catalog *c, const char *id, const void *in, size_t in_bytes, void *out,
                        size_t out_bytes, gb_kernel_result *res);

/* Process-wide counters of the on-disk kernel cache. */
typedef struct gb_kernel_cache_counters {
    uint64_t hits, misses, stores, corrupt;
    int enabled;   /* 0: GB_KERNEL_CACHE=off or no directory */
    char dir[512]; /* GB_KERNEL_CACHE, $XDG_CACHE_HOME/gpubridge or ~/.cache/gpubridge */
} gb_kernel_cache_counters;

/* Errors: GB_EINVAL (out NULL). Thread-safe. */
gb_status gb_kernel_cache_stats(gb_kernel_cache_counters *out);

#ifdef __cplusplus
}
#endif
#endif
