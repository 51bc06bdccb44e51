/*
 * Specialised evaluation of simple `where` programs (see fastpred.h).
 *
 * Recognised shape (what parser.c emits for `T1 and T2 and ...`, each Ti a
 * comparison of two loads, possibly converted to double):
 *   Ti   = X X [I2D_NOS] CMP {TRUTH_I}
 *   X    = LOAD [I2D] | LOAD [I2D] LOAD [I2D] [I2D_NOS] ARITH [I2D]
 *   prog = T1 { JZ_KEEP(into the TRUTH_I after the next term) POP Ti } RET
 * A JZ_KEEP whose target is the end of the next term keeps a 0 that the
 * next JZ_KEEP (or RET) sees, so the program's value is the conjunction.
 */
#include <stddef.h>
#include <string.h>

#include "pattern/fastpred.h"

static int is_load_op(uint32_t op)
{
    return op >= GBP_OP_PUSH && op <= GBP_OP_COUNT;
}

static int is_cmp_op(uint32_t op)
{
    return op >= GBP_OP_EQ_I && op <= GBP_OP_GE_D;
}

static int is_arith_op(uint32_t op)
{
    return op >= GBP_OP_ADD_I && op <= GBP_OP_DIV_D;
}

static size_t field_offset(uint32_t f)
{
    static const size_t off[GBP_F_COUNT] = {
        offsetof(gb_event, id),     offsetof(gb_event, type),  offsetof(gb_event, ts_ns), offsetof(gb_event, source),
        offsetof(gb_event, target), offsetof(gb_event, value), offsetof(gb_event, a[0]),  offsetof(gb_event, a[1]),
        offsetof(gb_event, a[2]),   offsetof(gb_event, a[3])};
    return off[f < GBP_F_COUNT ? f : GBP_F_A3]; /* the VM reads a3 for any larger field */
}

/* The base, offset and width the load instruction (op, arg) reads; -1 when
 * the offset would not fit. */
static int decode_load(uint32_t op, uint32_t arg, gbp_fast_load *l)
{
    uint64_t off;
    l->wide = 1;
    switch (op) {
    case GBP_OP_PUSH: l->base = GBP_FAST_CONSTS; off = (uint64_t)arg * sizeof(gbp_val); break;
    case GBP_OP_CUR:
        l->base = GBP_FAST_CUR;
        off = field_offset(arg);
        l->wide = arg != GBP_F_TYPE;
        break;
    case GBP_OP_VAR:
        l->base = GBP_FAST_VARS;
        off = (uint64_t)(arg >> 4) * sizeof(gb_event) + field_offset(arg & 15u);
        l->wide = (arg & 15u) != GBP_F_TYPE;
        break;
    case GBP_OP_SLOT: l->base = GBP_FAST_SLOTS; off = (uint64_t)arg * sizeof(gbp_val); break;
    default: l->base = GBP_FAST_COUNTS; off = (uint64_t)arg * sizeof(uint32_t); l->wide = 0; break;
    }
    if (off > UINT32_MAX)
        return -1;
    l->off = (uint32_t)off;
    return 0;
}

/* Apply I2D to an operand of the abstract stack; -1 when the shape is not
 * one gbp_fast_opnd can hold. */
static int to_double(gbp_fast_opnd *o)
{
    uint8_t *flag = o->arith ? &o->i2d : &o->a.i2d;
    if (*flag)
        return -1;
    *flag = 1;
    return 0;
}

/* One term at code[*pc] by abstract execution over a stack of operands;
 * 0 or -1. *cmp_end = the position after its comparison (TRUTH_I may
 * follow, an identity on 0/1). */
static int term(const uint32_t *code, uint32_t ncode, uint32_t *pc, gbp_fast_term *t, uint32_t *cmp_end)
{
    gbp_fast_opnd s[3];
    int sp = 0;
    for (; *pc < ncode; (*pc)++) {
        uint32_t op = GBP_INSN_OP(code[*pc]), arg = GBP_INSN_ARG(code[*pc]);
        if (is_load_op(op)) {
            if (sp == 3)
                return -1;
            s[sp] = (gbp_fast_opnd){.a = {0}};
            if (decode_load(op, arg, &s[sp++].a))
                return -1;
        } else if (op == GBP_OP_I2D || op == GBP_OP_I2D_NOS) {
            int at = sp - (op == GBP_OP_I2D ? 1 : 2);
            if (at < 0 || to_double(&s[at]))
                return -1;
        } else if (is_arith_op(op)) {
            if (sp < 2 || s[sp - 2].arith || s[sp - 1].arith)
                return -1;
            s[sp - 2].b = s[sp - 1].a;
            s[sp - 2].arith = (uint8_t)op;
            sp--;
        } else if (is_cmp_op(op) && sp == 2) {
            t->l = s[0];
            t->r = s[1];
            t->cmp = (uint8_t)op;
            *cmp_end = ++(*pc);
            while (*pc < ncode && GBP_INSN_OP(code[*pc]) == GBP_OP_TRUTH_I)
                (*pc)++;
            return 0;
        } else {
            return -1;
        }
    }
    return -1;
}

void gbp_fast_compile(const uint32_t *code, uint32_t ncode, uint32_t pc, gbp_fast *f)
{
    gbp_fast g = {0};
    uint32_t jump_to = UINT32_MAX; /* target of the pending JZ_KEEP */
    uint32_t cmp_end = 0;
    f->nterms = 0;
    for (;;) {
        if (g.nterms == GBP_FAST_TERMS || term(code, ncode, &pc, &g.t[g.nterms], &cmp_end))
            return;
        g.nterms++;
        /* a kept 0 landing among the TRUTH_I after the next term stays 0 */
        if (jump_to != UINT32_MAX && (jump_to < cmp_end || jump_to > pc))
            return;
        if (pc >= ncode)
            return;
        uint32_t op = GBP_INSN_OP(code[pc]);
        if (op == GBP_OP_RET)
            break;
        if (op != GBP_OP_JZ_KEEP || pc + 1 >= ncode || GBP_INSN_OP(code[pc + 1]) != GBP_OP_POP)
            return;
        jump_to = GBP_INSN_ARG(code[pc]);
        pc += 2;
    }
    *f = g;
}

/* What the VM's load pushes: 8 bytes as they are, or a u32 zero-extended
 * (the VM's (int64_t) of a uint32_t). */
static inline gbp_val load(const gbp_fast_load *l, const char *const *base)
{
    const char *p = base[l->base] + l->off;
    gbp_val v;
    if (l->wide) {
        memcpy(&v, p, sizeof v);
    } else {
        uint32_t u;
        memcpy(&u, p, sizeof u);
        v.i = (int64_t)u;
    }
    if (l->i2d)
        v.d = (double)v.i;
    return v;
}

/* The VM's arithmetic (vm.c binary()): integers wrap, x / 0 gives 0. */
static gbp_val arith(uint32_t op, gbp_val l, gbp_val r)
{
    gbp_val v;
    switch (op) {
    case GBP_OP_ADD_I: v.i = (int64_t)((uint64_t)l.i + (uint64_t)r.i); break;
    case GBP_OP_SUB_I: v.i = (int64_t)((uint64_t)l.i - (uint64_t)r.i); break;
    case GBP_OP_MUL_I: v.i = (int64_t)((uint64_t)l.i * (uint64_t)r.i); break;
    case GBP_OP_ADD_D: v.d = l.d + r.d; break;
    case GBP_OP_SUB_D: v.d = l.d - r.d; break;
    case GBP_OP_MUL_D: v.d = l.d * r.d; break;
    default: v.d = r.d == 0.0 ? 0.0 : l.d / r.d; break;
    }
    return v;
}

static inline gbp_val operand(const gbp_fast_opnd *o, const char *const *base)
{
    gbp_val v = load(&o->a, base);
    if (!o->arith)
        return v;
    v = arith(o->arith, v, load(&o->b, base));
    if (o->i2d)
        v.d = (double)v.i;
    return v;
}

static int compare(uint32_t op, gbp_val l, gbp_val r)
{
    switch (op) {
    case GBP_OP_EQ_I: return l.i == r.i;
    case GBP_OP_NE_I: return l.i != r.i;
    case GBP_OP_LT_I: return l.i < r.i;
    case GBP_OP_LE_I: return l.i <= r.i;
    case GBP_OP_GT_I: return l.i > r.i;
    case GBP_OP_GE_I: return l.i >= r.i;
    case GBP_OP_EQ_D: return l.d == r.d;
    case GBP_OP_NE_D: return l.d != r.d;
    case GBP_OP_LT_D: return l.d < r.d;
    case GBP_OP_LE_D: return l.d <= r.d;
    case GBP_OP_GT_D: return l.d > r.d;
    default: return l.d >= r.d;
    }
}

int gbp_fast_holds(const gbp_fast *f, const gbp_val *consts, const gbp_vm_ctx *ctx)
{
    const char *const base[] = {(const char *)consts, (const char *)ctx->cur, (const char *)ctx->vars,
                                (const char *)ctx->slots, (const char *)ctx->counts};
    for (uint32_t i = 0; i < f->nterms; i++) {
        const gbp_fast_term *t = &f->t[i];
        if (!compare(t->cmp, operand(&t->l, base), operand(&t->r, base)))
            return 0;
    }
    return 1;
}

/* The 8-byte integer field at byte offset off of an event, or -1 (`type`
 * is 4 bytes). */
static int int_field_at(uint32_t off)
{
    static const size_t at[GBP_F_TARGET + 1] = {offsetof(gb_event, id), SIZE_MAX, offsetof(gb_event, ts_ns),
                                                offsetof(gb_event, source), offsetof(gb_event, target)};
    for (int f = 0; f <= GBP_F_TARGET; f++)
        if (at[f] == off)
            return f;
    return -1;
}

int gbp_fast_term_eq(const gbp_fast_term *t, uint32_t *field, uint32_t *var, uint32_t *vfield)
{
    const gbp_fast_opnd *c = &t->l, *v = &t->r;
    if (t->cmp != GBP_OP_EQ_I || c->arith || v->arith || c->a.i2d || v->a.i2d || !c->a.wide || !v->a.wide)
        return 0;
    if (c->a.base != GBP_FAST_CUR) {
        c = &t->r;
        v = &t->l;
    }
    if (c->a.base != GBP_FAST_CUR || v->a.base != GBP_FAST_VARS)
        return 0;
    uint32_t n = v->a.off / (uint32_t)sizeof(gb_event);
    int f = int_field_at(c->a.off), g = int_field_at(v->a.off - n * (uint32_t)sizeof(gb_event));
    if (f < 0 || g < 0)
        return 0;
    *field = (uint32_t)f;
    *var = n;
    *vfield = (uint32_t)g;
    return 1;
}
