/* Where partitions would fit better across CPCs (fit.h): which CPCs'
 * demand exceeds their pool, and which moves would bring them within it.
 * A target must pass partd's own admission control (part_admit_verdict(),
 * on the numbers its API shows); its partd decides again when a partition
 * moves. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "part/fit.h"
#include "part/size.h"

#include "plan-internal.h" /* text_format(): reasons cut to fit, as the planner's */

/* A CPC as the suggestions so far change it. */
struct site {
    double demand;             /* of the shared pool */
    struct part_admit_sum sum; /* what admission control counts */
};

double part_fit_demand(const struct part_fit_partition *p, bool pool_busy)
{
    if (!p->active || p->dedicated || !isfinite(p->used) || p->used < 0)
        return 0;
    /* what holds it back: its processors, its cap, and in a busy pool
     * its entitlement */
    double most = p->processors;
    if (p->cap > 0 && p->cap < most)
        most = p->cap;
    double limit = pool_busy && p->entitlement > 0 ? fmin(most, p->entitlement) : most;
    if (p->used < PART_FIT_BUSY * limit)
        return p->used;
    /* not its use, which may show a little more than its processors run
     * (the emulator's threads, the sampling's jitter) */
    return most;
}

static unsigned site_pool(const struct part_fit_cpc *c, const struct site *s)
{
    unsigned usable = c->cap.cpus - c->cap.host_reserved_cpus;
    return usable > s->sum.dedicated ? usable - s->sum.dedicated : 0;
}

/* Counts p (of demand d) in s, or out of it (sign -1). */
static void site_count(struct site *s, const struct part_fit_partition *p, double d, int sign)
{
    struct part_admit_sum *a = &s->sum;

    if (p->dedicated) {
        a->dedicated += sign * (int)p->processors;
    } else {
        s->demand += sign * d;
        a->shared_online += sign * (int)p->processors;
        a->shared_n += sign;
        /* the widest is kept when it leaves: an overestimate, on the safe side */
        if (sign > 0 && p->processors > a->shared_max)
            a->shared_max = p->processors;
    }
    a->mem += sign * (int64_t)p->memory;
    a->mem_min += sign * (int64_t)p->memory_min;
}

/* Sets each site up from its CPC's active partitions, with their demand
 * into demands[i][j]. */
static void sites_init(const struct part_fit_cpc *cpcs, size_t n, struct site *sites,
                       double **demands)
{
    for (size_t i = 0; i < n; i++) {
        const struct part_fit_cpc *c = &cpcs[i];
        double used = 0;
        unsigned dedicated = 0;
        for (size_t j = 0; j < c->n; j++) {
            const struct part_fit_partition *p = &c->parts[j];
            if (p->active && p->dedicated)
                dedicated += p->processors;
            else if (p->active && isfinite(p->used) && p->used > 0)
                used += p->used;
        }
        unsigned usable = c->cap.cpus - c->cap.host_reserved_cpus;
        unsigned pool = usable > dedicated ? usable - dedicated : 0;
        bool busy = pool > 0 && used >= PART_FIT_POOL_BUSY * pool;
        for (size_t j = 0; j < c->n; j++) {
            demands[i][j] = part_fit_demand(&c->parts[j], busy);
            if (c->parts[j].active)
                site_count(&sites[i], &c->parts[j], demands[i][j], 1);
        }
    }
}

/* Whether a partition named name is defined on CPC k, or moves there. */
static bool name_taken(const struct part_fit_cpc *cpcs, size_t k, const char *name,
                       const struct part_fit *pl)
{
    for (size_t j = 0; j < cpcs[k].n; j++)
        if (strcmp(cpcs[k].parts[j].name, name) == 0)
            return true;
    for (size_t m = 0; m < pl->n_moves; m++)
        if (pl->moves[m].to == k &&
            strcmp(cpcs[pl->moves[m].from].parts[pl->moves[m].part].name, name) == 0)
            return true;
    return false;
}

/* Whether CPC c, as s has it, admits p of demand d: partd's admission
 * control, and room in its pool for the demand. */
static bool site_admits(const struct part_fit_cpc *c, const struct site *s,
                        const struct part_fit_partition *p, double d)
{
    struct site t = *s;
    site_count(&t, p, d, 1);
    return part_admit_verdict(&c->cap, p->name, &t.sum, "move", NULL) == 0 &&
           t.demand <= site_pool(c, &t) + EPS;
}

/* The reachable CPC other than from with the most room left that admits
 * p, or n when none. */
static size_t best_target(const struct part_fit_cpc *cpcs, size_t n, const struct site *sites,
                          size_t from, const struct part_fit_partition *p, double d,
                          const struct part_fit *pl)
{
    size_t best = n;
    double best_room = -INFINITY;

    for (size_t k = 0; k < n; k++) {
        if (k == from || !cpcs[k].reachable || name_taken(cpcs, k, p->name, pl) ||
            !site_admits(&cpcs[k], &sites[k], p, d))
            continue;
        double room = site_pool(&cpcs[k], &sites[k]) - sites[k].demand;
        if (room > best_room + EPS) {
            best = k;
            best_room = room;
        }
    }
    return best;
}

/* What moving p relieves its pool of: its demand, or the processors a
 * dedicated one gives back to the pool. */
static double relief(const struct part_fit_partition *p, double d)
{
    return p->dedicated ? p->processors : d;
}

static void move_reason(const struct part_fit_cpc *cpcs, const struct site *sites,
                        struct part_fit_move *m, double excess)
{
    const struct part_fit_cpc *src = &cpcs[m->from], *dst = &cpcs[m->to];
    const struct part_fit_partition *p = &src->parts[m->part];
    const struct site *t = &sites[m->to];
    char a[32], b[32], c[32];

    part_size_format(p->memory, a, sizeof(a));
    part_size_format(t->sum.mem, b, sizeof(b));
    part_size_format((uint64_t)((double)(dst->cap.memory - dst->cap.host_reserved_memory) *
                                dst->cap.memory_overcommit),
                     c, sizeof(c));
    if (p->dedicated)
        text_format(m->reason, sizeof(m->reason),
                    "%s: demand over its pool by %.2f; %s gives back its %u dedicated processors; "
                    "%s has them free (pool %u after) and memory %s + %s within %s",
                    src->name, excess, p->name, p->processors, dst->name, site_pool(dst, t), b, a,
                    c);
    else
        text_format(m->reason, sizeof(m->reason),
                    "%s: demand over its pool by %.2f; %s (demand %.2f, %u processors) fits %s: "
                    "demand %.2f + %.2f within its pool of %u, memory %s + %s within %s",
                    src->name, excess, p->name, m->demand, p->processors, dst->name, t->demand,
                    m->demand, site_pool(dst, t), b, a, c);
}

/* The partition of CPC i to move next, and where: the smallest whose
 * relief covers excess, else the largest; returns false when none fits
 * anywhere. */
static bool pick(const struct part_fit_cpc *cpcs, size_t n, const struct site *sites,
                 double **demands, const bool *moved, size_t i, double excess,
                 const struct part_fit *pl, struct part_fit_move *ret)
{
    const struct part_fit_cpc *c = &cpcs[i];
    bool found = false, covers = false;
    double best = 0;

    for (size_t j = 0; j < c->n; j++) {
        const struct part_fit_partition *p = &c->parts[j];
        double r = relief(p, demands[i][j]);
        if (!p->active || moved[j] || r <= EPS)
            continue;
        bool cov = r >= excess - EPS;
        if (found && (covers ? !cov || r >= best - EPS : !cov && r <= best + EPS))
            continue;
        size_t to = best_target(cpcs, n, sites, i, p, demands[i][j], pl);
        if (to == n)
            continue;
        *ret = (struct part_fit_move){.from = i, .to = to, .part = j, .demand = r};
        found = true;
        covers = cov;
        best = r;
    }
    return found;
}

/* Suggests the moves that bring CPC i within its pool, as far as any do. */
static int relieve(const struct part_fit_cpc *cpcs, size_t n, struct site *sites, double **demands,
                   size_t i, struct part_fit *pl)
{
    const struct part_fit_cpc *c = &cpcs[i];
    bool *moved = calloc(c->n + 1, sizeof(*moved));
    struct part_fit_move m;

    if (!moved)
        return -ENOMEM;
    for (;;) {
        double excess = sites[i].demand - site_pool(c, &sites[i]);
        if (excess <= EPS)
            break;
        if (!pick(cpcs, n, sites, demands, moved, i, excess, pl, &m)) {
            text_format(pl->cpcs[i].note, sizeof(pl->cpcs[i].note),
                        "demand %.2f stays over the pool of %u: no other CPC admits any of its "
                        "active partitions",
                        sites[i].demand, site_pool(c, &sites[i]));
            break;
        }
        struct part_fit_move *moves = realloc(pl->moves, (pl->n_moves + 1) * sizeof(*moves));
        if (!moves) {
            free(moved);
            return -ENOMEM;
        }
        pl->moves = moves;
        const struct part_fit_partition *p = &c->parts[m.part];
        site_count(&sites[i], p, demands[i][m.part], -1);
        move_reason(cpcs, sites, &m, excess);
        site_count(&sites[m.to], p, demands[i][m.part], 1);
        moved[m.part] = true;
        pl->moves[pl->n_moves++] = m;
    }
    free(moved);
    return 0;
}

/* The CPCs over their pool, largest excess first (ties: in input order). */
static size_t over_order(const struct part_fit_cpc *cpcs, const struct site *sites, size_t n,
                         size_t *order)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        double excess = sites[i].demand - site_pool(&cpcs[i], &sites[i]);
        if (!cpcs[i].reachable || excess <= EPS)
            continue;
        size_t at = k++;
        while (at > 0 && sites[order[at - 1]].demand -
                                 site_pool(&cpcs[order[at - 1]], &sites[order[at - 1]]) <
                             excess - EPS) {
            order[at] = order[at - 1];
            at--;
        }
        order[at] = i;
    }
    return k;
}

int part_fit_plan(const struct part_fit_cpc *cpcs, size_t n, struct part_fit **ret,
                  struct part_error *err)
{
    struct part_fit *pl = calloc(1, sizeof(*pl));
    struct site *sites = calloc(n + 1, sizeof(*sites));
    double **demands = calloc(n + 1, sizeof(*demands));
    size_t *order = calloc(n + 1, sizeof(*order));
    int r = -ENOMEM;

    if (!pl || !sites || !demands || !order || !(pl->cpcs = calloc(n + 1, sizeof(*pl->cpcs))))
        goto out;
    pl->n = n;
    for (size_t i = 0; i < n; i++)
        if (!(demands[i] = calloc(cpcs[i].n + 1, sizeof(**demands))))
            goto out;
    sites_init(cpcs, n, sites, demands);
    for (size_t i = 0; i < n; i++) {
        pl->cpcs[i].demand = sites[i].demand;
        pl->cpcs[i].pool = site_pool(&cpcs[i], &sites[i]);
        pl->cpcs[i].over = cpcs[i].reachable && sites[i].demand > pl->cpcs[i].pool + EPS;
    }
    size_t n_over = over_order(cpcs, sites, n, order);
    for (size_t k = 0; k < n_over; k++)
        if (relieve(cpcs, n, sites, demands, order[k], pl) < 0)
            goto out;
    for (size_t i = 0; i < n; i++) {
        pl->cpcs[i].demand_after = sites[i].demand;
        pl->cpcs[i].pool_after = site_pool(&cpcs[i], &sites[i]);
    }
    *ret = pl;
    pl = NULL;
    r = 0;
out:
    for (size_t i = 0; demands && i < n; i++)
        free(demands[i]);
    free(demands);
    free(sites);
    free(order);
    part_fit_free(pl);
    return r < 0 ? part_error_oom(err) : 0;
}

struct part_fit *part_fit_free(struct part_fit *pl)
{
    if (pl) {
        free(pl->cpcs);
        free(pl->moves);
        free(pl);
    }
    return NULL;
}
