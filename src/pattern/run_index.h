/*
 * Internal, host only: the CPU matcher's index of open runs by the values
 * the next event must carry.
 *
 * A run of a keyed pattern knows, from the `where` clauses that may take or
 * kill it next, equalities `cur.F == var.G` that every concerning event
 * satisfies: F is an integer field (id, type, ts, source, target) and the
 * run knows each required value. A key is the set of such fields (a mask,
 * reduced to at most GBP_RKEY_VALUES of them) with their values. The index
 * keeps, per key, the runs waiting for it in creation (seq) order, plus one
 * list of runs without a key (mask 0). An event gathers the lists of every
 * key mask in use, computed from its own fields, merged in creation order:
 * exactly the runs it may concern, without touching any other run.
 *
 * List entries carry the run's creation number inline, so inserting in
 * order and merging never read a run block. Buckets live inline in an
 * open-addressing table (linear probing, load <= 1/2) beside a byte of
 * hash tag per slot. Invariant: a keyed bucket exists exactly while it
 * holds runs, outside of a caller's settle window: the run that leaves
 * last frees its slot (backward shift, no tombstones) at once, or when
 * the caller settles the index (gbp_rindex_settle, at the end of each
 * event: a key emptied and refilled by the same event, the common case of
 * a run killed and replaced, then keeps its slot). Every call costs
 * O(its lists + a probe cluster), with no periodic sweep; only growth (doubling, when the keys
 * in use pass half the table) moves every bucket. The table never shrinks:
 * it stays at the size the most keys in use at once needed. Not
 * thread-safe: a matcher is used by one thread at a time.
 */
#ifndef GBP_RUN_INDEX_H
#define GBP_RUN_INDEX_H

#include <stddef.h>
#include <stdint.h>

#define GBP_RKEY_FIELDS 5 /* fields id..target: the integer fields a key may use */
#define GBP_RKEY_VALUES 2 /* values kept per key (the lowest fields of its mask) */
#define GBP_RKEY_MASKS (1u << GBP_RKEY_FIELDS)

/* mask: bit f set when field f is part of the key; v: the values of the set
 * fields in field order (unused ones 0). mask 0: no key. */
typedef struct gbp_rkey {
    uint32_t mask;
    int64_t v[GBP_RKEY_VALUES];
} gbp_rkey;

typedef struct gbp_rent {
    void *run;
    uint64_t seq;
} gbp_rent;

/* Entries in a heap array, in seq order. */
typedef struct gbp_rlist {
    gbp_rent *v;
    uint32_t n, cap;
} gbp_rlist;

/* The runs of one key in seq order: the first GBP_RBUCKET_INLINE entries in
 * the bucket itself (most keys hold one run: no allocation, no second cache
 * line), more in a heap array (then cap is its size). */
#define GBP_RBUCKET_INLINE 1u
typedef struct gbp_rbucket {
    int64_t v[GBP_RKEY_VALUES];
    uint8_t mask;
    uint32_t n, cap;
    uint32_t hash;     /* low 32 bits of the key's hash: its home slot */
    gbp_rent *heap;
    gbp_rent in[GBP_RBUCKET_INLINE];
    char pad[8];       /* 64 bytes: in the 64-byte aligned table, one line each */
} gbp_rbucket;

/* Spilled bucket arrays are kept for reuse, per size class (capacity
 * GBP_RBUCKET_SPILL << c entries, c < GBP_RPOOL_CLASSES), in a singly
 * linked list threaded through the free arrays themselves, at most
 * GBP_RPOOL_MAX per class: a key that fills and empties over and over
 * (the run killed and replaced under the same key) then costs no
 * malloc/realloc/free. Larger arrays go back to the allocator. */
#define GBP_RBUCKET_SPILL 4u
#define GBP_RPOOL_CLASSES 4u
#define GBP_RPOOL_MAX 4096u
typedef struct gbp_rpool {
    void *head[GBP_RPOOL_CLASSES];
    uint32_t n[GBP_RPOOL_CLASSES];
} gbp_rpool;

typedef struct gbp_rindex {
    gbp_rbucket *tab;
    uint8_t *tags;     /* per slot of tab: 0 free, else 0x80 | 7 bits of the key's hash */
    uint32_t tabsize;  /* 0, or a power of two >= 64 */
    uint32_t nbuckets; /* keyed buckets, each holding at least one run (once settled) */
    struct gbp_rpending *pending; /* keys whose bucket emptied since the last settle */
    uint32_t npending, cappending;
    uint32_t mask_runs[GBP_RKEY_MASKS]; /* runs held under each mask (0: unkeyed) */
    uint32_t active;                    /* bit m set when mask_runs[m] > 0, m >= 1 */
    gbp_rbucket unkeyed;
    gbp_rlist scratch[2]; /* gathered candidates */
    gbp_rpool pool;       /* free spilled arrays, for reuse */
} gbp_rindex;

/* size bytes, 64-byte aligned, zeroed when zero is set; from 2 MiB up,
 * 2 MiB aligned and marked for transparent huge pages where the OS has
 * them (a hint: a table or slab read at random then costs fewer TLB
 * misses). NULL on failure; release with free(). */
void *gbp_alloc_big(size_t size, int zero);

/* *k = the key of the fields in mask (at most GBP_RKEY_VALUES of them are
 * kept, the lowest), full[f] being the required value of field f. */
static inline void gbp_rkey_make(gbp_rkey *k, uint32_t mask, const int64_t full[GBP_RKEY_FIELDS])
{
    k->mask = 0;
    k->v[0] = k->v[1] = 0;
    for (uint32_t n = 0; mask && n < GBP_RKEY_VALUES; n++, mask &= mask - 1) {
        uint32_t f = (uint32_t)__builtin_ctz(mask);
        k->mask |= 1u << f;
        k->v[n] = full[f];
    }
}

/* Add run (creation number seq) under key k, keeping seq order.
 * 0, or -1 out of memory (the index is unchanged). */
int gbp_rindex_insert(gbp_rindex *x, const gbp_rkey *k, void *run, uint64_t seq);

/* Remove run from the list of key k (no-op when it is not there); the
 * bucket of k goes when this was its last run: at the next
 * gbp_rindex_settle (at once if the key cannot be noted, out of memory). */
void gbp_rindex_remove(gbp_rindex *x, const gbp_rkey *k, const void *run);

/* The runs an event with integer fields f[0..4] may concern: its list for
 * every key mask in use and the unkeyed runs, merged in seq order. The list
 * stays valid until the next call. NULL out of memory. */
const gbp_rlist *gbp_rindex_gather(gbp_rindex *x, const int64_t f[GBP_RKEY_FIELDS]);

/* Prefetching what gbp_rindex_gather(x, f) will read, in three steps so
 * that a caller with many indexes (one per pattern) can run each step over
 * all of them and overlap their cache misses: probe_start computes the
 * keys of f and loads their tags, probe_buckets loads the buckets whose
 * tag matches, probe_runs reads those buckets and loads
 * the first bytes of the first run blocks they list (every line a bind
 * may write). Hints only: nothing changes. */
#define GBP_RPROBE_KEYS 4
typedef struct gbp_rprobe {
    uint32_t n;
    uint64_t h[GBP_RPROBE_KEYS];
    gbp_rkey k[GBP_RPROBE_KEYS];
} gbp_rprobe;
/* eager: probe_start also loads each key's home bucket, without waiting
 * for its tag (one dependent miss less when the keys usually have a
 * bucket, at the cost of a line per key that has none). */
void gbp_rindex_probe_start(const gbp_rindex *x, const int64_t f[GBP_RKEY_FIELDS], gbp_rprobe *pr, int eager);
void gbp_rindex_probe_buckets(const gbp_rindex *x, gbp_rprobe *pr);
void gbp_rindex_probe_runs(const gbp_rindex *x, const gbp_rprobe *pr, size_t bytes);

/* The same for the bucket of key k (where a run is about to be placed). */
void gbp_rindex_prefetch_key(const gbp_rindex *x, const gbp_rkey *k);

/* Free the buckets emptied since the last settle that are still empty.
 * O(keys emptied since then). */
void gbp_rindex_settle(gbp_rindex *x);

/* Drop every run at once, keeping the table, when it has at most
 * max_slots slots (the cost is O(slots)): returns 1; else 0 and nothing
 * changes. */
int gbp_rindex_reset(gbp_rindex *x, uint64_t max_slots);

/* Free spilled arrays kept for reuse, per size class (for tests and
 * statistics): *counts gets GBP_RPOOL_CLASSES numbers. */
void gbp_rindex_pool_counts(const gbp_rindex *x, uint32_t counts[GBP_RPOOL_CLASSES]);

/* Free everything; the index is empty and reusable afterwards. */
void gbp_rindex_clear(gbp_rindex *x);

#endif
