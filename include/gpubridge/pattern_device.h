/*
 * The device pattern matcher (DESIGN.md 7, docs/patterns.md "Device
 * matcher"): the streaming matcher's semantics evaluated on a device of the
 * broker's chain (cuda, opencl/PoCL, or the cpu backend), batch by batch.
 *
 * Each pattern of the set is one partition, matched by one work-item over
 * the whole batch, with its open runs in device buffers of fixed capacity.
 * A pattern whose runs keep one key for life (every later step and
 * negation correlates with the first event through `F == a.G`, no `skip
 * past_last`, a single first step) is further split into key_shards
 * work-items by the key's hash, while the run cap cannot be reached in the
 * batch. The matches of all work-items are merged back into the CPU
 * matcher's emission order. The output (matches, their order, ids, emit values, emission
 * times) and the counters are identical to gb_matcher fed the same events
 * one by one with the same max_runs_per_pattern, then the same advance and
 * flush calls.
 *
 * When a batch needs more room than a capacity gives (open runs, ids of one
 * run, words of match records), nothing is dropped: that pattern's batch is
 * rerun on the host (the native build of the same kernel) with the
 * capacity doubled, the larger capacity is kept for later batches, and the
 * event is counted in gb_device_matcher_stats.overflows.
 *
 * The open runs stay on the device between batches (resident buffers): a
 * batch writes only its events and reads back only per-work-item counters
 * and the matches. The state moves through the host when the batch goes
 * to another device of the chain, after an overflow, and when key shards
 * are merged or split. While it is on a device the host keeps a checkpoint
 * (refreshed every checkpoint_events events) and a log of the batches
 * since, so a device that fails and cannot give the state back loses
 * nothing: the state is rebuilt on the host by replaying the log (without
 * delivering again) and the batch runs on the next device.
 */
#ifndef GPUBRIDGE_PATTERN_DEVICE_H
#define GPUBRIDGE_PATTERN_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "gpubridge/broker.h"
#include "gpubridge/pattern.h"
#include "gpubridge/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gb_device_matcher gb_device_matcher;

typedef struct gb_device_matcher_opts {
    gb_broker *broker;    /* borrowed (must outlive the matcher); NULL: an own broker over `chain` */
    const char *chain;    /* own broker's chain, e.g. "opencl" or "opencl,cpu" (NULL: $GB_DEVICES or
                             cuda,opencl,cpu); ignored with a broker */
    gb_match_fn on_match; /* called for each match in emission order; NULL: matches are only counted */
    void *ctx;
    uint32_t max_runs_per_pattern; /* as gb_matcher_opts (0: GB_MATCHER_DEFAULT_MAX_RUNS) */
    uint32_t run_capacity;   /* open-run slots per pattern in device memory (0: 256) */
    uint32_t id_capacity;    /* bound ids per run (0: 32) */
    uint32_t match_capacity; /* words of match records per work-item and batch (0: 4096) */
    uint32_t key_shards;     /* work-items per pattern that can be sharded by key (0: 8; 1: none; at most 256) */
    uint32_t checkpoint_events; /* events between host copies of the device-resident state (0: 65536) */
} gb_device_matcher_opts;

typedef struct gb_device_matcher_stats {
    gb_matcher_stats m;      /* the CPU matcher's counters (nomem stays 0) */
    uint64_t batches;        /* launches (push, advance, flush) */
    uint64_t device_batches; /* launches that ran on a non-cpu backend */
    uint64_t fallbacks;      /* chain entries that failed or were skipped for a launch */
    uint64_t overflows;      /* pattern batches rerun on the host after a capacity overflow */
    uint32_t run_capacity, id_capacity, match_capacity; /* largest current capacities */
    uint32_t sharded_patterns; /* patterns split by key now */
    uint32_t work_items;     /* work-items of the next launch (patterns x their shards) */
    char backend[16];        /* the backend of the last launch */
} gb_device_matcher_stats;

/* Create a device matcher over set (which must outlive it). opts may be NULL.
 * Errors: GB_EINVAL (out or set NULL, an empty set, key_shards above 256), GB_ENOMEM, and the
 * errors of gb_broker_create for an own broker. Nothing is compiled yet. */
gb_status gb_device_matcher_create(gb_device_matcher **out, const gb_pattern_set *set,
                                   const gb_device_matcher_opts *opts);

/* Destroy; open runs are dropped without emitting. NULL is ignored. */
void gb_device_matcher_destroy(gb_device_matcher *dm);

/* Match a batch of n events (non-decreasing ts, none older than the last
 * accepted event or advance time). Matches are delivered before it returns.
 * The whole batch is one launch; n may be 0.
 * Errors: GB_EINVAL (dm NULL, events NULL with n > 0), GB_EORDER (an event
 * out of order: the whole batch is refused, nothing changes), GB_ENOMEM,
 * GB_EPARSE (the device compiler refused the program: gb_last_error() has
 * the log), GB_EDEVICE (no device of the chain could run it: nothing
 * changes, the batch may be pushed again). Not internally synchronised:
 * one thread at a time. */
gb_status gb_device_matcher_push(gb_device_matcher *dm, const gb_event *events, size_t n);

/* As gb_matcher_advance. Errors: GB_EINVAL, GB_EORDER, and those of push. */
gb_status gb_device_matcher_advance(gb_device_matcher *dm, int64_t ts);

/* As gb_matcher_flush: every open run closes, oldest first across
 * patterns. Errors: GB_EINVAL, and those of push. */
gb_status gb_device_matcher_flush(gb_device_matcher *dm);

/* Counters summed over all patterns (pattern = UINT32_MAX) or for pattern i
 * (the launch counters are the matcher's in both cases).
 * Errors: GB_EINVAL (NULL, pattern out of range). */
gb_status gb_device_matcher_stats_get(const gb_device_matcher *dm, uint32_t pattern, gb_device_matcher_stats *out);

#ifdef __cplusplus
}
#endif
#endif
