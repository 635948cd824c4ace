/* partd-sim: the planner in a closed loop with a model of the PR/SM
 * dispatcher, without libvirt. Each interval the shared pool is split among
 * the partitions by weight (weighted max-min fair, each limited by its
 * demand, online processors and cap; groups first, then their members);
 * what each partition got feeds its history as a CPU counter would, its
 * guest reports memory as a balloon would; then the planner runs and its
 * actions are applied to the model. Measures convergence to the fair
 * allocation, reversals, violations of bounds and capacity, and Jain's
 * fairness index; writes a CSV and a gnuplot script per scenario and a
 * markdown table. See docs/simulation.md for the definitions. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <part/cpc.h>
#include <part/plan.h>
#include <part/policy.h>
#include <part/size.h>

#include "sim.h"

#define WITHIN      0.05 /* "converged": within 5% of the fair allocation */
#define STEADY_LAST 30   /* intervals at the end of a steady phase checked for reversals */
#define STEP_MAX    3    /* intervals a step may take to converge */
#define EPS         1e-6
#define NEVER       ((size_t)-1)

struct result {
    const char *name;
    size_t n, T;
    size_t n_steps;
    size_t conv[SIM_PHASES_MAX]; /* per step phase: intervals to converge, NEVER */
    double within;               /* share of intervals within 5% */
    double err_mean;
    size_t reversals; /* in the steady windows */
    size_t flips;     /* direction changes of a setting over the whole run */
    size_t violations;
    char first_violation[512];
    double jain_mean, jain_min;
    size_t actions;
    double mem_short; /* share of partition-intervals with need over the memory target */
};

/* One change the planner made, for reversals. */
struct change {
    size_t t;
    int dir; /* +1 up, -1 down */
};

struct track {
    struct change *c;
    size_t n, alloc;
};

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

__attribute__((format(printf, 2, 3))) static void violation(struct result *res, const char *fmt,
                                                            ...)
{
    if (res->violations++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(res->first_violation, sizeof(res->first_violation), fmt, ap);
        va_end(ap);
    }
}

/* The dispatcher */

static double limit_of(const struct part_partition *p, double demand, double processors)
{
    double l = fmin(demand, processors);
    return p->cap != PART_CAP_NONE ? fmin(l, p->cap) : l;
}

/*
 * Splits the shared pool as PR/SM would: weighted max-min fair among the
 * ungrouped partitions and the groups (a group claims with the sum of its
 * members' weights, up to its cap), then within each group, each claimant
 * limited by limit[i]. The same two levels as part_cpc_compute(), with a
 * limit of the caller's choosing.
 */
static void allocate(const struct part_cpc *cpc, const double *limit, double *out)
{
    size_t n = cpc->n, k = 0;
    double *w = xcalloc(n, sizeof(double)), *lim = xcalloc(n, sizeof(double));
    double *share = xcalloc(n, sizeof(double)), *gcap = xcalloc(n, sizeof(double));
    double *mw = xcalloc(n, sizeof(double)), *ml = xcalloc(n, sizeof(double));
    double *mo = xcalloc(n, sizeof(double));
    size_t *claim = xcalloc(n, sizeof(size_t)), *idx = xcalloc(n, sizeof(size_t));

    for (size_t i = 0; i < n; i++) {
        const struct part_partition *p = cpc->parts[i];
        out[i] = 0;
        if (!p->active || p->profile->mode != PART_MODE_SHARED)
            continue;
        size_t c = k;
        for (size_t j = 0; j < i && p->profile->group[0]; j++) {
            const struct part_partition *q = cpc->parts[j];
            if (q->active && q->profile->mode == PART_MODE_SHARED &&
                strcmp(q->profile->group, p->profile->group) == 0) {
                c = claim[j];
                break;
            }
        }
        if (c == k) {
            const struct part_group_config *g =
                p->profile->group[0] ? part_config_group(&cpc->cfg, p->profile->group) : NULL;
            gcap[k] = g && g->cap != PART_CAP_NONE ? g->cap : INFINITY;
            k++;
        }
        claim[i] = c;
        w[c] += p->weight;
        lim[c] += limit[i];
    }
    for (size_t c = 0; c < k; c++)
        lim[c] = fmin(lim[c], gcap[c]);
    part_waterfill(k, w, lim, cpc->pool, share);
    for (size_t c = 0; c < k; c++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            const struct part_partition *p = cpc->parts[i];
            if (p->active && p->profile->mode == PART_MODE_SHARED && claim[i] == c) {
                mw[m] = p->weight;
                ml[m] = limit[i];
                idx[m++] = i;
            }
        }
        part_waterfill(m, mw, ml, share[c], mo);
        for (size_t j = 0; j < m; j++)
            out[idx[j]] = mo[j];
    }
    free(w), free(lim), free(share), free(gcap), free(mw), free(ml), free(mo);
    free(claim), free(idx);
}

/* Jain's fairness index of x[0..n): (sum x)^2 / (n sum x^2); 1 when all
 * equal. */
static double jain(const double *x, size_t n)
{
    double s = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        s += x[i];
        s2 += x[i] * x[i];
    }
    return n && s2 > 0 ? s * s / (n * s2) : 1;
}

/* Invariants, every interval */

static void check_state(const struct part_cpc *cpc, const double *delivered, const double *base,
                        size_t t, struct result *res)
{
    double online = 0, mem = 0, used = 0;
    for (size_t i = 0; i < cpc->n; i++) {
        const struct part_partition *p = cpc->parts[i];
        const struct part_profile *pp = p->profile;
        if (!p->active)
            continue;
        online += p->processors;
        mem += (double)p->memory;
        used += delivered[i];
        if (p->weight < pp->weight_min || p->weight > pp->weight_max)
            violation(res, "t %zu: %s: weight %u outside %u-%u", t, pp->name, p->weight,
                      pp->weight_min, pp->weight_max);
        if (p->processors < pp->proc_min || p->processors > pp->proc_reserved)
            violation(res, "t %zu: %s: processors %u outside %u-%u", t, pp->name, p->processors,
                      pp->proc_min, pp->proc_reserved);
        if (p->memory < pp->mem_min || p->memory > pp->mem_reserved)
            violation(res, "t %zu: %s: memory %llu outside %llu-%llu", t, pp->name,
                      (unsigned long long)p->memory, (unsigned long long)pp->mem_min,
                      (unsigned long long)pp->mem_reserved);
        if (p->cap != PART_CAP_NONE && (p->cap < PART_CAP_MIN || p->cap > PART_CAP_MAX))
            violation(res, "t %zu: %s: cap %g", t, pp->name, p->cap);
        if (delivered[i] > limit_of(p, INFINITY, p->processors) + EPS)
            violation(res, "t %zu: %s: delivered %.3f over its online processors or cap", t,
                      pp->name, delivered[i]);
    }
    if (used > cpc->pool + EPS)
        violation(res, "t %zu: delivered %.3f over the pool of %u", t, used, cpc->pool);
    if (online > cpc->pool * cpc->cfg.cpu_overcommit + EPS)
        violation(res, "t %zu: %.0f shared processors online over %g", t, online,
                  cpc->pool * cpc->cfg.cpu_overcommit);
    double mem_limit =
        (double)(cpc->memory - cpc->cfg.host_reserved_memory) * cpc->cfg.memory_overcommit;
    if (mem > mem_limit)
        violation(res, "t %zu: memory targets %.0f MiB over %.0f", t, mem, mem_limit);
    /* cluster totals: each partition's cluster (group, or "") as at the start */
    for (size_t i = 0; i < cpc->n; i++) {
        const struct part_partition *p = cpc->parts[i];
        double total = 0;
        bool first = true;
        for (size_t j = 0; j < cpc->n; j++) {
            const struct part_partition *q = cpc->parts[j];
            if (q->active && strcmp(q->profile->group, p->profile->group) == 0) {
                total += q->weight;
                first &= j >= i;
            }
        }
        if (p->active && first && fabs(total - base[i]) > EPS)
            violation(res, "t %zu: cluster \"%s\": weight total %.0f, was %.0f", t,
                      p->profile->group, total, base[i]);
    }
}

/* Applying a plan as the actuator does, after admission control. */
static void apply(struct part_cpc *cpc, const struct part_plan *plan, double now, size_t t,
                  struct track *tracks, struct result *res)
{
    for (size_t a = 0; a < plan->n; a++) {
        const struct part_action *act = &plan->actions[a];
        struct part_partition *p = part_cpc_find(cpc, act->partition);
        size_t i = 0;
        while (cpc->parts[i] != p)
            i++;
        struct part_error err;
        switch (act->setting) {
        case PART_SET_WEIGHT:
            p->weight = (unsigned)act->to;
            break;
        case PART_SET_CAP:
            p->cap = act->to;
            if (act->dc)
                p->dc_capped = act->to != p->profile->cap;
            break;
        case PART_SET_PROCESSORS:
        case PART_SET_MEMORY: {
            unsigned proc = act->setting == PART_SET_PROCESSORS ? (unsigned)act->to : p->processors;
            uint64_t mem = act->setting == PART_SET_MEMORY ? (uint64_t)act->to : p->memory;
            if (part_cpc_check_resize(cpc, p, proc, mem, &err) < 0) {
                violation(res, "t %zu: the actuator refused %s: %s", t, act->reason, err.message);
                continue;
            }
            part_cpc_set_running(cpc, p, proc, mem);
            break;
        }
        default:
            break;
        }
        p->changed_at[act->setting] = now;
        struct track *tr = &tracks[i * PART_SET_N + act->setting];
        if (tr->n == tr->alloc) {
            tr->alloc = tr->alloc ? 2 * tr->alloc : 8;
            tr->c = realloc(tr->c, tr->alloc * sizeof(*tr->c));
            if (!tr->c)
                exit(2);
        }
        tr->c[tr->n++] = (struct change){.t = t, .dir = act->to > act->from ? 1 : -1};
        res->actions++;
    }
    part_cpc_compute(cpc);
}

/* Output */

static FILE *open_out(const char *dir, const char *name, const char *ext)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s%s", dir, name, ext);
    FILE *f = fopen(path, "we");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        exit(2);
    }
    return f;
}

/* A gnuplot script drawing, per plotted partition, demand, fair share,
 * entitlement, delivered capacity and online processors over time, and
 * below them the distance to the fair allocation. */
static void write_gnuplot(const struct scenario *sc, const struct part_cpc *cpc, const char *dir,
                          const bool *capped)
{
    size_t shown = sc->n_plot ? sc->n_plot : sc->n;
    size_t rows = shown + 1 + (sc->n_plot ? 1 : 0);
    FILE *f = open_out(dir, sc->name, ".gp");

    fprintf(f, "# %s: %s (written by partd-sim)\n", sc->name, sc->title);
    fprintf(f, "if (!exists(\"datadir\")) datadir = '.'\n");
    fprintf(f, "if (!exists(\"outdir\")) outdir = '.'\n");
    fprintf(f, "set terminal pngcairo size 1100,%zu font 'DejaVu Sans,10'\n", 60 + 210 * rows);
    fprintf(f, "set output outdir.'/%s.png'\n", sc->name);
    fprintf(f, "set datafile separator ','\n");
    fprintf(f, "data = datadir.'/%s.csv'\ntotal = datadir.'/%s-total.csv'\n", sc->name, sc->name);
    fprintf(f, "set multiplot layout %zu,1 title '%s: %s (policy balanced, 1 interval = 2 s)'\n",
            rows, sc->name, sc->title);
    fprintf(f, "set key outside right top vertical\nset grid\nset xrange [0:%zu]\n", sc->T);
    fprintf(f, "set lmargin 10\nset rmargin 22\nset yrange [0:*]\nset offsets 0, 0, 0.4, 0\n");
    if (sc->n_plot) {
        fprintf(f, "set title 'all %zu partitions: totals' offset 0,-0.8\n", sc->n);
        fprintf(f, "set ylabel 'processors'\n");
        fprintf(f,
                "plot total using 1:2 every ::1 with lines dt 2 lc rgb 'black' title 'demand', \\\n"
                "     total using 1:3 every ::1 with lines lw 2 lc rgb '#999999' title 'fair', \\\n"
                "     total using 1:4 every ::1 with lines lw 1.5 lc rgb '#d62728' title "
                "'delivered', \\\n"
                "     total using 1:5 every ::1 with lines lc rgb '#2ca02c' title 'pool'\n");
    }
    for (size_t i = 0; i < shown; i++) {
        const char *name = cpc->parts[i]->profile->name;
        /* one partition's rows: a filtered stream, so that lines join */
        fprintf(f, "set title '%s' offset 0,-0.8\nset ylabel 'processors'\n", name);
        fprintf(f, "rows = \"< awk -F, '$2 == \\\"%s\\\"' \".data\n", name);
        fprintf(f,
                "plot rows using 1:3 with lines dt 2 lw 1.5 lc rgb 'black' title 'demand', \\\n"
                "     rows using 1:4 with lines lw 4 lc rgb '#bbbbbb' title 'fair share', \\\n"
                "     rows using 1:6 with lines lw 1.5 lc rgb '#1f77b4' title 'entitlement', \\\n"
                "     rows using 1:5 with lines lw 1.5 lc rgb '#d62728' title 'delivered', \\\n"
                "     rows using 1:7 with steps lc rgb '#2ca02c' title 'online'%s\n",
                capped[i] ? ", \\\n     rows using 1:9 with steps lw 2 lc rgb '#9467bd' title 'cap'"
                          : "");
    }
    fprintf(f, "set title 'distance to the fair allocation' offset 0,-0.8\n");
    fprintf(f, "set ylabel '%%'\nset xlabel 'interval'\n");
    fprintf(f, "plot total using 1:($6*100) every ::1 with lines lc rgb '#d62728' title "
               "'error', \\\n     5 with lines dt 3 lc rgb 'black' title '5%%'\n");
    fprintf(f, "unset multiplot\n");
    fclose(f);
}

/* The loop */

static void run(const struct scenario *sc, const struct part_policy *policy, const char *outdir,
                struct result *res)
{
    struct part_policy pol = *policy;
    struct part_cpc *cpc;
    struct part_error err;
    char buf[1024];
    size_t n = sc->n, T = sc->T;

    *res = (struct result){.name = sc->name, .n = n, .T = T, .jain_min = 1};
    if (sc->dc_window > 0)
        pol.dc_window = sc->dc_window;
    if (part_cpc_new(sc->cpus, sc->memory, &sc->cfg, &cpc, &err) < 0) {
        fprintf(stderr, "%s: %s\n", sc->name, part_error_format(&err, buf, sizeof(buf)));
        exit(2);
    }
    for (size_t i = 0; i < n; i++) {
        struct part_profile *p;
        if (part_profile_parse(sc->profiles[i], strlen(sc->profiles[i]), NULL, &p, &err) < 0 ||
            part_cpc_define(cpc, p, &err) < 0 ||
            part_cpc_check_activate(cpc, cpc->parts[i], &err) < 0) {
            fprintf(stderr, "%s: partition %zu: %s\n", sc->name, i,
                    part_error_format(&err, buf, sizeof(buf)));
            exit(2);
        }
        struct part_partition *part = cpc->parts[i];
        part_cpc_set_active(cpc, part, true);
        part->history = xcalloc(1, sizeof(*part->history));
        part_history_set_window(part->history, pol.dc_window);
        for (int s = 0; s < PART_SET_N; s++)
            part->changed_at[s] = -1e9;
    }

    double *delivered = xcalloc(n, sizeof(double)), *fair = xcalloc(n, sizeof(double));
    double *limit = xcalloc(n, sizeof(double)), *ratio = xcalloc(n, sizeof(double));
    double *base = xcalloc(n, sizeof(double)), *errs = xcalloc(T, sizeof(double));
    uint64_t *counter = xcalloc(n, sizeof(uint64_t));
    struct track *tracks = xcalloc(n * PART_SET_N, sizeof(*tracks));
    size_t within = 0, mem_short = 0;
    bool *capped = xcalloc(n, sizeof(bool));
    FILE *csv = open_out(outdir, sc->name, ".csv");
    FILE *tot = open_out(outdir, sc->name, "-total.csv");

    for (size_t i = 0; i < n; i++) {
        counter[i] = 1000000000; /* a counter of 0 reads as "none" */
        for (size_t j = 0; j < n; j++)
            if (cpc->parts[j]->active &&
                strcmp(cpc->parts[j]->profile->group, cpc->parts[i]->profile->group) == 0)
                base[i] += cpc->parts[j]->weight;
    }
    fprintf(csv, "t,partition,demand,fair,delivered,entitlement,online,weight,cap,memory,need\n");
    fprintf(tot, "t,demand,fair,delivered,pool,error,jain,actions\n");

    for (size_t t = 0; t < T; t++) {
        double now = (t + 1) * pol.interval;
        double sum_d = 0, sum_f = 0, sum_del = 0, dist = 0;
        size_t m = 0, actions_before = res->actions;

        /* the dispatcher over this interval, and the fair allocation */
        for (size_t i = 0; i < n; i++)
            limit[i] = limit_of(cpc->parts[i], sc->demand[i * T + t], cpc->parts[i]->processors);
        allocate(cpc, limit, delivered);
        for (size_t i = 0; i < n; i++)
            limit[i] = limit_of(cpc->parts[i], sc->demand[i * T + t],
                                cpc->parts[i]->profile->proc_reserved);
        allocate(cpc, limit, fair);
        check_state(cpc, delivered, base, t, res);

        for (size_t i = 0; i < n; i++) {
            struct part_partition *p = cpc->parts[i];
            double d = sc->demand[i * T + t];
            uint64_t need = sc->need[i * T + t];
            sum_d += d;
            sum_f += fair[i];
            sum_del += delivered[i];
            dist += fabs(delivered[i] - fair[i]);
            if (fair[i] > EPS)
                ratio[m++] = delivered[i] / fair[i];
            mem_short += need > p->memory;
            char cap[32] = "";
            if (p->cap != PART_CAP_NONE)
                snprintf(cap, sizeof(cap), "%.2f", p->cap);
            capped[i] |= p->cap != PART_CAP_NONE;
            fprintf(csv, "%zu,%s,%.4f,%.4f,%.4f,%.4f,%u,%u,%s,%llu,%llu\n", t, p->profile->name, d,
                    fair[i], delivered[i], p->entitlement, p->processors, p->weight, cap,
                    (unsigned long long)p->memory, (unsigned long long)need);
            /* what the monitor would see at the end of the interval: the
             * CPU time delivered, and the balloon's view of the guest */
            counter[i] += (uint64_t)llround(delivered[i] * pol.interval * 1e9);
            uint64_t unused = p->memory > need ? p->memory - need : 0;
            part_history_add(p->history, now, true, counter[i], p->processors, true, p->memory,
                             p->memory, unused);
        }
        errs[t] = sum_f > EPS ? dist / sum_f : 0;
        within += errs[t] <= WITHIN;
        res->err_mean += errs[t] / T;
        double j = jain(ratio, m);
        res->jain_mean += j / T;
        res->jain_min = fmin(res->jain_min, j);

        struct part_plan plan;
        int r = part_plan_make(cpc, &pol, now, &plan, &err);
        if (r < 0)
            violation(res, "t %zu: the planner failed (%d): %s", t, r,
                      part_error_format(&err, buf, sizeof(buf)));
        else
            apply(cpc, &plan, now, t, tracks, res);
        part_plan_clear(&plan);
        fprintf(tot, "%zu,%.4f,%.4f,%.4f,%u,%.5f,%.5f,%zu\n", t, sum_d, sum_f, sum_del, cpc->pool,
                errs[t], j, res->actions - actions_before);
    }

    /* convergence after each step: the first interval from which the
     * allocation stays within 5% to the end of the phase */
    for (size_t k = 0; k < sc->n_phases; k++) {
        size_t start = sc->phase[k], end = k + 1 < sc->n_phases ? sc->phase[k + 1] : T;
        if (!sc->step[k])
            continue;
        size_t settle = end;
        while (settle > start && errs[settle - 1] <= WITHIN)
            settle--;
        res->conv[res->n_steps++] = settle < end ? settle - start : NEVER;
    }
    /* reversals: a setting moving one way then the other, both within the
     * last STEADY_LAST intervals of a steady phase */
    for (size_t i = 0; i < n * PART_SET_N; i++) {
        const struct track *tr = &tracks[i];
        for (size_t c = 1; c < tr->n; c++) {
            if (tr->c[c].dir == tr->c[c - 1].dir)
                continue;
            res->flips++;
            for (size_t k = 0; k < sc->n_phases; k++) {
                size_t end = k + 1 < sc->n_phases ? sc->phase[k + 1] : T;
                size_t from = end > sc->phase[k] + STEADY_LAST ? end - STEADY_LAST : sc->phase[k];
                if (sc->steady[k] && tr->c[c - 1].t >= from && tr->c[c].t < end)
                    res->reversals++;
            }
        }
        free(tr->c);
    }
    res->within = (double)within / T;
    res->mem_short = (double)mem_short / (T * n);
    write_gnuplot(sc, cpc, outdir, capped);

    fclose(csv);
    fclose(tot);
    free(delivered), free(fair), free(limit), free(ratio), free(base), free(errs);
    free(counter), free(tracks), free(capped);
    part_cpc_free(cpc);
}

/* The table */

static void print_table(FILE *f, const struct result *res, size_t n)
{
    fprintf(f, "| scenario | partitions | intervals | converged after each step (intervals) | "
               "within 5%% | mean distance | reversals in steady state | direction changes "
               "(all) | violations | Jain's index mean (min) | actions | memory short |\n");
    fprintf(f, "|---|---:|---:|---|---:|---:|---:|---:|---:|---|---:|---:|\n");
    for (size_t i = 0; i < n; i++) {
        const struct result *r = &res[i];
        char conv[128] = "—";
        size_t len = 0;
        for (size_t k = 0; k < r->n_steps; k++) {
            len += (size_t)snprintf(conv + len, sizeof(conv) - len, "%s", k ? ", " : "");
            if (r->conv[k] == NEVER)
                len += (size_t)snprintf(conv + len, sizeof(conv) - len, "never");
            else
                len += (size_t)snprintf(conv + len, sizeof(conv) - len, "%zu", r->conv[k]);
        }
        fprintf(f,
                "| %s | %zu | %zu | %s | %.1f%% | %.2f%% | %zu | %zu | %zu | %.3f (%.3f) | %zu "
                "| %.1f%% |\n",
                r->name, r->n, r->T, conv, 100 * r->within, 100 * r->err_mean, r->reversals,
                r->flips, r->violations, r->jain_mean, r->jain_min, r->actions, 100 * r->mem_short);
    }
}

/* What ctest asserts; prints each failure. */
static int check_results(const struct result *res, size_t n)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        const struct result *r = &res[i];
        if (r->violations) {
            fprintf(stderr, "%s: %zu violations, the first: %s\n", r->name, r->violations,
                    r->first_violation);
            bad = 1;
        }
        if (r->reversals) {
            fprintf(stderr, "%s: %zu reversals in steady state\n", r->name, r->reversals);
            bad = 1;
        }
        for (size_t k = 0; k < r->n_steps; k++) {
            if (r->conv[k] == NEVER)
                fprintf(stderr, "%s: step %zu never converged within its phase\n", r->name, k);
            else if (r->conv[k] > STEP_MAX)
                fprintf(stderr, "%s: step %zu converged %zu intervals after it (at most %d)\n",
                        r->name, k, r->conv[k], STEP_MAX);
            bad |= r->conv[k] == NEVER || r->conv[k] > STEP_MAX;
        }
    }
    return bad;
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: partd-sim [--check] [--policies DIR] [--policy NAME] [--out DIR] "
               "[SCENARIO...]\n"
               "Runs the planner in closed loop over the scenarios (all by default:");
    for (size_t i = 0; sim_scenarios[i]; i++)
        fprintf(f, " %s", sim_scenarios[i]);
    fprintf(f,
            "),\nwrites DIR/SCENARIO.csv, DIR/SCENARIO-total.csv, DIR/SCENARIO.gp and\n"
            "DIR/results.md, and prints the results table. --check exits 1 unless every\n"
            "step converges within %d intervals, with no violation and no reversal in\n"
            "steady state.\n",
            STEP_MAX);
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"check", no_argument, NULL, 'c'},        {"policies", required_argument, NULL, 'p'},
        {"policy", required_argument, NULL, 'P'}, {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *policies = "policies", *policy_name = "balanced", *outdir = "sim";
    bool check = false;
    int c;

    while ((c = getopt_long(argc, argv, "cp:P:o:h", options, NULL)) != -1) {
        switch (c) {
        case 'c':
            check = true;
            break;
        case 'p':
            policies = optarg;
            break;
        case 'P':
            policy_name = optarg;
            break;
        case 'o':
            outdir = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    struct part_policy pol;
    struct part_error err;
    char buf[1024];
    if (part_policy_load(policies, policy_name, &pol, &err) < 0) {
        fprintf(stderr, "%s\n", part_error_format(&err, buf, sizeof(buf)));
        return 2;
    }
    if (mkdir(outdir, 0777) < 0 && errno != EEXIST) {
        fprintf(stderr, "%s: %s\n", outdir, strerror(errno));
        return 2;
    }

    const char *const *names = optind < argc ? (const char *const *)&argv[optind] : sim_scenarios;
    size_t n = 0;
    while (names[n])
        n++;
    struct result *res = xcalloc(n, sizeof(*res));
    for (size_t i = 0; i < n; i++) {
        struct scenario sc;
        if (scenario_build(names[i], &sc) < 0) {
            fprintf(stderr, "no scenario named %s\n", names[i]);
            return 2;
        }
        run(&sc, &pol, outdir, &res[i]);
        scenario_free(&sc);
    }
    print_table(stdout, res, n);
    FILE *f = open_out(outdir, "results", ".md");
    print_table(f, res, n);
    fclose(f);
    int bad = check ? check_results(res, n) : 0;
    free(res);
    return bad;
}
