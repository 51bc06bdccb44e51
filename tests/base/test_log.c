/* Logging: threshold from GB_LOG, one line per record with time, level and subsystem. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpubridge/log.h"

/* Each Criterion test runs in its own process, so GB_LOG is read afresh. */

/* Point fd 2 at a fresh pipe and return its read end. */
static int capture_stderr(void)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    cr_assert_geq(dup2(fds[1], STDERR_FILENO), 0);
    close(fds[1]);
    return fds[0];
}

Test(log, records_at_or_above_threshold_are_written)
{
    setenv("GB_LOG", "info", 1);
    int rd = capture_stderr();
    gb_log(GB_LOG_DEBUG, "clock", "hidden %d", 1);
    gb_log(GB_LOG_INFO, "clock", "shown %d", 2);
    close(STDERR_FILENO);
    char buf[512] = {0};
    ssize_t n = read(rd, buf, sizeof buf - 1);
    cr_assert_gt(n, 0);
    cr_assert_not_null(strstr(buf, " info  clock: shown 2\n"), "got: %s", buf);
    cr_assert_null(strstr(buf, "hidden"), "got: %s", buf);
    cr_assert_eq(strchr(buf, '\n'), buf + n - 1, "exactly one line expected: %s", buf);
}

Test(log, off_writes_nothing)
{
    setenv("GB_LOG", "off", 1);
    gb_log(GB_LOG_ERROR, "ring", "nothing");
    cr_assert_not(gb_log_enabled(GB_LOG_ERROR));
}

Test(log, default_threshold_is_warn)
{
    unsetenv("GB_LOG");
    cr_assert(gb_log_enabled(GB_LOG_WARN));
    cr_assert_not(gb_log_enabled(GB_LOG_INFO));
}
