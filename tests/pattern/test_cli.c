/* `gbridge match` (spec, "Command line", contract): output lines byte for
 * byte, error formats and exit codes. Runs build/gbridge on files written
 * to a temporary directory. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/gb_cli_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(cli, .init = make_dir, .fini = remove_dir);

static char *path(const char *name)
{
    static char buf[4][256];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 256, "%s/%s", dir, name);
    return p;
}

static void write_file(const char *name, const char *text)
{
    FILE *f = fopen(path(name), "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

static char *read_file(const char *name)
{
    FILE *f = fopen(path(name), "r");
    cr_assert_not_null(f);
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return strdup(buf);
}

/* Run gbridge with args (a shell fragment); stdout/stderr land in out/err. */
static int gbridge(const char *args)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s/gbridge' %s >out 2>err", dir, GB_BINARY_DIR, args);
    int st = system(cmd);
    cr_assert(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static void expect_output(const char *file, const char *want)
{
    char *got = read_file(file);
    cr_assert_str_eq(got, want);
    free(got);
}

static const char *spec_patterns =
    "pattern rapid_split severity high within 5s\n"
    "  a: transfer where value >= 10000\n"
    "  b: transfer {3,} where source == a.target\n"
    "  emit account = a.target, splits = count(b), total = sum(b.value)\n"
    "end\n";

static const char *spec_events = "id,type,ts,source,target,value\n"
                                 "17,transfer,1700000000000000000,1,5,10000\n"
                                 "18,transfer,1700000001000000000,5,6,3000\n"
                                 "19,transfer,1700000002000000000,5,7,3000\n"
                                 "20,transfer,1700000004000000000,5,8,4000\n";

static const char *spec_line = "{\"pattern\":\"rapid_split\",\"severity\":\"high\",\"ts\":1700000004000000000,"
                               "\"events\":{\"a\":[17],\"b\":[18,19,20]},"
                               "\"emit\":{\"account\":5,\"splits\":3,\"total\":10000}}\n";

Test(cli, prints_the_spec_example_line)
{
    write_file("p.gbp", spec_patterns);
    write_file("e.csv", spec_events);
    cr_assert_eq(gbridge("match p.gbp e.csv"), 0);
    expect_output("out", spec_line);
    expect_output("err", "");
    cr_assert_eq(gbridge("match p.gbp e.csv --format jsonl"), 0);
    expect_output("out", spec_line);
}

Test(cli, columns_in_any_order_with_optional_attributes)
{
    write_file("p.gbp", "pattern p within 1s a: t where a0 > 1 emit x = a.a0, v = a.value, h = a.value / 4 end\n");
    write_file("e.csv", "a0,value,target,source,ts,type,id\n2.5,3,0,0,10,t,7\n0.5,3,0,0,11,t,8\n");
    cr_assert_eq(gbridge("match p.gbp e.csv"), 0);
    expect_output("out", "{\"pattern\":\"p\",\"severity\":\"medium\",\"ts\":10,\"events\":{\"a\":[7]},"
                         "\"emit\":{\"x\":2.5,\"v\":3,\"h\":0.75}}\n");
}

Test(cli, pattern_without_emit_prints_empty_emit_object)
{
    write_file("p.gbp", "pattern p severity low within 1s a: t end\n");
    write_file("e.csv", "id,type,ts,source,target,value\n1,t,5,0,0,0\n");
    cr_assert_eq(gbridge("match p.gbp e.csv"), 0);
    expect_output("out", "{\"pattern\":\"p\",\"severity\":\"low\",\"ts\":5,\"events\":{\"a\":[1]},\"emit\":{}}\n");
}

Test(cli, doubles_print_shortest_round_trip_form)
{
    write_file("p.gbp", "pattern p within 1s a: t emit third = a.value / 3, tenth = a.a1, big = a.value * 1e20,"
                        " neg = -a.value end\n");
    write_file("e.csv", "id,type,ts,source,target,value,a1\n1,t,5,0,0,1,0.1\n");
    cr_assert_eq(gbridge("match p.gbp e.csv"), 0);
    expect_output("out", "{\"pattern\":\"p\",\"severity\":\"medium\",\"ts\":5,\"events\":{\"a\":[1]},"
                         "\"emit\":{\"third\":0.3333333333333333,\"tenth\":0.1,\"big\":1e+20,\"neg\":-1}}\n");
}

Test(cli, syntax_error_prints_path_line_col_and_exits_2)
{
    write_file("bad.gbp", "pattern x within 5s\n  a: transfer where value >=\nend\n");
    write_file("e.csv", spec_events);
    cr_assert_eq(gbridge("match bad.gbp e.csv"), 2);
    expect_output("out", "");
    char *err = read_file("err");
    cr_assert(strncmp(err, "bad.gbp:3:1: ", 13) == 0, "%s", err);
    cr_assert_eq(strchr(err, '\n') - err, (long)strlen(err) - 1, "one line: %s", err);
    free(err);
}

Test(cli, syntax_error_uses_the_path_as_given)
{
    write_file("bad.gbp", "pattern x within\n");
    cr_assert_eq(gbridge("match ./bad.gbp e.csv"), 2);
    char *err = read_file("err");
    cr_assert(strncmp(err, "./bad.gbp:2:1: ", 15) == 0, "%s", err);
    free(err);
}

Test(cli, bad_row_prints_path_line_exits_2_and_stops)
{
    write_file("p.gbp", "pattern p within 1s a: t end\n");
    write_file("e.csv", "id,type,ts,source,target,value\n1,t,5,0,0,0\n2,t,x,0,0,0\n3,t,7,0,0,0\n");
    cr_assert_eq(gbridge("match p.gbp e.csv"), 2);
    expect_output("out", "{\"pattern\":\"p\",\"severity\":\"medium\",\"ts\":5,\"events\":{\"a\":[1]},\"emit\":{}}\n");
    char *err = read_file("err");
    cr_assert(strncmp(err, "e.csv:3: ", 9) == 0, "%s", err);
    free(err);
}

Test(cli, no_flush_after_a_bad_row)
{
    write_file("p.gbp", "pattern p within 1s a: t b: u+ end\n");
    write_file("e.csv", "id,type,ts,source,target,value\n1,t,5,0,0,0\n2,u,6,0,0,0\n3,u,7,0,0\n");
    cr_assert_eq(gbridge("match p.gbp e.csv"), 2);
    expect_output("out", "");
    char *err = read_file("err");
    cr_assert(strncmp(err, "e.csv:4: ", 9) == 0, "%s", err);
    free(err);
}

Test(cli, out_of_order_row_is_a_bad_row)
{
    write_file("p.gbp", "pattern p within 1s a: t end\n");
    write_file("e.csv", "id,type,ts,source,target,value\n1,t,5,0,0,0\n2,t,4,0,0,0\n");
    cr_assert_eq(gbridge("match p.gbp e.csv"), 2);
    char *err = read_file("err");
    cr_assert(strncmp(err, "e.csv:3: ", 9) == 0, "%s", err);
    free(err);
}

Test(cli, missing_required_column_is_reported_on_line_1)
{
    write_file("p.gbp", "pattern p within 1s a: t end\n");
    write_file("e.csv", "id,type,ts,source,value\n1,t,5,0,0\n");
    cr_assert_eq(gbridge("match p.gbp e.csv"), 2);
    char *err = read_file("err");
    cr_assert(strncmp(err, "e.csv:1: ", 9) == 0 && strstr(err, "target"), "%s", err);
    free(err);
}

Test(cli, flush_time_is_the_last_event_read)
{
    write_file("p.gbp", "pattern p within 1h a: t b: u+ end\n");
    write_file("e.csv", "id,type,ts,source,target,value\n1,t,5,0,0,0\n2,u,6,0,0,0\n3,x,9,0,0,0\n\n");
    cr_assert_eq(gbridge("match p.gbp e.csv"), 0);
    expect_output("out",
                  "{\"pattern\":\"p\",\"severity\":\"medium\",\"ts\":9,\"events\":{\"a\":[1],\"b\":[2]},\"emit\":{}}\n");
}

Test(cli, check_reports_pattern_count)
{
    write_file("p.gbp", spec_patterns);
    cr_assert_eq(gbridge("match --check p.gbp"), 0);
    expect_output("out", "ok: 1 pattern\n");
    cr_assert_eq(gbridge("match --check " GB_SOURCE_DIR "/patterns/fraud.gbp"), 0);
    expect_output("out", "ok: 9 patterns\n");
}

Test(cli, check_reports_syntax_error)
{
    write_file("bad.gbp", "pattern p within 1s\n  not t\nend\n");
    cr_assert_eq(gbridge("match --check bad.gbp"), 2);
    expect_output("err", "bad.gbp:2:3: a negation cannot come first\n");
}

Test(cli, usage_errors_exit_2)
{
    cr_assert_eq(gbridge("match"), 2);
    write_file("p.gbp", spec_patterns);
    write_file("e.csv", spec_events);
    cr_assert_eq(gbridge("match p.gbp e.csv --format xml"), 2);
    cr_assert_eq(gbridge("match p.gbp missing.csv"), 2);
    cr_assert_eq(gbridge("match missing.gbp e.csv"), 2);
}

Test(cli, spec_examples_flag_circular_flow_and_velocity_change)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "match '%s/patterns/fraud.gbp' e.csv", GB_SOURCE_DIR);
    write_file("e.csv", "id,type,ts,source,target,value\n"
                        "1,transfer,0,1,2,1000\n"
                        "2,transfer,600000000000,2,3,990\n"
                        "3,transfer,1200000000000,3,4,980\n"
                        "4,transfer,1800000000000,4,1,970\n"
                        "5,transfer,2400000000000,1,9,150000\n");
    cr_assert_eq(gbridge(cmd), 0);
    expect_output("out", "{\"pattern\":\"circular_flow\",\"severity\":\"critical\",\"ts\":1800000000000,"
                         "\"events\":{\"a\":[1],\"b\":[2],\"c\":[3],\"d\":[4]},\"emit\":{\"origin\":1,\"loss\":30}}\n"
                         "{\"pattern\":\"velocity_change\",\"severity\":\"high\",\"ts\":2400000000000,"
                         "\"events\":{\"a\":[1],\"b\":[5]},\"emit\":{\"account\":1,\"jump\":150}}\n");
}

Test(cli, run_cap_is_reported_on_stderr)
{
    write_file("p.gbp", "pattern p within 1h a: t b: u end\n");
    write_file("e.csv", "id,type,ts,source,target,value\n1,t,1,0,0,0\n2,t,2,0,0,0\n3,t,3,0,0,0\n4,u,4,0,0,0\n");
    cr_assert_eq(gbridge("match p.gbp e.csv --max-runs 2"), 0);
    char *out = read_file("out");
    cr_assert(strstr(out, "\"a\":[1]") && strstr(out, "\"a\":[2]") && !strstr(out, "\"a\":[3]"), "%s", out);
    free(out);
    char *err = read_file("err");
    cr_assert(strstr(err, "pattern p: 1 runs not started"), "%s", err);
    free(err);
}
