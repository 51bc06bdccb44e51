/* Method ids: the stable hash of a method name (DESIGN.md 4.1). */
#include "gpubridge/hash.h"
#include "gpubridge/message.h"

uint32_t gb_method_id(const char *name)
{
    return (uint32_t)gb_hash_str(name);
}
