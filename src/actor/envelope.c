/*
 * Message envelopes: one allocation holding the runtime's link and
 * bookkeeping, the contract gb_msg_header, the payload right after it (so
 * header + payload are contiguous, as on a ring or a socket) and, for
 * requests, the call chain after the payload (8-byte aligned).
 */
#include <stdlib.h>
#include <string.h>

#include "actor/runtime.h"

gbi_msg *gbi_msg_new(uint32_t payload_len, uint16_t chain_len)
{
    size_t pay = ((size_t)payload_len + 7u) & ~(size_t)7u;
    size_t size = sizeof(gbi_msg) + pay + (size_t)chain_len * sizeof(uint64_t);
    gbi_msg *m = malloc(size);
    if (!m)
        return NULL;
    memset(m, 0, sizeof *m);
    m->kind = GBI_MSG_USER;
    m->chain_len = chain_len;
    m->alloc_payload = payload_len;
    m->hdr.payload_len = payload_len;
    return m;
}

void gbi_msg_free(gbi_msg *m)
{
    free(m);
}
