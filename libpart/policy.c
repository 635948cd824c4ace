/* Policies: parsing, validation and serialisation of the rebalancing rules
 * and their parameters. Errors name the field and, through
 * part_error_locate(), its line and column in the file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "part/monitor.h"
#include "part/policy.h"
#include "part/size.h"
#include "file.h"
#include "json.h"

void part_policy_default(struct part_policy *ret)
{
    *ret = (struct part_policy){
        .name = "static",
        .description = "observe only",
        .interval = 2,
        .samples = 3,
        .deadband = 0.1,
        .weight_step = 50,
        .cooldown_weight = 4,
        .cooldown_processors = 10,
        .cooldown_memory = 6,
        .processors_high = 0.9,
        .processors_low = 0.3,
        .memory_headroom = 256,
        .memory_step = 512,
        .memory_deadband = 64,
        .memory_floor = 64,
        .memory_faults = 50,
        .memory_swap = 1,
        .memory_host_psi = 10,
        .dc_window = 14400,
    };
}

#define AT(field) offsetof(struct part_policy, field)

/* what the policy may change: nothing unless said (observe only) */
static const struct part_json_member manage_members[] = {
    {"weights", PART_JSON_BOOL, .offset = AT(weights)},
    {"processors", PART_JSON_BOOL, .offset = AT(processors)},
    {"memory", PART_JSON_BOOL, .offset = AT(memory)},
    {"defined_capacity", PART_JSON_BOOL, .offset = AT(defined_capacity)},
    {0},
};

static const struct part_json_member cooldown_members[] = {
    {"weight", PART_JSON_NUMBER, .offset = AT(cooldown_weight), .hi = 86400},
    {"processors", PART_JSON_NUMBER, .offset = AT(cooldown_processors), .hi = 86400},
    {"memory", PART_JSON_NUMBER, .offset = AT(cooldown_memory), .hi = 86400},
    {0},
};

/* low < high (so high > 0 and low < 1): a utilisation that both adds and
 * removes a processor would flip it every cooldown */
static int policy_processors(json_t *v, const char *path, void *out, struct part_error *err)
{
    const struct part_policy *p = out;
    const char *field = json_object_get(v, "low") ? "processors.low" : "processors.high";

    if (p->processors_low >= p->processors_high)
        return part_error_set(err, -EINVAL, field,
                              "%s: processors.low (%g) must be below processors.high (%g)", field,
                              p->processors_low, p->processors_high);
    return 0;
}

static const struct part_json_member processors_members[] = {
    {"high", PART_JSON_NUMBER, .offset = AT(processors_high), .hi = 1},
    {"low", PART_JSON_NUMBER, .offset = AT(processors_low), .hi = 1},
    {0},
};

/* floor < headroom: a guest at its target (need + headroom) would be under
 * pressure, grown, shrunk back, and so on */
static int policy_memory(json_t *v, const char *path, void *out, struct part_error *err)
{
    const struct part_policy *p = out;
    const char *field = json_object_get(v, "floor") ? "memory.floor" : "memory.headroom";
    char a[32], b[32];

    (void)path;
    if (p->memory_floor >= p->memory_headroom)
        return part_error_set(err, -EINVAL, field,
                              "%s: memory.floor (%s) must be below memory.headroom (%s)", field,
                              part_size_format(p->memory_floor, a, sizeof(a)),
                              part_size_format(p->memory_headroom, b, sizeof(b)));
    return 0;
}

static const struct part_json_member memory_members[] = {
    {"headroom", PART_JSON_SIZE, .offset = AT(memory_headroom)},
    {"step", PART_JSON_SIZE, .offset = AT(memory_step)},
    {"deadband", PART_JSON_SIZE, .offset = AT(memory_deadband)},
    {"floor", PART_JSON_SIZE, .offset = AT(memory_floor)},
    {"major_faults", PART_JSON_NUMBER, .offset = AT(memory_faults), .lo = 1, .hi = 100000},
    {"swap", PART_JSON_NUMBER, .offset = AT(memory_swap), .lo = 0.01, .hi = 100000},
    {"host_psi", PART_JSON_NUMBER, .offset = AT(memory_host_psi), .lo = 0.01, .hi = 100},
    {0},
};

/* A policy file; the objects are read after defined_capacity_window, as
 * they always were. */
static const struct part_json_member policy_members[] = {
    {"name", PART_JSON_NAME, .offset = AT(name), .flags = PART_JSON_REQUIRED,
     .what = "policy name"},
    {"description", PART_JSON_TEXT, .offset = AT(description),
     .size = sizeof(((struct part_policy *)0)->description)},
    {"manage", PART_JSON_OBJECT, .members = manage_members},
    {"interval", PART_JSON_NUMBER, .offset = AT(interval), .lo = 0.1, .hi = 3600},
    {"samples", PART_JSON_UINT, .offset = AT(samples), .lo = 1, .hi = PART_HISTORY_MAX},
    {"deadband", PART_JSON_NUMBER, .offset = AT(deadband), .hi = 1},
    {"weight_step", PART_JSON_UINT, .offset = AT(weight_step), .lo = 1, .hi = PART_WEIGHT_MAX - 1},
    {"stabilization", PART_JSON_NUMBER, .offset = AT(stabilization), .hi = 3600},
    {"cooldown", PART_JSON_OBJECT, .flags = PART_JSON_LATE, .members = cooldown_members},
    {"processors", PART_JSON_OBJECT, .flags = PART_JSON_LATE, .members = processors_members,
     .after = policy_processors},
    {"memory", PART_JSON_OBJECT, .flags = PART_JSON_LATE, .members = memory_members,
     .after = policy_memory},
    {"defined_capacity_window", PART_JSON_NUMBER, .offset = AT(dc_window), .lo = 1, .hi = 86400},
    {0},
};

int part_policy_parse(const char *text, size_t len, const char *file, struct part_policy *ret,
                      struct part_error *err)
{
    struct part_policy p;
    json_t *root;
    int r;

    part_error_clear(err);
    if ((r = part_json_parse(text, len, file, &root, err)) < 0)
        return r;
    part_policy_default(&p);
    p.description[0] = '\0';
    if (!json_is_object(root))
        r = part_error_set(err, -EINVAL, "", "a policy must be a JSON object, got %s",
                           part_json_type_name(root));
    else
        r = part_json_read(root, "", policy_members, &p, err);
    if (r == -EINVAL)
        part_error_locate(err, text, len);
    json_decref(root);
    if (r == 0)
        *ret = p;
    return r;
}

int part_policy_load(const char *dir, const char *name, struct part_policy *ret,
                     struct part_error *err)
{
    struct part_policy p;
    char *path = NULL, *text = NULL;
    size_t len;
    int r;

    part_error_clear(err);
    /* the name becomes a path: nothing that could leave dir */
    if ((r = part_name_check(name, "policy", "policy name", err)) < 0)
        return r;
    if (asprintf(&path, "%s/%s.json", dir, name) < 0)
        return part_error_oom(err);
    r = part_file_read(path, &text, &len, err);
    if (r == -ENOENT) {
        r = part_error_set(err, -ENOENT, "policy", "no policy named %s (%s does not exist)", name,
                           path);
        goto out;
    }
    if (r < 0 || (r = part_policy_parse(text, len, path, &p, err)) < 0)
        goto out;
    if (strcmp(p.name, name) != 0) {
        r = part_error_set(err, -EINVAL, "name",
                           "name: \"%s\" does not match the file name (%s.json, expected %s.json)",
                           p.name, name, p.name);
        part_error_locate(err, text, len);
        goto out;
    }
    *ret = p;
out:
    free(text);
    free(path);
    return r;
}

json_t *part_policy_to_json(const struct part_policy *p)
{
    char head[32], step[32], dead[32], floor[32];

    json_t *o = json_pack(
        "{s:s, s:{s:b, s:b, s:b, s:b}, s:f, s:I, s:f, s:I, s:f, s:{s:f, s:f, s:f}, s:{s:f, s:f},"
        " s:{s:s, s:s, s:s, s:s, s:f, s:f, s:f}, s:f}",
        "name", p->name, "manage", "weights", p->weights, "processors", p->processors, "memory",
        p->memory, "defined_capacity", p->defined_capacity, "interval", p->interval, "samples",
        (json_int_t)p->samples, "deadband", p->deadband, "weight_step", (json_int_t)p->weight_step,
        "stabilization", p->stabilization, "cooldown", "weight", p->cooldown_weight, "processors",
        p->cooldown_processors, "memory", p->cooldown_memory, "processors", "high",
        p->processors_high, "low", p->processors_low, "memory", "headroom",
        part_size_format(p->memory_headroom, head, sizeof(head)), "step",
        part_size_format(p->memory_step, step, sizeof(step)), "deadband",
        part_size_format(p->memory_deadband, dead, sizeof(dead)), "floor",
        part_size_format(p->memory_floor, floor, sizeof(floor)), "major_faults", p->memory_faults,
        "swap", p->memory_swap, "host_psi", p->memory_host_psi, "defined_capacity_window",
        p->dc_window);
    /* no description is written as none: the file format has no empty one */
    if (o && p->description[0] &&
        json_object_set_new(o, "description", json_string(p->description)) < 0)
        return json_decref(o), NULL;
    return o;
}

bool part_policy_acts(const struct part_policy *p)
{
    return p->weights || p->processors || p->memory || p->defined_capacity;
}
