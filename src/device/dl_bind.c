/* Binding entry points of a dlopen'ed library (dl_bind.h). */
#include "device/dl_bind.h"

#include <dlfcn.h>

const char *gbi_dl_bind(void *lib, const gbi_dl_sym *syms, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(*syms[i].slot = dlsym(lib, syms[i].name)))
            return syms[i].name;
    return NULL;
}
