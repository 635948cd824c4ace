/* Events: every state change and every rebalancer decision, with who made
 * it and why, kept in a ring buffer for late subscribers and pushed to
 * subscribers as they happen. Thread-safe. */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "part/caller.h"
#include "part/profile.h"

struct part_event {
    uint64_t seq;                  /* 1, 2, ...: increases by one per event */
    double time;                   /* seconds since the epoch */
    char kind[24];                 /* "activated", "resized", "rebalanced", "stopped", ... */
    char partition[PART_NAME_MAX]; /* "" for CPC-wide events */
    char by[16];                   /* "api", "policy", "backend", "partd" */
    struct part_caller caller;     /* by "api": who; role PART_ROLE_NONE otherwise */
    char message[320];
};

struct part_events;

/* Called (with the events lock held: do not call back into events) after
 * each new event. */
typedef void (*part_events_fn)(const struct part_event *e, void *opaque);

/* A ring of capacity events (at least 1). NULL on ENOMEM. */
struct part_events *part_events_new(size_t capacity);
void part_events_free(struct part_events *ev);

/* Records an event and notifies the subscribers. caller (may be NULL) is
 * the API's caller when by is "api". */
void part_events_add(struct part_events *ev, const char *kind, const char *partition,
                     const char *by, const struct part_caller *caller, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Copies up to max events with seq > after, oldest first, into out; returns
 * how many. Events that fell out of the ring are lost to the caller, who
 * sees a gap in seq. */
size_t part_events_since(struct part_events *ev, uint64_t after, struct part_event *out,
                         size_t max);

/* The seq of the newest event (0 when none). */
uint64_t part_events_last(struct part_events *ev);

#define PART_EVENTS_SUBSCRIBERS_MAX 64 /* subscribers at once */

/* Subscribes fn; returns a handle for part_events_unsubscribe(), or -1. */
int part_events_subscribe(struct part_events *ev, part_events_fn fn, void *opaque);
void part_events_unsubscribe(struct part_events *ev, int handle);

/* A new JSON object for e: "caller" only when e has one. */
json_t *part_event_to_json(const struct part_event *e);
