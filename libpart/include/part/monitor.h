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
    bool usable_valid;      /* mem_usable is known (part_history_add_usable()) */
    uint64_t mem_usable;    /* MiB the guest could use without swapping (MemAvailable) */
    /* the guest's paging over the last interval (part_history_add_paging()) */
    bool faults_valid;        /* major_faults is known */
    bool swap_valid;          /* swap_in and swap_out are known */
    double major_faults;      /* major page faults per second */
    double swap_in, swap_out; /* MiB per second */
};

/* The most a paging rate is taken to be: a guest's counters are its own
 * to make up, and a jump must not become an infinity or an overflow. */
#define PART_PAGING_RATE_MAX 1e9

/* The host's memory as the monitor samples it every interval (struct
 * part_hv_ops' memory); what is unknown has its has_* false. */
struct part_host_memory {
    bool has_free;
    uint64_t free; /* MiB the host has free, as libvirt says */
    /* the host's memory pressure (/proc/pressure/memory "some avg10", a
     * percentage of time): only for a hypervisor on this host, where the
     * kernel has it */
    bool has_psi;
    double psi_some10;
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
    /* the paging counters of the previous sample, and when it was taken */
    bool last_has_faults, last_has_swap;
    uint64_t last_faults, last_swap_in, last_swap_out; /* faults, KiB, KiB */
    double last_paging_t;
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

/* Adds the guest's paging counters (cumulative: major faults, KiB swapped
 * in and out; has_* false when the guest did not report them) to the
 * sample part_history_add() just added, as rates since the previous
 * sample's. A counter that went backwards (the guest rebooted, or lies)
 * starts over, and a rate is at most PART_PAGING_RATE_MAX. */
void part_history_add_paging(struct part_history *h, bool has_faults, uint64_t faults,
                             bool has_swap, uint64_t swap_in_kib, uint64_t swap_out_kib);

/* Adds what the guest could use without swapping (its MemAvailable, MiB)
 * to the sample part_history_add() just added: what reclaimable caches it
 * holds counted, the memory its kernel keeps in reserve not. */
void part_history_add_usable(struct part_history *h, uint64_t usable);

/* Reads "some avg10" from the text of /proc/pressure/memory (a percentage
 * of time, 0 to 100) into *ret; false when the text has none. */
bool part_psi_some_avg10(const char *text, double *ret);

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
