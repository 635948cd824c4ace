/* partctl's option types: what each option of the command table takes and
 * its range, and the one conversion of a value given on the command line
 * into a typed value, with the one message for a bad value. The ranges of
 * partition settings are libpart's (part/setting.h), so partctl refuses
 * what partd would refuse, before sending anything. Nothing here knows a
 * command. */
#pragma once

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <part/setting.h>

enum opt_type {
    OPT_FLAG,     /* no value */
    OPT_STRING,   /* any text */
    OPT_ENUM,     /* one of .choices */
    OPT_INTEGER,  /* a whole number in [min, max] */
    OPT_NUMBER,   /* a decimal number in [min, max], or the word .none */
    OPT_SIZE,     /* MiB, or with a unit MiB, GiB or TiB (libpart's sizes), in [min, max] MiB */
    OPT_DURATION, /* seconds, or with a unit s, m or h, in [min, max] seconds */
    OPT_SETTING,  /* partition setting .setting: its type and range are libpart's */
};

#define OPT_NO_MAX INFINITY /* .max of a range with no upper bound */

/* One option. Tables end with an entry whose name is NULL. Read its type
 * and range through opt_spec(), which resolves OPT_SETTING. */
struct partctl_opt {
    const char *name; /* long name without "--" */
    char short_name;  /* 0 when none */
    enum opt_type type;
    const char *metavar;        /* the value in help ("N", "FILE"); NULL for a flag */
    const char *help;           /* lower case, no final period */
    const char *const *choices; /* OPT_ENUM: the words accepted, NULL-terminated */
    double min, max;            /* OPT_INTEGER, _NUMBER, _SIZE, _DURATION */
    bool over_min;              /* min itself is out of range ("over 0") */
    const char *none;           /* OPT_NUMBER: a word meaning "no value", or NULL */
    const char *what;           /* the values in words when not the type's ("an event number") */
    enum part_setting setting;  /* OPT_SETTING */
};

/* An option's type and range, resolved: never OPT_SETTING. */
struct opt_spec {
    enum opt_type type;
    double min, max;
    bool over_min;
    const char *none, *what;
    const char *const *choices;
};

/* A value from the command line, converted. */
struct opt_value {
    const char *text; /* as given ("" for a flag); NULL when the option was not given */
    bool none;        /* the word .none was given: no number */
    uint64_t n;       /* OPT_INTEGER, OPT_SIZE (MiB), OPT_ENUM (the index in .choices) */
    double x;         /* OPT_NUMBER, OPT_DURATION (seconds); OPT_INTEGER, OPT_SIZE too */
};

/* o's type and range: its own, or for OPT_SETTING libpart's setting's
 * (a count as OPT_INTEGER, a size as OPT_SIZE, a cap as OPT_NUMBER with
 * "none"). */
struct opt_spec opt_spec(const struct partctl_opt *o);

/* Whether o takes a value (every type but OPT_FLAG). */
bool opt_takes_value(const struct partctl_opt *o);

/* Whether s is a number with a range (integer, number, size, duration). */
bool opt_is_ranged(const struct opt_spec *s);

/* Converts text, the value given to o, into *ret (written only on
 * success). Returns false when text is not of o's type or out of its
 * range, with the message in err: "invalid --NAME 'TEXT' (WHAT, LOWER),
 * at most MAX, or NONE", or for a word "invalid value 'TEXT' for --NAME
 * (expected one of: A, B)". */
bool opt_parse(const struct partctl_opt *o, const char *text, struct opt_value *ret, char *err,
               size_t errlen);

/* The values o accepts in words, for help: "1 to 999", "over 0, at most
 * 86400 seconds", "1MiB or more", "one of: table, json"; "" for a flag or
 * a string. Returns buf. */
const char *opt_range(const struct partctl_opt *o, char *buf, size_t len);

/* v as s's values are written: "1MiB" for a size, "2.5" otherwise. */
const char *opt_format(const struct opt_spec *s, double v, char *buf, size_t len);
