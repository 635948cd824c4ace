/* The mutation queue: mutations run here, off libmicrohttpd's threads, so
 * that one stuck on the manager's lock or on a stalled backend never holds
 * a thread that a GET needs. It knows nothing of HTTP: a job is a function
 * and its argument. */
#pragma once

#include <stdbool.h>

/* Jobs waiting for the worker, at most; a request beyond is refused (503). */
#define QUEUE_MAX 64
/* Jobs on threads of their own at once, at most (deactivations waiting for
 * their guests). */
#define QUEUE_WAITERS 16

struct queue;

/* A job: run(arg, false) on the worker, or run(arg, true) when the queue
 * stops before the job started (it must then only answer, not act). */
typedef void (*queue_fn)(void *arg, bool cancelled);

/* Starts the worker. NULL (errno set) when it cannot. */
struct queue *queue_new(void);

/* Queues run(arg). One worker runs the jobs in their order, since
 * mutations take the manager's lock one at a time anyway. A job that waits
 * long without that lock (own_thread: a deactivation waiting for its guest)
 * runs on a thread of its own instead, so that the ones behind it do not
 * wait for it. false, and nothing runs, when the queue is full (QUEUE_MAX
 * waiting, or QUEUE_WAITERS threads of their own running) or stopping. */
bool queue_push(struct queue *q, queue_fn run, void *arg, bool own_thread);

/* Stops taking jobs, cancels those not started (run(arg, true)), and waits
 * for those running to end. q may be NULL. */
void queue_stop(struct queue *q);

/* Stops q (queue_stop()) and frees it; q may be NULL. */
void queue_free(struct queue *q);
