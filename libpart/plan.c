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

/* Weight moves, pooled per cluster. Takers (receivers, or lenders taking
 * back) and givers (donors, or holders giving back) each state the most
 * they take or give in this plan; what moves is the least of the two
 * totals. When the givers have less than the takers want, every taker gets
 * the same fraction of what it wants: partitions contending for the pool
 * at the same water level want weight in proportion to their weight, so
 * their ratios, and the split between them, stay as they were. Givers give
 * in order, each up to what it offers. A partition may so take from
 * several givers, and give to several takers, in one action. */
struct side {
    const struct judge *j;
    unsigned want;  /* the most it takes or gives */
    unsigned moved; /* what it takes or gives in this plan */
};

static unsigned share(struct side *t, size_t nt, struct side *g, size_t ng)
{
    uint64_t need = 0, supply = 0, total, given = 0;
    for (size_t i = 0; i < nt; i++)
        need += t[i].want;
    for (size_t i = 0; i < ng; i++)
        supply += g[i].want;
    total = need < supply ? need : supply;
    for (size_t i = 0; i < nt; i++) {
        t[i].moved = total == need ? t[i].want : (unsigned)(t[i].want * total / need);
        given += t[i].moved;
    }
    /* the remainder of the rounding, a unit at a time in the takers' order */
    for (size_t i = 0; given < total; i = (i + 1) % nt)
        if (t[i].moved < t[i].want) {
            t[i].moved++;
            given++;
        }
    for (size_t i = 0; i < ng; i++) {
        g[i].moved = given < g[i].want ? (unsigned)given : g[i].want;
        given -= g[i].moved;
    }
    return (unsigned)total;
}

/* Appends to buf, at *at, as much of printf's output as fits. */
__attribute__((format(printf, 4, 5))) static void cat(char *buf, size_t len, size_t *at,
                                                      const char *fmt, ...)
{
    va_list ap;
    if (*at >= len)
        return;
    va_start(ap, fmt);
    int r = vsnprintf(buf + *at, len - *at, fmt, ap);
    va_end(ap);
    *at = r < 0 ? len : *at + (size_t)r;
}

enum transfer { TO_DEMAND, BACK };

/* How a partition on the other side of a transfer is described in a
 * reason: "batch (demand 1.00 < entitlement 8.00): 400 -> 350". */
static void describe(char *buf, size_t len, enum transfer kind, bool taker, const struct side *s)
{
    const struct part_partition *p = s->j->p;
    unsigned to = taker ? p->weight + s->moved : p->weight - s->moved;
    if (kind == TO_DEMAND)
        snprintf(buf, len, "%s (demand %.2f %s entitlement %.2f): %u -> %u", name_of(p),
                 s->j->demand, taker ? ">" : "<", p->entitlement, p->weight, to);
    else if (taker)
        snprintf(buf, len,
                 "%s (demand %.2f uses all of entitlement %.2f at weight %u under its "
                 "profile's %u): %u -> %u",
                 name_of(p), s->j->demand, p->entitlement, p->weight, p->profile->weight_initial,
                 p->weight, to);
    else
        snprintf(buf, len, "%s (weight %u over its profile's %u): %u -> %u", name_of(p), p->weight,
                 p->profile->weight_initial, p->weight, to);
}

/* The action of one side of a transfer: its reason names the partitions
 * on the other side it moved weight with (as many as fit). Flows pair
 * takers and givers in order, as share() filled them. */
static int transfer_action(struct planner *pl, enum transfer kind, bool taker, const struct side *s,
                           const struct side *t, size_t nt, const struct side *g, size_t ng)
{
    const struct part_partition *p = s->j->p;
    const struct part_profile *pp = p->profile;
    unsigned k = pl->pol->samples, to = taker ? p->weight + s->moved : p->weight - s->moved;
    char reason[sizeof(((struct part_action *)0)->reason)], who[160];
    size_t at = 0, named = 0, more = 0;

    if (kind == TO_DEMAND)
        cat(reason, sizeof(reason), &at,
            "%s: demand %.2f %s entitlement %.2f for %u samples; weight %u -> %u, %s ", name_of(p),
            s->j->demand, taker ? ">" : "<", p->entitlement, k, p->weight, to,
            taker ? "taken from" : "given to");
    else if (taker)
        cat(reason, sizeof(reason), &at,
            "%s: demand %.2f uses all of entitlement %.2f for %u samples, at weight %u under "
            "its profile's %u; weight %u -> %u, taken back from ",
            name_of(p), s->j->demand, p->entitlement, k, p->weight, pp->weight_initial, p->weight,
            to);
    else
        cat(reason, sizeof(reason), &at,
            "%s: weight %u over its profile's %u; weight %u -> %u, "
            "given back to ",
            name_of(p), p->weight, pp->weight_initial, p->weight, to);

    /* walk the flows: taker ti takes from giver gi until one is done */
    size_t ti = 0, gi = 0;
    unsigned tl = nt ? t[0].moved : 0, gl = ng ? g[0].moved : 0;
    while (ti < nt && gi < ng) {
        if (tl == 0) {
            if (++ti < nt)
                tl = t[ti].moved;
            continue;
        }
        if (gl == 0) {
            if (++gi < ng)
                gl = g[gi].moved;
            continue;
        }
        unsigned x = tl < gl ? tl : gl;
        const struct side *mine = taker ? &t[ti] : &g[gi], *theirs = taker ? &g[gi] : &t[ti];
        tl -= x, gl -= x;
        if (mine != s)
            continue;
        describe(who, sizeof(who), kind, !taker, theirs);
        /* room for this one, and for " and 99 more" after it */
        if (more == 0 && at + strlen(who) + 2 + 14 < sizeof(reason)) {
            cat(reason, sizeof(reason), &at, "%s%s", named ? ", " : "", who);
            named++;
        } else {
            more++;
        }
    }
    if (more)
        cat(reason, sizeof(reason), &at, " and %zu more", more);
    /* for what comes after in this plan: processors to carry entitlements */
    pl->scratch_parts[judge_index(pl, s->j)]->weight = to;
    return plan_add(pl->plan, p, PART_SET_WEIGHT, p->weight, to, false, "%s", reason);
}

/* Shares, then adds the actions of every side that moved: takers first. */
static int transfer(struct planner *pl, enum transfer kind, struct side *t, size_t nt,
                    struct side *g, size_t ng)
{
    int ret;
    if (nt == 0 || ng == 0 || share(t, nt, g, ng) == 0)
        return 0;
    for (size_t i = 0; i < nt; i++)
        if (t[i].moved && (ret = transfer_action(pl, kind, true, &t[i], t, nt, g, ng)) < 0)
            return ret;
    for (size_t i = 0; i < ng; i++)
        if (g[i].moved && (ret = transfer_action(pl, kind, false, &g[i], t, nt, g, ng)) < 0)
            return ret;
    return 0;
}

/* What a receiver wants: the weight that brings its entitlement to its
 * demand plus a dead-band (its use is a floor of its demand: what it gets
 * beyond its entitlement is on loan from partitions that do not use
 * theirs), at the current weight per processor of entitlement, at least
 * 1; within its room to its max and the step. */
static unsigned receiver_wants(const struct planner *pl, const struct judge *r)
{
    const struct part_partition *p = r->p;
    double ratio = r->demand * (1 + pl->pol->deadband) / p->entitlement;
    unsigned need = (unsigned)fmax(1, ceil(p->weight * (ratio - 1) - EPS));
    return umin(need, umin(pl->pol->weight_step, p->profile->weight_max - p->weight));
}

/* What a donor offers: what it does not need, keeping its entitlement half
 * a dead-band above its demand (landing on the demand itself would look
 * like a partition using all of its entitlement, which may reclaim weight,
 * below), at least 1; within its room to its min and the step. */
static unsigned donor_offers(const struct planner *pl, const struct judge *d)
{
    const struct part_partition *p = d->p;
    double keep = 1 - pl->pol->deadband / 2;
    unsigned spare =
        (unsigned)fmax(1, floor(p->weight * (1 - d->demand / (p->entitlement * keep)) + EPS));
    return umin(spare, umin(pl->pol->weight_step, p->weight - p->profile->weight_min));
}

/* Lenders first: the most weight lent, relative to the profile's. */
static int cmp_lender(const void *x, const void *y)
{
    const struct side *sa = x, *sb = y;
    const struct judge *a = sa->j, *b = sb->j;
    double la = 1 - (double)a->p->weight / a->p->profile->weight_initial;
    double lb = 1 - (double)b->p->weight / b->p->profile->weight_initial;
    return la > lb ? -1 : la < lb ? 1 : cmp_name(a, b);
}

/* Holders first: the most weight borrowed, relative to the profile's. */
static int cmp_holder(const void *x, const void *y)
{
    const struct side *sa = x, *sb = y;
    const struct judge *a = sa->j, *b = sb->j;
    double ha = (double)a->p->weight / a->p->profile->weight_initial;
    double hb = (double)b->p->weight / b->p->profile->weight_initial;
    return ha > hb ? -1 : ha < hb ? 1 : cmp_name(a, b);
}

static int cmp_receiver_side(const void *x, const void *y)
{
    return cmp_receiver(&((const struct side *)x)->j, &((const struct side *)y)->j);
}

static int cmp_donor_side(const void *x, const void *y)
{
    return cmp_donor(&((const struct side *)x)->j, &((const struct side *)y)->j);
}

/* One cluster: the managed shared partitions of group (the ungrouped ones
 * when group is ""). Receivers take from donors, the most starved and the
 * most slack first. Then partitions that lent weight and now use all of
 * their entitlement take it back, up to their profile's weight, from those
 * holding more than their profile's: in a pool where everyone is held to
 * their entitlement, use cannot exceed entitlement and no receiver shows,
 * so without this the weight lent while idle would stay away for good
 * (and the split of a short pool would not be the profiles'). A receiver
 * below its profile's weight that got nothing from donors takes back too;
 * a donor over its profile's that gave nothing gives back. Each partition
 * changes at most once. */
static int weight_cluster(struct planner *pl, const char *group, struct side *r, struct side *d)
{
    const struct part_policy *pol = pl->pol;
    size_t nr = 0, nd = 0, nc = 0, nh = 0, n = pl->cpc->n;
    struct side *c = r + n, *h = d + n;
    int ret;

    for (size_t i = 0; i < n; i++) {
        const struct judge *j = &pl->j[i];
        const struct part_partition *p = j->p;
        const struct part_profile *pp = p->profile;
        if (!weight_managed(j) || strcmp(pp->group, group) != 0 ||
            !may_change(pl, j, PART_SET_WEIGHT, pol->cooldown_weight))
            continue;
        if (j->used_min > p->entitlement * (1 + pol->deadband) && p->weight < pp->weight_max)
            r[nr++] = (struct side){.j = j};
        else if (j->used_max < p->entitlement * (1 - pol->deadband) && p->weight > pp->weight_min)
            d[nd++] = (struct side){.j = j};
        else if (j->used_min >= p->entitlement * (1 - pol->deadband / 4) &&
                 p->weight < pp->weight_initial)
            c[nc++] = (struct side){.j = j};
        else if (p->weight > pp->weight_initial)
            h[nh++] = (struct side){.j = j};
    }
    for (size_t i = 0; i < nr; i++)
        r[i].want = receiver_wants(pl, r[i].j);
    for (size_t i = 0; i < nd; i++)
        d[i].want = donor_offers(pl, d[i].j);
    qsort(r, nr, sizeof(*r), cmp_receiver_side);
    qsort(d, nd, sizeof(*d), cmp_donor_side);
    if ((ret = transfer(pl, TO_DEMAND, r, nr, d, nd)) < 0)
        return ret;
    for (size_t i = 0; i < nr; i++)
        if (r[i].moved == 0 && r[i].j->p->weight < r[i].j->p->profile->weight_initial)
            c[nc++] = (struct side){.j = r[i].j};
    for (size_t i = 0; i < nd; i++)
        if (d[i].moved == 0 && d[i].j->p->weight > d[i].j->p->profile->weight_initial)
            h[nh++] = (struct side){.j = d[i].j};
    for (size_t i = 0; i < nc; i++)
        c[i].want = umin(pol->weight_step, c[i].j->p->profile->weight_initial - c[i].j->p->weight);
    for (size_t i = 0; i < nh; i++)
        h[i].want = umin(pol->weight_step, h[i].j->p->weight - h[i].j->p->profile->weight_initial);
    qsort(c, nc, sizeof(*c), cmp_lender);
    qsort(h, nh, sizeof(*h), cmp_holder);
    return transfer(pl, BACK, c, nc, h, nh);
}

static int plan_weights(struct planner *pl)
{
    size_t n = pl->cpc->n;
    /* receivers and lenders in r, donors and holders in d, n of each */
    struct side *r = calloc(2 * n + 1, sizeof(*r)), *d = calloc(2 * n + 1, sizeof(*d));
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

/*
 * How many processors a partition using at least `high` of its n online
 * ones in every sample should have: enough for its largest use of the K
 * samples to sit at `high`, at least one more. When every sample is at
 * least halfway from `high` to 1, every processor is busy and the demand
 * cannot show past them: half as many again (rounded up), the way a
 * window grows while nothing says how far to go. Never past reserved, nor
 * past the running cap rounded up.
 */
static unsigned processors_wanted(const struct part_policy *pol, const struct judge *j)
{
    const struct part_partition *p = j->p;
    unsigned n = p->processors, to = n + 1;
    if (j->util_min >= (1 + pol->processors_high) / 2)
        to = n + (n + 1) / 2;
    else if (ceil(j->used_max / pol->processors_high - EPS) > to)
        to = (unsigned)ceil(j->used_max / pol->processors_high - EPS);
    if (to > p->profile->proc_reserved)
        to = p->profile->proc_reserved;
    if (p->cap != PART_CAP_NONE && to > ceil(p->cap - EPS))
        to = (unsigned)ceil(p->cap - EPS);
    return to;
}

/* Whether j's partition uses all of its entitlement in each of the K
 * samples: it may want more than it shows. */
static bool uses_all(const struct planner *pl, const struct judge *j)
{
    return j->p->entitlement > EPS &&
           j->used_min >= j->p->entitlement * (1 - pl->pol->deadband / 4);
}

/* Whether processor management may add to j's partition now. */
static bool may_add(const struct planner *pl, const struct judge *j)
{
    const struct part_partition *p = j->p;
    return j->cpu && p->profile->mode == PART_MODE_SHARED &&
           within(p->processors, p->profile->proc_min, p->profile->proc_reserved) &&
           p->processors < p->profile->proc_reserved && below_cap(p) &&
           may_change(pl, j, PART_SET_PROCESSORS, pl->pol->cooldown_processors);
}

/* carry[i]: the entitlement of each partition that uses all of its own and
 * may get processors, at the weights of the plan so far, if all of them
 * had their reserved processors online (0 for the others). One
 * computation for all: what each would get with only itself at reserved
 * is at least that. Only partitions whose entitlement is near what their
 * online processors run at `high`, or whose weight this plan raises, can
 * gain: raising a limit that does not bind changes no share, and the
 * others' raised limits only lower it. Returns -ENOMEM. */
static int entitlements_to_carry(struct planner *pl, double *carry)
{
    size_t n = pl->cpc->n, candidates = 0;
    unsigned *was = calloc(n + 1, sizeof(*was));
    if (!was)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        struct part_partition *s = pl->scratch_parts[i];
        const struct judge *j = &pl->j[i];
        was[i] = s->processors;
        carry[i] = 0;
        /* not one this plan removes a processor from */
        if (uses_all(pl, j) && may_add(pl, j) && s->processors == j->p->processors &&
            (j->p->entitlement > j->p->processors * pl->pol->processors_high - EPS ||
             s->weight > j->p->weight)) {
            s->processors = s->profile->proc_reserved;
            candidates++;
        }
    }
    if (candidates == 0) {
        free(was);
        return 0;
    }
    part_cpc_compute(&pl->scratch);
    for (size_t i = 0; i < n; i++) {
        struct part_partition *s = pl->scratch_parts[i];
        carry[i] = s->processors != was[i] ? s->entitlement : 0;
        s->processors = was[i];
    }
    part_cpc_compute(&pl->scratch);
    free(was);
    return 0;
}

static int plan_processors(struct planner *pl)
{
    const struct part_policy *pol = pl->pol;
    unsigned k = pol->samples;
    double *carry = calloc(pl->cpc->n + 1, sizeof(*carry));
    int ret = -ENOMEM;

    if (!carry)
        return ret;

    /* removals first: they free room that additions may need */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1 && (ret = entitlements_to_carry(pl, carry)) < 0)
            goto out;
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
                    goto out;
                s->processors = n - 1;
            } else if (pass == 1 && s->processors == n && may_add(pl, j)) {
                bool high = j->util_min >= pol->processors_high;
                unsigned to = high ? processors_wanted(pol, j) : n, carry_to = n;
                /* Processors to carry the entitlement: a partition using all
                 * of it in every sample may want more than it shows, and
                 * its entitlement, with processors to run it and after this
                 * plan's weight moves (a lender taking its weight back),
                 * may be more than its online processors run at `high`. */
                double e = carry[judge_index(pl, j)];
                if (e > n * pol->processors_high + EPS)
                    carry_to = (unsigned)ceil(e / pol->processors_high - EPS);
                if (carry_to > p->profile->proc_reserved)
                    carry_to = p->profile->proc_reserved;
                if (p->cap != PART_CAP_NONE && carry_to > ceil(p->cap - EPS))
                    carry_to = (unsigned)ceil(p->cap - EPS);
                bool by_carry = carry_to > to;
                if (by_carry)
                    to = carry_to;
                /* as many as admission control lets in, down to one */
                while (to > n && part_cpc_check_resize(&pl->scratch, s, to, s->memory, NULL) < 0)
                    to--;
                if (to == n)
                    continue;
                bool busy = j->util_min >= (1 + pol->processors_high) / 2;
                if (by_carry)
                    ret = plan_add(pl->plan, p, PART_SET_PROCESSORS, n, to, false,
                                   "%s: demand %.2f uses all of entitlement %.2f for %u samples, "
                                   "and is entitled to %.2f at the weights of this plan: more "
                                   "than %u online processors run at %.2f; processors %u -> %u",
                                   name_of(p), j->demand, p->entitlement, k, e, n,
                                   pol->processors_high, n, to);
                else
                    ret = plan_add(pl->plan, p, PART_SET_PROCESSORS, n, to, false,
                                   "%s: utilisation %.2f >= %.2f of %u online processors for %u "
                                   "samples (demand %.2f); processors %u -> %u%s",
                                   name_of(p), j->util_min, pol->processors_high, n, k, j->demand,
                                   n, to,
                                   to == n + 1 ? ""
                                   : busy      ? " (all busy: half as many again)"
                                               : " (the most used of the samples at high)");
                if (ret < 0)
                    goto out;
                s->processors = to;
            }
        }
    }
    ret = 0;
out:
    free(carry);
    return ret;
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
