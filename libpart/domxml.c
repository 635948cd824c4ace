/* The libvirt domain XML of a profile: the user's template (or a skeleton)
 * with the elements partd owns replaced, everything else left as written. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "part/domxml.h"

#define DOMXML_FIELD  "domain.template"
#define DOMXML_PERIOD 100000 /* CFS period in us that a cap's quota is a share of */
#define DOMXML_AGENT  "org.qemu.guest_agent.0"

/* Children of <cputune> that partd writes; the template's are dropped so that
 * a stale shares or pin never survives next to partd's. */
static const char *const domxml_cputune_owned[] = {
    "shares", "period", "quota", "global_period", "global_quota", "vcpupin", "emulatorpin",
};

static bool domxml_is(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST name);
}

static xmlNode *domxml_child(xmlNode *parent, const char *name)
{
    for (xmlNode *c = parent->children; c; c = c->next)
        if (domxml_is(c, name))
            return c;
    return NULL;
}

static bool domxml_has_elements(const xmlNode *parent)
{
    for (const xmlNode *c = parent->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return true;
    return false;
}

static void domxml_remove(xmlNode *parent, const char *name)
{
    xmlNode *c = parent->children;

    while (c) {
        xmlNode *next = c->next;
        if (domxml_is(c, name)) {
            xmlUnlinkNode(c);
            xmlFreeNode(c);
        }
        c = next;
    }
}

/* Where domxml_ensure() puts an element it creates, so that a skeleton reads
 * in the usual order: name first, devices last, the rest before <os>. */
enum domxml_where {
    DOMXML_FIRST,
    DOMXML_BEFORE_OS,
    DOMXML_LAST,
};

/* Returns parent's first child element called name, creating it at where
 * when there is none. */
static xmlNode *domxml_ensure(xmlNode *parent, const char *name, enum domxml_where where)
{
    xmlNode *n = domxml_child(parent, name), *anchor = NULL;

    if (n)
        return n;
    n = xmlNewNode(NULL, BAD_CAST name);
    if (!n)
        return NULL;
    if (where == DOMXML_FIRST)
        anchor = parent->children;
    else if (where == DOMXML_BEFORE_OS)
        anchor = domxml_child(parent, "os");
    if (anchor && !xmlAddPrevSibling(anchor, n))
        goto fail;
    if (!anchor && !xmlAddChild(parent, n))
        goto fail;
    return n;
fail:
    xmlFreeNode(n);
    return NULL;
}

/* Replaces n's content by the text s, escaped as text (a name may hold '&'). */
static int domxml_set_text(xmlNode *n, const char *s)
{
    xmlNode *t;

    xmlNodeSetContent(n, NULL);
    t = xmlNewText(BAD_CAST s);
    if (!t)
        return -ENOMEM;
    if (!xmlAddChild(n, t)) {
        xmlFreeNode(t);
        return -ENOMEM;
    }
    return 0;
}

static int domxml_set_prop(xmlNode *n, const char *name, const char *value)
{
    return xmlSetProp(n, BAD_CAST name, BAD_CAST value) ? 0 : -ENOMEM;
}

static int domxml_set_prop_u(xmlNode *n, const char *name, uint64_t value)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%" PRIu64, value);
    return domxml_set_prop(n, name, buf);
}

/* Sets parent's element name (created when missing) to the number value,
 * with unit='MiB' when mib. */
static int domxml_set_number(xmlNode *parent, const char *name, int64_t value, bool mib)
{
    xmlNode *n = domxml_ensure(parent, name, DOMXML_BEFORE_OS);
    char buf[32];

    if (!n)
        return -ENOMEM;
    snprintf(buf, sizeof(buf), "%" PRId64, value);
    if (mib && domxml_set_prop(n, "unit", "MiB") < 0)
        return -ENOMEM;
    return domxml_set_text(n, buf);
}

static int domxml_add_child(xmlNode *parent, const char *name, xmlNode **ret)
{
    xmlNode *n = xmlNewChild(parent, NULL, BAD_CAST name, NULL);

    if (!n)
        return -ENOMEM;
    *ret = n;
    return 0;
}

static int domxml_cmp_unsigned(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

    return x < y ? -1 : x > y;
}

/* Formats a set of host CPUs (any order, duplicates allowed) as a libvirt
 * cpuset list, "2-7,9". *ret is malloc'd. */
static int domxml_format_cpuset(const unsigned *cpus, size_t n, char **ret)
{
    unsigned *sorted = NULL;
    char *buf = NULL;
    size_t len = 0, cap = n * 24 + 1;
    int r = -ENOMEM;

    sorted = malloc(n * sizeof(*sorted));
    buf = malloc(cap);
    if (!sorted || !buf)
        goto out;
    memcpy(sorted, cpus, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), domxml_cmp_unsigned);
    buf[0] = '\0';
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && (sorted[j + 1] == sorted[j] || sorted[j + 1] == sorted[j] + 1))
            j++;
        if (sorted[j] == sorted[i])
            len += (size_t)snprintf(buf + len, cap - len, "%s%u", len ? "," : "", sorted[i]);
        else
            len += (size_t)snprintf(buf + len, cap - len, "%s%u-%u", len ? "," : "", sorted[i],
                                    sorted[j]);
        i = j + 1;
    }
    *ret = buf;
    buf = NULL;
    r = 0;
out:
    free(sorted);
    free(buf);
    return r;
}

/* Parses the template's text, read by part_hostpath_load() before the
 * manager's lock was taken: nothing here opens a file. */
static int domxml_load_template(const struct part_profile *p, xmlDoc **ret, struct part_error *err)
{
    const char *text = p->domain_template_xml;
    size_t len = text ? strlen(text) : 0;
    xmlDoc *doc = NULL;
    xmlNode *root;

    if (!text)
        return part_error_set(err, -EINVAL, DOMXML_FIELD,
                              DOMXML_FIELD ": %s has not been read (part_hostpath_load())",
                              p->domain_template);
    /* NOBLANKS drops the template's indentation so that the output is
     * indented consistently around the elements partd adds. */
    if (len <= INT32_MAX)
        doc = xmlReadMemory(text, (int)len, p->domain_template, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                XML_PARSE_NOBLANKS);
    root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!root || !domxml_is(root, "domain") || root->ns) {
        xmlFreeDoc(doc);
        return part_error_set(err, -EINVAL, DOMXML_FIELD,
                              DOMXML_FIELD ": %s is not a libvirt domain XML", p->domain_template);
    }
    *ret = doc;
    return 0;
}

/* A new document holding <domain type='TYPE'/>, its root element in
 * *ret_root; NULL when out of memory. */
static xmlDoc *domxml_new_domain(const char *type, xmlNode **ret_root)
{
    xmlDoc *doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNode *root = doc ? xmlNewNode(NULL, BAD_CAST "domain") : NULL;

    if (!root) {
        xmlFreeDoc(doc);
        return NULL;
    }
    xmlDocSetRootElement(doc, root);
    if (domxml_set_prop(root, "type", type) < 0) {
        xmlFreeDoc(doc);
        return NULL;
    }
    *ret_root = root;
    return doc;
}

static int domxml_skeleton(const char *type, xmlDoc **ret)
{
    xmlNode *root, *os;
    xmlDoc *doc = domxml_new_domain(type, &root);

    if (!doc)
        return -ENOMEM;
    if (!xmlNewChild(root, NULL, BAD_CAST "name", NULL) ||
        !(os = xmlNewChild(root, NULL, BAD_CAST "os", NULL)) ||
        !xmlNewChild(os, NULL, BAD_CAST "type", BAD_CAST "hvm"))
        goto fail;
    *ret = doc;
    return 0;
fail:
    xmlFreeDoc(doc);
    return -ENOMEM;
}

/* The domain type of p's generated domain or skeleton: the profile's, else
 * the driver's default. */
static const char *domxml_type(const struct part_profile *p, const char *domain_type)
{
    if (p->domain_type[0])
        return p->domain_type;
    return domain_type ? domain_type : "kvm";
}

/* Adds <name>text</name> (escaped) as parent's last child; text may be NULL
 * for an empty element. */
static xmlNode *domxml_add_text(xmlNode *parent, const char *name, const char *text)
{
    xmlNode *n = xmlNewChild(parent, NULL, BAD_CAST name, NULL);

    if (n && text && domxml_set_text(n, text) < 0)
        return NULL; /* n stays in the document, freed with it */
    return n;
}

/* Adds <name a0='v0' a1='v1'/> to parent (the second attribute when a1). */
static xmlNode *domxml_add_attrs(xmlNode *parent, const char *name, const char *a0, const char *v0,
                                 const char *a1, const char *v1)
{
    xmlNode *n = xmlNewChild(parent, NULL, BAD_CAST name, NULL);

    if (!n || domxml_set_prop(n, a0, v0) < 0 || (a1 && domxml_set_prop(n, a1, v1) < 0))
        return NULL;
    return n;
}

/* <os>: hvm on the machine, and what it boots. */
static int domxml_gen_os(xmlNode *root, const struct part_profile *p)
{
    xmlNode *os = domxml_add_text(root, "os", NULL), *type;

    if (!os || !(type = domxml_add_text(os, "type", "hvm")) ||
        domxml_set_prop(type, "machine", p->machine[0] ? p->machine : "q35") < 0)
        return -ENOMEM;
    if (p->boot == PART_BOOT_DISK)
        return domxml_add_attrs(os, "boot", "dev", "hd", NULL, NULL) ? 0 : -ENOMEM;
    if (!domxml_add_text(os, "kernel", p->boot_kernel) ||
        (p->boot_initrd && !domxml_add_text(os, "initrd", p->boot_initrd)) ||
        (p->boot_cmdline && !domxml_add_text(os, "cmdline", p->boot_cmdline)))
        return -ENOMEM;
    return 0;
}

/* The devices a generated domain has besides the memballoon and the agent
 * channel, which every domain partd defines gets. */
static int domxml_gen_devices(xmlNode *root, const struct part_profile *p)
{
    xmlNode *devices = domxml_add_text(root, "devices", NULL), *n;

    if (!devices)
        return -ENOMEM;
    if (p->boot == PART_BOOT_DISK) {
        const char *format = p->boot_disk_format == PART_DISK_QCOW2 ? "qcow2" : "raw";
        if (!(n = domxml_add_attrs(devices, "disk", "type", "file", "device", "disk")) ||
            !domxml_add_attrs(n, "driver", "name", "qemu", "type", format) ||
            !domxml_add_attrs(n, "source", "file", p->boot_disk, NULL, NULL) ||
            !domxml_add_attrs(n, "target", "dev", "vda", "bus", "virtio"))
            return -ENOMEM;
    }
    if (p->net != PART_NET_NONE) {
        const char *kind = p->net == PART_NET_NETWORK ? "network" : "bridge";
        if (!(n = domxml_add_attrs(devices, "interface", "type", kind, NULL, NULL)) ||
            !domxml_add_attrs(n, "source", kind, p->net_source, NULL, NULL) ||
            !domxml_add_attrs(n, "model", "type", "virtio", NULL, NULL))
            return -ENOMEM;
    }
    if (p->serial_log) {
        /* libvirt makes the console an alias of serial port 0: both name
         * the same file, so that what it reports matches what it runs.
         * Appended to: a restart, or the QEMU that a move starts on the
         * target (the same file on shared storage), adds to the log
         * rather than wiping what the guest printed before. */
        if (!(n = domxml_add_attrs(devices, "serial", "type", "file", NULL, NULL)) ||
            !domxml_add_attrs(n, "source", "path", p->serial_log, "append", "on") ||
            !domxml_add_attrs(n, "target", "port", "0", NULL, NULL) ||
            !(n = domxml_add_attrs(devices, "console", "type", "file", NULL, NULL)) ||
            !domxml_add_attrs(n, "source", "path", p->serial_log, "append", "on") ||
            !domxml_add_attrs(n, "target", "type", "serial", "port", "0"))
            return -ENOMEM;
    }
    /* libvirt adds a USB controller unless told there is none */
    if (!domxml_add_attrs(devices, "controller", "type", "usb", "model", "none"))
        return -ENOMEM;
    return 0;
}

/* A whole domain from the profile's boot and device keys; name, memory,
 * vcpu, cputune and the memballoon are filled in by the caller as for a
 * template. */
static int domxml_generate(const struct part_profile *p, const char *type, xmlDoc **ret)
{
    xmlNode *root, *features;
    xmlDoc *doc = domxml_new_domain(type, &root);

    if (!doc)
        return -ENOMEM;
    if (!domxml_add_text(root, "name", NULL) || domxml_gen_os(root, p) < 0 ||
        !(features = domxml_add_text(root, "features", NULL)) ||
        !domxml_add_text(features, "acpi", NULL) || !domxml_add_text(features, "apic", NULL))
        goto fail;
    /* host-passthrough needs KVM; TCG runs its own default model */
    if (strcmp(type, "kvm") == 0 &&
        !domxml_add_attrs(root, "cpu", "mode", "host-passthrough", NULL, NULL))
        goto fail;
    if (!domxml_add_attrs(root, "clock", "offset", "utc", NULL, NULL) ||
        !domxml_add_text(root, "on_poweroff", "destroy") ||
        !domxml_add_text(root, "on_crash", "destroy") || domxml_gen_devices(root, p) < 0)
        goto fail;
    *ret = doc;
    return 0;
fail:
    xmlFreeDoc(doc);
    return -ENOMEM;
}

/* The guest agent's channel, unless the domain has one already (a
 * template's own stays as written). */
static int domxml_set_agent(xmlNode *root)
{
    xmlNode *devices = domxml_ensure(root, "devices", DOMXML_LAST), *n;

    if (!devices)
        return -ENOMEM;
    for (xmlNode *c = devices->children; c; c = c->next) {
        if (!domxml_is(c, "channel"))
            continue;
        for (xmlNode *t = c->children; t; t = t->next) {
            xmlChar *name = domxml_is(t, "target") ? xmlGetProp(t, BAD_CAST "name") : NULL;
            bool agent = name && xmlStrEqual(name, BAD_CAST DOMXML_AGENT);
            xmlFree(name);
            if (agent)
                return 0;
        }
    }
    if (!(n = domxml_add_attrs(devices, "channel", "type", "unix", NULL, NULL)) ||
        !domxml_add_attrs(n, "target", "type", "virtio", "name", DOMXML_AGENT))
        return -ENOMEM;
    return 0;
}

static int domxml_set_vcpu(xmlNode *root, const struct part_profile *p, const char *cpuset)
{
    xmlNode *vcpu = domxml_ensure(root, "vcpu", DOMXML_BEFORE_OS);
    char buf[32];

    if (!vcpu)
        return -ENOMEM;
    snprintf(buf, sizeof(buf), "%u", p->proc_reserved);
    if (domxml_set_prop(vcpu, "placement", "static") < 0 ||
        domxml_set_prop_u(vcpu, "current", p->proc_initial) < 0 || domxml_set_text(vcpu, buf) < 0)
        return -ENOMEM;
    if (cpuset)
        return domxml_set_prop(vcpu, "cpuset", cpuset);
    xmlUnsetProp(vcpu, BAD_CAST "cpuset");
    return 0;
}

static int domxml_set_balloon(xmlNode *root)
{
    xmlNode *devices = domxml_ensure(root, "devices", DOMXML_LAST), *balloon, *stats;

    if (!devices)
        return -ENOMEM;
    domxml_remove(devices, "memballoon");
    if (domxml_add_child(devices, "memballoon", &balloon) < 0 ||
        domxml_set_prop(balloon, "model", "virtio") < 0 ||
        domxml_add_child(balloon, "stats", &stats) < 0 || domxml_set_prop(stats, "period", "2") < 0)
        return -ENOMEM;
    return 0;
}

/* partd's mark for partition in <metadata>, which is created when missing;
 * any element of partd's namespace there (a template made from a domain
 * partd defined carries one, perhaps for another partition) goes first, so
 * that the domain bears exactly one mark: the one for the partition that
 * defines it. */
static int domxml_set_mark(xmlNode *root, const char *partition)
{
    xmlNode *meta = domxml_ensure(root, "metadata", DOMXML_BEFORE_OS), *c, *mark;
    xmlNs *ns;

    if (!meta)
        return -ENOMEM;
    for (c = meta->children; c;) {
        xmlNode *next = c->next;
        if (c->type == XML_ELEMENT_NODE && c->ns &&
            xmlStrEqual(c->ns->href, BAD_CAST PART_DOMXML_MARK_NS)) {
            xmlUnlinkNode(c);
            xmlFreeNode(c);
        }
        c = next;
    }
    if (domxml_add_child(meta, PART_DOMXML_MARK_ELEMENT, &mark) < 0 ||
        !(ns = xmlNewNs(mark, BAD_CAST PART_DOMXML_MARK_NS, BAD_CAST PART_DOMXML_MARK_PREFIX)))
        return -ENOMEM;
    xmlSetNs(mark, ns);
    return domxml_set_prop(mark, "name", partition);
}

static int domxml_set_cputune(xmlNode *root, const struct part_profile *p,
                              const struct part_placement *placement, const char *cpuset)
{
    xmlNode *cputune = domxml_ensure(root, "cputune", DOMXML_BEFORE_OS), *n;
    char buf[32];

    if (!cputune)
        return -ENOMEM;
    for (size_t i = 0; i < sizeof(domxml_cputune_owned) / sizeof(domxml_cputune_owned[0]); i++)
        domxml_remove(cputune, domxml_cputune_owned[i]);

    if (p->mode == PART_MODE_SHARED) {
        snprintf(buf, sizeof(buf), "%u", 10 * p->weight_initial);
        if (!xmlNewChild(cputune, NULL, BAD_CAST "shares", BAD_CAST buf))
            return -ENOMEM;
    }
    if (p->cap != PART_CAP_NONE) {
        snprintf(buf, sizeof(buf), "%d", DOMXML_PERIOD);
        if (!xmlNewChild(cputune, NULL, BAD_CAST "global_period", BAD_CAST buf))
            return -ENOMEM;
        snprintf(buf, sizeof(buf), "%lld", llround(p->cap * DOMXML_PERIOD));
        if (!xmlNewChild(cputune, NULL, BAD_CAST "global_quota", BAD_CAST buf))
            return -ENOMEM;
    }
    if (p->mode == PART_MODE_DEDICATED && placement) {
        /* libvirt refuses a pin for a vcpu beyond the maximum */
        for (size_t i = 0; i < placement->n && i < p->proc_reserved; i++) {
            if (domxml_add_child(cputune, "vcpupin", &n) < 0 ||
                domxml_set_prop_u(n, "vcpu", i) < 0 ||
                domxml_set_prop_u(n, "cpuset", placement->cpus[i]) < 0)
                return -ENOMEM;
        }
    }
    if (cpuset) {
        if (domxml_add_child(cputune, "emulatorpin", &n) < 0 ||
            domxml_set_prop(n, "cpuset", cpuset) < 0)
            return -ENOMEM;
    }
    if (!domxml_has_elements(cputune)) {
        xmlUnlinkNode(cputune);
        xmlFreeNode(cputune);
    }
    return 0;
}

int part_domxml_build(const struct part_profile *p, const char *domain_type,
                      const struct part_placement *placement, char **ret, struct part_error *err)
{
    xmlDoc *doc = NULL;
    xmlNode *root, *name;
    xmlChar *out = NULL;
    char *cpuset = NULL;
    int len = 0, r;

    if (p->domain_template)
        r = domxml_load_template(p, &doc, err);
    else if (p->boot != PART_BOOT_NONE)
        r = domxml_generate(p, domxml_type(p, domain_type), &doc);
    else
        r = domxml_skeleton(domxml_type(p, domain_type), &doc);
    if (r < 0)
        goto out;
    root = xmlDocGetRootElement(doc);

    if (p->mode == PART_MODE_SHARED && placement && placement->n > 0) {
        r = domxml_format_cpuset(placement->cpus, placement->n, &cpuset);
        if (r < 0)
            goto out;
    }

    r = -ENOMEM;
    name = domxml_ensure(root, "name", DOMXML_FIRST);
    if (!name || domxml_set_text(name, p->domain_name ? p->domain_name : p->name) < 0)
        goto out;
    if (domxml_set_number(root, "memory", (int64_t)p->mem_reserved, true) < 0 ||
        domxml_set_number(root, "currentMemory", (int64_t)p->mem_initial, true) < 0)
        goto out;
    if (domxml_set_vcpu(root, p, cpuset) < 0 ||
        domxml_set_cputune(root, p, placement, cpuset) < 0 ||
        (p->guest_agent && domxml_set_agent(root) < 0) || domxml_set_balloon(root) < 0 ||
        domxml_set_mark(root, p->name) < 0)
        goto out;

    xmlDocDumpFormatMemory(doc, &out, &len, 1);
    if (!out || !(*ret = strdup((const char *)out)))
        goto out;
    r = 0;
out:
    if (r == -ENOMEM)
        part_error_set(err, r, NULL, "out of memory building the domain XML");
    xmlFree(out);
    free(cpuset);
    xmlFreeDoc(doc);
    return r;
}
