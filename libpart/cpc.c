/* The CPC model: partitions on a host, the shared pool, entitlements by
 * weight (PR/SM semantics, weighted max-min fair), and admission control. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "part/cpc.h"
#include "part/size.h"

static struct part_partition *partition_free(struct part_partition *p)
{
    if (p) {
        free(p->history);
        part_trend_put(p->trend);
        part_profile_free(p->profile);
        free(p->cpus);
        free(p);
    }
    return NULL;
}

struct part_cpc *part_cpc_free(struct part_cpc *cpc)
{
    if (!cpc)
        return NULL;
    for (size_t i = 0; i < cpc->n; i++)
        partition_free(cpc->parts[i]);
    free(cpc->parts);
    free(cpc->cfg.groups);
    free(cpc);
    return NULL;
}

int part_cpc_new(unsigned cpus, uint64_t memory, const struct part_cpc_config *cfg,
                 struct part_cpc **ret, struct part_error *err)
{
    char a[32], b[32];

    if (cfg->host_reserved_cpus >= cpus)
        return part_error_set(err, -EINVAL, "cpc.host_reserved_cpus",
                              "cpc.host_reserved_cpus (%u) leaves no CPU of the host's %u for "
                              "partitions",
                              cfg->host_reserved_cpus, cpus);
    if (cfg->host_reserved_memory >= memory)
        return part_error_set(err, -EINVAL, "cpc.host_reserved_memory",
                              "cpc.host_reserved_memory (%s) leaves no memory of the host's %s "
                              "for partitions",
                              part_size_format(cfg->host_reserved_memory, a, sizeof(a)),
                              part_size_format(memory, b, sizeof(b)));
    struct part_cpc *cpc = calloc(1, sizeof(*cpc));
    if (!cpc)
        return part_error_oom(err);
    cpc->cpus = cpus;
    cpc->memory = memory;
    cpc->cfg = *cfg;
    cpc->cfg.groups = calloc(cfg->n_groups + 1, sizeof(*cfg->groups));
    if (!cpc->cfg.groups)
        return part_cpc_free(cpc), -ENOMEM;
    if (cfg->n_groups)
        memcpy(cpc->cfg.groups, cfg->groups, cfg->n_groups * sizeof(*cfg->groups));
    part_config_sort_groups(&cpc->cfg);
    part_cpc_compute(cpc);
    *ret = cpc;
    return 0;
}

struct part_partition *part_cpc_find(const struct part_cpc *cpc, const char *name)
{
    for (size_t i = 0; i < cpc->n; i++)
        if (strcmp(cpc->parts[i]->profile->name, name) == 0)
            return cpc->parts[i];
    return NULL;
}

struct part_capacity part_cpc_capacity(const struct part_cpc *cpc)
{
    return (struct part_capacity){
        .cpus = cpc->cpus,
        .host_reserved_cpus = cpc->cfg.host_reserved_cpus,
        .cpu_overcommit = cpc->cfg.cpu_overcommit,
        .memory = cpc->memory,
        .host_reserved_memory = cpc->cfg.host_reserved_memory,
        .memory_overcommit = cpc->cfg.memory_overcommit,
    };
}

/* Admission control of p on cpc (part_admit_verdict()). */
static int admit_verdict(const struct part_cpc *cpc, const struct part_partition *p,
                         const struct part_admit_sum *s, const char *what, struct part_error *err)
{
    struct part_capacity cap = part_cpc_capacity(cpc);
    return part_admit_verdict(&cap, p->profile->name, s, what, err);
}

int part_admit_verdict(const struct part_capacity *cap, const char *name,
                       const struct part_admit_sum *s, const char *what, struct part_error *err)
{
    unsigned dedicated = s->dedicated, shared_online = s->shared_online, shared_max = s->shared_max,
             shared_n = s->shared_n;
    uint64_t mem = s->mem, mem_min = s->mem_min;
    char a[32], b[32], c[32], d[32];

    unsigned usable = cap->cpus - cap->host_reserved_cpus;
    /* a shared partition needs at least one CPU left in the pool */
    unsigned dedicated_max = shared_n ? usable - 1 : usable;
    if (dedicated > dedicated_max)
        return part_error_set(err, -ENOSPC, "processors",
                              "cannot %s %s: %u dedicated processors needed, %u host CPUs can be "
                              "dedicated (%u CPUs - %u host reserved%s)",
                              what, name, dedicated, dedicated_max, cap->cpus,
                              cap->host_reserved_cpus,
                              shared_n ? " - 1 kept for the shared pool" : "");
    unsigned pool = usable - dedicated;
    if (shared_max > pool)
        return part_error_set(err, -ENOSPC, "processors",
                              "cannot %s %s: a shared partition would have %u logical processors "
                              "on a shared pool of %u CPUs",
                              what, name, shared_max, pool);
    double limit = pool * cap->cpu_overcommit;
    if (shared_online > limit + 1e-9)
        return part_error_set(err, -ENOSPC, "processors",
                              "cannot %s %s: %u shared logical processors exceed %g (pool of %u "
                              "CPUs x cpu_overcommit %g)",
                              what, name, shared_online, limit, pool, cap->cpu_overcommit);
    uint64_t avail = cap->memory - cap->host_reserved_memory;
    if (mem_min > avail)
        return part_error_set(err, -ENOSPC, "memory",
                              "cannot %s %s: memory minimums of active partitions (%s) exceed "
                              "the %s available (%s - %s host reserved)",
                              what, name, part_size_format(mem_min, a, sizeof(a)),
                              part_size_format(avail, b, sizeof(b)),
                              part_size_format(cap->memory, c, sizeof(c)),
                              part_size_format(cap->host_reserved_memory, d, sizeof(d)));
    uint64_t mem_limit = (uint64_t)((double)avail * cap->memory_overcommit);
    if (mem > mem_limit)
        return part_error_set(
            err, -ENOSPC, "memory",
            "cannot %s %s: memory of active partitions would be %s, over the "
            "%s available (%s - %s host reserved, x memory_overcommit %g)",
            what, name, part_size_format(mem, a, sizeof(a)),
            part_size_format(mem_limit, b, sizeof(b)), part_size_format(cap->memory, c, sizeof(c)),
            part_size_format(cap->host_reserved_memory, d, sizeof(d)), cap->memory_overcommit);
    return 0;
}

/* Admission control over the whole CPC (see admit_verdict()). */
static int cpc_admit(const struct part_cpc *cpc, const struct part_partition *p,
                     unsigned processors, uint64_t memory, const char *what, struct part_error *err)
{
    struct part_admit_sum s = {0};

    /* the other active partitions as they run, then p as asked */
    for (size_t i = 0; i <= cpc->n; i++) {
        const struct part_partition *q = i < cpc->n ? cpc->parts[i] : p;
        bool self = i == cpc->n;
        if (!self && (q == p || !part_partition_holds(q)))
            continue;
        unsigned n = self ? processors : q->processors;
        if (q->profile->mode == PART_MODE_DEDICATED) {
            s.dedicated += n;
        } else {
            s.shared_online += n;
            s.shared_n++;
            if (n > s.shared_max)
                s.shared_max = n;
        }
        s.mem += self ? memory : q->memory;
        s.mem_min += q->profile->mem_min;
    }
    return admit_verdict(cpc, p, &s, what, err);
}

/* Whether profile could run at all: on this CPC with nothing else active. */
static int cpc_fits_empty(const struct part_cpc *cpc, const struct part_profile *profile,
                          const char *what, struct part_error *err)
{
    struct part_cpc empty = *cpc;
    struct part_partition p = {.profile = (struct part_profile *)profile};
    empty.n = 0;
    return cpc_admit(&empty, &p, profile->proc_initial, profile->mem_initial, what, err);
}

static int cpc_check_domain(const struct part_cpc *cpc, const struct part_partition *self,
                            const struct part_profile *profile, struct part_error *err)
{
    for (size_t i = 0; i < cpc->n; i++) {
        const struct part_partition *q = cpc->parts[i];
        if (q != self && strcmp(q->profile->domain_name, profile->domain_name) == 0)
            return part_error_set(err, -EEXIST, profile->adopt ? "domain.adopt" : "name",
                                  "%s: domain \"%s\" already belongs to partition %s",
                                  profile->adopt ? "domain.adopt" : "name", profile->domain_name,
                                  q->profile->name);
    }
    return 0;
}

int part_cpc_define(struct part_cpc *cpc, struct part_profile *profile, struct part_error *err)
{
    int r;

    if (part_cpc_find(cpc, profile->name))
        return part_error_set(err, -EEXIST, "name", "name: partition %s is already defined",
                              profile->name);
    if ((r = cpc_check_domain(cpc, NULL, profile, err)) < 0 ||
        (r = cpc_fits_empty(cpc, profile, "define", err)) < 0)
        return r;
    struct part_partition **parts = realloc(cpc->parts, (cpc->n + 1) * sizeof(*parts));
    if (!parts)
        return part_error_oom(err);
    cpc->parts = parts;
    struct part_partition *p = calloc(1, sizeof(*p));
    if (!p)
        return part_error_oom(err);
    p->profile = profile;
    cpc->parts[cpc->n++] = p;
    part_cpc_compute(cpc);
    return 0;
}

int part_cpc_check_profile(const struct part_cpc *cpc, const struct part_partition *p,
                           const struct part_profile *profile, struct part_error *err)
{
    int r;
    if (strcmp(p->profile->name, profile->name) != 0)
        return part_error_set(err, -EINVAL, "name", "name: a partition cannot be renamed (%s)",
                              p->profile->name);
    if ((r = cpc_check_domain(cpc, p, profile, err)) < 0 ||
        (r = cpc_fits_empty(cpc, profile, "change", err)) < 0)
        return r;
    return 0;
}

int part_cpc_replace_profile(struct part_cpc *cpc, struct part_partition *p,
                             struct part_profile *profile, struct part_error *err)
{
    int r = part_cpc_check_profile(cpc, p, profile, err);
    if (r < 0)
        return r;
    part_profile_free(p->profile);
    p->profile = profile;
    part_cpc_compute(cpc);
    return 0;
}

int part_cpc_undefine(struct part_cpc *cpc, const char *name, struct part_error *err)
{
    for (size_t i = 0; i < cpc->n; i++) {
        struct part_partition *p = cpc->parts[i];
        if (strcmp(p->profile->name, name) != 0)
            continue;
        if (p->active)
            return part_error_set(err, -EBUSY, "", "%s is active; deactivate it first", name);
        partition_free(p);
        memmove(&cpc->parts[i], &cpc->parts[i + 1], (cpc->n - i - 1) * sizeof(*cpc->parts));
        cpc->n--;
        part_cpc_compute(cpc);
        return 0;
    }
    return part_error_set(err, -ENOENT, "", "no partition named %s", name);
}

int part_cpc_check_activate(const struct part_cpc *cpc, const struct part_partition *p,
                            struct part_error *err)
{
    if (p->active)
        return part_error_set(err, -EBUSY, "", "%s is already active", p->profile->name);
    return cpc_admit(cpc, p, p->profile->proc_initial, p->profile->mem_initial, "activate", err);
}

/* The bounds of a resize: p's profile's. */
static int resize_bounds(const struct part_partition *p, unsigned processors, uint64_t memory,
                         struct part_error *err)
{
    const struct part_profile *pp = p->profile;
    char a[32], b[32];

    if (processors < pp->proc_min)
        return part_error_set(err, -ERANGE, "processors",
                              "processors (%u) is below processors.min (%u)", processors,
                              pp->proc_min);
    if (processors > pp->proc_reserved)
        return part_error_set(err, -ERANGE, "processors",
                              "processors (%u) exceeds processors.reserved (%u)", processors,
                              pp->proc_reserved);
    if (memory < pp->mem_min)
        return part_error_set(err, -ERANGE, "memory", "memory (%s) is below memory.min (%s)",
                              part_size_format(memory, a, sizeof(a)),
                              part_size_format(pp->mem_min, b, sizeof(b)));
    if (memory > pp->mem_reserved)
        return part_error_set(err, -ERANGE, "memory", "memory (%s) exceeds memory.reserved (%s)",
                              part_size_format(memory, a, sizeof(a)),
                              part_size_format(pp->mem_reserved, b, sizeof(b)));
    return 0;
}

int part_cpc_check_resize(const struct part_cpc *cpc, const struct part_partition *p,
                          unsigned processors, uint64_t memory, struct part_error *err)
{
    int r = resize_bounds(p, processors, memory, err);
    return r < 0 ? r : cpc_admit(cpc, p, processors, memory, "resize", err);
}

static bool shared_over(const struct part_partition *p, unsigned pool)
{
    return p->active && p->profile->mode != PART_MODE_DEDICATED && p->processors > pool;
}

void part_cpc_totals(const struct part_cpc *cpc, struct part_cpc_totals *t)
{
    *t = (struct part_cpc_totals){0};
    for (size_t i = 0; i < cpc->n; i++) {
        const struct part_partition *q = cpc->parts[i];
        if (!part_partition_holds(q))
            continue;
        if (q->profile->mode == PART_MODE_DEDICATED) {
            t->dedicated += q->processors;
        } else {
            t->shared_online += q->processors;
            t->shared_n++;
        }
        t->memory += q->memory;
        t->mem_min += q->profile->mem_min;
    }
    t->pool = cpc->cpus - cpc->cfg.host_reserved_cpus - t->dedicated;
    for (size_t i = 0; i < cpc->n; i++)
        t->over_pool += shared_over(cpc->parts[i], t->pool);
}

void part_cpc_totals_update(const struct part_cpc *cpc, struct part_cpc_totals *t,
                            const struct part_partition *p, unsigned old_processors,
                            uint64_t old_memory)
{
    if (!p->active)
        return;
    if (p->profile->mode == PART_MODE_DEDICATED) {
        if (p->processors != old_processors) {
            part_cpc_totals(cpc, t); /* the pool changed */
            return;
        }
    } else {
        t->over_pool -= old_processors > t->pool;
        t->over_pool += p->processors > t->pool;
        t->shared_online = t->shared_online - old_processors + p->processors;
    }
    t->memory = t->memory - old_memory + p->memory;
}

int part_cpc_check_resize_totals(const struct part_cpc *cpc, const struct part_cpc_totals *t,
                                 const struct part_partition *p, unsigned processors,
                                 uint64_t memory, struct part_error *err)
{
    const struct part_profile *pp = p->profile;
    bool shared = pp->mode != PART_MODE_DEDICATED;
    int r = resize_bounds(p, processors, memory, err);
    if (r < 0)
        return r;
    /* the totals with p taken out, then p as asked, as cpc_admit() counts */
    struct part_admit_sum s = {
        .dedicated = t->dedicated,
        .shared_online = t->shared_online,
        .shared_n = t->shared_n,
        .mem = t->memory,
        .mem_min = t->mem_min,
    };
    unsigned over = t->over_pool;
    if (p->active) {
        if (shared) {
            s.shared_online -= p->processors;
            s.shared_n--;
            over -= p->processors > t->pool;
        } else {
            s.dedicated -= p->processors;
        }
        s.mem -= p->memory;
        s.mem_min -= pp->mem_min;
    }
    if (shared) {
        s.shared_online += processors;
        s.shared_n++;
    } else {
        s.dedicated += processors;
    }
    s.mem += memory;
    s.mem_min += pp->mem_min;
    /* The widest shared partition matters only past the pool. With the pool
     * as summed and no other partition past it, only p can be: its width
     * is the one compared (and named when refused). When the pool changes
     * (a dedicated partition resized) the CPC is counted in full; when
     * another partition is past the pool already, the resize is refused,
     * counted in full only for the numbers of the message. */
    if (s.dedicated != t->dedicated)
        return cpc_admit(cpc, p, processors, memory, "resize", err);
    if (over > 0) /* refused: the widest is past the pool */
        return err ? cpc_admit(cpc, p, processors, memory, "resize", err) : -ENOSPC;
    s.shared_max = shared ? processors : 0;
    return admit_verdict(cpc, p, &s, "resize", err);
}

/* Whether host CPU cpu is owned by an active dedicated partition other
 * than self. */
static bool cpu_taken(const struct part_cpc *cpc, const struct part_partition *self, unsigned cpu)
{
    for (size_t i = 0; i < cpc->n; i++) {
        const struct part_partition *q = cpc->parts[i];
        if (q == self || !q->active || q->profile->mode != PART_MODE_DEDICATED)
            continue;
        for (unsigned j = 0; j < q->processors; j++)
            if (q->cpus[j] == cpu)
                return true;
    }
    return false;
}

/* Gives dedicated p host CPUs for n processors: keeps the ones it has,
 * takes free ones from the top of the host down (the shared pool grows from
 * the bottom, after the host's reserved CPUs). */
static int cpc_assign_cpus(struct part_cpc *cpc, struct part_partition *p, unsigned n)
{
    unsigned have = p->active ? p->processors : 0;
    if (n <= have)
        return 0;
    unsigned *cpus = realloc(p->cpus, n * sizeof(*cpus));
    if (!cpus)
        return -ENOMEM;
    p->cpus = cpus;
    for (unsigned cpu = cpc->cpus; cpu-- > cpc->cfg.host_reserved_cpus && have < n;) {
        bool mine = false;
        for (unsigned j = 0; j < have; j++)
            mine |= cpus[j] == cpu;
        if (!mine && !cpu_taken(cpc, p, cpu))
            cpus[have++] = cpu;
    }
    return have == n ? 0 : -ENOSPC;
}

int part_cpc_set_active(struct part_cpc *cpc, struct part_partition *p, bool active)
{
    const struct part_profile *pp = p->profile;
    if (active && !p->active) {
        if (pp->mode == PART_MODE_DEDICATED && cpc_assign_cpus(cpc, p, pp->proc_initial) < 0)
            return -ENOSPC;
        p->processors = pp->proc_initial;
        p->weight = pp->weight_initial;
        p->cap = pp->cap;
        p->memory = pp->mem_initial;
    }
    p->active = active;
    part_cpc_compute(cpc);
    return 0;
}

int part_cpc_set_running(struct part_cpc *cpc, struct part_partition *p, unsigned processors,
                         uint64_t memory)
{
    if (p->profile->mode == PART_MODE_DEDICATED && cpc_assign_cpus(cpc, p, processors) < 0)
        return -ENOSPC;
    p->processors = processors;
    p->memory = memory;
    part_cpc_compute(cpc);
    return 0;
}

double part_setting_running(const struct part_partition *p, enum part_setting s)
{
    switch (s) {
    case PART_SET_PROCESSORS:
        return p->processors;
    case PART_SET_MEMORY:
        return (double)p->memory;
    case PART_SET_WEIGHT:
        return p->weight;
    case PART_SET_CAP:
        return p->cap;
    default:
        return part_setting_profile(p->profile, s);
    }
}

int part_cpc_set_setting(struct part_cpc *cpc, struct part_partition *p, enum part_setting s,
                         double v)
{
    switch (s) {
    case PART_SET_PROCESSORS:
        return part_cpc_set_running(cpc, p, (unsigned)v, p->memory);
    case PART_SET_MEMORY:
        return part_cpc_set_running(cpc, p, p->processors, (uint64_t)v);
    case PART_SET_WEIGHT:
        p->weight = (unsigned)v;
        break;
    case PART_SET_CAP:
        p->cap = v;
        break;
    default:
        return -EINVAL;
    }
    part_cpc_compute(cpc);
    return 0;
}

size_t part_cpc_pool_cpus(const struct part_cpc *cpc, unsigned *cpus)
{
    size_t n = 0;
    for (unsigned cpu = cpc->cfg.host_reserved_cpus; cpu < cpc->cpus; cpu++)
        if (!cpu_taken(cpc, NULL, cpu))
            cpus[n++] = cpu;
    return n;
}

struct claim {
    double w, limit;
    size_t i;
};

static int claim_cmp(const void *a, const void *b)
{
    const struct claim *x = a, *y = b;
    double rx = x->limit / x->w, ry = y->limit / y->w;
    return rx < ry ? -1 : rx > ry;
}

void part_waterfill(size_t n, const double *w, const double *limit, double total, double *out)
{
    struct claim stack[64], *c = n <= 64 ? stack : malloc(n * sizeof(*c));
    double wsum = 0;

    if (!c) { /* no memory for the sort: plain proportional split, then clamp */
        for (size_t i = 0; i < n; i++)
            wsum += w[i];
        for (size_t i = 0; i < n; i++)
            out[i] = fmin(limit[i], wsum > 0 ? total * w[i] / wsum : 0);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        c[i] = (struct claim){.w = w[i], .limit = limit[i], .i = i};
        wsum += w[i];
    }
    /* Claimants sorted by limit per unit of weight: once the fair share of
     * one is within its limit, it is for every later one too. */
    qsort(c, n, sizeof(*c), claim_cmp);
    for (size_t k = 0; k < n; k++) {
        double share = wsum > 0 ? total * c[k].w / wsum : 0;
        if (share >= c[k].limit) {
            out[c[k].i] = c[k].limit;
            total -= c[k].limit;
            wsum -= c[k].w;
        } else {
            for (size_t j = k; j < n; j++)
                out[c[j].i] = total * c[j].w / wsum;
            break;
        }
    }
    if (c != stack)
        free(c);
}

/* What one shared partition can use at most, in processors. */
static double shared_limit(const struct part_partition *p)
{
    double limit = p->processors;
    return p->cap != PART_CAP_NONE && p->cap < limit ? p->cap : limit;
}

/* Orders active shared partitions by group name (ungrouped first), then by
 * their place in the CPC, so that each group is one contiguous run. */
static int member_cmp(const void *a, const void *b, void *opaque)
{
    struct part_partition *const *parts = opaque;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = strcmp(parts[x]->profile->group, parts[y]->profile->group);
    return c ? c : (x > y) - (x < y);
}

/*
 * Entitlements, in two levels: the pool is split by weight among the
 * ungrouped active shared partitions and the groups (a group claims with the
 * sum of its members' weights, up to its cap); each group's share is then
 * split among its members the same way. A partition never gets more than it
 * can use (its cap, its online processors); what it cannot use goes to the
 * others by weight. Sorting makes each group a run: O(n log n).
 */
void part_cpc_compute(struct part_cpc *cpc)
{
    size_t n = cpc->n, m = 0, k = 0;
    size_t *idx = calloc(n + 1, sizeof(*idx));         /* active shared, grouped runs */
    size_t *first = calloc(n + 1, sizeof(*first));     /* claimant -> its first idx slot */
    double *buf = calloc(4 * (n + 1), sizeof(double)); /* w, limit, out, group out */
    double *w = buf, *limit = w + n + 1, *out = limit + n + 1, *mo = out + n + 1;

    cpc->dedicated = 0;
    cpc->weight_total = 0;
    cpc->memory_active = 0;
    for (size_t i = 0; i < n; i++) {
        struct part_partition *p = cpc->parts[i];
        p->entitlement = 0;
        if (!p->active)
            continue;
        cpc->memory_active += p->memory;
        if (p->profile->mode == PART_MODE_DEDICATED) {
            cpc->dedicated += p->processors;
            p->entitlement = p->processors;
        } else {
            cpc->weight_total += p->weight;
            if (idx)
                idx[m++] = i;
        }
    }
    cpc->pool = cpc->cpus - cpc->cfg.host_reserved_cpus - cpc->dedicated;
    if (!idx || !first || !buf)
        goto out; /* entitlements stay 0: shown, never acted on */
    qsort_r(idx, m, sizeof(*idx), member_cmp, cpc->parts);

    /* level 1: each ungrouped partition, and each group, is one claimant */
    for (size_t j = 0; j < m; j++) {
        const struct part_partition *p = cpc->parts[idx[j]];
        bool joins = j > 0 && p->profile->group[0] &&
                     strcmp(cpc->parts[idx[j - 1]]->profile->group, p->profile->group) == 0;
        if (!joins) {
            first[k] = j;
            w[k] = limit[k] = 0;
            k++;
        }
        w[k - 1] += p->weight;
        limit[k - 1] += shared_limit(p);
    }
    first[k] = m;
    for (size_t c = 0; c < k; c++) {
        const char *g = cpc->parts[idx[first[c]]]->profile->group;
        const struct part_group_config *gc = g[0] ? part_config_group(&cpc->cfg, g) : NULL;
        if (gc && gc->cap != PART_CAP_NONE && gc->cap < limit[c])
            limit[c] = gc->cap;
    }
    part_waterfill(k, w, limit, cpc->pool, out);

    /* level 2: a claimant's share among its members (one, unless a group) */
    for (size_t c = 0; c < k; c++) {
        size_t lo = first[c], len = first[c + 1] - lo;
        for (size_t j = 0; j < len; j++) {
            const struct part_partition *p = cpc->parts[idx[lo + j]];
            w[j] = p->weight;
            limit[j] = shared_limit(p);
        }
        part_waterfill(len, w, limit, out[c], mo);
        for (size_t j = 0; j < len; j++)
            cpc->parts[idx[lo + j]]->entitlement = mo[j];
    }
out:
    free(idx);
    free(first);
    free(buf);
}
