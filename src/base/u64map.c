/*
 * Open-addressing uint64 -> uint32 map (see u64map.h).
 * Invariant: every key sits in the probe chain that starts at its home
 * bucket with no free bucket in between; deletion shifts later entries of
 * the chain back to keep it so.
 */
#include "base/u64map.h"

#include "base/error.h"
#include "gpubridge/hash.h"

#include <stdlib.h>
#include <string.h>

static size_t home(const gbi_u64map *m, uint64_t key)
{
    return (size_t)gb_hash_u64(key) & (m->cap - 1);
}

/* Bucket holding key, or the free bucket where it would go. */
static size_t probe(const gbi_u64map *m, uint64_t key)
{
    size_t b = home(m, key);
    while (m->vals[b] != GBI_U64MAP_EMPTY && m->keys[b] != key)
        b = (b + 1) & (m->cap - 1);
    return b;
}

static gb_status rehash(gbi_u64map *m, size_t cap)
{
    uint64_t *keys = malloc(cap * sizeof *keys);
    uint32_t *vals = malloc(cap * sizeof *vals);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return gbi_error(GB_ENOMEM, "u64map", "out of memory for %zu buckets", cap);
    }
    memset(vals, 0xFF, cap * sizeof *vals);
    gbi_u64map old = *m;
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    for (size_t i = 0; i < old.cap; i++) {
        if (old.vals[i] == GBI_U64MAP_EMPTY)
            continue;
        size_t b = probe(m, old.keys[i]);
        m->keys[b] = old.keys[i];
        m->vals[b] = old.vals[i];
    }
    free(old.keys);
    free(old.vals);
    return GB_OK;
}

gb_status gbi_u64map_init(gbi_u64map *m, size_t expect)
{
    memset(m, 0, sizeof *m);
    size_t cap = 16;
    while (cap < expect * 2 + 2)
        cap *= 2;
    return rehash(m, cap);
}

void gbi_u64map_free(gbi_u64map *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

gb_status gbi_u64map_put(gbi_u64map *m, uint64_t key, uint32_t val)
{
    if (m->cap == 0 || (m->n + 1) * 2 > m->cap) {
        gb_status st = rehash(m, m->cap ? m->cap * 2 : 16);
        if (st != GB_OK)
            return st;
    }
    size_t b = probe(m, key);
    if (m->vals[b] == GBI_U64MAP_EMPTY)
        m->n++;
    m->keys[b] = key;
    m->vals[b] = val;
    return GB_OK;
}

bool gbi_u64map_get(const gbi_u64map *m, uint64_t key, uint32_t *val)
{
    if (m->cap == 0)
        return false;
    size_t b = probe(m, key);
    if (m->vals[b] == GBI_U64MAP_EMPTY)
        return false;
    if (val)
        *val = m->vals[b];
    return true;
}

bool gbi_u64map_del(gbi_u64map *m, uint64_t key)
{
    if (m->cap == 0)
        return false;
    size_t mask = m->cap - 1, hole = probe(m, key);
    if (m->vals[hole] == GBI_U64MAP_EMPTY)
        return false;
    for (size_t j = (hole + 1) & mask; m->vals[j] != GBI_U64MAP_EMPTY; j = (j + 1) & mask) {
        /* the entry at j may fill the hole iff hole lies cyclically in [home, j) */
        if (((j - home(m, m->keys[j])) & mask) >= ((j - hole) & mask)) {
            m->keys[hole] = m->keys[j];
            m->vals[hole] = m->vals[j];
            hole = j;
        }
    }
    m->vals[hole] = GBI_U64MAP_EMPTY;
    m->n--;
    return true;
}
