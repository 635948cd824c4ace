/* The libvirt backend against libvirt's own test driver: each test opens a
 * fresh connection to tests/unit/hv/node.xml (8 CPUs, 16 GiB, one running
 * domain "existing" that partd did not define), so no test sees another's
 * changes. The ownership tests reach behind the backend (hv-libvirt.h) to
 * see a domain as libvirt has it and to mark one as an administrator would. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <libvirt/libvirt.h>

#include "golden.h"
#include "part/part.h"

#include "hv-libvirt.h" /* the connection, to look behind the backend */

static char *node_uri(void)
{
    const char *src = getenv("PART_SRCDIR");
    char *uri = NULL;

    assert_non_null(src);
    assert_int_not_equal(asprintf(&uri, "test://%s/tests/unit/hv/node.xml", src), -1);
    return uri;
}

static int setup(void **state)
{
    struct part_error err = {0};
    struct part_hv *hv = NULL;
    char *uri = node_uri();
    int r;

    r = part_hv_open(&part_hv_libvirt_ops, uri, false, &hv, &err);
    free(uri);
    if (r != 0) {
        print_error("open: %d %s\n", r, err.message);
        return -1;
    }
    *state = hv;
    return 0;
}

static int teardown(void **state)
{
    part_hv_close(*state);
    return 0;
}

static struct part_profile *profile_new(const char *name)
{
    struct part_profile *p = part_profile_new(name);

    assert_non_null(p);
    p->proc_initial = 2;
    p->proc_reserved = 8;
    p->weight_min = 1;
    p->weight_max = 999;
    p->mem_min = 512;
    p->mem_reserved = 4096;
    return p;
}

static void check(int r, const struct part_error *err)
{
    if (r != 0)
        fail_msg("%d: %s", r, err->message);
}

static void define_prod(struct part_hv *hv)
{
    struct part_profile *p = profile_new("prod");
    const unsigned pool[] = {2, 3, 4, 5, 6, 7};
    struct part_placement placement = {.cpus = pool, .n = 6};
    struct part_error err = {0};

    check(part_hv_define(hv, p, &placement, &err), &err);
    part_profile_free(p);
}

static void test_host(void **state)
{
    struct part_hv_host host;
    struct part_error err = {0};

    check(part_hv_host(*state, &host, &err), &err);
    assert_int_equal(host.cpus, 8);
    assert_int_equal(host.memory, 16384);
    assert_string_equal(host.driver, "TEST");
}

/* The host's free memory is libvirt's: node.xml has no NUMA cells, so
 * the test driver has none to give (unknown, not 0); its default node has
 * fixed cells (3 MiB free). The test driver is never this host: no PSI. */
static void test_host_memory(void **state)
{
    struct part_host_memory m = {.has_free = true, .has_psi = true};
    struct part_error err = {0};
    struct part_hv *hv = NULL;

    check(part_hv_memory(*state, &m, &err), &err);
    assert_false(m.has_free);
    assert_false(m.has_psi);
    check(part_hv_open(&part_hv_libvirt_ops, "test:///default", false, &hv, &err), &err);
    check(part_hv_memory(hv, &m, &err), &err);
    assert_true(m.has_free);
    assert_int_equal(m.free, 3);
    assert_false(m.has_psi);
    part_hv_close(hv);
}

static void test_define_lookup(void **state)
{
    struct part_hv *hv = *state;
    struct part_hv_domain d;
    struct part_error err = {0};
    struct part_profile *p;

    define_prod(hv);
    check(part_hv_lookup(hv, "prod", &d, &err), &err);
    assert_false(d.active);
    assert_string_equal(d.owner, "prod"); /* partd's mark */
    assert_int_equal(d.vcpus, 2);
    assert_int_equal(d.vcpus_max, 8);
    assert_int_equal(d.memory, 1024);
    assert_int_equal(d.memory_max, 4096);

    /* a redefinition keeps the domain (libvirt wants its UUID again) */
    p = profile_new("prod");
    p->proc_initial = 3;
    p->mem_initial = 2048;
    check(part_hv_define(hv, p, NULL, &err), &err);
    part_profile_free(p);
    check(part_hv_lookup(hv, "prod", &d, &err), &err);
    assert_int_equal(d.vcpus, 3);
    assert_int_equal(d.memory, 2048);
    assert_string_equal(d.owner, "prod");
}

static void test_define_template(void **state)
{
    struct part_hv *hv = *state;
    struct part_profile *p = profile_new("web");
    struct part_hv_domain d;
    struct part_error err = {0};

    assert_int_not_equal(
        asprintf(&p->domain_template, "%s/tests/unit/domxml/template.xml", getenv("PART_SRCDIR")),
        -1);
    p->domain_template_xml = golden_read_file(p->domain_template, NULL); /* part_hostpath_load() */
    p->cap = 2.5;
    check(part_hv_define(hv, p, NULL, &err), &err);
    check(part_hv_lookup(hv, "web", &d, &err), &err);
    assert_int_equal(d.vcpus, 2);
    assert_int_equal(d.vcpus_max, 8);
    /* and again, now that the template's UUID is the domain's */
    check(part_hv_define(hv, p, NULL, &err), &err);
    part_profile_free(p);
}

static void test_define_bad_template(void **state)
{
    struct part_profile *p = profile_new("web");
    struct part_error err = {0};

    /* a template is read before the manager's lock (part_hostpath_load()):
     * defining never opens it, and refuses one that was not read */
    p->domain_template = strdup("/nonexistent/template.xml");
    assert_int_equal(part_hv_define(*state, p, NULL, &err), -EINVAL);
    assert_string_equal(err.field, "domain.template");
    p->domain_template_xml = strdup("<domain><name>x</name></domain"); /* cut short */
    assert_int_equal(part_hv_define(*state, p, NULL, &err), -EINVAL);
    assert_non_null(strstr(err.message, "is not a libvirt domain XML"));
    part_profile_free(p);
}

static void test_activate_set_processors(void **state)
{
    struct part_hv *hv = *state;
    struct part_hv_domain d;
    struct part_error err = {0};

    define_prod(hv);
    check(part_hv_activate(hv, "prod", &err), &err);
    check(part_hv_lookup(hv, "prod", &d, &err), &err);
    assert_true(d.active);
    assert_int_equal(d.vcpus, 2);

    check(part_hv_set_processors(hv, "prod", 5, PART_HV_LIVE, &err), &err);
    check(part_hv_lookup(hv, "prod", &d, &err), &err);
    assert_int_equal(d.vcpus, 5);

    check(part_hv_set_processors(hv, "prod", 3, PART_HV_LIVE | PART_HV_CONFIG, &err), &err);
    check(part_hv_lookup(hv, "prod", &d, &err), &err);
    assert_int_equal(d.vcpus, 3);

    /* beyond the maximum: refused, and nothing changed */
    assert_int_equal(part_hv_set_processors(hv, "prod", 9, PART_HV_LIVE, &err), -EINVAL);
    assert_non_null(strstr(err.message, "prod: cannot set processors: "));
    check(part_hv_lookup(hv, "prod", &d, &err), &err);
    assert_int_equal(d.vcpus, 3);

    /* already running */
    assert_int_equal(part_hv_activate(hv, "prod", &err), -EBUSY);
}

static void test_set_processors_config(void **state)
{
    struct part_hv *hv = *state;
    struct part_hv_domain d;
    struct part_error err = {0};

    define_prod(hv);
    check(part_hv_set_processors(hv, "prod", 6, PART_HV_CONFIG, &err), &err);
    check(part_hv_lookup(hv, "prod", &d, &err), &err);
    assert_false(d.active);
    assert_int_equal(d.vcpus, 6);
}

static void test_set_memory(void **state)
{
    struct part_hv *hv = *state;
    struct part_hv_domain d;
    struct part_error err = {0};

    define_prod(hv);
    check(part_hv_activate(hv, "prod", &err), &err);
    check(part_hv_set_memory(hv, "prod", 3072, PART_HV_LIVE, &err), &err);
    check(part_hv_lookup(hv, "prod", &d, &err), &err);
    assert_int_equal(d.memory, 3072);
    assert_int_equal(d.memory_max, 4096);

    assert_true(part_hv_set_memory(hv, "prod", 8192, PART_HV_LIVE, &err) < 0);
    assert_non_null(strstr(err.message, "prod: cannot set memory: "));
    check(part_hv_lookup(hv, "prod", &d, &err), &err);
    assert_int_equal(d.memory, 3072);
}

static void test_set_weight_cap_unsupported(void **state)
{
    struct part_hv *hv = *state;
    struct part_error err = {0};

    assert_int_equal(part_hv_set_weight(hv, "existing", 300, PART_HV_LIVE, &err), -ENOTSUP);
    assert_string_equal(err.message, "existing: the TEST driver cannot apply cpu_shares");
    assert_int_equal(part_hv_set_weight(hv, "existing", 300, PART_HV_LIVE | PART_HV_CONFIG, &err),
                     -ENOTSUP);
    assert_int_equal(part_hv_set_cap(hv, "existing", 1.5, PART_HV_LIVE, &err), -ENOTSUP);
    assert_string_equal(err.message, "existing: the TEST driver cannot apply global_quota");
    assert_int_equal(part_hv_set_cap(hv, "existing", PART_CAP_NONE, PART_HV_CONFIG, &err),
                     -ENOTSUP);
    assert_int_equal(part_hv_set_weight(hv, "nope", 300, PART_HV_LIVE, &err), -ENOENT);
}

static void test_deactivate(void **state)
{
    struct part_hv *hv = *state;
    struct part_hv_domain d;
    struct part_error err = {0};

    define_prod(hv);
    check(part_hv_activate(hv, "prod", &err), &err);
    assert_int_equal(part_hv_active(hv, "prod", &err), 1); /* what a deactivation polls */
    check(part_hv_deactivate(hv, "prod", 2000, false, &err), &err);
    check(part_hv_lookup(hv, "prod", &d, &err), &err);
    assert_false(d.active);
    assert_int_equal(part_hv_active(hv, "prod", &err), 0);
    assert_int_equal(part_hv_active(hv, "nope", &err), -ENOENT);

    check(part_hv_activate(hv, "prod", &err), &err);
    check(part_hv_deactivate(hv, "prod", 0, true, &err), &err);
    check(part_hv_lookup(hv, "prod", &d, &err), &err);
    assert_false(d.active);

    check(part_hv_activate(hv, "prod", &err), &err);
    check(part_hv_deactivate(hv, "prod", 500, true, &err), &err);
    check(part_hv_lookup(hv, "prod", &d, &err), &err);
    assert_false(d.active);

    /* not running */
    assert_int_equal(part_hv_deactivate(hv, "prod", 100, false, &err), -EBUSY);
    assert_int_equal(part_hv_deactivate(hv, "nope", 100, true, &err), -ENOENT);
}

static void test_adopt_existing(void **state)
{
    struct part_hv_domain d;
    struct part_error err = {0};

    check(part_hv_lookup(*state, "existing", &d, &err), &err);
    assert_true(d.active);
    assert_int_equal(d.vcpus, 1);
    assert_int_equal(d.vcpus_max, 4);
    assert_int_equal(d.memory, 1024);
    assert_int_equal(d.memory_max, 1024);
}

static void test_lookup_missing(void **state)
{
    struct part_hv_domain d;
    struct part_error err = {0};

    assert_int_equal(part_hv_lookup(*state, "nope", &d, &err), -ENOENT);
    assert_non_null(strstr(err.message, "nope: cannot look up the domain: "));
}

static void test_undefine(void **state)
{
    struct part_hv *hv = *state;
    struct part_hv_domain d;
    struct part_error err = {0};

    define_prod(hv);
    check(part_hv_undefine(hv, "prod", &err), &err);
    assert_int_equal(part_hv_lookup(hv, "prod", &d, &err), -ENOENT);
    assert_int_equal(part_hv_undefine(hv, "prod", &err), -ENOENT);

    /* a running domain becomes transient: it runs on, marked, until stopped */
    define_prod(hv);
    check(part_hv_activate(hv, "prod", &err), &err);
    check(part_hv_undefine(hv, "prod", &err), &err);
    check(part_hv_lookup(hv, "prod", &d, &err), &err);
    assert_true(d.active);
    assert_string_equal(d.owner, "prod");
    check(part_hv_deactivate(hv, "prod", 0, true, &err), &err);
    assert_int_equal(part_hv_lookup(hv, "prod", &d, &err), -ENOENT);
}

/* The domain's XML as libvirt has it: its persistent definition (inactive)
 * or what runs. Freed by the caller. */
static char *domain_xml(struct part_hv *hv, const char *name, bool inactive)
{
    virDomainPtr dom = virDomainLookupByName(lv_cast(hv)->conn, name);
    char *xml;

    assert_non_null(dom);
    xml = virDomainGetXMLDesc(dom, inactive ? VIR_DOMAIN_XML_INACTIVE : 0);
    assert_non_null(xml);
    virDomainFree(dom);
    return xml;
}

/* Marks the domain as partition's, in its persistent definition, as
 * `virsh metadata NAME URI --key partd --set XML --config` does. */
static void mark(struct part_hv *hv, const char *name, const char *partition)
{
    virDomainPtr dom = virDomainLookupByName(lv_cast(hv)->conn, name);
    char xml[128];

    assert_non_null(dom);
    snprintf(xml, sizeof(xml), "<" PART_DOMXML_MARK_ELEMENT " name='%s'/>", partition);
    assert_int_equal(virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, xml,
                                          PART_DOMXML_MARK_PREFIX, PART_DOMXML_MARK_NS,
                                          VIR_DOMAIN_AFFECT_CONFIG),
                     0);
    virDomainFree(dom);
}

/* "existing" as it was, in both its definitions, and no mark. */
static void assert_untouched(struct part_hv *hv, const char *config, const char *live)
{
    char *c = domain_xml(hv, "existing", true), *l = domain_xml(hv, "existing", false);
    struct part_hv_domain d;
    struct part_error err = {0};

    assert_string_equal(c, config);
    assert_string_equal(l, live);
    check(part_hv_lookup(hv, "existing", &d, &err), &err);
    assert_true(d.active);
    free(c);
    free(l);
}

static void test_foreign_left_alone(void **state)
{
    struct part_hv *hv = *state;
    struct part_profile *p = profile_new("existing");
    char *config = domain_xml(hv, "existing", true), *live = domain_xml(hv, "existing", false);
    struct part_hv_domain d;
    struct part_error err = {0};

    check(part_hv_lookup(hv, "existing", &d, &err), &err);
    assert_string_equal(d.owner, "");
    /* a partition named like it is not defined over it */
    assert_int_equal(part_hv_define(hv, p, NULL, &err), -EEXIST);
    assert_non_null(strstr(err.message, "existing: a domain of this name exists and partd did "
                                        "not define it (no partd mark)"));
    assert_non_null(strstr(err.message, "domain.adopt"));
    assert_untouched(hv, config, live);
    /* nor undefined, with or without its NVRAM and snapshots */
    assert_int_equal(part_hv_undefine(hv, "existing", &err), -EEXIST);
    assert_non_null(strstr(err.message, "existing: cannot undefine the domain: partd did not"));
    assert_untouched(hv, config, live);
    /* a mark copied from another partition's domain is no mark for this one */
    mark(hv, "existing", "prod");
    free(config);
    config = domain_xml(hv, "existing", true);
    assert_int_equal(part_hv_define(hv, p, NULL, &err), -EEXIST);
    assert_non_null(strstr(err.message, "its partd mark names partition prod"));
    assert_int_equal(part_hv_undefine(hv, "existing", &err), -EEXIST);
    assert_untouched(hv, config, live);
    part_profile_free(p);
    free(config);
    free(live);
}

/* The administrator's way of handing partd a domain it did not define, as
 * docs/design.md says for domains an earlier partd defined without marks. */
static void test_foreign_marked_by_admin(void **state)
{
    struct part_hv *hv = *state;
    struct part_profile *p = profile_new("existing");
    struct part_hv_domain d;
    struct part_error err = {0};

    mark(hv, "existing", "existing");
    check(part_hv_lookup(hv, "existing", &d, &err), &err);
    assert_string_equal(d.owner, "existing");
    check(part_hv_define(hv, p, NULL, &err), &err);
    check(part_hv_deactivate(hv, "existing", 0, true, &err), &err);
    check(part_hv_lookup(hv, "existing", &d, &err), &err);
    assert_int_equal(d.vcpus_max, 8); /* partd's definition now */
    check(part_hv_undefine(hv, "existing", &err), &err);
    assert_int_equal(part_hv_lookup(hv, "existing", &d, &err), -ENOENT);
    part_profile_free(p);
}

struct seen {
    int calls;
    bool existing, existing_active;
    bool prod, prod_active;
};

static void stats_cb(const struct part_hv_stats *s, void *opaque)
{
    struct seen *seen = opaque;

    seen->calls++;
    if (strcmp(s->name, "existing") == 0) {
        seen->existing = true;
        seen->existing_active = s->active;
    } else if (strcmp(s->name, "prod") == 0) {
        seen->prod = true;
        seen->prod_active = s->active;
    } else {
        fail_msg("stats for unexpected domain %s", s->name);
    }
}

static void test_stats(void **state)
{
    struct part_hv *hv = *state;
    const char *names[] = {"existing", "prod", "missing"};
    struct seen seen = {0};
    struct part_error err = {0};

    define_prod(hv);
    check(part_hv_stats(hv, names, 3, stats_cb, &seen, &err), &err);
    assert_int_equal(seen.calls, 2);
    assert_true(seen.existing && seen.existing_active);
    assert_true(seen.prod && !seen.prod_active);

    memset(&seen, 0, sizeof(seen));
    check(part_hv_activate(hv, "prod", &err), &err);
    check(part_hv_stats(hv, names + 1, 1, stats_cb, &seen, &err), &err);
    assert_int_equal(seen.calls, 1);
    assert_true(seen.prod && seen.prod_active);

    memset(&seen, 0, sizeof(seen));
    check(part_hv_stats(hv, names, 0, stats_cb, &seen, &err), &err);
    assert_int_equal(seen.calls, 0);
}

struct events {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool defined, started, stopped;
};

static void events_cb(const char *domain, enum part_hv_event event, void *opaque)
{
    struct events *ev = opaque;

    if (strcmp(domain, "prod") != 0)
        return;
    pthread_mutex_lock(&ev->lock);
    if (event == PART_HV_EVENT_DEFINED)
        ev->defined = true;
    else if (event == PART_HV_EVENT_STARTED)
        ev->started = true;
    else if (event == PART_HV_EVENT_STOPPED)
        ev->stopped = true;
    pthread_cond_broadcast(&ev->cond);
    pthread_mutex_unlock(&ev->lock);
}

/* Waits up to 2 s for *flag, set by the event loop thread. */
static bool events_wait(struct events *ev, const bool *flag)
{
    struct timespec deadline;
    int r = 0;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 2;
    pthread_mutex_lock(&ev->lock);
    while (!*flag && r == 0)
        r = pthread_cond_timedwait(&ev->cond, &ev->lock, &deadline);
    bool ok = *flag;
    pthread_mutex_unlock(&ev->lock);
    return ok;
}

static void test_events(void **state)
{
    struct part_hv *hv = *state;
    struct events ev = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    struct part_error err = {0};

    check(part_hv_events(hv, events_cb, &ev, &err), &err);
    define_prod(hv);
    assert_true(events_wait(&ev, &ev.defined));
    check(part_hv_activate(hv, "prod", &err), &err);
    assert_true(events_wait(&ev, &ev.started));
    check(part_hv_deactivate(hv, "prod", 0, true, &err), &err);
    assert_true(events_wait(&ev, &ev.stopped));

    /* unregistering, then registering anew for the close in teardown to
     * drop */
    check(part_hv_events(hv, NULL, NULL, &err), &err);
    check(part_hv_events(hv, events_cb, &ev, &err), &err);
    check(part_hv_events(hv, events_cb, &ev, &err), &err);
}

static void test_bad_uri(void **state)
{
    const char *uris[] = {"test:///nonexistent/node.xml", "bogus-driver:///system"};

    for (size_t i = 0; i < 2; i++) {
        struct part_hv *hv = NULL;
        struct part_error err = {0};

        assert_true(part_hv_open(&part_hv_libvirt_ops, uris[i], false, &hv, &err) < 0);
        assert_null(hv);
        assert_non_null(strstr(err.message, "cannot connect to "));
        assert_non_null(strstr(err.message, uris[i]));
        assert_true(strlen(err.message) > strlen(uris[i]) + 20);
    }
}

static void test_read_only(void **state)
{
    struct part_hv *hv = NULL;
    struct part_hv_host host;
    struct part_error err = {0};
    char *uri = node_uri();

    check(part_hv_open(&part_hv_libvirt_ops, uri, true, &hv, &err), &err);
    free(uri);
    check(part_hv_host(hv, &host, &err), &err);
    assert_int_equal(host.cpus, 8);
    part_hv_close(hv);
}

static void test_flags(void **state)
{
    struct part_hv *hv = *state;
    struct part_error err = {0};
    const unsigned bad[] = {0, PART_HV_GUEST, PART_HV_LIVE | (1u << 7)};
    const unsigned pool[] = {1};
    struct part_placement pl = {.cpus = pool, .n = 1};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(part_hv_set_processors(hv, "existing", 2, bad[i], &err), -EINVAL);
        assert_int_equal(part_hv_set_memory(hv, "existing", 512, bad[i], &err), -EINVAL);
        assert_int_equal(part_hv_set_weight(hv, "existing", 100, bad[i], &err), -EINVAL);
        assert_int_equal(part_hv_set_cap(hv, "existing", 1.0, bad[i], &err), -EINVAL);
        assert_int_equal(part_hv_pin(hv, "existing", &pl, bad[i], &err), -EINVAL);
    }
    /* guest means something to set_processors only */
    assert_int_equal(part_hv_set_memory(hv, "existing", 512, PART_HV_LIVE | PART_HV_GUEST, &err),
                     -EINVAL);
    assert_string_equal(err.message, "invalid flags 0x5: expected live, config or both");
    assert_int_equal(part_hv_set_weight(hv, "existing", 100, PART_HV_LIVE | PART_HV_GUEST, &err),
                     -EINVAL);
    assert_int_equal(part_hv_set_cap(hv, "existing", 1.0, PART_HV_LIVE | PART_HV_GUEST, &err),
                     -EINVAL);
    assert_int_equal(part_hv_pin(hv, "existing", &pl, PART_HV_LIVE | PART_HV_GUEST, &err), -EINVAL);
    assert_int_equal(part_hv_set_processors(hv, "existing", 2, 1u << 3 | PART_HV_LIVE, &err),
                     -EINVAL);
    assert_string_equal(err.message,
                        "invalid flags 0x9: expected live, config or both (and guest)");
    assert_int_equal(part_hv_pin(hv, "existing", NULL, PART_HV_LIVE, &err), -EINVAL);
    check(part_hv_set_processors(hv, "existing", 2, PART_HV_LIVE | PART_HV_CONFIG, &err), &err);
    check(part_hv_set_processors(hv, "existing", 3, PART_HV_LIVE | PART_HV_GUEST, &err), &err);
    check(part_hv_set_processors(hv, "existing", 3, PART_HV_CONFIG | PART_HV_GUEST, &err), &err);
}

/* A QEMU guest (type qemu; the test driver takes it) booting a kernel, as
 * profiles with boot define them. */
static void define_guest(struct part_hv *hv, const char *name)
{
    struct part_profile *p = profile_new(name);
    struct part_error err = {0};

    p->proc_initial = 1;
    p->proc_reserved = 4;
    p->boot = PART_BOOT_KERNEL;
    p->boot_kernel = strdup("/nonexistent/vmlinuz");
    p->serial_log = strdup("/nonexistent/guest.log");
    snprintf(p->domain_type, sizeof(p->domain_type), "qemu");
    p->guest_agent = true;
    assert_true(p->boot_kernel && p->serial_log);
    check(part_hv_define(hv, p, NULL, &err), &err);
    part_profile_free(p);
}

/* Removing a running guest's processors without its agent is never tried;
 * with it, the test driver cannot ask a guest, so nothing changes either. */
static void test_decrease_needs_agent(void **state)
{
    struct part_hv *hv = *state;
    struct part_hv_domain d;
    struct part_error err = {0};

    define_guest(hv, "guest");
    check(part_hv_activate(hv, "guest", &err), &err);
    check(part_hv_lookup(hv, "guest", &d, &err), &err);
    assert_true(d.active);
    assert_int_equal(d.vcpus, 1);
    assert_int_equal(d.vcpus_max, 4);
    assert_int_equal(d.vcpus_guest, -1); /* no agent to ask */

    check(part_hv_set_processors(hv, "guest", 3, PART_HV_LIVE, &err), &err);
    assert_int_equal(part_hv_set_processors(hv, "guest", 2, PART_HV_LIVE, &err), -ENOTSUP);
    assert_string_equal(err.message,
                        "guest: cannot remove processors (3 to 2) without the guest agent: QEMU's "
                        "TCG cannot unplug vCPUs, and unplugging them without the guest's "
                        "cooperation is unsafe (set guest_agent in the profile and run "
                        "qemu-guest-agent in the guest)");
    assert_int_equal(part_hv_set_processors(hv, "guest", 1, PART_HV_LIVE | PART_HV_CONFIG, &err),
                     -ENOTSUP);
    check(part_hv_lookup(hv, "guest", &d, &err), &err);
    assert_int_equal(d.vcpus, 3);

    /* through the agent: the test driver has none to talk to */
    assert_int_equal(part_hv_set_processors(hv, "guest", 2, PART_HV_LIVE | PART_HV_GUEST, &err),
                     -ENOTSUP);
    assert_non_null(strstr(err.message, "guest: cannot set processors through the guest agent: "));
    check(part_hv_lookup(hv, "guest", &d, &err), &err);
    assert_int_equal(d.vcpus, 3);

    /* the same count, or more, is no removal */
    check(part_hv_set_processors(hv, "guest", 3, PART_HV_LIVE, &err), &err);
    /* up with the agent: the plug is confirmed; the driver cannot ask the
     * guest, so the domain's count is the answer */
    check(part_hv_set_processors(hv, "guest", 4, PART_HV_LIVE | PART_HV_GUEST, &err), &err);
    check(part_hv_lookup(hv, "guest", &d, &err), &err);
    assert_int_equal(d.vcpus, 4);

    /* the next start's count is no live removal */
    check(part_hv_set_processors(hv, "guest", 1, PART_HV_CONFIG, &err), &err);
    check(part_hv_deactivate(hv, "guest", 0, true, &err), &err);
    check(part_hv_lookup(hv, "guest", &d, &err), &err);
    assert_int_equal(d.vcpus, 1);
    assert_int_equal(d.vcpus_guest, -1);

    /* not running: live changes are refused as such */
    assert_int_equal(part_hv_set_processors(hv, "guest", 2, PART_HV_LIVE, &err), -EBUSY);
}

/* The test driver's own domains (type test) have no guest: their vCPUs come
 * and go through the hypervisor, with or without the agent flag. */
static void test_decrease_test_domain(void **state)
{
    struct part_hv *hv = *state;
    struct part_hv_domain d;
    struct part_error err = {0};

    define_prod(hv);
    check(part_hv_activate(hv, "prod", &err), &err);
    check(part_hv_set_processors(hv, "prod", 6, PART_HV_LIVE, &err), &err);
    check(part_hv_set_processors(hv, "prod", 4, PART_HV_LIVE | PART_HV_GUEST, &err), &err);
    check(part_hv_lookup(hv, "prod", &d, &err), &err);
    assert_int_equal(d.vcpus, 4);
    check(part_hv_set_processors(hv, "prod", 2, PART_HV_LIVE, &err), &err);
    check(part_hv_lookup(hv, "prod", &d, &err), &err);
    assert_int_equal(d.vcpus, 2);
}

/* The generated domain is one libvirt takes, type and devices included. */
static void test_define_generated(void **state)
{
    struct part_hv *hv = *state;
    struct part_hv_domain d;
    struct part_error err = {0};

    define_guest(hv, "guest");
    check(part_hv_lookup(hv, "guest", &d, &err), &err);
    assert_false(d.active);
    assert_int_equal(d.vcpus, 1);
    assert_int_equal(d.vcpus_max, 4);
    assert_int_equal(d.memory, 1024);
    /* and again, over itself */
    define_guest(hv, "guest");
    check(part_hv_activate(hv, "guest", &err), &err);
    check(part_hv_deactivate(hv, "guest", 0, true, &err), &err);
}

/* Memory on the test driver is where it was asked at once: confirmed. */
static void test_set_memory_confirmed(void **state)
{
    struct part_hv *hv = *state;
    struct part_hv_domain d;
    struct part_error err = {0};

    define_guest(hv, "guest");
    check(part_hv_activate(hv, "guest", &err), &err);
    check(part_hv_set_memory(hv, "guest", 2048, PART_HV_LIVE, &err), &err);
    check(part_hv_set_memory(hv, "guest", 600, PART_HV_LIVE, &err), &err);
    check(part_hv_lookup(hv, "guest", &d, &err), &err);
    assert_int_equal(d.memory, 600);
}

/* Pins read back through a second connection to the test driver's shared
 * default host (8 CPUs in its CPU map; domain "test" running, 2 vCPUs). */
struct pins {
    unsigned char vcpu[2], emulator;
};

static struct pins read_pins(virDomainPtr dom)
{
    struct pins p = {{0}, 0};
    unsigned char maps[2] = {0};

    assert_int_equal(virDomainGetVcpuPinInfo(dom, 2, maps, 1, 0), 2);
    assert_int_equal(virDomainGetEmulatorPinInfo(dom, &p.emulator, 1, 0), 1);
    p.vcpu[0] = maps[0];
    p.vcpu[1] = maps[1];
    return p;
}

static void test_pin(void **state)
{
    struct part_hv *hv = NULL;
    struct part_error err = {0};
    virConnectPtr conn = virConnectOpen("test:///default");
    virDomainPtr dom = conn ? virDomainLookupByName(conn, "test") : NULL;
    const unsigned pool[] = {3, 1}, dedicated[] = {5, 6}, bad[] = {1, 8};
    struct part_placement shared = {.cpus = pool, .n = 2};
    struct part_placement ded = {.cpus = dedicated, .n = 2, .dedicated = true};
    struct part_placement none = {.cpus = NULL, .n = 0};
    unsigned char *online = NULL;
    unsigned nonline = 0;
    struct pins p;

    assert_non_null(dom);
    assert_int_equal(virNodeGetCPUMap(conn, &online, &nonline, 0), 8);
    check(part_hv_open(&part_hv_libvirt_ops, "test:///default", false, &hv, &err), &err);

    /* shared: every vCPU and the emulator on the pool (the test driver
     * takes "current" only: the same as live for a running domain) */
    check(part_hv_pin(hv, "test", &shared, PART_HV_LIVE, &err), &err);
    p = read_pins(dom);
    assert_int_equal(p.vcpu[0], 0x0a);
    assert_int_equal(p.vcpu[1], 0x0a);
    assert_int_equal(p.emulator, 0x0a);

    /* dedicated: one host CPU each; the emulator is left where it was */
    check(part_hv_pin(hv, "test", &ded, PART_HV_LIVE, &err), &err);
    p = read_pins(dom);
    assert_int_equal(p.vcpu[0], 0x20);
    assert_int_equal(p.vcpu[1], 0x40);
    assert_int_equal(p.emulator, 0x0a);

    /* no placement: every online host CPU */
    check(part_hv_pin(hv, "test", &none, PART_HV_LIVE, &err), &err);
    p = read_pins(dom);
    assert_int_equal(p.vcpu[0], online[0]);
    assert_int_equal(p.vcpu[1], online[0]);
    assert_int_equal(p.emulator, online[0]);

    /* the definition of a running domain: the test driver cannot */
    assert_int_equal(part_hv_pin(hv, "test", &shared, PART_HV_CONFIG, &err), -ENOTSUP);
    assert_non_null(strstr(err.message, "test: cannot pin processors: "));
    assert_int_equal(part_hv_pin(hv, "test", &shared, PART_HV_LIVE | PART_HV_CONFIG, &err),
                     -ENOTSUP);

    /* a CPU the host does not have: refused before anything is pinned */
    struct part_placement outside = {.cpus = bad, .n = 2};
    check(part_hv_pin(hv, "test", &shared, PART_HV_LIVE, &err), &err);
    assert_int_equal(part_hv_pin(hv, "test", &outside, PART_HV_LIVE, &err), -EINVAL);
    assert_string_equal(err.message, "test: cannot pin to host CPU 8: the host has CPUs 0-7");
    p = read_pins(dom);
    assert_int_equal(p.vcpu[0], 0x0a);
    assert_int_equal(part_hv_pin(hv, "nope", &shared, PART_HV_LIVE, &err), -ENOENT);

    free(online);
    part_hv_close(hv);
    virDomainFree(dom);
    virConnectClose(conn);
}

/* An inactive domain: not running, so not live; and the test driver pins
 * no definition (partd puts the pins in the XML it defines). */
static void test_pin_inactive(void **state)
{
    struct part_hv *hv = *state;
    struct part_error err = {0};
    const unsigned pool[] = {2, 3};
    struct part_placement shared = {.cpus = pool, .n = 2};

    define_prod(hv);
    assert_int_equal(part_hv_pin(hv, "prod", &shared, PART_HV_LIVE, &err), -EBUSY);
    assert_non_null(strstr(err.message, "prod: cannot pin processors: "));
    assert_int_equal(part_hv_pin(hv, "prod", &shared, PART_HV_CONFIG, &err), -ENOTSUP);
    assert_non_null(strstr(err.message, "prod: cannot pin processors: "));
    check(part_hv_activate(hv, "prod", &err), &err);
    check(part_hv_pin(hv, "prod", &shared, PART_HV_LIVE, &err), &err);
}

/* A backend that can only open: every other wrapper must say so. */
static const struct part_hv_ops fake_ops;
static struct part_hv fake_hv = {&fake_ops};

static int fake_open(const char *uri, bool read_only, struct part_hv **ret, struct part_error *err)
{
    *ret = &fake_hv;
    return 0;
}

static const struct part_hv_ops fake_ops = {
    .name = "fake",
    .open = fake_open,
};

static const struct part_hv_ops fake_ops_noopen = {
    .name = "closed",
};

static void test_missing_ops(void **state)
{
    struct part_hv *hv = NULL;
    struct part_hv_host host;
    struct part_hv_domain d;
    struct part_error err = {0};
    struct part_profile *p = profile_new("prod");

    assert_int_equal(part_hv_open(&fake_ops_noopen, "x", false, &hv, &err), -ENOTSUP);
    assert_non_null(strstr(err.message, "closed backend cannot "));

    check(part_hv_open(&fake_ops, "x", false, &hv, &err), &err);
    assert_ptr_equal(hv, &fake_hv);
    assert_int_equal(part_hv_host(hv, &host, &err), -ENOTSUP);
    assert_non_null(strstr(err.message, "fake backend cannot "));
    assert_int_equal(part_hv_lookup(hv, "prod", &d, &err), -ENOTSUP);
    assert_int_equal(part_hv_define(hv, p, NULL, &err), -ENOTSUP);
    assert_int_equal(part_hv_undefine(hv, "prod", &err), -ENOTSUP);
    assert_int_equal(part_hv_activate(hv, "prod", &err), -ENOTSUP);
    assert_int_equal(part_hv_deactivate(hv, "prod", 0, true, &err), -ENOTSUP);
    assert_int_equal(part_hv_set_processors(hv, "prod", 2, PART_HV_LIVE, &err), -ENOTSUP);
    assert_int_equal(part_hv_set_memory(hv, "prod", 512, PART_HV_LIVE, &err), -ENOTSUP);
    assert_int_equal(part_hv_set_weight(hv, "prod", 100, PART_HV_LIVE, &err), -ENOTSUP);
    assert_string_equal(err.message, "fake backend cannot change processing weights");
    assert_int_equal(part_hv_set_cap(hv, "prod", 1.0, PART_HV_LIVE, &err), -ENOTSUP);
    assert_int_equal(part_hv_pin(hv, "prod", &(struct part_placement){.n = 0}, PART_HV_LIVE, &err),
                     -ENOTSUP);
    assert_string_equal(err.message, "fake backend cannot pin processors");
    assert_int_equal(part_hv_stats(hv, NULL, 0, stats_cb, NULL, &err), -ENOTSUP);
    assert_int_equal(part_hv_events(hv, events_cb, NULL, &err), -ENOTSUP);
    part_hv_close(hv);
    part_hv_close(NULL);
    part_profile_free(p);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_host),
        T(test_host_memory),
        T(test_define_lookup),
        T(test_define_template),
        T(test_define_bad_template),
        T(test_activate_set_processors),
        T(test_set_processors_config),
        T(test_set_memory),
        T(test_set_weight_cap_unsupported),
        T(test_deactivate),
        T(test_adopt_existing),
        T(test_lookup_missing),
        T(test_undefine),
        T(test_foreign_left_alone),
        T(test_foreign_marked_by_admin),
        T(test_stats),
        T(test_events),
        cmocka_unit_test(test_bad_uri),
        cmocka_unit_test(test_read_only),
        T(test_flags),
        T(test_decrease_needs_agent),
        T(test_decrease_test_domain),
        T(test_define_generated),
        T(test_set_memory_confirmed),
        cmocka_unit_test(test_pin),
        T(test_pin_inactive),
        cmocka_unit_test(test_missing_ops),
    };
#undef T

    return cmocka_run_group_tests(tests, NULL, NULL);
}
