/* The monitor's history: per-partition samples turned from cumulative
 * counters into rates, a ring of the last PART_HISTORY_MAX of them for the
 * planner, and a bucketed rolling average for defined capacity. Pure: no
 * libvirt, no clock (every time comes from the caller). */
#include <math.h>
#include <stdio.h>
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

/* The rate of a counter from prev to cur over dt seconds, scaled by unit;
 * false when there is none (no previous counter, a counter that went
 * backwards, time that did not move). */
static bool paging_rate(bool had, uint64_t prev, uint64_t cur, double dt, double unit, double *ret)
{
    if (!had || cur < prev || !(dt > 0))
        return false;
    double r = (double)(cur - prev) * unit / dt;
    *ret = r < PART_PAGING_RATE_MAX ? r : PART_PAGING_RATE_MAX;
    return true;
}

void part_history_add_paging(struct part_history *h, bool has_faults, uint64_t faults,
                             bool has_swap, uint64_t swap_in_kib, uint64_t swap_out_kib)
{
    if (h->n == 0)
        return;
    struct part_sample *s = &h->s[(h->head + PART_HISTORY_MAX - 1) % PART_HISTORY_MAX];
    double dt = s->t - h->last_paging_t;

    s->faults_valid = has_faults && paging_rate(h->last_has_faults, h->last_faults, faults, dt, 1,
                                                &s->major_faults);
    s->swap_valid =
        has_swap &&
        paging_rate(h->last_has_swap, h->last_swap_in, swap_in_kib, dt, 1.0 / 1024, &s->swap_in) &&
        paging_rate(h->last_has_swap, h->last_swap_out, swap_out_kib, dt, 1.0 / 1024, &s->swap_out);
    if (!s->swap_valid)
        s->swap_in = s->swap_out = 0;
    if (!s->faults_valid)
        s->major_faults = 0;
    h->last_has_faults = has_faults;
    h->last_has_swap = has_swap;
    h->last_faults = faults;
    h->last_swap_in = swap_in_kib;
    h->last_swap_out = swap_out_kib;
    h->last_paging_t = s->t;
}

void part_history_add_usable(struct part_history *h, uint64_t usable)
{
    if (h->n == 0)
        return;
    struct part_sample *s = &h->s[(h->head + PART_HISTORY_MAX - 1) % PART_HISTORY_MAX];
    s->usable_valid = true;
    s->mem_usable = usable;
}

bool part_psi_some_avg10(const char *text, double *ret)
{
    double v;
    /* "some avg10=1.23 avg60=... total=..." on the first line */
    if (!text || sscanf(text, "some avg10=%lf", &v) != 1 || !isfinite(v) || v < 0)
        return false;
    *ret = v > 100 ? 100 : v;
    return true;
}

void part_history_break(struct part_history *h)
{
    h->last_cpu_ns = 0;
    h->last_has_faults = h->last_has_swap = false;
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
