/* The commands whose replies are not one JSON document: events (a list, or
 * followed as server-sent events) and metrics (Prometheus text). The
 * server-sent events are parsed as they come, a piece at a time: libcurl
 * cuts the stream anywhere, in the middle of a line or of a UTF-8 char. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output.h"
#include "partctl.h"

#define get json_object_get

#define SSE_LINE_MAX  (1u << 20) /* partd's events are under 1 KiB */
#define FOLLOW_IDLE_S 45L        /* partd sends a keep-alive every 15 s */

/* A server-sent events parser (the WHATWG EventSource rules, less retry):
 * lines end with LF, CRLF or CR; "data:" lines accumulate, "event:" names
 * the event, ":" starts a comment, and an empty line dispatches. */
struct sse {
    char *line, *data;
    size_t len, alloc, dlen, dalloc;
    char event[64];
    bool cr;       /* the last byte was a CR: a LF after it ends no other line */
    bool has_data; /* a "data" field came since the last dispatch */
    bool too_long;
    /* gets each event; returns false to stop parsing */
    bool (*dispatch)(const char *event, const char *data, void *opaque);
    void *opaque;
};

static bool grow(char **buf, size_t *alloc, size_t need)
{
    if (need <= *alloc)
        return true;
    size_t n = *alloc ? *alloc : 256;
    while (n < need)
        n *= 2;
    char *p = realloc(*buf, n);
    if (!p)
        return false;
    *buf = p;
    *alloc = n;
    return true;
}

static void sse_clear(struct sse *p)
{
    free(p->line);
    free(p->data);
}

/* Handles the complete line in p->line (NUL-terminated). */
static bool sse_line(struct sse *p)
{
    char *line = p->line, *value;

    if (!line[0]) {
        bool go_on = true;
        if (p->has_data) {
            p->data[p->dlen > 0 ? p->dlen - 1 : 0] = '\0'; /* the last LF */
            go_on = p->dispatch(p->event[0] ? p->event : "message", p->data, p->opaque);
        }
        p->dlen = 0;
        p->has_data = false;
        p->event[0] = '\0';
        return go_on;
    }
    if (line[0] == ':')
        return true; /* a comment: partd's keep-alive */
    value = strchr(line, ':');
    if (value) {
        *value++ = '\0';
        if (*value == ' ')
            value++;
    } else {
        value = line + strlen(line);
    }
    if (strcmp(line, "data") == 0) {
        size_t n = strlen(value);
        if (!grow(&p->data, &p->dalloc, p->dlen + n + 2))
            return false;
        memcpy(p->data + p->dlen, value, n);
        p->dlen += n;
        p->data[p->dlen++] = '\n';
        p->data[p->dlen] = '\0';
        p->has_data = true;
    } else if (strcmp(line, "event") == 0) {
        snprintf(p->event, sizeof(p->event), "%s", value);
    }
    return true; /* "id" and "retry" matter to reconnecting clients only */
}

/* Feeds the next n bytes of the stream; returns false to stop (the
 * dispatcher said so, a line is over SSE_LINE_MAX, or ENOMEM). */
static bool sse_feed(struct sse *p, const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = buf[i];
        if (p->cr && c == '\n') {
            p->cr = false;
            continue;
        }
        p->cr = c == '\r';
        if (c == '\r' || c == '\n') {
            if (!grow(&p->line, &p->alloc, p->len + 1))
                return false;
            p->line[p->len] = '\0';
            p->len = 0;
            if (!sse_line(p))
                return false;
            continue;
        }
        if (p->len + 1 >= SSE_LINE_MAX) {
            p->too_long = true;
            return false;
        }
        if (!grow(&p->line, &p->alloc, p->len + 2))
            return false;
        p->line[p->len++] = c;
    }
    return true;
}

/* "TIME BY KIND PARTITION MESSAGE", as wide as most values */
#define EVENT_FORMAT "%-8s  %-7s  %-12s  %-10s  %s\n"

static void print_event(const json_t *e)
{
    const json_t *t = get(e, "time");
    char when[16] = "-", by[32], kind[32], part[64], msg[400];

    if (json_is_number(t)) {
        time_t secs = (time_t)json_number_value(t);
        struct tm tm;
        if (localtime_r(&secs, &tm))
            strftime(when, sizeof(when), "%H:%M:%S", &tm);
    }
    printf(EVENT_FORMAT, when, output_value(get(e, "by"), by, sizeof(by)),
           output_value(get(e, "kind"), kind, sizeof(kind)),
           output_value(get(e, "partition"), part, sizeof(part)),
           output_value(get(e, "message"), msg, sizeof(msg)));
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

static int events_follow(struct partctl_ctx *ctx, const char *since)
{
    struct follow f = {.json = ctx->json};
    struct client_stream s = {.accept = "text/event-stream",
                              .sink = follow_sink,
                              .open = follow_open,
                              .opaque = &f,
                              .idle_s = FOLLOW_IDLE_S};
    char path[128];
    bool interrupted;

    snprintf(path, sizeof(path), "/v1/events?follow=1%s%s", since ? "&since=" : "",
             since ? since : "");
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
    const char *since = cli_opt(ctx, "since");
    unsigned long long n;
    json_t *reply = NULL;
    char path[128];

    if (since && !cli_uint(since, UINT64_MAX, &n))
        return cli_usage_error(ctx->cmd, "invalid --since '%s' (an event number, 0 or more)",
                               since);
    if (cli_opt(ctx, "follow"))
        return events_follow(ctx, since);
    snprintf(path, sizeof(path), "/v1/events%s%s", since ? "?since=" : "", since ? since : "");
    int r = cli_call(ctx, "GET", path, NULL, &reply);
    if (r == PARTCTL_OK && !ctx->json) {
        const json_t *events = get(reply, "events");
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

/* the self-test's dispatcher: appends "EVENT=DATA|" to a string */
static bool collect(const char *event, const char *data, void *opaque)
{
    char *out = opaque;
    snprintf(out + strlen(out), 512 - strlen(out), "%s=%s|", event, data);
    return true;
}

int events_self_test(void)
{
    static const char stream[] = ": keep-alive\n\n"
                                 "id: 1\nevent: policy\ndata: {\"seq\":1}\n\n"
                                 "id: 2\r\nevent: resized\r\ndata: {\"a\":\r\ndata:1}\r\n\r\n"
                                 ": x\rdata:  b\r\rdata\n\nevent: x\n: no data\n\n"
                                 "data: {\"\xC3\xA9\"}\n\ndata: cut";
    static const char want[] =
        "policy={\"seq\":1}|resized={\"a\":\n1}|message= b|message=|message={\"\xC3\xA9\"}|";
    const size_t len = sizeof(stream) - 1;
    int problems = 0;

    /* two pieces cut at every byte, then one byte at a time */
    for (size_t cut = 0; cut <= len + 1; cut++) {
        char out[512] = "";
        struct sse p = {.dispatch = collect, .opaque = out};
        if (cut <= len) {
            sse_feed(&p, stream, cut);
            sse_feed(&p, stream + cut, len - cut);
        } else {
            for (size_t i = 0; i < len; i++)
                sse_feed(&p, stream + i, 1);
        }
        if (strcmp(out, want) != 0) {
            fprintf(stderr, "self-test: events: stream cut at %zu: got '%s', expected '%s'\n", cut,
                    out, want);
            problems++;
        }
        sse_clear(&p);
    }
    return problems;
}
