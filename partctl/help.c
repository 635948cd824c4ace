/* Help, generated from the command table: the overview (--help) and each
 * command's (help COMMAND, COMMAND --help), with each option's range
 * (opt.c). Nothing here names a particular command, so a new table entry
 * needs no change here. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "partctl.h"

#define HELP_WIDTH 80

/* Prints text from column at, wrapped at HELP_WIDTH with continuation lines
 * indented to column indent, and a newline. */
static void wrap(FILE *f, const char *text, size_t at, size_t indent)
{
    size_t col = at;
    bool first = true;

    while (*text) {
        size_t n = strcspn(text, " ");
        if (!first && col + 1 + n > HELP_WIDTH) {
            fprintf(f, "\n%*s", (int)indent, "");
            col = indent;
        } else if (!first) {
            fputc(' ', f);
            col++;
        }
        fprintf(f, "%.*s", (int)n, text);
        col += n;
        first = false;
        text += n;
        text += strspn(text, " ");
    }
    fputc('\n', f);
}

static bool any_short(const struct partctl_opt *opts)
{
    for (; opts && opts->name; opts++)
        if (opts->short_name)
            return true;
    return false;
}

/* "-o, --output FORMAT" or "    --server URL" when others have short names */
static void opt_label(const struct partctl_opt *o, bool align, char *buf, size_t len)
{
    int n = 0;
    if (o->short_name)
        n = snprintf(buf, len, "-%c, ", o->short_name);
    else if (align)
        n = snprintf(buf, len, "    ");
    snprintf(buf + n, len - (size_t)n, "--%s%s%s", o->name, opt_takes_value(o) ? " " : "",
             opt_takes_value(o) ? o->metavar : "");
}

/* "set the processing weight; 1 to 999" */
static void opt_help(const struct partctl_opt *o, char *buf, size_t len)
{
    char range[256];

    opt_range(o, range, sizeof(range));
    snprintf(buf, len, "%s%s%s", o->help, range[0] ? "; " : "", range);
}

static void print_opts(FILE *f, const struct partctl_opt *opts, const struct partctl_opt *extra)
{
    bool align = any_short(opts) || any_short(extra);
    char labels[PARTCTL_OPTS_MAX + 2][64], text[512];
    size_t w = 0, n = 0;

    for (const struct partctl_opt *o = opts; o && o->name; o++, n++)
        opt_label(o, align, labels[n], sizeof(labels[n]));
    if (extra)
        opt_label(extra, align, labels[n++], sizeof(labels[0]));
    for (size_t i = 0; i < n; i++)
        if (strlen(labels[i]) > w)
            w = strlen(labels[i]);
    for (size_t i = 0; i < n; i++) {
        const struct partctl_opt *o = opts && opts[i].name ? &opts[i] : extra;
        opt_help(o, text, sizeof(text));
        fprintf(f, "  %-*s  ", (int)w, labels[i]);
        wrap(f, text, w + 4, w + 4);
    }
}

/* "show NAME", "help [COMMAND]", "resize NAME [OPTIONS]" */
static void synopsis(const struct partctl_cmd *c, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s", c->name);
    for (const struct partctl_arg *a = c->args; a && a->metavar; a++)
        n += snprintf(buf + n, len - (size_t)n, a->optional ? " [%s]" : " %s", a->metavar);
    if (c->opts)
        snprintf(buf + n, len - (size_t)n, " [OPTIONS]");
}

static const struct partctl_opt help_opt = {
    .name = "help", .short_name = 'h', .help = "show this help"};

static int print_overview(const struct partctl_table *t, FILE *f)
{
    char syn[128];
    size_t w = 0;

    fputs("Usage: partctl [OPTIONS] COMMAND [ARGUMENTS] [COMMAND OPTIONS]\n\n", f);
    wrap(f,
         "partctl is the command-line client of partd, which manages logical partitions "
         "(libvirt domains) with processing weights, caps and bounds, the way PR/SM does on "
         "a mainframe.",
         0, 0);
    fputs("\nCommands:\n", f);
    for (const struct partctl_cmd *c = t->commands; c->name; c++) {
        synopsis(c, syn, sizeof(syn));
        if (strlen(syn) > w)
            w = strlen(syn);
    }
    for (const struct partctl_cmd *c = t->commands; c->name; c++) {
        synopsis(c, syn, sizeof(syn));
        fprintf(f, "  %-*s  ", (int)w, syn);
        wrap(f, c->summary, w + 4, w + 4);
    }
    fputs("\nOptions (before or after the command):\n", f);
    print_opts(f, t->globals, NULL);
    fputs("\nEnvironment:\n"
          "  PARTD_SERVER  partd's address when --server is not given\n"
          "  PARTD_TOKEN   the bearer token when --token-file is not given\n"
          "  PARTD_CACERT  the CA certificates when --cacert is not given\n"
          "  PARTCTL_CPC   the CPC (of the list) when neither --cpc nor --server is given\n"
          "  PARTCTL_CPCS  the list of CPCs (default: $XDG_CONFIG_HOME/partctl/cpcs.json,\n"
          "                else " PARTCTL_CONFDIR "/cpcs.json)\n"
          "\nExit status: 0 done, 1 the request failed, 2 wrong usage, 3 some CPCs did\n"
          "not answer (cpcs, list --all, plan --all: the others were shown).\n"
          "Run 'partctl help COMMAND' for a command's arguments and options.\n",
          f);
    return PARTCTL_OK;
}

/* the glue that keeps "[--cpus N]" together when the usage line wraps */
#define GLUE '\x01'
static const char glue[] = {GLUE, '\0'};

int help_print(const struct partctl_table *t, const struct partctl_cmd *c, FILE *f)
{
    char usage[1024], *wrapped = NULL;
    size_t len = 0;
    int n;

    if (!c)
        return print_overview(t, f);
    n = snprintf(usage, sizeof(usage), "%s", c->name);
    for (const struct partctl_arg *a = c->args; a && a->metavar; a++)
        n += snprintf(usage + n, sizeof(usage) - (size_t)n, a->optional ? " [%s]" : " %s",
                      a->metavar);
    for (const struct partctl_opt *o = c->opts; o && o->name; o++)
        n += snprintf(usage + n, sizeof(usage) - (size_t)n, " [--%s%s%s]", o->name,
                      opt_takes_value(o) ? glue : "", opt_takes_value(o) ? o->metavar : "");
    FILE *m = open_memstream(&wrapped, &len);
    if (!m)
        return PARTCTL_FAILED;
    wrap(m, usage, strlen("Usage: partctl "), strlen("Usage: partctl ") + strlen(c->name) + 1);
    fclose(m);
    fputs("Usage: partctl ", f);
    for (char *p = wrapped; *p; p++)
        fputc(*p == GLUE ? ' ' : *p, f);
    free(wrapped);

    fprintf(f, "\n%c%s.\n", toupper((unsigned char)c->summary[0]), c->summary + 1);
    if (c->local)
        fputs("This command does not contact partd.\n", f);
    fputs("\nOptions:\n", f);
    print_opts(f, c->opts, &help_opt);
    fputc('\n', f);
    wrap(f,
         "The global options (--server, --cpc, --token-file, --cacert, --timeout, -o) are in "
         "'partctl "
         "--help'.",
         0, 0);
    return PARTCTL_OK;
}

int cmd_help(struct partctl_ctx *ctx)
{
    const struct partctl_cmd *c = NULL;

    if (ctx->args[0] && !(c = cli_find_command(ctx->table, ctx->args[0])))
        return cli_usage_error(ctx->cmd, "unknown command '%s'", ctx->args[0]);
    return help_print(ctx->table, c, stdout);
}
