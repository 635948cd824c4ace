/* Both sides of a move between CPCs in the manager (move.h): the target's
 * admission, reservation, adoption, release and expiry; the source's
 * begin, migration (on a connection of its own, without the lock), end,
 * and its look at where a guest is after a restart. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manager-internal.h"
#include "part/move.h"

const struct part_config *part_mgr_config(struct part_mgr *mgr)
{
    return mgr->cfg;
}

void part_mgr_move_note(struct part_mgr *mgr, bool failed, const char *kind, const char *partition,
                        const struct part_caller *caller, const char *fmt, ...)
{
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    mgr_note_caller(mgr, failed ? PART_LOG_WARNING : PART_LOG_INFO, kind, partition, caller, "%s",
                    msg);
}

/* Appends {"check", "ok", "detail"} to checks (may be NULL). */
static void check_add(json_t *checks, const char *check, bool ok, const char *detail)
{
    if (checks)
        json_array_append_new(
            checks, json_pack("{s:s, s:b, s:s}", "check", check, "ok", ok, "detail", detail));
}

/* The checks of a partition coming here that need no lock: its files. */
static int admit_files(struct part_mgr *mgr, struct part_profile *p, json_t *checks,
                       struct part_error *err)
{
    int r = part_hostpath_load(&mgr->cfg->paths, p, 0, err);
    if (r == 0 && mgr->qemu)
        r = part_qemu_access_check(mgr->qemu, p, err);
    check_add(checks, "files", r == 0,
              r == 0 ? "the profile's files are within this host's directories and reachable"
                     : err->message);
    return r;
}

/* Under the lock: the partition p (taken: freed on failure, else in the
 * CPC as *ret, not running, PART_MOVE_IN with req's running values) could
 * run here. domain_here: its domain may exist already (an adoption without
 * reservation). */
static int admit_locked(struct part_mgr *mgr, struct part_profile *p,
                        const struct part_move_request *req, bool domain_here, json_t *checks,
                        struct part_partition **ret, struct part_error *err)
{
    struct part_hv_domain d;
    char detail[256];
    int r;

    if (p->mode == PART_MODE_DEDICATED) {
        r = part_error_set(err, -ENOTSUP, "profile.processors.mode",
                           "%s: dedicated partitions do not move (yet): their host CPUs would "
                           "have to be chosen before the guest arrives",
                           p->name);
        check_add(checks, "profile", false, err->message);
        part_profile_free(p);
        return r;
    }
    if (!domain_here && (r = part_hv_lookup(mgr->hv, p->domain_name, &d, NULL)) != -ENOENT) {
        r = part_error_set(err, -EEXIST, "profile.name", "a domain named %s exists on this host",
                           p->domain_name);
        check_add(checks, "name", false, err->message);
        part_profile_free(p);
        return r;
    }
    if ((r = part_cpc_define(mgr->cpc, p, err)) < 0) {
        check_add(checks, r == -ENOSPC ? "capacity" : "name", false, err->message);
        part_profile_free(p);
        return r;
    }
    check_add(checks, "name", true, "no partition or domain of that name here");
    struct part_partition *part = part_cpc_find(mgr->cpc, p->name);
    if ((r = part_cpc_check_resize(mgr->cpc, part, req->processors, req->memory, err)) < 0) {
        check_add(checks, "capacity", false, err->message);
        part_cpc_undefine(mgr->cpc, p->name, NULL); /* frees p */
        return r;
    }
    snprintf(detail, sizeof(detail), "%u processors and %llu MiB fit beside the partitions here",
             req->processors, (unsigned long long)req->memory);
    check_add(checks, "capacity", true, detail);
    part->move = PART_MOVE_IN;
    part->processors = req->processors;
    part->memory = req->memory;
    part->weight = req->weight;
    part->cap = req->cap;
    *ret = part;
    return 0;
}

/* The guest's processor against this host's (libvirt's comparison). */
static int admit_cpu(struct part_mgr *mgr, const struct part_move_request *req, json_t *checks,
                     struct part_error *err)
{
    struct part_error e = {0};
    int r = part_hv_compare_cpu(mgr->hv, &req->guest, &e);
    if (r == -ENOTSUP) {
        char detail[sizeof(e.message) + 16];
        snprintf(detail, sizeof(detail), "not compared: %s", e.message);
        check_add(checks, "cpu", true, detail);
        return 0;
    }
    check_add(checks, "cpu", r == 0,
              r == 0 ? (req->guest.cpu[0] ? "this host runs the guest's processor model"
                                          : "the guest has the hypervisor's default model")
                     : e.message);
    if (r < 0 && err)
        *err = e;
    return r;
}

int part_mgr_move_admit(struct part_mgr *mgr, const struct part_move_request *req,
                        const struct part_caller *caller, char ret_id[PART_MOVE_ID_MAX],
                        json_t **ret_checks, struct part_error *err)
{
    json_t *checks = ret_checks ? json_array() : NULL;
    struct part_profile *p = part_profile_dup(req->profile);
    struct part_partition *part = NULL;
    int r;

    if (!p)
        return part_error_oom(err);
    if ((r = admit_files(mgr, p, checks, err)) < 0 || (r = mgr_lock_connected(mgr, err)) < 0) {
        part_profile_free(p);
        goto out;
    }
    if ((r = admit_cpu(mgr, req, checks, err)) < 0)
        part_profile_free(p);
    else
        r = admit_locked(mgr, p, req, false, checks, &part, err); /* takes p */
    if (r < 0) {
        pthread_mutex_unlock(&mgr->lock);
        part_mgr_move_note(mgr, true, "move-validate", req->profile->name, caller,
                           "refused a move here: %s", err ? err->message : "");
        goto out;
    }
    if (!req->reserve) { /* validated: nothing stays */
        part->move = PART_MOVE_NONE;
        part_cpc_undefine(mgr->cpc, req->profile->name, NULL);
        pthread_mutex_unlock(&mgr->lock);
        part_mgr_move_note(mgr, false, "move-validate", req->profile->name, caller,
                           "a move here would be admitted (%u processors, %llu MiB)",
                           req->processors, (unsigned long long)req->memory);
        goto out;
    }
    snprintf(part->move_id, sizeof(part->move_id), "%s", req->id);
    part->move_deadline = mgr_mono_now() + req->timeout_s + PART_MOVE_GRACE_S;
    if (ret_id)
        snprintf(ret_id, PART_MOVE_ID_MAX, "%s", part->move_id);
    part_cpc_compute(mgr->cpc);
    mgr_publish(mgr);
    pthread_mutex_unlock(&mgr->lock);
    part_mgr_move_note(mgr, false, "move-reserve", req->profile->name, caller,
                       "reserved %u processors and %llu MiB for move %s (for %u s at most)",
                       req->processors, (unsigned long long)req->memory, part->move_id,
                       req->timeout_s + PART_MOVE_GRACE_S);
out:
    if (ret_checks)
        *ret_checks = checks;
    return r;
}

/* The partition of move id here, or NULL. */
static struct part_partition *move_find(struct part_mgr *mgr, const char *id)
{
    for (size_t i = 0; i < mgr->cpc->n; i++)
        if (mgr->cpc->parts[i]->move == PART_MOVE_IN &&
            strcmp(mgr->cpc->parts[i]->move_id, id) == 0)
            return mgr->cpc->parts[i];
    return NULL;
}

/* Under the lock: p's domain runs here (checked): p is active with the
 * running values it came with. */
static int adopt_locked(struct part_mgr *mgr, struct part_partition *p, struct part_error *err)
{
    unsigned weight = p->weight;
    double cap = p->cap;
    uint64_t memory = p->memory;
    int r = mgr_write_profile(mgr, p->profile, err);
    if (r < 0)
        return r;
    p->move = PART_MOVE_NONE;
    p->move_id[0] = '\0';
    part_cpc_set_active(mgr->cpc, p, true);
    struct part_error rb = {0};
    if (mgr_read_back(mgr, p, memory, &rb) < 0)
        mgr_log(mgr, PART_LOG_WARNING, "%s: adopted, but cannot read it back: %s", p->profile->name,
                rb.message);
    p->weight = weight;
    p->cap = cap;
    part_cpc_compute(mgr->cpc);
    mgr_apply_weight_cap(mgr, p);
    mgr_repin_shared(mgr); /* it came pinned to the source's pool */
    mgr_save_state(mgr);
    mgr_publish(mgr);
    return 0;
}

/* Whether p's domain runs here with partd's mark naming p. */
static bool domain_arrived(struct part_mgr *mgr, const struct part_partition *p)
{
    struct part_hv_domain d;
    return part_hv_lookup(mgr->hv, p->profile->domain_name, &d, NULL) == 0 && d.active &&
           strcmp(d.owner, p->profile->name) == 0;
}

int part_mgr_move_adopt(struct part_mgr *mgr, const char *id, const struct part_move_request *req,
                        const struct part_caller *caller, struct part_error *err)
{
    struct part_profile *p = NULL;
    struct part_partition *part;
    int r;

    if (req && !(p = part_profile_dup(req->profile)))
        return part_error_oom(err);
    if (p && (r = admit_files(mgr, p, NULL, err)) < 0)
        goto out;
    if ((r = mgr_lock_connected(mgr, err)) < 0)
        goto out;
    struct part_partition *done = p ? part_cpc_find(mgr->cpc, p->name) : NULL;
    if (!(part = move_find(mgr, id)) && done && done->active && done->move == PART_MOVE_NONE &&
        domain_arrived(mgr, done)) {
        r = 0; /* adopted already (the source asks again after a restart) */
        pthread_mutex_unlock(&mgr->lock);
        goto out;
    }
    if (!part) { /* this partd restarted meanwhile: admit it now */
        if (!p) {
            r = part_error_set(err, -ENOENT, "", "no move %s here", id);
        } else {
            r = admit_locked(mgr, p, req, true, NULL, &part, err); /* takes p */
            p = NULL;
            if (r == 0)
                snprintf(part->move_id, sizeof(part->move_id), "%s", id);
        }
    }
    if (r == 0 && !domain_arrived(mgr, part))
        r = part_error_set(err, -ENOENT, "", "%s: its domain does not run here (marked as partd's)",
                           part->profile->name);
    if (r == 0 && (r = adopt_locked(mgr, part, err)) == 0)
        part_mgr_move_note(mgr, false, "move-adopt", part->profile->name, caller,
                           "adopted after move %s: %u processors, %llu MiB, weight %u", id,
                           part->processors, (unsigned long long)part->memory, part->weight);
    pthread_mutex_unlock(&mgr->lock);
out:
    part_profile_free(p);
    return r;
}

/* Under the lock: drops p's reservation, and a domain of it defined here
 * but not running. -EBUSY, nothing dropped, when it runs here. */
static int release_locked(struct part_mgr *mgr, struct part_partition *p, struct part_error *err)
{
    struct part_hv_domain d;
    const char *domain = p->profile->domain_name;
    if (part_hv_lookup(mgr->hv, domain, &d, NULL) == 0 && strcmp(d.owner, p->profile->name) == 0) {
        if (d.active)
            return part_error_set(err, -EBUSY, "",
                                  "%s: its domain runs here: the move is done, adopt it",
                                  p->profile->name);
        part_hv_undefine(mgr->hv, domain, NULL);
    }
    p->move = PART_MOVE_NONE;
    part_cpc_undefine(mgr->cpc, p->profile->name, NULL);
    mgr_publish(mgr);
    return 0;
}

int part_mgr_move_release(struct part_mgr *mgr, const char *id, const struct part_caller *caller,
                          struct part_error *err)
{
    char name[PART_NAME_MAX];
    int r = mgr_lock_connected(mgr, err);
    if (r < 0)
        return r;
    struct part_partition *p = move_find(mgr, id);
    if (p) {
        snprintf(name, sizeof(name), "%s", p->profile->name);
        r = release_locked(mgr, p, err);
    }
    pthread_mutex_unlock(&mgr->lock);
    if (p && r == 0)
        part_mgr_move_note(mgr, false, "move-release", name, caller,
                           "released the reservation of move %s", id);
    return r;
}

void mgr_move_expire(struct part_mgr *mgr, double now)
{
    for (size_t i = mgr->cpc->n; i-- > 0;) {
        struct part_partition *p = mgr->cpc->parts[i];
        struct part_error err = {0};
        if (p->move != PART_MOVE_IN || now < p->move_deadline)
            continue;
        char name[PART_NAME_MAX], id[PART_MOVE_ID_MAX];
        snprintf(name, sizeof(name), "%s", p->profile->name);
        snprintf(id, sizeof(id), "%s", p->move_id);
        if (domain_arrived(mgr, p) && adopt_locked(mgr, p, &err) == 0)
            mgr_note(mgr, PART_LOG_WARNING, "move-adopt", name, "partd",
                     "move %s: its source never asked; the guest runs here, adopted", id);
        else if (release_locked(mgr, p, &err) == 0)
            mgr_note(mgr, PART_LOG_WARNING, "move-release", name, "partd",
                     "move %s expired: reservation released", id);
    }
}

int part_mgr_move_begin(struct part_mgr *mgr, const char *name, const char *id,
                        struct part_move_request *ret, struct part_error *err)
{
    struct part_partition *p;
    int r = mgr_lock_partition(mgr, name, &p, err);
    if (r < 0)
        return r;
    memset(ret, 0, sizeof(*ret));
    if (!p->active)
        r = part_error_set(err, -EBUSY, "", "%s is not active: only a running partition moves",
                           name);
    else if (p->profile->mode == PART_MODE_DEDICATED)
        r = part_error_set(err, -ENOTSUP, "", "%s: dedicated partitions do not move (yet)", name);
    else if (!(ret->profile = part_profile_dup(p->profile)))
        r = part_error_oom(err);
    else
        r = part_hv_guest(mgr->hv, p->profile->domain_name, &ret->guest, err);
    if (r == 0) {
        ret->processors = p->processors;
        ret->memory = p->memory;
        ret->weight = p->weight;
        ret->cap = p->cap;
        if (id) {
            p->move = PART_MOVE_OUT;
            snprintf(p->move_id, sizeof(p->move_id), "%s", id);
            mgr_publish(mgr);
        }
    } else {
        part_move_request_clear(ret);
    }
    pthread_mutex_unlock(&mgr->lock);
    return r;
}

int part_mgr_move_migrate(struct part_mgr *mgr, const char *name, const struct part_hv_migration *m,
                          part_hv_progress_fn fn, void *opaque, struct part_error *err)
{
    struct part_hv *hv = NULL;
    char domain[PART_NAME_MAX];

    pthread_mutex_lock(&mgr->lock);
    struct part_partition *p = part_cpc_find(mgr->cpc, name);
    if (p)
        snprintf(domain, sizeof(domain), "%s", p->profile->domain_name);
    pthread_mutex_unlock(&mgr->lock);
    if (!p || p->move != PART_MOVE_OUT)
        return part_error_set(err, -ENOENT, "", "%s is not moving", name);
    int r = part_hv_open(mgr->ops, mgr->cfg->uri, false, &hv, err);
    if (r == 0)
        r = part_hv_migrate(hv, domain, m, fn, opaque, err);
    part_hv_close(hv);
    return r;
}

int part_mgr_move_end(struct part_mgr *mgr, const char *name, bool moved, struct part_error *err)
{
    int r = 0;
    pthread_mutex_lock(&mgr->lock);
    struct part_partition *p = part_cpc_find(mgr->cpc, name);
    if (!p || p->move != PART_MOVE_OUT) {
        r = part_error_set(err, -ENOENT, "", "%s is not moving", name);
    } else if (!moved) {
        p->move = PART_MOVE_NONE;
        p->move_id[0] = '\0';
        /* it may have stopped, or a restart found it gone meanwhile */
        if (mgr->hv) {
            int active = part_hv_active(mgr->hv, p->profile->domain_name, NULL);
            if (active == 1 && !p->active) {
                part_cpc_set_active(mgr->cpc, p, true);
                mgr_read_back(mgr, p, 0, NULL);
            } else if (active != 1 && p->active) {
                part_cpc_set_active(mgr->cpc, p, false);
            }
        }
    } else {
        char *path = NULL;
        part_cpc_set_active(mgr->cpc, p, false);
        p->move = PART_MOVE_NONE;
        if (asprintf(&path, "%s/%s.json", mgr->cfg->partitions_dir, name) < 0 ||
            (unlink(path) < 0 && errno != ENOENT))
            mgr_log(mgr, PART_LOG_ERROR, "%s: moved, but its profile file stays: %s", name,
                    path ? strerror(errno) : "out of memory");
        free(path);
        part_cpc_undefine(mgr->cpc, name, NULL);
        mgr_repin_shared(mgr);
    }
    if (r == 0) {
        mgr_save_state(mgr);
        mgr_publish(mgr);
    }
    pthread_mutex_unlock(&mgr->lock);
    return r;
}

enum part_move_where part_mgr_move_where(struct part_mgr *mgr, const char *name)
{
    enum part_move_where w = PART_MOVE_UNKNOWN;
    pthread_mutex_lock(&mgr->lock);
    struct part_partition *p = part_cpc_find(mgr->cpc, name);
    if (!p) {
        w = PART_MOVE_GONE; /* no profile either: nothing of it here */
    } else if (mgr->hv) {
        int active = part_hv_active(mgr->hv, p->profile->domain_name, NULL);
        if (active == -ENOENT)
            w = PART_MOVE_GONE;
        else if (active == 0)
            w = PART_MOVE_HERE;
        else if (active == 1)
            w = part_hv_migrating(mgr->hv, p->profile->domain_name, NULL) == 1 ? PART_MOVE_MIGRATING
                                                                               : PART_MOVE_HERE;
    }
    pthread_mutex_unlock(&mgr->lock);
    return w;
}

void mgr_move_records(struct part_mgr *mgr)
{
    struct part_move_record *recs = NULL;
    struct part_error err = {0};
    size_t n = 0;
    if (part_move_records_load(mgr->cfg->state_dir, &recs, &n, &err) < 0)
        mgr_log(mgr, PART_LOG_ERROR, "move records: %s", err.message);
    for (size_t i = 0; i < n; i++) {
        struct part_partition *p = part_cpc_find(mgr->cpc, recs[i].partition);
        if (!p)
            continue;
        p->move = PART_MOVE_OUT;
        snprintf(p->move_id, sizeof(p->move_id), "%s", recs[i].id);
        mgr_log(mgr, PART_LOG_WARNING, "%s: was moving to %s (move %s) when partd stopped",
                p->profile->name, recs[i].peer, recs[i].id);
    }
    part_move_records_free(recs, n);
}
