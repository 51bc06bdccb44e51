/*
 * Internal, host only: specialised evaluation of simple `where` programs.
 *
 * Most predicates are a conjunction of a few comparisons between two loads
 * (`value >= 10000`, `source == a.target`, `type == "x"`). The compiler's
 * bytecode for them has a fixed shape; gbp_fast_compile() recognises it and
 * decodes it once into terms the matcher evaluates directly, without the
 * dispatch loop of the VM. Anything else (arithmetic, `or`, `not`, deeper
 * expressions) stays on the VM. The result is bit-for-bit that of
 * gbp_vm_eval() on the same program (same loads, same conversions, same
 * comparison opcodes); the device matcher keeps running the VM.
 */
#ifndef GBP_FASTPRED_H
#define GBP_FASTPRED_H

#include <stdint.h>

#include "pattern/vm.h"

#define GBP_FAST_TERMS 4

/* Where a load reads: the base of gbp_fast_holds' table. */
enum { GBP_FAST_CONSTS, GBP_FAST_CUR, GBP_FAST_VARS, GBP_FAST_SLOTS, GBP_FAST_COUNTS };

/* One load instruction decoded to a byte offset from one of the bases,
 * its width (8, or 4 for `type` and counts, zero-extended) and whether I2D
 * follows it. */
typedef struct gbp_fast_load {
    uint8_t base;
    uint8_t wide;
    uint8_t i2d;
    uint32_t off;
} gbp_fast_load;

/* One operand of a comparison: a load, or `a ARITH b` of two loads
 * (arith != 0) optionally converted by I2D afterwards (i2d). */
typedef struct gbp_fast_opnd {
    gbp_fast_load a, b;
    uint8_t arith; /* 0 or GBP_OP_ADD_I .. GBP_OP_DIV_D */
    uint8_t i2d;
} gbp_fast_opnd;

typedef struct gbp_fast_term {
    gbp_fast_opnd l, r;
    uint8_t cmp; /* GBP_OP_EQ_I .. GBP_OP_GE_D */
} gbp_fast_term;

/* nterms == 0: not recognised, evaluate with the VM. */
typedef struct gbp_fast {
    uint32_t nterms;
    gbp_fast_term t[GBP_FAST_TERMS];
} gbp_fast;

/* Decode the program at code[pc] into *f (nterms 0 when its shape is not
 * one this file handles). Never fails; thread-safe (reads only). */
void gbp_fast_compile(const uint32_t *code, uint32_t ncode, uint32_t pc, gbp_fast *f);

/* The truth of a recognised program (nterms > 0) on ctx: exactly
 * gbp_vm_eval()'s result != 0. consts as for the VM. Thread-safe. */
int gbp_fast_holds(const gbp_fast *f, const gbp_val *consts, const gbp_vm_ctx *ctx);

/* Is term t (as decoded, before any remapping of the variable loads) the
 * equality `cur.F == var.G` of two 8-byte integer fields (id, ts, source,
 * target)? Then 1, with *field = F, *var and *vfield = G (GBP_F_* numbers);
 * else 0. A top-level conjunct of this shape is a requirement every event
 * satisfying the program meets: what the matchers' key indexes use. */
int gbp_fast_term_eq(const gbp_fast_term *t, uint32_t *field, uint32_t *var, uint32_t *vfield);

#endif
