/* The model brought in line with the backend's domains: domains defined,
 * adopted as they run, or re-activated with saved running values (at start
 * and after the backend came back), running values read back and
 * confirmed, weights and caps sent, shared partitions pinned to the pool. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manager-internal.h"

/* Where p's processors may run: the pool for shared partitions, its own
 * CPUs for dedicated ones. buf has room for every host CPU. */
static struct part_placement mgr_placement(struct part_mgr *mgr, const struct part_partition *p,
                                           unsigned *buf)
{
    if (p->profile->mode == PART_MODE_DEDICATED)
        return (struct part_placement){.cpus = p->cpus, .n = p->active ? p->processors : 0};
    return (struct part_placement){.cpus = buf, .n = part_cpc_pool_cpus(mgr->cpc, buf)};
}

bool mgr_domain_ours(const struct part_partition *p, const struct part_hv_domain *d)
{
    return p->profile->adopt || strcmp(d->owner, p->profile->name) == 0;
}

int mgr_define_domain(struct part_mgr *mgr, struct part_partition *p, struct part_error *err)
{
    unsigned *buf = calloc(mgr->cpc->cpus + 1, sizeof(*buf));
    if (!buf)
        return part_error_oom(err);
    struct part_placement pl = mgr_placement(mgr, p, buf);
    int r = part_hv_define(mgr->hv, p->profile, &pl, err);
    free(buf);
    struct part_hv_domain d;
    /* the backend refused to replace a domain; libvirt has other conflicts
     * (a UUID taken), so the mark decides what the status says */
    if (r == -EEXIST)
        p->foreign = part_hv_lookup(mgr->hv, p->profile->domain_name, &d, NULL) == 0 &&
                     !mgr_domain_ours(p, &d);
    else if (r == 0)
        p->foreign = false;
    return r;
}

int mgr_undefine_domain(struct part_mgr *mgr, struct part_partition *p, struct part_error *err)
{
    const struct part_profile *pp = p->profile;
    if (pp->adopt)
        return 1;
    struct part_error e = {0};
    int r = part_hv_undefine(mgr->hv, pp->domain_name, &e);
    if (r == -ENOENT)
        return 0;
    if (r == -EEXIST) { /* not partd's: the backend touched nothing */
        mgr_log(mgr, PART_LOG_WARNING, "%s", e.message);
        return 1;
    }
    if (r < 0 && err)
        *err = e;
    return r;
}

/* The shared pool changed (a dedicated partition took or gave back host
 * CPUs): the shared partitions' processors follow it, live and in their
 * definitions. A backend that cannot pin is left alone. */
void mgr_repin_shared(struct part_mgr *mgr)
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
        int r =
            part_hv_pin(mgr->hv, p->profile->domain_name, &pl, PART_HV_LIVE | PART_HV_CONFIG, &err);
        if (r == -ENOTSUP)
            break; /* the same for every domain of this backend */
        if (r < 0)
            mgr_log(mgr, PART_LOG_WARNING, "%s: not moved to the new shared pool: %s",
                    p->profile->name, err.message);
    }
    free(buf);
}

/* Sends the running weight and cap to the backend and records the answer. */
void mgr_apply_weight_cap(struct part_mgr *mgr, struct part_partition *p)
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

/* Reads the running processors back from the backend. The memory target
 * is target (MiB, 0: what the domain reports): right after a start the
 * balloon is still at the domain's maximum and reaches the target later, so
 * the target stands, unconfirmed until the domain reports it (mgr_confirm). */
int mgr_read_back(struct part_mgr *mgr, struct part_partition *p, uint64_t target,
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
    char *detail = p->backend[PART_SET_MEMORY].detail;
    detail[0] = '\0';
    if (d.memory != target)
        snprintf(detail, sizeof(p->backend[PART_SET_MEMORY].detail),
                 "%s: balloon at %llu MiB on its way to %llu MiB", p->profile->name,
                 (unsigned long long)d.memory, (unsigned long long)target);
    return 0;
}

/* Confirms running values that were accepted but not yet seen done: the
 * balloon reached its target, the guest shows its processors. */
void mgr_confirm(struct part_mgr *mgr)
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
        if (p->backend[PART_SET_MEMORY].status == PART_APPLY_UNCONFIRMED && d.memory == p->memory) {
            mgr_record(p, PART_SET_MEMORY, 0, NULL);
            mgr_note(mgr, PART_LOG_INFO, "confirmed", p->profile->name, "backend",
                     "memory at %llu MiB", (unsigned long long)d.memory);
        }
    }
}

/* The backend stopped answering: drop the connection, keep serving the last
 * snapshot (marked disconnected), and retry with backoff. */
void mgr_disconnect(struct part_mgr *mgr, double now, const char *why)
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
void mgr_reconnect(struct part_mgr *mgr, double now)
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
    mgr_events_listen(mgr, NULL);
    /* the model as it was is the state to restore: weights and caps stand */
    struct part_state st = {.entries = calloc(mgr->cpc->n + 1, sizeof(*st.entries))};
    for (size_t i = 0; st.entries && i < mgr->cpc->n; i++) {
        const struct part_partition *p = mgr->cpc->parts[i];
        struct part_state_entry *e = &st.entries[st.n++];
        snprintf(e->name, sizeof(e->name), "%s", p->profile->name);
        e->active = p->active;
        e->running[PART_SET_WEIGHT] = p->weight;
        e->running[PART_SET_CAP] = p->cap;
    }
    for (size_t i = 0; i < mgr->cpc->n; i++) {
        struct part_partition *p = mgr->cpc->parts[i];
        bool was = p->active;
        if (p->move == PART_MOVE_IN) /* not here yet: its adoption says when it is */
            continue;
        p->active = false; /* let the domain say */
        part_cpc_compute(mgr->cpc);
        if (mgr_reconcile_domain(mgr, p, &st) != 1 && was)
            mgr_note(mgr, PART_LOG_WARNING, "stopped", p->profile->name, "backend",
                     "its domain stopped while the backend was away");
    }
    part_state_clear(&st);
    mgr_repin_shared(mgr);
    mgr_save_state(mgr);
    mgr_note(mgr, PART_LOG_INFO, "connected", NULL, "backend", "backend %s is back", mgr->cfg->uri);
}

/* Brings one partition in line with its domain: a running domain is
 * adopted as it runs, a missing one defined. Returns 1 when the partition
 * is now active, 0 when inactive with its domain ready, -1 when not ready. */
int mgr_reconcile_domain(struct part_mgr *mgr, struct part_partition *p,
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
    /* neither adopted as it runs nor redefined: see docs/design.md */
    p->foreign = r == 0 && !mgr_domain_ours(p, &d);
    if (p->foreign) {
        mgr_note(mgr, PART_LOG_ERROR, "foreign", pp->name, "partd",
                 "domain %s exists and partd did not define it (no partd mark): left as it is, "
                 "the partition inactive; adopt it with domain.adopt, mark it as partd's, or "
                 "remove it",
                 pp->domain_name);
        return -1;
    }
    if (r == 0 && d.active) {
        /* running: adopt what runs; weight and cap are partd's to say */
        part_cpc_set_active(mgr->cpc, p, true);
        /* the memory target partd set (the balloon may still be moving) */
        mgr_read_back(mgr, p, e && e->active ? (uint64_t)e->running[PART_SET_MEMORY] : 0, NULL);
        if (e && e->active) {
            if (e->running[PART_SET_WEIGHT])
                p->weight = (unsigned)e->running[PART_SET_WEIGHT];
            p->cap = e->running[PART_SET_CAP];
        }
        mgr_apply_weight_cap(mgr, p);
        mgr_log(mgr, PART_LOG_INFO, "%s: running, adopted", pp->name);
        return 1;
    }
    if (p->move != PART_MOVE_NONE) /* gone with a move, or not here yet: never defined anew */
        return -1;
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
void mgr_reconcile(struct part_mgr *mgr, struct part_partition *p, const struct part_state *st)
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
        for (enum part_setting s = 0; s < PART_SET_N; s++)
            if (part_setting_allowed(real, s, e->running[s]))
                part_setting_set_profile(boot, s, e->running[s]);
        p->profile = boot;
    }
    r = mgr_activate(mgr, p, NULL, &err);
    p->profile = real;
    part_profile_free(boot);
    if (r < 0) {
        mgr_log(mgr, PART_LOG_ERROR, "%s: cannot activate: %s", pp->name, err.message);
        return;
    }
    if (e)
        mgr_log(mgr, PART_LOG_INFO, "%s: restored with its saved running values", pp->name);
}
