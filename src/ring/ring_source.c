/*
 * The device program of a ring: the embedded prelude (kernel_lang.h, the
 * queue, the ring API), the user's handler source, a generated switch that
 * calls handler i for actor type i (devices have no function pointers), and
 * the embedded dispatch loop. The same text goes to OpenCL and NVRTC.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "gb_embed_ring_dispatch.h"
#include "gb_embed_ring_prelude.h"
#include "ring/ring_internal.h"

static int is_ident(const char *s)
{
    if (!s || !*s || (*s >= '0' && *s <= '9'))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return 1;
}

/* The generated switch, appended to f. */
static void write_switch(FILE *f, const gb_ring_opts *n)
{
    fputs("\n#line 1 \"gb_ring_generated\"\n"
          "GB_DEVICE_FN gb_i32 gb_ring_call_handler(gb_u32 type, GB_GLOBAL gb_u8 *state,\n"
          "    GB_GLOBAL const gb_msg_header *msg, gb_u64 hlc, gb_ring_ctx *ctx)\n{\n"
          "    switch (type) {\n",
          f);
    for (uint32_t i = 0; i < n->ntypes; i++)
        fprintf(f, "    case %uu: return %s(state, msg, hlc, ctx);\n", i, n->types[i].device_fn);
    fputs("    default: return GB_RING_ST_ENOENT;\n    }\n}\n"
          "#define GB_RING_CALL_HANDLER(t, s, m, h, c) gb_ring_call_handler((t), (s), (m), (h), (c))\n",
          f);
}

gb_status gbi_ring_device_source(const gb_ring_opts *n, char **out)
{
    if (!n->device_source)
        return gbi_error(GB_EINVAL, "ring_create", "backend %s needs opts.device_source (the handlers in "
                         "portable kernel C)", n->backend);
    for (uint32_t i = 0; i < n->ntypes; i++)
        if (!is_ident(n->types[i].device_fn))
            return gbi_error(GB_EINVAL, "ring_create", "type %u: device_fn '%s' is not a C identifier", i,
                             n->types[i].device_fn ? n->types[i].device_fn : "(null)");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return gbi_error(GB_ENOMEM, "ring_create", "no memory for the device source");
    fputs(gb_embed_ring_prelude, f);
    fputs("\n#line 1 \"device_source\"\n", f);
    fputs(n->device_source, f);
    write_switch(f, n);
    fputs(gb_embed_ring_dispatch, f);
    if (fclose(f) != 0 || !buf) {
        free(buf);
        return gbi_error(GB_ENOMEM, "ring_create", "no memory for the device source");
    }
    *out = buf;
    return GB_OK;
}
