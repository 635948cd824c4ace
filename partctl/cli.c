/* The command line, read against the tables of partctl.c: global options
 * anywhere, the command, its arguments and its options, each value
 * converted and checked by opt.c before any handler runs. getopt_long is
 * not used because options depend on the command: after "deactivate",
 * --timeout is the shutdown wait, before it the request timeout. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cpclist.h"
#include "output.h"

int cli_usage_error(const struct partctl_cmd *cmd, const char *fmt, ...)
{
    va_list ap;

    fputs("partctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (cmd)
        fprintf(stderr, "\nTry 'partctl %s --help'.\n", cmd->name);
    else
        fputs("\nTry 'partctl --help'.\n", stderr);
    return PARTCTL_USAGE;
}

int cli_fail(const char *fmt, ...)
{
    va_list ap;

    fputs("partctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return PARTCTL_FAILED;
}

const struct partctl_cmd *cli_find_command(const struct partctl_table *t, const char *name)
{
    for (const struct partctl_cmd *c = t->commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

/* Finds a long (name, namelen) or short (name NULL) option in opts;
 * returns its index or -1. */
static int find_opt(const struct partctl_opt *opts, const char *name, size_t namelen, char shrt)
{
    for (int i = 0; opts && opts[i].name; i++) {
        if (name && strlen(opts[i].name) == namelen && strncmp(opts[i].name, name, namelen) == 0)
            return i;
        if (!name && shrt && opts[i].short_name == shrt)
            return i;
    }
    return -1;
}

const struct opt_value *cli_global(const struct partctl_ctx *ctx, const char *name)
{
    int i = find_opt(ctx->table->globals, name, strlen(name), 0);
    return i >= 0 && ctx->globals[i].text ? &ctx->globals[i] : NULL;
}

/* Reads the option in argv[*i] (and its value, advancing *i) into ctx.
 * Returns PARTCTL_OK or a usage error, printed. */
static int parse_option(int argc, char **argv, int *i, struct partctl_ctx *ctx)
{
    const char *a = argv[*i], *name = NULL, *value = NULL;
    size_t namelen = 0;
    char shrt = 0, err[512];

    if (a[1] == '-') {
        name = a + 2;
        namelen = strcspn(name, "=");
        if (name[namelen] == '=')
            value = name + namelen + 1;
    } else {
        shrt = a[1];
        if (a[2])
            value = a + 2;
    }
    /* the command's own options come first: they may shadow a global one */
    const struct partctl_opt *opts = ctx->cmd ? ctx->cmd->opts : NULL;
    struct opt_value *slots = ctx->values;
    int idx = find_opt(opts, name, namelen, shrt);
    if (idx < 0) {
        opts = ctx->table->globals;
        slots = ctx->globals;
        idx = find_opt(opts, name, namelen, shrt);
    }
    if (idx < 0)
        return cli_usage_error(ctx->cmd, "unknown option '%s'", a);
    const struct partctl_opt *o = &opts[idx];
    if (opt_takes_value(o) && !value) {
        if (*i + 1 >= argc)
            return cli_usage_error(ctx->cmd, "option --%s needs an argument (%s)", o->name,
                                   o->metavar);
        value = argv[++*i];
    } else if (!opt_takes_value(o) && value) {
        return cli_usage_error(ctx->cmd, "option --%s takes no argument", o->name);
    }
    if (!opt_parse(o, value ? value : "", &slots[idx], err, sizeof(err)))
        return cli_usage_error(ctx->cmd, "%s", err);
    return PARTCTL_OK;
}

static bool in_choices(const char *const *choices, const char *value)
{
    for (; *choices; choices++)
        if (strcmp(*choices, value) == 0)
            return true;
    return false;
}

static int parse_positional(const char *a, struct partctl_ctx *ctx, size_t *nargs)
{
    if (!ctx->cmd) {
        ctx->cmd = cli_find_command(ctx->table, a);
        if (!ctx->cmd)
            return cli_usage_error(NULL, "unknown command '%s'", a);
        return PARTCTL_OK;
    }
    const struct partctl_arg *args = ctx->cmd->args;
    if (!args || !args[*nargs].metavar)
        return cli_usage_error(ctx->cmd, "unexpected argument '%s'", a);
    if (args[*nargs].choices && !in_choices(args[*nargs].choices, a))
        return cli_usage_error(ctx->cmd, "invalid %s '%s'", args[*nargs].metavar, a);
    ctx->args[(*nargs)++] = a;
    return PARTCTL_OK;
}

/* Loads the bearer token from --token-file, else $PARTD_TOKEN, else for
 * the local partd's socket the local token files; none is fine. */
static int setup_token(struct partctl_ctx *ctx)
{
    const struct opt_value *token_file = cli_global(ctx, "token-file");
    const char *env;

    /* an explicit --token-file wins over the environment */
    if (token_file) {
        int r = client_load_token(&ctx->client, token_file->text);
        if (r < 0)
            return cli_fail("cannot read a token from %s: %s", token_file->text,
                            r == -EINVAL ? "the file is empty" : strerror(-r));
    } else if ((env = getenv("PARTD_TOKEN")) && env[0]) {
        ctx->client.token = xstrdup(env);
    } else if (strcmp(ctx->client.server, "unix:" CLIENT_LOCAL_SOCKET) == 0) {
        client_load_local_token(&ctx->client); /* the local partd's, as its package made them */
    }
    return PARTCTL_OK;
}

/* Sets ctx->client up for the CPC named name of the list (ctx->cpcs): its
 * entry's URL, CA and token; not the token when --token-file is given
 * (setup_token() reads that one, and --cacert is set after). */
static int setup_cpc(struct partctl_ctx *ctx, const char *name)
{
    char err[1024];

    if (cpclist_load(&ctx->cpcs, err, sizeof(err)) < 0)
        return cli_fail("%s", err);
    const struct part_cpc_entry *e = part_cpcs_find(ctx->cpcs, name);
    if (!e) {
        char known[512] = "";
        for (size_t i = 0; i < ctx->cpcs->n; i++)
            snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s", i ? ", " : "",
                     ctx->cpcs->entries[i].name);
        return cli_fail("no CPC named '%s' in %s (known: %s)", name, ctx->cpcs->path, known);
    }
    struct part_cpc_entry mine = *e;
    if (cli_global(ctx, "token-file"))
        mine.token_file = NULL;
    if (cpclist_client(&mine, &ctx->client, err, sizeof(err)) < 0)
        return cli_fail("CPC %s: %s", e->name, err);
    return PARTCTL_OK;
}

/* Sets ctx->client up from the global options and the environment: the
 * partd named by --server, else by --cpc or $PARTCTL_CPC (an entry of
 * cpcs.json, whose token and CA --token-file and --cacert override), else
 * by $PARTD_SERVER, else the default. */
static int setup_client(struct partctl_ctx *ctx)
{
    const struct opt_value *server = cli_global(ctx, "server"),
                           *timeout = cli_global(ctx, "timeout");
    const struct opt_value *cacert = cli_global(ctx, "cacert"), *cpc = cli_global(ctx, "cpc");
    const char *env = getenv("PARTD_SERVER"), *cpc_env = getenv("PARTCTL_CPC");
    const char *cpc_name = cpc ? cpc->text : !server && cpc_env && cpc_env[0] ? cpc_env : NULL;

    if (server && cpc)
        return cli_usage_error(ctx->cmd, "--server and --cpc each name a partd: give one");
    ctx->client.server = server ? server->text : env && env[0] ? env : client_default_server();
    ctx->client.timeout_ms = timeout ? (long)ceil(timeout->x * 1000) : CLIENT_TIMEOUT_MS;
    if (ctx->cmd->local)
        return PARTCTL_OK;
    if (cpc_name && setup_cpc(ctx, cpc_name) != PARTCTL_OK)
        return PARTCTL_FAILED;
    if ((!cpc_name || cli_global(ctx, "token-file")) && setup_token(ctx) != PARTCTL_OK)
        return PARTCTL_FAILED;
    if (cacert)
        ctx->client.cacert = cacert->text;
    else if (!cpc_name && (env = getenv("PARTD_CACERT")) && env[0])
        ctx->client.cacert = env;
    char why[512];
    if (client_check_server(&ctx->client, why, sizeof(why)) < 0)
        return cli_fail("%s", why); /* before anything is sent */
    return PARTCTL_OK;
}

/* What the global flags ask for; CLI_RUN when none. */
static enum cli_action action_of(const struct partctl_ctx *ctx)
{
    if (cli_global(ctx, "self-test"))
        return CLI_SELF_TEST;
    if (cli_global(ctx, "help"))
        return CLI_HELP;
    if (cli_global(ctx, "version"))
        return CLI_VERSION;
    return CLI_RUN;
}

int cli_parse(const struct partctl_table *t, int argc, char **argv, struct partctl_ctx *ctx,
              enum cli_action *ret_action)
{
    bool dashdash = false;
    size_t nargs = 0;
    int r;

    ctx->table = t;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        r = PARTCTL_OK;
        if (!dashdash && strcmp(a, "--") == 0)
            dashdash = true;
        else if (!dashdash && a[0] == '-' && a[1])
            r = parse_option(argc, argv, &i, ctx);
        else
            r = parse_positional(a, ctx, &nargs);
        if (r != PARTCTL_OK)
            return r;
    }
    *ret_action = action_of(ctx);
    if (*ret_action != CLI_RUN)
        return PARTCTL_OK;
    if (!ctx->cmd)
        return cli_usage_error(NULL, "no command given");
    const struct partctl_arg *args = ctx->cmd->args;
    if (args && args[nargs].metavar && !args[nargs].optional)
        return cli_usage_error(ctx->cmd, "missing argument %s", args[nargs].metavar);
    const struct opt_value *output = cli_global(ctx, "output");
    ctx->json = output && strcmp(output->text, "json") == 0;
    return setup_client(ctx);
}

const struct opt_value *cli_opt(const struct partctl_ctx *ctx, const char *name)
{
    int i = find_opt(ctx->cmd->opts, name, strlen(name), 0);

    if (i < 0) {
        fprintf(stderr, "partctl: bug: %s has no option --%s\n", ctx->cmd->name, name);
        abort();
    }
    return ctx->values[i].text ? &ctx->values[i] : NULL;
}

bool cli_flag(const struct partctl_ctx *ctx, const char *name)
{
    return cli_opt(ctx, name) != NULL;
}

int cli_call(struct partctl_ctx *ctx, const char *method, const char *path, json_t *body,
             json_t **ret_reply)
{
    json_t *reply = NULL;
    char err[1024];
    long status;

    if (client_request(&ctx->client, method, path, body, &reply, &status, err, sizeof(err)) < 0)
        return cli_fail("%s", err);
    /* -o json: partd's reply as it is, a problem too (scripts read both) */
    if (ctx->json && reply)
        output_json(reply, stdout);
    bool ok = status >= 200 && status < 300;
    if (!ok)
        client_print_problem(reply, status, stderr);
    if (ret_reply)
        *ret_reply = reply;
    else
        json_decref(reply);
    return ok ? PARTCTL_OK : PARTCTL_FAILED;
}

volatile sig_atomic_t cli_interrupted;

static void on_interrupt(int sig)
{
    cli_interrupted = sig;
}

void cli_catch_interrupts(void)
{
    /* no SA_RESTART: a wait in poll() or nanosleep() ends with EINTR */
    struct sigaction sa = {.sa_handler = on_interrupt};

    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}
