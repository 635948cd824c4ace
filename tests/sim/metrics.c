/* The simulator's measures: the invariants checked every interval
 * (violations), and from the records of every interval the measures after
 * each step (total and per partition), starvation and direction changes.
 * Definitions in docs/simulation.md. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <part/cpc.h>

#include "sim.h"

#define WITHIN 0.05 /* "converged": within 5% of the target */
#define EPS    1e-6

void violation(struct result *res, const char *fmt, ...)
{
    if (res->violations++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(res->first_violation, sizeof(res->first_violation), fmt, ap);
        va_end(ap);
    }
}

/* Bounds of one partition: weight, processors, memory, cap, and what it
 * was delivered against what its online processors (online, the ones the
 * guest runs) and cap let it use. */
static void check_partition(const struct part_partition *p, unsigned online, double delivered,
                            size_t t, struct result *res)
{
    const struct part_profile *pp = p->profile;
    if (p->weight < pp->weight_min || p->weight > pp->weight_max)
        violation(res, "t %zu: %s: weight %u outside %u-%u", t, pp->name, p->weight, pp->weight_min,
                  pp->weight_max);
    if (p->processors < pp->proc_min || p->processors > pp->proc_reserved)
        violation(res, "t %zu: %s: processors %u outside %u-%u", t, pp->name, p->processors,
                  pp->proc_min, pp->proc_reserved);
    if (p->memory < pp->mem_min || p->memory > pp->mem_reserved)
        violation(res, "t %zu: %s: memory %llu outside %llu-%llu", t, pp->name,
                  (unsigned long long)p->memory, (unsigned long long)pp->mem_min,
                  (unsigned long long)pp->mem_reserved);
    if (p->cap != PART_CAP_NONE && (p->cap < PART_CAP_MIN || p->cap > PART_CAP_MAX))
        violation(res, "t %zu: %s: cap %g", t, pp->name, p->cap);
    if (delivered > limit_of(p, INFINITY, online) + EPS)
        violation(res, "t %zu: %s: delivered %.3f over its online processors or cap", t, pp->name,
                  delivered);
}

/* Each cluster's weight total (by its first member) against base[]. */
static void check_clusters(const struct part_cpc *cpc, const double *base, size_t t,
                           struct result *res)
{
    for (size_t i = 0; i < cpc->n; i++) {
        const struct part_partition *p = cpc->parts[i];
        double total = 0;
        bool first = true;
        for (size_t j = 0; j < cpc->n; j++) {
            const struct part_partition *q = cpc->parts[j];
            if (q->active && strcmp(q->profile->group, p->profile->group) == 0) {
                total += q->weight;
                first &= j >= i;
            }
        }
        if (p->active && first && fabs(total - base[i]) > EPS)
            violation(res, "t %zu: cluster \"%s\": weight total %.0f, was %.0f", t,
                      p->profile->group, total, base[i]);
    }
}

void check_state(const struct part_cpc *cpc, const unsigned *online, const double *delivered,
                 const double *base, double pool, size_t t, struct result *res)
{
    double total = 0, mem = 0, used = 0;
    for (size_t i = 0; i < cpc->n; i++) {
        const struct part_partition *p = cpc->parts[i];
        if (!p->active)
            continue;
        total += p->processors;
        mem += (double)p->memory;
        used += delivered[i];
        check_partition(p, online[i], delivered[i], t, res);
    }
    if (used > pool + EPS)
        violation(res, "t %zu: delivered %.3f over the pool of %.2f", t, used, pool);
    if (total > cpc->pool * cpc->cfg.cpu_overcommit + EPS)
        violation(res, "t %zu: %.0f shared processors online over %g", t, total,
                  cpc->pool * cpc->cfg.cpu_overcommit);
    double mem_limit =
        (double)(cpc->memory - cpc->cfg.host_reserved_memory) * cpc->cfg.memory_overcommit;
    if (mem > mem_limit)
        violation(res, "t %zu: memory targets %.0f MiB over %.0f", t, mem, mem_limit);
    check_clusters(cpc, base, t, res);
}

void record_init(struct record *rec, size_t n, size_t T)
{
    *rec = (struct record){.T = T, .n = n};
    rec->err = xcalloc(T, sizeof(double));
    rec->shortf = xcalloc(T, sizeof(double));
    rec->off = xcalloc(n * T, sizeof(bool));
    rec->starving = xcalloc(n * T, sizeof(bool));
    rec->last_dir = xcalloc(n * PART_SET_N, sizeof(int));
    rec->flips_of = xcalloc(n, sizeof(size_t));
}

void record_free(struct record *rec)
{
    free(rec->err), free(rec->shortf), free(rec->off), free(rec->starving);
    free(rec->last_dir), free(rec->flips_of);
}

void record_change(struct record *rec, struct result *res, size_t i, int s, int dir)
{
    int *last = &rec->last_dir[i * PART_SET_N + s];
    if (*last && *last != dir) {
        res->flips++;
        if (++rec->flips_of[i] > res->flips_max)
            res->flips_max = rec->flips_of[i];
    }
    *last = dir;
}

/* Intervals from start until x[t] <= WITHIN for every t to end; NEVER
 * when the last interval is outside. */
static size_t settle(const double *x, size_t start, size_t end)
{
    size_t t = end;
    while (t > start && x[t - 1] <= WITHIN)
        t--;
    return t < end ? t - start : NEVER;
}

/* The same for flags: intervals until off[t] is false to end. */
static size_t settle_flags(const bool *off, size_t start, size_t end)
{
    size_t t = end;
    while (t > start && !off[t - 1])
        t--;
    return t < end ? t - start : NEVER;
}

/* The longest run of set flags in [from, end). */
static size_t longest_run(const bool *x, size_t from, size_t end)
{
    size_t best = 0, run = 0;
    for (size_t t = from; t < end; t++) {
        run = x[t] ? run + 1 : 0;
        best = run > best ? run : best;
    }
    return best;
}

void record_finish(const struct record *rec, const struct scenario *sc, struct result *res)
{
    size_t T = rec->T;
    for (size_t k = 0; k < sc->n_phases; k++) {
        size_t start = sc->phase[k], end = k + 1 < sc->n_phases ? sc->phase[k + 1] : T;
        if (!sc->step[k])
            continue;
        size_t s = res->n_steps++, worst = 0, starved = 0;
        res->conv[s] = settle(rec->err, start, end);
        res->cover[s] = settle(rec->shortf, start, end);
        for (size_t i = 0; i < rec->n; i++) {
            size_t c = settle_flags(&rec->off[i * T], start, end);
            worst = c == NEVER || worst == NEVER ? NEVER : c > worst ? c : worst;
            /* the step's own interval is not counted: nothing could see it */
            size_t run = longest_run(&rec->starving[i * T], start + 1, end);
            starved = run > starved ? run : starved;
        }
        res->worst[s] = worst;
        res->starved[s] = starved;
    }
}
