/* Who is calling: the role of a request's bearer token, and on a UNIX
 * socket the uid of its peer; and the role each request needs. */
#pragma once

#include <microhttpd.h>
#include <stdbool.h>

#include <part/part.h>

/* The tokens partd accepts, one per role at most. */
struct auth {
    char tokens[PART_ROLE_N][PART_TOKEN_MAX]; /* "" for a role without one */
    /* whether any role has a token: without one, partd listens on an
     * owner-only UNIX socket, and whoever reaches it is admin */
    bool any;
};

/* Reads the token files of cfg into a (part_config_tokens()). Returns 0 or
 * a negative errno with err naming the file. */
int auth_load(struct auth *a, const struct part_config *cfg, struct part_error *err);

/* Forgets the tokens (wiped from memory). */
void auth_clear(struct auth *a);

/* The caller of c: the role its Authorization header's bearer token
 * carries (PART_ROLE_NONE for no token, a wrong one or another scheme;
 * admin when a has no tokens), and the uid of a UNIX socket's peer. */
struct part_caller auth_caller(const struct auth *a, struct MHD_Connection *c);

/* Whether caller's role covers need (part_role_covers()). */
bool auth_allows(const struct part_caller *caller, enum part_role need);
