/* The partition manager: the CPC model kept in step with the backend. Every
 * mutation is checked (bounds, admission control), applied through the
 * backend, recorded from what the backend confirmed, persisted, and
 * published as a new snapshot, under one lock. Readers use snapshots and
 * never wait on the backend. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "part/caller.h"
#include "part/config.h"
#include "part/error.h"
#include "part/hv.h"
#include "part/events.h"
#include "part/snapshot.h"

struct part_mgr;
struct part_resize;  /* resize.h */
struct part_changes; /* resize.h */

/* Messages for the daemon's log (libpart never logs itself). */
enum part_log_level { PART_LOG_ERROR, PART_LOG_WARNING, PART_LOG_INFO, PART_LOG_DEBUG };
/* What a message is about, for a log that keeps fields (the journal): the
 * partition it concerns (a message about one partition begins with its name
 * and ": "), and for an event (events.h) its kind and who acted. Each is NULL
 * when it does not apply. */
struct part_log_about {
    const char *partition;
    const char *kind;
    const char *by;
};
typedef void (*part_log_fn)(enum part_log_level level, const struct part_log_about *about,
                            const char *message, void *opaque);

/* Opens the manager for cfg (taken on success): connects to the backend,
 * loads the profiles (bad ones are logged and left out), restores the state
 * file, and reconciles: defines or adopts each partition's domain, records
 * the running ones, re-activates the ones partd kept active, and activates
 * autostart partitions on first start. log may be NULL. */
int part_mgr_open(struct part_config *cfg, const struct part_hv_ops *ops, part_log_fn log,
                  void *log_opaque, struct part_mgr **ret, struct part_error *err);

/* Stops listening to the backend and frees mgr (which may be NULL). Running
 * partitions keep running. */
void part_mgr_close(struct part_mgr *mgr);

/* Returns the current snapshot with a reference the caller drops with
 * part_snapshot_put(). Never blocks on the backend. */
struct part_snapshot *part_mgr_snapshot(struct part_mgr *mgr);

/* The mutations below take the caller who asked (the API's: its role and
 * uid), which their event and log line name; NULL when unknown. They do not
 * check the caller's role: partd does, before it calls them. */

/* Defines a partition from a profile text (an API body): validated (errors
 * give line and column in text), admitted, its domain defined, its file
 * written to the partitions directory. *ret_name (may be NULL) receives the
 * name. -EEXIST when taken, or when a domain of its name exists that partd
 * did not define (left untouched: adopting it is domain.adopt). */
int part_mgr_define(struct part_mgr *mgr, const char *text, size_t len,
                    const struct part_caller *caller, char ret_name[PART_NAME_MAX],
                    struct part_error *err);

/* Undefines an inactive partition: its domain, when partd defined it, and
 * its profile file are removed. An adopted domain, or one partd did not
 * define (no mark), is released: left as it is. -EBUSY when active,
 * -ENOENT when unknown. */
int part_mgr_undefine(struct part_mgr *mgr, const char *name, const struct part_caller *caller,
                      struct part_error *err);

int part_mgr_activate(struct part_mgr *mgr, const char *name, const struct part_caller *caller,
                      struct part_error *err);

/* The longest graceful shutdown a deactivation may wait for, seconds: a
 * request that waits longer is a client's connection held for nothing. */
#define PART_DEACTIVATE_TIMEOUT_MAX     600
#define PART_DEACTIVATE_TIMEOUT_DEFAULT 60

/* Graceful shutdown within timeout_ms (at most PART_DEACTIVATE_TIMEOUT_MAX
 * seconds, else -ERANGE naming "timeout"), then destroy when force; without
 * force a guest that does not stop is -ETIMEDOUT and stays active. The
 * guest is asked under the manager's lock and waited for without it (the
 * caller's thread sleeps): mutations of other partitions go on meanwhile,
 * and this one's get -EBUSY. -ECANCELED when part_mgr_shutdown() ended the
 * wait (the guest was asked; the state file has it inactive, so a restart
 * does not start it again). */
int part_mgr_deactivate(struct part_mgr *mgr, const char *name, bool force, unsigned timeout_ms,
                        const struct part_caller *caller, struct part_error *err);

/* partd is stopping: deactivations waiting for their guests return
 * -ECANCELED within a poll (0.1 s). Safe from any thread; call it before
 * waiting for the callers of part_mgr_deactivate(). */
void part_mgr_shutdown(struct part_mgr *mgr);

/* Applies req to the partition named name. Everything is checked before
 * anything is applied (-ERANGE bounds, -ENOSPC capacity, -EBUSY for scope
 * running on an inactive partition, -EINVAL for bounds with scope running).
 * Each change applied is listed in *ret_changes with what the backend said.
 * Returns 0 when nothing failed, -EIO when a backend call failed, -ENOTSUP
 * when the backend cannot make that change (a live decrease of processors
 * without the guest agent): the changes say which; the others were not
 * tried. */
int part_mgr_resize(struct part_mgr *mgr, const char *name, const struct part_resize *req,
                    const struct part_caller *caller, struct part_changes *ret_changes,
                    struct part_error *err);

/* Returns a new JSON object of the partition named name as the snapshot has
 * it (after the last mutation), or NULL when there is none. Like the plan
 * and the policy below, read from the snapshot: never waits for the lock. */
json_t *part_mgr_partition_json(struct part_mgr *mgr, const char *name);

/* The plan the rebalancer would carry out now (dry run) under policy
 * (policies_dir/NAME.json, "static" built in; NULL: the one in force), a
 * preview before switching to it: a new JSON object {"policy": NAME,
 * "actions": [...]}. A policy that does not exist or is invalid is
 * -ENOENT or -EINVAL with err's field "policy"; nothing changes. */
int part_mgr_plan(struct part_mgr *mgr, const char *policy, json_t **ret, struct part_error *err);

/* Makes the plan and applies it now, one action at a time through the
 * backend: a new JSON object {"policy": NAME, "actions": [...]} where each
 * action also has "status" and "detail". */
int part_mgr_rebalance(struct part_mgr *mgr, const struct part_caller *caller, json_t **ret,
                       struct part_error *err);

/* The policy in force, as a new JSON object. */
json_t *part_mgr_policy_json(struct part_mgr *mgr);

/* The policies partd can switch to, as a new JSON object {"policies":
 * [{"name", "description", "active"}, ...]} sorted by name: every valid
 * NAME.json of policies_dir (files that are not valid policies are left
 * out: PUT /v1/policy would refuse them) and the built-in static; active
 * marks the one in force. No file paths. NULL on ENOMEM. */
json_t *part_mgr_policies_json(struct part_mgr *mgr);

/* Switches to policy name (policies_dir/NAME.json; "static" is built in);
 * persisted across restarts. -ENOENT when there is no such policy,
 * -EINVAL when it is invalid (err names file:line:column). */
int part_mgr_policy_set(struct part_mgr *mgr, const char *name, const struct part_caller *caller,
                        struct part_error *err);

/* The CLOCK_MONOTONIC time, in seconds, at which the manager's thread last
 * went round its loop (it does at least once an interval, and when it
 * handles a backend event): a time that stops moving means the monitor is
 * stuck, for a watchdog to notice. */
double part_mgr_alive(struct part_mgr *mgr);

/* The event ring (lives as long as mgr). */
struct part_events *part_mgr_events(struct part_mgr *mgr);

/* Re-reads the partitions directory (SIGHUP): new profiles are defined (and
 * their domains), changed ones replace the old (running values are kept:
 * the change is pending until the next activation, bounds apply at once),
 * and partitions whose file is gone are left unmanaged (their domains are
 * not touched). Bad files are logged and change nothing. Returns 0 or a
 * negative errno when the directory cannot be read. */
int part_mgr_reload(struct part_mgr *mgr, struct part_error *err);
