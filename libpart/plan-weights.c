/* The planner's weight rule (IRD): within each cluster, weight moves from
 * partitions that do not use their entitlement to those that use more
 * (receivers take from donors), and back to the partitions that lent it
 * once they use all of theirs (lenders take back from holders). Weight
 * moves in pairs, so each cluster's total is conserved. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "plan-internal.h"

/* Whether the weight rule manages v's partition: its newest sample at
 * least is valid (weight goes back to the profile's on it alone). */
static bool weights_managed(const struct plan_view *v)
{
    return v->fresh[PART_SET_WEIGHT] && v->mode == PART_MODE_SHARED && v->entitlement > EPS &&
           plan_in_bounds(v->weight, v->weight_min, v->weight_max);
}

static unsigned weights_min(unsigned a, unsigned b)
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
struct weights_side {
    const struct plan_view *v;
    unsigned want;  /* the most it takes or gives */
    unsigned moved; /* what it takes or gives in this plan */
    /* set by weights_move(): its flows (flow, flows) and, once needed,
     * how it is described in the reasons of the other side (desc,
     * desc_len) */
    size_t flow, flows;
    char *desc;
    size_t desc_len;
};

/* The two orders of a transfer's sides, most first by key, then by name. */
static int weights_cmp_key(double ka, double kb, const struct weights_side *a,
                           const struct weights_side *b)
{
    return ka > kb ? -1 : ka < kb ? 1 : plan_view_cmp_name(a->v, b->v);
}

/* Receivers: the most starved first (demand / entitlement). */
static int weights_cmp_receiver(const void *x, const void *y)
{
    const struct weights_side *a = x, *b = y;
    return weights_cmp_key(a->v->demand / a->v->entitlement, b->v->demand / b->v->entitlement, a,
                           b);
}

/* Donors: the most slack relative to entitlement first. */
static int weights_cmp_donor(const void *x, const void *y)
{
    const struct weights_side *a = x, *b = y;
    return weights_cmp_key(1 - a->v->demand / a->v->entitlement,
                           1 - b->v->demand / b->v->entitlement, a, b);
}

/* Lenders first: the most weight lent, relative to the profile's. */
static int weights_cmp_lender(const void *x, const void *y)
{
    const struct weights_side *a = x, *b = y;
    return weights_cmp_key(1 - (double)a->v->weight / a->v->weight_initial,
                           1 - (double)b->v->weight / b->v->weight_initial, a, b);
}

/* Holders first: the most weight borrowed, relative to the profile's. */
static int weights_cmp_holder(const void *x, const void *y)
{
    const struct weights_side *a = x, *b = y;
    return weights_cmp_key((double)a->v->weight / a->v->weight_initial,
                           (double)b->v->weight / b->v->weight_initial, a, b);
}

/* Sets what each taker (t, nt of them) takes and each giver (g, ng) gives,
 * as above; returns the total that moves. */
static unsigned weights_apportion(struct weights_side *t, size_t nt, struct weights_side *g,
                                  size_t ng)
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

/* A transfer to demand (receivers from donors), or back (lenders from
 * holders). */
enum weights_kind { TO_DEMAND, BACK };

/* Longest description of a partition in a reason, with its NUL. */
#define DESC_MAX 160

/* One flow of a transfer: taker t[t] takes from giver g[g]. */
struct weights_flow {
    size_t t, g;
};

/* One transfer: its kind, its takers and givers, and the flows between
 * them. */
struct weights_transfer {
    enum weights_kind kind;
    bool contended;
    struct weights_side *t, *g;
    size_t nt, ng;
    struct weights_flow *f;
};

/* The weight a side of a transfer ends at. */
static unsigned weights_to(bool taker, const struct weights_side *s)
{
    unsigned weight = s->v->p->weight;
    return taker ? weight + s->moved : weight - s->moved;
}

/* Why a partition under its profile's weight takes it back. */
static const char *weights_why_back(const struct plan_view *v, bool contended)
{
    if (v->saturated)
        return "all of its online processors busy: its demand is hidden";
    if (contended)
        return "the pool is short";
    if (v->demand >= v->entitlement * 0.9)
        return "uses all of its entitlement";
    return "a cap holds the weight it lent";
}

/* How a partition on the other side of a transfer is described in a
 * reason: "batch (demand 1.00 < entitlement 8.00): 400 -> 350". */
static void weights_describe(char *buf, size_t len, enum weights_kind kind, bool taker,
                             const struct weights_side *s, bool contended)
{
    const struct part_partition *p = s->v->p;
    unsigned to = weights_to(taker, s);
    if (kind == TO_DEMAND)
        text_format(buf, len, "%s (demand %.2f %s entitlement %.2f): %u -> %u", plan_name(p),
                    s->v->demand, taker ? ">" : "<", s->v->entitlement, p->weight, to);
    else if (taker)
        text_format(buf, len,
                    "%s (%s; use %.2f, entitlement %.2f at weight %u under its profile's %u): "
                    "%u -> %u",
                    plan_name(p), weights_why_back(s->v, contended), s->v->used_newest,
                    s->v->entitlement, p->weight, s->v->weight_initial, p->weight, to);
    else
        text_format(buf, len, "%s (weight %u over its profile's %u): %u -> %u", plan_name(p),
                    p->weight, s->v->weight_initial, p->weight, to);
}

/* The first part of the reason of one side of a transfer, up to the
 * partitions on the other side; returns where it ends. */
static size_t weights_reason_start(const struct planner *pl, enum weights_kind kind, bool taker,
                                   const struct weights_side *s, char *reason, size_t len)
{
    const struct part_partition *p = s->v->p;
    unsigned k = pl->pol->samples, to = weights_to(taker, s);
    size_t at = 0;
    if (kind == TO_DEMAND)
        text_append(reason, len, &at,
                    "%s: demand %.2f %s entitlement %.2f for %u samples; weight %u -> %u, %s ",
                    plan_name(p), s->v->demand, taker ? ">" : "<", s->v->entitlement, k, p->weight,
                    to, taker ? "taken from" : "given to");
    else if (taker)
        text_append(reason, len, &at,
                    "%s: %s (use %.2f, entitlement %.2f), at weight %u under its profile's %u; "
                    "weight %u -> %u, taken back from ",
                    plan_name(p), weights_why_back(s->v, pl->contended), s->v->used_newest,
                    s->v->entitlement, p->weight, s->v->weight_initial, p->weight, to);
    else
        text_append(reason, len, &at,
                    "%s: weight %u over its profile's %u; weight %u -> %u, "
                    "given back to ",
                    plan_name(p), p->weight, s->v->weight_initial, p->weight, to);
    return at;
}

/* Ends the reason of one side (s) of transfer x, from at: the partitions
 * on the other side it moved weight with, as many as fit, each described
 * once per transfer however many reasons name it. */
static void weights_reason_partners(const struct weights_transfer *x, bool taker,
                                    const struct weights_side *s, char *reason, size_t len,
                                    size_t at)
{
    size_t named = 0, more = 0;
    for (size_t k = s->flow; k < s->flow + s->flows; k++) {
        struct weights_side *theirs = taker ? &x->g[x->f[k].g] : &x->t[x->f[k].t];
        /* room for this one, and for " and 99 more" after it */
        if (more == 0) {
            if (!theirs->desc_len) {
                weights_describe(theirs->desc, DESC_MAX, x->kind, !taker, theirs, x->contended);
                theirs->desc_len = strlen(theirs->desc);
            }
            if (at + theirs->desc_len + 2 + 14 < len) {
                if (named) {
                    memcpy(reason + at, ", ", 2);
                    at += 2;
                }
                memcpy(reason + at, theirs->desc, theirs->desc_len + 1);
                at += theirs->desc_len;
                named++;
                continue;
            }
        }
        more++;
    }
    if (more)
        text_append(reason, len, &at, " and %zu more", more);
}

/* The action of one side (s) of transfer x, and its scratch weight. */
static int weights_transfer_action(struct planner *pl, const struct weights_transfer *x, bool taker,
                                   const struct weights_side *s)
{
    const struct part_partition *p = s->v->p;
    size_t i = plan_view_index(pl, s->v);
    unsigned to = weights_to(taker, s);
    /* The scratch first: its first copy is then allocated before the
     * actions grow, below them, and freeing it at the end of the plan does
     * not shrink the heap that the next plan would grow again, page by
     * page (12 times the time of a plan at 100 partitions). */
    if (scratch_set_weight(pl, i, to) < 0)
        return -ENOMEM;
    struct part_action *a = plan_action_new(pl, p, i, PART_SET_WEIGHT, p->weight, to, false);
    if (!a)
        return -ENOMEM;
    size_t at = weights_reason_start(pl, x->kind, taker, s, a->reason, sizeof(a->reason));
    weights_reason_partners(x, taker, s, a->reason, sizeof(a->reason), at);
    return 0;
}

/* The flows of x, walked once: taker ti takes from giver gi until one is
 * done; each side's flows are consecutive (flow, flows). */
static void weights_flows(struct weights_transfer *x)
{
    struct weights_side *t = x->t, *g = x->g;
    size_t ti = 0, gi = 0, nf = 0;
    unsigned tl = t[0].moved, gl = g[0].moved;
    while (ti < x->nt && gi < x->ng) {
        if (tl == 0) {
            if (++ti < x->nt)
                tl = t[ti].moved;
            continue;
        }
        if (gl == 0) {
            if (++gi < x->ng)
                gl = g[gi].moved;
            continue;
        }
        unsigned m = tl < gl ? tl : gl;
        tl -= m, gl -= m;
        if (!t[ti].flows++)
            t[ti].flow = nf;
        if (!g[gi].flows++)
            g[gi].flow = nf;
        x->f[nf++] = (struct weights_flow){.t = ti, .g = gi};
    }
}

/* Apportions, then adds the actions of every side that moved: takers
 * first. */
static int weights_move(struct planner *pl, enum weights_kind kind, struct weights_side *t,
                        size_t nt, struct weights_side *g, size_t ng)
{
    int ret = -ENOMEM;
    if (nt == 0 || ng == 0 || weights_apportion(t, nt, g, ng) == 0)
        return 0;
    struct weights_transfer x = {
        .kind = kind, .contended = pl->contended, .t = t, .g = g, .nt = nt, .ng = ng};
    x.f = malloc((nt + ng) * sizeof(*x.f));
    char *desc = malloc((nt + ng) * DESC_MAX);
    if (!x.f || !desc)
        goto out;
    for (size_t i = 0; i < nt; i++)
        t[i].flows = 0, t[i].desc = desc + i * DESC_MAX, t[i].desc_len = 0;
    for (size_t i = 0; i < ng; i++)
        g[i].flows = 0, g[i].desc = desc + (nt + i) * DESC_MAX, g[i].desc_len = 0;
    weights_flows(&x);
    for (size_t i = 0; i < nt; i++)
        if (t[i].moved && (ret = weights_transfer_action(pl, &x, true, &t[i])) < 0)
            goto out;
    for (size_t i = 0; i < ng; i++)
        if (g[i].moved && (ret = weights_transfer_action(pl, &x, false, &g[i])) < 0)
            goto out;
    ret = 0;
out:
    free(x.f);
    free(desc);
    return ret;
}

/* What a receiver wants: the weight that brings its entitlement to its
 * demand plus a dead-band (its use is a floor of its demand: what it gets
 * beyond its entitlement is on loan from partitions that do not use
 * theirs), at the current weight per processor of entitlement, at least
 * 1; within its room to its max and the step. */
static unsigned weights_receiver_wants(const struct planner *pl, const struct plan_view *r)
{
    double ratio = r->demand * (1 + pl->pol->deadband) / r->entitlement;
    unsigned need = (unsigned)fmax(1, ceil(r->weight * (ratio - 1) - EPS));
    return weights_min(need, weights_min(pl->pol->weight_step, r->weight_max - r->weight));
}

/* What a donor offers: what it does not need, keeping its entitlement half
 * a dead-band above its demand (landing on the demand itself would look
 * like a partition using all of its entitlement, which may reclaim weight,
 * below), at least 1; within its room to its min and the step. */
static unsigned weights_donor_offers(const struct planner *pl, const struct plan_view *d)
{
    double keep = 1 - pl->pol->deadband / 2;
    unsigned spare =
        (unsigned)fmax(1, floor(d->weight * (1 - d->demand / (d->entitlement * keep)) + EPS));
    return weights_min(spare, weights_min(pl->pol->weight_step, d->weight - d->weight_min));
}

/* What a weight-managed partition that may change weight is in its
 * cluster (see weights_cluster()). */
enum weights_role { NEITHER, RECEIVER, DONOR, LENDER, HOLDER };

/*
 * Receivers (K samples over entitlement) and donors (quiet over the whole
 * stabilization window, and not saturated) only while the pool has room:
 * in a short pool, weight moved skews the split. Lenders take back on the
 * newest sample alone when it is saturated (its demand hidden behind its
 * processors) or in a short pool, on K samples when it uses all of its
 * entitlement.
 */
static enum weights_role weights_role(const struct planner *pl, const struct plan_view *v)
{
    double db = pl->pol->deadband;
    bool k = v->changeable[PART_SET_WEIGHT] && v->cpu_valid;
    if (!pl->contended && k && v->used_min > v->entitlement * (1 + db) && v->weight < v->weight_max)
        return RECEIVER;
    if (!pl->contended && k && v->calm_valid &&
        v->calm_util_max < (1 + pl->pol->processors_high) / 2 &&
        v->calm_used_max < v->entitlement * (1 - db) && v->weight > v->weight_min)
        return DONOR;
    if (v->weight < v->weight_initial &&
        (v->saturated || pl->contended || (k && v->used_min >= v->entitlement * (1 - db / 4))))
        return LENDER;
    if (v->weight > v->weight_initial)
        return HOLDER;
    return NEITHER;
}

/* Whether a cap (the profile's, or one defined capacity set) holds v's
 * partition, which uses all of it: weight over its profile's does it no
 * good, and goes back to those under theirs. */
static bool weights_capped_holder(const struct planner *pl, const struct plan_view *v)
{
    return v->weight > v->weight_initial && v->cap != PART_CAP_NONE &&
           v->used_newest >= v->cap * (1 - pl->pol->deadband);
}

/* The sides of one cluster, by role (NEITHER's unused): receivers and
 * lenders in one array, donors and holders in another, each with room for
 * the most members a cluster has. */
struct weights_sides {
    struct weights_side *of[HOLDER + 1];
    size_t n[HOLDER + 1];
};

static void weights_side_add(struct weights_sides *s, enum weights_role role,
                             const struct plan_view *v)
{
    s->of[role][s->n[role]++] = (struct weights_side){.v = v};
}

/* One cluster: its weight-managed partitions (members, m of them, in CPC
 * order; r and d have room for 2 * most, most >= m). Receivers take from
 * donors, the most starved and the most slack first. Then partitions that
 * lent weight and now use all of their entitlement take it back, up to
 * their profile's weight, from those holding more than their profile's: in
 * a pool where everyone is held to their entitlement, use cannot exceed
 * entitlement and no receiver shows, so without this the weight lent while
 * idle would stay away for good (and the split of a short pool would not
 * be the profiles'). A receiver below its profile's weight that got
 * nothing from donors takes back too; a donor over its profile's that gave
 * nothing gives back. Each partition changes at most once. */
static int weights_cluster(struct planner *pl, const size_t *members, size_t m, size_t most,
                           struct weights_side *r, struct weights_side *d)
{
    const struct part_policy *pol = pl->pol;
    struct weights_sides s = {
        .of = {[RECEIVER] = r, [DONOR] = d, [LENDER] = r + most, [HOLDER] = d + most}};
    struct weights_side *c = s.of[LENDER], *h = s.of[HOLDER];
    int ret;

    bool restore = pl->contended;
    for (size_t k = 0; k < m; k++) {
        const struct plan_view *v = &pl->views[members[k]];
        enum weights_role role = weights_role(pl, v);
        restore |= weights_capped_holder(pl, v);
        if (role != NEITHER)
            weights_side_add(&s, role, v);
    }
    for (size_t i = 0; i < s.n[RECEIVER]; i++)
        r[i].want = weights_receiver_wants(pl, r[i].v);
    for (size_t i = 0; i < s.n[DONOR]; i++)
        d[i].want = weights_donor_offers(pl, d[i].v);
    qsort(r, s.n[RECEIVER], sizeof(*r), weights_cmp_receiver);
    qsort(d, s.n[DONOR], sizeof(*d), weights_cmp_donor);
    if ((ret = weights_move(pl, TO_DEMAND, r, s.n[RECEIVER], d, s.n[DONOR])) < 0)
        return ret;
    for (size_t i = 0; i < s.n[RECEIVER]; i++)
        if (r[i].moved == 0 && r[i].v->weight < r[i].v->weight_initial)
            weights_side_add(&s, LENDER, r[i].v);
    for (size_t i = 0; i < s.n[DONOR]; i++)
        if (d[i].moved == 0 && d[i].v->weight > d[i].v->weight_initial)
            weights_side_add(&s, HOLDER, d[i].v);
    /* in a short pool, or with a cap holding weight, every partition under
     * its profile's weight that gave none takes back */
    for (size_t i = 0; restore && i < s.n[DONOR]; i++)
        if (d[i].moved == 0 && d[i].v->weight < d[i].v->weight_initial)
            weights_side_add(&s, LENDER, d[i].v);
    for (size_t k = 0; restore && k < m; k++) {
        const struct plan_view *v = &pl->views[members[k]];
        if (v->weight < v->weight_initial && weights_role(pl, v) == NEITHER)
            weights_side_add(&s, LENDER, v);
    }
    for (size_t i = 0; i < s.n[LENDER]; i++)
        c[i].want = weights_min(pol->weight_step, c[i].v->weight_initial - c[i].v->weight);
    for (size_t i = 0; i < s.n[HOLDER]; i++)
        h[i].want = weights_min(pol->weight_step, h[i].v->weight - h[i].v->weight_initial);
    qsort(c, s.n[LENDER], sizeof(*c), weights_cmp_lender);
    qsort(h, s.n[HOLDER], sizeof(*h), weights_cmp_holder);
    return weights_move(pl, BACK, c, s.n[LENDER], h, s.n[HOLDER]);
}

/* Whether some partition would take weight and some give: nothing moves
 * otherwise. */
static bool weights_may_move(const struct planner *pl)
{
    bool takers = false, givers = false;
    for (size_t i = 0; i < pl->cpc->n && !(takers && givers); i++) {
        const struct plan_view *v = &pl->views[i];
        if (!weights_managed(v))
            continue;
        enum weights_role role = weights_role(pl, v);
        takers |= role == RECEIVER || role == LENDER || v->weight < v->weight_initial;
        givers |= role == DONOR || role == HOLDER;
    }
    return takers && givers;
}

int plan_weights(struct planner *pl)
{
    size_t n = pl->cpc->n, ncl, no = 0, most = 0;
    size_t *start = NULL, *at = NULL, *order = NULL, *members = NULL, *of = NULL;
    struct weights_side *r = NULL, *d = NULL;
    int ret = -ENOMEM;

    if (!weights_may_move(pl))
        return 0;
    if (clusters_find(&pl->clusters, pl->views, n) < 0)
        return -ENOMEM;
    ncl = pl->clusters.n;
    of = pl->clusters.of;
    /* the weight-managed members of each cluster, in CPC order: cluster c's
     * are members[start[c]] to members[start[c + 1] - 1] */
    start = calloc(ncl + 2, sizeof(*start));
    at = malloc((ncl + 1) * sizeof(*at));
    order = malloc((ncl + 1) * sizeof(*order));
    if (!start || !at || !order)
        goto out;
    /* each cluster once, in the order of its first weight-managed member
     * (those are active and shared: each has a cluster) */
    for (size_t i = 0; i < n; i++)
        if (weights_managed(&pl->views[i]) && start[of[i] + 1]++ == 0)
            order[no++] = of[i];
    for (size_t c = 0; c < ncl; c++) {
        most = start[c + 1] > most ? start[c + 1] : most;
        start[c + 1] += start[c];
        at[c] = start[c];
    }
    /* receivers and lenders in r, donors and holders in d, most of each */
    members = malloc((start[ncl] + 1) * sizeof(*members));
    r = malloc((2 * most + 1) * sizeof(*r));
    d = malloc((2 * most + 1) * sizeof(*d));
    if (!members || !r || !d)
        goto out;
    for (size_t i = 0; i < n; i++)
        if (weights_managed(&pl->views[i]))
            members[at[of[i]]++] = i;
    for (size_t k = 0; k < no; k++) {
        size_t c = order[k], m = start[c + 1] - start[c];
        if ((ret = weights_cluster(pl, members + start[c], m, most, r, d)) < 0)
            goto out;
    }
    ret = 0;
out:
    free(r);
    free(d);
    free(start);
    free(at);
    free(members);
    free(order);
    return ret;
}
