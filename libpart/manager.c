/* The partition manager: the CPC model kept in step with the backend.
 * Mutations run under mgr->lock: check everything, apply through the
 * backend, record what the backend confirmed, persist, publish a snapshot.
 * Lifecycle events from the backend are queued by the event-loop thread and
 * handled by the manager's own thread, so that the backend's event loop
 * never waits on our lock. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "file.h"
#include "json.h"
#include "part/events.h"
#include "part/manager.h"
#include "part/plan.h"
#include "part/policy.h"
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
    part_log_fn log;
    void *log_opaque;

    pthread_mutex_t snap_lock; /* only the pointer swap */
    struct part_snapshot *snap;

    const struct part_hv_ops *ops; /* to reconnect with */
    struct mgr_sink *sink;         /* where the backend's callbacks land */
    double retry_at, backoff;      /* while disconnected: next attempt, its delay */
    struct part_events *events;
    struct part_policy policy;
    double last_plan;      /* monotonic seconds */
    uint64_t actions_applied; /* rebalancer actions the backend took (or recorded) */
    bool stats_failing;    /* to log a failing bulk-stats call once */

    pthread_mutex_t ev_lock; /* the event queue and the thread's life */
    pthread_cond_t ev_cond;
    struct mgr_event queue[64]; /* lifecycle events waiting for the thread */
    size_t n_queued;
    bool stopping;
    pthread_t thread;
    bool thread_started;
};

static void mgr_log(struct part_mgr *mgr, enum part_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void mgr_log(struct part_mgr *mgr, enum part_log_level level, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    if (!mgr->log)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    mgr->log(level, buf, mgr->log_opaque);
}

/* Logs and records an event: every state change is both. */
static void mgr_note(struct part_mgr *mgr, enum part_log_level level, const char *kind,
                     const char *partition, const char *by, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void mgr_note(struct part_mgr *mgr, enum part_log_level level, const char *kind,
                     const char *partition, const char *by, const char *fmt, ...)
{
    char buf[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (mgr->events)
        part_events_add(mgr->events, kind, partition, by, "%s", buf);
    mgr_log(mgr, level, "%s%s%s (by %s)", partition ? partition : "", partition ? ": " : "", buf,
            by);
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The clock of samples, cooldowns and plans. */
static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

const char *part_change_status_name(enum part_change_status s)
{
    static const char *const names[] = {
        [PART_CHANGE_APPLIED] = "applied",   [PART_CHANGE_UNSUPPORTED] = "unsupported",
        [PART_CHANGE_FAILED] = "failed",     [PART_CHANGE_SAVED] = "saved",
        [PART_CHANGE_NOT_TRIED] = "not-tried", [PART_CHANGE_UNCONFIRMED] = "unconfirmed",
    };
    return names[s];
}

/* Publishes a new snapshot of the model; called with mgr->lock held. */
static void mgr_publish(struct part_mgr *mgr)
{
    struct part_snapshot_info info = {
        .uri = mgr->cfg->uri,
        .driver = mgr->host.driver,
        .version = mgr->host.version,
        .connected = mgr->hv != NULL,
        .policy = mgr->policy.name,
        .actions_applied = mgr->actions_applied,
        .clock_offset = wall_now() - mono_now()};
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
static int mgr_lock_connected(struct part_mgr *mgr, struct part_error *err)
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
 * -ENOENT (lock not held) when there is none. */
static int mgr_lock_partition(struct part_mgr *mgr, const char *name, struct part_partition **ret,
                              struct part_error *err)
{
    int r = mgr_lock_connected(mgr, err);
    if (r < 0)
        return r;
    if ((*ret = part_cpc_find(mgr->cpc, name)))
        return 0;
    pthread_mutex_unlock(&mgr->lock);
    return part_error_set(err, -ENOENT, "", "no partition named %s", name);
}

struct part_snapshot *part_mgr_snapshot(struct part_mgr *mgr)
{
    pthread_mutex_lock(&mgr->snap_lock);
    struct part_snapshot *s = part_snapshot_ref(mgr->snap);
    pthread_mutex_unlock(&mgr->snap_lock);
    return s;
}

json_t *part_mgr_partition_json(struct part_mgr *mgr, const char *name)
{
    pthread_mutex_lock(&mgr->lock);
    struct part_partition *p = part_cpc_find(mgr->cpc, name);
    json_t *j = p ? part_snapshot_partition_json(mgr->cpc, p, wall_now() - mono_now()) : NULL;
    pthread_mutex_unlock(&mgr->lock);
    return j;
}

static void mgr_save_state(struct part_mgr *mgr)
{
    struct part_error err = {0};
    char buf[1024];
    if (part_state_save(mgr->cfg->state_dir, mgr->cpc, mgr->policy.name, &err) < 0)
        mgr_log(mgr, PART_LOG_ERROR, "state not saved: %s",
                part_error_format(&err, buf, sizeof(buf)));
}

/* Records what the backend said of a running setting. */
static void mgr_record(struct part_partition *p, enum part_setting s, int r,
                       const struct part_error *err)
{
    struct part_backend_status *b = &p->backend[s];
    b->status = r == 0              ? PART_APPLY_APPLIED
                : r == -EINPROGRESS ? PART_APPLY_UNCONFIRMED
                : r == -ENOTSUP     ? PART_APPLY_UNSUPPORTED
                                    : PART_APPLY_FAILED;
    snprintf(b->detail, sizeof(b->detail), "%s", r == 0 || !err ? "" : err->message);
}

/* Where p's processors may run: the pool for shared partitions, its own
 * CPUs for dedicated ones. buf has room for every host CPU. */
static struct part_placement mgr_placement(struct part_mgr *mgr, const struct part_partition *p,
                                           unsigned *buf)
{
    if (p->profile->mode == PART_MODE_DEDICATED)
        return (struct part_placement){.cpus = p->cpus, .n = p->active ? p->processors : 0};
    return (struct part_placement){.cpus = buf, .n = part_cpc_pool_cpus(mgr->cpc, buf)};
}

static int mgr_define_domain(struct part_mgr *mgr, struct part_partition *p, struct part_error *err)
{
    unsigned *buf = calloc(mgr->cpc->cpus + 1, sizeof(*buf));
    if (!buf)
        return -ENOMEM;
    struct part_placement pl = mgr_placement(mgr, p, buf);
    int r = part_hv_define(mgr->hv, p->profile, &pl, err);
    free(buf);
    if (r < 0 && err && strcmp(err->field, "domain.template") == 0)
        r = -EINVAL; /* the profile is at fault, not a missing resource */
    return r;
}

/* The shared pool changed (a dedicated partition took or gave back host
 * CPUs): the shared partitions' processors follow it, live and in their
 * definitions. A backend that cannot pin is left alone. */
static void mgr_repin_shared(struct part_mgr *mgr)
{
    unsigned *buf = calloc(mgr->cpc->cpus + 1, sizeof(*buf));
    if (!buf)
        return;
    for (size_t i = 0; i < mgr->cpc->n; i++) {
        struct part_partition *p = mgr->cpc->parts[i];
        struct part_error err = {0};
        if (!p->active || p->profile->mode != PART_MODE_SHARED)
            continue;
        struct part_placement pl = mgr_placement(mgr, p, buf);
        int r = part_hv_pin(mgr->hv, p->profile->domain_name, &pl, PART_HV_LIVE | PART_HV_CONFIG,
                            &err);
        if (r == -ENOTSUP)
            break; /* the same for every domain of this backend */
        if (r < 0)
            mgr_log(mgr, PART_LOG_WARNING, "%s: not moved to the new shared pool: %s",
                    p->profile->name, err.message);
    }
    free(buf);
}

/* Sends the running weight and cap to the backend and records the answer. */
static void mgr_apply_weight_cap(struct part_mgr *mgr, struct part_partition *p)
{
    struct part_error err = {0};
    if (p->profile->mode != PART_MODE_SHARED) {
        p->backend[PART_SET_WEIGHT].status = p->backend[PART_SET_CAP].status = PART_APPLY_NONE;
        return;
    }
    int r = part_hv_set_weight(mgr->hv, p->profile->domain_name, p->weight, PART_HV_LIVE, &err);
    mgr_record(p, PART_SET_WEIGHT, r, &err);
    part_error_clear(&err);
    r = part_hv_set_cap(mgr->hv, p->profile->domain_name, p->cap, PART_HV_LIVE, &err);
    mgr_record(p, PART_SET_CAP, r, &err);
}

/* Reads the running processors and memory back from the backend. */
/* Reads the running processors back from the backend. The memory target
 * is target (MiB, 0: what the domain reports): right after a start the
 * balloon is still at the domain's maximum and reaches the target later, so
 * the target stands, unconfirmed until the domain reports it (mgr_confirm). */
static int mgr_read_back(struct part_mgr *mgr, struct part_partition *p, uint64_t target,
                         struct part_error *err)
{
    struct part_hv_domain d;
    int r = part_hv_lookup(mgr->hv, p->profile->domain_name, &d, err);
    if (r < 0)
        return r;
    if (!target)
        target = d.memory;
    /* what the guest shows online, when its agent says; else what is plugged */
    part_cpc_set_running(mgr->cpc, p, d.vcpus_guest >= 0 ? (unsigned)d.vcpus_guest : d.vcpus,
                         target);
    p->backend[PART_SET_PROCESSORS].status = PART_APPLY_APPLIED;
    p->backend[PART_SET_MEMORY].status =
        d.memory == target ? PART_APPLY_APPLIED : PART_APPLY_UNCONFIRMED;
    snprintf(p->backend[PART_SET_MEMORY].detail, sizeof(p->backend[PART_SET_MEMORY].detail),
             d.memory == target ? "" : "%s: balloon at %llu MiB on its way to %llu MiB",
             p->profile->name, (unsigned long long)d.memory, (unsigned long long)target);
    return 0;
}

/* Activation with mgr->lock held; by says who asked, for the event. */
static int mgr_activate(struct part_mgr *mgr, struct part_partition *p, const char *by,
                        struct part_error *err)
{
    const struct part_profile *pp = p->profile;
    int r;

    if ((r = part_cpc_check_activate(mgr->cpc, p, err)) < 0)
        return r;
    if ((r = part_cpc_set_active(mgr->cpc, p, true)) < 0)
        return part_error_set(err, r, "", "%s: no free host CPUs to dedicate", pp->name);
    if (!pp->adopt) {
        r = mgr_define_domain(mgr, p, err);
    } else {
        r = part_hv_set_processors(mgr->hv, pp->domain_name, pp->proc_initial, PART_HV_CONFIG,
                                   err);
        if (r == 0)
            r = part_hv_set_memory(mgr->hv, pp->domain_name, pp->mem_initial, PART_HV_CONFIG,
                                   err);
    }
    if (r == 0)
        r = part_hv_activate(mgr->hv, pp->domain_name, err);
    if (r < 0) {
        part_cpc_set_active(mgr->cpc, p, false);
        return r;
    }
    struct part_error rb = {0};
    if (mgr_read_back(mgr, p, pp->mem_initial, &rb) < 0)
        mgr_log(mgr, PART_LOG_WARNING, "%s: started, but cannot read it back: %s", pp->name,
                rb.message);
    mgr_apply_weight_cap(mgr, p);
    if (p->history)
        part_history_break(p->history);
    mgr_note(mgr, PART_LOG_INFO, "activated", pp->name, by, "activated (%u processors, %llu MiB)",
             p->processors, (unsigned long long)p->memory);
    return 0;
}

int part_mgr_activate(struct part_mgr *mgr, const char *name, struct part_error *err)
{
    struct part_partition *p;
    int r = mgr_lock_partition(mgr, name, &p, err);
    if (r < 0)
        return r;
    r = mgr_activate(mgr, p, "api", err);
    if (r == 0 && p->profile->mode == PART_MODE_DEDICATED)
        mgr_repin_shared(mgr);
    if (r == 0) {
        mgr_save_state(mgr);
        mgr_publish(mgr);
    }
    pthread_mutex_unlock(&mgr->lock);
    return r;
}

int part_mgr_deactivate(struct part_mgr *mgr, const char *name, bool force, unsigned timeout_ms,
                        struct part_error *err)
{
    int r;
    struct part_partition *p;
    if ((r = mgr_lock_partition(mgr, name, &p, err)) < 0)
        return r;
    if (!p->active) {
        r = part_error_set(err, -EBUSY, "", "%s is not active", name);
        goto out;
    }
    r = part_hv_deactivate(mgr->hv, p->profile->domain_name, timeout_ms, force, err);
    if (r < 0)
        goto out;
    part_cpc_set_active(mgr->cpc, p, false);
    if (p->profile->mode == PART_MODE_DEDICATED)
        mgr_repin_shared(mgr);
    if (p->history)
        part_history_break(p->history);
    mgr_note(mgr, PART_LOG_INFO, "deactivated", name, "api", "deactivated%s",
             force ? " (forced)" : "");
    mgr_save_state(mgr);
    mgr_publish(mgr);
out:
    pthread_mutex_unlock(&mgr->lock);
    return r;
}

static char *mgr_profile_path(struct part_mgr *mgr, const char *name)
{
    char *path;
    if (asprintf(&path, "%s/%s.json", mgr->cfg->partitions_dir, name) < 0)
        return NULL;
    return path;
}

static int mgr_write_profile(struct part_mgr *mgr, const struct part_profile *p,
                             struct part_error *err)
{
    json_t *j = part_profile_to_json(p);
    char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL, *path = mgr_profile_path(mgr, p->name);
    int r = -ENOMEM;
    if (text && path) {
        size_t len = strlen(text);
        text[len] = '\0';
        char *nl = realloc(text, len + 2); /* files end with a newline */
        if (nl) {
            text = nl;
            strcpy(text + len, "\n");
            r = part_file_write_atomic(path, text, len + 1, 0644, err);
        }
    }
    json_decref(j);
    free(text);
    free(path);
    return r;
}

int part_mgr_define(struct part_mgr *mgr, const char *text, size_t len, char ret_name[PART_NAME_MAX],
                    struct part_error *err)
{
    struct part_profile *p = NULL;
    struct part_hv_domain d;
    int r;

    if ((r = part_profile_parse(text, len, NULL, &p, err)) < 0)
        return r;
    /* a body's relative paths mean what they would in its file */
    if ((r = part_profile_resolve_paths(p, mgr->cfg->partitions_dir)) < 0) {
        part_profile_free(p);
        return r;
    }
    if ((r = mgr_lock_connected(mgr, err)) < 0) {
        part_profile_free(p);
        return r;
    }
    if ((r = part_cpc_define(mgr->cpc, p, err)) < 0) {
        part_profile_free(p);
        goto out;
    }
    struct part_partition *part = part_cpc_find(mgr->cpc, p->name);
    if (p->adopt) {
        r = part_hv_lookup(mgr->hv, p->domain_name, &d, err);
        if (r == -ENOENT)
            r = part_error_set(err, -EINVAL, "domain.adopt", "domain.adopt: no domain named %s",
                               p->domain_name);
    } else {
        r = mgr_define_domain(mgr, part, err);
    }
    if (r == 0 && (r = mgr_write_profile(mgr, p, err)) < 0 && !p->adopt)
        part_hv_undefine(mgr->hv, p->domain_name, NULL);
    if (r < 0) {
        part_cpc_undefine(mgr->cpc, p->name, NULL);
        goto out;
    }
    if (ret_name)
        snprintf(ret_name, PART_NAME_MAX, "%s", p->name);
    mgr_note(mgr, PART_LOG_INFO, "defined", p->name, "api", "defined");
    mgr_save_state(mgr);
    mgr_publish(mgr);
out:
    pthread_mutex_unlock(&mgr->lock);
    return r;
}

int part_mgr_undefine(struct part_mgr *mgr, const char *name, struct part_error *err)
{
    int r;
    struct part_partition *p;
    if ((r = mgr_lock_partition(mgr, name, &p, err)) < 0)
        return r;
    if (p->active) {
        r = part_error_set(err, -EBUSY, "", "%s is active; deactivate it first", name);
        goto out;
    }
    if (!p->profile->adopt) {
        r = part_hv_undefine(mgr->hv, p->profile->domain_name, err);
        if (r < 0 && r != -ENOENT)
            goto out;
    }
    char *path = mgr_profile_path(mgr, name);
    if (path && unlink(path) < 0 && errno != ENOENT) {
        r = part_error_set(err, -errno, "", "%s: domain undefined, but %s stays: %s", name, path,
                           strerror(errno));
        free(path);
        goto out;
    }
    free(path);
    r = part_cpc_undefine(mgr->cpc, name, err);
    mgr_note(mgr, PART_LOG_INFO, "undefined", name, "api", "undefined");
    mgr_save_state(mgr);
    mgr_publish(mgr);
out:
    pthread_mutex_unlock(&mgr->lock);
    return r;
}

static struct part_change *change_add(struct part_changes *c, const char *field,
                                      enum part_scope scope, double from, double to)
{
    struct part_change *ch = &c->items[c->n++];
    *ch = (struct part_change){.field = field, .scope = scope, .from = from, .to = to};
    return ch;
}

/* Checks a resize request against the partition; nothing is applied. */
static int resize_check(struct part_mgr *mgr, struct part_partition *p,
                        const struct part_resize *req, struct part_profile *next,
                        struct part_error *err)
{
    const struct part_profile *pp = p->profile;
    bool running = req->scope & PART_SCOPE_RUNNING, profile = req->scope & PART_SCOPE_PROFILE;
    int r;

    if (req->scope == PART_SCOPE_RUNNING && !p->active)
        return part_error_set(err, -EBUSY, "scope",
                              "%s is inactive: scope running needs an active partition", pp->name);
    if (req->scope == PART_SCOPE_RUNNING && (req->has_weight_min || req->has_weight_max))
        return part_error_set(err, -EINVAL, req->has_weight_min ? "weight_min" : "weight_max",
                              "%s: weight bounds are profile settings; use scope profile or both",
                              req->has_weight_min ? "weight_min" : "weight_max");
    if (pp->mode == PART_MODE_DEDICATED &&
        (req->has_weight || req->has_weight_min || req->has_weight_max || req->has_cap))
        return part_error_set(err, -EINVAL, req->has_cap ? "cap" : "weight",
                              "%s: dedicated partitions have no weight or cap",
                              req->has_cap ? "cap" : "weight");
    unsigned wmin = req->has_weight_min ? req->weight_min : pp->weight_min;
    unsigned wmax = req->has_weight_max ? req->weight_max : pp->weight_max;
    if (wmin > wmax)
        return part_error_set(err, -EINVAL, "weight_min", "weight_min (%u) exceeds weight_max (%u)",
                              wmin, wmax);
    if (req->has_weight && (req->weight < wmin || req->weight > wmax))
        return part_error_set(err, -ERANGE, "weight", "weight (%u) is outside %u-%u", req->weight,
                              wmin, wmax);
    if (running && p->active) {
        unsigned procs = req->has_processors ? req->processors : p->processors;
        uint64_t mem = req->has_memory ? req->memory : p->memory;
        if ((r = part_cpc_check_resize(mgr->cpc, p, procs, mem, err)) < 0)
            return r;
    }
    /* new bounds apply at once (the policy works within them): the running
     * weight must end up inside them too */
    if (p->active && profile && p->profile->mode == PART_MODE_SHARED) {
        unsigned w = running && req->has_weight ? req->weight : p->weight;
        if (w < wmin || w > wmax)
            return part_error_set(err, -ERANGE, "weight",
                                  "the running weight (%u) would be outside %u-%u: give a weight "
                                  "with scope both",
                                  w, wmin, wmax);
    }
    if (profile) {
        if (req->has_processors)
            next->proc_initial = req->processors;
        if (req->has_memory)
            next->mem_initial = req->memory;
        if (req->has_weight)
            next->weight_initial = req->weight;
        next->weight_min = wmin;
        next->weight_max = wmax;
        if (next->weight_initial < wmin || next->weight_initial > wmax)
            return part_error_set(err, -ERANGE, "weight",
                                  "weight.initial (%u) would be outside %u-%u: give a weight",
                                  next->weight_initial, wmin, wmax);
        if (req->has_cap)
            next->cap = req->cap;
        if ((r = part_profile_validate(next, err)) < 0 ||
            (r = part_cpc_check_profile(mgr->cpc, p, next, err)) < 0) {
            /* name the request's field, not the profile's (processors.min) */
            static const char *const fields[] = {"processors", "memory", "weight", "cap"};
            for (size_t i = 0; err && i < sizeof(fields) / sizeof(fields[0]); i++)
                if (strncmp(err->field, fields[i], strlen(fields[i])) == 0)
                    snprintf(err->field, sizeof(err->field), "%s", fields[i]);
            return r == -EINVAL ? -ERANGE : r;
        }
    }
    return 0;
}

/* One running change through the backend; returns 0 unless it failed. */
static int resize_apply(struct part_mgr *mgr, struct part_partition *p, enum part_setting s,
                        double to, struct part_changes *c)
{
    static const char *const fields[] = {"processors", "memory", "weight", "cap"};
    const char *dom = p->profile->domain_name;
    double from = s == PART_SET_PROCESSORS ? p->processors
                  : s == PART_SET_MEMORY   ? (double)p->memory
                  : s == PART_SET_WEIGHT   ? p->weight
                                           : p->cap;
    struct part_error err = {0};
    int r;

    struct part_change *ch = change_add(c, fields[s], PART_SCOPE_RUNNING, from, to);
    /* accepted but not yet seen done counts as the new running value,
     * marked unconfirmed until the monitor sees it (mgr_confirm) */
    bool taken;
    switch (s) {
    case PART_SET_PROCESSORS:
        r = part_hv_set_processors(mgr->hv, dom, (unsigned)to,
                                   PART_HV_LIVE | (p->profile->guest_agent ? PART_HV_GUEST : 0),
                                   &err);
        if ((taken = r == 0 || r == -EINPROGRESS))
            part_cpc_set_running(mgr->cpc, p, (unsigned)to, p->memory);
        break;
    case PART_SET_MEMORY:
        r = part_hv_set_memory(mgr->hv, dom, (uint64_t)to, PART_HV_LIVE, &err);
        if ((taken = r == 0 || r == -EINPROGRESS))
            part_cpc_set_running(mgr->cpc, p, p->processors, (uint64_t)to);
        break;
    case PART_SET_WEIGHT:
        /* the backend cannot enforce it: partd's value stands, shown so */
        r = part_hv_set_weight(mgr->hv, dom, (unsigned)to, PART_HV_LIVE, &err);
        if ((taken = r == 0 || r == -ENOTSUP))
            p->weight = (unsigned)to;
        break;
    default:
        r = part_hv_set_cap(mgr->hv, dom, to, PART_HV_LIVE, &err);
        if ((taken = r == 0 || r == -ENOTSUP))
            p->cap = to;
        break;
    }
    if (taken) {
        mgr_record(p, s, r, &err);
        p->changed_at[s] = mono_now();
    }
    ch->status = !taken             ? PART_CHANGE_FAILED
                 : r == 0           ? PART_CHANGE_APPLIED
                 : r == -EINPROGRESS ? PART_CHANGE_UNCONFIRMED
                                    : PART_CHANGE_UNSUPPORTED;
    snprintf(ch->detail, sizeof(ch->detail), "%s", r == 0 ? "" : err.message);
    part_cpc_compute(mgr->cpc);
    /* a change the backend cannot make at all is not a backend failure */
    return taken ? 0 : r == -ENOTSUP ? -ENOTSUP : -EIO;
}

/* Confirms running values that were accepted but not yet seen done: the
 * balloon reached its target, the guest shows its processors. */
static void mgr_confirm(struct part_mgr *mgr)
{
    for (size_t i = 0; i < mgr->cpc->n; i++) {
        struct part_partition *p = mgr->cpc->parts[i];
        struct part_hv_domain d;
        if (!p->active || (p->backend[PART_SET_PROCESSORS].status != PART_APPLY_UNCONFIRMED &&
                           p->backend[PART_SET_MEMORY].status != PART_APPLY_UNCONFIRMED))
            continue;
        if (part_hv_lookup(mgr->hv, p->profile->domain_name, &d, NULL) < 0)
            continue;
        unsigned seen = d.vcpus_guest >= 0 ? (unsigned)d.vcpus_guest : d.vcpus;
        if (p->backend[PART_SET_PROCESSORS].status == PART_APPLY_UNCONFIRMED &&
            seen == p->processors) {
            mgr_record(p, PART_SET_PROCESSORS, 0, NULL);
            mgr_note(mgr, PART_LOG_INFO, "confirmed", p->profile->name, "backend",
                     "%u processors online", seen);
        }
        if (p->backend[PART_SET_MEMORY].status == PART_APPLY_UNCONFIRMED &&
            d.memory == p->memory) {
            mgr_record(p, PART_SET_MEMORY, 0, NULL);
            mgr_note(mgr, PART_LOG_INFO, "confirmed", p->profile->name, "backend",
                     "memory at %llu MiB", (unsigned long long)d.memory);
        }
    }
}

int part_mgr_resize(struct part_mgr *mgr, const char *name, const struct part_resize *req,
                    struct part_changes *c, struct part_error *err)
{
    struct part_profile *next = NULL;
    int r = 0;

    c->n = 0;
    struct part_partition *p;
    if ((r = mgr_lock_partition(mgr, name, &p, err)) < 0)
        return r;
    if (!(next = part_profile_dup(p->profile))) {
        r = -ENOMEM;
        goto out;
    }
    if ((r = resize_check(mgr, p, req, next, err)) < 0)
        goto out;

    if ((req->scope & PART_SCOPE_RUNNING) && p->active) {
        struct {
            bool want;
            enum part_setting s;
            double to, now;
        } todo[] = {
            {req->has_processors, PART_SET_PROCESSORS, req->processors, p->processors},
            {req->has_memory, PART_SET_MEMORY, (double)req->memory, (double)p->memory},
            {req->has_weight, PART_SET_WEIGHT, req->weight, p->weight},
            {req->has_cap, PART_SET_CAP, req->cap, p->cap},
        };
        for (size_t i = 0; i < sizeof(todo) / sizeof(todo[0]); i++) {
            if (!todo[i].want || todo[i].to == todo[i].now)
                continue;
            if (r < 0) { /* an earlier change failed: say what was not tried */
                change_add(c, (const char *[]){"processors", "memory", "weight", "cap"}[todo[i].s],
                           PART_SCOPE_RUNNING, todo[i].now, todo[i].to)
                    ->status = PART_CHANGE_NOT_TRIED;
                continue;
            }
            r = resize_apply(mgr, p, todo[i].s, todo[i].to, c);
        }
        mgr_save_state(mgr);
    }
    if ((req->scope & PART_SCOPE_PROFILE) && r == 0) {
        const struct part_profile *old = p->profile;
        struct {
            bool want;
            const char *field;
            double from, to;
        } saved[] = {
            {req->has_processors, "processors", old->proc_initial, next->proc_initial},
            {req->has_memory, "memory", (double)old->mem_initial, (double)next->mem_initial},
            {req->has_weight, "weight", old->weight_initial, next->weight_initial},
            {req->has_weight_min, "weight_min", old->weight_min, next->weight_min},
            {req->has_weight_max, "weight_max", old->weight_max, next->weight_max},
            {req->has_cap, "cap", old->cap, next->cap},
        };
        size_t before = c->n;
        for (size_t i = 0; i < sizeof(saved) / sizeof(saved[0]); i++)
            if (saved[i].want && saved[i].from != saved[i].to) /* a no-op is no change */
                change_add(c, saved[i].field, PART_SCOPE_PROFILE, saved[i].from, saved[i].to)
                    ->status = PART_CHANGE_SAVED;
        if (c->n > before) {
            if ((r = mgr_write_profile(mgr, next, err)) < 0) {
                c->n = before;
                goto out;
            }
            if ((r = part_cpc_replace_profile(mgr->cpc, p, next, err)) < 0)
                goto out;
            next = NULL;
        }
    } else if ((req->scope & PART_SCOPE_PROFILE) && r < 0) {
        part_error_set(err, r, "", "%s: a running change failed; the profile was not changed",
                       name);
    }
    if (r < 0 && c->n)
        part_error_set(err, r, err->field, "%s: not every change was applied; see changes", name);
    char what[256] = "";
    for (size_t i = 0; i < c->n && strlen(what) < sizeof(what) - 64; i++)
    {
        char from[32], to[32];
        bool cap = strcmp(c->items[i].field, "cap") == 0;
        snprintf(from, sizeof(from), "%g", c->items[i].from);
        snprintf(to, sizeof(to), "%g", c->items[i].to);
        snprintf(what + strlen(what), sizeof(what) - strlen(what), "%s%s %s %s->%s %s",
                 i ? "; " : "", c->items[i].scope == PART_SCOPE_RUNNING ? "running" : "profile",
                 c->items[i].field, cap && c->items[i].from == PART_CAP_NONE ? "none" : from,
                 cap && c->items[i].to == PART_CAP_NONE ? "none" : to,
                 part_change_status_name(c->items[i].status));
    }
    if (c->n) /* a request that changed nothing is no event */
        mgr_note(mgr, r < 0 ? PART_LOG_WARNING : PART_LOG_INFO, "resized", name, "api", "%s",
                 what);
    mgr_publish(mgr);
out:
    part_profile_free(next);
    pthread_mutex_unlock(&mgr->lock);
    return r;
}

/* From the backend's event-loop thread: queue, and wake the manager. */
/*
 * libvirt may still be calling back while (or just after) the manager is
 * closed, and gives no point after which it will not. Its callbacks
 * therefore reach the manager through a sink that closing empties under
 * the sink's lock, and that is never freed: one per manager, kept on a list
 * so that it stays reachable.
 */
struct mgr_sink {
    pthread_mutex_t lock;
    struct part_mgr *mgr; /* NULL once the manager is closed */
    struct mgr_sink *next;
};

static pthread_mutex_t sinks_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mgr_sink *sinks;

static struct mgr_sink *mgr_sink_new(struct part_mgr *mgr)
{
    struct mgr_sink *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    pthread_mutex_init(&s->lock, NULL);
    s->mgr = mgr;
    pthread_mutex_lock(&sinks_lock);
    s->next = sinks;
    sinks = s;
    pthread_mutex_unlock(&sinks_lock);
    return s;
}

static void mgr_queue_event(struct part_mgr *mgr, const char *domain, enum part_hv_event event);

static void mgr_on_event(const char *domain, enum part_hv_event event, void *opaque)
{
    struct mgr_sink *s = opaque;
    pthread_mutex_lock(&s->lock);
    if (s->mgr)
        mgr_queue_event(s->mgr, domain, event);
    pthread_mutex_unlock(&s->lock);
}

static void mgr_queue_event(struct part_mgr *mgr, const char *domain, enum part_hv_event event)
{
    if (event != PART_HV_EVENT_STARTED && event != PART_HV_EVENT_STOPPED)
        return;
    pthread_mutex_lock(&mgr->ev_lock);
    if (mgr->n_queued < sizeof(mgr->queue) / sizeof(mgr->queue[0])) {
        struct mgr_event *e = &mgr->queue[mgr->n_queued++];
        snprintf(e->domain, sizeof(e->domain), "%s", domain);
        e->event = event;
    }
    pthread_cond_signal(&mgr->ev_cond);
    pthread_mutex_unlock(&mgr->ev_lock);
}

/* A domain started or stopped outside partd (or by partd itself: then the
 * model already agrees and nothing changes). */
static void mgr_handle_event(struct part_mgr *mgr, const struct mgr_event *e)
{
    struct part_partition *p = NULL;
    for (size_t i = 0; i < mgr->cpc->n && !p; i++)
        if (strcmp(mgr->cpc->parts[i]->profile->domain_name, e->domain) == 0)
            p = mgr->cpc->parts[i];
    if (!p)
        return;
    if (e->event == PART_HV_EVENT_STOPPED && p->active) {
        struct part_hv_domain d;
        if (part_hv_lookup(mgr->hv, e->domain, &d, NULL) == 0 && d.active)
            return; /* restarted since */
        part_cpc_set_active(mgr->cpc, p, false);
        if (p->history)
            part_history_break(p->history);
        mgr_note(mgr, PART_LOG_WARNING, "stopped", p->profile->name, "backend",
                 "domain %s stopped outside partd", e->domain);
    } else if (e->event == PART_HV_EVENT_STARTED && !p->active) {
        part_cpc_set_active(mgr->cpc, p, true);
        mgr_read_back(mgr, p, 0, NULL);
        mgr_apply_weight_cap(mgr, p);
        mgr_note(mgr, PART_LOG_WARNING, "started", p->profile->name, "backend",
                 "domain %s started outside partd", e->domain);
    } else {
        return;
    }
    mgr_save_state(mgr);
    mgr_publish(mgr);
}

/* One bulk-stats sample of every active partition into its history. The
 * records are matched to partitions through a sorted index of domain names:
 * a thousand domains must not cost a million comparisons. */
struct sample_ctx {
    struct part_mgr *mgr;
    double t;
    struct part_partition **by_domain; /* active partitions sorted by domain name */
    size_t n;
};

static int by_domain_cmp(const void *a, const void *b)
{
    const struct part_partition *const *x = a, *const *y = b;
    return strcmp((*x)->profile->domain_name, (*y)->profile->domain_name);
}

static int domain_key_cmp(const void *key, const void *elem)
{
    const struct part_partition *const *p = elem;
    return strcmp(key, (*p)->profile->domain_name);
}

static void mgr_on_stats(const struct part_hv_stats *st, void *opaque)
{
    struct sample_ctx *ctx = opaque;
    struct part_partition **found =
        bsearch(st->name, ctx->by_domain, ctx->n, sizeof(*ctx->by_domain), domain_key_cmp);
    if (!found)
        return;
    struct part_partition *p = *found;
    if (!p->history) {
        if (!(p->history = calloc(1, sizeof(*p->history))))
            return;
        part_history_set_window(p->history, ctx->mgr->policy.dc_window);
    }
    /* online is partd's count: vCPUs the guest offlined stay plugged */
    part_history_add(p->history, ctx->t, st->active && st->has_cpu_time, st->cpu_time_ns,
                     st->vcpus && st->vcpus < p->processors ? st->vcpus : p->processors,
                     st->has_balloon_guest,
                     st->balloon_current / 1024, st->balloon_available / 1024,
                     st->balloon_unused / 1024);
}

static void mgr_sample(struct part_mgr *mgr, double now)
{
    const char **names = calloc(mgr->cpc->n + 1, sizeof(*names));
    struct part_partition **by_domain = calloc(mgr->cpc->n + 1, sizeof(*by_domain));
    struct part_error err = {0};
    size_t n = 0;

    if (!names || !by_domain)
        goto out;
    for (size_t i = 0; i < mgr->cpc->n; i++)
        if (mgr->cpc->parts[i]->active) {
            by_domain[n] = mgr->cpc->parts[i];
            names[n++] = mgr->cpc->parts[i]->profile->domain_name;
        }
    qsort(by_domain, n, sizeof(*by_domain), by_domain_cmp);
    struct sample_ctx ctx = {.mgr = mgr, .t = now, .by_domain = by_domain, .n = n};
    int r = n ? part_hv_stats(mgr->hv, names, n, mgr_on_stats, &ctx, &err) : 0;
    if (r < 0) {
        /* no fresh numbers: the next sample must not make a rate across the gap */
        for (size_t i = 0; i < mgr->cpc->n; i++)
            if (mgr->cpc->parts[i]->history)
                part_history_break(mgr->cpc->parts[i]->history);
        if (!mgr->stats_failing)
            mgr_log(mgr, PART_LOG_WARNING, "statistics unavailable: %s", err.message);
    } else if (mgr->stats_failing) {
        mgr_log(mgr, PART_LOG_INFO, "statistics available again");
    }
    mgr->stats_failing = r < 0;
out:
    free(names);
    free(by_domain);
}

/* Applies plan's actions through the backend, one at a time, recording each
 * result in *ret (an array like part_plan_to_json()'s, with "status" and
 * "detail"). Called with mgr->lock held. */
static void mgr_apply_plan(struct part_mgr *mgr, const struct part_plan *plan, const char *by,
                           json_t *ret)
{
    json_t *described = ret ? part_plan_to_json(plan) : NULL;
    for (size_t i = 0; i < plan->n; i++) {
        const struct part_action *a = &plan->actions[i];
        struct part_partition *p = part_cpc_find(mgr->cpc, a->partition);
        struct part_changes c = {0};
        enum part_change_status status = PART_CHANGE_FAILED;
        const char *detail = "the partition is no longer active";

        if (p && p->active) {
            resize_apply(mgr, p, a->setting, a->to, &c);
            status = c.items[0].status;
            detail = c.items[0].detail;
            if (a->dc && status != PART_CHANGE_FAILED)
                p->dc_capped = a->to != p->profile->cap;
            if (status != PART_CHANGE_FAILED)
                mgr->actions_applied++;
        }
        mgr_note(mgr, status == PART_CHANGE_FAILED ? PART_LOG_WARNING : PART_LOG_INFO,
                 "rebalanced", a->partition, by, "%s [%s%s%s]", a->reason,
                 part_change_status_name(status), detail[0] ? ": " : "", detail);
        json_t *j = json_array_get(described, i); /* the plan's own rendering */
        if (j) {
            json_object_set_new(j, "status", json_string(part_change_status_name(status)));
            json_object_set_new(j, "detail", json_string(detail));
            json_array_append(ret, j);
        }
    }
    json_decref(described);
    if (plan->n)
        mgr_save_state(mgr);
}

static bool policy_acts(const struct part_policy *p)
{
    return p->weights || p->processors || p->memory || p->defined_capacity;
}

static void mgr_on_event(const char *domain, enum part_hv_event event, void *opaque);
static int mgr_reconcile_domain(struct part_mgr *mgr, struct part_partition *p,
                                const struct part_state *st);

/* The backend stopped answering: drop the connection, keep serving the last
 * snapshot (marked disconnected), and retry with backoff. */
static void mgr_disconnect(struct part_mgr *mgr, double now, const char *why)
{
    part_hv_close(mgr->hv);
    mgr->hv = NULL;
    mgr->backoff = 1;
    mgr->retry_at = now + mgr->backoff;
    for (size_t i = 0; i < mgr->cpc->n; i++)
        if (mgr->cpc->parts[i]->history)
            part_history_break(mgr->cpc->parts[i]->history);
    mgr_note(mgr, PART_LOG_ERROR, "disconnected", NULL, "backend",
             "lost the backend %s (%s); retrying", mgr->cfg->uri, why);
}

/* One attempt to reconnect; on success the model is brought in line with
 * what runs (domains keep running while libvirtd is away). */
static void mgr_reconnect(struct part_mgr *mgr, double now)
{
    struct part_error err = {0};
    struct part_hv *hv = NULL;
    struct part_hv_host host;

    if (part_hv_open(mgr->ops, mgr->cfg->uri, false, &hv, &err) < 0 ||
        part_hv_host(hv, &host, &err) < 0) {
        part_hv_close(hv);
        mgr->backoff = mgr->backoff * 2 > 30 ? 30 : mgr->backoff * 2;
        mgr->retry_at = now + mgr->backoff;
        mgr_log(mgr, PART_LOG_DEBUG, "reconnect failed (%s); next in %.0f s", err.message,
                mgr->backoff);
        return;
    }
    mgr->hv = hv;
    mgr->host = host;
    part_hv_events(mgr->hv, mgr_on_event, mgr->sink, NULL);
    /* the model as it was is the state to restore: weights and caps stand */
    struct part_state st = {.entries = calloc(mgr->cpc->n + 1, sizeof(*st.entries))};
    for (size_t i = 0; st.entries && i < mgr->cpc->n; i++) {
        const struct part_partition *p = mgr->cpc->parts[i];
        struct part_state_entry *e = &st.entries[st.n++];
        snprintf(e->name, sizeof(e->name), "%s", p->profile->name);
        e->active = p->active;
        e->weight = p->weight;
        e->cap = p->cap;
    }
    for (size_t i = 0; i < mgr->cpc->n; i++) {
        struct part_partition *p = mgr->cpc->parts[i];
        bool was = p->active;
        p->active = false; /* let the domain say */
        part_cpc_compute(mgr->cpc);
        if (mgr_reconcile_domain(mgr, p, &st) != 1 && was)
            mgr_note(mgr, PART_LOG_WARNING, "stopped", p->profile->name, "backend",
                     "its domain stopped while the backend was away");
    }
    part_state_clear(&st);
    mgr_repin_shared(mgr);
    mgr_save_state(mgr);
    mgr_note(mgr, PART_LOG_INFO, "connected", NULL, "backend", "backend %s is back",
             mgr->cfg->uri);
}

/* Every interval: sample; every policy interval: plan and apply. */
static void mgr_tick(struct part_mgr *mgr)
{
    double now = mono_now();
    pthread_mutex_lock(&mgr->lock);
    if (!mgr->hv) {
        if (now >= mgr->retry_at)
            mgr_reconnect(mgr, now);
        if (!mgr->hv) {
            mgr_publish(mgr);
            pthread_mutex_unlock(&mgr->lock);
            return;
        }
    }
    mgr_sample(mgr, now);
    mgr_confirm(mgr);
    if (mgr->stats_failing) {
        /* statistics failing may be the connection: ask something simple */
        struct part_hv_host host;
        struct part_error err = {0};
        if (part_hv_host(mgr->hv, &host, &err) < 0) {
            mgr_disconnect(mgr, now, err.message);
            mgr_publish(mgr);
            pthread_mutex_unlock(&mgr->lock);
            return;
        }
    }
    if (policy_acts(&mgr->policy) && now - mgr->last_plan >= mgr->policy.interval - 1e-3) {
        struct part_plan plan = {0};
        struct part_error err = {0};
        mgr->last_plan = now;
        if (part_plan_make(mgr->cpc, &mgr->policy, now, &plan, &err) < 0)
            mgr_note(mgr, PART_LOG_ERROR, "plan-refused", NULL, "policy",
                     "plan refused: %s", err.message);
        else
            mgr_apply_plan(mgr, &plan, "policy", NULL);
        part_plan_clear(&plan);
    }
    mgr_publish(mgr);
    pthread_mutex_unlock(&mgr->lock);
}

static void *mgr_thread(void *opaque)
{
    struct part_mgr *mgr = opaque;
    double next = mono_now() + mgr->cfg->interval;

    pthread_mutex_lock(&mgr->ev_lock);
    while (!mgr->stopping) {
        if (mgr->n_queued == 0) {
            double now = mono_now();
            if (now >= next) {
                pthread_mutex_unlock(&mgr->ev_lock);
                mgr_tick(mgr);
                pthread_mutex_lock(&mgr->ev_lock);
                next += mgr->cfg->interval;
                if (next < now) /* a long stall: do not catch up in a burst */
                    next = now + mgr->cfg->interval;
                continue;
            }
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts); /* the condition variable's clock */
            double wait = next - now, at = (double)ts.tv_sec + ts.tv_nsec / 1e9 + wait;
            ts.tv_sec = (time_t)at;
            ts.tv_nsec = (long)((at - (double)ts.tv_sec) * 1e9);
            pthread_cond_timedwait(&mgr->ev_cond, &mgr->ev_lock, &ts);
            continue;
        }
        struct mgr_event e = mgr->queue[0];
        memmove(&mgr->queue[0], &mgr->queue[1], --mgr->n_queued * sizeof(e));
        pthread_mutex_unlock(&mgr->ev_lock);
        pthread_mutex_lock(&mgr->lock);
        mgr_handle_event(mgr, &e);
        pthread_mutex_unlock(&mgr->lock);
        pthread_mutex_lock(&mgr->ev_lock);
    }
    pthread_mutex_unlock(&mgr->ev_lock);
    return NULL;
}

int part_mgr_plan(struct part_mgr *mgr, json_t **ret, struct part_error *err)
{
    struct part_plan plan = {0};
    pthread_mutex_lock(&mgr->lock);
    int r = part_plan_make(mgr->cpc, &mgr->policy, mono_now(), &plan, err);
    if (r == 0) {
        *ret = json_pack("{s:s, s:o}", "policy", mgr->policy.name, "actions",
                         part_plan_to_json(&plan));
        r = *ret ? 0 : -ENOMEM;
    }
    pthread_mutex_unlock(&mgr->lock);
    part_plan_clear(&plan);
    return r;
}

int part_mgr_rebalance(struct part_mgr *mgr, json_t **ret, struct part_error *err)
{
    struct part_plan plan = {0};
    json_t *actions = json_array();
    int r;
    if (!actions)
        return -ENOMEM;
    if ((r = mgr_lock_connected(mgr, err)) < 0) {
        json_decref(actions);
        return r;
    }
    double now = mono_now();
    r = part_plan_make(mgr->cpc, &mgr->policy, now, &plan, err);
    if (r == 0) {
        mgr->last_plan = now;
        mgr_apply_plan(mgr, &plan, "api", actions);
        mgr_publish(mgr);
        *ret = json_pack("{s:s, s:O}", "policy", mgr->policy.name, "actions", actions);
        r = *ret ? 0 : -ENOMEM;
    }
    pthread_mutex_unlock(&mgr->lock);
    json_decref(actions);
    part_plan_clear(&plan);
    return r;
}

/* Loads policy name: NAME.json in the policies directory; "static" needs
 * no file (observe only). */
static int mgr_policy_load(const struct part_config *cfg, const char *name,
                           struct part_policy *ret, struct part_error *err)
{
    int r = part_policy_load(cfg->policies_dir, name, ret, err);
    if (r == -ENOENT && strcmp(name, "static") == 0) {
        part_error_clear(err);
        part_policy_default(ret);
        return 0;
    }
    return r;
}

json_t *part_mgr_policy_json(struct part_mgr *mgr)
{
    pthread_mutex_lock(&mgr->lock);
    json_t *j = part_policy_to_json(&mgr->policy);
    pthread_mutex_unlock(&mgr->lock);
    return j;
}

int part_mgr_policy_set(struct part_mgr *mgr, const char *name, struct part_error *err)
{
    struct part_policy pol;
    int r = part_name_check(name, "name", "policy name", err);
    if (r < 0)
        return r;
    r = mgr_policy_load(mgr->cfg, name, &pol, err);
    if (r < 0)
        return r;
    pthread_mutex_lock(&mgr->lock);
    char old[PART_NAME_MAX];
    snprintf(old, sizeof(old), "%s", mgr->policy.name);
    mgr->policy = pol;
    for (size_t i = 0; i < mgr->cpc->n; i++)
        if (mgr->cpc->parts[i]->history &&
            mgr->cpc->parts[i]->history->rolling.window != pol.dc_window)
            part_history_set_window(mgr->cpc->parts[i]->history, pol.dc_window);
    mgr_note(mgr, PART_LOG_INFO, "policy", NULL, "api", "policy %s -> %s", old, pol.name);
    mgr_save_state(mgr);
    mgr_publish(mgr);
    pthread_mutex_unlock(&mgr->lock);
    return 0;
}

struct part_events *part_mgr_events(struct part_mgr *mgr)
{
    return mgr->events;
}

/* Brings one partition in line with its domain: a running domain is
 * adopted as it runs, a missing one defined. Returns 1 when the partition
 * is now active, 0 when inactive with its domain ready, -1 when not ready. */
static int mgr_reconcile_domain(struct part_mgr *mgr, struct part_partition *p,
                                const struct part_state *st)
{
    const struct part_profile *pp = p->profile;
    const struct part_state_entry *e = part_state_find(st, pp->name);
    struct part_error err = {0};
    struct part_hv_domain d;
    char buf[1024];
    int r = part_hv_lookup(mgr->hv, pp->domain_name, &d, &err);

    if (r == -ENOENT && pp->adopt) {
        mgr_log(mgr, PART_LOG_WARNING, "%s: no domain %s to adopt", pp->name, pp->domain_name);
        return -1;
    }
    if (r < 0 && r != -ENOENT) {
        mgr_log(mgr, PART_LOG_ERROR, "%s: %s", pp->name, err.message);
        return -1;
    }
    if (r == 0 && d.active) {
        /* running: adopt what runs; weight and cap are partd's to say */
        part_cpc_set_active(mgr->cpc, p, true);
        /* the memory target partd set (the balloon may still be moving) */
        mgr_read_back(mgr, p, e && e->active ? e->memory : 0, NULL);
        if (e && e->active) {
            p->weight = e->weight ? e->weight : p->weight;
            p->cap = e->cap;
        }
        mgr_apply_weight_cap(mgr, p);
        mgr_log(mgr, PART_LOG_INFO, "%s: running, adopted", pp->name);
        return 1;
    }
    if (!pp->adopt && (r = mgr_define_domain(mgr, p, &err)) < 0) {
        mgr_log(mgr, PART_LOG_ERROR, "%s: cannot define its domain: %s", pp->name,
                part_error_format(&err, buf, sizeof(buf)));
        return -1;
    }
    return 0;
}

/* At start: the domain, then activation of what partd kept active (the host
 * or the backend lost it) or, on first start, of autostart partitions, with
 * the saved running values. */
static void mgr_reconcile(struct part_mgr *mgr, struct part_partition *p,
                          const struct part_state *st)
{
    const struct part_profile *pp = p->profile;
    const struct part_state_entry *e = part_state_find(st, pp->name);
    struct part_error err = {0};
    int r;

    if (mgr_reconcile_domain(mgr, p, st) != 0)
        return;
    if (!(e ? e->active : pp->autostart))
        return;
    /* Restored partitions start with the running values they had, not the
     * profile's (a pending profile change may not even fit next to the
     * others): the activation runs on a copy of the profile whose initial
     * values are the saved ones, within the profile's bounds. */
    struct part_profile *real = p->profile, *boot = NULL;
    if (e && (boot = part_profile_dup(real))) {
        if (e->processors >= real->proc_min && e->processors <= real->proc_reserved)
            boot->proc_initial = e->processors;
        if (e->memory >= real->mem_min && e->memory <= real->mem_reserved)
            boot->mem_initial = e->memory;
        if (real->mode == PART_MODE_SHARED && e->weight >= real->weight_min &&
            e->weight <= real->weight_max)
            boot->weight_initial = e->weight;
        if (real->mode == PART_MODE_SHARED)
            boot->cap = e->cap;
        p->profile = boot;
    }
    r = mgr_activate(mgr, p, "partd", &err);
    p->profile = real;
    part_profile_free(boot);
    if (r < 0) {
        mgr_log(mgr, PART_LOG_ERROR, "%s: cannot activate: %s", pp->name, err.message);
        return;
    }
    if (e)
        mgr_log(mgr, PART_LOG_INFO, "%s: restored with its saved running values", pp->name);
}

int part_mgr_open(struct part_config *cfg, const struct part_hv_ops *ops, part_log_fn log,
                  void *log_opaque, struct part_mgr **ret, struct part_error *err)
{
    struct part_mgr *mgr = calloc(1, sizeof(*mgr));
    struct part_profile **profiles = NULL;
    struct part_error *errors = NULL;
    struct part_state st = {0};
    size_t n = 0, n_errors = 0;
    char buf[1024];
    int r;

    if (!mgr)
        return -ENOMEM;
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
    if ((r = part_state_load(cfg->state_dir, &st, err)) < 0)
        goto fail; /* refuse to guess which partitions should run */
    if (!(mgr->events = part_events_new(1024))) {
        r = -ENOMEM;
        goto fail;
    }
    /* the policy switched at run time outlives a restart */
    if ((r = mgr_policy_load(cfg, st.policy[0] ? st.policy : cfg->policy, &mgr->policy, err)) <
        0)
        goto fail;
    if (part_mkdir_p(cfg->partitions_dir, 0755) < 0)
        mgr_log(mgr, PART_LOG_WARNING, "cannot create %s", cfg->partitions_dir);
    int stale = part_dir_remove_stale_tmp(cfg->partitions_dir) +
                part_dir_remove_stale_tmp(cfg->state_dir);
    if (stale)
        mgr_log(mgr, PART_LOG_INFO, "removed %d temporary files of an interrupted write", stale);
    r = part_profiles_load_dir(cfg->partitions_dir, &profiles, &n, &errors, &n_errors, err);
    if (r < 0 && r != -EINVAL)
        goto fail;
    for (size_t i = 0; i < n_errors; i++)
        mgr_log(mgr, PART_LOG_ERROR, "%s (partition left out)",
                part_error_format(&errors[i], buf, sizeof(buf)));
    for (size_t i = 0; i < n; i++) {
        struct part_error de = {0};
        if (part_cpc_define(mgr->cpc, profiles[i], &de) < 0) {
            mgr_log(mgr, PART_LOG_ERROR, "%s/%s.json: %s (partition left out)",
                    cfg->partitions_dir, profiles[i]->name, de.message);
            part_profile_free(profiles[i]);
        }
        profiles[i] = NULL;
    }
    for (size_t i = 0; i < mgr->cpc->n; i++)
        mgr_reconcile(mgr, mgr->cpc->parts[i], &st);
    /* domains adopted as they ran were pinned to the pool of another
     * configuration, maybe: every shared partition follows this one's */
    mgr_repin_shared(mgr);
    for (size_t i = 0; i < st.n; i++)
        if (!part_cpc_find(mgr->cpc, st.entries[i].name))
            mgr_log(mgr, PART_LOG_WARNING, "%s: in the state file but has no profile; left alone",
                    st.entries[i].name);
    mgr_save_state(mgr);
    mgr_publish(mgr);
    if (!mgr->snap) {
        r = -ENOMEM;
        goto fail;
    }
    struct part_error ee = {0};
    if (!(mgr->sink = mgr_sink_new(mgr)) ||
        part_hv_events(mgr->hv, mgr_on_event, mgr->sink, &ee) < 0)
        mgr_log(mgr, PART_LOG_WARNING, "no lifecycle events from the backend: %s", ee.message);
    if (pthread_create(&mgr->thread, NULL, mgr_thread, mgr) == 0)
        mgr->thread_started = true;
    part_profiles_free(profiles, n);
    free(errors);
    part_state_clear(&st);
    *ret = mgr;
    return 0;
fail:
    part_profiles_free(profiles, n);
    free(errors);
    part_state_clear(&st);
    mgr->cfg = NULL; /* not taken on failure */
    part_mgr_close(mgr);
    return r;
}

void part_mgr_close(struct part_mgr *mgr)
{
    if (!mgr)
        return;
    if (mgr->sink) { /* no callback runs into mgr from here on */
        pthread_mutex_lock(&mgr->sink->lock);
        mgr->sink->mgr = NULL;
        pthread_mutex_unlock(&mgr->sink->lock);
    }
    pthread_mutex_lock(&mgr->ev_lock);
    mgr->stopping = true;
    pthread_cond_signal(&mgr->ev_cond);
    pthread_mutex_unlock(&mgr->ev_lock);
    if (mgr->thread_started)
        pthread_join(mgr->thread, NULL);
    part_hv_close(mgr->hv);
    part_cpc_free(mgr->cpc);
    part_snapshot_put(mgr->snap);
    part_events_free(mgr->events);
    part_config_free(mgr->cfg);
    pthread_mutex_destroy(&mgr->lock);
    pthread_mutex_destroy(&mgr->snap_lock);
    pthread_mutex_destroy(&mgr->ev_lock);
    pthread_cond_destroy(&mgr->ev_cond);
    free(mgr);
}

int part_resize_parse(const char *text, size_t len, struct part_resize *ret,
                      struct part_error *err)
{
    static const char *const keys[] = {"processors", "memory", "weight", "weight_min",
                                       "weight_max", "cap",    "scope",  NULL};
    struct part_resize req = {.scope = PART_SCOPE_BOTH, .cap = PART_CAP_NONE};
    const char *scope = NULL;
    json_t *root;
    int r;

    if ((r = part_json_parse(text, len, NULL, &root, err)) < 0)
        return r;
    if (!json_is_object(root)) {
        r = part_error_set(err, -EINVAL, "", "expected a JSON object, got %s",
                           part_json_type_name(root));
        goto out;
    }
    req.has_processors = json_object_get(root, "processors") != NULL;
    req.has_memory = json_object_get(root, "memory") != NULL;
    req.has_weight = json_object_get(root, "weight") != NULL;
    req.has_weight_min = json_object_get(root, "weight_min") != NULL;
    req.has_weight_max = json_object_get(root, "weight_max") != NULL;
    req.has_cap = json_object_get(root, "cap") != NULL;
    json_t *cap = json_object_get(root, "cap");
    if ((r = part_json_check_keys(root, "", keys, err)) < 0 ||
        (r = part_json_get_uint(root, "", "processors", 1, 1024, &req.processors, err)) < 0 ||
        (r = part_json_get_size(root, "", "memory", &req.memory, err)) < 0 ||
        (r = part_json_get_uint(root, "", "weight", PART_WEIGHT_MIN, PART_WEIGHT_MAX, &req.weight,
                                err)) < 0 ||
        (r = part_json_get_uint(root, "", "weight_min", PART_WEIGHT_MIN, PART_WEIGHT_MAX,
                                &req.weight_min, err)) < 0 ||
        (r = part_json_get_uint(root, "", "weight_max", PART_WEIGHT_MIN, PART_WEIGHT_MAX,
                                &req.weight_max, err)) < 0 ||
        (cap && !json_is_null(cap) &&
         (r = part_json_get_number(root, "", "cap", PART_CAP_MIN, PART_CAP_MAX, &req.cap, err)) <
             0) ||
        (r = part_json_get_string(root, "", "scope", &scope, err)) < 0)
        goto out;
    if (scope && strcmp(scope, "running") == 0)
        req.scope = PART_SCOPE_RUNNING;
    else if (scope && strcmp(scope, "profile") == 0)
        req.scope = PART_SCOPE_PROFILE;
    else if (scope && strcmp(scope, "both") != 0) {
        r = part_error_set(err, -EINVAL, "scope",
                           "scope: \"%s\" is not running, profile or both", scope);
        goto out;
    }
    if (!req.has_processors && !req.has_memory && !req.has_weight && !req.has_weight_min &&
        !req.has_weight_max && !req.has_cap) {
        r = part_error_set(err, -ENODATA, "",
                           "nothing to change: give processors, memory, weight, weight_min, "
                           "weight_max or cap");
        goto out;
    }
    *ret = req;
out:
    if (r == -EINVAL)
        part_error_locate(err, text, len);
    json_decref(root);
    return r;
}

/* Whether two profiles define the same partition, field by field. */
static bool profile_equal(const struct part_profile *a, const struct part_profile *b)
{
    json_t *x = part_profile_to_json(a), *y = part_profile_to_json(b);
    bool eq = x && y && json_equal(x, y);
    json_decref(x);
    json_decref(y);
    return eq;
}

int part_mgr_reload(struct part_mgr *mgr, struct part_error *err)
{
    struct part_profile **profiles = NULL;
    struct part_error *errors = NULL;
    size_t n = 0, n_errors = 0;
    char buf[1024];

    int r = part_profiles_load_dir(mgr->cfg->partitions_dir, &profiles, &n, &errors, &n_errors,
                                   err);
    if (r < 0 && r != -EINVAL)
        return r;
    pthread_mutex_lock(&mgr->lock);
    for (size_t i = 0; i < n_errors; i++)
        mgr_log(mgr, PART_LOG_ERROR, "%s (left as it was)",
                part_error_format(&errors[i], buf, sizeof(buf)));
    /* gone: unmanaged, unless its file is merely broken now */
    for (size_t i = mgr->cpc->n; i-- > 0;) {
        struct part_partition *p = mgr->cpc->parts[i];
        bool present = false;
        for (size_t j = 0; j < n && !present; j++)
            present = strcmp(profiles[j]->name, p->profile->name) == 0;
        for (size_t j = 0; j < n_errors && !present; j++) {
            const char *base = strrchr(errors[j].file, '/');
            base = base ? base + 1 : errors[j].file;
            size_t len = strlen(p->profile->name);
            present = strncmp(base, p->profile->name, len) == 0 && strcmp(base + len, ".json") == 0;
        }
        if (present)
            continue;
        mgr_log(mgr, PART_LOG_WARNING, "%s: profile removed; domain %s is no longer managed",
                p->profile->name, p->profile->domain_name);
        p->active = false; /* forgotten, not stopped */
        part_cpc_undefine(mgr->cpc, p->profile->name, NULL);
    }
    for (size_t i = 0; i < n; i++) {
        struct part_partition *p = part_cpc_find(mgr->cpc, profiles[i]->name);
        struct part_error e = {0};
        if (p && profile_equal(p->profile, profiles[i]))
            continue;
        if (p) {
            if (part_cpc_replace_profile(mgr->cpc, p, profiles[i], &e) < 0) {
                mgr_log(mgr, PART_LOG_ERROR, "%s: %s (left as it was)", profiles[i]->name,
                        e.message);
                continue;
            }
            profiles[i] = NULL;
            if (!p->active && !p->profile->adopt && mgr_define_domain(mgr, p, &e) < 0)
                mgr_log(mgr, PART_LOG_ERROR, "%s: cannot redefine its domain: %s",
                        p->profile->name, e.message);
            mgr_log(mgr, PART_LOG_INFO, "%s: profile changed%s", p->profile->name,
                    p->active ? "; pending until the next activation" : "");
            continue;
        }
        if (part_cpc_define(mgr->cpc, profiles[i], &e) < 0) {
            mgr_log(mgr, PART_LOG_ERROR, "%s: %s (not defined)", profiles[i]->name, e.message);
            continue;
        }
        p = part_cpc_find(mgr->cpc, profiles[i]->name);
        profiles[i] = NULL;
        struct part_state none = {0};
        mgr_reconcile_domain(mgr, p, &none);
        mgr_log(mgr, PART_LOG_INFO, "%s: defined from its new profile", p->profile->name);
    }
    mgr_save_state(mgr);
    mgr_publish(mgr);
    pthread_mutex_unlock(&mgr->lock);
    part_profiles_free(profiles, n);
    free(errors);
    return 0;
}
