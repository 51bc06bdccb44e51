/*
 * Parking: futex wait and wake on a 32-bit word (Linux). Callers re-check
 * their condition after every return: a wake may be spurious or early.
 */
#include <errno.h>
#include <sched.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "actor/runtime.h"
#include "gpubridge/time.h"

void gbi_park(_Atomic uint32_t *word, uint32_t expected, int64_t timeout_ns)
{
    struct timespec ts, *tsp = NULL;
    if (timeout_ns >= 0) {
        ts.tv_sec = (time_t)(timeout_ns / 1000000000LL);
        ts.tv_nsec = (long)(timeout_ns % 1000000000LL);
        tsp = &ts;
    }
    /* FUTEX_WAIT checks *word == expected atomically with going to sleep,
     * so a wake that bumps the word first is never lost. */
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, expected, tsp, NULL, 0);
}

void gbi_unpark(_Atomic uint32_t *word, int all)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, all ? 0x7fffffff : 1, NULL, NULL, 0);
}

void gbi_spin_step(unsigned i)
{
    if ((i & 31) == 31)
        sched_yield();
    else
        gb_cpu_relax();
}
