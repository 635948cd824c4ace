/* Reading JSON configuration: objects read member by member from a table
 * (json.h), each member checked by its type with the field path in every
 * error, unknown keys refused, and errors located in the text. Shared by
 * the profile, partd.json, policy and request readers. */
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

static int json_check_keys(json_t *obj, const char *parent, const char *const *allowed,
                           struct part_error *err)
{
    const char *key;
    json_t *v;
    char path[128], list[256];

    json_object_foreach (obj, key, v) {
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

int part_json_expected(const char *path, const char *what, const json_t *v, struct part_error *err)
{
    return part_error_set(err, -EINVAL, path, "%s: expected %s, got %s", path, what,
                          part_json_type_name(v));
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

/* m's own "expected X", or its type's. */
static const char *expected(const struct part_json_member *m, const char *type_own)
{
    return m->expected ? m->expected : type_own;
}

static int read_uint(json_t *v, const char *path, const struct part_json_member *m, unsigned *out,
                     struct part_error *err)
{
    char num[32];
    double d;

    if (json_is_real(v) && !whole_number(v, &d))
        return part_error_set(err, -EINVAL, path, "%s: expected %s, got %s", path,
                              expected(m, "an integer"), number_text(v, num, sizeof(num)));
    if (!whole_number(v, &d))
        return part_json_expected(path, expected(m, "an integer"), v, err);
    if (d < m->lo || d > m->hi)
        return part_error_set(err, -EINVAL, path, "%s: %s is out of range %u-%u", path,
                              number_text(v, num, sizeof(num)), (unsigned)m->lo, (unsigned)m->hi);
    *out = (unsigned)d;
    return 0;
}

/* A number, or with PART_JSON_CAP null too (.none): the one place a cap's
 * "none" is read. */
static int read_number(json_t *v, const char *path, const struct part_json_member *m, double *out,
                       struct part_error *err)
{
    char num[32];

    if (m->type == PART_JSON_CAP && json_is_null(v)) {
        *out = m->none;
        return 0;
    }
    if (!json_is_number(v))
        return part_json_expected(path, expected(m, "a number"), v, err);
    double d = json_number_value(v);
    if (!(d >= m->lo && d <= m->hi))
        return part_error_set(err, -EINVAL, path, "%s: %s is out of range %g-%g", path,
                              number_text(v, num, sizeof(num)), m->lo, m->hi);
    *out = d;
    return 0;
}

/* Whether s is a size as JSON files write it: DIGITS[.DIGITS][ ]UNIT, the
 * pattern of the schemas (a plain number of MiB is written as a number).
 * With zero, whether it is that and zero ("0GiB", "0.0 TiB"). */
static bool size_text_valid(const char *s, bool zero)
{
    const char *digits = zero ? "0" : "0123456789";
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

/* A size given as a number of MiB. */
static int read_size_number(json_t *v, const char *path, uint64_t *out, struct part_error *err)
{
    char num[32];
    double d;

    if (!whole_number(v, &d))
        return part_error_set(err, -EINVAL, path, "%s: %s is not a whole number of MiB", path,
                              number_text(v, num, sizeof(num)));
    if (d <= 0)
        return part_error_set(err, -EINVAL, path, "%s: %s MiB is not a positive size", path,
                              number_text(v, num, sizeof(num)));
    if (d >= 18446744073709551616.0) /* 2^64 */
        return part_error_set(err, -EINVAL, path, "%s: %s MiB is too large", path,
                              number_text(v, num, sizeof(num)));
    *out = json_is_integer(v) ? (uint64_t)json_integer_value(v) : (uint64_t)d;
    return 0;
}

static int read_size(json_t *v, const char *path, const struct part_json_member *m, uint64_t *out,
                     struct part_error *err)
{
    bool zero = m->flags & PART_JSON_ZERO;
    uint64_t mib;

    if (zero && ((json_is_number(v) && json_number_value(v) == 0) ||
                 (json_is_string(v) && size_text_valid(json_string_value(v), true)))) {
        *out = 0;
        return 0;
    }
    if (zero && json_is_number(v) && json_number_value(v) < 0)
        return part_error_set(err, -EINVAL, path, "%s: %g MiB is negative", path,
                              json_number_value(v));
    if (json_is_number(v))
        return read_size_number(v, path, out, err);
    if (!json_is_string(v))
        return part_json_expected(
            path, expected(m, "a size (MiB as an integer, or a string such as \"4GiB\")"), v, err);
    const char *s = json_string_value(v);
    if (s[0] == '-' && size_text_valid(s + 1, false))
        return part_error_set(err, -EINVAL, path, "%s: \"%s\" is not a positive size", path, s);
    if (s[0] && strspn(s, "0123456789") == strlen(s))
        return part_error_set(err, -EINVAL, path,
                              "%s: \"%s\" has no unit (write \"%sMiB\", or %s as a number of MiB)",
                              path, s, s, s);
    if (!size_text_valid(s, false))
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

static int read_string(json_t *v, const char *path, const struct part_json_member *m,
                       const char **out, struct part_error *err)
{
    if (!json_is_string(v))
        return part_json_expected(path, expected(m, "a string"), v, err);
    if (json_string_length(v) == 0)
        return part_error_set(err, -EINVAL, path, "%s: must be a non-empty string", path);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return part_error_set(err, -EINVAL, path, "%s: must not contain NUL characters", path);
    *out = json_string_value(v);
    return 0;
}

/* The value of the choice s names, or an error saying what s is not. */
static int read_choice(const char *s, const char *path, const struct part_json_member *m, int *out,
                       struct part_error *err)
{
    const struct part_json_choice *c;
    char list[256] = "";

    for (c = m->choices; c->name; c++) {
        if (strcmp(s, c->name) == 0) {
            *out = c->value;
            return 0;
        }
    }
    if (!m->what && m->choices[0].name && m->choices[1].name && !m->choices[2].name)
        snprintf(list, sizeof(list), "neither \"%s\" nor \"%s\"", m->choices[0].name,
                 m->choices[1].name);
    for (c = m->choices; !m->what && !list[0] && c->name; c++)
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s\"%s\"",
                 c == m->choices ? "not one of " : ", ", c->name);
    return part_error_set(err, -EINVAL, path, "%s: \"%s\" is %s", path, s,
                          m->what ? m->what : list);
}

/* The types whose value is a string: stored as it is, copied, or mapped. */
static int read_text(json_t *v, const char *path, const struct part_json_member *m, void *out,
                     struct part_error *err)
{
    const char *s = NULL;
    int r;

    if ((r = read_string(v, path, m, &s, err)) < 0)
        return r;
    switch (m->type) {
    case PART_JSON_TEXT:
        if (strlen(s) >= m->size)
            return part_error_set(err, -EINVAL, path, "%s: longer than %zu bytes", path,
                                  m->size - 1);
        snprintf(out, m->size, "%s", s);
        return 0;
    case PART_JSON_NAME:
        if ((r = part_name_check(s, path, m->what, err)) < 0)
            return r;
        snprintf(out, PART_NAME_MAX, "%s", s);
        return 0;
    case PART_JSON_ENUM:
        return read_choice(s, path, m, out, err);
    default:
        *(const char **)out = s;
        return 0;
    }
}

/* Reads v, the value of member m at path, into out. */
static int read_value(json_t *v, const char *path, const struct part_json_member *m, void *out,
                      struct part_error *err)
{
    void *at = (char *)out + m->offset;

    switch (m->type) {
    case PART_JSON_OBJECT:
        return part_json_read(v, path, m->members, out, err);
    case PART_JSON_UINT:
        return read_uint(v, path, m, at, err);
    case PART_JSON_NUMBER:
    case PART_JSON_CAP:
        return read_number(v, path, m, at, err);
    case PART_JSON_SIZE:
        return read_size(v, path, m, at, err);
    case PART_JSON_BOOL:
        if (!json_is_boolean(v))
            return part_json_expected(path, expected(m, "true or false"), v, err);
        *(bool *)at = json_is_true(v);
        return 0;
    case PART_JSON_CUSTOM:
        return m->read(v, path, out, err);
    default:
        return read_text(v, path, m, at, err);
    }
}

/* Reads member m of obj (at parent) into out, hooks included. */
static int read_member(json_t *obj, const char *parent, const struct part_json_member *m, void *out,
                       struct part_error *err)
{
    json_t *v = json_object_get(obj, m->key);
    char path[128];
    int r;

    part_json_path(path, sizeof(path), parent, m->key);
    if (!v && (m->flags & PART_JSON_REQUIRED))
        return part_error_set(err, -EINVAL, path, "%s: required field missing", path);
    if (!v)
        return 0;
    if (m->type == PART_JSON_OBJECT && !json_is_object(v))
        return part_json_expected(path, expected(m, "an object"), v, err);
    if ((m->before && (r = m->before(v, path, out, err)) < 0) ||
        (r = read_value(v, path, m, out, err)) < 0 ||
        (m->after && (r = m->after(v, path, out, err)) < 0))
        return r;
    return 0;
}

int part_json_read(json_t *obj, const char *path, const struct part_json_member *members, void *out,
                   struct part_error *err)
{
    const char *keys[PART_JSON_MEMBERS_MAX + 1];
    const struct part_json_member *m;
    size_t n = 0;
    int r;

    if (!json_is_object(obj) && !*path)
        return part_error_set(err, -EINVAL, "", "expected a JSON object, got %s",
                              part_json_type_name(obj));
    if (!json_is_object(obj))
        return part_json_expected(path, "an object", obj, err);
    for (m = members; m->key && n < PART_JSON_MEMBERS_MAX; m++)
        keys[n++] = m->key;
    keys[n] = NULL;
    if ((r = json_check_keys(obj, path, keys, err)) < 0)
        return r;
    for (int late = 0; late <= 1; late++) {
        for (m = members; m->key; m++) {
            if (!(m->flags & PART_JSON_LATE) != !late)
                continue;
            if ((r = read_member(obj, path, m, out, err)) < 0)
                return r;
        }
    }
    return 0;
}

int part_json_read_text(const char *text, size_t len, const struct part_json_member *members,
                        void *out, struct part_error *err)
{
    json_t *root;
    int r = part_json_parse(text ? text : "", text ? len : 0, NULL, &root, err);
    if (r < 0)
        return r;
    if ((r = part_json_read(root, "", members, out, err)) == -EINVAL)
        part_error_locate(err, text, len);
    json_decref(root);
    return r;
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
