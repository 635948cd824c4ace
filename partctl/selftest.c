/* partctl --self-test: checks every entry of the command table and what is
 * generated from it, so that a mistake in a new entry fails in ctest rather
 * than in front of a user, and the parser of partd's event stream. Prints
 * each problem; silent about what is fine. */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "partctl.h"

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

static void check_choices(const char *where, const char *const *choices)
{
    if (choices && !choices[0])
        problem(where, "empty list of choices");
}

static void check_opts(const char *cmd, const struct partctl_opt *opts, bool global)
{
    char where[128];
    int n = 0;

    for (const struct partctl_opt *o = opts; o && o->name; o++, n++) {
        snprintf(where, sizeof(where), "%s --%s", cmd, o->name);
        if (!valid_name(o->name))
            problem(where, "option name not lower-case words joined by '-'");
        for (const struct partctl_opt *p = opts; p != o; p++)
            if (strcmp(p->name, o->name) == 0 || (o->short_name && p->short_name == o->short_name))
                problem(where, "defined twice");
        if (!global && o->short_name)
            problem(where, "short names are for global options only");
        if (!global && strcmp(o->name, "help") == 0)
            problem(where, "--help is implicit in every command");
        if (o->has_arg != valid_metavar(o->metavar))
            problem(where, "needs a metavar (upper case) exactly when it takes an argument");
        if (!valid_text(o->help))
            problem(where, "help missing, capitalised or ending with a period");
        if (o->choices && !o->has_arg)
            problem(where, "choices on an option without argument");
        check_choices(where, o->choices);
        /* a shadowed global option must parse alike, or "CMD --x V" would
         * mean different things to different readers */
        for (const struct partctl_opt *g = partctl_global_opts; !global && g->name; g++)
            if (strcmp(g->name, o->name) == 0 && g->has_arg != o->has_arg)
                problem(where, "shadows global --%s with another argument count", g->name);
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
        check_choices(where, a->choices);
    }
    if (n > PARTCTL_ARGS_MAX)
        problem(c->name, "more than %d arguments", PARTCTL_ARGS_MAX);
}

/* Parses "partctl CMD ARGS... --OPT VALUE..." built from c's entry: every
 * option must land in its slot. */
static void check_parse(const struct partctl_cmd *c)
{
    char *argv[2 + PARTCTL_ARGS_MAX + 2 * PARTCTL_OPTS_MAX + 1] = {"partctl", (char *)c->name};
    char opts[PARTCTL_OPTS_MAX][64];
    int argc = 2, n = 0;

    for (const struct partctl_arg *a = c->args; a && a->metavar && argc < 2 + PARTCTL_ARGS_MAX; a++)
        argv[argc++] = (char *)(a->choices ? a->choices[0] : "x");
    for (const struct partctl_opt *o = c->opts; o && o->name && n < PARTCTL_OPTS_MAX; o++, n++) {
        snprintf(opts[n], sizeof(opts[n]), "--%s", o->name);
        argv[argc++] = opts[n];
        if (o->has_arg)
            argv[argc++] = (char *)(o->choices ? o->choices[0] : "1");
    }

    struct partctl_ctx ctx = {0};
    bool done = false;
    FILE *saved = stderr;
    stderr = fopen("/dev/null", "w"); /* a failure is reported below, once */
    int r = cli_parse(argc, argv, &ctx, &done);
    fclose(stderr);
    stderr = saved;
    if (r != PARTCTL_OK || done || ctx.cmd != c)
        problem(c->name, "its own synopsis does not parse");
    for (int i = 0; r == PARTCTL_OK && i < n; i++)
        if (!ctx.values[i])
            problem(c->name, "option %s was not stored", opts[i]);
    client_clear(&ctx.client);
}

/* What help and completion print must name every command and option. */
static void check_generated(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);

    if (!m) {
        problem("generated", "cannot open a memory stream");
        return;
    }
    help_print(NULL, m);
    for (const struct partctl_cmd *c = partctl_commands; c->name; c++)
        help_print(c, m);
    completion_bash(m);
    fclose(m);
    for (const struct partctl_cmd *c = partctl_commands; c->name; c++) {
        if (!strstr(text, c->name))
            problem(c->name, "missing from help or completion");
        for (const struct partctl_opt *o = c->opts; o && o->name; o++)
            if (!strstr(text, o->name))
                problem(c->name, "--%s missing from help or completion", o->name);
    }
    free(text);
}

int self_test(void)
{
    int n = 0;

    problems = 0;
    check_opts("global", partctl_global_opts, true);
    for (const struct partctl_cmd *c = partctl_commands; c->name; c++, n++) {
        if (!valid_name(c->name))
            problem(c->name, "command name not lower-case words joined by '-'");
        for (const struct partctl_cmd *p = partctl_commands; p != c; p++)
            if (strcmp(p->name, c->name) == 0)
                problem(c->name, "defined twice");
        if (!c->run)
            problem(c->name, "no handler");
        if (!valid_text(c->summary))
            problem(c->name, "summary missing, capitalised or ending with a period");
        else if (strlen(c->summary) > SUMMARY_MAX)
            problem(c->name, "summary over %d characters: it would wrap in --help", SUMMARY_MAX);
        check_opts(c->name, c->opts, false);
        check_args(c);
    }
    /* parsing and generating rely on a well-formed table (a metavar where
     * there is an argument): check them only on one */
    if (problems == 0) {
        for (const struct partctl_cmd *c = partctl_commands; c->name; c++)
            check_parse(c);
        check_generated();
    }
    problems += events_self_test();
    if (problems)
        return PARTCTL_FAILED;
    printf("self-test: %d commands: ok\n", n);
    return PARTCTL_OK;
}
