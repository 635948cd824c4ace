/* The simulator's dispatcher: the shared pool split as PR/SM splits it
 * (weighted max-min fair, groups first, then their members), used both for
 * what partitions are delivered (running weights) and for the target (the
 * profiles' weights); and the floor of the entitlement shortfall, what no
 * weight move could cover. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <part/cpc.h>

#include "sim.h"

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

double limit_of(const struct part_partition *p, double demand, double processors)
{
    double l = fmin(demand, processors);
    return p->cap != PART_CAP_NONE ? fmin(l, p->cap) : l;
}

static bool shared_active(const struct part_partition *p)
{
    return p->active && p->profile->mode == PART_MODE_SHARED;
}

/* The claimant (an ungrouped partition, or a group) of each partition into
 * claim[], and each claimant's cap into gcap[]; returns how many. */
static size_t claimants(const struct part_cpc *cpc, size_t *claim, double *gcap)
{
    size_t k = 0;
    for (size_t i = 0; i < cpc->n; i++) {
        const struct part_partition *p = cpc->parts[i];
        if (!shared_active(p))
            continue;
        size_t c = k;
        for (size_t j = 0; j < i && p->profile->group[0]; j++) {
            const struct part_partition *q = cpc->parts[j];
            if (shared_active(q) && strcmp(q->profile->group, p->profile->group) == 0) {
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
    }
    return k;
}

/*
 * Splits pool as PR/SM would: weighted max-min fair among the ungrouped
 * partitions and the groups (a group claims with the sum of its members'
 * weights, up to its cap), then within each group, each claimant limited
 * by limit[i]. The same two levels as part_cpc_compute(), with weights
 * (the running ones, or the profiles') and limits of the caller's choosing.
 */
void allocate(const struct part_cpc *cpc, double pool, bool profile_weights, const double *limit,
              double *out)
{
    size_t n = cpc->n;
    double *w = xcalloc(n, sizeof(double)), *lim = xcalloc(n, sizeof(double));
    double *share = xcalloc(n, sizeof(double)), *gcap = xcalloc(n, sizeof(double));
    double *mw = xcalloc(n, sizeof(double)), *ml = xcalloc(n, sizeof(double));
    double *mo = xcalloc(n, sizeof(double));
    size_t *claim = xcalloc(n, sizeof(size_t)), *idx = xcalloc(n, sizeof(size_t));
    size_t k = claimants(cpc, claim, gcap);

    for (size_t i = 0; i < n; i++) {
        const struct part_partition *p = cpc->parts[i];
        out[i] = 0;
        if (!shared_active(p))
            continue;
        w[claim[i]] += profile_weights ? p->profile->weight_initial : p->weight;
        lim[claim[i]] += limit[i];
    }
    for (size_t c = 0; c < k; c++)
        lim[c] = fmin(lim[c], gcap[c]);
    part_waterfill(k, w, lim, pool, share);
    for (size_t c = 0; c < k; c++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            const struct part_partition *p = cpc->parts[i];
            if (shared_active(p) && claim[i] == c) {
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
double jain(const double *x, size_t n)
{
    double s = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        s += x[i];
        s2 += x[i] * x[i];
    }
    return n && s2 > 0 ? s * s / (n * s2) : 1;
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
 * i's cluster; scratch has room for 4 n.
 */
double floor_of(const struct part_cpc *cpc, const size_t *cluster, const double *target,
                const double *ce, double *scratch)
{
    size_t n = cpc->n;
    double *ct = scratch, *cw = scratch + n, *cover = scratch + 2 * n, *waste = scratch + 3 * n;
    double total = 0;
    for (size_t c = 0; c < 4 * n; c++)
        scratch[c] = 0;
    for (size_t i = 0; i < n; i++) {
        const struct part_partition *p = cpc->parts[i];
        if (!shared_active(p))
            continue;
        ct[cluster[i]] += target[i];
        cw[cluster[i]] += p->weight;
    }
    for (size_t i = 0; i < n; i++) {
        const struct part_partition *p = cpc->parts[i];
        size_t c = cluster[i];
        if (!shared_active(p) || cw[c] <= 0)
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
void cluster_entitlements(const struct part_cpc *cpc, const size_t *cluster, double *limit,
                          double *out, double *ce)
{
    for (size_t i = 0; i < cpc->n; i++) {
        const struct part_profile *pp = cpc->parts[i]->profile;
        limit[i] = pp->cap != PART_CAP_NONE ? fmin(pp->proc_reserved, pp->cap) : pp->proc_reserved;
        ce[i] = 0;
    }
    allocate(cpc, cpc->pool, true, limit, out);
    for (size_t i = 0; i < cpc->n; i++)
        ce[cluster[i]] += out[i];
}
