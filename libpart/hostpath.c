/* Host paths a profile may name: confined to the administrator's
 * directories (partd.json "paths"), opened without following links or
 * blocking, regular files only; the template read once, here, so that
 * nothing under the manager's lock waits on a file. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "part/hostpath.h"
#include "file.h"

enum hostpath_kind {
    HOSTPATH_IMAGES,
    HOSTPATH_TEMPLATES,
    HOSTPATH_LOGS,
};

static const char *const hostpath_keys[] = {"paths.images", "paths.templates", "paths.logs"};

/* One path of a profile being checked. */
struct hostpath {
    const char *field; /* "boot.kernel" */
    const char *given; /* as the profile has it */
    enum hostpath_kind kind;
    const char *key; /* "paths.images" */
    char *dir;       /* the directory of its kind, normalised */
    char real_dir[PATH_MAX];
    bool dir_exists; /* real_dir is the directory's realpath */
    char *norm;      /* given, made absolute against dir and normalised */
};

static const char *hostpath_dir(const struct part_paths *paths, enum hostpath_kind kind)
{
    return kind == HOSTPATH_IMAGES      ? paths->images
           : kind == HOSTPATH_TEMPLATES ? paths->templates
                                        : paths->logs;
}

/* Sets err (field h->field) to "FIELD: GIVEN: " + its message so far and
 * returns r: a lower layer's reason, said of the path at fault. */
static int hostpath_error_wrap(const struct hostpath *h, int r, struct part_error *err)
{
    char msg[sizeof(err->message)];
    if (!err)
        return r;
    snprintf(msg, sizeof(msg), "%s", err->message);
    return part_error_set(err, r, h->field, "%s: %s: %s", h->field, h->given, msg);
}

static int hostpath_outside(const struct hostpath *h, struct part_error *err)
{
    return part_error_set(err, -EINVAL, h->field, "%s: %s is not inside %s (%s)", h->field,
                          h->given, h->key, h->dir);
}

static int hostpath_leads_out(const struct hostpath *h, struct part_error *err)
{
    return part_error_set(err, -EINVAL, h->field,
                          "%s: %s leads out of %s (%s) through a symbolic link", h->field, h->given,
                          h->key, h->dir);
}

/* What a file that is not a regular one is, for messages. */
static const char *hostpath_type(mode_t mode)
{
    return S_ISDIR(mode)    ? "a directory"
           : S_ISFIFO(mode) ? "a FIFO"
           : S_ISCHR(mode)  ? "a character device"
           : S_ISBLK(mode)  ? "a block device"
           : S_ISSOCK(mode) ? "a socket"
           : S_ISLNK(mode)  ? "a symbolic link"
                            : "not a regular file";
}

static int hostpath_not_regular(const struct hostpath *h, mode_t mode, struct part_error *err)
{
    return part_error_set(err, -EINVAL, h->field, "%s: %s is %s, not a regular file", h->field,
                          h->given, hostpath_type(mode));
}

/* Sets up h for the path given of field (of kind) and checks that it lies
 * inside its directory (as configured or as resolved): decided on the text
 * alone, nothing looked up but the directory, so that a path outside gets
 * one answer whether or not it exists. h owns dir and norm afterwards. */
static int hostpath_confine(const struct part_paths *paths, const char *field, const char *given,
                            enum hostpath_kind kind, struct hostpath *h, struct part_error *err)
{
    char *joined;

    *h =
        (struct hostpath){.field = field, .given = given, .kind = kind, .key = hostpath_keys[kind]};
    if (!(h->dir = part_path_absolute(hostpath_dir(paths, kind))))
        return part_error_oom(err);
    h->dir_exists = realpath(h->dir, h->real_dir) != NULL;
    joined = part_path_join(h->dir, given);
    h->norm = joined ? part_path_normalise(joined) : NULL;
    free(joined);
    if (!h->norm)
        return part_error_oom(err);
    if (!part_path_inside(h->norm, h->dir) &&
        !(h->dir_exists && part_path_inside(h->norm, h->real_dir)))
        return hostpath_outside(h, err);
    return 0;
}

/* The realpath of norm into real (PATH_MAX bytes); it must still lie in
 * the directory, and what leads to it must be trusted. */
static int hostpath_real(const struct hostpath *h, const char *norm, char *real, bool dir,
                         struct part_error *err)
{
    int r;

    if (!realpath(norm, real)) {
        int e = errno;
        if (e == ENOENT)
            return part_error_set(err, -ENOENT, h->field, "%s: %s: no such %s in %s (%s)", h->field,
                                  h->given, dir ? "directory" : "file", h->key, h->dir);
        return part_error_set(err, -e, h->field, "%s: %s: %s", h->field, h->given, strerror(e));
    }
    if (strcmp(real, h->real_dir) != 0 && !part_path_inside(real, h->real_dir))
        return hostpath_leads_out(h, err);
    char *parent = dir ? strdup(real) : part_path_dirname(real);
    if (!parent)
        return part_error_oom(err);
    r = part_dir_check_trusted(parent, err);
    free(parent);
    return r < 0 ? hostpath_error_wrap(h, r, err) : 0;
}

/* Reads the template at fd (a regular file of st) into *ret. */
static int hostpath_read_template(const struct hostpath *h, int fd, const struct stat *st,
                                  char **ret, struct part_error *err)
{
    char *buf;
    size_t len = 0;

    if (st->st_size > PART_TEMPLATE_MAX)
        return part_error_set(err, -EFBIG, h->field, "%s: %s is larger than %d KiB (%lld bytes)",
                              h->field, h->given, PART_TEMPLATE_MAX / 1024, (long long)st->st_size);
    if (!(buf = malloc(PART_TEMPLATE_MAX + 2)))
        return part_error_oom(err);
    /* bounded even if the file grows meanwhile: one byte over is enough */
    for (;;) {
        ssize_t n = read(fd, buf + len, PART_TEMPLATE_MAX + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            free(buf);
            return part_error_set(err, -e, h->field, "%s: %s: cannot read: %s", h->field, h->given,
                                  strerror(e));
        }
        len += (size_t)n;
        if (n == 0 || len > PART_TEMPLATE_MAX)
            break;
    }
    if (len > PART_TEMPLATE_MAX) {
        free(buf);
        return part_error_set(err, -EFBIG, h->field, "%s: %s is larger than %d KiB", h->field,
                              h->given, PART_TEMPLATE_MAX / 1024);
    }
    buf[len] = '\0';
    *ret = buf;
    return 0;
}

/* A kernel, initrd, disk image or template: resolved into *ret, and a
 * template's text into *ret_text. */
static int hostpath_file(const struct hostpath *h, char **ret, char **ret_text,
                         struct part_error *err)
{
    char real[PATH_MAX], *text = NULL;
    struct stat st;
    int fd, r;

    if ((r = hostpath_real(h, h->norm, real, false, err)) < 0)
        return r;
    /* images are never read here: O_PATH neither blocks nor reaches a
     * device's driver; a template is read, without ever blocking (a FIFO) */
    fd = h->kind == HOSTPATH_TEMPLATES ? open(real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
                                       : open(real, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        r = part_error_set(err, -errno, h->field, "%s: %s: cannot open: %s", h->field, h->given,
                           strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        r = hostpath_not_regular(h, st.st_mode, err);
        goto out;
    }
    if (h->kind == HOSTPATH_TEMPLATES) {
        /* whoever may change the template decides what the guest gets */
        r = part_file_check_owner(&st, true, S_IWGRP | S_IWOTH, "chmod go-w it", err);
        if (r < 0) {
            r = hostpath_error_wrap(h, r, err);
            goto out;
        }
        if ((r = hostpath_read_template(h, fd, &st, &text, err)) < 0)
            goto out;
    }
    if (!(*ret = strdup(real))) {
        free(text);
        r = part_error_oom(err);
        goto out;
    }
    if (h->kind == HOSTPATH_TEMPLATES)
        *ret_text = text;
out:
    if (fd >= 0)
        close(fd);
    return r;
}

/* Opens the log at path as the flags ask: created when missing (never
 * truncated), or only looked at (missing is then fine: *ret_fd is -1). */
static int hostpath_open_log(const struct hostpath *h, const char *path, unsigned flags,
                             int *ret_fd, struct part_error *err)
{
    int fd =
        flags & PART_HOSTPATH_CREATE_LOG
            ? open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0640)
            : open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    int e = errno;

    *ret_fd = fd;
    if (fd >= 0 || (e == ENOENT && !(flags & PART_HOSTPATH_CREATE_LOG)))
        return 0;
    if (e == ELOOP)
        return hostpath_not_regular(h, S_IFLNK, err);
    if (e == EISDIR)
        return hostpath_not_regular(h, S_IFDIR, err);
    if (e == ENXIO) /* O_NONBLOCK on a FIFO without a reader, or a socket */
        return hostpath_not_regular(h, S_IFIFO, err);
    return part_error_set(err, -e, h->field, "%s: %s: cannot open: %s", h->field, h->given,
                          strerror(e));
}

/* The serial log: its directory resolved, the file itself never followed
 * (libvirt truncates it), created when the flags say so. */
static int hostpath_log(const struct hostpath *h, unsigned flags, char **ret,
                        struct part_error *err)
{
    char real[PATH_MAX], *parent = part_path_dirname(h->norm), *path = NULL;
    const char *base = strrchr(h->norm, '/') + 1;
    struct stat st;
    int fd = -1, r;

    if (!parent)
        return part_error_oom(err);
    r = hostpath_real(h, parent, real, true, err);
    free(parent);
    if (r < 0)
        return r;
    if (asprintf(&path, "%s/%s", strcmp(real, "/") == 0 ? "" : real, base) < 0)
        return part_error_oom(err);
    if ((r = hostpath_open_log(h, path, flags, &fd, err)) < 0 || fd < 0)
        goto out;
    if (fstat(fd, &st) < 0) {
        r = part_error_set(err, -errno, h->field, "%s: %s: %s", h->field, h->given,
                           strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        r = hostpath_not_regular(h, st.st_mode, err);
    } else if (st.st_nlink > 1) {
        r = part_error_set(err, -EINVAL, h->field,
                           "%s: %s has %lu links: refused, since libvirt truncates it", h->field,
                           h->given, (unsigned long)st.st_nlink);
    }
out:
    if (fd >= 0)
        close(fd);
    if (r == 0)
        *ret = path;
    else
        free(path);
    return r;
}

/* Looks h up: its file checked, *ret its resolved path (and *ret_text a
 * template's text). */
static int hostpath_resolve(const struct hostpath *h, unsigned flags, char **ret, char **ret_text,
                            struct part_error *err)
{
    if (!h->dir_exists)
        return part_error_set(err, -ENOENT, h->field, "%s: %s: %s (%s) does not exist", h->field,
                              h->given, h->key, h->dir);
    if (h->kind == HOSTPATH_LOGS)
        return hostpath_log(h, flags, ret, err);
    return hostpath_file(h, ret, ret_text, err);
}

int part_hostpath_load(const struct part_paths *paths, struct part_profile *p, unsigned flags,
                       struct part_error *err)
{
    const struct {
        const char *field;
        char **slot;
        enum hostpath_kind kind;
    } list[] = {
        {"domain.template", &p->domain_template, HOSTPATH_TEMPLATES},
        {"boot.kernel", &p->boot_kernel, HOSTPATH_IMAGES},
        {"boot.initrd", &p->boot_initrd, HOSTPATH_IMAGES},
        {"boot.disk", &p->boot_disk, HOSTPATH_IMAGES},
        {"serial_log", &p->serial_log, HOSTPATH_LOGS},
    };
    enum { N = sizeof(list) / sizeof(list[0]) };
    struct hostpath h[N] = {{0}};
    char *resolved[N] = {NULL}, *text = NULL;
    size_t i;
    int r = 0;

    if (flags & ~PART_HOSTPATH_CREATE_LOG)
        return part_error_set(err, -EINVAL, "", "invalid flags 0x%x", flags);
    /* every path on its text first: the answer to a profile naming a path
     * outside never depends on what exists, whatever its other paths */
    for (i = 0; i < N && r == 0; i++)
        if (*list[i].slot)
            r = hostpath_confine(paths, list[i].field, *list[i].slot, list[i].kind, &h[i], err);
    for (i = 0; i < N && r == 0; i++)
        if (*list[i].slot)
            r = hostpath_resolve(&h[i], flags, &resolved[i], &text, err);
    for (i = 0; i < N; i++) {
        free(h[i].dir);
        free(h[i].norm);
        if (r == 0 && resolved[i]) { /* all or nothing: half of it names wrong files */
            free(*list[i].slot);
            *list[i].slot = resolved[i];
        } else {
            free(resolved[i]);
        }
    }
    if (r < 0) {
        free(text);
        return r;
    }
    free(p->domain_template_xml);
    p->domain_template_xml = text;
    return 0;
}

int part_hostpath_check_dirs(const struct part_paths *paths, struct part_error *err)
{
    for (enum hostpath_kind k = HOSTPATH_IMAGES; k <= HOSTPATH_LOGS; k++) {
        const char *dir = hostpath_dir(paths, k);
        char real[PATH_MAX], msg[sizeof(err->message)];
        int r;

        if (!realpath(dir, real)) {
            if (errno == ENOENT)
                continue; /* nothing can be named in it */
            return part_error_set(err, -errno, hostpath_keys[k], "%s: %s: %s", hostpath_keys[k],
                                  dir, strerror(errno));
        }
        if ((r = part_dir_check_trusted(real, err)) < 0) {
            snprintf(msg, sizeof(msg), "%s", err ? err->message : "");
            return part_error_set(err, r, hostpath_keys[k], "%s (%s): %s", hostpath_keys[k], dir,
                                  msg);
        }
    }
    return 0;
}
