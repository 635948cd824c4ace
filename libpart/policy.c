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

#define DESCRIPTION_MAX (sizeof(((struct part_policy *)0)->description) - 1)

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
        .dc_window = 14400,
    };
}

static int policy_from_json(json_t *root, struct part_policy *p, struct part_error *err)
{
    static const char *const top_keys[] = {"name",
                                           "description",
                                           "manage",
                                           "interval",
                                           "samples",
                                           "deadband",
                                           "weight_step",
                                           "cooldown",
                                           "processors",
                                           "memory",
                                           "defined_capacity_window",
                                           NULL};
    static const char *const manage_keys[] = {"weights", "processors", "memory", "defined_capacity",
                                              NULL};
    static const char *const cooldown_keys[] = {"weight", "processors", "memory", NULL};
    static const char *const proc_keys[] = {"high", "low", NULL};
    static const char *const mem_keys[] = {"headroom", "step", "deadband", NULL};
    json_t *manage, *cooldown, *proc, *mem;
    const char *s = NULL;
    int r;

    if ((r = part_json_get_named_object(root, "policy", top_keys, p->name, err)) < 0)
        return r;
    s = NULL;
    if ((r = part_json_get_string(root, "", "description", &s, err)) < 0)
        return r;
    if (s && strlen(s) > DESCRIPTION_MAX)
        return part_error_set(err, -EINVAL, "description", "description: longer than %zu bytes",
                              DESCRIPTION_MAX);
    if (s)
        snprintf(p->description, sizeof(p->description), "%s", s);

    /* what the policy may change: nothing unless said (observe only) */
    p->weights = p->processors = p->memory = p->defined_capacity = false;
    if ((r = part_json_get_object(root, "", "manage", &manage, err)) < 0)
        return r;
    if (manage &&
        ((r = part_json_check_keys(manage, "manage", manage_keys, err)) < 0 ||
         (r = part_json_get_bool(manage, "manage", "weights", &p->weights, err)) < 0 ||
         (r = part_json_get_bool(manage, "manage", "processors", &p->processors, err)) < 0 ||
         (r = part_json_get_bool(manage, "manage", "memory", &p->memory, err)) < 0 ||
         (r = part_json_get_bool(manage, "manage", "defined_capacity", &p->defined_capacity, err)) <
             0))
        return r;

    if ((r = part_json_get_number(root, "", "interval", 0.1, 3600, &p->interval, err)) < 0 ||
        (r = part_json_get_uint(root, "", "samples", 1, PART_HISTORY_MAX, &p->samples, err)) < 0 ||
        (r = part_json_get_number(root, "", "deadband", 0, 1, &p->deadband, err)) < 0 ||
        (r = part_json_get_uint(root, "", "weight_step", 1, PART_WEIGHT_MAX - 1, &p->weight_step,
                                err)) < 0 ||
        (r = part_json_get_number(root, "", "defined_capacity_window", 1, 86400, &p->dc_window,
                                  err)) < 0)
        return r;

    if ((r = part_json_get_object(root, "", "cooldown", &cooldown, err)) < 0)
        return r;
    if (cooldown && ((r = part_json_check_keys(cooldown, "cooldown", cooldown_keys, err)) < 0 ||
                     (r = part_json_get_number(cooldown, "cooldown", "weight", 0, 86400,
                                               &p->cooldown_weight, err)) < 0 ||
                     (r = part_json_get_number(cooldown, "cooldown", "processors", 0, 86400,
                                               &p->cooldown_processors, err)) < 0 ||
                     (r = part_json_get_number(cooldown, "cooldown", "memory", 0, 86400,
                                               &p->cooldown_memory, err)) < 0))
        return r;

    if ((r = part_json_get_object(root, "", "processors", &proc, err)) < 0)
        return r;
    if (proc &&
        ((r = part_json_check_keys(proc, "processors", proc_keys, err)) < 0 ||
         (r = part_json_get_number(proc, "processors", "high", 0, 1, &p->processors_high, err)) <
             0 ||
         (r = part_json_get_number(proc, "processors", "low", 0, 1, &p->processors_low, err)) < 0))
        return r;
    /* low < high (so high > 0 and low < 1): a utilisation that both adds
     * and removes a processor would flip it every cooldown */
    if (p->processors_low >= p->processors_high)
        return part_error_set(err, -EINVAL,
                              json_object_get(proc, "low") ? "processors.low" : "processors.high",
                              "%s: processors.low (%g) must be below processors.high (%g)",
                              json_object_get(proc, "low") ? "processors.low" : "processors.high",
                              p->processors_low, p->processors_high);

    if ((r = part_json_get_object(root, "", "memory", &mem, err)) < 0)
        return r;
    if (mem && ((r = part_json_check_keys(mem, "memory", mem_keys, err)) < 0 ||
                (r = part_json_get_size(mem, "memory", "headroom", &p->memory_headroom, err)) < 0 ||
                (r = part_json_get_size(mem, "memory", "step", &p->memory_step, err)) < 0 ||
                (r = part_json_get_size(mem, "memory", "deadband", &p->memory_deadband, err)) < 0))
        return r;
    return 0;
}

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
    r = policy_from_json(root, &p, err);
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
        return -ENOMEM;
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
    char head[32], step[32], dead[32];

    json_t *o = json_pack(
        "{s:s, s:{s:b, s:b, s:b, s:b}, s:f, s:I, s:f, s:I, s:{s:f, s:f, s:f}, s:{s:f, s:f},"
        " s:{s:s, s:s, s:s}, s:f}",
        "name", p->name, "manage", "weights", p->weights, "processors", p->processors, "memory",
        p->memory, "defined_capacity", p->defined_capacity, "interval", p->interval, "samples",
        (json_int_t)p->samples, "deadband", p->deadband, "weight_step", (json_int_t)p->weight_step,
        "cooldown", "weight", p->cooldown_weight, "processors", p->cooldown_processors, "memory",
        p->cooldown_memory, "processors", "high", p->processors_high, "low", p->processors_low,
        "memory", "headroom", part_size_format(p->memory_headroom, head, sizeof(head)), "step",
        part_size_format(p->memory_step, step, sizeof(step)), "deadband",
        part_size_format(p->memory_deadband, dead, sizeof(dead)), "defined_capacity_window",
        p->dc_window);
    /* no description is written as none: the file format has no empty one */
    if (o && p->description[0] &&
        json_object_set_new(o, "description", json_string(p->description)) < 0)
        return json_decref(o), NULL;
    return o;
}
