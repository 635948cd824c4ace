/* Unit tests of libpart/file.c: atomic writes that never follow a planted
 * link, the clean-up of interrupted writes, and the check of the
 * directories partd writes. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "file.h"
#include "golden.h"

struct fixture {
    char dir[64];
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/part-test-file-XXXXXX");
    if (!mkdtemp(fx->dir))
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    if (golden_remove_tree(fx->dir) < 0)
        return -1;
    free(fx);
    return 0;
}

/* The text of dir/name, or "" when it cannot be read. */
static const char *text_of(const char *dir, const char *name)
{
    static char buf[256];
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    buf[0] = '\0';
    if (f) {
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        fclose(f);
    }
    return buf;
}

static size_t entries(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    unsigned n = 0;
    assert_int_equal(fscanf(p, "%u", &n), 1);
    pclose(p);
    return n;
}

static void test_write_atomic(void **state)
{
    struct fixture *fx = *state;
    struct part_error err = {0};
    char path[128];
    struct stat st;

    snprintf(path, sizeof(path), "%s/state.json", fx->dir);
    assert_int_equal(part_file_write_atomic(path, "{\"a\": 1}\n", 9, 0600, &err), 0);
    assert_string_equal(text_of(fx->dir, "state.json"), "{\"a\": 1}\n");
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(entries(fx->dir), 1); /* no temporary file left */
    assert_int_equal(part_file_write_atomic(path, "{}", 2, 0644, &err), 0);
    assert_string_equal(text_of(fx->dir, "state.json"), "{}");
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
}

/* A link planted where the file or an earlier version's temporary file
 * goes: the write replaces the link itself and the victim is untouched. */
static void test_write_atomic_planted_links(void **state)
{
    struct fixture *fx = *state;
    struct part_error err = {0};
    char path[128], victim[128], link[160];

    golden_write_file(fx->dir, "victim", "precious");
    snprintf(victim, sizeof(victim), "%s/victim", fx->dir);
    snprintf(path, sizeof(path), "%s/state.json", fx->dir);
    assert_int_equal(symlink(victim, path), 0);
    snprintf(link, sizeof(link), "%s.tmp.%ld", path, (long)getpid());
    assert_int_equal(symlink(victim, link), 0);
    assert_int_equal(part_file_write_atomic(path, "new", 3, 0600, &err), 0);
    assert_string_equal(text_of(fx->dir, "victim"), "precious");
    assert_string_equal(text_of(fx->dir, "state.json"), "new");
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
}

static void test_write_atomic_fails_cleanly(void **state)
{
    struct fixture *fx = *state;
    struct part_error err = {0};
    char path[160];

    snprintf(path, sizeof(path), "%s/missing/state.json", fx->dir);
    assert_int_equal(part_file_write_atomic(path, "x", 1, 0600, &err), -ENOENT);
    assert_string_equal(err.file, path);
    assert_non_null(strstr(err.message, "cannot write"));
}

static void test_remove_stale_tmp(void **state)
{
    struct fixture *fx = *state;

    golden_write_file(fx->dir, ".prod.json.Ab12Cd", "{\"half\":");
    golden_write_file(fx->dir, "prod.json.tmp.4242", "{");
    golden_write_file(fx->dir, "prod.json", "{}");
    golden_write_file(fx->dir, "keep.tmp.txt", "not ours");
    golden_write_file(fx->dir, ".hidden", "not ours");
    golden_write_file(fx->dir, ".notes.txt.Ab12Cd", "not ours");
    assert_int_equal(part_dir_remove_stale_tmp(fx->dir), 2);
    assert_int_equal(entries(fx->dir), 4);
    assert_string_equal(text_of(fx->dir, "prod.json"), "{}");
}

static void test_dir_check_private(void **state)
{
    struct fixture *fx = *state;
    struct part_error err = {0};
    char dir[128], link[128];

    snprintf(dir, sizeof(dir), "%s/state", fx->dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(part_dir_check_private(dir, &err), 0);
    assert_int_equal(chmod(dir, 0777), 0);
    assert_int_equal(part_dir_check_private(dir, &err), -EPERM);
    assert_string_equal(err.file, dir);
    assert_non_null(strstr(err.message, "mode 0777 gives others write access"));
    assert_int_equal(chmod(dir, 0770), 0);
    part_error_clear(&err);
    assert_int_equal(part_dir_check_private(dir, &err), -EPERM);
    assert_non_null(strstr(err.message, "mode 0770 gives its group write access"));
    assert_int_equal(chmod(dir, 0755), 0);
    assert_int_equal(part_dir_check_private(dir, NULL), 0);
    snprintf(link, sizeof(link), "%s/link", fx->dir);
    assert_int_equal(symlink(dir, link), 0);
    part_error_clear(&err);
    assert_int_equal(part_dir_check_private(link, &err), -ENOTDIR);
    assert_non_null(strstr(err.message, "symbolic link"));
    if (geteuid() == 0) { /* only root can give a directory away */
        assert_int_equal(chown(dir, 65534, 65534), 0);
        part_error_clear(&err);
        assert_int_equal(part_dir_check_private(dir, &err), -EPERM);
        assert_non_null(strstr(err.message, "owned by uid 65534"));
    }
}

/* Lexical paths: what host paths are compared with before any link is
 * looked at. */
static void test_path_normalise(void **state)
{
    const char *cases[][2] = {
        {"/", "/"},           {"//a//b/", "/a/b"}, {"/a/./b/.", "/a/b"}, {"/a/b/../c", "/a/c"},
        {"/a/../../..", "/"}, {"/..", "/"},        {"/a/b/..", "/a"},    {"/a/.../b", "/a/.../b"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *n = part_path_normalise(cases[i][0]);
        assert_string_equal(n, cases[i][1]);
        free(n);
    }
    assert_true(part_path_inside("/a/b", "/a"));
    assert_true(part_path_inside("/a/b/c", "/a"));
    assert_false(part_path_inside("/a", "/a"));
    assert_false(part_path_inside("/ab", "/a"));
    assert_false(part_path_inside("/b", "/a"));
    assert_true(part_path_inside("/a", "/"));
    assert_false(part_path_inside("/", "/"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_atomic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_atomic_planted_links, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_atomic_fails_cleanly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_stale_tmp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dir_check_private, setup, teardown),
        cmocka_unit_test(test_path_normalise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
