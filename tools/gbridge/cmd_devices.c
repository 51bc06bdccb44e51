/* gbridge devices [--json]: every backend of the device chain ($GB_DEVICES
 * or cuda,opencl,cpu), found or not and why not, each device with its
 * capabilities and health, and the kernel cache. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "gpubridge/broker.h"
#include "gpubridge/kernel.h"

/* s as a JSON string body (quotes and control characters escaped). */
static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", (unsigned char)*s);
        else
            putchar(*s);
    }
    putchar('"');
}

static void print_text(const gb_broker_device *d)
{
    if (!d->available) {
        printf("%s: not available: %s\n", d->info.backend, d->why_unavailable);
        return;
    }
    printf("%s: %s\n", d->info.backend, d->info.name);
    printf("    version %s, driver %s\n", d->info.version, d->driver[0] ? d->driver : "?");
    printf("    compute units %u, memory %" PRIu64 " MiB, shared memory (SVM) %s, timer resolution %" PRId64
           " ns\n", d->info.compute_units, d->global_mem >> 20, d->info.shared_memory ? "yes" : "no",
           d->timer_resolution_ns);
    printf("    health %s, breaker %s, load %u\n", d->healthy ? "healthy" : "unhealthy",
           gb_breaker_state_name(d->breaker), d->load);
}

static void print_json(const gb_broker_device *d, int last)
{
    printf("    {\"backend\": ");
    json_str(d->info.backend);
    printf(", \"available\": %s", d->available ? "true" : "false");
    if (!d->available) {
        printf(", \"why\": ");
        json_str(d->why_unavailable);
    } else {
        printf(", \"name\": ");
        json_str(d->info.name);
        printf(", \"version\": ");
        json_str(d->info.version);
        printf(", \"driver\": ");
        json_str(d->driver);
        printf(", \"compute_units\": %u, \"memory_bytes\": %" PRIu64 ", \"svm\": %s, \"timer_resolution_ns\": %"
               PRId64 ", \"healthy\": %s, \"breaker\": \"%s\", \"load\": %u", d->info.compute_units, d->global_mem,
               d->info.shared_memory ? "true" : "false", d->timer_resolution_ns, d->healthy ? "true" : "false",
               gb_breaker_state_name(d->breaker), d->load);
    }
    printf("}%s\n", last ? "" : ",");
}

int gbridge_cmd_devices(int argc, char **argv)
{
    int json = argc > 1 && strcmp(argv[1], "--json") == 0;
    if (argc > 2 || (argc == 2 && !json)) {
        fprintf(stderr, "usage: gbridge devices [--json]\n");
        return 2;
    }
    gb_broker *b = NULL;
    gb_status st = gb_broker_create(&b, NULL);
    if (st != GB_OK) {
        fprintf(stderr, "gbridge devices: %s: %s\n", gb_strerror(st), gb_last_error());
        return 1;
    }
    gb_kernel_cache_counters cache;
    gb_kernel_cache_stats(&cache);
    uint32_t n = gb_broker_count(b);
    if (json)
        printf("{\n  \"devices\": [\n");
    for (uint32_t i = 0; i < n; i++) {
        gb_broker_device d;
        gb_broker_get(b, i, &d);
        if (json)
            print_json(&d, i + 1 == n);
        else
            print_text(&d);
    }
    if (json) {
        printf("  ],\n  \"kernel_cache\": ");
        json_str(cache.enabled ? cache.dir : "off");
        printf("\n}\n");
    } else {
        printf("kernel cache: %s\n", cache.enabled ? cache.dir : "off (GB_KERNEL_CACHE=off)");
    }
    gb_broker_destroy(b);
    return 0;
}
