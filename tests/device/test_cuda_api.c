/* Our declarations of the CUDA driver API and NVRTC (src/device/cuda_api.h)
 * against the toolkit's cuda.h and nvrtc.h: where the headers are installed
 * (/usr/local/cuda/include), every real entry point is assigned to our
 * function pointer type, so a mismatch in any parameter or result type
 * fails to compile (-Werror: incompatible pointer types); the constants we
 * copied are compared with _Static_assert. Without the toolkit the test is
 * skipped, saying so. */
#include <criterion/criterion.h>

#include "device/cuda_api.h"

#if defined(__has_include)
#if __has_include("/usr/local/cuda/include/cuda.h") && __has_include("/usr/local/cuda/include/nvrtc.h")
#define HAVE_TOOLKIT 1
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "/usr/local/cuda/include/cuda.h"
#include "/usr/local/cuda/include/nvrtc.h"
#pragma GCC diagnostic pop
#endif
#endif

#ifdef HAVE_TOOLKIT
_Static_assert(sizeof(CUresult) == sizeof(gbcu_result), "CUresult");
_Static_assert(sizeof(CUdeviceptr) == sizeof(gbcu_dptr), "CUdeviceptr");
_Static_assert(CUDA_SUCCESS == GBCU_SUCCESS && CUDA_ERROR_NO_DEVICE == GBCU_ERROR_NO_DEVICE, "results");
_Static_assert(CU_MEMHOSTALLOC_PORTABLE == GBCU_MEMHOSTALLOC_PORTABLE, "portable");
_Static_assert(CU_STREAM_NON_BLOCKING == GBCU_STREAM_NON_BLOCKING, "non-blocking stream");
_Static_assert(CU_MEMHOSTALLOC_DEVICEMAP == GBCU_MEMHOSTALLOC_DEVICEMAP, "devicemap");
_Static_assert(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT == GBCU_ATTR_MULTIPROCESSOR_COUNT, "sm count");
_Static_assert(CU_DEVICE_ATTRIBUTE_CAN_MAP_HOST_MEMORY == GBCU_ATTR_CAN_MAP_HOST_MEMORY, "map host");
_Static_assert(CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING == GBCU_ATTR_UNIFIED_ADDRESSING, "uva");
_Static_assert(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR == GBCU_ATTR_CC_MAJOR, "cc major");
_Static_assert(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR == GBCU_ATTR_CC_MINOR, "cc minor");

/* Each line fails to compile if the real prototype differs from ours (no
 * symbol is referenced: nothing to link). The real names are the versioned
 * symbols we dlsym (cuda.h maps the plain names onto them with macros). */
#define SAME(type, sym) _Static_assert(__builtin_types_compatible_p(__typeof__(&sym), type), #sym);


SAME(gbcu_init_fn, cuInit)
SAME(gbcu_driver_version_fn, cuDriverGetVersion)
SAME(gbcu_device_count_fn, cuDeviceGetCount)
SAME(gbcu_device_get_fn, cuDeviceGet)
SAME(gbcu_device_name_fn, cuDeviceGetName)
SAME(gbcu_device_mem_fn, cuDeviceTotalMem_v2)
SAME(gbcu_device_attr_fn, cuDeviceGetAttribute)
SAME(gbcu_ctx_retain_fn, cuDevicePrimaryCtxRetain)
SAME(gbcu_ctx_release_fn, cuDevicePrimaryCtxRelease_v2)
SAME(gbcu_ctx_set_fn, cuCtxSetCurrent)
SAME(gbcu_stream_create_fn, cuStreamCreate)
SAME(gbcu_stream_sync_fn, cuStreamSynchronize)
SAME(gbcu_stream_destroy_fn, cuStreamDestroy_v2)
SAME(gbcu_host_alloc_fn, cuMemHostAlloc)
SAME(gbcu_host_dptr_fn, cuMemHostGetDevicePointer_v2)
SAME(gbcu_host_free_fn, cuMemFreeHost)
SAME(gbcu_mem_alloc_fn, cuMemAlloc_v2)
SAME(gbcu_mem_free_fn, cuMemFree_v2)
SAME(gbcu_htod_fn, cuMemcpyHtoD_v2)
SAME(gbcu_dtoh_fn, cuMemcpyDtoH_v2)
SAME(gbcu_htod_async_fn, cuMemcpyHtoDAsync_v2)
SAME(gbcu_dtoh_async_fn, cuMemcpyDtoHAsync_v2)
SAME(gbcu_module_load_fn, cuModuleLoadData)
SAME(gbcu_module_unload_fn, cuModuleUnload)
SAME(gbcu_module_fn_fn, cuModuleGetFunction)
SAME(gbcu_launch_fn, cuLaunchKernel)
SAME(gbcu_error_string_fn, cuGetErrorString)
SAME(gbnvrtc_version_fn, nvrtcVersion)
SAME(gbnvrtc_create_fn, nvrtcCreateProgram)
SAME(gbnvrtc_compile_fn, nvrtcCompileProgram)
SAME(gbnvrtc_size_fn, nvrtcGetPTXSize)
SAME(gbnvrtc_get_fn, nvrtcGetPTX)
SAME(gbnvrtc_size_fn, nvrtcGetProgramLogSize)
SAME(gbnvrtc_get_fn, nvrtcGetProgramLog)
SAME(gbnvrtc_destroy_fn, nvrtcDestroyProgram)
#define NCHECKED 33
#endif

Test(cuda_api, our_declarations_match_the_toolkit_headers)
{
#ifdef HAVE_TOOLKIT
    cr_assert_eq(NCHECKED, 33, "every entry point cuda.c loads is checked at compile time");
#else
    cr_skip_test("the CUDA toolkit headers (/usr/local/cuda/include/cuda.h, nvrtc.h) are not installed: "
                 "nothing to compare our declarations with");
#endif
}
