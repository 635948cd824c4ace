/* Commands over several CPCs (the list in cpcs.json, cpclist.h): cpcs, list
 * --all and plan --all. Every CPC is asked at once; one that cannot be
 * reached or refuses is shown as such, never hiding the others, and the
 * exit status is then PARTCTL_PARTIAL. What partds reply is checked before
 * it is counted: a number out of its range counts as absent. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <part/size.h>

#include "cpclist.h"
#include "output.h"
#include "partctl.h"

/* What the active shared partitions of a CPC use and are entitled to, in
 * processors of the shared pool; used is NAN when none is measured. */
static void sums(const json_t *parts, double *used, double *entitled)
{
    bool measured = false;

    *used = *entitled = 0;
    for (size_t i = 0; i < json_array_size(parts); i++) {
        const json_t *p = json_array_get(parts, i);
        if (!reply_is(p, "state", "active") || reply_is(p, "mode", "dedicated"))
            continue; /* the shared pool's: a dedicated partition has its own CPUs */
        double u = reply_number(p, "utilisation.used", 0, REPLY_PROCS_MAX, NAN);
        if (!isnan(u)) {
            *used += u;
            measured = true;
        }
        *entitled += reply_number(p, "entitlement", 0, REPLY_PROCS_MAX, 0);
    }
    if (!measured)
        *used = NAN;
}

int cpcs_ask(struct partctl_ctx *ctx, bool with_cpc, bool with_parts, struct cpc_view **ret,
             size_t *ret_n)
{
    static const char *const single[] = {"server", "cpc", "token-file", "cacert"};
    const struct opt_value *timeout = cli_global(ctx, "timeout");
    char err[1024];

    for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++)
        if (cli_global(ctx, single[i]))
            return cli_usage_error(ctx->cmd,
                                   "--%s is for one partd; this asks every CPC of the list "
                                   "(cpcs.json)",
                                   single[i]);
    if (cpclist_load(&ctx->cpcs, err, sizeof(err)) < 0)
        return cli_fail("%s", err);
    *ret =
        cpclist_views(ctx->cpcs, timeout ? (long)ceil(timeout->x * 1000) : 0, with_cpc, with_parts);
    if (!*ret)
        return cli_fail("out of memory");
    *ret_n = ctx->cpcs->n;
    return PARTCTL_OK;
}

/* The row of cpcs for v. */
static void cpcs_row(struct table *t, const struct cpc_view *v)
{
    const json_t *c = v->cpc;
    char a[64], b[64];

    table_cell(t, "%s", v->e->name);
    table_cell(t, "%s", v->e->url);
    table_cell(t, "%s", strcmp(v->state, "error") == 0 && v->status ? "refused" : v->state);
    if (strcmp(v->state, "ok") != 0) {
        for (int i = 0; i < 6; i++)
            table_cell(t, "-");
        return;
    }
    double used, entitled;
    sums(v->parts, &used, &entitled);
    double host = reply_number(c, "memory.host", 0, REPLY_MIB_MAX, NAN);
    double avail = host - reply_number(c, "memory.host_reserved", 0, REPLY_MIB_MAX, NAN);
    table_cell(t, "%s", output_value(reply_get(c, "processors.pool"), a, sizeof(a)));
    table_cell(t, "%.2f", entitled);
    table_cell(t, isnan(used) ? "-" : "%.2f", used);
    table_cell(t, "%s/%s", output_size(reply_get(c, "memory.active"), a, sizeof(a)),
               isfinite(avail) && avail >= 0 ? part_size_format((uint64_t)avail, b, sizeof(b))
                                             : "-");
    table_cell(t, "%s/%s", output_value(reply_get(c, "partitions.active"), a, sizeof(a)),
               output_value(reply_get(c, "partitions.defined"), b, sizeof(b)));
    table_cell(t, "%s", output_value(reply_get(c, "rebalancer.policy"), a, sizeof(a)));
}

/* cpcs --list: the list as the file has it, nothing asked. */
static int cpcs_list(struct partctl_ctx *ctx)
{
    char err[1024];

    if (cpclist_load(&ctx->cpcs, err, sizeof(err)) < 0)
        return cli_fail("%s", err);
    const struct part_cpcs *l = ctx->cpcs;
    json_t *all = json_array();
    struct table *t = table_new(4, 2);
    table_cell(t, "NAME");
    table_cell(t, "URL");
    table_cell(t, "TOKEN FILE");
    table_cell(t, "CACERT");
    for (size_t i = 0; i < l->n; i++) {
        const struct part_cpc_entry *e = &l->entries[i];
        table_cell(t, "%s", e->name);
        table_cell(t, "%s", e->url);
        table_cell(t, "%s", e->token_file ? e->token_file : "-");
        table_cell(t, "%s", e->cacert ? e->cacert : "-");
        json_array_append_new(all,
                              json_pack("{s:s, s:s, s:s?, s:s?}", "name", e->name, "url", e->url,
                                        "token_file", e->token_file, "cacert", e->cacert));
    }
    if (ctx->json) {
        json_t *o = json_pack("{s:s, s:o}", "file", l->path, "cpcs", all);
        output_json(o, stdout);
        json_decref(o);
    } else {
        table_print(t, stdout);
        json_decref(all);
    }
    table_free(t);
    return PARTCTL_OK;
}

int cmd_cpcs(struct partctl_ctx *ctx)
{
    struct cpc_view *v;
    size_t n;

    if (cli_flag(ctx, "list"))
        return cpcs_list(ctx);
    int r = cpcs_ask(ctx, true, true, &v, &n);
    if (r != PARTCTL_OK)
        return r;
    if (ctx->json) {
        json_t *all = json_array();
        for (size_t i = 0; i < n; i++) {
            json_t *o = cpclist_view_json(&v[i]);
            double used, entitled;
            if (v[i].cpc) {
                sums(v[i].parts, &used, &entitled);
                json_object_set(o, "cpc", v[i].cpc);
                json_object_set_new(o, "entitled", json_real(entitled));
                json_object_set_new(o, "used", isnan(used) ? json_null() : json_real(used));
            }
            json_array_append_new(all, o);
        }
        json_t *o = json_pack("{s:o}", "cpcs", all);
        output_json(o, stdout);
        json_decref(o);
    } else {
        static const char *const head[] = {"NAME", "URL",    "STATE",      "POOL",  "ENTITLED",
                                           "USED", "MEMORY", "PARTITIONS", "POLICY"};
        struct table *t = table_new(9, 2);
        for (size_t i = 0; i < 9; i++)
            table_cell(t, "%s", head[i]);
        for (size_t i = 0; i < n; i++)
            cpcs_row(t, &v[i]);
        table_print(t, stdout);
        table_free(t);
    }
    r = cpclist_report(v, n);
    cpclist_views_free(v, n);
    return r;
}

int cpcs_list_all(struct partctl_ctx *ctx)
{
    struct cpc_view *v;
    size_t n;

    int r = cpcs_ask(ctx, false, true, &v, &n);
    if (r != PARTCTL_OK)
        return r;
    if (ctx->json) {
        json_t *parts = json_array(), *cpcs = json_array();
        for (size_t i = 0; i < n; i++) {
            json_array_append_new(cpcs, cpclist_view_json(&v[i]));
            for (size_t j = 0; j < json_array_size(v[i].parts); j++) {
                json_t *p = json_deep_copy(json_array_get(v[i].parts, j));
                if (json_is_object(p))
                    json_object_set_new(p, "cpc", json_string(v[i].e->name));
                json_array_append_new(parts, p);
            }
        }
        json_t *o = json_pack("{s:o, s:o}", "partitions", parts, "cpcs", cpcs);
        output_json(o, stdout);
        json_decref(o);
    } else {
        struct table *t = table_new(1 + LIST_COLUMNS, 2);
        table_cell(t, "CPC");
        list_head(t);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < json_array_size(v[i].parts); j++) {
                table_cell(t, "%s", v[i].e->name);
                list_row(t, json_array_get(v[i].parts, j));
            }
        table_print(t, stdout);
        table_free(t);
    }
    r = cpclist_report(v, n);
    cpclist_views_free(v, n);
    return r;
}
