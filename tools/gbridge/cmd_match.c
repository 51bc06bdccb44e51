/*
 * gbridge match: run a pattern file over a CSV of events and print one JSON
 * object per match (shared/spec/pattern-dsl.md, "Command line", contract).
 *
 *   gbridge match PATTERNS EVENTS.csv [--format jsonl] [--max-runs N]
 *   gbridge match --check PATTERNS
 *
 * Matches are printed as they are emitted (streaming), so on a bad CSV row
 * the matches of the rows before it have already been printed; nothing is
 * printed after the error (no flush). EVENTS.csv may be "-" for stdin.
 * Exit status: 0 ok, 1 internal failure (out of memory), 2 usage or input
 * error (bad pattern file, unreadable file, bad CSV row).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "gpubridge/pattern.h"

enum { COL_ID, COL_TYPE, COL_TS, COL_SOURCE, COL_TARGET, COL_VALUE, COL_A0, COL_A1, COL_A2, COL_A3, NCOLS };
static const char *const col_names[NCOLS] = {"id",    "type", "ts", "source", "target",
                                             "value", "a0",   "a1", "a2",     "a3"};
#define REQUIRED_COLS 6
#define MAX_FIELDS 256

typedef struct csv_state {
    const char *path;
    FILE *in;
    long line;
    int col_of[NCOLS]; /* field index of each known column, -1 if absent */
    int nfields;       /* fields in the header */
    char *buf;
    size_t cap;
} csv_state;

static void usage(void)
{
    fprintf(stderr, "usage: gbridge match PATTERNS EVENTS.csv [--format jsonl] [--max-runs N]\n"
                    "       gbridge match --check PATTERNS\n");
}

/* ---- CSV ------------------------------------------------------------------- */

static void trim(char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

/* Split line in place into NUL-terminated fields; returns the count or -1
 * (unterminated quote). Quoted fields may contain commas and "" for ". */
static int split(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == max)
            return max + 1;
        while (*p == ' ' || *p == '\t')
            p++;
        char *start = p, *w = p;
        if (*p == '"') {
            start = w = ++p;
            for (;;) {
                if (!*p)
                    return -1;
                if (*p == '"' && p[1] == '"') {
                    *w++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *w++ = *p++;
                }
            }
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p && *p != ',')
                return -1;
        } else {
            while (*p && *p != ',')
                p++;
            w = p;
        }
        char sep = *p;
        size_t len = (size_t)(w - start);
        trim(&start, &len);
        start[len] = '\0';
        fields[n++] = start;
        if (!sep)
            return n;
        p++;
    }
}

/* Next line without its end-of-line; NULL at end of input. */
static char *read_line(csv_state *cs)
{
    ssize_t n = getline(&cs->buf, &cs->cap, cs->in);
    if (n < 0)
        return NULL;
    cs->line++;
    while (n > 0 && (cs->buf[n - 1] == '\n' || cs->buf[n - 1] == '\r'))
        cs->buf[--n] = '\0';
    return cs->buf;
}

static int bad(const csv_state *cs, const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "%s:%ld: ", cs->path, cs->line);
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return 2;
}

static int read_header(csv_state *cs)
{
    char *line = read_line(cs);
    if (!line) {
        cs->line = 1;
        return bad(cs, "%s%s", "missing header line", "");
    }
    if ((unsigned char)line[0] == 0xEF && (unsigned char)line[1] == 0xBB && (unsigned char)line[2] == 0xBF)
        line += 3;
    char *fields[MAX_FIELDS + 1];
    int n = split(line, fields, MAX_FIELDS);
    if (n < 0 || n > MAX_FIELDS)
        return bad(cs, "%s%s", "malformed header", "");
    for (int c = 0; c < NCOLS; c++)
        cs->col_of[c] = -1;
    for (int i = 0; i < n; i++)
        for (int c = 0; c < NCOLS; c++)
            if (strcmp(fields[i], col_names[c]) == 0) {
                if (cs->col_of[c] >= 0)
                    return bad(cs, "duplicate column '%s'%s", col_names[c], "");
                cs->col_of[c] = i;
            }
    for (int c = 0; c < REQUIRED_COLS; c++)
        if (cs->col_of[c] < 0)
            return bad(cs, "missing column '%s'%s", col_names[c], "");
    cs->nfields = n;
    return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
    if (!*s || *s == '-' || *s == '+' || *s == ' ')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static int parse_i64(const char *s, int64_t *out)
{
    if (!*s || *s == ' ')
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double *out)
{
    if (!*s) {
        *out = 0.0;
        return 0;
    }
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno == ERANGE || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* Parse a data row into ev (type interned into types). 0 or exit status 2. */
static int parse_row(csv_state *cs, char *line, gb_type_table *types, gb_event *ev)
{
    char *f[MAX_FIELDS + 1];
    int n = split(line, f, MAX_FIELDS);
    if (n < 0)
        return bad(cs, "%s%s", "unterminated quoted field", "");
    if (n != cs->nfields) {
        char a[32], b[32];
        snprintf(a, sizeof a, "%d", cs->nfields);
        snprintf(b, sizeof b, "%d", n > MAX_FIELDS ? MAX_FIELDS + 1 : n);
        return bad(cs, "expected %s fields, found %s", a, b);
    }
    memset(ev, 0, sizeof *ev);
    const char *s;
    if (parse_u64(s = f[cs->col_of[COL_ID]], &ev->id))
        return bad(cs, "bad id '%s'%s", s, ": expected an unsigned integer");
    if (parse_i64(s = f[cs->col_of[COL_TS]], &ev->ts_ns))
        return bad(cs, "bad ts '%s'%s", s, ": expected an integer (ns)");
    if (parse_u64(s = f[cs->col_of[COL_SOURCE]], &ev->source))
        return bad(cs, "bad source '%s'%s", s, ": expected an unsigned integer");
    if (parse_u64(s = f[cs->col_of[COL_TARGET]], &ev->target))
        return bad(cs, "bad target '%s'%s", s, ": expected an unsigned integer");
    if (parse_double(s = f[cs->col_of[COL_VALUE]], &ev->value))
        return bad(cs, "bad value '%s'%s", s, ": expected a number");
    for (int c = COL_A0; c <= COL_A3; c++)
        if (cs->col_of[c] >= 0 && parse_double(s = f[cs->col_of[c]], &ev->a[c - COL_A0]))
            return bad(cs, "bad %s '%s': expected a number", col_names[c], s);
    s = f[cs->col_of[COL_TYPE]];
    if (!*s || strlen(s) > GB_TYPE_NAME_MAX)
        return bad(cs, "bad type '%s'%s", s, ": expected a name of 1 to 255 bytes");
    gb_status st = gb_type_intern(types, s, &ev->type);
    if (st != GB_OK)
        return bad(cs, "bad type '%s': %s", s, gb_strerror(st));
    return 0;
}

/* ---- JSON output ------------------------------------------------------------- */

/* Shortest text that reads back as d; integral values without a fraction. */
static void format_double(char *buf, size_t cap, double d)
{
    if (!isfinite(d)) {
        snprintf(buf, cap, "null");
        return;
    }
    if (d == floor(d) && fabs(d) < 1e17) {
        snprintf(buf, cap, "%.0f", d == 0.0 ? 0.0 : d);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            return;
    }
}

static void put_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void print_match(void *ctx, const gb_match *mt)
{
    FILE *out = ctx;
    fputs("{\"pattern\":", out);
    put_string(out, mt->pattern);
    fputs(",\"severity\":", out);
    put_string(out, gb_severity_name(mt->severity));
    fprintf(out, ",\"ts\":%" PRId64 ",\"events\":{", mt->ts);
    for (uint32_t v = 0; v < mt->nvars; v++) {
        if (v)
            fputc(',', out);
        put_string(out, mt->vars[v].name);
        fputs(":[", out);
        for (uint32_t i = 0; i < mt->vars[v].count; i++)
            fprintf(out, i ? ",%" PRIu64 : "%" PRIu64, mt->vars[v].ids[i]);
        fputc(']', out);
    }
    fputs("},\"emit\":{", out);
    for (uint32_t f = 0; f < mt->nfields; f++) {
        if (f)
            fputc(',', out);
        put_string(out, mt->fields[f].name);
        fputc(':', out);
        const gb_value *v = &mt->fields[f].value;
        if (v->kind == GB_VALUE_INT) {
            fprintf(out, "%" PRId64, v->u.i);
        } else {
            char buf[64];
            format_double(buf, sizeof buf, v->u.d);
            fputs(buf, out);
        }
    }
    fputs("}}\n", out);
}

/* ---- the command ---------------------------------------------------------------- */

typedef struct match_args {
    const char *patterns, *events;
    int check;
    uint32_t max_runs;
} match_args;

static int parse_args(int argc, char **argv, match_args *a)
{
    const char *pos[2];
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "--check") == 0) {
            a->check = 1;
        } else if (strcmp(s, "--format") == 0 || strncmp(s, "--format=", 9) == 0) {
            const char *f = s[8] == '=' ? s + 9 : (i + 1 < argc ? argv[++i] : "");
            if (strcmp(f, "jsonl") != 0) {
                fprintf(stderr, "gbridge match: unknown format '%s' (only jsonl)\n", f);
                return -1;
            }
        } else if (strcmp(s, "--max-runs") == 0 && i + 1 < argc) {
            char *end;
            unsigned long v = strtoul(argv[++i], &end, 10);
            if (*end || v == 0 || v > UINT32_MAX) {
                fprintf(stderr, "gbridge match: bad --max-runs '%s'\n", argv[i]);
                return -1;
            }
            a->max_runs = (uint32_t)v;
        } else if (s[0] == '-' && s[1] == '-') {
            fprintf(stderr, "gbridge match: unknown option '%s'\n", s);
            return -1;
        } else if (npos < 2) {
            pos[npos++] = s;
        } else {
            fprintf(stderr, "gbridge match: too many arguments\n");
            return -1;
        }
    }
    if (npos != (a->check ? 1 : 2))
        return -1;
    a->patterns = pos[0];
    a->events = a->check ? NULL : pos[1];
    return 0;
}

static int compile(const char *path, gb_pattern_set **set)
{
    gb_status st = gb_pattern_compile_file(set, NULL, path);
    if (st == GB_EPARSE) {
        fprintf(stderr, "%s:%s\n", path, gb_last_error());
        return 2;
    }
    if (st != GB_OK) {
        fprintf(stderr, "gbridge match: %s\n", gb_last_error());
        return st == GB_EIO ? 2 : 1;
    }
    return 0;
}

static void report_caps(const gb_matcher *m, const gb_pattern_set *set, uint32_t cap)
{
    for (uint32_t i = 0; i < gb_pattern_set_count(set); i++) {
        gb_matcher_stats s;
        if (gb_matcher_stats_get(m, i, &s) == GB_OK && s.runs_capped)
            fprintf(stderr, "gbridge match: pattern %s: %" PRIu64 " runs not started (more than %u open runs)\n",
                    gb_pattern_name(set, i), s.runs_capped, cap);
    }
}

/* Feed every row; 0 at end of input, else the exit status. */
static int feed(csv_state *cs, gb_matcher *m, gb_type_table *types)
{
    int rc = read_header(cs);
    char *line;
    while (rc == 0 && (line = read_line(cs))) {
        if (!*line)
            continue;
        gb_event ev;
        if ((rc = parse_row(cs, line, types, &ev)) != 0)
            break;
        gb_status st = gb_matcher_push(m, &ev);
        if (st == GB_EORDER) {
            char a[32];
            snprintf(a, sizeof a, "%" PRId64, ev.ts_ns);
            rc = bad(cs, "event out of order: ts %s is older than the previous event%s", a, "");
        } else if (st != GB_OK) {
            fprintf(stderr, "gbridge match: %s\n", gb_last_error());
            rc = 1;
        }
    }
    if (rc == 0 && ferror(cs->in)) {
        fprintf(stderr, "gbridge match: %s: read error\n", cs->path);
        rc = 2;
    }
    return rc;
}

static int run_match(const match_args *a, gb_pattern_set *set)
{
    csv_state cs = {.path = a->events};
    cs.in = strcmp(a->events, "-") == 0 ? stdin : fopen(a->events, "r");
    if (!cs.in) {
        fprintf(stderr, "gbridge match: %s: %s\n", a->events, strerror(errno));
        return 2;
    }
    gb_matcher_opts o = {.on_match = print_match, .ctx = stdout, .max_runs_per_pattern = a->max_runs};
    gb_matcher *m = NULL;
    int rc = 1;
    if (gb_matcher_create(&m, set, &o) != GB_OK) {
        fprintf(stderr, "gbridge match: %s\n", gb_last_error());
        goto done;
    }
    rc = feed(&cs, m, gb_pattern_set_types(set));
    if (rc == 0 && gb_matcher_flush(m) != GB_OK) {
        fprintf(stderr, "gbridge match: %s\n", gb_last_error());
        rc = 1;
    }
    report_caps(m, set, a->max_runs ? a->max_runs : GB_MATCHER_DEFAULT_MAX_RUNS);
done:
    fflush(stdout);
    gb_matcher_destroy(m);
    free(cs.buf);
    if (cs.in != stdin)
        fclose(cs.in);
    return rc;
}

int gbridge_cmd_match(int argc, char **argv)
{
    match_args a = {0};
    if (parse_args(argc, argv, &a) != 0) {
        usage();
        return 2;
    }
    gb_pattern_set *set = NULL;
    int rc = compile(a.patterns, &set);
    if (rc != 0)
        return rc;
    if (a.check) {
        uint32_t n = gb_pattern_set_count(set);
        printf("ok: %u pattern%s\n", n, n == 1 ? "" : "s");
    } else {
        rc = run_match(&a, set);
    }
    gb_pattern_set_destroy(set);
    return rc;
}
