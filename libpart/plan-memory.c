/* The planner's memory rule: each partition's memory target follows what
 * its guest needs plus a headroom, a step at a time, with hysteresis over
 * the K samples. A guest under pressure (plan_view_sum_samples(): less
 * than the floor usable, or paging) in each of them grows at once to its
 * use + headroom + what it paged in an interval (a headroom at least); one
 * under pressure in any of them is never shrunk. Shrinks are planned first; growth then goes
 * to guests under pressure (those at their minimum first), then to the
 * highest weight, within what the CPC admits and what the host has free
 * beyond its reserve; while the host's own memory pressure is high, only
 * guests under pressure at their minimum grow. */
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

/* A guest under pressure at its minimum: never left so while the host has
 * memory. */
static bool memory_starved(const struct memory_growth *g)
{
    return g->pressure && g->v->memory <= g->v->mem_min;
}

/* Growth is granted to guests under pressure first, those at their minimum
 * before them, then to the highest weight, then by name. */
static int memory_cmp_growth(const void *x, const void *y)
{
    const struct memory_growth *a = x, *b = y;
    unsigned wa = a->v->weight, wb = b->v->weight;
    int sa = memory_starved(a), sb = memory_starved(b);
    if (sa != sb)
        return sb - sa;
    if (a->pressure != b->pressure)
        return (int)b->pressure - (int)a->pressure;
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
    char a[24], c[24], d[24], e[24];
    int ret;
    if (pressure) {
        char paging[128] = "";
        size_t at = 0;
        if (v->faults > 0)
            text_append(paging, sizeof(paging), &at, ", %.0f major faults/s", v->faults);
        if (v->swap_in > 0)
            text_append(paging, sizeof(paging), &at, ", %.1f MiB/s swap in", v->swap_in);
        if (v->swap_out > 0)
            text_append(paging, sizeof(paging), &at, ", %.1f MiB/s swap out", v->swap_out);
        ret = plan_add(pl, p, i, PART_SET_MEMORY, (double)p->memory, (double)to, false,
                       "%s: memory pressure for %u samples (at most %s of %s free%s); memory "
                       "%s -> %s (it uses %s, + the headroom %s, + what it paged in an "
                       "interval or the headroom again, at once)",
                       plan_name(p), pol->samples, text_size(sizes, v->spare_max, a),
                       text_size(sizes, p->memory, c), paging, c, text_size(sizes, to, d),
                       text_size(sizes, v->need_max, e), pl->headroom);
    } else
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

/* The target of a guest under pressure, MiB: the most it was seen to use
 * over the K samples, its headroom, and what it hides beyond that: what
 * it paged in an interval (swapped in or out, the more of the two, and a
 * page of 4 KiB a major fault, at the means of the K samples), a headroom
 * at least; at most mem_reserved. */
static uint64_t memory_pressure_target(const struct part_policy *pol, const struct plan_view *v)
{
    double swap = v->swap_in > v->swap_out ? v->swap_in : v->swap_out;
    double paged = (swap + v->faults * 4.0 / 1024) * pol->interval;
    double room = (double)v->mem_reserved;
    uint64_t head = pol->memory_headroom;
    uint64_t hidden = paged < room ? (uint64_t)paged : v->mem_reserved; /* also not finite */
    uint64_t to = v->need_max + head + (hidden > head ? hidden : head);
    return to < v->mem_reserved ? to : v->mem_reserved;
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
    /* A guest under pressure cannot show a need beyond what it has: it
     * gets what it paged (a second headroom at least) on top of need +
     * headroom, at once, not a step at a time. Shrinking then waits for
     * more than a headroom (and the dead-band) idle beyond need + headroom:
     * what such a growth may overshoot by is never taken back while the
     * need holds. */
    if (v->pressed) {
        uint64_t bump = memory_clamp(memory_pressure_target(pol, v), v->mem_min, v->mem_reserved);
        if (bump >= cur + dead || up >= cur + dead)
            return memory_ask_growth(gs, v, bump > up ? bump : up, true);
    }
    if (up >= cur + dead) {
        uint64_t to = up - cur > pol->memory_step ? cur + pol->memory_step : up;
        return memory_ask_growth(gs, v, to, false);
    }
    if (!v->pressed_any && down + head + dead <= cur) {
        uint64_t to = cur - down > pol->memory_step ? cur - pol->memory_step : down;
        int ret = memory_action(pl, v, i, to, v->need_max, "the most", false);
        if (ret < 0)
            return ret;
        *total -= cur - to;
    }
    return 0;
}

/* What the host may give in this plan, MiB: its free memory beyond its
 * reserve, as the newest sample saw it; no bound when it is unknown. */
static uint64_t memory_host_room(const struct part_cpc *cpc)
{
    uint64_t reserve = cpc->cfg.host_reserved_memory;
    if (!cpc->host.has_free)
        return UINT64_MAX;
    return cpc->host.free > reserve ? cpc->host.free - reserve : 0;
}

/* Grants the growths asked for in memory_cmp_growth()'s order, within
 * what admission control lets in (total: the memory of active partitions,
 * this plan's shrinks counted) and what the host has free; while the
 * host's memory pressure is at the policy's host_psi, only to guests
 * starved at their minimum. Returns 0 or -ENOMEM. */
static int memory_grant(struct planner *pl, struct memory_growths *gs, uint64_t total)
{
    const struct part_policy *pol = pl->pol;
    const struct part_cpc *cpc = pl->cpc;
    uint64_t limit = plan_memory_limit(cpc), host = memory_host_room(cpc);
    bool held = cpc->host.has_psi && cpc->host.psi_some10 >= pol->memory_host_psi;
    if (gs->n)
        qsort(gs->g, gs->n, sizeof(*gs->g), memory_cmp_growth);
    for (size_t g = 0; g < gs->n; g++) {
        const struct plan_view *v = gs->g[g].v;
        size_t i = plan_view_index(pl, v);
        uint64_t cur = v->memory, to = gs->g[g].to;
        uint64_t room = limit > total ? limit - total : 0;
        if (held && !memory_starved(&gs->g[g]))
            continue;
        room = room < host ? room : host;
        if (to - cur > room)
            to = cur + room;
        if (to < cur + pol->memory_deadband || !scratch_admits(pl, i, v->scratch_processors, to))
            continue;
        int ret = memory_action(pl, v, i, to, v->need_min, "the least", gs->g[g].pressure);
        if (ret < 0)
            return ret;
        total += to - cur;
        host -= host == UINT64_MAX ? 0 : to - cur;
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
