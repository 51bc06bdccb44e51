/*
 * Offload (gb_kernel_run): validate the input, then walk the broker's
 * chain from its best device: acquire an entry, run the kernel there (cpu:
 * the native function; others: open + compile once per kernel and device,
 * then io_launch with device buffers), report the outcome. A device failure
 * moves the same input to the next entry, so the caller's work is never
 * dropped while some device can do it; a source that does not compile is
 * the caller's error (GB_EPARSE) and ends the call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "kernel/catalog_internal.h"

extern const char gb_embed_ring_prelude[]; /* kernel_lang.h (+ ring queue and API), embedded */

/* Not this entry's fault: skip it without a health report. */
#define GBI_SKIP 1

static gb_status check_io(const gbi_kernel *k, const void *in, size_t in_bytes, const void *out,
                          size_t out_bytes, uint32_t *count)
{
    if (!in || !out)
        return gbi_error(GB_EINVAL, "kernel_run", "kernel '%s': NULL input or output", k->d.id);
    if (in_bytes == 0 || in_bytes % k->d.in_size)
        return gbi_error(GB_EINVAL, "kernel_run", "kernel '%s': %zu input bytes is not a positive multiple of "
                         "the item size %u", k->d.id, in_bytes, k->d.in_size);
    size_t n = in_bytes / k->d.in_size;
    if (n > k->d.max_batch)
        return gbi_error(GB_EINVAL, "kernel_run", "kernel '%s': %zu items, above max_batch %u", k->d.id, n,
                         k->d.max_batch);
    if (out_bytes < n * k->d.out_size)
        return gbi_error(GB_EINVAL, "kernel_run", "kernel '%s': output of %zu bytes, %zu needed", k->d.id,
                         out_bytes, n * k->d.out_size);
    *count = (uint32_t)n;
    return GB_OK;
}

/* The device program: kernel_lang.h and friends, then the kernel's source. */
static char *program_text(const gbi_kernel *k)
{
    size_t a = strlen(gb_embed_ring_prelude), b = strlen(k->d.source), id = strlen(k->d.id);
    char *s = malloc(a + b + id + 32);
    if (s)
        sprintf(s, "%s\n#line 1 \"%s\"\n%s\n", gb_embed_ring_prelude, k->d.id, k->d.source);
    return s;
}

/* Open entry i's backend for k and build the program (once). */
static gb_status instance(gb_kernel_catalog *c, gbi_kernel *k, uint32_t i, const gbi_backend_ops *be)
{
    if (k->inst[i])
        return GB_OK;
    gb_status st = gb_broker_fault_check(c->broker, i, GB_OP_OPEN);
    void *self = NULL;
    if (st != GB_OK || (st = be->open(&self)) != GB_OK)
        return st;
    char *src = program_text(k);
    if (!src) {
        be->ring->destroy(self);
        return gbi_error(GB_ENOMEM, "kernel_run", "no memory");
    }
    st = gb_broker_fault_check(c->broker, i, GB_OP_COMPILE);
    if (st == GB_OK)
        st = be->compile(self, src, k->d.build_options);
    free(src);
    if (st != GB_OK) {
        be->ring->destroy(self);
        return st;
    }
    k->inst[i] = self;
    k->be[i] = be;
    return GB_OK;
}

/* Run k on entry i. GB_OK, GBI_SKIP, GB_EPARSE or a device failure. */
static int run_on(gb_kernel_catalog *c, gbi_kernel *k, uint32_t i, const void *in, size_t in_bytes, void *out,
                  uint32_t count)
{
    gb_broker_device dev;
    gb_broker_get(c->broker, i, &dev);
    const gbi_backend_ops *be = gbi_backend_find(dev.info.backend);
    int native = strcmp(dev.info.backend, "cpu") == 0;
    if (!be || (native && !k->d.cpu) || (!native && (!k->d.source || !be->io_launch)))
        return GBI_SKIP;
    gb_status st = gb_broker_fault_check(c->broker, i, GB_OP_LAUNCH);
    if (st != GB_OK)
        return st;
    if (native) {
        k->d.cpu(in, out, count);
        return GB_OK;
    }
    if ((st = instance(c, k, i, be)) != GB_OK)
        return st;
    if ((st = gb_broker_fault_check(c->broker, i, GB_OP_ALLOC)) != GB_OK)
        return st;
    return be->io_launch(k->inst[i], k->d.entry, in, in_bytes, out, (size_t)count * k->d.out_size, count);
}

static void fill_result(gb_kernel_result *res, gb_broker *b, uint32_t i, uint32_t fallbacks)
{
    if (!res)
        return;
    gb_broker_device dev;
    gb_broker_get(b, i, &dev);
    memset(res, 0, sizeof *res);
    snprintf(res->backend, sizeof res->backend, "%s", dev.info.backend);
    res->device_index = i;
    res->fallbacks = fallbacks;
}

/* Walk the chain (under the catalog lock). */
static gb_status run_chain(gb_kernel_catalog *c, gbi_kernel *k, const void *in, size_t in_bytes, void *out,
                           uint32_t count, gb_kernel_result *res)
{
    char last[512] = "";
    uint32_t fallbacks = 0, i = 0;
    for (uint32_t from = 0; gb_broker_acquire(c->broker, from, &i) == GB_OK; from = i + 1) {
        int st = run_on(c, k, i, in, in_bytes, out, count);
        if (st == GB_OK) {
            gb_broker_report(c->broker, i, GB_OK, NULL);
            fill_result(res, c->broker, i, fallbacks);
            return GB_OK;
        }
        if (st == GB_EPARSE || st == GBI_SKIP) {
            gb_broker_release(c->broker, i);
            if (st == GB_EPARSE)
                return GB_EPARSE; /* gb_last_error() holds the compiler log */
            fallbacks++;
            continue;
        }
        snprintf(last, sizeof last, "%s", gb_last_error());
        gb_broker_report(c->broker, i, st, last);
        fallbacks++;
    }
    return gbi_error(GB_EDEVICE, "kernel_run", "kernel '%s': no device could run it (last failure: %s; %s)",
                     k->d.id, last[0] ? last : "none", gb_last_error());
}

gb_status gb_kernel_run(gb_kernel_catalog *c, const char *id, const void *in, size_t in_bytes, void *out,
                        size_t out_bytes, gb_kernel_result *res)
{
    if (!c || !id)
        return gbi_error(GB_EINVAL, "kernel_run", "NULL catalog or id");
    pthread_mutex_lock(&c->lock);
    gbi_kernel *k = gbi_kernel_find(c, id);
    uint32_t count = 0;
    gb_status st = k ? check_io(k, in, in_bytes, out, out_bytes, &count)
                     : gbi_error(GB_ENOENT, "kernel_run", "no kernel '%s' in the catalog", id);
    if (st == GB_OK)
        st = run_chain(c, k, in, in_bytes, out, count, res);
    pthread_mutex_unlock(&c->lock);
    return st;
}
