/*
 * The host table of the ring test actors (test_actors.gbk, which must be
 * included first): counter (type 0) and chain (type 1), with the names of
 * their device functions for the backends that compile the source.
 */
#ifndef GB_TEST_ACTORS_TYPES_H
#define GB_TEST_ACTORS_TYPES_H

#include "gpubridge/ring.h"

static const gb_ring_actor_type k_types[2] = {
    {.name = "counter", .state_size = sizeof(ta_counter), .on_message = ta_counter_on_message,
     .device_fn = "ta_counter_on_message"},
    {.name = "chain", .state_size = sizeof(ta_chain), .on_message = ta_chain_on_message,
     .device_fn = "ta_chain_on_message"},
};

#endif
