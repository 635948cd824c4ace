/* The manager on libvirt's test driver: every mutation goes through the real
 * backend, and what the status says is what the backend confirmed. Each test
 * works on a fresh copy of a small configuration in a temporary directory. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <stdbool.h>
#include <unistd.h>
#include <cmocka.h>

#include <part/part.h>

#include "golden.h"

struct fixture {
    char dir[64];
    struct part_mgr *mgr;
};

static const char node_xml[] =
    "<node><cpu><mhz>3000</mhz><model>x86_64</model><active>8</active><nodes>1</nodes>"
    "<sockets>1</sockets><cores>4</cores><threads>2</threads></cpu>"
    "<memory>16777216</memory></node>\n";

static const char partd_json[] = "{ \"uri\": \"test:cpc.xml\", \"state_dir\": \"state\","
                                 " \"paths\": { \"images\": \"images\","
                                 " \"templates\": \"templates\", \"logs\": \"logs\" },"
                                 " \"cpc\": { \"host_reserved_cpus\": 2,"
                                 " \"host_reserved_memory\": \"2GiB\" } }\n";

static const char prod_json[] =
    "{ \"name\": \"prod\", \"processors\": { \"initial\": 2, \"min\": 1, \"reserved\": 4 },\n"
    "  \"weight\": { \"initial\": 300, \"min\": 100, \"max\": 500 },\n"
    "  \"memory\": { \"initial\": \"2GiB\", \"min\": \"1GiB\", \"reserved\": \"4GiB\" },\n"
    "  \"autostart\": true }\n";

static const char test_json[] =
    "{ \"name\": \"test\", \"processors\": { \"initial\": 1, \"reserved\": 2 },\n"
    "  \"weight\": { \"initial\": 100 }, \"memory\": { \"initial\": \"1GiB\" } }\n";

/*
 * The test driver reports no CPU time, and no real part can show demand
 * without a running guest (tests/integration does that). This backend is
 * the test driver with one change: its bulk stats carry a CPU counter that
 * advances by a demand set per domain, so the monitor, planner and actuator
 * run for real on top of it.
 */
static struct {
    char domain[64];
    double demand; /* processors */
    uint64_t cpu_ns;
    double last;
} demands[8];
static struct part_hv_ops demand_ops;

struct demand_ctx {
    part_hv_stats_fn fn;
    void *opaque;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void demand_on_stats(const struct part_hv_stats *st, void *opaque)
{
    struct demand_ctx *ctx = opaque;
    struct part_hv_stats copy = *st;
    for (size_t i = 0; i < sizeof(demands) / sizeof(demands[0]); i++) {
        if (strcmp(demands[i].domain, st->name) != 0)
            continue;
        double t = now_s();
        if (demands[i].last > 0)
            demands[i].cpu_ns += (uint64_t)(demands[i].demand * (t - demands[i].last) * 1e9);
        demands[i].last = t;
        copy.has_cpu_time = true;
        copy.cpu_time_ns = demands[i].cpu_ns;
    }
    ctx->fn(&copy, ctx->opaque);
}

static int demand_stats(struct part_hv *hv, const char *const *domains, size_t n,
                        part_hv_stats_fn fn, void *opaque, struct part_error *err)
{
    struct demand_ctx ctx = {fn, opaque};
    return part_hv_libvirt_ops.stats(hv, domains, n, demand_on_stats, &ctx, err);
}

static void demand_set(size_t i, const char *domain, double demand)
{
    snprintf(demands[i].domain, sizeof(demands[i].domain), "%s", domain);
    demands[i].demand = demand;
    demands[i].cpu_ns = 0;
    demands[i].last = 0;
}

static int mgr_open_dir_ops(struct fixture *fx, const struct part_hv_ops *ops)
{
    char path[128];
    struct part_config *cfg;
    struct part_error err = {0};
    snprintf(path, sizeof(path), "%s/partd.json", fx->dir);
    assert_int_equal(part_config_load(path, &cfg, &err), 0);
    int r = part_mgr_open(cfg, ops, NULL, NULL, &fx->mgr, &err);
    if (r < 0)
        print_error("%s\n", err.message);
    return r;
}

/* The manager's log of the current test, its last lines. */
static char mgr_log_text[8192];

static void mgr_log_capture(enum part_log_level level, const struct part_log_about *about,
                            const char *message, void *opaque)
{
    size_t n = strlen(mgr_log_text), m = strlen(message);
    if (n + m + 2 > sizeof(mgr_log_text))
        n = 0; /* keep the newest */
    snprintf(mgr_log_text + n, sizeof(mgr_log_text) - n, "%s\n", message);
}

static int mgr_open_dir(struct fixture *fx)
{
    char path[128];
    struct part_config *cfg;
    struct part_error err = {0};
    snprintf(path, sizeof(path), "%s/partd.json", fx->dir);
    assert_int_equal(part_config_load(path, &cfg, &err), 0);
    mgr_log_text[0] = '\0';
    int r = part_mgr_open(cfg, &part_hv_libvirt_ops, mgr_log_capture, NULL, &fx->mgr, &err);
    if (r < 0)
        print_error("%s\n", err.message);
    return r;
}

/* A new fixture whose directory (under /tmp) holds an empty partitions.d. */
static struct fixture *fixture_new(void)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    char sub[sizeof(fx->dir) + 16];

    assert_non_null(fx);
    strcpy(fx->dir, "/tmp/part-mgr-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(sub, sizeof(sub), "%s/partitions.d", fx->dir);
    mkdir(sub, 0755);
    return fx;
}

static int setup(void **state)
{
    struct fixture *fx = fixture_new();
    golden_write_file(fx->dir, "cpc.xml", node_xml);
    golden_write_file(fx->dir, "partd.json", partd_json);
    golden_write_file(fx->dir, "partitions.d/prod.json", prod_json);
    golden_write_file(fx->dir, "partitions.d/test.json", test_json);
    assert_int_equal(mgr_open_dir(fx), 0);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    part_mgr_close(fx->mgr);
    assert_int_equal(golden_remove_tree(fx->dir), 0);
    free(fx);
    return 0;
}

/* The partition as a client sees it (from the snapshot). */
static json_t *get(struct fixture *fx, const char *name)
{
    struct part_snapshot *s = part_mgr_snapshot(fx->mgr);
    size_t len;
    const char *text = part_snapshot_partition_text(s, name, &len);
    json_t *j = text ? json_loadb(text, len, 0, NULL) : NULL;
    part_snapshot_put(s);
    return j;
}

static json_int_t geti(json_t *j, const char *a, const char *b)
{
    return json_integer_value(json_object_get(json_object_get(j, a), b));
}

static const char *gets(json_t *j, const char *a, const char *b, const char *c)
{
    return json_string_value(json_object_get(json_object_get(json_object_get(j, a), b), c));
}

static void test_autostart_and_status(void **state)
{
    struct fixture *fx = *state;
    json_t *prod = get(fx, "prod"), *test = get(fx, "test");
    assert_string_equal(json_string_value(json_object_get(prod, "state")), "active");
    assert_string_equal(json_string_value(json_object_get(test, "state")), "inactive");
    assert_int_equal(geti(prod, "processors", "online"), 2);
    assert_int_equal(geti(prod, "memory", "target"), 2048);
    /* pool 6, prod alone: entitled to its 2 online processors */
    assert_float_equal(json_real_value(json_object_get(prod, "entitlement")), 2.0, 1e-9);
    assert_string_equal(gets(prod, "backend", "processors", "status"), "applied");
    /* the test driver discards scheduler parameters: never shown as applied */
    assert_string_equal(gets(prod, "backend", "weight", "status"), "unsupported");
    assert_non_null(strstr(gets(prod, "backend", "weight", "detail"), "cpu_shares"));
    json_decref(prod);
    json_decref(test);
}

static void test_resize_running(void **state)
{
    struct fixture *fx = *state;
    struct part_resize req = {.scope = PART_SCOPE_RUNNING,
                              .has[PART_SET_PROCESSORS] = true,
                              .to[PART_SET_PROCESSORS] = 4,
                              .has[PART_SET_MEMORY] = true,
                              .to[PART_SET_MEMORY] = 3072,
                              .has[PART_SET_WEIGHT] = true,
                              .to[PART_SET_WEIGHT] = 400};
    struct part_changes c;
    struct part_error err = {0};
    assert_int_equal(part_mgr_resize(fx->mgr, "prod", &req, NULL, &c, &err), 0);
    assert_int_equal(c.n, 3);
    assert_string_equal(part_setting_name(c.items[0].setting), "processors");
    assert_int_equal(c.items[0].status, PART_CHANGE_APPLIED);
    assert_int_equal(c.items[1].status, PART_CHANGE_APPLIED);
    assert_int_equal(c.items[2].status, PART_CHANGE_UNSUPPORTED);
    json_t *prod = get(fx, "prod");
    assert_int_equal(geti(prod, "processors", "online"), 4);
    assert_int_equal(geti(prod, "processors", "initial"), 2); /* profile untouched */
    assert_int_equal(geti(prod, "memory", "target"), 3072);
    assert_int_equal(geti(prod, "weight", "current"), 400);
    /* the profile's values come back at the next activation */
    assert_int_equal(geti(prod, "pending", "processors"), 2);
    json_decref(prod);
}

static void test_resize_checked_before_applied(void **state)
{
    struct fixture *fx = *state;
    struct part_changes c;
    struct part_error err = {0};
    /* processors over reserved, together with a valid memory change: neither applied */
    struct part_resize req = {.scope = PART_SCOPE_BOTH,
                              .has[PART_SET_PROCESSORS] = true,
                              .to[PART_SET_PROCESSORS] = 5,
                              .has[PART_SET_MEMORY] = true,
                              .to[PART_SET_MEMORY] = 3072};
    assert_int_equal(part_mgr_resize(fx->mgr, "prod", &req, NULL, &c, &err), -ERANGE);
    assert_string_equal(err.message, "processors (5) exceeds processors.reserved (4)");
    assert_int_equal(c.n, 0);
    json_t *prod = get(fx, "prod");
    assert_int_equal(geti(prod, "memory", "target"), 2048);
    json_decref(prod);

    struct part_resize w = {
        .scope = PART_SCOPE_BOTH, .has[PART_SET_WEIGHT] = true, .to[PART_SET_WEIGHT] = 600};
    assert_int_equal(part_mgr_resize(fx->mgr, "prod", &w, NULL, &c, &err), -ERANGE);
    assert_string_equal(err.field, "weight");

    struct part_resize run = {.scope = PART_SCOPE_RUNNING,
                              .has[PART_SET_PROCESSORS] = true,
                              .to[PART_SET_PROCESSORS] = 2};
    assert_int_equal(part_mgr_resize(fx->mgr, "test", &run, NULL, &c, &err), -EBUSY);
    struct part_resize bounds = {.scope = PART_SCOPE_RUNNING,
                                 .has[PART_SET_WEIGHT_MIN] = true,
                                 .to[PART_SET_WEIGHT_MIN] = 10};
    assert_int_equal(part_mgr_resize(fx->mgr, "prod", &bounds, NULL, &c, &err), -EINVAL);
    assert_int_equal(part_mgr_resize(fx->mgr, "nope", &w, NULL, &c, &err), -ENOENT);
}

static void test_resize_profile_writes_file(void **state)
{
    struct fixture *fx = *state;
    struct part_resize req = {.scope = PART_SCOPE_PROFILE,
                              .has[PART_SET_PROCESSORS] = true,
                              .to[PART_SET_PROCESSORS] = 3,
                              .has[PART_SET_WEIGHT_MAX] = true,
                              .to[PART_SET_WEIGHT_MAX] = 700};
    struct part_changes c;
    struct part_error err = {0};
    char path[128];
    assert_int_equal(part_mgr_resize(fx->mgr, "prod", &req, NULL, &c, &err), 0);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.items[0].status, PART_CHANGE_SAVED);
    snprintf(path, sizeof(path), "%s/partitions.d/prod.json", fx->dir);
    struct part_profile *p;
    assert_int_equal(part_profile_load(path, &p, &err), 0);
    assert_int_equal(p->proc_initial, 3);
    assert_int_equal(p->weight_max, 700);
    part_profile_free(p);
    json_t *prod = get(fx, "prod");
    assert_int_equal(geti(prod, "processors", "online"), 2); /* running untouched */
    assert_int_equal(geti(prod, "pending", "processors"), 3);
    json_decref(prod);
}

static void test_activate_deactivate_undefine(void **state)
{
    struct fixture *fx = *state;
    struct part_error err = {0};
    assert_int_equal(part_mgr_activate(fx->mgr, "test", NULL, &err), 0);
    assert_int_equal(part_mgr_activate(fx->mgr, "test", NULL, &err), -EBUSY);
    json_t *prod = get(fx, "prod");
    /* pool 6 split 300:100, limited by online processors: prod 2, test 1 */
    assert_float_equal(json_real_value(json_object_get(prod, "entitlement")), 2.0, 1e-9);
    json_decref(prod);
    assert_int_equal(part_mgr_undefine(fx->mgr, "test", NULL, &err), -EBUSY);
    int r = part_mgr_deactivate(fx->mgr, "test", false, 1000, NULL, &err);
    if (r < 0)
        print_error("%s\n", err.message);
    assert_int_equal(r, 0);
    assert_int_equal(part_mgr_deactivate(fx->mgr, "test", false, 1000, NULL, &err), -EBUSY);
    assert_int_equal(part_mgr_undefine(fx->mgr, "test", NULL, &err), 0);
    assert_null(get(fx, "test"));
    char path[128];
    snprintf(path, sizeof(path), "%s/partitions.d/test.json", fx->dir);
    assert_int_equal(access(path, F_OK), -1);
}

/* The newest event of fx's manager, into *ret. */
static void last_event(struct fixture *fx, struct part_event *ret)
{
    struct part_events *ev = part_mgr_events(fx->mgr);
    assert_int_equal(part_events_since(ev, part_events_last(ev) - 1, ret, 1), 1);
}

/* An API caller's change records who: its role, and its uid when known;
 * partd's own changes and unknown callers record none. */
static void test_events_name_the_caller(void **state)
{
    struct fixture *fx = *state;
    struct part_error err = {0};
    const struct part_caller op = {.role = PART_ROLE_OPERATOR, .uid = 1000};
    const struct part_caller admin = {.role = PART_ROLE_ADMIN, .uid = -1};
    struct part_event e;

    assert_int_equal(part_mgr_activate(fx->mgr, "test", &op, &err), 0);
    last_event(fx, &e);
    assert_string_equal(e.kind, "activated");
    assert_string_equal(e.by, "api");
    assert_int_equal(e.caller.role, PART_ROLE_OPERATOR);
    assert_int_equal(e.caller.uid, 1000);
    json_t *j = part_event_to_json(&e);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "caller"), "role")),
                        "operator");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "caller"), "uid")),
                     1000);
    json_decref(j);

    assert_int_equal(part_mgr_deactivate(fx->mgr, "test", true, 0, &admin, &err), 0);
    last_event(fx, &e);
    assert_string_equal(e.kind, "deactivated");
    j = part_event_to_json(&e);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "caller"), "role")),
                        "admin");
    assert_null(json_object_get(json_object_get(j, "caller"), "uid")); /* TCP: unknown */
    json_decref(j);

    assert_int_equal(part_mgr_activate(fx->mgr, "test", NULL, &err), 0);
    last_event(fx, &e);
    assert_string_equal(e.by, "api");
    j = part_event_to_json(&e);
    assert_null(json_object_get(j, "caller"));
    json_decref(j);
}

/* Guests that ignore a shutdown request: the test driver, except that
 * asking (without force) leaves the domain running; force destroys it. */
static struct part_hv_ops deaf_ops;

static int deaf_deactivate(struct part_hv *hv, const char *domain, unsigned timeout_ms, bool force,
                           struct part_error *err)
{
    if (!force)
        return part_error_set(err, -ETIMEDOUT, NULL, "%s: still running", domain);
    return part_hv_libvirt_ops.deactivate(hv, domain, 0, true, err);
}

static int setup_deaf(void **state)
{
    setup(state);
    struct fixture *fx = *state;
    part_mgr_close(fx->mgr);
    deaf_ops = part_hv_libvirt_ops;
    deaf_ops.name = "test driver with deaf guests";
    deaf_ops.deactivate = deaf_deactivate;
    assert_int_equal(mgr_open_dir_ops(fx, &deaf_ops), 0);
    return 0;
}

/* part_mgr_deactivate() on a thread, timed. */
struct deact_call {
    struct part_mgr *mgr;
    const char *name;
    bool force;
    unsigned ms;
    const struct part_caller *caller;
    int r;
    double seconds;
};

static void *deact_run(void *opaque)
{
    struct deact_call *c = opaque;
    struct part_error err = {0};
    double t = now_s();
    c->r = part_mgr_deactivate(c->mgr, c->name, c->force, c->ms, c->caller, &err);
    c->seconds = now_s() - t;
    return NULL;
}

static const char *state_of(struct fixture *fx, const char *name, bool *deactivating)
{
    json_t *j = get(fx, name);
    static char state[16];
    snprintf(state, sizeof(state), "%s", json_string_value(json_object_get(j, "state")));
    *deactivating = json_is_true(json_object_get(j, "deactivating"));
    json_decref(j);
    return state;
}

/* The wait for a guest holds no lock: the other partition is resized
 * meanwhile, this one's changes are -EBUSY; the deadline, force and
 * part_mgr_shutdown() end it. */
static void test_deactivate_waits_without_lock(void **state)
{
    struct fixture *fx = *state;
    struct part_error err = {0};
    struct part_resize req;
    struct part_changes ch;
    pthread_t t;
    bool deactivating;
    static const char two[] = "{\"processors\": 2, \"scope\": \"running\"}";

    assert_int_equal(part_mgr_deactivate(fx->mgr, "prod", false, 601000, NULL, &err), -ERANGE);
    assert_string_equal(err.field, "timeout");
    assert_int_equal(part_mgr_activate(fx->mgr, "test", NULL, &err), 0);
    struct deact_call c = {fx->mgr, "prod", false, 1500, NULL, 0, 0};
    assert_int_equal(pthread_create(&t, NULL, deact_run, &c), 0);
    usleep(300 * 1000);
    assert_string_equal(state_of(fx, "prod", &deactivating), "active");
    assert_true(deactivating);
    assert_int_equal(part_resize_parse(two, strlen(two), &req, &err), 0);
    double t0 = now_s();
    assert_int_equal(part_mgr_resize(fx->mgr, "test", &req, NULL, &ch, &err), 0);
    assert_true(now_s() - t0 < 0.5);
    assert_int_equal(part_mgr_resize(fx->mgr, "prod", &req, NULL, &ch, &err), -EBUSY);
    assert_int_equal(part_mgr_deactivate(fx->mgr, "prod", true, 0, NULL, &err), -EBUSY);
    pthread_join(t, NULL);
    assert_int_equal(c.r, -ETIMEDOUT); /* no force: it stays active */
    assert_true(c.seconds >= 1.4);
    assert_string_equal(state_of(fx, "prod", &deactivating), "active");
    assert_false(deactivating);

    /* force: destroyed at the deadline; the event names the caller who
     * asked, though it is recorded after the wait */
    const struct part_caller op = {.role = PART_ROLE_OPERATOR, .uid = 1000};
    struct part_event e;
    c = (struct deact_call){fx->mgr, "prod", true, 300, &op, 0, 0};
    deact_run(&c);
    assert_int_equal(c.r, 0);
    assert_true(c.seconds >= 0.29);
    assert_string_equal(state_of(fx, "prod", &deactivating), "inactive");
    last_event(fx, &e);
    assert_string_equal(e.kind, "deactivated");
    assert_string_equal(e.partition, "prod");
    assert_int_equal(e.caller.role, PART_ROLE_OPERATOR);
    assert_int_equal(e.caller.uid, 1000);

    c = (struct deact_call){fx->mgr, "test", false, 60000, NULL, 0, 0};
    assert_int_equal(pthread_create(&t, NULL, deact_run, &c), 0);
    usleep(300 * 1000);
    part_mgr_shutdown(fx->mgr);
    pthread_join(t, NULL);
    assert_int_equal(c.r, -ECANCELED);
    assert_true(c.seconds < 1.0);
}

static void test_define(void **state)
{
    struct fixture *fx = *state;
    struct part_error err = {0};
    char name[64];
    static const char body[] = "{\"name\": \"new\", \"processors\": {\"initial\": 1},\n"
                               " \"memory\": {\"initial\": \"1GiB\", \"min\": \"2GiB\"}}";
    assert_int_equal(part_mgr_define(fx->mgr, body, strlen(body), NULL, name, &err), -EINVAL);
    assert_int_equal(err.line, 2);
    assert_string_equal(err.field, "memory.min");
    static const char good[] = "{\"name\": \"new\", \"processors\": {\"initial\": 1},"
                               " \"memory\": {\"initial\": \"1GiB\"}}";
    memset(&err, 0, sizeof(err));
    assert_int_equal(part_mgr_define(fx->mgr, good, strlen(good), NULL, name, &err), 0);
    assert_string_equal(name, "new");
    assert_int_equal(part_mgr_define(fx->mgr, good, strlen(good), NULL, name, &err), -EEXIST);
    assert_int_equal(part_mgr_activate(fx->mgr, "new", NULL, &err), 0);
    static const char huge[] = "{\"name\": \"huge\", \"processors\": {\"initial\": 1},"
                               " \"memory\": {\"initial\": \"64GiB\"}}";
    assert_int_equal(part_mgr_define(fx->mgr, huge, strlen(huge), NULL, name, &err), -ENOSPC);
}

static void test_restart_restores_running_values(void **state)
{
    struct fixture *fx = *state;
    struct part_resize req = {.scope = PART_SCOPE_RUNNING,
                              .has[PART_SET_PROCESSORS] = true,
                              .to[PART_SET_PROCESSORS] = 3,
                              .has[PART_SET_WEIGHT] = true,
                              .to[PART_SET_WEIGHT] = 450,
                              .has[PART_SET_CAP] = true,
                              .to[PART_SET_CAP] = 1.5};
    struct part_changes c;
    struct part_error err = {0};
    assert_int_equal(part_mgr_resize(fx->mgr, "prod", &req, NULL, &c, &err), 0);
    assert_int_equal(part_mgr_deactivate(fx->mgr, "prod", true, 0, NULL, &err), 0);
    assert_int_equal(part_mgr_activate(fx->mgr, "prod", NULL, &err), 0);
    assert_int_equal(part_mgr_resize(fx->mgr, "prod", &req, NULL, &c, &err), 0);
    /* the test driver forgets everything with its connection: partd's state
     * file brings the partition back with its running values */
    part_mgr_close(fx->mgr);
    fx->mgr = NULL;
    assert_int_equal(mgr_open_dir(fx), 0);
    json_t *prod = get(fx, "prod"), *test = get(fx, "test");
    assert_string_equal(json_string_value(json_object_get(prod, "state")), "active");
    assert_int_equal(geti(prod, "processors", "online"), 3);
    assert_int_equal(geti(prod, "weight", "current"), 450);
    assert_float_equal(json_real_value(json_object_get(json_object_get(prod, "cap"), "current")),
                       1.5, 1e-9);
    assert_string_equal(json_string_value(json_object_get(test, "state")), "inactive");
    json_decref(prod);
    json_decref(test);
}

static void test_deactivated_stays_down_after_restart(void **state)
{
    struct fixture *fx = *state;
    struct part_error err = {0};
    /* prod is autostart, but the user deactivated it: a restart keeps it down */
    assert_int_equal(part_mgr_deactivate(fx->mgr, "prod", true, 0, NULL, &err), 0);
    part_mgr_close(fx->mgr);
    fx->mgr = NULL;
    assert_int_equal(mgr_open_dir(fx), 0);
    json_t *prod = get(fx, "prod");
    assert_string_equal(json_string_value(json_object_get(prod, "state")), "inactive");
    json_decref(prod);
}

static void test_stale_temporary_files_removed(void **state)
{
    struct fixture *fx = *state;
    char path[256];
    /* what a partd killed in the middle of an atomic write leaves behind */
    part_mgr_close(fx->mgr);
    fx->mgr = NULL;
    golden_write_file(fx->dir, "partitions.d/prod.json.tmp.4242", "{\"half\":");
    golden_write_file(fx->dir, "state/state.json.tmp.17", "{");
    golden_write_file(fx->dir, "partitions.d/keep.tmp.txt", "not ours");
    assert_int_equal(mgr_open_dir(fx), 0);
    snprintf(path, sizeof(path), "%s/partitions.d/prod.json.tmp.4242", fx->dir);
    assert_int_equal(access(path, F_OK), -1);
    snprintf(path, sizeof(path), "%s/state/state.json.tmp.17", fx->dir);
    assert_int_equal(access(path, F_OK), -1);
    snprintf(path, sizeof(path), "%s/partitions.d/keep.tmp.txt", fx->dir);
    assert_int_equal(access(path, F_OK), 0);
}

static void test_reload(void **state)
{
    struct fixture *fx = *state;
    struct part_error err = {0};
    char path[128];
    golden_write_file(fx->dir, "partitions.d/extra.json",
                      "{\"name\": \"extra\", \"processors\": {\"initial\": 1},"
                      " \"memory\": {\"initial\": \"1GiB\"}}");
    golden_write_file(fx->dir, "partitions.d/broken.json", "{");
    snprintf(path, sizeof(path), "%s/partitions.d/test.json", fx->dir);
    unlink(path);
    assert_int_equal(part_mgr_reload(fx->mgr, &err), 0);
    json_t *extra = get(fx, "extra"), *test = get(fx, "test"), *prod = get(fx, "prod");
    assert_non_null(extra);
    assert_null(test); /* unmanaged now */
    assert_string_equal(json_string_value(json_object_get(prod, "state")), "active");
    json_decref(extra);
    json_decref(prod);
}

/* Templates are read with the profiles, before the lock, and read again
 * on reload: a template changed in place is a changed profile. */
static void test_reload_template(void **state)
{
    struct fixture *fx = *state;
    struct part_error err = {0};
    char dir[128];

    snprintf(dir, sizeof(dir), "%s/templates", fx->dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    golden_write_file(dir, "t.xml",
                      "<domain type='test'><name>x</name><memory>524288</memory>"
                      "<os><type>hvm</type></os></domain>\n");
    golden_write_file(
        fx->dir, "partitions.d/tmpl.json",
        "{\"name\": \"tmpl\", \"processors\": {\"initial\": 1},"
        " \"memory\": {\"initial\": \"1GiB\"}, \"domain\": {\"template\": \"t.xml\"}}");
    assert_int_equal(part_mgr_reload(fx->mgr, &err), 0);
    json_t *tmpl = get(fx, "tmpl");
    assert_non_null(tmpl);
    json_decref(tmpl);
    mgr_log_text[0] = '\0';
    assert_int_equal(part_mgr_reload(fx->mgr, &err), 0); /* nothing changed */
    assert_null(strstr(mgr_log_text, "tmpl: profile changed"));
    golden_write_file(dir, "t.xml", "not XML\n");
    assert_int_equal(part_mgr_reload(fx->mgr, &err), 0);
    assert_non_null(strstr(mgr_log_text, "tmpl: cannot redefine its domain: domain.template: "));
    assert_non_null(strstr(mgr_log_text, "t.xml is not a libvirt domain XML"));
    assert_non_null(strstr(mgr_log_text, "tmpl: profile changed"));
    /* a template partd may not read is a broken file: the partition stays */
    char path[160];
    snprintf(path, sizeof(path), "%s/t.xml", dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkfifo(path, 0600), 0);
    mgr_log_text[0] = '\0';
    assert_int_equal(part_mgr_reload(fx->mgr, &err), 0);
    assert_non_null(strstr(mgr_log_text, "t.xml is a FIFO, not a regular file (left as it was)"));
    tmpl = get(fx, "tmpl");
    assert_non_null(tmpl);
    json_decref(tmpl);
}

/* A CPC of two busy/idle partitions sampled every 0.1 s under policy. */
static int setup_demand(void **state, const char *policy)
{
    struct fixture *fx = fixture_new();
    char conf[512];
    golden_write_file(fx->dir, "cpc.xml", node_xml);
    snprintf(conf, sizeof(conf),
             "{ \"uri\": \"test:cpc.xml\", \"state_dir\": \"state\", \"interval\": 0.1,"
             " \"policies_dir\": \"%s/tests/unit/manager\", \"policy\": \"%s\","
             " \"cpc\": { \"host_reserved_cpus\": 2, \"host_reserved_memory\": \"2GiB\" } }\n",
             getenv("PART_SRCDIR") ? getenv("PART_SRCDIR") : "..", policy);
    golden_write_file(fx->dir, "partd.json", conf);
    golden_write_file(fx->dir, "partitions.d/busy.json",
                      "{ \"name\": \"busy\", \"processors\": { \"initial\": 4 },"
                      " \"weight\": { \"initial\": 100, \"min\": 50, \"max\": 400 },"
                      " \"memory\": { \"initial\": \"1GiB\" }, \"autostart\": true }\n");
    golden_write_file(fx->dir, "partitions.d/idle.json",
                      "{ \"name\": \"idle\", \"processors\": { \"initial\": 4 },"
                      " \"weight\": { \"initial\": 300, \"min\": 50, \"max\": 400 },"
                      " \"memory\": { \"initial\": \"1GiB\" }, \"autostart\": true }\n");
    /* pool 6: busy is entitled to 6 x 100/400 = 1.5, idle to 4 (its 4 online
     * processors), which leaves busy 2; busy wants 3.5, idle 0.1 */
    demand_set(0, "busy", 3.5);
    demand_set(1, "idle", 0.1);
    demand_ops = part_hv_libvirt_ops;
    demand_ops.name = "test driver with demand";
    demand_ops.stats = demand_stats;
    assert_int_equal(mgr_open_dir_ops(fx, &demand_ops), 0);
    *state = fx;
    return 0;
}

static int setup_manual(void **state)
{
    return setup_demand(state, "manual");
}

static int setup_auto(void **state)
{
    return setup_demand(state, "auto");
}

static int setup_static(void **state)
{
    return setup_demand(state, "static");
}

/* Whether an event of kind by who mentions text. */
static bool event_seen(struct fixture *fx, const char *kind, const char *by, const char *text)
{
    struct part_event evs[64];
    size_t n = part_events_since(part_mgr_events(fx->mgr), 0, evs, 64);
    for (size_t i = 0; i < n; i++)
        if (strcmp(evs[i].kind, kind) == 0 && strcmp(evs[i].by, by) == 0 &&
            strstr(evs[i].message, text))
            return true;
    return false;
}

static void test_monitor_measures_use(void **state)
{
    struct fixture *fx = *state;
    usleep(600 * 1000); /* several samples at 0.1 s */
    json_t *busy = get(fx, "busy");
    json_t *u = json_object_get(busy, "utilisation");
    assert_true(json_is_object(u));
    /* the fake counter and the monitor read two clocks a few ms apart: 3.5 +- 25% */
    assert_float_equal(json_real_value(json_object_get(u, "used")), 3.5, 0.9);
    json_decref(busy);
}

static void test_rebalance_on_request(void **state)
{
    struct fixture *fx = *state;
    struct part_error err = {0};
    json_t *plan, *done;
    usleep(600 * 1000);
    assert_int_equal(part_mgr_plan(fx->mgr, NULL, &plan, &err), 0);
    json_t *actions = json_object_get(plan, "actions");
    assert_true(json_array_size(actions) >= 2);
    /* the plan alone changes nothing */
    json_t *busy = get(fx, "busy");
    assert_int_equal(geti(busy, "weight", "current"), 100);
    json_decref(busy);
    json_decref(plan);

    assert_int_equal(part_mgr_rebalance(fx->mgr, NULL, &done, &err), 0);
    json_t *a = json_array_get(json_object_get(done, "actions"), 0);
    assert_non_null(strstr(json_string_value(json_object_get(a, "reason")), "demand"));
    /* the test driver cannot apply weights: recorded, and said so */
    assert_string_equal(json_string_value(json_object_get(a, "status")), "unsupported");
    json_decref(done);
    busy = get(fx, "busy");
    json_t *idle = get(fx, "idle");
    json_int_t wb = geti(busy, "weight", "current"), wi = geti(idle, "weight", "current");
    assert_true(wb > 100);
    assert_true(wi < 300);
    assert_int_equal(wb + wi, 400); /* the cluster's total is conserved */
    assert_true(json_real_value(json_object_get(busy, "entitlement")) > 2.0);
    json_decref(busy);
    json_decref(idle);
    assert_true(event_seen(fx, "rebalanced", "api", "demand"));
}

/* Under static, whose snapshots hold no histories, a preview of an acting
 * policy plans from the model: the same demand as under that policy. */
static void test_preview_under_static(void **state)
{
    struct fixture *fx = *state;
    struct part_error err = {0};
    json_t *plan;
    usleep(600 * 1000);
    assert_int_equal(part_mgr_plan(fx->mgr, NULL, &plan, &err), 0);
    assert_int_equal(json_array_size(json_object_get(plan, "actions")), 0);
    json_int_t sample = json_integer_value(json_object_get(plan, "sample"));
    assert_true(sample >= 3); /* 0.6 s at 0.1 s */
    json_decref(plan);
    assert_int_equal(part_mgr_plan(fx->mgr, "manual", &plan, &err), 0);
    assert_string_equal(json_string_value(json_object_get(plan, "policy")), "manual");
    assert_true(json_array_size(json_object_get(plan, "actions")) >= 2);
    assert_true(json_integer_value(json_object_get(plan, "sample")) >= sample);
    json_decref(plan);
    /* nothing switched, nothing applied */
    json_t *busy = get(fx, "busy");
    assert_int_equal(geti(busy, "weight", "current"), 100);
    json_decref(busy);
}

/* The policies to switch to: the directory's valid files and the built-in
 * static, sorted, the one in force marked, no paths. */
static void test_policies_list(void **state)
{
    struct fixture *fx = *state;
    json_t *list = part_mgr_policies_json(fx->mgr);
    char *text = json_dumps(list, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text,
                        "{\"policies\":["
                        "{\"active\":false,\"description\":\"Weights only, planned every 0.2 s.\","
                        "\"name\":\"auto\"},"
                        "{\"active\":false,\"description\":\"Weights only, planned on request (the "
                        "automatic interval is an hour).\",\"name\":\"manual\"},"
                        "{\"active\":true,\"description\":\"observe only\",\"name\":\"static\"}]}");
    free(text);
    json_decref(list);
}

static void test_rebalance_by_policy(void **state)
{
    struct fixture *fx = *state;
    /* the manager's own loop plans every 0.2 s: weight flows to busy until
     * its entitlement covers its demand or the bounds stop it */
    json_int_t wb = 0;
    for (int i = 0; i < 50 && wb < 400; i++) {
        usleep(100 * 1000);
        json_t *busy = get(fx, "busy");
        wb = geti(busy, "weight", "current");
        json_decref(busy);
    }
    assert_true(wb > 100);
    assert_true(event_seen(fx, "rebalanced", "policy", "demand"));
    json_t *idle = get(fx, "idle");
    assert_true(geti(idle, "weight", "current") >= 50); /* never below its min */
    json_decref(idle);
}

static void test_policy_switch(void **state)
{
    struct fixture *fx = *state;
    struct part_error err = {0};
    assert_int_equal(part_mgr_policy_set(fx->mgr, "auto", NULL, &err), 0);
    json_t *p = part_mgr_policy_json(fx->mgr);
    assert_string_equal(json_string_value(json_object_get(p, "name")), "auto");
    json_decref(p);
    assert_int_equal(part_mgr_policy_set(fx->mgr, "nosuch", NULL, &err), -ENOENT);
    assert_int_equal(part_mgr_policy_set(fx->mgr, "static", NULL, &err), 0); /* built in */
    assert_true(event_seen(fx, "policy", "api", "auto -> static"));
    /* the switch outlives a restart */
    assert_int_equal(part_mgr_policy_set(fx->mgr, "auto", NULL, &err), 0);
    part_mgr_close(fx->mgr);
    fx->mgr = NULL;
    assert_int_equal(mgr_open_dir_ops(fx, &demand_ops), 0);
    p = part_mgr_policy_json(fx->mgr);
    assert_string_equal(json_string_value(json_object_get(p, "name")), "auto");
    json_decref(p);
}

static void test_resize_parse(void **state)
{
    struct part_resize req;
    struct part_error err = {0};
    static const char ok[] = "{\"processors\": 3, \"memory\": \"2GiB\", \"cap\": null,"
                             " \"scope\": \"running\"}";
    assert_int_equal(part_resize_parse(ok, strlen(ok), &req, &err), 0);
    assert_true(req.has[PART_SET_PROCESSORS] && req.has[PART_SET_MEMORY] && req.has[PART_SET_CAP] &&
                !req.has[PART_SET_WEIGHT]);
    assert_int_equal(req.to[PART_SET_MEMORY], 2048);
    assert_true(req.to[PART_SET_CAP] == PART_CAP_NONE);
    assert_int_equal(req.scope, PART_SCOPE_RUNNING);
    static const char bad[] = "{\"processors\": 3,\n \"scope\": \"later\"}";
    assert_int_equal(part_resize_parse(bad, strlen(bad), &req, &err), -EINVAL);
    assert_string_equal(err.field, "scope");
    assert_int_equal(err.line, 2);
    assert_int_equal(part_resize_parse("{}", 2, &req, &err), -ENODATA);
    static const char unk[] = "{\"cpus\": 3}";
    assert_int_equal(part_resize_parse(unk, strlen(unk), &req, &err), -EINVAL);
    assert_string_equal(err.field, "cpus");
}

/*
 * Domains partd did not define. The host has two: "legacy" runs, and a
 * profile of its name asks partd to define it (as one defined by an
 * earlier partd, without marks, would), its state file saying it was
 * active; "spare" is shut off. A backend that keeps its connection lets
 * the test start a domain outside partd.
 */
static const char foreign_node_xml[] =
    "<node xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>"
    "<cpu><mhz>3000</mhz><model>x86_64</model><active>8</active><nodes>1</nodes>"
    "<sockets>1</sockets><cores>4</cores><threads>2</threads></cpu>"
    "<memory>16777216</memory>"
    "<domain type='test'><name>legacy</name><memory unit='GiB'>1</memory>"
    "<vcpu current='1'>4</vcpu><os><type>hvm</type></os></domain>"
    "<domain type='test'><name>spare</name><memory unit='GiB'>3</memory>"
    "<vcpu current='3'>6</vcpu><os><type>hvm</type></os><test:runstate>5</test:runstate>"
    "</domain></node>\n";
static struct part_hv_ops keep_ops;
static struct part_hv *kept_hv;

static int keep_open(const char *uri, bool read_only, struct part_hv **ret, struct part_error *err)
{
    int r = part_hv_libvirt_ops.open(uri, read_only, ret, err);
    if (r == 0 && !read_only)
        kept_hv = *ret;
    return r;
}

static int setup_foreign(void **state)
{
    struct fixture *fx = fixture_new();
    char sub[128];
    snprintf(sub, sizeof(sub), "%s/state", fx->dir);
    mkdir(sub, 0700);
    golden_write_file(fx->dir, "cpc.xml", foreign_node_xml);
    golden_write_file(fx->dir, "partd.json", partd_json);
    golden_write_file(fx->dir, "partitions.d/prod.json", prod_json);
    golden_write_file(fx->dir, "partitions.d/legacy.json",
                      "{ \"name\": \"legacy\", \"processors\": { \"initial\": 2, \"reserved\": 2 },"
                      " \"memory\": { \"initial\": \"1GiB\" }, \"autostart\": true }\n");
    golden_write_file(
        fx->dir, "state/state.json",
        "{ \"version\": 1, \"partitions\": { \"legacy\": { \"active\": true,"
        " \"processors\": 2, \"memory\": 1024, \"weight\": 100, \"cap\": null } } }\n");
    keep_ops = part_hv_libvirt_ops;
    keep_ops.open = keep_open;
    assert_int_equal(mgr_open_dir_ops(fx, &keep_ops), 0);
    *state = fx;
    return 0;
}

static const char *managed_domain(struct fixture *fx, const char *name, const char **state)
{
    static char buf[2][32];
    json_t *j = get(fx, name);
    assert_non_null(j);
    snprintf(buf[0], sizeof(buf[0]), "%s", json_string_value(json_object_get(j, "state")));
    snprintf(buf[1], sizeof(buf[1]), "%s", json_string_value(json_object_get(j, "managed_domain")));
    json_decref(j);
    *state = buf[0];
    return buf[1];
}

static int define(struct fixture *fx, const char *body, struct part_error *err)
{
    char name[PART_NAME_MAX];
    memset(err, 0, sizeof(*err));
    return part_mgr_define(fx->mgr, body, strlen(body), NULL, name, err);
}

/* At start, neither adopted as it runs nor activated as the state file
 * asks; reported; refused at activation; released by DELETE. */
static void test_foreign_at_start(void **state)
{
    struct fixture *fx = *state;
    struct part_error err = {0};
    const char *st;
    assert_string_equal(managed_domain(fx, "legacy", &st), "foreign");
    assert_string_equal(st, "inactive");
    assert_string_equal(managed_domain(fx, "prod", &st), "defined");
    assert_string_equal(st, "active");
    assert_true(event_seen(fx, "foreign", "partd", "domain legacy exists and partd did not"));
    assert_int_equal(part_mgr_activate(fx->mgr, "legacy", NULL, &err), -EEXIST);
    assert_non_null(strstr(err.message, "legacy: a domain of this name exists"));
    assert_int_equal(part_mgr_undefine(fx->mgr, "legacy", NULL, &err), 0);
    assert_null(get(fx, "legacy"));
    assert_true(event_seen(fx, "undefined", "api", "domain legacy released, left as it is"));
    /* still there, still running: adopted, it is active at once after a restart */
    assert_int_equal(define(fx,
                            "{\"name\": \"legacy\", \"domain\": {\"adopt\": \"legacy\"},"
                            " \"processors\": {\"initial\": 1, \"reserved\": 4},"
                            " \"memory\": {\"initial\": \"1GiB\"}}",
                            &err),
                     0);
    part_mgr_close(fx->mgr);
    fx->mgr = NULL;
    assert_int_equal(mgr_open_dir_ops(fx, &keep_ops), 0);
    assert_string_equal(managed_domain(fx, "legacy", &st), "adopted");
    assert_string_equal(st, "active");
    json_t *j = get(fx, "legacy");
    assert_int_equal(geti(j, "processors", "online"), 1); /* as it ran, not as defined */
    json_decref(j);
}

static void test_foreign_define_refused(void **state)
{
    struct fixture *fx = *state;
    struct part_error err = {0};
    char path[128];
    /* what a redefinition would have shrunk the domain to */
    static const char over[] =
        "{\"name\": \"spare\", \"processors\": {\"initial\": 1, \"reserved\": "
        "1}, \"memory\": {\"initial\": 512, \"reserved\": 512}}";
    static const char adopt[] = "{\"name\": \"keep\", \"domain\": {\"adopt\": \"spare\"},"
                                " \"processors\": {\"initial\": 3, \"reserved\": 6},"
                                " \"memory\": {\"initial\": \"3GiB\"}}";
    assert_int_equal(define(fx, over, &err), -EEXIST);
    assert_non_null(strstr(err.message, "spare: a domain of this name exists and partd did not "
                                        "define it (no partd mark)"));
    assert_non_null(strstr(err.message, "domain.adopt"));
    assert_null(get(fx, "spare"));
    snprintf(path, sizeof(path), "%s/partitions.d/spare.json", fx->dir);
    assert_int_equal(access(path, F_OK), -1);
    /* adopted: it has its 6 processors and 3 GiB still, so 3 of them fit */
    assert_int_equal(define(fx, adopt, &err), 0);
    assert_int_equal(part_mgr_activate(fx->mgr, "keep", NULL, &err), 0);
    json_t *j = get(fx, "keep");
    assert_int_equal(geti(j, "processors", "online"), 3);
    json_decref(j);
    assert_int_equal(part_mgr_deactivate(fx->mgr, "keep", true, 0, NULL, &err), 0);
    /* released, not undefined: it can be adopted again, and is still not partd's */
    assert_int_equal(part_mgr_undefine(fx->mgr, "keep", NULL, &err), 0);
    assert_true(event_seen(fx, "undefined", "api", "domain spare released"));
    assert_int_equal(define(fx, over, &err), -EEXIST);
    assert_int_equal(define(fx, adopt, &err), 0);
    /* a domain partd defined is undefined with its partition */
    assert_int_equal(part_mgr_deactivate(fx->mgr, "prod", true, 0, NULL, &err), 0);
    assert_int_equal(part_mgr_undefine(fx->mgr, "prod", NULL, &err), 0);
    assert_true(event_seen(fx, "undefined", "api", "undefined with its domain"));
    static const char again[] =
        "{\"name\": \"again\", \"domain\": {\"adopt\": \"prod\"},"
        " \"processors\": {\"initial\": 1}, \"memory\": {\"initial\": 512}}";
    assert_int_equal(define(fx, again, &err), -EINVAL);
    assert_string_equal(err.field, "domain.adopt");
}

/* A profile that appears for a foreign domain (SIGHUP) is reported the
 * same way; the domain starting outside partd is not the partition running. */
static void test_foreign_reload_and_events(void **state)
{
    struct fixture *fx = *state;
    struct part_error err = {0};
    const char *st;
    golden_write_file(fx->dir, "partitions.d/spare.json",
                      "{ \"name\": \"spare\", \"processors\": { \"initial\": 1 },"
                      " \"memory\": { \"initial\": \"1GiB\" } }\n");
    assert_int_equal(part_mgr_reload(fx->mgr, &err), 0);
    assert_string_equal(managed_domain(fx, "spare", &st), "foreign");
    assert_non_null(kept_hv);
    assert_int_equal(part_hv_activate(kept_hv, "spare", &err), 0);
    usleep(300 * 1000); /* the manager's thread handles the event */
    assert_string_equal(managed_domain(fx, "spare", &st), "foreign");
    assert_string_equal(st, "inactive");
    assert_false(event_seen(fx, "started", "backend", "spare"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_autostart_and_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resize_running, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resize_checked_before_applied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resize_profile_writes_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_activate_deactivate_undefine, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_name_the_caller, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deactivate_waits_without_lock, setup_deaf, teardown),
        cmocka_unit_test_setup_teardown(test_define, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_restores_running_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deactivated_stays_down_after_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_template, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_temporary_files_removed, setup, teardown),
        cmocka_unit_test(test_resize_parse),
        cmocka_unit_test_setup_teardown(test_monitor_measures_use, setup_manual, teardown),
        cmocka_unit_test_setup_teardown(test_rebalance_on_request, setup_manual, teardown),
        cmocka_unit_test_setup_teardown(test_preview_under_static, setup_static, teardown),
        cmocka_unit_test_setup_teardown(test_policies_list, setup_static, teardown),
        cmocka_unit_test_setup_teardown(test_rebalance_by_policy, setup_auto, teardown),
        cmocka_unit_test_setup_teardown(test_policy_switch, setup_manual, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_at_start, setup_foreign, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_define_refused, setup_foreign, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_reload_and_events, setup_foreign, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
