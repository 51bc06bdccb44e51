/*
 * Internal: our own declarations of the few CUDA driver API and NVRTC entry
 * points the cuda backend uses (the libraries are opened with dlopen, so
 * the toolkit's headers are not needed to build). The struct tags and the
 * types match cuda.h / nvrtc.h (CUDA 12 and 13, 64-bit); the exported
 * symbol names of versioned entry points carry their _v2 suffix.
 * tests/device/test_cuda_api.c assigns every real prototype to these types
 * where the toolkit's headers are installed, so a mismatch fails to compile.
 */
#ifndef GBI_DEVICE_CUDA_API_H
#define GBI_DEVICE_CUDA_API_H

#include <stddef.h>

typedef unsigned int gbcu_result;      /* CUresult (an enum of non-negative values) */
typedef int gbcu_device;               /* CUdevice */
typedef unsigned long long gbcu_dptr;  /* CUdeviceptr on 64-bit hosts */
typedef unsigned int gbcu_attr;        /* CUdevice_attribute */
typedef struct CUctx_st *gbcu_context;
typedef struct CUmod_st *gbcu_module;
typedef struct CUfunc_st *gbcu_function;
typedef struct CUstream_st *gbcu_stream;

#define GBCU_SUCCESS 0u
#define GBCU_ERROR_NO_DEVICE 100u
#define GBCU_STREAM_NON_BLOCKING 0x1u
#define GBCU_MEMHOSTALLOC_PORTABLE 0x01u
#define GBCU_MEMHOSTALLOC_DEVICEMAP 0x02u
#define GBCU_ATTR_MULTIPROCESSOR_COUNT 16u
#define GBCU_ATTR_CAN_MAP_HOST_MEMORY 19u
#define GBCU_ATTR_UNIFIED_ADDRESSING 41u
#define GBCU_ATTR_CC_MAJOR 75u
#define GBCU_ATTR_CC_MINOR 76u

typedef gbcu_result (*gbcu_init_fn)(unsigned int flags);
typedef gbcu_result (*gbcu_driver_version_fn)(int *version);
typedef gbcu_result (*gbcu_device_count_fn)(int *count);
typedef gbcu_result (*gbcu_device_get_fn)(gbcu_device *dev, int ordinal);
typedef gbcu_result (*gbcu_device_name_fn)(char *name, int len, gbcu_device dev);
typedef gbcu_result (*gbcu_device_mem_fn)(size_t *bytes, gbcu_device dev);            /* cuDeviceTotalMem_v2 */
typedef gbcu_result (*gbcu_device_attr_fn)(int *value, gbcu_attr attr, gbcu_device dev);
typedef gbcu_result (*gbcu_ctx_retain_fn)(gbcu_context *ctx, gbcu_device dev);       /* cuDevicePrimaryCtxRetain */
typedef gbcu_result (*gbcu_ctx_release_fn)(gbcu_device dev);                         /* ..Release_v2 */
typedef gbcu_result (*gbcu_ctx_set_fn)(gbcu_context ctx);                            /* cuCtxSetCurrent */
typedef gbcu_result (*gbcu_stream_create_fn)(gbcu_stream *s, unsigned int flags);   /* cuStreamCreate */
typedef gbcu_result (*gbcu_stream_sync_fn)(gbcu_stream s);                           /* cuStreamSynchronize */
typedef gbcu_result (*gbcu_stream_destroy_fn)(gbcu_stream s);                        /* cuStreamDestroy_v2 */
typedef gbcu_result (*gbcu_host_alloc_fn)(void **p, size_t bytes, unsigned int flags); /* cuMemHostAlloc */
typedef gbcu_result (*gbcu_host_dptr_fn)(gbcu_dptr *d, void *p, unsigned int flags); /* ..GetDevicePointer_v2 */
typedef gbcu_result (*gbcu_host_free_fn)(void *p);                                   /* cuMemFreeHost */
typedef gbcu_result (*gbcu_mem_alloc_fn)(gbcu_dptr *d, size_t bytes);                /* cuMemAlloc_v2 */
typedef gbcu_result (*gbcu_mem_free_fn)(gbcu_dptr d);                                /* cuMemFree_v2 */
typedef gbcu_result (*gbcu_htod_fn)(gbcu_dptr dst, const void *src, size_t bytes);   /* cuMemcpyHtoD_v2 */
typedef gbcu_result (*gbcu_dtoh_fn)(void *dst, gbcu_dptr src, size_t bytes);         /* cuMemcpyDtoH_v2 */
typedef gbcu_result (*gbcu_htod_async_fn)(gbcu_dptr dst, const void *src, size_t bytes,
                                          gbcu_stream s);                              /* cuMemcpyHtoDAsync_v2 */
typedef gbcu_result (*gbcu_dtoh_async_fn)(void *dst, gbcu_dptr src, size_t bytes,
                                          gbcu_stream s);                              /* cuMemcpyDtoHAsync_v2 */
typedef gbcu_result (*gbcu_module_load_fn)(gbcu_module *m, const void *image);      /* cuModuleLoadData */
typedef gbcu_result (*gbcu_module_unload_fn)(gbcu_module m);
typedef gbcu_result (*gbcu_module_fn_fn)(gbcu_function *f, gbcu_module m, const char *name);
typedef gbcu_result (*gbcu_launch_fn)(gbcu_function f, unsigned int gx, unsigned int gy, unsigned int gz,
                                      unsigned int bx, unsigned int by, unsigned int bz, unsigned int shared,
                                      gbcu_stream stream, void **params, void **extra);
typedef gbcu_result (*gbcu_error_string_fn)(gbcu_result r, const char **text);

typedef unsigned int gbnvrtc_result; /* nvrtcResult (an enum of non-negative values) */
typedef struct _nvrtcProgram *gbnvrtc_program;
typedef gbnvrtc_result (*gbnvrtc_version_fn)(int *major, int *minor);
typedef gbnvrtc_result (*gbnvrtc_create_fn)(gbnvrtc_program *p, const char *src, const char *name, int nheaders,
                                            const char *const *headers, const char *const *include_names);
typedef gbnvrtc_result (*gbnvrtc_compile_fn)(gbnvrtc_program p, int nopts, const char *const *opts);
typedef gbnvrtc_result (*gbnvrtc_size_fn)(gbnvrtc_program p, size_t *size); /* GetPTXSize, GetProgramLogSize */
typedef gbnvrtc_result (*gbnvrtc_get_fn)(gbnvrtc_program p, char *out);     /* GetPTX, GetProgramLog */
typedef gbnvrtc_result (*gbnvrtc_destroy_fn)(gbnvrtc_program *p);

#endif
