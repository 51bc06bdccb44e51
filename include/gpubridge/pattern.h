/*
 * Temporal patterns over event streams (DESIGN.md 7, shared/spec/pattern-dsl.md).
 *
 * - gb_event: the event record (contract, DESIGN.md 7).
 * - gb_type_table: event-type names interned to u32 ids.
 * - gb_pattern_set: a compiled pattern file (an NFA of steps per pattern plus
 *   predicate bytecode). Immutable once compiled: any number of matchers on
 *   any threads may share one set.
 * - gb_matcher: the streaming CPU matcher. Events go in with
 *   gb_matcher_push() in non-decreasing ts order; matches come out through a
 *   callback or are collected inside the matcher.
 */
#ifndef GPUBRIDGE_PATTERN_H
#define GPUBRIDGE_PATTERN_H

#include <stddef.h>
#include <stdint.h>

#include "gpubridge/clock.h"
#include "gpubridge/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Events (contract) ----------------------------------------------------- */

typedef struct gb_event {
    uint64_t id;
    uint32_t type;  /* interned type name (gb_type_intern) */
    int64_t ts_ns;  /* nanoseconds */
    uint64_t source;
    uint64_t target;
    double value;
    gb_hlc_t hlc;
    double a[4];    /* a0..a3; 0 when absent */
} gb_event;

/* ---- Event-type names ------------------------------------------------------ */

typedef struct gb_type_table gb_type_table;

#define GB_TYPE_NAME_MAX 255u /* longest type name in bytes */

/* Create an empty table. Errors: GB_EINVAL (out NULL), GB_ENOMEM.
 * Tables are not internally synchronised: one writer at a time, and no reader
 * while a writer runs. */
gb_status gb_type_table_create(gb_type_table **out);

/* Destroy; NULL is ignored. */
void gb_type_table_destroy(gb_type_table *t);

/* The id of name, adding it if new (ids are 0, 1, 2... in order of first
 * intern). Errors: GB_EINVAL (NULL arguments, empty name or longer than
 * GB_TYPE_NAME_MAX), GB_ENOMEM (table unchanged). */
gb_status gb_type_intern(gb_type_table *t, const char *name, uint32_t *id);

/* Like gb_type_intern for a name of len bytes (not NUL-terminated). */
gb_status gb_type_intern_n(gb_type_table *t, const char *name, size_t len, uint32_t *id);

/* The id of an existing name. Errors: GB_EINVAL, GB_ENOENT (not interned). */
gb_status gb_type_lookup(const gb_type_table *t, const char *name, uint32_t *id);

/* The name of id, or NULL if id is unknown. Valid until the table is destroyed. */
const char *gb_type_name(const gb_type_table *t, uint32_t id);

/* Number of interned names. */
uint32_t gb_type_count(const gb_type_table *t);

/* ---- Compiled pattern sets ------------------------------------------------- */

typedef struct gb_pattern_set gb_pattern_set;

typedef enum gb_severity {
    GB_SEVERITY_LOW = 0,
    GB_SEVERITY_MEDIUM = 1, /* the default */
    GB_SEVERITY_HIGH = 2,
    GB_SEVERITY_CRITICAL = 3
} gb_severity;

/* "low", "medium", "high", "critical" (or "unknown"). Thread-safe. */
const char *gb_severity_name(gb_severity s);

/* Compile the pattern source src[0..len) (the DSL of
 * shared/spec/pattern-dsl.md). Type names are interned into `types`, which
 * must outlive the set and be used for the events given to its matchers;
 * types may be NULL, then the set owns a table of its own (gb_pattern_set_types).
 * Errors: GB_EINVAL (out or src NULL), GB_ENOMEM, GB_EPARSE with
 * gb_last_error() = "LINE:COL: message" (1-based, columns in bytes). On any
 * error nothing is created; on GB_EPARSE `types` is unchanged (type names
 * are interned only once the whole file is accepted).
 * Thread-safe when different calls use different type tables. */
gb_status gb_pattern_compile(gb_pattern_set **out, gb_type_table *types, const char *src, size_t len);

/* Compile the file at path. Errors: as gb_pattern_compile, plus GB_EIO when
 * the file cannot be read (gb_last_error() says why). */
gb_status gb_pattern_compile_file(gb_pattern_set **out, gb_type_table *types, const char *path);

/* Destroy; NULL is ignored. No matcher of the set may be alive. */
void gb_pattern_set_destroy(gb_pattern_set *set);

/* Number of patterns (file order). Thread-safe. */
uint32_t gb_pattern_set_count(const gb_pattern_set *set);

/* Name and severity of pattern i (NULL / medium if out of range). Thread-safe. */
const char *gb_pattern_name(const gb_pattern_set *set, uint32_t i);
gb_severity gb_pattern_severity(const gb_pattern_set *set, uint32_t i);

/* The type table the set interns into (the caller's, or its own). */
gb_type_table *gb_pattern_set_types(const gb_pattern_set *set);

/* ---- Matches ----------------------------------------------------------------- */

typedef enum gb_value_kind { GB_VALUE_INT = 0, GB_VALUE_DOUBLE = 1 } gb_value_kind;

typedef struct gb_value {
    gb_value_kind kind;
    union {
        int64_t i;
        double d;
    } u;
} gb_value;

typedef struct gb_match_var {
    const char *name;    /* variable name */
    uint32_t count;      /* bound events */
    const uint64_t *ids; /* their ids, in binding order */
} gb_match_var;

typedef struct gb_match_field {
    const char *name; /* emit field name */
    gb_value value;   /* evaluated at emission */
} gb_match_field;

typedef struct gb_match {
    uint32_t pattern_index; /* in file order */
    const char *pattern;    /* pattern name */
    gb_severity severity;
    int64_t ts;             /* emission time (see spec, Semantics 10) */
    uint32_t nvars;
    const gb_match_var *vars;     /* positive steps in order */
    uint32_t nfields;
    const gb_match_field *fields; /* emit fields in order */
} gb_match;

/* Called for each match, in emission order, on the thread that pushed the
 * event. The match and everything it points to is valid only during the
 * call. The callback must not call back into the same matcher. */
typedef void (*gb_match_fn)(void *ctx, const gb_match *match);

/* ---- Streaming matcher ---------------------------------------------------- */

typedef struct gb_matcher gb_matcher;

#define GB_MATCHER_DEFAULT_MAX_RUNS 100000u

typedef struct gb_matcher_opts {
    gb_match_fn on_match; /* NULL: matches are collected (gb_matcher_match_at) */
    void *ctx;
    /* Most open runs per pattern (0 = GB_MATCHER_DEFAULT_MAX_RUNS). An event
     * that would start a run beyond the cap starts none; each such event is
     * counted in gb_matcher_stats.runs_capped. */
    uint32_t max_runs_per_pattern;
} gb_matcher_opts;

typedef struct gb_matcher_stats {
    uint64_t events;        /* accepted events */
    uint64_t rejected;      /* events refused with GB_EORDER */
    uint64_t matches;       /* matches emitted */
    uint64_t runs_started;
    uint64_t runs_open;     /* open now */
    uint64_t runs_killed;   /* killed by a negation */
    uint64_t runs_expired;  /* closed without a match */
    uint64_t runs_skipped;  /* dropped by `skip past_last` */
    uint64_t runs_capped;   /* runs not started because of max_runs_per_pattern */
    uint64_t nomem;         /* bindings or runs lost to allocation failure */
} gb_matcher_stats;

/* Create a matcher over set (which must outlive it). opts may be NULL.
 * Errors: GB_EINVAL (out or set NULL), GB_ENOMEM. */
gb_status gb_matcher_create(gb_matcher **out, const gb_pattern_set *set, const gb_matcher_opts *opts);

/* Destroy; open runs are dropped without emitting. NULL is ignored. */
void gb_matcher_destroy(gb_matcher *m);

/* Feed one event (spec Semantics 1-9). Errors: GB_EINVAL (NULL arguments),
 * GB_EORDER when ev->ts_ns is older than the last accepted event or advance
 * time (nothing changes), GB_ENOMEM (the event was accepted but a run or a
 * binding could not be stored; counted in stats.nomem).
 * A matcher is not internally synchronised: one thread at a time. */
gb_status gb_matcher_push(gb_matcher *m, const gb_event *ev);

/* Declare that no event older than ts will come: closes every run whose
 * window ended before ts (pattern by pattern in file order, oldest run
 * first), emitting those that qualify with emission time ts.
 * Errors: GB_EINVAL, GB_EORDER (ts older than the last accepted event or
 * advance time; nothing changes). Same threading as gb_matcher_push. */
gb_status gb_matcher_advance(gb_matcher *m, int64_t ts);

/* Close every open run, oldest first across all patterns, emitting those
 * that qualify with emission time = the last accepted event's ts (or advance
 * time, whichever is later). The matcher stays usable. Errors: GB_EINVAL. */
gb_status gb_matcher_flush(gb_matcher *m);

/* Counters summed over all patterns (pattern = UINT32_MAX) or for pattern i.
 * Errors: GB_EINVAL (NULL, pattern out of range). */
gb_status gb_matcher_stats_get(const gb_matcher *m, uint32_t pattern, gb_matcher_stats *out);

/* Collected matches (only when opts.on_match was NULL), oldest first.
 * Pointers stay valid until gb_matcher_clear_matches or destroy. */
size_t gb_matcher_match_count(const gb_matcher *m);
const gb_match *gb_matcher_match_at(const gb_matcher *m, size_t i);
void gb_matcher_clear_matches(gb_matcher *m);

#ifdef __cplusplus
}
#endif
#endif
