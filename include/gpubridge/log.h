/*
 * Logging: one line per record on stderr, "time level subsystem: message".
 * The level comes from the GB_LOG environment variable
 * (debug|info|warn|error|off; default warn), read once on first use.
 */
#ifndef GPUBRIDGE_LOG_H
#define GPUBRIDGE_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gb_log_level {
    GB_LOG_DEBUG = 0,
    GB_LOG_INFO = 1,
    GB_LOG_WARN = 2,
    GB_LOG_ERROR = 3,
    GB_LOG_OFF = 4
} gb_log_level;

/* Write one record if level >= the configured level. subsystem names the
 * layer ("clock", "ring", ...). Thread-safe: a record is written with one
 * write(2), so lines from different threads do not interleave. */
void gb_log(gb_log_level level, const char *subsystem, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Whether a record at this level would be written. Thread-safe. */
int gb_log_enabled(gb_log_level level);

/* Parse "debug", "info", "warn", "error" or "off"; returns GB_LOG_WARN for
 * NULL or unknown text. Thread-safe. */
gb_log_level gb_log_level_parse(const char *text);

#ifdef __cplusplus
}
#endif
#endif
