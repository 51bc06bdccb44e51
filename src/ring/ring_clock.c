/*
 * Device time of a ring (docs/device_time.md): the device timer's host-side
 * constants (where the device timer is the host TSC read in the kernel),
 * the clock ping-pong (a GB_MSG_SYSTEM GB_RING_SYS_TIMER message answered by
 * the dispatch loop with the device timer), and publishing a calibration to
 * the device (a seqlock over clk_* in the ring header: the host writer is
 * serialised by clk_lock, device readers retry while the word is odd).
 */
#include <string.h>

#include "base/error.h"
#include "gpubridge/time.h"
#include "ring/ring_internal.h"

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

static pthread_mutex_t clk_lock = PTHREAD_MUTEX_INITIALIZER;

void gbi_ring_clock_init(gb_ring_shm *h)
{
    gb_time_source_info info;
    gb_time_source(&info);
#if defined(__x86_64__)
    if (info.tsc_ghz > 0) {
        /* bracket one fast-clock read between two TSC reads */
        uint64_t a = __rdtsc();
        int64_t mono = gb_time_fast_ns();
        uint64_t b = __rdtsc();
        gb_atomic_store_relaxed(&h->tsc0, a + (b - a) / 2);
        gb_atomic_store_relaxed(&h->tsc_mono0, (uint64_t)mono);
        gb_atomic_store_release(&h->tsc_scale, (uint64_t)(4294967296.0 / info.tsc_ghz + 0.5));
        return;
    }
#endif
    gb_atomic_store_release(&h->tsc_scale, (uint64_t)0);
}

gb_status gb_ring_clock_ping(gb_ring *r, uint64_t token, int64_t *host_send_ns)
{
    if (!r || !host_send_ns)
        return gbi_error(GB_EINVAL, "ring_clock_ping", "NULL ring or output");
    gb_msg_header h;
    memset(&h, 0, sizeof h);
    h.target = token;
    h.correlation = token ? token : 1;
    h.method = GB_RING_SYS_TIMER;
    h.flags = GB_MSG_SYSTEM;
    *host_send_ns = gb_time_fast_ns();
    return gb_ring_send(r, 0, &h, NULL, GB_SEND_FAIL);
}

int gb_ring_clock_is_reply(const gb_msg_header *hdr)
{
    return hdr && (hdr->flags & GB_MSG_SYSTEM) && (hdr->flags & GB_MSG_RESPONSE) &&
           hdr->method == GB_RING_SYS_TIMER && hdr->payload_len >= 16;
}

/* One exchange; other outbound messages go to on_other (or are counted as
 * lost to the caller when on_other is NULL: the caller must own recv). */
static gb_status exchange_one(gb_ring *r, uint64_t token, gb_clock_sample *s, gb_ring_other_fn on_other,
                              void *arg, int64_t timeout_ns)
{
    gb_status st = gb_ring_clock_ping(r, token, &s->host_send_ns);
    if (st != GB_OK)
        return st;
    int64_t deadline = gb_time_monotonic_ns() + timeout_ns;
    _Alignas(16) uint8_t buf[GB_MSG_SLOT_MAX];
    for (;;) {
        gb_msg_header h;
        st = gb_ring_recv(r, &h, buf, sizeof buf, deadline - gb_time_monotonic_ns());
        int64_t now = gb_time_fast_ns();
        if (st != GB_OK)
            return st == GB_EAGAIN ? gbi_error(GB_ETIMEDOUT, "ring_clock", "no timer reply in time") : st;
        if (gb_ring_clock_is_reply(&h) && h.correlation == token) {
            uint64_t dev;
            memcpy(&dev, buf, 8);
            s->dev_ns = (int64_t)dev;
            s->host_recv_ns = now;
            return dev ? GB_OK : gbi_error(GB_ENOTSUP, "ring_clock", "this device has no timer");
        }
        if (on_other) /* stale clock replies too: the caller may count them */
            on_other(arg, &h, buf);
    }
}

gb_status gb_ring_clock_exchange(gb_ring *r, gb_clock_sample *samples, uint32_t n, uint32_t *filled,
                                 gb_ring_other_fn on_other, void *arg, int64_t timeout_ns)
{
    if (filled)
        *filled = 0;
    if (!r || !samples || n == 0)
        return gbi_error(GB_EINVAL, "ring_clock_exchange", "NULL ring or samples, or n == 0");
    static _Atomic uint64_t tokens = 1;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t token = atomic_fetch_add_explicit(&tokens, 1, memory_order_relaxed) | (1ull << 63);
        gb_status st =
            exchange_one(r, token, &samples[i], on_other, arg, timeout_ns > 0 ? timeout_ns : 1000000000);
        if (st != GB_OK)
            return st;
        if (filled)
            *filled = i + 1;
    }
    return GB_OK;
}

gb_status gb_ring_set_clock(gb_ring *r, const gb_clock_fit *fit)
{
    if (!r || !fit)
        return gbi_error(GB_EINVAL, "ring_set_clock", "NULL ring or fit");
    /* the fit maps device time to the host's fast monotonic clock; the HLC
     * wants realtime: add realtime - monotonic as the host sees it now */
    int64_t real_minus_mono = gb_time_realtime_fast_ns() - gb_time_fast_ns();
    int64_t real0 = gb_clock_fit_map(fit, fit->ref_dev_ns) + real_minus_mono;
    double adj = (fit->rate - 1.0) * 4294967296.0;
    gb_ring_shm *h = r->shm;
    pthread_mutex_lock(&clk_lock);
    uint64_t seq = gb_atomic_load_relaxed(&h->clk_seq);
    gb_atomic_store_relaxed(&h->clk_seq, seq + 1);
    gb_fence_release(); /* the odd seq before the fields (seqlock writer) */
    gb_atomic_store_relaxed(&h->clk_dev0, (uint64_t)fit->ref_dev_ns);
    gb_atomic_store_relaxed(&h->clk_real0, (uint64_t)real0);
    gb_atomic_store_relaxed(&h->clk_rate, (uint64_t)(int64_t)adj);
    gb_atomic_store_release(&h->clk_seq, seq + 2);
    pthread_mutex_unlock(&clk_lock);
    return GB_OK;
}

gb_status gb_ring_calibrate(gb_ring *r, uint32_t samples, gb_clock_fit *out)
{
    if (!r || !out || samples == 0 || samples > 1024)
        return gbi_error(GB_EINVAL, "ring_calibrate", "NULL ring or output, or samples not in 1..1024");
    gb_clock_sample s[1024];
    gb_clock_fit_opts fo = {.keep_fraction = 0.1, .min_keep = 8, .min_span_ns = 100000000};
    gb_status st = gb_ring_clock_exchange(r, s, samples, NULL, NULL, NULL, 0);
    if (st == GB_OK)
        st = gb_clock_fit_samples(s, samples, &fo, out);
    if (st == GB_OK)
        st = gb_ring_set_clock(r, out);
    return st;
}

uint64_t gb_ring_hlc(const gb_ring *r)
{
    return r ? gb_atomic_load_relaxed(&r->shm->hlc) : 0;
}
