/*
 * The device broker (DESIGN.md 5): the devices this process may use, in the
 * order of a fallback chain, with their capabilities, health, load and a
 * circuit breaker each; plus a fault-injection switch for tests.
 *
 * The chain comes from the string given to gb_broker_create, else the
 * GB_DEVICES environment variable, else "cuda,opencl,cpu". Each entry is a
 * backend name; the broker uses the first device of each backend. A backend
 * that is not available stays in the list, marked unavailable with the
 * reason (what to install), and is never chosen.
 *
 * Health: a failed operation (gb_broker_report with an error) marks the
 * device unhealthy, with the reason and the time; a success marks it
 * healthy again. Circuit breaker: `failures` failures within `window_ns`
 * open the breaker: the device is skipped for `cooldown_ns`; then it is
 * half-open: one caller may try it (gb_broker_acquire hands it out once);
 * success closes the breaker, failure opens it again for another cool-down.
 *
 * Fault injection (off by default): gb_broker_inject_fault, or the
 * environment variable GB_FAULT="backend:op[:count],..." read at creation
 * (op: open, compile, launch, alloc, ring; count -1 or absent: every time),
 * makes the named operation of that backend fail with GB_EDEVICE, as a
 * driver failure would. `ring` is a running ring failing: device actor
 * types check it while their ring runs and fail over to the next backend
 * (docs/device_actors.md). Used by tests to prove fallback loses no work.
 *
 * Every function is thread-safe (one mutex per broker).
 */
#ifndef GPUBRIDGE_BROKER_H
#define GPUBRIDGE_BROKER_H

#include <stdint.h>

#include "gpubridge/device.h"
#include "gpubridge/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gb_broker gb_broker;

typedef enum gb_device_op {
    GB_OP_OPEN = 0,   /* open the device (context, queue) */
    GB_OP_COMPILE,    /* build a program */
    GB_OP_LAUNCH,     /* run a kernel */
    GB_OP_ALLOC,      /* allocate device memory */
    GB_OP_RING,       /* a running ring on the device (checked by its owner while it runs) */
    GB_OP_COUNT
} gb_device_op;

typedef enum gb_breaker_state {
    GB_BREAKER_CLOSED = 0, /* in use */
    GB_BREAKER_OPEN,       /* skipped until the cool-down ends */
    GB_BREAKER_HALF_OPEN   /* cool-down over: the next caller tries it once */
} gb_breaker_state;

typedef struct gb_broker_opts {
    const char *chain;         /* "cuda,opencl,cpu"; NULL: $GB_DEVICES or that default */
    uint32_t breaker_failures; /* failures within the window that open the breaker (0: 3) */
    int64_t breaker_window_ns; /* 0: 10 s */
    int64_t breaker_cooldown_ns; /* 0: 30 s */
    int64_t (*now_ns)(void *arg); /* clock for health and breakers (NULL: monotonic) */
    void *now_arg;
} gb_broker_opts;

typedef struct gb_broker_device {
    gb_device_info info;       /* backend, name, version, compute units, shared memory */
    int available;             /* the backend has a usable device here */
    char why_unavailable[256]; /* when !available: what is missing, what to install */
    char driver[64];           /* driver version ("" when unknown) */
    uint64_t global_mem;       /* bytes (0 when unknown) */
    int64_t timer_resolution_ns;
    int healthy;               /* last operation succeeded (or none yet) */
    char unhealthy_reason[256];
    int64_t unhealthy_since_ns; /* broker clock, when healthy went to 0 */
    gb_breaker_state breaker;
    uint32_t load;             /* operations in progress (acquired, not yet reported) */
    uint64_t successes, failures;
} gb_broker_device;

/* Create a broker: parse the chain, enumerate every backend in it.
 * opts may be NULL (defaults).
 * Errors: GB_EINVAL (out NULL, empty chain, unknown backend name, a name
 * twice, malformed GB_FAULT), GB_ENOMEM. */
gb_status gb_broker_create(gb_broker **out, const gb_broker_opts *opts);

/* Destroy (NULL is a no-op). Not concurrently with other calls on b. */
void gb_broker_destroy(gb_broker *b);

/* Number of entries in the chain. */
uint32_t gb_broker_count(const gb_broker *b);

/* A snapshot of entry i. Errors: GB_EINVAL (NULL), GB_ENOENT (i out of range). */
gb_status gb_broker_get(gb_broker *b, uint32_t i, gb_broker_device *out);

/* The index of entry named backend. Errors: GB_ENOENT, GB_EINVAL. */
gb_status gb_broker_find(gb_broker *b, const char *backend, uint32_t *index);

/* The first entry at or after `from` in chain order that is available and
 * whose breaker lets a caller through (closed, or half-open and not yet
 * tried), counted as load until gb_broker_report. `from` 0 is "the best
 * device"; after a failure on entry i, pass i + 1 for the next one.
 * Errors: GB_ENOENT (none left: the sentence lists why each was skipped),
 * GB_EINVAL. */
gb_status gb_broker_acquire(gb_broker *b, uint32_t from, uint32_t *index);

/* Report the outcome of the operation acquired on entry i: GB_OK marks it
 * healthy (and closes a half-open breaker); an error status marks it
 * unhealthy with reason, counts a failure in the window, maybe opens the
 * breaker. Errors: GB_EINVAL, GB_ENOENT. */
gb_status gb_broker_report(gb_broker *b, uint32_t i, gb_status result, const char *reason);

/* Give back entry i acquired for an operation that was not attempted or
 * whose failure was not the device's (a kernel without code for it, a
 * source that does not compile): load only, health and breaker unchanged
 * (a half-open trial is handed out again). Errors: GB_EINVAL, GB_ENOENT. */
gb_status gb_broker_release(gb_broker *b, uint32_t i);

/* Make op of backend fail `count` times (-1: until cleared with count 0).
 * Errors: GB_EINVAL (NULL, unknown op), GB_ENOENT (backend not in chain). */
gb_status gb_broker_inject_fault(gb_broker *b, const char *backend, gb_device_op op, int32_t count);

/* GB_EDEVICE (with a sentence saying the fault was injected) if a fault is
 * armed for op of entry i, consuming one; else GB_OK. Backend callers ask
 * before each operation. */
gb_status gb_broker_fault_check(gb_broker *b, uint32_t i, gb_device_op op);

/* "open", "compile", "launch", "alloc", "ring"; "?" otherwise. */
const char *gb_device_op_name(gb_device_op op);
const char *gb_breaker_state_name(gb_breaker_state s);

#ifdef __cplusplus
}
#endif
#endif
