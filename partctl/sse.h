/* A parser of server-sent events (the WHATWG EventSource rules, less
 * retry), fed the stream a piece at a time as it comes: libcurl cuts it
 * anywhere, in the middle of a line or of a UTF-8 char. Lines end with LF,
 * CRLF or CR; "data:" lines accumulate, "event:" names the event, ":"
 * starts a comment, and an empty line dispatches. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define SSE_LINE_MAX (1u << 20) /* partd's events are under 1 KiB */

struct sse {
    /* gets each event ("message" when unnamed); returns false to stop parsing */
    bool (*dispatch)(const char *event, const char *data, void *opaque);
    void *opaque;
    bool too_long; /* set when a line was over SSE_LINE_MAX */
    /* the parser's own */
    char *line, *data;
    size_t len, alloc, dlen, dalloc;
    char event[64];
    bool cr;       /* the last byte was a CR: a LF after it ends no other line */
    bool has_data; /* a "data" field came since the last dispatch */
};

/* Feeds the next n bytes of the stream; returns false to stop (the
 * dispatcher said so, a line is over SSE_LINE_MAX, or ENOMEM). */
bool sse_feed(struct sse *p, const char *buf, size_t n);

/* Frees what p holds. */
void sse_clear(struct sse *p);

/* Feeds the parser canned streams cut at every byte; prints each problem
 * to stderr and returns how many there were. */
int sse_self_test(void);
