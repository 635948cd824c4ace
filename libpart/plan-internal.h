/* What the planner's files share (libpart/plan*.c): the compact view of a
 * partition that the rules and the checker read, the planner's state for
 * one plan, and the functions one file offers the others. Not installed:
 * the planner's API is part/plan.h. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "part/plan.h"

#define EPS        1e-9
#define NO_CLUSTER SIZE_MAX

/* One partition as the plan reads it, read in one pass (plan_view_read(),
 * plan_view_read_samples() in plan.c): its running values and its profile's bounds,
 * what its samples say, and its values in the scratch CPC. The rules read
 * this, not the partition, which keeps their pass over 10,000 partitions
 * in the caches. */
struct plan_view {
    struct part_partition *p;
    /* the partition as it runs */
    enum part_mode mode;
    bool active, managed, has_history;
    unsigned processors, weight;
    double cap, entitlement;
    uint64_t memory;
    /* its profile's */
    unsigned proc_min, proc_reserved, weight_min, weight_max, weight_initial;
    uint64_t mem_min, mem_reserved;
    double defined_capacity;
    /* in the scratch CPC: processors, weight and memory with the plan so far */
    unsigned scratch_processors, scratch_weight;
    uint64_t scratch_memory;
    /* for processors to carry the entitlement (processors_find_carry()):
     * whether it is a candidate, its scratch processors while the
     * candidates are at their reserved, and the entitlement it gets there */
    bool carry_candidate;
    unsigned processors_saved;
    double entitlement_at_reserved;
    /* what the samples say */
    bool changeable[PART_SET_N]; /* weight, processors, memory: cooldown over, K samples since */
    bool cpu_valid;              /* the K samples have valid processor figures */
    double demand;               /* mean processors used over them */
    double used_min, used_max;
    double util_min, util_max;   /* used / online processors */
    bool mem_valid;              /* the K samples have balloon figures */
    uint64_t need_min, need_max; /* MiB the guest uses */
    uint64_t free_max;           /* MiB the guest leaves unused, the most of the K */
    /* memory pressure (plan_view_sum_samples()): a sample shows it when the
     * guest leaves less than the policy's floor unused, or pages (major
     * faults, swap) at the policy's rates with less than a headroom unused */
    bool pressed;                     /* in each of the K samples */
    bool pressed_any;                 /* in one of them at least: never shrunk */
    double faults, swap_in, swap_out; /* means over the K samples: per s, MiB/s */
    uint64_t spare_max; /* MiB it could use (usable, else unused), the most of the K */
    /* the newest sample alone, for changes toward demand that do not wait
     * for K (plan_view_read_newest()) */
    bool fresh[PART_SET_N]; /* cooldown over, the newest sample taken after the change */
    double used_next;       /* its use a sample ahead, when rising as much again */
    bool busy;              /* used_next at least `high` of its processors: it wants more */
    bool saturated;         /* every online processor busy in it: demand is hidden */
    double used_newest;
    /* the stabilization window (W samples, at least K): whether W valid
     * samples were taken after the processors last changed, and the most
     * used in them; quiet: under entitlement x (1 - deadband) in each */
    bool calm_valid;      /* W valid samples */
    bool calm_processors; /* and all taken after the processors last changed */
    double calm_used_max, calm_util_max;
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
    struct cluster_slot {
        uint64_t hash;
        size_t cluster; /* NO_CLUSTER: empty */
    } * slots;
    size_t size;
};

/* Sizes formatted by part_size_format(), remembered by value
 * (text_size()). */
struct text_size_entry {
    uint64_t mib;
    char text[24]; /* "" when the entry is empty */
};
struct text_sizes {
    struct text_size_entry entry[64];
};

/* The state of one part_plan_make(). */
struct planner {
    const struct part_cpc *cpc;
    const struct part_policy *pol;
    struct plan_view *views; /* one per partition, in CPC order */
    struct part_plan *plan;
    struct clusters clusters;
    /* The CPC with the plan's actions so far applied, for admission
     * control: scratch_parts[i] is cpc->parts[i] until the plan changes
     * it, copies[i] from then on (copy on write; plan-scratch.c). */
    struct part_cpc scratch;
    struct part_partition *copies;
    struct part_partition **scratch_parts;
    struct part_cpc_totals totals; /* the scratch's, once totals_ready */
    bool totals_ready;
    struct part_group_config *capped; /* the scratch's groups (see scratch_groups()) */
    char headroom[32], step[32];      /* the policy's memory sizes, formatted */
    /* the shared pool: what the newest samples use in all, and whether it
     * was short (used to 1 - deadband / 2 of it) in any row of the
     * stabilization window; then weights go back to the profiles'. */
    double used_total;
    bool contended;
    double weight_initial_total; /* the profiles' weights of the active shared partitions */
    struct text_sizes sizes;
};

static inline const char *plan_name(const struct part_partition *p)
{
    return p->profile->name;
}

/* Ties of the rules' orders are broken by name. */
static inline int plan_view_cmp_name(const struct plan_view *a, const struct plan_view *b)
{
    return strcmp(plan_name(a->p), plan_name(b->p));
}

/* Whether v is in [lo, hi]. A running value outside its profile's bounds
 * (the profile was replaced while the partition ran) is left to the user:
 * no step from there could be checked in bounds. */
static inline bool plan_in_bounds(double v, double lo, double hi)
{
    return v >= lo && v <= hi;
}

/* Index of v in the planner's views, which is also the CPC's order. */
static inline size_t plan_view_index(const struct planner *pl, const struct plan_view *v)
{
    return (size_t)(v - pl->views);
}

/* Where memory of active partitions may go in all, MiB: what the memory
 * rule grows within, and what the checker holds a plan to. */
static inline uint64_t plan_memory_limit(const struct part_cpc *cpc)
{
    return (uint64_t)((double)(cpc->memory - cpc->cfg.host_reserved_memory) *
                      cpc->cfg.memory_overcommit);
}

/* plan.c: the views, the actions */

/* The stabilization window in samples (at least K). */
unsigned plan_window(const struct part_policy *pol);

/* Reads the partitions of cpc into views (room for cpc->n), their
 * samples left out: what part_plan_check() needs. */
void plan_views_read(struct plan_view *views, const struct part_cpc *cpc);

/* Appends an action for the partition at index i of the CPC, with an
 * empty reason; NULL when out of memory. */
struct part_action *plan_action_new(struct planner *pl, const struct part_partition *p, size_t i,
                                    enum part_setting setting, double from, double to, bool dc);

/* Appends an action; the reason is formatted like printf. Returns 0 or
 * -ENOMEM. */
__attribute__((format(printf, 8, 9))) int plan_add(struct planner *pl,
                                                   const struct part_partition *p, size_t i,
                                                   enum part_setting setting, double from,
                                                   double to, bool dc, const char *fmt, ...);

/* plan-scratch.c: the scratch CPC and admission control (each
 * function's contract is above its definition) */

int scratch_init(struct planner *pl);
void scratch_free(struct planner *pl);
bool scratch_admits(struct planner *pl, size_t i, unsigned processors, uint64_t memory);
int scratch_resize(struct planner *pl, size_t i, unsigned processors, uint64_t memory);
int scratch_set_weight(struct planner *pl, size_t i, unsigned weight);
int scratch_entitlements_at_reserved(struct planner *pl);

/* plan-clusters.c: the clusters, found once per plan and check */

int clusters_find(struct clusters *cl, const struct plan_view *views, size_t n);
void clusters_free(struct clusters *cl);

/* plan-text.c: the reasons' formatting; text_vformat(), text_format()
 * and text_append() write what vsnprintf() would */

int text_vformat(char *buf, size_t len, const char *fmt, va_list ap);
__attribute__((format(printf, 3, 4))) int text_format(char *buf, size_t len, const char *fmt, ...);
__attribute__((format(printf, 4, 5))) void text_append(char *buf, size_t len, size_t *at,
                                                       const char *fmt, ...);
const char *text_size(struct text_sizes *sizes, uint64_t mib, char *buf);
const char *text_cap(double cap, char *buf, size_t len);

/* The rules, one file each: plan-weights.c, plan-processors.c,
 * plan-memory.c, plan-defined-capacity.c. Each appends its actions to the
 * plan, applies them to the scratch CPC, and returns 0 or -ENOMEM. */

int plan_weights(struct planner *pl);
int plan_processors(struct planner *pl);
int plan_memory(struct planner *pl);
int plan_defined_capacity(struct planner *pl);

/* plan-check.c: part_plan_check() on the views the planner read */

int check_plan(const struct part_cpc *cpc, const struct plan_view *views, struct clusters *cl,
               const struct part_plan *plan, bool trusted, struct part_error *err);
