/* Golden files shared by the unit tests (golden.h). */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <part/error.h>

#include "golden.h"

char *golden_read_file(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "re");
    char *text = NULL;
    size_t cap = 0;
    ssize_t n;

    if (!f)
        fail_msg("cannot open %s", path);
    n = getdelim(&text, &cap, '\0', f);
    fclose(f);
    if (n < 0) {
        text = realloc(text, 1);
        assert_non_null(text);
        n = 0;
    }
    text[n] = '\0';
    if (ret_len)
        *ret_len = (size_t)n;
    return text;
}

char *golden_read_text(const char *path)
{
    size_t n;
    char *text = golden_read_file(path, &n);

    while (n > 0 && text[n - 1] == '\n')
        n--;
    text[n] = '\0';
    return text;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **golden_list_fixtures(const char *dir, const char *prefix, size_t *ret_n)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **paths = NULL;
    size_t n = 0;

    if (!d)
        fail_msg("cannot open %s", dir);
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0 || len < 5 ||
            strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        paths = realloc(paths, (n + 2) * sizeof(*paths));
        assert_non_null(paths);
        assert_true(asprintf(&paths[n++], "%s/%s", dir, e->d_name) > 0);
    }
    closedir(d);
    if (paths) {
        qsort(paths, n, sizeof(*paths), compare_names);
        paths[n] = NULL;
    }
    *ret_n = n;
    return paths;
}

void golden_free_list(char **paths, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}

size_t golden_check_failures(const char *dir, size_t min_files, golden_load_fn *load)
{
    size_t n, bad = 0;
    char **paths = golden_list_fixtures(dir, "fail-", &n);

    assert_true(n >= min_files);
    for (size_t i = 0; i < n; i++) {
        struct part_error err;
        char got[1024], *ok_path, *want;

        int r = load(paths[i], &err);
        assert_true(asprintf(&ok_path, "%.*s.ok", (int)(strlen(paths[i]) - 5), paths[i]) > 0);
        want = golden_read_text(ok_path);
        if (r >= 0) {
            print_error("%s: loaded, expected: %s\n", paths[i], want);
            bad++;
        } else if (strcmp(part_error_format(&err, got, sizeof(got)), want) != 0) {
            print_error("%s:\n  got:      %s\n  expected: %s\n", paths[i], got, want);
            bad++;
        } else if (r != -EINVAL && r != -ENODATA) {
            print_error("%s: returned %d\n", paths[i], r);
            bad++;
        }
        free(want);
        free(ok_path);
    }
    golden_free_list(paths, n);
    assert_int_equal(bad, 0);
    return bad;
}

size_t golden_check_passes(const char *dir, size_t min_files, void (*check)(const char *path))
{
    size_t n;
    char **paths = golden_list_fixtures(dir, "pass-", &n);

    assert_true(n >= min_files);
    for (size_t i = 0; i < n; i++)
        check(paths[i]);
    golden_free_list(paths, n);
    return n;
}

void golden_write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    return remove(path) < 0 ? -1 : 0;
}

int golden_remove_tree(const char *dir)
{
    /* depth first: a directory after its entries */
    return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 ? -errno : 0;
}
