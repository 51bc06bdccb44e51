/*
 * Lexer of the pattern DSL (shared/spec/pattern-dsl.md, Grammar): words,
 * numbers (integers, decimals, durations INT ns|us|ms|s|m|h), strings,
 * operators, and `#` comments. Positions are 1-based lines and byte columns.
 */
#include "pattern/lexer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gbp_lexer_init(gbp_lexer *lx, const char *src, size_t len)
{
    lx->src = src;
    lx->p = src;
    lx->end = src + len;
    lx->line = 1;
    lx->col = 1;
    lx->msg[0] = '\0';
}

int gbp_tok_is(const gbp_token *t, const char *word)
{
    size_t n = strlen(word);
    return t->kind == GBP_T_IDENT && t->len == n && memcmp(t->text, word, n) == 0;
}

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static char peek_at(const gbp_lexer *lx, size_t k)
{
    return lx->p + k < lx->end ? lx->p[k] : '\0';
}

static void advance(gbp_lexer *lx, size_t k)
{
    for (size_t i = 0; i < k && lx->p < lx->end; i++) {
        if (*lx->p == '\n') {
            lx->line++;
            lx->col = 1;
        } else {
            lx->col++;
        }
        lx->p++;
    }
}

static void skip_space(gbp_lexer *lx)
{
    while (lx->p < lx->end) {
        char c = *lx->p;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            advance(lx, 1);
        } else if (c == '#') {
            while (lx->p < lx->end && *lx->p != '\n')
                advance(lx, 1);
        } else {
            return;
        }
    }
}

static gbp_token error_tok(gbp_lexer *lx, gbp_token t, const char *msg)
{
    snprintf(lx->msg, sizeof lx->msg, "%s", msg);
    t.kind = GBP_T_ERROR;
    return t;
}

/* ns per unit of a duration suffix, 0 when the suffix is not a unit. */
static int64_t unit_ns(const char *s, size_t n)
{
    static const struct {
        const char *name;
        int64_t ns;
    } units[] = {{"ns", 1},          {"us", 1000},           {"ms", 1000000},
                 {"s", 1000000000LL}, {"m", 60000000000LL}, {"h", 3600000000000LL}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strlen(units[i].name) == n && memcmp(units[i].name, s, n) == 0)
            return units[i].ns;
    return 0;
}

static int scan_exponent(const gbp_lexer *lx, size_t k)
{
    char c = peek_at(lx, k);
    if (c != 'e' && c != 'E')
        return 0;
    size_t j = k + 1;
    if (peek_at(lx, j) == '+' || peek_at(lx, j) == '-')
        j++;
    if (!is_digit(peek_at(lx, j)))
        return 0;
    while (is_digit(peek_at(lx, j)))
        j++;
    return (int)(j - k);
}

/* Give an integer token its duration unit, if it has one. */
static gbp_token apply_unit(gbp_lexer *lx, gbp_token t, const char *suffix, size_t slen)
{
    if (!slen)
        return t;
    int64_t ns = unit_ns(suffix, slen);
    if (ns == 0)
        return error_tok(lx, t, "unknown duration unit (ns, us, ms, s, m or h)");
    if (t.i > INT64_MAX / ns)
        return error_tok(lx, t, "duration out of range");
    t.kind = GBP_T_DUR;
    t.i *= ns;
    return t;
}

static gbp_token lex_number(gbp_lexer *lx, gbp_token t)
{
    size_t k = 0;
    int decimal = 0;
    while (is_digit(peek_at(lx, k)))
        k++;
    if (peek_at(lx, k) == '.' && is_digit(peek_at(lx, k + 1))) {
        decimal = 1;
        k++;
        while (is_digit(peek_at(lx, k)))
            k++;
    }
    int e = scan_exponent(lx, k);
    decimal |= e != 0;
    k += (size_t)e;
    size_t digits = k;
    while (is_alpha(peek_at(lx, k)) || is_digit(peek_at(lx, k)))
        k++;
    char buf[64];
    if (digits >= sizeof buf)
        return error_tok(lx, t, "number too long");
    memcpy(buf, lx->p, digits);
    buf[digits] = '\0';
    t.text = lx->p;
    t.len = k;
    errno = 0;
    if (decimal) {
        if (k > digits)
            return error_tok(lx, t, "a duration needs an integer count (e.g. 500ms)");
        t.kind = GBP_T_NUM;
        t.d = strtod(buf, NULL);
        if (errno == ERANGE)
            return error_tok(lx, t, "number out of range");
    } else {
        unsigned long long v = strtoull(buf, NULL, 10);
        if (errno == ERANGE || v > (unsigned long long)INT64_MAX)
            return error_tok(lx, t, "integer out of range");
        t.kind = GBP_T_INT;
        t.i = (int64_t)v;
        t = apply_unit(lx, t, lx->p + digits, k - digits);
        if (t.kind == GBP_T_ERROR)
            return t;
    }
    advance(lx, k);
    return t;
}

static gbp_token lex_string(gbp_lexer *lx, gbp_token t)
{
    size_t k = 1;
    while (lx->p + k < lx->end && lx->p[k] != '"' && lx->p[k] != '\n')
        k++;
    if (lx->p + k >= lx->end || lx->p[k] != '"')
        return error_tok(lx, t, "unterminated string");
    t.kind = GBP_T_STR;
    t.text = lx->p + 1;
    t.len = k - 1;
    advance(lx, k + 1);
    return t;
}

struct punct {
    const char *s;
    gbp_tok_kind kind;
};

static const struct punct puncts[] = {
    {"==", GBP_T_EQ}, {"!=", GBP_T_NE},    {"<=", GBP_T_LE},     {">=", GBP_T_GE},
    {"<", GBP_T_LT},  {">", GBP_T_GT},     {"=", GBP_T_ASSIGN},  {":", GBP_T_COLON},
    {",", GBP_T_COMMA}, {"{", GBP_T_LBRACE}, {"}", GBP_T_RBRACE}, {"(", GBP_T_LPAREN},
    {")", GBP_T_RPAREN}, {"+", GBP_T_PLUS},  {"-", GBP_T_MINUS},  {"*", GBP_T_STAR},
    {"/", GBP_T_SLASH}, {".", GBP_T_DOT},
};

gbp_token gbp_lexer_next(gbp_lexer *lx)
{
    skip_space(lx);
    gbp_token t = {.kind = GBP_T_EOF, .line = lx->line, .col = lx->col, .text = lx->p};
    if (lx->p >= lx->end)
        return t;
    char c = *lx->p;
    if (is_alpha(c)) {
        size_t k = 0;
        while (is_alpha(peek_at(lx, k)) || is_digit(peek_at(lx, k)))
            k++;
        t.kind = GBP_T_IDENT;
        t.len = k;
        advance(lx, k);
        return t;
    }
    if (is_digit(c))
        return lex_number(lx, t);
    if (c == '"')
        return lex_string(lx, t);
    for (size_t i = 0; i < sizeof puncts / sizeof puncts[0]; i++) {
        size_t n = strlen(puncts[i].s);
        if ((size_t)(lx->end - lx->p) >= n && memcmp(lx->p, puncts[i].s, n) == 0) {
            t.kind = puncts[i].kind;
            t.len = n;
            advance(lx, n);
            return t;
        }
    }
    t.len = 1;
    if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f) {
        char msg[64];
        snprintf(msg, sizeof msg, "unexpected character '%c'", c);
        return error_tok(lx, t, msg);
    }
    char msg[64];
    snprintf(msg, sizeof msg, "unexpected byte 0x%02x", (unsigned)(unsigned char)c);
    return error_tok(lx, t, msg);
}
