/*
 * The public view of backends and devices (gpubridge/device.h): lists the
 * devices of every backend of the table in ring_create.c and says why a
 * backend is unavailable.
 */
#include <string.h>

#include "base/error.h"
#include "device/backend.h"
#include "gpubridge/device.h"

#define GBI_MAX_DEVICES 32

static void copy_info(gb_device_info *o, const char *backend, const gbi_device_info *d)
{
    memset(o, 0, sizeof *o);
    strncpy(o->backend, backend, sizeof o->backend - 1);
    memcpy(o->name, d->name, sizeof o->name - 1);
    memcpy(o->version, d->version, sizeof o->version - 1);
    o->compute_units = d->compute_units;
    o->shared_memory = d->fine_grain_svm;
}

gb_status gb_device_list(gb_device_info *out, uint32_t cap, uint32_t *count)
{
    if (!count || (!out && cap))
        return gbi_error(GB_EINVAL, "device_list", "NULL count, or NULL output with a capacity");
    static const char *const names[] = {"cpu", "opencl", "cuda"};
    *count = 0;
    for (size_t b = 0; b < sizeof names / sizeof names[0]; b++) {
        const gbi_backend_ops *be = gbi_backend_find(names[b]);
        gbi_device_info devs[GBI_MAX_DEVICES];
        uint32_t n = 0;
        if (!be || be->enumerate(devs, GBI_MAX_DEVICES, &n) != GB_OK)
            continue;
        for (uint32_t i = 0; i < n; i++, (*count)++)
            if (*count < cap && i < GBI_MAX_DEVICES)
                copy_info(&out[*count], names[b], &devs[i]);
    }
    gb_clear_error(); /* a missing backend is not an error here */
    return GB_OK;
}

gb_status gb_backend_available(const char *backend)
{
    if (!backend)
        return gbi_error(GB_EINVAL, "backend_available", "backend is NULL");
    const gbi_backend_ops *be = gbi_backend_find(backend);
    if (!be)
        return gbi_error(GB_ENOTSUP, "backend_available", "unknown backend '%s' (have: cpu, opencl, cuda)", backend);
    void *self = NULL;
    gb_status st = be->open(&self); /* opening checks loader, platform, device and shared memory */
    if (st != GB_OK)
        return st;
    be->ring->destroy(self);
    return GB_OK;
}
