/* Where partitions would fit better, across CPCs: given what several
 * CPCs run and how busy their partitions are, which CPCs' demand exceeds
 * their shared pool, and which partitions moved where would bring them
 * within it. A suggestion for a person (partctl plan --all), never acted
 * on by itself. A pure function: no I/O, deterministic, so partd can use
 * it too. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "part/cpc.h"
#include "part/error.h"
#include "part/name.h"

/* A partition whose use is at least PART_FIT_BUSY of what holds it back
 * (its online processors, its cap, or its entitlement while the pool is
 * busy) shows no more than it is let use: its demand counts as its online
 * processors (at most its cap). A pool is busy when the use of its partitions is at
 * least PART_FIT_POOL_BUSY of it. */
#define PART_FIT_BUSY      0.9
#define PART_FIT_POOL_BUSY 0.95

/* A partition as its CPC reports it (GET /v1/partitions). */
struct part_fit_partition {
    char name[PART_NAME_MAX];
    bool active;
    bool dedicated;
    unsigned processors; /* online (active), else the profile's initial */
    double used;         /* processors used (monitor), NAN when not measured */
    double entitlement;  /* processors (shared, active) */
    double cap;          /* processors, PART_CAP_NONE (0) when uncapped */
    uint64_t memory;     /* MiB: the target (active), else the profile's initial */
    uint64_t memory_min; /* MiB: the profile's min */
};

/* A CPC as it reports itself (GET /v1/cpc) with its partitions. */
struct part_fit_cpc {
    char name[PART_NAME_MAX];
    bool reachable;                         /* false: shown, never a source nor a target */
    struct part_capacity cap;               /* as partd's admission control counts it */
    const struct part_fit_partition *parts; /* every defined partition */
    size_t n;
};

/* What the fit found of one CPC (same index as its input). */
struct part_fit_result {
    double demand;       /* of the shared pool: sum of its active partitions' demand */
    unsigned pool;       /* shared pool, processors */
    double demand_after; /* once the suggested moves are made */
    unsigned pool_after;
    bool over; /* demand > pool */
    /* over and still over after the moves: why no move helps, else "" */
    char note[256];
};

/* One suggested move: partition part (index in cpcs[from].parts) from CPC
 * from to CPC to, with the numbers that make it fit. */
struct part_fit_move {
    size_t from, to, part;
    double demand; /* what it takes from the pool it leaves: demand or dedicated processors */
    char reason[320];
};

struct part_fit {
    struct part_fit_result *cpcs; /* n, as given */
    size_t n;
    struct part_fit_move *moves;
    size_t n_moves;
};

/* The demand of partition p on its CPC's shared pool: 0 for an inactive or
 * dedicated one, its use when measured (0 when not), or its online
 * processors (at most its cap) when it is held back (PART_FIT_BUSY);
 * pool_busy says whether its pool is (PART_FIT_POOL_BUSY). */
double part_fit_demand(const struct part_fit_partition *p, bool pool_busy);

/* Finds the CPCs over their pool and suggests moves: from each CPC whose
 * demand exceeds its pool (largest excess first), the partitions whose
 * moves bring it within its pool (the one smallest partition that is
 * enough, else the largest, and again), each to the reachable CPC with the
 * most room left that admits it: its name free there, partd's admission
 * control passed (part_admit_verdict(): processors, logical processors,
 * memory), and its demand within the pool's room. A CPC no move
 * brings within its pool keeps a note saying why. The target partd's own
 * admission, when the partition moves, has the last word.
 * Returns 0 with *ret (caller part_fit_free()s) or -ENOMEM. */
int part_fit_plan(const struct part_fit_cpc *cpcs, size_t n, struct part_fit **ret,
                  struct part_error *err);

/* Frees pl (which may be NULL); returns NULL. */
struct part_fit *part_fit_free(struct part_fit *pl);
