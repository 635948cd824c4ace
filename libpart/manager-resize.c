/* The resize path: a change request read from its JSON body, checked
 * against the partition's bounds and the CPC's capacity before anything is
 * applied, applied through the backend one running setting at a time, and
 * listed as changes with what the backend said of each. Every step reads
 * the settings table (setting.h) instead of naming the settings again. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "manager-internal.h"

const char *part_change_status_name(enum part_change_status s)
{
    static const char *const names[] = {
        [PART_CHANGE_APPLIED] = "applied",     [PART_CHANGE_UNSUPPORTED] = "unsupported",
        [PART_CHANGE_FAILED] = "failed",       [PART_CHANGE_SAVED] = "saved",
        [PART_CHANGE_NOT_TRIED] = "not-tried", [PART_CHANGE_UNCONFIRMED] = "unconfirmed",
    };
    return names[s];
}

/* The request */

/* A resize body as the table reader stores it: each setting in the C type
 * of its JSON type (setting.h), whether it was given, and the scope. */
struct resize_body {
    union {
        unsigned count;
        uint64_t mib;
        double cap;
    } v[PART_SET_ALL];
    bool given[PART_SET_ALL];
    int scope;
};

/* Marks the setting at path as given (a member's .after). */
static int resize_given(json_t *v, const char *path, void *out, struct part_error *err)
{
    struct resize_body *b = out;
    b->given[part_setting_by_name(path)] = true;
    return 0;
}

/* The body's members, made from the settings table once: one per setting,
 * then scope. */
static struct part_json_member resize_members[PART_SET_ALL + 2];
static pthread_once_t resize_members_once = PTHREAD_ONCE_INIT;

static void resize_members_fill(void)
{
    static const struct part_json_choice scopes[] = {
        {"running", PART_SCOPE_RUNNING},
        {"profile", PART_SCOPE_PROFILE},
        {"both", PART_SCOPE_BOTH},
        {NULL, 0},
    };
    static const enum part_json_type types[] = {
        [PART_SETTING_COUNT] = PART_JSON_UINT,
        [PART_SETTING_SIZE] = PART_JSON_SIZE,
        [PART_SETTING_CAP] = PART_JSON_CAP,
    };
    for (enum part_setting s = 0; s < PART_SET_ALL; s++) {
        const struct part_setting_desc *d = part_setting_desc(s);
        resize_members[s] = (struct part_json_member){
            .key = d->name,
            .type = types[d->type],
            .offset = offsetof(struct resize_body, v) + s * sizeof(((struct resize_body *)0)->v[0]),
            .lo = d->min,
            .hi = d->max,
            .none = PART_CAP_NONE,
            .after = resize_given,
        };
    }
    resize_members[PART_SET_ALL] = (struct part_json_member){
        "scope", PART_JSON_ENUM, .offset = offsetof(struct resize_body, scope), .choices = scopes,
        .what = "not running, profile or both"};
}

/* "processors, memory, ... or weight_max": the settings a request may give. */
static const char *resize_settings_text(char *buf, size_t len)
{
    buf[0] = '\0';
    for (enum part_setting s = 0; s < PART_SET_ALL; s++)
        snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
                 s == 0                  ? ""
                 : s + 1 == PART_SET_ALL ? " or "
                                         : ", ",
                 part_setting_name(s));
    return buf;
}

int part_resize_parse(const char *text, size_t len, struct part_resize *ret, struct part_error *err)
{
    struct resize_body b = {.scope = PART_SCOPE_BOTH};
    struct part_resize req = {0};
    bool any = false;
    char list[128];
    int r;

    pthread_once(&resize_members_once, resize_members_fill);
    if ((r = part_json_read_text(text, len, resize_members, &b, err)) < 0)
        return r;
    for (enum part_setting s = 0; s < PART_SET_ALL; s++) {
        enum part_setting_type t = part_setting_desc(s)->type;
        req.has[s] = b.given[s];
        req.to[s] = t == PART_SETTING_COUNT  ? b.v[s].count
                    : t == PART_SETTING_SIZE ? (double)b.v[s].mib
                                             : b.v[s].cap;
        any |= req.has[s];
    }
    if (!any)
        return part_error_set(err, -ENODATA, "", "nothing to change: give %s",
                              resize_settings_text(list, sizeof(list)));
    req.scope = b.scope;
    *ret = req;
    return 0;
}

/* The check */

/* What the request leaves of the weight's bounds, into *lo and *hi. */
static void resize_weight_bounds(const struct part_profile *pp, const struct part_resize *req,
                                 double *lo, double *hi)
{
    *lo = req->has[PART_SET_WEIGHT_MIN] ? req->to[PART_SET_WEIGHT_MIN] : pp->weight_min;
    *hi = req->has[PART_SET_WEIGHT_MAX] ? req->to[PART_SET_WEIGHT_MAX] : pp->weight_max;
}

/* The request on its own, against the partition's mode, state and bounds. */
static int resize_check_request(const struct part_partition *p, const struct part_resize *req,
                                struct part_error *err)
{
    const struct part_profile *pp = p->profile;
    double lo, hi;

    if (req->scope == PART_SCOPE_RUNNING && !p->active)
        return part_error_set(err, -EBUSY, "scope",
                              "%s is inactive: scope running needs an active partition", pp->name);
    for (enum part_setting s = PART_SET_N; s < PART_SET_ALL; s++)
        if (req->scope == PART_SCOPE_RUNNING && req->has[s])
            return part_error_set(err, -EINVAL, part_setting_name(s),
                                  "%s: weight bounds are profile settings; use scope profile or "
                                  "both",
                                  part_setting_name(s));
    for (enum part_setting s = 0; s < PART_SET_ALL; s++)
        if (pp->mode == PART_MODE_DEDICATED && req->has[s] && part_setting_desc(s)->shared_only)
            return part_error_set(err, -EINVAL, part_setting_name(s),
                                  "%s: dedicated partitions have no weight or cap",
                                  part_setting_name(s));
    resize_weight_bounds(pp, req, &lo, &hi);
    if (lo > hi)
        return part_error_set(err, -EINVAL, "weight_min",
                              "weight_min (%.0f) exceeds weight_max (%.0f)", lo, hi);
    double w = req->to[PART_SET_WEIGHT];
    if (req->has[PART_SET_WEIGHT] && (w < lo || w > hi))
        return part_error_set(err, -ERANGE, "weight", "weight (%.0f) is outside %.0f-%.0f", w, lo,
                              hi);
    return 0;
}

/* The running values the request leaves, against the CPC's capacity; new
 * weight bounds apply at once (the policy works within them), so the
 * running weight must end up inside them too. */
static int resize_check_running(const struct part_cpc *cpc, const struct part_partition *p,
                                const struct part_resize *req, struct part_error *err)
{
    bool running = req->scope & PART_SCOPE_RUNNING;
    double after[PART_SET_N], lo, hi;
    int r;

    if (!p->active)
        return 0;
    for (enum part_setting s = 0; s < PART_SET_N; s++)
        after[s] = running && req->has[s] ? req->to[s] : part_setting_running(p, s);
    if (running && (r = part_cpc_check_resize(cpc, p, (unsigned)after[PART_SET_PROCESSORS],
                                              (uint64_t)after[PART_SET_MEMORY], err)) < 0)
        return r;
    resize_weight_bounds(p->profile, req, &lo, &hi);
    if ((req->scope & PART_SCOPE_PROFILE) && p->profile->mode == PART_MODE_SHARED &&
        (after[PART_SET_WEIGHT] < lo || after[PART_SET_WEIGHT] > hi))
        return part_error_set(err, -ERANGE, "weight",
                              "the running weight (%.0f) would be outside %.0f-%.0f: give a weight "
                              "with scope both",
                              after[PART_SET_WEIGHT], lo, hi);
    return 0;
}

/* The profile the request leaves, into next (a copy of p's profile). */
static int resize_check_profile(const struct part_cpc *cpc, const struct part_partition *p,
                                const struct part_resize *req, struct part_profile *next,
                                struct part_error *err)
{
    double lo, hi;
    int r;

    for (enum part_setting s = 0; s < PART_SET_ALL; s++)
        if (req->has[s])
            part_setting_set_profile(next, s, req->to[s]);
    resize_weight_bounds(p->profile, req, &lo, &hi);
    if (next->weight_initial < lo || next->weight_initial > hi)
        return part_error_set(err, -ERANGE, "weight",
                              "weight.initial (%u) would be outside %.0f-%.0f: give a weight",
                              next->weight_initial, lo, hi);
    if ((r = part_profile_validate(next, err)) < 0 ||
        (r = part_cpc_check_profile(cpc, p, next, err)) < 0) {
        /* name the request's field, not the profile's (processors.min) */
        for (enum part_setting s = 0; err && s < PART_SET_N; s++)
            if (strncmp(err->field, part_setting_name(s), strlen(part_setting_name(s))) == 0)
                snprintf(err->field, sizeof(err->field), "%s", part_setting_name(s));
        return r == -EINVAL ? -ERANGE : r;
    }
    return 0;
}

/* Checks req against p on cpc; nothing is applied. next (a copy of p's
 * profile) receives the profile the request leaves. */
static int resize_check(const struct part_cpc *cpc, const struct part_partition *p,
                        const struct part_resize *req, struct part_profile *next,
                        struct part_error *err)
{
    int r;
    if ((r = resize_check_request(p, req, err)) < 0 ||
        (r = resize_check_running(cpc, p, req, err)) < 0)
        return r;
    return req->scope & PART_SCOPE_PROFILE ? resize_check_profile(cpc, p, req, next, err) : 0;
}

/* The changes */

static struct part_change *change_add(struct part_changes *c, enum part_setting s,
                                      enum part_scope scope, double from, double to)
{
    struct part_change *ch = &c->items[c->n++];
    *ch = (struct part_change){.setting = s, .scope = scope, .from = from, .to = to};
    return ch;
}

json_t *part_changes_to_json(const struct part_changes *c)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < c->n; i++) {
        const struct part_change *ch = &c->items[i];
        json_t *e = json_pack("{s:s, s:s, s:o, s:o, s:s}", "field", part_setting_name(ch->setting),
                              "scope", ch->scope == PART_SCOPE_RUNNING ? "running" : "profile",
                              "from", part_setting_json(ch->setting, ch->from), "to",
                              part_setting_json(ch->setting, ch->to), "status",
                              part_change_status_name(ch->status));
        if (e && ch->detail[0])
            json_object_set_new(e, "detail", json_string(ch->detail));
        if (!e || json_array_append_new(a, e) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

const char *part_changes_text(const struct part_changes *c, char *buf, size_t len)
{
    buf[0] = '\0';
    for (size_t i = 0; i < c->n && strlen(buf) + 64 < len; i++) {
        const struct part_change *ch = &c->items[i];
        char from[32], to[32];
        snprintf(buf + strlen(buf), len - strlen(buf), "%s%s %s %s->%s %s", i ? "; " : "",
                 ch->scope == PART_SCOPE_RUNNING ? "running" : "profile",
                 part_setting_name(ch->setting),
                 part_setting_text(ch->setting, ch->from, from, sizeof(from)),
                 part_setting_text(ch->setting, ch->to, to, sizeof(to)),
                 part_change_status_name(ch->status));
    }
    return buf;
}

/* Applying */

void mgr_record(struct part_partition *p, enum part_setting s, int r, const struct part_error *err)
{
    struct part_backend_status *b = &p->backend[s];
    b->status = r == 0              ? PART_APPLY_APPLIED
                : r == -EINPROGRESS ? PART_APPLY_UNCONFIRMED
                : r == -ENOTSUP     ? PART_APPLY_UNSUPPORTED
                                    : PART_APPLY_FAILED;
    snprintf(b->detail, sizeof(b->detail), "%s", r == 0 || !err ? "" : err->message);
}

int mgr_resize_apply(struct part_mgr *mgr, struct part_partition *p, enum part_setting s, double to,
                     struct part_changes *c)
{
    unsigned flags = PART_HV_LIVE;
    struct part_error err = {0};

    if (s == PART_SET_PROCESSORS && p->profile->guest_agent)
        flags |= PART_HV_GUEST; /* processors vary offline in the guest */
    struct part_change *ch = change_add(c, s, PART_SCOPE_RUNNING, part_setting_running(p, s), to);
    int r = part_hv_set(mgr->hv, p->profile->domain_name, s, to, flags, &err);
    /* Accepted but not yet seen done counts as the new running value,
     * marked unconfirmed until the monitor sees it (mgr_confirm). A weight
     * or cap the backend cannot enforce stands as partd's value, shown so. */
    bool taken = r == 0 ||
                 (r == -EINPROGRESS && (s == PART_SET_PROCESSORS || s == PART_SET_MEMORY)) ||
                 (r == -ENOTSUP && (s == PART_SET_WEIGHT || s == PART_SET_CAP));
    if (taken) {
        part_cpc_set_setting(mgr->cpc, p, s, to);
        mgr_record(p, s, r, &err);
        p->changed_at[s] = mgr_mono_now();
    }
    ch->status = !taken              ? PART_CHANGE_FAILED
                 : r == 0            ? PART_CHANGE_APPLIED
                 : r == -EINPROGRESS ? PART_CHANGE_UNCONFIRMED
                                     : PART_CHANGE_UNSUPPORTED;
    snprintf(ch->detail, sizeof(ch->detail), "%s", r == 0 ? "" : err.message);
    /* a change the backend cannot make at all is not a backend failure */
    return taken ? 0 : r == -ENOTSUP ? -ENOTSUP : -EIO;
}

/* The running changes of req, in the table's order; after a failure the
 * rest are listed as not tried. */
static int resize_apply_running(struct part_mgr *mgr, struct part_partition *p,
                                const struct part_resize *req, struct part_changes *c)
{
    int r = 0;
    for (enum part_setting s = 0; s < PART_SET_N; s++) {
        double now = part_setting_running(p, s);
        if (!req->has[s] || req->to[s] == now)
            continue;
        if (r < 0)
            change_add(c, s, PART_SCOPE_RUNNING, now, req->to[s])->status = PART_CHANGE_NOT_TRIED;
        else
            r = mgr_resize_apply(mgr, p, s, req->to[s], c);
    }
    mgr_save_state(mgr);
    return r;
}

/* The profile changes of req: next written to the partition's file and made
 * its profile (*next taken then). A no-op is no change. */
static int resize_apply_profile(struct part_mgr *mgr, struct part_partition *p,
                                const struct part_resize *req, struct part_profile **next,
                                struct part_changes *c, struct part_error *err)
{
    size_t before = c->n;
    int r;

    for (enum part_setting s = 0; s < PART_SET_ALL; s++) {
        double from = part_setting_profile(p->profile, s), to = part_setting_profile(*next, s);
        if (req->has[s] && from != to)
            change_add(c, s, PART_SCOPE_PROFILE, from, to)->status = PART_CHANGE_SAVED;
    }
    if (c->n == before)
        return 0;
    if ((r = mgr_write_profile(mgr, *next, err)) < 0) {
        c->n = before;
        return r;
    }
    if ((r = part_cpc_replace_profile(mgr->cpc, p, *next, err)) < 0)
        return r;
    *next = NULL;
    return 0;
}

int part_mgr_resize(struct part_mgr *mgr, const char *name, const struct part_resize *req,
                    const struct part_caller *caller, struct part_changes *c,
                    struct part_error *err)
{
    struct part_profile *next = NULL;
    struct part_partition *p;
    char what[256];
    int r;

    c->n = 0;
    if ((r = mgr_lock_partition(mgr, name, &p, err)) < 0)
        return r;
    if (!(next = part_profile_dup(p->profile))) {
        r = part_error_oom(err);
        goto out;
    }
    if ((r = resize_check(mgr->cpc, p, req, next, err)) < 0)
        goto out;
    if ((req->scope & PART_SCOPE_RUNNING) && p->active)
        r = resize_apply_running(mgr, p, req, c);
    if ((req->scope & PART_SCOPE_PROFILE) && r == 0) {
        if ((r = resize_apply_profile(mgr, p, req, &next, c, err)) < 0)
            goto out;
    } else if (req->scope & PART_SCOPE_PROFILE) {
        part_error_set(err, r, "", "%s: a running change failed; the profile was not changed",
                       name);
    }
    if (r < 0 && c->n)
        part_error_set(err, r, err ? err->field : "",
                       "%s: not every change was applied; see changes", name);
    if (c->n) /* a request that changed nothing is no event */
        mgr_note_caller(mgr, r < 0 ? PART_LOG_WARNING : PART_LOG_INFO, "resized", name, caller,
                        "%s", part_changes_text(c, what, sizeof(what)));
    mgr_publish(mgr);
out:
    part_profile_free(next);
    pthread_mutex_unlock(&mgr->lock);
    return r;
}
