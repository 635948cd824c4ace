/* partctl: the command-line client of partd. This file holds the command
 * table, from which parsing (cli.c), help (help.c), completion
 * (completion.c) and the self-test (selftest.c) are all derived, and main. */
#include <stdlib.h>

#include <curl/curl.h>

#include "partctl.h"

static const char *const output_formats[] = {"table", "json", NULL};
static const char *const scopes[] = {"running", "profile", "both", NULL};
static const char *const shells[] = {"bash", NULL};

const struct partctl_opt partctl_global_opts[] = {
    {.name = "server",
     .has_arg = true,
     .metavar = "URL",
     .help = "partd's address: http://HOST:PORT or unix:/PATH (default: $PARTD_SERVER, else "
             "http://127.0.0.1:7480)"},
    {.name = "token-file",
     .has_arg = true,
     .metavar = "FILE",
     .help = "read the bearer token from FILE (default: $PARTD_TOKEN, else none)"},
    {.name = "timeout",
     .has_arg = true,
     .metavar = "S",
     .help = "give up on a request after S seconds (default: 120)"},
    {.name = "output",
     .short_name = 'o',
     .has_arg = true,
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

static const struct partctl_opt deactivate_opts[] = {
    {.name = "force", .help = "destroy the domain when the guest does not shut down in time"},
    {.name = "timeout",
     .has_arg = true,
     .metavar = "S",
     .help = "wait up to S seconds for the guest to shut down (default: partd's, 60); the "
             "request waits as long"},
    {0},
};

static const struct partctl_opt resize_opts[] = {
    {.name = "cpus", .has_arg = true, .metavar = "N", .help = "set the online logical processors"},
    {.name = "memory",
     .has_arg = true,
     .metavar = "SIZE",
     .help = "set the memory target, e.g. 8GiB (MiB without a unit)"},
    {.name = "weight",
     .has_arg = true,
     .metavar = "W",
     .help = "set the processing weight (1-999)"},
    {.name = "weight-min",
     .has_arg = true,
     .metavar = "W",
     .help = "set the weight's lower bound (a profile setting)"},
    {.name = "weight-max",
     .has_arg = true,
     .metavar = "W",
     .help = "set the weight's upper bound (a profile setting)"},
    {.name = "cap",
     .has_arg = true,
     .metavar = "C",
     .help = "cap the partition at C processors (e.g. 2.5), or remove the cap with none"},
    {.name = "scope",
     .has_arg = true,
     .metavar = "SCOPE",
     .help = "where the changes apply: the running partition, its profile, or both (default)",
     .choices = scopes},
    {0},
};

static const struct partctl_opt events_opts[] = {
    {.name = "follow", .help = "keep printing events as they happen, until interrupted"},
    {.name = "since",
     .has_arg = true,
     .metavar = "N",
     .help = "only the events after event number N (their seq in -o json)"},
    {0},
};

static const struct partctl_opt top_opts[] = {
    {.name = "interval",
     .has_arg = true,
     .metavar = "S",
     .help = "refresh every S seconds (default: 2; may be a fraction)"},
    {.name = "iterations",
     .has_arg = true,
     .metavar = "N",
     .help = "stop after N frames (default: at q or ctrl-c)"},
    {0},
};

/* an entry whose handler is cmd_NAME */
/* clang-format off */
#define CMD(n, ...) {.name = #n, .run = cmd_##n, __VA_ARGS__}
/* clang-format on */

const struct partctl_cmd partctl_commands[] = {
    CMD(cpc, .summary = "show the CPC: processors, memory, groups"),
    CMD(list, .summary = "list the partitions"),
    CMD(show, .args = arg_name, .summary = "show a partition, pending changes, backend status"),
    CMD(define, .args = arg_file, .summary = "define a partition from a profile file"),
    CMD(undefine, .args = arg_name, .summary = "remove an inactive partition"),
    CMD(activate, .args = arg_name, .summary = "start a partition"),
    CMD(deactivate, .args = arg_name, .opts = deactivate_opts, .summary = "stop a partition"),
    CMD(resize, .args = arg_name, .opts = resize_opts,
        .summary = "change processors, memory, weight or cap"),
    CMD(plan, .summary = "show what the rebalancer would change now"),
    CMD(rebalance, .summary = "apply the rebalancer's plan now, show the outcome"),
    CMD(policy, .args = arg_policy, .summary = "show the rebalancing policy, or switch to another"),
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

int main(int argc, char **argv)
{
    struct partctl_ctx ctx = {0};
    bool done = false;

    int r = cli_parse(argc, argv, &ctx, &done);
    if (r != PARTCTL_OK || done)
        goto out;
    if (!ctx.cmd->local && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        r = cli_fail("cannot initialise libcurl");
        goto out;
    }
    r = ctx.cmd->run(&ctx);
    if (!ctx.cmd->local)
        curl_global_cleanup();
out:
    client_clear(&ctx.client);
    return r;
}
