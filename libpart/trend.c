/* The console's trend of a partition: a ring of the last hour's samples,
 * shared by reference between the manager and the snapshots. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "part/trend.h"

struct part_trend {
    atomic_int refs;
    pthread_mutex_t lock; /* a leaf: only around copying points */
    double interval;
    unsigned stride; /* samples a point */
    uint64_t seen;   /* samples offered */
    size_t cap;
    size_t n;      /* points held */
    uint64_t next; /* seq of the next point; the newest held is next - 1 */
    struct part_trend_point pts[];
};

unsigned part_trend_stride(double interval)
{
    return interval > 0 && interval < PART_TREND_STEP ? (unsigned)ceil(PART_TREND_STEP / interval)
                                                      : 1;
}

size_t part_trend_capacity(double interval)
{
    double step = interval > 0 ? part_trend_stride(interval) * interval : PART_TREND_STEP;
    double n = ceil(PART_TREND_SPAN / step);
    return n < PART_TREND_MIN ? PART_TREND_MIN : (size_t)n;
}

struct part_trend *part_trend_new(double interval)
{
    size_t cap = part_trend_capacity(interval);
    struct part_trend *t = calloc(1, sizeof(*t) + cap * sizeof(t->pts[0]));
    if (!t)
        return NULL;
    atomic_init(&t->refs, 1);
    pthread_mutex_init(&t->lock, NULL);
    t->interval = interval;
    t->stride = part_trend_stride(interval);
    t->cap = cap;
    return t;
}

struct part_trend *part_trend_ref(struct part_trend *t)
{
    if (t)
        atomic_fetch_add(&t->refs, 1);
    return t;
}

struct part_trend *part_trend_put(struct part_trend *t)
{
    if (t && atomic_fetch_sub(&t->refs, 1) == 1) {
        pthread_mutex_destroy(&t->lock);
        free(t);
    }
    return NULL;
}

void part_trend_add(struct part_trend *t, const struct part_trend_point *pt)
{
    pthread_mutex_lock(&t->lock);
    if (t->seen++ % t->stride) {
        pthread_mutex_unlock(&t->lock);
        return;
    }
    t->pts[t->next % t->cap] = *pt;
    t->next++;
    if (t->n < t->cap)
        t->n++;
    pthread_mutex_unlock(&t->lock);
}

uint64_t part_trend_next(struct part_trend *t)
{
    pthread_mutex_lock(&t->lock);
    uint64_t next = t->next;
    pthread_mutex_unlock(&t->lock);
    return next;
}

double part_trend_interval(const struct part_trend *t)
{
    return t->interval;
}

size_t part_trend_size(const struct part_trend *t)
{
    return t->cap;
}

int part_trend_read(struct part_trend *t, uint64_t since, uint64_t upto,
                    struct part_trend_point **ret_points, size_t *ret_n, uint64_t *ret_first)
{
    struct part_trend_point *out = NULL;
    int r = 0;

    pthread_mutex_lock(&t->lock);
    uint64_t oldest = t->next - t->n, end = upto < t->next ? upto : t->next;
    if (since > upto || since < oldest)
        since = oldest;
    size_t n = since < end ? (size_t)(end - since) : 0;
    if (n && !(out = malloc(n * sizeof(*out))))
        r = -ENOMEM;
    for (size_t i = 0; out && i < n; i++)
        out[i] = t->pts[(since + i) % t->cap];
    pthread_mutex_unlock(&t->lock);
    if (r == 0) {
        *ret_points = out;
        *ret_n = n;
        *ret_first = since;
    }
    return r;
}
