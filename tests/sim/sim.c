/* partd-sim: the planner in a closed loop with a model of the PR/SM
 * dispatcher, without libvirt. Each interval the shared pool (less what
 * the host steals) is split among the partitions by their running weights
 * (weighted max-min fair, each limited by its demand with its backlog, the
 * processors its guest has online and its cap; groups first, then their
 * members); what each got feeds its history as a CPU counter read by the
 * monitor would (at jittered times, now and then late or missed), its
 * guest reports memory as a balloon would; then the planner runs and its
 * actions are applied to the model (some fail; processors come online an
 * interval later, balloons move at a bounded rate).
 *
 * The yardstick is independent of the planner: the target is the same
 * split at the partitions' PROFILE weights, each limited by its demand,
 * reserved processors and profile cap (and defined capacity, by a
 * reference model of the rolling average fed with the target itself).
 * Every scenario is run with `static` first, on the same trace, for the
 * comparison. See docs/simulation.md for the model and the definitions. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <part/cpc.h>
#include <part/plan.h>
#include <part/policy.h>

#include "sim.h"

#define EPS          1e-6
#define BACKLOG_KEEP 0.5  /* of the demand not served, carried to the next interval */
#define BALLOON_RATE 512  /* MiB a balloon moves per interval */
#define STARVED_AT   0.9  /* delivered under this share of the target: starved */
#define STARVED_MIN  0.1  /* processors: a smaller target cannot starve */
#define OFF_MIN      0.05 /* processors: a partition's band is at least this wide */

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

/* One run of a scenario under a policy. */
struct sim {
    const struct scenario *sc;
    struct part_policy pol;
    const struct sim_effects *fx;
    uint64_t seed;
    struct part_cpc *cpc;
    size_t n, T;
    struct reference *ref;
    double *demand;  /* this interval's, with jitter and backlog */
    double *backlog; /* carried from the last interval */
    double *delivered, *target, *limit, *ratio, *base, *ce, *scratch, *steal;
    double *cpu;      /* processor-seconds delivered so far */
    double *read;     /* the counter the monitor read last, processor-seconds */
    unsigned *online; /* processors the guest runs (after the latency) */
    unsigned *pending_to;
    size_t *pending_from; /* from which interval pending_to holds; SIZE_MAX none */
    uint64_t *balloon;    /* the balloon's size, MiB */
    uint64_t *paged;      /* KiB the guest swapped in (and out) so far */
    size_t *cluster;      /* the first member of i's cluster */
    bool *capped;
    FILE *csv, *tot;
    struct record rec;
    struct result *res;
    size_t within, mem_short, starved;
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

/* Set-up */

static void sim_partitions(struct sim *s)
{
    struct part_error err;
    char buf[1024];
    for (size_t i = 0; i < s->n; i++) {
        struct part_profile *p;
        if (part_profile_parse(s->sc->profiles[i], strlen(s->sc->profiles[i]), NULL, &p, &err) <
                0 ||
            part_cpc_define(s->cpc, p, &err) < 0 ||
            part_cpc_check_activate(s->cpc, s->cpc->parts[i], &err) < 0) {
            fprintf(stderr, "%s: partition %zu: %s\n", s->sc->name, i,
                    part_error_format(&err, buf, sizeof(buf)));
            exit(2);
        }
        struct part_partition *part = s->cpc->parts[i];
        part_cpc_set_active(s->cpc, part, true);
        part->history = xcalloc(1, sizeof(*part->history));
        part_history_set_window(part->history, s->pol.dc_window);
        for (int k = 0; k < PART_SET_N; k++)
            part->changed_at[k] = -1e9;
        if (part->profile->defined_capacity != PART_CAP_NONE) {
            s->ref[i].h = xcalloc(1, sizeof(*s->ref[i].h));
            part_history_set_window(s->ref[i].h, s->pol.dc_window);
            s->ref[i].counter = 1000000000;
        }
    }
}

static void sim_alloc(struct sim *s)
{
    size_t n = s->n;
    s->ref = xcalloc(n, sizeof(*s->ref));
    s->demand = xcalloc(n, sizeof(double)), s->backlog = xcalloc(n, sizeof(double));
    s->delivered = xcalloc(n, sizeof(double)), s->target = xcalloc(n, sizeof(double));
    s->limit = xcalloc(n, sizeof(double)), s->ratio = xcalloc(n, sizeof(double));
    s->base = xcalloc(n, sizeof(double)), s->ce = xcalloc(n, sizeof(double));
    s->scratch = xcalloc(4 * n, sizeof(double));
    s->cpu = xcalloc(n, sizeof(double)), s->read = xcalloc(n, sizeof(double));
    s->online = xcalloc(n, sizeof(unsigned)), s->pending_to = xcalloc(n, sizeof(unsigned));
    s->pending_from = xcalloc(n, sizeof(size_t)), s->balloon = xcalloc(n, sizeof(uint64_t));
    s->paged = xcalloc(n, sizeof(uint64_t));
    s->cluster = xcalloc(n, sizeof(size_t)), s->capped = xcalloc(n, sizeof(bool));
    record_init(&s->rec, n, s->T);
}

/* The monitor's first sample (at activation): it only starts the counter. */
static void sim_start(struct sim *s)
{
    struct part_cpc *cpc = s->cpc;
    for (size_t i = 0; i < s->n; i++) {
        struct part_partition *p = cpc->parts[i];
        s->cluster[i] = i;
        for (size_t j = i; j-- > 0;)
            if (strcmp(cpc->parts[j]->profile->group, p->profile->group) == 0)
                s->cluster[i] = s->cluster[j];
        s->online[i] = p->processors;
        s->pending_from[i] = SIZE_MAX;
        s->balloon[i] = p->memory;
        uint64_t need = s->sc->need[i * s->T], unused = p->memory > need ? p->memory - need : 0;
        part_history_add(p->history, 0, true, 1000000000, p->processors, true, p->memory, p->memory,
                         unused);
        part_history_add_paging(p->history, false, 0, true, 0, 0);
        if (s->ref[i].h)
            part_history_add(s->ref[i].h, 0, true, s->ref[i].counter, p->profile->proc_reserved,
                             false, 0, 0, 0);
        for (size_t j = 0; j < s->n; j++)
            if (cpc->parts[j]->active &&
                strcmp(cpc->parts[j]->profile->group, p->profile->group) == 0)
                s->base[i] += cpc->parts[j]->weight;
    }
    cluster_entitlements(cpc, s->cluster, s->limit, s->target, s->ce);
}

/* The interval */

/* Processors changed an interval ago (or two, with latency) come online,
 * and the dispatcher and the target split what the host left of the pool. */
static void sim_dispatch(struct sim *s, size_t t)
{
    struct part_cpc *cpc = s->cpc;
    double pool = cpc->pool - s->steal[t];
    for (size_t i = 0; i < s->n; i++) {
        if (s->pending_from[i] <= t) {
            s->online[i] = s->pending_to[i];
            s->pending_from[i] = SIZE_MAX;
        }
        s->demand[i] = fx_demand(s->sc, s->fx, i, t) + s->backlog[i];
        s->limit[i] = limit_of(cpc->parts[i], s->demand[i], s->online[i]);
    }
    allocate(cpc, pool, false, s->limit, s->delivered);
    for (size_t i = 0; i < s->n; i++)
        s->limit[i] = target_limit(cpc->parts[i], &s->ref[i], s->demand[i]);
    allocate(cpc, pool, true, s->limit, s->target);
    check_state(cpc, s->online, s->delivered, s->base, pool, t, s->res);
    for (size_t i = 0; i < s->n; i++) {
        double left = fmax(0, s->demand[i] - s->delivered[i]);
        s->backlog[i] =
            s->fx->on[FX_BACKLOG] ? fmin(s->sc->demand[i * s->T + t], BACKLOG_KEEP * left) : 0;
    }
}

/* What the monitor sees at the end of interval t: the counter read at a
 * jittered time (late for all when the cycle is), the balloon's view of
 * the guest; nothing when the sample is missed. Returns how late the
 * cycle is: the plan that follows is as late. */
static double sim_sample(struct sim *s, size_t t, double now)
{
    double late = fx_late(s->fx, s->seed, t, s->pol.interval);
    for (size_t i = 0; i < s->n; i++) {
        struct part_partition *p = s->cpc->parts[i];
        uint64_t need = s->sc->need[i * s->T + t], mem = s->balloon[i];
        s->cpu[i] += s->delivered[i] * s->pol.interval;
        reference_step(p, &s->ref[i], now, s->target[i], &s->pol);
        if (fx_missed(s->fx, s->seed, t, i))
            continue;
        double at = late + fx_read_jitter(s->fx, s->seed, t, i, s->pol.interval);
        s->read[i] = fmax(s->read[i], s->cpu[i] + s->delivered[i] * at);
        uint64_t ns = 1000000000 + (uint64_t)llround(s->read[i] * 1e9);
        part_history_add(p->history, now + late, true, ns, p->processors, true, mem, mem,
                         mem > need ? mem - need : 0);
        /* a guest that needs more than its balloon thrashes: what is over
         * is paged out and in again every interval */
        s->paged[i] += need > mem ? (need - mem) * 1024 : 0;
        part_history_add_paging(p->history, false, 0, true, s->paged[i], s->paged[i]);
    }
    return late;
}

/* The measures of interval t, and its rows in the CSV files. */
static void sim_measure(struct sim *s, size_t t)
{
    struct part_cpc *cpc = s->cpc;
    double sum_d = 0, sum_t = 0, sum_del = 0, dist = 0, gap = 0;
    size_t m = 0, T = s->T;
    for (size_t i = 0; i < s->n; i++) {
        struct part_partition *p = cpc->parts[i];
        double tg = s->target[i], del = s->delivered[i];
        uint64_t need = s->sc->need[i * T + t];
        sum_d += s->demand[i], sum_t += tg, sum_del += del;
        dist += fabs(del - tg);
        gap += fmax(0, tg - p->entitlement);
        if (tg > EPS)
            s->ratio[m++] = del / tg;
        s->rec.off[i * T + t] = fabs(del - tg) > fmax(0.05 * tg, OFF_MIN);
        s->rec.starving[i * T + t] = tg >= STARVED_MIN && del < STARVED_AT * tg;
        s->starved += s->rec.starving[i * T + t];
        s->mem_short += need > s->balloon[i];
        char cap[32] = "";
        if (p->cap != PART_CAP_NONE)
            snprintf(cap, sizeof(cap), "%.2f", p->cap);
        s->capped[i] |= p->cap != PART_CAP_NONE;
        if (s->csv)
            fprintf(s->csv, "%zu,%s,%.4f,%.4f,%.4f,%.4f,%u,%u,%s,%llu,%llu\n", t, p->profile->name,
                    s->demand[i], tg, del, p->entitlement, s->online[i], p->weight, cap,
                    (unsigned long long)s->balloon[i], (unsigned long long)need);
    }
    double across = floor_of(cpc, s->cluster, s->target, s->ce, s->scratch);
    struct result *res = s->res;
    s->rec.err[t] = sum_t > EPS ? dist / sum_t : 0;
    s->rec.shortf[t] = sum_t > EPS ? fmax(0, gap - across) / sum_t : 0;
    s->within += s->rec.err[t] <= 0.05;
    res->err_mean += s->rec.err[t] / T;
    res->short_mean += s->rec.shortf[t] / T;
    double j = jain(s->ratio, m);
    res->jain_mean += j / T;
    res->jain_min = fmin(res->jain_min, j);
    if (s->tot)
        fprintf(s->tot, "%zu,%.4f,%.4f,%.4f,%.4f,%.5f,%.5f,%.5f\n", t, sum_d, sum_t, sum_del,
                cpc->pool - s->steal[t], s->rec.err[t], s->rec.shortf[t], j);
}

/* Applying a plan as the actuator does: after admission control, each
 * action may fail (nothing changes, as when the backend refuses);
 * processors reach the guest an interval later with latency. */
static void sim_apply_one(struct sim *s, const struct part_action *act, double now, size_t t)
{
    struct part_cpc *cpc = s->cpc;
    struct part_partition *p = part_cpc_find(cpc, act->partition);
    size_t i = 0;
    struct part_error err;
    while (cpc->parts[i] != p)
        i++;
    if (!fx_action_ok(s->fx, s->seed, t, i, act->setting)) {
        s->res->failed++;
        return;
    }
    if (act->setting == PART_SET_WEIGHT) {
        p->weight = (unsigned)act->to;
    } else if (act->setting == PART_SET_CAP) {
        p->cap = act->to;
        if (act->dc)
            p->dc_capped = act->to != p->profile->cap;
    } else {
        unsigned proc = act->setting == PART_SET_PROCESSORS ? (unsigned)act->to : p->processors;
        uint64_t mem = act->setting == PART_SET_MEMORY ? (uint64_t)act->to : p->memory;
        if (part_cpc_check_resize(cpc, p, proc, mem, &err) < 0) {
            violation(s->res, "t %zu: the actuator refused %s: %s", t, act->reason, err.message);
            return;
        }
        part_cpc_set_running(cpc, p, proc, mem);
        if (act->setting == PART_SET_PROCESSORS) {
            s->pending_to[i] = proc;
            s->pending_from[i] = t + 1 + (s->fx->on[FX_LATENCY] ? 1 : 0);
        }
    }
    p->changed_at[act->setting] = now;
    record_change(&s->rec, s->res, i, act->setting, act->to > act->from ? 1 : -1);
    s->res->actions++;
    s->res->actions_by[act->setting]++;
}

/* Balloons move toward their targets, at a bounded rate with FX_BALLOON. */
static void sim_balloons(struct sim *s)
{
    for (size_t i = 0; i < s->n; i++) {
        uint64_t to = s->cpc->parts[i]->memory, *b = &s->balloon[i];
        uint64_t rate = s->fx->on[FX_BALLOON] ? BALLOON_RATE : UINT64_MAX;
        if (*b < to)
            *b = to - *b > rate ? *b + rate : to;
        else if (*b > to)
            *b = *b - to > rate ? *b - rate : to;
    }
}

static void sim_plan(struct sim *s, size_t t, double now)
{
    struct part_plan plan;
    struct part_error err;
    char buf[1024];
    int r = part_plan_make(s->cpc, &s->pol, now, &plan, &err);
    if (r < 0)
        violation(s->res, "t %zu: the planner failed (%d): %s", t, r,
                  part_error_format(&err, buf, sizeof(buf)));
    else
        for (size_t a = 0; a < plan.n; a++)
            sim_apply_one(s, &plan.actions[a], now, t);
    part_cpc_compute(s->cpc);
    part_plan_clear(&plan);
}

static void sim_free(struct sim *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->ref[i].h);
    free(s->ref), free(s->demand), free(s->backlog), free(s->delivered), free(s->target);
    free(s->limit), free(s->ratio), free(s->base), free(s->ce), free(s->scratch), free(s->steal);
    free(s->cpu), free(s->read), free(s->online), free(s->pending_to), free(s->pending_from);
    free(s->balloon), free(s->paged), free(s->cluster), free(s->capped);
    record_free(&s->rec);
    if (s->csv)
        fclose(s->csv);
    if (s->tot)
        fclose(s->tot);
    part_cpc_free(s->cpc);
}

/* Runs sc under policy with effects fx into res; writes its files into
 * outdir unless it is NULL. */
static void run(const struct scenario *sc, const struct part_policy *policy,
                const struct sim_effects *fx, const char *outdir, struct result *res)
{
    struct sim s = {.sc = sc, .pol = *policy, .fx = fx, .n = sc->n, .T = sc->T, .res = res};
    struct part_error err;
    char buf[1024];

    *res = (struct result){.name = sc->name,
                           .family = sc->family,
                           .n = sc->n,
                           .T = sc->T,
                           .jain_min = 1,
                           .err_static = -1,
                           .actions_max = sc->actions_max};
    res->hours = sc->n * sc->T * policy->interval / 3600.0;
    if (sc->dc_window > 0)
        s.pol.dc_window = sc->dc_window;
    if (part_cpc_new(sc->cpus, sc->memory, &sc->cfg, &s.cpc, &err) < 0) {
        fprintf(stderr, "%s: %s\n", sc->name, part_error_format(&err, buf, sizeof(buf)));
        exit(2);
    }
    s.seed = fx_seed(sc->name);
    sim_alloc(&s);
    sim_partitions(&s);
    s.steal = fx_steal(sc, fx, s.cpc->pool);
    sim_start(&s);
    if (outdir) {
        s.csv = open_out(outdir, sc->name, ".csv");
        s.tot = open_out(outdir, sc->name, "-total.csv");
        fprintf(s.csv, "t,partition,demand,target,delivered,entitlement,online,weight,cap,"
                       "memory,need\n");
        fprintf(s.tot, "t,demand,target,delivered,pool,distance,shortfall,jain\n");
    }
    for (size_t t = 0; t < sc->T; t++) {
        double now = (t + 1) * s.pol.interval;
        sim_dispatch(&s, t);
        sim_measure(&s, t);
        double late = sim_sample(&s, t, now);
        sim_plan(&s, t, now + late);
        sim_balloons(&s);
    }
    record_finish(&s.rec, sc, res);
    res->within = (double)s.within / sc->T;
    res->mem_short = (double)s.mem_short / (sc->T * sc->n);
    res->starve_share = (double)s.starved / (sc->T * sc->n);
    if (outdir)
        write_gnuplot(sc, s.cpc, s.pol.name, s.pol.interval, outdir, s.capped);
    sim_free(&s);
}

/* main */

static void usage(FILE *f)
{
    fprintf(f, "Usage: partd-sim [--check] [--policies DIR] [--policy NAME] [--out DIR]\n"
               "                 [--without EFFECT,...] [--ideal] [--no-static] [SCENARIO...]\n"
               "       partd-sim --predict FILE.json\n"
               "Runs the planner in closed loop over the scenarios (all by default:");
    for (size_t i = 0; sim_scenarios[i]; i++)
        fprintf(f, " %s", sim_scenarios[i]);
    fprintf(f, "),\nfirst under `static` on the same trace (unless --no-static), writes\n"
               "DIR/SCENARIO.csv, DIR/SCENARIO-total.csv, DIR/SCENARIO.gp and DIR/results.md,\n"
               "and prints the results table. Effects (all on unless --without or --ideal):");
    for (int e = 0; e < FX_N; e++)
        fprintf(f, " %s", sim_effect_names[e]);
    fprintf(f, ".\n--check exits 1 unless, after every step, delivered capacity (in total and\n"
               "for every partition) comes within 5%% of the target within 3 intervals and no\n"
               "partition starves for more than 1; no violation; no direction change under\n"
               "periodic demand; a mean distance no worse than static's; and actions within\n"
               "the scenario's bound.\n"
               "--predict prints, as JSON, what the dispatcher delivers to each partition of\n"
               "the pool, weights, caps, processors and demands in FILE.json (see predict.c).\n");
}

struct options {
    const char *policies, *policy, *outdir, *predict;
    bool check, with_static;
    struct sim_effects fx;
};

static void parse_options(int argc, char **argv, struct options *o)
{
    static const struct option options[] = {
        {"check", no_argument, NULL, 'c'},
        {"policies", required_argument, NULL, 'p'},
        {"policy", required_argument, NULL, 'P'},
        {"out", required_argument, NULL, 'o'},
        {"without", required_argument, NULL, 'w'},
        {"ideal", no_argument, NULL, 'i'},
        {"no-static", no_argument, NULL, 's'},
        {"predict", required_argument, NULL, 'r'}, /* predict.c */
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    *o = (struct options){
        .policies = "policies", .policy = "balanced", .outdir = "sim", .with_static = true};
    for (int e = 0; e < FX_N; e++)
        o->fx.on[e] = true;
    while ((c = getopt_long(argc, argv, "cp:P:o:w:isr:h", options, NULL)) != -1) {
        if (c == 'c')
            o->check = true;
        else if (c == 'p')
            o->policies = optarg;
        else if (c == 'P')
            o->policy = optarg;
        else if (c == 'o')
            o->outdir = optarg;
        else if (c == 'i')
            o->fx = (struct sim_effects){0};
        else if (c == 's')
            o->with_static = false;
        else if (c == 'r')
            o->predict = optarg;
        else if (c == 'w' && effects_without(&o->fx, optarg) == 0)
            continue;
        else if (c == 'h') {
            usage(stdout);
            exit(0);
        } else {
            usage(stderr);
            exit(2);
        }
    }
}

static void load_policy(const char *dir, const char *name, struct part_policy *pol)
{
    struct part_error err;
    char buf[1024];
    if (part_policy_load(dir, name, pol, &err) < 0) {
        fprintf(stderr, "%s\n", part_error_format(&err, buf, sizeof(buf)));
        exit(2);
    }
}

int main(int argc, char **argv)
{
    struct options o;
    struct part_policy pol, stat;
    parse_options(argc, argv, &o);
    if (o.predict)
        return predict(o.predict);
    load_policy(o.policies, o.policy, &pol);
    if (o.with_static)
        load_policy(o.policies, "static", &stat);
    if (mkdir(o.outdir, 0777) < 0 && errno != EEXIST) {
        fprintf(stderr, "%s: %s\n", o.outdir, strerror(errno));
        return 2;
    }
    const char *const *names = optind < argc ? (const char *const *)&argv[optind] : sim_scenarios;
    size_t n = 0;
    while (names[n])
        n++;
    struct result *res = xcalloc(n, sizeof(*res)), other;
    for (size_t i = 0; i < n; i++) {
        struct scenario sc;
        if (scenario_build(names[i], &sc) < 0) {
            fprintf(stderr, "no scenario named %s\n", names[i]);
            return 2;
        }
        if (o.with_static)
            run(&sc, &stat, &o.fx, NULL, &other);
        run(&sc, &pol, &o.fx, o.outdir, &res[i]);
        res[i].err_static = o.with_static ? other.err_mean : -1;
        scenario_free(&sc);
    }
    print_table(stdout, res, n);
    FILE *f = open_out(o.outdir, "results", ".md");
    print_table(f, res, n);
    fclose(f);
    int bad = o.check ? check_results(res, n) : 0;
    free(res);
    return bad;
}
