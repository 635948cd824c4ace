/* Files and paths: reading, atomic replacement, lexical paths, the
 * directories partd owns and those whose files it trusts. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <libgen.h>
#include <unistd.h>

#include "file.h"

int part_file_read(const char *path, char **ret, size_t *ret_len, struct part_error *err)
{
    FILE *f = fopen(path, "re");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int r = 0;

    if (!f) {
        part_error_set_file(err, path);
        return part_error_set(err, -errno, "", "cannot read: %s", strerror(errno));
    }
    for (;;) {
        if (cap - len < 4096) {
            char *n = realloc(buf, cap = cap ? cap * 2 : 8192);
            if (!n) {
                r = -ENOMEM;
                goto out;
            }
            buf = n;
        }
        errno = 0;
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        int e = errno ? errno : EIO;
        part_error_set_file(err, path);
        r = part_error_set(err, -e, "", "cannot read: %s", strerror(e));
        goto out;
    }
    buf[len] = '\0';
    *ret = buf;
    *ret_len = len;
    buf = NULL;
out:
    free(buf);
    fclose(f);
    return r;
}

char *part_path_join(const char *dir, const char *path)
{
    char *s;
    if (!dir || path[0] == '/')
        return strdup(path);
    if (asprintf(&s, "%s/%s", dir, path) < 0)
        return NULL;
    return s;
}

char *part_path_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

char *part_path_normalise(const char *path)
{
    size_t n = strlen(path);
    char *out = malloc(n + 2), *copy = strdup(path), *save = NULL;
    size_t len = 0;

    if (!out || !copy) {
        free(out);
        free(copy);
        return NULL;
    }
    /* out holds "/a/b" (or "" for the root) as components are pushed and
     * popped; ".." at the root stays there, as the kernel has it */
    for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (strcmp(c, ".") == 0)
            continue;
        if (strcmp(c, "..") == 0) {
            while (len > 0 && out[--len] != '/')
                ;
            continue;
        }
        out[len++] = '/';
        memcpy(out + len, c, strlen(c));
        len += strlen(c);
    }
    if (len == 0)
        out[len++] = '/';
    out[len] = '\0';
    free(copy);
    return out;
}

char *part_path_absolute(const char *path)
{
    char cwd[PATH_MAX], *joined, *abs;

    if (path[0] == '/')
        return part_path_normalise(path);
    if (!getcwd(cwd, sizeof(cwd)) || !(joined = part_path_join(cwd, path)))
        return NULL;
    abs = part_path_normalise(joined);
    free(joined);
    return abs;
}

bool part_path_inside(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    if (strcmp(dir, "/") == 0)
        return path[0] == '/' && path[1];
    return strncmp(path, dir, n) == 0 && path[n] == '/' && path[n + 1];
}

int part_mkdir_p(const char *path, unsigned mode)
{
    char *p = strdup(path);
    int r = 0;
    if (!p)
        return -ENOMEM;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, mode) < 0 && errno != EEXIST)
            r = -errno;
        *s = '/';
        if (r < 0)
            goto out;
    }
    if (mkdir(p, mode) < 0 && errno != EEXIST)
        r = -errno;
out:
    free(p);
    return r;
}

/* Whether name is a temporary file of part_file_write_atomic(): .NAME.XXXXXX
 * (this version) or NAME.tmp.PID (earlier ones). */
static bool file_is_stale_tmp(const char *name)
{
    size_t n = strlen(name);
    const char *tmp = strstr(name, ".tmp.");
    if (tmp && tmp[5] && strspn(tmp + 5, "0123456789") == strlen(tmp + 5))
        return true;
    return name[0] == '.' && n > 7 + 5 && name[n - 7] == '.' &&
           strncmp(name + n - 12, ".json", 5) == 0;
}

int part_dir_remove_stale_tmp(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (!d)
        return 0;
    while ((e = readdir(d))) {
        /* left by part_file_write_atomic() when the writer died */
        if (file_is_stale_tmp(e->d_name) && unlinkat(dirfd(d), e->d_name, 0) == 0)
            n++;
    }
    closedir(d);
    return n;
}

/* Writes len bytes of data to fd, all of them. */
static int file_write_all(int fd, const char *data, size_t len)
{
    for (size_t off = 0; off < len;) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        off += (size_t)n;
    }
    return 0;
}

int part_file_write_atomic(const char *path, const char *data, size_t len, unsigned mode,
                           struct part_error *err)
{
    char *tmp = NULL, *dir = part_path_dirname(path), *copy = strdup(path);
    int fd = -1, r = 0;

    part_error_set_file(err, path);
    /* In the target directory under a name nobody can guess, created
     * exclusively (mkostemp's O_EXCL): a file or link planted there is
     * never opened, let alone followed. */
    if (!dir || !copy || asprintf(&tmp, "%s/.%s.XXXXXX", dir, basename(copy)) < 0) {
        tmp = NULL;
        r = part_error_oom(err);
        goto out;
    }
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        free(tmp);
        tmp = NULL;
        r = part_error_set(err, -errno, "", "cannot write: %s", strerror(errno));
        goto out;
    }
    if (fchmod(fd, mode) < 0 || (r = file_write_all(fd, data, len)) < 0 ||
        fdatasync(fd) < 0) { /* the data and its size; not atime */
        r = r < 0 ? r : -errno;
        part_error_set(err, r, "", "cannot write: %s", strerror(-r));
        goto out;
    }
    if (close(fd) < 0) {
        fd = -1;
        r = part_error_set(err, -errno, "", "cannot write: %s", strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) < 0) {
        r = part_error_set(err, -errno, "", "cannot replace: %s", strerror(errno));
        goto out;
    }
    /* the rename itself must reach the disk before we say it is saved */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
out:
    if (fd >= 0)
        close(fd);
    if (r < 0 && tmp)
        unlink(tmp);
    free(tmp);
    free(copy);
    free(dir);
    return r;
}

int part_file_check_owner(const struct stat *st, bool root_ok, unsigned forbidden, const char *fix,
                          struct part_error *err)
{
    if (st->st_uid != geteuid() && !(root_ok && st->st_uid == 0))
        return part_error_set(err, -EPERM, "",
                              "owned by uid %u, not by %spartd's user (uid %u): refused, since "
                              "its owner could change what partd trusts",
                              (unsigned)st->st_uid, root_ok ? "root or " : "", (unsigned)geteuid());
    if (st->st_mode & forbidden)
        return part_error_set(
            err, -EPERM, "", "mode %04o gives %s %s: refused; %s", (unsigned)(st->st_mode & 07777),
            st->st_mode & forbidden & S_IRWXO ? "others" : "its group",
            st->st_mode & forbidden & (S_IROTH | S_IRGRP) ? "read access" : "write access", fix);
    return 0;
}

int part_dir_check_private(const char *dir, struct part_error *err)
{
    struct stat st;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &st) < 0) {
        int e = errno == ELOOP ? ENOTDIR : errno; /* O_NOFOLLOW on a link */
        if (fd >= 0)
            close(fd);
        part_error_set_file(err, dir);
        return part_error_set(err, -e, "", "%s",
                              e == ENOTDIR ? "not a directory (a symbolic link?)" : strerror(e));
    }
    close(fd);
    part_error_set_file(err, dir);
    return part_file_check_owner(&st, false, S_IWGRP | S_IWOTH, "chmod go-w it", err);
}

/* Puts "what: " before err's message (err may be NULL), cutting its end
 * when both do not fit. */
static void file_error_prefix(struct part_error *err, const char *what)
{
    size_t w = strlen(what) + 2, m, room = sizeof(err->message) - 1;
    if (!err || w > room)
        return;
    m = strnlen(err->message, room);
    if (m > room - w)
        m = room - w;
    memmove(err->message + w, err->message, m);
    memcpy(err->message, what, w - 2);
    memcpy(err->message + w - 2, ": ", 2);
    err->message[w + m] = '\0';
}

int part_dir_check_trusted(const char *dir, struct part_error *err)
{
    char *path = strdup(dir);
    struct stat st;
    int r = 0;

    if (!path)
        return part_error_oom(err);
    for (bool first = true;; first = false) {
        if (lstat(path, &st) < 0) {
            r = part_error_set(err, -errno, "", "%s: %s", path, strerror(errno));
            break;
        }
        if (!S_ISDIR(st.st_mode)) {
            r = part_error_set(err, -ENOTDIR, "", "%s: not a directory (a symbolic link?)", path);
            break;
        }
        /* a parent others may write is safe when it is root's and sticky
         * (/tmp): nobody else may rename or remove what is in it */
        bool sticky = !first && st.st_uid == 0 && (st.st_mode & S_ISVTX);
        if (!sticky &&
            (r = part_file_check_owner(&st, true, S_IWGRP | S_IWOTH, "chmod go-w it", err)) < 0) {
            file_error_prefix(err, path);
            break;
        }
        char *slash = strrchr(path, '/');
        if (!slash || (slash == path && !path[1]))
            break; /* "/" was the last */
        if (slash == path)
            path[1] = '\0'; /* on to "/" */
        else
            *slash = '\0';
    }
    free(path);
    return r;
}

/* Opens path, a file that holds a secret, for reading: a regular file (not
 * a link) that partd's user owns and that others may neither read nor
 * write, nor its group write. With user, for a client (partctl) rather
 * than partd: the file may also be root's (a token an administrator hands
 * to a group), and the owner is spoken of as the user's. Returns the
 * descriptor with its status in *st, or a negative errno with err saying
 * why. */
static int file_open_secret(const char *path, struct stat *st, bool user, struct part_error *err)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK), r;

    part_error_set_file(err, path);
    if (fd < 0 || fstat(fd, st) < 0) {
        r = part_error_set(err, -errno, "", "cannot read: %s",
                           errno == ELOOP ? "it is a symbolic link" : strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st->st_mode)) {
        r = part_error_set(err, -EPERM, "", "not a regular file");
        goto fail;
    }
    if (user && st->st_uid != geteuid() && st->st_uid != 0) {
        r = part_error_set(err, -EPERM, "",
                           "owned by uid %u, neither by you (uid %u) nor by root: refused, since "
                           "its owner could change the token",
                           (unsigned)st->st_uid, (unsigned)geteuid());
        goto fail;
    }
    if ((r = part_file_check_owner(st, user, S_IRWXO | S_IWGRP, "chmod 0600 it", err)) < 0)
        goto fail;
    return fd;
fail:
    if (fd >= 0)
        close(fd);
    return r;
}

/* A secret of partd's own (file_open_secret() without user). */
static int file_open_private(const char *path, struct stat *st, struct part_error *err)
{
    return file_open_secret(path, st, false, err);
}

/* part_file_read_secret(), or with user part_file_read_user_secret(). */
static int file_read_secret(const char *path, char *buf, size_t len, bool user,
                            struct part_error *err)
{
    struct stat st;
    ssize_t n = 0;
    int r, fd = file_open_secret(path, &st, user, err);

    if (fd < 0) {
        r = fd;
        goto out;
    }
    n = read(fd, buf, len);
    if (n < 0) {
        r = part_error_set(err, -errno, "", "cannot read: %s", strerror(errno));
        goto out;
    }
    size_t line = 0; /* buf holds n bytes, not NUL-terminated */
    while (line < (size_t)n && buf[line] != '\n' && buf[line] != '\r')
        line++;
    if (line >= len) {
        r = part_error_set(err, -E2BIG, "", "the token is longer than %zu bytes", len - 1);
        goto out;
    }
    buf[line] = '\0';
    if (line == 0) {
        r = part_error_set(err, -ENODATA, "", "empty: the first line must be the token");
        goto out;
    }
    for (size_t i = 0; i < line; i++)
        if (buf[i] < 0x21 || buf[i] > 0x7e) {
            r = part_error_set(err, -EINVAL, "",
                               "the token has a character that is not visible ASCII at byte %zu",
                               i + 1);
            goto out;
        }
    r = 0;
out:
    if (fd >= 0)
        close(fd);
    if (r < 0)
        memset(buf, 0, len);
    return r;
}

int part_file_read_secret(const char *path, char *buf, size_t len, struct part_error *err)
{
    return file_read_secret(path, buf, len, false, err);
}

int part_file_read_user_secret(const char *path, char *buf, size_t len, struct part_error *err)
{
    return file_read_secret(path, buf, len, true, err);
}

int part_file_read_private(const char *path, size_t max, char **ret, size_t *ret_len,
                           struct part_error *err)
{
    struct stat st;
    int r, fd = file_open_private(path, &st, err);
    char *buf = NULL;
    ssize_t n;

    if (fd < 0)
        return fd;
    if ((size_t)st.st_size > max) {
        r = part_error_set(err, -E2BIG, "", "over %zu bytes: refused", max);
        goto out;
    }
    if (!(buf = malloc(max + 1))) {
        r = -ENOMEM;
        goto out;
    }
    /* one read beyond the size seen: a file that grew since is refused too */
    n = read(fd, buf, max + 1);
    if (n < 0 || (size_t)n > max) {
        r = n < 0 ? part_error_set(err, -errno, "", "cannot read: %s", strerror(errno))
                  : part_error_set(err, -E2BIG, "", "over %zu bytes: refused", max);
        goto out;
    }
    buf[n] = '\0';
    *ret = buf;
    *ret_len = (size_t)n;
    buf = NULL;
    r = 0;
out:
    if (buf)
        explicit_bzero(buf, max + 1);
    free(buf);
    close(fd);
    return r;
}
