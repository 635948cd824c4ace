/* Policies: named sets of rebalancing rules and parameters, read from
 * policies/NAME.json and validated like profiles (file:line:column). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "part/error.h"
#include "part/profile.h"

struct part_policy {
    char name[PART_NAME_MAX];
    char description[256];
    bool weights;          /* move weight inside groups (IRD) */
    bool processors;       /* vary logical processors online */
    bool memory;           /* balloon memory toward need */
    bool defined_capacity; /* enforce profiles' defined_capacity */
    double interval;       /* seconds between plans */
    unsigned samples;      /* K: consecutive valid samples a condition must hold */
    double deadband;       /* demand within entitlement x (1 +- deadband) is balanced */
    unsigned weight_step;  /* most weight moved to or from a partition per interval */
    double stabilization;  /* seconds a partition must be quiet before it gives up anything */
    double cooldown_weight, cooldown_processors, cooldown_memory; /* seconds */
    double processors_high;   /* utilisation of online processors that adds one */
    double processors_low;    /* utilisation under which one is removed */
    uint64_t memory_headroom; /* MiB kept above what the guest uses */
    uint64_t memory_step;     /* most MiB moved per change */
    uint64_t memory_deadband; /* MiB: smaller differences are left alone */
    /* memory pressure: a guest with less than floor unused, or paging at
     * these rates, in each of the K samples */
    uint64_t memory_floor;  /* MiB */
    double memory_faults;   /* major faults per second */
    double memory_swap;     /* MiB per second, in or out */
    double memory_host_psi; /* the host's "some avg10" (%) that holds growth back */
    double dc_window;       /* seconds of the defined-capacity rolling average */
};

/* Parses and validates a policy from text; file is for errors (may be
 * NULL). Absent parameters take the defaults of part_policy_default(). */
int part_policy_parse(const char *text, size_t len, const char *file, struct part_policy *ret,
                      struct part_error *err);

/* Reads dir/NAME.json. -ENOENT (err says which file) when there is none. */
int part_policy_load(const char *dir, const char *name, struct part_policy *ret,
                     struct part_error *err);

/* The defaults: observe only (nothing managed), interval 2 s, K 3, ... */
void part_policy_default(struct part_policy *ret);

/* Returns a new JSON object with every parameter. */
json_t *part_policy_to_json(const struct part_policy *p);

/* Whether p changes anything (a rule is on); the others only observe. */
bool part_policy_acts(const struct part_policy *p);
