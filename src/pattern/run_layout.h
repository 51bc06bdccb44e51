/*
 * Internal, host only: what a CPU run keeps of the events bound to its
 * variables.
 *
 * The programs of a pattern (its steps' and negations' `where`, its emit
 * fields) read earlier variables only through GBP_OP_VAR (`a.target`,
 * `last(b.ts)`); aggregates are accumulated at bind time from the event
 * itself. So a run needs, per variable, only the fields some program reads
 * from it, not the whole 96-byte gb_event. The layout lists them: variable
 * v keeps the fields of mask[v] (bit f = gbp_field f, in field order) in
 * 8-byte cells [base[v], base[v + 1]) of the run's cell array. An integer
 * field is kept as its 8 bytes; `type` (4 bytes) zero-extended, so a
 * 4-byte load at the cell reads it; a double as its 8 bytes. A variable
 * not bound yet reads as 0 in every cell (the run is zeroed), like the
 * zeroed event of a full copy.
 *
 * The fast path (fastpred.h) and the index's key offsets then address
 * cells instead of events (gbp_layout_remap, gbp_layout_cell_off); the VM
 * path, which wants gb_event structs, reads an array rebuilt from the cells
 * (gbp_layout_unpack: only the fields the programs read are set, which are
 * the only ones it reads). Not thread-safe to build; read-only afterwards.
 */
#ifndef GBP_RUN_LAYOUT_H
#define GBP_RUN_LAYOUT_H

#include <stdint.h>

#include "pattern/fastpred.h"
#include "pattern/internal.h"

typedef struct gbp_layout {
    uint32_t nvars;
    uint32_t ncells;
    uint16_t *mask;    /* per variable: the fields kept */
    uint32_t *base;    /* nvars + 1: first cell of each variable */
    uint8_t *src_off;  /* per cell: byte offset of its field in gb_event */
    uint8_t *src_wide; /* per cell: 8-byte field (0: the 4-byte `type`) */
    uint8_t *field;    /* per cell: its gbp_field */
} gbp_layout;

/* The layout of pattern p of set: the fields its programs read through
 * GBP_OP_VAR. 0, or -1 out of memory (L is then empty and freeable). */
int gbp_layout_build(gbp_layout *L, const gb_pattern_set *set, const gbp_pattern *p);

/* Free what L holds; L is empty afterwards. */
void gbp_layout_free(gbp_layout *L);

/* The byte offset in the cell array of field f of variable v, or -1 when
 * the layout does not keep it. f as the VM reads it (>= GBP_F_COUNT: a3). */
int64_t gbp_layout_cell_off(const gbp_layout *L, uint32_t v, uint32_t f);

/* The variable whose cell is at byte offset off (a gbp_layout_cell_off
 * result). */
uint32_t gbp_layout_var_of(const gbp_layout *L, uint32_t off);

/* Rewrite the VARS loads of a decoded predicate (offsets into gb_event[]
 * as fastpred.c decodes them) into cell offsets. When a load reads a field
 * the layout lacks (never, for a predicate of the same pattern), f is
 * turned back to the VM (nterms 0). */
void gbp_layout_remap(const gbp_layout *L, gbp_fast *f);

/* Store the kept fields of e as variable v's cells. */
static inline void gbp_layout_pack(const gbp_layout *L, uint32_t v, const gb_event *e, int64_t *cells)
{
    const char *src = (const char *)e;
    for (uint32_t c = L->base[v]; c < L->base[v + 1]; c++) {
        if (L->src_wide[c]) {
            __builtin_memcpy(&cells[c], src + L->src_off[c], sizeof cells[c]);
        } else {
            cells[c] = 0;
            __builtin_memcpy(&cells[c], src + L->src_off[c], sizeof(uint32_t));
        }
    }
}

/* vars[v] = the kept fields of every variable (the other fields of vars
 * are left as they are: no program reads them). */
void gbp_layout_unpack(const gbp_layout *L, const int64_t *cells, gb_event *vars);

#endif
