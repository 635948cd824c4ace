/* The planner: from the CPC (running values, entitlements, histories) and
 * a policy to a list of actions, each with its reason. Pure and
 * deterministic: partitions are taken in the CPC's order, every sort breaks
 * ties by name, and nothing but the arguments is read.
 *
 * Every rule judges a partition on its K newest samples (K = policy
 * samples), which must all be valid, fresh, and taken after the setting it
 * would change last changed; a condition must hold for each of them
 * (hysteresis). On top: cooldowns per partition and setting, dead-bands,
 * and step limits. The plan is checked against the invariants before it is
 * returned. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "part/plan.h"
#include "part/size.h"

#define EPS 1e-9

/* What the samples say of one partition. */
struct judge {
    struct part_partition *p;
    bool fresh;      /* K samples, the newest one recent */
    double t_oldest; /* time of the oldest of the K samples */
    bool cpu;        /* the K samples are valid */
    double demand;   /* mean processors used over them */
    double used_min, used_max;
    double util_min, util_max;   /* used / online processors */
    bool mem;                    /* the K samples have balloon figures */
    uint64_t need_min, need_max; /* MiB the guest uses */
    uint64_t free_max;           /* MiB the guest leaves unused, the most of the K */
};

struct planner {
    const struct part_cpc *cpc;
    const struct part_policy *pol;
    double now;
    struct judge *j; /* one per partition, in CPC order */
    struct part_plan *plan;
    /* the CPC with the plan's actions so far applied, for admission control */
    struct part_cpc scratch;
    struct part_partition *copies;
    struct part_partition **scratch_parts;
};

void part_plan_clear(struct part_plan *plan)
{
    if (!plan)
        return;
    free(plan->actions);
    *plan = (struct part_plan){0};
}

static const char *name_of(const struct part_partition *p)
{
    return p->profile->name;
}

/* Appends an action; the reason is formatted like printf. */
__attribute__((format(printf, 7, 8))) static int plan_add(struct part_plan *plan,
                                                          const struct part_partition *p,
                                                          enum part_setting setting, double from,
                                                          double to, bool dc, const char *fmt, ...)
{
    if (plan->n == plan->alloc) {
        size_t alloc = plan->alloc ? 2 * plan->alloc : 8;
        struct part_action *a = realloc(plan->actions, alloc * sizeof(*a));
        if (!a)
            return -ENOMEM;
        plan->actions = a;
        plan->alloc = alloc;
    }
    struct part_action *a = &plan->actions[plan->n++];
    *a = (struct part_action){.setting = setting, .from = from, .to = to, .dc = dc};
    snprintf(a->partition, sizeof(a->partition), "%s", name_of(p));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->reason, sizeof(a->reason), fmt, ap);
    va_end(ap);
    return 0;
}

/* Judging */

/* Fills j from p's history. The newest sample is stale when older than two
 * plan intervals or two sampling intervals, whichever is longer (the
 * monitor's interval is the partd.json one, not the policy's). */
static void judge_partition(const struct part_policy *pol, double now, struct part_partition *p,
                            struct judge *j)
{
    const struct part_history *h = p->history;
    unsigned k = pol->samples;

    *j = (struct judge){.p = p};
    if (!p->active || !p->profile->managed || !h || h->n < k || k == 0)
        return;
    const struct part_sample *s0 = part_history_get(h, 0), *s1 = part_history_get(h, 1);
    double gap = s1 ? s0->t - s1->t : 0;
    if (s0->t > now + EPS || now - s0->t > 2 * fmax(pol->interval, gap))
        return;
    j->fresh = true;
    j->t_oldest = part_history_get(h, k - 1)->t;

    j->cpu = true;
    j->used_min = j->util_min = INFINITY;
    j->used_max = j->util_max = -INFINITY;
    j->mem = true;
    j->need_min = UINT64_MAX;
    for (unsigned i = 0; i < k; i++) {
        const struct part_sample *s = part_history_get(h, i);
        if (!s->valid || s->online == 0 || !isfinite(s->used) || s->used < 0) {
            j->cpu = false;
        } else {
            double util = s->used / s->online;
            j->demand += s->used;
            j->used_min = fmin(j->used_min, s->used);
            j->used_max = fmax(j->used_max, s->used);
            j->util_min = fmin(j->util_min, util);
            j->util_max = fmax(j->util_max, util);
        }
        if (!s->mem_valid || s->mem_available < s->mem_unused) {
            j->mem = false;
        } else {
            uint64_t need = s->mem_available - s->mem_unused;
            j->need_min = need < j->need_min ? need : j->need_min;
            j->need_max = need > j->need_max ? need : j->need_max;
            j->free_max = s->mem_unused > j->free_max ? s->mem_unused : j->free_max;
        }
    }
    j->demand /= k;
}

/* Whether setting s of j's partition may change now: its cooldown has
 * passed and the K samples were all taken after it last changed (a change
 * is judged by its effect, never by what came before it). */
static bool may_change(const struct planner *pl, const struct judge *j, enum part_setting s,
                       double cooldown)
{
    return j->fresh && pl->now - j->p->changed_at[s] >= cooldown &&
           j->t_oldest > j->p->changed_at[s];
}

/* The scratch CPC for admission control: the partitions as they run, with
 * the actions planned so far. Copies share the profiles and are never
 * freed one by one. */
static int scratch_init(struct planner *pl)
{
    const struct part_cpc *cpc = pl->cpc;
    pl->scratch = *cpc;
    pl->copies = calloc(cpc->n + 1, sizeof(*pl->copies));
    pl->scratch_parts = calloc(cpc->n + 1, sizeof(*pl->scratch_parts));
    if (!pl->copies || !pl->scratch_parts)
        return -ENOMEM;
    for (size_t i = 0; i < cpc->n; i++) {
        pl->copies[i] = *cpc->parts[i];
        pl->scratch_parts[i] = &pl->copies[i];
    }
    pl->scratch.parts = pl->scratch_parts;
    return 0;
}

/* Index of j in the planner's array, which is also the CPC's order. */
static size_t judge_index(const struct planner *pl, const struct judge *j)
{
    return (size_t)(j - pl->j);
}

/* Weight management (IRD) */

static int cmp_name(const struct judge *a, const struct judge *b)
{
    return strcmp(name_of(a->p), name_of(b->p));
}

/* Receivers: the most starved first (demand / entitlement). */
static int cmp_receiver(const void *x, const void *y)
{
    const struct judge *a = *(const struct judge *const *)x, *b = *(const struct judge *const *)y;
    double ra = a->demand / a->p->entitlement, rb = b->demand / b->p->entitlement;
    return ra > rb ? -1 : ra < rb ? 1 : cmp_name(a, b);
}

/* Donors: the most slack relative to entitlement first. */
static int cmp_donor(const void *x, const void *y)
{
    const struct judge *a = *(const struct judge *const *)x, *b = *(const struct judge *const *)y;
    double sa = 1 - a->demand / a->p->entitlement, sb = 1 - b->demand / b->p->entitlement;
    return sa > sb ? -1 : sa < sb ? 1 : cmp_name(a, b);
}

/* A running value outside its profile's bounds (the profile was replaced
 * while the partition ran) is left to the user: no step from there could
 * be checked in bounds. */
static bool within(double v, double lo, double hi)
{
    return v >= lo && v <= hi;
}

static bool weight_managed(const struct judge *j)
{
    const struct part_partition *p = j->p;
    const struct part_profile *pp = p->profile;
    return j->cpu && pp->mode == PART_MODE_SHARED && p->entitlement > EPS &&
           within(p->weight, pp->weight_min, pp->weight_max);
}

static unsigned umin(unsigned a, unsigned b)
{
    return a < b ? a : b;
}

/* Moves weight from one donor to one receiver of the same cluster. The
 * amount is the least of the step, the receiver's headroom, the donor's
 * slack, what the receiver lacks for its demand and what the donor does not
 * need (both as weight, at the current weight per processor of entitlement),
 * at least 1. The donor keeps its entitlement a half dead-band above its
 * demand: landing on the demand itself would look like a partition using
 * all of its entitlement, which may reclaim weight (below). */
static int weight_pair(struct planner *pl, const struct judge *r, const struct judge *d)
{
    const struct part_partition *rp = r->p, *dp = d->p;
    double keep = 1 - pl->pol->deadband / 2;
    unsigned need = (unsigned)fmax(1, ceil(rp->weight * (r->demand / rp->entitlement - 1) - EPS));
    unsigned spare =
        (unsigned)fmax(1, floor(dp->weight * (1 - d->demand / (dp->entitlement * keep)) + EPS));
    unsigned x = umin(pl->pol->weight_step, rp->profile->weight_max - rp->weight);
    x = umin(umin(x, dp->weight - dp->profile->weight_min), umin(need, spare));
    if (x == 0)
        return 0;
    unsigned k = pl->pol->samples;
    int ret = plan_add(pl->plan, rp, PART_SET_WEIGHT, rp->weight, rp->weight + x, false,
                       "%s: demand %.2f > entitlement %.2f for %u samples; weight %u -> %u, taken "
                       "from %s (demand %.2f < entitlement %.2f): %u -> %u",
                       name_of(rp), r->demand, rp->entitlement, k, rp->weight, rp->weight + x,
                       name_of(dp), d->demand, dp->entitlement, dp->weight, dp->weight - x);
    if (ret < 0)
        return ret;
    return plan_add(pl->plan, dp, PART_SET_WEIGHT, dp->weight, dp->weight - x, false,
                    "%s: demand %.2f < entitlement %.2f for %u samples; weight %u -> %u, given to "
                    "%s (demand %.2f > entitlement %.2f): %u -> %u",
                    name_of(dp), d->demand, dp->entitlement, k, dp->weight, dp->weight - x,
                    name_of(rp), r->demand, rp->entitlement, rp->weight, rp->weight + x);
}

/* Gives weight back to a partition that lent it: c is below its profile's
 * weight and uses all of its entitlement, h holds more than its profile's.
 * At most what c lent and what h borrowed, and little enough that c's
 * entitlement stays within the dead-band of its use (c must not become a
 * donor for it). */
static int weight_reclaim(struct planner *pl, const struct judge *c, const struct judge *h)
{
    const struct part_partition *cp = c->p, *hp = h->p;
    unsigned stable = (unsigned)fmax(
        1, floor(cp->weight * (c->demand / (cp->entitlement * (1 - pl->pol->deadband)) - 1) + EPS));
    unsigned x = umin(pl->pol->weight_step, cp->profile->weight_initial - cp->weight);
    x = umin(umin(x, hp->weight - hp->profile->weight_initial), stable);
    unsigned k = pl->pol->samples;
    int ret = plan_add(pl->plan, cp, PART_SET_WEIGHT, cp->weight, cp->weight + x, false,
                       "%s: demand %.2f uses all of entitlement %.2f for %u samples, at weight %u "
                       "under its profile's %u; weight %u -> %u, taken back from %s (weight %u "
                       "over its profile's %u): %u -> %u",
                       name_of(cp), c->demand, cp->entitlement, k, cp->weight,
                       cp->profile->weight_initial, cp->weight, cp->weight + x, name_of(hp),
                       hp->weight, hp->profile->weight_initial, hp->weight, hp->weight - x);
    if (ret < 0)
        return ret;
    return plan_add(pl->plan, hp, PART_SET_WEIGHT, hp->weight, hp->weight - x, false,
                    "%s: weight %u over its profile's %u; weight %u -> %u, given back to %s "
                    "(demand %.2f uses all of entitlement %.2f at weight %u under its "
                    "profile's %u): %u -> %u",
                    name_of(hp), hp->weight, hp->profile->weight_initial, hp->weight,
                    hp->weight - x, name_of(cp), c->demand, cp->entitlement, cp->weight,
                    cp->profile->weight_initial, cp->weight, cp->weight + x);
}

/* Lenders first: the most weight lent, relative to the profile's. */
static int cmp_lender(const void *x, const void *y)
{
    const struct judge *a = *(const struct judge *const *)x, *b = *(const struct judge *const *)y;
    double la = 1 - (double)a->p->weight / a->p->profile->weight_initial;
    double lb = 1 - (double)b->p->weight / b->p->profile->weight_initial;
    return la > lb ? -1 : la < lb ? 1 : cmp_name(a, b);
}

/* Holders first: the most weight borrowed, relative to the profile's. */
static int cmp_holder(const void *x, const void *y)
{
    const struct judge *a = *(const struct judge *const *)x, *b = *(const struct judge *const *)y;
    double ha = (double)a->p->weight / a->p->profile->weight_initial;
    double hb = (double)b->p->weight / b->p->profile->weight_initial;
    return ha > hb ? -1 : ha < hb ? 1 : cmp_name(a, b);
}

/* One cluster: the managed shared partitions of group (the ungrouped ones
 * when group is ""). Receivers and donors are paired in order, the most
 * starved with the most slack. Then partitions that lent weight and now use
 * all of their entitlement take it back from those holding more than their
 * profile's weight: in a pool where everyone is held to their entitlement,
 * use cannot exceed entitlement and no receiver shows, so without this the
 * weight lent while idle would stay away for good. Each partition at most
 * once. */
static int weight_cluster(struct planner *pl, const char *group, const struct judge **r,
                          const struct judge **d)
{
    const struct part_policy *pol = pl->pol;
    size_t nr = 0, nd = 0, nc = 0, nh = 0, n = pl->cpc->n;
    const struct judge **c = r + n, **h = d + n;
    int ret;

    for (size_t i = 0; i < n; i++) {
        const struct judge *j = &pl->j[i];
        const struct part_partition *p = j->p;
        const struct part_profile *pp = p->profile;
        if (!weight_managed(j) || strcmp(pp->group, group) != 0 ||
            !may_change(pl, j, PART_SET_WEIGHT, pol->cooldown_weight))
            continue;
        if (j->used_min > p->entitlement * (1 + pol->deadband) && p->weight < pp->weight_max)
            r[nr++] = j;
        else if (j->used_max < p->entitlement * (1 - pol->deadband) && p->weight > pp->weight_min)
            d[nd++] = j;
        else if (j->used_min >= p->entitlement * (1 - pol->deadband / 4) &&
                 p->weight < pp->weight_initial)
            c[nc++] = j;
        else if (p->weight > pp->weight_initial)
            h[nh++] = j;
    }
    qsort(r, nr, sizeof(*r), cmp_receiver);
    qsort(d, nd, sizeof(*d), cmp_donor);
    for (size_t i = 0; i < nr && i < nd; i++)
        if ((ret = weight_pair(pl, r[i], d[i])) < 0)
            return ret;
    /* donors left unpaired may hold borrowed weight too: they give it back */
    for (size_t i = nr; i < nd; i++)
        if (d[i]->p->weight > d[i]->p->profile->weight_initial)
            h[nh++] = d[i];
    qsort(c, nc, sizeof(*c), cmp_lender);
    qsort(h, nh, sizeof(*h), cmp_holder);
    for (size_t i = 0; i < nc && i < nh; i++)
        if ((ret = weight_reclaim(pl, c[i], h[i])) < 0)
            return ret;
    return 0;
}

static int plan_weights(struct planner *pl)
{
    size_t n = pl->cpc->n;
    /* receivers and lenders in r, donors and holders in d, n of each */
    const struct judge **r = calloc(2 * n + 1, sizeof(*r)), **d = calloc(2 * n + 1, sizeof(*d));
    int ret = -ENOMEM;

    if (!r || !d)
        goto out;
    /* each cluster once, in the order of its first member */
    for (size_t i = 0; i < n; i++) {
        const char *group = pl->j[i].p->profile->group;
        bool first = weight_managed(&pl->j[i]);
        for (size_t k = 0; k < i && first; k++)
            first = !(weight_managed(&pl->j[k]) && strcmp(pl->j[k].p->profile->group, group) == 0);
        if (first && (ret = weight_cluster(pl, group, r, d)) < 0)
            goto out;
    }
    ret = 0;
out:
    free(r);
    free(d);
    return ret;
}

/* Processor management */

/* Whether one more processor could do j's partition any good: not past
 * its running cap, which it could not use. */
static bool below_cap(const struct part_partition *p)
{
    return p->cap == PART_CAP_NONE || p->processors < ceil(p->cap - EPS);
}

static int plan_processors(struct planner *pl)
{
    const struct part_policy *pol = pl->pol;
    unsigned k = pol->samples;
    int ret;

    /* removals first: they free room that additions may need */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < pl->cpc->n; i++) {
            struct judge *j = &pl->j[i];
            const struct part_partition *p = j->p;
            struct part_partition *s = pl->scratch_parts[judge_index(pl, j)];
            if (!j->cpu || p->profile->mode != PART_MODE_SHARED ||
                !within(p->processors, p->profile->proc_min, p->profile->proc_reserved) ||
                !may_change(pl, j, PART_SET_PROCESSORS, pol->cooldown_processors))
                continue;
            unsigned n = p->processors;
            if (pass == 0 && j->util_max <= pol->processors_low && n > p->profile->proc_min &&
                j->demand <= (n - 1) * pol->processors_high) {
                ret = plan_add(pl->plan, p, PART_SET_PROCESSORS, n, n - 1, false,
                               "%s: utilisation %.2f <= %.2f of %u online processors for %u "
                               "samples (demand %.2f); processors %u -> %u",
                               name_of(p), j->util_max, pol->processors_low, n, k, j->demand, n,
                               n - 1);
                if (ret < 0)
                    return ret;
                s->processors = n - 1;
            } else if (pass == 1 && j->util_min >= pol->processors_high &&
                       n < p->profile->proc_reserved && below_cap(p) &&
                       part_cpc_check_resize(&pl->scratch, s, n + 1, s->memory, NULL) == 0) {
                ret = plan_add(pl->plan, p, PART_SET_PROCESSORS, n, n + 1, false,
                               "%s: utilisation %.2f >= %.2f of %u online processors for %u "
                               "samples (demand %.2f); processors %u -> %u",
                               name_of(p), j->util_min, pol->processors_high, n, k, j->demand, n,
                               n + 1);
                if (ret < 0)
                    return ret;
                s->processors = n + 1;
            }
        }
    }
    return 0;
}

/* Memory management */

struct grow {
    const struct judge *j;
    uint64_t to;
    bool pressure;
};

/* Growth is granted to the highest weight first, then by name. */
static int cmp_grow(const void *x, const void *y)
{
    const struct grow *a = x, *b = y;
    unsigned wa = a->j->p->weight, wb = b->j->p->weight;
    return wa > wb ? -1 : wa < wb ? 1 : cmp_name(a->j, b->j);
}

static uint64_t clamp_u64(uint64_t v, uint64_t lo, uint64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Where memory of active partitions may go in all, MiB. */
static uint64_t memory_limit(const struct part_cpc *cpc)
{
    return (uint64_t)((double)(cpc->memory - cpc->cfg.host_reserved_memory) *
                      cpc->cfg.memory_overcommit);
}

static int memory_action(struct planner *pl, const struct judge *j, uint64_t to, uint64_t need,
                         const char *which, bool pressure)
{
    const struct part_partition *p = j->p;
    const struct part_policy *pol = pl->pol;
    char a[32], b[32], c[32], d[32], e[32];
    if (pressure)
        return plan_add(pl->plan, p, PART_SET_MEMORY, (double)p->memory, (double)to, false,
                        "%s: the guest has at most %s of %s free (under pressure for %u "
                        "samples); memory %s -> %s (twice the headroom %s, at most %s a step)",
                        name_of(p), part_size_format(j->free_max, a, sizeof(a)),
                        part_size_format(p->memory, c, sizeof(c)), pol->samples, c,
                        part_size_format(to, d, sizeof(d)),
                        part_size_format(pol->memory_headroom, b, sizeof(b)),
                        part_size_format(pol->memory_step, e, sizeof(e)));
    return plan_add(pl->plan, p, PART_SET_MEMORY, (double)p->memory, (double)to, false,
                    "%s: the guest uses %s (%s of %u samples) + headroom %s; memory %s -> %s "
                    "(at most %s a step)",
                    name_of(p), part_size_format(need, a, sizeof(a)), which, pol->samples,
                    part_size_format(pol->memory_headroom, b, sizeof(b)),
                    part_size_format(p->memory, c, sizeof(c)), part_size_format(to, d, sizeof(d)),
                    part_size_format(pol->memory_step, e, sizeof(e)));
}

static int plan_memory(struct planner *pl)
{
    const struct part_policy *pol = pl->pol;
    const struct part_cpc *cpc = pl->cpc;
    struct grow *grow = calloc(cpc->n + 1, sizeof(*grow));
    uint64_t total = cpc->memory_active;
    size_t ng = 0;
    int ret = 0;

    if (!grow)
        return -ENOMEM;
    for (size_t i = 0; i < cpc->n; i++) {
        struct judge *j = &pl->j[i];
        const struct part_partition *p = j->p;
        const struct part_profile *pp = p->profile;
        if (!j->mem || !within((double)p->memory, (double)pp->mem_min, (double)pp->mem_reserved) ||
            !may_change(pl, j, PART_SET_MEMORY, pol->cooldown_memory))
            continue;
        uint64_t cur = p->memory, head = pol->memory_headroom, dead = pol->memory_deadband;
        /* hysteresis: grow only if even the least need of the K samples
         * asks for it, shrink only if even the most need allows it */
        uint64_t up = clamp_u64(j->need_min + head, pp->mem_min, pp->mem_reserved);
        uint64_t down = clamp_u64(j->need_max + head, pp->mem_min, pp->mem_reserved);
        /* A guest with less than the dead-band free in every sample is
         * under pressure: it cannot show a need beyond what it has, so it
         * gets its headroom twice over (a step at most). Shrinking then
         * waits for more than a headroom (and the dead-band) idle beyond
         * the target: what such a growth may overshoot by is never taken
         * back while the need holds. */
        bool pressure = j->free_max < dead;
        if (pressure) {
            uint64_t more = 2 * head < pol->memory_step ? 2 * head : pol->memory_step;
            uint64_t bump = clamp_u64(cur + more, pp->mem_min, pp->mem_reserved);
            up = bump > up ? bump : up;
        }
        if (up >= cur + dead) {
            uint64_t to = up - cur > pol->memory_step ? cur + pol->memory_step : up;
            grow[ng++] = (struct grow){.j = j, .to = to, .pressure = pressure};
        } else if (down + head + dead <= cur) {
            uint64_t to = cur - down > pol->memory_step ? cur - pol->memory_step : down;
            if ((ret = memory_action(pl, j, to, j->need_max, "the most", false)) < 0)
                goto out;
            pl->scratch_parts[i]->memory = to;
            total -= cur - to;
        }
    }
    /* growth within what the host has, shrinks of this plan counted */
    qsort(grow, ng, sizeof(*grow), cmp_grow);
    uint64_t limit = memory_limit(cpc);
    for (size_t g = 0; g < ng; g++) {
        const struct judge *j = grow[g].j;
        size_t i = judge_index(pl, j);
        uint64_t cur = j->p->memory, to = grow[g].to;
        uint64_t room = limit > total ? limit - total : 0;
        if (to - cur > room)
            to = cur + room;
        if (to < cur + pol->memory_deadband ||
            part_cpc_check_resize(&pl->scratch, pl->scratch_parts[i],
                                  pl->scratch_parts[i]->processors, to, NULL) < 0)
            continue;
        if ((ret = memory_action(pl, j, to, j->need_min, "the least", grow[g].pressure)) < 0)
            goto out;
        pl->scratch_parts[i]->memory = to;
        total += to - cur;
    }
out:
    free(grow);
    return ret;
}

/* Defined capacity */

static const char *cap_text(double cap, char *buf, size_t len)
{
    if (cap == PART_CAP_NONE)
        snprintf(buf, len, "none");
    else
        snprintf(buf, len, "%.2f", cap);
    return buf;
}

static int plan_defined_capacity(struct planner *pl)
{
    const struct part_policy *pol = pl->pol;
    char a[32], b[32];

    for (size_t i = 0; i < pl->cpc->n; i++) {
        const struct part_partition *p = pl->j[i].p;
        double dc = p->profile->defined_capacity, seen;
        if (!p->active || !p->profile->managed || !p->history ||
            p->profile->mode != PART_MODE_SHARED || dc == PART_CAP_NONE)
            continue;
        double avg = part_history_rolling(p->history, &seen);
        double window = part_history_window(p->history);
        /* an average over a sliver of the window says little */
        if (seen < window / 4)
            continue;
        int ret = 0;
        if (avg > dc && (p->cap == PART_CAP_NONE || p->cap > dc + EPS))
            ret = plan_add(pl->plan, p, PART_SET_CAP, p->cap, dc, true,
                           "%s: rolling average %.2f over %.0f s (of a %.0f s window) > defined "
                           "capacity %.2f; cap %s -> %.2f",
                           name_of(p), avg, seen, window, dc, cap_text(p->cap, a, sizeof(a)), dc);
        else if (p->dc_capped && avg < dc * (1 - pol->deadband))
            ret = plan_add(pl->plan, p, PART_SET_CAP, p->cap, p->profile->cap, true,
                           "%s: rolling average %.2f over %.0f s (of a %.0f s window) < defined "
                           "capacity %.2f - %.0f%%; cap %s -> %s (the profile's)",
                           name_of(p), avg, seen, window, dc, pol->deadband * 100,
                           cap_text(p->cap, a, sizeof(a)), cap_text(p->profile->cap, b, sizeof(b)));
        if (ret < 0)
            return ret;
    }
    return 0;
}

int part_plan_make(const struct part_cpc *cpc, const struct part_policy *policy, double now,
                   struct part_plan *ret, struct part_error *err)
{
    struct part_plan plan = {0};
    struct planner pl = {.cpc = cpc, .pol = policy, .now = now, .plan = &plan};
    int r = -ENOMEM;

    part_error_clear(err);
    *ret = (struct part_plan){0};
    pl.j = calloc(cpc->n + 1, sizeof(*pl.j));
    if (!pl.j || scratch_init(&pl) < 0)
        goto out;
    for (size_t i = 0; i < cpc->n; i++)
        judge_partition(policy, now, cpc->parts[i], &pl.j[i]);
    /* The order is the order of application: caps, weight pairs (which
     * conserve totals), then what frees capacity before what takes it. */
    if ((policy->defined_capacity && (r = plan_defined_capacity(&pl)) < 0) ||
        (policy->weights && (r = plan_weights(&pl)) < 0) ||
        (policy->processors && (r = plan_processors(&pl)) < 0) ||
        (policy->memory && (r = plan_memory(&pl)) < 0))
        goto out;
    if ((r = part_plan_check(cpc, &plan, err)) < 0)
        goto out;
    *ret = plan;
    plan = (struct part_plan){0};
out:
    part_plan_clear(&plan);
    free(pl.j);
    free(pl.copies);
    free(pl.scratch_parts);
    return r;
}

/* Checking */

/* Running values of one partition, before and after the plan. */
struct values {
    double v[PART_SET_N];
    bool seen[PART_SET_N];
};

static double running(const struct part_partition *p, enum part_setting s)
{
    switch (s) {
    case PART_SET_PROCESSORS:
        return p->processors;
    case PART_SET_MEMORY:
        return (double)p->memory;
    case PART_SET_WEIGHT:
        return p->weight;
    default:
        return p->cap;
    }
}

static bool whole(double v)
{
    return isfinite(v) && v >= 0 && v == floor(v);
}

/* Whether to is a value setting s of p may take. */
static int check_bounds(const struct part_partition *p, const struct part_action *a, size_t i,
                        struct part_error *err)
{
    const struct part_profile *pp = p->profile;
    const char *what = part_setting_name(a->setting);
    bool shared = pp->mode == PART_MODE_SHARED;
    double lo = 0, hi = 0;

    switch (a->setting) {
    case PART_SET_WEIGHT:
        lo = pp->weight_min, hi = pp->weight_max;
        break;
    case PART_SET_PROCESSORS:
        lo = pp->proc_min, hi = pp->proc_reserved;
        break;
    case PART_SET_MEMORY:
        lo = (double)pp->mem_min, hi = (double)pp->mem_reserved;
        break;
    case PART_SET_CAP:
        if (!shared)
            return part_error_set(err, -EPROTO, "cap",
                                  "action %zu: %s: a dedicated partition has no cap", i, pp->name);
        if (a->to == PART_CAP_NONE)
            return 0;
        if (!(a->to >= PART_CAP_MIN && a->to <= PART_CAP_MAX))
            return part_error_set(err, -EPROTO, "cap", "action %zu: %s: cap %g is outside %g-%g", i,
                                  pp->name, a->to, PART_CAP_MIN, PART_CAP_MAX);
        return 0;
    default:
        return part_error_set(err, -EPROTO, "setting", "action %zu: %s: unknown setting %d", i,
                              pp->name, (int)a->setting);
    }
    if (a->setting == PART_SET_WEIGHT && !shared)
        return part_error_set(err, -EPROTO, what,
                              "action %zu: %s: a dedicated partition has no weight", i, pp->name);
    if (!whole(a->to))
        return part_error_set(err, -EPROTO, what, "action %zu: %s: %s %g is not a whole number", i,
                              pp->name, what, a->to);
    if (a->to < lo || a->to > hi)
        return part_error_set(err, -EPROTO, what,
                              "action %zu: %s: %s %.0f is outside its bounds %.0f-%.0f", i,
                              pp->name, what, a->to, lo, hi);
    return 0;
}

/* Whether group's weight total (the ungrouped partitions' when "") is the
 * same before and after. */
static int check_cluster(const struct part_cpc *cpc, const struct values *v, const char *group,
                         struct part_error *err)
{
    double before = 0, after = 0;
    for (size_t i = 0; i < cpc->n; i++) {
        const struct part_partition *p = cpc->parts[i];
        if (!p->active || p->profile->mode != PART_MODE_SHARED ||
            strcmp(p->profile->group, group) != 0)
            continue;
        before += p->weight;
        after += v[i].v[PART_SET_WEIGHT];
    }
    if (before != after) {
        if (group[0])
            return part_error_set(err, -EPROTO, "weight",
                                  "group %s: weight total %.0f -> %.0f (must be conserved)", group,
                                  before, after);
        return part_error_set(err, -EPROTO, "weight",
                              "ungrouped partitions: weight total %.0f -> %.0f (must be "
                              "conserved)",
                              before, after);
    }
    return 0;
}

/* Capacity after the plan: processors against the pool and cpu_overcommit,
 * memory against host memory and memory_overcommit. A total that was over
 * already is refused only if the plan makes it worse. */
static int check_capacity(const struct part_cpc *cpc, const struct values *v,
                          struct part_error *err)
{
    unsigned dedicated = 0, shared_n = 0;
    double online = 0, online_before = 0, mem = 0, mem_before = 0, widest = 0;
    const char *widest_name = "";

    for (size_t i = 0; i < cpc->n; i++) {
        const struct part_partition *p = cpc->parts[i];
        if (!p->active)
            continue;
        mem += v[i].v[PART_SET_MEMORY];
        mem_before += (double)p->memory;
        if (p->profile->mode == PART_MODE_DEDICATED) {
            dedicated += (unsigned)v[i].v[PART_SET_PROCESSORS];
            continue;
        }
        shared_n++;
        online += v[i].v[PART_SET_PROCESSORS];
        online_before += p->processors;
        if (v[i].v[PART_SET_PROCESSORS] > widest && v[i].v[PART_SET_PROCESSORS] > p->processors) {
            widest = v[i].v[PART_SET_PROCESSORS];
            widest_name = p->profile->name;
        }
    }
    unsigned usable = cpc->cpus - cpc->cfg.host_reserved_cpus;
    unsigned dedicated_max = shared_n ? usable - 1 : usable;
    if (dedicated > cpc->dedicated && dedicated > dedicated_max)
        return part_error_set(err, -EPROTO, "processors",
                              "%u dedicated processors exceed the %u host CPUs that can be "
                              "dedicated",
                              dedicated, dedicated_max);
    unsigned pool = dedicated <= dedicated_max ? usable - dedicated : 0;
    if (widest > pool)
        return part_error_set(err, -EPROTO, "processors",
                              "%s: %.0f logical processors on a shared pool of %u CPUs",
                              widest_name, widest, pool);
    double limit = pool * cpc->cfg.cpu_overcommit;
    if (online > limit + EPS && online > online_before)
        return part_error_set(err, -EPROTO, "processors",
                              "%.0f shared logical processors exceed %g (pool of %u CPUs x "
                              "cpu_overcommit %g)",
                              online, limit, pool, cpc->cfg.cpu_overcommit);
    double mem_limit = (double)memory_limit(cpc);
    if (mem > mem_limit && mem > mem_before)
        return part_error_set(err, -EPROTO, "memory",
                              "memory targets of active partitions total %.0f MiB, over the %.0f "
                              "MiB available",
                              mem, mem_limit);
    return 0;
}

int part_plan_check(const struct part_cpc *cpc, const struct part_plan *plan,
                    struct part_error *err)
{
    struct values *v = calloc(cpc->n + 1, sizeof(*v));
    int r = 0;

    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < cpc->n; i++)
        for (int s = 0; s < PART_SET_N; s++)
            v[i].v[s] = running(cpc->parts[i], s);
    for (size_t i = 0; i < plan->n; i++) {
        const struct part_action *a = &plan->actions[i];
        size_t k;
        for (k = 0; k < cpc->n; k++)
            if (strcmp(cpc->parts[k]->profile->name, a->partition) == 0)
                break;
        if (k == cpc->n) {
            r = part_error_set(err, -EPROTO, "partition", "action %zu: no partition named %s", i,
                               a->partition);
            goto out;
        }
        const struct part_partition *p = cpc->parts[k];
        if (!p->active) {
            r = part_error_set(err, -EPROTO, "partition", "action %zu: %s is not active", i,
                               a->partition);
            goto out;
        }
        if ((unsigned)a->setting >= PART_SET_N) {
            r = part_error_set(err, -EPROTO, "setting", "action %zu: %s: unknown setting %d", i,
                               a->partition, (int)a->setting);
            goto out;
        }
        const char *what = part_setting_name(a->setting);
        if (v[k].seen[a->setting]) {
            r = part_error_set(err, -EPROTO, what, "action %zu: %s: %s changes twice in one plan",
                               i, a->partition, what);
            goto out;
        }
        if (a->from != v[k].v[a->setting]) {
            r = part_error_set(err, -EPROTO, what, "action %zu: %s: %s from %g, but it runs at %g",
                               i, a->partition, what, a->from, v[k].v[a->setting]);
            goto out;
        }
        if ((r = check_bounds(p, a, i, err)) < 0)
            goto out;
        v[k].seen[a->setting] = true;
        v[k].v[a->setting] = a->to;
    }
    /* cluster totals: every group, and the ungrouped partitions */
    for (size_t i = 0; i < cpc->n; i++) {
        const struct part_partition *p = cpc->parts[i];
        bool first = p->active && p->profile->mode == PART_MODE_SHARED;
        for (size_t k = 0; k < i && first; k++)
            first = !(cpc->parts[k]->active && cpc->parts[k]->profile->mode == PART_MODE_SHARED &&
                      strcmp(cpc->parts[k]->profile->group, p->profile->group) == 0);
        if (first && (r = check_cluster(cpc, v, p->profile->group, err)) < 0)
            goto out;
    }
    r = check_capacity(cpc, v, err);
out:
    free(v);
    return r;
}

/* JSON */

static json_t *value_json(enum part_setting s, double v)
{
    if (s == PART_SET_CAP)
        return v == PART_CAP_NONE ? json_null() : json_real(v);
    return json_integer((json_int_t)v);
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
                      part_setting_name(a->setting), "from", value_json(a->setting, a->from), "to",
                      value_json(a->setting, a->to), "reason", a->reason);
        if (!o || json_array_append_new(arr, o) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}
