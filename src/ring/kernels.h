/*
 * Internal: the ring's portable kernel sources compiled natively for the
 * host (the CPU backend and every host-side producer/consumer). The same
 * files are embedded as strings (cmake/GbEmbed.cmake) for OpenCL and NVRTC.
 */
#ifndef GBI_RING_KERNELS_H
#define GBI_RING_KERNELS_H

#include "gpubridge/kernel_lang.h"
#include "gpubridge/time.h" /* the cpu ring's device timer is gb_time_fast_ns */

#include "../../kernels/ring_queue.gbk"
#include "../../kernels/ring_api.gbk"

#endif
