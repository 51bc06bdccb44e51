/*
 * Internal: the builder the parser drives while it reads a pattern file.
 * It owns the growing bytecode and constants, the pattern being built, the
 * type names met so far (interned only when the whole file compiled, so a
 * rejected file leaves the caller's type table unchanged), and the first
 * error. gbp_comp_finish() turns a successful build into a gb_pattern_set.
 */
#ifndef GBP_COMPILER_H
#define GBP_COMPILER_H

#include <stddef.h>
#include <stdint.h>

#include "pattern/internal.h"

typedef enum gbp_ty { GBP_TY_INT, GBP_TY_DBL, GBP_TY_STR } gbp_ty;

/* What the code just emitted for an expression leaves on the stack. A
 * string is never pushed: it waits for the comparison with `type`. */
typedef struct gbp_expr {
    gbp_ty ty;
    int type_ref;    /* exactly a `type` field reference */
    int is_cur_ref;  /* exactly a reference to field cur_f of the current event */
    int cur_f;
    int is_var_ref;  /* exactly a reference to field var_f of earlier variable var_v */
    int var_v, var_f;
    int has_key;     /* a top-level conjunct `cur.key_f == key_v.key_g` (integer fields) */
    int key_f, key_v, key_g;
    const char *str; /* GBP_TY_STR: the literal */
    size_t slen;
    int line, col;
} gbp_expr;

typedef struct gbp_compiler {
    uint32_t *code;
    uint32_t ncode, capcode;
    gbp_val *consts;
    uint32_t nconsts, capconsts;
    uint32_t *name_consts; /* consts holding a local name index, patched at finish */
    uint32_t nname_consts, capname_consts;
    char **names;          /* local type names */
    uint32_t nnames, capnames;
    gbp_pattern *pats;
    uint32_t npats, cappats;
    gbp_pattern cur;       /* the pattern being built */
    uint32_t capsteps, capnegs, capslots, capfields;
    int depth, maxdepth;   /* stack depth of the program being emitted */
    int failed;
    int line, col;
    char msg[200];
} gbp_compiler;

void gbp_comp_init(gbp_compiler *c);

/* Free everything the builder holds (after finish, nothing is left). */
void gbp_comp_free(gbp_compiler *c);

/* Record the first error at line:col (later ones are ignored); returns -1. */
int gbp_comp_error(gbp_compiler *c, int line, int col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Out of memory while at line:col; returns -1. */
int gbp_comp_oom(gbp_compiler *c, int line, int col);

/* Code emission: 0 or -1 (error recorded). */
int gbp_emit(gbp_compiler *c, uint32_t op, uint32_t arg, int line, int col);
int gbp_emit_const(gbp_compiler *c, gbp_val v, int line, int col);
int gbp_emit_type_name(gbp_compiler *c, const char *s, size_t n, int line, int col);
void gbp_patch_jump(gbp_compiler *c, uint32_t at, uint32_t target);

/* Begin a program (returns its offset) / end it with RET. */
uint32_t gbp_prog_begin(gbp_compiler *c);
int gbp_prog_end(gbp_compiler *c, int line, int col);

/* Local index of a type name (added if new), or -1. */
int64_t gbp_local_name(gbp_compiler *c, const char *s, size_t n, int line, int col);

/* The slot index of aggregate (var, op, field), added if new, or -1. */
int64_t gbp_slot_index(gbp_compiler *c, uint32_t var, gbp_agg_op op, uint32_t field, int line, int col);

/* Building the current pattern. */
int gbp_pattern_begin(gbp_compiler *c, const char *name, size_t n, int line, int col);
int gbp_add_step(gbp_compiler *c, const char *var, size_t n, int line, int col); /* returns var index */
int gbp_add_neg(gbp_compiler *c, int line, int col);
int gbp_add_field(gbp_compiler *c, const char *name, size_t n, int line, int col);
int gbp_pattern_end(gbp_compiler *c, int line, int col);

/* Intern the names into types and build the set. 0 or -1 (oom). */
int gbp_comp_finish(gbp_compiler *c, gb_type_table *types, gb_pattern_set *set);

#endif
