/* Test support: running a command line and capturing its output (run_cmd.h). */
#include "support/run_cmd.h"

#include <stdio.h>
#include <sys/wait.h>

int gbt_run_cmd(const char *cmd, char *out, size_t cap)
{
    out[0] = '\0';
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
