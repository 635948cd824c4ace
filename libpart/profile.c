/* Profiles: parsing, validation and serialisation of one partition's
 * definition. Every error names the field; part_profile_parse() adds the
 * line and column of that field in the text. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "part/profile.h"
#include "part/size.h"
#include "file.h"
#include "json.h"

#define PROFILE_NSTRINGS 9

/* The owned strings of p, for freeing and copying them in one loop. */
static void profile_strings(struct part_profile *p, char **ret[PROFILE_NSTRINGS])
{
    char **strings[PROFILE_NSTRINGS] = {
        &p->domain_template, &p->domain_template_xml, &p->domain_name,
        &p->boot_kernel,     &p->boot_initrd,         &p->boot_cmdline,
        &p->boot_disk,       &p->net_source,          &p->serial_log,
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

void part_profile_init(struct part_profile *p)
{
    *p = (struct part_profile){
        .mode = PART_MODE_SHARED,
        .proc_initial = 1,
        .proc_min = 1,
        .proc_reserved = 1,
        .weight_initial = PART_PROFILE_WEIGHT_DEFAULT,
        .weight_min = PART_PROFILE_WEIGHT_DEFAULT,
        .weight_max = PART_PROFILE_WEIGHT_DEFAULT,
        .cap = PART_CAP_NONE,
        .mem_initial = PART_PROFILE_MEMORY_DEFAULT,
        .mem_min = PART_PROFILE_MEMORY_DEFAULT,
        .mem_reserved = PART_PROFILE_MEMORY_DEFAULT,
        .managed = true,
        .defined_capacity = PART_CAP_NONE,
        .boot = PART_BOOT_NONE,
        .boot_disk_format = PART_DISK_RAW,
        .net = PART_NET_NONE,
    };
}

struct part_profile *part_profile_new(const char *name)
{
    struct part_profile *p = malloc(sizeof(*p));

    if (!p)
        return NULL;
    part_profile_init(p);
    snprintf(p->name, sizeof(p->name), "%s", name);
    if (!(p->domain_name = strdup(name)))
        return part_profile_free(p);
    return p;
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

/* A profile being read: the profile, and the members that become fields of
 * it only through the rules between them (one key of two) once the whole
 * profile is read. */
struct profile_doc {
    struct part_profile p;
    const char *tmpl, *adopt;                     /* domain */
    const char *kernel, *initrd, *cmdline, *disk; /* boot */
    const char *format;
    const char *network, *bridge; /* network */
    const char *serial_log;
    const char *type, *machine; /* machine */
};

#define AT(field) offsetof(struct profile_doc, field)

_Static_assert(sizeof(enum part_mode) == sizeof(int), "PART_JSON_ENUM stores an int");

/* "weight", "cap", "defined_capacity": shared partitions only. */
static int profile_shared_only(json_t *v, const char *path, void *out, struct part_error *err)
{
    const struct profile_doc *d = out;
    if (d->p.mode == PART_MODE_DEDICATED)
        return part_error_set(err, -EINVAL, path, "%s: does not apply to dedicated partitions",
                              path);
    return 0;
}

/* The defaults that depend on other fields: a bound not given is the initial
 * value (processors.reserved, weight.min and .max, memory.min and .reserved;
 * processors.min is 1). */
static int profile_processors(json_t *v, const char *path, void *out, struct part_error *err)
{
    struct part_profile *p = &((struct profile_doc *)out)->p;
    if (!json_object_get(v, "reserved"))
        p->proc_reserved = p->proc_initial;
    return 0;
}

static int profile_weight(json_t *v, const char *path, void *out, struct part_error *err)
{
    struct part_profile *p = &((struct profile_doc *)out)->p;
    p->weight_min = json_object_get(v, "min") ? p->weight_min : p->weight_initial;
    p->weight_max = json_object_get(v, "max") ? p->weight_max : p->weight_initial;
    return 0;
}

static int profile_memory(json_t *v, const char *path, void *out, struct part_error *err)
{
    struct part_profile *p = &((struct profile_doc *)out)->p;
    p->mem_min = json_object_get(v, "min") ? p->mem_min : p->mem_initial;
    p->mem_reserved = json_object_get(v, "reserved") ? p->mem_reserved : p->mem_initial;
    return 0;
}

static int profile_domain(json_t *v, const char *path, void *out, struct part_error *err)
{
    const struct profile_doc *d = out;
    if (d->tmpl && d->adopt)
        return part_error_set(err, -EINVAL, "domain.adopt",
                              "domain.adopt: give either domain.template or domain.adopt, "
                              "not both");
    return 0;
}

/* Whether the file name s ends with suffix, in any case. */
static bool profile_has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcasecmp(s + n - m, suffix) == 0;
}

/* boot.format, or the format boot.disk's name says. */
static int profile_disk_format(struct profile_doc *d, struct part_error *err)
{
    if (d->format && strcmp(d->format, "qcow2") == 0)
        d->p.boot_disk_format = PART_DISK_QCOW2;
    else if (d->format && strcmp(d->format, "raw") == 0)
        d->p.boot_disk_format = PART_DISK_RAW;
    else if (d->format)
        return part_error_set(err, -EINVAL, "boot.format",
                              "boot.format: \"%s\" is neither \"qcow2\" nor \"raw\"", d->format);
    else if (profile_has_suffix(d->disk, ".qcow2"))
        d->p.boot_disk_format = PART_DISK_QCOW2;
    else if (profile_has_suffix(d->disk, ".raw") || profile_has_suffix(d->disk, ".img"))
        d->p.boot_disk_format = PART_DISK_RAW;
    else
        /* guessing wrong either way is worse than asking: a qcow2 image
         * read as raw does not boot, a raw one read as qcow2 lets the guest
         * name host files as its backing store */
        return part_error_set(err, -EINVAL, "boot.disk",
                              "boot.disk: cannot tell the format of \"%s\" from its name "
                              "(.qcow2, .raw or .img): give boot.format",
                              d->disk);
    return 0;
}

/* "boot": {"kernel", "initrd", "cmdline"} or {"disk", "format"} */
static int profile_boot(json_t *v, const char *path, void *out, struct part_error *err)
{
    struct profile_doc *d = out;

    if (d->kernel && d->disk)
        return part_error_set(err, -EINVAL, "boot.disk",
                              "boot.disk: give either boot.kernel or boot.disk, not both");
    if (!d->kernel && !d->disk)
        return part_error_set(err, -EINVAL, "boot",
                              "boot: needs kernel (direct kernel boot) or disk (a disk image)");
    if (d->kernel && d->format)
        return part_error_set(err, -EINVAL, "boot.format",
                              "boot.format: applies to boot.disk only");
    if (d->disk && (d->initrd || d->cmdline))
        return part_error_set(err, -EINVAL, d->initrd ? "boot.initrd" : "boot.cmdline",
                              "boot.%s: applies to boot.kernel only",
                              d->initrd ? "initrd" : "cmdline");
    d->p.boot = d->kernel ? PART_BOOT_KERNEL : PART_BOOT_DISK;
    return d->disk ? profile_disk_format(d, err) : 0;
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

static const struct part_json_member network_members[] = {
    {"network", PART_JSON_STRING, .offset = AT(network)},
    {"bridge", PART_JSON_STRING, .offset = AT(bridge)},
    {0},
};

/* "network": "none", {"network": NAME} or {"bridge": NAME} */
static int profile_network(json_t *v, const char *path, void *out, struct part_error *err)
{
    struct profile_doc *d = out;
    int r;

    if (json_is_string(v) && strcmp(json_string_value(v), "none") == 0)
        return 0;
    if (json_is_string(v))
        return part_error_set(err, -EINVAL, "network",
                              "network: \"%s\" is not \"none\" (give \"none\", "
                              "{\"network\": NAME} or {\"bridge\": NAME})",
                              json_string_value(v));
    if (!json_is_object(v))
        return part_json_expected(path, "\"none\" or an object", v, err);
    if ((r = part_json_read(v, path, network_members, out, err)) < 0)
        return r;
    if (d->network && d->bridge)
        return part_error_set(err, -EINVAL, "network.bridge",
                              "network.bridge: give either network.network or network.bridge, "
                              "not both");
    if (!d->network && !d->bridge)
        return part_error_set(err, -EINVAL, "network",
                              "network: needs network (a libvirt network) or bridge (a host "
                              "bridge)");
    if (d->network && strchr(d->network, '/'))
        return part_error_set(err, -EINVAL, "network.network",
                              "network.network: \"%s\" is not a libvirt network name (it has a /)",
                              d->network);
    if (d->bridge && !profile_ifname_valid(d->bridge))
        return part_error_set(err, -EINVAL, "network.bridge",
                              "network.bridge: \"%s\" is not a bridge name (1-15 characters, "
                              "no space, / or :)",
                              d->bridge);
    d->p.net = d->network ? PART_NET_NETWORK : PART_NET_BRIDGE;
    return 0;
}

/* "machine": {"type": "kvm" | "qemu", "machine": "q35"} */
static int profile_machine(json_t *v, const char *path, void *out, struct part_error *err)
{
    struct profile_doc *d = out;

    if (d->type && strcmp(d->type, "kvm") != 0 && strcmp(d->type, "qemu") != 0)
        return part_error_set(err, -EINVAL, "machine.type",
                              "machine.type: \"%s\" is neither \"kvm\" nor \"qemu\"", d->type);
    if (d->machine && (strlen(d->machine) >= PART_MACHINE_MAX ||
                       strspn(d->machine, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                          "0123456789_.-") != strlen(d->machine)))
        return part_error_set(err, -EINVAL, "machine.machine",
                              "machine.machine: \"%s\" is not a machine type (1-63 of A-Z a-z "
                              "0-9 _ . -)",
                              d->machine);
    snprintf(d->p.domain_type, sizeof(d->p.domain_type), "%s", d->type ? d->type : "");
    snprintf(d->p.machine, sizeof(d->p.machine), "%s", d->machine ? d->machine : "");
    return 0;
}

static const struct part_json_choice profile_modes[] = {
    {"shared", PART_MODE_SHARED},
    {"dedicated", PART_MODE_DEDICATED},
    {NULL, 0},
};

static const struct part_json_member processors_members[] = {
    {"mode", PART_JSON_ENUM, .offset = AT(p.mode), .choices = profile_modes},
    {"initial", PART_JSON_UINT, .offset = AT(p.proc_initial), .flags = PART_JSON_REQUIRED, .lo = 1,
     .hi = PART_PROCESSORS_MAX},
    {"min", PART_JSON_UINT, .offset = AT(p.proc_min), .lo = 1, .hi = PART_PROCESSORS_MAX},
    {"reserved", PART_JSON_UINT, .offset = AT(p.proc_reserved), .lo = 1, .hi = PART_PROCESSORS_MAX},
    {0},
};

static const struct part_json_member weight_members[] = {
    {"initial", PART_JSON_UINT, .offset = AT(p.weight_initial), .lo = PART_WEIGHT_MIN,
     .hi = PART_WEIGHT_MAX},
    {"min", PART_JSON_UINT, .offset = AT(p.weight_min), .lo = PART_WEIGHT_MIN,
     .hi = PART_WEIGHT_MAX},
    {"max", PART_JSON_UINT, .offset = AT(p.weight_max), .lo = PART_WEIGHT_MIN,
     .hi = PART_WEIGHT_MAX},
    {0},
};

static const struct part_json_member memory_members[] = {
    {"initial", PART_JSON_SIZE, .offset = AT(p.mem_initial), .flags = PART_JSON_REQUIRED},
    {"min", PART_JSON_SIZE, .offset = AT(p.mem_min)},
    {"reserved", PART_JSON_SIZE, .offset = AT(p.mem_reserved)},
    {0},
};

/* define from a template (or a skeleton), or adopt */
static const struct part_json_member domain_members[] = {
    {"template", PART_JSON_STRING, .offset = AT(tmpl)},
    {"adopt", PART_JSON_STRING, .offset = AT(adopt)},
    {0},
};

static const struct part_json_member boot_members[] = {
    {"kernel", PART_JSON_STRING, .offset = AT(kernel)},
    {"initrd", PART_JSON_STRING, .offset = AT(initrd)},
    {"cmdline", PART_JSON_STRING, .offset = AT(cmdline)},
    {"disk", PART_JSON_STRING, .offset = AT(disk)},
    {"format", PART_JSON_STRING, .offset = AT(format)},
    {0},
};

static const struct part_json_member machine_members[] = {
    {"type", PART_JSON_STRING, .offset = AT(type)},
    {"machine", PART_JSON_STRING, .offset = AT(machine)},
    {0},
};

/* A profile file. The keys after domain are those of a domain partd
 * generates whole: boot, and what needs it; guest_agent is read last. */
static const struct part_json_member profile_members[] = {
    {"name", PART_JSON_NAME, .offset = AT(p.name), .flags = PART_JSON_REQUIRED, .what = "name"},
    {"processors", PART_JSON_OBJECT, .flags = PART_JSON_REQUIRED, .members = processors_members,
     .after = profile_processors},
    /* weight and cap: claims on the shared pool */
    {"weight", PART_JSON_OBJECT, .members = weight_members, .before = profile_shared_only,
     .after = profile_weight},
    {"cap", PART_JSON_CAP, .offset = AT(p.cap), .lo = PART_CAP_MIN, .hi = PART_CAP_MAX,
     .none = PART_CAP_NONE, .expected = "a number of processors or null",
     .before = profile_shared_only},
    {"memory", PART_JSON_OBJECT, .flags = PART_JSON_REQUIRED, .members = memory_members,
     .after = profile_memory},
    {"group", PART_JSON_NAME, .offset = AT(p.group), .what = "group name"},
    {"autostart", PART_JSON_BOOL, .offset = AT(p.autostart)},
    {"managed", PART_JSON_BOOL, .offset = AT(p.managed)},
    {"defined_capacity", PART_JSON_CAP, .offset = AT(p.defined_capacity), .lo = PART_CAP_MIN,
     .hi = PART_CAP_MAX, .none = PART_CAP_NONE, .before = profile_shared_only},
    {"domain", PART_JSON_OBJECT, .members = domain_members, .after = profile_domain},
    {"boot", PART_JSON_OBJECT, .members = boot_members, .after = profile_boot},
    {"network", PART_JSON_CUSTOM, .read = profile_network},
    {"serial_log", PART_JSON_STRING, .offset = AT(serial_log)},
    {"guest_agent", PART_JSON_BOOL, .offset = AT(p.guest_agent), .flags = PART_JSON_LATE},
    {"machine", PART_JSON_OBJECT, .members = machine_members, .after = profile_machine},
    {0},
};

/* Makes the strings d read p's own, the domain named after the partition
 * unless adopted. Returns 0 or -ENOMEM. */
static int profile_take_strings(struct part_profile *p, const struct profile_doc *d)
{
    const struct {
        char **to;
        const char *from;
    } s[] = {
        {&p->domain_template, d->tmpl},
        {&p->domain_name, d->adopt ? d->adopt : p->name},
        {&p->boot_kernel, d->kernel},
        {&p->boot_initrd, d->initrd},
        {&p->boot_cmdline, d->cmdline},
        {&p->boot_disk, d->disk},
        {&p->net_source, d->network ? d->network : d->bridge},
        {&p->serial_log, d->serial_log},
    };

    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
        if (s[i].from && !(*s[i].to = strdup(s[i].from)))
            return -ENOMEM;
    return 0;
}

/* Reads root into a new profile *ret: the table, then what needs the whole
 * profile. */
static int profile_from_json(json_t *root, struct part_profile **ret, struct part_error *err)
{
    struct profile_doc d = {0};
    struct part_profile *p;
    int r;

    part_profile_init(&d.p);
    if (!json_is_object(root))
        return part_error_set(err, -EINVAL, "", "a profile must be a JSON object, got %s",
                              part_json_type_name(root));
    if ((r = part_json_read(root, "", profile_members, &d, err)) < 0)
        return r;
    d.p.adopt = d.adopt != NULL;
    if (!(p = malloc(sizeof(*p))))
        return part_error_oom(err);
    *p = d.p;
    if (profile_take_strings(p, &d) < 0)
        r = part_error_oom(err);
    else
        r = part_profile_validate(p, err);
    if (r < 0)
        part_profile_free(p);
    else
        *ret = p;
    return r;
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

int part_profile_parse(const char *text, size_t len, const char *file, struct part_profile **ret,
                       struct part_error *err)
{
    json_t *root;
    int r;

    part_error_clear(err);
    if ((r = part_json_parse(text, len, file, &root, err)) < 0)
        return r;
    r = profile_from_json(root, ret, err);
    if (r == -EINVAL)
        part_error_locate(err, text, len);
    json_decref(root);
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
        r |= json_object_set_new(o, "cap", part_cap_json(p->cap));
    }
    if (p->group[0])
        r |= json_object_set_new(o, "group", json_string(p->group));
    r |= json_object_set_new(o, "managed", json_boolean(p->managed));
    if (p->mode == PART_MODE_SHARED)
        r |= json_object_set_new(o, "defined_capacity", part_cap_json(p->defined_capacity));
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

double part_setting_profile(const struct part_profile *p, enum part_setting s)
{
    switch (s) {
    case PART_SET_PROCESSORS:
        return p->proc_initial;
    case PART_SET_MEMORY:
        return (double)p->mem_initial;
    case PART_SET_WEIGHT:
        return p->weight_initial;
    case PART_SET_CAP:
        return p->cap;
    case PART_SET_WEIGHT_MIN:
        return p->weight_min;
    default:
        return p->weight_max;
    }
}

void part_setting_set_profile(struct part_profile *p, enum part_setting s, double v)
{
    switch (s) {
    case PART_SET_PROCESSORS:
        p->proc_initial = (unsigned)v;
        break;
    case PART_SET_MEMORY:
        p->mem_initial = (uint64_t)v;
        break;
    case PART_SET_WEIGHT:
        p->weight_initial = (unsigned)v;
        break;
    case PART_SET_CAP:
        p->cap = v;
        break;
    case PART_SET_WEIGHT_MIN:
        p->weight_min = (unsigned)v;
        break;
    default:
        p->weight_max = (unsigned)v;
        break;
    }
}

void part_setting_bounds(const struct part_profile *p, enum part_setting s, double *ret_lo,
                         double *ret_hi)
{
    switch (s) {
    case PART_SET_PROCESSORS:
        *ret_lo = p->proc_min, *ret_hi = p->proc_reserved;
        break;
    case PART_SET_MEMORY:
        *ret_lo = (double)p->mem_min, *ret_hi = (double)p->mem_reserved;
        break;
    case PART_SET_WEIGHT:
        *ret_lo = p->weight_min, *ret_hi = p->weight_max;
        break;
    default:
        *ret_lo = part_setting_desc(s)->min, *ret_hi = part_setting_desc(s)->max;
        break;
    }
}

bool part_setting_allowed(const struct part_profile *p, enum part_setting s, double v)
{
    double lo, hi;
    if (part_setting_desc(s)->shared_only && p->mode != PART_MODE_SHARED)
        return false;
    if (s == PART_SET_CAP && v == PART_CAP_NONE)
        return true;
    part_setting_bounds(p, s, &lo, &hi);
    return v >= lo && v <= hi;
}
