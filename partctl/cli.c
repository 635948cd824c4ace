/* The command line, read against the tables in partctl.c: global options
 * anywhere, the command, its arguments and its options. getopt_long is not
 * used because options depend on the command: after "deactivate", --timeout
 * is the shutdown wait, before it the request timeout. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "partctl.h"

/* The global options' values, until they go into ctx. */
struct globals {
    const char *server, *token_file, *timeout, *output;
    bool help, version, self_test;
};

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

static const struct partctl_cmd *find_command(const char *name)
{
    for (const struct partctl_cmd *c = partctl_commands; c->name; c++)
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

static bool in_choices(const char *const *choices, const char *value)
{
    for (; *choices; choices++)
        if (strcmp(*choices, value) == 0)
            return true;
    return false;
}

static void set_global(struct globals *g, const char *name, const char *value)
{
    if (strcmp(name, "server") == 0)
        g->server = value;
    else if (strcmp(name, "token-file") == 0)
        g->token_file = value;
    else if (strcmp(name, "timeout") == 0)
        g->timeout = value;
    else if (strcmp(name, "output") == 0)
        g->output = value;
    else if (strcmp(name, "help") == 0)
        g->help = true;
    else if (strcmp(name, "version") == 0)
        g->version = true;
    else if (strcmp(name, "self-test") == 0)
        g->self_test = true;
}

/* Reads the option in argv[*i] (and its argument, advancing *i). Returns
 * PARTCTL_OK or a usage error, printed. */
static int parse_option(int argc, char **argv, int *i, struct partctl_ctx *ctx, struct globals *g)
{
    const char *a = argv[*i], *name = NULL, *value = NULL;
    size_t namelen = 0;
    char shrt = 0;

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
    int idx = find_opt(opts, name, namelen, shrt);
    const struct partctl_opt *o = idx >= 0 ? &opts[idx] : NULL;
    if (!o) {
        int gi = find_opt(partctl_global_opts, name, namelen, shrt);
        o = gi >= 0 ? &partctl_global_opts[gi] : NULL;
    }
    if (!o)
        return cli_usage_error(ctx->cmd, "unknown option '%s'", a);
    if (o->has_arg && !value) {
        if (*i + 1 >= argc)
            return cli_usage_error(ctx->cmd, "option --%s needs an argument (%s)", o->name,
                                   o->metavar);
        value = argv[++*i];
    } else if (!o->has_arg && value) {
        return cli_usage_error(ctx->cmd, "option --%s takes no argument", o->name);
    }
    if (o->choices && !in_choices(o->choices, value)) {
        char list[256] = "";
        for (const char *const *c = o->choices; *c; c++)
            snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
                     c == o->choices ? "" : ", ", *c);
        return cli_usage_error(ctx->cmd, "invalid value '%s' for --%s (expected one of: %s)", value,
                               o->name, list);
    }
    if (idx >= 0 && o == &opts[idx])
        ctx->values[idx] = value ? value : "";
    else
        set_global(g, o->name, value);
    return PARTCTL_OK;
}

static int parse_positional(const char *a, struct partctl_ctx *ctx, size_t *nargs)
{
    if (!ctx->cmd) {
        ctx->cmd = find_command(a);
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

/* Sets ctx->client up from the globals and the environment. */
static int setup_client(struct partctl_ctx *ctx, const struct globals *g)
{
    const char *env = getenv("PARTD_SERVER");

    ctx->client.server = g->server ? g->server : env && env[0] ? env : CLIENT_DEFAULT_SERVER;
    ctx->client.timeout_ms = CLIENT_TIMEOUT_MS;
    if (g->timeout) {
        char *end;
        double s = strtod(g->timeout, &end);
        if (end == g->timeout || *end || !isfinite(s) || s <= 0 || s > 86400)
            return cli_usage_error(ctx->cmd, "invalid --timeout '%s' (seconds, over 0)",
                                   g->timeout);
        ctx->client.timeout_ms = (long)ceil(s * 1000);
    }
    if (ctx->cmd->local)
        return PARTCTL_OK;
    /* an explicit --token-file wins over the environment */
    if (g->token_file) {
        int r = client_load_token(&ctx->client, g->token_file);
        if (r < 0)
            return cli_fail("cannot read a token from %s: %s", g->token_file,
                            r == -EINVAL ? "the file is empty" : strerror(-r));
    } else if ((env = getenv("PARTD_TOKEN")) && env[0]) {
        ctx->client.token = xstrdup(env);
    }
    return PARTCTL_OK;
}

int cli_parse(int argc, char **argv, struct partctl_ctx *ctx, bool *ret_done)
{
    struct globals g = {0};
    bool dashdash = false;
    size_t nargs = 0;
    int r;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        r = PARTCTL_OK;
        if (!dashdash && strcmp(a, "--") == 0)
            dashdash = true;
        else if (!dashdash && a[0] == '-' && a[1])
            r = parse_option(argc, argv, &i, ctx, &g);
        else
            r = parse_positional(a, ctx, &nargs);
        if (r != PARTCTL_OK)
            return r;
    }
    *ret_done = true;
    if (g.self_test)
        return self_test();
    if (g.help)
        return help_print(ctx->cmd, stdout);
    if (g.version) {
        printf("partctl %s\n", PARTD_VERSION);
        return PARTCTL_OK;
    }
    if (!ctx->cmd)
        return cli_usage_error(NULL, "no command given");
    *ret_done = false;
    const struct partctl_arg *args = ctx->cmd->args;
    if (args && args[nargs].metavar && !args[nargs].optional)
        return cli_usage_error(ctx->cmd, "missing argument %s", args[nargs].metavar);
    ctx->json = g.output && strcmp(g.output, "json") == 0;
    return setup_client(ctx, &g);
}

const char *cli_opt(const struct partctl_ctx *ctx, const char *name)
{
    int i = find_opt(ctx->cmd->opts, name, strlen(name), 0);
    return i >= 0 ? ctx->values[i] : NULL;
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

bool cli_uint(const char *s, unsigned long long max, unsigned long long *ret)
{
    char *end;

    if (!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return false;
    *ret = v;
    return true;
}

bool cli_seconds(const char *s, double *ret)
{
    char *end;

    if (!s || !*s)
        return false;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v) || v <= 0 || v > 86400)
        return false;
    *ret = v;
    return true;
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
