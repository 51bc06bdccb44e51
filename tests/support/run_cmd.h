/*
 * Test support: run a shell command line and capture what it prints, for
 * the tests that drive build/gbridge (tests/demo, tests/device).
 */
#ifndef GB_TEST_RUN_CMD_H
#define GB_TEST_RUN_CMD_H

#include <stddef.h>

/* Run cmd with popen; up to cap - 1 bytes of its stdout into out
 * (NUL-terminated). Returns its exit status, or -1 when it could not be
 * started or did not exit normally. */
int gbt_run_cmd(const char *cmd, char *out, size_t cap);

#endif
