/* The server-sent events parser (sse.h) and its self-test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sse.h"

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

void sse_clear(struct sse *p)
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

bool sse_feed(struct sse *p, const char *buf, size_t n)
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

/* the self-test's dispatcher: appends "EVENT=DATA|" to a string */
static bool collect(const char *event, const char *data, void *opaque)
{
    char *out = opaque;
    snprintf(out + strlen(out), 512 - strlen(out), "%s=%s|", event, data);
    return true;
}

int sse_self_test(void)
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
            fprintf(stderr, "self-test: sse: stream cut at %zu: got '%s', expected '%s'\n", cut,
                    out, want);
            problems++;
        }
        sse_clear(&p);
    }
    return problems;
}
