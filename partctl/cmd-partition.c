/* Commands on partitions: list, show, define, undefine, activate,
 * deactivate, resize. Each sends one request and prints the reply; the
 * shape of the replies is docs/api.md's. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <part/part.h>

#include "output.h"
#include "partctl.h"

/* "/v1/partitions/NAME[/ACTION]" with NAME escaped: a name that is not a
 * partition's should reach partd as a 404, not as another route. */
static char *partition_path(const char *name, const char *action)
{
    char *esc = curl_easy_escape(NULL, name, 0), *path;

    if (!esc ||
        asprintf(&path, "/v1/partitions/%s%s%s", esc, action ? "/" : "", action ? action : "") < 0)
        path = NULL;
    curl_free(esc);
    return path ? path : xstrdup("/v1/partitions/-"); /* asprintf failed: ENOMEM */
}

static bool is_active(const json_t *p)
{
    const char *state = json_string_value(reply_get(p, "state"));
    return state && strcmp(state, "active") == 0;
}

static bool is_shared(const json_t *p)
{
    const char *mode = json_string_value(reply_get(p, "mode"));
    return !mode || strcmp(mode, "dedicated") != 0;
}

/* The processors, weight, cap and memory cells of list: the running value
 * when active, the profile's when not; "*" marks a pending change. */
static void list_cell(struct table *t, const json_t *p, const char *field, const char *running,
                      const char *profile)
{
    const json_t *o = reply_get(p, field);
    bool active = is_active(p);
    char buf[64];

    output_field(field, reply_get(o, active ? running : profile), buf, sizeof(buf));
    table_cell(t, "%s%s", buf, active && reply_get(reply_get(p, "pending"), field) ? "*" : "");
}

void list_head(struct table *t)
{
    static const char *const head[] = {"NAME", "STATE",       "MODE",   "CPUS", "WEIGHT",
                                       "CAP",  "ENTITLEMENT", "MEMORY", "GROUP"};
    for (size_t i = 0; i < LIST_COLUMNS; i++)
        table_cell(t, "%s", head[i]);
}

void list_row(struct table *t, const json_t *p)
{
    const json_t *ent = reply_get(p, "entitlement");
    char a[64];

    table_cell(t, "%s", output_value(reply_get(p, "name"), a, sizeof(a)));
    table_cell(t, "%s", output_value(reply_get(p, "state"), a, sizeof(a)));
    table_cell(t, "%s", output_value(reply_get(p, "mode"), a, sizeof(a)));
    list_cell(t, p, "processors", "online", "initial");
    if (is_shared(p)) {
        list_cell(t, p, "weight", "current", "initial");
        list_cell(t, p, "cap", "current", "initial");
    } else {
        table_cell(t, "-");
        table_cell(t, "-");
    }
    if (json_is_number(ent) && is_active(p))
        table_cell(t, "%.2f", json_number_value(ent));
    else
        table_cell(t, "-");
    list_cell(t, p, "memory", "target", "initial");
    table_cell(t, "%s", output_value(reply_get(p, "group"), a, sizeof(a)));
}

int cmd_list(struct partctl_ctx *ctx)
{
    json_t *reply = NULL;

    if (cli_flag(ctx, "all"))
        return cpcs_list_all(ctx);
    int r = cli_call(ctx, "GET", "/v1/partitions", NULL, &reply);
    if (r == PARTCTL_OK && !ctx->json) {
        struct table *t = table_new(LIST_COLUMNS, 2);
        const json_t *parts = reply_get(reply, "partitions");
        list_head(t);
        /* plain loops: clang-format does not know jansson's foreach macros */
        for (size_t i = 0; i < json_array_size(parts); i++)
            list_row(t, json_array_get(parts, i));
        table_print(t, stdout);
        table_free(t);
    }
    json_decref(reply);
    return r;
}

/* "RUNNING (PROFILE)" when active, "PROFILE" when not. */
static void running_profile(struct table *t, const char *key, bool active, const char *running,
                            const char *profile)
{
    table_cell(t, "%s", key);
    if (active)
        table_cell(t, "%s (%s)", running, profile);
    else
        table_cell(t, "%s", profile);
}

/* "2.5 processors (31% of online)", from {"used", "of_online", "at"}; "at"
 * is on partd's clock, which means nothing here. */
static void show_utilisation(struct table *t, const json_t *p)
{
    const json_t *u = reply_get(p, "utilisation");
    char a[64];

    table_cell(t, "utilisation:");
    if (json_is_object(u) && json_is_number(reply_get(u, "used")) &&
        json_is_number(reply_get(u, "of_online")))
        table_cell(t, "%s processors (%.0f%% of online)",
                   output_value(reply_get(u, "used"), a, sizeof(a)),
                   100 * json_number_value(reply_get(u, "of_online")));
    else if (json_is_number(u))
        table_cell(t, "%s processors", output_value(u, a, sizeof(a)));
    else
        table_cell(t, "%s", is_active(p) ? "not measured yet" : "-");
}

/* What the guest leaves unused and how it pages, when it reports them. */
static void show_paging(struct table *t, const json_t *m)
{
    const json_t *pg = reply_get(m, "paging");
    char a[64], b[64], c[64], d[64];

    if (!json_is_number(reply_get(m, "unused")))
        return;
    table_cell(t, "memory use:");
    if (!json_is_object(pg) || json_is_null(reply_get(pg, "major_faults"))) {
        table_cell(t, "%s unused", output_size(reply_get(m, "unused"), a, sizeof(a)));
        return;
    }
    snprintf(b, sizeof(b), "%.0f", json_number_value(reply_get(pg, "major_faults")));
    snprintf(c, sizeof(c), "%.1f", json_number_value(reply_get(pg, "swap_in")));
    snprintf(d, sizeof(d), "%.1f", json_number_value(reply_get(pg, "swap_out")));
    table_cell(t, "%s unused, %s major faults/s, swap %s MiB/s in, %s MiB/s out",
               output_size(reply_get(m, "unused"), a, sizeof(a)), b,
               json_is_number(reply_get(pg, "swap_in")) ? c : "-",
               json_is_number(reply_get(pg, "swap_out")) ? d : "-");
}

static void show_settings(struct table *t, const json_t *p)
{
    const json_t *pr = reply_get(p, "processors"), *w = reply_get(p, "weight"),
                 *c = reply_get(p, "cap");
    const json_t *m = reply_get(p, "memory");
    bool active = is_active(p);
    char a[64], b[64], c1[64], d[64], run[160], prof[200];

    output_value(reply_get(pr, "online"), run, sizeof(run));
    strcat(run, " online");
    snprintf(prof, sizeof(prof), "initial %s, min %s, reserved %s",
             output_value(reply_get(pr, "initial"), a, sizeof(a)),
             output_value(reply_get(pr, "min"), b, sizeof(b)),
             output_value(reply_get(pr, "reserved"), c1, sizeof(c1)));
    running_profile(t, "processors:", active, run, prof);
    if (is_shared(p)) {
        output_value(reply_get(w, "current"), run, sizeof(run));
        snprintf(prof, sizeof(prof), "initial %s, min %s, max %s",
                 output_value(reply_get(w, "initial"), a, sizeof(a)),
                 output_value(reply_get(w, "min"), b, sizeof(b)),
                 output_value(reply_get(w, "max"), c1, sizeof(c1)));
        running_profile(t, "weight:", active, run, prof);
        output_cap(reply_get(c, "current"), run, sizeof(run));
        if (json_is_true(reply_get(c, "by_defined_capacity")))
            strcat(run, ", set by the defined capacity");
        snprintf(prof, sizeof(prof), "initial %s",
                 output_cap(reply_get(c, "initial"), a, sizeof(a)));
        running_profile(t, "cap:", active, run, prof);
        if (reply_get(c, "defined_capacity")) {
            table_cell(t, "defined capacity:");
            if (json_is_number(reply_get(c, "defined_capacity")))
                table_cell(t, "%s processors (a limit on the rolling average)",
                           output_value(reply_get(c, "defined_capacity"), a, sizeof(a)));
            else
                table_cell(t, "none");
        }
    }
    table_cell(t, "entitlement:");
    if (active && json_is_number(reply_get(p, "entitlement")))
        table_cell(t, "%.2f processors", json_number_value(reply_get(p, "entitlement")));
    else
        table_cell(t, "-");
    snprintf(run, sizeof(run), "%s target", output_size(reply_get(m, "target"), a, sizeof(a)));
    if (!json_is_null(reply_get(m, "actual")) && reply_get(m, "actual"))
        snprintf(run + strlen(run), sizeof(run) - strlen(run), ", %s actual",
                 output_size(reply_get(m, "actual"), a, sizeof(a)));
    snprintf(prof, sizeof(prof), "initial %s, min %s, reserved %s",
             output_size(reply_get(m, "initial"), b, sizeof(b)),
             output_size(reply_get(m, "min"), c1, sizeof(c1)),
             output_size(reply_get(m, "reserved"), d, sizeof(d)));
    running_profile(t, "memory:", active, run, prof);
    show_paging(t, m);
    show_utilisation(t, p);
}

static void show_pending(struct table *t, const json_t *p)
{
    json_t *pending = reply_get(p, "pending");
    char list[512] = "", a[64];

    for (void *it = json_object_iter(pending); it; it = json_object_iter_next(pending, it)) {
        const char *field = json_object_iter_key(it);
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s %s", list[0] ? ", " : "",
                 field, output_field(field, json_object_iter_value(it), a, sizeof(a)));
    }
    table_cell(t, "pending:");
    if (list[0])
        table_cell(t, "%s (at the next activation)", list);
    else
        table_cell(t, "none");
}

static void show_backend(struct table *t, const json_t *p)
{
    json_t *backend = reply_get(p, "backend");
    char buf[600];

    table_cell(t, "backend:");
    table_cell(t, "%s", json_object_size(backend) ? "" : "-");
    for (void *it = json_object_iter(backend); it; it = json_object_iter_next(backend, it)) {
        table_cell(t, "  %s:", json_object_iter_key(it));
        table_cell(t, "%s", output_status(json_object_iter_value(it), buf, sizeof(buf)));
    }
}

/* Prints a Partition object as a "key: value" block. */
static void show_partition(const json_t *p)
{
    struct table *t = table_new(2, 1);
    char a[64];
    const char *managed = json_string_value(reply_get(p, "managed_domain"));

    table_cell(t, "name:");
    table_cell(t, "%s", output_value(reply_get(p, "name"), a, sizeof(a)));
    table_cell(t, "state:");
    table_cell(t, "%s", output_value(reply_get(p, "state"), a, sizeof(a)));
    table_cell(t, "mode:");
    table_cell(t, "%s", output_value(reply_get(p, "mode"), a, sizeof(a)));
    table_cell(t, "group:");
    table_cell(t, "%s", output_value(reply_get(p, "group"), a, sizeof(a)));
    table_cell(t, "autostart:");
    table_cell(t, "%s", output_value(reply_get(p, "autostart"), a, sizeof(a)));
    table_cell(t, "domain:");
    /* not through a buffer: an adopted domain's name can be long */
    const char *domain = json_string_value(reply_get(p, "domain"));
    table_cell(t, "%s%s%s%s", domain ? domain : "-", managed ? " (" : "", managed ? managed : "",
               managed ? ")" : "");
    table_cell(t, "managed:");
    if (json_is_boolean(reply_get(p, "managed")))
        table_cell(t, "%s",
                   json_is_true(reply_get(p, "managed")) ? "yes (the rebalancer may change it)"
                                                         : "no (the rebalancer leaves it alone)");
    else
        table_cell(t, "-");
    show_settings(t, p);
    show_pending(t, p);
    show_backend(t, p);
    table_print(t, stdout);
    table_free(t);
}

int cmd_show(struct partctl_ctx *ctx)
{
    char *path = partition_path(ctx->args[0], NULL);
    json_t *reply = NULL;

    int r = cli_call(ctx, "GET", path, NULL, &reply);
    if (r == PARTCTL_OK && !ctx->json)
        show_partition(reply);
    json_decref(reply);
    free(path);
    return r;
}

/* Sends a request about one partition whose reply is the partition, and
 * says what happened ("partition prod activated") above it. */
static int partition_action(struct partctl_ctx *ctx, const char *method, const char *path,
                            json_t *body, const char *done)
{
    json_t *reply = NULL;

    int r = cli_call(ctx, method, path, body, &reply);
    if (r == PARTCTL_OK && !ctx->json) {
        const char *name = json_string_value(reply_get(reply, "name"));
        printf("partition %s %s\n", name ? name : ctx->args[0], done);
        if (json_is_object(reply)) {
            putchar('\n');
            show_partition(reply);
        }
    }
    json_decref(reply);
    return r;
}

int cmd_define(struct partctl_ctx *ctx)
{
    const char *file = ctx->args[0];
    struct part_profile *p = NULL;
    struct part_error e = {0};
    json_error_t jerr;
    char msg[1024];

    /* partd would refuse it too, but only the local check knows the file, so
     * only it can say file:line:column */
    if (part_profile_load(file, &p, &e) < 0) {
        fprintf(stderr, "%s\n", part_error_format(&e, msg, sizeof(msg)));
        return PARTCTL_FAILED;
    }
    part_profile_free(p);
    json_t *body = json_load_file(file, 0, &jerr);
    if (!body)
        return cli_fail("%s:%d:%d: %s", file, jerr.line, jerr.column, jerr.text);
    int r = partition_action(ctx, "POST", "/v1/partitions", body, "defined");
    json_decref(body);
    return r;
}

int cmd_undefine(struct partctl_ctx *ctx)
{
    char *path = partition_path(ctx->args[0], NULL);

    int r = cli_call(ctx, "DELETE", path, NULL, NULL);
    if (r == PARTCTL_OK && !ctx->json)
        printf("partition %s undefined\n", ctx->args[0]);
    free(path);
    return r;
}

int cmd_activate(struct partctl_ctx *ctx)
{
    char *path = partition_path(ctx->args[0], "activate");

    int r = partition_action(ctx, "POST", path, NULL, "activated");
    free(path);
    return r;
}

/* partd replies once the guest is down: the request waits for the
 * shutdown and some more */
#define DEACTIVATE_REPLY_S 30

int cmd_deactivate(struct partctl_ctx *ctx)
{
    const struct opt_value *timeout = cli_opt(ctx, "timeout");
    bool force = cli_flag(ctx, "force");
    json_t *body = NULL;

    if (force || timeout) {
        body = json_object();
        if (force)
            json_object_set_new(body, "force", json_true());
        /* seconds, whole ones as an integer as docs/api.md shows them */
        if (timeout && timeout->x == floor(timeout->x))
            json_object_set_new(body, "timeout", json_integer((json_int_t)timeout->x));
        else if (timeout)
            json_object_set_new(body, "timeout", json_real(timeout->x));
    }
    if (timeout && ctx->client.timeout_ms < (timeout->x + DEACTIVATE_REPLY_S) * 1000)
        ctx->client.timeout_ms = (long)ceil((timeout->x + DEACTIVATE_REPLY_S) * 1000);
    char *path = partition_path(ctx->args[0], "deactivate");
    int r = partition_action(ctx, "POST", path, body, "deactivated");
    free(path);
    json_decref(body);
    return r;
}

/* The changes of a PATCH reply, one row each. */
static void print_changes(const json_t *changes)
{
    struct table *t = table_new(5, 2);
    char a[64], b[64], st[600];

    table_cell(t, "FIELD");
    table_cell(t, "SCOPE");
    table_cell(t, "FROM");
    table_cell(t, "TO");
    table_cell(t, "STATUS");
    for (size_t i = 0; i < json_array_size(changes); i++) {
        const json_t *c = json_array_get(changes, i);
        const char *field = json_string_value(reply_get(c, "field"));
        table_cell(t, "%s", field ? field : "-");
        table_cell(t, "%s", output_value(reply_get(c, "scope"), a, sizeof(a)));
        table_cell(t, "%s", output_field(field ? field : "", reply_get(c, "from"), a, sizeof(a)));
        table_cell(t, "%s", output_field(field ? field : "", reply_get(c, "to"), b, sizeof(b)));
        table_cell(t, "%s", output_status(c, st, sizeof(st)));
    }
    table_print(t, stdout);
    table_free(t);
}

/* "--cpus, --memory, ... or --cap": the options that are settings */
static void setting_options(const struct partctl_cmd *cmd, char *buf, size_t len)
{
    const struct partctl_opt *o, *last = NULL;

    for (o = cmd->opts; o->name; o++)
        if (o->type == OPT_SETTING)
            last = o;
    buf[0] = '\0';
    for (o = cmd->opts; o->name; o++) {
        const char *sep = !buf[0] ? "" : o == last ? " or " : ", ";
        if (o->type == OPT_SETTING)
            snprintf(buf + strlen(buf), len - strlen(buf), "%s--%s", sep, o->name);
    }
}

/* The PATCH body from the options, or NULL after a usage error. Each
 * option that is a setting gives a member named and written as libpart's
 * settings table says (a cap of none as null); the values were checked
 * against its ranges while parsing. */
static json_t *resize_body(struct partctl_ctx *ctx)
{
    const struct opt_value *scope = cli_opt(ctx, "scope");
    json_t *body = json_object();
    char list[256];

    for (size_t i = 0; ctx->cmd->opts[i].name; i++) {
        const struct partctl_opt *o = &ctx->cmd->opts[i];
        const struct opt_value *v = &ctx->values[i];
        if (o->type != OPT_SETTING || !v->text)
            continue;
        json_object_set_new(body, part_setting_name(o->setting),
                            part_setting_json(o->setting, v->none ? PART_CAP_NONE : v->x));
    }
    if (json_object_size(body) == 0) {
        json_decref(body);
        setting_options(ctx->cmd, list, sizeof(list));
        cli_usage_error(ctx->cmd, "nothing to change: give %s", list);
        return NULL;
    }
    if (scope)
        json_object_set_new(body, "scope", json_string(scope->text));
    return body;
}

int cmd_resize(struct partctl_ctx *ctx)
{
    json_t *body = resize_body(ctx), *reply = NULL;

    if (!body)
        return PARTCTL_USAGE;
    char *path = partition_path(ctx->args[0], NULL);
    int r = cli_call(ctx, "PATCH", path, body, &reply);
    /* a 502 carries the changes too: what was applied before the failure */
    if (!ctx->json && json_is_array(reply_get(reply, "changes"))) {
        print_changes(reply_get(reply, "changes"));
        if (json_is_object(reply_get(reply, "partition"))) {
            putchar('\n');
            show_partition(reply_get(reply, "partition"));
        }
    }
    json_decref(reply);
    json_decref(body);
    free(path);
    return r;
}
