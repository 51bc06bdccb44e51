/*
 * Internal: the on-disk cache of compiled kernels (OpenCL program binaries,
 * CUDA PTX). Entries live in one directory (GB_KERNEL_CACHE, else
 * $XDG_CACHE_HOME/gpubridge, else ~/.cache/gpubridge; GB_KERNEL_CACHE=off
 * disables the cache), one file per key: <backend>-<key>.gbkc holding a
 * header (magic, version, key, length, hash of the payload) and the payload.
 * Writes go to a temporary file renamed into place, so readers see a whole
 * entry or none; an entry whose header or hash does not match is counted as
 * corrupt, removed, and reported as a miss (the caller rebuilds and stores).
 * All functions are thread-safe (counters are relaxed atomics; files are
 * written atomically).
 */
#ifndef GBI_DEVICE_JIT_CACHE_H
#define GBI_DEVICE_JIT_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "gpubridge/kernel.h"

/* The key of a compiled kernel: gb_hash64 over backend, source, build
 * options, device name, device version and driver version (NULL = ""). */
uint64_t gbi_jit_key(const char *backend, const char *source, const char *options, const char *device,
                     const char *device_version, const char *driver);

/* The cached payload of key, malloc'd into *data (caller frees), length in
 * *len. Errors: GB_ENOENT (miss, cache off, or a corrupt entry, which is
 * removed and counted), GB_ENOMEM. */
gb_status gbi_jit_load(const char *backend, uint64_t key, void **data, size_t *len);

/* Store payload for key (temp file + rename). Errors: GB_EIO (directory
 * not writable), GB_ENOTSUP (cache off). A failed store is harmless. */
gb_status gbi_jit_store(const char *backend, uint64_t key, const void *data, size_t len);

/* The path of key's entry into buf. Errors: GB_ENOTSUP (cache off), GB_ERANGE. */
gb_status gbi_jit_path(const char *backend, uint64_t key, char *buf, size_t cap);

#endif
