/* The scenario families of issue 13, each aimed at a weakness a user would
 * meet: partitions parked at their minimum that become busy (hidden
 * demand), periodic demand over a range of periods (flapping), capped and
 * defined-capacity partitions (stranded resources), a pool short for all
 * (processors taken from partitions that use all they get), large random
 * walks (churn), and guests whose memory need jumps past their balloon
 * (memory under pressure). Random traces use fixed seeds. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

/* Four partitions, two of them idle long enough to be parked at one
 * processor, then busy (their demand hidden behind that processor); then
 * everyone busy in a pool short for all. */
void build_parked(struct scenario *sc)
{
    static const double level[4][3] = {
        {3.5, 1.0, 3.0}, {3.5, 1.0, 3.0}, {0.1, 3.5, 3.0}, {0.1, 2.5, 3.0}};
    static const size_t at[] = {0, 90, 180, 260};
    sc_init(sc, "parked", "parked partitions become busy", 10, 32, 260, 4);
    sc->family = "parked";
    for (size_t i = 0; i < 4; i++) {
        char name[8];
        snprintf(name, sizeof(name), "p%zu", i + 1);
        size_t k = sc_add(sc, name, 2, 1, 6, 200, 100, 400, 4096, 2048, 8192, "");
        for (size_t ph = 0; ph < 3; ph++) {
            sc_demand(sc, k, at[ph], at[ph + 1], level[i][ph]);
            sc_need(sc, k, at[ph], at[ph + 1], (uint64_t)(1500 + 500 * level[i][ph]));
        }
    }
    for (size_t ph = 0; ph < 3; ph++)
        sc_phase(sc, at[ph], true, true);
}

/* The pair: two partitions in a group, one busy while the other
 * idles (and is parked, and lends its weight), then the demand swaps, then
 * both are busy. */
void build_parked_group(struct scenario *sc)
{
    sc_init(sc, "parked-group", "a group of two: demand swaps, then both busy", 10, 32, 240, 2);
    sc->family = "parked";
    snprintf(sc->groups[0].name, sizeof(sc->groups[0].name), "pair");
    sc->groups[0].cap = PART_CAP_NONE;
    sc->cfg.n_groups = 1;
    size_t a = sc_add(sc, "a", 4, 1, 8, 300, 100, 600, 4096, 2048, 8192, ", \"group\": \"pair\"");
    size_t b = sc_add(sc, "b", 4, 1, 8, 300, 100, 600, 4096, 2048, 8192, ", \"group\": \"pair\"");
    sc_phase(sc, 0, true, true);
    sc_phase(sc, 80, true, true);
    sc_phase(sc, 160, true, true);
    sc_demand(sc, a, 0, 80, 6.0);
    sc_demand(sc, b, 0, 80, 0.2);
    sc_demand(sc, a, 80, 160, 0.2);
    sc_demand(sc, b, 80, 160, 6.0);
    sc_demand(sc, a, 160, 240, 5.0);
    sc_demand(sc, b, 160, 240, 5.0);
    sc_need(sc, a, 0, 240, 3000);
    sc_need(sc, b, 0, 240, 3000);
}

/* Periodic demand: a and b alternate (busy 4.5 for half a period, idle 0.5
 * the other half), c holds 2.5; at the peaks the pool is short. Named
 * square-P for a period of P intervals, sine-P for a sine wave. */
int build_square(struct scenario *sc, const char *name)
{
    static char names[2][61][16];
    bool sine = strncmp(name, "sine-", 5) == 0;
    char *end;
    if (!sine && strncmp(name, "square-", 7) != 0)
        return -ENOENT;
    unsigned long P = strtoul(name + (sine ? 5 : 7), &end, 10);
    if (*end || P < 2 || P > 15 * 4)
        return -ENOENT;
    /* the name must outlive sc: one static copy per period */
    char *copy = names[sine][P];
    snprintf(copy, sizeof(names[0][0]), "%s", name);
    sc_init(sc, copy, sine ? "sine waves, out of phase" : "square waves, out of phase", 10, 32, 240,
            3);
    sc->family = "periodic";
    size_t a = sc_add(sc, "a", 3, 1, 6, 300, 100, 600, 4096, 2048, 8192, "");
    size_t b = sc_add(sc, "b", 3, 1, 6, 300, 100, 600, 4096, 2048, 8192, "");
    size_t c = sc_add(sc, "c", 3, 1, 6, 200, 100, 400, 4096, 2048, 8192, "");
    sc_phase(sc, 0, false, false);
    for (size_t t = 0; t < sc->T; t++) {
        double x = sine ? sin(2 * M_PI * (double)t / P) : (t % P < P / 2 ? 1 : -1);
        sc->demand[a * sc->T + t] = 2.5 + 2 * x;
        sc->demand[b * sc->T + t] = 2.5 - 2 * x;
    }
    sc_demand(sc, c, 0, sc->T, 2.5);
    for (size_t i = 0; i < 3; i++)
        sc_need(sc, i, 0, sc->T, 3000);
    return 0;
}

/* Stranded resources: a partition capped at 1 with 3 processors online;
 * a pair in a group where one, busy, takes the other's weight and is then
 * held by its defined capacity (2, a 120 s window), and the other becomes
 * busy and needs its weight back. */
void build_capped(struct scenario *sc)
{
    sc_init(sc, "capped", "a capped partition; defined capacity in a pair", 10, 32, 200, 3);
    sc->family = "stranded";
    sc->dc_window = 120;
    snprintf(sc->groups[0].name, sizeof(sc->groups[0].name), "pair");
    sc->groups[0].cap = PART_CAP_NONE;
    sc->cfg.n_groups = 1;
    size_t cap = sc_add(sc, "capped", 3, 1, 4, 200, 100, 400, 4096, 2048, 8192, ", \"cap\": 1.0");
    size_t dc = sc_add(sc, "dcp", 6, 1, 6, 300, 100, 600, 4096, 2048, 8192,
                       ", \"group\": \"pair\", \"defined_capacity\": 2");
    size_t other =
        sc_add(sc, "other", 3, 3, 6, 300, 100, 600, 4096, 2048, 8192, ", \"group\": \"pair\"");
    sc_phase(sc, 0, true, true);
    sc_phase(sc, 100, true, true);
    sc_demand(sc, cap, 0, sc->T, 2.0);
    sc_demand(sc, dc, 0, sc->T, 5.0);
    sc_demand(sc, other, 0, 100, 0.5);
    sc_demand(sc, other, 100, sc->T, 4.0);
    for (size_t i = 0; i < 3; i++)
        sc_need(sc, i, 0, sc->T, 3000);
}

/* A pool short for all: four partitions with 6 processors online each use
 * all of their entitlements (1.6 to 2.4 processors); then two fall idle
 * and the others can use the pool they leave, if their processors are
 * still online. */
void build_saturated(struct scenario *sc)
{
    static const unsigned weight[] = {200, 200, 300, 300};
    static const double busy[] = {3, 3, 5, 5}, later[] = {0.3, 0.3, 4.5, 4.5};
    sc_init(sc, "saturated", "a pool short for all, then two idle", 10, 32, 200, 4);
    sc->family = "stranded";
    for (size_t i = 0; i < 4; i++) {
        char name[8];
        snprintf(name, sizeof(name), "s%zu", i + 1);
        size_t k = sc_add(sc, name, 6, 1, 6, weight[i], weight[i] / 2, weight[i] * 2, 4096, 2048,
                          8192, "");
        sc_demand(sc, k, 0, 100, busy[i]);
        sc_demand(sc, k, 100, sc->T, later[i]);
        sc_need(sc, k, 0, sc->T, 3000);
    }
    sc_phase(sc, 0, true, true);
    sc_phase(sc, 100, true, true);
}

/* 200 partitions on random walks of demand in a 64-processor pool: 40 in
 * group a, 40 in group b, 120 ungrouped; each demand moves by a normal
 * step (deviation 0.05 processors) every interval, within [0.02, 2]. */
void build_walk(struct scenario *sc)
{
    sc_init(sc, "walk", "200 partitions, random walks of demand", 66, 1024, 300, 200);
    sc->family = "walk";
    /* 5 times fewer than the 214 per partition-hour the planner of
     * 4c0e5d3 takes on this trace (docs/simulation.md, "before") */
    sc->actions_max = 214.0 / 5;
    sc->cfg.host_reserved_memory = 16384;
    sc->cfg.cpu_overcommit = 8;
    snprintf(sc->groups[0].name, sizeof(sc->groups[0].name), "a");
    snprintf(sc->groups[1].name, sizeof(sc->groups[1].name), "b");
    sc->groups[0].cap = sc->groups[1].cap = PART_CAP_NONE;
    sc->cfg.n_groups = 2;
    sc->n_plot = 4;
    sc_phase(sc, 0, false, false);
    rng_seed(13);
    for (size_t i = 0; i < 200; i++) {
        char name[16], extra[32] = "";
        snprintf(name, sizeof(name), "w%03zu", i);
        if (i < 80)
            snprintf(extra, sizeof(extra), ", \"group\": \"%s\"", i < 40 ? "a" : "b");
        unsigned w = 50 + 10 * (unsigned)(rng_uniform() * 36);
        unsigned online = 1 + (unsigned)(rng_uniform() * 2);
        size_t k = sc_add(sc, name, online, 1, 4, w, w / 2, w * 2, 2048, 1024, 4096, extra);
        double d = rng_range(0.1, 0.6);
        for (size_t t = 0; t < sc->T; t++) {
            double u1 = fmax(rng_uniform(), 1e-12), u2 = rng_uniform();
            d += 0.05 * sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
            d = fmin(2, fmax(0.02, d));
            sc->demand[k * sc->T + t] = d;
        }
        sc_need(sc, k, 0, sc->T, (uint64_t)(1024 + 2048 * rng_uniform()));
    }
}

/* Memory under pressure: three guests ballooned down to need + headroom;
 * then db's need jumps by 2.5 GiB twice, and web's by 1 GiB, past their
 * balloons: they thrash (sim_sample() pages what is over) until they are
 * given enough. batch's need stays, and it has memory to give. */
void build_pressure(struct scenario *sc)
{
    sc_init(sc, "pressure", "memory need jumps past the balloon", 10, 24, 180, 3);
    sc->family = "pressure";
    size_t db = sc_add(sc, "db", 2, 1, 4, 300, 100, 600, 2048, 1024, 12288, "");
    size_t web = sc_add(sc, "web", 2, 1, 4, 200, 100, 600, 2048, 1024, 8192, "");
    size_t batch = sc_add(sc, "batch", 2, 1, 4, 200, 100, 600, 8192, 1024, 8192, "");
    for (size_t k = 0; k < 3; k++)
        sc_demand(sc, k, 0, sc->T, 1.0);
    sc_phase(sc, 0, true, true);
    sc_phase(sc, 30, true, true);
    sc_phase(sc, 100, true, true);
    sc_need(sc, db, 0, 30, 1700);
    sc_need(sc, db, 30, 100, 4200);
    sc_need(sc, db, 100, sc->T, 6700);
    sc_need(sc, web, 0, 30, 1700);
    sc_need(sc, web, 30, sc->T, 2700);
    sc_need(sc, batch, 0, sc->T, 2000);
}
