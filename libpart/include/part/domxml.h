/* The libvirt domain XML a profile becomes: the user's template (or a
 * skeleton) with partd's settings merged in. Pure: no libvirt calls. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "part/error.h"
#include "part/profile.h"

/* partd's mark in the domains it defines, a child of <metadata>:
 * <partd:partition xmlns:partd="PART_DOMXML_MARK_NS" name="PARTITION"/>.
 * partd redefines and undefines only a domain whose mark names the
 * partition (docs/design.md, "Domains partd owns"); libvirt keeps the
 * element as written and hands it back by its namespace
 * (virDomainGetMetadata), without the prefix. */
#define PART_DOMXML_MARK_NS      "https://partd.dev/xmlns/partition/1"
#define PART_DOMXML_MARK_PREFIX  "partd"
#define PART_DOMXML_MARK_ELEMENT "partition"

/* Where a partition's processors may run. */
struct part_placement {
    const unsigned *cpus; /* shared: the pool's host CPUs; dedicated: one per
                             logical processor (vcpu N pinned to cpus[N]) */
    size_t n;             /* 0 = no pinning */
    /* For part_hv_pin(), which has no profile: vcpu N on cpus[N] (else every
     * vcpu and the emulator on all of cpus). part_domxml_build() goes by
     * the profile's mode instead. */
    bool dedicated;
};

/* Returns (in *ret, caller frees with free()) the domain XML for p: the
 * template p->domain_template, whose text p->domain_template_xml
 * part_hostpath_load() has read (no file is opened here); or, when p has a
 * boot key, a whole
 * domain generated from the profile (see below); or else a skeleton of
 * type domain_type, e.g. "kvm" or "test". Into it go name, vcpu
 * current/maximum, memory/currentMemory, a virtio memballoon with a stats
 * period, cputune shares = 10 x weight, global period/quota for a cap, the
 * placement (vcpu cpuset and emulatorpin for shared, vcpupin for
 * dedicated), and, when p->guest_agent, the virtio channel
 * org.qemu.guest_agent.0 (unless the template has one), and partd's mark
 * naming p->name in <metadata>, replaced or added. Elements of the template
 * that partd does not own are kept, its own <metadata> children too; a mark
 * of partd's in the template (one copied from a domain partd defined) is
 * replaced by the one for p.
 *
 * The generated domain has type p->domain_type (domain_type when "", "kvm"
 * when both are empty); os hvm on machine p->machine (q35 when "") booting
 * the kernel, initrd and command line or the disk; features acpi and apic;
 * cpu mode host-passthrough for kvm only (TCG emulates its default model);
 * clock utc; on_poweroff and on_crash destroy; and the devices: the disk
 * (virtio-blk, raw or qcow2), the interface (virtio, on the network or
 * bridge), the serial console written to p->serial_log (serial port 0 and
 * its console), the agent channel, the memballoon; no graphics, no USB.
 *
 * Returns 0, -EINVAL when the template is not a domain XML or has not been
 * read (err names the field and the file), or -ENOMEM. */
int part_domxml_build(const struct part_profile *p, const char *domain_type,
                      const struct part_placement *placement, char **ret, struct part_error *err);
