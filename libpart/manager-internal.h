/* Internal: the partition manager's state and the functions its files
 * share. The manager is split by concept:
 *   manager.c            the object: open, close, locking, publishing, log and events
 *   manager-partitions.c define, undefine, activate, deactivate; profile files
 *   manager-reconcile.c  the model brought in line with the backend's domains
 *   manager-events.c     lifecycle events from the backend (sink and queue)
 *   manager-monitor.c    the manager's thread: samples, confirmations, reconnects
 *   manager-policy.c     plans, rebalancing and the policy in force
 *   manager-reload.c     re-reading the partitions directory (SIGHUP)
 *   manager-resize.c     the resize path: request, check, apply, changes
 *   manager-move.c       moves between CPCs: both sides (move.h)
 * Mutations run under mgr->lock: check everything, apply through the
 * backend, record what the backend confirmed, persist, publish a snapshot.
 * Nothing waits for a guest under it: a deactivation asks under the lock,
 * waits without it (the partition marked deactivating), and ends under it.
 * Readers (part_mgr_snapshot(), the plan, the policy) never take it. */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "part/events.h"
#include "part/manager.h"
#include "part/plan.h"
#include "part/policy.h"
#include "part/qemuaccess.h"
#include "part/resize.h"
#include "part/state.h"

struct mgr_event {
    char domain[PART_NAME_MAX];
    enum part_hv_event event;
};

struct part_mgr {
    pthread_mutex_t lock; /* the model, the backend connection, the files */
    struct part_config *cfg;
    struct part_hv *hv;
    struct part_hv_host host;
    struct part_cpc *cpc;
    struct part_qemu_user *qemu; /* whom guests' files must be reachable by, NULL: unchecked */
    part_log_fn log;
    void *log_opaque;

    pthread_mutex_t snap_lock; /* only the pointer swap */
    struct part_snapshot *snap;

    const struct part_hv_ops *ops; /* to reconnect with */
    struct mgr_sink *sink;         /* where the backend's callbacks land */
    double retry_at, backoff;      /* while disconnected: next attempt, its delay */
    struct part_events *events;
    struct part_policy policy;
    double last_plan;          /* monotonic seconds */
    uint64_t samples;          /* monitor samples taken (the snapshot's "sample") */
    uint64_t actions_applied;  /* rebalancer actions the backend took (or recorded) */
    bool stats_failing;        /* to log a failing bulk-stats call once */
    atomic_bool shutting_down; /* part_mgr_shutdown(): deactivations stop waiting */

    pthread_mutex_t ev_lock; /* the event queue and the thread's life */
    pthread_cond_t ev_cond;
    struct mgr_event queue[64]; /* lifecycle events waiting for the thread */
    size_t n_queued;
    bool stopping;
    _Atomic double alive; /* part_mgr_alive() */
    pthread_t thread;
    bool thread_started;
};

/* manager.c */
/* An API caller that did not say who it is (libpart's own tests), where
 * NULL would mean partd itself. */
extern const struct part_caller mgr_api_unknown;
void mgr_log(struct part_mgr *mgr, enum part_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Logs and records an event: every state change is both. */
void mgr_note(struct part_mgr *mgr, enum part_log_level level, const char *kind,
              const char *partition, const char *by, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* mgr_note() of a change the API asked for (by "api"): caller (may be NULL)
 * names who, in the event and the log line. */
void mgr_note_caller(struct part_mgr *mgr, enum part_log_level level, const char *kind,
                     const char *partition, const struct part_caller *caller, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
double mgr_wall_now(void);
/* The clock of samples, cooldowns and plans. */
double mgr_mono_now(void);
/* Publishes a new snapshot of the model; called with mgr->lock held. */
void mgr_publish(struct part_mgr *mgr);
/* Takes mgr->lock for a mutation, which needs the backend: -ENOTCONN
 * (lock not held) while it is disconnected. */
int mgr_lock_connected(struct part_mgr *mgr, struct part_error *err);
/* mgr_lock_connected(), then finds the partition named name into *ret:
 * -ENOENT (lock not held) when there is none, -EBUSY while it is being
 * deactivated (no other mutation may touch it then). */
int mgr_lock_partition(struct part_mgr *mgr, const char *name, struct part_partition **ret,
                       struct part_error *err);
void mgr_save_state(struct part_mgr *mgr);

/* manager-partitions.c */
/* Activation with mgr->lock held; caller says who asked, for the event:
 * the API's caller, or partd itself when NULL. */
int mgr_activate(struct part_mgr *mgr, struct part_partition *p, const struct part_caller *caller,
                 struct part_error *err);
/* Writes p to the partitions directory (atomically). */
int mgr_write_profile(struct part_mgr *mgr, const struct part_profile *p, struct part_error *err);

/* manager-reconcile.c */
/* Whether partd may manage d as p's domain: the administrator adopted it,
 * or partd defined it for p (its mark names p). */
bool mgr_domain_ours(const struct part_partition *p, const struct part_hv_domain *d);
/* Defines (or redefines) p's domain from its profile; -EEXIST, and
 * p->foreign, when a domain of its name exists that partd did not define. */
int mgr_define_domain(struct part_mgr *mgr, struct part_partition *p, struct part_error *err);
/* Undefines p's domain when partd defined it. An adopted or foreign domain
 * is released instead: left as it is. Returns 1 when released, 0 when
 * undefined (or already gone), or an error. */
int mgr_undefine_domain(struct part_mgr *mgr, struct part_partition *p, struct part_error *err);
void mgr_repin_shared(struct part_mgr *mgr);
void mgr_apply_weight_cap(struct part_mgr *mgr, struct part_partition *p);
int mgr_read_back(struct part_mgr *mgr, struct part_partition *p, uint64_t target,
                  struct part_error *err);
void mgr_confirm(struct part_mgr *mgr);
int mgr_reconcile_domain(struct part_mgr *mgr, struct part_partition *p,
                         const struct part_state *st);
void mgr_reconcile(struct part_mgr *mgr, struct part_partition *p, const struct part_state *st);
void mgr_disconnect(struct part_mgr *mgr, double now, const char *why);
void mgr_reconnect(struct part_mgr *mgr, double now);

/* manager-events.c */
/* Starts listening to the backend's lifecycle events. */
int mgr_events_listen(struct part_mgr *mgr, struct part_error *err);
/* No callback runs into mgr once this returns. */
void mgr_events_close(struct part_mgr *mgr);
void mgr_handle_event(struct part_mgr *mgr, const struct mgr_event *e);

/* manager-monitor.c */
/* The manager's thread: a tick every interval, lifecycle events as they come. */
void *mgr_thread(void *opaque);

/* manager-policy.c */
int mgr_policy_load(const struct part_config *cfg, const char *name, struct part_policy *ret,
                    struct part_error *err);
/* Makes and applies a plan when the policy is due (tick). */
void mgr_policy_tick(struct part_mgr *mgr, double now);

/* manager-move.c */
/* Reservations for moves here past their deadline: adopted when the guest
 * arrived, else released (monitor tick, under the lock). */
void mgr_move_expire(struct part_mgr *mgr, double now);
/* At start, before reconciling: the partitions the move records name are
 * moving out (reconcile neither defines nor starts them). */
void mgr_move_records(struct part_mgr *mgr);

/* manager-resize.c */
/* Records what the backend said (r, err) of running setting s of p. */
void mgr_record(struct part_partition *p, enum part_setting s, int r, const struct part_error *err);
/* One running change through the backend, listed in c; returns 0 unless it
 * failed. */
int mgr_resize_apply(struct part_mgr *mgr, struct part_partition *p, enum part_setting s, double to,
                     struct part_changes *c);
