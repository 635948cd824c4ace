/* Host paths a profile may name (libpart/hostpath.c): confined to the
 * directories of partd.json's "paths", links resolved, regular files only,
 * one answer for a path outside whether or not it exists, templates read
 * within their limit, serial logs created, and the directories checked as
 * OpenSSH's StrictModes checks a user's. Each test works in a fresh
 * directory under /tmp: images/, templates/, logs/ and outside/. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "golden.h"
#include "part/part.h"

#define TEMPLATE "<domain type='kvm'><name>t</name></domain>\n"

struct fixture {
    char dir[64];
    char real[PATH_MAX]; /* dir's realpath, what resolved paths start with */
    char images[128], templates[128], logs[128], outside[128];
    struct part_paths paths;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/part-test-hostpath-XXXXXX");
    if (!mkdtemp(fx->dir) || !realpath(fx->dir, fx->real))
        return -1;
    snprintf(fx->images, sizeof(fx->images), "%s/images", fx->dir);
    snprintf(fx->templates, sizeof(fx->templates), "%s/templates", fx->dir);
    snprintf(fx->logs, sizeof(fx->logs), "%s/logs", fx->dir);
    snprintf(fx->outside, sizeof(fx->outside), "%s/outside", fx->dir);
    const char *dirs[] = {fx->images, fx->templates, fx->logs, fx->outside};
    for (size_t i = 0; i < 4; i++)
        if (mkdir(dirs[i], 0755) < 0 || chmod(dirs[i], 0755) < 0)
            return -1;
    fx->paths = (struct part_paths){fx->images, fx->templates, fx->logs};
    golden_write_file(fx->images, "vmlinuz", "kernel");
    golden_write_file(fx->images, "initrd.img", "initrd");
    golden_write_file(fx->templates, "t.xml", TEMPLATE);
    golden_write_file(fx->outside, "secret", "secret");
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

/* A generated domain booting kernel, or one from template when kernel is
 * NULL. */
static struct part_profile *profile(const char *kernel, const char *template)
{
    struct part_profile *p = part_profile_new("g");
    assert_non_null(p);
    if (kernel) {
        p->boot = PART_BOOT_KERNEL;
        p->boot_kernel = strdup(kernel);
    } else {
        p->domain_template = strdup(template);
    }
    return p;
}

/* Loads p (without creating logs); returns the errno, err filled. */
static int load(struct fixture *fx, struct part_profile *p, struct part_error *err)
{
    part_error_clear(err);
    return part_hostpath_load(&fx->paths, p, 0, err);
}

/* The load of a profile booting kernel fails with r, field boot.kernel and
 * a message containing want; the profile is left as it was. */
static void expect_kernel(struct fixture *fx, const char *kernel, int r, const char *want)
{
    struct part_profile *p = profile(kernel, NULL);
    struct part_error err;

    assert_int_equal(load(fx, p, &err), r);
    assert_string_equal(err.field, "boot.kernel");
    if (!strstr(err.message, want))
        fail_msg("\"%s\" does not say \"%s\"", err.message, want);
    assert_string_equal(p->boot_kernel, kernel);
    part_profile_free(p);
}

static void expect_template(struct fixture *fx, const char *template, int r, const char *want)
{
    struct part_profile *p = profile(NULL, template);
    struct part_error err;

    assert_int_equal(load(fx, p, &err), r);
    assert_string_equal(err.field, "domain.template");
    if (!strstr(err.message, want))
        fail_msg("\"%s\" does not say \"%s\"", err.message, want);
    assert_null(p->domain_template_xml);
    part_profile_free(p);
}

static void test_good_files(void **state)
{
    struct fixture *fx = *state;
    struct part_profile *p = profile("vmlinuz", NULL);
    struct part_error err;
    char want[PATH_MAX + 32], initrd[PATH_MAX + 32];

    snprintf(initrd, sizeof(initrd), "%s/initrd.img", fx->images); /* absolute inside */
    p->boot_initrd = strdup(initrd);
    p->serial_log = strdup("g.log");
    assert_int_equal(part_hostpath_load(&fx->paths, p, PART_HOSTPATH_CREATE_LOG, &err), 0);
    snprintf(want, sizeof(want), "%s/images/vmlinuz", fx->real);
    assert_string_equal(p->boot_kernel, want);
    snprintf(want, sizeof(want), "%s/images/initrd.img", fx->real);
    assert_string_equal(p->boot_initrd, want);
    snprintf(want, sizeof(want), "%s/logs/g.log", fx->real);
    assert_string_equal(p->serial_log, want);
    assert_null(p->domain_template_xml);
    /* partd created the log, as a regular file of mode 0640 */
    struct stat st;
    assert_int_equal(lstat(want, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0640);
    /* loading again (what reload and a PATCH written back do) finds it all */
    assert_int_equal(part_hostpath_load(&fx->paths, p, PART_HOSTPATH_CREATE_LOG, &err), 0);
    assert_string_equal(p->serial_log, want);
    part_profile_free(p);

    p = profile(NULL, "t.xml");
    assert_int_equal(load(fx, p, &err), 0);
    snprintf(want, sizeof(want), "%s/templates/t.xml", fx->real);
    assert_string_equal(p->domain_template, want);
    assert_string_equal(p->domain_template_xml, TEMPLATE);
    part_profile_free(p);
}

/* Relative paths are relative to the directory of their kind, and may go
 * down into it and back, but not out. */
static void test_relative(void **state)
{
    struct fixture *fx = *state;
    char sub[160], want[PATH_MAX + 32];
    struct part_error err;

    snprintf(sub, sizeof(sub), "%s/sub", fx->images);
    assert_int_equal(mkdir(sub, 0755), 0);
    golden_write_file(sub, "bzImage", "k");
    const char *good[] = {"sub/bzImage", "./sub/../sub//bzImage", "sub/./bzImage"};
    for (size_t i = 0; i < 3; i++) {
        struct part_profile *p = profile(good[i], NULL);
        assert_int_equal(load(fx, p, &err), 0);
        snprintf(want, sizeof(want), "%s/images/sub/bzImage", fx->real);
        assert_string_equal(p->boot_kernel, want);
        part_profile_free(p);
    }
    expect_kernel(fx, "../outside/secret", -EINVAL, "is not inside paths.images");
    expect_kernel(fx, "sub/../../outside/secret", -EINVAL, "is not inside paths.images");
    expect_kernel(fx, "..", -EINVAL, "is not inside paths.images");
    expect_kernel(fx, ".", -EINVAL, "is not inside paths.images"); /* the directory itself */
    expect_kernel(fx, "no-such-vmlinuz", -ENOENT, "no such file in paths.images");
}

/* A path outside gets one answer, whether it exists or not: the message
 * names the field, the path as given and the directory. */
static void test_outside_same_answer(void **state)
{
    struct fixture *fx = *state;
    char secret[160], missing[160], want[256];
    const char *given[4][2] = {
        {"/etc/passwd", "/etc/no-such-file"},
        {secret, missing},
        {"../outside/secret", "../outside/missing"},
        {"/dev/zero", "/dev/no-such-device"},
    };

    snprintf(secret, sizeof(secret), "%s/secret", fx->outside);
    snprintf(missing, sizeof(missing), "%s/missing", fx->outside);
    for (size_t i = 0; i < 4; i++) {
        struct part_error err[2];
        for (size_t j = 0; j < 2; j++) {
            struct part_profile *p = profile(given[i][j], NULL);
            assert_int_equal(load(fx, p, &err[j]), -EINVAL);
            snprintf(want, sizeof(want), "boot.kernel: %s is not inside paths.images (%s)",
                     given[i][j], fx->images);
            assert_string_equal(err[j].message, want);
            part_profile_free(p);
        }
        assert_string_equal(err[0].field, err[1].field);
    }
    expect_template(fx, "/dev/zero", -EINVAL, "domain.template: /dev/zero is not inside");
}

static void test_symlink_out(void **state)
{
    struct fixture *fx = *state;
    char link[160], target[160];

    snprintf(target, sizeof(target), "%s/secret", fx->outside);
    snprintf(link, sizeof(link), "%s/vmlinuz-out", fx->images);
    assert_int_equal(symlink(target, link), 0);
    expect_kernel(fx, "vmlinuz-out", -EINVAL, "leads out of paths.images");
    snprintf(link, sizeof(link), "%s/etc", fx->images); /* a directory link on the way */
    assert_int_equal(symlink("/etc", link), 0);
    expect_kernel(fx, "etc/passwd", -EINVAL, "leads out of paths.images");
    snprintf(link, sizeof(link), "%s/zero.xml", fx->templates);
    assert_int_equal(symlink("/dev/zero", link), 0);
    expect_template(fx, "zero.xml", -EINVAL, "leads out of paths.templates");
    /* a link that stays inside is the administrator's business */
    snprintf(link, sizeof(link), "%s/current", fx->images);
    assert_int_equal(symlink("vmlinuz", link), 0);
    struct part_profile *p = profile("current", NULL);
    struct part_error err;
    char want[PATH_MAX + 32];
    assert_int_equal(load(fx, p, &err), 0);
    snprintf(want, sizeof(want), "%s/images/vmlinuz", fx->real);
    assert_string_equal(p->boot_kernel, want);
    part_profile_free(p);
}

/* FIFOs, devices and directories are refused, never read: a FIFO template
 * would block, /dev/zero would never end. */
static void test_not_regular(void **state)
{
    struct fixture *fx = *state;
    char path[160];

    snprintf(path, sizeof(path), "%s/fifo", fx->images);
    assert_int_equal(mkfifo(path, 0600), 0);
    expect_kernel(fx, "fifo", -EINVAL, "boot.kernel: fifo is a FIFO, not a regular file");
    snprintf(path, sizeof(path), "%s/fifo.xml", fx->templates);
    assert_int_equal(mkfifo(path, 0600), 0);
    expect_template(fx, "fifo.xml", -EINVAL, "is a FIFO, not a regular file");
    snprintf(path, sizeof(path), "%s/dir", fx->images);
    assert_int_equal(mkdir(path, 0755), 0);
    expect_kernel(fx, "dir", -EINVAL, "is a directory, not a regular file");
    if (geteuid() == 0) { /* a device node: only root makes one */
        snprintf(path, sizeof(path), "%s/zero.xml", fx->templates);
        assert_int_equal(mknod(path, S_IFCHR | 0600, makedev(1, 5)), 0);
        expect_template(fx, "zero.xml", -EINVAL, "is a character device, not a regular file");
    }
}

static void test_template_limits(void **state)
{
    struct fixture *fx = *state;
    char *big = malloc(2 * PART_TEMPLATE_MAX + 1), path[160];

    assert_non_null(big);
    memset(big, ' ', 2 * PART_TEMPLATE_MAX);
    big[2 * PART_TEMPLATE_MAX] = '\0';
    golden_write_file(fx->templates, "big.xml", big);
    expect_template(fx, "big.xml", -EFBIG, "big.xml is larger than 1024 KiB");
    big[PART_TEMPLATE_MAX] = '\0'; /* exactly the limit: read */
    golden_write_file(fx->templates, "max.xml", big);
    struct part_profile *p = profile(NULL, "max.xml");
    struct part_error err;
    assert_int_equal(load(fx, p, &err), 0);
    assert_int_equal(strlen(p->domain_template_xml), PART_TEMPLATE_MAX);
    part_profile_free(p);
    free(big);
    /* whoever may write the template decides what the guest gets */
    snprintf(path, sizeof(path), "%s/t.xml", fx->templates);
    assert_int_equal(chmod(path, 0664), 0);
    expect_template(fx, "t.xml", -EPERM, "mode 0664 gives its group write access");
    if (geteuid() == 0) {
        assert_int_equal(chmod(path, 0644), 0);
        assert_int_equal(chown(path, 65534, 65534), 0);
        expect_template(fx, "t.xml", -EPERM, "owned by uid 65534");
    }
}

/* The serial log: created only when asked, never followed, never a FIFO or
 * a second name of another file (libvirt truncates it). */
static void test_serial_log(void **state)
{
    struct fixture *fx = *state;
    struct part_profile *p = profile("vmlinuz", NULL);
    struct part_error err;
    char path[160], other[160];

    p->serial_log = strdup("new.log");
    assert_int_equal(load(fx, p, &err), 0); /* partd --check: nothing created */
    snprintf(path, sizeof(path), "%s/new.log", fx->logs);
    assert_int_equal(access(path, F_OK), -1);
    part_profile_free(p);

    const struct {
        const char *name;
        const char *want;
    } bad[] = {
        {"/etc/passwd", "serial_log: /etc/passwd is not inside paths.logs"},
        {"../outside/secret", "is not inside paths.logs"},
        {"link.log", "link.log is a symbolic link, not a regular file"},
        {"fifo.log", "fifo.log is a FIFO, not a regular file"},
        {"hard.log", "hard.log has 2 links: refused"},
        {"dir.log", "is a directory, not a regular file"},
        {"no-such-dir/a.log", "no such directory in paths.logs"},
    };
    snprintf(path, sizeof(path), "%s/link.log", fx->logs);
    assert_int_equal(symlink("/etc/passwd", path), 0);
    snprintf(path, sizeof(path), "%s/fifo.log", fx->logs);
    assert_int_equal(mkfifo(path, 0600), 0);
    snprintf(path, sizeof(path), "%s/hard.log", fx->logs);
    snprintf(other, sizeof(other), "%s/secret", fx->outside);
    assert_int_equal(link(other, path), 0);
    snprintf(path, sizeof(path), "%s/dir.log", fx->logs);
    assert_int_equal(mkdir(path, 0755), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        for (unsigned flags = 0; flags <= PART_HOSTPATH_CREATE_LOG; flags++) {
            p = profile("vmlinuz", NULL);
            p->serial_log = strdup(bad[i].name);
            part_error_clear(&err);
            assert_true(part_hostpath_load(&fx->paths, p, flags, &err) < 0);
            assert_string_equal(err.field, "serial_log");
            if (!strstr(err.message, bad[i].want))
                fail_msg("\"%s\" does not say \"%s\"", err.message, bad[i].want);
            assert_string_equal(p->boot_kernel, "vmlinuz"); /* all or nothing */
            part_profile_free(p);
        }
    }
    char *text = golden_read_text(other);
    assert_string_equal(text, "secret"); /* untouched */
    free(text);
}

static void test_flags(void **state)
{
    struct fixture *fx = *state;
    struct part_profile *p = profile("vmlinuz", NULL);
    struct part_error err;
    assert_int_equal(part_hostpath_load(&fx->paths, p, 0x10, &err), -EINVAL);
    assert_non_null(strstr(err.message, "invalid flags 0x10"));
    part_profile_free(p);
}

/* StrictModes: a directory of host paths, and every one above it, is root's
 * or partd's user's and closed to writes by others. */
static void test_check_dirs(void **state)
{
    struct fixture *fx = *state;
    struct part_error err;

    assert_int_equal(part_hostpath_check_dirs(&fx->paths, &err), 0);
    assert_int_equal(chmod(fx->templates, 0775), 0);
    assert_int_equal(part_hostpath_check_dirs(&fx->paths, &err), -EPERM);
    assert_string_equal(err.field, "paths.templates");
    assert_non_null(strstr(err.message, "mode 0775 gives its group write access"));
    assert_non_null(strstr(err.message, fx->templates));
    /* and each file under it is refused, not only the start */
    expect_template(fx, "t.xml", -EPERM, "mode 0775 gives its group write access");
    assert_int_equal(chmod(fx->templates, 0755), 0);

    /* a parent others may write: refused, naming the parent */
    assert_int_equal(chmod(fx->dir, 0777), 0);
    part_error_clear(&err);
    assert_int_equal(part_hostpath_check_dirs(&fx->paths, &err), -EPERM);
    assert_string_equal(err.field, "paths.images");
    assert_non_null(strstr(err.message, "mode 0777 gives others write access"));
    expect_kernel(fx, "vmlinuz", -EPERM, "mode 0777 gives others write access");
    /* sticky and root's, as /tmp is: nobody may swap what is in it */
    if (geteuid() == 0) {
        assert_int_equal(chmod(fx->dir, 01777), 0);
        assert_int_equal(part_hostpath_check_dirs(&fx->paths, &err), 0);
    }
    assert_int_equal(chmod(fx->dir, 0700), 0);

    /* the directory itself may not be: anyone could add a file there */
    assert_int_equal(chmod(fx->logs, 01777), 0);
    assert_int_equal(part_hostpath_check_dirs(&fx->paths, &err), -EPERM);
    assert_string_equal(err.field, "paths.logs");
    assert_int_equal(chmod(fx->logs, 0755), 0);
    if (geteuid() == 0) { /* only root can give a directory away */
        assert_int_equal(chown(fx->images, 65534, 65534), 0);
        assert_int_equal(part_hostpath_check_dirs(&fx->paths, &err), -EPERM);
        assert_non_null(strstr(err.message, "owned by uid 65534"));
        assert_int_equal(chown(fx->images, 0, 0), 0);
    }
    /* a missing directory: nothing can be named there, nothing to refuse */
    char missing[160];
    snprintf(missing, sizeof(missing), "%s/none", fx->dir);
    fx->paths.images = missing;
    assert_int_equal(part_hostpath_check_dirs(&fx->paths, &err), 0);
    expect_kernel(fx, "vmlinuz", -ENOENT, "paths.images");
    fx->paths.images = fx->images;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_good_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relative, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outside_same_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_regular, setup, teardown),
        cmocka_unit_test_setup_teardown(test_template_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_serial_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_dirs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
