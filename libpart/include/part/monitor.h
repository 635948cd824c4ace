/* The monitor: per-partition samples from one bulk-stats call per interval,
 * turned from counters into rates, kept as a short history for the planner.
 * Samples that are stale or incomplete are marked and never feed a
 * decision. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "part/error.h"

#define PART_HISTORY_MAX     64 /* samples kept per partition */
#define PART_ROLLING_BUCKETS 48 /* buckets of the defined-capacity rolling average */

struct part_sample {
    double t;               /* seconds on a monotonic clock */
    bool valid;             /* CPU use is known (two fresh counters in a row) */
    double used;            /* processors used over the last interval */
    unsigned online;        /* online processors at the sample */
    bool mem_valid;         /* the guest reported its memory (balloon stats) */
    uint64_t mem_target;    /* MiB: the balloon's current size */
    uint64_t mem_available; /* MiB: what the guest sees in all */
    uint64_t mem_unused;    /* MiB: what the guest leaves unused */
};

/* Rolling average of use over a long window (defined capacity), kept in
 * buckets so that hours cost a few hundred bytes. */
struct part_rolling {
    double window;                    /* seconds */
    double start;                     /* when the current bucket started */
    size_t cur;                       /* current bucket */
    double sum[PART_ROLLING_BUCKETS]; /* processor-seconds used */
    double dt[PART_ROLLING_BUCKETS];  /* seconds observed */
};

struct part_history {
    struct part_sample s[PART_HISTORY_MAX]; /* ring */
    size_t head;                            /* next slot */
    size_t n;                               /* samples held, up to PART_HISTORY_MAX */
    uint64_t last_cpu_ns;                   /* the counter of the previous sample, 0 when none */
    double last_t;
    struct part_rolling rolling;
};

/* The i-th most recent sample (0 = newest), or NULL when there are fewer. */
const struct part_sample *part_history_get(const struct part_history *h, size_t i);

/* Appends a sample made at time t from a cumulative CPU counter (has_cpu
 * false when the backend did not report one) and the memory figures, in
 * MiB (mem_valid false when the guest reported none). A counter that went
 * backwards (the domain restarted) starts over: that sample is not valid. */
void part_history_add(struct part_history *h, double t, bool has_cpu, uint64_t cpu_ns,
                      unsigned online, bool mem_valid, uint64_t mem_target, uint64_t mem_available,
                      uint64_t mem_unused);

/* Marks the history stale (the partition stopped, or stats failed): the
 * next sample cannot make a rate. */
void part_history_break(struct part_history *h);

/* Average processors used over the rolling window, and how many seconds of
 * it were observed (*ret_seen; a decision wants most of the window). */
double part_history_rolling(const struct part_history *h, double *ret_seen);

/* Sets the rolling window (seconds), emptying it. */
void part_history_set_window(struct part_history *h, double window);

/* The rolling window in effect: the one set, or 4 hours when none was. */
double part_history_window(const struct part_history *h);
