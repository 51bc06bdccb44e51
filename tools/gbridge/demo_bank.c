/*
 * The bank of `gbridge demo`: one ring of account actors
 * (kernels/demo_account.gbk, one handler for every backend) on the first
 * backend of the broker chain that works (--device, else $GB_DEVICES, else
 * cuda,opencl,cpu). A backend whose ring cannot be created or started is
 * reported to the broker and the next one is tried; the reasons are kept
 * for the summary.
 *
 * Flow control: the caller keeps at most `window` transfers in flight, and
 * every transfer yields exactly one ACK, so an outbound queue of 2 x window
 * slots never fills; lanes hold 2 x window slots (debits + credits) so K2K
 * credits are practically never refused (a refused one is resent by the
 * host, counted in credits_resent).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "gb_embed_demo_account.h"
#include "gpubridge/broker.h"
#include "gpubridge/clock.h"
#include "gpubridge/ring.h"
#include "ring/kernels.h"

#include "../../kernels/demo_account.gbk"

struct demo_bank {
    gb_ring *ring;
    gb_broker *broker;
    gb_hlc *hlc;
    uint32_t broker_index;
    char backend[32];
    char device[128];
    uint64_t credits_resent;
    uint32_t window;
};

/* The in-flight window for a backend when the user gave none. Little's
 * law: latency ~ window / rate, so a short window where the ring's consumer
 * shares the host's memory (cpu threads, PoCL); a GPU behind PCIe wants
 * deep batches. A short window also keeps the lanes' slots in cache. */
static uint32_t default_window(const char *backend)
{
    return strcmp(backend, "cuda") == 0 ? 4096 : 64;
}

static uint32_t pow2_at_least(uint64_t x)
{
    uint32_t p = 1;
    while (p < x && p < (1u << 20))
        p <<= 1;
    return p;
}

static gb_status try_backend(demo_bank *b, const char *backend, const demo_opts *o, uint32_t window)
{
    if (!window)
        window = default_window(backend);
    static const gb_ring_actor_type type = {.name = "account",
                                            .state_size = sizeof(demo_account),
                                            .on_message = demo_account_on_message,
                                            .device_fn = "demo_account_on_message"};
    gb_ring_opts ro = {0};
    ro.backend = backend;
    ro.mode = GB_RING_PERSISTENT;
    ro.lanes = 4;
    ro.threads = 1;
    ro.lane_capacity = pow2_at_least(2ull * window);
    ro.out_capacity = pow2_at_least(2ull * window);
    ro.slot_size = 128;
    ro.actors_per_lane = pow2_at_least(2ull * o->accounts / ro.lanes + 64);
    ro.types = &type;
    ro.ntypes = 1;
    ro.device_source = gb_embed_demo_account;
    gb_status st = gb_ring_create(&b->ring, &ro);
    if (st == GB_OK && (st = gb_ring_start(b->ring)) != GB_OK) {
        gb_ring_destroy(b->ring);
        b->ring = NULL;
    }
    return st;
}

static void note(char *why, size_t len, const char *backend, const char *reason)
{
    size_t n = strlen(why);
    if (n + 8 < len)
        snprintf(why + n, len - n, "%s%s: %s", n ? "; " : "", backend, reason);
}

static int pick(demo_bank *b, const demo_opts *o, uint32_t window, char *why, size_t whylen)
{
    uint32_t i = 0, idx;
    while (gb_broker_acquire(b->broker, i, &idx) == GB_OK) {
        gb_broker_device d;
        gb_broker_get(b->broker, idx, &d);
        gb_status st = try_backend(b, d.info.backend, o, window);
        if (st == GB_OK) {
            gb_broker_report(b->broker, idx, GB_OK, NULL);
            b->broker_index = idx;
            b->window = window ? window : default_window(d.info.backend);
            snprintf(b->backend, sizeof b->backend, "%s", d.info.backend);
            snprintf(b->device, sizeof b->device, "%s", d.info.name);
            return 0;
        }
        note(why, whylen, d.info.backend, gb_last_error());
        gb_broker_report(b->broker, idx, st, gb_last_error());
        i = idx + 1;
    }
    for (uint32_t k = 0; k < gb_broker_count(b->broker); k++) {
        gb_broker_device d;
        if (gb_broker_get(b->broker, k, &d) == GB_OK && !d.available)
            note(why, whylen, d.info.backend, d.why_unavailable);
    }
    return -1;
}

int demo_bank_create(demo_bank **out, const demo_opts *o, uint32_t window, char *why, size_t whylen)
{
    demo_bank *b = calloc(1, sizeof *b);
    if (!b)
        return -1;
    why[0] = '\0';
    gb_broker_opts bo = {.chain = o->device};
    if (gb_broker_create(&b->broker, &bo) != GB_OK) {
        snprintf(why, whylen, "device chain: %s", gb_last_error());
        goto fail;
    }
    if (gb_hlc_create(&b->hlc, NULL) != GB_OK || pick(b, o, window, why, whylen) != 0)
        goto fail;
    *out = b;
    return 0;
fail:
    demo_bank_destroy(b);
    return -1;
}

void demo_bank_destroy(demo_bank *b)
{
    if (!b)
        return;
    gb_ring_destroy(b->ring);
    gb_broker_destroy(b->broker);
    gb_hlc_destroy(b->hlc);
    free(b);
}

const char *demo_bank_backend(const demo_bank *b) { return b->backend; }
const char *demo_bank_device(const demo_bank *b) { return b->device; }
uint32_t demo_bank_window(const demo_bank *b) { return b->window; }

gb_status demo_bank_submit(demo_bank *b, const demo_tx *tx, uint32_t n)
{
    gb_msg_header h[DEMO_BATCH_MAX];
    uint64_t p[DEMO_BATCH_MAX][4];
    const void *pp[DEMO_BATCH_MAX];
    if (n > DEMO_BATCH_MAX)
        return GB_EINVAL;
    for (uint32_t i = 0; i < n; i++) {
        p[i][0] = tx[i].id;
        p[i][1] = tx[i].target;
        p[i][2] = (uint64_t)tx[i].ts_ns;
        p[i][3] = tx[i].value;
        pp[i] = p[i];
        h[i] = (gb_msg_header){.target = tx[i].source, .hlc = gb_hlc_now(b->hlc), .method = DEMO_M_TRANSFER,
                               .flags = GB_MSG_ONEWAY, .payload_len = sizeof p[i]};
    }
    return gb_ring_send_batch(b->ring, 0, h, pp, n, GB_SEND_BLOCK, NULL);
}

/* A credit the account actor could not send (its lane was full): resend it
 * from the host; spilling never blocks the receiving thread. */
static gb_status resend_credit(demo_bank *b, const demo_tx *tx)
{
    uint64_t p[2] = {tx->value, tx->id};
    gb_msg_header h = {.target = tx->target, .hlc = gb_hlc_now(b->hlc), .method = DEMO_M_CREDIT,
                       .flags = GB_MSG_ONEWAY, .payload_len = sizeof p};
    b->credits_resent++;
    return gb_ring_send(b->ring, 0, &h, p, GB_SEND_SPILL);
}

gb_status demo_bank_receive(demo_bank *b, demo_tx *tx, uint64_t *hlc, uint32_t max, uint32_t *got,
                            int64_t timeout_ns)
{
    gb_msg_header h[DEMO_BATCH_MAX];
    uint64_t p[DEMO_BATCH_MAX][DEMO_ACK_WORDS];
    *got = 0;
    gb_status st = gb_ring_recv_batch(b->ring, h, p, sizeof p[0], max < DEMO_BATCH_MAX ? max : DEMO_BATCH_MAX,
                                      got, timeout_ns);
    for (uint32_t i = 0; st == GB_OK && i < *got; i++) {
        if (h[i].method != DEMO_M_ACK || h[i].payload_len != sizeof p[i])
            return GB_EINTERNAL;
        tx[i] = (demo_tx){.id = p[i][0], .source = p[i][1], .target = p[i][2], .ts_ns = (int64_t)p[i][3],
                          .value = p[i][4], .case_index = -1};
        hlc[i] = h[i].hlc;
        if (!(p[i][6] >> 32))
            st = resend_credit(b, &tx[i]);
    }
    return st;
}

gb_status demo_bank_stop(demo_bank *b) { return gb_ring_stop(b->ring, GB_RING_DRAIN); }

uint64_t demo_bank_credits_resent(const demo_bank *b) { return b->credits_resent; }
