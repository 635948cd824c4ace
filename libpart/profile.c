/* Profiles: parsing, validation and serialisation of one partition's
 * definition. Every error names the field; part_profile_parse() adds the
 * line and column of that field in the text. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "part/profile.h"
#include "part/size.h"
#include "file.h"
#include "json.h"

#define PROC_MAX 1024 /* logical processors one partition may have */
/* what part_name_valid() accepts, for error messages */
#define NAME_RULE "1-63 of A-Z a-z 0-9 _ . -, not starting with . or -"

bool part_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= PART_NAME_MAX || name[0] == '.' || name[0] == '-')
        return false;
    return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

struct part_profile *part_profile_free(struct part_profile *p)
{
    if (p) {
        free(p->domain_template);
        free(p->domain_name);
        free(p);
    }
    return NULL;
}

struct part_profile *part_profile_dup(const struct part_profile *p)
{
    struct part_profile *d = malloc(sizeof(*d));
    if (!d)
        return NULL;
    *d = *p;
    d->domain_template = p->domain_template ? strdup(p->domain_template) : NULL;
    d->domain_name = p->domain_name ? strdup(p->domain_name) : NULL;
    if ((p->domain_template && !d->domain_template) || (p->domain_name && !d->domain_name))
        return part_profile_free(d);
    return d;
}

static int profile_from_json(json_t *root, const char *dir, struct part_profile *p,
                             struct part_error *err)
{
    static const char *const top_keys[] = {"name",    "processors", "weight",
                                           "cap",     "memory",     "group",
                                           "autostart", "managed",  "defined_capacity",
                                           "domain",  NULL};
    static const char *const proc_keys[] = {"mode", "initial", "min", "reserved", NULL};
    static const char *const weight_keys[] = {"initial", "min", "max", NULL};
    static const char *const mem_keys[] = {"initial", "min", "reserved", NULL};
    static const char *const domain_keys[] = {"template", "adopt", NULL};
    json_t *proc, *weight, *mem, *domain;
    const char *s = NULL;
    int r;

    if (!json_is_object(root))
        return part_error_set(err, -EINVAL, "", "a profile must be a JSON object, got %s",
                              part_json_type_name(root));
    if ((r = part_json_check_keys(root, "", top_keys, err)) < 0)
        return r;

    if ((r = part_json_get_string(root, "", "name", &s, err)) < 0)
        return r;
    if (!s)
        return part_error_set(err, -EINVAL, "name", "name: required field missing");
    if (!part_name_valid(s))
        return part_error_set(err, -EINVAL, "name",
                              "name: \"%s\" is not a valid name (" NAME_RULE ")", s);
    snprintf(p->name, sizeof(p->name), "%s", s);

    /* processors */
    if ((r = part_json_get_object(root, "", "processors", &proc, err)) < 0)
        return r;
    if (!proc)
        return part_error_set(err, -EINVAL, "processors", "processors: required field missing");
    if ((r = part_json_check_keys(proc, "processors", proc_keys, err)) < 0)
        return r;
    s = NULL;
    if ((r = part_json_get_string(proc, "processors", "mode", &s, err)) < 0)
        return r;
    if (!s || strcmp(s, "shared") == 0)
        p->mode = PART_MODE_SHARED;
    else if (strcmp(s, "dedicated") == 0)
        p->mode = PART_MODE_DEDICATED;
    else
        return part_error_set(err, -EINVAL, "processors.mode",
                              "processors.mode: \"%s\" is neither \"shared\" nor \"dedicated\"", s);
    p->proc_initial = 0;
    if ((r = part_json_get_uint(proc, "processors", "initial", 1, PROC_MAX, &p->proc_initial,
                                err)) < 0)
        return r;
    if (!p->proc_initial)
        return part_error_set(err, -EINVAL, "processors.initial",
                              "processors.initial: required field missing");
    p->proc_min = 1;
    p->proc_reserved = p->proc_initial;
    if ((r = part_json_get_uint(proc, "processors", "min", 1, PROC_MAX, &p->proc_min, err)) < 0 ||
        (r = part_json_get_uint(proc, "processors", "reserved", 1, PROC_MAX, &p->proc_reserved,
                                err)) < 0)
        return r;

    /* weight and cap: claims on the shared pool */
    if ((r = part_json_get_object(root, "", "weight", &weight, err)) < 0)
        return r;
    if (weight && p->mode == PART_MODE_DEDICATED)
        return part_error_set(err, -EINVAL, "weight",
                              "weight: does not apply to dedicated partitions");
    p->weight_initial = 100;
    if (weight) {
        if ((r = part_json_check_keys(weight, "weight", weight_keys, err)) < 0 ||
            (r = part_json_get_uint(weight, "weight", "initial", PART_WEIGHT_MIN, PART_WEIGHT_MAX,
                                    &p->weight_initial, err)) < 0)
            return r;
    }
    p->weight_min = p->weight_max = p->weight_initial;
    if (weight) {
        if ((r = part_json_get_uint(weight, "weight", "min", PART_WEIGHT_MIN, PART_WEIGHT_MAX,
                                    &p->weight_min, err)) < 0 ||
            (r = part_json_get_uint(weight, "weight", "max", PART_WEIGHT_MIN, PART_WEIGHT_MAX,
                                    &p->weight_max, err)) < 0)
            return r;
    }
    p->cap = PART_CAP_NONE;
    json_t *cap = json_object_get(root, "cap");
    if (cap && p->mode == PART_MODE_DEDICATED)
        return part_error_set(err, -EINVAL, "cap", "cap: does not apply to dedicated partitions");
    if (cap && !json_is_null(cap)) {
        if (!json_is_number(cap))
            return part_error_set(err, -EINVAL, "cap",
                                  "cap: expected a number of processors or null, got %s",
                                  part_json_type_name(cap));
        r = part_json_get_number(root, "", "cap", PART_CAP_MIN, PART_CAP_MAX, &p->cap, err);
        if (r < 0)
            return r;
    }

    /* memory */
    if ((r = part_json_get_object(root, "", "memory", &mem, err)) < 0)
        return r;
    if (!mem)
        return part_error_set(err, -EINVAL, "memory", "memory: required field missing");
    if ((r = part_json_check_keys(mem, "memory", mem_keys, err)) < 0)
        return r;
    p->mem_initial = 0;
    if ((r = part_json_get_size(mem, "memory", "initial", &p->mem_initial, err)) < 0)
        return r;
    if (!p->mem_initial)
        return part_error_set(err, -EINVAL, "memory.initial",
                              "memory.initial: required field missing");
    p->mem_min = p->mem_reserved = p->mem_initial;
    if ((r = part_json_get_size(mem, "memory", "min", &p->mem_min, err)) < 0 ||
        (r = part_json_get_size(mem, "memory", "reserved", &p->mem_reserved, err)) < 0)
        return r;

    s = NULL;
    if ((r = part_json_get_string(root, "", "group", &s, err)) < 0)
        return r;
    if (s && !part_name_valid(s))
        return part_error_set(err, -EINVAL, "group",
                              "group: \"%s\" is not a valid group name (" NAME_RULE ")", s);
    snprintf(p->group, sizeof(p->group), "%s", s ? s : "");
    if ((r = part_json_get_bool(root, "", "autostart", &p->autostart, err)) < 0)
        return r;
    p->managed = true;
    if ((r = part_json_get_bool(root, "", "managed", &p->managed, err)) < 0)
        return r;
    p->defined_capacity = PART_CAP_NONE;
    json_t *dc = json_object_get(root, "defined_capacity");
    if (dc && p->mode == PART_MODE_DEDICATED)
        return part_error_set(err, -EINVAL, "defined_capacity",
                              "defined_capacity: does not apply to dedicated partitions");
    if (dc && !json_is_null(dc) &&
        (r = part_json_get_number(root, "", "defined_capacity", PART_CAP_MIN, PART_CAP_MAX,
                                  &p->defined_capacity, err)) < 0)
        return r;

    /* domain: define from a template (or a skeleton), or adopt */
    if ((r = part_json_get_object(root, "", "domain", &domain, err)) < 0)
        return r;
    const char *tmpl = NULL, *adopt = NULL;
    if (domain) {
        if ((r = part_json_check_keys(domain, "domain", domain_keys, err)) < 0 ||
            (r = part_json_get_string(domain, "domain", "template", &tmpl, err)) < 0 ||
            (r = part_json_get_string(domain, "domain", "adopt", &adopt, err)) < 0)
            return r;
        if (tmpl && adopt)
            return part_error_set(err, -EINVAL, "domain.adopt",
                                  "domain.adopt: give either domain.template or domain.adopt, "
                                  "not both");
    }
    if (tmpl) {
        p->domain_template = part_path_join(dir, tmpl);
        if (!p->domain_template)
            return -ENOMEM;
    }
    p->adopt = adopt != NULL;
    p->domain_name = strdup(adopt ? adopt : p->name);
    if (!p->domain_name)
        return -ENOMEM;

    return part_profile_validate(p, err);
}

int part_profile_validate(const struct part_profile *p, struct part_error *err)
{
    char a[32], b[32];

    if (p->proc_min > p->proc_initial)
        return part_error_set(err, -EINVAL, "processors.min",
                              "processors.min (%u) exceeds processors.initial (%u)", p->proc_min,
                              p->proc_initial);
    if (p->proc_initial > p->proc_reserved)
        return part_error_set(err, -EINVAL, "processors.initial",
                              "processors.initial (%u) exceeds processors.reserved (%u)",
                              p->proc_initial, p->proc_reserved);
    if (p->weight_min > p->weight_initial)
        return part_error_set(err, -EINVAL, "weight.min",
                              "weight.min (%u) exceeds weight.initial (%u)", p->weight_min,
                              p->weight_initial);
    if (p->weight_initial > p->weight_max)
        return part_error_set(err, -EINVAL, "weight.initial",
                              "weight.initial (%u) exceeds weight.max (%u)", p->weight_initial,
                              p->weight_max);
    if (p->cap != PART_CAP_NONE && p->cap < p->proc_min * 0.01)
        return part_error_set(err, -EINVAL, "cap",
                              "cap (%g) is below %g: each of processors.min (%u) needs at "
                              "least 0.01 of a processor",
                              p->cap, p->proc_min * 0.01, p->proc_min);
    if (p->mem_min > p->mem_initial)
        return part_error_set(err, -EINVAL, "memory.min", "memory.min (%s) exceeds memory.initial (%s)",
                              part_size_format(p->mem_min, a, sizeof(a)),
                              part_size_format(p->mem_initial, b, sizeof(b)));
    if (p->mem_initial > p->mem_reserved)
        return part_error_set(err, -EINVAL, "memory.initial",
                              "memory.initial (%s) exceeds memory.reserved (%s)",
                              part_size_format(p->mem_initial, a, sizeof(a)),
                              part_size_format(p->mem_reserved, b, sizeof(b)));
    return 0;
}

/* The directory of file, made absolute against the working directory, so
 * that a template path resolved against it is absolute as promised. */
static char *absolute_dirname(const char *file)
{
    char cwd[PATH_MAX], *dir = part_path_dirname(file), *abs;
    if (!dir || dir[0] == '/' || !getcwd(cwd, sizeof(cwd)))
        return dir;
    abs = strcmp(dir, ".") == 0 ? strdup(cwd) : part_path_join(cwd, dir);
    free(dir);
    return abs;
}

int part_profile_parse(const char *text, size_t len, const char *file, struct part_profile **ret,
                       struct part_error *err)
{
    json_t *root;
    char *dir = NULL;
    int r;

    part_error_clear(err);
    if ((r = part_json_parse(text, len, file, &root, err)) < 0)
        return r;
    struct part_profile *p = calloc(1, sizeof(*p));
    if (!p || (file && !(dir = absolute_dirname(file)))) {
        r = -ENOMEM;
        goto out;
    }
    r = profile_from_json(root, dir, p, err);
    if (r == -EINVAL)
        part_error_locate(err, text, len);
out:
    json_decref(root);
    free(dir);
    if (r < 0)
        part_profile_free(p);
    else
        *ret = p;
    return r;
}

int part_profile_load(const char *path, struct part_profile **ret, struct part_error *err)
{
    char *text;
    size_t len;
    int r;

    part_error_clear(err);
    if ((r = part_file_read(path, &text, &len, err)) < 0)
        return r;
    r = part_profile_parse(text, len, path, ret, err);
    free(text);
    return r;
}

json_t *part_profile_to_json(const struct part_profile *p)
{
    char init[32], min[32], res[32];
    json_t *o = json_pack("{s:s, s:{s:s, s:I, s:I, s:I}, s:{s:s, s:s, s:s}, s:b}", "name", p->name,
                          "processors", "mode",
                          p->mode == PART_MODE_DEDICATED ? "dedicated" : "shared", "initial",
                          (json_int_t)p->proc_initial, "min", (json_int_t)p->proc_min,
                          "reserved", (json_int_t)p->proc_reserved, "memory", "initial",
                          part_size_format(p->mem_initial, init, sizeof(init)), "min",
                          part_size_format(p->mem_min, min, sizeof(min)), "reserved",
                          part_size_format(p->mem_reserved, res, sizeof(res)), "autostart",
                          p->autostart);
    if (!o)
        return NULL;
    int r = 0;
    if (p->mode == PART_MODE_SHARED) {
        r |= json_object_set_new(o, "weight",
                                 json_pack("{s:I, s:I, s:I}", "initial",
                                           (json_int_t)p->weight_initial, "min",
                                           (json_int_t)p->weight_min, "max",
                                           (json_int_t)p->weight_max));
        r |= json_object_set_new(o, "cap", p->cap == PART_CAP_NONE ? json_null() : json_real(p->cap));
    }
    if (p->group[0])
        r |= json_object_set_new(o, "group", json_string(p->group));
    r |= json_object_set_new(o, "managed", json_boolean(p->managed));
    if (p->mode == PART_MODE_SHARED)
        r |= json_object_set_new(o, "defined_capacity", p->defined_capacity == PART_CAP_NONE
                                                            ? json_null()
                                                            : json_real(p->defined_capacity));
    if (p->adopt)
        r |= json_object_set_new(o, "domain", json_pack("{s:s}", "adopt", p->domain_name));
    else if (p->domain_template)
        r |= json_object_set_new(o, "domain", json_pack("{s:s}", "template", p->domain_template));
    if (r) {
        json_decref(o);
        return NULL;
    }
    return o;
}
