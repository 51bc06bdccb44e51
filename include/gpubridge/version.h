/* gpubridge version. */
#ifndef GPUBRIDGE_VERSION_H
#define GPUBRIDGE_VERSION_H

#define GB_VERSION_MAJOR 0
#define GB_VERSION_MINOR 1
#define GB_VERSION_PATCH 0
#define GB_VERSION_STRING "0.1.0"

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version string (may differ from GB_VERSION_STRING when
 * linked against another build). Thread-safe. */
const char *gb_version(void);

#ifdef __cplusplus
}
#endif
#endif
