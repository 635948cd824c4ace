/* The libvirt backend's changes to a running domain: logical processors
 * (hot-plug, or varied offline through the guest agent), memory (the
 * balloon), pinning to host CPUs, and the scheduler's weight and cap. Each
 * change is confirmed where libvirt can show it, or reported as
 * unconfirmed (-EINPROGRESS). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "hv-libvirt.h"

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

int lv_set_processors(struct part_hv *hv, const char *domain, unsigned n, unsigned flags,
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

int lv_set_memory(struct part_hv *hv, const char *domain, uint64_t mib, unsigned flags,
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

int lv_pin(struct part_hv *hv, const char *domain, const struct part_placement *placement,
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

/* lv_set_sched() of parameters built with libvirt's virTypedParamsAdd*():
 * n_added is how many were added (fewer: out of memory). */
static int lv_set_params(struct part_hv *hv, const char *domain, virTypedParameterPtr params, int n,
                         int n_wanted, unsigned flags, const char *what, struct part_error *err)
{
    int r = n == n_wanted ? lv_set_sched(lv_cast(hv), domain, params, n, flags, what, err)
                          : part_error_oom(err);
    virTypedParamsFree(params, n);
    return r;
}

int lv_set_weight(struct part_hv *hv, const char *domain, unsigned weight, unsigned flags,
                  struct part_error *err)
{
    virTypedParameterPtr params = NULL;
    int n = 0, max = 0;

    virTypedParamsAddULLong(&params, &n, &max, VIR_DOMAIN_SCHEDULER_CPU_SHARES, 10ULL * weight);
    return lv_set_params(hv, domain, params, n, 1, flags, "cpu_shares", err);
}

int lv_set_cap(struct part_hv *hv, const char *domain, double cap, unsigned flags,
               struct part_error *err)
{
    virTypedParameterPtr params = NULL;
    int n = 0, max = 0;

    /* a quota of this many periods; -1 is libvirt's "no quota" */
    if (virTypedParamsAddULLong(&params, &n, &max, VIR_DOMAIN_SCHEDULER_GLOBAL_PERIOD,
                                LV_CAP_PERIOD) == 0)
        virTypedParamsAddLLong(&params, &n, &max, VIR_DOMAIN_SCHEDULER_GLOBAL_QUOTA,
                               cap == PART_CAP_NONE ? -1 : llround(cap * (double)LV_CAP_PERIOD));
    return lv_set_params(hv, domain, params, n, 2, flags, "global_quota", err);
}
