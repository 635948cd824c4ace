/* Profiles: parsing, validation and serialisation of one partition's
 * definition. Every error names the field; part_profile_parse() adds the
 * line and column of that field in the text. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "part/profile.h"
#include "part/size.h"
#include "file.h"
#include "json.h"


#define PROFILE_NSTRINGS 8

/* The owned strings of p, for freeing and copying them in one loop. */
static void profile_strings(struct part_profile *p, char **ret[PROFILE_NSTRINGS])
{
    char **strings[PROFILE_NSTRINGS] = {
        &p->domain_template, &p->domain_name, &p->boot_kernel, &p->boot_initrd,
        &p->boot_cmdline,    &p->boot_disk,   &p->net_source,  &p->serial_log,
    };

    memcpy(ret, strings, sizeof(strings));
}

struct part_profile *part_profile_free(struct part_profile *p)
{
    if (p) {
        char **strings[PROFILE_NSTRINGS];
        profile_strings(p, strings);
        for (size_t i = 0; i < PROFILE_NSTRINGS; i++)
            free(*strings[i]);
        free(p);
    }
    return NULL;
}

struct part_profile *part_profile_dup(const struct part_profile *p)
{
    struct part_profile *d = malloc(sizeof(*d));
    bool failed = false;

    if (!d)
        return NULL;
    *d = *p;
    char **to[PROFILE_NSTRINGS];
    profile_strings(d, to);
    for (size_t i = 0; i < PROFILE_NSTRINGS; i++) {
        if (*to[i] && !(*to[i] = strdup(*to[i])))
            failed = true; /* keep going: every pointer must be d's own to free */
    }
    return failed ? part_profile_free(d) : d;
}

int part_profile_resolve_paths(struct part_profile *p, const char *dir)
{
    char **paths[] = {&p->domain_template, &p->boot_kernel, &p->boot_initrd, &p->boot_disk,
                      &p->serial_log};
    char *abs[sizeof(paths) / sizeof(paths[0])] = {NULL};
    size_t n = sizeof(paths) / sizeof(paths[0]), i;

    /* all or nothing: a half-resolved profile would point at wrong files */
    for (i = 0; i < n; i++) {
        if (*paths[i] && (*paths[i])[0] != '/' && !(abs[i] = part_path_join(dir, *paths[i]))) {
            while (i-- > 0)
                free(abs[i]);
            return -ENOMEM;
        }
    }
    for (i = 0; i < n; i++) {
        if (abs[i]) {
            free(*paths[i]);
            *paths[i] = abs[i];
        }
    }
    return 0;
}

/* Sets *ret to a copy of s (NULL when s is), or to s resolved against dir
 * when path. */
static int profile_set_string(char **ret, const char *s, const char *dir, bool path)
{
    if (!s)
        return 0;
    *ret = path ? part_path_join(dir, s) : strdup(s);
    return *ret ? 0 : -ENOMEM;
}

/* Whether the file name s ends with suffix, in any case. */
static bool profile_has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcasecmp(s + n - m, suffix) == 0;
}

/* "boot": {"kernel", "initrd", "cmdline"} or {"disk", "format"} */
static int profile_boot(json_t *root, const char *dir, struct part_profile *p,
                        struct part_error *err)
{
    static const char *const keys[] = {"kernel", "initrd", "cmdline", "disk", "format", NULL};
    const char *kernel = NULL, *initrd = NULL, *cmdline = NULL, *disk = NULL, *format = NULL;
    json_t *boot;
    int r;

    if ((r = part_json_get_object(root, "", "boot", &boot, err)) < 0 || !boot)
        return r;
    if ((r = part_json_check_keys(boot, "boot", keys, err)) < 0 ||
        (r = part_json_get_string(boot, "boot", "kernel", &kernel, err)) < 0 ||
        (r = part_json_get_string(boot, "boot", "initrd", &initrd, err)) < 0 ||
        (r = part_json_get_string(boot, "boot", "cmdline", &cmdline, err)) < 0 ||
        (r = part_json_get_string(boot, "boot", "disk", &disk, err)) < 0 ||
        (r = part_json_get_string(boot, "boot", "format", &format, err)) < 0)
        return r;
    if (kernel && disk)
        return part_error_set(err, -EINVAL, "boot.disk",
                              "boot.disk: give either boot.kernel or boot.disk, not both");
    if (!kernel && !disk)
        return part_error_set(err, -EINVAL, "boot",
                              "boot: needs kernel (direct kernel boot) or disk (a disk image)");
    if (kernel) {
        if (format)
            return part_error_set(err, -EINVAL, "boot.format",
                                  "boot.format: applies to boot.disk only");
        p->boot = PART_BOOT_KERNEL;
        if (profile_set_string(&p->boot_kernel, kernel, dir, true) < 0 ||
            profile_set_string(&p->boot_initrd, initrd, dir, true) < 0 ||
            profile_set_string(&p->boot_cmdline, cmdline, dir, false) < 0)
            return -ENOMEM;
        return 0;
    }
    if (initrd || cmdline)
        return part_error_set(err, -EINVAL, initrd ? "boot.initrd" : "boot.cmdline",
                              "boot.%s: applies to boot.kernel only",
                              initrd ? "initrd" : "cmdline");
    if (format && strcmp(format, "qcow2") == 0)
        p->boot_disk_format = PART_DISK_QCOW2;
    else if (format && strcmp(format, "raw") == 0)
        p->boot_disk_format = PART_DISK_RAW;
    else if (format)
        return part_error_set(err, -EINVAL, "boot.format",
                              "boot.format: \"%s\" is neither \"qcow2\" nor \"raw\"", format);
    else if (profile_has_suffix(disk, ".qcow2"))
        p->boot_disk_format = PART_DISK_QCOW2;
    else if (profile_has_suffix(disk, ".raw") || profile_has_suffix(disk, ".img"))
        p->boot_disk_format = PART_DISK_RAW;
    else
        /* guessing wrong either way is worse than asking: a qcow2 image
         * read as raw does not boot, a raw one read as qcow2 lets the guest
         * name host files as its backing store */
        return part_error_set(err, -EINVAL, "boot.disk",
                              "boot.disk: cannot tell the format of \"%s\" from its name "
                              "(.qcow2, .raw or .img): give boot.format",
                              disk);
    p->boot = PART_BOOT_DISK;
    return profile_set_string(&p->boot_disk, disk, dir, true);
}

/* Whether s is a Linux network interface name, as the kernel's
 * dev_valid_name() has it. */
static bool profile_ifname_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= 16 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (; *s; s++)
        if (*s == '/' || *s == ':' || (unsigned char)*s <= ' ' || *s == 0x7f)
            return false;
    return true;
}

/* "network": "none", {"network": NAME} or {"bridge": NAME} */
static int profile_network(json_t *root, struct part_profile *p, struct part_error *err)
{
    static const char *const keys[] = {"network", "bridge", NULL};
    json_t *net = json_object_get(root, "network");
    const char *network = NULL, *bridge = NULL;
    int r;

    p->net = PART_NET_NONE;
    if (!net)
        return 0;
    if (json_is_string(net)) {
        if (strcmp(json_string_value(net), "none") == 0)
            return 0;
        return part_error_set(err, -EINVAL, "network",
                              "network: \"%s\" is not \"none\" (give \"none\", "
                              "{\"network\": NAME} or {\"bridge\": NAME})",
                              json_string_value(net));
    }
    if (!json_is_object(net))
        return part_error_set(err, -EINVAL, "network",
                              "network: expected \"none\" or an object, got %s",
                              part_json_type_name(net));
    if ((r = part_json_check_keys(net, "network", keys, err)) < 0 ||
        (r = part_json_get_string(net, "network", "network", &network, err)) < 0 ||
        (r = part_json_get_string(net, "network", "bridge", &bridge, err)) < 0)
        return r;
    if (network && bridge)
        return part_error_set(err, -EINVAL, "network.bridge",
                              "network.bridge: give either network.network or network.bridge, "
                              "not both");
    if (!network && !bridge)
        return part_error_set(err, -EINVAL, "network",
                              "network: needs network (a libvirt network) or bridge (a host "
                              "bridge)");
    if (network && strchr(network, '/'))
        return part_error_set(err, -EINVAL, "network.network",
                              "network.network: \"%s\" is not a libvirt network name (it has a /)",
                              network);
    if (bridge && !profile_ifname_valid(bridge))
        return part_error_set(err, -EINVAL, "network.bridge",
                              "network.bridge: \"%s\" is not a bridge name (1-15 characters, "
                              "no space, / or :)",
                              bridge);
    p->net = network ? PART_NET_NETWORK : PART_NET_BRIDGE;
    return profile_set_string(&p->net_source, network ? network : bridge, NULL, false);
}

/* "machine": {"type": "kvm" | "qemu", "machine": "q35"} */
static int profile_machine(json_t *root, struct part_profile *p, struct part_error *err)
{
    static const char *const keys[] = {"type", "machine", NULL};
    const char *type = NULL, *machine = NULL;
    json_t *m;
    int r;

    if ((r = part_json_get_object(root, "", "machine", &m, err)) < 0 || !m)
        return r;
    if ((r = part_json_check_keys(m, "machine", keys, err)) < 0 ||
        (r = part_json_get_string(m, "machine", "type", &type, err)) < 0 ||
        (r = part_json_get_string(m, "machine", "machine", &machine, err)) < 0)
        return r;
    if (type && strcmp(type, "kvm") != 0 && strcmp(type, "qemu") != 0)
        return part_error_set(err, -EINVAL, "machine.type",
                              "machine.type: \"%s\" is neither \"kvm\" nor \"qemu\"", type);
    if (machine && (strlen(machine) >= PART_MACHINE_MAX ||
                    strspn(machine, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                    "0123456789_.-") != strlen(machine)))
        return part_error_set(err, -EINVAL, "machine.machine",
                              "machine.machine: \"%s\" is not a machine type (1-63 of A-Z a-z "
                              "0-9 _ . -)",
                              machine);
    snprintf(p->domain_type, sizeof(p->domain_type), "%s", type ? type : "");
    snprintf(p->machine, sizeof(p->machine), "%s", machine ? machine : "");
    return 0;
}

/* The keys of a domain partd generates whole: boot, and what needs it. */
static int profile_generated(json_t *root, const char *dir, struct part_profile *p,
                             struct part_error *err)
{
    const char *log = NULL;
    int r;

    if ((r = profile_boot(root, dir, p, err)) < 0 || (r = profile_network(root, p, err)) < 0 ||
        (r = part_json_get_string(root, "", "serial_log", &log, err)) < 0 ||
        (r = profile_machine(root, p, err)) < 0 ||
        (r = part_json_get_bool(root, "", "guest_agent", &p->guest_agent, err)) < 0)
        return r;
    return profile_set_string(&p->serial_log, log, dir, true);
}

static int profile_from_json(json_t *root, const char *dir, struct part_profile *p,
                             struct part_error *err)
{
    static const char *const top_keys[] = {
        "name",       "processors",  "weight",           "cap",    "memory", "group",
        "autostart",  "managed",     "defined_capacity", "domain", "boot",   "network",
        "serial_log", "guest_agent", "machine",          NULL};
    static const char *const proc_keys[] = {"mode", "initial", "min", "reserved", NULL};
    static const char *const weight_keys[] = {"initial", "min", "max", NULL};
    static const char *const mem_keys[] = {"initial", "min", "reserved", NULL};
    static const char *const domain_keys[] = {"template", "adopt", NULL};
    json_t *proc, *weight, *mem, *domain;
    const char *s = NULL;
    int r;

    if ((r = part_json_get_named_object(root, "profile", top_keys, p->name, err)) < 0)
        return r;

    /* processors */
    if ((r = part_json_get_object(root, "", "processors", &proc, err)) < 0)
        return r;
    if (!proc)
        return part_error_set(err, -EINVAL, "processors", "processors: required field missing");
    if ((r = part_json_check_keys(proc, "processors", proc_keys, err)) < 0)
        return r;
    s = NULL;
    if ((r = part_json_get_string(proc, "processors", "mode", &s, err)) < 0)
        return r;
    if (!s || strcmp(s, "shared") == 0)
        p->mode = PART_MODE_SHARED;
    else if (strcmp(s, "dedicated") == 0)
        p->mode = PART_MODE_DEDICATED;
    else
        return part_error_set(err, -EINVAL, "processors.mode",
                              "processors.mode: \"%s\" is neither \"shared\" nor \"dedicated\"", s);
    p->proc_initial = 0;
    if ((r = part_json_get_uint(proc, "processors", "initial", 1, PART_PROCESSORS_MAX, &p->proc_initial,
                                err)) < 0)
        return r;
    if (!p->proc_initial)
        return part_error_set(err, -EINVAL, "processors.initial",
                              "processors.initial: required field missing");
    p->proc_min = 1;
    p->proc_reserved = p->proc_initial;
    if ((r = part_json_get_uint(proc, "processors", "min", 1, PART_PROCESSORS_MAX, &p->proc_min, err)) < 0 ||
        (r = part_json_get_uint(proc, "processors", "reserved", 1, PART_PROCESSORS_MAX, &p->proc_reserved,
                                err)) < 0)
        return r;

    /* weight and cap: claims on the shared pool */
    if ((r = part_json_get_object(root, "", "weight", &weight, err)) < 0)
        return r;
    if (weight && p->mode == PART_MODE_DEDICATED)
        return part_error_set(err, -EINVAL, "weight",
                              "weight: does not apply to dedicated partitions");
    p->weight_initial = 100;
    if (weight) {
        if ((r = part_json_check_keys(weight, "weight", weight_keys, err)) < 0 ||
            (r = part_json_get_uint(weight, "weight", "initial", PART_WEIGHT_MIN, PART_WEIGHT_MAX,
                                    &p->weight_initial, err)) < 0)
            return r;
    }
    p->weight_min = p->weight_max = p->weight_initial;
    if (weight) {
        if ((r = part_json_get_uint(weight, "weight", "min", PART_WEIGHT_MIN, PART_WEIGHT_MAX,
                                    &p->weight_min, err)) < 0 ||
            (r = part_json_get_uint(weight, "weight", "max", PART_WEIGHT_MIN, PART_WEIGHT_MAX,
                                    &p->weight_max, err)) < 0)
            return r;
    }
    p->cap = PART_CAP_NONE;
    json_t *cap = json_object_get(root, "cap");
    if (cap && p->mode == PART_MODE_DEDICATED)
        return part_error_set(err, -EINVAL, "cap", "cap: does not apply to dedicated partitions");
    if (cap && !json_is_null(cap)) {
        if (!json_is_number(cap))
            return part_error_set(err, -EINVAL, "cap",
                                  "cap: expected a number of processors or null, got %s",
                                  part_json_type_name(cap));
        r = part_json_get_number(root, "", "cap", PART_CAP_MIN, PART_CAP_MAX, &p->cap, err);
        if (r < 0)
            return r;
    }

    /* memory */
    if ((r = part_json_get_object(root, "", "memory", &mem, err)) < 0)
        return r;
    if (!mem)
        return part_error_set(err, -EINVAL, "memory", "memory: required field missing");
    if ((r = part_json_check_keys(mem, "memory", mem_keys, err)) < 0)
        return r;
    p->mem_initial = 0;
    if ((r = part_json_get_size(mem, "memory", "initial", &p->mem_initial, err)) < 0)
        return r;
    if (!p->mem_initial)
        return part_error_set(err, -EINVAL, "memory.initial",
                              "memory.initial: required field missing");
    p->mem_min = p->mem_reserved = p->mem_initial;
    if ((r = part_json_get_size(mem, "memory", "min", &p->mem_min, err)) < 0 ||
        (r = part_json_get_size(mem, "memory", "reserved", &p->mem_reserved, err)) < 0)
        return r;

    s = NULL;
    if ((r = part_json_get_string(root, "", "group", &s, err)) < 0)
        return r;
    if (s && (r = part_name_check(s, "group", "group name", err)) < 0)
        return r;
    snprintf(p->group, sizeof(p->group), "%s", s ? s : "");
    if ((r = part_json_get_bool(root, "", "autostart", &p->autostart, err)) < 0)
        return r;
    p->managed = true;
    if ((r = part_json_get_bool(root, "", "managed", &p->managed, err)) < 0)
        return r;
    p->defined_capacity = PART_CAP_NONE;
    json_t *dc = json_object_get(root, "defined_capacity");
    if (dc && p->mode == PART_MODE_DEDICATED)
        return part_error_set(err, -EINVAL, "defined_capacity",
                              "defined_capacity: does not apply to dedicated partitions");
    if (dc && !json_is_null(dc) &&
        (r = part_json_get_number(root, "", "defined_capacity", PART_CAP_MIN, PART_CAP_MAX,
                                  &p->defined_capacity, err)) < 0)
        return r;

    /* domain: define from a template (or a skeleton), or adopt */
    if ((r = part_json_get_object(root, "", "domain", &domain, err)) < 0)
        return r;
    const char *tmpl = NULL, *adopt = NULL;
    if (domain) {
        if ((r = part_json_check_keys(domain, "domain", domain_keys, err)) < 0 ||
            (r = part_json_get_string(domain, "domain", "template", &tmpl, err)) < 0 ||
            (r = part_json_get_string(domain, "domain", "adopt", &adopt, err)) < 0)
            return r;
        if (tmpl && adopt)
            return part_error_set(err, -EINVAL, "domain.adopt",
                                  "domain.adopt: give either domain.template or domain.adopt, "
                                  "not both");
    }
    if (tmpl) {
        p->domain_template = part_path_join(dir, tmpl);
        if (!p->domain_template)
            return -ENOMEM;
    }
    p->adopt = adopt != NULL;
    p->domain_name = strdup(adopt ? adopt : p->name);
    if (!p->domain_name)
        return -ENOMEM;
    if ((r = profile_generated(root, dir, p, err)) < 0)
        return r;

    return part_profile_validate(p, err);
}

int part_profile_validate(const struct part_profile *p, struct part_error *err)
{
    char a[32], b[32];

    if (p->proc_min > p->proc_initial)
        return part_error_set(err, -EINVAL, "processors.min",
                              "processors.min (%u) exceeds processors.initial (%u)", p->proc_min,
                              p->proc_initial);
    if (p->proc_initial > p->proc_reserved)
        return part_error_set(err, -EINVAL, "processors.initial",
                              "processors.initial (%u) exceeds processors.reserved (%u)",
                              p->proc_initial, p->proc_reserved);
    if (p->weight_min > p->weight_initial)
        return part_error_set(err, -EINVAL, "weight.min",
                              "weight.min (%u) exceeds weight.initial (%u)", p->weight_min,
                              p->weight_initial);
    if (p->weight_initial > p->weight_max)
        return part_error_set(err, -EINVAL, "weight.initial",
                              "weight.initial (%u) exceeds weight.max (%u)", p->weight_initial,
                              p->weight_max);
    if (p->cap != PART_CAP_NONE && p->cap < p->proc_min * 0.01)
        return part_error_set(err, -EINVAL, "cap",
                              "cap (%g) is below %g: each of processors.min (%u) needs at "
                              "least 0.01 of a processor",
                              p->cap, p->proc_min * 0.01, p->proc_min);
    if (p->mem_min > p->mem_initial)
        return part_error_set(err, -EINVAL, "memory.min",
                              "memory.min (%s) exceeds memory.initial (%s)",
                              part_size_format(p->mem_min, a, sizeof(a)),
                              part_size_format(p->mem_initial, b, sizeof(b)));
    if (p->mem_initial > p->mem_reserved)
        return part_error_set(err, -EINVAL, "memory.initial",
                              "memory.initial (%s) exceeds memory.reserved (%s)",
                              part_size_format(p->mem_initial, a, sizeof(a)),
                              part_size_format(p->mem_reserved, b, sizeof(b)));

    /* the keys of a generated domain: the first one given names the error */
    const char *gen = p->boot != PART_BOOT_NONE            ? "boot"
                      : p->net != PART_NET_NONE            ? "network"
                      : p->serial_log                      ? "serial_log"
                      : p->domain_type[0] || p->machine[0] ? "machine"
                                                           : NULL;
    if (gen && p->adopt)
        return part_error_set(err, -EINVAL, gen,
                              "%s: does not apply to an adopted domain (domain.adopt): partd "
                              "does not define it",
                              gen);
    if (gen && p->domain_template)
        return part_error_set(err, -EINVAL, gen,
                              "%s: does not apply with domain.template: the template says it", gen);
    if (gen && p->boot == PART_BOOT_NONE)
        return part_error_set(err, -EINVAL, gen,
                              "%s: needs boot (partd generates a whole domain only with boot)",
                              gen);
    return 0;
}

/* The directory of file, made absolute against the working directory, so
 * that a template path resolved against it is absolute as promised. */
static char *absolute_dirname(const char *file)
{
    char cwd[PATH_MAX], *dir = part_path_dirname(file), *abs;
    if (!dir || dir[0] == '/' || !getcwd(cwd, sizeof(cwd)))
        return dir;
    abs = strcmp(dir, ".") == 0 ? strdup(cwd) : part_path_join(cwd, dir);
    free(dir);
    return abs;
}

int part_profile_parse(const char *text, size_t len, const char *file, struct part_profile **ret,
                       struct part_error *err)
{
    json_t *root;
    char *dir = NULL;
    int r;

    part_error_clear(err);
    if ((r = part_json_parse(text, len, file, &root, err)) < 0)
        return r;
    struct part_profile *p = calloc(1, sizeof(*p));
    if (!p || (file && !(dir = absolute_dirname(file)))) {
        r = -ENOMEM;
        goto out;
    }
    r = profile_from_json(root, dir, p, err);
    if (r == -EINVAL)
        part_error_locate(err, text, len);
out:
    json_decref(root);
    free(dir);
    if (r < 0)
        part_profile_free(p);
    else
        *ret = p;
    return r;
}

int part_profile_load(const char *path, struct part_profile **ret, struct part_error *err)
{
    char *text;
    size_t len;
    int r;

    part_error_clear(err);
    if ((r = part_file_read(path, &text, &len, err)) < 0)
        return r;
    r = part_profile_parse(text, len, path, ret, err);
    free(text);
    return r;
}

/* Adds a string member when s is not NULL; returns json_object_set_new(). */
static int profile_set_json_string(json_t *o, const char *key, const char *s)
{
    return s ? json_object_set_new(o, key, json_string(s)) : 0;
}

/* Adds boot, network, serial_log, machine and guest_agent to o. Returns
 * non-zero on ENOMEM. */
static int profile_generated_to_json(const struct part_profile *p, json_t *o)
{
    json_t *boot = NULL, *net = NULL, *machine = NULL;
    int r = 0;

    if (p->boot != PART_BOOT_NONE) {
        boot = json_object();
        r |= json_object_set_new(o, "boot", boot);
        if (!boot)
            return -1;
        if (p->boot == PART_BOOT_KERNEL) {
            r |= profile_set_json_string(boot, "kernel", p->boot_kernel);
            r |= profile_set_json_string(boot, "initrd", p->boot_initrd);
            r |= profile_set_json_string(boot, "cmdline", p->boot_cmdline);
        } else {
            r |= profile_set_json_string(boot, "disk", p->boot_disk);
            r |= profile_set_json_string(boot, "format",
                                         p->boot_disk_format == PART_DISK_QCOW2 ? "qcow2" : "raw");
        }
        if (p->net == PART_NET_NONE)
            net = json_string("none");
        else
            net = json_pack("{s:s}", p->net == PART_NET_NETWORK ? "network" : "bridge",
                            p->net_source ? p->net_source : "");
        r |= json_object_set_new(o, "network", net);
    }
    r |= profile_set_json_string(o, "serial_log", p->serial_log);
    if (p->domain_type[0] || p->machine[0]) {
        machine = json_object();
        r |= json_object_set_new(o, "machine", machine);
        if (!machine)
            return -1;
        r |= profile_set_json_string(machine, "type", p->domain_type[0] ? p->domain_type : NULL);
        r |= profile_set_json_string(machine, "machine", p->machine[0] ? p->machine : NULL);
    }
    r |= json_object_set_new(o, "guest_agent", json_boolean(p->guest_agent));
    return r;
}

json_t *part_profile_to_json(const struct part_profile *p)
{
    char init[32], min[32], res[32];
    json_t *o =
        json_pack("{s:s, s:{s:s, s:I, s:I, s:I}, s:{s:s, s:s, s:s}, s:b}", "name", p->name,
                  "processors", "mode", p->mode == PART_MODE_DEDICATED ? "dedicated" : "shared",
                  "initial", (json_int_t)p->proc_initial, "min", (json_int_t)p->proc_min,
                  "reserved", (json_int_t)p->proc_reserved, "memory", "initial",
                  part_size_format(p->mem_initial, init, sizeof(init)), "min",
                  part_size_format(p->mem_min, min, sizeof(min)), "reserved",
                  part_size_format(p->mem_reserved, res, sizeof(res)), "autostart", p->autostart);
    if (!o)
        return NULL;
    int r = 0;
    if (p->mode == PART_MODE_SHARED) {
        r |= json_object_set_new(
            o, "weight",
            json_pack("{s:I, s:I, s:I}", "initial", (json_int_t)p->weight_initial, "min",
                      (json_int_t)p->weight_min, "max", (json_int_t)p->weight_max));
        r |= json_object_set_new(o, "cap",
                                 part_cap_json(p->cap));
    }
    if (p->group[0])
        r |= json_object_set_new(o, "group", json_string(p->group));
    r |= json_object_set_new(o, "managed", json_boolean(p->managed));
    if (p->mode == PART_MODE_SHARED)
        r |= json_object_set_new(
            o, "defined_capacity",
            part_cap_json(p->defined_capacity));
    if (p->adopt)
        r |= json_object_set_new(o, "domain", json_pack("{s:s}", "adopt", p->domain_name));
    else if (p->domain_template)
        r |= json_object_set_new(o, "domain", json_pack("{s:s}", "template", p->domain_template));
    r |= profile_generated_to_json(p, o);
    if (r) {
        json_decref(o);
        return NULL;
    }
    return o;
}
