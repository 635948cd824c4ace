/* The planner's memory rule: each partition's memory target follows what
 * its guest needs plus a headroom, a step at a time, with hysteresis over
 * the K samples; a guest under pressure gets its headroom twice. Shrinks
 * are planned first; growth then goes to the highest weight first, within
 * what the host has. */
#include <errno.h>
#include <stdlib.h>

#include "part/size.h"
#include "plan-internal.h"

/* One growth asked for, granted later if there is room. */
struct memory_growth {
    const struct plan_view *v;
    uint64_t to;
    bool pressure;
};

struct memory_growths {
    struct memory_growth *g;
    size_t n, alloc;
};

/* Growth is granted to the highest weight first, then by name. */
static int memory_cmp_growth(const void *x, const void *y)
{
    const struct memory_growth *a = x, *b = y;
    unsigned wa = a->v->weight, wb = b->v->weight;
    return wa > wb ? -1 : wa < wb ? 1 : plan_view_cmp_name(a->v, b->v);
}

static uint64_t memory_clamp(uint64_t v, uint64_t lo, uint64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* The memory action of v's partition (index i), and its scratch memory. */
static int memory_action(struct planner *pl, const struct plan_view *v, size_t i, uint64_t to,
                         uint64_t need, const char *which, bool pressure)
{
    const struct part_partition *p = v->p;
    const struct part_policy *pol = pl->pol;
    struct text_sizes *sizes = &pl->sizes;
    char a[24], c[24], d[24];
    int ret;
    if (pressure)
        ret =
            plan_add(pl, p, i, PART_SET_MEMORY, (double)p->memory, (double)to, false,
                     "%s: the guest has at most %s of %s free (under pressure for %u "
                     "samples); memory %s -> %s (twice the headroom %s, at most %s a step)",
                     plan_name(p), text_size(sizes, v->free_max, a), text_size(sizes, p->memory, c),
                     pol->samples, c, text_size(sizes, to, d), pl->headroom, pl->step);
    else
        ret = plan_add(pl, p, i, PART_SET_MEMORY, (double)p->memory, (double)to, false,
                       "%s: the guest uses %s (%s of %u samples) + headroom %s; memory %s -> %s "
                       "(at most %s a step)",
                       plan_name(p), text_size(sizes, need, a), which, pol->samples, pl->headroom,
                       text_size(sizes, p->memory, c), text_size(sizes, to, d), pl->step);
    return ret < 0 ? ret : scratch_resize(pl, i, v->scratch_processors, to);
}

/* Asks for the growth of v's partition to to; it is granted later, if
 * there is room. Returns 0 or -ENOMEM. */
static int memory_ask_growth(struct memory_growths *gs, const struct plan_view *v, uint64_t to,
                             bool pressure)
{
    if (gs->n == gs->alloc) {
        size_t alloc = 2 * gs->alloc + 16;
        struct memory_growth *more = realloc(gs->g, alloc * sizeof(*gs->g));
        if (!more)
            return -ENOMEM;
        gs->g = more;
        gs->alloc = alloc;
    }
    gs->g[gs->n++] = (struct memory_growth){.v = v, .to = to, .pressure = pressure};
    return 0;
}

/* Judges the memory of v's partition (index i): a shrink is planned at
 * once (*total, the memory of active partitions, less what it frees), a
 * growth asked for in gs. Returns 0 or -ENOMEM. */
static int memory_judge(struct planner *pl, size_t i, const struct plan_view *v,
                        struct memory_growths *gs, uint64_t *total)
{
    const struct part_policy *pol = pl->pol;
    uint64_t cur = v->memory, head = pol->memory_headroom, dead = pol->memory_deadband;
    /* hysteresis: grow only if even the least need of the K samples asks
     * for it, shrink only if even the most need allows it */
    uint64_t up = memory_clamp(v->need_min + head, v->mem_min, v->mem_reserved);
    uint64_t down = memory_clamp(v->need_max + head, v->mem_min, v->mem_reserved);
    /* A guest with less than the dead-band free in every sample is under
     * pressure: it cannot show a need beyond what it has, so it gets its
     * headroom twice over (a step at most). Shrinking then waits for more
     * than a headroom (and the dead-band) idle beyond the target: what
     * such a growth may overshoot by is never taken back while the need
     * holds. */
    bool pressure = v->free_max < dead;
    if (pressure) {
        uint64_t more = 2 * head < pol->memory_step ? 2 * head : pol->memory_step;
        uint64_t bump = memory_clamp(cur + more, v->mem_min, v->mem_reserved);
        up = bump > up ? bump : up;
    }
    if (up >= cur + dead) {
        uint64_t to = up - cur > pol->memory_step ? cur + pol->memory_step : up;
        return memory_ask_growth(gs, v, to, pressure);
    }
    if (down + head + dead <= cur) {
        uint64_t to = cur - down > pol->memory_step ? cur - pol->memory_step : down;
        int ret = memory_action(pl, v, i, to, v->need_max, "the most", false);
        if (ret < 0)
            return ret;
        *total -= cur - to;
    }
    return 0;
}

/* Grants the growths asked for, the highest weight first, within what the
 * host has (total: the memory of active partitions, this plan's shrinks
 * counted) and what admission control lets in. Returns 0 or -ENOMEM. */
static int memory_grant(struct planner *pl, struct memory_growths *gs, uint64_t total)
{
    const struct part_policy *pol = pl->pol;
    uint64_t limit = plan_memory_limit(pl->cpc);
    if (gs->n)
        qsort(gs->g, gs->n, sizeof(*gs->g), memory_cmp_growth);
    for (size_t g = 0; g < gs->n; g++) {
        const struct plan_view *v = gs->g[g].v;
        size_t i = plan_view_index(pl, v);
        uint64_t cur = v->memory, to = gs->g[g].to;
        uint64_t room = limit > total ? limit - total : 0;
        if (to - cur > room)
            to = cur + room;
        if (to < cur + pol->memory_deadband || !scratch_admits(pl, i, v->scratch_processors, to))
            continue;
        int ret = memory_action(pl, v, i, to, v->need_min, "the least", gs->g[g].pressure);
        if (ret < 0)
            return ret;
        total += to - cur;
    }
    return 0;
}

int plan_memory(struct planner *pl)
{
    const struct part_policy *pol = pl->pol;
    const struct part_cpc *cpc = pl->cpc;
    struct memory_growths gs = {0};
    uint64_t total = cpc->memory_active;
    int ret = 0;

    part_size_format(pol->memory_headroom, pl->headroom, sizeof(pl->headroom));
    part_size_format(pol->memory_step, pl->step, sizeof(pl->step));
    for (size_t i = 0; i < cpc->n && ret == 0; i++) {
        const struct plan_view *v = &pl->views[i];
        if (v->mem_valid &&
            plan_in_bounds((double)v->memory, (double)v->mem_min, (double)v->mem_reserved) &&
            v->changeable[PART_SET_MEMORY])
            ret = memory_judge(pl, i, v, &gs, &total);
    }
    if (ret == 0)
        ret = memory_grant(pl, &gs, total);
    free(gs.g);
    return ret;
}
