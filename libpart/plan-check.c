/* The planner's invariants (part_plan_check()): every action starts from
 * the value its setting runs at and changes it once, to a value within
 * the profile's bounds; each cluster's weight total is conserved; no
 * capacity is committed past the configured factors. part_plan_make()
 * checks each plan with the views it read; hand-made plans are checked
 * here against views read for the purpose. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "plan-internal.h"

/* The settings of one partition that the plan's actions so far changed,
 * and the values they set. */
struct check_change {
    bool done[PART_SET_N];
    double after[PART_SET_N]; /* where done */
};

/* A partition's name, and its place in the CPC. */
struct check_named {
    const char *name;
    size_t i;
};

/* One check of a plan against a CPC read into views. */
struct check {
    const struct part_cpc *cpc;
    const struct plan_view *views;
    bool trusted; /* the actions name the partition at their index */
    /* change_of[i]: 1 + the index in changes of partition i's values once
     * the plan changes it, 0 before */
    size_t *change_of;
    struct check_change *changes;
    size_t n_changes;
    struct check_named *names; /* sorted by name then place; made when first needed */
};

/* The value of setting s of partition i after the plan: what an action
 * set, or running, the value it runs at. The checks that pass over every
 * partition take running from the views, not from
 * part_setting_running(), which would read 10,000 partitions again. */
static double check_after(const struct check *c, size_t i, enum part_setting s, double running)
{
    const struct check_change *x = c->change_of[i] ? &c->changes[c->change_of[i] - 1] : NULL;
    return x && x->done[s] ? x->after[s] : running;
}

static bool check_is_whole(double v)
{
    return isfinite(v) && v >= 0 && v == floor(v);
}

/* Whether a->to is a value that setting a->setting (< PART_SET_N) of the
 * partition read into v may take. */
static int check_bounds(const struct plan_view *v, const struct part_action *a, size_t i,
                        struct part_error *err)
{
    const struct part_setting_desc *desc = part_setting_desc(a->setting);
    const char *what = desc->name, *name = plan_name(v->p);
    double lo, hi;

    if (desc->shared_only && v->mode != PART_MODE_SHARED)
        return part_error_set(err, -EPROTO, what, "action %zu: %s: a dedicated partition has no %s",
                              i, name, what);
    if (a->setting == PART_SET_CAP) {
        if (a->to == PART_CAP_NONE || (a->to >= desc->min && a->to <= desc->max))
            return 0;
        return part_error_set(err, -EPROTO, what, "action %zu: %s: %s %g is outside %g-%g", i, name,
                              what, a->to, desc->min, desc->max);
    }
    if (!check_is_whole(a->to))
        return part_error_set(err, -EPROTO, what, "action %zu: %s: %s %g is not a whole number", i,
                              name, what, a->to);
    part_setting_bounds(v->p->profile, a->setting, &lo, &hi);
    if (a->to < lo || a->to > hi)
        return part_error_set(err, -EPROTO, what,
                              "action %zu: %s: %s %.0f is outside its bounds %.0f-%.0f", i, name,
                              what, a->to, lo, hi);
    return 0;
}

/* Whether each cluster's weight total (a group's, or the ungrouped
 * partitions') is the same before and after; the first cluster (in the
 * order of first members) that is not is reported. */
static int check_clusters(const struct check *c, struct clusters *cl, struct part_error *err)
{
    const struct plan_view *views = c->views;
    if (clusters_find(cl, views, c->cpc->n) < 0)
        return -ENOMEM;
    double *before = calloc(2 * (cl->n + 1), sizeof(*before)), *after = before + cl->n + 1;
    int r = 0;

    if (!before)
        return -ENOMEM;
    for (size_t i = 0; i < c->cpc->n; i++) {
        size_t k = cl->of[i];
        if (k == NO_CLUSTER)
            continue;
        before[k] += views[i].weight;
        after[k] += check_after(c, i, PART_SET_WEIGHT, views[i].weight);
    }
    for (size_t k = 0; k < cl->n && r == 0; k++) {
        const char *group = views[cl->first[k]].p->profile->group;
        if (before[k] == after[k])
            continue;
        if (group[0])
            r = part_error_set(err, -EPROTO, "weight",
                               "group %s: weight total %.0f -> %.0f (must be conserved)", group,
                               before[k], after[k]);
        else
            r = part_error_set(err, -EPROTO, "weight",
                               "ungrouped partitions: weight total %.0f -> %.0f (must be "
                               "conserved)",
                               before[k], after[k]);
    }
    free(before);
    return r;
}

/* The totals of the active partitions after the plan (and before, where a
 * total was over already). */
struct check_totals {
    unsigned dedicated, shared;   /* processors of dedicated partitions; shared partitions */
    double online, online_before; /* processors of shared partitions */
    double memory, memory_before; /* MiB */
    double widest;                /* the most processors a shared partition grows to */
    const char *widest_name;
};

static void check_sum_up(const struct check *c, struct check_totals *t)
{
    *t = (struct check_totals){.widest_name = ""};
    for (size_t i = 0; i < c->cpc->n; i++) {
        const struct plan_view *v = &c->views[i];
        if (!v->active)
            continue;
        double processors = check_after(c, i, PART_SET_PROCESSORS, v->processors);
        t->memory += check_after(c, i, PART_SET_MEMORY, (double)v->memory);
        t->memory_before += (double)v->memory;
        if (v->mode == PART_MODE_DEDICATED) {
            t->dedicated += (unsigned)processors;
            continue;
        }
        t->shared++;
        t->online += processors;
        t->online_before += v->processors;
        if (processors > t->widest && processors > v->processors) {
            t->widest = processors;
            t->widest_name = plan_name(v->p);
        }
    }
}

/* Capacity after the plan: processors against the pool and cpu_overcommit,
 * memory against host memory and memory_overcommit. A total that was over
 * already is refused only if the plan makes it worse. */
static int check_capacity(const struct check *c, struct part_error *err)
{
    const struct part_cpc *cpc = c->cpc;
    struct check_totals t;
    check_sum_up(c, &t);
    unsigned usable = cpc->cpus - cpc->cfg.host_reserved_cpus;
    unsigned dedicated_max = t.shared ? usable - 1 : usable;
    if (t.dedicated > cpc->dedicated && t.dedicated > dedicated_max)
        return part_error_set(err, -EPROTO, "processors",
                              "%u dedicated processors exceed the %u host CPUs that can be "
                              "dedicated",
                              t.dedicated, dedicated_max);
    unsigned pool = t.dedicated <= dedicated_max ? usable - t.dedicated : 0;
    if (t.widest > pool)
        return part_error_set(err, -EPROTO, "processors",
                              "%s: %.0f logical processors on a shared pool of %u CPUs",
                              t.widest_name, t.widest, pool);
    double limit = pool * cpc->cfg.cpu_overcommit;
    if (t.online > limit + EPS && t.online > t.online_before)
        return part_error_set(err, -EPROTO, "processors",
                              "%.0f shared logical processors exceed %g (pool of %u CPUs x "
                              "cpu_overcommit %g)",
                              t.online, limit, pool, cpc->cfg.cpu_overcommit);
    double mem_limit = (double)plan_memory_limit(cpc);
    if (t.memory > mem_limit && t.memory > t.memory_before)
        return part_error_set(err, -EPROTO, "memory",
                              "memory targets of active partitions total %.0f MiB, over the %.0f "
                              "MiB available",
                              t.memory, mem_limit);
    return 0;
}

static int check_cmp_named(const void *x, const void *y)
{
    const struct check_named *a = x, *b = y;
    int r = strcmp(a->name, b->name);
    return r ? r : (a->i > b->i) - (a->i < b->i);
}

/* The index of the first partition named name, or cpc->n; SIZE_MAX when
 * out of memory. The index of names is made on the first call. */
static size_t check_find_named(struct check *c, const char *name)
{
    size_t n = c->cpc->n, lo = 0, hi = n;
    if (!c->names) {
        if (!(c->names = malloc((n + 1) * sizeof(*c->names))))
            return SIZE_MAX;
        for (size_t i = 0; i < n; i++)
            c->names[i] = (struct check_named){.name = plan_name(c->cpc->parts[i]), .i = i};
        qsort(c->names, n, sizeof(*c->names), check_cmp_named);
    }
    while (lo < hi) { /* the first not less than name */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(c->names[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && strcmp(c->names[lo].name, name) == 0 ? c->names[lo].i : n;
}

/* Sets *ret_k to the index of the active partition that action i (a)
 * names. The planner's actions know their partition; partition names are
 * unique in a CPC. */
static int check_find(struct check *c, size_t i, const struct part_action *a, size_t *ret_k,
                      struct part_error *err)
{
    const struct part_cpc *cpc = c->cpc;
    size_t k = a->index;
    if (!c->trusted && (k >= cpc->n || strcmp(plan_name(cpc->parts[k]), a->partition) != 0))
        k = check_find_named(c, a->partition);
    if (k == SIZE_MAX)
        return -ENOMEM;
    if (k == cpc->n)
        return part_error_set(err, -EPROTO, "partition", "action %zu: no partition named %s", i,
                              a->partition);
    if (!c->views[k].active)
        return part_error_set(err, -EPROTO, "partition", "action %zu: %s is not active", i,
                              a->partition);
    *ret_k = k;
    return 0;
}

/* The changes of partition k, none until an action changes it. */
static struct check_change *check_change_of(struct check *c, size_t k)
{
    if (!c->change_of[k]) {
        struct check_change *x = &c->changes[c->n_changes++];
        for (int s = 0; s < PART_SET_N; s++)
            x->done[s] = false;
        c->change_of[k] = c->n_changes;
    }
    return &c->changes[c->change_of[k] - 1];
}

/* Checks action i (a) of the plan: it changes the setting once, from the
 * value it runs at, to one within its bounds. */
static int check_action(struct check *c, size_t i, const struct part_action *a,
                        struct part_error *err)
{
    size_t k = 0;
    int r = check_find(c, i, a, &k, err);
    if (r < 0)
        return r;
    if ((unsigned)a->setting >= PART_SET_N)
        return part_error_set(err, -EPROTO, "setting", "action %zu: %s: unknown setting %d", i,
                              a->partition, (int)a->setting);
    struct check_change *x = check_change_of(c, k);
    const char *what = part_setting_name(a->setting);
    if (x->done[a->setting])
        return part_error_set(err, -EPROTO, what, "action %zu: %s: %s changes twice in one plan", i,
                              a->partition, what);
    double running = part_setting_running(c->views[k].p, a->setting);
    if (a->from != running)
        return part_error_set(err, -EPROTO, what, "action %zu: %s: %s from %g, but it runs at %g",
                              i, a->partition, what, a->from, running);
    if ((r = check_bounds(&c->views[k], a, i, err)) < 0)
        return r;
    x->done[a->setting] = true;
    x->after[a->setting] = a->to;
    return 0;
}

/* part_plan_check() with cpc read into views and its clusters in cl
 * (found here if weight moves and they are not yet). The actions of a
 * trusted plan (the planner's) name the partition at their index. */
int check_plan(const struct part_cpc *cpc, const struct plan_view *views, struct clusters *cl,
               const struct part_plan *plan, bool trusted, struct part_error *err)
{
    struct check c = {.cpc = cpc, .views = views, .trusted = trusted};
    bool weights = false;
    int r = -ENOMEM;

    c.change_of = calloc(cpc->n + 1, sizeof(*c.change_of));
    c.changes = malloc((plan->n + 1) * sizeof(*c.changes));
    if (!c.change_of || !c.changes)
        goto out;
    r = 0;
    for (size_t i = 0; i < plan->n && r == 0; i++) {
        r = check_action(&c, i, &plan->actions[i], err);
        weights |= plan->actions[i].setting == PART_SET_WEIGHT;
    }
    /* cluster totals: every group, and the ungrouped partitions (they are
     * what they were when no weight changes) */
    if (r == 0 && weights)
        r = check_clusters(&c, cl, err);
    if (r == 0)
        r = check_capacity(&c, err);
out:
    free(c.change_of);
    free(c.changes);
    free(c.names);
    return r;
}

int part_plan_check(const struct part_cpc *cpc, const struct part_plan *plan,
                    struct part_error *err)
{
    struct plan_view *views = malloc((cpc->n + 1) * sizeof(*views));
    struct clusters cl = {0};
    int r = -ENOMEM;

    if (views) {
        plan_views_read(views, cpc);
        r = check_plan(cpc, views, &cl, plan, false, err);
    }
    clusters_free(&cl);
    free(views);
    return r == -ENOMEM ? part_error_oom(err) : r;
}
