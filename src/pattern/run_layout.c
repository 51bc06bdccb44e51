/*
 * The compact layout of a run's bound-event fields (see run_layout.h):
 * found by scanning a pattern's programs for GBP_OP_VAR, and the mapping of
 * event offsets to cell offsets for the fast path and the index.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "pattern/run_layout.h"

static const uint8_t field_offset[GBP_F_COUNT] = {
    offsetof(gb_event, id),     offsetof(gb_event, type),  offsetof(gb_event, ts_ns), offsetof(gb_event, source),
    offsetof(gb_event, target), offsetof(gb_event, value), offsetof(gb_event, a[0]),  offsetof(gb_event, a[1]),
    offsetof(gb_event, a[2]),   offsetof(gb_event, a[3])};

/* The field the VM reads for field argument f (vm.h gbp_field_value: any
 * larger one reads a3). */
static uint32_t vm_field(uint32_t f)
{
    return f < GBP_F_COUNT ? f : GBP_F_A3;
}

/* Mark the fields the program at code[pc] reads through GBP_OP_VAR. Every
 * program is one straight run of instructions ending with its only RET
 * (compiler.c gbp_prog_end; jumps stay inside it). */
static void scan(const uint32_t *code, uint32_t ncode, uint32_t pc, uint16_t *mask, uint32_t nvars)
{
    if (pc == GBP_NO_CODE)
        return;
    for (; pc < ncode; pc++) {
        uint32_t op = GBP_INSN_OP(code[pc]), arg = GBP_INSN_ARG(code[pc]);
        if (op == GBP_OP_RET)
            return;
        if (op == GBP_OP_VAR && (arg >> 4) < nvars)
            mask[arg >> 4] |= (uint16_t)(1u << vm_field(arg & 15u));
    }
}

static int alloc_cells(gbp_layout *L)
{
    uint32_t n = L->ncells ? L->ncells : 1;
    L->src_off = malloc(n);
    L->src_wide = malloc(n);
    L->field = malloc(n);
    return L->src_off && L->src_wide && L->field ? 0 : -1;
}

int gbp_layout_build(gbp_layout *L, const gb_pattern_set *set, const gbp_pattern *p)
{
    memset(L, 0, sizeof *L);
    uint32_t nv = p->nsteps;
    L->nvars = nv;
    L->mask = calloc(nv ? nv : 1, sizeof *L->mask);
    L->base = calloc((size_t)nv + 1, sizeof *L->base);
    if (!L->mask || !L->base)
        goto fail;
    for (uint32_t i = 0; i < p->nsteps; i++)
        scan(set->code, set->ncode, p->steps[i].where, L->mask, nv);
    for (uint32_t k = 0; k < p->nnegs; k++)
        scan(set->code, set->ncode, p->negs[k].where, L->mask, nv);
    for (uint32_t f = 0; f < p->nfields; f++)
        scan(set->code, set->ncode, p->field_code[f], L->mask, nv);
    for (uint32_t v = 0; v < nv; v++)
        L->base[v + 1] = L->base[v] + (uint32_t)__builtin_popcount(L->mask[v]);
    L->ncells = L->base[nv];
    if (alloc_cells(L))
        goto fail;
    for (uint32_t v = 0, c = 0; v < nv; v++) {
        for (uint32_t f = 0; f < GBP_F_COUNT; f++) {
            if (!(L->mask[v] & (1u << f)))
                continue;
            L->src_off[c] = field_offset[f];
            L->src_wide[c] = f != GBP_F_TYPE;
            L->field[c++] = (uint8_t)f;
        }
    }
    return 0;
fail:
    gbp_layout_free(L);
    return -1;
}

void gbp_layout_free(gbp_layout *L)
{
    free(L->mask);
    free(L->base);
    free(L->src_off);
    free(L->src_wide);
    free(L->field);
    memset(L, 0, sizeof *L);
}

int64_t gbp_layout_cell_off(const gbp_layout *L, uint32_t v, uint32_t f)
{
    f = vm_field(f);
    if (v >= L->nvars || !(L->mask[v] & (1u << f)))
        return -1;
    uint32_t below = L->mask[v] & ((1u << f) - 1u);
    return (int64_t)(L->base[v] + (uint32_t)__builtin_popcount(below)) * (int64_t)sizeof(int64_t);
}

uint32_t gbp_layout_var_of(const gbp_layout *L, uint32_t off)
{
    uint32_t cell = off / (uint32_t)sizeof(int64_t), v = 0;
    while (v + 1 < L->nvars && L->base[v + 1] <= cell)
        v++;
    return v;
}

/* The field at byte offset off of a gb_event, or -1. */
static int64_t field_at(uint32_t off)
{
    for (uint32_t f = 0; f < GBP_F_COUNT; f++)
        if (field_offset[f] == off)
            return f;
    return -1;
}

/* Rewrite one load; -1 when it cannot be. */
static int remap_load(const gbp_layout *L, gbp_fast_load *l)
{
    if (l->base != GBP_FAST_VARS)
        return 0;
    uint32_t v = l->off / (uint32_t)sizeof(gb_event);
    int64_t f = field_at(l->off - v * (uint32_t)sizeof(gb_event));
    int64_t off = f < 0 ? -1 : gbp_layout_cell_off(L, v, (uint32_t)f);
    if (off < 0)
        return -1;
    l->off = (uint32_t)off;
    return 0;
}

static int remap_opnd(const gbp_layout *L, gbp_fast_opnd *o)
{
    if (remap_load(L, &o->a))
        return -1;
    return o->arith ? remap_load(L, &o->b) : 0;
}

void gbp_layout_remap(const gbp_layout *L, gbp_fast *f)
{
    for (uint32_t i = 0; i < f->nterms; i++) {
        if (remap_opnd(L, &f->t[i].l) || remap_opnd(L, &f->t[i].r)) {
            f->nterms = 0;
            return;
        }
    }
}

void gbp_layout_unpack(const gbp_layout *L, const int64_t *cells, gb_event *vars)
{
    for (uint32_t v = 0; v < L->nvars; v++) {
        char *dst = (char *)&vars[v];
        for (uint32_t c = L->base[v]; c < L->base[v + 1]; c++)
            memcpy(dst + L->src_off[c], &cells[c], L->src_wide[c] ? 8 : 4);
    }
}
