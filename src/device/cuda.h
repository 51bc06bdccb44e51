/*
 * Internal: the parts of the cuda backend that need no GPU: NVRTC (opened
 * with dlopen) compiling portable kernel C to PTX, and the hand-written PTX
 * of the timer kernel. Used by cuda.c and by the tests that assemble the
 * PTX with ptxas.
 */
#ifndef GBI_DEVICE_CUDA_H
#define GBI_DEVICE_CUDA_H

#include "gpubridge/status.h"

/* The timer kernel gb_read_globaltimer(u64 *out): one thread stores
 * %globaltimer (ns) at out. PTX text, loaded with cuModuleLoadData. */
extern const char gbi_cuda_timer_ptx[];

/* Compile source (a whole program: kernel_lang.h first) with NVRTC for
 * arch ("compute_90", "sm_90": PTX either way), extra options separated by
 * spaces (may be NULL); the PTX into *ptx (malloc'd, NUL-terminated).
 * Errors: GB_ENOTSUP (no libnvrtc: what to install), GB_EPARSE (the head
 * of the compiler log in gb_last_error()), GB_ENOMEM, GB_EINVAL.
 * Thread-safe. */
gb_status gbi_cuda_ptx(const char *source, const char *arch, const char *options, char **ptx);

#endif
