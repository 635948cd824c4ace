/* Reading JSON configuration: typed getters that name the field path in
 * their errors, unknown-key checks, and error positions. Shared by the
 * profile and partd.json parsers. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "part/jsonpos.h"
#include "part/size.h"

/* err->column of an error about a member's key rather than its value (an
 * unknown field): part_error_locate() then points at the key. */
#define LOCATE_KEY (-1)

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
        int r = part_error_set(err, -EINVAL, path, "%s: unknown field (expected one of: %s)", path,
                               list);
        if (err) {
            err->line = 0;
            err->column = LOCATE_KEY;
        }
        return r;
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

/* Writes the number v as the file most likely spelled it: the shortest
 * text that reads back as the same value (0.1, not 0.10000000000000001). */
static const char *number_text(const json_t *v, char *buf, size_t len)
{
    if (json_is_integer(v)) {
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    double d = json_number_value(v);
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    return buf;
}

/* Whether v is an integer, or a number without a fraction (2.0: JSON does
 * not tell them apart, and neither does JSON Schema); its value in *ret. */
static bool whole_number(const json_t *v, double *ret)
{
    if (json_is_integer(v)) {
        *ret = (double)json_integer_value(v);
        return true;
    }
    if (!json_is_real(v) || json_real_value(v) != floor(json_real_value(v)))
        return false;
    *ret = json_real_value(v);
    return true;
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
    char path[128], num[32];
    json_t *v = json_object_get(obj, key);
    double d;
    if (!v)
        return 0;
    part_json_path(path, sizeof(path), parent, key);
    if (json_is_real(v) && !whole_number(v, &d))
        return part_error_set(err, -EINVAL, path, "%s: expected an integer, got %s", path,
                              number_text(v, num, sizeof(num)));
    if (!whole_number(v, &d))
        return part_error_set(err, -EINVAL, path, "%s: expected an integer, got %s", path,
                              part_json_type_name(v));
    if (d < lo || d > hi)
        return part_error_set(err, -EINVAL, path, "%s: %s is out of range %u-%u", path,
                              number_text(v, num, sizeof(num)), lo, hi);
    *out = (unsigned)d;
    return 0;
}

int part_json_get_number(json_t *obj, const char *parent, const char *key, double lo, double hi,
                         double *out, struct part_error *err)
{
    char path[128], num[32];
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    part_json_path(path, sizeof(path), parent, key);
    if (!json_is_number(v))
        return part_error_set(err, -EINVAL, path, "%s: expected a number, got %s", path,
                              part_json_type_name(v));
    double d = json_number_value(v);
    if (!(d >= lo && d <= hi))
        return part_error_set(err, -EINVAL, path, "%s: %s is out of range %g-%g", path,
                              number_text(v, num, sizeof(num)), lo, hi);
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
    if (json_string_length(v) == 0)
        return part_error_set(err, -EINVAL, path, "%s: must be a non-empty string", path);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return part_error_set(err, -EINVAL, path, "%s: must not contain NUL characters", path);
    *out = json_string_value(v);
    return 0;
}

/* Whether s is a size as JSON files write it: DIGITS[.DIGITS][ ]UNIT, the
 * pattern of the schemas (a plain number of MiB is written as a number). */
static bool size_text_valid(const char *s)
{
    static const char digits[] = "0123456789";
    size_t n = strspn(s, digits);
    if (n == 0)
        return false;
    s += n;
    if (*s == '.') {
        n = strspn(++s, digits);
        if (n == 0)
            return false;
        s += n;
    }
    if (*s == ' ')
        s++;
    return strcmp(s, "MiB") == 0 || strcmp(s, "GiB") == 0 || strcmp(s, "TiB") == 0;
}

int part_json_get_size(json_t *obj, const char *parent, const char *key, uint64_t *out,
                       struct part_error *err)
{
    char path[128], num[32];
    json_t *v = json_object_get(obj, key);
    double d;
    if (!v)
        return 0;
    part_json_path(path, sizeof(path), parent, key);
    if (whole_number(v, &d)) {
        if (d <= 0)
            return part_error_set(err, -EINVAL, path, "%s: %s MiB is not a positive size", path,
                                  number_text(v, num, sizeof(num)));
        if (d >= 18446744073709551616.0) /* 2^64 */
            return part_error_set(err, -EINVAL, path, "%s: %s MiB is too large", path,
                                  number_text(v, num, sizeof(num)));
        *out = json_is_integer(v) ? (uint64_t)json_integer_value(v) : (uint64_t)d;
        return 0;
    }
    if (json_is_real(v))
        return part_error_set(err, -EINVAL, path, "%s: %s is not a whole number of MiB", path,
                              number_text(v, num, sizeof(num)));
    if (!json_is_string(v))
        return part_error_set(err, -EINVAL, path,
                              "%s: expected a size (MiB as an integer, or a string such as "
                              "\"4GiB\"), got %s",
                              path, part_json_type_name(v));
    const char *s = json_string_value(v);
    uint64_t mib;
    if (s[0] == '-' && size_text_valid(s + 1))
        return part_error_set(err, -EINVAL, path, "%s: \"%s\" is not a positive size", path, s);
    if (s[0] && strspn(s, "0123456789") == strlen(s))
        return part_error_set(err, -EINVAL, path,
                              "%s: \"%s\" has no unit (write \"%sMiB\", or %s as a number of MiB)",
                              path, s, s, s);
    if (!size_text_valid(s))
        return part_error_set(err, -EINVAL, path,
                              "%s: \"%s\" is not a size (use MiB, GiB or TiB, e.g. \"4GiB\")", path,
                              s);
    int r = part_size_parse(s, &mib);
    if (r == -ERANGE)
        return part_error_set(err, -EINVAL, path, "%s: \"%s\" is too large", path, s);
    if (r < 0)
        return part_error_set(err, -EINVAL, path, "%s: \"%s\" is not a whole number of MiB", path,
                              s);
    if (mib == 0)
        return part_error_set(err, -EINVAL, path, "%s: \"%s\" is not a positive size", path, s);
    *out = mib;
    return 0;
}

/* The 1-based line and column of byte off in text, counted as jsonpos.c
 * counts them: a column is a character, not a UTF-8 continuation byte. */
static void offset_position(const char *text, size_t off, int *ret_line, int *ret_column)
{
    int line = 1, col = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            line++;
            col = 1;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            col++;
        }
    }
    *ret_line = line;
    *ret_column = col;
}

/* The byte offset of a 1-based line and column in text (len when past it). */
static size_t position_offset(const char *text, size_t len, int line, int column)
{
    size_t i = 0;
    for (int l = 1; l < line && i < len; i++)
        if (text[i] == '\n')
            l++;
    for (int c = 1; i < len && text[i] != '\n'; i++) {
        if (((unsigned char)text[i] & 0xC0) == 0x80)
            continue;
        if (c++ == column)
            break;
    }
    return i;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Whether c may be in a number token after its first character. */
static bool is_number_char(char c)
{
    return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-';
}

/* Where the token holding byte at starts, splitting text into tokens as
 * jansson does (strings, numbers, words, single characters). jansson puts
 * a syntax error at the last character of the token at fault; a person
 * looks for it where it starts. Returns at + 1 when at is white space (the
 * error is at the end of the text). */
static size_t token_start(const char *text, size_t len, size_t at)
{
    size_t i = 0;

    while (i < len) {
        if (is_space(text[i])) {
            i++;
            continue;
        }
        size_t start = i;
        if (at < start)
            break;
        if (text[i] == '"') {
            for (i++; i < len && text[i] != '"' && (unsigned char)text[i] >= 0x20; i++)
                if (text[i] == '\\' && i + 1 < len)
                    i++;
            if (i < len && text[i] == '"')
                i++;
        } else if (is_letter(text[i])) {
            while (i < len && is_letter(text[i]))
                i++;
        } else if (text[i] == '-' || (text[i] >= '0' && text[i] <= '9')) {
            for (i++; i < len && is_number_char(text[i]); i++)
                ;
        } else { /* one character, maybe of several bytes */
            for (i++; i < len && ((unsigned char)text[i] & 0xC0) == 0x80; i++)
                ;
        }
        if (at < i)
            return start;
    }
    return at + 1;
}

/* With off at a member's value, the offset of the opening quote of its key
 * (off itself when the text is not as expected). */
static size_t key_offset(const char *text, size_t off)
{
    size_t i = off;
    while (i > 0 && is_space(text[i - 1]))
        i--;
    if (i == 0 || text[i - 1] != ':')
        return off;
    for (i--; i > 0 && is_space(text[i - 1]); i--)
        ;
    if (i == 0 || text[i - 1] != '"')
        return off;
    /* back to the previous quote that no odd run of backslashes escapes */
    for (i--; i > 0; i--) {
        if (text[i - 1] != '"')
            continue;
        size_t bs = 0;
        while (i - 1 > bs && text[i - 2 - bs] == '\\')
            bs++;
        if (bs % 2 == 0)
            return i - 1;
    }
    return off;
}

/* Adds the position of err's field in text (when it has none yet). */
void part_error_locate(struct part_error *err, const char *text, size_t len)
{
    if (!err || err->line != 0 || !text)
        return;
    bool key = err->column == LOCATE_KEY;
    part_jsonpos_locate(text, len, err->field, &err->line, &err->column);
    if (key)
        offset_position(text, key_offset(text, position_offset(text, len, err->line, err->column)),
                        &err->line, &err->column);
}

int part_json_parse(const char *text, size_t len, const char *file, json_t **ret,
                    struct part_error *err)
{
    json_error_t jerr;

    *ret = NULL;
    part_error_set_file(err, file);
    size_t blank = 0; /* text is len bytes, not necessarily NUL-terminated */
    while (blank < len && text[blank] && strchr(" \t\r\n", text[blank]))
        blank++;
    if (blank == len)
        return part_error_set(err, -ENODATA, "", "empty file, expected a JSON object");
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        /* jansson wants a closing bracket where a member or an element ended
         * without one: most often, a comma is what is missing */
        bool list = strncmp(jerr.text, "'}' expected", 12) == 0 ||
                    strncmp(jerr.text, "']' expected", 12) == 0;
        int r = part_error_set(err, -EINVAL, "", "invalid JSON: %s%s", list ? "',' or " : "",
                               jerr.text);
        if (err) {
            err->line = jerr.line;
            err->column = jerr.column;
            if (jerr.position > 0 && (size_t)jerr.position <= len)
                offset_position(text, token_start(text, len, (size_t)jerr.position - 1), &err->line,
                                &err->column);
        }
        return r;
    }
    *ret = root;
    return 0;
}

int part_json_get_named_object(json_t *root, const char *what, const char *const *allowed,
                               char name[PART_NAME_MAX], struct part_error *err)
{
    const char *s = NULL;
    int r;

    if (!json_is_object(root))
        return part_error_set(err, -EINVAL, "", "a %s must be a JSON object, got %s", what,
                              part_json_type_name(root));
    if ((r = part_json_check_keys(root, "", allowed, err)) < 0 ||
        (r = part_json_get_string(root, "", "name", &s, err)) < 0)
        return r;
    if (!s)
        return part_error_set(err, -EINVAL, "name", "name: required field missing");
    char kind[64];
    snprintf(kind, sizeof(kind), "%s%sname", strcmp(what, "profile") ? what : "",
             strcmp(what, "profile") ? " " : "");
    if ((r = part_name_check(s, "name", kind, err)) < 0)
        return r;
    snprintf(name, PART_NAME_MAX, "%s", s);
    return 0;
}
