/* partctl move: moves a running partition to another CPC (docs/cpcs.md,
 * "Moving a partition"). partd validates with the target and replies;
 * the move then runs in partd, and partctl follows its events (move-*)
 * until move-done (exit 0) or move-failed (exit 1). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "partctl.h"
#include "sse.h"

#define MOVE_IDLE_S 60 /* partd sends a keep-alive every few seconds */

/* Prints the target's checks; with failed_only, only those that failed. */
static void print_checks(const json_t *checks, bool failed_only, FILE *f)
{
    size_t i;
    json_t *c;
    json_array_foreach (checks, i, c) {
        bool ok = json_is_true(json_object_get(c, "ok"));
        if (failed_only && ok)
            continue;
        fprintf(f, "%-4s %-9s %s\n", ok ? "ok" : "FAIL",
                json_string_value(json_object_get(c, "check")) ?: "?",
                json_string_value(json_object_get(c, "detail")) ?: "");
    }
}

struct move_follow {
    struct sse sse;
    const char *name;
    bool json;
    int result; /* -1 until move-done (0) or move-failed (1) */
};

static bool move_event(const char *event, const char *data, void *opaque)
{
    struct move_follow *m = opaque;
    json_t *e = json_loads(data, 0, NULL);
    const char *kind = json_string_value(json_object_get(e, "kind"));
    const char *part = json_string_value(json_object_get(e, "partition"));

    if (kind && part && strcmp(part, m->name) == 0 && strncmp(kind, "move-", 5) == 0) {
        if (m->json) {
            char *s = json_dumps(e, JSON_COMPACT);
            if (s)
                puts(s);
            free(s);
        } else {
            printf("%-13s %s\n", kind, json_string_value(json_object_get(e, "message")) ?: "");
        }
        fflush(stdout);
        if (strcmp(kind, "move-done") == 0)
            m->result = PARTCTL_OK;
        else if (strcmp(kind, "move-failed") == 0)
            m->result = PARTCTL_FAILED;
    }
    json_decref(e);
    return m->result < 0;
}

static bool move_sink(const char *data, size_t len, void *opaque)
{
    struct move_follow *m = opaque;
    return sse_feed(&m->sse, data, len);
}

/* The seq of partd's newest event, so that the move's are all followed. */
static int last_seq(struct partctl_ctx *ctx, unsigned long long *ret)
{
    json_t *reply = NULL;
    bool json = ctx->json;
    ctx->json = false; /* not printed */
    int r = cli_call(ctx, "GET", "/v1/events", NULL, &reply);
    ctx->json = json;
    json_t *evs = json_object_get(reply, "events");
    size_t n = json_array_size(evs);
    *ret = n ? (unsigned long long)json_integer_value(
                   json_object_get(json_array_get(evs, n - 1), "seq"))
             : 0;
    json_decref(reply);
    return r;
}

/* Follows the events after seq until the move of name ends. */
static int move_follow(struct partctl_ctx *ctx, const char *name, unsigned long long seq)
{
    struct move_follow m = {.name = name, .json = ctx->json, .result = -1};
    struct client_stream s = {.accept = "text/event-stream",
                              .sink = move_sink,
                              .opaque = &m,
                              .stop = &cli_interrupted,
                              .idle_s = MOVE_IDLE_S};
    json_t *problem = NULL;
    char path[96], err[1024];
    long status = 0;

    snprintf(path, sizeof(path), "/v1/events?follow=1&since=%llu", seq);
    m.sse.dispatch = move_event;
    m.sse.opaque = &m;
    cli_catch_interrupts();
    int r = client_stream(&ctx->client, path, &s, &problem, &status, err, sizeof(err));
    sse_clear(&m.sse);
    if (m.result >= 0)
        return m.result;
    if (problem) {
        client_print_problem(problem, status, stderr);
        json_decref(problem);
        return PARTCTL_FAILED;
    }
    if (r == -ECANCELED && cli_interrupted)
        return cli_fail("interrupted: the move goes on in partd (partctl events --follow)");
    return cli_fail("the event stream ended before the move did%s%s", r < 0 ? ": " : "",
                    r < 0 ? err : "");
}

int cmd_move(struct partctl_ctx *ctx)
{
    const char *name = ctx->args[0];
    const struct opt_value *to = cli_opt(ctx, "to");
    bool validate = cli_flag(ctx, "validate-only");
    unsigned long long seq = 0;
    json_t *reply = NULL;
    char path[160];

    if (!to)
        return cli_usage_error(ctx->cmd, "--to CPC is required");
    if (!validate && last_seq(ctx, &seq) != PARTCTL_OK)
        return PARTCTL_FAILED;
    snprintf(path, sizeof(path), "/v1/partitions/%s/move", name);
    json_t *body = json_pack("{s:s, s:b}", "to", to->text, "validate_only", validate);
    int r = cli_call(ctx, "POST", path, body, &reply);
    json_decref(body);
    json_t *checks = json_object_get(reply, "checks");
    if (r != PARTCTL_OK) { /* cli_call() printed the problem: what did not fit */
        if (!ctx->json)
            print_checks(checks, true, stderr);
    } else if (!ctx->json) {
        if (validate) {
            print_checks(checks, false, stdout);
            printf("%s can move to %s\n", name, to->text);
        } else {
            printf("move %s: %s to %s\n", json_string_value(json_object_get(reply, "id")) ?: "?",
                   name, to->text);
        }
        fflush(stdout);
    }
    json_decref(reply);
    if (r != PARTCTL_OK || validate)
        return r;
    return move_follow(ctx, name, seq);
}
