/* partctl --self-test: checks every entry of the command table, each
 * option's range (its bounds accepted, just beyond them refused), that
 * every setting of libpart's table has an option, what is generated from
 * the table, and the parser of partd's event stream; so that a mistake in
 * a new entry fails in ctest rather than in front of a user. Prints each
 * problem; silent about what is fine. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "partctl.h"
#include "sse.h"

#define SUMMARY_MAX 50 /* beside the widest synopsis in 80 columns */

static int problems;

static void problem(const char *where, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(const char *where, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "self-test: %s: ", where);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    problems++;
}

/* lower-case words joined by '-': how commands and options are spelt */
static bool valid_name(const char *s)
{
    if (!s || !islower((unsigned char)s[0]))
        return false;
    for (; *s; s++)
        if (!islower((unsigned char)*s) && *s != '-')
            return false;
    return s[-1] != '-';
}

static bool valid_metavar(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if (!isupper((unsigned char)*s))
            return false;
    return true;
}

/* help and summaries are fragments: lower case, no final period */
static bool valid_text(const char *s)
{
    return s && *s && !isupper((unsigned char)s[0]) && s[strlen(s) - 1] != '.';
}

/* Whether o takes text as its value. */
static bool accepts(const struct partctl_opt *o, const char *text)
{
    struct opt_value v;
    char err[512];

    return opt_parse(o, text, &v, err, sizeof(err));
}

/* Says so when o takes (want) or refuses (!want) the value v. */
static void expect(const char *where, const struct partctl_opt *o, const struct opt_spec *s,
                   double v, bool want, const char *what)
{
    char text[64];

    opt_format(s, v, text, sizeof(text));
    if (accepts(o, text) != want)
        problem(where, "%s %s is %s", what, text, want ? "refused" : "accepted");
}

/* o's range is what the table says: its bounds are taken, values just
 * beyond them refused. */
static void check_range(const char *where, const struct partctl_opt *o, const struct opt_spec *s)
{
    bool whole = s->type == OPT_INTEGER || s->type == OPT_SIZE;
    double step = whole ? 1 : s->min != 0 ? fabs(s->min) / 2 : 0.001;
    int before = problems;

    if (!(s->min <= s->max) || (s->min < 0 && s->type != OPT_NUMBER))
        problem(where, "its range is empty, or below 0 for a type without sign");
    if (whole && (s->min != floor(s->min) || (s->max != OPT_NO_MAX && s->max != floor(s->max))))
        problem(where, "a whole number with bounds that are not");
    if (problems > before)
        return;
    expect(where, o, s, s->min, !s->over_min, "its minimum");
    if (s->type != OPT_SIZE || s->min >= step)
        expect(where, o, s, s->min - step, false, "below its range,");
    if (s->max == OPT_NO_MAX)
        return;
    expect(where, o, s, s->max, true, "its maximum");
    expect(where, o, s, s->max + step, false, "above its range,");
}

/* One option's entry: name, metavar, help, and a type and range that fit. */
static void check_opt(const char *where, const struct partctl_opt *o, bool global)
{
    struct opt_spec s = opt_spec(o);

    if (!valid_name(o->name))
        problem(where, "option name not lower-case words joined by '-'");
    if (!global && o->short_name)
        problem(where, "short names are for global options only");
    if (!global && strcmp(o->name, "help") == 0)
        problem(where, "--help is implicit in every command");
    if (opt_takes_value(o) != valid_metavar(o->metavar))
        problem(where, "needs a metavar (upper case) exactly when it takes a value");
    if (!valid_text(o->help))
        problem(where, "help missing, capitalised or ending with a period");
    if (o->type == OPT_SETTING && (unsigned)o->setting >= PART_SET_ALL)
        problem(where, "not one of libpart's settings");
    if ((s.type == OPT_ENUM) != (s.choices != NULL) || (s.choices && !s.choices[0]))
        problem(where, "a list of choices (not empty) exactly when it is an enum");
    if (s.none && s.type != OPT_NUMBER)
        problem(where, "a word for none on an option that is not a number");
    if (opt_is_ranged(&s))
        check_range(where, o, &s);
    else if (s.min != 0 || s.max != 0 || s.over_min || s.what)
        problem(where, "a range on an option that has none");
}

static void check_opts(const struct partctl_table *t, const char *cmd,
                       const struct partctl_opt *opts, bool global)
{
    char where[128];
    int n = 0;

    for (const struct partctl_opt *o = opts; o && o->name; o++, n++) {
        snprintf(where, sizeof(where), "%s --%s", cmd, o->name);
        check_opt(where, o, global);
        for (const struct partctl_opt *p = opts; p != o; p++)
            if (strcmp(p->name, o->name) == 0 || (o->short_name && p->short_name == o->short_name))
                problem(where, "defined twice");
        /* a shadowed global option must take the same kind of value, or
         * "CMD --x V" would mean different things to different readers */
        for (const struct partctl_opt *g = t->globals; !global && g->name; g++)
            if (strcmp(g->name, o->name) == 0 && opt_spec(g).type != opt_spec(o).type)
                problem(where, "shadows global --%s with another type", g->name);
    }
    if (n > PARTCTL_OPTS_MAX)
        problem(cmd, "more than %d options", PARTCTL_OPTS_MAX);
}

static void check_args(const struct partctl_cmd *c)
{
    char where[128];
    bool optional = false;
    int n = 0;

    for (const struct partctl_arg *a = c->args; a && a->metavar; a++, n++) {
        snprintf(where, sizeof(where), "%s %s", c->name, a->metavar);
        if (!valid_metavar(a->metavar))
            problem(where, "metavar not upper case");
        if (optional && !a->optional)
            problem(where, "required argument after an optional one");
        optional = a->optional;
        if (a->choices && !a->choices[0])
            problem(where, "empty list of choices");
    }
    if (n > PARTCTL_ARGS_MAX)
        problem(c->name, "more than %d arguments", PARTCTL_ARGS_MAX);
}

static void check_command(const struct partctl_table *t, const struct partctl_cmd *c)
{
    if (!valid_name(c->name))
        problem(c->name, "command name not lower-case words joined by '-'");
    for (const struct partctl_cmd *p = t->commands; p != c; p++)
        if (strcmp(p->name, c->name) == 0)
            problem(c->name, "defined twice");
    if (!c->run)
        problem(c->name, "no handler");
    if (!valid_text(c->summary))
        problem(c->name, "summary missing, capitalised or ending with a period");
    else if (strlen(c->summary) > SUMMARY_MAX)
        problem(c->name, "summary over %d characters: it would wrap in --help", SUMMARY_MAX);
    check_opts(t, c->name, c->opts, false);
    check_args(c);
}

/* Every setting of libpart's table has one option: a setting libpart
 * gains fails here until partctl can change it. */
static void check_settings(const struct partctl_table *t)
{
    for (int s = 0; s < PART_SET_ALL; s++) {
        int n = 0;
        for (const struct partctl_cmd *c = t->commands; c->name; c++)
            for (const struct partctl_opt *o = c->opts; o && o->name; o++)
                n += o->type == OPT_SETTING && o->setting == (enum part_setting)s;
        if (n != 1)
            problem(part_setting_name(s), "libpart's setting has %d options, not 1", n);
    }
}

/* A value o takes: its first choice, its lowest, "x" for a string. */
static const char *sample(const struct partctl_opt *o, char *buf, size_t len)
{
    struct opt_spec s = opt_spec(o);

    if (s.type == OPT_ENUM)
        return s.choices[0];
    if (!opt_is_ranged(&s))
        return "x";
    if (!s.over_min)
        return opt_format(&s, s.min, buf, len);
    return opt_format(&s, s.max != OPT_NO_MAX ? s.max : s.min + 1, buf, len);
}

/* Parses "partctl CMD ARGS... --OPT VALUE..." built from c's entry: every
 * option must land in its slot. */
static void check_parse(const struct partctl_table *t, const struct partctl_cmd *c)
{
    char *argv[2 + PARTCTL_ARGS_MAX + 2 * PARTCTL_OPTS_MAX + 1] = {"partctl", (char *)c->name};
    char opts[PARTCTL_OPTS_MAX][64], values[PARTCTL_OPTS_MAX][64];
    int argc = 2, n = 0;

    for (const struct partctl_arg *a = c->args; a && a->metavar && argc < 2 + PARTCTL_ARGS_MAX; a++)
        argv[argc++] = (char *)(a->choices ? a->choices[0] : "x");
    for (const struct partctl_opt *o = c->opts; o && o->name && n < PARTCTL_OPTS_MAX; o++, n++) {
        snprintf(opts[n], sizeof(opts[n]), "--%s", o->name);
        argv[argc++] = opts[n];
        if (opt_takes_value(o))
            argv[argc++] = (char *)sample(o, values[n], sizeof(values[n]));
    }

    struct partctl_ctx ctx = {0};
    enum cli_action action = CLI_RUN;
    FILE *saved = stderr;
    stderr = fopen("/dev/null", "w"); /* a failure is reported below, once */
    int r = cli_parse(t, argc, argv, &ctx, &action);
    fclose(stderr);
    stderr = saved;
    if (r != PARTCTL_OK || action != CLI_RUN || ctx.cmd != c)
        problem(c->name, "its own synopsis does not parse");
    for (int i = 0; r == PARTCTL_OK && i < n; i++)
        if (!ctx.values[i].text)
            problem(c->name, "option %s was not stored", opts[i]);
    client_clear(&ctx.client);
}

/* s with every run of blanks and newlines as one blank: help as one line */
static void squeeze(char *s)
{
    char *out = s;
    bool blank = false;

    for (const char *in = s; *in; in++) {
        if (isspace((unsigned char)*in)) {
            blank = true;
            continue;
        }
        if (blank && out != s)
            *out++ = ' ';
        blank = false;
        *out++ = *in;
    }
    *out = '\0';
}

/* What help and completion print names every command and option, and the
 * help every option's range. */
static void check_generated(const struct partctl_table *t)
{
    char *text = NULL, range[256];
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);

    if (!m) {
        problem("generated", "cannot open a memory stream");
        return;
    }
    help_print(t, NULL, m);
    for (const struct partctl_cmd *c = t->commands; c->name; c++)
        help_print(t, c, m);
    completion_bash(t, m);
    fclose(m);
    squeeze(text);
    for (const struct partctl_cmd *c = t->commands; c->name; c++) {
        if (!strstr(text, c->name))
            problem(c->name, "missing from help or completion");
        for (const struct partctl_opt *o = c->opts; o && o->name; o++) {
            if (!strstr(text, o->name))
                problem(c->name, "--%s missing from help or completion", o->name);
            if (*opt_range(o, range, sizeof(range)) && !strstr(text, range))
                problem(c->name, "--%s's range (%s) missing from its help", o->name, range);
        }
    }
    free(text);
}

int self_test(const struct partctl_table *t)
{
    int n = 0;

    problems = 0;
    check_opts(t, "global", t->globals, true);
    for (const struct partctl_cmd *c = t->commands; c->name; c++, n++)
        check_command(t, c);
    check_settings(t);
    /* parsing and generating rely on a well-formed table (a metavar where
     * there is a value): check them only on one */
    if (problems == 0) {
        for (const struct partctl_cmd *c = t->commands; c->name; c++)
            check_parse(t, c);
        check_generated(t);
    }
    problems += sse_self_test();
    if (problems)
        return PARTCTL_FAILED;
    printf("self-test: %d commands: ok\n", n);
    return PARTCTL_OK;
}
