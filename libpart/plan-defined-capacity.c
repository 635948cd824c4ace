/* The planner's defined capacity rule: a shared partition whose rolling
 * average use goes over its profile's defined capacity is capped at it;
 * once the average falls a dead-band below, the profile's cap comes back.
 * Its actions are the only cap actions the planner makes (dc set). */
#include "plan-internal.h"

int plan_defined_capacity(struct planner *pl)
{
    const struct part_policy *pol = pl->pol;
    char a[32], b[32];

    for (size_t i = 0; i < pl->cpc->n; i++) {
        const struct plan_view *v = &pl->views[i];
        double dc = v->defined_capacity, seen;
        if (!v->active || !v->managed || !v->has_history || v->mode != PART_MODE_SHARED ||
            dc == PART_CAP_NONE)
            continue;
        const struct part_partition *p = v->p;
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
                           plan_name(p), avg, seen, window, dc, text_cap(p->cap, a, sizeof(a)), dc);
        else if (p->dc_capped && avg < dc * (1 - pol->deadband))
            ret = plan_add(pl, p, i, PART_SET_CAP, p->cap, p->profile->cap, true,
                           "%s: rolling average %.2f over %.0f s (of a %.0f s window) < defined "
                           "capacity %.2f - %.0f%%; cap %s -> %s (the profile's)",
                           plan_name(p), avg, seen, window, dc, pol->deadband * 100,
                           text_cap(p->cap, a, sizeof(a)), text_cap(p->profile->cap, b, sizeof(b)));
        if (ret < 0)
            return ret;
    }
    return 0;
}
