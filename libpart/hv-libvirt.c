/* The libvirt backend of struct part_hv_ops (with hv-libvirt-set.c, the only
 * place in partd that talks to libvirt): connection, domains' lifecycle,
 * statistics and events. Every libvirt failure goes through lv_fail(), which maps
 * it to an errno and keeps libvirt's own message for the person reading it. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "part/hv.h"

#include "hv-libvirt.h"

static pthread_once_t lv_once = PTHREAD_ONCE_INIT;
static int lv_once_error;

static void lv_error_silent(void *opaque, virErrorPtr e)
{
}

static void lv_xml_silent(void *ctx, const char *fmt, ...)
{
}

static void *lv_event_loop(void *arg)
{
    for (;;) {
        /* a failing iteration must not turn into a busy loop */
        if (virEventRunDefaultImpl() < 0)
            usleep(100 * 1000);
    }
    return NULL;
}

/* libvirt needs its event loop registered before the first connection is
 * opened, and one loop serves every connection of the process. */
static void lv_init_once(void)
{
    pthread_attr_t attr;
    pthread_t thread;
    int r;

    virSetErrorFunc(NULL, lv_error_silent);
    if (virInitialize() < 0 || virEventRegisterDefaultImpl() < 0) {
        lv_once_error = -EIO;
        return;
    }
    r = pthread_attr_init(&attr);
    if (r == 0) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        r = pthread_create(&thread, &attr, lv_event_loop, NULL);
        pthread_attr_destroy(&attr);
    }
    if (r != 0)
        lv_once_error = -r;
}

/* Maps the calling thread's last libvirt error to a negative errno. */
int lv_errno(void)
{
    virErrorPtr e = virGetLastError();

    if (!e)
        return -EIO;
    switch (e->code) {
    case VIR_ERR_NO_DOMAIN:
        return -ENOENT;
    case VIR_ERR_NO_SUPPORT:
    case VIR_ERR_ARGUMENT_UNSUPPORTED:
    case VIR_ERR_OPERATION_UNSUPPORTED:
    case VIR_ERR_CONFIG_UNSUPPORTED:
        return -ENOTSUP;
    case VIR_ERR_INVALID_ARG:
        /* virCheckFlags() reports a flag a driver does not implement as an
         * invalid argument; partd passes only flags it means, so that is the
         * driver lacking the feature. The code alone cannot tell them apart. */
        if (e->message && strstr(e->message, "unsupported flags"))
            return -ENOTSUP;
        return -EINVAL;
    case VIR_ERR_XML_ERROR:
    case VIR_ERR_XML_DETAIL:
        return -EINVAL;
    case VIR_ERR_OPERATION_INVALID:
        /* the domain's state forbids it: already running, not running */
        return -EBUSY;
    case VIR_ERR_DOM_EXIST:
        return -EEXIST;
    case VIR_ERR_OPERATION_TIMEOUT:
        return -ETIMEDOUT;
    case VIR_ERR_AGENT_UNRESPONSIVE:
    case VIR_ERR_AGENT_UNSYNCED:
        /* not connected yet (the guest is booting) or busy: worth a retry */
        return -EAGAIN;
    case VIR_ERR_NO_MEMORY:
        return -ENOMEM;
    case VIR_ERR_AUTH_FAILED:
    case VIR_ERR_AUTH_CANCELLED:
    case VIR_ERR_AUTH_UNAVAILABLE:
    case VIR_ERR_ACCESS_DENIED:
        return -EACCES;
    case VIR_ERR_NO_CONNECT:
    case VIR_ERR_INVALID_CONN:
    case VIR_ERR_RPC:
        return -ENOTCONN;
    case VIR_ERR_SYSTEM_ERROR:
    default:
        return -EIO;
    }
}

/* Records the last libvirt error in err as "DOMAIN: cannot WHAT: message"
 * (without the domain when NULL) and returns its errno. */
int lv_fail(struct part_error *err, const char *domain, const char *what)
{
    int r = lv_errno();

    if (domain)
        part_error_set(err, r, NULL, "%s: cannot %s: %s", domain, what, virGetLastErrorMessage());
    else
        part_error_set(err, r, NULL, "cannot %s: %s", what, virGetLastErrorMessage());
    virResetLastError();
    return r;
}

struct part_hv_libvirt *lv_cast(struct part_hv *hv)
{
    return (struct part_hv_libvirt *)hv;
}

/* lv_fail() for an operation that the domain's state may forbid: drivers
 * disagree on the code (QEMU says "operation invalid", the test driver
 * "internal error"), so the state decides. busy_when_active tells which
 * state makes the operation impossible. */
int lv_fail_state(struct part_error *err, virDomainPtr dom, const char *domain, const char *what,
                  bool busy_when_active)
{
    int r = lv_fail(err, domain, what), active = virDomainIsActive(dom);

    if (active < 0)
        virResetLastError();
    else if ((active == 1) == busy_when_active)
        r = -EBUSY;
    return r;
}

int lv_domain(struct part_hv_libvirt *lv, const char *name, const char *what, virDomainPtr *ret,
              struct part_error *err)
{
    *ret = virDomainLookupByName(lv->conn, name);
    return *ret ? 0 : lv_fail(err, name, what);
}

unsigned lv_affect(unsigned flags)
{
    unsigned f = VIR_DOMAIN_AFFECT_CURRENT;

    if (flags & PART_HV_LIVE)
        f |= VIR_DOMAIN_AFFECT_LIVE;
    if (flags & PART_HV_CONFIG)
        f |= VIR_DOMAIN_AFFECT_CONFIG;
    return f;
}

uint64_t lv_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void lv_sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Bounds how long libvirt waits for dom's guest agent: its default waits
 * for ever, and partd asks while holding its own lock. */
void lv_agent_bound(virDomainPtr dom)
{
    if (virDomainAgentSetResponseTimeout(dom, LV_AGENT_TIMEOUT_S, 0) < 0)
        virResetLastError(); /* a driver without agents: nothing to bound */
}

/* The partition partd's mark on dom names, in ret ("" when it has none):
 * the persistent definition's, which is what a redefinition or an undefine
 * would replace, else (a transient domain) the running one's. libvirt hands
 * the element back as <partition name='NAME'/>, without its prefix. */
static int lv_owner(virDomainPtr dom, const char *domain, char ret[PART_NAME_MAX],
                    struct part_error *err)
{
    int persistent = virDomainIsPersistent(dom);
    xmlDoc *doc = NULL;
    xmlNode *root;
    xmlChar *name = NULL;
    char *xml;

    ret[0] = '\0';
    if (persistent < 0)
        return lv_fail(err, domain, "read the domain's definition");
    xml = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, PART_DOMXML_MARK_NS,
                               persistent ? VIR_DOMAIN_AFFECT_CONFIG : VIR_DOMAIN_AFFECT_LIVE);
    if (!xml) {
        virErrorPtr e = virGetLastError();
        if (e && e->code == VIR_ERR_NO_DOMAIN_METADATA) {
            virResetLastError();
            return 0;
        }
        return lv_fail(err, domain, "read partd's mark");
    }
    doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    root = doc ? xmlDocGetRootElement(doc) : NULL;
    /* anything else in partd's namespace is no mark of partd's */
    if (root && xmlStrEqual(root->name, BAD_CAST PART_DOMXML_MARK_ELEMENT))
        name = xmlGetProp(root, BAD_CAST "name");
    if (name && part_name_valid((const char *)name))
        snprintf(ret, PART_NAME_MAX, "%s", (const char *)name);
    xmlFree(name);
    xmlFreeDoc(doc);
    free(xml);
    return 0;
}

/* Whether the connection's URI names this host: no server in it
 * ("qemu:///system", "qemu+unix:///system"), so that the host's own
 * /proc describes the hypervisor's host. */
static bool lv_uri_local(virConnectPtr conn)
{
    char *uri = virConnectGetURI(conn);
    const char *at = uri ? strstr(uri, "://") : NULL;
    bool local = at && at[3] == '/';

    if (local) {
        const char *plus = memchr(uri, '+', (size_t)(at - uri));
        local = !plus || ((size_t)(at - plus) == strlen("+unix") && strncmp(plus, "+unix", 5) == 0);
    }
    if (!uri)
        virResetLastError();
    free(uri);
    return local;
}

static int lv_open(const char *uri, bool read_only, struct part_hv **ret, struct part_error *err)
{
    struct part_hv_libvirt *lv = NULL;
    xmlGenericErrorFunc saved_fn;
    void *saved_ctx;
    const char *type;
    int r;

    pthread_once(&lv_once, lv_init_once);
    if (lv_once_error < 0)
        return part_error_set(err, lv_once_error, NULL, "cannot start the libvirt event loop: %s",
                              strerror(-lv_once_error));
    lv = calloc(1, sizeof(*lv));
    if (!lv)
        return part_error_set(err, -ENOMEM, NULL, "out of memory");
    lv->base.ops = &part_hv_libvirt_ops;
    lv->event_id = -1;
    lv->stats_types = LV_STATS_ALL;

    /* the test driver parses its node XML in this process, and libxml2 would
     * print its complaints about the file on stderr */
    saved_fn = xmlGenericError;
    saved_ctx = xmlGenericErrorContext;
    xmlSetGenericErrorFunc(NULL, lv_xml_silent);
    lv->conn = read_only ? virConnectOpenReadOnly(uri) : virConnectOpen(uri);
    xmlSetGenericErrorFunc(saved_ctx, saved_fn);
    if (!lv->conn) {
        r = lv_errno();
        part_error_set(err, r, NULL, "cannot connect to %s: %s", uri ? uri : "the default URI",
                       virGetLastErrorMessage());
        virResetLastError();
        goto out;
    }
    /* local drivers (test, qemu:///embed) have no keepalive: nothing to lose */
    if (virConnectSetKeepAlive(lv->conn, 5, 3) < 0)
        virResetLastError();
    type = virConnectGetType(lv->conn);
    if (!type) {
        r = lv_fail(err, NULL, "read the hypervisor type");
        goto out;
    }
    snprintf(lv->driver, sizeof(lv->driver), "%s", type);
    lv->local = lv_uri_local(lv->conn) && strcmp(type, "TEST") != 0;
    *ret = &lv->base;
    lv = NULL;
    r = 0;
out:
    if (lv && lv->conn)
        virConnectClose(lv->conn);
    free(lv);
    return r;
}

static void lv_close(struct part_hv *hv)
{
    struct part_hv_libvirt *lv = lv_cast(hv);

    if (!lv)
        return;
    if (lv->event_id >= 0 && virConnectDomainEventDeregisterAny(lv->conn, lv->event_id) < 0)
        virResetLastError();
    virConnectClose(lv->conn);
    free(lv);
}

static int lv_host(struct part_hv *hv, struct part_hv_host *ret, struct part_error *err)
{
    struct part_hv_libvirt *lv = lv_cast(hv);
    virNodeInfo info;

    if (virNodeGetInfo(lv->conn, &info) < 0)
        return lv_fail(err, NULL, "read the host's processors and memory");
    memset(ret, 0, sizeof(*ret));
    ret->cpus = info.cpus;
    ret->memory = info.memory / 1024;
    snprintf(ret->driver, sizeof(ret->driver), "%s", lv->driver);
    unsigned long v = 0;
    if (virConnectGetLibVersion(lv->conn, &v) == 0)
        snprintf(ret->version, sizeof(ret->version), "%lu.%lu.%lu", v / 1000000, v / 1000 % 1000,
                 v % 1000);
    return 0;
}

/* /proc/pressure/memory's "some avg10", when the kernel has it. */
static bool lv_host_psi(double *ret)
{
    char text[256];
    FILE *f = fopen("/proc/pressure/memory", "re");
    size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;

    if (f)
        fclose(f);
    text[n] = '\0';
    return n > 0 && part_psi_some_avg10(text, ret);
}

static int lv_memory(struct part_hv *hv, struct part_host_memory *ret, struct part_error *err)
{
    struct part_hv_libvirt *lv = lv_cast(hv);
    /* bytes; 0 is libvirt's failure (a driver without it, a node XML
     * without cells) */
    unsigned long long bytes = virNodeGetFreeMemory(lv->conn);

    memset(ret, 0, sizeof(*ret));
    if (bytes == 0)
        virResetLastError();
    ret->has_free = bytes > 0;
    ret->free = bytes >> 20;
    ret->has_psi = lv->local && lv_host_psi(&ret->psi_some10);
    (void)err;
    return 0;
}

static int lv_lookup(struct part_hv *hv, const char *domain, struct part_hv_domain *ret,
                     struct part_error *err)
{
    struct part_hv_libvirt *lv = lv_cast(hv);
    virDomainPtr dom = NULL;
    virDomainInfo info;
    int active, vcpus, vcpus_max, r;

    r = lv_domain(lv, domain, "look up the domain", &dom, err);
    if (r < 0)
        goto out;
    active = virDomainIsActive(dom);
    vcpus = active < 0 ? -1 : virDomainGetVcpusFlags(dom, VIR_DOMAIN_AFFECT_CURRENT);
    vcpus_max =
        vcpus < 0
            ? -1
            : virDomainGetVcpusFlags(dom, VIR_DOMAIN_AFFECT_CURRENT | VIR_DOMAIN_VCPU_MAXIMUM);
    if (vcpus_max < 0 || virDomainGetInfo(dom, &info) < 0) {
        r = lv_fail(err, domain, "read the domain's state");
        goto out;
    }
    memset(ret, 0, sizeof(*ret));
    ret->active = active;
    ret->vcpus = (unsigned)vcpus;
    ret->vcpus_max = (unsigned)vcpus_max;
    ret->memory = info.memory / 1024;
    ret->memory_max = info.maxMem / 1024;
    /* a domain without an agent, or whose agent is not up yet, fails at
     * once; the count is then unknown, which is no error */
    ret->vcpus_guest = -1;
    if (active == 1) {
        lv_agent_bound(dom);
        ret->vcpus_guest = virDomainGetVcpusFlags(dom, VIR_DOMAIN_VCPU_GUEST);
    }
    if (ret->vcpus_guest < 0) {
        ret->vcpus_guest = -1;
        virResetLastError();
    }
    /* a mark that cannot be read counts as none: nothing becomes partd's on
     * a guess, and the lookup's other readers do not need it */
    lv_owner(dom, domain, ret->owner, NULL);
out:
    if (dom)
        virDomainFree(dom);
    return r;
}

/* Returns xml with a <uuid> of uuid added when it has none: libvirt refuses
 * to redefine an existing domain from XML without one, as a new domain of
 * the same name. *ret is malloc'd. */
static int lv_xml_keep_uuid(const char *xml, const char *uuid, char **ret)
{
    xmlDoc *doc = NULL;
    xmlNode *root, *c, *name = NULL, *n;
    xmlChar *out = NULL;
    int len = 0, r = -ENOMEM;

    doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                            XML_PARSE_NOBLANKS);
    root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!root) {
        r = -EINVAL;
        goto out;
    }
    for (c = root->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (xmlStrEqual(c->name, BAD_CAST "uuid")) {
            *ret = strdup(xml);
            r = *ret ? 0 : -ENOMEM;
            goto out;
        }
        if (!name && xmlStrEqual(c->name, BAD_CAST "name"))
            name = c;
    }
    n = xmlNewDocNode(doc, NULL, BAD_CAST "uuid", BAD_CAST uuid);
    if (!n)
        goto out;
    if (!(name ? xmlAddNextSibling(name, n) : xmlAddChild(root, n))) {
        xmlFreeNode(n);
        goto out;
    }
    xmlDocDumpFormatMemory(doc, &out, &len, 1);
    if (out && (*ret = strdup((const char *)out)))
        r = 0;
out:
    xmlFree(out);
    xmlFreeDoc(doc);
    return r;
}

/* Prepares the redefinition of dom, which exists already, from xml (which
 * becomes *ret, dom's UUID added): only when dom's mark names partition p,
 * else -EEXIST and dom is not touched. */
static int lv_redefinable(virDomainPtr dom, const struct part_profile *p, const char *name,
                          const char *xml, char **ret, struct part_error *err)
{
    char uuid[VIR_UUID_STRING_BUFLEN], owner[PART_NAME_MAX];
    int r = lv_owner(dom, name, owner, err);

    if (r < 0)
        return r;
    if (strcmp(owner, p->name) != 0)
        return part_error_set(err, -EEXIST, NULL,
                              "%s: a domain of this name exists and partd did not define it "
                              "(%s%s): it is left as it is; adopt it with domain.adopt "
                              "(\"domain\": {\"adopt\": \"%s\"}) if partd should manage it",
                              name, owner[0] ? "its partd mark names partition " : "no partd mark",
                              owner, name);
    if (virDomainGetUUIDString(dom, uuid) < 0)
        return lv_fail(err, name, "read the domain's UUID");
    r = lv_xml_keep_uuid(xml, uuid, ret);
    if (r < 0)
        part_error_set(err, r, NULL, "%s: cannot add the UUID to the domain XML", name);
    return r;
}

static int lv_define(struct part_hv *hv, const struct part_profile *p,
                     const struct part_placement *placement, struct part_error *err)
{
    struct part_hv_libvirt *lv = lv_cast(hv);
    const char *name = p->domain_name ? p->domain_name : p->name;
    const char *type = strcasecmp(lv->driver, "TEST") == 0 ? "test" : "kvm";
    char *xml = NULL, *merged = NULL;
    virDomainPtr dom = NULL;
    int r;

    r = part_domxml_build(p, type, placement, &xml, err);
    if (r < 0)
        goto out;
    dom = virDomainLookupByName(lv->conn, name);
    if (!dom) {
        r = lv_errno();
        if (r != -ENOENT) {
            r = lv_fail(err, name, "look up the domain");
            goto out;
        }
        virResetLastError();
    } else {
        r = lv_redefinable(dom, p, name, xml, &merged, err);
        virDomainFree(dom);
        dom = NULL;
        if (r < 0)
            goto out;
        free(xml);
        xml = merged;
    }
    dom = virDomainDefineXML(lv->conn, xml);
    if (!dom) {
        r = lv_fail(err, name, "define the domain");
        goto out;
    }
    r = 0;
out:
    if (dom)
        virDomainFree(dom);
    free(xml);
    return r;
}

static int lv_undefine(struct part_hv *hv, const char *domain, struct part_error *err)
{
    struct part_hv_libvirt *lv = lv_cast(hv);
    char owner[PART_NAME_MAX];
    virDomainPtr dom = NULL;
    int r;

    r = lv_domain(lv, domain, "undefine the domain", &dom, err);
    if (r == 0)
        r = lv_owner(dom, domain, owner, err);
    if (r < 0)
        goto out;
    /* partd names the domains it defines after their partitions */
    if (strcmp(owner, domain) != 0) {
        r = part_error_set(err, -EEXIST, NULL,
                           "%s: cannot undefine the domain: partd did not define it (no partd "
                           "mark for it): it is left as it is",
                           domain);
        goto out;
    }
    if (virDomainUndefineFlags(dom, LV_UNDEFINE_ALL) < 0) {
        if (lv_errno() != -ENOTSUP) {
            r = lv_fail(err, domain, "undefine the domain");
            goto out;
        }
        virResetLastError();
        if (virDomainUndefine(dom) < 0) {
            r = lv_fail(err, domain, "undefine the domain");
            goto out;
        }
    }
out:
    if (dom)
        virDomainFree(dom);
    return r;
}

static int lv_activate(struct part_hv *hv, const char *domain, struct part_error *err)
{
    struct part_hv_libvirt *lv = lv_cast(hv);
    virDomainPtr dom = NULL;
    int r;

    r = lv_domain(lv, domain, "activate the domain", &dom, err);
    if (r == 0 && virDomainCreate(dom) < 0)
        r = lv_fail_state(err, dom, domain, "activate the domain", true);
    if (dom)
        virDomainFree(dom);
    return r;
}

/* Polls until dom is inactive or timeout_ms passed. Returns 1 when still
 * active, 0 when stopped, or an error. */
static int lv_wait_inactive(virDomainPtr dom, const char *domain, unsigned timeout_ms,
                            struct part_error *err)
{
    uint64_t deadline = lv_now_ms() + timeout_ms;
    int active;

    for (;;) {
        active = virDomainIsActive(dom);
        if (active < 0)
            return lv_fail(err, domain, "read the domain's state");
        if (active == 0 || lv_now_ms() >= deadline)
            return active;
        lv_sleep_ms(LV_POLL_MS);
    }
}

static int lv_active(struct part_hv *hv, const char *domain, struct part_error *err)
{
    virDomainPtr dom = NULL;
    int r = lv_domain(lv_cast(hv), domain, "read the domain's state", &dom, err);
    if (r == 0 && (r = virDomainIsActive(dom)) < 0)
        r = lv_fail(err, domain, "read the domain's state");
    if (dom)
        virDomainFree(dom);
    return r;
}

static int lv_deactivate(struct part_hv *hv, const char *domain, unsigned timeout_ms, bool force,
                         struct part_error *err)
{
    struct part_hv_libvirt *lv = lv_cast(hv);
    virDomainPtr dom = NULL;
    bool asked = false;
    int r;

    r = lv_domain(lv, domain, "deactivate the domain", &dom, err);
    if (r < 0)
        goto out;
    if (timeout_ms > 0 || !force) {
        if (virDomainShutdown(dom) == 0) {
            asked = true;
            r = lv_wait_inactive(dom, domain, timeout_ms, err);
            if (r <= 0)
                goto out;
            r = 0;
        } else if (!force) {
            r = lv_fail_state(err, dom, domain, "shut the domain down", false);
            goto out;
        } else {
            /* a guest that cannot be asked (no ACPI, no agent) is still
             * destroyed when force allows it */
            virResetLastError();
        }
    }
    if (!force) {
        r = part_error_set(err, -ETIMEDOUT, NULL,
                           "%s: still running after %u ms; use force to destroy it", domain,
                           timeout_ms);
        goto out;
    }
    if (virDomainDestroy(dom) < 0) {
        r = lv_fail_state(err, dom, domain, "destroy the domain", false);
        /* it stopped by itself, as asked, after the last poll */
        if (asked && r == -EBUSY)
            r = 0;
    }
out:
    if (dom)
        virDomainFree(dom);
    return r;
}

/* Finds the integer parameter name, whatever integer type the driver chose. */
static bool lv_param_u64(const virTypedParameter *params, int n, const char *name, uint64_t *ret)
{
    for (int i = 0; i < n; i++) {
        if (strcmp(params[i].field, name) != 0)
            continue;
        switch (params[i].type) {
        case VIR_TYPED_PARAM_INT:
            *ret = params[i].value.i < 0 ? 0 : (uint64_t)params[i].value.i;
            return true;
        case VIR_TYPED_PARAM_UINT:
            *ret = params[i].value.ui;
            return true;
        case VIR_TYPED_PARAM_LLONG:
            *ret = params[i].value.l < 0 ? 0 : (uint64_t)params[i].value.l;
            return true;
        case VIR_TYPED_PARAM_ULLONG:
            *ret = params[i].value.ul;
            return true;
        default:
            return false;
        }
    }
    return false;
}

static void lv_stats_fill(const virDomainStatsRecord *rec, const char *name,
                          struct part_hv_stats *s)
{
    const virTypedParameter *p = rec->params;
    int n = rec->nparams;
    uint64_t v = 0;
    bool guest = false;

    memset(s, 0, sizeof(*s));
    s->name = name;
    if (lv_param_u64(p, n, "state.state", &v))
        s->active = v != VIR_DOMAIN_SHUTOFF && v != VIR_DOMAIN_NOSTATE;
    s->has_cpu_time = lv_param_u64(p, n, "cpu.time", &s->cpu_time_ns);
    if (lv_param_u64(p, n, "vcpu.current", &v))
        s->vcpus = (unsigned)v;
    s->has_balloon = lv_param_u64(p, n, "balloon.current", &s->balloon_current);
    lv_param_u64(p, n, "balloon.maximum", &s->balloon_maximum);
    guest |= lv_param_u64(p, n, "balloon.available", &s->balloon_available);
    s->has_balloon_usable = lv_param_u64(p, n, "balloon.usable", &s->balloon_usable);
    guest |= s->has_balloon_usable;
    guest |= lv_param_u64(p, n, "balloon.unused", &s->balloon_unused);
    lv_param_u64(p, n, "balloon.rss", &s->balloon_rss);
    s->has_balloon_guest = guest;
    s->has_major_fault = lv_param_u64(p, n, "balloon.major_fault", &s->balloon_major_fault);
    s->has_swap = lv_param_u64(p, n, "balloon.swap_in", &s->balloon_swap_in) &&
                  lv_param_u64(p, n, "balloon.swap_out", &s->balloon_swap_out);
}

static int lv_stats(struct part_hv *hv, const char *const *domains, size_t n, part_hv_stats_fn fn,
                    void *opaque, struct part_error *err)
{
    struct part_hv_libvirt *lv = lv_cast(hv);
    virDomainStatsRecordPtr *recs = NULL;
    struct part_hv_stats s;
    int nrecs;

    if (n == 0)
        return 0;
    /* one query for every domain of the connection, filtered here: a lookup
     * per name would cost a round trip each */
    nrecs = virConnectGetAllDomainStats(lv->conn, lv->stats_types, &recs, 0);
    if (nrecs < 0 && lv_errno() == -ENOTSUP && lv->stats_types != VIR_DOMAIN_STATS_STATE) {
        virResetLastError();
        lv->stats_types = VIR_DOMAIN_STATS_STATE;
        nrecs = virConnectGetAllDomainStats(lv->conn, lv->stats_types, &recs, 0);
    }
    if (nrecs < 0)
        return lv_fail(err, NULL, "read domain statistics");
    for (int i = 0; i < nrecs; i++) {
        const char *name = virDomainGetName(recs[i]->dom);
        for (size_t j = 0; name && j < n; j++) {
            if (strcmp(domains[j], name) == 0) {
                lv_stats_fill(recs[i], domains[j], &s);
                fn(&s, opaque);
                break;
            }
        }
    }
    virDomainStatsRecordListFree(recs);
    return 0;
}

static enum part_hv_event lv_event_map(int event)
{
    switch (event) {
    case VIR_DOMAIN_EVENT_STARTED:
        return PART_HV_EVENT_STARTED;
    case VIR_DOMAIN_EVENT_STOPPED:
        return PART_HV_EVENT_STOPPED;
    case VIR_DOMAIN_EVENT_DEFINED:
        return PART_HV_EVENT_DEFINED;
    case VIR_DOMAIN_EVENT_UNDEFINED:
        return PART_HV_EVENT_UNDEFINED;
    default:
        return PART_HV_EVENT_OTHER;
    }
}

static int lv_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
    struct lv_events *ev = opaque;
    const char *name = virDomainGetName(dom);

    if (name)
        ev->fn(name, lv_event_map(event), ev->opaque);
    return 0;
}

static void lv_events_free(void *opaque)
{
    free(opaque);
}

static int lv_events(struct part_hv *hv, part_hv_event_fn fn, void *opaque, struct part_error *err)
{
    struct part_hv_libvirt *lv = lv_cast(hv);
    struct lv_events *ev;

    if (lv->event_id >= 0) {
        if (virConnectDomainEventDeregisterAny(lv->conn, lv->event_id) < 0)
            virResetLastError();
        lv->event_id = -1;
    }
    if (!fn)
        return 0;
    ev = calloc(1, sizeof(*ev));
    if (!ev)
        return part_error_set(err, -ENOMEM, NULL, "out of memory");
    ev->fn = fn;
    ev->opaque = opaque;
    lv->event_id = virConnectDomainEventRegisterAny(lv->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                    VIR_DOMAIN_EVENT_CALLBACK(lv_lifecycle), ev,
                                                    lv_events_free);
    if (lv->event_id < 0) {
        free(ev);
        return lv_fail(err, NULL, "register for domain events");
    }
    return 0;
}

const struct part_hv_ops part_hv_libvirt_ops = {
    .name = "libvirt",
    .open = lv_open,
    .close = lv_close,
    .host = lv_host,
    .memory = lv_memory,
    .lookup = lv_lookup,
    .define = lv_define,
    .undefine = lv_undefine,
    .activate = lv_activate,
    .deactivate = lv_deactivate,
    .set_processors = lv_set_processors,
    .set_memory = lv_set_memory,
    .set_weight = lv_set_weight,
    .set_cap = lv_set_cap,
    .pin = lv_pin,
    .stats = lv_stats,
    .events = lv_events,
    .active = lv_active,
    .guest = lv_guest,
    .compare_cpu = lv_compare_cpu,
    .migrate = lv_migrate,
    .migrating = lv_migrating,
};
