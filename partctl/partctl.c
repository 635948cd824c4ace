/* partctl: the command-line client of partd. This file holds the command
 * table, from which parsing (cli.c), help (help.c), completion
 * (completion.c) and the self-test (selftest.c) are all derived, and main.
 * Option types and ranges are opt.h's; a partition setting's range is
 * libpart's (part/setting.h), the deactivation timeout's partd's
 * (part/manager.h). */
#include <stdio.h>

#include <curl/curl.h>
#include <part/manager.h>

#include "partctl.h"

#define STR_(x) #x
#define STR(x)  STR_(x)

static const char *const output_formats[] = {"table", "json", NULL};
static const char *const scopes[] = {"running", "profile", "both", NULL};
static const char *const shells[] = {"bash", NULL};

/* the range of a wait partctl sets itself (a request, top's refresh):
 * over 0, at most a day */
#define WAIT_RANGE .type = OPT_DURATION, .min = 0, .over_min = true, .max = 86400

static const struct partctl_opt global_opts[] = {
    {.name = "server",
     .type = OPT_STRING,
     .metavar = "URL",
     .help = "partd's address: http(s)://HOST:PORT or unix:/PATH (default: $PARTD_SERVER, else "
             "unix:" CLIENT_LOCAL_SOCKET " when it exists, else " CLIENT_DEFAULT_SERVER
             "); a token goes over http:// only to loopback"},
    {.name = "cpc",
     .type = OPT_STRING,
     .metavar = "CPC",
     .help = "the partd of CPC, an entry of the list of CPCs (default: $PARTCTL_CPC; see "
             "partctl cpcs --list); --token-file and --cacert override its own"},
    {.name = "token-file",
     .type = OPT_STRING,
     .metavar = "FILE",
     .help = "read the bearer token from FILE (default: $PARTD_TOKEN; on the local socket, the "
             "first readable of " PARTCTL_CONFDIR "/{admin,operator,viewer}.token; else none)"},
    {.name = "cacert",
     .type = OPT_STRING,
     .metavar = "FILE",
     .help = "verify partd's https certificate against the CA certificates in FILE (default: "
             "$PARTD_CACERT, else the system's); it is always verified"},
    {.name = "timeout",
     WAIT_RANGE,
     .metavar = "S",
     .help = "give up on a request after S seconds (default: 120)"},
    {.name = "output",
     .short_name = 'o',
     .type = OPT_ENUM,
     .metavar = "FORMAT",
     .help = "print tables (the default) or partd's reply as it is",
     .choices = output_formats},
    {.name = "help", .short_name = 'h', .help = "show this help, or a command's after it"},
    {.name = "version", .help = "show partctl's version (the version command adds partd's)"},
    {.name = "self-test", .help = "check the command table and what is generated from it"},
    {0},
};

static const struct partctl_arg arg_name[] = {{.metavar = "NAME"}, {0}};
static const struct partctl_arg arg_file[] = {{.metavar = "FILE"}, {0}};
static const struct partctl_arg arg_command[] = {{.metavar = "COMMAND", .optional = true}, {0}};
static const struct partctl_arg arg_shell[] = {{.metavar = "SHELL", .choices = shells}, {0}};
static const struct partctl_arg arg_policy[] = {{.metavar = "POLICY", .optional = true}, {0}};

static const struct partctl_opt list_opts[] = {
    {.name = "all", .help = "the partitions of every CPC of the list, with a CPC column"},
    {0},
};

static const struct partctl_opt plan_opts[] = {
    {.name = "all",
     .help = "every CPC's demand against its pool, and moves that would bring those over it "
             "within it (suggested, never made)"},
    {.name = "policy",
     .type = OPT_STRING,
     .metavar = "POLICY",
     .help = "the plan POLICY would make now, instead of the policy in force: a preview before "
             "switching to it (nothing is switched; see policy --list)"},
    {0},
};

static const struct partctl_opt policy_opts[] = {
    {.name = "list", .help = "list the policies partd can switch to, the one in force marked"},
    {0},
};

static const struct partctl_opt cpcs_opts[] = {
    {.name = "list", .help = "only show the list (its file's entries), asking no CPC"},
    {0},
};

#define DEACTIVATE_DEFAULT STR(PART_DEACTIVATE_TIMEOUT_DEFAULT)

static const struct partctl_opt deactivate_opts[] = {
    {.name = "force", .help = "destroy the domain when the guest does not shut down in time"},
    {.name = "timeout",
     .type = OPT_DURATION,
     .metavar = "S",
     .help =
         "wait up to S seconds for the guest to shut down (default: partd's, " DEACTIVATE_DEFAULT
         "); the request waits as long",
     .min = 0,
     .max = PART_DEACTIVATE_TIMEOUT_MAX},
    {0},
};

/* An option that is one of libpart's settings (PART_SET_s): the settings
 * table gives its type, its range and its key in the request. */
/* clang-format off */
#define SETTING(n, s, ...) {.name = n, .type = OPT_SETTING, .setting = PART_SET_##s, __VA_ARGS__}
/* clang-format on */

static const struct partctl_opt resize_opts[] = {
    SETTING("cpus", PROCESSORS, .metavar = "N", .help = "set the online logical processors"),
    SETTING("memory", MEMORY, .metavar = "SIZE",
            .help = "set the memory target, e.g. 8GiB (MiB without a unit)"),
    SETTING("weight", WEIGHT, .metavar = "W", .help = "set the processing weight"),
    SETTING("weight-min", WEIGHT_MIN, .metavar = "W",
            .help = "set the weight's lower bound (a profile setting)"),
    SETTING("weight-max", WEIGHT_MAX, .metavar = "W",
            .help = "set the weight's upper bound (a profile setting)"),
    SETTING("cap", CAP, .metavar = "C",
            .help = "cap the partition at C processors (e.g. 2.5), or remove the cap with none"),
    {.name = "scope",
     .type = OPT_ENUM,
     .metavar = "SCOPE",
     .help = "where the changes apply: the running partition, its profile, or both (default)",
     .choices = scopes},
    {0},
};

static const struct partctl_opt events_opts[] = {
    {.name = "follow", .help = "keep printing events as they happen, until interrupted"},
    {.name = "since",
     .type = OPT_INTEGER,
     .metavar = "N",
     .help = "only the events after event number N (their seq in -o json)",
     .what = "an event number",
     .max = OPT_NO_MAX},
    {0},
};

static const struct partctl_opt top_opts[] = {
    {.name = "interval",
     WAIT_RANGE,
     .metavar = "S",
     .help = "refresh every S seconds (default: 2; may be a fraction)"},
    {.name = "iterations",
     .type = OPT_INTEGER,
     .metavar = "N",
     .help = "stop after N frames (default: at q or ctrl-c)",
     .min = 1,
     .max = OPT_NO_MAX},
    {0},
};

static const struct partctl_opt move_opts[] = {
    {.name = "to",
     .type = OPT_STRING,
     .metavar = "CPC",
     .help = "the CPC to move to: a peer named in partd.json (required)"},
    {.name = "validate-only",
     .help = "only ask the target whether it would take the partition, and print its checks"},
    {0},
};

/* an entry whose handler is cmd_NAME */
/* clang-format off */
#define CMD(n, ...) {.name = #n, .run = cmd_##n, __VA_ARGS__}
/* clang-format on */

static const struct partctl_cmd commands[] = {
    CMD(cpc, .summary = "show the CPC: processors, memory, groups"),
    CMD(cpcs, .opts = cpcs_opts, .summary = "show every CPC of the list, reachable or not"),
    CMD(list, .opts = list_opts, .summary = "list the partitions"),
    CMD(show, .args = arg_name, .summary = "show a partition, pending changes, backend status"),
    CMD(define, .args = arg_file, .summary = "define a partition from a profile file"),
    CMD(undefine, .args = arg_name, .summary = "remove an inactive partition"),
    CMD(activate, .args = arg_name, .summary = "start a partition"),
    CMD(deactivate, .args = arg_name, .opts = deactivate_opts, .summary = "stop a partition"),
    CMD(resize, .args = arg_name, .opts = resize_opts,
        .summary = "change processors, memory, weight or cap"),
    CMD(move, .args = arg_name, .opts = move_opts,
        .summary = "move a running partition to another CPC, live"),
    CMD(plan, .opts = plan_opts, .summary = "show what the rebalancer would change now"),
    CMD(rebalance, .summary = "apply the rebalancer's plan now, show the outcome"),
    CMD(policy, .args = arg_policy, .opts = policy_opts,
        .summary = "show the rebalancing policy, or switch to another"),
    CMD(events, .opts = events_opts, .summary = "show what partd did and why, or follow it"),
    CMD(top, .opts = top_opts, .summary = "watch the partitions' use, refreshed like top"),
    CMD(metrics, .summary = "print partd's metrics for Prometheus"),
    CMD(validate, .args = arg_file, .local = true, .summary = "check a profile, without partd"),
    CMD(version, .summary = "show partctl's and partd's versions"),
    CMD(health, .summary = "check that partd is up and reaches its backend"),
    CMD(help, .args = arg_command, .local = true, .summary = "show the help, or a command's"),
    CMD(completion, .args = arg_shell, .local = true, .summary = "print a shell completion script"),
    {0},
};

static const struct partctl_table table = {.commands = commands, .globals = global_opts};

static int run(struct partctl_ctx *ctx)
{
    if (ctx->cmd->local)
        return ctx->cmd->run(ctx);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return cli_fail("cannot initialise libcurl");
    int r = ctx->cmd->run(ctx);
    curl_global_cleanup();
    return r;
}

int main(int argc, char **argv)
{
    struct partctl_ctx ctx = {0};
    enum cli_action action = CLI_RUN;

    int r = cli_parse(&table, argc, argv, &ctx, &action);
    if (r != PARTCTL_OK)
        goto out;
    switch (action) {
    case CLI_SELF_TEST:
        r = self_test(&table);
        break;
    case CLI_HELP:
        r = help_print(&table, ctx.cmd, stdout);
        break;
    case CLI_VERSION:
        printf("partctl %s\n", PARTD_VERSION);
        break;
    case CLI_RUN:
        r = run(&ctx);
        break;
    }
out:
    client_clear(&ctx.client);
    part_cpcs_free(ctx.cpcs);
    return r;
}
