/*
 * Calls made by device handlers (gb_ring_begin_call, continuation style).
 *
 * A handler puts a request on its ring's outbound queue (correlation = a
 * token of its own, not a response, not one-way). The drain thread turns
 * it into an ordinary call of the silo (gb_call_cb: a call record, the
 * silo's default timeout, the request routed to the target's mailbox or
 * ring). The call's completion, on whichever thread completes it (the
 * callee's reply, the timeout, shutdown), routes the reply as a message to
 * the calling device actor: GB_MSG_RESPONSE, correlation = the token,
 * method and sender = the call's, payload = the reply, or GB_MSG_ERROR with
 * the int32 status when the call failed. It is stamped with the silo clock,
 * which has already received the callee's stamp, so the device's next HLC
 * comes after the reply's cause.
 *
 * Device actors keep handling other messages while their calls are out
 * (there is no gate on the device), so they close no wait-for cycle
 * themselves; call chains are not carried (the callee sees an external
 * sender, id 0). Calls live on the host, so a failover needs nothing: the
 * reply goes to the type's current ring.
 */
#include <stdlib.h>
#include <string.h>

#include "actor/device_actor.h"
#include "base/error.h"
#include "gpubridge/log.h"

typedef struct dcall {
    gbi_devtype *dt;
    gb_actor_id caller; /* the device actor */
    gb_actor_id callee;
    uint64_t token;
    uint32_t method;
} dcall;

/* Route the reply (or the error status) to the calling device actor. */
static gb_status put_reply(const dcall *c, gb_status status, const void *p, uint32_t len)
{
    gb_silo *s = c->dt->silo;
    int32_t code = (int32_t)status;
    if (status != GB_OK) {
        p = &code;
        len = sizeof code;
    }
    gbi_actor *a = gbi_dir_lookup(s->dir, c->caller);
    gbi_msg *m = a ? gbi_msg_new(s, len, 0) : NULL;
    if (!m)
        return gbi_error(a ? GB_ENOMEM : GB_ENOENT, "device call", "no record or memory for the reply");
    m->hdr.target = c->caller;
    m->hdr.sender = c->callee;
    m->hdr.correlation = c->token;
    m->hdr.method = c->method;
    m->hdr.flags = GB_MSG_RESPONSE | (status != GB_OK ? GB_MSG_ERROR : 0);
    m->hdr.payload_len = len;
    m->hdr.hlc = gb_hlc_now(gb_silo_clock(s));
    m->local_stamp = 1;
    if (len)
        memcpy(gbi_msg_payload(m), p, len);
    gb_status st = gbi_mailbox_put(s, a, m, 1);
    if (st != GB_OK)
        gbi_msg_free(s, m);
    return st;
}

static void reply_to_device(const dcall *c, gb_status status, const void *p, uint32_t len)
{
    gb_status st = put_reply(c, status, p, len);
    if (st == GB_EMSGSIZE) /* larger than a ring slot: the device gets the reason */
        st = put_reply(c, GB_EMSGSIZE, NULL, 0);
    if (st != GB_OK)
        gb_log(GB_LOG_WARN, "actor", "reply to device actor %016llx (call %llu) dropped: %s",
               (unsigned long long)c->caller, (unsigned long long)c->token, gb_last_error());
}

static void on_reply(gb_actor_ctx *ctx, void *arg, gb_status status, const void *payload, uint32_t len)
{
    (void)ctx; /* NULL: an external-style call */
    dcall *c = arg;
    reply_to_device(c, status, payload, len);
    free(c);
}

void gbi_devtype_call(gbi_devtype *dt, const gb_msg_header *h, const void *payload)
{
    dcall *c = malloc(sizeof *c);
    if (!c) {
        gb_log(GB_LOG_ERROR, "actor", "device actor %016llx: no memory for its call; dropped",
               (unsigned long long)h->sender);
        return;
    }
    *c = (dcall){
        .dt = dt, .caller = h->sender, .callee = h->target, .token = h->correlation, .method = h->method};
    gb_status st = gb_call_cb(dt->silo, h->target, h->method, payload, h->payload_len, 0, on_reply, c);
    if (st == GB_OK)
        return;
    reply_to_device(c, st, NULL, 0); /* refused at once: the device learns why */
    free(c);
}
