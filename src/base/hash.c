/*
 * The one hash function of gpubridge: XXH3-64 from Debian's libxxhash-dev,
 * compiled inline (XXH_INLINE_ALL) so the library needs no libxxhash at
 * link or run time.
 */
#include "gpubridge/hash.h"

#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

uint64_t gb_hash64(const void *data, size_t len, uint64_t seed)
{
    static const char empty[1] = {0};
    return XXH3_64bits_withSeed(data ? data : empty, data ? len : 0, seed);
}

uint64_t gb_hash_str(const char *s)
{
    return s ? gb_hash64(s, strlen(s), 0) : gb_hash64(NULL, 0, 0);
}

uint64_t gb_hash_u64(uint64_t x)
{
    /* splitmix64 finaliser: a bijection with full avalanche. */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}
