/*
 * Devices (DESIGN.md 5): which backends this process can use and the
 * devices behind them. The cpu backend is always there; opencl is there
 * when an OpenCL loader and a platform with a device are installed (opened
 * at run time with dlopen); cuda when the NVIDIA driver (libcuda.so.1) and
 * a GPU are there (see docs/devices.md for what the cuda backend runs).
 */
#ifndef GPUBRIDGE_DEVICE_H
#define GPUBRIDGE_DEVICE_H

#include <stdint.h>

#include "gpubridge/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gb_device_info {
    char backend[16];       /* "cpu", "opencl", "cuda" */
    char name[128];         /* e.g. "pthread-skylake-avx512-..." for PoCL */
    char version[128];      /* the device's version string */
    uint32_t compute_units;
    int shared_memory;      /* host and device can share ring memory while kernels run */
} gb_device_info;

/* Fill up to cap entries of out with the devices of every available
 * backend (cpu first), the total in *count (may exceed cap). A missing
 * backend is skipped, not an error.
 * Errors: GB_EINVAL (count NULL, or out NULL with cap > 0). Thread-safe. */
gb_status gb_device_list(gb_device_info *out, uint32_t cap, uint32_t *count);

/* GB_OK if backend ("cpu", "opencl", "cuda") can be opened here; otherwise
 * GB_ENOTSUP with a sentence in gb_last_error() saying what is missing and
 * what to install. Thread-safe. */
gb_status gb_backend_available(const char *backend);

#ifdef __cplusplus
}
#endif
#endif
