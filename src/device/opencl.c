/*
 * The opencl backend (placeholder until the loader lands in this file).
 */
#include "base/error.h"
#include "device/backend.h"

static gb_status ocl_enumerate(gbi_device_info *out, uint32_t cap, uint32_t *count)
{
    *count = 0;
    return gbi_error(GB_ENOTSUP, "opencl", "not built yet");
}
static gb_status ocl_open(void **self)
{
    return gbi_error(GB_ENOTSUP, "opencl", "not built yet");
}
const gbi_backend_ops gbi_backend_opencl = {.name = "opencl", .enumerate = ocl_enumerate, .open = ocl_open};
