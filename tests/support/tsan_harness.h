/*
 * Concurrency tests that also run under ThreadSanitizer.
 *
 * Criterion's runner cannot run under GCC's TSan (upstream issue
 * Snaipe/Criterion#274, still open): at start-up it maps its inheritable
 * arena with MAP_FIXED at a random address in 0x2000'0000'0000..0x6000'0000'0000,
 * most of which TSan reserves for its shadow and meta memory, so the runner
 * aborts ("Could not initialize inheritable arena") or crashes in about 11
 * runs out of 12. No suppression can help: it is not a race report.
 *
 * So a concurrency test writes GB_TEST(suite, name) and GB_CHECK(cond, fmt,
 * ...). In a normal or ASan build these are exactly Criterion's Test() and
 * cr_assert(). In a TSan build (__SANITIZE_THREAD__) GB_TEST registers the
 * body in a table and this header supplies main(), which runs every body in
 * order in one process (arguments such as --jobs=1 are ignored); a failed
 * GB_CHECK prints "file:line: suite::name: message" and exits with status 1.
 * Include this header in exactly one file per test program (the test file).
 */
#ifndef GB_TESTS_TSAN_HARNESS_H
#define GB_TESTS_TSAN_HARNESS_H

#if defined(__SANITIZE_THREAD__)

#include <stdio.h>
#include <stdlib.h>

#define GB_HARNESS_MAX_TESTS 64

struct gb_harness_test {
    const char *suite;
    const char *name;
    void (*body)(void);
};

static struct gb_harness_test gb_harness_tests[GB_HARNESS_MAX_TESTS];
static int gb_harness_count;
static const struct gb_harness_test *gb_harness_current;

static void gb_harness_register(const char *suite, const char *name, void (*body)(void))
{
    if (gb_harness_count == GB_HARNESS_MAX_TESTS) {
        fprintf(stderr, "tsan_harness: more than %d tests\n", GB_HARNESS_MAX_TESTS);
        exit(2);
    }
    gb_harness_tests[gb_harness_count++] = (struct gb_harness_test){suite, name, body};
}

#define GB_TEST(suite, name)                                                         \
    static void gb_test_##suite##_##name(void);                                      \
    __attribute__((constructor)) static void gb_register_##suite##_##name(void)      \
    {                                                                                \
        gb_harness_register(#suite, #name, gb_test_##suite##_##name);                \
    }                                                                                \
    static void gb_test_##suite##_##name(void)

#define GB_CHECK(cond, ...)                                                          \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: %s::%s: check failed: %s: ", __FILE__, __LINE__, \
                    gb_harness_current->suite, gb_harness_current->name, #cond);     \
            fprintf(stderr, __VA_ARGS__);                                            \
            fputc('\n', stderr);                                                     \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)

/* Skip the rest of a test, saying why (Criterion: cr_skip_test). */
#define GB_SKIP(...)                                                                 \
    do {                                                                             \
        fprintf(stderr, "skipped: " __VA_ARGS__);                                    \
        fputc('\n', stderr);                                                         \
        return;                                                                      \
    } while (0)

int main(void)
{
    for (int i = 0; i < gb_harness_count; i++) {
        gb_harness_current = &gb_harness_tests[i];
        gb_harness_current->body();
        fprintf(stderr, "[PASS] %s::%s\n", gb_harness_current->suite, gb_harness_current->name);
    }
    fprintf(stderr, "tsan_harness: %d tests passed\n", gb_harness_count);
    return gb_harness_count > 0 ? 0 : 1;
}

#else /* Criterion */

#include <criterion/criterion.h>

#define GB_TEST(suite, name) Test(suite, name)
#define GB_CHECK(cond, ...) cr_assert(cond, __VA_ARGS__)
#define GB_SKIP(...) cr_skip_test(__VA_ARGS__)

#endif
#endif
