/* Re-reading the partitions directory (SIGHUP): new, changed and removed
 * profiles. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "manager-internal.h"

/* Whether two profiles define the same partition, field by field, and from
 * the same template text (a template edited in place is a change). */
static bool profile_equal(const struct part_profile *a, const struct part_profile *b)
{
    const char *ta = a->domain_template_xml, *tb = b->domain_template_xml;
    json_t *x = part_profile_to_json(a), *y = part_profile_to_json(b);
    bool eq = x && y && json_equal(x, y) && (ta == tb || (ta && tb && strcmp(ta, tb) == 0));
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

    /* files (templates too) are read before the lock: none can hold it */
    int r =
        part_profiles_load_dir(mgr->cfg->partitions_dir, &mgr->cfg->paths, PART_HOSTPATH_CREATE_LOG,
                               &profiles, &n, &errors, &n_errors, err);
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
        if (present || p->move != PART_MOVE_NONE) /* a move decides what becomes of it */
            continue;
        mgr_log(mgr, PART_LOG_WARNING, "%s: profile removed; domain %s is no longer managed",
                p->profile->name, p->profile->domain_name);
        p->active = false; /* forgotten, not stopped */
        part_cpc_undefine(mgr->cpc, p->profile->name, NULL);
    }
    for (size_t i = 0; i < n; i++) {
        struct part_partition *p = part_cpc_find(mgr->cpc, profiles[i]->name);
        struct part_error e = {0};
        if (p && (p->move != PART_MOVE_NONE || profile_equal(p->profile, profiles[i])))
            continue;
        if (p) {
            if (part_cpc_replace_profile(mgr->cpc, p, profiles[i], &e) < 0) {
                mgr_log(mgr, PART_LOG_ERROR, "%s: %s (left as it was)", profiles[i]->name,
                        e.message);
                continue;
            }
            profiles[i] = NULL;
            if (!p->active && !p->profile->adopt && mgr_define_domain(mgr, p, &e) < 0)
                mgr_log(mgr, PART_LOG_ERROR, "%s: cannot redefine its domain: %s", p->profile->name,
                        e.message);
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
