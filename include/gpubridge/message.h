/*
 * Messages (DESIGN.md 4.1, contract): fixed-size slots of a 48-byte header
 * followed by the payload. The same layout is used by host code, by the
 * device rings and on the wire; all fields are little endian.
 */
#ifndef GPUBRIDGE_MESSAGE_H
#define GPUBRIDGE_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gb_msg_header {
    uint64_t target;      /* actor id */
    uint64_t sender;      /* actor id, 0 = external client */
    uint64_t hlc;         /* gb_hlc_t at send */
    uint64_t correlation; /* request id, 0 = one-way */
    uint32_t method;      /* gb_method_id(name): stable in every process */
    uint32_t flags;       /* GB_MSG_* */
    uint32_t payload_len; /* bytes of payload that follow */
    uint32_t reserved;
} gb_msg_header;

_Static_assert(sizeof(gb_msg_header) == 48, "gb_msg_header is 48 bytes (DESIGN.md 4.1)");
_Static_assert(offsetof(gb_msg_header, method) == 32, "gb_msg_header layout (DESIGN.md 4.1)");

/* flags */
#define GB_MSG_ONEWAY 0x1u   /* no response expected */
#define GB_MSG_RESPONSE 0x2u /* this is the response to `correlation` */
#define GB_MSG_ERROR 0x4u    /* response carrying an error: payload is int32 gb_status + text */
#define GB_MSG_TIMER 0x8u    /* delivered by an actor timer */
#define GB_MSG_SYSTEM 0x10u  /* runtime-internal control message */

/* slot sizes: a power of two from 64 to 4096 bytes, header included */
#define GB_MSG_SLOT_MIN 64u
#define GB_MSG_SLOT_DEFAULT 256u
#define GB_MSG_SLOT_MAX 4096u
#define GB_MSG_HEADER_SIZE 48u

/* Largest payload that fits a slot of slot_size bytes (0 if slot_size is not
 * a valid slot size). Thread-safe. */
static inline uint32_t gb_msg_max_payload(uint32_t slot_size)
{
    if (slot_size < GB_MSG_SLOT_MIN || slot_size > GB_MSG_SLOT_MAX || (slot_size & (slot_size - 1)))
        return 0;
    return slot_size - GB_MSG_HEADER_SIZE;
}

/* Method id of a method name: the low 32 bits of gb_hash_str(name), the same
 * in every process and on every machine. Thread-safe. */
uint32_t gb_method_id(const char *name);

#ifdef __cplusplus
}
#endif
#endif
