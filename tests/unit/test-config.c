/* partd.json: the golden files under config/daemon/ (each fail-NAME.json
 * fails with exactly the message in fail-NAME.ok, each pass-NAME.json
 * loads), defaults, URI and path resolution, listen, groups; and loading a
 * partitions directory. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <part/config.h>

#include "golden.h"

#define FIXTURES       "unit/config/daemon"
#define PROFILES_DIR   "unit/config/profiles.d"
#define MIN_FAIL_FILES 12
#define MIN_PASS_FILES 3

static struct part_config *load_ok(const char *path)
{
    struct part_config *c = NULL;
    struct part_error err;
    char buf[1024];

    if (part_config_load(path, &c, &err) < 0)
        fail_msg("unexpected error: %s", part_error_format(&err, buf, sizeof(buf)));
    assert_non_null(c);
    return c;
}

static size_t count_listen(const struct part_config *c)
{
    size_t n = 0;
    while (c->listen[n])
        n++;
    return n;
}

/* Golden files */

/* Loads the configuration at path, and frees it. */
static int load_and_free(const char *path, struct part_error *err)
{
    struct part_config *c = NULL;
    int r = part_config_load(path, &c, err);

    if (r >= 0)
        part_config_free(c);
    else
        assert_null(c);
    return r;
}

static void test_fail_fixtures(void **state)
{
    golden_check_failures(FIXTURES, MIN_FAIL_FILES, load_and_free);
}

static void check_pass(const char *path)
{
    struct part_config *c = load_ok(path);
    assert_string_equal(c->path, path);
    part_config_free(c);
}

static void test_pass_fixtures(void **state)
{
    golden_check_passes(FIXTURES, MIN_PASS_FILES, check_pass);
}

/* What an empty partd.json means */

static void test_defaults_of_empty_config(void **state)
{
    struct part_config *c = load_ok(FIXTURES "/pass-empty.json");

    assert_string_equal(c->path, FIXTURES "/pass-empty.json");
    assert_string_equal(c->uri, "qemu:///system");
    assert_int_equal(count_listen(c), 1);
    assert_string_equal(c->listen[0], "unix:/run/partd/partd.sock");
    for (int role = 0; role < PART_ROLE_N; role++)
        assert_null(c->tokens[role]);
    assert_false(part_config_has_tokens(c));
    assert_null(c->socket_group);
    assert_null(c->tls_cert);
    assert_null(c->tls_key);
    assert_string_equal(c->state_dir, "/var/lib/partd");
    assert_string_equal(c->partitions_dir, FIXTURES "/partitions.d");
    assert_string_equal(c->policy, "static");
    assert_true(c->interval == 2.0);
    assert_int_equal(c->cpc.host_reserved_cpus, 0);
    assert_int_equal(c->cpc.host_reserved_memory, 1024);
    assert_true(c->cpc.cpu_overcommit == 4.0);
    assert_true(c->cpc.memory_overcommit == 1.0);
    assert_int_equal(c->cpc.n_groups, 0);
    assert_string_equal(c->paths.images, "/var/lib/partd/images");
    assert_string_equal(c->paths.templates, "/etc/partd/templates");
    assert_string_equal(c->paths.logs, "/var/log/partd");
    assert_int_equal(c->limits.unix_connections, 256);
    assert_int_equal(c->limits.tcp_connections, 1024);
    assert_int_equal(c->limits.tcp_per_ip, 128);
    part_config_free(c);
}

static void test_default_matches_empty_config(void **state)
{
    struct part_config *c = load_ok(FIXTURES "/pass-empty.json"), *d = NULL;

    assert_int_equal(part_config_default(FIXTURES, &d), 0);
    assert_string_equal(d->path, FIXTURES "/partd.json");
    assert_string_equal(d->uri, c->uri);
    assert_string_equal(d->listen[0], c->listen[0]);
    assert_null(d->listen[1]);
    assert_string_equal(d->state_dir, c->state_dir);
    assert_string_equal(d->partitions_dir, c->partitions_dir);
    assert_string_equal(d->policy, c->policy);
    assert_true(d->interval == c->interval);
    assert_int_equal(d->cpc.host_reserved_memory, c->cpc.host_reserved_memory);
    assert_string_equal(d->paths.images, c->paths.images);
    assert_string_equal(d->paths.templates, c->paths.templates);
    assert_string_equal(d->paths.logs, c->paths.logs);
    assert_int_equal(d->limits.unix_connections, c->limits.unix_connections);
    assert_int_equal(d->limits.tcp_connections, c->limits.tcp_connections);
    assert_int_equal(d->limits.tcp_per_ip, c->limits.tcp_per_ip);
    part_config_free(d);
    part_config_free(c);
}

/* Resolution of relative names */

static void test_relative_test_uri(void **state)
{
    struct part_config *c = load_ok(FIXTURES "/pass-test-uri.json");
    char abs[PATH_MAX], *want;

    assert_non_null(realpath(FIXTURES "/cpc.xml", abs));
    assert_true(asprintf(&want, "test://%s", abs) > 0);
    assert_string_equal(c->uri, want);
    assert_int_equal(strncmp(c->uri, "test:///", 8), 0);
    free(want);
    part_config_free(c);
}

static void test_relative_test_uri_to_missing_file(void **state)
{
    struct part_config *c = load_ok(FIXTURES "/pass-test-uri-missing.json");
    char cwd[PATH_MAX], *want;

    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_true(asprintf(&want, "test://%s/" FIXTURES "/nodes/missing.xml", cwd) > 0);
    assert_string_equal(c->uri, want);
    free(want);
    part_config_free(c);
}

static void test_other_uris_kept(void **state)
{
    struct part_config *c = load_ok(FIXTURES "/pass-full.json");
    assert_string_equal(c->uri, "qemu:///system");
    part_config_free(c);
}

static void test_relative_paths(void **state)
{
    struct part_config *c = load_ok(FIXTURES "/pass-test-uri.json");
    assert_string_equal(c->state_dir, FIXTURES "/state");
    assert_string_equal(c->partitions_dir, FIXTURES "/partitions.d");
    part_config_free(c);

    c = load_ok(FIXTURES "/pass-full.json");
    assert_string_equal(c->tokens[PART_ROLE_ADMIN], "/etc/partd/admin.token");
    assert_string_equal(c->tokens[PART_ROLE_OPERATOR], FIXTURES "/operator.token");
    assert_string_equal(c->tokens[PART_ROLE_VIEWER], "/etc/partd/viewer.token");
    assert_null(c->tokens[PART_ROLE_NONE]);
    assert_true(part_config_has_tokens(c));
    assert_string_equal(c->socket_group, "partd");
    assert_string_equal(c->tls_cert, "/etc/partd/tls/cert.pem");
    assert_string_equal(c->tls_key, "/etc/partd/tls/key.pem");
    assert_string_equal(c->state_dir, "/var/lib/partd");
    assert_string_equal(c->partitions_dir, "/etc/partd/partitions.d");
    part_config_free(c);
}

/* The directories of host paths: absolute and normalised, since profiles'
 * paths are compared with them as text. */
static void test_paths(void **state)
{
    struct part_config *c = load_ok(FIXTURES "/pass-full.json");
    char cwd[PATH_MAX], *want;

    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_true(asprintf(&want, "%s/" FIXTURES "/templates", cwd) > 0);
    assert_string_equal(c->paths.images, "/srv/guests/images");
    assert_string_equal(c->paths.templates, want);
    assert_string_equal(c->paths.logs, "/var/log/guests");
    free(want);
    part_config_free(c);
}

/* Whom partd checks QEMU's access as: qemu_user when given, whatever the
 * URI; else libvirt-qemu for a qemu: URI; else nobody. */
static void test_qemu_user(void **state)
{
    struct part_config *c = load_ok(FIXTURES "/pass-full.json");
    assert_string_equal(c->qemu_user, "qemu");
    assert_string_equal(part_config_qemu_user(c), "qemu");
    free(c->uri);
    c->uri = strdup("test:///default");
    assert_string_equal(part_config_qemu_user(c), "qemu");
    part_config_free(c);

    c = load_ok(FIXTURES "/pass-empty.json"); /* qemu:///system */
    assert_null(c->qemu_user);
    assert_string_equal(part_config_qemu_user(c), "libvirt-qemu");
    part_config_free(c);

    c = load_ok(FIXTURES "/pass-test-uri.json");
    assert_null(part_config_qemu_user(c));
    part_config_free(c);
}

/* The connection limits of each listener kind, beside the other keys. */
static void test_limits(void **state)
{
    struct part_config *c = load_ok(FIXTURES "/pass-full.json");
    assert_int_equal(c->limits.unix_connections, 64);
    assert_int_equal(c->limits.tcp_connections, 2048);
    assert_int_equal(c->limits.tcp_per_ip, 16);
    part_config_free(c);
}

/* Peers: files resolved against the config's directory, migration
 * defaults where not given, looked up by name. */
static void test_peers(void **state)
{
    struct part_config *c = load_ok(FIXTURES "/pass-peers.json");
    assert_int_equal(c->n_peers, 2);
    const struct part_peer_config *b = part_config_peer(c, "b"), *l = part_config_peer(c, "local");
    assert_non_null(b);
    assert_non_null(l);
    assert_null(part_config_peer(c, "c"));
    assert_string_equal(b->url, "https://b.example:7480");
    assert_string_equal(b->libvirt_uri, "qemu+tls://b.example/system");
    assert_non_null(strstr(b->token, "/config/daemon/peers/b.token"));
    assert_non_null(strstr(b->cacert, "/config/daemon/peers/b.pem"));
    assert_int_equal(b->max_downtime_ms, 500);
    assert_int_equal(b->timeout_s, 60);
    assert_string_equal(l->token, "/etc/partd/peers/local.token");
    assert_null(l->cacert);
    assert_int_equal(l->max_downtime_ms, PART_PEER_DOWNTIME_MS_DEFAULT);
    assert_int_equal(l->timeout_s, PART_PEER_TIMEOUT_S_DEFAULT);
    assert_non_null(c->tokens[PART_ROLE_PEER]);
    part_config_free(c);
}

/* A peer's URL: https anywhere, http to loopback only. */
static void test_peer_url(void **state)
{
    const char *good[] = {"https://b.example", "https://10.0.0.2:7480", "http://127.0.0.1:7480",
                          "http://[::1]:7480", "http://localhost:7480/"};
    const char *bad[] = {"ftp://b",  "http://b.example:7480",       "http://127x:1",
                         "https://", "http://localhost.example:80", "https://u@b.example"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_int_equal(part_peer_url_check(good[i], "url", NULL), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(part_peer_url_check(bad[i], "url", NULL), -EINVAL);
}

/* Roles: ordered up to admin; peer stands apart. */
static void test_role_peer(void **state)
{
    assert_true(part_role_covers(PART_ROLE_ADMIN, PART_ROLE_OPERATOR));
    assert_false(part_role_covers(PART_ROLE_OPERATOR, PART_ROLE_ADMIN));
    assert_true(part_role_covers(PART_ROLE_PEER, PART_ROLE_PEER));
    assert_true(part_role_covers(PART_ROLE_PEER, PART_ROLE_NONE));
    for (int r = PART_ROLE_VIEWER; r <= PART_ROLE_ADMIN; r++) {
        assert_false(part_role_covers(PART_ROLE_PEER, r));
        assert_false(part_role_covers(r, PART_ROLE_PEER));
    }
    assert_int_equal(part_role_by_name("peer"), PART_ROLE_PEER);
}

/* listen */

static void test_listen_string(void **state)
{
    struct part_config *c = load_ok(FIXTURES "/pass-test-uri.json");
    assert_int_equal(count_listen(c), 1);
    assert_string_equal(c->listen[0], "unix:/tmp/partd-test.sock");
    part_config_free(c);
}

static void test_listen_array(void **state)
{
    struct part_config *c = load_ok(FIXTURES "/pass-full.json");
    assert_int_equal(count_listen(c), 3);
    assert_string_equal(c->listen[0], "127.0.0.1:7480");
    assert_string_equal(c->listen[1], "[::1]:7480");
    assert_string_equal(c->listen[2], "unix:/run/partd/partd.sock");
    part_config_free(c);

    c = load_ok(FIXTURES "/pass-limits.json");
    assert_int_equal(count_listen(c), 16);
    part_config_free(c);
}

/* cpc */

static void test_cpc_values(void **state)
{
    struct part_config *c = load_ok(FIXTURES "/pass-full.json");
    assert_string_equal(c->policy, "static");
    assert_true(c->interval == 0.5);
    assert_int_equal(c->cpc.host_reserved_cpus, 2);
    assert_int_equal(c->cpc.host_reserved_memory, 4096);
    assert_true(c->cpc.cpu_overcommit == 4.0);
    assert_true(c->cpc.memory_overcommit == 1.5);
    part_config_free(c);
}

static void test_host_reserved_memory_zero(void **state)
{
    struct part_config *c = load_ok(FIXTURES "/pass-test-uri.json"); /* 0 */
    assert_int_equal(c->cpc.host_reserved_memory, 0);
    part_config_free(c);

    c = load_ok(FIXTURES "/pass-limits.json"); /* "0GiB" */
    assert_int_equal(c->cpc.host_reserved_memory, 0);
    part_config_free(c);
}

static void test_groups(void **state)
{
    struct part_config *c = load_ok(FIXTURES "/pass-full.json");
    const struct part_group_config *g;

    assert_int_equal(c->cpc.n_groups, 3);
    g = part_config_group(&c->cpc, "web");
    assert_non_null(g);
    assert_string_equal(g->name, "web");
    assert_true(g->cap == 10.0);
    g = part_config_group(&c->cpc, "batch.low");
    assert_non_null(g);
    assert_true(g->cap == PART_CAP_NONE);
    g = part_config_group(&c->cpc, "db");
    assert_non_null(g);
    assert_true(g->cap == PART_CAP_NONE);
    assert_null(part_config_group(&c->cpc, "nope"));
    assert_null(part_config_group(&c->cpc, "batch"));
    part_config_free(c);
}

static void test_load_missing_file(void **state)
{
    struct part_config *c = NULL;
    struct part_error err;
    char buf[1024];

    assert_int_equal(part_config_load(FIXTURES "/no-such-partd.json", &c, &err), -ENOENT);
    assert_null(c);
    assert_string_equal(part_error_format(&err, buf, sizeof(buf)),
                        FIXTURES "/no-such-partd.json: cannot read: No such file or directory");
}

/* part_profiles_load_dir() */

static void test_load_dir_keeps_good_profiles(void **state)
{
    struct part_profile **profiles = NULL;
    struct part_error *errors = NULL, err;
    size_t n = 0, n_errors = 0;
    char buf[1024];

    int r = part_profiles_load_dir(PROFILES_DIR, NULL, 0, &profiles, &n, &errors, &n_errors, &err);

    assert_int_equal(r, -EINVAL);
    assert_int_equal(n, 2);
    assert_string_equal(profiles[0]->name, "alpha");
    assert_string_equal(profiles[1]->name, "gamma");
    assert_int_equal(profiles[1]->mode, PART_MODE_DEDICATED);
    assert_int_equal(n_errors, 2);
    assert_string_equal(part_error_format(&errors[0], buf, sizeof(buf)),
                        PROFILES_DIR "/beta.json:3:30: processors.initial (2) exceeds "
                                     "processors.reserved (1)");
    assert_string_equal(part_error_format(&errors[1], buf, sizeof(buf)),
                        PROFILES_DIR "/delta.json:2:11: name: \"epsilon\" does not match the "
                                     "file name (delta.json, expected epsilon.json)");
    part_profiles_free(profiles, n);
    free(errors);
}

static void test_load_dir_all_good(void **state)
{
    struct part_profile **profiles = NULL;
    struct part_error *errors = NULL, err;
    size_t n = 0, n_errors = 0;
    char *dir;

    assert_non_null(getenv("PART_SRCDIR"));
    assert_true(asprintf(&dir, "%s/examples/test-cpc/partitions.d", getenv("PART_SRCDIR")) > 0);
    int r = part_profiles_load_dir(dir, NULL, 0, &profiles, &n, &errors, &n_errors, &err);

    assert_int_equal(r, 0);
    assert_int_equal(n_errors, 0);
    assert_true(n >= 2);
    for (size_t i = 1; i < n; i++)
        assert_true(strcmp(profiles[i - 1]->name, profiles[i]->name) < 0);
    part_profiles_free(profiles, n);
    free(errors);
    free(dir);
}

static void test_load_dir_missing(void **state)
{
    struct part_profile **profiles = NULL;
    struct part_error *errors = NULL, err;
    size_t n = 0, n_errors = 0;
    char buf[1024];

    int r = part_profiles_load_dir("unit/config/no-such.d", NULL, 0, &profiles, &n, &errors,
                                   &n_errors, &err);

    assert_int_equal(r, -ENOENT);
    assert_null(profiles);
    assert_null(errors);
    assert_string_equal(part_error_format(&err, buf, sizeof(buf)),
                        "unit/config/no-such.d: cannot read the partitions directory: No such "
                        "file or directory");
}

/* Token files and the TLS key: each read as a secret, by role */

/* A private directory for files written by a test; removed by rm_dir(). */
static char *tmp_dir(void)
{
    char *dir = strdup("/tmp/partd-test-config-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return dir;
}

static void rm_dir(char *dir)
{
    assert_int_equal(golden_remove_tree(dir), 0);
    free(dir);
}

/* Writes text to dir/name with mode and returns its path (free() it). */
static char *write_mode(const char *dir, const char *name, const char *text, mode_t mode)
{
    char *path;
    golden_write_file(dir, name, text);
    assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

/* The tokens of a configuration naming files for admin and viewer. */
static void test_tokens_by_role(void **state)
{
    char *dir = tmp_dir(), tokens[PART_ROLE_N][PART_TOKEN_MAX];
    struct part_config *c = NULL;
    struct part_error err = {0};

    assert_int_equal(part_config_default(dir, &c), 0);
    c->tokens[PART_ROLE_ADMIN] = write_mode(dir, "admin", "admin-token\n", 0600);
    c->tokens[PART_ROLE_VIEWER] = write_mode(dir, "viewer", "viewer-token", 0640);
    assert_int_equal(part_config_tokens(c, tokens, &err), 0);
    assert_string_equal(tokens[PART_ROLE_ADMIN], "admin-token");
    assert_string_equal(tokens[PART_ROLE_VIEWER], "viewer-token");
    assert_string_equal(tokens[PART_ROLE_OPERATOR], "");
    assert_string_equal(tokens[PART_ROLE_NONE], "");
    part_config_free(c);
    rm_dir(dir);
}

/* A token says which role it carries: two roles with the same token, or
 * the same file, are refused, and so is a bad file, naming its field. */
static void test_tokens_refused(void **state)
{
    char *dir = tmp_dir(), tokens[PART_ROLE_N][PART_TOKEN_MAX], buf[1024], want[512];
    struct part_config *c = NULL;
    struct part_error err = {0};

    assert_int_equal(part_config_default(dir, &c), 0);
    c->tokens[PART_ROLE_OPERATOR] = write_mode(dir, "a", "same-token\n", 0600);
    c->tokens[PART_ROLE_ADMIN] = write_mode(dir, "b", "same-token", 0600);
    assert_int_equal(part_config_tokens(c, tokens, &err), -EINVAL);
    assert_string_equal(err.field, "tokens.admin");
    snprintf(want, sizeof(want),
             "%s/b: the same token as tokens.operator's (%s/a): each role needs a token of its "
             "own",
             dir, dir);
    assert_string_equal(part_error_format(&err, buf, sizeof(buf)), want);
    assert_string_equal(tokens[PART_ROLE_OPERATOR], ""); /* nothing kept on failure */

    free(c->tokens[PART_ROLE_ADMIN]);
    c->tokens[PART_ROLE_ADMIN] = write_mode(dir, "c", "admin-token", 0644);
    part_error_clear(&err);
    assert_int_equal(part_config_tokens(c, tokens, &err), -EPERM);
    assert_string_equal(err.field, "tokens.admin");
    assert_non_null(strstr(err.message, "mode 0644 gives others read access"));
    part_config_free(c);
    rm_dir(dir);
}

/* TLS: none, a pair read, and a key others may read refused. */
static void test_tls_files(void **state)
{
    char *dir = tmp_dir(), *cert = NULL, *key = NULL;
    struct part_config *c = NULL;
    struct part_error err = {0};

    assert_int_equal(part_config_default(dir, &c), 0);
    assert_int_equal(part_config_tls(c, &cert, &key, &err), 0);
    assert_null(cert);
    assert_null(key);
    c->tls_cert = write_mode(dir, "cert.pem", "-----BEGIN CERTIFICATE-----\n", 0644);
    c->tls_key = write_mode(dir, "key.pem", "-----BEGIN PRIVATE KEY-----\n", 0640);
    assert_int_equal(part_config_tls(c, &cert, &key, &err), 0);
    assert_string_equal(cert, "-----BEGIN CERTIFICATE-----\n");
    assert_string_equal(key, "-----BEGIN PRIVATE KEY-----\n");
    free(cert);
    free(key);
    assert_int_equal(chmod(c->tls_key, 0604), 0);
    assert_int_equal(part_config_tls(c, &cert, &key, &err), -EPERM);
    assert_string_equal(err.field, "tls_key");
    assert_non_null(strstr(err.message, "mode 0604 gives others read access"));
    assert_null(cert);
    assert_null(key);
    part_config_free(c);
    rm_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fail_fixtures),
        cmocka_unit_test(test_pass_fixtures),
        cmocka_unit_test(test_defaults_of_empty_config),
        cmocka_unit_test(test_default_matches_empty_config),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_peers),
        cmocka_unit_test(test_peer_url),
        cmocka_unit_test(test_role_peer),
        cmocka_unit_test(test_qemu_user),
        cmocka_unit_test(test_relative_test_uri),
        cmocka_unit_test(test_relative_test_uri_to_missing_file),
        cmocka_unit_test(test_other_uris_kept),
        cmocka_unit_test(test_relative_paths),
        cmocka_unit_test(test_listen_string),
        cmocka_unit_test(test_listen_array),
        cmocka_unit_test(test_cpc_values),
        cmocka_unit_test(test_host_reserved_memory_zero),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_load_missing_file),
        cmocka_unit_test(test_load_dir_keeps_good_profiles),
        cmocka_unit_test(test_load_dir_all_good),
        cmocka_unit_test(test_load_dir_missing),
        cmocka_unit_test(test_tokens_by_role),
        cmocka_unit_test(test_tokens_refused),
        cmocka_unit_test(test_tls_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
