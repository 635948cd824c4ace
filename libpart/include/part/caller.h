/* Who may call partd, and who did: the roles a bearer token carries (as
 * the IBM HMC has them: a viewer reads, an operator runs and resizes within
 * the profile's bounds, an admin defines and changes profiles), and the
 * caller of a change as events and the log record it. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Ordered up to admin: each of those may do what the ones below it may.
 * peer stands apart: another CPC's partd, moving a partition here, may
 * call the target side of a move (/v1/moves) and nothing else, and no
 * other role may call that (part_role_covers()). */
enum part_role {
    PART_ROLE_NONE,     /* no token: only what needs no role (health) */
    PART_ROLE_VIEWER,   /* every GET, events, metrics */
    PART_ROLE_OPERATOR, /* activate, deactivate, running resizes, rebalance, policy */
    PART_ROLE_ADMIN,    /* define, undefine, adopt, profile changes, moves out */
    PART_ROLE_PEER,     /* a partd moving a partition here: /v1/moves only */
    PART_ROLE_N,
};

/* Whether a caller of role may do what need allows: need none always; a
 * peer's routes only peers; any other need, the roles from need up to
 * admin. */
bool part_role_covers(enum part_role role, enum part_role need);

/* "none", "viewer", "operator", "admin", "peer"; "?" for anything else. */
const char *part_role_name(enum part_role role);

/* The role named name (not "none"), or PART_ROLE_NONE. */
enum part_role part_role_by_name(const char *name);

/* The caller of a change made through the API. */
struct part_caller {
    enum part_role role; /* its token's */
    int64_t uid;         /* the UNIX socket peer's uid (SO_PEERCRED); -1 when unknown (TCP) */
};

/* "operator, uid 1000" or "operator" (no uid known) into buf; returns buf. */
const char *part_caller_text(const struct part_caller *c, char *buf, size_t len);

/* {"role": "operator", "uid": 1000} ("uid" only when known); NULL on
 * ENOMEM. */
json_t *part_caller_json(const struct part_caller *c);
