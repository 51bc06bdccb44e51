/*
 * Test support: message headers for the ring tests (tests/ring,
 * tests/device), so every ring test builds its messages the same way.
 */
#ifndef GB_TEST_RING_MSG_H
#define GB_TEST_RING_MSG_H

#include <stdint.h>

#include "gpubridge/ring.h"

/* A header to target's method with payload_len len and HLC 1000: a call
 * with correlation corr, or one-way (GB_MSG_ONEWAY) when corr is 0. */
gb_msg_header gbt_hdr(uint64_t target, uint32_t method, uint64_t corr, uint32_t len);

#endif
