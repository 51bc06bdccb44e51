/*
 * Clocks: hybrid logical clocks (DESIGN.md 3.1, contract) and vector clocks
 * (DESIGN.md 3.2).
 *
 * gb_hlc_t packs physical time in 4096 ns units (upper 52 bits) and a logical
 * counter (lower 12 bits); integer order is causal order.
 */
#ifndef GPUBRIDGE_CLOCK_H
#define GPUBRIDGE_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "gpubridge/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Hybrid logical clock ------------------------------------------------ */

typedef uint64_t gb_hlc_t;

#define GB_HLC_LOGICAL_BITS 12
#define GB_HLC_LOGICAL_MASK ((gb_hlc_t)0xFFF)
#define GB_HLC_DEFAULT_MAX_OFFSET_NS 500000000LL

typedef struct gb_hlc gb_hlc;

typedef struct gb_hlc_opts {
    uint32_t node_id;
    int64_t max_offset_ns;              /* 0 = 500 ms */
    int64_t (*physical_ns)(void *ctx);  /* NULL = realtime clock (gb_time_realtime_fast_ns);
                                           tests inject their own; must be thread-safe */
    void *ctx;
} gb_hlc_opts;

/* Create a clock. opts may be NULL (node 0, realtime, 500 ms).
 * Errors: GB_EINVAL (out NULL, negative max_offset), GB_ENOMEM. */
gb_status gb_hlc_create(gb_hlc **out, const gb_hlc_opts *opts);

/* Destroy a clock; NULL is ignored. Not thread-safe with users of the clock. */
void gb_hlc_destroy(gb_hlc *clock);

/* Timestamp a local or send event: max(last + 1, pt & ~0xFFF).
 * Thread-safe and lock-free: concurrent callers get distinct values.
 * Returns 0 when clock is NULL. */
gb_hlc_t gb_hlc_now(gb_hlc *clock);

/* Receive event for a remote timestamp: max(max(last, remote) + 1, pt & ~0xFFF),
 * stored in *out (out may be NULL). Errors: GB_EINVAL (clock NULL);
 * GB_ECLOCK when remote's physical part is more than max_offset ahead of
 * local physical time, or remote >= 2^63 (beyond any int64 ns time); the
 * clock is then unchanged and the rejection counted. Thread-safe, lock-free. */
gb_status gb_hlc_update(gb_hlc *clock, gb_hlc_t remote, gb_hlc_t *out);

/* The last timestamp issued, without ticking (0 for NULL). Thread-safe. */
gb_hlc_t gb_hlc_peek(const gb_hlc *clock);

/* Number of updates rejected with GB_ECLOCK so far (0 for NULL). Thread-safe. */
uint64_t gb_hlc_rejected(const gb_hlc *clock);

/* The node id given at creation (0 for NULL). Thread-safe. */
uint32_t gb_hlc_node_id(const gb_hlc *clock);

/* Physical part of a timestamp in ns since the Unix epoch (a multiple of
 * 4096). Thread-safe. */
int64_t gb_hlc_physical_ns(gb_hlc_t t);

/* Logical part of a timestamp (0..4095). Thread-safe. */
uint32_t gb_hlc_logical(gb_hlc_t t);

/* Build a timestamp from physical ns (truncated to 4096 ns units) and a
 * logical counter (masked to 12 bits). Thread-safe. */
gb_hlc_t gb_hlc_make(int64_t physical_ns, uint32_t logical);

/* Total order across nodes: compare (hlc, node_id); returns <0, 0, >0.
 * Thread-safe. */
int gb_hlc_compare_total(gb_hlc_t a, uint32_t node_a, gb_hlc_t b, uint32_t node_b);

/* ---- Vector clocks ------------------------------------------------------- */

/* Vector clocks are not internally synchronised: one writer at a time, and
 * no reader while a writer runs; distinct clocks are independent. Read-only
 * functions treat a NULL clock as empty. */
typedef struct gb_vclock gb_vclock;

typedef enum gb_vc_order {
    GB_VC_EQUAL = 0,
    GB_VC_BEFORE = 1,     /* a happened before b (a < b) */
    GB_VC_AFTER = 2,      /* b happened before a (a > b) */
    GB_VC_CONCURRENT = 3  /* neither */
} gb_vc_order;

/* Create an empty vector clock. Errors: GB_EINVAL, GB_ENOMEM. */
gb_status gb_vclock_create(gb_vclock **out);

/* Destroy; NULL is ignored. */
void gb_vclock_destroy(gb_vclock *vc);

/* Make dst an exact copy of src. Errors: GB_EINVAL, GB_ENOMEM (dst unchanged). */
gb_status gb_vclock_copy(gb_vclock *dst, const gb_vclock *src);

/* Add 1 to node's counter (creating it at 1). Errors: GB_EINVAL,
 * GB_ENOMEM, GB_ERANGE (counter would overflow); vc unchanged on error. */
gb_status gb_vclock_increment(gb_vclock *vc, uint32_t node);

/* dst = pointwise max(dst, src). Errors: GB_EINVAL, GB_ENOMEM (dst unchanged). */
gb_status gb_vclock_merge(gb_vclock *dst, const gb_vclock *src);

/* Compare a with b (missing entries count as 0). */
gb_vc_order gb_vclock_compare(const gb_vclock *a, const gb_vclock *b);

/* Counter of node (0 if absent). */
uint64_t gb_vclock_get(const gb_vclock *vc, uint32_t node);

/* Number of non-zero entries. */
size_t gb_vclock_size(const gb_vclock *vc);

/* The index-th entry in node order (0 <= index < size), for iteration.
 * Errors: GB_EINVAL (NULL argument), GB_ERANGE (index out of range). */
gb_status gb_vclock_entry(const gb_vclock *vc, size_t index, uint32_t *node, uint64_t *counter);

/* Stable binary encoding (little endian): u32 count, then count entries of
 * (u32 node, u64 counter) sorted by node. Returns the bytes needed; writes
 * only when cap is large enough (buf may be NULL to ask for the size). */
size_t gb_vclock_encode(const gb_vclock *vc, uint8_t *buf, size_t cap);

/* Replace vc's contents with a decoded encoding. Errors: GB_EINVAL for
 * truncated, unsorted, duplicate or zero-counter entries, or trailing bytes
 * (never reads outside [buf, buf+len)); GB_ENOMEM. vc unchanged on error. */
gb_status gb_vclock_decode(gb_vclock *vc, const uint8_t *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
