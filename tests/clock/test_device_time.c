/* Device time through a running ring: the clock ping-pong calibration finds
 * the true offset (zero: on the cpu ring the device timer is the host's
 * fast clock, on PoCL the host TSC read in the kernel) within its own error
 * bound, and after calibration the ring HLC carries physical time, so device
 * stamps order after the host's send stamps. */
// gb-test-labels: serial
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "gpubridge/calibration.h"
#include "gpubridge/clock.h"
#include "gpubridge/device.h"
#include "gpubridge/kernel_lang.h"
#include "gpubridge/ring.h"
#include "gpubridge/status.h"

/* the handler's kernel_lang source needs the ring API on the host */
#include "ring/kernels.h"

GB_DUAL_SOURCE(dt_src, GB_DEVICE_FN gb_i32 dt_echo(GB_GLOBAL gb_u8 *state, GB_GLOBAL const gb_msg_header *msg,
                                                    gb_u64 hlc, gb_ring_ctx *ctx) {
    (void)state;
    GB_GLOBAL gb_u8 *p = gb_ring_begin_reply(ctx, msg, 8);
    if (!p)
        return -4;
    gb_payload_put_u64(p, 0, hlc);
    gb_ring_end(ctx);
    return 0;
})

static gb_ring *make_ring(const char *backend, gb_ring_mode mode)
{
    gb_ring_actor_type t = {.name = "echo", .state_size = 16, .on_message = dt_echo, .device_fn = "dt_echo"};
    gb_ring_opts o = {.backend = backend, .mode = mode, .lanes = 1, .types = &t, .ntypes = 1,
                      .device_source = dt_src};
    gb_ring *r = NULL;
    gb_status st = gb_ring_create(&r, &o);
    if (st == GB_ENOTSUP)
        cr_skip_test("%s unavailable: %s", backend, gb_last_error());
    cr_assert_eq(st, GB_OK, "%s", gb_last_error());
    cr_assert_eq(gb_ring_start(r), GB_OK);
    /* The first launch generates the kernel's machine code (PoCL, cold
     * cache: seconds under sanitizers): one reply before measuring. */
    gb_clock_sample warm;
    cr_assert_eq(gb_ring_clock_exchange(r, &warm, 1, NULL, NULL, NULL, 60000000000LL), GB_OK, "%s",
                 gb_last_error());
    return r;
}

/* Calibrate up to `tries` times (a busy machine may starve the polling
 * consumer); the assertion is on the method's own bound. */
static void expect_zero_offset(gb_ring *r, int tries, double need_bound)
{
    gb_clock_fit f;
    for (int i = 0; i < tries; i++) {
        cr_assert_eq(gb_ring_calibrate(r, 400, &f), GB_OK, "%s", gb_last_error());
        cr_log_info("%s: offset %.1f ns, bound %.1f ns, drift %.3f ppm, min rtt %lld ns, %u/%u kept",
                    gb_ring_backend(r), f.offset_ns, f.error_bound_ns, f.drift_ppm, (long long)f.min_rtt_ns,
                    f.used, f.total);
        if (f.error_bound_ns < need_bound)
            break;
    }
    cr_expect(fabs(f.offset_ns) <= f.error_bound_ns, "offset %.1f outside its bound %.1f", f.offset_ns,
              f.error_bound_ns);
    cr_expect(f.error_bound_ns < need_bound, "bound %.1f ns not under %.0f ns", f.error_bound_ns, need_bound);
}

/* After calibration a message's reply stamp is after its send stamp and
 * carries physical time near the host's. */
static void expect_device_stamps_after_send(gb_ring *r)
{
    gb_hlc *clk;
    cr_assert_eq(gb_hlc_create(&clk, NULL), GB_OK);
    for (int i = 0; i < 50; i++) {
        gb_msg_header h;
        memset(&h, 0, sizeof h);
        h.target = 42;
        h.correlation = (uint64_t)i + 1;
        h.hlc = gb_hlc_now(clk);
        cr_assert_eq(gb_ring_send(r, 0, &h, NULL, GB_SEND_BLOCK), GB_OK);
        gb_msg_header o;
        uint64_t dev_hlc = 0;
        cr_assert_eq(gb_ring_recv(r, &o, &dev_hlc, 8, 5000000000LL), GB_OK);
        cr_assert_gt(o.hlc, h.hlc);
        cr_assert_gt(dev_hlc, h.hlc);
        cr_assert_eq(gb_hlc_update(clk, o.hlc, NULL), GB_OK, "device stamp rejected: %s", gb_last_error());
    }
    /* physical part: not a bare logical count (a logical-only device clock
     * would stay at the send stamp's physical part forever) */
    cr_expect_gt(gb_hlc_physical_ns(gb_ring_hlc(r)), 0);
    gb_hlc_destroy(clk);
}

Test(device_time, cpu_ring_calibration_finds_zero_offset_within_its_bound)
{
    gb_ring *r = make_ring("cpu", GB_RING_PERSISTENT);
    /* cpu consumers park between messages: the round trip includes a wake-up */
    expect_zero_offset(r, 5, 1e6);
    expect_device_stamps_after_send(r);
    gb_ring_destroy(r);
}

Test(device_time, pocl_calibration_finds_zero_offset_within_its_bound)
{
    gb_ring *r = make_ring("opencl", GB_RING_PERSISTENT);
    expect_zero_offset(r, 5, 2000);
    expect_device_stamps_after_send(r);
    gb_ring_stop(r, GB_RING_DRAIN);
    gb_ring_destroy(r);
}

Test(device_time, uncalibrated_ring_clock_is_logical)
{
    gb_ring *r = make_ring("cpu", GB_RING_PERSISTENT);
    gb_msg_header h;
    memset(&h, 0, sizeof h);
    h.target = 7;
    h.correlation = 1;
    h.hlc = 4096;
    cr_assert_eq(gb_ring_send(r, 0, &h, NULL, GB_SEND_BLOCK), GB_OK);
    gb_msg_header o;
    uint64_t v;
    cr_assert_eq(gb_ring_recv(r, &o, &v, 8, 5000000000LL), GB_OK);
    cr_expect_eq(v, 4097);
    gb_ring_destroy(r);
}

Test(device_time, ring_calibrate_rejects_bad_input)
{
    gb_clock_fit f;
    cr_expect_eq(gb_ring_calibrate(NULL, 10, &f), GB_EINVAL);
    gb_ring *r = make_ring("cpu", GB_RING_PERSISTENT);
    cr_expect_eq(gb_ring_calibrate(r, 0, &f), GB_EINVAL);
    cr_expect_eq(gb_ring_set_clock(r, NULL), GB_EINVAL);
    gb_ring_destroy(r);
}
