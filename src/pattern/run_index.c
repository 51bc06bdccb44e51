/*
 * The matcher's index of open runs by key (see run_index.h): an
 * open-addressing table of buckets keyed by (mask, values), each holding
 * its runs in creation order, plus the unkeyed runs, and the merge of the
 * lists an event may concern.
 */
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "pattern/run_index.h"

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

/* The low 32 bits pick the home slot, the high 32 bits the filter bit. */
static uint64_t key_hash(const gbp_rkey *k)
{
    uint64_t x = ((uint64_t)k->v[0] + k->mask) * 0x9E3779B97F4A7C15ull;
    x ^= (uint64_t)k->v[1] * 0xC2B2AE3D27D4EB4Full;
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    return x ^ (x >> 29);
}

/* The filter: 8 bits per table slot. A bucket that holds runs has its bit
 * set (set when it gets its first run, recomputed at every rebuild; a
 * bucket that empties leaves it set until then), so a clear bit proves
 * that no run waits for the key: the common case of a lookup for a key
 * with no run reads only this small array, not the table. */
static uint64_t filter_bit(const gbp_rindex *x, uint64_t h)
{
    return (h >> 32) & (8 * (uint64_t)x->tabsize - 1);
}

static int filter_has(const gbp_rindex *x, uint64_t h)
{
    uint64_t bit = filter_bit(x, h);
    return (int)(x->filt[bit >> 6] >> (bit & 63)) & 1;
}

static void filter_set(gbp_rindex *x, uint64_t h)
{
    uint64_t bit = filter_bit(x, h);
    x->filt[bit >> 6] |= 1ull << (bit & 63);
}

static int same_key(const gbp_rbucket *b, const gbp_rkey *k)
{
    return b->mask == k->mask && b->v[0] == k->v[0] && b->v[1] == k->v[1];
}

static gbp_rent *items(gbp_rbucket *b)
{
    return b->heap ? b->heap : b->in;
}

/* The bucket of k (hash h), or the free entry where it would go (table
 * not empty). */
static gbp_rbucket *slot_h(const gbp_rindex *x, const gbp_rkey *k, uint64_t h)
{
    uint32_t mask = x->tabsize - 1, i = (uint32_t)h & mask;
    while (x->tab[i].used && !same_key(&x->tab[i], k))
        i = (i + 1) & mask;
    return &x->tab[i];
}

static gbp_rbucket *slot(const gbp_rindex *x, const gbp_rkey *k)
{
    return slot_h(x, k, key_hash(k));
}

static gbp_rbucket *find(const gbp_rindex *x, const gbp_rkey *k)
{
    if (k->mask == 0)
        return (gbp_rbucket *)&x->unkeyed;
    gbp_rbucket *b = x->tabsize ? slot(x, k) : NULL;
    return b && b->used ? b : NULL;
}

/* Move the buckets into a table of size entries, dropping the empty ones
 * when drop_empty (their heap arrays are freed). -1 out of memory (the
 * table is then unchanged). */
static int rebuild(gbp_rindex *x, uint32_t size, int drop_empty)
{
    size_t bytes = (size_t)size * sizeof(gbp_rbucket); /* size < 2^32: no overflow */
    gbp_rbucket *tab = NULL;
    if (x->spare && x->sparesize == size) { /* a sweep: reuse the last table's memory, no page faults */
        tab = x->spare;
        x->spare = NULL;
        memset(tab, 0, bytes);
    } else {
        tab = bytes < HUGE_PAGE ? calloc(size, sizeof *tab) : gbp_alloc_big(bytes, 1);
    }
    uint64_t *filt = tab ? calloc(size / 8 ? size / 8 : 1, sizeof *filt) : NULL; /* 8 bits per slot */
    if (!filt) {
        free(tab);
        return -1;
    }
    uint32_t old = x->tabsize, n = 0;
    gbp_rbucket *from = x->tab;
    free(x->filt);
    x->tab = tab;
    x->filt = filt;
    x->tabsize = size;
    for (uint32_t i = 0; i < old; i++) {
        if (!from[i].used)
            continue;
        if (drop_empty && from[i].n == 0) {
            free(from[i].heap);
            continue;
        }
        gbp_rkey k = {.mask = from[i].mask, .v = {from[i].v[0], from[i].v[1]}};
        uint64_t h = key_hash(&k);
        *slot_h(x, &k, h) = from[i];
        if (from[i].n)
            filter_set(x, h);
        n++;
    }
    free(x->spare);
    x->spare = from; /* kept for the next sweep at this size */
    x->sparesize = old;
    x->nbuckets = n;
    return 0;
}

static gbp_rbucket *get(gbp_rindex *x, const gbp_rkey *k)
{
    if (k->mask == 0)
        return &x->unkeyed;
    if (2 * (x->nbuckets + 1) > x->tabsize && rebuild(x, x->tabsize ? x->tabsize * 2 : 64, 0))
        return NULL;
    uint64_t h = key_hash(k);
    filter_set(x, h); /* the caller adds a run */
    gbp_rbucket *b = slot_h(x, k, h);
    if (b->used)
        return b;
    *b = (gbp_rbucket){.v = {k->v[0], k->v[1]}, .mask = (uint8_t)k->mask, .used = 1};
    if (++x->nbuckets > x->peak)
        x->peak = x->nbuckets;
    return b;
}

/* Room for one more entry in b. -1 out of memory. */
static int reserve(gbp_rbucket *b)
{
    uint32_t have = b->heap ? b->cap : GBP_RBUCKET_INLINE;
    if (b->n < have)
        return 0;
    uint32_t cap = have < 4 ? 4 : have * 2;
    gbp_rent *v = realloc(b->heap, (size_t)cap * sizeof *v);
    if (!v)
        return -1;
    if (!b->heap)
        memcpy(v, b->in, (size_t)b->n * sizeof *v);
    b->heap = v;
    b->cap = cap;
    return 0;
}

int gbp_rindex_insert(gbp_rindex *x, const gbp_rkey *k, void *run, uint64_t seq)
{
    gbp_rbucket *b = get(x, k);
    if (!b || reserve(b))
        return -1;
    gbp_rent *it = items(b);
    uint32_t i = b->n;
    while (i > 0 && it[i - 1].seq > seq) {
        it[i] = it[i - 1];
        i--;
    }
    it[i] = (gbp_rent){run, seq};
    if (b->n++ == 0 && k->mask)
        x->nonempty++;
    x->mask_runs[k->mask]++;
    if (k->mask)
        x->active |= 1u << k->mask;
    return 0;
}

void gbp_rindex_remove(gbp_rindex *x, const gbp_rkey *k, const void *run)
{
    gbp_rbucket *b = find(x, k);
    if (!b)
        return;
    gbp_rent *it = items(b);
    uint32_t i = b->n;
    while (i > 0 && it[i - 1].run != run)
        i--;
    if (i == 0)
        return;
    memmove(&it[i - 1], &it[i], (size_t)(b->n - i) * sizeof *it);
    if (--b->n == 0 && k->mask)
        x->nonempty--;
    if (--x->mask_runs[k->mask] == 0 && k->mask)
        x->active &= ~(1u << k->mask);
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
    for (uint32_t act = x->active; act; act &= act - 1) {
        uint32_t m = (uint32_t)__builtin_ctz(act);
        gbp_rkey k;
        gbp_rkey_make(&k, m, f);
        uint64_t h = key_hash(&k);
        if (!x->tabsize || !filter_has(x, h))
            continue;
        gbp_rbucket *b = slot_h(x, &k, h);
        if (b->used && b->n && merge_in(x, &cur, b))
            return NULL;
    }
    if (x->unkeyed.n && merge_in(x, &cur, &x->unkeyed))
        return NULL;
    return &x->scratch[cur];
}

void gbp_rindex_probe_start(const gbp_rindex *x, const int64_t f[GBP_RKEY_FIELDS], gbp_rprobe *pr)
{
    pr->n = 0;
    if (!x->tabsize)
        return;
    for (uint32_t act = x->active; act && pr->n < GBP_RPROBE_KEYS; act &= act - 1) {
        gbp_rkey *k = &pr->k[pr->n];
        gbp_rkey_make(k, (uint32_t)__builtin_ctz(act), f);
        uint64_t h = key_hash(k);
        pr->h[pr->n++] = h;
        __builtin_prefetch(&x->filt[filter_bit(x, h) >> 6]);
    }
}

void gbp_rindex_probe_buckets(const gbp_rindex *x, gbp_rprobe *pr)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < pr->n; i++) {
        if (!filter_has(x, pr->h[i]))
            continue;
        const gbp_rbucket *b = &x->tab[(uint32_t)pr->h[i] & (x->tabsize - 1)];
        __builtin_prefetch(b);
        __builtin_prefetch((const char *)(b + 1) - 1);
        pr->h[n] = pr->h[i];
        pr->k[n++] = pr->k[i];
    }
    pr->n = n;
}

void gbp_rindex_probe_runs(const gbp_rindex *x, const gbp_rprobe *pr, size_t bytes)
{
    for (uint32_t i = 0; i < pr->n; i++) {
        gbp_rbucket *b = slot_h(x, &pr->k[i], pr->h[i]);
        if (!b->used)
            continue;
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
    const gbp_rbucket *b = &x->tab[(uint32_t)key_hash(k) & (x->tabsize - 1)];
    __builtin_prefetch(b, 1);
    __builtin_prefetch((const char *)(b + 1) - 1, 1);
}

void gbp_rindex_sweep(gbp_rindex *x, uint64_t open)
{
    if (x->nbuckets < 2 * open + 1024)
        return;
    /* shrink only a table mostly empty for good: not below what the
     * buckets in use since the last sweep (peak) needed, so that a pattern
     * whose runs are dropped all at once (skip past_last) and come back
     * does not regrow the table, doubling by doubling, every time */
    uint32_t size = x->tabsize;
    while (size > 64 && size / 2 >= 16 * (uint64_t)x->nonempty && size / 2 >= 4 * (uint64_t)x->peak)
        size /= 2;
    if (rebuild(x, size, 1) == 0)
        x->peak = x->nbuckets;
}

void gbp_rindex_clear(gbp_rindex *x)
{
    for (uint32_t i = 0; i < x->tabsize; i++)
        if (x->tab[i].used)
            free(x->tab[i].heap);
    free(x->tab);
    free(x->spare);
    free(x->filt);
    free(x->unkeyed.heap);
    free(x->scratch[0].v);
    free(x->scratch[1].v);
    memset(x, 0, sizeof *x);
}
