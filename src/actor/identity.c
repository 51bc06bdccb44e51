/*
 * Actor identity: the stable 64-bit id of (type name, key), and references
 * that make an identity known to a silo's directory.
 *
 * id = XXH3-64 over [hash(type) as 8 little-endian bytes][kind byte][key]
 * where kind is 'S' for string keys (key bytes follow) and 'U' for integer
 * keys (8 little-endian bytes follow). 0 is reserved for external clients
 * and is mapped to 1.
 */
#include <string.h>

#include "actor/runtime.h"
#include "base/error.h"
#include "gpubridge/hash.h"

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static gb_actor_id finish(uint64_t h)
{
    return h ? h : 1;
}

gb_actor_id gb_actor_id_str(const char *type, const char *key)
{
    uint8_t head[9];
    put_le64(head, gb_hash_str(type ? type : ""));
    head[8] = 'S';
    uint64_t seed = gb_hash64(head, sizeof head, 0);
    const char *k = key ? key : "";
    return finish(gb_hash64(k, strlen(k), seed));
}

gb_actor_id gb_actor_id_u64(const char *type, uint64_t key)
{
    uint8_t buf[17];
    put_le64(buf, gb_hash_str(type ? type : ""));
    buf[8] = 'U';
    put_le64(buf + 9, key);
    return finish(gb_hash64(buf, sizeof buf, 0));
}

static gb_status ref(gb_silo *s, const char *type, const char *key_str, uint64_t key_u64, gb_actor_id *out,
                     const char *where)
{
    if (!s || !type || !out)
        return gbi_error(GB_EINVAL, where, "silo, type and out must not be NULL");
    *out = 0;
    if (atomic_load_explicit(&s->closing, memory_order_acquire))
        return gbi_error(GB_ECLOSED, where, "silo is shutting down");
    const gbi_type *t = gbi_type_find(s, type);
    if (!t)
        return gbi_error(GB_ENOENT, where, "actor type '%s' is not registered", type);
    gb_actor_id id = key_str ? gb_actor_id_str(type, key_str) : gb_actor_id_u64(type, key_u64);
    gbi_actor *a;
    gb_status st = gbi_dir_get_or_create(s->dir, id, t, key_str, key_u64, &a);
    if (st == GB_OK)
        *out = id;
    return st;
}

gb_status gb_actor_ref_str(gb_silo *s, const char *type, const char *key, gb_actor_id *out)
{
    if (!key)
        return gbi_error(GB_EINVAL, "gb_actor_ref_str", "key must not be NULL");
    return ref(s, type, key, 0, out, "gb_actor_ref_str");
}

gb_status gb_actor_ref_u64(gb_silo *s, const char *type, uint64_t key, gb_actor_id *out)
{
    return ref(s, type, NULL, key, out, "gb_actor_ref_u64");
}
