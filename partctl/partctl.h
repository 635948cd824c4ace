/* partctl: what the command table in partctl.c names. The handlers, each
 * family in its cmd-*.c, and what is generated from the table (help.c,
 * completion.c) or checks it (selftest.c); these get the table as an
 * argument or in ctx->table, so that nothing below partctl.c refers to
 * it. The table's types and the parser are in cli.h. */
#pragma once

#include <stdio.h>

#include "cli.h"

/* help.c: prints cmd's help, or the overview when cmd is NULL, to f */
int help_print(const struct partctl_table *t, const struct partctl_cmd *cmd, FILE *f);

/* completion.c: prints the bash completion script to f */
void completion_bash(const struct partctl_table *t, FILE *f);

/* selftest.c: checks the tables and what is generated from them, prints
 * every problem found, returns PARTCTL_OK or PARTCTL_FAILED */
int self_test(const struct partctl_table *t);

/* handlers: cmd-cpc.c */
int cmd_cpc(struct partctl_ctx *ctx);
int cmd_version(struct partctl_ctx *ctx);
int cmd_health(struct partctl_ctx *ctx);

/* handlers: cmd-cpcs.c (several CPCs: cpcs, list --all, plan --all) */
int cmd_cpcs(struct partctl_ctx *ctx);
int cpcs_list_all(struct partctl_ctx *ctx);
int cpcs_plan_all(struct partctl_ctx *ctx);
/* Asks every CPC of the list (cpclist_views()): PARTCTL_OK with the views in
 * *ret (*ret_n), or PARTCTL_USAGE when the command line names one partd,
 * or PARTCTL_FAILED (no list), printed. */
struct cpc_view;
int cpcs_ask(struct partctl_ctx *ctx, bool with_cpc, bool with_parts, struct cpc_view **ret,
             size_t *ret_n);

/* handlers: cmd-partition.c, and list's rows (list --all's too) */
int cmd_list(struct partctl_ctx *ctx);
#define LIST_COLUMNS 9
struct table;
void list_head(struct table *t);                 /* LIST_COLUMNS cells */
void list_row(struct table *t, const json_t *p); /* LIST_COLUMNS cells of partition p */
int cmd_show(struct partctl_ctx *ctx);
int cmd_define(struct partctl_ctx *ctx);
int cmd_undefine(struct partctl_ctx *ctx);
int cmd_activate(struct partctl_ctx *ctx);
int cmd_deactivate(struct partctl_ctx *ctx);
int cmd_resize(struct partctl_ctx *ctx);
/* cmd-move.c */
int cmd_move(struct partctl_ctx *ctx);

/* handlers: cmd-rebalance.c */
int cmd_plan(struct partctl_ctx *ctx);
int cmd_rebalance(struct partctl_ctx *ctx);
int cmd_policy(struct partctl_ctx *ctx);

/* handlers: cmd-events.c */
int cmd_events(struct partctl_ctx *ctx);
int cmd_metrics(struct partctl_ctx *ctx);

/* handlers: cmd-top.c */
int cmd_top(struct partctl_ctx *ctx);

/* handlers: cmd-validate.c */
int cmd_validate(struct partctl_ctx *ctx);

/* handlers: help.c, completion.c */
int cmd_help(struct partctl_ctx *ctx);
int cmd_completion(struct partctl_ctx *ctx);
