/* Reading JSON configuration: typed getters that name the field path in
 * their errors, unknown-key checks, and error positions. Shared by the
 * profile and partd.json parsers. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "part/jsonpos.h"
#include "part/size.h"

/* The path "parent.key" of a member, for error messages. */
const char *part_json_path(char *buf, size_t len, const char *parent, const char *key)
{
    if (parent && *parent)
        snprintf(buf, len, "%s.%s", parent, key);
    else
        snprintf(buf, len, "%s", key);
    return buf;
}

int part_json_check_keys(json_t *obj, const char *parent, const char *const *allowed,
                         struct part_error *err)
{
    const char *key;
    json_t *v;
    char path[128], list[256];

    json_object_foreach(obj, key, v) {
        size_t i;
        for (i = 0; allowed[i]; i++)
            if (strcmp(key, allowed[i]) == 0)
                break;
        if (allowed[i])
            continue;
        list[0] = '\0';
        for (i = 0; allowed[i]; i++) {
            strncat(list, i ? ", " : "", sizeof(list) - strlen(list) - 1);
            strncat(list, allowed[i], sizeof(list) - strlen(list) - 1);
        }
        part_json_path(path, sizeof(path), parent, key);
        return part_error_set(err, -EINVAL, path, "%s: unknown field (expected one of: %s)", path,
                              list);
    }
    return 0;
}

const char *part_json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

int part_json_get_object(json_t *obj, const char *parent, const char *key, json_t **ret,
                         struct part_error *err)
{
    char path[128];
    json_t *v = json_object_get(obj, key);
    *ret = NULL;
    if (!v)
        return 0;
    if (!json_is_object(v))
        return part_error_set(err, -EINVAL, part_json_path(path, sizeof(path), parent, key),
                              "%s: expected an object, got %s", path, part_json_type_name(v));
    *ret = v;
    return 0;
}

int part_json_get_uint(json_t *obj, const char *parent, const char *key, unsigned lo, unsigned hi,
                       unsigned *out, struct part_error *err)
{
    char path[128];
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    part_json_path(path, sizeof(path), parent, key);
    if (!json_is_integer(v))
        return part_error_set(err, -EINVAL, path, "%s: expected an integer, got %s", path,
                              part_json_type_name(v));
    json_int_t i = json_integer_value(v);
    if (i < lo || i > hi)
        return part_error_set(err, -EINVAL, path, "%s: %lld is out of range %u-%u", path,
                              (long long)i, lo, hi);
    *out = (unsigned)i;
    return 0;
}

int part_json_get_number(json_t *obj, const char *parent, const char *key, double lo, double hi,
                         double *out, struct part_error *err)
{
    char path[128];
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    part_json_path(path, sizeof(path), parent, key);
    if (!json_is_number(v))
        return part_error_set(err, -EINVAL, path, "%s: expected a number, got %s", path,
                              part_json_type_name(v));
    double d = json_number_value(v);
    if (!(d >= lo && d <= hi))
        return part_error_set(err, -EINVAL, path, "%s: %g is out of range %g-%g", path, d, lo, hi);
    *out = d;
    return 0;
}

int part_json_get_bool(json_t *obj, const char *parent, const char *key, bool *out,
                       struct part_error *err)
{
    char path[128];
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_boolean(v))
        return part_error_set(err, -EINVAL, part_json_path(path, sizeof(path), parent, key),
                              "%s: expected true or false, got %s", path, part_json_type_name(v));
    *out = json_is_true(v);
    return 0;
}

int part_json_get_string(json_t *obj, const char *parent, const char *key, const char **out,
                         struct part_error *err)
{
    char path[128];
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    part_json_path(path, sizeof(path), parent, key);
    if (!json_is_string(v))
        return part_error_set(err, -EINVAL, path, "%s: expected a string, got %s", path,
                              part_json_type_name(v));
    if (json_string_length(v) == 0 || strlen(json_string_value(v)) != json_string_length(v))
        return part_error_set(err, -EINVAL, path, "%s: must be a non-empty string", path);
    *out = json_string_value(v);
    return 0;
}

int part_json_get_size(json_t *obj, const char *parent, const char *key, uint64_t *out,
                       struct part_error *err)
{
    char path[128];
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    part_json_path(path, sizeof(path), parent, key);
    if (json_is_integer(v)) {
        if (json_integer_value(v) <= 0)
            return part_error_set(err, -EINVAL, path, "%s: %lld MiB is not a positive size", path,
                                  (long long)json_integer_value(v));
        *out = (uint64_t)json_integer_value(v);
        return 0;
    }
    if (!json_is_string(v))
        return part_error_set(err, -EINVAL, path,
                              "%s: expected a size (MiB as an integer, or a string such as "
                              "\"4GiB\"), got %s",
                              path, part_json_type_name(v));
    uint64_t mib;
    int r = part_size_parse(json_string_value(v), &mib);
    if (r == -ERANGE)
        return part_error_set(err, -EINVAL, path, "%s: \"%s\" is too large", path,
                              json_string_value(v));
    if (r < 0)
        return part_error_set(err, -EINVAL, path,
                              "%s: \"%s\" is not a size (use MiB, GiB or TiB, e.g. \"4GiB\")",
                              path, json_string_value(v));
    if (mib == 0)
        return part_error_set(err, -EINVAL, path, "%s: \"%s\" is not a positive size", path,
                              json_string_value(v));
    *out = mib;
    return 0;
}

/* Adds the position of err's field in text (when it has none yet). */
void part_error_locate(struct part_error *err, const char *text, size_t len)
{
    if (err && err->line == 0 && text)
        part_jsonpos_locate(text, len, err->field, &err->line, &err->column);
}

int part_json_parse(const char *text, size_t len, const char *file, json_t **ret,
                    struct part_error *err)
{
    json_error_t jerr;

    *ret = NULL;
    part_error_set_file(err, file);
    if (len == 0 || strspn(text, " \t\r\n") == len)
        return part_error_set(err, -ENODATA, "", "empty file, expected a JSON object");
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        int r = part_error_set(err, -EINVAL, "", "invalid JSON: %s", jerr.text);
        if (err) {
            err->line = jerr.line;
            err->column = jerr.column;
        }
        return r;
    }
    *ret = root;
    return 0;
}

