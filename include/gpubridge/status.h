/*
 * gpubridge status codes and per-thread error detail.
 *
 * Every fallible function returns a gb_status: GB_OK (0) or a negative error.
 * gb_strerror() gives a sentence, gb_status_name() the enum name, and
 * gb_last_error() the detail of the last error raised on the calling thread
 * ("where: what", e.g. the file:line:col of a DSL error or a backend code).
 */
#ifndef GPUBRIDGE_STATUS_H
#define GPUBRIDGE_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gb_status {
    GB_OK = 0,
    GB_EINVAL = -1,     /* invalid argument or malformed input */
    GB_ENOMEM = -2,     /* out of memory (host or device) */
    GB_ENOTSUP = -3,    /* not supported here: a backend or package is missing */
    GB_EAGAIN = -4,     /* would block: queue or mailbox full, try again */
    GB_ETIMEDOUT = -5,  /* deadline passed */
    GB_EDEADLK = -6,    /* the call would close a cycle of waiting actors */
    GB_ECLOCK = -7,     /* remote timestamp beyond the allowed clock offset */
    GB_EORDER = -8,     /* input older than what was already accepted */
    GB_EPARSE = -9,     /* source text could not be parsed or compiled */
    GB_ENOENT = -10,    /* no such object (type, kernel, device, key) */
    GB_EEXIST = -11,    /* already exists or already registered */
    GB_EDEVICE = -12,   /* the device or backend failed */
    GB_ECLOSED = -13,   /* the object is shut down or shutting down */
    GB_EMSGSIZE = -14,  /* message or payload too large */
    GB_EIO = -15,       /* input/output error (files, sockets) */
    GB_EBUSY = -16,     /* resource in use */
    GB_ECANCELED = -17, /* operation cancelled */
    GB_ERANGE = -18,    /* value out of range or counter overflow */
    GB_EINTERNAL = -19  /* broken invariant inside gpubridge: please report */
} gb_status;

/* Human sentence for a status; never NULL, unknown codes give a generic text.
 * Thread-safe (returns a static string). */
const char *gb_strerror(int status);

/* The enum name of a status ("GB_EINVAL"); "GB_UNKNOWN" for unknown codes.
 * Thread-safe. */
const char *gb_status_name(int status);

/* Detail of the last error raised on the calling thread ("" if none).
 * The buffer is per-thread and overwritten by the next error on that thread.
 * Thread-safe. */
const char *gb_last_error(void);

/* Clear the calling thread's last-error detail. Thread-safe. */
void gb_clear_error(void);

#ifdef __cplusplus
}
#endif
#endif
