/* Snapshots: an immutable, reference-counted JSON rendering of the CPC and
 * its partitions, made after every change, so that readers (HTTP GETs) never
 * take the manager's lock or wait on the backend. Replies are kept as
 * ready-to-send text. */
#pragma once

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "part/cpc.h"

struct part_snapshot_partition {
    char name[PART_NAME_MAX];
    char *json;       /* the Partition object, serialised */
    size_t len;
};

struct part_snapshot {
    atomic_int refs;
    char *cpc; /* the CPC object, serialised */
    size_t cpc_len;
    char *list; /* {"partitions": [...]} */
    size_t list_len;
    struct part_snapshot_partition *parts; /* sorted by name */
    size_t n;
    char *metrics; /* Prometheus text exposition */
    size_t metrics_len;
};

/* Facts about the connection that the snapshot shows beside the model. */
struct part_snapshot_info {
    const char *uri;
    const char *driver;
    const char *version; /* the backend library's */
    bool connected;
    const char *policy;        /* the policy in force */
    uint64_t actions_applied;  /* rebalancer actions carried out so far */
    double clock_offset;       /* wall clock minus the samples' monotonic clock */
};

/* Builds a snapshot of cpc with one reference. NULL on ENOMEM. */
struct part_snapshot *part_snapshot_new(const struct part_cpc *cpc,
                                        const struct part_snapshot_info *info);

/* Takes a reference; returns s. */
struct part_snapshot *part_snapshot_ref(struct part_snapshot *s);

/* Drops a reference (s may be NULL); frees s with the last. */
void part_snapshot_put(struct part_snapshot *s);

/* Returns the partition named name (binary search), or NULL. */
const struct part_snapshot_partition *part_snapshot_find(const struct part_snapshot *s,
                                                         const char *name);

/* Returns a new JSON Partition object for p; clock_offset turns sample
 * times into wall-clock times. */
json_t *part_snapshot_partition_json(const struct part_cpc *cpc, const struct part_partition *p,
                                     double clock_offset);

/* Returns a new JSON CPC object for cpc. */
json_t *part_snapshot_cpc_json(const struct part_cpc *cpc, const struct part_snapshot_info *info);
