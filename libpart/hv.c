/* Dispatch of the hypervisor backend operations through struct part_hv_ops,
 * with the checks every backend would otherwise repeat. */
#include <errno.h>

#include "part/hv.h"

#define HV_FLAGS_ALL (PART_HV_LIVE | PART_HV_CONFIG)

#define HV_CHECK(hv, op, what, err)                                                                \
    hv_check((hv), (hv) && (hv)->ops && (hv)->ops->op, (what), (err))

/* Returns 0 when hv is open and has the operation (has_op), else an error
 * saying which backend lacks what. */
static int hv_check(struct part_hv *hv, bool has_op, const char *what, struct part_error *err)
{
    if (!hv || !hv->ops)
        return part_error_set(err, -EINVAL, NULL, "no hypervisor connection to %s", what);
    if (!has_op)
        return part_error_set(err, -ENOTSUP, NULL, "%s backend cannot %s",
                              hv->ops->name ? hv->ops->name : "this", what);
    return 0;
}

/* A change must say where it applies; a bit partd does not know, or one
 * that means nothing to the operation (extra), would be silently ignored by
 * some backend, so it is refused here for all. */
static int hv_check_flags(unsigned flags, unsigned extra, struct part_error *err)
{
    if (!(flags & HV_FLAGS_ALL) || (flags & ~(HV_FLAGS_ALL | extra)))
        return part_error_set(err, -EINVAL, NULL,
                              "invalid flags 0x%x: expected live, config or both%s", flags,
                              extra & PART_HV_GUEST ? " (and guest)" : "");
    return 0;
}

int part_hv_open(const struct part_hv_ops *ops, const char *uri, bool read_only,
                 struct part_hv **ret, struct part_error *err)
{
    if (!ops)
        return part_error_set(err, -EINVAL, NULL, "no hypervisor backend");
    if (!ops->open)
        return part_error_set(err, -ENOTSUP, NULL, "%s backend cannot open a connection",
                              ops->name ? ops->name : "this");
    int r = ops->open(uri, read_only, ret, err);
    /* the connection answers to the vtable it was opened with, so that a
     * backend derived from another (a copy with one member replaced) gets
     * its own members called */
    if (r == 0)
        (*ret)->ops = ops;
    return r;
}

void part_hv_close(struct part_hv *hv)
{
    if (hv && hv->ops && hv->ops->close)
        hv->ops->close(hv);
}

int part_hv_host(struct part_hv *hv, struct part_hv_host *ret, struct part_error *err)
{
    int r = HV_CHECK(hv, host, "describe the host", err);

    return r < 0 ? r : hv->ops->host(hv, ret, err);
}

int part_hv_memory(struct part_hv *hv, struct part_host_memory *ret, struct part_error *err)
{
    int r = HV_CHECK(hv, memory, "read the host's free memory", err);

    return r < 0 ? r : hv->ops->memory(hv, ret, err);
}

int part_hv_lookup(struct part_hv *hv, const char *domain, struct part_hv_domain *ret,
                   struct part_error *err)
{
    int r = HV_CHECK(hv, lookup, "look up domains", err);

    return r < 0 ? r : hv->ops->lookup(hv, domain, ret, err);
}

int part_hv_define(struct part_hv *hv, const struct part_profile *p,
                   const struct part_placement *placement, struct part_error *err)
{
    int r = HV_CHECK(hv, define, "define domains", err);

    return r < 0 ? r : hv->ops->define(hv, p, placement, err);
}

int part_hv_undefine(struct part_hv *hv, const char *domain, struct part_error *err)
{
    int r = HV_CHECK(hv, undefine, "undefine domains", err);

    return r < 0 ? r : hv->ops->undefine(hv, domain, err);
}

int part_hv_activate(struct part_hv *hv, const char *domain, struct part_error *err)
{
    int r = HV_CHECK(hv, activate, "activate domains", err);

    return r < 0 ? r : hv->ops->activate(hv, domain, err);
}

int part_hv_deactivate(struct part_hv *hv, const char *domain, unsigned timeout_ms, bool force,
                       struct part_error *err)
{
    int r = HV_CHECK(hv, deactivate, "deactivate domains", err);

    return r < 0 ? r : hv->ops->deactivate(hv, domain, timeout_ms, force, err);
}

int part_hv_set_processors(struct part_hv *hv, const char *domain, unsigned n, unsigned flags,
                           struct part_error *err)
{
    int r = HV_CHECK(hv, set_processors, "change logical processors", err);

    if (r == 0)
        r = hv_check_flags(flags, PART_HV_GUEST, err);
    return r < 0 ? r : hv->ops->set_processors(hv, domain, n, flags, err);
}

int part_hv_set_memory(struct part_hv *hv, const char *domain, uint64_t mib, unsigned flags,
                       struct part_error *err)
{
    int r = HV_CHECK(hv, set_memory, "change memory", err);

    if (r == 0)
        r = hv_check_flags(flags, 0, err);
    return r < 0 ? r : hv->ops->set_memory(hv, domain, mib, flags, err);
}

int part_hv_set_weight(struct part_hv *hv, const char *domain, unsigned weight, unsigned flags,
                       struct part_error *err)
{
    int r = HV_CHECK(hv, set_weight, "change processing weights", err);

    if (r == 0)
        r = hv_check_flags(flags, 0, err);
    return r < 0 ? r : hv->ops->set_weight(hv, domain, weight, flags, err);
}

int part_hv_set_cap(struct part_hv *hv, const char *domain, double cap, unsigned flags,
                    struct part_error *err)
{
    int r = HV_CHECK(hv, set_cap, "change processor caps", err);

    if (r == 0)
        r = hv_check_flags(flags, 0, err);
    return r < 0 ? r : hv->ops->set_cap(hv, domain, cap, flags, err);
}

int part_hv_set(struct part_hv *hv, const char *domain, enum part_setting s, double v,
                unsigned flags, struct part_error *err)
{
    switch (s) {
    case PART_SET_PROCESSORS:
        return part_hv_set_processors(hv, domain, (unsigned)v, flags, err);
    case PART_SET_MEMORY:
        return part_hv_set_memory(hv, domain, (uint64_t)v, flags, err);
    case PART_SET_WEIGHT:
        return part_hv_set_weight(hv, domain, (unsigned)v, flags, err);
    case PART_SET_CAP:
        return part_hv_set_cap(hv, domain, v, flags, err);
    default:
        return part_error_set(err, -EINVAL, NULL, "%s: %s is not a running setting", domain,
                              part_setting_name(s));
    }
}

int part_hv_pin(struct part_hv *hv, const char *domain, const struct part_placement *placement,
                unsigned flags, struct part_error *err)
{
    int r = HV_CHECK(hv, pin, "pin processors", err);

    if (r == 0)
        r = hv_check_flags(flags, 0, err);
    if (r == 0 && !placement)
        r = part_error_set(err, -EINVAL, NULL, "%s: no placement to pin to", domain);
    return r < 0 ? r : hv->ops->pin(hv, domain, placement, flags, err);
}

int part_hv_stats(struct part_hv *hv, const char *const *domains, size_t n, part_hv_stats_fn fn,
                  void *opaque, struct part_error *err)
{
    int r = HV_CHECK(hv, stats, "report statistics", err);

    return r < 0 ? r : hv->ops->stats(hv, domains, n, fn, opaque, err);
}

int part_hv_events(struct part_hv *hv, part_hv_event_fn fn, void *opaque, struct part_error *err)
{
    int r = HV_CHECK(hv, events, "report events", err);

    return r < 0 ? r : hv->ops->events(hv, fn, opaque, err);
}

int part_hv_active(struct part_hv *hv, const char *domain, struct part_error *err)
{
    struct part_hv_domain d;
    int r;

    if (hv && hv->ops && !hv->ops->active) { /* a backend without it: lookup tells too */
        r = part_hv_lookup(hv, domain, &d, err);
        return r < 0 ? r : d.active;
    }
    r = HV_CHECK(hv, active, "read the state of domains", err);
    return r < 0 ? r : hv->ops->active(hv, domain, err);
}

int part_hv_guest(struct part_hv *hv, const char *domain, struct part_hv_guest *ret,
                  struct part_error *err)
{
    int r = HV_CHECK(hv, guest, "describe a guest's processor", err);
    return r < 0 ? r : hv->ops->guest(hv, domain, ret, err);
}

int part_hv_compare_cpu(struct part_hv *hv, const struct part_hv_guest *g, struct part_error *err)
{
    int r = HV_CHECK(hv, compare_cpu, "compare processors", err);
    return r < 0 ? r : hv->ops->compare_cpu(hv, g, err);
}

int part_hv_migrate(struct part_hv *hv, const char *domain, const struct part_hv_migration *m,
                    part_hv_progress_fn fn, void *opaque, struct part_error *err)
{
    int r = HV_CHECK(hv, migrate, "migrate a domain", err);
    return r < 0 ? r : hv->ops->migrate(hv, domain, m, fn, opaque, err);
}

int part_hv_migrating(struct part_hv *hv, const char *domain, struct part_error *err)
{
    int r = HV_CHECK(hv, migrating, "tell whether a domain migrates", err);
    return r < 0 ? r : hv->ops->migrating(hv, domain, err);
}
