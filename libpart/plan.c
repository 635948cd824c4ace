/* The planner: from the CPC (running values, entitlements, histories) and
 * a policy to a list of actions, each with its reason. Pure and
 * deterministic: partitions are taken in the CPC's order, every sort breaks
 * ties by name, and nothing but the arguments is read.
 *
 * This file reads the partitions into views and runs the rules in their
 * order; the rules are in plan-weights.c, plan-processors.c, plan-memory.c
 * and plan-defined-capacity.c, the checker in plan-check.c, and what they
 * share in plan-internal.h.
 *
 * Every rule judges a partition on its K newest samples (K = policy
 * samples), which must all be valid, fresh, and taken after the setting it
 * would change last changed; a condition must hold for each of them
 * (hysteresis). On top: cooldowns per partition and setting, dead-bands,
 * and step limits. The plan is checked against the invariants before it is
 * returned.
 *
 * Linear in the partitions but for sorts (O(N log N)): one pass reads the
 * partitions, their profiles and histories into a compact array (the
 * views) that the rules then read; the clusters are found by hashing the
 * group names, and only when weight may move (plan-clusters.c); actions
 * carry their partition's index; admission control keeps running totals of
 * the scratch CPC, whose partitions are copied only when the plan changes
 * them (plan-scratch.c); each reason is formatted once, by a printf of its
 * own (plan-text.c). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "plan-internal.h"

void part_plan_clear(struct part_plan *plan)
{
    if (!plan)
        return;
    free(plan->actions);
    *plan = (struct part_plan){0};
}

/* Views */

/* Fills v from partition p: the plan's only read of the partition and its
 * profile, but for the groups of clusters and the actions' reasons. */
static void plan_view_read(struct plan_view *v, struct part_partition *p)
{
    const struct part_profile *pp = p->profile;
    *v = (struct plan_view){
        .p = p,
        .mode = pp->mode,
        .active = p->active,
        /* one shutting down is left alone: it is going away */
        .managed = pp->managed && !p->deactivating,
        .has_history = p->history != NULL,
        .processors = p->processors,
        .weight = p->weight,
        .cap = p->cap,
        .entitlement = p->entitlement,
        .memory = p->memory,
        .proc_min = pp->proc_min,
        .proc_reserved = pp->proc_reserved,
        .weight_min = pp->weight_min,
        .weight_max = pp->weight_max,
        .weight_initial = pp->weight_initial,
        .mem_min = pp->mem_min,
        .mem_reserved = pp->mem_reserved,
        .defined_capacity = pp->defined_capacity,
        .scratch_processors = p->processors,
        .scratch_weight = p->weight,
        .scratch_memory = p->memory,
    };
}

void plan_views_read(struct plan_view *views, const struct part_cpc *cpc)
{
    for (size_t i = 0; i < cpc->n; i++)
        plan_view_read(&views[i], cpc->parts[i]);
}

/* Whether setting s of p may change now: its cooldown has passed and the
 * K samples were all taken after it last changed (a change is judged by
 * its effect, never by what came before it). */
static bool plan_may_change(const struct part_partition *p, double now, double t_oldest,
                            enum part_setting s, double cooldown)
{
    return now - p->changed_at[s] >= cooldown && t_oldest > p->changed_at[s];
}

/* Whether sample s (with balloon figures) shows memory pressure, and adds
 * its paging rates (0 when unknown, or not believable) to v's sums. */
static bool plan_sample_pressed(const struct part_policy *pol, const struct part_sample *s,
                                struct plan_view *v)
{
    double faults =
        s->faults_valid && isfinite(s->major_faults) && s->major_faults > 0 ? s->major_faults : 0;
    bool swap = s->swap_valid && isfinite(s->swap_in) && isfinite(s->swap_out) && s->swap_in >= 0 &&
                s->swap_out >= 0;
    double in = swap ? s->swap_in : 0, out = swap ? s->swap_out : 0;
    v->faults += faults;
    v->swap_in += in;
    v->swap_out += out;
    /* what it could use without swapping when it says (the memory its
     * kernel keeps in reserve is not), else what it leaves unused; paging
     * with memory to spare is a guest reading files, not short of it */
    uint64_t spare = s->usable_valid ? s->mem_usable : s->mem_unused;
    v->spare_max = spare > v->spare_max ? spare : v->spare_max;
    bool paging = faults >= pol->memory_faults || in + out >= pol->memory_swap;
    return spare < pol->memory_floor || (paging && spare < pol->memory_headroom);
}

/* Sums up the K samples h holds into v: the processors used (unless one
 * of them has no valid figure), the memory the guest needs and its
 * pressure (unless one has no balloon figure). */
static void plan_view_sum_samples(const struct part_policy *pol, struct plan_view *v,
                                  const struct part_history *h, unsigned k)
{
    v->cpu_valid = true;
    v->used_min = v->util_min = INFINITY;
    v->used_max = v->util_max = -INFINITY;
    v->mem_valid = v->pressed = true;
    v->need_min = UINT64_MAX;
    for (unsigned i = 0; i < k; i++) {
        const struct part_sample *s = part_history_get(h, i);
        if (!s->valid || s->online == 0 || !isfinite(s->used) || s->used < 0) {
            v->cpu_valid = false;
        } else {
            double util = s->used / s->online;
            v->demand += s->used;
            v->used_min = fmin(v->used_min, s->used);
            v->used_max = fmax(v->used_max, s->used);
            v->util_min = fmin(v->util_min, util);
            v->util_max = fmax(v->util_max, util);
        }
        /* what the guest uses of what its balloon gives it: the target is
         * set in the balloon's terms, and the guest sees less than that
         * (what its kernel keeps for itself is used, too, and so are its
         * caches: the rule does not squeeze them) */
        uint64_t idle =
            s->usable_valid && s->mem_usable < s->mem_unused ? s->mem_usable : s->mem_unused;
        if (!s->mem_valid || s->mem_available < s->mem_unused || s->mem_target < idle) {
            v->mem_valid = false;
        } else {
            uint64_t need = s->mem_target - idle;
            bool pressed = plan_sample_pressed(pol, s, v);
            v->need_min = need < v->need_min ? need : v->need_min;
            v->need_max = need > v->need_max ? need : v->need_max;
            v->free_max = s->mem_unused > v->free_max ? s->mem_unused : v->free_max;
            v->pressed &= pressed;
            v->pressed_any |= pressed;
        }
    }
    v->pressed &= v->mem_valid;
    v->demand /= k;
    v->faults /= k;
    v->swap_in /= k;
    v->swap_out /= k;
}

/* The stabilization window in samples: the policy's, at least K, at most
 * what a history holds. */
unsigned plan_window(const struct part_policy *pol)
{
    double w = ceil(pol->stabilization / pol->interval - EPS);
    if (w < pol->samples)
        w = pol->samples;
    return w > PART_HISTORY_MAX ? PART_HISTORY_MAX : (unsigned)w;
}

/* The newest sample (changes toward demand act on it alone: the first
 * sample after a step) and the stabilization window (changes away from
 * demand wait for all of it). */
static void plan_view_read_window(const struct part_policy *pol, double now, struct plan_view *v)
{
    const struct part_partition *p = v->p;
    const struct part_history *h = p->history;
    const struct part_sample *s0 = part_history_get(h, 0);
    unsigned w = plan_window(pol);
    double high = (1 + pol->processors_high) / 2;

    if (s0->valid && s0->online && isfinite(s0->used) && s0->used >= 0) {
        v->used_newest = s0->used;
        v->fresh[PART_SET_WEIGHT] = now - p->changed_at[PART_SET_WEIGHT] >= pol->cooldown_weight &&
                                    s0->t > p->changed_at[PART_SET_WEIGHT];
        /* growth on the newest sample waits for no cooldown, only for a
         * sample that shows the last change: a removal (the reversal a
         * cooldown guards against) waits for the stabilization window,
         * and holding growth back after a removal is what starves */
        v->fresh[PART_SET_PROCESSORS] = s0->t > p->changed_at[PART_SET_PROCESSORS];
        /* processors come online an interval after the plan: growth looks
         * a sample ahead, where a rising use will be by then */
        const struct part_sample *s1 = part_history_get(h, 1);
        v->used_next = s0->used;
        if (s1 && s1->valid && isfinite(s1->used) && s1->t > p->changed_at[PART_SET_PROCESSORS] &&
            s1->used < s0->used)
            v->used_next += s0->used - s1->used;
        v->busy =
            v->fresh[PART_SET_PROCESSORS] && v->used_next >= s0->online * pol->processors_high;
        v->saturated = v->fresh[PART_SET_PROCESSORS] && s0->used >= s0->online * high;
    }
    if (h->n < w)
        return;
    v->calm_valid = v->calm_processors = true;
    for (unsigned i = 0; i < w; i++) {
        const struct part_sample *s = part_history_get(h, i);
        if (!s->valid || s->online == 0 || !isfinite(s->used) || s->used < 0) {
            v->calm_valid = v->calm_processors = false;
            return;
        }
        v->calm_used_max = fmax(v->calm_used_max, s->used);
        v->calm_util_max = fmax(v->calm_util_max, s->used / s->online);
        v->calm_processors &= s->t > p->changed_at[PART_SET_PROCESSORS];
    }
}

/* Fills v (read by plan_view_read()) from its partition's history, when
 * it is active, managed and has K fresh samples. The newest sample is
 * stale when older than two plan intervals or two sampling intervals,
 * whichever is longer (the monitor's interval is the partd.json one, not
 * the policy's). */
static void plan_view_read_samples(const struct part_policy *pol, double now, struct plan_view *v)
{
    const struct part_partition *p = v->p;
    const struct part_history *h = p->history;
    unsigned k = pol->samples;

    if (!v->active || !v->managed || !h || h->n < 1 || k == 0)
        return;
    const struct part_sample *s0 = part_history_get(h, 0), *s1 = part_history_get(h, 1);
    double gap = s1 ? s0->t - s1->t : 0;
    if (s0->t > now + EPS || now - s0->t > 2 * fmax(pol->interval, gap))
        return;
    plan_view_read_window(pol, now, v);
    if (h->n < k)
        return;
    double t_oldest = part_history_get(h, k - 1)->t;
    v->changeable[PART_SET_WEIGHT] =
        plan_may_change(p, now, t_oldest, PART_SET_WEIGHT, pol->cooldown_weight);
    v->changeable[PART_SET_PROCESSORS] =
        plan_may_change(p, now, t_oldest, PART_SET_PROCESSORS, pol->cooldown_processors);
    v->changeable[PART_SET_MEMORY] =
        plan_may_change(p, now, t_oldest, PART_SET_MEMORY, pol->cooldown_memory);
    plan_view_sum_samples(pol, v, h, k);
}

/* Whether the shared pool was short in any row of the stabilization
 * window (the i-th newest samples of every partition: the monitor takes
 * them together), and what the newest samples use in all. A short pool is
 * split by weight: weight moved away from the profiles' then skews the
 * split, so the weight rule gives it back. */
static void plan_pool_read(struct planner *pl)
{
    const struct part_cpc *cpc = pl->cpc;
    unsigned w = pl->pol->weights ? plan_window(pl->pol) : 1;
    double limit = cpc->pool * (1 - pl->pol->deadband);
    for (unsigned i = 0; i < w && !pl->contended; i++) {
        double total = 0;
        for (size_t k = 0; k < cpc->n; k++) {
            const struct plan_view *v = &pl->views[k];
            const struct part_sample *s;
            if (i == 0 && v->active && v->mode == PART_MODE_SHARED)
                pl->weight_initial_total += v->weight_initial;
            if (!v->active || v->mode != PART_MODE_SHARED || !v->has_history ||
                !(s = part_history_get(v->p->history, i)) || !s->valid || !isfinite(s->used))
                continue;
            total += s->used;
        }
        if (i == 0)
            pl->used_total = total;
        pl->contended = total >= limit;
    }
}

/* Actions */

/* Room is made for two actions per partition at once (the pages are
 * touched only as they are filled, and part_plan_make() gives back what is
 * left): growing by copies would cost more than filling. */
struct part_action *plan_action_new(struct planner *pl, const struct part_partition *p, size_t i,
                                    enum part_setting setting, double from, double to, bool dc)
{
    struct part_plan *plan = pl->plan;
    if (plan->n == plan->alloc) {
        size_t alloc = plan->alloc ? 2 * plan->alloc : 2 * pl->cpc->n + 8;
        struct part_action *a = realloc(plan->actions, alloc * sizeof(*a));
        if (!a)
            return NULL;
        plan->actions = a;
        plan->alloc = alloc;
    }
    struct part_action *a = &plan->actions[plan->n++];
    const char *name = plan_name(p);
    size_t len = strnlen(name, sizeof(a->partition) - 1);
    memcpy(a->partition, name, len);
    a->partition[len] = '\0';
    a->index = i;
    a->setting = setting;
    a->from = from;
    a->to = to;
    a->dc = dc;
    a->reason[0] = '\0';
    return a;
}

int plan_add(struct planner *pl, const struct part_partition *p, size_t i,
             enum part_setting setting, double from, double to, bool dc, const char *fmt, ...)
{
    struct part_action *a = plan_action_new(pl, p, i, setting, from, to, dc);
    if (!a)
        return -ENOMEM;
    va_list ap;
    va_start(ap, fmt);
    text_vformat(a->reason, sizeof(a->reason), fmt, ap);
    va_end(ap);
    return 0;
}

/* The plan */

/* Gives back the room plan_action_new() made that the plan did not fill. */
static void plan_fit(struct part_plan *plan)
{
    if (plan->n && plan->n < plan->alloc) {
        struct part_action *fit = realloc(plan->actions, plan->n * sizeof(*fit));
        if (fit) {
            plan->actions = fit;
            plan->alloc = plan->n;
        }
    }
}

int part_plan_make(const struct part_cpc *cpc, const struct part_policy *policy, double now,
                   struct part_plan *ret, struct part_error *err)
{
    struct part_plan plan = {0};
    struct planner pl = {.cpc = cpc, .pol = policy, .plan = &plan};
    int r = -ENOMEM;

    part_error_clear(err);
    *ret = (struct part_plan){0};
    pl.views = malloc((cpc->n + 1) * sizeof(*pl.views));
    if (!pl.views || scratch_init(&pl) < 0)
        goto out;
    for (size_t i = 0; i < cpc->n; i++) {
        plan_view_read(&pl.views[i], cpc->parts[i]);
        plan_view_read_samples(policy, now, &pl.views[i]);
    }
    plan_pool_read(&pl);
    /* The order is the order of application: caps, weight pairs (which
     * conserve totals), then what frees capacity before what takes it. */
    if ((policy->defined_capacity && (r = plan_defined_capacity(&pl)) < 0) ||
        (policy->weights && (r = plan_weights(&pl)) < 0) ||
        (policy->processors && (r = plan_processors(&pl)) < 0) ||
        (policy->memory && (r = plan_memory(&pl)) < 0))
        goto out;
    if ((r = check_plan(cpc, pl.views, &pl.clusters, &plan, true, err)) < 0)
        goto out;
    plan_fit(&plan);
    *ret = plan;
    plan = (struct part_plan){0};
out:
    part_plan_clear(&plan);
    free(pl.views);
    scratch_free(&pl);
    clusters_free(&pl.clusters);
    return r == -ENOMEM ? part_error_oom(err) : r;
}

json_t *part_plan_to_json(const struct part_plan *plan)
{
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    for (size_t i = 0; i < plan->n; i++) {
        const struct part_action *a = &plan->actions[i];
        json_t *o =
            json_pack("{s:s, s:s, s:o, s:o, s:s}", "partition", a->partition, "setting",
                      part_setting_name(a->setting), "from", part_setting_json(a->setting, a->from),
                      "to", part_setting_json(a->setting, a->to), "reason", a->reason);
        if (!o || json_array_append_new(arr, o) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

json_t *part_plan_reply_json(const struct part_plan *plan, const char *policy, uint64_t sample)
{
    return json_pack("{s:s, s:I, s:o}", "policy", policy, "sample", (json_int_t)sample, "actions",
                     part_plan_to_json(plan));
}
