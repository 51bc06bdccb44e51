/* gbridge version: the library version. */
#include <stdio.h>

#include "commands.h"
#include "gpubridge/version.h"

int gbridge_cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("gpubridge %s\n", gb_version());
    return 0;
}
