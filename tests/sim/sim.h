/* The closed-loop simulator of the planner: scenarios (traces of demand
 * and memory need for a set of partitions on one CPC), the effects that
 * make the model honest (noise, missed and late samples, actions that take
 * time and fail, backlog, steal), the dispatcher, the measures and the
 * report. See docs/simulation.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <part/config.h>
#include <part/cpc.h>

#define SIM_PHASES_MAX 8

/* A scenario: partitions (profiles as JSON text), and per interval each
 * one's demand (processors it would use given enough) and memory need
 * (MiB its guest uses). Phases start where the demand pattern changes. */
struct scenario {
    const char *name;
    const char *title;
    const char *family; /* "classic", "parked", "periodic", "stranded", "walk" */
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
    bool steady[SIM_PHASES_MAX];  /* demand constant through the phase */
    bool step[SIM_PHASES_MAX];    /* starts with a step change: converge within 3 intervals */
    size_t n_plot;                /* partitions plotted: the first n_plot (all when 0) */
    double actions_max; /* the most actions per partition-hour --check allows; 0: no bound */
};

/* The names of the built-in scenarios, NULL-terminated. */
extern const char *const sim_scenarios[];

/* Builds the scenario named name into sc. Returns 0 or -ENOENT. */
int scenario_build(const char *name, struct scenario *sc);

void scenario_free(struct scenario *sc);

/* traces.c and families.c share the scenario builders' helpers. */
void sc_init(struct scenario *sc, const char *name, const char *title, unsigned cpus,
             uint64_t memory_gib, size_t T, size_t n);
size_t sc_add(struct scenario *sc, const char *name, unsigned pi, unsigned pmin, unsigned pres,
              unsigned w, unsigned wmin, unsigned wmax, unsigned mi, unsigned mmin, unsigned mres,
              const char *extra);
void sc_phase(struct scenario *sc, size_t start, bool steady, bool step);
void sc_demand(struct scenario *sc, size_t i, size_t t0, size_t t1, double v);
void sc_need(struct scenario *sc, size_t i, size_t t0, size_t t1, uint64_t mib);
void rng_seed(uint64_t seed);
double rng_uniform(void);
double rng_range(double lo, double hi);

/* families.c: the scenario families of issue 13 */
void build_parked(struct scenario *sc);
void build_parked_group(struct scenario *sc);
int build_square(struct scenario *sc, const char *name);
void build_capped(struct scenario *sc);
void build_saturated(struct scenario *sc);
void build_walk(struct scenario *sc);
void build_pressure(struct scenario *sc);

/* honest.c: the effects a real host has and the ideal model had not, each
 * on by default and switchable (--without NAME,..., --ideal). */
enum sim_effect {
    FX_NOISE,   /* demand jitters from interval to interval; counters read at jittered times */
    FX_MISS,    /* the monitor misses a sample now and then */
    FX_LATE,    /* and takes some late */
    FX_LATENCY, /* processors come online (or go offline) an interval after the change */
    FX_BALLOON, /* a balloon moves at a bounded rate */
    FX_FAIL,    /* an action fails now and then */
    FX_BACKLOG, /* demand not served is partly carried over */
    FX_STEAL,   /* the host takes some of the pool now and then */
    FX_N
};

struct sim_effects {
    bool on[FX_N];
};

extern const char *const sim_effect_names[FX_N];

/* Turns off the effects named in list ("noise,fail"); -EINVAL on an
 * unknown name. */
int effects_without(struct sim_effects *fx, const char *list);

/* A uniform number in [0, 1) determined by (scenario, kind, t, i) alone,
 * so that every policy meets the same noise, misses and failures. */
double fx_draw(uint64_t scenario, unsigned kind, size_t t, size_t i);

/* A normal number, mean 0, deviation 1, determined the same way. */
double fx_normal(uint64_t scenario, unsigned kind, size_t t, size_t i);

/* The seed of a scenario's draws: a hash of its name. */
uint64_t fx_seed(const char *name);

/* What the host steals from the pool in each interval of sc (processors,
 * T of them, owned by the caller): episodes of 3-10% of the pool lasting
 * 2-10 intervals, starting with probability 0.04. All 0 without FX_STEAL. */
double *fx_steal(const struct scenario *sc, const struct sim_effects *fx, unsigned pool);

/* Demand in interval t of partition i, with its jitter (the backlog is
 * the loop's: it depends on what was delivered). */
double fx_demand(const struct scenario *sc, const struct sim_effects *fx, size_t i, size_t t);

/* An action's fate: false when it fails. */
bool fx_action_ok(const struct sim_effects *fx, uint64_t seed, size_t t, size_t i, int setting);

/* The counter-reading jitter (seconds) and whether the sample is missed,
 * and how late it is (seconds), for partition i at the end of t. */
double fx_read_jitter(const struct sim_effects *fx, uint64_t seed, size_t t, size_t i,
                      double interval);
bool fx_missed(const struct sim_effects *fx, uint64_t seed, size_t t, size_t i);
double fx_late(const struct sim_effects *fx, uint64_t seed, size_t t, double interval);

/* dispatch.c: the dispatcher (PR/SM's split of the pool) and the floor */

double limit_of(const struct part_partition *p, double demand, double processors);
void allocate(const struct part_cpc *cpc, double pool, bool profile_weights, const double *limit,
              double *out);
double jain(const double *x, size_t n);
double floor_of(const struct part_cpc *cpc, const size_t *cluster, const double *target,
                const double *ce, double *scratch);
void cluster_entitlements(const struct part_cpc *cpc, const size_t *cluster, double *limit,
                          double *out, double *ce);
void *xcalloc(size_t n, size_t size);

/* The measures of one run (metrics.c computes them from the interval
 * records, report.c prints them). */
#define NEVER ((size_t)-1)

struct result {
    const char *name, *family;
    size_t n, T;
    double hours; /* partition-hours simulated */
    size_t n_steps;
    size_t conv[SIM_PHASES_MAX];    /* per step: intervals until total distance stays within 5% */
    size_t worst[SIM_PHASES_MAX];   /* per step: the same for the slowest partition */
    size_t cover[SIM_PHASES_MAX];   /* per step: entitlements covering the target within 5% */
    size_t starved[SIM_PHASES_MAX]; /* per step: longest starvation after it, any partition */
    double within;                  /* share of intervals with distance within 5% */
    double err_mean;                /* mean distance of delivered to the target */
    double err_static;              /* the same for `static` on the same trace (< 0: not run) */
    double short_mean;              /* mean entitlement shortfall beyond the floor */
    double starve_share;            /* share of partition-intervals starved */
    size_t flips;                   /* direction changes of a setting, every phase */
    size_t flips_max;               /* the most of one partition */
    size_t violations;
    char first_violation[512];
    double jain_mean, jain_min;
    size_t actions, failed;
    size_t actions_by[PART_SET_N]; /* by setting */
    double mem_short;              /* share of partition-intervals with need over the memory */
    double actions_max;            /* the scenario's bound on actions per partition-hour, 0: none */
};

/* Per interval and partition, what the measures are made from. */
struct record {
    size_t T, n;
    double *err;      /* T: total distance */
    double *shortf;   /* T: entitlement shortfall beyond the floor */
    bool *off;        /* n x T: partition i outside 5% of its target at t */
    bool *starving;   /* n x T: partition i starved at t */
    int *last_dir;    /* n x PART_SET_N: direction of the last change, 0 none */
    size_t *flips_of; /* n: direction changes of partition i */
};

void record_init(struct record *rec, size_t n, size_t T);
void record_free(struct record *rec);
/* Records a change of setting s of partition i in direction dir. */
void record_change(struct record *rec, struct result *res, size_t i, int s, int dir);
/* The step measures of res from rec and the scenario's phases. */
void record_finish(const struct record *rec, const struct scenario *sc, struct result *res);

__attribute__((format(printf, 2, 3))) void violation(struct result *res, const char *fmt, ...);
void check_state(const struct part_cpc *cpc, const unsigned *online, const double *delivered,
                 const double *base, double pool, size_t t, struct result *res);

/* predict.c: partd-sim --predict FILE; returns the exit status */
int predict(const char *file);

/* report.c */
FILE *open_out(const char *dir, const char *name, const char *ext);
void write_gnuplot(const struct scenario *sc, const struct part_cpc *cpc, const char *policy,
                   double interval, const char *dir, const bool *capped);
void print_table(FILE *f, const struct result *res, size_t n);
int check_results(const struct result *res, size_t n);
