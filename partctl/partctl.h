/* partctl: the command table's types, the context a command runs in, and the
 * handlers. The table itself is in partctl.c; everything that reads it
 * is in cli.c (parsing), help.c, completion.c and selftest.c. */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "client.h"

/* exit statuses */
enum {
    PARTCTL_OK = 0,
    PARTCTL_FAILED = 1, /* the request (or the local check) failed */
    PARTCTL_USAGE = 2,  /* the command line is wrong */
};

#define PARTCTL_OPTS_MAX 16 /* options per command */
#define PARTCTL_ARGS_MAX 2  /* positional arguments per command */

/* One option. Tables end with an entry whose name is NULL. */
struct partctl_opt {
    const char *name; /* long name without "--" */
    char short_name;  /* 0 when none */
    bool has_arg;
    const char *metavar;        /* the argument in help ("N", "FILE"); NULL iff !has_arg */
    const char *help;           /* lower case, no final period */
    const char *const *choices; /* the only values accepted (NULL-terminated), or NULL */
};

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

/* What a command runs with: the parsed command line and the client. */
struct partctl_ctx {
    const struct partctl_cmd *cmd;
    const char *args[PARTCTL_ARGS_MAX];   /* NULL when an optional one is absent */
    const char *values[PARTCTL_OPTS_MAX]; /* by index in cmd->opts; "" for a flag given */
    bool json;                            /* -o json */
    struct client client;
};

extern const struct partctl_cmd partctl_commands[]; /* ends with a NULL name */
extern const struct partctl_opt partctl_global_opts[];

/* cli.c */

/* Parses argv into ctx (zeroed by the caller) against the tables. Returns
 * PARTCTL_OK to go on and run ctx->cmd, or an exit status with its message
 * already printed: PARTCTL_USAGE for a bad command line, PARTCTL_OK with
 * *ret_done set when it printed help or ran the self-test. */
int cli_parse(int argc, char **argv, struct partctl_ctx *ctx, bool *ret_done);

/* The value of ctx->cmd's option name, or NULL when it was not given. */
const char *cli_opt(const struct partctl_ctx *ctx, const char *name);

/* Prints "partctl: MESSAGE" and a pointer to the command's help to stderr
 * and returns PARTCTL_USAGE. cmd may be NULL. */
int cli_usage_error(const struct partctl_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Sends a request (body may be NULL) and deals with the reply the same way
 * for every command: with -o json, the reply body is printed; a failure is
 * printed on stderr. On a 2xx reply returns PARTCTL_OK and, when ret_reply
 * is not NULL, the reply in *ret_reply (NULL for an empty body; the caller
 * json_decref()s it). Otherwise returns PARTCTL_FAILED and still hands the
 * reply (a problem) over, so that a caller can show what it carries. */
int cli_call(struct partctl_ctx *ctx, const char *method, const char *path, json_t *body,
             json_t **ret_reply);

/* Prints "partctl: MESSAGE" to stderr and returns PARTCTL_FAILED. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parses a whole non-negative decimal number of at most max into *ret. */
bool cli_uint(const char *s, unsigned long long max, unsigned long long *ret);

/* Parses a number of seconds over 0, at most a day (fractions allowed). */
bool cli_seconds(const char *s, double *ret);

/* Set (to the signal's number) by SIGINT or SIGTERM once
 * cli_catch_interrupts() was called: commands that run until interrupted
 * (events --follow, top) then stop cleanly, with exit status 0. */
extern volatile sig_atomic_t cli_interrupted;
void cli_catch_interrupts(void);

/* help.c: prints cmd's help, or the overview when cmd is NULL, to f */
int help_print(const struct partctl_cmd *cmd, FILE *f);

/* completion.c: prints the bash completion script to f */
void completion_bash(FILE *f);

/* selftest.c: checks the tables and what is generated from them, prints
 * every problem found, returns PARTCTL_OK or PARTCTL_FAILED */
int self_test(void);

/* handlers: cmd-cpc.c */
int cmd_cpc(struct partctl_ctx *ctx);
int cmd_version(struct partctl_ctx *ctx);
int cmd_health(struct partctl_ctx *ctx);

/* handlers: cmd-partition.c */
int cmd_list(struct partctl_ctx *ctx);
int cmd_show(struct partctl_ctx *ctx);
int cmd_define(struct partctl_ctx *ctx);
int cmd_undefine(struct partctl_ctx *ctx);
int cmd_activate(struct partctl_ctx *ctx);
int cmd_deactivate(struct partctl_ctx *ctx);
int cmd_resize(struct partctl_ctx *ctx);

/* handlers: cmd-rebalance.c */
int cmd_plan(struct partctl_ctx *ctx);
int cmd_rebalance(struct partctl_ctx *ctx);
int cmd_policy(struct partctl_ctx *ctx);

/* handlers: cmd-events.c */
int cmd_events(struct partctl_ctx *ctx);
int cmd_metrics(struct partctl_ctx *ctx);

/* cmd-events.c: feeds the server-sent-events parser canned streams cut at
 * every byte; prints each problem and returns how many there were */
int events_self_test(void);

/* handlers: cmd-top.c */
int cmd_top(struct partctl_ctx *ctx);

/* handlers: cmd-validate.c */
int cmd_validate(struct partctl_ctx *ctx);

/* handlers: help.c, completion.c */
int cmd_help(struct partctl_ctx *ctx);
int cmd_completion(struct partctl_ctx *ctx);
