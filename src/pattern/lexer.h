/*
 * Internal: tokens of the pattern DSL. The lexer is pulled one token at a
 * time by the parser, so an error is reported at the first offending
 * position in file order.
 */
#ifndef GBP_LEXER_H
#define GBP_LEXER_H

#include <stddef.h>
#include <stdint.h>

typedef enum gbp_tok_kind {
    GBP_T_EOF,
    GBP_T_IDENT,
    GBP_T_INT,    /* integer literal: tok.i */
    GBP_T_NUM,    /* decimal literal: tok.d */
    GBP_T_DUR,    /* duration literal in ns: tok.i */
    GBP_T_STR,    /* string literal: text/len exclude the quotes */
    GBP_T_COLON,
    GBP_T_COMMA,
    GBP_T_LBRACE,
    GBP_T_RBRACE,
    GBP_T_LPAREN,
    GBP_T_RPAREN,
    GBP_T_PLUS,
    GBP_T_MINUS,
    GBP_T_STAR,
    GBP_T_SLASH,
    GBP_T_DOT,
    GBP_T_EQ,     /* == */
    GBP_T_NE,     /* != */
    GBP_T_LT,
    GBP_T_LE,
    GBP_T_GT,
    GBP_T_GE,
    GBP_T_ASSIGN, /* = */
    GBP_T_ERROR   /* lexical error: lexer.msg says what */
} gbp_tok_kind;

typedef struct gbp_token {
    gbp_tok_kind kind;
    int line, col;     /* 1-based position of the first byte */
    const char *text;  /* the token's bytes in the source */
    size_t len;
    int64_t i;
    double d;
} gbp_token;

typedef struct gbp_lexer {
    const char *src, *end, *p;
    int line, col;
    char msg[128]; /* set with a GBP_T_ERROR token */
} gbp_lexer;

/* Start lexing src[0..len). */
void gbp_lexer_init(gbp_lexer *lx, const char *src, size_t len);

/* The next token (GBP_T_EOF at the end, GBP_T_ERROR with lx->msg). */
gbp_token gbp_lexer_next(gbp_lexer *lx);

/* True when the token is the identifier word. */
int gbp_tok_is(const gbp_token *t, const char *word);

#endif
