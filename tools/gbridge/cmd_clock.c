/* gbridge clock: which host time source is in use, and HLC timestamps. */
#include <inttypes.h>
#include <stdio.h>

#include "commands.h"
#include "gpubridge/clock.h"
#include "gpubridge/time.h"

int gbridge_cmd_clock(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    gb_time_source_info info;
    gb_time_source(&info);
    printf("fast time source: %s", info.name);
    if (info.why_not_tsc)
        printf(" (TSC not used: %s)", info.why_not_tsc);
    else
        printf(" (%.3f GHz, calibration error %.3f ppm)", info.tsc_ghz, info.calibration_error_ppm);
    printf("\n");
    int64_t rt = gb_time_realtime_ns(), fast = gb_time_realtime_fast_ns();
    printf("HLC physical source: %s (now %+lld ns from CLOCK_REALTIME)\n",
           info.why_not_tsc ? "CLOCK_REALTIME" : "CLOCK_REALTIME extrapolated with the TSC",
           (long long)(fast - rt));
    gb_hlc *clock;
    gb_status st = gb_hlc_create(&clock, NULL);
    if (st != GB_OK) {
        fprintf(stderr, "gbridge clock: %s\n", gb_strerror(st));
        return 1;
    }
    for (int i = 0; i < 3; i++) {
        gb_hlc_t t = gb_hlc_now(clock);
        printf("hlc %016" PRIx64 "  physical %" PRId64 " ns  logical %u\n", t, gb_hlc_physical_ns(t),
               gb_hlc_logical(t));
    }
    gb_hlc_destroy(clock);
    return 0;
}
