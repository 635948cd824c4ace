/* The mutations of a partition's existence and state: define (from a
 * request body), undefine, activate, deactivate (whose wait for the guest
 * is outside the lock); and its profile file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "file.h"
#include "json.h"
#include "manager-internal.h"

int mgr_activate(struct part_mgr *mgr, struct part_partition *p, const struct part_caller *caller,
                 struct part_error *err)
{
    const struct part_profile *pp = p->profile;
    int r;

    if ((r = part_cpc_check_activate(mgr->cpc, p, err)) < 0)
        return r;
    /* the directories above its files may have closed since it was defined */
    if (mgr->qemu && (r = part_qemu_access_check(mgr->qemu, pp, err)) < 0)
        return r;
    if ((r = part_cpc_set_active(mgr->cpc, p, true)) < 0)
        return part_error_set(err, r, "", "%s: no free host CPUs to dedicate", pp->name);
    if (!pp->adopt) {
        r = mgr_define_domain(mgr, p, err);
    } else {
        r = part_hv_set_processors(mgr->hv, pp->domain_name, pp->proc_initial, PART_HV_CONFIG, err);
        if (r == 0)
            r = part_hv_set_memory(mgr->hv, pp->domain_name, pp->mem_initial, PART_HV_CONFIG, err);
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
    if (caller)
        mgr_note_caller(mgr, PART_LOG_INFO, "activated", pp->name, caller,
                        "activated (%u processors, %llu MiB)", p->processors,
                        (unsigned long long)p->memory);
    else
        mgr_note(mgr, PART_LOG_INFO, "activated", pp->name, "partd",
                 "activated (%u processors, %llu MiB)", p->processors,
                 (unsigned long long)p->memory);
    return 0;
}

int part_mgr_activate(struct part_mgr *mgr, const char *name, const struct part_caller *caller,
                      struct part_error *err)
{
    struct part_partition *p;
    int r = mgr_lock_partition(mgr, name, &p, err);
    if (r < 0)
        return r;
    r = mgr_activate(mgr, p, caller ? caller : &mgr_api_unknown, err);
    if (r == 0 && p->profile->mode == PART_MODE_DEDICATED)
        mgr_repin_shared(mgr);
    if (r == 0) {
        mgr_save_state(mgr);
        mgr_publish(mgr);
    }
    pthread_mutex_unlock(&mgr->lock);
    return r;
}

/*
 * Deactivation in three steps, so that a guest slow to shut down (up to
 * PART_DEACTIVATE_TIMEOUT_MAX) never holds the manager's lock: the guest is
 * asked under the lock and the partition marked deactivating; the wait
 * polls the domain, taking the lock only for each look; the end (forced
 * stop at the deadline, the model, the state, the event) is under the lock
 * again. The partition is found anew by name after each unlock.
 */

#define DEACTIVATE_POLL_MS 100

enum { DEACT_WAIT, DEACT_STOPPED, DEACT_DESTROYED };

/* Records that p's domain stopped (forced: destroyed), under mgr->lock;
 * caller (may be NULL) asked for it. */
static void mgr_deactivated(struct part_mgr *mgr, struct part_partition *p, bool forced,
                            const struct part_caller *caller)
{
    p->deactivating = false;
    part_cpc_set_active(mgr->cpc, p, false);
    if (p->profile->mode == PART_MODE_DEDICATED)
        mgr_repin_shared(mgr);
    if (p->history)
        part_history_break(p->history);
    mgr_note_caller(mgr, PART_LOG_INFO, "deactivated", p->profile->name, caller, "deactivated%s",
                    forced ? " (forced)" : "");
    mgr_save_state(mgr);
    mgr_publish(mgr);
}

/* Destroys p's domain; one that stopped by itself meanwhile is no error. */
static int mgr_destroy(struct part_mgr *mgr, struct part_partition *p, struct part_error *err)
{
    int r = part_hv_deactivate(mgr->hv, p->profile->domain_name, 0, true, err);
    if (r == -EBUSY && part_hv_active(mgr->hv, p->profile->domain_name, NULL) == 0) {
        part_error_clear(err);
        r = 0;
    }
    return r;
}

/* Under mgr->lock: asks p's guest to shut down. Returns DEACT_STOPPED when
 * it is down already, DEACT_DESTROYED when force destroyed it (no wait
 * wanted, or a guest that cannot be asked), DEACT_WAIT when it was asked
 * and p is now deactivating, or an error. */
static int deactivate_begin(struct part_mgr *mgr, struct part_partition *p, bool force,
                            unsigned timeout_ms, struct part_error *err)
{
    struct part_error asked = {0};
    int r;

    if (!p->active)
        return part_error_set(err, -EBUSY, "", "%s is not active", p->profile->name);
    if (force && timeout_ms == 0)
        return (r = mgr_destroy(mgr, p, err)) < 0 ? r : DEACT_DESTROYED;
    /* no wait and no force: the backend asks, and says whether it is down */
    r = part_hv_deactivate(mgr->hv, p->profile->domain_name, 0, false, &asked);
    if (r == 0)
        return DEACT_STOPPED;
    if (r != -ETIMEDOUT) {
        if (!force) {
            if (err)
                *err = asked;
            return r;
        }
        /* a guest that cannot be asked is destroyed when force allows it */
        return (r = mgr_destroy(mgr, p, err)) < 0 ? r : DEACT_DESTROYED;
    }
    if (timeout_ms == 0)
        return part_error_set(err, -ETIMEDOUT, "",
                              "%s: still running; give a timeout to wait for it, or use force",
                              p->profile->name);
    p->deactivating = true;
    mgr_save_state(mgr);
    mgr_publish(mgr);
    return DEACT_WAIT;
}

/* Without mgr->lock: waits until the domain of the partition named name is
 * down (1), the deadline passes (0), or partd stops (-ECANCELED). */
static int deactivate_wait(struct part_mgr *mgr, const char *name, double deadline)
{
    for (;;) {
        struct timespec ts = {0, DEACTIVATE_POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
        if (atomic_load(&mgr->shutting_down))
            return -ECANCELED;
        pthread_mutex_lock(&mgr->lock);
        struct part_partition *p = part_cpc_find(mgr->cpc, name);
        int r = p && p->active && mgr->hv ? part_hv_active(mgr->hv, p->profile->domain_name, NULL)
                                          : -ENOTCONN;
        bool down = !p || !p->active || r == -ENOENT || r == 0;
        pthread_mutex_unlock(&mgr->lock);
        if (down)
            return 1;
        if (mgr_mono_now() >= deadline)
            return 0;
    }
}

/* Under mgr->lock again: the end of the wait (waited, as deactivate_wait()
 * returned) recorded. */
static int deactivate_end(struct part_mgr *mgr, const char *name, int waited, bool force,
                          unsigned timeout_ms, const struct part_caller *caller,
                          struct part_error *err)
{
    int r = 0;
    pthread_mutex_lock(&mgr->lock);
    struct part_partition *p = part_cpc_find(mgr->cpc, name);
    if (!p) {
        r = part_error_set(err, -ENOENT, "", "%s was removed while it shut down", name);
    } else if (waited == -ECANCELED) { /* still deactivating: so the state file has it */
        r = part_error_set(err, -ECANCELED, "",
                           "%s: partd is stopping; its guest was asked to shut down", name);
    } else if (!p->active) { /* down and recorded meanwhile (a reconnection) */
        p->deactivating = false;
        mgr_publish(mgr);
    } else if (waited == 1) {
        mgr_deactivated(mgr, p, false, caller);
    } else if (!force) {
        r = part_error_set(err, -ETIMEDOUT, "",
                           "%s: still running after %u ms; use force to destroy it", name,
                           timeout_ms);
    } else if (!mgr->hv) {
        r = part_error_set(err, -ENOTCONN, "",
                           "%s: still running after %u ms, and the backend is disconnected", name,
                           timeout_ms);
    } else if ((r = mgr_destroy(mgr, p, err)) == 0) {
        mgr_deactivated(mgr, p, true, caller);
    }
    if (p && p->deactivating && waited != -ECANCELED) { /* it stays active */
        p->deactivating = false;
        mgr_save_state(mgr);
        mgr_publish(mgr);
    }
    pthread_mutex_unlock(&mgr->lock);
    return r;
}

int part_mgr_deactivate(struct part_mgr *mgr, const char *name, bool force, unsigned timeout_ms,
                        const struct part_caller *caller, struct part_error *err)
{
    struct part_partition *p;
    int r;

    if (timeout_ms > PART_DEACTIVATE_TIMEOUT_MAX * 1000u)
        return part_error_set(err, -ERANGE, "timeout",
                              "timeout: %g s is more than the %d s a deactivation may wait",
                              timeout_ms / 1000.0, PART_DEACTIVATE_TIMEOUT_MAX);
    if ((r = mgr_lock_partition(mgr, name, &p, err)) < 0)
        return r;
    r = deactivate_begin(mgr, p, force, timeout_ms, err);
    if (r == DEACT_STOPPED || r == DEACT_DESTROYED)
        mgr_deactivated(mgr, p, r == DEACT_DESTROYED, caller);
    pthread_mutex_unlock(&mgr->lock);
    if (r != DEACT_WAIT)
        return r < 0 ? r : 0;
    int waited = deactivate_wait(mgr, name, mgr_mono_now() + timeout_ms / 1000.0);
    return deactivate_end(mgr, name, waited, force, timeout_ms, caller, err);
}

static char *mgr_profile_path(struct part_mgr *mgr, const char *name)
{
    char *path;
    if (asprintf(&path, "%s/%s.json", mgr->cfg->partitions_dir, name) < 0)
        return NULL;
    return path;
}

int mgr_write_profile(struct part_mgr *mgr, const struct part_profile *p, struct part_error *err)
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

int part_mgr_define(struct part_mgr *mgr, const char *text, size_t len,
                    const struct part_caller *caller, char ret_name[PART_NAME_MAX],
                    struct part_error *err)
{
    struct part_profile *p = NULL;
    struct part_hv_domain d;
    int r;

    if ((r = part_profile_parse(text, len, NULL, &p, err)) < 0)
        return r;
    /* host paths confined and the template read before the lock: a slow or
     * hostile file never holds the manager */
    if ((r = part_hostpath_load(&mgr->cfg->paths, p, PART_HOSTPATH_CREATE_LOG, err)) < 0 ||
        (mgr->qemu && (r = part_qemu_access_check(mgr->qemu, p, err)) < 0)) {
        part_error_locate(err, text, len);
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
    mgr_note_caller(mgr, PART_LOG_INFO, "defined", p->name, caller, "defined");
    mgr_save_state(mgr);
    mgr_publish(mgr);
out:
    pthread_mutex_unlock(&mgr->lock);
    return r;
}

int part_mgr_undefine(struct part_mgr *mgr, const char *name, const struct part_caller *caller,
                      struct part_error *err)
{
    int r;
    struct part_partition *p;
    if ((r = mgr_lock_partition(mgr, name, &p, err)) < 0)
        return r;
    if (p->active) {
        r = part_error_set(err, -EBUSY, "", "%s is active; deactivate it first", name);
        goto out;
    }
    int released = mgr_undefine_domain(mgr, p, err);
    if ((r = released) < 0)
        goto out;
    char *path = mgr_profile_path(mgr, name);
    if (path && unlink(path) < 0 && errno != ENOENT) {
        r = part_error_set(err, -errno, "", "%s: domain %s, but %s stays: %s", name,
                           released ? "released" : "undefined", path, strerror(errno));
        free(path);
        goto out;
    }
    free(path);
    if (released)
        mgr_note_caller(mgr, PART_LOG_INFO, "undefined", name, caller,
                        "undefined; domain %s released, left as it is", p->profile->domain_name);
    else
        mgr_note_caller(mgr, PART_LOG_INFO, "undefined", name, caller, "undefined with its domain");
    r = part_cpc_undefine(mgr->cpc, name, err);
    mgr_save_state(mgr);
    mgr_publish(mgr);
out:
    pthread_mutex_unlock(&mgr->lock);
    return r;
}
