/* Runtime state that must survive a restart of partd: which partitions partd
 * keeps active, and their running values (a scope-running change lives only
 * here and in the backend). Written atomically (temporary file, fsync,
 * rename, fsync of the directory), so a crash leaves the old or the new file,
 * never half of one. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "part/cpc.h"
#include "part/error.h"

struct part_state_entry {
    char name[PART_NAME_MAX];
    bool active;
    /* the running value of each setting (setting.h; memory in MiB): 0 when
     * the file has none, a cap of none when it has null */
    double running[PART_SET_N];
};

struct part_state {
    struct part_state_entry *entries; /* owned */
    size_t n;
    char policy[PART_NAME_MAX]; /* the policy in force, "" when none saved */
};

/* Reads dir/state.json into *ret. A missing file is an empty state (0).
 * Returns a negative errno with err naming the file when it is unreadable or
 * invalid. */
int part_state_load(const char *dir, struct part_state *ret, struct part_error *err);

/* Writes the state of every partition of cpc and the policy in force to
 * dir/state.json atomically, creating dir when needed. */
int part_state_save(const char *dir, const struct part_cpc *cpc, const char *policy,
                    struct part_error *err);

/* Returns the entry named name, or NULL. */
const struct part_state_entry *part_state_find(const struct part_state *st, const char *name);

void part_state_clear(struct part_state *st);
