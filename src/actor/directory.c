/*
 * The directory: actor id -> actor record, a concurrent hash map. Today every
 * record is a local activation on this silo's CPU workers; later a record
 * will also say "on ring R of device D" or "on silo S", and senders will not
 * change, because they only ever route through gbi_dir_lookup.
 *
 * Layout: 256 shards chosen by the id's top byte; each shard is a chained
 * hash table that grows by doubling. Writers (insert, grow) hold the shard's
 * mutex; readers take no lock.
 *
 * Invariants that make lock-free reads safe:
 *  - records are never removed or freed before the silo is destroyed (a
 *    deactivated actor keeps its record: identity, mailbox, kept state);
 *  - a record is fully initialised before the release store that links it;
 *  - bucket arrays replaced by a grow are kept until destroy, so a reader
 *    holding an old array never reads freed memory;
 *  - a grow moves records one by one to the head of their new chain, so a
 *    reader that follows a moved record only visits records moved earlier:
 *    every traversal ends. It may miss its record while a grow runs; a miss
 *    is therefore confirmed under the shard's mutex.
 *
 * Records come from per-shard slabs (chunks of 4, 8, ... up to SLAB_MAX
 * records, taken under the shard's mutex like every insert), never from one
 * malloc each: a 64-byte-aligned malloc per record made glibc split a
 * larger block every time, 15% of the time to activate a million actors.
 * Since records are never freed before destroy, the chunks are simply
 * freed then.
 *
 * A bucket word is the chain's first record (records are 64-byte aligned)
 * with a 6-bit filter in its low bits: bit tag_bit(id) of every id in the
 * chain is set (bits are only ever added; a grow computes them afresh). A
 * lookup of an id whose bit is clear stops at the bucket word without
 * reading any record: the chain walk was a cache miss per record, a third
 * of the time to activate a million actors.
 */
#include <stdlib.h>
#include <string.h>

#include "actor/runtime.h"
#include "base/error.h"

#define SHARDS 256
#define INITIAL_BUCKETS 16
#define SLAB_FIRST 4    /* records in a shard's first chunk; each next one doubles */
#define SLAB_MAX 256    /* records in the largest chunk (32 KB) */

/* A chunk of records; its header takes one cache line, the records follow. */
typedef struct slab {
    struct slab *next;
    uint32_t n;
} slab;

typedef struct table {
    struct table *retired; /* older arrays of this shard, freed at destroy */
    size_t mask;
    _Atomic(uintptr_t) b[]; /* first record | filter bits (see above) */
} table;

#define TAG_BITS ((uintptr_t)(GBI_CACHE_LINE - 1))

/* The filter bit of id: from bits that pick neither the shard (top byte)
 * nor the bucket (low bits, below 2^40 buckets). */
static uintptr_t tag_bit(uint64_t id)
{
    return (uintptr_t)1 << ((id >> 40) % 6);
}

static gbi_actor *first_of(uintptr_t word)
{
    return (gbi_actor *)(void *)(word & ~TAG_BITS);
}

typedef struct shard {
    _Alignas(GBI_CACHE_LINE) pthread_mutex_t lock;
    _Atomic(table *) tab;
    size_t count;
    slab *slabs;     /* newest first; freed at destroy */
    uint32_t used;   /* records taken from slabs (the newest) */
} shard;

struct gbi_directory {
    shard s[SHARDS];
    _Atomic uint64_t count;
};

/* A zeroed bucket array on cache lines of its own: every send reads its
 * header and a bucket, and a plain calloc could put them on a line shared
 * with a message envelope that another core writes (a miss per send). */
static table *table_new(size_t buckets)
{
    size_t size = (sizeof(table) + buckets * sizeof(_Atomic(uintptr_t)) + GBI_CACHE_LINE - 1) &
                  ~(size_t)(GBI_CACHE_LINE - 1);
    table *t = aligned_alloc(GBI_CACHE_LINE, size);
    if (t) {
        memset(t, 0, size);
        t->mask = buckets - 1;
    }
    return t;
}

gb_status gbi_dir_create(gbi_directory **out)
{
    gbi_directory *d = aligned_alloc(GBI_CACHE_LINE, sizeof *d);
    if (!d)
        return gbi_error(GB_ENOMEM, "directory", "out of memory");
    memset(d, 0, sizeof *d);
    for (int i = 0; i < SHARDS; i++) {
        table *t = table_new(INITIAL_BUCKETS);
        if (!t) {
            d->s[i].tab = NULL;
            gbi_dir_destroy(d);
            return gbi_error(GB_ENOMEM, "directory", "out of memory");
        }
        pthread_mutex_init(&d->s[i].lock, NULL);
        atomic_init(&d->s[i].tab, t);
    }
    atomic_init(&d->count, 0);
    *out = d;
    return GB_OK;
}

static void free_record(gbi_actor *a)
{
    if (a->key_is_str)
        free(a->key.str);
    free(a->state);
}

static gbi_actor *slab_record(slab *b, uint32_t i)
{
    return (gbi_actor *)(void *)((char *)b + GBI_CACHE_LINE) + i;
}

/* A zeroed record from the shard's slabs, or NULL; caller holds the lock. */
static gbi_actor *slab_take(shard *sh)
{
    slab *b = sh->slabs;
    if (!b || sh->used == b->n) {
        uint32_t n = b ? (b->n < SLAB_MAX ? 2 * b->n : SLAB_MAX) : SLAB_FIRST;
        slab *nb = aligned_alloc(GBI_CACHE_LINE, GBI_CACHE_LINE + (size_t)n * sizeof(gbi_actor));
        if (!nb)
            return NULL;
        nb->next = b;
        nb->n = n;
        sh->slabs = b = nb;
        sh->used = 0;
    }
    gbi_actor *a = slab_record(b, sh->used++);
    memset(a, 0, sizeof *a);
    return a;
}

static void slab_free_all(shard *sh)
{
    while (sh->slabs) {
        slab *n = sh->slabs->next;
        free(sh->slabs);
        sh->slabs = n;
    }
}

void gbi_dir_destroy(gbi_directory *d)
{
    if (!d)
        return;
    for (int i = 0; i < SHARDS; i++) {
        table *t = atomic_load_explicit(&d->s[i].tab, memory_order_relaxed);
        if (!t)
            continue;
        for (size_t b = 0; b <= t->mask; b++) {
            gbi_actor *a = first_of(atomic_load_explicit(&t->b[b], memory_order_relaxed));
            while (a) {
                gbi_actor *n = atomic_load_explicit(&a->dir_next, memory_order_relaxed);
                free_record(a);
                a = n;
            }
        }
        while (t) {
            table *r = t->retired;
            free(t);
            t = r;
        }
        slab_free_all(&d->s[i]);
        pthread_mutex_destroy(&d->s[i].lock);
    }
    free(d);
}

static shard *shard_of(gbi_directory *d, uint64_t id)
{
    return &d->s[id >> 56];
}

static gbi_actor *find(table *t, uint64_t id)
{
    uintptr_t word = atomic_load_explicit(&t->b[id & t->mask], memory_order_acquire);
    if (!(word & tag_bit(id)))
        return NULL; /* no id of this chain has id's bit */
    gbi_actor *a = first_of(word);
    while (a && a->id != id)
        a = atomic_load_explicit(&a->dir_next, memory_order_acquire);
    return a;
}

gbi_actor *gbi_dir_lookup(gbi_directory *d, uint64_t id)
{
    shard *sh = shard_of(d, id);
    gbi_actor *a = find(atomic_load_explicit(&sh->tab, memory_order_acquire), id);
    if (a)
        return a;
    pthread_mutex_lock(&sh->lock); /* confirm a miss: a grow may have hidden it */
    a = find(atomic_load_explicit(&sh->tab, memory_order_relaxed), id);
    pthread_mutex_unlock(&sh->lock);
    return a;
}

/* Double the shard's table; caller holds the lock. On ENOMEM the shard
 * simply keeps longer chains. */
static void grow(shard *sh)
{
    table *old = atomic_load_explicit(&sh->tab, memory_order_relaxed);
    table *nt = table_new((old->mask + 1) * 2);
    if (!nt)
        return;
    for (size_t b = 0; b <= old->mask; b++) {
        gbi_actor *a = first_of(atomic_load_explicit(&old->b[b], memory_order_relaxed));
        while (a) {
            gbi_actor *next = atomic_load_explicit(&a->dir_next, memory_order_relaxed);
            _Atomic(uintptr_t) *slot = &nt->b[a->id & nt->mask];
            uintptr_t word = atomic_load_explicit(slot, memory_order_relaxed);
            atomic_store_explicit(&a->dir_next, first_of(word), memory_order_release);
            atomic_store_explicit(slot, (uintptr_t)a | (word & TAG_BITS) | tag_bit(a->id), memory_order_relaxed);
            a = next;
        }
    }
    nt->retired = old;
    atomic_store_explicit(&sh->tab, nt, memory_order_release);
}

/* A new record; caller holds sh's lock. */
static gbi_actor *record_new(shard *sh, uint64_t id, const gbi_type *t, const char *key_str, uint64_t key_u64)
{
    gbi_actor *a = slab_take(sh);
    if (!a)
        return NULL;
    if (key_str && !(a->key.str = strdup(key_str))) {
        sh->used--; /* the record just taken goes back */
        return NULL;
    }
    a->key_is_str = key_str != NULL;
    if (!key_str)
        a->key.u64 = key_u64;
    a->id = id;
    a->type = t;
    a->location = t->dev ? GBI_LOC_RING : GBI_LOC_CPU;
    atomic_init(&a->dir_next, NULL);
    atomic_init(&a->rq_node.next, NULL);
    atomic_init(&a->depth, 0);
    atomic_init(&a->deferred_n, 0);
    atomic_init(&a->is_active, 0);
    atomic_init(&a->deact_pending, 0);
    atomic_init(&a->last_turn_ns, 0);
    gbi_mpsc_init_at(&a->mb_head, &a->mb_tail, &a->mb_stub);
    return a;
}

static int same_identity(const gbi_actor *a, const gbi_type *t, const char *key_str, uint64_t key_u64)
{
    if (a->type != t)
        return 0;
    if (key_str)
        return a->key_is_str && strcmp(a->key.str, key_str) == 0;
    return !a->key_is_str && a->key.u64 == key_u64;
}

gb_status gbi_dir_get_or_create(gbi_directory *d, uint64_t id, const gbi_type *t, const char *key_str,
                                uint64_t key_u64, gbi_actor **out)
{
    shard *sh = shard_of(d, id);
    gbi_actor *a = find(atomic_load_explicit(&sh->tab, memory_order_acquire), id);
    if (!a) {
        pthread_mutex_lock(&sh->lock);
        table *tab = atomic_load_explicit(&sh->tab, memory_order_relaxed);
        a = find(tab, id);
        if (!a && (a = record_new(sh, id, t, key_str, key_u64))) {
            _Atomic(uintptr_t) *slot = &tab->b[id & tab->mask];
            uintptr_t word = atomic_load_explicit(slot, memory_order_relaxed);
            atomic_store_explicit(&a->dir_next, first_of(word), memory_order_relaxed);
            /* publish the record */
            atomic_store_explicit(slot, (uintptr_t)a | (word & TAG_BITS) | tag_bit(id), memory_order_release);
            atomic_fetch_add_explicit(&d->count, 1, memory_order_relaxed);
            if (++sh->count * 2 > tab->mask + 1) /* load factor <= 1/2 */
                grow(sh);
        }
        pthread_mutex_unlock(&sh->lock);
        if (!a)
            return gbi_error(GB_ENOMEM, "directory", "out of memory for actor %016llx",
                             (unsigned long long)id);
    }
    if (!same_identity(a, t, key_str, key_u64))
        return gbi_error(GB_EEXIST, "directory", "id %016llx already belongs to another (type, key)",
                         (unsigned long long)id);
    *out = a;
    return GB_OK;
}

void gbi_dir_foreach(gbi_directory *d, void (*fn)(gbi_actor *a, void *arg), void *arg)
{
    for (int i = 0; i < SHARDS; i++) {
        shard *sh = &d->s[i];
        pthread_mutex_lock(&sh->lock);
        table *t = atomic_load_explicit(&sh->tab, memory_order_relaxed);
        for (size_t b = 0; b <= t->mask; b++) {
            gbi_actor *a = first_of(atomic_load_explicit(&t->b[b], memory_order_relaxed));
            for (; a; a = atomic_load_explicit(&a->dir_next, memory_order_relaxed))
                fn(a, arg);
        }
        pthread_mutex_unlock(&sh->lock);
    }
}

uint64_t gbi_dir_count(gbi_directory *d)
{
    return atomic_load_explicit(&d->count, memory_order_relaxed);
}
