/* The opencl backend on PoCL: loader errors, build errors, persistent and
 * event-driven rings, and the same actors giving the same results on cpu
 * and OpenCL (tests/ring/test_actors.gbk is compiled natively here and
 * handed to clBuildProgram as source). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpubridge/ring.h"
#include "ring/kernels.h"
#include "support/ring_msg.h"

#include "../ring/test_actors.gbk"
#include "../ring/test_actors_types.h"

static char *read_actors_source(void)
{
    FILE *f = fopen(GB_SOURCE_DIR "/tests/ring/test_actors.gbk", "rb");
    cr_assert_not_null(f);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static gb_ring_opts opts(const char *backend, gb_ring_mode mode)
{
    gb_ring_opts o = {0};
    o.backend = backend;
    o.mode = mode;
    o.lanes = 4;
    o.types = k_types;
    o.ntypes = 2;
    o.device_source = read_actors_source();
    return o;
}

/* Create with o, or skip when this machine has no usable o->backend. */
static gb_ring *create_or_skip(const gb_ring_opts *o)
{
    gb_ring *r = NULL;
    gb_status st = gb_ring_create(&r, o);
    if (st == GB_ENOTSUP)
        cr_skip_test("no %s here: %s", o->backend, gb_last_error());
    cr_assert_eq(st, GB_OK, "create %s: %s", o->backend, gb_last_error());
    return r;
}

static gb_ring *make(const char *backend, gb_ring_mode mode)
{
    gb_ring_opts o = opts(backend, mode);
    return create_or_skip(&o);
}

Test(opencl, missing_library_is_enotsup_with_what_to_install)
{
    setenv("GB_OPENCL_LIBRARY", "/nonexistent/libOpenCL.so.1", 1);
    gb_ring_opts o = opts("opencl", GB_RING_PERSISTENT);
    gb_ring *r = NULL;
    cr_assert_eq(gb_ring_create(&r, &o), GB_ENOTSUP);
    cr_assert_not_null(strstr(gb_last_error(), "pocl-opencl-icd"), "%s", gb_last_error());
    cr_assert_not_null(strstr(gb_last_error(), "ocl-icd-libopencl1"));
    cr_assert_null(r);
}

Test(opencl, no_platform_is_enotsup_with_what_to_install)
{
    /* ocl-icd reads the vendor list from OCL_ICD_VENDORS: an empty folder
     * means a working loader with no platform behind it */
    char dir[] = "/tmp/gb-no-icd-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    setenv("OCL_ICD_VENDORS", dir, 1);
    gb_ring_opts o = opts("opencl", GB_RING_PERSISTENT);
    gb_ring *r = NULL;
    gb_status st = gb_ring_create(&r, &o);
    rmdir(dir);
    cr_assert_eq(st, GB_ENOTSUP, "%s", gb_last_error());
    cr_assert_not_null(strstr(gb_last_error(), "pocl-opencl-icd"), "%s", gb_last_error());
    cr_assert_null(r);
}

Test(opencl, bad_kernel_source_is_eparse_with_the_build_log)
{
    gb_ring_opts o = opts("opencl", GB_RING_PERSISTENT);
    o.device_source = "GB_DEVICE_FN gb_i32 ta_counter_on_message(int x) { return y; }\n";
    gb_ring *r = NULL;
    gb_status st = gb_ring_create(&r, &o);
    if (st == GB_ENOTSUP)
        cr_skip_test("no OpenCL here: %s", gb_last_error());
    cr_assert_eq(st, GB_EPARSE, "%s", gb_last_error());
    cr_assert_not_null(strstr(gb_last_error(), "device_source"), "the log names the file: %s", gb_last_error());
    cr_assert_null(r);
}

Test(opencl, handler_name_must_be_an_identifier)
{
    gb_ring_actor_type t = k_types[0];
    t.device_fn = "x; evil()";
    gb_ring_opts o = opts("opencl", GB_RING_PERSISTENT);
    o.types = &t;
    o.ntypes = 1;
    gb_ring *r = NULL;
    gb_status st = gb_ring_create(&r, &o);
    cr_assert(st == GB_EINVAL || st == GB_ENOTSUP, "%d", st);
}

static void request_and_chain(const char *backend, gb_ring_mode mode)
{
    gb_ring *r = make(backend, mode);
    cr_assert_str_eq(gb_ring_backend(r), backend);
    cr_assert_eq(gb_ring_start(r), GB_OK, "%s", gb_last_error());
    uint64_t pl[3] = {5, 0, 1};
    gb_msg_header h = gbt_hdr(42, TA_ADD, 0, sizeof pl);
    cr_assert_eq(gb_ring_send(r, 0, &h, pl, GB_SEND_BLOCK), GB_OK);
    h = gbt_hdr(42, TA_GET, 77, 0);
    cr_assert_eq(gb_ring_send(r, 0, &h, NULL, GB_SEND_BLOCK), GB_OK);
    gb_msg_header o;
    uint64_t got[4];
    cr_assert_eq(gb_ring_recv(r, &o, got, sizeof got, 10000000000LL), GB_OK);
    cr_assert_eq(o.correlation, 77);
    cr_assert_eq(got[0], 1);
    cr_assert_eq(got[1], 5);
    uint64_t chain[2] = {6, 9};
    h = gbt_hdr(900, TA_CHAIN, 0, sizeof chain);
    cr_assert_eq(gb_ring_send(r, 1, &h, chain, GB_SEND_BLOCK), GB_OK);
    cr_assert_eq(gb_ring_recv(r, &o, got, sizeof got, 10000000000LL), GB_OK);
    cr_assert_eq(got[0], 9);
    cr_assert_eq(got[1], 906, "K2K went through six actors on the device");
    cr_assert_eq(gb_ring_stop(r, GB_RING_DRAIN), GB_OK, "%s", gb_last_error());
    gb_ring_counters c;
    gb_ring_get_counters(r, &c);
    cr_assert_eq(c.k2k_sent, 6);
    cr_assert_eq(c.handled, 9);
    cr_assert_eq(c.inflight, 0);
    gb_ring_destroy(r);
}

Test(opencl, persistent_ring_answers_and_forwards_on_device)
{
    request_and_chain("opencl", GB_RING_PERSISTENT);
}

/* The same on a CUDA GPU (skipped without the NVIDIA driver and a GPU). */
Test(opencl, cuda_persistent_ring_answers_and_forwards_on_device)
{
    request_and_chain("cuda", GB_RING_PERSISTENT);
}

Test(opencl, cuda_event_driven_ring_answers_and_forwards_on_device)
{
    request_and_chain("cuda", GB_RING_EVENT_DRIVEN);
}

Test(opencl, event_driven_ring_answers_and_forwards_on_device)
{
    request_and_chain("opencl", GB_RING_EVENT_DRIVEN);
}

/* ---- same actors, same results --------------------------------------------- */

#define ACTORS 12
#define MSGS 3000

typedef struct outcome {
    ta_counter counters[ACTORS];
    ta_chain chains[ACTORS];
    uint64_t replies[MSGS / 100][2];
    gb_ring_counters c;
} outcome;

static void workload(gb_ring *r, outcome *out)
{
    uint64_t seq[ACTORS] = {0};
    uint32_t nreq = 0;
    for (uint64_t i = 0; i < MSGS; i++) {
        uint64_t a = (i * 5) % ACTORS;
        uint64_t pl[3] = {i * i % 1000, 0, ++seq[a]};
        gb_msg_header h = gbt_hdr(10 + a, TA_ADD, i % 100 == 0 ? ++nreq : 0, sizeof pl);
        cr_assert_eq(gb_ring_send(r, 0, &h, pl, GB_SEND_SPILL), GB_OK);
        if (i % 250 == 0) {
            uint64_t ch[2] = {ACTORS - 1, i};
            gb_msg_header c = gbt_hdr(1000, TA_CHAIN, 0, sizeof ch);
            cr_assert_eq(gb_ring_send(r, 1, &c, ch, GB_SEND_BLOCK), GB_OK);
        }
    }
    cr_assert_eq(gb_ring_stop(r, GB_RING_DRAIN), GB_OK, "%s", gb_last_error());
    memset(out, 0, sizeof *out);
    gb_msg_header o;
    uint64_t pl[4];
    while (gb_ring_recv(r, &o, pl, sizeof pl, 0) == GB_OK)
        if (o.flags & GB_MSG_RESPONSE) {
            cr_assert_leq(o.correlation, MSGS / 100);
            memcpy(out->replies[o.correlation - 1], pl, 16);
        }
    for (uint64_t a = 0; a < ACTORS; a++) {
        cr_assert_eq(gb_ring_read_state(r, 10 + a, &out->counters[a], sizeof(ta_counter)), GB_OK);
        cr_assert_eq(gb_ring_read_state(r, 1000 + a, &out->chains[a], sizeof(ta_chain)), GB_OK);
    }
    gb_ring_get_counters(r, &out->c);
}

/* Lanes big enough that no K2K send finds its lane full (a full lane
 * refuses a device-side send, which would make the outcome timing-bound). */
static gb_ring *make_roomy(const char *backend, gb_ring_mode mode)
{
    gb_ring_opts o = opts(backend, mode);
    o.lane_capacity = 4096;
    return create_or_skip(&o);
}

static void same_as_cpu(gb_ring_mode mode)
{
    static outcome cpu, ocl;
    gb_ring *r = make_roomy("opencl", mode);
    cr_assert_eq(gb_ring_start(r), GB_OK);
    workload(r, &ocl);
    gb_ring_destroy(r);
    r = make_roomy("cpu", mode);
    cr_assert_eq(gb_ring_start(r), GB_OK);
    workload(r, &cpu);
    gb_ring_destroy(r);
    cr_assert_eq(memcmp(cpu.counters, ocl.counters, sizeof cpu.counters), 0, "counter states differ");
    cr_assert_eq(memcmp(cpu.chains, ocl.chains, sizeof cpu.chains), 0, "chain states differ");
    cr_assert_eq(memcmp(cpu.replies, ocl.replies, sizeof cpu.replies), 0, "replies differ");
    cr_assert_eq(cpu.c.handled, ocl.c.handled);
    cr_assert_eq(cpu.c.k2k_sent, ocl.c.k2k_sent);
    cr_assert_eq(cpu.c.emitted, ocl.c.emitted);
    cr_assert_eq(ocl.c.send_failed, 0);
    cr_assert_eq(cpu.c.send_failed, 0);
    cr_assert_eq(ocl.c.handled, MSGS + 12 * ACTORS);
    for (int a = 0; a < ACTORS; a++)
        cr_assert_eq(ocl.counters[a].violations, 0);
}

Test(opencl, persistent_ring_gives_the_same_results_as_cpu)
{
    same_as_cpu(GB_RING_PERSISTENT);
}

Test(opencl, event_driven_ring_gives_the_same_results_as_cpu)
{
    same_as_cpu(GB_RING_EVENT_DRIVEN);
}

Test(opencl, abort_stops_a_persistent_kernel_and_counts_the_rest)
{
    gb_ring_opts o = opts("opencl", GB_RING_PERSISTENT);
    o.lanes = 1;
    o.lane_capacity = 8;
    gb_ring *r = create_or_skip(&o);
    for (uint64_t i = 1; i <= 20; i++) {
        uint64_t pl[3] = {1, 0, i};
        gb_msg_header h = gbt_hdr(5, TA_ADD, 0, sizeof pl);
        cr_assert_eq(gb_ring_send(r, 0, &h, pl, GB_SEND_SPILL), GB_OK);
    }
    cr_assert_eq(gb_ring_start(r), GB_OK);
    cr_assert_eq(gb_ring_stop(r, GB_RING_ABORT), GB_OK, "%s", gb_last_error());
    gb_ring_counters c;
    gb_ring_get_counters(r, &c);
    cr_assert_eq(c.handled + c.discarded, 20, "handled %llu + discarded %llu", (unsigned long long)c.handled,
                 (unsigned long long)c.discarded);
    gb_ring_destroy(r);
}

Test(opencl, spilled_messages_reach_an_event_driven_kernel_in_order)
{
    gb_ring_opts o = opts("opencl", GB_RING_EVENT_DRIVEN);
    o.lanes = 2;
    o.lane_capacity = 4;
    gb_ring *r = create_or_skip(&o);
    cr_assert_eq(gb_ring_start(r), GB_OK);
    for (uint64_t i = 1; i <= 500; i++) {
        uint64_t pl[3] = {i, 1, i};
        gb_msg_header h = gbt_hdr(8, TA_ADD, 0, sizeof pl);
        cr_assert_eq(gb_ring_send(r, 0, &h, pl, GB_SEND_SPILL), GB_OK);
    }
    cr_assert_eq(gb_ring_stop(r, GB_RING_DRAIN), GB_OK, "%s", gb_last_error());
    ta_counter s;
    cr_assert_eq(gb_ring_read_state(r, 8, &s, sizeof s), GB_OK);
    cr_assert_eq(s.count, 500);
    cr_assert_eq(s.sum, 500 * 501 / 2);
    cr_assert_eq(s.violations, 0);
    gb_ring_destroy(r);
}

Test(opencl, persistent_ring_refuses_more_threads_than_compute_units)
{
    gb_ring_opts o = opts("opencl", GB_RING_PERSISTENT);
    o.lanes = 1024;
    o.threads = 1024;
    o.lane_capacity = 2;
    o.out_capacity = 2;
    o.actors_per_lane = 1;
    gb_ring *r = create_or_skip(&o);
    cr_assert_eq(gb_ring_start(r), GB_EINVAL, "1024 polling work-groups cannot all be resident");
    cr_assert_not_null(strstr(gb_last_error(), "compute units"));
    gb_ring_destroy(r);
}

Test(opencl, cuda_backend_says_what_is_missing)
{
    gb_ring_opts o = opts("cuda", GB_RING_PERSISTENT);
    gb_ring *r = NULL;
    gb_status st = gb_ring_create(&r, &o);
    if (st == GB_OK) {
        gb_ring_destroy(r);
        cr_skip_test("a CUDA GPU and its driver are here: nothing is missing");
    }
    cr_assert_eq(st, GB_ENOTSUP);
    cr_assert_not_null(strstr(gb_last_error(), "libcuda"), "%s", gb_last_error());
}
