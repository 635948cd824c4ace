/* Profiles: the golden files under config/profile/ (each fail-NAME.json
 * fails with exactly the message in fail-NAME.ok, each pass-NAME.json loads
 * and survives a round trip through JSON), defaults, the keys of generated
 * domains, validation, copies. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <part/profile.h>

#include "golden.h"

#define FIXTURES       "unit/config/profile"
#define MIN_FAIL_FILES 50
#define MIN_PASS_FILES 12

/* Parses text as a profile that would be in file; fails the test if it is
 * invalid. */
static struct part_profile *parse_ok(const char *text, const char *file)
{
    struct part_profile *p = NULL;
    struct part_error err;
    char buf[1024];

    if (part_profile_parse(text, strlen(text), file, &p, &err) < 0)
        fail_msg("unexpected error: %s", part_error_format(&err, buf, sizeof(buf)));
    assert_non_null(p);
    return p;
}

static struct part_profile *load_ok(const char *path)
{
    struct part_profile *p = NULL;
    struct part_error err;
    char buf[1024];

    if (part_profile_load(path, &p, &err) < 0)
        fail_msg("unexpected error: %s", part_error_format(&err, buf, sizeof(buf)));
    assert_non_null(p);
    return p;
}

static void assert_same_string(const char *a, const char *b)
{
    if (!a || !b)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

/* Every field of a equals b's. */
static void assert_profile_equal(const struct part_profile *a, const struct part_profile *b)
{
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->mode, b->mode);
    assert_int_equal(a->proc_initial, b->proc_initial);
    assert_int_equal(a->proc_min, b->proc_min);
    assert_int_equal(a->proc_reserved, b->proc_reserved);
    assert_int_equal(a->weight_initial, b->weight_initial);
    assert_int_equal(a->weight_min, b->weight_min);
    assert_int_equal(a->weight_max, b->weight_max);
    assert_true(a->cap == b->cap);
    assert_int_equal(a->mem_initial, b->mem_initial);
    assert_int_equal(a->mem_min, b->mem_min);
    assert_int_equal(a->mem_reserved, b->mem_reserved);
    assert_string_equal(a->group, b->group);
    assert_int_equal(a->autostart, b->autostart);
    assert_same_string(a->domain_template, b->domain_template);
    assert_same_string(a->domain_template_xml, b->domain_template_xml);
    assert_same_string(a->domain_name, b->domain_name);
    assert_int_equal(a->adopt, b->adopt);
    assert_int_equal(a->managed, b->managed);
    assert_true(a->defined_capacity == b->defined_capacity);
    assert_int_equal(a->boot, b->boot);
    assert_same_string(a->boot_kernel, b->boot_kernel);
    assert_same_string(a->boot_initrd, b->boot_initrd);
    assert_same_string(a->boot_cmdline, b->boot_cmdline);
    assert_same_string(a->boot_disk, b->boot_disk);
    assert_int_equal(a->boot_disk_format, b->boot_disk_format);
    assert_int_equal(a->net, b->net);
    assert_same_string(a->net_source, b->net_source);
    assert_same_string(a->serial_log, b->serial_log);
    assert_string_equal(a->domain_type, b->domain_type);
    assert_string_equal(a->machine, b->machine);
    assert_int_equal(a->guest_agent, b->guest_agent);
}

/* Golden files */

/* Loads the profile at path, and frees it. */
static int load_and_free(const char *path, struct part_error *err)
{
    struct part_profile *p = NULL;
    int r = part_profile_load(path, &p, err);

    if (r >= 0)
        part_profile_free(p);
    else
        assert_null(p);
    return r;
}

static void test_fail_fixtures(void **state)
{
    golden_check_failures(FIXTURES, MIN_FAIL_FILES, load_and_free);
}

static void check_pass(const char *path)
{
    part_profile_free(load_ok(path));
}

static void test_pass_fixtures(void **state)
{
    golden_check_passes(FIXTURES, MIN_PASS_FILES, check_pass);
}

/* parse(dumps(to_json(p))) == p for every pass fixture. */
static void check_round_trip(const char *path)
{
    struct part_profile *p = load_ok(path), *q;
    json_t *j = part_profile_to_json(p);
    assert_non_null(j);
    char *text = json_dumps(j, JSON_INDENT(2));
    assert_non_null(text);
    q = parse_ok(text, NULL);
    assert_profile_equal(p, q);
    part_profile_free(q);
    free(text);
    json_decref(j);
    part_profile_free(p);
}

static void test_round_trip(void **state)
{
    golden_check_passes(FIXTURES, MIN_PASS_FILES, check_round_trip);
}

/* Names */

static void test_name_valid(void **state)
{
    static const struct {
        const char *name;
        bool valid;
    } cases[] = {
        {"prod", true},
        {"a", true},
        {"_", true},
        {"0", true},
        {"web-01.prod_x", true},
        {"A.B-C_D", true},
        {"123456789012345678901234567890123456789012345678901234567890123", true},   /* 63 */
        {"1234567890123456789012345678901234567890123456789012345678901234", false}, /* 64 */
        {"", false},
        {".hidden", false},
        {"-opt", false},
        {"web servers", false},
        {"a/b", false},
        {"..", false},
        {"caf\xc3\xa9", false},
        {"tab\t", false},
        {"x:y", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (part_name_valid(cases[i].name) != cases[i].valid)
            fail_msg("part_name_valid(\"%s\") is not %s", cases[i].name,
                     cases[i].valid ? "true" : "false");
}

/* Defaults */

static const char minimal[] = "{\"name\": \"m\", \"processors\": {\"initial\": 3},"
                              " \"memory\": {\"initial\": \"2GiB\"}}";

static void test_defaults_processors(void **state)
{
    struct part_profile *p = parse_ok(minimal, NULL);
    assert_int_equal(p->mode, PART_MODE_SHARED);
    assert_int_equal(p->proc_initial, 3);
    assert_int_equal(p->proc_min, 1);
    assert_int_equal(p->proc_reserved, 3);
    part_profile_free(p);
}

static void test_defaults_weight_and_cap(void **state)
{
    struct part_profile *p = parse_ok(minimal, NULL);
    assert_int_equal(p->weight_initial, 100);
    assert_int_equal(p->weight_min, 100);
    assert_int_equal(p->weight_max, 100);
    assert_true(p->cap == PART_CAP_NONE);
    part_profile_free(p);
}

static void test_defaults_weight_range_follows_initial(void **state)
{
    struct part_profile *p = parse_ok("{\"name\": \"m\", \"processors\": {\"initial\": 1},"
                                      " \"weight\": {\"initial\": 300},"
                                      " \"memory\": {\"initial\": 1024}}",
                                      NULL);
    assert_int_equal(p->weight_initial, 300);
    assert_int_equal(p->weight_min, 300);
    assert_int_equal(p->weight_max, 300);
    part_profile_free(p);

    p = parse_ok("{\"name\": \"m\", \"processors\": {\"initial\": 1},"
                 " \"weight\": {\"initial\": 300, \"max\": 500},"
                 " \"memory\": {\"initial\": 1024}}",
                 NULL);
    assert_int_equal(p->weight_min, 300);
    assert_int_equal(p->weight_max, 500);
    part_profile_free(p);
}

static void test_defaults_memory(void **state)
{
    struct part_profile *p = parse_ok(minimal, NULL);
    assert_int_equal(p->mem_initial, 2048);
    assert_int_equal(p->mem_min, 2048);
    assert_int_equal(p->mem_reserved, 2048);
    part_profile_free(p);
}

static void test_defaults_domain_and_rest(void **state)
{
    struct part_profile *p = parse_ok(minimal, NULL);
    assert_string_equal(p->domain_name, "m");
    assert_false(p->adopt);
    assert_null(p->domain_template);
    assert_string_equal(p->group, "");
    assert_false(p->autostart);
    part_profile_free(p);
}

static void test_adopt(void **state)
{
    struct part_profile *p = load_ok(FIXTURES "/pass-adopt.json");
    assert_string_equal(p->name, "legacy");
    assert_string_equal(p->domain_name, "legacy-vm.example.com");
    assert_true(p->adopt);
    assert_null(p->domain_template);
    part_profile_free(p);
}

/* Host paths are kept as the profile wrote them: part_hostpath_load()
 * resolves them against partd.json's "paths", not the profile's directory. */
static void test_template_as_written(void **state)
{
    struct part_profile *p = load_ok(FIXTURES "/pass-shared-full.json");

    assert_string_equal(p->domain_template, "prod.xml");
    assert_null(p->domain_template_xml); /* read by part_hostpath_load() only */
    assert_false(p->adopt);
    assert_string_equal(p->domain_name, "prod");
    part_profile_free(p);

    p = parse_ok("{\"name\": \"t\", \"processors\": {\"initial\": 1},"
                 " \"memory\": {\"initial\": 1024}, \"domain\": {\"template\": \"../t.xml\"}}",
                 "/etc/partd/partitions.d/t.json");
    assert_string_equal(p->domain_template, "../t.xml");
    part_profile_free(p);
}

static void test_template_absolute_kept(void **state)
{
    struct part_profile *p = load_ok(FIXTURES "/pass-template-absolute.json");
    assert_string_equal(p->domain_template, "/etc/partd/templates/abs.xml");
    part_profile_free(p);
}

static void test_whole_reals_are_integers(void **state)
{
    struct part_profile *p = load_ok(FIXTURES "/pass-whole-reals.json");
    assert_int_equal(p->proc_initial, 2);
    assert_int_equal(p->weight_initial, 150);
    assert_int_equal(p->mem_initial, 1024);
    assert_true(p->cap == PART_CAP_NONE);
    part_profile_free(p);
}

static void expect_invalid(const struct part_profile *p, const char *field);

/* Generated domains: boot, network, serial_log, machine, guest_agent */

static void test_defaults_generated(void **state)
{
    struct part_profile *p = parse_ok(minimal, NULL);
    assert_int_equal(p->boot, PART_BOOT_NONE);
    assert_null(p->boot_kernel);
    assert_null(p->boot_initrd);
    assert_null(p->boot_cmdline);
    assert_null(p->boot_disk);
    assert_int_equal(p->net, PART_NET_NONE);
    assert_null(p->net_source);
    assert_null(p->serial_log);
    assert_string_equal(p->domain_type, "");
    assert_string_equal(p->machine, "");
    assert_false(p->guest_agent);
    part_profile_free(p);
}

static void test_boot_kernel(void **state)
{
    struct part_profile *p = load_ok(FIXTURES "/pass-boot-kernel-tcg.json");
    assert_int_equal(p->boot, PART_BOOT_KERNEL);
    assert_string_equal(p->boot_kernel, "vmlinuz"); /* as written */
    assert_string_equal(p->boot_initrd, "initrd.img");
    assert_string_equal(p->boot_cmdline, "console=ttyS0 burn=1"); /* not a path */
    assert_null(p->boot_disk);
    assert_int_equal(p->net, PART_NET_NONE);
    assert_null(p->net_source);
    assert_string_equal(p->serial_log, "tcg.console.log");
    assert_true(p->guest_agent);
    assert_string_equal(p->domain_type, "qemu");
    assert_string_equal(p->machine, "q35");
    assert_null(p->domain_template);
    assert_false(p->adopt);
    part_profile_free(p);
}

static void test_boot_disk(void **state)
{
    struct part_profile *p = load_ok(FIXTURES "/pass-boot-disk.json");
    assert_int_equal(p->boot, PART_BOOT_DISK);
    assert_string_equal(p->boot_disk, "web.QCOW2");
    assert_int_equal(p->boot_disk_format, PART_DISK_QCOW2); /* by its name, in any case */
    assert_null(p->boot_kernel);
    assert_int_equal(p->net, PART_NET_NETWORK);
    assert_string_equal(p->net_source, "default");
    assert_string_equal(p->serial_log, "web.log");
    assert_string_equal(p->domain_type, "");
    assert_string_equal(p->machine, "");
    assert_false(p->guest_agent);
    part_profile_free(p);

    p = load_ok(FIXTURES "/pass-boot-disk-format.json");
    assert_int_equal(p->boot, PART_BOOT_DISK);
    assert_string_equal(p->boot_disk, "/srv/images/db-root");
    assert_int_equal(p->boot_disk_format, PART_DISK_RAW);
    assert_int_equal(p->net, PART_NET_BRIDGE);
    assert_string_equal(p->net_source, "br0");
    assert_string_equal(p->domain_type, "kvm");
    assert_string_equal(p->machine, "");
    part_profile_free(p);
}

static void test_boot_disk_format_by_name(void **state)
{
    static const struct {
        const char *disk;
        enum part_disk_format format;
    } cases[] = {
        {"a.qcow2", PART_DISK_QCOW2}, {"a.raw", PART_DISK_RAW},          {"a.img", PART_DISK_RAW},
        {"a.IMG", PART_DISK_RAW},     {"/x/b.c.qcow2", PART_DISK_QCOW2},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *text;
        assert_true(asprintf(&text,
                             "{\"name\": \"d\", \"processors\": {\"initial\": 1},"
                             " \"memory\": {\"initial\": 512}, \"boot\": {\"disk\": \"%s\"}}",
                             cases[i].disk) > 0);
        struct part_profile *p = parse_ok(text, NULL);
        assert_int_equal(p->boot_disk_format, cases[i].format);
        assert_string_equal(p->boot_disk, cases[i].disk); /* as written */
        part_profile_free(p);
        free(text);
    }
}

static void test_guest_agent_anywhere(void **state)
{
    struct part_profile *p = load_ok(FIXTURES "/pass-guest-agent-adopt.json");
    assert_true(p->adopt);
    assert_true(p->guest_agent);
    assert_int_equal(p->net, PART_NET_NONE);
    part_profile_free(p);
    p = load_ok(FIXTURES "/pass-guest-agent-template.json");
    assert_non_null(p->domain_template);
    assert_false(p->guest_agent);
    part_profile_free(p);
}

/* What partd writes back names every new key it has, and nothing else. */
static void test_generated_to_json(void **state)
{
    struct part_profile *p = load_ok(FIXTURES "/pass-boot-kernel-tcg.json");
    json_t *j = part_profile_to_json(p), *boot, *machine;

    assert_non_null(j);
    boot = json_object_get(j, "boot");
    assert_true(json_is_object(boot));
    assert_int_equal(json_object_size(boot), 3);
    assert_string_equal(json_string_value(json_object_get(boot, "kernel")), "vmlinuz");
    assert_string_equal(json_string_value(json_object_get(boot, "cmdline")),
                        "console=ttyS0 burn=1");
    assert_string_equal(json_string_value(json_object_get(j, "network")), "none");
    assert_string_equal(json_string_value(json_object_get(j, "serial_log")), "tcg.console.log");
    assert_true(json_is_true(json_object_get(j, "guest_agent")));
    machine = json_object_get(j, "machine");
    assert_string_equal(json_string_value(json_object_get(machine, "type")), "qemu");
    assert_string_equal(json_string_value(json_object_get(machine, "machine")), "q35");
    json_decref(j);
    part_profile_free(p);

    p = load_ok(FIXTURES "/pass-boot-disk.json");
    j = part_profile_to_json(p);
    boot = json_object_get(j, "boot");
    assert_string_equal(json_string_value(json_object_get(boot, "format")), "qcow2");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "network"), "network")), "default");
    assert_null(json_object_get(j, "machine"));
    assert_true(json_is_false(json_object_get(j, "guest_agent")));
    json_decref(j);
    part_profile_free(p);

    /* without boot: none of the keys that need it */
    p = parse_ok(minimal, NULL);
    j = part_profile_to_json(p);
    assert_null(json_object_get(j, "boot"));
    assert_null(json_object_get(j, "network"));
    assert_null(json_object_get(j, "serial_log"));
    assert_null(json_object_get(j, "machine"));
    assert_true(json_is_false(json_object_get(j, "guest_agent")));
    json_decref(j);
    part_profile_free(p);
}

static void test_validate_generated(void **state)
{
    struct part_profile *p = load_ok(FIXTURES "/pass-boot-disk.json");
    assert_int_equal(part_profile_validate(p, NULL), 0);
    p->adopt = true;
    expect_invalid(p, "boot");
    p->adopt = false;
    p->domain_template = strdup("/t.xml");
    expect_invalid(p, "boot");
    free(p->domain_template);
    p->domain_template = NULL;
    p->boot = PART_BOOT_NONE; /* network and serial_log left without it */
    expect_invalid(p, "network");
    p->net = PART_NET_NONE;
    expect_invalid(p, "serial_log");
    free(p->serial_log);
    p->serial_log = NULL;
    snprintf(p->machine, sizeof(p->machine), "q35");
    expect_invalid(p, "machine");
    p->machine[0] = '\0';
    p->guest_agent = true; /* needs no boot */
    assert_int_equal(part_profile_validate(p, NULL), 0);
    part_profile_free(p);
}

/* Errors outside the golden files */

static void test_error_position_without_file(void **state)
{
    static const char body[] = "{\"name\": \"b\",\n \"processors\": {\"initial\": 0},"
                               " \"memory\": {\"initial\": 1024}}";
    struct part_profile *p = NULL;
    struct part_error err;
    char buf[1024];

    assert_int_equal(part_profile_parse(body, strlen(body), NULL, &p, &err), -EINVAL);
    assert_null(p);
    assert_string_equal(err.file, "");
    assert_string_equal(err.field, "processors.initial");
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 28);
    assert_string_equal(part_error_format(&err, buf, sizeof(buf)),
                        "processors.initial: 0 is out of range 1-1024");
}

static void test_error_reused(void **state)
{
    static const char a[] = "{\"name\": 1}", b[] = "\n\n{\"name\": \"x\"}";
    struct part_profile *p = NULL;
    struct part_error err;

    assert_int_equal(part_profile_parse(a, strlen(a), "a.json", &p, &err), -EINVAL);
    assert_int_equal(part_profile_parse(b, strlen(b), "b.json", &p, &err), -EINVAL);
    assert_string_equal(err.file, "b.json");
    assert_string_equal(err.field, "processors");
    assert_int_equal(err.line, 3);
    assert_int_equal(err.column, 1);
}

static void test_load_missing_file(void **state)
{
    struct part_profile *p = NULL;
    struct part_error err;
    char buf[1024];

    assert_int_equal(part_profile_load(FIXTURES "/no-such-file.json", &p, &err), -ENOENT);
    assert_null(p);
    assert_string_equal(part_error_format(&err, buf, sizeof(buf)),
                        FIXTURES "/no-such-file.json: cannot read: No such file or directory");
}

/* part_profile_validate() */

static void expect_invalid(const struct part_profile *p, const char *field)
{
    struct part_error err;
    part_error_clear(&err);
    assert_int_equal(part_profile_validate(p, &err), -EINVAL);
    assert_string_equal(err.field, field);
    assert_int_equal(strncmp(err.message, field, strlen(field)), 0);
}

static void test_validate_parsed(void **state)
{
    struct part_profile *p = load_ok(FIXTURES "/pass-shared-full.json");
    struct part_error err;
    assert_int_equal(part_profile_validate(p, &err), 0);
    part_profile_free(p);
}

static void test_validate_processors(void **state)
{
    struct part_profile *p = load_ok(FIXTURES "/pass-shared-full.json"); /* 2 <= 4 <= 8 */
    p->proc_min = 5;
    expect_invalid(p, "processors.min");
    p->proc_min = 4;
    p->proc_initial = 9;
    expect_invalid(p, "processors.initial");
    p->proc_reserved = 9;
    assert_int_equal(part_profile_validate(p, NULL), 0);
    part_profile_free(p);
}

static void test_validate_weight(void **state)
{
    struct part_profile *p = load_ok(FIXTURES "/pass-shared-full.json"); /* 100 <= 300 <= 600 */
    p->weight_min = 301;
    expect_invalid(p, "weight.min");
    p->weight_min = 100;
    p->weight_max = 299;
    expect_invalid(p, "weight.initial");
    part_profile_free(p);
}

static void test_validate_cap(void **state)
{
    struct part_profile *p = load_ok(FIXTURES "/pass-shared-full.json"); /* min 2 */
    p->cap = 0.01;
    expect_invalid(p, "cap");
    p->cap = 0.02;
    assert_int_equal(part_profile_validate(p, NULL), 0);
    p->cap = PART_CAP_NONE;
    assert_int_equal(part_profile_validate(p, NULL), 0);
    part_profile_free(p);
}

static void test_validate_memory(void **state)
{
    struct part_profile *p = load_ok(FIXTURES "/pass-shared-full.json"); /* 2 <= 4 <= 16 GiB */
    p->mem_min = 4097;
    expect_invalid(p, "memory.min");
    p->mem_min = 2048;
    p->mem_initial = 16385;
    expect_invalid(p, "memory.initial");
    part_profile_free(p);
}

/* part_profile_dup() */

static void test_dup_is_deep(void **state)
{
    struct part_profile *p = load_ok(FIXTURES "/pass-shared-full.json");
    p->domain_template_xml = strdup("<domain type='kvm'/>"); /* as part_hostpath_load() reads it */
    struct part_profile *d = part_profile_dup(p);
    char *tmpl = strdup(p->domain_template);

    assert_non_null(d);
    assert_profile_equal(p, d);
    assert_ptr_not_equal(d->domain_template, p->domain_template);
    assert_ptr_not_equal(d->domain_template_xml, p->domain_template_xml);
    json_t *j = part_profile_to_json(p); /* the text is no field */
    assert_int_equal(json_object_size(json_object_get(j, "domain")), 1);
    json_decref(j);
    assert_ptr_not_equal(d->domain_name, p->domain_name);
    p->domain_template[0] = 'X';
    p->domain_name[0] = 'X';
    assert_string_equal(d->domain_template, tmpl);
    assert_string_equal(d->domain_name, "prod");
    part_profile_free(p);
    assert_string_equal(d->domain_template, tmpl); /* still valid once p is gone */
    part_profile_free(d);
    free(tmpl);
}

static void test_dup_generated(void **state)
{
    struct part_profile *p = load_ok(FIXTURES "/pass-boot-kernel-tcg.json");
    struct part_profile *d = part_profile_dup(p);
    char *kernel = strdup(p->boot_kernel);

    assert_non_null(d);
    assert_profile_equal(p, d);
    assert_ptr_not_equal(d->boot_kernel, p->boot_kernel);
    assert_ptr_not_equal(d->boot_initrd, p->boot_initrd);
    assert_ptr_not_equal(d->boot_cmdline, p->boot_cmdline);
    assert_ptr_not_equal(d->serial_log, p->serial_log);
    part_profile_free(p);
    assert_string_equal(d->boot_kernel, kernel); /* still valid once p is gone */
    part_profile_free(d);
    free(kernel);

    p = load_ok(FIXTURES "/pass-boot-disk.json");
    d = part_profile_dup(p);
    assert_non_null(d);
    assert_profile_equal(p, d);
    assert_ptr_not_equal(d->boot_disk, p->boot_disk);
    assert_ptr_not_equal(d->net_source, p->net_source);
    part_profile_free(p);
    part_profile_free(d);
}

static void test_dup_without_template(void **state)
{
    struct part_profile *p = load_ok(FIXTURES "/pass-adopt.json");
    struct part_profile *d = part_profile_dup(p);
    assert_non_null(d);
    assert_null(d->domain_template);
    assert_profile_equal(p, d);
    part_profile_free(p);
    part_profile_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fail_fixtures),
        cmocka_unit_test(test_pass_fixtures),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_name_valid),
        cmocka_unit_test(test_defaults_processors),
        cmocka_unit_test(test_defaults_weight_and_cap),
        cmocka_unit_test(test_defaults_weight_range_follows_initial),
        cmocka_unit_test(test_defaults_memory),
        cmocka_unit_test(test_defaults_domain_and_rest),
        cmocka_unit_test(test_adopt),
        cmocka_unit_test(test_template_as_written),
        cmocka_unit_test(test_template_absolute_kept),
        cmocka_unit_test(test_whole_reals_are_integers),
        cmocka_unit_test(test_defaults_generated),
        cmocka_unit_test(test_boot_kernel),
        cmocka_unit_test(test_boot_disk),
        cmocka_unit_test(test_boot_disk_format_by_name),
        cmocka_unit_test(test_guest_agent_anywhere),
        cmocka_unit_test(test_generated_to_json),
        cmocka_unit_test(test_validate_generated),
        cmocka_unit_test(test_error_position_without_file),
        cmocka_unit_test(test_error_reused),
        cmocka_unit_test(test_load_missing_file),
        cmocka_unit_test(test_validate_parsed),
        cmocka_unit_test(test_validate_processors),
        cmocka_unit_test(test_validate_weight),
        cmocka_unit_test(test_validate_cap),
        cmocka_unit_test(test_validate_memory),
        cmocka_unit_test(test_dup_is_deep),
        cmocka_unit_test(test_dup_generated),
        cmocka_unit_test(test_dup_without_template),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
