/*
 * Internal: the predicate bytecode of compiled patterns and its VM.
 *
 * A program is a run of 32-bit instructions in one flat array shared by all
 * patterns of a set: the low 8 bits are the opcode, the upper 24 bits its
 * argument. Values are untagged 64-bit cells (gbp_val): the compiler knows
 * every value's type statically (spec: integers vs doubles) and emits typed
 * opcodes and explicit conversions, so the VM never looks at a type tag.
 *
 * This header and vm.c are written to be compiled as portable kernel C for
 * the device matcher too: plain C, fixed-size stack, no libc, no recursion.
 * Define GBP_VM_KERNEL to skip the host include; gb_event must then be
 * declared by the includer with the layout of gpubridge/pattern.h.
 */
#ifndef GBP_VM_H
#define GBP_VM_H

#ifndef GBP_VM_KERNEL
#include <stdint.h>

#include "gpubridge/pattern.h"
#endif

/* The address space of what the VM reads (bytecode, constants, events,
 * run state): empty on the host and CUDA; the device matcher's OpenCL
 * program defines it as __global (PoCL has no generic address space). */
#ifndef GBP_VM_AS
#define GBP_VM_AS
#endif

typedef union gbp_val {
    int64_t i;
    double d;
} gbp_val;

/* Event fields, as the DSL names them. id..target are integers, the rest doubles. */
enum gbp_field {
    GBP_F_ID = 0,
    GBP_F_TYPE = 1,
    GBP_F_TS = 2,
    GBP_F_SOURCE = 3,
    GBP_F_TARGET = 4,
    GBP_F_VALUE = 5,
    GBP_F_A0 = 6,
    GBP_F_A1 = 7,
    GBP_F_A2 = 8,
    GBP_F_A3 = 9,
    GBP_F_COUNT = 10
};
#define GBP_FIELD_IS_INT(f) ((f) <= GBP_F_TARGET)

enum gbp_op {
    GBP_OP_RET = 0, /* result = top of stack */
    GBP_OP_PUSH,    /* push consts[arg] */
    GBP_OP_CUR,     /* push field arg of the current event */
    GBP_OP_VAR,     /* push field (arg & 15) of the last event bound to var (arg >> 4) */
    GBP_OP_SLOT,    /* push aggregate slot arg */
    GBP_OP_COUNT,   /* push the number of events bound to var arg (integer) */
    GBP_OP_I2D,     /* top: integer -> double */
    GBP_OP_I2D_NOS, /* the value under the top: integer -> double */
    GBP_OP_ADD_I,
    GBP_OP_SUB_I,
    GBP_OP_MUL_I,
    GBP_OP_ADD_D,
    GBP_OP_SUB_D,
    GBP_OP_MUL_D,
    GBP_OP_DIV_D,   /* division by zero gives 0 */
    GBP_OP_NEG_I,
    GBP_OP_NEG_D,
    GBP_OP_EQ_I,    /* comparisons push integer 0 or 1 */
    GBP_OP_NE_I,
    GBP_OP_LT_I,
    GBP_OP_LE_I,
    GBP_OP_GT_I,
    GBP_OP_GE_I,
    GBP_OP_EQ_D,
    GBP_OP_NE_D,
    GBP_OP_LT_D,
    GBP_OP_LE_D,
    GBP_OP_GT_D,
    GBP_OP_GE_D,
    GBP_OP_TRUTH_I, /* top: integer -> 0/1 (non-zero is true) */
    GBP_OP_TRUTH_D, /* top: double -> integer 0/1 */
    GBP_OP_NOT,     /* top: 0/1 -> 1/0 */
    GBP_OP_JZ_KEEP, /* if top == 0 jump to arg, keeping it; else fall through */
    GBP_OP_JNZ_KEEP,/* if top != 0 jump to arg, keeping it */
    GBP_OP_POP,
    GBP_OP_COUNT_OF_OPS
};

#define GBP_INSN(op, arg) ((uint32_t)(op) | ((uint32_t)(arg) << 8))
#define GBP_INSN_OP(w) ((w) & 0xFFu)
#define GBP_INSN_ARG(w) ((w) >> 8)
#define GBP_ARG_MAX 0xFFFFFFu
#define GBP_VM_STACK 32 /* the compiler rejects programs that need more */

/* What a program reads: the current event, the last event bound to each
 * variable (indexed by variable), the run's aggregate slots and per-variable
 * counts. */
typedef struct gbp_vm_ctx {
    const GBP_VM_AS gb_event *cur;
    const GBP_VM_AS gb_event *vars;
    const GBP_VM_AS gbp_val *slots;
    const GBP_VM_AS uint32_t *counts;
} gbp_vm_ctx;

/* The value of event field f (a gbp_field) as the DSL types it: id..target
 * integers, value and a0..a3 doubles. Shared by the VM and the matcher. */
static inline gbp_val gbp_field_value(const GBP_VM_AS gb_event *e, uint32_t f)
{
    gbp_val v;
    switch (f) {
    case GBP_F_ID: v.i = (int64_t)e->id; break;
    case GBP_F_TYPE: v.i = (int64_t)e->type; break;
    case GBP_F_TS: v.i = e->ts_ns; break;
    case GBP_F_SOURCE: v.i = (int64_t)e->source; break;
    case GBP_F_TARGET: v.i = (int64_t)e->target; break;
    case GBP_F_VALUE: v.d = e->value; break;
    case GBP_F_A0: v.d = e->a[0]; break;
    case GBP_F_A1: v.d = e->a[1]; break;
    case GBP_F_A2: v.d = e->a[2]; break;
    default: v.d = e->a[3]; break;
    }
    return v;
}

/* Run the program starting at code[pc] until RET; *out = the result.
 * Returns 0, or -1 for a malformed program (bad opcode, stack overflow or
 * underflow, jump out of range of ncode). */
int gbp_vm_eval(const GBP_VM_AS uint32_t *code, uint32_t ncode, uint32_t pc, const GBP_VM_AS gbp_val *consts,
                const gbp_vm_ctx *ctx, gbp_val *out);

#endif
