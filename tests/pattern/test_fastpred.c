/* The host fast path for simple `where` programs (fastpred.c) against the
 * VM: recognised shapes give exactly the VM's truth on random events and
 * bindings, other shapes are left to the VM. The seed is printed; set
 * GB_SEED to replay one. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pattern/fastpred.h"
#include "pattern/internal.h"

static uint64_t rng;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Small values so that equalities and zero divisors happen often. */
static void random_event(gb_event *e, uint32_t type)
{
    *e = (gb_event){.id = next_rand() % 4, .type = type + (uint32_t)(next_rand() % 2), .ts_ns = (int64_t)(next_rand() % 5),
                    .source = next_rand() % 3, .target = next_rand() % 3, .value = (double)(next_rand() % 4) - 1.0};
    for (int i = 0; i < 4; i++)
        e->a[i] = (double)(next_rand() % 3) * 0.5;
}

static gb_pattern_set *compile_where(const char *where, gb_type_table *types)
{
    char src[512];
    snprintf(src, sizeof src, "pattern p within 1s\n a: t where value >= 0 or a0 > 0\n b: t where %s\nend\n", where);
    gb_pattern_set *set = NULL;
    cr_assert_eq(gb_pattern_compile(&set, types, src, strlen(src)), GB_OK, "%s", where);
    return set;
}

/* Compare the fast path with the VM on n random contexts; returns whether
 * the program was recognised. */
static int agree(const char *where, int n)
{
    gb_type_table *types;
    cr_assert_eq(gb_type_table_create(&types), GB_OK);
    gb_pattern_set *set = compile_where(where, types);
    const gbp_step *st = &set->patterns[0].steps[1];
    gbp_fast f;
    gbp_fast_compile(set->code, set->ncode, st->where, &f);
    for (int i = 0; i < n && f.nterms; i++) {
        gb_event cur, vars[2];
        random_event(&cur, st->type);
        random_event(&vars[0], st->type);
        random_event(&vars[1], st->type);
        uint32_t counts[2] = {1, 0};
        gbp_val slots[1] = {{.i = 0}};
        gbp_vm_ctx ctx = {.cur = &cur, .vars = vars, .slots = slots, .counts = counts};
        gbp_val v;
        int rc = gbp_vm_eval(set->code, set->ncode, st->where, set->consts, &ctx, &v);
        cr_assert_eq(rc == 0 && v.i != 0, gbp_fast_holds(&f, set->consts, &ctx), "%s (case %d)", where, i);
    }
    int recognised = f.nterms > 0;
    gb_pattern_set_destroy(set);
    gb_type_table_destroy(types);
    return recognised;
}

Test(fastpred, recognised_shapes_agree_with_the_vm)
{
    static const char *const shapes[] = {
        "source == a.target", "value >= 1", "value >= 1.5", "source == a.target and target == a.source",
        "ts - a.ts >= 2", "value >= 2 * a.value", "value / a.value > 0.5", "a.value / value <= 1",
        "type == \"t\"", "id != a.id and ts <= 3 and source < 2 and a0 >= 0.5", "source + 1 == a.target",
        "value < a.source", "a.ts > value", "source * a.target >= 1.0", "a1 - a2 == 0", "count(a) == 1",
    };
    uint64_t seed = getenv("GB_SEED") ? strtoull(getenv("GB_SEED"), NULL, 10) : (uint64_t)time(NULL);
    printf("fastpred seed %llu (GB_SEED=%llu to replay)\n", (unsigned long long)seed, (unsigned long long)seed);
    rng = seed * 2654435761u + 1;
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        cr_assert(agree(shapes[i], 2000), "not recognised: %s", shapes[i]);
}

Test(fastpred, other_shapes_are_left_to_the_vm)
{
    static const char *const shapes[] = {
        "source == a.target or value > 1", "not (source == a.target)", "a0",
        "source == 1 and target == 1 and id == 1 and ts == 1 and value == 1", "(value + 1) * 2 > a.value",
        "-value > 1",
    };
    rng = 12345;
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        cr_assert(!agree(shapes[i], 1), "recognised: %s", shapes[i]);
}
