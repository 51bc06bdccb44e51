/*
 * Internal: a small open-addressing hash map from uint64_t keys (any value)
 * to uint32_t values below UINT32_MAX, used by the causal layer and by the
 * actor runtime's causal feed (message id -> event, call id -> wait-for
 * edge). Linear probing, load <= 1/2,
 * backward-shift deletion (no tombstones). Not synchronised.
 */
#ifndef GBI_BASE_U64MAP_H
#define GBI_BASE_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpubridge/status.h"

#define GBI_U64MAP_EMPTY UINT32_MAX

typedef struct gbi_u64map {
    uint64_t *keys;
    uint32_t *vals; /* GBI_U64MAP_EMPTY marks a free bucket */
    size_t cap;     /* power of two, or 0 before the first insertion */
    size_t n;
} gbi_u64map;

/* Empty map sized for `expect` keys. Errors: GB_ENOMEM (map left empty). */
gb_status gbi_u64map_init(gbi_u64map *m, size_t expect);

/* Free the map's memory; the map is then empty and reusable. */
void gbi_u64map_free(gbi_u64map *m);

/* Insert key -> val, replacing an existing value. val must not be
 * GBI_U64MAP_EMPTY. Errors: GB_ENOMEM (map unchanged). */
gb_status gbi_u64map_put(gbi_u64map *m, uint64_t key, uint32_t val);

/* Look key up; *val (may be NULL) gets its value. */
bool gbi_u64map_get(const gbi_u64map *m, uint64_t key, uint32_t *val);

/* Remove key; false if it was absent. */
bool gbi_u64map_del(gbi_u64map *m, uint64_t key);

#endif
