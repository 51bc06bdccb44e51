/*
 * The matcher's index of open runs by key (see run_index.h): an
 * open-addressing table of buckets keyed by (mask, values), each holding
 * its runs in creation order, with a tag byte per slot; a bucket is freed
 * when its last run leaves (backward-shift deletion); plus the unkeyed
 * runs, and the merge of the lists an event may concern; and the pool
 * of free spilled arrays that buckets reuse.
 */
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "pattern/run_index.h"

_Static_assert(sizeof(gbp_rbucket) == 64, "a bucket is one cache line");
_Static_assert(GBP_RBUCKET_SPILL > GBP_RBUCKET_INLINE, "a bucket spills into a larger array");
_Static_assert(sizeof(gbp_rent) >= sizeof(void *), "a free array holds its pool link");

#define HUGE_PAGE ((size_t)2 << 20)

void *gbp_alloc_big(size_t size, int zero)
{
    size_t align = size >= HUGE_PAGE ? HUGE_PAGE : 64;
    if (size > SIZE_MAX - align)
        return NULL;
    size_t n = (size + align - 1) & ~(align - 1);
    void *p = aligned_alloc(align, n ? n : align);
    if (!p)
        return NULL;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (align == HUGE_PAGE)
        (void)madvise(p, n, MADV_HUGEPAGE); /* a hint: failure changes nothing */
#endif
    if (zero)
        memset(p, 0, n);
    return p;
}

/* The low 32 bits pick the home slot, the top 7 bits the slot's tag. */
static uint64_t key_hash(const gbp_rkey *k)
{
    uint64_t x = ((uint64_t)k->v[0] + k->mask) * 0x9E3779B97F4A7C15ull;
    x ^= (uint64_t)k->v[1] * 0xC2B2AE3D27D4EB4Full;
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    return x ^ (x >> 29);
}

/* The tags: one byte per table slot, 0 for a free slot, else 0x80 | the
 * top 7 bits of its key's hash. Kept exact (a slot is freed the moment its
 * bucket empties, gbp_rindex_remove), so a lookup walks the small tag
 * array from the home slot to the first 0 and reads a bucket only when its
 * tag matches: a key with no run costs one tag line, not a bucket line. */
static uint8_t tag_of(uint64_t h)
{
    return (uint8_t)(0x80u | (h >> 57));
}

static uint32_t home(const gbp_rindex *x, uint64_t h)
{
    return (uint32_t)h & (x->tabsize - 1);
}

static int same_key(const gbp_rbucket *b, const gbp_rkey *k)
{
    return b->mask == k->mask && b->v[0] == k->v[0] && b->v[1] == k->v[1];
}

static gbp_rent *items(gbp_rbucket *b)
{
    return b->heap ? b->heap : b->in;
}

/* The slot of k (hash h), or the free slot where it would go (table not
 * empty; the load stays <= 1/2, so there is one). */
static inline __attribute__((always_inline)) uint32_t slot_h(const gbp_rindex *x, const gbp_rkey *k, uint64_t h)
{
    uint32_t mask = x->tabsize - 1, i = home(x, h);
    uint8_t t = tag_of(h);
    while (x->tags[i] && (x->tags[i] != t || !same_key(&x->tab[i], k)))
        i = (i + 1) & mask;
    return i;
}

/* The bucket of k (hash h), or NULL. */
static gbp_rbucket *find_h(const gbp_rindex *x, const gbp_rkey *k, uint64_t h)
{
    if (k->mask == 0)
        return (gbp_rbucket *)&x->unkeyed;
    if (!x->tabsize)
        return NULL;
    uint32_t i = slot_h(x, k, h);
    return x->tags[i] ? &x->tab[i] : NULL;
}

/* A key whose bucket emptied, with its hash, waiting for the settle. */
typedef struct gbp_rpending {
    gbp_rkey k;
    uint64_t h;
} gbp_rpending;

/* Move the buckets into a table of size slots. -1 out of memory (the
 * table is then unchanged). */
static int rebuild(gbp_rindex *x, uint32_t size)
{
    size_t bytes = (size_t)size * sizeof(gbp_rbucket); /* size < 2^32: no overflow */
    gbp_rbucket *tab = gbp_alloc_big(bytes, 0); /* 64-byte aligned: a bucket is one line */
    uint8_t *tags = tab ? calloc(size, 1) : NULL;
    if (!tags) {
        free(tab);
        return -1;
    }
    uint32_t old = x->tabsize;
    gbp_rbucket *from = x->tab;
    uint8_t *oldtags = x->tags;
    x->tab = tab;
    x->tags = tags;
    x->tabsize = size;
    for (uint32_t i = 0; i < old; i++) {
        if (!oldtags[i])
            continue;
        uint32_t j = from[i].hash & (size - 1); /* keys are distinct: the first free slot */
        while (tags[j])
            j = (j + 1) & (size - 1);
        tab[j] = from[i];
        tags[j] = oldtags[i];
    }
    free(from);
    free(oldtags);
    return 0;
}

/* The bucket of k, made (empty) when there is none. NULL out of memory. */
static gbp_rbucket *get(gbp_rindex *x, const gbp_rkey *k)
{
    if (k->mask == 0)
        return &x->unkeyed;
    if (2 * (x->nbuckets + 1) > x->tabsize && rebuild(x, x->tabsize ? x->tabsize * 2 : 64))
        return NULL;
    uint64_t h = key_hash(k);
    uint32_t i = slot_h(x, k, h);
    gbp_rbucket *b = &x->tab[i];
    if (x->tags[i])
        return b;
    *b = (gbp_rbucket){.v = {k->v[0], k->v[1]}, .mask = (uint8_t)k->mask, .hash = (uint32_t)h};
    x->tags[i] = tag_of(h);
    x->nbuckets++;
    return b;
}

/* The pool class of an array of cap entries, or GBP_RPOOL_CLASSES when it
 * has none (cap is GBP_RBUCKET_SPILL << c for every spilled array). */
static uint32_t pool_class(uint32_t cap)
{
    uint32_t c = 0;
    while (c < GBP_RPOOL_CLASSES && (GBP_RBUCKET_SPILL << c) != cap)
        c++;
    return c;
}

/* An array of cap entries: from the pool when it holds one. NULL out of
 * memory. */
static gbp_rent *ents_alloc(gbp_rindex *x, uint32_t cap)
{
    uint32_t c = pool_class(cap);
    if (c < GBP_RPOOL_CLASSES && x->pool.head[c]) {
        void *p = x->pool.head[c];
        memcpy(&x->pool.head[c], p, sizeof(void *)); /* next link, first bytes */
        x->pool.n[c]--;
        return p;
    }
    return malloc((size_t)cap * sizeof(gbp_rent));
}

/* Give back array v of cap entries (NULL: nothing): to the pool while its
 * class has room, else to the allocator. */
static void ents_free(gbp_rindex *x, gbp_rent *v, uint32_t cap)
{
    if (!v)
        return;
    uint32_t c = pool_class(cap);
    if (c == GBP_RPOOL_CLASSES || x->pool.n[c] >= GBP_RPOOL_MAX) {
        free(v);
        return;
    }
    memcpy(v, &x->pool.head[c], sizeof(void *));
    x->pool.head[c] = v;
    x->pool.n[c]++;
}

static void pool_drain(gbp_rpool *p)
{
    for (uint32_t c = 0; c < GBP_RPOOL_CLASSES; c++) {
        while (p->head[c]) {
            void *v = p->head[c];
            memcpy(&p->head[c], v, sizeof(void *));
            free(v);
        }
        p->n[c] = 0;
    }
}

void gbp_rindex_pool_counts(const gbp_rindex *x, uint32_t counts[GBP_RPOOL_CLASSES])
{
    for (uint32_t c = 0; c < GBP_RPOOL_CLASSES; c++)
        counts[c] = x->pool.n[c];
}

/* Free slot i (its bucket is empty) by backward shift (linear probing
 * without tombstones): each later bucket of the cluster whose home is not
 * cyclically in (i, j] moves into the hole. O(cluster length), which the
 * load of at most 1/2 keeps short. */
static void drop_slot(gbp_rindex *x, uint32_t i)
{
    uint32_t mask = x->tabsize - 1;
    ents_free(x, x->tab[i].heap, x->tab[i].cap);
    for (uint32_t j = (i + 1) & mask; x->tags[j]; j = (j + 1) & mask) {
        uint32_t h = x->tab[j].hash & mask;
        int stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
        if (stays)
            continue;
        x->tab[i] = x->tab[j];
        x->tags[i] = x->tags[j];
        i = j;
    }
    x->tags[i] = 0;
    x->nbuckets--;
}

/* Room for one more entry in b. -1 out of memory. */
static int reserve(gbp_rindex *x, gbp_rbucket *b)
{
    uint32_t have = b->heap ? b->cap : GBP_RBUCKET_INLINE;
    if (b->n < have)
        return 0;
    uint32_t cap = b->heap ? have * 2 : GBP_RBUCKET_SPILL;
    gbp_rent *v = ents_alloc(x, cap);
    if (!v)
        return -1;
    memcpy(v, items(b), (size_t)b->n * sizeof *v);
    ents_free(x, b->heap, b->cap);
    b->heap = v;
    b->cap = cap;
    return 0;
}

int gbp_rindex_insert(gbp_rindex *x, const gbp_rkey *k, void *run, uint64_t seq)
{
    gbp_rbucket *b = get(x, k);
    if (!b)
        return -1;
    if (reserve(x, b)) {
        if (b->n == 0 && k->mask) /* just made for this run: keep the invariant */
            drop_slot(x, (uint32_t)(b - x->tab));
        return -1;
    }
    gbp_rent *it = items(b);
    uint32_t i = b->n;
    while (i > 0 && it[i - 1].seq > seq) {
        it[i] = it[i - 1];
        i--;
    }
    it[i] = (gbp_rent){run, seq};
    b->n++;
    x->mask_runs[k->mask]++;
    if (k->mask)
        x->active |= 1u << k->mask;
    return 0;
}

void gbp_rindex_remove(gbp_rindex *x, const gbp_rkey *k, const void *run)
{
    uint64_t h = k->mask ? key_hash(k) : 0;
    gbp_rbucket *b = find_h(x, k, h);
    if (!b)
        return;
    gbp_rent *it = items(b);
    uint32_t i = b->n;
    while (i > 0 && it[i - 1].run != run)
        i--;
    if (i == 0)
        return;
    memmove(&it[i - 1], &it[i], (size_t)(b->n - i) * sizeof *it);
    b->n--;
    if (--x->mask_runs[k->mask] == 0 && k->mask)
        x->active &= ~(1u << k->mask);
    if (b->n || !k->mask)
        return;
    /* the key has no run left: its slot goes at the next settle */
    if (x->npending == x->cappending) {
        uint32_t cap = x->cappending ? 2 * x->cappending : 16;
        gbp_rpending *v = cap > x->cappending ? realloc(x->pending, (size_t)cap * sizeof *v) : NULL;
        if (!v) {
            drop_slot(x, (uint32_t)(b - x->tab));
            return;
        }
        x->pending = v;
        x->cappending = cap;
    }
    x->pending[x->npending++] = (gbp_rpending){*k, h};
}

void gbp_rindex_settle(gbp_rindex *x)
{
    for (uint32_t i = 0; i < x->npending; i++) {
        gbp_rbucket *b = find_h(x, &x->pending[i].k, x->pending[i].h);
        if (b && b->n == 0)
            drop_slot(x, (uint32_t)(b - x->tab));
    }
    x->npending = 0;
}

/* Room for n entries in l. -1 out of memory. */
static int room(gbp_rlist *l, uint32_t n)
{
    if (n <= l->cap)
        return 0;
    uint32_t cap = l->cap ? l->cap : 16;
    while (cap < n)
        cap *= 2;
    gbp_rent *v = realloc(l->v, (size_t)cap * sizeof *v);
    if (!v)
        return -1;
    l->v = v;
    l->cap = cap;
    return 0;
}

/* out = the merge of a (n entries) and b (m entries) by seq. */
static void merge(gbp_rent *out, const gbp_rent *a, uint32_t n, const gbp_rent *b, uint32_t m)
{
    uint32_t i = 0, j = 0, k = 0;
    while (i < n || j < m)
        out[k++] = j == m || (i < n && a[i].seq < b[j].seq) ? a[i++] : b[j++];
}

/* Merge bucket b into scratch list *cur (the other scratch list is the
 * target, then becomes *cur). -1 out of memory. */
static int merge_in(gbp_rindex *x, int *cur, gbp_rbucket *b)
{
    gbp_rlist *a = &x->scratch[*cur], *o = &x->scratch[!*cur];
    if (a->n == 0) {
        if (room(a, b->n))
            return -1;
        memcpy(a->v, items(b), (size_t)b->n * sizeof *a->v);
        a->n = b->n;
        return 0;
    }
    if (room(o, a->n + b->n))
        return -1;
    merge(o->v, a->v, a->n, items(b), b->n);
    o->n = a->n + b->n;
    a->n = 0;
    *cur = !*cur;
    return 0;
}

const gbp_rlist *gbp_rindex_gather(gbp_rindex *x, const int64_t f[GBP_RKEY_FIELDS])
{
    int cur = 0;
    x->scratch[0].n = x->scratch[1].n = 0;
    for (uint32_t act = x->tabsize ? x->active : 0; act; act &= act - 1) {
        gbp_rkey k;
        gbp_rkey_make(&k, (uint32_t)__builtin_ctz(act), f);
        uint64_t h = key_hash(&k);
        if (!x->tags[home(x, h)]) /* the common case: no key near it */
            continue;
        uint32_t i = slot_h(x, &k, h);
        if (x->tags[i] && x->tab[i].n && merge_in(x, &cur, &x->tab[i]))
            return NULL;
    }
    if (x->unkeyed.n && merge_in(x, &cur, &x->unkeyed))
        return NULL;
    return &x->scratch[cur];
}

void gbp_rindex_probe_start(const gbp_rindex *x, const int64_t f[GBP_RKEY_FIELDS], gbp_rprobe *pr, int eager)
{
    pr->n = 0;
    if (!x->tabsize)
        return;
    for (uint32_t act = x->active; act && pr->n < GBP_RPROBE_KEYS; act &= act - 1) {
        gbp_rkey *k = &pr->k[pr->n];
        gbp_rkey_make(k, (uint32_t)__builtin_ctz(act), f);
        uint64_t h = key_hash(k);
        pr->h[pr->n++] = h;
        __builtin_prefetch(&x->tags[home(x, h)]);
        if (eager)
            __builtin_prefetch(&x->tab[home(x, h)]);
    }
}

/* The slot whose tag matches h's, from its home slot to the first free
 * one, or UINT32_MAX (reads tags only). */
static uint32_t tag_match(const gbp_rindex *x, uint64_t h)
{
    uint32_t mask = x->tabsize - 1, i = home(x, h);
    uint8_t t = tag_of(h);
    for (; x->tags[i]; i = (i + 1) & mask)
        if (x->tags[i] == t)
            return i;
    return UINT32_MAX;
}

void gbp_rindex_probe_buckets(const gbp_rindex *x, gbp_rprobe *pr)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < pr->n; i++) {
        uint32_t at = tag_match(x, pr->h[i]);
        if (at == UINT32_MAX)
            continue;
        const gbp_rbucket *b = &x->tab[at];
        __builtin_prefetch(b);
        pr->h[n] = pr->h[i];
        pr->k[n++] = pr->k[i];
    }
    pr->n = n;
}

void gbp_rindex_probe_runs(const gbp_rindex *x, const gbp_rprobe *pr, size_t bytes)
{
    for (uint32_t i = 0; i < pr->n; i++) {
        uint32_t at = slot_h(x, &pr->k[i], pr->h[i]);
        if (!x->tags[at])
            continue;
        const gbp_rbucket *b = &x->tab[at];
        const gbp_rent *it = b->heap ? b->heap : b->in;
        for (uint32_t j = 0; j < b->n && j < 4; j++)
            for (size_t off = 0; off < bytes; off += 64)
                __builtin_prefetch((const char *)it[j].run + off, 1);
    }
}

void gbp_rindex_prefetch_key(const gbp_rindex *x, const gbp_rkey *k)
{
    if (!x->tabsize || !k->mask)
        return;
    uint64_t h = key_hash(k);
    const gbp_rbucket *b = &x->tab[home(x, h)];
    __builtin_prefetch(&x->tags[home(x, h)], 1);
    __builtin_prefetch(b, 1);
}

int gbp_rindex_reset(gbp_rindex *x, uint64_t max_slots)
{
    if (x->tabsize > max_slots)
        return 0;
    for (uint32_t i = 0; i < x->tabsize; i++)
        if (x->tags[i])
            ents_free(x, x->tab[i].heap, x->tab[i].cap);
    if (x->tabsize)
        memset(x->tags, 0, x->tabsize);
    x->nbuckets = 0;
    x->npending = 0;
    x->unkeyed.n = 0;
    memset(x->mask_runs, 0, sizeof x->mask_runs);
    x->active = 0;
    return 1;
}

void gbp_rindex_clear(gbp_rindex *x)
{
    for (uint32_t i = 0; i < x->tabsize; i++)
        if (x->tags[i])
            free(x->tab[i].heap);
    free(x->tab);
    free(x->tags);
    free(x->unkeyed.heap);
    free(x->pending);
    pool_drain(&x->pool);
    free(x->scratch[0].v);
    free(x->scratch[1].v);
    memset(x, 0, sizeof *x);
}
