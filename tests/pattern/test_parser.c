/* Pattern DSL front end: accepted syntax, and every malformed construct
 * rejected with GB_EPARSE and the exact "LINE:COL: message". */
#include <criterion/criterion.h>
#include <string.h>

#include "pattern_test_util.h"

/* Compile src and expect GB_EPARSE whose detail starts with "LINE:COL: ". */
static void expect_error(const char *src, const char *pos, const char *words)
{
    gb_pattern_set *set = NULL;
    gb_status st = gb_pattern_compile(&set, NULL, src, strlen(src));
    cr_assert_eq(st, GB_EPARSE, "accepted: %s", src);
    cr_assert_null(set);
    const char *e = gb_last_error();
    cr_assert(strncmp(e, pos, strlen(pos)) == 0 && e[strlen(pos)] == ':' && e[strlen(pos) + 1] == ' ',
              "want %s, got '%s'", pos, e);
    cr_assert(strstr(e, words), "want '%s' in '%s'", words, e);
}

Test(pattern_parser, spec_examples_compile)
{
    char *src = NULL;
    gb_pattern_set *set;
    cr_assert_eq(gb_pattern_compile_file(&set, NULL, GB_SOURCE_DIR "/patterns/fraud.gbp"), GB_OK, "%s",
                 gb_last_error());
    cr_assert_geq(gb_pattern_set_count(set), 9);
    cr_assert_str_eq(gb_pattern_name(set, 0), "rapid_split");
    cr_assert_eq(gb_pattern_severity(set, 1), GB_SEVERITY_CRITICAL);
    gb_pattern_set_destroy(set);
    free(src);
}

Test(pattern_parser, empty_file_and_comments_give_no_patterns)
{
    gb_pattern_set *set = compile_ok("# only a comment\n\n   # another\n");
    cr_assert_eq(gb_pattern_set_count(set), 0);
    gb_pattern_set_destroy(set);
}

Test(pattern_parser, severity_defaults_to_medium)
{
    gb_pattern_set *set = compile_ok("pattern p within 1s a: t end # trailing comment");
    cr_assert_eq(gb_pattern_severity(set, 0), GB_SEVERITY_MEDIUM);
    cr_assert_str_eq(gb_severity_name(gb_pattern_severity(set, 0)), "medium");
    gb_pattern_set_destroy(set);
}

Test(pattern_parser, all_constructs_compile)
{
    gb_pattern_set *set = compile_ok(
        "pattern p severity low within 2h skip past_last\n"
        "  a: t where type == \"t\" and not (value < 1.5e3 or a0 != -2)\n"
        "  b: u {2,5} where source == a.target and count(b) < 4 and sum(b.value) / 2 >= avg(b.a1)\n"
        "  not v where ts - a.ts > 30m\n"
        "  c: w + where min(b.ts) <= max(b.ts) and first(b.id) != last(b.id)\n"
        "  not x\n"
        "  emit n = count(c), s = sum(c.value) * -1, k = a.type, d = 7 / 2, e = 1us + 1ms\n"
        "end\n"
        "pattern q within 0ns skip all a: t {3} end\n");
    cr_assert_eq(gb_pattern_set_count(set), 2);
    gb_pattern_set_destroy(set);
}

Test(pattern_parser, rejects_missing_pattern_keyword)
{
    expect_error("patern x within 5s a: t end", "1:1", "expected 'pattern'");
}

Test(pattern_parser, rejects_missing_pattern_name)
{
    expect_error("pattern 5 within 5s a: t end", "1:9", "pattern name");
}

Test(pattern_parser, rejects_unknown_severity)
{
    expect_error("pattern x severity urgent within 5s a: t end", "1:20", "severity");
}

Test(pattern_parser, rejects_missing_within)
{
    expect_error("pattern x\n  a: t\nend", "2:3", "expected 'within'");
}

Test(pattern_parser, rejects_within_without_unit)
{
    expect_error("pattern x within 5 a: t end", "1:18", "duration");
}

Test(pattern_parser, rejects_unknown_duration_unit)
{
    expect_error("pattern x within 5q a: t end", "1:18", "unit");
}

Test(pattern_parser, rejects_bad_skip_mode)
{
    expect_error("pattern x within 5s skip none a: t end", "1:26", "'all' or 'past_last'");
}

Test(pattern_parser, rejects_negation_first)
{
    expect_error("pattern x within 1s\n  not t\n  a: t\nend", "2:3", "negation cannot come first");
}

Test(pattern_parser, rejects_pattern_without_steps)
{
    expect_error("pattern x within 1s\nend\n", "2:1", "step");
}

Test(pattern_parser, rejects_duplicate_variable)
{
    expect_error("pattern x within 1s\n  a: t\n  a: u\nend", "3:3", "duplicate variable 'a'");
}

Test(pattern_parser, rejects_reserved_variable_name)
{
    expect_error("pattern x within 1s\n  value: t\nend", "2:3", "cannot be a variable name");
}

Test(pattern_parser, rejects_zero_quantifier)
{
    expect_error("pattern x within 1s\n  a: t {0}\nend", "2:9", "at least 1");
}

Test(pattern_parser, rejects_quantifier_max_below_min)
{
    expect_error("pattern x within 1s\n  a: t {3,2}\nend", "2:11", "n <= m");
}

Test(pattern_parser, rejects_empty_quantifier)
{
    expect_error("pattern x within 1s\n  a: t {}\nend", "2:9", "integer count");
}

Test(pattern_parser, rejects_unclosed_quantifier)
{
    expect_error("pattern x within 1s\n  a: t {2,3\nend", "3:1", "'}'");
}

Test(pattern_parser, rejects_missing_type)
{
    expect_error("pattern x within 1s\n  a: 5\nend", "2:6", "event type");
}

Test(pattern_parser, rejects_unknown_variable)
{
    expect_error("pattern x within 1s\n  a: t where z.value > 1\nend", "2:14", "unknown variable 'z'");
}

Test(pattern_parser, rejects_variable_of_a_later_step)
{
    expect_error("pattern x within 1s\n  a: t where b.value > 1\n  b: t\nend", "2:14", "unknown variable 'b'");
}

Test(pattern_parser, rejects_unknown_field)
{
    expect_error("pattern x within 1s\n  a: t where a.amount > 1\nend", "2:16", "field");
}

Test(pattern_parser, rejects_bare_field_in_emit)
{
    expect_error("pattern x within 1s\n  a: t\n  emit v = value\nend", "3:12", "bare field");
}

Test(pattern_parser, rejects_string_compared_with_a_number)
{
    expect_error("pattern x within 1s\n  a: t where value == \"t\"\nend", "2:23", "string");
}

Test(pattern_parser, rejects_string_in_arithmetic)
{
    expect_error("pattern x within 1s\n  a: t where type == \"t\" + 1\nend", "2:22", "string");
}

Test(pattern_parser, rejects_string_ordering_with_type)
{
    expect_error("pattern x within 1s\n  a: t where type < \"t\"\nend", "2:21", "== or !=");
}

Test(pattern_parser, rejects_unterminated_string)
{
    expect_error("pattern x within 1s\n  a: t where type == \"t\nend", "2:22", "unterminated string");
}

Test(pattern_parser, rejects_unexpected_character)
{
    expect_error("pattern x within 1s\n  a: t where value @ 1\nend", "2:20", "unexpected character '@'");
}

Test(pattern_parser, rejects_missing_end_at_end_of_file)
{
    expect_error("pattern x within 1s\n  a: t\n", "3:1", "end of file");
}

Test(pattern_parser, rejects_aggregate_without_field)
{
    expect_error("pattern x within 1s\n  a: t+\n  emit s = sum(a)\nend", "3:17", "needs a field");
}

Test(pattern_parser, rejects_duplicate_emit_field)
{
    expect_error("pattern x within 1s\n  a: t\n  emit f = a.id, f = a.ts\nend", "3:18", "duplicate emit field");
}

Test(pattern_parser, rejects_missing_expression)
{
    expect_error("pattern x within 1s\n  a: t where\nend", "3:1", "expected an expression");
}

Test(pattern_parser, rejects_unbalanced_parenthesis)
{
    expect_error("pattern x within 1s\n  a: t where (value > 1\nend", "3:1", "')'");
}

Test(pattern_parser, rejects_double_not)
{
    expect_error("pattern x within 1s\n  a: t where not not value > 1\nend", "2:18", "expression");
}

Test(pattern_parser, rejects_huge_integer)
{
    expect_error("pattern x within 1s\n  a: t where id > 99999999999999999999\nend", "2:19", "out of range");
}

Test(pattern_parser, rejects_decimal_duration)
{
    expect_error("pattern x within 1.5s a: t end", "1:18", "integer");
}

Test(pattern_parser, rejects_uppercase_keyword)
{
    expect_error("Pattern x within 1s a: t end", "1:1", "expected 'pattern'");
}

Test(pattern_parser, rejects_too_deep_nesting)
{
    char src[512] = "pattern x within 1s a: t where ";
    for (int i = 0; i < 70; i++)
        strcat(src, "(");
    strcat(src, "1");
    for (int i = 0; i < 70; i++)
        strcat(src, ")");
    strcat(src, " end");
    gb_pattern_set *set = NULL;
    cr_assert_eq(gb_pattern_compile(&set, NULL, src, strlen(src)), GB_EPARSE);
}

Test(pattern_parser, error_in_second_pattern_rejects_whole_file_and_leaves_types_unchanged)
{
    gb_type_table *types;
    cr_assert_eq(gb_type_table_create(&types), GB_OK);
    const char *src = "pattern ok within 1s a: t end\npattern bad within 1s a: u where nope end\n";
    gb_pattern_set *set = NULL;
    cr_assert_eq(gb_pattern_compile(&set, types, src, strlen(src)), GB_EPARSE);
    cr_assert_null(set);
    cr_assert_eq(gb_type_count(types), 0);
    cr_assert(strncmp(gb_last_error(), "2:34: ", 6) == 0, "%s", gb_last_error());
    gb_type_table_destroy(types);
}

Test(pattern_parser, compile_interns_types_into_callers_table)
{
    gb_type_table *types;
    cr_assert_eq(gb_type_table_create(&types), GB_OK);
    uint32_t pre;
    cr_assert_eq(gb_type_intern(types, "first", &pre), GB_OK);
    gb_pattern_set *set = NULL;
    const char *src = "pattern p within 1s a: transfer b: login where type == \"login\" end";
    cr_assert_eq(gb_pattern_compile(&set, types, src, strlen(src)), GB_OK);
    uint32_t id;
    cr_assert_eq(gb_type_lookup(types, "login", &id), GB_OK);
    cr_assert_str_eq(gb_type_name(types, id), "login");
    cr_assert_eq(gb_pattern_set_types(set), types);
    gb_pattern_set_destroy(set);
    gb_type_table_destroy(types);
}

Test(pattern_parser, compile_file_reports_missing_file)
{
    gb_pattern_set *set = NULL;
    cr_assert_eq(gb_pattern_compile_file(&set, NULL, "/nonexistent/x.gbp"), GB_EIO);
}

Test(pattern_types, intern_is_dense_and_stable)
{
    gb_type_table *t;
    cr_assert_eq(gb_type_table_create(&t), GB_OK);
    char name[16];
    for (uint32_t i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "t%u", i);
        uint32_t id;
        cr_assert_eq(gb_type_intern(t, name, &id), GB_OK);
        cr_assert_eq(id, i);
    }
    uint32_t id;
    cr_assert_eq(gb_type_intern(t, "t500", &id), GB_OK);
    cr_assert_eq(id, 500);
    cr_assert_eq(gb_type_lookup(t, "nope", &id), GB_ENOENT);
    cr_assert_eq(gb_type_intern(t, "", &id), GB_EINVAL);
    cr_assert_null(gb_type_name(t, 1000));
    gb_type_table_destroy(t);
}
