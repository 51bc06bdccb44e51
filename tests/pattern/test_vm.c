/* The predicate VM on hand-written programs: typed arithmetic, short
 * circuits, and malformed programs refused instead of read out of bounds. */
#include <criterion/criterion.h>

#include "pattern/vm.h"

#define I(op, arg) GBP_INSN(GBP_OP_##op, arg)

static gbp_val run(const uint32_t *code, uint32_t n, const gbp_val *consts, int *rc)
{
    gb_event cur = {.id = 7, .ts_ns = 100, .source = 3, .value = 2.5, .a = {1, 2, 3, 4}};
    gb_event vars[2] = {{.target = 3, .value = 10}, {.ts_ns = 40}};
    gbp_val slots[1] = {{.d = 9.0}};
    uint32_t counts[2] = {1, 4};
    gbp_vm_ctx ctx = {.cur = &cur, .vars = vars, .slots = slots, .counts = counts};
    gbp_val out = {.i = -99};
    *rc = gbp_vm_eval(code, n, 0, consts, &ctx, &out);
    return out;
}

Test(vm, integer_arithmetic_on_fields_is_exact)
{
    /* (ts - var1.ts) * count(1) == 240 */
    gbp_val k[] = {{.i = 240}};
    uint32_t code[] = {I(CUR, GBP_F_TS), I(VAR, (1 << 4) | GBP_F_TS), I(SUB_I, 0), I(COUNT, 1), I(MUL_I, 0),
                       I(PUSH, 0), I(EQ_I, 0), I(RET, 0)};
    int rc;
    gbp_val v = run(code, 8, k, &rc);
    cr_assert_eq(rc, 0);
    cr_assert_eq(v.i, 1);
}

Test(vm, division_by_zero_gives_zero)
{
    gbp_val k[] = {{.d = 0.0}};
    uint32_t code[] = {I(CUR, GBP_F_VALUE), I(PUSH, 0), I(DIV_D, 0), I(RET, 0)};
    int rc;
    gbp_val v = run(code, 4, k, &rc);
    cr_assert_eq(rc, 0);
    cr_assert_eq(v.d, 0.0);
}

Test(vm, conversions_and_slots)
{
    /* slot0 / I2D(count(1)) + a3 = 9/4 + 4 */
    uint32_t code[] = {I(SLOT, 0), I(COUNT, 1), I(I2D, 0), I(DIV_D, 0), I(CUR, GBP_F_A3), I(ADD_D, 0), I(RET, 0)};
    int rc;
    gbp_val v = run(code, 7, NULL, &rc);
    cr_assert_eq(rc, 0);
    cr_assert_float_eq(v.d, 6.25, 1e-12);
}

Test(vm, short_circuit_and_skips_the_right_operand)
{
    /* 0 and <underflowing garbage> : the jump skips the garbage */
    gbp_val k[] = {{.i = 0}};
    uint32_t code[] = {I(PUSH, 0), I(JZ_KEEP, 5), I(POP, 0), I(POP, 0), I(POP, 0), I(RET, 0)};
    int rc;
    gbp_val v = run(code, 6, k, &rc);
    cr_assert_eq(rc, 0);
    cr_assert_eq(v.i, 0);
}

Test(vm, malformed_programs_are_refused)
{
    int rc;
    uint32_t underflow[] = {I(ADD_I, 0), I(RET, 0)};
    run(underflow, 2, NULL, &rc);
    cr_assert_eq(rc, -1);
    uint32_t no_ret[] = {I(CUR, GBP_F_ID)};
    run(no_ret, 1, NULL, &rc);
    cr_assert_eq(rc, -1);
    uint32_t bad_op[] = {I(CUR, GBP_F_ID), GBP_INSN(200, 0), I(RET, 0)};
    run(bad_op, 3, NULL, &rc);
    cr_assert_eq(rc, -1);
    uint32_t bad_jump[] = {I(CUR, GBP_F_ID), I(JNZ_KEEP, 99), I(RET, 0)};
    run(bad_jump, 3, NULL, &rc);
    cr_assert_eq(rc, -1);
    uint32_t overflow[GBP_VM_STACK + 2];
    for (int i = 0; i <= GBP_VM_STACK; i++)
        overflow[i] = I(CUR, GBP_F_ID);
    overflow[GBP_VM_STACK + 1] = I(RET, 0);
    run(overflow, GBP_VM_STACK + 2, NULL, &rc);
    cr_assert_eq(rc, -1);
}
