/* Moves to another CPC, the source's side (moves.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "moves.h"
#include "peer.h"

#define MOVE_ADOPT_TRIES 10 /* a second apart: the peer may be busy */

static pthread_mutex_t moves_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t moves_cond = PTHREAD_COND_INITIALIZER;
static unsigned moves_running; /* threads: moves and the resolver */
static bool moves_stopping;

/* A move under way, its thread's. */
struct move {
    struct part_mgr *mgr;
    const struct part_peer_config *peer; /* the manager's config's: lives as long */
    char name[PART_NAME_MAX];
    char id[PART_MOVE_ID_MAX];
    struct part_move_request req;
    struct part_caller caller;
    double started, last_note;
};

static double move_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* An HTTP status from the peer as an errno, for the one mapping in http.c. */
static int status_errno(long status)
{
    switch (status) {
    case 409:
        return -ENOSPC;
    case 404:
        return -ENOENT;
    case 422:
        return -EINVAL;
    case 501:
        return -ENOTSUP;
    case 401:
    case 403:
        return -EACCES;
    default:
        return -EIO;
    }
}

/* Calls the peer; a reply other than 2xx is its problem, into err. */
static int peer_ask(const struct part_peer_config *peer, const char *method, const char *path,
                    json_t *body, json_t **ret_reply, struct part_error *err)
{
    long status = 0;
    json_t *reply = NULL;
    int r = peer_call(peer, method, path, body, &status, &reply, err);
    if (r == 0 && (status < 200 || status > 299))
        r = peer_problem(peer, status, reply, status_errno(status), err);
    if (ret_reply)
        *ret_reply = reply;
    else
        json_decref(reply);
    return r;
}

/* POST /v1/moves on the peer: its checks into *ret_checks (NULL when it did
 * not answer with them). */
static int peer_admit(const struct part_peer_config *peer, const struct part_move_request *req,
                      json_t **ret_checks, struct part_error *err)
{
    json_t *body = part_move_request_json(req), *reply = NULL;
    if (!body)
        return part_error_oom(err);
    int r = peer_ask(peer, "POST", "/v1/moves", body, &reply, err);
    json_decref(body);
    json_t *checks = json_object_get(reply, "checks");
    *ret_checks = json_is_array(checks) ? json_incref(checks) : NULL;
    json_decref(reply);
    return r;
}

static int peer_release(const struct part_peer_config *peer, const char *id, struct part_error *err)
{
    char path[96];
    snprintf(path, sizeof(path), "/v1/moves/%s", id);
    return peer_ask(peer, "DELETE", path, NULL, NULL, err);
}

static int peer_adopt(const struct part_peer_config *peer, const char *id, json_t *req,
                      struct part_error *err)
{
    char path[96];
    snprintf(path, sizeof(path), "/v1/moves/%s/adopt", id);
    return peer_ask(peer, "POST", path, req, NULL, err);
}

static void move_progress(const struct part_hv_progress *p, void *opaque)
{
    struct move *m = opaque;
    part_mgr_move_note(m->mgr, false, "move-migrate", m->name, &m->caller,
                       "migrating to %s: %.1f s, %llu MiB sent, %llu MiB left of %llu MiB",
                       m->peer->name, p->elapsed_s, (unsigned long long)(p->processed >> 20),
                       (unsigned long long)(p->remaining >> 20),
                       (unsigned long long)(p->total >> 20));
}

static void move_record(struct move *m, enum part_move_step step, json_t *req)
{
    struct part_move_record rec = {.step = step, .request = req};
    struct part_error err = {0};
    snprintf(rec.id, sizeof(rec.id), "%s", m->id);
    snprintf(rec.partition, sizeof(rec.partition), "%s", m->name);
    snprintf(rec.peer, sizeof(rec.peer), "%s", m->peer->name);
    if (part_move_record_save(part_mgr_config(m->mgr)->state_dir, &rec, &err) < 0)
        log_msg(PART_LOG_ERROR, "%s: move record not written: %s", m->name, err.message);
}

static void move_forget_record(struct part_mgr *mgr, const char *name)
{
    struct part_error err = {0};
    if (part_move_record_remove(part_mgr_config(mgr)->state_dir, name, &err) < 0)
        log_msg(PART_LOG_ERROR, "%s: %s", name, err.message);
}

/* The failure of step: the guest runs on here, nothing stays on the peer. */
static void move_failed(struct move *m, const char *step, const struct part_error *why)
{
    struct part_error err = {0};
    if (strcmp(step, "reserve") != 0 && peer_release(m->peer, m->id, &err) < 0)
        log_msg(PART_LOG_WARNING,
                "%s: peer %s did not release move %s (its reservation "
                "expires): %s",
                m->name, m->peer->name, m->id, err.message);
    part_mgr_move_end(m->mgr, m->name, false, NULL);
    move_forget_record(m->mgr, m->name);
    part_mgr_move_note(m->mgr, true, "move-failed", m->name, &m->caller,
                       "move to %s failed at %s: %s; it runs on here", m->peer->name, step,
                       why->message);
}

/* Has the peer adopt the guest that left, a few tries apart. */
static int move_adopt(struct part_mgr *mgr, const struct part_peer_config *peer, const char *id,
                      json_t *req, struct part_error *err)
{
    int r = -EIO;
    for (int i = 0; i < MOVE_ADOPT_TRIES && r < 0; i++) {
        if (i)
            sleep(1);
        part_error_clear(err);
        r = peer_adopt(peer, id, req, err);
    }
    return r;
}

static void move_steps(struct move *m)
{
    struct part_error err = {0};
    json_t *checks = NULL, *req = NULL;

    m->req.reserve = true;
    snprintf(m->req.id, sizeof(m->req.id), "%s", m->id);
    if (!(req = part_move_request_json(&m->req))) {
        part_error_oom(&err);
        move_failed(m, "reserve", &err);
        return;
    }
    move_record(m, PART_MOVE_STEP_RESERVED, req); /* before: a crash after reserving knows */
    if (peer_admit(m->peer, &m->req, &checks, &err) < 0) {
        json_decref(checks);
        json_decref(req);
        move_failed(m, "reserve", &err);
        return;
    }
    json_decref(checks);
    part_mgr_move_note(m->mgr, false, "move-reserve", m->name, &m->caller,
                       "%s reserved %u processors and %llu MiB (move %s)", m->peer->name,
                       m->req.processors, (unsigned long long)m->req.memory, m->id);
    move_record(m, PART_MOVE_STEP_MIGRATING, req);
    struct part_hv_migration mig = {
        .dest_uri = m->peer->libvirt_uri,
        .data_uri = m->peer->data_uri,
        .max_downtime_ms = m->peer->max_downtime_ms,
        .timeout_s = m->peer->timeout_s,
    };
    part_mgr_move_note(m->mgr, false, "move-migrate", m->name, &m->caller,
                       "migrating live to %s (%s), downtime %u ms at most, timeout %u s",
                       m->peer->name, m->peer->libvirt_uri, mig.max_downtime_ms, mig.timeout_s);
    double migrating = move_now();
    if (part_mgr_move_migrate(m->mgr, m->name, &mig, move_progress, m, &err) < 0) {
        json_decref(req);
        move_failed(m, "migrate", &err);
        return;
    }
    double migrated = move_now() - migrating;
    /* the guest left: whatever the peer says, it is no longer this partd's */
    int r = move_adopt(m->mgr, m->peer, m->id, req, &err);
    part_mgr_move_end(m->mgr, m->name, true, NULL);
    if (r < 0) { /* the record stays: a restart asks again; the peer adopts at its deadline */
        part_mgr_move_note(m->mgr, true, "move-failed", m->name, &m->caller,
                           "moved to %s, but it did not adopt it: %s (it adopts it when its "
                           "reservation expires)",
                           m->peer->name, err.message);
    } else {
        move_forget_record(m->mgr, m->name);
        part_mgr_move_note(m->mgr, false, "move-adopt", m->name, &m->caller, "%s adopted it",
                           m->peer->name);
        part_mgr_move_note(m->mgr, false, "move-done", m->name, &m->caller,
                           "moved to %s in %.1f s (migration %.1f s)", m->peer->name,
                           move_now() - m->started, migrated);
    }
    json_decref(req);
}

static void move_thread_end(void)
{
    pthread_mutex_lock(&moves_lock);
    moves_running--;
    pthread_cond_broadcast(&moves_cond);
    pthread_mutex_unlock(&moves_lock);
}

static void *move_thread(void *arg)
{
    struct move *m = arg;
    move_steps(m);
    part_move_request_clear(&m->req);
    free(m);
    move_thread_end();
    return NULL;
}

/* Starts fn(arg) on a detached thread counted in moves_running. */
static int move_spawn(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    pthread_attr_t attr;
    pthread_mutex_lock(&moves_lock);
    if (moves_stopping) {
        pthread_mutex_unlock(&moves_lock);
        return -ECANCELED;
    }
    moves_running++;
    pthread_mutex_unlock(&moves_lock);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int r = -pthread_create(&t, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    if (r < 0)
        move_thread_end();
    return r;
}

int move_start(struct part_mgr *mgr, const char *name, const char *to, bool validate_only,
               const struct part_caller *caller, char ret_id[PART_MOVE_ID_MAX], json_t **ret_checks,
               struct part_error *err)
{
    const struct part_peer_config *peer = part_config_peer(part_mgr_config(mgr), to);
    struct move *m = NULL;
    int r;

    *ret_checks = NULL;
    if (!peer)
        return part_error_set(err, -EINVAL, "to", "to: no peer named %s in partd.json", to);
    if (!(m = calloc(1, sizeof(*m))))
        return part_error_oom(err);
    m->mgr = mgr;
    m->peer = peer;
    m->caller = *caller;
    m->started = move_now();
    snprintf(m->name, sizeof(m->name), "%s", name);
    part_move_id_new(m->id);
    m->req.timeout_s = peer->timeout_s;
    /* validation changes nothing: the partition is described, not marked */
    if ((r = part_mgr_move_begin(mgr, name, NULL, &m->req, err)) < 0)
        goto fail;
    m->req.timeout_s = peer->timeout_s;
    r = peer_admit(peer, &m->req, ret_checks, err);
    part_mgr_move_note(mgr, r < 0, "move-validate", name, caller, "move to %s %s%s", to,
                       r < 0 ? "refused: " : "validated", r < 0 ? err->message : "");
    part_move_request_clear(&m->req);
    if (r < 0 || validate_only)
        goto fail;
    if ((r = part_mgr_move_begin(mgr, name, m->id, &m->req, err)) < 0)
        goto fail;
    m->req.timeout_s = peer->timeout_s;
    snprintf(ret_id, PART_MOVE_ID_MAX, "%s", m->id);
    if ((r = move_spawn(move_thread, m)) < 0) {
        part_mgr_move_end(mgr, name, false, NULL);
        part_error_set(err, r, "", "%s: cannot start the move", name);
        goto fail;
    }
    return 0;
fail:
    part_move_request_clear(&m->req);
    free(m);
    return r;
}

/* One record a killed partd left: 1 when resolved, 0 to look again later. */
static int resolve_one(struct part_mgr *mgr, const struct part_move_record *rec)
{
    const struct part_peer_config *peer = part_config_peer(part_mgr_config(mgr), rec->peer);
    struct part_error err = {0};
    enum part_move_action a = part_move_resolve(part_mgr_move_where(mgr, rec->partition));

    if (!peer) {
        log_msg(PART_LOG_ERROR, "%s: move %s to %s: no such peer in partd.json any more",
                rec->partition, rec->id, rec->peer);
        a = a == PART_MOVE_ADOPT ? PART_MOVE_ADOPT : PART_MOVE_RELEASE;
    }
    if (a == PART_MOVE_WAIT)
        return 0;
    if (a == PART_MOVE_RELEASE) {
        if (peer && peer_release(peer, rec->id, &err) < 0)
            log_msg(PART_LOG_WARNING, "%s: peer %s did not release move %s: %s", rec->partition,
                    rec->peer, rec->id, err.message);
        part_mgr_move_end(mgr, rec->partition, false, NULL);
        part_mgr_move_note(mgr, true, "move-failed", rec->partition, NULL,
                           "partd stopped during move %s to %s; the guest stayed here, and "
                           "runs on",
                           rec->id, rec->peer);
    } else {
        if (peer && move_adopt(mgr, peer, rec->id, rec->request, &err) < 0) {
            log_msg(PART_LOG_WARNING, "%s: peer %s did not adopt move %s: %s", rec->partition,
                    rec->peer, rec->id, err.message);
            return 0;
        }
        part_mgr_move_end(mgr, rec->partition, true, NULL);
        part_mgr_move_note(mgr, false, "move-done", rec->partition, NULL,
                           "partd stopped during move %s; the guest had left: %s adopted it",
                           rec->id, rec->peer);
    }
    move_forget_record(mgr, rec->partition);
    return 1;
}

static void *resolver_thread(void *arg)
{
    struct part_mgr *mgr = arg;
    for (;;) {
        struct part_move_record *recs = NULL;
        struct part_error err = {0};
        size_t n = 0, left = 0;
        part_move_records_load(part_mgr_config(mgr)->state_dir, &recs, &n, &err);
        for (size_t i = 0; i < n; i++)
            left += resolve_one(mgr, &recs[i]) == 0;
        part_move_records_free(recs, n);
        pthread_mutex_lock(&moves_lock);
        bool stop = moves_stopping || left == 0;
        pthread_mutex_unlock(&moves_lock);
        if (stop)
            break;
        sleep(1);
    }
    move_thread_end();
    return NULL;
}

int move_init(struct part_mgr *mgr)
{
    return move_spawn(resolver_thread, mgr);
}

void move_stop(void)
{
    pthread_mutex_lock(&moves_lock);
    moves_stopping = true;
    while (moves_running)
        pthread_cond_wait(&moves_cond, &moves_lock);
    pthread_mutex_unlock(&moves_lock);
}
