/* /v1/events: the event ring as JSON, or followed as server-sent events.
 * A follower's connection is suspended while there is nothing to send and
 * resumed by the event subscription (or the keep-alive tick), so it holds
 * no thread of libmicrohttpd's pool while it waits. */
#include <pthread.h>
#include <stdatomic.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

#define BATCH 16

struct follower {
    struct MHD_Connection *conn;
    struct part_events *events;
    uint64_t seq;          /* last event sent */
    atomic_bool suspended; /* true while parked: whoever clears it resumes */
    atomic_bool keepalive; /* send a comment line on the next call */
    atomic_bool closing;   /* partd stops: end the stream */
    int sub;
    struct follower *next;
};

static pthread_mutex_t followers_lock = PTHREAD_MUTEX_INITIALIZER;
static struct follower *followers;
static bool stopping;

static void follower_wake(struct follower *f)
{
    if (atomic_exchange(&f->suspended, false))
        MHD_resume_connection(f->conn);
}

static void on_event(const struct part_event *e, void *opaque)
{
    (void)e;
    follower_wake(opaque);
}

static ssize_t follower_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct follower *f = cls;
    struct part_event evs[BATCH];
    size_t len = 0;
    (void)pos;

    if (atomic_load(&f->closing))
        return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = part_events_since(f->events, f->seq, evs, BATCH);
    for (size_t i = 0; i < n; i++) {
        json_t *j = part_event_to_json(&evs[i]);
        char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        int w = text ? snprintf(buf + len, max - len, "id: %llu\nevent: %s\ndata: %s\n\n",
                                (unsigned long long)evs[i].seq, evs[i].kind, text)
                     : -1;
        json_decref(j);
        free(text);
        if (len > 0 && (w < 0 || (size_t)w >= max - len))
            break;                           /* the rest next time */
        if (w < 0 || (size_t)w >= max - len) /* cannot be sent at all: skipped, said so */
            w = snprintf(buf, max, ": event %llu could not be sent\n\n",
                         (unsigned long long)evs[i].seq);
        len += (size_t)w;
        f->seq = evs[i].seq;
    }
    if (len)
        return (ssize_t)len;
    if (atomic_exchange(&f->keepalive, false)) {
        int w = snprintf(buf, max, ": keep-alive\n\n");
        return w > 0 ? w : 0;
    }
    /* nothing to send: park, then look again in case an event slipped in */
    MHD_suspend_connection(f->conn);
    atomic_store(&f->suspended, true);
    if (part_events_last(f->events) > f->seq || atomic_load(&f->closing))
        follower_wake(f);
    return 0;
}

static void follower_free(void *cls)
{
    struct follower *f = cls;
    part_events_unsubscribe(f->events, f->sub);
    pthread_mutex_lock(&followers_lock);
    for (struct follower **pp = &followers; *pp; pp = &(*pp)->next)
        if (*pp == f) {
            *pp = f->next;
            break;
        }
    pthread_mutex_unlock(&followers_lock);
    free(f);
}

/* The first event to send: after ?since=N or Last-Event-ID. false when it
 * is not a number. */
static bool start_seq(struct http_request *r, uint64_t *ret)
{
    const char *since = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "since");
    char *end;
    if (!since)
        since = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Last-Event-ID");
    *ret = 0;
    if (!since)
        return true;
    errno = 0;
    *ret = strtoull(since, &end, 10);
    return since[0] >= '0' && since[0] <= '9' && !*end && errno != ERANGE;
}

static enum MHD_Result events_list(struct http_request *r, struct part_events *ev, uint64_t after)
{
    struct part_event *buf = calloc(1024, sizeof(*buf));
    json_t *list = json_array();
    if (!buf || !list) {
        free(buf);
        json_decref(list);
        return http_reply_problem(r, 500, "internal", "out of memory", NULL, NULL);
    }
    size_t n = part_events_since(ev, after, buf, 1024);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, part_event_to_json(&buf[i]));
    free(buf);
    return http_reply_json(r, 200, json_pack("{s:o}", "events", list));
}

enum MHD_Result api_events(struct http_request *r)
{
    struct part_events *ev = part_mgr_events(r->mgr);
    const char *follow = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "follow");
    const char *accept = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Accept");
    bool stream = follow ? strcmp(follow, "0") != 0 && strcmp(follow, "false") != 0
                         : accept && strstr(accept, "text/event-stream");
    uint64_t since;
    if (!start_seq(r, &since))
        return http_reply_problem(r, 422, "validation",
                                  "since: expected the number of the last event seen", "since",
                                  NULL);
    if (!stream)
        return events_list(r, ev, since);

    struct follower *f = calloc(1, sizeof(*f));
    if (!f)
        return http_reply_problem(r, 500, "internal", "out of memory", NULL, NULL);
    f->conn = r->conn;
    f->events = ev;
    f->seq = since;
    if ((f->sub = part_events_subscribe(ev, on_event, f)) < 0) {
        char detail[128];
        free(f);
        snprintf(detail, sizeof(detail),
                 "%d followers of the events already: try again later, or read GET /v1/events",
                 PART_EVENTS_SUBSCRIBERS_MAX);
        return http_reply_problem(r, 503, "too-many-followers", detail, NULL, NULL);
    }
    pthread_mutex_lock(&followers_lock);
    if (stopping) {
        pthread_mutex_unlock(&followers_lock);
        part_events_unsubscribe(ev, f->sub);
        free(f);
        return http_reply_problem(r, 503, "backend-unavailable", "partd is stopping", NULL, NULL);
    }
    f->next = followers;
    followers = f;
    pthread_mutex_unlock(&followers_lock);
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, follower_read, f, follower_free);
    if (!resp) {
        follower_free(f);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    enum MHD_Result ret = MHD_queue_response(r->conn, 200, resp);
    MHD_destroy_response(resp);
    return ret;
}

void api_events_tick(bool closing)
{
    pthread_mutex_lock(&followers_lock);
    stopping |= closing;
    for (struct follower *f = followers; f; f = f->next) {
        if (closing)
            atomic_store(&f->closing, true);
        else
            atomic_store(&f->keepalive, true);
        follower_wake(f);
    }
    pthread_mutex_unlock(&followers_lock);
}
