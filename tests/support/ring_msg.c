/* Test support: the ring tests' message headers (ring_msg.h). */
#include "support/ring_msg.h"

#include <string.h>

gb_msg_header gbt_hdr(uint64_t target, uint32_t method, uint64_t corr, uint32_t len)
{
    gb_msg_header h;
    memset(&h, 0, sizeof h);
    h.target = target;
    h.method = method;
    h.correlation = corr;
    h.hlc = 1000;
    h.flags = corr ? 0 : GB_MSG_ONEWAY;
    h.payload_len = len;
    return h;
}
