/* partd-sim --predict FILE: what the simulator's dispatcher (allocate(),
 * the split the closed loop uses) delivers to each partition of one
 * configuration held still, for comparing with what a real host delivers
 * (tests/integration/calibrate.py, docs/simulation.md "Calibration against
 * real guests"). The input:
 *
 *   {"pool": 2, "steal": 0.1,
 *    "groups": {"demo": {"cap": null}},
 *    "partitions": [{"name": "a", "weight": 300, "cap": 0.5, "processors": 2,
 *                    "demand": 2, "group": "demo"}, ...]}
 *
 * pool: host CPUs in the shared pool; steal (optional, 0): processors of the
 * pool the host's own processes take; per partition its running weight, cap
 * (null or absent: none), processors online and demand (processors it would
 * use given enough); group (optional) one of groups, whose cap (optional)
 * bounds its members together. Errors name the file, line and field. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <part/cpc.h>
#include <part/profile.h>
#include <part/setting.h>

#include "file.h"
#include "json.h"
#include "sim.h"

#define PREDICT_MAX 256 /* partitions, and groups */

struct predict_part {
    char name[PART_NAME_MAX], group[PART_NAME_MAX];
    unsigned weight, processors;
    double cap, demand;
};

struct predict_doc {
    unsigned pool;
    double steal;
    struct part_group_config groups[PREDICT_MAX];
    size_t n_groups, n;
    struct predict_part parts[PREDICT_MAX];
};

#define AT(f) offsetof(struct predict_part, f)
static const struct part_json_member part_members[] = {
    {"name", PART_JSON_NAME, .offset = AT(name), .flags = PART_JSON_REQUIRED,
     .what = "partition name"},
    {"weight", PART_JSON_UINT, .offset = AT(weight), .flags = PART_JSON_REQUIRED,
     .lo = PART_WEIGHT_MIN, .hi = PART_WEIGHT_MAX},
    {"cap", PART_JSON_CAP, .offset = AT(cap), .lo = PART_CAP_MIN, .hi = PART_CAP_MAX,
     .none = PART_CAP_NONE},
    {"processors", PART_JSON_UINT, .offset = AT(processors), .flags = PART_JSON_REQUIRED, .lo = 1,
     .hi = PART_PROCESSORS_MAX},
    {"demand", PART_JSON_NUMBER, .offset = AT(demand), .flags = PART_JSON_REQUIRED, .lo = 0,
     .hi = PART_PROCESSORS_MAX},
    {"group", PART_JSON_NAME, .offset = AT(group), .what = "group name"},
    {NULL},
};
#undef AT

static const struct part_json_member group_members[] = {
    {"cap", PART_JSON_CAP, .offset = offsetof(struct part_group_config, cap), .lo = PART_CAP_MIN,
     .hi = PART_CAP_MAX * 64, .none = PART_CAP_NONE},
    {NULL},
};

static int read_partitions(json_t *v, const char *path, void *out, struct part_error *err)
{
    struct predict_doc *d = out;
    char field[64];
    size_t i;
    json_t *e;
    int r;
    if (!json_is_array(v))
        return part_json_expected(path, "a list of partitions", v, err);
    if (json_array_size(v) == 0 || json_array_size(v) > PREDICT_MAX)
        return part_error_set(err, -EINVAL, path, "%s: %zu partitions (give 1 to %d)", path,
                              json_array_size(v), PREDICT_MAX);
    json_array_foreach (v, i, e) {
        struct predict_part *p = &d->parts[d->n++];
        snprintf(field, sizeof(field), "%s[%zu]", path, i);
        p->cap = PART_CAP_NONE;
        if ((r = part_json_read(e, field, part_members, p, err)) < 0)
            return r;
    }
    return 0;
}

static int read_groups(json_t *v, const char *path, void *out, struct part_error *err)
{
    struct predict_doc *d = out;
    char field[128];
    const char *name;
    json_t *g;
    int r;
    if (!json_is_object(v))
        return part_json_expected(path, "an object", v, err);
    if (json_object_size(v) > PREDICT_MAX)
        return part_error_set(err, -EINVAL, path, "%s: %zu groups (at most %d)", path,
                              json_object_size(v), PREDICT_MAX);
    json_object_foreach (v, name, g) {
        struct part_group_config *gc = &d->groups[d->n_groups++];
        part_json_path(field, sizeof(field), path, name);
        if ((r = part_name_check(name, field, "group name", err)) < 0)
            return r;
        snprintf(gc->name, sizeof(gc->name), "%s", name);
        gc->cap = PART_CAP_NONE;
        if ((r = part_json_read(g, field, group_members, gc, err)) < 0)
            return r;
    }
    return 0;
}

static const struct part_json_member doc_members[] = {
    {"pool", PART_JSON_UINT, .offset = offsetof(struct predict_doc, pool),
     .flags = PART_JSON_REQUIRED, .lo = 1, .hi = 4096},
    {"steal", PART_JSON_NUMBER, .offset = offsetof(struct predict_doc, steal), .lo = 0, .hi = 4096},
    {"groups", PART_JSON_CUSTOM, .read = read_groups},
    {"partitions", PART_JSON_CUSTOM, .flags = PART_JSON_REQUIRED, .read = read_partitions},
    {NULL},
};

/* The CPC of d: a pool of d->pool CPUs (none reserved for the host), each
 * partition active and shared, running at its weight, cap and processors.
 * Returns 0, or -EINVAL with err's field the partition's. */
static int predict_cpc(const struct predict_doc *d, struct part_cpc **ret, struct part_error *err)
{
    struct part_cpc_config cfg = {.cpu_overcommit = 100,
                                  .memory_overcommit = 1,
                                  .groups = (struct part_group_config *)d->groups,
                                  .n_groups = d->n_groups};
    char field[64];
    int r;
    if (d->steal >= d->pool)
        return part_error_set(err, -EINVAL, "steal", "steal: %g leaves nothing of a pool of %u",
                              d->steal, d->pool);
    if ((r = part_cpc_new(d->pool, UINT32_MAX, &cfg, ret, err)) < 0)
        return r;
    for (size_t i = 0; i < d->n; i++) {
        const struct predict_part *q = &d->parts[i];
        struct part_profile *pp = part_profile_new(q->name);
        snprintf(field, sizeof(field), "partitions[%zu]", i);
        if (!pp)
            return part_error_oom(err);
        pp->proc_initial = pp->proc_min = pp->proc_reserved = q->processors;
        pp->weight_initial = pp->weight_min = pp->weight_max = q->weight;
        pp->cap = q->cap;
        snprintf(pp->group, sizeof(pp->group), "%s", q->group);
        if (q->group[0] && !part_config_group(&(*ret)->cfg, q->group))
            r = part_error_set(err, -EINVAL, "group", "group: \"%s\" is not in groups", q->group);
        else
            r = part_cpc_define(*ret, pp, err);
        if (r < 0) {
            part_profile_free(pp);
            char msg[sizeof(err->message)];
            snprintf(msg, sizeof(msg), "%s", err->message);
            return part_error_set(err, r, field, "%s: %s", field, msg);
        }
        part_cpc_set_active(*ret, (*ret)->parts[i], true);
    }
    return 0;
}

static void predict_print(const struct predict_doc *d, const struct part_cpc *cpc,
                          const double *delivered)
{
    json_t *parts = json_array();
    for (size_t i = 0; i < d->n; i++)
        json_array_append_new(parts,
                              json_pack("{s:s, s:f, s:f, s:f}", "name", d->parts[i].name,
                                        "delivered", delivered[i], "share", delivered[i] / d->pool,
                                        "entitlement", cpc->parts[i]->entitlement));
    json_t *out =
        json_pack("{s:i, s:f, s:o}", "pool", (int)d->pool, "steal", d->steal, "partitions", parts);
    json_dumpf(out, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    putchar('\n');
    json_decref(out);
}

int predict(const char *file)
{
    struct predict_doc *d = xcalloc(1, sizeof(*d));
    struct part_cpc *cpc = NULL;
    struct part_error err = {0};
    char *text = NULL, buf[1024];
    size_t len = 0;
    double limit[PREDICT_MAX], delivered[PREDICT_MAX];
    int r = part_file_read(file, &text, &len, &err);
    if (r == 0 && (r = part_json_read_text(text, len, doc_members, d, &err)) == 0 &&
        (r = predict_cpc(d, &cpc, &err)) < 0)
        part_error_locate(&err, text, len);
    if (r < 0) {
        part_error_set_file(&err, file);
        fprintf(stderr, "partd-sim: %s\n", part_error_format(&err, buf, sizeof(buf)));
    } else {
        for (size_t i = 0; i < d->n; i++)
            limit[i] = limit_of(cpc->parts[i], d->parts[i].demand, d->parts[i].processors);
        allocate(cpc, cpc->pool - d->steal, false, limit, delivered);
        predict_print(d, cpc, delivered);
    }
    part_cpc_free(cpc);
    free(text);
    free(d);
    return r < 0 ? 2 : 0;
}
