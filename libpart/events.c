/* The event ring buffer and its subscribers. */
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "part/events.h"

struct part_events {
    pthread_mutex_t lock;
    struct part_event *ring;
    size_t capacity;
    uint64_t last; /* seq of the newest event */
    struct {
        part_events_fn fn;
        void *opaque;
    } subs[PART_EVENTS_SUBSCRIBERS_MAX];
};

struct part_events *part_events_new(size_t capacity)
{
    struct part_events *ev = calloc(1, sizeof(*ev));
    if (!ev)
        return NULL;
    ev->capacity = capacity ? capacity : 1;
    ev->ring = calloc(ev->capacity, sizeof(*ev->ring));
    if (!ev->ring) {
        free(ev);
        return NULL;
    }
    pthread_mutex_init(&ev->lock, NULL);
    return ev;
}

void part_events_free(struct part_events *ev)
{
    if (!ev)
        return;
    pthread_mutex_destroy(&ev->lock);
    free(ev->ring);
    free(ev);
}

void part_events_add(struct part_events *ev, const char *kind, const char *partition,
                     const char *by, const struct part_caller *caller, const char *fmt, ...)
{
    struct timespec ts;
    va_list ap;

    clock_gettime(CLOCK_REALTIME, &ts);
    pthread_mutex_lock(&ev->lock);
    struct part_event *e = &ev->ring[ev->last % ev->capacity];
    memset(e, 0, sizeof(*e));
    e->seq = ++ev->last;
    e->time = (double)ts.tv_sec + ts.tv_nsec / 1e9;
    snprintf(e->kind, sizeof(e->kind), "%s", kind);
    snprintf(e->partition, sizeof(e->partition), "%s", partition ? partition : "");
    snprintf(e->by, sizeof(e->by), "%s", by);
    e->caller = caller ? *caller : (struct part_caller){.role = PART_ROLE_NONE, .uid = -1};
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    for (size_t i = 0; i < PART_EVENTS_SUBSCRIBERS_MAX; i++)
        if (ev->subs[i].fn)
            ev->subs[i].fn(e, ev->subs[i].opaque);
    pthread_mutex_unlock(&ev->lock);
}

size_t part_events_since(struct part_events *ev, uint64_t after, struct part_event *out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&ev->lock);
    uint64_t first = ev->last > ev->capacity ? ev->last - ev->capacity + 1 : 1;
    if (after + 1 > first)
        first = after + 1;
    for (uint64_t seq = first; seq <= ev->last && n < max; seq++)
        out[n++] = ev->ring[(seq - 1) % ev->capacity];
    pthread_mutex_unlock(&ev->lock);
    return n;
}

uint64_t part_events_last(struct part_events *ev)
{
    pthread_mutex_lock(&ev->lock);
    uint64_t last = ev->last;
    pthread_mutex_unlock(&ev->lock);
    return last;
}

int part_events_subscribe(struct part_events *ev, part_events_fn fn, void *opaque)
{
    int handle = -1;
    pthread_mutex_lock(&ev->lock);
    for (int i = 0; i < PART_EVENTS_SUBSCRIBERS_MAX && handle < 0; i++)
        if (!ev->subs[i].fn) {
            ev->subs[i].fn = fn;
            ev->subs[i].opaque = opaque;
            handle = i;
        }
    pthread_mutex_unlock(&ev->lock);
    return handle;
}

void part_events_unsubscribe(struct part_events *ev, int handle)
{
    if (handle < 0 || handle >= PART_EVENTS_SUBSCRIBERS_MAX)
        return;
    pthread_mutex_lock(&ev->lock);
    ev->subs[handle].fn = NULL;
    ev->subs[handle].opaque = NULL;
    pthread_mutex_unlock(&ev->lock);
}

json_t *part_event_to_json(const struct part_event *e)
{
    json_t *j =
        json_pack("{s:I, s:f, s:s, s:s?, s:s, s:s}", "seq", (json_int_t)e->seq, "time", e->time,
                  "kind", e->kind, "partition", e->partition[0] ? e->partition : NULL, "by", e->by,
                  "message", e->message);
    if (j && e->caller.role != PART_ROLE_NONE &&
        json_object_set_new(j, "caller", part_caller_json(&e->caller)) < 0) {
        json_decref(j);
        return NULL;
    }
    return j;
}
