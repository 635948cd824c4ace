/* What the benchmark programs share: clocks, the median, and the report
 * line run.sh reads. Header-only: each program is one file. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Seconds on clock id (CLOCK_MONOTONIC, CLOCK_THREAD_CPUTIME_ID, ...). */
static inline double bench_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline double bench_mono(void)
{
    return bench_clock(CLOCK_MONOTONIC);
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sorts v (n > 0 values) and returns its median. */
static inline double bench_median(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), bench_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Prints "WHAT n=N median_us=M p90_us=P" of n round trips in seconds
 * (sorts v). */
static inline void bench_report_us(const char *what, double *v, size_t n)
{
    double med = bench_median(v, n);
    printf("%s n=%zu median_us=%.1f p90_us=%.1f\n", what, n, med * 1e6, v[n * 9 / 10] * 1e6);
}
