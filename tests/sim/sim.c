/* partd-sim: the planner in a closed loop with a model of the PR/SM
 * dispatcher, without libvirt. Each interval the shared pool is split among
 * the partitions by their running weights (weighted max-min fair, each
 * limited by its demand, online processors and cap; groups first, then
 * their members); what each partition got feeds its history as a CPU
 * counter would, its guest reports memory as a balloon would; then the
 * planner runs and its actions are applied to the model.
 *
 * The yardstick is independent of the planner: the target is the same
 * split at the partitions' PROFILE weights, each limited by its demand,
 * reserved processors and profile cap (and defined capacity, by a
 * reference model of the rolling average fed with the target itself).
 * Measures how long delivered capacity takes to come within 5% of the
 * target after a step, how long entitlements take to cover it, reversals,
 * violations of bounds and capacity, and Jain's fairness index; writes a
 * CSV and a gnuplot script per scenario and a markdown table. See
 * docs/simulation.md for the definitions. */
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

#define WITHIN      0.05 /* "converged": within 5% of the target */
#define STEADY_LAST 30   /* intervals at the end of a steady phase checked for reversals */
#define STEP_MAX    3    /* intervals a step may take to converge */
#define EPS         1e-6
#define NEVER       ((size_t)-1)

struct result {
    const char *name;
    size_t n, T;
    size_t n_steps;
    size_t conv[SIM_PHASES_MAX];  /* per step phase: intervals until delivered stays within 5%
                                   * of the target, NEVER */
    size_t cover[SIM_PHASES_MAX]; /* per step phase: intervals until entitlements stay within
                                   * 5% of covering the target, NEVER */
    double within;                /* share of intervals with delivered within 5% */
    double err_mean;              /* mean distance of delivered to the target */
    double short_mean;            /* mean entitlement shortfall beyond the floor */
    double across_mean;           /* mean floor: what no weight move could cover */
    bool has_steady;
    double steady_err, steady_short; /* the most over the last STEADY_LAST intervals of
                                      * steady phases */
    size_t reversals;                /* in the steady windows */
    size_t flips;                    /* direction changes of a setting over the whole run */
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
 * limited by limit[i]. The same two levels as part_cpc_compute(), with
 * weights (the running ones, or the profiles') and limits of the caller's
 * choosing.
 */
static void allocate(const struct part_cpc *cpc, bool profile_weights, const double *limit,
                     double *out)
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
        w[c] += profile_weights ? p->profile->weight_initial : p->weight;
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
                mw[m] = profile_weights ? p->profile->weight_initial : p->weight;
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

/* A gnuplot script drawing, per plotted partition, demand, the target
 * (the fair share at profile weights), entitlement, delivered capacity and
 * online processors over time, and below them the distance of delivered
 * capacity to the target and the entitlement shortfall. */
static void write_gnuplot(const struct scenario *sc, const struct part_cpc *cpc, const char *policy,
                          double interval, const char *dir, const bool *capped)
{
    size_t shown = sc->n_plot ? sc->n_plot : sc->n;
    size_t rows = shown + 1 + (sc->n_plot ? 1 : 0);
    FILE *f = open_out(dir, sc->name, ".gp");

    fprintf(f, "# %s: %s (written by partd-sim)\n", sc->name, sc->title);
    fprintf(f, "if (!exists(\"datadir\")) datadir = '.'\n");
    fprintf(f, "if (!exists(\"outdir\")) outdir = '.'\n");
    fprintf(f, "set terminal pngcairo size 1250,%zu font 'DejaVu Sans,10'\n", 60 + 210 * rows);
    fprintf(f, "set output outdir.'/%s.png'\n", sc->name);
    fprintf(f, "set datafile separator ','\n");
    fprintf(f, "data = datadir.'/%s.csv'\ntotal = datadir.'/%s-total.csv'\n", sc->name, sc->name);
    fprintf(f, "set multiplot layout %zu,1 title '%s: %s (policy %s, 1 interval = %g s)'\n", rows,
            sc->name, sc->title, policy, interval);
    fprintf(f, "set key outside right top vertical\nset grid\nset xrange [0:%zu]\n", sc->T);
    fprintf(f, "set lmargin 10\nset rmargin 44\nset yrange [0:*]\nset offsets 0, 0, 0.4, 0\n");
    if (sc->n_plot) {
        fprintf(f, "set title 'all %zu partitions: totals' offset 0,-0.8\n", sc->n);
        fprintf(f, "set ylabel 'processors'\n");
        fprintf(f,
                "plot total using 1:2 every ::1 with lines dt 2 lc rgb 'black' title 'demand', \\\n"
                "     total using 1:3 every ::1 with lines lw 4 lc rgb '#bbbbbb' title "
                "'target', \\\n"
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
                "     rows using 1:4 with lines lw 5 lc rgb '#bbbbbb' title "
                "'target (fair share at profile weights)', \\\n"
                "     rows using 1:6 with lines lw 1.5 lc rgb '#1f77b4' title 'entitlement', \\\n"
                "     rows using 1:5 with lines lw 1.5 lc rgb '#d62728' title 'delivered', \\\n"
                "     rows using 1:7 with steps lc rgb '#2ca02c' title 'online'%s\n",
                capped[i] ? ", \\\n     rows using 1:9 with steps lw 2 lc rgb '#9467bd' title 'cap'"
                          : "");
    }
    fprintf(f, "set title 'distance of delivered capacity to the target; entitlement shortfall "
               "beyond the floor' offset 0,-0.8\n");
    fprintf(f, "set ylabel '%% of the target'\nset xlabel 'interval'\n");
    fprintf(f, "plot total using 1:($6*100) every ::1 with lines lc rgb '#d62728' title "
               "'distance', \\\n"
               "     total using 1:($7*100) every ::1 with lines lc rgb '#1f77b4' title "
               "'shortfall', \\\n"
               "     5 with lines dt 3 lc rgb 'black' title '5%%'\n");
    fprintf(f, "unset multiplot\n");
    fclose(f);
}

/* The reference model of defined capacity: the target's own rolling
 * average, kept by the monitor's code (part_history_rolling()) and judged
 * by the rule partd documents: capped at defined_capacity once a quarter
 * of the window is seen and the average is over it, released when it falls
 * under defined_capacity x (1 - deadband). Fed with the target, not with
 * what the planner delivered. */
struct reference {
    struct part_history *h; /* NULL: no defined capacity */
    uint64_t counter;
    bool capped;
};

static double target_limit(const struct part_partition *p, const struct reference *ref,
                           double demand)
{
    double l = fmin(demand, p->profile->proc_reserved);
    if (p->profile->cap != PART_CAP_NONE)
        l = fmin(l, p->profile->cap);
    if (ref->capped)
        l = fmin(l, p->profile->defined_capacity);
    return l;
}

static void reference_step(const struct part_partition *p, struct reference *ref, double now,
                           double target, const struct part_policy *pol)
{
    double dc = p->profile->defined_capacity, seen;
    if (!ref->h)
        return;
    ref->counter += (uint64_t)llround(target * pol->interval * 1e9);
    part_history_add(ref->h, now, true, ref->counter, p->profile->proc_reserved, false, 0, 0, 0);
    double avg = part_history_rolling(ref->h, &seen);
    if (seen < part_history_window(ref->h) / 4)
        return;
    if (avg > dc)
        ref->capped = true;
    else if (ref->capped && avg < dc * (1 - pol->deadband))
        ref->capped = false;
}

/*
 * The entitlement shortfall no weight move could avoid, in processors. In
 * cluster c (a group, or the ungrouped partitions) of total weight W_c
 * (conserved) the members share the entitlement E_c that W_c claims
 * against the other clusters with every member's reserved processors
 * online (ce[c], from cluster_entitlements(): how many are online is the
 * planner's to choose, so it is not counted in the floor). A weight w_i
 * gives about k w_i processors, k = E_c / W_c. To cover target T_i a
 * member needs T_i / k; it can have at most weight.max_i, and has at least
 * weight.min_i, more than it needs when T_i / k < weight.min_i (waste).
 * The most covered is then
 *   min( sum_i min(T_i, k weight.max_i),  k (W_c - sum_i waste_i) ),
 * and the floor is sum_c (T_c - that). cluster[i] is the first member of
 * i's cluster; the other arrays are scratch of n entries.
 */
static double floor_of(const struct part_cpc *cpc, const size_t *cluster, const double *target,
                       const double *ce, double *ct, double *cw, double *cover, double *waste)
{
    size_t n = cpc->n;
    double total = 0;
    for (size_t c = 0; c < n; c++)
        ct[c] = cw[c] = cover[c] = waste[c] = 0;
    for (size_t i = 0; i < n; i++) {
        const struct part_partition *p = cpc->parts[i];
        if (!p->active || p->profile->mode != PART_MODE_SHARED)
            continue;
        ct[cluster[i]] += target[i];
        cw[cluster[i]] += p->weight;
    }
    for (size_t i = 0; i < n; i++) {
        const struct part_partition *p = cpc->parts[i];
        size_t c = cluster[i];
        if (!p->active || p->profile->mode != PART_MODE_SHARED || cw[c] <= 0)
            continue;
        double k = ce[c] / cw[c];
        cover[c] += fmin(target[i], k * p->profile->weight_max);
        if (k > 0)
            waste[c] += fmax(0, p->profile->weight_min - target[i] / k);
    }
    for (size_t c = 0; c < n; c++)
        if (cw[c] > 0)
            total += fmax(0, ct[c] - fmin(cover[c], ce[c] / cw[c] * (cw[c] - waste[c])));
    return total;
}

/* Each cluster's entitlement with every member's reserved processors
 * online, by cluster[i] (its first member): the same two levels as
 * part_cpc_compute(), at weights whose cluster totals are the profiles'
 * and never change. */
static void cluster_entitlements(const struct part_cpc *cpc, const size_t *cluster, double *limit,
                                 double *out, double *ce)
{
    for (size_t i = 0; i < cpc->n; i++) {
        const struct part_profile *pp = cpc->parts[i]->profile;
        limit[i] = pp->cap != PART_CAP_NONE ? fmin(pp->proc_reserved, pp->cap) : pp->proc_reserved;
        ce[i] = 0;
    }
    allocate(cpc, true, limit, out);
    for (size_t i = 0; i < cpc->n; i++)
        ce[cluster[i]] += out[i];
}

/* Intervals from the start of phase [start, end) until x[t] <= WITHIN for
 * every t to its end; NEVER when the last interval is outside. */
static size_t settle(const double *x, size_t start, size_t end)
{
    size_t t = end;
    while (t > start && x[t - 1] <= WITHIN)
        t--;
    return t < end ? t - start : NEVER;
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
    struct reference *ref = xcalloc(n, sizeof(*ref));
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
        if (part->profile->defined_capacity != PART_CAP_NONE) {
            ref[i].h = xcalloc(1, sizeof(*ref[i].h));
            part_history_set_window(ref[i].h, pol.dc_window);
            ref[i].counter = 1000000000;
        }
    }

    double *delivered = xcalloc(n, sizeof(double)), *target = xcalloc(n, sizeof(double));
    double *limit = xcalloc(n, sizeof(double)), *ratio = xcalloc(n, sizeof(double));
    double *base = xcalloc(n, sizeof(double)), *errs = xcalloc(T, sizeof(double));
    double *shorts = xcalloc(T, sizeof(double));
    double *ct = xcalloc(n, sizeof(double)), *ce = xcalloc(n, sizeof(double));
    double *cw = xcalloc(n, sizeof(double)), *cover = xcalloc(n, sizeof(double));
    double *waste = xcalloc(n, sizeof(double));
    size_t *cluster = xcalloc(n, sizeof(size_t)); /* the first member of i's cluster */
    uint64_t *counter = xcalloc(n, sizeof(uint64_t));
    struct track *tracks = xcalloc(n * PART_SET_N, sizeof(*tracks));
    size_t within = 0, mem_short = 0;
    bool *capped = xcalloc(n, sizeof(bool));
    FILE *csv = open_out(outdir, sc->name, ".csv");
    FILE *tot = open_out(outdir, sc->name, "-total.csv");

    for (size_t i = 0; i < n; i++) {
        counter[i] = 1000000000; /* a counter of 0 reads as "none" */
        cluster[i] = i;
        for (size_t j = i; j-- > 0;)
            if (strcmp(cpc->parts[j]->profile->group, cpc->parts[i]->profile->group) == 0)
                cluster[i] = cluster[j];
        /* the monitor samples from the start: this first sample only
         * starts the counter (the daemon's first one, at activation) */
        struct part_partition *p = cpc->parts[i];
        uint64_t need = sc->need[i * T], unused = p->memory > need ? p->memory - need : 0;
        part_history_add(p->history, 0, true, counter[i], p->processors, true, p->memory, p->memory,
                         unused);
        if (ref[i].h)
            part_history_add(ref[i].h, 0, true, ref[i].counter, p->profile->proc_reserved, false, 0,
                             0, 0);
        for (size_t j = 0; j < n; j++)
            if (cpc->parts[j]->active &&
                strcmp(cpc->parts[j]->profile->group, cpc->parts[i]->profile->group) == 0)
                base[i] += cpc->parts[j]->weight;
    }
    cluster_entitlements(cpc, cluster, limit, target, ce);
    fprintf(csv, "t,partition,demand,target,delivered,entitlement,online,weight,cap,memory,need\n");
    fprintf(tot, "t,demand,target,delivered,pool,distance,shortfall,jain,actions\n");

    for (size_t t = 0; t < T; t++) {
        double now = (t + 1) * pol.interval;
        double sum_d = 0, sum_t = 0, sum_del = 0, dist = 0, gap = 0;
        size_t m = 0, actions_before = res->actions;

        /* the dispatcher over this interval, at the running weights, and
         * the target, at the profiles' */
        for (size_t i = 0; i < n; i++)
            limit[i] = limit_of(cpc->parts[i], sc->demand[i * T + t], cpc->parts[i]->processors);
        allocate(cpc, false, limit, delivered);
        for (size_t i = 0; i < n; i++)
            limit[i] = target_limit(cpc->parts[i], &ref[i], sc->demand[i * T + t]);
        allocate(cpc, true, limit, target);
        check_state(cpc, delivered, base, t, res);

        for (size_t i = 0; i < n; i++) {
            struct part_partition *p = cpc->parts[i];
            double d = sc->demand[i * T + t];
            uint64_t need = sc->need[i * T + t];
            sum_d += d;
            sum_t += target[i];
            sum_del += delivered[i];
            dist += fabs(delivered[i] - target[i]);
            /* the guarantee following demand: what of min(demand, target)
             * (the target is never over demand) the entitlement misses */
            gap += fmax(0, target[i] - p->entitlement);
            if (target[i] > EPS)
                ratio[m++] = delivered[i] / target[i];
            mem_short += need > p->memory;
            char cap[32] = "";
            if (p->cap != PART_CAP_NONE)
                snprintf(cap, sizeof(cap), "%.2f", p->cap);
            capped[i] |= p->cap != PART_CAP_NONE;
            fprintf(csv, "%zu,%s,%.4f,%.4f,%.4f,%.4f,%u,%u,%s,%llu,%llu\n", t, p->profile->name, d,
                    target[i], delivered[i], p->entitlement, p->processors, p->weight, cap,
                    (unsigned long long)p->memory, (unsigned long long)need);
            /* what the monitor would see at the end of the interval: the
             * CPU time delivered, and the balloon's view of the guest */
            counter[i] += (uint64_t)llround(delivered[i] * pol.interval * 1e9);
            uint64_t unused = p->memory > need ? p->memory - need : 0;
            part_history_add(p->history, now, true, counter[i], p->processors, true, p->memory,
                             p->memory, unused);
            reference_step(p, &ref[i], now, target[i], &pol);
        }
        /* what no weight move could cover: each cluster's entitlement is
         * set by its total weight, conserved, and each member's weight
         * stays within its profile's bounds */
        double across = floor_of(cpc, cluster, target, ce, ct, cw, cover, waste);
        errs[t] = sum_t > EPS ? dist / sum_t : 0;
        shorts[t] = sum_t > EPS ? fmax(0, gap - across) / sum_t : 0;
        res->across_mean += sum_t > EPS ? across / sum_t / T : 0;
        within += errs[t] <= WITHIN;
        res->err_mean += errs[t] / T;
        res->short_mean += shorts[t] / T;
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
        fprintf(tot, "%zu,%.4f,%.4f,%.4f,%u,%.5f,%.5f,%.5f,%zu\n", t, sum_d, sum_t, sum_del,
                cpc->pool, errs[t], shorts[t], j, res->actions - actions_before);
    }

    /* after each step: the first interval from which delivered stays
     * within 5% of the target (entitlements cover it within 5%) to the
     * end of the phase; in steady phases, the worst of the last intervals */
    for (size_t k = 0; k < sc->n_phases; k++) {
        size_t start = sc->phase[k], end = k + 1 < sc->n_phases ? sc->phase[k + 1] : T;
        if (sc->steady[k]) {
            size_t from = end > start + STEADY_LAST ? end - STEADY_LAST : start;
            res->has_steady = true;
            for (size_t t = from; t < end; t++) {
                res->steady_err = fmax(res->steady_err, errs[t]);
                res->steady_short = fmax(res->steady_short, shorts[t]);
            }
        }
        if (!sc->step[k])
            continue;
        res->conv[res->n_steps] = settle(errs, start, end);
        res->cover[res->n_steps++] = settle(shorts, start, end);
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
    write_gnuplot(sc, cpc, pol.name, pol.interval, outdir, capped);

    fclose(csv);
    fclose(tot);
    for (size_t i = 0; i < n; i++)
        free(ref[i].h);
    free(ref);
    free(delivered), free(target), free(limit), free(ratio), free(base), free(errs), free(shorts);
    free(ct), free(ce), free(cw), free(cover), free(waste), free(cluster);
    free(counter), free(tracks), free(capped);
    part_cpc_free(cpc);
}

/* The table */

static void list_steps(char *buf, size_t len, const size_t *x, size_t n)
{
    size_t at = 0;
    snprintf(buf, len, "—");
    for (size_t k = 0; k < n && at < len; k++) {
        if (x[k] == NEVER)
            at += (size_t)snprintf(buf + at, len - at, "%snever", k ? ", " : "");
        else
            at += (size_t)snprintf(buf + at, len - at, "%s%zu", k ? ", " : "", x[k]);
    }
}

static void print_table(FILE *f, const struct result *res, size_t n)
{
    fprintf(f, "| scenario | partitions | intervals | delivered within 5%% of target, after each "
               "step | entitlement covers target, after each step | intervals within 5%% | mean "
               "distance | mean shortfall beyond the floor (floor) | steady state: worst distance "
               "/ shortfall | "
               "reversals in steady state | direction changes (all) | violations | Jain's "
               "index mean (min) | actions | memory short |\n");
    fprintf(f, "|---|---:|---:|---|---|---:|---:|---:|---|---:|---:|---:|---|---:|---:|\n");
    for (size_t i = 0; i < n; i++) {
        const struct result *r = &res[i];
        char conv[128], cover[128], steady[64] = "—";
        list_steps(conv, sizeof(conv), r->conv, r->n_steps);
        list_steps(cover, sizeof(cover), r->cover, r->n_steps);
        if (r->has_steady)
            snprintf(steady, sizeof(steady), "%.1f%% / %.1f%%", 100 * r->steady_err,
                     100 * r->steady_short);
        fprintf(f,
                "| %s | %zu | %zu | %s | %s | %.1f%% | %.2f%% | %.2f%% (%.2f%%) | %s | %zu | %zu | "
                "%zu | "
                "%.3f (%.3f) | %zu | %.1f%% |\n",
                r->name, r->n, r->T, conv, cover, 100 * r->within, 100 * r->err_mean,
                100 * r->short_mean, 100 * r->across_mean, steady, r->reversals, r->flips,
                r->violations, r->jain_mean, r->jain_min, r->actions, 100 * r->mem_short);
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
            static const char *const what[] = {"delivered capacity", "the entitlements"};
            const size_t *x[] = {r->conv, r->cover};
            for (int m = 0; m < 2; m++) {
                if (x[m][k] == NEVER)
                    fprintf(stderr, "%s: step %zu: %s never converged within its phase\n", r->name,
                            k, what[m]);
                else if (x[m][k] > STEP_MAX)
                    fprintf(stderr,
                            "%s: step %zu: %s converged %zu intervals after it (at most %d)\n",
                            r->name, k, what[m], x[m][k], STEP_MAX);
                bad |= x[m][k] == NEVER || x[m][k] > STEP_MAX;
            }
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
            "DIR/results.md, and prints the results table. --check exits 1 unless, after\n"
            "every step, delivered capacity comes within 5%% of the target and the\n"
            "entitlements cover it within %d intervals, with no violation and no\n"
            "reversal in steady state.\n",
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
