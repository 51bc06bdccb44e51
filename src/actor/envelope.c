/*
 * Message envelopes: one allocation holding the runtime's link and
 * bookkeeping, the contract gb_msg_header, the payload right after it (so
 * header + payload are contiguous, as on a ring or a socket) and, for
 * requests, the call chain after the payload (8-byte aligned).
 *
 * Small envelopes (up to GBI_MSG_POOLED bytes: the common case) are recycled,
 * in three size classes (64, 128 and 256 bytes), each with its own lists,
 * instead of going back to malloc, because a message is usually allocated on
 * one thread and freed on another, the worst pattern for malloc:
 *  - each thread keeps a private list of free blocks per class (thread-local;
 *    it takes frees while its count, which is exact for the blocks freed
 *    into it and counts a taken shared stack as POOL_LOCAL_MAX blocks, is
 *    below POOL_LOCAL_MAX; freed with free() when the thread exits);
 *  - beyond that, freed blocks are gathered in a second thread-local chain
 *    (the return batch) and go onto the silo's shared stack of their class
 *    POOL_RETURN_BATCH at a time, with one CAS (a receiver that frees every
 *    message a flooding sender allocates would otherwise CAS the stack's
 *    head, the very line the sender takes blocks from, once per message);
 *    a thread whose list is empty takes its own return batch, else that
 *    whole shared stack at once.
 * The shared stack is a Treiber stack used only with "push one" (CAS) and
 * "take all" (exchange with NULL): a pusher links its node to the head value
 * it read itself, never to a node's `next` read from shared memory, so a
 * node popped and pushed again in between (ABA) cannot corrupt it.
 * Pooled blocks are ordinary malloc blocks of their class's size, so a
 * block may always be released with free(), whatever thread or silo; its
 * class travels in gbi_msg.pool.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "actor/runtime.h"

#define POOL_LOCAL_MAX 512   /* blocks per size class */
#define POOL_RETURN_BATCH 64 /* blocks a thread hands back to its silo at once */

/* Block sizes of the classes: a header-only message (64 bytes: gbi_msg
 * itself) takes one cache line, so a flood of small messages touches a
 * quarter of the memory that 256-byte blocks would. */
static const uint32_t class_size[GBI_MSG_CLASSES] = {64, 128, GBI_MSG_POOLED};

_Static_assert(sizeof(gbi_msg) <= 64, "a header-only envelope fits the smallest class");

typedef struct local_pool {
    gbi_msg *head[GBI_MSG_CLASSES];
    uint32_t n[GBI_MSG_CLASSES]; /* the count that bounds frees into the list (see above) */
    gbi_msg *ret_head[GBI_MSG_CLASSES], *ret_tail[GBI_MSG_CLASSES]; /* the return batch */
    uint32_t ret_n[GBI_MSG_CLASSES];
    int registered; /* the exit destructor is armed for this thread */
} local_pool;

static _Thread_local local_pool tl_pool;
static pthread_key_t pool_key; /* only to free a thread's blocks at its exit */
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static gbi_msg *next_of(gbi_msg *m)
{
    return (gbi_msg *)(void *)atomic_load_explicit(&m->node.next, memory_order_relaxed);
}

static void free_list(gbi_msg *m)
{
    while (m) {
        gbi_msg *n = next_of(m);
        free(m);
        m = n;
    }
}

static void pool_thread_exit(void *arg)
{
    (void)arg;
    for (int c = 0; c < GBI_MSG_CLASSES; c++) {
        free_list(tl_pool.head[c]);
        free_list(tl_pool.ret_head[c]);
        tl_pool.head[c] = tl_pool.ret_head[c] = tl_pool.ret_tail[c] = NULL;
        tl_pool.n[c] = tl_pool.ret_n[c] = 0;
    }
    tl_pool.registered = 0;
}

static void pool_key_create(void)
{
    pthread_key_create(&pool_key, pool_thread_exit);
}

/* Arm the thread-exit destructor before the thread first keeps blocks. */
static void pool_register(local_pool *p)
{
    if (p->registered)
        return;
    pthread_once(&pool_once, pool_key_create);
    pthread_setspecific(pool_key, p); /* non-NULL: the destructor runs */
    p->registered = 1;
}

/* The smallest class that holds size bytes, or -1 (malloc). */
static int class_of(size_t size)
{
    for (int c = 0; c < GBI_MSG_CLASSES; c++)
        if (size <= class_size[c])
            return c;
    return -1;
}

/* Take a block of class c: the thread's list, else the silo's whole shared
 * stack of that class. */
static gbi_msg *pool_get(gb_silo *s, int c)
{
    local_pool *p = &tl_pool;
    if (!p->head[c] && p->ret_head[c]) { /* our own return batch first */
        p->head[c] = p->ret_head[c];
        p->n[c] = POOL_LOCAL_MAX; /* counted as full, as a taken stack */
        p->ret_head[c] = p->ret_tail[c] = NULL;
        p->ret_n[c] = 0;
    }
    if (!p->head[c] && s && atomic_load_explicit(&s->msg_pool[c], memory_order_relaxed)) {
        pool_register(p);
        /* acquire: the pushers' writes to the blocks happen before */
        gbi_msg *all = atomic_exchange_explicit(&s->msg_pool[c], NULL, memory_order_acquire);
        /* Not walked to count it: the stack may hold 100 000s of blocks,
         * and a walk that misses the cache on each costs more than the
         * messages it serves. Counted as full, so the next frees go back
         * to the shared stack until this list has been used up. */
        p->head[c] = all;
        p->n[c] = POOL_LOCAL_MAX;
    }
    gbi_msg *m = p->head[c];
    if (m) {
        gbi_msg *next = next_of(m);
        /* The blocks were mostly freed on another core: start the next
         * block's cache miss now, not when the next message needs it. */
        if (next)
            __builtin_prefetch(next, 1);
        p->head[c] = next;
        if (p->n[c])
            p->n[c]--;
        return m;
    }
    /* Plain malloc, not aligned_alloc: glibc serves a 64-byte-aligned
     * request by over-allocating and splitting, which made a flood of
     * small messages 3x slower than the odd header straddling two lines. */
    return malloc(class_size[c]);
}

/* Hand the thread's return batch of class c to s's shared stack: one CAS
 * links the whole chain (the pusher links its tail to the head value it
 * read itself, as a single-node push would). */
static void return_batch(gb_silo *s, local_pool *p, int c)
{
    gbi_msg *first = p->ret_head[c], *last = p->ret_tail[c];
    p->ret_head[c] = p->ret_tail[c] = NULL;
    p->ret_n[c] = 0;
    gbi_msg *head = atomic_load_explicit(&s->msg_pool[c], memory_order_relaxed);
    do {
        atomic_store_explicit(&last->node.next, (gbi_mpsc_node *)(void *)head, memory_order_relaxed);
    } while (!atomic_compare_exchange_weak_explicit(&s->msg_pool[c], &head, first, memory_order_release,
                                                    memory_order_relaxed));
}

static void pool_put(gb_silo *s, gbi_msg *m, int c)
{
    local_pool *p = &tl_pool;
    if (p->n[c] < POOL_LOCAL_MAX) {
        pool_register(p);
        atomic_store_explicit(&m->node.next, (gbi_mpsc_node *)(void *)p->head[c], memory_order_relaxed);
        p->head[c] = m;
        p->n[c]++;
        return;
    }
    if (!s) {
        free(m);
        return;
    }
    pool_register(p);
    atomic_store_explicit(&m->node.next, (gbi_mpsc_node *)(void *)p->ret_head[c], memory_order_relaxed);
    if (!p->ret_head[c])
        p->ret_tail[c] = m;
    p->ret_head[c] = m;
    if (++p->ret_n[c] >= POOL_RETURN_BATCH)
        return_batch(s, p, c);
}

gbi_msg *gbi_msg_new(gb_silo *s, uint32_t payload_len, uint16_t chain_len)
{
    size_t pay = ((size_t)payload_len + 7u) & ~(size_t)7u;
    size_t size = sizeof(gbi_msg) + pay + (size_t)chain_len * sizeof(uint64_t);
    int c = class_of(size);
    gbi_msg *m = c >= 0 ? pool_get(s, c) : malloc(size);
    if (!m)
        return NULL;
    memset(m, 0, sizeof *m);
    m->kind = GBI_MSG_USER;
    m->pool = (uint8_t)(c + 1);
    m->chain_len = chain_len;
    m->alloc_payload = payload_len;
    m->hdr.payload_len = payload_len;
    return m;
}

void gbi_msg_free(gb_silo *s, gbi_msg *m)
{
    if (!m)
        return;
    if (m->pool)
        pool_put(s, m, m->pool - 1);
    else
        free(m);
}

void gbi_msg_pool_drain(gb_silo *s)
{
    for (int c = 0; c < GBI_MSG_CLASSES; c++)
        free_list(atomic_exchange_explicit(&s->msg_pool[c], NULL, memory_order_acquire));
}
