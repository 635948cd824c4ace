/* cpcs.json, the CPCs partctl knows: the golden files under cpcs/ (each
 * fail-NAME.json fails with exactly the message in fail-NAME.ok), the
 * pass file's entries and resolved paths, and the rules of a token file
 * (part_cpcs_read_token()). */
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

#include <part/cpcs.h>

#include "golden.h"

#define FIXTURES       "unit/cpcs"
#define MIN_FAIL_FILES 12

static int load_only(const char *path, struct part_error *err)
{
    struct part_cpcs *c = NULL;
    int r = part_cpcs_load(path, &c, err);
    part_cpcs_free(c);
    return r;
}

static void test_fail_fixtures(void **state)
{
    golden_check_failures(FIXTURES, MIN_FAIL_FILES, load_only);
}

/* The entries of pass-example.json, relative paths against its directory. */
static void test_pass_example(void **state)
{
    struct part_cpcs *c = NULL;
    struct part_error err;
    char cwd[PATH_MAX], want[PATH_MAX + 64], buf[1024];

    if (part_cpcs_load(FIXTURES "/pass-example.json", &c, &err) < 0)
        fail_msg("unexpected error: %s", part_error_format(&err, buf, sizeof(buf)));
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(c->n, 3);
    assert_true(c->connect_timeout == 1.5 && c->timeout == 4);
    assert_string_equal(c->entries[0].name, "a");
    assert_string_equal(c->entries[0].url, "unix:/run/partd/partd.sock");
    assert_null(c->entries[0].token_file);
    assert_null(c->entries[0].cacert);
    const struct part_cpc_entry *b = part_cpcs_find(c, "b.prod");
    assert_ptr_equal(b, &c->entries[1]);
    snprintf(want, sizeof(want), "%s/" FIXTURES "/tokens/b.token", cwd);
    assert_string_equal(b->token_file, want);
    assert_string_equal(b->cacert, "/etc/partd/ca.pem");
    assert_string_equal(c->entries[2].token_file, "/home/op/c.token");
    assert_null(part_cpcs_find(c, "d"));
    part_cpcs_free(c);
}

/* Defaults: the timeouts, and no file named. */
static void test_defaults(void **state)
{
    static const char text[] = "{\"cpcs\": [{\"name\": \"a\", \"url\": \"http://[::1]:7480\", "
                               "\"token_file\": \"a.token\"}]}";
    struct part_cpcs *c = NULL;
    char cwd[PATH_MAX], want[PATH_MAX + 16];

    assert_int_equal(part_cpcs_parse(text, strlen(text), NULL, &c, NULL), 0);
    assert_true(c->connect_timeout == PART_CPCS_CONNECT_TIMEOUT);
    assert_true(c->timeout == PART_CPCS_TIMEOUT);
    assert_null(c->path);
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    snprintf(want, sizeof(want), "%s/a.token", cwd);
    assert_string_equal(c->entries[0].token_file, want);
    part_cpcs_free(c);
}

/* A token file in dir with mode, holding text; returns its entry. */
static struct part_cpc_entry token_entry(const char *dir, const char *name, const char *text,
                                         mode_t mode)
{
    struct part_cpc_entry e = {.name = "a", .url = "unix:/x"};
    golden_write_file(dir, name, text);
    if (asprintf(&e.token_file, "%s/%s", dir, name) < 0)
        fail();
    assert_int_equal(chmod(e.token_file, mode), 0);
    return e;
}

/* Reads e's token, expecting r, and with an error the file's name and
 * what in the message. */
static void read_expect(struct part_cpc_entry *e, int r, const char *what)
{
    struct part_error err;
    char buf[PART_CPCS_TOKEN_MAX], msg[1024];

    assert_int_equal(part_cpcs_read_token(e, buf, sizeof(buf), &err), r);
    if (r == 0) {
        assert_string_equal(buf, "s3cret-token");
    } else if (what) {
        part_error_format(&err, msg, sizeof(msg));
        if (!strstr(msg, e->token_file) || !strstr(msg, what))
            fail_msg("'%s' lacks the file or '%s'", msg, what);
    }
    free(e->token_file);
}

static void test_token_rules(void **state)
{
    char dir[] = "/tmp/test-cpcs-XXXXXX";
    struct part_cpc_entry e;

    assert_non_null(mkdtemp(dir));
    e = token_entry(dir, "ok.token", "s3cret-token\n", 0600);
    read_expect(&e, 0, NULL);
    e = token_entry(dir, "group.token", "s3cret-token\n", 0640);
    read_expect(&e, 0, NULL); /* a group may read it: an administrator's token for a group */
    e = token_entry(dir, "others.token", "s3cret-token\n", 0644);
    read_expect(&e, -EPERM, "mode 0644 gives others read access: refused; chmod 0600 it");
    e = token_entry(dir, "gw.token", "s3cret-token\n", 0620);
    read_expect(&e, -EPERM, "gives its group write access");
    e = token_entry(dir, "empty.token", "\n", 0600);
    read_expect(&e, -ENODATA, "empty");
    e = token_entry(dir, "target.token", "s3cret-token\n", 0600);
    free(e.token_file);
    if (asprintf(&e.token_file, "%s/link.token", dir) < 0 ||
        symlink("target.token", e.token_file) < 0)
        fail();
    read_expect(&e, -ELOOP, "symbolic link");
    if (geteuid() == 0) { /* another user's file: only root can make one */
        e = token_entry(dir, "nobody.token", "s3cret-token\n", 0600);
        assert_int_equal(chown(e.token_file, 65534, 65534), 0);
        read_expect(&e, -EPERM, "owned by uid 65534, neither by you (uid 0) nor by root");
    }
    e = (struct part_cpc_entry){.name = "a", .url = "unix:/x"};
    read_expect(&e, -EINVAL, NULL); /* no token file */
    if (asprintf(&e.token_file, "%s/none.token", dir) < 0)
        fail();
    read_expect(&e, -ENOENT, "cannot read: No such file or directory");
    assert_int_equal(golden_remove_tree(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fail_fixtures),
        cmocka_unit_test(test_pass_example),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_token_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
