/*
 * gbridge: the gpubridge command line. Dispatches `gbridge COMMAND ...` to
 * the command table below.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"version", gbridge_cmd_version, "print the gpubridge version"},
    {"clock", gbridge_cmd_clock, "show the host time source and a few HLC timestamps"},
    {"devices", gbridge_cmd_devices, "list backends (and why one is missing), devices, health [--json]"},
    {"match", gbridge_cmd_match, "run a pattern file over a CSV of events (--check: only compile)"},
    {"demo", gbridge_cmd_demo, "the synthetic bank: account actors on the best device, fraud detection (--json)"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: gbridge COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "gbridge: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
