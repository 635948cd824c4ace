/* The closed-loop simulator of the planner: scenarios (traces of demand
 * and memory need for a set of partitions on one CPC) and the loop that
 * runs them. See docs/simulation.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <part/config.h>

#define SIM_PHASES_MAX 8

/* A scenario: partitions (profiles as JSON text), and per interval each
 * one's demand (processors it would use given enough) and memory need
 * (MiB its guest uses). Phases start where the demand pattern changes. */
struct scenario {
    const char *name;
    const char *title;
    unsigned cpus;
    uint64_t memory;
    struct part_cpc_config cfg; /* groups point into groups[] */
    struct part_group_config groups[4];
    double dc_window; /* seconds; 0: the policy's */
    size_t T;         /* intervals */
    size_t n;         /* partitions */
    char **profiles;  /* n JSON texts, owned */
    double *demand;   /* n x T, row per partition, owned */
    uint64_t *need;   /* n x T MiB, owned */
    size_t n_phases;
    size_t phase[SIM_PHASES_MAX]; /* first interval of each phase, ascending, phase[0] = 0 */
    bool steady[SIM_PHASES_MAX];  /* demand constant through the phase: no reversal allowed */
    bool step[SIM_PHASES_MAX];    /* starts with a step change: converge within 3 intervals */
    size_t n_plot;                /* partitions plotted: the first n_plot (all when 0) */
};

/* The names of the built-in scenarios, NULL-terminated. */
extern const char *const sim_scenarios[];

/* Builds the scenario named name into sc. Returns 0 or -ENOENT. */
int scenario_build(const char *name, struct scenario *sc);

void scenario_free(struct scenario *sc);
