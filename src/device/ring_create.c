/*
 * gb_ring_create: picks the backend named in the options, opens it, builds
 * the device program where the backend compiles one, and hands the ring
 * layer an executor (see src/ring/ring_internal.h). Also the backend table.
 */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "device/backend.h"

const gbi_backend_ops *gbi_backend_find(const char *name)
{
    static const gbi_backend_ops *const all[] = {&gbi_backend_cpu, &gbi_backend_opencl, &gbi_backend_cuda};
    for (size_t i = 0; name && i < sizeof all / sizeof all[0]; i++)
        if (strcmp(all[i]->name, name) == 0)
            return all[i];
    return NULL;
}

static gb_status check_host_handlers(const gb_ring_opts *n)
{
    for (uint32_t i = 0; i < n->ntypes; i++)
        if (!n->types[i].on_message)
            return gbi_error(GB_EINVAL, "ring_create", "type %u (%s): the cpu backend needs on_message", i,
                             n->types[i].name ? n->types[i].name : "unnamed");
    return GB_OK;
}

static gb_status compile_ring(const gbi_backend_ops *be, void *self, const gb_ring_opts *n)
{
    char *src = NULL;
    gb_status st = gbi_ring_device_source(n, &src);
    if (st != GB_OK)
        return st;
    st = be->compile(self, src, n->build_options);
    free(src);
    return st;
}

gb_status gb_ring_create(gb_ring **out, const gb_ring_opts *opts)
{
    if (!out)
        return gbi_error(GB_EINVAL, "ring_create", "out is NULL");
    gb_ring_opts n;
    gb_status st = gbi_ring_normalize(opts, &n);
    if (st != GB_OK)
        return st;
    const gbi_backend_ops *be = gbi_backend_find(n.backend);
    if (!be)
        return gbi_error(GB_ENOTSUP, "ring_create", "unknown backend '%s' (have: cpu, opencl, cuda)", n.backend);
    if (be == &gbi_backend_cpu && (st = check_host_handlers(&n)) != GB_OK)
        return st;
    void *self = NULL;
    if ((st = be->open(&self)) != GB_OK)
        return st;
    if (be != &gbi_backend_cpu && (st = compile_ring(be, self, &n)) != GB_OK) {
        be->ring->destroy(self);
        return st;
    }
    return gbi_ring_build(out, &n, be->ring, self);
}
