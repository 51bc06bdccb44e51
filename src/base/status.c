/*
 * Status codes: names, sentences, and the per-thread last-error buffer.
 * The buffer is thread-local, so no locking and no global mutable state.
 */
#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>

#define GBI_LAST_ERROR_CAP 1024

static _Thread_local char last_error[GBI_LAST_ERROR_CAP];

struct status_text {
    int code;
    const char *name;
    const char *text;
};

static const struct status_text status_texts[] = {
    {GB_OK, "GB_OK", "success"},
    {GB_EINVAL, "GB_EINVAL", "invalid argument or malformed input"},
    {GB_ENOMEM, "GB_ENOMEM", "out of memory"},
    {GB_ENOTSUP, "GB_ENOTSUP", "not supported here (a backend or package is missing)"},
    {GB_EAGAIN, "GB_EAGAIN", "resource temporarily full, try again"},
    {GB_ETIMEDOUT, "GB_ETIMEDOUT", "operation timed out"},
    {GB_EDEADLK, "GB_EDEADLK", "call would deadlock (cycle of waiting actors)"},
    {GB_ECLOCK, "GB_ECLOCK", "remote clock beyond the allowed offset"},
    {GB_EORDER, "GB_EORDER", "input out of order (older than accepted input)"},
    {GB_EPARSE, "GB_EPARSE", "parse or compile error"},
    {GB_ENOENT, "GB_ENOENT", "no such object"},
    {GB_EEXIST, "GB_EEXIST", "already exists"},
    {GB_EDEVICE, "GB_EDEVICE", "device or backend failure"},
    {GB_ECLOSED, "GB_ECLOSED", "object is closed or shutting down"},
    {GB_EMSGSIZE, "GB_EMSGSIZE", "message too large"},
    {GB_EIO, "GB_EIO", "input/output error"},
    {GB_EBUSY, "GB_EBUSY", "resource busy"},
    {GB_ECANCELED, "GB_ECANCELED", "operation cancelled"},
    {GB_ERANGE, "GB_ERANGE", "value out of range"},
    {GB_EINTERNAL, "GB_EINTERNAL", "internal error in gpubridge"},
};

static const struct status_text *find_status(int status)
{
    for (size_t i = 0; i < sizeof status_texts / sizeof status_texts[0]; i++)
        if (status_texts[i].code == status)
            return &status_texts[i];
    return NULL;
}

const char *gb_strerror(int status)
{
    const struct status_text *t = find_status(status);
    return t ? t->text : "unknown status code";
}

const char *gb_status_name(int status)
{
    const struct status_text *t = find_status(status);
    return t ? t->name : "GB_UNKNOWN";
}

const char *gb_last_error(void)
{
    return last_error;
}

void gb_clear_error(void)
{
    last_error[0] = '\0';
}

int gbi_error(int status, const char *where, const char *fmt, ...)
{
    int n = snprintf(last_error, sizeof last_error, "%s: ", where ? where : "gpubridge");
    if (n < 0 || (size_t)n >= sizeof last_error)
        return status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error + n, sizeof last_error - (size_t)n, fmt, ap);
    va_end(ap);
    return status;
}
