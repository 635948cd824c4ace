/* part_domxml_build(): the generated domain XML is read back with XPath, so
 * that the tests check values, not formatting. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "golden.h"
#include "part/part.h"

struct built {
    char *xml;
    xmlDoc *doc;
    xmlXPathContext *ctx;
};

static char *fixture(const char *name)
{
    const char *src = getenv("PART_SRCDIR");
    char *path = NULL;

    assert_int_not_equal(asprintf(&path, "%s/tests/unit/domxml/%s", src ? src : "..", name), -1);
    return path;
}

static struct part_profile *profile_new(enum part_mode mode, const char *template)
{
    struct part_profile *p = part_profile_new("prod");

    assert_non_null(p);
    p->mode = mode;
    p->proc_initial = 2;
    p->proc_reserved = 8;
    p->weight_initial = 300;
    p->weight_min = 100;
    p->weight_max = 600;
    p->mem_initial = 4096;
    p->mem_min = 2048;
    p->mem_reserved = 16384;
    free(p->domain_name);
    p->domain_name = strdup("prod-vm");
    assert_non_null(p->domain_name);
    if (template) { /* as part_hostpath_load() leaves it: the path, and the text read */
        p->domain_template = fixture(template);
        if (access(p->domain_template, F_OK) == 0)
            p->domain_template_xml = golden_read_file(p->domain_template, NULL);
    }
    return p;
}

static void build(const struct part_profile *p, const char *type,
                  const struct part_placement *placement, struct built *b)
{
    struct part_error err = {0};
    int r;

    r = part_domxml_build(p, type, placement, &b->xml, &err);
    if (r != 0)
        fail_msg("part_domxml_build: %d %s", r, err.message);
    b->doc = xmlReadMemory(b->xml, (int)strlen(b->xml), NULL, NULL, XML_PARSE_NONET);
    assert_non_null(b->doc);
    b->ctx = xmlXPathNewContext(b->doc);
    assert_non_null(b->ctx);
    /* partd's mark, p:partition, whatever prefix the document gives it */
    assert_int_equal(xmlXPathRegisterNs(b->ctx, BAD_CAST "p", BAD_CAST PART_DOMXML_MARK_NS), 0);
    assert_int_equal(
        xmlXPathRegisterNs(b->ctx, BAD_CAST "app", BAD_CAST "http://example.org/app/1"), 0);
}

static void built_free(struct built *b)
{
    xmlXPathFreeContext(b->ctx);
    xmlFreeDoc(b->doc);
    free(b->xml);
}

/* Returns the string value of expr (empty when it selects nothing). */
static char *xs(struct built *b, const char *expr)
{
    xmlXPathObject *o = xmlXPathEvalExpression(BAD_CAST expr, b->ctx);
    xmlChar *s;
    char *ret;

    assert_non_null(o);
    s = xmlXPathCastToString(o);
    ret = strdup((const char *)s);
    xmlFree(s);
    xmlXPathFreeObject(o);
    return ret;
}

static void assert_xs(struct built *b, const char *expr, const char *want)
{
    char *got = xs(b, expr);

    if (strcmp(got, want) != 0)
        fail_msg("%s: got \"%s\", want \"%s\"\n%s", expr, got, want, b->xml);
    free(got);
}

static double xn(struct built *b, const char *expr)
{
    xmlXPathObject *o = xmlXPathEvalExpression(BAD_CAST expr, b->ctx);
    double v;

    assert_non_null(o);
    v = xmlXPathCastToNumber(o);
    xmlXPathFreeObject(o);
    return v;
}

static void assert_count(struct built *b, const char *path, int want)
{
    char expr[256];
    double got;

    snprintf(expr, sizeof(expr), "count(%s)", path);
    got = xn(b, expr);
    if ((int)got != want)
        fail_msg("%s: got %d, want %d\n%s", expr, (int)got, want, b->xml);
}

static void test_skeleton_shared(void **state)
{
    struct part_profile *p = profile_new(PART_MODE_SHARED, NULL);
    const unsigned pool[] = {9, 7, 2, 3, 4, 5, 6, 3};
    struct part_placement placement = {.cpus = pool, .n = sizeof(pool) / sizeof(pool[0])};
    struct built b;

    p->cap = 4.0;
    build(p, "kvm", &placement, &b);
    assert_xs(&b, "/domain/@type", "kvm");
    assert_count(&b, "/domain/name", 1);
    assert_xs(&b, "/domain/name", "prod-vm");
    assert_xs(&b, "/domain/os/type", "hvm");
    assert_xs(&b, "/domain/vcpu", "8");
    assert_xs(&b, "/domain/vcpu/@current", "2");
    assert_xs(&b, "/domain/vcpu/@placement", "static");
    assert_xs(&b, "/domain/vcpu/@cpuset", "2-7,9");
    assert_xs(&b, "/domain/memory", "16384");
    assert_xs(&b, "/domain/memory/@unit", "MiB");
    assert_xs(&b, "/domain/currentMemory", "4096");
    assert_xs(&b, "/domain/currentMemory/@unit", "MiB");
    assert_count(&b, "/domain/maxMemory", 0);
    assert_count(&b, "/domain/devices/memballoon", 1);
    assert_xs(&b, "/domain/devices/memballoon/@model", "virtio");
    assert_xs(&b, "/domain/devices/memballoon/stats/@period", "2");
    assert_xs(&b, "/domain/cputune/shares", "3000");
    assert_xs(&b, "/domain/cputune/global_period", "100000");
    assert_xs(&b, "/domain/cputune/global_quota", "400000");
    assert_xs(&b, "/domain/cputune/emulatorpin/@cpuset", "2-7,9");
    assert_count(&b, "/domain/cputune/vcpupin", 0);
    built_free(&b);
    part_profile_free(p);
}

static void test_skeleton_plain(void **state)
{
    struct part_profile *p = profile_new(PART_MODE_SHARED, NULL);
    struct built b;

    build(p, "test", NULL, &b);
    assert_xs(&b, "/domain/@type", "test");
    assert_count(&b, "/domain/vcpu/@cpuset", 0);
    assert_count(&b, "/domain/cputune/global_period", 0);
    assert_count(&b, "/domain/cputune/global_quota", 0);
    assert_count(&b, "/domain/cputune/emulatorpin", 0);
    assert_xs(&b, "/domain/cputune/shares", "3000");
    built_free(&b);
    part_profile_free(p);
}

static void test_cap_rounding(void **state)
{
    struct part_profile *p = profile_new(PART_MODE_SHARED, NULL);
    struct built b;

    p->cap = PART_CAP_MIN;
    build(p, "kvm", NULL, &b);
    assert_xs(&b, "/domain/cputune/global_quota", "1000");
    built_free(&b);
    p->cap = 2.333336;
    build(p, "kvm", NULL, &b);
    assert_xs(&b, "/domain/cputune/global_quota", "233334");
    built_free(&b);
    part_profile_free(p);
}

static void test_template_kept(void **state)
{
    struct part_profile *p = profile_new(PART_MODE_SHARED, "template.xml");
    const unsigned pool[] = {2, 3, 4};
    struct part_placement placement = {.cpus = pool, .n = 3};
    struct built b;

    p->cap = 1.5;
    build(p, "test", &placement, &b);
    /* the template's type wins over the skeleton's */
    assert_xs(&b, "/domain/@type", "kvm");
    assert_count(&b, "/domain/name", 1);
    assert_xs(&b, "/domain/name", "prod-vm");
    assert_xs(&b, "/domain/uuid", "5f1e0d39-3c4b-4f7a-9a7c-2a9f3a1c0b11");
    assert_xs(&b, "/domain/description", "web tier");
    assert_xs(&b, "/domain/iothreads", "1");
    assert_xs(&b, "/domain/os/type/@machine", "q35");
    assert_xs(&b, "/domain/os/boot/@dev", "hd");
    assert_count(&b, "/domain/features/acpi", 1);
    assert_xs(&b, "/domain/on_poweroff", "destroy");
    assert_xs(&b, "/domain/devices/disk/source/@file", "/var/lib/libvirt/images/web.qcow2");
    assert_xs(&b, "/domain/devices/interface/source/@network", "default");
    /* replaced, not duplicated */
    assert_count(&b, "/domain/memory", 1);
    assert_xs(&b, "/domain/memory", "16384");
    assert_xs(&b, "/domain/memory/@unit", "MiB");
    assert_count(&b, "/domain/currentMemory", 1);
    assert_xs(&b, "/domain/currentMemory", "4096");
    assert_count(&b, "/domain/vcpu", 1);
    assert_xs(&b, "/domain/vcpu", "8");
    assert_xs(&b, "/domain/vcpu/@placement", "static");
    assert_xs(&b, "/domain/vcpu/@cpuset", "2-4");
    assert_count(&b, "/domain/devices/memballoon", 1);
    assert_xs(&b, "/domain/devices/memballoon/@model", "virtio");
    assert_count(&b, "/domain/cputune", 1);
    assert_count(&b, "/domain/cputune/shares", 1);
    assert_xs(&b, "/domain/cputune/shares", "3000");
    assert_count(&b, "/domain/cputune/period", 0);
    assert_count(&b, "/domain/cputune/quota", 0);
    assert_count(&b, "/domain/cputune/global_period", 1);
    assert_count(&b, "/domain/cputune/global_quota", 1);
    assert_xs(&b, "/domain/cputune/global_quota", "150000");
    assert_count(&b, "/domain/cputune/vcpupin", 0);
    assert_count(&b, "/domain/cputune/emulatorpin", 1);
    assert_xs(&b, "/domain/cputune/emulatorpin/@cpuset", "2-4");
    assert_xs(&b, "/domain/cputune/iothreadpin/@cpuset", "3");
    built_free(&b);
    part_profile_free(p);
}

static void test_template_cap_none(void **state)
{
    struct part_profile *p = profile_new(PART_MODE_SHARED, "template.xml");
    struct built b;

    build(p, "kvm", NULL, &b);
    assert_count(&b, "/domain/cputune/global_quota", 0);
    assert_count(&b, "/domain/cputune/global_period", 0);
    assert_count(&b, "/domain/cputune/emulatorpin", 0);
    assert_count(&b, "/domain/vcpu/@cpuset", 0);
    assert_xs(&b, "/domain/cputune/iothreadpin/@iothread", "1");
    built_free(&b);
    part_profile_free(p);
}

static void test_template_minimal(void **state)
{
    struct part_profile *p = profile_new(PART_MODE_SHARED, "minimal.xml");
    struct built b;

    build(p, "kvm", NULL, &b);
    assert_xs(&b, "name(/domain/*[1])", "name");
    assert_xs(&b, "/domain/name", "prod-vm");
    assert_xs(&b, "/domain/memory", "16384");
    assert_xs(&b, "/domain/devices/memballoon/@model", "virtio");
    assert_xs(&b, "/domain/os/type", "hvm");
    built_free(&b);
    part_profile_free(p);
}

static void test_dedicated(void **state)
{
    struct part_profile *p = profile_new(PART_MODE_DEDICATED, NULL);
    const unsigned cpus[] = {6, 7, 4, 5};
    struct part_placement placement = {.cpus = cpus, .n = 4};
    struct built b;
    char expr[128];

    p->proc_initial = 4;
    p->proc_reserved = 4;
    build(p, "kvm", &placement, &b);
    assert_xs(&b, "/domain/vcpu", "4");
    assert_count(&b, "/domain/vcpu/@cpuset", 0);
    assert_count(&b, "/domain/cputune/shares", 0);
    assert_count(&b, "/domain/cputune/emulatorpin", 0);
    assert_count(&b, "/domain/cputune/vcpupin", 4);
    for (unsigned i = 0; i < 4; i++) {
        char want[16];
        snprintf(expr, sizeof(expr), "/domain/cputune/vcpupin[@vcpu='%u']/@cpuset", i);
        snprintf(want, sizeof(want), "%u", cpus[i]);
        assert_xs(&b, expr, want);
    }
    built_free(&b);
    part_profile_free(p);
}

static void test_dedicated_template(void **state)
{
    struct part_profile *p = profile_new(PART_MODE_DEDICATED, "template.xml");
    const unsigned cpus[] = {6, 7};
    struct part_placement placement = {.cpus = cpus, .n = 2};
    struct built b;

    p->proc_initial = 2;
    p->proc_reserved = 2;
    build(p, "kvm", &placement, &b);
    assert_count(&b, "/domain/cputune/vcpupin", 2);
    assert_xs(&b, "/domain/cputune/vcpupin[@vcpu='0']/@cpuset", "6");
    assert_xs(&b, "/domain/cputune/vcpupin[@vcpu='1']/@cpuset", "7");
    assert_count(&b, "/domain/cputune/shares", 0);
    assert_count(&b, "/domain/cputune/emulatorpin", 0);
    built_free(&b);
    part_profile_free(p);
}

static void test_name_escaped(void **state)
{
    struct part_profile *p = profile_new(PART_MODE_SHARED, NULL);
    struct built b;

    free(p->domain_name);
    p->domain_name = strdup("a&b<c>");
    build(p, "kvm", NULL, &b);
    assert_xs(&b, "/domain/name", "a&b<c>");
    built_free(&b);
    part_profile_free(p);
}

/* Every domain partd defines carries its mark, naming the partition (not
 * the domain: an adopted domain is never defined). */
static void test_mark(void **state)
{
    struct part_profile *p = profile_new(PART_MODE_SHARED, NULL);
    struct built b;

    build(p, "kvm", NULL, &b);
    assert_count(&b, "/domain/metadata", 1);
    assert_count(&b, "/domain/metadata/*", 1);
    assert_count(&b, "/domain/metadata/p:partition", 1);
    assert_xs(&b, "/domain/metadata/p:partition/@name", "prod");
    assert_count(&b, "/domain/metadata/p:partition/@*", 1);
    assert_non_null(strstr(b.xml, "<partd:partition xmlns:partd=\"" PART_DOMXML_MARK_NS "\""));
    built_free(&b);
    part_profile_free(p);
}

static void test_mark_template(void **state)
{
    struct part_profile *p = profile_new(PART_MODE_SHARED, "template-metadata.xml");
    struct built b;

    build(p, "kvm", NULL, &b);
    assert_count(&b, "/domain/metadata", 1);
    assert_xs(&b, "/domain/metadata/app:info", "kept");
    assert_xs(&b, "/domain/metadata/app:info/@tier", "web");
    /* the copied mark for "other" is gone: one mark, this partition's */
    assert_count(&b, "//p:*", 1);
    assert_xs(&b, "/domain/metadata/p:partition/@name", "prod");
    built_free(&b);
    /* a template without <metadata> gets one */
    part_profile_free(p);
    p = profile_new(PART_MODE_SHARED, "template.xml");
    build(p, "kvm", NULL, &b);
    assert_xs(&b, "/domain/metadata/p:partition/@name", "prod");
    assert_xs(&b, "/domain/description", "web tier");
    built_free(&b);
    part_profile_free(p);
}

/* The template's text is read by part_hostpath_load(), before the
 * manager's lock: building never opens the file, and refuses a profile
 * whose template was not read. */
static void test_template_not_read(void **state)
{
    struct part_profile *p = profile_new(PART_MODE_SHARED, "no-such-file.xml");
    struct part_error err = {0};
    char *xml = NULL;

    assert_null(p->domain_template_xml);
    assert_int_equal(part_domxml_build(p, "kvm", NULL, &xml, &err), -EINVAL);
    assert_null(xml);
    assert_string_equal(err.field, "domain.template");
    assert_non_null(strstr(err.message, "no-such-file.xml has not been read"));
    part_profile_free(p);

    p = profile_new(PART_MODE_SHARED, "template.xml"); /* the text, not the file, counts */
    free(p->domain_template);
    p->domain_template = strdup("/nonexistent/template.xml");
    struct built b;
    build(p, "kvm", NULL, &b);
    built_free(&b);
    part_profile_free(p);
}

static void test_template_not_domain(void **state)
{
    const char *files[] = {"not-domain.xml", "not-xml.xml"};

    for (size_t i = 0; i < 2; i++) {
        struct part_profile *p = profile_new(PART_MODE_SHARED, files[i]);
        struct part_error err = {0};
        char *xml = NULL;

        assert_int_equal(part_domxml_build(p, "kvm", NULL, &xml, &err), -EINVAL);
        assert_null(xml);
        assert_string_equal(err.field, "domain.template");
        assert_non_null(strstr(err.message, files[i]));
        assert_non_null(strstr(err.message, "is not a libvirt domain XML"));
        part_profile_free(p);
    }
}

/* Generated domains (boot) */

/* A TCG guest booting a kernel, as the integration tests run them. */
static struct part_profile *profile_kernel(void)
{
    struct part_profile *p = profile_new(PART_MODE_SHARED, NULL);

    p->proc_initial = 1;
    p->proc_reserved = 4;
    p->boot = PART_BOOT_KERNEL;
    p->boot_kernel = strdup("/srv/guest/vmlinuz");
    p->boot_initrd = strdup("/srv/guest/initrd.img");
    p->boot_cmdline = strdup("console=ttyS0 burn=1 a<b&c");
    p->serial_log = strdup("/var/log/partd/prod.log");
    snprintf(p->domain_type, sizeof(p->domain_type), "qemu");
    p->guest_agent = true;
    assert_true(p->boot_kernel && p->boot_initrd && p->boot_cmdline && p->serial_log);
    return p;
}

static void test_generated_kernel_tcg(void **state)
{
    struct part_profile *p = profile_kernel();
    const unsigned pool[] = {1};
    struct part_placement placement = {.cpus = pool, .n = 1};
    struct built b;

    build(p, "kvm", &placement, &b);
    /* the profile's type wins over the driver's default */
    assert_xs(&b, "/domain/@type", "qemu");
    assert_xs(&b, "/domain/name", "prod-vm");
    assert_count(&b, "/domain/name", 1);
    assert_xs(&b, "/domain/vcpu", "4");
    assert_xs(&b, "/domain/vcpu/@current", "1");
    assert_xs(&b, "/domain/vcpu/@cpuset", "1");
    assert_xs(&b, "/domain/memory", "16384");
    assert_xs(&b, "/domain/currentMemory", "4096");
    assert_xs(&b, "/domain/cputune/shares", "3000");
    assert_xs(&b, "/domain/cputune/emulatorpin/@cpuset", "1");
    assert_count(&b, "/domain/os", 1);
    assert_xs(&b, "/domain/os/type", "hvm");
    assert_xs(&b, "/domain/os/type/@machine", "q35");
    assert_xs(&b, "/domain/os/kernel", "/srv/guest/vmlinuz");
    assert_xs(&b, "/domain/os/initrd", "/srv/guest/initrd.img");
    assert_xs(&b, "/domain/os/cmdline", "console=ttyS0 burn=1 a<b&c");
    assert_count(&b, "/domain/os/boot", 0);
    assert_count(&b, "/domain/features/acpi", 1);
    assert_count(&b, "/domain/features/apic", 1);
    assert_count(&b, "/domain/cpu", 0); /* TCG: its own model */
    assert_xs(&b, "/domain/clock/@offset", "utc");
    assert_xs(&b, "/domain/on_poweroff", "destroy");
    assert_xs(&b, "/domain/on_crash", "destroy");
    assert_count(&b, "/domain/devices", 1);
    assert_count(&b, "/domain/devices/disk", 0);
    assert_count(&b, "/domain/devices/interface", 0);
    assert_count(&b, "/domain/devices/serial", 1);
    assert_xs(&b, "/domain/devices/serial/@type", "file");
    assert_xs(&b, "/domain/devices/serial/source/@path", "/var/log/partd/prod.log");
    assert_xs(&b, "/domain/devices/serial/source/@append", "on");
    assert_xs(&b, "/domain/devices/serial/target/@port", "0");
    assert_count(&b, "/domain/devices/console", 1);
    assert_xs(&b, "/domain/devices/console/@type", "file");
    assert_xs(&b, "/domain/devices/console/source/@path", "/var/log/partd/prod.log");
    assert_xs(&b, "/domain/devices/console/target/@type", "serial");
    assert_xs(&b, "/domain/devices/console/target/@port", "0");
    assert_count(&b, "/domain/devices/channel", 1);
    assert_xs(&b, "/domain/devices/channel/@type", "unix");
    assert_xs(&b, "/domain/devices/channel/target/@type", "virtio");
    assert_xs(&b, "/domain/devices/channel/target/@name", "org.qemu.guest_agent.0");
    assert_count(&b, "/domain/devices/memballoon", 1);
    assert_xs(&b, "/domain/devices/memballoon/@model", "virtio");
    assert_xs(&b, "/domain/devices/memballoon/stats/@period", "2");
    assert_xs(&b, "name(/domain/devices/*[last()])", "memballoon");
    assert_count(&b, "/domain/devices/controller", 1);
    assert_xs(&b, "/domain/devices/controller[@type='usb']/@model", "none");
    assert_count(&b, "/domain/devices/graphics", 0);
    assert_count(&b, "/domain/devices/video", 0);
    /* libvirt-ordered enough for a person: name first, devices last */
    assert_xs(&b, "name(/domain/*[1])", "name");
    assert_xs(&b, "name(/domain/*[last()])", "devices");
    built_free(&b);
    part_profile_free(p);
}

static void test_generated_disk_kvm(void **state)
{
    struct part_profile *p = profile_new(PART_MODE_DEDICATED, NULL);
    const unsigned cpus[] = {6, 7};
    struct part_placement placement = {.cpus = cpus, .n = 2};
    struct built b;

    p->proc_initial = p->proc_reserved = 2;
    p->boot = PART_BOOT_DISK;
    p->boot_disk = strdup("/var/lib/partd/db.qcow2");
    p->boot_disk_format = PART_DISK_QCOW2;
    p->net = PART_NET_NETWORK;
    p->net_source = strdup("default");
    snprintf(p->machine, sizeof(p->machine), "pc-q35-7.2");
    assert_true(p->boot_disk && p->net_source);
    build(p, "kvm", &placement, &b);
    assert_xs(&b, "/domain/@type", "kvm");
    assert_xs(&b, "/domain/os/type/@machine", "pc-q35-7.2");
    assert_xs(&b, "/domain/os/boot/@dev", "hd");
    assert_count(&b, "/domain/os/kernel", 0);
    assert_count(&b, "/domain/os/initrd", 0);
    assert_count(&b, "/domain/os/cmdline", 0);
    assert_xs(&b, "/domain/cpu/@mode", "host-passthrough");
    assert_count(&b, "/domain/devices/disk", 1);
    assert_xs(&b, "/domain/devices/disk/@type", "file");
    assert_xs(&b, "/domain/devices/disk/@device", "disk");
    assert_xs(&b, "/domain/devices/disk/driver/@name", "qemu");
    assert_xs(&b, "/domain/devices/disk/driver/@type", "qcow2");
    assert_xs(&b, "/domain/devices/disk/source/@file", "/var/lib/partd/db.qcow2");
    assert_xs(&b, "/domain/devices/disk/target/@dev", "vda");
    assert_xs(&b, "/domain/devices/disk/target/@bus", "virtio");
    assert_count(&b, "/domain/devices/interface", 1);
    assert_xs(&b, "/domain/devices/interface/@type", "network");
    assert_xs(&b, "/domain/devices/interface/source/@network", "default");
    assert_xs(&b, "/domain/devices/interface/model/@type", "virtio");
    assert_count(&b, "/domain/devices/serial", 0);
    assert_count(&b, "/domain/devices/console", 0);
    assert_count(&b, "/domain/devices/channel", 0);
    assert_count(&b, "/domain/cputune/vcpupin", 2);
    assert_xs(&b, "/domain/cputune/vcpupin[@vcpu='1']/@cpuset", "7");
    built_free(&b);

    /* raw, on a bridge, the driver's default type and q35 */
    free(p->boot_disk);
    p->boot_disk = strdup("/srv/root.img");
    p->boot_disk_format = PART_DISK_RAW;
    p->net = PART_NET_BRIDGE;
    free(p->net_source);
    p->net_source = strdup("br0");
    p->machine[0] = '\0';
    build(p, "test", NULL, &b);
    assert_xs(&b, "/domain/@type", "test");
    assert_count(&b, "/domain/cpu", 0);
    assert_xs(&b, "/domain/os/type/@machine", "q35");
    assert_xs(&b, "/domain/devices/disk/driver/@type", "raw");
    assert_xs(&b, "/domain/devices/disk/source/@file", "/srv/root.img");
    assert_xs(&b, "/domain/devices/interface/@type", "bridge");
    assert_xs(&b, "/domain/devices/interface/source/@bridge", "br0");
    assert_count(&b, "/domain/devices/interface/source/@network", 0);
    built_free(&b);
    part_profile_free(p);
}

static void test_generated_kernel_only(void **state)
{
    struct part_profile *p = profile_kernel();
    struct built b;

    free(p->boot_initrd);
    free(p->boot_cmdline);
    free(p->serial_log);
    p->boot_initrd = p->boot_cmdline = p->serial_log = NULL;
    p->domain_type[0] = '\0';
    p->guest_agent = false;
    build(p, NULL, NULL, &b);
    assert_xs(&b, "/domain/@type", "kvm"); /* neither profile nor driver says */
    assert_xs(&b, "/domain/cpu/@mode", "host-passthrough");
    assert_xs(&b, "/domain/os/kernel", "/srv/guest/vmlinuz");
    assert_count(&b, "/domain/os/initrd", 0);
    assert_count(&b, "/domain/os/cmdline", 0);
    assert_count(&b, "/domain/devices/serial", 0);
    assert_count(&b, "/domain/devices/channel", 0);
    assert_count(&b, "/domain/devices/*", 2); /* the usb controller "none", the balloon */
    built_free(&b);
    part_profile_free(p);
}

/* guest_agent outside generated domains: a skeleton gets the channel; a
 * template gets it unless it has one. */
static void test_agent_channel(void **state)
{
    struct part_profile *p = profile_new(PART_MODE_SHARED, NULL);
    struct built b;

    p->guest_agent = true;
    build(p, "test", NULL, &b);
    assert_xs(&b, "/domain/@type", "test");
    assert_count(&b, "/domain/devices/channel", 1);
    assert_xs(&b, "/domain/devices/channel/target/@name", "org.qemu.guest_agent.0");
    assert_count(&b, "/domain/os/kernel", 0);
    assert_count(&b, "/domain/features", 0); /* still the skeleton */
    built_free(&b);
    part_profile_free(p);

    p = profile_new(PART_MODE_SHARED, "template.xml");
    p->guest_agent = true;
    build(p, "kvm", NULL, &b);
    assert_count(&b, "/domain/devices/channel", 1);
    assert_xs(&b, "/domain/devices/channel/target/@name", "org.qemu.guest_agent.0");
    assert_count(&b, "/domain/devices/disk", 1); /* the template's, kept */
    built_free(&b);
    part_profile_free(p);

    p = profile_new(PART_MODE_SHARED, "template-agent.xml");
    p->guest_agent = true;
    build(p, "kvm", NULL, &b);
    assert_count(&b, "/domain/devices/channel", 2);
    assert_count(&b, "/domain/devices/channel/target[@name='org.qemu.guest_agent.0']", 1);
    assert_xs(&b, "/domain/devices/channel[target/@name='org.qemu.guest_agent.0']/source/@path",
              "/run/agent.sock");
    built_free(&b);
    /* and without guest_agent, a template's channel stays all the same */
    p->guest_agent = false;
    build(p, "kvm", NULL, &b);
    assert_count(&b, "/domain/devices/channel", 2);
    built_free(&b);
    part_profile_free(p);
}

/* The profile keys of generated domains mean nothing to a template: it
 * says itself how it boots (the profile parser refuses them together). */
static void test_template_wins_over_boot(void **state)
{
    struct part_profile *p = profile_new(PART_MODE_SHARED, "template.xml");
    struct built b;

    p->boot = PART_BOOT_KERNEL;
    p->boot_kernel = strdup("/k");
    build(p, "kvm", NULL, &b);
    assert_count(&b, "/domain/os/kernel", 0);
    assert_xs(&b, "/domain/os/boot/@dev", "hd");
    built_free(&b);
    part_profile_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_skeleton_shared),     cmocka_unit_test(test_skeleton_plain),
        cmocka_unit_test(test_cap_rounding),        cmocka_unit_test(test_template_kept),
        cmocka_unit_test(test_template_cap_none),   cmocka_unit_test(test_template_minimal),
        cmocka_unit_test(test_dedicated),           cmocka_unit_test(test_dedicated_template),
        cmocka_unit_test(test_name_escaped),        cmocka_unit_test(test_mark),
        cmocka_unit_test(test_mark_template),       cmocka_unit_test(test_template_not_read),
        cmocka_unit_test(test_template_not_domain), cmocka_unit_test(test_generated_kernel_tcg),
        cmocka_unit_test(test_generated_disk_kvm),  cmocka_unit_test(test_generated_kernel_only),
        cmocka_unit_test(test_agent_channel),       cmocka_unit_test(test_template_wins_over_boot),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
