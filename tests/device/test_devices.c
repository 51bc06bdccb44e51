/* The public device list and backend availability (gpubridge/device.h). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "gpubridge/device.h"

Test(devices, cpu_is_always_listed_first)
{
    gb_device_info d[8];
    uint32_t n = 0;
    cr_assert_eq(gb_device_list(d, 8, &n), GB_OK);
    cr_assert_geq(n, 1);
    cr_assert_str_eq(d[0].backend, "cpu");
    cr_assert(d[0].shared_memory);
    cr_assert_eq(gb_backend_available("cpu"), GB_OK);
}

Test(devices, count_is_total_even_when_the_buffer_is_short)
{
    uint32_t all = 0, some = 0;
    cr_assert_eq(gb_device_list(NULL, 0, &all), GB_OK);
    gb_device_info one;
    cr_assert_eq(gb_device_list(&one, 1, &some), GB_OK);
    cr_assert_eq(all, some);
    cr_assert_eq(gb_device_list(NULL, 1, &some), GB_EINVAL);
    cr_assert_eq(gb_device_list(&one, 1, NULL), GB_EINVAL);
}

Test(devices, opencl_devices_are_listed_when_opencl_is_available)
{
    if (gb_backend_available("opencl") != GB_OK)
        cr_skip_test("no OpenCL here: %s", gb_last_error());
    gb_device_info d[8];
    uint32_t n = 0;
    cr_assert_eq(gb_device_list(d, 8, &n), GB_OK);
    cr_assert_geq(n, 2);
    cr_assert_str_eq(d[1].backend, "opencl");
    cr_assert_gt(strlen(d[1].name), 0);
    cr_assert_gt(d[1].compute_units, 0);
}

Test(devices, unavailable_backends_say_why)
{
    if (gb_backend_available("cuda") != GB_OK) /* no NVIDIA driver here: it says what to install */
        cr_assert_not_null(strstr(gb_last_error(), "libcuda.so.1"), "%s", gb_last_error());
    cr_assert_eq(gb_backend_available("tpu"), GB_ENOTSUP);
    cr_assert_eq(gb_backend_available(NULL), GB_EINVAL);
    setenv("GB_OPENCL_LIBRARY", "/nonexistent/libOpenCL.so.1", 1);
    cr_assert_eq(gb_backend_available("opencl"), GB_ENOTSUP);
    cr_assert_not_null(strstr(gb_last_error(), "ocl-icd-libopencl1"), "%s", gb_last_error());
}
