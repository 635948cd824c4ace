/* The planner's processor rule: a shared partition whose processors idle
 * in every sample loses one; one whose processors are busy in every
 * sample, or that uses all of its entitlement and is entitled to more than
 * its processors run, gets more, as many as admission control lets in.
 * Removals come first: they free room that additions may need. */
#include <errno.h>
#include <math.h>

#include "plan-internal.h"

/* Whether one more processor could do v's partition any good: not past
 * its running cap, which it could not use. */
static bool processors_below_cap(const struct plan_view *v)
{
    return v->cap == PART_CAP_NONE || v->processors < ceil(v->cap - EPS);
}

/* to, or fewer: never past reserved, nor past the running cap rounded up. */
static unsigned processors_clamp(const struct plan_view *v, unsigned to)
{
    if (to > v->proc_reserved)
        to = v->proc_reserved;
    if (v->cap != PART_CAP_NONE && to > ceil(v->cap - EPS))
        to = (unsigned)ceil(v->cap - EPS);
    return to;
}

/*
 * How many processors a partition using at least `high` of its n online
 * ones in every sample should have: enough for its largest use of the K
 * samples to sit at `high`, at least one more. When every sample is at
 * least halfway from `high` to 1, every processor is busy and the demand
 * cannot show past them: half as many again (rounded up), the way a
 * window grows while nothing says how far to go. Never past reserved, nor
 * past the running cap rounded up.
 */
static unsigned processors_wanted(const struct part_policy *pol, const struct plan_view *v)
{
    unsigned n = v->processors, to = n + 1;
    if (v->util_min >= (1 + pol->processors_high) / 2)
        to = n + (n + 1) / 2;
    else if (ceil(v->used_max / pol->processors_high - EPS) > to)
        to = (unsigned)ceil(v->used_max / pol->processors_high - EPS);
    return processors_clamp(v, to);
}

/* How many processors a partition that will use at least `high` of its n
 * online ones by the time they could come online should have, judged on
 * its newest sample (growth toward demand does not wait for K samples):
 * enough for its use then (used_next) to sit at `high`, at least one
 * more; within the same bounds. */
static unsigned processors_wanted_newest(const struct part_policy *pol, const struct plan_view *v)
{
    unsigned n = v->processors, to = n + 1;
    if (ceil(v->used_next / pol->processors_high - EPS) > to)
        to = (unsigned)ceil(v->used_next / pol->processors_high - EPS);
    return processors_clamp(v, to);
}

/* How many processors would carry the entitlement e of v's partition:
 * enough for e to run at `high`, when its n online processors do not;
 * never past reserved, nor past the running cap rounded up. */
static unsigned processors_to_carry(const struct part_policy *pol, const struct plan_view *v,
                                    double e)
{
    unsigned n = v->processors, to = n;
    if (e > n * pol->processors_high + EPS)
        to = (unsigned)ceil(e / pol->processors_high - EPS);
    return processors_clamp(v, to);
}

/* Whether v's partition uses all of its entitlement in each of the K
 * samples: it may want more than it shows. */
static bool processors_uses_all(const struct planner *pl, const struct plan_view *v)
{
    return v->entitlement > EPS && v->used_min >= v->entitlement * (1 - pl->pol->deadband / 4);
}

static bool processors_shared(const struct plan_view *v)
{
    return v->mode == PART_MODE_SHARED &&
           plan_in_bounds(v->processors, v->proc_min, v->proc_reserved);
}

/* Whether the processor rule manages v's partition now, on K samples. */
static bool processors_managed(const struct plan_view *v)
{
    return processors_shared(v) && v->cpu_valid && v->changeable[PART_SET_PROCESSORS];
}

/* Whether the processor rule may add to v's partition now: on K samples,
 * or on the newest alone when it is busy in it. */
static bool processors_may_add(const struct plan_view *v)
{
    return (processors_managed(v) || (processors_shared(v) && v->busy)) &&
           v->processors < v->proc_reserved && processors_below_cap(v);
}

/* The entitlement each partition that uses all of its own and may get
 * processors would carry (entitlement_at_reserved; 0 for the others), at
 * the weights of the plan so far, if all of them had their reserved
 * processors online. One computation for all: what each would get with
 * only itself at reserved is at least that. Only partitions whose
 * entitlement is near what their online processors run at `high`, or
 * whose weight this plan raises, can gain: raising a limit that does not
 * bind changes no share, and the others' raised limits only lower it.
 * Returns 0 or -ENOMEM. */
static int processors_find_carry(struct planner *pl)
{
    size_t n = pl->cpc->n, nc = 0;
    for (size_t i = 0; i < n; i++) {
        struct plan_view *v = &pl->views[i];
        v->entitlement_at_reserved = 0;
        /* not one this plan removes a processor from */
        v->carry_candidate = (processors_uses_all(pl, v) || v->saturated) &&
                             processors_may_add(v) && v->scratch_processors == v->processors &&
                             (v->entitlement > v->processors * pl->pol->processors_high - EPS ||
                              v->scratch_weight > v->weight || v->saturated);
        nc += v->carry_candidate;
    }
    return nc ? scratch_entitlements_at_reserved(pl) : 0;
}

/* Processors past the running cap rounded up go offline at once: the cap
 * never lets the partition use them. Returns 0 or -ENOMEM. */
static int processors_remove_capped(struct planner *pl, size_t i, const struct plan_view *v)
{
    const struct part_partition *p = v->p;
    unsigned n = v->processors, to = processors_clamp(v, n);
    int ret;
    if (to < v->proc_min)
        to = v->proc_min;
    if (to >= n)
        return 0;
    ret = plan_add(pl, p, i, PART_SET_PROCESSORS, n, to, false,
                   "%s: capped at %.2f, it cannot use more than %u of its %u online processors; "
                   "processors %u -> %u",
                   plan_name(p), v->cap, to, n, n, to);
    return ret < 0 ? ret : scratch_resize(pl, i, to, v->scratch_memory);
}

/* Fewer processors for the partition of v (index i) when they idle in
 * every sample and the rest would carry its demand, and it does not use
 * all of its entitlement in any (a busy pool may be holding it down).
 * With a stabilization window, only when they idled through all of it, and
 * then down to what its busiest sample of the window needs at `high`;
 * without, one at a time. Returns 0 or -ENOMEM. */
static int processors_remove(struct planner *pl, size_t i, const struct plan_view *v)
{
    const struct part_policy *pol = pl->pol;
    const struct part_partition *p = v->p;
    unsigned n = v->processors, to = n - 1, k = pol->samples;
    bool window = pol->stabilization > 0;
    double util = window ? v->calm_util_max : v->util_max;
    double most = window ? v->calm_used_max : v->used_max;
    int ret;
    if (!processors_below_cap(v) && v->processors > ceil(v->cap - EPS))
        return processors_remove_capped(pl, i, v);
    if ((window && !v->calm_processors) || util > pol->processors_low || n <= v->proc_min ||
        most >= v->entitlement * (1 - pol->deadband) || v->demand > (n - 1) * pol->processors_high)
        return 0;
    if (window) {
        /* never under its share of the pool at its profile's weight: a
         * partition that becomes busy again gets that at once, with no
         * processor to wait for (the share counts neither groups nor caps:
         * it is a floor) */
        double share = pl->weight_initial_total > 0
                           ? pl->cpc->pool * v->weight_initial / pl->weight_initial_total
                           : 0;
        k = plan_window(pol);
        to = (unsigned)fmax(v->proc_min, ceil(fmax(most / pol->processors_high, share) - EPS));
        if (to >= n)
            return 0;
    }
    ret = plan_add(pl, p, i, PART_SET_PROCESSORS, n, to, false,
                   "%s: utilisation %.2f <= %.2f of %u online processors for %u "
                   "samples (demand %.2f, at most %.2f); processors %u -> %u",
                   plan_name(p), util, pol->processors_low, n, k, v->demand, most, n, to);
    return ret < 0 ? ret : scratch_resize(pl, i, to, v->scratch_memory);
}

/* More processors for the partition of v (index i) when they are busy in
 * every sample, or when it uses all of its entitlement and is entitled to
 * more than its processors run (processors to carry the entitlement): as
 * many as admission control lets in, down to one. Returns 0 or -ENOMEM. */
static int processors_add(struct planner *pl, size_t i, const struct plan_view *v)
{
    const struct part_policy *pol = pl->pol;
    const struct part_partition *p = v->p;
    unsigned k = pol->samples, n = v->processors;
    bool high = processors_managed(v) && v->util_min >= pol->processors_high;
    bool newest = !high && v->busy;
    unsigned to = high ? processors_wanted(pol, v) : newest ? processors_wanted_newest(pol, v) : n;
    /* A partition using all of its entitlement in every sample may want
     * more than it shows, and its entitlement, with processors to run it
     * and after this plan's weight moves (a lender taking its weight
     * back), may be more than its online processors run at `high`. */
    double e = v->entitlement_at_reserved;
    /* Saturated, its demand is unknown but larger: enough for what it is
     * entitled to with its processors online, or for all the pool the
     * others leave, whichever is more, in one plan. */
    if (v->saturated)
        e = fmax(e, fmax(pl->cpc->pool - (pl->used_total - v->used_newest), n + 1));
    unsigned carry_to = processors_to_carry(pol, v, e);
    bool by_carry = carry_to > to;
    int ret;
    if (by_carry)
        to = carry_to;
    while (to > n && !scratch_admits(pl, i, to, v->scratch_memory))
        to--;
    if (to == n)
        return 0;
    bool busy = v->util_min >= (1 + pol->processors_high) / 2;
    if (by_carry && v->saturated)
        ret = plan_add(pl, p, i, PART_SET_PROCESSORS, n, to, false,
                       "%s: all of its %u online processors busy (use %.2f): its demand is "
                       "hidden; enough for %.2f (its entitlement with its processors online, or "
                       "what the others leave of the pool) at %.2f; processors %u -> %u",
                       plan_name(p), n, v->used_newest, e, pol->processors_high, n, to);
    else if (by_carry)
        ret =
            plan_add(pl, p, i, PART_SET_PROCESSORS, n, to, false,
                     "%s: demand %.2f uses all of entitlement %.2f for %u samples, "
                     "and is entitled to %.2f at the weights of this plan: more "
                     "than %u online processors run at %.2f; processors %u -> %u",
                     plan_name(p), v->demand, v->entitlement, k, e, n, pol->processors_high, n, to);
    else if (newest)
        ret = plan_add(pl, p, i, PART_SET_PROCESSORS, n, to, false,
                       "%s: use %.2f in its newest sample, %.2f a sample ahead (as much again "
                       "as it rose): utilisation %.2f >= %.2f of %u online processors; "
                       "processors %u -> %u",
                       plan_name(p), v->used_newest, v->used_next, v->used_next / n,
                       pol->processors_high, n, n, to);
    else
        ret = plan_add(pl, p, i, PART_SET_PROCESSORS, n, to, false,
                       "%s: utilisation %.2f >= %.2f of %u online processors for %u "
                       "samples (demand %.2f); processors %u -> %u%s",
                       plan_name(p), v->util_min, pol->processors_high, n, k, v->demand, n, to,
                       to == n + 1 ? ""
                       : busy      ? " (all busy: half as many again)"
                                   : " (the most used of the samples at high)");
    return ret < 0 ? ret : scratch_resize(pl, i, to, v->scratch_memory);
}

int plan_processors(struct planner *pl)
{
    size_t n = pl->cpc->n;
    int ret;

    for (size_t i = 0; i < n; i++)
        if (processors_managed(&pl->views[i]) && !pl->views[i].saturated &&
            (ret = processors_remove(pl, i, &pl->views[i])) < 0)
            return ret;
    if ((ret = processors_find_carry(pl)) < 0)
        return ret;
    for (size_t i = 0; i < n; i++) {
        const struct plan_view *v = &pl->views[i];
        if (v->scratch_processors == v->processors && processors_may_add(v) &&
            (ret = processors_add(pl, i, v)) < 0)
            return ret;
    }
    return 0;
}
