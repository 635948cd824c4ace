/* partctl's command line: the types of the command table, the context a
 * command runs in, the parser that fills it, and what handlers use to read
 * their options, report errors and call partd. Nothing here knows a
 * particular command: the tables come from partctl.c, in a struct
 * partctl_table handed to the parser and kept in the context. */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <part/cpcs.h>

#include "client.h"
#include "opt.h"

/* exit statuses */
enum {
    PARTCTL_OK = 0,
    PARTCTL_FAILED = 1, /* the request (or the local check) failed */
    PARTCTL_USAGE = 2,  /* the command line is wrong */
};

#define PARTCTL_OPTS_MAX 16 /* options per command, and global options */
#define PARTCTL_ARGS_MAX 2  /* positional arguments per command */

/* One positional argument. Lists end with an entry whose metavar is NULL.
 * The metavar also says how to complete it: NAME a partition, FILE a file,
 * COMMAND a command, otherwise the choices. */
struct partctl_arg {
    const char *metavar;
    bool optional; /* only the last ones may be */
    const char *const *choices;
};

struct partctl_ctx;

struct partctl_cmd {
    const char *name;
    int (*run)(struct partctl_ctx *ctx); /* returns an exit status */
    const struct partctl_opt *opts;      /* NULL when none */
    const struct partctl_arg *args;      /* NULL when none */
    const char *summary;                 /* one line, lower case, no final period */
    bool local;                          /* needs no server */
};

/* The whole command line's description. */
struct partctl_table {
    const struct partctl_cmd *commands; /* ends with a NULL name */
    const struct partctl_opt *globals;  /* the options of every command */
};

/* What a command runs with: the parsed command line and the client. */
struct partctl_ctx {
    const struct partctl_table *table;
    const struct partctl_cmd *cmd;
    const char *args[PARTCTL_ARGS_MAX];         /* NULL when an optional one is absent */
    struct opt_value values[PARTCTL_OPTS_MAX];  /* by index in cmd->opts */
    struct opt_value globals[PARTCTL_OPTS_MAX]; /* by index in table->globals */
    bool json;                                  /* -o json */
    struct client client;
    struct part_cpcs *cpcs; /* cpcs.json once read (cpclist_load()); owned */
};

/* What the command line asks for, besides a usage error. */
enum cli_action {
    CLI_RUN,       /* run ctx->cmd */
    CLI_HELP,      /* print ctx->cmd's help, or the overview when it is NULL */
    CLI_VERSION,   /* print partctl's version */
    CLI_SELF_TEST, /* check the table */
};

/* Parses argv into ctx (zeroed by the caller) against table t: every
 * option's value is converted and checked here (opt.c), so a handler
 * finds only values within their ranges. Returns PARTCTL_OK with what to
 * do in *ret_action, or PARTCTL_USAGE (or PARTCTL_FAILED for an unreadable
 * token file) with its message printed. For CLI_RUN, ctx->client is set
 * up (--cpc: from its entry in cpcs.json, kept in ctx->cpcs); the caller
 * client_clear()s it and part_cpcs_free()s ctx->cpcs in any case. */
int cli_parse(const struct partctl_table *t, int argc, char **argv, struct partctl_ctx *ctx,
              enum cli_action *ret_action);

/* The command named name in t, or NULL. */
const struct partctl_cmd *cli_find_command(const struct partctl_table *t, const char *name);

/* Prints "partctl: MESSAGE" and a pointer to the command's help to stderr
 * and returns PARTCTL_USAGE. cmd may be NULL. */
int cli_usage_error(const struct partctl_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints "partctl: MESSAGE" to stderr and returns PARTCTL_FAILED. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The value of ctx->cmd's option name, or NULL when it was not given. The
 * option must exist (a handler asking for another is a bug: abort). */
const struct opt_value *cli_opt(const struct partctl_ctx *ctx, const char *name);

/* The value of the global option name, or NULL when it was not given. */
const struct opt_value *cli_global(const struct partctl_ctx *ctx, const char *name);

/* Whether ctx->cmd's flag name was given. */
bool cli_flag(const struct partctl_ctx *ctx, const char *name);

/* Sends a request (body may be NULL) and deals with the reply the same way
 * for every command: with -o json, the reply body is printed; a failure is
 * printed on stderr. On a 2xx reply returns PARTCTL_OK and, when ret_reply
 * is not NULL, the reply in *ret_reply (NULL for an empty body; the caller
 * json_decref()s it). Otherwise returns PARTCTL_FAILED and still hands the
 * reply (a problem) over, so that a caller can show what it carries. */
int cli_call(struct partctl_ctx *ctx, const char *method, const char *path, json_t *body,
             json_t **ret_reply);

/* Set (to the signal's number) by SIGINT or SIGTERM once
 * cli_catch_interrupts() was called: commands that run until interrupted
 * (events --follow, top) then stop cleanly, with exit status 0. */
extern volatile sig_atomic_t cli_interrupted;
void cli_catch_interrupts(void);
