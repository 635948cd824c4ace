/* The partition manager: the CPC model kept in step with the backend
 * (manager.h). This file holds the manager itself: opening (load, restore,
 * reconcile), closing, the lock, snapshots, the log and the event ring;
 * manager-internal.h lists the files that hold the rest. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "file.h"
#include "manager-internal.h"

const struct part_caller mgr_api_unknown = {.role = PART_ROLE_NONE, .uid = -1};

/* Passes a message on with what it is about: a message about one partition
 * begins with its name and ": ". */
static void mgr_log_about(struct part_mgr *mgr, enum part_log_level level,
                          struct part_log_about *about, const char *message)
{
    char name[PART_NAME_MAX];
    size_t n = strcspn(message, ":");
    if (!about->partition && message[n] == ':' && message[n + 1] == ' ' && n < sizeof(name)) {
        memcpy(name, message, n);
        name[n] = '\0';
        if (part_name_valid(name))
            about->partition = name;
    }
    mgr->log(level, about, message, mgr->log_opaque);
}

void mgr_log(struct part_mgr *mgr, enum part_log_level level, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    if (!mgr->log)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    mgr_log_about(mgr, level, &(struct part_log_about){0}, buf);
}

/* The event and the log line of mgr_note() and mgr_note_caller(). */
static void mgr_vnote(struct part_mgr *mgr, enum part_log_level level, const char *kind,
                      const char *partition, const char *by, const struct part_caller *caller,
                      const char *fmt, va_list ap)
{
    char buf[320], text[48], who[64] = "";
    vsnprintf(buf, sizeof(buf), fmt, ap);
    if (mgr->events)
        part_events_add(mgr->events, kind, partition, by, caller, "%s", buf);
    if (caller && caller->role != PART_ROLE_NONE) /* the log names who asked, as the event does */
        snprintf(who, sizeof(who), ": %s", part_caller_text(caller, text, sizeof(text)));
    if (!mgr->log)
        return;
    char line[1024];
    snprintf(line, sizeof(line), "%s%s%s (by %s%s)", partition ? partition : "",
             partition ? ": " : "", buf, by, who);
    mgr_log_about(mgr, level, &(struct part_log_about){partition, kind, by}, line);
}

void mgr_note(struct part_mgr *mgr, enum part_log_level level, const char *kind,
              const char *partition, const char *by, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mgr_vnote(mgr, level, kind, partition, by, NULL, fmt, ap);
    va_end(ap);
}

void mgr_note_caller(struct part_mgr *mgr, enum part_log_level level, const char *kind,
                     const char *partition, const struct part_caller *caller, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mgr_vnote(mgr, level, kind, partition, "api", caller, fmt, ap);
    va_end(ap);
}

double mgr_wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The clock of samples, cooldowns and plans. */
double mgr_mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Publishes a new snapshot of the model; called with mgr->lock held. */
void mgr_publish(struct part_mgr *mgr)
{
    struct part_snapshot_info info = {.uri = mgr->cfg->uri,
                                      .driver = mgr->host.driver,
                                      .version = mgr->host.version,
                                      .connected = mgr->hv != NULL,
                                      .policy = mgr->policy.name,
                                      .plan_policy = &mgr->policy,
                                      .actions_applied = mgr->actions_applied,
                                      .interval = mgr->cfg->interval,
                                      .sample = mgr->samples,
                                      .clock_offset = mgr_wall_now() - mgr_mono_now()};
    struct part_snapshot *s = part_snapshot_new(mgr->cpc, &info), *old;
    if (!s) {
        mgr_log(mgr, PART_LOG_ERROR, "out of memory: status not refreshed");
        return;
    }
    pthread_mutex_lock(&mgr->snap_lock);
    old = mgr->snap;
    mgr->snap = s;
    pthread_mutex_unlock(&mgr->snap_lock);
    part_snapshot_put(old);
}

/* Takes mgr->lock for a mutation, which needs the backend: -ENOTCONN
 * (lock not held) while it is disconnected. */
int mgr_lock_connected(struct part_mgr *mgr, struct part_error *err)
{
    pthread_mutex_lock(&mgr->lock);
    if (mgr->hv)
        return 0;
    pthread_mutex_unlock(&mgr->lock);
    return part_error_set(err, -ENOTCONN, "",
                          "the backend (%s) is disconnected; partd reconnects by itself",
                          mgr->cfg->uri);
}

/* mgr_lock_connected(), then finds the partition named name into *ret:
 * -ENOENT (lock not held) when there is none, -EBUSY while it is being
 * deactivated (no other mutation may touch it then). */
int mgr_lock_partition(struct part_mgr *mgr, const char *name, struct part_partition **ret,
                       struct part_error *err)
{
    int r = mgr_lock_connected(mgr, err);
    if (r < 0)
        return r;
    if (!(*ret = part_cpc_find(mgr->cpc, name))) {
        pthread_mutex_unlock(&mgr->lock);
        return part_error_set(err, -ENOENT, "", "no partition named %s", name);
    }
    if ((*ret)->move != PART_MOVE_NONE) { /* the move's alone until it ends */
        enum part_move_dir dir = (*ret)->move;
        pthread_mutex_unlock(&mgr->lock);
        return part_error_set(err, -EBUSY, "", "%s is %s", name,
                              dir == PART_MOVE_OUT ? "moving to another CPC"
                                                   : "reserved for a move from another CPC");
    }
    if ((*ret)->deactivating) { /* its deactivation waits for the guest */
        pthread_mutex_unlock(&mgr->lock);
        return part_error_set(err, -EBUSY, "",
                              "%s is being deactivated (partd waits for its guest to shut down)",
                              name);
    }
    return 0;
}

struct part_snapshot *part_mgr_snapshot(struct part_mgr *mgr)
{
    pthread_mutex_lock(&mgr->snap_lock);
    struct part_snapshot *s = part_snapshot_ref(mgr->snap);
    pthread_mutex_unlock(&mgr->snap_lock);
    return s;
}

/* From the snapshot, like every read: a reply after a mutation must not
 * wait for the lock that the next mutation may hold on a stalled backend. */
json_t *part_mgr_partition_json(struct part_mgr *mgr, const char *name)
{
    struct part_snapshot *s = part_mgr_snapshot(mgr);
    size_t len;
    const char *text = part_snapshot_partition_text(s, name, &len);
    json_t *j = text ? json_loadb(text, len, 0, NULL) : NULL;
    part_snapshot_put(s);
    return j;
}

void part_mgr_shutdown(struct part_mgr *mgr)
{
    atomic_store(&mgr->shutting_down, true);
}

void mgr_save_state(struct part_mgr *mgr)
{
    struct part_error err = {0};
    char buf[1024];
    if (part_state_save(mgr->cfg->state_dir, mgr->cpc, mgr->policy.name, &err) < 0)
        mgr_log(mgr, PART_LOG_ERROR, "state not saved: %s",
                part_error_format(&err, buf, sizeof(buf)));
}

struct part_events *part_mgr_events(struct part_mgr *mgr)
{
    return mgr->events;
}

/* Creates the directories partd writes (state 0700, partitions 0755) when
 * missing, and refuses them when partd's user does not own them or others
 * may write there: a planted link would turn a write into an overwrite of
 * any file. The directories of host paths are the administrator's: never
 * created, refused when someone else could swap their files. */
static int mgr_check_dirs(const struct part_config *cfg, struct part_error *err)
{
    const struct {
        const char *dir;
        unsigned mode;
    } dirs[] = {{cfg->state_dir, 0700}, {cfg->partitions_dir, 0755}};
    int r;

    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        if ((r = part_mkdir_p(dirs[i].dir, dirs[i].mode)) < 0) {
            part_error_set_file(err, dirs[i].dir);
            return part_error_set(err, r, "", "cannot create: %s", strerror(-r));
        }
        if ((r = part_dir_check_private(dirs[i].dir, err)) < 0)
            return r;
    }
    return part_hostpath_check_dirs(&cfg->paths, err);
}

/* Looks up QEMU's user (part_config_qemu_user()) once: a host without it
 * (another distribution's name, libvirt not installed) cannot be judged. */
static int mgr_qemu_user(struct part_mgr *mgr, struct part_error *err)
{
    const char *name = part_config_qemu_user(mgr->cfg);
    int r;

    if (!name || (r = part_qemu_user_lookup(name, &mgr->qemu, err)) > 0)
        return 0;
    if (r == 0)
        mgr_log(mgr, mgr->cfg->qemu_user ? PART_LOG_WARNING : PART_LOG_INFO,
                "qemu_user: no user %s on this host: whether QEMU can reach guests' files is "
                "not checked",
                name);
    return r;
}

/* Reads the partitions directory into the CPC: bad files and profiles that
 * cannot be defined are logged and left out. */
static int mgr_load_profiles(struct part_mgr *mgr, struct part_error *err)
{
    const struct part_config *cfg = mgr->cfg;
    struct part_profile **profiles = NULL;
    struct part_error *errors = NULL;
    size_t n = 0, n_errors = 0;
    char buf[1024];

    int stale =
        part_dir_remove_stale_tmp(cfg->partitions_dir) + part_dir_remove_stale_tmp(cfg->state_dir);
    if (stale)
        mgr_log(mgr, PART_LOG_INFO, "removed %d temporary files of an interrupted write", stale);
    int r = part_profiles_load_dir(cfg->partitions_dir, &cfg->paths, PART_HOSTPATH_CREATE_LOG,
                                   &profiles, &n, &errors, &n_errors, err);
    if (r < 0 && r != -EINVAL)
        return r;
    for (size_t i = 0; i < n_errors; i++)
        mgr_log(mgr, PART_LOG_ERROR, "%s (partition left out)",
                part_error_format(&errors[i], buf, sizeof(buf)));
    for (size_t i = 0; i < n; i++) {
        struct part_error de = {0};
        if (part_cpc_define(mgr->cpc, profiles[i], &de) < 0) {
            mgr_log(mgr, PART_LOG_ERROR, "%s/%s.json: %s (partition left out)", cfg->partitions_dir,
                    profiles[i]->name, de.message);
            part_profile_free(profiles[i]);
        }
        profiles[i] = NULL;
    }
    part_profiles_free(profiles, n);
    free(errors);
    return 0;
}

/* At start: every partition's domain defined or adopted, what partd kept
 * active re-activated (restore), and the state saved. */
static void mgr_restore(struct part_mgr *mgr, const struct part_state *st)
{
    for (size_t i = 0; i < mgr->cpc->n; i++)
        mgr_reconcile(mgr, mgr->cpc->parts[i], st);
    /* domains adopted as they ran were pinned to the pool of another
     * configuration, maybe: every shared partition follows this one's */
    mgr_repin_shared(mgr);
    for (size_t i = 0; i < st->n; i++)
        if (!part_cpc_find(mgr->cpc, st->entries[i].name))
            mgr_log(mgr, PART_LOG_WARNING, "%s: in the state file but has no profile; left alone",
                    st->entries[i].name);
    mgr_save_state(mgr);
}

int part_mgr_open(struct part_config *cfg, const struct part_hv_ops *ops, part_log_fn log,
                  void *log_opaque, struct part_mgr **ret, struct part_error *err)
{
    struct part_mgr *mgr = calloc(1, sizeof(*mgr));
    struct part_state st = {0};
    int r;

    if (!mgr)
        return part_error_oom(err);
    pthread_mutex_init(&mgr->lock, NULL);
    pthread_mutex_init(&mgr->snap_lock, NULL);
    pthread_mutex_init(&mgr->ev_lock, NULL);
    pthread_cond_init(&mgr->ev_cond, NULL);
    mgr->cfg = cfg;
    mgr->ops = ops;
    mgr->log = log;
    mgr->log_opaque = log_opaque;

    if ((r = part_hv_open(ops, cfg->uri, false, &mgr->hv, err)) < 0 ||
        (r = part_hv_host(mgr->hv, &mgr->host, err)) < 0 ||
        (r = part_cpc_new(mgr->host.cpus, mgr->host.memory, &cfg->cpc, &mgr->cpc, err)) < 0)
        goto fail;
    if ((r = mgr_check_dirs(cfg, err)) < 0 || (r = mgr_qemu_user(mgr, err)) < 0 ||
        (r = part_state_load(cfg->state_dir, &st, err)) < 0)
        goto fail; /* refuse to guess which partitions should run */
    if (!(mgr->events = part_events_new(1024))) {
        r = part_error_oom(err);
        goto fail;
    }
    /* the policy switched at run time outlives a restart */
    if ((r = mgr_policy_load(cfg, st.policy[0] ? st.policy : cfg->policy, &mgr->policy, err)) < 0 ||
        (r = mgr_load_profiles(mgr, err)) < 0)
        goto fail;
    mgr_move_records(mgr);
    mgr_restore(mgr, &st);
    mgr_publish(mgr);
    if (!mgr->snap) {
        r = part_error_oom(err);
        goto fail;
    }
    struct part_error ee = {0};
    if (mgr_events_listen(mgr, &ee) < 0)
        mgr_log(mgr, PART_LOG_WARNING, "no lifecycle events from the backend: %s", ee.message);
    if (pthread_create(&mgr->thread, NULL, mgr_thread, mgr) == 0)
        mgr->thread_started = true;
    part_state_clear(&st);
    *ret = mgr;
    return 0;
fail:
    part_state_clear(&st);
    mgr->cfg = NULL; /* not taken on failure */
    part_mgr_close(mgr);
    return r;
}

void part_mgr_close(struct part_mgr *mgr)
{
    if (!mgr)
        return;
    mgr_events_close(mgr); /* no callback runs into mgr from here on */
    pthread_mutex_lock(&mgr->ev_lock);
    mgr->stopping = true;
    pthread_cond_signal(&mgr->ev_cond);
    pthread_mutex_unlock(&mgr->ev_lock);
    if (mgr->thread_started)
        pthread_join(mgr->thread, NULL);
    part_hv_close(mgr->hv);
    part_cpc_free(mgr->cpc);
    part_qemu_user_free(mgr->qemu);
    part_snapshot_put(mgr->snap);
    part_events_free(mgr->events);
    part_config_free(mgr->cfg);
    pthread_mutex_destroy(&mgr->lock);
    pthread_mutex_destroy(&mgr->snap_lock);
    pthread_mutex_destroy(&mgr->ev_lock);
    pthread_cond_destroy(&mgr->ev_cond);
    free(mgr);
}
