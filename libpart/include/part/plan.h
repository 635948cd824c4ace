/* The planner: a pure function from the CPC (partitions, bounds, running
 * values, entitlements, histories) and a policy to a plan, a list of
 * actions each with a reason a person can read. No I/O, deterministic:
 * unit-tested and simulated offline (tests/sim). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "part/cpc.h"
#include "part/error.h"
#include "part/policy.h"

struct part_action {
    char partition[PART_NAME_MAX];
    /* The partition's place in the CPC's parts, as the planner made the
     * action; part_plan_check() looks the name up when it does not match
     * (actions made by hand may leave it 0). */
    size_t index;
    enum part_setting setting; /* weight, processors, memory or cap */
    double from, to;           /* cap: PART_CAP_NONE for none */
    /* The action is defined capacity's (the only cap actions the planner
     * makes): capping at the profile's defined_capacity, or giving the
     * profile's cap back. Once applied, the partition's dc_capped is
     * (to != profile->cap). */
    bool dc;
    char reason[256];
};

struct part_plan {
    struct part_action *actions; /* owned */
    size_t n, alloc;
};

/* Computes the plan for cpc under policy at time now (seconds, the clock of
 * the histories). Only active, managed partitions are considered; samples
 * that are not valid never count. The plan is checked with part_plan_check()
 * before it is returned. Returns 0, -ENOMEM, or -EPROTO when the plan broke
 * an invariant (a bug: err says which, and no plan is returned). */
int part_plan_make(const struct part_cpc *cpc, const struct part_policy *policy, double now,
                   struct part_plan *ret, struct part_error *err);

/* Checks plan against cpc: every value within its bounds, group weight
 * totals conserved, no capacity committed past the configured factors.
 * Returns 0 or -EPROTO with err naming the broken invariant. */
int part_plan_check(const struct part_cpc *cpc, const struct part_plan *plan,
                    struct part_error *err);

void part_plan_clear(struct part_plan *plan);

/* Returns a new JSON array of the plan's actions. */
json_t *part_plan_to_json(const struct part_plan *plan);

/* The reply of GET /v1/plan: a new JSON object {"policy": policy,
 * "sample": sample, "actions": part_plan_to_json(plan)}, NULL on ENOMEM. */
json_t *part_plan_reply_json(const struct part_plan *plan, const char *policy, uint64_t sample);
