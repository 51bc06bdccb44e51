/*
 * The ways users consume the library: the contract link line
 * (-Iinclude build/libgpubridge.a -lpthread -ldl -lm), and after
 * `cmake --install`, pkg-config and find_package(gpubridge).
 * Skipped in sanitizer builds, whose archive needs the sanitizer runtime.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char workdir[256];

static void make_workdir(void)
{
    snprintf(workdir, sizeof workdir, "%s/install-test-XXXXXX", GB_BINARY_DIR);
    cr_assert_not_null(mkdtemp(workdir));
}

static void write_program(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/user.c", workdir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("#include <gpubridge/gpubridge.h>\n#include <stdio.h>\n"
          "int main(void) { gb_hlc *c; if (gb_hlc_create(&c, NULL) != GB_OK) return 1;\n"
          "  gb_hlc_t a = gb_hlc_now(c), b = gb_hlc_now(c); gb_hlc_destroy(c);\n"
          "  printf(\"%s\\n\", gb_version()); return b > a ? 0 : 1; }\n",
          f);
    fclose(f);
}

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
    return rc;
}

static void skip_in_sanitizer_builds(void)
{
    if (strlen(GB_SANITIZE_MODE) > 0)
        cr_skip_test("sanitizer build: the archive needs the sanitizer runtime to link");
}

Test(install, contract_link_line_builds_and_runs)
{
    skip_in_sanitizer_builds();
    make_workdir();
    write_program();
    cr_assert_eq(run("cd %s && cc user.c -I%s/include %s/libgpubridge.a -lpthread -ldl -lm -o user "
                     "&& ./user >/dev/null",
                     workdir, GB_SOURCE_DIR, GB_BINARY_DIR),
                 0);
}

Test(install, pkg_config_and_find_package_work_after_install)
{
    skip_in_sanitizer_builds();
    make_workdir();
    write_program();
    cr_assert_eq(run("cmake --install %s --prefix %s/prefix >/dev/null", GB_BINARY_DIR, workdir), 0);
    cr_assert_eq(run("cd %s && PKG_CONFIG_PATH=%s/prefix/lib/pkgconfig cc user.c "
                     "$(PKG_CONFIG_PATH=%s/prefix/lib/pkgconfig pkg-config --cflags --libs --static gpubridge) "
                     "-Wl,-rpath,%s/prefix/lib -o user_pc && ./user_pc >/dev/null",
                     workdir, workdir, workdir, workdir),
                 0);
    char path[512];
    snprintf(path, sizeof path, "%s/CMakeLists.txt", workdir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("cmake_minimum_required(VERSION 3.25)\nproject(user C)\nfind_package(gpubridge REQUIRED)\n"
          "add_executable(user_cmake user.c)\ntarget_link_libraries(user_cmake gpubridge::gpubridge)\n",
          f);
    fclose(f);
    cr_assert_eq(run("cd %s && cmake -S . -B b -DCMAKE_PREFIX_PATH=%s/prefix >/dev/null "
                     "&& cmake --build b >/dev/null && ./b/user_cmake >/dev/null",
                     workdir, workdir),
                 0);
    run("rm -rf %s", workdir);
}
