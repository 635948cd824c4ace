/* plan --all: where a partition would fit better. Every CPC of the list is
 * asked for its capacity and partitions at once; libpart's fit
 * (part/fit.h) finds the CPCs whose demand exceeds their shared pool
 * and suggests moves to CPCs with room. Nothing is moved: a suggestion is
 * made with `partctl --cpc FROM move NAME --to TO`, whose validation on
 * the target has the last word. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <part/name.h>
#include <part/fit.h>
#include <part/size.h>

#include "cpclist.h"
#include "output.h"
#include "partctl.h"

/* A partition of a reply as the fit counts it; false when its name
 * is none (a partd's reply is checked before it is counted). */
static bool place_partition(const json_t *j, struct part_fit_partition *p)
{
    const char *name = json_string_value(reply_get(j, "name"));

    if (!name || !part_name_valid(name))
        return false;
    snprintf(p->name, sizeof(p->name), "%s", name);
    p->active = reply_is(j, "state", "active");
    p->dedicated = reply_is(j, "mode", "dedicated");
    p->processors = (unsigned)reply_number(
        j, p->active ? "processors.online" : "processors.initial", 0, REPLY_PROCS_MAX, 0);
    p->used = reply_number(j, "utilisation.used", 0, REPLY_PROCS_MAX, NAN);
    p->entitlement = reply_number(j, "entitlement", 0, REPLY_PROCS_MAX, 0);
    p->cap = reply_number(j, "cap.current", 0, REPLY_PROCS_MAX, 0);
    p->memory = (uint64_t)reply_number(j, p->active ? "memory.target" : "memory.initial", 0,
                                       REPLY_MIB_MAX, 0);
    p->memory_min = (uint64_t)reply_number(j, "memory.min", 0, REPLY_MIB_MAX, 0);
    return true;
}

/* v as the fit counts it, its partitions into parts (room for all). */
static void place_cpc(const struct cpc_view *v, struct part_fit_cpc *c,
                      struct part_fit_partition *parts)
{
    const json_t *j = v->cpc;

    snprintf(c->name, sizeof(c->name), "%s", v->e->name);
    c->reachable = strcmp(v->state, "ok") == 0;
    c->parts = parts;
    if (!c->reachable)
        return;
    struct part_capacity *cap = &c->cap;
    cap->cpus = (unsigned)reply_number(j, "processors.host", 0, REPLY_PROCS_MAX, 0);
    cap->host_reserved_cpus =
        (unsigned)reply_number(j, "processors.host_reserved", 0, cap->cpus, cap->cpus);
    cap->cpu_overcommit = reply_number(j, "processors.cpu_overcommit", 1, 100, 1);
    cap->memory = (uint64_t)reply_number(j, "memory.host", 0, REPLY_MIB_MAX, 0);
    cap->host_reserved_memory =
        (uint64_t)reply_number(j, "memory.host_reserved", 0, (double)cap->memory, cap->memory);
    cap->memory_overcommit = reply_number(j, "memory.memory_overcommit", 1, 10, 1);
    for (size_t i = 0; i < json_array_size(v->parts); i++)
        c->n += place_partition(json_array_get(v->parts, i), &parts[c->n]);
}

static json_t *plan_json(const struct cpc_view *v, const struct part_fit_cpc *c,
                         const struct part_fit *pl)
{
    json_t *cpcs = json_array(), *moves = json_array();

    for (size_t i = 0; i < pl->n; i++) {
        const struct part_fit_result *r = &pl->cpcs[i];
        json_t *o = cpclist_view_json(&v[i]);
        if (c[i].reachable)
            json_object_update_new(o, json_pack("{s:I, s:f, s:b, s:I, s:f, s:s?}", "pool",
                                                (json_int_t)r->pool, "demand", r->demand, "over",
                                                r->over, "pool_after", (json_int_t)r->pool_after,
                                                "demand_after", r->demand_after, "note",
                                                r->note[0] ? r->note : NULL));
        json_array_append_new(cpcs, o);
    }
    for (size_t i = 0; i < pl->n_moves; i++) {
        const struct part_fit_move *m = &pl->moves[i];
        const struct part_fit_partition *p = &c[m->from].parts[m->part];
        json_array_append_new(moves, json_pack("{s:s, s:s, s:s, s:f, s:I, s:s}", "partition",
                                               p->name, "from", c[m->from].name, "to",
                                               c[m->to].name, "demand", m->demand, "memory",
                                               (json_int_t)p->memory, "reason", m->reason));
    }
    return json_pack("{s:o, s:o}", "cpcs", cpcs, "moves", moves);
}

static void plan_print(const struct part_fit_cpc *c, const struct part_fit *pl)
{
    struct table *t = table_new(6, 2);
    static const char *const head[] = {"CPC", "STATE", "POOL", "DEMAND", "AFTER MOVES", "NOTE"};
    char a[32];

    for (size_t i = 0; i < 6; i++)
        table_cell(t, "%s", head[i]);
    for (size_t i = 0; i < pl->n; i++) {
        const struct part_fit_result *r = &pl->cpcs[i];
        table_cell(t, "%s", c[i].name);
        if (!c[i].reachable) {
            table_cell(t, "unknown");
            for (int k = 0; k < 4; k++)
                table_cell(t, "-");
            continue;
        }
        table_cell(t, "%s", r->over ? "over its pool" : "within its pool");
        table_cell(t, "%u", r->pool);
        table_cell(t, "%.2f", r->demand);
        table_cell(t, "%.2f of %u", r->demand_after, r->pool_after);
        table_cell(t, "%s", r->note[0] ? r->note : "");
    }
    table_print(t, stdout);
    table_free(t);
    putchar('\n');
    if (!pl->n_moves) {
        puts("(no move suggested: no CPC's demand exceeds its pool, or none has room)");
        return;
    }
    puts("Suggested moves (none is made: `partctl --cpc FROM move PARTITION --to TO` makes one):");
    t = table_new(6, 2);
    static const char *const mhead[] = {"PARTITION", "FROM", "TO", "DEMAND", "MEMORY", "REASON"};
    for (size_t i = 0; i < 6; i++)
        table_cell(t, "%s", mhead[i]);
    for (size_t i = 0; i < pl->n_moves; i++) {
        const struct part_fit_move *m = &pl->moves[i];
        const struct part_fit_partition *p = &c[m->from].parts[m->part];
        table_cell(t, "%s", p->name);
        table_cell(t, "%s", c[m->from].name);
        table_cell(t, "%s", c[m->to].name);
        table_cell(t, p->dedicated ? "%.0f dedicated" : "%.2f", m->demand);
        table_cell(t, "%s", part_size_format(p->memory, a, sizeof(a)));
        table_cell(t, "%s", m->reason);
    }
    table_print(t, stdout);
    table_free(t);
}

int cpcs_plan_all(struct partctl_ctx *ctx)
{
    struct part_fit *pl = NULL;
    struct cpc_view *v;
    size_t n;

    int r = cpcs_ask(ctx, true, true, &v, &n);
    if (r != PARTCTL_OK)
        return r;
    struct part_fit_cpc *c = calloc(n + 1, sizeof(*c));
    struct part_fit_partition **parts = calloc(n + 1, sizeof(*parts));
    if (!c || !parts) {
        r = cli_fail("out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (!(parts[i] = calloc(json_array_size(v[i].parts) + 1, sizeof(**parts)))) {
            r = cli_fail("out of memory");
            goto out;
        }
        place_cpc(&v[i], &c[i], parts[i]);
    }
    if (part_fit_plan(c, n, &pl, NULL) < 0) {
        r = cli_fail("out of memory");
        goto out;
    }
    if (ctx->json) {
        json_t *o = plan_json(v, c, pl);
        output_json(o, stdout);
        json_decref(o);
    } else {
        plan_print(c, pl);
    }
    r = cpclist_report(v, n);
out:
    for (size_t i = 0; parts && i < n; i++)
        free(parts[i]);
    free(parts);
    free(c);
    part_fit_free(pl);
    cpclist_views_free(v, n);
    return r;
}
