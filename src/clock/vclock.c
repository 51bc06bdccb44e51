/*
 * Vector clocks (DESIGN.md 3.2): sparse, sorted (node, counter) entries.
 *
 * Layout: structure of arrays. `node[0..n)` is strictly increasing and
 * `count[i] >= 1` (absent nodes count as 0 and are never stored). The first
 * VC_INLINE entries live inside the object; beyond that one heap block holds
 * both arrays (counters first, for alignment). Keeping the node ids in their
 * own array makes the common case of two clocks over the same node set a
 * memcmp followed by a pointwise max that the compiler can vectorise.
 *
 * Every mutating function reserves the capacity it needs before it changes
 * anything, so an ENOMEM (or any other error) leaves the clock unchanged.
 * Not internally synchronised: one writer at a time, readers excluded while
 * a writer runs.
 */
#include "base/error.h"
#include "gpubridge/clock.h"

#include <stdlib.h>
#include <string.h>

#define VC_INLINE 8
#define VC_ENTRY_BYTES 12u
#define VC_HEADER_BYTES 4u
/* Merges whose inputs total (MIN, MAX] entries go through a stack buffer. */
#define VC_MERGE_STACK_MIN 16
#define VC_MERGE_STACK 64
/* Bounds the heap block to well under SIZE_MAX on any target. */
#define VC_MAX_ENTRIES (1u << 28)

struct gb_vclock {
    uint32_t n;
    uint32_t cap;
    uint32_t *node;
    uint64_t *count;
    uint64_t inline_count[VC_INLINE];
    uint32_t inline_node[VC_INLINE];
};

static int is_inline(const gb_vclock *vc)
{
    return vc->count == vc->inline_count;
}

gb_status gb_vclock_create(gb_vclock **out)
{
    if (!out)
        return gbi_error(GB_EINVAL, "gb_vclock_create", "out is NULL");
    *out = NULL;
    gb_vclock *vc = malloc(sizeof *vc);
    if (!vc)
        return gbi_error(GB_ENOMEM, "gb_vclock_create", "out of memory");
    vc->n = 0;
    vc->cap = VC_INLINE;
    vc->node = vc->inline_node;
    vc->count = vc->inline_count;
    *out = vc;
    return GB_OK;
}

void gb_vclock_destroy(gb_vclock *vc)
{
    if (!vc)
        return;
    if (!is_inline(vc))
        free(vc->count);
    free(vc);
}

/* Make room for `need` entries, keeping the current ones. On failure the
 * clock is untouched. */
static gb_status reserve(gb_vclock *vc, size_t need, const char *where)
{
    if (need <= vc->cap)
        return GB_OK;
    if (need > VC_MAX_ENTRIES)
        return gbi_error(GB_ENOMEM, where, "%zu entries exceed the limit of %u", need,
                         (unsigned)VC_MAX_ENTRIES);
    size_t cap = (size_t)vc->cap * 2;
    if (cap < need)
        cap = need;
    if (cap > VC_MAX_ENTRIES)
        cap = VC_MAX_ENTRIES;
    uint64_t *block = malloc(cap * (sizeof(uint64_t) + sizeof(uint32_t)));
    if (!block)
        return gbi_error(GB_ENOMEM, where, "out of memory for %zu entries", cap);
    uint32_t *nodes = (uint32_t *)(block + cap);
    memcpy(block, vc->count, vc->n * sizeof *block);
    memcpy(nodes, vc->node, vc->n * sizeof *nodes);
    if (!is_inline(vc))
        free(vc->count);
    vc->count = block;
    vc->node = nodes;
    vc->cap = (uint32_t)cap;
    return GB_OK;
}

/* Index of the first entry whose node is >= node (n when none). */
static uint32_t lower_bound(const gb_vclock *vc, uint32_t node)
{
    uint32_t lo = 0, hi = vc->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (vc->node[mid] < node)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

gb_status gb_vclock_copy(gb_vclock *dst, const gb_vclock *src)
{
    if (!dst || !src)
        return gbi_error(GB_EINVAL, "gb_vclock_copy", "%s is NULL", dst ? "src" : "dst");
    if (dst == src)
        return GB_OK;
    gb_status st = reserve(dst, src->n, "gb_vclock_copy");
    if (st != GB_OK)
        return st;
    memcpy(dst->count, src->count, src->n * sizeof *src->count);
    memcpy(dst->node, src->node, src->n * sizeof *src->node);
    dst->n = src->n;
    return GB_OK;
}

gb_status gb_vclock_increment(gb_vclock *vc, uint32_t node)
{
    if (!vc)
        return gbi_error(GB_EINVAL, "gb_vclock_increment", "vc is NULL");
    uint32_t i = lower_bound(vc, node);
    if (i < vc->n && vc->node[i] == node) {
        if (vc->count[i] == UINT64_MAX)
            return gbi_error(GB_ERANGE, "gb_vclock_increment", "counter of node %u would overflow",
                             (unsigned)node);
        vc->count[i]++;
        return GB_OK;
    }
    gb_status st = reserve(vc, (size_t)vc->n + 1, "gb_vclock_increment");
    if (st != GB_OK)
        return st;
    memmove(vc->count + i + 1, vc->count + i, (vc->n - i) * sizeof *vc->count);
    memmove(vc->node + i + 1, vc->node + i, (vc->n - i) * sizeof *vc->node);
    vc->node[i] = node;
    vc->count[i] = 1;
    vc->n++;
    return GB_OK;
}

static void max_into(uint64_t *restrict dst, const uint64_t *restrict src, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        dst[i] = src[i] > dst[i] ? src[i] : dst[i];
}

/* Number of distinct nodes in a ∪ b (both sorted). */
static size_t union_size(const gb_vclock *a, const gb_vclock *b)
{
    uint32_t i = 0, j = 0, common = 0;
    while (i < a->n && j < b->n) {
        uint32_t x = a->node[i], y = b->node[j];
        common += x == y;
        i += x <= y;
        j += y <= x;
    }
    return (size_t)a->n + b->n - common;
}

/* Merge src into dst in place, from the back: dst has room for u entries
 * (the union size), and the write index k never falls below the dst read
 * index i, so no unread dst entry is overwritten. */
static void merge_backward(gb_vclock *dst, const gb_vclock *src, size_t u)
{
    int64_t i = (int64_t)dst->n - 1, j = (int64_t)src->n - 1, k = (int64_t)u - 1;
    while (j >= 0) {
        uint32_t sn = src->node[j];
        if (i >= 0 && dst->node[i] > sn) {
            dst->node[k] = dst->node[i];
            dst->count[k] = dst->count[i--];
        } else if (i >= 0 && dst->node[i] == sn) {
            uint64_t c = dst->count[i--];
            dst->node[k] = sn;
            dst->count[k] = c > src->count[j] ? c : src->count[j];
            j--;
        } else {
            dst->node[k] = sn;
            dst->count[k] = src->count[j--];
        }
        k--;
    }
    dst->n = (uint32_t)u;
}

/* Merge dst and src forward into the out arrays (room for dst->n + src->n);
 * returns the number of entries written. */
static uint32_t merge_forward(const gb_vclock *dst, const gb_vclock *src, uint32_t *out_node,
                              uint64_t *out_count)
{
    uint32_t i = 0, j = 0, k = 0;
    while (i < dst->n && j < src->n) {
        uint32_t x = dst->node[i], y = src->node[j];
        if (x < y) {
            out_node[k] = x;
            out_count[k++] = dst->count[i++];
        } else if (y < x) {
            out_node[k] = y;
            out_count[k++] = src->count[j++];
        } else {
            uint64_t a = dst->count[i++], b = src->count[j++];
            out_node[k] = x;
            out_count[k++] = a > b ? a : b;
        }
    }
    for (; i < dst->n; i++, k++) {
        out_node[k] = dst->node[i];
        out_count[k] = dst->count[i];
    }
    for (; j < src->n; j++, k++) {
        out_node[k] = src->node[j];
        out_count[k] = src->count[j];
    }
    return k;
}

gb_status gb_vclock_merge(gb_vclock *dst, const gb_vclock *src)
{
    if (!dst || !src)
        return gbi_error(GB_EINVAL, "gb_vclock_merge", "%s is NULL", dst ? "src" : "dst");
    if (dst == src || src->n == 0)
        return GB_OK;
    /* Fast path: same node set, the usual case among a fixed group. */
    if (dst->n == src->n && memcmp(dst->node, src->node, dst->n * sizeof *dst->node) == 0) {
        max_into(dst->count, src->count, dst->n);
        return GB_OK;
    }
    /* Mid-size clocks: one forward pass into a stack buffer, then copy back
     * (measured faster than counting first from about 16 input entries). */
    size_t total = (size_t)dst->n + src->n;
    if (total > VC_MERGE_STACK_MIN && total <= VC_MERGE_STACK) {
        uint32_t node[VC_MERGE_STACK];
        uint64_t count[VC_MERGE_STACK];
        uint32_t u = merge_forward(dst, src, node, count);
        gb_status st = reserve(dst, u, "gb_vclock_merge");
        if (st != GB_OK)
            return st;
        for (uint32_t k = 0; k < u; k++) { /* short: a loop beats two memcpy calls */
            dst->node[k] = node[k];
            dst->count[k] = count[k];
        }
        dst->n = u;
        return GB_OK;
    }
    /* Otherwise count the union, grow once, merge in place from the back. */
    size_t u = union_size(dst, src);
    gb_status st = reserve(dst, u, "gb_vclock_merge");
    if (st != GB_OK)
        return st;
    merge_backward(dst, src, u);
    return GB_OK;
}

static gb_vc_order order_of(int a_ahead, int b_ahead)
{
    if (a_ahead && b_ahead)
        return GB_VC_CONCURRENT;
    if (a_ahead)
        return GB_VC_AFTER;
    return b_ahead ? GB_VC_BEFORE : GB_VC_EQUAL;
}

/* Compare two clocks over the same node set. */
static gb_vc_order compare_same_nodes(const uint64_t *a, const uint64_t *b, uint32_t n)
{
    int a_ahead = 0, b_ahead = 0;
    for (uint32_t i = 0; i < n; i++) {
        a_ahead |= a[i] > b[i];
        b_ahead |= a[i] < b[i];
    }
    return order_of(a_ahead, b_ahead);
}

gb_vc_order gb_vclock_compare(const gb_vclock *a, const gb_vclock *b)
{
    static const gb_vclock empty = {0};
    a = a ? a : &empty;
    b = b ? b : &empty;
    if (a->n == b->n && (a->n == 0 || memcmp(a->node, b->node, a->n * sizeof *a->node) == 0))
        return compare_same_nodes(a->count, b->count, a->n);
    int a_ahead = 0, b_ahead = 0;
    uint32_t i = 0, j = 0;
    while (i < a->n && j < b->n && !(a_ahead && b_ahead)) {
        uint32_t x = a->node[i], y = b->node[j];
        if (x == y) {
            a_ahead |= a->count[i] > b->count[j];
            b_ahead |= a->count[i] < b->count[j];
            i++;
            j++;
        } else if (x < y) {
            a_ahead = 1; /* a has a non-zero entry that b lacks */
            i++;
        } else {
            b_ahead = 1;
            j++;
        }
    }
    a_ahead |= i < a->n;
    b_ahead |= j < b->n;
    return order_of(a_ahead, b_ahead);
}

uint64_t gb_vclock_get(const gb_vclock *vc, uint32_t node)
{
    if (!vc)
        return 0;
    uint32_t i = lower_bound(vc, node);
    return i < vc->n && vc->node[i] == node ? vc->count[i] : 0;
}

size_t gb_vclock_size(const gb_vclock *vc)
{
    return vc ? vc->n : 0;
}

gb_status gb_vclock_entry(const gb_vclock *vc, size_t index, uint32_t *node, uint64_t *counter)
{
    if (!vc || !node || !counter)
        return gbi_error(GB_EINVAL, "gb_vclock_entry", "NULL argument");
    if (index >= vc->n)
        return gbi_error(GB_ERANGE, "gb_vclock_entry", "index %zu but the clock has %u entries",
                         index, (unsigned)vc->n);
    *node = vc->node[index];
    *counter = vc->count[index];
    return GB_OK;
}

/* ---- encoding: u32 count, then count x (u32 node, u64 counter), LE ---- */

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
    for (int b = 0; b < bytes; b++)
        p[b] = (uint8_t)(v >> (8 * b));
}

static uint64_t get_le(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int b = 0; b < bytes; b++)
        v |= (uint64_t)p[b] << (8 * b);
    return v;
}

size_t gb_vclock_encode(const gb_vclock *vc, uint8_t *buf, size_t cap)
{
    uint32_t n = vc ? vc->n : 0;
    size_t need = VC_HEADER_BYTES + (size_t)n * VC_ENTRY_BYTES;
    if (!buf || cap < need)
        return need;
    put_le(buf, n, 4);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *p = buf + VC_HEADER_BYTES + (size_t)i * VC_ENTRY_BYTES;
        put_le(p, vc->node[i], 4);
        put_le(p + 4, vc->count[i], 8);
    }
    return need;
}

/* Check an encoding without touching any clock; *count gets the entries. */
static gb_status validate_encoding(const uint8_t *buf, size_t len, uint32_t *count)
{
    const char *w = "gb_vclock_decode";
    if (!buf && len)
        return gbi_error(GB_EINVAL, w, "buf is NULL");
    if (len < VC_HEADER_BYTES)
        return gbi_error(GB_EINVAL, w, "truncated: %zu bytes, the header needs 4", len);
    uint32_t n = (uint32_t)get_le(buf, 4);
    size_t body = len - VC_HEADER_BYTES;
    if (body / VC_ENTRY_BYTES < n)
        return gbi_error(GB_EINVAL, w, "truncated: %u entries need %llu bytes, got %zu", (unsigned)n,
                         (unsigned long long)n * VC_ENTRY_BYTES + VC_HEADER_BYTES, len);
    if (body != (size_t)n * VC_ENTRY_BYTES)
        return gbi_error(GB_EINVAL, w, "%zu trailing bytes after %u entries",
                         body - (size_t)n * VC_ENTRY_BYTES, (unsigned)n);
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *p = buf + VC_HEADER_BYTES + (size_t)i * VC_ENTRY_BYTES;
        uint32_t node = (uint32_t)get_le(p, 4);
        if (get_le(p + 4, 8) == 0)
            return gbi_error(GB_EINVAL, w, "entry %u (node %u) has a zero counter", (unsigned)i,
                             (unsigned)node);
        if (i > 0) {
            uint32_t prev = (uint32_t)get_le(p - VC_ENTRY_BYTES, 4);
            if (node == prev)
                return gbi_error(GB_EINVAL, w, "node %u appears twice", (unsigned)node);
            if (node < prev)
                return gbi_error(GB_EINVAL, w, "entry %u: node %u after node %u is not sorted",
                                 (unsigned)i, (unsigned)node, (unsigned)prev);
        }
    }
    *count = n;
    return GB_OK;
}

gb_status gb_vclock_decode(gb_vclock *vc, const uint8_t *buf, size_t len)
{
    if (!vc)
        return gbi_error(GB_EINVAL, "gb_vclock_decode", "vc is NULL");
    uint32_t n = 0;
    gb_status st = validate_encoding(buf, len, &n);
    if (st != GB_OK)
        return st;
    st = reserve(vc, n, "gb_vclock_decode");
    if (st != GB_OK)
        return st;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *p = buf + VC_HEADER_BYTES + (size_t)i * VC_ENTRY_BYTES;
        vc->node[i] = (uint32_t)get_le(p, 4);
        vc->count[i] = get_le(p + 4, 8);
    }
    vc->n = n;
    return GB_OK;
}
