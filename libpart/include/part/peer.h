/* Peers: the other CPCs' partds that partitions may move to ("peers" in
 * partd.json). An API caller names a peer, never an address: where each
 * host is, how it is trusted and how its libvirtd is reached is the
 * administrator's choice. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "part/error.h"
#include "part/name.h"

#define PART_PEERS_MAX                64
#define PART_PEER_DOWNTIME_MS_DEFAULT 300
#define PART_PEER_TIMEOUT_S_DEFAULT   120

struct part_peer_config {
    char name[PART_NAME_MAX];
    char *url;         /* its API: https://HOST[:PORT], or http:// to loopback only */
    char *token;       /* the file of the token it gave this partd (its tokens.peer) */
    char *cacert;      /* PEM its certificate is verified with; NULL: the system's CAs */
    char *libvirt_uri; /* its libvirtd as this host's libvirtd reaches it (peer to peer) */
    char *data_uri;    /* where the guest's memory goes ("migration.uri", tcp://ADDRESS), NULL:
                          libvirt's choice (the target's host name) */
    unsigned max_downtime_ms; /* the longest pause of the guest migration may take */
    unsigned timeout_s;       /* a migration still running then is aborted */
};

/* Whether url is one partd may call a peer at: https://, or http:// to a
 * loopback address (127.0.0.0/8, [::1], localhost). Returns 0, or -EINVAL
 * with err naming field and saying why. */
int part_peer_url_check(const char *url, const char *field, struct part_error *err);

/* Reads "peers" (an object of NAME: {url, token, cacert, libvirt_uri,
 * migration: {uri, max_downtime_ms, timeout_s}}) into a new array *ret of *ret_n
 * peers, relative file names resolved against dir. Returns 0, or a
 * negative errno with err naming the field (peers.NAME.url). */
int part_peers_read(json_t *v, const char *dir, struct part_peer_config **ret, size_t *ret_n,
                    struct part_error *err);

/* Reads peer's token file into buf (PART_TOKEN_MAX bytes), checked as
 * partd's own token files are. Returns 0 or a negative errno with err
 * naming the file and the field (peers.NAME.token). */
int part_peer_token(const struct part_peer_config *peer, char *buf, size_t len,
                    struct part_error *err);

/* Frees n peers and the array; returns NULL. */
struct part_peer_config *part_peers_free(struct part_peer_config *peers, size_t n);
