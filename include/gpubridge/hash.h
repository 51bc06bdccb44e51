/*
 * Hashing: one stable 64-bit hash (XXH3-64) for actor ids, method ids,
 * lanes, cache keys. Stable across processes, machines and versions of
 * gpubridge: ids computed here may be stored and sent over the wire.
 */
#ifndef GPUBRIDGE_HASH_H
#define GPUBRIDGE_HASH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 64-bit hash of len bytes with a seed. data may be NULL when len is 0.
 * Thread-safe. */
uint64_t gb_hash64(const void *data, size_t len, uint64_t seed);

/* gb_hash64 of a NUL-terminated string (without the NUL), seed 0.
 * Thread-safe. */
uint64_t gb_hash_str(const char *s);

/* Mix a 64-bit integer into a well-distributed 64-bit value (a bijection).
 * Thread-safe. */
uint64_t gb_hash_u64(uint64_t x);

#ifdef __cplusplus
}
#endif
#endif
