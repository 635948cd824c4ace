/* Policies: the golden files under policy/ (each fail-NAME.json fails with
 * exactly the message in fail-NAME.ok, each pass-NAME.json loads and
 * survives a round trip through JSON), the shipped policies, defaults, and
 * loading by name. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <part/policy.h>

#include "golden.h"

#define FIXTURES       "unit/policy"
#define SHIPPED        "../policies"
#define MIN_FAIL_FILES 10
#define MIN_PASS_FILES 4

/* Parses the file at path as a policy. */
static int parse_file(const char *path, struct part_policy *ret, struct part_error *err)
{
    size_t len;
    char *text = golden_read_file(path, &len);
    int r = part_policy_parse(text, len, path, ret, err);
    free(text);
    return r;
}

static struct part_policy parse_ok(const char *text)
{
    struct part_policy p;
    struct part_error err;
    char buf[1024];

    if (part_policy_parse(text, strlen(text), NULL, &p, &err) < 0)
        fail_msg("unexpected error: %s", part_error_format(&err, buf, sizeof(buf)));
    return p;
}

static void assert_policy_equal(const struct part_policy *a, const struct part_policy *b)
{
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->description, b->description);
    assert_int_equal(a->weights, b->weights);
    assert_int_equal(a->processors, b->processors);
    assert_int_equal(a->memory, b->memory);
    assert_int_equal(a->defined_capacity, b->defined_capacity);
    assert_true(a->interval == b->interval);
    assert_int_equal(a->samples, b->samples);
    assert_true(a->deadband == b->deadband);
    assert_int_equal(a->weight_step, b->weight_step);
    assert_true(a->stabilization == b->stabilization);
    assert_true(a->cooldown_weight == b->cooldown_weight);
    assert_true(a->cooldown_processors == b->cooldown_processors);
    assert_true(a->cooldown_memory == b->cooldown_memory);
    assert_true(a->processors_high == b->processors_high);
    assert_true(a->processors_low == b->processors_low);
    assert_int_equal(a->memory_headroom, b->memory_headroom);
    assert_int_equal(a->memory_step, b->memory_step);
    assert_int_equal(a->memory_deadband, b->memory_deadband);
    assert_int_equal(a->memory_floor, b->memory_floor);
    assert_true(a->memory_faults == b->memory_faults);
    assert_true(a->memory_swap == b->memory_swap);
    assert_true(a->memory_host_psi == b->memory_host_psi);
    assert_true(a->dc_window == b->dc_window);
}

/* Golden files */

/* Parses the file at path as a policy (which holds nothing to free). */
static int parse_only(const char *path, struct part_error *err)
{
    struct part_policy p;
    return parse_file(path, &p, err);
}

static void test_fail_fixtures(void **state)
{
    golden_check_failures(FIXTURES, MIN_FAIL_FILES, parse_only);
}

static void check_pass(const char *path)
{
    struct part_policy p;
    struct part_error err;
    char buf[1024];
    if (parse_file(path, &p, &err) < 0)
        fail_msg("%s: %s", path, part_error_format(&err, buf, sizeof(buf)));
}

static void test_pass_fixtures(void **state)
{
    golden_check_passes(FIXTURES, MIN_PASS_FILES, check_pass);
}

/* parse(dumps(to_json(p))) == p for the pass fixtures and the shipped
 * policies. */
static void round_trip_dir(const char *dir, const char *prefix)
{
    size_t n;
    char **paths = golden_list_fixtures(dir, prefix, &n);

    assert_true(n > 0);
    for (size_t i = 0; i < n; i++) {
        struct part_policy p, q;
        assert_int_equal(parse_file(paths[i], &p, NULL), 0);
        json_t *j = part_policy_to_json(&p);
        assert_non_null(j);
        char *text = json_dumps(j, JSON_INDENT(2));
        assert_non_null(text);
        q = parse_ok(text);
        assert_policy_equal(&p, &q);
        free(text);
        json_decref(j);
    }
    golden_free_list(paths, n);
}

static void test_round_trip(void **state)
{
    round_trip_dir(FIXTURES, "pass-");
    round_trip_dir(SHIPPED, "");
}

/* The shipped policies */

static struct part_policy load_ok(const char *dir, const char *name)
{
    struct part_policy p;
    struct part_error err;
    char buf[1024];

    if (part_policy_load(dir, name, &p, &err) < 0)
        fail_msg("unexpected error: %s", part_error_format(&err, buf, sizeof(buf)));
    assert_string_equal(p.name, name);
    return p;
}

static void test_shipped_static(void **state)
{
    struct part_policy p = load_ok(SHIPPED, "static");
    assert_false(p.weights);
    assert_false(p.processors);
    assert_false(p.memory);
    assert_false(p.defined_capacity);
    assert_true(p.description[0] != '\0');
}

static void test_shipped_ird(void **state)
{
    struct part_policy p = load_ok(SHIPPED, "ird");
    assert_true(p.weights);
    assert_false(p.processors);
    assert_false(p.memory);
    assert_true(p.defined_capacity);
}

static void test_shipped_balanced(void **state)
{
    struct part_policy p = load_ok(SHIPPED, "balanced");
    assert_true(p.weights);
    assert_true(p.processors);
    assert_true(p.memory);
    assert_true(p.defined_capacity);
    assert_true(p.interval == 2);
    assert_int_equal(p.samples, 3);
    assert_true(p.deadband == 0.1);
    assert_int_equal(p.weight_step, 300);
    assert_true(p.cooldown_weight == 4);
    assert_true(p.cooldown_processors == 6);
    assert_true(p.cooldown_memory == 6);
    assert_true(p.processors_high == 0.9);
    assert_true(p.processors_low == 0.3);
    assert_int_equal(p.memory_headroom, 256);
    assert_int_equal(p.memory_step, 512);
    assert_int_equal(p.memory_deadband, 64);
    assert_true(p.dc_window == 14400);
}

/* Defaults */

static void test_defaults(void **state)
{
    struct part_policy d, p = parse_ok("{\"name\": \"m\"}");

    part_policy_default(&d);
    assert_string_equal(p.name, "m");
    assert_string_equal(p.description, "");
    /* nothing managed unless said */
    assert_false(p.weights || p.processors || p.memory || p.defined_capacity);
    assert_false(d.weights || d.processors || d.memory || d.defined_capacity);
    strcpy(d.name, "m");
    d.description[0] = '\0';
    assert_policy_equal(&p, &d);
    assert_true(d.interval == 2);
    assert_int_equal(d.samples, 3);
}

static void test_partial_sections_keep_defaults(void **state)
{
    struct part_policy p =
        parse_ok("{\"name\": \"m\", \"cooldown\": {\"weight\": 9}, \"processors\": {\"low\": 0.1},"
                 " \"memory\": {\"step\": \"1GiB\"}, \"manage\": {\"memory\": true}}");
    assert_true(p.cooldown_weight == 9);
    assert_true(p.cooldown_processors == 10);
    assert_true(p.processors_low == 0.1);
    assert_true(p.processors_high == 0.9);
    assert_int_equal(p.memory_step, 1024);
    assert_int_equal(p.memory_headroom, 256);
    assert_true(p.memory);
    assert_false(p.weights);
}

static void test_memory_pressure_knobs(void **state)
{
    struct part_policy p = parse_ok("{\"name\": \"m\", \"memory\": {\"floor\": \"96MiB\","
                                    " \"major_faults\": 120, \"swap\": 0.5, \"host_psi\": 20}}");
    assert_int_equal(p.memory_floor, 96);
    assert_true(p.memory_faults == 120);
    assert_true(p.memory_swap == 0.5);
    assert_true(p.memory_host_psi == 20);
    /* the defaults: the old dead-band's floor, 50 faults/s, 1 MiB/s, 10% */
    p = parse_ok("{\"name\": \"m\"}");
    assert_int_equal(p.memory_floor, 64);
    assert_true(p.memory_faults == 50);
    assert_true(p.memory_swap == 1);
    assert_true(p.memory_host_psi == 10);
}

/* Loading by name */

static void test_load_by_name(void **state)
{
    struct part_policy p = load_ok(FIXTURES "/dir", "good");
    assert_true(p.weights);
}

static void test_load_name_mismatch(void **state)
{
    struct part_policy p;
    struct part_error err;
    char buf[1024];

    assert_int_equal(part_policy_load(FIXTURES "/dir", "mismatch", &p, &err), -EINVAL);
    assert_string_equal(part_error_format(&err, buf, sizeof(buf)),
                        "unit/policy/dir/mismatch.json:1:11: name: \"other\" does not match the "
                        "file name (mismatch.json, expected other.json)");
}

static void test_load_missing(void **state)
{
    struct part_policy p;
    struct part_error err;
    char buf[1024];

    assert_int_equal(part_policy_load(FIXTURES "/dir", "nosuch", &p, &err), -ENOENT);
    assert_string_equal(part_error_format(&err, buf, sizeof(buf)),
                        "unit/policy/dir/nosuch.json: no policy named nosuch "
                        "(unit/policy/dir/nosuch.json does not exist)");
}

static void test_load_bad_name(void **state)
{
    struct part_policy p;
    struct part_error err;

    /* a name is a file name in the directory, never a path out of it */
    assert_int_equal(part_policy_load(FIXTURES, "../policy/dir/good", &p, &err), -EINVAL);
    assert_string_equal(err.field, "policy");
    assert_int_equal(part_policy_load(FIXTURES, "", &p, &err), -EINVAL);
}

/* JSON */

static void test_to_json(void **state)
{
    struct part_policy p = load_ok(SHIPPED, "balanced");
    json_t *j = part_policy_to_json(&p);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "name")), "balanced");
    assert_true(json_is_true(json_object_get(json_object_get(j, "manage"), "memory")));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "memory"), "headroom")), "256MiB");
    assert_true(json_number_value(json_object_get(json_object_get(j, "cooldown"), "processors")) ==
                6);
    assert_true(json_number_value(json_object_get(j, "defined_capacity_window")) == 14400);
    assert_true(json_number_value(json_object_get(j, "stabilization")) == 30);
    assert_int_equal(json_object_size(j), 12); /* every parameter */
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fail_fixtures),
        cmocka_unit_test(test_pass_fixtures),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_shipped_static),
        cmocka_unit_test(test_shipped_ird),
        cmocka_unit_test(test_shipped_balanced),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_partial_sections_keep_defaults),
        cmocka_unit_test(test_memory_pressure_knobs),
        cmocka_unit_test(test_load_by_name),
        cmocka_unit_test(test_load_name_mismatch),
        cmocka_unit_test(test_load_missing),
        cmocka_unit_test(test_load_bad_name),
        cmocka_unit_test(test_to_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
