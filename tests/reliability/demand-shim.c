/* An LD_PRELOAD shim that gives libvirt's test driver a CPU demand, so that
 * partd's rebalancer has something to act on in the reliability tests (the
 * test driver reports no cpu.time, so every plan is empty without it).
 *
 * It wraps virConnectGetAllDomainStats(): after the real call, every record
 * of a domain named in the file $PARTD_DEMAND_FILE gets a "cpu.time" that
 * grows by DEMAND processors x wall time (capped at the domain's online
 * vCPUs when the record has vcpu.current), and, when MEM is given, guest
 * balloon figures saying MEM MiB are in use. The file is re-read at every
 * call; one line per domain:
 *
 *     NAME DEMAND [MEM_USED_MIB]
 *
 * Only for tests: partd itself is unchanged. */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvirt/libvirt.h>

#define MAX_DOMAINS 64

struct demand {
    char name[64];
    double cpu;
    double mem; /* MiB used, < 0 when not given */
    unsigned long long cpu_ns;
    double last;
};

static struct demand table[MAX_DOMAINS];
static size_t n_table;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct demand *find(const char *name, bool add)
{
    for (size_t i = 0; i < n_table; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    if (!add || n_table == MAX_DOMAINS)
        return NULL;
    struct demand *d = &table[n_table++];
    memset(d, 0, sizeof(*d));
    snprintf(d->name, sizeof(d->name), "%s", name);
    d->mem = -1;
    return d;
}

static void read_file(void)
{
    const char *path = getenv("PARTD_DEMAND_FILE");
    FILE *f = path ? fopen(path, "re") : NULL;
    char line[256], name[64];
    for (size_t i = 0; i < n_table; i++)
        table[i].cpu = 0, table[i].mem = -1;
    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        double cpu = 0, mem = -1;
        int n = sscanf(line, "%63s %lf %lf", name, &cpu, &mem);
        if (n < 2 || name[0] == '#')
            continue;
        struct demand *d = find(name, true);
        if (d) {
            d->cpu = cpu;
            d->mem = n == 3 ? mem : -1;
        }
    }
    fclose(f);
}

static virTypedParameterPtr param(virDomainStatsRecordPtr r, const char *field)
{
    for (int i = 0; i < r->nparams; i++)
        if (strcmp(r->params[i].field, field) == 0)
            return &r->params[i];
    virTypedParameterPtr p = realloc(r->params, sizeof(*p) * (size_t)(r->nparams + 1));
    if (!p)
        return NULL;
    r->params = p;
    p = &r->params[r->nparams++];
    memset(p, 0, sizeof(*p));
    snprintf(p->field, sizeof(p->field), "%s", field);
    p->type = VIR_TYPED_PARAM_ULLONG;
    return p;
}

static void set_u64(virDomainStatsRecordPtr r, const char *field, unsigned long long v)
{
    virTypedParameterPtr p = param(r, field);
    if (p) {
        p->type = VIR_TYPED_PARAM_ULLONG;
        p->value.ul = v;
    }
}

static bool get_u64(virDomainStatsRecordPtr r, const char *field, unsigned long long *v)
{
    for (int i = 0; i < r->nparams; i++)
        if (strcmp(r->params[i].field, field) == 0) {
            switch (r->params[i].type) {
            case VIR_TYPED_PARAM_ULLONG:
                *v = r->params[i].value.ul;
                return true;
            case VIR_TYPED_PARAM_UINT:
                *v = r->params[i].value.ui;
                return true;
            case VIR_TYPED_PARAM_LLONG:
                *v = (unsigned long long)r->params[i].value.l;
                return true;
            case VIR_TYPED_PARAM_INT:
                *v = (unsigned long long)r->params[i].value.i;
                return true;
            default:
                return false;
            }
        }
    return false;
}

int virConnectGetAllDomainStats(virConnectPtr conn, unsigned int stats,
                                virDomainStatsRecordPtr **retStats, unsigned int flags)
{
    static int (*real)(virConnectPtr, unsigned int, virDomainStatsRecordPtr **, unsigned int);
    if (!real)
        real = dlsym(RTLD_NEXT, "virConnectGetAllDomainStats");
    if (!real)
        return -1;
    int n = real(conn, stats, retStats, flags);
    if (n <= 0)
        return n;
    read_file();
    double t = now();
    for (int i = 0; i < n; i++) {
        virDomainStatsRecordPtr r = (*retStats)[i];
        const char *name = virDomainGetName(r->dom);
        struct demand *d = name ? find(name, false) : NULL;
        if (!d)
            continue;
        unsigned long long state = 0, vcpus = 0;
        if (get_u64(r, "state.state", &state) && state != VIR_DOMAIN_RUNNING) {
            d->last = 0;
            continue;
        }
        double cpu = d->cpu;
        virDomainInfo info;
        if (get_u64(r, "vcpu.current", &vcpus) ||
            (virDomainGetInfo(r->dom, &info) == 0 && (vcpus = info.nrVirtCpu)))
            if (cpu > (double)vcpus)
                cpu = (double)vcpus;
        if (d->last > 0)
            d->cpu_ns += (unsigned long long)(cpu * (t - d->last) * 1e9);
        d->last = t;
        set_u64(r, "cpu.time", d->cpu_ns);
        if (d->mem >= 0) {
            unsigned long long cur = 0;
            if (!get_u64(r, "balloon.current", &cur) && virDomainGetInfo(r->dom, &info) == 0)
                cur = info.memory;
            set_u64(r, "balloon.current", cur);
            unsigned long long used = (unsigned long long)(d->mem * 1024);
            unsigned long long unused = cur > used ? cur - used : 0;
            set_u64(r, "balloon.available", cur);
            set_u64(r, "balloon.usable", unused);
            set_u64(r, "balloon.unused", unused);
        }
    }
    return n;
}
