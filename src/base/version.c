/* The library's own version string. */
#include "gpubridge/version.h"

const char *gb_version(void)
{
    return GB_VERSION_STRING;
}
