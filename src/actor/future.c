/*
 * Futures: the completion of a call made by a thread that is not a worker.
 *
 * state: PENDING -> (PARKED, when a waiter sleeps) -> DONE. The completer
 * writes status and response, then exchanges state to DONE (release) and
 * wakes the futex only if a waiter had parked; a waiter spins (acquire loads)
 * for caller_spin_ns, then CASes PENDING -> PARKED and sleeps on the word.
 * Heap futures (gb_call_async) are reference counted (caller + runtime);
 * gb_call's future lives on the caller's stack and is never touched by the
 * completer after its exchange (only the futex address is used to wake).
 */
#include <stdlib.h>

#include "actor/future.h"
#include "base/error.h"
#include "gpubridge/time.h"

gb_future *gbi_future_new(int64_t spin_ns)
{
    gb_future *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    gbi_future_init(f, spin_ns, 2);
    return f;
}

void gbi_future_init(gb_future *f, int64_t spin_ns, uint32_t refs)
{
    atomic_init(&f->state, GBI_FUT_PENDING);
    atomic_init(&f->refs, refs);
    f->status = GB_OK;
    f->resp = NULL;
    f->spin_ns = spin_ns;
}

void gbi_future_complete(gb_future *f, gb_status status, gbi_msg *resp)
{
    int counted = atomic_load_explicit(&f->refs, memory_order_relaxed) != 0;
    f->status = status;
    f->resp = resp;
    uint32_t prev = atomic_exchange_explicit(&f->state, GBI_FUT_DONE, memory_order_acq_rel);
    if (prev == GBI_FUT_PARKED)
        gbi_unpark(&f->state, 1);
    if (counted)
        gb_future_release(f);
}

int gbi_future_wait_until(gb_future *f, int64_t deadline_ns, int64_t *parked_ns)
{
    if (parked_ns)
        *parked_ns = 0;
    int64_t spin_until = gb_time_fast_ns() + (f->spin_ns > 0 ? f->spin_ns : 0);
    for (unsigned i = 0;; i++) {
        uint32_t st = atomic_load_explicit(&f->state, memory_order_acquire);
        if (st == GBI_FUT_DONE)
            return 1;
        gbi_spin_step(i);
        if ((i & 31) != 31)
            continue;
        int64_t now = gb_time_fast_ns();
        if (deadline_ns >= 0 && now >= deadline_ns)
            return 0;
        if (now < spin_until)
            continue;
        uint32_t expect = GBI_FUT_PENDING;
        if (st == GBI_FUT_PENDING &&
            !atomic_compare_exchange_strong_explicit(&f->state, &expect, GBI_FUT_PARKED, memory_order_acq_rel,
                                                     memory_order_acquire))
            continue;
        gbi_park(&f->state, GBI_FUT_PARKED, deadline_ns >= 0 ? deadline_ns - now : -1);
        if (parked_ns)
            *parked_ns += gb_time_fast_ns() - now;
    }
}

gb_status gb_future_poll(const gb_future *f)
{
    if (!f)
        return gbi_error(GB_EINVAL, "gb_future_poll", "future is NULL");
    if (atomic_load_explicit(&((gb_future *)f)->state, memory_order_acquire) != GBI_FUT_DONE)
        return GB_EAGAIN;
    return f->status;
}

gb_status gb_future_wait(gb_future *f)
{
    if (!f)
        return gbi_error(GB_EINVAL, "gb_future_wait", "future is NULL");
    gbi_future_wait_until(f, -1, NULL);
    return f->status;
}

const void *gb_future_payload(const gb_future *f, uint32_t *len)
{
    if (len)
        *len = 0;
    if (!f || atomic_load_explicit(&((gb_future *)f)->state, memory_order_acquire) != GBI_FUT_DONE ||
        !f->resp)
        return NULL;
    uint32_t off = gbi_resp_offset(f->resp);
    if (len)
        *len = f->resp->hdr.payload_len - off;
    return gbi_msg_payload(f->resp) + off;
}

void gb_future_release(gb_future *f)
{
    if (!f)
        return;
    if (atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) != 1)
        return;
    gbi_msg_free(NULL, f->resp);
    free(f);
}
