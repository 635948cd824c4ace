/* Lifecycle events from the backend: a domain started or stopped outside
 * partd. The backend's event-loop thread only queues them; the manager's
 * own thread handles them under the manager's lock (mgr_thread), so that
 * the backend's event loop never waits on that lock. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manager-internal.h"

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

/* From the backend's event-loop thread: queue, and wake the manager. */
static void mgr_on_event(const char *domain, enum part_hv_event event, void *opaque)
{
    struct mgr_sink *s = opaque;
    pthread_mutex_lock(&s->lock);
    if (s->mgr)
        mgr_queue_event(s->mgr, domain, event);
    pthread_mutex_unlock(&s->lock);
}

int mgr_events_listen(struct part_mgr *mgr, struct part_error *err)
{
    if (!mgr->sink && !(mgr->sink = mgr_sink_new(mgr)))
        return part_error_oom(err);
    return part_hv_events(mgr->hv, mgr_on_event, mgr->sink, err);
}

void mgr_events_close(struct part_mgr *mgr)
{
    if (!mgr->sink)
        return;
    pthread_mutex_lock(&mgr->sink->lock);
    mgr->sink->mgr = NULL;
    pthread_mutex_unlock(&mgr->sink->lock);
}

/* A domain started or stopped outside partd (or by partd itself: then the
 * model already agrees and nothing changes). */
void mgr_handle_event(struct part_mgr *mgr, const struct mgr_event *e)
{
    struct part_partition *p = NULL;
    for (size_t i = 0; i < mgr->cpc->n && !p; i++)
        if (strcmp(mgr->cpc->parts[i]->profile->domain_name, e->domain) == 0)
            p = mgr->cpc->parts[i];
    /* no backend now: reconnecting reconciles anyway; a partition being
     * deactivated is the deactivation's to record */
    if (!p || !mgr->hv || p->deactivating || p->move != PART_MOVE_NONE)
        return; /* ... and a move is recorded by the move */
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
        /* a start queued before partd's own deactivation is stale: the
         * domain must run now (as a stop above must still hold) */
        struct part_hv_domain d;
        if (part_hv_lookup(mgr->hv, e->domain, &d, NULL) < 0 || !d.active)
            return;
        /* a domain of the partition's name that partd did not define is
         * not the partition running */
        if (!mgr_domain_ours(p, &d))
            return;
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
