/* Option values: resolving an option's type and range (libpart's for the
 * partition settings), converting what was given, and saying what is
 * accepted, for errors and for help. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <part/size.h>

#include "opt.h"

/* The most MiB a size takes: libpart keeps setting values as doubles,
 * which hold whole numbers exactly up to 2^53. */
#define OPT_SIZE_LIMIT 0x1p53

/* A setting's type as an option's (part/setting.h). */
static void setting_spec(enum part_setting setting, struct opt_spec *s)
{
    const struct part_setting_desc *d = part_setting_desc(setting);

    s->min = d->min;
    s->max = d->max;
    s->over_min = false;
    switch (d->type) {
    case PART_SETTING_COUNT:
        s->type = OPT_INTEGER;
        break;
    case PART_SETTING_SIZE:
        s->type = OPT_SIZE;
        if (d->max == 0) /* libpart's "any positive MiB" */
            s->max = OPT_NO_MAX;
        break;
    case PART_SETTING_CAP:
        s->type = OPT_NUMBER;
        s->none = "none"; /* how libpart writes a cap of PART_CAP_NONE in text */
        s->what = s->what ? s->what : "processors";
        break;
    }
}

struct opt_spec opt_spec(const struct partctl_opt *o)
{
    struct opt_spec s = {
        .type = o->type,
        .min = o->min,
        .max = o->max,
        .over_min = o->over_min,
        .none = o->none,
        .what = o->what,
        .choices = o->choices,
    };

    if (o->type == OPT_SETTING)
        setting_spec(o->setting, &s);
    return s;
}

bool opt_takes_value(const struct partctl_opt *o)
{
    return o->type != OPT_FLAG;
}

bool opt_is_ranged(const struct opt_spec *s)
{
    return s->type == OPT_INTEGER || s->type == OPT_NUMBER || s->type == OPT_SIZE ||
           s->type == OPT_DURATION;
}

/* A non-negative whole number, digits only. */
static bool parse_uint(const char *t, uint64_t *ret)
{
    char *end;

    if (*t < '0' || *t > '9')
        return false;
    errno = 0;
    unsigned long long v = strtoull(t, &end, 10);
    if (errno || *end)
        return false;
    *ret = v;
    return true;
}

/* A decimal number ("-1", "2.5", ".5"; no exponent, no "inf") at the start
 * of t; returns where it ends, or NULL. */
static const char *scan_decimal(const char *t, double *ret)
{
    const char *p = t + (*t == '-' || *t == '+');
    size_t digits = strspn(p, "0123456789");

    p += digits;
    if (*p == '.') {
        size_t frac = strspn(p + 1, "0123456789");
        digits += frac;
        p += 1 + frac;
    }
    if (digits == 0)
        return NULL;
    *ret = strtod(t, NULL);
    return p;
}

/* Seconds, or with s, m or h: "90", "1.5m", "2h". */
static bool parse_duration(const char *t, double *ret)
{
    static const struct {
        char unit;
        double seconds;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}};
    double v;
    const char *end = scan_decimal(t, &v);

    if (!end)
        return false;
    if (*end) {
        size_t i = 0, n = sizeof(units) / sizeof(units[0]);
        while (i < n && (end[0] != units[i].unit || end[1]))
            i++;
        if (i == n)
            return false;
        v *= units[i].seconds;
    }
    *ret = v;
    return true;
}

static bool in_range(const struct opt_spec *s, double v)
{
    double max = s->type == OPT_SIZE && s->max > OPT_SIZE_LIMIT ? OPT_SIZE_LIMIT : s->max;

    return (s->over_min ? v > s->min : v >= s->min) && v <= max;
}

const char *opt_format(const struct opt_spec *s, double v, char *buf, size_t len)
{
    if (s->type == OPT_SIZE)
        return part_size_format((uint64_t)v, buf, len);
    snprintf(buf, len, "%.15g", v);
    return buf;
}

/* "over 0", "1 or more", "1MiB or more"; "" for 0 or more where the type
 * has no sign. */
static const char *lower_text(const struct opt_spec *s, char *buf, size_t len)
{
    char lo[32];

    opt_format(s, s->min, lo, sizeof(lo));
    if (s->over_min)
        snprintf(buf, len, "over %s", lo);
    else if (s->min != 0 || s->type == OPT_NUMBER)
        snprintf(buf, len, "%s or more", lo);
    else
        buf[0] = '\0';
    return buf;
}

/* What is accepted, after a bad value: "(WHAT, LOWER), at most MAX, or
 * NONE". */
static void describe(const struct opt_spec *s, char *buf, size_t len)
{
    static const char *const what[] = {
        [OPT_INTEGER] = "a whole number",
        [OPT_NUMBER] = "a number",
        [OPT_SIZE] = "MiB, or a size with MiB, GiB or TiB",
        [OPT_DURATION] = "seconds",
    };
    char lower[48], hi[32];

    lower_text(s, lower, sizeof(lower));
    int n = snprintf(buf, len, "(%s%s%s)", s->what ? s->what : what[s->type], lower[0] ? ", " : "",
                     lower);
    if (s->max != OPT_NO_MAX)
        n += snprintf(buf + n, len - (size_t)n, ", at most %s",
                      opt_format(s, s->max, hi, sizeof(hi)));
    if (s->none)
        snprintf(buf + n, len - (size_t)n, ", or %s", s->none);
}

/* "A, B, C" */
static const char *choice_list(const char *const *choices, char *buf, size_t len)
{
    buf[0] = '\0';
    for (const char *const *c = choices; c && *c; c++)
        snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", c == choices ? "" : ", ", *c);
    return buf;
}

static bool parse_enum(const struct partctl_opt *o, const struct opt_spec *s, const char *text,
                       struct opt_value *ret, char *err, size_t errlen)
{
    char list[256];

    for (size_t i = 0; s->choices && s->choices[i]; i++)
        if (strcmp(s->choices[i], text) == 0) {
            *ret = (struct opt_value){.text = text, .n = i};
            return true;
        }
    snprintf(err, errlen, "invalid value '%s' for --%s (expected one of: %s)", text, o->name,
             choice_list(s->choices, list, sizeof(list)));
    return false;
}

bool opt_parse(const struct partctl_opt *o, const char *text, struct opt_value *ret, char *err,
               size_t errlen)
{
    struct opt_spec s = opt_spec(o);
    struct opt_value v = {.text = text};
    char accepted[192];
    bool ok = true;

    switch (s.type) {
    case OPT_ENUM:
        return parse_enum(o, &s, text, ret, err, errlen);
    case OPT_INTEGER:
        ok = parse_uint(text, &v.n);
        v.x = (double)v.n;
        break;
    case OPT_SIZE:
        ok = part_size_parse(text, &v.n) == 0;
        v.x = (double)v.n;
        break;
    case OPT_NUMBER: {
        const char *end = scan_decimal(text, &v.x);
        v.none = s.none && strcmp(text, s.none) == 0;
        ok = v.none || (end && !*end);
        break;
    }
    case OPT_DURATION:
        ok = parse_duration(text, &v.x);
        break;
    default: /* a flag, a string: nothing to convert */
        break;
    }
    if (ok && !v.none && opt_is_ranged(&s))
        ok = in_range(&s, v.x);
    if (!ok) {
        describe(&s, accepted, sizeof(accepted));
        snprintf(err, errlen, "invalid --%s '%s' %s", o->name, text, accepted);
        return false;
    }
    *ret = v;
    return true;
}

const char *opt_range(const struct partctl_opt *o, char *buf, size_t len)
{
    struct opt_spec s = opt_spec(o);
    char lo[32], hi[32], lower[48], list[256];
    int n = 0;

    buf[0] = '\0';
    if (s.type == OPT_ENUM)
        snprintf(buf, len, "one of: %s", choice_list(s.choices, list, sizeof(list)));
    if (!opt_is_ranged(&s))
        return buf;
    opt_format(&s, s.max, hi, sizeof(hi));
    lower_text(&s, lower, sizeof(lower));
    if (s.max != OPT_NO_MAX && !s.over_min)
        n = snprintf(buf, len, "%s to %s", opt_format(&s, s.min, lo, sizeof(lo)), hi);
    else if (s.max != OPT_NO_MAX)
        n = snprintf(buf, len, "%s, at most %s", lower, hi);
    else
        n = snprintf(buf, len, "%s", lower[0] ? lower : "0 or more");
    if (s.type == OPT_DURATION)
        n += snprintf(buf + n, len - (size_t)n, " seconds, or with s, m or h");
    if (s.none)
        snprintf(buf + n, len - (size_t)n, ", or %s", s.none);
    return buf;
}
