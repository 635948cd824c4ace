/* Whether QEMU's user can reach a guest's files (libpart/qemuaccess.c):
 * nobody (uid 65534) stands in for libvirt-qemu, in front of directories
 * made root's (or another owner's) under a fresh directory in /tmp. The
 * tree needs chown(), so the tests skip unless run as root (as in CI). */
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

#include "golden.h"
#include "part/part.h"

#define NOBODY      65534
#define OTHER_GROUP 4242 /* a supplementary group of the stand-in */

struct fixture {
    char dir[64];
    char path[128]; /* dir/d/vmlinuz, the kernel of the profile */
    char d[96];     /* the directory whose mode each test sets */
    gid_t groups[2];
    struct part_qemu_user user; /* nobody, with OTHER_GROUP */
    struct part_profile *p;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/part-test-qemuaccess-XXXXXX");
    if (!mkdtemp(fx->dir) || chmod(fx->dir, 0755) < 0)
        return -1;
    snprintf(fx->d, sizeof(fx->d), "%s/d", fx->dir);
    snprintf(fx->path, sizeof(fx->path), "%s/vmlinuz", fx->d);
    if (mkdir(fx->d, 0755) < 0)
        return -1;
    golden_write_file(fx->d, "vmlinuz", "kernel");
    fx->groups[0] = NOBODY;
    fx->groups[1] = OTHER_GROUP;
    fx->user = (struct part_qemu_user){
        .name = "nobody", .uid = NOBODY, .groups = fx->groups, .n_groups = 2};
    fx->p = part_profile_new("g");
    fx->p->boot = PART_BOOT_KERNEL;
    fx->p->boot_kernel = strdup(fx->path);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    if (golden_remove_tree(fx->dir) < 0)
        return -1;
    part_profile_free(fx->p);
    free(fx);
    return 0;
}

static void skip_unless_root(void)
{
    if (geteuid() != 0)
        skip();
}

/* d given to uid:gid with mode. */
static void set_dir(struct fixture *fx, uid_t uid, gid_t gid, mode_t mode)
{
    assert_int_equal(chown(fx->d, uid, gid), 0);
    assert_int_equal(chmod(fx->d, mode), 0);
}

static void test_blocked(void **state)
{
    struct fixture *fx = *state;
    struct part_error err = {0};
    char want[512];

    skip_unless_root();
    set_dir(fx, 0, 0, 0700);
    assert_int_equal(part_qemu_access_check(&fx->user, fx->p, &err), -EACCES);
    assert_string_equal(err.field, "boot.kernel");
    snprintf(want, sizeof(want),
             "boot.kernel: QEMU's user nobody cannot reach %s: %s (drwx------ root:root) is "
             "closed to it",
             fx->path, fx->d);
    assert_string_equal(err.message, want);

    /* the same for the disk and the initrd, each by its own field */
    free(fx->p->boot_kernel);
    fx->p->boot_kernel = NULL;
    fx->p->boot_disk = strdup(fx->path);
    assert_int_equal(part_qemu_access_check(&fx->user, fx->p, &err), -EACCES);
    assert_string_equal(err.field, "boot.disk");
}

static void test_open(void **state)
{
    struct fixture *fx = *state;
    struct part_error err = {0};

    skip_unless_root();
    set_dir(fx, 0, 0, 0711); /* search is all it takes, not read */
    assert_int_equal(part_qemu_access_check(&fx->user, fx->p, &err), 0);
    /* the file itself is libvirt's to give: never judged */
    assert_int_equal(chmod(fx->path, 0600), 0);
    assert_int_equal(part_qemu_access_check(&fx->user, fx->p, &err), 0);
}

/* Owner, then group (any of the user's), then others, as the kernel
 * decides: the first class that matches is the only one looked at. */
static void test_classes(void **state)
{
    struct fixture *fx = *state;
    struct part_error err = {0};

    skip_unless_root();
    set_dir(fx, 0, OTHER_GROUP, 0710); /* through a supplementary group */
    assert_int_equal(part_qemu_access_check(&fx->user, fx->p, &err), 0);
    set_dir(fx, 0, OTHER_GROUP, 0701); /* its group is closed, others' x does not count */
    assert_int_equal(part_qemu_access_check(&fx->user, fx->p, &err), -EACCES);
    set_dir(fx, NOBODY, 0, 0077); /* the owner's class is closed */
    assert_int_equal(part_qemu_access_check(&fx->user, fx->p, &err), -EACCES);
    assert_non_null(strstr(err.message, "(d---rwxrwx nobody:root)"));
    set_dir(fx, NOBODY, 0, 0100);
    assert_int_equal(part_qemu_access_check(&fx->user, fx->p, &err), 0);

    /* root searches everywhere */
    gid_t root_groups[] = {0};
    struct part_qemu_user root = {.name = "root", .uid = 0, .groups = root_groups, .n_groups = 1};
    set_dir(fx, NOBODY, NOBODY, 0000);
    assert_int_equal(part_qemu_access_check(&root, fx->p, &err), 0);
}

/* A directory above that does not exist any more (at an activation) is
 * said with the field, not passed to libvirt. */
static void test_missing(void **state)
{
    struct fixture *fx = *state;
    struct part_error err = {0};
    char path[128];

    snprintf(path, sizeof(path), "%s/gone/vmlinuz", fx->dir);
    free(fx->p->boot_kernel);
    fx->p->boot_kernel = strdup(path);
    assert_int_equal(part_qemu_access_check(&fx->user, fx->p, &err), -ENOENT);
    assert_string_equal(err.field, "boot.kernel");
}

static void test_lookup(void **state)
{
    struct part_qemu_user *u = NULL;
    struct part_error err = {0};

    assert_int_equal(part_qemu_user_lookup("root", &u, &err), 1);
    assert_non_null(u);
    assert_string_equal(u->name, "root");
    assert_int_equal(u->uid, 0);
    assert_true(u->n_groups >= 1);
    assert_int_equal(u->groups[0], 0);
    assert_null(part_qemu_user_free(u));

    assert_int_equal(part_qemu_user_lookup("no-such-user-partd", &u, &err), 0);
    assert_null(u);
    assert_null(part_qemu_user_free(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_blocked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_classes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
        cmocka_unit_test(test_lookup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
