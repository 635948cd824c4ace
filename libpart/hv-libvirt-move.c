/* The libvirt backend's part of moving a partition to another host: what
 * the target checks the guest's processor against, libvirt's CPU
 * comparison there, and the live migration itself (peer to peer, watched
 * once a second, aborted at its timeout). partd copies nothing itself:
 * libvirt and QEMU move the guest. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "part/hv.h"

#include "hv-libvirt.h"

#define LV_MOVE_FLAGS                                                                              \
    (VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_PERSIST_DEST |                         \
     VIR_MIGRATE_UNDEFINE_SOURCE | VIR_MIGRATE_ABORT_ON_ERROR)

static xmlNode *lv_child(xmlNode *parent, const char *name)
{
    for (xmlNode *n = parent ? parent->children : NULL; n; n = n->next)
        if (n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST name))
            return n;
    return NULL;
}

/* Copies attribute name of n (when n has it) into buf. */
static void lv_attr(xmlNode *n, const char *name, char *buf, size_t len)
{
    xmlChar *v = n ? xmlGetProp(n, BAD_CAST name) : NULL;
    if (v)
        snprintf(buf, len, "%s", (const char *)v);
    xmlFree(v);
}

/* Fills g from the domain XML xml; -EINVAL when it cannot be read. */
static int lv_guest_parse(const char *xml, struct part_hv_guest *g, const char *domain,
                          struct part_error *err)
{
    xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    int r = 0;

    memset(g, 0, sizeof(*g));
    if (!root) {
        xmlFreeDoc(doc);
        return part_error_set(err, -EINVAL, NULL, "%s: cannot read its domain XML", domain);
    }
    lv_attr(root, "type", g->type, sizeof(g->type));
    xmlNode *type = lv_child(lv_child(root, "os"), "type");
    lv_attr(type, "arch", g->arch, sizeof(g->arch));
    lv_attr(type, "machine", g->machine, sizeof(g->machine));
    xmlNode *cpu = lv_child(root, "cpu");
    if (cpu) {
        xmlBuffer *buf = xmlBufferCreate();
        if (!buf || xmlNodeDump(buf, doc, cpu, 0, 0) < 0)
            r = part_error_oom(err);
        else if ((size_t)xmlBufferLength(buf) >= sizeof(g->cpu))
            r = part_error_set(err, -E2BIG, NULL, "%s: its <cpu> element is over %zu bytes", domain,
                               sizeof(g->cpu) - 1);
        else
            memcpy(g->cpu, xmlBufferContent(buf), (size_t)xmlBufferLength(buf) + 1);
        xmlBufferFree(buf);
    }
    xmlFreeDoc(doc);
    return r;
}

int lv_guest(struct part_hv *hv, const char *domain, struct part_hv_guest *ret,
             struct part_error *err)
{
    virDomainPtr dom;
    int r = lv_domain(lv_cast(hv), domain, "describe its processor", &dom, err);
    if (r < 0)
        return r;
    char *xml = virDomainGetXMLDesc(dom, 0);
    r = xml ? lv_guest_parse(xml, ret, domain, err) : lv_fail(err, domain, "read its domain XML");
    free(xml);
    virDomainFree(dom);
    return r;
}

int lv_compare_cpu(struct part_hv *hv, const struct part_hv_guest *g, struct part_error *err)
{
    struct part_hv_libvirt *lv = lv_cast(hv);

    if (!g->cpu[0])
        return 0; /* the hypervisor's default model, which every host of it has */
    if (strstr(g->cpu, "host-passthrough") || strstr(g->cpu, "'maximum'") ||
        strstr(g->cpu, "\"maximum\""))
        return part_error_set(err, -ENOTSUP, NULL,
                              "a host-passthrough processor is not comparable: it needs the same "
                              "host CPU model, which libvirt checks when it migrates");
    int c = virConnectCompareHypervisorCPU(lv->conn, NULL, g->arch[0] ? g->arch : NULL,
                                           g->machine[0] ? g->machine : NULL,
                                           g->type[0] ? g->type : NULL, g->cpu, 0);
    if (c == VIR_CPU_COMPARE_ERROR)
        return lv_fail(err, NULL, "compare the guest's processor with this host's");
    if (c == VIR_CPU_COMPARE_INCOMPATIBLE)
        return part_error_set(err, -EINVAL, "cpu",
                              "cpu: this host cannot run the guest's processor (libvirt's CPU "
                              "comparison says incompatible)");
    return 0;
}

/* The migration's own thread: virDomainMigrateToURI3 blocks until done. */
struct lv_migration {
    virDomainPtr dom;
    const char *domain, *dest_uri;
    virTypedParameterPtr params;
    int n_params;
    atomic_bool done;
    int r;
    struct part_error err;
};

static void *lv_migrate_thread(void *arg)
{
    struct lv_migration *m = arg;
    if (virDomainMigrateToURI3(m->dom, m->dest_uri, m->params, (unsigned)m->n_params,
                               LV_MOVE_FLAGS) < 0)
        m->r = lv_fail(&m->err, m->domain, "migrate");
    atomic_store(&m->done, true);
    return NULL;
}

/* The job's progress now; false when there is no job (not started, ended). */
static bool lv_progress(virDomainPtr dom, struct part_hv_progress *p)
{
    virTypedParameterPtr params = NULL;
    int type, n = 0;
    unsigned long long v;

    memset(p, 0, sizeof(*p));
    if (virDomainGetJobStats(dom, &type, &params, &n, 0) < 0) {
        virResetLastError();
        return false;
    }
    if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_TIME_ELAPSED, &v) == 1)
        p->elapsed_s = v / 1000.0;
    if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_DATA_PROCESSED, &v) == 1)
        p->processed = v;
    if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_DATA_REMAINING, &v) == 1)
        p->remaining = v;
    if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_DATA_TOTAL, &v) == 1)
        p->total = v;
    virTypedParamsFree(params, n);
    return type != VIR_DOMAIN_JOB_NONE;
}

/* Watches m until it ends: progress to fn every second, the job aborted at
 * the timeout. Returns whether it timed out. */
static bool lv_migrate_watch(struct lv_migration *m, unsigned timeout_s, part_hv_progress_fn fn,
                             void *opaque)
{
    uint64_t start = lv_now_ms(), next = start + 1000;
    bool aborted = false;

    while (!atomic_load(&m->done)) {
        lv_sleep_ms(LV_POLL_MS * 2);
        uint64_t now = lv_now_ms();
        if (!aborted && now - start >= timeout_s * 1000ull) {
            aborted = true;
            if (virDomainAbortJob(m->dom) < 0)
                virResetLastError(); /* ended meanwhile: the thread says how */
        }
        if (now >= next) {
            struct part_hv_progress p;
            next += 1000;
            if (lv_progress(m->dom, &p) && fn)
                fn(&p, opaque);
        }
    }
    return aborted;
}

int lv_migrate(struct part_hv *hv, const char *domain, const struct part_hv_migration *mig,
               part_hv_progress_fn fn, void *opaque, struct part_error *err)
{
    struct lv_migration m = {.domain = domain, .dest_uri = mig->dest_uri};
    int max = 0, r;
    pthread_t thread;

    if ((r = lv_domain(lv_cast(hv), domain, "migrate", &m.dom, err)) < 0)
        return r;
    if (mig->data_uri && virTypedParamsAddString(&m.params, &m.n_params, &max,
                                                 VIR_MIGRATE_PARAM_URI, mig->data_uri) < 0) {
        r = lv_fail(err, domain, "set the migration's address");
        goto out;
    }
    /* before the job: QEMU takes it as a migration parameter */
    if (virDomainMigrateSetMaxDowntime(m.dom, mig->max_downtime_ms, 0) < 0) {
        r = lv_fail(err, domain, "set the migration's maximum downtime");
        goto out;
    }
    if ((r = -pthread_create(&thread, NULL, lv_migrate_thread, &m)) < 0) {
        part_error_set(err, r, NULL, "%s: cannot start the migration's thread", domain);
        goto out;
    }
    bool timed_out = lv_migrate_watch(&m, mig->timeout_s, fn, opaque);
    pthread_join(thread, NULL);
    r = m.r;
    if (r < 0 && timed_out)
        r = part_error_set(err, -ETIMEDOUT, NULL,
                           "%s: migration aborted after %u s (timeout_s); it runs on here: %s",
                           domain, mig->timeout_s, m.err.message);
    else if (r < 0 && err)
        *err = m.err;
out:
    virTypedParamsFree(m.params, m.n_params);
    virDomainFree(m.dom);
    return r;
}

int lv_migrating(struct part_hv *hv, const char *domain, struct part_error *err)
{
    virDomainPtr dom;
    virDomainJobInfo info;
    int r = lv_domain(lv_cast(hv), domain, "look at its jobs", &dom, err);
    if (r < 0)
        return r;
    if (virDomainGetJobInfo(dom, &info) < 0) {
        r = lv_fail(err, domain, "look at its jobs");
        if (r == -ENOTSUP) { /* the test driver: it never migrates */
            part_error_clear(err);
            r = 0;
        }
    } else {
        r = info.type != VIR_DOMAIN_JOB_NONE;
    }
    virDomainFree(dom);
    return r;
}
