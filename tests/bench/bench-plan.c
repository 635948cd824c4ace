/* Benchmark 3: planner scaling. Builds CPCs of N shared partitions (groups
 * of 10; histories filled through part_history_add() with demands that make
 * weights, processors and memory move) and times part_plan_make() and
 * part_cpc_compute() with CLOCK_MONOTONIC, median of several runs.
 *
 * Two scenarios per N: "busy" (in each group three partitions starved,
 * four idle and holding less weight than their profile's, one holding
 * more: weights, processors and memory all move, about 1.8 actions per
 * partition) and "steady" (every partition using its entitlement, at its
 * profile's weight: the planner judges everyone and plans nothing).
 *
 * Usage: bench-plan [-p POLICIES_DIR] [-P POLICY] [-b BUDGET_S] [N ...]
 * Prints one line per N, scenario and function:
 *   plan scenario=busy N=10000 runs=5 median_ns=... ns_per_partition=... actions=...
 *     ... min_ns=... cpu_median_ns=... cpu_ns_per_partition=...
 *   compute N=10000 runs=5 median_ns=... ns_per_partition=...
 * median_ns and min_ns are wall time (CLOCK_MONOTONIC), cpu_median_ns the
 * thread's CPU time (CLOCK_THREAD_CPUTIME_ID), which leaves out the time
 * other processes had the CPU.
 *
 * The CPC is built by filling struct part_cpc directly and computing once:
 * part_cpc_define() and part_cpc_set_active() recompute every entitlement
 * on each call, which would make building 10,000 partitions take far
 * longer than the benchmark itself. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <part/plan.h>
#include <part/policy.h>

#include "bench.h"

#define GROUP   10
#define DT      2.0 /* seconds between samples */
#define SAMPLES 8   /* samples per history */
#define NS      1e9

/* This thread's CPU time: on a shared machine, what the plan cost without
 * the time other processes had the CPU. */
static double cpu(void)
{
    return bench_clock(CLOCK_THREAD_CPUTIME_ID);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p) {
        fprintf(stderr, "bench-plan: out of memory\n");
        exit(1);
    }
    return p;
}

/* Demand of member k of a group of 10, relative to its entitlement: three
 * starved, four idle, three about right; the idle ones lent weight before
 * (running below their profile's weight), one holder borrowed some. */
static double demand_factor(size_t k, bool steady)
{
    static const double f[GROUP] = {1.6, 1.4, 1.3, 0.2, 0.3, 0.1, 0.25, 1.0, 0.97, 1.02};
    return steady ? 1.0 : f[k % GROUP];
}

static struct part_cpc *build(size_t n, bool steady)
{
    size_t groups = (n + GROUP - 1) / GROUP;
    struct part_cpc_config cfg = {
        .host_reserved_cpus = 2,
        .host_reserved_memory = 4096,
        .cpu_overcommit = 4,
        .memory_overcommit = 1.0,
        .groups = xcalloc(groups, sizeof(struct part_group_config)),
        .n_groups = groups,
    };
    for (size_t g = 0; g < groups; g++) {
        snprintf(cfg.groups[g].name, sizeof(cfg.groups[g].name), "g%zu", g);
        cfg.groups[g].cap = PART_CAP_NONE;
    }
    /* one pool CPU per partition; memory for every partition's reserve */
    unsigned cpus = (unsigned)n + 2;
    uint64_t memory = (uint64_t)n * 8192 + 4096;
    struct part_cpc *cpc;
    struct part_error err;
    if (part_cpc_new(cpus, memory, &cfg, &cpc, &err) < 0) {
        fprintf(stderr, "bench-plan: part_cpc_new: %s\n", err.message);
        exit(1);
    }
    free(cfg.groups);
    cpc->parts = xcalloc(n, sizeof(*cpc->parts));
    for (size_t i = 0; i < n; i++) {
        char name[PART_NAME_MAX];
        snprintf(name, sizeof(name), "p%05zu", i);
        struct part_profile *pp = part_profile_new(name);
        if (!pp) {
            fprintf(stderr, "bench-plan: out of memory\n");
            exit(1);
        }
        pp->proc_initial = 2;
        pp->proc_reserved = 4;
        pp->weight_min = 20;
        pp->weight_max = 300;
        pp->mem_initial = 2048;
        pp->mem_reserved = 8192;
        snprintf(pp->group, sizeof(pp->group), "g%zu", i / GROUP);
        struct part_partition *p = xcalloc(1, sizeof(*p));
        p->profile = pp;
        p->active = true;
        p->processors = pp->proc_initial;
        /* idle members lent weight, member 9 holds it */
        size_t k = i % GROUP;
        p->weight = steady ? 100 : k >= 3 && k <= 6 ? 80 : k == 9 ? 180 : 100;
        p->cap = PART_CAP_NONE;
        p->memory = pp->mem_initial;
        for (int s = 0; s < PART_SET_N; s++)
            p->changed_at[s] = -1000;
        cpc->parts[cpc->n++] = p;
    }
    part_cpc_compute(cpc);
    /* histories: demand relative to the entitlement just computed */
    for (size_t i = 0; i < n; i++) {
        struct part_partition *p = cpc->parts[i];
        double want = fmin(p->processors, p->entitlement * demand_factor(i % GROUP, steady));
        /* MiB the guest uses; steady: within the memory dead-band of its target */
        uint64_t need = steady ? 2048 - 256 : (i % GROUP) < 3 ? 2000 : (i % GROUP) < 7 ? 700 : 1500;
        p->history = xcalloc(1, sizeof(*p->history));
        part_history_set_window(p->history, 14400);
        uint64_t ns = (uint64_t)NS;
        for (int s = 0; s < SAMPLES; s++) {
            double t = s * DT;
            double jitter = 1 + 0.01 * ((int)((i * 7 + (size_t)s * 3) % 5) - 2);
            if (s > 0)
                ns += (uint64_t)llround(want * jitter * DT * NS);
            part_history_add(p->history, t, true, ns, p->processors, true, p->memory, p->memory,
                             need < p->memory ? p->memory - need : 0);
        }
    }
    return cpc;
}

/* Runs between 5 (3 when one takes over half a second) and 101, within
 * budget seconds, after one warm-up. */
static size_t runs_for(double one, double budget)
{
    double r = one > 0 ? budget / one : 101;
    size_t least = one > 0.5 ? 3 : 5;
    return r < least ? least : r > 101 ? 101 : (size_t)r;
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *name = "balanced";
    double budget = 1.0;
    int c;

    while ((c = getopt(argc, argv, "p:P:b:")) != -1) {
        switch (c) {
        case 'p':
            dir = optarg;
            break;
        case 'P':
            name = optarg;
            break;
        case 'b':
            budget = atof(optarg);
            break;
        default:
            fprintf(stderr,
                    "usage: bench-plan [-p POLICIES_DIR] [-P POLICY] [-b BUDGET_S] [N ...]\n");
            return 2;
        }
    }
    struct part_policy pol;
    struct part_error err;
    if (dir) {
        if (part_policy_load(dir, name, &pol, &err) < 0) {
            fprintf(stderr, "bench-plan: %s\n", err.message);
            return 1;
        }
    } else {
        part_policy_default(&pol);
        snprintf(pol.name, sizeof(pol.name), "balanced");
        pol.weights = pol.processors = pol.memory = pol.defined_capacity = true;
    }
    static const size_t dflt[] = {10, 100, 1000, 10000};
    size_t nsizes = argc > optind ? (size_t)(argc - optind) : 4;
    double now = (SAMPLES - 1) * DT;

    printf("# policy %s: weights %d processors %d memory %d defined_capacity %d\n", pol.name,
           pol.weights, pol.processors, pol.memory, pol.defined_capacity);
    for (size_t si = 0; si < nsizes; si++) {
        size_t n = argc > optind ? strtoull(argv[optind + si], NULL, 10) : dflt[si];
        struct part_cpc *cpc = NULL;
        struct part_plan plan;
        double t0, c0, one, *v = NULL, *vc = NULL;
        size_t runs = 0;

        for (int steady = 1; steady >= 0; steady--) {
            part_cpc_free(cpc);
            cpc = build(n, steady);
            /* warm-up, which also sizes the number of runs */
            t0 = bench_mono();
            if (part_plan_make(cpc, &pol, now, &plan, &err) < 0) {
                fprintf(stderr, "bench-plan: N=%zu: plan refused: %s\n", n, err.message);
                return 1;
            }
            one = bench_mono() - t0;
            size_t actions = plan.n, kinds[PART_SET_N] = {0};
            for (size_t i = 0; i < plan.n; i++)
                kinds[plan.actions[i].setting]++;
            part_plan_clear(&plan);
            runs = runs_for(one, budget);
            free(v);
            free(vc);
            v = xcalloc(runs, sizeof(*v));
            vc = xcalloc(runs, sizeof(*vc));
            for (size_t r = 0; r < runs; r++) {
                t0 = bench_mono();
                c0 = cpu();
                part_plan_make(cpc, &pol, now, &plan, NULL);
                vc[r] = cpu() - c0;
                v[r] = bench_mono() - t0;
                part_plan_clear(&plan);
            }
            double med = bench_median(v, runs); /* sorts v */
            double least = v[0], cmed = bench_median(vc, runs);
            printf("plan scenario=%s N=%zu runs=%zu median_ns=%.0f ns_per_partition=%.1f "
                   "actions=%zu weight=%zu processors=%zu memory=%zu cap=%zu min_ns=%.0f "
                   "cpu_median_ns=%.0f cpu_ns_per_partition=%.1f\n",
                   steady ? "steady" : "busy", n, runs, med * 1e9, med * 1e9 / (double)n, actions,
                   kinds[PART_SET_WEIGHT], kinds[PART_SET_PROCESSORS], kinds[PART_SET_MEMORY],
                   kinds[PART_SET_CAP], least * 1e9, cmed * 1e9, cmed * 1e9 / (double)n);
            fflush(stdout);
        }

        t0 = bench_mono();
        part_cpc_compute(cpc);
        one = bench_mono() - t0;
        runs = runs_for(one, budget / 2);
        free(v);
        v = xcalloc(runs, sizeof(*v));
        for (size_t r = 0; r < runs; r++) {
            t0 = bench_mono();
            part_cpc_compute(cpc);
            v[r] = bench_mono() - t0;
        }
        double med = bench_median(v, runs);
        printf("compute N=%zu runs=%zu median_ns=%.0f ns_per_partition=%.1f\n", n, runs, med * 1e9,
               med * 1e9 / (double)n);
        fflush(stdout);
        free(v);
        free(vc);
        part_cpc_free(cpc);
    }
    return 0;
}
