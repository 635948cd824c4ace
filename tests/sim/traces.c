/* The simulator's scenarios: for each, the CPC, the partitions' profiles
 * (parsed by libpart like any profile) and, per interval, each partition's
 * demand and memory need. Random traces use a fixed seed: every run is the
 * same. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

const char *const sim_scenarios[] = {
    "step",      "reclaim",      "ramp",     "periodic",  "bursty",   "dc",        "mixed",
    "parked",    "parked-group", "square-2", "square-4",  "square-6", "square-10", "square-14",
    "square-20", "sine-8",       "capped",   "saturated", "walk",     "pressure",  NULL};

/* xorshift64*: small, fast, and the same everywhere */
static uint64_t rng_state = 1;

void rng_seed(uint64_t seed)
{
    rng_state = seed ? seed : 1;
}

double rng_uniform(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

double rng_range(double lo, double hi)
{
    return lo + (hi - lo) * rng_uniform();
}

void sc_init(struct scenario *sc, const char *name, const char *title, unsigned cpus,
             uint64_t memory_gib, size_t T, size_t n)
{
    *sc =
        (struct scenario){.name = name, .title = title, .family = "classic", .cpus = cpus, .T = T};
    sc->memory = memory_gib * 1024;
    sc->cfg = (struct part_cpc_config){
        .host_reserved_cpus = 2,
        .host_reserved_memory = 4096,
        .cpu_overcommit = 4,
        .memory_overcommit = 1,
        .groups = sc->groups,
    };
    sc->profiles = xcalloc(n, sizeof(*sc->profiles));
    sc->demand = xcalloc(n * T, sizeof(*sc->demand));
    sc->need = xcalloc(n * T, sizeof(*sc->need));
}

/* Adds a partition: processors initial/min/reserved, weight
 * initial/min/max, memory initial/min/reserved in MiB, and extra members
 * for the profile (", \"group\": \"web\"") or "". Returns its index. */
size_t sc_add(struct scenario *sc, const char *name, unsigned pi, unsigned pmin, unsigned pres,
              unsigned w, unsigned wmin, unsigned wmax, unsigned mi, unsigned mmin, unsigned mres,
              const char *extra)
{
    size_t i = sc->n++;
    if (asprintf(&sc->profiles[i],
                 "{\"name\": \"%s\", \"processors\": {\"initial\": %u, \"min\": %u, "
                 "\"reserved\": %u}, \"weight\": {\"initial\": %u, \"min\": %u, \"max\": %u}, "
                 "\"memory\": {\"initial\": %u, \"min\": %u, \"reserved\": %u}%s}",
                 name, pi, pmin, pres, w, wmin, wmax, mi, mmin, mres, extra) < 0)
        abort();
    return i;
}

void sc_phase(struct scenario *sc, size_t start, bool steady, bool step)
{
    size_t k = sc->n_phases++;
    sc->phase[k] = start;
    sc->steady[k] = steady;
    sc->step[k] = step;
}

/* Demand of partition i from t0 to t1 (excluded). */
void sc_demand(struct scenario *sc, size_t i, size_t t0, size_t t1, double v)
{
    for (size_t t = t0; t < t1 && t < sc->T; t++)
        sc->demand[i * sc->T + t] = v;
}

void sc_need(struct scenario *sc, size_t i, size_t t0, size_t t1, uint64_t mib)
{
    for (size_t t = t0; t < t1 && t < sc->T; t++)
        sc->need[i * sc->T + t] = mib;
}

/* Step changes: three phases of constant demand, each starting with a
 * step. More logical processors are online than the pool has CPUs, as on
 * a mainframe, so that entitlements follow weights. In the second phase
 * prod needs a fifth processor; the third asks for more than the pool. */
static void build_step(struct scenario *sc)
{
    sc_init(sc, "step", "step changes of demand", 10, 32, 210, 3);
    size_t prod = sc_add(sc, "prod", 4, 1, 8, 300, 100, 600, 4096, 2048, 8192, "");
    size_t batch = sc_add(sc, "batch", 6, 1, 8, 400, 100, 600, 4096, 2048, 8192, "");
    size_t dev = sc_add(sc, "dev", 2, 1, 4, 100, 50, 200, 2048, 1024, 4096, "");
    sc_phase(sc, 0, true, true);
    sc_phase(sc, 70, true, true);
    sc_phase(sc, 140, true, true);
    sc_demand(sc, prod, 0, 70, 1.5);
    sc_demand(sc, batch, 0, 70, 5.0);
    sc_demand(sc, dev, 0, 70, 0.5);
    sc_demand(sc, prod, 70, 140, 4.5);
    sc_demand(sc, batch, 70, 140, 2.5);
    sc_demand(sc, dev, 70, 140, 0.5);
    sc_demand(sc, prod, 140, 210, 4.5);
    sc_demand(sc, batch, 140, 210, 4.5);
    sc_demand(sc, dev, 140, 210, 1.0);
    sc_need(sc, prod, 0, 70, 3000);
    sc_need(sc, prod, 70, 210, 5000);
    sc_need(sc, batch, 0, 210, 3000);
    sc_need(sc, dev, 0, 140, 1200);
    sc_need(sc, dev, 140, 210, 2500);
}

/* Weight lent and taken back: a and b contend for the pool while c, idle,
 * lends them its weight (they must share it as their weights, or the
 * contended split is no longer the profiles'); then c is busy again and
 * must take it back, since in a pool short for all nobody uses more than
 * its entitlement; then b alone wants more, from two donors at once. */
static void build_reclaim(struct scenario *sc)
{
    sc_init(sc, "reclaim", "weight lent while idle, taken back when busy", 10, 32, 210, 3);
    size_t a = sc_add(sc, "a", 6, 1, 8, 300, 100, 600, 4096, 2048, 8192, "");
    size_t b = sc_add(sc, "b", 6, 1, 8, 300, 100, 600, 4096, 2048, 8192, "");
    size_t c = sc_add(sc, "c", 4, 1, 6, 200, 50, 400, 4096, 2048, 8192, "");
    sc_phase(sc, 0, true, true);
    sc_phase(sc, 70, true, true);
    sc_phase(sc, 140, true, true);
    sc_demand(sc, a, 0, 140, 5.0);
    sc_demand(sc, b, 0, 140, 5.0);
    sc_demand(sc, c, 0, 70, 0.5);
    sc_demand(sc, c, 70, 140, 3.0);
    sc_demand(sc, a, 140, 210, 2.0);
    sc_demand(sc, b, 140, 210, 6.0);
    sc_demand(sc, c, 140, 210, 0.2);
    sc_need(sc, a, 0, 210, 3000);
    sc_need(sc, b, 0, 210, 3000);
    sc_need(sc, c, 0, 210, 3000);
}

/* A ramp: web's demand grows from 0.5 to 5.5 processors over 100
 * intervals, then holds. */
static void build_ramp(struct scenario *sc)
{
    sc_init(sc, "ramp", "a ramp of demand, then a plateau", 10, 32, 200, 3);
    size_t web = sc_add(sc, "web", 1, 1, 7, 300, 100, 600, 2048, 1024, 8192, "");
    size_t db = sc_add(sc, "db", 3, 1, 4, 300, 100, 600, 4096, 2048, 8192, "");
    size_t batch = sc_add(sc, "batch", 4, 1, 6, 200, 100, 400, 4096, 2048, 8192, "");
    sc_phase(sc, 0, false, false);
    sc_phase(sc, 110, true, false);
    for (size_t t = 0; t < sc->T; t++) {
        double x = t < 10 ? 0 : t > 110 ? 1 : (t - 10) / 100.0;
        sc->demand[web * sc->T + t] = 0.5 + 5 * x;
        sc->need[web * sc->T + t] = (uint64_t)(1000 + 4000 * x);
    }
    sc_demand(sc, db, 0, sc->T, 2.0);
    sc_demand(sc, batch, 0, sc->T, 1.5);
    sc_need(sc, db, 0, sc->T, 3500);
    sc_need(sc, batch, 0, sc->T, 2000);
}

/* Periodic demand: three partitions on sine waves a third of a period
 * apart; at the peaks the pool is short. */
static void build_periodic(struct scenario *sc)
{
    static const char *const names[] = {"east", "west", "north"};
    sc_init(sc, "periodic", "periodic demand, out of phase", 10, 32, 240, 3);
    sc_phase(sc, 0, false, false);
    for (size_t i = 0; i < 3; i++) {
        size_t k = sc_add(sc, names[i], 2, 1, 6, 200, 100, 400, 4096, 2048, 8192, "");
        for (size_t t = 0; t < sc->T; t++) {
            double a = 2 * M_PI * (t / 60.0 + i / 3.0);
            sc->demand[k * sc->T + t] = 2.6 + 1.8 * sin(a);
            sc->need[k * sc->T + t] = (uint64_t)(3000 + 1500 * sin(a));
        }
    }
}

/* Bursts: four partitions on a base load with bursts that start at random
 * (probability 0.06 per interval) and last 2 to 12 intervals. */
static void build_bursty(struct scenario *sc)
{
    static const char *const names[] = {"api", "etl", "search", "mail"};
    static const double base[] = {1.0, 0.8, 1.2, 0.4};
    sc_init(sc, "bursty", "random bursts (seeded)", 10, 32, 240, 4);
    sc_phase(sc, 0, false, false);
    rng_seed(20240601);
    for (size_t i = 0; i < 4; i++) {
        size_t k = sc_add(sc, names[i], 2, 1, 6, 200, 100, 400, 2048, 1024, 8192, "");
        double level = 0;
        size_t left = 0;
        for (size_t t = 0; t < sc->T; t++) {
            if (left == 0 && rng_uniform() < 0.06) {
                left = 2 + (size_t)(rng_uniform() * 11);
                level = rng_range(1.5, 3.5);
            }
            double d = base[i] + (left ? level : 0);
            if (left)
                left--;
            sc->demand[k * sc->T + t] = d;
            sc->need[k * sc->T + t] = (uint64_t)(1200 + 600 * d);
        }
    }
}

/* Defined capacity: app uses 3 processors against a defined capacity of 2
 * (a 120 s window), then falls to 1. */
static void build_dc(struct scenario *sc)
{
    sc_init(sc, "dc", "defined capacity over a 120 s rolling average", 10, 32, 200, 2);
    sc->dc_window = 120;
    size_t app =
        sc_add(sc, "app", 4, 1, 6, 300, 100, 600, 4096, 2048, 8192, ", \"defined_capacity\": 2");
    size_t web = sc_add(sc, "web", 3, 1, 6, 300, 100, 600, 4096, 2048, 8192, "");
    sc_phase(sc, 0, true, true);
    sc_phase(sc, 100, true, true);
    sc_demand(sc, app, 0, 100, 3.0);
    sc_demand(sc, app, 100, sc->T, 1.0);
    sc_demand(sc, web, 0, sc->T, 2.0);
    sc_need(sc, app, 0, sc->T, 3000);
    sc_need(sc, web, 0, sc->T, 3000);
}

/* 100 partitions of every kind: 20 in group web (capped at 14 processors),
 * 20 in group etl, 60 ungrouped; demand by steps, ramps, sine waves and
 * bursts for 140 intervals, then every demand holds a level of its own
 * (one step for all, then a steady phase). */
static void build_mixed(struct scenario *sc)
{
    sc_init(sc, "mixed", "100 partitions, mixed demand, then steady", 66, 512, 240, 100);
    sc->cfg.host_reserved_memory = 16384;
    snprintf(sc->groups[0].name, sizeof(sc->groups[0].name), "web");
    sc->groups[0].cap = 14;
    snprintf(sc->groups[1].name, sizeof(sc->groups[1].name), "etl");
    sc->groups[1].cap = PART_CAP_NONE;
    sc->cfg.n_groups = 2;
    sc->n_plot = 4;
    sc_phase(sc, 0, false, false);
    sc_phase(sc, 140, true, true);
    rng_seed(42);
    for (size_t i = 0; i < 100; i++) {
        char name[16], extra[64] = "";
        snprintf(name, sizeof(name), "p%02zu", i);
        if (i < 20)
            snprintf(extra, sizeof(extra), ", \"group\": \"web\"");
        else if (i < 40)
            snprintf(extra, sizeof(extra), ", \"group\": \"etl\"");
        unsigned w = 50 + 10 * (unsigned)(rng_uniform() * 36); /* 50..400 */
        unsigned online = 1 + (unsigned)(rng_uniform() * 2);
        size_t k = sc_add(sc, name, online, 1, 4, w, w / 2 < 1 ? 1 : w / 2,
                          w * 2 > 999 ? 999 : w * 2, 2048, 1024, 4096, extra);
        double a = rng_range(0.1, 1.2), b = rng_range(0.1, 1.6), hold = rng_range(0.1, 1.3);
        double period = rng_range(30, 80), shift = rng_uniform();
        double *d = &sc->demand[k * sc->T];
        double level = 0;
        size_t left = 0;
        for (size_t t = 0; t < 140; t++) {
            switch (i % 4) {
            case 0: /* a step at 50 */
                d[t] = t < 50 ? a : b;
                break;
            case 1: /* a ramp from a to b over 100 intervals */
                d[t] = a + (b - a) * (t < 100 ? t / 100.0 : 1);
                break;
            case 2: /* a sine wave */
                d[t] = a + 0.5 * a * sin(2 * M_PI * (t / period + shift));
                break;
            default: /* bursts */
                if (left == 0 && rng_uniform() < 0.05) {
                    left = 2 + (size_t)(rng_uniform() * 8);
                    level = rng_range(0.5, 2.0);
                }
                d[t] = a + (left ? level : 0);
                if (left)
                    left--;
            }
        }
        sc_demand(sc, k, 140, sc->T, hold);
        sc_need(sc, k, 0, 140, (uint64_t)(1024 + 2048 * rng_uniform()));
        sc_need(sc, k, 140, sc->T, (uint64_t)(1024 + 2048 * rng_uniform()));
    }
}

int scenario_build(const char *name, struct scenario *sc)
{
    static const struct {
        const char *name;
        void (*build)(struct scenario *);
    } table[] = {
        {"step", build_step},
        {"reclaim", build_reclaim},
        {"ramp", build_ramp},
        {"periodic", build_periodic},
        {"bursty", build_bursty},
        {"dc", build_dc},
        {"mixed", build_mixed},
        {"parked", build_parked},
        {"parked-group", build_parked_group},
        {"capped", build_capped},
        {"saturated", build_saturated},
        {"walk", build_walk},
        {"pressure", build_pressure},
    };
    if (build_square(sc, name) == 0)
        return 0;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strcmp(table[i].name, name) == 0) {
            table[i].build(sc);
            return 0;
        }
    return -ENOENT;
}

void scenario_free(struct scenario *sc)
{
    for (size_t i = 0; i < sc->n; i++)
        free(sc->profiles[i]);
    free(sc->profiles);
    free(sc->demand);
    free(sc->need);
    *sc = (struct scenario){0};
}
