/* The mutation queue (queue.h): mutations run here, off the HTTP threads. A
 * ring of jobs served in order by one worker thread, and jobs on threads of
 * their own; both bounded, so that a stalled backend costs a fixed number
 * of threads and slots, and every request beyond gets a quick 503. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "queue.h"

struct job {
    queue_fn run;
    void *arg;
};

struct queue {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* a job queued, the queue stopping, or a waiter ending */
    struct job jobs[QUEUE_MAX];
    size_t head, n;    /* the ring: the oldest job, how many wait */
    unsigned waiters;  /* jobs running on threads of their own */
    bool stopping;     /* no more jobs; those left are cancelled */
    bool worker_alive; /* the worker is to be joined */
    pthread_t worker;
};

/* A job on a thread of its own. */
struct waiter {
    struct queue *q;
    struct job job;
};

/* The worker: runs the jobs in order; once the queue stops, cancels the
 * ones left, in order too, and ends. */
static void *queue_worker(void *opaque)
{
    struct queue *q = opaque;
    pthread_mutex_lock(&q->lock);
    for (;;) {
        while (q->n == 0 && !q->stopping)
            pthread_cond_wait(&q->cond, &q->lock);
        if (q->n == 0)
            break;
        struct job j = q->jobs[q->head];
        q->head = (q->head + 1) % QUEUE_MAX;
        q->n--;
        bool cancelled = q->stopping;
        pthread_mutex_unlock(&q->lock);
        j.run(j.arg, cancelled);
        pthread_mutex_lock(&q->lock);
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

static void *queue_waiter(void *opaque)
{
    struct waiter *w = opaque;
    struct queue *q = w->q;
    w->job.run(w->job.arg, false);
    free(w);
    pthread_mutex_lock(&q->lock);
    q->waiters--;
    pthread_cond_broadcast(&q->cond); /* queue_stop() may wait for the last one */
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

struct queue *queue_new(void)
{
    struct queue *q = calloc(1, sizeof(*q));
    int r;
    if (!q)
        return NULL;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->cond, NULL);
    if ((r = pthread_create(&q->worker, NULL, queue_worker, q)) != 0) {
        queue_free(q);
        errno = r;
        return NULL;
    }
    q->worker_alive = true;
    return q;
}

/* Starts job on a detached thread; called with q->lock held. */
static bool queue_spawn(struct queue *q, const struct job *job)
{
    struct waiter *w = malloc(sizeof(*w));
    pthread_attr_t attr;
    pthread_t t;
    int r = -1;

    if (!w)
        return false;
    *w = (struct waiter){.q = q, .job = *job};
    if (pthread_attr_init(&attr) == 0) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        r = pthread_create(&t, &attr, queue_waiter, w);
        pthread_attr_destroy(&attr);
    }
    if (r != 0) {
        free(w);
        return false;
    }
    q->waiters++; /* the thread decrements it under q->lock, held here */
    return true;
}

bool queue_push(struct queue *q, queue_fn run, void *arg, bool own_thread)
{
    struct job job = {.run = run, .arg = arg};
    bool ok = false;

    pthread_mutex_lock(&q->lock);
    if (q->stopping) {
        ok = false;
    } else if (own_thread) {
        ok = q->waiters < QUEUE_WAITERS && queue_spawn(q, &job);
    } else if (q->n < QUEUE_MAX) {
        q->jobs[(q->head + q->n) % QUEUE_MAX] = job;
        q->n++;
        pthread_cond_broadcast(&q->cond);
        ok = true;
    }
    pthread_mutex_unlock(&q->lock);
    return ok;
}

void queue_stop(struct queue *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->lock);
    q->stopping = true;
    pthread_cond_broadcast(&q->cond);
    while (q->waiters)
        pthread_cond_wait(&q->cond, &q->lock);
    bool join = q->worker_alive;
    q->worker_alive = false;
    pthread_mutex_unlock(&q->lock);
    if (join)
        pthread_join(q->worker, NULL);
}

void queue_free(struct queue *q)
{
    if (!q)
        return;
    queue_stop(q);
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->cond);
    free(q);
}
