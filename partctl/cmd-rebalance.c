/* Commands about the rebalancer: plan (what it would change now), rebalance
 * (change it now) and policy (the rules it follows). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "output.h"
#include "partctl.h"

/* "not tried" rather than the API's "not-tried" */
static const char *short_status(const json_t *a)
{
    const char *status = json_string_value(reply_get(a, "status"));

    if (!status)
        return "-";
    return strcmp(status, "not-tried") == 0 ? "not tried" : status;
}

/* Prints the actions of a plan, or of a rebalance (with_status: their
 * outcome too, and the backend's details under the table). Returns how
 * many failed. */
static size_t print_actions(const json_t *actions, bool with_status)
{
    size_t n = json_array_size(actions), failed = 0, details = 0;
    char a[64], b[64];

    if (n == 0) {
        puts("(no action: everything is within its bounds and balanced)");
        return 0;
    }
    struct table *t = table_new(with_status ? 6 : 5, 2);
    table_cell(t, "PARTITION");
    table_cell(t, "SETTING");
    table_cell(t, "FROM");
    table_cell(t, "TO");
    if (with_status)
        table_cell(t, "STATUS");
    table_cell(t, "REASON");
    for (size_t i = 0; i < n; i++) {
        const json_t *x = json_array_get(actions, i);
        const char *setting = json_string_value(reply_get(x, "setting"));
        const char *detail = json_string_value(reply_get(x, "detail"));
        const char *reason = json_string_value(reply_get(x, "reason"));
        table_cell(t, "%s", output_value(reply_get(x, "partition"), a, sizeof(a)));
        table_cell(t, "%s", setting ? setting : "-");
        table_cell(t, "%s",
                   output_field(setting ? setting : "", reply_get(x, "from"), a, sizeof(a)));
        table_cell(t, "%s", output_field(setting ? setting : "", reply_get(x, "to"), b, sizeof(b)));
        if (with_status)
            table_cell(t, "%s", short_status(x));
        table_cell(t, "%s", reason ? reason : "-");
        failed += strcmp(short_status(x), "failed") == 0;
        details += detail && detail[0];
    }
    table_print(t, stdout);
    table_free(t);
    if (!with_status || !details)
        return failed;
    /* the details are long (the backend's words): below the table */
    putchar('\n');
    for (size_t i = 0; i < n; i++) {
        const json_t *x = json_array_get(actions, i);
        const char *detail = json_string_value(reply_get(x, "detail"));
        if (detail && detail[0])
            printf("%s %s: %s: %s\n", output_value(reply_get(x, "partition"), a, sizeof(a)),
                   output_value(reply_get(x, "setting"), b, sizeof(b)), short_status(x), detail);
    }
    return failed;
}

int cmd_plan(struct partctl_ctx *ctx)
{
    json_t *reply = NULL;

    const struct opt_value *policy = cli_opt(ctx, "policy");
    char *esc = NULL, *path = NULL;

    if (cli_flag(ctx, "all")) {
        if (policy)
            return cli_usage_error(ctx->cmd, "--policy plans on one CPC: not with --all");
        return cpcs_plan_all(ctx);
    }
    if (policy && !policy->text[0])
        return cli_usage_error(ctx->cmd, "the policy name is empty");
    /* the name escaped: one that is not a policy's reaches partd as its 422 */
    if (policy && ((esc = curl_easy_escape(NULL, policy->text, 0)) == NULL ||
                   asprintf(&path, "/v1/plan?policy=%s", esc) < 0))
        path = NULL;
    curl_free(esc);
    if (policy && !path)
        return cli_fail("out of memory");
    int r = cli_call(ctx, "GET", path ? path : "/v1/plan", NULL, &reply);
    if (r == PARTCTL_OK && !ctx->json)
        print_actions(reply_get(reply, "actions"), false);
    json_decref(reply);
    free(path);
    return r;
}

int cmd_rebalance(struct partctl_ctx *ctx)
{
    json_t *reply = NULL, *actions;

    int r = cli_call(ctx, "POST", "/v1/rebalance", NULL, &reply);
    if (r != PARTCTL_OK) {
        json_decref(reply);
        return r;
    }
    actions = reply_get(reply, "actions");
    size_t failed = 0;
    if (ctx->json) {
        for (size_t i = 0; i < json_array_size(actions); i++)
            failed += strcmp(short_status(json_array_get(actions, i)), "failed") == 0;
    } else {
        failed = print_actions(actions, true);
    }
    if (failed)
        r = cli_fail("%zu of %zu actions failed", failed, json_array_size(actions));
    json_decref(reply);
    return r;
}

/* A policy parameter: reals as they are (0.125, not 0.13), MiB as sizes. */
static const char *policy_value(const json_t *v, bool mib, char *buf, size_t len)
{
    if (json_is_real(v)) {
        snprintf(buf, len, "%g", json_real_value(v));
        return buf;
    }
    if (mib && json_is_integer(v))
        return output_size(v, buf, len);
    return output_value(v, buf, len);
}

/* One row per member of o, nested objects indented below their key. */
static void policy_rows(struct table *t, json_t *o, int depth, bool mib)
{
    char buf[320];

    for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it)) {
        const char *key = json_object_iter_key(it);
        json_t *v = json_object_iter_value(it);
        table_cell(t, "%*s%s:", 2 * depth, "", key);
        if (json_is_object(v)) {
            table_cell(t, "%s", json_object_size(v) ? "" : "-");
            /* under "memory", the amounts are MiB ("manage.memory" is a flag) */
            policy_rows(t, v, depth + 1, strcmp(key, "memory") == 0);
        } else {
            table_cell(t, "%s", policy_value(v, mib, buf, sizeof(buf)));
        }
    }
}

/* policy --list: a row per policy partd can switch to, * by the one in force */
static int policy_list(struct partctl_ctx *ctx)
{
    json_t *reply = NULL, *list;
    char a[320];

    int r = cli_call(ctx, "GET", "/v1/policies", NULL, &reply);
    if (r == PARTCTL_OK && !ctx->json) {
        list = reply_get(reply, "policies");
        struct table *t = table_new(3, 2);
        table_cell(t, "%s", "");
        table_cell(t, "NAME");
        table_cell(t, "DESCRIPTION");
        for (size_t i = 0; i < json_array_size(list); i++) {
            const json_t *p = json_array_get(list, i);
            table_cell(t, "%s", json_is_true(reply_get(p, "active")) ? "*" : "");
            table_cell(t, "%s", output_value(reply_get(p, "name"), a, sizeof(a)));
            table_cell(t, "%s", output_value(reply_get(p, "description"), a, sizeof(a)));
        }
        table_print(t, stdout);
        table_free(t);
    }
    json_decref(reply);
    return r;
}

int cmd_policy(struct partctl_ctx *ctx)
{
    const char *name = ctx->args[0];
    json_t *reply = NULL, *body = NULL;
    int r;

    if (cli_flag(ctx, "list")) {
        if (name)
            return cli_usage_error(ctx->cmd, "--list lists: give no POLICY with it");
        return policy_list(ctx);
    }
    if (name && !name[0])
        return cli_usage_error(ctx->cmd, "the policy name is empty");
    if (name) {
        body = json_pack("{s:s}", "name", name);
        r = cli_call(ctx, "PUT", "/v1/policy", body, &reply);
    } else {
        r = cli_call(ctx, "GET", "/v1/policy", NULL, &reply);
    }
    if (r == PARTCTL_OK && !ctx->json && json_is_object(reply)) {
        const char *now = json_string_value(reply_get(reply, "name"));
        if (name)
            printf("policy %s in force\n\n", now ? now : name);
        struct table *t = table_new(2, 1);
        policy_rows(t, reply, 0, false);
        table_print(t, stdout);
        table_free(t);
    }
    json_decref(reply);
    json_decref(body);
    return r;
}
