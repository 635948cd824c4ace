/* The planner's scratch CPC: the partitions as they run with the actions
 * planned so far, for admission control (running totals, summed once) and
 * for the entitlements the processor rule asks about. It starts as the
 * CPC itself; a partition is copied only when the plan first changes it,
 * so that a plan that changes little copies little. */
#include <errno.h>
#include <stdlib.h>

#include "plan-internal.h"

/* Starts the scratch as the CPC. Returns 0 or -ENOMEM; scratch_free()
 * either way. */
int scratch_init(struct planner *pl)
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

/* Copies share the profiles and are never freed one by one. */
void scratch_free(struct planner *pl)
{
    free(pl->copies);
    free(pl->scratch_parts);
    free(pl->capped);
}

/* A scratch copy of src: all of it but the backend's statuses and their
 * texts, most of the structure (2 KiB), which neither the plan nor
 * admission control nor part_cpc_compute() reads: left undefined. */
static void scratch_copy_partition(struct part_partition *dst, const struct part_partition *src)
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
        scratch_copy_partition(&pl->copies[i], pl->cpc->parts[i]);
        pl->scratch_parts[i] = &pl->copies[i];
    }
    return pl->scratch_parts[i];
}

/* Whether admission control lets scratch partition i run at processors and
 * memory, the plan so far applied. The totals are summed on the first
 * check. */
bool scratch_admits(struct planner *pl, size_t i, unsigned processors, uint64_t memory)
{
    if (!pl->totals_ready) {
        part_cpc_totals(&pl->scratch, &pl->totals);
        pl->totals_ready = true;
    }
    return part_cpc_check_resize_totals(&pl->scratch, &pl->totals, pl->scratch_parts[i], processors,
                                        memory, NULL) == 0;
}

/* Sets scratch partition i's processors and memory. Returns 0 or -ENOMEM. */
int scratch_resize(struct planner *pl, size_t i, unsigned processors, uint64_t memory)
{
    struct part_partition *s = scratch_mut(pl, i);
    if (!s)
        return -ENOMEM;
    unsigned old_processors = s->processors;
    uint64_t old_memory = s->memory;
    s->processors = pl->views[i].scratch_processors = processors;
    s->memory = pl->views[i].scratch_memory = memory;
    if (pl->totals_ready)
        part_cpc_totals_update(&pl->scratch, &pl->totals, s, old_processors, old_memory);
    return 0;
}

/* Sets scratch partition i's weight, for what comes after in this plan
 * (processors to carry entitlements). Returns 0 or -ENOMEM. */
int scratch_set_weight(struct planner *pl, size_t i, unsigned weight)
{
    struct part_partition *s = scratch_mut(pl, i);
    if (!s)
        return -ENOMEM;
    s->weight = pl->views[i].scratch_weight = weight;
    return 0;
}

static int scratch_cmp_group_index(const void *x, const void *y, void *opaque)
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
    qsort_r(idx, n, sizeof(*idx), scratch_cmp_group_index, cfg->groups);
    for (size_t k = 0; k < n; k++)
        if ((k == 0 || strcmp(cfg->groups[idx[k - 1]].name, cfg->groups[idx[k]].name) != 0) &&
            cfg->groups[idx[k]].cap != PART_CAP_NONE)
            pl->capped[kept++] = cfg->groups[idx[k]];
    free(idx);
    pl->scratch.cfg.groups = pl->capped;
    pl->scratch.cfg.n_groups = kept;
    return 0;
}

/* Sets entitlement_at_reserved of each view marked carry_candidate: its
 * entitlement, at the weights of the plan so far, if all the candidates
 * had their reserved processors online (0 when that would not change its
 * processors). One computation for all. Returns 0 or -ENOMEM. */
int scratch_entitlements_at_reserved(struct planner *pl)
{
    size_t n = pl->cpc->n;
    /* the computation writes every partition's entitlement: all are copied */
    for (size_t i = 0; i < n; i++)
        if (!scratch_mut(pl, i))
            return -ENOMEM;
    if (scratch_groups(pl) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        struct part_partition *s = pl->scratch_parts[i];
        if (pl->views[i].carry_candidate) {
            pl->views[i].processors_saved = s->processors;
            s->processors = s->profile->proc_reserved;
        }
    }
    part_cpc_compute(&pl->scratch);
    /* The scratch's entitlements stay these: nothing after reads them (the
     * plan goes on with the CPC's, and admission control does not count
     * entitlements). */
    for (size_t i = 0; i < n; i++) {
        struct part_partition *s = pl->scratch_parts[i];
        struct plan_view *v = &pl->views[i];
        if (v->carry_candidate) {
            v->entitlement_at_reserved = s->processors != v->processors_saved ? s->entitlement : 0;
            s->processors = v->processors_saved;
        }
    }
    return 0;
}
