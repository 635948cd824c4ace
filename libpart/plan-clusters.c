/* The planner's clusters: the groups within which weight moves (the
 * ungrouped partitions forming one), found by hashing the group names of
 * the active shared partitions in one pass, and only when weight moves.
 * The weight rule reads them, and so does the checker (totals conserved). */
#include <errno.h>
#include <stdlib.h>

#include "plan-internal.h"

void clusters_free(struct clusters *cl)
{
    free(cl->of);
    free(cl->first);
    free(cl->slots);
    *cl = (struct clusters){0};
}

/* Makes the table hold size slots (a power of two), the clusters so far
 * rehashed. Returns 0 or -ENOMEM. */
static int clusters_resize(struct clusters *cl, size_t size)
{
    struct cluster_slot *t = malloc(size * sizeof(*t));
    if (!t)
        return -ENOMEM;
    for (size_t k = 0; k < size; k++)
        t[k].cluster = NO_CLUSTER;
    for (size_t k = 0; k < cl->size; k++) {
        if (cl->slots[k].cluster == NO_CLUSTER)
            continue;
        size_t x = (size_t)cl->slots[k].hash & (size - 1);
        while (t[x].cluster != NO_CLUSTER)
            x = (x + 1) & (size - 1);
        t[x] = cl->slots[k];
    }
    free(cl->slots);
    cl->slots = t;
    cl->size = size;
    return 0;
}

/* FNV-1a, then a final mix so that the low bits (the slot) depend on all. */
static uint64_t clusters_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 33);
}

/* The cluster of views[i], of the given group: the group's, or a new one
 * when it is the first of its group. NO_CLUSTER when out of memory. */
static size_t clusters_of(struct clusters *cl, const struct plan_view *views, size_t i,
                          const char *group)
{
    uint64_t h = clusters_hash(group);
    size_t k = (size_t)h & (cl->size - 1);
    while (cl->slots[k].cluster != NO_CLUSTER &&
           (cl->slots[k].hash != h ||
            strcmp(views[cl->first[cl->slots[k].cluster]].p->profile->group, group) != 0))
        k = (k + 1) & (cl->size - 1);
    if (cl->slots[k].cluster != NO_CLUSTER)
        return cl->slots[k].cluster;
    if (2 * (cl->n + 1) > cl->size) {
        if (clusters_resize(cl, 2 * cl->size) < 0)
            return NO_CLUSTER;
        return clusters_of(cl, views, i, group);
    }
    cl->slots[k] = (struct cluster_slot){.hash = h, .cluster = cl->n};
    cl->first[cl->n++] = i;
    return cl->slots[k].cluster;
}

/* Finds the clusters of the n partitions read into views, unless found.
 * Returns 0 or -ENOMEM. */
int clusters_find(struct clusters *cl, const struct plan_view *views, size_t n)
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
        if (views[i].active && views[i].mode == PART_MODE_SHARED &&
            (cl->of[i] = clusters_of(cl, views, i, views[i].p->profile->group)) == NO_CLUSTER)
            goto fail;
    }
    cl->found = true;
    return 0;
fail:
    clusters_free(cl);
    return -ENOMEM;
}
