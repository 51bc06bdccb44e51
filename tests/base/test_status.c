/* Status codes, names and the per-thread last-error buffer. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#include "base/error.h"
#include "gpubridge/status.h"

Test(status, every_code_has_a_name_and_sentence)
{
    for (int s = GB_OK; s >= GB_EINTERNAL; s--) {
        cr_assert_str_neq(gb_status_name(s), "GB_UNKNOWN", "code %d", s);
        cr_assert_str_neq(gb_strerror(s), "unknown status code", "code %d", s);
    }
    cr_assert_str_eq(gb_status_name(GB_EDEADLK), "GB_EDEADLK");
}

Test(status, unknown_code_gives_generic_text)
{
    cr_assert_str_eq(gb_status_name(-9999), "GB_UNKNOWN");
    cr_assert_str_eq(gb_strerror(42), "unknown status code");
}

Test(status, gbi_error_returns_status_and_records_detail)
{
    gb_clear_error();
    cr_assert_str_eq(gb_last_error(), "");
    int s = gbi_error(GB_EPARSE, "dsl", "%d:%d: unexpected '%s'", 3, 7, "end");
    cr_assert_eq(s, GB_EPARSE);
    cr_assert_str_eq(gb_last_error(), "dsl: 3:7: unexpected 'end'");
}

Test(status, long_detail_is_truncated_not_overflowed)
{
    char big[4096];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    gbi_error(GB_EINVAL, "where", "%s", big);
    cr_assert(strlen(gb_last_error()) < 1024);
    cr_assert(strncmp(gb_last_error(), "where: xxx", 10) == 0);
}

static void *raise_on_other_thread(void *arg)
{
    (void)arg;
    gbi_error(GB_EIO, "other", "thread detail");
    return NULL;
}

Test(status, last_error_is_per_thread)
{
    gbi_error(GB_EINVAL, "main", "mine");
    pthread_t t;
    pthread_create(&t, NULL, raise_on_other_thread, NULL);
    pthread_join(t, NULL);
    cr_assert_str_eq(gb_last_error(), "main: mine");
}
