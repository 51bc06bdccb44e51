/*
 * The predicate VM: evaluates `where` and `emit` bytecode (see vm.h).
 *
 * PORTABLE KERNEL C: this file is meant to be compiled unchanged for the
 * device matcher (OpenCL C / CUDA via kernel_lang.h) as well as for the host.
 * Keep it plain C: no libc calls, no recursion, no dynamic memory, a
 * fixed-size value stack, one flat bytecode array, integer arithmetic done on
 * unsigned types so overflow wraps instead of being undefined.
 */
#include "pattern/vm.h"

static gbp_val field_of(const gb_event *e, uint32_t f)
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

/* Operators on the top cell alone. */
static int unary(uint32_t op, gbp_val *t)
{
    switch (op) {
    case GBP_OP_I2D: t->d = (double)t->i; break;
    case GBP_OP_NEG_I: t->i = wrap_sub(0, t->i); break;
    case GBP_OP_NEG_D: t->d = -t->d; break;
    case GBP_OP_TRUTH_I: t->i = t->i != 0; break;
    case GBP_OP_TRUTH_D: t->i = t->d != 0.0; break;
    case GBP_OP_NOT: t->i = t->i == 0; break;
    default: return -1;
    }
    return 0;
}

static int is_unary(uint32_t op)
{
    return op == GBP_OP_I2D || op == GBP_OP_NEG_I || op == GBP_OP_NEG_D || op == GBP_OP_TRUTH_I ||
           op == GBP_OP_TRUTH_D || op == GBP_OP_NOT;
}

static int push_ok(int sp)
{
    return sp < GBP_VM_STACK;
}

int gbp_vm_eval(const uint32_t *code, uint32_t ncode, uint32_t pc, const gbp_val *consts,
                const gbp_vm_ctx *ctx, gbp_val *out)
{
    gbp_val s[GBP_VM_STACK];
    int sp = 0; /* number of cells on the stack */
    while (pc < ncode) {
        uint32_t w = code[pc++];
        uint32_t op = GBP_INSN_OP(w), arg = GBP_INSN_ARG(w);
        switch (op) {
        case GBP_OP_RET:
            if (sp < 1)
                return -1;
            *out = s[sp - 1];
            return 0;
        case GBP_OP_PUSH:
            if (!push_ok(sp))
                return -1;
            s[sp++] = consts[arg];
            break;
        case GBP_OP_CUR:
            if (!push_ok(sp))
                return -1;
            s[sp++] = field_of(ctx->cur, arg);
            break;
        case GBP_OP_VAR:
            if (!push_ok(sp))
                return -1;
            s[sp++] = field_of(&ctx->vars[arg >> 4], arg & 15u);
            break;
        case GBP_OP_SLOT:
            if (!push_ok(sp))
                return -1;
            s[sp++] = ctx->slots[arg];
            break;
        case GBP_OP_COUNT:
            if (!push_ok(sp))
                return -1;
            s[sp++].i = (int64_t)ctx->counts[arg];
            break;
        case GBP_OP_I2D_NOS:
            if (sp < 2)
                return -1;
            s[sp - 2].d = (double)s[sp - 2].i;
            break;
        case GBP_OP_JZ_KEEP:
        case GBP_OP_JNZ_KEEP:
            if (sp < 1 || arg > ncode)
                return -1;
            if ((s[sp - 1].i == 0) == (op == GBP_OP_JZ_KEEP))
                pc = arg;
            break;
        case GBP_OP_POP:
            if (sp < 1)
                return -1;
            sp--;
            break;
        default:
            if (is_unary(op)) {
                if (sp < 1 || unary(op, &s[sp - 1]) != 0)
                    return -1;
            } else {
                if (sp < 2 || binary(op, &s[sp - 2]) != 0)
                    return -1;
                sp--;
            }
            break;
        }
    }
    return -1;
}
