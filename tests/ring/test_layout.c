/* The shared memory layout is the one docs/rings.md draws to the byte. */
#include <criterion/criterion.h>
#include <stddef.h>

#include "gpubridge/ring.h"
#include "ring/ring_internal.h"

Test(layout, ring_header_fields_sit_where_the_docs_say)
{
    cr_assert_eq(sizeof(gb_ring_shm), 384);
    cr_assert_eq(offsetof(gb_ring_shm, threads), 12);
    cr_assert_eq(offsetof(gb_ring_shm, state_size), 32);
    cr_assert_eq(offsetof(gb_ring_shm, batch), 40);
    cr_assert_eq(offsetof(gb_ring_shm, lane_stride), 56);
    cr_assert_eq(offsetof(gb_ring_shm, out_off), 64);
    cr_assert_eq(offsetof(gb_ring_shm, total_bytes), 72);
    cr_assert_eq(offsetof(gb_ring_shm, control), 128);
    cr_assert_eq(offsetof(gb_ring_shm, inflight), 256);
}

Test(layout, lane_info_and_queue_header_fields_sit_where_the_docs_say)
{
    cr_assert_eq(offsetof(gb_ring_lane_info, actors), 64);
    cr_assert_eq(offsetof(gb_ring_lane_info, table_off), 72);
    cr_assert_eq(offsetof(gb_ring_lane_info, queue_off), 88);
    cr_assert_eq(offsetof(gb_mpsc_queue, seq_off), 16);
    cr_assert_eq(offsetof(gb_mpsc_queue, total_bytes), 32);
    cr_assert_eq(offsetof(gb_mpsc_queue, tail), 128);
    cr_assert_eq(offsetof(gb_mpsc_queue, head), 256);
    cr_assert_eq(offsetof(gb_mpsc_queue, full_hits), 392);
    cr_assert_eq(sizeof(gb_ring_entry), 16);
}

static int32_t noop(uint8_t *s, const gb_msg_header *m, uint64_t h, struct gb_ring_ctx *c)
{
    return 0;
}

Test(layout, lane_blocks_follow_the_documented_formula)
{
    gb_ring_actor_type t = {.name = "n", .state_size = 40, .on_message = noop};
    gb_ring_opts o = {.lanes = 3, .lane_capacity = 8, .out_capacity = 16, .slot_size = 64,
                      .actors_per_lane = 4, .types = &t, .ntypes = 1};
    gb_ring *r = NULL;
    cr_assert_eq(gb_ring_create(&r, &o), GB_OK);
    gb_ring_shm *h = r->shm;
    /* T = 4, S = 48 (40 rounded to 16), C = 8, slot 64 */
    size_t states_off = 256;                     /* up128(128 + 16*4) */
    size_t queue_off = 512;                      /* up128(256 + 4*48) */
    size_t qbytes = 640 + 8 * 64;                /* up128(512 + 8*8) + 8*64 */
    cr_assert_eq(h->state_size, 48);
    cr_assert_eq(h->lanes_off, 384);
    cr_assert_eq(h->lane_stride, queue_off + qbytes);
    cr_assert_eq(h->out_off, 384 + 3 * h->lane_stride);
    cr_assert_eq(h->total_bytes, h->out_off + 640 + 16 * 64);
    cr_assert_eq(gb_ring_memory_bytes(r), h->total_bytes);
    for (uint32_t l = 0; l < 3; l++) {
        gb_ring_lane_info *ln = gb_ring_lane_at(h, l);
        cr_assert_eq(ln->table_off, 128);
        cr_assert_eq(ln->states_off, states_off);
        cr_assert_eq(ln->queue_off, queue_off);
        gb_mpsc_queue *q = gb_ring_lane_queue(h, l);
        cr_assert_eq(q->magic, 0x47425155u);
        cr_assert_eq(q->slots_off, 640);
    }
    cr_assert_eq(h->magic, 0x47425247u);
    gb_ring_destroy(r);
}
