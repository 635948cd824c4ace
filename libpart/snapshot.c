/* Snapshots: the JSON view of the CPC and its partitions (docs/api.md),
 * rendered once per change and shared read-only. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "part/plan.h"
#include "part/snapshot.h"

static const char *const apply_names[] = {
    [PART_APPLY_NONE] = "none",
    [PART_APPLY_APPLIED] = "applied",
    [PART_APPLY_UNSUPPORTED] = "unsupported",
    [PART_APPLY_FAILED] = "failed",
    [PART_APPLY_UNCONFIRMED] = "unconfirmed",
};

/* The profile values that the next activation will bring, where they differ
 * from the running ones. */
static json_t *pending_json(const struct part_partition *p)
{
    const struct part_profile *pp = p->profile;
    json_t *o = json_object();
    if (!p->active || !o)
        return o;
    for (enum part_setting s = 0; s < PART_SET_N; s++) {
        double next = part_setting_profile(pp, s);
        if ((pp->mode == PART_MODE_SHARED || !part_setting_desc(s)->shared_only) &&
            next != part_setting_running(p, s))
            json_object_set_new(o, part_setting_name(s), part_setting_json(s, next));
    }
    return o;
}

static json_t *backend_json(const struct part_partition *p)
{
    json_t *o = json_object();
    for (int i = 0; o && i < PART_SET_N; i++) {
        const struct part_backend_status *b = &p->backend[i];
        enum part_apply st = p->active ? b->status : PART_APPLY_NONE;
        json_t *e = json_pack("{s:s}", "status", apply_names[st]);
        if (e && st != PART_APPLY_APPLIED && st != PART_APPLY_NONE && b->detail[0])
            json_object_set_new(e, "detail", json_string(b->detail));
        json_object_set_new(o, part_setting_name(i), e);
    }
    return o;
}

/* The newest valid sample of p, or NULL. */
static const struct part_sample *latest(const struct part_partition *p, bool memory)
{
    for (size_t i = 0; p->active && p->history; i++) {
        const struct part_sample *s = part_history_get(p->history, i);
        if (!s)
            return NULL;
        if (memory ? s->mem_valid : s->valid)
            return s;
    }
    return NULL;
}

/* "at" is when the sample was taken, in seconds since the epoch. */
static json_t *utilisation_json(const struct part_sample *s, double clock_offset)
{
    if (!s)
        return json_null();
    return json_pack("{s:f, s:f, s:f}", "used", s->used, "of_online",
                     s->online ? s->used / s->online : 0.0, "at", s->t + clock_offset);
}

/* A rate of s, or null when s (a memory sample) has none. */
static json_t *rate_json(const struct part_sample *s, bool valid, double v)
{
    return s && valid ? json_real(v) : json_null();
}

/* Partition.memory.paging: the guest's paging over the interval of its
 * newest memory sample (null when there is none). */
static json_t *paging_json(const struct part_sample *mem)
{
    if (!mem)
        return json_null();
    return json_pack("{s:o, s:o, s:o}", "major_faults",
                     rate_json(mem, mem->faults_valid, mem->major_faults), "swap_in",
                     rate_json(mem, mem->swap_valid, mem->swap_in), "swap_out",
                     rate_json(mem, mem->swap_valid, mem->swap_out));
}

/* Partition.managed_domain: whose the domain is (docs/api.md). */
static const char *managed_domain_name(const struct part_profile *pp, bool foreign)
{
    if (pp->adopt)
        return "adopted";
    return foreign ? "foreign" : "defined";
}

/* "active", "inactive", "moving" (to another CPC), "incoming" (reserved
 * for a move from another CPC). */
static const char *partition_state(const struct part_partition *p)
{
    if (p->move == PART_MOVE_OUT)
        return "moving";
    if (p->move == PART_MOVE_IN)
        return "incoming";
    return p->active ? "active" : "inactive";
}

/* The Partition object of docs/api.md; cpu and mem are the newest valid
 * samples (NULL when none). */
static json_t *partition_json(const struct part_partition *p, const struct part_sample *cpu,
                              const struct part_sample *mem, double clock_offset)
{
    const struct part_profile *pp = p->profile;
    bool shared = pp->mode == PART_MODE_SHARED, on = p->active;

    return json_pack(
        "{s:s, s:s, s:s, s:o, s:b, s:s, s:s,"
        " s:{s:o, s:I, s:I, s:I},"
        " s:o, s:o, s:f,"
        " s:{s:o, s:o, s:I, s:I, s:I, s:o, s:o, s:o},"
        " s:o, s:o, s:o, s:b, s:b}",
        "name", pp->name, "state", partition_state(p), "mode", shared ? "shared" : "dedicated",
        "group", pp->group[0] ? json_string(pp->group) : json_null(), "autostart", pp->autostart,
        "domain", pp->domain_name, "managed_domain", managed_domain_name(pp, p->foreign),
        /* processors */
        "processors", "online", on ? json_integer(p->processors) : json_null(), "initial",
        (json_int_t)pp->proc_initial, "min", (json_int_t)pp->proc_min, "reserved",
        (json_int_t)pp->proc_reserved,
        /* weight, cap: shared partitions only */
        "weight",
        shared ? json_pack("{s:o, s:I, s:I, s:I}", "current",
                           on ? json_integer(p->weight) : json_null(), "initial",
                           (json_int_t)pp->weight_initial, "min", (json_int_t)pp->weight_min, "max",
                           (json_int_t)pp->weight_max)
               : json_null(),
        "cap",
        shared ? json_pack(
                     "{s:o, s:o, s:o, s:b}", "current", on ? part_cap_json(p->cap) : json_null(),
                     "initial", part_cap_json(pp->cap), "defined_capacity",
                     part_cap_json(pp->defined_capacity), "by_defined_capacity", on && p->dc_capped)
               : json_null(),
        "entitlement", p->entitlement,
        /* memory */
        "memory", "target", on ? json_integer((json_int_t)p->memory) : json_null(), "actual",
        mem ? json_integer((json_int_t)mem->mem_target) : json_null(), "initial",
        (json_int_t)pp->mem_initial, "min", (json_int_t)pp->mem_min, "reserved",
        (json_int_t)pp->mem_reserved, "unused",
        mem ? json_integer((json_int_t)mem->mem_unused) : json_null(), "usable",
        mem && mem->usable_valid ? json_integer((json_int_t)mem->mem_usable) : json_null(),
        "paging", paging_json(mem),
        /* */
        "utilisation", utilisation_json(cpu, clock_offset), "pending", pending_json(p), "backend",
        backend_json(p), "managed", pp->managed, "deactivating", on && p->deactivating);
}

json_t *part_snapshot_partition_json(const struct part_cpc *cpc, const struct part_partition *p,
                                     double clock_offset)
{
    (void)cpc;
    return partition_json(p, latest(p, false), latest(p, true), clock_offset);
}

static int group_cmp(const void *a, const void *b, void *opaque)
{
    struct part_partition *const *parts = opaque;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = strcmp(parts[x]->profile->group, parts[y]->profile->group);
    return c ? c : (x > y) - (x < y);
}

/* The groups, each with its members (sorting makes a group one run). */
static json_t *groups_json(const struct part_cpc *cpc)
{
    json_t *groups = json_array();
    size_t *idx = calloc(cpc->n + 1, sizeof(*idx)), m = 0;
    if (!groups || !idx) {
        free(idx);
        json_decref(groups);
        return NULL;
    }
    for (size_t i = 0; i < cpc->n; i++)
        if (cpc->parts[i]->profile->group[0])
            idx[m++] = i;
    qsort_r(idx, m, sizeof(*idx), group_cmp, cpc->parts);
    for (size_t j = 0; j < m;) {
        const char *g = cpc->parts[idx[j]]->profile->group;
        const struct part_group_config *gc = part_config_group(&cpc->cfg, g);
        json_t *members = json_array();
        json_int_t wsum = 0;
        for (; j < m && strcmp(cpc->parts[idx[j]]->profile->group, g) == 0; j++) {
            const struct part_partition *q = cpc->parts[idx[j]];
            json_array_append_new(members, json_string(q->profile->name));
            if (q->active && q->profile->mode == PART_MODE_SHARED)
                wsum += q->weight;
        }
        json_array_append_new(groups, json_pack("{s:s, s:o, s:o, s:I}", "name", g, "cap",
                                                part_cap_json(gc ? gc->cap : PART_CAP_NONE),
                                                "members", members, "weight_total", wsum));
    }
    free(idx);
    return groups;
}

static json_t *cpc_json(const struct part_cpc *cpc, const struct part_snapshot_info *info)
{
    json_t *pool = json_array(), *groups = json_array();
    unsigned *cpus = calloc(cpc->cpus + 1, sizeof(*cpus));
    size_t active = 0;

    if (!pool || !groups || !cpus)
        goto fail;
    size_t n = part_cpc_pool_cpus(cpc, cpus);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(pool, json_integer(cpus[i]));
    for (size_t i = 0; i < cpc->n; i++)
        active += cpc->parts[i]->active;
    json_decref(groups);
    if (!(groups = groups_json(cpc)))
        goto fail;
    uint64_t avail = cpc->memory - cpc->cfg.host_reserved_memory;
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s,"
        " s:{s:I, s:I, s:I, s:I, s:o, s:I, s:f},"
        " s:{s:I, s:I, s:I, s:I, s:f, s:o, s:o},"
        " s:o, s:{s:I, s:I}, s:{s:s, s:I}}",
        "uri", info->uri, "driver", info->driver, "version", info->version ? info->version : "",
        "backend", info->connected ? "connected" : "disconnected", "processors", "host",
        (json_int_t)cpc->cpus, "host_reserved", (json_int_t)cpc->cfg.host_reserved_cpus,
        "dedicated", (json_int_t)cpc->dedicated, "pool", (json_int_t)cpc->pool, "pool_cpus", pool,
        "weight_total", (json_int_t)cpc->weight_total, "cpu_overcommit", cpc->cfg.cpu_overcommit,
        "memory", "host", (json_int_t)cpc->memory, "host_reserved",
        (json_int_t)cpc->cfg.host_reserved_memory, "active", (json_int_t)cpc->memory_active, "free",
        (json_int_t)(cpc->memory_active < avail ? avail - cpc->memory_active : 0),
        "memory_overcommit", cpc->cfg.memory_overcommit, "host_free",
        cpc->host.has_free ? json_integer((json_int_t)cpc->host.free) : json_null(),
        "host_pressure", cpc->host.has_psi ? json_real(cpc->host.psi_some10) : json_null(),
        "groups", groups, "partitions", "defined", (json_int_t)cpc->n, "active", (json_int_t)active,
        "rebalancer", "policy", info->policy ? info->policy : "static", "actions_applied",
        (json_int_t)info->actions_applied);
    free(cpus);
    return o;
fail:
    json_decref(pool);
    json_decref(groups);
    free(cpus);
    return NULL;
}

/* Appends printf-formatted text to a growing buffer; false on ENOMEM. */
struct text {
    char *s;
    size_t len, cap;
};

static bool text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool text_add(struct text *t, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            return false;
        if (t->s && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return true;
        }
        size_t cap = (t->cap ? t->cap * 2 : 4096) + (size_t)n;
        char *s = realloc(t->s, cap);
        if (!s)
            return false;
        t->s = s;
        t->cap = cap;
    }
}

/* One partition as its metrics read it. */
struct metric_input {
    const struct part_partition *p;
    const struct part_sample *cpu, *mem; /* its newest valid samples, or NULL */
};

static bool metric_active(const struct metric_input *in, double *v)
{
    *v = in->p->active;
    return true;
}

static bool metric_entitlement(const struct metric_input *in, double *v)
{
    *v = in->p->entitlement;
    return true;
}

static bool metric_used(const struct metric_input *in, double *v)
{
    return in->cpu && (*v = in->cpu->used, true);
}

static bool metric_memory_actual(const struct metric_input *in, double *v)
{
    return in->mem && (*v = (double)in->mem->mem_target * 1048576.0, true);
}

static bool metric_faults(const struct metric_input *in, double *v)
{
    return in->mem && in->mem->faults_valid && (*v = in->mem->major_faults, true);
}

static bool metric_swap_in(const struct metric_input *in, double *v)
{
    return in->mem && in->mem->swap_valid && (*v = in->mem->swap_in * 1048576.0, true);
}

static bool metric_swap_out(const struct metric_input *in, double *v)
{
    return in->mem && in->mem->swap_valid && (*v = in->mem->swap_out * 1048576.0, true);
}

/* A running setting: while active, where the partition's mode has it, and
 * not when it is none (an uncapped partition has no cap metric). */
static bool metric_setting(const struct metric_input *in, enum part_setting s, double *v)
{
    const struct part_partition *p = in->p;
    if (!p->active || (part_setting_desc(s)->shared_only && p->profile->mode != PART_MODE_SHARED))
        return false;
    *v = part_setting_running(p, s);
    if (s == PART_SET_CAP && *v == PART_CAP_NONE)
        return false;
    if (s == PART_SET_MEMORY)
        *v *= 1048576.0; /* bytes */
    return true;
}

/* The metrics of each partition: read by value(), or else running setting
 * setting. */
static const struct part_metric {
    const char *name, *help;
    bool (*value)(const struct metric_input *in, double *v);
    enum part_setting setting;
} part_metrics[] = {
    {"partd_partition_active", "1 when the partition is active", metric_active, 0},
    {"partd_partition_weight", "current processing weight", NULL, PART_SET_WEIGHT},
    {"partd_partition_entitlement_processors", "entitlement in processors", metric_entitlement, 0},
    {"partd_partition_used_processors", "processors used over the last interval", metric_used, 0},
    {"partd_partition_online_processors", "logical processors online", NULL, PART_SET_PROCESSORS},
    {"partd_partition_cap_processors", "current cap in processors (absent when uncapped)", NULL,
     PART_SET_CAP},
    {"partd_partition_memory_target_bytes", "memory target", NULL, PART_SET_MEMORY},
    {"partd_partition_memory_actual_bytes", "memory the balloon reports", metric_memory_actual, 0},
    {"partd_partition_memory_major_faults_per_second", "the guest's major page faults",
     metric_faults, 0},
    {"partd_partition_memory_swap_in_bytes_per_second", "what the guest swaps in", metric_swap_in,
     0},
    {"partd_partition_memory_swap_out_bytes_per_second", "what the guest swaps out",
     metric_swap_out, 0},
};

/* The Prometheus text exposition of the CPC and its partitions. */
static char *metrics_text(const struct part_cpc *cpc, const struct part_snapshot_info *info,
                          const struct part_sample *const *cpu,
                          const struct part_sample *const *mem, size_t *ret_len)
{
    struct text t = {0};
    bool ok = text_add(&t,
                       "# HELP partd_cpc_cpus host CPUs\n# TYPE partd_cpc_cpus gauge\n"
                       "partd_cpc_cpus %u\n"
                       "# HELP partd_cpc_pool_cpus CPUs in the shared pool\n"
                       "# TYPE partd_cpc_pool_cpus gauge\npartd_cpc_pool_cpus %u\n"
                       "# HELP partd_cpc_dedicated_cpus CPUs owned by dedicated partitions\n"
                       "# TYPE partd_cpc_dedicated_cpus gauge\npartd_cpc_dedicated_cpus %u\n"
                       "# HELP partd_cpc_weight_total sum of weights in the shared pool\n"
                       "# TYPE partd_cpc_weight_total gauge\npartd_cpc_weight_total %u\n"
                       "# HELP partd_cpc_memory_bytes host memory\n"
                       "# TYPE partd_cpc_memory_bytes gauge\npartd_cpc_memory_bytes %llu\n"
                       "# HELP partd_cpc_memory_active_bytes memory targets of active partitions\n"
                       "# TYPE partd_cpc_memory_active_bytes gauge\n"
                       "partd_cpc_memory_active_bytes %llu\n"
                       "# HELP partd_rebalancer_actions_total rebalancer actions carried out\n"
                       "# TYPE partd_rebalancer_actions_total counter\n"
                       "partd_rebalancer_actions_total %llu\n"
                       "# HELP partd_backend_connected 1 when the backend is connected\n"
                       "# TYPE partd_backend_connected gauge\npartd_backend_connected %d\n",
                       cpc->cpus, cpc->pool, cpc->dedicated, cpc->weight_total,
                       (unsigned long long)cpc->memory << 20,
                       (unsigned long long)cpc->memory_active << 20,
                       (unsigned long long)info->actions_applied, info->connected ? 1 : 0);
    if (ok && cpc->host.has_free)
        ok = text_add(&t,
                      "# HELP partd_cpc_memory_host_free_bytes what the host has free\n"
                      "# TYPE partd_cpc_memory_host_free_bytes gauge\n"
                      "partd_cpc_memory_host_free_bytes %llu\n",
                      (unsigned long long)cpc->host.free << 20);
    if (ok && cpc->host.has_psi)
        ok = text_add(&t,
                      "# HELP partd_cpc_memory_pressure_some_avg10 the host's memory pressure "
                      "(/proc/pressure/memory some avg10, percent)\n"
                      "# TYPE partd_cpc_memory_pressure_some_avg10 gauge\n"
                      "partd_cpc_memory_pressure_some_avg10 %.17g\n",
                      cpc->host.psi_some10);
    for (size_t m = 0; ok && m < sizeof(part_metrics) / sizeof(part_metrics[0]); m++) {
        const struct part_metric *pm = &part_metrics[m];
        ok = text_add(&t, "# HELP %s %s\n# TYPE %s gauge\n", pm->name, pm->help, pm->name);
        for (size_t i = 0; ok && i < cpc->n; i++) {
            struct metric_input in = {cpc->parts[i], cpu[i], mem[i]};
            double v;
            if (pm->value ? pm->value(&in, &v) : metric_setting(&in, pm->setting, &v))
                ok = text_add(&t, "%s{partition=\"%s\"} %.17g\n", pm->name, in.p->profile->name, v);
        }
    }
    if (!ok) {
        free(t.s);
        return NULL;
    }
    *ret_len = t.len;
    return t.s;
}

/*
 * A snapshot: a private copy of the CPC (partitions with their profiles, the
 * newest samples), rendered to text lazily, once per snapshot, on first
 * request. Making one is a copy; readers pay for the views they ask for.
 */
struct snap_part {
    struct part_partition part; /* profile owned; history owned, NULL unless plans need it */
    struct part_sample cpu, mem;
    bool has_cpu, has_mem;
    char *_Atomic text;  /* the Partition object, rendered on demand */
    uint64_t trend_upto; /* the trend's points below this seq are this snapshot's */
    size_t len;
};

struct part_snapshot {
    atomic_int refs;
    pthread_mutex_t render; /* only to render a view once */
    struct part_cpc cpc;    /* copy; parts point into snap below */
    struct snap_part *snap; /* in the CPC's order */
    size_t *by_name;        /* indexes of snap sorted by name */
    struct part_snapshot_info info;
    char uri[512], driver[32], version[32], policy[PART_NAME_MAX];
    struct part_policy plan_policy;
    char *_Atomic cpc_text, *_Atomic list_text, *_Atomic metrics_text;
    size_t cpc_len, list_len, metrics_len;
};

struct part_snapshot *part_snapshot_ref(struct part_snapshot *s)
{
    atomic_fetch_add(&s->refs, 1);
    return s;
}

void part_snapshot_put(struct part_snapshot *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    for (size_t i = 0; s->snap && i < s->cpc.n; i++) {
        part_profile_free(s->snap[i].part.profile);
        free(s->snap[i].part.cpus);
        free(s->snap[i].part.history);
        part_trend_put(s->snap[i].part.trend);
        free(s->snap[i].text);
    }
    free(s->snap);
    free(s->cpc.parts);
    free(s->cpc.cfg.groups);
    free(s->by_name);
    free(s->cpc_text);
    free(s->list_text);
    free(s->metrics_text);
    pthread_mutex_destroy(&s->render);
    free(s);
}

static int name_cmp(const void *a, const void *b, void *opaque)
{
    const struct snap_part *snap = opaque;
    return strcmp(snap[*(const size_t *)a].part.profile->name,
                  snap[*(const size_t *)b].part.profile->name);
}

/* Copies p into sp: its profile, CPUs, newest samples and, for plans
 * (history), its history. false on ENOMEM (sp is then put's to free). */
static bool snap_part_copy(struct snap_part *sp, const struct part_partition *p, bool history)
{
    const struct part_sample *cpu = latest(p, false), *mem = latest(p, true);
    bool cpus = p->cpus && p->active && p->processors;

    sp->part = *p;
    sp->part.trend = part_trend_ref(p->trend);
    sp->trend_upto = p->trend ? part_trend_next(p->trend) : 0;
    sp->part.history = NULL;
    sp->part.cpus = NULL;
    sp->part.profile = part_profile_dup(p->profile);
    if (cpus && (sp->part.cpus = malloc(p->processors * sizeof(*p->cpus))))
        memcpy(sp->part.cpus, p->cpus, p->processors * sizeof(*p->cpus));
    if (history && p->active && p->history && (sp->part.history = malloc(sizeof(*p->history))))
        memcpy(sp->part.history, p->history, sizeof(*p->history));
    if ((sp->has_cpu = cpu != NULL))
        sp->cpu = *cpu;
    if ((sp->has_mem = mem != NULL))
        sp->mem = *mem;
    return sp->part.profile && (!cpus || sp->part.cpus) &&
           (!history || !p->active || !p->history || sp->part.history);
}

/* The snapshot's own copies of info's strings and policy. */
static void snap_info_copy(struct part_snapshot *s, const struct part_snapshot_info *info)
{
    snprintf(s->uri, sizeof(s->uri), "%s", info->uri ? info->uri : "");
    snprintf(s->driver, sizeof(s->driver), "%s", info->driver ? info->driver : "");
    snprintf(s->version, sizeof(s->version), "%s", info->version ? info->version : "");
    snprintf(s->policy, sizeof(s->policy), "%s", info->policy ? info->policy : "static");
    if (info->plan_policy)
        s->plan_policy = *info->plan_policy;
    else
        part_policy_default(&s->plan_policy);
    s->info = *info;
    s->info.uri = s->uri;
    s->info.driver = s->driver;
    s->info.version = s->version;
    s->info.policy = s->policy;
    s->info.plan_policy = &s->plan_policy;
}

struct part_snapshot *part_snapshot_new(const struct part_cpc *cpc,
                                        const struct part_snapshot_info *info)
{
    struct part_snapshot *s = calloc(1, sizeof(*s));
    size_t n = cpc->n;

    if (!s)
        return NULL;
    atomic_init(&s->refs, 1);
    pthread_mutex_init(&s->render, NULL);
    s->cpc = *cpc;
    s->cpc.n = 0;
    s->cpc.parts = calloc(n + 1, sizeof(*s->cpc.parts));
    s->cpc.cfg.groups = calloc(cpc->cfg.n_groups + 1, sizeof(*s->cpc.cfg.groups));
    s->snap = calloc(n + 1, sizeof(*s->snap));
    s->by_name = calloc(n + 1, sizeof(*s->by_name));
    if (!s->cpc.parts || !s->cpc.cfg.groups || !s->snap || !s->by_name)
        goto fail;
    if (cpc->cfg.n_groups)
        memcpy(s->cpc.cfg.groups, cpc->cfg.groups, cpc->cfg.n_groups * sizeof(*cpc->cfg.groups));
    /* the planner reads histories; a policy that only observes plans
     * nothing, and its snapshots need none (a preview of an acting policy
     * then plans from the model: part_mgr_plan()) */
    bool history = info->plan_policy && part_policy_acts(info->plan_policy);
    for (size_t i = 0; i < n; i++) {
        s->cpc.parts[i] = &s->snap[i].part;
        s->cpc.n = i + 1;
        if (!snap_part_copy(&s->snap[i], cpc->parts[i], history))
            goto fail;
        s->by_name[i] = i;
    }
    qsort_r(s->by_name, n, sizeof(*s->by_name), name_cmp, s->snap);
    snap_info_copy(s, info);
    return s;
fail:
    part_snapshot_put(s);
    return NULL;
}

const struct part_snapshot_info *part_snapshot_info(const struct part_snapshot *s)
{
    return &s->info;
}

int part_snapshot_plan(struct part_snapshot *s, const struct part_policy *policy, double now,
                       json_t **ret, struct part_error *err)
{
    struct part_plan plan = {0};
    if (!policy)
        policy = &s->plan_policy;
    int r = part_plan_make(&s->cpc, policy, now, &plan, err);
    if (r == 0)
        r = (*ret = part_plan_reply_json(&plan, policy->name, s->info.sample))
                ? 0
                : part_error_oom(err);
    part_plan_clear(&plan);
    return r;
}

json_t *part_snapshot_policy_json(const struct part_snapshot *s)
{
    return part_policy_to_json(&s->plan_policy);
}

static char *render(json_t *j, size_t *ret_len)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (text)
        *ret_len = strlen(text);
    return text;
}

/* Renders the Partition object of snap[i] once; NULL on ENOMEM. */
static const char *snap_part_text(struct part_snapshot *s, size_t i, size_t *ret_len)
{
    struct snap_part *sp = &s->snap[i];
    char *text = atomic_load(&sp->text);
    if (!text) {
        pthread_mutex_lock(&s->render);
        if (!(text = atomic_load(&sp->text))) {
            text = render(partition_json(&sp->part, sp->has_cpu ? &sp->cpu : NULL,
                                         sp->has_mem ? &sp->mem : NULL, s->info.clock_offset),
                          &sp->len);
            atomic_store(&sp->text, text);
        }
        pthread_mutex_unlock(&s->render);
    }
    if (text)
        *ret_len = sp->len;
    return text;
}

/* The index in snap of the partition called name, or -1. */
static ssize_t snap_find(const struct part_snapshot *s, const char *name)
{
    size_t lo = 0, hi = s->cpc.n;
    while (lo < hi) { /* binary search over the names */
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, s->snap[s->by_name[mid]].part.profile->name);
        if (c == 0)
            return (ssize_t)s->by_name[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

const char *part_snapshot_partition_text(struct part_snapshot *s, const char *name, size_t *ret_len)
{
    ssize_t i = snap_find(s, name);
    return i < 0 ? NULL : snap_part_text(s, (size_t)i, ret_len);
}

/* The columns of a History object from n trend points: null where a value
 * is unknown (no CPU time, no balloon, no weight). */
static json_t *history_columns(const struct part_trend_point *pts, size_t n)
{
    json_t *at = json_array(), *used = json_array(), *ent = json_array(), *weight = json_array(),
           *online = json_array(), *target = json_array(), *actual = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct part_trend_point *p = &pts[i];
        json_array_append_new(at, json_real(round(p->at * 1000) / 1000));
        json_array_append_new(used,
                              isnan(p->used) ? json_null() : json_real(round(p->used * 1e4) / 1e4));
        json_array_append_new(ent, json_real(round(p->entitlement * 1e4) / 1e4));
        json_array_append_new(weight, p->weight ? json_integer(p->weight) : json_null());
        json_array_append_new(online, json_integer(p->online));
        json_array_append_new(target, json_integer(p->mem_target));
        json_array_append_new(actual, p->mem_actual ? json_integer(p->mem_actual) : json_null());
    }
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "at", at, "used", used, "entitlement",
                     ent, "weight", weight, "online", online, "memory_target", target,
                     "memory_actual", actual);
}

int part_snapshot_history(struct part_snapshot *s, const char *name, uint64_t from, json_t **ret,
                          struct part_error *err)
{
    ssize_t i = snap_find(s, name);
    struct part_trend_point *pts = NULL;
    size_t n = 0;
    uint64_t first = 0, next = 0;

    if (i < 0)
        return part_error_set(err, -ENOENT, "", "%s: no such partition", name);
    const struct snap_part *sp = &s->snap[i];
    if (sp->part.trend) {
        next = sp->trend_upto;
        if (part_trend_read(sp->part.trend, from, next, &pts, &n, &first) < 0)
            return part_error_oom(err);
    }
    json_t *cols = history_columns(pts, n);
    size_t cap =
        sp->part.trend ? part_trend_size(sp->part.trend) : part_trend_capacity(s->info.interval);
    free(pts);
    *ret = json_pack(
        "{s:s, s:f, s:f, s:I, s:o, s:o, s:o}", "name", name, "interval", s->info.interval, "step",
        part_trend_stride(s->info.interval) * s->info.interval, "capacity", (json_int_t)cap,
        "first", n ? json_integer((json_int_t)first) : json_null(), "last",
        next ? json_integer((json_int_t)(next - 1)) : json_null(), "samples", cols);
    return *ret ? 0 : part_error_oom(err);
}

const char *part_snapshot_cpc_text(struct part_snapshot *s, size_t *ret_len)
{
    char *text = atomic_load(&s->cpc_text);
    if (!text) {
        pthread_mutex_lock(&s->render);
        if (!(text = atomic_load(&s->cpc_text))) {
            text = render(cpc_json(&s->cpc, &s->info), &s->cpc_len);
            atomic_store(&s->cpc_text, text);
        }
        pthread_mutex_unlock(&s->render);
    }
    if (text)
        *ret_len = s->cpc_len;
    return text;
}

const char *part_snapshot_list_text(struct part_snapshot *s, size_t *ret_len)
{
    char *text = atomic_load(&s->list_text);
    if (text) {
        *ret_len = s->list_len;
        return text;
    }
    /* {"partitions":[A,B,...]} from the partitions' own texts, in name order */
    struct text t = {0};
    bool ok = text_add(&t, "{\"partitions\":[");
    for (size_t i = 0; ok && i < s->cpc.n; i++) {
        size_t len;
        const char *p = snap_part_text(s, s->by_name[i], &len);
        ok = p && text_add(&t, "%s%.*s", i ? "," : "", (int)len, p);
    }
    ok = ok && text_add(&t, "]}");
    if (!ok) {
        free(t.s);
        return NULL;
    }
    pthread_mutex_lock(&s->render);
    if (!(text = atomic_load(&s->list_text))) {
        s->list_len = t.len;
        atomic_store(&s->list_text, t.s);
        text = t.s;
        t.s = NULL;
    }
    pthread_mutex_unlock(&s->render);
    free(t.s); /* another reader was first */
    *ret_len = s->list_len;
    return text;
}

const char *part_snapshot_metrics_text(struct part_snapshot *s, size_t *ret_len)
{
    char *text = atomic_load(&s->metrics_text);
    if (!text) {
        pthread_mutex_lock(&s->render);
        if (!(text = atomic_load(&s->metrics_text))) {
            const struct part_sample **cpu = calloc(s->cpc.n + 1, sizeof(*cpu));
            const struct part_sample **mem = calloc(s->cpc.n + 1, sizeof(*mem));
            for (size_t i = 0; cpu && mem && i < s->cpc.n; i++) {
                cpu[i] = s->snap[i].has_cpu ? &s->snap[i].cpu : NULL;
                mem[i] = s->snap[i].has_mem ? &s->snap[i].mem : NULL;
            }
            if (cpu && mem)
                text = metrics_text(&s->cpc, &s->info, cpu, mem, &s->metrics_len);
            free(cpu);
            free(mem);
            atomic_store(&s->metrics_text, text);
        }
        pthread_mutex_unlock(&s->render);
    }
    if (text)
        *ret_len = s->metrics_len;
    return text;
}
