/*
 * `gbridge demo`: a synthetic bank whose accounts are ring actors, a
 * transfer generator with injected fraud, and the detectors (pattern engine
 * and temporal graph). Internal to the gbridge program; docs/demo.md.
 *
 *   demo_generator.c  background traffic + injected cases (ground truth)
 *   demo_bank.c       the account ring (kernels/demo_account.gbk) on the
 *                     broker's best backend
 *   demo_detect.c     in-order delivery, pattern matcher, cycle search,
 *                     alerts scored against the ground truth, latencies
 *   demo_report.c     the summary (text or JSON)
 *   cmd_demo.c        options, the threads, the progress bar
 */
#ifndef GBRIDGE_DEMO_H
#define GBRIDGE_DEMO_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "gpubridge/pattern.h"
#include "gpubridge/ring.h"
#include "gpubridge/temporal_graph.h"

/* Kinds of injected fraud, and the detector that must find each. */
typedef enum demo_kind {
    DEMO_RAPID_SPLIT = 0, /* pattern rapid_split */
    DEMO_CIRCULAR,        /* temporal graph: a cycle of 3..6 hops */
    DEMO_BURST,           /* pattern high_frequency */
    DEMO_DORMANT,         /* pattern velocity_change */
    DEMO_KINDS
} demo_kind;

#define DEMO_DETECTORS DEMO_KINDS
#define DEMO_CASE_MAX_TX 16u
#define DEMO_CYCLE_MIN 3u
#define DEMO_CYCLE_MAX 6u
#define DEMO_CYCLE_WINDOW_NS (3600LL * 1000000000LL)

typedef struct demo_opts {
    uint32_t accounts;
    uint64_t transfers;
    double rate;         /* transfers/s, 0 = unlimited */
    const char *device;  /* broker chain, NULL = $GB_DEVICES or cuda,opencl,cpu */
    uint64_t seed;
    int json;
    int progress;        /* draw the progress bar (stderr is a TTY, not --json) */
} demo_opts;

/* One transfer as generated (and as the account actor acknowledges it). */
typedef struct demo_tx {
    uint64_t id;
    uint64_t source, target; /* account actor ids (index + 1) */
    int64_t ts_ns;           /* stream time */
    uint64_t value;          /* whole units */
    int32_t case_index;      /* injected case, -1 = background */
} demo_tx;

typedef struct demo_case {
    demo_kind kind;
    uint32_t ntx;
    uint64_t tx[DEMO_CASE_MAX_TX]; /* transfer ids, filled as they are generated */
    uint32_t found;                /* alerts of its detector that cover it */
} demo_case;

/* ---- generator ---- */
typedef struct demo_gen demo_gen;
int demo_gen_create(demo_gen **out, const demo_opts *o);
void demo_gen_destroy(demo_gen *g);
/* The next transfer in stream order; 0 when the stream is over. */
int demo_gen_next(demo_gen *g, demo_tx *tx);
uint32_t demo_gen_case_count(const demo_gen *g);
demo_case *demo_gen_case(demo_gen *g, uint32_t i);
uint32_t demo_gen_cases_skipped(const demo_gen *g);
/* The case of transfer id (-1: background); valid for generated ids. */
int32_t demo_gen_case_of(const demo_gen *g, uint64_t id);
const char *demo_kind_name(demo_kind k);

/* ---- bank (the ring) ---- */
typedef struct demo_bank demo_bank;
/* Resolve the chain through the broker, create and start the ring on the
 * first backend that works, its lanes sized for `window` transfers in
 * flight (0 = the backend's default); *why gets the reasons others were
 * skipped. */
int demo_bank_create(demo_bank **out, const demo_opts *o, uint32_t window, char *why, size_t whylen);
/* The in-flight window the ring was sized for. */
uint32_t demo_bank_window(const demo_bank *b);
void demo_bank_destroy(demo_bank *b);
const char *demo_bank_backend(const demo_bank *b);
const char *demo_bank_device(const demo_bank *b);
/* Most transfers one submit or receive call takes. */
#define DEMO_BATCH_MAX 64u
/* Send tx[0..n) (n <= DEMO_BATCH_MAX) in one ring batch; GB_OK when all
 * went (it waits for room). */
gb_status demo_bank_submit(demo_bank *b, const demo_tx *tx, uint32_t n);
/* Up to max (<= DEMO_BATCH_MAX) acknowledged transfers into tx[] and
 * hlc[], *got of them (GB_OK, *got >= 1; GB_EAGAIN none within
 * timeout). */
gb_status demo_bank_receive(demo_bank *b, demo_tx *tx, uint64_t *hlc, uint32_t max, uint32_t *got,
                            int64_t timeout_ns);
gb_status demo_bank_stop(demo_bank *b);
/* Credits the ring refused (K2K destination full) and the host resent. */
uint64_t demo_bank_credits_resent(const demo_bank *b);

/* ---- detection ---- */
typedef struct demo_detect demo_detect;
typedef struct demo_result {
    uint64_t transfers;
    double seconds;
    uint64_t alerts[DEMO_DETECTORS];
    uint64_t alerts_total, alerts_true;
    uint32_t cases[DEMO_KINDS], found[DEMO_KINDS];
    uint32_t cases_total, found_total, cases_skipped;
    int64_t lat_p50_ns, lat_p99_ns, lat_max_ns;
    /* over the detectors that emit on the transfer completing the alert
     * (demo_detector_immediate): what the latency goal is judged on */
    int64_t goal_p50_ns, goal_p99_ns, goal_max_ns;
    int64_t det_p50_ns[DEMO_DETECTORS], det_p99_ns[DEMO_DETECTORS];
    uint64_t credits_resent;  /* K2K credits refused by a full lane, resent by the host */
    uint64_t max_runs_capped; /* matcher runs not started: open-run cap */
    char backend[32];
    char device[128];
    char fallback[512];
} demo_result;

/* accounts: the bank's size, which sizes the matcher's open-run cap
 * (velocity_change keeps a run per sending account for 2 h). */
int demo_detect_create(demo_detect **out, demo_gen *gen, const int64_t *submit_ns, uint32_t window,
                       uint32_t accounts);
void demo_detect_destroy(demo_detect *d);
/* Hand over one acknowledged transfer (any order); in-order ones are matched. */
int demo_detect_accept(demo_detect *d, const demo_tx *tx, uint64_t hlc);
/* Transfers matched so far (in id order, so every id below it is done). */
uint64_t demo_detect_done(const demo_detect *d);
/* Close every open window (end of stream). */
int demo_detect_finish(demo_detect *d);
void demo_detect_result(demo_detect *d, demo_result *r);
/* Each alert as one line "detector id,id,..." (for determinism tests). */
void demo_detect_dump(const demo_detect *d, FILE *f);

/* ---- report ---- */
void demo_report_text(FILE *f, const demo_opts *o, const demo_result *r);
void demo_report_json(FILE *f, const demo_opts *o, const demo_result *r);
const char *demo_detector_name(uint32_t d);
/* 1 when detector d emits an alert on the transfer that completes it; 0 for
 * rapid_split, whose unbounded last step (b {3,}) emits only when its 5 s
 * window closes, so its latency includes waiting for later stream time. */
int demo_detector_immediate(uint32_t d);

#endif
