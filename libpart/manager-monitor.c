/* The manager's own thread: every interval a tick (one bulk-stats sample
 * of every active partition, confirmation of unconfirmed changes, a
 * reconnect attempt while the backend is away, the policy's plan when it is
 * due), and the backend's lifecycle events as they are queued. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "manager-internal.h"

/* One bulk-stats sample of every active partition into its history. The
 * records are matched to partitions through a sorted index of domain names:
 * a thousand domains must not cost a million comparisons. */
struct sample_ctx {
    struct part_mgr *mgr;
    double t;
    double wall;                       /* t on the wall clock, for the trends */
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

/* The console's point of p for the sample just added to its history (the
 * trend is made at p's first sample, for the configured interval). */
static void mgr_trend_add(struct sample_ctx *ctx, struct part_partition *p, bool mem_valid,
                          uint64_t mem_actual)
{
    const struct part_sample *s = part_history_get(p->history, 0);
    bool shared = p->profile->mode == PART_MODE_SHARED;

    if (!p->trend && !(p->trend = part_trend_new(ctx->mgr->cfg->interval)))
        return;
    struct part_trend_point pt = {
        .at = ctx->wall,
        .used = s && s->valid ? (float)s->used : NAN,
        .entitlement = (float)p->entitlement,
        .weight = shared ? p->weight : 0,
        .online = s ? s->online : p->processors,
        .mem_target = (uint32_t)p->memory,
        .mem_actual = mem_valid ? (uint32_t)mem_actual : 0,
    };
    part_trend_add(p->trend, &pt);
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
                     st->has_balloon_guest, st->balloon_current / 1024,
                     st->balloon_available / 1024, st->balloon_unused / 1024);
    if (st->has_balloon_usable)
        part_history_add_usable(p->history, st->balloon_usable / 1024);
    part_history_add_paging(p->history, st->has_major_fault, st->balloon_major_fault, st->has_swap,
                            st->balloon_swap_in, st->balloon_swap_out);
    mgr_trend_add(ctx, p, st->has_balloon_guest, st->balloon_current / 1024);
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
    struct sample_ctx ctx = {.mgr = mgr,
                             .t = now,
                             .wall = now + mgr_wall_now() - mgr_mono_now(),
                             .by_domain = by_domain,
                             .n = n};
    int r = n ? part_hv_stats(mgr->hv, names, n, mgr_on_stats, &ctx, &err) : 0;
    /* the host's free memory bounds what the memory rule gives: unknown
     * (not a bound) when the backend cannot say */
    struct part_error merr = {0};
    if (part_hv_memory(mgr->hv, &mgr->cpc->host, &merr) < 0)
        mgr->cpc->host = (struct part_host_memory){0};
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
    mgr->samples++;
out:
    free(names);
    free(by_domain);
}

/* Every interval: sample; every policy interval: plan and apply. */
static void mgr_tick(struct part_mgr *mgr)
{
    double now = mgr_mono_now();
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
    mgr_policy_tick(mgr, now);
    mgr_move_expire(mgr, now);
    mgr_publish(mgr);
    pthread_mutex_unlock(&mgr->lock);
}

void *mgr_thread(void *opaque)
{
    struct part_mgr *mgr = opaque;
    double next = mgr_mono_now() + mgr->cfg->interval;

    pthread_mutex_lock(&mgr->ev_lock);
    while (!mgr->stopping) {
        mgr->alive = mgr_mono_now();
        if (mgr->n_queued == 0) {
            double now = mgr_mono_now();
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

double part_mgr_alive(struct part_mgr *mgr)
{
    return mgr->alive;
}
