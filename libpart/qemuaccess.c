/* Whether QEMU's user can reach a guest's files: each directory above
 * them judged from its stat() as the kernel would judge that user, without
 * becoming it (partd never changes its uid). */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "part/qemuaccess.h"

struct part_qemu_user *part_qemu_user_free(struct part_qemu_user *u)
{
    if (u) {
        free(u->name);
        free(u->groups);
        free(u);
    }
    return NULL;
}

/* name's groups (its primary group gid among them) into u. */
static int qemu_user_groups(struct part_qemu_user *u, gid_t gid)
{
    int n = 16;

    for (;;) {
        gid_t *g = realloc(u->groups, (size_t)n * sizeof(*g));
        if (!g)
            return -ENOMEM;
        u->groups = g;
        int want = n;
        if (getgrouplist(u->name, gid, g, &want) >= 0) {
            u->n_groups = want;
            return 0;
        }
        if (want <= n) /* glibc sets want to the count needed */
            want = n * 2;
        n = want;
    }
}

int part_qemu_user_lookup(const char *name, struct part_qemu_user **ret, struct part_error *err)
{
    struct passwd pw, *found = NULL;
    struct part_qemu_user *u = NULL;
    size_t size = 1024;
    char *buf = NULL;
    int e;

    *ret = NULL;
    do {
        char *b = realloc(buf, size *= 2);
        if (!b) {
            free(buf);
            return part_error_oom(err);
        }
        buf = b;
        e = getpwnam_r(name, &pw, buf, size, &found);
    } while (e == ERANGE && size < 1024 * 1024);
    if (e != 0 || !found) {
        free(buf);
        if (e == 0 || e == ENOENT || e == ESRCH)
            return 0;
        return part_error_set(err, -e, "qemu_user", "qemu_user: cannot look up %s: %s", name,
                              strerror(e));
    }
    if (!(u = calloc(1, sizeof(*u))) || !(u->name = strdup(name)) ||
        qemu_user_groups(u, pw.pw_gid) < 0) {
        free(buf);
        part_qemu_user_free(u);
        return part_error_oom(err);
    }
    u->uid = pw.pw_uid;
    free(buf);
    *ret = u;
    return 1;
}

/* Whether u may search the directory of st. */
static bool qemu_may_search(const struct part_qemu_user *u, const struct stat *st)
{
    if (u->uid == 0)
        return true; /* CAP_DAC_READ_SEARCH */
    if (st->st_uid == u->uid)
        return st->st_mode & S_IXUSR;
    for (int i = 0; i < u->n_groups; i++)
        if (u->groups[i] == st->st_gid)
            return st->st_mode & S_IXGRP;
    return st->st_mode & S_IXOTH;
}

/* "drwx------ root:root", as ls -l shows them, into buf. */
static void qemu_describe(const struct stat *st, char *buf, size_t size)
{
    static const char bits[] = "rwxrwxrwx";
    char mode[11], owner[64], group[64], tmp[1024];
    struct passwd pw, *pwp = NULL;
    struct group gr, *grp = NULL;

    mode[0] = S_ISDIR(st->st_mode) ? 'd' : '-';
    for (int i = 0; i < 9; i++)
        mode[i + 1] = st->st_mode & (0400 >> i) ? bits[i] : '-';
    if (st->st_mode & S_ISVTX)
        mode[9] = st->st_mode & S_IXOTH ? 't' : 'T';
    mode[10] = '\0';
    if (getpwuid_r(st->st_uid, &pw, tmp, sizeof(tmp), &pwp) == 0 && pwp)
        snprintf(owner, sizeof(owner), "%s", pw.pw_name);
    else
        snprintf(owner, sizeof(owner), "%lu", (unsigned long)st->st_uid);
    if (getgrgid_r(st->st_gid, &gr, tmp, sizeof(tmp), &grp) == 0 && grp)
        snprintf(group, sizeof(group), "%s", gr.gr_name);
    else
        snprintf(group, sizeof(group), "%lu", (unsigned long)st->st_gid);
    snprintf(buf, size, "%s %s:%s", mode, owner, group);
}

/* Checks each directory from "/" down to path's own. */
static int qemu_check_path(const struct part_qemu_user *u, const char *field, const char *path,
                           struct part_error *err)
{
    char dir[4096], what[160];
    const char *slash = path;
    struct stat st;

    if (path[0] != '/' || strlen(path) >= sizeof(dir))
        return part_error_set(err, -EINVAL, field, "%s: %s is not an absolute path", field, path);
    while (slash) {
        size_t len = slash == path ? 1 : (size_t)(slash - path);
        memcpy(dir, path, len);
        dir[len] = '\0';
        if (stat(dir, &st) < 0)
            return part_error_set(err, -errno, field, "%s: %s: %s: %s", field, path, dir,
                                  strerror(errno));
        if (!qemu_may_search(u, &st)) {
            qemu_describe(&st, what, sizeof(what));
            return part_error_set(err, -EACCES, field,
                                  "%s: QEMU's user %s cannot reach %s: %s (%s) is closed to it",
                                  field, u->name, path, dir, what);
        }
        slash = strchr(slash + 1, '/');
    }
    return 0;
}

int part_qemu_access_check(const struct part_qemu_user *u, const struct part_profile *p,
                           struct part_error *err)
{
    const struct {
        const char *field, *path;
    } files[] = {
        {"boot.kernel", p->boot_kernel},
        {"boot.initrd", p->boot_initrd},
        {"boot.disk", p->boot_disk},
    };
    int r;

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        if (files[i].path && (r = qemu_check_path(u, files[i].field, files[i].path, err)) < 0)
            return r;
    return 0;
}
