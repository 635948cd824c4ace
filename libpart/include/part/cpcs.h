/* The CPCs a client knows: cpcs.json, a list of partds (one per CPC) with
 * how to reach each (URL, token file, CA certificates), read by partctl to
 * show several CPCs at once or to pick one by name. Reading and checking
 * the file only: no network. */
#pragma once

#include <stddef.h>

#include "part/error.h"
#include "part/name.h"

/* Waits for a query of several CPCs (seconds), when the file sets none:
 * an unreachable CPC costs at most this much, once, whatever the count. */
#define PART_CPCS_CONNECT_TIMEOUT 2.0
#define PART_CPCS_TIMEOUT         5.0
#define PART_CPCS_TIMEOUT_MAX     3600.0
#define PART_CPCS_MAX             256  /* entries in one file */
#define PART_CPCS_TOKEN_MAX       4096 /* bytes of a token, NUL included */

/* One CPC: its partd's address and credentials. Paths are absolute
 * (relative ones in the file are resolved against its directory). */
struct part_cpc_entry {
    char name[PART_NAME_MAX];
    char *url;        /* "unix:/PATH", "http://HOST:PORT" or "https://HOST:PORT" */
    char *token_file; /* the bearer token's file, or NULL for none */
    char *cacert;     /* CA certificates (PEM) for https, or NULL for the system's */
};

struct part_cpcs {
    char *path; /* the file read, or NULL */
    struct part_cpc_entry *entries;
    size_t n;
    double connect_timeout, timeout; /* seconds, for queries of several CPCs */
};

/* Parses the text (len bytes) of a cpcs.json (file names it in errors, and
 * relative paths are resolved against file's directory, or the working
 * directory when file is NULL) into *ret (caller part_cpcs_free()s).
 * Errors are -EINVAL (or -ENODATA for an empty text) with err naming
 * file, line, column and field ("cpcs[1].url: ..."): unknown keys, a name
 * that is not one or given twice, a URL that is none of the three forms. */
int part_cpcs_parse(const char *text, size_t len, const char *file, struct part_cpcs **ret,
                    struct part_error *err);

/* Reads and parses the file at path (part_cpcs_parse()). */
int part_cpcs_load(const char *path, struct part_cpcs **ret, struct part_error *err);

/* Frees cpcs (which may be NULL); returns NULL. */
struct part_cpcs *part_cpcs_free(struct part_cpcs *cpcs);

/* The entry named name, or NULL. */
const struct part_cpc_entry *part_cpcs_find(const struct part_cpcs *cpcs, const char *name);

/* Reads e's token (its file's first line) into buf (len bytes, NUL
 * included). The file must be the user's (or root's), a regular file, and
 * neither readable nor writable by others nor writable by its group, as
 * OpenSSH checks a private key: else -EPERM with err naming the file and
 * the rule it breaks, or another negative errno (-ENOENT: no such file).
 * -EINVAL when e has no token file. */
int part_cpcs_read_token(const struct part_cpc_entry *e, char *buf, size_t len,
                         struct part_error *err);
