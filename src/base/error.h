/*
 * Internal: raising errors with detail into the per-thread last-error buffer.
 * gbi_error(GB_EINVAL, "hlc_update", "remote %llx ahead by %lld ns", ...)
 * formats "hlc_update: remote ... ahead by ..." and returns the status, so a
 * call site reads `return gbi_error(...)`.
 */
#ifndef GBI_BASE_ERROR_H
#define GBI_BASE_ERROR_H

#include "gpubridge/status.h"

#if defined(__GNUC__)
#define GBI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define GBI_PRINTF(f, a)
#endif

/* Record "where: message" as the thread's last error and return status. */
int gbi_error(int status, const char *where, const char *fmt, ...) GBI_PRINTF(3, 4);

#endif
