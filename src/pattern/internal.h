/*
 * Internal: the compiled form of a pattern file, shared by the compiler
 * (which builds it), the matcher (which runs it) and, later, the device
 * matcher (which uploads the flat code/consts arrays).
 *
 * A pattern is an NFA of positive steps S0..Sk-1 (step i binds variable i),
 * each with a type, a quantifier {nmin,nmax} and an optional `where`
 * program, plus negations attached after a positive step. Predicates and
 * emit fields are programs in the set's single bytecode array (vm.h).
 */
#ifndef GBP_INTERNAL_H
#define GBP_INTERNAL_H

#include <stdint.h>

#include "gpubridge/pattern.h"
#include "pattern/vm.h"

#define GBP_UNBOUNDED UINT32_MAX
#define GBP_NO_CODE UINT32_MAX

/* A conjunct `cur.field == var.vfield` of a `where` (integer fields): only
 * events whose `field` equals the run's value of var.vfield can satisfy it,
 * which lets the matcher index runs by that value. */
typedef struct gbp_key {
    uint8_t has;
    uint8_t field;
    uint8_t vfield;
    uint32_t var;
} gbp_key;

typedef struct gbp_step {
    uint32_t type;  /* interned type id */
    uint32_t nmin;  /* >= 1 */
    uint32_t nmax;  /* >= nmin, GBP_UNBOUNDED for `+` / {n,} */
    uint32_t where; /* code offset or GBP_NO_CODE */
    gbp_key key;
} gbp_step;

typedef struct gbp_neg {
    uint32_t type;
    uint32_t where;
    uint32_t after; /* index of the positive step it follows */
    gbp_key key;
} gbp_neg;

typedef enum gbp_agg_op { GBP_AGG_SUM, GBP_AGG_MIN, GBP_AGG_MAX, GBP_AGG_FIRST } gbp_agg_op;

/* An aggregate accumulator kept per run: op over field of variable var.
 * Its type is the field's type. */
typedef struct gbp_slot {
    uint32_t var;
    uint8_t op;
    uint8_t field;
} gbp_slot;

typedef struct gbp_pattern {
    char *name;
    gb_severity severity;
    int64_t within;
    int past_last;        /* skip past_last */
    uint32_t nsteps;      /* positive steps = variables */
    gbp_step *steps;
    char **vars;
    uint32_t nnegs;
    gbp_neg *negs;        /* ordered by `after` */
    uint32_t *neg_begin;  /* nsteps + 1: negations after step i are [neg_begin[i], neg_begin[i+1]) */
    uint32_t nslots;
    gbp_slot *slots;
    uint32_t nfields;
    char **fields;
    uint32_t *field_code;
    uint8_t *field_double;
    uint32_t ntypes;      /* distinct types of steps and negations */
    uint32_t *types;
    int emit_at_close;    /* last step unbounded, or a negation after it */
    int part_field;       /* every step after the first and every negation has a key
                             on this current-event field (-1: none) */
} gbp_pattern;

struct gb_pattern_set {
    gb_type_table *types;
    int own_types;
    uint32_t npatterns;
    gbp_pattern *patterns;
    uint32_t *code;
    uint32_t ncode;
    gbp_val *consts;
    uint32_t nconsts;
};

/* Free everything a pattern owns (not the struct itself). */
void gbp_pattern_free(gbp_pattern *p);

#endif
