/* Snapshots: an immutable, reference-counted copy of the CPC and its
 * partitions, made after every change, so that readers (HTTP GETs) never
 * take the manager's lock or wait on the backend. Each view (a partition,
 * the list, the CPC, the metrics) is rendered to text at most once per
 * snapshot, when first asked for. */
#pragma once

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "part/cpc.h"
#include "part/error.h"
#include "part/policy.h"

struct part_snapshot;

/* Facts about the connection that the snapshot shows beside the model. */
struct part_snapshot_info {
    const char *uri;
    const char *driver;
    const char *version; /* the backend library's */
    bool connected;
    const char *policy; /* the policy in force */
    /* the same, whole (copied; NULL: the default, observe only): plan
     * previews are made from the snapshot, whose histories are copied
     * only when this policy acts */
    const struct part_policy *plan_policy;
    uint64_t actions_applied; /* rebalancer actions carried out so far */
    double clock_offset;      /* wall clock minus the samples' monotonic clock */
    double interval;          /* the monitor's, in seconds */
    uint64_t sample;          /* the monitor's samples so far: the newest is this one's */
};

/* Copies cpc (and info) into a new snapshot with one reference. NULL on
 * ENOMEM. */
struct part_snapshot *part_snapshot_new(const struct part_cpc *cpc,
                                        const struct part_snapshot_info *info);

/* Takes a reference; returns s. */
struct part_snapshot *part_snapshot_ref(struct part_snapshot *s);

/* Drops a reference (s may be NULL); frees s with the last. */
void part_snapshot_put(struct part_snapshot *s);

/* The views as JSON text (docs/api.md), valid while the caller holds its
 * reference; *ret_len is their length. NULL on ENOMEM, and for a partition
 * when there is none of that name. */
const char *part_snapshot_partition_text(struct part_snapshot *s, const char *name,
                                         size_t *ret_len);
const char *part_snapshot_list_text(struct part_snapshot *s, size_t *ret_len);
const char *part_snapshot_cpc_text(struct part_snapshot *s, size_t *ret_len);
/* The Prometheus text exposition. */
const char *part_snapshot_metrics_text(struct part_snapshot *s, size_t *ret_len);

/* The plan the rebalancer would make at time now (the histories' clock)
 * from the snapshot under policy (NULL: the one in force): a new JSON
 * object {"policy": NAME, "sample": N, "actions": [...]} into *ret, N
 * being info's sample (the monitor sample the plan reads). Reads no lock, so
 * that a preview answers while a mutation waits on the backend. Returns 0
 * or part_plan_make()'s error. */
int part_snapshot_plan(struct part_snapshot *s, const struct part_policy *policy, double now,
                       json_t **ret, struct part_error *err);

/* The trend of partition name (trend.h) as the snapshot saw it, from seq
 * from on (all that is held when from is beyond the newest): a new JSON
 * History object (docs/api.md) into *ret. Reads the
 * trend under its own lock, never the manager's. Returns 0, -ENOENT when
 * there is no partition of that name, or -ENOMEM. */
int part_snapshot_history(struct part_snapshot *s, const char *name, uint64_t from, json_t **ret,
                          struct part_error *err);

/* The policy in force, as a new JSON object (NULL on ENOMEM). */
json_t *part_snapshot_policy_json(const struct part_snapshot *s);

/* The facts given to part_snapshot_new(), kept with the snapshot. */
const struct part_snapshot_info *part_snapshot_info(const struct part_snapshot *s);

/* Returns a new JSON Partition object for p; clock_offset turns sample
 * times into wall-clock times. */
json_t *part_snapshot_partition_json(const struct part_cpc *cpc, const struct part_partition *p,
                                     double clock_offset);
