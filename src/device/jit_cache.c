/*
 * The on-disk kernel cache (see jit_cache.h): directory resolution, entry
 * format, atomic writes, corruption detection and the process-wide
 * hit/miss/store/corrupt counters behind gb_kernel_cache_stats().
 *
 * Entry layout (little endian): 0 magic "GBKC" (u32 0x434b4247), 4 format
 * version (u32 1), 8 key (u64), 16 payload length (u64), 24 gb_hash64 of
 * the payload with the key as seed (u64), 32 payload.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "device/jit_cache.h"
#include "gpubridge/hash.h"

#define JIT_MAGIC 0x434b4247u
#define JIT_VERSION 1u
#define JIT_HEADER 32u
#define JIT_MAX_PAYLOAD (256u << 20)

static _Atomic uint64_t g_hits, g_misses, g_stores, g_corrupt;
static _Atomic uint64_t g_tmp_seq;

static uint64_t key_part(uint64_t h, const char *s)
{
    s = s ? s : "";
    h = gb_hash64(s, strlen(s), h);
    return gb_hash64("\x1f", 1, h); /* separator: "ab"+"c" differs from "a"+"bc" */
}

uint64_t gbi_jit_key(const char *backend, const char *source, const char *options, const char *device,
                     const char *device_version, const char *driver)
{
    uint64_t h = key_part(0x6762726964676521ull, backend);
    h = key_part(h, source);
    h = key_part(h, options);
    h = key_part(h, device);
    h = key_part(h, device_version);
    return key_part(h, driver);
}

/* The cache directory into buf; 0 when the cache is off or unresolvable. */
static int cache_dir(char *buf, size_t cap)
{
    const char *env = getenv("GB_KERNEL_CACHE");
    int n;
    if (env && strcmp(env, "off") == 0)
        return 0;
    if (env && *env)
        n = snprintf(buf, cap, "%s", env);
    else if (getenv("XDG_CACHE_HOME") && *getenv("XDG_CACHE_HOME"))
        n = snprintf(buf, cap, "%s/gpubridge", getenv("XDG_CACHE_HOME"));
    else if (getenv("HOME") && *getenv("HOME"))
        n = snprintf(buf, cap, "%s/.cache/gpubridge", getenv("HOME"));
    else
        return 0;
    return n > 0 && (size_t)n < cap;
}

/* mkdir -p of dir (a copy is edited). */
static int make_dirs(const char *dir)
{
    char tmp[1024];
    if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp)
        return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

gb_status gbi_jit_path(const char *backend, uint64_t key, char *buf, size_t cap)
{
    char dir[900];
    if (!cache_dir(dir, sizeof dir))
        return gbi_error(GB_ENOTSUP, "jit_cache", "the kernel cache is off (GB_KERNEL_CACHE=off or no HOME)");
    int n = snprintf(buf, cap, "%s/%s-%016llx.gbkc", dir, backend, (unsigned long long)key);
    if (n < 0 || (size_t)n >= cap)
        return gbi_error(GB_ERANGE, "jit_cache", "cache path too long");
    return GB_OK;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Read the whole entry at path into a malloc'd buffer; 0 when absent. */
static uint8_t *read_entry(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (size >= 0 && (unsigned long)size <= JIT_MAX_PAYLOAD + JIT_HEADER && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)size + 1)) != NULL && fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = size < 0 ? 0 : (size_t)size;
    return buf;
}

static int entry_valid(const uint8_t *e, size_t n, uint64_t key)
{
    if (n < JIT_HEADER || get_u32(e) != JIT_MAGIC || get_u32(e + 4) != JIT_VERSION || get_u64(e + 8) != key)
        return 0;
    uint64_t len = get_u64(e + 16);
    return len == n - JIT_HEADER && gb_hash64(e + JIT_HEADER, (size_t)len, key) == get_u64(e + 24);
}

static gb_status miss(void)
{
    atomic_fetch_add_explicit(&g_misses, 1, memory_order_relaxed);
    return GB_ENOENT;
}

gb_status gbi_jit_load(const char *backend, uint64_t key, void **data, size_t *len)
{
    char path[1024];
    if (gbi_jit_path(backend, key, path, sizeof path) != GB_OK)
        return miss();
    size_t n = 0;
    uint8_t *e = read_entry(path, &n);
    if (!e)
        return miss();
    if (!entry_valid(e, n, key)) {
        free(e);
        atomic_fetch_add_explicit(&g_corrupt, 1, memory_order_relaxed);
        unlink(path); /* rebuilt and stored again by the caller */
        return miss();
    }
    memmove(e, e + JIT_HEADER, n - JIT_HEADER);
    *data = e;
    *len = n - JIT_HEADER;
    atomic_fetch_add_explicit(&g_hits, 1, memory_order_relaxed);
    return GB_OK;
}

static int write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

gb_status gbi_jit_store(const char *backend, uint64_t key, const void *data, size_t len)
{
    char path[1024], tmp[1100], dir[900];
    gb_status st = gbi_jit_path(backend, key, path, sizeof path);
    if (st != GB_OK)
        return st;
    if (!cache_dir(dir, sizeof dir) || make_dirs(dir) != 0)
        return gbi_error(GB_EIO, "jit_cache", "cannot create the kernel cache directory %s", dir);
    uint64_t seq = atomic_fetch_add_explicit(&g_tmp_seq, 1, memory_order_relaxed);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%llu", path, (long)getpid(), (unsigned long long)seq);
    uint8_t h[JIT_HEADER];
    put_u32(h, JIT_MAGIC);
    put_u32(h + 4, JIT_VERSION);
    put_u64(h + 8, key);
    put_u64(h + 16, len);
    put_u64(h + 24, gb_hash64(data, len, key));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0)
        return gbi_error(GB_EIO, "jit_cache", "cannot write %s: %s", tmp, strerror(errno));
    int bad = write_all(fd, h, sizeof h) != 0 || write_all(fd, data, len) != 0;
    bad |= close(fd) != 0;
    if (bad || rename(tmp, path) != 0) {
        unlink(tmp);
        return gbi_error(GB_EIO, "jit_cache", "cannot write the cache entry %s", path);
    }
    atomic_fetch_add_explicit(&g_stores, 1, memory_order_relaxed);
    return GB_OK;
}

gb_status gb_kernel_cache_stats(gb_kernel_cache_counters *out)
{
    if (!out)
        return gbi_error(GB_EINVAL, "kernel_cache_stats", "out is NULL");
    memset(out, 0, sizeof *out);
    out->hits = atomic_load_explicit(&g_hits, memory_order_relaxed);
    out->misses = atomic_load_explicit(&g_misses, memory_order_relaxed);
    out->stores = atomic_load_explicit(&g_stores, memory_order_relaxed);
    out->corrupt = atomic_load_explicit(&g_corrupt, memory_order_relaxed);
    out->enabled = cache_dir(out->dir, sizeof out->dir);
    if (!out->enabled)
        out->dir[0] = '\0';
    return GB_OK;
}
