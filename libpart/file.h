/* Internal: files and paths. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "part/error.h"

/* Reads the whole file at path into *ret (NUL-terminated, caller frees) and
 * its length into *ret_len. Errors (-errno) name the file. */
int part_file_read(const char *path, char **ret, size_t *ret_len, struct part_error *err);

/* Returns dir/path (or a copy of path when it is absolute or dir is NULL);
 * the caller frees it. NULL on ENOMEM. */
char *part_path_join(const char *dir, const char *path);

/* Returns the directory part of path ("." when none); the caller frees it. */
char *part_path_dirname(const char *path);

/* Returns the absolute path made lexically canonical: "//", "." and ".."
 * (which stops at "/") removed, no trailing "/"; links are not looked at.
 * path must be absolute. The caller frees it; NULL on ENOMEM. */
char *part_path_normalise(const char *path);

/* Returns path made absolute against the working directory and
 * normalised (part_path_normalise()); the caller frees it. NULL on ENOMEM
 * or when the working directory cannot be had. */
char *part_path_absolute(const char *path);

/* Whether the normalised path names something strictly inside the
 * normalised directory dir ("/a/b" is inside "/a", "/a" and "/ab" are
 * not). */
bool part_path_inside(const char *path, const char *dir);

/* Creates path and its missing parents with mode. Returns 0 or -errno. */
int part_mkdir_p(const char *path, unsigned mode);

/* Removes the temporary files (.NAME.XXXXXX, or NAME.tmp.PID of earlier
 * versions) that an atomic write left in dir when its writer was killed;
 * returns how many. Only partd writes there, and only one partd runs on a
 * directory. */
int part_dir_remove_stale_tmp(const char *dir);

/* Replaces path with len bytes of data, atomically (a temporary file in
 * the same directory, created exclusively under an unpredictable name,
 * fdatasync, rename, fsync of the directory): a crash leaves the old or the
 * new file, never half of one. The new file has mode. */
int part_file_write_atomic(const char *path, const char *data, size_t len, unsigned mode,
                           struct part_error *err);

/* Reads a secret (a bearer token) from path into buf (len bytes, NUL
 * included): the file's first line, 1 to len - 1 visible ASCII characters.
 * The file must be a regular file (not a link) owned by partd's user, and
 * neither readable nor writable by others nor writable by its group: else
 * -EPERM saying why. A longer secret is -E2BIG, not cut; an empty one
 * -ENODATA; other characters -EINVAL. err names the file. */
int part_file_read_secret(const char *path, char *buf, size_t len, struct part_error *err);

/* Reads a secret as part_file_read_secret() does, for a client (partctl)
 * rather than partd: the file must be owned by the user (or by root, who
 * may hand a token to a group), a regular file (not a link), neither
 * readable nor writable by others nor writable by its group, as OpenSSH
 * checks a key file. -EPERM says which rule it breaks and how to fix it. */
int part_file_read_user_secret(const char *path, char *buf, size_t len, struct part_error *err);

/* Reads a private file (a TLS key) from path into *ret (NUL-terminated,
 * caller wipes and frees) and its length into *ret_len, checked as
 * part_file_read_secret() checks a token's file. A file over max bytes is
 * -E2BIG. err names the file. */
int part_file_read_private(const char *path, size_t max, char **ret, size_t *ret_len,
                           struct part_error *err);

/* Whether st is owned by partd's user (or by root, when root_ok) and has
 * none of the forbidden mode bits: 0, or -EPERM with err's message saying
 * why and, for the mode, how to fix it. One rule for secrets, the
 * directories partd writes and those whose files it trusts. */
int part_file_check_owner(const struct stat *st, bool root_ok, unsigned forbidden, const char *fix,
                          struct part_error *err);

/* Checks that dir (absolute, without links: a realpath) and every parent up
 * to "/" are directories owned by root or partd's user and not writable by
 * group or others, as OpenSSH's StrictModes: whoever may write one of them
 * may swap what partd finds below. A parent may be writable by all when it
 * is root's and sticky (/tmp). Returns 0, or -EPERM (-ENOTDIR, -errno) with
 * err's message naming the directory at fault and why. */
int part_dir_check_trusted(const char *dir, struct part_error *err);

/* Checks that dir, a directory partd writes (state, partitions), is one
 * (not a link), is owned by partd's user and is not writable by group or
 * others. Returns 0, or -EPERM (or -errno) with err saying what and why. */
int part_dir_check_private(const char *dir, struct part_error *err);
