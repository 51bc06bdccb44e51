/*
 * GB_TEST / GB_CHECK for the ring's concurrency tests, so they also run
 * under ThreadSanitizer. Criterion's runner aborts at start-up under GCC's
 * TSan (upstream Snaipe/Criterion#274: its inheritable arena is mapped at a
 * fixed random address that collides with TSan's shadow ranges), so in a
 * TSan build (__SANITIZE_THREAD__) GB_TEST registers each body and this
 * header supplies a main() that runs them in order; a failed GB_CHECK
 * prints "file:line: suite::name: cond: message" and exits 1. In every
 * other build they are Criterion's Test() and cr_assert().
 *
 * Same API as the clocks branch's tests/base/tsan_harness.h; once both are
 * merged, this copy can be replaced by an include of that one.
 * Include in exactly one file per test program.
 */
#ifndef GB_TESTS_RING_TSAN_HARNESS_H
#define GB_TESTS_RING_TSAN_HARNESS_H

#if defined(__SANITIZE_THREAD__)
#include <stdio.h>
#include <stdlib.h>

#define GB_RING_HARNESS_MAX 64

typedef struct gb_ring_harness_test {
    const char *suite;
    const char *name;
    void (*body)(void);
} gb_ring_harness_test;

static gb_ring_harness_test gb_ring_harness[GB_RING_HARNESS_MAX];
static int gb_ring_harness_n;
static const gb_ring_harness_test *gb_ring_harness_cur;

static void gb_ring_harness_add(const char *suite, const char *name, void (*body)(void))
{
    if (gb_ring_harness_n == GB_RING_HARNESS_MAX) {
        fprintf(stderr, "tsan_harness: more than %d tests\n", GB_RING_HARNESS_MAX);
        exit(2);
    }
    gb_ring_harness[gb_ring_harness_n++] = (gb_ring_harness_test){suite, name, body};
}

#define GB_TEST(suite, name)                                                                  \
    static void gb_test_##suite##_##name(void);                                               \
    __attribute__((constructor)) static void gb_reg_##suite##_##name(void)                    \
    {                                                                                         \
        gb_ring_harness_add(#suite, #name, gb_test_##suite##_##name);                         \
    }                                                                                         \
    static void gb_test_##suite##_##name(void)

#define GB_CHECK(cond, ...)                                                                   \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "%s:%d: %s::%s: check failed: %s: ", __FILE__, __LINE__,          \
                    gb_ring_harness_cur->suite, gb_ring_harness_cur->name, #cond);            \
            fprintf(stderr, __VA_ARGS__);                                                     \
            fputc('\n', stderr);                                                              \
            exit(1);                                                                          \
        }                                                                                     \
    } while (0)

int main(void)
{
    for (int i = 0; i < gb_ring_harness_n; i++) {
        gb_ring_harness_cur = &gb_ring_harness[i];
        gb_ring_harness_cur->body();
        fprintf(stderr, "[PASS] %s::%s\n", gb_ring_harness_cur->suite, gb_ring_harness_cur->name);
    }
    fprintf(stderr, "tsan_harness: %d tests passed\n", gb_ring_harness_n);
    return gb_ring_harness_n > 0 ? 0 : 1;
}

#else
#include <criterion/criterion.h>
#define GB_TEST(suite, name) Test(suite, name)
#define GB_CHECK(cond, ...) cr_assert(cond, __VA_ARGS__)
#endif
#endif
