/*
 * Internal: the kernel catalog shared by catalog.c (registration, lookup,
 * memory needs) and offload.c (running on the broker's devices).
 */
#ifndef GBI_KERNEL_CATALOG_INTERNAL_H
#define GBI_KERNEL_CATALOG_INTERNAL_H

#include <pthread.h>

#include "device/backend.h"
#include "gpubridge/kernel.h"

#define GBI_KERNEL_MAX_DEVICES 8
#define GBI_KERNEL_DEFAULT_MAX_BATCH (1u << 20)

typedef struct gbi_kernel {
    gb_kernel_desc d;                      /* strings owned */
    void *inst[GBI_KERNEL_MAX_DEVICES];    /* opened and compiled instance per broker entry */
    const gbi_backend_ops *be[GBI_KERNEL_MAX_DEVICES];
} gbi_kernel;

struct gb_kernel_catalog {
    gb_broker *broker;
    pthread_mutex_t lock; /* serialises register and run */
    gbi_kernel *k;
    uint32_t n, cap;
};

/* The kernel called id, or NULL (under lock). */
gbi_kernel *gbi_kernel_find(gb_kernel_catalog *c, const char *id);

#endif
