/*
 * Actor type registry: a silo's types by name, a short prepend-only list.
 * Registrations are serialised by a mutex (so a name is registered once);
 * lookups, made on every reference resolution, take no lock: a type is
 * fully built before the release store that makes it the list head, and
 * types are never removed before the silo is destroyed, so actor records
 * may keep plain pointers to them.
 */
#include <stdlib.h>
#include <string.h>

#include "actor/runtime.h"
#include "base/error.h"

const gbi_type *gbi_type_find(gb_silo *s, const char *name)
{
    for (const gbi_type *t = atomic_load_explicit(&s->types, memory_order_acquire); t; t = t->next)
        if (strcmp(t->name, name) == 0)
            return t;
    return NULL;
}

static gb_status check_desc(const gb_actor_type *d)
{
    const char *w = "gb_actor_type_register";
    if (!d->name || !d->name[0])
        return gbi_error(GB_EINVAL, w, "type name is missing");
    if (!d->handler && !d->device)
        return gbi_error(GB_EINVAL, w, "type '%s' has no handler", d->name);
    if (d->idle_timeout_ns < 0)
        return gbi_error(GB_EINVAL, w, "type '%s': negative idle timeout", d->name);
    if (d->placement != GB_PLACEMENT_LOCAL)
        return gbi_error(GB_ENOTSUP, w,
                         "type '%s': placement %d needs several silos (cluster layer); only "
                         "GB_PLACEMENT_LOCAL is available",
                         d->name, (int)d->placement);
    return GB_OK;
}

gb_status gb_actor_type_register(gb_silo *s, const gb_actor_type *desc)
{
    if (!s || !desc)
        return gbi_error(GB_EINVAL, "gb_actor_type_register", "silo and type must not be NULL");
    gb_status st = check_desc(desc);
    if (st != GB_OK)
        return st;
    if (atomic_load_explicit(&s->closing, memory_order_acquire))
        return gbi_error(GB_ECLOSED, "gb_actor_type_register", "silo is shutting down");
    size_t n = strlen(desc->name);
    gbi_type *t = calloc(1, sizeof *t + n + 1);
    if (!t)
        return gbi_error(GB_ENOMEM, "gb_actor_type_register", "out of memory");
    memcpy(t->name, desc->name, n + 1);
    t->desc = *desc;
    t->desc.name = t->name;
    t->desc.device = NULL; /* the copy lives in t->dev */
    if (desc->device && (st = gbi_devtype_create(s, t, desc->device)) != GB_OK) {
        gbi_devtype_free_one(t);
        free(t);
        return st;
    }
    pthread_mutex_lock(&s->types_lock);
    if (gbi_type_find(s, desc->name)) {
        pthread_mutex_unlock(&s->types_lock);
        gbi_devtype_free_one(t);
        free(t);
        return gbi_error(GB_EEXIST, "gb_actor_type_register", "type '%s' is already registered", desc->name);
    }
    t->next = atomic_load_explicit(&s->types, memory_order_relaxed);
    atomic_store_explicit(&s->types, t, memory_order_release); /* publish */
    if (desc->idle_timeout_ns > 0) {
        int64_t cur = atomic_load_explicit(&s->min_idle_ns, memory_order_relaxed);
        if (!cur || desc->idle_timeout_ns < cur) /* under types_lock: no race */
            atomic_store_explicit(&s->min_idle_ns, desc->idle_timeout_ns, memory_order_relaxed);
        atomic_fetch_add_explicit(&s->idle_types, 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&s->types_lock);
    return GB_OK;
}

void gbi_types_free(gb_silo *s)
{
    gbi_type *t = atomic_load_explicit(&s->types, memory_order_relaxed);
    while (t) {
        gbi_type *n = t->next;
        free(t);
        t = n;
    }
    atomic_store_explicit(&s->types, NULL, memory_order_relaxed);
}
