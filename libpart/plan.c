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
 * returned.
 *
 * Linear in the partitions but for sorts (O(N log N)): one pass reads the
 * partitions, their profiles and histories into a compact array (the
 * judges) that the rules then read; the clusters are found by hashing the
 * group names, and only when weight may move; actions carry their
 * partition's index; admission control keeps running totals of the scratch
 * CPC, whose partitions are copied only when the plan changes them; each
 * reason is formatted once, by a printf of its own (format_v()). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "part/plan.h"
#include "part/size.h"

#define EPS        1e-9
#define NO_CLUSTER SIZE_MAX

/* One partition as the plan reads it, gathered in one pass (gather(),
 * judge()): its running values and its profile's bounds, what its samples
 * say, and its values in the scratch CPC. */
struct judge {
    struct part_partition *p;
    /* the partition as it runs */
    enum part_mode mode;
    bool active, managed, history; /* history: it has one */
    unsigned processors, weight;
    double cap, entitlement;
    uint64_t memory;
    /* its profile's */
    unsigned proc_min, proc_reserved, weight_min, weight_max, weight_initial;
    uint64_t mem_min, mem_reserved;
    double defined_capacity;
    /* the scratch's: processors, weight and memory with the plan so far */
    unsigned s_processors, s_weight;
    uint64_t s_memory;
    /* entitlements_to_carry()'s: a candidate, its processors before, and
     * the entitlement it would carry */
    bool candidate;
    unsigned was;
    double carry;
    /* what the samples say */
    bool fresh;           /* K samples, the newest one recent */
    bool may[PART_SET_N]; /* may_change() of weight, processors, memory */
    bool cpu;             /* the K samples are valid */
    double demand;        /* mean processors used over them */
    double used_min, used_max;
    double util_min, util_max;   /* used / online processors */
    bool mem;                    /* the K samples have balloon figures */
    uint64_t need_min, need_max; /* MiB the guest uses */
    uint64_t free_max;           /* MiB the guest leaves unused, the most of the K */
};

/* The clusters (the weight of active shared partitions moves within their
 * group, the ungrouped ones forming one), numbered in the order of their
 * first members. Found when first needed (clusters_find()): a plan that
 * moves no weight needs none, and reads no group. */
struct clusters {
    bool found;
    size_t *of;    /* per partition: its cluster, or NO_CLUSTER */
    size_t *first; /* per cluster: its first member */
    size_t n;
    /* the group names seen so far: a hash table (open addressing, at most
     * half full, doubled when it would be more) */
    struct slot {
        uint64_t hash;
        size_t cluster; /* NO_CLUSTER: empty */
    } * t;
    size_t size;
};

struct planner {
    const struct part_cpc *cpc;
    const struct part_policy *pol;
    double now;
    struct judge *j; /* one per partition, in CPC order */
    struct part_plan *plan;
    struct clusters cl;
    /* The CPC with the plan's actions so far applied, for admission
     * control: scratch_parts[i] is cpc->parts[i] until the plan changes
     * it, copies[i] from then on (copy on write). */
    struct part_cpc scratch;
    struct part_partition *copies;
    struct part_partition **scratch_parts;
    struct part_cpc_totals totals; /* the scratch's, once totals_ready */
    bool totals_ready;
    struct part_group_config *capped; /* the scratch's groups (see scratch_groups()) */
    char headroom[32], step[32];      /* the policy's memory sizes, formatted */
    /* sizes formatted by part_size_format(), by value (see size_text()) */
    struct size_text {
        uint64_t mib;
        char text[24]; /* "" when the entry is empty */
    } sizes[64];
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

/* Reasons: formatted once per action, by a printf of their own for the
 * conversions they use (%s, %u, %zu, %.2f, %%), which writes what
 * vsnprintf() writes, several times faster; any other conversion is left
 * to vsnprintf(). */

struct out {
    char *buf;
    size_t len; /* room, with the NUL; > 0 */
    size_t at;  /* what the whole output would take so far */
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->at < o->len - 1) {
        size_t k = o->len - 1 - o->at < n ? o->len - 1 - o->at : n;
        memcpy(o->buf + o->at, s, k);
    }
    o->at += n;
}

/* Writes v in decimal at the end of buf (room for 20 digits); returns
 * where it starts. */
static char *digits(char *end, uint64_t v)
{
    do
        *--end = (char)('0' + v % 10);
    while (v /= 10);
    return end;
}

/* %.2f of v: the exact value of the double rounded to the nearest
 * hundredth, a tie to the even one, as glibc's printf does. false for
 * what this does not do exactly (not finite, 2^44 or more). */
static bool put_2f(struct out *o, double v)
{
    double a = fabs(v);
    if (!(a < 0x1p44))
        return false;
    /* a * 100 = hi + lo exactly; hi < 2^51, so hi - floor(hi) and that
     * less 0.5 are exact, and |lo| is at most half a unit of hi's last
     * place, which decides only a fraction of exactly one half */
    double hi = a * 100, lo = fma(a, 100, -hi), f = floor(hi), d = hi - f - 0.5;
    uint64_t n = (uint64_t)f;
    if (d > 0 || (d == 0 && (lo > 0 || (lo == 0 && (n & 1)))))
        n++;
    char tmp[32], *end = tmp + sizeof(tmp), *s = end - 3;
    end[-1] = (char)('0' + n % 10);
    end[-2] = (char)('0' + n / 10 % 10);
    end[-3] = '.';
    s = digits(s, n / 100);
    if (signbit(v))
        *--s = '-';
    put(o, s, (size_t)(end - s));
    return true;
}

/* vsnprintf() for the conversions above: the length of the whole output,
 * or -1 at any other conversion (ap is then spent). */
static int format_v(char *buf, size_t len, const char *fmt, va_list ap)
{
    struct out o = {.buf = buf, .len = len};
    char tmp[24];
    for (const char *f = fmt; *f;) {
        const char *pct = strchr(f, '%');
        if (!pct) {
            put(&o, f, strlen(f));
            break;
        }
        put(&o, f, (size_t)(pct - f));
        f = pct + 1;
        if (*f == 's') {
            const char *s = va_arg(ap, const char *);
            put(&o, s, strlen(s));
            f++;
        } else if (*f == 'u') {
            char *s = digits(tmp + sizeof(tmp), va_arg(ap, unsigned));
            put(&o, s, (size_t)(tmp + sizeof(tmp) - s));
            f++;
        } else if (f[0] == 'z' && f[1] == 'u') {
            char *s = digits(tmp + sizeof(tmp), va_arg(ap, size_t));
            put(&o, s, (size_t)(tmp + sizeof(tmp) - s));
            f += 2;
        } else if (f[0] == '.' && f[1] == '2' && f[2] == 'f') {
            if (!put_2f(&o, va_arg(ap, double)))
                return -1;
            f += 3;
        } else if (*f == '%') {
            put(&o, "%", 1);
            f++;
        } else {
            return -1;
        }
    }
    o.buf[o.at < o.len - 1 ? o.at : o.len - 1] = '\0';
    return o.at > INT_MAX ? -1 : (int)o.at;
}

/* snprintf() into buf (len > 0), by format_v() when it can. */
__attribute__((format(printf, 3, 4))) static int format(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap, aq;
    va_start(ap, fmt);
    va_copy(aq, ap);
    int r = format_v(buf, len, fmt, ap);
    if (r < 0)
        r = vsnprintf(buf, len, fmt, aq);
    va_end(aq);
    va_end(ap);
    return r;
}

/* Appends an action for the partition at index i of the CPC, with an
 * empty reason; NULL when out of memory. Room is made for two actions per
 * partition at once (the pages are touched only as they are filled, and
 * part_plan_make() gives back what is left): growing by copies would cost
 * more than filling. */
static struct part_action *action_new(struct planner *pl, const struct part_partition *p, size_t i,
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
    const char *name = name_of(p);
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

/* Appends an action; the reason is formatted like printf. */
__attribute__((format(printf, 8, 9))) static int plan_add(struct planner *pl,
                                                          const struct part_partition *p, size_t i,
                                                          enum part_setting setting, double from,
                                                          double to, bool dc, const char *fmt, ...)
{
    struct part_action *a = action_new(pl, p, i, setting, from, to, dc);
    if (!a)
        return -ENOMEM;
    va_list ap, aq;
    va_start(ap, fmt);
    va_copy(aq, ap);
    if (format_v(a->reason, sizeof(a->reason), fmt, ap) < 0)
        vsnprintf(a->reason, sizeof(a->reason), fmt, aq);
    va_end(aq);
    va_end(ap);
    return 0;
}

/* Clusters */

static void clusters_free(struct clusters *cl)
{
    free(cl->of);
    free(cl->first);
    free(cl->t);
    *cl = (struct clusters){0};
}

/* Makes the table hold size slots (a power of two), the clusters so far
 * rehashed. Returns 0 or -ENOMEM. */
static int clusters_resize(struct clusters *cl, size_t size)
{
    struct slot *t = malloc(size * sizeof(*t));
    if (!t)
        return -ENOMEM;
    for (size_t k = 0; k < size; k++)
        t[k].cluster = NO_CLUSTER;
    for (size_t k = 0; k < cl->size; k++) {
        if (cl->t[k].cluster == NO_CLUSTER)
            continue;
        size_t x = (size_t)cl->t[k].hash & (size - 1);
        while (t[x].cluster != NO_CLUSTER)
            x = (x + 1) & (size - 1);
        t[x] = cl->t[k];
    }
    free(cl->t);
    cl->t = t;
    cl->size = size;
    return 0;
}

/* FNV-1a, then a final mix so that the low bits (the slot) depend on all. */
static uint64_t hash_name(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 33);
}

/* The cluster of j[i], of the given group: the group's, or a new one when
 * it is the first of its group. NO_CLUSTER when out of memory. */
static size_t cluster_of(struct clusters *cl, const struct judge *j, size_t i, const char *group)
{
    uint64_t h = hash_name(group);
    size_t k = (size_t)h & (cl->size - 1);
    while (cl->t[k].cluster != NO_CLUSTER &&
           (cl->t[k].hash != h ||
            strcmp(j[cl->first[cl->t[k].cluster]].p->profile->group, group) != 0))
        k = (k + 1) & (cl->size - 1);
    if (cl->t[k].cluster != NO_CLUSTER)
        return cl->t[k].cluster;
    if (2 * (cl->n + 1) > cl->size) {
        if (clusters_resize(cl, 2 * cl->size) < 0)
            return NO_CLUSTER;
        return cluster_of(cl, j, i, group);
    }
    cl->t[k] = (struct slot){.hash = h, .cluster = cl->n};
    cl->first[cl->n++] = i;
    return cl->t[k].cluster;
}

/* Finds the clusters of the n partitions gathered in j, unless found.
 * Returns 0 or -ENOMEM. */
static int clusters_find(struct clusters *cl, const struct judge *j, size_t n)
{
    if (cl->found)
        return 0;
    clusters_free(cl);
    cl->of = malloc((n + 1) * sizeof(*cl->of));
    cl->first = malloc((n + 1) * sizeof(*cl->first));
    if (!cl->of || !cl->first || clusters_resize(cl, 16) < 0)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        cl->of[i] = NO_CLUSTER;
        if (j[i].active && j[i].mode == PART_MODE_SHARED &&
            (cl->of[i] = cluster_of(cl, j, i, j[i].p->profile->group)) == NO_CLUSTER)
            goto fail;
    }
    cl->found = true;
    return 0;
fail:
    clusters_free(cl);
    return -ENOMEM;
}

/* Gathering and judging */

/* Fills j from partition p: the plan's only read of the partition and its
 * profile, but for the groups of clusters and the actions' reasons. */
static void gather(struct judge *j, struct part_partition *p)
{
    const struct part_profile *pp = p->profile;
    *j = (struct judge){
        .p = p,
        .mode = pp->mode,
        .active = p->active,
        .managed = pp->managed,
        .history = p->history != NULL,
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
        .s_processors = p->processors,
        .s_weight = p->weight,
        .s_memory = p->memory,
    };
}

/* Whether setting s of j's partition may change now: its cooldown has
 * passed and the K samples were all taken after it last changed (a change
 * is judged by its effect, never by what came before it). */
static bool may_change(const struct part_partition *p, double now, double t_oldest,
                       enum part_setting s, double cooldown)
{
    return now - p->changed_at[s] >= cooldown && t_oldest > p->changed_at[s];
}

/* Fills j from p's history. The newest sample is stale when older than two
 * plan intervals or two sampling intervals, whichever is longer (the
 * monitor's interval is the partd.json one, not the policy's). */
static void judge(const struct part_policy *pol, double now, struct judge *j)
{
    const struct part_partition *p = j->p;
    const struct part_history *h = p->history;
    unsigned k = pol->samples;

    if (!j->active || !j->managed || !h || h->n < k || k == 0)
        return;
    const struct part_sample *s0 = part_history_get(h, 0), *s1 = part_history_get(h, 1);
    double gap = s1 ? s0->t - s1->t : 0;
    if (s0->t > now + EPS || now - s0->t > 2 * fmax(pol->interval, gap))
        return;
    j->fresh = true;
    double t_oldest = part_history_get(h, k - 1)->t;
    j->may[PART_SET_WEIGHT] = may_change(p, now, t_oldest, PART_SET_WEIGHT, pol->cooldown_weight);
    j->may[PART_SET_PROCESSORS] =
        may_change(p, now, t_oldest, PART_SET_PROCESSORS, pol->cooldown_processors);
    j->may[PART_SET_MEMORY] = may_change(p, now, t_oldest, PART_SET_MEMORY, pol->cooldown_memory);

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

/* The scratch CPC */

/* The scratch CPC for admission control: the partitions as they run, with
 * the actions planned so far. It starts as the CPC itself: a partition is
 * copied when the plan first changes it (scratch_mut()), so that a plan
 * that changes little copies little. Copies share the profiles and are
 * never freed one by one. */
static int scratch_init(struct planner *pl)
{
    const struct part_cpc *cpc = pl->cpc;
    pl->scratch = *cpc;
    pl->scratch_parts = malloc((cpc->n + 1) * sizeof(*pl->scratch_parts));
    if (!pl->scratch_parts)
        return -ENOMEM;
    if (cpc->n)
        memcpy(pl->scratch_parts, cpc->parts, cpc->n * sizeof(*pl->scratch_parts));
    pl->scratch.parts = pl->scratch_parts;
    return 0;
}

/* A scratch copy of src: all of it but the backend's statuses and their
 * texts, most of the structure (2 KiB), which neither the plan nor
 * admission control nor part_cpc_compute() reads: left undefined. */
static void copy_partition(struct part_partition *dst, const struct part_partition *src)
{
    size_t b = offsetof(struct part_partition, backend), e = b + sizeof(src->backend);
    memcpy(dst, src, b);
    memcpy((char *)dst + e, (const char *)src + e, sizeof(*dst) - e);
}

/* The scratch partition i, to be changed: copied first if not yet. NULL
 * when out of memory. */
static struct part_partition *scratch_mut(struct planner *pl, size_t i)
{
    if (!pl->copies && !(pl->copies = malloc((pl->cpc->n + 1) * sizeof(*pl->copies))))
        return NULL;
    if (pl->scratch_parts[i] != &pl->copies[i]) {
        copy_partition(&pl->copies[i], pl->cpc->parts[i]);
        pl->scratch_parts[i] = &pl->copies[i];
    }
    return pl->scratch_parts[i];
}

/* Whether admission control lets scratch partition i run at processors and
 * memory, the plan so far applied. The totals are summed on the first
 * check. */
static bool scratch_admits(struct planner *pl, size_t i, unsigned processors, uint64_t memory)
{
    if (!pl->totals_ready) {
        part_cpc_totals(&pl->scratch, &pl->totals);
        pl->totals_ready = true;
    }
    return part_cpc_check_resize_totals(&pl->scratch, &pl->totals, pl->scratch_parts[i], processors,
                                        memory, NULL) == 0;
}

/* Sets scratch partition i's processors and memory. Returns 0 or -ENOMEM. */
static int scratch_resize(struct planner *pl, size_t i, unsigned processors, uint64_t memory)
{
    struct part_partition *s = scratch_mut(pl, i);
    if (!s)
        return -ENOMEM;
    unsigned old_processors = s->processors;
    uint64_t old_memory = s->memory;
    s->processors = pl->j[i].s_processors = processors;
    s->memory = pl->j[i].s_memory = memory;
    if (pl->totals_ready)
        part_cpc_totals_update(&pl->scratch, &pl->totals, s, old_processors, old_memory);
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
    double ra = a->demand / a->entitlement, rb = b->demand / b->entitlement;
    return ra > rb ? -1 : ra < rb ? 1 : cmp_name(a, b);
}

/* Donors: the most slack relative to entitlement first. */
static int cmp_donor(const void *x, const void *y)
{
    const struct judge *a = *(const struct judge *const *)x, *b = *(const struct judge *const *)y;
    double sa = 1 - a->demand / a->entitlement, sb = 1 - b->demand / b->entitlement;
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
    return j->cpu && j->mode == PART_MODE_SHARED && j->entitlement > EPS &&
           within(j->weight, j->weight_min, j->weight_max);
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
    /* set by transfer(): its flows (flow, flows) and, once needed, how it
     * is described in the reasons of the other side (desc, desc_len) */
    size_t flow, flows;
    char *desc;
    size_t desc_len;
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
    va_list ap, aq;
    if (*at >= len)
        return;
    va_start(ap, fmt);
    va_copy(aq, ap);
    int r = format_v(buf + *at, len - *at, fmt, ap);
    if (r < 0)
        r = vsnprintf(buf + *at, len - *at, fmt, aq);
    va_end(aq);
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
        format(buf, len, "%s (demand %.2f %s entitlement %.2f): %u -> %u", name_of(p), s->j->demand,
               taker ? ">" : "<", s->j->entitlement, p->weight, to);
    else if (taker)
        format(buf, len,
               "%s (demand %.2f uses all of entitlement %.2f at weight %u under its "
               "profile's %u): %u -> %u",
               name_of(p), s->j->demand, s->j->entitlement, p->weight, s->j->weight_initial,
               p->weight, to);
    else
        format(buf, len, "%s (weight %u over its profile's %u): %u -> %u", name_of(p), p->weight,
               s->j->weight_initial, p->weight, to);
}

/* Longest description of a partition in a reason, with its NUL. */
#define DESC_MAX 160

/* One flow of a transfer: taker t[t] takes from giver g[g]. */
struct flow {
    size_t t, g;
};

/* The action of one side of a transfer: its reason names the partitions
 * on the other side it moved weight with (as many as fit), each described
 * once per transfer however many reasons name it. */
static int transfer_action(struct planner *pl, enum transfer kind, bool taker, const struct side *s,
                           struct side *t, struct side *g, const struct flow *f)
{
    const struct part_partition *p = s->j->p;
    size_t i = judge_index(pl, s->j);
    unsigned k = pl->pol->samples, to = taker ? p->weight + s->moved : p->weight - s->moved;
    struct part_partition *sp = scratch_mut(pl, i);
    struct part_action *a = sp ? action_new(pl, p, i, PART_SET_WEIGHT, p->weight, to, false) : NULL;
    if (!a)
        return -ENOMEM;
    char *reason = a->reason;
    const size_t len = sizeof(a->reason);
    size_t at = 0, named = 0, more = 0;

    if (kind == TO_DEMAND)
        cat(reason, len, &at,
            "%s: demand %.2f %s entitlement %.2f for %u samples; weight %u -> %u, %s ", name_of(p),
            s->j->demand, taker ? ">" : "<", s->j->entitlement, k, p->weight, to,
            taker ? "taken from" : "given to");
    else if (taker)
        cat(reason, len, &at,
            "%s: demand %.2f uses all of entitlement %.2f for %u samples, at weight %u under "
            "its profile's %u; weight %u -> %u, taken back from ",
            name_of(p), s->j->demand, s->j->entitlement, k, p->weight, s->j->weight_initial,
            p->weight, to);
    else
        cat(reason, len, &at,
            "%s: weight %u over its profile's %u; weight %u -> %u, "
            "given back to ",
            name_of(p), p->weight, s->j->weight_initial, p->weight, to);

    for (size_t x = s->flow; x < s->flow + s->flows; x++) {
        struct side *theirs = taker ? &g[f[x].g] : &t[f[x].t];
        /* room for this one, and for " and 99 more" after it */
        if (more == 0) {
            if (!theirs->desc_len) {
                describe(theirs->desc, DESC_MAX, kind, !taker, theirs);
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
        cat(reason, len, &at, " and %zu more", more);
    /* for what comes after in this plan: processors to carry entitlements */
    sp->weight = pl->j[i].s_weight = to;
    return 0;
}

/* Shares, then adds the actions of every side that moved: takers first. */
static int transfer(struct planner *pl, enum transfer kind, struct side *t, size_t nt,
                    struct side *g, size_t ng)
{
    int ret = -ENOMEM;
    if (nt == 0 || ng == 0 || share(t, nt, g, ng) == 0)
        return 0;
    /* the flows, walked once: taker ti takes from giver gi until one is
     * done; each side's flows are consecutive */
    struct flow *f = malloc((nt + ng) * sizeof(*f));
    char *desc = malloc((nt + ng) * DESC_MAX);
    size_t nf = 0;
    if (!f || !desc)
        goto out;
    for (size_t i = 0; i < nt; i++)
        t[i].flows = 0, t[i].desc = desc + i * DESC_MAX, t[i].desc_len = 0;
    for (size_t i = 0; i < ng; i++)
        g[i].flows = 0, g[i].desc = desc + (nt + i) * DESC_MAX, g[i].desc_len = 0;
    size_t ti = 0, gi = 0;
    unsigned tl = t[0].moved, gl = g[0].moved;
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
        tl -= x, gl -= x;
        if (!t[ti].flows++)
            t[ti].flow = nf;
        if (!g[gi].flows++)
            g[gi].flow = nf;
        f[nf++] = (struct flow){.t = ti, .g = gi};
    }
    for (size_t i = 0; i < nt; i++)
        if (t[i].moved && (ret = transfer_action(pl, kind, true, &t[i], t, g, f)) < 0)
            goto out;
    for (size_t i = 0; i < ng; i++)
        if (g[i].moved && (ret = transfer_action(pl, kind, false, &g[i], t, g, f)) < 0)
            goto out;
    ret = 0;
out:
    free(f);
    free(desc);
    return ret;
}

/* What a receiver wants: the weight that brings its entitlement to its
 * demand plus a dead-band (its use is a floor of its demand: what it gets
 * beyond its entitlement is on loan from partitions that do not use
 * theirs), at the current weight per processor of entitlement, at least
 * 1; within its room to its max and the step. */
static unsigned receiver_wants(const struct planner *pl, const struct judge *r)
{
    double ratio = r->demand * (1 + pl->pol->deadband) / r->entitlement;
    unsigned need = (unsigned)fmax(1, ceil(r->weight * (ratio - 1) - EPS));
    return umin(need, umin(pl->pol->weight_step, r->weight_max - r->weight));
}

/* What a donor offers: what it does not need, keeping its entitlement half
 * a dead-band above its demand (landing on the demand itself would look
 * like a partition using all of its entitlement, which may reclaim weight,
 * below), at least 1; within its room to its min and the step. */
static unsigned donor_offers(const struct planner *pl, const struct judge *d)
{
    double keep = 1 - pl->pol->deadband / 2;
    unsigned spare =
        (unsigned)fmax(1, floor(d->weight * (1 - d->demand / (d->entitlement * keep)) + EPS));
    return umin(spare, umin(pl->pol->weight_step, d->weight - d->weight_min));
}

/* Lenders first: the most weight lent, relative to the profile's. */
static int cmp_lender(const void *x, const void *y)
{
    const struct side *sa = x, *sb = y;
    const struct judge *a = sa->j, *b = sb->j;
    double la = 1 - (double)a->weight / a->weight_initial;
    double lb = 1 - (double)b->weight / b->weight_initial;
    return la > lb ? -1 : la < lb ? 1 : cmp_name(a, b);
}

/* Holders first: the most weight borrowed, relative to the profile's. */
static int cmp_holder(const void *x, const void *y)
{
    const struct side *sa = x, *sb = y;
    const struct judge *a = sa->j, *b = sb->j;
    double ha = (double)a->weight / a->weight_initial;
    double hb = (double)b->weight / b->weight_initial;
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

/* What a weight-managed partition that may change weight is in its
 * cluster (see weight_cluster()). */
enum weight_role { NEITHER, RECEIVER, DONOR, LENDER, HOLDER };

static enum weight_role weight_role(const struct planner *pl, const struct judge *j)
{
    double db = pl->pol->deadband;
    if (j->used_min > j->entitlement * (1 + db) && j->weight < j->weight_max)
        return RECEIVER;
    if (j->used_max < j->entitlement * (1 - db) && j->weight > j->weight_min)
        return DONOR;
    if (j->used_min >= j->entitlement * (1 - db / 4) && j->weight < j->weight_initial)
        return LENDER;
    if (j->weight > j->weight_initial)
        return HOLDER;
    return NEITHER;
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
static int weight_cluster(struct planner *pl, const size_t *members, size_t m, size_t most,
                          struct side *r, struct side *d)
{
    const struct part_policy *pol = pl->pol;
    size_t nr = 0, nd = 0, nc = 0, nh = 0;
    struct side *c = r + most, *h = d + most;
    int ret;

    for (size_t k = 0; k < m; k++) {
        const struct judge *j = &pl->j[members[k]];
        if (!j->may[PART_SET_WEIGHT])
            continue;
        switch (weight_role(pl, j)) {
        case RECEIVER:
            r[nr++] = (struct side){.j = j};
            break;
        case DONOR:
            d[nd++] = (struct side){.j = j};
            break;
        case LENDER:
            c[nc++] = (struct side){.j = j};
            break;
        case HOLDER:
            h[nh++] = (struct side){.j = j};
            break;
        default:
            break;
        }
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
        if (r[i].moved == 0 && r[i].j->weight < r[i].j->weight_initial)
            c[nc++] = (struct side){.j = r[i].j};
    for (size_t i = 0; i < nd; i++)
        if (d[i].moved == 0 && d[i].j->weight > d[i].j->weight_initial)
            h[nh++] = (struct side){.j = d[i].j};
    for (size_t i = 0; i < nc; i++)
        c[i].want = umin(pol->weight_step, c[i].j->weight_initial - c[i].j->weight);
    for (size_t i = 0; i < nh; i++)
        h[i].want = umin(pol->weight_step, h[i].j->weight - h[i].j->weight_initial);
    qsort(c, nc, sizeof(*c), cmp_lender);
    qsort(h, nh, sizeof(*h), cmp_holder);
    return transfer(pl, BACK, c, nc, h, nh);
}

static int plan_weights(struct planner *pl)
{
    size_t n = pl->cpc->n, ncl, no = 0, most = 0;
    size_t *start = NULL, *at = NULL, *order = NULL, *members = NULL, *of = NULL;
    struct side *r = NULL, *d = NULL;
    bool takers = false, givers = false;
    int ret = -ENOMEM;

    /* nothing moves unless some partition would take and some give */
    for (size_t i = 0; i < n && !(takers && givers); i++) {
        const struct judge *j = &pl->j[i];
        if (!weight_managed(j) || !j->may[PART_SET_WEIGHT])
            continue;
        enum weight_role role = weight_role(pl, j);
        takers |= role == RECEIVER || role == LENDER;
        givers |= role == DONOR || role == HOLDER;
    }
    if (!takers || !givers)
        return 0;
    if (clusters_find(&pl->cl, pl->j, n) < 0)
        return -ENOMEM;
    ncl = pl->cl.n;
    of = pl->cl.of;
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
        if (weight_managed(&pl->j[i]) && start[of[i] + 1]++ == 0)
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
        if (weight_managed(&pl->j[i]))
            members[at[of[i]]++] = i;
    for (size_t k = 0; k < no; k++) {
        size_t c = order[k];
        if ((ret = weight_cluster(pl, members + start[c], start[c + 1] - start[c], most, r, d)) < 0)
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

/* Processor management */

/* Whether one more processor could do j's partition any good: not past
 * its running cap, which it could not use. */
static bool below_cap(const struct judge *j)
{
    return j->cap == PART_CAP_NONE || j->processors < ceil(j->cap - EPS);
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
    unsigned n = j->processors, to = n + 1;
    if (j->util_min >= (1 + pol->processors_high) / 2)
        to = n + (n + 1) / 2;
    else if (ceil(j->used_max / pol->processors_high - EPS) > to)
        to = (unsigned)ceil(j->used_max / pol->processors_high - EPS);
    if (to > j->proc_reserved)
        to = j->proc_reserved;
    if (j->cap != PART_CAP_NONE && to > ceil(j->cap - EPS))
        to = (unsigned)ceil(j->cap - EPS);
    return to;
}

/* Whether j's partition uses all of its entitlement in each of the K
 * samples: it may want more than it shows. */
static bool uses_all(const struct planner *pl, const struct judge *j)
{
    return j->entitlement > EPS && j->used_min >= j->entitlement * (1 - pl->pol->deadband / 4);
}

/* Whether processor management may add to j's partition now. */
static bool may_add(const struct judge *j)
{
    return j->cpu && j->mode == PART_MODE_SHARED &&
           within(j->processors, j->proc_min, j->proc_reserved) &&
           j->processors < j->proc_reserved && below_cap(j) && j->may[PART_SET_PROCESSORS];
}

static int cmp_group_index(const void *x, const void *y, void *opaque)
{
    const struct part_group_config *g = opaque;
    size_t a = *(const size_t *)x, b = *(const size_t *)y;
    int c = strcmp(g[a].name, g[b].name);
    return c ? c : (a > b) - (a < b);
}

/* part_cpc_compute() looks each group's cap up in the configuration by
 * name, a linear search per group: the scratch's configuration keeps only
 * what such a search could find with a cap (the first entry of each name,
 * when it has one), so that the search is short. Returns 0 or -ENOMEM. */
static int scratch_groups(struct planner *pl)
{
    const struct part_cpc_config *cfg = &pl->cpc->cfg;
    size_t n = cfg->n_groups, capped = 0, kept = 0;
    for (size_t g = 0; g < n; g++)
        capped += cfg->groups[g].cap != PART_CAP_NONE;
    if (capped == 0 || capped == n) {
        /* none to keep, or all of them (the search is the same) */
        pl->scratch.cfg.n_groups = capped ? n : 0;
        return 0;
    }
    size_t *idx = malloc(n * sizeof(*idx));
    pl->capped = malloc(capped * sizeof(*pl->capped));
    if (!idx || !pl->capped) {
        free(idx);
        return -ENOMEM;
    }
    for (size_t g = 0; g < n; g++)
        idx[g] = g;
    qsort_r(idx, n, sizeof(*idx), cmp_group_index, cfg->groups);
    for (size_t k = 0; k < n; k++)
        if ((k == 0 || strcmp(cfg->groups[idx[k - 1]].name, cfg->groups[idx[k]].name) != 0) &&
            cfg->groups[idx[k]].cap != PART_CAP_NONE)
            pl->capped[kept++] = cfg->groups[idx[k]];
    free(idx);
    pl->scratch.cfg.groups = pl->capped;
    pl->scratch.cfg.n_groups = kept;
    return 0;
}

/* carry[i]: the entitlement of each partition that uses all of its own and
 * may get processors, at the weights of the plan so far, if all of them
 * had their reserved processors online (0 for the others). One
 * computation for all: what each would get with only itself at reserved
 * is at least that. Only partitions whose entitlement is near what their
 * online processors run at `high`, or whose weight this plan raises, can
 * gain: raising a limit that does not bind changes no share, and the
 * others' raised limits only lower it. Returns -ENOMEM. */
static int entitlements_to_carry(struct planner *pl)
{
    size_t n = pl->cpc->n, nc = 0;
    for (size_t i = 0; i < n; i++) {
        struct judge *j = &pl->j[i];
        j->carry = 0;
        /* not one this plan removes a processor from */
        j->candidate = uses_all(pl, j) && may_add(j) && j->s_processors == j->processors &&
                       (j->entitlement > j->processors * pl->pol->processors_high - EPS ||
                        j->s_weight > j->weight);
        nc += j->candidate;
    }
    if (nc == 0)
        return 0;
    /* the computation writes every partition's entitlement: all are copied */
    for (size_t i = 0; i < n; i++)
        if (!scratch_mut(pl, i))
            return -ENOMEM;
    if (scratch_groups(pl) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        struct part_partition *s = pl->scratch_parts[i];
        if (pl->j[i].candidate) {
            pl->j[i].was = s->processors;
            s->processors = s->profile->proc_reserved;
        }
    }
    part_cpc_compute(&pl->scratch);
    /* The scratch's entitlements stay these: nothing after reads them (the
     * plan goes on with the CPC's, and admission control does not count
     * entitlements). */
    for (size_t i = 0; i < n; i++) {
        struct part_partition *s = pl->scratch_parts[i];
        struct judge *j = &pl->j[i];
        if (j->candidate) {
            j->carry = s->processors != j->was ? s->entitlement : 0;
            s->processors = j->was;
        }
    }
    return 0;
}

static int plan_processors(struct planner *pl)
{
    const struct part_policy *pol = pl->pol;
    unsigned k = pol->samples;
    int ret;

    /* removals first: they free room that additions may need */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1 && (ret = entitlements_to_carry(pl)) < 0)
            return ret;
        for (size_t i = 0; i < pl->cpc->n; i++) {
            const struct judge *j = &pl->j[i];
            if (!j->cpu || j->mode != PART_MODE_SHARED ||
                !within(j->processors, j->proc_min, j->proc_reserved) ||
                !j->may[PART_SET_PROCESSORS])
                continue;
            const struct part_partition *p = j->p;
            unsigned n = j->processors;
            if (pass == 0 && j->util_max <= pol->processors_low && n > j->proc_min &&
                j->demand <= (n - 1) * pol->processors_high) {
                ret = plan_add(pl, p, i, PART_SET_PROCESSORS, n, n - 1, false,
                               "%s: utilisation %.2f <= %.2f of %u online processors for %u "
                               "samples (demand %.2f); processors %u -> %u",
                               name_of(p), j->util_max, pol->processors_low, n, k, j->demand, n,
                               n - 1);
                if (ret < 0 || (ret = scratch_resize(pl, i, n - 1, j->s_memory)) < 0)
                    return ret;
            } else if (pass == 1 && j->s_processors == n && may_add(j)) {
                bool high = j->util_min >= pol->processors_high;
                unsigned to = high ? processors_wanted(pol, j) : n, carry_to = n;
                /* Processors to carry the entitlement: a partition using all
                 * of it in every sample may want more than it shows, and
                 * its entitlement, with processors to run it and after this
                 * plan's weight moves (a lender taking its weight back),
                 * may be more than its online processors run at `high`. */
                double e = j->carry;
                if (e > n * pol->processors_high + EPS)
                    carry_to = (unsigned)ceil(e / pol->processors_high - EPS);
                if (carry_to > j->proc_reserved)
                    carry_to = j->proc_reserved;
                if (j->cap != PART_CAP_NONE && carry_to > ceil(j->cap - EPS))
                    carry_to = (unsigned)ceil(j->cap - EPS);
                bool by_carry = carry_to > to;
                if (by_carry)
                    to = carry_to;
                /* as many as admission control lets in, down to one */
                while (to > n && !scratch_admits(pl, i, to, j->s_memory))
                    to--;
                if (to == n)
                    continue;
                bool busy = j->util_min >= (1 + pol->processors_high) / 2;
                if (by_carry)
                    ret = plan_add(pl, p, i, PART_SET_PROCESSORS, n, to, false,
                                   "%s: demand %.2f uses all of entitlement %.2f for %u samples, "
                                   "and is entitled to %.2f at the weights of this plan: more "
                                   "than %u online processors run at %.2f; processors %u -> %u",
                                   name_of(p), j->demand, j->entitlement, k, e, n,
                                   pol->processors_high, n, to);
                else
                    ret = plan_add(pl, p, i, PART_SET_PROCESSORS, n, to, false,
                                   "%s: utilisation %.2f >= %.2f of %u online processors for %u "
                                   "samples (demand %.2f); processors %u -> %u%s",
                                   name_of(p), j->util_min, pol->processors_high, n, k, j->demand,
                                   n, to,
                                   to == n + 1 ? ""
                                   : busy      ? " (all busy: half as many again)"
                                               : " (the most used of the samples at high)");
                if (ret < 0 || (ret = scratch_resize(pl, i, to, j->s_memory)) < 0)
                    return ret;
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
    unsigned wa = a->j->weight, wb = b->j->weight;
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

/* part_size_format() of mib into buf (room for 24), remembered: memory
 * targets and needs repeat (steps and guests alike), and formatting them
 * would be most of a memory action. */
static const char *size_text(struct planner *pl, uint64_t mib, char *buf)
{
    struct size_text *e = &pl->sizes[(mib ^ mib >> 8 ^ mib >> 16) % 64];
    if (!e->text[0] || e->mib != mib) {
        e->mib = mib;
        part_size_format(mib, e->text, sizeof(e->text));
    }
    memcpy(buf, e->text, strlen(e->text) + 1);
    return buf;
}

/* The memory action of j's partition (index i), and its scratch memory. */
static int memory_action(struct planner *pl, const struct judge *j, size_t i, uint64_t to,
                         uint64_t need, const char *which, bool pressure)
{
    const struct part_partition *p = j->p;
    const struct part_policy *pol = pl->pol;
    char a[24], c[24], d[24];
    int ret;
    if (pressure)
        ret = plan_add(pl, p, i, PART_SET_MEMORY, (double)p->memory, (double)to, false,
                       "%s: the guest has at most %s of %s free (under pressure for %u "
                       "samples); memory %s -> %s (twice the headroom %s, at most %s a step)",
                       name_of(p), size_text(pl, j->free_max, a), size_text(pl, p->memory, c),
                       pol->samples, c, size_text(pl, to, d), pl->headroom, pl->step);
    else
        ret = plan_add(pl, p, i, PART_SET_MEMORY, (double)p->memory, (double)to, false,
                       "%s: the guest uses %s (%s of %u samples) + headroom %s; memory %s -> %s "
                       "(at most %s a step)",
                       name_of(p), size_text(pl, need, a), which, pol->samples, pl->headroom,
                       size_text(pl, p->memory, c), size_text(pl, to, d), pl->step);
    return ret < 0 ? ret : scratch_resize(pl, i, j->s_processors, to);
}

static int plan_memory(struct planner *pl)
{
    const struct part_policy *pol = pl->pol;
    const struct part_cpc *cpc = pl->cpc;
    struct grow *grow = NULL;
    uint64_t total = cpc->memory_active;
    size_t ng = 0, alloc = 0;
    int ret = 0;

    part_size_format(pol->memory_headroom, pl->headroom, sizeof(pl->headroom));
    part_size_format(pol->memory_step, pl->step, sizeof(pl->step));
    for (size_t i = 0; i < cpc->n; i++) {
        const struct judge *j = &pl->j[i];
        if (!j->mem || !within((double)j->memory, (double)j->mem_min, (double)j->mem_reserved) ||
            !j->may[PART_SET_MEMORY])
            continue;
        uint64_t cur = j->memory, head = pol->memory_headroom, dead = pol->memory_deadband;
        /* hysteresis: grow only if even the least need of the K samples
         * asks for it, shrink only if even the most need allows it */
        uint64_t up = clamp_u64(j->need_min + head, j->mem_min, j->mem_reserved);
        uint64_t down = clamp_u64(j->need_max + head, j->mem_min, j->mem_reserved);
        /* A guest with less than the dead-band free in every sample is
         * under pressure: it cannot show a need beyond what it has, so it
         * gets its headroom twice over (a step at most). Shrinking then
         * waits for more than a headroom (and the dead-band) idle beyond
         * the target: what such a growth may overshoot by is never taken
         * back while the need holds. */
        bool pressure = j->free_max < dead;
        if (pressure) {
            uint64_t more = 2 * head < pol->memory_step ? 2 * head : pol->memory_step;
            uint64_t bump = clamp_u64(cur + more, j->mem_min, j->mem_reserved);
            up = bump > up ? bump : up;
        }
        if (up >= cur + dead) {
            uint64_t to = up - cur > pol->memory_step ? cur + pol->memory_step : up;
            if (ng == alloc) {
                struct grow *more = realloc(grow, (alloc = 2 * alloc + 16) * sizeof(*grow));
                if (!more) {
                    ret = -ENOMEM;
                    goto out;
                }
                grow = more;
            }
            grow[ng++] = (struct grow){.j = j, .to = to, .pressure = pressure};
        } else if (down + head + dead <= cur) {
            uint64_t to = cur - down > pol->memory_step ? cur - pol->memory_step : down;
            if ((ret = memory_action(pl, j, i, to, j->need_max, "the most", false)) < 0)
                goto out;
            total -= cur - to;
        }
    }
    /* growth within what the host has, shrinks of this plan counted */
    if (ng)
        qsort(grow, ng, sizeof(*grow), cmp_grow);
    uint64_t limit = memory_limit(cpc);
    for (size_t g = 0; g < ng; g++) {
        const struct judge *j = grow[g].j;
        size_t i = judge_index(pl, j);
        uint64_t cur = j->memory, to = grow[g].to;
        uint64_t room = limit > total ? limit - total : 0;
        if (to - cur > room)
            to = cur + room;
        if (to < cur + pol->memory_deadband || !scratch_admits(pl, i, j->s_processors, to))
            continue;
        if ((ret = memory_action(pl, j, i, to, j->need_min, "the least", grow[g].pressure)) < 0)
            goto out;
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
        const struct judge *j = &pl->j[i];
        double dc = j->defined_capacity, seen;
        if (!j->active || !j->managed || !j->history || j->mode != PART_MODE_SHARED ||
            dc == PART_CAP_NONE)
            continue;
        const struct part_partition *p = j->p;
        double avg = part_history_rolling(p->history, &seen);
        double window = part_history_window(p->history);
        /* an average over a sliver of the window says little */
        if (seen < window / 4)
            continue;
        int ret = 0;
        if (avg > dc && (p->cap == PART_CAP_NONE || p->cap > dc + EPS))
            ret = plan_add(pl, p, i, PART_SET_CAP, p->cap, dc, true,
                           "%s: rolling average %.2f over %.0f s (of a %.0f s window) > defined "
                           "capacity %.2f; cap %s -> %.2f",
                           name_of(p), avg, seen, window, dc, cap_text(p->cap, a, sizeof(a)), dc);
        else if (p->dc_capped && avg < dc * (1 - pol->deadband))
            ret = plan_add(pl, p, i, PART_SET_CAP, p->cap, p->profile->cap, true,
                           "%s: rolling average %.2f over %.0f s (of a %.0f s window) < defined "
                           "capacity %.2f - %.0f%%; cap %s -> %s (the profile's)",
                           name_of(p), avg, seen, window, dc, pol->deadband * 100,
                           cap_text(p->cap, a, sizeof(a)), cap_text(p->profile->cap, b, sizeof(b)));
        if (ret < 0)
            return ret;
    }
    return 0;
}

static int check_plan(const struct part_cpc *cpc, const struct judge *j, struct clusters *cl,
                      const struct part_plan *plan, bool trusted, struct part_error *err);

int part_plan_make(const struct part_cpc *cpc, const struct part_policy *policy, double now,
                   struct part_plan *ret, struct part_error *err)
{
    struct part_plan plan = {0};
    struct planner pl = {.cpc = cpc, .pol = policy, .now = now, .plan = &plan};
    int r = -ENOMEM;

    part_error_clear(err);
    *ret = (struct part_plan){0};
    pl.j = malloc((cpc->n + 1) * sizeof(*pl.j));
    if (!pl.j || scratch_init(&pl) < 0)
        goto out;
    for (size_t i = 0; i < cpc->n; i++) {
        gather(&pl.j[i], cpc->parts[i]);
        judge(policy, now, &pl.j[i]);
    }
    /* The order is the order of application: caps, weight pairs (which
     * conserve totals), then what frees capacity before what takes it. */
    if ((policy->defined_capacity && (r = plan_defined_capacity(&pl)) < 0) ||
        (policy->weights && (r = plan_weights(&pl)) < 0) ||
        (policy->processors && (r = plan_processors(&pl)) < 0) ||
        (policy->memory && (r = plan_memory(&pl)) < 0))
        goto out;
    if ((r = check_plan(cpc, pl.j, &pl.cl, &plan, true, err)) < 0)
        goto out;
    if (plan.n && plan.n < plan.alloc) {
        struct part_action *fit = realloc(plan.actions, plan.n * sizeof(*fit));
        if (fit) {
            plan.actions = fit;
            plan.alloc = plan.n;
        }
    }
    *ret = plan;
    plan = (struct part_plan){0};
out:
    part_plan_clear(&plan);
    free(pl.j);
    free(pl.copies);
    free(pl.scratch_parts);
    free(pl.capped);
    clusters_free(&pl.cl);
    return r;
}

/* Checking */

/* Running values of one partition that the plan changes, before and after
 * the plan. */
struct values {
    double v[PART_SET_N];
    bool seen[PART_SET_N];
};

static double running(const struct judge *j, enum part_setting s)
{
    switch (s) {
    case PART_SET_PROCESSORS:
        return j->processors;
    case PART_SET_MEMORY:
        return (double)j->memory;
    case PART_SET_WEIGHT:
        return j->weight;
    default:
        return j->cap;
    }
}

/* The value of setting s of partition i after the plan: v[slot[i] - 1]'s
 * when the plan changes the partition, the running one otherwise. */
static double after(const struct judge *j, const size_t *slot, const struct values *v, size_t i,
                    enum part_setting s)
{
    return slot[i] ? v[slot[i] - 1].v[s] : running(&j[i], s);
}

static bool whole(double v)
{
    return isfinite(v) && v >= 0 && v == floor(v);
}

/* Whether to is a value setting s of the partition (gathered in j) may
 * take. */
static int check_bounds(const struct judge *j, const struct part_action *a, size_t i,
                        struct part_error *err)
{
    const char *what = part_setting_name(a->setting);
    bool shared = j->mode == PART_MODE_SHARED;
    double lo = 0, hi = 0;

    switch (a->setting) {
    case PART_SET_WEIGHT:
        lo = j->weight_min, hi = j->weight_max;
        break;
    case PART_SET_PROCESSORS:
        lo = j->proc_min, hi = j->proc_reserved;
        break;
    case PART_SET_MEMORY:
        lo = (double)j->mem_min, hi = (double)j->mem_reserved;
        break;
    case PART_SET_CAP:
        if (!shared)
            return part_error_set(err, -EPROTO, "cap",
                                  "action %zu: %s: a dedicated partition has no cap", i,
                                  name_of(j->p));
        if (a->to == PART_CAP_NONE)
            return 0;
        if (!(a->to >= PART_CAP_MIN && a->to <= PART_CAP_MAX))
            return part_error_set(err, -EPROTO, "cap", "action %zu: %s: cap %g is outside %g-%g", i,
                                  name_of(j->p), a->to, PART_CAP_MIN, PART_CAP_MAX);
        return 0;
    default:
        return part_error_set(err, -EPROTO, "setting", "action %zu: %s: unknown setting %d", i,
                              name_of(j->p), (int)a->setting);
    }
    if (a->setting == PART_SET_WEIGHT && !shared)
        return part_error_set(err, -EPROTO, what,
                              "action %zu: %s: a dedicated partition has no weight", i,
                              name_of(j->p));
    if (!whole(a->to))
        return part_error_set(err, -EPROTO, what, "action %zu: %s: %s %g is not a whole number", i,
                              name_of(j->p), what, a->to);
    if (a->to < lo || a->to > hi)
        return part_error_set(err, -EPROTO, what,
                              "action %zu: %s: %s %.0f is outside its bounds %.0f-%.0f", i,
                              name_of(j->p), what, a->to, lo, hi);
    return 0;
}

/* Whether each cluster's weight total (a group's, or the ungrouped
 * partitions') is the same before and after; the first cluster (in the
 * order of first members) that is not is reported. */
static int check_clusters(const struct part_cpc *cpc, const struct judge *j, struct clusters *cl,
                          const size_t *slot, const struct values *v, struct part_error *err)
{
    if (clusters_find(cl, j, cpc->n) < 0)
        return -ENOMEM;
    double *before = calloc(2 * (cl->n + 1), sizeof(*before)), *aft = before + cl->n + 1;
    int r = 0;

    if (!before)
        return -ENOMEM;
    for (size_t i = 0; i < cpc->n; i++) {
        size_t c = cl->of[i];
        if (c == NO_CLUSTER)
            continue;
        before[c] += j[i].weight;
        aft[c] += after(j, slot, v, i, PART_SET_WEIGHT);
    }
    for (size_t c = 0; c < cl->n && r == 0; c++) {
        const char *group = j[cl->first[c]].p->profile->group;
        if (before[c] == aft[c])
            continue;
        if (group[0])
            r = part_error_set(err, -EPROTO, "weight",
                               "group %s: weight total %.0f -> %.0f (must be conserved)", group,
                               before[c], aft[c]);
        else
            r = part_error_set(err, -EPROTO, "weight",
                               "ungrouped partitions: weight total %.0f -> %.0f (must be "
                               "conserved)",
                               before[c], aft[c]);
    }
    free(before);
    return r;
}

/* Capacity after the plan: processors against the pool and cpu_overcommit,
 * memory against host memory and memory_overcommit. A total that was over
 * already is refused only if the plan makes it worse. */
static int check_capacity(const struct part_cpc *cpc, const struct judge *j, const size_t *slot,
                          const struct values *v, struct part_error *err)
{
    unsigned dedicated = 0, shared_n = 0;
    double online = 0, online_before = 0, mem = 0, mem_before = 0, widest = 0;
    const char *widest_name = "";

    for (size_t i = 0; i < cpc->n; i++) {
        const struct judge *p = &j[i];
        if (!p->active)
            continue;
        double processors = after(j, slot, v, i, PART_SET_PROCESSORS);
        mem += after(j, slot, v, i, PART_SET_MEMORY);
        mem_before += (double)p->memory;
        if (p->mode == PART_MODE_DEDICATED) {
            dedicated += (unsigned)processors;
            continue;
        }
        shared_n++;
        online += processors;
        online_before += p->processors;
        if (processors > widest && processors > p->processors) {
            widest = processors;
            widest_name = p->p->profile->name;
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

struct named {
    const char *name;
    size_t i;
};

static int cmp_named(const void *x, const void *y)
{
    const struct named *a = x, *b = y;
    int c = strcmp(a->name, b->name);
    return c ? c : (a->i > b->i) - (a->i < b->i);
}

/* The index of the first partition named name, or cpc->n; SIZE_MAX when
 * out of memory. The index of names is made on the first call (*names,
 * sorted by name then place). */
static size_t find_named(const struct part_cpc *cpc, struct named **names, const char *name)
{
    size_t n = cpc->n, lo = 0, hi = n;
    if (!*names) {
        if (!(*names = malloc((n + 1) * sizeof(**names))))
            return SIZE_MAX;
        for (size_t i = 0; i < n; i++)
            (*names)[i] = (struct named){.name = cpc->parts[i]->profile->name, .i = i};
        qsort(*names, n, sizeof(**names), cmp_named);
    }
    while (lo < hi) { /* the first not less than name */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp((*names)[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && strcmp((*names)[lo].name, name) == 0 ? (*names)[lo].i : n;
}

/* part_plan_check() with cpc gathered in j and its clusters in cl (found
 * here if weight moves and they are not yet). The actions of a trusted
 * plan (the planner's) name the partition at their index. */
static int check_plan(const struct part_cpc *cpc, const struct judge *j, struct clusters *cl,
                      const struct part_plan *plan, bool trusted, struct part_error *err)
{
    /* slot[i]: 1 + the index in v of partition i's values once the plan
     * changes it, 0 before */
    size_t *slot = calloc(cpc->n + 1, sizeof(*slot)), nv = 0;
    struct values *v = malloc((plan->n + 1) * sizeof(*v));
    struct named *names = NULL;
    bool weights = false;
    int r = -ENOMEM;

    if (!slot || !v)
        goto out;
    r = 0;
    for (size_t i = 0; i < plan->n; i++) {
        const struct part_action *a = &plan->actions[i];
        /* the planner's actions know their partition; partition names are
         * unique in a CPC */
        size_t k = a->index;
        if (!trusted && (k >= cpc->n || strcmp(name_of(cpc->parts[k]), a->partition) != 0))
            k = find_named(cpc, &names, a->partition);
        if (k == SIZE_MAX) {
            r = -ENOMEM;
            goto out;
        }
        if (k == cpc->n) {
            r = part_error_set(err, -EPROTO, "partition", "action %zu: no partition named %s", i,
                               a->partition);
            goto out;
        }
        if (!j[k].active) {
            r = part_error_set(err, -EPROTO, "partition", "action %zu: %s is not active", i,
                               a->partition);
            goto out;
        }
        if ((unsigned)a->setting >= PART_SET_N) {
            r = part_error_set(err, -EPROTO, "setting", "action %zu: %s: unknown setting %d", i,
                               a->partition, (int)a->setting);
            goto out;
        }
        if (!slot[k]) {
            struct values *x = &v[nv++];
            for (int s = 0; s < PART_SET_N; s++) {
                x->v[s] = running(&j[k], s);
                x->seen[s] = false;
            }
            slot[k] = nv;
        }
        struct values *x = &v[slot[k] - 1];
        const char *what = part_setting_name(a->setting);
        if (x->seen[a->setting]) {
            r = part_error_set(err, -EPROTO, what, "action %zu: %s: %s changes twice in one plan",
                               i, a->partition, what);
            goto out;
        }
        if (a->from != x->v[a->setting]) {
            r = part_error_set(err, -EPROTO, what, "action %zu: %s: %s from %g, but it runs at %g",
                               i, a->partition, what, a->from, x->v[a->setting]);
            goto out;
        }
        if ((r = check_bounds(&j[k], a, i, err)) < 0)
            goto out;
        x->seen[a->setting] = true;
        x->v[a->setting] = a->to;
        weights |= a->setting == PART_SET_WEIGHT;
    }
    /* cluster totals: every group, and the ungrouped partitions (they are
     * what they were when no weight changes) */
    if (weights && (r = check_clusters(cpc, j, cl, slot, v, err)) < 0)
        goto out;
    r = check_capacity(cpc, j, slot, v, err);
out:
    free(slot);
    free(v);
    free(names);
    return r;
}

int part_plan_check(const struct part_cpc *cpc, const struct part_plan *plan,
                    struct part_error *err)
{
    struct judge *j = malloc((cpc->n + 1) * sizeof(*j));
    struct clusters cl = {0};
    int r = -ENOMEM;

    if (j) {
        for (size_t i = 0; i < cpc->n; i++)
            gather(&j[i], cpc->parts[i]);
        r = check_plan(cpc, j, &cl, plan, false, err);
    }
    clusters_free(&cl);
    free(j);
    return r;
}

/* JSON */

json_t *part_plan_to_json(const struct part_plan *plan)
{
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    for (size_t i = 0; i < plan->n; i++) {
        const struct part_action *a = &plan->actions[i];
        json_t *o =
            json_pack("{s:s, s:s, s:o, s:o, s:s}", "partition", a->partition, "setting",
                      part_setting_name(a->setting), "from", part_setting_json(a->setting, a->from), "to",
                      part_setting_json(a->setting, a->to), "reason", a->reason);
        if (!o || json_array_append_new(arr, o) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}
