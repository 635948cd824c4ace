/* The rebalancer's side of the manager: plans (dry runs), rebalancing now
 * or when the policy is due, and the policy in force. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "manager-internal.h"

/* Applies plan's actions through the backend, one at a time, recording each
 * result in *ret (an array like part_plan_to_json()'s, with "status" and
 * "detail"). caller: the API's who asked for it, NULL for the policy's
 * tick. Called with mgr->lock held. */
static void mgr_apply_plan(struct part_mgr *mgr, const struct part_plan *plan,
                           const struct part_caller *caller, json_t *ret)
{
    json_t *described = ret ? part_plan_to_json(plan) : NULL;
    for (size_t i = 0; i < plan->n; i++) {
        const struct part_action *a = &plan->actions[i];
        struct part_partition *p = part_cpc_find(mgr->cpc, a->partition);
        struct part_changes c = {0};
        enum part_change_status status = PART_CHANGE_FAILED;
        const char *detail = p && p->deactivating             ? "the partition is being deactivated"
                             : p && p->move != PART_MOVE_NONE ? "the partition is moving"
                                                              : "the partition is no longer active";

        if (p && p->active && !p->deactivating && p->move == PART_MOVE_NONE) {
            mgr_resize_apply(mgr, p, a->setting, a->to, &c);
            status = c.items[0].status;
            detail = c.items[0].detail;
            if (a->dc && status != PART_CHANGE_FAILED)
                p->dc_capped = a->to != p->profile->cap;
            if (status != PART_CHANGE_FAILED)
                mgr->actions_applied++;
        }
        enum part_log_level level = status == PART_CHANGE_FAILED ? PART_LOG_WARNING : PART_LOG_INFO;
        if (caller)
            mgr_note_caller(mgr, level, "rebalanced", a->partition, caller, "%s [%s%s%s]",
                            a->reason, part_change_status_name(status), detail[0] ? ": " : "",
                            detail);
        else
            mgr_note(mgr, level, "rebalanced", a->partition, "policy", "%s [%s%s%s]", a->reason,
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

void mgr_policy_tick(struct part_mgr *mgr, double now)
{
    struct part_plan plan = {0};
    struct part_error err = {0};

    if (!part_policy_acts(&mgr->policy) || now - mgr->last_plan < mgr->policy.interval - 1e-3)
        return;
    mgr->last_plan = now;
    if (part_plan_make(mgr->cpc, &mgr->policy, now, &plan, &err) < 0)
        mgr_note(mgr, PART_LOG_ERROR, "plan-refused", NULL, "policy", "plan refused: %s",
                 err.message);
    else
        mgr_apply_plan(mgr, &plan, NULL, NULL);
    part_plan_clear(&plan);
}

/* How long a preview waits for the model (mgr_plan_model()). */
#define MGR_PLAN_LOCK_WAIT 2

/* The plan of pol made from the model, not the snapshot: for a preview of
 * an acting policy while one that only observes is in force, whose
 * snapshots hold no histories (copying every history into every snapshot
 * made the snapshot of 1,000 partitions twenty times slower). The lock is
 * waited for at most MGR_PLAN_LOCK_WAIT seconds: a mutation stalled on the
 * backend makes it -EBUSY, never a read that hangs. */
static int mgr_plan_model(struct part_mgr *mgr, const struct part_policy *pol, json_t **ret,
                          struct part_error *err)
{
    struct part_plan plan = {0};
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += MGR_PLAN_LOCK_WAIT;
    if (pthread_mutex_timedlock(&mgr->lock, &until) != 0)
        return part_error_set(err, -EBUSY, "",
                              "partd is busy with a change the backend has not finished; ask "
                              "for the preview again");
    int r = part_plan_make(mgr->cpc, pol, mgr_mono_now(), &plan, err);
    if (r == 0 && !(*ret = part_plan_reply_json(&plan, pol->name, mgr->samples)))
        r = part_error_oom(err);
    pthread_mutex_unlock(&mgr->lock);
    part_plan_clear(&plan);
    return r;
}

/* A dry run reads the snapshot, not the model: it must answer while a
 * mutation holds the lock on a stalled backend (but for mgr_plan_model()'s
 * case, which waits a bounded time). */
int part_mgr_plan(struct part_mgr *mgr, const char *policy, json_t **ret, struct part_error *err)
{
    struct part_policy pol;
    int r;
    if (policy) {
        if ((r = part_name_check(policy, "policy", "policy name", err)) < 0)
            return r;
        if ((r = mgr_policy_load(mgr->cfg, policy, &pol, err)) < 0) {
            if (err) /* the caller's argument is at fault, not the policies directory */
                snprintf(err->field, sizeof(err->field), "policy");
            return r;
        }
    }
    struct part_snapshot *s = part_mgr_snapshot(mgr);
    if (policy && part_policy_acts(&pol) && !part_policy_acts(part_snapshot_info(s)->plan_policy)) {
        part_snapshot_put(s);
        return mgr_plan_model(mgr, &pol, ret, err);
    }
    r = part_snapshot_plan(s, policy ? &pol : NULL, mgr_mono_now(), ret, err);
    part_snapshot_put(s);
    return r;
}

int part_mgr_rebalance(struct part_mgr *mgr, const struct part_caller *caller, json_t **ret,
                       struct part_error *err)
{
    struct part_plan plan = {0};
    json_t *actions = json_array();
    int r;
    if (!actions)
        return part_error_oom(err);
    if ((r = mgr_lock_connected(mgr, err)) < 0) {
        json_decref(actions);
        return r;
    }
    double now = mgr_mono_now();
    r = part_plan_make(mgr->cpc, &mgr->policy, now, &plan, err);
    if (r == 0) {
        mgr->last_plan = now;
        mgr_apply_plan(mgr, &plan, caller ? caller : &mgr_api_unknown, actions);
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
int mgr_policy_load(const struct part_config *cfg, const char *name, struct part_policy *ret,
                    struct part_error *err)
{
    int r = part_policy_load(cfg->policies_dir, name, ret, err);
    if (r == -ENOENT && strcmp(name, "static") == 0) {
        part_error_clear(err);
        part_policy_default(ret);
        return 0;
    }
    return r;
}

/* Puts p's entry in part_mgr_policies_json()'s list at index at. */
static int mgr_policies_add(json_t *list, size_t at, const struct part_policy *p,
                            const char *active)
{
    return json_array_insert_new(list, at,
                                 json_pack("{s:s, s:s, s:b}", "name", p->name, "description",
                                           p->description, "active", strcmp(p->name, active) == 0));
}

static int mgr_policies_select(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return n > 5 && e->d_name[0] != '.' && strcmp(e->d_name + n - 5, ".json") == 0;
}

json_t *part_mgr_policies_json(struct part_mgr *mgr)
{
    struct part_snapshot *s = part_mgr_snapshot(mgr);
    const char *active = part_snapshot_info(s)->policy;
    json_t *list = json_array();
    struct dirent **files = NULL;
    bool have_static = false;
    int n = scandir(mgr->cfg->policies_dir, &files, mgr_policies_select, alphasort);
    int r = list ? 0 : -1;

    for (int i = 0; i < n; i++) {
        struct part_policy p;
        char name[PART_NAME_MAX];
        size_t len = strlen(files[i]->d_name) - 5;
        if (r == 0 && len < sizeof(name)) {
            memcpy(name, files[i]->d_name, len);
            name[len] = '\0';
            /* a static.json replaces the built-in one, even an invalid one
             * (PUT /v1/policy would refuse it) */
            have_static |= strcmp(name, "static") == 0;
            if (mgr_policy_load(mgr->cfg, name, &p, NULL) == 0)
                r = mgr_policies_add(list, json_array_size(list), &p, active);
        }
        free(files[i]);
    }
    free(files);
    if (r == 0 && !have_static) { /* the built-in one, in its place by name */
        struct part_policy p;
        size_t at = 0;
        part_policy_default(&p);
        while (at < json_array_size(list) &&
               strcmp(json_string_value(json_object_get(json_array_get(list, at), "name")),
                      p.name) < 0)
            at++;
        r = mgr_policies_add(list, at, &p, active);
    }
    part_snapshot_put(s);
    json_t *ret = r == 0 ? json_pack("{s:O}", "policies", list) : NULL;
    json_decref(list);
    return ret;
}

json_t *part_mgr_policy_json(struct part_mgr *mgr)
{
    struct part_snapshot *s = part_mgr_snapshot(mgr);
    json_t *j = part_snapshot_policy_json(s);
    part_snapshot_put(s);
    return j;
}

int part_mgr_policy_set(struct part_mgr *mgr, const char *name, const struct part_caller *caller,
                        struct part_error *err)
{
    struct part_policy pol;
    int r = part_name_check(name, "name", "policy name", err);
    if (r < 0)
        return r;
    if ((r = mgr_policy_load(mgr->cfg, name, &pol, err)) < 0) {
        if (err) /* the caller's argument is at fault, not the policies directory */
            snprintf(err->field, sizeof(err->field), "name");
        return r;
    }
    pthread_mutex_lock(&mgr->lock);
    char old[PART_NAME_MAX];
    snprintf(old, sizeof(old), "%s", mgr->policy.name);
    mgr->policy = pol;
    for (size_t i = 0; i < mgr->cpc->n; i++)
        if (mgr->cpc->parts[i]->history &&
            mgr->cpc->parts[i]->history->rolling.window != pol.dc_window)
            part_history_set_window(mgr->cpc->parts[i]->history, pol.dc_window);
    mgr_note_caller(mgr, PART_LOG_INFO, "policy", NULL, caller, "policy %s -> %s", old, pol.name);
    mgr_save_state(mgr);
    mgr_publish(mgr);
    pthread_mutex_unlock(&mgr->lock);
    return 0;
}
