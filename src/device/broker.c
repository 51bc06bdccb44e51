/*
 * The device broker (gpubridge/broker.h): the fallback chain, each entry's
 * capabilities, health, load and circuit breaker, and the fault-injection
 * switches. One mutex guards the whole broker; operations on devices run
 * outside it (callers acquire an entry, work, then report).
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "device/backend.h"
#include "gpubridge/broker.h"
#include "gpubridge/time.h"

#define BROKER_MAX 8
#define BROKER_DEFAULT_CHAIN "cuda,opencl,cpu"

typedef struct broker_entry {
    gb_broker_device d;
    int32_t faults[GB_OP_COUNT]; /* armed injected failures; -1: always */
    int64_t window_start;        /* first failure of the current window */
    uint32_t window_failures;
    int64_t open_until;          /* breaker open until this time */
    int half_open_taken;         /* the half-open trial is out */
} broker_entry;

struct gb_broker {
    pthread_mutex_t lock;
    gb_broker_opts opts;
    uint32_t n;
    broker_entry e[BROKER_MAX];
};

static const char *const op_names[GB_OP_COUNT] = {"open", "compile", "launch", "alloc", "ring"};

const char *gb_device_op_name(gb_device_op op)
{
    return (unsigned)op < GB_OP_COUNT ? op_names[op] : "?";
}

const char *gb_breaker_state_name(gb_breaker_state s)
{
    static const char *const names[] = {"closed", "open", "half-open"};
    return (unsigned)s <= GB_BREAKER_HALF_OPEN ? names[s] : "?";
}

static int64_t now_default(void *arg)
{
    (void)arg;
    return gb_time_monotonic_ns();
}

static int64_t broker_now(const gb_broker *b)
{
    return b->opts.now_ns(b->opts.now_arg);
}

/* Fill entry from its backend's first device, or say why there is none. */
static void probe(broker_entry *e, const char *name)
{
    const gbi_backend_ops *be = gbi_backend_find(name);
    gbi_device_info info;
    uint32_t n = 0;
    snprintf(e->d.info.backend, sizeof e->d.info.backend, "%s", name);
    e->d.healthy = 1;
    gb_status st = be->enumerate(&info, 1, &n);
    if (st == GB_OK && n == 0)
        st = gbi_error(GB_ENOTSUP, name, "the %s backend found no device", name);
    if (st != GB_OK) {
        const char *why = gb_last_error(), *colon = strstr(why, ": ");
        snprintf(e->d.why_unavailable, sizeof e->d.why_unavailable, "%s", colon ? colon + 2 : why); /* drop "where: " */
        gb_clear_error();
        return;
    }
    e->d.available = 1;
    memcpy(e->d.info.name, info.name, sizeof e->d.info.name);
    memcpy(e->d.info.version, info.version, sizeof e->d.info.version);
    e->d.info.compute_units = info.compute_units;
    e->d.info.shared_memory = info.fine_grain_svm;
    memcpy(e->d.driver, info.driver, sizeof e->d.driver);
    e->d.global_mem = info.global_mem;
    e->d.timer_resolution_ns = info.timer_resolution_ns;
}

static gb_status parse_chain(gb_broker *b, const char *chain)
{
    char buf[256];
    if (snprintf(buf, sizeof buf, "%s", chain) >= (int)sizeof buf)
        return gbi_error(GB_EINVAL, "broker_create", "device chain too long");
    for (char *save = NULL, *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        if (!gbi_backend_find(tok))
            return gbi_error(GB_EINVAL, "broker_create", "unknown backend '%s' in the device chain '%s' "
                             "(have: cuda, opencl, cpu)", tok, chain);
        for (uint32_t i = 0; i < b->n; i++)
            if (strcmp(b->e[i].d.info.backend, tok) == 0)
                return gbi_error(GB_EINVAL, "broker_create", "backend '%s' twice in '%s'", tok, chain);
        if (b->n == BROKER_MAX)
            return gbi_error(GB_EINVAL, "broker_create", "more than %d backends in '%s'", BROKER_MAX, chain);
        probe(&b->e[b->n++], tok);
    }
    if (b->n == 0)
        return gbi_error(GB_EINVAL, "broker_create", "the device chain '%s' names no backend", chain);
    return GB_OK;
}

static gb_status parse_op(const char *s, gb_device_op *op)
{
    for (int i = 0; i < GB_OP_COUNT; i++)
        if (strcmp(s, op_names[i]) == 0) {
            *op = (gb_device_op)i;
            return GB_OK;
        }
    return gbi_error(GB_EINVAL, "broker_create",
                     "GB_FAULT: unknown operation '%s' (open, compile, launch, alloc, ring)", s);
}

/* GB_FAULT="backend:op[:count],...": arm the faults it names. */
static gb_status parse_faults(gb_broker *b, const char *spec)
{
    char buf[256];
    if (snprintf(buf, sizeof buf, "%s", spec) >= (int)sizeof buf)
        return gbi_error(GB_EINVAL, "broker_create", "GB_FAULT too long");
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *op = strchr(tok, ':');
        if (!op)
            return gbi_error(GB_EINVAL, "broker_create", "GB_FAULT entry '%s' is not backend:op[:count]", tok);
        *op++ = '\0';
        char *cnt = strchr(op, ':');
        if (cnt)
            *cnt++ = '\0';
        gb_device_op o = GB_OP_OPEN;
        gb_status st = parse_op(op, &o);
        uint32_t i;
        if (st == GB_OK && gb_broker_find(b, tok, &i) == GB_OK)
            b->e[i].faults[o] = cnt ? (int32_t)strtol(cnt, NULL, 10) : -1;
        else if (st == GB_OK)
            gb_clear_error(); /* a fault for a backend not in the chain is moot */
        else
            return st;
    }
    return GB_OK;
}

gb_status gb_broker_create(gb_broker **out, const gb_broker_opts *opts)
{
    if (!out)
        return gbi_error(GB_EINVAL, "broker_create", "out is NULL");
    gb_broker *b = calloc(1, sizeof *b);
    if (!b)
        return gbi_error(GB_ENOMEM, "broker_create", "no memory");
    if (opts)
        b->opts = *opts;
    const char *env = getenv("GB_DEVICES");
    const char *chain = b->opts.chain ? b->opts.chain : env && *env ? env : BROKER_DEFAULT_CHAIN;
    b->opts.breaker_failures = b->opts.breaker_failures ? b->opts.breaker_failures : 3;
    b->opts.breaker_window_ns = b->opts.breaker_window_ns > 0 ? b->opts.breaker_window_ns : 10000000000LL;
    b->opts.breaker_cooldown_ns = b->opts.breaker_cooldown_ns > 0 ? b->opts.breaker_cooldown_ns : 30000000000LL;
    if (!b->opts.now_ns)
        b->opts.now_ns = now_default;
    pthread_mutex_init(&b->lock, NULL);
    gb_status st = parse_chain(b, chain);
    const char *faults = getenv("GB_FAULT");
    if (st == GB_OK && faults && *faults)
        st = parse_faults(b, faults);
    if (st != GB_OK) {
        gb_broker_destroy(b);
        return st;
    }
    *out = b;
    return GB_OK;
}

void gb_broker_destroy(gb_broker *b)
{
    if (!b)
        return;
    pthread_mutex_destroy(&b->lock);
    free(b);
}

uint32_t gb_broker_count(const gb_broker *b)
{
    return b ? b->n : 0;
}

/* Advance a breaker whose cool-down ended to half-open (under lock). */
static void breaker_tick(gb_broker *b, broker_entry *e)
{
    if (e->d.breaker == GB_BREAKER_OPEN && broker_now(b) >= e->open_until) {
        e->d.breaker = GB_BREAKER_HALF_OPEN;
        e->half_open_taken = 0;
    }
}

gb_status gb_broker_get(gb_broker *b, uint32_t i, gb_broker_device *out)
{
    if (!b || !out)
        return gbi_error(GB_EINVAL, "broker_get", "NULL broker or output");
    if (i >= b->n)
        return gbi_error(GB_ENOENT, "broker_get", "no entry %u (have %u)", i, b->n);
    pthread_mutex_lock(&b->lock);
    breaker_tick(b, &b->e[i]);
    *out = b->e[i].d;
    pthread_mutex_unlock(&b->lock);
    return GB_OK;
}

gb_status gb_broker_find(gb_broker *b, const char *backend, uint32_t *index)
{
    if (!b || !backend || !index)
        return gbi_error(GB_EINVAL, "broker_find", "NULL argument");
    for (uint32_t i = 0; i < b->n; i++)
        if (strcmp(b->e[i].d.info.backend, backend) == 0) {
            *index = i;
            return GB_OK;
        }
    return gbi_error(GB_ENOENT, "broker_find", "backend '%s' is not in the device chain", backend);
}

/* Why entry e cannot be used now, or NULL (under lock). */
static const char *skip_reason(gb_broker *b, broker_entry *e)
{
    if (!e->d.available)
        return e->d.why_unavailable;
    breaker_tick(b, e);
    if (e->d.breaker == GB_BREAKER_OPEN)
        return "circuit breaker open";
    if (e->d.breaker == GB_BREAKER_HALF_OPEN && e->half_open_taken)
        return "circuit breaker half-open, trial in progress";
    return NULL;
}

gb_status gb_broker_acquire(gb_broker *b, uint32_t from, uint32_t *index)
{
    if (!b || !index)
        return gbi_error(GB_EINVAL, "broker_acquire", "NULL argument");
    char why[768] = "";
    size_t used = 0;
    pthread_mutex_lock(&b->lock);
    for (uint32_t i = from; i < b->n; i++) {
        broker_entry *e = &b->e[i];
        const char *r = skip_reason(b, e);
        if (!r) {
            if (e->d.breaker == GB_BREAKER_HALF_OPEN)
                e->half_open_taken = 1;
            e->d.load++;
            *index = i;
            pthread_mutex_unlock(&b->lock);
            return GB_OK;
        }
        int n = snprintf(why + used, sizeof why - used, "%s%s: %.200s", used ? "; " : "", e->d.info.backend, r);
        used = n > 0 && used + (size_t)n < sizeof why ? used + (size_t)n : used;
    }
    pthread_mutex_unlock(&b->lock);
    return gbi_error(GB_ENOENT, "broker_acquire", "no usable device left in the chain (%s)", why);
}

/* A failure on e at now (under lock): health, window, breaker. */
static void record_failure(gb_broker *b, broker_entry *e, int64_t now, const char *reason)
{
    e->d.failures++;
    if (e->d.healthy)
        e->d.unhealthy_since_ns = now;
    e->d.healthy = 0;
    snprintf(e->d.unhealthy_reason, sizeof e->d.unhealthy_reason, "%s", reason ? reason : "operation failed");
    if (e->window_failures == 0 || now - e->window_start > b->opts.breaker_window_ns) {
        e->window_start = now;
        e->window_failures = 0;
    }
    e->window_failures++;
    if (e->d.breaker == GB_BREAKER_HALF_OPEN || e->window_failures >= b->opts.breaker_failures) {
        e->d.breaker = GB_BREAKER_OPEN;
        e->open_until = now + b->opts.breaker_cooldown_ns;
        e->window_failures = 0;
    }
}

gb_status gb_broker_report(gb_broker *b, uint32_t i, gb_status result, const char *reason)
{
    if (!b)
        return gbi_error(GB_EINVAL, "broker_report", "broker is NULL");
    if (i >= b->n)
        return gbi_error(GB_ENOENT, "broker_report", "no entry %u", i);
    pthread_mutex_lock(&b->lock);
    broker_entry *e = &b->e[i];
    if (e->d.load > 0)
        e->d.load--;
    if (result == GB_OK) {
        e->d.successes++;
        e->d.healthy = 1;
        e->d.unhealthy_reason[0] = '\0';
        if (e->d.breaker == GB_BREAKER_HALF_OPEN)
            e->d.breaker = GB_BREAKER_CLOSED;
        e->window_failures = 0;
    } else {
        record_failure(b, e, broker_now(b), reason);
    }
    pthread_mutex_unlock(&b->lock);
    return GB_OK;
}

gb_status gb_broker_release(gb_broker *b, uint32_t i)
{
    if (!b)
        return gbi_error(GB_EINVAL, "broker_release", "broker is NULL");
    if (i >= b->n)
        return gbi_error(GB_ENOENT, "broker_release", "no entry %u", i);
    pthread_mutex_lock(&b->lock);
    if (b->e[i].d.load > 0)
        b->e[i].d.load--;
    if (b->e[i].d.breaker == GB_BREAKER_HALF_OPEN)
        b->e[i].half_open_taken = 0;
    pthread_mutex_unlock(&b->lock);
    return GB_OK;
}

gb_status gb_broker_inject_fault(gb_broker *b, const char *backend, gb_device_op op, int32_t count)
{
    if (!b || !backend || (unsigned)op >= GB_OP_COUNT)
        return gbi_error(GB_EINVAL, "broker_inject_fault", "NULL broker or backend, or unknown operation");
    uint32_t i;
    gb_status st = gb_broker_find(b, backend, &i);
    if (st != GB_OK)
        return st;
    pthread_mutex_lock(&b->lock);
    b->e[i].faults[op] = count;
    pthread_mutex_unlock(&b->lock);
    return GB_OK;
}

gb_status gb_broker_fault_check(gb_broker *b, uint32_t i, gb_device_op op)
{
    if (!b || i >= b->n || (unsigned)op >= GB_OP_COUNT)
        return GB_OK;
    pthread_mutex_lock(&b->lock);
    int32_t *f = &b->e[i].faults[op];
    int fire = *f != 0;
    if (*f > 0)
        (*f)--;
    pthread_mutex_unlock(&b->lock);
    if (!fire)
        return GB_OK;
    return gbi_error(GB_EDEVICE, "fault_injection", "injected fault: %s %s failed on purpose",
                     b->e[i].d.info.backend, op_names[op]);
}
