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

/* Reads the whole file; errno is kept for the caller's message. */
static int domxml_read_file(const char *path, char **ret, size_t *ret_len)
{
    FILE *f = fopen(path, "re");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int r = 0;

    if (!f)
        return -errno;
    for (;;) {
        if (cap - len < 4096) {
            char *nbuf = realloc(buf, cap + 65536);
            if (!nbuf) {
                r = -ENOMEM;
                goto out;
            }
            buf = nbuf;
            cap += 65536;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f))
                r = errno ? -errno : -EIO;
            break;
        }
    }
    if (r == 0) {
        *ret = buf;
        *ret_len = len;
        buf = NULL;
    }
out:
    free(buf);
    fclose(f);
    return r;
}

static int domxml_load_template(const char *path, xmlDoc **ret, struct part_error *err)
{
    char *text = NULL;
    size_t len = 0;
    xmlDoc *doc = NULL;
    xmlNode *root;
    int r;

    r = domxml_read_file(path, &text, &len);
    if (r < 0) {
        r = part_error_set(err, r, DOMXML_FIELD, DOMXML_FIELD ": cannot read %s: %s", path,
                           strerror(-r));
        goto out;
    }
    /* NOBLANKS drops the template's indentation so that the output is
     * indented consistently around the elements partd adds. */
    if (len <= INT32_MAX)
        doc = xmlReadMemory(text, (int)len, path, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                XML_PARSE_NOBLANKS);
    root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!root || !domxml_is(root, "domain") || root->ns) {
        r = part_error_set(err, -EINVAL, DOMXML_FIELD,
                           DOMXML_FIELD ": %s is not a libvirt domain XML", path);
        goto out;
    }
    *ret = doc;
    doc = NULL;
out:
    xmlFreeDoc(doc);
    free(text);
    return r;
}

static int domxml_skeleton(const char *type, xmlDoc **ret)
{
    xmlDoc *doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNode *root = NULL, *os;

    if (!doc)
        return -ENOMEM;
    root = xmlNewNode(NULL, BAD_CAST "domain");
    if (!root)
        goto fail;
    xmlDocSetRootElement(doc, root);
    if (domxml_set_prop(root, "type", type ? type : "kvm") < 0 ||
        !xmlNewChild(root, NULL, BAD_CAST "name", NULL) ||
        !(os = xmlNewChild(root, NULL, BAD_CAST "os", NULL)) ||
        !xmlNewChild(os, NULL, BAD_CAST "type", BAD_CAST "hvm"))
        goto fail;
    *ret = doc;
    return 0;
fail:
    xmlFreeDoc(doc);
    return -ENOMEM;
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
        r = domxml_load_template(p->domain_template, &doc, err);
    else
        r = domxml_skeleton(domain_type, &doc);
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
        domxml_set_cputune(root, p, placement, cpuset) < 0 || domxml_set_balloon(root) < 0)
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
