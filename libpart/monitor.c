/* The monitor's history: per-partition samples turned from cumulative
 * counters into rates, a ring of the last PART_HISTORY_MAX of them for the
 * planner, and a bucketed rolling average for defined capacity. Pure: no
 * libvirt, no clock (every time comes from the caller). */
#include <string.h>

#include "part/monitor.h"

/* The rolling window when none was set: defined capacity's classic 4 hours. */
#define ROLLING_WINDOW_DEFAULT 14400.0

const struct part_sample *part_history_get(const struct part_history *h, size_t i)
{
    if (!h || i >= h->n)
        return NULL;
    return &h->s[(h->head + PART_HISTORY_MAX - 1 - i) % PART_HISTORY_MAX];
}

static double rolling_window(const struct part_rolling *r)
{
    return r->window > 0 ? r->window : ROLLING_WINDOW_DEFAULT;
}

static double rolling_seen(const struct part_rolling *r)
{
    double seen = 0;
    for (size_t i = 0; i < PART_ROLLING_BUCKETS; i++)
        seen += r->dt[i];
    return seen;
}

static void rolling_clear(struct part_rolling *r, double start)
{
    memset(r->sum, 0, sizeof(r->sum));
    memset(r->dt, 0, sizeof(r->dt));
    r->cur = 0;
    r->start = start;
}

/* Moves the current bucket forward to the one holding time t, emptying the
 * buckets passed over: what they held is older than the window now. */
static void rolling_advance(struct part_rolling *r, double t)
{
    double width = rolling_window(r) / PART_ROLLING_BUCKETS;

    if (rolling_seen(r) == 0) { /* nothing to keep: start here */
        rolling_clear(r, t);
        return;
    }
    if (t < r->start) /* the clock went back: keep adding to this bucket */
        return;
    if (t - r->start >= (PART_ROLLING_BUCKETS + 1) * width) {
        rolling_clear(r, t); /* the whole window passed without samples */
        return;
    }
    while (t >= r->start + width) {
        r->cur = (r->cur + 1) % PART_ROLLING_BUCKETS;
        r->sum[r->cur] = r->dt[r->cur] = 0;
        r->start += width;
    }
}

/* Accounts used processors over [t0, t1], split over the buckets it spans. */
static void rolling_add(struct part_rolling *r, double t0, double t1, double used)
{
    double window = rolling_window(r);

    if (t1 - t0 > window) /* only the last window's worth can be kept */
        t0 = t1 - window;
    rolling_advance(r, t0);
    while (t0 < t1) {
        double end = r->start + window / PART_ROLLING_BUCKETS;
        double seg = (t1 < end ? t1 : end) - t0;
        r->sum[r->cur] += used * seg;
        r->dt[r->cur] += seg;
        t0 += seg;
        if (t0 < t1)
            rolling_advance(r, t0);
    }
}

void part_history_add(struct part_history *h, double t, bool has_cpu, uint64_t cpu_ns,
                      unsigned online, bool mem_valid, uint64_t mem_target, uint64_t mem_available,
                      uint64_t mem_unused)
{
    struct part_sample *s = &h->s[h->head];

    *s = (struct part_sample){
        .t = t,
        .online = online,
        .mem_valid = mem_valid && mem_available >= mem_unused,
        .mem_target = mem_target,
        .mem_available = mem_available,
        .mem_unused = mem_unused,
    };
    /* A rate needs two counters in a row, the later one not smaller (a
     * domain that restarted counts from zero again) and time that moved. */
    if (has_cpu && h->last_cpu_ns != 0 && cpu_ns >= h->last_cpu_ns && t > h->last_t) {
        s->used = (double)(cpu_ns - h->last_cpu_ns) / (t - h->last_t) / 1e9;
        s->valid = true;
        rolling_add(&h->rolling, h->last_t, t, s->used);
    } else {
        rolling_advance(&h->rolling, t);
    }
    h->last_cpu_ns = has_cpu ? cpu_ns : 0;
    h->last_t = t;
    h->head = (h->head + 1) % PART_HISTORY_MAX;
    if (h->n < PART_HISTORY_MAX)
        h->n++;
}

void part_history_break(struct part_history *h)
{
    h->last_cpu_ns = 0;
}

double part_history_rolling(const struct part_history *h, double *ret_seen)
{
    double sum = 0, seen = 0;
    for (size_t i = 0; i < PART_ROLLING_BUCKETS; i++) {
        sum += h->rolling.sum[i];
        seen += h->rolling.dt[i];
    }
    if (ret_seen)
        *ret_seen = seen;
    return seen > 0 ? sum / seen : 0;
}

void part_history_set_window(struct part_history *h, double window)
{
    memset(&h->rolling, 0, sizeof(h->rolling));
    h->rolling.window = window;
}

double part_history_window(const struct part_history *h)
{
    return rolling_window(&h->rolling);
}
