/*
 * Leveled logging to stderr. The threshold is read from GB_LOG once
 * (pthread_once), after which it is immutable; each record is formatted into
 * a stack buffer and written with a single write(2) so concurrent records
 * never interleave within a line.
 */
#include "gpubridge/log.h"
#include "gpubridge/time.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_once_t log_once = PTHREAD_ONCE_INIT;
static gb_log_level log_threshold = GB_LOG_WARN;

static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

gb_log_level gb_log_level_parse(const char *text)
{
    if (!text)
        return GB_LOG_WARN;
    for (int i = 0; i <= GB_LOG_OFF; i++)
        if (strcmp(text, level_names[i]) == 0)
            return (gb_log_level)i;
    return GB_LOG_WARN;
}

static void log_init(void)
{
    log_threshold = gb_log_level_parse(getenv("GB_LOG"));
}

int gb_log_enabled(gb_log_level level)
{
    pthread_once(&log_once, log_init);
    return level >= log_threshold && level < GB_LOG_OFF;
}

void gb_log(gb_log_level level, const char *subsystem, const char *fmt, ...)
{
    if (!gb_log_enabled(level))
        return;
    char line[1024];
    int64_t now = gb_time_realtime_ns();
    int n = snprintf(line, sizeof line, "%lld.%06lld %-5s %s: ", (long long)(now / 1000000000),
                     (long long)(now % 1000000000 / 1000), level_names[level],
                     subsystem ? subsystem : "gpubridge");
    if (n < 0)
        return;
    if ((size_t)n < sizeof line - 1) {
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
        va_end(ap);
        if (m > 0)
            n += m;
    }
    if ((size_t)n > sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w; /* nothing useful to do if stderr is gone */
}
