/*
 * Portable kernel C (DESIGN.md 4.2): one small dialect in which the ring
 * queue, the dispatch loop and user actor handlers are written once and
 * compiled three ways:
 *
 *   host     C11 with <stdatomic.h> (the CPU backend; any C11 compiler)
 *   OpenCL   OpenCL C 3.0 (clBuildProgram ... -cl-std=CL3.0)
 *   CUDA     NVRTC (__nv_atomic_* builtins; checked with CUDA 13.0 for sm_90)
 *
 * The header is self-contained: it is embedded as the first part of every
 * device program, so it includes nothing on the device side and defines
 * everything kernel sources use. Kernel sources (*.gbk) may use only what is
 * defined here plus plain C expressions and statements: no library calls,
 * no function pointers, no recursion, no variable-length arrays.
 *
 * Atomics name their memory order and their scope. The unsuffixed forms have
 * *system* scope (visible to host threads and other devices: what a queue in
 * memory shared with the host needs); the _device forms are only ordered
 * among threads of one device. On the host both are the same.
 *
 *   gb_atomic_load_{relaxed,acquire,seq_cst}[_device](p)
 *   gb_atomic_store_{relaxed,release,seq_cst}[_device](p, v)
 *   gb_atomic_fetch_add_{relaxed,acq_rel,seq_cst}[_device](p, v)   -> old value
 *   gb_atomic_cas_{relaxed,acq_rel,seq_cst}[_device](p, &expected, desired)
 *        strong compare-exchange; returns nonzero on success, else stores
 *        the current value into expected (the failure order is relaxed for
 *        _relaxed, acquire for _acq_rel, seq_cst for _seq_cst)
 *   gb_fence_{acquire,release,seq_cst}[_device]()
 *
 * p points to a gb_atomic_u32 or gb_atomic_u64 (in GB_GLOBAL memory on
 * devices). OpenCL notes: PoCL's CPU device orders SVM atomics with
 * memory_scope_device and does not offer all-SVM-devices fences, so the
 * system scope maps to memory_scope_device unless the program is built with
 * -DGB_OCL_SYSTEM_SCOPE=memory_scope_all_svm_devices (a GPU with fine-grain
 * system SVM). CUDA notes: NVRTC's __nv_atomic builtins take the scope as
 * an argument; we never use cuda::atomic_ref (no libcu++ in the program).
 */
#ifndef GPUBRIDGE_KERNEL_LANG_H
#define GPUBRIDGE_KERNEL_LANG_H

/* ---- which compiler ---------------------------------------------------- */
#if defined(__OPENCL_VERSION__) || defined(__OPENCL_C_VERSION__)
#define GB_LANG_OPENCL 1
#elif defined(__CUDACC_RTC__) || defined(__CUDACC__)
#define GB_LANG_CUDA 1
#else
#define GB_LANG_HOST 1
#endif

/* Compile-time assertion usable on every backend (no _Static_assert in
 * OpenCL C or NVRTC's C++ mode without extra flags). */
#define GB_KCAT2(a, b) a##b
#define GB_KCAT(a, b) GB_KCAT2(a, b)
#define GB_STATIC_ASSERT(cond, name) typedef char GB_KCAT(gb_static_assert_, name)[(cond) ? 1 : -1]
/* Field offset check. NVRTC has neither offsetof nor __builtin_offsetof
 * (and no headers), so on CUDA only the sizes are checked; the host and
 * OpenCL builds check the offsets of the same structs. */
#if defined(__CUDACC_RTC__) || defined(__CUDACC__)
#define GB_STATIC_ASSERT_OFFSET(type, field, off, name) typedef char GB_KCAT(gb_static_assert_, name)[1]
#else
#define GB_STATIC_ASSERT_OFFSET(type, field, off, name) GB_STATIC_ASSERT(GB_OFFSETOF(type, field) == (off), name)
#endif

/* ======================================================================== */
#if defined(GB_LANG_HOST)
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "gpubridge/message.h"

typedef uint8_t gb_u8;
typedef uint16_t gb_u16;
typedef uint32_t gb_u32;
typedef uint64_t gb_u64;
typedef int32_t gb_i32;
typedef int64_t gb_i64;
typedef _Atomic(uint32_t) gb_atomic_u32;
typedef _Atomic(uint64_t) gb_atomic_u64;

#define GB_KERNEL void
#define GB_GLOBAL
#define GB_DEVICE_FN static inline
#define GB_OFFSETOF(t, f) offsetof(t, f)

/* GB_DUAL_SOURCE(name, code...): compile code natively AND keep its text
 * in `static const char name[]`, to hand to OpenCL/NVRTC: one definition
 * of small handlers inside a C file. The code may not contain preprocessor
 * directives or unbalanced parentheses; kernels/ *.gbk files embedded with
 * gb_embed_kernel_source (cmake/GbEmbed.cmake) have no such limits. */
#define GB_DUAL_SOURCE(name, ...) __VA_ARGS__ static const char name[] = #__VA_ARGS__;

/* Host "thread index": the CPU backend passes the thread index explicitly
 * to the dispatch entry points, so there is no implicit id on the host. */

#define GBK_LOAD(p, o) atomic_load_explicit((p), (o))
#define GBK_STORE(p, v, o) atomic_store_explicit((p), (v), (o))
#define GBK_ADD(p, v, o) atomic_fetch_add_explicit((p), (v), (o))
#define GBK_CAS(p, e, d, s, f) atomic_compare_exchange_strong_explicit((p), (e), (d), (s), (f))
#define GBK_FENCE(o) atomic_thread_fence(o)
#define GBK_RELAXED memory_order_relaxed
#define GBK_ACQUIRE memory_order_acquire
#define GBK_RELEASE memory_order_release
#define GBK_ACQ_REL memory_order_acq_rel
#define GBK_SEQ_CST memory_order_seq_cst
#define GBK_SCOPED(x, scope) x /* one scope on the host */

/* ======================================================================== */
#elif defined(GB_LANG_OPENCL)
#pragma OPENCL EXTENSION cl_khr_int64_base_atomics : enable
#pragma OPENCL EXTENSION cl_khr_int64_extended_atomics : enable

typedef uchar gb_u8;
typedef ushort gb_u16;
typedef uint gb_u32;
typedef ulong gb_u64;
typedef int gb_i32;
typedef long gb_i64;
typedef atomic_uint gb_atomic_u32;
typedef atomic_ulong gb_atomic_u64;

#define GB_KERNEL __kernel void
#define GB_GLOBAL __global
#define GB_DEVICE_FN static inline
#define GB_OFFSETOF(t, f) __builtin_offsetof(t, f)

#ifndef GB_OCL_SYSTEM_SCOPE
#define GB_OCL_SYSTEM_SCOPE memory_scope_device
#endif
#define GB_SCOPE_SYSTEM GB_OCL_SYSTEM_SCOPE
#define GB_SCOPE_DEVICE memory_scope_device

#define GBK_LOADS(p, o, s) atomic_load_explicit((p), (o), (s))
#define GBK_STORES(p, v, o, s) atomic_store_explicit((p), (v), (o), (s))
#define GBK_ADDS(p, v, o, s) atomic_fetch_add_explicit((p), (v), (o), (s))
#define GBK_CASS(p, e, d, so, fo, s) atomic_compare_exchange_strong_explicit((p), (e), (d), (so), (fo), (s))
#define GBK_FENCES(o, s) atomic_work_item_fence(CLK_GLOBAL_MEM_FENCE, (o), (s))
#define GBK_RELAXED memory_order_relaxed
#define GBK_ACQUIRE memory_order_acquire
#define GBK_RELEASE memory_order_release
#define GBK_ACQ_REL memory_order_acq_rel
#define GBK_SEQ_CST memory_order_seq_cst

#define gb_global_id() ((gb_u32)get_global_id(0))
#define gb_global_size() ((gb_u32)get_global_size(0))

/* ======================================================================== */
#elif defined(GB_LANG_CUDA)
typedef unsigned char gb_u8;
typedef unsigned short gb_u16;
typedef unsigned int gb_u32;
typedef unsigned long long gb_u64;
typedef int gb_i32;
typedef long long gb_i64;
/* CUDA has no atomic object types: atomics are builtins over plain words. */
typedef gb_u32 gb_atomic_u32;
typedef gb_u64 gb_atomic_u64;

#define GB_KERNEL extern "C" __global__ void
#define GB_GLOBAL
#define GB_DEVICE_FN static __device__ __forceinline__
#define GB_SCOPE_SYSTEM __NV_THREAD_SCOPE_SYSTEM
#define GB_SCOPE_DEVICE __NV_THREAD_SCOPE_DEVICE

#define GBK_LOADS(p, o, s) __nv_atomic_load_n((p), (o), (s))
#define GBK_STORES(p, v, o, s) __nv_atomic_store_n((p), (v), (o), (s))
#define GBK_ADDS(p, v, o, s) __nv_atomic_fetch_add((p), (v), (o), (s))
#define GBK_CASS(p, e, d, so, fo, s) __nv_atomic_compare_exchange_n((p), (e), (d), false, (so), (fo), (s))
#define GBK_FENCES(o, s) __nv_atomic_thread_fence((o), (s))
#define GBK_RELAXED __NV_ATOMIC_RELAXED
#define GBK_ACQUIRE __NV_ATOMIC_ACQUIRE
#define GBK_RELEASE __NV_ATOMIC_RELEASE
#define GBK_ACQ_REL __NV_ATOMIC_ACQ_REL
#define GBK_SEQ_CST __NV_ATOMIC_SEQ_CST

#define gb_global_id() ((gb_u32)(blockIdx.x * blockDim.x + threadIdx.x))
#define gb_global_size() ((gb_u32)(gridDim.x * blockDim.x))
#endif

/* ---- scoped atomics: device backends ----------------------------------- */
#if !defined(GB_LANG_HOST)
#define GBK_LOAD(p, o) GBK_LOADS(p, o, GB_SCOPE_SYSTEM)
#define GBK_STORE(p, v, o) GBK_STORES(p, v, o, GB_SCOPE_SYSTEM)
#define GBK_ADD(p, v, o) GBK_ADDS(p, v, o, GB_SCOPE_SYSTEM)
#define GBK_CAS(p, e, d, s, f) GBK_CASS(p, e, d, s, f, GB_SCOPE_SYSTEM)
#define GBK_FENCE(o) GBK_FENCES(o, GB_SCOPE_SYSTEM)
#define GBK_LOAD_D(p, o) GBK_LOADS(p, o, GB_SCOPE_DEVICE)
#define GBK_STORE_D(p, v, o) GBK_STORES(p, v, o, GB_SCOPE_DEVICE)
#define GBK_ADD_D(p, v, o) GBK_ADDS(p, v, o, GB_SCOPE_DEVICE)
#define GBK_CAS_D(p, e, d, s, f) GBK_CASS(p, e, d, s, f, GB_SCOPE_DEVICE)
#define GBK_FENCE_D(o) GBK_FENCES(o, GB_SCOPE_DEVICE)
#else
#define GBK_LOAD_D GBK_LOAD
#define GBK_STORE_D GBK_STORE
#define GBK_ADD_D GBK_ADD
#define GBK_CAS_D GBK_CAS
#define GBK_FENCE_D GBK_FENCE
#endif

/* ---- the public atomic vocabulary --------------------------------------- */
#define gb_atomic_load_relaxed(p) GBK_LOAD(p, GBK_RELAXED)
#define gb_atomic_load_acquire(p) GBK_LOAD(p, GBK_ACQUIRE)
#define gb_atomic_load_seq_cst(p) GBK_LOAD(p, GBK_SEQ_CST)
#define gb_atomic_store_relaxed(p, v) GBK_STORE(p, v, GBK_RELAXED)
#define gb_atomic_store_release(p, v) GBK_STORE(p, v, GBK_RELEASE)
#define gb_atomic_store_seq_cst(p, v) GBK_STORE(p, v, GBK_SEQ_CST)
#define gb_atomic_fetch_add_relaxed(p, v) GBK_ADD(p, v, GBK_RELAXED)
#define gb_atomic_fetch_add_acq_rel(p, v) GBK_ADD(p, v, GBK_ACQ_REL)
#define gb_atomic_fetch_add_seq_cst(p, v) GBK_ADD(p, v, GBK_SEQ_CST)
#define gb_atomic_cas_relaxed(p, e, d) GBK_CAS(p, e, d, GBK_RELAXED, GBK_RELAXED)
#define gb_atomic_cas_acq_rel(p, e, d) GBK_CAS(p, e, d, GBK_ACQ_REL, GBK_ACQUIRE)
#define gb_atomic_cas_seq_cst(p, e, d) GBK_CAS(p, e, d, GBK_SEQ_CST, GBK_SEQ_CST)
#define gb_fence_acquire() GBK_FENCE(GBK_ACQUIRE)
#define gb_fence_release() GBK_FENCE(GBK_RELEASE)
#define gb_fence_seq_cst() GBK_FENCE(GBK_SEQ_CST)
#define gb_fence_system() GBK_FENCE(GBK_SEQ_CST)

/* explicit system-scope spellings (the same as the unsuffixed forms) */
#define gb_atomic_load_acquire_system(p) gb_atomic_load_acquire(p)
#define gb_atomic_load_seq_cst_system(p) gb_atomic_load_seq_cst(p)
#define gb_atomic_store_release_system(p, v) gb_atomic_store_release(p, v)
#define gb_atomic_store_seq_cst_system(p, v) gb_atomic_store_seq_cst(p, v)
#define gb_atomic_fetch_add_acq_rel_system(p, v) gb_atomic_fetch_add_acq_rel(p, v)
#define gb_atomic_cas_acq_rel_system(p, e, d) gb_atomic_cas_acq_rel(p, e, d)
#define gb_fence_seq_cst_system() gb_fence_seq_cst()

#define gb_atomic_load_relaxed_device(p) GBK_LOAD_D(p, GBK_RELAXED)
#define gb_atomic_load_acquire_device(p) GBK_LOAD_D(p, GBK_ACQUIRE)
#define gb_atomic_load_seq_cst_device(p) GBK_LOAD_D(p, GBK_SEQ_CST)
#define gb_atomic_store_relaxed_device(p, v) GBK_STORE_D(p, v, GBK_RELAXED)
#define gb_atomic_store_release_device(p, v) GBK_STORE_D(p, v, GBK_RELEASE)
#define gb_atomic_store_seq_cst_device(p, v) GBK_STORE_D(p, v, GBK_SEQ_CST)
#define gb_atomic_fetch_add_relaxed_device(p, v) GBK_ADD_D(p, v, GBK_RELAXED)
#define gb_atomic_fetch_add_acq_rel_device(p, v) GBK_ADD_D(p, v, GBK_ACQ_REL)
#define gb_atomic_fetch_add_seq_cst_device(p, v) GBK_ADD_D(p, v, GBK_SEQ_CST)
#define gb_atomic_cas_relaxed_device(p, e, d) GBK_CAS_D(p, e, d, GBK_RELAXED, GBK_RELAXED)
#define gb_atomic_cas_acq_rel_device(p, e, d) GBK_CAS_D(p, e, d, GBK_ACQ_REL, GBK_ACQUIRE)
#define gb_atomic_cas_seq_cst_device(p, e, d) GBK_CAS_D(p, e, d, GBK_SEQ_CST, GBK_SEQ_CST)
#define gb_fence_acquire_device() GBK_FENCE_D(GBK_ACQUIRE)
#define gb_fence_release_device() GBK_FENCE_D(GBK_RELEASE)
#define gb_fence_seq_cst_device() GBK_FENCE_D(GBK_SEQ_CST)

/* ---- the message header, mirrored for device code (DESIGN.md 4.1) ------ */
#if !defined(GB_LANG_HOST)
typedef struct gb_msg_header {
    gb_u64 target;
    gb_u64 sender;
    gb_u64 hlc;
    gb_u64 correlation;
    gb_u32 method;
    gb_u32 flags;
    gb_u32 payload_len;
    gb_u32 reserved;
} gb_msg_header;
#define GB_MSG_ONEWAY 0x1u
#define GB_MSG_RESPONSE 0x2u
#define GB_MSG_ERROR 0x4u
#define GB_MSG_TIMER 0x8u
#define GB_MSG_SYSTEM 0x10u
#define GB_MSG_HEADER_SIZE 48u
#endif
GB_STATIC_ASSERT(sizeof(gb_msg_header) == 48, msg_header_is_48_bytes);
GB_STATIC_ASSERT_OFFSET(gb_msg_header, method, 32, msg_header_method_at_32);
GB_STATIC_ASSERT_OFFSET(gb_msg_header, reserved, 44, msg_header_reserved_at_44);
GB_STATIC_ASSERT(sizeof(gb_atomic_u64) == 8, atomic_u64_is_8_bytes);
GB_STATIC_ASSERT(sizeof(gb_atomic_u32) == 4, atomic_u32_is_4_bytes);

/* Payload bytes of a message in a slot (the payload follows the header). */
#define gb_msg_payload(m) ((GB_GLOBAL gb_u8 *)(m) + GB_MSG_HEADER_SIZE)

/* The 64-bit mix used for lanes: the same bijection as gb_hash_u64 on the
 * host (splitmix64 finaliser), so host and device agree on every lane. */
GB_DEVICE_FN gb_u64 gb_mix64(gb_u64 x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

#endif
