/* Moving a running partition to another CPC (docs/cpcs.md, "Moving a
 * partition"). The source's partd validates with the target's, has it
 * reserve the capacity, lets libvirt migrate the guest live, and has the
 * target adopt it; libpart holds both sides' model of it (the request the
 * target checks, the reservation, the adoption, the record the source
 * keeps across a crash) and partd the HTTP between them. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "part/caller.h"
#include "part/cpc.h"
#include "part/error.h"
#include "part/hv.h"
#include "part/peer.h"
#include "part/profile.h"

/* How long a reservation outlives the migration's timeout: time for the
 * source to ask for the adoption (or the release) once libvirt is done. */
#define PART_MOVE_GRACE_S 60

/* What the source tells the target (POST /v1/moves, and the adoption's
 * body): the partition's profile, its running values, its guest's
 * processor; all of it hostile input for the target. */
struct part_move_request {
    struct part_profile *profile; /* owned */
    unsigned processors, weight;  /* running values */
    uint64_t memory;              /* MiB */
    double cap;                   /* PART_CAP_NONE when uncapped */
    struct part_hv_guest guest;
    unsigned timeout_s;        /* the migration's: the reservation lives this + PART_MOVE_GRACE_S */
    bool reserve;              /* reserve the capacity (else only validate) */
    char id[PART_MOVE_ID_MAX]; /* the move's id, chosen by the source ("" when validating) */
};

/* Parses a request body (len bytes): {"profile": {...}, "running":
 * {"processors", "memory", "weight", "cap"}, "guest": {"type", "arch",
 * "machine", "cpu"}, "timeout_s", "reserve", "id"} (id: 8 to 39 hex digits,
 * required with reserve). The profile is checked as a
 * definition's body is (part_profile_parse()), the running values within
 * its bounds. Returns 0, or -EINVAL with err naming the field (and line
 * and column). */
int part_move_request_parse(const char *text, size_t len, struct part_move_request *ret,
                            struct part_error *err);

/* The body of req, a new JSON object; NULL on ENOMEM. */
json_t *part_move_request_json(const struct part_move_request *req);

/* Frees what req owns. */
void part_move_request_clear(struct part_move_request *req);

/* Makes a new move id (random, 32 hex digits) into id. */
void part_move_id_new(char id[PART_MOVE_ID_MAX]);

/* The source's record of a move under way, kept in the state directory
 * (moves/NAME.json, written atomically) from before the reservation until
 * the move ended, so that a partd killed meanwhile finishes or undoes it at
 * restart. */
enum part_move_step {
    PART_MOVE_STEP_RESERVED,  /* the target reserved; the migration may not have begun */
    PART_MOVE_STEP_MIGRATING, /* the migration was started */
};

struct part_move_record {
    char id[PART_MOVE_ID_MAX];
    char partition[PART_NAME_MAX];
    char peer[PART_NAME_MAX];
    enum part_move_step step;
    json_t *request; /* the request's body (for the adoption), owned */
};

int part_move_record_save(const char *state_dir, const struct part_move_record *rec,
                          struct part_error *err);
/* Loads every record of state_dir into a new array (free with
 * part_move_records_free()); none is 0 with *ret_n 0. A record that cannot
 * be read is skipped and reported in err (returns -EINVAL, the others are
 * still returned). */
int part_move_records_load(const char *state_dir, struct part_move_record **ret, size_t *ret_n,
                           struct part_error *err);
int part_move_record_remove(const char *state_dir, const char *partition, struct part_error *err);
void part_move_records_free(struct part_move_record *recs, size_t n);

/* Where the guest is, as a restarted source sees it. */
enum part_move_where {
    PART_MOVE_HERE,      /* its domain runs here, no migration job */
    PART_MOVE_MIGRATING, /* its domain runs here and libvirt still migrates it */
    PART_MOVE_GONE,      /* no domain of it here (libvirt undefined it: it moved) */
    PART_MOVE_UNKNOWN,   /* the backend did not say */
};

enum part_move_action {
    PART_MOVE_RELEASE, /* the guest stayed: the target releases, the record goes */
    PART_MOVE_WAIT,    /* not known yet: look again later */
    PART_MOVE_ADOPT,   /* the guest left: the target adopts, the source forgets it */
};

/* What a restarted source does with a record, from where its guest is: a
 * pure function (unit-tested). */
enum part_move_action part_move_resolve(enum part_move_where where);

/* The manager's side: see manager-move.c. */
struct part_mgr;

/* Target: checks that this CPC can take the partition req describes, as
 * a definition and activation here would be checked (name and domain
 * free, the profile's files within the configured directories and
 * reachable by QEMU, its group known, admission control with the running
 * values) and that this host runs the guest's processor (libvirt's CPU
 * comparison; a backend that cannot compare is noted, not refused).
 * *ret_checks (may be NULL) receives a new JSON array of {"check",
 * "ok", "detail"}. With req->reserve, reserves: the partition is added,
 * not running, its running values counting in admission control until
 * adopted, released, or past its deadline; *ret_id its move id. Returns 0,
 * -EEXIST, -ENOSPC (err naming the numbers), -EINVAL, ... */
int part_mgr_move_admit(struct part_mgr *mgr, const struct part_move_request *req,
                        const struct part_caller *caller, char ret_id[PART_MOVE_ID_MAX],
                        json_t **ret_checks, struct part_error *err);

/* Target: adopts the partition moved here under move id: its domain must
 * run here with partd's mark naming it. Its profile file is written, its
 * running values (req's, the guest's own processors and memory read back)
 * recorded, weight and cap applied. When this partd holds no reservation
 * of id (it restarted), req is checked as part_mgr_move_admit() does, but
 * with the domain present. -ENOENT when no domain of it runs here. */
int part_mgr_move_adopt(struct part_mgr *mgr, const char *id, const struct part_move_request *req,
                        const struct part_caller *caller, struct part_error *err);

/* Target: drops the reservation of move id (and a domain of it defined
 * here but not running: what a failed migration may leave). -EBUSY when
 * its domain runs here (adopt it instead); 0 when there is none. */
int part_mgr_move_release(struct part_mgr *mgr, const char *id, const struct part_caller *caller,
                          struct part_error *err);

/* Source: fills *ret with active partition name's profile, running values
 * and guest, and with id (not NULL) marks it as moving out under that id
 * (nothing else may change it; undone by part_mgr_move_end()). -EBUSY
 * when not active or busy. */
int part_mgr_move_begin(struct part_mgr *mgr, const char *name, const char *id,
                        struct part_move_request *ret, struct part_error *err);

/* Source: migrates name's guest (part_hv_migrate()) on a connection of its
 * own, without the manager's lock. */
int part_mgr_move_migrate(struct part_mgr *mgr, const char *name, const struct part_hv_migration *m,
                          part_hv_progress_fn fn, void *opaque, struct part_error *err);

/* Source: ends the move of name: moved, the partition is forgotten here
 * (model, profile file, state); else it stays, as it runs. */
int part_mgr_move_end(struct part_mgr *mgr, const char *name, bool moved, struct part_error *err);

/* Source, at restart: where the guest of partition name is. */
enum part_move_where part_mgr_move_where(struct part_mgr *mgr, const char *name);

/* partd.json as the manager has it (its peers). */
const struct part_config *part_mgr_config(struct part_mgr *mgr);

/* Records an event (and its log line) about a move: kind "move-...". */
void part_mgr_move_note(struct part_mgr *mgr, bool failed, const char *kind, const char *partition,
                        const struct part_caller *caller, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
