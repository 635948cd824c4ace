/* Golden files shared by the unit tests: a directory of fixtures where each
 * fail-NAME.json must fail to load with exactly the message in fail-NAME.ok,
 * and each pass-NAME.json must load. Paths are relative to tests/, where the
 * unit tests run. Include after <cmocka.h>. */
#pragma once

#include <stddef.h>

struct part_error;

/* Returns the whole content of path, NUL-terminated (free() it); *ret_len
 * (which may be NULL) is its length. Fails the test if path cannot be read. */
char *golden_read_file(const char *path, size_t *ret_len);

/* Writes text to dir/name, failing the test when it cannot. */
void golden_write_file(const char *dir, const char *name, const char *text);

/* Removes dir and everything below it (links are removed, never followed).
 * Returns 0 or a negative errno. */
int golden_remove_tree(const char *dir);

/* Returns the content of path without its trailing newlines (free() it). */
char *golden_read_text(const char *path);

/* Lists the files of dir named PREFIX*.json, sorted, as "dir/NAME" paths in
 * a NULL-terminated array, or NULL when there are none; *ret_n is how many.
 * Free it with golden_free_list(). */
char **golden_list_fixtures(const char *dir, const char *prefix, size_t *ret_n);

void golden_free_list(char **paths, size_t n);

/* Loads the fixture at path, filling err on failure, and returns 0 or a
 * negative errno. Whatever it allocates it frees, on success too. */
typedef int golden_load_fn(const char *path, struct part_error *err);

/* Checks every dir/fail-*.json: load() must fail with -EINVAL or -ENODATA
 * and part_error_format() must give exactly the text of the matching .ok
 * file (without its trailing newlines). Asserts there are at least min_files
 * of them; prints each mismatch with print_error(), then asserts there were
 * none. Returns the number of mismatches (so 0 whenever it returns). */
size_t golden_check_failures(const char *dir, size_t min_files, golden_load_fn *load);

/* Calls check() on every dir/pass-*.json, in order, after asserting there
 * are at least min_files of them; check() fails the test on its own.
 * Returns how many files were checked. */
size_t golden_check_passes(const char *dir, size_t min_files, void (*check)(const char *path));
