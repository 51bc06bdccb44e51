/*
 * Parser of the pattern DSL (shared/spec/pattern-dsl.md, Grammar): a
 * recursive-descent reader that type-checks expressions as it reads them
 * and drives the builder of compiler.h to emit predicate bytecode directly
 * (no separate tree: every operand's type is known when its operator is
 * read, which is all the spec's typing rules need). The first error stops
 * the parse and becomes "LINE:COL: message" (GB_EPARSE); nothing of a
 * rejected file is kept. Also the public entry points gb_pattern_compile*.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "pattern/compiler.h"
#include "pattern/lexer.h"

#define MAX_NESTING 64

typedef struct parser {
    gbp_lexer lx;
    gbp_token tok, nxt;
    int have_nxt;
    gbp_compiler *c;
    int cur_var;  /* variable of the step being read, -1 in negations and emit */
    int nvisible; /* variables 0..nvisible-1 are bound earlier */
    int in_emit;
    int nesting;
} parser;

static const char *const field_names[GBP_F_COUNT] = {"id",     "type", "ts", "source", "target",
                                                     "value", "a0",   "a1", "a2",     "a3"};
static const char *const agg_names[] = {"count", "sum", "min", "max", "avg", "first", "last"};
enum { AGG_COUNT, AGG_SUM, AGG_MIN, AGG_MAX, AGG_AVG, AGG_FIRST, AGG_LAST, AGG_N };
static const char *const reserved[] = {"pattern", "severity", "within", "skip", "emit",
                                       "end",     "not",      "where",  "and",  "or"};

static int word_index(const gbp_token *t, const char *const *words, int n)
{
    for (int i = 0; i < n; i++)
        if (gbp_tok_is(t, words[i]))
            return i;
    return -1;
}

static int field_of_tok(const gbp_token *t)
{
    return word_index(t, field_names, GBP_F_COUNT);
}

static int is_reserved(const gbp_token *t)
{
    return word_index(t, reserved, (int)(sizeof reserved / sizeof reserved[0])) >= 0 ||
           word_index(t, agg_names, AGG_N) >= 0 || field_of_tok(t) >= 0;
}

static const char *describe(const gbp_token *t, char *buf, size_t cap)
{
    if (t->kind == GBP_T_EOF)
        return "end of file";
    if (t->kind == GBP_T_STR)
        return "a string";
    snprintf(buf, cap, "'%.*s'", (int)(t->len > 40 ? 40 : t->len), t->text);
    return buf;
}

static int fail(parser *P, const gbp_token *t, const char *fmt, const char *arg)
{
    return gbp_comp_error(P->c, t->line, t->col, fmt, arg);
}

/* "expected X, found Y" at the current token. */
static int expected(parser *P, const char *what)
{
    char buf[64], msg[160];
    snprintf(msg, sizeof msg, "expected %s, found %s", what, describe(&P->tok, buf, sizeof buf));
    return fail(P, &P->tok, "%s", msg);
}

static gbp_token lex(parser *P)
{
    return gbp_lexer_next(&P->lx);
}

static int next(parser *P)
{
    if (P->have_nxt) {
        P->tok = P->nxt;
        P->have_nxt = 0;
    } else {
        P->tok = lex(P);
    }
    if (P->tok.kind == GBP_T_ERROR)
        return fail(P, &P->tok, "%s", P->lx.msg);
    return 0;
}

static const gbp_token *peek(parser *P)
{
    if (!P->have_nxt) {
        /* a lexical error here is reported only when the token is reached */
        char saved[sizeof P->lx.msg];
        memcpy(saved, P->lx.msg, sizeof saved);
        P->nxt = lex(P);
        P->have_nxt = 1;
        if (P->nxt.kind != GBP_T_ERROR)
            memcpy(P->lx.msg, saved, sizeof saved);
    }
    return &P->nxt;
}

static int emit(parser *P, uint32_t op, uint32_t arg, const gbp_token *at)
{
    return gbp_emit(P->c, op, arg, at->line, at->col);
}

/* ---- expressions --------------------------------------------------------- */

static int parse_or(parser *P, gbp_expr *e);

static int no_string(parser *P, const gbp_expr *e)
{
    if (e->ty == GBP_TY_STR)
        return gbp_comp_error(P->c, e->line, e->col, "a string compares only with type");
    return 0;
}

/* e now holds a computed value: no longer a plain reference or key. */
static void derived(gbp_expr *e)
{
    e->type_ref = 0;
    e->is_cur_ref = 0;
    e->is_var_ref = 0;
    e->has_key = 0;
}

/* Leave an integer 0/1 for e on the stack. */
static int to_bool(parser *P, gbp_expr *e)
{
    if (no_string(P, e))
        return -1;
    gbp_token at = {.line = e->line, .col = e->col};
    int r = emit(P, e->ty == GBP_TY_DBL ? GBP_OP_TRUTH_D : GBP_OP_TRUTH_I, 0, &at);
    int key = e->has_key;
    e->ty = GBP_TY_INT;
    derived(e);
    e->has_key = key; /* truth of a comparison is the comparison */
    return r;
}

/* Convert the two operands to a common type; returns the type. */
static int unify(parser *P, const gbp_expr *l, const gbp_expr *r, int force_double, gbp_ty *ty)
{
    if (no_string(P, l) || no_string(P, r))
        return -1;
    gbp_token at = {.line = r->line, .col = r->col};
    *ty = (force_double || l->ty == GBP_TY_DBL || r->ty == GBP_TY_DBL) ? GBP_TY_DBL : GBP_TY_INT;
    if (*ty == GBP_TY_DBL && l->ty == GBP_TY_INT && emit(P, GBP_OP_I2D_NOS, 0, &at))
        return -1;
    if (*ty == GBP_TY_DBL && r->ty == GBP_TY_INT && emit(P, GBP_OP_I2D, 0, &at))
        return -1;
    return 0;
}

static int arith(parser *P, gbp_expr *l, const gbp_expr *r, gbp_tok_kind op)
{
    gbp_ty ty;
    if (unify(P, l, r, op == GBP_T_SLASH, &ty))
        return -1;
    uint32_t code;
    switch (op) {
    case GBP_T_PLUS: code = ty == GBP_TY_INT ? GBP_OP_ADD_I : GBP_OP_ADD_D; break;
    case GBP_T_MINUS: code = ty == GBP_TY_INT ? GBP_OP_SUB_I : GBP_OP_SUB_D; break;
    case GBP_T_STAR: code = ty == GBP_TY_INT ? GBP_OP_MUL_I : GBP_OP_MUL_D; break;
    default: code = GBP_OP_DIV_D; break;
    }
    gbp_token at = {.line = l->line, .col = l->col};
    l->ty = ty;
    derived(l);
    return emit(P, code, 0, &at);
}

static int is_cmp(gbp_tok_kind k)
{
    return k >= GBP_T_EQ && k <= GBP_T_GE;
}

static int cmp_string(parser *P, gbp_expr *l, const gbp_expr *r, gbp_tok_kind op)
{
    const gbp_expr *s = l->ty == GBP_TY_STR ? l : r;
    const gbp_expr *o = l->ty == GBP_TY_STR ? r : l;
    if (o->ty == GBP_TY_STR || !o->type_ref)
        return gbp_comp_error(P->c, s->line, s->col, "a string compares only with type");
    if (op != GBP_T_EQ && op != GBP_T_NE)
        return gbp_comp_error(P->c, s->line, s->col, "a string compares with type only by == or !=");
    if (s->slen == 0)
        return gbp_comp_error(P->c, s->line, s->col, "empty type name");
    if (gbp_emit_type_name(P->c, s->str, s->slen, s->line, s->col))
        return -1;
    gbp_token at = {.line = l->line, .col = l->col};
    l->ty = GBP_TY_INT;
    derived(l);
    return emit(P, op == GBP_T_EQ ? GBP_OP_EQ_I : GBP_OP_NE_I, 0, &at);
}

/* `cur.f == v.g` (either way round) makes out's key. */
static void equality_key(gbp_expr *out, const gbp_expr *l, const gbp_expr *r)
{
    const gbp_expr *c = l->is_cur_ref ? l : r, *v = l->is_cur_ref ? r : l;
    if (!c->is_cur_ref || !v->is_var_ref)
        return;
    out->has_key = 1;
    out->key_f = c->cur_f;
    out->key_v = v->var_v;
    out->key_g = v->var_f;
}

static int compare(parser *P, gbp_expr *l, const gbp_expr *r, gbp_tok_kind op)
{
    if (l->ty == GBP_TY_STR || r->ty == GBP_TY_STR)
        return cmp_string(P, l, r, op);
    gbp_ty ty;
    if (unify(P, l, r, 0, &ty))
        return -1;
    uint32_t base = ty == GBP_TY_INT ? GBP_OP_EQ_I : GBP_OP_EQ_D;
    gbp_token at = {.line = l->line, .col = l->col};
    gbp_expr k = *l;
    l->ty = GBP_TY_INT;
    derived(l);
    if (op == GBP_T_EQ && ty == GBP_TY_INT)
        equality_key(l, &k, r);
    return emit(P, base + (uint32_t)(op - GBP_T_EQ), 0, &at);
}

/* The variable named by tok, checked for visibility; -1 on error. */
static int var_ref(parser *P, const gbp_token *t)
{
    const gbp_pattern *p = &P->c->cur;
    for (uint32_t i = 0; i < p->nsteps; i++) {
        if (strlen(p->vars[i]) != t->len || memcmp(p->vars[i], t->text, t->len) != 0)
            continue;
        if ((int)i < P->nvisible || (int)i == P->cur_var)
            return (int)i;
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(t->len > 40 ? 40 : t->len), t->text);
        return fail(P, t, "variable '%s' is not bound yet", name);
    }
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)(t->len > 40 ? 40 : t->len), t->text);
    return fail(P, t, "unknown variable '%s'", name);
}

/* After "VAR": "." FIELD; returns the field or -1. */
static int dot_field(parser *P)
{
    if (P->tok.kind != GBP_T_DOT)
        return expected(P, "'.' and a field after the variable");
    if (next(P))
        return -1;
    int f = field_of_tok(&P->tok);
    if (f < 0)
        return expected(P, "a field (id, type, ts, source, target, value, a0..a3)");
    return next(P) ? -1 : f;
}

static int parse_agg(parser *P, int agg, gbp_expr *e)
{
    gbp_token at = P->tok;
    if (next(P) || next(P)) /* the name, then "(" */
        return -1;
    if (P->tok.kind != GBP_T_IDENT)
        return expected(P, "a variable");
    int v = var_ref(P, &P->tok);
    if (v < 0 || next(P))
        return -1;
    int f = -1;
    if (P->tok.kind == GBP_T_DOT) {
        if ((f = dot_field(P)) < 0)
            return -1;
    } else if (agg != AGG_COUNT) {
        return fail(P, &P->tok, "%s needs a field, e.g. (x.value)", agg_names[agg]);
    }
    if (P->tok.kind != GBP_T_RPAREN)
        return expected(P, "')'");
    if (next(P))
        return -1;
    gbp_compiler *c = P->c;
    e->ty = agg == AGG_COUNT || agg == AGG_AVG ? (agg == AGG_COUNT ? GBP_TY_INT : GBP_TY_DBL)
            : GBP_FIELD_IS_INT(f)              ? GBP_TY_INT
                                               : GBP_TY_DBL;
    if (agg == AGG_COUNT)
        return emit(P, GBP_OP_COUNT, (uint32_t)v, &at);
    if (agg == AGG_LAST)
        return emit(P, GBP_OP_VAR, ((uint32_t)v << 4) | (uint32_t)f, &at);
    static const gbp_agg_op ops[AGG_N] = {GBP_AGG_SUM, GBP_AGG_SUM, GBP_AGG_MIN, GBP_AGG_MAX,
                                          GBP_AGG_SUM, GBP_AGG_FIRST, GBP_AGG_SUM};
    int64_t slot = gbp_slot_index(c, (uint32_t)v, ops[agg], (uint32_t)f, at.line, at.col);
    if (slot < 0 || emit(P, GBP_OP_SLOT, (uint32_t)slot, &at))
        return -1;
    if (agg != AGG_AVG)
        return 0;
    if (GBP_FIELD_IS_INT(f) && emit(P, GBP_OP_I2D, 0, &at))
        return -1;
    return emit(P, GBP_OP_COUNT, (uint32_t)v, &at) || emit(P, GBP_OP_I2D, 0, &at) ||
           emit(P, GBP_OP_DIV_D, 0, &at);
}

static int parse_ref(parser *P, gbp_expr *e)
{
    gbp_token at = P->tok;
    int f = field_of_tok(&at);
    if (f >= 0) {
        if (P->in_emit)
            return fail(P, &at, "%s", "a bare field is not allowed in emit: name a variable (e.g. a.value)");
        if (next(P))
            return -1;
        e->ty = GBP_FIELD_IS_INT(f) ? GBP_TY_INT : GBP_TY_DBL;
        e->type_ref = f == GBP_F_TYPE;
        e->is_cur_ref = 1;
        e->cur_f = f;
        return emit(P, GBP_OP_CUR, (uint32_t)f, &at);
    }
    int v = var_ref(P, &at);
    if (v < 0 || next(P) || (f = dot_field(P)) < 0)
        return -1;
    e->ty = GBP_FIELD_IS_INT(f) ? GBP_TY_INT : GBP_TY_DBL;
    e->type_ref = f == GBP_F_TYPE;
    if (v == P->cur_var) {
        e->is_cur_ref = 1;
        e->cur_f = f;
        return emit(P, GBP_OP_CUR, (uint32_t)f, &at);
    }
    e->is_var_ref = 1;
    e->var_v = v;
    e->var_f = f;
    return emit(P, GBP_OP_VAR, ((uint32_t)v << 4) | (uint32_t)f, &at);
}

static int parse_literal(parser *P, gbp_expr *e)
{
    gbp_token at = P->tok;
    gbp_val v;
    if (at.kind == GBP_T_STR) {
        e->ty = GBP_TY_STR;
        e->str = at.text;
        e->slen = at.len;
        return next(P);
    }
    if (at.kind == GBP_T_NUM) {
        e->ty = GBP_TY_DBL;
        v.d = at.d;
    } else {
        e->ty = GBP_TY_INT;
        v.i = at.i;
    }
    return gbp_emit_const(P->c, v, at.line, at.col) || next(P);
}

static int parse_atom(parser *P, gbp_expr *e)
{
    memset(e, 0, sizeof *e);
    e->line = P->tok.line;
    e->col = P->tok.col;
    switch (P->tok.kind) {
    case GBP_T_INT:
    case GBP_T_NUM:
    case GBP_T_DUR:
    case GBP_T_STR:
        return parse_literal(P, e);
    case GBP_T_LPAREN: {
        if (next(P) || parse_or(P, e))
            return -1;
        if (P->tok.kind != GBP_T_RPAREN)
            return expected(P, "')'");
        return next(P);
    }
    case GBP_T_IDENT: {
        int agg = word_index(&P->tok, agg_names, AGG_N);
        if (agg >= 0 && peek(P)->kind == GBP_T_LPAREN)
            return parse_agg(P, agg, e);
        if (is_reserved(&P->tok) && field_of_tok(&P->tok) < 0)
            return expected(P, "an expression");
        return parse_ref(P, e);
    }
    default:
        return expected(P, "an expression");
    }
}

static int parse_unary(parser *P, gbp_expr *e)
{
    if (P->tok.kind != GBP_T_MINUS)
        return parse_atom(P, e);
    gbp_token at = P->tok;
    if (next(P) || parse_atom(P, e) || no_string(P, e))
        return -1;
    e->line = at.line;
    e->col = at.col;
    derived(e);
    return emit(P, e->ty == GBP_TY_INT ? GBP_OP_NEG_I : GBP_OP_NEG_D, 0, &at);
}

static int parse_prod(parser *P, gbp_expr *e)
{
    if (parse_unary(P, e))
        return -1;
    while (P->tok.kind == GBP_T_STAR || P->tok.kind == GBP_T_SLASH) {
        gbp_tok_kind op = P->tok.kind;
        gbp_expr r;
        if (next(P) || parse_unary(P, &r) || arith(P, e, &r, op))
            return -1;
    }
    return 0;
}

static int parse_sum(parser *P, gbp_expr *e)
{
    if (parse_prod(P, e))
        return -1;
    while (P->tok.kind == GBP_T_PLUS || P->tok.kind == GBP_T_MINUS) {
        gbp_tok_kind op = P->tok.kind;
        gbp_expr r;
        if (next(P) || parse_prod(P, &r) || arith(P, e, &r, op))
            return -1;
    }
    return 0;
}

static int parse_cmp(parser *P, gbp_expr *e)
{
    if (parse_sum(P, e))
        return -1;
    if (!is_cmp(P->tok.kind))
        return 0;
    gbp_tok_kind op = P->tok.kind;
    gbp_expr r;
    return next(P) || parse_sum(P, &r) || compare(P, e, &r, op);
}

static int parse_not(parser *P, gbp_expr *e)
{
    if (!gbp_tok_is(&P->tok, "not"))
        return parse_cmp(P, e);
    gbp_token at = P->tok;
    if (next(P) || parse_cmp(P, e) || to_bool(P, e))
        return -1;
    e->line = at.line;
    e->col = at.col;
    derived(e);
    return emit(P, GBP_OP_NOT, 0, &at);
}

/* left { word right } with short-circuit jumps (and: JZ, or: JNZ). */
static int parse_logic(parser *P, gbp_expr *e, const char *word, uint32_t jump,
                       int (*operand)(parser *, gbp_expr *))
{
    if (operand(P, e))
        return -1;
    gbp_expr key = *e; /* for `and`: the first operand that has a key */
    int n = 0;
    while (gbp_tok_is(&P->tok, word)) {
        gbp_token at = P->tok;
        if (to_bool(P, e) || emit(P, jump, 0, &at))
            return -1;
        uint32_t j = P->c->ncode - 1;
        gbp_expr r;
        if (emit(P, GBP_OP_POP, 0, &at) || next(P) || operand(P, &r) || to_bool(P, &r))
            return -1;
        gbp_patch_jump(P->c, j, P->c->ncode);
        if (!key.has_key)
            key = r;
        n++;
    }
    if (n) {
        derived(e);
        if (jump == GBP_OP_JZ_KEEP && key.has_key) {
            e->has_key = 1;
            e->key_f = key.key_f;
            e->key_v = key.key_v;
            e->key_g = key.key_g;
        }
    }
    return 0;
}

static int parse_and(parser *P, gbp_expr *e)
{
    return parse_logic(P, e, "and", GBP_OP_JZ_KEEP, parse_not);
}

static int parse_or(parser *P, gbp_expr *e)
{
    if (++P->nesting > MAX_NESTING)
        return fail(P, &P->tok, "%s", "expression nested too deeply");
    int r = parse_logic(P, e, "or", GBP_OP_JNZ_KEEP, parse_and);
    P->nesting--;
    return r;
}

/* ---- patterns ------------------------------------------------------------- */

/* A `where` or `emit` program: returns its offset via *at, its type via *ty. */
static int parse_program(parser *P, int as_bool, uint32_t *at, gbp_expr *e)
{
    gbp_token start = P->tok;
    *at = gbp_prog_begin(P->c);
    if (parse_or(P, e))
        return -1;
    if (as_bool ? to_bool(P, e) : no_string(P, e))
        return -1;
    return gbp_prog_end(P->c, start.line, start.col);
}

static int parse_where(parser *P, uint32_t *where, gbp_key *key)
{
    if (!gbp_tok_is(&P->tok, "where"))
        return 0;
    gbp_expr e;
    if (next(P) || parse_program(P, 1, where, &e))
        return -1;
    if (e.has_key)
        *key = (gbp_key){.has = 1, .field = (uint8_t)e.key_f, .vfield = (uint8_t)e.key_g, .var = (uint32_t)e.key_v};
    return 0;
}

static int parse_type(parser *P, uint32_t *type)
{
    if (P->tok.kind != GBP_T_IDENT)
        return expected(P, "an event type");
    int64_t t = gbp_local_name(P->c, P->tok.text, P->tok.len, P->tok.line, P->tok.col);
    if (t < 0)
        return -1;
    *type = (uint32_t)t;
    return next(P);
}

static int parse_count(parser *P, uint32_t *n)
{
    if (P->tok.kind != GBP_T_INT)
        return expected(P, "an integer count");
    if (P->tok.i < 1)
        return fail(P, &P->tok, "%s", "a quantifier count must be at least 1");
    if (P->tok.i >= (int64_t)GBP_UNBOUNDED)
        return fail(P, &P->tok, "%s", "quantifier count too large");
    *n = (uint32_t)P->tok.i;
    return next(P);
}

/* quant = "+" | "{" INT "}" | "{" INT "," [ INT ] "}" */
static int parse_quant(parser *P, gbp_step *st)
{
    if (P->tok.kind == GBP_T_PLUS) {
        st->nmin = 1;
        st->nmax = GBP_UNBOUNDED;
        return next(P);
    }
    if (P->tok.kind != GBP_T_LBRACE)
        return 0;
    if (next(P) || parse_count(P, &st->nmin))
        return -1;
    st->nmax = st->nmin;
    if (P->tok.kind == GBP_T_COMMA) {
        if (next(P))
            return -1;
        st->nmax = GBP_UNBOUNDED;
        if (P->tok.kind == GBP_T_INT) {
            gbp_token mt = P->tok;
            if (parse_count(P, &st->nmax))
                return -1;
            if (st->nmax < st->nmin)
                return fail(P, &mt, "%s", "a quantifier {n,m} needs n <= m");
        }
    }
    if (P->tok.kind != GBP_T_RBRACE)
        return expected(P, "'}'");
    return next(P);
}

static int parse_step(parser *P)
{
    gbp_token vt = P->tok;
    if (is_reserved(&vt)) {
        char buf[64];
        return fail(P, &vt, "%s cannot be a variable name", describe(&vt, buf, sizeof buf));
    }
    int v = gbp_add_step(P->c, vt.text, vt.len, vt.line, vt.col);
    if (v < 0 || next(P) || next(P)) /* VAR ":" */
        return -1;
    gbp_step st = {.nmin = 1, .nmax = 1, .where = GBP_NO_CODE};
    if (parse_type(P, &st.type) || parse_quant(P, &st))
        return -1;
    P->cur_var = v;
    P->nvisible = v;
    if (parse_where(P, &st.where, &st.key))
        return -1;
    P->c->cur.steps[v] = st;
    return 0;
}

static int parse_neg(parser *P)
{
    int k = gbp_add_neg(P->c, P->tok.line, P->tok.col);
    if (k < 0 || next(P))
        return -1;
    gbp_neg ng = {.where = GBP_NO_CODE, .after = P->c->cur.negs[k].after};
    if (parse_type(P, &ng.type))
        return -1;
    P->cur_var = -1;
    P->nvisible = (int)P->c->cur.nsteps;
    if (parse_where(P, &ng.where, &ng.key))
        return -1;
    P->c->cur.negs[k] = ng;
    return 0;
}

static int parse_field(parser *P)
{
    if (P->tok.kind != GBP_T_IDENT)
        return expected(P, "an emit field name");
    int f = gbp_add_field(P->c, P->tok.text, P->tok.len, P->tok.line, P->tok.col);
    if (f < 0 || next(P))
        return -1;
    if (P->tok.kind != GBP_T_ASSIGN)
        return expected(P, "'='");
    if (next(P))
        return -1;
    uint32_t at;
    gbp_expr e;
    if (parse_program(P, 0, &at, &e))
        return -1;
    P->c->cur.field_code[f] = at;
    P->c->cur.field_double[f] = e.ty == GBP_TY_DBL;
    return 0;
}

static int parse_emit(parser *P)
{
    P->in_emit = 1;
    P->cur_var = -1;
    P->nvisible = (int)P->c->cur.nsteps;
    if (next(P) || parse_field(P))
        return -1;
    while (P->tok.kind == GBP_T_COMMA)
        if (next(P) || parse_field(P))
            return -1;
    P->in_emit = 0;
    return 0;
}

static int parse_steps(parser *P)
{
    for (;;) {
        if (gbp_tok_is(&P->tok, "not")) {
            if (parse_neg(P))
                return -1;
        } else if (P->tok.kind == GBP_T_IDENT && !gbp_tok_is(&P->tok, "emit") && !gbp_tok_is(&P->tok, "end") &&
                   peek(P)->kind == GBP_T_COLON) {
            if (parse_step(P))
                return -1;
        } else {
            return 0;
        }
    }
}

static int parse_header(parser *P)
{
    gbp_pattern *p = &P->c->cur;
    static const char *const levels[] = {"low", "medium", "high", "critical"};
    if (gbp_tok_is(&P->tok, "severity")) {
        if (next(P))
            return -1;
        int lv = word_index(&P->tok, levels, 4);
        if (lv < 0)
            return expected(P, "a severity (low, medium, high or critical)");
        p->severity = (gb_severity)lv;
        if (next(P))
            return -1;
    }
    if (!gbp_tok_is(&P->tok, "within"))
        return expected(P, "'within'");
    if (next(P))
        return -1;
    if (P->tok.kind != GBP_T_DUR)
        return expected(P, "a duration (e.g. 5s)");
    p->within = P->tok.i;
    if (next(P))
        return -1;
    if (!gbp_tok_is(&P->tok, "skip"))
        return 0;
    if (next(P))
        return -1;
    if (gbp_tok_is(&P->tok, "past_last"))
        p->past_last = 1;
    else if (!gbp_tok_is(&P->tok, "all"))
        return expected(P, "'all' or 'past_last'");
    return next(P);
}

static int parse_pattern(parser *P)
{
    if (!gbp_tok_is(&P->tok, "pattern"))
        return expected(P, "'pattern'");
    if (next(P))
        return -1;
    if (P->tok.kind != GBP_T_IDENT)
        return expected(P, "a pattern name");
    if (gbp_pattern_begin(P->c, P->tok.text, P->tok.len, P->tok.line, P->tok.col) || next(P))
        return -1;
    if (parse_header(P) || parse_steps(P))
        return -1;
    if (P->c->cur.nsteps == 0)
        return expected(P, "a step (VAR: TYPE)");
    if (gbp_tok_is(&P->tok, "emit") && parse_emit(P))
        return -1;
    if (!gbp_tok_is(&P->tok, "end"))
        return expected(P, P->c->cur.nfields ? "',' or 'end'" : "a step, 'emit' or 'end'");
    gbp_token end = P->tok;
    return gbp_pattern_end(P->c, end.line, end.col) || next(P);
}

static int parse_file(parser *P)
{
    if (next(P))
        return -1;
    while (P->tok.kind != GBP_T_EOF)
        if (parse_pattern(P))
            return -1;
    return 0;
}

/* ---- public entry points ---------------------------------------------------- */

static gb_status compile_into(gb_pattern_set *set, gb_type_table *types, const char *src, size_t len)
{
    gbp_compiler c;
    gbp_comp_init(&c);
    parser P = {.c = &c, .cur_var = -1};
    gbp_lexer_init(&P.lx, src, len);
    if (parse_file(&P)) {
        int oom = c.failed == 2;
        char where[32];
        snprintf(where, sizeof where, "%d:%d", c.line, c.col);
        gb_status st = oom ? gbi_error(GB_ENOMEM, where, "%s", c.msg) : gbi_error(GB_EPARSE, where, "%s", c.msg);
        gbp_comp_free(&c);
        return st;
    }
    if (gbp_comp_finish(&c, types, set)) {
        gbp_comp_free(&c);
        return gbi_error(GB_ENOMEM, "pattern_compile", "out of memory");
    }
    gbp_comp_free(&c);
    return GB_OK;
}

gb_status gb_pattern_compile(gb_pattern_set **out, gb_type_table *types, const char *src, size_t len)
{
    if (!out || (!src && len))
        return gbi_error(GB_EINVAL, "pattern_compile", "NULL argument");
    gb_pattern_set *set = calloc(1, sizeof *set);
    if (!set)
        return gbi_error(GB_ENOMEM, "pattern_compile", "out of memory");
    if (!types) {
        if (gb_type_table_create(&types) != GB_OK) {
            free(set);
            return GB_ENOMEM;
        }
        set->own_types = 1;
    }
    gb_status st = compile_into(set, types, src ? src : "", len);
    if (st != GB_OK) {
        if (set->own_types)
            gb_type_table_destroy(types);
        free(set);
        return st;
    }
    *out = set;
    return GB_OK;
}

static gb_status read_file(const char *path, char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return gbi_error(GB_EIO, path, "%s", strerror(errno));
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    while (b) {
        n += fread(b + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(b, cap * 2);
        if (!nb) {
            free(b);
            b = NULL;
            break;
        }
        b = nb;
        cap *= 2;
    }
    int err = ferror(f);
    fclose(f);
    if (!b)
        return gbi_error(GB_ENOMEM, path, "out of memory");
    if (err) {
        free(b);
        return gbi_error(GB_EIO, path, "read error");
    }
    *buf = b;
    *len = n;
    return GB_OK;
}

gb_status gb_pattern_compile_file(gb_pattern_set **out, gb_type_table *types, const char *path)
{
    if (!out || !path)
        return gbi_error(GB_EINVAL, "pattern_compile_file", "NULL argument");
    char *buf = NULL;
    size_t len = 0;
    gb_status st = read_file(path, &buf, &len);
    if (st != GB_OK)
        return st;
    st = gb_pattern_compile(out, types, buf, len);
    free(buf);
    return st;
}

void gb_pattern_set_destroy(gb_pattern_set *set)
{
    if (!set)
        return;
    for (uint32_t i = 0; i < set->npatterns; i++)
        gbp_pattern_free(&set->patterns[i]);
    free(set->patterns);
    free(set->code);
    free(set->consts);
    if (set->own_types)
        gb_type_table_destroy(set->types);
    free(set);
}

uint32_t gb_pattern_set_count(const gb_pattern_set *set)
{
    return set ? set->npatterns : 0;
}

const char *gb_pattern_name(const gb_pattern_set *set, uint32_t i)
{
    return set && i < set->npatterns ? set->patterns[i].name : NULL;
}

gb_severity gb_pattern_severity(const gb_pattern_set *set, uint32_t i)
{
    return set && i < set->npatterns ? set->patterns[i].severity : GB_SEVERITY_MEDIUM;
}

gb_type_table *gb_pattern_set_types(const gb_pattern_set *set)
{
    return set ? set->types : NULL;
}

const char *gb_severity_name(gb_severity s)
{
    static const char *const names[] = {"low", "medium", "high", "critical"};
    return (unsigned)s < 4 ? names[s] : "unknown";
}
