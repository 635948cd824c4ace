/* The libvirt domain XML a profile becomes: the user's template (or a
 * skeleton) with partd's settings merged in. Pure: no libvirt calls. */
#pragma once

#include <stddef.h>

#include "part/error.h"
#include "part/profile.h"

/* Where a partition's processors may run. */
struct part_placement {
    const unsigned *cpus; /* shared: the pool's host CPUs; dedicated: one per
                             logical processor (vcpu N pinned to cpus[N]) */
    size_t n;             /* 0 = no pinning */
};

/* Returns (in *ret, caller frees with free()) the domain XML for p: the
 * template file p->domain_template (or, when NULL, a skeleton of type
 * domain_type, e.g. "kvm" or "test") with name, vcpu current/maximum,
 * memory/currentMemory, a virtio memballoon with a stats period, cputune
 * shares = 10 x weight, global period/quota for a cap, and the placement
 * (vcpu cpuset and emulatorpin for shared, vcpupin for dedicated) replaced
 * or added. Elements of the template that partd does not own are kept.
 * Returns 0, -EINVAL when the template is not a domain XML (err names the
 * file), or -errno when it cannot be read. */
int part_domxml_build(const struct part_profile *p, const char *domain_type,
                      const struct part_placement *placement, char **ret, struct part_error *err);
