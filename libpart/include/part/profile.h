/* Profiles: one partition's definition, read from partitions.d/NAME.json (or
 * an API request body), validated on its own, and written back as JSON. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "part/error.h"
#include "part/name.h"
#include "part/setting.h"

enum part_mode {
    PART_MODE_SHARED,    /* logical processors dispatched on the shared pool */
    PART_MODE_DEDICATED, /* each logical processor owns one host CPU */
};

/* How a domain partd generates boots (profile key "boot"). */
enum part_boot {
    PART_BOOT_NONE,   /* no boot key: a template, an adopted domain, or a skeleton */
    PART_BOOT_KERNEL, /* direct kernel boot: boot_kernel, boot_initrd, boot_cmdline */
    PART_BOOT_DISK,   /* from the disk image boot_disk, a virtio-blk disk */
};

enum part_disk_format {
    PART_DISK_RAW,
    PART_DISK_QCOW2,
};

/* The network interface of a generated domain (profile key "network"). */
enum part_net {
    PART_NET_NONE,    /* no interface */
    PART_NET_NETWORK, /* on the libvirt network net_source */
    PART_NET_BRIDGE,  /* on the host bridge net_source */
};

#define PART_DOMAIN_TYPE_MAX 16 /* "kvm", "qemu", including the NUL */
#define PART_MACHINE_MAX     64 /* "q35", "pc-q35-7.2", including the NUL */

#define PART_PROFILE_WEIGHT_DEFAULT 100  /* weight.initial when not given */
#define PART_PROFILE_MEMORY_DEFAULT 1024 /* MiB, of part_profile_init() (files give it) */

struct part_profile {
    char name[PART_NAME_MAX];
    enum part_mode mode;
    /* logical processors: online at activation, floor, most reachable live */
    unsigned proc_initial, proc_min, proc_reserved;
    /* processing weight and its dynamic range (shared partitions only) */
    unsigned weight_initial, weight_min, weight_max;
    double cap; /* processors, PART_CAP_NONE when uncapped (shared only) */
    /* storage in MiB: at activation, floor, most reachable live */
    uint64_t mem_initial, mem_min, mem_reserved;
    char group[PART_NAME_MAX]; /* "" when in no group */
    bool autostart;
    bool managed; /* the rebalancing policy may change it (default true) */
    /* soft cap on the rolling average of use, processors; PART_CAP_NONE
     * when none (shared only) */
    double defined_capacity;
    /* Exactly one way to get a domain: define it from a libvirt XML template
     * or a generated skeleton, or adopt the existing domain named
     * domain_name. domain_name is the libvirt name the partition's domain
     * has in both cases; it defaults to name. Host paths (the template,
     * boot's files, serial_log) are as the profile wrote them once parsed;
     * part_hostpath_load() (hostpath.h) confines them to partd.json's
     * "paths", makes them absolute and reads the template into
     * domain_template_xml, which part_domxml_build() parses. */
    char *domain_template;     /* owned, NULL when none */
    char *domain_template_xml; /* owned: the template's text once read, else NULL;
                                  copied, never written to JSON */
    char *domain_name;         /* owned, never NULL after parsing */
    bool adopt;                /* domain names an existing domain */
    /* A domain partd generates whole (no template, not adopted): boot says
     * how it boots; the keys after it need boot. */
    enum part_boot boot;
    char *boot_kernel;  /* owned; PART_BOOT_KERNEL only */
    char *boot_initrd;  /* owned, NULL when none; PART_BOOT_KERNEL only */
    char *boot_cmdline; /* owned, NULL when none; PART_BOOT_KERNEL only */
    char *boot_disk;    /* owned; PART_BOOT_DISK only */
    enum part_disk_format boot_disk_format;
    enum part_net net;
    char *net_source; /* owned: the network or bridge name, NULL with PART_NET_NONE */
    char *serial_log; /* owned: file the serial console is written to, NULL when none */
    /* domain type ("kvm", "qemu") and machine ("q35"); "" for the default:
     * the driver's type (kvm on QEMU, test on the test driver) and q35 */
    char domain_type[PART_DOMAIN_TYPE_MAX];
    char machine[PART_MACHINE_MAX];
    /* the guest runs the QEMU guest agent: partd adds its channel to the
     * domains it defines and removes processors through it (any domain,
     * adopted ones included; default false) */
    bool guest_agent;
};

/* Sets every field of p to its default, as part_profile_parse() starts
 * from it: what a profile file means by leaving a field out (shared,
 * weight PART_PROFILE_WEIGHT_DEFAULT with min = max = it, no cap, no defined
 * capacity, managed, not autostarted, in no group, no template, not adopted,
 * no boot, no network, the default machine, no guest agent) and, for the
 * fields a file must give, 1 processor (min 1, reserved 1) and
 * PART_PROFILE_MEMORY_DEFAULT MiB (min = reserved = that). The name is ""
 * and every owned string NULL, domain_name included: p owns nothing
 * afterwards (nothing of what it held is freed), and is a whole profile only
 * once it has a name and a domain_name, as part_profile_new() gives it. */
void part_profile_init(struct part_profile *p);

/* Returns a new profile with the defaults of part_profile_init(), named
 * name (at most PART_NAME_MAX - 1 bytes of it), whose domain is named name
 * too: domain_name is a copy, the only string it owns. The caller changes
 * what it needs and frees it with part_profile_free(). NULL on ENOMEM. */
struct part_profile *part_profile_new(const char *name);

/* Parses and validates a profile from text (len bytes). file is used in
 * errors; it may be NULL for a request body. Host paths are kept as written
 * (see part_hostpath_load()). On success *ret is a new profile the caller
 * frees with part_profile_free(). On failure err says file:line:column and
 * the field. Returns 0, -EINVAL (invalid), or -ENOMEM. */
int part_profile_parse(const char *text, size_t len, const char *file, struct part_profile **ret,
                       struct part_error *err);

/* Reads the file at path and parses it as part_profile_parse() does.
 * Returns also -errno when the file cannot be read, or -ENODATA when empty. */
int part_profile_load(const char *path, struct part_profile **ret, struct part_error *err);

/* Checks the rules between fields (min <= initial <= reserved, ...), which
 * part_profile_parse() already applies; for profiles changed in memory.
 * Returns 0 or -EINVAL with err's field set. */
int part_profile_validate(const struct part_profile *p, struct part_error *err);

/* Returns a new JSON object describing p, in the profile file format, with
 * every field spelled out (so that parse(to_json(p)) == p but for the
 * template's text, which is not a field). NULL on ENOMEM. */
json_t *part_profile_to_json(const struct part_profile *p);

/* Returns a deep copy of p, or NULL on ENOMEM. */
struct part_profile *part_profile_dup(const struct part_profile *p);

/* The settings table's accessors of profiles (setting.h). */
/* The profile's value of s: the initial value of a running setting, or the
 * weight bound. */
double part_setting_profile(const struct part_profile *p, enum part_setting s);
/* Whether v is a value p allows setting s to take while it runs: within
 * part_setting_bounds() (a cap: none too), and only where p's mode has the
 * setting. */
bool part_setting_allowed(const struct part_profile *p, enum part_setting s, double v);
void part_setting_set_profile(struct part_profile *p, enum part_setting s, double v);

/* The range the profile allows a running value of s within (processors:
 * min-reserved, memory: min-reserved, weight: min-max; cap: the cap's
 * range). */
void part_setting_bounds(const struct part_profile *p, enum part_setting s, double *ret_lo,
                         double *ret_hi);

/* Frees p (which may be NULL) and returns NULL. */
struct part_profile *part_profile_free(struct part_profile *p);
