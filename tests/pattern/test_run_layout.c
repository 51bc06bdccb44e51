/* What a CPU run keeps of its bound events (src/pattern/run_layout.h): the
 * fields the pattern's programs read, per variable, found in predicates,
 * negations and emit fields; packed and unpacked without loss; the fast
 * path's loads moved onto the cells. */
#include <criterion/criterion.h>
#include <string.h>

#include "pattern/fastpred.h"
#include "pattern/internal.h"
#include "pattern/run_layout.h"
#include "pattern_test_util.h"

#define BIT(f) (1u << (f))

static const char src[] = "pattern p within 1h\n"
                          "  a: transfer\n"
                          "  not transfer where source == a.target and a2 > a.a3\n"
                          "  b: transfer where source == a.target and value > a.value\n"
                          "  c: transfer {2,} where type == b.type or id > b.id\n"
                          "  emit t = last(c.ts) - a.ts, s = sum(c.a0)\n"
                          "end\n";

Test(run_layout, keeps_exactly_the_fields_programs_read_per_variable)
{
    gb_pattern_set *set = compile_ok(src);
    gbp_layout L;
    cr_assert_eq(gbp_layout_build(&L, set, &set->patterns[0]), 0);
    cr_assert_eq(L.nvars, 3);
    /* a: target, value (step b), a3 (negation), ts (emit) */
    cr_assert_eq(L.mask[0], BIT(GBP_F_TARGET) | BIT(GBP_F_VALUE) | BIT(GBP_F_A3) | BIT(GBP_F_TS));
    /* b: type and id (step c, through the VM: `or`) */
    cr_assert_eq(L.mask[1], BIT(GBP_F_TYPE) | BIT(GBP_F_ID));
    /* c: ts (last(c.ts)); sum(c.a0) is a slot, kept at bind time */
    cr_assert_eq(L.mask[2], BIT(GBP_F_TS));
    cr_assert_eq(L.ncells, 7);
    cr_assert_eq(gbp_layout_cell_off(&L, 1, GBP_F_VALUE), -1, "b.value is read by no program");
    cr_assert_eq(gbp_layout_var_of(&L, (uint32_t)gbp_layout_cell_off(&L, 1, GBP_F_ID)), 1);
    cr_assert_eq(gbp_layout_var_of(&L, (uint32_t)gbp_layout_cell_off(&L, 2, GBP_F_TS)), 2);
    gbp_layout_free(&L);
    gb_pattern_set_destroy(set);
}

Test(run_layout, packed_fields_unpack_to_the_same_values)
{
    gb_pattern_set *set = compile_ok(src);
    gbp_layout L;
    cr_assert_eq(gbp_layout_build(&L, set, &set->patterns[0]), 0);
    gb_event e[3] = {
        {.id = 11, .type = 7, .ts_ns = -5, .source = 1, .target = 2, .value = 2.5, .a = {0.25, 1, -3, 1e300}},
        {.id = 0xFFFFFFFFFFull, .type = 0xFFFFFFFFu, .ts_ns = 9, .source = 3, .target = 4, .value = -1},
        {.id = 13, .type = 9, .ts_ns = INT64_MAX, .value = 7},
    };
    int64_t cells[16] = {0};
    for (uint32_t v = 0; v < 3; v++)
        gbp_layout_pack(&L, v, &e[v], cells);
    gb_event out[3];
    memset(out, 0, sizeof out);
    gbp_layout_unpack(&L, cells, out);
    cr_assert_eq(out[0].target, 2);
    cr_assert_eq(out[0].value, 2.5);
    cr_assert_eq(out[0].a[3], 1e300);
    cr_assert_eq(out[0].ts_ns, -5);
    cr_assert_eq(out[1].type, 0xFFFFFFFFu, "the 4-byte type survives");
    cr_assert_eq(out[1].id, 0xFFFFFFFFFFull);
    cr_assert_eq(out[2].ts_ns, INT64_MAX);
    cr_assert_eq(out[0].source, 0, "fields not kept are not written");
    gbp_layout_free(&L);
    gb_pattern_set_destroy(set);
}

Test(run_layout, fast_path_reads_the_cells_after_remap)
{
    gb_pattern_set *set = compile_ok(src);
    const gbp_pattern *p = &set->patterns[0];
    gbp_layout L;
    cr_assert_eq(gbp_layout_build(&L, set, p), 0);
    gbp_fast f;
    gbp_fast_compile(set->code, set->ncode, p->steps[1].where, &f); /* source == a.target and value > a.value */
    cr_assert_eq(f.nterms, 2);
    gbp_layout_remap(&L, &f);
    cr_assert_eq(f.nterms, 2);
    gb_event a = {.target = 5, .value = 10};
    int64_t cells[16] = {0};
    gbp_layout_pack(&L, 0, &a, cells);
    gb_event yes = {.source = 5, .value = 11}, no = {.source = 5, .value = 10};
    gbp_vm_ctx ctx = {.cur = &yes, .vars = (const gb_event *)(void *)cells};
    cr_assert(gbp_fast_holds(&f, set->consts, &ctx));
    ctx.cur = &no;
    cr_assert_not(gbp_fast_holds(&f, set->consts, &ctx));
    gbp_layout_free(&L);
    gb_pattern_set_destroy(set);
}
