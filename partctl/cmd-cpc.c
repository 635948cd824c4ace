/* Commands about partd and its host: cpc, version, health. */
#include <string.h>

#include "output.h"
#include "partctl.h"

/* [2,3,4,5,8] as "2-5,8" */
static void cpu_ranges(const json_t *cpus, char *buf, size_t len)
{
    size_t i, n = json_array_size(cpus), used = 0;

    buf[0] = '\0';
    for (i = 0; i < n && used < len;) {
        json_int_t first = json_integer_value(json_array_get(cpus, i)), last = first;
        while (i + 1 < n && json_integer_value(json_array_get(cpus, i + 1)) == last + 1)
            last = json_integer_value(json_array_get(cpus, ++i));
        i++;
        if (first == last)
            used += snprintf(buf + used, len - used, "%s%lld", used ? "," : "", (long long)first);
        else
            used += snprintf(buf + used, len - used, "%s%lld-%lld", used ? "," : "",
                             (long long)first, (long long)last);
    }
}

static void print_groups(const json_t *groups)
{
    struct table *t = table_new(4, 2);
    char a[64], members[512];

    table_cell(t, "GROUP");
    table_cell(t, "CAP");
    table_cell(t, "WEIGHT");
    table_cell(t, "MEMBERS");
    /* plain loops: clang-format does not know jansson's foreach macros */
    for (size_t i = 0; i < json_array_size(groups); i++) {
        const json_t *g = json_array_get(groups, i), *m = reply_get(g, "members");
        table_cell(t, "%s", output_value(reply_get(g, "name"), a, sizeof(a)));
        table_cell(t, "%s", output_cap(reply_get(g, "cap"), a, sizeof(a)));
        table_cell(t, "%s", output_value(reply_get(g, "weight_total"), a, sizeof(a)));
        members[0] = '\0';
        for (size_t j = 0; j < json_array_size(m); j++) {
            const char *name = json_string_value(json_array_get(m, j));
            snprintf(members + strlen(members), sizeof(members) - strlen(members), "%s%s",
                     j ? ", " : "", name ? name : "?");
        }
        table_cell(t, "%s", members[0] ? members : "-");
    }
    table_print(t, stdout);
    table_free(t);
}

static void print_cpc(const json_t *cpc)
{
    const json_t *p = reply_get(cpc, "processors"), *m = reply_get(cpc, "memory");
    const json_t *parts = reply_get(cpc, "partitions");
    const char *uri = json_string_value(reply_get(cpc, "uri"));
    struct table *t = table_new(2, 1);
    char a[64], b[64], c[64], d[64], cpus[256];

    printf("CPC %s (driver %s, backend %s)\n", uri ? uri : "-",
           output_value(reply_get(cpc, "driver"), a, sizeof(a)),
           output_value(reply_get(cpc, "backend"), b, sizeof(b)));
    cpu_ranges(reply_get(p, "pool_cpus"), cpus, sizeof(cpus));
    table_cell(t, "  processors:");
    table_cell(t, "%s host CPUs, %s reserved for the host, %s dedicated, shared pool %s%s%s%s",
               output_value(reply_get(p, "host"), a, sizeof(a)),
               output_value(reply_get(p, "host_reserved"), b, sizeof(b)),
               output_value(reply_get(p, "dedicated"), c, sizeof(c)),
               output_value(reply_get(p, "pool"), d, sizeof(d)), cpus[0] ? " (CPUs " : "", cpus,
               cpus[0] ? ")" : "");
    table_cell(t, "  memory:");
    table_cell(t, "%s, %s reserved for the host, %s to active partitions, %s free",
               output_size(reply_get(m, "host"), a, sizeof(a)),
               output_size(reply_get(m, "host_reserved"), b, sizeof(b)),
               output_size(reply_get(m, "active"), c, sizeof(c)),
               output_size(reply_get(m, "free"), d, sizeof(d)));
    if (json_is_number(reply_get(m, "host_free")) ||
        json_is_number(reply_get(m, "host_pressure"))) {
        table_cell(t, "  host memory:");
        snprintf(c, sizeof(c), "%.2f%%", json_number_value(reply_get(m, "host_pressure")));
        table_cell(t, "%s free now, pressure %s",
                   json_is_number(reply_get(m, "host_free"))
                       ? output_size(reply_get(m, "host_free"), a, sizeof(a))
                       : "unknown",
                   json_is_number(reply_get(m, "host_pressure")) ? c : "unknown");
    }
    table_cell(t, "  overcommit:");
    table_cell(t, "processors %s per pool CPU, memory %s",
               output_value(reply_get(p, "cpu_overcommit"), a, sizeof(a)),
               output_value(reply_get(m, "memory_overcommit"), b, sizeof(b)));
    table_cell(t, "  weights:");
    table_cell(t, "%s in the shared pool",
               output_value(reply_get(p, "weight_total"), a, sizeof(a)));
    table_cell(t, "  partitions:");
    table_cell(t, "%s defined, %s active", output_value(reply_get(parts, "defined"), a, sizeof(a)),
               output_value(reply_get(parts, "active"), b, sizeof(b)));
    if (json_is_object(reply_get(cpc, "rebalancer"))) {
        table_cell(t, "  rebalancer:");
        table_cell(t, "policy %s, %s actions applied",
                   output_value(reply_get(cpc, "rebalancer.policy"), a, sizeof(a)),
                   output_value(reply_get(cpc, "rebalancer.actions_applied"), b, sizeof(b)));
    }
    table_print(t, stdout);
    table_free(t);
    if (json_array_size(reply_get(cpc, "groups"))) {
        putchar('\n');
        print_groups(reply_get(cpc, "groups"));
    }
}

int cmd_cpc(struct partctl_ctx *ctx)
{
    json_t *reply = NULL;

    int r = cli_call(ctx, "GET", "/v1/cpc", NULL, &reply);
    if (r == PARTCTL_OK && !ctx->json)
        print_cpc(reply);
    json_decref(reply);
    return r;
}

int cmd_version(struct partctl_ctx *ctx)
{
    bool json = ctx->json;
    json_t *reply = NULL;
    char a[64], b[64], c[64], d[64];

    /* the reply is printed here, with partctl's own version added */
    ctx->json = false;
    if (!json)
        printf("partctl %s\n", PARTD_VERSION);
    int r = cli_call(ctx, "GET", "/v1/version", NULL, &reply);
    if (r == PARTCTL_OK && json) {
        json_object_set_new(reply, "partctl", json_string(PARTD_VERSION));
        output_json(reply, stdout);
    } else if (r == PARTCTL_OK) {
        printf("partd   %s (API %s, libvirt %s, driver %s)\n",
               output_value(reply_get(reply, "partd"), a, sizeof(a)),
               output_value(reply_get(reply, "api"), b, sizeof(b)),
               output_value(reply_get(reply, "libvirt"), c, sizeof(c)),
               output_value(reply_get(reply, "driver"), d, sizeof(d)));
    } else if (json && reply) {
        output_json(reply, stdout);
    }
    json_decref(reply);
    return r;
}

int cmd_health(struct partctl_ctx *ctx)
{
    json_t *reply = NULL;
    char a[64], b[64];

    int r = cli_call(ctx, "GET", "/v1/health", NULL, &reply);
    if (r == PARTCTL_OK && !ctx->json)
        printf("%s (backend %s)\n", output_value(reply_get(reply, "status"), a, sizeof(a)),
               output_value(reply_get(reply, "backend"), b, sizeof(b)));
    json_decref(reply);
    return r;
}
