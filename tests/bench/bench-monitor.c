/* Benchmark 4: the monitor's cycle with N running domains on libvirt's test
 * driver (a node XML with the domains inline, named p0000, p0001, ...).
 *
 * Usage: bench-monitor URI N [RUNS]
 *
 * Times, per cycle, in process CPU (CLOCK_PROCESS_CPUTIME_ID) and wall
 * (CLOCK_MONOTONIC), median of RUNS:
 *   raw       the baseline: one virConnectGetAllDomainStats() call straight
 *             through libvirt on a connection of its own (the same node),
 *             with the stats groups libpart ends up using, and the records
 *             freed;
 *   stats     one part_hv_stats() call through libpart's libvirt backend
 *             for the N domains, with a callback that only counts;
 *   sample    what partd's manager does each interval (libpart/manager.c,
 *             mgr_sample + mgr_on_stats): part_hv_stats() whose callback
 *             finds the partition by a scan of the CPC and appends the
 *             sample with part_history_add();
 *   sample-indexed  the same with the partition found by binary search,
 *             to show what the scan costs;
 *   snapshot  part_snapshot_new() of the CPC (mgr_publish, every interval);
 *   cycle     sample + snapshot: the manager's interval under the static
 *             policy (no plan).
 * The CPC is filled directly (see bench-plan.c) with one active shared
 * partition per domain. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <part/cpc.h>
#include <part/hv.h>
#include <part/monitor.h>
#include <part/snapshot.h>

#include "bench.h"

/* Prints the process's resident memory (VmRSS, and its anonymous part:
 * heap and stacks, not the libraries) at a stage. */
static void memory(const char *stage)
{
    char line[256];
    long rss = -1, anon = -1;
    FILE *f = fopen("/proc/self/status", "re");
    while (f && fgets(line, sizeof(line), f)) {
        sscanf(line, "VmRSS: %ld", &rss);
        sscanf(line, "RssAnon: %ld", &anon);
    }
    if (f)
        fclose(f);
    printf("# memory %s: rss_kib=%ld anon_kib=%ld\n", stage, rss, anon);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p) {
        fprintf(stderr, "bench-monitor: out of memory\n");
        exit(1);
    }
    return p;
}

struct ctx {
    struct part_cpc *cpc;
    struct part_partition **sorted; /* by domain name, for the indexed lookup */
    double t;
    size_t seen;
};

static void on_count(const struct part_hv_stats *st, void *opaque)
{
    struct ctx *c = opaque;
    (void)st;
    c->seen++;
}

static void add(struct part_partition *p, const struct part_hv_stats *st, double t)
{
    if (!p->history) {
        p->history = xcalloc(1, sizeof(*p->history));
        part_history_set_window(p->history, 14400);
    }
    part_history_add(p->history, t, st->active && st->has_cpu_time, st->cpu_time_ns,
                     st->vcpus ? st->vcpus : p->processors, st->has_balloon_guest,
                     st->balloon_current / 1024, st->balloon_available / 1024,
                     st->balloon_unused / 1024);
}

/* As mgr_on_stats: a scan of the partitions for the domain's name. */
static void on_scan(const struct part_hv_stats *st, void *opaque)
{
    struct ctx *c = opaque;
    for (size_t i = 0; i < c->cpc->n; i++) {
        struct part_partition *p = c->cpc->parts[i];
        if (!p->active || strcmp(p->profile->domain_name, st->name) != 0)
            continue;
        add(p, st, c->t);
        c->seen++;
        return;
    }
}

static int cmp_part(const void *a, const void *b)
{
    const struct part_partition *x = *(const struct part_partition *const *)a;
    const struct part_partition *y = *(const struct part_partition *const *)b;
    return strcmp(x->profile->domain_name, y->profile->domain_name);
}

static int cmp_key(const void *key, const void *elem)
{
    const struct part_partition *y = *(const struct part_partition *const *)elem;
    return strcmp(key, y->profile->domain_name);
}

static void on_indexed(const struct part_hv_stats *st, void *opaque)
{
    struct ctx *c = opaque;
    struct part_partition **pp =
        bsearch(st->name, c->sorted, c->cpc->n, sizeof(*c->sorted), cmp_key);
    if (pp && (*pp)->active) {
        add(*pp, st, c->t);
        c->seen++;
    }
}

static struct part_cpc *build(size_t n)
{
    struct part_cpc_config cfg = {
        .host_reserved_cpus = 2,
        .host_reserved_memory = 4096,
        .cpu_overcommit = 4,
        .memory_overcommit = 1.0,
    };
    struct part_cpc *cpc;
    struct part_error err;
    if (part_cpc_new(64, (uint64_t)1 << 20, &cfg, &cpc, &err) < 0) {
        fprintf(stderr, "bench-monitor: %s\n", err.message);
        exit(1);
    }
    cpc->parts = xcalloc(n, sizeof(*cpc->parts));
    for (size_t i = 0; i < n; i++) {
        char name[PART_NAME_MAX];
        snprintf(name, sizeof(name), "p%04zu", i);
        struct part_profile *pp = part_profile_new(name);
        if (!pp) {
            fprintf(stderr, "bench-monitor: out of memory\n");
            exit(1);
        }
        pp->proc_reserved = 2;
        pp->mem_initial = pp->mem_min = 256;
        pp->mem_reserved = 512;
        struct part_partition *p = xcalloc(1, sizeof(*p));
        p->profile = pp;
        p->active = true;
        p->processors = 1;
        p->weight = 100;
        p->memory = 256;
        cpc->parts[cpc->n++] = p;
    }
    part_cpc_compute(cpc);
    return cpc;
}

enum what { RAW, STATS, SAMPLE, SAMPLE_INDEXED, SNAPSHOT, CYCLE, N_WHAT };
static const char *const names[] = {"raw",      "stats", "sample", "sample-indexed",
                                    "snapshot", "cycle"};

static void on_virt_error(void *opaque, virErrorPtr e)
{
    (void)opaque, (void)e;
}

/* The stats groups that the driver accepts, as libpart finds them: all it
 * asks for, else the state alone. */
static int raw_stats(virConnectPtr conn, unsigned *types)
{
    virDomainStatsRecordPtr *recs = NULL;
    int n = virConnectGetAllDomainStats(conn, *types, &recs, 0);
    if (n < 0 && *types != VIR_DOMAIN_STATS_STATE) {
        *types = VIR_DOMAIN_STATS_STATE;
        n = virConnectGetAllDomainStats(conn, *types, &recs, 0);
    }
    if (n >= 0)
        virDomainStatsRecordListFree(recs);
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench-monitor URI N [RUNS]\n");
        return 2;
    }
    const char *uri = argv[1];
    size_t n = strtoull(argv[2], NULL, 10), runs = argc > 3 ? strtoull(argv[3], NULL, 10) : 21;
    struct part_hv *hv;
    struct part_error err = {0};
    struct part_hv_host host;

    memory("start");
    double t0 = bench_clock(CLOCK_MONOTONIC);
    if (part_hv_open(&part_hv_libvirt_ops, uri, false, &hv, &err) < 0 ||
        part_hv_host(hv, &host, &err) < 0) {
        fprintf(stderr, "bench-monitor: %s: %s\n", uri, err.message);
        return 1;
    }
    printf("# open %s: %.1f ms (driver %s %s)\n", uri, (bench_clock(CLOCK_MONOTONIC) - t0) * 1e3,
           host.driver, host.version);

    memory("test driver open (its domains live in this process)");
    struct ctx c = {.cpc = build(n)};
    memory("CPC of N partitions built");
    /* the baseline's connection: a second test driver of its own */
    virSetErrorFunc(NULL, on_virt_error);
    virConnectPtr conn = virConnectOpen(uri);
    unsigned types = VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL | VIR_DOMAIN_STATS_VCPU |
                     VIR_DOMAIN_STATS_BALLOON;
    if (!conn) {
        fprintf(stderr, "bench-monitor: cannot open %s\n", uri);
        return 1;
    }
    memory("second test driver open (the baseline's)");
    const char **doms = xcalloc(n, sizeof(*doms));
    c.sorted = xcalloc(n, sizeof(*c.sorted));
    for (size_t i = 0; i < n; i++) {
        doms[i] = c.cpc->parts[i]->profile->domain_name;
        c.sorted[i] = c.cpc->parts[i];
    }
    qsort(c.sorted, n, sizeof(*c.sorted), cmp_part);
    struct part_snapshot_info info = {.uri = uri,
                                      .driver = host.driver,
                                      .version = host.version,
                                      .connected = true,
                                      .policy = "static"};

    double *cpu[N_WHAT], *wall[N_WHAT];
    size_t seen[N_WHAT] = {0};
    for (int w = 0; w < N_WHAT; w++) {
        cpu[w] = xcalloc(runs, sizeof(double));
        wall[w] = xcalloc(runs, sizeof(double));
    }
    /* one warm-up round, then RUNS measured ones, the kinds interleaved */
    for (size_t r = 0; r <= runs; r++) {
        for (int w = 0; w < N_WHAT; w++) {
            double c0 = bench_clock(CLOCK_PROCESS_CPUTIME_ID), w0 = bench_clock(CLOCK_MONOTONIC);
            int ret = 0;
            c.seen = 0;
            c.t += 1;
            if (w == RAW) {
                int k = raw_stats(conn, &types);
                if (k < 0) {
                    fprintf(stderr, "bench-monitor: virConnectGetAllDomainStats failed\n");
                    return 1;
                }
                c.seen = (size_t)k;
            }
            if (w == STATS)
                ret = part_hv_stats(hv, doms, n, on_count, &c, &err);
            if (w == SAMPLE || w == CYCLE)
                ret = part_hv_stats(hv, doms, n, on_scan, &c, &err);
            if (w == SAMPLE_INDEXED)
                ret = part_hv_stats(hv, doms, n, on_indexed, &c, &err);
            if (ret < 0) {
                fprintf(stderr, "bench-monitor: stats: %s\n", err.message);
                return 1;
            }
            if (w == SNAPSHOT || w == CYCLE) {
                struct part_snapshot *s = part_snapshot_new(c.cpc, &info);
                if (!s) {
                    fprintf(stderr, "bench-monitor: snapshot failed\n");
                    return 1;
                }
                part_snapshot_put(s);
            }
            if (r == 0) {
                char stage[64];
                snprintf(stage, sizeof(stage), "after the first %s", names[w]);
                memory(stage);
                continue;
            }
            cpu[w][r - 1] = bench_clock(CLOCK_PROCESS_CPUTIME_ID) - c0;
            wall[w][r - 1] = bench_clock(CLOCK_MONOTONIC) - w0;
            seen[w] = c.seen;
        }
    }
    memory("after every cycle");
    for (int w = 0; w < N_WHAT; w++)
        printf("%s N=%zu runs=%zu cpu_ms=%.3f wall_ms=%.3f samples=%zu\n", names[w], n, runs,
               bench_median(cpu[w], runs) * 1e3, bench_median(wall[w], runs) * 1e3, seen[w]);
    printf("# stats groups the driver accepted: %s\n",
           types == VIR_DOMAIN_STATS_STATE ? "state only" : "state, cpu, vcpu, balloon");
    virConnectClose(conn);
    part_hv_close(hv);
    part_cpc_free(c.cpc);
    return 0;
}
