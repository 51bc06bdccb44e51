/*
 * Internal: binding a run-time loaded library's entry points (the opencl
 * and cuda backends open their libraries with dlopen).
 */
#ifndef GBI_DEVICE_DL_BIND_H
#define GBI_DEVICE_DL_BIND_H

#include <stddef.h>

typedef struct gbi_dl_sym {
    void **slot;      /* where the entry point goes */
    const char *name; /* its symbol name */
} gbi_dl_sym;

/* dlsym every entry of syms from lib into its slot, in order; returns the
 * name of the first missing one (its slot NULL, later ones untouched), or
 * NULL when all were found. Thread-safe for distinct slots. */
const char *gbi_dl_bind(void *lib, const gbi_dl_sym *syms, size_t n);

#endif
