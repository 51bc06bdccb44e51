/* Test kernels in portable kernel C, each compiled natively (the cpu
 * implementation) and kept as text for OpenCL / NVRTC (GB_DUAL_SOURCE). */
#ifndef GB_TEST_KERNELS_H
#define GB_TEST_KERNELS_H

#include "gpubridge/kernel.h"
#include "gpubridge/kernel_lang.h"

/* native prototypes (the definitions below are also the device sources) */
void k_vec_add(const gb_u8 *in, gb_u8 *out, gb_u32 count);
void k_poly(const gb_u8 *in, gb_u8 *out, gb_u32 count);
void k_sumsq(const gb_u8 *in, gb_u8 *out, gb_u32 count);
void k_empty(const gb_u8 *in, gb_u8 *out, gb_u32 count);

/* item: two u32 -> their sum */
GB_DUAL_SOURCE(k_vec_add_src,
GB_KERNEL k_vec_add(GB_GLOBAL const gb_u8 *in, GB_GLOBAL gb_u8 *out, gb_u32 count)
{
    GB_GLOBAL const gb_u32 *a = (GB_GLOBAL const gb_u32 *)in;
    GB_GLOBAL gb_u32 *o = (GB_GLOBAL gb_u32 *)out;
    for (gb_u32 i = gb_global_id(); i < count; i += gb_global_size())
        o[i] = a[2 * i] + a[2 * i + 1];
})

/* item: u32 x -> 3x^3 + 2x + 7 (mod 2^32) */
GB_DUAL_SOURCE(k_poly_src,
GB_KERNEL k_poly(GB_GLOBAL const gb_u8 *in, GB_GLOBAL gb_u8 *out, gb_u32 count)
{
    GB_GLOBAL const gb_u32 *x = (GB_GLOBAL const gb_u32 *)in;
    GB_GLOBAL gb_u32 *o = (GB_GLOBAL gb_u32 *)out;
    for (gb_u32 i = gb_global_id(); i < count; i += gb_global_size()) {
        gb_u32 v = x[i];
        o[i] = 3u * v * v * v + 2u * v + 7u;
    }
})

/* item: 16 u32 -> u64 sum of squares */
GB_DUAL_SOURCE(k_sumsq_src,
GB_KERNEL k_sumsq(GB_GLOBAL const gb_u8 *in, GB_GLOBAL gb_u8 *out, gb_u32 count)
{
    GB_GLOBAL const gb_u32 *x = (GB_GLOBAL const gb_u32 *)in;
    GB_GLOBAL gb_u64 *o = (GB_GLOBAL gb_u64 *)out;
    for (gb_u32 i = gb_global_id(); i < count; i += gb_global_size()) {
        gb_u64 s = 0;
        for (gb_u32 j = 0; j < 16u; j++)
            s += (gb_u64)x[16u * i + j] * x[16u * i + j];
        o[i] = s;
    }
})

/* does nothing: launch overhead */
GB_DUAL_SOURCE(k_empty_src,
GB_KERNEL k_empty(GB_GLOBAL const gb_u8 *in, GB_GLOBAL gb_u8 *out, gb_u32 count)
{
    (void)in;
    (void)out;
    (void)count;
})

static inline gb_kernel_desc k_vec_add_desc(void)
{
    gb_kernel_desc d = {.id = "vec_add", .source = k_vec_add_src, .entry = "k_vec_add",
                        .cpu = k_vec_add, .in_size = 8, .out_size = 4, .max_batch = 1 << 16};
    return d;
}

static inline gb_kernel_desc k_poly_desc(void)
{
    gb_kernel_desc d = {.id = "poly", .source = k_poly_src, .entry = "k_poly", .cpu = k_poly,
                        .in_size = 4, .out_size = 4, .max_batch = 1 << 16};
    return d;
}

static inline gb_kernel_desc k_sumsq_desc(void)
{
    gb_kernel_desc d = {.id = "sumsq", .source = k_sumsq_src, .entry = "k_sumsq",
                        .cpu = k_sumsq, .in_size = 64, .out_size = 8, .max_batch = 1 << 16};
    return d;
}

static inline gb_kernel_desc k_empty_desc(void)
{
    gb_kernel_desc d = {.id = "empty", .source = k_empty_src, .entry = "k_empty", .cpu = k_empty,
                        .in_size = 4, .out_size = 4, .max_batch = 1 << 20};
    return d;
}

#endif
