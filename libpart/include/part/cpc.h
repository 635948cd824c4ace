/* The CPC: the host's processors and memory, the partitions defined on it,
 * their running values, the shared pool, entitlements and admission control.
 * No I/O: the daemon keeps this model in step with the backend. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "part/config.h"
#include "part/monitor.h"
#include "part/error.h"
#include "part/profile.h"
#include "part/trend.h"

/* What the backend said of a running setting. */
enum part_apply {
    PART_APPLY_NONE,        /* nothing to apply (inactive) */
    PART_APPLY_APPLIED,     /* the backend confirmed the running value */
    PART_APPLY_UNSUPPORTED, /* the backend cannot apply it; partd's value stands */
    PART_APPLY_FAILED,      /* the backend refused it */
    PART_APPLY_UNCONFIRMED, /* accepted, not yet seen done (a balloon on its way, a
                               guest not yet showing its processors): re-checked */
};

struct part_backend_status {
    enum part_apply status;
    char detail[512]; /* why, when not applied */
};

/* A move between CPCs (move.h) that a partition is part of. */
enum part_move_dir {
    PART_MOVE_NONE,
    PART_MOVE_OUT, /* active here, migrating to another CPC: nothing else may touch it */
    PART_MOVE_IN,  /* reserved here for a move from another CPC: not running here yet,
                      its running values count in admission control */
};

#define PART_MOVE_ID_MAX 40

struct part_partition {
    struct part_profile *profile; /* owned: the definition the next activation uses */
    bool active;
    enum part_move_dir move;
    char move_id[PART_MOVE_ID_MAX]; /* the move's id while move is not NONE */
    double move_deadline;           /* PART_MOVE_IN: when the reservation expires (monitor clock) */
    /* partd asked the guest to shut down and waits for it (without the
     * manager's lock): still active, but no other mutation may touch it */
    bool deactivating;
    /* partd is to define the domain, but one of its name exists that partd
     * did not define (no mark for this partition): it is left alone, and
     * the partition cannot be activated, until the administrator adopts,
     * removes or marks it. Found at start, reload, reconnect and define. */
    bool foreign;
    /* running values; meaningful while active */
    unsigned processors; /* online logical processors */
    unsigned weight;
    double cap;      /* PART_CAP_NONE when uncapped */
    uint64_t memory; /* memory target in MiB */
    unsigned *cpus;  /* dedicated: the host CPUs owned, one per online processor; owned */
    struct part_backend_status backend[PART_SET_N];
    /* for the planner */
    struct part_history *history;  /* owned; NULL until the first sample */
    struct part_trend *trend;      /* for the console: a reference; NULL until the first sample */
    double changed_at[PART_SET_N]; /* when each setting last changed (monitor clock) */
    bool dc_capped;                /* the running cap is defined capacity's, not the user's */
    /* computed by part_cpc_compute() */
    double entitlement; /* processors */
};

struct part_cpc {
    unsigned cpus;                 /* host CPUs */
    uint64_t memory;               /* host memory, MiB */
    struct part_cpc_config cfg;    /* owned copy */
    struct part_partition **parts; /* owned, in definition order */
    size_t n;
    /* computed by part_cpc_compute() */
    unsigned pool;          /* host CPUs in the shared pool */
    unsigned dedicated;     /* host CPUs owned by active dedicated partitions */
    unsigned weight_total;  /* sum of weights of active shared partitions */
    uint64_t memory_active; /* sum of memory targets of active partitions */
    /* the host's free memory and pressure at the newest sample (the
     * monitor's; all unknown until then) */
    struct part_host_memory host;
};

/* Whether admission control counts p: active, or reserved for a move here
 * (with the running values it will arrive with). */
static inline bool part_partition_holds(const struct part_partition *p)
{
    return p->active || p->move == PART_MOVE_IN;
}

/* Creates a CPC of cpus host CPUs and memory MiB with the settings in cfg
 * (copied). Fails with -EINVAL when the host reserve leaves nothing. */
int part_cpc_new(unsigned cpus, uint64_t memory, const struct part_cpc_config *cfg,
                 struct part_cpc **ret, struct part_error *err);

/* Frees cpc (which may be NULL) and its partitions; returns NULL. */
struct part_cpc *part_cpc_free(struct part_cpc *cpc);

/* Adds an inactive partition for profile. Takes ownership of profile on
 * success only. Refused (-EEXIST) when the name is taken, (-ENOSPC) when the
 * profile could not run even on an empty CPC; err gives the numbers. */
int part_cpc_define(struct part_cpc *cpc, struct part_profile *profile, struct part_error *err);

/* Removes and frees the partition named name: -ENOENT when there is none,
 * -EBUSY when it is active. */
int part_cpc_undefine(struct part_cpc *cpc, const char *name, struct part_error *err);

/* Checks that profile could replace p's (same name, its domain not another
 * partition's, it could run on this CPC at all); nothing is changed. */
int part_cpc_check_profile(const struct part_cpc *cpc, const struct part_partition *p,
                           const struct part_profile *profile, struct part_error *err);

/* Replaces the profile of a defined partition (a profile-scope change). Takes
 * ownership of profile on success. Checks as part_cpc_check_profile(). */
int part_cpc_replace_profile(struct part_cpc *cpc, struct part_partition *p,
                             struct part_profile *profile, struct part_error *err);

/* Returns the partition named name, or NULL. */
struct part_partition *part_cpc_find(const struct part_cpc *cpc, const char *name);

/* Admission control for activating p with its profile's initial values.
 * Returns 0, or -ENOSPC with err stating the numbers that do not add up. */
int part_cpc_check_activate(const struct part_cpc *cpc, const struct part_partition *p,
                            struct part_error *err);

/* Admission control for changing active p's running processors and memory
 * target to the given values (bounds by profile, then capacity). Returns 0,
 * -ERANGE (outside the partition's bounds) or -ENOSPC (over capacity). */
int part_cpc_check_resize(const struct part_cpc *cpc, const struct part_partition *p,
                          unsigned processors, uint64_t memory, struct part_error *err);

/* Admission control on numbers, so that a CPC known only from its API
 * (part_fit_plan()) is counted by the same rules as a part_cpc: the CPC's
 * capacity, and the sums of its active partitions with the one admitted
 * (at the processors and memory asked). */
struct part_capacity {
    unsigned cpus, host_reserved_cpus;
    double cpu_overcommit;
    uint64_t memory, host_reserved_memory; /* MiB */
    double memory_overcommit;
};

struct part_admit_sum {
    unsigned dedicated, shared_online, shared_max, shared_n; /* processors; shared_n partitions */
    uint64_t mem, mem_min;                                   /* MiB */
};

/* cpc's capacity. */
struct part_capacity part_cpc_capacity(const struct part_cpc *cpc);

/* Could a CPC of capacity cap run active partitions summing to s? Checked
 * in the order a person would fix them: dedicated processors (one CPU left
 * for the shared pool when a shared partition is active), the widest
 * shared partition against the pool, the shared logical processors
 * against pool x cpu_overcommit, memory minimums against the memory
 * available, memory against it x memory_overcommit. Returns 0, or -ENOSPC
 * with err (which may be NULL) saying "cannot WHAT NAME: " and the numbers
 * that do not add up. */
int part_admit_verdict(const struct part_capacity *cap, const char *name,
                       const struct part_admit_sum *s, const char *what, struct part_error *err);

/* What admission control counts of the active partitions, kept as running
 * totals for many checks in a row (the planner's, on its scratch CPC):
 * summed once by part_cpc_totals() (O(n)), kept in step by
 * part_cpc_totals_update() after each change of an active partition's
 * running processors or memory, and used by part_cpc_check_resize_totals(). */
struct part_cpc_totals {
    unsigned dedicated;     /* processors of active dedicated partitions */
    unsigned shared_online; /* processors of active shared partitions */
    unsigned shared_n;      /* active shared partitions */
    unsigned pool;          /* usable host CPUs - dedicated */
    unsigned over_pool;     /* active shared partitions with more processors than pool */
    uint64_t memory;        /* memory targets of active partitions, MiB */
    uint64_t mem_min;       /* their profiles' memory minimums, MiB */
};

void part_cpc_totals(const struct part_cpc *cpc, struct part_cpc_totals *t);

/* Call after p's running processors or memory changed from the old values
 * (O(1), or O(n) when a dedicated partition's processors changed). */
void part_cpc_totals_update(const struct part_cpc *cpc, struct part_cpc_totals *t,
                            const struct part_partition *p, unsigned old_processors,
                            uint64_t old_memory);

/* part_cpc_check_resize() against totals that are cpc's, p being one of
 * cpc's partitions: the same result and messages, in O(1) unless a
 * dedicated partition's processors change or an error message has to
 * name numbers that the totals do not hold (then O(n)). */
int part_cpc_check_resize_totals(const struct part_cpc *cpc, const struct part_cpc_totals *t,
                                 const struct part_partition *p, unsigned processors,
                                 uint64_t memory, struct part_error *err);

/* Marks p active with its profile's initial values (dedicated partitions get
 * free host CPUs), or inactive; recomputes the CPC. Call after the backend
 * confirmed. Activation assumes part_cpc_check_activate() passed and returns
 * -ENOSPC otherwise. */
int part_cpc_set_active(struct part_cpc *cpc, struct part_partition *p, bool active);

/* Records active p's new running processors and memory target after the
 * backend confirmed them (dedicated partitions gain or give back host CPUs);
 * recomputes the CPC. Returns -ENOSPC when a dedicated partition would need
 * host CPUs that are not free (checked by part_cpc_check_resize()). */
int part_cpc_set_running(struct part_cpc *cpc, struct part_partition *p, unsigned processors,
                         uint64_t memory);

/* The running value of setting s of p (memory in MiB); for the weight's
 * bounds, the profile's. The settings table's accessor of partitions. */
double part_setting_running(const struct part_partition *p, enum part_setting s);

/* Records active p's new running value v of setting s (< PART_SET_N)
 * after the backend took it: processors and memory as
 * part_cpc_set_running(), weight and cap as they are; recomputes the CPC. */
int part_cpc_set_setting(struct part_cpc *cpc, struct part_partition *p, enum part_setting s,
                         double v);

/* Recomputes pool, totals and every entitlement. */
void part_cpc_compute(struct part_cpc *cpc);

/* Writes the shared pool's host CPUs, ascending, into cpus (room for
 * cpc->cpus entries) and returns how many. */
size_t part_cpc_pool_cpus(const struct part_cpc *cpc, unsigned *cpus);

/* Weighted max-min fair split ("water-filling") of total among n claimants
 * with weights w (> 0) and upper limits limit: each gets total * w / sum(w),
 * except that no one gets more than its limit and what one cannot use goes to
 * the others by weight. Writes out[i]. O(n log n). */
void part_waterfill(size_t n, const double *w, const double *limit, double total, double *out);
