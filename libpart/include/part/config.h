/* partd.json: the daemon's configuration. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "part/caller.h"
#include "part/error.h"
#include "part/hostpath.h"
#include "part/peer.h"
#include "part/profile.h"

/* A capacity group: partitions naming it share one processor cap. */
struct part_group_config {
    char name[PART_NAME_MAX];
    double cap; /* processors for the whole group, PART_CAP_NONE when uncapped */
};

struct part_cpc_config {
    unsigned host_reserved_cpus;      /* the lowest-numbered host CPUs, kept for the host */
    uint64_t host_reserved_memory;    /* MiB kept for the host */
    double cpu_overcommit;            /* online shared logical processors per pool CPU, at most */
    double memory_overcommit;         /* memory targets of active partitions per available MiB */
    struct part_group_config *groups; /* owned */
    size_t n_groups;
};

/* The connections each listener takes at once ("limits"): a UNIX socket's
 * own limit, so that a client holding every TCP connection (all of
 * loopback is one address) does not lock local users out of the socket. */
struct part_limits {
    unsigned unix_connections; /* per UNIX socket */
    unsigned tcp_connections;  /* per TCP listener */
    unsigned tcp_per_ip;       /* per TCP listener and client address */
};

#define PART_LIMIT_CONNECTIONS_MAX 16384

struct part_config {
    char *path;    /* the partd.json read, as given */
    char *uri;     /* libvirt URI, with a relative test: path resolved */
    char **listen; /* "unix:/path" or "ADDRESS:PORT", NULL-terminated */
    /* Browsers: the Origin values allowed to call (none by default), and
     * the names besides its own address that a TCP listener answers to in
     * the Host header; NULL-terminated */
    char **allowed_origins;
    char **host_names;
    /* who may call: a token file per role (tokens[PART_ROLE_NONE] unused),
     * NULL for a role without one */
    char *tokens[PART_ROLE_N];
    char *socket_group; /* the UNIX sockets' group by name, NULL: partd's own */
    char *tls_cert;     /* PEM files, both or neither: TCP listeners serve HTTPS */
    char *tls_key;
    char *state_dir;
    char *partitions_dir;
    char *policies_dir; /* where policy NAME is NAME.json */
    char *policy;       /* policy name */
    /* the directories whose files profiles may give guests (absolute):
     * kernels, initrds and disk images; templates; serial logs */
    struct part_paths paths;
    /* the user QEMU runs as ("qemu_user"), NULL when not given: see
     * part_config_qemu_user() */
    char *qemu_user;
    double interval; /* monitor interval in seconds */
    struct part_limits limits;
    struct part_cpc_config cpc;
    struct part_peer_config *peers; /* owned: where partitions may move (peer.h) */
    size_t n_peers;
};

/* Reads and validates the daemon configuration at path. Relative paths in it
 * are resolved against its directory (those of "paths" made absolute and
 * normalised too); a URI "test:REL" (a test-driver node XML given by a
 * relative path) becomes "test:///ABS". On success *ret is a
 * new config the caller frees with part_config_free(). Returns 0 or a
 * negative errno with err naming file:line:column and field. */
int part_config_load(const char *path, struct part_config **ret, struct part_error *err);

#define PART_TOKEN_MAX    256         /* a bearer token's bytes, its NUL included */
#define PART_TLS_FILE_MAX (64 * 1024) /* a TLS key file's bytes */

/* Reads the token file of each role cfg names into tokens[role] (the file's
 * first line, visible ASCII); "" for a role without one. Each file must be
 * partd's user's, a regular file, closed to others (mode 0600 or 0640):
 * else refused with the reason; a token over 255 bytes is refused, not
 * cut. Two roles with the same token are refused (-EINVAL): a token must
 * say which role it carries. Returns 0, or a negative errno with err naming
 * the file and the field (tokens.ROLE). */
int part_config_tokens(const struct part_config *cfg, char tokens[PART_ROLE_N][PART_TOKEN_MAX],
                       struct part_error *err);

/* Whether cfg names a token file for any role. */
bool part_config_has_tokens(const struct part_config *cfg);

/* Reads cfg's TLS certificate (PEM, with its chain) and private key into
 * *ret_cert and *ret_key (NUL-terminated; the caller frees both and wipes
 * the key), or NULLs when cfg has none. The key file is checked as token
 * files are (owner, mode, no link) and limited to PART_TLS_FILE_MAX bytes.
 * Returns 0, or a negative errno with err naming the file and the field. */
int part_config_tls(const struct part_config *cfg, char **ret_cert, char **ret_key,
                    struct part_error *err);

/* Builds the default configuration (what an empty partd.json means) with
 * relative paths resolved against dir. Returns 0 or -ENOMEM. */
int part_config_default(const char *dir, struct part_config **ret);

/* Sorts cpc's groups by name, as part_config_group() needs (configurations
 * loaded by part_config_load() and copied by part_cpc_new() are sorted). */
void part_config_sort_groups(struct part_cpc_config *cpc);

/* Returns the group named name (binary search over the sorted groups), or
 * NULL. */
const struct part_group_config *part_config_group(const struct part_cpc_config *cpc,
                                                  const char *name);

/* The user whom partd checks that QEMU can reach guests' files as
 * (qemuaccess.h): "qemu_user" when partd.json gives it (whatever the URI,
 * so that a test: URI can be checked too), else "libvirt-qemu" for a qemu:
 * URI, else NULL (no check). */
const char *part_config_qemu_user(const struct part_config *cfg);

/* The peer named name in cfg, or NULL. */
const struct part_peer_config *part_config_peer(const struct part_config *cfg, const char *name);

/* Frees c (which may be NULL) and returns NULL. */
struct part_config *part_config_free(struct part_config *c);

/* Loads every DIR/ *.json profile, in file name order, into a new array *ret
 * of *ret_n profiles (free with part_profiles_free()). A profile whose name
 * differs from its file name is invalid; so is one whose host paths
 * part_hostpath_load(paths, flags) refuses, when paths is given (NULL: they
 * stay as written, unchecked, and no template is read). Invalid profiles
 * are left out and
 * each failure is appended to the new array *ret_errors of *ret_n_errors
 * (free() it): one bad file costs no other. Returns 0 when every profile
 * loaded, -EINVAL when some did not (the others are returned), or a negative
 * errno when the directory cannot be read (then nothing is returned and err
 * says why). */
int part_profiles_load_dir(const char *dir, const struct part_paths *paths, unsigned flags,
                           struct part_profile ***ret, size_t *ret_n,
                           struct part_error **ret_errors, size_t *ret_n_errors,
                           struct part_error *err);

void part_profiles_free(struct part_profile **profiles, size_t n);
