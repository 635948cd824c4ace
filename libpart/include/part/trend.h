/* A partition's trend: what the console charts, the last hour of samples
 * (use, entitlement, weight, processors, memory), one point per step
 * (the monitor's interval, or a multiple of it no shorter than
 * PART_TREND_STEP), in a ring sized once from the interval. The planner's
 * history (monitor.h) is shorter and its own. A trend is reference
 * counted: the partition holds one reference and each snapshot another,
 * so that snapshots share it rather than copy an hour of samples every
 * interval; its own lock (a leaf: held only to copy points in or out)
 * lets readers copy from it without the manager's lock. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PART_TREND_SPAN 3600.0 /* seconds kept */
/* Seconds between points at least: an hour is then 720 points (23 KiB) a
 * partition, whatever the interval; at interval 1 s a point a second cost
 * 115 KiB a partition, 112 MiB for 1,000 (docs/BENCHMARKS.md, footprint) */
#define PART_TREND_STEP 5.0
#define PART_TREND_MIN  2

/* One sample; compact, as an hour of them is kept per partition. */
struct part_trend_point {
    double at;           /* seconds since the epoch */
    float used;          /* processors used over the interval; NaN when unknown */
    float entitlement;   /* processors */
    uint32_t weight;     /* 0 when the partition has none (dedicated) */
    uint32_t online;     /* logical processors online */
    uint32_t mem_target; /* MiB */
    uint32_t mem_actual; /* MiB, what the balloon reports; 0 when unknown */
};

struct part_trend;

/* How many of the monitor's samples make one point at interval seconds:
 * 1 when the interval is PART_TREND_STEP or longer. */
unsigned part_trend_stride(double interval);

/* The number of points a trend keeps at monitor interval seconds: an hour's
 * worth at one point per stride samples, at least PART_TREND_MIN. */
size_t part_trend_capacity(double interval);

/* A new trend of part_trend_capacity(interval) points with one reference,
 * or NULL on ENOMEM. */
struct part_trend *part_trend_new(double interval);

/* Takes a reference (t may be NULL); returns t. */
struct part_trend *part_trend_ref(struct part_trend *t);

/* Drops a reference (t may be NULL); frees t with the last. Returns NULL. */
struct part_trend *part_trend_put(struct part_trend *t);

/* Offers the monitor's sample pt: the first of every stride samples is
 * appended, overwriting the oldest point when full; the others are
 * dropped. Points are numbered from 0 in the order they were kept (their
 * seq). */
void part_trend_add(struct part_trend *t, const struct part_trend_point *pt);

/* The seq the next point will have (the number of points ever added). */
uint64_t part_trend_next(struct part_trend *t);

/* The interval and capacity the trend was made for. */
double part_trend_interval(const struct part_trend *t);
size_t part_trend_size(const struct part_trend *t);

/* Copies the points still held whose seq is at least since and below upto,
 * oldest first, into a new array *ret_points (caller frees; NULL when
 * none), their number into *ret_n and the seq of the first into
 * *ret_first. A since above upto (a client that counted on an earlier
 * partd) reads from the oldest point held. Returns 0 or -ENOMEM. */
int part_trend_read(struct part_trend *t, uint64_t since, uint64_t upto,
                    struct part_trend_point **ret_points, size_t *ret_n, uint64_t *ret_first);
