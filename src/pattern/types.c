/*
 * Event-type interning: names to dense u32 ids (0, 1, 2...) with an
 * open-addressing hash index over a growable array of names.
 */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "gpubridge/pattern.h"

struct gb_type_table {
    char **names;
    uint32_t count, cap;
    uint32_t *index; /* slots hold id + 1, 0 = empty; size is a power of two */
    uint32_t index_size;
};

static uint32_t name_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a: names are short */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

gb_status gb_type_table_create(gb_type_table **out)
{
    if (!out)
        return gbi_error(GB_EINVAL, "type_table_create", "out is NULL");
    gb_type_table *t = calloc(1, sizeof *t);
    if (!t)
        return gbi_error(GB_ENOMEM, "type_table_create", "out of memory");
    *out = t;
    return GB_OK;
}

void gb_type_table_destroy(gb_type_table *t)
{
    if (!t)
        return;
    for (uint32_t i = 0; i < t->count; i++)
        free(t->names[i]);
    free(t->names);
    free(t->index);
    free(t);
}

static int find(const gb_type_table *t, const char *name, size_t len, uint32_t *id)
{
    if (!t->index_size)
        return 0;
    uint32_t mask = t->index_size - 1;
    for (uint32_t h = name_hash(name, len) & mask;; h = (h + 1) & mask) {
        uint32_t v = t->index[h];
        if (!v)
            return 0;
        const char *s = t->names[v - 1];
        if (strlen(s) == len && memcmp(s, name, len) == 0) {
            *id = v - 1;
            return 1;
        }
    }
}

static void index_insert(uint32_t *index, uint32_t size, const char *name, uint32_t id)
{
    uint32_t mask = size - 1;
    uint32_t h = name_hash(name, strlen(name)) & mask;
    while (index[h])
        h = (h + 1) & mask;
    index[h] = id + 1;
}

static gb_status reserve(gb_type_table *t)
{
    if (t->count == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 16;
        char **names = realloc(t->names, cap * sizeof *names);
        if (!names)
            return GB_ENOMEM;
        t->names = names;
        t->cap = cap;
    }
    if ((t->count + 1) * 2 > t->index_size) {
        uint32_t size = t->index_size ? t->index_size * 2 : 32;
        uint32_t *index = calloc(size, sizeof *index);
        if (!index)
            return GB_ENOMEM;
        for (uint32_t i = 0; i < t->count; i++)
            index_insert(index, size, t->names[i], i);
        free(t->index);
        t->index = index;
        t->index_size = size;
    }
    return GB_OK;
}

gb_status gb_type_intern_n(gb_type_table *t, const char *name, size_t len, uint32_t *id)
{
    if (!t || !name || !id)
        return gbi_error(GB_EINVAL, "type_intern", "NULL argument");
    if (len == 0 || len > GB_TYPE_NAME_MAX || memchr(name, '\0', len))
        return gbi_error(GB_EINVAL, "type_intern", "type name must be 1 to %u bytes", GB_TYPE_NAME_MAX);
    if (find(t, name, len, id))
        return GB_OK;
    if (t->count == UINT32_MAX - 1 || reserve(t) != GB_OK)
        return gbi_error(GB_ENOMEM, "type_intern", "out of memory");
    char *copy = malloc(len + 1);
    if (!copy)
        return gbi_error(GB_ENOMEM, "type_intern", "out of memory");
    memcpy(copy, name, len);
    copy[len] = '\0';
    t->names[t->count] = copy;
    index_insert(t->index, t->index_size, copy, t->count);
    *id = t->count++;
    return GB_OK;
}

gb_status gb_type_intern(gb_type_table *t, const char *name, uint32_t *id)
{
    if (!name)
        return gbi_error(GB_EINVAL, "type_intern", "NULL argument");
    return gb_type_intern_n(t, name, strlen(name), id);
}

gb_status gb_type_lookup(const gb_type_table *t, const char *name, uint32_t *id)
{
    if (!t || !name || !id)
        return gbi_error(GB_EINVAL, "type_lookup", "NULL argument");
    if (!find(t, name, strlen(name), id))
        return gbi_error(GB_ENOENT, "type_lookup", "unknown type '%s'", name);
    return GB_OK;
}

const char *gb_type_name(const gb_type_table *t, uint32_t id)
{
    return t && id < t->count ? t->names[id] : NULL;
}

uint32_t gb_type_count(const gb_type_table *t)
{
    return t ? t->count : 0;
}
