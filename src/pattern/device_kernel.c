/*
 * The device pattern matcher's kernel compiled natively: the cpu backend of
 * gb_device_matcher and the host rerun after a capacity overflow. The very
 * same text (kernels/pattern_layout.gbk + pattern_match.gbk, with vm.h and
 * vm.c before them) is embedded as gb_embed_pattern_match for OpenCL and
 * NVRTC (CMakeLists.txt, gb_embed_kernel_source).
 */
#include "gpubridge/kernel.h" /* host: gb_global_id() = 0, gb_global_size() = 1 */
#include "gpubridge/kernel_lang.h"
#include "pattern/device_kernel.h"
#include "pattern/vm.h"

#include "../../kernels/pattern_match.gbk"
