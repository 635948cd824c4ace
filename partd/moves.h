/* The source side of moving a partition to another CPC (docs/cpcs.md,
 * "Moving a partition"): validate with the peer, reserve there, migrate
 * with libvirt, have the peer adopt; each step an event. A move runs on a
 * thread of its own; a record in the state directory lets a restarted
 * partd finish or undo what a killed one left. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include <part/part.h>

/* Starts the thread that resolves the moves a killed partd left (their
 * records): the guest stayed, the peer releases; it left, the peer adopts
 * and this partd forgets it. Returns 0 or a negative errno. */
int move_init(struct part_mgr *mgr);

/* Waits for the moves under way (a migration ends at its timeout at the
 * latest) and the resolver. */
void move_stop(void);

/* Moves partition name to peer to: asks the peer to validate (its checks
 * into *ret_checks, a new JSON array, when it answered); with
 * validate_only that is all; else marks the partition moving and starts
 * the move's thread, its id in ret_id. Returns 0, or a negative errno with
 * err (the peer's refusal: its detail and field). */
int move_start(struct part_mgr *mgr, const char *name, const char *to, bool validate_only,
               const struct part_caller *caller, char ret_id[PART_MOVE_ID_MAX], json_t **ret_checks,
               struct part_error *err);
