/*
 * The kernel catalog (gpubridge/kernel.h): registration by id with the
 * description copied and checked, lookup, memory needs, and teardown of the
 * per-device instances that offload.c opens lazily.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "kernel/catalog_internal.h"

gb_status gb_kernel_catalog_create(gb_kernel_catalog **out, gb_broker *broker)
{
    if (!out || !broker)
        return gbi_error(GB_EINVAL, "kernel_catalog_create", "NULL output or broker");
    gb_kernel_catalog *c = calloc(1, sizeof *c);
    if (!c)
        return gbi_error(GB_ENOMEM, "kernel_catalog_create", "no memory");
    c->broker = broker;
    pthread_mutex_init(&c->lock, NULL);
    *out = c;
    return GB_OK;
}

static void kernel_free(gbi_kernel *k)
{
    for (int i = 0; i < GBI_KERNEL_MAX_DEVICES; i++)
        if (k->inst[i])
            k->be[i]->ring->destroy(k->inst[i]);
    free((char *)k->d.id);
    free((char *)k->d.source);
    free((char *)k->d.entry);
    free((char *)k->d.build_options);
}

void gb_kernel_catalog_destroy(gb_kernel_catalog *c)
{
    if (!c)
        return;
    for (uint32_t i = 0; i < c->n; i++)
        kernel_free(&c->k[i]);
    free(c->k);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

gbi_kernel *gbi_kernel_find(gb_kernel_catalog *c, const char *id)
{
    for (uint32_t i = 0; id && i < c->n; i++)
        if (strcmp(c->k[i].d.id, id) == 0)
            return &c->k[i];
    return NULL;
}

static int is_identifier(const char *s)
{
    if (!s || !(isalpha((unsigned char)*s) || *s == '_'))
        return 0;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_'))
            return 0;
    return 1;
}

static gb_status check_desc(const gb_kernel_desc *d)
{
    if (!d || !d->id || !*d->id)
        return gbi_error(GB_EINVAL, "kernel_register", "NULL description or empty id");
    if (!d->source && !d->cpu)
        return gbi_error(GB_EINVAL, "kernel_register", "kernel '%s' has neither a source nor a cpu function",
                         d->id);
    if (d->source && !is_identifier(d->entry))
        return gbi_error(GB_EINVAL, "kernel_register", "kernel '%s': entry '%s' is not a C identifier", d->id,
                         d->entry ? d->entry : "(null)");
    if (d->in_size == 0 || d->out_size == 0)
        return gbi_error(GB_EINVAL, "kernel_register", "kernel '%s': in_size and out_size must be > 0", d->id);
    return GB_OK;
}

static char *dup_or_null(const char *s, int *bad)
{
    if (!s)
        return NULL;
    char *p = strdup(s);
    *bad |= !p;
    return p;
}

static gb_status add_kernel(gb_kernel_catalog *c, const gb_kernel_desc *d)
{
    if (c->n == c->cap) {
        uint32_t cap = c->cap ? c->cap * 2 : 8;
        gbi_kernel *k = realloc(c->k, cap * sizeof *k);
        if (!k)
            return gbi_error(GB_ENOMEM, "kernel_register", "no memory");
        c->k = k;
        c->cap = cap;
    }
    gbi_kernel *k = &c->k[c->n];
    memset(k, 0, sizeof *k);
    k->d = *d;
    int bad = 0;
    k->d.id = dup_or_null(d->id, &bad);
    k->d.source = dup_or_null(d->source, &bad);
    k->d.entry = dup_or_null(d->entry, &bad);
    k->d.build_options = dup_or_null(d->build_options, &bad);
    if (!k->d.max_batch)
        k->d.max_batch = GBI_KERNEL_DEFAULT_MAX_BATCH;
    if (bad) {
        kernel_free(k);
        return gbi_error(GB_ENOMEM, "kernel_register", "no memory");
    }
    c->n++;
    return GB_OK;
}

gb_status gb_kernel_register(gb_kernel_catalog *c, const gb_kernel_desc *desc)
{
    if (!c)
        return gbi_error(GB_EINVAL, "kernel_register", "catalog is NULL");
    gb_status st = check_desc(desc);
    if (st != GB_OK)
        return st;
    pthread_mutex_lock(&c->lock);
    if (gbi_kernel_find(c, desc->id))
        st = gbi_error(GB_EEXIST, "kernel_register", "kernel '%s' is already registered", desc->id);
    else
        st = add_kernel(c, desc);
    pthread_mutex_unlock(&c->lock);
    return st;
}

gb_status gb_kernel_memory(gb_kernel_catalog *c, const char *id, uint32_t count, uint64_t *bytes)
{
    if (!c || !id || !bytes)
        return gbi_error(GB_EINVAL, "kernel_memory", "NULL argument");
    pthread_mutex_lock(&c->lock);
    gbi_kernel *k = gbi_kernel_find(c, id);
    gb_status st = GB_OK;
    if (!k)
        st = gbi_error(GB_ENOENT, "kernel_memory", "no kernel '%s'", id);
    else if (count == 0 || count > k->d.max_batch)
        st = gbi_error(GB_EINVAL, "kernel_memory", "count %u outside 1..%u", count, k->d.max_batch);
    else
        *bytes = (uint64_t)count * ((uint64_t)k->d.in_size + k->d.out_size);
    pthread_mutex_unlock(&c->lock);
    return st;
}
