/* The effects that make the simulator honest: a real host's monitor reads
 * counters at jittered times and misses or delays samples, its demand
 * jitters, vCPUs take time to come online, balloons move at a bounded
 * rate, actions fail, the host steals from the pool. Each is on by default
 * and can be switched off (partd-sim --without NAME, --ideal).
 *
 * Every draw is a hash of (scenario, kind, interval, partition): the same
 * scenario meets the same noise, misses, steal and failures whatever the
 * policy does, so two policies are compared on the same trace. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "sim.h"

const char *const sim_effect_names[FX_N] = {
    [FX_NOISE] = "noise",     [FX_MISS] = "miss",       [FX_LATE] = "late",
    [FX_LATENCY] = "latency", [FX_BALLOON] = "balloon", [FX_FAIL] = "fail",
    [FX_BACKLOG] = "backlog", [FX_STEAL] = "steal",
};

/* The sizes of the effects (docs/simulation.md, "The honest model"). */
#define DEMAND_JITTER 0.05 /* deviation of demand from the trace, relative */
#define READ_JITTER   0.02 /* deviation of the time a counter is read, in intervals */
#define MISS_P        0.01 /* a sample missed */
#define LATE_P        0.10 /* a sample late ... */
#define LATE_MAX      0.25 /* ... by up to this much of an interval */
#define FAIL_P        0.02 /* an action failing */
#define STEAL_P       0.04 /* a steal episode starting in an interval */

enum { DRAW_DEMAND = 1, DRAW_READ, DRAW_MISS, DRAW_LATE, DRAW_FAIL, DRAW_STEAL };

int effects_without(struct sim_effects *fx, const char *list)
{
    const char *at = list;
    while (*at) {
        size_t len = strcspn(at, ",");
        int found = -1;
        for (int e = 0; e < FX_N; e++)
            if (strlen(sim_effect_names[e]) == len && strncmp(at, sim_effect_names[e], len) == 0)
                found = e;
        if (found < 0)
            return -EINVAL;
        fx->on[found] = false;
        at += len + (at[len] == ',');
    }
    return 0;
}

/* splitmix64's finaliser */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

uint64_t fx_seed(const char *name)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *name; name++)
        h = (h ^ (unsigned char)*name) * 1099511628211ull;
    return h;
}

double fx_draw(uint64_t scenario, unsigned kind, size_t t, size_t i)
{
    uint64_t x = mix(scenario ^ mix(kind ^ mix((uint64_t)t ^ mix((uint64_t)i << 20))));
    return (double)(x >> 11) / 9007199254740992.0;
}

double fx_normal(uint64_t scenario, unsigned kind, size_t t, size_t i)
{
    double u1 = fx_draw(scenario, kind, t, i), u2 = fx_draw(scenario, kind + 100, t, i);
    return sqrt(-2 * log(u1 > 0 ? u1 : 1e-300)) * cos(2 * M_PI * u2);
}

double *fx_steal(const struct scenario *sc, const struct sim_effects *fx, unsigned pool)
{
    double *steal = xcalloc(sc->T, sizeof(double));
    uint64_t seed = fx_seed(sc->name);
    size_t left = 0;
    double level = 0;
    if (!fx->on[FX_STEAL])
        return steal;
    for (size_t t = 0; t < sc->T; t++) {
        if (left == 0 && fx_draw(seed, DRAW_STEAL, t, 0) < STEAL_P) {
            left = 2 + (size_t)(fx_draw(seed, DRAW_STEAL, t, 1) * 9);
            level = pool * (0.03 + 0.07 * fx_draw(seed, DRAW_STEAL, t, 2));
        }
        if (left) {
            steal[t] = level;
            left--;
        }
    }
    return steal;
}

double fx_demand(const struct scenario *sc, const struct sim_effects *fx, size_t i, size_t t)
{
    double d = sc->demand[i * sc->T + t];
    if (!fx->on[FX_NOISE])
        return d;
    double z = fx_normal(fx_seed(sc->name), DRAW_DEMAND, t, i);
    z = fmax(-3, fmin(3, z));
    return fmax(0, d * (1 + DEMAND_JITTER * z));
}

/* Only resizes fail: a hypervisor refuses a vCPU or a balloon change now
 * and then, while a weight or cap is a cgroup write. (A failed weight
 * write would change its cluster's total, which the planner conserves:
 * that is the actuator's to handle, not modelled.) */
bool fx_action_ok(const struct sim_effects *fx, uint64_t seed, size_t t, size_t i, int setting)
{
    if (setting != PART_SET_PROCESSORS && setting != PART_SET_MEMORY)
        return true;
    return !fx->on[FX_FAIL] || fx_draw(seed, DRAW_FAIL, t, i * 8 + (size_t)setting) >= FAIL_P;
}

double fx_read_jitter(const struct sim_effects *fx, uint64_t seed, size_t t, size_t i,
                      double interval)
{
    if (!fx->on[FX_NOISE])
        return 0;
    double z = fmax(-2.5, fmin(2.5, fx_normal(seed, DRAW_READ, t, i)));
    return READ_JITTER * interval * z;
}

bool fx_missed(const struct sim_effects *fx, uint64_t seed, size_t t, size_t i)
{
    return fx->on[FX_MISS] && fx_draw(seed, DRAW_MISS, t, i) < MISS_P;
}

double fx_late(const struct sim_effects *fx, uint64_t seed, size_t t, double interval)
{
    if (!fx->on[FX_LATE] || fx_draw(seed, DRAW_LATE, t, 0) >= LATE_P)
        return 0;
    return LATE_MAX * interval * fx_draw(seed, DRAW_LATE, t, 1);
}
