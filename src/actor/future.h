/* Internal: futures of external calls (future.c). */
#ifndef GBI_ACTOR_FUTURE_H
#define GBI_ACTOR_FUTURE_H

#include "actor/runtime.h"

#define GBI_FUT_PENDING 0u
#define GBI_FUT_PARKED 1u
#define GBI_FUT_DONE 2u

struct gb_future {
    _Atomic uint32_t state;
    _Atomic uint32_t refs; /* 0: owned by a gb_call stack frame */
    gb_status status;
    gbi_msg *resp; /* response message, or NULL */
    int64_t spin_ns;
};

/* A heap future with two references (caller and runtime). */
gb_future *gbi_future_new(int64_t spin_ns);
void gbi_future_init(gb_future *f, int64_t spin_ns, uint32_t refs);
/* Publish the result and wake a parked waiter; drops the runtime's
 * reference of a heap future. */
void gbi_future_complete(gb_future *f, gb_status status, gbi_msg *resp);
/* Wait until done (1) or deadline_ns on gb_time_fast_ns (0); <0 = forever.
 * *parked_ns (may be NULL) gets the time spent parked. */
int gbi_future_wait_until(gb_future *f, int64_t deadline_ns, int64_t *parked_ns);

#endif
