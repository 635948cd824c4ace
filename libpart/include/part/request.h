/* The bodies of API requests that are neither a profile (part_profile_parse)
 * nor a resize (part_resize_parse): read and validated here, in libpart, so
 * that the daemon only parses, authorises, calls and serialises. Errors
 * name the field and its line and column in the text. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "part/error.h"
#include "part/name.h"

/* The body of POST .../deactivate: {"force": BOOL, "timeout": SECONDS},
 * both optional; text may be NULL (no body). Defaults: no force,
 * PART_DEACTIVATE_TIMEOUT_DEFAULT; the timeout is at most
 * PART_DEACTIVATE_TIMEOUT_MAX (manager.h). Returns 0 or -EINVAL. */
int part_request_deactivate(const char *text, size_t len, bool *ret_force, unsigned *ret_timeout_ms,
                            struct part_error *err);

/* The body of PUT /v1/policy: {"name": POLICY}, a valid policy name.
 * Returns 0 or -EINVAL. */
int part_request_policy(const char *text, size_t len, char ret_name[PART_NAME_MAX],
                        struct part_error *err);

/* The body of POST /v1/partitions/{name}/move: {"to": PEER, "validate_only":
 * BOOL}, to required. Returns 0 or -EINVAL. */
int part_request_move(const char *text, size_t len, char ret_to[PART_NAME_MAX],
                      bool *ret_validate_only, struct part_error *err);
