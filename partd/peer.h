/* partd as a client of a peer partd (partd.json "peers"): the target side
 * of a move, over libcurl, with the peer's token, TLS verified against the
 * peer's cacert. */
#pragma once

#include <jansson.h>

#include <part/part.h>

/* Calls method path on peer with body (may be NULL; not taken). *ret_status
 * gets the HTTP status and *ret_body (may be NULL) the reply's JSON (NULL
 * when it has none). Returns 0 when a reply came, whatever its status, or
 * a negative errno with err saying why none came (connection, TLS,
 * token). */
int peer_call(const struct part_peer_config *peer, const char *method, const char *path,
              json_t *body, long *ret_status, json_t **ret_body, struct part_error *err);

/* The problem a reply carries as a message ("STATUS TITLE: DETAIL") into
 * err, with errno e. */
int peer_problem(const struct part_peer_config *peer, long status, json_t *body, int e,
                 struct part_error *err);
