/*
 * Pattern compiler back end: the builder behind the parser (compiler.h).
 * It grows the set's flat bytecode and constant arrays, tracks the VM stack
 * depth of each program (rejecting programs deeper than GBP_VM_STACK),
 * assembles each pattern's NFA (steps, negations grouped after their step,
 * aggregate slots, emit fields) and, once the whole file is accepted,
 * interns the type names and hands everything to the gb_pattern_set.
 */
#include "pattern/compiler.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int grow(void **p, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    uint32_t n = *cap ? *cap : 8;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, (size_t)n * elem);
    if (!q)
        return -1;
    *p = q;
    *cap = n;
    return 0;
}

#define GROW(c, arr, cap, need) grow((void **)&(arr), &(cap), (need), sizeof *(arr))

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

void gbp_comp_init(gbp_compiler *c)
{
    memset(c, 0, sizeof *c);
}

static void free_strs(char **v, uint32_t n)
{
    for (uint32_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

void gbp_pattern_free(gbp_pattern *p)
{
    free(p->name);
    free(p->steps);
    free_strs(p->vars, p->nsteps);
    free(p->negs);
    free(p->neg_begin);
    free(p->slots);
    free_strs(p->fields, p->nfields);
    free(p->field_code);
    free(p->field_double);
    free(p->types);
    memset(p, 0, sizeof *p);
}

void gbp_comp_free(gbp_compiler *c)
{
    free(c->code);
    free(c->consts);
    free(c->name_consts);
    free_strs(c->names, c->nnames);
    for (uint32_t i = 0; i < c->npats; i++)
        gbp_pattern_free(&c->pats[i]);
    free(c->pats);
    gbp_pattern_free(&c->cur);
    memset(c, 0, sizeof *c);
}

int gbp_comp_error(gbp_compiler *c, int line, int col, const char *fmt, ...)
{
    if (c->failed)
        return -1;
    c->failed = 1;
    c->line = line;
    c->col = col;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof c->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int gbp_comp_oom(gbp_compiler *c, int line, int col)
{
    int r = gbp_comp_error(c, line, col, "out of memory");
    c->failed = 2;
    return r;
}

static int stack_delta(uint32_t op)
{
    switch (op) {
    case GBP_OP_PUSH:
    case GBP_OP_CUR:
    case GBP_OP_VAR:
    case GBP_OP_SLOT:
    case GBP_OP_COUNT:
        return 1;
    case GBP_OP_POP:
        return -1;
    default:
        return (op >= GBP_OP_ADD_I && op <= GBP_OP_DIV_D) || (op >= GBP_OP_EQ_I && op <= GBP_OP_GE_D) ? -1 : 0;
    }
}

int gbp_emit(gbp_compiler *c, uint32_t op, uint32_t arg, int line, int col)
{
    if (arg > GBP_ARG_MAX || c->ncode >= GBP_ARG_MAX)
        return gbp_comp_error(c, line, col, "pattern file too large");
    if (GROW(c, c->code, c->capcode, c->ncode + 1))
        return gbp_comp_oom(c, line, col);
    c->code[c->ncode++] = GBP_INSN(op, arg);
    c->depth += stack_delta(op);
    if (c->depth > c->maxdepth)
        c->maxdepth = c->depth;
    if (c->maxdepth > GBP_VM_STACK)
        return gbp_comp_error(c, line, col, "expression too complex (needs more than %d stack cells)",
                              GBP_VM_STACK);
    return 0;
}

static int64_t add_const(gbp_compiler *c, gbp_val v, int line, int col)
{
    if (c->nconsts >= GBP_ARG_MAX)
        return gbp_comp_error(c, line, col, "too many constants");
    if (GROW(c, c->consts, c->capconsts, c->nconsts + 1))
        return gbp_comp_oom(c, line, col);
    c->consts[c->nconsts] = v;
    return c->nconsts++;
}

int gbp_emit_const(gbp_compiler *c, gbp_val v, int line, int col)
{
    int64_t k = add_const(c, v, line, col);
    return k < 0 ? -1 : gbp_emit(c, GBP_OP_PUSH, (uint32_t)k, line, col);
}

int64_t gbp_local_name(gbp_compiler *c, const char *s, size_t n, int line, int col)
{
    if (n > GB_TYPE_NAME_MAX)
        return gbp_comp_error(c, line, col, "type name longer than %u bytes", GB_TYPE_NAME_MAX);
    for (uint32_t i = 0; i < c->nnames; i++)
        if (strlen(c->names[i]) == n && memcmp(c->names[i], s, n) == 0)
            return i;
    if (GROW(c, c->names, c->capnames, c->nnames + 1))
        return gbp_comp_oom(c, line, col);
    if (!(c->names[c->nnames] = dup_n(s, n)))
        return gbp_comp_oom(c, line, col);
    return c->nnames++;
}

int gbp_emit_type_name(gbp_compiler *c, const char *s, size_t n, int line, int col)
{
    int64_t name = gbp_local_name(c, s, n, line, col);
    if (name < 0)
        return -1;
    gbp_val v = {.i = name};
    int64_t k = add_const(c, v, line, col);
    if (k < 0)
        return -1;
    if (GROW(c, c->name_consts, c->capname_consts, c->nname_consts + 1))
        return gbp_comp_oom(c, line, col);
    c->name_consts[c->nname_consts++] = (uint32_t)k;
    return gbp_emit(c, GBP_OP_PUSH, (uint32_t)k, line, col);
}

void gbp_patch_jump(gbp_compiler *c, uint32_t at, uint32_t target)
{
    c->code[at] = GBP_INSN(GBP_INSN_OP(c->code[at]), target);
}

uint32_t gbp_prog_begin(gbp_compiler *c)
{
    c->depth = 0;
    c->maxdepth = 0;
    return c->ncode;
}

int gbp_prog_end(gbp_compiler *c, int line, int col)
{
    return gbp_emit(c, GBP_OP_RET, 0, line, col);
}

int64_t gbp_slot_index(gbp_compiler *c, uint32_t var, gbp_agg_op op, uint32_t field, int line, int col)
{
    gbp_pattern *p = &c->cur;
    for (uint32_t i = 0; i < p->nslots; i++)
        if (p->slots[i].var == var && p->slots[i].op == op && p->slots[i].field == field)
            return i;
    if (p->nslots >= 4096)
        return gbp_comp_error(c, line, col, "too many aggregates in one pattern");
    if (GROW(c, p->slots, c->capslots, p->nslots + 1))
        return gbp_comp_oom(c, line, col);
    p->slots[p->nslots] = (gbp_slot){.var = var, .op = (uint8_t)op, .field = (uint8_t)field};
    return p->nslots++;
}

int gbp_pattern_begin(gbp_compiler *c, const char *name, size_t n, int line, int col)
{
    gbp_pattern_free(&c->cur);
    c->capsteps = c->capnegs = c->capslots = c->capfields = 0;
    c->cur.severity = GB_SEVERITY_MEDIUM;
    if (!(c->cur.name = dup_n(name, n)))
        return gbp_comp_oom(c, line, col);
    return 0;
}

int gbp_add_step(gbp_compiler *c, const char *var, size_t n, int line, int col)
{
    gbp_pattern *p = &c->cur;
    for (uint32_t i = 0; i < p->nsteps; i++)
        if (strlen(p->vars[i]) == n && memcmp(p->vars[i], var, n) == 0)
            return gbp_comp_error(c, line, col, "duplicate variable '%.*s'", (int)n, var);
    if (p->nsteps >= 4096)
        return gbp_comp_error(c, line, col, "too many steps in one pattern");
    uint32_t cap = c->capsteps;
    if (GROW(c, p->steps, c->capsteps, p->nsteps + 1))
        return gbp_comp_oom(c, line, col);
    c->capsteps = cap; /* vars grows with the same capacity */
    if (GROW(c, p->vars, c->capsteps, p->nsteps + 1))
        return gbp_comp_oom(c, line, col);
    if (!(p->vars[p->nsteps] = dup_n(var, n)))
        return gbp_comp_oom(c, line, col);
    p->steps[p->nsteps] = (gbp_step){.nmin = 1, .nmax = 1, .where = GBP_NO_CODE};
    return (int)p->nsteps++;
}

int gbp_add_neg(gbp_compiler *c, int line, int col)
{
    gbp_pattern *p = &c->cur;
    if (p->nsteps == 0)
        return gbp_comp_error(c, line, col, "a negation cannot come first");
    if (p->nnegs >= 4096)
        return gbp_comp_error(c, line, col, "too many negations in one pattern");
    if (GROW(c, p->negs, c->capnegs, p->nnegs + 1))
        return gbp_comp_oom(c, line, col);
    p->negs[p->nnegs] = (gbp_neg){.where = GBP_NO_CODE, .after = p->nsteps - 1};
    return (int)p->nnegs++;
}

int gbp_add_field(gbp_compiler *c, const char *name, size_t n, int line, int col)
{
    gbp_pattern *p = &c->cur;
    for (uint32_t i = 0; i < p->nfields; i++)
        if (strlen(p->fields[i]) == n && memcmp(p->fields[i], name, n) == 0)
            return gbp_comp_error(c, line, col, "duplicate emit field '%.*s'", (int)n, name);
    if (p->nfields >= 4096)
        return gbp_comp_error(c, line, col, "too many emit fields");
    uint32_t need = p->nfields + 1, cap = c->capfields;
    if (GROW(c, p->fields, cap, need))
        return gbp_comp_oom(c, line, col);
    cap = c->capfields;
    if (GROW(c, p->field_code, cap, need))
        return gbp_comp_oom(c, line, col);
    cap = c->capfields;
    if (GROW(c, p->field_double, cap, need))
        return gbp_comp_oom(c, line, col);
    c->capfields = cap;
    if (!(p->fields[p->nfields] = dup_n(name, n)))
        return gbp_comp_oom(c, line, col);
    p->field_code[p->nfields] = GBP_NO_CODE;
    p->field_double[p->nfields] = 0;
    return (int)p->nfields++;
}

static int add_type(uint32_t **types, uint32_t *n, uint32_t t)
{
    for (uint32_t i = 0; i < *n; i++)
        if ((*types)[i] == t)
            return 0;
    uint32_t *v = realloc(*types, (*n + 1) * sizeof *v);
    if (!v)
        return -1;
    v[(*n)++] = t;
    *types = v;
    return 0;
}

/* The current-event field every later step and negation is keyed on, or -1. */
static int partition_field(const gbp_pattern *p)
{
    int f = -1;
    for (uint32_t i = 1; i < p->nsteps + p->nnegs; i++) {
        const gbp_key *k = i < p->nsteps ? &p->steps[i].key : &p->negs[i - p->nsteps].key;
        if (!k->has || (f >= 0 && k->field != f))
            return -1;
        f = k->field;
    }
    return f;
}

int gbp_pattern_end(gbp_compiler *c, int line, int col)
{
    gbp_pattern *p = &c->cur;
    if (p->nsteps == 0)
        return gbp_comp_error(c, line, col, "a pattern needs at least one positive step");
    p->neg_begin = calloc(p->nsteps + 1, sizeof *p->neg_begin);
    if (!p->neg_begin)
        return gbp_comp_oom(c, line, col);
    /* negs are in file order, so `after` never decreases */
    uint32_t k = 0;
    for (uint32_t i = 0; i <= p->nsteps; i++) {
        while (k < p->nnegs && p->negs[k].after < i)
            k++;
        p->neg_begin[i] = k;
    }
    p->part_field = partition_field(p);
    const gbp_step *last = &p->steps[p->nsteps - 1];
    p->emit_at_close = last->nmax == GBP_UNBOUNDED || p->neg_begin[p->nsteps - 1] < p->nnegs;
    if (GROW(c, c->pats, c->cappats, c->npats + 1))
        return gbp_comp_oom(c, line, col);
    c->pats[c->npats++] = *p;
    memset(p, 0, sizeof *p);
    return 0;
}

/* Replace local name indices by interned ids in one pattern. */
static int patch_pattern(gbp_pattern *p, const uint32_t *ids)
{
    for (uint32_t i = 0; i < p->nsteps; i++) {
        p->steps[i].type = ids[p->steps[i].type];
        if (add_type(&p->types, &p->ntypes, p->steps[i].type))
            return -1;
    }
    for (uint32_t i = 0; i < p->nnegs; i++) {
        p->negs[i].type = ids[p->negs[i].type];
        if (add_type(&p->types, &p->ntypes, p->negs[i].type))
            return -1;
    }
    return 0;
}

int gbp_comp_finish(gbp_compiler *c, gb_type_table *types, gb_pattern_set *set)
{
    uint32_t *ids = calloc(c->nnames + 1, sizeof *ids);
    if (!ids)
        return -1;
    for (uint32_t i = 0; i < c->nnames; i++)
        if (gb_type_intern(types, c->names[i], &ids[i]) != GB_OK)
            goto fail;
    for (uint32_t i = 0; i < c->nname_consts; i++) {
        gbp_val *v = &c->consts[c->name_consts[i]];
        v->i = ids[v->i];
    }
    for (uint32_t i = 0; i < c->npats; i++)
        if (patch_pattern(&c->pats[i], ids))
            goto fail;
    free(ids);
    set->types = types;
    set->npatterns = c->npats;
    set->patterns = c->pats;
    set->code = c->code;
    set->ncode = c->ncode;
    set->consts = c->consts;
    set->nconsts = c->nconsts;
    c->pats = NULL;
    c->npats = 0;
    c->code = NULL;
    c->consts = NULL;
    return 0;
fail:
    free(ids);
    return -1;
}
