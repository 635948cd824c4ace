/* The commands whose replies are not one JSON document: events (a list, or
 * followed as server-sent events, parsed by sse.c) and metrics (Prometheus
 * text). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output.h"
#include "partctl.h"
#include "sse.h"

#define FOLLOW_IDLE_S 45L /* partd sends a keep-alive every 15 s */

/* "TIME BY KIND PARTITION MESSAGE", as wide as most values */
#define EVENT_FORMAT "%-8s  %-7s  %-12s  %-10s  %s\n"

static void print_event(const json_t *e)
{
    const json_t *t = reply_get(e, "time");
    char when[16] = "-", by[32], kind[32], part[64], msg[400];

    if (json_is_number(t)) {
        time_t secs = (time_t)json_number_value(t);
        struct tm tm;
        if (localtime_r(&secs, &tm))
            strftime(when, sizeof(when), "%H:%M:%S", &tm);
    }
    printf(EVENT_FORMAT, when, output_value(reply_get(e, "by"), by, sizeof(by)),
           output_value(reply_get(e, "kind"), kind, sizeof(kind)),
           output_value(reply_get(e, "partition"), part, sizeof(part)),
           output_value(reply_get(e, "message"), msg, sizeof(msg)));
}

struct follow {
    struct sse sse;
    bool json;
    bool bad; /* an event that is not JSON */
};

static bool on_event(const char *event, const char *data, void *opaque)
{
    struct follow *f = opaque;
    json_t *e = json_loads(data, 0, NULL);

    if (!json_is_object(e)) {
        json_decref(e);
        f->bad = true;
        return false;
    }
    if (f->json) {
        /* one line per event, whatever partd's data lines were */
        char *s = json_dumps(e, JSON_COMPACT);
        if (s)
            puts(s);
        free(s);
    } else {
        print_event(e);
    }
    fflush(stdout); /* a reader at the end of a pipe wants it now */
    json_decref(e);
    return true;
}

static bool follow_sink(const char *data, size_t len, void *opaque)
{
    struct follow *f = opaque;
    return sse_feed(&f->sse, data, len);
}

/* The header, once partd accepted: a failure leaves none behind, and a
 * reader knows from it that events now come. */
static void follow_open(void *opaque)
{
    struct follow *f = opaque;

    if (!f->json) {
        printf(EVENT_FORMAT, "TIME", "BY", "KIND", "PARTITION", "MESSAGE");
        fflush(stdout);
    }
}

/* Sends GET path and hands the reply to sink as it comes, dealing with
 * errors as cli_call() does. Returns an exit status; PARTCTL_OK with
 * *ret_interrupted set when SIGINT or SIGTERM ended it. */
static int stream_call(struct partctl_ctx *ctx, const char *path, struct client_stream *s,
                       bool *ret_interrupted)
{
    json_t *problem = NULL;
    char err[1024];
    long status = 0;

    *ret_interrupted = false;
    s->stop = &cli_interrupted;
    int r = client_stream(&ctx->client, path, s, &problem, &status, err, sizeof(err));
    if (r == -ECANCELED && cli_interrupted) {
        *ret_interrupted = true;
        return PARTCTL_OK;
    }
    if (r == -ECANCELED)
        return PARTCTL_FAILED; /* the sink said why */
    if (r < 0)
        return cli_fail("%s", err);
    if (problem) {
        if (ctx->json)
            output_json(problem, stdout);
        client_print_problem(problem, status, stderr);
        json_decref(problem);
        return PARTCTL_FAILED;
    }
    return PARTCTL_OK;
}

/* "/v1/events", with follow=1 and since=N as the options ask */
static void events_path(const struct partctl_ctx *ctx, char *buf, size_t len)
{
    const struct opt_value *since = cli_opt(ctx, "since");
    bool follow = cli_flag(ctx, "follow");
    int n = snprintf(buf, len, "/v1/events%s", follow ? "?follow=1" : "");

    if (since)
        snprintf(buf + n, len - (size_t)n, "%csince=%llu", follow ? '&' : '?',
                 (unsigned long long)since->n);
}

static int events_follow(struct partctl_ctx *ctx)
{
    struct follow f = {.json = ctx->json};
    struct client_stream s = {.accept = "text/event-stream",
                              .sink = follow_sink,
                              .open = follow_open,
                              .opaque = &f,
                              .idle_s = FOLLOW_IDLE_S};
    char path[128];
    bool interrupted;

    events_path(ctx, path, sizeof(path));
    f.sse.dispatch = on_event;
    f.sse.opaque = &f;
    cli_catch_interrupts();
    int r = stream_call(ctx, path, &s, &interrupted);
    if (f.bad)
        r = cli_fail("partd sent an event that is not a JSON object");
    else if (f.sse.too_long)
        r = cli_fail("partd sent a line over %u bytes", SSE_LINE_MAX);
    else if (r == PARTCTL_OK && !interrupted)
        r = cli_fail("partd ended the event stream");
    sse_clear(&f.sse);
    return r;
}

int cmd_events(struct partctl_ctx *ctx)
{
    json_t *reply = NULL;
    char path[128];

    if (cli_flag(ctx, "follow"))
        return events_follow(ctx);
    events_path(ctx, path, sizeof(path));
    int r = cli_call(ctx, "GET", path, NULL, &reply);
    if (r == PARTCTL_OK && !ctx->json) {
        const json_t *events = reply_get(reply, "events");
        printf(EVENT_FORMAT, "TIME", "BY", "KIND", "PARTITION", "MESSAGE");
        for (size_t i = 0; i < json_array_size(events); i++)
            print_event(json_array_get(events, i));
    }
    json_decref(reply);
    return r;
}

static bool print_sink(const char *data, size_t len, void *opaque)
{
    fwrite(data, 1, len, stdout); /* an error shows in ferror() at the end */
    return true;
}

int cmd_metrics(struct partctl_ctx *ctx)
{
    /* -o json or not: the reply is text, printed as it is */
    struct client_stream s = {.accept = "text/plain", .sink = print_sink};
    bool interrupted;

    int r = stream_call(ctx, "/metrics", &s, &interrupted);
    if ((fflush(stdout) != 0 || ferror(stdout)) && r == PARTCTL_OK)
        r = cli_fail("cannot write the metrics: %s", strerror(errno));
    return r;
}
