/*
 * The predicate VM: evaluates `where` and `emit` bytecode (see vm.h).
 *
 * PORTABLE KERNEL C: this file is meant to be compiled unchanged for the
 * device matcher (OpenCL C / CUDA via kernel_lang.h) as well as for the host.
 * Keep it plain C: no libc calls, no recursion, no dynamic memory, a
 * fixed-size value stack, one flat bytecode array, integer arithmetic done on
 * unsigned types so overflow wraps instead of being undefined.
 */
#ifndef GBP_VM_KERNEL /* the device program embeds vm.h before this file */
#include "pattern/vm.h"
#endif

static int64_t wrap_add(int64_t a, int64_t b)
{
    return (int64_t)((uint64_t)a + (uint64_t)b);
}

static int64_t wrap_sub(int64_t a, int64_t b)
{
    return (int64_t)((uint64_t)a - (uint64_t)b);
}

static int64_t wrap_mul(int64_t a, int64_t b)
{
    return (int64_t)((uint64_t)a * (uint64_t)b);
}

/* Binary operators on the two top cells: s[0] = left, s[1] = right. */
static int binary(uint32_t op, gbp_val *s)
{
    int64_t a = s[0].i, b = s[1].i;
    double x = s[0].d, y = s[1].d;
    switch (op) {
    case GBP_OP_ADD_I: s[0].i = wrap_add(a, b); break;
    case GBP_OP_SUB_I: s[0].i = wrap_sub(a, b); break;
    case GBP_OP_MUL_I: s[0].i = wrap_mul(a, b); break;
    case GBP_OP_ADD_D: s[0].d = x + y; break;
    case GBP_OP_SUB_D: s[0].d = x - y; break;
    case GBP_OP_MUL_D: s[0].d = x * y; break;
    case GBP_OP_DIV_D: s[0].d = y == 0.0 ? 0.0 : x / y; break;
    case GBP_OP_EQ_I: s[0].i = a == b; break;
    case GBP_OP_NE_I: s[0].i = a != b; break;
    case GBP_OP_LT_I: s[0].i = a < b; break;
    case GBP_OP_LE_I: s[0].i = a <= b; break;
    case GBP_OP_GT_I: s[0].i = a > b; break;
    case GBP_OP_GE_I: s[0].i = a >= b; break;
    case GBP_OP_EQ_D: s[0].i = x == y; break;
    case GBP_OP_NE_D: s[0].i = x != y; break;
    case GBP_OP_LT_D: s[0].i = x < y; break;
    case GBP_OP_LE_D: s[0].i = x <= y; break;
    case GBP_OP_GT_D: s[0].i = x > y; break;
    case GBP_OP_GE_D: s[0].i = x >= y; break;
    default: return -1;
    }
    return 0;
}

/* One instruction that is neither a load nor RET/POP/jump/I2D_NOS: a unary
 * operator on the top cell or a binary one on the two top cells. The stack
 * holds sp >= 1 cells. Returns the new sp, or -1 (bad opcode, underflow). */
static int arith(uint32_t op, gbp_val *s, int sp)
{
    gbp_val *t = &s[sp - 1];
    switch (op) {
    case GBP_OP_I2D: t->d = (double)t->i; return sp;
    case GBP_OP_NEG_I: t->i = wrap_sub(0, t->i); return sp;
    case GBP_OP_NEG_D: t->d = -t->d; return sp;
    case GBP_OP_TRUTH_I: t->i = t->i != 0; return sp;
    case GBP_OP_TRUTH_D: t->i = t->d != 0.0; return sp;
    case GBP_OP_NOT: t->i = t->i == 0; return sp;
    default: break;
    }
    if (sp < 2 || binary(op, &s[sp - 2]) != 0)
        return -1;
    return sp - 1;
}

/* The VM proper: one dispatch per instruction. The checks (stack bounds,
 * jump range) are those of the contract in vm.h; a well-formed program from
 * the compiler never fails them. */
int gbp_vm_eval(const GBP_VM_AS uint32_t *code, uint32_t ncode, uint32_t pc, const GBP_VM_AS gbp_val *consts,
                const gbp_vm_ctx *ctx, gbp_val *out)
{
    gbp_val s[GBP_VM_STACK];
    int sp = 0; /* number of cells on the stack */
    while (pc < ncode) {
        uint32_t w = code[pc++];
        uint32_t op = GBP_INSN_OP(w), arg = GBP_INSN_ARG(w);
        if (op >= GBP_OP_PUSH && op <= GBP_OP_COUNT && sp >= GBP_VM_STACK)
            return -1;
        switch (op) {
        case GBP_OP_PUSH: s[sp++] = consts[arg]; continue;
        case GBP_OP_CUR: s[sp++] = gbp_field_value(ctx->cur, arg); continue;
        case GBP_OP_VAR: s[sp++] = gbp_field_value(&ctx->vars[arg >> 4], arg & 15u); continue;
        case GBP_OP_SLOT: s[sp++] = ctx->slots[arg]; continue;
        case GBP_OP_COUNT: s[sp++].i = (int64_t)ctx->counts[arg]; continue;
        default: break;
        }
        if (sp < 1)
            return -1;
        switch (op) {
        case GBP_OP_RET: *out = s[sp - 1]; return 0;
        case GBP_OP_POP: sp--; continue;
        case GBP_OP_JZ_KEEP:
        case GBP_OP_JNZ_KEEP:
            if (arg > ncode)
                return -1;
            if ((s[sp - 1].i == 0) == (op == GBP_OP_JZ_KEEP))
                pc = arg;
            continue;
        case GBP_OP_I2D_NOS:
            if (sp < 2)
                return -1;
            s[sp - 2].d = (double)s[sp - 2].i;
            continue;
        default:
            sp = arith(op, s, sp);
            if (sp < 0)
                return -1;
        }
    }
    return -1;
}
