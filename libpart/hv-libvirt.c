/* The libvirt backend of struct part_hv_ops: the only place in partd that
 * talks to libvirt. Every libvirt failure goes through lv_fail(), which maps
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

#define LV_POLL_MS         50
#define LV_CONFIRM_MS      3000      /* how long a live change may take to show */
#define LV_GUEST_POLL_MS   200       /* each look is a round trip to the guest agent */
#define LV_AGENT_TIMEOUT_S 5         /* the most one guest agent command may take */
#define LV_CAP_PERIOD      100000ULL /* us; a cap is a quota of this many periods */
#define LV_STATS_ALL                                                                               \
    (VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL | VIR_DOMAIN_STATS_VCPU |                 \
     VIR_DOMAIN_STATS_BALLOON)
#define LV_UNDEFINE_ALL                                                                            \
    (VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_NVRAM |                                \
     VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA | VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA)

/* The lifecycle callback's context. libvirt owns it once registered and frees
 * it (lv_events_free) when the callback can no longer run, which may be after
 * the connection was closed, so it must not point back into the connection. */
struct lv_events {
    part_hv_event_fn fn;
    void *opaque;
};

struct part_hv_libvirt {
    struct part_hv base;
    virConnectPtr conn;
    char driver[32];      /* virConnectGetType(): "QEMU", "TEST", ... */
    int event_id;         /* lifecycle callback, -1 when none */
    unsigned stats_types; /* the stats groups this driver accepted last */
};

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
static int lv_errno(void)
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
static int lv_fail(struct part_error *err, const char *domain, const char *what)
{
    int r = lv_errno();

    if (domain)
        part_error_set(err, r, NULL, "%s: cannot %s: %s", domain, what, virGetLastErrorMessage());
    else
        part_error_set(err, r, NULL, "cannot %s: %s", what, virGetLastErrorMessage());
    virResetLastError();
    return r;
}

static struct part_hv_libvirt *lv_cast(struct part_hv *hv)
{
    return (struct part_hv_libvirt *)hv;
}

/* lv_fail() for an operation that the domain's state may forbid: drivers
 * disagree on the code (QEMU says "operation invalid", the test driver
 * "internal error"), so the state decides. busy_when_active tells which
 * state makes the operation impossible. */
static int lv_fail_state(struct part_error *err, virDomainPtr dom, const char *domain,
                         const char *what, bool busy_when_active)
{
    int r = lv_fail(err, domain, what), active = virDomainIsActive(dom);

    if (active < 0)
        virResetLastError();
    else if ((active == 1) == busy_when_active)
        r = -EBUSY;
    return r;
}

static int lv_domain(struct part_hv_libvirt *lv, const char *name, const char *what,
                     virDomainPtr *ret, struct part_error *err)
{
    *ret = virDomainLookupByName(lv->conn, name);
    return *ret ? 0 : lv_fail(err, name, what);
}

static unsigned lv_affect(unsigned flags)
{
    unsigned f = VIR_DOMAIN_AFFECT_CURRENT;

    if (flags & PART_HV_LIVE)
        f |= VIR_DOMAIN_AFFECT_LIVE;
    if (flags & PART_HV_CONFIG)
        f |= VIR_DOMAIN_AFFECT_CONFIG;
    return f;
}

static uint64_t lv_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void lv_sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Bounds how long libvirt waits for dom's guest agent: its default waits
 * for ever, and partd asks while holding its own lock. */
static void lv_agent_bound(virDomainPtr dom)
{
    if (virDomainAgentSetResponseTimeout(dom, LV_AGENT_TIMEOUT_S, 0) < 0)
        virResetLastError(); /* a driver without agents: nothing to bound */
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

static int lv_define(struct part_hv *hv, const struct part_profile *p,
                     const struct part_placement *placement, struct part_error *err)
{
    struct part_hv_libvirt *lv = lv_cast(hv);
    const char *name = p->domain_name ? p->domain_name : p->name;
    const char *type = strcasecmp(lv->driver, "TEST") == 0 ? "test" : "kvm";
    char uuid[VIR_UUID_STRING_BUFLEN];
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
        if (virDomainGetUUIDString(dom, uuid) < 0) {
            r = lv_fail(err, name, "read the domain's UUID");
            goto out;
        }
        virDomainFree(dom);
        dom = NULL;
        r = lv_xml_keep_uuid(xml, uuid, &merged);
        if (r < 0) {
            part_error_set(err, r, NULL, "%s: cannot add the UUID to the domain XML", name);
            goto out;
        }
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
    virDomainPtr dom = NULL;
    int r;

    r = lv_domain(lv, domain, "undefine the domain", &dom, err);
    if (r < 0)
        goto out;
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

static int lv_vcpus_apply(virDomainPtr dom, const char *domain, unsigned n, unsigned flags,
                          struct part_error *err)
{
    if (virDomainSetVcpusFlags(dom, n, lv_affect(flags)) < 0)
        return lv_fail(err, domain, "set processors");
    return 0;
}

/* libvirt may return before a vcpu is really plugged or unplugged (QEMU
 * unplug needs the guest's cooperation): only what the domain reports
 * afterwards counts. */
static int lv_vcpus_confirm(virDomainPtr dom, const char *domain, unsigned n,
                            struct part_error *err)
{
    int got = virDomainGetVcpusFlags(dom, VIR_DOMAIN_AFFECT_LIVE);

    if (got < 0)
        return lv_fail(err, domain, "read back processors");
    if ((unsigned)got != n)
        return part_error_set(err, -EAGAIN, NULL, "%s: asked for %u processors, domain reports %d",
                              domain, n, got);
    return 0;
}

/* Asks the guest agent how many processors the guest has online until it
 * says n or LV_CONFIRM_MS passed. Returns the last count, or -1 when the
 * agent did not answer; *unsupported tells that the driver cannot ask a
 * guest at all (or the domain has no agent channel). */
static int lv_vcpus_guest_wait(virDomainPtr dom, unsigned n, bool *unsupported)
{
    uint64_t deadline = lv_now_ms() + LV_CONFIRM_MS;
    int got;

    *unsupported = false;
    for (;;) {
        got = virDomainGetVcpusFlags(dom, VIR_DOMAIN_VCPU_GUEST);
        if (got < 0) {
            *unsupported = lv_errno() == -ENOTSUP;
            virResetLastError();
            if (*unsupported)
                return -1;
        }
        if ((got >= 0 && (unsigned)got == n) || lv_now_ms() >= deadline)
            return got;
        lv_sleep_ms(LV_GUEST_POLL_MS);
    }
}

/* The -EINPROGRESS of a change the guest was asked for but has not shown. */
static int lv_vcpus_unconfirmed(struct part_error *err, const char *domain, const char *asked,
                                unsigned n, int got)
{
    char now[64];

    if (got < 0)
        snprintf(now, sizeof(now), "the guest agent did not say how many are online");
    else
        snprintf(now, sizeof(now), "the guest has %d online so far", got);
    return part_error_set(err, -EINPROGRESS, NULL, "%s: %s %u processors, %s", domain, asked, n,
                          now);
}

/* Down (or back up to at most the plugged count) through the guest agent:
 * the guest varies processors offline or online, the domain keeps them
 * plugged. */
static int lv_vcpus_guest(virDomainPtr dom, const char *domain, unsigned n, int plugged,
                          unsigned flags, struct part_error *err)
{
    bool unsupported;
    int got, r;

    if (!(flags & PART_HV_GUEST))
        return part_error_set(err, -ENOTSUP, NULL,
                              "%s: cannot remove processors (%d to %u) without the guest agent: "
                              "QEMU's TCG cannot unplug vCPUs, and unplugging them without the "
                              "guest's cooperation is unsafe (set guest_agent in the profile "
                              "and run qemu-guest-agent in the guest)",
                              domain, plugged, n);
    if (virDomainSetVcpusFlags(dom, n, VIR_DOMAIN_VCPU_GUEST) < 0)
        return lv_fail(err, domain, "set processors through the guest agent");
    /* the guest accepted it: the next start should have that many too */
    if ((flags & PART_HV_CONFIG) && (r = lv_vcpus_apply(dom, domain, n, PART_HV_CONFIG, err)) < 0)
        return r;
    got = lv_vcpus_guest_wait(dom, n, &unsupported);
    if (got < 0 || (unsigned)got != n)
        return lv_vcpus_unconfirmed(err, domain, "asked the guest for", n, got);
    return 0;
}

/* Through the hypervisor: up by hot-plug (and down, for the test driver's
 * own domains only). With the agent, the processors the guest varied
 * offline come back online first, so that a plug is not spent on a vCPU the
 * domain already has. */
static int lv_vcpus_plug(virDomainPtr dom, const char *domain, unsigned n, int plugged,
                         unsigned flags, struct part_error *err)
{
    bool unsupported;
    int got, r;

    if ((flags & PART_HV_GUEST) && n > (unsigned)plugged) {
        got = virDomainGetVcpusFlags(dom, VIR_DOMAIN_VCPU_GUEST);
        if (got < 0)
            virResetLastError(); /* no answer: plug anyway, the check below tells */
        else if (got < plugged &&
                 virDomainSetVcpusFlags(dom, (unsigned)plugged, VIR_DOMAIN_VCPU_GUEST) < 0)
            return lv_fail(err, domain, "online processors through the guest agent");
    }
    r = lv_vcpus_apply(dom, domain, n, flags & (PART_HV_LIVE | PART_HV_CONFIG), err);
    if (r == 0)
        r = lv_vcpus_confirm(dom, domain, n, err);
    if (r < 0 || !(flags & PART_HV_GUEST))
        return r;
    /* the guest onlines a plugged vCPU itself (udev), a moment later */
    got = lv_vcpus_guest_wait(dom, n, &unsupported);
    if (unsupported)
        return 0; /* nothing to ask: the domain's count is all there is */
    if (got < 0 || (unsigned)got != n)
        return lv_vcpus_unconfirmed(err, domain, "plugged", n, got);
    return 0;
}

/* Whether dom is one of the test driver's own domains (type 'test'): it has
 * no guest to harm or to ask, so its vCPUs are unplugged as such. A domain
 * of type kvm or qemu has a guest, even on the test driver. */
static bool lv_domain_is_test(virDomainPtr dom)
{
    char *xml = virDomainGetXMLDesc(dom, 0);
    xmlDoc *doc = NULL;
    xmlNode *root;
    xmlChar *type = NULL;
    bool test = false;

    if (!xml) {
        virResetLastError();
        return false;
    }
    doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (root)
        type = xmlGetProp(root, BAD_CAST "type");
    test = type && xmlStrEqual(type, BAD_CAST "test");
    xmlFree(type);
    xmlFreeDoc(doc);
    free(xml);
    return test;
}

static int lv_set_processors(struct part_hv *hv, const char *domain, unsigned n, unsigned flags,
                             struct part_error *err)
{
    struct part_hv_libvirt *lv = lv_cast(hv);
    virDomainPtr dom = NULL;
    int plugged, r;

    r = lv_domain(lv, domain, "set processors", &dom, err);
    if (r < 0)
        goto out;
    if (!(flags & PART_HV_LIVE)) {
        r = lv_vcpus_apply(dom, domain, n, flags & PART_HV_CONFIG, err);
        goto out;
    }
    plugged = virDomainGetVcpusFlags(dom, VIR_DOMAIN_AFFECT_LIVE);
    if (plugged < 0) {
        r = lv_fail_state(err, dom, domain, "set processors", false);
        goto out;
    }
    if (flags & PART_HV_GUEST)
        lv_agent_bound(dom);
    /* at the plugged count, the agent may have offlined some to online */
    if (n < (unsigned)plugged || (n == (unsigned)plugged && (flags & PART_HV_GUEST))) {
        if (!lv_domain_is_test(dom)) {
            r = lv_vcpus_guest(dom, domain, n, plugged, flags, err);
            goto out;
        }
        flags &= ~PART_HV_GUEST;
    }
    r = lv_vcpus_plug(dom, domain, n, plugged, flags, err);
out:
    if (dom)
        virDomainFree(dom);
    return r;
}

/* Polls the domain's memory until it is kib or LV_CONFIRM_MS passed; the
 * last value read in *ret. */
static int lv_memory_wait(virDomainPtr dom, const char *domain, unsigned long kib,
                          unsigned long *ret, struct part_error *err)
{
    uint64_t deadline = lv_now_ms() + LV_CONFIRM_MS;
    virDomainInfo info;

    for (;;) {
        if (virDomainGetInfo(dom, &info) < 0)
            return lv_fail(err, domain, "read back memory");
        *ret = info.memory;
        if (info.memory == kib || lv_now_ms() >= deadline)
            return 0;
        lv_sleep_ms(LV_POLL_MS * 2);
    }
}

static int lv_set_memory(struct part_hv *hv, const char *domain, uint64_t mib, unsigned flags,
                         struct part_error *err)
{
    struct part_hv_libvirt *lv = lv_cast(hv);
    virDomainPtr dom = NULL;
    unsigned long kib, now = 0;
    int r;

    if (mib > ULONG_MAX / 1024)
        return part_error_set(err, -ERANGE, NULL, "%s: %llu MiB is too large", domain,
                              (unsigned long long)mib);
    kib = (unsigned long)(mib * 1024);
    r = lv_domain(lv, domain, "set memory", &dom, err);
    if (r < 0)
        goto out;
    if (virDomainSetMemoryFlags(dom, kib, lv_affect(flags)) < 0) {
        r = lv_fail(err, domain, "set memory");
        goto out;
    }
    if (!(flags & PART_HV_LIVE))
        goto out;
    /* QEMU accepted the balloon target; the guest gives or takes the
     * memory afterwards, and libvirt reports where the balloon is */
    r = lv_memory_wait(dom, domain, kib, &now, err);
    if (r == 0 && now != kib)
        r = part_error_set(err, -EINPROGRESS, NULL,
                           "%s: balloon asked for %llu MiB, at %lu MiB so far", domain,
                           (unsigned long long)mib, now / 1024);
out:
    if (dom)
        virDomainFree(dom);
    return r;
}

/* Sets map (maplen bytes) to the host CPUs a vCPU may run on: cpus (n of
 * them), or every online host CPU (online, ncpus bits) when n is 0. */
static void lv_cpumap(unsigned char *map, int maplen, const unsigned *cpus, size_t n,
                      const unsigned char *online)
{
    memset(map, 0, (size_t)maplen);
    if (n == 0) {
        memcpy(map, online, (size_t)maplen);
        return;
    }
    for (size_t i = 0; i < n; i++)
        VIR_USE_CPU(map, cpus[i]);
}

/* Pins to the placement in one place, where (PART_HV_LIVE or
 * PART_HV_CONFIG). */
static int lv_pin_one(virDomainPtr dom, const char *domain, const struct part_placement *pl,
                      unsigned where, const unsigned char *online, int maplen,
                      struct part_error *err)
{
    unsigned f = where == PART_HV_LIVE ? VIR_DOMAIN_AFFECT_LIVE : VIR_DOMAIN_AFFECT_CONFIG;
    unsigned char *map = NULL;
    int max, active, r = 0;

    max = virDomainGetVcpusFlags(dom, f | VIR_DOMAIN_VCPU_MAXIMUM);
    if (max < 0)
        return where == PART_HV_LIVE ? lv_fail_state(err, dom, domain, "pin processors", false)
                                     : lv_fail(err, domain, "pin processors");
    map = malloc((size_t)maplen);
    if (!map)
        return part_error_set(err, -ENOMEM, NULL, "out of memory");
    for (int v = 0; v < max; v++) {
        bool one = pl->dedicated && pl->n > 0;
        if (one && (size_t)v >= pl->n)
            break;
        lv_cpumap(map, maplen, one ? &pl->cpus[v] : pl->cpus, one ? 1 : pl->n, online);
        if (virDomainPinVcpuFlags(dom, (unsigned)v, map, maplen, f) == 0)
            continue;
        r = lv_fail(err, domain, "pin processors");
        /* The test driver takes only "current", which is the same thing
         * when the domain's state matches where; and it keeps no pin for
         * a vCPU the domain does not have now (QEMU does, for the next
         * hot-plug). */
        if (v > 0 || f == VIR_DOMAIN_AFFECT_CURRENT || r != -ENOTSUP)
            goto out;
        active = virDomainIsActive(dom);
        if (active >= 0 && (active == 1) == (where == PART_HV_LIVE))
            max = virDomainGetVcpusFlags(dom, VIR_DOMAIN_AFFECT_CURRENT);
        virResetLastError();
        if (active < 0 || (active == 1) != (where == PART_HV_LIVE) || max < 1)
            goto out;
        f = VIR_DOMAIN_AFFECT_CURRENT;
        if (virDomainPinVcpuFlags(dom, (unsigned)v, map, maplen, f) < 0) {
            /* whatever it says, the driver cannot pin in this state */
            lv_fail(err, domain, "pin processors");
            r = -ENOTSUP;
            goto out;
        }
        part_error_clear(err);
        r = 0;
    }
    if (!pl->dedicated) {
        lv_cpumap(map, maplen, pl->cpus, pl->n, online);
        if (virDomainPinEmulator(dom, map, maplen, f) < 0)
            r = lv_fail(err, domain, "pin the emulator");
    }
out:
    free(map);
    return r;
}

static int lv_pin(struct part_hv *hv, const char *domain, const struct part_placement *placement,
                  unsigned flags, struct part_error *err)
{
    struct part_hv_libvirt *lv = lv_cast(hv);
    virDomainPtr dom = NULL;
    unsigned char *online = NULL;
    unsigned nonline = 0;
    int ncpus, maplen, r;

    /* the host's CPUs, and which are online: "no placement" means those */
    ncpus = virNodeGetCPUMap(lv->conn, &online, &nonline, 0);
    if (ncpus <= 0) {
        r = lv_fail(err, NULL, "read the host's CPUs");
        goto out;
    }
    for (size_t i = 0; i < placement->n; i++) {
        if (placement->cpus[i] >= (unsigned)ncpus) {
            r = part_error_set(err, -EINVAL, NULL,
                               "%s: cannot pin to host CPU %u: the host has CPUs 0-%d", domain,
                               placement->cpus[i], ncpus - 1);
            goto out;
        }
    }
    maplen = VIR_CPU_MAPLEN(ncpus);
    r = lv_domain(lv, domain, "pin processors", &dom, err);
    if (r == 0 && (flags & PART_HV_LIVE))
        r = lv_pin_one(dom, domain, placement, PART_HV_LIVE, online, maplen, err);
    if (r == 0 && (flags & PART_HV_CONFIG))
        r = lv_pin_one(dom, domain, placement, PART_HV_CONFIG, online, maplen, err);
out:
    if (dom)
        virDomainFree(dom);
    free(online);
    return r;
}

/* Applies scheduler parameters; what names the setting in the message when
 * the driver cannot apply it. */
static int lv_set_sched(struct part_hv_libvirt *lv, const char *domain, virTypedParameterPtr params,
                        int n, unsigned flags, const char *what, struct part_error *err)
{
    virDomainPtr dom = NULL;
    int r;

    r = lv_domain(lv, domain, "set scheduler parameters", &dom, err);
    if (r < 0)
        goto out;
    if (virDomainSetSchedulerParametersFlags(dom, params, n, lv_affect(flags)) < 0) {
        r = lv_errno();
        if (r == -ENOTSUP) {
            part_error_set(err, r, NULL, "%s: the %s driver cannot apply %s", domain, lv->driver,
                           what);
            virResetLastError();
        } else {
            r = lv_fail(err, domain, "set scheduler parameters");
        }
    }
out:
    if (dom)
        virDomainFree(dom);
    return r;
}

static int lv_set_weight(struct part_hv *hv, const char *domain, unsigned weight, unsigned flags,
                         struct part_error *err)
{
    virTypedParameter params[1];

    memset(params, 0, sizeof(params));
    snprintf(params[0].field, sizeof(params[0].field), "%s", VIR_DOMAIN_SCHEDULER_CPU_SHARES);
    params[0].type = VIR_TYPED_PARAM_ULLONG;
    params[0].value.ul = 10ULL * weight;
    return lv_set_sched(lv_cast(hv), domain, params, 1, flags, "cpu_shares", err);
}

static int lv_set_cap(struct part_hv *hv, const char *domain, double cap, unsigned flags,
                      struct part_error *err)
{
    virTypedParameter params[2];

    memset(params, 0, sizeof(params));
    snprintf(params[0].field, sizeof(params[0].field), "%s", VIR_DOMAIN_SCHEDULER_GLOBAL_PERIOD);
    params[0].type = VIR_TYPED_PARAM_ULLONG;
    params[0].value.ul = LV_CAP_PERIOD;
    snprintf(params[1].field, sizeof(params[1].field), "%s", VIR_DOMAIN_SCHEDULER_GLOBAL_QUOTA);
    params[1].type = VIR_TYPED_PARAM_LLONG;
    /* -1 is libvirt's "no quota" */
    params[1].value.l = cap == PART_CAP_NONE ? -1 : llround(cap * (double)LV_CAP_PERIOD);
    return lv_set_sched(lv_cast(hv), domain, params, 2, flags, "global_quota", err);
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
    guest |= lv_param_u64(p, n, "balloon.usable", &s->balloon_usable);
    guest |= lv_param_u64(p, n, "balloon.unused", &s->balloon_unused);
    lv_param_u64(p, n, "balloon.rss", &s->balloon_rss);
    s->has_balloon_guest = guest;
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
};
