/* Files and paths. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
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

int part_dir_remove_stale_tmp(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (!d)
        return 0;
    while ((e = readdir(d))) {
        /* NAME.tmp.PID, left by part_file_write_atomic() when the writer died */
        const char *tmp = strstr(e->d_name, ".tmp.");
        if (!tmp || !tmp[5] || strspn(tmp + 5, "0123456789") != strlen(tmp + 5))
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) == 0)
            n++;
    }
    closedir(d);
    return n;
}
